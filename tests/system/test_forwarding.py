"""Frames cross the switch: ping, TCP with and without offloads, flooding and learning."""
import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from lib.traffic import Sniffer, iperf3, marker, ping, send_frames


def test_ping_both_ways(lan):
    net = lan(2)
    h1, h2 = net.hosts
    r = ping(h1, h2.ip)
    assert r.rc == 0, f"ping {h1.ip} -> {h2.ip} through {net.bridge} failed:\n{r}"
    r = ping(h2, h1.ip)
    assert r.rc == 0, f"ping {h2.ip} -> {h1.ip} through {net.bridge} failed:\n{r}"


def test_del_port_stops_forwarding_and_add_port_restores_it(lan):
    net = lan(2)
    h1, h2 = net.hosts
    d = net.daemon
    assert ping(h1, h2.ip).rc == 0
    d.vsctl_ok("del-port", net.bridge, h2.sw_port)
    assert h2.sw_port not in d.list_ports(net.bridge)
    r = ping(h1, h2.ip, count=2, deadline=2)
    assert r.rc != 0, f"ping still crosses the bridge after del-port {h2.sw_port}:\n{r}"
    d.vsctl_ok("add-port", net.bridge, h2.sw_port)
    r = ping(h1, h2.ip)
    assert r.rc == 0, f"ping fails after the port was added back:\n{r}"


@pytest.mark.slow
@pytest.mark.parametrize("offloads", [True, False], ids=["offloads-on", "offloads-off"])
def test_iperf3_tcp(lan, offloads):
    net = lan(2, offloads=offloads)
    h1, h2 = net.hosts
    for h in (h1, h2):
        feats = h.offloads()
        want = "on" if offloads else "off"
        assert feats.get("tcp-segmentation-offload") == want, feats
    assert ping(h1, h2.ip).rc == 0, "no connectivity before iperf3"
    res = iperf3(h1, h2, seconds=3)
    floor = 10e6
    assert res["error"] is None and res["bytes"] > 0 and res["bps"] > floor, (
        f"TCP through the switch with offloads {'on' if offloads else 'off'}: "
        f"{res['bps'] / 1e6:.1f} Mbit/s, {res['bytes']} bytes received, error={res['error']!r}\n"
        f"{res['raw']}")


def _udp_frame(src_mac, dst_mac, src_ip, dst_ip, tag):
    return bytes(Ether(src=src_mac, dst=dst_mac) / IP(src=src_ip, dst=dst_ip) /
                 UDP(sport=40000, dport=9) / tag)


def test_unknown_unicast_is_flooded(lan):
    net = lan(3)
    h1, h2, h3 = net.hosts
    tag = marker()
    unknown = "02:00:5e:ee:00:01"  # nobody on the LAN has it
    frame = _udp_frame(h1.mac, unknown, h1.ip, "10.231.0.200", tag)
    with Sniffer(h2, tag, seconds=4, want=1) as s2, Sniffer(h3, tag, seconds=4, want=1) as s3:
        sent = send_frames(h1, [frame] * 3)
        assert sent["sent"] == 3, sent
    assert s2.matched >= 1, f"frame to an unlearned MAC did not reach {h2.ns}: {s2.result}"
    assert s3.matched >= 1, f"frame to an unlearned MAC did not reach {h3.ns}: {s3.result}"


def test_learned_unicast_is_not_flooded(lan):
    net = lan(3)
    h1, h2, h3 = net.hosts
    assert ping(h1, h2.ip).rc == 0 and ping(h2, h1.ip).rc == 0  # both MACs learned
    tag = marker()
    frame = _udp_frame(h1.mac, h2.mac, h1.ip, h2.ip, tag)
    with Sniffer(h2, tag, seconds=3, want=3) as s2, Sniffer(h3, tag, seconds=5) as s3:
        assert send_frames(h1, [frame] * 3)["sent"] == 3
        s2.finish()
        s3.stop()
    assert s2.matched == 3, f"{h2.ns} got {s2.matched} of 3 frames addressed to it: {s2.result}"
    assert s3.matched == 0, (f"frame for a learned MAC ({h2.mac} on {h2.sw_port}) was flooded "
                             f"to {h3.ns}: {s3.result}")


def test_broadcast_reaches_every_other_port(lan):
    net = lan(3)
    h1, h2, h3 = net.hosts
    tag = marker()
    frame = _udp_frame(h1.mac, "ff:ff:ff:ff:ff:ff", h1.ip, "10.231.0.255", tag)
    with Sniffer(h2, tag, seconds=4, want=2) as s2, Sniffer(h3, tag, seconds=4, want=2) as s3, \
            Sniffer(h1, tag, seconds=5) as s1:
        assert send_frames(h1, [frame] * 2)["sent"] == 2
        s2.finish()
        s3.finish()
        s1.stop(grace=0.3)
    assert s2.matched == 2 and s3.matched == 2, (s2.result, s3.result)
    assert s1.matched == 0, f"broadcast came back to its sender's port: {s1.result}"


def test_dpif_show_counts_forwarded_packets(lan):
    net = lan(2)
    d = net.daemon
    h1, h2 = net.hosts

    def ports():
        out = {}
        for br in d.vsappctl_json("dpif/show")["bridges"]:
            for p in br["ports"]:
                out[p["name"]] = p
        return out

    before = ports()
    assert set(before) >= {h1.sw_port, h2.sw_port}, before
    assert ping(h1, h2.ip, count=10, deadline=8).rc == 0
    after = ports()
    # 10 echo requests in on h1's port and out of h2's port; 10 replies the other way.
    for port, key in ((h1.sw_port, "rx_packets"), (h2.sw_port, "tx_packets"),
                      (h2.sw_port, "rx_packets"), (h1.sw_port, "tx_packets")):
        assert after[port][key] - before[port][key] >= 10, (port, key, before[port], after[port])
