#!/usr/bin/env bash
# Prepares a Debian bookworm machine for Dray: installs the packages, makes sure a Docker
# engine answers (starting dockerd when none does), and builds into ./build.
# Safe to run again: it only installs what is missing and reuses a running engine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${DRAY_BUILD_DIR:-$root/build}"

packages=(cmake g++ make libpoco-dev libboost-dev libboost-filesystem-dev libspdlog-dev catch2
          redis-server docker.io busybox-static curl debootstrap socat openssl libssl-dev)
# --for-tests (scripts/test.sh): also the tools of the format, sanitizer and fuzz stages, of
# the registry tests (a local docker-registry with htpasswd) and of the webhook tests (node,
# for the Standard Webhooks reference verifier that the tests install from npm).
if [ "${1:-}" = "--for-tests" ]; then
  packages+=(clang clang-format libclang-rt-14-dev bsdextrautils docker-registry apache2-utils nodejs chromium firefox-esr)
fi

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y "${missing[@]}" || { as_root apt-get update && as_root apt-get install -y "${missing[@]}"; }
}

# Debian's nodejs comes without npm (a package of its own); other builds of nodejs bundle it.
install_npm() {
  [ "${1:-}" = "--for-tests" ] || return 0
  command -v npm >/dev/null 2>&1 && return
  echo "setup: installing npm"
  as_root apt-get install -y npm || { as_root apt-get update && as_root apt-get install -y npm; }
}

start_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  echo "setup: starting dockerd (no bridge network, no iptables)"
  # The sandbox has no bridge support; steps need no network of their own.
  as_root sh -c 'setsid dockerd --bridge=none --iptables=false >/var/log/dray-dockerd.log 2>&1 < /dev/null &'
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return
    sleep 1
  done
  echo "setup: dockerd did not come up; see /var/log/dray-dockerd.log" >&2
  tail -20 /var/log/dray-dockerd.log >&2 || true
  exit 1
}

build_dray() {
  # Tests forced on: a cache left with DRAY_BUILD_TESTS=OFF must not make the test run empty.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDRAY_BUILD_TESTS=ON >/dev/null
  cmake --build "$build" -j "$(nproc)"
}

install_packages
install_npm "${1:-}"
start_docker
build_dray
"$root/tests/images/build.sh"
