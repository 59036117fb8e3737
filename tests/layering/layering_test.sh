#!/usr/bin/env bash
# Fails if core/ or api/ reach into plugins, Docker or Redis client code: they may only
# see the SDK interfaces (plugin names appear there only as configuration strings).
set -u
root="${1:?usage: layering_test.sh <source root>}"
status=0
check() {
  local what="$1" pattern="$2"
  local hits
  hits=$(grep -rnE "$pattern" "$root/core" "$root/api" --include='*.cpp' --include='*.hpp' || true)
  if [ -n "$hits" ]; then
    echo "layering violation: core/api $what:"
    echo "$hits"
    status=1
  fi
}
check "include plugin code" '#include *["<][^">]*plugins/'
check "include plugin headers" '#include *"(docker|redis|memory|stdout|stderr|file)_[a-z_]*\.hpp"'
check "use Poco::Redis" 'Poco/Redis|Poco::Redis'
check "speak the Docker API" '/containers/|/images/|docker\.sock'
for target in core/CMakeLists.txt api/CMakeLists.txt; do
  if grep -nE 'Poco::Redis|dray-(output|storage|runtime)-' "$root/$target"; then
    echo "layering violation: $target links plugin or Redis code"
    status=1
  fi
done
[ $status -eq 0 ] && echo "layering ok: core/ and api/ see only the SDK"
exit $status
