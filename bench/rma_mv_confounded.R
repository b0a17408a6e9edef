# A model whose components are confounded: the study's own term beside an HCS
# term over the same studies,
# rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ type | outcome,
# ~ type | study), struct = c("CS", "HCS")), REML.  The study's variance is a
# combination of the HCS term's (equal variances, correlation 1), so the
# Fisher information is singular at the default start, and the estimates
# often hold a variance at 0 beside correlated free ones: the two places where
# the optimiser used to crawl for a thousand iterations (NEWS: Fisher
# scoring's minimum-norm step, quasi-Newton's reduced step).  Side by side in
# one run, metafast with both engines (the outcomes link every row; about 160
# rows) and metafor with its defaults (nlminb).
# Usage (from the package root, metafast installed):
#
#   Rscript bench/rma_mv_confounded.R        # 10 data sets, about 1 min
#
# Data: sim_struct() (bench/sim_crossed.R), 38 studies.  metafast is timed as
# the median of 3 runs, metafor once.  ll: metafast's log-likelihood minus
# metafor's (the likelihood has several maxima here; a negative value is a
# lower maximum than metafor's).

suppressPackageStartupMessages({
  library(metafast)
  have_metafor <- requireNamespace("metafor", quietly = TRUE)
})
source(file.path("bench", "sim_crossed.R"))  # sim_struct()

rnd <- list(~ 1 | study, ~ type | outcome, ~ type | study)
st <- c("CS", "HCS")
fit_mf <- function(d, rows) {
  old <- options(metafast.mv_sparse_rows = rows)
  on.exit(options(old))
  suppressWarnings(metafast::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d))
}
rows <- list()
for (seed in c(1:9, 150)) {
  d <- sim_struct(38, seed)
  m <- NULL
  t_mo <- NA_real_
  if (have_metafor) {
    t_mo <- unname(system.time(m <- tryCatch(metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d),
                                             error = function(e) NULL))["elapsed"])
    if (is.null(m)) t_mo <- NA_real_
  }
  for (eng in c(1e6L, 0L)) {
    f <- fit_mf(d, eng)
    t_mf <- stats::median(vapply(1:3, function(j) unname(system.time(fit_mf(d, eng))["elapsed"]), numeric(1)))
    rows[[length(rows) + 1L]] <- data.frame(
      seed = seed, k = nrow(d), engine = f$convergence$engine, iterations = f$convergence$iterations,
      converged = f$convergence$converged, metafast_s = round(t_mf, 3),
      metafor_s = round(t_mo, 2), ratio = round(t_mo / t_mf, 1),
      ll = if (is.null(m)) NA_real_ else signif(c(logLik(f)) - c(logLik(m)), 3))
  }
}
tab <- do.call(rbind, rows)
print(tab, row.names = FALSE)
cat(sprintf("\nmetafor %s, metafast %s; ll: metafast minus metafor (NA: metafor stopped with an error)\n",
            if (have_metafor) as.character(utils::packageVersion("metafor")) else "not installed",
            as.character(utils::packageVersion("metafast"))))
