#!/usr/bin/env bash
# The project's test command (README, CI): dependencies, build, unit tests, system tests.
#   sudo scripts/check.sh
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo),
#              PYTEST_ARGS (extra pytest arguments, e.g. "-k fdb -x"),
#              VSWITCH_SANITIZE=1 (opt-in, off by default: CI has a time limit) also runs
#              scripts/sanitize.sh afterwards: ASan+UBSan and TSan builds, their unit tests and
#              system tests (SANITIZE_PYTEST: the system-test selection for both; default: the
#              script's own, i.e. the whole suite under ASan, a forwarding subset under TSan).
# Exits non-zero if the build or any test fails. The last lines are pytest's summary.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}

if [ "$(id -u)" -ne 0 ]; then
  echo "check.sh: must run as root: the system tests create network namespaces, veth pairs and" >&2
  echo "          AF_PACKET sockets. Run: sudo scripts/check.sh" >&2
  exit 1
fi

step() { printf '\n==== %s\n' "$*"; }

step "setup (scripts/setup.sh)"
scripts/setup.sh || { echo "check.sh: scripts/setup.sh failed" >&2; exit 1; }

step "configure + build ($BUILD_DIR, $BUILD_TYPE)"
gen=(-G Ninja)
if [ -f "$BUILD_DIR/CMakeCache.txt" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD_DIR/CMakeCache.txt"; then
  gen=()   # an existing tree made with another generator: keep it
fi
cmake -S "$ROOT" -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null \
  || { echo "check.sh: cmake configure failed" >&2; exit 1; }
cmake --build "$BUILD_DIR" -j2 || { echo "check.sh: build failed" >&2; exit 1; }

step "unit tests (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 300
unit_rc=$?

step "system tests (pytest, tests/system)"
# Debian's interpreter: it has python3-pytest and python3-scapy (the first python3 on PATH may not).
# shellcheck disable=SC2086
VSWITCH_BUILD="$BUILD_DIR" timeout --kill-after=30 1500 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  tests/system ${PYTEST_ARGS:-}
sys_rc=$?
if [ $sys_rc -eq 124 ]; then echo "check.sh: system tests timed out" >&2; fi

san_rc=0
if [ "${VSWITCH_SANITIZE:-0}" = 1 ]; then
  step "sanitizers (scripts/sanitize.sh, VSWITCH_SANITIZE=1)"
  san_args=(all)
  [ -n "${SANITIZE_PYTEST:-}" ] && san_args+=(--system "$SANITIZE_PYTEST")
  scripts/sanitize.sh "${san_args[@]}"
  san_rc=$?
  if [ $san_rc -ne 0 ]; then echo "check.sh: sanitizer run FAILED (sanitize.sh exit $san_rc)" >&2; fi
fi
if [ $unit_rc -ne 0 ]; then echo "check.sh: unit tests FAILED (ctest exit $unit_rc)" >&2; fi
if [ $sys_rc -ne 0 ]; then echo "check.sh: system tests FAILED (pytest exit $sys_rc)" >&2; fi
[ $unit_rc -eq 0 ] && [ $sys_rc -eq 0 ] && [ $san_rc -eq 0 ]
