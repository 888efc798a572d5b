"""POP3 AUTHORIZATION state: greeting, CAPA, USER/PASS, AUTH PLAIN (RFC 1939,
2449, 3206, 5034), failed-login delays, [IN-USE], plaintext policy, logging."""
import base64
import poplib
import re
import time

import pytest

from postnook_fixture import PASSWORDS, SLOW


def capa(raw):
    r = raw.cmd("CAPA")
    assert r.startswith(b"+OK"), "CAPA -> %r" % r
    return [l.decode() for l in raw.multiline()]


def has(caps, name):
    return any(c.split()[0].upper() == name for c in caps if c.strip())


def plain_b64(user, pw, authz=""):
    return base64.b64encode(("%s\0%s\0%s" % (authz, user, pw)).encode()).decode()


def test_greeting_and_capa_plain(server):
    r = server.raw("plain")
    assert r.greeting.startswith(b"+OK")
    caps = capa(r)
    for c in ("TOP", "USER", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION"):
        assert has(caps, c), "CAPA lacks %s: %r" % (c, caps)
    sasl = [c for c in caps if c.upper().startswith("SASL")]
    assert sasl and "PLAIN" in sasl[0].upper().split()[1:], "CAPA lacks SASL PLAIN: %r" % caps
    assert not has(caps, "STLS"), "STLS offered on a listener without STARTTLS: %r" % caps
    r.expect_ok("QUIT")
    assert r.read_until_eof(5 * SLOW)[1], "connection not closed after QUIT"


def test_capa_starttls_listener(server):
    r = server.raw("starttls")
    caps = capa(r)
    assert has(caps, "STLS"), "starttls listener does not offer STLS: %r" % caps
    assert has(caps, "USER")
    r.expect_ok("STLS")
    r.starttls(server.client_ctx())
    caps = capa(r)
    assert not has(caps, "STLS"), "STLS still offered after TLS is on: %r" % caps
    assert has(caps, "USER") and has(caps, "TOP")
    r.login("alice", PASSWORDS["alice"])
    r.expect_ok("QUIT")


def test_capa_tls_listener(server):
    r = server.raw("tls")
    caps = capa(r)
    assert not has(caps, "STLS"), "STLS offered on the implicit-TLS listener: %r" % caps
    assert has(caps, "USER") and has(caps, "UIDL")


def test_capa_in_transaction(server):
    r = server.raw_login()
    caps = capa(r)
    assert has(caps, "TOP") and has(caps, "UIDL") and has(caps, "PIPELINING"), caps
    r.expect_ok("QUIT")


def test_user_pass(server):
    p = server.pop("alice")
    assert p.stat() == (0, 0)
    assert p.quit().startswith(b"+OK")


def test_commands_case_insensitive(server):
    r = server.raw()
    r.expect_ok("user alice")
    r.expect_ok("pass " + PASSWORDS["alice"])
    assert r.cmd("stat").startswith(b"+OK 0 0")
    r.expect_ok("QuIt")


def test_pass_without_user(server):
    r = server.raw()
    r.expect_err("PASS " + PASSWORDS["alice"])
    r.login("alice", PASSWORDS["alice"])


def test_transaction_commands_before_login(server):
    r = server.raw()
    for c in ("STAT", "LIST", "RETR 1", "DELE 1", "UIDL", "TOP 1 0", "RSET"):
        r.expect_err(c)
    r.expect_ok("QUIT")


def test_auth_plain_initial_response(server):
    r = server.raw()
    assert r.cmd("AUTH PLAIN " + plain_b64("alice", PASSWORDS["alice"])).startswith(b"+OK")
    assert r.cmd("STAT").startswith(b"+OK")
    r.expect_ok("QUIT")


def test_auth_plain_continuation(server):
    r = server.raw()
    c = r.cmd("AUTH PLAIN")
    assert c is not None and (c == b"+" or c.startswith(b"+ ")), "AUTH PLAIN -> %r (want '+ ')" % c
    assert r.cmd(plain_b64("bob", PASSWORDS["bob"])).startswith(b"+OK")
    r.expect_ok("STAT")


def test_auth_plain_cancel(server):
    r = server.raw()
    c = r.cmd("AUTH PLAIN")
    assert c.startswith(b"+")
    r.expect_err("*")
    # still in AUTHORIZATION and usable
    r.login("alice", PASSWORDS["alice"])


def test_auth_plain_bad_base64(server):
    r = server.raw()
    r.expect_err("AUTH PLAIN !!!not*base64$$")
    c = r.cmd("AUTH PLAIN")
    assert c.startswith(b"+")
    r.expect_err("%%%%")
    r.login("alice", PASSWORDS["alice"])


def test_auth_plain_malformed_message(server):
    r = server.raw()
    # no NULs at all
    r.expect_err("AUTH PLAIN " + base64.b64encode(b"alice" + PASSWORDS["alice"].encode()).decode())
    r.login("alice", PASSWORDS["alice"])


def test_auth_unknown_mechanism(server):
    r = server.raw()
    r.expect_err("AUTH CRAM-MD5")
    r.expect_err("AUTH X-NOPE abc")
    r.login("alice", PASSWORDS["alice"])


def test_wrong_password_and_unknown_user_look_alike(server):
    r1 = server.raw()
    r1.expect_ok("USER alice")
    e1 = r1.cmd("PASS wrong-password-1")
    r2 = server.raw()
    u = r2.cmd("USER nosuchuser")
    # USER may accept any name (it must not reveal whether the user exists)
    assert u.startswith(b"+OK"), "USER nosuchuser -> %r (reveals the user does not exist)" % u
    e2 = r2.cmd("PASS wrong-password-2")
    assert e1.startswith(b"-ERR [AUTH]"), "wrong password -> %r" % e1
    assert e2.startswith(b"-ERR [AUTH]"), "unknown user -> %r" % e2
    assert e1 == e2, "different replies reveal which users exist: %r vs %r" % (e1, e2)
    r3 = server.raw()
    e3 = r3.cmd("AUTH PLAIN " + plain_b64("nosuchuser", "x"))
    e4 = r3.cmd("AUTH PLAIN " + plain_b64("alice", "x"))
    assert e3.startswith(b"-ERR [AUTH]") and e3 == e4, (e3, e4)


@pytest.mark.slow
def test_failed_login_delay_grows_and_loop_not_blocked(server):
    ok = server.raw_login("bob")

    def fail_once(user):
        r = server.raw()
        r.expect_ok("USER " + user)
        t0 = time.time()
        r.send("PASS definitely-wrong\r\n")
        # While this reply is held back, another session must be served.
        t_ok0 = time.time()
        reply_ok = ok.cmd("NOOP")
        t_ok = time.time() - t_ok0
        assert reply_ok.startswith(b"+OK")
        held = not r.pending(0)
        line = r.readline(30 * SLOW)
        dt = time.time() - t0
        assert line.startswith(b"-ERR [AUTH]"), line
        r.close()
        return dt, t_ok, held

    d1, ok1, held1 = fail_once("alice")
    d2, ok2, held2 = fail_once("nosuchuser")
    assert d1 >= 0.2, "first failed login answered after %.3fs (want >= ~0.25s)" % d1
    assert d2 > d1, "second failure (%.3fs) not delayed longer than the first (%.3fs)" % (d2, d1)
    assert held1 and held2, "the -ERR was ready before another session's NOOP was answered"
    assert ok1 < d1 and ok2 < d2 / 2, \
        "a logged-in session waited %.3fs/%.3fs during a login delay (loop blocked?)" % (ok1, ok2)
    # a correct password still works afterwards
    p = server.pop("alice")
    p.quit()
    ok.expect_ok("QUIT")


def test_in_use(server):
    r1 = server.raw_login("alice")
    r2 = server.raw()
    r2.expect_ok("USER alice")
    e = r2.cmd("PASS " + PASSWORDS["alice"])
    assert e.startswith(b"-ERR [IN-USE]"), "second session for a locked maildrop -> %r" % e
    r3 = server.raw()
    e = r3.cmd("AUTH PLAIN " + plain_b64("alice", PASSWORDS["alice"]))
    assert e.startswith(b"-ERR [IN-USE]"), "AUTH PLAIN for a locked maildrop -> %r" % e
    # another user is not affected
    server.pop("bob").quit()
    r1.expect_ok("QUIT")
    r1.read_until_eof(5 * SLOW)
    p = server.pop_retry("alice")
    p.quit()


@pytest.fixture
def never_server(make_server):
    return make_server(start=True, plaintext_auth="never")


def test_plaintext_never_starttls_listener(never_server):
    srv = never_server
    r = srv.raw("starttls")
    caps = capa(r)
    assert has(caps, "STLS"), caps
    assert not has(caps, "USER"), "USER offered without TLS under plaintext_auth=never: %r" % caps
    assert not any(c.upper().startswith("SASL") and "PLAIN" in c.upper() for c in caps), \
        "SASL PLAIN offered without TLS under plaintext_auth=never: %r" % caps
    e = r.cmd("USER alice")
    assert e.startswith(b"-ERR [AUTH]"), "USER without TLS -> %r" % e
    assert b"TLS" in e.upper(), "the refusal does not tell the user to use STLS: %r" % e
    e = r.cmd("AUTH PLAIN " + plain_b64("alice", PASSWORDS["alice"]))
    assert e.startswith(b"-ERR"), "AUTH PLAIN without TLS -> %r" % e
    r.expect_ok("STLS")
    r.starttls(srv.client_ctx())
    caps = capa(r)
    assert has(caps, "USER") and not has(caps, "STLS"), caps
    r.login("alice", PASSWORDS["alice"])
    r.expect_ok("STAT")
    r.expect_ok("QUIT")


def test_plaintext_never_plain_listener(never_server):
    r = never_server.raw("plain")
    caps = capa(r)
    assert not has(caps, "USER"), caps
    e = r.cmd("USER alice")
    assert e.startswith(b"-ERR [AUTH]"), e
    e = r.cmd("PASS " + PASSWORDS["alice"])
    assert e.startswith(b"-ERR"), e
    # the TLS listener still works
    never_server.pop("alice", kind="tls").quit()


def test_log_lines_and_no_passwords(server):
    p = server.pop("alice")
    p.stat()
    p.quit()
    r = server.raw()
    r.expect_ok("USER alice")
    assert r.cmd("PASS Wr0ng-Secret-Zebra-77", timeout=30 * SLOW).startswith(b"-ERR")
    r.close()
    r = server.raw()
    assert r.cmd("AUTH PLAIN " + plain_b64("alice", "Wr0ng-Base64-Secret-Yak"),
                 timeout=30 * SLOW).startswith(b"-ERR")
    r.close()
    p = server.pop("bob", kind="tls")
    p.quit()
    time.sleep(0.5)
    server.stop()
    log = server.log()
    for secret in list(PASSWORDS.values()) + ["Wr0ng-Secret-Zebra-77", "Wr0ng-Base64-Secret-Yak",
                                              plain_b64("alice", "Wr0ng-Base64-Secret-Yak")]:
        assert secret not in log, "a password appears in the log: %r" % secret
    lines = [l for l in log.splitlines() if "127.0.0.1" in l]
    assert len(lines) >= 4, "fewer than 4 log lines with the peer address:\n%s" % log[-3000:]
    assert any("alice" in l and re.search(r"log(ged)? ?in|auth", l, re.I) for l in lines), \
        "no login line for alice with the peer address:\n%s" % log[-3000:]
    assert any(re.search(r"fail|denied|bad|wrong|invalid", l, re.I) for l in lines), \
        "no failed-login line with the peer address:\n%s" % log[-3000:]
    assert any(re.search(r"log(ged)? ?out|quit|clos|disconnect", l, re.I) for l in lines), \
        "no logout/close line with the peer address:\n%s" % log[-3000:]
