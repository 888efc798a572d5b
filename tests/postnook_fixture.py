"""Shared helpers for the postnook end-to-end tests.

A Server owns one temporary data directory, one config file and (when
started) one `postnook serve -f` process whose stderr is captured to
DIR/postnook.log.  Raw is a line-oriented POP3 client on a plain socket
(optionally upgraded to TLS) for the things poplib hides: exact reply
lines, pipelining, timing, malformed input.
"""
import imaplib
import os
import pathlib
import poplib
import re
import select
import signal
import socket
import tempfile
import ssl
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = os.environ.get("POSTNOOK_BIN") or str(ROOT / "build" / "postnook")
SAN = bool(os.environ.get("POSTNOOK_SAN"))
# Timeout multiplier: the sanitizer build is several times slower, and so is
# a cross-built binary under qemu-user (make check BOARD=..., POSTNOOK_SLOW=4).
SLOW = int(os.environ.get("POSTNOOK_SLOW") or (4 if SAN else 1))
SAN_PATTERNS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

PASSWORDS = {
    "alice": "Sesame!Alice-4711",
    "bob": "Bob-Walrus-9213x",
    "carol": "Carol+Marmot_3388",
}

KIND_WORD = {"plain": "none", "tls": "tls", "starttls": "starttls"}

# sysexits
EX_OK, EX_USAGE, EX_NOUSER, EX_CANTCREAT, EX_TEMPFAIL, EX_CONFIG = 0, 64, 67, 73, 75, 78


_GIVEN_PORTS = set()


# Under pytest-xdist (make check runs two workers) the workers share one
# registry of handed-out ports: a file per port in a directory of this run.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID")
_PORT_DIR = os.path.join(tempfile.gettempdir(), "postnook-ports-" + _RUN) if _RUN else None


def _claim_port(port):
    """True when no worker of this run has handed out port before."""
    if port in _GIVEN_PORTS:
        return False
    _GIVEN_PORTS.add(port)
    if _PORT_DIR is None:
        return True
    os.makedirs(_PORT_DIR, exist_ok=True)
    try:
        os.close(os.open(os.path.join(_PORT_DIR, str(port)), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def free_port():
    """A port free now and not handed out before in this test run (the kernel
    may offer a just-closed port again, and one server config then listed the
    same port twice: "listen ... is already used")."""
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if _claim_port(port):
            return port


def crlf(data):
    """The message as the store keeps it: every line ending CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def make_msg(tag, body=None, subject=None, extra_headers=b""):
    """A small RFC 5322 message with LF line ends and a unique Message-ID."""
    if isinstance(tag, int):
        tag = str(tag)
    subject = subject or ("Test message %s" % tag)
    if body is None:
        body = "Hello, this is message %s.\nSecond line.\n" % tag
    if isinstance(body, str):
        body = body.encode()
    head = (
        "From: Sender <sender@example.org>\n"
        "To: Alice <alice@example.org>\n"
        "Subject: %s\n"
        "Message-ID: <%s@postnook.test>\n"
        "Date: Mon, 01 Jan 2024 12:00:00 +0000\n" % (subject, tag)
    ).encode()
    return head + extra_headers + b"\n" + body


def proc_status(pid, field):
    """A field of /proc/PID/status as a string ('' when the process is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def rss_kb(pid):
    v = proc_status(pid, "VmRSS")
    return int(v.split()[0]) if v else 0


def parse_size(text):
    """'12.3K', '4096', '1.2 MiB', '0B' -> bytes (float). None if unparsable."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(?:i?B)?\s*", text, re.I)
    if not m:
        return None
    mult = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}[m.group(2).upper()]
    return float(m.group(1)) * mult


class Server:
    """One postnook configuration, data directory and daemon process."""

    def __init__(self, base, listeners=("plain", "tls", "starttls"), imap=(), **opts):
        self.dir = pathlib.Path(base)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.datadir = self.dir / "data"
        self.datadir.mkdir(mode=0o700, exist_ok=True)
        self.conf = self.dir / "postnook.conf"
        self.logpath = self.dir / "postnook.log"
        self.listeners = list(listeners)
        self.ports = {}
        for k in self.listeners:
            self.ports[k] = free_port()
        # IMAP listeners (kinds as for POP3), ports in self.iports.
        self.imap_listeners = list(imap)
        self.iports = {k: free_port() for k in self.imap_listeners}
        self.opts = {
            "datadir": str(self.datadir),
            "hostname": "localhost",
            "log": "stderr",
            "sync": "off",
            "max_connections": "64",
            "max_per_ip": "32",
            "login_timeout": "60",
            "plaintext_auth": "loopback",
            "map_size": "1M",
            "map_max": "1G",
            "pidfile": str(self.dir / "postnook.pid"),
        }
        self.opts.update({k: (None if v is None else str(v)) for k, v in opts.items()})
        self.proc = None
        self.users = {}
        self.cli_stderr = []       # stderr of every CLI run, for the sanitizer check
        self.write_config()

    # --- configuration -------------------------------------------------

    def config_text(self):
        lines = ["# postnook test configuration"]
        for k, v in self.opts.items():
            if v is not None:
                lines.append("%s = %s" % (k, v))
        for kind in self.listeners:
            lines.append("listen = pop3 %s 127.0.0.1:%d" % (KIND_WORD[kind], self.ports[kind]))
        for kind in self.imap_listeners:
            lines.append("listen = imap %s 127.0.0.1:%d" % (KIND_WORD[kind], self.iports[kind]))
        return "\n".join(lines) + "\n"

    def write_config(self, text=None):
        tmp = self.conf.with_suffix(".tmp")
        tmp.write_text(self.config_text() if text is None else text)
        os.replace(tmp, self.conf)

    @property
    def cert_path(self):
        return self.opts.get("cert") or str(self.datadir / "cert.pem")

    def client_ctx(self):
        """A verifying TLS client context trusting the server's certificate."""
        ctx = ssl.create_default_context(cafile=self.cert_path)
        return ctx

    # --- CLI -----------------------------------------------------------

    def run(self, face, *args, input=None, timeout=60 * SLOW, conf=None):
        """Run `postnook FACE -c CONF ARGS...`; returns CompletedProcess (bytes)."""
        cmd = [BIN, face, "-c", str(conf or self.conf)] + [str(a) for a in args]
        if isinstance(input, str):
            input = input.encode()
        r = subprocess.run(cmd, input=input if input is not None else b"",
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        self.cli_stderr.append((cmd, r.stderr.decode(errors="replace")))
        return r

    def user(self, *args, input=None):
        return self.run("user", *args, input=input)

    def add_user(self, name, password=None, *opts):
        password = password or PASSWORDS.get(name) or (name + "-pw-Zz81")
        r = self.user("add", name, *opts, input=password + "\n")
        assert r.returncode == 0, "user add %s failed: %r" % (name, r.stderr)
        self.users[name] = password
        return password

    def deliver(self, user, data, *args):
        if user is None:
            return self.run("deliver", *args, input=data)
        return self.run("deliver", *(list(args) + [user]), input=data)

    def deliver_ok(self, user, data, *args):
        r = self.deliver(user, data, *args)
        assert r.returncode == 0, "deliver to %s: exit %d, stderr %r" % (user, r.returncode, r.stderr)
        return r

    def user_list(self):
        """Parse `user list` into {name: {messages, used, quota, use}} (strings)."""
        r = self.user("list")
        assert r.returncode == 0, r.stderr
        rows = {}
        for line in r.stdout.decode().splitlines():
            f = line.split()
            if not f or f[0].upper() == "NAME" or set(line.strip()) <= set("-= "):
                continue
            rows[f[0]] = {"messages": f[1] if len(f) > 1 else "",
                          "used": f[2] if len(f) > 2 else "",
                          "quota": f[3] if len(f) > 3 else "",
                          "use": f[4] if len(f) > 4 else "",
                          "line": line}
        return rows

    # --- daemon ----------------------------------------------------------

    def start(self, wait=True, expect_fail=False):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        logf = open(self.logpath, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "-c", str(self.conf), "-f"],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        logf.close()
        if wait and not expect_fail:
            self.wait_ready()
        return self.proc

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            return self.logpath.read_bytes().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, kinds=None, timeout=15 * SLOW):
        for kind in kinds or self.listeners:
            self.wait_port(self.ports[kind], kind, timeout)
        if kinds is None:
            for kind in self.imap_listeners:
                self.wait_port(self.iports[kind], kind, timeout, imap=True)

    def wait_port(self, port, kind="plain", timeout=15 * SLOW, imap=False):
        """Wait until the port serves a greeting (a full TLS handshake for tls)."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("postnook exited with %s while starting; log:\n%s"
                                     % (self.proc.returncode, self.log()[-4000:]))
            try:
                r = Raw(port, timeout=5 * SLOW,
                        tls=unverified_ctx() if kind == "tls" else None)
                g = r.readline()
                r.send(b"a LOGOUT\r\n" if imap else b"QUIT\r\n")
                r.read_until_eof(3 * SLOW)
                r.close()
                if g and g.startswith(b"* OK" if imap else b"+OK"):
                    return
                last = g
            except (OSError, ssl.SSLError) as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("port %d (%s) not serving after %ss: %r; log:\n%s"
                             % (port, kind, timeout, last, self.log()[-4000:]))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10 * SLOW):
        """SIGTERM; the daemon must exit 0 within the timeout."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("postnook did not exit within %ss of SIGTERM" % timeout)
        assert rc == 0, "postnook exited %d after SIGTERM; log tail:\n%s" % (rc, self.log()[-3000:])
        return rc

    def kill(self):
        if self.alive():
            self.proc.kill()
        if self.proc:
            self.proc.wait()

    def restart(self):
        self.stop()
        self.start()

    def sanitizer_reports(self):
        """Sanitizer error text from the daemon log and every CLI run."""
        found = []
        texts = [("daemon", self.log())] + [(" ".join(c[:2] + c[3:4]), e) for c, e in self.cli_stderr]
        for who, text in texts:
            for p in SAN_PATTERNS:
                if p in text:
                    i = text.index(p)
                    found.append("%s: %s" % (who, text[max(0, i - 200):i + 2000]))
                    break
        return found

    # --- clients -------------------------------------------------------

    def pop(self, user="alice", password=None, kind="plain", timeout=15 * SLOW):
        """A logged-in poplib client (USER/PASS; STLS first on a starttls port)."""
        password = password if password is not None else self.users.get(user, PASSWORDS.get(user))
        port = self.ports[kind]
        if kind == "tls":
            p = POP3_SSL("127.0.0.1", port, context=self.client_ctx(), timeout=timeout)
        else:
            p = POP3("127.0.0.1", port, timeout=timeout)
            if kind == "starttls":
                p.stls(self.client_ctx())
        p.user(user)
        p.pass_(password)
        return p

    def pop_retry(self, user="alice", password=None, kind="plain", wait=5 * SLOW):
        """Log in, retrying while the maildrop is still locked ([IN-USE]) by a
        session the daemon has not yet seen close."""
        deadline = time.time() + wait
        while True:
            try:
                return self.pop(user, password, kind)
            except poplib.error_proto as e:
                if b"IN-USE" not in e.args[0] or time.time() > deadline:
                    raise
                time.sleep(0.1)

    def raw(self, kind="plain", timeout=15 * SLOW, greet=True):
        tls = self.client_ctx() if kind == "tls" else None
        r = Raw(self.ports[kind], timeout=timeout, tls=tls)
        if greet:
            g = r.readline()
            assert g is not None and g.startswith(b"+OK"), "greeting: %r" % g
            r.greeting = g
        return r

    def raw_login(self, user="alice", kind="plain", password=None):
        r = self.raw(kind)
        if kind == "starttls":
            r.expect_ok(b"STLS")
            r.starttls(self.client_ctx())
        password = password if password is not None else self.users.get(user, PASSWORDS.get(user))
        r.expect_ok(b"USER " + user.encode())
        r.expect_ok(b"PASS " + password.encode())
        return r

    def imap(self, user="alice", password=None, kind="plain", timeout=15 * SLOW, login=True):
        """An imaplib client (STARTTLS first on a starttls port), logged in unless login=False."""
        password = password if password is not None else self.users.get(user, PASSWORDS.get(user))
        port = self.iports[kind]
        if kind == "tls":
            m = IMAP4_SSL("127.0.0.1", port, ssl_context=self.client_ctx(), timeout=timeout)
        else:
            m = IMAP4("127.0.0.1", port, timeout=timeout)
            if kind == "starttls":
                m.starttls(self.client_ctx())
        if login:
            m.login(user, password)
        return m

    def iraw(self, kind="plain", timeout=15 * SLOW, greet=True):
        """A raw IMAP connection (Raw) after the greeting."""
        tls = self.client_ctx() if kind == "tls" else None
        r = Raw(self.iports[kind], timeout=timeout, tls=tls)
        if greet:
            g = r.readline()
            assert g is not None and g.startswith(b"* OK"), "greeting: %r" % g
            r.greeting = g
        return r

    def assert_serving(self, user="alice"):
        """The daemon is alive and a fresh session logs in and answers STAT."""
        assert self.alive(), "postnook died (exit %s); log tail:\n%s" % (self.proc.returncode, self.log()[-3000:])
        p = self.pop_retry(user)
        p.stat()
        p.quit()


class IMAP4(imaplib.IMAP4):
    """imaplib.IMAP4 whose starttls() checks the certificate for 'localhost'."""

    def starttls(self, ssl_context=None):
        host, self.host = self.host, "localhost"
        try:
            return super().starttls(ssl_context)
        finally:
            self.host = host


class IMAP4_SSL(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        sock = imaplib.IMAP4._create_socket(self, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname="localhost")


class POP3(poplib.POP3):
    """poplib.POP3 whose stls() checks the certificate for 'localhost' (the
    configured hostname) while connecting to 127.0.0.1."""

    def stls(self, context=None):
        host, self.host = self.host, "localhost"
        try:
            return super().stls(context)
        finally:
            self.host = host


class POP3_SSL(poplib.POP3_SSL):
    def _create_socket(self, timeout):
        sock = poplib.POP3._create_socket(self, timeout)
        return self.context.wrap_socket(sock, server_hostname="localhost")


def unverified_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Raw:
    """A raw POP3 connection: exact bytes in, exact lines out."""

    def __init__(self, port, host="127.0.0.1", timeout=15 * SLOW, tls=None):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname="localhost")
        self.buf = b""
        self.eof = False
        self.greeting = None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        finally:
            self.sock.settimeout(self.timeout)
        if not d:
            self.eof = True
        self.buf += d
        return d

    def readline(self, timeout=None):
        """One line without its CRLF; None at EOF. Raises TimeoutError."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.time() + timeout
        while b"\r\n" not in self.buf:
            if self.eof:
                return None
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no line within %ss (have %r)" % (timeout, self.buf[:200]))
            try:
                self._fill(left)
            except (ConnectionResetError, BrokenPipeError):
                self.eof = True
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def cmd(self, line, timeout=None):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.readline(timeout)

    def expect_ok(self, line):
        r = self.cmd(line)
        assert r is not None and r.startswith(b"+OK"), "%r -> %r" % (line, r)
        return r

    def expect_err(self, line):
        r = self.cmd(line)
        assert r is not None and r.startswith(b"-ERR"), "%r -> %r (expected -ERR)" % (line, r)
        return r

    def multiline(self, raw=False):
        """The lines of a multi-line body up to the '.' terminator, un-stuffed
        (raw=True: as sent)."""
        out = []
        while True:
            line = self.readline()
            assert line is not None, "EOF inside a multi-line response after %r" % out[-3:]
            if line == b".":
                return out
            if not raw and line.startswith(b"."):
                line = line[1:]
            out.append(line)

    def pending(self, wait=0.0):
        """Is any reply byte available within wait seconds?"""
        if self.buf or self.eof:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return False
        if isinstance(self.sock, ssl.SSLSocket):
            try:
                self.sock.setblocking(False)
                try:
                    d = self.sock.recv(65536)
                finally:
                    self.sock.setblocking(True)
                    self.sock.settimeout(self.timeout)
            except (ssl.SSLWantReadError, BlockingIOError):
                return False
            except (ConnectionResetError, ssl.SSLError):
                self.eof = True
                return True
            if not d:
                self.eof = True
            self.buf += d
            return bool(d) or self.eof
        return True

    def read_until_eof(self, timeout):
        """Read until the peer closes; returns (bytes, closed)."""
        deadline = time.time() + timeout
        while not self.eof:
            left = deadline - time.time()
            if left <= 0:
                return self.buf, False
            try:
                self._fill(left)
            except (TimeoutError, socket.timeout):
                return self.buf, False
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                self.eof = True
        return self.buf, True

    def drain(self, quiet=1.0, limit=10.0):
        """Read until no byte arrives for `quiet` s (or EOF); returns (bytes, closed)."""
        deadline = time.time() + limit
        while not self.eof and time.time() < deadline:
            try:
                if not self._fill(quiet):
                    break
            except (TimeoutError, socket.timeout):
                break
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                self.eof = True
        return self.buf, self.eof

    def starttls(self, ctx, hostname="localhost"):
        assert not self.buf, "plaintext bytes after the STLS reply: %r" % self.buf
        self.sock = ctx.wrap_socket(self.sock, server_hostname=hostname)

    def login(self, user, password):
        self.expect_ok("USER " + user)
        return self.expect_ok("PASS " + password)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
