"""Nobody holds the server (issue 10, items 3-6): TLS renegotiation refused,
absolute pre-login deadlines whatever the output state, eviction of
not-yet-logged-in connections when the slots are full, failed-login budgets."""
import socket
import subprocess
import time

import pytest

from postnook_fixture import SLOW


def s_client_renegotiate(port, first):
    """Connect with openssl s_client, read the greeting, ask for a client-initiated
    renegotiation ('R'), then send a command. Returns s_client's output."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2",
                          "-quiet", "-no_ign_eof"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(1.5)                       # greeting in (not a speed measure)
    p.stdin.write(b"R\n")
    p.stdin.flush()
    time.sleep(1.5)
    try:
        p.stdin.write(first + b"\n")
        p.stdin.flush()
        time.sleep(1.0)
        p.stdin.close()
    except (BrokenPipeError, ValueError):
        pass
    p.stdin = None
    try:
        out, _ = p.communicate(timeout=20 * SLOW)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out.decode("latin-1")


@pytest.mark.parametrize("proto", ["pop3s", "imaps"])
def test_client_renegotiation_refused(make_server, proto):
    if proto == "pop3s":
        srv = make_server(start=True, listeners=("tls",))
        port, cmd, answer = srv.ports["tls"], b"CAPA", "+OK"
    else:
        srv = make_server(start=True, listeners=(), imap=("tls",))
        port, cmd, answer = srv.iports["tls"], b"a1 CAPABILITY", "a1 OK"
    out = s_client_renegotiate(port, cmd)
    assert "ready" in out, "no greeting over TLS:\n%s" % out
    assert "RENEGOTIATING" in out, "s_client did not try to renegotiate:\n%s" % out
    assert answer not in out.split("RENEGOTIATING", 1)[1], \
        "the server accepted a client-initiated renegotiation and went on serving:\n%s" % out
    assert "renegotiation" in out.lower() or "alert" in out.lower(), \
        "no refusal (no_renegotiation alert) seen by the client:\n%s" % out


# --- item 3: deadlines hold whatever the output state -----------------------

def tcp_state(sock):
    """The kernel's TCP state of our end: 1 ESTABLISHED, 7 CLOSE (reset), 8 CLOSE_WAIT (FIN in)."""
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]


def wait_closed_unread(sock, bound):
    """Wait (reading nothing) until the server has closed its side; seconds waited, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < bound:
        if tcp_state(sock) in (7, 8):
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def flood_unread(port, line, greet=True):
    """Connect and pipeline `line` until the server's output backs up (we never read)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    stalled = None
    chunk = line * 256
    while True:
        try:
            s.send(chunk)
            stalled = None
        except BlockingIOError:
            if stalled is None:
                stalled = time.monotonic()
            elif time.monotonic() - stalled > 1.0:
                break
            time.sleep(0.05)
    return s


@pytest.mark.parametrize("proto,kind,line", [
    ("pop3", "plain", b"CAPA\r\n"),
    ("pop3", "starttls", b"CAPA\r\n"),
    ("imap", "plain", b"a NOOP\r\n"),
    ("imap", "starttls", b"a CAPABILITY\r\n"),
])
def test_login_timeout_with_output_blocked(make_server, proto, kind, line):
    """A client that pipelines until the server's output backs up and never reads is
    still closed at login_timeout (here 10 s), plus the short linger for its last line."""
    if proto == "pop3":
        srv = make_server(start=True, login_timeout=10, listeners=(kind,))
        port = srv.ports[kind]
    else:
        srv = make_server(start=True, login_timeout=10, listeners=(), imap=(kind,))
        port = srv.iports[kind]
    t0 = time.monotonic()
    s = flood_unread(port, line)
    dt = wait_closed_unread(s, 40 * SLOW)
    assert dt is not None, "a client that never reads is still connected %.0f s after connect " \
        "(login_timeout = 10)" % (time.monotonic() - t0)
    assert "last output not taken in time" in srv.log() or "closed" in srv.log()
    s.close()


def test_imap_noop_does_not_extend_login_timeout(make_server):
    """Before login the deadline is absolute from connect: NOOPs every 2 s do not extend it."""
    srv = make_server(start=True, login_timeout=10, listeners=(), imap=("plain",))
    r = srv.iraw()
    t0 = time.monotonic()
    lines = []
    n = 0
    while time.monotonic() - t0 < 30 * SLOW:
        n += 1
        try:
            r.send(b"n%d NOOP\r\n" % n)
            for _ in range(3):
                got = r.readline(timeout=5)
                if got is None:
                    break
                lines.append(got)
                if got.startswith(b"* BYE") or got.startswith(b"n%d " % n):
                    break
        except (OSError, EOFError, TimeoutError):
            break
        if any(x.startswith(b"* BYE") for x in lines):
            break
        time.sleep(1.5)
    assert any(x.startswith(b"* BYE") for x in lines), \
        "NOOPs kept an unauthenticated IMAP session open past login_timeout = 10 (%.0f s):\n%s" % (
            time.monotonic() - t0, lines[-5:])
    assert time.monotonic() - t0 < 25 * SLOW


@pytest.mark.parametrize("how", ["silent", "half-hello"])
def test_tls_handshake_bounded(make_server, how):
    """A TLS scanner that opens POP3S and never finishes the handshake is closed
    at login_timeout (plus the linger), not when the scanner gives up."""
    srv = make_server(start=True, login_timeout=10, listeners=("tls",))
    s = socket.create_connection(("127.0.0.1", srv.ports["tls"]))
    if how == "half-hello":
        s.sendall(bytes.fromhex("16030100c8010000c40303") + b"\0" * 20)   # a ClientHello cut short
    dt = wait_closed_unread(s, 40 * SLOW)
    assert dt is not None, "an unfinished TLS handshake is still connected after %d s" % (40 * SLOW)
    s.close()


def test_starttls_handshake_bounded(make_server):
    """STLS answered, then no handshake: closed at login_timeout plus the linger."""
    srv = make_server(start=True, login_timeout=10, listeners=("starttls",))
    r = srv.raw(kind="starttls")
    assert r.cmd("STLS").startswith(b"+OK")
    dt = wait_closed_unread(r.sock, 40 * SLOW)
    assert dt is not None, "a connection that never starts TLS after STLS is still open"


# --- item 4: slow clients cannot hold every slot ----------------------------

from postnook_fixture import Raw  # noqa: E402


class RawFrom(Raw):
    """A raw connection from a chosen loopback source address (127.0.0.N)."""

    def __init__(self, port, src, timeout=15 * SLOW):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(src, 0))
        self.buf = b""
        self.eof = False
        self.greeting = None


def greeted(r, wait):
    try:
        line = r.readline(wait)
    except (TimeoutError, socket.timeout):
        return "silent"
    if line is None:
        return "closed"
    return "ok" if line.startswith(b"+OK") else repr(line)


def test_full_slots_evict_oldest_not_logged_in(make_server):
    """Slow clients from several addresses fill every slot before login: a real client still
    gets its greeting and signs in; the oldest slow one is the one closed."""
    srv = make_server(start=True, max_connections=4, max_per_ip=4, listeners=("plain",))
    time.sleep(0.3 * SLOW)     # the readiness probe's slot is released
    slow = []
    for i in range(4):
        r = RawFrom(srv.ports["plain"], "127.0.0.%d" % (2 + i))
        assert greeted(r, 5 * SLOW) == "ok", "slow client %d not greeted" % i
        r.send(b"U")           # a command trickling in, one byte at a time
        slow.append(r)
        time.sleep(0.05)
    real = RawFrom(srv.ports["plain"], "127.0.0.20")
    st = greeted(real, 10 * SLOW)
    assert st == "ok", "a real client got no greeting while slow clients held all 4 slots: %s" % st
    real.expect_ok("USER alice")
    real.expect_ok("PASS %s" % srv.users["alice"])
    real.expect_ok("STAT")
    # the oldest slow one was closed, the others are still there
    assert slow[0].readline(10 * SLOW) is None, "the oldest not-logged-in connection was not evicted"
    for r in slow[1:]:
        with pytest.raises((TimeoutError, socket.timeout)):
            r.readline(0.5)
    assert "evicted" in srv.log()
    real.expect_ok("QUIT")


def test_full_slots_never_evict_logged_in(make_server):
    """Signed-in sessions are never evicted: with every slot signed in, a new connection
    waits (no greeting) and each session goes on; it gets a slot when one signs out."""
    names = ("alice", "bob", "carol", "dave")
    srv = make_server(users=names, start=True, max_connections=4, max_per_ip=4, listeners=("plain",))
    time.sleep(0.3 * SLOW)
    users = []
    for i, name in enumerate(names):
        r = RawFrom(srv.ports["plain"], "127.0.0.%d" % (2 + i))
        assert greeted(r, 5 * SLOW) == "ok"
        r.expect_ok("USER " + name)
        r.expect_ok("PASS " + srv.users[name])
        users.append(r)
    late = RawFrom(srv.ports["plain"], "127.0.0.30")
    assert greeted(late, 2 * SLOW) == "silent", "a 5th connection was greeted with 4 signed-in sessions"
    for r in users:
        r.expect_ok("STAT")
    users[0].expect_ok("QUIT")
    assert greeted(late, 10 * SLOW) == "ok", "the waiting connection got no slot after a QUIT"
    for r in users[1:]:
        r.expect_ok("NOOP")
    assert "evicted" not in srv.log()


# --- item 5: failed logins: one log line, over-long names counted ------------

import re  # noqa: E402

from imap_util import IRaw, start_imap  # noqa: E402


def test_failed_login_log_line(make_server):
    """Every failed login is one grep-able line with protocol, address and user name
    (fail2ban: 'auth failed: proto=\\S+ rhost=<HOST> user=')."""
    srv = make_server(start=True, listeners=("plain",), imap=("plain",))
    p = srv.raw()
    p.expect_ok("USER mallory")
    assert p.cmd("PASS guess", timeout=30 * SLOW).startswith(b"-ERR [AUTH]")
    p.expect_ok("QUIT")
    r = IRaw(srv.iraw("plain"))
    u, t = r.cmd('LOGIN "ev il\\"name" guess', tag="f", timeout=30 * SLOW)
    assert t.startswith(b"f NO [AUTHENTICATIONFAILED]")
    r.close()
    time.sleep(0.3)
    log = srv.log()
    assert re.search(r"auth failed: proto=pop3 rhost=127\.0\.0\.1 user=mallory$", log, re.M), log[-2000:]
    assert re.search(r"auth failed: proto=imap rhost=127\.0\.0\.1 user=ev\?il\?name$", log, re.M), log[-2000:]


def test_imap_overlong_login_is_a_counted_failure(make_server):
    """An IMAP user name or password too long to be right is a failure like any other:
    delayed, logged, and counted (the fifth closes the connection)."""
    srv = start_imap(make_server, kinds=("plain",))
    r = IRaw(srv.iraw("plain"))
    for i in range(1, 6):
        name = "n" * 300 if i % 2 else "alice"
        pw = "guess" if i % 2 else "p" * 600
        u, t = r.cmd('LOGIN "%s" "%s"' % (name, pw), tag="f", timeout=30 * SLOW)
        assert t == b"f NO [AUTHENTICATIONFAILED] Invalid user name or password", "attempt %d: %r" % (i, t)
        if i < 5:
            assert u == [], "attempt %d: %r" % (i, u)
    assert u == [b"* BYE Too many failed logins"], \
        "5 over-long logins did not close the connection (not counted as failures): %r" % u
    assert len(re.findall(r"auth failed: proto=imap rhost=127\.0\.0\.1 user=", srv.log())) == 5
