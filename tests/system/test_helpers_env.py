"""The helper scripts (utilities/vs-docker, vs-qemu-ifup, vs-qemu-ifdown, vs-pki) as the docs
use them: run by bare name from PATH, with none of their environment variables set (no VSCTL:
the documented default is "vsctl on PATH"), PATH holding the build tree's utilities directory
and the repository's utilities directory, against a private daemon (VSWITCH_SOCKET only).

Each helper must find the real vsctl binary, never a shell function or alias of the same name
(vs-docker once found its own vsctl() function through `command -v vsctl` and recursed until
bash crashed)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.proc import check, run
from lib.sandbox import Sandbox

UTILITIES = daemon_mod.REPO / "utilities"
HELPER_VARS = ("VSCTL", "VS_BRIDGE", "VS_VLAN", "VS_TIMEOUT")


def _env(d, **extra) -> dict[str, str]:
    """The calling environment minus every helper variable, PATH = build + repo utilities."""
    env = {k: v for k, v in os.environ.items() if k not in HELPER_VARS}
    env["PATH"] = f"{daemon_mod.BUILD / 'utilities'}:{UTILITIES}:/usr/sbin:/usr/bin:/sbin:/bin"
    env["VSWITCH_SOCKET"] = str(d.socket)
    env.update(extra)
    return env


def _run(argv, env, timeout: float = 30, cwd: str | None = None):
    # lib.proc.run merges its env into os.environ; this needs variables removed, so call directly.
    import subprocess
    try:
        p = subprocess.run([str(a) for a in argv], capture_output=True, text=True, errors="replace",
                           timeout=timeout, env=env, stdin=subprocess.DEVNULL, cwd=cwd)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{argv[0]} did not finish within {timeout}s (looking for vsctl forever?)")
    return p


def _ok(p) -> str:
    assert p.returncode == 0, (f"{p.args} exited {p.returncode}\n--- stdout ---\n{p.stdout}"
                               f"\n--- stderr ---\n{p.stderr[-4000:]}")
    return p.stdout


@pytest.fixture
def bridge(vswitchd) -> str:
    br = names.unique(names.KIND_BRIDGE)
    vswitchd.vsctl_ok("add-br", br)
    return br


@pytest.fixture
def netns():
    made: list[str] = []

    def make() -> str:
        ns = names.unique(names.KIND_NETNS)
        check(["ip", "netns", "add", ns])
        made.append(ns)
        return ns

    yield make
    for ns in made:
        run(["ip", "netns", "del", ns])
    left = [ns for ns in made if Path(f"/run/netns/{ns}").exists()]
    assert not left, f"could not remove namespaces {left}"


@pytest.fixture
def tap():
    name = names.unique("q")
    check(["ip", "tuntap", "add", "dev", name, "mode", "tap"])
    yield name
    run(["ip", "link", "del", name])
    assert not Path(f"/sys/class/net/{name}").exists(), f"could not remove TAP {name}"


def test_helpers_are_found_on_path(vswitchd):
    env = _env(vswitchd)
    for helper in ("vs-docker", "vs-qemu-ifup", "vs-qemu-ifdown", "vs-pki"):
        p = _run(["sh", "-c", f"command -v {helper}"], env)
        assert p.stdout.strip() == str(UTILITIES / helper), p


def test_vs_docker_without_vsctl_variable(vswitchd, bridge, netns):
    d, ns = vswitchd, netns()
    env = _env(d)
    _ok(_run(["vs-docker", "add-port", bridge, "eth1", ns, "--ipaddress=10.231.0.1/24",
              "--vlan=10"], env))
    ports = d.list_ports(bridge)
    assert len(ports) == 1 and ports[0].startswith("vsd"), ports
    assert d.vsctl_ok("get", "port", ports[0], "tag").strip() == "10"
    _ok(_run(["vs-docker", "set-vlan", bridge, "eth1", ns, "20"], env))
    assert d.vsctl_ok("get", "port", ports[0], "tag").strip() == "20"
    _ok(_run(["vs-docker", "del-ports", bridge, ns], env))
    assert d.list_ports(bridge) == []
    assert not Path(f"/sys/class/net/{ports[0]}").exists()


def test_vs_docker_vsctl_named_by_bare_name(vswitchd, bridge, netns):
    """VSCTL=vsctl (a name, not a path) must also mean the binary on PATH."""
    d, ns = vswitchd, netns()
    env = _env(d, VSCTL="vsctl")
    _ok(_run(["vs-docker", "add-port", bridge, "eth1", ns], env))
    assert len(d.list_ports(bridge)) == 1
    _ok(_run(["vs-docker", "del-port", bridge, "eth1", ns], env))
    assert d.list_ports(bridge) == []


def test_vs_docker_reports_a_missing_vsctl(vswitchd, bridge, netns, tmp_path):
    """Neither VSCTL, nor PATH, nor a build tree next to the script: a clear error, status 1.
    (The script is copied away from the repository so that its ../build is not found.)"""
    d, ns = vswitchd, netns()
    copy = tmp_path / "bin" / "vs-docker"
    copy.parent.mkdir()
    copy.write_bytes((UTILITIES / "vs-docker").read_bytes())
    copy.chmod(0o755)
    env = _env(d, PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    p = _run([copy, "add-port", bridge, "eth1", ns], env)
    assert p.returncode == 1, p
    assert "vsctl not found" in p.stderr, p.stderr[-2000:]
    assert d.list_ports(bridge) == []


def test_vs_docker_finds_vsctl_in_its_own_directory(vswitchd, bridge, netns, tmp_path):
    """Installed side by side (vs-docker and vsctl in one directory that is not on PATH)."""
    d, ns = vswitchd, netns()
    bindir = tmp_path / "libexec"
    bindir.mkdir()
    for helper in ("vs-docker", "vs-qemu-ifup", "vs-qemu-ifdown"):
        (bindir / helper).write_bytes((UTILITIES / helper).read_bytes())
        (bindir / helper).chmod(0o755)
    (bindir / "vsctl").symlink_to(daemon_mod.VSCTL)
    env = _env(d, PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    _ok(_run([bindir / "vs-docker", "add-port", bridge, "eth1", ns], env))
    assert len(d.list_ports(bridge)) == 1
    _ok(_run([bindir / "vs-docker", "del-ports", bridge, ns], env))
    assert d.list_ports(bridge) == []


def test_everything_unset_in_a_sandbox(binaries, tmp_path):
    """No variable at all, not even VSWITCH_SOCKET: the daemon on the default paths
    (/run/vswitch/vswitchd.sock ...) and the default bridge br0 of the QEMU scripts. That needs
    names shared host-wide, so it all happens in a Sandbox (private network, mount and PID
    namespaces), which closing removes with everything in it."""
    env = {k: v for k, v in os.environ.items() if k not in HELPER_VARS + ("VSWITCH_SOCKET",)}
    env["PATH"] = f"{daemon_mod.BUILD / 'utilities'}:{UTILITIES}:/usr/sbin:/usr/bin:/sbin:/bin"
    script = f"""
set -ex
mkdir -p /etc/vswitch /run/vswitch /var/log/vswitch
{daemon_mod.VSWITCHD} --config /etc/vswitch/conf.json --socket /run/vswitch/vswitchd.sock \\
    --pidfile /run/vswitch/vswitchd.pid --log-file /var/log/vswitch/vswitchd.log --detach
vsctl --timeout 10 add-br br0
ip tuntap add dev vm1 mode tap
vs-qemu-ifup vm1
test "$(vsctl list-ports br0)" = vm1
vs-qemu-ifdown vm1
test -z "$(vsctl list-ports br0)"
ip netns add web1
vs-docker add-port br0 eth1 web1 --ipaddress=192.0.2.11/24 --vlan=10
port=$(vsctl list-ports br0)
test "$(vsctl get port $port tag)" = 10
ip netns exec web1 ip -br addr show eth1 | grep -q 192.0.2.11/24
vs-docker del-ports br0 web1
test -z "$(vsctl list-ports br0)"
"""
    with Sandbox(tmp_path) as sb:
        r = sb.run(script, env=env, timeout=60)
        assert r.rc == 0, f"{r}\n--- vswitchd.log ---\n{sb.read('/var/log/vswitch/vswitchd.log')}"


def test_qemu_scripts_vsctl_named_by_bare_name(vswitchd, bridge, tap):
    d = vswitchd
    env = _env(d, VS_BRIDGE=bridge, VSCTL="vsctl")
    _ok(_run(["vs-qemu-ifup", tap], env))
    assert tap in d.list_ports(bridge)
    _ok(_run(["vs-qemu-ifdown", tap], env))
    assert tap not in d.list_ports(bridge)


def test_vs_pki_certificates_are_accepted_by_set_ssl(vswitchd, tmp_path):
    """vs-pki from PATH, in an empty directory, with its defaults (./pki, the current directory);
    the switch's key and certificate are what `vsctl set-ssl` accepts."""
    d = vswitchd
    env = _env(d)
    _ok(_run(["vs-pki", "init"], env, cwd=str(tmp_path)))
    _ok(_run(["vs-pki", "req+sign", "sw", "switch"], env, cwd=str(tmp_path)))
    for f in ("pki/cacert.pem", "pki/private/cakey.pem", "sw-privkey.pem", "sw-cert.pem"):
        assert (tmp_path / f).is_file(), f
    _ok(_run(["vsctl", "set-ssl", "sw-privkey.pem", "sw-cert.pem", "pki/cacert.pem"], env,
             cwd=str(tmp_path)))
    out = _ok(_run(["vsctl", "get-ssl"], env))
    assert f"Private key: {tmp_path}/sw-privkey.pem" in out, out
    _ok(_run(["vsctl", "del-ssl"], env))
