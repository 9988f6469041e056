"""OVSDB (RFC 7047) inside vswitchd, driven by peers nobody here wrote: Debian's `ovs-vsctl
--db=unix:PATH` and `ovsdb-client` (docs/ovsdb.md). One source of truth: what ovs-vsctl
configures is what our `vsctl` reads and what forwards traffic, and a change made with our
`vsctl` reaches an `ovsdb-client monitor` at once.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from lib import names
from lib.proc import run
from lib.traffic import ping
from lib.vlan import flush_neighbours

OVS_VSCTL = shutil.which("ovs-vsctl")
OVSDB_CLIENT = shutil.which("ovsdb-client")
pytestmark = pytest.mark.skipif(not OVS_VSCTL or not OVSDB_CLIENT,
                                reason="needs Debian's openvswitch-common (ovs-vsctl, ovsdb-client)")


def db_sock(d) -> str:
    return str(d.dir / "db.sock")  # the default: db.sock beside the management socket


def ovs(d, *args: str, timeout: float = 10):
    return run([OVS_VSCTL, f"--db=unix:{db_sock(d)}", "--timeout=5", *args], timeout=timeout)


def ovs_ok(d, *args: str) -> str:
    r = ovs(d, *args)
    assert r.rc == 0, f"ovs-vsctl {' '.join(args)} failed:\n{r}"
    return r.out


def test_ovs_vsctl_builds_a_switch_that_forwards(vswitchd, topo):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    h1, h2, h3 = (topo.add_host(f"10.231.7.{i}") for i in (1, 2, 3))
    ovs_ok(d, "add-br", br)
    ovs_ok(d, "add-port", br, h1.sw_port, "tag=10", "--", "add-port", br, h2.sw_port, "tag=10")
    ovs_ok(d, "add-port", br, h3.sw_port, "tag=20")
    # What ovs-vsctl configured is our config: our vsctl reads it back.
    assert d.vsctl_ok("get", "port", h1.sw_port, "tag").strip() == "10"
    assert sorted(d.list_ports(br)) == sorted([h1.sw_port, h2.sw_port, h3.sw_port])
    assert ping(h1, h2.ip).rc == 0, "same VLAN through ports ovs-vsctl added"
    assert ping(h1, h3.ip, count=2, deadline=2).rc != 0, "VLAN 10 reached VLAN 20"
    ovs_ok(d, "set", "Port", h3.sw_port, "tag=10")
    flush_neighbours(h1, h3)  # h3's address failed to resolve just before (lib.vlan)
    assert ping(h1, h3.ip).rc == 0, "ovs-vsctl set Port tag did not take effect"
    # Generic database commands read what the daemon reports.
    found = ovs_ok(d, "--bare", "--columns=name", "find", "Port", "tag=10").split()
    assert sorted(found) == sorted([h1.sw_port, h2.sw_port, h3.sw_port])
    ofport = int(ovs_ok(d, "get", "Interface", h1.sw_port, "ofport"))
    assert 1 <= ofport <= 65279
    assert ovs_ok(d, "get", "Interface", br, "ofport").strip() == "65534"
    mac = open(f"/sys/class/net/{h1.sw_port}/address").read().strip()
    got = ovs_ok(d, "get", "Interface", h1.sw_port, "mac_in_use", "link_state", "error").split()
    assert got == [f'"{mac}"', "up", "[]"], got
    assert len(ovs_ok(d, "get", "Bridge", br, "datapath_id").strip().strip('"')) == 16
    assert ovs_ok(d, "list-br").split() == [br]
    assert h2.sw_port in ovs_ok(d, "list", "Interface")
    ovs_ok(d, "set", "Port", h2.sw_port, "trunks=10,20", "--", "set", "Port", h2.sw_port, "vlan_mode=trunk")
    port = json.loads(d.vsctl_ok("--format=json", "list", "port", h2.sw_port))
    assert "10" in json.dumps(port) and "trunk" in json.dumps(port), port
    ovs_ok(d, "del-port", br, h3.sw_port)
    assert h3.sw_port not in d.list_ports(br)
    ovs_ok(d, "del-br", br)
    assert d.vsctl_ok("list-br").split() == []


def test_libvirt_attach_sequence(vswitchd, topo):
    """libvirt's virNetDevOpenvswitchAddPort, as it runs ovs-vsctl for a VM's NIC."""
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    h = topo.add_host("10.231.8.1")
    ovs_ok(d, "--may-exist", "add-br", br)
    ovs_ok(d, "--may-exist", "add-br", br)  # a no-op, not an error
    args = ["--", "--if-exists", "del-port", h.sw_port, "--", "add-port", br, h.sw_port, "tag=42",
            "--", "set", "Interface", h.sw_port, 'external-ids:attached-mac="52:54:00:11:22:33"',
            "external-ids:iface-id=4ad4bd5b-1a2c-4a1f-9d61-5b2a4c0e0f11", "external-ids:iface-status=active",
            "external-ids:vm-id=b8b5f1c0-0000-4000-8000-000000000001"]
    ovs_ok(d, *args)
    ovs_ok(d, *args)  # re-attaching the same NIC replaces it
    assert d.vsctl_ok("get", "port", h.sw_port, "tag").strip() == "42"
    ids = d.vsctl_ok("get", "interface", h.sw_port, "external_ids")
    assert "52:54:00:11:22:33" in ids and "iface-status" in ids, ids
    assert ovs_ok(d, "get", "Interface", h.sw_port, "external-ids:iface-status").strip() == "active"
    ovs_ok(d, "--", "--if-exists", "del-port", h.sw_port)
    assert d.list_ports(br) == []
    ovs_ok(d, "--if-exists", "del-port", h.sw_port)  # already gone: fine
    # The same sequence through our own vsctl ('-' and '_' alike in column names).
    d.vsctl_ok("--timeout=5", *args)
    assert ovs_ok(d, "get", "Interface", h.sw_port, "external_ids:attached-mac").strip() == '"52:54:00:11:22:33"'
    assert ovs_ok(d, "get", "Port", h.sw_port, "tag").strip() == "42"


def test_ovsdb_client_sees_vsctl_changes(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    mon = subprocess.Popen([OVSDB_CLIENT, "monitor", f"unix:{db_sock(d)}", "Open_vSwitch", "Bridge", "name"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)  # the monitor's initial dump
        t0 = time.monotonic()
        d.vsctl_ok("add-br", br)
        line = ""
        while br not in line and time.monotonic() - t0 < 5:
            line = mon.stdout.readline()
        assert br in line and "insert" in line, f"ovsdb-client monitor did not report {br}: {line!r}"
    finally:
        mon.kill()
        mon.wait()
    dump = run([OVSDB_CLIENT, "dump", f"unix:{db_sock(d)}", "Open_vSwitch", "Bridge", "name"], timeout=10)
    assert dump.rc == 0 and br in dump.out, dump
    dbs = run([OVSDB_CLIENT, "list-dbs", f"unix:{db_sock(d)}"], timeout=10)
    assert dbs.out.split() == ["Open_vSwitch"], dbs


class Raw:
    """A raw OVSDB connection: JSON-RPC 1.0 objects, back to back."""

    def __init__(self, path: str):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)
        self.dec = json.JSONDecoder()
        self.buf = ""

    def send(self, data: str) -> None:
        self.s.sendall(data.encode())

    def recv(self) -> dict:
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    obj, end = self.dec.raw_decode(text)
                    self.buf = text[end:]
                    if obj.get("method") == "echo":
                        continue
                    return obj
                except json.JSONDecodeError:
                    pass
            chunk = self.s.recv(65536)
            assert chunk, "the server closed the connection"
            self.buf += chunk.decode()

    def call(self, method: str, params: list, id_: int = 1) -> dict:
        self.send(json.dumps({"id": id_, "method": method, "params": params}))
        return self.recv()


def _txn_error(reply: dict) -> str:
    errs = [r["error"] for r in reply["result"] if isinstance(r, dict) and "error" in r]
    assert errs, reply
    return errs[0]


def test_bad_input_gets_rfc7047_errors_and_changes_nothing(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    before = d.config_bytes()
    c = Raw(db_sock(d))
    other = Raw(db_sock(d))
    c.send('{"id": 7, "method": }')  # not JSON
    r = c.recv()
    assert r["id"] is None and r["error"]["error"] == "syntax error", r
    r = c.call("transact", ["Open_vSwitch", {"op": "insert", "table": "Nope", "row": {}}])
    assert _txn_error(r) == "unknown table"
    r = c.call("transact", ["Open_vSwitch", {"op": "update", "table": "Port", "where": [["name", "==", br]],
                                             "row": {"colour": 1}}])
    assert _txn_error(r) == "unknown column"
    r = c.call("transact", ["Open_vSwitch", {"op": "update", "table": "Port", "where": [["name", "==", br]],
                                             "row": {"tag": 5000}}])
    assert _txn_error(r) == "constraint violation"
    r = c.call("transact", ["Open_vSwitch", {"op": "update", "table": "Bridge", "where": [["name", "==", br]],
                                             "row": {"ports": ["uuid", "6d2a0000-0000-4000-8000-000000000001"]}}])
    assert _txn_error(r) == "referential integrity violation"
    # The local interface made a tap: the rows are valid OVSDB but not a valid config.
    r = c.call("transact", ["Open_vSwitch", {"op": "update", "table": "Interface", "where": [["name", "==", br]],
                                             "row": {"type": "tap"}}])
    assert _txn_error(r) == "constraint violation" and br in json.dumps(r), r
    r = c.call("transact", ["Nope", {"op": "comment", "comment": "x"}])
    assert r["error"]["error"] == "unknown database", r
    r = c.call("no_such_method", [])
    assert r["error"] is not None and r["result"] is None, r
    assert d.config_bytes() == before, "a failed transaction changed the config"
    # Bytes that cannot start a JSON text: an error, then that connection (only) is closed.
    g = Raw(db_sock(d))
    g.send("hello")
    r = g.recv()
    assert r["id"] is None and r["error"]["error"] == "syntax error", r
    assert g.s.recv(100) == b"", "the stream could not be resynchronised but stayed open"
    # Both connections carry on.
    assert c.call("list_dbs", [])["result"] == ["Open_vSwitch"]
    assert other.call("echo", ["x"])["result"] == ["x"]
    assert ovs_ok(d, "list-br").split() == [br]


IDL_SCRIPT = r"""
import sys, time, ovs.db.idl, ovs.poller
helper = ovs.db.idl.SchemaHelper(location="/usr/share/openvswitch/vswitch.ovsschema")
helper.register_columns("Bridge", ["name"])
idl = ovs.db.idl.Idl(sys.argv[1], helper)
seen = None
deadline = time.time() + 20
while time.time() < deadline:
    idl.run()
    if idl.has_ever_connected():
        names = sorted(r.name for r in idl.tables["Bridge"].rows.values())
        if names != seen:
            print(" ".join(["bridges:"] + names), flush=True)
            seen = names
    p = ovs.poller.Poller()
    idl.wait(p)
    p.timer_wait(100)
    p.block()
"""


@pytest.mark.skipif(not os.path.exists("/usr/lib/python3/dist-packages/ovs/db/idl.py"),
                    reason="needs Debian's python3-openvswitch")
def test_python_ovs_idl_follows_changes(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    idl = subprocess.Popen(["/usr/bin/python3", "-c", IDL_SCRIPT, f"unix:{db_sock(d)}"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert idl.stdout.readline().split() == ["bridges:"], "the IDL's initial view is not empty"
        d.vsctl_ok("add-br", br)   # through our management protocol
        assert idl.stdout.readline().split() == ["bridges:", br]
        ovs_ok(d, "del-br", br)    # through OVSDB, by another client
        assert idl.stdout.readline().split() == ["bridges:"]
    finally:
        idl.kill()
        idl.wait()


def test_unmodelled_columns_and_uuids_survive_a_restart(vswitchd):
    """Columns the switch does not act on are stored durably with the config, and rows keep
    their UUIDs (docs/ovsdb.md "accepted, no effect")."""
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    ovs_ok(d, "add-br", br, "--", "set", "Bridge", br, "datapath_type=netdev", "protocols=OpenFlow13",
           "--", "set", "Port", br, "other_config:note=kept")
    uuid = ovs_ok(d, "get", "Bridge", br, "_uuid").strip()
    d.stop()
    d.start()
    assert ovs_ok(d, "get", "Bridge", br, "datapath_type").strip() == "netdev"
    assert ovs_ok(d, "get", "Bridge", br, "protocols").strip() == "[OpenFlow13]"
    assert ovs_ok(d, "get", "Bridge", br, "_uuid").strip() == uuid
    assert d.vsctl_ok("get", "port", br, "other_config:note").strip() == "kept"


def _libvirt_stats(out: str) -> dict:
    """libvirt's virNetDevOpenvswitchInterfaceStats parses one JSON map from
    `--format=list --data=json --no-headings --columns=statistics list Interface IF`."""
    data = json.loads(out.strip())
    assert data[0] == "map", out
    return {k: v for k, v in data[1]}


LIBVIRT_STATS = ["--if-exists", "--format=list", "--data=json", "--no-headings", "--columns=statistics",
                 "list", "Interface"]
LIBVIRT_KEYS = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped", "tx_bytes", "tx_packets", "tx_errors",
                "tx_dropped"}


def test_interface_status_columns_statistics_ifindex_admin_state(vswitchd, topo):
    """Interface statistics (libvirt's exact stats command, through Debian's ovs-vsctl),
    ifindex and admin_state, refreshed every 5 s as Open vSwitch does."""
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    h1, h2 = topo.add_host("10.231.9.1"), topo.add_host("10.231.9.2")
    ovs_ok(d, "add-br", br, "--", "add-port", br, h1.sw_port, "--", "add-port", br, h2.sw_port)
    assert ping(h1, h2.ip, count=5).rc == 0

    ifindex = int(open(f"/sys/class/net/{h1.sw_port}/ifindex").read())
    assert int(ovs_ok(d, "get", "Interface", h1.sw_port, "ifindex")) == ifindex
    assert ovs_ok(d, "get", "Interface", h1.sw_port, "admin_state").strip() == "up"
    assert ovs_ok(d, "get", "Interface", br, "admin_state").strip() == "up", "the bridge's internal port"

    deadline = time.monotonic() + 8
    while True:
        st = _libvirt_stats(ovs_ok(d, *LIBVIRT_STATS, h1.sw_port))
        if st.get("rx_packets", 0) >= 5 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert LIBVIRT_KEYS <= set(st), f"libvirt needs {sorted(LIBVIRT_KEYS)}, got {st}"
    assert st["rx_packets"] >= 5 and st["tx_packets"] >= 5 and st["rx_bytes"] >= 5 * 98, st
    # Our vsctl reads the same counters over its own protocol (it has no --data=json yet).
    ours = d.vsctl_json("get", "interface", h1.sw_port, "statistics")
    assert ours["rx_packets"] >= st["rx_packets"] and ours["tx_packets"] >= st["tx_packets"], (ours, st)

    # Administratively down: admin_state follows within one refresh.
    run(["ip", "link", "set", h1.sw_port, "down"])
    deadline = time.monotonic() + 8
    while ovs_ok(d, "get", "Interface", h1.sw_port, "admin_state").strip() != "down":
        assert time.monotonic() < deadline, "admin_state did not become down"
        time.sleep(0.5)
    assert ovs_ok(d, "get", "Interface", h1.sw_port, "link_state").strip() == "down"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ptcp_remote_serves_ovs_vsctl_and_ovsdb_client(daemon_factory):
    """--remote ptcp:PORT:127.0.0.1 (ovsdb-server's syntax) beside the Unix socket: Debian's
    ovs-vsctl and ovsdb-client over TCP see and change the same switch."""
    d = daemon_factory(start=False)
    port = _free_port()
    d.extra_args = ["--remote", f"punix:{d.dir}/db.sock", "--remote", f"ptcp:{port}:127.0.0.1"]
    d.start()
    tcp = f"tcp:127.0.0.1:{port}"
    br = names.unique(names.KIND_BRIDGE)
    r = run([OVS_VSCTL, f"--db={tcp}", "--timeout=5", "add-br", br], timeout=10)
    assert r.rc == 0, r
    assert br in d.vsctl_ok("list-br").split()
    assert ovs_ok(d, "br-exists", br) == "", "the Unix socket serves the same database"
    r = run([OVSDB_CLIENT, "list-dbs", tcp], timeout=10)
    assert r.rc == 0 and "Open_vSwitch" in r.out.split(), r
    d.vsctl_ok("del-br", br)
    r = run([OVS_VSCTL, f"--db={tcp}", "--timeout=5", "list-br"], timeout=10)
    assert r.rc == 0 and br not in r.out.split(), r
    # A remote that is not served is refused at start, naming it.
    bad = daemon_factory(start=False)
    bad.extra_args = ["--remote", "pssl:6640"]
    r = run([*bad.argv()], timeout=10)
    assert r.rc != 0 and "pssl:6640" in r.err, r
