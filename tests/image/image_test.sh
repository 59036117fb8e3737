#!/usr/bin/env bash
# Builds the dray image and runs it as users deploy it: Docker socket mounted, Redis
# reachable (host network, Redis on 127.0.0.1; there is no bridge network here). Runs the
# Word Job and a file-channel job, checks the web UI is served and `docker stop` ends dray
# cleanly with no step container left, and prints the image size.
set -euo pipefail
root="${1:?usage: image_test.sh <source dir>}"
image="${DRAY_IMAGE:-dray:latest}"
name="dray-image-test-$$"
work="$(mktemp -d)"
redis_pid=""
cleanup() {
  docker rm -f "$name" >/dev/null 2>&1 || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; docker logs "$name" 2>&1 | tail -40; exit 1; }
. "$root/scripts/lib/dray_client.sh"
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

"$root/scripts/build-image.sh"

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --logfile "$work/redis.log" &
redis_pid=$!
port=$(free_port)
# Its own DRAY_INSTANCE: a dray reaps its instance's containers at start-up, and other tests
# start drays on this engine while this one runs.
docker run -d --name "$name" --network host -v /var/run/docker.sock:/var/run/docker.sock \
  -e REDIS_PORT="tcp://127.0.0.1:$redis_port" -e LOG_LEVEL=debug -e DRAY_INSTANCE="$name" "$image" -p "$port" >/dev/null
url="http://127.0.0.1:$port"
dray_wait_up "$url" || fail "dray in the container does not answer"
docker logs "$name" 2>&1 | grep "storage 'redis'" >/dev/null || fail "REDIS_PORT did not select Redis storage"

ui=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$url/ui/app.js")
[ "$ui" = "200 text/javascript; charset=utf-8" ] || fail "the image serves no web UI at /ui/ ($ui)"

word=$(dray_submit "$url" '{"name":"Word Job","steps":[{"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"3"}]},{"source":"dray-test/upper"},{"source":"dray-test/reverse"}]}')
[ "$(dray_wait_job "$url" "$word")" = complete ] || fail "Word Job did not complete"
[ "$(curl -sf "$url/jobs/$word/log?index=6")" = '{"lines":["AHPLA","OVARB","EILRAHC"]}' ] || fail "Word Job output"

file=$(dray_submit "$url" '{"steps":[{"source":"dray-test/script","output":"/out/result.txt","environment":[{"variable":"SCRIPT","value":"mkdir -p /out; echo hello > /out/result.txt; echo noise"}]},{"source":"dray-test/reverse"}]}')
[ "$(dray_wait_job "$url" "$file")" = complete ] || fail "file-channel job did not complete"
[ "$(curl -sf "$url/jobs/$file/log")" = '{"lines":["noise","olleh"]}' ] || fail "file-channel output"
redis-cli -p "$redis_port" LRANGE jobs 0 -1 | grep "$file" >/dev/null || fail "job not stored in Redis"

long=$(dray_submit "$url" '{"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"sleep 300"}]}]}')
for _ in $(seq 1 100); do [ -n "$(docker ps -q --filter "label=dray.job=$long")" ] && break; sleep 0.1; done
[ -n "$(docker ps -q --filter "label=dray.job=$long")" ] || fail "long step did not start"
docker stop -t 30 "$name" >/dev/null
[ "$(docker inspect -f '{{.State.ExitCode}}' "$name")" = 0 ] || fail "dray did not exit 0 on SIGTERM"
for id in "$word" "$file" "$long"; do
  [ -z "$(docker ps -aq --filter "label=dray.job=$id")" ] || fail "a step container of job $id was left behind"
done

size=$(docker image inspect -f '{{.Size}}' "$image")
echo "image $image: $((size / 1024 / 1024)) MiB ($size bytes)"
[ "$size" -le $((20 * 1024 * 1024)) ] || fail "image is larger than 20 MiB"
echo "ok: image runs the Word Job and the file channel, stops cleanly, leaves no container"
