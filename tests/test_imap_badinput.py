"""Bad input never takes the IMAP server down: random and hostile commands
(unbalanced parentheses, huge and bogus literals, deep nesting, binary,
half-sent lines, commands in the wrong state) on several sessions at once;
afterwards a fresh session still works."""
import os
import random
import socket

import pytest

from imap_util import ilogin, start_imap
from postnook_fixture import SLOW, Raw, make_msg

# More seeds for a longer hunt: IMAP_FUZZ_SEEDS=50 make pytest
SEEDS = int(os.environ.get("IMAP_FUZZ_SEEDS", "4"))
PIECES = [b"(", b")", b"((((((((((", b"))))", b"{5}\r\n", b"{3+}\r\nabc", b"{0}\r\n", b"{99999999999}",
          b'"', b'"quoted \\" str"', b"\\Seen", b"\\*", b"*", b"1:*", b"0", b"4294967295", b"1,2,3:5",
          b"BODY[", b"BODY.PEEK[HEADER.FIELDS (From", b"]<0.", b"<", b">", b"NIL", b"\x00", b"\xff\xfe",
          b"INBOX", b"Trash", b"&AOQ-", b"&", b"%", b" ", b"  ", b"UID", b"OR", b"NOT", b"CHARSET"]
CMDS = [b"FETCH", b"STORE", b"SEARCH", b"COPY", b"MOVE", b"LIST", b"LSUB", b"STATUS", b"SELECT", b"EXAMINE",
        b"CREATE", b"DELETE", b"RENAME", b"APPEND", b"UID FETCH", b"UID SEARCH", b"UID STORE", b"EXPUNGE",
        b"UID EXPUNGE", b"NOOP", b"IDLE", b"CLOSE", b"UNSELECT", b"ID", b"ENABLE", b"AUTHENTICATE", b"LOGIN"]


def garbage(rng):
    parts = [rng.choice(PIECES) for _ in range(rng.randint(0, 12))]
    return b"t%d %s %s\r\n" % (rng.randint(0, 99), rng.choice(CMDS), b"".join(parts))


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_commands(make_server, seed):
    srv = start_imap(make_server, users=("alice",), kinds=("plain",))
    for i in range(3):
        srv.deliver_ok("alice", make_msg(i))
    rng = random.Random(seed)
    sessions = []
    for _ in range(3):
        r = ilogin(srv)
        r.ok("SELECT INBOX")
        sessions.append(r)
    for _ in range(300):
        r = rng.choice(sessions)
        try:
            r.send(garbage(rng))
            if rng.random() < 0.1:
                r.send(b"DONE\r\n")
        except OSError:
            pass
    for r in sessions:
        r.r.drain(quiet=0.3 * SLOW, limit=5 * SLOW)
        r.close()
    assert srv.alive(), srv.log()[-3000:]
    r = ilogin(srv)
    r.ok("SELECT INBOX")
    r.ok("FETCH 1:* (FLAGS)")
    r.close()


def test_half_lines_and_binary(make_server):
    srv = start_imap(make_server, users=("alice",), kinds=("plain",))
    raw = Raw(srv.iports["plain"])
    raw.readline()
    raw.send(b"a LOGIN alice {5}\r\nali")    # literal announced, then half sent and gone
    raw.close()
    raw = Raw(srv.iports["plain"])
    raw.readline()
    raw.send(bytes(range(256)) * 64)
    raw.close()
    s = socket.create_connection(("127.0.0.1", srv.iports["plain"]))
    s.sendall(b"a APPEND INBOX {1000+}\r\n" + b"x" * 10)
    s.close()
    assert srv.alive()
    r = ilogin(srv)
    r.ok("NOOP")
    r.close()
