#!/usr/bin/env bash
# Builds and runs every benchmark (not part of the test suite). Needs redis-server, the
# Docker engine with the dray-test images, wrk and bc. Results: bench/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_BENCH_BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDRAY_BUILD_TESTS=OFF -DDRAY_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
"$root/tests/images/build.sh" >/dev/null
"$build/bin/bench_log_throughput"
"$build/bin/bench_engine_calls"
"$root/bench/engine_bench.sh" "$build"
