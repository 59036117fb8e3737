#!/usr/bin/env bash
# Builds and runs every benchmark (not part of the test suite). Needs redis-server.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_BENCH_BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDRAY_BUILD_TESTS=OFF -DDRAY_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" --target bench_log_throughput >/dev/null
"$build/bin/bench_log_throughput"
