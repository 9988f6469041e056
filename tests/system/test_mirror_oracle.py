"""Port mirroring against Open vSwitch as the oracle (lib/oracle.py): the same mirror in Debian's
Open vSwitch 3.1 (userspace datapath, created with ovs-vsctl's create Mirror) and in ours
(vsctl add-mirror), the same frames into both, and what every port emits -- the mirror output
port's copies included -- compared byte for byte. A difference is a bug in ours unless
docs/mirrors.md names it.
"""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Dot1Q, Ether

from lib import ovs as ovs_mod
from lib.oracle import OracleLab

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(bool(ovs_mod.missing()), reason=f"Open vSwitch missing: {ovs_mod.missing()}")]

M = ["02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03", "02:00:00:00:00:04"]
BCAST = "ff:ff:ff:ff:ff:ff"


def frame(src: int, dst: str, vid: int | None = None, pcp: int = 0, n: int = 0) -> bytes:
    eth = Ether(src=M[src], dst=dst)
    if vid is not None:
        eth = eth / Dot1Q(vlan=vid, prio=pcp)
    return bytes(eth / IP(src=f"10.0.0.{src + 1}", dst="10.0.0.9") / UDP(sport=1000 + n, dport=53) / b"mirror-oracle")


def both_mirror(lab: OracleLab, *cols: str, out: str = "p4") -> None:
    """One mirror m0 on both switches: cols as ovs-vsctl's create Mirror takes them."""
    ours = [c for c in cols] + ([f"output-port={out}"] if out else [])
    lab.ours.vsctl_ok("clear", "Bridge", lab.bridge, "mirrors", "--", "add-mirror", lab.bridge, "m0", *ours)
    ovs = ["--", "clear", "Bridge", lab.ovs.bridge, "mirrors"]
    if out:
        ovs += ["--", "--id=@p", "get", "Port", out]
    ovs += ["--", "--id=@m", "create", "Mirror", "name=m0"]
    for c in cols:
        k, v = c.split("=", 1)
        if k in ("select-src-port", "select-dst-port"):
            ovs = ["--", f"--id=@{v}", "get", "Port", v] + ovs
            v = f"@{v}"
        ovs.append(f"{k}={v}")
    if out:
        ovs.append("output-port=@p")
    ovs += ["--", "add", "Bridge", lab.ovs.bridge, "mirrors", "@m"]
    lab.ovs.vsctl(*ovs)
    # Open vSwitch revalidates its datapath flows in the background: without this, flows of the
    # previous case (still copying to p4) answer the first frames.
    lab.ovs.appctl("revalidator/purge")


@pytest.fixture(scope="module")
def lab():
    lab = OracleLab.start(n_ports=4)
    # p1 access VLAN 10, p2 trunk, p3 access VLAN 20, p4 (the mirror output) a trunk.
    lab.both_vsctl("set", "port", "p1", "tag=10")
    lab.both_vsctl("set", "port", "p3", "tag=20")
    yield lab
    lab.stop()


def corpus() -> list[tuple[int, bytes]]:
    return [
        (1, frame(0, BCAST)), (2, frame(1, BCAST, vid=10, pcp=3)), (2, frame(1, BCAST, vid=20)),
        (3, frame(2, BCAST)), (1, frame(0, M[1])), (2, frame(1, M[0], vid=10)), (3, frame(2, M[1], n=1)),
        (2, frame(1, M[2], vid=20, pcp=5)), (4, frame(3, BCAST)), (2, frame(1, BCAST)),
    ]


@pytest.mark.parametrize("cols", [
    ("select-all=true",),
    ("select-src-port=p2",),
    ("select-dst-port=p1",),
    ("select-all=true", "select-vlan=20"),
])
def test_span_copies_equal_open_vswitch(lab, cols):
    both_mirror(lab, *cols)
    diffs = lab.compare(corpus())
    assert not diffs, "\n".join(str(d) for d in diffs)


def test_rspan_copies_equal_open_vswitch(lab):
    lab.both_vsctl("set", "port", "p4", "trunks=99")
    try:
        both_mirror(lab, "select-src-port=p1", "output-vlan=99", out="")
        diffs = lab.compare(corpus())
        assert not diffs, "\n".join(str(d) for d in diffs)
    finally:
        lab.both_vsctl("clear", "port", "p4", "trunks")


def test_access_output_port_copies_equal_open_vswitch(lab):
    """An access output port gets every copy untagged, whatever its VLAN."""
    lab.both_vsctl("set", "port", "p4", "tag=30")
    try:
        both_mirror(lab, "select-all=true")
        diffs = lab.compare(corpus())
        assert not diffs, "\n".join(str(d) for d in diffs)
    finally:
        lab.both_vsctl("clear", "port", "p4", "tag")
