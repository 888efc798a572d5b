"""IMAP input the parser must judge right (issue 14): modified UTF-7
mailbox names (RFC 3501 5.1.3), sequence sets normalised before they are
acted on (merged, de-duplicated, at most IMAP_SET_RANGES_MAX distinct
ranges), and command lines over the 8 KiB limit answered with their tag."""
import re

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import SLOW, make_msg


@pytest.fixture
def srv(make_server):
    return start_imap(make_server, kinds=("plain",))


# --- item 11: modified UTF-7 names ----------------------------------------

INVALID_NAMES = (
    "&AGE-",                # an encoded plain "a"
    "&AC8-",                # an encoded "/"
    "&AEkATgBCAE8AWA-",     # a fake INBOX
    "&AAA-",                # U+0000
    "&2AA-",                # a lone high surrogate
    "&3AA-",                # a lone low surrogate
    "&2D3YPQ-",             # a high surrogate followed by another high one
    "&,,,-",                # padding bits not zero
    "&AOQA-",               # 6 bits of padding: a half-encoded unit
    "x&AOQ",                # unterminated
    "&AOQ-&ACY-",           # an encoded "&" (it must be "&-")
)


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_invalid_modified_utf7_refused(srv, name):
    r = ilogin(srv)
    for cmd in ("CREATE", "SUBSCRIBE"):
        _, t = r.no('%s "%s"' % (cmd, name))
        assert b"[CANNOT]" in t, t
    r.ok('CREATE "Src"')
    _, t = r.no('RENAME "Src" "%s"' % name)
    assert b"[CANNOT]" in t, t
    u, _ = r.ok('LIST "" "*"')
    assert not any(name.encode() in l for l in u), u
    u, _ = r.ok('LSUB "" "*"')
    assert not any(name.encode() in l for l in u), u
    r.close()


def test_valid_modified_utf7_accepted(srv):
    r = ilogin(srv)
    # Japanese, a-umlaut, an emoji (a surrogate pair), "&" itself, mixed text
    good = ("&ZeVnLIqe-", "&AOQ-", "&2D3eAA-", "Tom &- Jerry", "Caf&AOk-/M&APw-nchen")
    for name in good:
        r.ok('CREATE "%s"' % name)
        r.ok('SUBSCRIBE "%s"' % name)
    u, _ = r.ok('LIST "" "*"')
    listed = {re.match(rb'\* LIST \([^)]*\) "/" "(.*)"$', l).group(1).decode() for l in u}
    assert set(good) <= listed, listed
    r.close()


# --- item 13: STATUS=SIZE -------------------------------------------------

def test_status_size_advertised_and_right(srv):
    r = ilogin(srv)
    u, _ = r.ok("CAPABILITY")
    assert b" STATUS=SIZE" in u[0], u
    msgs = [make_msg(i, body="x" * (100 * i) + "\n") for i in range(1, 4)]
    for m in msgs:
        srv.deliver_ok("alice", m)
    sizes = [len(m.replace(b"\n", b"\r\n")) for m in msgs]
    u, _ = r.ok("STATUS INBOX (SIZE MESSAGES)")
    assert u == [b'* STATUS "INBOX" (MESSAGES 3 SIZE %d)' % sum(sizes)], u
    # the same figure the messages' RFC822.SIZE add up to
    r.ok("SELECT INBOX")
    u, _ = r.ok("FETCH 1:* (RFC822.SIZE)")
    assert sum(int(re.search(rb"RFC822.SIZE (\d+)", l).group(1)) for l in u) == sum(sizes)
    r.ok("COPY 2:3 Archive")
    r.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.ok("EXPUNGE")
    r.ok("UNSELECT")
    u, _ = r.ok("STATUS INBOX (SIZE)")
    assert u == [b'* STATUS "INBOX" (SIZE %d)' % (sizes[1] + sizes[2])], u
    u, _ = r.ok("STATUS Archive (SIZE)")
    assert u == [b'* STATUS "Archive" (SIZE %d)' % (sizes[1] + sizes[2])], u
    u, _ = r.ok("STATUS Drafts (SIZE)")
    assert u == [b'* STATUS "Drafts" (SIZE 0)'], u
    r.close()


def test_status_size_before_login(srv):
    from imap_util import iraw
    r = iraw(srv)
    assert b" STATUS=SIZE" in r.r.greeting, r.r.greeting
    u, _ = r.ok("CAPABILITY")
    assert b" STATUS=SIZE" in u[0], u
    _, t = r.ok('LOGIN alice "%s"' % srv.users["alice"])
    assert b" STATUS=SIZE" in t, t
    r.close()
