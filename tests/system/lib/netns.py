"""Test hosts: a network namespace with one veth pair whose other end stays in the root namespace
for the switch to attach (what ../shared/bench/topo.sh does, with unique names).

    topo = Topology()
    h1 = topo.add_host("10.231.0.1")      # namespace vst<pid>x<n>, eth0 = 10.231.0.1/24
    h1.sw_port                            # "vsw<pid>x<n>", the root-side end
    topo.cleanup()                        # removes links, namespaces, processes inside them

IPv6 is disabled on both ends so that hosts stay silent unless a test makes them talk (router
solicitations and MLD reports would otherwise refresh MAC tables and reach sniffers).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from typing import Sequence

from . import names
from .proc import Result, check, run

OFFLOAD_FEATURES = ["tx", "off", "tso", "off", "gso", "off", "gro", "off"]


def random_mac() -> str:
    b = [0x02] + [random.randrange(256) for _ in range(5)]
    return ":".join(f"{x:02x}" for x in b)


@dataclass
class Host:
    ns: str
    sw_port: str                 # root-namespace veth end, to be added to a bridge
    ip: str | None
    mac: str
    ifname: str = "eth0"
    procs: list = field(default_factory=list)

    def exec(self, argv: Sequence[str], timeout: float = 30) -> Result:
        return run(["ip", "netns", "exec", self.ns, *argv], timeout=timeout)

    def popen(self, argv: Sequence[str], **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(["ip", "netns", "exec", self.ns, *map(str, argv)], **kw)
        self.procs.append(p)
        return p

    def set_offloads(self, on: bool) -> None:
        state = "on" if on else "off"
        feats = [x if x != "off" else state for x in OFFLOAD_FEATURES]
        check(["ethtool", "-K", self.sw_port, *feats])
        check(["ip", "netns", "exec", self.ns, "ethtool", "-K", self.ifname, *feats])

    def offloads(self) -> dict[str, str]:
        """ethtool -k of the namespace end, feature -> 'on'/'off'."""
        out = check(["ip", "netns", "exec", self.ns, "ethtool", "-k", self.ifname])
        feats = {}
        for line in out.splitlines():
            if ":" in line and not line.startswith("Features"):
                k, v = line.split(":", 1)
                feats[k.strip()] = v.split()[0] if v.split() else ""
        return feats

    def counter(self, name: str) -> int:
        """A statistics counter of the namespace's eth0 (rx_packets, tx_packets, ...)."""
        out = check(["ip", "netns", "exec", self.ns, "cat",
                     f"/sys/class/net/{self.ifname}/statistics/{name}"])
        return int(out.strip())


class Topology:
    """Namespaces and veth pairs created by one test; all removed by cleanup(), even half-made."""

    def __init__(self, subnet: str = "10.231.0"):
        self.subnet = subnet
        self.hosts: list[Host] = []
        self._namespaces: list[str] = []
        self._links: list[str] = []

    def add_host(self, ip: str | None = "auto", offloads: bool = True, mac: str | None = None,
                 prefix_len: int = 24) -> Host:
        if ip == "auto":
            ip = f"{self.subnet}.{len(self.hosts) + 1}"
        ns = names.unique(names.KIND_NETNS)
        sw = names.unique(names.KIND_SWITCH_LINK)
        mac = mac or random_mac()
        check(["ip", "netns", "add", ns])
        self._namespaces.append(ns)
        check(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1"])
        check(["ip", "link", "add", sw, "type", "veth", "peer", "name", "eth0", "netns", ns])
        self._links.append(sw)
        try:
            with open(f"/proc/sys/net/ipv6/conf/{sw}/disable_ipv6", "w") as f:
                f.write("1")
        except OSError:
            pass  # kernel without IPv6: nothing to silence
        check(["ip", "-n", ns, "link", "set", "lo", "up"])
        check(["ip", "-n", ns, "link", "set", "eth0", "address", mac])
        if ip:
            check(["ip", "-n", ns, "addr", "add", f"{ip}/{prefix_len}", "dev", "eth0"])
        host = Host(ns=ns, sw_port=sw, ip=ip, mac=mac)
        if not offloads:
            host.set_offloads(False)
        check(["ip", "link", "set", sw, "up"])
        check(["ip", "-n", ns, "link", "set", "eth0", "up"])
        self.hosts.append(host)
        return host

    def add_link_pair(self) -> tuple[str, str]:
        """A veth pair with both ends in the root namespace (a netdev for a port that carries no
        traffic). Returns (end_a, end_b)."""
        a = names.unique(names.KIND_SWITCH_LINK)
        b = names.unique(names.KIND_OTHER)
        check(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        self._links.append(a)
        check(["ip", "link", "set", a, "up"])
        return a, b

    def add_ns_link(self, host: Host, ifname: str) -> str:
        """Another veth pair for `host`: `ifname` inside its namespace (up), the returned end in
        the root namespace (up), removed by cleanup()."""
        sw = names.unique(names.KIND_SWITCH_LINK)
        check(["ip", "link", "add", sw, "type", "veth", "peer", "name", ifname, "netns", host.ns])
        self._links.append(sw)
        try:
            with open(f"/proc/sys/net/ipv6/conf/{sw}/disable_ipv6", "w") as f:
                f.write("1")
        except OSError:
            pass
        check(["ip", "link", "set", sw, "up"])
        check(["ip", "-n", host.ns, "link", "set", ifname, "up"])
        return sw

    def cleanup(self) -> list[str]:
        """Removes everything; returns the names still present afterwards (should be empty)."""
        for h in self.hosts:
            for p in h.procs:
                if p.poll() is None:
                    p.kill()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        for ns in self._namespaces:
            # Anything still running inside a namespace we made was started by this test.
            r = run(["ip", "netns", "pids", ns])
            for pid in r.out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for link in self._links:
            run(["ip", "link", "del", link])
        for ns in self._namespaces:
            run(["ip", "netns", "del", ns])
        wanted = set(self._links) | set(self._namespaces)
        deadline = time.monotonic() + 3
        while True:
            left = [x for x in names.list_links() if x in wanted]
            left += [x for x in names.list_netns() if x in wanted]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        for x in left:
            run(["ip", "link", "del", x])
        self.hosts.clear()
        self._links.clear()
        self._namespaces.clear()
        return left
