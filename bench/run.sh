#!/usr/bin/env bash
# Builds and runs every benchmark (not part of the test suite); about 12 minutes on 2 busy cores
# plus the build. Needs redis-server, the Docker engine with the dray-test images, wrk, jq,
# md5sum and /bin/busybox. Results and how to read them: bench/README.md.
#   bench/run.sh          everything
#   bench/run.sh redis    only issue 20's Redis part (~5 min): the log rate with flush-ms 0 and
#                         50 (10 rounds of 300,000 lines unless BENCH_LOG_* say otherwise), and
#                         engine_bench.sh part 5 (latency and throughput on Redis)
#   DRAY_BENCH_BUILD_DIR   build directory (default: build-bench in the repository)
#   BENCH_LOG_ROUNDS, BENCH_LOG_LINES, BENCH_CALL_ROUNDS, and engine_bench.sh's BENCH_*
set -euo pipefail
only="${1:-all}"
case "$only" in all | redis) ;; *) echo "usage: bench/run.sh [redis]" >&2; exit 2 ;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_BENCH_BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDRAY_BUILD_TESTS=OFF -DDRAY_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
"$root/tests/images/build.sh" >/dev/null
echo "start $(date -u +%FT%TZ), load: $(uptime)"
if [ "$only" = redis ]; then
  # More, shorter rounds than the full run: the flush-ms 0 / 50 ratio needs them to be read.
  BENCH_LOG_ROUNDS="${BENCH_LOG_ROUNDS:-10}" BENCH_LOG_LINES="${BENCH_LOG_LINES:-300000}" "$build/bin/bench_log_throughput"
  BENCH_PARTS=5 "$root/bench/engine_bench.sh" "$build"
else
  "$build/bin/bench_log_throughput"
  "$build/bin/bench_engine_calls"
  "$root/bench/engine_bench.sh" "$build"
fi
echo "end $(date -u +%FT%TZ), load: $(uptime)"
