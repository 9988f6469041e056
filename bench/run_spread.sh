# Sourced by bench/run.sh when REPEAT > 1 (issue #20, item 1: a target must hold in every round, not
# only in the median): the spread over the rounds, min/median/max, of each figure and of each
# round's vswitch/anchor ratio (vswitch over the anchor measured in the same round). Reads R[KEY@ROUND].
spread_of() { # key -> "min/median/max" over the rounds ("-" if none)
  local r v=()
  for r in $(seq "$REPEAT"); do [ -n "${R[$1@$r]:-}" ] && v+=("${R[$1@$r]}"); done
  [ ${#v[@]} -eq 0 ] && { echo -; return; }
  printf '%s\n' "${v[@]}" | sort -g | awk '{ v[NR] = $1 } END {
    m = (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); printf "%s/%s/%s\n", v[1], m, v[NR] }'
}
ratio_spread_of() { # keyA keyB -> min/median/max of each round's A / B
  local r
  for r in $(seq "$REPEAT"); do
    unset "R[_r@$r]"
    [ -n "${R[$1@$r]:-}" ] && [ -n "${R[$2@$r]:-}" ] && R[_r@$r]=$(ratio "${R[$1@$r]}" "${R[$2@$r]}")
  done
  spread_of _r
}
echo
echo "spread over the $REPEAT rounds, min/median/max:"
printf '%-34s %22s %22s %22s %22s   %-16s %-16s' metric direct bridge ovs vswitch "vs/bridge" "vs/ovs"
[ -n "${OLD_BUILD_DIR:-}" ] && printf ' %22s   %-16s' vsold "vsold/bridge"
echo
for mode in $MODES; do
  for m in "tcp:TCP 1 stream Gbit/s" "pps_delivered:64B delivered kpps" "pps_lost:64B lost %" \
           "lat_avg:latency avg us" "lat_p99:latency p99 us"; do
    k=${m%%:*}
    printf '%-34s %22s %22s %22s %22s   %-16s %-16s' "${m#*:} [$mode]" \
      "$(spread_of "direct.${k}_$mode")" "$(spread_of "bridge.${k}_$mode")" "$(spread_of "ovs.${k}_$mode")" \
      "$(spread_of "vswitch.${k}_$mode")" \
      "$(case $k in pps_lost) echo - ;; *) ratio_spread_of "vswitch.${k}_$mode" "bridge.${k}_$mode" ;; esac)" \
      "$(case $k in pps_lost) echo - ;; *) ratio_spread_of "vswitch.${k}_$mode" "ovs.${k}_$mode" ;; esac)"
    [ -n "${OLD_BUILD_DIR:-}" ] && printf ' %22s   %-16s' "$(spread_of "vsold.${k}_$mode")" \
      "$(case $k in pps_lost) echo - ;; *) ratio_spread_of "vsold.${k}_$mode" "bridge.${k}_$mode" ;; esac)"
    echo
  done
done
echo "ratio columns: each round's vswitch (vsold: OLD_BUILD_DIR's vswitchd) figure over the anchor's of the same round."
