#!/usr/bin/env bash
# Installs every Debian package that the build, the tests, the demo and the benchmarks use.
# Idempotent: packages already present are skipped, apt is only touched when something is missing.
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config ninja-build
  libnl-3-dev libnl-route-3-dev libsystemd-dev libboost-dev libboost-system-dev rapidjson-dev libssl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  iproute2 ethtool iperf3 iputils-ping tcpdump netsniff-ng sockperf bc procps psmisc openssl
  clang   # bench/sink.sh: its eBPF drop program (the kernel has no tc gact/matchall)
  python3 python3-pytest python3-scapy python3-os-ken
  dpkg-dev groff-base
  openvswitch-switch python3-openvswitch containernetworking-plugins prometheus
  qemu-system-x86 busybox-static util-linux xz-utils uuid-runtime
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts Open vSwitch's system instance on install; the benchmarks and tests run private
# instances with their own rundirs, so keep the system one from holding the ovs-netdev device.
# Likewise Prometheus's system server (on :9090): test_metrics.py runs its own on a free port.
for svc in openvswitch-switch prometheus; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" >/dev/null 2>&1 || true
  fi
done
exit 0
