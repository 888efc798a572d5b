"""curl as a POP3 client: LIST, RETR, POP3S, STLS, SASL PLAIN."""
import shutil
import subprocess

import pytest

from postnook_fixture import SLOW, crlf, make_msg

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl not installed")


def curl(server, url_path, kind="plain", user="alice", extra=()):
    port = server.ports[kind]
    scheme = "pop3s" if kind == "tls" else "pop3"
    args = ["curl", "-sS", "--max-time", str(30 * SLOW), "-u", "%s:%s" % (user, server.users[user])]
    if kind != "plain":
        args += ["--cacert", server.cert_path, "--resolve", "localhost:%d:127.0.0.1" % port]
    if kind == "starttls":
        args += ["--ssl-reqd"]
    host = "127.0.0.1" if kind == "plain" else "localhost"
    args += list(extra) + ["%s://%s:%d/%s" % (scheme, host, port, url_path)]
    r = subprocess.run(args, capture_output=True, timeout=60 * SLOW)
    return r


@pytest.mark.parametrize("kind", ["plain", "tls", "starttls"])
def test_curl_list_and_retr(server, kind):
    msgs = [make_msg("curl-%d" % i, body="curl body %d\n.dotted\n" % i) for i in range(2)]
    for m in msgs:
        server.deliver_ok("alice", m)
    r = curl(server, "", kind)
    assert r.returncode == 0, "curl LIST (%s): exit %d %s" % (kind, r.returncode, r.stderr)
    listing = r.stdout.replace(b"\r\n", b"\n").split(b"\n")
    assert listing[:2] == [b"1 %d" % len(crlf(msgs[0])), b"2 %d" % len(crlf(msgs[1]))], r.stdout
    r = curl(server, "2", kind)
    assert r.returncode == 0, r.stderr
    assert r.stdout == crlf(msgs[1]), "curl RETR 2 returned %r" % r.stdout[-200:]


def test_curl_sasl_ir(server):
    server.deliver_ok("alice", make_msg("sasl-ir"))
    r = curl(server, "1", extra=["--sasl-ir", "--login-options", "AUTH=PLAIN"])
    assert r.returncode == 0, r.stderr
    assert b"sasl-ir@postnook.test" in r.stdout


def test_curl_wrong_password(server):
    server.users["alice"], good = "not-the-password", server.users["alice"]
    try:
        r = curl(server, "")
    finally:
        server.users["alice"] = good
    assert r.returncode == 67, "curl with a wrong password: exit %d (want 67 login denied)" % r.returncode


def test_curl_dele(server):
    server.deliver_ok("alice", make_msg("curl-dele"))
    r = curl(server, "1", extra=["-X", "DELE", "-I"])
    assert r.returncode == 0, r.stderr
    p = server.pop_retry()
    assert p.stat()[0] == 0, "curl -X DELE (with QUIT) did not delete"
    p.quit()
