#!/usr/bin/env bash
# Sets up the machine, starts dray on the embedded default (memory storage, local Docker)
# and runs the Word Job: randword -> upper -> reverse. Prints the job's status and log.
# dray keeps running afterwards on port ${DRAY_PORT:-3000}; DEMO_STOP=1 stops it at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
port="${DRAY_PORT:-3000}"
"$root/scripts/setup.sh"

url="http://127.0.0.1:$port"
. "$root/scripts/lib/dray_client.sh"
if curl -s "$url/jobs" >/dev/null 2>&1; then
  echo "demo: something already answers on port $port; using it"
else
  LOG_LEVEL="${LOG_LEVEL:-info}" setsid "$root/build/bin/dray" -p "$port" >"$root/build/dray-demo.log" 2>&1 < /dev/null &
  echo "demo: dray started (pid $!), log in build/dray-demo.log"
  dray_wait_up "$url" || { echo "demo: dray did not start; see build/dray-demo.log" >&2; exit 1; }
fi

job='{"name":"Word Job","steps":[
  {"name":"random-word","source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"5"}]},
  {"name":"uppercase","source":"dray-test/upper"},
  {"name":"reverse","source":"dray-test/reverse"}]}'
echo "demo: POST /jobs"
id=$(dray_submit "$url" "$job")
[ -n "$id" ] || { echo "demo: the job was refused" >&2; exit 1; }
echo "demo: job $id accepted"
status=$(dray_wait_job "$url" "$id")
echo "demo: GET /jobs/$id"
curl -sf "$url/jobs/$id"; echo
echo "demo: GET /jobs/$id/log?index=10  (the last step's output)"
curl -sf "$url/jobs/$id/log?index=10"; echo
echo "demo: the Word Job's result:"
curl -sf "$url/jobs/$id/log?index=10" | tr -d '{}[]"' | sed 's/^lines://' | tr ',' '\n'; echo
if [ "${DEMO_STOP:-0}" = 1 ]; then
  pkill -TERM -f "$root/build/bin/dray -p $port" || true
  echo "demo: dray stopped"
else
  echo "demo: dray is still running on port $port (stop it with: pkill -f 'build/bin/dray -p $port')"
fi
[ "$status" = complete ]
