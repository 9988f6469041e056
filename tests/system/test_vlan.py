"""802.1Q VLANs through the switch (ofproto/vlan.h; Open vSwitch's Port tag/trunks/vlan_mode):
isolation between access VLANs, a trunk to a real Open vSwitch, native-tagged/native-untagged on
the wire, PCP kept across trunks, counted drops, and vsctl's handling of the VLAN columns.

Tags are checked as they are on the wire: vlansniff.py puts back the tag that Linux moves into
packet metadata on receive (PACKET_AUXDATA, what tcpdump -e shows). This kernel has no 802.1Q
device, so hosts on trunks send and read tagged frames raw.
"""
from __future__ import annotations

import json
import os

import pytest
from scapy.layers.l2 import ARP, Ether

from lib import names
from lib import ovs as ovs_mod
from lib.netns import OFFLOAD_FEATURES
from lib.proc import check
from lib.traffic import mac_bytes, marker
from lib.vlan import BROADCAST, Capture, eth_frame, host_capture, ping_matrix, send_raw, wait_until

SUBNET_ISOLATION = "10.231.10"
SUBNET_TRUNK = "10.231.20"


# -- helpers ---------------------------------------------------------------------------------------
def _bridge(d) -> str:
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    return br


def _host(d, topo, br, ip, *settings, offloads=True):
    """A namespace host whose veth is a port of `br` with Port settings (tag=10, trunks=...)."""
    h = topo.add_host(ip, offloads=offloads)
    d.vsctl_ok("add-port", br, h.sw_port, *settings)
    return h


def _fdb_by_mac(d, br) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in d.fdb(br):
        out.setdefault(e["mac"].lower(), []).append(e)
    return out


def _coverage_delta(d, before: dict, name: str) -> int:
    return d.coverage().get(name, 0) - before.get(name, 0)


def _wait_counter(d, before, name, want, timeout=5.0) -> int:
    wait_until(lambda: _coverage_delta(d, before, name) >= want, timeout)
    return _coverage_delta(d, before, name)


def _broadcast(src_host, tag: bytes, vid=None, pcp=0) -> bytes:
    return eth_frame(src_host.mac, BROADCAST, tag, vid=vid, pcp=pcp)


def _sent_to(captures: dict[str, Capture]) -> dict[str, list]:
    """Stops every capture and returns name -> frames."""
    return {k: c.stop() for k, c in captures.items()}


# -- isolation ------------------------------------------------------------------------------------
def test_access_vlans_are_isolated(vswitchd, topo):
    """Two hosts on VLAN 10 and two on VLAN 20, all in one IP subnet: each reaches its own VLAN
    only, unicast and broadcast alike, and frames reach access ports untagged."""
    d = vswitchd
    br = _bridge(d)
    hosts = {}
    for i, (name, vlan) in enumerate([("a10", 10), ("b10", 10), ("a20", 20), ("b20", 20)]):
        hosts[name] = (_host(d, topo, br, f"{SUBNET_ISOLATION}.{i + 1}", f"tag={vlan}"), vlan)
    for name, (h, vlan) in hosts.items():
        assert d.vsctl_ok("get", "port", h.sw_port, "tag").strip() == str(vlan)

    pairs = [(hs, hd.ip) for (hs, _vs) in hosts.values() for (hd, _vd) in hosts.values() if hs is not hd]
    vlan_of_ns = {h.ns: v for h, v in hosts.values()}
    vlan_of_ip = {h.ip: v for h, v in hosts.values()}
    rcs = ping_matrix(pairs)
    wrong = {k: rc for k, rc in rcs.items() if (rc == 0) != (vlan_of_ns[k[0]] == vlan_of_ip[k[1]])}
    assert not wrong, ("ping results that break VLAN isolation (rc 0 = reached): "
                       f"{wrong}; VLAN per namespace {vlan_of_ns}")

    # Each MAC was learned on its own port, in its port's VLAN.
    fdb = _fdb_by_mac(d, br)
    for h, vlan in hosts.values():
        rows = fdb.get(h.mac.lower(), [])
        assert [(r["port"], r["vlan"]) for r in rows] == [(h.sw_port, vlan)], (h.mac, rows, d.fdb(br))

    # Broadcast: a scapy-built broadcast from each host reaches the other host of its VLAN only,
    # untagged; an ARP request for an address on the other VLAN is not seen there.
    for src_name, (src, vlan) in hosts.items():
        tag = marker()
        caps = {n: host_capture(h, tag, seconds=5).start() for n, (h, _v) in hosts.items() if h is not src}
        send_raw(src.ifname, [_broadcast(src, tag)], ns=src.ns)
        got = _sent_to(caps)
        for n, frames in got.items():
            peer_vlan = hosts[n][1]
            if peer_vlan == vlan:
                assert len(frames) == 1 and frames[0].vid is None, \
                    f"broadcast from {src_name} (VLAN {vlan}) to {n}: expected 1 untagged frame, got {frames}"
            else:
                assert frames == [], f"broadcast from {src_name} (VLAN {vlan}) leaked to {n} (VLAN {peer_vlan}): {frames}"

    a10, b20, b10 = hosts["a10"][0], hosts["b20"][0], hosts["b10"][0]
    arp = bytes(Ether(src=a10.mac, dst=BROADCAST) / ARP(op=1, hwsrc=a10.mac, psrc=a10.ip, pdst=b20.ip))
    needle = mac_bytes(a10.mac) + bytes([0x08, 0x06])
    with host_capture(b20, needle, seconds=4) as c20, host_capture(b10, needle, seconds=4) as c10:
        send_raw(a10.ifname, [arp], ns=a10.ns)
        c20.stop()
        c10.stop()
    assert c10.frames and all(f.vid is None for f in c10.frames), f"ARP broadcast missing on VLAN 10: {c10.frames}"
    assert c20.frames == [], f"ARP request from VLAN 10 reached VLAN 20: {c20.frames}"


# -- trunk to Open vSwitch -------------------------------------------------------------------------
@pytest.fixture
def ovs_peer():
    miss = ovs_mod.missing()
    if miss:
        pytest.fail(f"Open vSwitch is needed as a peer (Debian package openvswitch-switch; "
                    f"scripts/setup.sh installs it): missing {', '.join(miss)}", pytrace=False)
    peer = ovs_mod.OvsPeer.start()
    yield peer
    peer.stop()


def test_trunk_to_open_vswitch(vswitchd, topo, ovs_peer):
    """Our bridge and an Open vSwitch bridge joined by an 802.1Q trunk (VLANs 10 and 20), each with
    an access host on VLAN 10 and on VLAN 20: hosts meet per VLAN only, and the trunk carries
    each VLAN with its own tag."""
    d, ovs = vswitchd, ovs_peer
    br = _bridge(d)
    h10 = _host(d, topo, br, f"{SUBNET_TRUNK}.1", "tag=10", offloads=False)
    h20 = _host(d, topo, br, f"{SUBNET_TRUNK}.2", "tag=20", offloads=False)
    ours, theirs = topo.add_link_pair()   # the trunk: `theirs` goes to Open vSwitch's namespace
    check(["ethtool", "-K", ours, *OFFLOAD_FEATURES])
    ovs.take_link(theirs)
    d.vsctl_ok("add-port", br, ours, "trunks=10,20")
    ovs.vsctl("add-port", ovs.bridge, theirs, "trunks=10,20")
    o10 = ovs.add_access_host(topo, f"{SUBNET_TRUNK}.3", tag=10)
    o20 = ovs.add_access_host(topo, f"{SUBNET_TRUNK}.4", tag=20)

    vlan = {h10.ns: 10, h20.ns: 20, o10.ns: 10, o20.ns: 20}
    all_hosts = [h10, h20, o10, o20]
    pairs = [(a, b.ip) for a in all_hosts for b in all_hosts if a is not b]
    ip_vlan = {h.ip: vlan[h.ns] for h in all_hosts}
    rcs = ping_matrix(pairs, count=3, deadline=4)
    wrong = {k: rc for k, rc in rcs.items() if (rc == 0) != (vlan[k[0]] == ip_vlan[k[1]])}
    assert not wrong, (f"through the trunk to Open vSwitch, pings that break VLAN separation "
                       f"(rc 0 = reached): {wrong}\n{ovs.log_tail()[-3000:]}")

    # On the wire: our VLAN 10 broadcast crosses the trunk tagged 10, reaches Open vSwitch's
    # VLAN 10 host untagged and nobody else; its VLAN 20 broadcast comes back tagged 20.
    for src, vid, same, others in [(h10, 10, o10, [h20, o20]), (o20, 20, h20, [h10, o10])]:
        tag = marker()
        trunk = Capture(ours, tag, seconds=5).start()
        caps = {h.ns: host_capture(h, tag, seconds=5).start() for h in [same, *others]}
        send_raw(src.ifname, [_broadcast(src, tag)], ns=src.ns)
        on_trunk = trunk.stop()
        got = _sent_to(caps)
        assert [f.vid for f in on_trunk] == [vid], \
            f"broadcast of VLAN {vid} from {src.ns} on the trunk {ours}: {on_trunk}"
        assert on_trunk[0].tags[0][0] == 0x8100, on_trunk
        assert len(got[same.ns]) == 1 and got[same.ns][0].vid is None, \
            f"VLAN {vid} broadcast at {same.ns}: {got[same.ns]}"
        for h in others:
            assert got[h.ns] == [], f"VLAN {vid} broadcast from {src.ns} leaked to {h.ns}: {got[h.ns]}"

    # Both switches learned the far hosts behind the trunk, each in its own VLAN.
    fdb = _fdb_by_mac(d, br)
    for h, v in [(o10, 10), (o20, 20)]:
        assert [(r["port"], r["vlan"]) for r in fdb.get(h.mac.lower(), [])] == [(ours, v)], (h.mac, d.fdb(br))
    theirs_fdb = ovs.fdb()
    for h, v in [(h10, 10), (h20, 20)]:
        assert (theirs, v, h.mac.lower()) in theirs_fdb, (h.mac, theirs_fdb)


# -- native VLAN modes ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["native-untagged", "native-tagged"])
def test_native_vlan_on_the_wire(vswitchd, topo, mode):
    """A port with tag=30 trunks=30,40 vlan_mode=MODE: VLAN 30 leaves it untagged (native-untagged)
    or tagged 30 (native-tagged), VLAN 40 tagged; untagged frames it receives belong to VLAN 30,
    tagged ones to their VLAN; VLANs it does not trunk are dropped and counted."""
    d = vswitchd
    br = _bridge(d)
    a30 = _host(d, topo, br, None, "tag=30")
    a40 = _host(d, topo, br, None, "tag=40")
    p = _host(d, topo, br, None, "tag=30", "trunks=30,40", f"vlan_mode={mode}")
    assert d.vsctl_ok("get", "port", p.sw_port, "tag", "trunks", "vlan_mode").split("\n")[:3] == \
        ["30", "[30, 40]", mode]
    show = d.vsctl_ok("show")
    assert f"        tag: 30\n        trunks: [30, 40]\n        vlan_mode: {mode}\n        Interface {p.sw_port}\n" in show, show

    # Egress.
    want_30 = None if mode == "native-untagged" else 30
    for src, want in [(a30, want_30), (a40, 40)]:
        tag = marker()
        with host_capture(p, tag, seconds=4, want=1) as cap:
            send_raw(src.ifname, [_broadcast(src, tag)], ns=src.ns)
        frames = cap.frames
        assert [f.vid for f in frames] == [want], \
            f"{mode}: frame from the VLAN {30 if src is a30 else 40} access port left {p.sw_port} as {frames}"

    # Ingress.
    before = d.coverage()
    for vid, reaches in [(None, a30), (40, a40), (30, a30), (50, None)]:
        tag = marker()
        caps = {h.ns: host_capture(h, tag, seconds=4).start() for h in (a30, a40)}
        send_raw(p.ifname, [_broadcast(p, tag, vid=vid)], ns=p.ns)
        got = _sent_to(caps)
        for h in (a30, a40):
            frames = got[h.ns]
            if h is reaches:
                assert len(frames) == 1 and frames[0].vid is None, \
                    f"{mode}: frame with VID {vid} on {p.sw_port} at {h.ns}: {frames}"
            else:
                assert frames == [], f"{mode}: frame with VID {vid} on {p.sw_port} leaked to {h.ns}: {frames}"
    assert _wait_counter(d, before, "drop_vlan_not_trunked", 1) == 1, \
        f"VLAN 50 frame on a port trunking 30,40 not counted: {d.coverage()}"


# -- priority (PCP) --------------------------------------------------------------------------------
def test_pcp_is_kept_across_trunks(vswitchd, topo):
    """IEEE 802.1Q priority survives the switch: a frame tagged VID 50 PCP 5 (and PCP 1) on one
    trunk leaves another trunk with the same PCP; a priority-tagged frame (VID 0, PCP 3) from an
    access port of VLAN 50 leaves a trunk as VID 50 with PCP 3, as Open vSwitch does."""
    d = vswitchd
    br = _bridge(d)
    t1 = _host(d, topo, br, None)                      # trunk: all VLANs
    t2 = _host(d, topo, br, None, "trunks=50,60")
    a50 = _host(d, topo, br, None, "tag=50")
    for pcp in (5, 1):
        tag = marker()
        with host_capture(t2, tag, seconds=4, want=1) as c2, host_capture(a50, tag, seconds=4, want=1) as ca:
            send_raw(t1.ifname, [_broadcast(t1, tag, vid=50, pcp=pcp)], ns=t1.ns)
        assert [(f.vid, f.pcp) for f in c2.frames] == [(50, pcp)], \
            f"VID 50 PCP {pcp} frame from trunk {t1.sw_port} left trunk {t2.sw_port} as {c2.frames}"
        assert [f.vid for f in ca.frames] == [None], f"at the VLAN 50 access port: {ca.frames}"

    tag = marker()
    with host_capture(t1, tag, seconds=4, want=1) as c1:
        send_raw(a50.ifname, [_broadcast(a50, tag, vid=0, pcp=3)], ns=a50.ns)
    assert [(f.vid, f.pcp) for f in c1.frames] == [(50, 3)], \
        f"priority-tagged (VID 0 PCP 3) frame from access port of VLAN 50 left the trunk as {c1.frames}"


# -- drops ----------------------------------------------------------------------------------------
def test_vlan_drops_are_counted(vswitchd, topo):
    """Frames a port must not accept are dropped, counted by name in coverage/show, and delivered
    nowhere: tagged on an access port (drop_vlan_tagged_on_access), a VLAN the trunk does not carry
    (drop_vlan_not_trunked), a tag cut short (drop_truncated_vlan)."""
    d = vswitchd
    br = _bridge(d)
    a10 = _host(d, topo, br, f"{SUBNET_ISOLATION}.1", "tag=10")
    b10 = _host(d, topo, br, f"{SUBNET_ISOLATION}.2", "tag=10")
    a20 = _host(d, topo, br, f"{SUBNET_ISOLATION}.3", "tag=20")
    t = _host(d, topo, br, None, "trunks=10,20")
    n = 3

    cases = [
        ("drop_vlan_tagged_on_access", a10, lambda tag: _broadcast(a10, tag, vid=20)),
        ("drop_vlan_tagged_on_access", a10, lambda tag: _broadcast(a10, tag, vid=10)),
        ("drop_vlan_not_trunked", t, lambda tag: _broadcast(t, tag, vid=30)),
        ("drop_vlan_not_trunked", t, lambda tag: _broadcast(t, tag)),  # untagged = VLAN 0
    ]
    for counter, src, make in cases:
        tag = marker()
        before = d.coverage()
        receivers = [h for h in (a10, b10, a20, t) if h is not src]
        caps = {h.ns: host_capture(h, tag, seconds=4).start() for h in receivers}
        assert send_raw(src.ifname, [make(tag)] * n, ns=src.ns) == n
        got_count = _wait_counter(d, before, counter, n)
        got = _sent_to(caps)
        assert got_count == n, f"{counter}: {got_count} of {n} frames from {src.sw_port} counted: {d.coverage()}"
        leaked = {k: v for k, v in got.items() if v}
        assert not leaked, f"frames that {counter} should have dropped were delivered: {leaked}"

    # A tag cut short: Linux drops such a frame itself when a veth receives it (it pulls the tag
    # out before any packet socket sees the frame), so it is written into the bridge's local port,
    # a TAP device whose transmissions the switch reads unchanged.
    assert os.path.exists(f"/sys/class/net/{br}"), f"the local port {br} of bridge {br} is not a netdev"
    before = d.coverage()
    tag = marker()
    runt = mac_bytes(BROADCAST) + mac_bytes("02:00:00:00:0b:ad") + bytes([0x81, 0x00, 0x00])
    caps = {h.ns: host_capture(h, mac_bytes("02:00:00:00:0b:ad"), seconds=4).start() for h in (a10, b10, a20, t)}
    assert send_raw(br, [runt] * n) == n
    got_count = _wait_counter(d, before, "drop_truncated_vlan", n)
    got = _sent_to(caps)
    assert got_count == n, f"drop_truncated_vlan counted {got_count} of {n}: {d.coverage()}"
    assert not any(got.values()), f"truncated-tag frames were delivered: {got}"

    # Nothing else was disturbed.
    rcs = ping_matrix([(a10, b10.ip), (b10, a10.ip)])
    assert all(rc == 0 for rc in rcs.values()), rcs


# -- vsctl ------------------------------------------------------------------------------------------
def test_vlan_columns_through_vsctl(vswitchd, topo):
    """get/set/clear/list on Port tag, trunks, vlan_mode in ovs-vsctl syntax, show, and the
    Interface status columns."""
    d = vswitchd
    br = _bridge(d)
    p, _ = topo.add_link_pair()
    d.vsctl_ok("add-port", br, p, "tag=10")
    assert d.vsctl_ok("get", "port", p, "tag", "trunks", "vlan_mode") == "10\n[]\n[]\n"
    d.vsctl_ok("set", "port", p, "trunks=10,20", "vlan_mode=native-untagged")
    assert d.vsctl_ok("get", "port", p, "trunks", "vlan_mode") == "[10, 20]\nnative-untagged\n"
    d.vsctl_ok("set", "port", p, "trunks=[30,40]")
    assert d.vsctl_ok("get", "port", p, "trunks") == "[30, 40]\n"
    assert d.vsctl_json("get", "port", p, "trunks") == [30, 40]
    show = d.vsctl_ok("show")
    assert (f"    Port {p}\n        tag: 10\n        trunks: [30, 40]\n        vlan_mode: native-untagged\n"
            f"        Interface {p}\n") in show, show
    listed = d.vsctl_ok("list", "port", p)
    for line in ("tag                 : 10", "trunks              : [30, 40]",
                 "vlan_mode           : native-untagged", f"interfaces          : [{p}]"):
        assert line in listed.splitlines(), listed
    d.vsctl_ok("clear", "port", p, "tag")
    assert d.vsctl_ok("get", "port", p, "tag") == "[]\n"
    d.vsctl_ok("clear", "port", p, "trunks", "vlan_mode")
    assert d.vsctl_ok("get", "port", p, "tag", "trunks", "vlan_mode") == "[]\n[]\n[]\n"
    show = d.vsctl_ok("show")
    assert f"    Port {p}\n        Interface {p}\n" in show, "unset VLAN columns must not be shown:\n" + show
    cfg = d.committed_config()
    port = cfg["bridges"][br]["ports"][p]
    assert (port["tag"], port["trunks"], port["vlan_mode"]) == (None, [], None), port

    # Interface status columns, compared with the kernel's view of the netdev.
    sysfs = f"/sys/class/net/{p}"
    got = d.vsctl_ok("get", "interface", p, "type", "error", "mtu", "mac_in_use").splitlines()
    assert got[:3] == ["system", "[]", open(f"{sysfs}/mtu").read().strip()], got
    assert got[3].strip('"') == open(f"{sysfs}/address").read().strip(), got
    stats = d.vsctl_json("get", "interface", p, "statistics")
    assert set(stats) >= {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_dropped", "tx_dropped"}, stats
    rec = d.vsctl_json("list", "interface", p)[0]
    assert rec["name"] == p and rec["type"] == "system" and rec["error"] is None and rec["ofport"] >= 1, rec


BAD_VLAN = [
    # id, setting, words the message must contain
    ("tag-5000", "tag=5000", ["tag", "5000", "0..4095"]),
    ("tag-minus-1", "tag=-1", ["tag", "-1", "0..4095"]),
    ("tag-word", "tag=ten", ["tag", "ten"]),
    ("trunks-word", "trunks=10,abc", ["trunks", "abc"]),
    ("trunks-4096", "trunks=[10,4096]", ["trunks", "4096"]),
    ("trunks-empty-element", "trunks=10,,20", ["trunks"]),
    ("mode-unknown", "vlan_mode=hybrid", ["vlan_mode", "hybrid", "native-untagged"]),
]


@pytest.mark.parametrize("setting,words", [b[1:] for b in BAD_VLAN], ids=[b[0] for b in BAD_VLAN])
def test_vsctl_refuses_bad_vlan_settings(vswitchd, topo, setting, words):
    d = vswitchd
    br = _bridge(d)
    p, _ = topo.add_link_pair()
    d.vsctl_ok("add-port", br, p, "tag=10", "--", "set", "port", p, "trunks=10,20")
    before = (d.config_bytes(), d.vsctl_ok("list", "port", p), d.vsctl_json("show"))
    # Alone, and after a valid change in the same transaction (which must not happen either).
    for argv in (["set", "port", p, setting], ["set", "port", p, "other_config:x=y", setting]):
        r = d.vsctl(*argv)
        assert r.rc == 1, f"vsctl {argv} must fail:\n{r}"
        assert r.err.startswith("vsctl: "), r
        for w in words:
            assert w in r.err, f"error for {setting!r} does not name {w!r}:\n{r}"
        after = (d.config_bytes(), d.vsctl_ok("list", "port", p), d.vsctl_json("show"))
        assert after == before, f"failed vsctl {argv} changed the configuration"
