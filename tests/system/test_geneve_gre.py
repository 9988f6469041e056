"""Geneve (RFC 8926) and GRE (RFC 2784/2890, Ethernet payload) tunnels between two hosts, each a
network namespace with its own vswitchd, over the same underlay as test_vxlan.py: ping and TCP
both ways, with and without a key, and what goes on the wire. See docs/tunnels.md.
Peers here are our own switches; test_tunnel_ovs_peer.py has Open vSwitch as the far VTEP.
"""
from __future__ import annotations

import pytest

from lib.overlay import Overlay
from lib.traffic import iperf3, marker, ping, send_frames
from lib.vlan import BROADCAST, Capture, eth_frame

C_SUBNET = "10.231.41"
MIN_TCP_BPS = 50e6            # a broken path moves ~0

pytestmark = pytest.mark.slow


@pytest.fixture
def overlay():
    ov = Overlay()
    yield ov
    left = ov.cleanup()
    assert not left, f"could not remove test namespaces: {left}"


def two_hosts(ov: Overlay, tunnel_type: str, key):
    h1, h2 = ov.add_host(), ov.add_host()
    ov.add_vxlan(h1, "t2", h2, key, tunnel_type=tunnel_type)
    ov.add_vxlan(h2, "t1", h1, key, tunnel_type=tunnel_type)
    c1 = ov.add_container(h1, f"{C_SUBNET}.1")
    c2 = ov.add_container(h2, f"{C_SUBNET}.2")
    return h1, h2, c1, c2


@pytest.mark.parametrize("tunnel_type,key", [("geneve", 4242), ("geneve", None),
                                             ("gre", 305419896), ("gre", None)])
def test_ping_and_tcp_both_ways(overlay, tunnel_type, key):
    h1, h2, c1, c2 = two_hosts(overlay, tunnel_type, key)
    for a, b in ((c1, c2), (c2, c1)):
        r = ping(a, b.ip)
        assert r.rc == 0, f"{tunnel_type} key={key}: {a.ip} cannot ping {b.ip}:\n{r}"
    for a, b in ((c1, c2), (c2, c1)):
        r = iperf3(a, b, seconds=2)
        assert r["error"] is None and r["bps"] >= MIN_TCP_BPS, \
            f"{tunnel_type} key={key}: TCP {a.ip} -> {b.ip}: {r['error']} {r['bps'] / 1e6:.1f} Mbit/s"


@pytest.mark.parametrize("tunnel_type,key,want", [
    ("gre", 0x12345678, lambda g: g[0:4] == b"\x20\x00\x65\x58" and g[4:8] == bytes.fromhex("12345678")),
    ("gre", None, lambda g: g[0:4] == b"\x00\x00\x65\x58"),
    # Geneve: checked from the UDP header on (UDP 8 bytes, then version/opt len, flags, protocol, VNI).
    ("geneve", 0x0abcde, lambda u: u[8] == 0 and u[9] == 0 and u[10:12] == b"\x65\x58"
     and u[12:15] == bytes.fromhex("0abcde"))])
def test_headers_on_the_wire(overlay, tunnel_type, key, want):
    """What leaves h1's underlay for a broadcast: GRE protocol 0x6558 with the K bit and key only
    when a key is set; Geneve version 0, no options, protocol 0x6558 and the VNI."""
    h1, h2, c1, c2 = two_hosts(overlay, tunnel_type, key)
    tag = marker()
    cap = Capture(h1.ul, tag, ns=h1.ns, seconds=4).start()
    send_frames(c1, [eth_frame(c1.mac, BROADCAST, tag)])
    frames = [f.raw for f in cap.stop() if f.outgoing]
    assert len(frames) == 1, f"one encapsulated copy expected on h1's underlay, saw {len(frames)}"
    f = frames[0]
    assert f[12:14] == b"\x08\x00", f[:40].hex()
    ihl = (f[14] & 0x0F) * 4
    if tunnel_type == "gre":
        assert f[23] == 47, f"IP protocol {f[23]}, want 47 (GRE)"
        g = f[14 + ihl:]
    else:
        assert f[23] == 17, f"IP protocol {f[23]}, want 17 (UDP)"
        udp = f[14 + ihl:]
        assert int.from_bytes(udp[2:4], "big") == 6081, f"UDP port {int.from_bytes(udp[2:4], 'big')}"
        g = udp
    assert want(g), g[:24].hex()


def test_gre_ports_with_and_without_local_ip_deliver_once(overlay):
    """Two GRE ports on one host, one bound to the host's address (`local_ip`) and one not: each
    needs a raw socket of IP protocol 47, and the kernel hands every GRE packet to every raw
    socket that matches it. A frame from h2 must still reach c1 exactly once."""
    ov = overlay
    h1, h2, h3 = ov.add_host(), ov.add_host(), ov.add_host()
    ov.add_vxlan(h1, "g2", h2, 2, tunnel_type="gre", local_ip=h1.ip)
    ov.add_vxlan(h1, "g3", h3, 3, tunnel_type="gre")
    ov.add_vxlan(h2, "g1", h1, 2, tunnel_type="gre")
    ov.add_vxlan(h3, "g1", h1, 3, tunnel_type="gre")
    c1 = ov.add_container(h1, f"{C_SUBNET}.1")
    c2 = ov.add_container(h2, f"{C_SUBNET}.2")
    c3 = ov.add_container(h3, f"{C_SUBNET}.3")
    for c in (c2, c3):
        r = ping(c, c1.ip, count=5)
        assert r.rc == 0, f"{c.ip} cannot ping {c1.ip}:\n{r}"
        assert "DUP!" not in r.out, f"{c.ip} -> {c1.ip}: duplicated replies:\n{r.out}"
    rx = {p: h1.iface_stats(p)["rx_packets"] for p in ("g2", "g3")}
    r = ping(c2, c1.ip, count=10, interval=0.05)
    assert r.rc == 0 and "DUP!" not in r.out, r
    got = h1.iface_stats("g2")["rx_packets"] - rx["g2"]
    assert 10 <= got <= 12, f"g2 received {got} packets for 10 echo requests (duplicates?)"
    assert h1.iface_stats("g3")["rx_packets"] == rx["g3"], "g3 received frames meant for g2"
