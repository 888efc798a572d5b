"""Connection limits and timeouts: login_timeout, max_per_ip, max_connections."""
import socket
import time

import pytest

from postnook_fixture import SLOW, Raw


@pytest.mark.slow
def test_login_timeout(make_server):
    srv = make_server(start=True, login_timeout=10)
    r = srv.raw()
    t0 = time.time()
    data, closed = r.read_until_eof(25 * SLOW)
    dt = time.time() - t0
    assert closed, "idle unauthenticated connection still open after %.1fs (login_timeout = 10)" % dt
    assert dt >= 9, "connection closed after %.1fs, before login_timeout = 10" % dt
    assert dt <= 14 * SLOW, "connection closed only after %.1fs (login_timeout = 10)" % dt
    assert data == b"" or data.startswith(b"-ERR"), "unexpected bytes before the close: %r" % data
    srv.assert_serving()


@pytest.mark.slow
def test_login_timeout_does_not_hit_logged_in_session(make_server):
    srv = make_server(start=True, login_timeout=10)
    r = srv.raw_login()
    time.sleep(12)
    r.expect_ok("NOOP")
    r.expect_ok("QUIT")


def _greeted(port, wait):
    """Connect; return ('ok'|'err'|'closed'|'silent', Raw)."""
    r = Raw(port, timeout=wait)
    try:
        line = r.readline(wait)
    except (TimeoutError, socket.timeout):
        return "silent", r
    if line is None:
        return "closed", r
    if line.startswith(b"+OK"):
        return "ok", r
    if line.startswith(b"-ERR"):
        return "err", r
    return repr(line), r


def test_max_per_ip(make_server):
    srv = make_server(start=True, max_per_ip=3, listeners=("plain",))
    time.sleep(0.3)        # let the readiness probe's slot be released
    conns = []
    for i in range(3):
        st, r = _greeted(srv.ports["plain"], 5 * SLOW)
        assert st == "ok", "connection %d of 3 allowed: %s" % (i + 1, st)
        conns.append(r)
    conns[0].login("alice", srv.users["alice"])
    st, fourth = _greeted(srv.ports["plain"], 1.5 * SLOW)
    assert st in ("err", "closed", "silent"), "4th connection from one IP with max_per_ip = 3: %s" % st
    fourth.close()
    # the first three still work
    conns[0].expect_ok("STAT")
    conns[1].expect_ok("CAPA")
    conns[1].multiline()
    conns[2].close()
    deadline = time.time() + 5 * SLOW
    while True:
        st, r = _greeted(srv.ports["plain"], 2 * SLOW)
        if st == "ok":
            break
        r.close()
        assert time.time() < deadline, "no new connection accepted after one of three closed: %s" % st
        time.sleep(0.2)
    r.login("bob", srv.users["bob"])
    r.expect_ok("QUIT")
    for c in conns[:2]:
        c.close()


def test_max_per_ip_refusal_text(make_server):
    srv = make_server(start=True, max_per_ip=1, listeners=("plain",))
    time.sleep(0.3)
    st, first = _greeted(srv.ports["plain"], 5 * SLOW)
    assert st == "ok"
    r = Raw(srv.ports["plain"], timeout=2 * SLOW)
    try:
        line = r.readline(1.5 * SLOW)
    except (TimeoutError, socket.timeout):
        line = "silent"
    if isinstance(line, bytes):
        assert line.startswith(b"-ERR [SYS/TEMP]"), "refused connection greeted with %r" % line
    r.close()
    first.expect_ok("QUIT")


def test_max_connections(make_server):
    srv = make_server(start=True, max_connections=4, max_per_ip=4, listeners=("plain", "tls"))
    time.sleep(0.3)
    conns = []
    for i in range(4):
        st, r = _greeted(srv.ports["plain"], 5 * SLOW)
        assert st == "ok", "connection %d of max_connections = 4: %s" % (i + 1, st)
        conns.append(r)
    st, r5 = _greeted(srv.ports["plain"], 1.5 * SLOW)
    assert st in ("err", "closed", "silent"), "5th connection with max_connections = 4: %s" % st
    r5.close()
    for c in conns:
        c.expect_ok("QUIT")
        c.close()
    srv.wait_ready()
    srv.assert_serving()
