"""Malformed frames from a host are dropped and counted (coverage/show drop_* counters), never
delivered, and do not disturb traffic around them."""
import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from lib.traffic import Sniffer, mac_bytes, ping_async, send_frames

BAD_SRC = "02:ba:d0:00:00:01"   # marks the malformed frames (the sniffer looks for it)
PER_KIND = 20


def _kinds(dst_mac, src_ip, dst_ip):
    eth_ip = Ether(src=BAD_SRC, dst=dst_mac, type=0x0800)
    good = bytes(Ether(src=BAD_SRC, dst=dst_mac) / IP(src=src_ip, dst=dst_ip) /
                 UDP(sport=1, dport=9) / b"payload!")
    # A veth carries anything from 14 bytes up: the kernel refuses to send a frame shorter than an
    # Ethernet header (EINVAL from AF_PACKET), so the shortest runt is a bare Ethernet header.
    return {
        "runt-header-only-ipv4": bytes(eth_ip),                          # 14 bytes
        "ipv4-header-6-bytes": bytes(eth_ip) + good[14:20],              # 20 bytes
        "ipv4-ihl-beyond-frame": bytes(eth_ip) + bytes([0x4F]) + good[15:34] + b"\0" * 4,  # IHL=15
        "ipv4-ihl-below-5": bytes(eth_ip) + bytes([0x43]) + good[15:],   # IHL=3
    }


def _wait_drops(d, at_least, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        total = d.drop_total()
        if total >= at_least or time.monotonic() > deadline:
            return total
        time.sleep(0.1)


def test_malformed_frames_are_counted_drops_while_ping_works(lan):
    net = lan(2)
    d = net.daemon
    h1, h2 = net.hosts
    kinds = _kinds(h2.mac, h1.ip, h2.ip)
    assert any("drop_" in name for name in d.coverage()), \
        f"coverage/show lists no drop_* counters: {d.coverage()}"

    pinger = ping_async(h1, h2.ip, count=40, interval=0.1, deadline=15)
    uncounted = {}
    with Sniffer(h2, mac_bytes(BAD_SRC), seconds=30) as sniff:
        for name, frame in kinds.items():
            before = d.drop_total()
            sent = send_frames(h1, [frame] * PER_KIND)
            assert sent["sent"] == PER_KIND, f"{name}: kernel refused to send: {sent}"
            after = _wait_drops(d, before + PER_KIND)
            if after - before < PER_KIND:
                uncounted[name] = f"{after - before} of {PER_KIND} counted"
        sniff.stop()
    out, _ = pinger.communicate(timeout=20)
    coverage = {k: v for k, v in d.coverage().items() if "drop_" in k}
    assert not uncounted, f"malformed frames not counted as drops: {uncounted}; {coverage}"
    assert sniff.matched == 0, (f"{sniff.matched} malformed frames were delivered to {h2.ns}: "
                                f"{sniff.result['samples']}")
    assert pinger.returncode == 0, f"ping lost packets while malformed frames were sent:\n{out}"
