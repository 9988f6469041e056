#!/usr/bin/env bash
# The switch's own capacity and cost (issue #20, items 2, 3 and 5; docs/benchmarks.md, "Sink mode").
#
#   sudo bench/sink.sh                                   # REPEAT=3 rounds of DUR=5 s, everything
#   sudo DUR=2 REPEAT=1 SYSTEMS="bridge vs1" TESTS=sink bench/sink.sh
#
# Topology as bench/run.sh (hosts <P>h1 10.231.0.1, <P>h2 10.231.0.2; <P> = vz<pid>), but h2 is a
# sink: once both MACs are learned (one ping each way), a tc `matchall` filter with action `drop`
# on h2 eth0's ingress (clsact) drops every frame at the start of h2's receive path, so h2's
# IP/UDP input and its ICMP replies no longer bound the rate: what is measured is what the switch
# forwards. Delivered = the packets that drop action counted (`tc -s`); offered = h1 eth0 tx.
# Systems (SYSTEMS, each once per round, in a rotating order):
#   bridge - Linux bridge
#   ovs    - Open vSwitch userspace datapath (datapath_type=netdev), a private instance in its own
#            namespace <P>o that holds the two switch-side veth ends
#   vs1    - this project's vswitchd with --poll-threads 1
#   vs     - vswitchd with its defaults (2 poll threads on 2 cores)
#   (VSWITCHD_ARGS adds options to both vs systems; OLD_BUILD_DIR adds "old", the default
#    vswitchd of another build, for before/after comparisons in one run)
# Tests (TESTS):
#   sink  - trafgen blasts 60-byte UDP frames (64 on a wire) h1 -> h2 for DUR s on one CPU.
#   churn - the same frames sent in 1-second trafgen runs, each from CHURN_MACS source MACs
#           (eth saddr dinc): "static" keeps the same MACs every second, "macs" uses new ones
#           every second, "rules" keeps them and adds RULES_PER_S rules (gen-flows shape, TCP,
#           never matching the UDP frames) and deletes the previous second's batch with one
#           non-strict del-flows, every second, with the switch's own tool (vsofctl /
#           ovs-ofctl); the bridge has no flow table and takes the MAC churn only. Each figure
#           is a ratio to "static" of the same system and round.
#   tcp   - iperf3, 1 stream, DUR s, offloads off (mode "off", Open vSwitch's userspace datapath
#           breaks TCP with offloads on) and on (TCP_MODES).
# CPU cost per frame, measured over each sink and tcp measurement (perf's hardware cycle counter
# is not available in a VM without a PMU; these are CPU times):
#   sw ns  - the switch's threads: sum of /proc/PID/task/*/schedstat run time (ns) of vswitchd or
#            ovs-vswitchd (it includes kernel work done in their system calls, e.g. the transmit
#            into the veth); for the bridge, the machine's softirq time (/proc/stat), where the
#            bridge runs;
#   sirq ns - the machine's softirq time (/proc/stat, tick-sampled: 10 ms resolution);
#   all ns  - every CPU's busy time (/proc/stat: total - idle - iowait), generator included.
# each divided by the frames delivered (sink) or by h2 eth0's received packets (tcp; with
# offloads on one packet is a GRO/TSO aggregate, so compare tcp [on] per Gbit instead).
# Every figure: min/median/max over REPEAT rounds. All traffic stays between the namespaces
# this script creates; everything is removed on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DUR=${DUR:-5}
REPEAT=${REPEAT:-3}
SYSTEMS=${SYSTEMS:-"direct bridge ovs vs1 vs"}
[ -n "${OLD_BUILD_DIR:-}" ] && SYSTEMS="$SYSTEMS old"
TESTS=${TESTS:-"sink churn tcp"}
TCP_MODES=${TCP_MODES:-"off on"}
CHURN_MACS=${CHURN_MACS:-10000}
RULES_PER_S=${RULES_PER_S:-1000}
MAC_TABLE=${MAC_TABLE:-20000}   # mac-table-size of both switches: CHURN_MACS fit, "static" stays static
VSWITCHD_ARGS=${VSWITCHD_ARGS:-}
T=$((DUR + 15))
HZ=$(getconf CLK_TCK)

if [ "$(id -u)" -ne 0 ]; then echo "bench/sink.sh: must run as root" >&2; exit 1; fi
for b in vswitchd/vswitchd utilities/vsctl utilities/vsofctl; do
  [ -x "$BUILD_DIR/$b" ] || { echo "bench/sink.sh: $BUILD_DIR/$b missing (build first, or set BUILD_DIR)" >&2; exit 1; }
done
for t in trafgen iperf3 tc ethtool /usr/bin/python3; do
  command -v $t >/dev/null || { echo "bench/sink.sh: $t missing (run scripts/setup.sh)" >&2; exit 1; }
done

P=vz$$
H1=${P}h1; H2=${P}h2; S1=${P}s1; S2=${P}s2; ONS=${P}o
LBR=${P}lb; VBR=${P}vb; OBR=${P}ob
WORK=$(mktemp -d /tmp/vssink.XXXXXX)
VSD=$WORK/vs; OVSD=$WORK/ovs
VSPID=""
CHURN_PID=""    # the background rule-churn loop, while it runs
CHURN_EPOCH=1   # the second byte of the churn's source MACs, one more every second of MAC churn
SW_PID=""       # the process whose threads are "the switch" (empty: the bridge, softirq)
declare -A R
n1() { ip netns exec "$H1" "$@"; }
n2() { ip netns exec "$H2" "$@"; }

. "$ROOT/bench/sink_lib.sh"

cleanup() {
  trap - EXIT INT TERM
  [ -n "$CHURN_PID" ] && kill "$CHURN_PID" 2>/dev/null
  vs_stop; ovs_stop >/dev/null 2>&1; ip link del "$LBR" 2>/dev/null; topo_down; cg_cleanup
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
run_system() { # system mode tests...
  local sys=$1 mode=$2 t
  shift 2
  topo_down; sink_topo_up "$sys" "$mode" || { log "$sys/$mode: topology failed"; topo_down; return; }
  log "== $sys, offloads $mode: $*"
  SINK_MODE=$mode
  if ! sys_start "$sys"; then
    log "   $sys: start failed"; sys_stop "$sys"; topo_down; return
  fi
  [ -n "$SW_PID" ] && cg_join "$CGS" "$SW_PID"
  n1 ping -c 3 -i 0.2 -w 10 10.231.0.2 >/dev/null 2>&1 || log "   $sys: no connectivity h1 -> h2 (measuring anyway)"
  for t in "$@"; do "test_$t" "$sys" "$mode"; done
  sys_stop "$sys"
  topo_down
}

cg_setup
log "vswitch sink bench: DUR=${DUR}s REPEAT=$REPEAT SYSTEMS='$SYSTEMS' TESTS='$TESTS' ($(nproc) cores, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg))"
order=($SYSTEMS)
for round in $(seq "$REPEAT"); do
  log "== round $round of $REPEAT"
  for i in "${!order[@]}"; do   # rotate the order every round: no system always runs first
    sys=${order[$(( (i + round - 1) % ${#order[@]} ))]}
    first=(); for t in $TESTS; do case $t in sink|churn) first+=("$t") ;; esac; done
    for mode in $TCP_MODES; do
      tests=("${first[@]}"); first=()
      case " $TESTS " in *" tcp "*) tests+=(tcp) ;; esac
      [ "$sys" = ovs ] && [ "$mode" = on ] && [ "${tests[*]}" = tcp ] && continue  # breaks TCP with offloads on
      [ ${#tests[@]} -gt 0 ] && run_system "$sys" "$mode" "${tests[@]}"
    done
  done
done

sink_report
