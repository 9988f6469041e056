"""The Debian package (issue #18 item 2): scripts/package.sh builds dist/vswitch_*.deb from the
existing build tree; `apt-get install ./vswitch_*.deb` lays out Debian's paths; the installed
/usr/sbin/vswitchd started with no options serves on its default paths and the installed
/usr/bin/vsctl bridges two namespaces that then ping; `apt-get remove` keeps the configuration
and the conffiles, `apt-get purge` deletes them, and the machine is as before. The package is
purged even when the test fails.

It installs into the host's /usr, /etc, /run and /var: it refuses to run where vswitch is already
installed or its default paths exist, so that it never touches a real installation (a skip; under
CI, whose machine is fresh, a failure).
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.proc import run
from lib.traffic import ping

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PATHS = [Path(p) for p in ("/etc/vswitch", "/run/vswitch", "/var/log/vswitch", "/var/lib/vswitch",
                                   "/usr/sbin/vswitchd", "/usr/bin/vsctl", "/etc/logrotate.d/vswitch")]
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def _installed() -> bool:
    return run(["dpkg-query", "-W", "-f=${Status}", "vswitch"]).out.strip() != ""


def _purge() -> None:
    if _installed():
        run(["dpkg", "--purge", "vswitch"], timeout=120, env=APT_ENV)
    for p in ("/etc/vswitch", "/run/vswitch", "/var/log/vswitch", "/var/lib/vswitch"):
        subprocess.run(["rm", "-rf", p], check=False)


@pytest.fixture(scope="module")
def deb(binaries):
    if _installed() or any(p.exists() for p in DEFAULT_PATHS):
        why = "vswitch is installed or its default paths exist on this host: not touching them"
        if os.environ.get("CI"):   # CI's machine is fresh: there, this is a leftover of another test
            pytest.fail(why)
        pytest.skip(why)
    dist = Path(tempfile.mkdtemp(prefix=f"vspkg{os.getpid()}-", dir="/tmp"))
    os.chmod(dist, 0o755)   # apt reads the .deb as user _apt
    try:
        r = run([ROOT / "scripts" / "package.sh", daemon_mod.BUILD], timeout=300, env={"DIST_DIR": str(dist)})
        assert r.rc == 0, r
        path = Path(r.out.strip().splitlines()[-1])
        assert path.exists() and path.parent == dist, r
        yield path
    finally:
        _purge()
        subprocess.run(["rm", "-rf", str(dist)], check=False)


def _field(deb: Path, name: str) -> str:
    return run(["dpkg-deb", "-f", deb, name]).out.strip()


def test_package_contents(deb):
    depends = _field(deb, "Depends")
    for lib in ("libnl-3-200", "libnl-route-3-200", "libssl3", "libsystemd0", "libc6"):
        assert lib in depends, depends
    listing = run(["dpkg-deb", "-c", deb]).out
    for path in ("./usr/sbin/vswitchd", "./usr/bin/vsctl", "./usr/bin/vsofctl", "./usr/bin/vsappctl",
                 "./usr/bin/vs-docker", "./usr/lib/cni/vswitch", "./lib/systemd/system/vswitchd.service",
                 "./etc/logrotate.d/vswitch", "./usr/share/man/man8/vswitchd.8.gz",
                 "./usr/share/man/man8/vsappctl.8.gz", "./usr/share/bash-completion/completions/vsctl",
                 "./usr/share/doc/vswitch/operations.md"):
        assert f" {path}\n" in listing or listing.endswith(f" {path}"), f"{path} not in the package:\n{listing}"
    assert "./usr/local" not in listing and "./usr/etc" not in listing and "./usr/lib/systemd" not in listing
    unit = subprocess.run(f"dpkg-deb --fsys-tarfile {deb} | tar -xO ./lib/systemd/system/vswitchd.service",
                          shell=True, capture_output=True, text=True).stdout
    assert "\nExecStart=/usr/sbin/vswitchd " in unit, unit
    control = Path(tempfile.mkdtemp(prefix=f"vsctl{os.getpid()}-", dir="/tmp"))
    try:
        assert run(["dpkg-deb", "-e", deb, control]).rc == 0
        assert (control / "conffiles").read_text().split() == ["/etc/logrotate.d/vswitch"]
        for script in ("postinst", "prerm", "postrm"):
            assert os.access(control / script, os.X_OK), script
    finally:
        subprocess.run(["rm", "-rf", str(control)], check=False)


def _start_installed_daemon(out: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "VSWITCH_SOCKET"}
    with open(out, "wb") as f:
        proc = subprocess.Popen(["/usr/sbin/vswitchd"], stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                                start_new_session=True, env=env, preexec_fn=daemon_mod._die_with_parent)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"/usr/sbin/vswitchd exited {proc.returncode}:\n{out.read_text()}")
        if run(["/usr/bin/vsctl", "--timeout=2", "show"], env=env).rc == 0:
            return proc
        time.sleep(0.1)
    raise AssertionError(f"/usr/sbin/vswitchd did not serve /run/vswitch/vswitchd.sock:\n{out.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_install_run_remove_purge(deb, topo, tmp_path):
    try:
        _install_run_remove_purge(deb, topo, tmp_path)
    finally:
        _purge()


def _install_run_remove_purge(deb, topo, tmp_path):
    r = run(["apt-get", "install", "-y", "--no-install-recommends", str(deb)], timeout=300, env=APT_ENV)
    assert r.rc == 0, r
    assert run(["dpkg-query", "-W", "-f=${Status}", "vswitch"]).out == "install ok installed"
    assert run(["/usr/sbin/vswitchd", "--version"]).rc == 0
    assert Path("/etc/vswitch").is_dir() and Path("/var/log/vswitch").is_dir(), "postinst made the directories"

    br = names.unique(names.KIND_BRIDGE)
    h1, h2 = topo.add_host("10.231.0.1"), topo.add_host("10.231.0.2")
    proc = _start_installed_daemon(tmp_path / "vswitchd.out")
    try:
        for argv in (["add-br", br], ["add-port", br, h1.sw_port], ["add-port", br, h2.sw_port]):
            r = run(["/usr/bin/vsctl", *argv])
            assert r.rc == 0, r
        assert ping(h1, "10.231.0.2").rc == 0, (tmp_path / "vswitchd.out").read_text()
        assert Path("/run/vswitch/vswitchd.sock").exists(), "the default socket"
    finally:
        _stop(proc)
    assert br in Path("/etc/vswitch/conf.json").read_text(), "the default config file"

    r = run(["apt-get", "remove", "-y", "vswitch"], timeout=300, env=APT_ENV)
    assert r.rc == 0, r
    assert not Path("/usr/sbin/vswitchd").exists() and not Path("/usr/bin/vsctl").exists()
    assert run(["dpkg-query", "-W", "-f=${Status}", "vswitch"]).out == "deinstall ok config-files"
    assert br in Path("/etc/vswitch/conf.json").read_text(), "remove keeps the configuration"
    assert Path("/etc/logrotate.d/vswitch").exists(), "remove keeps the conffiles"

    r = run(["apt-get", "purge", "-y", "vswitch"], timeout=300, env=APT_ENV)
    assert r.rc == 0, r
    assert run(["dpkg", "-s", "vswitch"]).rc != 0, "purged: dpkg knows no vswitch"
    left = [str(p) for p in DEFAULT_PATHS if p.exists()]
    assert left == [], f"left behind by purge: {left}"
