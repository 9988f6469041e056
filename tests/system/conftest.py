"""Fixtures for vswitch's system tests (real namespaces, veth pairs, a private vswitchd).

Run as root with Debian's interpreter: `/usr/bin/python3 -m pytest -q tests/system`.
Binaries are taken from $VSWITCH_BUILD (default <repo>/build); nothing is built here.

Fixtures:
  daemon_factory  make(start=True, detach=False) -> Vswitchd with private paths; all destroyed
  vswitchd        one started daemon
  topo            a Topology: add_host(ip) -> Host (namespace + veth), all removed at the end
  lan             make(n_hosts=2, offloads=True) -> Lan(daemon, bridge, hosts): hosts
                  10.231.0.1.. on one bridge of `vswitchd`
A failing test gets the logs of every daemon it had running appended to its report.
Every test has a deadline (VSWITCH_TEST_TIMEOUT, default 150 s).
"""
from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from lib import daemon as daemon_mod  # noqa: E402
from lib import names  # noqa: E402
from lib.daemon import Vswitchd  # noqa: E402
from lib.netns import Host, Topology  # noqa: E402

TEST_TIMEOUT = int(os.environ.get("VSWITCH_TEST_TIMEOUT", "150"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    if os.geteuid() != 0:
        pytest.exit("vswitch system tests need root (network namespaces, veth, AF_PACKET): "
                    "run them with sudo", returncode=2)


def pytest_report_header(config):
    return f"vswitch build: {daemon_mod.BUILD}"


def pytest_sessionstart(session):
    removed = names.remove_leftovers()
    if removed:
        print(f"\nremoved leftovers of earlier runs: {' '.join(removed)}")


def pytest_sessionfinish(session, exitstatus):
    for d in list(daemon_mod.ACTIVE):
        d.destroy()
    left = names.remove_leftovers(only_pid=names.PID)
    if left:
        print(f"\nWARNING: removed links/namespaces left by this run: {' '.join(left)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        for i, d in enumerate(daemon_mod.ACTIVE):
            rep.sections.append((f"vswitchd #{i} log ({d.dir})", d.log_tail()))


@pytest.fixture(autouse=True)
def _deadline(request):
    def expired(signum, frame):
        raise TimeoutError(f"test exceeded {TEST_TIMEOUT}s (VSWITCH_TEST_TIMEOUT)")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIMEOUT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="session")
def binaries():
    missing = daemon_mod.missing_binaries()
    if missing:
        pytest.fail(f"vswitch binaries not built: {', '.join(missing)} "
                    f"(build with: cmake -S . -B build -G Ninja && ninja -C build, "
                    f"or point VSWITCH_BUILD at a build tree)", pytrace=False)
    return daemon_mod.BUILD


@pytest.fixture
def daemon_factory(binaries):
    made: list[Vswitchd] = []

    def make(start: bool = True, detach: bool = False, log_level: str = "info") -> Vswitchd:
        d = Vswitchd.create()
        made.append(d)
        if start:
            d.start(detach=detach, log_level=log_level)
        return d

    yield make
    for d in made:
        d.destroy()


@pytest.fixture
def vswitchd(daemon_factory) -> Vswitchd:
    return daemon_factory()


@pytest.fixture
def topo():
    t = Topology()
    yield t
    left = t.cleanup()
    assert not left, f"could not remove test links/namespaces: {left}"


@dataclass
class Lan:
    daemon: Vswitchd
    bridge: str
    hosts: list[Host]
    topo: Topology


@pytest.fixture
def lan(vswitchd, topo):
    def make(n_hosts: int = 2, offloads: bool = True, bridge: str | None = None,
             daemon: Vswitchd | None = None, subnet: str = "10.231.0") -> Lan:
        d = daemon or vswitchd
        br = bridge or names.unique(names.KIND_BRIDGE)
        if d.vsctl("br-exists", br).rc != 0:
            d.vsctl_ok("add-br", br)
        hosts = []
        for i in range(n_hosts):
            h = topo.add_host(f"{subnet}.{len(topo.hosts) + 1}", offloads=offloads)
            d.vsctl_ok("add-port", br, h.sw_port)
            hosts.append(h)
        return Lan(d, br, hosts, topo)
    return make
