#!/usr/bin/env bash
# Fails when src/unity.cpp (the package's one translation unit) misses a
# src/*.cpp, or when the unity.o rule in src/Makevars / src/Makevars.win misses
# a source or header (make would then not rebuild after an edit to it).
set -euo pipefail
cd "$(dirname "$0")/../src"
status=0
for f in *.cpp; do
  [ "$f" = unity.cpp ] && continue
  grep -q "^#include \"$f\"" unity.cpp || { echo "unity.cpp does not include $f"; status=1; }
done
for mk in Makevars Makevars.win; do
  rule=$(sed -n '/^unity\.o:/,/[^\\]$/p' "$mk")
  for f in *.cpp *.h core/*.hpp; do
    [ "$f" = unity.cpp ] && continue
    printf '%s\n' "$rule" | tr ' \\' '\n\n' | grep -qx "$f" ||
      { echo "$mk: unity.o does not list $f"; status=1; }
  done
done
[ "$status" -eq 0 ] && echo "unity build: every source and header listed"
exit $status
