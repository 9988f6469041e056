#!/usr/bin/env bash
# OVSDB benchmark (docs/benchmarks.md, "OVSDB"; issue #16): what Debian's own ovs-vsctl and an
# OVSDB monitor see, against our vswitchd and against Open vSwitch's ovsdb-server + ovs-vswitchd,
# in one run.
#
#   sudo bench/ovsdb.sh                          # N=1000 add-port calls, PROBES=200 monitor probes
#   sudo N=300 PROBES=100 bench/ovsdb.sh
#   sudo OLD_BUILD_DIR=/path/to/old/build bench/ovsdb.sh   # also an older vswitchd (before/after)
#
# For each system, in a private namespace with N veth pairs of its own:
#  1. N one-port `ovs-vsctl --db=unix:SOCK add-port BR PORT` calls (Debian's ovs-vsctl, which waits
#     until the switch has applied each change: cur_cfg catches up with next_cfg), timed in fifths
#     so the growth with the number of ports shows;
#  2. monitor notification latency: one client monitors Bridge external_ids, another sets a new
#     value PROBES times; the time from the transact's send to the update's arrival (p50/p99/max).
# Names: namespaces/links vo<pid>*; everything created is removed on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
OLD_BUILD_DIR=${OLD_BUILD_DIR:-}
N=${N:-1000}
PROBES=${PROBES:-200}
SYSTEMS=${SYSTEMS:-"vswitch ovs"}
[ -n "$OLD_BUILD_DIR" ] && SYSTEMS="old $SYSTEMS"

if [ "$(id -u)" -ne 0 ]; then echo "bench/ovsdb.sh: must run as root" >&2; exit 1; fi
for t in ovs-vsctl /usr/bin/python3; do
  command -v $t >/dev/null || { echo "bench/ovsdb.sh: $t missing (run scripts/setup.sh)" >&2; exit 1; }
done

P=vo$$
ONS=${P}o; VNS=${P}v; OBR=obr0; VBR=vbr0
WORK=$(mktemp -d /tmp/vsovsdb.XXXXXX)
OVSD=$WORK/ovs; VSD=$WORK/vs
mkdir -p "$OVSD" "$VSD"
VSPID=""
declare -A R

veths() { # NS: the N veth pairs <P>p<i> / <P>q<i> in NS, in one ip -batch
  local i
  for i in $(seq "$N"); do echo "link add ${P}p$i type veth peer name ${P}q$i"; echo "link set ${P}p$i up"; done |
    ip -n "$1" -force -batch - 2>/dev/null
  true
}

add_ports() { # key db: N add-port calls through Debian's ovs-vsctl; R[key.addport], R[key.fifths]
  local key=$1 db=$2 i t0 tf t1 fails=0 fifths=""
  t0=$(now); tf=$t0
  for i in $(seq "$N"); do
    ovs-vsctl --db=unix:"$db" --timeout=60 add-port "$3" "${P}p$i" >/dev/null 2>&1 || fails=$((fails + 1))
    if [ $((i % (N / 5 > 0 ? N / 5 : 1))) = 0 ]; then t1=$(now); fifths+=" $(elapsed "$tf" "$t1")"; tf=$t1; fi
  done
  t1=$(now)
  R[$key.addport]=$(elapsed "$t0" "$t1"); fifths=${fifths# }; R[$key.fifths]=${fifths// //}
  R[$key.ports]=$(ovs-vsctl --db=unix:"$db" list-ports "$3" | wc -l)
  [ $fails -gt 0 ] && log "   $key: $fails add-port calls failed"
  log "   $N add-port calls: ${R[$key.addport]} s (fifths: ${R[$key.fifths]} s; ${R[$key.ports]} ports on the bridge)"
}

monitor_latency() { # key db bridge: R[key.mon] = "p50 p99 max" in ms
  R[$1.mon]=$(/usr/bin/python3 - "$2" "$3" "$PROBES" <<'PY'
import json, socket, sys, time
path, bridge, probes = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Conn:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX); self.s.connect(path); self.buf = b""; self.dec = json.JSONDecoder()
    def send(self, m): self.s.sendall(json.dumps(m).encode())
    def recv(self):
        while True:
            t = self.buf.decode(errors="replace").lstrip()
            if t:
                try:
                    m, end = self.dec.raw_decode(t); self.buf = t[end:].encode(); return m
                except ValueError:
                    pass
            self.buf += self.s.recv(65536)

watcher, writer = Conn(), Conn()
watcher.send({"method": "monitor", "id": 1, "params": ["Open_vSwitch", None, {"Bridge": {"columns": ["name", "external_ids"]}}]})
while watcher.recv().get("id") != 1: pass
lat = []
for i in range(probes):
    want = f"probe{i}"
    t0 = time.perf_counter()
    writer.send({"method": "transact", "id": 100 + i, "params": ["Open_vSwitch", {"op": "update", "table": "Bridge",
                 "where": [["name", "==", bridge]], "row": {"external_ids": ["map", [["bench", want]]]}}]})
    while True:
        m = watcher.recv()
        if m.get("method") == "echo": watcher.send({"id": m["id"], "result": m["params"], "error": None}); continue
        if m.get("method") == "update" and want in json.dumps(m["params"]): break
    lat.append(1000 * (time.perf_counter() - t0))
    while writer.recv().get("id") != 100 + i: pass
lat.sort()
print(f"{lat[len(lat) // 2]:.2f} {lat[min(len(lat) - 1, int(0.99 * len(lat)))]:.2f} {lat[-1]:.2f}")
PY
)
  log "   monitor notification latency, ms (p50 p99 max): ${R[$1.mon]:-failed}"
}

vs_run() { # key build_dir
  local key=$1 build=$2
  log "== $key: vswitchd from $build"
  ip netns add "$VNS" || return 1
  rm -rf "$VSD"; mkdir -p "$VSD"
  veths "$VNS"
  ip netns exec "$VNS" "$build/vswitchd/vswitchd" --config "$VSD/conf.json" --socket "$VSD/sock" \
    --remote punix:"$VSD/db.sock" --log-file "$VSD/vswitchd.log" --log-level warn >"$VSD/out" 2>&1 </dev/null &
  VSPID=$!
  for _ in $(seq 100); do [ -S "$VSD/db.sock" ] && break; sleep 0.1; done
  ovs-vsctl --db=unix:"$VSD/db.sock" --timeout=20 add-br "$VBR" || { log "   add-br failed: $(tail -3 "$VSD/out")"; vs_down; return 1; }
  add_ports "$key" "$VSD/db.sock" "$VBR"
  monitor_latency "$key" "$VSD/db.sock" "$VBR"
  vs_down
}

vs_down() {
  [ -n "$VSPID" ] && { kill "$VSPID" 2>/dev/null; wait "$VSPID" 2>/dev/null; }
  VSPID=""
  ip netns del "$VNS" 2>/dev/null
  true
}

ovs_run() {
  command -v ovs-vswitchd >/dev/null || { log "ovs: openvswitch-switch not installed; no anchor"; return 1; }
  log "== Open vSwitch: ovsdb-server + ovs-vswitchd (userspace datapath)"
  rm -rf "$OVSD"; mkdir -p "$OVSD"
  ovs_start || { log "ovs: start failed: $(tail -3 "$OVSD/vswitchd.log" 2>/dev/null)"; ovs_stop; return 1; }
  veths "$ONS"
  add_ports ovs "$OVSD/db.sock" "$OBR"
  monitor_latency ovs "$OVSD/db.sock" "$OBR"
  ovs_stop
}

cleanup() {
  trap - EXIT INT TERM
  vs_down; ovs_stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "ovsdb bench: N=$N PROBES=$PROBES ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for sys in $SYSTEMS; do
  case $sys in
    vswitch) vs_run vs "$BUILD_DIR" ;;
    old) vs_run old "$OLD_BUILD_DIR" ;;
    ovs) ovs_run ;;
    *) log "unknown system $sys" ;;
  esac
done

echo
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && rev="$rev+changes"
echo "vswitch OVSDB benchmark, $(date -u +%Y-%m-%dT%H:%MZ), commit $rev, N=$N, PROBES=$PROBES, $(nproc) cores, kernel $(uname -r)"
printf '%-44s %10s %10s %10s   %s\n' metric vswitch ovs old "ratio (target)"
printf '%-44s %10s %10s %10s   %s\n' "$N ovs-vsctl add-port calls, s" "${R[vs.addport]:--}" "${R[ovs.addport]:--}" \
  "${R[old.addport]:--}" "vswitch/ovs = $(ratio "${R[vs.addport]:-}" "${R[ovs.addport]:-}") (<= 0.2)"
printf '%-44s %10s %10s %10s\n' "  by fifths, s" "${R[vs.fifths]:--}" "${R[ovs.fifths]:--}" "${R[old.fifths]:--}"
printf '%-44s %10s %10s %10s\n' "monitor latency p50/p99/max, ms" "${R[vs.mon]:--}" "${R[ovs.mon]:--}" "${R[old.mon]:--}"
