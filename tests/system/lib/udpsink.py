"""A UDP receiver that records what arrives, e.g. on a tunnel peer's VXLAN port (4789).

Run inside a test namespace:  /usr/bin/python3 udpsink.py ADDR PORT
It binds ADDR:PORT, prints "ready", and records every datagram until its stdin closes; then it
prints one JSON line: {"count": N, "datagrams": [hex, ...]} (the first 2,000 kept in full).

Test side: UdpSink(ns, addr, port) starts it; stop() returns (count, [bytes, ...]).
"""
from __future__ import annotations

import json
import select
import socket
import subprocess
import sys

PYTHON = "/usr/bin/python3"
KEEP = 2000


class UdpSink:
    def __init__(self, ns: str, addr: str, port: int):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, PYTHON, __file__, addr, str(port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.proc.kill()
            raise RuntimeError(f"UDP sink on {addr}:{port} in {ns} did not start: {line!r}")

    def stop(self) -> tuple[int, list[bytes]]:
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        r = json.loads(out.strip().splitlines()[-1])
        return r["count"], [bytes.fromhex(h) for h in r["datagrams"]]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _drain(s: socket.socket, seen: dict) -> None:
    while True:
        try:
            d = s.recv(65535)
        except BlockingIOError:
            return
        seen["count"] += 1
        if len(seen["datagrams"]) < KEEP:
            seen["datagrams"].append(d.hex())


def _main(addr: str, port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, port))
    s.setblocking(False)
    print("ready", flush=True)
    seen = {"count": 0, "datagrams": []}
    while True:
        r, _, _ = select.select([s, sys.stdin], [], [], 1.0)
        if s in r:
            _drain(s, seen)
        if sys.stdin in r and not sys.stdin.readline():
            break
    _drain(s, seen)  # what arrived meanwhile
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    _main(sys.argv[1], int(sys.argv[2]))
