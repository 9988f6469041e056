#!/usr/bin/env bash
# Flow-table benchmarks (docs/benchmarks.md, "Flow tables"): one run, ratios to Open vSwitch.
#
#   sudo bench/flows.sh                      # REPS=3 installs, PPS_REPS=2 rounds of DUR=5 s
#   sudo REPS=1 PPS_REPS=1 DUR=3 bench/flows.sh
#
# 1. Install time: 100,000 rules from a file (the rules of ../shared/bench/gen-flows.py: distinct
#    TCP drops over 10.x.y.z sources, 1,000 priorities), `ovs-ofctl add-flows` into an Open
#    vSwitch userspace bridge (datapath_type=netdev; a private instance with its own database,
#    sockets and OVS_RUNDIR, in its own network namespace so that it cannot clash with another
#    userspace Open vSwitch) vs `vsofctl add-flows` into a vswitchd bridge (a private instance;
#    its add-flows also persists the rules to disk). Each round starts from the NORMAL rule
#    alone; median of REPS rounds, the two switches taking turns to go first.
# 2. Resident memory (VmRSS) with the bridge alone and with the 100,000 rules (after the first
#    install): vswitchd vs ovs-vswitchd + ovsdb-server.
# 3. 64-byte forwarding rate through vswitchd with 1, 1,000 and 100,000 generated rules plus the
#    NORMAL rule. The generated rules are TCP and the traffic is UDP, so no generated rule matches:
#    the classifier is searched (on each upcall) and the frames are forwarded by NORMAL. trafgen
#    blasts 60-byte frames from h1 as bench/run.sh does (offered = h1 eth0 tx, delivered = h2 eth0
#    rx, kpps); median of PPS_REPS rounds, the rule counts in a rotating order.
#
# Topology for 3 (as bench/run.sh): namespaces vf<pid>h1 (10.231.0.1) and vf<pid>h2 (10.231.0.2),
# each with eth0 whose veth peer (vf<pid>s1, vf<pid>s2) is a port of the vswitchd bridge. All
# traffic stays between these namespaces; everything created is removed on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DUR=${DUR:-5}
REPS=${REPS:-3}
PPS_REPS=${PPS_REPS:-2}
N_INSTALL=${N_INSTALL:-100000}
PPS_RULES=${PPS_RULES:-"1 1000 100000"}

if [ "$(id -u)" -ne 0 ]; then echo "bench/flows.sh: must run as root" >&2; exit 1; fi
for b in vswitchd/vswitchd utilities/vsctl utilities/vsofctl utilities/vsappctl; do
  [ -x "$BUILD_DIR/$b" ] || { echo "bench/flows.sh: $BUILD_DIR/$b missing (build first, or set BUILD_DIR)" >&2; exit 1; }
done
for t in trafgen ethtool /usr/bin/python3; do
  command -v $t >/dev/null || { echo "bench/flows.sh: $t missing (run scripts/setup.sh)" >&2; exit 1; }
done
HAVE_OVS=1
for t in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl; do command -v $t >/dev/null || HAVE_OVS=0; done

P=vf$$
H1=${P}h1; H2=${P}h2; S1=${P}s1; S2=${P}s2; ONS=${P}o
VBR=${P}vb; OBR=obr0
WORK=$(mktemp -d /tmp/vsflows.XXXXXX)
VSD=$WORK/vs; OVSD=$WORK/ovs
mkdir -p "$VSD" "$OVSD"
VSPID=""
VS=("$BUILD_DIR/utilities/vsctl" --socket "$VSD/sock")
OFCTL=("$BUILD_DIR/utilities/vsofctl" --socket "$VSD/sock")
APPCTL=("$BUILD_DIR/utilities/vsappctl" --socket "$VSD/sock")
declare -A R


# ---------------------------------------------------------------------------------------------
vs_rules() { "${OFCTL[@]}" dump-tables "$VBR" | awk -F'active=' '/active=/ { split($2, a, ","); n += a[1] } END { print n + 0 }'; }

vs_reset() { "${OFCTL[@]}" del-flows "$VBR" && "${OFCTL[@]}" add-flow "$VBR" "priority=0,actions=NORMAL"; }

ovs_rules() { o ovs-ofctl dump-aggregate "$OBR" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'; }

ovs_reset() { o ovs-ofctl del-flows "$OBR" && o ovs-ofctl add-flow "$OBR" "priority=0,actions=NORMAL"; }

# ---------------------------------------------------------------------------------------------
upcalls() { "${APPCTL[@]}" --format=json dpif/show | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["lookups"]["missed"])'; }

cleanup() {
  trap - EXIT INT TERM
  vs_stop; ovs_stop >/dev/null 2>&1; topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
log "flow-table bench: N_INSTALL=$N_INSTALL REPS=$REPS, forwarding DUR=${DUR}s PPS_REPS=$PPS_REPS rules='$PPS_RULES' ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for n in $N_INSTALL $PPS_RULES; do [ -f "$WORK/flows-$n.txt" ] || gen_flows "$n" >"$WORK/flows-$n.txt"; done

vs_start || exit 1
if [ $HAVE_OVS = 1 ]; then
  if ! ovs_start; then log "ovs: start failed: $(tail -3 "$OVSD/vswitchd.log" 2>/dev/null)"; ovs_stop; HAVE_OVS=0; fi
else
  log "ovs: openvswitch-switch not installed; no OVS anchor"
fi
sleep 1
R[vs.rss0]=$(rss_mb "$VSPID")
if [ $HAVE_OVS = 1 ]; then
  R[ovs.rss0_vswitchd]=$(rss_mb "$(ovs_pid vswitchd)"); R[ovs.rss0_ovsdb]=$(rss_mb "$(ovs_pid ovsdb)")
fi

# -- 1 + 2: install time and memory -------------------------------------------------------------
F=$WORK/flows-$N_INSTALL.txt
vs_t=(); ovs_t=()
for rep in $(seq "$REPS"); do
  order="vs ovs"; [ $((rep % 2)) = 0 ] && order="ovs vs"
  for sys in $order; do
    if [ "$sys" = vs ]; then
      vs_reset || exit 1
      t0=$(now); "${OFCTL[@]}" add-flows "$VBR" "$F" || { log "vsofctl add-flows failed"; exit 1; }; t1=$(now)
      n=$(vs_rules); t=$(elapsed "$t0" "$t1"); vs_t+=("$t")
      log "   round $rep: vsofctl add-flows $N_INSTALL rules: ${t}s ($n rules in the bridge)"
      [ "$rep" = 1 ] && R[vs.rss1]=$(rss_mb "$VSPID")
    elif [ $HAVE_OVS = 1 ]; then
      ovs_reset || exit 1
      t0=$(now); o ovs-ofctl add-flows "$OBR" "$F" || { log "ovs-ofctl add-flows failed"; exit 1; }; t1=$(now)
      n=$(ovs_rules); t=$(elapsed "$t0" "$t1"); ovs_t+=("$t")
      log "   round $rep: ovs-ofctl add-flows $N_INSTALL rules: ${t}s ($n rules in the bridge)"
      if [ "$rep" = 1 ]; then
        R[ovs.rss1_vswitchd]=$(rss_mb "$(ovs_pid vswitchd)"); R[ovs.rss1_ovsdb]=$(rss_mb "$(ovs_pid ovsdb)")
      fi
    fi
  done
done
R[vs.install]=$(median "${vs_t[@]}")
[ ${#ovs_t[@]} -gt 0 ] && R[ovs.install]=$(median "${ovs_t[@]}")
R[ovs.rss0]=$(add_mb "${R[ovs.rss0_vswitchd]:-}" "${R[ovs.rss0_ovsdb]:-}")
R[ovs.rss1]=$(add_mb "${R[ovs.rss1_vswitchd]:-}" "${R[ovs.rss1_ovsdb]:-}")
ovs_stop

# -- 3: forwarding with N rules -----------------------------------------------------------------
topo_up || { log "topology failed"; exit 1; }
"${VS[@]}" add-port "$VBR" "$S1" -- add-port "$VBR" "$S2" || exit 1
ip netns exec "$H1" ping -c 3 -i 0.2 -w 10 10.231.0.2 >/dev/null 2>&1 || log "   no connectivity h1 -> h2 (measuring anyway)"
set -- $PPS_RULES
for rep in $(seq "$PPS_REPS"); do
  for n in "$@"; do
    vs_reset && "${OFCTL[@]}" add-flows "$VBR" "$WORK/flows-$n.txt" || { log "installing $n rules failed"; exit 1; }
    have=$(vs_rules)
    sleep 1
    u0=$(upcalls)
    pps=$(measure_pps "$H1" "$H2" "$WORK")
    u1=$(upcalls)
    R[pps.$n.off]+=" ${pps% *}"; R[pps.$n.del]+=" ${pps#* }"
    log "   round $rep: $have rules: offered/delivered ${pps// //} kpps, upcalls $((u1 - u0))"
    [ "$n" = "$N_INSTALL" ] && R[vs.rss_fwd]=$(rss_mb "$VSPID")
  done
  set -- "${@:2}" "$1"   # rotate the order for the next round
done

# ---------------------------------------------------------------------------------------------
echo
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && rev="$rev+changes"
echo "vswitch flow-table benchmark, $(date -u +%Y-%m-%dT%H:%MZ), commit $rev, $(nproc) cores, kernel $(uname -r)"
echo "install: $N_INSTALL gen-flows rules from a file, median of $REPS; forwarding: DUR=${DUR}s, median of $PPS_REPS"
printf '%-44s %10s %10s   %s\n' metric vswitch ovs "ratio"
printf '%-44s %10s %10s   %s\n' "install $N_INSTALL rules, s (lower=better)" "${R[vs.install]:--}" "${R[ovs.install]:--}" \
  "ovs/vswitch = $(ratio "${R[ovs.install]:-}" "${R[vs.install]:-}")x faster (target >= 5)"
printf '%-44s %10s %10s   %s\n' "RSS, bridge + NORMAL rule, MB" "${R[vs.rss0]:--}" "${R[ovs.rss0]:--}" \
  "vswitch/ovs = $(ratio "${R[vs.rss0]:-}" "${R[ovs.rss0]:-}")"
printf '%-44s %10s %10s   %s\n' "RSS, $N_INSTALL rules, MB" "${R[vs.rss1]:--}" "${R[ovs.rss1]:--}" \
  "vswitch/ovs = $(ratio "${R[vs.rss1]:-}" "${R[ovs.rss1]:-}")"
echo "  (ovs = ovs-vswitchd + ovsdb-server: ${R[ovs.rss1_vswitchd]:--} + ${R[ovs.rss1_ovsdb]:--} MB with the rules;" \
     "vswitchd with the rules, 2 ports and after forwarding: ${R[vs.rss_fwd]:--} MB)"
echo
printf '%-44s %10s %10s   %s\n' "64B forwarding through vswitchd" offered delivered "delivered / delivered with 1 rule"
base=""
for n in $PPS_RULES; do
  off=$(median ${R[pps.$n.off]}); del=$(median ${R[pps.$n.del]})
  [ -z "$base" ] && base=$del
  printf '%-44s %10s %10s   %s\n' "$n generated rules + NORMAL, kpps" "$off" "$del" \
    "$(ratio "$del" "$base")$([ "$n" = 100000 ] && echo " (target >= 0.90)")"
done
