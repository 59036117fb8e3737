#!/usr/bin/env bash
# A third party's view: install Dray to a temporary prefix, build examples/grep-output
# against that prefix alone, start the installed dray with the example on DRAY_PLUGIN_PATH,
# and run a job through the "grep:" channel on the real engine.
set -euo pipefail
source_dir="${1:?usage: install_and_example_test.sh <source dir> <build dir>}"
build_dir="${2:?usage: install_and_example_test.sh <source dir> <build dir>}"
work="$(mktemp -d)"
dray_pid=""
cleanup() {
  [ -n "$dray_pid" ] && kill "$dray_pid" 2>/dev/null && wait "$dray_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/dray.log" ] && cat "$work/dray.log"; exit 1; }
. "$source_dir/scripts/lib/dray_client.sh"

prefix="$work/prefix"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
# Nothing from the source or build tree may leak in: only the installed package.
cmake -S "$source_dir/examples/grep-output" -B "$work/grep" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >/dev/null
cmake --build "$work/grep" >/dev/null
[ -f "$work/grep/dray-output-grep.so" ] || fail "example plugin not built"

# Its own instance name: start-up reaps containers labelled with the instance, and other
# tests run drays on the same engine at the same time.
DRAY_PLUGIN_PATH="$prefix/lib/dray/plugins:$work/grep" DRAY_STORAGE=memory DRAY_INSTANCE="sdk-test-$$" \
  "$prefix/bin/dray" -p 0 >"$work/dray.log" 2>&1 &
dray_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*dray listening on port \([0-9]*\).*/\1/p' "$work/dray.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "dray did not start"
url="http://127.0.0.1:$port"

grep -q "plugin output/grep 1.0.0 loaded from $work/grep/dray-output-grep.so" "$work/dray.log" \
  || fail "start-up log does not list the example plugin"
curl -sf "$url/plugins" | grep "\"kind\":\"output\",\"name\":\"grep\",\"version\":\"1.0.0\"" >/dev/null \
  || fail "GET /plugins does not list the example plugin"

job='{"steps":[{"source":"dray-test/randword","output":"grep:^(alpha|echo)$",
  "environment":[{"variable":"WORD_COUNT","value":"8"}]},{"source":"dray-test/upper"}]}'
id=$(dray_submit "$url" "$job")
[ -n "$id" ] || fail "job not accepted"
status=$(dray_wait_job "$url" "$id")
[ "$status" = complete ] || fail "job ended as '$status'"
log=$(curl -sf "$url/jobs/$id/log?index=8")
[ "$log" = '{"lines":["ALPHA","ECHO"]}' ] || fail "unexpected output $log"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/jobs" -d '{"steps":[{"source":"x","output":"grep:("}]}')
[ "$code" = 400 ] || fail "an invalid regex got $code, not 400"
echo "ok: installed SDK -> out-of-tree plugin -> job through grep: channel"
