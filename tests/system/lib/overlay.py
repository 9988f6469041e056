"""VXLAN overlays across "hosts" for the tunnel tests (test_vxlan.py).

A *host* is a network namespace with its own vswitchd (own config, socket, pidfile, started with
`ip netns exec HOST vswitchd ...`) and one bridge. Hosts reach each other over an *underlay*: a
Linux bridge in a namespace of its own, to which each host is joined by a veth pair (`ul0` inside
the host, 192.0.2.0/24 by default). A *container* is a further namespace joined to a host by a
veth pair whose host end is a port of the host's bridge.

    ov = Overlay()
    h1, h2 = ov.add_host(), ov.add_host()                 # 192.0.2.1, 192.0.2.2, each a vswitchd
    ov.mesh([h1, h2], vni=42)                            # VXLAN ports both ways
    c1 = ov.add_container(h1, "10.231.40.1")             # a lib.netns.Host: works with traffic.py
    ov.cleanup()                                         # daemons, processes, namespaces

Everything lives in namespaces named by lib.names (vs<kind><pid>x<n>), so a crashed run's leftovers
are removed by the next one; daemons run in the foreground and die with pytest.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from . import daemon as daemon_mod
from . import names
from .daemon import Vswitchd
from .netns import Host, random_mac
from .proc import Result, check, run

UNDERLAY_PREFIX = "192.0.2"
PYTHON = "/usr/bin/python3"
VXLAN_OVERHEAD = 50   # outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8


class NsVswitchd(Vswitchd):
    """A vswitchd that runs inside network namespace `ns`; its tools run there too."""

    ns: str = ""

    def argv(self, detach: bool = False, log_level: str = "info") -> list[str]:
        return ["ip", "netns", "exec", self.ns, *super().argv(detach, log_level)]

    def vsctl(self, *args: str, timeout: float = 20) -> Result:
        return run(["ip", "netns", "exec", self.ns, str(daemon_mod.VSCTL), "--socket",
                    str(self.socket), *args], timeout=timeout)

    def vsappctl(self, *args: str, timeout: float = 20) -> Result:
        return run(["ip", "netns", "exec", self.ns, str(daemon_mod.VSAPPCTL), "--socket",
                    str(self.socket), *args], timeout=timeout)


def _ns_setup(ns: str) -> None:
    check(["ip", "netns", "add", ns])
    check(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
           "net.ipv6.conf.default.disable_ipv6=1"])
    check(["ip", "-n", ns, "link", "set", "lo", "up"])


def ns_exec(ns: str, *argv, timeout: float = 30) -> Result:
    return run(["ip", "netns", "exec", ns, *map(str, argv)], timeout=timeout)


def link_counter(ns: str, ifname: str, name: str) -> int:
    return int(check(["ip", "netns", "exec", ns, "cat",
                      f"/sys/class/net/{ifname}/statistics/{name}"]).strip())


@dataclass
class VtepHost:
    """One host: namespace, its vswitchd (None for a kernel-only host), bridge, underlay address."""
    ns: str
    ip: str                           # underlay address on ul0
    daemon: NsVswitchd | None
    bridge: str
    ul: str = "ul0"
    n_ports: int = 0
    containers: list[Host] = field(default_factory=list)

    def exec(self, *argv, timeout: float = 30) -> Result:
        return ns_exec(self.ns, *argv, timeout=timeout)

    def coverage(self) -> dict[str, int]:
        return self.daemon.coverage()

    def ul_counter(self, name: str) -> int:
        return link_counter(self.ns, self.ul, name)

    def iface_stats(self, iface: str) -> dict:
        return self.daemon.vsctl_json("get", "interface", iface, "statistics")


class Overlay:
    """Hosts, their underlay and containers for one test; cleanup() removes all of it."""

    def __init__(self, underlay_prefix: str = UNDERLAY_PREFIX):
        self.prefix = underlay_prefix
        self.hosts: list[VtepHost] = []
        self.daemons: list[NsVswitchd] = []
        self._namespaces: list[str] = []
        self._procs: list[subprocess.Popen] = []
        self._n_ul = 0
        self.underlay = self._new_ns()
        self.ul_bridge = "ulbr"
        check(["ip", "-n", self.underlay, "link", "add", self.ul_bridge, "type", "bridge"])
        check(["ip", "-n", self.underlay, "link", "set", self.ul_bridge, "up"])

    # -- namespaces and links ------------------------------------------------------------------
    def _new_ns(self) -> str:
        ns = names.unique(names.KIND_NETNS)
        self._namespaces.append(ns)
        _ns_setup(ns)
        return ns

    def attach_underlay(self, ns: str, ip: str | None, ifname: str = "ul0",
                        mtu: int | None = None) -> None:
        """Joins namespace `ns` to the underlay bridge by a veth pair (`ifname` inside ns)."""
        self._n_ul += 1
        peer = f"u{self._n_ul}"
        check(["ip", "-n", self.underlay, "link", "add", peer, "type", "veth", "peer", "name",
               ifname, "netns", ns])
        check(["ip", "-n", self.underlay, "link", "set", peer, "master", self.ul_bridge])
        if mtu:
            check(["ip", "-n", self.underlay, "link", "set", peer, "mtu", str(mtu)])
            check(["ip", "-n", ns, "link", "set", ifname, "mtu", str(mtu)])
        check(["ip", "-n", self.underlay, "link", "set", peer, "up"])
        if ip:
            check(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", ifname])
        check(["ip", "-n", ns, "link", "set", ifname, "up"])

    def add_bystander(self, ip: str) -> str:
        """A namespace on the underlay with address `ip` and no switch (e.g. a foreign sender)."""
        ns = self._new_ns()
        self.attach_underlay(ns, ip)
        return ns

    # -- hosts ---------------------------------------------------------------------------------
    def add_host(self, ip: str | None = None, switch: bool = True) -> VtepHost:
        """A host namespace on the underlay; with `switch`, a vswitchd in it with one bridge."""
        ip = ip or f"{self.prefix}.{len(self.hosts) + 1}"
        ns = self._new_ns()
        self.attach_underlay(ns, ip)
        d, br = None, names.unique(names.KIND_BRIDGE)
        if switch:
            d = NsVswitchd.create()
            d.ns = ns
            self.daemons.append(d)
            d.start()
            d.vsctl_ok("add-br", br)
        h = VtepHost(ns=ns, ip=ip, daemon=d, bridge=br)
        self.hosts.append(h)
        return h

    def add_vxlan(self, h: VtepHost, name: str, remote: VtepHost | str, vni: int | None,
                  *port_settings: str, tunnel_type: str = "vxlan", **options: str | int) -> None:
        """VXLAN port `name` on h's bridge to `remote` (a host or an address) with key `vni`
        (None: no key option); `port_settings` go to the Port record (e.g. "tag=10"), `options`
        to Interface options; `tunnel_type` geneve or gre makes it a port of that type."""
        rip = remote.ip if isinstance(remote, VtepHost) else remote
        opts = [f"options:remote_ip={rip}"] + ([f"options:key={vni}"] if vni is not None else [])
        opts += [f"options:{k}={v}" for k, v in options.items()]
        h.daemon.vsctl_ok("add-port", h.bridge, name, *port_settings, "--", "set", "interface",
                          name, f"type={tunnel_type}", *opts)
        err = h.daemon.vsctl_ok("get", "interface", name, "error").strip()
        assert err in ("[]", '""'), f"{tunnel_type} port {name} on {h.ns} reports an error: {err}"

    def mesh(self, hosts: list[VtepHost], vni: int, prefix: str = "vx") -> dict:
        """A full mesh: on every host a VXLAN port to each other host, all with key `vni`.
        Returns {(host index, peer index): port name}."""
        ports = {}
        for i, h in enumerate(hosts):
            for j, peer in enumerate(hosts):
                if i != j:
                    ports[(i, j)] = f"{prefix}{j + 1}"
                    self.add_vxlan(h, ports[(i, j)], peer, vni)
        return ports

    # -- containers ----------------------------------------------------------------------------
    def add_container(self, h: VtepHost, ip: str, *port_settings: str, mtu: int | None = None,
                      mac: str | None = None, on_switch: bool = True) -> Host:
        """A container namespace with eth0 = `ip`/24, whose veth peer `c<n>` in h is a port of h's
        bridge (with `port_settings`, e.g. "tag=10"); with on_switch=False the peer is only
        created (for a kernel bridge). Returned as a lib.netns.Host (sw_port = the peer's name,
        which lives in h's namespace)."""
        h.n_ports += 1
        peer = f"c{h.n_ports}"
        ns = self._new_ns()
        mac = mac or random_mac()
        check(["ip", "-n", h.ns, "link", "add", peer, "type", "veth", "peer", "name", "eth0",
               "netns", ns])
        check(["ip", "-n", ns, "link", "set", "eth0", "address", mac])
        if mtu:
            check(["ip", "-n", h.ns, "link", "set", peer, "mtu", str(mtu)])
            check(["ip", "-n", ns, "link", "set", "eth0", "mtu", str(mtu)])
        check(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
        check(["ip", "-n", h.ns, "link", "set", peer, "up"])
        check(["ip", "-n", ns, "link", "set", "eth0", "up"])
        c = Host(ns=ns, sw_port=peer, ip=ip, mac=mac)
        if on_switch:
            h.daemon.vsctl_ok("add-port", h.bridge, peer, *port_settings)
        h.containers.append(c)
        return c

    # -- processes -----------------------------------------------------------------------------
    def popen(self, ns: str, argv, **kw) -> subprocess.Popen:
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(["ip", "netns", "exec", ns, *map(str, argv)], **kw)
        self._procs.append(p)
        return p

    # -- teardown ------------------------------------------------------------------------------
    def log_tails(self) -> str:
        return "\n".join(f"--- vswitchd in {d.ns} ---\n{d.log_tail(8000)}" for d in self.daemons)

    def cleanup(self) -> list[str]:
        """Stops the daemons, kills what runs in our namespaces, deletes them. Returns names
        still present afterwards (should be empty)."""
        for d in self.daemons:
            try:
                d.destroy()
            except Exception:  # noqa: BLE001 - keep cleaning up
                pass
        procs = list(self._procs)
        for h in self.hosts:
            for c in h.containers:
                procs += c.procs
        for p in procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for ns in self._namespaces:
            for pid in run(["ip", "netns", "pids", ns]).out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        for ns in reversed(self._namespaces):
            run(["ip", "netns", "del", ns])
        wanted = set(self._namespaces)
        deadline = time.monotonic() + 3
        while True:
            left = [x for x in names.list_netns() if x in wanted]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.hosts.clear()
        self.daemons.clear()
        self._namespaces.clear()
        return left


# -- crafted VXLAN datagrams --------------------------------------------------------------------
SEND_UDP = r"""
import json, socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
n = 0
for h in sys.argv[4:]:
    n += s.sendto(bytes.fromhex(h), (dst, port)) > 0
print(json.dumps({"sent": n}))
"""


def send_udp(ns: str, src: str, dst: str, port: int, payloads: list[bytes]) -> int:
    """Sends each payload as one UDP datagram from `src` (an address of namespace `ns`) to
    dst:port. Returns how many were sent."""
    r = ns_exec(ns, PYTHON, "-c", SEND_UDP, src, dst, port, *[p.hex() for p in payloads])
    if r.rc != 0:
        raise RuntimeError(f"UDP send from {ns} failed:\n{r}")
    return json.loads(r.out)["sent"]
