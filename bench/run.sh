#!/usr/bin/env bash
# vswitch benchmarks: one run, one topology, four systems, ratios to the anchors.
#
#   sudo bench/run.sh                       # DUR=5 s per measurement, everything
#   sudo DUR=3 SYSTEMS="bridge vswitch" MODES=off bench/run.sh
#   sudo REPEAT=3 bench/run.sh              # each figure the median of 3 rounds, and their spread
#   sudo OLD_BUILD_DIR=/tmp/old/build bench/run.sh   # also another build's vswitchd ("vsold"), same run
#
# Topology (like shared/bench/topo.sh, with unique names): hosts <P>h1 (10.231.0.1) and <P>h2
# (10.231.0.2) are network namespaces, each with eth0 whose veth peer (<P>s1, <P>s2) stays in the
# root namespace for the system under test to join. <P> = vb<pid>.
# Systems: direct   - h1 and h2 on one veth pair, no switch (the limit of this topology)
#          bridge   - Linux bridge (kernel reference)
#          ovs      - Open vSwitch userspace datapath (datapath_type=netdev), private instance
#          vswitch  - this project's vswitchd, private instance
# Modes:   on  - veth default offloads (checksum, TSO, GSO, GRO)
#          off - tx/tso/gso/gro off on all four ends
# Metrics per system and mode: TCP 1 stream (iperf3, Gbit/s); 64-byte UDP frames blasted by
# trafgen from h1 (offered = h1 eth0 tx, delivered = h2 eth0 rx, kpps); UDP ping-pong latency
# (sockperf, avg and p99, us). An empty figure means the measurement failed (e.g. no traffic).
# All traffic stays between the two namespaces this script creates; it removes everything it
# created on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DUR=${DUR:-5}
SYSTEMS=${SYSTEMS:-"direct bridge ovs vswitch"}
OLD_BUILD_DIR=${OLD_BUILD_DIR:-}   # another build's vswitchd as system "vsold", in the same run (A/B)
[ -n "$OLD_BUILD_DIR" ] && case " $SYSTEMS " in *" vsold "*) ;; *) SYSTEMS="$SYSTEMS vsold" ;; esac
MODES=${MODES:-"on off"}
REPEAT=${REPEAT:-1}   # rounds; each figure printed is the median of its rounds
VSWITCHD_ARGS=${VSWITCHD_ARGS:-}   # extra vswitchd options, e.g. "--poll-threads 2"
T=$((DUR + 15))   # hard limit for one measurement command

if [ "$(id -u)" -ne 0 ]; then echo "bench/run.sh: must run as root" >&2; exit 1; fi

need_build=0
for b in vswitchd/vswitchd utilities/vsctl; do [ -x "$BUILD_DIR/$b" ] || need_build=1; done
case " $SYSTEMS " in *" vswitch "*) ;; *) need_build=0 ;; esac
if [ $need_build = 1 ]; then
  scripts/setup.sh || exit 1
  echo "== building vswitch (Release-ish: RelWithDebInfo) in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || exit 1
  cmake --build "$BUILD_DIR" -j2 || exit 1
fi
for t in iperf3 sockperf trafgen ethtool; do
  command -v $t >/dev/null || { echo "bench/run.sh: $t missing (run scripts/setup.sh)" >&2; exit 1; }
done

P=vb$$
H1=${P}h1; H2=${P}h2; S1=${P}s1; S2=${P}s2
LBR=${P}lb; OBR=${P}ob; VBR=${P}vb
WORK=$(mktemp -d /tmp/vsbench.XXXXXX)
OVSD=$WORK/ovs; VSD=$WORK/vs
OVS_NETDEV_EXISTED=0
VSPID=""
declare -A R

n1() { ip netns exec "$H1" "$@"; }
n2() { ip netns exec "$H2" "$@"; }

# ---------------------------------------------------------------------------------------------
topo_down() {
  local ns pid
  for ns in "$H1" "$H2"; do   # anything still running in our namespaces was started by us
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  ip link del "$S1" 2>/dev/null; ip link del "$S2" 2>/dev/null
  ip netns del "$H1" 2>/dev/null; ip netns del "$H2" 2>/dev/null
  true
}

topo_up() { # kind(direct|switch) mode(on|off)
  local i
  ip netns add "$H1" && ip netns add "$H2" || return 1
  for i in 1 2; do
    ip netns exec "${P}h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  if [ "$1" = direct ]; then
    ip link add eth0 netns "$H1" type veth peer name eth0 netns "$H2" || return 1
  else
    ip link add "$S1" type veth peer name eth0 netns "$H1" || return 1
    ip link add "$S2" type veth peer name eth0 netns "$H2" || return 1
    for i in 1 2; do
      echo 1 > "/proc/sys/net/ipv6/conf/${P}s$i/disable_ipv6" 2>/dev/null
      ip link set "${P}s$i" up
      [ "$2" = off ] && ethtool -K "${P}s$i" tx off tso off gso off gro off >/dev/null 2>&1
    done
  fi
  for i in 1 2; do
    ip -n "${P}h$i" link set lo up
    ip -n "${P}h$i" addr add "10.231.0.$i/24" dev eth0
    ip -n "${P}h$i" link set eth0 up
    [ "$2" = off ] && ip netns exec "${P}h$i" ethtool -K eth0 tx off tso off gso off gro off >/dev/null 2>&1
  done
  true
}

# ---------------------------------------------------------------------------------------------
bridge_start() {
  ip link add "$LBR" type bridge && ip link set "$S1" master "$LBR" && ip link set "$S2" master "$LBR" \
    && ip link set "$LBR" up
}
bridge_stop() { ip link del "$LBR" 2>/dev/null; true; }

ovs_pid_ours() { # pidfile -> pid if that process runs with our private dir on its command line
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$OVSD" && echo "$pid"
}

ovs_start() {
  command -v ovs-vswitchd >/dev/null || { log "ovs: openvswitch-switch not installed"; return 1; }
  if ip link show ovs-netdev >/dev/null 2>&1; then
    log "ovs: another userspace-datapath instance holds the ovs-netdev device; skipping the anchor"
    OVS_NETDEV_EXISTED=1; return 1
  fi
  rm -rf "$OVSD"; mkdir -p "$OVSD"
  # A private instance: its own database, sockets, logs, rundir (bridge .mgmt sockets live there).
  export OVS_RUNDIR=$OVSD OVS_LOGDIR=$OVSD OVS_DBDIR=$OVSD
  ovsdb-tool create "$OVSD/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
  ovsdb-server "$OVSD/conf.db" --remote=punix:"$OVSD/db.sock" --pidfile="$OVSD/ovsdb.pid" \
    --detach --log-file="$OVSD/ovsdb.log" --unixctl="$OVSD/ovsdb.ctl" 2>>"$OVSD/stderr" || return 1
  ovs-vsctl --db=unix:"$OVSD/db.sock" --no-wait init || return 1
  ovs-vswitchd unix:"$OVSD/db.sock" --pidfile="$OVSD/vswitchd.pid" --detach \
    --log-file="$OVSD/vswitchd.log" --unixctl="$OVSD/vswitchd.ctl" 2>>"$OVSD/stderr" || return 1
  ovs-vsctl --db=unix:"$OVSD/db.sock" --timeout=20 add-br "$OBR" -- set bridge "$OBR" datapath_type=netdev \
    -- add-port "$OBR" "$S1" -- add-port "$OBR" "$S2" || return 1
  ip link set "$OBR" up 2>/dev/null
  true
}

ovs_stop() {
  local p pid
  for p in vswitchd ovsdb; do
    pid=$(ovs_pid_ours "$OVSD/$p.pid") && kill "$pid" 2>/dev/null
  done
  for _ in $(seq 50); do
    ovs_pid_ours "$OVSD/vswitchd.pid" >/dev/null || ovs_pid_ours "$OVSD/ovsdb.pid" >/dev/null || break
    sleep 0.1
  done
  for p in vswitchd ovsdb; do pid=$(ovs_pid_ours "$OVSD/$p.pid") && kill -9 "$pid" 2>/dev/null; done
  ip link del "$OBR" 2>/dev/null
  [ $OVS_NETDEV_EXISTED = 0 ] && ip link del ovs-netdev 2>/dev/null
  unset OVS_RUNDIR OVS_LOGDIR OVS_DBDIR
  true
}

vswitch_start() {
  rm -rf "$VSD"; mkdir -p "$VSD"
  "$BUILD_DIR/vswitchd/vswitchd" --config "$VSD/conf.json" --socket "$VSD/sock" \
    --pidfile "$VSD/vswitchd.pid" --log-file "$VSD/vswitchd.log" --log-level warn $VSWITCHD_ARGS \
    >"$VSD/out" 2>&1 </dev/null &
  VSPID=$!
  local i
  for i in $(seq 100); do
    "$BUILD_DIR/utilities/vsctl" --socket "$VSD/sock" list-br >/dev/null 2>&1 && break
    kill -0 "$VSPID" 2>/dev/null || { log "vswitch: vswitchd exited: $(tail -5 "$VSD/out")"; return 1; }
    sleep 0.1
  done
  "$BUILD_DIR/utilities/vsctl" --socket "$VSD/sock" add-br "$VBR" -- add-port "$VBR" "$S1" \
    -- add-port "$VBR" "$S2"
}

vswitch_stop() {
  if [ -n "$VSPID" ]; then
    kill "$VSPID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$VSPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$VSPID" 2>/dev/null; wait "$VSPID" 2>/dev/null
    VSPID=""
  fi
  true
}

vsold_start() { BUILD_DIR=$OLD_BUILD_DIR vswitch_start; }
vsold_stop() { vswitch_stop; }

direct_start() { true; }
direct_stop() { true; }

# ---------------------------------------------------------------------------------------------
measure_lat() { # prints "avg p99" in us, empty on failure
  ip netns exec "$H2" timeout $T sockperf sr -i 10.231.0.2 -p 11111 >/dev/null 2>&1 &
  local srv=$!
  wait_port "$H2" 11111 u
  n1 timeout $T sockperf pp -i 10.231.0.2 -p 11111 -t "$DUR" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | awk '
    /avg-latency=/ { sub(/.*avg-latency=/, ""); split($0, a, " "); avg = a[1] }
    /percentile 99.000 =/ { p99 = $NF }
    /ReceivedMessages=0$/ { fail = 1 }
    END { if (avg != "" && p99 != "" && !fail) print avg, p99 }'
  kill $srv 2>/dev/null; wait $srv 2>/dev/null
}

add() { [ -n "$2" ] && R[$1]="${R[$1]:-} $2" && R[$1@$round]=$2; true; }   # key value: one more round's figure

run_system() { # system mode
  local sys=$1 mode=$2 kind=switch tcp pps lat
  [ "$sys" = direct ] && kind=direct
  topo_down; topo_up "$kind" "$mode" || { log "$sys/$mode: topology failed"; topo_down; return; }
  log "== $sys, offloads $mode"
  if ! "${sys}_start"; then
    log "   $sys: start failed"
    for f in "$OVSD/vswitchd.log" "$VSD/out" "$VSD/vswitchd.log"; do
      case "$sys:$f" in ovs:"$OVSD"/*|vswitch:"$VSD"/*|vsold:"$VSD"/*) [ -s "$f" ] && tail -n 5 "$f" >&2 ;; esac
    done
    "${sys}_stop"; topo_down; return
  fi
  if ! n1 ping -c 3 -i 0.2 -w 10 10.231.0.2 >/dev/null 2>&1; then
    log "   $sys: no connectivity h1 -> h2 (measuring anyway)"
  fi
  tcp=$(measure_tcp "$H2" "$H1" 10.231.0.2)
  pps=$(measure_pps "$H1" "$H2" "$WORK")
  lat=$(measure_lat)
  add "$sys.tcp_$mode" "$tcp"
  add "$sys.pps_offered_$mode" "${pps% *}"; add "$sys.pps_delivered_$mode" "${pps#* }"
  [ -n "$pps" ] && add "$sys.pps_lost_$mode" "$(awk -v o="${pps% *}" -v d="${pps#* }" \
    'BEGIN { if (o > 0) printf "%.1f", 100 * (o - d) / o }')"
  add "$sys.lat_avg_$mode" "${lat% *}"; add "$sys.lat_p99_$mode" "${lat#* }"
  log "   tcp=${tcp:-FAIL} Gbit/s  pps offered/delivered=${pps} kpps  latency avg/p99=${lat:-FAIL} us"
  "${sys}_stop"
  topo_down
}

cleanup() {
  trap - EXIT INT TERM
  vswitch_stop; ovs_stop >/dev/null 2>&1; bridge_stop; topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
log "vswitch bench: DUR=${DUR}s REPEAT=$REPEAT SYSTEMS='$SYSTEMS' MODES='$MODES' ($(nproc) cores, kernel $(uname -r))"
for round in $(seq "$REPEAT"); do
  [ "$REPEAT" -gt 1 ] && log "== round $round of $REPEAT"
  for mode in $MODES; do
    for sys in $SYSTEMS; do
      case $sys in direct|bridge|ovs|vswitch|vsold) run_system "$sys" "$mode" ;; *) log "unknown system $sys" ;; esac
    done
  done
done
for k in "${!R[@]}"; do case $k in *@*) ;; *) R[$k]=$(median ${R[$k]}) ;; esac; done

echo
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && rev="$rev+changes"
echo "vswitch benchmark, $(date -u +%Y-%m-%dT%H:%MZ), commit $rev, DUR=${DUR}s, median of $REPEAT round(s), $(nproc) cores, kernel $(uname -r)"
printf '%-34s %9s %9s %9s %9s   %-10s %-10s\n' metric direct bridge ovs vswitch "vs/bridge" "vs/ovs"
for mode in $MODES; do
  for m in "tcp:TCP 1 stream Gbit/s" "pps_offered:64B offered kpps" "pps_delivered:64B delivered kpps" "pps_lost:64B lost % (lower=better)" \
           "lat_avg:latency avg us (lower=better)" "lat_p99:latency p99 us (lower=better)"; do
    k=${m%%:*}; label="${m#*:} [$mode]"
    printf '%-34s %9s %9s %9s %9s   %-10s %-10s\n' "$label" \
      "${R[direct.${k}_$mode]:--}" "${R[bridge.${k}_$mode]:--}" "${R[ovs.${k}_$mode]:--}" \
      "${R[vswitch.${k}_$mode]:--}" \
      "$(case $k in pps_offered|pps_lost) echo - ;; *) ratio "${R[vswitch.${k}_$mode]:-}" "${R[bridge.${k}_$mode]:-}" ;; esac)" \
      "$(case $k in pps_offered|pps_lost) echo - ;; *) ratio "${R[vswitch.${k}_$mode]:-}" "${R[ovs.${k}_$mode]:-}" ;; esac)"
  done
done
echo "ratios: vswitch / anchor (above 1 is better for throughput, below 1 is better for latency);"
echo "'-' = not measured or failed (no data moved)."
[ "$REPEAT" -gt 1 ] && . "$ROOT/bench/run_spread.sh"
