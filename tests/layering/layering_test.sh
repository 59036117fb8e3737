#!/usr/bin/env bash
# Layering, checked on the compiler's real include graph: the .o.d dependency files the
# compiler wrote for every object (so an include through a macro, a relative path or another
# header counts too, which a grep of #include lines would miss).
#   core/, api/ and app/ see the SDK, never plugin code, Poco::Redis or the Docker API;
#   plugins see the SDK and plugins/ only, never core/, api/ or app/.
set -u
root="${1:?usage: layering_test.sh <source root> <build dir>}"
build="${2:?usage: layering_test.sh <source root> <build dir>}"
root=$(cd "$root" && pwd)
status=0

# Every header one object's compilation read, one per line.
headers_of() { sed -e 's/\\$//' -e 's/^[^:]*://' "$1" | tr ' ' '\n' | grep -v '^$'; }

# check <what> <object dir glob> <forbidden path regex>
check() {
  local what="$1" dirs="$2" forbidden="$3" objects=0 hits
  for depfile in $(compgen -G "$build/$dirs/*.o.d" ; compgen -G "$build/$dirs/*/*.o.d"); do
    objects=$((objects + 1))
    hits=$(headers_of "$depfile" | grep -E "$forbidden" | sort -u || true)
    if [ -n "$hits" ]; then
      echo "layering violation: $what: ${depfile#"$build"/} reads"
      sed 's/^/  /' <<<"$hits"
      status=1
    fi
  done
  if [ "$objects" -eq 0 ]; then
    echo "layering: no dependency files for $what under $build/$dirs (build first): nothing was checked"
    status=1
  else
    echo "layering: $what: $objects objects checked"
  fi
}

check "core sees no plugin code" "core/CMakeFiles/dray_core.dir" "^$root/(plugins|api|app)/|/Poco/Redis/"
check "api sees no plugin code" "api/CMakeFiles/dray_api.dir" "^$root/(plugins|app)/|/Poco/Redis/"
check "dray sees no plugin code" "app/CMakeFiles/dray.dir" "^$root/plugins/|/Poco/Redis/"
check "plugins see no core, api or app" "plugins/*/*/CMakeFiles/*.dir" "^$root/(core|api|app)/"

# Not an include: the Docker API's paths belong to the runtime plugin alone.
hits=$(grep -rnE '/containers/|/images/|docker\.sock' "$root/core" "$root/api" --include='*.cpp' --include='*.hpp' || true)
if [ -n "$hits" ]; then
  echo "layering violation: core/api speak the Docker API:"
  echo "$hits"
  status=1
fi
for target in core/CMakeLists.txt api/CMakeLists.txt; do
  if grep -nE 'Poco::Redis|dray-(output|storage|runtime)-' "$root/$target"; then
    echo "layering violation: $target links plugin or Redis code"
    status=1
  fi
done
[ $status -eq 0 ] && echo "layering ok: core/, api/ and app/ see only the SDK; plugins see no host code"
exit $status
