#!/usr/bin/env bash
# What one durable flow change costs (docs/benchmarks.md, "Flow changes"): issue #14 item 4, "a
# flow change costs O(change), not O(table)".
#
#   sudo bench/flow_commit.sh                          # this tree's build/
#   sudo OLD_BUILD_DIR=/tmp/oldtree/build bench/flow_commit.sh   # and an older build, same run
#
# For each build and each table size in SIZES (default "1 100000" generated rules, those of
# ../shared/bench/gen-flows.py, plus NORMAL): a private vswitchd, the rules installed with one
# add-flows, then K (default 100) `vsofctl add-flow` of one new rule each, timed one by one
# (each is acknowledged only once durable), and K `vsofctl dump-tables` as the anchor: the same
# process start and JSON-RPC round trip without a write. Printed per round: median and p90 of
# both in ms, and the add-flow median as a ratio to the anchor's. ROUNDS (default 3) rounds,
# builds and sizes taking turns, so the spread shows. Everything created is removed on exit.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. "$ROOT/bench/lib.sh"
BUILDS=("${BUILD_DIR:-$ROOT/build}")
[ -n "${OLD_BUILD_DIR:-}" ] && BUILDS+=("$OLD_BUILD_DIR")
SIZES=${SIZES:-"1 100000"}
K=${K:-100}
ROUNDS=${ROUNDS:-3}
if [ "$(id -u)" -ne 0 ]; then echo "bench/flow_commit.sh: must run as root" >&2; exit 1; fi

P=fc$$
VBR=${P}b
WORK=$(mktemp -d /tmp/vsflowcommit.XXXXXX)
VSPID=""
cleanup() { vs_stop; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

stats() {  # ms values on stdin -> "median p90"
  sort -g | awk '{ v[NR] = $1 } END { if (!NR) exit; m = (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2);
    p = v[int(NR * 0.9 + 0.5)]; printf "%.2f %.2f", m, p }'
}
time_ms() {  # run "$@" once; print its wall time in ms
  local t0 t1
  t0=$(date +%s%N); "$@" >/dev/null || log "failed: $*"; t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e6 }'
}

printf '%-28s %8s %5s | %-17s | %-17s | %s\n' build rules round "add-flow med p90" "anchor med p90" "ratio"
for round in $(seq "$ROUNDS"); do
  for n in $SIZES; do
    for BUILD_DIR in "${BUILDS[@]}"; do
      VSD=$WORK/vs; rm -rf "$VSD"; mkdir -p "$VSD"
      VS=("$BUILD_DIR/utilities/vsctl" --socket "$VSD/sock")
      OFCTL=("$BUILD_DIR/utilities/vsofctl" --socket "$VSD/sock")
      vs_start || exit 1
      gen_flows "$n" > "$WORK/rules"
      "${OFCTL[@]}" add-flows "$VBR" "$WORK/rules" || { log "add-flows failed"; exit 1; }
      add=$(for i in $(seq "$K"); do time_ms "${OFCTL[@]}" add-flow "$VBR" "priority=2000,udp,tp_dst=$i,actions=drop"; done | stats)
      anchor=$(for i in $(seq "$K"); do time_ms "${OFCTL[@]}" dump-tables "$VBR"; done | stats)
      vs_stop
      printf '%-28s %8s %5s | %-17s | %-17s | %s\n' "$(basename "$(dirname "$BUILD_DIR")")/$(basename "$BUILD_DIR")" \
        "$n" "$round" "$add" "$anchor" "$(ratio "${add%% *}" "${anchor%% *}")"
    done
  done
done
