#!/usr/bin/env bash
# Sets up the machine (packages, Docker engine, build, test images) and runs every test:
# unit, Docker runtime, HTTP API and end-to-end. Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
ctest --test-dir "${DRAY_BUILD_DIR:-$root/build}" --output-on-failure --no-tests=error -j 2 "$@"
