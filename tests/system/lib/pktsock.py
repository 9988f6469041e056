#!/usr/bin/python3
"""Raw Ethernet frames in and out of one interface, run inside a namespace by traffic.py.

  pktsock.py send IFACE HEX [HEX ...]
      Sends each frame (hex) with an AF_PACKET socket (what scapy's sendp does). Prints JSON
      {"sent": N, "errors": ["len 10: [Errno 22] ...", ...]}.
  pktsock.py sniff IFACE SECONDS HEXNEEDLE [WANT]
      Prints "ready" once listening, then counts received frames (not our own transmissions)
      that contain the byte string NEEDLE, for SECONDS or until WANT of them were seen. Prints
      JSON {"matched": N, "seen": TOTAL, "samples": [hex, ...]}. SIGUSR1 ends it early.

Standard library only, so it starts fast in any namespace.
"""
import json
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
    elif cmd == "sniff":
        sniff(iface, float(sys.argv[3]), bytes.fromhex(sys.argv[4]),
              int(sys.argv[5]) if len(sys.argv) > 5 else None)
    else:
        sys.exit(f"unknown command {cmd}")
