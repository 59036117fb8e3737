#!/usr/bin/env bash
# Builds and runs every benchmark (not part of the test suite); about 12 minutes on 2 busy cores
# plus the build. Needs redis-server, the Docker engine with the dray-test images, wrk, jq,
# md5sum and /bin/busybox. Results and how to read them: bench/README.md.
#   bench/run.sh          everything
#   bench/run.sh redis    only issue 20's Redis part (~5 min): the log rate with flush-ms 0 and
#                         50 (10 rounds of 300,000 lines unless BENCH_LOG_* say otherwise), and
#                         engine_bench.sh part 5 (latency and throughput on Redis)
#   bench/run.sh stream   only issue 18's part: stream mode vs sequential vs the shell pipe
#                         (engine_bench.sh part 6)
#   bench/run.sh scale    only issue 17's part (~3 min): jobs per second through one node and
#                         through two nodes on two engines sharing Redis (bench/scale_bench.sh)
#   bench/run.sh events   only issue 16's push part (~3 min): push latency (SSE log and end
#                         events, long-poll, webhook) on memory and on Redis, and the Word Job
#                         with and without 400 followers (bench_push_latency)
#   DRAY_BENCH_BUILD_DIR   build directory (default: build-bench in the repository)
#   BENCH_LOG_ROUNDS, BENCH_LOG_LINES, BENCH_CALL_ROUNDS, and engine_bench.sh's BENCH_*
set -euo pipefail
only="${1:-all}"
case "$only" in all | redis | events | stream | scale) ;; *) echo "usage: bench/run.sh [redis|events|stream|scale]" >&2; exit 2 ;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_BENCH_BUILD_DIR:-$root/build-bench}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DDRAY_BUILD_TESTS=OFF -DDRAY_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
"$root/tests/images/build.sh" >/dev/null
echo "start $(date -u +%FT%TZ), load: $(uptime)"
push_latency() {
  "$build/bin/bench_push_latency" "$build/bin/dray" "$build/lib/dray/plugins" "${BENCH_PUSH_ROUNDS:-30}" \
    "${BENCH_FOLLOWER_ROUNDS:-20}"
  # The same on Redis storage, on a redis-server of its own (no persistence).
  local port dir
  dir="$(mktemp -d)"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" --daemonize no \
    >"$dir/redis.log" 2>&1 &
  local redis_pid=$!
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_URL="redis://127.0.0.1:$port" "$build/bin/bench_push_latency" "$build/bin/dray" "$build/lib/dray/plugins" \
    "${BENCH_PUSH_ROUNDS:-30}" 0
  kill "$redis_pid"
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$dir"
}
if [ "$only" = events ]; then
  push_latency
elif [ "$only" = scale ]; then
  "$root/bench/scale_bench.sh" "$build"
elif [ "$only" = stream ]; then
  BENCH_PARTS=6 "$root/bench/engine_bench.sh" "$build"
elif [ "$only" = redis ]; then
  # More, shorter rounds than the full run: the flush-ms 0 / 50 ratio needs them to be read.
  BENCH_LOG_ROUNDS="${BENCH_LOG_ROUNDS:-10}" BENCH_LOG_LINES="${BENCH_LOG_LINES:-300000}" "$build/bin/bench_log_throughput"
  BENCH_PARTS=5 "$root/bench/engine_bench.sh" "$build"
else
  "$build/bin/bench_log_throughput"
  "$build/bin/bench_engine_calls"
  "$root/bench/engine_bench.sh" "$build"
  push_latency
  "$root/bench/scale_bench.sh" "$build"
fi
echo "end $(date -u +%FT%TZ), load: $(uptime)"
