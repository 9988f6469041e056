#!/usr/bin/python3
"""Raw Ethernet frames in and out of one interface, run inside a namespace by traffic.py.

  pktsock.py send IFACE HEX [HEX ...]
      Sends each frame (hex) with an AF_PACKET socket (what scapy's sendp does). Prints JSON
      {"sent": N, "errors": ["len 10: [Errno 22] ...", ...]}.
  pktsock.py flood IFACE random-src COUNT
      Sends COUNT broadcast frames (ethertype 0x88b5, local experimental), each from a fresh
      random locally administered unicast source MAC (a MAC flood). Prints {"sent": N, ...}.
  pktsock.py flood IFACE broadcast SECONDS SRCMAC
      Sends broadcast frames from SRCMAC as fast as it can for SECONDS (a broadcast storm).
      Prints {"sent": N, "seconds": S, "errors": ...}; ENOBUFS (a full queue) is retried.
  pktsock.py sniff IFACE SECONDS HEXNEEDLE [WANT]
      Prints "ready" once listening, then counts received frames (not our own transmissions)
      that contain the byte string NEEDLE, for SECONDS or until WANT of them were seen. Prints
      JSON {"matched": N, "seen": TOTAL, "samples": [hex, ...]}. SIGUSR1 ends it early.

Standard library only, so it starts fast in any namespace.
"""
import json
import os
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def send(iface, frames):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((iface, 0))
    sent, errors = 0, []
    for f in frames:
        try:
            s.send(f)
            sent += 1
        except OSError as e:
            errors.append(f"len {len(f)}: {e}")
    print(json.dumps({"sent": sent, "errors": errors}))


def _random_src() -> bytes:
    b = bytearray(os.urandom(6))
    b[0] = (b[0] & 0xFC) | 0x02   # unicast, locally administered
    return bytes(b)


def flood(iface, kind, arg, src=None):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    s.bind((iface, 0))
    head, tail = b"\xff" * 6, b"\x88\xb5" + b"VSFLOOD" + bytes(39)
    sent, errors, t0 = 0, 0, time.monotonic()
    if kind == "random-src":
        for _ in range(int(arg)):
            try:
                s.send(head + _random_src() + tail)
                sent += 1
            except OSError:
                errors += 1
                time.sleep(0.0005)   # ENOBUFS: let the queue drain; the frame is lost
    else:
        frame = head + bytes.fromhex(src.replace(":", "")) + tail
        deadline = t0 + float(arg)
        while time.monotonic() < deadline:
            for _ in range(256):
                try:
                    s.send(frame)
                    sent += 1
                except OSError:
                    errors += 1
    print(json.dumps({"sent": sent, "errors": errors, "seconds": round(time.monotonic() - t0, 3)}))


class Stop(Exception):
    pass


_capturing = False


def _stop(signum, frame):
    if _capturing:
        raise Stop()


def sniff(iface, seconds, needle, want):
    global _capturing
    signal.signal(signal.SIGUSR1, _stop)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    matched, seen, samples = 0, 0, []
    try:
        _capturing = True
        while want is None or matched < want:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                continue
            data, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            seen += 1
            if needle in data:
                matched += 1
                if len(samples) < 5:
                    samples.append(data[:128].hex())
        _capturing = False
    except Stop:
        _capturing = False
    print(json.dumps({"matched": matched, "seen": seen, "samples": samples}), flush=True)


if __name__ == "__main__":
    cmd, iface = sys.argv[1], sys.argv[2]
    if cmd == "send":
        send(iface, [bytes.fromhex(h) for h in sys.argv[3:]])
    elif cmd == "flood":
        flood(iface, sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    elif cmd == "sniff":
        sniff(iface, float(sys.argv[3]), bytes.fromhex(sys.argv[4]),
              int(sys.argv[5]) if len(sys.argv) > 5 else None)
    else:
        sys.exit(f"unknown command {cmd}")
