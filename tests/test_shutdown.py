"""The daemon's shutdown as clients see it (SIGTERM, SIGINT): every IMAP
session gets `* BYE [UNAVAILABLE] Server shutting down` (inside TLS, then a
close_notify), every POP3 session `-ERR [SYS/TEMP] Server shutting down`,
then the connection closes; nothing half-done is stored or deleted; and a
client that never reads does not hold the exit beyond the bounded wait
(README: 2 s)."""
import signal
import socket
import ssl
import time

import pytest

from imap_util import IRaw
from postnook_fixture import SLOW, Raw, make_msg

IMAP_BYE = b"* BYE [UNAVAILABLE] Server shutting down"
POP3_BYE = b"-ERR [SYS/TEMP] Server shutting down"
BYE_WAIT = 2        # README: the bounded wait at shutdown, in seconds


def tls_ctx(srv):
    """A verifying client context that reports a TCP close without
    close_notify (OpenSSL 3 as Python sets it up ignores it); wrap with
    suppress_ragged_eofs=False so it raises instead of reading as EOF."""
    ctx = srv.client_ctx()
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    return ctx


class Sess:
    """A raw session whose socket may be TLS without ragged-EOF suppression."""

    def __init__(self, port, ctx=None):
        self.r = Raw(port)
        if ctx is not None:
            self.wrap(ctx)

    def wrap(self, ctx):
        assert not self.r.buf, self.r.buf
        self.r.sock = ctx.wrap_socket(self.r.sock, server_hostname="localhost", suppress_ragged_eofs=False)

    def rest(self, timeout=10 * SLOW):
        """Everything until the server closes: (bytes, how it closed)."""
        data, how = self.r.buf, None
        self.r.buf = b""
        self.r.sock.settimeout(timeout)
        while how is None:
            try:
                d = self.r.sock.recv(65536)
            except ssl.SSLEOFError:
                how = "eof without close_notify"
            except ssl.SSLError as e:
                how = "TLS error %s" % e
            except (ConnectionResetError, BrokenPipeError):
                how = "reset"
            except (socket.timeout, TimeoutError):
                how = "still open"
            else:
                if not d:
                    how = "closed"
                data += d
        return data, how


def imap_sessions(srv, kind, ctx):
    """Three IMAP sessions of one kind: not logged in, INBOX selected, in IDLE."""
    port = srv.iports[kind]
    out = []
    for what in ("greeted", "selected", "idle"):
        s = Sess(port, ctx if kind == "tls" else None)
        assert s.r.readline().startswith(b"* OK")
        m = IRaw(s.r)
        if kind == "starttls":
            m.ok("STARTTLS")
            s.wrap(ctx)
        if what != "greeted":
            m.ok('LOGIN alice "%s"' % srv.users["alice"])
            m.ok("SELECT INBOX")
        if what == "idle":
            m.send(b"i IDLE\r\n")
            assert m.readline() == b"+ idling"
        out.append((what, s))
    return out


@pytest.mark.parametrize("kind", ["plain", "tls", "starttls"])
def test_imap_bye_at_sigterm(make_server, kind):
    srv = make_server(start=True, imap=(kind,), listeners=("plain",))
    srv.deliver_ok("alice", make_msg(1))
    sessions = imap_sessions(srv, kind, tls_ctx(srv) if kind != "plain" else None)
    srv.signal(signal.SIGTERM)
    for what, s in sessions:
        data, how = s.rest()
        assert data == IMAP_BYE + b"\r\n", "%s %s session got %r" % (kind, what, data)
        assert how == "closed", "%s %s session: %s after the BYE" % (kind, what, how)
    assert srv.proc.wait(10 * SLOW) == 0
    assert "shutting down" in srv.log()


@pytest.mark.parametrize("kind", ["plain", "tls"])
def test_pop3_err_at_sigint(make_server, kind):
    srv = make_server(start=True, listeners=(kind,))
    srv.deliver_ok("alice", make_msg(1))
    ctx = tls_ctx(srv) if kind == "tls" else None
    before = Sess(srv.ports[kind], ctx)
    assert before.r.readline().startswith(b"+OK")
    s = Sess(srv.ports[kind], ctx)
    assert s.r.readline().startswith(b"+OK")
    s.r.login("alice", srv.users["alice"])
    s.r.expect_ok("DELE 1")
    srv.signal(signal.SIGINT)
    for who, sess in (("before login", before), ("after DELE", s)):
        data, how = sess.rest()
        assert data == POP3_BYE + b"\r\n", "%s: %r" % (who, data)
        assert how == "closed", "%s: %s after the -ERR" % (who, how)
    assert srv.proc.wait(10 * SLOW) == 0
    # RFC 1939: no QUIT, no UPDATE state: the message is still there.
    srv.start()
    p = srv.pop(kind=kind)
    assert p.stat()[0] == 1
    p.quit()


def test_half_sent_append_not_stored(make_server):
    srv = make_server(start=True, imap=("plain",), listeners=("plain",))
    s = Sess(srv.iports["plain"])
    m = IRaw(s.r)
    assert m.readline().startswith(b"* OK")
    m.ok('LOGIN alice "%s"' % srv.users["alice"])
    msg = make_msg("half").replace(b"\n", b"\r\n")
    m.send(b"a APPEND INBOX {%d}\r\n" % len(msg))
    assert m.readline().startswith(b"+ ")
    m.send(msg[:len(msg) // 2])
    time.sleep(0.2)     # let the daemon take the first half
    srv.signal(signal.SIGTERM)
    data, how = s.rest()
    assert data == IMAP_BYE + b"\r\n" and how == "closed", (data, how)
    assert srv.proc.wait(10 * SLOW) == 0
    srv.start()
    m = srv.imap()
    typ, d = m.select("INBOX")
    assert typ == "OK" and d == [b"0"], d
    m.logout()


def test_client_that_never_reads_does_not_hold_shutdown(make_server):
    """A FETCH of a 12 MB message to a client that reads nothing: its bytes
    fill the socket buffers and stay there. The daemon still exits within
    the bounded wait, and the other sessions get their BYE."""
    srv = make_server(start=True, imap=("plain", "tls"), listeners=("plain",))
    body = ("x" * 76 + "\n") * (12 * 1024 * 1024 // 77)
    srv.deliver_ok("alice", make_msg("big", body=body))
    stuck = []
    for kind in ("plain", "tls"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", srv.iports[kind]))
        r = Raw.__new__(Raw)
        r.timeout, r.buf, r.eof, r.greeting = 15 * SLOW, b"", False, None
        r.sock = srv.client_ctx().wrap_socket(sock, server_hostname="localhost") if kind == "tls" else sock
        m = IRaw(r)
        assert m.readline().startswith(b"* OK")
        m.ok('LOGIN alice "%s"' % srv.users["alice"])
        m.ok("SELECT INBOX")
        m.send(b"f FETCH 1 BODY[]\r\n")
        stuck.append(r)
    waiting = Sess(srv.iports["plain"])
    assert waiting.r.readline().startswith(b"* OK")
    time.sleep(0.5)     # the FETCHes have filled the buffers
    t0 = time.time()
    srv.signal(signal.SIGTERM)
    data, how = waiting.rest()
    assert data == IMAP_BYE + b"\r\n" and how == "closed", (data, how)
    try:
        rc = srv.proc.wait(BYE_WAIT + 5 * SLOW)
    except Exception:
        pytest.fail("the daemon was still running %.1f s after SIGTERM" % (time.time() - t0))
    assert rc == 0
    assert srv.log().count("closed (server shutting down)") == 2, srv.log()[-2000:]
    for r in stuck:
        r.close()


def test_tls_logout_and_quit_end_with_close_notify(make_server):
    """Not only at shutdown: every TLS session the server closes (LOGOUT,
    QUIT) ends with a close_notify after the last reply."""
    srv = make_server(start=True, imap=("tls",), listeners=("tls",))
    s = Sess(srv.iports["tls"], tls_ctx(srv))
    m = IRaw(s.r)
    assert m.readline().startswith(b"* OK")
    m.send(b"z LOGOUT\r\n")
    data, how = s.rest()
    assert data == b"* BYE postnook logging out\r\nz OK LOGOUT completed\r\n" and how == "closed", (data, how)
    s = Sess(srv.ports["tls"], tls_ctx(srv))
    assert s.r.readline().startswith(b"+OK")
    s.r.send(b"QUIT\r\n")
    data, how = s.rest()
    assert data == b"+OK Bye\r\n" and how == "closed", (data, how)
