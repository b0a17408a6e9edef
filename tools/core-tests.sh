#!/usr/bin/env bash
# Builds and runs the stand-alone C++ tests of the R-free core (src/core):
# every src/core/tests/test_*.cpp is a program of its own.
# Needs only a C++17 compiler and Eigen's headers (taken from RcppEigen).
set -euo pipefail
cd "$(dirname "$0")/.."
eigen=$(Rscript -e 'cat(system.file("include", package = "RcppEigen"))')
out=$(mktemp -d)
status=0
for src in src/core/tests/test_*.cpp; do
  name=$(basename "$src" .cpp)
  echo "== $name"
  g++ -std=c++17 -O2 -Wall -Wextra -pthread -I src -I "$eigen" "$src" -o "$out/$name"
  "$out/$name" | tee "$out/$name.log" || status=1
done
# the total over the programs (each ends with "<name>: N passed, N failed")
cat "$out"/*.log | awk '/: [0-9]+ passed, [0-9]+ failed$/ { p += $(NF-3); f += $(NF-1) }
  END { printf "%d passed, %d failed\n", p, f }'
exit $status
