"""A 100,000-message mailbox (built by pipelined LITERAL+ APPENDs through
the group commit): SELECT, UID FETCH 1:* (FLAGS), SEARCH, and the memory
rule — a session with it selected costs at most 16 KiB more than an idle
logged-in one (the shared view is paid once)."""
import re
import time

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import SLOW, rss_kb

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
