#!/usr/bin/python3
"""postnook benchmark, side by side with Dovecot (same machine, same run).

    /usr/bin/python3 bench/bench.py /abs/path/build/postnook [options]

Measures, for postnook and for a private Dovecot instance (never the system
service), both serving the same user and the same 200-message corpus:
  1. idle RssAnon of the whole server (every process of its process tree);
  2. RssAnon per idle POP3 connection (plain / TLS, pre-login / logged in,
     100 and 1,000 connections);
  3. POP3 RETR throughput of the whole corpus over one session (plain, TLS);
  4. full TLS handshakes per second on the POP3S port (no resumption).
Prints the table and writes it to bench/out/last.txt. Standard library only.
A part that fails prints "n/a" with the reason; the rest goes on.
"""

import argparse
import base64
import os
import random
import re
import resource
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
USER = "bench"
PASSWORD = "bench-pass-7f3a"
SOCK_TIMEOUT = 15.0
KIB = 1024.0

# Targets from the product brief.
T_IDLE_KIB = 1024.0
T_PLAIN_KIB = 8.0
T_TLS_KIB = 28.0
T_RETR_TLS_RATIO = 2.0


class NA(Exception):
    """A measurement that could not be made; str() is the reason."""


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------- corpus

_WORDS = ("mail router nook box lorem ipsum dolor sit amet consectetur adipiscing "
          "elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua "
          "postbox letter parcel stamp envelope courier inbox archive").split()


def _text(rng, nbytes, width=72):
    """Deterministic text of about nbytes, LF line ends; some lines start with
    a dot so dot-stuffing is exercised."""
    lines, total = [], 0
    while total < nbytes:
        words, n = [], 0
        while n < width - 10:
            w = rng.choice(_WORDS)
            words.append(w)
            n += len(w) + 1
        line = " ".join(words)
        if rng.random() < 0.03:
            line = "." + line
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def _headers(i, subject, ctype, extra=""):
    return ("Return-Path: <sender%d@example.org>\n"
            "From: Sender %d <sender%d@example.org>\n"
            "To: Bench <bench@localhost>\n"
            "Subject: %s %d\n"
            "Date: Mon, 01 Jan 2024 12:%02d:%02d +0000\n"
            "Message-ID: <bench.%d@example.org>\n"
            "MIME-Version: 1.0\n"
            "%s%s\n" % (i % 7, i % 7, i % 7, subject, i, (i // 60) % 60, i % 60, i,
                        ctype, extra))


def make_corpus():
    """200 messages (bytes, LF line ends, as an MTA hands them to an MDA):
    100 x ~2 KB text, 80 x ~50 KB HTML, 20 x ~1 MB with a base64 attachment.
    Interleaved deterministically (seeded)."""
    rng = random.Random(20240101)
    kinds = ["t"] * 100 + ["h"] * 80 + ["a"] * 20
    rng.shuffle(kinds)
    msgs = []
    for i, k in enumerate(kinds, 1):
        if k == "t":
            m = _headers(i, "Plain note", "Content-Type: text/plain; charset=us-ascii\n") \
                + "\n" + _text(rng, 1700)
        elif k == "h":
            body = ["<html><head><title>News %d</title></head><body>" % i]
            size = 200
            while size < 49500:
                p = "<p class=\"c%d\">%s</p>" % (rng.randrange(9), _text(rng, 300, 70).replace("\n", " "))
                body.append(p)
                size += len(p) + 1
            body.append("</body></html>")
            m = _headers(i, "Newsletter", "Content-Type: text/html; charset=utf-8\n") \
                + "\n" + "\n".join(body) + "\n"
        else:
            blob = rng.randbytes(760000)
            b64 = base64.encodebytes(blob).decode("ascii")   # 76-char lines
            bnd = "==bench-boundary-%d==" % i
            m = (_headers(i, "Photos", "Content-Type: multipart/mixed; boundary=\"%s\"\n" % bnd)
                 + "\nThis is a multi-part message in MIME format.\n"
                 + "--%s\nContent-Type: text/plain; charset=us-ascii\n\n" % bnd
                 + _text(rng, 600)
                 + "--%s\nContent-Type: application/octet-stream; name=\"photo%d.jpg\"\n"
                   "Content-Transfer-Encoding: base64\n"
                   "Content-Disposition: attachment; filename=\"photo%d.jpg\"\n\n" % (bnd, i, i)
                 + b64 + "--%s--\n" % bnd)
        msgs.append(m.encode("ascii"))
    return msgs


# ---------------------------------------------------------------- /proc

def proc_tree(root):
    """root and all its descendants (pids)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rindex(b")") + 2:].split()
        children.setdefault(int(rest[1]), []).append(int(d))
    out, stack = [], [root]
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(children.get(p, ()))
    return out


def status_field(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def rss_anon_kib(pid):
    v = status_field(pid, "RssAnon")
    return int(v.split()[0]) if v else 0


def tree_rss(root):
    """(total RssAnon KiB, process count, {comm: count}) over root's tree."""
    total, names = 0, {}
    pids = proc_tree(root)
    for p in pids:
        total += rss_anon_kib(p)
        n = status_field(p, "Name") or "?"
        names[n] = names.get(n, 0) + 1
    return total, len(pids), names


def settled_rss(root, max_wait=4.0):
    """Tree RssAnon once two readings 0.3 s apart agree (or max_wait passes)."""
    deadline = time.monotonic() + max_wait
    prev = tree_rss(root)
    while True:
        time.sleep(0.3)
        cur = tree_rss(root)
        if (cur[1] == prev[1] and abs(cur[0] - prev[0]) <= max(8, cur[0] * 0.002)) \
                or time.monotonic() > deadline:
            return cur
        prev = cur


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# ---------------------------------------------------------------- POP3 client

def client_ctx():
    """TLS client context: TLS 1.2 only (postnook's BearSSL speaks 1.2, so
    both servers are measured with the same protocol), no verification."""
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    c.minimum_version = ssl.TLSVersion.TLSv1_2
    c.maximum_version = ssl.TLSVersion.TLSv1_2
    return c


class Pop3:
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
        self.rbuf = None          # allocated on the first multi-line read
        self.greeting = self.line()
        if not self.greeting.startswith(b"+OK"):
            raise NA("greeting %r" % self.greeting[:80])

    def line(self):
        while b"\r\n" not in self.buf:
            try:
                d = self.s.recv(65536)
            except (socket.timeout, TimeoutError):
                raise NA("no reply line within %.0f s (got %r)" % (self.s.gettimeout(), self.buf[:60]))
            if not d:
                raise NA("connection closed by server (after %r)" % self.buf[:60])
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def cmd(self, c):
        self.s.sendall(c.encode() + b"\r\n")
        r = self.line()
        if not r.startswith(b"+OK"):
            raise NA("%s -> %r" % (c.split()[0], r[:100]))
        return r

    def login(self, user=USER, pw=PASSWORD):
        self.cmd("USER " + user)
        self.cmd("PASS " + pw)

    def multi_count(self):
        """Read the rest of a multi-line response; returns its byte count
        (terminator included). No pipelining, so the response ends the data."""
        tail = b"\r\n"                    # the status line's CRLF
        n = 0
        if self.buf:
            d, self.buf = self.buf, b""
            n += len(d)
            tail = (tail + d)[-5:]
        if self.rbuf is None:
            self.rbuf = bytearray(1 << 20)
        mv = memoryview(self.rbuf)
        while not tail.endswith(b"\r\n.\r\n"):
            try:
                k = self.s.recv_into(mv)
            except (socket.timeout, TimeoutError):
                raise NA("stalled: no data for %.0f s after %d bytes of a multi-line response"
                         % (self.s.gettimeout(), n))
            if k == 0:
                raise NA("connection closed inside a multi-line response")
            n += k
            tail = (tail + bytes(mv[max(0, k - 5):k]))[-5:]
        return n

    def retr(self, i):
        self.s.sendall(b"RETR %d\r\n" % i)
        r = self.line()
        if not r.startswith(b"+OK"):
            raise NA("RETR %d -> %r" % (i, r[:100]))
        try:
            return self.multi_count()
        except NA as e:
            raise NA("RETR %d: %s" % (i, e))

    def quit(self):
        try:
            self.s.sendall(b"QUIT\r\n")
            self.line()
        except Exception:
            pass
        self.close()

    def close(self, rst=False):
        try:
            if rst:
                raw = self.s
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.s.close()
        except Exception:
            pass

    def cipher(self):
        if isinstance(self.s, ssl.SSLSocket):
            c = self.s.cipher()
            return "%s %s" % (c[1], c[0]) if c else "?"
        return "plain"


# ---------------------------------------------------------------- servers

class Server:
    name = "?"
    root_pid = None
    proc = None
    plain_port = tls_port = None
    problem = None        # why the server could not be set up / started
    warm_ok = True        # the warm-up session works
    notes = None

    def pids_root(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=6):
        try:
            with open(self.logfile, errors="replace") as f:
                lines = f.read().splitlines()
            return " | ".join(lines[-n:])
        except OSError:
            return ""


class Postnook(Server):
    name = "postnook"
    proto = "pop3"        # the listeners' protocol (bench_imap.py: imap)

    def __init__(self, binary, tmp):
        self.bin = binary
        self.dir = os.path.join(tmp, "pn")
        self.datadir = os.path.join(self.dir, "data")
        self.conf = os.path.join(self.dir, "postnook.conf")
        self.logfile = os.path.join(self.dir, "serve.log")
        self.notes = []

    def max_conns(self):
        """1100 as the brief asks, clamped to the build's CONFIG_MAX_CONNS."""
        want = 1100
        cfgh = os.path.join(os.path.dirname(self.bin), "config.h")
        try:
            with open(cfgh) as f:
                m = re.search(r"#define\s+CONFIG_MAX_CONNS\s+(\d+)", f.read())
            if m and int(m.group(1)) < want:
                self.notes.append("max_connections clamped to CONFIG_MAX_CONNS=%s" % m.group(1))
                want = int(m.group(1))
        except OSError:
            pass
        return want

    def run(self, args, stdin=b"", timeout=60):
        r = subprocess.run([self.bin] + args, input=stdin, capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise NA("postnook %s: exit %d: %s" % (" ".join(args[:1] + args[3:]), r.returncode,
                                                   (r.stderr or r.stdout).decode(errors="replace").strip()[-300:]))
        return r

    def setup(self, corpus):
        if not os.access(self.bin, os.X_OK):
            raise NA("no binary at %s" % self.bin)
        os.makedirs(self.datadir, mode=0o700)
        self.plain_port, self.tls_port = free_port(), free_port()
        mc = self.max_conns()
        with open(self.conf, "w") as f:
            f.write("datadir = %s\nhostname = localhost\nlog = stderr\n"
                    "listen = %s none %s:%d\nlisten = %s tls %s:%d\n"
                    "max_connections = %d\nmax_per_ip = %d\n"
                    "plaintext_auth = always\nsync = full\n"
                    % (self.datadir, self.proto, HOST, self.plain_port, self.proto, HOST, self.tls_port,
                       mc, mc))
        self.run(["user", "-c", self.conf, "add", USER], stdin=(PASSWORD + "\n").encode())
        t0 = time.monotonic()
        for m in corpus:
            self.run(["deliver", "-c", self.conf, USER], stdin=m)
        self.deliver_s = time.monotonic() - t0

    def add_users(self, names, msg):
        """More users for the logged-in connection tests (postnook refuses a
        second POP3 session on one maildrop: [IN-USE]), each with msg. Done
        with the daemon running, through a copy of the config with sync = off
        (setup speed only; the daemon keeps sync = full)."""
        conf = self.conf + ".setup"
        with open(self.conf) as f, open(conf, "w") as g:
            g.write(f.read().replace("sync = full", "sync = off"))
        for u in names:
            self.run(["user", "-c", conf, "add", u], stdin=(PASSWORD + "\n").encode())
            self.run(["deliver", "-c", conf, u], stdin=msg)

    def start(self):
        self.logf = open(self.logfile, "ab")
        self.proc = subprocess.Popen([self.bin, "serve", "-c", self.conf, "-f"],
                                     stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        self.logf.close()
        ok = wait_port(self.plain_port, self.proc) and wait_port(self.tls_port, self.proc)
        if not ok:
            rc = self.proc.poll()
            self.stop()
            raise NA("serve did not listen (%s): %s" % ("exit %s" % rc if rc is not None else "timeout",
                                                        self.log_tail()))

    def wait_idle(self, base, timeout=15.0):
        """Wait until the daemon has closed the connections we dropped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and fd_count(self.proc.pid) > base["fds"]:
            time.sleep(0.1)

    def snapshot(self):
        return {"fds": fd_count(self.proc.pid)}

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Dovecot(Server):
    name = "Dovecot"
    UID = GID = 60123     # owner of the mail home (no passwd entry needed)
    proto = "pop3"        # bench_imap.py: imap

    def __init__(self, tmp, login_mode):
        self.name = "Dovecot" if login_mode == "high-security" else "Dovecot perf"
        self.dir = os.path.join(tmp, "dc-" + login_mode)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        self.logfile = os.path.join(self.dir, "dovecot.log")
        self.login_mode = login_mode
        self.notes = []

    def setup(self, corpus):
        if not shutil.which("dovecot"):
            raise NA("dovecot not installed (tests/tools/deps.sh bench)")
        os.makedirs(self.dir)
        d = self.dir
        r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", d + "/key.pem",
                            "-out", d + "/cert.pem", "-days", "30", "-subj", "/CN=localhost"],
                           capture_output=True, timeout=30)
        if r.returncode != 0:
            raise NA("openssl: " + r.stderr.decode(errors="replace")[-200:])
        with open(d + "/passwd", "w") as f:
            f.write("%s:{PLAIN}%s::::::\n" % (USER, PASSWORD))
        home = os.path.join(d, "home", USER)
        md = os.path.join(home, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub))
        # Write the Maildir directly (as an LDA would: LF line ends); S= and
        # W= (size with CRLF) spare Dovecot from reading every file for sizes.
        t = int(time.time()) - 1000
        for i, m in enumerate(corpus):
            vsize = len(m) + m.count(b"\n")
            fn = "%d.M%dP%d.bench,S=%d,W=%d:2," % (t + i, i, os.getpid(), len(m), vsize)
            with open(os.path.join(md, "cur", fn), "wb") as f:
                f.write(m)
            os.utime(os.path.join(md, "cur", fn), (t + i, t + i))
        self.chown_tree(os.path.join(d, "home"))
        self.plain_port, self.tls_port = free_port(), free_port()
        if self.login_mode == "performance":
            login = "  service_count = 0\n  client_limit = 2200\n  process_limit = 2\n  process_min_avail = 2\n  vsz_limit = 1G\n"
        else:
            login = "  process_limit = 2200\n"
        with open(self.conf, "w") as f:
            f.write("""# postnook bench: private Dovecot instance
instance_name = pnbench
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = {proto}
listen = {h}
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain
disable_plaintext_auth = no
default_internal_user = dovecot
default_login_user = dovenull
default_process_limit = 2200
default_client_limit = 6000
first_valid_uid = 1000
mail_location = maildir:~/Maildir
{proto_extra}passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service {proto}-login {{
  inet_listener {proto} {{
    port = {p1}
  }}
  inet_listener {proto}s {{
    port = {p2}
    ssl = yes
  }}
{login}}}
service {proto} {{
  process_limit = 2200
}}
protocol {proto} {{
  mail_max_userip_connections = 2000
}}
""".format(d=d, h=HOST, uid=self.UID, gid=self.GID, p1=self.plain_port, p2=self.tls_port,
           login=login, proto=self.proto,
           proto_extra="pop3_uidl_format = %08Xu%08Xv\n" if self.proto == "pop3" else ""))
        os.chmod(d, 0o755)
        r = subprocess.run(["doveconf", "-c", self.conf, "-n"], capture_output=True, timeout=30)
        if r.returncode != 0 or b"Error" in r.stderr:
            raise NA("doveconf: " + r.stderr.decode(errors="replace").strip()[-300:])
        if r.stderr.strip():
            self.notes.append("doveconf: " + r.stderr.decode(errors="replace").strip()[:200])

    def chown_tree(self, top):
        os.chown(top, self.UID, self.GID)
        for root, dirs, files in os.walk(top):
            for x in dirs + files:
                os.chown(os.path.join(root, x), self.UID, self.GID)

    def add_users(self, names, msg):
        """More users for the logged-in connection tests, each with msg in
        its Maildir. The passwd-file is re-read when it changes."""
        t = int(time.time()) - 100
        vsize = len(msg) + msg.count(b"\n")
        lines = []
        for u in names:
            md = os.path.join(self.dir, "home", u, "Maildir")
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(md, sub))
            fn = "%d.M1P%d.bench,S=%d,W=%d:2," % (t, os.getpid(), len(msg), vsize)
            with open(os.path.join(md, "cur", fn), "wb") as f:
                f.write(msg)
            self.chown_tree(os.path.join(self.dir, "home", u))
            lines.append("%s:{PLAIN}%s::::::\n" % (u, PASSWORD))
        with open(self.dir + "/passwd.new", "w") as f:
            f.write("%s:{PLAIN}%s::::::\n" % (USER, PASSWORD) + "".join(lines))
        os.rename(self.dir + "/passwd.new", self.dir + "/passwd")

    def start(self):
        self.out = open(os.path.join(self.dir, "master.out"), "ab")
        self.proc = subprocess.Popen(["dovecot", "-c", self.conf, "-F"], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.out)
        self.out.close()
        ok = wait_port(self.plain_port, self.proc) and wait_port(self.tls_port, self.proc)
        if not ok:
            rc = self.proc.poll()
            self.stop()
            raise NA("dovecot did not listen (%s): %s" % ("exit %s" % rc if rc is not None else "timeout",
                                                          self.log_tail()))

    def snapshot(self):
        return {"procs": len(proc_tree(self.proc.pid))}

    def wait_idle(self, base, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(proc_tree(self.proc.pid)) > base["procs"]:
            time.sleep(0.1)

    def stop(self):
        if self.proc is None:
            return
        tree = proc_tree(self.proc.pid) if self.proc.poll() is None else []
        if self.proc.poll() is None:
            subprocess.run(["doveadm", "-c", self.conf, "stop"], capture_output=True, timeout=15)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
        # Wait for the instance's children to go too (they hold the listeners).
        deadline = time.monotonic() + 10
        left = [p for p in tree if p != self.proc.pid]
        while left and time.monotonic() < deadline:
            left = [p for p in left if os.path.exists("/proc/%d" % p)
                    and status_field(p, "State") not in (None,) and not (status_field(p, "State") or "").startswith("Z")]
            if left:
                time.sleep(0.05)
        for p in left:      # ours, still there after 10 s: end them
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


# ---------------------------------------------------------------- measurements

def open_sessions(srv, n, tls, login, ctx, deadline, users, workers=8):
    """Open n sessions (greeting read; logged in as users[i] if login), a
    few at a time so that a slow handshake does not dominate the run."""
    conns = [None] * n
    errors = []
    lock = threading.Lock()
    next_i = [0]

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
                c = Pop3(srv.tls_port if tls else srv.plain_port, ctx if tls else None)
                conns[i] = c
                if login:
                    c.login(users[i])
            except (NA, OSError, ssl.SSLError) as e:
                with lock:
                    errors.append(NA("connection %d of %d: %s" % (i + 1, n, e)))
                return

    t0 = time.monotonic()
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


def warm_session(srv):
    """One complete POP3 session (login, STAT, LIST, UIDL, QUIT), so that
    what a server sets up lazily on first use is not charged to connections."""
    c = Pop3(srv.plain_port, timeout=5)
    try:
        c.login()
        c.cmd("STAT")
        for cmd in (b"LIST\r\n", b"UIDL\r\n"):
            c.s.sendall(cmd)
            r = c.line()
            if not r.startswith(b"+OK"):
                raise NA("%s -> %r" % (cmd.strip().decode(), r[:80]))
            try:
                c.multi_count()
            except NA as e:
                raise NA("warm-up session, %s: %s" % (cmd.strip().decode(), e))
    finally:
        c.quit()
    time.sleep(0.5)


def measure_per_conn(srv, n, tls, login, budget, users):
    """(KiB per connection, detail) for n idle connections, measured on a
    freshly restarted server (memory a server touched for earlier
    connections may stay resident and would hide the cost)."""
    srv.stop()
    srv.start()
    if srv.warm_ok:
        warm_session(srv)
    base_snap = srv.snapshot()
    base = settled_rss(srv.proc.pid, 2.0)
    ctx = client_ctx()
    t0 = time.monotonic()
    conns = open_sessions(srv, n, tls, login, ctx, t0 + budget, users)
    t_open = time.monotonic() - t0
    try:
        # Every session is now idle: check they are all still there.
        time.sleep(0.5)
        loaded = settled_rss(srv.proc.pid, 4.0)
        if not srv.alive():
            raise NA("server died with %d connections" % n)
        per = (loaded[0] - base[0]) / float(n)
        detail = "%d procs, %.1fs to open" % (loaded[1], t_open)
    finally:
        for c in conns:
            c.close(rst=True)
        srv.wait_idle(base_snap)
    return per, detail


def measure_retr(srv, tls, nmsgs, runs=3):
    """(best MB/s, bytes, cipher)."""
    best, nbytes, cipher = None, 0, None
    ctx = client_ctx()
    for _ in range(runs):
        c = Pop3(srv.tls_port if tls else srv.plain_port, ctx if tls else None)
        try:
            c.login()
            st = c.cmd("STAT").split()
            count = int(st[1])
            if count != nmsgs:
                raise NA("STAT says %d messages, expected %d" % (count, nmsgs))
            cipher = c.cipher()
            t0 = time.perf_counter()
            total = 0
            for i in range(1, count + 1):
                total += c.retr(i)
            dt = time.perf_counter() - t0
        finally:
            c.quit()
        rate = total / dt / 1e6
        nbytes = total
        if best is None or rate > best:
            best = rate
    return best, nbytes, cipher


def measure_handshakes(srv, seconds):
    """(handshakes/s, cipher). One new TCP connection and a full TLS 1.2
    handshake each (Python never resumes unless given a session; checked)."""
    ctx = client_ctx()
    n, reused, cipher = 0, 0, None
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        s = socket.create_connection((HOST, srv.tls_port), timeout=SOCK_TIMEOUT)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        try:
            ss = ctx.wrap_socket(s, server_hostname="localhost")
        except Exception:
            s.close()
            raise
        if ss.session_reused:
            reused += 1
        if cipher is None:
            c = ss.cipher()
            cipher = "%s %s" % (c[1], c[0])
        ss.close()
        n += 1
    dt = time.perf_counter() - t0
    if reused:
        raise NA("%d of %d handshakes were resumed" % (reused, n))
    return n / dt, cipher


# ---------------------------------------------------------------- table

ROWS = []   # (key, label, unit, better, target_desc, target_fn)


def row(key, label, unit, better, tdesc=None, tfn=None):
    ROWS.append((key, label, unit, better, tdesc, tfn))


def fmt(v, unit):
    if isinstance(v, NA) or v is None:
        return "n/a"
    if unit == "KiB":
        return "%.1f KiB" % v if v < 100 else "%.0f KiB" % v
    if unit == "MB/s":
        return "%.1f MB/s" % v
    if unit == "/s":
        return "%.0f /s" % v
    if unit == "ms":
        return "%.1f ms" % v if v < 100 else "%.0f ms" % v
    if unit == "msg/s":
        return "%.0f msg/s" % v
    return str(v)


def build_table(res, names):
    """The table: postnook, then each Dovecot column with its ratio."""
    others = [n for n in names if n != "postnook"]
    fmt_row = "%-38s %11s" + " %12s %7s" * len(others) + "  %-14s %s"
    hdr = fmt_row % tuple([""] + ["postnook"] + sum([[o, "ratio"] for o in others], []) + ["target", "result"])
    out = [hdr, "-" * len(hdr)]
    why = {}

    def num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    for key, label, unit, better, tdesc, tfn in ROWS:
        if key.startswith("#"):
            out.append(label)
            continue
        pv = res.get(("postnook", key))
        cells, ratios = [fmt(pv, unit)], []
        for who in names:
            v = res.get((who, key))
            if not num(v):
                why.setdefault((who, str(v) if v is not None else "not measured"), []).append(label)
        for o in others:
            dv = res.get((o, key))
            rv = None
            if num(pv) and num(dv):
                if better == "lower" and pv > 0:
                    rv = dv / pv
                elif better == "higher" and dv > 0:
                    rv = pv / dv
            if rv is not None:
                ratios.append(rv)
            cells += [fmt(dv, unit), ("%.2gx" % rv if rv < 0.1 else "%.1fx" % rv if rv < 100 else "%.0fx" % rv)
                      if rv is not None else "n/a"]
        result = ""
        if tfn is not None:
            # Judged against the strongest Dovecot configuration (lowest ratio).
            verdict = tfn(pv if num(pv) else None, min(ratios) if ratios and len(ratios) == len(others) else None)
            result = "n/a" if verdict is None else ("PASS" if verdict else "MISS")
        out.append(fmt_row % tuple([label] + cells + [tdesc or "", result]))
    notes = []
    for (who, reason), labels in why.items():
        what = "; ".join(labels) if len(labels) <= 3 else "%d rows (%s; ...)" % (len(labels), labels[0])
        notes.append("n/a %s [%s]: %s" % (who, what, reason))
    return out, notes


# ---------------------------------------------------------------- main

LOAD0 = os.getloadavg()[0]


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = status = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB" % (int(f.readline().split()[1]) / 1048576.0)
    except OSError:
        pass
    return "%s, %d cores, %s RAM, Linux %s, load average %.2f at start" % (
        model, os.cpu_count() or 0, mem, os.uname().release, LOAD0)


def versions(binary):
    try:
        dv = subprocess.run(["dovecot", "--version"], capture_output=True, timeout=10).stdout.decode().strip()
    except Exception as e:
        dv = "n/a (%s)" % e
    repo = os.path.dirname(os.path.dirname(os.path.abspath(binary)))
    try:
        r = subprocess.run(["git", "-C", repo, "describe", "--always", "--dirty", "--tags"],
                           capture_output=True, timeout=10)
        pv = "git " + (r.stdout.decode().strip() or "n/a (%s)" % r.stderr.decode().strip()[:80])
    except Exception as e:
        pv = "git n/a (%s)" % e
    try:     # the usage text starts with "postnook X.Y"
        r = subprocess.run([binary], capture_output=True, timeout=10)
        m = re.match(r"postnook (\S+)", (r.stdout + r.stderr).decode(errors="replace"))
        if m:
            pv = "%s (%s)" % (m.group(1), pv)
    except Exception:
        pass
    return pv, dv


def bench_server(srv, corpus, args, res, info):
    name = srv.name
    keys = [r[0] for r in ROWS if not r[0].startswith("#")]

    def fail_all(reason):
        for k in keys:
            res.setdefault((name, k), NA(reason))

    try:
        log("%s: setting up (user, %d messages)" % (name, len(corpus)))
        srv.setup(corpus)
        log("%s: starting" % name)
        srv.start()
    except (NA, OSError, subprocess.SubprocessError) as e:
        fail_all(str(e))
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
            v = fn()
            return v
        except NA as e:
            res[(name, key)] = e
        except (OSError, ssl.SSLError, ValueError, IndexError) as e:
            res[(name, key)] = NA("%s: %s" % (type(e).__name__, e))
        return None

    try:
        time.sleep(1.0)
        t, n, names = settled_rss(srv.proc.pid, 3.0)
        res[(name, "idle")] = float(t)
        info.append("%s idle processes (%d): %s" % (name, n, ", ".join(
            "%s%s" % (k, "x%d" % v if v > 1 else "") for k, v in sorted(names.items()))))

        def warm():
            warm_session(srv)
            t, n, names = settled_rss(srv.proc.pid, 4.0)
            info.append("%s idle processes after one session (%d): %s" % (name, n, ", ".join(
                "%s%s" % (k, "x%d" % v if v > 1 else "") for k, v in sorted(names.items()))))
            return float(t)
        v = attempt("idle_warm", warm)
        if v is not None:
            res[(name, "idle_warm")] = v
        else:
            srv.warm_ok = False
            info.append("%s: the warm-up session failed (%s); connection tests run without it"
                        % (name, res.get((name, "idle_warm"))))

        conn_users = ["c%04d" % (i + 1) for i in range(max(args.conns))]
        conn_users_err = None
        log("%s: adding %d users for the logged-in connection tests" % (name, len(conn_users)))
        t0 = time.monotonic()
        try:
            srv.add_users(conn_users, corpus[args.user_msg])
            info.append("%s: %d connection-test users added in %.1f s" % (name, len(conn_users),
                                                                       time.monotonic() - t0))
        except (NA, OSError, subprocess.SubprocessError) as e:
            conn_users_err = NA("adding the connection-test users: %s" % e)
        for tls in (False, True):
            for login in (True, False):
                for n in args.conns:
                    key = "conn_%s_%s_%d" % ("tls" if tls else "plain", "login" if login else "pre", n)
                    if login and conn_users_err:
                        res[(name, key)] = conn_users_err
                        continue
                    log("%s: %d %s connections, %s" % (name, n, "TLS" if tls else "plain",
                                                       "logged in" if login else "pre-login"))
                    v = attempt(key, lambda: measure_per_conn(srv, n, tls, login, args.conn_budget, conn_users))
                    if v is not None:
                        res[(name, key)] = v[0]
                        info.append("%s %s: %s" % (name, key, v[1]))

        for tls in (False, True):
            key = "retr_tls" if tls else "retr_plain"
            log("%s: RETR throughput, %s" % (name, "TLS" if tls else "plain"))
            v = attempt(key, lambda: measure_retr(srv, tls, len(corpus), args.runs))
            if v is not None:
                res[(name, key)] = v[0]
                info.append("%s %s: %.1f MB per run, %s" % (name, key, v[1] / 1e6, v[2]))
                if tls:
                    info.append("%s negotiated cipher (RETR): %s" % (name, v[2]))

        log("%s: TLS handshakes for %.0f s" % (name, args.hs_seconds))
        v = attempt("hs", lambda: measure_handshakes(srv, args.hs_seconds))
        if v is not None:
            res[(name, "hs")] = v[0]
            info.append("%s negotiated cipher (handshakes): %s" % (name, v[1]))
    finally:
        srv.stop()
        fail_all("not measured")
        for nt in srv.notes:
            info.append("%s note: %s" % (name, nt))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("postnook", help="path to the postnook binary")
    ap.add_argument("--conns", default="100,1000", help="connection counts (default 100,1000)")
    ap.add_argument("--runs", type=int, default=3, help="RETR runs, best taken (default 3)")
    ap.add_argument("--hs-seconds", type=float, default=5.0, help="handshake test length (default 5)")
    ap.add_argument("--conn-budget", type=float, default=60.0,
                    help="seconds allowed to open one batch of connections (default 60)")
    ap.add_argument("--server-budget", type=float, default=150.0,
                    help="seconds after which a server's remaining tests are skipped (default 150)")
    ap.add_argument("--dovecot-login", choices=("both", "high-security", "performance"), default="both",
                    help="Dovecot login process mode(s) to run: its default high-security mode "
                    "(service_count=1), the documented high-performance mode (service_count=0), "
                    "or both (default)")
    ap.add_argument("--only", choices=("postnook", "dovecot"), help="measure one server only")
    ap.add_argument("--out", help="table file (default bench/out/last.txt next to this script)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (for debugging)")
    ap.add_argument("--no-imap", action="store_true",
                    help="POP3 table only (by default bench_imap.py runs next and appends the IMAP table)")
    ap.add_argument("--imap-args", default="",
                    help="more options for bench_imap.py (e.g. '--big 1000 --search-msgs 1000')")
    args = ap.parse_args()
    args.conns = [int(x) for x in args.conns.split(",") if x]
    binary = os.path.abspath(args.postnook)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(8192, max(args.conns) * 2 + 256)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            want = hard
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    row("#", "Memory (RssAnon; Dovecot: summed over every process of the instance's tree)", None, None)
    row("idle", "idle, just started (user + 200 msgs)", "KiB", "lower", "<= 1 MiB",
        lambda p, r: None if p is None else p <= T_IDLE_KIB)
    row("idle_warm", "idle, after one POP3 session", "KiB", "lower", "<= 1 MiB",
        lambda p, r: None if p is None else p <= T_IDLE_KIB)
    for tls in (False, True):
        for login in (True, False):
            for n in args.conns:
                key = "conn_%s_%s_%d" % ("tls" if tls else "plain", "login" if login else "pre", n)
                lbl = "per %s conn, %s, N=%d" % ("TLS" if tls else "plain",
                                                 "logged in" if login else "pre-login", n)
                lim = T_TLS_KIB if tls else T_PLAIN_KIB
                row(key, lbl, "KiB", "lower", "<= %d KiB" % lim,
                    (lambda lim: lambda p, r: None if p is None else p <= lim)(lim))
    row("#", "POP3 RETR, 200 messages over one session (best of runs)", None, None)
    row("retr_plain", "RETR throughput, plain", "MB/s", "higher")
    row("retr_tls", "RETR throughput, TLS (POP3S)", "MB/s", "higher", ">= 2x Dovecot",
        lambda p, r: None if r is None else r >= T_RETR_TLS_RATIO)
    row("#", "TLS", None, None)
    row("hs", "full TLS 1.2 handshakes/s (POP3S)", "/s", "higher")

    tmp = tempfile.mkdtemp(prefix="pnb.", dir="/tmp")
    os.chmod(tmp, 0o755)
    t_start = time.monotonic()
    pv, dv = versions(binary)     # at the start: the tree may move during the run
    res, info = {}, []
    corpus = make_corpus()
    corpus_bytes = sum(len(m) for m in corpus)
    servers = []
    if args.only != "dovecot":
        servers.append(Postnook(binary, tmp))
    if args.only != "postnook":
        for mode in ("high-security", "performance"):
            if args.dovecot_login in ("both", mode):
                servers.append(Dovecot(tmp, mode))
    # The connection-test users each get one ~2 KB text message.
    args.user_msg = next(i for i, m in enumerate(corpus) if len(m) < 4096)

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
        "postnook bench, %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine:  %s" % machine(),
        "versions: postnook %s; Dovecot %s; %s" % (pv, dv, ssl.OPENSSL_VERSION + " (client)"),
        "corpus:   200 messages (100 x 2 KB text, 80 x 50 KB HTML, 20 x 1 MB base64 attachment), "
        "%.1f MB, LF line ends; postnook: `postnook deliver`; Dovecot: Maildir written directly" % (corpus_bytes / 1e6),
        "setup:    loopback; ECDSA P-256 certs on both (postnook self-made, Dovecot openssl); "
        "client: Python ssl, TLS 1.2 (postnook speaks 1.2 only), no resumption",
        "Dovecot:  own instance (not the system service), passwd-file + static userdb, maildir; "
        "'Dovecot' = its default login mode (service_count=1: one pop3-login process per connection,",
        "          which stays as TLS proxy after login; one pop3 process per session); 'Dovecot perf' = "
        "high-performance login mode (service_count=0, 2 pop3-login processes, client_limit 2200)",
        "sessions: 'logged in' = USER/PASS done, then idle; N distinct users c0001.. with one 2 KB message "
        "each (postnook answers [IN-USE] to a 2nd session on one maildrop, RFC 1939/3206)",
        "memory:   RssAnon from /proc/PID/status; Dovecot = sum over master + every child "
        "(log, config, anvil, auth, stats, pop3-login, pop3); per conn = (with N idle - before) / N",
        "ratio:    >1 means postnook is better (Dovecot/postnook for memory, postnook/Dovecot for speed); "
        "targets are judged against the strongest Dovecot column",
        "",
    ]
    table, notes = build_table(res, [x.name for x in servers]) if servers else ([], [])
    tail = [""] + ["details: " + x for x in info] + ["note: " + x for x in notes] + \
        ["", "bench took %.0f s" % (time.monotonic() - t_start)]
    text = "\n".join(head + table + tail) + "\n"
    sys.stdout.write(text)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "out", "last.txt")
    try:
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write(text)
    except OSError as e:
        log("cannot write %s: %s" % (out, e))
    if args.no_imap:
        return 0
    # The IMAP table (bench_imap.py): same binary, servers and output file.
    sys.stdout.write("\n")
    sys.stdout.flush()
    cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_imap.py"),
           binary, "--conns", ",".join(str(n) for n in args.conns), "--runs", str(args.runs),
           "--dovecot-login", args.dovecot_login, "--out", out]
    if args.only:
        cmd += ["--only", args.only]
    if args.keep:
        cmd.append("--keep")
    cmd += shlex.split(args.imap_args)
    child = subprocess.Popen(cmd)
    try:
        return child.wait()
    except BaseException:
        child.send_signal(signal.SIGTERM)     # it stops its servers and removes its temp dir
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
        raise


if __name__ == "__main__":
    sys.exit(main())
