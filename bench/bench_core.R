# Core benchmark: metafast::rma() / rma_many() against metafor::rma(), side
# by side in one run.  Usage (from the package root, metafast installed):
#
#   Rscript bench/bench_core.R            # full run (a few minutes)
#   Rscript bench/bench_core.R --quick    # fewer repetitions, no k = 1e6
#
# Timing is bench-free: each cell is run `reps` times with system.time() and
# the median elapsed time is reported (microbenchmark / bench are not used).
# Both packages fit the same data with the same estimator; the table also
# reports the largest absolute difference of beta and tau2 as a sanity check.

suppressPackageStartupMessages({
  library(metafast)
  have_metafor <- requireNamespace("metafor", quietly = TRUE)
})
args <- commandArgs(trailingOnly = TRUE)
quick <- "--quick" %in% args
reps_small <- if (quick) 5L else 21L
reps_large <- if (quick) 1L else 3L

# median over `reps` runs of the time per call; `inner` calls are timed
# together so that sub-millisecond fits are not lost in the 1 ms clock.
med_time <- function(expr_fun, reps, inner = 1L) {
  expr_fun()                                   # warm-up (loads code, JIT)
  tt <- vapply(seq_len(reps), function(i) {
    gc(FALSE)
    unname(system.time(for (j in seq_len(inner)) expr_fun())["elapsed"]) / inner
  }, numeric(1))
  stats::median(tt)
}

sim <- function(k, p_mods = 0, seed = 1) {
  set.seed(seed)
  vi <- stats::runif(k, 0.01, 0.5)
  X <- if (p_mods > 0) matrix(stats::rnorm(k * p_mods), k, p_mods,
                              dimnames = list(NULL, paste0("x", seq_len(p_mods)))) else NULL
  b <- if (p_mods > 0) seq(0.1, 0.5, length.out = p_mods) else numeric(0)
  mu <- 0.2 + if (p_mods > 0) drop(X %*% b) else 0
  yi <- stats::rnorm(k, mu, sqrt(vi + 0.1))
  list(yi = yi, vi = vi, X = X)
}

rows <- list()
add_row <- function(case, t_mf, t_mr, note = "", dbeta = NA_real_, dtau2 = NA_real_) {
  rows[[length(rows) + 1L]] <<- data.frame(
    case = case, metafast_s = t_mf, metafor_s = t_mr,
    speedup = if (is.na(t_mr)) NA_real_ else t_mr / t_mf,
    max_abs_dbeta = dbeta, abs_dtau2 = dtau2, note = note, stringsAsFactors = FALSE)
  cat(sprintf("  %-42s metafast %10.5f s   metafor %s\n", case, t_mf,
              if (is.na(t_mr)) note else sprintf("%10.5f s", t_mr)))
}

fit_mf <- function(d) if (is.null(d$X)) rma(d$yi, d$vi) else rma(d$yi, d$vi, mods = d$X)
fit_mr <- function(d) if (is.null(d$X)) metafor::rma(d$yi, d$vi) else metafor::rma(d$yi, d$vi, mods = d$X)
diffs <- function(a, b) c(max(abs(as.numeric(a$beta) - as.numeric(b$beta))), abs(a$tau2 - b$tau2))

cat("metafast core benchmark\n")
cat(sprintf("R %s | metafast %s | metafor %s | %s | %d cores\n", getRversion(),
            utils::packageVersion("metafast"),
            if (have_metafor) as.character(utils::packageVersion("metafor")) else "not installed",
            R.version$platform, parallel::detectCores()))

# 1. one REML fit at k = 33 -------------------------------------------------
d <- sim(33)
t_mf <- med_time(function() fit_mf(d), reps_small, inner = 200L)
t_mr <- if (have_metafor) med_time(function() fit_mr(d), reps_small, inner = 20L) else NA
dd <- if (have_metafor) diffs(fit_mf(d), fit_mr(d)) else c(NA, NA)
add_row("REML, k = 33, intercept only", t_mf, t_mr, dbeta = dd[1], dtau2 = dd[2])

# 2. REML meta-regression with 5 moderators at k = 1000 -----------------------
d <- sim(1000, 5)
t_mf <- med_time(function() fit_mf(d), reps_small, inner = 10L)
t_mr <- if (have_metafor) med_time(function() fit_mr(d), 1L) else NA   # ~3-10 s per fit
dd <- if (have_metafor) diffs(fit_mf(d), fit_mr(d)) else c(NA, NA)
add_row("REML, k = 1000, 5 moderators", t_mf, t_mr, dbeta = dd[1], dtau2 = dd[2])

# 3. large k ------------------------------------------------------------------
# metafor's rma.uni() works with k x k matrices: its time grows ~k^3 (measured
# here: ~9 s at k = 1000, ~64 s at k = 2000 on 2 busy cores), so k = 1e4 would
# take hours and needs several k x k copies; it is run at k = 2000 only.
peak_mb <- NA_real_
for (k in c(2000, 1e4, 1e5, if (!quick) 1e6)) {
  d <- sim(k, 5, seed = 2)
  if (k == 1e6) {
    gc(reset = TRUE)
    t_mf <- med_time(function() fit_mf(d), reps_large)
    g <- gc()
    peak_mb <- sum(g[, ncol(g)])   # "max used" (Mb), Ncells + Vcells, incl. the data
  } else {
    t_mf <- med_time(function() fit_mf(d), reps_large)
  }
  lab <- sprintf("REML, k = %s, 5 moderators", format(k, big.mark = ",", scientific = FALSE))
  if (have_metafor && k <= 2000 && !quick) {
    t_mr <- med_time(function() fit_mr(d), 1L)
    dd <- diffs(fit_mf(d), fit_mr(d))
    add_row(lab, t_mf, t_mr, dbeta = dd[1], dtau2 = dd[2])
  } else if (k <= 2000) {
    add_row(lab, t_mf, NA, note = "metafor skipped (--quick)")
  } else {
    add_row(lab, t_mf, NA, note = sprintf("metafor cannot: needs k x k (%.1f GB per copy, ~k^3 time)", k^2 * 8 / 1e9))
  }
}

# 4. many small meta-analyses: rma_many() vs a loop of metafor fits ----------
n_sets <- 1000L; k_small <- 20L
set.seed(3)
V <- matrix(stats::runif(k_small * n_sets, 0.01, 0.5), k_small, n_sets)
Y <- matrix(stats::rnorm(k_small * n_sets, 0.2, sqrt(V + 0.1)), k_small, n_sets)
loop_mf <- function() for (j in seq_len(n_sets)) rma(Y[, j], V[, j])
t_loop_mf <- med_time(loop_mf, max(1L, reps_large))
if (exists("rma_many", where = asNamespace("metafast"), inherits = FALSE)) {
  rma_many <- get("rma_many", envir = asNamespace("metafast"))
  t_many <- med_time(function() rma_many(Y, V, method = "REML"), reps_small, inner = 10L)
  res_many <- rma_many(Y, V, method = "REML")
} else {
  t_many <- NA_real_
  res_many <- NULL
}
if (have_metafor) {
  # metafor's Fisher scoring fails on a few of these data sets (error): the
  # loop catches it, as a user's loop would have to.
  mr_fail <- 0L
  loop_mr <- function() {
    mr_fail <<- 0L
    for (j in seq_len(n_sets))
      tryCatch(metafor::rma(Y[, j], V[, j]), error = function(e) mr_fail <<- mr_fail + 1L)
  }
  t_loop_mr <- med_time(loop_mr, 1L)
  cat(sprintf("  metafor failed (error) on %d of %d data sets\n", mr_fail, n_sets))
  chk <- lapply(1:20, function(j) metafor::rma(Y[, j], V[, j]))
  dt <- if (!is.null(res_many)) max(abs(res_many$tau2[1:20] - sapply(chk, `[[`, "tau2"))) else NA
  db <- if (!is.null(res_many)) max(abs(res_many$beta[1:20, 1] - sapply(chk, function(m) m$beta[1]))) else NA
} else {
  t_loop_mr <- NA; dt <- NA; db <- NA
}
if (!is.na(t_many)) {
  add_row("rma_many(): 1000 data sets, k = 20", t_many, t_loop_mr, dbeta = db, dtau2 = dt)
} else {
  add_row("rma_many(): 1000 data sets, k = 20", NA, t_loop_mr, note = "rma_many() not in this build")
}
add_row("loop of rma(): 1000 data sets, k = 20", t_loop_mf, t_loop_mr)

tab <- do.call(rbind, rows)
cat("\nMedian elapsed time (s); speedup = metafor / metafast\n")
print(format(tab, digits = 3), row.names = FALSE)
if (!is.na(peak_mb)) cat(sprintf("\nPeak R memory (gc 'max used', Ncells + Vcells) during the k = 1e6 fits: %.0f MB\n", peak_mb))
cat("(metafor's differences are from its default convergence threshold 1e-5 vs metafast's 1e-10.)\n")
invisible(tab)
