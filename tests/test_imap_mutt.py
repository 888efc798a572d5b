"""Debian's mutt against the IMAP server, scripted: it reads, flags, saves
to another folder and deletes, and a second client (imaplib) sees each
change; changes made by imaplib, `postnook deliver` and APPEND (also while
mutt has the mailbox open) show up in mutt.

How mutt is driven without a person: it runs under a pseudo-terminal
(pty.fork, TERM=vt100, 24x100) with a throwaway muttrc (-n -F) that answers
every question mutt could ask beforehand: the password is set, the server's
self-made certificate is trusted through $certificate_file, $confirmcreate,
$confirmappend, $delete, $move, $quit and $wait_key are set, there is no
header cache. The keystrokes come from `-e 'push "..."'` and always end in
<quit>. An unexpected prompt would leave mutt waiting for a key: the run is
then killed (its whole process group) after a timeout and the test fails
showing the screen and mutt's IMAP trace (-d 2, ~/.muttdebug0).

What mutt sees is read back without scraping the screen: <pipe-message> into
a file (the message as mutt fetched it) and a copy of every message into a
local MMDF folder (<tag-pattern>~A ... <copy-message>), whose Status:/X-Status:
headers carry mutt's idea of the flags. Every run also checks mutt's trace
for a tagged NO or BAD from the server (only NO [TRYCREATE] is expected, when
mutt saves to a folder that does not exist yet and creates it).
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
import time

import pytest

from imap_util import start_imap
from postnook_fixture import BIN, SLOW, crlf, make_msg

pytestmark = pytest.mark.skipif(not shutil.which("mutt"), reason="mutt not installed")

ESC = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x0f|\x0e")


@pytest.fixture
def srv(make_server):
    return start_imap(make_server, users=("alice",))


class Mutt:
    """A throwaway mutt setup (HOME, muttrc, files) for user alice."""

    def __init__(self, srv, base, kind="tls"):
        self.srv = srv
        self.home = base / ("mutt-" + kind)
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
        self.rc = self.home / "muttrc"
        self.rc.write_text("".join("set %s='%s'\n" % kv for kv in settings.items()))
        self.runs = 0

    def run(self, keys, folder="=INBOX", timeout=15 * SLOW):
        """mutt -f FOLDER with KEYS pushed (ending in <quit>); returns
        (screen text, IMAP trace). Fails the test when mutt does not exit
        by itself within the timeout (a prompt nobody answers)."""
        assert keys.endswith("<quit>") and '"' not in keys
        self.runs += 1
        for old in self.home.glob(".muttdebug*"):
            old.unlink()
        env = dict(os.environ, HOME=str(self.home), TERM="vt100", LINES="24", COLUMNS="100",
                   LC_ALL="C.UTF-8", MAILCAPS="/dev/null", EDITOR="false", VISUAL="false")
        env.pop("MAIL", None)
        argv = ["mutt", "-n", "-d", "2", "-F", str(self.rc), "-f", folder, "-e", 'push "%s"' % keys]
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
            os.close(fd)
        screen = ESC.sub(b"", out).decode(errors="replace")
        trace = self.trace()
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
        'A' (answered), from the Status/X-Status headers of an mbox copy."""
        dest = self.home / ("snap%d.mbox" % (self.runs + 1))
        self.run("%s<tag-pattern>~A<enter><tag-prefix><copy-message>%s<enter><quit>"
                 % (keys_before, dest), folder)
        assert dest.exists(), "mutt copied nothing to %s" % dest
        return parse_mbox(dest)


def parse_mbox(path):
    out = []
    for msg in mailbox.MMDF(str(path)):
        flags = set((msg.get("Status", "") + msg.get("X-Status", "")).replace("O", ""))
        out.append((msg["Subject"], flags, msg))
    return out


def uid_flags(m):
    """{uid: set of flags} of the selected mailbox, by imaplib."""
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
            res[int(uid.group(1))] = set(fl.group(1).decode().split())
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
    m.uid("STORE", "2", "+FLAGS", "(\\Flagged)")
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
