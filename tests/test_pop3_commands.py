"""POP3 TRANSACTION and UPDATE states (RFC 1939): STAT, LIST, RETR, DELE,
NOOP, RSET, TOP, UIDL, QUIT; sizes, dot-stuffing, deletion semantics, UIDL
stability."""
import poplib
import re
import socket
import time

import pytest

from postnook_fixture import SLOW, crlf, make_msg


def fill(server, user="alice", n=3, **kw):
    msgs = []
    for i in range(n):
        m = make_msg("%s-%d-%d" % (user, i, time.monotonic_ns()), **kw)
        server.deliver_ok(user, m)
        msgs.append(m)
    return msgs


def lines_of(msg):
    """What poplib.retr returns: the stored lines without CRLF."""
    data = crlf(msg)
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def test_stat_list_sizes(server):
    msgs = fill(server, n=3)
    msgs.append(make_msg("big", body="x" * 70 + "\n" * 1 + ("line\n" * 500)))
    server.deliver_ok("alice", msgs[-1])
    p = server.pop()
    sizes = [len(crlf(m)) for m in msgs]
    assert p.stat() == (4, sum(sizes))
    resp, listing, _ = p.list()
    assert resp.startswith(b"+OK")
    got = [tuple(map(int, l.split())) for l in listing]
    assert got == [(i + 1, s) for i, s in enumerate(sizes)], "LIST %r, want sizes %r" % (got, sizes)
    for i, s in enumerate(sizes):
        r = p.list(i + 1)
        assert r.split() == [b"+OK", str(i + 1).encode(), str(s).encode()], "LIST %d -> %r" % (i + 1, r)
    p.quit()


def test_retr_exact_and_crlf(server):
    msg = make_msg("crlf", body="one\ntwo\n\nfour after blank\n")
    server.deliver_ok("alice", msg)
    p = server.pop()
    resp, lines, octets = p.retr(1)
    assert resp.startswith(b"+OK")
    assert lines == lines_of(msg)
    p.quit()


def test_retr_dot_stuffing(server):
    body = ".starts with a dot\n..two dots\n.\nmiddle\n. space\nend.\n"
    msg = make_msg("dots", body=body)
    server.deliver_ok("alice", msg)
    p = server.pop()
    _, lines, _ = p.retr(1)
    assert lines == lines_of(msg), "RETR did not round-trip dot lines"
    p.quit()
    r = server.raw_login()
    assert r.cmd("RETR 1").startswith(b"+OK")
    raw = r.multiline(raw=True)
    assert b"..starts with a dot" in raw and b"...two dots" in raw and b".." in raw, \
        "RETR not dot-stuffed: %r" % raw[-8:]
    r.expect_ok("QUIT")


def test_retr_large_message(server):
    body = "".join("line %06d %s\n" % (i, "abcdefghij" * 7) for i in range(40000))  # ~3.3 MB
    msg = make_msg("large", body=body)
    server.deliver_ok("alice", msg)
    p = server.pop()
    assert p.list(1).split()[2] == str(len(crlf(msg))).encode()
    _, lines, _ = p.retr(1)
    assert lines == lines_of(msg)
    p.quit()


def test_retr_large_message_over_tls(server):
    body = "".join(".dot line %06d %s\n" % (i, "0123456789" * 7) for i in range(20000))
    msg = make_msg("large-tls", body=body)
    server.deliver_ok("alice", msg)
    for kind in ("tls", "starttls"):
        p = server.pop(kind=kind)
        _, lines, _ = p.retr(1)
        assert lines == lines_of(msg), "RETR over %s corrupted the message" % kind
        p.quit()


def test_top(server):
    body = "".join("body line %d\n" % i for i in range(1, 11))
    msg = make_msg("top", body=body)
    server.deliver_ok("alice", msg)
    all_lines = lines_of(msg)
    sep = all_lines.index(b"")
    p = server.pop()
    resp, lines, _ = p.top(1, 0)
    assert resp.startswith(b"+OK")
    assert lines == all_lines[:sep + 1], "TOP 1 0 -> %r" % lines
    _, lines, _ = p.top(1, 3)
    assert lines == all_lines[:sep + 4], "TOP 1 3 -> %r" % lines
    _, lines, _ = p.top(1, 1000)
    assert lines == all_lines, "TOP 1 1000 must give the whole message"
    for bad in ("TOP 2 0", "TOP 0 1", "TOP 1", "TOP 1 x", "TOP 1 -1"):
        with pytest.raises(poplib.error_proto):
            p._shortcmd(bad)
    p.quit()


def test_noop_and_no_such_message(server):
    fill(server, n=2)
    p = server.pop()
    assert p.noop().startswith(b"+OK")
    for c in ("RETR 3", "RETR 0", "LIST 3", "LIST 0", "DELE 3", "UIDL 3", "RETR", "DELE", "RETR abc",
              "RETR 99999999999999999999", "LIST -1"):
        with pytest.raises(poplib.error_proto):
            p._shortcmd(c)
    assert p.stat()[0] == 2
    p.quit()


def test_dele_rset_semantics(server):
    msgs = fill(server, n=3)
    sizes = [len(crlf(m)) for m in msgs]
    p = server.pop()
    assert p.dele(2).startswith(b"+OK")
    assert p.stat() == (2, sizes[0] + sizes[2]), "STAT counts a deleted message"
    with pytest.raises(poplib.error_proto):
        p.retr(2)
    with pytest.raises(poplib.error_proto):
        p.list(2)
    with pytest.raises(poplib.error_proto):
        p.dele(2)
    with pytest.raises(poplib.error_proto):
        p.top(2, 0)
    with pytest.raises(poplib.error_proto):
        p.uidl(2)
    _, listing, _ = p.list()
    assert [int(l.split()[0]) for l in listing] == [1, 3], "LIST shows a deleted message: %r" % listing
    _, ulist, _ = p.uidl()
    assert [int(l.split()[0]) for l in ulist] == [1, 3], "UIDL shows a deleted message: %r" % ulist
    # message numbers do not change
    _, lines, _ = p.retr(3)
    assert lines == lines_of(msgs[2])
    assert p.rset().startswith(b"+OK")
    assert p.stat() == (3, sum(sizes))
    _, lines, _ = p.retr(2)
    assert lines == lines_of(msgs[1])
    p.quit()
    p = server.pop()
    assert p.stat() == (3, sum(sizes)), "RSET did not undelete"
    p.quit()


def test_dele_applied_at_quit(server):
    msgs = fill(server, n=3)
    p = server.pop()
    uidls = p.uidl()[1]
    p.dele(1)
    p.dele(3)
    assert p.quit().startswith(b"+OK")
    p = server.pop_retry()
    assert p.stat() == (1, len(crlf(msgs[1])))
    _, lines, _ = p.retr(1)
    assert lines == lines_of(msgs[1])
    assert p.uidl(1).split()[2] == uidls[1].split()[1], "UIDL of the survivor changed"
    p.quit()


def test_drop_without_quit_deletes_nothing(server):
    fill(server, n=2)
    r = server.raw_login()
    r.expect_ok("DELE 1")
    r.expect_ok("DELE 2")
    r.sock.shutdown(socket.SHUT_RDWR)
    r.close()
    p = server.pop_retry()
    assert p.stat()[0] == 2, "messages deleted although the client never sent QUIT"
    p.quit()


def test_sigterm_deletes_nothing(server):
    fill(server, n=2)
    r = server.raw_login()
    r.expect_ok("DELE 1")
    server.stop()
    server.start()
    p = server.pop()
    assert p.stat()[0] == 2, "SIGTERM applied a pending DELE"
    p.quit()


def test_quit_in_authorization(server):
    r = server.raw()
    r.expect_ok("QUIT")
    data, closed = r.read_until_eof(5 * SLOW)
    assert closed and data == b""


def uidl_map(p):
    _, lines, _ = p.uidl()
    out = {}
    for l in lines:
        n, u = l.split()
        out[int(n)] = u
    return out


def test_uidl_unique_valid_and_stable(server):
    fill(server, n=5)
    p = server.pop()
    m = uidl_map(p)
    assert sorted(m) == [1, 2, 3, 4, 5]
    assert len(set(m.values())) == 5, "UIDLs not unique: %r" % m
    for u in m.values():
        assert 1 <= len(u) <= 70 and re.fullmatch(rb"[\x21-\x7e]+", u), "bad unique-id %r" % u
    for n, u in m.items():
        r = p.uidl(n).split()
        assert r[0] == b"+OK" and r[1] == str(n).encode() and r[2] == u, "UIDL %d -> %r" % (n, r)
    p.quit()
    p = server.pop_retry()
    assert uidl_map(p) == m, "UIDLs changed between sessions"
    p.quit()
    server.restart()
    p = server.pop()
    assert uidl_map(p) == m, "UIDLs changed across a daemon restart"
    p.quit()


def test_uidl_never_reused(server):
    fill(server, n=3)
    p = server.pop()
    seen = set(uidl_map(p).values())
    p.dele(3)      # the newest: a store that reuses UIDs would hand its id out again
    p.dele(2)
    p.quit()
    for round_ in range(2):
        server.deliver_ok("alice", make_msg("new-%d" % round_))
        p = server.pop_retry()
        m = uidl_map(p)
        newest = m[max(m)]
        assert newest not in seen, "a new message got a UIDL seen before: %r" % newest
        seen |= set(m.values())
        p.dele(max(m))
        p.quit()
    server.restart()
    server.deliver_ok("alice", make_msg("after-restart"))
    p = server.pop()
    m = uidl_map(p)
    assert m[max(m)] not in seen, "UIDL reused after restart"
    p.quit()


def test_snapshot_new_mail_not_in_session(server):
    fill(server, n=1)
    p = server.pop()
    assert p.stat()[0] == 1
    server.deliver_ok("alice", make_msg("during-session"))
    assert p.stat()[0] == 1, "the maildrop changed under a session (RFC 1939: it is locked)"
    p.quit()
    p = server.pop_retry()
    assert p.stat()[0] == 2
    p.quit()


def test_users_are_separate(server):
    fill(server, "alice", n=2)
    fill(server, "bob", n=1)
    a = server.pop("alice")
    b = server.pop("bob")
    assert a.stat()[0] == 2 and b.stat()[0] == 1
    a.quit()
    b.quit()
