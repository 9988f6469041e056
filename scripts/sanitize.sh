#!/usr/bin/env bash
# Runs the tests against sanitizer builds; any sanitizer report fails the run.
#   sudo scripts/sanitize.sh [asan|tsan|all]          (default: all)
#
# asan: builds the tree with -DVSWITCH_SANITIZE=ON (AddressSanitizer + LeakSanitizer + UBSan) into
#       build-asan, runs every unit test (ctest) and the system tests against it
#       (VSWITCH_BUILD=build-asan: vswitchd, vsctl, vsappctl and vsofctl are all instrumented).
# tsan: builds with -fsanitize=thread into build-tsan, runs the unit tests (NormalTest.
#       DummyPortsWorkWithThePollThread runs the datapath's poll thread; the management server and
#       client tests run an io_context thread) and a short system test with real traffic through the
#       daemon's poll thread while the control thread reconfigures it.
#
# Every sanitizer writes its reports to BUILD/sanitizer-reports/{report,tsan}.PID (log_path), so
# a report from a daemon that a test stops, from a tool, or from a test process is never lost in a
# pipe; halt_on_error=1 makes the first error stop that process (a daemon that dies makes its test
# fail too). After the tests, every report is printed and the run fails if there is any.
#
# Environment: PYTEST_ARGS (extra pytest arguments for the ASan system tests, e.g. "-k fdb"),
#   TSAN_PYTEST (the TSan system-test selection; default below), CTEST_ARGS (e.g. "-R Normal"),
#   BUILD_ASAN / BUILD_TSAN (build trees; default build-asan / build-tsan),
#   VSWITCH_TEST_TIMEOUT (per-test deadline; default 300 s here: instrumented binaries are slower).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WHAT=${1:-all}
BUILD_ASAN=${BUILD_ASAN:-$ROOT/build-asan}
BUILD_TSAN=${BUILD_TSAN:-$ROOT/build-tsan}
TSAN_PYTEST=${TSAN_PYTEST:-tests/system/test_forwarding.py -k "ping_both_ways or del_port or dpif_show"}
export VSWITCH_TEST_TIMEOUT=${VSWITCH_TEST_TIMEOUT:-300}
SUPP="$ROOT/tests/fuzz/ubsan.supp"
case "$WHAT" in asan|tsan|all) ;; *) echo "usage: scripts/sanitize.sh [asan|tsan|all]" >&2; exit 2 ;; esac
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

fail=0
if [ "$WHAT" = asan ] || [ "$WHAT" = all ]; then
  step "ASan+UBSan build ($BUILD_ASAN, -DVSWITCH_SANITIZE=ON)"
  build "$BUILD_ASAN" -DVSWITCH_SANITIZE=ON || { echo "sanitize.sh: ASan build failed" >&2; exit 1; }
  R="$BUILD_ASAN/sanitizer-reports"; rm -rf "$R"; mkdir -p "$R"
  # One log_path for both: they share sanitizer_common, and the last one set would win anyway.
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:strict_init_order=1:log_path=$R/report"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$SUPP:log_path=$R/report"
  step "unit tests under ASan+UBSan"
  # shellcheck disable=SC2086
  ctest --test-dir "$BUILD_ASAN" --output-on-failure -j2 --timeout 600 ${CTEST_ARGS:-} || fail=1
  step "system tests under ASan+UBSan (VSWITCH_BUILD=$BUILD_ASAN)"
  # shellcheck disable=SC2086
  VSWITCH_BUILD="$BUILD_ASAN" timeout --kill-after=30 3600 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    tests/system ${PYTEST_ARGS:-} || fail=1
  step "ASan/UBSan/LSan reports"
  reports "$R" || fail=1
  unset ASAN_OPTIONS UBSAN_OPTIONS
fi

if [ "$WHAT" = tsan ] || [ "$WHAT" = all ]; then
  step "ThreadSanitizer build ($BUILD_TSAN)"
  build "$BUILD_TSAN" -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" || { echo "sanitize.sh: TSan build failed" >&2; exit 1; }
  R="$BUILD_TSAN/sanitizer-reports"; rm -rf "$R"; mkdir -p "$R"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$R/tsan"
  step "unit tests under TSan"
  # shellcheck disable=SC2086
  ctest --test-dir "$BUILD_TSAN" --output-on-failure -j2 --timeout 600 ${CTEST_ARGS:-} || fail=1
  step "system tests under TSan: $TSAN_PYTEST"
  # shellcheck disable=SC2086
  eval VSWITCH_BUILD="$BUILD_TSAN" timeout --kill-after=30 1200 /usr/bin/python3 -m pytest -q -p no:cacheprovider \
    "$TSAN_PYTEST" || fail=1
  step "TSan reports"
  reports "$R" || fail=1
  unset TSAN_OPTIONS
fi

[ $fail -eq 0 ] && echo "sanitize.sh: clean" || echo "sanitize.sh: FAILED" >&2
exit $fail
