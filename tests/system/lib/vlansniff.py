#!/usr/bin/python3
"""Captures frames on one interface as they are on the wire, 802.1Q tags included (run by vlan.py).

  vlansniff.py IFACE SECONDS HEXNEEDLE [WANT]
      Prints "ready" once listening, then keeps the frames (both directions) that contain the
      byte string NEEDLE, for SECONDS or until WANT of them were seen. Prints JSON
      {"frames": [{"hex": ..., "len": N, "sha256": ..., "outgoing": bool}, ...], "seen": TOTAL}
      ("hex" is the first 256 bytes; "len" and "sha256" cover the whole frame, tag included).
      SIGUSR1 ends it early.

Linux moves a received frame's outer VLAN tag out of the frame into packet metadata (whether or
not an 802.1Q module is loaded); a packet socket gets it back through PACKET_AUXDATA, which is
what tcpdump -e does. This script puts the tag back at offset 12 so that the frame reads as it
was on the wire: TPID, PCP, DEI and VID included.

Standard library only, so it starts fast in any namespace.
"""
import hashlib
import json
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
AUXDATA = struct.Struct("=IIIHHHH")  # struct tpacket_auxdata
MAX_FRAMES = 200


class Stop(Exception):
    pass


_capturing = False


def _stop(signum, frame):
    if _capturing:
        raise Stop()


def with_tag(data, ancdata):
    """`data` with the tag that the kernel moved into the auxdata put back."""
    for level, kind, cdata in ancdata:
        if level != SOL_PACKET or kind != PACKET_AUXDATA or len(cdata) < AUXDATA.size:
            continue
        status, _len, _snap, _mac, _net, tci, tpid = AUXDATA.unpack(cdata[:AUXDATA.size])
        if status & TP_STATUS_VLAN_VALID or tci:
            if not status & TP_STATUS_VLAN_TPID_VALID:
                tpid = 0x8100
            return data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


def main(iface, seconds, needle, want):
    global _capturing
    signal.signal(signal.SIGUSR1, _stop)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((iface, ETH_P_ALL))
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    frames, seen = [], 0
    try:
        _capturing = True
        while want is None or len(frames) < want:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                continue
            data, anc, _flags, addr = s.recvmsg(65535, socket.CMSG_SPACE(AUXDATA.size))
            seen += 1
            data = with_tag(data, anc)
            if needle in data and len(frames) < MAX_FRAMES:
                frames.append({"hex": data[:256].hex(), "len": len(data),
                               "sha256": hashlib.sha256(data).hexdigest(),
                               "outgoing": addr[2] == PACKET_OUTGOING})
        _capturing = False
    except Stop:
        _capturing = False
    print(json.dumps({"frames": frames, "seen": seen}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), bytes.fromhex(sys.argv[3]),
         int(sys.argv[4]) if len(sys.argv) > 4 else None)
