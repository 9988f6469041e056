"""Open vSwitch as the oracle for flow semantics (issue #14): the same topology built twice, the
same rules installed in both, the same frames sent, and what every port emits compared byte for
byte.

    lab = OracleLab.start(n_ports=4)        # tester namespace; our vswitchd and Open vSwitch
    lab.ovs_vsctl("set", "port", "p2", "tag=10"); lab.ours_vsctl(... same ...)   # or lab.both_vsctl
    lab.install(["priority=10,in_port=p1,actions=output:p2", ...])   # ovs-ofctl / vsofctl add-flows
    diffs = lab.compare([(1, frame_bytes), ...])   # [] when both switches emitted the same
    lab.stop()

Both switches sit in namespaces of their own (IPv6 off, so the kernel sends nothing on its own),
each with ports p1..pN: veth pairs whose other ends, a1..aN (ours) and b1..bN (Open vSwitch), are
in one tester namespace, where lib/oracleio.py sends each frame out of aK and bK at once and
captures what comes back on every aI and bI. Offloads are off on every link (Open vSwitch's
userspace datapath needs that, and the comparison is of frames, not of GSO). Open vSwitch runs
with datapath_type=netdev (lib/ovs.py); its rules are installed with `ovs-ofctl` (OpenFlow 1.0 + Nicira extensions unless a
case asks for OpenFlow 1.3).
Port names are the same in both, so one rule text serves both.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import daemon as daemon_mod
from . import names
from .netns import OFFLOAD_FEATURES
from .overlay import NsVswitchd
from .ovs import OvsPeer
from .proc import check, run

PYTHON = "/usr/bin/python3"
ORACLEIO = Path(__file__).with_name("oracleio.py")
VSOFCTL = daemon_mod.BUILD / "utilities" / "vsofctl"


@dataclass
class Diff:
    index: int          # position in the frame list
    in_port: int
    frame: bytes
    ours: dict          # port number (str) -> [frame hex, ...]
    ovs: dict

    def __str__(self) -> str:
        def show(d):
            return {p: [h[:120] + ("..." if len(h) > 120 else "") for h in v] for p, v in sorted(d.items())}
        return (f"frame #{self.index} in on p{self.in_port}: {self.frame.hex()[:120]}\n"
                f"   ours: {show(self.ours)}\n   ovs:  {show(self.ovs)}")


def _ns_new() -> str:
    ns = names.unique(names.KIND_NETNS)
    check(["ip", "netns", "add", ns])
    check(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1"])
    check(["ip", "-n", ns, "link", "set", "lo", "up"])
    return ns


class OracleLab:
    def __init__(self, n_ports: int):
        self.n = n_ports
        self.namespaces: list[str] = []
        self.ours: NsVswitchd | None = None
        self.ovs: OvsPeer | None = None
        self.bridge = names.unique(names.KIND_BRIDGE)
        self.tmp = Path(tempfile.mkdtemp(prefix="vsoracle-"))

    @classmethod
    def start(cls, n_ports: int = 4) -> "OracleLab":
        lab = cls(n_ports)
        try:
            lab._start()
        except BaseException:
            lab.stop()
            raise
        return lab

    def _start(self) -> None:
        self.tester = _ns_new()
        self.namespaces.append(self.tester)
        self.ours_ns = _ns_new()
        self.namespaces.append(self.ours_ns)
        self.ours = NsVswitchd.create()
        self.ours.ns = self.ours_ns
        self.ours.start()
        self.ours.vsctl_ok("add-br", self.bridge)
        self.ovs = OvsPeer.start()
        for i in range(1, self.n + 1):
            self._link(f"a{i}", self.ours_ns, f"p{i}")
            self.ours.vsctl_ok("add-port", self.bridge, f"p{i}")
            self._link(f"b{i}", self.ovs.ns, f"p{i}")
            self.ovs.vsctl("add-port", self.ovs.bridge, f"p{i}")

    def _link(self, tester_end: str, ns: str, switch_end: str) -> None:
        check(["ip", "-n", self.tester, "link", "add", tester_end, "type", "veth", "peer", "name",
               switch_end, "netns", ns])
        for where, dev in ((self.tester, tester_end), (ns, switch_end)):
            check(["ip", "netns", "exec", where, "ethtool", "-K", dev, *OFFLOAD_FEATURES])
            check(["ip", "-n", where, "link", "set", dev, "up"])

    def stop(self) -> None:
        if self.ours:
            self.ours.destroy()
        if self.ovs:
            self.ovs.stop()
        for ns in self.namespaces:
            run(["ip", "netns", "del", ns])
        self.namespaces.clear()

    # -- configuration -------------------------------------------------------------------------
    def both_vsctl(self, *args: str) -> None:
        """The same ovs-vsctl command on both (`vsctl` follows its syntax)."""
        self.ours.vsctl_ok(*args)
        self.ovs.vsctl(*[self.ovs.bridge if a == "BRIDGE" else a for a in args])

    def install(self, flows: list[str], replace: bool = True, protocol: str | None = None) -> None:
        """Adds `flows` (ovs-ofctl syntax, ports by name) to both; with `replace`, every rule both
        had (Open vSwitch's and our default NORMAL rule too) is deleted first. `protocol` is
        ovs-ofctl's -O (default: its own, OpenFlow 1.0 with Nicira extensions, in which
        mod_vlan_vid/mod_vlan_pcp keep their "push a tag if there is none" meaning; under
        OpenFlow13 ovs-ofctl encodes them as an unconditional push_vlan + set_field)."""
        self.protocol = protocol
        text = "\n".join(flows) + "\n"
        f = self.tmp / "flows.txt"
        f.write_text(text)
        if replace:
            self._ofctl_ovs("del-flows", self.ovs.bridge)
            self._ofctl_ours("del-flows", self.bridge)
        if flows:
            self._ofctl_ovs("add-flows", self.ovs.bridge, str(f))
            self._ofctl_ours("add-flows", self.bridge, str(f))

    def _ofctl_ovs(self, *args: str) -> str:
        proto = ["-O", self.protocol] if getattr(self, "protocol", None) else []
        return self.ovs._check(["ovs-ofctl", *proto, *args])

    def _ofctl_ours(self, *args: str) -> str:
        r = run(["ip", "netns", "exec", self.ours_ns, str(VSOFCTL), "--socket", str(self.ours.socket),
                 *args], timeout=30)
        if r.rc != 0:
            raise RuntimeError(f"vsofctl {' '.join(args)} failed:\n{r}")
        return r.out

    def trace(self, flow: str) -> str:
        return self.ours.vsappctl("ofproto/trace", self.bridge, flow).out

    # -- traffic -------------------------------------------------------------------------------
    def exchange(self, frames: list[tuple[int, bytes]]) -> list[dict]:
        """Sends each (in_port, frame) to both switches in turn; returns, per frame,
        {"ours": {port: [hex...]}, "ovs": {...}}."""
        spec = {"sides": {"ours": [f"a{i}" for i in range(1, self.n + 1)],
                          "ovs": [f"b{i}" for i in range(1, self.n + 1)]},
                "cases": [{"port": p, "hex": f.hex()} for p, f in frames]}
        cases, out = self.tmp / "cases.json", self.tmp / "out.json"
        cases.write_text(json.dumps(spec))
        r = run(["ip", "netns", "exec", self.tester, PYTHON, str(ORACLEIO), str(cases), str(out)],
                timeout=30 + 2 * len(frames))
        if r.rc != 0:
            raise RuntimeError(f"oracleio failed:\n{r}")
        return json.loads(out.read_text())["results"]

    def compare(self, frames: list[tuple[int, bytes]]) -> list[Diff]:
        diffs = []
        for i, ((port, frame), got) in enumerate(zip(frames, self.exchange(frames))):
            ours = {p: sorted(v) for p, v in got["ours"].items()}
            ovs = {p: sorted(v) for p, v in got["ovs"].items()}
            if ours != ovs:
                diffs.append(Diff(i, port, frame, got["ours"], got["ovs"]))
        return diffs
