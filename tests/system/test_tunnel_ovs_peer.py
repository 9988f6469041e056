"""Open vSwitch's userspace datapath as the far VTEP (issue #17): VXLAN, Geneve and GRE between a
host running our switch and a host running Debian's Open vSwitch, which implements all three
itself. Ping and TCP both ways, with and without a key, and Geneve with an option our switch
does not know (skipped and counted, the frame delivered). See docs/tunnels.md.
"""
from __future__ import annotations

import pytest

from lib import ovs as ovs_mod
from lib.overlay import Overlay
from lib.ovs_vtep import OvsVtep
from lib.traffic import iperf3, ping

C_SUBNET = "10.231.43"
OVS_UL_IP = "192.0.2.9"
MIN_TCP_BPS = 20e6            # a broken path (bad checksums, MTU) moves ~0

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(ovs_mod.missing()), reason=f"Open vSwitch missing: {ovs_mod.missing()}")]


@pytest.fixture
def lab():
    ov = Overlay()
    ovs = None
    try:
        ovs = ovs_mod.OvsPeer.start()
        yield ov, OvsVtep.attach(ov, ovs, OVS_UL_IP)
    finally:
        if ovs:
            ovs.stop()
        left = ov.cleanup()
    assert not left, f"could not remove test namespaces: {left}"


def _pair(ov: Overlay, vtep: OvsVtep, tunnel_type: str, key):
    h1 = ov.add_host()
    ov.add_vxlan(h1, "t9", OVS_UL_IP, key, tunnel_type=tunnel_type)
    vtep.add_tunnel("t1", tunnel_type, h1.ip, key)
    c1 = ov.add_container(h1, f"{C_SUBNET}.1")
    c9 = vtep.add_container(f"{C_SUBNET}.9")
    return h1, c1, c9


def _diag(h1, vtep: OvsVtep) -> str:
    return (f"ours: {h1.daemon.coverage()}\n{h1.daemon.log_tail(3000)}\n"
            f"ovs: {vtep.ovs.appctl('dpctl/dump-flows')}\n{vtep.ovs.log_tail(3000)}")


@pytest.mark.parametrize("tunnel_type,key", [("vxlan", 42), ("geneve", 4242), ("geneve", None),
                                             ("gre", 305419896), ("gre", None)])
def test_ping_and_tcp_both_ways_with_open_vswitch(lab, tunnel_type, key):
    ov, vtep = lab
    h1, c1, c9 = _pair(ov, vtep, tunnel_type, key)
    for a, b in ((c1, c9), (c9, c1)):
        r = ping(a, b.ip, count=3, deadline=8)
        assert r.rc == 0, f"{tunnel_type} key={key}: {a.ip} cannot ping {b.ip}:\n{r}\n{_diag(h1, vtep)}"
    for a, b in ((c1, c9), (c9, c1)):
        r = iperf3(a, b, seconds=1)
        assert r["error"] is None and r["bps"] >= MIN_TCP_BPS, \
            f"{tunnel_type} key={key}: TCP {a.ip} -> {b.ip}: {r['error']} {r['bps'] / 1e6:.1f} Mbit/s\n{_diag(h1, vtep)}"


def test_geneve_options_from_open_vswitch_are_skipped_and_counted(lab):
    """Open vSwitch sends a Geneve option (class 0xffff, type 0x01: not critical) on every frame
    towards us: the frames are delivered and each option is counted as skipped."""
    ov, vtep = lab
    h1, c1, c9 = _pair(ov, vtep, "geneve", 77)
    ovs = vtep.ovs
    ovs._check(["ovs-ofctl", "add-tlv-map", ovs.bridge, "{class=0xffff,type=0x01,len=4}->tun_metadata0"])
    ovs._check(["ovs-ofctl", "add-flow", ovs.bridge,
                f"priority=100,in_port={c9.sw_port},actions=set_field:0x12345678->tun_metadata0,output:t1"])
    ovs._check(["ovs-ofctl", "add-flow", ovs.bridge, f"priority=100,in_port=t1,actions=output:{c9.sw_port}"])
    before = h1.daemon.coverage().get("geneve_options_skipped", 0)
    r = ping(c9, c1.ip, count=5, deadline=8)
    assert r.rc == 0, f"ping with a Geneve option failed:\n{r}\n{_diag(h1, vtep)}"
    skipped = h1.daemon.coverage().get("geneve_options_skipped", 0) - before
    assert skipped >= 5, f"expected every echo request's option counted, got {skipped}"
