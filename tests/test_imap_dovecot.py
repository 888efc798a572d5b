"""Differential test against Dovecot (issue 14 item 9): where RFC 2180
leaves the choice (FETCH, STORE, COPY naming a message that another
session expunged and this one was not yet told of), postnook answers as
Dovecot does, the words of the tagged reply included where a response code
says what happened ("Some messages were already expunged", "Some of the
requested messages no longer exist": clients and test tools match them).

The same two-session script runs against postnook and against a private,
unprivileged Dovecot (tests/dovecot_fixture.py) with the same 8 messages;
each step's answers are normalised (tags, Dovecot's timing suffix,
UIDVALIDITY values) and compared. Known, deliberate differences are listed
in KNOWN and checked to stay exactly those. The side-by-side table is
printed (pytest -s shows it) and written to tests/artifacts/dovecot-diff.txt.
"""
import os
import re

import pytest

from dovecot_fixture import Dovecot, available, normalise
from imap_util import ilogin, start_imap
from postnook_fixture import ROOT, make_msg

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))

PASSWORD = "Dove-Diff-1234"

# (session, command, what to compare): "all" every line; "tagged" the tagged
# reply only; "present" the tagged reply and the untagged lines that are not
# about the expunged messages (Dovecot also answers for those from its
# index: see KNOWN).
SCRIPT = [
    ("a", "CREATE Dest", "status"),
    ("a", "SELECT INBOX", "none"),
    ("b", "SELECT INBOX", "none"),
    ("a", "STORE 3,5 +FLAGS.SILENT (\\Deleted)", "all"),
    ("a", "EXPUNGE", "all"),
    # b still numbers 8 messages: 3 and 5 are gone
    ("b", "FETCH 2:4 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", "present"),
    ("b", "FETCH 5 (BODY.PEEK[TEXT])", "tagged"),
    ("b", "FETCH 6 (UID)", "all"),
    ("b", "STORE 2:4 +FLAGS (\\Answered)", "present"),
    ("b", "STORE 6 +FLAGS.SILENT (\\Flagged)", "all"),
    ("b", "COPY 3 Dest", "all"),
    ("b", "STATUS Dest (MESSAGES)", "count"),
    ("b", "COPY 2:3 Dest", "all"),
    ("b", "NOOP", "all"),
    # UID commands may be told of expunges at once
    ("a", "STORE 1 +FLAGS.SILENT (\\Deleted)", "none"),
    ("a", "EXPUNGE", "all"),
    ("b", "MOVE 1 Dest", "all"),
    ("b", "UID STORE 1:2 +FLAGS (\\Flagged)", "all"),
    ("b", "UID COPY 1 Dest", "all"),
    ("b", "STATUS Dest (MESSAGES)", "count"),
]

# Differences kept on purpose (step index -> why). Dovecot answers for an
# expunged message from its index (stale FLAGS, BODY[] NIL, RFC822.SIZE
# 0); postnook leaves the expunged message out (RFC 2180 4.1.1 allows
# both) and says so in the same tagged OK [EXPUNGEISSUED].
KNOWN = {
    5: "Dovecot adds '* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT)] NIL)' for the expunged message",
    6: "Dovecot adds '* 5 FETCH (BODY[TEXT] NIL)' for the expunged message",
    8: "Dovecot adds '* 3 FETCH (FLAGS (...))' for the expunged message, as if stored",
}


def completion(line):
    """A tagged reply as compared: status, response code, and the words when
    a code says what happened; 'OK STORE completed' and Dovecot's 'OK Store
    completed' are the same answer."""
    n = normalise(line)
    m = re.match(r"TAG (OK|NO|BAD)( \[[^\]]*\])?(.*)$", n)
    assert m, n
    status, code, text = m.group(1), (m.group(2) or "").strip(), m.group(3).strip()
    if code.startswith("[EXPUNGEISSUED") or code.startswith("[TRYCREATE") or status != "OK":
        return "%s %s %s" % (status, code, text)
    if text.lower() == "no messages found":
        return "OK no messages found"
    return "OK %s" % re.sub(r"\d+", "n", code)


def untagged(lines, gone=()):
    out = []
    for x in lines:
        n = normalise(x)
        m = re.match(r"\* (\d+) FETCH", n)
        if m and int(m.group(1)) in gone:
            continue
        n = re.sub(r"\[COPYUID \d+ ", "[COPYUID n ", n)
        n = re.sub(r" completed$| Completed$", "", n)
        out.append(n)
    return out


def run(session, cmds):
    rows = []
    for who, cmd, _ in SCRIPT:
        u, t = session[who].cmd(cmd)
        rows.append((u, t))
    return rows


def test_expunged_meanwhile_like_dovecot(make_server):
    msgs = [make_msg(i) for i in range(1, 9)]
    pn = start_imap(make_server, users=("alice",), kinds=("plain",))
    for m in msgs:
        pn.deliver_ok("alice", m)
    dv = Dovecot(users={"alice": PASSWORD})
    try:
        for m in msgs:
            dv.deliver("alice", m)
        dv.start()
        got_pn = run({"a": ilogin(pn), "b": ilogin(pn)}, SCRIPT)
        got_dv = run({"a": dv.login("alice"), "b": dv.login("alice")}, SCRIPT)
    finally:
        dv.cleanup()

    table, diffs = [], []
    for i, ((who, cmd, how), (pu, pt), (du, dt)) in enumerate(zip(SCRIPT, got_pn, got_dv)):
        table.append("%2d %s: %s" % (i, who, cmd))
        for side, u, t in (("dovecot ", du, dt), ("postnook", pu, pt)):
            for x in u + [t]:
                x = x.split(b"\r\n", 1)[0]
                table.append("     %s | %s" % (side, x.decode(errors="replace")[:110]))
        if how == "none":
            continue
        if how == "count":
            same = re.findall(rb"MESSAGES (\d+)", b" ".join(pu)) == re.findall(rb"MESSAGES (\d+)", b" ".join(du))
        else:
            same = completion(pt) == completion(dt)
            if how in ("all", "present"):
                gone = {3, 5} if i < 14 else {1}
                same = same and untagged(pu, gone if how == "present" else ()) == \
                    untagged(du, gone if how == "present" else ())
        if not same:
            diffs.append(i)
    text = "\n".join(table)
    print("\n" + text)
    art = ROOT / "tests" / "artifacts"
    os.makedirs(art, exist_ok=True)
    (art / "dovecot-diff.txt").write_text(text + "\n")
    assert diffs == [], "steps %s differ from Dovecot:\n%s" % (diffs, text)
    # and the known differences are still what KNOWN says
    for i in KNOWN:
        assert any(b"NIL" in x or b"FETCH" in x for x in got_dv[i][0]), (i, got_dv[i])


# Issue 10 item 10: a sequence number beyond the mailbox (or '*' in an empty
# one) in FETCH, STORE, COPY, MOVE is BAD (RFC 3501 6.4.8, "Invalid
# messageset" as Dovecot words it); SEARCH and every UID command stay lenient.
SEQ_SCRIPT = [
    "SELECT INBOX",
    "FETCH 4294967295 (UID)",
    "FETCH 4 (UID)",
    "FETCH 2:4 (UID)",
    "FETCH 4:2 (UID)",
    "FETCH 5:* (UID)",
    "FETCH 1,4 (UID)",
    "FETCH 3:* (UID)",
    "FETCH 0 (UID)",            # BAD both; postnook's parser words it "Invalid sequence set"
    "STORE 4 +FLAGS (\\Seen)",
    "STORE 4294967295 +FLAGS.SILENT (\\Seen)",
    "COPY 4294967295 Dest",
    "COPY 2:5 Dest",
    "MOVE 4 Dest",
    "SEARCH 4",
    "SEARCH 2:4",
    "SEARCH OR 1 4",
    "UID FETCH 4294967295 (UID)",
    "UID SEARCH 99",
    "UID STORE 99 +FLAGS (\\Seen)",
    "UID COPY 99 Dest",
    "UID MOVE 99 Dest",
    "STATUS Dest (MESSAGES)",
    "SELECT Empty",
    "FETCH * (UID)",
    "FETCH 1:* (UID)",
    "FETCH 1 (UID)",
    "STORE * +FLAGS (\\Seen)",
    "COPY * Dest",
    "MOVE * Dest",
    "SEARCH *",
    "SEARCH 1:*",
    "SEARCH 1",
    "UID FETCH * (UID)",
    "UID SEARCH *",
    "UID COPY * Dest",
]


def test_seq_beyond_mailbox_like_dovecot(make_server):
    msgs = [make_msg(i) for i in range(1, 4)]
    pn = start_imap(make_server, users=("alice",), kinds=("plain",))
    for m in msgs:
        pn.deliver_ok("alice", m)
    dv = Dovecot(users={"alice": PASSWORD})
    got = {}
    try:
        for m in msgs:
            dv.deliver("alice", m)
        dv.start()
        for side, sess in (("postnook", ilogin(pn)), ("dovecot", dv.login("alice"))):
            sess.cmd("CREATE Dest")
            sess.cmd("CREATE Empty")
            got[side] = [sess.cmd(c) for c in SEQ_SCRIPT]
    finally:
        dv.cleanup()
    table, diffs = [], []
    for i, cmd in enumerate(SEQ_SCRIPT):
        (pu, pt), (du, dt) = got["postnook"][i], got["dovecot"][i]
        table.append("%2d %s" % (i, cmd))
        for side, u, t in (("dovecot ", du, dt), ("postnook", pu, pt)):
            for x in u + [t]:
                table.append("     %s | %s" % (side, x.split(b"\r\n", 1)[0].decode(errors="replace")[:110]))
        if cmd.startswith("SELECT"):
            continue
        if cmd == "FETCH 0 (UID)":
            same = pt.split()[1:2] == dt.split()[1:2] == [b"BAD"] and pu == du == []
        elif cmd.startswith("STATUS"):
            same = re.findall(rb"MESSAGES (\d+)", b" ".join(pu)) == re.findall(rb"MESSAGES (\d+)", b" ".join(du))
        else:
            same = completion(pt) == completion(dt) and untagged(pu) == untagged(du)
        if not same:
            diffs.append(i)
    text = "\n".join(table)
    print("\n" + text)
    assert diffs == [], "steps %s differ from Dovecot:\n%s" % (diffs, text)
