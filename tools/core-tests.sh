#!/usr/bin/env bash
# Builds and runs the stand-alone C++ tests of the R-free core (src/core):
# every src/core/tests/test_*.cpp is a program of its own.  They compile in
# parallel (each takes ~1 min with gcc 12 -O2), CORE_TEST_JOBS at a time
# (default: the number of cores), then run one after the other.
# Needs only a C++17 compiler and Eigen's headers (taken from RcppEigen).
set -euo pipefail
cd "$(dirname "$0")/.."
eigen=$(Rscript -e 'cat(system.file("include", package = "RcppEigen"))')
out=$(mktemp -d)
jobs=${CORE_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
export eigen out
# a program that fails to compile leaves no binary: it is reported below
ls src/core/tests/test_*.cpp | xargs -P "$jobs" -I{} sh -c \
  'n=$(basename {} .cpp); g++ -std=c++17 -O2 -Wall -Wextra -pthread -I src -I "$eigen" {} -o "$out/$n" 2> "$out/$n.build" || cat "$out/$n.build"' || true
status=0
for src in src/core/tests/test_*.cpp; do
  name=$(basename "$src" .cpp)
  echo "== $name"
  if [ ! -x "$out/$name" ]; then
    echo "FAIL $name did not compile"; echo "$name: 0 passed, 1 failed" > "$out/$name.log"; status=1; continue
  fi
  "$out/$name" | tee "$out/$name.log" || status=1
done
# the total over the programs (each ends with "<name>: N passed, N failed")
cat "$out"/*.log | awk '/: [0-9]+ passed, [0-9]+ failed$/ { p += $(NF-3); f += $(NF-1) }
  END { printf "%d passed, %d failed\n", p, f }'
exit $status
