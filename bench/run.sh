#!/usr/bin/env bash
# Builds and runs every benchmark (not part of the test suite); about 8.5 minutes on 2 busy cores
# plus the build. Needs redis-server, the Docker engine with the dray-test images, wrk, jq,
# md5sum and /bin/busybox. Results and how to read them: bench/README.md.
#   DRAY_BENCH_BUILD_DIR   build directory (default: build-bench in the repository)
#   BENCH_LOG_ROUNDS, BENCH_LOG_LINES, BENCH_CALL_ROUNDS, and engine_bench.sh's BENCH_*
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_BENCH_BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDRAY_BUILD_TESTS=OFF -DDRAY_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
"$root/tests/images/build.sh" >/dev/null
"$build/bin/bench_log_throughput"
"$build/bin/bench_engine_calls"
"$root/bench/engine_bench.sh" "$build"
