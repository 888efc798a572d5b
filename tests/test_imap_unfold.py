"""Folded header values over IMAP (issue 14, items 4 and 6): a quoted
boundary folded across lines, RFC 2231 continuations on folded lines,
encoded words split across lines, white space in ENVELOPE, and SEARCH
FROM/TO/CC/BCC on parsed addresses. Known answers are Dovecot 2.3's for the
same messages; test_dovecot_oracle asks a private Dovecot (Debian's
dovecot-imapd, run preauthenticated on stdin) and compares item by item."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

from imap_util import ilogin, start_imap

# RFC 5322 unfolding removes the CRLF only: the boundary is "foo bar" (a space), then "foo\tbar".
FOLDED_SP = (b"From: a@b.example\nSubject: folded boundary\nMIME-Version: 1.0\n"
             b"Content-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n"
             b"preamble\n--foo bar\nContent-Type: text/plain\n\none\n"
             b"--foo bar\nContent-Type: text/plain\n\ntwo\n--foo bar--\n")
FOLDED_TAB = (b"From: a@b.example\nSubject: folded boundary tab\n"
              b"Content-Type: multipart/mixed; boundary=\"foo\n\tbar\"\n\n"
              b"--foo\tbar\nContent-Type: text/plain\n\none\n"
              b"--foo\tbar\nContent-Type: text/plain\n\ntwo\n--foo\tbar--\n")
# a message/rfc822 part whose own multipart has a folded boundary, inside a folded outer one
NESTED = (b"From: a@b.example\nSubject: nested\nContent-Type: multipart/mixed;\n boundary=\"out\n er\"\n\n"
          b"--out er\nContent-Type: text/plain\n\nfirst\n"
          b"--out er\nContent-Type: message/rfc822\n\n"
          b"From: c@d.example\nSubject: inner\nContent-Type: multipart/alternative; boundary=\"in\n\tner\"\n\n"
          b"--in\tner\nContent-Type: text/plain\n\ninner text\n"
          b"--in\tner\nContent-Type: text/html\n\n<p>inner</p>\n--in\tner--\n"
          b"\n--out er--\n")
RFC2231 = (b"From: a@b.example\nSubject: rfc2231\nContent-Type: multipart/mixed; boundary=b\n\n"
           b"--b\nContent-Type: application/octet-stream;\n name*0*=utf-8''%E2%82%AC%20rate;\n"
           b" name*1*=%20report.pdf\n"
           b"Content-Disposition: attachment;\n\tfilename*0*=utf-8'en'%E2%82%AC%20rate;\n"
           b"\tfilename*1=\"  long\n report\";\n\tfilename*2*=.pdf\n\nxx\n"
           b"--b\nContent-Type: text/plain; name*1=\"b.txt\";\n name*0=\"a\n c\"\n"
           b"Content-Disposition: inline; filename*=iso-8859-1''%E9t%E9.txt\n\nyy\n"
           b"--b\nContent-Type: application/x; a*0=\"50%\";\n a*1*=%41%42; b*0*=us-ascii''%41;\n"
           b" b*2=zz; c*1=only; d*0=\n \"q\n r\"; d*1=\n s\n\nzz\n--b--\n")
HEADERS = (b"From: =?ISO-8859-1?Q?Andr=E9?=\n =?ISO-8859-1?Q?_Pirard?= <pirard@example.org>\n"
           b"To: \"Name\" <user-from (comment) @ domain.org>\n"
           b"Cc: \"Tab\tand  spaces\" <cc@x.example>, plain@x.example (only\n a  comment)\n"
           b"Subject: =?UTF-8?Q?caf=C3=A9?=\n =?UTF-8?Q?_au_lait?= and\n\tmore  words\n"
           b"Date: Mon, 1 Jan 2024\n 10:00:00 +0000\nMessage-ID: <abc\n @def>\n"
           b"In-Reply-To: <x@y>\n\t<z@w>\n\nbody\n")
ADDRS = (b"From: \"Name\" <user-from (comment) @ domain.org>\n"
         b"To: Team: a (x) @ b.example, \"q\" <c @ d . example>;\n"
         b"Cc: =?UTF-8?B?w6k=?=\n =?UTF-8?Q?t=C3=A9?= <cc@x.example>\n"
         b"Bcc: hidden@x.example\nSubject: plain\n\nbody\n")
# a UTF-8 character split between two encoded words on two lines (RFC 2047 forbids it; mailers do it)
SPLIT = (b"From: =?UTF-8?Q?Jos=C3?=\n =?UTF-8?Q?=A9?= <jose@x.example>\n"
         b"Subject: =?UTF-8?B?w6k=?=\n =?UTF-8?Q?t=C3?=\n\t=?UTF-8?Q?=A9_=C3=A0?= =?ISO-8859-1?Q?_No=EBl?=\n\nbody\n")

# the boundary as RFC 2231 sections, the Content-Type folded everywhere it may be
CONT_BOUNDARY = (b"From: a@b.example\nSubject: sections\nContent-Type: multipart/\n mixed; boundary*0=\"ab\n c\";\n"
                 b" boundary*1\n =\n de\n\n--ab cde\n\none\n--ab cde\nContent-Type: text/plain\n\ntwo\n--ab cde--\n")

MSGS = [FOLDED_SP, FOLDED_TAB, NESTED, RFC2231, HEADERS, ADDRS, SPLIT, CONT_BOUNDARY]


@pytest.fixture
def srv(make_server):
    s = start_imap(make_server, kinds=("plain",))
    for m in MSGS:
        s.deliver_ok("alice", m)
    return s


def parse(text):
    """An IMAP response's data as Python values: lists, bytes, None for NIL."""
    def value(i):
        c = text[i:i + 1]
        if c == b"(":
            out, i = [], i + 1
            while text[i:i + 1] != b")":
                v, i = value(i)
                out.append(v)
                while text[i:i + 1] == b" ":
                    i += 1
            return out, i + 1
        if c == b'"':
            j, s = i + 1, b""
            while text[j:j + 1] != b'"':
                if text[j:j + 1] == b"\\":
                    j += 1
                s += text[j:j + 1]
                j += 1
            return s, j + 1
        if c == b"{":
            k = text.index(b"}", i)
            n = int(text[i + 1:k])
            return text[k + 3:k + 3 + n], k + 3 + n
        m = re.match(rb"[^ ()\[\]]+(\[[^\]]*\](<\d+>)?)?", text[i:])
        atom = m.group(0)
        return (None if atom == b"NIL" else atom), i + len(atom)
    return value(0)[0]


def fetch(r, seq, items):
    """FETCH seq (items): {item name: parsed value} of the one FETCH response."""
    u, _ = r.ok(b"FETCH %d (%s)" % (seq, items))
    text = b"\r\n".join(u)
    m = re.search(rb"^\* \d+ FETCH ", text)
    v = parse(text[m.end():])
    return {v[i].upper(): v[i + 1] for i in range(0, len(v), 2)}


def search(r, key, needle):
    data = needle.encode() if isinstance(needle, str) else needle
    u, t = r.cmd(b"SEARCH CHARSET UTF-8 " + key.encode() + b" {%d+}\r\n" % len(data) + data)
    assert t.split()[1] == b"OK", (key, needle, t)
    return [int(x) for x in b"".join(x for x in u if x.startswith(b"* SEARCH")).split()[2:]]


def test_folded_boundary(srv):
    """boundary="foo<CRLF> bar" is "foo bar": two parts, as Dovecot serves them."""
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    for seq, bnd in ((1, b"foo bar"), (2, b"foo\tbar")):
        f = fetch(r, seq, b"BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[2.MIME]")
        leaf = [b"text", b"plain", [b"charset", b"us-ascii"], None, None, b"7bit", b"3", b"0",
                None, None, None, None]
        assert f[b"BODYSTRUCTURE"] == [leaf, leaf, b"mixed", [b"boundary", bnd], None, None, None]
        assert (f[b"BODY[1]"], f[b"BODY[2]"]) == (b"one", b"two")
        assert f[b"BODY[2.MIME]"] == b"Content-Type: text/plain\r\n\r\n"
    f = fetch(r, 8, b"BODYSTRUCTURE BODY.PEEK[2]")
    assert f[b"BODYSTRUCTURE"][2:4] == [b"mixed", [b"boundary", b"ab cde"]] and f[b"BODY[2]"] == b"two"
    f = fetch(r, 3, b"BODY BODY.PEEK[2.1] BODY.PEEK[2.2] BODY.PEEK[2.HEADER.FIELDS (SUBJECT)]")
    assert f[b"BODY[2.1]"] == b"inner text" and f[b"BODY[2.2]"] == b"<p>inner</p>"
    assert f[b"BODY[2.HEADER.FIELDS (SUBJECT)]"] == b"Subject: inner\r\n\r\n"
    inner = f[b"BODY"][1][8]
    assert inner[2] == b"alternative" and [p[1] for p in inner[:2]] == [b"plain", b"html"]
    r.close()


def test_rfc2231_continuations(srv):
    """Continuations on folded lines are joined into one parameter, by Dovecot's rules."""
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    bs = fetch(r, 4, b"BODYSTRUCTURE")[b"BODYSTRUCTURE"]
    assert bs[0][2] == [b"name*", b"utf-8''%E2%82%AC%20rate%20report.pdf"]
    assert bs[0][8] == [b"attachment", [b"filename*", b"utf-8'en'%E2%82%AC%20rate  long report.pdf"]]
    assert bs[1][2] == [b"name", b"a cb.txt", b"charset", b"us-ascii"]
    assert bs[1][9] == [b"inline", [b"filename*", b"iso-8859-1''%E9t%E9.txt"]]
    # a section missing: nothing joined, nothing dropped; an unextended section among
    # extended ones: percent-escaped behind an empty charset and language
    assert bs[2][2] == [b"a*", b"''50%25%41%42", b"b*0*", b"us-ascii''%41", b"b*2", b"zz",
                        b"c*1", b"only", b"d", b"q rs"]
    r.close()


def test_envelope_unfolded(srv):
    """ENVELOPE: folds removed; the subject and display names as Dovecot shows them to
    humans (tabs and runs of white space as one space); other strings keep their WSP."""
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    env = fetch(r, 5, b"ENVELOPE")[b"ENVELOPE"]
    assert env[0] == b"Mon, 1 Jan 2024 10:00:00 +0000"
    assert env[1] == b"=?UTF-8?Q?caf=C3=A9?= =?UTF-8?Q?_au_lait?= and more words"
    assert env[2] == [[b"=?ISO-8859-1?Q?Andr=E9?= =?ISO-8859-1?Q?_Pirard?=", None, b"pirard", b"example.org"]]
    assert env[5] == [[b"Name", None, b"user-from", b"domain.org"]]
    assert env[6] == [[b"Tab and spaces", None, b"cc", b"x.example"], [b"only a comment", None, b"plain", b"x.example"]]
    assert env[8:] == [b"<x@y>\t<z@w>", b"<abc @def>"]
    r.close()


# (key, needle, messages found): the same answers as Dovecot's
SEARCHES = [
    ("SUBJECT", "café au lait", [5]),             # encoded words on two lines, decoded
    ("SUBJECT", "and more words", [5]),           # fold and a run of spaces: one space
    ("SUBJECT", "and more  words", []),
    ("FROM", "andré pirard", [5]),                # encoded words in a name, on two lines
    ("FROM", "André Pirard <pirard@example.org>", [5]),
    ("FROM", "user-from@domain.org", [6]),        # comment and spaces inside the address
    ("TO", "user-from@domain.org", [5]),
    ("TO", "Name <user-from@domain.org>", [5]),
    ("TO", "c@d.example", [6]),
    ("TO", "a@b.example", [6]),
    ("TO", "team", [6]),
    ("CC", "été", [6]),
    ("CC", "cc@x.example", [5, 6]),
    ("BCC", "hidden@x.example", [6]),
    ("HEADER FROM", "user-from", [6]),
    ("FROM", "boundary", []),
]


def test_search_unfolded(srv):
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    got = [(k, n, search(r, k, n)) for k, n, _ in SEARCHES]
    assert got == SEARCHES
    r.close()


def test_search_beyond_dovecot(srv):
    """Where postnook finds more than Dovecot 2.3: a UTF-8 character split between two
    encoded words of one charset, and FROM/TO/CC/BCC also on the header as written
    (comments included) after the parsed addresses."""
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    assert search(r, "SUBJECT", "été à noël") == [7]
    assert search(r, "FROM", "josé") == [7]
    assert search(r, "FROM", "comment") == [6]
    assert search(r, "TO", "(comment) @ domain") == [5]
    assert search(r, "TO", "\"Name\"") == [5]
    r.close()


DOVECOT = "/usr/lib/dovecot/imap"


def dovecot_session(msgs, cmds):
    """Run cmds in a preauthenticated Dovecot on a Maildir holding msgs; its untagged lines
    (literals joined). Dovecot may run pipelined commands at once: answers are matched by content."""
    tmp_path = pathlib.Path(tempfile.mkdtemp(prefix="pn-dovecot-"))   # pytest's is 0700 to others
    try:
        return dovecot_run(tmp_path, msgs, cmds)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def dovecot_run(tmp_path, msgs, cmds):
    home = tmp_path / "dovecot"
    md = home / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    for i, m in enumerate(msgs):
        (md / "cur" / ("%d.M%d.oracle:2," % (1000 + i, i))).write_bytes(m.replace(b"\n", b"\r\n"))
    uid = os.getuid() or 60123          # Dovecot will not run mail as root
    for root, dirs, files in os.walk(home):
        for x in [root] + [os.path.join(root, y) for y in dirs + files]:
            os.chown(x, uid, uid)
    os.chmod(tmp_path, 0o755)
    conf = tmp_path / "dovecot.conf"
    conf.write_text("mail_location = maildir:%s\nbase_dir = %s/run\nstate_dir = %s/state\n"
                    "log_path = /dev/null\nmail_uid = %d\nmail_gid = %d\nfirst_valid_uid = 1\n"
                    "first_valid_gid = 1\n" % (md, tmp_path, tmp_path, uid, uid))
    inp = b"s EXAMINE INBOX\r\n" + b"".join(b"c%d %s\r\n" % (i, c) for i, c in enumerate(cmds)) + b"z LOGOUT\r\n"
    p = subprocess.run([DOVECOT, "-c", str(conf)], input=inp, capture_output=True, timeout=60,
                       env={"USER": "oracle", "HOME": str(home), "PATH": os.environ.get("PATH", "")})
    out, lines, i = p.stdout, [], 0
    assert len(re.findall(rb"\r\nc\d+ OK", out)) == len(cmds), out[-2000:]
    while i < len(out):
        j = out.index(b"\r\n", i)
        m = re.search(rb"\{(\d+)\}$", out[i:j])
        while m:                        # a literal: its bytes, then the rest of the line
            j = out.index(b"\r\n", j + 2 + int(m.group(1)))
            m = re.search(rb"\{(\d+)\}$", out[i:j])
        if out[i:i + 2] == b"* ":
            lines.append(out[i:j])
        i = j + 2
    return lines


def fetched(lines):
    """{seq: {item: value}} of the FETCH responses in lines."""
    out = {}
    for x in lines:
        m = re.match(rb"\* (\d+) FETCH ", x)
        if m:
            v = parse(x[m.end():])
            out.setdefault(int(m.group(1)), {}).update(
                (k, b"" if y is None and k.startswith(b"BODY[") else y) for k, y in zip(v[::2], v[1::2]))
    return out


@pytest.mark.skipif(not os.path.exists(DOVECOT) or not shutil.which("doveconf"),
                    reason="dovecot-imapd not installed (tests/tools/deps.sh test)")
def test_dovecot_oracle(srv):
    """The same messages in Dovecot: BODYSTRUCTURE, BODY, ENVELOPE and the sections the
    structures have, item by item (values compared, quoted or literal alike); then the
    SEARCH answers above (through ESEARCH, so each answer names its command)."""
    specs = [b"1", b"2", b"2.MIME", b"1.MIME", b"2.1", b"2.2", b"2.HEADER", b"TEXT", b"3"]
    fetches = [b"FETCH 1:* (BODYSTRUCTURE BODY ENVELOPE)",
               b"FETCH 1:* (%s)" % b" ".join(b"BODY.PEEK[%s]" % x for x in specs)]
    searches = [b"SEARCH RETURN (ALL) CHARSET UTF-8 %s {%d+}\r\n%s" % (k.encode(), len(n.encode()), n.encode())
                for k, n, _ in SEARCHES]
    lines = dovecot_session(MSGS, fetches + searches)
    theirs = fetched(lines)
    r = ilogin(srv)
    r.ok("EXAMINE INBOX")
    ours = {}
    for cmd in fetches:
        u, _ = r.ok(cmd)
        for seq, items in fetched(u).items():
            ours.setdefault(seq, {}).update(items)
    n = len(MSGS)
    assert sorted(theirs) == list(range(1, n + 1)) and sum(len(x) for x in theirs.values()) == n * (3 + len(specs))
    for seq in theirs:
        for item in theirs[seq]:
            assert (seq, item, ours[seq][item]) == (seq, item, theirs[seq][item])
    for i, (k, n, found) in enumerate(SEARCHES):
        m = [re.match(rb'\* ESEARCH \(TAG "c%d"\)(?: ALL ([\d:,]+))?$' % (len(fetches) + i), x) for x in lines]
        m = [x for x in m if x]
        assert len(m) == 1, (k, n)
        dv = []
        for part in (m[0].group(1) or b"").split(b","):
            if part:
                a, _, b = part.partition(b":")
                dv += range(int(a), int(b or a) + 1)
        assert (k, n, dv) == (k, n, found)
    r.close()
