#!/usr/bin/env bash
# Every change to an SDK declaration must be a deliberate ABI bump. sdk/ABI is the history:
# one "<ABI version> <checksum>" line per version, oldest first. The checksum covers the
# headers under sdk/include/dray/sdk with comments and whitespace removed (by the compiler's
# preprocessor), so rewording a comment is not an ABI change but any declaration change is.
#
#   abi_checksum_test.sh <root>            check: headers match the newest line, versions rise
#   abi_checksum_test.sh <root> --update   after bumping DRAY_SDK_VERSION_MAJOR: append the line
#   abi_checksum_test.sh <root> --amend    rewrite the newest line (only before that version
#                                          has been released: one number, one meaning)
#   abi_checksum_test.sh <root> --sum DIR  print the checksum of the headers under DIR
set -euo pipefail
root="${1:?usage: abi_checksum_test.sh <source root> [--update|--amend|--sum DIR]}"
history="$root/sdk/ABI"

checksum() {  # <include dir holding dray/sdk>
  (cd "$1" && find dray/sdk -type f -name '*.hpp' | LC_ALL=C sort | while read -r f; do
     echo "== $f"
     ${CXX:-c++} -x c++ -fpreprocessed -dD -E -P "$f" 2>/dev/null | tr -d '[:space:]'
     echo
   done) | sha256sum | cut -d' ' -f1
}

if [ "${2:-}" = "--sum" ]; then checksum "${3:?directory}"; exit 0; fi

sum=$(checksum "$root/sdk/include")
version=$(sed -n 's/^#define DRAY_SDK_VERSION_MAJOR \([0-9]*\)$/\1/p' "$root/sdk/include/dray/sdk/version.hpp")
[ -n "$version" ] || { echo "no DRAY_SDK_VERSION_MAJOR in version.hpp"; exit 1; }
entries=$(grep -v '^#' "$history" | grep -v '^$')
last_version=$(tail -n1 <<<"$entries" | cut -d' ' -f1)
last_sum=$(tail -n1 <<<"$entries" | cut -d' ' -f2)

case "${2:-}" in
  --update)
    if [ "$version" = "$last_version" ]; then
      [ "$sum" = "$last_sum" ] && { echo "sdk/ABI: $version unchanged"; exit 0; }
      echo "ABI $version is already recorded with other headers: bump DRAY_SDK_VERSION_MAJOR first"
      echo "(or --amend, if ABI $version has never been released)"
      exit 1
    fi
    [ "$version" -gt "$last_version" ] || { echo "ABI $version is not above $last_version"; exit 1; }
    echo "$version $sum" >> "$history"
    echo "sdk/ABI: recorded $version $sum"
    exit 0 ;;
  --amend)
    [ "$version" = "$last_version" ] || { echo "--amend rewrites ABI $last_version, but version.hpp says $version"; exit 1; }
    sed -i "\$s/.*/$version $sum/" "$history"
    echo "sdk/ABI: amended $version $sum"
    exit 0 ;;
esac

# One number, one meaning: versions strictly rise and none repeats.
if ! cut -d' ' -f1 <<<"$entries" | awk 'NR > 1 && $1 <= prev { exit 1 } { prev = $1 }'; then
  echo "sdk/ABI: versions must rise strictly, one line each"
  exit 1
fi
if [ "$version" != "$last_version" ]; then
  echo "version.hpp says ABI $version but the newest line of sdk/ABI is $last_version: run $0 $root --update"
  exit 1
fi
if [ "$sum" != "$last_sum" ]; then
  echo "SDK declarations changed but ABI $version was not bumped (recorded $last_sum, now $sum)."
  echo "Bump DRAY_SDK_VERSION_MAJOR in sdk/include/dray/sdk/version.hpp, then: $0 $root --update"
  exit 1
fi
echo "SDK ABI $version, declarations unchanged"
