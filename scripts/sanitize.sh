#!/usr/bin/env bash
# Runs the tests against sanitizer builds; any sanitizer report fails the run.
#   sudo scripts/sanitize.sh [asan|tsan|all] [--system 'PYTEST ARGS' | --no-system]   (default: all)
#   e.g. scripts/sanitize.sh asan --system 'tests/system/test_mgmt_socket.py -k garbage'
#        scripts/sanitize.sh tsan --no-system
#
# asan: builds the tree with -DVSWITCH_SANITIZE=ON (AddressSanitizer + LeakSanitizer + UBSan) into
#       build-asan, runs every unit test (ctest) and system tests against it (VSWITCH_BUILD=
#       build-asan: vswitchd, vsctl, vsappctl, vsofctl and vs-controller are all instrumented).
#       System tests: the --system selection, else ASAN_PYTEST (default: the whole of tests/system).
# tsan: builds with -fsanitize=thread into build-tsan, runs the unit tests (NormalTest.
#       DummyPortsWorkWithThePollThread runs the datapath's poll thread, PollThreads.* two of them
#       transmitting to each other's ports; the management server,
#       client and controller-session tests run an io_context thread) and short system tests with
#       real traffic through the daemon's poll thread while the control thread reconfigures it:
#       forwarding, floods (MAC flood, broadcast storm) and the FDB, ~1 min (the --system
#       selection, else TSAN_PYTEST).
# Both trees are built -O1 -g1 (line tables: symbolized stacks at a fraction of the compile time).
#
# Every sanitizer writes its reports to BUILD/sanitizer-reports/{report,tsan}.PID (log_path), so
# a report from a daemon that a test stops, from a tool, or from a test process is never lost in a
# pipe; halt_on_error=1 makes the first error stop that process (a daemon that dies makes its test
# fail too). The directory is 1777: tests run tools as user nobody too. After the tests, every
# report is printed and the run fails if there is any.
#
# Environment: ASAN_PYTEST / TSAN_PYTEST (default system-test selections, see above),
#   CTEST_ARGS (e.g. "-R Normal"), BUILD_ASAN / BUILD_TSAN (build trees; default build-asan /
#   build-tsan), VSWITCH_TEST_TIMEOUT (per-test deadline; default 300 s here: instrumented
#   binaries are slower). scripts/check.sh runs this script when VSWITCH_SANITIZE=1.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WHAT=all
SYSTEM_SEL=""      # --system: overrides both defaults
RUN_SYSTEM=1
usage() { echo "usage: scripts/sanitize.sh [asan|tsan|all] [--system 'PYTEST ARGS' | --no-system]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    asan|tsan|all) WHAT=$1 ;;
    --system) [ $# -ge 2 ] || usage; SYSTEM_SEL=$2; shift ;;
    --system=*) SYSTEM_SEL=${1#--system=} ;;
    --no-system) RUN_SYSTEM=0 ;;
    *) usage ;;
  esac
  shift
done
BUILD_ASAN=${BUILD_ASAN:-$ROOT/build-asan}
BUILD_TSAN=${BUILD_TSAN:-$ROOT/build-tsan}
ASAN_PYTEST=${SYSTEM_SEL:-${ASAN_PYTEST:-tests/system}}
# (In a separate variable: quotes inside a ${VAR:-default} word would be removed, splitting -k.)
DEFAULT_TSAN='tests/system/test_forwarding.py tests/system/test_floods.py tests/system/test_fdb.py'
TSAN_PYTEST=${SYSTEM_SEL:-${TSAN_PYTEST:-$DEFAULT_TSAN}}
FAST_FLAGS=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG")
export VSWITCH_TEST_TIMEOUT=${VSWITCH_TEST_TIMEOUT:-300}
SUPP="$ROOT/tests/fuzz/ubsan.supp"
if [ "$(id -u)" -ne 0 ]; then
  echo "sanitize.sh: must run as root (the system tests need namespaces, veth pairs, AF_PACKET)" >&2
  exit 1
fi
step() { printf '\n==== %s\n' "$*"; }
command -v llvm-symbolizer >/dev/null && export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
scripts/setup.sh >/dev/null || { echo "sanitize.sh: scripts/setup.sh failed" >&2; exit 1; }

# Prints every report under $1 and returns 1 if there is any.
reports() {
  local dir=$1 n
  n=$(find "$dir" -type f 2>/dev/null | wc -l)
  if [ "$n" -eq 0 ]; then echo "sanitizer reports: none"; return 0; fi
  echo "!!!! $n sanitizer report(s) in $dir:"
  for f in "$dir"/*; do
    echo "----- $f"
    head -c 20000 "$f"
  done
  return 1
}

build() {  # build DIR CMAKE-ARGS...
  local dir=$1; shift
  local gen=(-G Ninja)
  if [ -f "$dir/CMakeCache.txt" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt"; then gen=(); fi
  cmake -S "$ROOT" -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null \
    && cmake --build "$dir" -j2
}

# Runs the unit tests and (unless --no-system) the system selection $3 against the build in $2,
# then prints the reports the sanitizer $1 left in $2/sanitizer-reports; $4 bounds the system
# tests (seconds). Sets fail=1 on any failure or report.
run_suite() {
  local name=$1 dir=$2 sel=$3 limit=$4
  step "unit tests under $name"
  # shellcheck disable=SC2086
  ctest --test-dir "$dir" --output-on-failure -j2 --timeout 600 ${CTEST_ARGS:-} || fail=1
  if [ $RUN_SYSTEM -eq 1 ]; then
    step "system tests under $name (VSWITCH_BUILD=$dir): $sel"
    eval VSWITCH_BUILD="$dir" timeout --kill-after=30 "$limit" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
      "$sel" || fail=1
  fi
  step "$name reports"
  reports "$dir/sanitizer-reports" || fail=1
}

# An empty report directory every sanitized process (tests run tools as nobody too) can write to.
fresh_reports() { rm -rf "$1/sanitizer-reports"; mkdir -p "$1/sanitizer-reports"; chmod 1777 "$1/sanitizer-reports"; }

fail=0
if [ "$WHAT" = asan ] || [ "$WHAT" = all ]; then
  step "ASan+UBSan build ($BUILD_ASAN, -DVSWITCH_SANITIZE=ON)"
  build "$BUILD_ASAN" -DVSWITCH_SANITIZE=ON "${FAST_FLAGS[@]}" || { echo "sanitize.sh: ASan build failed" >&2; exit 1; }
  fresh_reports "$BUILD_ASAN"
  R="$BUILD_ASAN/sanitizer-reports"
  # One log_path for both: they share sanitizer_common, and the last one set would win anyway.
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_init_order=1:log_path=$R/report"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$SUPP:log_path=$R/report"
  run_suite "ASan+UBSan" "$BUILD_ASAN" "$ASAN_PYTEST" 3600
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

if [ "$WHAT" = tsan ] || [ "$WHAT" = all ]; then
  step "ThreadSanitizer build ($BUILD_TSAN)"
  build "$BUILD_TSAN" "${FAST_FLAGS[@]}" -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" || { echo "sanitize.sh: TSan build failed" >&2; exit 1; }
  fresh_reports "$BUILD_TSAN"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$BUILD_TSAN/sanitizer-reports/tsan"
  run_suite "TSan" "$BUILD_TSAN" "$TSAN_PYTEST" 1200
  unset TSAN_OPTIONS
fi

[ $fail -eq 0 ] && echo "sanitize.sh: clean" || echo "sanitize.sh: FAILED" >&2
exit $fail
