"""utilities/cni/vswitch, the CNI plugin (CNI spec 1.0.0), run exactly as a container runtime
runs it: looked up by its type in CNI_PATH, the CNI_* variables in a minimal environment, the
network configuration on stdin, the result or error JSON read from stdout. IPAM is the reference
host-local plugin (Debian's containernetworking-plugins, /usr/lib/cni) with a private dataDir.
Each test has its own vswitchd, bridge and network namespaces, all removed at the end."""
from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.proc import check, run
from lib.vlan import wait_until

PLUGIN_DIR = daemon_mod.REPO / "utilities" / "cni"
IPAM_DIR = Path("/usr/lib/cni")
CNI_PATH = f"{PLUGIN_DIR}:{IPAM_DIR}"
SUBNET = "10.231.50"
NETWORK = "vstestnet"

pytestmark = pytest.mark.skipif(not (IPAM_DIR / "host-local").exists(),
                                reason="containernetworking-plugins is not installed "
                                       "(scripts/setup.sh installs it)")


def host_ifname(cid: str, ifname: str) -> str:
    return "vsc" + hashlib.sha1(f"{cid}/{ifname}".encode()).hexdigest()[:12]


def exists(dev: str) -> bool:
    return os.path.exists(f"/sys/class/net/{dev}")


@dataclass
class Reply:
    rc: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return f"rc={self.rc}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def find_plugin(kind: str) -> str:
    """What a runtime does with `"type"`: the first executable of that name in CNI_PATH."""
    for d in CNI_PATH.split(":"):
        p = os.path.join(d, kind)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise AssertionError(f"no plugin {kind} in {CNI_PATH}")


def exec_plugin(command: str, conf, cid: str | None = None, netns: str | None = None,
                ifname: str | None = "eth0", args: str | None = None,
                env: dict | None = None) -> Reply:
    kind = conf.get("type", "vswitch") if isinstance(conf, dict) else "vswitch"
    stdin = conf if isinstance(conf, (str, bytes)) else json.dumps(conf)
    e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_COMMAND": command, "CNI_PATH": CNI_PATH}
    for k, v in (("CNI_CONTAINERID", cid), ("CNI_NETNS", netns), ("CNI_IFNAME", ifname),
                 ("CNI_ARGS", args)):
        if v is not None:
            e[k] = v
    e.update(env or {})
    p = subprocess.run([find_plugin(kind)], input=stdin.encode() if isinstance(stdin, str) else stdin,
                       capture_output=True, env=e, timeout=60)
    return Reply(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))


@dataclass
class Netns:
    name: str
    path: str

    def exec(self, *argv, timeout: float = 20):
        return run(["ip", "netns", "exec", self.name, *map(str, argv)], timeout=timeout)

    def link(self, ifname: str) -> dict | None:
        r = self.exec("ip", "-j", "-d", "addr", "show", "dev", ifname)
        return json.loads(r.out)[0] if r.rc == 0 and r.out.strip() else None

    def links(self) -> list[str]:
        return sorted(x["ifname"] for x in json.loads(self.exec("ip", "-j", "link", "show").out))

    def addresses(self, ifname: str) -> list[str]:
        link = self.link(ifname) or {}
        return [f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", [])
                if a.get("family") == "inet"]

    def ping(self, addr: str, count: int = 3, deadline: int = 4):
        return self.exec("ping", "-n", "-q", "-c", count, "-i", "0.2", "-w", deadline, addr,
                         timeout=deadline + 10)


class Cni:
    """One test's world: a daemon, a bridge, a host-local dataDir, namespaces; ADDs recorded so
    that the teardown can DEL them (and remove whatever a failing test left)."""

    def __init__(self, daemon, tmp_path: Path):
        self.d = daemon
        self.bridge = names.unique(names.KIND_BRIDGE)
        daemon.vsctl_ok("add-br", self.bridge)
        self.data_dir = tmp_path / "ipam"
        self.namespaces: list[Netns] = []
        self.attached: list[tuple[dict, str, str | None, str]] = []
        self.counter = 0

    def conf(self, **kw) -> dict:
        c = {"cniVersion": "1.0.0", "name": NETWORK, "type": "vswitch", "bridge": self.bridge,
             "socket": str(self.d.socket),
             "ipam": {"type": "host-local", "subnet": f"{SUBNET}.0/24",
                      "dataDir": str(self.data_dir)}}
        c.update(kw)
        return {k: v for k, v in c.items() if v is not None}

    def netns(self) -> Netns:
        ns = names.unique(names.KIND_NETNS)
        check(["ip", "netns", "add", ns])
        n = Netns(ns, f"/run/netns/{ns}")
        self.namespaces.append(n)
        n.exec("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1")
        return n

    def cid(self) -> str:
        self.counter += 1
        return f"ctr{names.PID}x{self.counter}"

    def add(self, conf: dict, ns: Netns, cid: str | None = None, ifname: str = "eth0",
            args: str | None = None) -> tuple[str, dict]:
        cid = cid or self.cid()
        self.attached.append((conf, cid, ns.path, ifname))
        r = exec_plugin("ADD", conf, cid, ns.path, ifname, args)
        assert r.rc == 0, f"ADD failed:\n{r}"
        assert r.stderr == "", r.stderr
        return cid, r.json

    def ipam_allocations(self) -> list[str]:
        d = self.data_dir / NETWORK
        if not d.is_dir():
            return []
        return sorted(f.name for f in d.iterdir()
                      if f.name not in ("lock",) and not f.name.startswith("last_reserved_ip"))

    def ports(self) -> dict:
        """{port: (tag, external_ids of its interface)} over every bridge."""
        out = {}
        for b in self.d.committed_config()["bridges"].values():
            for name, p in b["ports"].items():
                out[name] = (p.get("tag"), p["interfaces"][name]["external_ids"]
                             if name in p["interfaces"] else None)
        return out

    def state(self) -> dict:
        """Everything ADD could change: ports, host ends (vsc*), links in our namespaces, IPAM."""
        return {"ports": self.ports(),
                "links": sorted(x for x in names.list_links() if x.startswith("vsc")),
                "ns": {n.name: n.links() for n in self.namespaces},
                "ipam": self.ipam_allocations()}

    def cleanup(self) -> None:
        for conf, cid, netns, ifname in self.attached:
            if self.d.running():
                exec_plugin("DEL", conf, cid, netns, ifname)
            if exists(host_ifname(cid, ifname)):
                run(["ip", "link", "del", host_ifname(cid, ifname)])
        for n in self.namespaces:
            for pid in run(["ip", "netns", "pids", n.name]).out.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            run(["ip", "netns", "del", n.name])


@pytest.fixture
def cni(vswitchd, tmp_path):
    c = Cni(vswitchd, tmp_path)
    try:
        yield c
    finally:
        c.cleanup()


def with_prev(conf: dict, result: dict) -> dict:
    c = copy.deepcopy(conf)
    c["prevResult"] = result
    return c


# --- VERSION ------------------------------------------------------------------------------------
def test_version():
    r = exec_plugin("VERSION", {"cniVersion": "1.0.0"}, ifname=None)
    assert r.rc == 0, r
    assert r.json == {"cniVersion": "1.0.0",
                      "supportedVersions": ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]}
    r = exec_plugin("VERSION", {"cniVersion": "0.4.0"}, ifname=None)
    assert r.json["cniVersion"] == "0.4.0"


# --- ADD, ping, CHECK, DEL ----------------------------------------------------------------------
def test_add_ping_check_del(cni):
    conf = cni.conf(mtu=1400)
    a, b = cni.netns(), cni.netns()
    cid_a, res_a = cni.add(conf, a)
    cid_b, res_b = cni.add(conf, b)

    for cid, ns, res in ((cid_a, a, res_a), (cid_b, b, res_b)):
        host = host_ifname(cid, "eth0")
        assert res["cniVersion"] == "1.0.0"
        assert [i["name"] for i in res["interfaces"]] == [host, "eth0"]
        assert "sandbox" not in res["interfaces"][0]
        assert res["interfaces"][1]["sandbox"] == ns.path
        link = ns.link("eth0")
        assert res["interfaces"][1]["mac"] == link["address"]
        assert link["mtu"] == 1400 and "UP" in link["flags"]
        assert len(res["ips"]) == 1 and res["ips"][0]["interface"] == 1
        assert res["ips"][0]["address"].startswith(f"{SUBNET}.")
        assert "version" not in res["ips"][0]            # 1.0.0 dropped it
        assert ns.addresses("eth0") == [res["ips"][0]["address"]]
        # The host end is a port of the bridge, recording the container (as ovs-cni does).
        tag, ids = cni.ports()[host]
        assert tag is None
        assert ids == {"container_id": cid, "container_iface": "eth0",
                       "cni_network": NETWORK, "cni_netns": ns.path}
        assert host in cni.d.list_ports(cni.bridge)
        assert json.loads(check(["ip", "-j", "link", "show", "dev", host]))[0]["mtu"] == 1400

    addr_a = res_a["ips"][0]["address"].split("/")[0]
    addr_b = res_b["ips"][0]["address"].split("/")[0]
    assert cni.ipam_allocations() == sorted([addr_a, addr_b])
    assert a.ping(addr_b).rc == 0
    assert b.ping(addr_a).rc == 0

    # CHECK: the runtime passes the ADD's result as prevResult; success prints nothing.
    for cid, ns, res in ((cid_a, a, res_a), (cid_b, b, res_b)):
        r = exec_plugin("CHECK", with_prev(conf, res), cid, ns.path)
        assert r.rc == 0 and r.stdout == "", r

    # DEL twice: both succeed; the port, the veth pair and the IPAM allocation are gone.
    for _ in range(2):
        r = exec_plugin("DEL", with_prev(conf, res_a), cid_a, a.path)
        assert r.rc == 0 and r.stdout == "", r
    host_a = host_ifname(cid_a, "eth0")
    assert host_a not in cni.ports()
    assert not exists(host_a)
    assert a.link("eth0") is None
    assert cni.ipam_allocations() == [addr_b]
    # b is untouched and still works.
    r = exec_plugin("CHECK", with_prev(conf, res_b), cid_b, b.path)
    assert r.rc == 0, r


def test_vlan_isolation(cni):
    """Two tags can't talk: a and b (VLAN 10) reach each other, c (VLAN 20) reaches neither."""
    conf10, conf20 = cni.conf(vlan=10), cni.conf(vlan=20)
    a, b, c = cni.netns(), cni.netns(), cni.netns()
    cid_a, ra = cni.add(conf10, a)
    cid_b, rb = cni.add(conf10, b)
    cid_c, rc_ = cni.add(conf20, c)
    ports = cni.ports()
    assert ports[host_ifname(cid_a, "eth0")][0] == 10
    assert ports[host_ifname(cid_c, "eth0")][0] == 20
    addr = {k: r["ips"][0]["address"].split("/")[0] for k, r in (("a", ra), ("b", rb), ("c", rc_))}
    assert a.ping(addr["b"]).rc == 0
    assert a.ping(addr["c"], count=2, deadline=2).rc != 0
    assert c.ping(addr["b"], count=2, deadline=2).rc != 0
    for conf, cid, ns, res in ((conf10, cid_a, a, ra), (conf20, cid_c, c, rc_)):
        r = exec_plugin("CHECK", with_prev(conf, res), cid, ns.path)
        assert r.rc == 0, r
    # CHECK with another tag in the configuration fails: the port is not what it says.
    r = exec_plugin("CHECK", with_prev(conf20, ra), cid_a, a.path)
    assert r.rc != 0 and r.json["code"] == 103 and "tag 10" in r.json["msg"], r


def test_mac_from_config_cni_args_and_runtime_config(cni):
    """Three interfaces of one container; the MAC comes from "mac", else CNI_ARGS MAC=, with
    runtimeConfig.mac (the "mac" capability) above both."""
    ns = cni.netns()
    cid = cni.cid()
    _, r0 = cni.add(cni.conf(mac="02:00:00:00:50:01"), ns, cid, "eth0")
    _, r1 = cni.add(cni.conf(mac="02:00:00:00:50:01"), ns, cid, "eth1",
                    args="IgnoreUnknown=1;MAC=02:00:00:00:50:02")
    _, r2 = cni.add(cni.conf(runtimeConfig={"mac": "02:00:00:00:50:03"}), ns, cid, "eth2",
                    args="IgnoreUnknown=1;MAC=02:00:00:00:50:02")
    for ifname, res, mac in (("eth0", r0, "02:00:00:00:50:01"), ("eth1", r1, "02:00:00:00:50:02"),
                             ("eth2", r2, "02:00:00:00:50:03")):
        assert ns.link(ifname)["address"] == mac
        assert res["interfaces"][1] == {"name": ifname, "mac": mac, "sandbox": ns.path}
    assert len(cni.ipam_allocations()) == 3   # one address per (container, interface)


def test_check_detects_what_changed(cni):
    conf = cni.conf(ipam={"type": "host-local", "subnet": f"{SUBNET}.0/24",
                          "dataDir": str(cni.data_dir), "routes": [{"dst": "10.231.60.0/24"}]})
    ns = cni.netns()
    cid, res = cni.add(conf, ns)
    host = host_ifname(cid, "eth0")
    chk = with_prev(conf, res)
    assert ns.exec("ip", "route", "show", "10.231.60.0/24").out.strip().startswith(
        f"10.231.60.0/24 via {SUBNET}.1 dev eth0")
    assert exec_plugin("CHECK", chk, cid, ns.path).rc == 0

    def broken(fix, msg):
        r = exec_plugin("CHECK", chk, cid, ns.path)
        assert r.rc != 0 and r.json["code"] == 103 and msg in r.json["msg"], r
        fix()
        r = exec_plugin("CHECK", chk, cid, ns.path)
        assert r.rc == 0, r

    ns.exec("ip", "route", "del", "10.231.60.0/24")
    broken(lambda: ns.exec("ip", "route", "add", "10.231.60.0/24", "via", f"{SUBNET}.1"),
           "route to 10.231.60.0/24")
    addr = res["ips"][0]["address"]
    ns.exec("ip", "addr", "del", addr, "dev", "eth0")
    broken(lambda: (ns.exec("ip", "addr", "add", addr, "dev", "eth0"),
                    ns.exec("ip", "route", "replace", "10.231.60.0/24", "via", f"{SUBNET}.1")),
           f"address {addr} is missing")
    ns.exec("ip", "link", "set", "eth0", "down")
    broken(lambda: (ns.exec("ip", "link", "set", "eth0", "up"),
                    ns.exec("ip", "route", "replace", "10.231.60.0/24", "via", f"{SUBNET}.1")),
           "eth0 in")
    cni.d.vsctl_ok("del-port", host)
    r = exec_plugin("CHECK", chk, cid, ns.path)
    assert r.rc != 0 and r.json["code"] == 103 and f"port {host} is not on bridge" in r.json["msg"]
    # IPAM's own CHECK is consulted: host-local fails when the reservation is gone.
    run(["sh", "-c", f"rm -f {cni.data_dir / NETWORK / addr.split('/')[0]}"])
    r = exec_plugin("CHECK", chk, cid, ns.path)
    assert r.rc != 0 and "IPAM plugin host-local" in r.json["msg"], r


def test_del_after_the_container_is_gone(cni):
    """The namespace died (its veth end with it): DEL without CNI_NETNS still removes the port
    and releases the address; a DEL of an attachment that never existed succeeds."""
    conf = cni.conf()
    ns = cni.netns()
    cid, res = cni.add(conf, ns)
    host = host_ifname(cid, "eth0")
    run(["ip", "netns", "del", ns.name])
    assert wait_until(lambda: not exists(host), timeout=5)
    assert host in cni.ports()
    r = exec_plugin("DEL", conf, cid, None)
    assert r.rc == 0 and r.stdout == "", r
    assert host not in cni.ports() and cni.ipam_allocations() == []
    r = exec_plugin("DEL", conf, "never-added", None)
    assert r.rc == 0, r


def test_del_while_the_switch_is_down(cni):
    """vswitchd unreachable: DEL still releases the address and deletes the veth pair, reports
    "try again later" (11), and a DEL once the daemon is back removes the port."""
    conf = cni.conf()
    ns = cni.netns()
    cid, res = cni.add(conf, ns)
    host = host_ifname(cid, "eth0")
    cni.d.stop()
    r = exec_plugin("DEL", conf, cid, ns.path)
    assert r.rc != 0 and r.json["code"] == 11 and "cannot reach vswitchd" in r.json["msg"], r
    assert cni.ipam_allocations() == [] and not exists(host) and ns.link("eth0") is None
    cni.d.start()
    assert host in cni.ports()
    r = exec_plugin("DEL", conf, cid, ns.path)
    assert r.rc == 0, r
    assert host not in cni.ports()


def test_chained_add_and_older_versions(cni):
    """ADD with a prevResult (a plugin before us in the chain) keeps what it lists and indexes
    our IPs after it; cniVersion 0.4.0 results carry the ips' "version"."""
    prev = {"cniVersion": "1.0.0", "interfaces": [{"name": "other0", "mac": "02:00:00:00:00:99"}],
            "ips": [{"address": "192.0.2.7/24", "interface": 0}],
            "dns": {"nameservers": ["192.0.2.53"]}}
    ns = cni.netns()
    conf = with_prev(cni.conf(), prev)
    cid, res = cni.add(conf, ns)
    assert [i["name"] for i in res["interfaces"]] == ["other0", host_ifname(cid, "eth0"), "eth0"]
    assert res["ips"][0] == prev["ips"][0]
    assert res["ips"][1]["interface"] == 2
    assert res["dns"] == prev["dns"]
    r = exec_plugin("CHECK", with_prev(cni.conf(), res), cid, ns.path)
    assert r.rc == 0, r

    conf04 = cni.conf(cniVersion="0.4.0")
    cid4, res4 = cni.add(conf04, ns, ifname="eth1")
    assert res4["cniVersion"] == "0.4.0"
    assert res4["ips"][0]["version"] == "4" and res4["ips"][0]["interface"] == 1
    r = exec_plugin("CHECK", with_prev(conf04, res4), cid4, ns.path, "eth1")
    assert r.rc == 0, r
    r = exec_plugin("DEL", with_prev(conf04, res4), cid4, ns.path, "eth1")
    assert r.rc == 0, r


def test_socket_from_environment(cni):
    """Without "socket", the plugin uses $VSWITCH_SOCKET (then /run/vswitch/vswitchd.sock)."""
    conf = cni.conf(socket=None, ipam=None)
    ns = cni.netns()
    cid = cni.cid()
    cni.attached.append((cni.conf(ipam=None), cid, ns.path, "eth0"))
    r = exec_plugin("ADD", conf, cid, ns.path, env={"VSWITCH_SOCKET": str(cni.d.socket)})
    assert r.rc == 0, r
    assert r.json["ips"] == [] and host_ifname(cid, "eth0") in cni.ports()
    r = exec_plugin("DEL", conf, cid, ns.path, env={"VSWITCH_SOCKET": str(cni.d.socket)})
    assert r.rc == 0 and host_ifname(cid, "eth0") not in cni.ports(), r


# --- bad input: the spec's error JSON, a message naming the problem, nothing changed -------------
def _bad_cases():
    def conf_edit(**kw):
        return lambda cni, env: (cni.conf(**kw), env)

    def raw(text):
        return lambda cni, env: (text, env)

    def env_edit(**kw):
        def f(cni, env):
            e = dict(env)
            for k, v in kw.items():
                if v is None:
                    e.pop(k, None)
                else:
                    e[k] = v
            return cni.conf(), e
        return f

    def ipam(**kw):
        def f(cni, env):
            i = {"type": "host-local", "subnet": f"{SUBNET}.0/24", "dataDir": str(cni.data_dir)}
            i.update(kw)
            return cni.conf(ipam=i), env
        return f

    def with_conf(f):
        return lambda cni, env: (f(cni), env)

    return [
        # (id, command, make(cni, env) -> (conf, env), code, words in msg)
        ("malformed-json", "ADD", raw('{"cniVersion": "1.0.0", "name": '), 6, "not valid JSON"),
        ("not-an-object", "ADD", raw('["vswitch"]'), 6, "not a JSON object"),
        ("empty-stdin", "ADD", raw(""), 6, "no network configuration"),
        ("unknown-version", "ADD", conf_edit(cniVersion="9.9.9"), 1, '"9.9.9"'),
        ("no-version", "ADD", with_conf(lambda c: {k: v for k, v in c.conf().items()
                                                   if k != "cniVersion"}), 1, "no cniVersion"),
        ("missing-netns", "ADD", env_edit(CNI_NETNS=None), 4, "CNI_NETNS is not set"),
        ("missing-containerid", "ADD", env_edit(CNI_CONTAINERID=None), 4, "CNI_CONTAINERID"),
        ("bad-containerid", "ADD", env_edit(CNI_CONTAINERID="-x"), 4, "CNI_CONTAINERID '-x'"),
        ("bad-ifname", "ADD", env_edit(CNI_IFNAME="a/b"), 4, "CNI_IFNAME 'a/b'"),
        ("long-ifname", "ADD", env_edit(CNI_IFNAME="x" * 16), 4, "CNI_IFNAME"),
        ("bad-command", "ADD", env_edit(CNI_COMMAND="ATTACH"), 4, "CNI_COMMAND 'ATTACH'"),
        ("bad-cni-args", "ADD", env_edit(CNI_ARGS="MAC"), 4, "CNI_ARGS"),
        ("no-cni-path", "ADD", env_edit(CNI_PATH=None), 4, "CNI_PATH"),
        ("netns-does-not-exist", "ADD", env_edit(CNI_NETNS="/run/netns/vsnone-cni"), 3,
         "/run/netns/vsnone-cni"),
        ("host-netns", "ADD", env_edit(CNI_NETNS=f"/proc/{os.getpid()}/ns/net"), 4, "host's own"),
        ("no-such-bridge", "ADD", conf_edit(bridge="vsnobridge"), 7,
         "bridge vsnobridge does not exist"),
        ("unknown-field", "ADD", conf_edit(brdige="br0"), 2, '"brdige": "br0"'),
        ("ipmasq", "ADD", conf_edit(ipMasq=True), 2, '"ipMasq": true'),
        ("no-name", "ADD", conf_edit(name=None), 7, '"name"'),
        ("vlan-out-of-range", "ADD", conf_edit(vlan=4095), 7, '"vlan": 4095'),
        ("vlan-string", "ADD", conf_edit(vlan="10"), 7, '"vlan": "10"'),
        ("mtu-too-small", "ADD", conf_edit(mtu=10), 7, '"mtu": 10'),
        ("bad-mac", "ADD", conf_edit(mac="02:00:00:00:00"), 7, "invalid MAC"),
        ("multicast-mac", "ADD", conf_edit(mac="01:00:5e:00:00:01"), 7, "not a unicast"),
        ("bad-mac-in-cni-args", "ADD", env_edit(CNI_ARGS="MAC=zz"), 7, "CNI_ARGS MAC"),
        ("ipam-not-in-cni-path", "ADD", ipam(type="vsnoipam"), 7,
         "IPAM plugin 'vsnoipam' not found"),
        ("ipam-refuses", "ADD", ipam(subnet="10.231.50.0/40"), None, "IPAM plugin host-local"),
        ("switch-unreachable", "ADD", conf_edit(socket="/run/vswitch/vsnone-cni.sock"), 11,
         "cannot reach vswitchd"),
        # Fails after the address is allocated, the veth made and the port added: all undone.
        ("route-refused", "ADD", ipam(routes=[{"dst": "10.231.61.0/24", "gw": "192.0.2.1"}]),
         102, "invalid gateway"),
        ("check-without-prevresult", "CHECK", conf_edit(), 7, "prevResult"),
        ("check-old-version", "CHECK", conf_edit(cniVersion="0.3.1"), 1, "CHECK needs"),
    ]


BAD = _bad_cases()


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_changes_nothing(cni, case):
    _, command, make, code, words = case
    ns = cni.netns()
    cid = cni.cid()
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": cid, "CNI_NETNS": ns.path,
           "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH}
    conf, env = make(cni, env)
    cni.attached.append((cni.conf(), cid, ns.path, "eth0"))
    before = cni.state()
    e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **env}
    p = subprocess.run([find_plugin("vswitch")], input=conf if isinstance(conf, str)
                       else json.dumps(conf), capture_output=True, text=True, env=e, timeout=60)
    r = Reply(p.returncode, p.stdout, p.stderr)
    assert r.rc != 0, r
    err = r.json
    assert set(err) <= {"cniVersion", "code", "msg", "details"} and "cniVersion" in err, r
    if code is not None:
        assert err["code"] == code, r
    else:
        assert isinstance(err["code"], int) and err["code"] > 0, r
    assert words in err["msg"], r
    assert cni.state() == before


def test_add_twice_is_refused_and_keeps_the_first(cni):
    conf = cni.conf()
    ns = cni.netns()
    cid, res = cni.add(conf, ns)
    before = cni.state()
    r = exec_plugin("ADD", conf, cid, ns.path)
    assert r.rc != 0 and "already attached" in r.json["msg"], r
    assert cni.state() == before
    # An interface of that name already in the container (not ours): refused, left alone.
    other = cni.netns()
    assert other.exec("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "x0").rc == 0
    before = cni.state()
    r = exec_plugin("ADD", conf, cni.cid(), other.path)
    assert r.rc != 0 and "eth0 already exists" in r.json["msg"], r
    assert cni.state() == before
    assert exec_plugin("CHECK", with_prev(conf, res), cid, ns.path).rc == 0
