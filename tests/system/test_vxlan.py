"""VXLAN tunnels (RFC 7348) between hosts, each host a network namespace with its own vswitchd:
overlays of containers across an underlay (192.0.2.0/24, a Linux bridge in a namespace), TCP
with offloads on, a full mesh without broadcast storms (split horizon), tenants kept apart by VNI
(VLAN -> VNI), interoperation with the Linux kernel's VXLAN device, the tunnel MTU and ICMP
"fragmentation needed", options on the wire and in the error column, and malformed or foreign
VXLAN datagrams (counted, never delivered). See docs/tunnels.md. Helpers: lib/overlay.py.
"""
from __future__ import annotations

import time

import pytest
from scapy.layers.l2 import Ether
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw

from lib import daemon as daemon_mod
from lib.overlay import UNDERLAY_PREFIX, VXLAN_OVERHEAD, Overlay, VtepHost, send_udp
from lib.proc import run
from lib.traffic import iperf3, marker, ping, send_frames, Sniffer
from lib.vlan import (BROADCAST, ETH_LOCAL_EXPERIMENTAL, Capture, eth_frame, ping_matrix,
                      wait_until)

VSOFCTL = daemon_mod.BUILD / "utilities" / "vsofctl"
C_SUBNET = "10.231.40"        # containers (inside their namespaces only)
VNI = 42
MIN_TCP_BPS = 100e6           # measured ~0.5-1 Gbit/s through one tunnel; a broken path is ~0
DROP_COUNTERS = ("drop_vxlan_short", "drop_vxlan_no_iflag",
                 "drop_vxlan_unknown_vni", "drop_vxlan_unknown_remote")

pytestmark = pytest.mark.slow


@pytest.fixture
def overlay():
    ov = Overlay()
    yield ov
    left = ov.cleanup()
    assert not left, f"could not remove test namespaces: {left}"


# -- helpers ------------------------------------------------------------------------------------
def two_hosts(ov: Overlay, vni: int = VNI, **container_kw):
    """h1, h2 joined by one VXLAN port each (vx2 on h1, vx1 on h2), one container on each."""
    h1, h2 = ov.add_host(), ov.add_host()
    ov.mesh([h1, h2], vni)
    c1 = ov.add_container(h1, f"{C_SUBNET}.1", **container_kw)
    c2 = ov.add_container(h2, f"{C_SUBNET}.2", **container_kw)
    return h1, h2, c1, c2


def assert_tcp(client, server, what: str) -> float:
    r = iperf3(client, server, seconds=3)
    assert r["error"] is None and r["bytes"] > 0, f"{what}: TCP failed: {r['error']}\n{r['raw']}"
    assert r["bps"] >= MIN_TCP_BPS, f"{what}: TCP only {r['bps'] / 1e6:.1f} Mbit/s"
    return r["bps"]


def vxlan_of(frame: bytes) -> dict | None:
    """Outer IPv4/UDP and VXLAN fields of a captured underlay frame (no VLAN tag), or None."""
    if len(frame) < 14 + 20 + 8 + 8 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    udp = 14 + ihl
    vx = udp + 8
    inner = frame[vx + 8:]
    return {"tos": frame[15], "ttl": frame[22], "src": ".".join(map(str, frame[26:30])),
            "dst": ".".join(map(str, frame[30:34])),
            "sport": int.from_bytes(frame[udp:udp + 2], "big"),
            "dport": int.from_bytes(frame[udp + 2:udp + 4], "big"),
            "flags": frame[vx], "vni": int.from_bytes(frame[vx + 4:vx + 7], "big"),
            "inner_type": int.from_bytes(inner[12:14], "big") if len(inner) >= 14 else None}


def capture_ul(h: VtepHost, needle: bytes, seconds: float = 4) -> Capture:
    return Capture(h.ul, needle, ns=h.ns, seconds=seconds)


def broadcast(src, payload: bytes) -> bytes:
    """A broadcast frame of the local experimental EtherType (no host stack reacts to it)."""
    return eth_frame(src.mac, BROADCAST, payload)


def drop_counters(h: VtepHost) -> dict[str, int]:
    cov = h.coverage()
    return {k: cov.get(k, 0) for k in DROP_COUNTERS}


# -- tests --------------------------------------------------------------------------------------
def test_two_hosts_ping_and_tcp_both_ways(overlay):
    h1, h2, c1, c2 = two_hosts(overlay)
    r = ping(c1, c2.ip)
    assert r.rc == 0, f"container on host 1 cannot ping container on host 2 over VXLAN:\n{r}"
    r = ping(c2, c1.ip)
    assert r.rc == 0, f"container on host 2 cannot ping container on host 1 over VXLAN:\n{r}"

    # Offloads on (the veth default): TSO super-frames are segmented for the tunnel.
    assert c1.offloads().get("tcp-segmentation-offload") == "on"
    assert_tcp(c1, c2, "host 1 -> host 2")
    assert_tcp(c2, c1, "host 2 -> host 1")
    # The fast paths were taken: one UDP GSO send per TSO frame (never refused and split), and
    # the receiving switch merged the segments back into GSO super-frames (docs/tunnels.md).
    for h in (h1, h2):
        cov = h.coverage()
        assert cov.get("tunnel_tx_gso_fallback", 0) == 0, f"{h.ns}: UDP GSO sends refused: {cov}"
        assert cov.get("tunnel_rx_gro_merged", 0) > 1000, f"{h.ns}: received segments not merged: {cov}"


def test_tunnel_interface_statistics(overlay):
    """`vsctl get interface VX statistics` counts what the tunnel carried, both directions."""
    h1, h2, c1, c2 = two_hosts(overlay)
    r = c1.exec(["ping", "-n", "-q", "-c", "20", "-i", "0.05", "-s", "1000", "-w", "5", c2.ip])
    assert r.rc == 0, r
    for h, port in ((h1, "vx2"), (h2, "vx1")):
        st = h.iface_stats(port)
        assert st.get("tx_packets", 0) >= 20 and st.get("tx_bytes", 0) >= 20 * 1000, \
            f"{port} on {h.ns}: transmit counters after 20 pings each way: {st}"
        assert st.get("rx_packets", 0) >= 20 and st.get("rx_bytes", 0) >= 20 * 1000, \
            f"{port} on {h.ns}: receive counters after 20 pings each way: {st}"


def test_full_mesh_pings_and_one_copy_of_a_broadcast(overlay):
    hosts = [overlay.add_host() for _ in range(3)]
    ports = overlay.mesh(hosts, VNI)
    cs = [overlay.add_container(h, f"{C_SUBNET}.{i + 1}") for i, h in enumerate(hosts)]
    for h in hosts:
        v = h.daemon.vsctl_ok("--if-exists", "get", "bridge", h.bridge,
                              "other_config:tunnel-split-horizon")
        assert v.strip() == "", f"tunnel-split-horizon should be unset (default: on), is {v!r}"

    pairs = [(a, b.ip) for a in cs for b in cs if a is not b]
    rcs = ping_matrix(pairs)
    assert rcs == {(a.ns, ip): 0 for a, ip in pairs}, f"mesh ping failures (rc != 0): {rcs}"

    # One broadcast from c1: every other container gets exactly one copy, c1 none back, and it
    # leaves host 1 once per peer and reaches the other hosts once each (never relayed on).
    tag = marker()
    snif = [Sniffer(c, tag, seconds=4) for c in cs]
    caps = [capture_ul(h, tag, seconds=4) for h in hosts]
    for s in snif:
        s.start()
    for c in caps:
        c.start()
    send_frames(cs[0], [broadcast(cs[0], tag)])
    got = [s.stop(grace=1.5)["matched"] for s in snif]
    wire = [[f for f in c.stop(grace=0) if vxlan_of(f.raw)] for c in caps]
    assert got == [0, 1, 1], f"copies of one broadcast received by c1, c2, c3: {got}"
    out1 = sorted(vxlan_of(f.raw)["dst"] for f in wire[0] if f.outgoing)
    assert out1 == sorted([hosts[1].ip, hosts[2].ip]) and all(f.outgoing for f in wire[0]), \
        f"host 1 underlay: expected one copy to each peer, saw {wire[0]}"
    for i in (1, 2):
        assert [(f.outgoing, vxlan_of(f.raw)["vni"]) for f in wire[i]] == [(False, VNI)], \
            f"host {i + 1} underlay: expected one copy in and none relayed, saw {wire[i]}"

    # No storm: the hosts' underlay and tunnel receive counters stand still afterwards.
    def rx_counts():
        return [h.ul_counter("rx_packets") for h in hosts] + \
            [hosts[i].iface_stats(p).get("rx_packets", 0) for (i, _), p in ports.items()]
    before = rx_counts()
    time.sleep(2)
    after = rx_counts()
    growth = [b - a for a, b in zip(before, after)]
    assert max(growth) <= 5, f"receive counters kept growing after one broadcast: {growth}"


def test_vni_per_tenant_vlan_isolation(overlay):
    """Tenant A: VLAN 10 on each host <-> VNI 100; tenant B: VLAN 20 <-> VNI 200. All four
    containers share one IP subnet, so only the switch keeps the tenants apart."""
    h1, h2 = overlay.add_host(), overlay.add_host()
    for h, peer in ((h1, h2), (h2, h1)):
        overlay.add_vxlan(h, "vxa", peer, 100, "tag=10")
        overlay.add_vxlan(h, "vxb", peer, 200, "tag=20")
    a1 = overlay.add_container(h1, f"{C_SUBNET}.1", "tag=10")
    b1 = overlay.add_container(h1, f"{C_SUBNET}.3", "tag=20")
    a2 = overlay.add_container(h2, f"{C_SUBNET}.2", "tag=10")
    b2 = overlay.add_container(h2, f"{C_SUBNET}.4", "tag=20")

    want = {(a1.ns, a2.ip): 0, (a2.ns, a1.ip): 0, (b1.ns, b2.ip): 0, (b2.ns, b1.ip): 0,
            (a1.ns, b2.ip): 1, (a1.ns, b1.ip): 1, (b1.ns, a2.ip): 1, (b2.ns, a2.ip): 1,
            (a2.ns, b1.ip): 1, (b2.ns, a1.ip): 1}
    by_ns = {c.ns: c for c in (a1, a2, b1, b2)}
    rcs = ping_matrix([(by_ns[ns], ip) for ns, ip in want])
    assert rcs == want, f"tenant reachability (0 = reachable) differs: got {rcs}"

    # Broadcasts stay in their tenant, and leave the host untagged with the tenant's VNI.
    for src, same, others, vni in ((a1, a2, (b1, b2), 100), (b1, b2, (a1, a2), 200)):
        tag = marker()
        sn = {c.ns: Sniffer(c, tag, seconds=4).start() for c in (same, *others)}
        cap = capture_ul(h1, tag).start()
        send_frames(src, [broadcast(src, tag)])
        got = {ns: s.stop(grace=1.5)["matched"] for ns, s in sn.items()}
        wire = [vxlan_of(f.raw) for f in cap.stop(grace=0)]
        assert got == {same.ns: 1, others[0].ns: 0, others[1].ns: 0}, \
            f"broadcast of tenant VNI {vni}: copies per container {got}"
        assert [(w["vni"], w["inner_type"]) for w in wire if w] == \
            [(vni, ETH_LOCAL_EXPERIMENTAL)], \
            f"broadcast of tenant VNI {vni} on host 1's underlay (want one, untagged): {wire}"


@pytest.mark.parametrize("kernel_tx_csum", ["on", "off"])
def test_interop_with_linux_kernel_vxlan(overlay, kernel_tx_csum):
    """Host 1 runs vswitchd; host K runs the kernel's VXLAN device in a Linux bridge with its
    container. With "on" every veth keeps its default offloads: over a veth underlay the kernel
    leaves the inner TCP/UDP checksum to "hardware" that never computes it (CHECKSUM_PARTIAL),
    and the switch must recognise that state (docs/tunnels.md). "off" is the workaround that
    used to be required (tx checksumming off on host K's underlay)."""
    h1 = overlay.add_host()
    k = overlay.add_host(switch=False)
    overlay.add_vxlan(h1, "vxk", k, VNI)
    c1 = overlay.add_container(h1, f"{C_SUBNET}.1")
    ck = overlay.add_container(k, f"{C_SUBNET}.2", on_switch=False)
    setup = [["ip", "link", "add", "vx0", "type", "vxlan", "id", VNI, "remote", h1.ip,
              "local", k.ip, "dstport", 4789],
             ["ip", "link", "add", "br0", "type", "bridge"],
             ["ip", "link", "set", "vx0", "master", "br0"],
             ["ip", "link", "set", ck.sw_port, "master", "br0"],
             ["ip", "link", "set", "vx0", "up"], ["ip", "link", "set", "br0", "up"]]
    if kernel_tx_csum == "off":
        setup.append(["ethtool", "-K", k.ul, "tx", "off"])
    for cmd in setup:
        r = k.exec(*cmd)
        assert r.rc == 0, f"kernel host setup {cmd} failed:\n{r}"
    if kernel_tx_csum == "on":
        assert ck.offloads().get("tx-checksumming") == "on"
        assert c1.offloads().get("tcp-segmentation-offload") == "on"

    r = ping(c1, ck.ip)
    assert r.rc == 0, f"vswitch container -> kernel VXLAN container ping failed:\n{r}"
    r = ping(ck, c1.ip)
    assert r.rc == 0, f"kernel VXLAN container -> vswitch container ping failed:\n{r}"
    assert_tcp(c1, ck, "vswitch -> kernel VXLAN")
    assert_tcp(ck, c1, "kernel VXLAN -> vswitch")


def test_tunnel_mtu_icmp_frag_needed_and_pmtu_discovery(overlay):
    """Container MTU 1500 over a 1500-byte underlay: the tunnel carries inner IP packets of at
    most 1500 - 50 = 1450 bytes; DF packets above that get ICMP fragmentation-needed."""
    h1, h2, c1, c2 = two_hosts(overlay, mtu=1500)
    assert h1.exec("cat", f"/sys/class/net/{h1.ul}/mtu").out.strip() == "1500"
    inner_mtu = 1500 - VXLAN_OVERHEAD
    assert ping(c1, c2.ip).rc == 0

    # TCP from c1 on a fresh path (c2's SYN-ACK offers MSS 1460): segments of 1500 bytes are
    # refused with fragmentation-needed, c1 learns the path MTU and the transfer goes on.
    frag1 = h1.coverage().get("tunnel_icmp_frag_needed", 0)
    assert_tcp(c1, c2, "host 1 -> host 2 with MTU 1500 containers")
    assert h1.coverage().get("tunnel_icmp_frag_needed", 0) > frag1, \
        "TCP with 1460-byte segments crossed without any fragmentation-needed (tunnel MTU?)"
    r = c1.exec(["ip", "route", "get", c2.ip])
    assert f"mtu {inner_mtu}" in r.out, f"c1 did not learn the path MTU {inner_mtu}:\n{r}"

    # From c2 (no path MTU learnt yet): a 1472 + 28 = 1500-byte DF ping gets "Frag needed"
    # naming 1450, and fails.
    frag2 = h2.coverage().get("tunnel_icmp_frag_needed", 0)
    r = c2.exec(["ping", "-n", "-M", "do", "-s", "1472", "-c", "2", "-i", "0.3", "-w", "3",
                 c1.ip], timeout=15)
    assert r.rc != 0, f"a 1500-byte DF ping crossed a tunnel whose inner MTU is {inner_mtu}:\n{r}"
    assert "Frag needed" in r.out and f"mtu = {inner_mtu}" in r.out, \
        f"no ICMP fragmentation-needed with mtu {inner_mtu} reached the sender:\n{r}"
    assert h2.coverage().get("tunnel_icmp_frag_needed", 0) > frag2

    # 1400 + 28 fits.
    r = c2.exec(["ping", "-n", "-M", "do", "-s", "1400", "-c", "3", "-i", "0.2", "-w", "4",
                 c1.ip], timeout=15)
    assert r.rc == 0, f"a 1428-byte DF ping failed:\n{r}"
    # Without DF the big packet crosses (the outer packet is fragmented on the underlay).
    r = c2.exec(["ping", "-n", "-M", "dont", "-s", "1472", "-c", "3", "-i", "0.2", "-w", "4",
                 c1.ip], timeout=15)
    assert r.rc == 0, f"a 1500-byte ping without DF did not cross the tunnel:\n{r}"


def test_options_on_the_wire_and_bad_options(overlay):
    h1, h2 = overlay.add_host(), overlay.add_host()
    opts = dict(dst_port=4790, tos=0x20, ttl=7, local_ip=h1.ip)
    overlay.add_vxlan(h1, "vx2", h2, 5000, **opts)
    overlay.add_vxlan(h2, "vx1", h1, 5000, dst_port=4790, local_ip=h2.ip)
    c1 = overlay.add_container(h1, f"{C_SUBNET}.1")
    c2 = overlay.add_container(h2, f"{C_SUBNET}.2")
    tag = marker()
    cap = capture_ul(h1, tag).start()
    assert ping(c1, c2.ip).rc == 0, "ping over a tunnel on UDP port 4790 failed"
    send_frames(c1, [broadcast(c1, tag)])
    wire = [(vxlan_of(f.raw), f.outgoing) for f in cap.stop()]
    assert len(wire) == 1 and wire[0][1], f"one encapsulated copy expected on h1's underlay: {wire}"
    w = wire[0][0]
    assert (w["src"], w["dst"], w["dport"], w["tos"], w["ttl"], w["flags"], w["vni"]) == \
        (h1.ip, h2.ip, 4790, 0x20, 7, 0x08, 5000), f"outer headers: {w}"
    assert w["sport"] >= 1024, f"outer UDP source port {w['sport']} (RFC 7348: from a hash)"

    d = h1.daemon
    for name, options, needle in (
            ("vxbad1", ["options:remote_ip=192.0.2.2", "options:key=16777216"], "key"),
            ("vxbad2", ["options:key=7"], "remote_ip"),
            ("vxbad3", ["options:remote_ip=192.0.2.300"], "remote_ip"),
            ("vxbad4", ["options:remote_ip=192.0.2.2", "options:colour=blue"], "colour"),
            ("vxbad5", ["options:remote_ip=192.0.2.2", "options:dst_port=0"], "dst_port")):
        r = d.vsctl("add-port", h1.bridge, name, "--", "set", "interface", name, "type=vxlan",
                    *options)
        assert r.rc == 1 and needle in r.err, \
            f"vsctl with {options}: want exit 1 naming {needle}:\n{r}"
        err = d.vsctl_ok("get", "interface", name, "error")
        assert needle in err, f"{name} ({options}): error column {err!r} does not name {needle}"
    # A UDP port held by someone else (here a kernel VXLAN device) is reported, not fatal.
    for cmd in (["ip", "link", "add", "kvx", "type", "vxlan", "id", 9, "dstport", 4791,
                 "local", h1.ip], ["ip", "link", "set", "kvx", "up"]):
        assert h1.exec(*cmd).rc == 0
    r = d.vsctl("add-port", h1.bridge, "vxbusy", "--", "set", "interface", "vxbusy", "type=vxlan",
                f"options:remote_ip={h2.ip}", "options:dst_port=4791")
    assert r.rc == 1 and "4791" in r.err and "in use" in r.err, r
    assert "4791" in d.vsctl_ok("get", "interface", "vxbusy", "error")
    # The good tunnel is unaffected.
    assert ping(c1, c2.ip).rc == 0, "good tunnel broken by bad sibling ports"


def test_tunnels_with_and_without_local_ip_on_one_switch(overlay):
    """One tunnel pinned to a local address, another left to routing: both receive."""
    h1, h2, h3 = (overlay.add_host() for _ in range(3))
    overlay.add_vxlan(h1, "vx2", h2, VNI)
    overlay.add_vxlan(h1, "vx3", h3, VNI, local_ip=h1.ip)
    overlay.add_vxlan(h2, "vx1", h1, VNI)
    overlay.add_vxlan(h3, "vx1", h1, VNI)
    c1, c2, c3 = (overlay.add_container(h, f"{C_SUBNET}.{i + 1}")
                  for i, h in enumerate((h1, h2, h3)))
    rcs = ping_matrix([(c1, c2.ip), (c1, c3.ip)])
    assert rcs == {(c1.ns, c2.ip): 0, (c1.ns, c3.ip): 0}, f"pings from host 1's container: {rcs}"


def test_reconfigured_tunnel_keeps_working(overlay):
    """`vsctl set interface VX options:...` on a live tunnel (the switch's only one): no error,
    and traffic follows the new remote / key at once."""
    h1, h2, h3 = (overlay.add_host() for _ in range(3))
    overlay.add_vxlan(h1, "vx", h2, VNI)
    overlay.add_vxlan(h2, "vx", h1, VNI)
    overlay.add_vxlan(h3, "vx", h1, VNI)
    c1, c2, c3 = (overlay.add_container(h, f"{C_SUBNET}.{i + 1}")
                  for i, h in enumerate((h1, h2, h3)))
    assert ping_matrix([(c1, c2.ip), (c1, c3.ip)]) == {(c1.ns, c2.ip): 0, (c1.ns, c3.ip): 1}

    def reconfigure(h: VtepHost, setting: str) -> None:
        r = h.daemon.vsctl("set", "interface", "vx", setting)
        err = h.daemon.vsctl_ok("get", "interface", "vx", "error").strip()
        assert r.rc == 0 and err == "[]", \
            f"set interface vx {setting} on {h.ns}: exit {r.rc} {r.err.strip()!r}, " \
            f"error column {err}"

    reconfigure(h1, f"options:remote_ip={h3.ip}")
    for c in (c1, c2, c3):
        c.exec(["ip", "neigh", "flush", "dev", "eth0"])
    rcs = ping_matrix([(c1, c2.ip), (c1, c3.ip)])
    assert rcs == {(c1.ns, c2.ip): 1, (c1.ns, c3.ip): 0}, f"after remote_ip -> host 3: {rcs}"
    for key in (VNI + 1, VNI + 2, VNI + 3):
        reconfigure(h1, f"options:key={key}")
        reconfigure(h3, f"options:key={key}")
        r = ping(c1, c3.ip, count=2)
        assert r.rc == 0, f"no traffic after both ends moved to key {key}:\n{r}"


def test_bad_vxlan_datagrams_are_counted_and_not_delivered(overlay):
    h1, h2, c1, c2 = two_hosts(overlay)
    assert ping(c1, c2.ip).rc == 0
    foreign_ip = f"{overlay.prefix}.99"
    foreign = overlay.add_bystander(foreign_ip)

    base = marker()

    def inner(kind: str) -> bytes:
        return bytes(Ether(src="02:00:00:00:99:01", dst=BROADCAST, type=ETH_LOCAL_EXPERIMENTAL)
                     / Raw(base + b"-" + kind.encode() + b"-" + b"x" * 32))
    bad = {   # counter -> (sender namespace, sender address, datagrams)
        "drop_vxlan_short": (h2.ns, h2.ip, [bytes(VXLAN(vni=VNI)) + inner("short")[:10],
                                            bytes(VXLAN(vni=VNI))[:4]]),
        "drop_vxlan_no_iflag": (h2.ns, h2.ip, [bytes(VXLAN(flags=0, vni=VNI)) + inner("noi")] * 2),
        "drop_vxlan_unknown_vni": (h2.ns, h2.ip, [bytes(VXLAN(vni=VNI + 1)) + inner("vni")] * 2),
        "drop_vxlan_unknown_remote": (foreign, foreign_ip,
                                      [bytes(VXLAN(vni=VNI)) + inner("rem")] * 2),
    }
    good = bytes(VXLAN(vni=VNI)) + inner("good")
    # Reserved bits are ignored on receipt (RFC 7348 section 5): a VXLAN-GBP sender's group policy
    # ID, other flag bits, the last byte. Delivered, and counted as such.
    reserved = [bytes(VXLAN(flags=0x88, reserved1=0x1234, vni=VNI)) + inner("gbp"),
                bytes(VXLAN(flags=0x0C, vni=VNI)) + inner("r1"),
                bytes(VXLAN(vni=VNI, reserved2=1)) + inner("r2")]
    ignored_before = h1.coverage().get("vxlan_reserved_ignored", 0)

    before = drop_counters(h1)
    cap = Capture("eth0", base, ns=c1.ns, seconds=6).start()
    for ns, src, dgrams in bad.values():
        assert send_udp(ns, src, h1.ip, 4789, dgrams) == len(dgrams)
    # Control: the same inner frame in a valid datagram from the known VTEP is delivered.
    assert send_udp(h2.ns, h2.ip, h1.ip, 4789, [good]) == 1
    assert send_udp(h2.ns, h2.ip, h1.ip, 4789, reserved) == len(reserved)
    want = {k: before[k] + len(v[2]) for k, v in bad.items()}
    wait_until(lambda: drop_counters(h1) == want, timeout=3)
    seen = [f.raw for f in cap.stop() if not f.outgoing]
    after = drop_counters(h1)
    assert after == want, f"drop counters on host 1: before {before}, after {after}, want {want}"
    delivered = sorted(raw[raw.find(base):raw.find(base) + len(base) + 5] for raw in seen)
    want_seen = sorted(base + x for x in (b"-good", b"-gbp-", b"-r1-x", b"-r2-x"))
    assert delivered == want_seen, \
        f"container on host 1 received {delivered} (only the valid datagrams may arrive)"
    assert h1.coverage().get("vxlan_reserved_ignored", 0) == ignored_before + len(reserved)


# -- flow-based tunnels with NORMAL ---------------------------------------------------------------
def flow_hub(ov: Overlay, **vxf_options):
    """Host 1 has one VXLAN port `vxf` with remote_ip=flow (key VNI), NORMAL and no flow rules of
    its own; hosts 2 and 3 each have an ordinary VXLAN port `vx1` to host 1. A container on each.
    Returns the hosts and containers."""
    hosts = [ov.add_host() for _ in range(3)]
    ov.add_vxlan(hosts[0], "vxf", "flow", VNI, **vxf_options)
    for h in hosts[1:]:
        ov.add_vxlan(h, "vx1", hosts[0], VNI)
    cs = [ov.add_container(h, f"{C_SUBNET}.{i + 1}") for i, h in enumerate(hosts)]
    return hosts, cs


def fdb_vteps(h: VtepHost, port: str) -> dict[str, str | None]:
    """MAC -> remote VTEP of the FDB entries on `port` of h's bridge."""
    entries = h.daemon.vsappctl_json("fdb/show", h.bridge)["entries"]
    return {e["mac"]: e.get("remote_vtep") for e in entries if e["port"] == port}


def assert_pings(pairs, what: str) -> None:
    for src, dst in pairs:
        r = ping(src, dst.ip)
        assert r.rc == 0, f"{what}: {src.ip} cannot ping {dst.ip}:\n{r}"


def test_flow_based_port_learns_remote_vteps_with_normal(overlay):
    hosts, (c1, c2, c3) = flow_hub(overlay)
    h1 = hosts[0]
    r = run([VSOFCTL, "--socket", str(h1.daemon.socket), "dump-flows", h1.bridge])
    assert r.rc == 0 and "NORMAL" in r.out and "tun" not in r.out, f"host 1's rules:\n{r}"

    # The remote hosts speak first: host 1 learns their MACs with their VTEPs and answers them.
    assert_pings([(c2, c1), (c3, c1), (c1, c2), (c1, c3)], "flow-based port, learning")
    vteps = fdb_vteps(h1, "vxf")
    assert vteps.get(c2.mac) == hosts[1].ip and vteps.get(c3.mac) == hosts[2].ip, \
        f"fdb of host 1 should name each remote container's VTEP: {vteps}"
    text = h1.daemon.vsappctl("fdb/show", h1.bridge).out
    assert f"remote_vtep={hosts[1].ip}" in text, f"fdb/show text lacks the VTEP:\n{text}"

    # Broadcast ARP from host 1 reaches both VTEPs it knows: flush c1's neighbours and ping again.
    c1.exec(["ip", "neigh", "flush", "all"])
    assert_pings([(c1, c2), (c1, c3)], "flow-based port, ARP after a neighbour flush")

    # One broadcast from c1: one copy per remote container, one datagram per VTEP, none back.
    tag = marker()
    snif = [Sniffer(c, tag, seconds=4).start() for c in (c1, c2, c3)]
    cap = capture_ul(h1, tag).start()
    send_frames(c1, [broadcast(c1, tag)])
    got = [s.stop(grace=1.5)["matched"] for s in snif]
    wire = [vxlan_of(f.raw) for f in cap.stop(grace=0) if vxlan_of(f.raw)]
    assert got == [0, 1, 1], f"copies of one broadcast received by c1, c2, c3: {got}"
    assert sorted((w["dst"], w["vni"]) for w in wire) == \
        sorted([(hosts[1].ip, VNI), (hosts[2].ip, VNI)]), f"host 1 underlay: {wire}"

    # Megaflows from the tunnel match the outer source; those from the container's port do not.
    assert_pings([(c2, c1)], "refreshing the megaflows")
    flows = h1.daemon.vsappctl("dpif/dump-flows").out
    assert f"src={hosts[1].ip}" in flows, f"no megaflow matches tun_src:\n{flows}"
    matches = [l.split(", packets:")[0] for l in flows.splitlines()]
    from_c1 = [m for m in matches if f"src={c1.mac}" in m]
    assert from_c1 and not [m for m in from_c1 if "tunnel(" in m], \
        f"megaflows from the container's port should not match tunnel fields:\n{flows}"


def test_flow_based_port_icmp_frag_needed(overlay):
    """A flow-based port knows the path MTU per remote VTEP: a DF packet too big for the tunnel
    towards c2's VTEP gets ICMP fragmentation-needed, which comes back as if from c2 behind that
    VTEP (c2's FDB entry keeps its VTEP)."""
    hosts, (c1, c2, c3) = flow_hub(overlay)
    h1 = hosts[0]
    inner_mtu = 1500 - VXLAN_OVERHEAD
    assert_pings([(c2, c1), (c1, c2)], "flow-based port")
    frag = h1.coverage().get("tunnel_icmp_frag_needed", 0)
    r = c1.exec(["ping", "-n", "-M", "do", "-s", "1472", "-c", "2", "-i", "0.3", "-w", "3", c2.ip],
                timeout=15)
    assert r.rc != 0 and "Frag needed" in r.out and f"mtu = {inner_mtu}" in r.out, \
        f"no ICMP fragmentation-needed with mtu {inner_mtu} from the flow-based port:\n{r}"
    assert h1.coverage().get("tunnel_icmp_frag_needed", 0) > frag
    assert fdb_vteps(h1, "vxf").get(c2.mac) == hosts[1].ip, \
        f"the ICMP moved c2's MAC off its VTEP: {fdb_vteps(h1, 'vxf')}"
    r = c1.exec(["ping", "-n", "-M", "do", "-s", "1400", "-c", "3", "-i", "0.2", "-w", "4", c2.ip],
                timeout=15)
    assert r.rc == 0, f"a 1428-byte DF ping through the flow-based port failed:\n{r}"


def test_flow_based_port_flood_remotes_and_bad_options(overlay):
    # flow_hub's hosts 2 and 3 get the underlay's .2 and .3.
    hosts, (c1, c2, c3) = flow_hub(overlay, flood_remotes=f"{UNDERLAY_PREFIX}.2,{UNDERLAY_PREFIX}.3")
    # Host 1 speaks first: its ARP requests go to the static list, nothing was learned yet.
    assert_pings([(c1, c2), (c1, c3), (c2, c1), (c3, c1)], "flow-based port with flood_remotes")

    h1 = hosts[0]
    for opts, msg in ((["options:remote_ip=flow", "options:flood_remotes=192.0.2.300"],
                       "invalid flood_remotes '192.0.2.300'"),
                      (["options:remote_ip=192.0.2.2", "options:flood_remotes=192.0.2.3"],
                       "option flood_remotes requires remote_ip=flow"),
                      (["options:remote_ip=flow", "options:key=flow", "options:flood_remotes=192.0.2.3"],
                       "option flood_remotes requires a fixed key")):
        r = h1.daemon.vsctl("add-port", h1.bridge, "vxbad", "--", "set", "interface", "vxbad",
                            "type=vxlan", *opts)
        assert r.rc == 1 and msg in r.err, f"{opts}: expected {msg!r}:\n{r}"
        err = h1.daemon.vsctl_ok("get", "interface", "vxbad", "error")
        assert msg in err, f"error column for {opts}: {err}"
        h1.daemon.vsctl_ok("del-port", h1.bridge, "vxbad")
    assert_pings([(c1, c2)], "after refused options")


def test_flow_based_port_follows_a_mac_moving_between_vteps(overlay):
    hosts, (c1, c2, c3) = flow_hub(overlay)
    h1, h2, h3 = hosts
    m = overlay.add_container(h2, f"{C_SUBNET}.9")
    assert_pings([(m, c1), (c1, m)], "before the move")
    assert fdb_vteps(h1, "vxf").get(m.mac) == h2.ip

    # The "VM" moves: gone from host 2, back on host 3 with the same MAC and address; it speaks
    # first (as a migrated VM announces itself), then host 1 must send to host 3.
    check_rc = h2.exec("ip", "link", "del", m.sw_port)
    assert check_rc.rc == 0, check_rc
    m2 = overlay.add_container(h3, f"{C_SUBNET}.9", mac=m.mac)
    assert_pings([(m2, c1), (c1, m2)], "after the move")
    assert fdb_vteps(h1, "vxf").get(m.mac) == h3.ip, "the FDB entry follows the MAC to host 3"
