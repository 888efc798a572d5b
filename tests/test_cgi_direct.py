"""postnook.cgi run directly with a CGI environment (no web server): limits,
methods, the first-run policy, the CSRF rule, the status file, `postnook admin`."""
import os
import re
import subprocess
import time
import urllib.parse

import pytest

from cgi_web import cgi_built
from postnook_fixture import BIN, SLOW

pytestmark = pytest.mark.skipif(os.path.exists(BIN) and not cgi_built(), reason="this build has no CGI (CONFIG_CGI=n)")

CGI = os.path.join(os.path.dirname(BIN), "postnook.cgi")
PW = "Admin-Pass-0042"


def cgi(srv, path="", method="GET", form=None, body=None, cookie="", remote="127.0.0.1", query="", ctype=None,
        clen=None, https=False):
    if body is None:
        body = urllib.parse.urlencode(form or {}).encode()
    env = {"PATH": "/usr/bin:/bin", "POSTNOOK_CONF": str(srv.conf), "REQUEST_METHOD": method,
           "SCRIPT_NAME": "/cgi-bin/postnook.cgi", "PATH_INFO": path, "REMOTE_ADDR": remote,
           "QUERY_STRING": query, "HTTP_COOKIE": cookie, "HTTP_HOST": "router.lan"}
    if https:
        env["HTTPS"] = "on"
    if method == "POST":
        env["CONTENT_TYPE"] = ctype or "application/x-www-form-urlencoded"
        env["CONTENT_LENGTH"] = str(len(body) if clen is None else clen)
    r = subprocess.run([CGI], input=body, env=env, capture_output=True, timeout=30 * SLOW)
    srv.cli_stderr.append((["postnook.cgi", "cgi", path], r.stderr.decode(errors="replace")))
    head, _, page = r.stdout.decode(errors="replace").partition("\r\n\r\n")
    status = int(re.match(r"Status: (\d+)", head).group(1))
    return status, head, page


def sign_in(srv):
    """Admin password via the CLI, then a session: (cookie header, csrf token)."""
    r = srv.run("admin", "passwd", input=PW + "\n")
    assert r.returncode == 0, r.stderr
    st, head, page = cgi(srv, "/signin")
    pre = re.search(r"pn_pre=([0-9a-f]{32})", head).group(1)
    st, head, page = cgi(srv, "/signin", "POST", {"csrf": pre, "action": "signin", "password": PW},
                         cookie="pn_pre=" + pre)
    assert st == 303 and "Location: /cgi-bin/postnook.cgi/overview" in head
    ck = "pn_sid=" + re.search(r"pn_sid=([0-9a-f]{64})", head).group(1)
    st, head, page = cgi(srv, "/overview", cookie=ck)
    assert st == 200
    return ck, re.search(r'name="csrf" value="([0-9a-f]{32})"', page).group(1)


@pytest.fixture
def cgisrv(make_server):
    if not os.path.exists(CGI):
        pytest.skip("no postnook.cgi link next to the binary")
    return make_server(start=True)


def test_first_run_only_from_lan(make_server):
    srv = make_server(start=False)
    st, head, page = cgi(srv, "/signin", remote="203.0.113.9")
    assert st == 200 and "No admin password yet" in page and "postnook admin passwd" in page
    st, head, page = cgi(srv, "/signin", remote="192.168.1.20")
    assert "Welcome to postnook" in page
    srv.opts["admin_setup"] = "loopback"
    srv.write_config()
    assert "No admin password yet" in cgi(srv, "/signin", remote="192.168.1.20")[2]
    assert "Welcome to postnook" in cgi(srv, "/signin", remote="127.0.0.1")[2]
    # Setting it from a refused address does nothing, even with a good token.
    st, head, page = cgi(srv, "/signin", remote="127.0.0.1")
    pre = re.search(r"pn_pre=([0-9a-f]{32})", head).group(1)
    st, head, page = cgi(srv, "/signin", "POST", {"csrf": pre, "action": "setup", "password": PW, "password2": PW},
                         cookie="pn_pre=" + pre, remote="192.168.1.20")
    assert st == 200 and "No admin password yet" in page and "Set-Cookie: pn_sid" not in head
    r = srv.run("admin", "status")
    assert r.returncode == 0 and b"no admin password" in r.stdout


def test_cookie_attributes(cgisrv):
    srv = cgisrv
    st, head, page = cgi(srv, "/signin")
    assert "HttpOnly; SameSite=Strict" in head and "; Secure" not in head
    st, head, page = cgi(srv, "/signin", https=True)
    cookie = re.search(r"Set-Cookie: (pn_pre=[^\r\n]*)", head).group(1)
    assert "; Secure" in cookie and "HttpOnly" in cookie and "Path=/cgi-bin/postnook.cgi" in cookie
    assert "Content-Security-Policy: default-src 'none'" in head and "X-Frame-Options: DENY" in head
    # Pages stay small: the sign-in page and the others are well under 20 KB.
    assert len(page.encode()) < 20000


def test_limits_and_methods(cgisrv):
    srv = cgisrv
    ck, tok = sign_in(srv)
    assert cgi(srv, "/users", "POST", body=b"x" * 10, clen=10 ** 9, cookie=ck)[0] == 413
    assert cgi(srv, "/users", "POST", body=b"a=1", ctype="multipart/form-data; boundary=x", cookie=ck)[0] == 415
    assert cgi(srv, "/users", "PUT", cookie=ck)[0] == 405
    assert cgi(srv, "/overview", "POST", {"csrf": tok}, cookie=ck)[0] == 405
    assert cgi(srv, "/users", "POST", body=b"a=%zz", cookie=ck)[0] == 400
    assert cgi(srv, "/overview", query="x=" + "a" * 3000, cookie=ck)[0] == 400
    assert cgi(srv, "/nope", cookie=ck)[0] == 404
    st, head, page = cgi(srv, "/overview", "HEAD", cookie=ck)
    assert st == 200 and page == "" and int(re.search(r"Content-Length: (\d+)", head).group(1)) > 1000
    # Signed out: pages redirect, forms are refused.
    assert cgi(srv, "/users")[0] == 303
    assert cgi(srv, "/users", "POST", {"action": "add"})[0] == 403
    # Public autoconfig needs no session and no store.
    st, head, page = cgi(srv, "/mail/config-v1.1.xml", query="emailaddress=a%40b.example")
    assert st == 200 and "<domain>b.example</domain>" in page and "application/xml" in head
    # Thunderbird refuses a file without an outgoing server: a guess until one is saved.
    assert "<hostname>smtp.%EMAILDOMAIN%</hostname>" in page and "<port>587</port>" in page


def test_csrf_and_users(cgisrv):
    srv = cgisrv
    ck, tok = sign_in(srv)
    form = {"action": "add", "name": "zoe", "password": "Zoe-Pass-77", "quota": "2 GB"}
    for bad in (None, "", "0" * 32, tok[:-1] + ("0" if tok[-1] != "0" else "1"), tok.upper()):
        f = dict(form)
        if bad is not None:
            f["csrf"] = bad
        st, head, page = cgi(srv, "/users", "POST", f, cookie=ck)
        assert st == 403 and "security token" in page
    assert "zoe" not in srv.user_list()
    st, head, page = cgi(srv, "/users", "POST", dict(form, csrf=tok), cookie=ck)
    assert st == 200 and "User zoe added." in page
    assert srv.user_list()["zoe"]["quota"].startswith("2.0G")
    # A token of another session does not work for this one.
    ck2, tok2 = sign_in(srv)
    assert tok2 != tok
    assert cgi(srv, "/users", "POST", dict(form, csrf=tok2, name="zed"), cookie=ck)[0] == 403
    # Escaping: what users type comes back escaped.
    st, head, page = cgi(srv, "/users", "POST", dict(form, csrf=tok, name='<b>"x'), cookie=ck)
    assert 'value="&lt;b&gt;&quot;x"' in page and '<b>"x' not in page
    # Sign out ends the session.
    assert cgi(srv, "/signout", "POST", {"csrf": tok}, cookie=ck)[0] == 303
    assert cgi(srv, "/overview", cookie=ck)[0] == 303


def test_status_file_and_reload_report(cgisrv):
    srv = cgisrv
    status = srv.datadir / "status"
    deadline = time.time() + 5 * SLOW
    while not status.exists() and time.time() < deadline:
        time.sleep(0.05)
    text = status.read_text()
    assert "pid %d\n" % srv.pid in text and "sessions pop3 0" in text and "listen pop3 tls 127.0.0.1" in text
    ck, tok = sign_in(srv)
    # A session shows up within the 2 s check.
    p = srv.pop()
    deadline = time.time() + 6 * SLOW
    while "sessions pop3 1" not in status.read_text() and time.time() < deadline:
        time.sleep(0.1)
    assert "sessions pop3 1" in status.read_text()
    assert re.search(r"^user alice pop3 127\.0\.0\.1:\d+$", status.read_text(), re.M)
    page = cgi(srv, "/users", cookie=ck)[2]
    assert re.search(r"alice<span class=\"dot\"[^>]*></span><span class=\"small\">connected \(POP3\)", page)
    assert "bob<span" not in page
    page = cgi(srv, "/overview", cookie=ck)[2]
    assert "<li><strong>alice</strong> <span class=\"small\">POP3 from 127.0.0.1</span></li>" in page
    p.quit()
    deadline = time.time() + 6 * SLOW
    while "user alice" in status.read_text() and time.time() < deadline:
        time.sleep(0.1)
    assert "user alice" not in status.read_text()
    # A reload that cannot open a port (taken by another socket) is reported as failed.
    import socket
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    busy = blocker.getsockname()[1]
    try:
        f = {"csrf": tok, "action": "save", "plain": "loopback",
             "on2": "1", "port2": str(srv.ports["tls"]), "addr2": "127.0.0.1",
             "on5": "1", "port5": str(srv.ports["plain"]), "addr5": "127.0.0.1",
             "on3": "1", "port3": str(busy), "addr3": "127.0.0.1"}
        st, head, page = cgi(srv, "/protocols", "POST", f, cookie=ck)
        assert st == 200 and "reported a problem" in page and "could not be opened" in page
        assert "reload_ok 0" in status.read_text()
    finally:
        blocker.close()
    srv.stop()
    assert not status.exists()


def test_presets_and_config_rewrite(cgisrv):
    srv = cgisrv
    ck, tok = sign_in(srv)
    before = srv.conf.read_text()
    # A preset fills the form and saves nothing.
    st, head, page = cgi(srv, "/protocols", "POST", {"csrf": tok, "preset": "tls"}, cookie=ck)
    assert st == 200 and "Preset filled in" in page
    checked = set(re.findall(r'id="on(\d)" name="on\d" value="1" checked', page))
    assert checked == ({"0", "2"} if 'id="on0" name="on0" value="1" checked' in page else {"2"})
    assert 'id="port2" name="port2" value="995"' in page
    assert srv.conf.read_text() == before
    # Saving rewrites only listen and plaintext_auth: comments and other keys stay where they were.
    f = {"csrf": tok, "action": "save", "plain": "never",
         "on2": "1", "port2": str(srv.ports["tls"]), "addr2": "127.0.0.1",
         "on5": "1", "port5": str(srv.ports["plain"]), "addr5": "::1"}
    st, head, page = cgi(srv, "/protocols", "POST", f, cookie=ck)
    assert "reloaded and uses them now" in page, page
    after = srv.conf.read_text()
    assert srv.conf.with_name(srv.conf.name + ".bak").read_text() == before
    assert after.startswith("# postnook test configuration\n")
    keep = [l for l in before.splitlines() if not l.startswith(("listen", "plaintext_auth"))]
    assert [l for l in after.splitlines() if not l.startswith(("listen", "plaintext_auth"))] == keep
    assert "listen = pop3 tls 127.0.0.1:%d" % srv.ports["tls"] in after
    assert "listen = pop3 none [::1]:%d" % srv.ports["plain"] in after
    assert "plaintext_auth = never" in after and "starttls" not in after
    # Nothing is written when the parser would refuse the result.
    f2 = dict(f, addr5="not-an-address")
    st, head, page = cgi(srv, "/protocols", "POST", f2, cookie=ck)
    assert "Choose an address from the list" in page and srv.conf.read_text() == after
    f3 = {"csrf": tok, "action": "save", "plain": "never"}
    st, head, page = cgi(srv, "/protocols", "POST", f3, cookie=ck)
    assert "Turn at least one protocol on" in page and srv.conf.read_text() == after


def test_config_rewrite_keeps_imap_runtime_keys(make_server):
    """The page's config writer keeps the keys it does not own: the IMAP
    settings an owner set by hand survive a save of /protocols."""
    if not os.path.exists(CGI):
        pytest.skip("no postnook.cgi link next to the binary")
    srv = make_server(start=True, imap_timeout=3600, imap_idle_poll=250)
    ck, tok = sign_in(srv)
    f = {"csrf": tok, "action": "save", "plain": "never",
         "on2": "1", "port2": str(srv.ports["tls"]), "addr2": "127.0.0.1"}
    st, head, page = cgi(srv, "/protocols", "POST", f, cookie=ck)
    assert "reloaded and uses them now" in page, page
    after = srv.conf.read_text()
    assert "\nimap_timeout = 3600\n" in after and "\nimap_idle_poll = 250\n" in after, after


def test_certificate_shown_without_the_key(cgisrv):
    """The web server's user may read the certificate but not the daemon's key."""
    srv = cgisrv
    ck, tok = sign_in(srv)
    key = srv.datadir / "key.pem"
    page = cgi(srv, "/certificate", cookie=ck)[2]
    fp = re.search(r"([0-9A-F]{2}(?::[0-9A-F]{2}){31})", page).group(1)
    os.rename(key, str(key) + ".away")
    try:
        page = cgi(srv, "/certificate", cookie=ck)[2]
        assert fp in page and "ECDSA P-256" in page and "Issued to" in page
        assert fp in cgi(srv, "/overview", cookie=ck)[2]
    finally:
        os.rename(str(key) + ".away", key)


def test_autoconfig_makes_no_store(make_server):
    """The public autoconfig page reads the store if there is one; on a data
    directory without one it answers and creates nothing (issue 10 item 8)."""
    if not os.path.exists(CGI):
        pytest.skip("no postnook.cgi link next to the binary")
    srv = make_server(users=())
    st, head, page = cgi(srv, "/mail/config-v1.1.xml", query="emailaddress=a%40b.example")
    assert st == 200 and "<clientConfig" in page, (st, page[:300])
    assert list(srv.datadir.iterdir()) == [], "autoconfig created %r" % sorted(os.listdir(srv.datadir))
