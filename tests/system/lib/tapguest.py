"""A "guest" behind a TAP device with a virtio-net header (IFF_VNET_HDR), as QEMU opens it
(docs/qemu.md): whatever a guest writes, header included, reaches the switch's port on that TAP.

Run as a helper process inside a test namespace:
    /usr/bin/python3 tapguest.py IFNAME
It creates the TAP (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), prints "ready", then reads lines
"COUNT HEX" from stdin and writes the bytes HEX (a 10-byte virtio_net_hdr, host order, then the
frame) COUNT times to the TAP, answering "ok WRITTEN ERRORS" (errors: writes the kernel refused).
EOF closes the TAP, which removes the device.

Test side: TapGuest(ns, ifname) starts it; write(hdr, frame, count) sends; close() ends it.
"""
from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
PYTHON = "/usr/bin/python3"
VIRTIO_NET_HDR_F_NEEDS_CSUM = 1
GSO_TCPV4 = 1


def vnet_hdr(flags=0, gso_type=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0) -> bytes:
    """struct virtio_net_hdr in host (little-endian on x86) order, as a TAP without TUNSETVNETLE
    reads it."""
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


class TapGuest:
    def __init__(self, ns: str, ifname: str):
        self.ns, self.ifname = ns, ifname
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, PYTHON, __file__, ifname],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.close()
            raise RuntimeError(f"TAP guest {ifname} in {ns} did not start: {line!r}")

    def write(self, hdr: bytes, frame: bytes, count: int = 1) -> tuple[int, int]:
        """Writes hdr + frame `count` times. Returns (written, refused by the kernel)."""
        self.proc.stdin.write(f"{count} {(hdr + frame).hex()}\n")
        self.proc.stdin.flush()
        _, written, errors = self.proc.stdout.readline().split()
        return int(written), int(errors)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)


def _main(ifname: str) -> None:
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", ifname.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    subprocess.run(["ip", "link", "set", ifname, "up"], check=True)
    print("ready", flush=True)
    for line in sys.stdin:
        count, data = line.split()
        buf = bytes.fromhex(data)
        written = errors = 0
        for _ in range(int(count)):
            try:
                os.write(fd, buf)
                written += 1
            except OSError:
                errors += 1
        print(f"ok {written} {errors}", flush=True)
    os.close(fd)


if __name__ == "__main__":
    _main(sys.argv[1])
