# A phylogenetic meta-analysis: rma.mv(yi, vi, mods = ~ x, random =
# list(~ 1 | species, ~ 1 | phylo, ~ 1 | es), R = list(phylo = C)), REML
# (Cinar, Nakagawa & Viechtbauer 2022, Methods Ecol Evol 13:383, the model
# their tutorial fits).  The known correlation matrix C links every row, so
# metafast fits it with the sparse engine (R^-1 in Henderson's equations,
# src/core/sparse_objective.hpp) once the rows exceed 100 (rma.mv()'s
# .mf_mv_sparse_rows; the table's engine column), and metafor with
# its dense k x k marginal covariance (its sparse = TRUE does not help: C
# is dense).  Side by side in one run.
# Usage (from the package root, metafast installed):
#
#   Rscript bench/rma_mv_phylo.R          # metafor at about 500 and 1,000 effects, extrapolated beyond
#   Rscript bench/rma_mv_phylo.R --full   # metafor also at about 2,000 effects (several minutes)
#
# Data: ns species at random points of the unit square with C =
# exp(-distance / 0.3) (positive definite), k = 20 ns effects on random
# species, vi ~ U(0.02, 0.2), a phylogenetic effect (variance 0.09), a
# species effect (variance 0.04), an effect-level one (variance 0.05) and
# one standard-normal moderator (slope 0.1).  metafast is timed as the median
# of 3 runs, metafor once per size; where metafor is not run its time is
# extrapolated from a power law t = a k^b through the two largest measured
# sizes, and the table says "extrapolated": an estimate, not a measurement.

suppressPackageStartupMessages({
  library(metafast)
  have_metafor <- requireNamespace("metafor", quietly = TRUE)
})
args <- commandArgs(trailingOnly = TRUE)
full <- "--full" %in% args

source(file.path("bench", "sim_phylo.R"))  # sim_phylo()
rnd <- list(~ 1 | species, ~ 1 | phylo, ~ 1 | es)
fit_mf <- function(s) metafast::rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = s$d)
fit_mo <- function(s) metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = s$d)

sizes <- c(25L, 50L, 100L, 300L, 500L)  # species: about 500, 1,000, 2,000, 6,000 and 10^4 effects
run_metafor <- c(TRUE, TRUE, full, FALSE, FALSE)
rows <- list()
measured <- list()
for (i in seq_along(sizes)) {
  s <- sim_phylo(sizes[i], seed = i)
  k <- nrow(s$d)
  f <- fit_mf(s)
  if (!isTRUE(f$convergence$converged)) warning(sprintf("metafast did not converge at k = %d", k))
  reps <- if (k > 5000) 1L else 3L
  t_mf <- stats::median(vapply(seq_len(reps), function(j) {
    gc(FALSE)
    unname(system.time(fit_mf(s))["elapsed"])
  }, numeric(1)))
  t_mo <- NA_real_
  mode <- "(no metafor)"
  d_s <- d_b <- NA_real_
  if (have_metafor && run_metafor[i]) {
    gc(FALSE)
    t_mo <- unname(system.time(m <- fit_mo(s))["elapsed"])
    mode <- "measured"
    d_s <- max(abs(f$sigma2 - m$sigma2))
    d_b <- max(abs(c(f$beta) - c(m$beta)))
    measured[[length(measured) + 1L]] <- c(k = k, t = t_mo)
  } else if (have_metafor && length(measured) >= 2L) {
    mm <- do.call(rbind, measured)
    n <- nrow(mm)
    b <- log(mm[n, "t"] / mm[n - 1L, "t"]) / log(mm[n, "k"] / mm[n - 1L, "k"])
    t_mo <- mm[n, "t"] * (k / mm[n, "k"])^b
    mode <- sprintf("extrapolated (k^%.1f)", b)
  }
  rows[[i]] <- data.frame(species = sizes[i], k = k, engine = f$convergence$engine,
                          metafast = signif(t_mf, 3), metafor = signif(t_mo, 3), ratio = signif(t_mo / t_mf, 3),
                          metafor_time = mode, max_d_sigma2 = signif(d_s, 2), max_d_beta = signif(d_b, 2))
}

out <- do.call(rbind, rows)
cat("\nrma.mv(yi, vi, mods = ~ x, random = list(~ 1 | species, ~ 1 | phylo, ~ 1 | es), R = list(phylo = C)), REML;",
    "elapsed seconds\n\n")
print(out, row.names = FALSE)
cat("\n", R.version.string, "; metafor ", if (have_metafor) as.character(utils::packageVersion("metafor")) else "-",
    "; metafast ", as.character(utils::packageVersion("metafast")), "\n", sep = "")
