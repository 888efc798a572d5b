"""Live sync: sessions on one mailbox see each other's changes (EXISTS,
FETCH FLAGS, EXPUNGE only where allowed); IDLE is told of changes by
another session, by `postnook deliver` in another process and by a POP3
QUIT, within a second."""
import re
import time

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import make_msg


@pytest.fixture
def srv(make_server):
    s = start_imap(make_server, kinds=("plain",))
    for i in range(1, 5):
        s.deliver_ok("alice", make_msg(i))
    return s


def idle_start(r):
    r.send(b"i IDLE\r\n")
    line = r.readline()
    assert line.startswith(b"+ "), line


def idle_wait(r, pattern, timeout=1.0):
    """Untagged lines until one matches pattern (within timeout seconds)."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            line = r.readline(max(0.05, deadline - time.time()))
        except TimeoutError:
            break
        got.append(line)
        if re.search(pattern, line):
            return got
    raise AssertionError("no %r within %ss; got %r" % (pattern, timeout, got))


def idle_done(r):
    r.send(b"DONE\r\n")
    u, t = r.until("i")
    assert t.startswith(b"i OK"), t
    return u


def test_two_sessions_flags_and_expunge(srv):
    a, b = ilogin(srv), ilogin(srv)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    a.ok("STORE 2 +FLAGS.SILENT (\\Seen)")
    u, _ = b.ok("NOOP")
    assert u == [b"* 2 FETCH (UID 2 FLAGS (\\Seen))"], u
    u, _ = a.ok("NOOP")
    assert u == [], "own change echoed: %r" % u
    a.ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    # b is not told of the expunge during FETCH (RFC 3501 7.4.1), but is during NOOP
    u, t = b.cmd("FETCH 1:4 (UID)")
    assert b"EXPUNGEISSUED" in t and len(u) == 3, (u, t)      # RFC 2180 4.1.1
    assert not any(b"EXPUNGE" in x for x in u), u
    u, _ = b.ok("SEARCH ALL")
    assert not any(b"EXPUNGE" in x for x in u), u
    u, _ = b.ok("NOOP")
    assert b"* 3 EXPUNGE" in u, u
    u, _ = b.ok("FETCH 1:* (UID)")
    assert [int(re.search(rb"UID (\d+)", x).group(1)) for x in u if b"UID" in x] == [1, 2, 4]
    # UID commands may be told
    a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    a.ok("EXPUNGE")
    u, _ = b.ok("UID FETCH 2 (FLAGS)")
    assert b"* 1 EXPUNGE" in u, u
    a.close(), b.close()


def test_new_mail_exists(srv):
    a, b = ilogin(srv), ilogin(srv)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    msg = b"Subject: x\r\n\r\nhi\r\n"
    a.send(b"a APPEND INBOX {%d+}\r\n%s\r\n" % (len(msg), msg))
    a.until("a")
    u, _ = b.ok("NOOP")
    assert b"* 5 EXISTS" in u and b"* 0 RECENT" in u, u     # \Recent went to a, the first told
    srv.deliver_ok("alice", make_msg(9))
    u, _ = a.ok("NOOP")
    assert b"* 6 EXISTS" in u, u
    a.close(), b.close()


def test_idle_sees_other_session(srv):
    a, b = ilogin(srv), ilogin(srv)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    idle_start(a)
    t0 = time.time()
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    idle_wait(a, rb"\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\)\)")    # a selected first
    b.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    idle_wait(a, rb"\* 2 EXPUNGE")
    b.ok("MOVE 1 Trash")
    idle_wait(a, rb"\* 1 EXPUNGE")
    assert time.time() - t0 < 3
    idle_done(a)
    a.ok("NOOP")
    a.close(), b.close()


def test_idle_push_from_deliver(srv):
    a = ilogin(srv)
    a.ok("SELECT INBOX")
    idle_start(a)
    t0 = time.time()
    srv.deliver_ok("alice", make_msg(42))
    idle_wait(a, rb"\* 5 EXISTS", timeout=1.0)
    assert time.time() - t0 < 1.5
    idle_done(a)
    a.close()


def test_idle_push_from_pop3_quit(srv):
    a = ilogin(srv)
    a.ok("SELECT INBOX")
    idle_start(a)
    p = srv.pop()
    p.dele(1)
    p.quit()
    idle_wait(a, rb"\* 1 EXPUNGE", timeout=1.0)
    idle_done(a)
    a.close()


def test_idle_done_and_bad(srv):
    a = ilogin(srv)
    a.ok("SELECT INBOX")
    idle_start(a)
    a.send(b"NOPE\r\n")
    u, t = a.until("i")
    assert t.startswith(b"i BAD")
    a.ok("NOOP")
    # IDLE in AUTH state works too
    a.ok("UNSELECT")
    idle_start(a)
    idle_done(a)
    a.close()


def test_three_sessions(srv):
    rs = [ilogin(srv) for _ in range(3)]
    for r in rs:
        r.ok("SELECT INBOX")
    rs[0].ok("STORE 4 +FLAGS.SILENT (\\Answered)")
    rs[1].ok("STORE 3 +FLAGS.SILENT (\\Deleted)")
    rs[1].ok("EXPUNGE")
    u, _ = rs[2].ok("NOOP")
    assert b"* 3 EXPUNGE" in u and b"* 3 FETCH (UID 4 FLAGS (\\Answered))" in u, u
    u, _ = rs[0].ok("NOOP")
    assert u == [b"* 3 EXPUNGE", b"* 3 RECENT"], u      # rs[0] selected first: the \Recent were its own
    for r in rs:
        u, _ = r.ok("FETCH 1:* (UID)")
        assert len(u) == 3
        r.close()


def test_deleted_mailbox_bye(srv):
    a, b = ilogin(srv), ilogin(srv)
    a.ok("CREATE Tmp")
    b.ok("SELECT Tmp")
    a.ok("DELETE Tmp")
    u, t = b.cmd("NOOP")
    assert any(x.startswith(b"* BYE") for x in u), (u, t)
    a.close(), b.close()


def test_thunderbird_like_two_devices(srv):
    """LIST, SELECT, UID FETCH of headers, BODY.PEEK of one part, STORE \\Seen,
    MOVE to Trash, IDLE — on two devices at once, each seeing the other."""
    hdrs = ("BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority "
            "References Newsgroups In-Reply-To Content-Type Reply-To)]")
    devs = [ilogin(srv), ilogin(srv)]
    for d in devs:
        u, _ = d.ok('LIST "" "*"')
        assert any(b"\\Trash" in x for x in u)
        d.ok("SELECT INBOX")
        u, _ = d.ok("UID FETCH 1:* (UID RFC822.SIZE FLAGS BODYSTRUCTURE %s)" % hdrs)
        assert sum(1 for x in u if b"BODYSTRUCTURE" in x) == 4
        assert all(b"Subject: Test message" in x for x in u if b"BODYSTRUCTURE" in x)
    phone, laptop = devs
    idle_start(laptop)
    u, _ = phone.ok("UID FETCH 2 (BODY.PEEK[1])")
    assert b"Hello, this is message 2." in u[0]
    phone.ok("UID STORE 2 +FLAGS.SILENT (\\Seen)")
    idle_wait(laptop, rb"\* 2 FETCH \(UID 2 FLAGS \(\\Seen\)\)")
    u, _ = phone.ok("UID MOVE 2 Trash")
    idle_wait(laptop, rb"\* 2 EXPUNGE")
    idle_done(laptop)
    u, _ = laptop.ok("UID FETCH 1:* (FLAGS)")
    assert [int(re.search(rb"UID (\d+)", x).group(1)) for x in u] == [1, 3, 4]
    u, _ = laptop.ok("STATUS Trash (MESSAGES)")
    assert b"MESSAGES 1" in u[0]
    for d in devs:
        d.close()


def test_flag_ring_overflow(srv):
    """A session more than 256 flag changes behind is sent every message's flags."""
    a, b = ilogin(srv), ilogin(srv)
    batch = b""
    for i in range(296):
        msg = b"Subject: r%d\r\n\r\nx\r\n" % i
        batch += b"p%d APPEND INBOX {%d+}\r\n%s\r\n" % (i, len(msg), msg)
    a.send(batch)
    a.until("p295")
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    a.send(b"".join(b"s%d STORE %d +FLAGS.SILENT (\\Flagged)\r\n" % (i, i) for i in range(1, 301)))
    a.until("s300")
    u, _ = b.ok("NOOP")
    flagged = {int(re.search(rb"UID (\d+)", x).group(1)) for x in u if b"\\Flagged" in x}
    assert flagged == set(range(1, 301)), len(flagged)
    a.close(), b.close()


# --- \Recent (RFC 3501 2.3.2): one session per message, kept across restarts ---

def recent_uids(r):
    """UIDs that FETCH FLAGS shows \\Recent in r's selected mailbox."""
    u, _ = r.ok("FETCH 1:* (UID FLAGS)")
    return [int(re.search(rb"UID (\d+)", x).group(1)) for x in u if b"\\Recent" in x]


def recent_count(u):
    return int(re.search(rb"\* (\d+) RECENT", b"\n".join(u)).group(1))


def test_recent_claimed_by_one_session(srv):
    """Mail delivered while no session had the mailbox selected is \\Recent in
    the next SELECT and only there; EXAMINE and STATUS report, never claim."""
    a, b = ilogin(srv), ilogin(srv)
    u, _ = a.ok("STATUS INBOX (RECENT)")
    assert u == [b'* STATUS "INBOX" (RECENT 4)'], u
    u, _ = a.ok("EXAMINE INBOX")
    assert recent_count(u) == 4 and recent_uids(a) == [1, 2, 3, 4]
    u, _ = b.ok("EXAMINE INBOX")                  # EXAMINE did not claim them
    assert recent_count(u) == 4
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 4 and recent_uids(a) == [1, 2, 3, 4]
    u, _ = a.ok("SEARCH RECENT")
    assert u == [b"* SEARCH 1 2 3 4"], u
    u, _ = b.ok("SELECT INBOX")                   # another session: not recent any more
    assert recent_count(u) == 0 and recent_uids(b) == []
    u, _ = b.ok("SEARCH NEW")
    assert u == [b"* SEARCH"], u
    u, _ = b.ok("STATUS INBOX (RECENT)")
    assert u == [b'* STATUS "INBOX" (RECENT 0)'], u
    assert recent_uids(a) == [1, 2, 3, 4]         # a keeps them for its session
    # new mail with both selected: \Recent in the first session told only
    srv.deliver_ok("alice", make_msg(5))
    u, _ = b.ok("NOOP")
    assert b"* 5 EXISTS" in u and recent_count(u) == 1, u
    u, _ = a.ok("NOOP")
    assert b"* 5 EXISTS" in u and recent_count(u) == 4, u
    assert recent_uids(b) == [5] and recent_uids(a) == [1, 2, 3, 4]
    # a session told while read-only shows it without claiming it
    c = ilogin(srv)
    c.ok("EXAMINE INBOX")
    srv.deliver_ok("alice", make_msg(6))
    u, _ = c.ok("NOOP")
    assert b"* 6 EXISTS" in u and recent_count(u) == 1, u
    u, _ = a.ok("NOOP")
    assert recent_count(u) == 5 and recent_uids(a) == [1, 2, 3, 4, 6]
    # reselecting: the session's recent messages were claimed by its earlier self
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 0 and recent_uids(a) == []
    a.close(), b.close(), c.close()


def test_recent_across_restart(srv):
    """The claim is persistent: after a restart (SIGTERM) messages claimed
    before are not \\Recent, messages never claimed still are."""
    a = ilogin(srv)
    u, _ = a.ok("EXAMINE INBOX")
    assert recent_count(u) == 4
    a.close()
    srv.restart()
    a = ilogin(srv)
    u, _ = a.ok("SELECT INBOX")                   # EXAMINE claimed nothing
    assert recent_count(u) == 4
    a.close()
    srv.deliver_ok("alice", make_msg(5))
    srv.restart()
    a = ilogin(srv)
    u, _ = a.ok("STATUS INBOX (RECENT MESSAGES)")
    assert u == [b'* STATUS "INBOX" (MESSAGES 5 RECENT 1)'], u
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 1 and recent_uids(a) == [5]
    a.close()
    srv.restart()
    a = ilogin(srv)
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 0
    a.close()


def test_recent_written_without_shutdown(srv):
    """The claim reaches the store within IMAP_RECENT_FLUSH_MS, and when the
    view is dropped, without a clean shutdown (SIGKILL)."""
    a = ilogin(srv)
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 4
    time.sleep(2.5)
    srv.kill()
    srv.start()
    a = ilogin(srv)
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 0
    srv.deliver_ok("alice", make_msg(5))
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 1
    for box in ("Sent", "Drafts", "Trash", "Junk", "Archive"):   # INBOX's view is dropped
        a.ok("SELECT " + box)
    srv.kill()
    srv.start()
    a = ilogin(srv)
    u, _ = a.ok("SELECT INBOX")
    assert recent_count(u) == 0
    a.close()
