"""IMAP session commands over plain, TLS and STARTTLS: greeting, CAPABILITY,
NOOP, LOGOUT, STARTTLS (and its injection defence), LOGIN, AUTHENTICATE PLAIN
with SASL-IR, LOGINDISABLED, ID, ENABLE, NAMESPACE, login delays, limits."""
import base64
import imaplib
import time

import pytest

from imap_util import ALL_KINDS, ilogin, iraw, start_imap
from postnook_fixture import SLOW, Raw


@pytest.fixture
def srv(make_server):
    return start_imap(make_server)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_login_each_kind(srv, kind):
    m = srv.imap(kind=kind)
    typ, caps = m.capability()
    assert typ == "OK"
    caps = caps[0].split()
    for c in (b"IMAP4rev1", b"IDLE", b"UIDPLUS", b"MOVE", b"LITERAL+", b"SPECIAL-USE", b"QUOTA", b"NAMESPACE"):
        assert c in caps
    assert b"STARTTLS" not in caps and b"AUTH=PLAIN" not in caps   # not after login
    assert m.noop()[0] == "OK"
    assert m.logout()[0] == "BYE"


def test_greeting_capabilities(srv):
    r = iraw(srv)
    assert b"[CAPABILITY IMAP4rev1" in r.r.greeting and b"AUTH=PLAIN" in r.r.greeting
    u, t = r.ok("CAPABILITY")
    assert u[0].startswith(b"* CAPABILITY IMAP4rev1")
    assert b"APPENDLIMIT=" in u[0]
    r.close()


def test_starttls_capability_and_logindisabled(make_server):
    srv = start_imap(make_server, plaintext_auth="never")
    r = iraw(srv, "starttls")
    u, _ = r.ok("CAPABILITY")
    assert b"STARTTLS" in u[0] and b"LOGINDISABLED" in u[0] and b"AUTH=PLAIN" not in u[0]
    u, t = r.no('LOGIN alice "%s"' % srv.users["alice"])
    assert b"PRIVACYREQUIRED" in t
    r.ok("STARTTLS")
    r.r.starttls(srv.client_ctx())
    u, _ = r.ok("CAPABILITY")
    assert b"STARTTLS" not in u[0] and b"LOGINDISABLED" not in u[0] and b"AUTH=PLAIN" in u[0]
    r.ok('LOGIN alice "%s"' % srv.users["alice"])
    r.close()


def test_plain_port_never(make_server):
    srv = start_imap(make_server, plaintext_auth="never")
    r = iraw(srv, "plain")
    u, _ = r.ok("CAPABILITY")
    assert b"LOGINDISABLED" in u[0] and b"STARTTLS" not in u[0]
    r.no("AUTHENTICATE PLAIN " + base64.b64encode(b"\0alice\0x").decode())
    r.no("STARTTLS")
    r.close()


def test_starttls_injection_discarded(srv):
    """Commands pipelined after STARTTLS in plaintext must never run."""
    raw = Raw(srv.iports["starttls"])
    assert raw.readline().startswith(b"* OK")
    raw.send(b"a STARTTLS\r\nb LOGIN alice \"%s\"\r\nc CREATE injected\r\n" % srv.users["alice"].encode())
    line = raw.readline()
    assert line.startswith(b"a OK"), line
    assert not raw.buf, "plaintext after the STARTTLS reply: %r" % raw.buf
    raw.starttls(srv.client_ctx())
    raw.send(b"d NOOP\r\n")
    assert raw.readline().startswith(b"d OK")
    raw.send(b'e LIST "" "injected"\r\n')
    line = raw.readline()
    assert line.startswith(b"e BAD"), "the injected LOGIN ran: %r" % line
    raw.close()
    m = srv.imap()
    assert m.list('""', "injected") == ("OK", [None]), "the injected CREATE ran"
    m.logout()


def test_login_literal_and_quoted(srv):
    r = iraw(srv)
    pw = srv.users["alice"].encode()
    r.send(b"a LOGIN {5}\r\n")
    assert r.readline().startswith(b"+ ")
    r.send(b"alice {%d}\r\n" % len(pw))
    assert r.readline().startswith(b"+ ")
    r.send(pw + b"\r\n")
    _, t = r.until("a")
    assert t.startswith(b"a OK"), t
    r.close()
    # LITERAL+: no continuation requests
    r = iraw(srv)
    r.send(b"a LOGIN {5+}\r\nalice {%d+}\r\n%s\r\n" % (len(pw), pw))
    _, t = r.until("a")
    assert t.startswith(b"a OK"), t
    r.close()


def test_authenticate_plain(srv):
    pw = srv.users["alice"].encode()
    ir = base64.b64encode(b"\0alice\0" + pw)
    r = iraw(srv)
    r.ok(b"AUTHENTICATE PLAIN " + ir)          # SASL-IR
    r.close()
    r = iraw(srv)
    r.send(b"a AUTHENTICATE PLAIN\r\n")
    assert r.readline().startswith(b"+")
    r.send(ir + b"\r\n")
    _, t = r.until("a")
    assert t.startswith(b"a OK"), t
    r.close()
    r = iraw(srv)
    r.send(b"a AUTHENTICATE PLAIN\r\n")
    assert r.readline().startswith(b"+")
    r.send(b"*\r\n")
    _, t = r.until("a")
    assert t.startswith(b"a BAD"), t
    r.no("AUTHENTICATE CRAM-MD5")
    r.bad("AUTHENTICATE PLAIN !!!notbase64")
    r.close()
    m = srv.imap(login=False)
    m.authenticate("PLAIN", lambda _: b"\0alice\0" + pw)
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_login_failure_delayed(srv):
    r = iraw(srv)
    t0 = time.time()
    u, t = r.no('LOGIN alice "wrong"')
    assert b"AUTHENTICATIONFAILED" in t
    assert time.time() - t0 >= 0.2
    r.no('LOGIN nosuchuser "x"')
    r.ok('LOGIN alice "%s"' % srv.users["alice"])
    r.close()
    with pytest.raises(imaplib.IMAP4.error):
        srv.imap(password="nope")


def test_state_errors(srv):
    r = iraw(srv)
    r.bad("SELECT INBOX")
    r.bad("FETCH 1 FLAGS")
    r.bad("FROBNICATE")
    r.ok('LOGIN alice "%s"' % srv.users["alice"])
    r.bad('LOGIN alice "x"')
    r.bad("FETCH 1 FLAGS")
    r.bad("EXPUNGE")
    r.bad("UID LIST")
    r.close()


def test_id_enable_namespace(srv):
    r = ilogin(srv)
    u, _ = r.ok('ID ("name" "pytest" "version" "1")')
    assert u[0].startswith(b'* ID ("name" "postnook"')
    r.ok("ID NIL")
    r.bad("ID (\"name\")")
    u, _ = r.ok("ENABLE CONDSTORE")
    assert u == [b"* ENABLED"]
    u, _ = r.ok("NAMESPACE")
    assert u == [b'* NAMESPACE (("" "/")) NIL NIL']
    r.close()


def test_logout_closes(srv):
    r = iraw(srv)
    u, t = r.cmd("LOGOUT")
    assert u[0].startswith(b"* BYE") and t.startswith(b"t1 OK")
    data, closed = r.r.read_until_eof(5 * SLOW)
    assert closed


def test_bad_syntax_never_kills(srv):
    r = ilogin(srv)
    for line in (b"", b"a", b"a SELECT", b'a SELECT "unterminated', b"a FETCH 1:* (FLAGS",
                 b"a FETCH 1:* (((((((((((FLAGS)))))))))))", b"a FETCH x FLAGS", b"a STORE 1 FLAGS \\Bogus",
                 b"a SEARCH (((((((((((ALL)))))))))))", b"a SEARCH FOO", b"a LIST", b"\x00\xff\x01 NOOP",
                 b"a SELECT {99999999999}", b"a+ NOOP"):
        r.send(line + b"\r\n")
        got = r.readline()
        assert got is not None and (b"BAD" in got or b"NO" in got), (line, got)
    r.ok("NOOP")
    r.close()


def test_line_too_long(srv):
    r = ilogin(srv)
    r.send(b"a NOOP " + b"x" * 20000 + b"\r\n")
    line = r.readline()
    # answered with its tag (test_imap_parse.py has the other shapes)
    assert line.startswith(b"a BAD [TOOBIG]") and b"too long" in line, line
    r.ok("NOOP")
    r.close()


def test_literal_limits(srv):
    r = ilogin(srv)
    # a synchronizing literal that cannot fit the command buffer: NO, no continuation
    r.send(b"a LOGIN {100000}\r\n")
    line = r.readline()
    assert line.startswith(b"a NO") and b"TOOBIG" in line, line
    r.ok("NOOP")
    # LITERAL-: a non-synchronizing literal above 4096 is refused and the connection closed
    r.send(b"b SEARCH TEXT {5000+}\r\n" + b"x" * 5000 + b"\r\n")
    line = r.readline()
    assert line.startswith(b"b BAD") and b"TOOBIG" in line, line
    data, closed = r.r.read_until_eof(5 * SLOW)
    assert closed
    assert srv.alive()


def test_per_ip_refusal_is_imap(make_server):
    srv = start_imap(make_server, max_per_ip=2)
    a, b = iraw(srv), iraw(srv)
    raw = Raw(srv.iports["plain"])
    line = raw.readline()
    assert line.startswith(b"* BYE"), line
    a.close(), b.close(), raw.close()


def test_many_connections_same_user(srv):
    """Clients open many connections per user (Thunderbird 5, phones more)."""
    conns = [srv.imap() for _ in range(20)]
    for m in conns:
        assert m.select("INBOX")[0] == "OK"
    for m in conns:
        m.logout()
