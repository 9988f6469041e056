#!/usr/bin/env bash
# Scale benchmarks (docs/benchmarks.md, "Scale"): many ports, many rules, an idle daemon; one run,
# ratios to Open vSwitch.
#
#   sudo bench/scale.sh                       # N=1000 ports, RULES=100000, REPS=3 rounds of DUR=5 s
#   sudo N=200 RULES=10000 REPS=1 DUR=3 bench/scale.sh
#
# vswitch (a private vswitchd, ports in the root namespace):
#  1. 64-byte forwarding h1 -> h2 (trafgen, as bench/run.sh) with the two measurement ports alone;
#  2. N veth pairs created, then their root ends added one `vsctl add-port` call each (timed, as
#     ../shared/bench/ports.sh does);
#  3. 64-byte forwarding again with N + 2 ports on the bridge;
#  3b. the same while a scraper fetches the Prometheus endpoint (--metrics) every SCRAPE_S seconds
#     (SCRAPE=0 skips it; issue #18: "the scrape must not slow forwarding");
#  4. CPU used by the idle daemon with N + 2 ports over IDLE seconds (no traffic), % of one core;
#  5. RULES rules (gen-flows.py's) added with one `vsofctl add-flows`; resident size (VmRSS).
# Open vSwitch (a private userspace instance, datapath_type=netdev, in its own namespace with its
# own N veth pairs): the same N add-port calls with ovs-vsctl, the same rules with ovs-ofctl
# add-flows, then ovs-vswitchd + ovsdb-server resident size.
# Names: namespaces/links vk<pid>*; everything created is removed on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
N=${N:-1000}
RULES=${RULES:-100000}
REPS=${REPS:-3}
DUR=${DUR:-5}
IDLE=${IDLE:-10}
SCRAPE=${SCRAPE:-1}
SCRAPE_S=${SCRAPE_S:-1}
METRICS_PORT=${METRICS_PORT:-$((20000 + $$ % 20000))}
[ "$SCRAPE" = 1 ] && VS_EXTRA_ARGS="--metrics 127.0.0.1:$METRICS_PORT"
SYSTEMS=${SYSTEMS:-"vswitch ovs"}
T=$((DUR + 15))

if [ "$(id -u)" -ne 0 ]; then echo "bench/scale.sh: must run as root" >&2; exit 1; fi
for b in vswitchd/vswitchd utilities/vsctl utilities/vsofctl; do
  [ -x "$BUILD_DIR/$b" ] || { echo "bench/scale.sh: $BUILD_DIR/$b missing (build first, or set BUILD_DIR)" >&2; exit 1; }
done
for t in trafgen /usr/bin/python3 bc; do
  command -v $t >/dev/null || { echo "bench/scale.sh: $t missing (run scripts/setup.sh)" >&2; exit 1; }
done

P=vk$$
H1=${P}h1; H2=${P}h2; S1=${P}s1; S2=${P}s2; ONS=${P}o
VBR=${P}vb; OBR=obr0
WORK=$(mktemp -d /tmp/vsscale.XXXXXX)
VSD=$WORK/vs; OVSD=$WORK/ovs
mkdir -p "$VSD" "$OVSD"
VSPID=""
VS=("$BUILD_DIR/utilities/vsctl" --socket "$VSD/sock")
OFCTL=("$BUILD_DIR/utilities/vsofctl" --socket "$VSD/sock")
declare -A R

# ---------------------------------------------------------------------------------------------
veths() { # add|del [netns]: the N scale veth pairs <P>p<i> / <P>q<i>, in one ip -batch
  local i ns=()
  [ -n "${2:-}" ] && ns=(-n "$2")
  for i in $(seq "$N"); do
    if [ "$1" = add ]; then
      echo "link add ${P}p$i type veth peer name ${P}q$i"; echo "link set ${P}p$i up"
    else
      echo "link del ${P}p$i"
    fi
  done | ip "${ns[@]}" -force -batch - 2>/dev/null
  true
}

pps_rounds() { # key: REPS rounds of measure_pps into R[key.off] / R[key.del]
  local rep pps
  for rep in $(seq "$REPS"); do
    pps=$(measure_pps "$H1" "$H2" "$WORK")
    R[$1.off]+=" ${pps% *}"; R[$1.del]+=" ${pps#* }"
    log "   round $rep: offered/delivered ${pps// //} kpps"
  done
  R[$1.off]=$(median ${R[$1.off]}); R[$1.del]=$(median ${R[$1.del]})
}

scrape_rounds() { # forwarding rounds while /metrics is fetched every SCRAPE_S s: R[vs.ppsS.*], R[scrape.*]
  /usr/bin/python3 - "$METRICS_PORT" "$SCRAPE_S" "$WORK/scrape.out" <<'PY' &
import sys, time, urllib.request
url, every, out = f"http://127.0.0.1:{sys.argv[1]}/metrics", float(sys.argv[2]), sys.argv[3]
n, total, worst, size = 0, 0.0, 0.0, 0
while True:
    t0 = time.perf_counter()
    try:
        size = len(urllib.request.urlopen(url, timeout=10).read())
    except OSError as e:
        open(out, "w").write(f"error {e}\n")
        break
    dt = time.perf_counter() - t0
    n, total, worst = n + 1, total + dt, max(worst, dt)
    open(out, "w").write(f"{n} {1000 * total / n:.1f} {1000 * worst:.1f} {size}\n")
    time.sleep(max(0.0, every - dt))
PY
  local scraper=$!
  sleep 1
  pps_rounds vs.ppsS
  kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null
  read -r R[scrape.n] R[scrape.avg] R[scrape.max] R[scrape.bytes] <"$WORK/scrape.out" 2>/dev/null
  log "   scrapes: ${R[scrape.n]:-none} (avg ${R[scrape.avg]:--} ms, max ${R[scrape.max]:--} ms, ${R[scrape.bytes]:--} bytes)"
}

add_ports() { # label cmd...: N add-port calls, one port per call; prints seconds
  local label=$1 i t0 t1 fails=0
  shift
  t0=$(now)
  for i in $(seq "$N"); do "$@" "${P}p$i" >/dev/null 2>&1 || fails=$((fails + 1)); done
  t1=$(now)
  [ $fails -gt 0 ] && log "   $label: $fails add-port calls failed"
  elapsed "$t0" "$t1"
}

run_vswitch() {
  log "== vswitch: 2 ports, then $N more"
  topo_up || { log "topology failed"; return 1; }
  vs_start || return 1
  "${VS[@]}" add-port "$VBR" "$S1" -- add-port "$VBR" "$S2" || return 1
  ip netns exec "$H1" ping -c 3 -i 0.2 -w 10 10.231.0.2 >/dev/null 2>&1 || log "   no connectivity h1 -> h2"
  pps_rounds vs.pps2
  veths add
  R[vs.addport]=$(add_ports vsctl "${VS[@]}" add-port "$VBR")
  R[vs.ports]=$("${VS[@]}" list-ports "$VBR" | wc -l)
  log "   $N add-port calls: ${R[vs.addport]} s ($((R[vs.ports])) ports on the bridge)"
  sleep 2
  pps_rounds vs.ppsN
  [ "$SCRAPE" = 1 ] && scrape_rounds
  local c0 c1
  c0=$(cpu_ticks "$VSPID"); sleep "$IDLE"; c1=$(cpu_ticks "$VSPID")
  R[vs.idle]=$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v s="$IDLE" \
    'BEGIN { printf "%.2f", 100 * (b - a) / hz / s }')
  log "   idle with $((R[vs.ports])) ports: ${R[vs.idle]}% of one core over ${IDLE}s"
  gen_flows "$RULES" >"$WORK/flows.txt"
  "${OFCTL[@]}" add-flows "$VBR" "$WORK/flows.txt" || log "   vsofctl add-flows failed"
  sleep 2
  R[vs.rss]=$(rss_mb "$VSPID")
  log "   RSS with $((R[vs.ports])) ports and $RULES rules: ${R[vs.rss]} MB"
  vs_stop
  veths del
  topo_down
}

run_ovs() {
  command -v ovs-vswitchd >/dev/null || { log "ovs: openvswitch-switch not installed; no anchor"; return 1; }
  log "== Open vSwitch (userspace datapath): $N ports"
  ovs_start || { log "ovs: start failed: $(tail -3 "$OVSD/vswitchd.log" 2>/dev/null)"; ovs_stop; return 1; }
  veths add "$ONS"
  R[ovs.addport]=$(add_ports ovs-vsctl o ovs-vsctl --db=unix:"$OVSD/db.sock" --timeout=60 add-port "$OBR")
  R[ovs.ports]=$(o ovs-vsctl --db=unix:"$OVSD/db.sock" list-ports "$OBR" | wc -l)
  log "   $N add-port calls: ${R[ovs.addport]} s ($((R[ovs.ports])) ports on the bridge)"
  gen_flows "$RULES" >"$WORK/flows.txt"
  o ovs-ofctl add-flows "$OBR" "$WORK/flows.txt" || log "   ovs-ofctl add-flows failed"
  sleep 2
  R[ovs.rss_vswitchd]=$(rss_mb "$(ovs_pid vswitchd)"); R[ovs.rss_ovsdb]=$(rss_mb "$(ovs_pid ovsdb)")
  R[ovs.rss]=$(add_mb "${R[ovs.rss_vswitchd]}" "${R[ovs.rss_ovsdb]}")
  log "   RSS with $N ports and $RULES rules: ${R[ovs.rss]} MB (ovs-vswitchd ${R[ovs.rss_vswitchd]} + ovsdb-server ${R[ovs.rss_ovsdb]})"
  ovs_stop   # the namespace takes its veths with it
}

cleanup() {
  trap - EXIT INT TERM
  vs_stop; veths del; ovs_stop >/dev/null 2>&1; topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
log "scale bench: N=$N RULES=$RULES REPS=$REPS DUR=${DUR}s IDLE=${IDLE}s ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for sys in $SYSTEMS; do
  case $sys in vswitch|ovs) "run_$sys" ;; *) log "unknown system $sys" ;; esac
done

echo
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && rev="$rev+changes"
echo "vswitch scale benchmark, $(date -u +%Y-%m-%dT%H:%MZ), commit $rev, N=$N, RULES=$RULES, forwarding DUR=${DUR}s median of $REPS, $(nproc) cores, kernel $(uname -r)"
printf '%-48s %10s %10s   %s\n' metric vswitch ovs "ratio (target)"
printf '%-48s %10s %10s   %s\n' "$N add-port calls, one port each, s" "${R[vs.addport]:--}" "${R[ovs.addport]:--}" \
  "vswitch/ovs = $(ratio "${R[vs.addport]:-}" "${R[ovs.addport]:-}") (<= 0.10)"
printf '%-48s %10s %10s   %s\n' "64B delivered, 2 ports, kpps (offered)" "${R[vs.pps2.del]:--}" "" "(offered ${R[vs.pps2.off]:--})"
printf '%-48s %10s %10s   %s\n' "64B delivered, $((N + 2)) ports, kpps (offered)" "${R[vs.ppsN.del]:--}" "" \
  "$(ratio "${R[vs.ppsN.del]:-}" "${R[vs.pps2.del]:-}") of 2 ports (>= 0.90; offered ${R[vs.ppsN.off]:--})"
printf '%-48s %10s %10s   %s\n' "64B delivered, $((N + 2)) ports, scraped, kpps" "${R[vs.ppsS.del]:--}" "" \
  "$(ratio "${R[vs.ppsS.del]:-}" "${R[vs.ppsN.del]:-}") of unscraped (>= 0.95; /metrics every ${SCRAPE_S}s: avg ${R[scrape.avg]:--} ms, max ${R[scrape.max]:--} ms, ${R[scrape.bytes]:--} bytes)"
printf '%-48s %10s %10s   %s\n' "idle CPU, $((N + 2)) ports, % of one core" "${R[vs.idle]:--}" "" "(< 1)"
printf '%-48s %10s %10s   %s\n' "RSS, $N ports + $RULES rules, MB" "${R[vs.rss]:--}" "${R[ovs.rss]:--}" \
  "vswitch/ovs = $(ratio "${R[vs.rss]:-}" "${R[ovs.rss]:-}") (<= 1; ovs = ovs-vswitchd ${R[ovs.rss_vswitchd]:--} + ovsdb-server ${R[ovs.rss_ovsdb]:--})"
