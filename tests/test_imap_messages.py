"""IMAP message commands: FETCH (every item, sections, partials, macros),
STORE (+/-, .SILENT, keywords), EXPUNGE, UID EXPUNGE, CLOSE, COPY/MOVE
(UIDPLUS), APPEND (flags, date, literals, limits), SEARCH keys."""
import re

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import SAN, crlf, make_msg

MULTI = (b"From: A <a@example.org>\nTo: B <b@example.org>\nSubject: multi\n"
         b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XX\n\n"
         b"--XX\nContent-Type: text/plain; charset=utf-8\n\nfirst part caf\xc3\xa9\n"
         b"--XX\nContent-Type: text/html\nContent-Transfer-Encoding: quoted-printable\n\n<p>second=3D</p>\n"
         b"--XX--\n")


@pytest.fixture
def srv(make_server):
    s = start_imap(make_server, kinds=("plain", "tls"))
    for i in range(1, 6):
        s.deliver_ok("alice", make_msg(i, subject="Subject number %d" % i))
    s.deliver_ok("alice", MULTI)
    return s


def test_fetch_items(srv):
    m = srv.imap()
    assert m.select("INBOX")[1] == [b"6"]
    typ, d = m.fetch("1", "(FLAGS UID RFC822.SIZE INTERNALDATE)")
    # delivered while no session had INBOX selected: \Recent in this, the first SELECT
    assert re.match(rb'1 \(FLAGS \(\\Recent\) UID 1 RFC822.SIZE \d+ INTERNALDATE "\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d \+0000"\)',
                    d[0]), d
    typ, d = m.fetch("2", "ALL")
    assert b"ENVELOPE (" in d[0] and b'"Subject number 2"' in d[0]
    typ, d = m.fetch("6", "BODYSTRUCTURE")
    assert b'("text" "plain"' in d[0].lower() or b'("TEXT" "PLAIN"' in d[0], d
    typ, d = m.fetch("6", "(BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[HEADER.FIELDS (Subject)])")
    parts = {x[0].split(b" ", 2)[-1] if isinstance(x, tuple) else x: x for x in d}
    flat = b"".join(x[1] for x in d if isinstance(x, tuple))
    assert b"first part caf\xc3\xa9" in flat and b"Subject: multi" in flat
    assert b"Content-Transfer-Encoding: quoted-printable" in flat
    m.logout()


def test_fetch_body_partial_and_seen(srv):
    m = srv.imap()
    m.select("INBOX")
    raw = crlf(make_msg(1, subject="Subject number 1"))
    typ, d = m.fetch("1", "(BODY.PEEK[]<0.10>)")
    assert d[0][0].endswith(b"BODY[]<0> {10}") and d[0][1] == raw[:10]
    typ, d = m.fetch("1", "(BODY.PEEK[]<10000.10>)")
    assert d[0][0].endswith(b"{0}") or b'""' in d[0][0] or d[0][1] == b""
    typ, d = m.fetch("1", "(FLAGS)")
    assert b"\\Seen" not in d[0]
    typ, d = m.fetch("1", "(BODY[TEXT])")
    assert d[0][1] == raw.split(b"\r\n\r\n", 1)[1]
    typ, d = m.fetch("1", "(FLAGS)")
    assert b"\\Seen" in d[0]
    typ, d = m.fetch("2", "(RFC822.HEADER RFC822.TEXT)")
    assert d[0][0].endswith(b"RFC822.HEADER {%d}" % len(d[0][1]))
    typ, d = m.fetch("3", "RFC822")
    assert d[0][1] == crlf(make_msg(3, subject="Subject number 3"))
    typ, d = m.fetch("2:3", "(FLAGS)")
    assert all(b"\\Seen" in x for x in d)
    m.logout()


def test_fetch_ranges_and_uid(srv):
    m = srv.imap()
    m.select("INBOX")
    typ, d = m.fetch("2:4,6", "(UID)")
    assert [int(re.search(rb"UID (\d+)", x).group(1)) for x in d] == [2, 3, 4, 6]
    typ, d = m.uid("FETCH", "4:*", "(FLAGS)")
    assert [int(re.search(rb"UID (\d+)", x).group(1)) for x in d] == [4, 5, 6]
    typ, d = m.uid("FETCH", "100:*", "(FLAGS)")   # '*' is the highest UID: 6
    assert len(d) == 1 and b"UID 6" in d[0]
    typ, d = m.uid("FETCH", "50:60", "(FLAGS)")
    assert d == [None]
    m.logout()


def test_store_flags_keywords(srv):
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    u, _ = r.ok("STORE 1:2 +FLAGS (\\Flagged $Important)")
    assert u == [b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important)",
                 b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important \\*)] Flags permitted",
                 b"* 1 FETCH (FLAGS (\\Flagged \\Recent $Important))",
                 b"* 2 FETCH (FLAGS (\\Flagged \\Recent $Important))"]
    u, _ = r.ok("STORE 1 -FLAGS.SILENT (\\Flagged)")
    assert u == []
    u, _ = r.ok("UID STORE 2 FLAGS (\\Answered)")
    assert u == [b"* 2 FETCH (UID 2 FLAGS (\\Answered \\Recent))"]
    u, _ = r.ok("FETCH 1 FLAGS")
    assert u == [b"* 1 FETCH (FLAGS (\\Recent $Important))"]
    u, _ = r.ok("SELECT INBOX")
    assert any(b"$Important" in x and b"FLAGS" in x for x in u)
    r.bad("STORE 1 +FLAGS (\\Bogus)")
    r.bad("STORE 1 XFLAGS (\\Seen)")
    r.close()


def test_expunge_close(srv):
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    r.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    u, _ = r.ok("EXPUNGE")
    # highest first: each number valid when sent; then the new \Recent count
    assert u == [b"* 4 EXPUNGE", b"* 2 EXPUNGE", b"* 4 RECENT"]
    u, _ = r.ok("UID FETCH 1:* (UID)")
    assert [int(re.search(rb"UID (\d+)", x).group(1)) for x in u] == [1, 3, 5, 6]
    # UID EXPUNGE only removes the listed ones
    r.ok("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    u, _ = r.ok("UID EXPUNGE 3")
    assert u == [b"* 2 EXPUNGE", b"* 3 RECENT"]
    r.ok("CLOSE")
    u, _ = r.ok("SELECT INBOX")
    assert b"* 2 EXISTS" in u
    r.close()


def test_copy_move_uidplus(srv):
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    before = srv.user_list()["alice"]
    _, t = r.ok("COPY 1:2 Archive")
    m = re.search(rb"\[COPYUID (\d+) 1:2 1:2\]", t)
    assert m, t
    u, _ = r.ok("UID MOVE 3 Trash")
    assert any(re.match(rb"\* OK \[COPYUID \d+ 3 1\]", x) for x in u), u
    assert b"* 3 EXPUNGE" in u
    _, t = r.no("COPY 1 Nowhere")
    assert b"TRYCREATE" in t
    u, _ = r.ok("STATUS Archive (MESSAGES)")
    assert b"MESSAGES 2" in u[0]
    after = srv.user_list()["alice"]
    assert int(after["messages"]) == int(before["messages"]) + 2
    r.close()


def test_append(srv):
    r = ilogin(srv)
    msg = b"Subject: appended\r\nFrom: x@example.org\r\n\r\nbody\r\n"
    r.send(b'a APPEND Drafts (\\Draft \\Seen) "05-Mar-2024 10:20:30 +0100" {%d}\r\n' % len(msg))
    assert r.readline().startswith(b"+")
    r.send(msg + b"\r\n")
    _, t = r.until("a")
    assert re.match(rb"a OK \[APPENDUID \d+ 1\]", t), t
    r.ok("SELECT Drafts")
    u, _ = r.ok("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)")
    assert b"\\Draft" in u[0] and b"\\Seen" in u[0] and b'"05-Mar-2024 09:20:30 +0000"' in u[0], u
    assert b"RFC822.SIZE %d" % len(msg) in u[0]
    # LITERAL+ append, then the selected mailbox sees EXISTS
    r.send(b"b APPEND Drafts {%d+}\r\n%s\r\n" % (len(msg), msg))
    u, t = r.until("b")
    assert t.startswith(b"b OK"), t
    assert b"* 2 EXISTS" in u
    # keywords are kept
    r.send(b"k APPEND Drafts ($Label1 \\Flagged) {%d+}\r\n%s\r\n" % (len(msg), msg))
    _, t = r.until("k")
    assert t.startswith(b"k OK"), t
    u, _ = r.ok("FETCH 3 (FLAGS)")
    assert u[-1] == b"* 3 FETCH (FLAGS (\\Flagged \\Recent $Label1))", u
    # errors
    _, t = r.cmd('APPEND Nowhere {3}')
    assert b"TRYCREATE" in t
    _, t = r.cmd('APPEND INBOX {999999999999}')
    assert b"TOOBIG" in t
    r.bad('APPEND INBOX "bad-date" {3}')
    r.send(b"c APPEND INBOX {3+}\r\nabcX\r\n")   # garbage where the line must end
    _, t = r.until("c")
    assert t.startswith(b"c BAD"), t
    r.ok("NOOP")
    r.close()


def test_append_keyword_limit(srv):
    """APPEND keeps every keyword up to the store's 24 per mailbox (names of
    up to 64 bytes: they wait in the spool file, not in the session); one
    more is refused with NO [LIMIT] before the literal, never dropped."""
    r = ilogin(srv)
    msg = b"Subject: keywords\r\n\r\nbody\r\n"
    names = [b"$K%02d" % i + b"x" * 60 for i in range(24)]          # 64 bytes each, the longest allowed
    assert all(len(n) == 64 for n in names)
    # exactly at the limit (and a repeated name, in other case, counts once)
    r.send(b"a APPEND Archive (%s \\Seen $k00%s) {%d}\r\n" % (b" ".join(names), b"x" * 60, len(msg)))
    assert r.readline().startswith(b"+")
    r.send(msg + b"\r\n")
    _, t = r.until("a")
    assert re.match(rb"a OK \[APPENDUID \d+ 1\]", t), t
    r.ok("SELECT Archive")
    for n in names:
        u, _ = r.ok(b"SEARCH KEYWORD " + n)
        assert u == [b"* SEARCH 1"], (n, u)
    # one more: refused before the synchronizing literal is asked for
    more = [b"$more%02d" % i for i in range(25)]
    _, t = r.cmd(b"APPEND INBOX (%s) {%d}" % (b" ".join(more), len(msg)))
    assert t.endswith(b"NO [LIMIT] APPEND: too many keywords (the limit is 24)"), t
    # ... and a LITERAL+ one is dropped: the session goes on after it
    r.send(b"c APPEND INBOX (%s \\Flagged) {%d+}\r\n%s\r\n" % (b" ".join(more), len(msg), msg))
    _, t = r.until("c")
    assert t.startswith(b"c NO [LIMIT]"), t
    r.ok("NOOP")
    u, _ = r.ok("STATUS INBOX (MESSAGES)")
    assert b"MESSAGES 6" in u[0], u
    r.close()


def test_append_big_streams(srv):
    """A 20 MB APPEND goes through a spool file: RSS stays flat."""
    from postnook_fixture import proc_status

    def rss_kb(pid):   # anonymous memory only: the map's file pages grow with the store
        return int(proc_status(pid, "RssAnon").split()[0])
    m = srv.imap()
    base = rss_kb(srv.pid)
    body = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 20000
    typ, d = m.append("INBOX", None, None, body)
    assert typ == "OK", d
    grow = rss_kb(srv.pid) - base
    m.select("INBOX")
    typ, d = m.fetch("7", "(RFC822.SIZE)")
    assert b"RFC822.SIZE %d" % len(body) in d[0]
    m.logout()
    if not SAN:     # ASan's allocator keeps freed memory in quarantine
        assert grow < 4 * 1024, "RssAnon grew by %d kB with a 20 MB APPEND" % grow


def test_search(srv):
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    r.ok("STORE 2 +FLAGS (\\Seen \\Flagged)")
    r.ok("STORE 3 +FLAGS ($Work)")

    def s(q, uid=False):
        u, _ = r.ok(("UID SEARCH " if uid else "SEARCH ") + q)
        line = [x for x in u if x.startswith(b"* SEARCH")][0]
        return [int(x) for x in line.split()[2:]]

    assert s("ALL") == [1, 2, 3, 4, 5, 6]
    assert s("SEEN") == [2]
    assert s("UNSEEN") == [1, 3, 4, 5, 6]
    assert s("FLAGGED SEEN") == [2]
    assert s("OR SEEN KEYWORD $Work") == [2, 3]
    assert s("NOT (OR SEEN KEYWORD $Work)") == [1, 4, 5, 6]
    assert s("SUBJECT \"number 4\"") == [4]
    assert s("FROM sender") == [1, 2, 3, 4, 5]
    assert s("2:4 UNSEEN") == [3, 4]
    assert s("UID 5:*", uid=True) == [5, 6]
    assert s("LARGER 100 SMALLER 100000") == [1, 2, 3, 4, 5, 6]
    assert s("SINCE 1-Jan-2000") == [1, 2, 3, 4, 5, 6]
    assert s("BEFORE 1-Jan-2000") == []
    assert s("SENTON 1-Jan-2024") == [1, 2, 3, 4, 5]       # the Date: header, not arrival
    assert s("SENTBEFORE 1-Jan-2024") == []
    assert s("SENTSINCE 2-Jan-2024") == []
    assert s("HEADER Message-ID <3@postnook.test>") == [3]
    _, t = r.cmd("SEARCH CHARSET KOI8-R ALL")
    assert b"BADCHARSET" in t
    r.bad("SEARCH FOO")
    r.bad("SEARCH " + "(" * 20 + "ALL" + ")" * 20)
    r.close()


def test_search_text_decoded(srv):
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    r.send(b"a SEARCH CHARSET UTF-8 BODY {5}\r\n")
    assert r.readline().startswith(b"+")
    r.send("café".encode() + b"\r\n")
    u, t = r.until("a")
    assert t.startswith(b"a OK") and u == [b"* SEARCH 6"], (u, t)
    u, _ = r.ok('SEARCH TEXT "second="')
    assert u == [b"* SEARCH 6"]
    r.close()


def test_big_append_fetch_tls(srv):
    """Several MB up and down through TLS (the engine holds input no poll announces)."""
    m = srv.imap(kind="tls")
    body = b"Subject: big\r\n\r\n" + b"".join(b"line %07d abcdefghijklmnopqrstuvwxyz\r\n" % i for i in range(150000))
    for _ in range(3):
        assert m.append("INBOX", None, None, body)[0] == "OK"
    m.select("INBOX")
    typ, d = m.fetch("7:9", "(UID BODY.PEEK[] BODY.PEEK[HEADER])")
    lits = [x[1] for x in d if isinstance(x, tuple)]
    assert lits[0::2] == [body] * 3 and lits[1::2] == [b"Subject: big\r\n\r\n"] * 3
    m.logout()
