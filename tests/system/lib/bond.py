"""Bond topologies for test_bond.py: our bond over N veth links whose far ends join an Open vSwitch
bond (lib/ovs.py) or stay raw in a namespace (a scapy-driven LACP partner), hosts on both sides,
readers of bond/show and lacp/show (ours and Open vSwitch's text), and a ping-gap meter.

    lab = make_lab(d, topo, ovs, ours=["bond_mode=balance-tcp", "lacp=active"],
                   theirs=["bond_mode=balance-tcp", "lacp=active"])
    lab.bond_show()["members"], lab.ovs_lacp()["members"]["vso..."]["partner sys_id"]
    gap = ping_gap(lab.hosts[0], lab.peers[0].ip, action=lambda: ...)

Every link and namespace is registered with the test's Topology, so cleanup removes them even
when a test fails half-way.
"""
from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field

from . import names
from .daemon import Vswitchd
from .netns import OFFLOAD_FEATURES, Host, Topology
from .ovs import OvsPeer
from .proc import check

LACP_MAC = "01:80:c2:00:00:02"


@dataclass
class BondLab:
    d: Vswitchd
    topo: Topology
    br: str
    bond: str
    ours: list[str]                       # our member interfaces (root namespace)
    theirs: list[str]                     # their far ends (in the peer's namespace)
    ovs: OvsPeer | None = None
    obond: str = "obond"
    hosts: list[Host] = field(default_factory=list)   # behind our bridge
    peers: list[Host] = field(default_factory=list)   # behind Open vSwitch
    peer_ns: str | None = None            # raw peer: the namespace holding `theirs`

    # -- ours ------------------------------------------------------------------------------------
    def bond_show(self) -> dict:
        return self.d.vsappctl_json("bond/show", self.bond)["bonds"][0]

    def lacp_show(self) -> dict:
        return self.d.vsappctl_json("lacp/show", self.bond)["bonds"][0]

    def members(self) -> dict[str, dict]:
        return {m["name"]: m for m in self.bond_show()["members"]}

    def lacp_members(self) -> dict[str, dict]:
        return {m["name"]: m for m in self.lacp_show()["members"]}

    def tx_packets(self) -> dict[str, int]:
        return {n: m.get("tx_packets", 0) for n, m in self.members().items()}

    def tx_bytes(self) -> dict[str, int]:
        return {n: m.get("tx_bytes", 0) for n, m in self.members().items()}

    def peer_of(self, ours: str) -> str:
        return self.theirs[self.ours.index(ours)]

    # -- Open vSwitch's view -----------------------------------------------------------------------
    def ovs_lacp(self) -> dict:
        return parse_ovs_show(self.ovs.appctl("lacp/show", self.obond), "member: ")

    def ovs_bond(self) -> dict:
        return parse_ovs_show(self.ovs.appctl("bond/show", self.obond), "member ")


def parse_ovs_show(text: str, member_prefix: str) -> dict:
    """ovs-appctl lacp/show or bond/show text -> {"key": value, ..., "members": {name: {...}}}.
    A member's header value ("current attached", "enabled") is under "status"; bare lines such
    as "active member" become keys with value True."""
    out: dict = {"members": {}}
    cur = out
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("----"):
            continue
        if line.startswith(member_prefix):
            name, _, status = line[len(member_prefix):].partition(":")
            cur = out["members"].setdefault(name.strip(), {"status": status.strip()})
            continue
        key, sep, value = s.partition(": ")
        if sep:
            cur[key] = value.strip()
        else:
            cur[s.rstrip(":")] = True
    return out


def _links(topo: Topology, n: int) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(n):
        ours, theirs = topo.add_link_pair()
        # Open vSwitch's userspace datapath reads frames without a vnet header: offloads off on
        # both ends of every link it touches (bench/README.md caveats).
        check(["ethtool", "-K", ours, *OFFLOAD_FEATURES])
        check(["ethtool", "-K", theirs, *OFFLOAD_FEATURES])
        pairs.append((ours, theirs))
    return pairs


def make_lab(d: Vswitchd, topo: Topology, ovs: OvsPeer | None, ours: list[str] = (),
             theirs: list[str] = (), n_links: int = 2, n_hosts: int = 1, n_peers: int = 1,
             subnet: str = "10.231.40", ovs_bond: bool = True) -> BondLab:
    """Our bridge with a bond of `n_links` links (settings `ours`) and `n_hosts` hosts; with `ovs`,
    the far ends form bond `obond` on its bridge (settings `theirs`) with `n_peers` hosts, or,
    with ovs_bond=False, are plain ports of its bridge (a learning switch that knows nothing of
    bonds); without `ovs`, the far ends go into one namespace (peer_ns) as lk1, lk2, ..."""
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    pairs = _links(topo, n_links)
    lab = BondLab(d, topo, br, names.unique(names.KIND_OTHER), [a for a, _ in pairs],
                  [b for _, b in pairs], ovs)
    if ovs is not None:
        for t in lab.theirs:
            ovs.take_link(t)
        if ovs_bond:
            ovs.vsctl("add-bond", ovs.bridge, lab.obond, *lab.theirs, *theirs)
        else:
            for t in lab.theirs:
                ovs.vsctl("add-port", ovs.bridge, t)
    else:
        host = topo.add_host(None)   # its eth0 stays unused; the links come in as lk1, lk2, ...
        lab.peer_ns = host.ns
        for i, t in enumerate(lab.theirs):
            check(["ip", "link", "set", t, "netns", host.ns, "name", f"lk{i + 1}"])
            check(["ip", "-n", host.ns, "link", "set", f"lk{i + 1}", "up"])
        lab.theirs = [f"lk{i + 1}" for i in range(n_links)]
    d.vsctl_ok("add-bond", br, lab.bond, *lab.ours, *ours)
    for i in range(n_hosts):
        h = topo.add_host(f"{subnet}.{i + 1}", offloads=False)
        d.vsctl_ok("add-port", br, h.sw_port)
        lab.hosts.append(h)
    if ovs is not None:
        for i in range(n_peers):
            h = topo.add_host(f"{subnet}.{100 + i}", offloads=False)
            ovs.take_link(h.sw_port)
            ovs.vsctl("add-port", ovs.bridge, h.sw_port)
            lab.peers.append(h)
    return lab


_PING_LINE = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)")


def ping_gap(host: Host, addr: str, action, before: float = 2.0, after: float = 4.0,
             interval: float = 0.01) -> dict:
    """Pings `addr` every `interval` s from `host`, calls action() after `before` s, keeps pinging
    for `after` s more. Returns {"gap": longest time without a reply (s), "sent", "received",
    "action_at"}: the gap counts from the last reply before it to the first after (or to the end
    when replies never came back)."""
    total = before + after
    p = host.popen(["ping", "-n", "-D", "-i", str(interval), "-W", "1", "-w", str(int(total + 1)), addr],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(before)
        action_at = time.time()
        action()
        time.sleep(max(0.0, after - (time.time() - action_at)))
        end = time.time()
        p.send_signal(2)  # SIGINT: ping prints its summary and exits
        out, _ = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    stamps = [float(m.group(1)) for m in map(_PING_LINE.match, out.splitlines()) if m]
    sent = re.search(r"(\d+) packets transmitted", out)
    res = {"sent": int(sent.group(1)) if sent else 0, "received": len(stamps), "action_at": action_at,
           "gap": None, "out": out[-2000:]}
    if stamps:
        points = stamps + [end]
        res["gap"] = max(b - a for a, b in zip(points, points[1:]))
    return res
