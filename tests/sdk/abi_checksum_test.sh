#!/usr/bin/env bash
# Every change to an SDK header must be a deliberate ABI bump: sdk/ABI records
# "<kAbiVersion> <sha256 of all headers>", and this test fails when either drifts.
# After changing a header: bump kAbiVersion in version.hpp, then run with --update.
set -euo pipefail
root="${1:?usage: abi_checksum_test.sh <source root> [--update]}"
cd "$root/sdk/include"
sum=$(find dray/sdk -type f -name '*.hpp' | LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1)
version=$(sed -n 's/.*kAbiVersion = \([0-9]*\);.*/\1/p' dray/sdk/version.hpp)
if [ "${2:-}" = "--update" ]; then
  echo "$version $sum" > "$root/sdk/ABI"
  echo "sdk/ABI: $version $sum"
  exit 0
fi
read -r recorded_version recorded_sum < "$root/sdk/ABI"
if [ "$recorded_sum" != "$sum" ]; then
  echo "SDK headers changed without an ABI bump (recorded ABI $recorded_version)."
  echo "Bump kAbiVersion in sdk/include/dray/sdk/version.hpp, then: $0 $root --update"
  exit 1
fi
if [ "$recorded_version" != "$version" ]; then
  echo "kAbiVersion is $version but sdk/ABI records $recorded_version: run $0 $root --update"
  exit 1
fi
echo "SDK ABI $version, headers unchanged"
