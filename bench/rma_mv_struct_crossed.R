# An '~ inner | outer' term crossed with another factor:
# rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | outcome, ~ type | study),
# struct = "CS" / "HCS" / "UN"), REML.  The outcomes link every row, so
# metafast fits it with the sparse engine (each study's block of the term in
# Lambda, src/core/sparse_objective.hpp) once the rows exceed 100 (the
# table's engine column), and metafor with sparse = TRUE (its Matrix-based
# marginal covariance).  Side by side in one run.
# Usage (from the package root, metafast installed):
#
#   Rscript bench/rma_mv_struct_crossed.R          # metafor at about 450 and 900 effects (about 20 min), extrapolated beyond
#   Rscript bench/rma_mv_struct_crossed.R --full   # metafor also at about 1,800 effects (about an hour more)
#
# Data: sim_crossed() (bench/sim_crossed.R: studies with 1 to 7 effects, 20
# crossed outcomes, one moderator), each effect of one of three types with a
# study-by-type effect (variance 0.06, correlation 0.6 within a study).
# metafast is timed as the median of 3 runs (1 above 5000 effects), metafor
# once per size; where
# metafor is not run its time is extrapolated from a power law t = a k^b
# through the two largest measured sizes, and the table says
# "extrapolated": an estimate, not a measurement.

suppressPackageStartupMessages({
  library(metafast)
  have_metafor <- requireNamespace("metafor", quietly = TRUE)
})
source(file.path("bench", "sim_crossed.R"))  # sim_crossed(), sim_struct()
args <- commandArgs(trailingOnly = TRUE)
full <- "--full" %in% args

rnd <- list(~ 1 | outcome, ~ type | study)
fit_mf <- function(d, st) metafast::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d)
fit_mo <- function(d, st) metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d, sparse = TRUE)

sizes <- c(110L, 225L, 450L, 900L, 2500L)  # studies: about 450, 900, 1,800, 3,600 and 10^4 effects
run_metafor <- c(TRUE, TRUE, full, FALSE, FALSE)
rows <- list()
for (st in c("CS", "HCS", "UN")) {
  measured <- list()
  for (i in seq_along(sizes)) {
    d <- sim_struct(sizes[i], seed = i)
    k <- nrow(d)
    f <- fit_mf(d, st)
    if (!isTRUE(f$convergence$converged)) warning(sprintf("metafast did not converge at k = %d (%s)", k, st))
    reps <- if (k > 5000) 1L else 3L
    t_mf <- stats::median(vapply(seq_len(reps), function(j) {
      gc(FALSE)
      unname(system.time(fit_mf(d, st))["elapsed"])
    }, numeric(1)))
    t_mo <- NA_real_
    mode <- "(no metafor)"
    d_t <- d_b <- NA_real_
    if (have_metafor && run_metafor[i]) {
      gc(FALSE)
      t_mo <- unname(system.time(m <- fit_mo(d, st))["elapsed"])
      mode <- "measured"
      d_t <- max(abs(c(f$sigma2, f$tau2, f$rho) - c(m$sigma2, m$tau2, m$rho)))
      d_b <- max(abs(c(f$beta) - c(m$beta)))
      measured[[length(measured) + 1L]] <- c(k = k, t = t_mo)
    } else if (have_metafor && length(measured) >= 2L) {
      mm <- do.call(rbind, measured)
      n <- nrow(mm)
      b <- log(mm[n, "t"] / mm[n - 1L, "t"]) / log(mm[n, "k"] / mm[n - 1L, "k"])
      t_mo <- mm[n, "t"] * (k / mm[n, "k"])^b
      mode <- sprintf("extrapolated (k^%.1f)", b)
    }
    rows[[length(rows) + 1L]] <- data.frame(struct = st, studies = sizes[i], k = k, engine = f$convergence$engine,
                                            metafast = signif(t_mf, 3),
                                            metafor = signif(t_mo, 3), ratio = signif(t_mo / t_mf, 3),
                                            metafor_time = mode, max_d_components = signif(d_t, 2),
                                            max_d_beta = signif(d_b, 2))
    print(rows[[length(rows)]], row.names = FALSE)  # (progress: each row as it is measured)
    flush(stdout())
  }
}

out <- do.call(rbind, rows)
cat("\nrma.mv(yi, vi, mods = ~ x, random = list(~ 1 | outcome, ~ type | study), struct = st), REML;",
    "metafor with sparse = TRUE; elapsed seconds\n\n")
print(out, row.names = FALSE)
cat("\n", R.version.string, "; metafor ", if (have_metafor) as.character(utils::packageVersion("metafor")) else "-",
    "; metafast ", as.character(utils::packageVersion("metafast")), "\n", sep = "")
