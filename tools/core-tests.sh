#!/usr/bin/env bash
# Builds and runs the stand-alone C++ tests of the R-free core (src/core).
# Needs only a C++17 compiler and Eigen's headers (taken from RcppEigen).
set -euo pipefail
cd "$(dirname "$0")/.."
eigen=$(Rscript -e 'cat(system.file("include", package = "RcppEigen"))')
out=$(mktemp -d)/core_tests
g++ -std=c++17 -O2 -Wall -Wextra -pthread -I src -I "$eigen" src/core/tests/test_core.cpp -o "$out"
"$out"
