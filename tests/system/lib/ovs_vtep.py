"""Open vSwitch's userspace datapath as the far VTEP of an overlay (lib.overlay.Overlay).

Open vSwitch's userspace datapath encapsulates and decapsulates tunnels itself ("native
tunnelling"): the underlay address lives on an internal port of a second bridge whose member is
the underlay link, and Open vSwitch routes, ARPs and builds outer headers on its own.

    ovs = OvsPeer.start()                        # lib.ovs: private ovs-vswitchd in its own namespace
    v = OvsVtep.attach(ov, ovs, "192.0.2.9")      # underlay link + bridge "ophy" with the address
    v.add_tunnel("t1", "geneve", "192.0.2.1", key=42)
    c = v.add_container("10.231.42.9")           # a lib.netns.Host on the OVS bridge

Everything it creates lives in the Overlay's and the OvsPeer's namespaces (removed by their
cleanup). Open vSwitch's userspace datapath reads frames without a virtio-net header, so its
links get checksum/segmentation offloads off (lib.ovs).
"""
from __future__ import annotations

from dataclasses import dataclass

from .netns import OFFLOAD_FEATURES, Host, random_mac
from .overlay import Overlay, ns_exec
from .ovs import OvsPeer
from .proc import check

PHY_BRIDGE = "ophy"


@dataclass
class OvsVtep:
    ov: Overlay
    ovs: OvsPeer
    ip: str
    n_containers: int = 0

    @classmethod
    def attach(cls, ov: Overlay, ovs: OvsPeer, ip: str) -> "OvsVtep":
        ov.attach_underlay(ovs.ns, None, ifname="ul0")
        check(["ip", "netns", "exec", ovs.ns, "ethtool", "-K", "ul0", *OFFLOAD_FEATURES])
        # A UDP GSO datagram (our tunnels send with UDP_SEGMENT) crosses veths and the underlay
        # bridge whole, where a NIC would segment it; Open vSwitch reads ul0 without a
        # virtio-net header and drops it ("Too big"). Have the underlay's port segment it.
        check(["ip", "netns", "exec", ov.underlay, "ethtool", "-K", f"u{ov._n_ul}",
               *OFFLOAD_FEATURES, "tx-udp-segmentation", "off"])
        ovs.vsctl("add-br", PHY_BRIDGE, "--", "set", "bridge", PHY_BRIDGE, "datapath_type=netdev")
        ovs.vsctl("add-port", PHY_BRIDGE, "ul0")
        check(["ip", "-n", ovs.ns, "addr", "add", f"{ip}/24", "dev", PHY_BRIDGE])
        check(["ip", "-n", ovs.ns, "link", "set", PHY_BRIDGE, "up"])
        # Open vSwitch learns the kernel's routes by netlink; say it explicitly so that the tunnel
        # does not depend on how quickly that happens.
        ovs.appctl("ovs/route/add", f"{ip.rsplit('.', 1)[0]}.0/24", PHY_BRIDGE)
        return cls(ov, ovs, ip)

    def add_tunnel(self, name: str, tunnel_type: str, remote_ip: str, key: int | None = None,
                   **options: str) -> None:
        opts = [f"options:remote_ip={remote_ip}"] + ([f"options:key={key}"] if key is not None else [])
        opts += [f"options:{k}={v}" for k, v in options.items()]
        self.ovs.vsctl("add-port", self.ovs.bridge, name, "--", "set", "interface", name,
                       f"type={tunnel_type}", *opts)

    def add_container(self, ip: str) -> Host:
        """A namespace with eth0 = `ip`/24 on a port of the Open vSwitch bridge (offloads off on
        both ends of its veth)."""
        self.n_containers += 1
        peer = f"oc{self.n_containers}"
        ns = self.ov._new_ns()
        mac = random_mac()
        check(["ip", "-n", self.ovs.ns, "link", "add", peer, "type", "veth", "peer", "name", "eth0",
               "netns", ns])
        check(["ip", "-n", ns, "link", "set", "eth0", "address", mac])
        check(["ip", "netns", "exec", ns, "ethtool", "-K", "eth0", *OFFLOAD_FEATURES])
        check(["ip", "netns", "exec", self.ovs.ns, "ethtool", "-K", peer, *OFFLOAD_FEATURES])
        check(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
        check(["ip", "-n", self.ovs.ns, "link", "set", peer, "up"])
        check(["ip", "-n", ns, "link", "set", "eth0", "up"])
        self.ovs.vsctl("add-port", self.ovs.bridge, peer)
        return Host(ns=ns, sw_port=peer, ip=ip, mac=mac)

    def exec(self, *argv) -> str:
        return ns_exec(self.ovs.ns, *argv).out
