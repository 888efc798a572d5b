"""MIME over IMAP, end to end: records written by deliver, ENVELOPE/BODY/
BODYSTRUCTURE and sections rendered through the connection's small output
queue (render-and-skip), SEARCH on decoded text. Known answers match
tests/unit/test_mime.c (and Dovecot 2.3 for the same messages)."""
import re

import pytest

from imap_util import ilogin, start_imap

NESTED = (b"From: outer@example.com\n"
          b"To: Team: Ed Jones <c@a.test>, joe@where.test, \"John Q.\" <jdoe@one.test>;, x@y.test\n"
          b"Cc: Undisclosed recipients:;\n"
          b"Subject: fwd\n"
          b"Content-Type: multipart/mixed; boundary=outer\n\n"
          b"--outer\nContent-Type: text/plain\n\nsee attached\n"
          b"--outer\nContent-Type: message/rfc822\n\n"
          b"From: Inner Person <inner@example.net>\nSubject: inner\n"
          b"Content-Type: multipart/alternative; boundary=inner\n\n"
          b"--inner\nContent-Type: text/plain\n\ninner plain\n"
          b"--inner\nContent-Type: text/html\n\n<b>inner</b>\n--inner--\n\n--outer--\n")

ENCODED = (b"From: \"Doe, Jane\" <jane@example.org>\n"
           b"Subject: =?ISO-8859-1?Q?Caf=E9?= =?UTF-8?B?w6nDqQ==?= ok\n"
           b"Content-Type: multipart/mixed; boundary=XyZ\n\n"
           b"--XyZ\nContent-Type: application/pdf; name=\"r.pdf\"\nContent-Transfer-Encoding: base64\n\n"
           b"R3LDvMOfZSBhdXMgS8O2bG4=\n"
           b"--XyZ\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n"
           b"R3L832UgYXVzIEv2bG4=\n--XyZ--\n")

PARTS = 60
MANY = (b"Subject: many\nContent-Type: multipart/mixed; boundary=p\n\n" +
        b"".join(b"--p\nContent-Type: text/plain; name=\"part%02d.txt\"\n\npart %d\n" % (i, i)
                 for i in range(1, PARTS + 1)) + b"--p--\n")

ADDRS = 1000
WIDE = (b"From: sender@example.org\nTo: " +
        b",\n ".join(b"User %d <u%d@example.org>" % (i, i) for i in range(ADDRS)) +
        b"\nSubject: wide\n\nhi\n")


@pytest.fixture
def srv(make_server):
    s = start_imap(make_server, kinds=("plain", "tls"))
    for m in (NESTED, ENCODED, MANY, WIDE):
        s.deliver_ok("alice", m)
    return s


def item(lines, name):
    """The value of FETCH item name in the untagged response lines (literals joined)."""
    text = b"\r\n".join(lines)
    i = text.index(name + b" ") + len(name) + 1
    depth, j = 0, i
    while True:     # walk one parenthesised value, skipping quoted strings and literals
        c = text[j:j + 1]
        if c == b'"':
            j += 1
            while text[j:j + 1] != b'"':
                j += 2 if text[j:j + 1] == b"\\" else 1
        elif c == b"{":
            k = text.index(b"}", j)
            j = k + 2 + int(text[j + 1:k])
        elif c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                return text[i:j + 1]
        j += 1


@pytest.mark.parametrize("kind", ["plain", "tls"])
def test_envelope_and_body_known_answers(srv, kind):
    r = ilogin(srv, kind=kind)
    r.ok("EXAMINE INBOX")
    u, _ = r.ok("FETCH 1 (ENVELOPE BODY)")
    assert item(u, b"ENVELOPE") == (
        b'(NIL "fwd" ((NIL NIL "outer" "example.com")) ((NIL NIL "outer" "example.com")) '
        b'((NIL NIL "outer" "example.com")) '
        b'((NIL NIL "Team" NIL)("Ed Jones" NIL "c" "a.test")(NIL NIL "joe" "where.test")'
        b'("John Q." NIL "jdoe" "one.test")(NIL NIL NIL NIL)(NIL NIL "x" "y.test")) '
        b'((NIL NIL "Undisclosed recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL)')
    assert item(u, b"BODY") == (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 0)'
        b'("message" "rfc822" NIL NIL NIL "7bit" 222 '
        b'(NIL "inner" (("Inner Person" NIL "inner" "example.net")) '
        b'(("Inner Person" NIL "inner" "example.net")) (("Inner Person" NIL "inner" "example.net")) '
        b'NIL NIL NIL NIL NIL) '
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 11 0)'
        b'("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 12 0) "alternative") 13) "mixed")')
    u, _ = r.ok("FETCH 2 BODYSTRUCTURE")
    assert item(u, b"BODYSTRUCTURE") == (
        b'(("application" "pdf" ("name" "r.pdf") NIL NIL "base64" 24 NIL NIL NIL NIL)'
        b'("text" "plain" ("charset" "iso-8859-1") NIL NIL "base64" 20 0 NIL NIL NIL NIL)'
        b' "mixed" ("boundary" "XyZ") NIL NIL NIL)')
    r.close()


def test_sections(srv):
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    cases = [
        (b"2.1", b"inner plain"),
        (b"2.2", b"<b>inner</b>"),
        (b"2.2.MIME", b"Content-Type: text/html\r\n\r\n"),
        (b"2.HEADER.FIELDS (SUBJECT)", b"Subject: inner\r\n\r\n"),
        (b"HEADER.FIELDS.NOT (To Cc Content-Type)", b"From: outer@example.com\r\nSubject: fwd\r\n\r\n"),
        (b"1", b"see attached"),
    ]
    for spec, want in cases:
        u, _ = r.ok(b"FETCH 1 BODY.PEEK[" + spec + b"]")
        text = b"\r\n".join(u)
        m = re.search(rb"\{(\d+)\}\r\n", text)
        got = text[m.end():m.end() + int(m.group(1))] if m else re.search(rb'\] "([^"]*)"', text).group(1)
        assert got == want, (spec, text)
    u, t = r.cmd("FETCH 1 BODY.PEEK[7]")          # no such part: answered, not an error
    assert t.split()[1] == b"OK", (u, t)
    assert re.search(rb'BODY\[7\] (""|NIL|\{0\})', b"\r\n".join(u)), u
    u, t = r.cmd("FETCH 1 BODY.PEEK[2.5]")        # well-formed, part 2.5 missing: empty, OK
    assert t.split()[1] == b"OK" and re.search(rb'BODY\[2\.5\] (""|NIL|\{0\})', b"\r\n".join(u)), (u, t)
    u, t = r.cmd("FETCH 1 BODY.PEEK[1.TEXT]")     # TEXT of a part that is no message: empty, OK
    assert t.split()[1] == b"OK", (u, t)
    r.close()


@pytest.mark.parametrize("item", [
    b"BODY[2.x]", b"BODY.PEEK[2.x]", b"BODY[HEADER.FIELDS]", b"BODY[HEADER.FIELDS ()]", b"BODY[0]",
    b"BODY[1.TEXTX]", b"BODY[]<5.>", b"BODY[]<5.0>", b"BODY[1.]", b"BODY[.1]", b"BODY[01]", b"BODY[MIME]",
    b"BODY[TEXT.1]", b"BODY.PEEK[HEADER.FIELDS (a]", b"(FLAGS BODY.PEEK[1..2])", b"BODY[x]"])
def test_section_syntax_bad(srv, item):
    """RFC 3501: a malformed section spec is a syntax error, tagged BAD (not NO),
    for FETCH and UID FETCH, and nothing is sent for the messages."""
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    for cmd in (b"FETCH 1 ", b"UID FETCH 1:* "):
        u, t = r.bad(cmd + item)
        assert not any(b" FETCH " in x for x in u), u
    u, _ = r.ok("FETCH 1 (FLAGS)")
    assert b"\\Seen" not in b"".join(u), u       # the refused BODY[...] set no \Seen
    r.close()


def test_large_structures_stream(srv):
    """BODYSTRUCTURE and ENVELOPE far larger than the output queue come out whole."""
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    u, _ = r.ok("FETCH 3 BODYSTRUCTURE")
    bs = item(u, b"BODYSTRUCTURE")
    assert len(bs) > 4096 and bs.count(b'("text" "plain" ("name" "part') == PARTS
    assert b'("name" "part60.txt" "charset" "us-ascii") NIL NIL "7bit" 7 0 NIL NIL NIL NIL)' in bs
    assert bs.endswith(b' "mixed" ("boundary" "p") NIL NIL NIL)')
    u, _ = r.ok("FETCH 3 BODY.PEEK[%d]" % (PARTS - 1))
    assert b'"part %d"' % (PARTS - 1) in b"".join(u) or b"part %d" % (PARTS - 1) in b"".join(u)
    u, _ = r.ok("FETCH 4 ENVELOPE")
    env = item(u, b"ENVELOPE")
    assert len(env) > 30000
    assert env.count(b'NIL "u') == ADDRS
    assert b'("User 999" NIL "u999" "example.org")' in env
    r.close()


def test_search_decoded(srv):
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    for key, needle, want in [("BODY", "köln", b"* SEARCH 2"),        # latin-1 in base64
                              ("BODY", "GRÜSSE", b"* SEARCH"),         # simple folding: no ß -> ss
                              ("SUBJECT", "caféé", b"* SEARCH 2"),     # RFC 2047, words joined
                              ("BODY", "inner person", b"* SEARCH"),   # BODY: text parts only
                              ("TEXT", "inner person", b"* SEARCH 1"), # TEXT: every header too
                              ("TO", "u999@", b"* SEARCH 4"),
                              ("TEXT", "PART60.TXT", b"* SEARCH 3")]:
        data = needle.encode()
        r.send(b"s SEARCH CHARSET UTF-8 " + key.encode() + b" {%d}\r\n" % len(data))
        assert r.readline().startswith(b"+")
        r.send(data + b"\r\n")
        u, t = r.until("s")
        assert t.startswith(b"s OK") and u == [want], (key, needle, u, t)
    r.close()
