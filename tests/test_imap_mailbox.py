"""IMAP mailbox commands: LIST/LSUB patterns, CHILDREN, SPECIAL-USE, CREATE,
DELETE (a mailbox with children becomes \\Noselect, RFC 3501 6.3.4), RENAME (children, INBOX semantics), SUBSCRIBE,
STATUS, modified UTF-7 names, SELECT/EXAMINE responses, QUOTA."""
import re

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import make_msg


@pytest.fixture
def srv(make_server):
    return start_imap(make_server, kinds=("plain",))


def names(lines):
    out = {}
    for l in lines:
        m = re.match(rb'\* (?:LIST|LSUB) \(([^)]*)\) "/" "(.*)"$', l)
        assert m, l
        out[m.group(2).decode()] = m.group(1).decode().split()
    return out


def test_special_use_defaults(srv):
    r = ilogin(srv)
    u, _ = r.ok('LIST "" "*"')
    n = names(u)
    for box, attr in (("Sent", "\\Sent"), ("Drafts", "\\Drafts"), ("Trash", "\\Trash"),
                      ("Junk", "\\Junk"), ("Archive", "\\Archive")):
        assert attr in n[box], n
    assert "INBOX" in n
    r.close()


def test_create_list_patterns_children(srv):
    r = ilogin(srv)
    r.ok("CREATE Work/Projects/2024")
    r.ok('CREATE "Work/Notes/"')
    r.no("CREATE Work")              # exists (created as a parent)
    u, _ = r.ok('LIST "" "Work/%"')
    n = names(u)
    assert set(n) == {"Work/Projects", "Work/Notes"}
    assert "\\HasChildren" in n["Work/Projects"] and "\\HasNoChildren" in n["Work/Notes"]
    u, _ = r.ok('LIST "" "Work*"')
    assert set(names(u)) == {"Work", "Work/Projects", "Work/Projects/2024", "Work/Notes"}
    u, _ = r.ok('LIST "Work/" "%"')
    assert set(names(u)) == {"Work/Projects", "Work/Notes"}
    u, _ = r.ok('LIST "" "inbox"')
    assert set(names(u)) == {"INBOX"}
    u, _ = r.ok('LIST "" ""')
    assert u == [b'* LIST (\\Noselect) "/" ""']
    u, _ = r.ok('LIST "" "%" RETURN (SPECIAL-USE)')
    assert "Sent" in names(u)
    r.close()


def test_invalid_names(srv):
    r = ilogin(srv)
    for bad in ('"a//b"', '"/a"', '"&Jjo"', '"a*b"', '"a%b"', '"&-x&AOQ"'):
        r.no("CREATE " + bad)
    r.ok('CREATE "&ZeVnLIqe-"')       # valid modified UTF-7 (Japanese)
    r.ok('CREATE "Tom &- Jerry"')
    r.close()


def append(r, box, body=b"Subject: x\r\n\r\nhi\r\n"):
    r.send(b"ap APPEND %s {%d+}\r\n%s\r\n" % (box.encode(), len(body), body))
    return r.until("ap")


def test_delete_rules(srv):
    r = ilogin(srv)
    r.ok("CREATE Parent/Child")
    r.ok("DELETE Parent/Child")
    r.ok("DELETE Parent")
    r.no("DELETE Parent")
    r.no("DELETE INBOX")
    r.close()


def test_delete_with_children_noselect(srv):
    """RFC 3501 6.3.4: DELETE of a mailbox with inferiors removes its messages,
    the name stays as \\Noselect; a \\Noselect name cannot be selected,
    appended to or copied into; CREATE makes it a mailbox again."""
    r, other = ilogin(srv), ilogin(srv)
    r.ok("CREATE Parent/Child")
    for _ in range(2):
        assert b" OK " in append(r, "Parent")[1]
    assert b" OK " in append(r, "Parent/Child")[1]
    before = int(srv.user_list()["alice"]["messages"])
    _, t = r.ok("SELECT Parent")
    old_uv = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(r.ok("STATUS Parent (UIDVALIDITY)")[0])).group(1))
    other.ok("SELECT Parent")
    r.ok("SUBSCRIBE Parent")
    r.ok("DELETE Parent")                 # the selected mailbox: r is back in the authenticated state
    _, t = r.cmd("FETCH 1 (FLAGS)")
    assert b" OK " not in t, t
    u, _ = other.cmd("NOOP")              # the other session's mailbox is gone
    assert any(b"BYE" in x for x in u), u
    assert int(srv.user_list()["alice"]["messages"]) == before - 2
    n = names(r.ok('LIST "" "*"')[0])
    assert n["Parent"] == ["\\Noselect", "\\HasChildren"], n
    assert n["Parent/Child"] == ["\\HasNoChildren"], n
    n = names(r.ok('LIST "" "%"')[0])
    assert "\\Noselect" in n["Parent"], n
    n = names(r.ok('LSUB "" "*"')[0])
    assert "\\Noselect" in n["Parent"], n         # the subscription stays with the name
    for cmd in ("SELECT Parent", "EXAMINE Parent", "STATUS Parent (MESSAGES)"):
        _, t = r.no(cmd)
        assert b"[NONEXISTENT]" in t, (cmd, t)
    _, t = append(r, "Parent")
    assert b" NO [TRYCREATE]" in t, t               # RFC 3501 6.3.11: CREATE would make it
    r.ok("SELECT Parent/Child")
    for cmd in ("COPY 1 Parent", "MOVE 1 Parent", "UID COPY 1:* Parent"):
        _, t = r.no(cmd)
        assert b"[TRYCREATE]" in t, (cmd, t)
    r.ok("UNSELECT")
    _, t = r.no("DELETE Parent")                    # \Noselect with inferiors: an error
    assert b"[HASCHILDREN]" in t, t
    # RENAME moves the \Noselect name with its children
    r.ok("RENAME Parent Moved")
    n = names(r.ok('LIST "" "*"')[0])
    assert "Parent" not in n and "Parent/Child" not in n
    assert n["Moved"] == ["\\Noselect", "\\HasChildren"] and "Moved/Child" in n, n
    u, _ = r.ok("STATUS Moved/Child (MESSAGES)")
    assert b"MESSAGES 1" in u[0], u
    # the last child goes: the parent stays, \Noselect without children
    r.ok("DELETE Moved/Child")
    n = names(r.ok('LIST "" "Moved*"')[0])
    assert n == {"Moved": ["\\Noselect", "\\HasNoChildren"]}, n
    # CREATE makes it a mailbox again: empty, a new UIDVALIDITY, UIDs from 1
    r.ok("CREATE Moved")
    u, _ = r.ok("SELECT Moved")
    text = b"\n".join(u)
    assert b"* 0 EXISTS" in text and b"[UIDNEXT 1]" in text, text
    assert int(re.search(rb"UIDVALIDITY (\d+)", text).group(1)) > old_uv
    assert b" OK " in append(r, "Moved")[1]
    u, _ = r.ok("UID FETCH 1:* (UID)")
    assert u == [b"* 1 FETCH (UID 1)"], u
    r.ok("UNSELECT")
    # a \Noselect name without inferiors is removed
    r.ok("CREATE X/Y")
    r.ok("DELETE X")
    r.ok("DELETE X/Y")
    r.ok("DELETE X")
    assert names(r.ok('LIST "" "X*"')[0]) == {}
    r.no("DELETE X")
    r.close(), other.close()


def test_delete_special_use_with_children(srv):
    """A \\Noselect name loses its special-use attribute; a login does not re-create it."""
    m = srv.imap()
    assert m.create("Sent/2023")[0] == "OK"
    assert m.delete("Sent")[0] == "OK"
    typ, data = m.list('""', "Sent")
    assert typ == "OK" and data == [b'(\\Noselect \\HasChildren) "/" "Sent"'], data
    assert m.select("Sent")[0] == "NO"
    m.logout()
    m = srv.imap()
    typ, data = m.list('""', "Sent")
    assert data == [b'(\\Noselect \\HasChildren) "/" "Sent"'], data
    assert m.create("Sent")[0] == "OK"
    typ, data = m.list('""', "Sent")
    assert data == [b'(\\HasChildren \\Sent) "/" "Sent"'], data
    m.logout()


def test_delete_removes_messages_and_usage(srv):
    m = srv.imap()
    m.create("Box")
    for i in range(3):
        m.append("Box", None, None, make_msg(i).replace(b"\n", b"\r\n"))
    before = srv.user_list()["alice"]["messages"]
    m.delete("Box")
    assert int(srv.user_list()["alice"]["messages"]) == int(before) - 3
    m.logout()


def test_rename(srv):
    r = ilogin(srv)
    r.ok("CREATE A/B/C")
    r.ok("RENAME A Z")
    u, _ = r.ok('LIST "" "*"')
    n = names(u)
    assert {"Z", "Z/B", "Z/B/C"} <= set(n) and "A" not in n
    r.no("RENAME Nope Other")
    r.no("RENAME Z Sent")            # target exists
    r.close()


def test_rename_inbox(srv):
    for i in range(2):
        srv.deliver_ok("alice", make_msg(i))
    m = srv.imap()
    assert m.rename("INBOX", "Old")[0] == "OK"
    assert m.select("INBOX")[1] == [b"0"]
    assert m.select("Old")[1] == [b"2"]
    m.logout()


def test_subscribe_lsub(srv):
    r = ilogin(srv)
    r.ok("CREATE News/Tech")
    r.ok("SUBSCRIBE News/Tech")
    r.ok("SUBSCRIBE INBOX")
    u, _ = r.ok('LSUB "" "*"')
    # the special-use folders are subscribed from the start (test_imap_folders.py)
    assert set(names(u)) == {"News/Tech", "INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"}
    r.ok("UNSUBSCRIBE News/Tech")
    u, _ = r.ok('LSUB "" "News/*"')
    assert u == []
    r.close()


def test_status(srv):
    for i in range(3):
        srv.deliver_ok("alice", make_msg(i))
    r = ilogin(srv)
    u, _ = r.ok("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN RECENT)")
    assert re.match(rb'\* STATUS "INBOX" \(MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY \d+ UNSEEN 3\)', u[0]), u
    u, _ = r.ok("STATUS INBOX (RECENT)")          # STATUS does not claim them
    assert u == [b'* STATUS "INBOX" (RECENT 3)'], u
    r.no("STATUS Nope (MESSAGES)")
    r.bad("STATUS INBOX (BOGUS)")
    r.close()


def test_select_examine_responses(srv):
    for i in range(3):
        srv.deliver_ok("alice", make_msg(i))
    r = ilogin(srv)
    u, t = r.ok("SELECT INBOX")
    text = b"\n".join(u)
    assert b"* 3 EXISTS" in text and b"* 3 RECENT" in text       # delivered with no session selected
    assert b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)" in text
    assert b"PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)" in text
    assert b"[UNSEEN 1]" in text and b"[UIDVALIDITY " in text and b"[UIDNEXT 4]" in text
    assert b"[READ-WRITE]" in t
    u, t = r.ok("EXAMINE INBOX")
    assert b"[READ-ONLY]" in t and b"* 0 RECENT" in u, u         # the SELECT claimed them
    r.no("STORE 1 +FLAGS (\\Seen)")
    r.no("SELECT Nope")
    r.close()


def test_quota(make_server):
    srv = start_imap(make_server, kinds=("plain",), users=())
    srv.add_user("alice", None, "--quota", "1M")
    srv.deliver_ok("alice", make_msg(1))
    m = srv.imap()
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK"
    flat = b" ".join(x if isinstance(x, bytes) else b" ".join(x) for x in data)
    assert b'"INBOX" ""' in flat and b"STORAGE 1 1024" in flat, data
    typ, data = m.getquota('""')
    assert typ == "OK" and b"STORAGE" in data[0]
    big = b"Subject: big\r\n\r\n" + b"x" * (1100 * 1024) + b"\r\n"
    typ, data = m.append("INBOX", None, None, big)
    assert typ == "NO" and b"OVERQUOTA" in data[0]
    m.logout()


def test_list_many_mailboxes(srv):
    """LIST streams mailboxes in windows: each once, with the right CHILDREN attribute."""
    r = ilogin(srv)
    made = set()
    for i in range(25):
        r.ok("CREATE a%02d" % i)
        made.add("a%02d" % i)
        if i % 3 == 0:
            r.ok("CREATE a%02d/kid" % i)
            made.add("a%02d/kid" % i)
        if i % 5 == 0:
            r.ok("CREATE a%02d-x" % i)     # sorts between a00 and a00/kid
            made.add("a%02d-x" % i)
    u, _ = r.ok('LIST "" "*"')
    assert len(u) == len(made) + 6
    n = names(u)
    assert made <= set(n)
    for box, attrs in n.items():
        assert ("\\HasChildren" in attrs) == any(o.startswith(box + "/") for o in n), (box, attrs)
    u, _ = r.ok('LIST "" "%"')
    assert len(u) == len(made) + 6 - 9
    r.close()
