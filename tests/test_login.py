"""The login sequence IMAP and POP3 share (src/login.c), as a client sees it
in each protocol: the connection closed at its fifth failed login (the count
is the connection's, the delay the address's), SASL PLAIN responses that are
cancelled or empty (answered, not counted), and a store error at login
(answered "try again later", logged as such, not counted as a failure)."""
import base64
import os
import re
import subprocess
import sys
import time

import pytest

from imap_util import IRaw, start_imap
from postnook_fixture import BIN, SLOW

MAX_FAILURES = 5    # README: failed logins per connection


def plain_b64(user, pw):
    return base64.b64encode(("\0%s\0%s" % (user, pw)).encode()).decode()


def forget_delay_pop3(srv):
    """A successful login from the same address forgets its failed-login
    delay (login_delay_ok): the next failure is answered after 250 ms again."""
    srv.pop("bob").quit()


def forget_delay_imap(srv):
    srv.imap("bob").logout()


def test_pop3_closed_at_fifth_failure(make_server):
    srv = start_imap(make_server, kinds=("plain",))
    r = srv.raw()
    for i in range(1, MAX_FAILURES + 1):
        # Neither a cancelled nor an empty SASL response is a failed login.
        assert r.cmd("AUTH PLAIN").startswith(b"+")
        assert r.cmd("*") == b"-ERR Authentication cancelled"
        assert r.cmd("AUTH PLAIN =") == b"-ERR Malformed SASL PLAIN response"
        assert r.cmd("AUTH PLAIN").startswith(b"+")
        assert r.cmd("=") == b"-ERR Malformed SASL PLAIN response"
        t0 = time.time()
        if i % 2:
            r.expect_ok("USER alice")
            e = r.cmd("PASS wrong-%d" % i, timeout=30 * SLOW)
        else:
            e = r.cmd("AUTH PLAIN " + plain_b64("alice", "wrong-%d" % i), timeout=30 * SLOW)
        if i < MAX_FAILURES:
            assert e == b"-ERR [AUTH] Invalid user name or password", "failure %d -> %r" % (i, e)
        else:
            # The last answer says why the connection closes (POP3 allows no
            # line after it).
            assert e == b"-ERR [AUTH] Invalid user name or password; too many failed logins, closing", \
                "failure %d -> %r" % (i, e)
        assert time.time() - t0 >= 0.2, "failure %d answered without the delay" % i
        if i < MAX_FAILURES:
            # Still open and in AUTHORIZATION state.
            r.expect_err("STAT")
            forget_delay_pop3(srv)
    rest, closed = r.read_until_eof(5 * SLOW)
    assert closed, "connection still open after %d failed logins" % MAX_FAILURES
    assert rest == b"", "bytes after the last failure's answer: %r" % rest
    # The address is not locked out: a right password works on a new connection.
    r = srv.raw()
    r.login("alice", srv.users["alice"])
    r.expect_ok("QUIT")
    assert_failure_log(srv, "pop3")


def test_imap_closed_at_fifth_failure(make_server):
    srv = start_imap(make_server, kinds=("plain",))
    r = IRaw(srv.iraw("plain"))
    for i in range(1, MAX_FAILURES + 1):
        r.send(b"c AUTHENTICATE PLAIN\r\n")
        assert r.readline().startswith(b"+")
        r.send(b"*\r\n")
        assert r.until("c")[1] == b"c BAD Authentication cancelled"
        assert r.cmd("AUTHENTICATE PLAIN =", tag="e")[1] == b"e BAD Malformed SASL PLAIN response"
        r.send(b"e AUTHENTICATE PLAIN\r\n")
        assert r.readline().startswith(b"+")
        r.send(b"=\r\n")
        assert r.until("e")[1] == b"e BAD Malformed SASL PLAIN response"
        t0 = time.time()
        if i % 2:
            u, t = r.cmd('LOGIN alice "wrong-%d"' % i, tag="f", timeout=30 * SLOW)
        else:
            u, t = r.cmd("AUTHENTICATE PLAIN " + plain_b64("alice", "wrong-%d" % i), tag="f",
                         timeout=30 * SLOW)
        assert t == b"f NO [AUTHENTICATIONFAILED] Invalid user name or password", \
            "failure %d -> %r" % (i, t)
        # The last failure says why the connection closes: BYE, then the
        # tagged reply (as LOGOUT does).
        assert u == ([b"* BYE Too many failed logins"] if i == MAX_FAILURES else []), \
            "failure %d: untagged %r" % (i, u)
        assert time.time() - t0 >= 0.2, "failure %d answered without the delay" % i
        if i < MAX_FAILURES:
            r.ok("NOOP")
            r.bad("SELECT INBOX")          # not logged in
            forget_delay_imap(srv)
    rest, closed = r.r.read_until_eof(5 * SLOW)
    assert closed, "connection still open after %d failed logins" % MAX_FAILURES
    assert rest == b"", "bytes after the last failure's answer: %r" % rest
    r = IRaw(srv.iraw("plain"))
    r.ok('LOGIN alice "%s"' % srv.users["alice"])
    r.close()
    assert_failure_log(srv, "imap")


def assert_failure_log(srv, proto):
    """The log names the protocol of each failed login and says why the
    connection was closed."""
    srv.stop()
    log = srv.log()
    failed = re.findall(r"INFO conn (\d+) 127\.0\.0\.1:\d+: auth failed: proto=%s rhost=127\.0\.0\.1 user=alice$" % proto, log, re.M)
    assert len(failed) == MAX_FAILURES and len(set(failed)) == 1, "failed-login lines:\n%s" % log[-3000:]
    assert re.search(r"INFO conn %s 127\.0\.0\.1:\d+: %s: %d failed logins, closing the connection"
                     % (failed[0], proto, MAX_FAILURES), log), log[-3000:]


def break_user(srv, name):
    """Add a users record the store cannot read (too short): store_auth of
    name then fails with a store error, not a wrong password. mdb_load writes
    beside the running daemon as another LMDB process would."""
    r = subprocess.run(["mdb_load", "-T", "-s", "users", str(srv.datadir)],
                       input=name.encode() + b"\nx\n", capture_output=True, timeout=30 * SLOW)
    assert r.returncode == 0, "mdb_load: %r" % r.stderr


def elf_bits(path):
    """32 or 64 for an ELF binary, else None."""
    with open(path, "rb") as f:
        head = f.read(5)
    return {1: 32, 2: 64}.get(head[4]) if head[:4] == b"\x7fELF" and len(head) == 5 else None


HOST_BITS = 64 if sys.maxsize > 2 ** 32 else 32
# A board's check runs its binary through a qemu-user wrapper script and
# says its word size (board/cross.mk); a binary run directly tells it itself.
BIN_BITS = int(os.environ.get("POSTNOOK_BITS") or 0) or elf_bits(BIN)


# LMDB's file format follows the word size: this machine's mdb_load cannot
# write into the store of a 32-bit board's binary run under qemu-user.
@pytest.mark.skipif(BIN_BITS not in (None, HOST_BITS),
                    reason="the store of a binary of another word size is not readable by this host's mdb_load")
def test_store_error_at_login(make_server):
    srv = start_imap(make_server, kinds=("plain",))
    break_user(srv, "broken")
    r = srv.raw()
    for _ in range(MAX_FAILURES + 1):
        r.expect_ok("USER broken")
        e = r.cmd("PASS anything")
        assert e == b"-ERR [SYS/TEMP] The mail store is not available; try again later", e
        e = r.cmd("AUTH PLAIN " + plain_b64("broken", "anything"))
        assert e == b"-ERR [SYS/TEMP] The mail store is not available; try again later", e
    # Not counted as failed logins: the session goes on and signs in.
    r.login("alice", srv.users["alice"])
    r.expect_ok("QUIT")

    m = IRaw(srv.iraw("plain"))
    for _ in range(MAX_FAILURES + 1):
        _, t = m.cmd('LOGIN broken "anything"', tag="a")
        assert t == b"a NO [UNAVAILABLE] The mail store is not available; try again later", t
        _, t = m.cmd("AUTHENTICATE PLAIN " + plain_b64("broken", "anything"), tag="b")
        assert t == b"b NO [UNAVAILABLE] The mail store is not available; try again later", t
    m.ok('LOGIN alice "%s"' % srv.users["alice"])
    m.ok("SELECT INBOX")
    m.close()

    time.sleep(0.2)
    srv.stop()
    log = srv.log()
    errors = re.findall(r"ERR conn \d+ 127\.0\.0\.1:\d+: store error at login: .*", log)
    assert len(errors) == 4 * (MAX_FAILURES + 1), "store errors logged:\n%s" % log[-3000:]
    assert "user=broken" not in log, "a store error logged as a failed login"
