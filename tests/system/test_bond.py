"""Bonds and LACP (docs/bonds.md) against a peer nobody here wrote: Open vSwitch's own bond
(Debian's openvswitch-switch, userspace datapath, private instance in its own namespace), on veth
links whose other ends form our bond. LACP negotiation seen from both sides, traffic across,
failover with a measured gap when a member goes down, spreading of TCP streams in balance-tcp,
active-backup and balance-slb without LACP, scapy-crafted LACPDUs for edge cases, and bad input.

Links used by Open vSwitch's userspace datapath have offloads off on both ends (it reads frames
without a virtio-net header; see ../shared/bench/README.md caveats).
"""
from __future__ import annotations

import threading
import time

import pytest
from scapy.contrib.lacp import LACP, SlowProtocol
from scapy.layers.l2 import Ether

from lib import names
from lib import ovs as ovs_mod
from lib.bond import LACP_MAC, make_lab, ping_gap
from lib.mgmt import RawClient
from lib.proc import check
from lib.traffic import Iperf3Server, iperf3_client, ping
from lib.vlan import BROADCAST, Capture, eth_frame, host_capture, send_raw, wait_until

FAILOVER_GAP_LIMIT = 1.0   # seconds without a ping reply when a member goes down (target < 1 s)


@pytest.fixture
def ovs_peer():
    miss = ovs_mod.missing()
    if miss:
        pytest.fail(f"Open vSwitch is needed as a peer (Debian package openvswitch-switch; "
                    f"scripts/setup.sh installs it): missing {', '.join(miss)}", pytrace=False)
    peer = ovs_mod.OvsPeer.start()
    yield peer
    peer.stop()


def _coverage_delta(d, before: dict, name: str) -> int:
    return d.coverage().get(name, 0) - before.get(name, 0)


def _both_negotiated(lab) -> bool:
    ours = lab.lacp_show()
    if ours["status"] != "negotiated" or not all(m["may_enable"] for m in ours["members"]):
        return False
    theirs = lab.ovs_lacp()
    return theirs.get("status") == "active negotiated" and all(
        m.get("may_enable") == "true" for m in theirs["members"].values())


def _member_carrying_pings(lab) -> str:
    """The member whose tx counter grows while a ping runs (our echo requests leave by it)."""
    a = lab.tx_packets()
    time.sleep(0.5)
    b = lab.tx_packets()
    return max(b, key=lambda n: b[n] - a[n])


def _failover(lab, dst_ip: str) -> dict:
    """Pings across while the member carrying the requests goes down on our side; returns the
    measurement and the member taken down."""
    state: dict = {}

    def down():
        state["member"] = _member_carrying_pings(lab)
        check(["ip", "link", "set", state["member"], "down"])

    res = ping_gap(lab.hosts[0], dst_ip, down, before=2.0, after=4.0)
    res["member"] = state["member"]
    return res


# -- LACP + balance-tcp against Open vSwitch -------------------------------------------------------
def test_lacp_balance_tcp_with_open_vswitch(vswitchd, topo, ovs_peer):
    """Both sides lacp=active bond_mode=balance-tcp lacp-time=fast: LACP negotiates (each side sees
    the other's system id as partner), traffic flows, several TCP streams leave by both members,
    a member going down costs a bounded ping gap, and bringing it back re-enables it."""
    d, ovs = vswitchd, ovs_peer
    lab = make_lab(d, topo, ovs, ours=["bond_mode=balance-tcp", "lacp=active", "other_config:lacp-time=fast"],
                   theirs=["bond_mode=balance-tcp", "lacp=active", "other_config:lacp-time=fast"])
    assert wait_until(lambda: _both_negotiated(lab), timeout=20), \
        f"LACP did not negotiate:\nours: {lab.lacp_show()}\nOpen vSwitch:\n{ovs.appctl('lacp/show')}"

    ours, theirs = lab.lacp_show(), lab.ovs_lacp()
    assert theirs["sys_id"] != ours["sys_id"]
    for name, m in lab.lacp_members().items():
        assert m["partner"]["sys_id"] == theirs["sys_id"], (name, m)
        assert m["mux_state"] == "collecting_distributing", m
        assert set(m["actor"]["state_bits"].split()) >= {"activity", "timeout", "aggregation", "synchronized",
                                                         "collecting", "distributing"}, m
    for name, m in theirs["members"].items():
        assert m["partner sys_id"] == ours["sys_id"], (name, m)
        assert m["status"] == "current attached", (name, m)
    # Our system id is the bridge's MAC.
    bridge_mac = d.vsctl_ok("get", "interface", lab.br, "mac_in_use").strip().strip('"')
    assert ours["sys_id"] == bridge_mac

    assert ping(lab.hosts[0], lab.peers[0].ip, count=3).rc == 0, "no traffic across the LACP bond"

    # balance-tcp: 16 TCP streams hash over both members (each one carries a real share).
    before = lab.tx_bytes()
    with Iperf3Server(lab.peers[0]):
        res = iperf3_client(lab.hosts[0], lab.peers[0].ip, seconds=3, extra=["-P", "16"])
    assert res["bytes"] > 0, res
    grown = {n: lab.tx_bytes()[n] - before[n] for n in before}
    total = sum(grown.values())
    assert all(g > 0.05 * total for g in grown.values()), f"streams did not spread over both members: {grown}"
    hashes = lab.bond_show()["hashes"]
    assert {h["member"] for h in hashes} == set(lab.ours), hashes

    # Failover: the member carrying our pings goes down; traffic moves to the other one.
    res = _failover(lab, lab.peers[0].ip)
    down = res["member"]
    print(f"\nLACP balance-tcp failover: gap {res['gap']:.3f} s, {res['sent'] - res['received']} of "
          f"{res['sent']} pings lost (member {down} down)")
    assert res["gap"] is not None and res["gap"] < FAILOVER_GAP_LIMIT, res
    members = lab.members()
    assert not members[down]["enabled"] and not members[down]["carrier"], members
    assert ping(lab.hosts[0], lab.peers[0].ip, count=3).rc == 0

    # Back up: LACP re-attaches it on both sides and it carries traffic again.
    check(["ip", "link", "set", down, "up"])
    assert wait_until(lambda: _both_negotiated(lab), timeout=20), \
        f"member {down} did not come back:\n{lab.bond_show()}\n{ovs.appctl('lacp/show')}"
    assert lab.members()[down]["enabled"]
    assert ping(lab.hosts[0], lab.peers[0].ip, count=3).rc == 0


# -- active-backup and balance-slb without LACP against Open vSwitch ---------------------------
def _ovs_active(lab) -> str | None:
    for name, m in lab.ovs_bond()["members"].items():
        if m.get("active member"):
            return name
    return None


def _ovs_all_enabled(lab) -> bool:
    members = lab.ovs_bond()["members"]
    return len(members) == len(lab.theirs) and all(m["status"] == "enabled" for m in members.values())


def test_active_backup_with_open_vswitch(vswitchd, topo, ovs_peer):
    """bond_mode=active-backup on both sides, no LACP, the first link primary on both: traffic
    flows over the active link; taking it down on our side fails both sides over with a bounded
    ping gap; bringing it back makes it active again on both sides."""
    d, ovs = vswitchd, ovs_peer
    lab = make_lab(d, topo, ovs, ours=["bond_mode=active-backup"], theirs=["bond_mode=active-backup"])
    primary = lab.ours[0]
    d.vsctl_ok("set", "port", lab.bond, f"other_config:bond-primary={primary}")
    ovs.vsctl("set", "port", lab.obond, f"other_config:bond-primary={lab.theirs[0]}")
    assert wait_until(lambda: lab.bond_show()["active_member"] == primary and _ovs_active(lab) == lab.theirs[0]
                      and _ovs_all_enabled(lab), timeout=10), (lab.bond_show(), ovs.appctl("bond/show"))
    assert ping(lab.hosts[0], lab.peers[0].ip, count=3).rc == 0

    before = d.coverage()
    res = _failover(lab, lab.peers[0].ip)
    print(f"\nactive-backup failover: gap {res['gap']:.3f} s, {res['sent'] - res['received']} of "
          f"{res['sent']} pings lost")
    assert res["member"] == primary, "the pings did not leave by the active member"
    assert res["gap"] is not None and res["gap"] < FAILOVER_GAP_LIMIT, res
    show = lab.bond_show()
    assert show["active_member"] == lab.ours[1], show
    assert _coverage_delta(d, before, "bond_active_changed") >= 1
    assert _coverage_delta(d, before, "bond_learning_packets") >= 1, "no gratuitous announcement after failover"

    check(["ip", "link", "set", primary, "up"])
    assert wait_until(lambda: lab.bond_show()["active_member"] == primary and _ovs_active(lab) == lab.theirs[0],
                      timeout=10), (lab.bond_show(), ovs.appctl("bond/show"))
    assert ping(lab.hosts[0], lab.peers[0].ip, count=3).rc == 0


def test_balance_slb_with_open_vswitch(vswitchd, topo, ovs_peer):
    """bond_mode=balance-slb, no LACP, its links on two plain ports of an Open vSwitch bridge (SLB
    needs no bond on the other side: each source MAC sticks to one link, which the peer learns).
    Three hosts reach the peer; the peer floods our broadcasts back in on the other link and the
    bond drops those copies (non-active member, or our own MAC reflected), so no host sees a frame
    twice or its own; on failover the MACs of idle hosts move on the peer at once (gratuitous
    RARPs) and pings go on with a bounded gap."""
    d, ovs = vswitchd, ovs_peer
    lab = make_lab(d, topo, ovs, ours=["bond_mode=balance-slb"], n_hosts=3, ovs_bond=False)
    assert wait_until(lambda: all(m["enabled"] for m in lab.members().values()), timeout=5), lab.bond_show()
    before = d.coverage()
    for h in lab.hosts:
        assert ping(h, lab.peers[0].ip, count=3).rc == 0, f"{h.ip} cannot reach {lab.peers[0].ip}"
    assert lab.bond_show()["hashes"], "balance-slb output used no hash bucket"
    echoes = sum(_coverage_delta(d, before, c) for c in ("drop_bond_multicast_not_active", "drop_bond_reflected"))
    assert echoes >= len(lab.hosts), "the ARP requests the peer flooded back in were not dropped"

    # A broadcast from one host reaches each other host once, and never comes back to itself.
    tag = b"bond-slb-" + names.unique("o").encode()
    caps = {h.ns: host_capture(h, tag, seconds=3).start() for h in lab.hosts}
    send_raw(lab.hosts[0].ifname, [eth_frame(lab.hosts[0].mac, BROADCAST, tag)], ns=lab.hosts[0].ns)
    got = {ns: [f for f in c.stop() if not f.outgoing] for ns, c in caps.items()}
    assert got[lab.hosts[0].ns] == [], "a host received its own broadcast back through the bond"
    for h in lab.hosts[1:]:
        assert len(got[h.ns]) == 1, f"{h.ip} got the broadcast {len(got[h.ns])} times"

    # Injected straight onto the links: a broadcast on the non-active member and a frame with the
    # source MAC of one of our hosts are both dropped and counted.
    active = lab.bond_show()["active_member"]
    inactive_peer = lab.peer_of([m for m in lab.ours if m != active][0])
    before = d.coverage()
    with host_capture(lab.hosts[1], tag, seconds=3) as cap:
        send_raw(inactive_peer, [eth_frame("02:5b:00:00:00:01", BROADCAST, tag)], ns=ovs.ns)
        send_raw(lab.peer_of(active), [eth_frame(lab.hosts[0].mac, lab.hosts[1].mac, tag)], ns=ovs.ns)
        cap.stop()
    assert cap.frames == [], cap.frames
    assert wait_until(lambda: _coverage_delta(d, before, "drop_bond_multicast_not_active") >= 1
                      and _coverage_delta(d, before, "drop_bond_reflected") >= 1), d.coverage()

    # Failover of the member that carries hosts[0]'s pings.
    res = _failover(lab, lab.peers[0].ip)
    print(f"\nbalance-slb failover: gap {res['gap']:.3f} s, {res['sent'] - res['received']} of "
          f"{res['sent']} pings lost")
    assert res["gap"] is not None and res["gap"] < FAILOVER_GAP_LIMIT, res
    survivor = lab.peer_of([m for m in lab.ours if m != res["member"]][0])
    fdb = {mac: port for port, _vlan, mac in ovs.fdb()}
    for h in lab.hosts:
        assert fdb.get(h.mac.lower()) == survivor, f"the peer did not move {h.mac} to {survivor}: {ovs.fdb()}"
    check(["ip", "link", "set", res["member"], "up"])
    assert wait_until(lambda: lab.members()[res["member"]]["enabled"], timeout=10)
    for h in lab.hosts:
        assert ping(h, lab.peers[0].ip, count=3).rc == 0


# -- a scapy-driven LACP partner ------------------------------------------------------------------
ACTOR_ALL = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20   # activity timeout aggregation sync coll dist
PARTNER_SYS = "02:aa:00:00:00:01"


def _lacpdu(src: str, port: int, ours: dict, actor_state: int = ACTOR_ALL, **overrides) -> bytes:
    """An LACPDU from our crafted partner (system PARTNER_SYS, key 7) for link `port`, telling us
    what it knows about us (`ours`: our actor info from lacp/show)."""
    a = ours["actor"]
    fields = dict(actor_system_priority=100, actor_system=PARTNER_SYS, actor_key=7, actor_port_priority=1,
                  actor_port_number=port, actor_state=actor_state,
                  partner_system_priority=a["sys_priority"], partner_system=a["sys_id"], partner_key=a["key"],
                  partner_port_priority=a["port_priority"], partner_port_number=a["port_id"],
                  partner_state=0x04 | 0x01 | 0x02)
    fields.update(overrides)
    return bytes(Ether(src=src, dst=LACP_MAC, type=0x8809) / SlowProtocol(subtype=1) / LACP(**fields))


class PartnerSender:
    """Sends the crafted partner's LACPDUs on every link every 0.5 s until stopped."""

    def __init__(self, lab, frames: dict[str, bytes]):
        self.lab, self.frames = lab, frames
        self.stop_ev = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop_ev.is_set():
            for link, f in self.frames.items():
                send_raw(link, [f], ns=self.lab.peer_ns)
            self.stop_ev.wait(0.5)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        self.thread.join(timeout=10)


def test_lacp_with_crafted_partner(vswitchd, topo):
    """LACP against LACPDUs crafted with scapy: our LACPDUs are well-formed and name us; a partner
    that answers in sync brings both members to collecting/distributing; a broadcast leaves by one
    member only; malformed LACPDUs are dropped and counted and change nothing; a partner that stops
    sending expires after 3 s and is defaulted 3 s later (lacp-time=fast); lacp-fallback-ab then
    makes the bond active-backup."""
    d = vswitchd
    lab = make_lab(d, topo, None, ours=["lacp=active", "other_config:lacp-time=fast", "bond_mode=balance-tcp"])
    ours = lab.lacp_members()
    frames = {}
    for i, (our_link, link) in enumerate(zip(lab.ours, lab.theirs)):
        frames[link] = _lacpdu(f"02:aa:00:00:01:0{i + 1}", i + 1, ours[our_link])
    with PartnerSender(lab, frames):
        assert wait_until(lambda: all(m["mux_state"] == "collecting_distributing" and m["may_enable"]
                                      for m in lab.lacp_members().values()), timeout=10), lab.lacp_show()
        show = lab.lacp_show()
        assert show["status"] == "negotiated"
        for i, our_link in enumerate(lab.ours):
            p = lab.lacp_members()[our_link]["partner"]
            assert (p["sys_id"], p["sys_priority"], p["key"], p["port_id"]) == (PARTNER_SYS, 100, 7, i + 1), p

        # Our LACPDUs: to the Slow Protocols address, from us, in sync, every second (the
        # partner asked for short timeouts).
        needle = bytes.fromhex("8809") + b"\x01\x01"
        with Capture(lab.theirs[0], needle, ns=lab.peer_ns, seconds=2.5) as cap:
            pass
        pdus = [Ether(f.raw) for f in cap.frames if not f.outgoing]
        assert len(pdus) >= 2, cap.frames
        lacp = pdus[-1][LACP]
        assert pdus[-1].dst == LACP_MAC
        assert lacp.actor_system == show["sys_id"] and lacp.actor_key == show["key"]
        assert lacp.actor_state & 0x3f == ACTOR_ALL, hex(lacp.actor_state)
        assert (lacp.partner_system, lacp.partner_key) == (PARTNER_SYS, 7)

        # A broadcast from our host leaves by exactly one member.
        tag = b"bond-bcast-" + names.unique("o").encode()
        caps = [Capture(link, tag, ns=lab.peer_ns, seconds=3).start() for link in lab.theirs]
        send_raw(lab.hosts[0].ifname, [eth_frame(lab.hosts[0].mac, BROADCAST, tag)], ns=lab.hosts[0].ns)
        copies = sum(len(c.stop()) for c in caps)
        assert copies == 1, f"a broadcast left the bond {copies} times"

        # Malformed LACPDUs: dropped, counted, not forwarded, partner unchanged.
        good = frames[lab.theirs[0]]
        bad = [good[:60],                                                        # truncated
               _lacpdu("02:aa:00:00:01:01", 1, ours[lab.ours[0]], actor_length=19),   # bad actor TLV
               _lacpdu("02:aa:00:00:01:01", 1, ours[lab.ours[0]], partner_type=3)]    # bad partner TLV
        before = d.coverage()
        with host_capture(lab.hosts[0], bytes.fromhex("8809"), seconds=2) as hcap:
            send_raw(lab.theirs[0], bad, ns=lab.peer_ns)
            assert wait_until(lambda: _coverage_delta(d, before, "drop_lacp_malformed") >= 3), d.coverage()
            hcap.stop()
        assert _coverage_delta(d, before, "drop_lacp_malformed") == 3
        assert hcap.frames == [], "an LACPDU was forwarded to a host"
        assert lab.lacp_members()[lab.ours[0]]["partner"]["sys_id"] == PARTNER_SYS

    # The partner went silent: EXPIRED after 3 s, DEFAULTED 3 s later, no member carries traffic.
    t0 = time.monotonic()
    assert wait_until(lambda: all(m["rx_state"] == "expired" for m in lab.lacp_members().values()), timeout=5), \
        lab.lacp_show()
    expired_after = time.monotonic() - t0
    assert wait_until(lambda: all(m["rx_state"] == "defaulted" for m in lab.lacp_members().values()), timeout=6), \
        lab.lacp_show()
    assert 1.5 < expired_after < 4.5, expired_after
    show = lab.lacp_show()
    assert show["status"] == "configured"
    for m in show["members"]:
        assert m["partner"]["sys_id"] == "00:00:00:00:00:00" and not m["may_enable"], m
        assert "defaulted" in m["actor"]["state_bits"], m
    assert not any(m["enabled"] for m in lab.bond_show()["members"])

    # lacp-fallback-ab: without a partner the bond works as active-backup.
    d.vsctl_ok("set", "port", lab.bond, "other_config:lacp-fallback-ab=true")
    assert wait_until(lambda: lab.bond_show()["effective_mode"] == "active-backup"
                      and lab.bond_show()["active_member"] is not None, timeout=5), lab.bond_show()
    assert all(m["may_enable"] for m in lab.bond_show()["members"])


# -- active-backup details against a raw peer ---------------------------------------------------
def test_active_backup_admissibility_announcements_and_delays(vswitchd, topo):
    """active-backup without LACP: frames arriving on the backup member are dropped and counted;
    on failover the new active member announces every MAC learned elsewhere (RARP, as Open vSwitch
    does); bond_updelay holds a returning member back; bond_downdelay keeps a failing one a
    while; without bond-primary a returning member does not take over."""
    d = vswitchd
    lab = make_lab(d, topo, None, ours=["bond_mode=active-backup"], n_hosts=2)
    assert ping(lab.hosts[0], lab.hosts[1].ip, count=2).rc == 0   # both hosts' MACs learned
    assert wait_until(lambda: lab.bond_show()["active_member"] == lab.ours[0], timeout=5), lab.bond_show()
    active, backup = lab.theirs

    tag = b"bond-ab-" + names.unique("o").encode()
    frame = eth_frame("02:5c:00:00:00:01", lab.hosts[0].mac, tag)
    before = d.coverage()
    with host_capture(lab.hosts[0], tag, seconds=3) as cap:
        send_raw(backup, [frame], ns=lab.peer_ns)
        cap.stop()
    assert cap.frames == [], "a frame received on the backup member was forwarded"
    assert wait_until(lambda: _coverage_delta(d, before, "drop_bond_inactive_member") >= 1), d.coverage()
    with host_capture(lab.hosts[0], tag, seconds=3) as cap:
        send_raw(active, [frame], ns=lab.peer_ns)
        cap.stop()
    assert len(cap.frames) == 1, "a frame received on the active member was not delivered"

    # Failover: RARP announcements of both hosts' MACs leave by the new active member.
    caps = {h.mac: Capture(backup, bytes.fromhex("ffffffffffff") + bytes.fromhex(h.mac.replace(":", "")) +
                           bytes.fromhex("8035"), ns=lab.peer_ns, seconds=3).start() for h in lab.hosts}
    check(["ip", "link", "set", lab.ours[0], "down"])
    for mac, c in caps.items():
        frames = [f for f in c.stop() if not f.outgoing]
        assert len(frames) == 1, f"no gratuitous RARP for {mac} on the new active member: {frames}"
    assert lab.bond_show()["active_member"] == lab.ours[1]

    # bond_updelay: the returning member waits 1.5 s before it is enabled, and does not preempt.
    d.vsctl_ok("set", "port", lab.bond, "bond_updelay=1500", "bond_downdelay=1000")
    check(["ip", "link", "set", lab.ours[0], "up"])
    assert wait_until(lambda: lab.members()[lab.ours[0]]["carrier"], timeout=3)
    t0 = time.monotonic()
    m = lab.members()[lab.ours[0]]
    assert not m["enabled"] and m["delay_ms"] is not None, m
    assert wait_until(lambda: lab.members()[lab.ours[0]]["enabled"], timeout=4)
    assert time.monotonic() - t0 > 0.9
    assert lab.bond_show()["active_member"] == lab.ours[1], "a returning member took over without bond-primary"

    # bond_downdelay: the failing active member stays enabled for 1 s, then traffic moves.
    check(["ip", "link", "set", lab.ours[1], "down"])
    t0 = time.monotonic()
    assert wait_until(lambda: not lab.members()[lab.ours[1]]["carrier"], timeout=3)
    assert lab.members()[lab.ours[1]]["enabled"], "disabled before bond_downdelay expired"
    assert wait_until(lambda: lab.bond_show()["active_member"] == lab.ours[0], timeout=4)
    assert time.monotonic() - t0 > 0.7


# -- bad input ------------------------------------------------------------------------------------
def _store(d) -> dict:
    """The committed configuration and its sequence number (the `get` method)."""
    with RawClient(d.socket) as rc:
        reply = rc.request("get")
    return {"seq": reply["result"]["seq"], "config": reply["result"]["config"]}


def _refused(d, *args, want: str):
    before = _store(d)
    r = d.vsctl(*args)
    assert r.rc != 0, f"vsctl {' '.join(args)} was accepted"
    assert want in r.err, f"vsctl {' '.join(args)}: expected {want!r} in the error, got {r.err!r}"
    assert _store(d) == before, f"vsctl {' '.join(args)} changed the config although it failed"


def test_bond_configuration_errors(vswitchd, topo):
    """Bad bond input is refused with a message naming the problem, and nothing changes; the
    member commands work."""
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    a, b, c, e = (topo.add_link_pair()[0] for _ in range(4))
    d.vsctl_ok("add-port", br, e)
    bond = names.unique(names.KIND_OTHER)
    _refused(d, "add-bond", br, bond, a, e, want=f"a port named {e} already exists")
    _refused(d, "add-bond", br, bond, a, "lacp=active", want="requires at least 2 interfaces")
    # A port without any interface, sent raw (vsctl cannot say it): refused by the store.
    before = _store(d)
    with RawClient(d.socket) as rc:
        reply = rc.request("transact", {"ops": [{"op": "add-port", "bridge": br, "port": bond, "interfaces": []}]})
    assert "error" in reply and "non-empty" in reply["error"]["message"], reply
    assert _store(d) == before
    _refused(d, "add-bond", br, bond, a, b, "bond_mode=balance-tcp", want="balance-tcp requires LACP")
    _refused(d, "add-bond", br, bond, a, b, "bond_mode=round-robin", want="invalid value 'round-robin'")
    _refused(d, "add-bond", br, bond, a, b, "lacp=on", want="invalid value 'on'")
    d.vsctl_ok("add-bond", br, bond, a, b, "lacp=active", "bond_mode=balance-tcp")
    _refused(d, "set", "port", bond, "lacp=off", want="balance-tcp requires LACP")
    _refused(d, "set", "port", bond, "other_config:lacp-time=medium", want="expected one of fast, slow")
    _refused(d, "set", "port", bond, "other_config:lacp-fallback-ab=yes", want="expected one of true, false")
    _refused(d, "set", "port", bond, "other_config:bond-rebalance-interval=20000", want="0..10000")
    _refused(d, "set", "port", bond, "bond_updelay=-5", want="bond_updelay")
    _refused(d, "set", "port", bond, "bond_downdelay=soon", want="bond_downdelay")
    _refused(d, "add-bond-iface", bond, e, want=f"a port named {e} already exists")
    _refused(d, "add-bond-iface", "nosuchbond", c, want="no port named nosuchbond")
    _refused(d, "del-bond-iface", bond, e, want=f"does not have an interface {e}")

    # Membership changes one interface at a time, down to the last one, which stays.
    d.vsctl_ok("add-bond-iface", bond, c)
    assert wait_until(lambda: {m["name"] for m in d.vsappctl_json("bond/show", bond)["bonds"][0]["members"]}
                      == {a, b, c}, timeout=5)
    d.vsctl_ok("del-bond-iface", bond, a)
    d.vsctl_ok("del-bond-iface", bond, b)
    assert sorted(d.vsctl_ok("list-ifaces", br).split()) == sorted([c, e])
    _refused(d, "del-bond-iface", bond, c, want="last interface")
    d.vsctl_ok("--if-exists", "del-bond-iface", bond, a)
    shown = d.vsappctl_json("bond/show", bond)["bonds"][0]
    assert [m["name"] for m in shown["members"]] == [c], shown
    assert d.vsappctl("bond/show", "nosuchbond").rc != 0
    text = d.vsappctl("bond/show", bond)
    assert text.rc == 0 and f"---- {bond} ----" in text.out and "bond_mode: balance-tcp" in text.out, text
    text = d.vsappctl("lacp/show", bond)
    assert text.rc == 0 and "status: active" in text.out and "actor sys_id:" in text.out, text

    # One interface and no LACP: a plain port again; a second interface makes it a bond again.
    d.vsctl_ok("set", "port", bond, "lacp=off", "bond_mode=active-backup")
    assert d.vsappctl("bond/show", bond).rc != 0
    assert bond in d.list_ports(br)
    d.vsctl_ok("add-bond-iface", bond, a)
    shown = d.vsappctl_json("bond/show", bond)["bonds"][0]
    assert sorted(m["name"] for m in shown["members"]) == sorted([a, c]), shown
    assert shown["bond_mode"] == "active-backup" and shown["lacp_status"] == "off"
