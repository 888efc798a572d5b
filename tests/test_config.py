"""The config file: errors as FILE:LINE: message with exit 78, defaults,
range boundaries, pidfile, file modes, privilege drop."""
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile

import pytest

from postnook_fixture import BIN, SLOW, Server, make_msg, proc_status

GOOD = "datadir = {d}\nhostname = localhost\nlog = stderr\nsync = off\nlisten = pop3 none 127.0.0.1:{p}\n"

BAD = [
    # (id, text appended after the 5 good lines, bad line number or None)
    ("unknown-key", "frobnicate = yes\n", 6),
    ("no-equals", "hostname localhost2\n", 6),
    ("bad-number", "max_connections = abc\n", 6),
    ("number-out-of-range", "login_timeout = 5\n", 6),
    ("negative", "max_per_ip = -3\n", 6),
    ("bad-listen-tls", "listen = pop3 bogus 127.0.0.1:1110\n", 6),
    ("bad-listen-proto", "listen = smtp none 127.0.0.1:1110\n", 6),
    ("bad-listen-port", "listen = pop3 none 127.0.0.1:99999\n", 6),
    ("bad-listen-addr", "listen = pop3 none 300.1.2.3:1110\n", 6),
    ("bad-plaintext", "plaintext_auth = sometimes\n", 6),
    ("bad-sync", "sync = maybe\n", 6),
    ("bad-quota-mode", "quota_exceeded = never\n", 6),
    ("bad-size", "map_size = 12Q\n", 6),
    ("duplicate-key", "# comment\nhostname = again\n", 7),
    ("cert-without-key", "cert = /nonexistent/cert.pem\n", None),
    ("imap-timeout-low", "imap_timeout = 1799\n", 6),
    ("imap-idle-poll-high", "imap_idle_poll = 10001\n", 6),
    ("trace-not-a-name", "trace = alice, Bob!\n", 6),
    ("trace-bad-address", "trace = 192.168.1.300\n", 6),
    ("trace-name-too-long", "trace = " + "a" * 65 + "\n", 6),
    ("trace-nine-items", "trace = " + ", ".join("u%d" % i for i in range(9)) + "\n", 6),
]


def write(tmp_path, extra):
    d = tmp_path / "data"
    d.mkdir(exist_ok=True)
    conf = tmp_path / "bad.conf"
    conf.write_text(GOOD.format(d=d, p=1110) + extra)
    return conf


@pytest.mark.parametrize("name,extra,line", BAD, ids=[b[0] for b in BAD])
def test_bad_config_serve(tmp_path, name, extra, line):
    conf = write(tmp_path, extra)
    r = subprocess.run([BIN, "serve", "-c", str(conf), "-f"], capture_output=True, text=True,
                       timeout=15 * SLOW)
    assert r.returncode == 78, "serve with a bad config (%s): exit %d, stderr %r" % (name, r.returncode, r.stderr)
    want = re.escape(str(conf)) + ":" + (str(line) if line else r"\d+") + ":"
    assert re.search(want, r.stderr), "stderr lacks %s: %r" % (want, r.stderr)


@pytest.mark.parametrize("name,extra,line", BAD[:3], ids=[b[0] for b in BAD[:3]])
def test_bad_config_deliver_and_user(tmp_path, name, extra, line):
    conf = write(tmp_path, extra)
    r = subprocess.run([BIN, "deliver", "-c", str(conf), "alice"], input=make_msg(1),
                       capture_output=True, timeout=15 * SLOW)
    assert r.returncode == 78, "deliver with a bad config: exit %d (want 78, EX_CONFIG)" % r.returncode
    assert ("%s:%d:" % (conf, line)).encode() in r.stderr, r.stderr
    r = subprocess.run([BIN, "user", "-c", str(conf), "list"], capture_output=True, timeout=15 * SLOW)
    assert r.returncode != 0
    assert ("%s:%d:" % (conf, line)).encode() in r.stderr, r.stderr


def test_missing_config_file(tmp_path):
    r = subprocess.run([BIN, "serve", "-c", str(tmp_path / "nope.conf"), "-f"], capture_output=True,
                       text=True, timeout=15 * SLOW)
    assert r.returncode != 0 and "nope.conf" in r.stderr, (r.returncode, r.stderr)


# The IMAP settings an owner may change without a rebuild: (key, lowest, highest).
IMAP_RUNTIME_KEYS = [("imap_timeout", 1800, 86400), ("imap_idle_poll", 100, 10000)]


@pytest.mark.parametrize("key,lo,hi", IMAP_RUNTIME_KEYS, ids=[k[0] for k in IMAP_RUNTIME_KEYS])
def test_imap_runtime_keys_boundaries(tmp_path, key, lo, hi):
    """Both ends of the range are taken; one past either end is refused
    with the range in the message (exit 78, nothing of the file used)."""
    for v in (lo, hi):
        conf = write(tmp_path, "%s = %d\n" % (key, v))
        r = subprocess.run([BIN, "user", "-c", str(conf), "list"], capture_output=True, text=True,
                           timeout=15 * SLOW)
        # the config is taken: `user list` goes on to the store (none there: it makes none)
        assert r.returncode in (0, 1) and (r.returncode == 0 or "no store in" in r.stderr), \
            "%s = %d refused: %r" % (key, v, r.stderr)
    for v in (lo - 1, hi + 1):
        conf = write(tmp_path, "%s = %d\n" % (key, v))
        r = subprocess.run([BIN, "serve", "-c", str(conf), "-f"], capture_output=True, text=True,
                           timeout=15 * SLOW)
        assert r.returncode == 78, "%s = %d: exit %d, stderr %r" % (key, v, r.returncode, r.stderr)
        want = "%s:6: %s must be between %d and %d" % (conf, key, lo, hi)
        assert want in r.stderr, "stderr lacks %r: %r" % (want, r.stderr)


def test_imap_runtime_keys_serve(make_server):
    """A daemon with both IMAP keys at an end of their range serves IMAP,
    and an IDLE session hears of a delivery."""
    srv = make_server(start=True, imap=("plain",), imap_timeout=86400, imap_idle_poll=100)
    m = srv.imap()
    m.select("INBOX")
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    assert m.readline().startswith(b"+"), "no IDLE continuation"
    srv.deliver_ok("alice", make_msg("idle"))
    m.sock.settimeout(10 * SLOW)
    assert m.readline().strip() == b"* 1 EXISTS", "the IDLE session was not told of the delivery"
    m.send(b"DONE\r\n")
    while not m.readline().startswith(tag):
        pass
    m.logout()


def test_comments_blank_lines_and_spacing(make_server):
    srv = make_server()
    text = srv.config_text().replace("hostname = localhost", "\n# a comment\n   \nhostname=localhost\t")
    text = text.replace("log = stderr", "log   =   stderr")
    srv.write_config(text)
    srv.start()
    srv.assert_serving()


def test_pidfile_and_file_modes(server):
    pid = int(open(server.opts["pidfile"]).read().split()[0])
    assert pid == server.pid, "pidfile holds %d, daemon is %d" % (pid, server.pid)
    server.deliver_ok("alice", make_msg("mode"))
    bad = []
    for root, dirs, files in os.walk(server.datadir):
        for f in files + dirs:
            p = os.path.join(root, f)
            m = stat.S_IMODE(os.stat(p).st_mode)
            if m & 0o004 or m & 0o002:
                bad.append("%s %o" % (p, m))
    assert not bad, "world-readable/writable files in the data dir: %s" % bad
    server.stop()


def test_port_in_use_fails_cleanly(make_server):
    srv = make_server()
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", srv.ports["plain"]))
    blocker.listen(1)
    try:
        srv.start(wait=False)
        rc = srv.proc.wait(15 * SLOW)
        assert rc != 0, "serve exited 0 although its port was taken"
        assert str(srv.ports["plain"]) in srv.log(), "the error does not name the port:\n" + srv.log()
    finally:
        blocker.close()


def test_foreground_sigint_also_stops(server):
    server.signal(2)
    assert server.proc.wait(10 * SLOW) == 0


@pytest.fixture
def world_dir():
    d = tempfile.mkdtemp(prefix="postnook-priv-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_privilege_drop(make_server, world_dir):
    if os.getuid() != 0:
        pytest.skip("needs root")
    nobody = pwd.getpwnam("nobody")
    srv = make_server(base=world_dir, user="nobody")
    srv.deliver_ok("alice", make_msg("before-start"))
    srv.start()
    uids = proc_status(srv.pid, "Uid").split()
    assert uids and all(int(u) == nobody.pw_uid for u in uids), \
        "daemon Uid line %r, want all %d (nobody)" % (uids, nobody.pw_uid)
    gids = proc_status(srv.pid, "Gid").split()
    assert gids and all(int(g) != 0 for g in gids), "daemon still has gid 0: %r" % gids
    p = srv.pop("alice")
    assert p.stat()[0] == 1
    p.quit()
    # root-run CLI writes while the unprivileged daemon runs, and vice versa
    srv.deliver_ok("alice", make_msg("while-running"))
    srv.add_user("carol")
    p = srv.pop_retry("alice", kind="tls")
    assert p.stat()[0] == 2
    p.dele(1)
    p.quit()
    srv.deliver_ok("carol", make_msg("to-carol"))
    p = srv.pop_retry("alice")
    assert p.stat()[0] == 1, "the unprivileged daemon could not apply DELE"
    p.quit()
    p = srv.pop("carol")
    assert p.stat()[0] == 1
    p.quit()
    r = srv.user("list")
    assert r.returncode == 0 and b"carol" in r.stdout
    srv.restart()
    srv.assert_serving()
