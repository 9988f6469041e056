"""RSTP (IEEE 802.1D-2004 clause 17) against Debian's Open vSwitch and the Linux bridge (docs/stp.md).

A triangle as in test_stp.py: two of our bridges (b1, b2, one daemon) and a peer in its own
namespace, joined by veth pairs b1-b2, b1-peer, b2-peer. The peer has the best priority (4096),
b1 the next (8192): b2's port to b1 is the one Alternate (discarding) port.
- Open vSwitch's userspace datapath with rstp_enable=true: roles agreed by both sides' rstp/show,
  then the peer's link to b2 is cut and b2's Alternate port takes over: pings every 50 ms lose
  less than 1 s.
- The Linux bridge with its kernel STP (802.1D-1998 only): our ports towards it fall back to
  Configuration BPDUs (17.24) and the tree still has one blocked port.
Hosts: h1 on b1, h2 on b2, the peer's own address 10.231.0.3.
"""
from __future__ import annotations

import signal
import subprocess
import time

import pytest

from lib import names
from lib.proc import check
from test_stp import LinuxPeer, wait_for

pytestmark = pytest.mark.slow

TIMERS = ["other_config:rstp-max-age=6", "other_config:rstp-forward-delay=4"]


def rstp_show(d, br):
    return d.vsappctl_json("rstp/show", br)["bridges"][0]


def port_states(d, br):
    return {p["name"]: (p["role"], p["state"]) for p in rstp_show(d, br)["ports"]}


class OvsRstpPeer:
    """Debian's Open vSwitch (userspace datapath) with rstp_enable=true in its own namespace."""

    def __init__(self, topo):
        from lib import ovs as ovs_mod
        self.ovs = ovs_mod.OvsPeer.start()
        o = self.ovs
        self.to_b1, ovs_b1 = topo.add_link_pair()
        self.to_b2, ovs_b2 = topo.add_link_pair()
        self.links = {"b1": ovs_b1, "b2": ovs_b2}
        for num, link in enumerate((ovs_b1, ovs_b2), start=1):
            o.take_link(link)
            # A fixed port number: rstp/show truncates names to 10 characters, which can collide.
            o.vsctl("add-port", o.bridge, link, "--", "set", "port", link, f"other_config:rstp-port-num={num}")
        check(["ip", "netns", "exec", o.ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"])
        o.vsctl("set", "bridge", o.bridge, "rstp_enable=true", "other_config:rstp-priority=4096", *TIMERS)
        check(["ip", "-n", o.ns, "addr", "add", "10.231.0.3/24", "dev", o.bridge])
        check(["ip", "-n", o.ns, "link", "set", o.bridge, "up"])

    def roles(self):
        """Open vSwitch's own view (ovs-appctl rstp/show): port -> (role, state)."""
        out = {}
        by_num = {"1": self.links["b1"], "2": self.links["b2"]}  # rstp-port-num set above
        for line in self.ovs.appctl("rstp/show", self.ovs.bridge).splitlines():
            f = line.split()  # Interface Role State Cost Pri.Nbr
            if len(f) == 5 and "." in f[4] and f[4].split(".")[1] in by_num:
                out[by_num[f[4].split(".")[1]]] = (f[1], f[2])
        return out

    def check_root(self, show):
        bid = self.ovs.vsctl("get", "bridge", self.ovs.bridge, "rstp_status:rstp_bridge_id").strip().strip('"')
        prio, ext, addr = bid.split(".")
        assert show["root_id"]["priority"] == int(prio, 16) << 12, (show, bid)
        assert show["root_id"]["address"].replace(":", "") == addr, (show, bid)

    def cut(self, towards):
        check(["ip", "-n", self.ovs.ns, "link", "set", self.links[towards], "down"])

    def stop(self):
        self.ovs.stop()


def build_triangle(d, topo, peer_cls):
    h1 = topo.add_host("10.231.0.1")
    h2 = topo.add_host("10.231.0.2")
    b1_b2, b2_b1 = topo.add_link_pair()
    check(["ip", "link", "set", b2_b1, "up"])
    with open(f"/proc/sys/net/ipv6/conf/{b2_b1}/disable_ipv6", "w") as f:
        f.write("1")
    peer = peer_cls(topo)
    b1, b2 = names.unique(names.KIND_BRIDGE), names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", b1, "--", "set", "bridge", b1, "rstp_enable=true", "other_config:rstp-priority=8192", *TIMERS)
    d.vsctl_ok("add-br", b2, "--", "set", "bridge", b2, "rstp_enable=true", *TIMERS)
    for br, ports in ((b1, (h1.sw_port, peer.to_b1, b1_b2)), (b2, (h2.sw_port, peer.to_b2, b2_b1))):
        for p in ports:
            d.vsctl_ok("add-port", br, p)
    return dict(d=d, h1=h1, h2=h2, peer=peer, b1=b1, b2=b2, b1_b2=b1_b2, b2_b1=b2_b1)


@pytest.fixture
def ovs_triangle(vswitchd, topo):
    from lib import ovs as ovs_mod
    if ovs_mod.missing():
        pytest.skip(f"needs Debian's openvswitch-switch: {ovs_mod.missing()}")
    t = None
    try:
        t = build_triangle(vswitchd, topo, OvsRstpPeer)
        yield t
    finally:
        if t:
            t["peer"].stop()


def agreed(t):
    d, peer = t["d"], t["peer"]
    s1, s2, po = port_states(d, t["b1"]), port_states(d, t["b2"]), peer.roles()
    want1 = {t["h1"].sw_port: ("Designated", "Forwarding"), peer.to_b1: ("Root", "Forwarding"),
             t["b1_b2"]: ("Designated", "Forwarding")}
    want2 = {t["h2"].sw_port: ("Designated", "Forwarding"), peer.to_b2: ("Root", "Forwarding"),
             t["b2_b1"]: ("Alternate", "Discarding")}
    want_ovs = {peer.links["b1"]: ("Designated", "Forwarding"), peer.links["b2"]: ("Designated", "Forwarding")}
    if s1 == want1 and s2 == want2 and po == want_ovs:
        return s1, s2, po
    t["last"] = (s1, s2, po)
    return None


def lost_pings(ping):
    ping.send_signal(signal.SIGINT)
    out, _ = ping.communicate(timeout=5)
    stats = [l for l in out.splitlines() if "packet loss" in l]
    assert stats, out
    sent, got = (int(x.split()[0]) for x in stats[0].split(",")[:2])
    return sent, got


def test_ring_with_ovs_rstp_agrees_on_roles_and_fails_over_in_under_a_second(ovs_triangle):
    t = ovs_triangle
    d, h1, h2, peer = t["d"], t["h1"], t["h2"], t["peer"]
    start = time.monotonic()
    try:
        wait_for("roles agreed by our rstp/show and Open vSwitch's", lambda: agreed(t), 20)
    except AssertionError as e:
        raise AssertionError(f"{e}: ours and Open vSwitch's: {t.get('last')}\n"
                             f"{peer.ovs.appctl('rstp/show', peer.ovs.bridge)}") from None
    converged = time.monotonic() - start
    for br in (t["b1"], t["b2"]):
        show = rstp_show(d, br)
        peer.check_root(show)
        assert not show["is_root"]
        assert all(p["protocol"] == "rstp" for p in show["ports"]), show
    assert rstp_show(d, t["b2"])["root_path_cost"] == 2000  # one 10 Gb/s veth (802.1D-2004 table 17-3)
    # Open vSwitch's columns through our OVSDB server, as ovs-vsctl reads them.
    st = d.vsctl("get", "port", t["b2_b1"], "rstp_status")
    assert st.rc == 0 and "rstp_port_role=Alternate" in st.out, st

    assert h1.exec(["ping", "-c", "2", "-W", "1", "10.231.0.3"]).rc == 0
    assert h2.exec(["ping", "-c", "2", "-W", "1", "10.231.0.3"]).rc == 0
    before = h2.counter("rx_packets")
    h1.exec(["ping", "-b", "-c", "5", "-i", "0.2", "-W", "1", "10.231.0.255"])
    time.sleep(0.5)
    received = h2.counter("rx_packets") - before
    assert 5 <= received <= 20, f"h2 received {received} frames for 5 broadcasts (a loop would storm)"

    # Cut b2's root port: its Alternate port becomes Root and forwards at once (no timer).
    ping = h2.popen(["ping", "-i", "0.05", "-W", "1", "10.231.0.3"], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    cut = time.monotonic()
    peer.cut("b2")
    wait_for("b2's port to b1 Root and Forwarding",
             lambda: port_states(d, t["b2"]).get(t["b2_b1"]) == ("Root", "Forwarding"), 5)
    took_over = time.monotonic() - cut
    time.sleep(2)
    sent, got = lost_pings(ping)
    lost = sent - got
    print(f"RSTP with Open vSwitch: converged in {converged:.1f}s; after the cut b2's alternate port "
          f"forwarded within {took_over:.2f}s (as polled); pings every 50 ms: {lost} of {sent} lost "
          f"(~{lost * 0.05:.2f}s of traffic)")
    assert got > 0
    assert lost * 0.05 < 1.0, f"{lost} pings lost: {lost * 0.05:.2f}s without traffic"
    assert rstp_show(d, t["b2"])["root_path_cost"] == 4000
    assert h2.exec(["ping", "-c", "2", "-W", "1", "10.231.0.3"]).rc == 0


@pytest.fixture
def linux_triangle(vswitchd, topo):
    yield build_triangle(vswitchd, topo, LinuxPeer)


def test_linux_bridge_stp_peer_makes_our_ports_fall_back_to_stp(linux_triangle):
    t = linux_triangle
    d, h1, h2, peer = t["d"], t["h1"], t["h2"], t["peer"]

    def settled():
        s1, s2, lbs = port_states(d, t["b1"]), port_states(d, t["b2"]), peer.states()
        ours = list(s1.values()) + list(s2.values())
        blocked = [r for r in ours if r[1] != "Forwarding"]
        if set(lbs.values()) != {"forwarding"} or len(blocked) != 1:
            return None
        return s1, s2
    s1, s2 = wait_for("one discarding port and the Linux bridge forwarding on both links", settled, 30)
    assert s2[t["b2_b1"]] == ("Alternate", "Discarding"), s2
    assert s1[peer.to_b1] == ("Root", "Forwarding") and s2[peer.to_b2] == ("Root", "Forwarding")
    for br, towards in ((t["b1"], peer.to_b1), (t["b2"], peer.to_b2)):
        show = rstp_show(d, br)
        peer.check_root({"root_id": {**show["root_id"], "system_id": show["root_id"]["address"]}})
        protocols = {p["name"]: p["protocol"] for p in show["ports"]}
        assert protocols[towards] == "stp", protocols  # 802.1D-2004 17.24: STP towards it
    assert {p["name"]: p["protocol"] for p in rstp_show(d, t["b1"])["ports"]}[t["b1_b2"]] == "rstp"
    assert h1.exec(["ping", "-c", "2", "-W", "1", "10.231.0.3"]).rc == 0
    assert h2.exec(["ping", "-c", "2", "-W", "1", "10.231.0.1"]).rc == 0


def test_rstp_show_and_bad_values(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    r = d.vsappctl("rstp/show", br)
    assert r.rc != 0 and "does not run RSTP" in r.err, r
    d.vsctl_ok("set", "bridge", br, "rstp_enable=true", "other_config:rstp-priority=4096", *TIMERS)
    text = d.vsappctl("rstp/show", br)
    assert text.rc == 0 and "This bridge is the root" in text.out and "priority    4096" in text.out, text
    before = d.config_bytes()
    for bad, what in ((["other_config:rstp-priority=61441"], "rstp-priority"),
                      (["other_config:rstp-max-age=41"], "rstp-max-age"),
                      (["other_config:rstp-forward-delay=3"], "rstp-forward-delay"),
                      (["other_config:rstp-transmit-hold-count=11"], "rstp-transmit-hold-count"),
                      (["other_config:rstp-force-protocol-version=1"], "rstp-force-protocol-version"),
                      (["other_config:rstp-ageing-time=9"], "rstp-ageing-time"),
                      (["other_config:rstp-max-age=8"], "2 * (rstp-forward-delay - 1)"),
                      (["stp_enable=true"], "mutually exclusive")):
        r = d.vsctl("set", "bridge", br, *bad)
        assert r.rc != 0 and what in r.err, (bad, r)
    assert d.config_bytes() == before  # nothing changed
    d.vsctl_ok("set", "bridge", br, "rstp_enable=false")
    assert d.vsappctl("rstp/show", br).rc != 0


OVS_VSCTL = __import__("shutil").which("ovs-vsctl")


@pytest.mark.skipif(not OVS_VSCTL, reason="needs Debian's openvswitch-common (ovs-vsctl)")
def test_ovs_vsctl_drives_rstp(vswitchd, topo):
    """Debian's ovs-vsctl against our OVSDB server: rstp_enable and the rstp-* keys take effect,
    Open vSwitch's rstp_status and rstp_statistics columns read back, a bad value is refused."""
    from lib.proc import run
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    h = topo.add_host("10.231.0.1")

    def ovs(*args):
        return run([OVS_VSCTL, f"--db=unix:{d.dir / 'db.sock'}", "--timeout=5", *args], timeout=10)

    assert ovs("add-br", br).rc == 0
    assert ovs("add-port", br, h.sw_port, "--", "set", "port", h.sw_port, "other_config:rstp-path-cost=7",
               "other_config:rstp-port-priority=64", "other_config:rstp-port-admin-edge=true").rc == 0
    r = ovs("set", "bridge", br, "rstp_enable=true", "other_config:rstp-priority=4096", *TIMERS)
    assert r.rc == 0, r
    assert ovs("get", "bridge", br, "rstp_enable").out.strip() == "true"
    show = wait_for("the port in rstp/show", lambda: rstp_show(d, br)["ports"], 5)
    assert show[0]["name"] == h.sw_port and show[0]["path_cost"] == 7 and show[0]["port_id"] == "64.1", show
    assert show[0]["oper_edge"] and show[0]["state"] == "Forwarding", show  # an admin edge port forwards at once
    bid = ovs("get", "bridge", br, "rstp_status:rstp_bridge_id").out.strip().strip('"')
    assert bid.startswith("1.000.") and len(bid) == 18, bid
    wait_for("Port rstp_status", lambda: "rstp_port_role=Designated" in ovs("get", "port", h.sw_port, "rstp_status").out,
             5)
    st = ovs("get", "port", h.sw_port, "rstp_status").out
    assert 'rstp_port_id="4001"' in st and "rstp_port_state=Forwarding" in st, st
    assert "rstp_tx_count" in ovs("get", "port", h.sw_port, "rstp_statistics").out
    r = ovs("set", "bridge", br, "other_config:rstp-forward-delay=3")
    assert r.rc != 0 and "rstp-forward-delay" in r.err, r
    assert ovs("get", "bridge", br, "other_config:rstp-forward-delay").out.strip() == '"4"'
    assert ovs("set", "bridge", br, "rstp_enable=false").rc == 0
    assert d.vsappctl("rstp/show", br).rc != 0
