"""Certificates: the BearSSL-made household CA and server certificate checked by openssl, and
openssl-made pairs (RSA, EC P-384, PKCS#8 and traditional keys, chains)
loaded by tls_creds_load.

Drives the unit binary build/unit/test_cert in its --generate/--load modes
(the Makefile builds it with `make unit`). openssl is used by the tests only.
"""
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# TLS_* error codes from src/tls.h
TLS_EPEM, TLS_EKEY, TLS_EMISMATCH = -2000, -1999, -1998


def _unit_bin():
    cands = []
    if os.environ.get("TEST_CERT_BIN"):
        cands.append(Path(os.environ["TEST_CERT_BIN"]))
    if os.environ.get("POSTNOOK_BIN"):
        cands.append(Path(os.environ["POSTNOOK_BIN"]).resolve().parent / "unit" / "test_cert")
    cands.append(ROOT / "build" / "unit" / "test_cert")
    for c in cands:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    return None


UNIT = _unit_bin()
pytestmark = [
    pytest.mark.skipif(UNIT is None, reason="build/unit/test_cert not built (make unit)"),
    pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed"),
]


def ossl(*args, check=True):
    r = subprocess.run(["openssl"] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def sha256_fp(cert):
    out = ossl("x509", "-in", cert, "-noout", "-fingerprint", "-sha256").stdout
    return out.strip().split("=", 1)[1]


def load(cert, key):
    r = subprocess.run([str(UNIT), "--load", str(cert), str(key)], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout.strip()


def load_ok(cert, key, kind):
    rc, out = load(cert, key)
    assert rc == 0, out
    m = re.fullmatch(r"ok (\w+) ([0-9A-F:]{95}) chain=(\d+) suite=([0-9a-f]{4})", out)
    assert m, out
    assert m.group(1) == kind
    assert m.group(2) == sha256_fp(cert)
    return int(m.group(3)), m.group(4)


def load_err(cert, key):
    rc, out = load(cert, key)
    assert rc == 1, out
    m = re.match(r"error (-?\d+) ", out)
    assert m, out
    return int(m.group(1))


@pytest.fixture(scope="module")
def selfsigned(tmp_path_factory):
    d = tmp_path_factory.mktemp("selfsigned")
    r = subprocess.run([str(UNIT), "--generate", str(d), "mail.example.org",
                        "192.168.1.1", "fd00::1", "nas.lan"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    fp, size = r.stdout.split()
    return d, fp, int(size)


def test_selfsigned_text(selfsigned):
    d, _, _ = selfsigned
    text = ossl("x509", "-in", d / "cert.pem", "-noout", "-text").stdout
    assert "Version: 3 (0x2)" in text
    assert "Subject: CN = mail.example.org" in text
    assert re.search(r"Issuer: CN = postnook CA mail.example.org [0-9A-F]{6}\n", text)
    assert "Signature Algorithm: ecdsa-with-SHA256" in text
    assert "ASN1 OID: prime256v1" in text
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text)
    assert re.search(r"Key Usage: critical\s+Digital Signature\n", text)
    assert "DNS:mail.example.org" in text
    assert "DNS:nas.lan" in text
    assert "IP Address:192.168.1.1" in text
    assert "IP Address:FD00:0:0:0:0:0:0:1" in text
    assert "Subject Key Identifier" in text


def test_selfsigned_dates_and_serial(selfsigned):
    d, _, _ = selfsigned
    out = ossl("x509", "-in", d / "cert.pem", "-noout", "-serial", "-startdate",
               "-enddate").stdout
    serial = re.search(r"serial=(-?[0-9A-F]+)", out).group(1)
    # positive (OpenSSL prints a negative one with '-') and at most 16 octets of
    # value; its first octet may be 0x80 or more when the random top byte was 0
    assert not serial.startswith("-") and len(serial) <= 32 and int(serial, 16) > 0, serial
    # valid now, still in 395 days, no longer in 397: 397 days in all, from a day back
    ossl("x509", "-in", d / "cert.pem", "-noout", "-checkend", "0")
    ossl("x509", "-in", d / "cert.pem", "-noout", "-checkend", str(395 * 86400))
    r = ossl("x509", "-in", d / "cert.pem", "-noout", "-checkend", str(397 * 86400),
             check=False)
    assert r.returncode != 0


def test_selfsigned_is_a_server_certificate(selfsigned):
    d, _, _ = selfsigned
    text = ossl("x509", "-in", d / "cert.pem", "-noout", "-text").stdout
    assert "TLS Web Server Authentication" in text
    r = ossl("verify", "-purpose", "sslserver", "-CAfile", d / "ca.pem", d / "cert.pem")
    assert r.stdout.strip().endswith(": OK")


def test_selfsigned_verifies(selfsigned):
    d, _, _ = selfsigned
    r = ossl("verify", "-CAfile", d / "ca.pem", d / "cert.pem")
    assert r.stdout.strip().endswith(": OK")
    r = ossl("verify", "-CAfile", d / "ca.pem", "-verify_hostname", "mail.example.org",
             d / "cert.pem")
    assert r.stdout.strip().endswith(": OK")
    r = ossl("verify", "-CAfile", d / "ca.pem", "-verify_ip", "192.168.1.1", d / "cert.pem")
    assert r.stdout.strip().endswith(": OK")


def test_selfsigned_key(selfsigned):
    d, _, _ = selfsigned
    pem = (d / "key.pem").read_text()
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----")
    r = ossl("ec", "-in", d / "key.pem", "-check", "-noout")
    assert "EC Key valid" in r.stdout + r.stderr
    # the key belongs to the certificate
    pub_c = ossl("x509", "-in", d / "cert.pem", "-noout", "-pubkey").stdout
    pub_k = ossl("ec", "-in", d / "key.pem", "-pubout").stdout
    assert pub_c == pub_k


def test_selfsigned_modes_and_fingerprint(selfsigned):
    d, fp, size = selfsigned
    for name in ("cert.pem", "key.pem"):
        assert stat.S_IMODE(os.stat(d / name).st_mode) == 0o600
    assert fp == sha256_fp(d / "cert.pem")
    der = subprocess.run(["openssl", "x509", "-in", str(d / "cert.pem"), "-outform", "DER"],
                         capture_output=True, check=True).stdout
    assert len(der) == size and 300 < size < 1024
    assert not list(d.glob("*.pem.*")), "temp files left behind"


def test_selfsigned_loads(selfsigned):
    d, _, _ = selfsigned
    chain, suite = load_ok(d / "cert.pem", d / "key.pem", "ec")
    assert chain == 2 and suite == "c02b"   # ECDHE_ECDSA_WITH_AES_128_GCM_SHA256


def req(d, name, newkey, subj="/CN=openssl.example", extra=()):
    key, cert = d / (name + ".key"), d / (name + ".crt")
    ossl("req", "-x509", "-newkey", newkey, *extra, "-nodes", "-keyout", key, "-out", cert,
         "-subj", subj, "-days", "2")
    return cert, key


def test_openssl_rsa2048(tmp_path):
    cert, key = req(tmp_path, "rsa", "rsa:2048")
    assert "BEGIN PRIVATE KEY" in key.read_text()          # PKCS#8
    chain, suite = load_ok(cert, key, "rsa")
    assert chain == 1 and suite == "c02f"   # ECDHE_RSA_WITH_AES_128_GCM_SHA256
    trad = tmp_path / "rsa-trad.key"
    ossl("rsa", "-in", key, "-traditional", "-out", trad)
    assert "BEGIN RSA PRIVATE KEY" in trad.read_text()
    load_ok(cert, trad, "rsa")


def test_openssl_ec_p384(tmp_path):
    cert, key = req(tmp_path, "ec384", "ec", extra=("-pkeyopt", "ec_paramgen_curve:P-384"))
    assert "BEGIN PRIVATE KEY" in key.read_text()          # PKCS#8
    load_ok(cert, key, "ec")
    trad = tmp_path / "ec384-trad.key"
    ossl("ec", "-in", key, "-out", trad)
    assert "BEGIN EC PRIVATE KEY" in trad.read_text()
    load_ok(cert, trad, "ec")


def test_openssl_ecparam_key(tmp_path):
    # `openssl ecparam -genkey` puts an EC PARAMETERS block before the key
    key, cert = tmp_path / "p.key", tmp_path / "p.crt"
    ossl("ecparam", "-name", "prime256v1", "-genkey", "-out", key)
    assert "BEGIN EC PARAMETERS" in key.read_text()
    ossl("req", "-x509", "-new", "-key", key, "-out", cert, "-subj", "/CN=p", "-days", "2")
    load_ok(cert, key, "ec")


def test_openssl_chain(tmp_path):
    # a leaf signed by an RSA CA, fullchain.pem = leaf + CA (like acme.sh)
    ca_crt, ca_key = req(tmp_path, "ca", "rsa:2048", subj="/CN=Test CA")
    leaf_key, csr, leaf_crt = tmp_path / "leaf.key", tmp_path / "leaf.csr", tmp_path / "leaf.crt"
    ossl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", leaf_key, "-out", csr, "-subj", "/CN=mail.example.org")
    ossl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", leaf_crt, "-days", "2")
    full = tmp_path / "fullchain.pem"
    full.write_text(leaf_crt.read_text() + ca_crt.read_text())
    chain, suite = load_ok(full, leaf_key, "ec")
    assert chain == 2 and suite == "c02b"
    # CA first is the wrong order: the key matches the second certificate only
    wrong = tmp_path / "wrong.pem"
    wrong.write_text(ca_crt.read_text() + leaf_crt.read_text())
    assert load_err(wrong, leaf_key) == TLS_EMISMATCH


def test_openssl_mismatch_and_unsupported(tmp_path):
    rsa_crt, rsa_key = req(tmp_path, "rsa", "rsa:2048")
    ec_crt, ec_key = req(tmp_path, "ec", "ec", extra=("-pkeyopt", "ec_paramgen_curve:P-256"))
    ec2_crt, ec2_key = req(tmp_path, "ec2", "ec", extra=("-pkeyopt", "ec_paramgen_curve:P-256"))
    assert load_err(rsa_crt, ec_key) == TLS_EMISMATCH
    assert load_err(ec_crt, rsa_key) == TLS_EMISMATCH
    assert load_err(ec_crt, ec2_key) == TLS_EMISMATCH
    rsa2_crt, rsa2_key = req(tmp_path, "rsa2", "rsa:2048")
    assert load_err(rsa_crt, rsa2_key) == TLS_EMISMATCH
    small_crt, small_key = req(tmp_path, "small", "rsa:1024")
    assert load_err(small_crt, small_key) == TLS_EKEY
    ed_crt, ed_key = req(tmp_path, "ed", "ed25519")
    assert load_err(ed_crt, ed_key) in (TLS_EKEY, TLS_EPEM)
    # a DER file is not PEM
    der = tmp_path / "cert.der"
    ossl("x509", "-in", ec_crt, "-outform", "DER", "-out", der)
    assert load_err(der, ec_key) == TLS_EPEM


class Served:
    """test_cert --serve: a loopback TLS server built on tls_server_init()."""

    def __init__(self, cert, key, conns):
        self.proc = subprocess.Popen([str(UNIT), "--serve", str(cert), str(key), str(conns)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.isdigit(), line + self.proc.stderr.read()
        self.port = int(line)

    def client(self, *args, text="hello\n"):
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.port,
                            "-ign_eof"] + [str(a) for a in args],
                           input=text, capture_output=True, text=True, timeout=30)
        return r.stdout + r.stderr

    def close(self):
        try:
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def test_s_client_selfsigned(selfsigned, tmp_path):
    d, _, _ = selfsigned
    srv = Served(d / "cert.pem", d / "key.pem", 3)
    try:
        sess = tmp_path / "sess.pem"
        out = srv.client("-CAfile", d / "ca.pem", "-verify_return_error",
                         "-verify_hostname", "mail.example.org", "-sess_out", sess)
        assert "Verification: OK" in out
        assert re.search(r"Protocol\s*: TLSv1\.2", out)
        assert re.search(r"Cipher\s*: ECDHE-ECDSA-AES128-GCM-SHA256", out)
        assert "echo: hello" in out
        out = srv.client("-CAfile", d / "ca.pem", "-sess_in", sess, text="again\n")
        assert "Reused, TLSv1.2" in out and "echo: again" in out
        out = srv.client("-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305")
        assert re.search(r"Cipher\s*: ECDHE-ECDSA-CHACHA20-POLY1305", out)
        assert "echo: hello" in out
    finally:
        srv.close()


def test_s_client_rsa(tmp_path):
    cert, key = req(tmp_path, "rsa", "rsa:2048")
    srv = Served(cert, key, 2)
    try:
        out = srv.client("-CAfile", cert, "-verify_return_error")
        assert re.search(r"Cipher\s*: ECDHE-RSA-AES128-GCM-SHA256", out)
        assert "echo: hello" in out
        out = srv.client("-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384")
        assert re.search(r"Cipher\s*: ECDHE-RSA-AES256-GCM-SHA384", out)
    finally:
        srv.close()
