#!/usr/bin/env bash
# Builds the dray image (tag ${DRAY_IMAGE:-dray:latest}) and prints its size.
# Without a registry, the base image debian:bookworm is made offline first: debootstrap
# (minbase) from the Debian mirror this machine's apt already uses, then docker import.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
image="${DRAY_IMAGE:-dray:latest}"
base="debian:bookworm"

apt_mirror() {
  # Missing files are normal here, hence "|| true" (the script runs with pipefail).
  # deb822 sources first, then classic sources.list; the first Debian URI wins.
  { sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null
    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\)[[:space:]]\+bookworm[[:space:]].*/\2/p' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null; } | grep -v security | head -n 1 || true
}

if ! docker image inspect "$base" >/dev/null 2>&1 && ! docker pull "$base" >/dev/null 2>&1; then
  mirror="$(apt_mirror)"
  [ -n "$mirror" ] || { echo "build-image: no Debian mirror found in the apt sources" >&2; exit 1; }
  command -v debootstrap >/dev/null || apt-get install -y debootstrap
  rootfs="$(mktemp -d)"
  trap 'rm -rf "$rootfs"' EXIT
  echo "build-image: making $base offline with debootstrap (minbase)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | docker import - "$base" >/dev/null
fi

# --network host: the build stage runs apt-get against the same mirror.
DOCKER_BUILDKIT=0 docker build --network host -t "$image" "$root"
size=$(docker image inspect -f '{{.Size}}' "$image")
echo "build-image: $image is $((size / 1024 / 1024)) MiB ($size bytes)"
