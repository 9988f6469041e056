"""A private vswitchd per test, and the vsctl / vsappctl command-line tools.

    d = Vswitchd.create()          # paths under a fresh /tmp/vst<pid>-XXXX/ directory
    d.start()                      # waits until the management socket answers
    d.vsctl("add-br", "br0")       # -> Result(rc, out, err)
    d.vsappctl_json("fdb/show", "br0")
    d.stop()                       # SIGTERM, then SIGKILL after a grace period
    d.destroy()                    # stop + remove the directory

Binaries come from $VSWITCH_BUILD (default: <repo>/build); nothing here builds them.
Every daemon started here is in ACTIVE until stopped, so a failing test can show its log.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .proc import Result, run

REPO = Path(__file__).resolve().parents[3]
BUILD = Path(os.environ.get("VSWITCH_BUILD", REPO / "build"))
VSWITCHD = BUILD / "vswitchd" / "vswitchd"
VSCTL = BUILD / "utilities" / "vsctl"
VSAPPCTL = BUILD / "utilities" / "vsappctl"

ACTIVE: list["Vswitchd"] = []

_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A foreground daemon must not outlive a pytest that was killed.
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def missing_binaries() -> list[str]:
    return [str(p) for p in (VSWITCHD, VSCTL, VSAPPCTL) if not os.access(p, os.X_OK)]


class DaemonError(RuntimeError):
    pass


def vsctl(sock: str | os.PathLike | None, *args: str, timeout: float = 20,
          env: dict | None = None) -> Result:
    argv = [str(VSCTL)] + (["--socket", str(sock)] if sock is not None else []) + list(args)
    return run(argv, timeout=timeout, env=env)


def vsappctl(sock: str | os.PathLike | None, *args: str, timeout: float = 20,
             env: dict | None = None) -> Result:
    argv = [str(VSAPPCTL)] + (["--socket", str(sock)] if sock is not None else []) + list(args)
    return run(argv, timeout=timeout, env=env)


def _parse_json(r: Result, what: str):
    assert r.rc == 0, f"{what} failed:\n{r}"
    try:
        return json.loads(r.out)
    except ValueError as e:
        raise AssertionError(f"{what} printed no valid JSON ({e}):\n{r}") from None


class Vswitchd:
    def __init__(self, workdir: Path, config: Path | None = None):
        self.dir = Path(workdir)
        self.config = Path(config) if config else self.dir / "conf.json"
        self.socket = self.dir / "vswitchd.sock"   # short: sun_path is 108 bytes
        self.pidfile = self.dir / "vswitchd.pid"
        self.log_file = self.dir / "vswitchd.log"
        self.output_file = self.dir / "vswitchd.out"   # the daemon's own stdout + stderr
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None
        self.detached = False
        self.returncode: int | None = None
        self.extra_args: list[str] = []   # more vswitchd options, e.g. ["--poll-threads", "1"]
        self.extra_env: dict[str, str] = {}  # more environment, e.g. LD_PRELOAD of a fault shim

    @classmethod
    def create(cls) -> "Vswitchd":
        return cls(Path(tempfile.mkdtemp(prefix=f"vst{os.getpid()}-", dir="/tmp")))

    # -- lifecycle -----------------------------------------------------------------------------
    def argv(self, detach: bool = False, log_level: str = "info") -> list[str]:
        a = [str(VSWITCHD), "--config", str(self.config), "--socket", str(self.socket),
             "--pidfile", str(self.pidfile), "--log-file", str(self.log_file),
             "--log-level", log_level] + self.extra_args
        return a + (["--detach"] if detach else [])

    def start(self, detach: bool = False, log_level: str = "info", timeout: float = 15) -> None:
        if self.running():
            raise DaemonError("already running")
        self.returncode = None
        ACTIVE.append(self)
        if detach:
            r = run(self.argv(True, log_level), timeout=timeout, env=self._env())
            with open(self.output_file, "a") as f:
                f.write(r.out + r.err)
            if r.rc != 0:
                raise DaemonError(f"vswitchd --detach exited {r.rc}\n{r}\n{self.log_tail()}")
            self.detached = True
            self.pid = self._read_pidfile(timeout=5)
            if self.pid is None:
                raise DaemonError(f"vswitchd --detach left no valid pidfile {self.pidfile}")
        else:
            out = open(self.output_file, "ab")
            self.proc = subprocess.Popen(self.argv(False, log_level), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent, start_new_session=True,
                                         env=self._env())
            out.close()
            self.pid = self.proc.pid
            self.detached = False
        self.wait_ready(timeout)

    def _env(self) -> dict | None:
        return {**os.environ, **self.extra_env} if self.extra_env else None

    def _read_pidfile(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid = int(self.pidfile.read_text().strip())
                if self._is_ours(pid):
                    return pid
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        return None

    def _is_ours(self, pid: int) -> bool:
        """True if pid is a live vswitchd started with our socket path (never signal others)."""
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return str(self.socket).encode() in cmd

    def running(self) -> bool:
        if self.proc is not None and not self.detached:
            return self.proc.poll() is None
        return self.pid is not None and self._is_ours(self.pid)

    def wait_ready(self, timeout: float = 15) -> None:
        """Waits until the socket accepts a connection and answers a `version` request."""
        deadline = time.monotonic() + timeout
        last = "socket never appeared"
        while time.monotonic() < deadline:
            if not self.running():
                rc = self.proc.poll() if self.proc else None
                raise DaemonError(f"vswitchd exited during start (rc={rc})\n{self.log_tail()}")
            if self.socket.exists():
                try:
                    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                        s.settimeout(2)
                        s.connect(str(self.socket))
                        s.sendall(b'{"jsonrpc":"2.0","method":"version","id":1}\n')
                        if s.recv(65536):
                            return
                        last = "connection closed without a reply"
                except OSError as e:
                    last = str(e)
            time.sleep(0.05)
        raise DaemonError(f"vswitchd not ready after {timeout}s ({last})\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, grace: float = 10) -> int | None:
        """Sends `sig`, waits up to `grace` s, then SIGKILL. Returns the exit status for a
        foreground daemon (negative = killed by that signal), None for a detached one."""
        try:
            if self.proc is not None and not self.detached:
                if self.proc.poll() is None:
                    self.proc.send_signal(sig)
                    try:
                        self.proc.wait(timeout=grace)
                    except subprocess.TimeoutExpired:
                        self.proc.kill()
                        self.proc.wait(timeout=10)
                self.returncode = self.proc.returncode
                return self.returncode
            if self.pid is not None and self._is_ours(self.pid):
                os.kill(self.pid, sig)
                deadline = time.monotonic() + grace
                while self._is_ours(self.pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if self._is_ours(self.pid):
                    os.kill(self.pid, signal.SIGKILL)
                    while self._is_ours(self.pid) and time.monotonic() < deadline + 5:
                        time.sleep(0.05)
            return None
        finally:
            self.proc = None if self.detached else self.proc
            if self in ACTIVE:
                ACTIVE.remove(self)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- logs ----------------------------------------------------------------------------------
    def log_tail(self, max_bytes: int = 40000) -> str:
        parts = []
        for f in (self.output_file, self.log_file):
            try:
                data = f.read_bytes()
            except OSError:
                continue
            if len(data) > max_bytes:
                data = b"[...]\n" + data[-max_bytes:]
            parts.append(f"===== {f} =====\n{data.decode(errors='replace')}")
        return "\n".join(parts) or "(no daemon output)"

    # -- tools ---------------------------------------------------------------------------------
    def vsctl(self, *args: str, timeout: float = 20) -> Result:
        return vsctl(self.socket, *args, timeout=timeout)

    def vsctl_ok(self, *args: str, timeout: float = 20) -> str:
        r = self.vsctl(*args, timeout=timeout)
        assert r.rc == 0, f"vsctl {' '.join(args)} failed:\n{r}"
        return r.out

    def vsctl_json(self, *args: str):
        return _parse_json(self.vsctl("--format=json", *args), f"vsctl --format=json {args}")

    def vsappctl(self, *args: str, timeout: float = 20) -> Result:
        return vsappctl(self.socket, *args, timeout=timeout)

    def vsappctl_json(self, *args: str):
        return _parse_json(self.vsappctl("--format=json", *args),
                           f"vsappctl --format=json {args}")

    # -- convenience ---------------------------------------------------------------------------
    def config_bytes(self) -> bytes | None:
        """Everything the daemon has persisted: the config file (the snapshot) followed by its
        write-ahead journal (docs/protocol.md "Durability"). Compare it to tell whether a command
        changed what is stored; use committed_config() to read the configuration itself."""
        parts = []
        for path in (self.config, Path(str(self.config) + ".journal")):
            try:
                parts.append(path.read_bytes())
            except FileNotFoundError:
                parts.append(b"")
        return None if not any(parts) and not self.config.exists() else b"\n--journal--\n".join(parts)

    def committed_config(self) -> dict:
        """The committed configuration as the `get` method returns it: {"bridges": {...}} in the
        config file's shape, including commits still only in the journal."""
        from .mgmt import RawClient
        with RawClient(self.socket, timeout=10) as c:
            reply = c.request("get", id=1)
        return reply["result"]["config"]

    def list_ports(self, bridge: str) -> list[str]:
        return sorted(self.vsctl_ok("list-ports", bridge).split())

    def ofport(self, iface: str) -> int:
        return int(self.vsctl_ok("get", "interface", iface, "ofport").strip().strip('"'))

    def fdb(self, bridge: str) -> list[dict]:
        return self.vsappctl_json("fdb/show", bridge)["entries"]

    def coverage(self) -> dict[str, int]:
        return {c["name"]: int(c["total"]) for c in self.vsappctl_json("coverage/show")["counters"]}

    def drop_total(self) -> int:
        return sum(v for k, v in self.coverage().items() if "drop_" in k)
