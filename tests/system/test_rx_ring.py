"""Busy AF_PACKET ports move to a memory-mapped receive ring (TPACKET_V2, datapath/rx_ring.h).

The move happens while traffic flows; afterwards frames of every size keep their bytes, their
order and their 802.1Q tags (short frames are read from the ring, frames longer than a 2 KiB ring
slot are fetched whole from the socket queue in ring order), and TCP with offloads on still
works. `--rx-ring-mb 0` keeps every port on recvmmsg. The daemons here run with
`--rx-ring-min-pps 1000`, so that a ring is earned by frame count on any machine.
"""
import hashlib

from lib.proc import check
from lib.traffic import flood_popen, flood_result, iperf3, marker, ping
from lib.vlan import eth_frame, host_capture, send_raw

BUSY_SRC = "02:00:00:00:b5:01"
JUMBO_MTU = 9000
# Frame sizes before tagging: the shortest, small, full 1500-byte MTU, and two that do not fit a
# ring slot (so they take the socket-queue path), interleaved so that the order check sees both.
SIZES = (60, 100, 1514, 4000, 9014)


def _make_busy(h, seconds=1.5):
    """Broadcast frames from host `h` as fast as Python sends (tens of thousands a second)."""
    res = flood_result(flood_popen(h, "broadcast", seconds, BUSY_SRC), timeout=seconds + 30)
    assert res["sent"] > 10000, f"the flood sent too little to make the port busy: {res}"
    return res


def _set_mtu(hosts, mtu):
    for h in hosts:
        check(["ip", "link", "set", "dev", h.sw_port, "mtu", str(mtu)])
        check(["ip", "-n", h.ns, "link", "set", "dev", h.ifname, "mtu", str(mtu)])


def _frames(src, dst, tag):
    """Numbered frames of every size in SIZES, untagged and tagged with VLAN 10, in a fixed order."""
    out = []
    for rnd in range(8):
        for size in SIZES:
            for vid in (None, 10):
                head = tag + b"-%03d-%d-%s-" % (rnd, size, b"t" if vid else b"u")
                body = head + bytes((i * 7 + size) & 0xFF for i in range(max(0, size - 14 - len(head))))
                out.append(eth_frame(src, dst, body, vid=vid))
    return out


def _wire(frames):
    return [(len(f), hashlib.sha256(f).hexdigest()) for f in frames]


def _daemon(daemon_factory, *args):
    d = daemon_factory(start=False)
    # The storm earns a ring by its frame count, not by this machine's speed (sanitizer builds
    # are several times slower): 1,000 frames/s sustained over 4,096 frames.
    d.extra_args = ["--rx-ring-min-pps", "1000", *args]
    d.start()
    return d


def test_busy_port_moves_to_ring_and_frames_cross_it_intact(daemon_factory, lan):
    d = _daemon(daemon_factory)
    net = lan(2, daemon=d)
    h1, h2 = net.hosts
    _set_mtu(net.hosts, JUMBO_MTU)
    assert ping(h1, h2.ip).rc == 0
    assert d.coverage().get("rx_ring_promoted", 0) == 0, "a ring before any load"

    _make_busy(h1)
    cov = d.coverage()
    # h1's port received the storm; h2's port only transmitted it and stays on recvmmsg.
    assert cov.get("rx_ring_promoted") == 1, f"expected exactly h1's port to get a ring: {cov}"

    tag = marker()
    frames = _frames(h1.mac, h2.mac, tag)
    with host_capture(h2, tag, seconds=20, want=len(frames)) as cap:
        send_raw(h1.ifname, frames, ns=h1.ns)
    got = [(s.length, s.sha256) for s in cap.frames if not s.outgoing]
    want = _wire(frames)
    if got != want:
        missing = [w for w in want if w not in got]
        first_diff = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)
        raise AssertionError(
            f"{len(got)} of {len(want)} frames arrived; {len(missing)} missing or altered "
            f"(lengths {[m[0] for m in missing][:10]}); first difference at index {first_diff}")
    assert d.coverage().get("drop_oversize", 0) == 0, f"frames dropped on receive: {d.coverage()}"

    # GSO super-frames (offloads on) are longer than a slot: TCP goes through the queue path.
    _set_mtu(net.hosts, 1500)
    res = iperf3(h1, h2, seconds=2)
    assert res["error"] is None and res["bps"] > 10e6, f"TCP across the ring port: {res}"
    res = iperf3(h2, h1, seconds=2)   # and the other port, promoted by this stream
    assert res["error"] is None and res["bps"] > 10e6, f"TCP back across: {res}"
    assert d.coverage().get("rx_ring_promoted") == 2, f"both ports busy by now: {d.coverage()}"


def test_ring_budget_zero_keeps_recvmmsg(daemon_factory, lan):
    d = _daemon(daemon_factory, "--rx-ring-mb", "0")
    net = lan(2, daemon=d)
    h1, h2 = net.hosts
    assert ping(h1, h2.ip).rc == 0
    _make_busy(h1)
    cov = d.coverage()
    assert cov.get("rx_ring_promoted", 0) == 0 and cov.get("rx_ring_refused", 0) >= 1, \
        f"--rx-ring-mb 0 must refuse every ring (and count it): {cov}"
    tag = marker()
    frames = [eth_frame(h1.mac, h2.mac, tag + b"-%d" % i) for i in range(20)]
    with host_capture(h2, tag, seconds=10, want=len(frames)) as cap:
        send_raw(h1.ifname, frames, ns=h1.ns)
    assert [s.sha256 for s in cap.frames] == [h for _, h in _wire(frames)]
