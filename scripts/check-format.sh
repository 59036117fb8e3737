#!/usr/bin/env bash
# Checks C++ files against .clang-format. With no argument: every tracked C++ file (the whole
# tree is kept formatted, so this covers every change). With a git revision: only the files
# changed since it (quick check before a commit: scripts/check-format.sh HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
  mapfile -t files < <(git diff --name-only --diff-filter=d "$1" -- '*.cpp' '*.hpp')
else
  mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
fi
[ ${#files[@]} -eq 0 ] && { echo "format: no C++ files to check"; exit 0; }
if ! clang-format --dry-run --Werror "${files[@]}"; then
  echo "format: run clang-format -i on the files above (clang-format $(clang-format --version | grep -o '[0-9.]*' | head -1))" >&2
  exit 1
fi
echo "format: ${#files[@]} files follow .clang-format"
