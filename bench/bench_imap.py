#!/usr/bin/python3
"""postnook IMAP benchmark, side by side with Dovecot (same machine, same run).

    /usr/bin/python3 bench/bench_imap.py /abs/path/build/postnook [options]

Measures, for postnook and for a private Dovecot instance (dovecot-imapd,
never the system service), with the infrastructure of bench.py (corpus,
process-tree RssAnon, server classes, table):
  idle     RssAnon per IDLE connection (logged in, INBOX selected, IDLE sent
           and "+ idling" read), plain and TLS, 100 and 1,000 connections;
  fetch    FETCH 1:* BODY.PEEK[] throughput of the 200-message corpus over
           one session, plain and TLS;
  select   SELECT and UID FETCH 1:* (FLAGS) latency on a 100,000-message INBOX;
  search   SEARCH TEXT on a 10,000-message INBOX (a word present in 5);
  append   APPEND of 2 KB messages over one connection, messages/s (one at a
           time, waiting for each OK; and pipelined with LITERAL+).
Prints the table and appends it to bench/out/last.txt (replacing an earlier
IMAP table there). Standard library only. A part that fails prints "n/a"
with the reason; the rest goes on. --only/--skip take part names (idle,
fetch, select, search, append) and/or server names (postnook, dovecot).
"""

import argparse
import os
import random
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B                      # noqa: E402
from bench import NA, log, HOST, USER, PASSWORD, SOCK_TIMEOUT   # noqa: E402

PARTS = ("idle", "fetch", "select", "search", "append")
SERVERS = ("postnook", "dovecot")

# Targets from issue 3.
T_IDLE_PLAIN_KIB = 8.0
T_IDLE_TLS_KIB = 28.0
T_FETCH_PLAIN_RATIO = 1.5
T_FETCH_TLS_RATIO = 3.0
T_SELECT_RATIO = 1.0

BIG_USER = "big"          # the 100,000-message INBOX
SRCH_USER = "srch"        # the 10,000-message INBOX for SEARCH TEXT
NEEDLE = "Quetzalcoatl"   # in SEARCH_HITS messages of srch's INBOX
SEARCH_HITS = 5
LONG_TIMEOUT = 120.0      # SELECT/SEARCH on big mailboxes, set-up APPENDs
SECTION_MARK = "=== postnook IMAP bench"


# ---------------------------------------------------------------- messages

def _pool(seed, n, nbytes):
    rng = random.Random(seed)
    return [B._text(rng, nbytes) for _ in range(n)]


def big_msgs(n):
    """n small (~1 KB) text messages, LF line ends, distinct headers, bodies
    from a pool of 64."""
    pool = _pool(100000, 64, 700)
    for i in range(1, n + 1):
        yield (B._headers(i, "Mailbox filler", "Content-Type: text/plain; charset=us-ascii\n")
               + "\n" + pool[i % 64]).encode("ascii")


def search_hits(n):
    """The indexes (1-based) of the messages that carry NEEDLE."""
    return sorted({max(1, (n * k) // (SEARCH_HITS + 1) + 7) for k in range(1, SEARCH_HITS + 1)})


def search_msgs(n):
    """n ~2 KB text messages; NEEDLE (mixed case; searched in lower case) in
    the body of SEARCH_HITS of them."""
    pool = _pool(10000, 64, 1700)
    hits = set(search_hits(n))
    for i in range(1, n + 1):
        body = pool[i % 64]
        if i in hits:
            cut = body.index("\n", len(body) // 2) + 1
            body = body[:cut] + "see the %s file attached yesterday\n" % NEEDLE + body[cut:]
        yield (B._headers(i, "Search note", "Content-Type: text/plain; charset=us-ascii\n")
               + "\n" + body).encode("ascii")


def crlf(m):
    return m.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# ---------------------------------------------------------------- IMAP client

class Imap:
    """A minimal IMAP client over a socket: tagged commands, literal-aware
    response counting, fast scanning of long responses without literals."""

    def __init__(self, port, ctx=None, timeout=SOCK_TIMEOUT):
        s = socket.create_connection((HOST, port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx is not None:
            try:
                s = ctx.wrap_socket(s, server_hostname="localhost")
            except Exception:
                s.close()
                raise
        self.s = s
        self.buf = b""
        self.n = 0
        self.scratch = None
        self.greeting = self.line()
        if not self.greeting.startswith(b"* OK"):
            raise NA("greeting %r" % self.greeting[:80])

    def _recv(self, what):
        try:
            d = self.s.recv(262144)
        except (socket.timeout, TimeoutError):
            raise NA("stalled: no data for %.0f s %s" % (self.s.gettimeout(), what))
        if not d:
            raise NA("connection closed by server %s" % what)
        return d

    def line(self):
        while b"\r\n" not in self.buf:
            self.buf += self._recv("(waiting for a line after %r)" % self.buf[:60])
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def tag(self):
        self.n += 1
        return b"a%d" % self.n

    def send(self, data):
        self.s.sendall(data)

    def cmd(self, text, timeout=None):
        """Send one command (no literal); return (tagged line, untagged lines).
        Raises NA unless the tagged response is OK."""
        t = self.tag()
        if timeout:
            self.s.settimeout(timeout)
        self.send(t + b" " + text.encode() + b"\r\n")
        unt = []
        while True:
            ln = self.line()
            if ln.startswith(t + b" "):
                break
            unt.append(ln)
        if timeout:
            self.s.settimeout(SOCK_TIMEOUT)
        if not ln[len(t) + 1:].startswith(b"OK"):
            raise NA("%s -> %r" % (text.split()[0] if not text.startswith("UID") else " ".join(text.split()[:2]),
                                   ln[:120]))
        return ln, unt

    def cmd_scan(self, text, timeout=None):
        """Send one command whose response holds no literal; read it by
        scanning for the tagged line (C-speed, no per-line Python work).
        Returns (tagged line, response bytes, untagged line count)."""
        t = self.tag()
        if timeout:
            self.s.settimeout(timeout)
        self.send(t + b" " + text.encode() + b"\r\n")
        mark = b"\r\n" + t + b" "
        # Lines are counted by LF (no literal, so every LF ends a line; a
        # CRLF split between two reads is still counted once).
        first, self.buf = self.buf, b""
        nbytes, nlf = len(first), first.count(b"\n")
        window = b"\r\n" + first          # the previous response ended with CRLF
        while True:
            p = window.find(mark)
            if p >= 0:
                rest = window[p + 2:]
                while b"\r\n" not in rest:
                    d = self._recv("inside the tagged response line")
                    rest += d
                    nbytes += len(d)
                    nlf += d.count(b"\n")
                ln, left = rest.split(b"\r\n", 1)
                nbytes -= len(left)
                nlf -= left.count(b"\n")
                self.buf = left
                break
            window = window[-(len(mark) - 1):]
            d = self._recv("after %d bytes of the response to %s" % (nbytes, text.split()[0]))
            nbytes += len(d)
            nlf += d.count(b"\n")
            window += d
        nlines = nlf - 1
        if timeout:
            self.s.settimeout(SOCK_TIMEOUT)
        if not ln[len(t) + 1:].startswith(b"OK"):
            raise NA("%s -> %r" % (text[:40], ln[:120]))
        return ln, nbytes, nlines

    def cmd_literals(self, text):
        """Send one command whose response carries literals (FETCH BODY[]);
        returns (tagged line, response bytes, literal count)."""
        t = self.tag()
        self.send(t + b" " + text.encode() + b"\r\n")
        nbytes, nlit = 0, 0
        if self.scratch is None:
            self.scratch = bytearray(1 << 20)
        mv = memoryview(self.scratch)
        while True:
            ln = self.line()
            nbytes += len(ln) + 2
            if ln.startswith(t + b" "):
                break
            while ln.endswith(b"}") and b"{" in ln:
                k = int(ln[ln.rindex(b"{") + 1:-1].rstrip(b"+"))
                nlit += 1
                nbytes += k
                take = min(k, len(self.buf))
                self.buf = self.buf[take:]
                k -= take
                while k > 0:
                    try:
                        got = self.s.recv_into(mv, min(k, len(mv)))
                    except (socket.timeout, TimeoutError):
                        raise NA("stalled: no data for %.0f s inside a literal, %d bytes into the response"
                                 % (self.s.gettimeout(), nbytes - k))
                    if got == 0:
                        raise NA("connection closed inside a literal")
                    k -= got
                ln = self.line()           # the rest of the FETCH line
                nbytes += len(ln) + 2
        if not ln[len(t) + 1:].startswith(b"OK"):
            raise NA("%s -> %r" % (text[:40], ln[:120]))
        return ln, nbytes, nlit

    def login(self, user=USER, pw=PASSWORD):
        self.cmd('LOGIN "%s" "%s"' % (user, pw))

    def idle(self):
        t = self.tag()
        self.send(t + b" IDLE\r\n")
        while True:
            ln = self.line()
            if ln.startswith(b"+"):
                return ln
            if ln.startswith(t + b" "):
                raise NA("IDLE -> %r" % ln[:100])

    def done(self):
        t = b"a%d" % self.n
        self.send(b"DONE\r\n")
        while True:
            ln = self.line()
            if ln.startswith(t + b" "):
                if not ln[len(t) + 1:].startswith(b"OK"):
                    raise NA("IDLE/DONE -> %r" % ln[:100])
                return ln

    def append_one(self, mbox, msg, plus, retries=5):
        """APPEND one message, waiting for its tagged OK. A NO [UNAVAILABLE]
        ("busy, try again") is retried up to `retries` times and counted in
        self.busy."""
        for attempt in range(retries + 1):
            t = self.tag()
            if plus:
                self.send(b"%s APPEND %s {%d+}\r\n%s\r\n" % (t, mbox.encode(), len(msg), msg))
            else:
                self.send(b"%s APPEND %s {%d}\r\n" % (t, mbox.encode(), len(msg)))
                while True:
                    ln = self.line()
                    if ln.startswith(b"+"):
                        break
                    if ln.startswith(t + b" "):
                        raise NA("APPEND -> %r" % ln[:100])
                self.send(msg + b"\r\n")
            while True:
                ln = self.line()
                if ln.startswith(t + b" "):
                    break
            st = ln[len(t) + 1:]
            if st.startswith(b"OK"):
                return ln
            if not st.startswith(b"NO [UNAVAILABLE]") or attempt == retries:
                raise NA("APPEND -> %r%s" % (ln[:100], " (after %d retries)" % attempt if attempt else ""))
            self.busy = getattr(self, "busy", 0) + 1

    def append_pipelined(self, mbox, msgs, window=64, timeout=LONG_TIMEOUT, retry=None):
        """APPEND every message of the iterable with LITERAL+, up to window
        commands in flight (the client reads while the server answers, so
        neither side blocks on a full socket buffer). Returns the count of
        OKs. With a retry list, messages refused with NO [UNAVAILABLE] (a
        busy store) go to that list instead of failing the run."""
        self.s.settimeout(timeout)
        pending = []
        count = 0
        mb = mbox.encode()

        def reap():
            t, m = pending.pop(0)
            while True:
                ln = self.line()
                if ln.startswith(t + b" "):
                    st = ln[len(t) + 1:]
                    if st.startswith(b"OK"):
                        return 1
                    if retry is not None and st.startswith(b"NO [UNAVAILABLE]"):
                        retry.append(m)
                        return 0
                    raise NA("pipelined APPEND -> %r" % ln[:100])

        out = []
        for m in msgs:
            t = self.tag()
            out.append(b"%s APPEND %s {%d+}\r\n%s\r\n" % (t, mb, len(m), m))
            pending.append((t, m if retry is not None else None))
            if len(out) >= window // 2:
                self.send(b"".join(out))
                out = []
                while len(pending) > window // 2:
                    count += reap()
        if out:
            self.send(b"".join(out))
        while pending:
            count += reap()
        self.s.settimeout(SOCK_TIMEOUT)
        return count

    def logout(self):
        try:
            self.send(b"z LOGOUT\r\n")
            self.s.settimeout(3)
            while not self.line().startswith(b"z "):
                pass
        except Exception:
            pass
        self.close()

    def close(self, rst=False):
        try:
            if rst:
                self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.s.close()
        except Exception:
            pass

    def cipher(self):
        if isinstance(self.s, ssl.SSLSocket):
            c = self.s.cipher()
            return "%s %s" % (c[1], c[0]) if c else "?"
        return "plain"


# ---------------------------------------------------------------- servers

class PostnookImap(B.Postnook):
    proto = "imap"

    def populate(self, boxes, conns=8):
        """boxes: {user: iterable of LF messages}. Adds the users and fills
        their INBOXes with pipelined LITERAL+ APPENDs over `conns`
        connections per user (the order of the messages in the mailbox is
        not kept), through a set-up daemon run with a copy of the config with
        sync = off (set-up speed only; measurements use sync = full).
        `postnook deliver` (one process per message) would take minutes for
        100,000 messages. A waker connection sends a NOOP every 0.5 ms: the
        daemon, once every APPEND session waits for a group commit, may sleep
        in poll until its next timer (a stall of up to 2 s per APPEND seen in
        Nov 2026); the NOOPs wake it. Returns {user: seconds}."""
        conf = self.conf + ".setup"
        with open(self.conf) as f, open(conf, "w") as g:
            g.write(f.read().replace("sync = full", "sync = off"))
        for u in boxes:
            self.run(["user", "-c", conf, "add", u], stdin=(PASSWORD + "\n").encode())
        main_conf, self.conf = self.conf, conf
        times = {}
        stop = threading.Event()

        def waker():
            try:
                w = Imap(self.plain_port)
                while not stop.is_set():
                    w.send(b"w NOOP\r\n")
                    w.s.recv(65536)
                    time.sleep(0.0005)
                w.close()
            except (NA, OSError):
                pass

        try:
            self.start()
            wt = threading.Thread(target=waker, daemon=True)
            wt.start()
            for u, msgs in boxes.items():
                t0 = time.monotonic()
                lock = threading.Lock()
                it = iter(msgs)
                errors = []

                def feed():
                    while True:
                        with lock:
                            m = next(it, None)
                        if m is None:
                            return
                        yield crlf(m)

                def worker():
                    try:
                        c = Imap(self.plain_port, timeout=LONG_TIMEOUT)
                        try:
                            c.login(u)
                            again = []
                            c.append_pipelined("INBOX", feed(), retry=again)
                            for _ in range(20):       # NO [UNAVAILABLE]: the store was busy
                                if not again:
                                    break
                                time.sleep(0.2)
                                msgs2, again[:] = list(again), []
                                c.append_pipelined("INBOX", iter(msgs2), retry=again)
                            if again:
                                raise NA("%d APPENDs still refused as busy after 20 retries" % len(again))
                        finally:
                            c.logout()
                    except (NA, OSError) as e:
                        errors.append(e)

                ths = [threading.Thread(target=worker, daemon=True) for _ in range(conns)]
                for t in ths:
                    t.start()
                for t in ths:
                    t.join()
                if errors:
                    times[u] = NA("filling %s's INBOX: %s" % (u, errors[0]))
                else:
                    times[u] = time.monotonic() - t0
        finally:
            stop.set()
            self.stop()
            self.conf = main_conf
        return times


class DovecotImap(B.Dovecot):
    proto = "imap"

    def __init__(self, tmp, login_mode):
        B.Dovecot.__init__(self, tmp, login_mode)
        self.users = []

    def _maildir(self, u, msgs):
        """Write u's Maildir directly (LF line ends, S= and W= sizes, in
        cur/ with no flags) as bench.py does for the corpus."""
        md = os.path.join(self.dir, "home", u, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub), exist_ok=True)
        t = int(time.time()) - 200000
        cur = os.path.join(md, "cur")
        pid = os.getpid()
        for i, m in enumerate(msgs):
            fn = "%d.M%dP%d.bench,S=%d,W=%d:2," % (t + i, i, pid, len(m), len(m) + m.count(b"\n"))
            p = os.path.join(cur, fn)
            with open(p, "wb") as f:
                f.write(m)
            os.utime(p, (t + i, t + i))
        self.chown_tree(os.path.join(self.dir, "home", u))

    def _passwd(self):
        with open(self.dir + "/passwd.new", "w") as f:
            f.write("".join("%s:{PLAIN}%s::::::\n" % (u, PASSWORD) for u in [USER] + self.users))
        os.rename(self.dir + "/passwd.new", self.dir + "/passwd")

    def add_users(self, names, msg):
        for u in names:
            self._maildir(u, [msg])
        self.users += list(names)
        self._passwd()

    def populate(self, boxes):
        times = {}
        for u, msgs in boxes.items():
            t0 = time.monotonic()
            self._maildir(u, msgs)
            self.users.append(u)
            times[u] = time.monotonic() - t0
        self._passwd()
        return times


# ---------------------------------------------------------------- measurements

def open_idle(srv, n, tls, ctx, deadline, users, workers=8):
    """Open n IDLE sessions (user users[i], INBOX selected, "+ idling" read),
    a few at a time."""
    conns = [None] * n
    errors = []
    lock = threading.Lock()
    next_i = [0]
    t0 = time.monotonic()

    def worker():
        while True:
            with lock:
                i = next_i[0]
                if i >= n or errors:
                    return
                next_i[0] += 1
            if time.monotonic() > deadline:
                with lock:
                    errors.append(NA("too slow: not all %d connections open in %.0f s" % (n, deadline - t0)))
                return
            try:
                c = Imap(srv.tls_port if tls else srv.plain_port, ctx if tls else None)
                conns[i] = c
                c.login(users[i])
                c.cmd("SELECT INBOX")
                c.idle()
            except (NA, OSError, ssl.SSLError, ValueError) as e:
                with lock:
                    errors.append(NA("connection %d of %d: %s" % (i + 1, n, e)))
                return

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(workers, n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for c in conns:
            if c is not None:
                c.close(rst=True)
        raise errors[0]
    return conns


def warm_session(srv, user=USER):
    """One IMAP session doing what an IDLE client does (login, LIST, SELECT,
    FETCH FLAGS, IDLE, DONE, LOGOUT), so that what a server sets up lazily on
    first use is not charged to the connections."""
    c = Imap(srv.plain_port, timeout=10)
    try:
        c.login(user)
        c.cmd('LIST "" "*"')
        c.cmd("SELECT INBOX")
        c.cmd_scan("UID FETCH 1:* (FLAGS)")
        c.idle()
        c.done()
    finally:
        c.logout()
    time.sleep(0.5)


def measure_idle(srv, n, tls, budget, users):
    """(KiB per IDLE connection, detail) on a freshly restarted server."""
    srv.stop()
    srv.start()
    if srv.warm_ok:
        warm_session(srv)
    base_snap = srv.snapshot()
    base = B.settled_rss(srv.proc.pid, 2.0)
    ctx = B.client_ctx()
    t0 = time.monotonic()
    conns = open_idle(srv, n, tls, ctx, t0 + budget, users)
    t_open = time.monotonic() - t0
    try:
        time.sleep(0.5)
        loaded = B.settled_rss(srv.proc.pid, 4.0)
        if not srv.alive():
            raise NA("server died with %d connections" % n)
        per = (loaded[0] - base[0]) / float(n)
        detail = "%d procs, %.1fs to open" % (loaded[1], t_open)
    finally:
        for c in conns:
            c.close(rst=True)
        srv.wait_idle(base_snap)
    return per, detail


def measure_fetch(srv, tls, nmsgs, runs):
    """(best MB/s, bytes, cipher): FETCH 1:* BODY.PEEK[] over one session."""
    best, nbytes, cipher = None, 0, None
    ctx = B.client_ctx()
    for _ in range(runs):
        c = Imap(srv.tls_port if tls else srv.plain_port, ctx if tls else None)
        try:
            c.login()
            _, unt = c.cmd("SELECT INBOX")
            ex = [int(x.split()[1]) for x in unt if x.endswith(b" EXISTS")]
            if not ex or ex[-1] != nmsgs:
                raise NA("SELECT says %s messages, expected %d" % (ex[-1] if ex else "?", nmsgs))
            cipher = c.cipher()
            c0 = time.process_time()
            t0 = time.perf_counter()
            _, total, nlit = c.cmd_literals("FETCH 1:* BODY.PEEK[]")
            dt = time.perf_counter() - t0
            cpu = (time.process_time() - c0) / dt
            if nlit != nmsgs:
                raise NA("FETCH returned %d literals, expected %d" % (nlit, nmsgs))
        finally:
            c.logout()
        rate = total / dt / 1e6
        nbytes = total
        if best is None or rate > best:
            best, best_cpu = rate, cpu
    # The client's CPU share of the best run: near 100 % means the Python
    # client, not the server, set the pace.
    return best, nbytes, "%s, client CPU %.0f%% of the time" % (cipher, best_cpu * 100)


def measure_select(srv, nmsgs, runs):
    """SELECT and UID FETCH 1:* (FLAGS) on big's INBOX: each sample on a new
    logged-in session; one warm-up sample first (Dovecot builds its index
    there), then the median of runs. Returns (select ms, fetch ms or NA,
    detail); a bad UID FETCH response does not void the SELECT figure."""
    sel, fl = [], []
    first = None
    fetch_err = None
    for k in range(runs + 1):
        c = Imap(srv.plain_port, timeout=LONG_TIMEOUT)
        try:
            c.login(BIG_USER)
            t0 = time.perf_counter()
            _, unt = c.cmd("SELECT INBOX")
            t1 = time.perf_counter()
            ex = [int(x.split()[1]) for x in unt if x.endswith(b" EXISTS")]
            if not ex or ex[-1] != nmsgs:
                raise NA("SELECT says %s messages, expected %d" % (ex[-1] if ex else "?", nmsgs))
            t2, nb = None, 0
            if fetch_err is None:
                try:
                    _, nb, nl = c.cmd_scan("UID FETCH 1:* (FLAGS)", timeout=LONG_TIMEOUT)
                    t2 = time.perf_counter()
                    if nl != nmsgs:
                        fetch_err = NA("UID FETCH 1:* (FLAGS) returned %d lines, expected %d" % (nl, nmsgs))
                except NA as e:
                    fetch_err = NA("UID FETCH 1:* (FLAGS): %s" % e)
        finally:
            c.logout()
        if k == 0:
            first = (t1 - t0, (t2 - t1) if t2 else None, nb)
        else:
            sel.append(t1 - t0)
            if t2:
                fl.append(t2 - t1)
    detail = "first (cold) SELECT %.0f ms, UID FETCH %s (%.1f MB); samples SELECT %s ms" % (
        first[0] * 1e3, "%.0f ms" % (first[1] * 1e3) if first[1] else "n/a", first[2] / 1e6,
        "/".join("%.1f" % (x * 1e3) for x in sel))
    return statistics.median(sel) * 1e3, fetch_err or statistics.median(fl) * 1e3, detail


def measure_search(srv, nmsgs, runs):
    """SEARCH TEXT <needle, lower case> on srch's INBOX (selected once), one
    warm-up then the median of runs; the hits are checked. (ms, detail)"""
    c = Imap(srv.plain_port, timeout=LONG_TIMEOUT)
    want = len(search_hits(nmsgs))    # the set-up may not keep the order: count only
    times = []
    try:
        c.login(SRCH_USER)
        _, unt = c.cmd("SELECT INBOX", timeout=LONG_TIMEOUT)
        ex = [int(x.split()[1]) for x in unt if x.endswith(b" EXISTS")]
        if not ex or ex[-1] != nmsgs:
            raise NA("SELECT says %s messages, expected %d" % (ex[-1] if ex else "?", nmsgs))
        for k in range(runs + 1):
            t0 = time.perf_counter()
            _, unt = c.cmd("SEARCH TEXT %s" % NEEDLE.lower(), timeout=LONG_TIMEOUT)
            dt = time.perf_counter() - t0
            got = [int(x) for ln in unt if ln.startswith(b"* SEARCH") for x in ln.split()[2:]]
            if len(got) != want:
                raise NA("SEARCH TEXT found %d messages %s, expected %d" % (len(got), got[:10], want))
            if k == 0:
                first = dt
            else:
                times.append(dt)
    finally:
        c.logout()
    return statistics.median(times) * 1e3, "first %.0f ms, samples %s ms, %d hits" % (
        first * 1e3, "/".join("%.0f" % (x * 1e3) for x in times), want)


def measure_append(srv, msg, n_one, n_pipe, seconds):
    """APPEND rate over one plain connection into a new mailbox: (one at a
    time with LITERAL+, waiting for each OK: msg/s; pipelined: msg/s; detail).
    Each run stops after `seconds` if its count is not reached (at least 20
    and 16 messages); the pipelined one keeps up to 16 commands in flight."""
    c = Imap(srv.plain_port, timeout=LONG_TIMEOUT)
    try:
        c.login()
        caps = b" ".join(c.cmd("CAPABILITY")[1]).upper()
        plus = b"LITERAL+" in caps
        c.cmd("CREATE BenchAppend")
        t0 = time.perf_counter()
        k = 0
        while k < n_one and (k < 20 or time.perf_counter() - t0 < seconds):
            c.append_one("BenchAppend", msg, plus)
            k += 1
        one = k / (time.perf_counter() - t0)
        if not plus:
            return one, NA("no LITERAL+"), "%d one at a time (synchronizing literals)" % k
        c.cmd("CREATE BenchAppend2")
        t0 = time.perf_counter()

        def gen():
            for k2 in range(n_pipe):
                if k2 >= 16 and time.perf_counter() - t0 > seconds:
                    return
                yield msg
        again = []
        np = c.append_pipelined("BenchAppend2", gen(), window=16, retry=again)
        nbusy = len(again)
        for _ in range(5):                    # NO [UNAVAILABLE]: busy, try again
            if not again:
                break
            msgs2, again[:] = list(again), []
            np += c.append_pipelined("BenchAppend2", iter(msgs2), window=16, retry=again)
            nbusy += len(again)
        if again:
            raise NA("%d pipelined APPENDs still refused as busy after 5 retries" % len(again))
        pipe = np / (time.perf_counter() - t0)
        _, unt = c.cmd("STATUS BenchAppend2 (MESSAGES)")
        if not any(b"MESSAGES %d" % np in x for x in unt):
            raise NA("after %d pipelined APPENDs STATUS says %r" % (np, unt[:1]))
    finally:
        c.logout()
    busy = getattr(c, "busy", 0) + nbusy
    return one, pipe, "%d one at a time, %d pipelined, %d bytes each, LITERAL+%s" % (
        k, np, len(msg), "; %d NO [UNAVAILABLE] (busy) answers retried" % busy if busy else "")


# ---------------------------------------------------------------- run

def bench_server(srv, corpus, args, res, info):
    name = srv.name
    keys = [r[0] for r in B.ROWS if not r[0].startswith("#")]
    parts = args.parts

    def fail_all(reason):
        for k in keys:
            res.setdefault((name, k), NA(reason))

    conn_users = ["c%04d" % (i + 1) for i in range(max(args.conns))]
    try:
        log("%s: setting up (user, %d messages)" % (name, len(corpus)))
        t0 = time.monotonic()
        srv.setup(corpus)
        info.append("%s: corpus stored in %.1f s" % (name, time.monotonic() - t0))
        if "idle" in parts:
            log("%s: adding %d users for the IDLE connection tests" % (name, len(conn_users)))
            t0 = time.monotonic()
            srv.add_users(conn_users, corpus[args.user_msg])
            info.append("%s: %d IDLE-test users added in %.1f s" % (name, len(conn_users), time.monotonic() - t0))
        boxes = {}
        box_err = {}
        if "select" in parts:
            boxes[BIG_USER] = big_msgs(args.big)
        if "search" in parts:
            boxes[SRCH_USER] = search_msgs(args.search_msgs)
        if boxes:
            log("%s: filling %s" % (name, ", ".join("%s's INBOX" % u for u in boxes)))
            for u, dt in srv.populate(boxes).items():
                n = args.big if u == BIG_USER else args.search_msgs
                if isinstance(dt, NA):
                    box_err[u] = dt
                    continue
                info.append("%s: %d messages for %s stored in %.1f s (%.0f msg/s%s)" % (
                    name, n, u, dt, n / dt if dt > 0 else 0,
                    ", pipelined LITERAL+ APPEND, sync = off" if isinstance(srv, PostnookImap)
                    else ", Maildir files written directly"))
        log("%s: starting" % name)
        srv.start()
    except (NA, OSError, subprocess.SubprocessError) as e:
        fail_all(str(e))
        srv.stop()
        return

    t_begin = time.monotonic()

    def attempt(key, fn):
        if time.monotonic() - t_begin > args.server_budget:
            res[(name, key)] = NA("skipped: this server's %.0f s time budget is spent" % args.server_budget)
            return None
        if not srv.alive():
            why = srv.log_tail(3)
            try:
                srv.stop()
                srv.start()
                info.append("%s: restarted after it exited (%s)" % (name, why))
            except (NA, OSError, subprocess.SubprocessError) as e:
                res[(name, key)] = NA("server exited (%s); restart failed: %s" % (why, e))
                return None
        try:
            return fn()
        except NA as e:
            res[(name, key)] = e
        except (OSError, ssl.SSLError, ValueError, IndexError) as e:
            res[(name, key)] = NA("%s: %s" % (type(e).__name__, e))
        return None

    try:
        if "idle" in parts:
            time.sleep(0.5)
            try:
                warm_session(srv)
            except (NA, OSError, ssl.SSLError, ValueError) as e:
                srv.warm_ok = False
                info.append("%s: the warm-up session failed (%s); IDLE tests run without it" % (name, e))
            for tls in (False, True):
                for n in args.conns:
                    key = "idle_%s_%d" % ("tls" if tls else "plain", n)
                    log("%s: %d %s IDLE connections" % (name, n, "TLS" if tls else "plain"))
                    v = attempt(key, lambda: measure_idle(srv, n, tls, args.conn_budget, conn_users))
                    if v is not None:
                        res[(name, key)] = v[0]
                        info.append("%s %s: %s" % (name, key, v[1]))

        if "fetch" in parts:
            for tls in (False, True):
                key = "fetch_tls" if tls else "fetch_plain"
                log("%s: FETCH 1:* BODY.PEEK[] throughput, %s" % (name, "TLS" if tls else "plain"))
                v = attempt(key, lambda: measure_fetch(srv, tls, len(corpus), args.runs))
                if v is not None:
                    res[(name, key)] = v[0]
                    info.append("%s %s: %.1f MB per run, %s" % (name, key, v[1] / 1e6, v[2]))

        if "select" in parts and BIG_USER in box_err:
            res[(name, "select")] = res[(name, "uidfetch")] = box_err[BIG_USER]
        elif "select" in parts:
            log("%s: SELECT and UID FETCH 1:* (FLAGS) on %d messages" % (name, args.big))
            v = attempt("select", lambda: measure_select(srv, args.big, args.runs))
            if v is not None:
                res[(name, "select")] = v[0]
                res[(name, "uidfetch")] = v[1]
                info.append("%s select: %s" % (name, v[2]))
            else:
                res[(name, "uidfetch")] = res.get((name, "select"))

        if "search" in parts and SRCH_USER in box_err:
            res[(name, "search")] = box_err[SRCH_USER]
        elif "search" in parts:
            log("%s: SEARCH TEXT on %d messages" % (name, args.search_msgs))
            v = attempt("search", lambda: measure_search(srv, args.search_msgs, args.runs))
            if v is not None:
                res[(name, "search")] = v[0]
                info.append("%s search: %s" % (name, v[1]))

        if "append" in parts:
            log("%s: APPEND rate" % name)
            msg = crlf(corpus[args.user_msg])
            v = attempt("append_one", lambda: measure_append(srv, msg, args.append_one, args.append_pipe,
                                                             args.append_seconds))
            if v is not None:
                res[(name, "append_one")] = v[0]
                res[(name, "append_pipe")] = v[1]
                info.append("%s append: %s" % (name, v[2]))
            else:
                res[(name, "append_pipe")] = res.get((name, "append_one"))
    finally:
        srv.stop()
        fail_all("not measured")
        for nt in srv.notes:
            info.append("%s note: %s" % (name, nt))


def write_out(out, text):
    """Append the IMAP table to out, replacing an earlier IMAP table there
    (the POP3 table bench.py wrote stays)."""
    try:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        old = ""
        if os.path.exists(out):
            with open(out) as f:
                old = f.read()
            i = old.find(SECTION_MARK)
            if i >= 0:
                old = old[:i]
            if old and not old.endswith("\n\n"):
                old += "\n" if old.endswith("\n") else "\n\n"
        with open(out + ".new", "w") as f:
            f.write(old + text)
        os.rename(out + ".new", out)
    except OSError as e:
        log("cannot write %s: %s" % (out, e))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("postnook", help="path to the postnook binary")
    ap.add_argument("--only", default="", help="comma list of parts (%s) and/or servers (%s) to run"
                    % (",".join(PARTS), ",".join(SERVERS)))
    ap.add_argument("--skip", default="", help="comma list of parts and/or servers to leave out")
    ap.add_argument("--conns", default="100,1000", help="IDLE connection counts (default 100,1000)")
    ap.add_argument("--big", type=int, default=100000, help="messages in the SELECT mailbox (default 100000)")
    ap.add_argument("--search-msgs", type=int, default=10000, help="messages in the SEARCH mailbox (default 10000)")
    ap.add_argument("--runs", type=int, default=3, help="FETCH runs (best taken); SELECT/SEARCH samples "
                    "after one warm-up (median taken) (default 3)")
    ap.add_argument("--append-one", type=int, default=500, help="APPENDs one at a time (default 500)")
    ap.add_argument("--append-seconds", type=float, default=10.0,
                    help="stop the one-at-a-time APPENDs after this long (default 10)")
    ap.add_argument("--append-pipe", type=int, default=2000, help="pipelined APPENDs (default 2000)")
    ap.add_argument("--conn-budget", type=float, default=90.0,
                    help="seconds allowed to open one batch of connections (default 90)")
    ap.add_argument("--server-budget", type=float, default=400.0,
                    help="seconds (after set-up) after which a server's remaining tests are skipped (default 400)")
    ap.add_argument("--dovecot-login", choices=("both", "high-security", "performance"), default="both",
                    help="Dovecot login process mode(s), as in bench.py (default both)")
    ap.add_argument("--out", help="file the table is appended to (default bench/out/last.txt)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (for debugging)")
    args = ap.parse_args()

    only = [x for x in args.only.split(",") if x]
    skip = [x for x in args.skip.split(",") if x]
    for x in only + skip:
        if x not in PARTS + SERVERS:
            ap.error("unknown part or server %r (parts: %s; servers: %s)" % (x, ",".join(PARTS), ",".join(SERVERS)))
    args.parts = [p for p in PARTS if (p in only or not any(o in PARTS for o in only)) and p not in skip]
    servers_on = [s for s in SERVERS if (s in only or not any(o in SERVERS for o in only)) and s not in skip]
    args.conns = [int(x) for x in args.conns.split(",") if x]
    binary = os.path.abspath(args.postnook)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(8192, max(args.conns) * 2 + 256)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            pass
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    row = B.row
    if "idle" in args.parts:
        row("#", "Memory: RssAnon per IDLE connection (logged in, INBOX selected, IDLE; Dovecot: whole tree)",
            None, None)
        for tls in (False, True):
            for n in args.conns:
                lim = T_IDLE_TLS_KIB if tls else T_IDLE_PLAIN_KIB
                row("idle_%s_%d" % ("tls" if tls else "plain", n),
                    "per %s IDLE conn, N=%d" % ("TLS" if tls else "plain", n), "KiB", "lower",
                    "<= %d KiB" % lim, (lambda lim: lambda p, r: None if p is None else p <= lim)(lim))
    if "fetch" in args.parts:
        row("#", "FETCH 1:* BODY.PEEK[], 200 messages over one session (best of runs)", None, None)
        row("fetch_plain", "FETCH throughput, plain", "MB/s", "higher", ">=1.5x Dovecot",
            lambda p, r: None if r is None else r >= T_FETCH_PLAIN_RATIO)
        row("fetch_tls", "FETCH throughput, TLS (IMAPS)", "MB/s", "higher", ">=3x Dovecot",
            lambda p, r: None if r is None else r >= T_FETCH_TLS_RATIO)
    if "select" in args.parts:
        row("#", "%d-message INBOX, new session per sample (median after one warm-up)" % args.big, None, None)
        row("select", "SELECT latency", "ms", "lower", "<= Dovecot",
            lambda p, r: None if r is None else r >= T_SELECT_RATIO)
        row("uidfetch", "UID FETCH 1:* (FLAGS) latency", "ms", "lower")
    if "search" in args.parts:
        row("#", "SEARCH TEXT on a %d-message INBOX (%d hits; median after one warm-up)"
            % (args.search_msgs, SEARCH_HITS), None, None)
        row("search", "SEARCH TEXT latency", "ms", "lower")
    if "append" in args.parts:
        row("#", "APPEND, 2 KB messages, one plain connection", None, None)
        row("append_one", "APPEND, one at a time (waits for OK)", "msg/s", "higher")
        row("append_pipe", "APPEND, pipelined (LITERAL+)", "msg/s", "higher")

    tmp = tempfile.mkdtemp(prefix="pnbi.", dir="/tmp")
    os.chmod(tmp, 0o755)
    t_start = time.monotonic()
    pv, dv = B.versions(binary)     # at the start: the tree may move during the run
    res, info = {}, []
    corpus = B.make_corpus()
    corpus_bytes = sum(len(m) for m in corpus)
    args.user_msg = next(i for i, m in enumerate(corpus) if len(m) < 4096)
    servers = []
    if "postnook" in servers_on:
        servers.append(PostnookImap(binary, tmp))
    if "dovecot" in servers_on:
        for mode in ("high-security", "performance"):
            if args.dovecot_login in ("both", mode):
                servers.append(DovecotImap(tmp, mode))

    def on_signal(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for srv in servers:
            bench_server(srv, corpus, args, res, info)
    finally:
        for srv in servers:
            try:
                srv.stop()
            except Exception:
                pass
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log("kept %s" % tmp)

    head = [
        "%s, %s (parts: %s)" % (SECTION_MARK, time.strftime("%Y-%m-%d %H:%M:%S %Z"), ",".join(args.parts)),
        "machine:  %s" % B.machine(),
        "versions: postnook %s; Dovecot %s; %s" % (pv, dv, ssl.OPENSSL_VERSION + " (client)"),
        "corpus:   bench's 200 messages (%.1f MB) via `postnook deliver` / Maildir; %d x ~1 KB (user big) and "
        "%d x ~2 KB (user srch) via pipelined LITERAL+ APPEND (postnook, set-up daemon with sync = off) / "
        "Maildir written directly (Dovecot)" % (corpus_bytes / 1e6, args.big, args.search_msgs),
        "setup:    loopback; ECDSA P-256 certs; client: Python ssl, TLS 1.2, no resumption; postnook sync = full; "
        "Dovecot: own instance, maildir, default fsync, no FTS plugin",
        "Dovecot:  'Dovecot' = default login mode (service_count=1: one imap-login per connection, kept as TLS "
        "proxy; one imap process per session); 'Dovecot perf' = service_count=0, 2 imap-login processes",
        "IDLE:     N distinct users c0001.. with one 2 KB message each (no sharing of a selected mailbox); "
        "server restarted and one warm-up session before each N; per conn = (tree RssAnon with N - before) / N",
        "ratio:    >1 means postnook is better (Dovecot/postnook for memory and latency, postnook/Dovecot for "
        "rates); targets are judged against the strongest Dovecot column",
        "",
    ]
    table, notes = B.build_table(res, [x.name for x in servers]) if servers else ([], [])
    tail = [""] + ["details: " + x for x in info] + ["note: " + x for x in notes] + \
        ["", "IMAP bench took %.0f s" % (time.monotonic() - t_start)]
    text = "\n".join(head + table + tail) + "\n"
    sys.stdout.write(text)
    sys.stdout.flush()
    write_out(args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "last.txt"), text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
