"""`postnook deliver`: line ends, mbox From_ line, addressing, exit codes,
quotas, a full store, concurrent deliveries."""
import concurrent.futures
import subprocess

import pytest

from postnook_fixture import (BIN, EX_CANTCREAT, EX_CONFIG, EX_NOUSER, EX_TEMPFAIL, SLOW, crlf, make_msg,
                              parse_size)


def retr_lines(server, n=1, user="alice"):
    p = server.pop_retry(user)
    lines = p.retr(n)[1]
    size = int(p.list(n).split()[2])
    p.quit()
    return lines, size


def test_lf_becomes_crlf(server):
    msg = make_msg("lf", body="a\nb\n\nc\n")
    server.deliver_ok("alice", msg)
    lines, size = retr_lines(server)
    assert lines == crlf(msg)[:-2].split(b"\r\n")
    assert size == len(crlf(msg)), "LIST size %d, want %d (CRLF line ends)" % (size, len(crlf(msg)))


def test_crlf_input_not_doubled(server):
    msg = crlf(make_msg("crlf-in"))
    server.deliver_ok("alice", msg)
    lines, size = retr_lines(server)
    assert size == len(msg), "CRLF input stored as %d octets, want %d" % (size, len(msg))
    assert b"" not in lines[:3] and all(not l.endswith(b"\r") for l in lines)


def test_mbox_from_line_dropped(server):
    msg = make_msg("mbox")
    server.deliver_ok("alice", b"From sender@example.org Mon Jan  1 12:00:00 2024\n" + msg)
    lines, size = retr_lines(server)
    assert lines[0].startswith(b"From: "), "the mbox From_ line was kept: %r" % lines[0]
    assert size == len(crlf(msg))


def test_from_line_later_in_body_kept(server):
    msg = make_msg("from-body", body="hello\nFrom the body, not a separator\n")
    server.deliver_ok("alice", msg)
    lines, _ = retr_lines(server)
    assert b"From the body, not a separator" in lines


def test_no_final_newline(server):
    msg = b"Subject: no final newline\nMessage-ID: <nfn@x>\n\nlast line without newline"
    server.deliver_ok("alice", msg)
    p = server.pop()
    size = int(p.list(1).split()[2])
    p.quit()
    r = server.raw_login()
    assert r.cmd("RETR 1").startswith(b"+OK")
    lines = r.multiline(raw=True)
    r.expect_ok("QUIT")
    assert lines[-1] == b"last line without newline", lines[-2:]
    sent = sum(len(l) + 2 for l in lines)
    assert sent == size, "RETR sent %d octets but LIST said %d" % (sent, size)


def test_eight_bit_content(server):
    body = "Gr\u00fc\u00dfe, \u65e5\u672c\n".encode() + b"raw \xff\xfe bytes\n"
    msg = make_msg("8bit", body=body)
    server.deliver_ok("alice", msg)
    lines, _ = retr_lines(server)
    assert lines == crlf(msg)[:-2].split(b"\r\n")


def test_unknown_user(server):
    r = server.deliver("nosuchuser", make_msg("x"))
    assert r.returncode == EX_NOUSER, "deliver to an unknown user: exit %d, want 67" % r.returncode
    r = server.deliver(None, make_msg("x"), "-a", "nosuchuser@example.org")
    assert r.returncode == EX_NOUSER


def test_address_option(server):
    server.deliver_ok(None, make_msg("addr1"), "-a", "Alice+tag@example.org")
    server.deliver_ok(None, make_msg("addr2"), "-a", "bob@example.org")
    a = server.pop_retry("alice")
    b = server.pop_retry("bob")
    assert a.stat()[0] == 1, "-a Alice+tag@example.org did not reach alice"
    assert b.stat()[0] == 1
    a.quit()
    b.quit()


def test_no_recipient_is_usage_error(server):
    r = server.run("deliver", input=make_msg("nobody"))
    assert r.returncode != 0


def test_quota_temporary(make_server):
    srv = make_server(users=("alice",))
    srv.add_user("bob", None, "--quota", "10K")
    codes = []
    for i in range(8):
        codes.append(srv.deliver("bob", make_msg("q%d" % i, body="y" * 2500)).returncode)
    assert codes[0] == 0 and EX_TEMPFAIL in codes, "deliveries to a 10K quota: %r (want 0..., 75)" % codes
    first_fail = codes.index(EX_TEMPFAIL)
    assert all(c == EX_TEMPFAIL for c in codes[first_fail:]), codes
    assert 2 <= first_fail <= 4, "%d messages of ~2.7K fit a 10K quota" % first_fail
    row = srv.user_list()["bob"]
    assert row["messages"] == str(first_fail), row["line"]
    used = parse_size(row["used"])
    assert used and used <= 10240, row["line"]
    assert parse_size(row["quota"]) == 10240, row["line"]
    srv.start()
    p = srv.pop("bob")
    n, octets = p.stat()
    assert n == first_fail and octets <= 10240
    # freeing space lets mail in again
    p.dele(1)
    p.quit()
    srv.deliver_ok("bob", make_msg("after-dele", body="y" * 2500))


def test_quota_permanent(make_server):
    srv = make_server(users=(), quota_exceeded="permanent")
    srv.add_user("bob", None, "--quota", "10K")
    codes = [srv.deliver("bob", make_msg("p%d" % i, body="y" * 2500)).returncode for i in range(6)]
    assert codes[0] == 0 and codes[-1] == EX_CANTCREAT, \
        "quota_exceeded = permanent: exits %r (want ... 73)" % codes


def test_max_messages(make_server):
    srv = make_server(users=())
    srv.add_user("bob", None, "--max-messages", "2")
    codes = [srv.deliver("bob", make_msg("m%d" % i)).returncode for i in range(3)]
    assert codes == [0, 0, EX_TEMPFAIL], "--max-messages 2: exits %r" % codes


@pytest.mark.slow
def test_map_grows_then_store_full(make_server):
    srv = make_server(users=("alice",), map_size="1M", map_max="4M")
    body = ("0123456789abcdef" * 8 + "\n") * 1500         # ~190 KB
    codes = []
    for i in range(40):
        codes.append(srv.deliver("alice", make_msg("full%d" % i, body=body)).returncode)
        if codes[-1] != 0:
            break
    assert codes.count(0) >= 6, "the map did not grow beyond map_size = 1M: %r" % codes
    assert codes[-1] == EX_TEMPFAIL, "store full at map_max: exit %r, want 75" % codes[-1:]
    srv.start()
    p = srv.pop("alice")
    assert p.stat()[0] == codes.count(0)
    p.quit()
    assert "alice" in srv.user_list()


def test_concurrent_deliveries(server):
    msgs = [make_msg("conc%d" % i) for i in range(40)]

    def one(m):
        return subprocess.run([BIN, "deliver", "-c", str(server.conf), "alice"], input=m,
                              capture_output=True, timeout=60 * SLOW).returncode

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(one, msgs))
    assert codes == [0] * 40, codes
    p = server.pop()
    assert p.stat()[0] == 40
    uidls = [l.split()[1] for l in p.uidl()[1]]
    assert len(set(uidls)) == 40
    ids = set()
    for i in range(1, 41):
        for l in p.top(i, 0)[1]:
            if l.lower().startswith(b"message-id:"):
                ids.add(l)
    assert len(ids) == 40
    p.quit()


def test_empty_message(server):
    r = server.deliver("alice", b"")
    p = server.pop()
    n = p.stat()[0]
    assert n == (1 if r.returncode == 0 else 0)
    if n:
        p.retr(1)        # whatever was stored can be retrieved
    p.quit()


def max_message_mib():
    """CONFIG_MAX_MESSAGE from the config.h the binary was built with."""
    import os
    import re as _re
    path = os.path.join(os.path.dirname(BIN), "config.h")
    try:
        m = _re.search(r"#define CONFIG_MAX_MESSAGE (\d+)", open(path).read())
    except OSError:
        return None
    return int(m.group(1)) if m else None


@pytest.mark.slow
def test_too_big_is_permanent(server):
    mib = max_message_mib()
    if mib is None or mib > 256:
        pytest.skip("CONFIG_MAX_MESSAGE unknown or too large to test")
    big = make_msg("too-big", body=b"") + (b"y" * 1023 + b"\n") * (mib * 1024 + 16)
    r = server.deliver("alice", big)
    assert r.returncode == EX_CANTCREAT, "a %d MiB message (max %d MiB): exit %d, want 73" \
        % (mib + 1, mib, r.returncode)
    p = server.pop_retry()
    assert p.stat()[0] == 0
    p.quit()


def test_missing_datadir_is_config_error(make_server):
    """A data directory that does not exist is a configuration error (78, the
    MTA bounces), not a temporary one, and deliver does not make it."""
    srv = make_server(users=())
    gone = srv.dir / "nowhere"
    srv.opts["datadir"] = str(gone)
    srv.write_config()
    r = srv.deliver("alice", make_msg("gone"))
    assert r.returncode == EX_CONFIG, "deliver into a missing datadir: exit %d %r, want 78" % (
        r.returncode, r.stderr)
    assert b"no store in " + str(gone).encode() in r.stderr, r.stderr
    assert not gone.exists(), "deliver created the data directory"


def test_unreachable_datadir_is_config_error(make_server):
    """deliver run as a user that may not enter the data directory: 78, not 75."""
    import os
    import pathlib
    import shutil
    import tempfile

    base = pathlib.Path(tempfile.mkdtemp(prefix="pn-dlv-", dir="/tmp"))
    os.chmod(base, 0o755)
    try:
        srv = make_server(base=base / "srv", users=("alice",))
        os.chmod(srv.dir, 0o755)
        os.chmod(srv.conf, 0o644)
        os.chmod(srv.datadir, 0o700)          # root's; nobody cannot reach the store
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
               BIN, "deliver", "-c", str(srv.conf), "alice"]
        r = subprocess.run(cmd, input=make_msg("denied"), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60 * SLOW)
        assert r.returncode == EX_CONFIG, "deliver without access to the datadir: exit %d %r, want 78" % (
            r.returncode, r.stderr)
        assert b"Permission denied" in r.stderr, r.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)
