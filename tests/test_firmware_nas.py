"""The NAS overlay tarball from `make firmware BOARD=nas-arm64` (or armhf).

Unpacked into a staging root: the systemd unit passes `systemd-analyze
verify`, the SysV script `sh -n`; the packaged binary runs under qemu-user
with the packaged default config (data directory and ports moved) and serves
POP3 and IMAP to Python's clients.
"""
import os
import shutil
import subprocess
import tarfile

import pytest

from firmware_helpers import (Daemon, free_port, imap_fetch, pop3_fetch, run_packaged,
                              tls_ctx, wait_port)

TARBALL = os.environ.get("POSTNOOK_NAS_TAR")
pytestmark = pytest.mark.skipif(not TARBALL, reason="POSTNOOK_NAS_TAR not set (make check BOARD=nas-...)")

PASSWORD = "Nas-Pass-7823"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("nasroot")
    with tarfile.open(TARBALL) as t:
        names = t.getnames()
        assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
        t.extractall(r)
    return r


def test_overlay_contents(root):
    assert os.access(root / "usr/local/bin/postnook", os.X_OK)
    cgi = root / "usr/local/lib/cgi-bin/postnook.cgi"
    assert cgi.is_symlink() and (cgi.parent / os.readlink(cgi)).resolve() == (root / "usr/local/bin/postnook").resolve()
    assert (root / "etc/postnook/postnook.conf.default").is_file()
    assert not (root / "etc/postnook/postnook.conf").exists(), "the overlay must not overwrite a config"
    assert os.access(root / "etc/init.d/postnook", os.X_OK)
    sysusers = [l.split() for l in (root / "etc/sysusers.d/postnook.conf").read_text().splitlines()
                if l.strip() and not l.startswith("#")]
    assert sysusers[0][:2] == ["u", "postnook"]


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_unit_verifies(root, tmp_path):
    # systemd-analyze checks that ExecStart= names an executable: point it at
    # the staged binary (the unit is otherwise unchanged).
    unit = (root / "etc/systemd/system/postnook.service").read_text()
    staged = unit.replace("/usr/local/bin/postnook", str(root / "usr/local/bin/postnook"))
    (tmp_path / "postnook.service").write_text(staged)
    r = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "postnook.service")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "postnook.service" not in r.stderr, r.stderr


def test_sysv_script_syntax(root):
    subprocess.run(["sh", "-n", str(root / "etc/init.d/postnook")], check=True)
    if shutil.which("busybox"):
        subprocess.run(["busybox", "sh", "-n", str(root / "etc/init.d/postnook")], check=True)
    r = subprocess.run(["sh", str(root / "etc/init.d/postnook"), "bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_packaged_binary_serves_pop3_and_imap(root, tmp_path):
    binary = root / "usr/local/bin/postnook"
    datadir = tmp_path / "data"
    ports = {}
    lines = []
    for line in (root / "etc/postnook/postnook.conf.default").read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if key in ("datadir", "pidfile"):
            line = "%s = %s" % (key, datadir if key == "datadir" else tmp_path / "postnook.pid")
        elif key == "user":          # no user switch in the test
            continue
        elif key == "sync":
            line = "sync = off"
        elif key == "listen":
            proto, sec, _ = line.split("=", 1)[1].split()
            ports[(proto, sec)] = free_port()
            line = "listen = %s %s 127.0.0.1:%d" % (proto, sec, ports[(proto, sec)])
        lines.append(line)
    conf = tmp_path / "postnook.conf"
    conf.write_text("\n".join(lines) + "\n")

    assert run_packaged(binary, "user", "-c", conf, "add", "bob", input=PASSWORD + "\n").returncode == 0
    msg = b"From: a@example.org\nTo: bob@example.org\nSubject: on the NAS\n\nHello from the NAS.\n"
    r = run_packaged(binary, "deliver", "-c", conf, "bob", input=msg)
    assert r.returncode == 0, r.stderr

    d = Daemon(binary, conf, tmp_path / "postnook.log")
    try:
        for p in ports.values():
            wait_port(p, d.proc, tmp_path / "postnook.log")
        ctx = tls_ctx(datadir)
        for (proto, sec), port in ports.items():
            implicit = sec == "tls"
            if proto == "pop3":
                count, lines = pop3_fetch(port, ctx, "bob", PASSWORD, implicit)
                assert count == 1 and b"Hello from the NAS." in lines
            else:
                count, body = imap_fetch(port, ctx, "bob", PASSWORD, implicit)
                assert count == 1 and b"Subject: on the NAS" in body
        assert (tmp_path / "postnook.pid").read_text().strip() == str(d.proc.pid)
    finally:
        assert d.stop() == 0, (tmp_path / "postnook.log").read_text()[-3000:]
