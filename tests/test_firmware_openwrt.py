"""The OpenWrt package from `make firmware BOARD=openwrt-mipsel`.

The .ipk is unpacked into a staging root the way opkg would; its init
script's UCI translation runs under busybox sh (OpenWrt's shell and awk);
the packaged binary runs under qemu-user with the translated UCI defaults
and serves POP3 and IMAP to Python's clients; its CGI link answers.
"""
import os
import pathlib
import re
import shutil
import subprocess
import tarfile

import pytest

from firmware_helpers import (Daemon, free_port, imap_fetch, pop3_fetch, run_packaged,
                              tls_ctx, wait_port)

IPK = os.environ.get("POSTNOOK_IPK")
pytestmark = pytest.mark.skipif(not IPK, reason="POSTNOOK_IPK not set (make check BOARD=openwrt-...)")

BUSYBOX = shutil.which("busybox")
PASSWORD = "Router-Pass-4411"
KIB = 1024


@pytest.fixture(scope="module")
def ipk(tmp_path_factory):
    """The .ipk taken apart: {'dir', 'members', 'control', 'root'}."""
    d = tmp_path_factory.mktemp("ipk")
    members = subprocess.run(["ar", "t", IPK], capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["ar", "x", os.path.abspath(IPK)], cwd=d, check=True)
    ctl = d / "control"
    root = d / "root"
    ctl.mkdir()
    root.mkdir()
    with tarfile.open(d / "control.tar.gz") as t:
        t.extractall(ctl)
    with tarfile.open(d / "data.tar.gz") as t:
        t.extractall(root)
    return {"dir": d, "members": members, "control": ctl, "root": root}


def control_fields(ipk):
    fields = {}
    for line in (ipk["control"] / "control").read_text().splitlines():
        if line and not line.startswith(" "):
            k, v = line.split(":", 1)
            fields[k] = v.strip()
    return fields


def test_ipk_archive_and_control(ipk):
    assert ipk["members"] == ["debian-binary", "control.tar.gz", "data.tar.gz"]
    assert (ipk["dir"] / "debian-binary").read_text() == "2.0\n"
    f = control_fields(ipk)
    arch = re.match(r"postnook_([^_]+)_(.+)\.ipk$", os.path.basename(IPK))
    assert f["Package"] == "postnook"
    assert f["Version"] == arch.group(1)
    assert f["Architecture"] == arch.group(2)
    assert int(f["Installed-Size"]) > 100 * KIB
    assert f["Description"]
    conffiles = (ipk["control"] / "conffiles").read_text().split()
    assert conffiles == ["/etc/config/postnook", "/etc/postnook/postnook.conf"]
    for script in ("postinst", "prerm"):
        p = ipk["control"] / script
        assert os.access(p, os.X_OK)
        subprocess.run(["sh", "-n", str(p)], check=True)


def test_ipk_files_and_budget(ipk):
    root = ipk["root"]
    binary = root / "usr/bin/postnook"
    assert os.access(binary, os.X_OK)
    cgi = root / "www/cgi-bin/postnook.cgi"
    assert cgi.is_symlink() and os.readlink(cgi) == "../../usr/bin/postnook"
    assert os.access(root / "etc/init.d/postnook", os.X_OK)
    assert (root / "etc/config/postnook").stat().st_mode & 0o077 == 0
    # the size budget (README): 460 KiB binary, 300 KiB package
    assert binary.stat().st_size <= 460 * KIB, "stripped binary %d bytes > 460 KiB" % binary.stat().st_size
    assert os.path.getsize(IPK) <= 300 * KIB, ".ipk %d bytes > 300 KiB" % os.path.getsize(IPK)


def uci2conf(root, uci_text, old_conf, tmp_path):
    """Run the init script's translation (postnook_uci2conf) as the router
    would: busybox sh with busybox's awk, the UCI text on stdin."""
    bb = tmp_path / "bb"
    if not bb.exists():
        bb.mkdir()
        for applet in ("sh", "awk", "cat", "mkdir", "mv", "chmod"):
            os.symlink(BUSYBOX, bb / applet)
    script = ". %s; postnook_uci2conf %s" % (root / "etc/init.d/postnook", old_conf)
    r = subprocess.run([str(bb / "sh"), "-c", script], input=uci_text.encode(),
                       capture_output=True, env={"PATH": str(bb)}, check=True)
    return r.stdout.decode()


@pytest.mark.skipif(not BUSYBOX, reason="busybox not installed")
def test_init_script_syntax(ipk):
    subprocess.run([BUSYBOX, "sh", "-n", str(ipk["root"] / "etc/init.d/postnook")], check=True)


@pytest.mark.skipif(not BUSYBOX, reason="busybox not installed")
def test_uci_defaults_translation(ipk, tmp_path):
    uci = (ipk["root"] / "etc/config/postnook").read_text()
    conf = uci2conf(ipk["root"], uci, tmp_path / "none.conf", tmp_path)
    lines = [l for l in conf.splitlines() if l and not l.startswith("#")]
    assert "datadir = /srv/postnook" in lines
    assert "user = postnook" in lines
    assert "map_max = 64M" in lines
    assert "plaintext_auth = lan" in lines
    assert not any(l.startswith("hostname") for l in lines)      # empty option: left out
    assert [l for l in lines if l.startswith("listen")] == [
        "listen = imap tls 0.0.0.0:993", "listen = imap starttls 0.0.0.0:143",
        "listen = pop3 tls 0.0.0.0:995", "listen = pop3 starttls 0.0.0.0:110"]
    # the packaged binary accepts the result (a config error exits 78; with the
    # config taken, `user list` on a data directory without a store says so)
    (tmp_path / "postnook.conf").write_text(conf.replace("/srv/postnook", str(tmp_path / "data"))
                                             .replace("user = postnook\n", ""))
    r = run_packaged(ipk["root"] / "usr/bin/postnook", "user", "-c", tmp_path / "postnook.conf", "list")
    assert r.returncode == 1 and b"no store in" in r.stderr, r.stderr


@pytest.mark.skipif(not BUSYBOX, reason="busybox not installed")
def test_uci_keeps_web_page_settings(ipk, tmp_path):
    """Once the config file has listen lines (the web page's), UCI's listen
    sections, plaintext_auth, cert and key are not used; other keys follow UCI."""
    old = tmp_path / "old.conf"
    old.write_text("datadir = /old\nplaintext_auth = never\nlisten = pop3 tls 0.0.0.0:1995\n"
                   "cert = /c.pem\nkey = /k.pem\n")
    uci = (ipk["root"] / "etc/config/postnook").read_text().replace("'64M'", "'128M'")
    conf = uci2conf(ipk["root"], uci, old, tmp_path)
    lines = [l for l in conf.splitlines() if l and not l.startswith("#")]
    assert "datadir = /srv/postnook" in lines and "map_max = 128M" in lines
    assert [l for l in lines if l.startswith(("listen", "plaintext_auth", "cert", "key"))] == [
        "plaintext_auth = never", "listen = pop3 tls 0.0.0.0:1995", "cert = /c.pem", "key = /k.pem"]


@pytest.mark.skipif(not BUSYBOX, reason="busybox not installed")
def test_uci_keeps_the_trace(ipk, tmp_path):
    """The web page's trace line survives every start and reload, before and
    after the file has listen lines of its own."""
    uci = (ipk["root"] / "etc/config/postnook").read_text()
    for first in ("", "listen = pop3 tls 0.0.0.0:1995\n"):
        old = tmp_path / "old.conf"
        old.write_text("datadir = /old\n" + first + "trace = alice, 192.168.1.23\n")
        lines = [l for l in uci2conf(ipk["root"], uci, old, tmp_path).splitlines() if l.startswith("trace")]
        assert lines == ["trace = alice, 192.168.1.23"], lines


@pytest.mark.skipif(not BUSYBOX, reason="busybox not installed")
def test_packaged_binary_serves_pop3_and_imap(ipk, tmp_path):
    """UCI defaults changed as a user would with `uci set` (data dir, ports,
    no user switch since the test is not root on a router), translated by the
    init script, then the packaged binary under qemu-user serves mail."""
    root = ipk["root"]
    binary = root / "usr/bin/postnook"
    datadir = tmp_path / "data"
    ports = {name: free_port() for name in ("imaps", "imap", "pop3s", "pop3")}
    uci = (root / "etc/config/postnook").read_text()
    uci = uci.replace("'/srv/postnook'", "'%s'" % datadir).replace("option user 'postnook'", "option user ''")
    uci = uci.replace("option sync 'full'", "option sync 'off'")
    for name, default in (("imaps", 993), ("imap", 143), ("pop3s", 995), ("pop3", 110)):
        uci = uci.replace("option port '%d'" % default, "option port '%d'" % ports[name])
    uci = uci.replace("0.0.0.0", "127.0.0.1")
    conf = tmp_path / "postnook.conf"
    conf.write_text(uci2conf(root, uci, conf, tmp_path))

    r = run_packaged(binary, "user", "-c", conf, "add", "alice", input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    msg = b"From: a@example.org\nTo: alice@example.org\nSubject: on the router\n\nHello from OpenWrt.\n"
    r = run_packaged(binary, "deliver", "-c", conf, "alice", input=msg)
    assert r.returncode == 0, r.stderr

    d = Daemon(binary, conf, tmp_path / "postnook.log")
    try:
        for p in ports.values():
            wait_port(p, d.proc, tmp_path / "postnook.log")
        ctx = tls_ctx(datadir)
        for port, implicit in ((ports["pop3s"], True), (ports["pop3"], False)):
            count, lines = pop3_fetch(port, ctx, "alice", PASSWORD, implicit)
            assert count == 1 and b"Hello from OpenWrt." in lines
        for port, implicit in ((ports["imaps"], True), (ports["imap"], False)):
            count, body = imap_fetch(port, ctx, "alice", PASSWORD, implicit)
            assert count == 1 and b"Subject: on the router" in body
    finally:
        assert d.stop() == 0, (tmp_path / "postnook.log").read_text()[-3000:]


def test_cgi_link_answers(ipk, tmp_path):
    """uhttpd runs /www/cgi-bin/postnook.cgi: the link's name selects the web page."""
    conf = tmp_path / "postnook.conf"
    conf.write_text("datadir = %s\nlisten = pop3 tls 127.0.0.1:%d\n" % (tmp_path / "data", free_port()))
    env = {"PATH": os.environ.get("PATH", ""), "POSTNOOK_CONF": str(conf), "REQUEST_METHOD": "GET",
           "SCRIPT_NAME": "/cgi-bin/postnook.cgi", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "router",
           "SERVER_NAME": "router", "QUERY_STRING": "", "GATEWAY_INTERFACE": "CGI/1.1"}
    cgi = ipk["root"] / "www/cgi-bin/postnook.cgi"
    r = run_packaged(ipk["root"] / "usr/bin/postnook", argv0=str(cgi), env=env)
    head = r.stdout.split(b"\r\n\r\n", 1)[0].lower()
    assert b"content-type: text/html" in head, r.stdout[:500] + r.stderr[:500]
