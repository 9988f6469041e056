"""Traffic between test hosts: ping, iperf3, raw frames and sniffers. All of it stays between
namespaces that the test created."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterable

from .netns import Host
from .proc import Result, run

PKTSOCK = Path(__file__).with_name("pktsock.py")
PYTHON = "/usr/bin/python3"


def ping(host: Host | str, addr: str, count: int = 3, deadline: float = 5,
         interval: float = 0.2) -> Result:
    """`ping -c count -w deadline` from a Host (or a namespace name): rc 0 only if all `count`
    replies arrived before the deadline."""
    argv = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval), "-w", str(int(deadline)),
            addr]
    if isinstance(host, str):
        return run(["ip", "netns", "exec", host, *argv], timeout=deadline + 10)
    return host.exec(argv, timeout=deadline + 10)


def ping_async(host: Host, addr: str, count: int, interval: float = 0.1,
               deadline: float = 15) -> subprocess.Popen:
    return host.popen(["ping", "-n", "-q", "-c", count, "-i", interval, "-w", int(deadline), addr],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# -- iperf3 -------------------------------------------------------------------------------------
def wait_listening(host: Host, port: int, proto: str = "t", timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = host.exec(["ss", "-Hln" + proto, f"sport = :{port}"], timeout=5)
        if r.rc == 0 and r.out.strip():
            return True
        time.sleep(0.05)
    return False


class Iperf3Server:
    """iperf3 -s -1 in a namespace; use as a context manager."""

    def __init__(self, host: Host, port: int = 5201):
        self.host, self.port = host, port
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        self.proc = self.host.popen(["iperf3", "-s", "-1", "-p", self.port],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_listening(self.host, self.port):
            raise RuntimeError(f"iperf3 server in {self.host.ns} not listening on {self.port}")
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait(timeout=5)


def iperf3_client(client: Host, server_ip: str, port: int = 5201, seconds: int = 3,
                  extra: Iterable[str] = ()) -> dict:
    """Runs an iperf3 client (JSON output). Returns {"rc", "bps", "bytes", "error", "raw"}: bps and
    bytes are the receiver's figures (0 when the test failed)."""
    r = client.exec(["iperf3", "-c", server_ip, "-p", str(port), "-t", str(seconds), "-J",
                     "--connect-timeout", "3000", *extra], timeout=seconds + 20)
    res = {"rc": r.rc, "bps": 0.0, "bytes": 0, "error": None, "raw": r.out[-4000:] + r.err}
    try:
        d = json.loads(r.out)
    except ValueError:
        res["error"] = f"no JSON from iperf3 (rc={r.rc}): {r.err.strip() or r.out[-300:]}"
        return res
    res["error"] = d.get("error")
    recv = d.get("end", {}).get("sum_received") or {}
    res["bps"] = float(recv.get("bits_per_second", 0.0))
    res["bytes"] = int(recv.get("bytes", 0))
    return res


def iperf3(client: Host, server: Host, seconds: int = 3, port: int = 5201,
           extra: Iterable[str] = ()) -> dict:
    with Iperf3Server(server, port):
        return iperf3_client(client, server.ip, port, seconds, extra)


# -- raw frames ---------------------------------------------------------------------------------
def send_frames(host: Host, frames: Iterable[bytes]) -> dict:
    """Sends raw frames out of the host's eth0 with an AF_PACKET socket. Returns
    {"sent": N, "errors": [...]} (the kernel refuses frames shorter than 14 bytes)."""
    hexes = [bytes(f).hex() for f in frames]
    r = host.exec([PYTHON, str(PKTSOCK), "send", host.ifname, *hexes], timeout=30)
    if r.rc != 0:
        raise RuntimeError(f"pktsock send failed in {host.ns}:\n{r}")
    return json.loads(r.out)


def flood_popen(host: Host, kind: str, arg, src: str | None = None) -> subprocess.Popen:
    """Starts pktsock.py's flood (random-src COUNT, or broadcast SECONDS SRC) out of host's eth0;
    host.popen registers it, so it is killed with the host's namespace at the latest."""
    argv = [PYTHON, str(PKTSOCK), "flood", host.ifname, kind, str(arg)] + ([src] if src else [])
    return host.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def flood_result(p: subprocess.Popen, timeout: float) -> dict:
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    if p.returncode != 0:
        raise RuntimeError(f"flood failed ({p.returncode}): {out!r} {err!r}")
    return json.loads(out)


class Sniffer:
    """Counts frames received on a host's eth0 that contain `needle`.

        with Sniffer(h3, marker, seconds=2) as s:
            send_frames(h1, [...])
        s.matched
    """

    def __init__(self, host: Host, needle: bytes, seconds: float = 3, want: int | None = None):
        self.host, self.needle, self.seconds, self.want = host, needle, seconds, want
        self.proc: subprocess.Popen | None = None
        self.result: dict | None = None

    def start(self) -> "Sniffer":
        argv = [PYTHON, str(PKTSOCK), "sniff", self.host.ifname, self.seconds, self.needle.hex()]
        if self.want is not None:
            argv.append(self.want)
        self.proc = self.host.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if r else ""
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"sniffer in {self.host.ns} did not start: {line!r} "
                               f"{self.proc.stderr.read() if self.proc.poll() is not None else ''}")
        return self

    def stop(self, grace: float = 0.75) -> dict:
        """Ends the capture `grace` seconds from now (time for frames in flight to arrive)."""
        if self.result is None and self.proc.poll() is None:
            time.sleep(grace)
            try:
                self.proc.send_signal(signal.SIGUSR1)
            except ProcessLookupError:
                pass
        return self.finish()

    def finish(self) -> dict:
        if self.result is None:
            out, err = self.proc.communicate(timeout=self.seconds + 15)
            try:
                self.result = json.loads(out)
            except ValueError:
                raise RuntimeError(f"sniffer in {self.host.ns} failed: {out!r} {err!r}")
        return self.result

    @property
    def matched(self) -> int:
        return self.finish()["matched"]

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        if exc_type is not None and self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def marker() -> bytes:
    """A payload tag unique to this call, to find our frames among others."""
    return b"VSTEST-" + os.urandom(8).hex().encode()
