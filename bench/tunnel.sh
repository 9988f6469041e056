#!/usr/bin/env bash
# Tunnel benchmark: the same two-host overlay built from two of our switches, from Linux bridges
# with kernel VXLAN devices, and from two Open vSwitch userspace datapaths; one run, ratios.
#
#   sudo bench/tunnel.sh                    # DUR=5 s per measurement, VXLAN, kernel + vswitch + ovs
#   sudo DUR=3 SYSTEMS=vswitch bench/tunnel.sh
#   sudo TUNNEL=geneve bench/tunnel.sh      # or gre (with key); the kernel here has no geneve or
#                                           # GRE module: the kernel system is then skipped
#
# Topology (names <P>h1 ... with <P> = vt<pid>):
#   container <P>c1 (eth0 10.231.0.1/24) -- veth -- host <P>h1 (ul0 192.0.2.1/24)
#                                                        | underlay: one veth pair, MTU 1500
#   container <P>c2 (eth0 10.231.0.2/24) -- veth -- host <P>h2 (ul0 192.0.2.2/24)
# Hosts and containers are network namespaces. In each host the container's veth end ("c")
# and a VXLAN tunnel to the other host (VNI 42, UDP 4789) are joined by
#   vswitch - this project's vswitchd (one per host, `ip netns exec HOST vswitchd --detach`),
#             VXLAN port `vx0` (type=vxlan options:remote_ip=... options:key=42)
#   kernel  - a Linux bridge with a kernel VXLAN device (`ip link add vx0 type vxlan id 42
#             remote ... local ... dev ul0 dstport 4789`; geneve / gretap devices for TUNNEL=...)
#   ovs     - Open vSwitch's userspace datapath (one private ovsdb-server + ovs-vswitchd per host,
#             datapath_type=netdev, native tunnelling: the underlay address on bridge "ophy" whose
#             member is ul0). Its userspace datapath reads frames without a virtio-net header, so
#             its links (c, ul0, the container's eth0) get checksum/segmentation offloads off, as
#             Open vSwitch's users must (with them on, its TCP stalls).
# Containers use MTU CMTU (default 1450 = 1500 - 50 bytes of VXLAN overhead, what overlay users
# configure); all veths keep their default offloads.
# Metrics (c1 -> c2): TCP 1 stream (iperf3 -t DUR, receiver Gbit/s); 64-byte UDP frames blasted
# by trafgen from c1 on one CPU (offered = c1 eth0 tx, delivered = c2 eth0 rx, kpps).
# Everything lives in namespaces this script creates and is removed on exit or Ctrl-C.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. "$ROOT/bench/lib.sh"
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
DUR=${DUR:-5}
SYSTEMS=${SYSTEMS:-"kernel vswitch ovs"}
TUNNEL=${TUNNEL:-vxlan}
case $TUNNEL in vxlan|geneve|gre) ;; *) echo "bench/tunnel.sh: TUNNEL must be vxlan, geneve or gre" >&2; exit 1 ;; esac
CMTU=${CMTU:-1450}
VNI=42
T=$((DUR + 15))   # hard limit for one measurement command

if [ "$(id -u)" -ne 0 ]; then echo "bench/tunnel.sh: must run as root" >&2; exit 1; fi
case " $SYSTEMS " in
  *" vswitch "*)
    for b in vswitchd/vswitchd utilities/vsctl; do
      [ -x "$BUILD_DIR/$b" ] || { echo "bench/tunnel.sh: $BUILD_DIR/$b missing (build first, or set BUILD_DIR)" >&2; exit 1; }
    done ;;
esac
for t in iperf3 trafgen ethtool; do
  command -v $t >/dev/null || { echo "bench/tunnel.sh: $t missing (run scripts/setup.sh)" >&2; exit 1; }
done

P=vt$$
H1=${P}h1; H2=${P}h2; C1=${P}c1; C2=${P}c2
WORK=$(mktemp -d /tmp/vstunnel.XXXXXX)
declare -A R

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---------------------------------------------------------------------------------------------
vs_pid_ours() { # pidfile -> pid if that process is a vswitchd started with our work dir
  local pid; pid=$(cat "$1" 2>/dev/null) || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK" && echo "$pid"
}

vswitch_stop() {
  local i pid
  for i in 1 2; do
    pid=$(vs_pid_ours "$WORK/vs$i/vswitchd.pid") && kill "$pid" 2>/dev/null
  done
  for _ in $(seq 50); do
    vs_pid_ours "$WORK/vs1/vswitchd.pid" >/dev/null || vs_pid_ours "$WORK/vs2/vswitchd.pid" >/dev/null || break
    sleep 0.1
  done
  for i in 1 2; do pid=$(vs_pid_ours "$WORK/vs$i/vswitchd.pid") && kill -9 "$pid" 2>/dev/null; done
  true
}

topo_down() {
  local ns pid
  vswitch_stop
  for ns in "$C1" "$C2" "$H1" "$H2"; do   # anything still running in our namespaces is ours
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
  done
  for ns in "$C1" "$C2" "$H1" "$H2"; do ip netns del "$ns" 2>/dev/null; done
  true
}

topo_up() {
  local i ns
  for ns in "$H1" "$H2" "$C1" "$C2"; do
    ip netns add "$ns" || return 1
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  ip -n "$H1" link add ul0 type veth peer name ul0 netns "$H2" || return 1
  for i in 1 2; do
    ip -n "${P}h$i" addr add "192.0.2.$i/24" dev ul0 && ip -n "${P}h$i" link set ul0 up || return 1
    ip -n "${P}h$i" link add name c type veth peer name eth0 netns "${P}c$i" || return 1
    ip -n "${P}c$i" link set eth0 mtu "$CMTU" && ip -n "${P}h$i" link set c mtu "$CMTU"
    ip -n "${P}c$i" addr add "10.231.0.$i/24" dev eth0
    ip -n "${P}c$i" link set eth0 up && ip -n "${P}h$i" link set c up || return 1
  done
}

# ---------------------------------------------------------------------------------------------
kernel_start() {
  local i peer
  for i in 1 2; do
    peer=$((3 - i))
    case $TUNNEL in
      vxlan) ip -n "${P}h$i" link add name vx0 type vxlan id $VNI remote "192.0.2.$peer" local "192.0.2.$i" \
               dev ul0 dstport 4789 || return 1 ;;
      geneve) ip -n "${P}h$i" link add name vx0 type geneve id $VNI remote "192.0.2.$peer" || return 1 ;;
      gre) ip -n "${P}h$i" link add name vx0 type gretap key $VNI remote "192.0.2.$peer" \
             local "192.0.2.$i" || return 1 ;;
    esac
    ip -n "${P}h$i" link add name br0 type bridge || return 1
    ip -n "${P}h$i" link set vx0 master br0 && ip -n "${P}h$i" link set c master br0 || return 1
    ip -n "${P}h$i" link set vx0 up && ip -n "${P}h$i" link set br0 up || return 1
  done
}
kernel_stop() { true; }   # the namespaces take it all with them

vswitch_start() {
  local i peer d sock
  for i in 1 2; do
    peer=$((3 - i)); d=$WORK/vs$i; sock=$d/sock
    rm -rf "$d"; mkdir -p "$d"
    nsx "${P}h$i" "$BUILD_DIR/vswitchd/vswitchd" --config "$d/conf.json" --socket "$sock" \
      --pidfile "$d/vswitchd.pid" --log-file "$d/vswitchd.log" --log-level warn --detach \
      >"$d/out" 2>&1 </dev/null || { log "vswitch: vswitchd in ${P}h$i failed: $(tail -5 "$d/out")"; return 1; }
    nsx "${P}h$i" "$BUILD_DIR/utilities/vsctl" --socket "$sock" --timeout 20 add-br br0 \
      -- add-port br0 c -- add-port br0 vx0 -- set interface vx0 type="$TUNNEL" \
      options:remote_ip="192.0.2.$peer" options:key=$VNI || return 1
  done
}

OFFLOADS_OFF=(tx off tso off gso off gro off)
ovsx() { # i cmd...: in host i's namespace with host i's private Open vSwitch directories
  local i=$1; shift
  nsx "${P}h$i" env OVS_RUNDIR="$WORK/ovs$i" OVS_DBDIR="$WORK/ovs$i" OVS_LOGDIR="$WORK/ovs$i" "$@"
}

ovs_start() {
  local i peer d
  command -v ovs-vswitchd >/dev/null || { log "ovs: openvswitch-switch not installed"; return 1; }
  for i in 1 2; do
    peer=$((3 - i)); d=$WORK/ovs$i
    rm -rf "$d"; mkdir -p "$d"
    ovsx $i ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
    ovsx $i ovsdb-server "$d/conf.db" --remote=punix:"$d/db.sock" --pidfile="$d/ovsdb.pid" --detach \
      --log-file="$d/ovsdb.log" --unixctl="$d/ovsdb.ctl" 2>>"$d/stderr" || return 1
    ovsx $i ovs-vsctl --db=unix:"$d/db.sock" --no-wait init || return 1
    ovsx $i ovs-vswitchd unix:"$d/db.sock" --pidfile="$d/vswitchd.pid" --detach --log-file="$d/vswitchd.log" \
      --unixctl="$d/vswitchd.ctl" 2>>"$d/stderr" || return 1
    nsx "${P}h$i" ethtool -K ul0 "${OFFLOADS_OFF[@]}" >/dev/null 2>&1
    nsx "${P}h$i" ethtool -K c "${OFFLOADS_OFF[@]}" >/dev/null 2>&1
    nsx "${P}c$i" ethtool -K eth0 "${OFFLOADS_OFF[@]}" >/dev/null 2>&1
    ip -n "${P}h$i" addr flush dev ul0
    ovsx $i ovs-vsctl --db=unix:"$d/db.sock" --timeout=20 \
      add-br ophy -- set bridge ophy datapath_type=netdev -- add-port ophy ul0 \
      -- add-br br0 -- set bridge br0 datapath_type=netdev -- add-port br0 c \
      -- add-port br0 vx0 -- set interface vx0 type="$TUNNEL" options:remote_ip="192.0.2.$peer" \
      options:key=$VNI || return 1
    ip -n "${P}h$i" addr add "192.0.2.$i/24" dev ophy && ip -n "${P}h$i" link set ophy up || return 1
    ovsx $i ovs-appctl --target="$d/vswitchd.ctl" ovs/route/add 192.0.2.0/24 ophy >/dev/null || return 1
  done
}

ovs_stop() {
  local i p pid
  for i in 1 2; do
    for p in vswitchd ovsdb; do
      pid=$(cat "$WORK/ovs$i/$p.pid" 2>/dev/null) || continue
      tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$WORK" && kill "$pid" 2>/dev/null
    done
  done
  true
}

# ---------------------------------------------------------------------------------------------
run_system() { # system
  local sys=$1 pps
  topo_down; topo_up || { log "$sys: topology failed"; topo_down; return; }
  log "== $sys"
  if ! "${sys}_start"; then
    log "   $sys: start failed"; topo_down; return
  fi
  if ! nsx "$C1" ping -c 3 -i 0.2 -w 10 10.231.0.2 >/dev/null 2>&1; then
    log "   $sys: no connectivity c1 -> c2 (measuring anyway)"
  fi
  R[$sys.tcp]=$(measure_tcp "$C2" "$C1" 10.231.0.2)
  pps=$(measure_pps "$C1" "$C2" "$WORK")
  R[$sys.pps_offered]=${pps% *}; R[$sys.pps_delivered]=${pps#* }
  log "   tcp=${R[$sys.tcp]:-FAIL} Gbit/s  pps offered/delivered=${pps} kpps"
  "${sys}_stop" 2>/dev/null
  topo_down
}

cleanup() {
  trap - EXIT INT TERM
  ovs_stop
  topo_down
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
log "vswitch tunnel bench: TUNNEL=$TUNNEL DUR=${DUR}s SYSTEMS='$SYSTEMS' CMTU=$CMTU ($(nproc) cores, kernel $(uname -r))"
for sys in $SYSTEMS; do
  case $sys in kernel|vswitch|ovs) run_system "$sys" ;; *) log "unknown system $sys" ;; esac
done

echo
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && rev="$rev+changes"
echo "vswitch tunnel benchmark ($TUNNEL), $(date -u +%Y-%m-%dT%H:%MZ), commit $rev, DUR=${DUR}s, CMTU=$CMTU, $(nproc) cores, kernel $(uname -r)"
printf '%-30s %9s %9s %9s   %-15s %s\n' "metric (c1 -> c2, $TUNNEL)" kernel vswitch ovs "vswitch/kernel" "vswitch/ovs"
for m in "tcp:TCP 1 stream Gbit/s" "pps_offered:64B offered kpps" "pps_delivered:64B delivered kpps"; do
  k=${m%%:*}
  printf '%-30s %9s %9s %9s   %-15s %s\n' "${m#*:}" "${R[kernel.$k]:--}" "${R[vswitch.$k]:--}" "${R[ovs.$k]:--}" \
    "$([ "$k" = pps_offered ] && echo - || ratio "${R[vswitch.$k]:-}" "${R[kernel.$k]:-}")" \
    "$([ "$k" = pps_offered ] && echo - || ratio "${R[vswitch.$k]:-}" "${R[ovs.$k]:-}")"
done
echo "targets (issue #17, VXLAN TCP): vswitch/kernel >= 0.7, vswitch/ovs >= 3; '-' = not measured or failed."
