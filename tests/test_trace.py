"""The protocol trace (README: Protocol trace): the config key `trace`
names users and client addresses; their sessions are written line by line
to DATADIR/trace.log (C: client, S: server, * events) with passwords and
SASL data masked and message data summarised by size, each line's text cut
at 200 bytes, the file rotated to trace.log.1 at 256 KiB; a reload turns
it on and off for connected sessions; it is off by default."""
import base64
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest

from imap_util import IRaw
from postnook_fixture import BIN, SLOW, make_msg


def trace_built():
    """Does this build have the trace (CONFIG_TRACE)? Its config parser then
    takes the key and stops at the unknown one on the next line."""
    if not os.path.exists(BIN):
        return False
    with tempfile.TemporaryDirectory() as d:
        conf = os.path.join(d, "t.conf")
        with open(conf, "w") as f:
            f.write("trace = alice\nfrobnicate = 1\n")
        r = subprocess.run([BIN, "user", "-c", conf, "list"], capture_output=True, text=True, timeout=30 * SLOW)
    return "no protocol trace" not in r.stderr


pytestmark = pytest.mark.skipif(not trace_built(), reason="this build has no protocol trace (CONFIG_TRACE=n)")

TEXT_MAX = 200              # README: bytes of a traced line's text
FILE_MAX = 256 * 1024       # README: trace.log is rotated at this size
LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} conn (\d+) (C:|S:|\*) (.*)$")


def trace_lines(srv, wait_for=None, name="trace.log"):
    """The parsed lines of the trace file: [(conn, dir, text)]. With
    wait_for, wait until a line's text contains it (the daemon writes the
    trace as it goes, the test may read before the last reply's line)."""
    path = srv.datadir / name
    deadline = time.time() + 10 * SLOW
    while True:
        lines = []
        if path.exists():
            for raw in path.read_text(errors="replace").splitlines():
                m = LINE_RE.match(raw)
                assert m, "not a trace line: %r" % raw
                lines.append((int(m.group(1)), m.group(2), m.group(3)))
        if wait_for is None or any(wait_for in t for _, _, t in lines) or time.time() > deadline:
            return lines
        time.sleep(0.05)


def texts(lines, d=None):
    return [t for _, dd, t in lines if d is None or dd == d]


def plain_b64(user, pw):
    return base64.b64encode(("\0%s\0%s" % (user, pw)).encode()).decode()


def test_trace_off_by_default(make_server):
    srv = make_server(start=True, imap=("plain",), listeners=("plain",))
    m = srv.imap()
    m.select("INBOX")
    m.logout()
    srv.pop().quit()
    srv.stop()
    assert not (srv.datadir / "trace.log").exists()


@pytest.mark.parametrize("kind", ["plain", "tls"])
def test_trace_user_from_login(make_server, kind):
    srv = make_server(start=True, imap=(kind,), listeners=("plain",), trace="alice")
    bob = IRaw(srv.iraw(kind))
    bob.ok('LOGIN bob "%s"' % srv.users["bob"])
    bob.ok("SELECT INBOX")
    r = IRaw(srv.iraw(kind))
    r.ok('LOGIN alice "%s"' % srv.users["alice"], tag="a1")
    msg = make_msg("traced", body="The secret body text of this message.\n").replace(b"\n", b"\r\n")
    r.send(b"a2 APPEND INBOX {%d}\r\n" % len(msg))
    assert r.readline().startswith(b"+")
    r.send(msg + b"\r\n")
    r.until("a2")
    r.ok("SELECT INBOX", tag="a3")
    u, _ = r.ok("FETCH 1 (FLAGS BODY[])", tag="a4")
    assert b"secret body text" in u[0]
    bob.ok("NOOP")
    r.ok("LOGOUT", tag="a5")
    bob.ok("LOGOUT")
    lines = trace_lines(srv, wait_for="closed (")
    t = texts(lines)
    # Traced from the login on: the login's answer, not the command (it
    # was taken before the user was known), and nothing of bob's session.
    assert any(re.match(r"trace on \(user\): imap 127\.0\.0\.1:\d+ port %d%s$"
                        % (srv.iports[kind], " \\(tls\\)" if kind == "tls" else ""), x) for x in texts(lines, "*")), t
    assert texts(lines, "C:")[0] == "a2 APPEND INBOX {%d}" % len(msg), t
    assert any(x.startswith("a1 OK [CAPABILITY") for x in texts(lines, "S:")), t
    assert "[%d bytes of literal data]" % len(msg) in texts(lines, "C:"), t
    assert "a3 SELECT INBOX" in texts(lines, "C:")
    assert "a4 FETCH 1 (FLAGS BODY[])" in texts(lines, "C:")
    assert any(re.match(r"\* 1 FETCH \(FLAGS \([^)]*\) BODY\[\] \{%d\}$" % len(msg), x) for x in t), t
    assert "[%d bytes of message data]" % len(msg) in texts(lines, "S:"), t
    assert ")" in texts(lines, "S:")
    assert "* BYE postnook logging out" in t and "a5 OK LOGOUT completed" in t
    assert texts(lines, "*")[-1] == "closed (done)", t
    assert len({c for c, _, _ in lines}) == 1, "another session traced:\n%s" % "\n".join(t)
    whole = (srv.datadir / "trace.log").read_text()
    assert "secret body text" not in whole and srv.users["alice"] not in whole
    assert "bob" not in whole


def test_trace_address_masks_secrets(make_server):
    srv = make_server(start=True, imap=("plain",), listeners=("plain",), trace="bob, 127.0.0.1")
    pw = srv.users["alice"]
    r = IRaw(srv.iraw())
    r.no('LOGIN alice "wrong-password-1"', tag="a")     # failed logins are traced too
    r.ok('LOGIN alice "%s"' % pw, tag="b")
    r.ok("LOGOUT")
    r = IRaw(srv.iraw())
    r.send(b"c LOGIN {5}\r\n")
    assert r.readline().startswith(b"+")
    r.send(b"alice {%d}\r\n" % len(pw))
    assert r.readline().startswith(b"+")
    r.send(pw.encode() + b"\r\n")
    r.until("c")
    r.ok("LOGOUT")
    r = IRaw(srv.iraw())
    r.ok("AUTHENTICATE PLAIN " + plain_b64("alice", pw), tag="d")
    r.ok("LOGOUT")
    r = IRaw(srv.iraw())
    r.send(b"e AUTHENTICATE PLAIN\r\n")
    assert r.readline().startswith(b"+")
    r.send(plain_b64("alice", pw).encode() + b"\r\n")
    r.until("e")
    r.ok("LOGOUT")
    r = IRaw(srv.iraw())
    r.bad('LOGIN "alice" "%s" extra' % pw, tag="f")
    r.send(b'* LOGIN alice "%s"\r\n' % pw.encode())    # no valid tag: nothing parsed
    assert r.readline() == b"* BAD Invalid tag"
    # a NUL from a literal before the LOGIN: strcasestr would stop there
    r.send(b"* X {3+}\r\na\x00b LOGIN alice \"%s\"\r\n" % pw.encode())
    assert r.readline().startswith(b"* BAD")
    r.ok("LOGOUT")
    p = srv.raw()
    p.expect_ok("USER alice")
    p.expect_ok("PASS " + pw)
    p.expect_ok("QUIT")
    p = srv.raw()
    p.expect_ok("AUTH PLAIN " + plain_b64("alice", pw))
    p.expect_ok("QUIT")
    p = srv.raw()
    assert p.cmd("AUTH PLAIN").startswith(b"+")
    p.expect_ok(plain_b64("alice", pw))
    p.expect_ok("QUIT")
    srv.stop()
    whole = (srv.datadir / "trace.log").read_text()
    for secret in (pw, "wrong-password-1", plain_b64("alice", pw)):
        assert secret not in whole, "%r in the trace:\n%s" % (secret, whole)
    c = texts(trace_lines(srv), "C:")
    for want in ("a LOGIN alice ***", "b LOGIN alice ***", "c LOGIN {5}??alice ***", "d AUTHENTICATE PLAIN ***",
                 "e AUTHENTICATE PLAIN", "***", 'f LOGIN "alice" ***', "* LOGIN ***",
                 "USER alice", "PASS ***", "AUTH PLAIN ***", "AUTH PLAIN"):
        assert want in c, "%r not traced:\n%s" % (want, "\n".join(c))
    s = texts(trace_lines(srv), "S:")
    assert any(x.startswith("* OK [CAPABILITY") for x in s) and "+OK postnook POP3 server ready" in s
    assert "a NO [AUTHENTICATIONFAILED] Invalid user name or password" in s
    assert any(x.startswith("trace on (address): pop3 127.0.0.1:") for x in texts(trace_lines(srv), "*"))


def test_trace_turned_on_and_off_by_reload(make_server):
    srv = make_server(start=True, imap=("plain",), listeners=("plain",))
    r = IRaw(srv.iraw())
    r.ok('LOGIN alice "%s"' % srv.users["alice"])
    r.ok("NOOP", tag="before")
    srv.opts["trace"] = "alice"
    srv.write_config()
    srv.signal(signal.SIGHUP)
    time.sleep(0.3)
    r.ok("NOOP", tag="during")
    p = srv.pop("alice")          # a new session of alice's: traced from its login
    p.stat()
    p.quit()
    srv.opts["trace"] = ""
    srv.write_config()
    srv.signal(signal.SIGHUP)
    time.sleep(0.3)
    r.ok("NOOP", tag="after")
    r.ok("LOGOUT")
    lines = trace_lines(srv)
    t = texts(lines)
    assert "during NOOP" in t and "STAT" in t, t
    assert "before NOOP" not in t and "after NOOP" not in t, t
    assert "trace off (no longer in the config's trace list)" in t, t


def test_trace_line_bound_and_rotation(make_server):
    srv = make_server(start=True, imap=("plain",), listeners=(), trace="127.0.0.1")
    r = IRaw(srv.iraw())
    r.ok('LOGIN alice "%s"' % srv.users["alice"])
    # A line of exactly TEXT_MAX bytes is traced whole, one byte more is cut.
    for n in (TEXT_MAX, TEXT_MAX + 1):
        line = "x LIST \"\" \"%s\"" % ("m" * (n - len("x LIST \"\" \"\"")))
        assert len(line) == n
        r.ok(line[2:], tag="x")
    c = texts(trace_lines(srv, wait_for="[... 1 bytes more]"), "C:")
    assert c[-2] == 'x LIST "" "' + "m" * (TEXT_MAX - 12) + '"', c[-2:]
    assert c[-1] == 'x LIST "" "' + "m" * (TEXT_MAX - 11) + " [... 1 bytes more]", c[-1:]
    # Enough pipelined commands to pass the cap twice over.
    long = "n" * 900
    batch = b"".join(b"t%d LIST \"\" \"%s\"\r\n" % (i, long.encode()) for i in range(100))
    for _ in range(25):
        r.send(batch)
        r.until("t99")
    r.ok("LOGOUT")
    srv.stop()
    cur, old = srv.datadir / "trace.log", srv.datadir / "trace.log.1"
    assert old.exists(), "trace.log was never rotated"
    assert 0 < cur.stat().st_size <= FILE_MAX and FILE_MAX - 1024 < old.stat().st_size <= FILE_MAX, \
        (cur.stat().st_size, old.stat().st_size)
    assert oct(cur.stat().st_mode & 0o777) == "0o640"
    for name in ("trace.log", "trace.log.1"):
        for _, d, t in trace_lines(srv, name=name):
            assert len(t) <= TEXT_MAX + len(" [... 9999 bytes more]"), t


def test_trace_at_most_16_connections(make_server):
    """README: at most 16 connections are traced at once; the 17th is logged
    and left untraced, and a closed one's place is taken by the next."""
    srv = make_server(start=True, imap=("plain",), listeners=(), trace="127.0.0.1")
    sessions = []
    for i in range(17):
        r = IRaw(srv.iraw())
        r.ok("NOOP", tag="s%d" % i)
        sessions.append(r)
    sessions[0].ok("LOGOUT")
    r = IRaw(srv.iraw())
    r.ok("NOOP", tag="late")
    for s in sessions[1:] + [r]:
        s.ok("LOGOUT")
    srv.stop()
    c = texts(trace_lines(srv), "C:")
    assert ["s%d NOOP" % i for i in range(16)] == [x for x in c if x.startswith("s") and x.endswith("NOOP")], c
    assert "s16 NOOP" not in c and "late NOOP" in c
    assert re.search(r"WARN conn \d+ 127\.0\.0\.1:\d+: not traced: 16 connections are traced already", srv.log())
