"""The daemon's life: clean stop, restart from its config, --detach, refusing a corrupt config."""
import signal
import socket
import time
from pathlib import Path

import pytest

from lib import names
from lib.proc import run
from lib.traffic import ping


def test_restart_restores_bridges_ports_and_forwarding(lan):
    net = lan(2)
    d = net.daemon
    h1, h2 = net.hosts
    d.vsctl_ok("set", "bridge", net.bridge, "other_config:mac-aging-time=77")
    assert ping(h1, h2.ip).rc == 0
    show_before = d.vsctl_json("show")
    ofports_before = {h.sw_port: d.ofport(h.sw_port) for h in net.hosts}

    rc = d.stop()
    assert rc == 0, f"vswitchd did not exit cleanly on SIGTERM (status {rc})"
    r = ping(h1, h2.ip, count=2, deadline=2)
    assert r.rc != 0, f"frames still forwarded with the daemon stopped:\n{r}"

    d.start()
    assert net.bridge in d.vsctl_ok("list-br").split()
    assert d.list_ports(net.bridge) == sorted(h.sw_port for h in net.hosts)
    assert {h.sw_port: d.ofport(h.sw_port) for h in net.hosts} == ofports_before
    got = d.vsctl_ok("get", "bridge", net.bridge, "other_config:mac-aging-time").strip()
    assert got.strip('"') == "77", got
    assert d.vsctl_json("show") == show_before
    r = ping(h1, h2.ip)
    assert r.rc == 0, f"no forwarding after restart:\n{r}"
    assert ping(h2, h1.ip).rc == 0


def test_detach_writes_pidfile_and_stops_on_sigterm(daemon_factory):
    d = daemon_factory(detach=True)
    assert d.detached and d.pid, "no daemon pid after --detach"
    assert int(d.pidfile.read_text().strip()) == d.pid
    br = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    assert d.vsctl_ok("list-br").split() == [br]
    d.stop(grace=10)
    assert not d.running(), f"detached vswitchd (pid {d.pid}) survived SIGTERM"


CORRUPT = {
    "truncated-json": b'{"seq": 4, "bridges": {"br0": {"ports": {"p1": {"interfaces": {"p1"',
    "binary-garbage": bytes(range(256)) * 4,
    "json-not-a-config": b"[1, 2, 3]\n",
    "empty-file": b"",
}


@pytest.mark.parametrize("kind,detach", [(k, False) for k in CORRUPT] + [("truncated-json", True)],
                         ids=list(CORRUPT) + ["truncated-json-detach"])
def test_corrupt_config_refused_and_left_unchanged(daemon_factory, kind, detach):
    d = daemon_factory(start=False)
    content = CORRUPT[kind]
    d.config.write_bytes(content)
    r = run(d.argv(detach=detach), timeout=15)
    try:
        assert r.rc not in (0, 124), (
            f"vswitchd {'exited 0' if r.rc == 0 else 'kept running'} with a corrupt config "
            f"({kind}):\n{r}\n{d.log_tail()}")
        assert str(d.config) in r.err + r.out, (
            f"vswitchd's error does not name the config file {d.config}:\n{r}")
        assert d.config.read_bytes() == content, "the corrupt config file was modified"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            with pytest.raises(OSError):
                s.connect(str(d.socket))
    finally:
        # If it did start after all, make sure it goes away.
        d.pid = d._read_pidfile(timeout=0.2) if detach else d.pid
        d.detached = detach


def test_sigkill_then_restart_keeps_config(lan):
    """A crash (SIGKILL) loses nothing that was committed: every acknowledged change is durable."""
    net = lan(2)
    d = net.daemon
    extra = names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", extra)
    d.stop(sig=signal.SIGKILL)
    time.sleep(0.2)
    d.start()
    assert sorted(d.vsctl_ok("list-br").split()) == sorted([net.bridge, extra])
    assert d.list_ports(net.bridge) == sorted(h.sw_port for h in net.hosts)
    assert ping(net.hosts[0], net.hosts[1].ip).rc == 0


@pytest.mark.parametrize("opt,value", [("--poll-threads", "0"), ("--poll-threads", "17"),
                                       ("--poll-threads", "two"), ("--busy-poll-us", "-1"),
                                       ("--busy-poll-us", "1001"), ("--rx-ring-mb", "4097"),
                                       ("--rx-ring-mb", "32M"), ("--rx-ring-min-pps", "0")])
def test_bad_datapath_option_refused(daemon_factory, opt, value):
    """A bad --poll-threads / --busy-poll-us / --rx-ring-mb / --rx-ring-min-pps stops the start
    with a message naming the option."""
    d = daemon_factory(start=False)
    r = run(d.argv() + [opt, value], timeout=15)
    assert r.rc not in (0, 124), f"vswitchd accepted {opt} {value!r}:\n{r}"
    assert f"bad {opt} '{value}'" in r.err + r.out, f"the error does not name {opt} {value!r}:\n{r}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        with pytest.raises(OSError):
            s.connect(str(d.socket))


def _threads(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def test_poll_threads_option_starts_that_many_threads(daemon_factory):
    """--poll-threads N: N datapath poll threads (the daemon's other threads stay the same)."""
    counts = {}
    for n in (1, 3):
        d = daemon_factory(start=False)
        d.extra_args = ["--poll-threads", str(n)]
        d.start()
        counts[n] = _threads(d.pid)
        d.stop()
    assert counts[3] - counts[1] == 2, f"threads with --poll-threads 1 and 3: {counts}"
