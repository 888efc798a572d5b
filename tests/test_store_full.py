"""A full store can still be emptied (issue 10, items 1 and 2).

LMDB copies every page it changes, so even a deletion needs free pages. The
store keeps a reserve (README, "The store full") that new mail (deliver,
APPEND) may not use; deletions may. So a store that refuses new mail still
lets every deletion path through: IMAP STORE + EXPUNGE, MOVE to Trash then
EXPUNGE, POP3 DELE + QUIT, `postnook user del`, the web page's delete. The
refusals say what a person needs to know: `NO [LIMIT] ... the mail store is
full`, deliver exits 75 with the same words. After space is freed the next
write succeeds without a restart.

The disk-full half mounts a small tmpfs on the data directory (needs root;
skipped with the reason otherwise): the map then grows by what the file
system can give, not only by doubling.
"""
import os
import re
import shutil
import subprocess

import pytest

from imap_util import ilogin
from postnook_fixture import EX_TEMPFAIL, make_msg

BODY = ("0123456789abcdef" * 4 + "\n") * 900            # about 60 KB
FULL = b"the mail store is full"


def fill(srv, user, tag="fill"):
    """Deliver messages of 60 KB, then 8 KB, 1 KB and 100 bytes, each size
    until the store refuses it: the store is then full to the brim.
    Returns how many went in."""
    stored = 0
    for size, body in ((60, BODY), (8, BODY[:8000]), (1, BODY[:1000]), (0, "x\n")):
        for i in range(400):
            r = srv.deliver(user, make_msg("%s%d-%d" % (tag, size, i), body=body))
            if r.returncode:
                assert r.returncode == EX_TEMPFAIL, (r.returncode, r.stderr)
                assert FULL in r.stderr, r.stderr
                break
            stored += 1
        else:
            pytest.fail("400 deliveries of %d KB did not fill the store" % size)
    return stored


def append_no(s, tag="app"):
    """APPEND into a full store: a clean NO that says the store is full."""
    msg = make_msg(tag, body=BODY)
    u, t = s.cmd(b"APPEND INBOX {%d+}\r\n" % len(msg) + msg)
    assert t.split()[1] == b"NO" and (b"[LIMIT]" in t or b"[OVERQUOTA]" in t), t
    assert FULL in t and b"SERVERBUG" not in t, t


def count(s, box):
    u, t = s.ok("STATUS %s (MESSAGES)" % box)
    st = [x for x in u if x.startswith(b"* STATUS ")]
    assert st, (u, t)
    return int(st[-1].rsplit(b"MESSAGES ", 1)[1].split(b")")[0])


def test_full_store_every_deletion_path(make_server):
    srv = make_server(users=("alice", "bob"), map_size="1M", map_max="3M", imap=("plain",),
                      listeners=("plain",), start=True)
    for i in range(150):        # many small messages: an EXPUNGE of them all touches many pages
        srv.deliver_ok("alice", make_msg("small%d" % i, body=BODY[:1000]))
    n = 150 + fill(srv, "alice")
    assert n >= 170, n
    s = ilogin(srv)
    append_no(s)
    s.ok("SELECT INBOX")
    u, t = s.no("COPY 1:10 Trash")      # COPY adds records: new mail, as far as the reserve goes
    assert b"[LIMIT]" in t and FULL in t, t

    # IMAP: STORE \Deleted on all, EXPUNGE all in one command
    s.ok("SELECT INBOX")
    s.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    s.ok("EXPUNGE")
    assert count(s, "INBOX") == 0
    msg = make_msg("after-expunge-append", body=BODY)
    u, t = s.cmd(b"APPEND INBOX {%d+}\r\n" % len(msg) + msg)        # the running daemon: no restart needed
    assert t.split()[1] == b"OK", t
    srv.deliver_ok("alice", make_msg("after-expunge", body=BODY))

    # IMAP: MOVE everything to Trash, then empty the Trash
    fill(srv, "alice", "fill2-")
    append_no(s, "app2")
    s.ok("SELECT INBOX")
    s.ok("MOVE 1:* Trash")
    s.ok("SELECT Trash")
    s.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    s.ok("EXPUNGE")
    assert count(s, "Trash") == 0 and count(s, "INBOX") == 0
    s.ok("LOGOUT")
    srv.deliver_ok("alice", make_msg("after-move", body=BODY))

    # POP3: DELE every message, QUIT
    fill(srv, "alice", "fill3-")
    p = srv.pop("alice")
    total = p.stat()[0]
    for i in range(1, total + 1):
        p.dele(i)
    assert p.quit().startswith(b"+OK"), "POP3 QUIT on a full store"
    p = srv.pop("alice")
    assert p.stat()[0] == 0
    p.quit()
    srv.deliver_ok("alice", make_msg("after-pop", body=BODY))

    # postnook user del of a user who filled the store
    fill(srv, "bob")
    r = srv.user("del", "bob")
    assert r.returncode == 0, r.stderr
    assert "bob" not in srv.user_list()
    srv.deliver_ok("alice", make_msg("after-userdel", body=BODY))
    srv.assert_serving("alice")


def test_full_store_web_page_delete(make_server):
    from test_cgi_direct import CGI, cgi, sign_in
    if not os.path.exists(CGI):
        pytest.skip("no postnook.cgi link next to the binary")
    srv = make_server(users=("alice", "bob"), map_size="1M", map_max="8M", start=True)
    ck, tok = sign_in(srv)
    st, head, page = cgi(srv, "/overview", cookie=ck)
    level = re.search(r"<strong>(\d+) % full</strong>: ([^<]*) used of 8 MB", page)
    assert level and int(level.group(1)) < 50, page[-3000:]
    assert "The mail store is" not in page
    fill(srv, "bob")
    st, head, page = cgi(srv, "/overview", cookie=ck)
    level = re.search(r"<strong>(\d+) % full</strong>", page)
    assert level and int(level.group(1)) >= 90, page[-3000:]
    assert "The mail store is %s %% full." % level.group(1) in page
    st, head, page = cgi(srv, "/users", "POST", {"csrf": tok, "action": "del", "user": "bob", "confirm": "yes"},
                         cookie=ck)
    assert st == 200, (st, page[-2000:])
    assert "bob" not in srv.user_list()
    srv.deliver_ok("alice", make_msg("after-web", body=BODY))
    st, head, page = cgi(srv, "/overview", cookie=ck)
    level = re.search(r"<strong>(\d+) % full</strong>", page)
    assert level and int(level.group(1)) < 50 and "The mail store is" not in page, page[-3000:]


def need_tmpfs():
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs on the data directory needs root")
    if not shutil.which("mount"):
        pytest.skip("no mount(8)")


@pytest.fixture
def small_disk(make_server):
    """A server whose data directory is a 10 MiB tmpfs (map_max 1G: the disk is the limit)."""
    need_tmpfs()
    srv = make_server(users=("alice",), map_size="1M", map_max="1G", imap=("plain",), listeners=("plain",))
    d = str(srv.datadir)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=10m,mode=0700", "tmpfs", d], capture_output=True)
    if r.returncode:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.decode(errors="replace").strip())
    srv.add_user("alice")
    yield srv
    srv.stop()
    subprocess.run(["umount", "-l", d])


def test_full_disk_delete_after_restart_and_recover(small_disk):
    srv = small_disk
    spare = srv.datadir / "spare"
    spare.write_bytes(b"x" * (3 * 1024 * 1024))    # 3 MiB taken outside the store
    n = fill(srv, "alice")
    assert n >= 10, n
    # even after a restart (the map is opened at the file's size) deletions work
    srv.start()
    srv.restart()
    s = ilogin(srv)
    append_no(s)
    s.ok("SELECT INBOX")
    s.ok("STORE 1:%d +FLAGS.SILENT (\\Deleted)" % (n // 2))
    s.ok("EXPUNGE")
    assert count(s, "INBOX") == n - n // 2
    p = srv.pop("alice")
    for i in range(1, p.stat()[0] + 1):
        p.dele(i)
    assert p.quit().startswith(b"+OK")
    # full again, then 3 MiB freed outside the store: the next APPEND to
    # the running daemon succeeds, and so do deliveries beyond the old size
    m = fill(srv, "alice", "again")
    append_no(s, "app2")
    spare.unlink()
    msg = make_msg("freed", body=BODY)
    u, t = s.cmd(b"APPEND INBOX {%d+}\r\n" % len(msg) + msg)
    assert t.split()[1] == b"OK", t
    more = fill(srv, "alice", "more")
    assert more >= 30, "freeing 3 MiB outside the store let only %d more messages in" % more
    assert count(s, "INBOX") == m + 1 + more
    s.ok("LOGOUT")


def test_user_del_in_chunks(make_server):
    """`user del` removes a user's messages a chunk (256) per transaction,
    then the user: 600 messages in two mailboxes go, the other user stays."""
    srv = make_server(users=("alice", "bob"), imap=("plain",), listeners=("plain",), start=True)
    for i in range(600):
        srv.deliver_ok("bob", make_msg("m%d" % i, body="hello %d\n" % i))
    s = ilogin(srv, "bob")
    s.ok("SELECT INBOX")
    s.ok("COPY 1:300 Trash")
    s.ok("LOGOUT")
    srv.deliver_ok("alice", make_msg("keep", body="stays\n"))
    r = srv.user("del", "bob")
    assert r.returncode == 0, r.stderr
    users = srv.user_list()
    assert "bob" not in users and "alice" in users
    srv.add_user("bob")
    s = ilogin(srv, "bob")
    assert count(s, "INBOX") == 0 and count(s, "Trash") == 0
    s.ok("LOGOUT")
    p = srv.pop("alice")
    assert p.stat()[0] == 1
    p.quit()


def test_concurrent_appends_leave_the_reserve(make_server):
    """APPENDs of several sessions committed in one group commit each count
    the others' bytes against the reserve: the store may refuse some, and
    afterwards a large EXPUNGE still works."""
    srv = make_server(users=("alice",), map_size="1M", map_max="3M", imap=("plain",), listeners=("plain",),
                      start=True)
    fill(srv, "alice")
    p = srv.pop("alice")
    for i in range(1, 21):                  # about 1.2 MB freed
        p.dele(i)
    assert p.quit().startswith(b"+OK")
    big = make_msg("big", body=BODY * 4)    # about 240 KB each, 8 of them: more than is free
    sessions = [ilogin(srv) for _ in range(8)]
    for s in sessions:
        s.r.send(b"a1 APPEND INBOX {%d+}\r\n" % len(big) + big + b"\r\n")
    for s in sessions:
        u, t = s.until("a1")
        assert t.split()[1] == b"OK" or (b"[LIMIT]" in t and FULL in t), t
    s = sessions[0]
    s.ok("SELECT INBOX")
    s.ok("STORE 1:* +FLAGS.SILENT (\\Deleted)")
    s.ok("EXPUNGE")
    assert count(s, "INBOX") == 0
    for s in sessions:
        s.close()
    srv.deliver_ok("alice", make_msg("after", body=BODY))
