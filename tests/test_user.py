"""`postnook user`: add, del, passwd, list, quota; exit codes 0/1/2."""
import os
import poplib
import sys

import pytest

from postnook_fixture import make_msg, parse_size


def test_add_list_del(make_server):
    srv = make_server(users=())
    srv.add_user("alice")
    srv.add_user("bob.smith-2_x")
    rows = srv.user_list()
    assert set(rows) == {"alice", "bob.smith-2_x"}, rows
    assert rows["alice"]["messages"] == "0"
    r = srv.user("del", "bob.smith-2_x")
    assert r.returncode == 0, r.stderr
    assert set(srv.user_list()) == {"alice"}
    srv.start()
    srv.assert_serving("alice")


def test_add_duplicate_and_bad_names(make_server):
    srv = make_server(users=("alice",))
    r = srv.user("add", "alice", input="x\n")
    assert r.returncode == 1 and r.stderr, "duplicate add: exit %d %r" % (r.returncode, r.stderr)
    for bad in ("Bad Name", "../etc", "a/b", "", "x" * 65, "caf\u00e9"):
        r = srv.user("add", bad, input="pw-123456\n")
        assert r.returncode in (1, 2) and r.returncode != 0, "add %r: exit %d" % (bad, r.returncode)
    assert set(srv.user_list()) == {"alice"}


def test_usage_errors(make_server):
    srv = make_server(users=())
    for args in ([], ["frobnicate"], ["add"], ["del"], ["quota", "alice"], ["add", "a", "--quota"],
                 ["add", "a", "--bogus-option"]):
        r = srv.user(*args, input="pw\n")
        assert r.returncode == 2, "user %s: exit %d (want 2, usage)" % (" ".join(args), r.returncode)


def test_del_and_passwd_unknown_user(make_server):
    srv = make_server(users=())
    assert srv.user("del", "ghost").returncode == 1
    assert srv.user("passwd", "ghost", input="x\n").returncode == 1
    assert srv.user("quota", "ghost", "1M").returncode == 1


def test_passwd(server):
    r = server.user("passwd", "alice", input="New-Secret-Otter-55\n")
    assert r.returncode == 0, r.stderr
    with pytest.raises(poplib.error_proto):
        server.pop("alice")
    p = server.pop("alice", password="New-Secret-Otter-55")
    p.quit()


def test_password_first_line_only(make_server):
    srv = make_server(users=())
    r = srv.user("add", "dave", input="first-line-pw\nsecond-line\n")
    assert r.returncode == 0
    srv.start()
    srv.pop("dave", password="first-line-pw").quit()


def test_empty_password_refused(make_server):
    srv = make_server(users=())
    r = srv.user("add", "erin", input="\n")
    assert r.returncode == 1, "an empty password was accepted"


def test_del_removes_mail_and_login(server):
    server.deliver_ok("bob", make_msg("bye"))
    assert server.user("del", "bob").returncode == 0
    with pytest.raises(poplib.error_proto):
        server.pop("bob")
    assert server.deliver("bob", make_msg("again")).returncode == 67
    server.add_user("bob", "Bob-Reborn-77")
    p = server.pop("bob", password="Bob-Reborn-77")
    assert p.stat() == (0, 0), "a re-created user sees the old user's mail"
    p.quit()


def test_quota_set_and_list(server):
    assert server.user("quota", "alice", "10K").returncode == 0
    rows = server.user_list()
    assert parse_size(rows["alice"]["quota"]) == 10240, rows["alice"]["line"]
    for none in ("0", "none"):
        assert server.user("quota", "alice", none).returncode == 0
        q = server.user_list()["alice"]["quota"]
        assert q.lower() in ("none", "-", "unlimited", "0"), "unlimited quota shown as %r" % q
    assert server.user("quota", "alice", "lots").returncode != 0


def test_list_usage_columns(server):
    msgs = [make_msg("u%d" % i, body="z" * 3000) for i in range(3)]
    for m in msgs:
        server.deliver_ok("alice", m)
    server.user("quota", "alice", "100K")
    row = server.user_list()["alice"]
    assert row["messages"] == "3", row["line"]
    p = server.pop("alice")
    n, octets = p.stat()
    p.quit()
    used = parse_size(row["used"])
    assert used is not None and abs(used - octets) <= max(0.06 * octets, 1024), \
        "USED %r vs %d octets in the maildrop" % (row["used"], octets)
    pct = row["use"].rstrip("%")
    assert pct.replace(".", "").isdigit() and abs(float(pct) - 100.0 * octets / 102400) < 1.5, row["line"]


def test_cli_while_daemon_runs(server):
    server.add_user("carol")
    p = server.pop("carol")
    p.quit()
    assert server.user("passwd", "carol", input="Carol-New-42\n").returncode == 0
    server.pop("carol", password="Carol-New-42").quit()
    assert server.user("del", "carol").returncode == 0
    with pytest.raises(poplib.error_proto):
        server.pop("carol", password="Carol-New-42")


def test_del_user_with_open_session(server):
    server.deliver_ok("bob", make_msg("open"))
    r = server.raw_login("bob")
    assert server.user("del", "bob").returncode == 0
    # the session may fail its commands but the daemon must survive
    r.send("RETR 1\r\nDELE 1\r\nQUIT\r\n")
    r.drain(1.0, 10)
    r.close()
    server.assert_serving("alice")


def test_no_store_read_only_faces(make_server):
    """`user list` (and every face but `user add` / `admin passwd`) on a data
    directory without a store says so and creates nothing."""
    srv = make_server(users=())
    gone = srv.dir / "nowhere"
    for datadir in (gone, srv.datadir):         # missing, and present but empty
        srv.opts["datadir"] = str(datadir)
        srv.write_config()
        for args in (("user", "list"), ("user", "del", "alice"), ("user", "quota", "alice", "1M"),
                     ("admin", "status")):
            r = srv.run(*args)
            assert r.returncode == 1, "%s without a store: exit %d %r" % (args, r.returncode, r.stderr)
            assert ("no store in %s" % datadir).encode() in r.stderr, (args, r.stderr)
        assert not gone.exists(), "a read-only face created the data directory"
        assert list(srv.datadir.iterdir()) == [], "a read-only face created %r" % list(srv.datadir.iterdir())
    srv.add_user("alice")                       # add still makes the first store
    assert set(srv.user_list()) == {"alice"}


def meta_user_keys(srv):
    """The store's per-user meta keys (subscriptions "sub/", the defaults mark
    "subdef/", keyword lists "kw/"), read with lmdb-utils' mdb_dump."""
    import subprocess
    out = subprocess.run(["mdb_dump", "-p", "-s", "meta", str(srv.datadir)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True).stdout.decode(errors="replace")
    lines = out.split("HEADER=END\n", 1)[1].splitlines()
    keys = [l[1:] for l in lines[0::2] if l.startswith(" ")]
    return {k for k in keys if k.startswith(("sub/", "subdef/", "kw/"))}


# LMDB's file format follows the word size: this host's mdb_dump cannot read
# the store of a board's 32-bit binary (run under qemu; board/cross.mk sets POSTNOOK_BITS).
HOST_BITS = 64 if sys.maxsize > 2 ** 32 else 32


@pytest.mark.skipif(int(os.environ.get("POSTNOOK_BITS") or 0) not in (0, HOST_BITS),
                    reason="the store of a binary of another word size is not readable by this host's mdb_dump")
def test_del_removes_meta_records(make_server):
    """`user del` takes the user's subscriptions, defaults mark and keyword
    lists with it: the meta keys are those from before the user existed."""
    import shutil
    if not shutil.which("mdb_dump"):
        pytest.skip("lmdb-utils is not installed (tests/tools/deps.sh test)")
    from imap_util import ilogin
    srv = make_server(users=("alice",), start=True, imap=("plain",), listeners=("plain",))
    r = ilogin(srv, "alice")
    r.ok("SUBSCRIBE INBOX")
    r.close()
    before = meta_user_keys(srv)
    srv.add_user("bob")
    srv.deliver_ok("bob", make_msg("kw"))
    r = ilogin(srv, "bob")
    r.ok("CREATE Work")
    r.ok("SUBSCRIBE Work")
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS (Todo $Label1)")
    r.close()
    during = meta_user_keys(srv)
    assert len(during - before) >= 3, "bob left no sub/, subdef/, kw/ keys to test with: %r" % (during - before)
    assert srv.user("del", "bob").returncode == 0
    left = meta_user_keys(srv) - before
    assert left == set(), "records of the deleted user left behind: %r" % sorted(left)
