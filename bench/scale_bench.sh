#!/usr/bin/env bash
# Scale-out throughput (issue 17): the same batch of jobs through one dray node, and through
# two nodes on one Redis, each next to its own Docker engine (the machine's engine and a
# second dockerd started here), both on this one machine.
#   bench/scale_bench.sh <build dir>     (bench/run.sh scale builds and calls it)
#   BENCH_SCALE_ROUNDS (5), BENCH_SCALE_JOBS (40), BENCH_SCALE_WORKERS (4 per node)
# Each round posts the jobs alternately to the nodes of the arm (to the one node for the
# baseline), waits until every job is complete (a round with any other end fails the run),
# and reports jobs per second: p50, p90 and the spread over the rounds, and the ratio of
# the two arms' medians.
set -euo pipefail
build="${1:?usage: scale_bench.sh <build dir>}"
rounds="${BENCH_SCALE_ROUNDS:-5}"
jobs="${BENCH_SCALE_JOBS:-40}"
workers="${BENCH_SCALE_WORKERS:-4}"
work="$(mktemp -d /tmp/dray-scale.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/d2/dockerd.pid" ] && kill "$(cat "$work/d2/dockerd.pid")" 2>/dev/null || true
  sleep 2
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
mkdir -p "$work/d2"
engine2="unix://$work/d2/docker.sock"
dockerd --data-root "$work/d2/data" --exec-root "$work/d2/exec" --pidfile "$work/d2/dockerd.pid" -H "$engine2" \
  --bridge=none --iptables=false --ip6tables=false >"$work/d2/dockerd.log" 2>&1 &
for _ in $(seq 1 120); do docker -H "$engine2" info >/dev/null 2>&1 && break; sleep 0.5; done
docker save dray-test/busybox dray-test/script | docker -H "$engine2" load >/dev/null

start_node() {  # start_node <name> <docker host> <jobs key> (not in a subshell: pids are kept)
  DRAY_STORAGE=redis REDIS_URL="redis://127.0.0.1:$redis_port" DRAY_INSTANCE="$1" DRAY_WORKERS="$workers" \
    DRAY_JOBS_KEY="$3" DOCKER_HOST="$2" DRAY_PLUGIN_PATH="$build/lib/dray/plugins" LOG_LEVEL=info \
    "$build/bin/dray" -p 0 >"$work/$1.log" 2>&1 &
  pids+=($!)
}
port_of() {  # port_of <name>: the port the node logged it listens on
  for _ in $(seq 1 100); do
    grep -q "listening on port" "$work/$1.log" 2>/dev/null && break
    sleep 0.1
  done
  sed -nE 's/.*dray listening on port ([0-9]+).*/\1/p' "$work/$1.log" | head -1
}
# The two-node arm shares one queue (key prefix "two"); the one-node baseline has its own
# ("one") on the machine's engine, idle while the other arm runs.
start_node bench-a unix:///var/run/docker.sock two
start_node bench-b "$engine2" two
start_node bench-solo unix:///var/run/docker.sock one
port_a=$(port_of bench-a)
port_b=$(port_of bench-b)
port_solo=$(port_of bench-solo)
[ -n "$port_a" ] && [ -n "$port_b" ] && [ -n "$port_solo" ] || { echo "scale bench: a node did not start"; tail "$work"/*.log; exit 1; }
job='{"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"echo hello; sleep 0.2"}]}]}'

# run_round <port…>: posts the jobs round-robin over the ports, waits for all; prints jobs/s.
run_round() {
  local ports=("$@") ids=() begin end i id
  begin=$(date +%s.%N)
  for ((i = 0; i < jobs; i++)); do
    id=$(curl -sf -X POST "http://127.0.0.1:${ports[i % ${#ports[@]}]}/jobs" -d "$job" | jq -r .id)
    ids+=("$id")
  done
  for id in "${ids[@]}"; do
    local status
    status=$(curl -sf "http://127.0.0.1:${ports[0]}/jobs/$id?wait=120" | jq -r .status)
    [ "$status" = complete ] || { echo "scale bench: job $id ended $status" >&2; exit 1; }
  done
  end=$(date +%s.%N)
  python3 -c "print(f'{$jobs / ($end - $begin):.2f}')"
}
one=()
two=()
for ((r = 1; r <= rounds; r++)); do  # the arms alternate, so that drift in the machine hits both
  two+=("$(run_round "$port_a" "$port_b")")
  one+=("$(run_round "$port_solo")")
done
python3 - "$jobs" "$workers" "${one[*]}" "${two[*]}" <<'PY'
import statistics, sys
jobs, workers = sys.argv[1], sys.argv[2]
one = [float(x) for x in sys.argv[3].split()]
two = [float(x) for x in sys.argv[4].split()]
def q(v, p):
    v = sorted(v); k = (len(v) - 1) * p; f = int(k); c = min(f + 1, len(v) - 1)
    return v[f] + (v[c] - v[f]) * (k - f)
for name, v in (("1 node ", one), ("2 nodes", two)):
    print(f"scale: {name}: {jobs} jobs, {workers} workers per node: jobs/s p50 {q(v,.5):.2f} p90 {q(v,.9):.2f} "
          f"spread {min(v):.2f}..{max(v):.2f} over {len(v)} rounds")
print(f"scale: 2 nodes / 1 node throughput (p50): {q(two,.5)/q(one,.5):.2f}x")
PY
