"""The store under a failing disk and under kill -9 (issue #14 item 4, "one durable store for
config and rules"). fsync/fdatasync are made to fail with EIO by an LD_PRELOAD shim
(tests/fault/vsfault.cpp) while a trigger file exists: every change made meanwhile must be
refused with an error that names the cause, the running switch keeps what it had, and after a
kill -9 and a restart on the healed disk the daemon starts clean with exactly the acknowledged
state. And a bridge deleted and added again must never get its old rules back, however the
daemon dies.
"""
from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.daemon import Vswitchd
from lib.controller import wait_until
from lib.proc import run

VSOFCTL = daemon_mod.BUILD / "utilities" / "vsofctl"
SHIM = daemon_mod.BUILD / "tests" / "fault" / "libvsfault.so"


def ofctl(d: Vswitchd, *args: str):
    return run([str(VSOFCTL), "--socket", str(d.socket), *args], timeout=30)


def rules(d: Vswitchd, br: str) -> list[str]:
    """The rules of `br` without counters and durations, sorted."""
    r = ofctl(d, "dump-flows", br, "--no-stats")
    assert r.rc == 0, r
    return sorted(ln.strip() for ln in r.out.splitlines() if "actions=" in ln)


@pytest.fixture
def faulty(daemon_factory):
    if not SHIM.exists():
        pytest.fail(f"{SHIM} is missing: build the tree (ninja -C build)")
    d = daemon_factory(start=False)
    trigger = d.dir / "fault.armed"
    d.extra_env = {"LD_PRELOAD": str(SHIM), "VSFAULT_TRIGGER": str(trigger), "VSFAULT_MATCH": str(d.config)}
    d.start()
    return d, trigger


def test_failed_fsync_refuses_changes_and_restarts_clean(faulty):
    d, trigger = faulty
    br, br2, br3 = (names.unique(names.KIND_BRIDGE) for _ in range(3))
    d.vsctl_ok("add-br", br)
    d.vsctl_ok("set", "bridge", br, "other_config:mac-aging-time=60")  # journaled (the snapshot exists)
    assert ofctl(d, "add-flow", br, "priority=7,ip,actions=drop").rc == 0
    good_show, good_rules = d.vsctl_ok("show"), rules(d, br)

    trigger.touch()
    long_value = "x" * 3000  # a long record fails, then a short one lands on the same spot
    r = d.vsctl("add-br", br2, "--", "set", "bridge", br2, f"external_ids:k={long_value}")
    assert r.rc != 0 and "Input/output error" in r.err and "nothing changed" in r.err, r
    r = ofctl(d, "add-flow", br, "priority=9,arp,actions=drop")
    assert r.rc != 0 and "Input/output error" in r.err and "nothing changed" in r.err, r
    r = ofctl(d, "del-flows", br)
    assert r.rc != 0 and "Input/output error" in r.err, r
    assert d.vsctl_ok("show") == good_show, "the running config changed after a refused commit"
    assert rules(d, br) == good_rules, "the running rules changed after a refused commit"

    trigger.unlink()
    d.vsctl_ok("add-br", br3)
    assert ofctl(d, "add-flow", br, "priority=8,tcp,actions=drop").rc == 0
    acked_show, acked_rules = d.vsctl_ok("show"), rules(d, br)

    d.stop(signal.SIGKILL)
    d.extra_env = {}
    d.start()
    assert d.vsctl_ok("show") == acked_show
    assert rules(d, br) == acked_rules
    assert br2 not in d.vsctl_ok("list-br")


@pytest.mark.parametrize("settle_s", [0.0, 2.5])
def test_readded_bridge_never_gets_its_old_rules_back(daemon_factory, settle_s):
    d = daemon_factory()
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    default_rules = rules(d, br)
    assert ofctl(d, "add-flow", br, "priority=500,udp,actions=drop").rc == 0
    time.sleep(1.5)  # past the periodic save
    d.vsctl_ok("del-br", br)
    d.vsctl_ok("add-br", br)
    assert rules(d, br) == default_rules
    time.sleep(settle_s)
    d.stop(signal.SIGKILL)
    d.start()
    assert rules(d, br) == default_rules, "the deleted bridge's rules came back after a restart"


def test_readded_bridge_keeps_default_rules_when_a_flows_write_fails(faulty):
    """The bridge's deletion and its rules' deletion are one durable change: a failure of any
    later write (here every fsync of the rules file fails) cannot bring the old rules back."""
    d, trigger = faulty
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    d.vsctl_ok("set", "bridge", br, "other_config:mac-aging-time=60")
    default_rules = rules(d, br)
    assert ofctl(d, "add-flow", br, "priority=500,udp,actions=drop").rc == 0
    d.stop(signal.SIGTERM)
    d.extra_env["VSFAULT_MATCH"] = str(d.config) + ".flows"  # the rules file only, if there is one
    d.start()
    trigger.touch()
    d.vsctl_ok("del-br", br)
    d.vsctl_ok("add-br", br)
    assert rules(d, br) == default_rules
    d.stop(signal.SIGKILL)
    trigger.unlink()
    d.start()
    assert rules(d, br) == default_rules, "the deleted bridge's rules came back after a restart"


def test_backlog_of_unjournaled_flow_changes_is_bounded_and_saved_by_a_snapshot(faulty):
    """Rule timeouts are applied first and journaled within a second. While the disk fails they
    wait in memory; past 65,536 of them (vswitchd/daemon.h kMaxUnpersisted) the daemon keeps none
    and the next successful write is a snapshot of the tables, so that a long outage cannot grow
    the daemon without bound, and what was running is what a restart brings back."""
    d, trigger = faulty
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    n = 70000
    flows = d.dir / "flows.txt"
    flows.write_text("".join(f"priority=10,ip,nw_dst=10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255},hard_timeout=6,"
                             "actions=drop\n" for i in range(n)))
    assert ofctl(d, "add-flow", br, "priority=20,arp,actions=drop").rc == 0
    assert ofctl(d, "add-flows", br, str(flows)).rc == 0
    trigger.touch()  # the rules expire while no journal write can succeed

    def expired():
        return all("hard_timeout" not in ln for ln in rules(d, br))
    assert wait_until(expired, timeout=30), "the rules did not time out"
    assert wait_until(lambda: "keeping none of them" in d.log_file.read_text(), timeout=10), d.log_tail()
    assert not wait_until(lambda: "saved in a snapshot" in d.log_file.read_text(), timeout=1.5)
    running = rules(d, br)
    r = d.vsctl("add-br", names.unique(names.KIND_BRIDGE))  # a config change must wait for the snapshot
    assert r.rc != 0 and "Input/output error" in r.err, r

    trigger.unlink()
    assert wait_until(lambda: "saved in a snapshot" in d.log_file.read_text(), timeout=10), d.log_tail()
    d.stop(signal.SIGKILL)
    d.extra_env = {}
    d.start()
    assert rules(d, br) == running, "the rules a restart brought back differ from what ran"
