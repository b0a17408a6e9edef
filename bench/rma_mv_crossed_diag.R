# Methods of crossed fits (random = list(~ 1 | study, ~ 1 | outcome)), two
# sets: the row diagnostics hatvalues() + weights() + rstandard(), and
# robust(cluster = study) + ranef() + rstandard(cluster = study); metafast
# from the sparse engine's factor (Woodbury and the selected inverse,
# src/core/sparse_objective.hpp) against metafor's methods, which form k x k
# matrices, side by side in one run.  metafor is given metafast's variance components (sigma2 = ), so that
# only the diagnostics are timed on its side, not its fit.
# Usage (from the package root, metafast and metafor installed):
#
#   Rscript bench/rma_mv_crossed_diag.R
#
# metafor is run at about 1,000 and 2,000 effects and its time extrapolated
# to 10^4 effects by a power law through those two sizes (labelled
# "extrapolated": an estimate).  metafast is forced onto the sparse path at
# every size (internal options), as it is by itself above 5000 linked rows.

suppressPackageStartupMessages(library(metafast))
have_metafor <- requireNamespace("metafor", quietly = TRUE)

source(file.path("bench", "sim_crossed.R"))  # sim_crossed()
sets <- list(
  "hatvalues() + weights() + rstandard()" = function(f, d) list(hatvalues(f), weights(f), rstandard(f)$z),
  "robust(cluster = study) + ranef() + rstandard(cluster = study)" = function(f, d) {
    mo <- inherits(f, "rma")  # (metafor's fit: its own generics, which metafast's mask)
    r <- if (mo) metafor::ranef(f) else ranef(f)
    list((if (mo) metafor::robust else robust)(f, cluster = d$study)$vb, r$study$intrcpt, r$study$se, r$outcome$se,
         rstandard(f, cluster = d$study)$cluster$X2)
  })

for (set in names(sets)) {
  fun <- sets[[set]]
  rows <- list()
  t_mo <- c()
  for (ns in c(250L, 500L, 2500L)) {
    d <- sim_crossed(ns)
    old <- options(metafast.mv_sparse_rows = 50L, metafast.mv_dense_rows = 50L)
    f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d)
    options(old)
    stopifnot(identical(f$mf.spec$structure$type, "crossed"))
    r_mf <- fun(f, d)
    t_mf <- stats::median(replicate(5, system.time(fun(f, d))[["elapsed"]]))
    tmo <- NA_real_; what <- "not run"; dmax <- NA_real_
    if (have_metafor && nrow(d) < 3000) {
      m <- metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d,
                           sigma2 = f$sigma2, sparse = TRUE)
      tmo <- system.time(r_mo <- fun(m, d))[["elapsed"]]
      what <- "measured"
      dmax <- max(mapply(function(a, b) max(abs(unname(c(a)) - unname(c(b))) / pmax(abs(unname(c(b))), 1e-300)),
                         r_mf, r_mo))
      t_mo[as.character(nrow(d))] <- tmo
    } else if (length(t_mo) >= 2) {
      kk <- as.numeric(names(t_mo)); b <- diff(log(t_mo)) / diff(log(kk))
      tmo <- unname(t_mo[2] * (nrow(d) / kk[2])^b)
      what <- sprintf("extrapolated (k^%.2f)", b)
    }
    rows[[length(rows) + 1L]] <- data.frame(k = nrow(d), metafast_s = signif(t_mf, 3), metafor_s = signif(tmo, 3),
                                            ratio = signif(tmo / t_mf, 3), metafor = what, max_rel_diff = signif(dmax, 2))
  }
  cat("\n", set, " of rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome)); elapsed seconds\n\n",
      sep = "")
  print(do.call(rbind, rows), row.names = FALSE)
}
cat("\n", R.version.string, "; metafor ", if (have_metafor) as.character(utils::packageVersion("metafor")) else "-",
    "; metafast ", as.character(utils::packageVersion("metafast")), "\n", sep = "")
