"""QEMU VMs on a bridge: utilities/vs-qemu-ifup and vs-qemu-ifdown as QEMU's TAP scripts.

The VM tests boot a real guest (Debian's cloud kernel + a busybox initramfs built from Debian
packages by lib/qemu_guest.py and cached under /var/cache/vswitch-test; TCG, about 3 s to boot)
whose virtio-net NIC is a TAP that QEMU creates and hands to vs-qemu-ifup. The script tests drive
the scripts directly on a TAP made with `ip tuntap`, without QEMU.
"""
from __future__ import annotations

import random
import re
import signal
import subprocess
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib import qemu_guest
from lib.proc import check, run
from lib.traffic import ping

IFUP = daemon_mod.REPO / "utilities" / "vs-qemu-ifup"
IFDOWN = daemon_mod.REPO / "utilities" / "vs-qemu-ifdown"
SUBNET = "10.231.8"
KIND_TAP = "q"



def _env(d, bridge: str, vlan: int | str | None = None, **extra) -> dict[str, str]:
    env = {"VS_BRIDGE": bridge, "VSWITCH_SOCKET": str(d.socket), "VSCTL": str(daemon_mod.VSCTL)}
    if vlan is not None:
        env["VS_VLAN"] = str(vlan)
    env.update(extra)
    return env


def _script(script: Path, tap: str | None, env: dict[str, str]):
    return run([str(script)] + ([tap] if tap is not None else []), env=env, timeout=30)


def _link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def _link_up(name: str) -> bool:
    flags = int(Path(f"/sys/class/net/{name}/flags").read_text(), 16)
    return bool(flags & 0x1)   # IFF_UP


def _tag(d, port: str) -> str:
    return d.vsctl_ok("get", "port", port, "tag").strip()


def _random_guest_mac() -> str:
    return "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))


@pytest.fixture
def taps():
    """make() -> a persistent TAP (ip tuntap) in the root namespace, removed at the end."""
    made: list[str] = []

    def make() -> str:
        name = names.unique(KIND_TAP)
        check(["ip", "tuntap", "add", "dev", name, "mode", "tap"])
        made.append(name)
        return name

    yield make
    for t in made:
        run(["ip", "link", "del", t])
    left = [t for t in made if _link_exists(t)]
    assert not left, f"could not remove TAPs {left}"


@pytest.fixture
def bridge(vswitchd) -> str:
    br = names.unique(names.KIND_BRIDGE)
    vswitchd.vsctl_ok("add-br", br)
    return br


# -- the scripts alone ---------------------------------------------------------------------------
def test_ifup_adds_the_tap_and_ifdown_removes_it(vswitchd, bridge, taps):
    d, tap = vswitchd, taps()
    assert not _link_up(tap)
    r = _script(IFUP, tap, _env(d, bridge))
    assert r.rc == 0, f"vs-qemu-ifup {tap} failed:\n{r}"
    assert _link_up(tap), f"vs-qemu-ifup left {tap} down"
    assert tap in d.list_ports(bridge)
    assert d.vsctl_ok("get", "interface", tap, "error").strip() == "[]"
    assert d.vsctl_ok("get", "interface", tap, "ofport").strip() not in ("[]", "-1", "0")
    assert _tag(d, tap) == "[]", "no VS_VLAN: the port must not be an access port"

    # QEMU may run ifup for a TAP whose port is still there (a killed QEMU): not an error.
    r = _script(IFUP, tap, _env(d, bridge))
    assert r.rc == 0, f"second vs-qemu-ifup {tap} failed:\n{r}"
    assert d.list_ports(bridge).count(tap) == 1

    r = _script(IFDOWN, tap, _env(d, bridge))
    assert r.rc == 0, f"vs-qemu-ifdown {tap} failed:\n{r}"
    assert tap not in d.list_ports(bridge)
    assert not _link_up(tap), "vs-qemu-ifdown left the TAP up"
    r = _script(IFDOWN, tap, _env(d, bridge))
    assert r.rc == 0, f"vs-qemu-ifdown of a port that is gone must succeed:\n{r}"


def test_ifup_vlan_sets_the_access_tag(vswitchd, bridge, taps):
    d, tap = vswitchd, taps()
    r = _script(IFUP, tap, _env(d, bridge, vlan=10))
    assert r.rc == 0, r
    assert _tag(d, tap) == "10"
    # With VS_VLAN the environment wins over a leftover port's setting.
    r = _script(IFUP, tap, _env(d, bridge, vlan=20))
    assert r.rc == 0, r
    assert _tag(d, tap) == "20"
    # Without VS_VLAN a tag configured beforehand is kept.
    r = _script(IFUP, tap, _env(d, bridge))
    assert r.rc == 0, r
    assert _tag(d, tap) == "20"


def test_ifup_finds_vsctl_next_to_the_repo(vswitchd, bridge, taps):
    """No VSCTL and no vsctl on PATH: the script uses <repo>/build/utilities/vsctl."""
    if daemon_mod.BUILD.resolve() != (daemon_mod.REPO / "build").resolve():
        pytest.skip(f"binaries come from VSWITCH_BUILD={daemon_mod.BUILD}, not <repo>/build")
    d, tap = vswitchd, taps()
    env = _env(d, bridge)
    del env["VSCTL"]
    env["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
    r = _script(IFUP, tap, env)
    assert r.rc == 0, r
    assert tap in d.list_ports(bridge)
    r = _script(IFDOWN, tap, env)
    assert r.rc == 0, r
    assert tap not in d.list_ports(bridge)


@pytest.mark.parametrize("case", ["no-arg", "no-tap", "bad-vlan", "vlan-range", "no-bridge",
                                  "no-daemon", "bad-vsctl"])
def test_ifup_errors_are_clear_and_change_nothing(vswitchd, bridge, taps, case):
    d = vswitchd
    tap = taps()
    env = _env(d, bridge)
    arg: str | None = tap
    expect = tap
    if case == "no-arg":
        arg, expect = None, "usage"
    elif case == "no-tap":
        arg = expect = names.unique(names.KIND_MISSING)
    elif case == "bad-vlan":
        env["VS_VLAN"], expect = "ten", "VS_VLAN=ten"
    elif case == "vlan-range":
        env["VS_VLAN"], expect = "4095", "VS_VLAN=4095"
    elif case == "no-bridge":
        env["VS_BRIDGE"] = expect = names.unique(names.KIND_BRIDGE)
    elif case == "no-daemon":
        env["VSWITCH_SOCKET"], expect = str(d.dir / "nobody.sock"), "cannot connect"
    elif case == "bad-vsctl":
        env["VSCTL"], expect = str(d.dir / "no-vsctl"), "no-vsctl"
    before = d.vsctl_ok("show")
    r = _script(IFUP, arg, env)
    assert r.rc == 1, f"vs-qemu-ifup ({case}) must fail with status 1:\n{r}"
    assert r.err.startswith("vs-qemu-ifup: ") or "vsctl: " in r.err, r
    assert expect in r.err, f"the message should name {expect!r}:\n{r}"
    assert d.vsctl_ok("show") == before, "a failed vs-qemu-ifup changed the configuration"


def test_ifdown_errors(vswitchd, bridge, taps):
    d, tap = vswitchd, taps()
    assert _script(IFUP, tap, _env(d, bridge)).rc == 0
    env = _env(d, bridge, VSWITCH_SOCKET=str(d.dir / "nobody.sock"))
    r = _script(IFDOWN, tap, env)
    assert r.rc == 1 and "cannot connect" in r.err and f"remove {tap}" in r.err, r
    r = _script(IFDOWN, None, _env(d, bridge))
    assert r.rc == 1 and "usage" in r.err, r
    assert tap in d.list_ports(bridge), "a failed vs-qemu-ifdown removed the port"


# -- real QEMU guests --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def guest_image():
    why = qemu_guest.unavailable_reason()
    if why:
        pytest.skip(f"no QEMU guests on this host: {why}")
    try:
        return qemu_guest.guest_image()
    except qemu_guest.GuestError as e:
        pytest.fail(f"cannot build the test guest from Debian packages: {e}", pytrace=False)


@pytest.fixture
def vms(guest_image, vswitchd, topo):
    """make(bridge, ip, vlan=None, ping=None, tap=None) -> a started Guest on a TAP that QEMU creates and
    vs-qemu-ifup adds to `bridge`. Every QEMU is killed at the end and its TAP must be gone."""
    made: list[qemu_guest.Guest] = []

    def make(bridge: str, ip: str, vlan: int | None = None, ping: str | None = None,
             tap: str | None = None):
        g = qemu_guest.Guest(guest_image, tap=tap or names.unique(KIND_TAP),
                             mac=_random_guest_mac(),
                             ip=ip, ifup=IFUP, ifdown=IFDOWN,
                             env=_env(vswitchd, bridge, vlan), ping=ping)
        made.append(g)
        g.start()
        return g

    yield make
    for g in made:
        g.kill()
    left = [g.tap for g in made if _link_exists(g.tap)]
    for t in left:
        run(["ip", "link", "del", t])
    assert not left, f"TAPs still present after QEMU exited: {left}"


def _fdb_has(d, bridge: str, mac: str, port: str, vlan: int) -> bool:
    return any(e["mac"].lower() == mac and e["port"] == port and e["vlan"] == vlan
               for e in d.fdb(bridge))


@pytest.mark.slow
def test_vm_and_namespace_ping_each_other(vswitchd, bridge, topo, vms):
    d = vswitchd
    host = topo.add_host(f"{SUBNET}.1")
    d.vsctl_ok("add-port", bridge, host.sw_port)
    vm = vms(bridge, f"{SUBNET}.2/24", ping=host.ip)

    up = vm.wait_for(r"UP eth0 (\S+)", 60)
    assert up.group(1) == vm.mac, f"guest NIC has MAC {up.group(1)}, QEMU was given {vm.mac}"
    # The port exists once QEMU runs the guest: vs-qemu-ifup ran before the guest booted.
    assert vm.tap in d.list_ports(bridge)
    assert _link_up(vm.tap)
    assert d.vsctl_ok("get", "interface", vm.tap, "error").strip() == "[]"

    m = vm.wait_for(rf"PING {re.escape(host.ip)} (ok|fail)", 60)
    assert m.group(1) == "ok", f"the guest cannot ping {host.ip}; console:\n{vm.console()}"
    vm.wait_for("READY", 10)
    r = ping(host, f"{SUBNET}.2")
    assert r.rc == 0, f"{host.ns} cannot ping the guest {SUBNET}.2:\n{r}\n{vm.console()}"
    assert _fdb_has(d, bridge, vm.mac, vm.tap, 0), (
        f"guest MAC {vm.mac} not learned on {vm.tap}: {d.fdb(bridge)}")

    # Guest shutdown: QEMU exits and runs vs-qemu-ifdown, which removes the port; QEMU then
    # closes the TAP, which the kernel deletes.
    rc = vm.poweroff()
    assert rc == 0, f"QEMU exited with {rc}; console:\n{vm.console()}"
    assert vm.tap not in d.list_ports(bridge), (
        f"vs-qemu-ifdown did not remove {vm.tap}; console:\n{vm.console()}")
    assert not _link_exists(vm.tap)
    r = ping(host, f"{SUBNET}.2", count=1, deadline=1)
    assert r.rc != 0, "the guest still answers after it powered off"


@pytest.mark.slow
def test_vm_on_access_vlan(vswitchd, bridge, topo, vms):
    """VS_VLAN=10: the VM reaches a namespace on VLAN 10, not one on VLAN 20 (same subnet)."""
    d = vswitchd
    h10 = topo.add_host(f"{SUBNET}.1")
    h20 = topo.add_host(f"{SUBNET}.3")
    d.vsctl_ok("add-port", bridge, h10.sw_port, "tag=10")
    d.vsctl_ok("add-port", bridge, h20.sw_port, "tag=20")
    vm = vms(bridge, f"{SUBNET}.2/24", vlan=10, ping=h10.ip)

    vm.wait_for(r"UP eth0", 60)
    assert _tag(d, vm.tap) == "10"
    m = vm.wait_for(rf"PING {re.escape(h10.ip)} (ok|fail)", 60)
    assert m.group(1) == "ok", f"the guest cannot ping {h10.ip} on VLAN 10:\n{vm.console()}"
    vm.wait_for("READY", 10)
    r = ping(h10, f"{SUBNET}.2")
    assert r.rc == 0, f"{h10.ns} (VLAN 10) cannot ping the guest:\n{r}\n{vm.console()}"
    assert _fdb_has(d, bridge, vm.mac, vm.tap, 10), (
        f"guest MAC {vm.mac} not learned on {vm.tap} VLAN 10: {d.fdb(bridge)}")

    assert not vm.ping(h20.ip, tries=2), f"the guest (VLAN 10) reached {h20.ip} on VLAN 20"
    r = ping(h20, f"{SUBNET}.2", count=2, deadline=2)
    assert r.rc != 0, f"{h20.ns} (VLAN 20) reached the guest on VLAN 10:\n{r}"
    assert not _fdb_has(d, bridge, vm.mac, vm.tap, 20), d.fdb(bridge)
    # And VLAN 10 still works after the failed attempts (nothing was mislearned).
    assert vm.ping(h10.ip, tries=3), f"the guest lost {h10.ip}:\n{vm.console()}"

    assert vm.poweroff() == 0
    assert vm.tap not in d.list_ports(bridge)


@pytest.mark.slow
def test_qemu_sigterm_runs_ifdown(vswitchd, bridge, topo, vms):
    """QEMU stopped by SIGTERM (a host shutdown, `kill`) still runs the downscript."""
    d = vswitchd
    host = topo.add_host(f"{SUBNET}.1")
    d.vsctl_ok("add-port", bridge, host.sw_port)
    vm = vms(bridge, f"{SUBNET}.2/24", ping=host.ip)
    assert vm.wait_for(rf"PING {re.escape(host.ip)} (ok|fail)", 60).group(1) == "ok", vm.console()
    assert vm.tap in d.list_ports(bridge)
    rc = vm.signal(signal.SIGTERM)
    assert rc == 0, f"QEMU exited with {rc} on SIGTERM:\n{vm.console()}"
    assert vm.tap not in d.list_ports(bridge), "vs-qemu-ifdown did not run on SIGTERM"
    assert not _link_exists(vm.tap)


@pytest.mark.slow
def test_vm_restarted_after_sigkill_reuses_its_port(vswitchd, bridge, topo, vms):
    """SIGKILL: no downscript, so the port stays in the configuration while QEMU's TAP is gone.
    A new QEMU with the same ifname gets a new TAP; vs-qemu-ifup's --may-exist add-port finds
    the port, and the switch must forward to and from the new TAP."""
    d = vswitchd
    host = topo.add_host(f"{SUBNET}.1")
    d.vsctl_ok("add-port", bridge, host.sw_port)
    vm = vms(bridge, f"{SUBNET}.2/24", ping=host.ip)
    assert vm.wait_for(rf"PING {re.escape(host.ip)} (ok|fail)", 60).group(1) == "ok", vm.console()
    vm.signal(signal.SIGKILL)
    assert vm.tap in d.list_ports(bridge), "nobody ran ifdown, yet the port is gone"
    assert not _link_exists(vm.tap), "the TAP outlived the QEMU that created it"

    again = vms(bridge, f"{SUBNET}.2/24", tap=vm.tap)
    again.wait_for("READY", 60)
    assert again.ping(host.ip, tries=5), (
        f"the restarted guest on {vm.tap} cannot ping {host.ip}:\n"
        f"{d.vsctl('list', 'interface', vm.tap).out}\n{again.console()}")
    r = ping(host, f"{SUBNET}.2")
    assert r.rc == 0, f"{host.ns} cannot ping the restarted guest:\n{r}"


_TCP_SINK = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
s.settimeout(60)
print("listening", flush=True)
c, _ = s.accept()
c.settimeout(60)
n = 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    n += len(b)
print(n, flush=True)
"""

_TCP_SOURCE = r"""
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
chunk = bytes(1 << 16)
for _ in range(int(sys.argv[3]) * 16):
    c.sendall(chunk)
c.shutdown(socket.SHUT_WR)
c.settimeout(60)
c.recv(1)
c.close()
"""


@pytest.mark.slow
def test_vm_tcp_both_ways(vswitchd, bridge, topo, vms):
    """TCP between the guest's virtio-net (TSO/checksum offload through QEMU's vnet header TAP)
    and a namespace's veth (offloads on): every byte arrives in both directions."""
    d = vswitchd
    mib = 16
    host = topo.add_host(f"{SUBNET}.1", offloads=True)
    d.vsctl_ok("add-port", bridge, host.sw_port)
    vm = vms(bridge, f"{SUBNET}.2/24", ping=host.ip)
    assert vm.wait_for(rf"PING {re.escape(host.ip)} (ok|fail)", 60).group(1) == "ok", vm.console()
    vm.wait_for("READY", 10)

    # guest -> namespace
    sink = host.popen(["/usr/bin/python3", "-c", _TCP_SINK, host.ip, "5201"],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert sink.stdout.readline().strip() == "listening"
    sent = vm.tcp_send(host.ip, 5201, mib)
    out, _ = sink.communicate(timeout=60)
    assert sent and out.strip() == str(mib << 20), (
        f"guest -> {host.ip}: sender {'ok' if sent else 'failed'}, namespace received "
        f"{out.strip()!r} of {mib << 20} bytes\n{vm.console()}")

    # namespace -> guest
    vm.tcp_listen(5202)
    r = host.exec(["/usr/bin/python3", "-c", _TCP_SOURCE, f"{SUBNET}.2", "5202", str(mib)],
                  timeout=90)
    got = vm.tcp_received(5202)
    assert r.rc == 0 and got == mib << 20, (
        f"{host.ip} -> guest: sender rc={r.rc} {r.err.strip()}, guest received {got} of "
        f"{mib << 20} bytes")


def test_qemu_refuses_to_start_when_ifup_fails(guest_image, vswitchd, bridge):
    """vs-qemu-ifup's failure (here: no such bridge) stops QEMU before the guest runs."""
    missing = names.unique(names.KIND_BRIDGE)
    g = qemu_guest.Guest(guest_image, tap=names.unique(KIND_TAP), mac=_random_guest_mac(),
                         ip=f"{SUBNET}.2/24", ifup=IFUP, ifdown=IFDOWN,
                         env=_env(vswitchd, missing))
    try:
        g.start()
        rc = g.proc.wait(timeout=30)
    finally:
        g.kill()
    out = g.console()
    assert rc != 0, f"QEMU ran although vs-qemu-ifup failed:\n{out}"
    assert f"vs-qemu-ifup: could not add {g.tap} to bridge {missing}" in out, out
    assert "failed with status" in out, out
    assert not _link_exists(g.tap)
    assert g.tap not in vswitchd.vsctl_ok("show")


@pytest.mark.slow
def test_vm_joins_a_port_configured_beforehand(vswitchd, bridge, topo, vms):
    """A port set up before its VM starts (here: access VLAN 10; docs/qemu.md shows trunks)
    keeps its settings when vs-qemu-ifup (no VS_VLAN) adds the TAP, and carries traffic."""
    d = vswitchd
    host = topo.add_host(f"{SUBNET}.1")
    d.vsctl_ok("add-port", bridge, host.sw_port, "tag=10")
    tap = names.unique(KIND_TAP)
    r = d.vsctl("add-port", bridge, tap, "tag=10")
    assert r.rc == 1 and "No such device" in r.err, f"{tap} does not exist yet:\n{r}"
    vm = vms(bridge, f"{SUBNET}.2/24", tap=tap)
    vm.wait_for("READY", 60)
    assert _tag(d, tap) == "10"
    assert vm.ping(host.ip, tries=5), (
        f"the guest on the preconfigured port {tap} cannot ping {host.ip}:\n"
        f"{d.vsctl('list', 'interface', tap).out}\n{vm.console()}")
    assert ping(host, f"{SUBNET}.2").rc == 0
