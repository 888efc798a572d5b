"""Real clients from Debian against the IMAP server: curl (imap://,
imaps://, STARTTLS), mbsync (two-way sync of 1,000 messages with folders,
run twice, then changes both ways) and offlineimap."""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from imap_util import start_imap
from postnook_fixture import SLOW, make_msg


@pytest.fixture
def srv(make_server):
    s = start_imap(make_server, users=("alice",))
    return s


def curl(srv, url, *extra):
    pw = srv.users["alice"]
    return subprocess.run(["curl", "-sS", "--max-time", str(20 * SLOW), "-u", "alice:" + pw] + list(extra) + [url],
                          capture_output=True, timeout=30 * SLOW)


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_curl(srv):
    srv.deliver_ok("alice", make_msg(1))
    want = make_msg(1).replace(b"\n", b"\r\n")
    p, t, s = srv.iports["plain"], srv.iports["tls"], srv.iports["starttls"]
    r = curl(srv, "imap://127.0.0.1:%d/INBOX;UID=1" % p)
    assert r.returncode == 0 and r.stdout == want, r.stderr
    res = ["--cacert", srv.cert_path, "--resolve", "localhost:%d:127.0.0.1" % t]
    r = curl(srv, "imaps://localhost:%d/INBOX;UID=1" % t, *res)
    assert r.returncode == 0 and r.stdout == want, r.stderr
    res = ["--ssl-reqd", "--cacert", srv.cert_path, "--resolve", "localhost:%d:127.0.0.1" % s]
    r = curl(srv, "imap://localhost:%d/INBOX;UID=1" % s, *res)
    assert r.returncode == 0 and r.stdout == want, r.stderr
    r = curl(srv, "imap://127.0.0.1:%d/" % p)
    assert b'"Sent"' in r.stdout and b"\\Sent" in r.stdout
    r = curl(srv, "imap://127.0.0.1:%d/INBOX?SUBJECT%%20message" % p)
    assert r.stdout == b"* SEARCH 1\r\n"





def mbsync_conf(srv, base, kind="tls"):
    maildir = base / "Mail"
    maildir.mkdir(parents=True, exist_ok=True)
    conf = base / "mbsyncrc"
    tls = {"tls": "IMAPS", "starttls": "STARTTLS", "plain": "None"}[kind]
    conf.write_text(
        "IMAPAccount pn\nHost localhost\nPort %d\nUser alice\nPass %s\nSSLType %s\nCertificateFile %s\n"
        "PipelineDepth 50\n\n"
        "IMAPStore pn-remote\nAccount pn\n\n"
        "MaildirStore pn-local\nPath %s/\nInbox %s/INBOX\nSubFolders Verbatim\n\n"
        "Channel pn\nFar :pn-remote:\nNear :pn-local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n"
        % (srv.iports[kind], srv.users["alice"], tls, srv.cert_path, maildir, maildir))
    return conf, maildir


def mbsync(conf):
    r = subprocess.run(["mbsync", "-c", str(conf), "-a"], capture_output=True, timeout=120 * SLOW,
                       env=dict(os.environ, HOME=str(conf.parent)))
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def maildir_files(d):
    return sorted(p for p in d.rglob("*") if p.is_file() and p.parent.name in ("cur", "new"))


@pytest.mark.skipif(not shutil.which("mbsync"), reason="mbsync (isync) not installed")
def test_mbsync_two_way(srv, tmp_path):
    m = srv.imap()
    m.create("Folder/Sub")
    batch = b""
    r = srv.iraw()
    r.send(b'a LOGIN alice "%s"\r\n' % srv.users["alice"].encode())
    assert r.readline().startswith(b"a OK")
    for i in range(1000):
        msg = make_msg(i).replace(b"\n", b"\r\n")
        batch += b"b%d APPEND %s {%d+}\r\n%s\r\n" % (i, b"INBOX" if i % 10 else b"Folder/Sub", len(msg), msg)
    r.send(batch)
    while True:
        line = r.readline()
        if line.startswith(b"b999 "):
            break
    r.close()

    conf, maildir = mbsync_conf(srv, tmp_path)
    mbsync(conf)
    files = maildir_files(maildir)
    assert len(files) == 1000, len(files)
    assert (maildir / "Folder" / "Sub").is_dir()
    # a second run changes nothing: the same files, untouched
    before = {p: p.stat().st_mtime_ns for p in files}
    mbsync(conf)
    after = {p: p.stat().st_mtime_ns for p in maildir_files(maildir)}
    assert before == after

    # a change on the server comes down: flag one, delete one
    m.select("INBOX")
    m.store("1", "+FLAGS", "(\\Flagged)")
    m.store("2", "+FLAGS", "(\\Deleted)")
    m.expunge()
    mbsync(conf)
    files = maildir_files(maildir)
    assert len(files) == 999
    assert any(re.search(r":2,[A-Z]*F", p.name) for p in files)

    # a change in the maildir goes up: mark one seen, delete one
    inbox = [p for p in files if "INBOX" in str(p)]
    seen = inbox[0]
    seen.rename(seen.with_name(seen.name.split(":2,")[0] + ":2,S"))
    inbox[1].unlink()
    mbsync(conf)
    m.select("INBOX")
    typ, d = m.search(None, "ALL")
    assert len(d[0].split()) == 898
    typ, d = m.search(None, "SEEN")
    assert len(d[0].split()) >= 1
    m.logout()


@pytest.mark.skipif(not shutil.which("offlineimap"), reason="offlineimap (offlineimap3) not installed")
def test_offlineimap(srv, tmp_path):
    m = srv.imap()
    m.create("Work")
    for i in range(20):
        m.append("INBOX" if i % 4 else "Work", None, None, make_msg(i).replace(b"\n", b"\r\n"))
    rc = tmp_path / "offlineimaprc"
    rc.write_text(
        "[general]\naccounts = pn\nmetadata = %s/meta\n\n"
        "[Account pn]\nlocalrepository = local\nremoterepository = remote\n\n"
        "[Repository local]\ntype = Maildir\nlocalfolders = %s/Mail\n\n"
        "[Repository remote]\ntype = IMAP\nremotehost = localhost\nremoteport = %d\nremoteuser = alice\n"
        "remotepass = %s\nssl = yes\nsslcacertfile = %s\n"
        % (tmp_path, tmp_path, srv.iports["tls"], srv.users["alice"], srv.cert_path))
    (tmp_path / "Mail").mkdir()

    def run():
        r = subprocess.run(["offlineimap", "-c", str(rc), "-o", "-u", "basic"], capture_output=True,
                           timeout=120 * SLOW, env=dict(os.environ, HOME=str(tmp_path)))
        assert r.returncode == 0 and b"ERROR" not in r.stdout + r.stderr, r.stdout[-2000:] + r.stderr[-2000:]

    run()
    files = maildir_files(tmp_path / "Mail")
    assert len(files) == 20
    # flag one on the server, delete one locally, sync again
    m.select("INBOX")
    m.store("1", "+FLAGS", "(\\Flagged)")
    [p for p in files if "INBOX" in str(p)][-1].unlink()
    run()
    typ, d = m.search(None, "ALL")
    assert len(d[0].split()) == 14
    assert any(re.search(r":2,[A-Z]*F", p.name) for p in maildir_files(tmp_path / "Mail"))
    m.logout()
