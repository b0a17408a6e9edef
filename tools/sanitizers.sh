#!/usr/bin/env bash
# Builds metafast with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) as
# "Writing R Extensions" section 4.3.3 describes -- a private R_MAKEVARS_USER
# file that sets the compilers, a private library -- and runs the WHOLE test
# suite (tools/run-tests.R) against that library with libasan preloaded (R
# itself is not built with ASan).  Reports sanitizer findings and exits
# non-zero if there are any.
#
#   bash tools/sanitizers.sh             # from the repository root
#   METAFAST_TEST_LEVEL=2 bash tools/sanitizers.sh
#   SAN_KEEP=1 bash tools/sanitizers.sh  # keep the work directory
#
# Leak detection is off: R itself does not free everything at exit, and
# LeakSanitizer would report R's allocations, not ours (valgrind.sh checks
# leaks of the package code with --leak-check=full).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${SAN_WORK:-$(mktemp -d /tmp/metafast-san.XXXXXX)}
mkdir -p "$work/lib" "$work/pkg"
log="$work/tests.log"

san="-fsanitize=address,undefined -fno-omit-frame-pointer"
cat > "$work/Makevars" <<EOF
CC = gcc $san
CXX = g++ $san
CXX11 = g++ $san
CXX14 = g++ $san
CXX17 = g++ $san
CFLAGS = -g -O1
CXXFLAGS = -g -O1
CXX11FLAGS = -g -O1
CXX14FLAGS = -g -O1
CXX17FLAGS = -g -O1
EOF

# Build from a copy without object files (never inside the working tree).
rm -rf "$work/pkg" && mkdir -p "$work/pkg"
(cd "$root" && tar --exclude=.git --exclude='*.o' --exclude='*.so' -cf - .) | tar -C "$work/pkg" -xf -
echo "== building with $san into $work/lib"
# METAFAST_KEEP_DEBUG=1: src/Makevars does not strip the debug information
# (ASan/UBSan reports then name source lines).
if ! METAFAST_KEEP_DEBUG=1 R_MAKEVARS_USER="$work/Makevars" R CMD INSTALL --no-test-load --preclean \
     --library="$work/lib" "$work/pkg" > "$work/install.log" 2>&1; then
  tail -40 "$work/install.log"
  echo "sanitizers.sh: build failed (log: $work/install.log)"
  exit 2
fi
grep -q -- "-fsanitize=address" "$work/install.log" || {
  echo "sanitizers.sh: the sanitizer flags did not reach the compiler"; exit 2; }

export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
# abort_on_error makes a finding kill the process (the test run then fails loudly).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_odr_violation=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export R_LIBS="$work/lib${R_LIBS:+:$R_LIBS}"
export R_LIBS_USER="$work/lib"

echo "== running the test suite (log: $log)"
cd "$root"
Rscript tools/run-tests.R > "$log" 2>&1
status=$?
unset LD_PRELOAD

n_ubsan=$(grep -c "runtime error" "$log")
n_asan=$(grep -c "ERROR: AddressSanitizer" "$log")
echo "== test run exit status: $status"
grep -E "^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" "$log" || tail -20 "$log"
echo "== UBSan 'runtime error' lines: $n_ubsan"
grep -n -A8 "runtime error" "$log" | head -80
echo "== ASan 'ERROR: AddressSanitizer' reports: $n_asan"
grep -n -A30 "ERROR: AddressSanitizer" "$log" | head -120
if [ -z "${SAN_KEEP:-}" ] && [ "$n_ubsan" -eq 0 ] && [ "$n_asan" -eq 0 ] && [ "$status" -eq 0 ]; then
  rm -rf "$work"
else
  echo "== work directory kept: $work"
fi
[ "$n_ubsan" -eq 0 ] && [ "$n_asan" -eq 0 ] && [ "$status" -eq 0 ]
