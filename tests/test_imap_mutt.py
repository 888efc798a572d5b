"""Debian's mutt against the IMAP server, scripted: it reads, flags, saves
to another folder (also one it has to create) and deletes, one message or
a tagged set at a time, and a second client (imaplib) sees each change;
changes made by imaplib, `postnook deliver` and APPEND show up in a new mutt
run, in a mutt that has the mailbox open, with a header and body cache, and
in a mutt waiting in IDLE. mutt also APPENDs from a local folder and reads a
3 MB message back unchanged; one test runs over STARTTLS.

How mutt is driven without a person: it runs under a pseudo-terminal
(pty.fork, TERM=vt100, 24x100) with a throwaway muttrc (-n -F) that answers
every question mutt could ask beforehand: the password is set, the server's
self-made certificate is trusted through $certificate_file, $confirmcreate,
$confirmappend, $delete, $move, $quit and $wait_key are set, no header cache
unless a test asks for one. The keystrokes come from `-e 'push "..."'` and
end in <quit>. An unexpected prompt, or an error inside the pushed keys
(mutt then drops the rest of them, <quit> included), leaves mutt waiting for
a key: the run is killed (its whole process group) after a timeout and the
test fails showing the screen and mutt's IMAP trace (-d 2, ~/.muttdebug0).

What mutt sees is read back without scraping the screen: <pipe-message> into
a file (the message as mutt fetched it) and a copy of every message into a
local MMDF folder (<tag-pattern>~A ... <copy-message>), whose Status:/X-Status:
headers carry mutt's idea of the flags. Every run also checks mutt's trace
for a tagged NO or BAD from the server; the only ones expected are the
[NONEXISTENT] STATUS and NO [TRYCREATE] COPY when mutt saves to a folder that
does not exist yet (it then CREATEs it and copies again).
"""
import fcntl
import mailbox
import os
import pty
import re
import select
import shutil
import signal
import struct
import sys
import termios
import threading
import time

import pytest

from imap_util import start_imap
from postnook_fixture import BIN, SAN_PATTERNS, SLOW, crlf, make_msg

pytestmark = pytest.mark.skipif(not shutil.which("mutt"), reason="mutt not installed")

ESC = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x0f|\x0e")


@pytest.fixture
def srv(make_server):
    return start_imap(make_server, users=("alice",))


class Mutt:
    """A throwaway mutt setup (HOME, muttrc, files) for user alice."""

    def __init__(self, srv, base, kind="tls", name=None, **extra):
        self.srv = srv
        self.home = base / (name or ("mutt-" + kind))
        self.home.mkdir()
        port = srv.iports[kind]
        scheme = "imaps" if kind == "tls" else "imap"
        self.url = "%s://alice@localhost:%d/" % (scheme, port)
        settings = {
            "folder": self.url, "spoolfile": "+INBOX",
            "imap_user": "alice", "imap_pass": srv.users["alice"],
            "imap_idle": "no", "imap_check_subscribed": "no",
            # the server's self-made certificate, trusted as is; the name checked
            "certificate_file": srv.cert_path, "ssl_verify_host": "yes",
            "ssl_force_tls": "yes", "ssl_starttls": "yes",
            "header_cache": "", "message_cachedir": "", "tmpdir": str(self.home),
            "record": "", "postponed": "", "mbox": "", "mbox_type": "MMDF",
            "move": "no", "delete": "yes", "quit": "yes", "confirmappend": "no",
            "confirmcreate": "no", "wait_key": "no", "beep": "no", "sleep_time": "0",
            "mark_old": "no", "help": "no", "sort": "mailbox-order",
            "pipe_split": "yes", "pipe_decode": "no", "timeout": "5",
        }
        settings.update(extra)
        self.rc = self.home / "muttrc"
        self.rc.write_text("".join("set %s='%s'\n" % kv for kv in settings.items()))
        self.runs = 0

    def run(self, keys, folder="=INBOX", timeout=15 * SLOW, during=None):
        """mutt -f FOLDER with KEYS pushed (ending in <quit>); returns
        (screen text, IMAP trace). Fails the test when mutt does not exit
        by itself within the timeout (a prompt nobody answers).
        during(mutt, send): run in a thread while mutt runs, instead of a
        final <quit> in KEYS; send(bytes) types on mutt's terminal, and "q"
        is typed when it returns (or fails)."""
        assert (during or keys.endswith("<quit>")) and '"' not in keys
        self.runs += 1
        for old in self.home.glob(".muttdebug*"):
            old.unlink()
        env = dict(os.environ, HOME=str(self.home), TERM="vt100", LINES="24", COLUMNS="100",
                   LC_ALL="C.UTF-8", MAILCAPS="/dev/null", EDITOR="false", VISUAL="false")
        env.pop("MAIL", None)
        argv = ["mutt", "-n", "-d", "2", "-F", str(self.rc), "-f", folder]
        if keys:
            argv += ["-e", 'push "%s"' % keys]
        pid, fd = pty.fork()
        if pid == 0:
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
                os.execvpe("mutt", argv, env)
            finally:
                os._exit(127)
        out = b""
        deadline = time.time() + timeout
        timed_out = False
        failed = []
        if during:
            def side():
                try:
                    during(self, lambda b: os.write(fd, b))
                except BaseException as e:   # reported after mutt is gone
                    failed.append(e)
                finally:
                    try:
                        os.write(fd, b"q")
                    except OSError:
                        pass
            th = threading.Thread(target=side, daemon=True)
            th.start()
        try:
            while True:
                left = deadline - time.time()
                if left <= 0:
                    timed_out = True
                    break
                r, _, _ = select.select([fd], [], [], left)
                if not r:
                    continue
                try:
                    d = os.read(fd, 65536)
                except OSError:      # EIO: the terminal's other side is closed
                    d = b""
                if not d:
                    break
                out += d
        finally:
            if timed_out:
                os.killpg(pid, signal.SIGKILL)   # forkpty made mutt a session (and group) leader
            _, status = os.waitpid(pid, 0)
            if during:
                th.join(timeout)
            os.close(fd)
        if failed:
            raise failed[0]
        screen = ESC.sub(b"", out).decode(errors="replace")
        trace = self.last_trace = self.trace()
        tail = "\n--- screen (last 1500 chars) ---\n%s\n--- mutt IMAP trace (last 40 lines) ---\n%s" % (
            screen[-1500:], "\n".join(trace.splitlines()[-40:]))
        if timed_out:
            pytest.fail("mutt run %d (%s) did not exit within %ss: waiting at a prompt?%s"
                        % (self.runs, keys, timeout, tail), pytrace=False)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, \
            "mutt run %d (%s) exit status %#x%s" % (self.runs, keys, status, tail)
        bad = [l for l in trace.splitlines() if re.search(r"\d< a\d+ (NO|BAD)\b", l)
               and "[TRYCREATE]" not in l and "[NONEXISTENT] STATUS" not in l]
        assert not bad, "server refused a mutt command: %s%s" % (bad, tail)
        return screen, trace

    def wait_trace(self, pattern, after=0, timeout=10 * SLOW):
        """Wait until mutt's trace (from offset `after`) matches pattern;
        returns the end offset of the match."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.compile(pattern, re.M).search(self.trace(), after)
            if m:
                return m.end()
            time.sleep(0.05)
        raise AssertionError("mutt's trace never showed %r; its end:\n%s" % (pattern, self.trace()[-2000:]))

    def trace(self):
        f = self.home / ".muttdebug0"
        return f.read_text(errors="replace") if f.exists() else ""

    def pipe(self, keys_before, name):
        """Pipe the message selected by keys_before into a file; its bytes."""
        out = self.home / name
        self.run("%s<pipe-message>cat > %s<enter><quit>" % (keys_before, out))
        assert out.exists(), "mutt wrote no %s" % out
        return out.read_bytes()

    def snapshot(self, folder="=INBOX", keys_before=""):
        """Every message of a (non-empty) folder as mutt sees it:
        [(subject, flags, message)], flags a set of 'R' (read), 'F' (flagged),
        'A' (answered), from the Status/X-Status headers of an MMDF copy."""
        dest = self.home / ("snap%d.mmdf" % (self.runs + 1))
        self.run("%s<tag-pattern>~A<enter><tag-prefix><copy-message>%s<enter><quit>"
                 % (keys_before, dest), folder)
        assert dest.exists(), "mutt copied nothing to %s" % dest
        return parse_mmdf(dest)


def parse_mmdf(path):
    out = []
    for msg in mailbox.MMDF(str(path)):
        flags = set((msg.get("Status", "") + msg.get("X-Status", "")).replace("O", ""))
        out.append((msg["Subject"], flags, msg))
    return out


def ok(res):
    """An imaplib (typ, data) that must be OK (imaplib returns a NO, it does not raise)."""
    assert res[0] == "OK", res
    return res[1]


def uid_flags(m):
    """{uid: set of flags} of the selected mailbox, by imaplib (without the
    session-bound \\Recent, which says which session saw a message first)."""
    typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
    assert typ == "OK", data
    res = {}
    for d in data:
        if d is None:
            continue
        line = d if isinstance(d, bytes) else d[0]
        uid = re.search(rb"UID (\d+)", line)
        fl = re.search(rb"FLAGS \(([^)]*)\)", line)
        if uid and fl:
            res[int(uid.group(1))] = set(fl.group(1).decode().split()) - {"\\Recent"}
    return res


def subjects(m):
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", data
    return [re.sub(r"^Subject: *", "", d[1].decode().strip()) for d in data if isinstance(d, tuple)]


def test_mutt_read_flag_save_delete(srv, tmp_path):
    """Each thing mutt does, seen by imaplib selected on INBOX all along."""
    msgs = {i: make_msg("mutt-%d" % i, subject="mutt %d" % i) for i in range(1, 6)}
    for i in sorted(msgs):
        srv.deliver_ok("alice", msgs[i])
    mutt = Mutt(srv, tmp_path)
    other = srv.imap(kind="tls")
    other.select("INBOX")
    assert all("\\Seen" not in f for f in uid_flags(other).values())

    # read: message 1 opened in the pager, back to the index; mutt stores \Seen
    mutt.run("1<enter><display-message><exit><quit>")
    f = uid_flags(other)
    assert f[1] == {"\\Seen"} and all(not f[u] for u in (2, 3, 4, 5)), f

    # flag message 2
    mutt.run("2<enter><flag-message><quit>")
    f = uid_flags(other)
    assert f[2] == {"\\Flagged"} and f[1] == {"\\Seen"} and not f[3], f

    # save message 3 to Archive (mutt: UID COPY, \Deleted, then EXPUNGE on sync)
    mutt.run("3<enter><save-message>=Archive<enter><sync-mailbox><quit>")
    assert sorted(uid_flags(other)) == [1, 2, 4, 5]
    other.select("Archive")
    typ, data = other.uid("FETCH", "1:*", "(BODY.PEEK[])")
    assert typ == "OK" and data[0][1] == crlf(msgs[3]), data

    # save message 4 (now the 3rd) to a folder that does not exist yet: mutt
    # gets NO [TRYCREATE], creates it ($confirmcreate unset) and copies again
    mutt.run("3<enter><save-message>=Lists/mutt<enter><sync-mailbox><quit>")
    other.select("INBOX")
    assert sorted(uid_flags(other)) == [1, 2, 5]
    typ, data = other.list('""', '"Lists/*"')
    assert typ == "OK" and any(b'"Lists/mutt"' in d or b" Lists/mutt" in d for d in data), data
    other.select("Lists/mutt")
    assert subjects(other) == ["mutt 4"]

    # delete message 5 (now the 3rd) and sync: expunged for everyone
    other.select("INBOX")
    mutt.run("3<enter><delete-message><sync-mailbox><quit>")
    f = uid_flags(other)
    assert sorted(f) == [1, 2], f
    assert subjects(other) == ["mutt 1", "mutt 2"]

    # a second mutt run sees the same: 1 read, 2 flagged, nothing else
    snap = mutt.snapshot()
    assert [(s, fl) for s, fl, _ in snap] == [("mutt 1", {"R"}), ("mutt 2", {"F"})], snap
    snap = mutt.snapshot("=Archive")
    assert [s for s, _, _ in snap] == ["mutt 3"]
    other.logout()


def test_mutt_sees_other_clients(srv, tmp_path):
    """What imaplib and `postnook deliver` do, seen by a new mutt run, and by
    a mutt that has INBOX open while it happens; a body read through mutt
    is the message delivered."""
    body = ("First line.\n.\n..a line starting with two dots\nFrom the start of a line\n"
            "a long line " + "x" * 990 + "\n\ttabbed\n\n\nlast line, no blank after\n")
    a = make_msg("a", body=body, subject="delivered one")
    srv.deliver_ok("alice", a)
    srv.deliver_ok("alice", make_msg("b", subject="flag me"))
    m = srv.imap(kind="tls")
    m.select("INBOX")
    ok(m.uid("STORE", "2", "+FLAGS", "(\\Flagged)"))
    c = make_msg("c", subject="appended read and answered")
    typ, _ = m.append("INBOX", "(\\Seen \\Answered)", None, crlf(c))
    assert typ == "OK"

    mutt = Mutt(srv, tmp_path)
    # the body through mutt: what was delivered, byte for byte (LF line ends)
    got = mutt.pipe("1<enter>", "a.eml")
    assert got == a, (got[:300], a[:300])
    snap = mutt.snapshot()
    assert [(s, fl) for s, fl, _ in snap] == [
        ("delivered one", set()), ("flag me", {"F"}), ("appended read and answered", {"R", "A"})], snap
    # piping is a peek: message 1 still unseen for the other client
    assert "\\Seen" not in uid_flags(m)[1]

    # now change things while mutt has INBOX open: a command run from mutt
    # (<pipe-message>) flags 1, expunges 2 and delivers a new message, then
    # <imap-fetch-mail> makes mutt ask the server (NOOP) and take it all in
    d = make_msg("d", subject="arrived while open", body="Fresh.\n")
    (tmp_path / "d.eml").write_bytes(d)
    helper = tmp_path / "helper.py"
    helper.write_text(
        "import imaplib, ssl, subprocess, sys\n"
        "ctx = ssl.create_default_context(cafile=%r)\n"
        "m = imaplib.IMAP4_SSL('localhost', %d, ssl_context=ctx)\n"
        "m.login('alice', %r)\n"
        "m.select('INBOX')\n"
        "assert m.uid('STORE', '1', '+FLAGS', '(\\\\Flagged)')[0] == 'OK'\n"
        "assert m.uid('STORE', '2', '+FLAGS', '(\\\\Deleted)')[0] == 'OK'\n"
        "assert m.expunge()[0] == 'OK'\n"
        "m.logout()\n"
        "r = subprocess.run([%r, 'deliver', '-c', %r, 'alice'], stdin=open(%r, 'rb'))\n"
        "assert r.returncode == 0, r\n"
        "open(%r, 'w').write('done')\n"
        % (srv.cert_path, srv.iports["tls"], srv.users["alice"], BIN, str(srv.conf),
           str(tmp_path / "d.eml"), str(tmp_path / "helper.done")))
    # the helper's exit status is hidden from mutt (a failure would make it
    # wait for a key); helper.done and helper.log tell how it went
    cmd = "%s %s > %s 2>&1; true" % (sys.executable, helper, tmp_path / "helper.log")
    snap = mutt.snapshot(keys_before="<pipe-message>%s<enter><imap-fetch-mail>" % cmd)
    log = (tmp_path / "helper.log").read_text() if (tmp_path / "helper.log").exists() else ""
    assert (tmp_path / "helper.done").exists(), "helper failed: " + log
    assert not any(p in log for p in SAN_PATTERNS), log   # the deliver run by the helper
    assert [(s, fl) for s, fl, _ in snap] == [
        ("delivered one", {"F"}), ("appended read and answered", {"R", "A"}),
        ("arrived while open", set())], snap
    assert snap[2][2].get_payload().rstrip("\n") == "Fresh."  # MMDF keeps no final newline
    m.logout()


def test_mutt_starttls(srv, tmp_path):
    """mutt on the STARTTLS port with $ssl_force_tls: TLS before the login,
    then the same read and flag seen by imaplib."""
    msg = make_msg("s1", subject="over starttls")
    srv.deliver_ok("alice", msg)
    mutt = Mutt(srv, tmp_path, kind="starttls")
    got = mutt.pipe("1<enter>", "s1.eml")
    assert got == msg
    trace = mutt.trace()
    sent = [l for l in trace.splitlines() if re.search(r"\d> a\d+ ", l)]
    assert any(l.endswith(" STARTTLS") for l in sent[:3]), sent[:3]
    assert not any(re.search(r"> a\d+ (LOGIN|AUTHENTICATE)", l) for l in
                   trace.split("STARTTLS", 1)[0].splitlines()), "a login before STARTTLS"
    mutt.run("1<enter><display-message><exit><flag-message><quit>")
    m = srv.imap(kind="starttls")
    m.select("INBOX")
    assert uid_flags(m) == {1: {"\\Seen", "\\Flagged"}}
    m.logout()


def test_mutt_tagged_sets(srv, tmp_path):
    """mutt on many messages at once: tagged flag, read, save and delete go
    out as UID sets (UID STORE 2:4,9 ..., UID COPY ...)."""
    for i in range(1, 21):
        srv.deliver_ok("alice", make_msg("t%d" % i, subject="%s %d" % ("even" if i % 2 == 0 else "odd", i)))
    mutt = Mutt(srv, tmp_path)
    # flag every even one, mark 1..5 read, then save the odd ones above 10 to Archive
    _, trace = mutt.run("<tag-pattern>~s even<enter><tag-prefix><flag-message><untag-pattern>~A<enter>"
                        "<tag-pattern>~m 1-5<enter><tag-prefix><clear-flag>N<untag-pattern>~A<enter>"
                        "<tag-pattern>~s odd ~m 11-<enter><tag-prefix><save-message>=Archive<enter>"
                        "<sync-mailbox><quit>")
    # (mutt pipelines: a second command in one write is logged on a line of its own)
    assert re.search(r"^(.*> )?a\d+ UID STORE \S*[:,]\S* \+FLAGS.SILENT \(\\Flagged\)", trace, re.M), trace[-3000:]
    assert re.search(r"^(.*> )?a\d+ UID COPY \S*[:,]\S* \"?Archive", trace, re.M), trace[-3000:]
    m = srv.imap()
    m.select("INBOX")
    f = uid_flags(m)
    assert sorted(f) == list(range(1, 11)) + [12, 14, 16, 18, 20], sorted(f)
    for uid, fl in f.items():
        want = set()
        if uid % 2 == 0:
            want.add("\\Flagged")
        if uid <= 5:
            want.add("\\Seen")
        assert fl == want, (uid, fl)
    m.select("Archive")
    assert subjects(m) == ["odd %d" % i for i in (11, 13, 15, 17, 19)]
    # clear: unflag all, delete the flagged ones below 10 in one go (mutt's view
    # of the flags from the server: ~F matches 2 4 6 8 10 12 ...)
    mutt.run("<tag-pattern>~F ~m 1-5<enter><tag-prefix><delete-message><untag-pattern>~A<enter>"
             "<tag-pattern>~F<enter><tag-prefix><clear-flag>!<sync-mailbox><quit>")
    m.select("INBOX")
    f = uid_flags(m)
    assert sorted(f) == [1, 3, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20], sorted(f)
    assert all("\\Flagged" not in fl for fl in f.values()), f
    m.logout()


def test_mutt_header_cache(srv, tmp_path):
    """With a header and body cache (how many people run mutt), a second run
    takes headers from the cache and only flags from the server: it must
    still see flags changed, messages expunged and messages added by others."""
    for i in range(1, 7):
        srv.deliver_ok("alice", make_msg("h%d" % i, subject="cached %d" % i))
    cache = tmp_path / "cache"
    cache.mkdir()
    mutt = Mutt(srv, tmp_path, header_cache=str(cache) + "/", message_cachedir=str(cache) + "/bodies")
    snap = mutt.snapshot()
    assert [(s, fl) for s, fl, _ in snap] == [("cached %d" % i, set()) for i in range(1, 7)]
    assert any(cache.iterdir())
    m = srv.imap()
    m.select("INBOX")
    ok(m.uid("STORE", "2", "+FLAGS", "(\\Flagged \\Seen)"))
    ok(m.uid("STORE", "3,5", "+FLAGS", "(\\Deleted)"))
    ok(m.expunge())
    srv.deliver_ok("alice", make_msg("h7", subject="cached 7"))
    snap = mutt.snapshot()
    trace = mutt.last_trace
    assert [(s, fl) for s, fl, _ in snap] == [
        ("cached 1", set()), ("cached 2", {"R", "F"}), ("cached 4", set()), ("cached 6", set()),
        ("cached 7", set())], snap
    # the others came from the caches: mutt asked only for their flags
    # (UID FETCH 1:6 (UID FLAGS)), headers and body only of the new one
    hdr = [l for l in trace.splitlines() if re.search(r"a\d+ FETCH .*HEADER.FIELDS", l)]
    assert len(hdr) == 1 and not re.search(r"FETCH 1[:,) ]", hdr[0]), hdr
    assert re.findall(r"a\d+ UID FETCH (\S+) BODY.PEEK\[\]", trace) == ["7"], trace[-3000:]
    m.logout()


def test_mutt_append_and_big_message(srv, tmp_path):
    """mutt copies from a local folder to the server (APPEND with flags and
    date), and reads a 3 MB message back through TLS unchanged."""
    local = tmp_path / "local.mmdf"
    box = mailbox.MMDF(str(local))
    for i, (st, xst) in enumerate((("RO", "F"), ("O", ""), ("RO", "A"))):
        msg = mailbox.MMDFMessage(make_msg("l%d" % i, subject="local %d" % i))
        msg["Status"] = st
        if xst:
            msg["X-Status"] = xst
        box.add(msg)
    box.close()
    big = make_msg("big", subject="big one",
                   body="".join("line %06d of a big message, with some text to fill it up to width\n" % n
                                for n in range(45000)))
    assert len(big) > 3000000
    srv.deliver_ok("alice", big)
    mutt = Mutt(srv, tmp_path)
    _, trace = mutt.run("<tag-pattern>~A<enter><tag-prefix><copy-message>%sDrafts<enter><quit>"
                        % mutt.url, folder=str(local))
    assert "APPEND" in trace
    m = srv.imap()
    m.select("Drafts")
    f = uid_flags(m)
    assert sorted(f.values(), key=sorted) == sorted([{"\\Seen", "\\Flagged"}, set(), {"\\Seen", "\\Answered"}],
                                                    key=sorted), f
    assert subjects(m) == ["local 0", "local 1", "local 2"]
    typ, data = m.uid("FETCH", "2", "(BODY.PEEK[TEXT])")
    # (the MMDF file Python wrote has a blank line before each separator: mutt
    # counts it as part of the message)
    assert data[0][1].rstrip(b"\r\n") == b"Hello, this is message l1.\r\nSecond line.", data
    m.logout()
    t0 = time.time()
    got = mutt.pipe("1<enter>", "big.eml")
    assert got == big, (len(got), len(big))
    assert time.time() - t0 < 10 * SLOW


def test_mutt_idle(srv, tmp_path):
    """mutt left open with $imap_idle waits in IDLE; a delivery and a flag
    change by imaplib reach it without a key pressed."""
    srv.deliver_ok("alice", make_msg("i1", subject="before idle"))
    mutt = Mutt(srv, tmp_path, imap_idle="yes", timeout="1", mail_check="1")

    def during(mutt, send):
        at = mutt.wait_trace(r"^.*< \+ idling")
        srv.deliver_ok("alice", make_msg("i2", subject="during idle"))
        at = mutt.wait_trace(r"^.*< \* 2 EXISTS", at)
        # mutt leaves IDLE (DONE), fetches the new headers, and idles again
        at = mutt.wait_trace(r"^.*< \+ idling", at)
        m = srv.imap()
        m.select("INBOX")
        ok(m.uid("STORE", "1", "+FLAGS", "(\\Flagged)"))
        m.logout()
        mutt.wait_trace(r"^.*< \* 1 FETCH \(.*FLAGS \((\\Recent )?\\Flagged( \\Recent)?\)", at)

    screen, trace = mutt.run("", during=during)
    assert re.search(r"> a\d+ IDLE", trace) and re.search(r"^DONE|> DONE", trace, re.M), trace[-2000:]
    snap = mutt.snapshot()
    assert [(s, fl) for s, fl, _ in snap] == [("before idle", {"F"}), ("during idle", set())], snap
