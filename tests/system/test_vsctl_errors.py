"""vsctl commands that must fail leave the configuration exactly as it was."""
import os
import socket
import tempfile
import time
from dataclasses import dataclass

import pytest

from lib import names
from lib.daemon import vsappctl, vsctl
from lib.traffic import ping


@dataclass
class Setup:
    d: object
    subs: dict


@pytest.fixture
def two_bridges(vswitchd, topo):
    """Bridge A with ports pa1, pa2; bridge B with pb1; `spare`, a netdev on no bridge."""
    d = vswitchd
    s = {"A": names.unique(names.KIND_BRIDGE), "B": names.unique(names.KIND_BRIDGE)}
    for k in ("pa1", "pa2", "pb1", "spare"):
        s[k] = topo.add_link_pair()[0]
    d.vsctl_ok("add-br", s["A"], "--", "add-br", s["B"])
    d.vsctl_ok("add-port", s["A"], s["pa1"])
    d.vsctl_ok("add-port", s["A"], s["pa2"])
    d.vsctl_ok("add-port", s["B"], s["pb1"])
    return Setup(d, s)


def _state(d, subs):
    return {
        "list-br": sorted(d.vsctl_ok("list-br").split()),
        "ports A": d.list_ports(subs["A"]),
        "ports B": d.list_ports(subs["B"]),
        "show": d.vsctl_json("show"),
        "config file": d.config_bytes(),
    }


BAD = [
    # id, argv template, a word the error message must contain
    ("unknown-bridge", ["add-port", "nosuchbr", "{spare}"], "nosuchbr"),
    ("duplicate-bridge", ["add-br", "{A}"], "{A}"),
    ("duplicate-port", ["add-port", "{A}", "{pa1}"], "{pa1}"),
    ("port-on-other-bridge", ["add-port", "{B}", "{pa1}"], "{pa1}"),
    ("name-with-space", ["add-port", "{A}", "a b"], "a b"),
    ("name-20-chars", ["add-port", "{A}", "abcdefghijklmnopqrst"], "abcdefghijklmnopqrst"),
    ("name-dotdot", ["add-port", "{A}", ".."], ".."),
    ("bridge-name-16-chars", ["add-br", "abcdefghijklmnop"], "abcdefghijklmnop"),
    ("bridge-named-like-a-port", ["add-br", "{pa1}"], "{pa1}"),
    ("del-unknown-bridge", ["del-br", "nosuchbr"], "nosuchbr"),
    ("del-unknown-port", ["del-port", "{A}", "nosuchport"], "nosuchport"),
    ("del-port-wrong-bridge", ["del-port", "{B}", "{pa1}"], "{pa1}"),
    ("second-command-fails", ["add-port", "{A}", "{spare}", "--", "add-port", "nosuchbr", "x1"],
     "nosuchbr"),
    ("aging-not-a-number", ["set", "bridge", "{A}", "other_config:mac-aging-time=abc"],
     "mac-aging-time"),
    ("aging-zero", ["set", "bridge", "{A}", "other_config:mac-aging-time=0"], "mac-aging-time"),
    ("set-unknown-bridge", ["set", "bridge", "nosuchbr", "other_config:a=b"], "nosuchbr"),
    ("unknown-command", ["frobnicate", "{A}"], "frobnicate"),
]


@pytest.mark.parametrize("argv,mention", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_command_fails_and_changes_nothing(two_bridges, argv, mention):
    d, subs = two_bridges.d, two_bridges.subs
    argv = [a.format(**subs) for a in argv]
    mention = mention.format(**subs)
    before = _state(d, subs)
    r = d.vsctl(*argv)
    assert r.rc == 1, f"vsctl {argv} should exit 1:\n{r}"
    assert r.err.startswith("vsctl: "), f"error not reported as 'vsctl: ...' on stderr:\n{r}"
    assert mention.lower() in r.err.lower(), f"error message does not name {mention!r}:\n{r}"
    after = _state(d, subs)
    for k in before:
        assert after[k] == before[k], f"failed command {argv} changed {k}"


def test_may_exist_and_if_exists_are_no_ops(two_bridges):
    d, subs = two_bridges.d, two_bridges.subs
    before = _state(d, subs)
    d.vsctl_ok("--may-exist", "add-br", subs["A"])
    d.vsctl_ok("--may-exist", "add-port", subs["A"], subs["pa1"])
    d.vsctl_ok("--if-exists", "del-br", "nosuchbr")
    d.vsctl_ok("--if-exists", "del-port", subs["A"], "nosuchport")
    after = _state(d, subs)
    for k in ("list-br", "ports A", "ports B", "show"):
        assert after[k] == before[k], k
    r = d.vsctl("br-exists", "nosuchbr")
    assert r.rc == 2, f"br-exists of a missing bridge must exit 2:\n{r}"
    assert d.vsctl("br-exists", subs["A"]).rc == 0


def test_nonexistent_netdev_is_recorded_with_error(lan):
    net = lan(2)
    d = net.daemon
    ghost = names.unique(names.KIND_MISSING)
    assert not os.path.exists(f"/sys/class/net/{ghost}")
    ports_before = d.list_ports(net.bridge)
    r = d.vsctl("add-port", net.bridge, ghost)
    assert r.rc == 1, r
    expected = (f"vsctl: Error detected while setting up '{ghost}': could not open network "
                f"device {ghost} (No such device).")
    assert expected in r.err, f"expected {expected!r} on stderr:\n{r}"
    assert d.list_ports(net.bridge) == sorted(ports_before + [ghost]), \
        "the port must stay in the config, as Open vSwitch keeps it"
    err = d.vsctl_ok("get", "interface", ghost, "error")
    assert f"could not open network device {ghost} (No such device)" in err, err
    # The rest of the bridge is unaffected.
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0
    for h in net.hosts:
        e = d.vsctl_ok("get", "interface", h.sw_port, "error").strip()
        assert e in ("[]", "", '""', "null"), f"{h.sw_port} has an error: {e}"


@pytest.mark.parametrize("tool", ["vsctl", "vsappctl"])
@pytest.mark.parametrize("how", ["no-socket-file", "stale-socket", "env-var"])
def test_daemon_not_running_fails_fast(binaries, tool, how):
    with tempfile.TemporaryDirectory(prefix="vst") as tmp:
        path = os.path.join(tmp, "vswitchd.sock")
        if how == "stale-socket":  # what a crashed daemon leaves: a socket nobody listens on
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.close()
        fn = vsctl if tool == "vsctl" else vsappctl
        args = ["list-br"] if tool == "vsctl" else ["dpif/show"]
        t0 = time.monotonic()
        if how == "env-var":
            r = fn(None, *args, env={"VSWITCH_SOCKET": path}, timeout=20)
        else:
            r = fn(path, *args, timeout=20)
        elapsed = time.monotonic() - t0
    assert r.rc not in (0, 124), f"{tool} without a daemon: {r}"
    assert elapsed < 3, f"{tool} took {elapsed:.1f}s to notice that no daemon is running"
    assert path in r.err, f"{tool}'s error does not name the socket {path}:\n{r}"


def test_repeated_set_on_a_failed_interface_reports_its_error(lan):
    """The daemon keeps an interface that could not be set up, with its `error` column. Every
    vsctl command that touches it again (a `set` that changes nothing, a Port column, --may-exist
    add-port) prints that error and exits 1, not only the command that created it; a healthy
    interface's `set` stays silent."""
    net = lan(1)
    d = net.daemon
    ghost = names.unique(names.KIND_MISSING)
    expected = (f"vsctl: Error detected while setting up '{ghost}': could not open network "
                f"device {ghost} (No such device).")
    assert d.vsctl("add-port", net.bridge, ghost).rc == 1
    for argv in (["set", "interface", ghost, "other_config:x=1"],
                 ["set", "interface", ghost, "other_config:x=1"],   # again: nothing changes
                 ["set", "port", ghost, "tag=10"],
                 ["--may-exist", "add-port", net.bridge, ghost]):
        r = d.vsctl(*argv)
        assert r.rc == 1 and expected in r.err, f"vsctl {' '.join(argv)} must report the error:\n{r}"
    assert d.vsctl_ok("get", "port", ghost, "tag").strip() == "10", "the change itself is kept"
    healthy = net.hosts[0].sw_port
    r = d.vsctl("set", "interface", healthy, "other_config:x=1")
    assert r.rc == 0 and r.err == "", r


@pytest.mark.parametrize("setting,ok", [
    ("tag=0", True), ("tag=4095", True), ("trunks=0,4095", True),   # Open vSwitch's range, 0..4095
    ("tag=4096", False), ("trunks=1,4096", False), ("tag=-1", False),
])
def test_vlan_ids_follow_open_vswitch_range(lan, setting, ok):
    """Port tag and trunks take 0..4095, as ovs-vsctl's schema and ovs-vswitchd (bridge.c) do."""
    net = lan(1)
    d = net.daemon
    port = net.hosts[0].sw_port
    r = d.vsctl("set", "port", port, setting)
    if ok:
        assert r.rc == 0, r
        col, value = setting.split("=")
        got = d.vsctl_ok("get", "port", port, col).strip()
        assert got == (value if col == "tag" else f"[{value.replace(',', ', ')}]"), got
    else:
        assert r.rc == 1 and "0..4095" in r.err, r
