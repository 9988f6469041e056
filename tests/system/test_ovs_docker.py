"""Debian's `ovs-docker` script, unchanged, drives vswitchd (issue #16): it runs Debian's
`ovs-vsctl` (which finds our OVSDB socket through OVS_RUNDIR), or our vsctl linked as
`ovs-vsctl` (which finds both our sockets there), `ip` and `uuidgen`, and asks
`docker inspect` for a container's PID. Docker itself is not here: a two-line fake `docker`
answers with the PID of a process that sleeps in a network namespace this test made, which is
all ovs-docker wants of a container. Adding ports with addresses, re-tagging (set-vlan),
del-port and del-ports, with pings between the two "containers" proving each step.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.proc import run

OVS_DOCKER = shutil.which("ovs-docker")
pytestmark = pytest.mark.skipif(not OVS_DOCKER or not shutil.which("ovs-vsctl") or not shutil.which("uuidgen"),
                                reason="needs Debian's openvswitch-common (ovs-docker, ovs-vsctl) and uuid-runtime")

FAKE_DOCKER = """#!/bin/sh
# docker inspect -f '{{.State.Pid}}' NAME -> the PID written in $FAKE_DOCKER_DIR/NAME
[ "$1" = inspect ] || { echo "fake docker: only 'inspect' is supported" >&2; exit 1; }
for last; do :; done
cat "$FAKE_DOCKER_DIR/$last" 2>/dev/null || { echo "Error: No such object: $last" >&2; exit 1; }
"""


class Lab:
    def __init__(self, d, vsctl_tool: str = "debian"):
        self.d = d
        self.dir = Path(tempfile.mkdtemp(prefix=f"vsdock{os.getpid()}-", dir="/tmp"))
        (self.dir / "docker").write_text(FAKE_DOCKER)
        (self.dir / "docker").chmod(0o755)
        if vsctl_tool == "ours":  # our vsctl linked as ovs-vsctl, first on PATH (docs/vsctl.md)
            (self.dir / "ovs-vsctl").symlink_to(daemon_mod.VSCTL)
        self.containers: dict[str, tuple[str, subprocess.Popen]] = {}
        self.env = {**os.environ, "PATH": f"{self.dir}:{os.environ['PATH']}",
                    "OVS_RUNDIR": str(d.dir), "FAKE_DOCKER_DIR": str(self.dir)}

    def container(self, name: str) -> str:
        ns = names.unique(names.KIND_NETNS)
        run(["ip", "netns", "add", ns])
        p = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "600"], stdin=subprocess.DEVNULL)
        self.containers[name] = (ns, p)
        (self.dir / name).write_text(f"{p.pid}\n")
        return ns

    def ovs_docker(self, *args: str):
        r = run([OVS_DOCKER, *args], timeout=90, env=self.env)
        assert r.rc == 0, f"ovs-docker {' '.join(args)} failed:\n{r}\n{self.d.log_tail(2000)}"
        return r

    def ping(self, name: str, ip: str) -> int:
        ns = self.containers[name][0]
        return run(["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-w", "3", ip],
                   timeout=10).rc

    def cleanup(self) -> None:
        for ns, p in self.containers.values():
            p.kill()
            p.wait(timeout=5)
            run(["ip", "netns", "del", ns])
        # Ports ovs-docker made and a failed test left behind (named <13 hex>_l in the root namespace).
        for br in self.d.vsctl("list-br").out.split():
            for name in self.d.vsctl("list-ifaces", br).out.split():
                if name.endswith("_l") and len(name) == 15:
                    run(["ip", "link", "del", name])
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(params=["debian", "ours"], ids=["debian-ovs-vsctl", "vsctl-as-ovs-vsctl"])
def lab(vswitchd, request):
    lab = Lab(vswitchd, request.param)
    try:
        yield lab
    finally:
        lab.cleanup()


def test_ovs_docker_add_port_set_vlan_del_port(lab):
    d = lab.d
    br = names.unique(names.KIND_BRIDGE)
    c1, c2 = f"c{os.getpid()}a", f"c{os.getpid()}b"
    lab.container(c1)
    lab.container(c2)
    lab.ovs_docker("add-port", br, "eth1", c1, "--ipaddress=10.231.11.1/24")
    lab.ovs_docker("add-port", br, "eth1", c2, "--ipaddress=10.231.11.2/24", "--mtu=1400")
    ports = d.list_ports(br)
    assert len(ports) == 2, f"ovs-docker should have added two ports to {br}: {ports}"
    ids = [d.vsctl_json("get", "interface", p, "external_ids") for p in ports]
    assert sorted(i["container_id"] for i in ids) == sorted([c1, c2]) and all(i["container_iface"] == "eth1" for i in ids), ids
    assert lab.ping(c1, "10.231.11.2") == 0, "containers on the bridge ovs-docker built cannot talk"

    # set-vlan finds the port by its external_ids (ovs-vsctl find) and tags it.
    lab.ovs_docker("set-vlan", br, "eth1", c1, "5")
    port1 = next(p for p, i in zip(ports, ids) if i["container_id"] == c1)
    assert d.vsctl_ok("get", "port", port1, "tag").strip() == "5"
    assert lab.ping(c1, "10.231.11.2") != 0, "VLAN 5 reached the untagged container"
    lab.ovs_docker("set-vlan", br, "eth1", c2, "5")
    run(["ip", "netns", "exec", lab.containers[c1][0], "ip", "neigh", "flush", "dev", "eth1"])
    assert lab.ping(c1, "10.231.11.2") == 0, "both on VLAN 5 and still apart"

    lab.ovs_docker("del-port", br, "eth1", c1)
    assert d.list_ports(br) == [p for p in ports if p != port1]
    assert run(["ip", "link", "show", port1]).rc != 0, "del-port left the veth behind"
    lab.ovs_docker("del-ports", br, c2)
    assert d.list_ports(br) == []
    d.vsctl_ok("del-br", br)
