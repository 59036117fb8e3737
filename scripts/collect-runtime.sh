#!/bin/sh
# collect-runtime.sh ROOTFS FILE... : copies FILEs and every shared library they load
# (per ldd, with the dynamic loader) into ROOTFS at the same paths, plus an empty /tmp,
# so a FROM scratch image can run them. Used by the Dockerfile's build stage.
set -eu
root="$1"
shift
mkdir -p "$root/tmp"
chmod 1777 "$root/tmp"
for file in "$@"; do
  mkdir -p "$root$(dirname "$file")"
  cp -a "$file" "$root$file"
  ldd "$file" | awk '/=> \//{print $3} /^[ \t]*\//{print $1}' | while read -r lib; do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
    strip --strip-unneeded "$root$lib" 2>/dev/null || true
  done
done
