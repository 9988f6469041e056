"""Logging at run time (issue #18 item 4, docs/operations.md "Logs"): `vsappctl vlog/set` changes a
module's level per destination in a running daemon (debug lines appear, then stop), a bad spec is
refused naming the bad word with nothing changed, the log file follows a rotation through
`vlog/reopen` and through SIGHUP, and syslog lines arrive on a datagram socket this test owns:
through `--syslog-method unix:PATH`, and through `--syslog` (syslog(3) and /dev/log, in a private
mount namespace whose /dev/log leads to the test's socket).
"""
from __future__ import annotations

import os
import signal
import socket
import time

from lib import daemon as daemon_mod
from lib.proc import run


def _levels(d) -> dict[str, dict[str, str]]:
    return {m["name"]: m for m in d.vsappctl_json("vlog/list")["modules"]}


def _wait_for(pred, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_vlog_set_changes_levels_at_run_time(daemon_factory):
    d = daemon_factory(start=False)
    d.extra_args = ["--log-level", "bond:file:warn"]   # a spec at start, after --log-level info
    d.start()
    levels = _levels(d)
    assert levels["mgmt"]["file"] == "info" and levels["bond"]["file"] == "warn", levels
    assert levels["bond"]["console"] == "info", levels
    d.vsctl_ok("show")
    assert "|mgmt|debug|" not in d.log_file.read_text()

    r = d.vsappctl("vlog/set", "mgmt:file:debug")
    assert r.rc == 0 and r.out == "", r
    levels = _levels(d)
    assert levels["mgmt"]["file"] == "debug" and levels["mgmt"]["console"] == "info", levels
    assert levels["config"]["file"] == "info", "other modules keep their level"
    d.vsctl_ok("show")
    assert _wait_for(lambda: "|mgmt|debug|" in d.log_file.read_text()), d.log_tail()

    assert d.vsappctl("vlog/set", "MGMT:info").rc == 0   # every destination; names are case-insensitive
    mark = d.log_file.stat().st_size
    d.vsctl_ok("show")
    d.vsctl_ok("list-br")
    time.sleep(0.3)
    assert "|mgmt|debug|" not in d.log_file.read_text()[mark:], d.log_tail()

    text = d.vsappctl("vlog/list").out
    assert text.splitlines()[0].split() == ["console", "syslog", "file"], text
    assert any(line.split()[:4] == ["mgmt", "info", "info", "info"] for line in text.splitlines()), text
    assert f"file: {d.log_file}" in text, text


def test_vlog_set_refuses_bad_specs_and_changes_nothing(daemon_factory):
    d = daemon_factory()
    before = d.vsappctl_json("vlog/list")
    for args, word in [(["nosuch:debug"], "'nosuch'"), (["mgmt:debug", "mgmt:loud"], "'loud'"),
                       (["mgmt:file:console:info"], "two destinations")]:
        r = d.vsappctl("vlog/set", *args)
        assert r.rc == 1 and word in r.err and "nothing changed" in r.err, r
    assert d.vsappctl_json("vlog/list") == before, "a refused vlog/set changed nothing (not even its good specs)"
    assert d.vsctl("show").rc == 0, "the daemon serves on"


def test_log_file_follows_rotation_by_reopen_and_sighup(daemon_factory):
    d = daemon_factory()
    assert d.vsappctl("vlog/set", "mgmt:file:debug").rc == 0
    rotated1, rotated2 = d.log_file.with_suffix(".log.1"), d.log_file.with_suffix(".log.2")

    os.rename(d.log_file, rotated1)                      # logrotate's move
    size0 = rotated1.stat().st_size
    d.vsctl_ok("list-br")
    assert _wait_for(lambda: rotated1.stat().st_size > size0), "before a reopen, lines go to the moved file"
    r = d.vsappctl("vlog/reopen")
    assert r.rc == 0, r
    d.vsctl_ok("show")
    assert _wait_for(lambda: d.log_file.exists() and "|mgmt|debug|" in d.log_file.read_text()), d.log_tail()
    size1 = rotated1.stat().st_size

    os.rename(d.log_file, rotated2)
    os.kill(d.pid, signal.SIGHUP)                         # what the unit's ExecReload and logrotate send
    assert _wait_for(lambda: d.log_file.exists()), "SIGHUP reopened the log file"
    d.vsctl_ok("show")
    assert _wait_for(lambda: "|mgmt|debug|" in d.log_file.read_text()), d.log_tail()
    assert rotated1.stat().st_size == size1, "nothing more went to the first rotated file"
    assert d.running(), "SIGHUP does not stop the daemon"


def test_syslog_lines_reach_a_unix_socket(daemon_factory, tmp_path):
    path = tmp_path / "log.sock"
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(str(path))
    sink.settimeout(5)
    try:
        d = daemon_factory(start=False)
        d.extra_args = ["--syslog-method", f"unix:{path}"]
        d.start()
        started = ""
        while " started: " not in started:              # config and socket lines come first
            started = sink.recv(4096).decode()          # raises socket.timeout if none comes
        # RFC 3164: <PRI> = facility daemon (3) * 8 + info (6); then time, tag[pid]: module|level|text
        assert started.startswith("<30>"), started
        assert f" vswitchd[{d.pid}]: " in started and "|info|" in started, started
        levels = _levels(d)
        assert levels["mgmt"]["syslog"] == "info"
        assert d.vsappctl_json("vlog/list")["syslog"] == f"unix:{path}"

        assert d.vsappctl("vlog/set", "mgmt:syslog:debug").rc == 0
        d.vsctl_ok("show")
        msgs = []
        while not any("mgmt|debug|" in m for m in msgs):
            msgs.append(sink.recv(4096).decode())     # raises socket.timeout if none comes
        assert any(m.startswith("<31>") for m in msgs if "mgmt|debug|" in m), msgs   # daemon * 8 + debug

        assert d.vsappctl("vlog/set", "any:syslog:off").rc == 0
        sink.setblocking(False)
        try:                                            # drop what was sent before the change
            while sink.recv(4096):
                pass
        except BlockingIOError:
            pass
        d.vsctl_ok("show")
        sink.settimeout(0.5)
        try:
            late = sink.recv(4096).decode()
        except socket.timeout:
            late = None
        assert late is None, f"syslog is off, yet got {late!r}"
    finally:
        sink.close()


def test_bad_syslog_method_and_log_level_are_refused(binaries):
    r = run([daemon_mod.VSWITCHD, "--syslog-method", "udp:127.0.0.1:514", "--socket", "/nonexistent/x.sock"])
    assert r.rc == 1 and "bad syslog method 'udp:127.0.0.1:514'" in r.err, r
    r = run([daemon_mod.VSWITCHD, "--log-level", "mgmt:loud", "--socket", "/nonexistent/x.sock"])
    assert r.rc == 1 and "bad --log-level" in r.err and "'loud'" in r.err, r


# --syslog uses syslog(3), which always writes to /dev/log: the daemon runs in a private mount
# namespace whose /dev is a tmpfs holding the device nodes it needs (links into the real /dev)
# and a /dev/log that leads to this test's socket. Nothing outside the namespace sees it.
_PRIVATE_DEVLOG = r"""
set -e
mkdir -p "$VST_DIR/realdev"
mount --rbind /dev "$VST_DIR/realdev"
mount -t tmpfs -o mode=0755 tmpfs /dev
for f in null zero full random urandom tty net; do ln -s "$VST_DIR/realdev/$f" "/dev/$f"; done
ln -s "$VST_SINK" /dev/log
exec "$@"
"""


def test_syslog_option_uses_syslog3_and_dev_log(daemon_factory, tmp_path):
    path = tmp_path / "devlog.sock"
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(str(path))
    sink.settimeout(5)
    try:
        d = daemon_factory(start=False)
        d.extra_args = ["--syslog"]
        argv = d.argv()
        d.argv = lambda detach=False, log_level="info": [   # type: ignore
            "unshare", "-m", "--propagation", "private", "sh", "-c", _PRIVATE_DEVLOG, "sh", *argv]
        d.extra_env = {"VST_DIR": str(tmp_path), "VST_SINK": str(path)}
        d.start()                     # unshare and sh exec: d.pid is vswitchd's
        started = ""
        while " started: " not in started:
            started = sink.recv(4096).decode()
        assert started.startswith("<30>") and f"vswitchd[{d.pid}]: daemon|info|vswitchd " in started, started
        assert d.vsappctl_json("vlog/list")["syslog"] == "libc"
        assert not os.path.exists("/dev/log") or os.path.realpath("/dev/log") != str(path), \
            "the host's /dev is untouched"
    finally:
        sink.close()
