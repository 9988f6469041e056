"""Controller-channel helpers for the system tests: certificates made at test time with vs-pki,
the reference controller vs-controller as a subprocess whose JSON events the test reads, and a
raw TLS/TCP peer for sending what a good controller never would (garbage, oversized lines).

    pki = Pki.create(tmpdir)               # vs-pki init
    sw = pki.issue("switch", "switch")     # Cert(key, cert, ca)
    ctl = Controller.start(tmpdir, "pssl:6653:127.0.0.1", tls=pki.issue("ctl", "controller"))
    ctl.wait_event(lambda e: e["event"] == "connected")
    ctl.stop()

Every connection stays on 127.0.0.1. Processes are killed by stop() (the test fixture calls it
even when the test fails).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .daemon import BUILD, REPO
from .proc import check

VS_CONTROLLER = BUILD / "utilities" / "vs-controller"
VSOFCTL = BUILD / "utilities" / "vsofctl"
VS_PKI = REPO / "utilities" / "vs-pki"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(interval)
    return fn()


@dataclass
class Cert:
    key: Path
    cert: Path
    ca: Path

    def vsctl_ssl(self) -> list[str]:
        return ["set-ssl", str(self.key), str(self.cert), str(self.ca)]

    def controller_args(self) -> list[str]:
        return ["-p", str(self.key), "-c", str(self.cert), "-C", str(self.ca)]


class Pki:
    """A CA made by `vs-pki init` in `dir`, issuing certificates with vs-pki."""

    def __init__(self, dir: Path):
        self.dir = Path(dir)
        self.ca = self.dir / "ca" / "cacert.pem"

    @classmethod
    def create(cls, dir: Path) -> "Pki":
        p = cls(dir)
        check([VS_PKI, "--dir", p.dir / "ca", "init"])
        return p

    def issue(self, name: str, kind: str = "switch", expired: bool = False,
              san: str = "IP:127.0.0.1,DNS:localhost") -> Cert:
        argv = [VS_PKI, "--dir", self.dir / "ca", "--out", self.dir, "--san", san]
        if expired:
            argv.append("--expired")
        check(argv + ["req+sign", name, kind])
        return Cert(self.dir / f"{name}-privkey.pem", self.dir / f"{name}-cert.pem", self.ca)

    def self_signed(self, name: str) -> Cert:
        check([VS_PKI, "--out", self.dir, "self-sign", name])
        return Cert(self.dir / f"{name}-privkey.pem", self.dir / f"{name}-cert.pem", self.ca)


class Controller:
    """vs-controller in the background; its stdout (JSON events) goes to a file the test reads."""

    ACTIVE: list["Controller"] = []

    def __init__(self, argv: list[str], out: Path, err: Path):
        self.argv, self.out, self.err = argv, out, err
        self.proc: subprocess.Popen | None = None

    @classmethod
    def start(cls, workdir: Path, target: str, tls: Cert | None = None, script: list | None = None,
              extra: list[str] | None = None) -> "Controller":
        workdir = Path(workdir)
        n = len(list(workdir.glob("ctl*.out")))
        argv = [str(VS_CONTROLLER), target] + (tls.controller_args() if tls else [])
        if script is not None:
            path = workdir / f"ctl{n}.script.json"
            path.write_text(json.dumps(script))
            argv += ["--script", str(path)]
        argv += [str(a) for a in (extra or [])]
        c = cls(argv, workdir / f"ctl{n}.out", workdir / f"ctl{n}.err")
        c.run()
        return c

    def run(self) -> None:
        with open(self.out, "ab") as out, open(self.err, "ab") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         start_new_session=True)
        Controller.ACTIVE.append(self)
        if not wait_until(lambda: "listening" in self.err.read_text() or not self.argv[1].startswith("p")
                          or self.proc.poll() is not None, 5):
            raise RuntimeError(f"vs-controller did not start listening: {self.log()}")
        if self.proc.poll() is not None:
            raise RuntimeError(f"vs-controller exited at start: {self.log()}")

    def restart(self) -> None:
        self.stop()
        self.run()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self in Controller.ACTIVE:
            Controller.ACTIVE.remove(self)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def events(self) -> list[dict]:
        out = []
        for line in self.out.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    def wait_event(self, pred: Callable[[dict], bool], timeout: float = 10, after: int = 0) -> dict | None:
        """The first event (from index `after`) satisfying pred, waiting up to `timeout` s."""
        found: list[dict] = []

        def look() -> bool:
            found[:] = [e for e in self.events()[after:] if pred(e)]
            return bool(found)
        return found[0] if wait_until(look, timeout) else None

    def log(self) -> str:
        return (f"argv: {' '.join(self.argv)}\n--- events ---\n{self.out.read_text()[-6000:]}"
                f"\n--- stderr ---\n{self.err.read_text()[-4000:]}")


class RawPeer:
    """A hand-driven controller connection to a switch that listens (ptcp:/pssl:), line by line."""

    def __init__(self, port: int, tls: Cert | None = None, timeout: float = 5):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(str(tls.cert), str(tls.key))
            ctx.load_verify_locations(str(tls.ca))
            raw = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        self.sock = raw
        self.buf = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, msg: dict) -> None:
        self.send_raw(json.dumps(msg).encode() + b"\n")

    def read_line(self) -> bytes | None:
        """The next line, or None when the switch closed the connection (or on timeout)."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (socket.timeout, ssl.SSLError, ConnectionError, OSError):
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read(self) -> dict | None:
        line = self.read_line()
        return None if line is None else json.loads(line)

    def read_until(self, pred: Callable[[dict], bool], limit: int = 50) -> dict | None:
        for _ in range(limit):
            m = self.read()
            if m is None or pred(m):
                return m
        return None

    def handshake(self) -> dict:
        hello = self.read()
        assert hello and hello["type"] == "hello", f"the switch did not say hello: {hello}"
        self.send({"type": "hello", "xid": 1, "versions": [1]})
        return hello

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def vsofctl(sock: Path, *args: str) -> str:
    return check([VSOFCTL, "--socket", str(sock), *args])
