"""Access control: who may talk to the daemon and which files it trusts.

- The management socket is created 0660, owned by root: only root (and, with --socket-group, the
  members of one chosen group) may connect. An unprivileged user is refused by the
  socket's mode, not by something else (the test opens the directory to everyone first, and shows
  that the same user does get in once the mode allows it).
- The files the daemon writes (config snapshot, journal, flows) are not readable by others and
  not writable by the group.
- A config file that anybody may write, or one in a directory that anybody may write into
  (without the sticky bit), is not to be trusted: the daemon refuses to start and says why.
"""
from __future__ import annotations

import grp
import os
import stat

import pytest

from lib import daemon as daemon_mod
from lib import names
from lib.daemon import DaemonError, Vswitchd
from lib.proc import run

NOBODY_UID = 65534
NOGROUP_GID = 65534


def as_nobody(argv: list[str], gid: int = NOGROUP_GID):
    """Runs argv as uid 65534 with only group `gid` (util-linux setpriv)."""
    return run(["setpriv", f"--reuid={NOBODY_UID}", f"--regid={gid}", "--clear-groups", *argv], timeout=20)


def open_dirs_to_all(d: Vswitchd) -> None:
    """mkdtemp makes the daemon's directory 0700; open it so that only the socket's mode decides.
    The tool itself must be runnable by nobody, or the checks below would prove nothing."""
    os.chmod(d.dir, 0o755)
    r = as_nobody([str(daemon_mod.VSCTL), "--version"])
    assert r.rc == 0, f"user nobody cannot run {daemon_mod.VSCTL} (a directory above it is closed?):\n{r}"


def test_socket_is_0660_root_owned_and_refuses_others(vswitchd):
    st = os.stat(vswitchd.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660, f"socket mode {oct(stat.S_IMODE(st.st_mode))}, want 0o660"
    assert st.st_uid == 0, f"socket owned by uid {st.st_uid}"
    assert st.st_gid == os.getegid(), f"socket group {st.st_gid}"

    open_dirs_to_all(vswitchd)
    r = as_nobody([str(daemon_mod.VSCTL), "--socket", str(vswitchd.socket), "list-br"])
    assert r.rc != 0, f"an unprivileged user could use the management socket:\n{r}"
    assert "ermission denied" in r.err, f"refused for another reason than the socket's mode:\n{r}"

    # Control: the same user gets in once the mode lets everybody in (so the check above can fail).
    os.chmod(vswitchd.socket, 0o666)
    try:
        r = as_nobody([str(daemon_mod.VSCTL), "--socket", str(vswitchd.socket), "list-br"])
        assert r.rc == 0, f"control failed: nobody cannot connect even to a 0666 socket:\n{r}"
    finally:
        os.chmod(vswitchd.socket, 0o660)


def test_socket_directory_created_0755(daemon_factory):
    d = daemon_factory(start=False)
    d.socket = d.dir / "run" / "vswitchd.sock"
    d.start()
    st = os.stat(d.dir / "run")
    assert stat.S_IMODE(st.st_mode) == 0o755, oct(stat.S_IMODE(st.st_mode))


def test_written_files_are_not_world_readable(vswitchd):
    br = names.unique(names.KIND_BRIDGE)
    vswitchd.vsctl_ok("add-br", br)                                  # first commit: the snapshot
    vswitchd.vsctl_ok("set", "bridge", br, "other_config:k=v")       # the journal
    r = run([str(daemon_mod.BUILD / "utilities" / "vsofctl"), "--socket", str(vswitchd.socket),
             "add-flow", br, "priority=5,ip,actions=drop"])              # the journal too
    assert r.rc == 0, r
    journal = vswitchd.config.with_name(vswitchd.config.name + ".journal")
    assert journal.exists(), f"{journal} was not written"
    assert vswitchd.stop() == 0                                      # the flows file: a snapshot
    paths = [vswitchd.config, vswitchd.config.with_name(vswitchd.config.name + ".journal"),
             vswitchd.config.with_name(vswitchd.config.name + ".flows")]
    for p in paths:
        assert p.exists(), f"{p} was not written"
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode & 0o027 == 0, f"{p} has mode {oct(mode)}: group-writable or accessible to others"
        assert os.stat(p).st_uid == 0


@pytest.fixture
def throwaway_group():
    """A group made for this test (groupadd) and deleted afterwards, also when the test fails."""
    name = names.unique(names.KIND_OTHER)
    r = run(["groupadd", name], timeout=20)
    assert r.rc == 0, f"groupadd {name} failed:\n{r}"
    try:
        yield name, grp.getgrnam(name).gr_gid
    finally:
        run(["groupdel", name], timeout=20)


def _with_socket_group(d: Vswitchd, group: str) -> None:
    argv = d.argv()
    d.argv = lambda detach=False, log_level="info": argv + ["--socket-group", group]  # type: ignore


def test_socket_group_option(daemon_factory, throwaway_group):
    """vswitchd --socket-group GROUP: the socket is root:GROUP 0660, so that members can use vsctl
    without root (Open vSwitch's deployments give a group this access); others still cannot."""
    group, gid = throwaway_group
    d = daemon_factory(start=False)
    _with_socket_group(d, group)
    d.start()
    st = os.stat(d.socket)
    assert st.st_uid == 0 and st.st_gid == gid, (st.st_uid, st.st_gid, gid)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(stat.S_IMODE(st.st_mode))
    open_dirs_to_all(d)
    r = as_nobody([str(daemon_mod.VSCTL), "--socket", str(d.socket), "list-br"], gid=gid)
    assert r.rc == 0, f"a member of the socket's group cannot use it:\n{r}"
    r = as_nobody([str(daemon_mod.VSCTL), "--socket", str(d.socket), "list-br"])
    assert r.rc != 0 and "ermission denied" in r.err, f"a user outside the socket's group got in:\n{r}"


def test_socket_group_unknown_is_refused(daemon_factory):
    d = daemon_factory(start=False)
    missing = f"vsnogrp{os.getpid()}"
    _with_socket_group(d, missing)
    with pytest.raises(DaemonError):
        d.start(timeout=10)
    out = d.log_tail()
    assert f"no such group '{missing}'" in out, f"no message naming the unknown group:\n{out}"
    assert not d.socket.exists()


def _write_valid_config(d: Vswitchd) -> None:
    """A config the daemon itself wrote, then stopped cleanly."""
    d.start()
    d.vsctl_ok("add-br", names.unique(names.KIND_BRIDGE))
    assert d.stop() == 0


def test_config_with_safe_permissions_starts(daemon_factory):
    """The control for the two tests below: the same config, 0640 in a 0700 directory, loads."""
    d = daemon_factory(start=False)
    _write_valid_config(d)
    os.chmod(d.config, 0o640)
    d.start()
    assert len(d.vsctl_ok("list-br").split()) == 1


def test_world_writable_config_file_refused(daemon_factory):
    d = daemon_factory(start=False)
    _write_valid_config(d)
    os.chmod(d.config, 0o666)
    before = d.config.read_bytes()
    try:
        d.start(timeout=10)
        started = True
    except DaemonError:
        started = False
    log = d.log_tail()
    assert not started, f"vswitchd started with a world-writable config file {d.config} (mode 0666)"
    assert str(d.config) in log and "writable" in log, f"no message naming the file and the problem:\n{log}"
    assert d.config.read_bytes() == before


def test_config_in_world_writable_directory_refused(daemon_factory):
    d = daemon_factory(start=False)
    _write_valid_config(d)
    os.chmod(d.dir, 0o777)   # no sticky bit: anyone may replace the file with a rename
    os.chmod(d.config, 0o640)
    try:
        d.start(timeout=10)
        started = True
    except DaemonError:
        started = False
    assert not started, f"vswitchd started with its config in a world-writable directory {d.dir} (0777)"
