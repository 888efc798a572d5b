"""IMAP input the parser must judge right (issue 14): modified UTF-7
mailbox names (RFC 3501 5.1.3), sequence sets normalised before they are
acted on (merged, de-duplicated, at most IMAP_SET_RANGES_MAX distinct
ranges), and command lines over the 8 KiB limit answered with their tag."""
import re

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import SLOW, make_msg


@pytest.fixture
def srv(make_server):
    return start_imap(make_server, kinds=("plain",))


# --- item 11: modified UTF-7 names ----------------------------------------

INVALID_NAMES = (
    "&AGE-",                # an encoded plain "a"
    "&AC8-",                # an encoded "/"
    "&AEkATgBCAE8AWA-",     # a fake INBOX
    "&AAA-",                # U+0000
    "&2AA-",                # a lone high surrogate
    "&3AA-",                # a lone low surrogate
    "&2D3YPQ-",             # a high surrogate followed by another high one
    "&,,,-",                # padding bits not zero
    "&AOQA-",               # 6 bits of padding: a half-encoded unit
    "x&AOQ",                # unterminated
    "&AOQ-&ACY-",           # an encoded "&" (it must be "&-")
)


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_modified_utf7_refused(srv, name):
    r = ilogin(srv)
    for cmd in ("CREATE", "SUBSCRIBE"):
        _, t = r.no('%s "%s"' % (cmd, name))
        assert b"[CANNOT]" in t, t
    r.ok('CREATE "Src"')
    _, t = r.no('RENAME "Src" "%s"' % name)
    assert b"[CANNOT]" in t, t
    u, _ = r.ok('LIST "" "*"')
    assert not any(name.encode() in l for l in u), u
    u, _ = r.ok('LSUB "" "*"')
    assert not any(name.encode() in l for l in u), u
    r.close()


def test_valid_modified_utf7_accepted(srv):
    r = ilogin(srv)
    # Japanese, a-umlaut, an emoji (a surrogate pair), "&" itself, mixed text
    good = ("&ZeVnLIqe-", "&AOQ-", "&2D3eAA-", "Tom &- Jerry", "Caf&AOk-/M&APw-nchen")
    for name in good:
        r.ok('CREATE "%s"' % name)
        r.ok('SUBSCRIBE "%s"' % name)
    u, _ = r.ok('LIST "" "*"')
    listed = {re.match(rb'\* LIST \([^)]*\) "/" "(.*)"$', l).group(1).decode() for l in u}
    assert set(good) <= listed, listed
    r.close()


# --- item 13: STATUS=SIZE -------------------------------------------------

def test_status_size_advertised_and_right(srv):
    r = ilogin(srv)
    u, _ = r.ok("CAPABILITY")
    assert b" STATUS=SIZE" in u[0], u
    msgs = [make_msg(i, body="x" * (100 * i) + "\n") for i in range(1, 4)]
    for m in msgs:
        srv.deliver_ok("alice", m)
    sizes = [len(m.replace(b"\n", b"\r\n")) for m in msgs]
    u, _ = r.ok("STATUS INBOX (SIZE MESSAGES)")
    assert u == [b'* STATUS "INBOX" (MESSAGES 3 SIZE %d)' % sum(sizes)], u
    # the same figure the messages' RFC822.SIZE add up to
    r.ok("SELECT INBOX")
    u, _ = r.ok("FETCH 1:* (RFC822.SIZE)")
    assert sum(int(re.search(rb"RFC822.SIZE (\d+)", l).group(1)) for l in u) == sum(sizes)
    r.ok("COPY 2:3 Archive")
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXPUNGE")
    r.ok("UNSELECT")
    u, _ = r.ok("STATUS INBOX (SIZE)")
    assert u == [b'* STATUS "INBOX" (SIZE %d)' % (sizes[1] + sizes[2])], u
    u, _ = r.ok("STATUS Archive (SIZE)")
    assert u == [b'* STATUS "Archive" (SIZE %d)' % (sizes[1] + sizes[2])], u
    u, _ = r.ok("STATUS Drafts (SIZE)")
    assert u == [b'* STATUS "Drafts" (SIZE 0)'], u
    r.close()


def test_status_size_before_login(srv):
    from imap_util import iraw
    r = iraw(srv)
    assert b" STATUS=SIZE" in r.r.greeting, r.r.greeting
    u, _ = r.ok("CAPABILITY")
    assert b" STATUS=SIZE" in u[0], u
    _, t = r.ok('LOGIN alice "%s"' % srv.users["alice"])
    assert b" STATUS=SIZE" in t, t
    r.close()


# --- item 10: sequence sets are normalised before they are acted on ---------

DUP = ",".join(["1:*"] * 2000)          # 8 KB of one range (the FETCH 1:*,1:*,...)


def fetch_seqs(u):
    return [int(re.match(rb"\* (\d+) FETCH", l).group(1)) for l in u if re.match(rb"\* \d+ FETCH", l)]


def five(srv):
    for i in range(5):
        srv.deliver_ok("alice", make_msg(i))
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    return r


def test_duplicate_set_fetch_once(srv):
    r = five(srv)
    u, _ = r.ok("FETCH %s (FLAGS)" % DUP)
    assert fetch_seqs(u) == [1, 2, 3, 4, 5], len(u)
    u, _ = r.ok("UID FETCH %s (FLAGS)" % DUP)
    assert fetch_seqs(u) == [1, 2, 3, 4, 5], len(u)
    # overlapping, reversed and out of order: each message once, in order
    u, _ = r.ok("FETCH 4:2,3,5,1:2,2:3,* (UID)")
    assert fetch_seqs(u) == [1, 2, 3, 4, 5], u
    u, _ = r.ok("UID FETCH 5,1,3:2,*:4 (UID)")
    assert fetch_seqs(u) == [1, 2, 3, 4, 5], u
    # '*' keeps its meaning: UID 9:* is UID 5 in a 5-message mailbox (UID
    # sets are lenient); sequence number 9 is beyond it: BAD, as Dovecot says
    u, _ = r.ok("UID FETCH 9:*,1 (UID)")
    assert fetch_seqs(u) == [1, 5], u
    _, t = r.bad("FETCH 9:*,1 (UID)")
    assert b"Invalid messageset" in t, t
    r.close()


def test_star_in_a_gap_of_the_set(srv):
    """'*' is the highest UID even when it falls between earlier ranges: UID 5 of
    1:3,7:9,20:* (20:* is 5:20) is fetched, searched, stored and copied, once."""
    r = five(srv)
    u, _ = r.ok("UID FETCH 1:3,7:9,20:* (UID)")
    assert fetch_seqs(u) == [1, 2, 3, 5], u
    u, _ = r.ok("UID FETCH 1:3,7:9,* (UID)")
    assert fetch_seqs(u) == [1, 2, 3, 5], u
    u, _ = r.ok("UID SEARCH UID 1:3,7:9,20:*")
    assert u == [b"* SEARCH 1 2 3 5"], u
    u, _ = r.ok("UID STORE 1,7:9,20:* +FLAGS (\\Flagged)")
    assert fetch_seqs(u) == [1, 5], u
    _, t = r.ok("UID COPY 2,7:9,20:* Archive")
    assert b"[COPYUID " in t and t.split(b"[COPYUID ")[1].split()[1] == b"2,5", t
    u, _ = r.ok("STATUS Archive (MESSAGES)")
    assert u == [b'* STATUS "Archive" (MESSAGES 2)'], u
    r.close()


def test_duplicate_set_store_search_once(srv):
    r = five(srv)
    u, _ = r.ok("STORE %s +FLAGS (\\Flagged)" % DUP)
    assert fetch_seqs(u) == [1, 2, 3, 4, 5], len(u)
    u, _ = r.ok("UID STORE %s -FLAGS (\\Flagged)" % DUP)
    assert fetch_seqs(u) == [1, 2, 3, 4, 5], len(u)
    u, _ = r.ok("SEARCH %s" % DUP)
    assert u == [b"* SEARCH 1 2 3 4 5"], u
    u, _ = r.ok("UID SEARCH UID %s" % DUP)
    assert u == [b"* SEARCH 1 2 3 4 5"], u
    r.close()


def test_duplicate_set_copy_move_once(srv):
    r = five(srv)
    _, t = r.ok("COPY %s Archive" % DUP)
    assert b"[COPYUID " in t and t.split(b"[COPYUID ")[1].split()[1:3] == [b"1:5", b"1:5]"], t
    u, _ = r.ok("STATUS Archive (MESSAGES)")
    assert u == [b'* STATUS "Archive" (MESSAGES 5)'], u
    r.ok("UID COPY %s Drafts" % DUP)
    u, _ = r.ok("STATUS Drafts (MESSAGES)")
    assert u == [b'* STATUS "Drafts" (MESSAGES 5)'], u
    r.ok("MOVE 2,2,2:3,3 Junk")
    u, _ = r.ok("STATUS Junk (MESSAGES)")
    assert u == [b'* STATUS "Junk" (MESSAGES 2)'], u
    r.ok("UID MOVE %s Trash" % DUP)
    u, _ = r.ok("STATUS Trash (MESSAGES)")
    assert u == [b'* STATUS "Trash" (MESSAGES 3)'], u
    u, _ = r.ok("NOOP")
    r.ok("UNSELECT")
    u, _ = r.ok("STATUS INBOX (MESSAGES)")
    assert u == [b'* STATUS "INBOX" (MESSAGES 0)'], u
    r.close()


def odd(n, start=1):
    """n distinct single-number ranges: 1,3,5,... (not adjacent, so none merge)."""
    return ",".join(str(start + 2 * i) for i in range(n))


def test_set_range_limit_boundary(srv):
    """IMAP_SET_RANGES_MAX (1024) distinct ranges once merged pass; 1025 get NO [LIMIT]."""
    r = five(srv)
    fits, over = odd(1024), odd(1025)
    # duplicates do not count: the 1024 distinct ranges backwards, some twice
    fits_twice = ",".join(reversed(fits.split(","))) + ",1,3,5,7,2047,1:1,3:3"
    for cmd in ("FETCH %s (UID)", "UID FETCH %s (UID)", "STORE %s +FLAGS.SILENT (\\Seen)",
                "UID STORE %s -FLAGS.SILENT (\\Seen)", "SEARCH %s", "UID SEARCH UID %s",
                "COPY %s Drafts", "UID COPY %s Drafts"):
        for s in (fits, fits_twice):
            if cmd.startswith(("UID ", "SEARCH")):
                r.ok(cmd % s)
            else:       # within the limit, but sequence numbers beyond the 5 messages
                _, t = r.bad(cmd % s)
                assert b"Invalid messageset" in t, (cmd, t)
        _, t = r.no(cmd % over)
        assert b"NO [LIMIT]" in t, (cmd, t)
    u, _ = r.ok("UID FETCH %s (UID)" % fits)
    assert fetch_seqs(u) == [1, 3, 5], u
    # the limit is on ranges, not numbers: adjacent ones merge
    r.ok("UID FETCH %s (UID)" % ",".join(str(i) for i in range(1, 1800)))
    _, t = r.no("MOVE %s Junk" % over)
    assert b"NO [LIMIT]" in t, t
    u, _ = r.ok("STATUS Drafts (MESSAGES)")
    r.ok("NOOP")
    r.close()


# --- item 8: over-long command lines are answered with their tag -----------

def toobig(line, tag=b"a1"):
    return line.startswith(tag + b" BAD [TOOBIG]") and b"too long" in line


@pytest.fixture
def srv2(make_server):
    return start_imap(make_server, kinds=("plain", "tls"))


@pytest.mark.parametrize("kind", ("plain", "tls"))
def test_long_id_answered_with_tag(srv2, kind):
    """A chatty client's 31 KB ID, before and after login: its tag, once, after the line."""
    from imap_util import iraw
    big = b'a1 ID (' + b" ".join(b'"k%d" "%s"' % (i, b"v" * 20) for i in range(1050)) + b")\r\n"
    assert len(big) > 30000
    r = iraw(srv2, kind)
    r.send(big)
    line = r.readline()
    assert toobig(line), line
    assert not r.pending(0.3), r.r.buf[:200]
    r.ok("NOOP")
    r.ok('LOGIN alice "%s"' % srv2.users["alice"])
    r.send(big.replace(b"a1 ", b"b7 ", 1))
    line = r.readline()
    assert toobig(line, b"b7"), line
    r.ok("SELECT INBOX")
    r.close()


def test_huge_uid_set_answered_with_tag(srv):
    r = five(srv)
    r.send(b"a1 UID FETCH " + b",".join(b"%d" % i for i in range(1, 4000, 2)) + b" (FLAGS)\r\n")
    line = r.readline()
    assert toobig(line), line
    assert not r.pending(0.3)
    u, _ = r.ok("FETCH 1 (UID)")
    assert fetch_seqs(u) == [1]
    r.close()


def test_long_line_with_literals(srv):
    r = ilogin(srv)
    pad = b"x" * 9000
    # a synchronizing literal at the end: no "+", the tagged BAD instead (the client sends nothing more)
    r.send(b"a1 SEARCH TEXT " + pad + b" {5}\r\n")
    line = r.readline()
    assert toobig(line), line
    r.ok("NOOP")
    # a non-synchronizing one is on its way: its bytes are dropped with the line, never run
    r.send(b"a2 SEARCH TEXT " + pad + b" {22+}\r\nzz LOGOUT\r\nzz LOGOUT\r\n rest of it\r\n")
    line = r.readline()
    assert toobig(line, b"a2"), line
    assert not r.pending(0.3), r.r.buf[:200]
    # again and again: a long rest after the literal, ending with another literal
    r.send(b"a3 X " + pad + b" {3+}\r\nabc" + pad + b" {0+}\r\n" + b" {4+}\r\nq\r\nq\r\n")
    line = r.readline()
    assert toobig(line, b"a3"), line
    assert not r.pending(0.3), r.r.buf[:200]
    u, _ = r.ok("NOOP")
    # over the limit after a literal was taken: the tag is still the command's start
    r.send(b"a5 SEARCH TEXT {5}\r\n")
    assert r.readline().startswith(b"+ ")
    r.send(b"hello TEXT " + pad + b"\r\n")
    line = r.readline()
    assert toobig(line, b"a5"), line
    r.ok("NOOP")
    # past LITERAL-'s limit, as for any command: BAD [TOOBIG] and the connection closes
    r.send(b"a4 NOOP " + pad + b" {5000+}\r\n" + b"y" * 5000 + b"\r\n")
    line = r.readline()
    assert line.startswith(b"a4 BAD [TOOBIG]") and b"Literal too large" in line, line
    data, closed = r.r.read_until_eof(5 * SLOW)
    assert closed
    assert srv.alive()


def test_long_line_without_a_tag(srv):
    r = ilogin(srv)
    r.send(b"t" * 100 + b" NOOP " + b"x" * 9000 + b"\r\n")        # a tag over 64 bytes
    line = r.readline()
    assert line.startswith(b"* BAD [TOOBIG]"), line
    r.send(b"x" * 9000 + b"\r\n")                                  # no tag, no space
    line = r.readline()
    assert line.startswith(b"* BAD [TOOBIG]"), line
    r.ok("NOOP")
    r.close()


def test_long_line_in_idle_authenticate_append(srv):
    r = five(srv)
    pad = b"x" * 9000
    # instead of DONE: IDLE's tag
    r.send(b"i1 IDLE\r\n")
    assert r.readline().startswith(b"+ ")
    r.send(b"DONE" + pad + b"\r\n")
    line = r.readline()
    assert toobig(line, b"i1"), line
    r.ok("NOOP")
    # the rest of an APPEND's line after its literal: APPEND's tag, nothing stored
    r.send(b"p1 APPEND INBOX {5+}\r\nhello" + pad + b"\r\n")
    line = r.readline()
    assert toobig(line, b"p1"), line
    u, _ = r.ok("STATUS Drafts (MESSAGES)")
    r.ok("NOOP")
    u, _ = r.ok("SEARCH ALL")
    assert u == [b"* SEARCH 1 2 3 4 5"], u
    r.close()
    # an AUTHENTICATE response over the limit: AUTHENTICATE's tag
    from imap_util import iraw
    r = iraw(srv)
    r.send(b"s1 AUTHENTICATE PLAIN\r\n")
    assert r.readline().startswith(b"+")
    r.send(b"A" * 10000 + b"\r\n")
    line = r.readline()
    assert toobig(line, b"s1"), line
    r.ok('LOGIN alice "%s"' % srv.users["alice"])
    r.close()


def test_pop3_long_line_err(make_server):
    """POP3 answers an over-long line with -ERR at once (as before) and goes on."""
    srv = make_server(users=("alice",), start=True, listeners=("plain",))
    r = srv.raw()
    r.send(b"USER " + b"a" * 31000 + b"\r\n")
    line = r.readline()
    assert line.startswith(b"-ERR") and b"too long" in line, line
    assert not r.pending(0.3), r.buf[:200]
    r.login("alice", srv.users["alice"])
    r.send(b"NOOP " + b"x" * 31000 + b" {5+}\r\n")
    assert r.readline().startswith(b"-ERR")
    r.expect_ok("STAT")
    r.close()


def test_line_limit_boundary(srv):
    """A command of 8192 bytes with its CRLF is taken; one byte more is BAD [TOOBIG], tagged."""
    r = ilogin(srv)
    head = b'a1 ID ("k" "'
    for extra, fits in ((0, True), (1, False)):
        n = 8192 + extra - len(head) - len(b'")\r\n')
        line = head + b"v" * n + b'")\r\n'
        assert len(line) == 8192 + extra
        r.send(line)
        u, t = r.until("a1")
        if fits:
            assert t == b"a1 OK ID completed" and u == [b'* ID ("name" "postnook" "vendor" "postnook")'], (u, t)
        else:
            assert u == [] and toobig(t), (u, t)
    r.ok("NOOP")
    r.close()
