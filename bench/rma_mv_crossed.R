# Crossed random effects: random = list(~ 1 | study, ~ 1 | outcome) with one
# moderator, REML, metafast's sparse engine (src/core/sparse_objective.hpp,
# through .mf_rma_mv_fit_sparse; the spec is built here by hand until
# rma.mv() routes crossed terms to it) against metafor::rma.mv(sparse = TRUE)
# side by side in one run.
# Usage (from the package root, metafast installed):
#
#   Rscript bench/rma_mv_crossed.R          # metafor at about 250 and 500 effects, extrapolated beyond
#   Rscript bench/rma_mv_crossed.R --full   # metafor also at about 1,000 effects (several minutes)
#
# Data: ns studies, each reporting 1 to 7 of 20 outcomes (uniform), vi ~
# U(0.01, 0.2), a study effect (variance 0.08), an outcome effect (variance
# 0.04) and one standard-normal moderator (slope 0.2).  metafast is timed at
# about 250, 500, 1,000 and 10^4 effects (median elapsed time over
# repetitions), metafor once per size.  metafor's time grows steeply with k
# here (the outcome term makes its k x k covariance dense in blocks of
# k / 20 rows), so where it is not run, its time is extrapolated from a
# power law t = a k^b through the two largest measured sizes, and the table
# says "extrapolated": that is an estimate, not a measurement.

suppressPackageStartupMessages({
  library(metafast)
  have_metafor <- requireNamespace("metafor", quietly = TRUE)
})
args <- commandArgs(trailingOnly = TRUE)
full <- "--full" %in% args

n_outcomes <- 20L

sim_crossed <- function(ns, seed = 1) {
  set.seed(seed)
  n <- sample(1:7, ns, replace = TRUE)
  study <- rep(seq_len(ns), n)
  outcome <- unlist(lapply(n, function(m) sort(sample(n_outcomes, m))))
  k <- length(study)
  vi <- stats::runif(k, 0.01, 0.2)
  x <- stats::rnorm(k)
  yi <- 0.3 + 0.2 * x + stats::rnorm(ns, 0, sqrt(0.08))[study] + stats::rnorm(n_outcomes, 0, sqrt(0.04))[outcome] +
    stats::rnorm(k, 0, sqrt(vi))
  data.frame(study = study, outcome = outcome, yi = yi, vi = vi, x = x)
}

# the spec of the crossed model (diagonal V)
crossed_spec <- function(d) {
  codes <- cbind(as.integer(factor(d$study)), as.integer(factor(d$outcome)))
  metafast:::.mf_mv_spec(d$yi, d$vi, cbind(intrcpt = 1, x = d$x), seq_len(nrow(d)), integer(0), numeric(0),
                         list(type = "crossed", codes = codes, nlevels = as.integer(apply(codes, 2, max)),
                              fixed = c(NA_real_, NA_real_)))
}
fit_mf <- function(spec) metafast:::.mf_rma_mv_fit_sparse(spec, c(NA_real_, NA_real_), TRUE, 1e-10, 1000L, 1)
fit_mo <- function(d) metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d,
                                      sparse = TRUE)

med_time <- function(f, reps) {
  f()
  stats::median(vapply(seq_len(reps), function(i) {
    gc(FALSE)
    unname(system.time(f())["elapsed"])
  }, numeric(1)))
}

sizes <- c(60L, 125L, 250L, 2500L)  # studies: about 250, 500, 1,000 and 10^4 effects
run_metafor <- c(TRUE, TRUE, full, FALSE)
rows <- list()
measured <- list()
for (i in seq_along(sizes)) {
  d <- sim_crossed(sizes[i], seed = i)
  spec <- crossed_spec(d)
  f <- fit_mf(spec)
  if (!isTRUE(f$convergence$converged)) warning(sprintf("metafast did not converge at k = %d", nrow(d)))
  t_mf <- med_time(function() fit_mf(spec), if (nrow(d) > 5000) 3L else 11L)
  t_mo <- NA_real_
  mode <- "(no metafor)"
  d_s <- d_b <- NA_real_
  if (have_metafor && run_metafor[i]) {
    gc(FALSE)
    t_mo <- unname(system.time(m <- fit_mo(d))["elapsed"])
    mode <- "measured"
    d_s <- max(abs(f$theta - m$sigma2))
    d_b <- max(abs(f$beta - c(m$beta)))
    measured[[length(measured) + 1L]] <- c(k = nrow(d), t = t_mo)
  } else if (have_metafor && length(measured) >= 2L) {
    mm <- do.call(rbind, measured)
    n <- nrow(mm)
    b <- log(mm[n, "t"] / mm[n - 1L, "t"]) / log(mm[n, "k"] / mm[n - 1L, "k"])
    t_mo <- mm[n, "t"] * (nrow(d) / mm[n, "k"])^b
    mode <- sprintf("extrapolated (k^%.1f)", b)
  }
  rows[[i]] <- data.frame(studies = sizes[i], k = nrow(d), groups = sum(spec$structure$nlevels),
                          metafast = signif(t_mf, 3), metafor = signif(t_mo, 3), ratio = signif(t_mo / t_mf, 3),
                          metafor_time = mode, max_d_sigma2 = signif(d_s, 2), max_d_beta = signif(d_b, 2))
}

out <- do.call(rbind, rows)
cat("\nrma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), sparse = TRUE), REML;",
    n_outcomes, "outcomes; elapsed seconds\n\n")
print(out, row.names = FALSE)
cat("\n", R.version.string, "; metafor ", if (have_metafor) as.character(utils::packageVersion("metafor")) else "-",
    "; metafast ", as.character(utils::packageVersion("metafast")), "\n", sep = "")
