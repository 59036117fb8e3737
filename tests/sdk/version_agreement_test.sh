#!/usr/bin/env bash
# One version: every find_package(DraySdk X.Y) in the docs and examples asks for the major
# version that sdk/include/dray/sdk/version.hpp sets (the package is SameMajorVersion).
set -euo pipefail
root="${1:?usage: version_agreement_test.sh <source root>}"
cd "$root"
major=$(sed -n 's/^#define DRAY_SDK_VERSION_MAJOR \([0-9]*\)$/\1/p' sdk/include/dray/sdk/version.hpp)
status=0
found=0
while IFS= read -r hit; do
  found=$((found + 1))
  asked=$(sed -n 's/.*find_package(DraySdk \([0-9]*\).*/\1/p' <<<"$hit")
  if [ "$asked" != "$major" ]; then
    echo "version disagreement (SDK major is $major): $hit"
    status=1
  fi
done < <(grep -rn --include='*.md' --include='CMakeLists.txt' --include='*.sh' 'find_package(DraySdk [0-9]' \
           README.md docs examples tests/sdk | grep -v version_agreement_test.sh)
[ "$found" -gt 0 ] || { echo "no find_package(DraySdk N) found: the check checks nothing"; exit 1; }
[ $status -eq 0 ] && echo "version ok: $found mentions ask for DraySdk $major"
exit $status
