"""Helpers for tests/test_firmware_*.py: run a packaged (cross-built) binary
under qemu-user and talk to it with Python's poplib and imaplib.

`make check BOARD=...` sets:
  POSTNOOK_QEMU      how to run the board's binaries here (e.g. qemu-mipsel-static)
  POSTNOOK_IPK       the .ipk from `make firmware` (OpenWrt boards)
  POSTNOOK_NAS_TAR   the overlay tarball from `make firmware` (NAS boards)
The tests skip when their variable is unset: nothing to test on that board.
"""
import imaplib
import os
import poplib
import shlex
import socket
import ssl
import subprocess
import time

from postnook_fixture import free_port  # noqa: F401  (one pool of handed-out ports)

QEMU = shlex.split(os.environ.get("POSTNOOK_QEMU", ""))
SLOW = int(os.environ.get("POSTNOOK_SLOW") or 1)


def run_packaged(binary, *args, argv0=None, input=None, env=None, timeout=60 * SLOW):
    """Run a packaged binary (under qemu-user when POSTNOOK_QEMU is set)."""
    cmd = list(QEMU)
    if argv0 and QEMU:
        cmd += ["-0", argv0]
    cmd += [str(binary)] + [str(a) for a in args]
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run(cmd, input=input or b"", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, timeout=timeout)




def wait_port(port, proc, log, timeout=20 * SLOW):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError("daemon exited %s:\n%s" % (proc.returncode, log.read_text()[-3000:]))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("port %d not open; log:\n%s" % (port, log.read_text()[-3000:]))


def tls_ctx(datadir):
    """Trust the daemon's self-made certificate (its name is the host's name)."""
    ctx = ssl.create_default_context(cafile=str(datadir / "cert.pem"))
    ctx.check_hostname = False
    return ctx


class Daemon:
    """`postnook serve -f -c CONF` from a staging root, stopped with SIGTERM."""

    def __init__(self, binary, conf, log):
        self.log = log
        with open(log, "ab") as f:
            cmd = list(QEMU) + [str(binary), "serve", "-f", "-c", str(conf)]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=f, stderr=f)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                return self.proc.wait(15 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("daemon ignored SIGTERM")
        return self.proc.returncode


def pop3_fetch(port, ctx, user, password, implicit_tls):
    """Log in over TLS (implicit or STLS) and return (count, last message lines)."""
    if implicit_tls:
        p = poplib.POP3_SSL("127.0.0.1", port, context=ctx, timeout=15 * SLOW)
    else:
        p = poplib.POP3("127.0.0.1", port, timeout=15 * SLOW)
        p.stls(ctx)
    p.user(user)
    p.pass_(password)
    count, _ = p.stat()
    lines = p.retr(count)[1] if count else []
    p.quit()
    return count, lines


def imap_fetch(port, ctx, user, password, implicit_tls):
    """Log in over TLS (implicit or STARTTLS); (EXISTS count, last message bytes)."""
    if implicit_tls:
        m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=15 * SLOW)
    else:
        m = imaplib.IMAP4("127.0.0.1", port, timeout=15 * SLOW)
        m.starttls(ctx)
    m.login(user, password)
    typ, data = m.select("INBOX")
    assert typ == "OK", data
    count = int(data[0])
    body = b""
    if count:
        typ, data = m.fetch(str(count), "(BODY.PEEK[])")
        assert typ == "OK", data
        body = data[0][1]
    m.logout()
    return count, body
