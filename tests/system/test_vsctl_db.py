"""Our vsctl's ovs-vsctl database commands (docs/vsctl.md "Database commands"), with Debian's
`ovs-vsctl --no-wait --db=unix:<vswitchd's db.sock>` as the oracle: the same command lines run
through both tools against the same daemon print the same bytes (rows in a normalised order,
since ovs-vsctl prints rows in hash order), and the same changes made through each tool on two
identically built daemons leave the same database (UUIDs normalised). Bad input changes nothing.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest

from lib import names
from lib.daemon import VSCTL, vsctl
from lib.proc import run

OVS_VSCTL = shutil.which("ovs-vsctl")
pytestmark = pytest.mark.skipif(not OVS_VSCTL, reason="needs Debian's openvswitch-common (ovs-vsctl)")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def ovs(d, *args: str):
    return run([OVS_VSCTL, "--no-wait", f"--db=unix:{d.dir / 'db.sock'}", "--timeout=5", *args], timeout=10)


def ours(d, *args: str, db: bool = True):
    """Our vsctl; with db=True given --db=unix:PATH as ovs-vsctl is (without it the database
    path is taken when a command or option needs it, docs/vsctl.md)."""
    return vsctl(d.socket, "--timeout=5", "--no-wait", *([f"--db=unix:{d.dir / 'db.sock'}"] if db else []), *args)


def rows_normalised(out: str, fmt: str) -> object:
    """The output with its rows in a canonical order (ovs-vsctl's row order is its hash order)."""
    if fmt == "json":
        doc = json.loads(out)
        return doc.get("headings"), sorted(json.dumps(r) for r in doc["data"])
    if fmt == "list":
        return sorted(b.strip("\n") for b in out.split("\n\n"))
    if fmt == "html":
        return sorted(out.replace("</table>\n", "").split("  <tr>\n"))
    lines = out.splitlines()
    head = 2 if fmt == "table" else 1
    return lines[:head], sorted(lines[head:])


def make_switch(d, br: str) -> None:
    r = ovs(d, "add-br", br, "--", "add-port", br, f"{br}a", "tag=5", "trunks=1,2", "other_config:k=v w",
            "--", "set", "Interface", f"{br}a", "type=internal", "external-ids:attached-mac=\"52:54:00:11:22:33\"",
            "external-ids:vm-id=ac4f1f2e-aaaa-bbbb-cccc-ddddeeeeffff",
            "--", "add-port", br, f"{br}b", "--", "set", "Interface", f"{br}b", "type=internal")
    assert r.rc == 0, r


def test_reads_match_ovs_vsctl_byte_for_byte(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    make_switch(d, br)
    pa, pb = f"{br}a", f"{br}b"
    cols = "--columns=name,tag,trunks,other_config,external_ids,_uuid"
    single = [
        ["list", "Bridge", br], ["list", "Port", pa], ["--columns=name,type,external_ids", "list", "Interface", pa],
        ["list", "Open_vSwitch", "."], ["--columns=bridges", "list", "Open_vSwitch"],
        ["get", "Port", pa, "tag", "trunks", "other_config", "other_config:k", "_uuid", "name"],
        ["get", "Interface", pa, "external_ids:attached-mac", "type", "external_ids:vm-id", "external_ids"],
        ["get", "Bridge", br, "ports"],
        ["--if-exists", "get", "Port", "nosuch", "tag"], ["--if-exists", "get", "Port", pa, "other_config:zz"],
        ["--bare", "--columns=name", "find", "Interface", "external_ids:attached-mac=\"52:54:00:11:22:33\""],
        ["--data=bare", "--no-heading", "--columns=name", "find", "Port", "tag=5"],
        ["--oneline", "get", "Port", pa, "tag", "other_config", "--", "set", "Port", pa, "tag=5", "--",
         "--columns=name,tag", "list", "Port", pa, "--", "get", "Port", pa, "name"],
    ]
    # libvirt's statistics read: the same keys (the counters move on their own).
    stats = ["--if-exists", "--format=list", "--data=json", "--no-headings", "--columns=statistics", "list",
             "Interface", pa]
    o, v = ovs(d, *stats), ours(d, *stats)
    assert v.rc == 0, v
    keys = lambda out: sorted(k for k, _ in json.loads(out)[1])
    assert keys(v.out) == keys(o.out) and keys(v.out), (o.out, v.out)
    # Without --db, an ovs-vsctl output option takes the database path too.
    o, v = ovs(d, "--format=list", "list", "Port", pa), ours(d, "--format=list", "list", "Port", pa, db=False)
    assert (v.rc, v.out) == (0, o.out), v
    single += [["--pretty", "-f", "json", "--columns=name,tag,trunks", "list", "Port", pa],
               ["-f", "json", "-d", "json", "--pretty", cols, "list", "Port", pa]]
    for fmt in ("list", "table", "csv", "json", "html"):
        for data in ("string", "bare", "json"):
            for head in ([], ["--no-headings"]):
                single.append([f"--format={fmt}", f"--data={data}", *head, cols, "list", "Port", pa])
    for args in single:
        o, v = ovs(d, *args), ours(d, *args)
        assert o.rc == 0, f"ovs-vsctl {args}: {o}"
        assert (v.rc, v.out) == (0, o.out), f"{args}:\n--- ovs-vsctl ---\n{o.out}--- vsctl ---\n{v}"
    multi = []
    for fmt in ("list", "table", "csv", "json", "html"):
        multi += [[f"--format={fmt}", cols, "list", "Port"],
                  [f"--format={fmt}", "--columns=name,tag", "find", "Port", "tag<6"]]
    for cond in ("tag=5", "tag!=5", "tag<6", "tag>4", "tag<=5", "tag>=5", "trunks{=}[1,2]", "trunks{!=}[1]",
                 "trunks{<}[1,2,3]", "trunks{>}1", "trunks{<=}[1,2]", "trunks{>=}[2]", "other_config:k=\"v w\"",
                 "name=" + pb):
        multi.append(["--columns=name", "find", "Port", cond])
    for args in multi:
        fmt = next((a.split("=")[1] for a in args if a.startswith("--format=")), "list")
        o, v = ovs(d, *args), ours(d, *args)
        assert o.rc == 0, f"ovs-vsctl {args}: {o}"
        assert v.rc == 0, f"{args}: {v}"
        assert rows_normalised(v.out, fmt) == rows_normalised(o.out, fmt), \
            f"{args}:\n--- ovs-vsctl ---\n{o.out}--- vsctl ---\n{v.out}"


def dump(d) -> list[str]:
    """Every row of the tables the corpus touches, UUIDs normalised, rows sorted."""
    blocks = []
    for table, cols in (("Mirror", "name,select_all,output_port,select_dst_port"),
                        ("Port", "name,tag,trunks,other_config,external_ids,qos"),
                        ("Bridge", "name,mirrors,other_config,external_ids,fail_mode,controller"),
                        ("QoS", "type,other_config,queues"), ("Manager", "target"),
                        ("Interface", "name,type,external_ids,ofport_request"),
                        ("Controller", "target,max_backoff"), ("Open_vSwitch", "manager_options,ssl")):
        out = ovs(d, f"--columns={cols}", "list", table).out
        blocks += [table + ":" + b.strip() for b in UUID.sub("<uuid>", out).split("\n\n") if b.strip()]
    return sorted(blocks)


def test_changes_match_ovs_vsctl(daemon_factory):
    a, b = daemon_factory(), daemon_factory()
    br = names.unique(names.KIND_BRIDGE)
    for d in (a, b):
        make_switch(d, br)
    pa, pb = f"{br}a", f"{br}b"
    corpus = [
        ["--", "--id=@p", "get", "Port", pa, "--", "--id=@m", "create", "Mirror", "name=m0", "select-all=true",
         "output-port=@p", "--", "add", "Bridge", br, "mirrors", "@m"],
        ["add", "Port", pa, "trunks", "3", "4", "--", "remove", "Port", pa, "trunks", "1"],
        ["set", "Port", pa, "other_config:x=a:b", "other_config:y=a,b", "trunks=[1-3,7]"],
        ["set", "Port", pb, "other_config:a=1", "other_config:b=2", "tag=7", "--", "remove", "Port", pb,
         "other_config", "a"],
        ["remove", "Port", pb, "other_config", "b=9", "--", "add", "Port", pb, "other_config", "c=3"],
        ["clear", "Port", pa, "trunks", "--", "--if-exists", "clear", "Port", "nosuch", "tag"],
        ["set", "Bridge", br, "fail_mode=secure", "external-ids:owner=libvirt"],
        ["--", "set", "Port", pa, "qos=@q", "--", "--id=@q", "create", "QoS", "type=linux-htb",
         "other-config:max-rate=1000000"],
        ["--", "--id=@x", "create", "Manager", "target=\"ptcp:6699:127.0.0.1\"", "--", "add", "Open_vSwitch", ".",
         "manager_options", "@x"],
        ["--", "clear", "Open_vSwitch", ".", "manager_options"],
        ["destroy", "Mirror", "m0", "--", "clear", "Bridge", br, "mirrors"],
        ["--", "--id=@m", "create", "Mirror", "name=m1", "--", "add", "Bridge", br, "mirrors", "@m"],
        ["--if-exists", "destroy", "Mirror", "nosuch"],
        ["--all", "destroy", "Mirror", "--", "clear", "Bridge", br, "mirrors"],
        ["destroy", "Port", pb],  # still referenced by the bridge: nothing changes
    ]
    for args in corpus:
        o, v = ovs(a, *args), ours(b, *args)
        assert o.rc == 0, f"ovs-vsctl {args}: {o}"
        assert v.rc == 0, f"vsctl {args}: {v}"
        assert UUID.sub("<uuid>", v.out) == UUID.sub("<uuid>", o.out), f"{args}"
        assert dump(b) == dump(a), f"after {args}"


def test_bad_input_changes_nothing_and_names_the_problem(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    make_switch(d, br)
    pa = f"{br}a"
    before = ovs(d, "list", "Port", pa).out
    bad = [
        (["set", "Port", pa, "tag=7", "--", "list", "nosuch"], 'unknown table "nosuch"'),
        (["set", "Port", pa, "tag=7", "--", "find", "Port", "_uuid!=[]"], 'matches "_uuid"'),
        (["set", "Port", pa, "tag=7", "--", "get", "Port", pa, "nosuch"], 'matches "nosuch"'),
        (["set", "Port", pa, "other_config:x=1", "--", "set", "Port", pa, "tag=abc"], '"abc" is not a valid integer'),
        (["set", "Port", pa, "tag=5000"], "constraint violation"),
        (["set", "Port", pa, "tag=7", "--", "destroy", "Port", "nosuch"], 'no row "nosuch" in table Port'),
        (["add", "Port", pa, "trunks", "9", "--", "get", "Port", pa, "other_config:zz"], 'no key "zz"'),
        (["set", "Port", pa, "tag=8", "qos=12345678-1234-1234-1234-123456789abc"], "referential integrity violation"),
        (["add", "Bridge", br, "mirrors", "@nope"], 'row id "@nope" is referenced but never created'),
        (["--", "--id=@m", "create", "Mirror", "name=m", "--", "--id=@m", "create", "Mirror", "name=n"],
         "may only be specified on one --id option"),
    ]
    # Without --db too: a read after a write runs inside the transaction (docs/vsctl.md "Order of
    # evaluation"), so its failure undoes the write.
    r = vsctl(d.socket, "set", "Port", pa, "tag=7", "--", "get", "Port", pa, "nosuch")
    assert r.rc == 1 and 'matches "nosuch"' in r.err, r
    assert ovs(d, "list", "Port", pa).out == before, "a failed read left the set committed"
    for args, message in bad:
        v = ours(d, *args)
        assert v.rc != 0 and message in v.err, f"{args}: {v}"
        assert ovs(d, *args).rc != 0, f"ovs-vsctl accepted {args}"
        assert ovs(d, "list", "Port", pa).out == before, f"{args} changed the database"


def test_error_messages_are_ovs_vsctls(vswitchd):
    """The same bad command lines fail in both tools with the same message (bar the program name)."""
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    make_switch(d, br)
    pa = f"{br}a"
    for args in (["list", "nosuch"], ["list", "Q"], ["get", "Port", pa, "t"], ["get", "Port", pa, "nosuch"],
                 ["get", "Port", "nosuch", "tag"], ["get", "Port", pa, "other_config:zz"],
                 ["set", "Port", pa, "tag=abc"], ["set", "Port", pa, "name=x"],
                 ["add", "Bridge", br, "mirrors", "@m"], ["--all", "destroy", "Mirror", "m"],
                 ["add-br", br], ["add-port", br, pa], ["del-port", "nosuch"], ["port-to-br", "nosuch"],
                 ["list-ports", "nosuch"], ["--columns=name", "find", "Port", "_uuid=x"],
                 ["set", "Port", pa, "trunks="], ["set", "Port", pa, "trunks=5-3"]):
        o, v = ovs(d, *args), ours(d, *args)
        assert o.rc != 0 and v.rc != 0, f"{args}: {o}\n{v}"
        assert v.err == o.err.replace("ovs-vsctl: ", "vsctl: "), f"{args}:\n{o.err}{v.err}"
    # Prefixes and case, as ovs-vsctl matches tables and columns.
    for args in (["get", "Inter", pa, "type"], ["get", "interf", pa, "ty"], ["get", "Port", pa, "tr"],
                 ["get", "Open", ".", "bridges"], ["--columns=name,TAG", "list", "port", pa], ["list", "qo"]):
        o, v = ovs(d, *args), ours(d, *args)
        assert (v.rc, v.out) == (0, o.out), f"{args}: {o}\n{v}"


def test_wait_until_and_dry_run(vswitchd):
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    make_switch(d, br)
    pa = f"{br}a"
    assert ours(d, "wait-until", "Port", pa, "tag=5").rc == 0
    r = ours(d, "--timeout=1", "wait-until", "Port", pa, "tag=6")
    assert r.rc != 0 and "timeout" in r.err, r
    # A wait-until returns once another client makes its condition true.
    argv = [str(VSCTL), "--socket", str(d.socket), "--timeout=10", "--", "wait-until", "Port", pa, "tag=6",
            "--", "get", "Port", pa, "tag"]
    waiter = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    assert waiter.poll() is None, "wait-until returned before its condition held"
    assert ovs(d, "set", "Port", pa, "tag=6").rc == 0
    out, err = waiter.communicate(timeout=10)
    assert (waiter.returncode, out) == (0, "6\n"), err
    assert ovs(d, "set", "Port", pa, "tag=5").rc == 0
    assert ours(d, "--dry-run", "set", "Port", pa, "tag=9").rc == 0
    assert ovs(d, "get", "Port", pa, "tag").out == "5\n"
    r = ours(d, "create", "Mirror", "name=lost")
    assert r.rc == 0 and "without --id option will have no effect" in r.err, r
    assert ovs(d, "list", "Mirror").out == "", "an unreferenced Mirror outlived its transaction"


def test_interface_setup_errors_on_the_database_path(vswitchd):
    """An interface the invocation adds that vswitchd cannot set up is reported (exit 1, the
    configuration committed), as on the management-protocol path; --no-wait skips the check."""
    d = vswitchd
    br = names.unique(names.KIND_BRIDGE)
    missing = names.unique(names.KIND_MISSING)
    db = f"--db=unix:{d.dir / 'db.sock'}"
    r = vsctl(d.socket, db, "add-br", br, "--", "add-port", br, missing, "--", "get", "Port", missing, "name")
    assert r.rc == 1 and f"vsctl: Error detected while setting up '{missing}'" in r.err, r
    assert r.out == f"{missing}\n" and missing in d.list_ports(br), r
    r = vsctl(d.socket, db, "--no-wait", "del-port", missing, "--", "add-port", br, missing)
    assert r.rc == 0 and r.err == "", r


def test_ecosystem_command_lines_match_ovs_vsctl(daemon_factory):
    """libvirt's (virnetdevopenvswitch.c), ovs-docker's, containerlab's and Mininet's command lines,
    high-level and generic commands mixed in one transaction, through both tools."""
    a, b = daemon_factory(), daemon_factory()
    br = names.unique(names.KIND_BRIDGE)
    vnet, cport, s1 = f"{br}v", f"{br}c", f"{br}s"
    mac = "external-ids:attached-mac=\"52:54:00:11:22:33\""
    lines = [
        # containerlab / ovs-docker: the bridge
        ["--may-exist", "add-br", br], ["--may-exist", "add-br", br],
        # libvirt: attach, re-tag, read, detach
        ["--", "--if-exists", "del-port", vnet, "--", "add-port", br, vnet, "tag=42", "--", "set", "Interface", vnet,
         mac, "--", "set", "Interface", vnet, "external-ids:iface-id=\"7d3b0b9e-1111-2222-3333-444455556666\"",
         "--", "set", "Interface", vnet, "external-ids:vm-id=\"0c4f1f2e-aaaa-bbbb-cccc-ddddeeeeffff\"",
         "--", "set", "Interface", vnet, "external-ids:iface-status=active"],
        ["set", "Port", vnet, "tag=43"],
        ["--", "--if-exists", "clear", "Port", vnet, "tag", "--", "--if-exists", "clear", "Port", vnet, "trunks",
         "--", "--if-exists", "clear", "Port", vnet, "vlan_mode"],
        ["--if-exists", "get", "Interface", vnet, "external_ids:PortData"],
        ["get", "Interface", vnet, "name"],
        ["--", "--if-exists", "del-port", vnet],
        # ovs-docker add-port / set-vlan / del-port
        ["--may-exist", "add-port", br, cport, "--", "set", "interface", cport, "external_ids:container_id=c1",
         "external_ids:container_iface=eth0"],
        ["--data=bare", "--no-heading", "--columns=name", "find", "interface", "external_ids:container_id=c1",
         "external_ids:container_iface=eth0"],
        ["set", "port", cport, "tag=5"],
        ["--if-exists", "del-port", cport],
        # Mininet: a switch with its controller, in one transaction
        ["--", "--id=@c0", "create", "Controller", "target=\"tcp:127.0.0.1:6653\"", "max_backoff=1000", "--",
         "--if-exists", "del-br", s1, "--", "add-br", s1, "--", "set", "bridge", s1, "controller=[@c0]",
         "other_config:datapath-id=0000000000000001", "fail_mode=secure", "other-config:disable-in-band=true",
         "--", "add-port", s1, f"{s1}1", "--", "set", "Interface", f"{s1}1", "ofport_request=1"],
        ["get-controller", s1], ["get-fail-mode", s1], ["list-ports", s1], ["port-to-br", f"{s1}1"],
        ["set-controller", s1, "tcp:127.0.0.1:6654", "--", "set-fail-mode", s1, "standalone"],
        ["set-manager", "ptcp:16640:127.0.0.1"], ["get-manager"], ["del-manager"],
        ["list-br"], ["br-exists", s1], ["--", "--if-exists", "del-br", s1], ["emer-reset"],
    ]
    for args in lines:
        o, v = ovs(a, *args), ours(b, *args)
        assert (v.rc, UUID.sub("<uuid>", v.out)) == (o.rc, UUID.sub("<uuid>", o.out)), \
            f"{args}:\n--- ovs-vsctl ---\n{o}\n--- vsctl ---\n{v}"
        assert dump(b) == dump(a), f"after {args}"
    r = ours(b, "br-exists", "nosuch")
    assert r.rc == 2, r
