"""vswitchd as a system service (issue #18 items 1 and 3): `cmake --install` lays out the daemon,
tools, helper scripts, CNI plugin, systemd unit, logrotate file and docs; the unit passes
`systemd-analyze verify`; and the readiness protocol itself works without systemd: the test
listens on a $NOTIFY_SOCKET as systemd does and checks READY=1 comes once the management socket
serves requests, RELOADING=1 / READY=1 around SIGHUP, STOPPING=1 at SIGTERM.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib.proc import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def installed():
    prefix = Path(tempfile.mkdtemp(prefix=f"vsinst{os.getpid()}-", dir="/tmp"))
    try:
        r = run(["cmake", "--install", str(daemon_mod.BUILD), "--prefix", str(prefix)], timeout=120)
        assert r.rc == 0, r
        yield prefix
    finally:
        subprocess.run(["rm", "-rf", str(prefix)], check=False)


def test_install_lays_out_every_part(installed):
    for rel in ["sbin/vswitchd", "bin/vsctl", "bin/vsofctl", "bin/vsappctl", "bin/vs-controller", "bin/vs-pki",
                "bin/vs-docker", "bin/vs-qemu-ifup", "bin/vs-qemu-ifdown", "lib/cni/vswitch",
                "lib/systemd/system/vswitchd.service", "etc/logrotate.d/vswitch", "share/doc/vswitch/README.md",
                "share/doc/vswitch/protocol.md", "share/man/man8/vswitchd.8", "share/man/man8/vsctl.8",
                "share/man/man8/vsofctl.8", "share/man/man8/vsappctl.8",
                "share/bash-completion/completions/vsctl", "share/bash-completion/completions/vsofctl",
                "share/bash-completion/completions/vsappctl"]:
        assert (installed / rel).exists(), f"{rel} was not installed"
    for tool in ["sbin/vswitchd", "bin/vsctl", "bin/vsofctl", "bin/vsappctl"]:
        r = run([str(installed / tool), "--version"])
        assert r.rc == 0 and r.out.strip(), r


def test_unit_passes_systemd_analyze_verify(installed, tmp_path):
    unit = (installed / "lib/systemd/system/vswitchd.service").read_text()
    sbin = unit.split("ExecStart=", 1)[1].split(" ", 1)[0]
    assert sbin == str(installed / "sbin/vswitchd"), "ExecStart follows the prefix given at install time"
    good = tmp_path / "vswitchd.service"   # the installed unit, pointing at this install's daemon
    good.write_text(unit.replace(sbin, str(installed / "sbin/vswitchd")))
    r = run(["systemd-analyze", "verify", "--man=no", str(good)], timeout=60)
    assert r.rc == 0 and not r.err.strip(), r
    assert "Type=notify" in unit and "ExecReload=" in unit and "CapabilityBoundingSet=" in unit
    bad = tmp_path / "broken.service"      # control: the check can fail
    bad.write_text(good.read_text().replace("Type=notify", "Type=bogus"))
    r = run(["systemd-analyze", "verify", "--man=no", str(bad)], timeout=60)
    assert r.rc != 0 or "bogus" in r.err, r


def _recv(sock: socket.socket) -> dict[str, str]:
    data = sock.recv(4096).decode()
    return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)


def test_readiness_protocol_without_systemd(daemon_factory, tmp_path):
    path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    listener.settimeout(15)
    try:
        d = daemon_factory(start=False)
        d.extra_env = {"NOTIFY_SOCKET": str(path)}
        d.start()   # returns once the management socket answers
        msg = _recv(listener)
        assert msg.get("READY") == "1" and msg.get("MAINPID") == str(d.pid), msg
        assert "serving" in msg.get("STATUS", ""), msg
        assert d.vsctl("show").rc == 0
        os.kill(d.pid, signal.SIGHUP)
        assert _recv(listener).get("RELOADING") == "1"
        assert _recv(listener).get("READY") == "1"
        assert d.vsctl("show").rc == 0, "the daemon serves on after a reload"
        os.kill(d.pid, signal.SIGTERM)
        assert _recv(listener).get("STOPPING") == "1"
        d.stop()
    finally:
        listener.close()
