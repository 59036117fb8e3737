#!/usr/bin/env bash
# Builds Dray with sanitizers and runs the tests they cover (issue 14):
#   scripts/sanitize.sh address,undefined   ASan + UBSan: unit, http, docker and redis tests
#   scripts/sanitize.sh thread              TSan: unit and docker tests
# Build directory: $DRAY_SANITIZE_BUILD_DIR, else build-asan / build-tsan in the repository.
# Assumes scripts/setup.sh ran (packages, engine, test images). Extra arguments go to ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode="${1:?usage: sanitize.sh address,undefined|thread [ctest arguments…]}"
shift
# Sanitizer builds are compile-bound here (the tests mostly wait on the engine): -g1 (line
# tables: enough for reports) and the cheapest optimisation that keeps the run fast. UBSan
# makes -O1 cost twice -Og to compile; TSan at -O1 compiles as fast as at -Og and runs faster.
case "$mode" in
  address,undefined) name=asan labels='unit|http|docker|redis' optimize='-Og -g1' ;;
  thread) name=tsan labels='unit|docker' optimize='-O1 -g1' ;;
  *) echo "sanitize.sh: unknown mode '$mode' (address,undefined or thread)" >&2; exit 2 ;;
esac
build="${DRAY_SANITIZE_BUILD_DIR:-$root/build-$name}"
supp="$root/tests/sanitizers"
jobs="${DRAY_SANITIZE_JOBS:-2}"

# Only the executables registered under the labels (read from tests/CMakeLists.txt, one
# command per match), plus what the tests start: dray, dray-cli (plugins come as dependencies).
label_re="^($labels)\$"
targets=(dray dray-cli dray-engine-proxy)
while read -r exe label; do
  [[ "$label" =~ $label_re ]] && [[ " ${targets[*]} " != *" $exe "* ]] && targets+=("$exe")
done < <(tr '\n' ' ' < "$root/tests/CMakeLists.txt" |
         grep -oE '(dray_register|catch_discover_tests)\([^)]*\)' |
         sed -nE 's/^[a-z_]+\(([A-Za-z0-9_-]+) .*LABELS ([a-z0-9]+).*/\1 \2/p')

# CPU seconds used by this script's finished children: on a shared machine, wall time alone
# says little about what the stage costs.
cpu() {
  local stat
  read -ra stat < /proc/$$/stat
  echo $(((stat[15] + stat[16]) / $(getconf CLK_TCK)))
}
started=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$optimize -DNDEBUG" \
  -DDRAY_SANITIZE="$mode" -DDRAY_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"
built=$(date +%s) build_cpu=$(cpu)
echo "sanitize.sh: built ${targets[*]} with -fsanitize=$mode in $((built - started)) s ($build_cpu s CPU)"

# ASan, LSan and TSan reports go to $logs/<sanitizer>.<pid>: dray runs as a child of the tests
# with its stderr in a temporary log, so a finding there would otherwise go unseen. GCC's UBSan
# runtime beside ASan ignores log_path: its reports go to stderr, where the test binary fails
# on them, or to dray's log, which the test support scans. Options reach dray through the
# environment it inherits from ctest.
logs="$build/sanitizer-logs"
rm -rf "$logs" && mkdir -p "$logs"
suppress() { [ -f "$supp/$1" ] && echo ":suppressions=$supp/$1" || true; }
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:log_path=$logs/asan"
export LSAN_OPTIONS="print_suppressions=0$(suppress lsan.supp)"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1$(suppress ubsan.supp)"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$logs/tsan$(suppress tsan.supp)"

status=0
ctest --test-dir "$build" -L "$labels" --no-tests=error --output-on-failure -j "$jobs" "$@" || status=$?
finished=$(date +%s) test_cpu=$(($(cpu) - build_cpu))

reports=("$logs"/*)
if [ -e "${reports[0]}" ]; then
  for report in "${reports[@]}"; do
    echo "===== sanitizer report $(basename "$report") ====="
    cat "$report"
  done
  echo "sanitize.sh: ${#reports[@]} sanitizer report(s) above" >&2
  status=1
fi
echo "sanitize.sh: $mode: build $((built - started)) s ($build_cpu s CPU), tests $((finished - built)) s" \
  "($test_cpu s CPU, the engine's not counted) (ctest -L '$labels')"
exit $status
