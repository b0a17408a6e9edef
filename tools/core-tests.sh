#!/usr/bin/env bash
# Builds and runs the stand-alone C++ tests of the R-free core (src/core):
# every src/core/tests/*.cpp is one test program.
# Needs only a C++17 compiler and Eigen's headers (taken from RcppEigen).
set -euo pipefail
cd "$(dirname "$0")/.."
eigen=$(Rscript -e 'cat(system.file("include", package = "RcppEigen"))')
dir=$(mktemp -d)
for src in src/core/tests/*.cpp; do
  out="$dir/$(basename "$src" .cpp)"
  g++ -std=c++17 -O2 -Wall -Wextra -Wno-ignored-attributes -pthread -I src -I "$eigen" "$src" -o "$out"
  "$out"
done
