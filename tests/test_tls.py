"""TLS: implicit TLS (POP3S), STLS (RFC 2595), the self-made certificate,
configured RSA and EC certificates, session resumption, garbage input."""
import os
import re
import socket
import ssl
import stat
import subprocess
import time

import pytest

from postnook_fixture import PASSWORDS, SLOW, Raw, make_msg, unverified_ctx


def check_params(sock):
    assert sock.version() == "TLSv1.2", "negotiated %s, want TLSv1.2" % sock.version()
    name = sock.cipher()[0]
    assert "ECDHE" in name and ("GCM" in name or "CHACHA20" in name), "cipher %s" % name


def test_implicit_tls_selfmade_cert_verifies(server):
    ctx = ssl.create_default_context(cafile=str(server.datadir / "cert.pem"))
    s = socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10 * SLOW)
    t = ctx.wrap_socket(s, server_hostname="localhost")
    check_params(t)
    t.close()
    p = server.pop(kind="tls")
    check_params(p.sock)
    assert p.stat() == (0, 0)
    p.quit()


def test_selfmade_cert_files_and_fingerprint(server):
    cert, key = server.datadir / "cert.pem", server.datadir / "key.pem"
    assert cert.exists() and key.exists(), "no self-made cert.pem/key.pem in the data dir"
    for f in (cert, key):
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode == 0o600, "%s has mode %o, want 0600" % (f.name, mode)
    out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256",
                          "-text"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    fp = out.stdout.split("=", 1)[1].split()[0].upper()
    assert "ASN1 OID: prime256v1" in out.stdout or "P-256" in out.stdout, "self-made key is not P-256"
    assert "DNS:localhost" in out.stdout, "self-made cert lacks subjectAltName DNS:<hostname>"
    logged = re.findall(r"fingerprint.*?((?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2})", server.log(), re.I)
    assert logged, "no 'fingerprint AB:CD:...' line in the log:\n%s" % server.log()[-2000:]
    assert logged[0].upper() == fp, "logged fingerprint %s != certificate's %s" % (logged[0], fp)
    # a restart keeps the same certificate
    server.restart()
    out2 = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                          capture_output=True, text=True)
    assert out2.stdout.split("=", 1)[1].strip().upper() == fp, "certificate regenerated on restart"


def test_selfmade_cert_renewed_before_it_expires(server, tmp_path):
    """The self-made certificate is issued again at start when fewer than 30 days are left
    (its own notAfter counts, not the file's age)."""
    from test_cert_ca import current_sans, issue
    cert, key = server.datadir / "cert.pem", server.datadir / "key.pem"
    ca = (server.datadir / "ca.pem").read_text()

    def fingerprint():
        out = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256"],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.split("=", 1)[1].strip()

    sans = current_sans(server)
    server.stop()
    # 31 days left: kept. (An old file is no reason either.)
    crt, k = issue(server, tmp_path, "d31", sans, days_valid=31)
    cert.write_text(crt.read_text() + ca)
    key.write_text(k.read_text())
    aged = time.time() - 900 * 86400
    os.utime(cert, (aged, aged))
    old = fingerprint()
    server.start()
    assert fingerprint() == old, "a certificate with 31 days left was renewed too early"
    server.stop()
    # 29 days left: a new one.
    crt, k = issue(server, tmp_path, "d29", sans, days_valid=29)
    cert.write_text(crt.read_text() + ca)
    key.write_text(k.read_text())
    old = fingerprint()
    server.start()
    assert fingerprint() != old, "a self-made certificate with 29 days left was not renewed"
    assert "issued a new server certificate (it expires in less than 30 days)" in server.log()
    p = server.pop(kind="tls")
    p.quit()


def test_stls_then_login(server):
    p = server.pop(kind="starttls")
    check_params(p.sock)
    p.quit()


def test_stls_discards_buffered_plaintext(server):
    r = server.raw("starttls")
    r.send(b"STLS\r\nCAPA\r\n")             # one packet: CAPA must be discarded
    line = r.readline()
    assert line.startswith(b"+OK"), "STLS -> %r" % line
    r.starttls(server.client_ctx())
    r.send(b"XYZZY\r\n")
    first = r.readline()
    assert first is not None and first.startswith(b"-ERR"), \
        "first reply over TLS is %r: the CAPA sent before the handshake was executed" % first
    r.login("alice", PASSWORDS["alice"])
    r.expect_ok("QUIT")


def test_stls_refused_when_not_applicable(server):
    r = server.raw("starttls")
    r.expect_ok("STLS")
    r.starttls(server.client_ctx())
    r.expect_err("STLS")                     # already in TLS
    r.login("alice", PASSWORDS["alice"])
    r.expect_err("STLS")                     # not in AUTHORIZATION
    r.expect_ok("QUIT")
    r = server.raw("plain")
    r.expect_err("STLS")                     # listener without STARTTLS
    r.expect_ok("QUIT")
    r = server.raw("tls")
    r.expect_err("STLS")
    r.expect_ok("QUIT")


def test_stls_after_user_is_refused_or_resets(server):
    r = server.raw("starttls")
    r.expect_ok("USER alice")
    line = r.cmd("STLS")
    if line.startswith(b"+OK"):
        r.starttls(server.client_ctx())
        # the USER given in clear must be forgotten
        r.expect_err("PASS " + PASSWORDS["alice"])
    else:
        assert line.startswith(b"-ERR")


def gen_cert(tmp_path, kind, fmt):
    d = tmp_path / ("cert-%s-%s" % (kind, fmt))
    d.mkdir()
    key, cert = d / "key.pem", d / "cert.pem"
    newkey = ["rsa:2048"] if kind == "rsa" else ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "req", "-x509", "-newkey"] + newkey + [
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True)
    if fmt == "traditional":
        tool = "rsa" if kind == "rsa" else "ec"
        args = ["openssl", tool, "-in", str(key), "-out", str(key)]
        if kind == "rsa":
            args.insert(2, "-traditional")
        subprocess.run(args, check=True, capture_output=True)
    return cert, key


@pytest.mark.parametrize("kind,fmt", [("rsa", "pkcs8"), ("ec", "pkcs8"), ("ec", "traditional"),
                                      ("rsa", "traditional")])
def test_configured_certificate(make_server, tmp_path, kind, fmt):
    cert, key = gen_cert(tmp_path, kind, fmt)
    srv = make_server(start=True, cert=cert, key=key)
    for k in ("tls", "starttls"):
        p = srv.pop(kind=k)                  # verifies against `cert`, hostname localhost
        check_params(p.sock)
        want = "ECDHE-RSA" if kind == "rsa" else "ECDHE-ECDSA"
        assert p.sock.cipher()[0].startswith(want), p.sock.cipher()
        der = p.sock.getpeercert(binary_form=True)
        assert der == ssl.PEM_cert_to_DER_cert(cert.read_text()), "server sent another certificate"
        p.quit()


def test_session_resumption(server):
    ctx = server.client_ctx()
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10 * SLOW),
                        server_hostname="localhost")
    s.recv(100)
    sess = s.session
    s.close()
    s2 = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10 * SLOW),
                         server_hostname="localhost", session=sess)
    s2.recv(100)
    assert s2.session_reused, "TLS session not resumed (no session cache?)"
    s2.close()


def test_many_concurrent_tls_sessions(server):
    conns = []
    for i in range(20):
        r = Raw(server.ports["tls"], tls=server.client_ctx())
        conns.append(r)
    for r in conns:
        assert r.readline().startswith(b"+OK")
    for i, r in enumerate(conns):
        r.expect_ok("USER %s" % ("alice" if i % 2 else "nosuch%d" % i))
    for r in conns:
        r.expect_ok("QUIT")
        r.close()
    server.assert_serving()


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 20,        # truncated ClientHello
    b"\x16\x03\x03\xff\xff" + b"A" * 2000,                                  # oversize record length
    bytes(range(256)) * 40,
    b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + b"\x00" * 40,         # SSLv2 hello
])
def test_tls_port_garbage(server, garbage):
    s = socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10 * SLOW)
    try:
        s.sendall(garbage)
    except OSError:
        pass
    # The server may close at once or wait for the rest of a record; it must
    # never answer in plaintext, and it must not stop serving others.
    s.settimeout(0.2)
    t_end = time.time() + 2 * SLOW
    try:
        while time.time() < t_end:
            try:
                d = s.recv(4096)
            except (socket.timeout, TimeoutError):
                continue
            if not d:
                break
            assert not d.startswith(b"+OK"), "plaintext greeting on the TLS port"
    except ConnectionResetError:
        pass
    server.assert_serving()
    s.close()


def test_plaintext_client_on_tls_port(server):
    s = socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10 * SLOW)
    s.sendall(b"USER alice\r\n")
    s.settimeout(5 * SLOW)
    try:
        d = s.recv(100)
    except (ConnectionResetError, socket.timeout, TimeoutError):
        d = b""
    assert not d.startswith(b"+OK")
    s.close()
    server.assert_serving()


def test_tls_client_that_hangs_mid_handshake(server):
    s = socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10 * SLOW)
    s.sendall(b"\x16\x03\x01\x00\xc8")        # record header only
    # the loop must not wait on this client
    server.assert_serving()
    p = server.pop(kind="tls")
    p.quit()
    s.close()


def test_untrusted_client_rejects_selfmade_cert(server):
    ctx = ssl.create_default_context()          # system CAs only
    s = socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10 * SLOW)
    with pytest.raises(ssl.SSLCertVerificationError):
        ctx.wrap_socket(s, server_hostname="localhost")
    s.close()
    server.assert_serving()
