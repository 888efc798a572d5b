"""fetchmail as a real POP3 client: plain, POP3S, STLS, keep + UIDL
tracking, delete after fetch, postnook deliver as fetchmail's MDA."""
import os
import re
import shutil
import subprocess

import pytest

from postnook_fixture import BIN, SLOW, make_msg

pytestmark = pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail not installed")


def fetch(server, tmp_path, user="alice", kind="plain", keep=True, mda=None, name="fm"):
    home = tmp_path / name
    home.mkdir(exist_ok=True)
    out = home / "out.mbox"
    rc = home / "fetchmailrc"
    port = server.ports[kind]
    opts = "sslproto ''"      # fetchmail 6.4 would otherwise insist on STLS
    if kind == "tls":
        opts = 'ssl sslcertck sslcertfile "%s" sslproto "TLS1.2+"' % server.cert_path
    elif kind == "starttls":
        opts = 'sslcertck sslcertfile "%s" sslproto "TLS1.2+"' % server.cert_path
    host = "localhost" if kind != "plain" else "127.0.0.1"
    rc.write_text(
        'set no bouncemail\n'
        'poll %s port %d proto pop3 uidl timeout 30\n'
        '  user "%s" there with password "%s" is "root" here\n'
        '  %s %s\n'
        '  mda "%s"\n'
        % (host, port, user, server.users[user], "keep" if keep else "nokeep", opts,
           mda or ("cat >> %s" % out)))
    os.chmod(rc, 0o600)
    env = dict(os.environ, FETCHMAILHOME=str(home), HOME=str(home))
    r = subprocess.run(["fetchmail", "-v", "-N", "--nosyslog", "-f", str(rc), "-i", str(home / "idfile"),
                        "--pidfile", str(home / "pid")],
                       capture_output=True, text=True, env=env, timeout=60 * SLOW)
    transcript = r.stdout + r.stderr
    print("--- fetchmail (%s, exit %d) ---\n%s" % (kind, r.returncode, transcript))
    got = out.read_bytes() if out.exists() else b""
    return r.returncode, got, transcript


def ids(mbox):
    return re.findall(rb"(?im)^Message-ID:\s*(<[^>]+>)", mbox)


@pytest.mark.parametrize("kind", ["plain", "tls", "starttls"])
def test_fetchmail_keep_then_nothing_new(server, tmp_path, kind):
    for i in range(3):
        server.deliver_ok("alice", make_msg("fm-%s-%d" % (kind, i), body=".dot line\nbody %d\n" % i))
    rc, got, tr = fetch(server, tmp_path, kind=kind)
    assert rc == 0, "fetchmail exit %d (want 0):\n%s" % (rc, tr)
    assert sorted(ids(got)) == sorted(b"<fm-%s-%d@postnook.test>" % (kind.encode(), i) for i in range(3)), tr
    assert b"\n.dot line\n" in got.replace(b"\r\n", b"\n"), "dot-stuffed line not restored"
    rc, got2, tr = fetch(server, tmp_path, kind=kind)
    assert rc == 1, "second fetchmail run with keep+uidl: exit %d (want 1, no new mail):\n%s" % (rc, tr)
    assert got2 == got, "second run fetched again"
    server.deliver_ok("alice", make_msg("fm-%s-new" % kind))
    rc, got3, tr = fetch(server, tmp_path, kind=kind)
    assert rc == 0, tr
    assert ids(got3[len(got):]) == [b"<fm-%s-new@postnook.test>" % kind.encode()], tr
    p = server.pop_retry("alice")
    assert p.stat()[0] == 4, "keep: messages were deleted from the server"
    p.quit()


def test_fetchmail_delete(server, tmp_path):
    for i in range(4):
        server.deliver_ok("alice", make_msg("fmdel-%d" % i))
    rc, got, tr = fetch(server, tmp_path, keep=False)
    assert rc == 0, tr
    assert len(ids(got)) == 4, tr
    p = server.pop_retry("alice")
    assert p.stat() == (0, 0), "maildrop not empty after fetchmail without keep"
    p.quit()


def test_fetchmail_into_postnook_deliver(server, tmp_path):
    msgs = [make_msg("relay-%d" % i, body="relay body %d\n" % i) for i in range(3)]
    for m in msgs:
        server.deliver_ok("alice", m)
    mda = "%s deliver -c %s bob" % (BIN, server.conf)
    rc, _, tr = fetch(server, tmp_path, kind="tls", keep=False, mda=mda)
    assert rc == 0, tr
    a = server.pop_retry("alice")
    assert a.stat()[0] == 0
    a.quit()
    b = server.pop_retry("bob")
    assert b.stat()[0] == 3, "bob got %d of 3 messages through postnook deliver" % b.stat()[0]
    got = set()
    for i in range(1, 4):
        lines = b.retr(i)[1]
        got |= {l for l in lines if l.lower().startswith(b"message-id:")}
        assert any(l.startswith(b"relay body") for l in lines)
    assert got == {b"Message-ID: <relay-%d@postnook.test>" % i for i in range(3)}
    b.quit()
