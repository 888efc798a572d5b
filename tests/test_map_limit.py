"""The store's map limit: a full map gives clean, temporary errors.

LMDB keeps the whole store in one memory map, so the map's size bounds the
store. On 32-bit boards (openwrt-mipsel, nas-armhf) the address space bounds
the map: config parsing refuses more than 1G there. `make check BOARD=...`
runs this file against the cross-built binary under qemu-user with
POSTNOOK_BITS=32 set from the board's board.mk.
"""
import os
import poplib

import pytest

from postnook_fixture import EX_TEMPFAIL, make_msg

BITS = os.environ.get("POSTNOOK_BITS")          # "32" or "64"; unset: not known


def test_daemon_reports_map_limit(make_server):
    srv = make_server(users=("alice",), map_size="1M", map_max="2M", start=True)
    log = srv.log()
    assert "grows up to map_max = 2 MiB" in log, log[-2000:]
    if BITS == "32":
        assert "a 32-bit system allows at most 1024 MiB" in log, log[-2000:]


@pytest.mark.skipif(BITS != "32", reason="the 1G map cap applies to 32-bit builds")
def test_32bit_map_cap_in_config(make_server):
    srv = make_server(users=(), map_max="2G")
    r = srv.user("list")
    assert r.returncode != 0, r.stdout
    assert b"map_max must be a size between 1M and 1G on a 32-bit system" in r.stderr, r.stderr
    srv.opts["map_max"] = "1G"
    srv.write_config()
    r = srv.user("list")        # the config is taken: there is just no store yet
    assert r.returncode == 1 and b"no store in" in r.stderr, r.stderr


def test_full_map_clean_errors(make_server):
    """Fill a 2 MiB map to its maximum: deliver exits 75 (temporary) with a
    clear message, nothing already stored is damaged, POP3 still serves the
    mailbox, and deleting mail makes room again."""
    srv = make_server(users=("alice",), map_size="1M", map_max="2M")
    body = ("0123456789abcdef" * 4 + "\n") * 900           # about 60 KB
    codes, stderr = [], b""
    for i in range(80):
        r = srv.deliver("alice", make_msg("fill%d" % i, body=body))
        codes.append(r.returncode)
        if r.returncode != 0:
            stderr = r.stderr
            break
    stored = codes.count(0)
    assert codes[-1] == EX_TEMPFAIL, "deliveries into a 2M map: exits %r (want 0... then 75)" % codes
    assert stored >= 16, "the map did not grow from 1M to 2M: only %d messages stored" % stored
    assert b"the mail store is full" in stderr, stderr

    srv.start()
    p = srv.pop("alice")
    count, _ = p.stat()
    assert count == stored
    lines = p.retr(count)[1]
    assert b"Message-ID: <fill%d@postnook.test>" % (count - 1) in lines
    assert lines[-1] == b"0123456789abcdef" * 4
    for i in range(1, count + 1):
        p.dele(i)
    try:
        reply = p.quit()
        assert reply.startswith(b"+OK"), reply
        deleted = True
    except poplib.error_proto as e:
        # A delete needs a few free pages too; when even those are gone the
        # messages are kept and the client is told to retry later.
        assert e.args[0].startswith(b"-ERR [SYS/TEMP]"), e.args[0]
        deleted = False
    srv.assert_serving("alice")
    p = srv.pop_retry("alice")
    assert p.stat()[0] == (0 if deleted else count)
    p.quit()
    if deleted:
        # the freed pages are usable at once (test_emptied_map_takes_big_mail)
        srv.deliver_ok("alice", make_msg("after", body=body))
        srv.deliver_ok("alice", make_msg("small", body="hello\n"))


def test_emptied_map_takes_big_mail(make_server):
    """A map full at map_max, then emptied (POP3 DELE + QUIT): a big delivery
    succeeds at once. LMDB reuses a page freed by a transaction only after a
    later one has committed; a write that finds the map full at map_max
    commits a tiny write first and tries once more."""
    srv = make_server(users=("alice",), map_size="1M", map_max="2M")
    body = ("0123456789abcdef" * 4 + "\n") * 900           # about 60 KB
    for i in range(80):
        r = srv.deliver("alice", make_msg("fill%d" % i, body=body))
        if r.returncode != 0:
            assert r.returncode == EX_TEMPFAIL and b"the mail store is full" in r.stderr, r
            break
    else:
        pytest.fail("80 deliveries of 60 KB fit in a 2 MiB map")
    srv.start()
    p = srv.pop("alice")
    count, _ = p.stat()
    assert count >= 16
    for i in range(1, count + 1):
        p.dele(i)
    reply = p.quit()
    assert reply.startswith(b"+OK"), reply
    big = make_msg("big", body=body * 12)                 # about 720 KB
    r = srv.deliver("alice", big)
    assert r.returncode == 0, "deliver into the emptied map: exit %d %r" % (r.returncode, r.stderr)
    srv.assert_serving("alice")
    p = srv.pop_retry("alice")
    assert p.stat()[0] == 1
    p.quit()
