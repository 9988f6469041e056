#!/usr/bin/python3
"""Frame I/O of the Open vSwitch oracle (run by lib/oracle.py inside the tester namespace).

  oracleio.py CASES.json OUT.json
CASES.json: {"sides": {"ours": ["a1", ...], "ovs": ["b1", ...]}, "cases": [{"port": K, "hex": ...}]}
For each case in order it sends the frame out of interface K-1 of every side at once (the veth
peer of switch port K), then captures what each side's interfaces receive until none has received
anything for QUIET seconds (at least MIN_WAIT, at most MAX_WAIT). VLAN tags the kernel moved into
packet metadata are put back at offset 12, so frames read as they were on the wire. Writes
{"results": [{"ours": {"1": [hex, ...], ...}, "ovs": {...}}, ...]} with each port's frames in
arrival order.

Standard library only (and vlansniff.py's tag restoration): it starts fast in any namespace.
"""
import json
import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # vlansniff.py, beside this file

from vlansniff import ETH_P_ALL, PACKET_AUXDATA, PACKET_OUTGOING, SOL_PACKET, with_tag  # noqa: E402

QUIET, MIN_WAIT, MAX_WAIT = 0.08, 0.15, 1.0


def open_socket(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def drain(socks):
    """Reads and discards whatever is queued (frames from before a case)."""
    for s in socks:
        while True:
            try:
                s.recvmsg(65535, 1024)
            except BlockingIOError:
                break


def main():
    spec = json.load(open(sys.argv[1]))
    sides = spec["sides"]
    socks = {}   # socket -> (side, port number as a string)
    for side, ifaces in sides.items():
        for i, ifname in enumerate(ifaces):
            socks[open_socket(ifname)] = (side, str(i + 1))
    by_name = {}
    for s, (side, port) in socks.items():
        by_name[(side, port)] = s
    results = []
    for case in spec["cases"]:
        drain(socks)
        frame = bytes.fromhex(case["hex"])
        got = {side: {} for side in sides}
        for side in sides:
            by_name[(side, str(case["port"]))].send(frame)
        start = last = time.monotonic()
        while True:
            now = time.monotonic()
            if now - start >= MAX_WAIT or (now - start >= MIN_WAIT and now - last >= QUIET):
                break
            r, _, _ = select.select(list(socks), [], [], 0.02)
            for s in r:
                while True:
                    try:
                        data, anc, _flags, addr = s.recvmsg(65535, 1024)
                    except BlockingIOError:
                        break
                    if addr[2] == PACKET_OUTGOING:
                        continue
                    side, port = socks[s]
                    got[side].setdefault(port, []).append(with_tag(data, anc).hex())
                    last = time.monotonic()
        results.append(got)
    json.dump({"results": results}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()
