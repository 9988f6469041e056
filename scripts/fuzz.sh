#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang + ASan + UBSan) and runs each for a bounded time
# (-max_total_time=SECONDS, and a hard timeout of SECONDS + 300 s around each target).
#   sudo scripts/fuzz.sh [SECONDS]        # default 30 s per target
# Environment:
#   FUZZ_TARGETS   space-separated subset (default: all ten, see below)
#   BUILD_DIR      build tree (default build-fuzz)
#   FUZZ_ARGS      extra libFuzzer flags (e.g. "-jobs=2 -workers=2", "-seed=1")
# Per target T, the growing corpus is BUILD_DIR/fuzz-corpus/T (seeded from tests/fuzz/corpus/T),
# crash inputs go to BUILD_DIR/fuzz-artifacts/T/, the log to BUILD_DIR/fuzz-logs/T.log. A crash
# fails the run and is printed with the command that reproduces it; keep the input as a regression:
#   cp BUILD_DIR/fuzz-artifacts/T/crash-* tests/fuzz/regressions/T/   (replayed by the unit tests)
# Root is needed by mgmt_methods (it runs the daemon core in a private network namespace) and to
# install clang (Debian: clang-16, libclang-rt-16-dev) when it is missing. clang-16, not the
# default clang-14: the tree captures structured bindings in lambdas (C++20), which clang < 16
# refuses (vswitchd/rpc_*.cpp).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECONDS_EACH=${1:-30}
BUILD_DIR=${BUILD_DIR:-$ROOT/build-fuzz}
ALL_TARGETS="flow_extract vxlan_decap tunnel_header vnet_offload lacpdu bpdu flow_parse cache_fresh jsonrpc ofmsg of13 config_load mgmt_methods ovsdb_transact"
TARGETS=${FUZZ_TARGETS:-$ALL_TARGETS}
case "$SECONDS_EACH" in ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;; esac

need=()
command -v clang++-16 >/dev/null || need+=(clang-16)
ls /usr/lib/llvm-16/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-16-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "fuzz.sh: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { echo "fuzz.sh: could not install ${need[*]}" >&2; exit 1; }
fi

echo "==== build ($BUILD_DIR: clang-16, -DVSWITCH_FUZZ=ON)"
CC=clang-16 CXX=clang++-16 cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DVSWITCH_FUZZ=ON -DVSWITCH_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || { echo "fuzz.sh: cmake failed" >&2; exit 1; }
bins=(); for t in $TARGETS; do bins+=("fuzz_$t"); done
ninja -C "$BUILD_DIR" -j2 "${bins[@]}" || { echo "fuzz.sh: build failed" >&2; exit 1; }

max_len() {
  case "$1" in
    flow_extract|vxlan_decap) echo 2048 ;;
    tunnel_header) echo 256 ;;
    vnet_offload) echo 1024 ;;
    lacpdu) echo 256 ;;
    flow_parse) echo 512 ;;
    cache_fresh) echo 4096 ;;
    config_load) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
# The suppressions (RapidJSON 1.1's pointer arithmetic on a null stack, recoverable in this build)
# are not optional: without them every JSON target stops on its first input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$ROOT/tests/fuzz/ubsan.supp}
sym=$(command -v llvm-symbolizer-16 || command -v llvm-symbolizer || true)
[ -n "$sym" ] && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$sym}
summary=()
failed=0
for t in $TARGETS; do
  corpus="$BUILD_DIR/fuzz-corpus/$t"; artifacts="$BUILD_DIR/fuzz-artifacts/$t"; log="$BUILD_DIR/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  dict=(); [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  echo "==== fuzz_$t for ${SECONDS_EACH}s"
  # shellcheck disable=SC2086
  # -max_total_time bounds the fuzzing; timeout(1) bounds the whole run (corpus loading, a hang).
  timeout --kill-after=30 $((SECONDS_EACH + 300)) \
  "$BUILD_DIR/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=4096 \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
  cov=$(grep -oE '(INITED|DONE|NEW|REDUCE|pulse) +cov: [0-9]+' "$log" | tail -1 | awk '{print $3}')
  ncorpus=$(find "$corpus" -type f | wc -l)
  if [ $rc -ne 0 ]; then
    failed=1
    echo "!!!! fuzz_$t FAILED (exit $rc); log: $log"
    grep -E '^(==[0-9]+==ERROR|\*\*\* fuzz target|SUMMARY|.*runtime error)' "$log" | head -5
    grep -E 'Test unit written to' "$log" | tail -1
    echo "     reproduce: $BUILD_DIR/tests/fuzz/fuzz_$t <that file>"
  fi
  summary+=("$(printf '%-14s %8s execs  cov %-6s corpus %-5s %s' "$t" "$execs" "${cov:-?}" "$ncorpus" "$([ $rc -eq 0 ] && echo ok || echo CRASH)")")
done
echo
echo "==== summary (${SECONDS_EACH}s each)"
printf '%s\n' "${summary[@]}"
exit $failed
