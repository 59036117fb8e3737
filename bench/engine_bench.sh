#!/usr/bin/env bash
# Dray against what a user would run instead, all measured in this run, rounds interleaved
# (ratios matter, not absolutes). Baselines are never dray's code: bench_api_floor is a raw
# Engine API client written for the benchmark, the chains are `docker run -i | …` shell pipes.
#  1 latency:    Word Job, dray vs the raw client (floor) vs the shell pipe of `docker run`s
#  2 throughput: 3-step jobs/s at 1, 4 and 8 workers, dray vs the raw client on as many threads
#  3 pipe:       1 GiB through 2 steps (generate | md5sum), dray vs the shell pipe; dray's peak RSS
#  4 api:        GET /jobs/{id} and POST /jobs req/s (wrk), idle RSS (no baseline: absolute figures)
#  5 redis:      issue 20: Word Job latency and 8-worker throughput as a client sees them, dray on
#                memory, on Redis (flush-ms 0, the default: after) and on Redis with flush-ms 50
#                (the old timer: before), against the raw client; its own redis-server
#  6 stream:     issue 18: the Word Job in stream mode vs sequential vs the shell pipe; 1 GiB
#                through 2 and 3 steps (stream, sequential, shell pipe; dray's peak RSS); 20
#                stream jobs at once vs 20 sequential ones
# Every round is checked: exit codes and exact output of every chain and floor run, status
# `complete` and the exact log of every dray job, the checksum of both pipes' output, no
# non-2xx answer in wrk. A failed round ends the run (exit 1): a failure must not look fast.
# Every figure: p50, p90, spread = (p90-p10)/p50 and min..max over the rounds; ratio = the
# path's figure / the baseline's in the same round, p50 (p10..p90) over the rounds.
# Needs the engine, the dray-test images (tests/images/build.sh), jq, wrk, md5sum, busybox.
set -euo pipefail
build="${1:?usage: engine_bench.sh <build dir>}"
runs="${BENCH_RUNS:-10}"             # rounds of part 1
tput_rounds="${BENCH_TPUT_ROUNDS:-3}"  # rounds of part 2, per worker count
pipe_rounds="${BENCH_PIPE_ROUNDS:-3}"  # rounds of part 3
api_rounds="${BENCH_API_ROUNDS:-3}"    # wrk runs of part 4, per route
parts=" ${BENCH_PARTS:-1 2 3 4 5 6} " # e.g. BENCH_PARTS=1 for a before/after latency check
before="${BENCH_BEFORE:-}"          # another build dir: part 1 also times its dray, interleaved
poll="${BENCH_POLL:-1}"             # seconds between job status polls: each poll is a curl process
                                    # that competes with dockerd for the 2 cores (see README)
want() { [[ "$parts" == *" $1 "* ]]; }
. "$(dirname "$0")/../scripts/lib/dray_client.sh"
fail() { echo "engine_bench: round failed: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
tmp="$(mktemp -d)"

# summary FILE: "p10 p50 p90 min max" of one number per line (linear interpolation).
summary() {
  sort -g "$1" | awk '{a[NR - 1] = $1}
    function pct(p,  r, lo, hi) { r = (NR - 1) * p / 100; lo = int(r); hi = lo + 1 < NR ? lo + 1 : lo
                                  return a[lo] + (r - lo) * (a[hi] - a[lo]) }
    END { if (NR == 0) exit 1; print pct(10), pct(50), pct(90), a[0], a[NR - 1] }'
}
# header UNIT: the table head of row's columns.
header() {
  printf "%-42s %11s %11s %7s %21s  %s\n" path "p50 $1" "p90 $1" spread "min..max $1" "ratio p50 (p10..p90)"
}
# row LABEL FILE [BASELINE_FILE|none]: one figure's line; the ratio is per round, FILE / BASELINE.
digits=1  # decimals of the figures in row
row() {
  local ratio="1.00 (baseline)" p10 p50 p90 min max
  read -r p10 p50 p90 min max <<<"$(summary "$2")"
  if [ "${3:-}" = none ]; then
    ratio="- (no baseline)"
  elif [ $# -eq 3 ] && [ "$3" != "$2" ]; then
    paste "$2" "$3" | awk '{print $1 / $2}' >"$tmp/ratio"
    ratio=$(summary "$tmp/ratio" | awk '{printf "%.2f (%.2f..%.2f)", $2, $1, $3}')
  fi
  awk -v l="$1" -v p10="$p10" -v p50="$p50" -v p90="$p90" -v min="$min" -v max="$max" -v r="$ratio" -v d="$digits" '
    BEGIN { f = "%-42s %11." d "f %11." d "f %6.0f%% %10." d "f..%-10." d "f %s\n"
            printf f, l, p50, p90, 100 * (p90 - p10) / p50, min, max, r }'
}

port=$((30000 + RANDOM % 20000))
dray_pid=""
start_dray() {
  DRAY_INSTANCE=bench DRAY_STORAGE=memory LOG_LEVEL=warn "$@" "$build/bin/dray" -p "$port" >"$tmp/dray.log" 2>&1 &
  dray_pid=$!
  dray_wait_up "http://127.0.0.1:$port" || fail "dray did not start: $(cat "$tmp/dray.log")"
  awk '/VmRSS/{print $2 / 1024}' "/proc/$dray_pid/status" >>"$tmp/idle-rss.txt"
}
stop_dray() { kill "$dray_pid"; wait "$dray_pid" 2>/dev/null || true; dray_pid=""; }
before_pid=""
extra_pids=()  # part 5's drays and its redis-server
cleanup() {
  if [ -n "$dray_pid" ]; then kill "$dray_pid" 2>/dev/null || true; fi
  if [ -n "$before_pid" ]; then kill "$before_pid" 2>/dev/null || true; fi
  for pid in "${extra_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
url="http://127.0.0.1:$port"
word='{"steps":[{"source":"dray-test/randword"},{"source":"dray-test/upper"},{"source":"dray-test/reverse"}]}'
word_out=$'AHPLA\nOVARB\nEILRAHC\nATLED\nOHCE'
word_log='["alpha","bravo","charlie","delta","echo","ALPHA","BRAVO","CHARLIE","DELTA","ECHO",'
word_log+='"AHPLA","OVARB","EILRAHC","ATLED","OHCE"]'

# Polls gently: on 2 cores a tight client loop steals CPU from dockerd and slows the very
# containers it measures. Latencies come from the job's own createdAt/finishedAt instead.
wait_complete() {  # [url] id: waits for the job to end; fails the run unless it is complete
  local at="$url" status; [ $# -eq 2 ] && { at="$1"; shift; }
  while status=$(curl -sf "$at/jobs/$1" | jq -r .status) && [ "$status" = running ]; do sleep "$poll"; done
  [ "$status" = complete ] || fail "dray job $1 ended '$status'"
}
check_word_log() {  # [url] id: the Word Job's whole log, every step's lines
  local at="$url" lines; [ $# -eq 2 ] && { at="$1"; shift; }
  lines=$(curl -sf "$at/jobs/$1/log" | jq -c .lines)
  [ "$lines" = "$word_log" ] || fail "dray job $1 logged $lines"
}
to_ms() { echo $(( $(date -d "$1" +%s%N) / 1000000 )); }
job_times() {  # [url] id: "createdAt finishedAt" of a finished job, in ms
  local at="$url" created finished
  [ $# -eq 2 ] && { at="$1"; shift; }
  { read -r created; read -r finished; } < <(curl -sf "$at/jobs/$1" | jq -r '.createdAt, .finishedAt')
  echo "$(to_ms "$created") $(to_ms "$finished")"
}
job_ms() {  # [url] id: server-side duration of a finished job
  local times; times=$(job_times "$@")
  echo $(( ${times#* } - ${times% *} ))
}
# The shell pipes run with --log-driver none, as dray's containers do: with the engine's
# default json-file log, every line is written twice and a 1 GiB pipe of short lines ran
# at 2.4 MB/s instead of ~87 (a baseline slowed by a setting would flatter dray).
chain_word() {  # the Word Job as a shell pipe of docker runs; checks exit codes and output
  local out
  out=$(docker run -i --rm --log-driver none dray-test/randword </dev/null |
    docker run -i --rm --log-driver none dray-test/upper |
    docker run -i --rm --log-driver none dray-test/reverse) || fail "docker run chain exited non-zero"
  [ "$out" = "$word_out" ] || fail "docker run chain printed '$out'"
}

if want 1; then
echo "== 1. latency: Word Job, $runs rounds, interleaved; ratio = path ms / floor ms (lower is faster) =="
# One run of each path per round, so drift on a shared machine hits all of them alike.
start_dray env
if [ -n "$before" ]; then
  before_url="http://127.0.0.1:$((port + 1))"
  DRAY_INSTANCE=bench-before DRAY_STORAGE=memory LOG_LEVEL=warn "$before/bin/dray" -p $((port + 1)) \
    >"$tmp/dray-before.log" 2>&1 &
  before_pid=$!
  dray_wait_up "$before_url" || fail "BENCH_BEFORE dray did not start"
fi
for _ in $(seq "$runs"); do
  "$build/bin/bench_api_floor" 1 >>"$tmp/floor.txt" || fail "bench_api_floor"
  t=$(now_ms); chain_word; echo $(( $(now_ms) - t )) >>"$tmp/chain.txt"
  id=$(dray_submit "$url" "$word"); [ -n "$id" ] || fail "dray refused the Word Job"
  wait_complete "$id"; check_word_log "$id"; job_ms "$id" >>"$tmp/dray.txt"
  if [ -n "$before" ]; then
    id=$(dray_submit "$before_url" "$word"); [ -n "$id" ] || fail "BENCH_BEFORE dray refused the Word Job"
    wait_complete "$before_url" "$id"; check_word_log "$before_url" "$id"
    job_ms "$before_url" "$id" >>"$tmp/dray-before.txt"
  fi
done
stop_dray
if [ -n "$before" ]; then kill "$before_pid"; wait "$before_pid" 2>/dev/null || true; before_pid=""; fi
header ms
row "floor: raw Engine API client" "$tmp/floor.txt"
row "docker run -i | docker run -i | …" "$tmp/chain.txt" "$tmp/floor.txt"
row "dray (accepted -> finished)" "$tmp/dray.txt" "$tmp/floor.txt"
if [ -n "$before" ]; then row "dray, BENCH_BEFORE build" "$tmp/dray-before.txt" "$tmp/floor.txt"; fi
fi

if want 2; then
echo "== 2. throughput: 3-step jobs/s, 3 jobs per worker, $tput_rounds rounds per worker count, interleaved;"
echo "      ratio = dray jobs/s / floor jobs/s (higher is faster) =="
header "jobs/s"; digits=2
for workers in 1 4 8; do
  start_dray env DRAY_WORKERS="$workers"
  jobs=$((workers * 3))
  : >"$tmp/tfloor.txt"; : >"$tmp/tdray.txt"
  for _ in $(seq "$tput_rounds"); do
    seconds=$("$build/bin/bench_api_floor" --workers "$workers" --jobs "$jobs") ||
      fail "bench_api_floor --workers $workers"
    awk -v j="$jobs" -v s="$seconds" 'BEGIN {print j / s}' >>"$tmp/tfloor.txt"
    ids=()
    for _ in $(seq "$jobs"); do
      id=$(dray_submit "$url" "$word"); [ -n "$id" ] || fail "dray refused the Word Job"; ids+=("$id")
    done
    # Checks and times only once all have ended: curl and jq processes would otherwise take
    # CPU from the jobs still running. Window: first job accepted to last one finished.
    for id in "${ids[@]}"; do wait_complete "$id"; done
    first=""; last=0
    for id in "${ids[@]}"; do
      check_word_log "$id"
      read -r created finished <<<"$(job_times "$id")"
      if [ -z "$first" ] || [ "$created" -lt "$first" ]; then first=$created; fi
      [ "$finished" -gt "$last" ] && last=$finished
    done
    awk -v j="$jobs" -v ms="$((last - first))" 'BEGIN {print j * 1000 / ms}' >>"$tmp/tdray.txt"
  done
  stop_dray
  row "floor: raw client, $workers thread(s)" "$tmp/tfloor.txt"
  row "dray, $workers worker(s)" "$tmp/tdray.txt" "$tmp/tfloor.txt"
done
fi

if want 3; then
echo "== 3. pipe: 1 GiB through 2 steps (generate | md5sum), $pipe_rounds rounds, interleaved;"
echo "      ratio = dray MB/s / chain MB/s (higher is faster) =="
# 1024 numbered blocks of 1 MiB of numbered lines: a lost, doubled or reordered piece changes
# the checksum. The expected sum comes from the same busybox the images are built from.
gen='seq 1 200000 | head -c 1048572 >b; i=0; while [ $i -lt 1024 ]; do printf "%04d" $i; cat b; i=$((i+1)); done'
expected=$(cd "$tmp" && /bin/busybox sh -c "$gen" | md5sum | cut -d' ' -f1)
pipe=$(jq -nc --arg gen "$gen" '{steps: [
  {source: "dray-test/script", environment: [{variable: "SCRIPT", value: $gen}]},
  {source: "dray-test/script", environment: [{variable: "SCRIPT", value: "md5sum"}]}]}')
for _ in $(seq "$pipe_rounds"); do
  t=$(now_ms)
  out=$(docker run -i --rm --log-driver none -e SCRIPT="$gen" dray-test/script </dev/null |
    docker run -i --rm --log-driver none -e SCRIPT=md5sum dray-test/script) || fail "docker run pipe exited non-zero"
  ms=$(( $(now_ms) - t ))
  [ "$out" = "$expected  -" ] || fail "docker run pipe: checksum '$out', expected $expected"
  awk -v ms="$ms" 'BEGIN {print 1073.741824 * 1000 / ms}' >>"$tmp/pchain.txt"
  start_dray env
  id=$(dray_submit "$url" "$pipe"); [ -n "$id" ] || fail "dray refused the pipe job"
  wait_complete "$id"
  awk '/VmHWM/{print $2 / 1024}' "/proc/$dray_pid/status" >>"$tmp/prss.txt"  # before reading the log
  # The checksum is the last line of the log (step 1's lines stop at DRAY_LOG_LIMIT).
  index=0; last_line=""
  while page=$(curl -sf "$url/jobs/$id/log?index=$index") && n=$(jq '.lines | length' <<<"$page") && [ "$n" -gt 0 ]; do
    last_line=$(jq -r '.lines[-1]' <<<"$page"); index=$((index + n))
  done
  [ "$last_line" = "$expected  -" ] || fail "dray pipe job $id: last log line '$last_line', expected $expected"
  awk -v ms="$(job_ms "$id")" 'BEGIN {print 1073.741824 * 1000 / ms}' >>"$tmp/pdray.txt"
  stop_dray
done
header "MB/s"; digits=1
row "docker run chain (shell pipe)" "$tmp/pchain.txt"
row "dray (spooled to disk)" "$tmp/pdray.txt" "$tmp/pchain.txt"
echo "dray peak RSS per round (VmHWM): $(summary "$tmp/prss.txt" |
  awk '{printf "p50 %.0f MiB, p90 %.0f MiB, min..max %.0f..%.0f MiB", $2, $3, $4, $5}')"
fi

if want 4; then
echo "== 4. api: $api_rounds wrk runs per route, a fresh dray each round (no baseline: absolute figures) =="
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"steps":[{"source":"dray-test/missing-image-for-bench"}]}'
wrk.headers["Content-Type"] = "application/json"
LUA
# wrk_rate ARGS…: req/s of one run; fails the run on any non-2xx answer or socket error.
wrk_rate() {
  local out; out=$(wrk "$@")
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then fail "wrk $*: $out"; fi
  awk '/Requests\/sec/{print $2}' <<<"$out"
}
# Each round starts a fresh dray: a POST run leaves ~25,000 accepted jobs queued (one
# worker, an image that cannot be pulled), and GET is measured before and after that.
# All wrk connections come from 127.0.0.1, so the per-address cap (64 by default, which
# wrk's 64 connections brushed against: one 503 in a run) is raised for this part.
for _ in $(seq "$api_rounds"); do
  start_dray env DRAY_WORKERS=1 DRAY_QUEUE=1000000 DRAY_MAX_CONNECTIONS_PER_IP=256
  id=$(dray_submit "$url" '{"steps":[{"source":"dray-test/upper"}]}'); wait_complete "$id"
  wrk_rate -t2 -c64 -d3s "$url/jobs/$id" >>"$tmp/get.txt"
  wrk_rate -t2 -c16 -d2s -s "$tmp/post.lua" "$url/jobs" >>"$tmp/post.txt"
  curl -sf "$url/healthz" | jq .queued >>"$tmp/queued.txt"
  wrk_rate -t2 -c64 -d3s "$url/jobs/$id" >>"$tmp/get-queued.txt"
  stop_dray
done
header "req/s"; digits=0
row "GET /jobs/{id}, 64 connections" "$tmp/get.txt" none
row "POST /jobs answered 201, 16 connections" "$tmp/post.txt" none
row "GET /jobs/{id}, 64 conn., after the POSTs" "$tmp/get-queued.txt" none
echo "jobs queued after the POST run: $(summary "$tmp/queued.txt" | awk '{printf "p50 %d, min..max %d..%d", $2, $4, $5}')"
fi

if want 5; then
redis_rounds="${BENCH_REDIS_ROUNDS:-20}"          # latency rounds (one job per path and round)
redis_tput_rounds="${BENCH_REDIS_TPUT_ROUNDS:-3}" # throughput rounds (24 jobs per path and round)
redis_poll_ms="${BENCH_REDIS_POLL_MS:-5}"         # the client's GET /jobs/{id} interval (latency)
echo "== 5. redis (issue 20): the Word Job as a client sees it (POST /jobs -> GET /jobs/{id} says complete,"
echo "      polled every $redis_poll_ms ms on one keep-alive connection), dray on memory, on Redis with flush-ms 0"
echo "      (the default: after) and 50 (the old timer: before), and the raw client; 8 workers each =="
free_port() {  # a loopback port nothing listens on yet
  local p
  while p=$((30000 + RANDOM % 20000)); (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do :; done
  echo "$p"
}
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --logfile "$tmp/redis.log" &
extra_pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$redis_port" ping >/dev/null || fail "redis-server did not start: $(cat "$tmp/redis.log")"
declare -A path_url
start_path() {  # NAME ENV...: a dray of its own, on loopback, with 8 workers
  local name=$1 p; shift
  p=$(free_port)
  env DRAY_INSTANCE="bench-$name" DRAY_LISTEN=127.0.0.1 DRAY_WORKERS=8 LOG_LEVEL=warn "$@" \
    "$build/bin/dray" -p "$p" >"$tmp/dray-$name.log" 2>&1 &
  extra_pids+=($!)
  path_url[$name]="http://127.0.0.1:$p"
  dray_wait_up "${path_url[$name]}" || fail "dray ($name) did not start: $(cat "$tmp/dray-$name.log")"
}
start_path memory DRAY_STORAGE=memory
# "after" is the shipped default (no flush-ms set); "before" sets the old 50 ms timer.
start_path redis0 DRAY_STORAGE=redis REDIS_PORT="tcp://127.0.0.1:$redis_port" DRAY_JOBS_KEY=bench-after
start_path redis50 DRAY_STORAGE=redis REDIS_PORT="tcp://127.0.0.1:$redis_port" DRAY_JOBS_KEY=bench-before \
  DRAY_STORAGE_REDIS_FLUSH_MS=50
paths=(floor memory redis0 redis50)
# run_paths ROUND MODE: one run of every path, starting with a different one each round so
# that no path always follows the same neighbour. Every run checks status and exact output.
run_paths() {
  local k name
  for k in 0 1 2 3; do
    name=${paths[$((($1 + k) % 4))]}
    if [ "$2" = latency ]; then
      if [ "$name" = floor ]; then
        "$build/bin/bench_api_floor" 1 >>"$tmp/l-floor.txt" || fail "bench_api_floor"
      else
        "$build/bin/bench_dray_client" latency "${path_url[$name]}" "$redis_poll_ms" >>"$tmp/l-$name.txt" ||
          fail "bench_dray_client latency ($name)"
      fi
    elif [ "$name" = floor ]; then
      "$build/bin/bench_api_floor" --workers 8 --jobs 24 | awk '{print 24 / $1}' >>"$tmp/t-floor.txt" ||
        fail "bench_api_floor --workers 8"
    else
      # Polls every 5 ms, one GET at a time, in the order the jobs were taken.
      "$build/bin/bench_dray_client" throughput "${path_url[$name]}" 24 5 >"$tmp/t-out" ||
        fail "bench_dray_client throughput ($name)"
      read -r client_s server_s <"$tmp/t-out"
      awk -v s="$client_s" 'BEGIN {print 24 / s}' >>"$tmp/t-$name-client.txt"
      awk -v s="$server_s" 'BEGIN {print 24 / s}' >>"$tmp/t-$name-server.txt"
    fi
  done
}
ratio_file() { paste "$1" "$2" | awk '{print $1 / $2}' >"$3"; }  # A B OUT: per-round A / B
per_round() { paste "$1" "$2" | awk '{printf "%s%.3f", (NR > 1 ? " " : ""), $1 / $2} END {print ""}'; }
goal() {  # TEXT RATIO_FILE <=|>= LIMIT: judged on the p50 of the per-round ratios, and
          # flagged when the rounds' p10..p90 lies on both sides of the limit
  summary "$2" | awk -v t="$1" -v op="$3" -v lim="$4" '{ ok = op == "<=" ? $2 <= lim : $2 >= lim
    both = $1 <= lim && lim <= $3 ? "; p10..p90 spans the limit" : ""
    printf "goal %s %s %s: p50 %.3f (p10..p90 %.3f..%.3f): %s%s\n", t, op, lim, $2, $1, $3, ok ? "met" : "NOT met", both }'
}
t0=$(now_ms)
for r in $(seq 0 $((redis_rounds - 1))); do run_paths "$r" latency; done
for path in memory redis0 redis50; do
  cut -d' ' -f1 "$tmp/l-$path.txt" >"$tmp/l-$path-client.txt"
  cut -d' ' -f2 "$tmp/l-$path.txt" >"$tmp/l-$path-server.txt"
  cut -d' ' -f3 "$tmp/l-$path.txt" >"$tmp/l-$path-post.txt"
done
echo "latency: $redis_rounds rounds of each path, $((($(now_ms) - t0) / 1000)) s; ratio = path ms / floor ms per round"
header ms; digits=1
row "floor: raw Engine API client" "$tmp/l-floor.txt"
row "memory, client: POST -> complete seen" "$tmp/l-memory-client.txt" "$tmp/l-floor.txt"
row "redis flush-ms 0 (after), client" "$tmp/l-redis0-client.txt" "$tmp/l-floor.txt"
row "redis flush-ms 50 (before), client" "$tmp/l-redis50-client.txt" "$tmp/l-floor.txt"
row "memory, server: createdAt -> finishedAt" "$tmp/l-memory-server.txt" "$tmp/l-floor.txt"
row "redis flush-ms 0 (after), server" "$tmp/l-redis0-server.txt" "$tmp/l-floor.txt"
row "redis flush-ms 50 (before), server" "$tmp/l-redis50-server.txt" "$tmp/l-floor.txt"
for path in memory redis0 redis50; do  # what the client waits beyond the server's own window
  paste "$tmp/l-$path-client.txt" "$tmp/l-$path-server.txt" | awk '{print $1 - $2}' >"$tmp/l-$path-gap.txt"
done
echo "client - server per round (POST, polling, and the wait until the status can be read):"
header ms
row "memory" "$tmp/l-memory-gap.txt" none
row "redis flush-ms 0 (after)" "$tmp/l-redis0-gap.txt" none
row "redis flush-ms 50 (before)" "$tmp/l-redis50-gap.txt" none
echo "POST /jobs until it answered 201 (inside the server's window: the job is stored before the answer):"
header ms; digits=2
row "memory" "$tmp/l-memory-post.txt" none
row "redis flush-ms 0 (after)" "$tmp/l-redis0-post.txt" none
row "redis flush-ms 50 (before)" "$tmp/l-redis50-post.txt" none
ratio_file "$tmp/l-redis0-client.txt" "$tmp/l-memory-client.txt" "$tmp/q-after-mem"
ratio_file "$tmp/l-redis50-client.txt" "$tmp/l-memory-client.txt" "$tmp/q-before-mem"
ratio_file "$tmp/l-redis0-client.txt" "$tmp/l-floor.txt" "$tmp/q-after-floor"
ratio_file "$tmp/l-redis50-client.txt" "$tmp/l-floor.txt" "$tmp/q-before-floor"
ratio_file "$tmp/l-memory-client.txt" "$tmp/l-floor.txt" "$tmp/q-mem-floor"
ratio_file "$tmp/l-redis0-client.txt" "$tmp/l-redis50-client.txt" "$tmp/q-after-before"
echo "per-round ratios of the client latencies (figures are ratios):"
header "x"; digits=3
row "redis after / memory" "$tmp/q-after-mem" none
row "redis before / memory" "$tmp/q-before-mem" none
row "redis after / floor" "$tmp/q-after-floor" none
row "redis before / floor" "$tmp/q-before-floor" none
row "memory / floor" "$tmp/q-mem-floor" none
row "redis after / redis before" "$tmp/q-after-before" none
echo "each round, redis after / memory:  $(per_round "$tmp/l-redis0-client.txt" "$tmp/l-memory-client.txt")"
echo "each round, redis before / memory: $(per_round "$tmp/l-redis50-client.txt" "$tmp/l-memory-client.txt")"
echo "each round, redis after / floor:   $(per_round "$tmp/l-redis0-client.txt" "$tmp/l-floor.txt")"

t0=$(now_ms)
for r in $(seq 0 $((redis_tput_rounds - 1))); do run_paths "$r" throughput; done
echo "throughput: 24 Word Jobs at once on 8 workers (floor: 24 jobs on 8 threads, its saturation),"
echo "$redis_tput_rounds rounds of each path, $((($(now_ms) - t0) / 1000)) s; ratio = path jobs/s / floor jobs/s per round"
header "jobs/s"; digits=2
row "floor: raw client, 8 threads" "$tmp/t-floor.txt"
row "memory, client: first POST -> all seen" "$tmp/t-memory-client.txt" "$tmp/t-floor.txt"
row "redis flush-ms 0 (after), client" "$tmp/t-redis0-client.txt" "$tmp/t-floor.txt"
row "redis flush-ms 50 (before), client" "$tmp/t-redis50-client.txt" "$tmp/t-floor.txt"
row "memory, server: createdAt -> finishedAt" "$tmp/t-memory-server.txt" "$tmp/t-floor.txt"
row "redis flush-ms 0 (after), server" "$tmp/t-redis0-server.txt" "$tmp/t-floor.txt"
row "redis flush-ms 50 (before), server" "$tmp/t-redis50-server.txt" "$tmp/t-floor.txt"
ratio_file "$tmp/t-redis0-client.txt" "$tmp/t-floor.txt" "$tmp/q-tput-after-floor"
ratio_file "$tmp/t-redis0-client.txt" "$tmp/t-memory-client.txt" "$tmp/q-tput-after-mem"
echo "each round, redis after / floor jobs/s: $(per_round "$tmp/t-redis0-client.txt" "$tmp/t-floor.txt")"
goal "latency, redis after / memory" "$tmp/q-after-mem" "<=" 1.02
goal "latency, redis after / floor" "$tmp/q-after-floor" "<=" 1.05
goal "throughput at 8 workers, redis after / floor" "$tmp/q-tput-after-floor" ">=" 0.95
for pid in "${extra_pids[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
extra_pids=()
fi

if want 6; then
stream_rounds="${BENCH_STREAM_ROUNDS:-20}"        # Word Job rounds
stream_pipe_rounds="${BENCH_STREAM_PIPE_ROUNDS:-3}"  # 1 GiB rounds, per step count
stream_batch_rounds="${BENCH_STREAM_BATCH_ROUNDS:-3}"  # rounds of 20 jobs at once
echo "== 6. stream mode (issue 18): the Word Job, $stream_rounds rounds, interleaved, each way first in turn;"
echo "      ratio = path ms / shell pipe ms (lower is faster) =="
stream_word='{"mode":"stream","steps":[{"source":"dray-test/randword"},{"source":"dray-test/upper"},{"source":"dray-test/reverse"}]}'
sorted_word_log=$(jq -c 'sort' <<<"$word_log")
check_stream_word() {  # id: every line of every step (interleaved: compared sorted) and the output
  local lines out
  lines=$(curl -sf "$url/jobs/$1/log" | jq -c '.lines | sort')
  [ "$lines" = "$sorted_word_log" ] || fail "dray stream job $1 logged $lines"
  out=$(curl -sf "$url/jobs/$1/output")
  [ "$out" = "$word_out" ] || fail "dray stream job $1 put out '$out'"
}
poll_saved="$poll"; poll=0.05  # short jobs: the server's own times are used, polling is light
start_dray env DRAY_WORKERS=2
for r in $(seq 0 $((stream_rounds - 1))); do
  for turn in 0 1 2; do
    case $(( (r + turn) % 3 )) in
      0) t=$(now_ms); chain_word; echo $(( $(now_ms) - t )) >>"$tmp/s-chain.txt" ;;
      1) id=$(dray_submit "$url" "$stream_word"); [ -n "$id" ] || fail "dray refused the stream Word Job"
         wait_complete "$id"; check_stream_word "$id"; job_ms "$id" >>"$tmp/s-stream.txt" ;;
      2) id=$(dray_submit "$url" "$word"); [ -n "$id" ] || fail "dray refused the Word Job"
         wait_complete "$id"; check_word_log "$id"; job_ms "$id" >>"$tmp/s-seq.txt" ;;
    esac
  done
done
header ms; digits=1
row "docker run -i | docker run -i | …" "$tmp/s-chain.txt"
row "dray, stream mode (accepted -> finished)" "$tmp/s-stream.txt" "$tmp/s-chain.txt"
row "dray, sequential mode" "$tmp/s-seq.txt" "$tmp/s-chain.txt"
stop_dray

echo "-- 1 GiB through 2 and 3 steps (generate | [cat |] md5sum), $stream_pipe_rounds rounds each, interleaved;"
echo "   ratio = path MB/s / shell pipe MB/s (higher is faster) =="
gen='seq 1 200000 | head -c 1048572 >b; i=0; while [ $i -lt 1024 ]; do printf "%04d" $i; cat b; i=$((i+1)); done'
expected=$(cd "$tmp" && /bin/busybox sh -c "$gen" | md5sum | cut -d' ' -f1)
for steps in 2 3; do
  middle=""; middle_run=""
  if [ "$steps" = 3 ]; then middle='{source: "dray-test/script", environment: [{variable: "SCRIPT", value: "cat"}]},'; fi
  job=$(jq -nc --arg gen "$gen" "{steps: [
    {source: \"dray-test/script\", environment: [{variable: \"SCRIPT\", value: \$gen}]}, $middle
    {source: \"dray-test/script\", environment: [{variable: \"SCRIPT\", value: \"md5sum\"}]}]}")
  stream_job=$(jq -c '. + {mode: "stream"}' <<<"$job")
  for r in $(seq 0 $((stream_pipe_rounds - 1))); do
    for turn in 0 1 2; do
      case $(( (r + turn) % 3 )) in
        0) t=$(now_ms)
           if [ "$steps" = 3 ]; then
             out=$(docker run -i --rm --log-driver none -e SCRIPT="$gen" dray-test/script </dev/null |
               docker run -i --rm --log-driver none -e SCRIPT=cat dray-test/script |
               docker run -i --rm --log-driver none -e SCRIPT=md5sum dray-test/script) || fail "docker run pipe"
           else
             out=$(docker run -i --rm --log-driver none -e SCRIPT="$gen" dray-test/script </dev/null |
               docker run -i --rm --log-driver none -e SCRIPT=md5sum dray-test/script) || fail "docker run pipe"
           fi
           ms=$(( $(now_ms) - t ))
           [ "$out" = "$expected  -" ] || fail "docker run pipe: checksum '$out', expected $expected"
           awk -v ms="$ms" 'BEGIN {print 1073.741824 * 1000 / ms}' >>"$tmp/g$steps-chain.txt" ;;
        1|2) if [ $(( (r + turn) % 3 )) = 1 ]; then which=stream; body="$stream_job"; else which=seq; body="$job"; fi
           start_dray env
           id=$(dray_submit "$url" "$body"); [ -n "$id" ] || fail "dray refused the $which pipe job"
           poll=1; wait_complete "$id"; poll=0.05
           awk '/VmHWM/{print $2 / 1024}' "/proc/$dray_pid/status" >>"$tmp/g$steps-$which-rss.txt"
           out=$(curl -sf "$url/jobs/$id/output")
           [ "$out" = "$expected  -" ] || fail "dray $which pipe job $id: output '$out', expected $expected"
           awk -v ms="$(job_ms "$id")" 'BEGIN {print 1073.741824 * 1000 / ms}' >>"$tmp/g$steps-$which.txt"
           stop_dray ;;
      esac
    done
  done
  header "MB/s"; digits=1
  row "$steps steps: docker run chain (shell pipe)" "$tmp/g$steps-chain.txt"
  row "$steps steps: dray, stream mode" "$tmp/g$steps-stream.txt" "$tmp/g$steps-chain.txt"
  row "$steps steps: dray, sequential (spooled)" "$tmp/g$steps-seq.txt" "$tmp/g$steps-chain.txt"
  for which in stream seq; do
    echo "$steps steps, $which: dray peak RSS (VmHWM) $(summary "$tmp/g$steps-$which-rss.txt" |
      awk '{printf "p50 %.0f MiB, max %.0f MiB", $2, $5}')"
  done
done

echo "-- 20 Word Jobs at once on 20 workers, stream vs sequential, $stream_batch_rounds rounds, interleaved;"
echo "   window: first accepted -> last finished; ratio = stream jobs/s / sequential jobs/s =="
start_dray env DRAY_WORKERS=20
for r in $(seq 0 $((stream_batch_rounds - 1))); do
  for turn in 0 1; do
    if [ $(( (r + turn) % 2 )) = 0 ]; then which=stream; body="$stream_word"; else which=seq; body="$word"; fi
    ids=()
    for _ in $(seq 20); do id=$(dray_submit "$url" "$body"); [ -n "$id" ] || fail "dray refused"; ids+=("$id"); done
    for id in "${ids[@]}"; do wait_complete "$id"; done
    first=""; last=0
    for id in "${ids[@]}"; do
      if [ "$which" = stream ]; then check_stream_word "$id"; else check_word_log "$id"; fi
      read -r created finished <<<"$(job_times "$id")"
      if [ -z "$first" ] || [ "$created" -lt "$first" ]; then first=$created; fi
      [ "$finished" -gt "$last" ] && last=$finished
    done
    awk -v ms="$((last - first))" 'BEGIN {print 20 * 1000 / ms}' >>"$tmp/b-$which.txt"
  done
done
stop_dray
header "jobs/s"; digits=2
row "20 sequential Word Jobs at once" "$tmp/b-seq.txt"
row "20 stream Word Jobs at once" "$tmp/b-stream.txt" "$tmp/b-seq.txt"
poll="$poll_saved"
fi

if [ -s "$tmp/idle-rss.txt" ]; then
  echo "dray idle RSS at each start ($(wc -l <"$tmp/idle-rss.txt") starts): $(summary "$tmp/idle-rss.txt" |
    awk '{printf "p50 %.1f MiB, p90 %.1f MiB, min..max %.1f..%.1f MiB", $2, $3, $4, $5}')"
fi
