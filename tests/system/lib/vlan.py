"""802.1Q helpers for the VLAN, internal-port and container tests: tagged frames, a capture that
shows tags as they are on the wire (vlansniff.py), raw sends in any namespace, ping matrices.

    with Capture(h.ifname, marker, ns=h.ns) as cap:       # or ns=None: the root namespace
        send_raw(other.ifname, [eth_frame(...)], ns=other.ns)
    cap.frames[0].vid, cap.frames[0].pcp                   # None / 0 when untagged
"""
from __future__ import annotations

import json
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Raw

from .netns import Host
from .proc import run

PYTHON = "/usr/bin/python3"
VLANSNIFF = Path(__file__).with_name("vlansniff.py")
PKTSOCK = Path(__file__).with_name("pktsock.py")
ETH_LOCAL_EXPERIMENTAL = 0x88B5   # IEEE 802 local experimental EtherType: no host stack reacts
BROADCAST = "ff:ff:ff:ff:ff:ff"
VLAN_TPIDS = (0x8100, 0x88A8)


def _in_ns(ns: str | None, argv: Sequence) -> list[str]:
    argv = [str(a) for a in argv]
    return ["ip", "netns", "exec", ns, *argv] if ns else argv


def eth_frame(src: str, dst: str, payload: bytes, vid: int | None = None, pcp: int = 0,
              ethertype: int = ETH_LOCAL_EXPERIMENTAL) -> bytes:
    """An Ethernet frame carrying `payload`, with one 802.1Q tag when `vid` is given (vid=0 makes a
    priority-tagged frame), padded to the 60-byte minimum."""
    if vid is None:
        pkt = Ether(src=src, dst=dst, type=ethertype) / Raw(payload)
    else:
        pkt = Ether(src=src, dst=dst) / Dot1Q(vlan=vid, prio=pcp, type=ethertype) / Raw(payload)
    data = bytes(pkt)
    return data + b"\0" * max(0, 60 - len(data))


def send_raw(iface: str, frames: Iterable[bytes], ns: str | None = None) -> int:
    """Sends raw frames out of `iface` (in namespace `ns`, or the root namespace); returns how many
    the kernel took."""
    frames = [bytes(f).hex() for f in frames]
    r = run(_in_ns(ns, [PYTHON, PKTSOCK, "send", iface, *frames]), timeout=30)
    if r.rc != 0:
        raise RuntimeError(f"pktsock send on {iface} (netns {ns}) failed:\n{r}")
    res = json.loads(r.out)
    assert not res["errors"], f"kernel refused frames on {iface}: {res['errors']}"
    return res["sent"]


@dataclass
class Seen:
    """One captured frame, tags as on the wire."""
    raw: bytes          # the first 256 bytes
    outgoing: bool
    length: int = 0     # of the whole frame, tag included
    sha256: str = ""    # of the whole frame

    @property
    def tags(self) -> list[tuple[int, int, int, int]]:
        """(tpid, pcp, dei, vid) of each 802.1Q/802.1ad tag, outermost first."""
        out, pos = [], 12
        while len(self.raw) >= pos + 4 and int.from_bytes(self.raw[pos:pos + 2], "big") in VLAN_TPIDS:
            tpid = int.from_bytes(self.raw[pos:pos + 2], "big")
            tci = int.from_bytes(self.raw[pos + 2:pos + 4], "big")
            out.append((tpid, tci >> 13, (tci >> 12) & 1, tci & 0xFFF))
            pos += 4
        return out

    @property
    def vid(self) -> int | None:
        return self.tags[0][3] if self.tags else None

    @property
    def pcp(self) -> int | None:
        return self.tags[0][1] if self.tags else None

    def __repr__(self) -> str:
        t = ",".join(f"{tp:#06x}/pcp{p}/vid{v}" for tp, p, _d, v in self.tags) or "untagged"
        return f"<{'out' if self.outgoing else 'in'} {t} {self.raw[:40].hex()}>"


class Capture:
    """Frames that contain `needle` on interface `iface` of namespace `ns` (None: the root
    namespace), both directions, with their VLAN tags. Use as a context manager; `frames` waits
    for the capture to end (stop() ends it early)."""

    def __init__(self, iface: str, needle: bytes, ns: str | None = None, seconds: float = 4,
                 want: int | None = None):
        self.iface, self.needle, self.ns, self.seconds, self.want = iface, needle, ns, seconds, want
        self.proc: subprocess.Popen | None = None
        self.result: dict | None = None

    def start(self) -> "Capture":
        argv = [PYTHON, VLANSNIFF, self.iface, self.seconds, self.needle.hex()]
        if self.want is not None:
            argv.append(self.want)
        self.proc = subprocess.Popen(_in_ns(self.ns, argv), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline() if r else ""
        if line.strip() != "ready":
            self.proc.kill()
            raise RuntimeError(f"capture on {self.iface} (netns {self.ns}) did not start: {line!r} "
                               f"{self.proc.stderr.read() if self.proc.poll() is not None else ''}")
        return self

    def stop(self, grace: float = 0.75) -> list[Seen]:
        if self.result is None and self.proc.poll() is None:
            time.sleep(grace)
            try:
                self.proc.send_signal(signal.SIGUSR1)
            except ProcessLookupError:
                pass
        return self.frames

    @property
    def frames(self) -> list[Seen]:
        if self.result is None:
            out, err = self.proc.communicate(timeout=self.seconds + 15)
            try:
                self.result = json.loads(out)
            except ValueError:
                raise RuntimeError(f"capture on {self.iface} failed: {out!r} {err!r}") from None
        return [Seen(bytes.fromhex(f["hex"]), f["outgoing"], f["len"], f["sha256"])
                for f in self.result["frames"]]

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, *exc):
        if exc_type is not None and self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def host_capture(h: Host, needle: bytes, seconds: float = 4, want: int | None = None) -> Capture:
    return Capture(h.ifname, needle, ns=h.ns, seconds=seconds, want=want)


def ping_matrix(pairs: Iterable[tuple[Host, str]], count: int = 2, deadline: float = 3) -> dict:
    """Pings every (host, address) pair at once; returns {(host.ns, address): rc}. rc 0 means
    every reply arrived."""
    procs = {}
    for h, addr in pairs:
        procs[(h.ns, addr)] = subprocess.Popen(
            ["ip", "netns", "exec", h.ns, "ping", "-n", "-q", "-c", str(count), "-i", "0.2",
             "-w", str(int(deadline)), addr],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = {}
    for k, p in procs.items():
        try:
            p.communicate(timeout=deadline + 10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
        out[k] = p.returncode
    return out


def flush_neighbours(*hosts: Host) -> None:
    """Forgets the hosts' ARP entries. Needed after a VLAN change that makes a host reachable: an
    address that failed to resolve just before stays FAILED for a while, and Linux sends no new
    ARP request for it until then (nothing would reach the switch to forward)."""
    for h in hosts:
        run(["ip", "-n", h.ns, "neigh", "flush", "dev", h.ifname])


def wait_until(pred, timeout: float = 5, interval: float = 0.1):
    """Polls pred() until it returns something true or `timeout` passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(interval)
