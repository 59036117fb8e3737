#!/usr/bin/env bash
# Builds the dray-test/* images from the static busybox on this machine; no registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
busybox="${BUSYBOX:-/bin/busybox}"
[ -x "$busybox" ] || { echo "build.sh: $busybox not found (apt-get install busybox-static)" >&2; exit 1; }
export DOCKER_BUILDKIT=0
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp -r "$here"/. "$context"/
cp "$busybox" "$context/busybox/busybox"
for image in busybox randword upper reverse script; do
  docker build -q -t "dray-test/$image" "$context/$image" >/dev/null 2>&1 \
    || docker build -t "dray-test/$image" "$context/$image"
done
echo "test images built: dray-test/{busybox,randword,upper,reverse,script}"
