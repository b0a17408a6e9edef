#!/usr/bin/env bash
# Runs a subset of metafast under valgrind memcheck (R -d valgrind): rma() for
# every estimator, rma_many(), confint(), and the resampling and case-deletion
# functions when present, with small sizes.  Reports valgrind's
# "ERROR SUMMARY" and the "definitely lost" leak line; exits non-zero on
# memory errors.  Uses the installed metafast (set R_LIBS to test another
# library).   bash tools/valgrind.sh
# For source lines in valgrind's traces, install with the debug information
# kept (src/Makevars strips it on Linux otherwise):
#   METAFAST_KEEP_DEBUG=1 R CMD INSTALL --library=LIB .  then  R_LIBS=LIB bash tools/valgrind.sh
# With VG_BUILD=1 this script does that itself, into a temporary library.
set -uo pipefail
work=$(mktemp -d /tmp/metafast-vg.XXXXXX)
script="$work/vg.R"
cat > "$script" <<'RS'
suppressPackageStartupMessages(library(metafast))
dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28),
                  vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02), x = 1:8)
for (m in c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM"))
  for (tst in c("z", "knha")) invisible(rma(yi, vi, mods = ~ x, data = dat, method = m, test = tst))
fit <- rma(yi, vi, data = dat)
invisible(rma(0.3, 0.02)); invisible(rma(c(0.3, 0.5), c(0.02, 0.03)))
set.seed(1)
Y <- matrix(rnorm(8 * 20), 8); V <- matrix(runif(8 * 20, 0.01, 0.1), 8)
for (m in c("DL", "ML", "REML", "EB", "PM")) invisible(rma_many(Y, V, method = m))
invisible(confint(fit)); invisible(predict(fit))
if (exists("boot_rma")) { invisible(boot_rma(fit, R = 20, threads = 2, progress = FALSE))
                          invisible(boot_rma(rma(0.3, 0.02), R = 5, progress = FALSE)) }
if (exists("permutest")) invisible(permutest(rma(yi, vi, mods = ~ x, data = dat), iter = 50, threads = 2, progress = FALSE))
if (exists("leave1out")) invisible(leave1out(fit))
if (exists("influence")) invisible(influence(fit))
if (exists("cumul")) invisible(cumul(fit))
if (exists("gosh")) invisible(gosh(fit, subsets = 50, progress = FALSE))
if (exists("trimfill")) invisible(trimfill(fit))
invisible(hatvalues(fit)); invisible(rstandard(fit)); invisible(anova(rma(yi, vi, mods = ~ x, data = dat), X = c(1, 4)))
invisible(confint(rma(yi, vi, mods = ~ x - 1, data = dat)))
# the block engine: a nested two-level fit with dense V blocks (hidden glue)
Vb <- unlist(lapply(c(2, 3, 3), function(n) { m <- matrix(0.005, n, n); diag(m) <- dat$vi[seq_len(n)]; m }))
invisible(metafast:::.mf_block_fit(dat$yi, dat$vi, cbind(1, dat$x), c(0L, 2L, 5L, 8L), Vb, TRUE))
invisible(metafast:::.mf_block_fit(dat$yi, dat$vi, cbind(1, dat$x), c(0L, 2L, 5L, 8L), numeric(0), FALSE))
cat("VALGRIND SCRIPT DONE\n")
RS
if [ -n "${VG_BUILD:-}" ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  mkdir -p "$work/lib"
  METAFAST_KEEP_DEBUG=1 R CMD INSTALL --preclean --no-test-load --library="$work/lib" "$root" > "$work/install.log" 2>&1 ||
    { tail -30 "$work/install.log"; echo "valgrind.sh: build failed (log: $work/install.log)"; exit 2; }
  export R_LIBS="$work/lib${R_LIBS:+:$R_LIBS}"
fi
log="$work/valgrind.log"
R -d "valgrind --tool=memcheck --leak-check=full --error-exitcode=1 --track-origins=yes" --vanilla -f "$script" > "$log" 2>&1
status=$?
grep -q "VALGRIND SCRIPT DONE" "$log" || { echo "valgrind.sh: the script did not finish"; tail -30 "$log"; }
grep -E "ERROR SUMMARY|definitely lost" "$log"
if [ "$status" -ne 0 ]; then
  grep -n -B2 -A25 -E "Invalid (read|write)|uninitialised|Mismatched|Invalid free" "$log" | head -150
  echo "valgrind.sh: memory errors (log: $log)"
  exit 1
fi
rm -rf "$work"
