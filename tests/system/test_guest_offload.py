"""A guest's virtio-net header is checked before the switch acts on it (issue #21).

A QEMU-style TAP (IFF_VNET_HDR, written by lib/tapguest.py as a guest would) and a VXLAN port to
a tunnel peer (a namespace on the underlay whose UDP socket on 4789 records every datagram,
lib/udpsink.py) on one bridge, with two containers beside them. The guest writes the frames that
crashed the switch and leaked its memory to the peer (TCP GSO with the checksum start past the
IP header and a TCP data offset of 0) and TSO frames with gso_size 1 (60,000 datagrams each):
the switch stays up, counts every one as a drop_vnet_* drop, the peer receives nothing from the
guest, the containers keep pinging each other, and SIGTERM is quick. A valid TSO frame from the
same guest still reaches the peer as correct, MSS-sized VXLAN segments.
"""
from __future__ import annotations

import time

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.layers.vxlan import VXLAN

from lib.overlay import Overlay
from lib.tapguest import GSO_TCPV4, VIRTIO_NET_HDR_F_NEEDS_CSUM, TapGuest, vnet_hdr
from lib.traffic import ping, ping_async
from lib.udpsink import UdpSink
from lib.vlan import wait_until

pytestmark = pytest.mark.slow

VNI = 42
GUEST_MAC = "02:9e:57:00:00:21"
BCAST = "ff:ff:ff:ff:ff:ff"


@pytest.fixture
def lab():
    """Host h1 (a vswitchd) with a guest TAP `tg0`, a VXLAN port to a peer namespace recording
    UDP 4789, and containers c1, c2."""
    ov = Overlay()
    guest = sink = None
    try:
        h1 = ov.add_host()
        peer_ip = f"{ov.prefix}.50"
        peer = ov.add_bystander(peer_ip)
        ov.add_vxlan(h1, "vx1", peer_ip, VNI)
        c1 = ov.add_container(h1, "10.231.21.1")
        c2 = ov.add_container(h1, "10.231.21.2")
        guest = TapGuest(h1.ns, "tg0")
        h1.daemon.vsctl_ok("add-port", h1.bridge, "tg0")
        sink = UdpSink(peer, peer_ip, 4789)
        assert ping(c1, c2.ip).rc == 0, "containers cannot ping before the test"
        yield h1, guest, sink, c1, c2
    finally:
        if guest:
            guest.close()
        if sink:
            sink.kill()
        left = ov.cleanup()
        assert not left, f"could not remove test namespaces: {left}"


def vnet_drops(h1) -> int:
    return sum(v for k, v in h1.coverage().items() if k.startswith("drop_vnet_"))


def from_guest(datagrams: list[bytes]) -> list[bytes]:
    """Inner frames of the VXLAN datagrams whose inner source MAC is the guest's."""
    mac = bytes.fromhex(GUEST_MAC.replace(":", ""))
    return [d[8:] for d in datagrams if len(d) >= 8 + 14 and d[8 + 6:8 + 12] == mac]


def tcp_frame(payload: bytes, ip_options: bytes = b"") -> bytes:
    return bytes(Ether(src=GUEST_MAC, dst=BCAST) /
                 IP(src="10.231.21.9", dst="10.231.21.10", options=ip_options) /
                 TCP(sport=4321, dport=80, seq=1000, flags="PA") / payload)


def issue_frames() -> list[tuple[bytes, bytes]]:
    """The two shapes of the crash: csum_start 192 (IPv4 options, then padding, fill the gap) with
    doff 0, hdr_len 212; and csum_start at the real TCP header, again with doff 0."""
    base = bytearray(tcp_frame(b"", ip_options=b"\x01" * 40))[:74]
    at192 = bytes(base.ljust(192, b"\0")) + bytes([0x10, 0xe1, 0, 80] + [0] * 16) + b"\x5a" * 300
    hdr192 = vnet_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, GSO_TCPV4, 212, 1, 192, 16)
    plain = bytearray(tcp_frame(b"\x5a" * 300))
    plain[34 + 12] = 0  # data offset 0
    hdr34 = vnet_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, 1, 34, 16)
    return [(hdr192, at192), (hdr34, bytes(plain))]


def tso(payload_len: int, mss: int) -> tuple[bytes, bytes]:
    frame = tcp_frame(bytes((i * 7) & 0xff for i in range(payload_len)))
    return vnet_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, GSO_TCPV4, 54, mss, 34, 16), frame


def test_crafted_offsets_are_dropped_counted_and_never_reach_the_peer(lab):
    h1, guest, sink, c1, c2 = lab
    before = vnet_drops(h1)
    for hdr, frame in issue_frames():
        written, refused = guest.write(hdr, frame, count=5)
        assert (written, refused) == (5, 0), "the kernel refused the guest's frame: no test"
    assert wait_until(lambda: vnet_drops(h1) >= before + 10, timeout=5), \
        f"drop_vnet_* counted {vnet_drops(h1) - before} of 10: {h1.coverage()}"
    assert h1.daemon.running(), f"vswitchd died:\n{h1.daemon.log_tail()}"

    # Control: a valid TSO frame from the same guest is segmented and reaches the peer.
    payload = 20000
    hdr, frame = tso(payload, 1448)
    assert guest.write(hdr, frame) == (1, 0)
    time.sleep(1)
    count, datagrams = sink.stop()
    inner = from_guest(datagrams)
    want = -(-payload // 1448)
    assert len(inner) == want, (f"the peer got {len(inner)} guest frames ({count} datagrams); want the "
                                f"{want} segments of the valid frame and nothing of the 10 bad ones")
    got = b""
    for raw in inner:
        seg = Ether(raw)
        fixed = Ether(raw)
        del fixed[IP].chksum, fixed[TCP].chksum
        fixed = Ether(bytes(fixed))
        assert (seg[IP].chksum, seg[TCP].chksum) == (fixed[IP].chksum, fixed[TCP].chksum), \
            "a segment left with a wrong IP or TCP checksum"
        assert len(bytes(seg[TCP].payload)) <= 1448
        got += bytes(seg[TCP].payload)
    assert got == bytes(frame[54:]), "the segments do not carry the frame's payload, in order"
    assert ping(c1, c2.ip).rc == 0


def test_tso_with_gso_size_1_is_refused_while_other_ports_forward(lab):
    h1, guest, sink, c1, c2 = lab
    before = h1.coverage().get("drop_vnet_gso_size", 0)
    pinger = ping_async(c1, c2.ip, count=20, interval=0.1, deadline=15)
    hdr, frame = tso(60000, 1)
    written, refused = guest.write(hdr, frame, count=100)
    assert (written, refused) == (100, 0), "the kernel refused the guest's frames: no test"
    out, _ = pinger.communicate(timeout=30)
    assert pinger.returncode == 0, f"pings between other ports were lost during the burst:\n{out}"
    assert wait_until(lambda: h1.coverage().get("drop_vnet_gso_size", 0) >= before + 100, timeout=5), \
        f"drop_vnet_gso_size moved by {h1.coverage().get('drop_vnet_gso_size', 0) - before}, not 100"
    count, datagrams = sink.stop()
    assert not from_guest(datagrams), f"the peer received {len(from_guest(datagrams))} guest frames"
    assert count < 50, f"the peer received {count} datagrams"
    t0 = time.monotonic()
    h1.daemon.stop()
    took = time.monotonic() - t0
    assert h1.daemon.returncode == 0, f"vswitchd exited with {h1.daemon.returncode}"
    assert took < 5, f"SIGTERM took {took:.1f} s"
