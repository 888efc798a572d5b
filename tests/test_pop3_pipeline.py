"""Pipelining (RFC 2449), line length limits, and flow control of a client
that sends without reading."""
import socket
import threading
import time

import pytest

from postnook_fixture import PASSWORDS, SAN, SLOW, crlf, make_msg, rss_kb


def test_pipelined_login_and_commands(server):
    m1, m2 = make_msg("p1"), make_msg("p2", body=".dot\nx\n")
    server.deliver_ok("alice", m1)
    server.deliver_ok("alice", m2)
    r = server.raw()
    r.send("USER alice\r\nPASS %s\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 2\r\nNOOP\r\nTOP 1 0\r\n"
           "DELE 1\r\nSTAT\r\nRSET\r\nLIST 1\r\nQUIT\r\n" % PASSWORDS["alice"])
    assert r.readline().startswith(b"+OK"), "USER"
    assert r.readline().startswith(b"+OK"), "PASS"
    s1, s2 = len(crlf(m1)), len(crlf(m2))
    assert r.readline().split()[:3] == [b"+OK", b"2", str(s1 + s2).encode()], "STAT"
    assert r.readline().startswith(b"+OK")
    assert r.multiline() == [b"1 %d" % s1, b"2 %d" % s2], "LIST"
    assert r.readline().startswith(b"+OK")
    assert len(r.multiline()) == 2, "UIDL"
    assert r.readline().startswith(b"+OK")
    assert r.multiline() == crlf(m2)[:-2].split(b"\r\n"), "RETR 2"
    assert r.readline().startswith(b"+OK"), "NOOP"
    assert r.readline().startswith(b"+OK")
    top = r.multiline()
    assert top[-1] == b"" and top[0].startswith(b"From:"), "TOP 1 0 -> %r" % top
    assert r.readline().startswith(b"+OK"), "DELE 1"
    assert r.readline().split()[:3] == [b"+OK", b"1", str(s2).encode()], "STAT after DELE"
    assert r.readline().startswith(b"+OK"), "RSET"
    assert r.readline().split()[:3] == [b"+OK", b"1", str(s1).encode()], "LIST 1 after RSET"
    assert r.readline().startswith(b"+OK"), "QUIT"
    data, closed = r.read_until_eof(5 * SLOW)
    assert closed and data == b"", "extra bytes after QUIT: %r" % data


def test_pipelined_errors_keep_order(server):
    r = server.raw_login()
    r.send("RETR 1\r\nNOOP\r\nXYZZY\r\nSTAT\r\nLIST 7\r\nNOOP\r\n")
    want = [b"-ERR", b"+OK", b"-ERR", b"+OK", b"-ERR", b"+OK"]
    got = [r.readline()[:4].rstrip() for _ in want]
    assert got == [w[:4] for w in want], got


def test_long_line_rejected_session_continues(server):
    r = server.raw()
    e = r.cmd("X" * 300)
    assert e is not None and e.startswith(b"-ERR"), "300-octet line -> %r" % e
    r.login("alice", PASSWORDS["alice"])
    e = r.cmd("LIST " + "1" * 400)
    assert e is not None and e.startswith(b"-ERR"), "over-long LIST -> %r" % e
    r.expect_ok("NOOP")
    r.expect_ok("STAT")
    # a long line split over several packets
    r.send("NOOP " + "y" * 200)
    time.sleep(0.1)
    r.send("z" * 200 + "\r\nNOOP\r\n")
    e = r.readline()
    assert e.startswith(b"-ERR"), "over-long line in two packets -> %r" % e
    e = r.readline()
    assert e.startswith(b"+OK"), "NOOP after an over-long line -> %r" % e
    r.expect_ok("STAT")
    r.expect_ok("QUIT")


def test_empty_and_unknown_commands(server):
    r = server.raw()
    r.expect_err("")
    r.expect_err("FROBNICATE")
    r.expect_err("   ")
    r.expect_ok("CAPA")
    r.multiline()
    r.expect_ok("QUIT")


@pytest.mark.slow
def test_flood_without_reading_is_throttled(server):
    server.deliver_ok("alice", make_msg("flood"))
    base = rss_kb(server.pid)
    r = server.raw_login()
    sock = r.sock
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    chunk = b"NOOP\r\n" * 10000           # 60 kB
    total = [0]
    stop = threading.Event()

    def flood():
        sock.settimeout(0.2)
        while not stop.is_set() and total[0] < 50 * 1024 * 1024:
            try:
                total[0] += sock.send(chunk)
            except (socket.timeout, TimeoutError, BlockingIOError):
                continue
            except OSError:
                break

    t = threading.Thread(target=flood, daemon=True)
    t.start()
    peak = base
    served = []
    t_end = time.time() + 5
    while time.time() < t_end:
        peak = max(peak, rss_kb(server.pid))
        t0 = time.time()
        p = server.pop("bob")
        p.stat()
        p.quit()
        served.append(time.time() - t0)
        time.sleep(0.3)
    stop.set()
    t.join(5)
    peak = max(peak, rss_kb(server.pid))
    assert server.alive(), "the daemon died under a command flood"
    grow = peak - base
    assert grow < 16 * 1024, "RSS grew by %d kB during a flood of %d bytes (buffered without bound?)" \
        % (grow, total[0])
    if not SAN:
        assert peak < 20 * 1024, "RSS %d kB (> 20 MB) during the flood" % peak
    assert max(served) < 2 * SLOW, "other clients waited %.2fs during the flood" % max(served)
    assert total[0] < 50 * 1024 * 1024, "the daemon swallowed 50 MB without the client reading"
    r.close()
    server.assert_serving("bob")
