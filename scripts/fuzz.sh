#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, issue 14) with clang and runs each one for
# $DRAY_FUZZ_SECONDS (default 30) on a copy of its seed corpus, so the tree's corpus stays as
# it is. Prints `fuzz: <target> <execs> executions in <s> s, ok` per target; on a crash,
# leak, timeout or broken invariant prints the target's output tail and the input that did
# it (hexdump -C), and exits non-zero once every target has run.
#   scripts/fuzz.sh                  every target
#   scripts/fuzz.sh router tar_reader   only these (names without fuzz_)
# Build directory: $DRAY_FUZZ_BUILD_DIR, else build-fuzz in the repository. Installs nothing:
# needs clang and libclang-rt-14-dev (Debian), which CI installs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${DRAY_FUZZ_SECONDS:-30}"
jobs="${DRAY_FUZZ_JOBS:-2}"

for tool in clang clang++; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz.sh: $tool not found; install clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
  fi
done

# The targets tests/fuzz/CMakeLists.txt declares, or those asked for.
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed -nE 's/^dray_fuzz_target\(([a-z_]+) .*/\1/p' "$root/tests/fuzz/CMakeLists.txt")
fi
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets found" >&2; exit 2; }

started=$(date +%s)
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDRAY_FUZZ=ON -DDRAY_BUILD_TESTS=OFF -DDRAY_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"
echo "fuzz.sh: built ${#targets[@]} targets in $(($(date +%s) - started)) s; ${seconds} s each"

# Findings abort (the targets are built with -fno-sanitize-recover=undefined as well).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# hexdump -C where bsdextrautils is installed, else od's equivalent.
dump() { if command -v hexdump >/dev/null; then hexdump -C; else od -A x -t x1z -v; fi; }

runs="$build/fuzz-runs"
failed=()
for name in "${targets[@]}"; do
  target="fuzz_$name"
  exe="$build/bin/$target"
  seeds="$root/tests/fuzz/corpus/$name"
  work="$runs/$name"
  rm -rf "$work" && mkdir -p "$work/corpus" "$work/artifacts"
  [ -d "$seeds" ] && cp -r "$seeds/." "$work/corpus/"
  log="$work/output.txt"
  begin=$(date +%s)
  status=0
  # -timeout: one input taking 10 s is a finding too; -rss_limit_mb: so is 2 GiB of memory.
  "$exe" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$log" 2>&1 || status=$?
  took=$(($(date +%s) - begin))
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)
  artifacts=("$work/artifacts"/*)
  if [ "$status" -eq 0 ] && [ ! -e "${artifacts[0]}" ]; then
    echo "fuzz: $target ${execs:-?} executions in $took s, ok"
    continue
  fi
  failed+=("$target")
  echo "fuzz: $target FAILED (exit $status) after ${execs:-?} executions in $took s"
  echo "----- $target: last 60 lines of its output ($log) -----"
  tail -n 60 "$log"
  for artifact in "${artifacts[@]}"; do
    [ -e "$artifact" ] || continue
    echo "----- $target: input $(basename "$artifact") ($(wc -c <"$artifact") bytes), first 64 KiB -----"
    head -c 65536 "$artifact" | dump
    echo "reproduce: $exe $artifact"
  done
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} target(s) found a problem: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ok, ${seconds} s each"
