"""OpenFlow 1.3 meters (docs/qos.md "OpenFlow meters", docs/controller.md), driven by Debian's
`ovs-ofctl -O OpenFlow13` (add-meter, mod-meter, del-meter, dump-meters, meter-stats,
meter-features, add-flow ... meter:N) over the bridge's passive listener on 127.0.0.1, and measured
with iperf3 between two namespaces: TCP through a kbit/s meter within 10 % of its rate, a UDP
flood through a packets/s meter cut to its rate, and the meter's counters agreeing with what
iperf3 saw arrive."""
from __future__ import annotations

import json
import os
import re
import socket
import struct

from lib.controller import wait_until
from lib.traffic import Iperf3Server, Sniffer, iperf3
from test_openflow13 import listen, ofctl, ofports


def bridge_with_listener(lan):
    net = lan(2)
    d, br, (h1, h2) = net.daemon, net.bridge, net.hosts
    target = listen(d, br)
    ports = ofports(ofctl(target, "show").stdout)
    ofctl(target, "add-flow", "priority=0,actions=NORMAL")
    return d, target, h1, h2, ports[h1.sw_port], ports[h2.sw_port]


def meter_stats(target: str) -> dict[int, dict]:
    """meter-stats as {meter: {flow_count, packet_in_count, byte_in_count, bands: [(pkts, bytes)]}}."""
    out, cur = {}, None
    for line in ofctl(target, "meter-stats").stdout.splitlines():
        m = re.match(r"meter:(\d+) flow_count:(\d+) packet_in_count:(\d+) byte_in_count:(\d+)", line.strip())
        if m:
            cur = out[int(m.group(1))] = {"flow_count": int(m.group(2)), "packet_in_count": int(m.group(3)),
                                          "byte_in_count": int(m.group(4)), "bands": []}
            continue
        b = re.match(r"\d+: packet_count:(\d+) byte_count:(\d+)", line.strip())
        if b and cur is not None:
            cur["bands"].append((int(b.group(1)), int(b.group(2))))
    return out


def test_meter_table_through_ovs_ofctl(lan):
    d, target, h1, h2, p1, p2 = bridge_with_listener(lan)
    feats = ofctl(target, "meter-features").stdout
    assert "max_meter:4096" in feats and "band_types: drop" in feats, feats
    assert re.search(r"capabilities: kbps pktps burst stats", feats), feats
    ofctl(target, "add-meter", "meter=1,kbps,burst,stats,bands=type=drop,rate=20000,burst_size=8000")
    ofctl(target, "add-meter", "meter=2,pktps,bands=type=drop,rate=1000")
    dump = ofctl(target, "dump-meters").stdout
    assert re.search(r"meter=1 kbps burst stats bands=\s*type=drop rate=20000 burst_size=8000", dump), dump
    assert re.search(r"meter=2 pktps bands=\s*type=drop rate=1000", dump), dump
    # The spec's errors, as ovs-ofctl prints them; nothing changed.
    r = ofctl(target, "add-meter", "meter=1,kbps,bands=type=drop,rate=5", check=False)
    assert r.returncode != 0 and "OFPMMFC_METER_EXISTS" in r.stderr, r.stderr
    r = ofctl(target, "mod-meter", "meter=9,kbps,bands=type=drop,rate=5", check=False)
    assert r.returncode != 0 and "OFPMMFC_UNKNOWN_METER" in r.stderr, r.stderr
    r = ofctl(target, "add-meter", "meter=3,kbps,bands=type=dscp_remark,rate=5,prec_level=1", check=False)
    assert r.returncode != 0 and "OFPMMFC_BAD_BAND" in r.stderr, r.stderr
    r = ofctl(target, "add-flow", f"in_port={p1},actions=meter:7,output:{p2}", check=False)
    assert r.returncode != 0 and "OFPMMFC_UNKNOWN_METER" in r.stderr, r.stderr
    # A rule with a meter; dump-flows shows the instruction first; deleting the meter takes it.
    ofctl(target, "add-flow", f"priority=100,udp,in_port={p1},actions=meter:2,output:{p2}")
    assert f"actions=meter:2,output:{p2}" in ofctl(target, "dump-flows").stdout
    assert meter_stats(target)[2]["flow_count"] == 1
    ofctl(target, "del-meter", "meter=2")
    assert "meter:2" not in ofctl(target, "dump-flows").stdout
    assert "meter=2" not in ofctl(target, "dump-meters").stdout
    ofctl(target, "del-meters")
    assert "meter=" not in ofctl(target, "dump-meters").stdout


def test_kbps_meter_limits_tcp_to_its_rate(lan):
    d, target, h1, h2, p1, p2 = bridge_with_listener(lan)
    ofctl(target, "add-meter", "meter=1,kbps,burst,stats,bands=type=drop,rate=20000,burst_size=8000")
    ofctl(target, "add-flow", f"priority=100,tcp,in_port={p1},actions=meter:1,output:{p2}")
    res = iperf3(h1, h2, seconds=3, extra=["-O", "1"])
    assert res["error"] is None, res["raw"]
    rate = res["bps"] / 1e6
    print(f"TCP through a 20000 kbps meter (burst 8000 kbit): {rate:.2f} Mbit/s")
    assert 18 <= rate <= 22, f"TCP through a 20 Mbit/s meter: {rate:.1f} Mbit/s"
    st = meter_stats(target)[1]
    assert st["bands"][0][0] > 0, f"the drop band dropped nothing: {st}"
    # Modifying the rate acts on the flows already cached: 5 Mbit/s now.
    ofctl(target, "mod-meter", "meter=1,kbps,burst,stats,bands=type=drop,rate=5000,burst_size=2000")
    rate = iperf3(h1, h2, seconds=3, extra=["-O", "1"])["bps"] / 1e6
    print(f"TCP through the meter modified to 5000 kbps (burst 2000 kbit): {rate:.2f} Mbit/s")
    assert 4.5 <= rate <= 5.5, f"TCP through the meter modified to 5 Mbit/s: {rate:.1f} Mbit/s"


def test_pktps_meter_cuts_a_udp_flood_and_counts_it(lan):
    d, target, h1, h2, p1, p2 = bridge_with_listener(lan)
    ofctl(target, "add-meter", "meter=2,pktps,burst,stats,bands=type=drop,rate=1000,burst_size=100")
    ofctl(target, "add-flow", f"priority=100,udp,in_port={p1},actions=meter:2,output:{p2}")
    # 10,000 datagrams/s of 100 bytes for 2 s: 10x the meter's rate. h2's eth0 counts what
    # arrives: IPv4 addresses then UDP ports 40000 -> 5202 (iperf3 --cport).
    needle = socket.inet_aton(h1.ip) + socket.inet_aton(h2.ip) + struct.pack("!HH", 40000, 5202)
    with Iperf3Server(h2, 5202), Sniffer(h2, needle, seconds=10) as sniff:
        r = h1.exec(["iperf3", "-c", h2.ip, "-p", "5202", "--cport", "40000", "-u", "-b", "8M", "-l", "100",
                     "-t", "2", "-J"], timeout=30)
        arrived = sniff.stop()["matched"]
    end = json.loads(r.out)["end"]["sum"]
    sent = end["packets"]
    print(f"UDP 100-byte datagrams through a 1000 pktps meter (burst 100): {arrived} of {sent} arrived in 2 s")
    assert sent >= 15000, end
    assert 1800 <= arrived <= 2300, f"{arrived} of {sent} datagrams through a 1000 pkt/s meter in 2 s"
    st = meter_stats(target)[2]
    # iperf3 opens a UDP test with one datagram of its own (not in its count): one more may enter.
    assert sent <= st["packet_in_count"] <= sent + 2, (st, end)
    passed = st["packet_in_count"] - st["bands"][0][0]
    assert passed == arrived, f"the meter passed {passed} datagrams, {arrived} arrived at h2"
    assert st["byte_in_count"] >= sent * (100 + 8 + 20 + 14), st  # Ethernet frames: payload + UDP + IPv4 + Ethernet


def test_meters_survive_a_restart_and_go_with_their_bridge(lan):
    d, target, h1, h2, p1, p2 = bridge_with_listener(lan)
    ofctl(target, "add-meter", "meter=3,pktps,burst,stats,bands=type=drop,rate=500,burst_size=50")
    ofctl(target, "add-flow", f"priority=100,udp,in_port={p1},actions=meter:3,output:{p2}")
    assert wait_until(lambda: os.path.exists(str(d.config) + ".meters"), 5), "meters saved within a second"
    d.stop()
    d.start()
    assert wait_until(lambda: ofctl(target, "dump-meters", check=False).returncode == 0, 5)
    dump = ofctl(target, "dump-meters").stdout
    assert re.search(r"meter=3 pktps burst stats bands=\s*type=drop rate=500 burst_size=50", dump), dump
    assert f"actions=meter:3,output:{p2}" in ofctl(target, "dump-flows").stdout
    with Iperf3Server(h2, 5203):
        r = h1.exec(["iperf3", "-c", h2.ip, "-p", "5203", "-u", "-b", "4M", "-l", "100", "-t", "1", "-J"], timeout=30)
    end = json.loads(r.out)["end"]["sum"]
    arrived = end["packets"] - end["lost_packets"]
    assert arrived <= 50 + 500 + 60, f"{arrived} of {end['packets']} datagrams: the meter works after the restart"
    assert meter_stats(target)[3]["bands"][0][0] > 0
    # A bridge deleted and added again starts without meters.
    br = d.vsctl_ok("port-to-br", h1.sw_port).strip()
    d.vsctl_ok("del-br", br)
    d.vsctl_ok("add-br", br)
    target = listen(d, br)
    assert "meter=" not in ofctl(target, "dump-meters").stdout
