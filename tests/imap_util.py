"""Helpers for the IMAP end-to-end tests: a raw IMAP client over
postnook_fixture.Raw (exact lines, pipelining, literals) and a fixture
factory for servers with IMAP listeners."""
import re
import time

from postnook_fixture import SLOW, Raw

ALL_KINDS = ("plain", "tls", "starttls")


def start_imap(make_server, users=("alice", "bob"), kinds=ALL_KINDS, pop3=("plain",), **opts):
    """A started server with IMAP listeners of the given kinds."""
    return make_server(users=users, start=True, imap=kinds, listeners=pop3, **opts)


class IRaw:
    """A raw IMAP session: send commands, collect untagged lines until the tagged reply."""

    def __init__(self, raw):
        self.r = raw
        self.n = 0

    def send(self, data):
        self.r.send(data)

    def readline(self, timeout=None):
        return self.r.readline(timeout)

    def read_literal(self, line):
        """If line ends with {n}, read the n bytes and the rest of the line; returns bytes."""
        m = re.search(rb"\{(\d+)\}$", line)
        if not m:
            return line
        n = int(m.group(1))
        deadline = time.time() + 15 * SLOW
        while len(self.r.buf) < n:
            if time.time() > deadline:
                raise TimeoutError("literal of %d bytes not complete" % n)
            self.r._fill(5 * SLOW)
        data, self.r.buf = self.r.buf[:n], self.r.buf[n:]
        rest = self.r.readline()
        return self.read_literal(line + b"\r\n" + data + rest)

    def cmd(self, text, tag=None, timeout=None):
        """Send 'TAG text'; returns (untagged lines, tagged line). Literals are joined into lines."""
        self.n += 1
        tag = tag or ("t%d" % self.n)
        if isinstance(text, str):
            text = text.encode()
        self.r.send(tag.encode() + b" " + text + b"\r\n")
        return self.until(tag, timeout)

    def until(self, tag, timeout=None):
        out = []
        t = tag.encode() if isinstance(tag, str) else tag
        while True:
            line = self.r.readline(timeout)
            assert line is not None, "EOF waiting for %r after %r" % (tag, out[-5:])
            line = self.read_literal(line)
            if line.startswith(t + b" "):
                return out, line
            out.append(line)

    def ok(self, text, **kw):
        u, t = self.cmd(text, **kw)
        assert re.match(rb"^\S+ OK\b", t), "%r -> %r (untagged %r)" % (text, t, u[-5:])
        return u, t

    def no(self, text, **kw):
        u, t = self.cmd(text, **kw)
        assert re.match(rb"^\S+ NO\b", t), "%r -> %r (expected NO)" % (text, t)
        return u, t

    def bad(self, text, **kw):
        u, t = self.cmd(text, **kw)
        assert re.match(rb"^\S+ BAD\b", t), "%r -> %r (expected BAD)" % (text, t)
        return u, t

    def pending(self, wait=0.0):
        return self.r.pending(wait)

    def close(self):
        self.r.close()


def iraw(srv, kind="plain"):
    return IRaw(srv.iraw(kind))


def ilogin(srv, user="alice", kind="plain"):
    """A raw session logged in with LOGIN (after STARTTLS on a starttls port)."""
    r = IRaw(srv.iraw(kind))
    if kind == "starttls":
        r.ok("STARTTLS")
        r.r.starttls(srv.client_ctx())
    r.ok('LOGIN %s "%s"' % (user, srv.users[user]))
    return r
