#!/usr/bin/env bash
# A two-host demo of vswitch: a private vswitchd, bridge br0, two network namespaces joined to it
# by veth pairs, ping both ways, then `vsctl show` and the MAC table. Everything it creates is
# removed on exit or Ctrl-C.
#   sudo scripts/demo.sh            (KEEP=1 waits for Enter before cleaning up)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}

if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: must run as root (network namespaces, veth pairs): sudo scripts/demo.sh" >&2
  exit 1
fi

scripts/setup.sh
VSWITCHD=$BUILD_DIR/vswitchd/vswitchd
VSCTL_BIN=$BUILD_DIR/utilities/vsctl
VSAPPCTL_BIN=$BUILD_DIR/utilities/vsappctl
if [ ! -x "$VSWITCHD" ] || [ ! -x "$VSCTL_BIN" ] || [ ! -x "$VSAPPCTL_BIN" ]; then
  echo "== building vswitch in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j2
fi

# Unique names: several demos (and the tests) can run side by side.
ID=$$
NS1=vsdemo${ID}a; NS2=vsdemo${ID}b          # namespaces ("hosts")
SW1=vsd${ID}a; SW2=vsd${ID}b                # switch-side veth ends (<= 15 chars)
BR=br0
DIR=""
SOCK=""
vsctl() { "$VSCTL_BIN" --socket "$SOCK" "$@"; }
vsappctl() { "$VSAPPCTL_BIN" --socket "$SOCK" "$@"; }

cleanup() {
  local rc=$?
  trap "" INT TERM; trap - EXIT
  set +e
  if [ $rc -ne 0 ] && [ -n "$DIR" ] && [ -s "$DIR/vswitchd.log" ]; then
    echo "== demo failed (exit $rc); last lines of $DIR/vswitchd.log:"
    tail -n 30 "$DIR/vswitchd.log"
  fi
  echo
  echo "== cleaning up"
  if [ -n "$DIR" ] && [ -f "$DIR/vswitchd.pid" ]; then
    pid=$(cat "$DIR/vswitchd.pid" 2>/dev/null)
    # only the daemon this script started (its command line names our socket)
    if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$SOCK"; then
      kill -TERM "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  ip link del "$SW1" 2>/dev/null; ip link del "$SW2" 2>/dev/null
  ip netns del "$NS1" 2>/dev/null; ip netns del "$NS2" 2>/dev/null
  [ -n "$DIR" ] && rm -rf "$DIR"
  echo "   removed $NS1 $NS2 $SW1 $SW2 and $DIR"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
DIR=$(mktemp -d /tmp/vsdemo.XXXXXX)
SOCK=$DIR/vswitchd.sock
export VSWITCH_SOCKET=$SOCK

echo "== starting vswitchd (config, socket, log under $DIR)"
"$VSWITCHD" --config "$DIR/conf.json" --socket "$SOCK" --pidfile "$DIR/vswitchd.pid" \
  --log-file "$DIR/vswitchd.log" --detach
for _ in $(seq 100); do [ -S "$SOCK" ] && vsctl list-br >/dev/null 2>&1 && break; sleep 0.1; done

echo "== two hosts: $NS1 (10.231.0.1) and $NS2 (10.231.0.2)"
i=0
for pair in "$NS1:$SW1" "$NS2:$SW2"; do
  i=$((i + 1)); ns=${pair%%:*}; sw=${pair##*:}
  ip netns add "$ns"
  ip link add "$sw" type veth peer name eth0 netns "$ns"
  ip link set "$sw" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "10.231.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
done

echo "== vsctl add-br $BR; vsctl add-port $BR $SW1; vsctl add-port $BR $SW2"
vsctl add-br "$BR"
vsctl add-port "$BR" "$SW1"
vsctl add-port "$BR" "$SW2"

echo "== ping $NS1 -> 10.231.0.2"
ip netns exec "$NS1" ping -c 3 -i 0.2 -w 5 10.231.0.2
echo "== ping $NS2 -> 10.231.0.1"
ip netns exec "$NS2" ping -c 3 -i 0.2 -w 5 10.231.0.1

echo "== vsctl show"
vsctl show
echo "== vsappctl fdb/show $BR"
vsappctl fdb/show "$BR"

if [ "${KEEP:-0}" = 1 ] && [ -t 0 ]; then
  echo "== try it yourself: VSWITCH_SOCKET=$SOCK $VSCTL_BIN show ; ip netns exec $NS1 ping 10.231.0.2"
  read -r -p "press Enter to clean up " _
fi
