"""Flags and keywords, as a user's client sees them (issue 14): FETCH's
implicit \\Seen writes only \\Seen and reports it; COPY and MOVE keep
keywords; a new keyword is announced (FLAGS, PERMANENTFLAGS) to every
session before a FETCH carries it; \\Recent is recounted after EXPUNGE;
24 keywords of 64 bytes are never cut short; the 24-keyword limit is a
clear NO [LIMIT] that changes nothing; keyword names a FETCH once stored
("BODY[") are removed at start, with a log line."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import BIN, make_msg


@pytest.fixture
def srv(make_server):
    s = start_imap(make_server, kinds=("plain",))
    for i in range(1, 6):
        s.deliver_ok("alice", make_msg(i))
    return s


def flags_of(line):
    m = re.search(rb"FLAGS \(([^)]*)\)", line)
    assert m, line
    return m.group(1).split()


def fetch_flags(r, seq):
    u, _ = r.ok("FETCH %s (FLAGS)" % seq)
    return flags_of([x for x in u if re.match(rb"\* %s FETCH" % str(seq).encode(), x)][-1])


def index_of(lines, pattern):
    for i, x in enumerate(lines):
        if re.search(pattern, x):
            return i
    raise AssertionError("no %r in %r" % (pattern, lines))


# --- 0: a plain FETCH writes \Seen and nothing else --------------------------


def test_fetch_body_stores_only_seen(srv):
    """In a mailbox that has a keyword, FETCH 2 (BODY[]) sets \\Seen on
    message 2 and no keyword (issue 14 saw "BODY[" stored), also after a
    restart; the mailbox's FLAGS name no such keyword."""
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    r.ok("STORE 1 +FLAGS.SILENT ($label1)")
    for cmd in ("FETCH 2 (BODY[])", "FETCH 3 BODY[]", "UID FETCH 4 (BODY[HEADER] UID)", "FETCH 5 (RFC822)"):
        r.ok(cmd)
    for seq in (2, 3, 4, 5):
        assert fetch_flags(r, seq) == [b"\\Seen", b"\\Recent"], seq
    r.close()
    srv.restart()
    r = ilogin(srv)
    u, _ = r.ok("SELECT INBOX")
    assert u[0] == b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $label1)", u
    u, _ = r.ok("FETCH 1:5 (FLAGS)")
    assert u == [b"* 1 FETCH (FLAGS ($label1))"] + [b"* %d FETCH (FLAGS (\\Seen))" % i for i in range(2, 6)], u
    r.close()


def _mdb(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw).stdout


def _unprint(line):
    """A value line of `mdb_dump -p` (printable bytes as is, others \\xx) as bytes."""
    out, i, t = bytearray(), 0, line[1:]
    while i < len(t):
        if t[i] == "\\":
            if t[i + 1] == "\\":
                out.append(0x5c)
                i += 2
            else:
                out.append(int(t[i + 1:i + 3], 16))
                i += 3
        else:
            out.append(ord(t[i]))
            i += 1
    return bytes(out)


def _print(data):
    """bytes as a value line for `mdb_load` (every byte \\xx)."""
    return " " + "".join("\\%02x" % b for b in data)


def _bits():
    """The word size of the binary under test (a board's qemu wrapper says it in POSTNOOK_BITS)."""
    if os.environ.get("POSTNOOK_BITS"):
        return int(os.environ["POSTNOOK_BITS"])
    with open(BIN, "rb") as f:
        head = f.read(5)
    return {1: 32, 2: 64}.get(head[4]) if head[:4] == b"\x7fELF" else None


# LMDB's file format follows the word size: this machine's lmdb-utils cannot
# edit the store of a 32-bit board's binary run under qemu-user.
@pytest.mark.skipif(_bits() not in (None, 64 if sys.maxsize > 2 ** 32 else 32),
                    reason="the store of a binary of another word size is not readable by this host's mdb_dump")
@pytest.mark.skipif(not shutil.which("mdb_dump"), reason="lmdb-utils not installed (tests/tools/deps.sh test)")
def test_bad_keyword_repaired_at_start(srv):
    """A store that holds the keyword "BODY[" on a message (as the FETCH bug
    left it: written here with lmdb-utils, the way main's binary stored it)
    is repaired when the daemon starts: the name leaves the mailbox's list,
    the message keeps \\Seen and its other keywords, the log counts it."""
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    r.ok("STORE 2 +FLAGS.SILENT (\\Seen $label1 $label2)")
    r.close()
    srv.stop()
    data = str(srv.datadir)
    # the keyword list "kw/" + mailbox id in the meta database: $label1 $label2 -> $label1 BODY[ $label2
    meta = _mdb(["mdb_dump", "-p", "-s", "meta", data]).decode().splitlines()
    kws = [(_unprint(k), _unprint(v)) for k, v in zip(meta, meta[1:]) if _unprint(k).startswith(b"kw/")]
    assert len(kws) == 1 and kws[0][1] == b"$label1\0$label2\0", meta
    key = kws[0][0]
    mbox = key[3:]
    # message 2: its keyword bits 0 and 1 ($label1, $label2) become 0 and 2 ($label1, $label2 after BODY[)
    msgs = _mdb(["mdb_dump", "-p", "-s", "msgs", data]).decode().splitlines()
    head = ["VERSION=3", "format=print", "type=btree", "HEADER=END"]
    i = [_unprint(x) for x in msgs].index(mbox + b"\0\0\0\2")
    rec = _unprint(msgs[i + 1])
    assert len(rec) == 37, msgs[i + 1]
    flags = int.from_bytes(rec[1:5], "big")
    assert flags == 1 | 3 << 8, hex(flags)                  # \Seen, keywords 0 and 1
    rec = rec[:1] + (1 | 7 << 8).to_bytes(4, "big") + rec[5:]   # \Seen, keywords 0, 1 (BODY[) and 2
    load = "\n".join(head + [_print(key), _print(b"$label1\0BODY[\0$label2\0"), "DATA=END"]) + "\n"
    _mdb(["mdb_load", "-s", "meta", data], input=load.encode())
    load = "\n".join(head + [_print(mbox + b"\0\0\0\2"), _print(rec), "DATA=END"]) + "\n"
    _mdb(["mdb_load", "-s", "msgs", data], input=load.encode())
    srv.start()
    assert re.search(r'WARN store .*: removed 1 invalid keyword name \(e\.g\. "BODY\["\) from 1 mailbox$',
                     srv.log(), re.M), srv.log()[-2000:]
    r = ilogin(srv)
    u, _ = r.ok("SELECT INBOX")
    assert u[0] == b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $label1 $label2)", u
    assert fetch_flags(r, 2) == [b"\\Seen", b"$label1", b"$label2"]
    u, _ = r.ok("SEARCH KEYWORD $label2")
    assert u == [b"* SEARCH 2"], u
    r.close()
    # once repaired, a restart finds nothing more
    srv.restart()
    assert srv.log().count("invalid keyword name") == 1


# --- 1: COPY and MOVE keep keywords -----------------------------------------


def test_copy_move_keep_keywords(srv):
    r = ilogin(srv)
    r.ok("SELECT Archive")
    r.ok("UNSELECT")
    r.ok("SELECT INBOX")
    r.ok("STORE 5 +FLAGS.SILENT ($label1 $label2 \\Flagged)")
    r.ok("STORE 4 +FLAGS.SILENT ($label2 $other)")
    r.ok("COPY 5 Archive")
    r.ok("MOVE 4 Trash")
    r.ok("COPY 4 Trash")        # message 5, now number 4: a second copy, into a list that has $label2 first
    r.ok("EXAMINE Archive")
    u, _ = r.ok("FETCH 1 (FLAGS)")
    assert u == [b"* 1 FETCH (FLAGS (\\Flagged \\Recent $label1 $label2))"], u
    u, _ = r.ok("EXAMINE Trash")
    assert u[0] == b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $label2 $other $label1)", u
    u, _ = r.ok("FETCH 1:2 (FLAGS)")
    assert u == [b"* 1 FETCH (FLAGS (\\Recent $label2 $other))",
                 b"* 2 FETCH (FLAGS (\\Flagged \\Recent $label2 $label1))"], u
    u, _ = r.ok("SEARCH KEYWORD $label1")
    assert u == [b"* SEARCH 2"], u
    r.close()


# --- 2: a new keyword is announced before a FETCH carries it -------------------


def test_new_keyword_announced_first(srv):
    a, b = ilogin(srv), ilogin(srv)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    u, _ = a.ok("STORE 2 +FLAGS ($new1)")
    assert u == [b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $new1)",
                 b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $new1 \\*)] Flags permitted",
                 b"* 2 FETCH (FLAGS (\\Recent $new1))"], u
    u, _ = b.ok("NOOP")
    assert u == [b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $new1)",
                 b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $new1 \\*)] Flags permitted",
                 b"* 2 FETCH (UID 2 FLAGS ($new1))"], u
    # .SILENT: the other session's FETCH (FLAGS) is preceded by the announcement
    a.ok("STORE 3 +FLAGS.SILENT ($new2)")
    u, _ = b.ok("FETCH 3 (FLAGS)")
    assert index_of(u, rb"^\* FLAGS \(.*\$new2\)$") < index_of(u, rb"^\* 3 FETCH \(FLAGS \(\$new2\)\)$"), u
    assert index_of(u, rb"^\* OK \[PERMANENTFLAGS \(.*\$new2 \\\*\)\]") < index_of(u, rb"^\* 3 FETCH"), u
    u, _ = b.ok("NOOP")
    assert not any(b"FLAGS (\\Answered" in x for x in u), u      # told once
    # APPEND and COPY bringing a keyword into the selected mailbox
    msg = b"Subject: k\r\n\r\nbody\r\n"
    a.send(b"x APPEND INBOX ($fromappend) {%d+}\r\n%s\r\n" % (len(msg), msg))
    a.until("x")
    u, _ = b.ok("NOOP")
    assert index_of(u, rb"^\* FLAGS \(.*\$fromappend\)$") >= 0, u
    u, _ = b.ok("FETCH 6 (FLAGS)")
    assert u == [b"* 6 FETCH (FLAGS ($fromappend))"], u
    c = ilogin(srv)
    c.ok("SELECT Archive")
    a.ok("STORE 1 +FLAGS.SILENT ($tocopy)")
    u, _ = a.ok("COPY 1 Archive")
    u, _ = c.ok("NOOP")
    assert index_of(u, rb"^\* FLAGS \(.*\$tocopy\)$") >= 0, u
    u, _ = c.ok("FETCH 1 (FLAGS)")
    assert u == [b"* 1 FETCH (FLAGS (\\Recent $tocopy))"], u
    b.ok("NOOP")
    # an IDLE session is told too
    b.send(b"i IDLE\r\n")
    assert b.readline().startswith(b"+ ")
    a.ok("STORE 4 +FLAGS.SILENT ($idle)")
    got = [b.readline(5), b.readline(5), b.readline(5)]
    assert re.match(rb"\* FLAGS \(.*\$idle\)$", got[0]) and b"PERMANENTFLAGS" in got[1], got
    assert got[2] == b"* 4 FETCH (UID 4 FLAGS ($idle))", got
    b.send(b"DONE\r\n")
    b.until("i")
    for r in (a, b, c):
        r.close()


# --- 3: the implicit \Seen is reported -------------------------------------------


def test_implicit_seen_reported(srv):
    a, b = ilogin(srv), ilogin(srv)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    u, _ = a.ok("FETCH 1 (BODY[])")
    assert u[0].startswith(b"* 1 FETCH (FLAGS (\\Seen \\Recent) BODY[] {"), u
    u, _ = a.ok("FETCH 2 (BODY[HEADER])")
    assert u[0].startswith(b"* 2 FETCH (FLAGS (\\Seen \\Recent) BODY[HEADER] {"), u
    u, _ = a.ok("FETCH 3 RFC822")
    assert u[0].startswith(b"* 3 FETCH (FLAGS (\\Seen \\Recent) RFC822 {"), u
    u, _ = a.ok("UID FETCH 4 (RFC822.TEXT)")
    assert u[0].startswith(b"* 4 FETCH (UID 4 FLAGS (\\Seen \\Recent) RFC822.TEXT {"), u
    # already \Seen: nothing changed, nothing added
    u, _ = a.ok("FETCH 1 (BODY[])")
    assert u[0].startswith(b"* 1 FETCH (BODY[] {"), u
    # FLAGS asked for: once, with \Seen
    u, _ = a.ok("FETCH 5 (BODY[TEXT] FLAGS)")
    assert u[0].startswith(b"* 5 FETCH (BODY[TEXT] {") and u[0].endswith(b" FLAGS (\\Seen \\Recent))"), u
    assert u[0].count(b"FLAGS") == 1
    # a range: each message's own response says it
    a.ok("STORE 1:5 -FLAGS.SILENT (\\Seen)")
    u, _ = a.ok("FETCH 1:5 (BODY.PEEK[HEADER] BODY[TEXT])")
    assert len(u) == 5 and all(x.startswith(b"* %d FETCH (FLAGS (\\Seen \\Recent) BODY[HEADER] {" % (i + 1))
                               for i, x in enumerate(u)), u
    u, _ = a.ok("NOOP")
    assert u == [], u
    # the other session is told as before
    u, _ = b.ok("NOOP")
    assert set(u) == set(b"* %d FETCH (UID %d FLAGS (\\Seen))" % (i, i) for i in range(1, 6)), u
    # EXAMINE sets nothing and says nothing
    b.ok("EXAMINE INBOX")
    a.ok("STORE 1 -FLAGS.SILENT (\\Seen)")
    u, _ = b.ok("FETCH 1 (BODY[])")
    assert u[0].startswith(b"* 1 FETCH (BODY[] {"), u
    a.close(), b.close()


# --- 7: \Recent after EXPUNGE and MOVE --------------------------------------------


def test_recent_after_expunge_and_move(srv):
    a, b = ilogin(srv), ilogin(srv)
    u, _ = a.ok("SELECT INBOX")
    assert b"* 5 RECENT" in u
    b.ok("SELECT INBOX")
    a.ok("STORE 2,4 +FLAGS.SILENT (\\Deleted)")
    u, _ = a.ok("EXPUNGE")
    assert u == [b"* 4 EXPUNGE", b"* 2 EXPUNGE", b"* 3 RECENT"], u
    u, _ = a.ok("MOVE 1 Trash")
    assert u[-2:] == [b"* 1 EXPUNGE", b"* 2 RECENT"], u
    # b owns no \Recent message: its count stays 0, no RECENT line
    u, _ = b.ok("NOOP")
    assert u == [b"* 4 EXPUNGE", b"* 2 EXPUNGE", b"* 1 EXPUNGE"], u
    # expunged by another session: told at the next NOOP, with the count
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    u, _ = a.ok("NOOP")
    assert u == [b"* 1 EXPUNGE", b"* 1 RECENT"], u
    a.close(), b.close()


# --- the limits: 24 keywords of 64 bytes --------------------------------------


LONG = [b"$K%02d" % i + b"x" * 60 for i in range(24)]


def test_24_long_keywords_never_cut(srv):
    """A message with all 24 keywords of 64 bytes: FETCH FLAGS, the other
    session's update, SELECT's FLAGS and the announcement carry all of them."""
    a, b = ilogin(srv), ilogin(srv)
    a.ok("SELECT INBOX")
    b.ok("SELECT INBOX")
    u, _ = a.ok(b"STORE 1 +FLAGS (\\Seen %s)" % b" ".join(LONG))
    assert u[0] == b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft " + b" ".join(LONG) + b")", u[0]
    assert u[1] == b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft " + b" ".join(LONG) + \
        b")] Flags permitted", u[1]        # full: no \*
    assert u[2] == b"* 1 FETCH (FLAGS (\\Seen \\Recent " + b" ".join(LONG) + b"))", u[2]
    u, _ = b.ok("NOOP")
    assert u[-1] == b"* 1 FETCH (UID 1 FLAGS (\\Seen " + b" ".join(LONG) + b"))", u[-1]
    u, _ = b.ok("FETCH 1 (FLAGS UID)")
    assert u == [b"* 1 FETCH (FLAGS (\\Seen " + b" ".join(LONG) + b") UID 1)"], u
    u, _ = b.ok("SELECT INBOX")
    assert u[0] == b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft " + b" ".join(LONG) + b")", u[0]
    # PERMANENTFLAGS (also 1.6 KB) follows when the queue has room for it
    assert b"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft " + b" ".join(LONG) + \
        b")] Flags permitted" in u, u
    a.close(), b.close()


def test_store_keyword_limit(srv):
    """A STORE that would bring the mailbox past 24 keywords answers NO
    [LIMIT] and changes nothing, the same with 25 names in one STORE; names
    already there still work; COPY into a full mailbox is refused alike."""
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    names = [b"$n%02d" % i for i in range(25)]
    _, t = r.no(b"STORE 1 +FLAGS (\\Flagged %s)" % b" ".join(names))
    assert t.endswith(b"NO [LIMIT] STORE: too many keywords (the limit is 24); nothing changed"), t
    r.ok(b"STORE 1 +FLAGS.SILENT (%s)" % b" ".join(names[:23]))
    _, t = r.no(b"STORE 2 +FLAGS (\\Flagged $x $y)")
    assert t.endswith(b"NO [LIMIT] STORE: too many keywords in the mailbox (the limit is 24); nothing changed"), t
    assert fetch_flags(r, 2) == [b"\\Recent"]
    u, _ = r.ok("SELECT INBOX")
    assert b"$x" not in u[0] and b"$y" not in u[0] and b"\\*" in u[1], u
    r.ok("STORE 2 +FLAGS.SILENT ($x)")                  # the 24th
    u, _ = r.ok("SELECT INBOX")
    assert b"\\*" not in u[1], u                          # full: no \* in PERMANENTFLAGS
    r.ok(b"STORE 2 +FLAGS.SILENT (%s)" % names[5])       # one it has: fine
    r.ok("STORE 1 -FLAGS.SILENT ($never $x)")            # removing a name never added: fine
    # COPY of a message whose keywords the target cannot take (Archive gets 24)
    msg = b"Subject: k\r\n\r\nbody\r\n"
    for i in range(2):
        r.send(b"x%d APPEND Archive (%s) {%d+}\r\n%s\r\n" % (i, b" ".join(names[i * 12 + 1:i * 12 + 13]),
                                                              len(msg), msg))
        _, t = r.until("x%d" % i)
        assert t.startswith(b"x%d OK" % i), t
    r.ok(b"STORE 3 +FLAGS.SILENT ($n00)")                # a name Archive lacks
    _, t = r.no("COPY 3 Archive")
    assert b"NO [LIMIT] COPY: too many keywords in the mailbox (the limit is 24)" in t, t
    u, _ = r.ok("STATUS Archive (MESSAGES)")
    assert b"MESSAGES 2" in u[0], u
    # an APPEND past the limit: refused after its literal (the names are in the command)
    r.send(b"y APPEND Archive ($late) {%d+}\r\n%s\r\n" % (len(msg), msg))
    _, t = r.until("y")
    assert t.startswith(b"y NO [LIMIT] APPEND: too many keywords in the mailbox"), t
    u, _ = r.ok("STATUS Archive (MESSAGES)")
    assert b"MESSAGES 2" in u[0], u
    r.close()
