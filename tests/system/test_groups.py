"""OpenFlow 1.3 groups (docs/controller.md "Groups"), driven by Debian's real `ovs-ofctl -O
OpenFlow13` (add-group, mod-group, del-groups, dump-groups, dump-group-stats,
dump-group-features) over the bridge's passive listener on 127.0.0.1, with traffic between
namespaces: an all group copies a frame to every bucket's port, a select group spreads many flows
over its buckets and keeps one flow on one bucket, a fast_failover group moves traffic when the
watched veth loses its carrier and back when it returns, and the group and bucket counters equal
what the receivers captured. The refusals ovs-ofctl prints carry the spec's error codes, and the
connection carries on after them."""
from __future__ import annotations

import re
import subprocess

from lib.controller import VSOFCTL, vsofctl, wait_until
from lib.traffic import Sniffer, marker, send_frames
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from test_openflow13 import flows, listen, ofctl, ofports


def frames(src: str, tag: bytes, sports, dport: int = 9000) -> list[bytes]:
    """One UDP frame per source port (each its own flow) to a MAC nobody has, carrying `tag`."""
    return [bytes(Ether(src=src, dst="02:00:00:00:99:99") / IP(src="10.231.0.1", dst="10.231.0.99") /
                  UDP(sport=s, dport=dport) / tag) for s in sports]


def capture(receivers, tag: bytes, send):
    """Counts the frames carrying `tag` that each receiver gets while send() runs."""
    sniffers = [Sniffer(h, tag, seconds=8).start() for h in receivers]
    try:
        send()
    finally:
        counts = [s.stop()["matched"] for s in sniffers]
    return counts


def group_stats(target: str) -> dict[int, dict]:
    """dump-group-stats: group_id -> {'packets': n, 'bytes': n, 'ref': n, 'buckets': [packets...]}."""
    out = {}
    for line in ofctl(target, "dump-group-stats").stdout.splitlines():
        m = re.search(r"group_id=(\d+),duration=[\d.]+s,ref_count=(\d+),packet_count=(\d+),byte_count=(\d+)", line)
        if not m:
            continue
        buckets = [int(p) for p in re.findall(r"bucket\d+:packet_count=(\d+)", line)]
        out[int(m.group(1))] = {"ref": int(m.group(2)), "packets": int(m.group(3)), "bytes": int(m.group(4)),
                                "buckets": buckets}
    return out


def with_listener(lan, n: int = 3):
    net = lan(n)
    target = listen(net.daemon, net.bridge)
    ports = ofports(ofctl(target, "show").stdout)
    return net, target, [ports[h.sw_port] for h in net.hosts]


def test_all_group_copies_to_every_bucket_and_counts(lan):
    net, target, (p1, p2, p3) = with_listener(lan)
    h1, h2, h3 = net.hosts
    ofctl(target, "add-group", f"group_id=1,type=all,bucket=output:{p2},bucket=output:{p3}")
    ofctl(target, "add-flow", f"priority=100,in_port={p1},actions=group:1")
    desc = ofctl(target, "dump-groups").stdout
    assert f"group_id=1,type=all,bucket=actions=output:{p2},bucket=actions=output:{p3}" in desc, desc
    assert any(f["actions"] == "group:1" for f in flows(target)), flows(target)

    tag = marker()
    counts = capture([h2, h3], tag, lambda: send_frames(h1, frames(h1.mac, tag, range(5000, 5005))))
    assert counts == [5, 5], f"an all group gives every bucket's port a copy: {counts}"
    # Counters arrive with the datapath's stats sweep (~1 s): the group saw 5 packets, each bucket 5.
    assert wait_until(lambda: group_stats(target).get(1, {}).get("packets") == 5, 5), group_stats(target)
    st = group_stats(target)[1]
    assert st["buckets"] == [5, 5] and st["ref"] == 1, st
    assert st["bytes"] == 5 * len(frames(h1.mac, tag, [5000])[0]), st


def test_select_spreads_flows_and_keeps_each_flow_on_one_bucket(lan):
    net, target, (p1, p2, p3) = with_listener(lan)
    h1, h2, h3 = net.hosts
    ofctl(target, "add-group", f"group_id=7,type=select,bucket=weight:1,output:{p2},bucket=weight:1,output:{p3}")
    ofctl(target, "add-flow", f"priority=100,udp,in_port={p1},actions=group:7")

    tag = marker()
    counts = capture([h2, h3], tag, lambda: send_frames(h1, frames(h1.mac, tag, range(6000, 6064))))
    assert sum(counts) == 64, f"a select group sends each packet to exactly one bucket: {counts}"
    assert min(counts) >= 10, f"64 flows over two equal buckets land on both: {counts}"

    tag = marker()  # one flow, 20 packets: always the same bucket (the megaflow and fresh upcalls agree)
    counts = capture([h2, h3], tag, lambda: [send_frames(h1, frames(h1.mac, tag, [6100] * 4)) for _ in range(5)])
    assert sorted(counts) == [0, 20], f"one flow stays on one bucket: {counts}"
    assert wait_until(lambda: sum(group_stats(target).get(7, {}).get("buckets", [])) == 84, 5), group_stats(target)
    assert group_stats(target)[7]["packets"] == 84


def test_fast_failover_follows_the_watched_ports_carrier(lan):
    net, target, (p1, p2, p3) = with_listener(lan)
    h1, h2, h3 = net.hosts
    ofctl(target, "add-group",
          f"group_id=3,type=ff,bucket=watch_port:{p2},output:{p2},bucket=watch_port:{p3},output:{p3}")
    ofctl(target, "add-flow", f"priority=100,in_port={p1},actions=group:3")

    def burst(receivers=(h2, h3)):
        tag = marker()
        return capture(list(receivers), tag, lambda: send_frames(h1, frames(h1.mac, tag, range(7000, 7005))))

    assert burst() == [5, 0], "the first live bucket (p2) carries the traffic"
    h2.exec(["ip", "link", "set", h2.ifname, "down"])  # the switch's end loses its carrier
    try:
        # (h2's end is down: only h3 can be captured on)
        assert wait_until(lambda: burst([h3]) == [5], 8), "after p2's carrier goes, the p3 bucket takes over"
    finally:
        h2.exec(["ip", "link", "set", h2.ifname, "up"])
    assert wait_until(lambda: burst() == [5, 0], 8), "p2 back: the first bucket again"


def test_group_mods_refused_with_the_spec_errors_and_deletes_take_rules(lan):
    net, target, (p1, p2, p3) = with_listener(lan)

    def refused(*args) -> str:
        r = ofctl(target, *args, check=False)
        assert r.returncode != 0, f"{args} should be refused: {r.stdout}"
        return r.stderr

    ofctl(target, "add-group", f"group_id=1,type=all,bucket=output:{p2}")
    assert "OFPGMFC_GROUP_EXISTS" in refused("add-group", f"group_id=1,type=all,bucket=output:{p3}")
    assert "OFPGMFC_UNKNOWN_GROUP" in refused("mod-group", f"group_id=2,type=all,bucket=output:{p3}")
    assert "OFPBAC_BAD_OUT_GROUP" in refused("add-flow", f"in_port={p1},actions=group:99")
    # vsofctl's group:N names the same groups; a missing one is refused before it is saved.
    r = subprocess.run([str(VSOFCTL), "--socket", str(net.daemon.socket), "add-flow", net.bridge,
                        f"in_port={p1},actions=group:99"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "no group 99" in r.stderr, r
    vsofctl(net.daemon.socket, "add-flow", net.bridge, f"priority=1,in_port={p3},actions=group:1")
    ofctl(target, "add-group", "group_id=2,type=all,bucket=group:1")
    assert "OFPGMFC_LOOP" in refused("mod-group", "group_id=1,type=all,bucket=group:2")
    assert "OFPGMFC_CHAINED_GROUP" in refused("del-groups", "group_id=1")

    # Still the same connection semantics: the good mods went through, the refused ones did not.
    ofctl(target, "mod-group", f"group_id=1,type=all,bucket=output:{p3}")
    desc = ofctl(target, "dump-groups").stdout
    assert f"group_id=1,type=all,bucket=actions=output:{p3}" in desc and "group_id=4" not in desc, desc

    # Deleting a group deletes the rules that use it (OpenFlow 1.3.5 section 6.5), and only those.
    ofctl(target, "add-flow", f"priority=10,in_port={p1},actions=group:2")
    ofctl(target, "add-flow", f"priority=20,in_port={p2},actions=output:{p3}")
    ofctl(target, "del-groups", "group_id=2")
    acts = [f["actions"] for f in flows(target)]
    assert "group:2" not in acts and f"output:{p3}" in acts, acts
    ofctl(target, "del-groups")  # OFPG_ALL
    assert "group_id" not in ofctl(target, "dump-groups").stdout

    feats = ofctl(target, "dump-group-features").stdout
    assert re.search(r"Types:\s+0xf\b", feats) and feats.count("max_groups=0x10000") == 4, feats
    assert "fast failover group:" in feats and re.search(r"actions: output group set_field", feats), feats


def test_groups_survive_a_restart_and_a_crash(lan):
    """Groups persist like rules (flows file + journal): after SIGKILL (journal replay) and after a
    clean stop (snapshot), dump-groups shows them again and the rule using them still forwards."""
    net, target, (p1, p2, p3) = with_listener(lan)
    d, (h1, h2, h3) = net.daemon, net.hosts
    ofctl(target, "add-group", f"group_id=5,type=select,bucket=weight:2,output:{p2},bucket=weight:1,output:{p3}")
    ofctl(target, "add-group", f"group_id=6,type=all,bucket=group:5")
    ofctl(target, "add-group", "group_id=8,type=all,bucket=output:1")
    ofctl(target, "del-groups", "group_id=8")
    ofctl(target, "add-flow", f"priority=100,in_port={p1},actions=group:6")
    want = ofctl(target, "dump-groups").stdout.splitlines()[1:]
    assert len(want) == 2, want

    def same_after(sig):
        # The journal is written within a second of the change (the daemon's flow log timer).
        journal = d.config.with_name(d.config.name + ".journal")
        saved = lambda: journal.exists() and "group_id=6" in journal.read_text(errors="replace")
        assert sig != 9 or wait_until(saved, 5), "the group_mods reach the journal"
        d.stop(sig=sig)
        d.start()
        st = lambda: d.vsctl_json("get", "controller", target.replace("tcp:127.0.0.1:", "ptcp:") + ":127.0.0.1", "status")
        assert wait_until(lambda: st().get("state") == "LISTENING", 10), st()
        got = ofctl(target, "dump-groups").stdout.splitlines()[1:]
        assert sorted(got) == sorted(want), (got, want)
        assert any(f["actions"] == "group:6" for f in flows(target)), flows(target)
        tag = marker()
        counts = capture([h2, h3], tag, lambda: send_frames(h1, frames(h1.mac, tag, range(8000, 8008))))
        assert sum(counts) == 8, counts

    same_after(9)    # SIGKILL: replayed from the journal
    same_after(15)   # SIGTERM: compacted into the flows file


def test_all_indirect_and_ff_groups_equal_open_vswitch(request):
    """Open vSwitch (userspace datapath) as the oracle: the same groups (ovs-ofctl -O OpenFlow13
    add-group on both; ours over a ptcp: listener in its namespace) and rules, the same frames,
    byte-for-byte the same output on every port. Select is left out: its hash is not Open vSwitch's,
    so which bucket a flow takes legitimately differs (docs/controller.md "Groups")."""
    from lib.controller import free_port
    from lib.oracle import OracleLab
    from lib.proc import check
    lab = OracleLab.start(n_ports=4)
    request.addfinalizer(lab.stop)
    port = free_port()
    lab.ours.vsctl_ok("set-fail-mode", lab.bridge, "secure", "--", "set-controller", lab.bridge, f"ptcp:{port}:127.0.0.1")
    st = lambda: lab.ours.vsctl_json("get", "controller", f"ptcp:{port}:127.0.0.1", "status")
    assert wait_until(lambda: st().get("state") == "LISTENING", 5), st()
    groups = ["group_id=2,type=indirect,bucket=output:p4",
              "group_id=1,type=all,bucket=mod_vlan_vid:7,output:p2,bucket=output:p3,bucket=group:2",
              "group_id=3,type=ff,bucket=watch_port:p2,output:p2,bucket=watch_port:p3,output:p3"]
    for g in groups:
        lab.ovs._check(["ovs-ofctl", "-O", "OpenFlow13", "add-group", lab.ovs.bridge, g])
        check(["ip", "netns", "exec", lab.ours_ns, "ovs-ofctl", "-O", "OpenFlow13", "--timeout=10",
               "add-group", f"tcp:127.0.0.1:{port}", g.replace("p2", "2").replace("p3", "3").replace("p4", "4")])
    lab.install(["priority=10,in_port=p1,udp,actions=group:1,output:p4",
                 "priority=10,in_port=p1,tcp,actions=write_actions(output:p2,group:3)",
                 "priority=5,actions=drop"], protocol="OpenFlow13")
    # fast_failover reads the ports' liveness (IFF_RUNNING), which the kernel's linkwatch sets up
    # to a second after a veth comes up: wait for it, as the frames must not race it.
    up = lambda: all("state UP" in check(["ip", "-n", lab.ours_ns, "link", "show", f"p{i}"]) for i in range(1, 5))
    assert wait_until(up, 5), "the switch's veths never reached operstate UP"
    mac_a, mac_b = "02:00:00:00:0a:01", "02:00:00:00:0a:02"
    tag = b"group-oracle"
    frames = [(1, bytes(Ether(src=mac_a, dst=mac_b) / IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=s, dport=53) / tag))
              for s in (1000, 1001)]
    frames.append((1, bytes(Ether(src=mac_a, dst=mac_b) / IP(src="10.9.0.1", dst="10.9.0.2") / TCP(sport=5, dport=80) / tag)))
    diffs = lab.compare(frames)
    assert not diffs, "\n".join(map(str, diffs))
