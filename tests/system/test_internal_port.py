"""Internal ports: TAP devices the daemon creates, the host's own interface on a bridge. An explicit
one (`add-port br0 vint -- set interface vint type=internal`) and the bridge's local port, which
add-br creates as Open vSwitch does (port and interface named like the bridge, type internal,
ofport 65534 = OFPP_LOCAL).

The host side of these tests lives in the root namespace (that is what an internal port is for):
each test gives only the TAP an address, in a /24 of 10.231.0.0/16 derived from the pytest pid so
that concurrent runs do not collide, and removes it with the device.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager

from lib import names
from lib.proc import check, run
from lib.vlan import flush_neighbours, ping_matrix, wait_until

SUBNET = f"10.231.{100 + os.getpid() % 100}"
HOST_IP = f"{SUBNET}.254"
LOCAL_OFPORT = 65534


def _bridge(d) -> str:
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    return br


def _is_tap(dev: str) -> bool:
    return os.path.exists(f"/sys/class/net/{dev}/tun_flags")


def _exists(dev: str) -> bool:
    return os.path.exists(f"/sys/class/net/{dev}")


@contextmanager
def _host_address(dev: str, addr: str = HOST_IP):
    """`addr`/24 on root-namespace device `dev` for the duration of the block."""
    check(["ip", "addr", "add", f"{addr}/24", "dev", dev])
    try:
        yield addr
    finally:
        run(["ip", "addr", "del", f"{addr}/24", "dev", dev])


def _root_ping(dev: str, addr: str, count: int = 3, deadline: int = 4):
    return run(["ping", "-n", "-q", "-I", dev, "-c", str(count), "-i", "0.2", "-w", str(deadline), addr],
               timeout=deadline + 10)


def _host(d, topo, br, ip, *settings):
    h = topo.add_host(ip)
    d.vsctl_ok("add-port", br, h.sw_port, *settings)
    return h


def test_internal_port_reaches_a_namespace(vswitchd, topo):
    d = vswitchd
    br = _bridge(d)
    h1 = _host(d, topo, br, f"{SUBNET}.1")
    vint = names.unique(names.KIND_OTHER)
    assert not _exists(vint)
    d.vsctl_ok("add-port", br, vint, "--", "set", "interface", vint, "type=internal")
    try:
        assert _is_tap(vint), f"internal port {vint} is not a TAP device in the root namespace"
        got = d.vsctl_ok("get", "interface", vint, "type", "error", "ofport").split()
        assert got[:2] == ["internal", "[]"] and 1 <= int(got[2]) <= 65279, got
        mac = d.vsctl_ok("get", "interface", vint, "mac_in_use").strip().strip('"')
        assert mac == open(f"/sys/class/net/{vint}/address").read().strip()
        assert vint in d.list_ports(br)
        with _host_address(vint):
            r = _root_ping(vint, h1.ip)
            assert r.rc == 0, f"host -> {h1.ns} through internal port {vint} failed:\n{r}"
            rcs = ping_matrix([(h1, HOST_IP)])
            assert list(rcs.values()) == [0], f"{h1.ns} -> host address {HOST_IP} on {vint} failed: {rcs}"
            macs = {e["mac"].lower(): e["port"] for e in d.fdb(br)}
            assert macs.get(mac.lower()) == vint, f"the internal port's MAC was not learned on it: {d.fdb(br)}"
    finally:
        d.vsctl("--if-exists", "del-port", br, vint)
    assert wait_until(lambda: not _exists(vint)), f"del-port left the TAP device {vint} behind"


def test_internal_port_on_an_access_vlan(vswitchd, topo):
    """The host's interface follows its port's VLAN like any other port, also when it changes."""
    d = vswitchd
    br = _bridge(d)
    h10 = _host(d, topo, br, f"{SUBNET}.10", "tag=10")
    h20 = _host(d, topo, br, f"{SUBNET}.20", "tag=20")
    vint = names.unique(names.KIND_OTHER)
    d.vsctl_ok("add-port", br, vint, "tag=10", "--", "set", "interface", vint, "type=internal")
    try:
        with _host_address(vint):
            assert _root_ping(vint, h10.ip).rc == 0, f"host -> VLAN 10 {h10.ns} failed on access VLAN 10"
            r = _root_ping(vint, h20.ip, count=2, deadline=2)
            assert r.rc != 0, f"host on VLAN 10 reached {h20.ns} on VLAN 20:\n{r}"
            rcs = ping_matrix([(h10, HOST_IP), (h20, HOST_IP)])
            assert rcs == {(h10.ns, HOST_IP): 0, (h20.ns, HOST_IP): 1}, rcs

            d.vsctl_ok("set", "port", vint, "tag=20")
            assert d.vsctl_ok("get", "port", vint, "tag").strip() == "20"
            run(["ip", "neigh", "flush", "dev", vint])   # the failed ARP for h20 (see flush_neighbours)
            flush_neighbours(h10, h20)
            assert _root_ping(vint, h20.ip).rc == 0, "host -> VLAN 20 failed after moving to VLAN 20"
            r = _root_ping(vint, h10.ip, count=2, deadline=2)
            assert r.rc != 0, f"host moved to VLAN 20 still reaches {h10.ns} on VLAN 10:\n{r}"
    finally:
        d.vsctl("--if-exists", "del-port", br, vint)


def test_bridge_local_port(vswitchd, topo):
    d = vswitchd
    br = _bridge(d)
    h1 = _host(d, topo, br, f"{SUBNET}.1")

    # It exists: in the config, as a netdev named like the bridge, and in the datapath.
    assert _is_tap(br), f"add-br {br} did not create the local port's TAP device {br}"
    assert d.vsctl_ok("get", "interface", br, "type", "ofport", "error").split() == \
        ["internal", str(LOCAL_OFPORT), "[]"]
    assert d.vsctl_ok("port-to-br", br).strip() == br
    assert d.vsctl_ok("get", "bridge", br, "ports").strip() == f"[{br}, {h1.sw_port}]"
    cfg = d.committed_config()["bridges"][br]["ports"][br]["interfaces"]
    assert cfg == {br: {"type": "internal", "options": {}, "other_config": {}, "external_ids": {},
                        "ofport": LOCAL_OFPORT, "ingress_policing_rate": 0, "ingress_policing_burst": 0}}, cfg
    dp = {p["name"]: p for b in d.vsappctl_json("dpif/show")["bridges"] if b["name"] == br for p in b["ports"]}
    assert dp.get(br, {}).get("ofport") == LOCAL_OFPORT, f"the local port does not run: {dp}"

    # Listed by show, not by list-ports / list-ifaces (as ovs-vsctl).
    assert d.list_ports(br) == [h1.sw_port]
    assert d.vsctl_ok("list-ifaces", br).split() == [h1.sw_port]
    show = d.vsctl_ok("show")
    assert f"    Port {br}\n        Interface {br}\n            type: internal\n" in show, show

    # It cannot be deleted or turned into something else.
    before = (d.config_bytes(), d.vsctl_json("show"))
    msg = (f"vsctl: cannot delete port {br} because it is the local port for bridge {br} "
           f"(deleting this port requires deleting the entire bridge)\n")
    for argv in (["del-port", br, br], ["del-port", br], ["--if-exists", "del-port", br, br]):
        r = d.vsctl(*argv)
        assert (r.rc, r.err) == (1, msg), f"vsctl {argv}:\n{r}"
    r = d.vsctl("set", "interface", br, "type=system")
    assert r.rc == 1 and "internal" in r.err and br in r.err, r
    r = d.vsctl("add-port", br, br)
    assert r.rc == 1 and br in r.err, r
    assert (d.config_bytes(), d.vsctl_json("show")) == before, "a refused command changed the config"
    assert _is_tap(br)

    # The host reaches the bridge through it.
    with _host_address(br):
        r = _root_ping(br, h1.ip)
        assert r.rc == 0, f"host -> {h1.ns} through the local port {br} failed:\n{r}"

    # It survives a restart, and goes with its bridge.
    show_before = d.vsctl_json("show")
    d.stop()
    assert wait_until(lambda: not _exists(br)), f"the TAP device {br} outlived the daemon"
    d.start()
    assert wait_until(lambda: _is_tap(br)), f"the local port {br} was not re-created after a restart"
    assert d.vsctl_json("show") == show_before
    d.vsctl_ok("del-br", br)
    assert wait_until(lambda: not _exists(br)), f"del-br {br} left its local port's TAP device behind"
    assert d.vsctl_ok("list-br").split() == []


def test_bridge_named_like_an_existing_netdev(vswitchd, topo):
    """As in Open vSwitch, the bridge is created but its local port cannot be: the error is
    reported (vsctl exits 1) and kept in the local interface's error column; the netdev that
    holds the name is left alone."""
    d = vswitchd
    taken, _peer = topo.add_link_pair()
    r = d.vsctl("add-br", taken)
    assert r.rc == 1, r
    assert r.err == (f"vsctl: Error detected while setting up '{taken}': could not create internal "
                     f"device {taken} (File exists).\n"), r
    assert d.vsctl("br-exists", taken).rc == 0, "the bridge stays in the config, as Open vSwitch keeps it"
    err = d.vsctl_ok("get", "interface", taken, "error").strip()
    assert f"could not create internal device {taken}" in err, err
    assert f"            error: \"could not create internal device {taken} (File exists)\"" in d.vsctl_ok("show")
    assert not _is_tap(taken) and _exists(taken), f"the veth {taken} was taken over or removed"
    # The bridge still switches.
    h1 = _host(d, topo, taken, f"{SUBNET}.1")
    h2 = _host(d, topo, taken, f"{SUBNET}.2")
    assert ping_matrix([(h1, h2.ip)]) == {(h1.ns, h2.ip): 0}
    d.vsctl_ok("del-br", taken)
    assert _exists(taken) and not _is_tap(taken), f"del-br removed the veth {taken} it never owned"


def test_bridge_deleted_and_readded_at_once(vswitchd, topo):
    """del-br returns only once its local port's TAP device is gone, so `add-br` right after it
    finds the name free (CI once failed here: a poll thread still held the old TAP device)."""
    d = vswitchd
    br = _bridge(d)
    h1 = _host(d, topo, br, f"{SUBNET}.1")
    for i in range(20):
        d.vsctl_ok("del-br", br)
        assert not _exists(br), f"round {i}: del-br {br} returned before its TAP device was removed"
        d.vsctl_ok("add-br", br)
        assert _is_tap(br), f"round {i}: add-br {br} did not re-create its local port"
    assert d.vsctl_ok("get", "interface", br, "error").strip() == "[]"
    d.vsctl_ok("add-port", br, h1.sw_port)
    dp = {p["name"] for b in d.vsappctl_json("dpif/show")["bridges"] if b["name"] == br for p in b["ports"]}
    assert dp == {br, h1.sw_port}, dp
