"""Crash safety with sync = full: deliveries in parallel while deliver
processes and the daemon are SIGKILLed at random. Afterwards every
acknowledged delivery is present exactly once, every acknowledged DELE is
applied, the store opens, and the counters agree with the maildrops."""
import os
import random
import re
import subprocess
import threading
import time

import pytest

from postnook_fixture import BIN, SAN, SLOW, make_msg, parse_size

USERS = ("alice", "bob", "carol")
N = 300 if SAN else 1000
PARALLEL = 8
DEADLINE = 90 * SLOW


def msg_for(i):
    rnd = random.Random(i)
    body = "".join("crash %d line %d %s\n" % (i, k, "x" * rnd.randint(0, 70))
                   for k in range(rnd.randint(1, 60)))
    return make_msg("crash-%d" % i, body=body, subject="crash %d" % i)


def collect(srv, user):
    """{message-id: count}, STAT, LIST sizes of a user's maildrop."""
    p = srv.pop_retry(user, wait=20 * SLOW)
    n, octets = p.stat()
    sizes = [int(l.split()[1]) for l in p.list()[1]]
    ids = {}
    for k in range(1, n + 1):
        for line in p.top(k, 0)[1]:
            m = re.match(rb"(?i)message-id:\s*<([^>]+)>", line)
            if m:
                ids[m.group(1).decode()] = ids.get(m.group(1).decode(), 0) + 1
    p.quit()
    return ids, (n, octets), sizes


@pytest.mark.slow
def test_crash_safety(make_server):
    srv = make_server(users=USERS + ("dave",), sync="full", listeners=("plain",),
                      map_size="1M", map_max="1G")
    # dave's mail is deleted over POP3 during the chaos
    for k in range(150):
        srv.deliver_ok("dave", make_msg("dave-%d" % k))
    srv.start()
    rng = random.Random(int(os.environ.get("POSTNOOK_CRASH_SEED", "4711")))
    lock = threading.Lock()
    running = {}
    results = {}
    stop = threading.Event()
    stats = {"deliver_kills": 0, "daemon_kills": 0, "dele_ok": 0, "start_fail": None}
    dele_confirmed, dele_maybe = set(), set()
    t_start = time.time()

    def deliver_all(worker):
        for i in range(worker, N, PARALLEL):
            if time.time() - t_start > DEADLINE:
                results[i] = ("deadline", b"")
                continue
            user = USERS[i % len(USERS)]
            p = subprocess.Popen([BIN, "deliver", "-c", str(srv.conf), user], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            with lock:
                running[i] = p
            try:
                _, err = p.communicate(msg_for(i), timeout=30 * SLOW)
                rc = p.returncode
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
                rc = "hung"
            except BrokenPipeError:
                p.wait()
                rc, err = p.returncode, b""
            with lock:
                del running[i]
            results[i] = (rc, err)

    def chaos():
        next_daemon_kill = time.time() + rng.uniform(0.2, 0.7)
        while not stop.is_set():
            # one kill per few delivery lifetimes: a sanitizer build lives SLOW times longer
            time.sleep(rng.uniform(0.002, 0.01) * SLOW)
            with lock:
                procs = list(running.values())
            if procs and rng.random() < 0.5:
                rng.choice(procs).kill()
                stats["deliver_kills"] += 1
            if time.time() > next_daemon_kill:
                srv.proc.kill()
                srv.proc.wait()
                stats["daemon_kills"] += 1
                try:
                    srv.start()
                except AssertionError as e:
                    stats["start_fail"] = str(e)
                    return
                next_daemon_kill = time.time() + rng.uniform(0.2, 0.7)

    def deleter():
        while not stop.is_set():
            try:
                p = srv.pop("dave", timeout=5 * SLOW)
            except Exception:
                time.sleep(0.05)
                continue
            mid = None
            try:
                if p.stat()[0] == 0:
                    p.quit()
                    return
                for line in p.top(1, 0)[1]:
                    m = re.match(rb"(?i)message-id:\s*<([^>]+)>", line)
                    if m:
                        mid = m.group(1).decode()
                p.dele(1)
                dele_maybe.add(mid)
                if p.quit().startswith(b"+OK"):
                    dele_confirmed.add(mid)
            except Exception:
                pass
            finally:
                try:
                    p.close()
                except Exception:
                    pass
            time.sleep(0.01)

    def reader():
        while not stop.is_set():
            try:
                p = srv.pop(rng.choice(USERS), timeout=5 * SLOW)
                p.stat()
                p.uidl()
                p.quit()
            except Exception:
                pass
            time.sleep(0.02)

    workers = [threading.Thread(target=deliver_all, args=(w,)) for w in range(PARALLEL)]
    helpers = [threading.Thread(target=f) for f in (chaos, deleter, reader)]
    for t in workers + helpers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    for t in helpers:
        t.join(30 * SLOW)
    elapsed = time.time() - t_start
    assert stats["start_fail"] is None, "the daemon did not come back after SIGKILL:\n" + stats["start_fail"]

    for i, (rc, err) in results.items():
        srv.cli_stderr.append(([BIN, "deliver", "-c", "crash-%d" % i], err.decode(errors="replace")))
    codes = {}
    for rc, _ in results.values():
        codes[rc] = codes.get(rc, 0) + 1
    stats["dele_ok"], stats["dele_unconfirmed"] = len(dele_confirmed), len(dele_maybe - dele_confirmed)
    print("crash test: %.1fs, exit codes %r, %r" % (elapsed, codes, stats))
    odd = {i: r for i, r in results.items() if r[0] not in (0, -9)}
    assert not odd, "deliveries that were neither stored nor killed: %s" % \
        {i: (rc, err[-200:]) for i, (rc, err) in list(odd.items())[:10]}
    assert codes.get(0, 0) > N // 3, "too few deliveries succeeded: %r" % codes

    # a clean start on whatever the last SIGKILL left
    srv.kill()
    srv.start()
    rows = srv.user_list()
    for u in USERS:
        ids, (n, octets), sizes = collect(srv, u)
        mine = [i for i in results if USERS[i % len(USERS)] == u]
        for i in mine:
            key = "crash-%d@postnook.test" % i
            got = ids.pop(key, 0)
            if results[i][0] == 0:
                assert got == 1, "%s: acknowledged delivery %d present %d times" % (u, i, got)
            else:
                assert got <= 1, "%s: killed delivery %d present %d times" % (u, i, got)
        assert not ids, "%s: unexpected messages %r" % (u, list(ids)[:5])
        assert sum(sizes) == octets, "%s: STAT says %d octets, LIST sizes sum to %d" % (u, octets, sum(sizes))
        assert rows[u]["messages"] == str(n), "%s: user list says %s messages, POP3 STAT %d" \
            % (u, rows[u]["messages"], n)
        used = parse_size(rows[u]["used"])
        assert used is not None and abs(used - octets) <= max(0.06 * octets, 1024), \
            "%s: user list USED %r vs %d octets" % (u, rows[u]["used"], octets)
    ids, (n, octets), sizes = collect(srv, "dave")
    for k in range(150):
        key = "dave-%d@postnook.test" % k
        c = ids.get(key, 0)
        if key in dele_confirmed:
            assert c == 0, "dave: DELE of %s was acknowledged (QUIT +OK) but it is still there" % key
        elif key not in dele_maybe:
            assert c == 1, "dave: %s never deleted but present %d times" % (key, c)
        else:
            assert c <= 1
    assert rows["dave"]["messages"] == str(n)
    assert srv.user("list").returncode == 0
    srv.assert_serving("bob")
