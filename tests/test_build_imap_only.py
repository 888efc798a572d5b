"""A build without POP3 (CONFIG_POP3=n, tests/configs/imap-only.defconfig):
it serves IMAP, refuses a pop3 listener in its config with a clear message,
and refuses a client over the per-address cap with IMAP's words (the
refusal text comes from the listener's protocol, not from the connection
layer). Run by `make check-configs`, which sets POSTNOOK_IMAP_ONLY_BIN;
skipped otherwise."""
import os
import re
import subprocess

import pytest

import postnook_fixture
from postnook_fixture import Raw, make_msg

IMAP_ONLY = os.environ.get("POSTNOOK_IMAP_ONLY_BIN")
pytestmark = pytest.mark.skipif(not IMAP_ONLY, reason="POSTNOOK_IMAP_ONLY_BIN not set (make check-configs)")


@pytest.fixture
def imap_only(monkeypatch):
    monkeypatch.setattr(postnook_fixture, "BIN", IMAP_ONLY)


def test_pop3_listener_refused(imap_only, make_server):
    srv = make_server(users=(), listeners=("plain",))
    r = subprocess.run([IMAP_ONLY, "serve", "-f", "-c", str(srv.conf)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 78
    assert b"pop3 is not available in this build" in r.stderr


def test_serves_imap(imap_only, make_server):
    srv = make_server(listeners=(), imap=("plain",), start=True)
    srv.deliver_ok("alice", make_msg("one"))
    m = srv.imap("alice")
    typ, data = m.select("INBOX")
    assert typ == "OK" and data == [b"1"]
    typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK" and b"one" in data[0][1]
    m.logout()


def test_busy_refusal_in_imap_words(imap_only, make_server):
    srv = make_server(listeners=(), imap=("plain",), max_per_ip=1, start=True)
    first = Raw(srv.iports["plain"])
    assert first.readline().startswith(b"* OK")
    second = Raw(srv.iports["plain"])
    assert second.readline() == b"* BYE [UNAVAILABLE] Too many connections from your address"
    second.close()
    first.close()


def test_web_page_offers_no_pop3(imap_only, make_server, monkeypatch):
    import test_cgi_direct as web
    cgi_path = os.path.join(os.path.dirname(IMAP_ONLY), "postnook.cgi")
    monkeypatch.setattr(web, "CGI", cgi_path)
    srv = make_server(listeners=(), imap=("plain",), start=True)
    ck, csrf = web.sign_in(srv)
    st, head, page = web.cgi(srv, "/protocols", cookie=ck)
    assert st == 200
    assert "POP3 is not part of this build" in page
    assert 'value="pop3">POP3 only' not in page and 'value="imap">IMAP only' in page
    # The POP3 rows (2, 3, 5) are disabled; the "Standard" preset turns on IMAP's only.
    for k in (2, 3, 5):
        assert re.search(r'id="on%d" name="on%d" value="1"[^>]* disabled' % (k, k), page)
    st, head, page = web.cgi(srv, "/protocols", "POST", {"csrf": csrf, "preset": "standard"}, cookie=ck)
    assert st == 200
    assert re.search(r'id="on0" name="on0" value="1" checked', page)
    assert not re.search(r'id="on2" name="on2" value="1" checked', page)
