# Case deletion of crossed fits (random = list(~ 1 | study, ~ 1 | outcome))
# by the sparse engine: every refit is a sparse fit of the kept rows
# (src/core/refit_crossed.hpp), run over 2 threads, against metafor's
# cooks.distance() / rstudent(), which refit with rma.mv(sparse = TRUE),
# side by side in one run.  Two sets:
#   - cooks.distance(cluster = outcome): one refit per outcome (20 refits);
#   - rstudent(): one refit per row (k refits).
# Usage (from the package root, metafast and metafor installed):
#
#   Rscript bench/rma_mv_crossed_deletion.R
#
# metafor is run by cluster at about 400 and 800 effects (its sparse refits
# take minutes beyond) and its time
# extrapolated to 10^4 effects by a power law through those two sizes; per
# row, metafor is not run (k sparse refits take hours): its time is the
# measured time of its 20 refits by cluster scaled to k refits (labelled
# "extrapolated": an estimate, low, as each per-row refit keeps more rows).
# metafast is forced onto the sparse path at every size (internal options),
# as it is by itself above 5000 linked rows.

suppressPackageStartupMessages(library(metafast))
have_metafor <- requireNamespace("metafor", quietly = TRUE)

source(file.path("bench", "sim_crossed.R"))  # sim_crossed()
fit_mf <- function(d) {
  old <- options(metafast.mv_sparse_rows = 50L, metafast.mv_dense_rows = 50L)
  on.exit(options(old))
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  stopifnot(identical(f$mf.spec$structure$type, "crossed"))
  f
}
fit_mo <- function(d) metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d,
                                      sparse = TRUE)
rel <- function(a, b) max(abs(unname(c(a)) - unname(c(b))) / pmax(abs(unname(c(b))), 1e-300), na.rm = TRUE)

rows <- list()
t_mo <- c()
per_refit <- c()
for (ns in c(100L, 200L, 2500L)) {
  d <- sim_crossed(ns)
  f <- fit_mf(d)
  t_mf <- system.time(cd <- cooks.distance(f, cluster = d$outcome, threads = 2))[["elapsed"]]
  tmo <- NA_real_; what <- "not run"; dmax <- NA_real_
  if (have_metafor && nrow(d) < 1000) {
    m <- fit_mo(d)
    tmo <- system.time(cm <- stats::cooks.distance(m, cluster = d$outcome))[["elapsed"]]
    what <- "measured"
    dmax <- rel(cd, cm)
    t_mo[as.character(nrow(d))] <- tmo
    per_refit[as.character(nrow(d))] <- tmo / length(unique(d$outcome))
  } else if (length(t_mo) >= 2) {
    kk <- as.numeric(names(t_mo)); b <- diff(log(t_mo)) / diff(log(kk))
    tmo <- unname(t_mo[2] * (nrow(d) / kk[2])^b)
    what <- sprintf("extrapolated (k^%.2f)", b)
  }
  rows[[length(rows) + 1L]] <- data.frame(set = "cooks.distance(cluster = outcome)", k = nrow(d),
                                          metafast_s = signif(t_mf, 3), metafor_s = signif(tmo, 3),
                                          ratio = signif(tmo / t_mf, 3), metafor = what, max_rel_diff = signif(dmax, 2))
  print(rows[[length(rows)]], row.names = FALSE)
}
for (ns in c(100L, 200L)) {
  d <- sim_crossed(ns)
  f <- fit_mf(d)
  t_mf <- system.time(rstudent(f, threads = 2))[["elapsed"]]
  tmo <- if (length(per_refit)) unname(per_refit[as.character(nrow(d))]) * nrow(d) else NA_real_
  rows[[length(rows) + 1L]] <- data.frame(set = "rstudent() (per row)", k = nrow(d), metafast_s = signif(t_mf, 3),
                                          metafor_s = signif(tmo, 3), ratio = signif(tmo / t_mf, 3),
                                          metafor = "extrapolated (k x its refit by cluster)", max_rel_diff = NA)
  print(rows[[length(rows)]], row.names = FALSE)
}
cat("\nCase deletion of rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome)), REML;",
    "elapsed seconds (metafast on 2 threads)\n\n")
print(do.call(rbind, rows), row.names = FALSE)
cat("\n", R.version.string, "; metafor ", if (have_metafor) as.character(utils::packageVersion("metafor")) else "-",
    "; metafast ", as.character(utils::packageVersion("metafast")), "\n", sep = "")
