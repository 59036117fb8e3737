#!/usr/bin/env bash
# Dray against the raw engine, all measured in this run (ratios matter, not absolutes):
#  1 floor:      Word Job latency p50/p90 — dray vs bare runtime vs `docker run -i | …` chain
#  2 throughput: 3-step jobs/s at 1, 4 and 8 workers
#  3 pipe:       1 GiB through a 2-step job — MB/s and dray's peak RSS vs a docker run chain
#  4 api:        GET /jobs/{id} req/s at 64 connections (wrk), POST /jobs accept rate, idle RSS
# Needs the engine, the dray-test images (tests/images/build.sh) and wrk.
set -euo pipefail
build="${1:?usage: engine_bench.sh <build dir>}"
runs="${BENCH_RUNS:-10}"
parts=" ${BENCH_PARTS:-1 2 3 4} "   # e.g. BENCH_PARTS=1 for a before/after latency check
before="${BENCH_BEFORE:-}"          # another build dir: part 1 also times its dray, interleaved
poll="${BENCH_POLL:-1}"             # seconds between job status polls: each poll is a curl process
                                    # that competes with dockerd for the 2 cores (see README)
want() { [[ "$parts" == *" $1 "* ]]; }
. "$(dirname "$0")/../scripts/lib/dray_client.sh"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
percentile() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; printf "%.0f", a[i]}'; }
port=$((30000 + RANDOM % 20000))
dray_pid=""
start_dray() {
  DRAY_INSTANCE=bench DRAY_STORAGE=memory LOG_LEVEL=warn "$@" "$build/bin/dray" -p "$port" >/tmp/dray-bench.log 2>&1 &
  dray_pid=$!
  dray_wait_up "http://127.0.0.1:$port"
}
stop_dray() { kill "$dray_pid"; wait "$dray_pid" 2>/dev/null || true; dray_pid=""; }
before_pid=""
cleanup() {
  if [ -n "$dray_pid" ]; then kill "$dray_pid" 2>/dev/null || true; fi
  if [ -n "$before_pid" ]; then kill "$before_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
url="http://127.0.0.1:$port"
word='{"steps":[{"source":"dray-test/randword"},{"source":"dray-test/upper"},{"source":"dray-test/reverse"}]}'

# Polls gently: on 2 cores a tight client loop steals CPU from dockerd and slows the very
# containers it measures. Latencies come from the job's own createdAt/finishedAt instead.
wait_complete() {  # [url] id
  local at="$url"; [ $# -eq 2 ] && { at="$1"; shift; }
  while [ "$(curl -sf "$at/jobs/$1" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')" = running ]; do sleep "$poll"; done
}
to_ms() { echo $(( $(date -d "$1" +%s%N) / 1000000 )); }
job_times() {  # [url] id: "createdAt finishedAt" of a finished job, in ms
  local at="$url" body created finished
  [ $# -eq 2 ] && { at="$1"; shift; }
  body=$(curl -sf "$at/jobs/$1")
  created=$(echo "$body" | sed -n 's/.*"createdAt":"\([^"]*\)".*/\1/p')
  finished=$(echo "$body" | sed -n 's/.*"finishedAt":"\([^"]*\)".*/\1/p')
  echo "$(to_ms "$created") $(to_ms "$finished")"
}
job_ms() {  # [url] id: server-side duration of a finished job
  local times; times=$(job_times "$@")
  echo $(( ${times#* } - ${times% *} ))
}

if want 1; then
echo "== 1. floor: Word Job latency, $runs runs each, interleaved =="
# One run of each path per round, so drift on a shared machine hits all three alike.
: >/tmp/floor.txt; : >/tmp/chain.txt; : >/tmp/dray.txt; : >/tmp/dray-before.txt
start_dray env
if [ -n "$before" ]; then
  before_url="http://127.0.0.1:$((port + 1))"
  DRAY_INSTANCE=bench-before DRAY_STORAGE=memory LOG_LEVEL=warn "$before/bin/dray" -p $((port + 1)) >/tmp/dray-bench-before.log 2>&1 &
  before_pid=$!
  dray_wait_up "$before_url"
fi
for _ in $(seq "$runs"); do
  "$build/bin/bench_api_floor" 1 >>/tmp/floor.txt
  t=$(now_ms); docker run -i --rm dray-test/randword </dev/null | docker run -i --rm dray-test/upper |
    docker run -i --rm dray-test/reverse >/dev/null; echo $(( $(now_ms) - t )) >>/tmp/chain.txt
  id=$(dray_submit "$url" "$word"); wait_complete "$id"; job_ms "$id" >>/tmp/dray.txt
  if [ -n "$before" ]; then
    id=$(dray_submit "$before_url" "$word"); wait_complete "$before_url" "$id"; job_ms "$before_url" "$id" >>/tmp/dray-before.txt
  fi
done
stop_dray
if [ -n "$before" ]; then kill "$before_pid"; wait "$before_pid" 2>/dev/null || true; before_pid=""; fi
f50=$(percentile 50 </tmp/floor.txt); f90=$(percentile 90 </tmp/floor.txt)
c50=$(percentile 50 </tmp/chain.txt); c90=$(percentile 90 </tmp/chain.txt)
d50=$(percentile 50 </tmp/dray.txt); d90=$(percentile 90 </tmp/dray.txt)
printf "%-40s %8s %8s %10s\n" "path" "p50 ms" "p90 ms" "p50/floor"
printf "%-40s %8s %8s %10s\n" "bare runtime, steps back to back (floor)" "$f50" "$f90" "1.00"
printf "%-40s %8s %8s %10.2f\n" "docker run -i | docker run -i | …" "$c50" "$c90" "$(echo "$c50 / $f50" | bc -l)"
printf "%-40s %8s %8s %10.2f\n" "dray (accepted -> finished)" "$d50" "$d90" "$(echo "$d50 / $f50" | bc -l)"
if [ -n "$before" ]; then
  b50=$(percentile 50 </tmp/dray-before.txt); b90=$(percentile 90 </tmp/dray-before.txt)
  printf "%-40s %8s %8s %10.2f\n" "dray, BENCH_BEFORE build" "$b50" "$b90" "$(echo "$b50 / $f50" | bc -l)"
fi

fi

if want 2; then
echo "== 2. throughput: 3-step jobs/s =="
printf "%-10s %8s %10s %8s\n" "workers" "jobs" "seconds" "jobs/s"
for workers in 1 4 8; do
  start_dray env DRAY_WORKERS="$workers"
  jobs=$((workers * 3)); ids=()
  for _ in $(seq "$jobs"); do ids+=("$(dray_submit "$url" "$word")"); done
  # From the first job accepted to the last one finished, by the server's own clock.
  first=""; last=0
  for id in "${ids[@]}"; do
    wait_complete "$id"; read -r created finished <<<"$(job_times "$id")"
    [ -z "$first" ] && first=$created
    [ "$finished" -gt "$last" ] && last=$finished
  done
  ms=$(( last - first ))
  stop_dray
  printf "%-10s %8s %10.2f %8.2f\n" "$workers" "$jobs" "$(echo "$ms / 1000" | bc -l)" "$(echo "$jobs * 1000 / $ms" | bc -l)"
done

fi

if want 3; then
echo "== 3. pipe: 1 GiB through 2 steps =="
t=$(now_ms)
docker run -i --rm -e SCRIPT='head -c 1073741824 /dev/zero' dray-test/script </dev/null 2>/dev/null |
  docker run -i --rm --entrypoint /bin/wc dray-test/busybox -c >/dev/null || true
chain_ms=$(( $(now_ms) - t ))
start_dray env
pipe='{"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"head -c 1073741824 /dev/zero"}]},{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"wc -c"}]}]}'
id=$(dray_submit "$url" "$pipe"); wait_complete "$id"; dray_ms=$(job_ms "$id")
rss=$(awk '/VmHWM/{print int($2/1024)}' /proc/$dray_pid/status)
stop_dray
printf "%-30s %8s %8s %10s\n" "path" "seconds" "MB/s" "peak RSS"
printf "%-30s %8.1f %8.0f %10s\n" "docker run chain" "$(echo "$chain_ms/1000" | bc -l)" "$(echo "1073.741824*1000/$chain_ms" | bc -l)" "-"
printf "%-30s %8.1f %8.0f %7s MiB\n" "dray (spooled to disk)" "$(echo "$dray_ms/1000" | bc -l)" "$(echo "1073.741824*1000/$dray_ms" | bc -l)" "$rss"
printf "dray / chain throughput: %.2f\n" "$(echo "$chain_ms / $dray_ms" | bc -l)"

fi

if want 4; then
echo "== 4. api =="
start_dray env DRAY_WORKERS=1 DRAY_QUEUE=1000000
idle=$(awk '/VmRSS/{print $2}' /proc/$dray_pid/status)
id=$(dray_submit "$url" '{"steps":[{"source":"dray-test/upper"}]}'); wait_complete "$id"
wrk -t2 -c64 -d5s "$url/jobs/$id" | awk '/Requests\/sec/{print "GET /jobs/{id}, 64 connections: " $2 " req/s"}'
cat > /tmp/post.lua <<'LUA'
wrk.method = "POST"
wrk.body = '{"steps":[{"source":"dray-test/missing-image-for-bench"}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t2 -c16 -d3s -s /tmp/post.lua "$url/jobs" | awk '/Requests\/sec/{print "POST /jobs accepted (16 connections): " $2 " req/s"}'
echo "idle RSS: $((idle / 1024)) MiB"
stop_dray
fi
