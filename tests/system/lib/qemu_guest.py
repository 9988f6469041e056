"""A tiny QEMU guest for the system tests, built from Debian packages at test time (no image is
ever downloaded) and cached between runs.

    img = guest_image()                # kernel + busybox initramfs, cached by package versions
    g = Guest(img, tap="vsq123x1", mac="52:54:00:12:34:56", ip="10.231.5.2/24",
              env={"VS_BRIDGE": br, "VSWITCH_SOCKET": sock, "VSCTL": vsctl})
    g.start()                          # QEMU creates the TAP and runs utilities/vs-qemu-ifup
    g.wait_for(r"READY")               # the guest's init prints "VSGUEST: ..." lines on ttyS0
    g.ping("10.231.5.1")               # -> True/False, pinged from inside the guest
    g.poweroff()                       # guest powers off, QEMU exits and runs vs-qemu-ifdown
    g.kill()                           # always safe; used by cleanup

The guest: Debian's cloud kernel (`linux-image-cloud-amd64` -> `linux-image-<abi>-cloud-amd64`,
fetched with `apt-get download`, unpacked with `dpkg-deb -x`, never installed on the host) and an
initramfs written here (newc cpio, uncompressed) holding busybox from `busybox-static`, the
virtio-net driver modules with their dependencies (read from each module's `.modinfo`; `.ko.xz`
and `.ko.zst` are decompressed at build time because busybox insmod may not) and /init below. The
kernel command line configures it: `vs.ip=ADDR/LEN` for eth0, `vs.ping=ADDR` to ping once at
boot, `vs.life=SECS` after which it powers off whatever happens.

Cache: $VSWITCH_TEST_CACHE (default /var/cache/vswitch-test)/qemu/<kernel pkg>_<ver>+busybox_<ver>
+init_<hash>/ with `vmlinuz` and `initrd.cpio`; other entries there are pruned when a new one is
built. $VSWITCH_TEST_KERNEL_DEB may name a local kernel .deb to use instead of the apt candidate.
"""
from __future__ import annotations

import fcntl
import hashlib
import lzma
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .proc import Result, run

CACHE = Path(os.environ.get("VSWITCH_TEST_CACHE", "/var/cache/vswitch-test")) / "qemu"
KERNEL_META = "linux-image-cloud-amd64"
# PCI transport and NIC driver; their dependencies (virtio, virtio_ring, failover, net_failover,
# virtio_pci_{modern,legacy}_dev) are found in each module's .modinfo.
ROOT_MODULES = ["virtio_pci", "virtio_net"]
MARK = "VSGUEST:"

INIT = r"""#!/bin/sh
# /init of the vswitch test guest (tests/system/lib/qemu_guest.py). Talks on ttyS0: every line
# for the test starts with "VSGUEST:"; reads commands from the console: "ping ADDR TRIES",
# "tcpsend ADDR PORT MIB", "tcprecv PORT", "poweroff".
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
dmesg -n 1
stty -echo 2>/dev/null
say() { echo "VSGUEST: $*"; }
off() { say "POWEROFF $*"; sync; poweroff -f; sleep 5; }
ip_addr=; ping_peer=; life=120
for p in $(cat /proc/cmdline); do
  case "$p" in
    vs.ip=*) ip_addr=${p#vs.ip=} ;;
    vs.ping=*) ping_peer=${p#vs.ping=} ;;
    vs.life=*) life=${p#vs.life=} ;;
  esac
done
(sleep "$life"; off "lifetime of ${life}s over") &
for m in $(cat /lib/modules/load.order); do
  insmod "/lib/modules/$m.ko" || say "FAIL insmod $m"
done
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e /sys/class/net/eth0 ] || { say "FAIL no eth0: $(ls /sys/class/net)"; off; }
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6
ip link set lo up
ip link set eth0 up
[ -n "$ip_addr" ] && ip addr add "$ip_addr" dev eth0
say "UP eth0 $(cat /sys/class/net/eth0/address) $ip_addr"
do_ping() {  # ADDR TRIES: one echo request a second until one is answered
  n=0
  while [ "$n" -lt "$2" ]; do
    n=$((n + 1))
    if ping -c 1 -W 1 "$1" >/dev/null 2>&1; then say "PING $1 ok after $n"; return; fi
  done
  say "PING $1 fail after $n"
}
tcp_send() {  # ADDR PORT MIB: send MIB MiB of zeros over TCP
  if dd if=/dev/zero bs=65536 count=$(($3 * 16)) 2>/dev/null | timeout 60 nc "$1" "$2"; then
    say "TCPSEND $1 $2 ok"
  else
    say "TCPSEND $1 $2 fail"
  fi
}
tcp_recv() {  # PORT: accept one TCP connection, report the bytes received
  (n=$(timeout 60 nc -l -p "$1" | wc -c); say "TCPRECV $1 $n") &
  i=0
  while ! netstat -ltn | grep -q ":$1 " && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  say "TCPLISTEN $1"
}
[ -n "$ping_peer" ] && do_ping "$ping_peer" 15
say READY
while read -r cmd a1 a2 a3; do
  case "$cmd" in
    ping) do_ping "$a1" "${a2:-1}" ;;
    tcpsend) tcp_send "$a1" "$a2" "$a3" ;;
    tcprecv) tcp_recv "$a1" ;;
    poweroff) off requested ;;
    "") ;;
    *) say "UNKNOWN $cmd" ;;
  esac
done
off "console closed"
"""


INIT_HASH = hashlib.sha256((INIT + repr(ROOT_MODULES)).encode()).hexdigest()[:12]


class GuestError(RuntimeError):
    pass


def qemu_binary() -> str | None:
    return shutil.which("qemu-system-x86_64")


def unavailable_reason() -> str | None:
    """Why no QEMU guest can run on this host at all (None if one can)."""
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing: no TAP devices on this host"
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError as e:
        return f"cannot open /dev/net/tun: {e}"
    if qemu_binary() is None:
        return "qemu-system-x86_64 not found (Debian package qemu-system-x86)"
    return None


# -- the guest image ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GuestImage:
    kernel: Path
    initrd: Path


def _apt(argv: list[str], what: str, cwd: str | None = None) -> str:
    r = run(argv, timeout=300) if cwd is None else _run_in(argv, cwd)
    if r.rc != 0:
        raise GuestError(f"{what}: {' '.join(argv)} failed\n{r}")
    return r.out


def _run_in(argv: list[str], cwd: str) -> Result:
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    return Result(p.returncode, p.stdout, p.stderr)


_apt_updated = False


def _candidate(pkg: str) -> str | None:
    r = run(["apt-cache", "policy", pkg], timeout=60)
    m = re.search(r"Candidate:\s*(\S+)", r.out)
    return m.group(1) if m and m.group(1) != "(none)" else None


def _resolve(pkg: str) -> str | None:
    """Candidate version of pkg; runs `apt-get update` once if apt does not know it."""
    global _apt_updated
    v = _candidate(pkg)
    if v is None and not _apt_updated:
        _apt_updated = True
        run(["apt-get", "update", "-qq"], timeout=300)
        v = _candidate(pkg)
    return v


def _kernel_package() -> tuple[str, str]:
    """(name, version) of the kernel package the cloud metapackage points at."""
    if _resolve(KERNEL_META) is None:
        raise GuestError(f"apt knows no {KERNEL_META} (is a Debian bookworm apt source "
                         f"configured and `apt-get update` done?)")
    out = run(["apt-cache", "depends", KERNEL_META], timeout=60).out
    m = re.search(r"Depends:\s*(linux-image-\S+)", out)
    if not m:
        raise GuestError(f"cannot find the kernel package {KERNEL_META} depends on:\n{out}")
    name = m.group(1)
    ver = _resolve(name)
    if ver is None:
        raise GuestError(f"apt has no candidate version of {name}")
    return name, ver


def _deb_fields(deb: Path) -> tuple[str, str]:
    out = _apt(["dpkg-deb", "-f", str(deb), "Package", "Version"], f"reading {deb}")
    f = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
    return f["Package"], f["Version"]


def _busybox_version() -> str | None:
    r = run(["dpkg-query", "-W", "-f=${Status} ${Version}", "busybox-static"])
    if r.rc == 0 and r.out.startswith("install ok installed"):
        return r.out.split()[-1]
    return None


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", s)


def _download(pkg: str, ver: str, into: Path) -> Path:
    _apt(["apt-get", "download", "-q", f"{pkg}={ver}"], f"downloading {pkg}", cwd=str(into))
    debs = sorted(into.glob(f"{pkg}_*.deb"))
    if not debs:
        raise GuestError(f"apt-get download {pkg}={ver} left no .deb in {into}")
    return debs[0]


def guest_image() -> GuestImage:
    """The cached kernel + initramfs, built first if the cache has none for the current package
    versions. If that build fails (no mirror, say) an image cached for older versions is used;
    without one, raises GuestError with the reason."""
    try:
        return _current_image()
    except GuestError as e:
        if os.environ.get("VSWITCH_TEST_KERNEL_DEB"):
            raise
        for old in sorted(CACHE.glob("*/initrd.cpio"), key=lambda p: p.stat().st_mtime,
                          reverse=True):
            if (old.parent / "vmlinuz").exists() and INIT_HASH in old.parent.name:
                print(f"qemu_guest: using the cached {old.parent.name}: {e}")
                return GuestImage(old.parent / "vmlinuz", old)
        raise


def _current_image() -> GuestImage:
    local_deb = os.environ.get("VSWITCH_TEST_KERNEL_DEB")
    if local_deb:
        kpkg, kver = _deb_fields(Path(local_deb))
    else:
        kpkg, kver = _kernel_package()
    bbver = _busybox_version() or _resolve("busybox-static")
    if bbver is None:
        raise GuestError("neither an installed busybox-static nor one apt can download")
    key = _safe(f"{kpkg}_{kver}+busybox_{bbver}+init_{INIT_HASH}")
    final = CACHE / key
    img = GuestImage(final / "vmlinuz", final / "initrd.cpio")
    if img.kernel.exists() and img.initrd.exists():
        return img
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if img.kernel.exists() and img.initrd.exists():
            return img
        with tempfile.TemporaryDirectory(prefix="build-", dir=CACHE) as tmp:
            t = Path(tmp)
            _build(t, Path(local_deb) if local_deb else None, kpkg, kver, bbver)
            out = t / "out"
            for old in CACHE.iterdir():   # keep one image: the cache never grows
                if old.is_dir() and not old.name.startswith("build-"):
                    shutil.rmtree(old, ignore_errors=True)
            os.rename(out, final)
    return img


def _build(t: Path, local_deb: Path | None, kpkg: str, kver: str, bbver: str) -> None:
    debs = t / "debs"
    debs.mkdir()
    kdeb = local_deb or _download(kpkg, kver, debs)
    kroot = t / "kernel"
    _apt(["dpkg-deb", "-x", str(kdeb), str(kroot)], f"unpacking {kdeb}")
    vmlinuz = sorted((kroot / "boot").glob("vmlinuz-*"))
    moddirs = sorted((kroot / "lib" / "modules").glob("*"))
    if not vmlinuz or not moddirs:
        raise GuestError(f"{kdeb} has no /boot/vmlinuz-* or /lib/modules/*")
    modules = _modules_to_load(moddirs[0])

    if _busybox_version() == bbver:
        busybox = Path("/bin/busybox")
    else:
        bdeb = _download("busybox-static", bbver, debs)
        broot = t / "busybox"
        _apt(["dpkg-deb", "-x", str(bdeb), str(broot)], f"unpacking {bdeb}")
        busybox = broot / "bin" / "busybox"

    out = t / "out"
    out.mkdir()
    shutil.copyfile(vmlinuz[0], out / "vmlinuz")
    _write_initramfs(out / "initrd.cpio", busybox.read_bytes(), modules)


# -- kernel modules -------------------------------------------------------------------------------
def _ko_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".xz"):
        return lzma.decompress(data)
    if path.name.endswith(".zst"):
        p = subprocess.run(["zstd", "-dc", str(path)], capture_output=True, check=True)
        return p.stdout
    return data


def _modinfo(elf: bytes) -> dict[str, str]:
    """The key=value strings of an ELF64 module's .modinfo section."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        raise GuestError("not an ELF64 kernel module")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

    def section(i):
        name, _type, _flags, _addr, off, size = struct.unpack_from("<IIQQQQ", elf,
                                                                   shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        end = elf.index(b"\0", stroff + name)
        if elf[stroff + name:end] == b".modinfo":
            info = {}
            for item in elf[off:off + size].split(b"\0"):
                k, sep, v = item.decode(errors="replace").partition("=")
                if sep:
                    info.setdefault(k, v)
            return info
    return {}


def _modules_to_load(moddir: Path) -> list[tuple[str, bytes]]:
    """(name, uncompressed .ko) for ROOT_MODULES and their dependencies, dependencies first."""
    files = {}
    for p in moddir.rglob("*.ko*"):
        name = re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", p.name).replace("-", "_")
        files[name] = p
    builtin = set()
    b = moddir / "modules.builtin"
    if b.exists():
        builtin = {Path(line.strip()).name.split(".ko")[0].replace("-", "_")
                   for line in b.read_text().splitlines() if line.strip()}
    order: list[tuple[str, bytes]] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]):
        name = name.replace("-", "_")
        if name in seen:
            return
        seen.add(name)
        if name not in files:
            if name in builtin:
                return
            raise GuestError(f"kernel module {name} (needed by {' <- '.join(chain) or 'the NIC'}) "
                             f"is neither in {moddir} nor built in")
        data = _ko_bytes(files[name])
        deps = _modinfo(data).get("depends", "")
        for d in filter(None, deps.split(",")):
            visit(d, (name,) + chain)
        order.append((name, data))

    for m in ROOT_MODULES:
        visit(m, ())
    return order


# -- initramfs (newc cpio, written here: device nodes need no mknod) --------------------------
def _cpio_entry(name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0),
                ino: int = 0) -> bytes:
    nameb = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + nameb
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def _write_initramfs(path: Path, busybox: bytes, modules: list[tuple[str, bytes]]) -> None:
    S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR = 0o040000, 0o100000, 0o120000, 0o020000
    parts = []
    ino = 100

    def add(name, mode, data=b"", rdev=(0, 0)):
        nonlocal ino
        ino += 1
        parts.append(_cpio_entry(name, mode, data, rdev, ino))

    for d in ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "lib",
              "lib/modules", "root"):
        add(d, S_IFDIR | 0o755)
    add("dev/console", S_IFCHR | 0o600, rdev=(5, 1))
    add("dev/null", S_IFCHR | 0o666, rdev=(1, 3))
    add("bin/busybox", S_IFREG | 0o755, busybox)
    add("bin/sh", S_IFLNK | 0o777, b"busybox")
    add("init", S_IFREG | 0o755, INIT.encode())
    for name, data in modules:
        add(f"lib/modules/{name}.ko", S_IFREG | 0o644, data)
    add("lib/modules/load.order", S_IFREG | 0o644,
        "".join(f"{n}\n" for n, _ in modules).encode())
    parts.append(_cpio_entry("TRAILER!!!", 0))
    path.write_bytes(b"".join(parts))


# -- a running guest -------------------------------------------------------------------------------
class Guest:
    """One QEMU process (TCG unless $VSWITCH_TEST_QEMU_ACCEL says otherwise) with one virtio-net
    NIC on a TAP that QEMU creates and hands to `ifup`/`ifdown` (utilities/vs-qemu-if*)."""

    def __init__(self, image: GuestImage, tap: str, mac: str, ip: str, ifup: Path, ifdown: Path,
                 env: dict[str, str], ping: str | None = None, life: int = 110,
                 mem_mb: int = 256):
        self.image, self.tap, self.mac, self.ip = image, tap, mac, ip
        self.ifup, self.ifdown, self.env = ifup, ifdown, env
        self.ping_at_boot, self.life, self.mem_mb = ping, life, mem_mb
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []          # every console line so far
        self._cond = threading.Condition()
        self._eof = False
        self._cursor = 0                    # wait_for() looks at lines from here on
        self._listen_at: dict[int, int] = {}
        self._reader: threading.Thread | None = None
        self.started_at = 0.0

    def argv(self) -> list[str]:
        append = f"console=ttyS0 quiet panic=-1 vs.ip={self.ip} vs.life={self.life}"
        if self.ping_at_boot:
            append += f" vs.ping={self.ping_at_boot}"
        accel = os.environ.get("VSWITCH_TEST_QEMU_ACCEL", "tcg")
        return [qemu_binary(), "-accel", accel, "-machine", "q35", "-cpu", "max", "-smp", "1",
                "-m", str(self.mem_mb), "-nographic", "-monitor", "none", "-serial", "stdio",
                "-no-reboot", "-nodefaults",
                "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
                "-append", append,
                "-netdev", f"tap,id=n0,ifname={self.tap},script={self.ifup},"
                           f"downscript={self.ifdown}",
                "-device", f"virtio-net-pci,netdev=n0,mac={self.mac},romfile="]

    def start(self) -> None:
        env = dict(os.environ)
        env.update(self.env)
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=_die_with_parent, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def console(self, last: int = 80) -> str:
        return "\n".join(self.lines[-last:])

    def wait_for(self, pattern: str, timeout: float, start: int | None = None) -> re.Match:
        """Waits for a `VSGUEST:` console line matching pattern (searched after the marker),
        looking at lines from index `start` (default: after the previous match). Raises
        GuestError with the console's tail if the guest reports a failure, QEMU exits or the
        time runs out."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = self._cursor if start is None else start
        with self._cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    i += 1
                    k = line.find(MARK)
                    if k < 0:
                        continue
                    m = rx.search(line[k + len(MARK):])
                    if m:
                        self._cursor = max(self._cursor, i)
                        return m
                    if line[k + len(MARK):].startswith(" FAIL"):
                        raise GuestError(f"guest reported a failure: {line}\n{self.console()}")
                if self._eof:
                    rc = self.proc.poll() if self.proc else None
                    raise GuestError(f"QEMU exited (rc={rc}) before {pattern!r}; console:\n"
                                     f"{self.console()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuestError(f"no console line matching {pattern!r} after "
                                     f"{timeout:.0f}s; console:\n{self.console()}")
                self._cond.wait(left)

    def send(self, command: str) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def ping(self, addr: str, tries: int = 1, timeout: float = 30) -> bool:
        """Pings addr from the guest (one request a second, up to `tries`)."""
        self.send(f"ping {addr} {tries}")
        m = self.wait_for(rf"PING {re.escape(addr)} (ok|fail)", timeout + tries * 2)
        return m.group(1) == "ok"

    def tcp_send(self, addr: str, port: int, mib: int, timeout: float = 90) -> bool:
        """Sends `mib` MiB over one TCP connection from the guest to addr:port."""
        self.send(f"tcpsend {addr} {port} {mib}")
        m = self.wait_for(rf"TCPSEND {re.escape(addr)} {port} (ok|fail)", timeout)
        return m.group(1) == "ok"

    def tcp_listen(self, port: int, timeout: float = 20) -> None:
        """Starts a one-connection TCP receiver in the guest; tcp_received() reports it."""
        self._listen_at[port] = len(self.lines)
        self.send(f"tcprecv {port}")
        self.wait_for(rf"TCPLISTEN {port}\b", timeout)

    def tcp_received(self, port: int, timeout: float = 90) -> int:
        """Bytes the receiver started by tcp_listen(port) got before its peer closed."""
        m = self.wait_for(rf"TCPRECV {port} (\d+)", timeout, start=self._listen_at[port])
        return int(m.group(1))

    def poweroff(self, timeout: float = 30) -> int:
        """Asks the guest to power off; returns QEMU's exit status."""
        self.send("poweroff")
        assert self.proc
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GuestError(f"QEMU still running {timeout}s after poweroff; console:\n"
                             f"{self.console()}") from None

    def signal(self, sig: int, timeout: float = 30) -> int:
        """Sends sig to QEMU and waits for it to exit; returns its exit status."""
        assert self.proc
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GuestError(f"QEMU still running {timeout}s after signal {sig}") from None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self._reader is not None:
            self._reader.join(timeout=5)    # the console's last lines, for reports
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f:
                    f.close()
            except OSError:
                pass


def _die_with_parent() -> None:
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


if __name__ == "__main__":  # prefetch: python3 -m lib.qemu_guest (from tests/system)
    print(guest_image())
