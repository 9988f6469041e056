"""A throwaway host inside the host: private network, mount and PID namespaces.

    sb = Sandbox(workdir)            # workdir: a directory on the host, the sandbox's cwd
    sb.start()
    r = sb.run("vsctl add-br br0")   # bash -c, inside the sandbox -> Result(rc, out, err)
    sb.read("/var/log/vswitch/vswitchd.log")
    sb.close()                       # kills every process inside; namespaces and links vanish

Inside, the commands of the documentation run verbatim with the paths and names they print:
- a new network namespace (only `lo`, up): `br0`, `ns1`, `sw1`, VXLAN ports to 192.0.2.x ... can
  clash with nothing on the host, and no frame leaves it;
- a new mount namespace with tmpfs on /run (so /run/netns, the names of `ip netns add`, and
  /run/vswitch are private) and /var/log, sysfs remounted (so /sys/class/net lists the
  sandbox's netdevs), and /etc as an overlay whose writes go to a tmpfs (`mkdir -p /etc/vswitch`
  touches nothing on the host);
- a new PID namespace: closing the sandbox kills its init, and with it every process started
  inside, daemons that detached included. Nothing needs to be removed afterwards; the kernel
  frees the namespaces. If pytest itself is killed, the sandbox dies with it (PDEATHSIG).
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

from .proc import Result

_libc = ctypes.CDLL("libc.so.6", use_errno=True)

_INIT = r"""
set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs /var/log
mount -t sysfs sysfs /sys
mkdir -p "$VSB_STATE/ovl"
mount -t tmpfs tmpfs "$VSB_STATE/ovl"
mkdir "$VSB_STATE/ovl/up" "$VSB_STATE/ovl/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$VSB_STATE/ovl/up,workdir=$VSB_STATE/ovl/work" /etc
ip link set lo up
touch "$VSB_STATE/ready"
exec sleep infinity
"""


def _die_with_parent() -> None:
    _libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG


class SandboxError(RuntimeError):
    pass


class Sandbox:
    def __init__(self, workdir: str | os.PathLike):
        self.workdir = Path(workdir)
        self.state = self.workdir / ".sandbox"
        self.proc: subprocess.Popen | None = None
        self.init_pid: int | None = None

    def start(self, timeout: float = 10) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, VSB_STATE=str(self.state))
        self.proc = subprocess.Popen(
            ["unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc",
             "--propagation", "private", "sh", "-c", _INIT],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, preexec_fn=_die_with_parent, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not (self.state / "ready").exists():
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode(errors="replace")
                raise SandboxError(f"sandbox setup failed (exit {self.proc.returncode}):\n{out}")
            if time.monotonic() > deadline:
                self.close()
                raise SandboxError("sandbox setup timed out")
            time.sleep(0.02)
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        if len(children) != 1:
            self.close()
            raise SandboxError(f"unshare has children {children}, expected one")
        self.init_pid = int(children[0])

    def argv(self, *argv: str) -> list[str]:
        """argv prefixed to run inside the sandbox, in its working directory."""
        assert self.init_pid is not None, "sandbox not started"
        return ["nsenter", "-t", str(self.init_pid), "--net", "--mount", "--pid",
                f"--wd={self.workdir}", "--", *argv]

    def run(self, script: str, env: dict[str, str] | None = None, timeout: float = 60,
            shell: str = "bash") -> Result:
        """Runs `shell -c script` inside, with exactly `env` (default: this process's).
        Output goes through files, not pipes: a command the script leaves running in the
        background (`vs-controller ... &`) does not hold up the return."""
        import tempfile
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen(self.argv(shell, "-c", script), stdout=out, stderr=err, env=env,
                                 stdin=subprocess.DEVNULL)
            try:
                rc = p.wait(timeout=timeout)
                note = ""
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
                rc, note = 124, f"\n[killed after {timeout}s timeout]"
            out.seek(0)
            err.seek(0)
            return Result(rc, out.read().decode(errors="replace"),
                          err.read().decode(errors="replace") + note)

    def read(self, path: str, max_bytes: int = 20000) -> str:
        """A file as the sandbox sees it ("" if absent)."""
        if self.init_pid is None:
            return ""
        try:
            data = Path(f"/proc/{self.init_pid}/root{path}").read_bytes()
        except OSError:
            return ""
        return data[-max_bytes:].decode(errors="replace")

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()     # --kill-child: the sandbox's init, and so every process inside
            self.proc.wait(timeout=10)
        if self.init_pid is not None:
            deadline = time.monotonic() + 10
            while Path(f"/proc/{self.init_pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        self.init_pid = None

    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
