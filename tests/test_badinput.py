"""Malformed input. Each tests/badinput/*.bin file is sent on a fresh
connection (pre-*: right after the greeting; trans-*: after logging in as
alice); the daemon must answer or close within a few seconds, stay alive and
keep serving. A few inputs have exact expected replies below."""
import pathlib
import socket
import time

import pytest

from postnook_fixture import PASSWORDS, SAN, SLOW, Server, crlf, make_msg

CORPUS = sorted((pathlib.Path(__file__).parent / "badinput").glob("*.bin"))
MSG = make_msg("badinput", body="line one\n.dot line\nline three\n")


@pytest.fixture(scope="module")
def bserver(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("badinput"), listeners=("plain", "starttls"))
    srv.add_user("alice")
    srv.add_user("bob")
    srv.deliver_ok("alice", MSG)
    srv.start()
    yield srv
    srv.stop()
    if SAN:
        reports = srv.sanitizer_reports()
        assert not reports, "\n".join(reports)


def check_alive(srv):
    assert srv.alive(), "postnook died (exit %s); log tail:\n%s" % (srv.proc.returncode, srv.log()[-3000:])
    p = srv.pop_retry("alice", wait=15 * SLOW)
    assert p.stat() == (1, len(crlf(MSG))), "the maildrop changed"
    p.quit()


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus(bserver, path):
    data = path.read_bytes()
    kind = "starttls" if "stls" in path.stem else "plain"
    r = trans(bserver) if path.stem.startswith("trans-") else bserver.raw(kind)
    t0 = time.time()
    try:
        r.send(data)
        r.sock.shutdown(socket.SHUT_WR)      # then the peer sees EOF
    except (BrokenPipeError, ConnectionResetError, OSError):
        pass
    out, closed = r.drain(quiet=0.5 * SLOW, limit=20 * SLOW)
    dt = time.time() - t0
    assert dt < 20 * SLOW, "still talking after %.1fs" % dt
    first = out.split(b"\r\n", 1)[0]
    if out:
        assert first.startswith((b"+OK", b"-ERR", b"+ ")) or first == b"+", "first reply %r" % first[:100]
    r.close()
    check_alive(bserver)


def trans(srv):
    """A raw session logged in as alice, once the previous test's session
    (closed a moment ago) has released the maildrop."""
    deadline = time.time() + 5 * SLOW
    while True:
        r = srv.raw()
        r.expect_ok("USER alice")
        line = r.cmd("PASS " + PASSWORDS["alice"])
        if line.startswith(b"+OK"):
            return r
        r.close()
        assert b"[IN-USE]" in line and time.time() < deadline, "login -> %r" % line
        time.sleep(0.1)


@pytest.mark.parametrize("cmd", ["TOP 1 -1", "RETR 99999999999999999999", "LIST 0", "RETR 0",
                                 "LIST 99999999999999999999", "DELE 4294967297", "UIDL 0", "TOP 1",
                                 "TOP", "TOP x 1", "LIST 1x", "DELE -1"])
def test_trans_errors(bserver, cmd):
    r = trans(bserver)
    r.expect_err(cmd)
    r.expect_ok("NOOP")
    r.close()


def test_lowercase_commands(bserver):
    r = bserver.raw()
    r.expect_ok("user alice")
    r.expect_ok("pass " + PASSWORDS["alice"])
    s = r.cmd("stat")
    assert s.split()[:3] == [b"+OK", b"1", str(len(crlf(MSG))).encode()], s
    assert r.cmd("list").startswith(b"+OK")
    assert r.multiline() == [b"1 %d" % len(crlf(MSG))]
    assert r.cmd("retr 1").startswith(b"+OK")
    assert r.multiline() == crlf(MSG)[:-2].split(b"\r\n")
    r.close()


def test_huge_top_count(bserver):
    r = trans(bserver)
    line = r.cmd("TOP 1 99999999999999999999")
    if line.startswith(b"+OK"):
        assert r.multiline() == crlf(MSG)[:-2].split(b"\r\n")
    else:
        assert line.startswith(b"-ERR")
    r.expect_ok("NOOP")
    r.close()


def test_100k_line_then_session_continues(bserver):
    r = bserver.raw()
    r.send(b"X" * 100000 + b"\r\n")
    e = r.readline()
    assert e.startswith(b"-ERR"), "100 KB line -> %r" % e
    assert not r.pending(0.5), "more than one reply to one over-long line: %r" % r.buf[:200]
    r.login("alice", PASSWORDS["alice"])
    r.expect_ok("STAT")
    r.close()


def test_auth_plain_10k(bserver):
    import base64
    r = bserver.raw()
    e = r.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0alice\0" + b"p" * 7600))
    assert e.startswith(b"-ERR"), e
    c = r.cmd("AUTH PLAIN")
    assert c.startswith(b"+")
    e = r.cmd(base64.b64encode(b"\0alice\0" + b"p" * 7600))
    assert e.startswith(b"-ERR"), e
    r.login("alice", PASSWORDS["alice"])
    r.close()


def test_half_line_then_close(bserver):
    for data in (b"USER alice", b"US", b"\r", b"AUTH PLAIN"):
        r = bserver.raw()
        r.send(data)
        r.close()
    r = trans(bserver)
    r.send(b"DELE 1\r\nQUI")
    assert r.readline().startswith(b"+OK")
    r.close()
    check_alive(bserver)      # the half-sent QUIT must not apply the DELE


def test_commands_after_quit_ignored(bserver):
    r = trans(bserver)
    r.send(b"QUIT\r\nDELE 1\r\nSTAT\r\n")
    q = r.readline()
    assert q.startswith(b"+OK")
    rest, closed = r.read_until_eof(5 * SLOW)
    assert closed and rest == b"", "replies after QUIT: %r" % rest
    check_alive(bserver)


def test_lone_cr_is_not_a_line_end(bserver):
    r = bserver.raw()
    r.send(b"NOOP\rCAPA\r\n")
    line = r.readline()
    assert line.startswith(b"-ERR"), "'NOOP<CR>CAPA' treated as a command: %r" % line
    r.expect_ok("CAPA")
    r.multiline()
    r.close()
