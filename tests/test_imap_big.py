"""A 100,000-message mailbox (built by pipelined LITERAL+ APPENDs through
the group commit): SELECT, UID FETCH 1:* (FLAGS), SEARCH, and the memory
rule — a session with it selected costs at most 16 KiB more than an idle
logged-in one (the shared view is paid once). Also big writes: the RssAnon
peak of a 50 MB APPEND, and a group commit in which one part fails."""
import re
import threading
import time

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import SAN, SLOW, make_msg, proc_status, rss_kb

N = 100000


@pytest.mark.slow
def test_100k_mailbox(make_server):
    srv = start_imap(make_server, users=("alice",), kinds=("plain",), map_size="64M")
    r = ilogin(srv)
    t0 = time.time()
    batch = []
    for i in range(N):
        m = b"From: s%d@example.org\r\nSubject: message %d\r\n\r\nbody %d\r\n" % (i % 50, i, i)
        batch.append(b"a%d APPEND INBOX {%d+}\r\n%s\r\n" % (i, len(m), m))
        if len(batch) == 1000 or i == N - 1:
            r.send(b"".join(batch))
            batch = []
            _, t = r.until("a%d" % i, timeout=60 * SLOW)
            assert t.startswith(b"a%d OK" % i), t
    build = time.time() - t0

    sessions = [ilogin(srv) for _ in range(10)]
    idle = rss_kb(srv.pid)
    t0 = time.time()
    u, _ = sessions[0].ok("SELECT INBOX")
    select_s = time.time() - t0
    assert b"* %d EXISTS" % N in u
    first = rss_kb(srv.pid)
    for s in sessions[1:]:
        s.ok("SELECT INBOX")
    rest = rss_kb(srv.pid)
    per_session = (rest - first) / (len(sessions) - 1)
    assert per_session <= 16, "a session with %d messages selected costs %.1f kB" % (N, per_session)

    t0 = time.time()
    u, _ = sessions[1].ok("UID FETCH 1:* (FLAGS)")
    fetch_s = time.time() - t0
    assert len(u) == N and u[-1] == b"* %d FETCH (UID %d FLAGS ())" % (N, N)
    t0 = time.time()
    u, _ = sessions[2].ok("SEARCH FROM s7@example.org")
    search_s = time.time() - t0
    assert len(u[0].split()) - 2 == N // 50
    u, _ = sessions[3].ok("UID SEARCH UID 99990:*")
    assert u == [b"* SEARCH " + b" ".join(b"%d" % x for x in range(99990, N + 1))]
    sessions[4].ok("STORE 5 +FLAGS (\\Seen)")
    u, _ = sessions[5].ok("NOOP")
    assert u == [b"* 5 FETCH (UID 5 FLAGS (\\Seen))"]
    print("\n100k: build %.1fs, SELECT %.3fs, UID FETCH 1:* FLAGS %.2fs, SEARCH FROM %.2fs, "
          "shared view %d kB, per session %.1f kB" % (build, select_s, fetch_s, search_s, first - idle, per_session))
    for s in sessions:
        s.close()


def rss_anon_kb(pid):
    """RssAnon: the daemon's own heap and stacks. The map's pages (with
    MDB_WRITEMAP also the ones being written) are file pages, not counted."""
    v = proc_status(pid, "RssAnon")
    return int(v.split()[0]) if v else 0


class PeakSampler(threading.Thread):
    """Reads RssAnon every half millisecond until stopped; .peak is the most
    seen. VmHWM cannot stand in: it counts file pages too (the whole map
    once a blob is written through MDB_WRITEMAP)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_anon_kb(pid)
        self.samples = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.peak = max(self.peak, rss_anon_kb(self.pid))
            self.samples += 1
            time.sleep(0.0005)

    def stop(self):
        self.halt.set()
        self.join()
        return self.peak


@pytest.mark.slow
def test_append_50mb_peak(make_server):
    """A 50 MB APPEND raises the daemon's RssAnon by at most 2 MiB at its
    peak, commit included: the literal is spooled to a file and the commit
    writes it straight into the file-backed map (MDB_WRITEMAP), so no copy
    of the message is ever in the heap. The map starts at 1 MiB here, so the
    commit also grows it (1 MiB to 128 MiB) on the way."""
    srv = start_imap(make_server, users=("alice",), kinds=("plain",))
    body = b"Subject: fifty\r\n\r\n" + (b"z" * 1022 + b"\r\n") * (50 * 1024)
    m = srv.imap()
    m.select("INBOX")
    m.noop()
    idle = rss_anon_kb(srv.pid)
    sampler = PeakSampler(srv.pid)
    sampler.start()
    t0 = time.time()
    typ, d = m.append("INBOX", None, None, body)
    took = time.time() - t0
    peak = sampler.stop()
    after = rss_anon_kb(srv.pid)
    assert typ == "OK", d
    typ, d = m.fetch("1", "(RFC822.SIZE)")
    assert typ == "OK" and b"RFC822.SIZE %d" % len(body) in d[0], d
    m.logout()
    print("\n50 MB APPEND: RssAnon idle %d kB, peak +%d kB, after +%d kB, %d samples, %.2fs"
          % (idle, peak - idle, after - idle, sampler.samples, took))
    if not SAN:     # ASan's shadow memory and quarantine are anonymous too
        assert peak - idle <= 2048, "RssAnon peak +%d kB during a 50 MB APPEND" % (peak - idle)
        assert after - idle <= 512, "RssAnon +%d kB after a 50 MB APPEND" % (after - idle)


def test_group_commit_part_fails_alone(make_server):
    """The parts of one group commit share a txn without nesting: a part
    that fails (bob's COPY over quota) aborts the batch, which runs again
    without it, and every other session's write in that batch commits. A
    20 MB APPEND holds the loop in its commit while the other commands
    arrive, so they meet in the next batch."""
    srv = start_imap(make_server, users=("alice", "bob", "carol", "dave"), kinds=("plain",))
    for u in ("alice", "bob", "carol", "dave"):
        srv.deliver_ok(u, make_msg("m-" + u, body="x" * 1000 + "\n"))
    r = srv.user("quota", "bob", "1500")        # his message fits; a copy of it does not
    assert r.returncode == 0, r.stderr
    big = ilogin(srv, "alice")
    others = {u: ilogin(srv, u) for u in ("bob", "carol", "dave")}
    for s in others.values():
        s.ok("SELECT INBOX")
    body = b"Subject: big\r\n\r\n" + (b"q" * 1022 + b"\r\n") * (20 * 1024)
    big.send(b"b APPEND INBOX {%d+}\r\n%s\r\n" % (len(body), body))
    others["bob"].send(b"c COPY 1 Trash\r\n")
    others["carol"].send(b"s STORE 1 +FLAGS (\\Flagged)\r\n")
    others["dave"].send(b"m MOVE 1 Archive\r\n")
    _, t = big.until("b", timeout=60 * SLOW)
    assert t.startswith(b"b OK"), t
    _, t = others["bob"].until("c")
    assert t.startswith(b"c NO [OVERQUOTA]"), t
    u, t = others["carol"].until("s")
    assert t.startswith(b"s OK") and b"\\Flagged" in b"".join(u), (u, t)
    u, t = others["dave"].until("m")
    assert t.startswith(b"m OK") and b"[COPYUID" in b"".join(u), (u, t)
    u, _ = others["carol"].ok("FETCH 1 (FLAGS)")
    assert b"\\Flagged" in u[-1], u
    u, _ = others["dave"].ok("STATUS Archive (MESSAGES)")
    assert b"MESSAGES 1" in u[-1], u
    u, _ = others["bob"].ok("STATUS Trash (MESSAGES)")
    assert b"MESSAGES 0" in u[-1], u
    for s in [big] + list(others.values()):
        s.close()
