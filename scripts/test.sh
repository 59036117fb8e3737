#!/usr/bin/env bash
# Sets up the machine (packages, Docker engine, build, test images) and runs every test.
# Stages, in order (DRAY_TEST_STAGES picks some, e.g. DRAY_TEST_STAGES="full"):
#   format  clang-format check of the C++ tree (.clang-format)
#   full    every CTest test of the normal build: unit, docker, http, e2e, redis, image
#   asan    unit, http, docker and redis tests under ASan + UBSan (scripts/sanitize.sh)
#   tsan    unit and docker tests under TSan
#   fuzz    each libFuzzer target for DRAY_FUZZ_SECONDS (30) s (scripts/fuzz.sh)
# Extra arguments go to the full stage's ctest (e.g. -L unit); the test-count floor then
# does not apply.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_BUILD_DIR:-$root/build}"
stages="${DRAY_TEST_STAGES:-format full asan tsan fuzz}"
# The full run must run at least this many tests: a broken registration that silently
# drops a suite fails here instead of passing on fewer tests.
min_tests=340

timings=()
stage() {  # stage <name> <command…>: runs it, records how long it took
  local name="$1" begin
  shift
  [[ " $stages " == *" $name "* ]] || return 0
  echo "===== test stage: $name ($(date -u +%H:%M:%S))"
  begin=$(date +%s)
  "$@"
  timings+=("$name $(($(date +%s) - begin)) s")
}

full_run() {
  local log="$build/ctest-full.log"
  ctest --test-dir "$build" --output-on-failure --no-tests=error -j 2 "$@" | tee "$log"
  [ $# -gt 0 ] && return 0
  local ran
  ran=$(sed -nE 's/.* tests? failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
  if [ -z "$ran" ] || [ "$ran" -lt "$min_tests" ]; then
    echo "test.sh: the full run ran ${ran:-no} tests, fewer than the floor of $min_tests" >&2
    return 1
  fi
  echo "test.sh: $ran tests ran (floor $min_tests)"
}

begin_all=$(date +%s)
setup_begin=$(date +%s)
"$root/scripts/setup.sh" --for-tests
timings+=("setup $(($(date +%s) - setup_begin)) s")
stage format "$root/scripts/check-format.sh"
stage full full_run "$@"
stage asan "$root/scripts/sanitize.sh" address,undefined
stage tsan "$root/scripts/sanitize.sh" thread
stage fuzz "$root/scripts/fuzz.sh"
echo "===== test.sh: all stages passed in $(($(date +%s) - begin_all)) s"
printf '  %s\n' "${timings[@]}"
