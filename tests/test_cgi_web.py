"""postnook.cgi end to end: a real web server (lighttpd, busybox httpd) from
Debian serving the CGI on loopback, driven by headless Chromium through
playwright-core, against a running daemon. Screenshots of every page at
1280 and 360 px go to tests/artifacts/screens/."""
import hashlib
import http.client
import imaplib
import plistlib
import re
import poplib
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from cgi_web import SAN, Browser, WebServer, cgi_built, missing_tools
from postnook_fixture import SLOW, POP3_SSL, free_port, make_msg, unverified_ctx

ADMIN_PW = "Correct-Horse-Battery-7"


@pytest.fixture
def web(make_server, request):
    started = []

    def make(kind="lighttpd", **opts):
        why = missing_tools(kind)
        if why:
            pytest.skip(why)
        srv = make_server(start=True, **opts)
        ws = WebServer(srv, kind).start()
        started.append(ws)
        return srv, ws

    yield make
    problems = []
    for ws in started:
        ws.stop()
        if SAN:
            problems += ws.sanitizer_reports()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def browser():
    why = missing_tools("lighttpd")
    if why:
        pytest.skip(why)
    b = Browser()
    yield b
    b.close()


def cookie_request(port, cookies, method, path, form=None):
    """One request to the CGI without a browser, keeping its cookies in the
    dict cookies: (status, page)."""
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30 * SLOW)
    h = {"Cookie": "; ".join("%s=%s" % kv for kv in cookies.items())}
    if body is not None:
        h["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, "/cgi-bin/postnook.cgi" + path, body=body, headers=h)
    r = c.getresponse()
    for v in r.headers.get_all("Set-Cookie") or []:
        name, _, rest = v.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    page = r.read().decode()
    c.close()
    return r.status, page


def refused(port):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        return True
    finally:
        s.close()
    return False


def served_fingerprint(port):
    """SHA-256 of the certificate the daemon presents, as the CGI prints it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW) as raw:
        with unverified_ctx().wrap_socket(raw, server_hostname="localhost") as s:
            der = s.getpeercert(binary_form=True)
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def page_fingerprint(b):
    text = b.text("main")
    for line in text.splitlines():
        if line.count(":") == 31 and len(line.strip()) == 95:
            return line.strip()
    raise AssertionError("no fingerprint on the page:\n" + text)


def sign_in_first_time(b, ws):
    r = b.goto(ws.cgi + "/")
    assert r["url"].endswith("/signin"), r
    assert "Welcome to postnook" in b.text()
    b.shots("signin-first-run")
    b.fill("#pw", ADMIN_PW)
    b.fill("#pw2", ADMIN_PW + "x")
    b.click("form.card button")
    assert "not the same" in b.text()
    b.fill("#pw", ADMIN_PW)
    b.fill("#pw2", ADMIN_PW)
    r = b.click("form.card button")
    assert r["url"].endswith("/overview"), r


def test_cgi_lighttpd_full(web, browser, tmp_path):
    srv, ws = web("lighttpd")
    b = browser
    sign_in_first_time(b, ws)
    cookies = {c["name"]: c for c in b.do("cookies")}
    sid = cookies["pn_sid"]
    assert sid["httpOnly"] and sid["sameSite"] == "Strict" and not sid["secure"]
    assert len(sid["value"]) == 64

    # Overview: running, sessions, storage, certificate.
    text = b.text("main")
    assert "Running" in text and "POP3 session" in text and "Storage" in text
    assert page_fingerprint(b) == served_fingerprint(srv.ports["tls"])
    b.shots("overview")

    # Protocols: a validation error keeps every submitted value and writes nothing.
    before = srv.conf.read_bytes()
    b.goto(ws.cgi + "/protocols")
    b.shots("protocols")
    imap = b.do("count", sel="#on0:not([disabled])") == 1
    b.fill("#port2", "70000")
    b.fill("#port3", " 12ab")
    b.click(".acts button[value=save]")
    text = b.text("main")
    assert "Nothing was saved" in text and "Ports go from 1 to 65535" in text
    assert b.value("#port2") == "70000" and b.value("#port3") == " 12ab"
    assert b.value("#port5") == str(srv.ports["plain"])
    assert b.do("checked", sel="#on2") and b.do("checked", sel="#on5")
    assert srv.conf.read_bytes() == before
    b.shots("protocols-error")
    # Two listeners on one address and port.
    b.goto(ws.cgi + "/protocols")
    b.fill("#port3", str(srv.ports["tls"]))
    b.click(".acts button[value=save]")
    assert "already used by POP3 with SSL/TLS" in b.text("main")
    assert srv.conf.read_bytes() == before

    # Move a listener to a new port and turn POP3 (or a part of it) off.
    new_port = free_port()
    b.goto(ws.cgi + "/protocols")
    if imap:
        b.do("check", sel="#on0", value=True)
        b.fill("#port0", str(new_port))
        b.do("select", sel="#addr0", value="127.0.0.1")
        for row in (2, 3, 5):
            b.do("check", sel="#on%d" % row, value=False)
    else:
        b.fill("#port2", str(new_port))
        b.do("check", sel="#on3", value=False)
    b.do("check", sel="input[name=plain][value=loopback]", value=True)
    b.click(".acts button[value=save]")
    text = b.text("main")
    assert "The mail server reloaded and uses them now" in text, text
    assert srv.conf.with_name(srv.conf.name + ".bak").read_bytes() == before
    old_tls, old_starttls = srv.ports["tls"], srv.ports["starttls"]
    if imap:
        m = imaplib.IMAP4_SSL("127.0.0.1", new_port, ssl_context=unverified_ctx(), timeout=10 * SLOW)
        m.login("alice", srv.users["alice"])
        m.logout()
        assert refused(old_tls) and refused(old_starttls) and refused(srv.ports["plain"])
        with pytest.raises(OSError):
            poplib.POP3("127.0.0.1", srv.ports["plain"], timeout=5)
    else:
        p = POP3_SSL("127.0.0.1", new_port, context=unverified_ctx(), timeout=10 * SLOW)
        p.user("alice")
        p.pass_(srv.users["alice"])
        p.stat()
        p.quit()
        assert refused(old_tls) and refused(old_starttls)
        with pytest.raises(OSError):
            POP3_SSL("127.0.0.1", old_tls, context=unverified_ctx(), timeout=5)
    srv.ports["tls"] = new_port

    # Users: a validation error keeps the values; then add, quota, password, delete.
    b.goto(ws.cgi + "/users")
    b.fill("#add-name", "Bad Name!")
    b.fill("#add-pw", "longenough")
    b.fill("#add-quota", "2 GX")
    b.click("form:has(input[value=add]) button")
    text = b.text("main")
    assert "Nothing was changed" in text and "lowercase letters" in text and "Write a size such as" in text
    assert b.value("#add-name") == "Bad Name!" and b.value("#add-quota") == "2 GX" and b.value("#add-pw") == ""
    b.fill("#add-name", "dave")
    b.fill("#add-pw", "Dave-Pass-4411")
    b.fill("#add-quota", "1 MB")
    b.click("form:has(input[value=add]) button")
    assert "User dave added." in b.text("main")
    b.fill("#add-name", "erin")
    b.fill("#add-pw", "Erin-Pass-1")
    b.fill("#add-quota", "")
    b.click("form:has(input[value=add]) button")
    assert "User erin added." in b.text("main")
    b.fill("#add-name", "erin")
    b.fill("#add-pw", "Erin-Pass-1")
    b.click("form:has(input[value=add]) button")
    assert "already a user called erin" in b.text("main")

    # dave hits the quota: deliver until the store says no.
    body = ("x" * 76 + "\n") * 3300          # ~250 KiB
    delivered = 0
    for i in range(10):
        r = srv.deliver("dave", make_msg("q%d" % i, body=body))
        if r.returncode != 0:
            assert r.returncode == 75, r.stderr
            break
        delivered += 1
    assert 2 <= delivered < 10
    if imap:
        m = imaplib.IMAP4_SSL("127.0.0.1", new_port, ssl_context=unverified_ctx(), timeout=10 * SLOW)
        m.login("dave", "Dave-Pass-4411")
        typ, data = m.select("INBOX")
        assert int(data[0]) == delivered
        m.logout()
    else:
        p = POP3_SSL("127.0.0.1", new_port, context=unverified_ctx(), timeout=10 * SLOW)
        p.user("dave")
        p.pass_("Dave-Pass-4411")
        assert p.stat()[0] == delivered
        p.quit()
    b.goto(ws.cgi + "/users")
    assert b.do("count", sel=".bar.full") + b.do("count", sel=".bar.hi") >= 1
    b.shots("users")

    # Change erin's quota and password; the new password logs in.
    b.do("tap", sel="details:has(input[name=action][value=quota]):has(input[name=user][value=erin]) > summary")
    b.fill("#q-erin", "2 gigabytes")
    b.click("form:has(input[name=action][value=quota]):has(input[name=user][value=erin]) button")
    assert "Write a size such as" in b.text("main") and b.value("#q-erin") == "2 gigabytes"
    b.fill("#q-erin", "2 GB")
    b.click("form:has(input[name=action][value=quota]):has(input[name=user][value=erin]) button")
    assert "Quota of erin set." in b.text("main")
    assert "erin" in srv.user_list() and srv.user_list()["erin"]["quota"].startswith("2.0G")
    b.do("tap", sel="details:has(input[name=action][value=passwd]):has(input[name=user][value=erin]) > summary")
    b.fill("#pw-erin", "Erin-New-Pass-2")
    b.click("form:has(input[name=action][value=passwd]):has(input[name=user][value=erin]) button")
    assert "Password of erin changed." in b.text("main")
    if not imap:
        p = poplib.POP3("127.0.0.1", srv.ports["plain"], timeout=10 * SLOW)
        p.user("erin")
        p.pass_("Erin-New-Pass-2")
        p.quit()
    # Delete asks first.
    b.click("form:has(input[name=action][value=delask]):has(input[name=user][value=erin]) button")
    assert "Delete erin?" in b.text("main")
    b.shots("users-delete")
    b.click("button.danger")
    assert "User erin and all of their mail deleted." in b.text("main")
    assert "erin" not in srv.user_list()

    # A forged POST (no token, wrong token) changes nothing: 403.
    r = b.do("request", url=ws.cgi + "/users", method="POST",
             form={"action": "add", "name": "mallory", "password": "Mallory-Pass-1"})
    assert r["status"] == 403 and "security token" in r["body"]
    r = b.do("request", url=ws.cgi + "/protocols", method="POST",
             form={"csrf": "0" * 32, "action": "save", "on5": "1", "port5": "2", "addr5": "127.0.0.1"})
    assert r["status"] == 403
    assert "mallory" not in srv.user_list()

    # Certificate: a new self-made one is served after the reload.
    b.goto(ws.cgi + "/certificate")
    b.shots("certificate")
    old_fp = page_fingerprint(b)
    b.click("form:has(input[value=regenerate]) button")
    assert "reloaded and uses them now" in b.text("main")
    fp = page_fingerprint(b)
    assert fp != old_fp and served_fingerprint(new_port) == fp
    # Upload: a key of another certificate is refused; the right pair is served.
    for n in ("a", "b"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(tmp_path / ("%s.key" % n)), "-out", str(tmp_path / ("%s.pem" % n)),
                        "-days", "30", "-subj", "/CN=mail.example.test"], check=True, capture_output=True)
    b.fill("#pem-cert", (tmp_path / "a.pem").read_text())
    b.fill("#pem-key", (tmp_path / "b.key").read_text())
    b.click("form:has(input[value=upload]) button")
    text = b.text("main")
    assert "does not belong to the certificate" in text, text
    assert served_fingerprint(new_port) == fp
    b.fill("#pem-key", (tmp_path / "a.key").read_text())
    b.click("form:has(input[value=upload]) button")
    text = b.text("main")
    assert "Your certificate is saved" in text and "mail.example.test" in text
    der = ssl.PEM_cert_to_DER_cert((tmp_path / "a.pem").read_text())
    want = ":".join("%02X" % x for x in hashlib.sha256(der).digest())
    assert page_fingerprint(b) == want and served_fingerprint(new_port) == want

    # Set up a device: settings, autoconfig XML, Apple profile.
    b.goto(ws.cgi + "/device")
    text = b.text("main")
    assert "IMAP or POP3?" in text and str(new_port) in text
    b.shots("device")
    # The outgoing server both files name: checked, kept, then used.
    b.fill("#smtp-host", "smtp example")
    b.fill("#smtp-port", "99999")
    b.click("form:has(input[value=smtp]) button")
    text = b.text("main")
    assert "Nothing was saved" in text and "such as smtp.example.net" in text and "from 1 to 65535" in text
    assert b.value("#smtp-host") == "smtp example" and b.value("#smtp-port") == "99999"
    b.fill("#smtp-host", "smtp.example.org")
    b.fill("#smtp-port", "465")
    b.click("form:has(input[value=smtp]) button")
    assert "Outgoing server saved" in b.text("main")
    b.do("select", sel="#mc-user", value="dave")
    b.fill("#mc-mail", "dave@example.org")
    prof = tmp_path / "dave.mobileconfig"
    res = b.do("download", sel="form[action$=mobileconfig] button", path=str(prof))
    assert res["name"] == "dave-mail.mobileconfig"
    pl = plistlib.loads(prof.read_bytes())
    acct = pl["PayloadContent"][0]
    assert pl["PayloadType"] == "Configuration" and acct["PayloadType"] == "com.apple.mail.managed"
    assert acct["IncomingMailServerPortNumber"] == new_port and acct["IncomingMailServerUsername"] == "dave"
    assert acct["EmailAddress"] == "dave@example.org" and acct["IncomingMailServerUseSSL"] is True
    assert acct["OutgoingMailServerHostName"] == "smtp.example.org" and acct["OutgoingMailServerPortNumber"] == 465
    xml_path = tmp_path / "config-v1.1.xml"
    with urllib.request.urlopen(ws.base + "/mail/config-v1.1.xml?emailaddress=dave%40example.org", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("application/xml")
        xml_path.write_bytes(r.read())
    subprocess.run(["xmllint", "--noout", str(xml_path)], check=True)
    root = ET.parse(xml_path).getroot()
    assert root.find("emailProvider/domain").text == "example.org"
    ports = [int(s.find("port").text) for s in root.iter("incomingServer")]
    assert new_port in ports
    out = root.find("emailProvider/outgoingServer")
    assert out.find("hostname").text == "smtp.example.org" and out.find("socketType").text == "SSL"

    # Page size and CPU: every page well under 20 KB.
    for path in ("/overview", "/protocols", "/users", "/certificate", "/device"):
        r = b.do("request", url=ws.cgi + path)
        assert r["status"] == 200 and len(r["body"].encode()) < 20000, (path, len(r["body"]))

    # Sign out: the session is gone.
    b.goto(ws.cgi + "/overview")
    b.click("header form button")
    r = b.goto(ws.cgi + "/overview")
    assert r["url"].endswith("/signin")
    assert srv.alive()


def test_cgi_busybox_signin(web, browser):
    srv, ws = web("busybox")
    r = srv.run("admin", "passwd", input=ADMIN_PW + "\n")
    assert r.returncode == 0, r.stderr
    b = browser
    r = b.goto(ws.cgi + "/overview")
    assert r["url"].endswith("/signin") and "Sign in" in b.text("main")
    b.shots("signin")
    b.fill("#pw", "wrong-password")
    t0 = time.time()
    b.click("form.card button")
    assert "not right" in b.text("main") and time.time() - t0 >= 0.4
    # At once again: this address has to wait first.
    b.fill("#pw", ADMIN_PW)
    b.click("form.card button")
    assert "wait" in b.text("main")
    time.sleep(2.1)
    b.fill("#pw", ADMIN_PW)
    r = b.click("form.card button")
    assert r["url"].endswith("/overview") and "Running" in b.text("main")
    for url in (ws.cgi + "/mail/config-v1.1.xml", ws.base + "/mail/config-v1.1.xml?emailaddress=x%40example.net"):
        with urllib.request.urlopen(url, timeout=10) as resp:
            root = ET.fromstring(resp.read())
        assert root.tag == "clientConfig"
        ports = [int(s.find("port").text) for s in root.iter("incomingServer")]
        assert srv.ports["tls"] in ports
    assert root.find("emailProvider/domain").text == "example.net"


def test_cgi_unprivileged_web_user(make_server):
    """lighttpd runs the CGI as nobody; the daemon (root here) and the web
    server share one group (nogroup) on setgid directories, as the docs say."""
    import grp
    import os
    import pathlib
    import re
    import shutil
    import tempfile

    why = missing_tools("lighttpd")
    if why:
        pytest.skip(why)
    base = pathlib.Path(tempfile.mkdtemp(prefix="pn-cgi-", dir="/tmp"))
    os.chmod(base, 0o755)
    ws = None
    try:
        srv = make_server(base=base / "srv", start=False)
        assert srv.run("admin", "passwd", input=ADMIN_PW + "\n").returncode == 0
        gid = grp.getgrnam("nogroup").gr_gid
        for d in (srv.dir, srv.datadir):
            os.chown(d, 0, gid)
            os.chmod(d, 0o2770)
        for f in list(srv.datadir.iterdir()) + [srv.conf]:
            os.chown(f, 0, gid)
            os.chmod(f, 0o660)
        srv.start()
        ws = WebServer(srv, "lighttpd", user=("nobody", "nogroup"))
        os.chown(ws.dir, 0, gid)
        os.chmod(ws.dir, 0o2770)           # lighttpd opens its error log as nobody
        ws.start()
        cookies = {}

        def req(method, path, form=None):
            return cookie_request(ws.port, cookies, method, path, form)

        st, page = req("GET", "/signin")
        assert st == 200, page
        st, page = req("POST", "/signin", {"csrf": cookies["pn_pre"], "action": "signin", "password": ADMIN_PW})
        assert st == 303 and cookies.get("pn_sid"), page
        st, page = req("GET", "/overview")
        assert st == 200 and "Running" in page
        # The daemon's cert.pem is root's 0600: the fingerprint comes from its status file.
        assert served_fingerprint(srv.ports["tls"]) in page
        tok = re.search(r'name="csrf" value="([0-9a-f]{32})"', page).group(1)
        # Save: the config is rewritten by nobody; the reload goes through notify.sock (no signal to root).
        new_port = free_port()
        st, page = req("POST", "/protocols", {
            "csrf": tok, "action": "save", "plain": "loopback",
            "on2": "1", "port2": str(srv.ports["tls"]), "addr2": "127.0.0.1",
            "on5": "1", "port5": str(new_port), "addr5": "127.0.0.1"})
        assert "reloaded and uses them now" in page, page
        assert os.stat(srv.conf).st_uid == pwd_uid("nobody")
        old = srv.ports["plain"]
        srv.ports["plain"] = new_port
        srv.assert_serving()
        assert refused(old)
        # Users go to the store as nobody too.
        st, page = req("POST", "/users", {"csrf": tok, "action": "add", "name": "ulla", "password": "Ulla-Pass-9",
                                          "quota": "10 MB"})
        assert "User ulla added." in page, page
        assert "ulla" in srv.user_list()
        # A new self-made certificate, asked for by nobody, is issued by the daemon: only it reads
        # the household CA's key, and the new key stays the daemon's own.
        before = served_fingerprint(srv.ports["tls"])
        st, page = req("POST", "/certificate", {"csrf": tok, "action": "regenerate"})
        assert "reloaded and uses them now" in page, page
        after = served_fingerprint(srv.ports["tls"])
        assert after != before and after in page
        assert oct(os.stat(srv.datadir / "key.pem").st_mode & 0o777) == "0o600"
        assert oct(os.stat(srv.datadir / "ca-key.pem").st_mode & 0o777) == "0o600"
    finally:
        if ws:
            ws.stop()
        shutil.rmtree(base, ignore_errors=True)


def pwd_uid(name):
    import pwd
    return pwd.getpwnam(name).pw_uid


def test_cgi_trace_page(web, browser):
    """The Trace page: a bad name is refused next to the field and nothing
    is written; saved names take effect at once (the daemon reloads), and
    the page shows the trace's latest lines, the password masked."""
    from test_trace import trace_built
    if not trace_built():
        pytest.skip("this build has no protocol trace (CONFIG_TRACE=n)")
    srv, ws = web("lighttpd", imap=("plain",))
    b = browser
    sign_in_first_time(b, ws)
    before = srv.conf.read_bytes()
    b.goto(ws.cgi + "/trace")
    assert "No trace has been written yet" in b.text("main")
    b.fill("#trace", "alice, Bad Name!")
    b.click("main form button")
    text = b.text("main")
    assert "Nothing was saved" in text and "'Bad Name!' is neither a user name nor a numeric IP address" in text
    assert b.value("#trace") == "alice, Bad Name!"
    assert srv.conf.read_bytes() == before
    b.shots("trace-error")
    b.fill("#trace", " alice ,192.168.1.23")
    b.click("main form button")
    assert "The mail server reloaded and uses them now" in b.text("main")
    assert b.value("#trace") == "alice, 192.168.1.23"
    assert "trace = alice, 192.168.1.23\n" in srv.conf.read_text()
    m = srv.imap("alice")
    m.select("INBOX")
    m.logout()
    srv.imap("bob").logout()
    b.goto(ws.cgi + "/trace")
    lines = b.text("pre.trace")
    assert "SELECT INBOX" in lines and "* trace on (user): imap" in lines, lines
    assert "closed (done)" in lines and srv.users["alice"] not in lines and "bob" not in lines
    b.shots("trace")
    # Emptied: the line goes and nothing more is traced.
    b.fill("#trace", "")
    b.click("main form button")
    assert "The mail server reloaded and uses them now" in b.text("main")
    assert not re.search(r"^trace\s*=", srv.conf.read_text(), re.M), srv.conf.read_text()


def test_store_modes_for_the_shared_group(make_server):
    """Issue 10 item 9: the store is made by `postnook user add` run as root
    with the usual umask 022; the README's setup (one group, setgid 2770
    directories, no chmod of the store files) must then let the CGI, run by
    lighttpd as nobody, sign in and add a user: the store files are 0660."""
    import grp
    import os
    import pathlib
    import shutil
    import tempfile

    if not cgi_built() or not os.path.exists("/usr/sbin/lighttpd"):
        pytest.skip("needs lighttpd and a build with the CGI")     # no browser needed
    base = pathlib.Path(tempfile.mkdtemp(prefix="pn-mode-", dir="/tmp"))
    os.chmod(base, 0o755)
    ws = None
    old = os.umask(0o022)
    try:
        srv = make_server(base=base / "srv", users=("alice",), start=False)
        assert srv.run("admin", "passwd", input=ADMIN_PW + "\n").returncode == 0
        os.umask(old)
        for f in ("data.mdb", "lock.mdb"):
            mode = os.stat(srv.datadir / f).st_mode & 0o777
            assert mode == 0o660, "%s is %o after `user add` under umask 022; the README says 0660" % (f, mode)
        # the README's commands: chgrp -R, chmod 2770 on the directories, 660 on the config
        gid = grp.getgrnam("nogroup").gr_gid
        for d in (srv.dir, srv.datadir):
            for p in [d] + list(d.iterdir()):
                os.chown(p, 0, gid)
            os.chmod(d, 0o2770)
        os.chmod(srv.conf, 0o660)
        ws = WebServer(srv, "lighttpd", user=("nobody", "nogroup"))
        os.chown(ws.dir, 0, gid)
        os.chmod(ws.dir, 0o2770)
        ws.start()
        cookies = {}

        def req(method, path, form=None):
            return cookie_request(ws.port, cookies, method, path, form)

        st, page = req("GET", "/signin")
        assert st == 200, page
        st, page = req("POST", "/signin", {"csrf": cookies["pn_pre"], "action": "signin", "password": ADMIN_PW})
        assert st == 303 and cookies.get("pn_sid"), (st, page)
        st, page = req("GET", "/users")
        tok = re.search(r'name="csrf" value="([0-9a-f]{32})"', page).group(1)
        st, page = req("POST", "/users", {"csrf": tok, "action": "add", "name": "ulla", "password": "Ulla-Pass-9",
                                          "quota": "10 MB"})
        assert "User ulla added." in page, page
        assert set(srv.user_list()) == {"alice", "ulla"}
    finally:
        os.umask(old)
        if ws:
            ws.stop()
        shutil.rmtree(base, ignore_errors=True)
