"""The self-made certificate: a server (end-entity) certificate issued by the
household CA the daemon makes in its data directory, checked the way mail
apps check it — Python ssl and `openssl s_client` trusting only ca.pem, NSS's
`certutil -V` (NSS is what Thunderbird verifies with) — with the CA's name
constraints enforced, renewed by the running daemon, never touching a
certificate the owner configured, and upgrading a data directory whose
certificate is the old self-signed CA:TRUE kind.

openssl and certutil (libnss3-tools) are used by the tests only.
"""
import datetime
import hashlib
import os
import re
import select
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import time

import pytest

from postnook_fixture import SLOW, IMAP4_SSL, unverified_ctx

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def ossl(*args, check=True, input=None):
    r = subprocess.run(["openssl"] + [str(a) for a in args], capture_output=True, text=True, timeout=60,
                       input=input)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def fp_of_der(der):
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def served_der(port):
    """The server certificate the daemon presents now (a new connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW) as raw:
        with unverified_ctx().wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert(binary_form=True)


def pem_certs(path):
    return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", open(path).read(), re.S)


def text_of(pem, tmp_path, name="c.pem"):
    p = tmp_path / name
    p.write_text(pem)
    return ossl("x509", "-in", p, "-noout", "-text").stdout


def days(pem, tmp_path):
    p = tmp_path / "d.pem"
    p.write_text(pem)
    out = ossl("x509", "-in", p, "-noout", "-startdate", "-enddate").stdout
    f = "%b %d %H:%M:%S %Y %Z"
    nb = datetime.datetime.strptime(re.search(r"notBefore=(.*)", out).group(1).replace("  ", " "), f)
    na = datetime.datetime.strptime(re.search(r"notAfter=(.*)", out).group(1).replace("  ", " "), f)
    return (na - nb).total_seconds() / 86400, (na - datetime.datetime.utcnow()).total_seconds() / 86400


def issue(srv, tmp_path, name, sans, days_valid=30, ca=True):
    """A server certificate made with openssl and signed by the household CA's key from the data dir."""
    key, csr, crt, ext = (tmp_path / (name + s) for s in (".key", ".csr", ".crt", ".ext"))
    ossl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
         "-out", csr, "-subj", "/CN=" + sans[0].split(":", 1)[1])
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=%s\n" % ",".join(sans))
    ossl("x509", "-req", "-in", csr, "-CA", srv.datadir / "ca.pem", "-CAkey", srv.datadir / "ca-key.pem",
         "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", days_valid, "-extfile", ext,
         "-out", crt)
    return crt, key


def current_sans(srv):
    """The subjectAltNames of the server certificate in the data dir, as openssl -extfile wants them."""
    out = ossl("x509", "-in", srv.datadir / "cert.pem", "-noout", "-ext", "subjectAltName").stdout
    return [n.strip().replace("IP Address:", "IP:") for n in out.splitlines()[1].split(",")]


def imaps(make_server, **opts):
    return make_server(start=True, listeners=("plain",), imap=("tls",), **opts)


def wait_for(cond, what, timeout=10):
    deadline = time.time() + timeout * SLOW
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def test_imaps_verifies_against_the_household_ca(make_server, tmp_path):
    """A Thunderbird-like IMAPS session trusting only ca.pem: no exception needed."""
    srv = imaps(make_server)
    d = srv.datadir
    ca = d / "ca.pem"
    port = srv.iports["tls"]
    # Python ssl: the CA alone as trust anchor, host name checked.
    ctx = ssl.create_default_context(cafile=str(ca))
    m = IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=15 * SLOW)
    m.login("alice", srv.users["alice"])
    assert m.select("INBOX")[0] == "OK"
    m.logout()
    # The same by address.
    with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.recv(100).startswith(b"* OK")
    # openssl s_client, failing on any verification error.
    r = ossl("s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca, "-verify_return_error",
             "-verify_hostname", "localhost", "-ign_eof", input="a LOGOUT\r\n", check=False)
    out = r.stdout + r.stderr
    assert "Verification: OK" in out and "Verified peername: localhost" in out, out
    assert "* BYE" in out
    # The server certificate itself: an end-entity certificate for TLS servers.
    leaf, ca_pem = pem_certs(d / "cert.pem")
    assert ca_pem == ca.read_text()
    text = text_of(leaf, tmp_path)
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text), text
    assert re.search(r"Key Usage: critical\s+Digital Signature\n", text), text
    assert "Certificate Sign" not in text
    assert re.search(r"Extended Key Usage:\s*\n\s+TLS Web Server Authentication\n", text)
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    assert "Authority Key Identifier" in text and "Subject Key Identifier" in text
    total, left = days(leaf, tmp_path)
    assert total <= 397.0001 and left > 395, (total, left)
    assert fp_of_der(served_der(port)) == fp_of_der(ssl.PEM_cert_to_DER_cert(leaf))
    leaf_path = tmp_path / "leaf.pem"
    leaf_path.write_text(leaf)
    r = ossl("verify", "-purpose", "sslserver", "-x509_strict", "-CAfile", ca, "-verify_hostname", "localhost",
             leaf_path)
    assert r.stdout.strip().endswith(": OK")
    # The CA: constrained, and its key and the server key readable by the daemon only.
    ctext = text_of(ca.read_text(), tmp_path, "ca-text.pem")
    assert re.search(r"Basic Constraints: critical\s+CA:TRUE, pathlen:0", ctext), ctext
    assert re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", ctext)
    assert re.search(r"Name Constraints: critical\s+Permitted:", ctext)
    for want in ("DNS:home.arpa", "DNS:lan", "DNS:localhost", "IP:10.0.0.0/255.0.0.0", "IP:172.16.0.0/255.240.0.0",
                 "IP:192.168.0.0/255.255.0.0", "IP:127.0.0.0/255.0.0.0", "IP:FC00:0:0:0:0:0:0:0/FE00:0:0:0:0:0:0:0"):
        assert want in ctext, want
    assert "TLS Web Server Authentication" in ctext
    ca_total, ca_left = days(ca.read_text(), tmp_path)
    assert 3652 <= ca_total <= 3653.0001 and ca_left > 3650, (ca_total, ca_left)   # ten years
    for name, mode in (("ca-key.pem", 0o600), ("key.pem", 0o600), ("cert.pem", 0o600), ("ca.pem", 0o640)):
        assert stat.S_IMODE(os.stat(d / name).st_mode) == mode, name


def nss_db(tmp_path, ca):
    db = tmp_path / "nssdb"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", "sql:%s" % db, "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", "sql:%s" % db, "-n", "household", "-t", "C,,", "-i", str(ca)],
                   check=True, capture_output=True)
    return db


def nss_verify(db, tmp_path, nick, pem):
    p = tmp_path / (nick + ".pem")
    p.write_text(pem)
    subprocess.run(["certutil", "-A", "-d", "sql:%s" % db, "-n", nick, "-t", ",,", "-i", str(p)], check=True,
                   capture_output=True)
    r = subprocess.run(["certutil", "-V", "-d", "sql:%s" % db, "-n", nick, "-u", "V"], capture_output=True,
                       text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


@pytest.mark.skipif(shutil.which("certutil") is None, reason="certutil not installed (libnss3-tools)")
def test_nss_accepts_the_served_certificate_and_enforces_the_constraints(make_server, tmp_path):
    srv = imaps(make_server)
    db = nss_db(tmp_path, srv.datadir / "ca.pem")
    served = ssl.DER_cert_to_PEM_cert(served_der(srv.iports["tls"]))
    rc, out = nss_verify(db, tmp_path, "served", served)
    assert rc == 0 and "certificate is valid" in out, out
    # A certificate for someone else's site, signed with the household CA's own key: refused.
    crt, _ = issue(srv, tmp_path, "bank", ["DNS:www.example-bank.com"])
    rc, out = nss_verify(db, tmp_path, "bank", crt.read_text())
    assert rc != 0 and "not permitted to issue a certificate with this name" in out, out
    crt, _ = issue(srv, tmp_path, "printer", ["DNS:printer.lan", "IP:192.168.1.9"])
    rc, out = nss_verify(db, tmp_path, "printer", crt.read_text())
    assert rc == 0, out
    # NSS's own TLS client (tstclnt), as Thunderbird connects: an IMAPS session, no override.
    if shutil.which("tstclnt"):
        def tstclnt(name):
            cmds = "a LOGIN alice %s\r\nb SELECT INBOX\r\nc LOGOUT\r\n" % srv.users["alice"]
            # tstclnt does not exit when the server closes (it spins): read until the LOGOUT
            # reply, a failure or its exit, then end it.
            p = subprocess.Popen(["tstclnt", "-h", "127.0.0.1", "-p", str(srv.iports["tls"]), "-d", "sql:%s" % db,
                                  "-a", name, "-V", "tls1.2:tls1.2"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            p.stdin.write(cmds.encode())
            p.stdin.flush()
            out, deadline = b"", time.time() + 20 * SLOW
            try:
                while b"c OK" not in out and time.time() < deadline:
                    if select.select([p.stdout], [], [], 0.5)[0]:
                        chunk = os.read(p.stdout.fileno(), 4096)
                        if not chunk:
                            break
                        out += chunk
            finally:
                rc = p.poll()
                if rc is None:
                    p.kill()
                    p.wait()
            return (0 if b"c OK" in out else rc or 1), out.decode(errors="replace")
        rc, out = tstclnt("localhost")
        assert rc == 0 and "a OK" in out and "b OK [READ-WRITE]" in out and "c OK" in out, out
        rc, out = tstclnt("www.example.com")
        assert rc != 0 and "SSL_ERROR_BAD_CERT_DOMAIN" in out and "a OK" not in out, out


def test_name_constraints_enforced_by_openssl(make_server, tmp_path):
    """Whoever holds the router's CA key cannot make a certificate a device accepts for another site."""
    srv = imaps(make_server)
    ca = srv.datadir / "ca.pem"
    refused = (["DNS:www.example-bank.com"], ["DNS:localhost", "DNS:mail.google.com"],
               ["DNS:lan.example.com"], ["DNS:x.lan", "IP:8.8.8.8"], ["DNS:x.lan", "IP:2001:db8::1"])
    for i, sans in enumerate(refused):
        crt, _ = issue(srv, tmp_path, "bad%d" % i, sans)
        r = ossl("verify", "-purpose", "sslserver", "-CAfile", ca, crt, check=False)
        assert r.returncode != 0 and "permitted subtree violation" in r.stdout + r.stderr, (sans, r.stdout, r.stderr)
    # The same key signing names inside the constraints: accepted, so the refusals above are the constraints'.
    allowed = (["DNS:printer.lan", "IP:192.168.1.9"], ["DNS:nas.home.arpa", "IP:fd00::9"], ["DNS:localhost"],
               ["DNS:lan", "IP:10.1.2.3", "IP:172.16.5.5"])
    for i, sans in enumerate(allowed):
        crt, _ = issue(srv, tmp_path, "ok%d" % i, sans)
        r = ossl("verify", "-purpose", "sslserver", "-CAfile", ca, crt)
        assert r.stdout.strip().endswith(": OK")


def page_of(srv, path, ck):
    from test_cgi_direct import cgi
    st, head, page = cgi(srv, path, cookie=ck)
    assert st == 200, page
    return head, page


def test_renewed_by_the_running_daemon(make_server, tmp_path):
    """A server certificate close to its end is replaced without a restart; the page says so."""
    from test_cgi_direct import CGI, sign_in
    srv = imaps(make_server)
    port = srv.iports["tls"]
    first = fp_of_der(served_der(port))
    ctx = ssl.create_default_context(cafile=str(srv.datadir / "ca.pem"))
    before = IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=15 * SLOW)
    before.login("alice", srv.users["alice"])
    # Ten days left: a certificate of the household CA, as a year of use would leave it.
    crt, key = issue(srv, tmp_path, "old", current_sans(srv), days_valid=10)
    (srv.datadir / "key.pem").write_text(key.read_text())
    (srv.datadir / "cert.pem").write_text(crt.read_text() + (srv.datadir / "ca.pem").read_text())
    old = fp_of_der(ssl.PEM_cert_to_DER_cert(crt.read_text()))
    # The check runs at start, every 12 hours and at each reload; a reload makes it run now.
    srv.signal(signal.SIGHUP)
    wait_for(lambda: fp_of_der(served_der(port)) not in (first, old), "a renewed certificate to be served")
    new_der = served_der(port)
    new = fp_of_der(new_der)
    assert srv.alive() and "issued a new server certificate (it expires in less than 30 days)" in srv.log()
    leaf = pem_certs(srv.datadir / "cert.pem")[0]
    assert fp_of_der(ssl.PEM_cert_to_DER_cert(leaf)) == new
    total, left = days(leaf, tmp_path)
    assert left > 395 and total <= 397.0001
    # New connections verify against the same CA; the session opened before goes on.
    m = IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=15 * SLOW)
    m.login("bob", srv.users["bob"])
    m.logout()
    assert before.noop()[0] == "OK"
    before.logout()
    # The web page shows the new fingerprint and that it changed.
    if os.path.exists(CGI):
        ck, _ = sign_in(srv)
        page = page_of(srv, "/certificate", ck)[1]
        assert new in page and "its fingerprint changed" in page and ("Before: <span class=\"mono\">%s" % old) in page
        assert "expires in less than 30 days" in page
        wait_for(lambda: new in page_of(srv, "/overview", ck)[1], "the overview to show the new fingerprint")
    # A restart keeps the renewed certificate (nothing left to renew).
    srv.restart()
    assert fp_of_der(served_der(port)) == new


def test_configured_certificate_never_renewed(make_server, tmp_path):
    """A certificate the owner configured is left alone, even one of the household CA close to its end."""
    srv = imaps(make_server)
    port = srv.iports["tls"]
    crt, key = issue(srv, tmp_path, "own", ["DNS:localhost", "IP:127.0.0.1"], days_valid=5)
    text = crt.read_text()
    own = fp_of_der(ssl.PEM_cert_to_DER_cert(text))
    srv.opts["cert"], srv.opts["key"] = str(crt), str(key)
    srv.write_config()
    srv.signal(signal.SIGHUP)
    wait_for(lambda: fp_of_der(served_der(port)) == own, "the configured certificate to be served")
    record = (srv.datadir / "cert.renewed").read_text()
    srv.signal(signal.SIGHUP)
    time.sleep(0.5)
    srv.restart()
    srv.signal(signal.SIGHUP)
    time.sleep(0.5)
    assert fp_of_der(served_der(port)) == own
    assert crt.read_text() == text and (srv.datadir / "cert.renewed").read_text() == record
    assert "issued a new server certificate" not in srv.log().split("certificate %s SHA-256" % crt)[-1]


def old_style_datadir(srv, tmp_path):
    """The data directory of main before this change: a self-signed CA:TRUE certificate.
    Made by the old binary when POSTNOOK_BASE_BIN names one, else the same shape with openssl."""
    base = os.environ.get("POSTNOOK_BASE_BIN")
    if base:
        cmd = [base, "serve", "-c", str(srv.conf), "-f"]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: (srv.datadir / "cert.pem").exists() and (srv.datadir / "status").exists(),
                 "the old binary to make its certificate")
        p.send_signal(signal.SIGTERM)
        p.wait(10 * SLOW)
    else:
        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", srv.datadir / "key.pem", "-out", srv.datadir / "cert.pem", "-subj", "/CN=localhost",
             "-days", "825", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
             "-addext", "extendedKeyUsage=serverAuth", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    return (srv.datadir / "cert.pem").read_text()


@pytest.mark.parametrize("named", [False, True], ids=["unset", "named-in-config"])
def test_old_self_signed_ca_certificate_upgraded(make_server, tmp_path, named):
    """Also when the config names DATADIR/cert.pem itself (the old page's "new certificate" wrote that)."""
    srv = make_server(start=False, listeners=("plain",), imap=("tls",))
    old = old_style_datadir(srv, tmp_path)
    if named:
        srv.opts["cert"], srv.opts["key"] = str(srv.datadir / "cert.pem"), str(srv.datadir / "key.pem")
        srv.write_config()
    assert re.search(r"CA:TRUE", text_of(old, tmp_path, "old.pem"))
    assert not (srv.datadir / "ca.pem").exists()
    srv.deliver_ok("alice", b"Subject: kept\n\nstill here\n")
    srv.start()
    port = srv.iports["tls"]
    assert "issued a new server certificate (it was not issued by the household CA)" in srv.log()
    leaf, ca = pem_certs(srv.datadir / "cert.pem")
    assert leaf not in old and ca == (srv.datadir / "ca.pem").read_text()
    assert re.search(r"Basic Constraints: critical\s+CA:FALSE", text_of(leaf, tmp_path))
    ctx = ssl.create_default_context(cafile=str(srv.datadir / "ca.pem"))
    m = IMAP4_SSL("127.0.0.1", port, ssl_context=ctx, timeout=15 * SLOW)
    m.login("alice", srv.users["alice"])
    typ, data = m.select("INBOX")
    assert typ == "OK" and data[0] == b"1"
    m.logout()


def test_host_names_in_the_certificate(make_server, tmp_path):
    """A one-label host name is named with .lan and .home.arpa too; a rename to a name the CA
    does not cover is left out (with a warning), its .lan and .home.arpa forms go in."""
    srv = imaps(make_server, hostname="nas")
    leaf = pem_certs(srv.datadir / "cert.pem")[0]
    text = text_of(leaf, tmp_path)
    for name in ("DNS:nas", "DNS:nas.lan", "DNS:nas.home.arpa", "DNS:localhost", "IP Address:127.0.0.1"):
        assert re.search(re.escape(name) + r"(,|\n)", text), (name, text)
    assert "Subject: CN = nas\n" in text
    assert re.search(r"Permitted:(.|\n)*DNS:nas\n", text_of((srv.datadir / "ca.pem").read_text(), tmp_path, "ca.pem"))
    ca = srv.datadir / "ca.pem"
    ctx = ssl.create_default_context(cafile=str(ca))
    with socket.create_connection(("127.0.0.1", srv.iports["tls"]), timeout=10 * SLOW) as raw:
        with ctx.wrap_socket(raw, server_hostname="nas.lan") as s:
            assert s.recv(100).startswith(b"* OK")
    srv.opts["hostname"] = "nas2"
    srv.write_config()
    srv.signal(signal.SIGHUP)
    wait_for(lambda: "nas2.lan" in text_of(pem_certs(srv.datadir / "cert.pem")[0], tmp_path),
             "a certificate for the new name")
    text = text_of(pem_certs(srv.datadir / "cert.pem")[0], tmp_path)
    assert "DNS:nas2," not in text and "DNS:nas2.home.arpa" in text and "Subject: CN = nas2.lan\n" in text
    assert "nas2 is outside the household CA's names" in srv.log()
    assert "issued a new server certificate (it does not name nas2.lan)" in srv.log()
    leaf_path = tmp_path / "renamed.pem"
    leaf_path.write_text(pem_certs(srv.datadir / "cert.pem")[0])
    r = ossl("verify", "-purpose", "sslserver", "-CAfile", ca, "-verify_hostname", "nas2.lan", leaf_path)
    assert r.stdout.strip().endswith(": OK")
    # A public name cannot be covered: it is left out and said so; the certificate stays.
    srv.opts["hostname"] = "mail.example.org"
    srv.write_config()
    srv.signal(signal.SIGHUP)
    wait_for(lambda: "mail.example.org is outside the household CA's names" in srv.log(), "the warning")
    assert pem_certs(srv.datadir / "cert.pem")[0] == leaf_path.read_text()


def test_ca_download_and_apple_profile(make_server, tmp_path):
    from test_cgi_direct import CGI, cgi, sign_in
    if not os.path.exists(CGI):
        pytest.skip("no postnook.cgi link next to the binary")
    import plistlib
    srv = imaps(make_server)
    ca = (srv.datadir / "ca.pem").read_text()
    # Public: a phone fetches it before anyone signs in (it is in every handshake anyway).
    st, head, body = cgi(srv, "/ca.crt")
    assert st == 200 and "Content-Type: application/x-x509-ca-cert" in head and body == ca
    ck, _ = sign_in(srv)
    page = page_of(srv, "/device", ck)[1]
    assert "/cgi-bin/postnook.cgi/ca.crt" in page and "Trust this router" in page
    ca_fp = fp_of_der(ssl.PEM_cert_to_DER_cert(ca))
    cpage = page_of(srv, "/certificate", ck)[1]
    assert ca_fp in page and ca_fp in cpage
    assert "fingerprint changed" not in cpage        # the first certificate replaced none
    st, head, body = cgi(srv, "/device/mobileconfig", cookie=ck, query="user=alice&proto=imap")
    assert st == 200, body
    pl = plistlib.loads(body.encode())
    roots = [p for p in pl["PayloadContent"] if p["PayloadType"] == "com.apple.security.root"]
    assert len(roots) == 1 and roots[0]["PayloadContent"] == ssl.PEM_cert_to_DER_cert(ca)
    assert len({p["PayloadUUID"] for p in pl["PayloadContent"]} | {pl["PayloadUUID"]}) == 3
