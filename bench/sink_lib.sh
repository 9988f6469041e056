# Helpers of bench/sink.sh (sourced, after bench/lib.sh, with its variables set): the sink on h2,
# the systems under test, CPU snapshots, the three tests and the report.

# -- topology and the sink ---------------------------------------------------------------------
sink_topo_up() { # system mode(on|off): lib.sh's topology (direct: h1 and h2 on one veth pair, no
                 # switch), offloads off on all its ends for "off"
  local i
  if [ "$1" = direct ]; then
    ip netns add "$H1" && ip netns add "$H2" || return 1
    ip link add eth0 netns "$H1" type veth peer name eth0 netns "$H2" || return 1
    for i in 1 2; do
      ip netns exec "${P}h$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
      ip -n "${P}h$i" link set lo up
      ip -n "${P}h$i" addr add "10.231.0.$i/24" dev eth0
      ip -n "${P}h$i" link set eth0 up
    done
  else
    topo_up || return 1
  fi
  [ "$2" = off ] || return 0
  for i in 1 2; do
    [ "$1" = direct ] || ethtool -K "${P}s$i" tx off tso off gso off gro off >/dev/null 2>&1
    ip netns exec "${P}h$i" ethtool -K eth0 tx off tso off gso off gro off >/dev/null 2>&1
  done
  true
}

sink_prog() { # the eBPF program every frame entering h2's eth0 meets: return TC_ACT_SHOT (2)
  [ -s "$WORK/sink_drop.o" ] && return 0
  printf '%s\n' '__attribute__((section("tc"), used)) int sink_drop(void *skb) { return 2; }' \
    'char _license[] __attribute__((section("license"), used)) = "GPL";' >"$WORK/sink_drop.c"
  clang -O2 -target bpf -c "$WORK/sink_drop.c" -o "$WORK/sink_drop.o"
}

# The kernel here has clsact and cls_bpf but no gact (the `drop` action) nor matchall, so the drop
# is a direct-action eBPF classifier; the clsact qdisc counts what it drops.
sink_on() {
  sink_prog && n2 tc qdisc add dev eth0 clsact \
    && n2 tc filter add dev eth0 ingress bpf da obj "$WORK/sink_drop.o" sec tc
}
sink_off() { n2 tc qdisc del dev eth0 clsact 2>/dev/null; true; }
sink_count() { # frames the sink dropped so far
  n2 tc -s -j qdisc show dev eth0 | /usr/bin/python3 -c '
import json, sys
print(sum(q.get("drops", 0) for q in json.load(sys.stdin) if q.get("kind") == "clsact"))'
}
h1_tx() { n1 cat /sys/class/net/eth0/statistics/tx_packets; }
h2_rx() { n2 cat /sys/class/net/eth0/statistics/rx_packets; }

# -- systems -------------------------------------------------------------------------------------
sys_start() { # system
  case $1 in
  direct) SW_PID="" ;;
  bridge)
    SW_PID=""
    ip link add "$LBR" type bridge && ip link set "$S1" master "$LBR" \
      && ip link set "$S2" master "$LBR" && ip link set "$LBR" up ;;
  ovs)
    command -v ovs-vswitchd >/dev/null || { log "   ovs: openvswitch-switch not installed"; return 1; }
    rm -rf "$OVSD"; mkdir -p "$OVSD"
    ovs_start || return 1
    local s
    for s in "$S1" "$S2"; do
      ip link set "$s" netns "$ONS" && ip -n "$ONS" link set "$s" up || return 1
      [ "$SINK_MODE" = off ] && ip netns exec "$ONS" ethtool -K "$s" tx off tso off gso off gro off >/dev/null 2>&1
    done
    o ovs-vsctl --db=unix:"$OVSD/db.sock" --timeout=20 add-port "$OBR" "$S1" -- add-port "$OBR" "$S2" \
      -- set bridge "$OBR" other_config:mac-table-size="$MAC_TABLE" || return 1
    SW_PID=$(ovs_pid vswitchd) ;;
  vs|vs1|old)
    rm -rf "$VSD"; mkdir -p "$VSD"
    local bd=$BUILD_DIR
    [ "$1" = old ] && bd=$OLD_BUILD_DIR
    VS=("$bd/utilities/vsctl" --socket "$VSD/sock")
    OFCTL=("$bd/utilities/vsofctl" --socket "$VSD/sock")
    VS_EXTRA_ARGS=$VSWITCHD_ARGS
    [ "$1" = vs1 ] && VS_EXTRA_ARGS="--poll-threads 1 $VSWITCHD_ARGS"
    BUILD_DIR=$bd vs_start || return 1
    "${VS[@]}" add-port "$VBR" "$S1" -- add-port "$VBR" "$S2" \
      -- set Bridge "$VBR" other_config:mac-table-size="$MAC_TABLE" || return 1
    SW_PID=$VSPID ;;
  *) log "unknown system $1"; return 1 ;;
  esac
}

sys_stop() {
  case $1 in
  direct) ;;
  bridge) ip link del "$LBR" 2>/dev/null ;;
  ovs) ovs_stop ;;
  *) vs_stop ;;
  esac
  SW_PID=""
  true
}

ofctl() { # the switch's own OpenFlow tool: ofctl system add-flows FILE | del-flows MATCH
  case $1 in
  ovs) o ovs-ofctl "$2" "$OBR" "$3" ;;
  *) "${OFCTL[@]}" "$2" "$VBR" "$3" ;;
  esac
}

# -- CPU time: cpuacct cgroups (v1) count the time of every task they held, exited ones included --
CGROOT=/sys/fs/cgroup/cpuacct
cg_setup() { # CGG (the load generators: trafgen, iperf3) and CGS (the switch's process)
  CGG=$CGROOT/$P-gen; CGS=$CGROOT/$P-sw
  mkdir -p "$CGG" "$CGS" 2>/dev/null && [ -w "$CGG/cgroup.procs" ] \
    || { log "bench/sink.sh: no cpuacct cgroup under $CGROOT: CPU figures missing"; CGG=""; CGS=""; }
}
cg_cleanup() { [ -n "${CGG:-}" ] && rmdir "$CGG" "$CGS" 2>/dev/null; true; }
cg_join() { [ -n "${CGG:-}" ] && echo "$2" >"$1/cgroup.procs" 2>/dev/null; true; }  # dir pid (all its threads)
cg_ns() { cat "$1/cpuacct.usage" 2>/dev/null || echo 0; }

cpu_snap() { # -> "switch_ns generator_ns ksoftirqd_ns"
  local k
  k=$(for t in /proc/[0-9]*/comm; do
        read -r c <"$t" 2>/dev/null && case $c in ksoftirqd/*) cat "${t%comm}schedstat" ;; esac
      done 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }')
  echo "$(cg_ns "$CGS") $(cg_ns "$CGG") ${k:-0}"
}

cpu_per() { # sys snap0 snap1 frames -> "switch_ns path_ns" per frame ("-" if no frames or no data)
  # path = switch + generators + ksoftirqd: every CPU-ns the frames cost from trafgen's send to the
  # sink's drop (the kernel runs the veth hops, the bridge and AF_PACKET receive in the softirq of
  # whichever of them sends, or in ksoftirqd)
  awk -v sys="$1" -v a="$2" -v b="$3" -v n="$4" -v cg="${CGG:-}" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    if (n <= 0 || cg == "") { print "- -"; exit }
    sw = (y[1] - x[1]) / n; path = (y[1] - x[1] + y[2] - x[2] + y[3] - x[3]) / n
    if (sys == "bridge" || sys == "direct") printf "- %.0f\n", path; else printf "%.0f %.0f\n", sw, path }'
}

# -- results: per round, so that every ratio is one of the same round -----------------------------
put() { # key value: this round's figure
  [ -n "$2" ] && [ "$2" != - ] || return 0
  R[$1@$round]=$2
}

trafgen_run() { # cfg seconds
  cg_join "${CGG:-}" "$BASHPID"   # callers run this in a subshell
  n1 timeout -s INT "$2" trafgen --dev eth0 --conf "$1" --cpus 1 -q >/dev/null 2>&1
}

frame_cfg() { # file srcmac-epoch(empty: h1's MAC, one source): the 60-byte UDP frame h1 -> h2
  local mac2 sa
  mac2=$(n2 cat /sys/class/net/eth0/address)
  if [ -z "$2" ]; then
    sa=$(n1 cat /sys/class/net/eth0/address)
    echo "{ eth(da=$mac2, sa=$sa), ipv4(da=10.231.0.2, sa=10.231.0.1, ttl=64), udp(sp=12345, dp=12346), fill(0x41, 18) }" >"$1"
  else # CHURN_MACS source MACs 02:EE:00:00:00:00 + 0 .. CHURN_MACS - 1 (EE = the epoch, 1..255)
    sa=$(printf '02:%02x:00:00:00:00' "$2")
    echo "{ eth(da=$mac2, sa=$sa, sa=dinc(0, $((CHURN_MACS - 1)))), ipv4(da=10.231.0.2, sa=10.231.0.1, ttl=64), udp(sp=12345, dp=12346), fill(0x41, 18) }" >"$1"
  fi
}

# -- tests ---------------------------------------------------------------------------------------
test_sink() { # sys mode: 64-byte frames for DUR s into the sink
  local sys=$1 d0 d1 o0 o1 c0 c1 del off cpu
  n2 ping -c1 -W1 10.231.0.1 >/dev/null 2>&1
  sink_on || { log "   sink: tc bpf drop failed"; return; }
  frame_cfg "$WORK/one.cfg" ""
  d0=$(sink_count); o0=$(h1_tx); c0=$(cpu_snap)
  (trafgen_run "$WORK/one.cfg" "$DUR")
  sleep 0.5
  d1=$(sink_count); o1=$(h1_tx); c1=$(cpu_snap)
  sink_off
  del=$(( (d1 - d0) / DUR / 1000 )); off=$(( (o1 - o0) / DUR / 1000 ))
  cpu=$(cpu_per "$sys" "$c0" "$c1" $((d1 - d0)))
  put "$sys.sink_off" "$off"; put "$sys.sink_del" "$del"
  put "$sys.sink_loss" "$(awk -v o=$((o1 - o0)) -v d=$((d1 - d0)) 'BEGIN { if (o > 0) printf "%.1f", 100 * (o - d) / o }')"
  read -r cs cp <<<"$cpu"
  put "$sys.sink_swns" "$cs"; put "$sys.sink_pathns" "$cp"
  log "   sink: offered/delivered $off/$del kpps; CPU ns per frame: switch $cs, path $cp"
}

rule_churn() { # sys: every second add RULES_PER_S rules and delete the previous second's; counts in $WORK/churn.n
  local sys=$1 k=0 b t0 left
  date +%s.%N >"$WORK/churn.t0"
  while :; do
    t0=$(date +%s%N)
    b=$((k % 250 + 1))
    awk -v b="$b" -v n="$RULES_PER_S" 'BEGIN { for (i = 0; i < n; i++)
      printf "priority=%d,tcp,nw_src=10.%d.%d.%d,tp_dst=%d,actions=drop\n", i % 1000 + 1, b, int(i / 256) % 256, i % 256, i % 60000 + 1 }' \
      >"$WORK/churn.flows"
    ofctl "$sys" add-flows "$WORK/churn.flows" >/dev/null 2>&1 || log "   churn: add-flows failed"
    [ $k -gt 0 ] && { ofctl "$sys" del-flows "tcp,nw_src=10.$(( (k - 1) % 250 + 1 )).0.0/16" >/dev/null 2>&1 \
      || log "   churn: del-flows failed"; }
    k=$((k + 1)); echo "$k" >"$WORK/churn.n"
    left=$(( 1000000000 - ($(date +%s%N) - t0) ))
    [ $left -gt 0 ] && sleep "$(awk -v l=$left 'BEGIN { printf "%.3f", l / 1e9 }')"
  done
}

churn_phase() { # sys what(static|macs|rules) -> CHURN_KPPS: delivered over DUR 1-second trafgen runs
  local sys=$1 what=$2 d0 d1 o0 o1 t0 t1 s epoch=1
  if [ "$what" = rules ]; then
    echo 0 >"$WORK/churn.n"; rule_churn "$sys" & CHURN_PID=$!
    sleep 0.2
  fi
  d0=$(sink_count); o0=$(h1_tx); t0=$(now)
  for s in $(seq "$DUR"); do
    [ "$what" = macs ] && { CHURN_EPOCH=$((CHURN_EPOCH % 254 + 2)); epoch=$CHURN_EPOCH; }
    frame_cfg "$WORK/churn.cfg" "$epoch"
    (trafgen_run "$WORK/churn.cfg" 1)
  done
  sleep 0.3
  d1=$(sink_count); o1=$(h1_tx); t1=$(now)
  if [ -n "$CHURN_PID" ]; then
    kill "$CHURN_PID" 2>/dev/null; wait "$CHURN_PID" 2>/dev/null; CHURN_PID=""
    CHURN_RULES=$(awk -v n="$(cat "$WORK/churn.n")" -v r="$RULES_PER_S" -v a="$(cat "$WORK/churn.t0")" -v b="$(now)" \
      'BEGIN { printf "%.0f", n * r / (b - a) }')
    ofctl "$sys" del-flows "tcp" >/dev/null 2>&1
  fi
  CHURN_KPPS=$(awk -v d=$((d1 - d0)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", d / (b - a) / 1000 }')
  CHURN_OFF=$(awk -v d=$((o1 - o0)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", d / (b - a) / 1000 }')
}

test_churn() { # sys mode: static / MAC churn / rule churn, each DUR 1-second runs into the sink
  local sys=$1 st mc rc
  n2 ping -c1 -W1 10.231.0.1 >/dev/null 2>&1
  sink_on || { log "   churn: tc bpf drop failed"; return; }
  frame_cfg "$WORK/churn.cfg" 1; (trafgen_run "$WORK/churn.cfg" 1)   # learn the static MACs
  churn_phase "$sys" static; st=$CHURN_KPPS; put "$sys.churn_static_off" "$CHURN_OFF"; local so=$CHURN_OFF
  churn_phase "$sys" macs; mc=$CHURN_KPPS
  put "$sys.churn_static" "$st"; put "$sys.churn_macs" "$mc"
  put "$sys.churn_macs_r" "$(ratio "$mc" "$st")"
  CHURN_RULES=""
  if [ "$sys" != bridge ] && [ "$sys" != direct ]; then   # no flow table there
    churn_phase "$sys" rules; rc=$CHURN_KPPS
    put "$sys.churn_rules" "$rc"; put "$sys.churn_rules_r" "$(ratio "$rc" "$st")"
    put "$sys.churn_rulerate" "$CHURN_RULES"
  fi
  sink_off
  log "   churn ($CHURN_MACS MACs): static $st (of $so offered), new MACs every second $mc, rules ${rc:--} kpps (${CHURN_RULES:--} rules added/s)"
}

test_tcp() { # sys mode: iperf3 1 stream with the CPU it costs
  local sys=$1 mode=$2 p0 p1 c0 c1 g cpu
  if [ "$sys" = ovs ] && [ "$mode" = on ]; then log "   tcp [on]: not measured for ovs (checksums broken)"; return; fi
  p0=$(h2_rx); c0=$(cpu_snap)
  g=$(cg_join "${CGG:-}" "$BASHPID"; measure_tcp "$H2" "$H1" 10.231.0.2)
  p1=$(h2_rx); c1=$(cpu_snap)
  cpu=$(cpu_per "$sys" "$c0" "$c1" $((p1 - p0)))
  read -r cs cp <<<"$cpu"
  put "$sys.tcp_${mode}" "$g"; put "$sys.tcp_${mode}_swns" "$cs"; put "$sys.tcp_${mode}_pathns" "$cp"
  put "$sys.tcp_${mode}_kpps" "$(( (p1 - p0) / DUR / 1000 ))"
  log "   tcp [$mode]: ${g:-FAIL} Gbit/s, $(( (p1 - p0) / DUR / 1000 )) kpps at h2; CPU ns per packet: switch $cs, path $cp"
}

# -- the report ----------------------------------------------------------------------------------
spread() { # key -> "min/median/max" over the rounds ("-" if none)
  local r v=()
  for r in $(seq "$REPEAT"); do [ -n "${R[$1@$r]:-}" ] && v+=("${R[$1@$r]}"); done
  [ ${#v[@]} -eq 0 ] && { echo -; return; }
  printf '%s\n' "${v[@]}" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)
    if (NR == 1) print v[1]; else printf "%s/%s/%s\n", v[1], m, v[NR] }'
}

ratio_spread() { # keyA keyB -> min/median/max of A/B, each round's A over the same round's B
  local r
  for r in $(seq "$REPEAT"); do
    [ -n "${R[$1@$r]:-}" ] && [ -n "${R[$2@$r]:-}" ] && R[_ratio@$r]=$(ratio "${R[$1@$r]}" "${R[$2@$r]}") \
      || unset "R[_ratio@$r]"
  done
  spread _ratio
}

sink_report() {
  local ours=() anchors=() s m k label a r
  for s in $SYSTEMS; do   # what each system adds to the path: its path minus direct's, same round
    for k in sink tcp_off tcp_on; do
      for r in $(seq "$REPEAT"); do
        [ -n "${R[$s.${k}_pathns@$r]:-}" ] && [ -n "${R[direct.${k}_pathns@$r]:-}" ] && [ "$s" != direct ] \
          && R[$s.${k}_netns@$r]=$(( R[$s.${k}_pathns@$r] - R[direct.${k}_pathns@$r] ))
      done
    done
  done
  for s in $SYSTEMS; do case $s in vs|vs1|old) ours+=("$s") ;; *) anchors+=("$s") ;; esac; done
  echo
  local rev mhz
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  [ -n "$(git -C "$ROOT" status --porcelain 2>/dev/null)" ] && rev="$rev+changes"
  mhz=$(awk -F: '/^cpu MHz/ { printf "%.0f", $2; exit }' /proc/cpuinfo)
  echo "vswitch sink benchmark, $(date -u +%Y-%m-%dT%H:%MZ), commit $rev, DUR=${DUR}s, $REPEAT round(s): min/median/max, $(nproc) cores at ${mhz:-?} MHz (cycles ~ ns x ${mhz:-?}/1000), kernel $(uname -r)"
  printf '%-40s' metric; for s in $SYSTEMS; do printf ' %19s' "$s"; done; echo
  for m in "sink_off:64B sink offered kpps" "sink_del:64B sink delivered kpps" "sink_loss:64B sink lost %" \
           "sink_swns:64B CPU ns/frame, switch threads" "sink_pathns:64B CPU ns/frame, path" \
           "sink_netns:64B CPU ns/frame, path - direct" \
           "churn_static_off:churn: static, offered kpps" "churn_static:churn: static ${CHURN_MACS} MACs kpps" "churn_macs:churn: new MACs every s kpps" \
           "churn_macs_r:churn: new MACs / static" "churn_rules:churn: ${RULES_PER_S} rules/s kpps" \
           "churn_rules_r:churn: rules / static" "churn_rulerate:churn: rules added per s" \
           "tcp_off:TCP [off] Gbit/s" "tcp_off_kpps:TCP [off] kpps at h2" "tcp_off_swns:TCP [off] CPU ns/pkt, switch thr." \
           "tcp_off_pathns:TCP [off] CPU ns/pkt, path" "tcp_off_netns:TCP [off] CPU ns/pkt, path - direct" \
           "tcp_on:TCP [on] Gbit/s" "tcp_on_kpps:TCP [on] kpps (GRO) at h2" "tcp_on_swns:TCP [on] CPU ns/pkt, switch thr." \
           "tcp_on_pathns:TCP [on] CPU ns/pkt, path" "tcp_on_netns:TCP [on] CPU ns/pkt, path - direct"; do
    k=${m%%:*}; label=${m#*:}
    a=0; for s in $SYSTEMS; do [ "$(spread "$s.$k")" != - ] && a=1; done
    [ $a = 1 ] || continue
    printf '%-40s' "$label"; for s in $SYSTEMS; do printf ' %19s' "$(spread "$s.$k")"; done; echo
  done
  echo "ratios, each round's figure over the same round's anchor (min/median/max):"
  for m in "sink_del:64B sink delivered (target >= 3 ovs, >= 1 bridge)" \
           "sink_swns:64B CPU/frame, switch threads (target <= 0.5 ovs)" \
           "sink_netns:64B CPU/frame, path - direct (target <= 0.5 ovs)" \
           "churn_macs_r:churn: new MACs / static" "churn_rules_r:churn: rules / static" \
           "tcp_off:TCP [off] Gbit/s" "tcp_off_swns:TCP [off] CPU/pkt, switch threads (target <= 0.5 ovs)" \
           "tcp_off_netns:TCP [off] CPU/pkt, path - direct (target <= 0.5 ovs)" "tcp_on:TCP [on] Gbit/s" \
           "tcp_on_netns:TCP [on] CPU/pkt, path - direct"; do
    k=${m%%:*}; label=${m#*:}
    for s in "${ours[@]}"; do
      for a in "${anchors[@]}"; do
        [ "$a" = direct ] && continue
        [ "$(spread "$s.$k")" = - ] || [ "$(spread "$a.$k")" = - ] && continue
        printf '  %-66s %s\n' "$s/$a $label" "$(ratio_spread "$s.$k" "$a.$k")"
      done
    done
  done
  echo "switch threads = the switch process's CPU time (cpuacct cgroup); path = switch + traffic generators"
  echo "(trafgen / iperf3, cpuacct cgroup) + ksoftirqd, per frame delivered (tcp: per packet received by h2);"
  echo "path - direct = the same minus the direct veth pair's path in the same round: what the switch adds."
}
