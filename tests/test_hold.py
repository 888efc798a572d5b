"""Nobody holds the server (issue 10, items 3-6): TLS renegotiation refused,
absolute pre-login deadlines whatever the output state, eviction of
not-yet-logged-in connections when the slots are full, failed-login budgets."""
import socket
import subprocess
import time

import pytest

from postnook_fixture import SLOW


def s_client_renegotiate(port, first):
    """Connect with openssl s_client, read the greeting, ask for a client-initiated
    renegotiation ('R'), then send a command. Returns s_client's output."""
    p = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2",
                          "-quiet", "-no_ign_eof"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(1.5)                       # greeting in (not a speed measure)
    p.stdin.write(b"R\n")
    p.stdin.flush()
    time.sleep(1.5)
    try:
        p.stdin.write(first + b"\n")
        p.stdin.flush()
        time.sleep(1.0)
        p.stdin.close()
    except (BrokenPipeError, ValueError):
        pass
    p.stdin = None
    try:
        out, _ = p.communicate(timeout=20 * SLOW)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out.decode("latin-1")


@pytest.mark.parametrize("proto", ["pop3s", "imaps"])
def test_client_renegotiation_refused(make_server, proto):
    if proto == "pop3s":
        srv = make_server(start=True, listeners=("tls",))
        port, cmd, answer = srv.ports["tls"], b"CAPA", "+OK"
    else:
        srv = make_server(start=True, listeners=(), imap=("tls",))
        port, cmd, answer = srv.iports["tls"], b"a1 CAPABILITY", "a1 OK"
    out = s_client_renegotiate(port, cmd)
    assert "ready" in out, "no greeting over TLS:\n%s" % out
    assert "RENEGOTIATING" in out, "s_client did not try to renegotiate:\n%s" % out
    assert answer not in out.split("RENEGOTIATING", 1)[1], \
        "the server accepted a client-initiated renegotiation and went on serving:\n%s" % out
    assert "renegotiation" in out.lower() or "alert" in out.lower(), \
        "no refusal (no_renegotiation alert) seen by the client:\n%s" % out
