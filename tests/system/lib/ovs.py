"""A private Open vSwitch (Debian's openvswitch-switch, userspace datapath) as a peer that nobody
here wrote, run inside its own network namespace so that it cannot clash with another Open vSwitch
on the host (two userspace datapaths in one namespace both want the `ovs-netdev` device).

    ovs = OvsPeer.start()                 # namespace vst<pid>x<n>, bridge obr0 (datapath_type=netdev)
    ovs.take_link("vsw123x4")             # moves a root-namespace link into its namespace, offloads off
    ovs.vsctl("add-port", "obr0", "vsw123x4", "tag=10")
    h = ovs.add_access_host(topo, "10.231.20.3", tag=10)
    ovs.stop()                            # kills its daemons, deletes its namespace and directory

Its own database, sockets and logs live under a fresh /tmp/vso<pid>-*/ directory (OVS_RUNDIR,
OVS_DBDIR, OVS_LOGDIR point there). Open vSwitch's userspace datapath does not handle checksum
offload on veths (it reads frames without a virtio-net header), so every link it uses gets
checksum/TSO/GSO/GRO offloads turned off (bench/README.md caveats).
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from . import names
from .netns import OFFLOAD_FEATURES, Host, Topology
from .proc import Result, check, run

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
BINARIES = ("ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovs-vswitchd", "ovs-appctl")


def missing() -> list[str]:
    """What is missing to run a private Open vSwitch (empty when it can run)."""
    out = [b for b in BINARIES if not shutil.which(b)]
    if not SCHEMA.exists():
        out.append(str(SCHEMA))
    return out


class OvsPeer:
    def __init__(self, bridge: str = "obr0"):
        self.ns = names.unique(names.KIND_NETNS)
        self.dir = Path(tempfile.mkdtemp(prefix=f"vso{os.getpid()}-", dir="/tmp"))
        self.bridge = bridge
        self.env = {"OVS_RUNDIR": str(self.dir), "OVS_DBDIR": str(self.dir),
                    "OVS_LOGDIR": str(self.dir)}
        self.db = f"unix:{self.dir}/db.sock"
        self.ns_made = False

    # -- lifecycle -----------------------------------------------------------------------------
    @classmethod
    def start(cls, bridge: str = "obr0") -> "OvsPeer":
        o = cls(bridge)
        try:
            o._start()
        except BaseException:
            o.stop()
            raise
        return o

    def _run(self, argv, timeout: float = 30) -> Result:
        return run(["ip", "netns", "exec", self.ns, *map(str, argv)], timeout=timeout, env=self.env)

    def _check(self, argv, timeout: float = 30) -> str:
        r = self._run(argv, timeout)
        if r.rc != 0:
            raise RuntimeError(f"Open vSwitch peer: {' '.join(map(str, argv))} failed:\n{r}\n"
                               f"{self.log_tail()}")
        return r.out

    def _start(self) -> None:
        check(["ip", "netns", "add", self.ns])
        self.ns_made = True
        check(["ip", "netns", "exec", self.ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1"])
        check(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        d = self.dir
        self._check(["ovsdb-tool", "create", d / "conf.db", SCHEMA])
        self._check(["ovsdb-server", d / "conf.db", f"--remote=punix:{d}/db.sock",
                     f"--pidfile={d}/ovsdb-server.pid", f"--unixctl={d}/ovsdb-server.ctl",
                     f"--log-file={d}/ovsdb-server.log", "--detach"])
        self._check(["ovs-vsctl", f"--db={self.db}", "--no-wait", "init"])
        self._check(["ovs-vswitchd", self.db, f"--pidfile={d}/ovs-vswitchd.pid",
                     f"--unixctl={d}/ovs-vswitchd.ctl", f"--log-file={d}/ovs-vswitchd.log",
                     "--detach"], timeout=60)
        self.vsctl("add-br", self.bridge, "--", "set", "bridge", self.bridge, "datapath_type=netdev")

    def _pids(self) -> list[int]:
        pids = []
        for name in ("ovs-vswitchd", "ovsdb-server"):
            try:
                pid = int((self.dir / f"{name}.pid").read_text().strip())
            except (OSError, ValueError):
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if str(self.dir).encode() in cmd:   # never signal a process that is not ours
                pids.append(pid)
        return pids

    def stop(self) -> None:
        pids = self._pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if Path(f"/proc/{p}").exists()]
            time.sleep(0.05)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.ns_made:
            r = run(["ip", "netns", "pids", self.ns])
            for pid in r.out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", self.ns])
            self.ns_made = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, max_bytes: int = 20000) -> str:
        parts = []
        for name in ("ovs-vswitchd.log", "ovsdb-server.log"):
            try:
                data = (self.dir / name).read_bytes()[-max_bytes:]
            except OSError:
                continue
            parts.append(f"===== Open vSwitch {name} =====\n{data.decode(errors='replace')}")
        return "\n".join(parts)

    # -- tools ---------------------------------------------------------------------------------
    def vsctl(self, *args: str) -> str:
        return self._check(["ovs-vsctl", f"--db={self.db}", "--timeout=20", *args])

    def appctl(self, *args: str) -> str:
        return self._check(["ovs-appctl", "-t", self.dir / "ovs-vswitchd.ctl", *args])

    def fdb(self) -> list[tuple[str, int, str]]:
        """ovs-appctl fdb/show of the bridge: (port name, VLAN, MAC) rows."""
        numbers = {}
        for line in self._check(["ovs-ofctl", "show", self.bridge]).splitlines():
            line = line.strip()
            if "(" in line and "):" in line and line[0].isdigit():
                num, rest = line.split("(", 1)
                numbers[num.strip()] = rest.split(")", 1)[0]
        rows = []
        for line in self.appctl("fdb/show", self.bridge).splitlines()[1:]:
            f = line.split()
            if len(f) >= 3:
                rows.append((numbers.get(f[0], f[0]), int(f[1]), f[2].lower()))
        return rows

    # -- topology ------------------------------------------------------------------------------
    def take_link(self, link: str) -> None:
        """Moves root-namespace link `link` into the peer's namespace, offloads off, up."""
        check(["ip", "link", "set", link, "netns", self.ns])
        check(["ip", "netns", "exec", self.ns, "ethtool", "-K", link, *OFFLOAD_FEATURES])
        check(["ip", "-n", self.ns, "link", "set", link, "up"])

    def add_access_host(self, topo: Topology, ip: str, tag: int) -> Host:
        """A namespace host on an access port of VLAN `tag` of the Open vSwitch bridge."""
        h = topo.add_host(ip, offloads=False)
        self.take_link(h.sw_port)
        self.vsctl("add-port", self.bridge, h.sw_port, f"tag={tag}")
        return h
