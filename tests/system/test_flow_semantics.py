"""The three cases of issue #14 as a user meets them, on real namespaces: a rule's rewrite that
must not depend on what the cache saw first, an ACL whose dropped frames must not teach the FDB,
and a rule set that fans out without bound, which must cost one dropped packet and not the switch.
"""
from __future__ import annotations

import time

import pytest

from lib import daemon as daemon_mod
from lib.proc import run
from lib.traffic import marker, ping
from lib.vlan import BROADCAST, Capture, eth_frame, send_raw, wait_until

VSOFCTL = daemon_mod.BUILD / "utilities" / "vsofctl"


def ofctl_ok(d, *args: str, stdin: str | None = None) -> str:
    r = run([str(VSOFCTL), "--socket", str(d.socket), *args], timeout=30, input=stdin)
    assert r.rc == 0, f"vsofctl {' '.join(args)} failed:\n{r}"
    return r.out


def fdb_port(d, br: str, mac: str) -> str | None:
    for e in d.fdb(br):
        if e["mac"] == mac:
            return e["port"]
    return None


def test_mod_vlan_vid_rewrites_the_tag_whatever_the_cache_saw_first(lan):
    net = lan(2)
    d, (h1, h2) = net.daemon, net.hosts
    ofctl_ok(d, "add-flow", net.bridge,
             f"priority=100,in_port={h1.sw_port},actions=mod_vlan_vid:42,output:{h2.sw_port}")
    base = marker()
    untagged = eth_frame(h1.mac, BROADCAST, base + b"-untagged")
    tagged = eth_frame(h1.mac, BROADCAST, base + b"-tagged-7", vid=7)
    cap = Capture("eth0", base, ns=h2.ns, seconds=8, want=3).start()
    assert send_raw("eth0", [untagged], ns=h1.ns) == 1
    time.sleep(0.3)  # the first frame's megaflow is installed before the tagged one arrives
    assert send_raw("eth0", [tagged, untagged], ns=h1.ns) == 2
    seen = [f for f in cap.stop() if not f.outgoing]
    assert len(seen) == 3, f"h2 saw {seen}"
    tags = [[(tpid, vid) for tpid, _pcp, _dei, vid in f.tags] for f in seen]
    assert tags == [[(0x8100, 42)]] * 3, \
        f"every frame must leave with one tag, VID 42 (Open vSwitch's mod_vlan_vid): {tags}"


def test_frames_an_acl_drops_do_not_move_the_fdb(lan):
    net = lan(3)
    d, (h1, h2, h3) = net.daemon, net.hosts
    assert ping(h3, h2.ip).rc == 0
    assert fdb_port(d, net.bridge, h3.mac) == h3.sw_port
    ofctl_ok(d, "add-flow", net.bridge, f"priority=200,in_port={h1.sw_port},dl_src={h3.mac},actions=drop")
    spoofed = [eth_frame(h3.mac, BROADCAST, marker() + b"-spoof") for _ in range(10)]
    for _ in range(3):  # across several of the datapath's once-a-second used-flow reports
        assert send_raw("eth0", spoofed, ns=h1.ns) == len(spoofed)
        time.sleep(1.0)
    time.sleep(1.5)
    assert fdb_port(d, net.bridge, h3.mac) == h3.sw_port, \
        f"the spoofed MAC moved: {d.fdb(net.bridge)}"
    assert ping(h2, h3.ip).rc == 0, "traffic for h3 no longer reaches h3"
    assert d.coverage().get("drop_no_actions", 0) >= 30


def test_unbounded_resubmit_fan_out_costs_one_packet_not_the_switch(lan):
    victim = lan(2)
    other = lan(2, subnet="10.231.1")
    d = victim.daemon
    h1, h2 = victim.hosts
    lines = [f"table={t},priority=1,actions=resubmit(,{t + 1}),resubmit(,{t + 1})" for t in range(40)]
    lines.append(f"table=40,priority=1,actions=output:{h2.sw_port}")
    ofctl_ok(d, "add-flows", victim.bridge, "-", stdin="\n".join(lines) + "\n")
    before = d.coverage().get("drop_xlate_resubmit_limit", 0)
    r = h1.exec(["ping", "-c", "1", "-W", "1", h2.ip])  # ARP first: it is translated too
    assert r.rc != 0, "the ping passed through a rule set that must drop everything"
    assert wait_until(lambda: d.coverage().get("drop_xlate_resubmit_limit", 0) > before, timeout=5), \
        f"drop_xlate_resubmit_limit did not move: {d.coverage()}"
    t0 = time.monotonic()
    d.vsctl_ok("show")
    assert time.monotonic() - t0 < 2, "vsctl is slow while the fan-out is translated"
    assert ping(other.hosts[0], other.hosts[1].ip).rc == 0, "the other bridge stopped forwarding"
    assert d.running()
    assert "went over 4,096 resubmits" in d.log_tail(), "no log line says why the packet was dropped"
