# Tiny shell client for the Dray API, shared by the demo and the shell tests.
# Source it, then call with the base URL (e.g. http://127.0.0.1:3000). Needs curl.

# dray_wait_up URL: waits up to 10 s for the API to answer.
dray_wait_up() {
  for _ in $(seq 1 100); do curl -sf "$1/jobs" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# dray_submit URL JOB_JSON: posts a job and prints its id (empty if refused).
dray_submit() {
  curl -sf -X POST "$1/jobs" -H 'Content-Type: application/json' -d "$2" |
    sed -n 's/.*"id":"\([0-9A-F-]*\)".*/\1/p'
}

# dray_wait_job URL ID: waits up to 60 s for the job to leave "running", prints its status.
dray_wait_job() {
  local status=running
  for _ in $(seq 1 600); do
    status=$(curl -sf "$1/jobs/$2" | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
    [ "$status" != running ] && break
    sleep 0.1
  done
  echo "$status"
}
