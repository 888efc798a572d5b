"""A private, unprivileged Dovecot IMAP server on loopback, as a
differential oracle: the same session is sent to it and to postnook and
the answers are compared (tests/test_imap_dovecot.py).

Dovecot (Debian's dovecot-imapd, `tests/tools/deps.sh test`) runs from a
temporary directory with its own config: plain IMAP on a free loopback
port, a passwd-file, Maildir homes. Every process of the instance runs as
one unprivileged user: the user running the tests, or `nobody` when that is
root (Dovecot refuses mail access as root); the directory then belongs to
it. Never the system's Dovecot service.

    dv = Dovecot(users={"alice": "pw"})       # a new directory in $TMPDIR
    dv.deliver("alice", b"Subject: x\\n\\nbody\\n")
    dv.start()
    r = dv.login("alice")          # an imap_util.IRaw session
    ...
    dv.cleanup()                               # stop, remove the directory

Helpers to compare answers: normalise() turns a tagged or untagged line
into what both servers must agree on (tags, UIDVALIDITY and Dovecot's
timing suffix removed).
"""
import os
import pathlib
import pwd
import re
import shutil
import subprocess
import tempfile
import time

from imap_util import IRaw
from postnook_fixture import SLOW, Raw, free_port


def available():
    """Why Dovecot cannot run here, or None."""
    if not shutil.which("dovecot") or not shutil.which("doveconf"):
        return "dovecot-imapd is not installed (tests/tools/deps.sh test)"
    if not os.path.exists("/usr/lib/dovecot/imap"):
        return "dovecot-imapd is not installed (no /usr/lib/dovecot/imap)"
    return None


class Dovecot:
    """One private Dovecot instance (IMAP only) in directory base."""

    def __init__(self, base=None, users=None):
        # Its own directory under the system's temporary directory: every
        # directory above it must be searchable by the unprivileged user
        # (pytest's tmp_path is not, for others). stop() removes it.
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="postnook-dovecot-", dir=base))
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
        else:
            pw = pwd.getpwuid(os.geteuid())
        self.user, self.uid, self.gid = pw.pw_name, pw.pw_uid, pw.pw_gid
        self.port = free_port()
        self.users = dict(users or {})
        self.proc = None
        self.seq = 0
        for name in self.users:
            self._maildir(name)
        self._write_config()

    def _maildir(self, name):
        md = self.dir / "home" / name / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (md / sub).mkdir(parents=True, exist_ok=True)
        return md

    def _write_config(self):
        d = self.dir
        with open(d / "passwd", "w") as f:
            for u, p in self.users.items():
                f.write("%s:{PLAIN}%s::::::\n" % (u, p))
        (d / "dovecot.conf").write_text("""# postnook tests: a private, unprivileged Dovecot
instance_name = pntest{port}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain
disable_plaintext_auth = no
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = 0
mail_location = maildir:~/Maildir
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
""".format(d=d, port=self.port, user=self.user, group=self._group(), uid=self.uid, gid=self.gid))

    def _group(self):
        import grp
        return grp.getgrgid(self.gid).gr_name

    def _chown(self):
        if os.geteuid() != 0:
            return
        for root, dirs, files in os.walk(self.dir):
            os.chown(root, self.uid, self.gid)
            for x in files:
                os.chown(os.path.join(root, x), self.uid, self.gid)

    def deliver(self, user, msg, flags=""):
        """Put msg (LF line ends) into user's Maildir as an MDA would; flags
        are Maildir info letters (S seen, F flagged...). Before start(), or
        while running (Dovecot then finds it at the next sync)."""
        self.seq += 1
        md = self._maildir(user)
        t = int(time.time()) - 1000 + self.seq
        vsize = len(msg) + msg.count(b"\n")
        fn = "%d.M%dP%d.pntest,S=%d,W=%d:2,%s" % (t, self.seq, os.getpid(), len(msg), vsize, flags)
        tmp = md / "tmp" / fn
        tmp.write_bytes(msg)
        os.utime(tmp, (t, t))
        if os.geteuid() == 0:
            os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, md / "cur" / fn)

    def start(self):
        why = available()
        if why:
            raise RuntimeError(why)
        self._chown()
        os.chmod(self.dir, 0o755)
        r = subprocess.run(["doveconf", "-c", str(self.dir / "dovecot.conf"), "-n"], capture_output=True,
                           timeout=30)
        assert r.returncode == 0, "doveconf: %s" % r.stderr.decode(errors="replace")[-500:]
        cmd = ["dovecot", "-c", str(self.dir / "dovecot.conf"), "-F"]
        if os.geteuid() == 0:
            # the master itself unprivileged too: nothing of it runs as root
            cmd = ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.gid, "--clear-groups"] + cmd
        self.out = open(self.dir / "master.out", "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                r = Raw(self.port, timeout=2)
                g = r.readline()
                r.close()
                if g and g.startswith(b"* OK"):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("dovecot did not start: %s\n%s" % (self.log()[-1500:],
                                                               (self.dir / "master.out").read_text()[-800:]))

    def log(self):
        try:
            return (self.dir / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.out.close()
        self.proc = None

    def cleanup(self):
        """Stop and remove the instance's directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def iraw(self, timeout=15 * SLOW):
        r = Raw(self.port, timeout=timeout)
        g = r.readline()
        assert g is not None and g.startswith(b"* OK"), "dovecot greeting: %r" % g
        return IRaw(r)

    def login(self, user):
        r = self.iraw()
        r.ok('LOGIN %s "%s"' % (user, self.users[user]))
        return r


def normalise(line):
    """What both servers must agree on in one response line: no tag, no
    UIDVALIDITY value, no Dovecot timing suffix ("(0.001 + 0.000 secs)."),
    and the human text after a tagged or untagged status code kept (clients
    and test tools recognise words like "no longer exist")."""
    if isinstance(line, bytes):
        line = line.decode(errors="replace")
    line = re.sub(r"^[A-Za-z0-9.]+ (OK|NO|BAD)\b", r"TAG \1", line) if not line.startswith("* ") else line
    line = re.sub(r" \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.?$", "", line)
    line = re.sub(r"UIDVALIDITY \d+", "UIDVALIDITY n", line)
    return line.rstrip(".")
