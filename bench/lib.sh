# Shared helpers for the bench/ scripts (sourced, not run). Measuring code lives here once so that
# every script measures a figure the same way:
#   log MSG...                      message to stderr
#   now / elapsed T0 T1             wall clock (s, with ns) and the difference, 2 decimals
#   median V...                     median of numbers (empty if none)
#   ratio A B                       A / B with 2 decimals, "-" if either is missing or B is 0
#   rss_mb PID / add_mb A B         resident set (VmRSS) in MB / the sum of two such figures
#   cpu_ticks PID                   utime + stime of a process, in clock ticks
#   gen_flows N                     the N rules of ../shared/bench/gen-flows.py (ovs-ofctl syntax)
#   wait_port NS PORT [t|u]         wait until something listens on PORT in namespace NS
#   measure_tcp SRV_NS CLI_NS IP    iperf3 1 stream for DUR s; receiver Gbit/s (empty on failure)
#   measure_pps TX_NS RX_NS WORKDIR trafgen 60-byte UDP frames 10.231.0.1 -> .2 from TX_NS eth0 for
#                                   DUR s; prints "offered delivered" kpps (TX eth0 tx, RX eth0 rx)
#   ovs_start / ovs_stop / o CMD... a private Open vSwitch userspace instance (own database,
#                                   sockets, OVS_RUNDIR) in its own network namespace ONS, with a
#                                   netdev bridge OBR; o runs CMD in ONS with that instance's env;
#                                   ovs_pid vswitchd|ovsdb prints the pid of one of its daemons
#   vs_start / vs_stop              a private vswitchd (BUILD_DIR, config and socket in VSD, the
#                                   vsctl command line in the array VS) with bridge VBR; VSPID
#   topo_up / topo_down             namespaces H1, H2 (10.231.0.1/.2 on eth0) whose veth peers
#                                   <P>s1, <P>s2 stay in the root namespace for the switch to join
# The caller sets DUR (seconds), T (hard limit for one command, seconds) and, for Open vSwitch,
# ONS (namespace), OVSD (private directory) and OBR (bridge name).

log() { printf '%s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() {
  printf '%s\n' "$@" | awk 'NF' | sort -g | awk '{ v[NR] = $1 }
    END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "") { print "-"; exit }
    if (b + 0 == 0) { print (a + 0 > 0 ? "anchor 0" : "-"); exit }
    printf "%.2f", a / b }'
}
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null; }
add_mb() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") exit; printf "%.1f", a + b }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null; }

gen_flows() {  # rule i of gen-flows.py (same formula), for i in [0, N)
  /usr/bin/python3 - "$1" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print(f"priority={i % 1000 + 1},tcp,nw_src=10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255},"
          f"tp_dst={i % 60000 + 1},actions=drop")
PY
}

wait_port() {
  for _ in $(seq 50); do
    [ -n "$(ip netns exec "$1" ss -Hln"${3:-t}" "sport = :$2" 2>/dev/null)" ] && return 0; sleep 0.1
  done
  return 1
}

measure_tcp() {
  ip netns exec "$1" timeout "$T" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
  local srv=$!
  wait_port "$1" 5201 t
  ip netns exec "$2" timeout "$T" iperf3 -c "$3" -p 5201 -t "$DUR" -J --connect-timeout 3000 2>/dev/null \
    | /usr/bin/python3 -c '
import json, sys
try:
    r = json.load(sys.stdin)["end"]["sum_received"]
    if r["bytes"] > 0: print(round(r["bits_per_second"] / 1e9, 2))
except Exception: pass'
  kill $srv 2>/dev/null; wait $srv 2>/dev/null
}

measure_pps() {
  local tx=$1 rx=$2 cfg=$3/trafgen.cfg mac1 mac2 rx0 tx0 rx1 tx1
  mac1=$(ip netns exec "$tx" cat /sys/class/net/eth0/address)
  mac2=$(ip netns exec "$rx" cat /sys/class/net/eth0/address)
  m() { echo "0x${1//:/, 0x}"; }
  # 60-byte frame (64 on a wire with FCS): Ethernet, IPv4 10.231.0.1 -> .2, UDP 12345 -> 12346
  cat >"$cfg" <<C
{ $(m "$mac2"), $(m "$mac1"), 0x08, 0x00,
  0x45, 0x00, 0x00, 0x2e, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, csumip(14, 33),
  10, 231, 0, 1, 10, 231, 0, 2,
  0x30, 0x39, 0x30, 0x3a, 0x00, 0x1a, 0x00, 0x00,
  fill(0x41, 18) }
C
  # Both MACs learned first, so the blast is forwarded, not flooded.
  ip netns exec "$tx" ping -c1 -W1 10.231.0.2 >/dev/null 2>&1
  ip netns exec "$rx" ping -c1 -W1 10.231.0.1 >/dev/null 2>&1
  rx0=$(ip netns exec "$rx" cat /sys/class/net/eth0/statistics/rx_packets)
  tx0=$(ip netns exec "$tx" cat /sys/class/net/eth0/statistics/tx_packets)
  ip netns exec "$tx" timeout -s INT "$DUR" trafgen --dev eth0 --conf "$cfg" --cpus 1 -q >/dev/null 2>&1
  sleep 0.5
  rx1=$(ip netns exec "$rx" cat /sys/class/net/eth0/statistics/rx_packets)
  tx1=$(ip netns exec "$tx" cat /sys/class/net/eth0/statistics/tx_packets)
  echo "$(( (tx1 - tx0) / DUR / 1000 )) $(( (rx1 - rx0) / DUR / 1000 ))"
}

# -- a private Open vSwitch in its own namespace (two userspace instances in one namespace
#    clash over the ovs-netdev device) ---------------------------------------------------------
o() { ip netns exec "$ONS" env OVS_RUNDIR="$OVSD" OVS_DBDIR="$OVSD" OVS_LOGDIR="$OVSD" "$@"; }

ovs_pid() { # pid from our pidfile, only if that process runs with our private dir on its command line
  local pid; pid=$(cat "$OVSD/$1.pid" 2>/dev/null) || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$OVSD" && echo "$pid"
}

ovs_start() {
  ip netns add "$ONS" || return 1
  o ovsdb-tool create "$OVSD/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
  o ovsdb-server "$OVSD/conf.db" --remote=punix:"$OVSD/db.sock" --pidfile="$OVSD/ovsdb.pid" \
    --detach --log-file="$OVSD/ovsdb.log" --unixctl="$OVSD/ovsdb.ctl" 2>>"$OVSD/stderr" || return 1
  o ovs-vsctl --db=unix:"$OVSD/db.sock" --no-wait init || return 1
  o ovs-vswitchd unix:"$OVSD/db.sock" --pidfile="$OVSD/vswitchd.pid" --detach \
    --log-file="$OVSD/vswitchd.log" --unixctl="$OVSD/vswitchd.ctl" 2>>"$OVSD/stderr" || return 1
  o ovs-vsctl --db=unix:"$OVSD/db.sock" --timeout=20 add-br "$OBR" -- set bridge "$OBR" datapath_type=netdev
}

ovs_stop() {
  local p pid
  for p in vswitchd ovsdb; do pid=$(ovs_pid $p) && kill "$pid" 2>/dev/null; done
  for _ in $(seq 50); do ovs_pid vswitchd >/dev/null || ovs_pid ovsdb >/dev/null || break; sleep 0.1; done
  for p in vswitchd ovsdb; do pid=$(ovs_pid $p) && kill -9 "$pid" 2>/dev/null; done
  ip netns del "$ONS" 2>/dev/null
  true
}

# -- a private vswitchd, and the two-host topology of bench/flows.sh and bench/scale.sh ------
vs_start() {
  "$BUILD_DIR/vswitchd/vswitchd" --config "$VSD/conf.json" --socket "$VSD/sock" \
    --pidfile "$VSD/vswitchd.pid" --log-file "$VSD/vswitchd.log" --log-level warn ${VS_EXTRA_ARGS:-} \
    >"$VSD/out" 2>&1 </dev/null &
  VSPID=$!
  for _ in $(seq 100); do
    "${VS[@]}" list-br >/dev/null 2>&1 && break
    kill -0 "$VSPID" 2>/dev/null || { log "vswitchd exited: $(tail -5 "$VSD/out")"; return 1; }
    sleep 0.1
  done
  "${VS[@]}" add-br "$VBR"
}

vs_stop() {
  [ -n "$VSPID" ] || return 0
  kill "$VSPID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$VSPID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$VSPID" 2>/dev/null; wait "$VSPID" 2>/dev/null
  VSPID=""
}

topo_down() {
  local ns pid
  for ns in "$H1" "$H2"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  ip link del "$S1" 2>/dev/null; ip link del "$S2" 2>/dev/null
  ip netns del "$H1" 2>/dev/null; ip netns del "$H2" 2>/dev/null
  true
}

topo_up() {
  local i
  ip netns add "$H1" && ip netns add "$H2" || return 1
  for i in 1 2; do
    ip netns exec "${P}h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip link add "${P}s$i" type veth peer name eth0 netns "${P}h$i" || return 1
    echo 1 > "/proc/sys/net/ipv6/conf/${P}s$i/disable_ipv6" 2>/dev/null
    ip link set "${P}s$i" up
    ip -n "${P}h$i" link set lo up
    ip -n "${P}h$i" addr add "10.231.0.$i/24" dev eth0
    ip -n "${P}h$i" link set eth0 up
  done
}
