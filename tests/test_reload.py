"""SIGHUP: re-read the config, open/close listeners, keep sessions."""
import re
import signal
import socket
import time

import pytest

from postnook_fixture import SLOW, free_port, make_msg


def refused(port):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        # raced the close: the kernel took the SYN just before the
        # listener went away; ask again
        return False
    finally:
        s.close()


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def test_sighup_moves_listener_keeps_sessions(server):
    server.deliver_ok("alice", make_msg("reload"))
    session = server.raw_login("alice")
    tls_session = server.raw_login("bob", kind="tls")
    old = server.ports["plain"]
    new = free_port()
    server.ports["plain"] = new
    server.write_config()
    server.signal(signal.SIGHUP)
    server.wait_port(new, "plain", 10 * SLOW)
    wait_for(lambda: refused(old), 10 * SLOW, "the old port %d to close after SIGHUP" % old)
    # existing sessions keep working
    assert session.cmd("STAT").startswith(b"+OK 1 ")
    assert session.cmd("RETR 1").startswith(b"+OK")
    session.multiline()
    session.expect_ok("QUIT")
    tls_session.expect_ok("STAT")
    tls_session.expect_ok("QUIT")
    assert server.alive()
    # unchanged listeners still serve
    server.wait_ready()
    server.assert_serving()
    p = server.pop("alice", kind="tls")
    p.quit()


def test_sighup_adds_and_removes_listeners(make_server):
    srv = make_server(start=True, listeners=("plain",))
    srv.listeners = ["plain", "tls"]
    srv.ports["tls"] = free_port()
    srv.write_config()
    srv.signal(signal.SIGHUP)
    srv.wait_port(srv.ports["tls"], "tls", 10 * SLOW)
    srv.pop("alice", kind="tls").quit()
    plain = srv.ports["plain"]
    srv.listeners = ["tls"]
    srv.write_config()
    srv.signal(signal.SIGHUP)
    wait_for(lambda: refused(plain), 10 * SLOW, "the removed listener to close")
    srv.pop("bob", kind="tls").quit()


def test_sighup_broken_config_keeps_old(server):
    session = server.raw_login("alice")
    good = server.config_text()
    bad = good + "this line is broken\n"
    nbad = bad.count("\n")
    server.write_config(bad)
    server.signal(signal.SIGHUP)
    want = re.escape(str(server.conf)) + ":%d:" % nbad
    wait_for(lambda: re.search(want, server.log()), 10 * SLOW, "a '%s ...' error in the log" % want)
    assert server.alive(), "the daemon exited on a broken config at SIGHUP"
    session.expect_ok("STAT")
    server.wait_ready()
    server.assert_serving("bob")
    # a later good reload still works
    server.write_config(good)
    server.signal(signal.SIGHUP)
    time.sleep(0.5)
    server.assert_serving("bob")
    session.expect_ok("QUIT")


def test_sighup_changes_policy(server):
    r = server.raw("plain")
    r.expect_ok("CAPA")
    assert any(l.startswith(b"USER") for l in r.multiline())
    server.opts["plaintext_auth"] = "never"
    server.write_config()
    server.signal(signal.SIGHUP)
    deadline = time.time() + 10 * SLOW
    while True:
        r = server.raw("plain")
        e = r.cmd("USER alice")
        r.close()
        if e.startswith(b"-ERR"):
            break
        assert time.time() < deadline, "plaintext_auth = never not applied after SIGHUP"
        time.sleep(0.2)
    server.pop("alice", kind="tls").quit()


def test_many_sighups(server):
    session = server.raw_login("alice")
    for _ in range(20):
        server.signal(signal.SIGHUP)
        time.sleep(0.02)
    time.sleep(0.5)
    assert server.alive()
    session.expect_ok("NOOP")
    server.wait_ready()
    server.assert_serving("bob")
