"""STP (IEEE 802.1D-1998) against the Linux bridge's kernel STP (docs/stp.md).

A triangle: two of our bridges (b1, b2, one daemon in the root namespace) and a Linux bridge
with `stp_state 1` in its own namespace, joined by veth pairs: b1-b2, b1-LB, b2-LB. The Linux
bridge has the best priority (4096), b1 the next (8192), so b2's port to b1 is the one port the
spanning tree blocks. Short timers (hello 1 s, max age 6 s, forward delay 4 s) keep it fast.
Hosts: h1 on b1, h2 on b2, the Linux bridge's own address 10.231.0.3.
"""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from lib import names
from lib.proc import check

pytestmark = pytest.mark.slow

TIMERS = ["other_config:stp-hello-time=1", "other_config:stp-max-age=6", "other_config:stp-forward-delay=4"]


def stp_show(d, br):
    return d.vsappctl_json("stp/show", br)["bridges"][0]


def port_states(d, br):
    return {p["name"]: (p["role"], p["state"]) for p in stp_show(d, br)["ports"]}


def linux_states(ns, br):
    """The Linux bridge's ports: name -> state ('forwarding', 'blocking', ...)."""
    out = check(["ip", "-n", ns, "-j", "link", "show", "master", br])
    names = [l["ifname"] for l in json.loads(out)]
    states = {}
    for n in names:
        st = json.loads(check(["ip", "-n", ns, "-j", "-d", "link", "show", n]))[0]
        states[n] = st["linkinfo"]["info_slave_data"]["state"]
    return states


def wait_for(what, cond, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class LinuxPeer:
    """The Linux bridge with kernel STP, in a namespace of its own; its links eth0 (to b1) and
    eth1 (to b2); its own address 10.231.0.3."""

    def __init__(self, topo):
        host = topo.add_host(None)
        self.ns, self.topo = host.ns, topo
        self.to_b1 = host.sw_port
        self.to_b2 = topo.add_ns_link(host, "eth1")
        self.links = {"b1": "eth0", "b2": "eth1"}
        ns = self.ns
        check(["ip", "-n", ns, "link", "add", "br0", "type", "bridge", "stp_state", "1", "priority", "4096",
               "hello_time", "100", "max_age", "600", "forward_delay", "400"])
        for i in ("eth0", "eth1"):
            check(["ip", "-n", ns, "link", "set", i, "master", "br0"])
        check(["ip", "-n", ns, "addr", "add", "10.231.0.3/24", "dev", "br0"])
        check(["ip", "-n", ns, "link", "set", "br0", "up"])

    def states(self):
        return linux_states(self.ns, "br0")

    def check_root(self, show):
        mac = json.loads(check(["ip", "-n", self.ns, "-j", "link", "show", "br0"]))[0]["address"]
        assert show["root_id"]["priority"] == 4096 and show["root_id"]["system_id"] == mac, show

    def cut(self, towards):
        check(["ip", "-n", self.ns, "link", "set", self.links[towards], "down"])

    def stop(self):
        pass


class OvsStpPeer:
    """Debian's Open vSwitch (userspace datapath) with stp_enable=true, in a namespace of its own
    (tests/system/lib/ovs.py); its address 10.231.0.3 on its bridge's internal port."""

    def __init__(self, topo):
        from lib import ovs as ovs_mod
        self.ovs = ovs_mod.OvsPeer.start()
        o = self.ovs
        self.to_b1, ovs_b1 = topo.add_link_pair()
        self.to_b2, ovs_b2 = topo.add_link_pair()
        self.links = {"b1": ovs_b1, "b2": ovs_b2}
        for link in (ovs_b1, ovs_b2):
            o.take_link(link)
            o.vsctl("add-port", o.bridge, link)
        # The namespace's kernel sees the port netdevs too and would answer ARP for 10.231.0.3 on
        # them with their own MACs (arp_ignore=0): h2 would then send to the MAC of the link that
        # the test cuts. Only the bridge's internal port answers.
        check(["ip", "netns", "exec", o.ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"])
        o.vsctl("set", "bridge", o.bridge, "stp_enable=true", "other_config:stp-priority=4096", *TIMERS)
        check(["ip", "-n", o.ns, "addr", "add", "10.231.0.3/24", "dev", o.bridge])
        check(["ip", "-n", o.ns, "link", "set", o.bridge, "up"])

    def states(self):
        out = {}
        for link in self.links.values():
            st = self.ovs.vsctl("get", "port", link, "status").strip()
            out[link] = next((kv.split("=")[1] for kv in st.strip("{}").split(", ") if kv.startswith("stp_state=")),
                             None)
        return out

    def check_root(self, show):
        bid = self.ovs.vsctl("get", "bridge", self.ovs.bridge, "status:stp_bridge_id").strip().strip('"')
        assert show["root_id"]["id"] == bid, (show, bid)

    def cut(self, towards):
        check(["ip", "-n", self.ovs.ns, "link", "set", self.links[towards], "down"])

    def stop(self):
        self.ovs.stop()


PEERS = {"linux": LinuxPeer, "ovs": OvsStpPeer}


@pytest.fixture(params=sorted(PEERS))
def triangle(request, vswitchd, topo):
    if request.param == "ovs":
        from lib import ovs as ovs_mod
        if ovs_mod.missing():
            pytest.skip(f"needs Debian's openvswitch-switch: {ovs_mod.missing()}")
    d = vswitchd
    h1 = topo.add_host("10.231.0.1")
    h2 = topo.add_host("10.231.0.2")
    b1_b2, b2_b1 = topo.add_link_pair()
    check(["ip", "link", "set", b2_b1, "up"])
    with open(f"/proc/sys/net/ipv6/conf/{b2_b1}/disable_ipv6", "w") as f:
        f.write("1")
    peer = PEERS[request.param](topo)
    try:
        b1, b2 = names.unique(names.KIND_BRIDGE), names.unique(names.KIND_BRIDGE)
        d.vsctl_ok("add-br", b1, "--", "set", "bridge", b1, "stp_enable=true", "other_config:stp-priority=8192",
                   *TIMERS)
        d.vsctl_ok("add-br", b2, "--", "set", "bridge", b2, "stp_enable=true", *TIMERS)
        for br, ports in ((b1, (h1.sw_port, peer.to_b1, b1_b2)), (b2, (h2.sw_port, peer.to_b2, b2_b1))):
            for p in ports:
                d.vsctl_ok("add-port", br, p)
        yield dict(d=d, h1=h1, h2=h2, peer=peer, b1=b1, b2=b2, lb_b1=peer.to_b1, lb_b2=peer.to_b2, b1_b2=b1_b2,
                   b2_b1=b2_b1)
    finally:
        peer.stop()


def converged(t):
    s1, s2 = port_states(t["d"], t["b1"]), port_states(t["d"], t["b2"])
    lbs = t["peer"].states()
    states = [st for _, st in s1.values()] + [st for _, st in s2.values()] + list(lbs.values())
    if states.count("forwarding") != len(states) - 1 or states.count("blocking") != 1:
        return None
    return s1, s2, lbs


def test_triangle_with_linux_bridge_or_ovs_elects_its_root_blocks_one_port_and_reconverges(triangle):
    t = triangle
    d, h1, h2, peer = t["d"], t["h1"], t["h2"], t["peer"]
    s1, s2, lbs = wait_for("one blocked port, all others forwarding", lambda: converged(t), 30)

    # The peer is the root: our bridges name it, by its priority and MAC.
    for br in (t["b1"], t["b2"]):
        show = stp_show(d, br)
        peer.check_root(show)
        assert not show["is_root"]
    assert {p["path_cost"] for p in stp_show(d, t["b1"])["ports"]} == {2}  # veths: 10 Gb/s
    # the bridges' own (internal) ports take no part, as in Open vSwitch
    assert set(s1) == {h1.sw_port, t["lb_b1"], t["b1_b2"]} and set(s2) == {h2.sw_port, t["lb_b2"], t["b2_b1"]}
    assert s1[t["lb_b1"]] == ("root", "forwarding")
    assert s2[t["lb_b2"]] == ("root", "forwarding")
    assert s1[t["b1_b2"]] == ("designated", "forwarding")
    assert s2[t["b2_b1"]] == ("alternate", "blocking"), s2   # the one blocked port
    assert set(lbs.values()) == {"forwarding"}

    # Traffic flows, and a broadcast is not multiplied around the loop: h2 sees each of the
    # 5 broadcasts once (ARP and the replies' echoes add a few frames, a storm adds thousands).
    assert h1.exec(["ping", "-c", "2", "-W", "1", "10.231.0.3"]).rc == 0
    assert h2.exec(["ping", "-c", "2", "-W", "1", "10.231.0.1"]).rc == 0
    before = h2.counter("rx_packets")
    h1.exec(["ping", "-b", "-c", "5", "-i", "0.2", "-W", "1", "10.231.0.255"])
    time.sleep(1)
    received = h2.counter("rx_packets") - before
    assert 5 <= received <= 20, f"h2 received {received} frames for 5 broadcasts"
    cov = d.coverage()
    assert cov.get("stp_rx", 0) > 0 and cov.get("stp_tx", 0) > 0
    assert cov.get("drop_stp_blocked", 0) > 0  # the blocked port drops what arrives on it

    # Cut b2's root port (the peer's end goes down): b2 must open its blocked port to b1 after
    # Listening and Learning (2 x forward delay) and h2 reach the peer again.
    ping = h2.popen(["ping", "-i", "0.1", "-W", "1", "10.231.0.3"], stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    cut = time.monotonic()
    peer.cut("b2")
    wait_for("b2's port to b1 forwarding as its root port",
             lambda: port_states(d, t["b2"]).get(t["b2_b1"]) == ("root", "forwarding"), 20)
    restored = time.monotonic() - cut
    wait_for("h2 reaching the peer again", lambda: h2.exec(["ping", "-c", "1", "-W", "1", "10.231.0.3"]).rc == 0,
             5)
    back = time.monotonic() - cut
    ping.send_signal(__import__("signal").SIGINT)  # ping prints its statistics
    out, _ = ping.communicate(timeout=5)
    # via b1: two hops of veths, whose 10 Gb/s make a path cost of 2 each (802.1D table 8-5, as the
    # Linux bridge and Open vSwitch choose it)
    assert stp_show(d, t["b2"])["root_path_cost"] == 4
    # 802.1D-1998: the new root port listens and learns for one forward delay each (4 s).
    assert 7.0 <= restored <= 15.0, f"re-converged after {restored:.1f}s"
    stats = [l for l in out.splitlines() if "packet loss" in l]
    assert stats, out
    sent, got = (int(x.split()[0]) for x in stats[0].split(",")[:2])
    print(f"STP re-convergence after the root port's link went down: {restored:.1f}s, ping answered "
          f"after {back:.1f}s; pings every 0.1 s: {sent - got} of {sent} lost")
    assert got > 0


def test_stp_show_and_tcn_and_bad_timers(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    r = d.vsappctl("stp/show", br)
    assert r.rc != 0 and "does not run STP" in r.err, r
    d.vsctl_ok("set", "bridge", br, "stp_enable=true", *TIMERS)
    text = d.vsappctl("stp/show", br)
    assert text.rc == 0 and "This bridge is the root" in text.out and "stp-fwd-delay   4s" in text.out, text
    before = d.config_bytes()
    for bad, what in ((["other_config:stp-hello-time=0"], "stp-hello-time"),
                      (["other_config:stp-max-age=41"], "stp-max-age"),
                      (["other_config:stp-forward-delay=31"], "stp-forward-delay"),
                      (["other_config:stp-priority=65536"], "stp-priority"),
                      (["other_config:stp-max-age=8"], "2 * (stp-forward-delay - 1)"),
                      (["other_config:stp-hello-time=3"], "2 * (stp-hello-time + 1)"),
                      (["rstp_enable=true"], "mutually exclusive")):
        r = d.vsctl("set", "bridge", br, *bad)
        assert r.rc != 0 and what in r.err, (bad, r)
    assert d.config_bytes() == before  # nothing changed
    r = d.vsappctl("stp/tcn", br)
    assert r.rc == 0, r
    assert stp_show(d, br)["topology_change"] is True
    assert d.vsappctl("stp/tcn", "nosuchbr").rc != 0


OVS_VSCTL = __import__("shutil").which("ovs-vsctl")


@pytest.mark.skipif(not OVS_VSCTL, reason="needs Debian's openvswitch-common (ovs-vsctl)")
def test_ovs_vsctl_drives_stp(vswitchd, topo):
    """Debian's ovs-vsctl against our OVSDB server: stp_enable and the stp-* keys take effect,
    a bad timer is refused with the reason, and the column reads back."""
    from lib.proc import run
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    h = topo.add_host("10.231.0.1")

    def ovs(*args):
        return run([OVS_VSCTL, f"--db=unix:{d.dir / 'db.sock'}", "--timeout=5", *args], timeout=10)

    assert ovs("add-br", br).rc == 0
    assert ovs("add-port", br, h.sw_port, "--", "set", "port", h.sw_port, "other_config:stp-path-cost=7",
               "other_config:stp-port-priority=64").rc == 0
    r = ovs("set", "bridge", br, "stp_enable=true", "other_config:stp-priority=4096", *TIMERS)
    assert r.rc == 0, r
    assert ovs("get", "bridge", br, "stp_enable").out.strip() == "true"
    show = wait_for("the port in stp/show", lambda: stp_show(d, br)["ports"], 5)
    assert show[0]["name"] == h.sw_port and show[0]["path_cost"] == 7 and show[0]["port_id"].startswith("64."), show
    assert stp_show(d, br)["bridge_id"]["priority"] == 4096
    # Open vSwitch's status keys, refreshed when the STP state changes (within a second).
    bid = ovs("get", "bridge", br, "status:stp_bridge_id").out.strip().strip('"')
    assert bid.startswith("1000.") and len(bid) == 17, bid
    wait_for("Port:status stp_state", lambda: "stp_state=listening" in ovs("get", "port", h.sw_port, "status").out
             or "stp_state=learning" in ovs("get", "port", h.sw_port, "status").out, 5)
    st = ovs("get", "port", h.sw_port, "status").out
    assert "stp_role=designated" in st and 'stp_port_id="4001"' in st, st
    r = ovs("set", "bridge", br, "other_config:stp-forward-delay=3")
    assert r.rc != 0 and "stp-forward-delay" in r.err, r
    assert ovs("get", "bridge", br, "other_config:stp-forward-delay").out.strip() == '"4"'
    assert ovs("set", "bridge", br, "stp_enable=false").rc == 0
    assert d.vsappctl("stp/show", br).rc != 0
