"""The store under a full disk (issue #14, "a failed write leaves the store consistent"): the
daemon's config, journal and flows file live on a 16 MiB tmpfs that the test fills up before the
write-ahead journal has preallocated its first 4 MiB (a journal that has keeps accepting commits
on a full disk, by design). Every change is refused with an error that names the cause and says nothing changed; the running switch
keeps what it had; after a restart on the freed disk, exactly the last acknowledged state comes
back, and changes work again. The disk is real (ENOSPC from the kernel), not a mock.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.daemon import Vswitchd
from lib.proc import check, run

VSOFCTL = daemon_mod.BUILD / "utilities" / "vsofctl"


@pytest.fixture
def small_disk():
    mnt = Path(tempfile.mkdtemp(prefix=f"vsenospc{os.getpid()}-", dir="/tmp"))
    check(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(mnt)])
    try:
        yield mnt
    finally:
        run(["umount", "-l", str(mnt)])
        mnt.rmdir()


def fill(mnt: Path) -> Path:
    f = mnt / "filler"
    fd = os.open(f, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    return f


def ofctl(d: Vswitchd, *args: str):
    return run([str(VSOFCTL), "--socket", str(d.socket), *args], timeout=30)


def test_full_disk_refuses_changes_and_keeps_the_last_good_state(small_disk, daemon_factory):
    d = daemon_factory(start=False)
    d.config = small_disk / "conf.json"
    d.start()
    br, br2 = names.unique(names.KIND_BRIDGE), names.unique(names.KIND_BRIDGE)
    d.vsctl_ok("add-br", br)
    r = ofctl(d, "add-flow", br, "priority=7,ip,actions=drop")
    assert r.rc == 0, r
    before_show = d.vsctl_ok("show")
    before_flows = ofctl(d, "dump-flows", br).out

    filler = fill(small_disk)
    for argv, tool in ((["add-br", br2], "vsctl"), (["set", "bridge", br, "other_config:mac-aging-time=60"], "vsctl")):
        r = d.vsctl(*argv)
        assert r.rc != 0, f"vsctl {argv} succeeded on a full disk"
        assert "No space left on device" in r.err and "nothing changed" in r.err, r.err
    r = ofctl(d, "add-flow", br, "priority=9,arp,actions=drop")
    assert r.rc != 0 and "No space left on device" in r.err and "nothing changed" in r.err, r
    assert d.vsctl_ok("show") == before_show, "the running config changed after a refused commit"
    assert ofctl(d, "dump-flows", br).out.count("priority=9") == 0

    assert d.stop() == 0
    filler.unlink()
    d.start()
    assert d.vsctl_ok("show") == before_show, "the restart did not bring back the last acknowledged config"
    flows = ofctl(d, "dump-flows", br).out
    assert "priority=7,ip actions=drop" in flows and "priority=9" not in flows, flows
    assert [ln.split("priority=")[1] for ln in flows.splitlines() if "priority=" in ln] == \
        [ln.split("priority=")[1] for ln in before_flows.splitlines() if "priority=" in ln]
    d.vsctl_ok("add-br", br2)
    assert ofctl(d, "add-flow", br, "priority=9,arp,actions=drop").rc == 0
    assert d.stop() == 0
    d.start()
    assert br2 in d.vsctl_ok("list-br")
    assert "priority=9" in ofctl(d, "dump-flows", br).out
