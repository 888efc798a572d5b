"""IMAP folder lists (issue 14): LSUB lists the \\Noselect parents of
subscribed names that '%' stops at (RFC 3501 6.3.9), and the special-use
folders are subscribed when the defaults are made — at `user add`, at a
login that re-creates one, and once for users a store made before."""
import os
import re
import subprocess
import sys

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import BIN, PASSWORDS

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIAL = {"Sent", "Drafts", "Trash", "Junk", "Archive"}


@pytest.fixture
def srv(make_server):
    return start_imap(make_server, kinds=("plain",))


def lsub(r, ref, pat):
    """LSUB as {name: [attributes]}, in the order sent (duplicates fail)."""
    u, _ = r.ok('LSUB "%s" "%s"' % (ref, pat))
    out = {}
    for l in u:
        m = re.match(rb'\* LSUB \(([^)]*)\) "/" "(.*)"$', l)
        assert m, l
        name = m.group(2).decode()
        assert name not in out, "listed twice: %r" % u
        out[name] = m.group(1).decode().split()
    return out


# --- item 5: LSUB and \Noselect parents -------------------------------------

def test_lsub_percent_lists_unsubscribed_parents(srv):
    r = ilogin(srv)
    for n in ("imaptest/test2/x", "imaptest/test2/y", "imaptest/test3/y", "imaptest/test4"):
        r.ok("CREATE " + n)
    for n in ("imaptest/test2/x", "imaptest/test2/y", "imaptest/test3/y", "imaptest/test4"):
        r.ok("SUBSCRIBE " + n)
    got = lsub(r, "", "imaptest/%")
    assert got == {"imaptest/test2": ["\\Noselect"], "imaptest/test3": ["\\Noselect"], "imaptest/test4": []}, got
    # the same through the reference, and one level up
    assert lsub(r, "imaptest/", "%") == got
    assert lsub(r, "", "%") == {"imaptest": ["\\Noselect"], **{n: [] for n in SPECIAL}}
    # a subscribed parent is listed as itself, once
    r.ok("SUBSCRIBE imaptest/test2")
    got = lsub(r, "", "imaptest/%")
    assert got["imaptest/test2"] == [], got
    # '*' lists the subscribed names themselves, no parents
    assert set(lsub(r, "", "imaptest/*")) == {"imaptest/test2", "imaptest/test2/x", "imaptest/test2/y",
                                              "imaptest/test3/y", "imaptest/test4"}
    # deeper: the parent at the pattern's depth only
    assert lsub(r, "", "%/%") == {"imaptest/test2": [], "imaptest/test3": ["\\Noselect"], "imaptest/test4": []}
    assert lsub(r, "", "imaptest/test3/%") == {"imaptest/test3/y": []}
    r.close()


def test_lsub_parent_with_siblings_between(srv):
    """Names that sort between a parent and its children ("a b" between "a"
    and "a/x") do not make it listed twice or hide that it is subscribed."""
    r = ilogin(srv)
    for n in ("P", "P Old", "P/x", "P/y", "Q Old/z", "Q/z", "Q Old/w"):
        r.ok('SUBSCRIBE "%s"' % n)
    got = lsub(r, "", "%")
    assert got == {"P": [], "P Old": [], "Q Old": ["\\Noselect"], "Q": ["\\Noselect"],
                   **{n: [] for n in SPECIAL}}, got
    r.close()


def test_lsub_many_parents_across_windows(srv):
    """More subscribed names than one stream call lists (16): every parent once."""
    r = ilogin(srv)
    want = {}
    for i in range(40):
        for leaf in ("a", "b"):
            r.ok("SUBSCRIBE Box%02d/%s" % (i, leaf))
        want["Box%02d" % i] = ["\\Noselect"]
    got = lsub(r, "", "Box%")
    assert got == want, got
    r.close()


# --- item 15: the special-use folders are subscribed ---------------------------

def test_new_user_has_special_use_subscribed(srv):
    r = ilogin(srv)
    assert lsub(r, "", "*") == {n: [] for n in SPECIAL}
    r.ok("UNSUBSCRIBE Junk")
    r.close()
    # a later login does not subscribe it again
    r = ilogin(srv)
    assert set(lsub(r, "", "*")) == SPECIAL - {"Junk"}
    r.close()
    srv.stop()
    srv.start()
    r = ilogin(srv)
    assert set(lsub(r, "", "*")) == SPECIAL - {"Junk"}
    # a default deleted and made again at the next login is subscribed again
    r.ok("DELETE Archive")
    assert set(lsub(r, "", "*")) == SPECIAL - {"Junk", "Archive"}
    r.close()
    r = ilogin(srv)
    u, _ = r.ok('LIST "" "Archive"')
    assert u == [b'* LIST (\\HasNoChildren \\Archive) "/" "Archive"'], u
    assert set(lsub(r, "", "*")) == SPECIAL - {"Junk"}
    r.close()


HOST_BITS = 64 if sys.maxsize > 2 ** 32 else 32
BITS = int(os.environ.get("POSTNOOK_BITS") or 0)


@pytest.mark.skipif(BITS not in (0, HOST_BITS),
                    reason="the store of a binary of another word size is not readable by this host's mdb_load")
def test_store_made_by_main_gets_special_use_subscribed_once(make_server):
    """tests/stores/main-c0aeb3e-alice.dump: a store made by main at c0aeb3e
    (before defaults were subscribed): `user add alice`, then over IMAP
    CREATE Work/Notes, SUBSCRIBE Work/Notes and INBOX; dumped with mdb_dump -a."""
    srv = make_server(users=(), imap=("plain",), listeners=())
    subprocess.run(["mdb_load", "-f", os.path.join(HERE, "stores", "main-c0aeb3e-alice.dump"),
                    str(srv.datadir)], check=True)
    srv.users["alice"] = PASSWORDS["alice"]
    srv.start()
    r = ilogin(srv)
    assert lsub(r, "", "*") == {n: [] for n in SPECIAL | {"INBOX", "Work/Notes"}}
    r.ok("UNSUBSCRIBE Sent")
    r.ok("UNSUBSCRIBE Work/Notes")
    r.close()
    # the upgrade step ran once: what the user unsubscribed stays so
    r = ilogin(srv)
    assert set(lsub(r, "", "*")) == (SPECIAL | {"INBOX"}) - {"Sent"}
    r.close()
    srv.stop()
    srv.start()
    r = ilogin(srv)
    assert set(lsub(r, "", "*")) == (SPECIAL | {"INBOX"}) - {"Sent"}
    r.close()
