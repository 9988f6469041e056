"""utilities/vs-docker: containers (network namespaces, named or as a process's PID) attached to a
bridge through veth pairs, with address, MAC, MTU, gateway and VLAN; del-port, del-ports,
set-vlan; add-port is all or nothing."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
from dataclasses import dataclass

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.proc import check, run
from lib.vlan import flush_neighbours, ping_matrix, wait_until

VS_DOCKER = daemon_mod.REPO / "utilities" / "vs-docker"
SUBNET = "10.231.30"


@dataclass
class Container:
    ref: str          # what vs-docker is given: a netns name or a PID
    nspath: str       # for nsenter --net

    def exec(self, *argv, timeout: float = 20):
        return run(["nsenter", f"--net={self.nspath}", "--", *map(str, argv)], timeout=timeout)

    def link(self, ifname: str) -> dict | None:
        r = self.exec("ip", "-j", "addr", "show", "dev", ifname)
        return json.loads(r.out)[0] if r.rc == 0 and r.out.strip() else None

    def links(self) -> list[str]:
        return [x["ifname"] for x in json.loads(self.exec("ip", "-j", "link", "show").out)]

    def flush_neighbours(self, ifname: str) -> None:
        self.exec("ip", "neigh", "flush", "dev", ifname)

    def ping(self, addr: str, count: int = 3, deadline: int = 4):
        return self.exec("ping", "-n", "-q", "-c", count, "-i", "0.2", "-w", deadline, addr,
                         timeout=deadline + 10)


@pytest.fixture
def containers():
    """make_netns() / make_pid(): fresh network namespaces, removed (processes killed) at the end."""
    made_ns, procs = [], []

    class Factory:
        @staticmethod
        def netns() -> Container:
            ns = names.unique(names.KIND_NETNS)
            check(["ip", "netns", "add", ns])
            made_ns.append(ns)
            check(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                   "net.ipv6.conf.default.disable_ipv6=1"])
            check(["ip", "-n", ns, "link", "set", "lo", "up"])
            return Container(ns, f"/run/netns/{ns}")

        @staticmethod
        def pid() -> tuple[Container, subprocess.Popen]:
            p = subprocess.Popen(["unshare", "--net", "sleep", "300"], stdin=subprocess.DEVNULL)
            procs.append(p)
            mine = os.readlink("/proc/self/ns/net")
            ok = wait_until(lambda: os.path.exists(f"/proc/{p.pid}/ns/net") and
                            os.readlink(f"/proc/{p.pid}/ns/net") != mine, timeout=5)
            assert ok, "unshare --net did not give the process its own network namespace"
            c = Container(str(p.pid), f"/proc/{p.pid}/ns/net")
            c.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
            c.exec("ip", "link", "set", "lo", "up")
            return c, p

    yield Factory()
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=5)
    for ns in made_ns:
        for pid in run(["ip", "netns", "pids", ns]).out.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", ns])


def vs_docker(d, *args, vsctl: str | None = None):
    env = {"VSCTL": vsctl or str(daemon_mod.VSCTL), "VSWITCH_SOCKET": str(d.socket)}
    return run([str(VS_DOCKER), *map(str, args)], env=env, timeout=90)


def host_ifname(container: str, ifname: str) -> str:
    return "vsd" + hashlib.sha1(f"{container}/{ifname}".encode()).hexdigest()[:12]


def _exists(dev: str) -> bool:
    return os.path.exists(f"/sys/class/net/{dev}")


@pytest.fixture
def cleanup_links():
    """Host ends vs-docker made, deleted at the end if a failing test left them."""
    links: list[str] = []
    yield links
    for link in links:
        if _exists(link):
            run(["ip", "link", "del", link])


def _bridge(d) -> str:
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    return br


def _host(d, topo, br, ip, *settings):
    h = topo.add_host(ip)
    d.vsctl_ok("add-port", br, h.sw_port, *settings)
    return h


def test_add_port_to_a_netns_container(vswitchd, topo, containers, cleanup_links):
    d = vswitchd
    br = _bridge(d)
    h10 = _host(d, topo, br, f"{SUBNET}.1", "tag=10")
    h20 = _host(d, topo, br, f"{SUBNET}.3", "tag=20")
    c = containers.netns()
    mac = "02:0c:0d:0e:0f:01"
    host = host_ifname(c.ref, "eth1")
    cleanup_links.append(host)
    r = vs_docker(d, "add-port", br, "eth1", c.ref, f"--ipaddress={SUBNET}.2/24", f"--macaddress={mac}",
                  "--mtu=1400", f"--gateway={SUBNET}.1", "--vlan=10")
    assert r.rc == 0, f"vs-docker add-port failed:\n{r}"

    # Inside the container: name, address, MAC, MTU, up, default route.
    link = c.link("eth1")
    assert link, f"no eth1 in {c.ref}: {c.links()}"
    assert link["address"] == mac and link["mtu"] == 1400 and "UP" in link["flags"], link
    assert [(a["local"], a["prefixlen"]) for a in link["addr_info"] if a["family"] == "inet"] == \
        [(f"{SUBNET}.2", 24)], link
    routes = json.loads(c.exec("ip", "-j", "route", "show", "default").out)
    assert [(x.get("gateway"), x.get("dev")) for x in routes] == [(f"{SUBNET}.1", "eth1")], routes

    # On the host: the other end, named from the hash, on the bridge, VLAN 10, tagged with ids.
    assert _exists(host) and int(open(f"/sys/class/net/{host}/mtu").read()) == 1400
    assert host in d.list_ports(br)
    assert d.vsctl_ok("get", "port", host, "tag").strip() == "10"
    ids = d.vsctl_json("get", "interface", host, "external_ids")
    assert ids == {"container_id": c.ref, "container_iface": "eth1"}, ids

    # Traffic: its own VLAN only.
    assert c.ping(h10.ip).rc == 0, "container -> VLAN 10 host failed"
    rcs = ping_matrix([(h10, f"{SUBNET}.2"), (h20, f"{SUBNET}.2")])
    assert rcs == {(h10.ns, f"{SUBNET}.2"): 0, (h20.ns, f"{SUBNET}.2"): 1}, rcs

    # set-vlan moves it.
    r = vs_docker(d, "set-vlan", br, "eth1", c.ref, "20")
    assert r.rc == 0, r
    assert d.vsctl_ok("get", "port", host, "tag").strip() == "20"
    flush_neighbours(h10, h20)
    c.flush_neighbours("eth1")
    rcs = ping_matrix([(h10, f"{SUBNET}.2"), (h20, f"{SUBNET}.2")])
    assert rcs == {(h10.ns, f"{SUBNET}.2"): 1, (h20.ns, f"{SUBNET}.2"): 0}, rcs
    # An access VLAN is 1..4094 (as vs-qemu-ifup's VS_VLAN): 0 and 4095 are reserved, though
    # vsctl's tag takes them (Open vSwitch's 0..4095). Refused before the switch is touched.
    for bad in ("4096", "0", "4095", "00"):
        r = vs_docker(d, "set-vlan", br, "eth1", c.ref, bad)
        assert r.rc == 1 and f"invalid VLAN '{bad}'" in r.err and "1..4094" in r.err, r
        assert d.vsctl_ok("get", "port", host, "tag").strip() == "20"
    r = vs_docker(d, "set-vlan", br, "eth1", c.ref, "4094")
    assert r.rc == 0, r
    assert d.vsctl_ok("get", "port", host, "tag").strip() == "4094"

    # del-port removes the port, both veth ends and nothing else.
    r = vs_docker(d, "del-port", br, "eth1", c.ref)
    assert r.rc == 0, r
    assert host not in d.list_ports(br)
    assert d.list_ports(br) == sorted([h10.sw_port, h20.sw_port])
    assert wait_until(lambda: not _exists(host)), f"del-port left {host}"
    assert "eth1" not in c.links()
    r = vs_docker(d, "del-port", br, "eth1", c.ref)
    assert r.rc == 1 and "no port" in r.err and c.ref in r.err, r


def test_add_port_to_a_pid_container(vswitchd, topo, containers, cleanup_links):
    d = vswitchd
    br = _bridge(d)
    h1 = _host(d, topo, br, f"{SUBNET}.1")
    c, proc = containers.pid()
    host = host_ifname(c.ref, "eth0")
    cleanup_links.append(host)
    r = vs_docker(d, "add-port", br, "eth0", c.ref, f"--ipaddress={SUBNET}.5/24")
    assert r.rc == 0, r
    assert c.link("eth0") and d.vsctl_json("get", "interface", host, "external_ids") == \
        {"container_id": c.ref, "container_iface": "eth0"}
    assert d.vsctl_ok("get", "port", host, "tag").strip() == "[]", "no --vlan: no tag"
    assert c.ping(h1.ip).rc == 0, "PID container -> host on the bridge failed"
    assert ping_matrix([(h1, f"{SUBNET}.5")]) == {(h1.ns, f"{SUBNET}.5"): 0}
    assert not os.path.exists("/run/netns/" + c.ref), "vs-docker left a /run/netns entry for the PID"

    # The container goes away (its namespace and the veth pair with it); del-port still cleans up.
    proc.kill()
    proc.wait(timeout=5)
    assert wait_until(lambda: not _exists(host), timeout=10), f"{host} outlived the container"
    r = vs_docker(d, "del-port", br, "eth0", c.ref)
    assert r.rc == 0, r
    assert d.list_ports(br) == [h1.sw_port]


def test_del_ports_removes_every_port_of_one_container(vswitchd, topo, containers, cleanup_links):
    d = vswitchd
    br = _bridge(d)
    c1, c2 = containers.netns(), containers.netns()
    made = [(c1, "eth1"), (c1, "eth2"), (c2, "eth1")]
    for i, (c, ifname) in enumerate(made):
        cleanup_links.append(host_ifname(c.ref, ifname))
        r = vs_docker(d, "add-port", br, ifname, c.ref, f"--ipaddress={SUBNET}.{10 + i}/24", "--vlan=7")
        assert r.rc == 0, r
    assert len(d.list_ports(br)) == 3
    r = vs_docker(d, "del-ports", br, c1.ref)
    assert r.rc == 0, r
    assert d.list_ports(br) == [host_ifname(c2.ref, "eth1")]
    for ifname in ("eth1", "eth2"):
        assert wait_until(lambda: not _exists(host_ifname(c1.ref, ifname)))
        assert ifname not in c1.links()
    assert c2.link("eth1"), "del-ports of another container removed c2's interface"
    r = vs_docker(d, "del-ports", br, c1.ref)
    assert r.rc == 0 and d.list_ports(br) == [host_ifname(c2.ref, "eth1")], r


def _state(d, br, c):
    links = sorted(x for x in names.list_links() if x.startswith("vsd"))
    return d.list_ports(br), d.vsctl_json("show"), links, c.links()


def test_add_port_is_all_or_nothing(vswitchd, topo, containers, cleanup_links, tmp_path):
    d = vswitchd
    br = _bridge(d)
    c = containers.netns()
    cleanup_links.append(host_ifname(c.ref, "eth1"))
    before = _state(d, br, c)
    real = str(daemon_mod.VSCTL)
    fail_before = tmp_path / "vsctl-fails"
    fail_before.write_text(f'#!/bin/sh\ncase " $* " in *" add-port "*) echo "vsctl: boom" >&2; exit 1;; esac\n'
                           f'exec {real} "$@"\n')
    fail_after = tmp_path / "vsctl-fails-after-commit"
    fail_after.write_text(f'#!/bin/sh\ncase " $* " in *" add-port "*) {real} "$@"; '
                          f'echo "vsctl: Error detected while setting up" >&2; exit 1;; esac\nexec {real} "$@"\n')
    for f in (fail_before, fail_after):
        f.chmod(0o755)

    cases = [
        ("unreachable gateway", [f"--ipaddress={SUBNET}.2/24", "--gateway=192.0.2.1"], None, "192.0.2.1"),
        ("bad MAC", ["--macaddress=02:00:00:00:00"], None, "macaddress"),
        ("MAC the kernel refuses", ["--macaddress=01:00:00:00:00:01"], None, "01:00:00:00:00:01"),
        ("VLAN out of range", ["--vlan=5000"], None, "5000"),
        ("VLAN 0 (reserved)", ["--vlan=0"], None, "invalid VLAN '0' (expected 1..4094"),
        ("VLAN 4095 (reserved)", ["--vlan", "4095"], None, "invalid VLAN '4095' (expected 1..4094"),
        ("vsctl add-port fails", [f"--ipaddress={SUBNET}.2/24"], str(fail_before), br),
        ("vsctl fails after committing", [f"--ipaddress={SUBNET}.2/24", "--vlan=3"], str(fail_after), br),
    ]
    for what, opts, vsctl, mention in cases:
        r = vs_docker(d, "add-port", br, "eth1", c.ref, *opts, vsctl=vsctl)
        assert r.rc == 1, f"{what}: vs-docker must fail:\n{r}"
        assert mention in r.err, f"{what}: message does not name {mention!r}:\n{r}"
        assert _state(d, br, c) == before, f"{what}: a failed add-port left something behind:\n{r}"

    # Refused before anything is made.
    r = vs_docker(d, "add-port", "nosuchbr", "eth1", c.ref)
    assert r.rc == 1 and "no bridge named nosuchbr" in r.err, r
    ghost = names.unique(names.KIND_NETNS)
    r = vs_docker(d, "add-port", br, "eth1", ghost)
    assert r.rc == 1 and ghost in r.err, r
    r = vs_docker(d, "add-port", br, "lo", c.ref)
    assert r.rc == 1 and "already has an interface named lo" in r.err, r
    assert _state(d, br, c) == before

    # A second add-port of the same container interface is refused and leaves the first alone.
    assert vs_docker(d, "add-port", br, "eth1", c.ref, "--vlan=3").rc == 0
    after_first = _state(d, br, c)
    r = vs_docker(d, "add-port", br, "eth1", c.ref)
    assert r.rc == 1 and "already attached" in r.err, r
    assert _state(d, br, c) == after_first
