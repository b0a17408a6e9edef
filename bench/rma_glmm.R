# rma.glmm() benchmark: metafast's adaptive Gauss-Hermite quadrature in C++
# against metafor::rma.glmm() (lme4::glmer() and glm()) side by side in one
# run, default settings of each package (nAGQ = 7).
# Usage (from the package root, metafast, metafor and lme4 installed):
#
#   Rscript bench/rma_glmm.R            # dat.bcg, k = 100 and k = 1000
#   Rscript bench/rma_glmm.R --quick    # no k = 1000
#   Rscript bench/rma_glmm.R --full     # also metafor's UM.FS and CM.EL at k = 1000
#   Rscript bench/rma_glmm.R --only=OR.UM.RS,OR.CM.EL   # some models only
#
# metafor's UM.FS fit is glmer() with k + p fixed effects: 49 s at k = 100
# here, and at k = 1000 it did not finish in 15 minutes, so it is run at
# k = 1000 only with --full (metafast's time is printed alone otherwise).
# The differences of beta and tau2 at k = 100 for UM.FS (~2e-3 with metafor's
# default settings) come from glmer's default tolerances with 100 fixed
# effects: with control = list(glmerCtrl = list(optimizer = "bobyqa",
# optCtrl = list(rhoend = 1e-10))) metafor's estimates agree with ours to
# 1e-7 (beta) and 2e-7 (tau2) on the same data.
#
# Models: OR with model = "UM.FS" (fixed study effects, random treatment
# effect), OR with "CM.AL" (approximate conditional model), PLO
# (binomial-normal), OR with "UM.RS" (random study intercepts and random
# treatment effects; Laplace, nAGQ = 1, in both packages) and OR with
# "CM.EL" (exact conditional, non-central hypergeometric likelihood:
# metafor's integrate() per study, ours adaptive quadrature with 31 nodes).
# metafor's UM.RS and CM.EL fits are timed once (they are slow).  Data: dat.bcg (k = 13), and simulated rare-event 2x2
# tables (group sizes 20 + Poisson(150), baseline logit N(-4.5, 0.6^2), log
# odds ratio N(-0.4, 0.5^2)).  Timing: median elapsed time of system.time()
# over 3 repetitions (one for metafor at k = 1000).  The table also prints
# the largest absolute differences of beta and tau2 and of the
# log-likelihood.

# Measured 2026-12-05 (2 shared cores, 4 other jobs running; metafor 5.2.1,
# lme4 2.1.0), seconds and metafor / metafast:
#   dat.bcg   UM.FS 0.008 vs 0.35 (43x), CM.AL 0.003 vs 0.066 (22x), PLO 0.007 vs 0.10 (15x)
#   k = 100   UM.FS 0.062 vs 14.4 (232x), CM.AL 0.008 vs 0.086 (11x), PLO 0.008 vs 0.073 (9x)
#   k = 1000  UM.FS 0.37 (metafor not run), CM.AL 0.032 vs 6.8 (213x), PLO 0.031 vs 8.4 (271x)
#   UM.RS / CM.EL (--only=OR.UM.RS,OR.CM.EL, same day, load 5-8): dat.bcg 79x / 140x,
#   k = 100 434x / 7645x, k = 1000 >= 800x / ~15000x (metafor extrapolated from k = 100)

suppressPackageStartupMessages({
  library(metafast)
  ok <- requireNamespace("metafor", quietly = TRUE) && requireNamespace("lme4", quietly = TRUE)
})
if (!ok) stop("this benchmark needs metafor and lme4")
args <- commandArgs(trailingOnly = TRUE)
quick <- "--quick" %in% args
full <- "--full" %in% args
only <- sub("^--only=", "", grep("^--only=", args, value = TRUE))
only <- if (length(only)) strsplit(only, ",")[[1]] else NULL

sim <- function(k, seed = 1) {
  set.seed(seed)
  n1 <- rpois(k, 150) + 20; n2 <- rpois(k, 150) + 20
  base <- rnorm(k, -4.5, 0.6); th <- rnorm(k, -0.4, 0.5)
  data.frame(ai = rbinom(k, n1, plogis(base + th)), n1i = n1, ci = rbinom(k, n2, plogis(base)), n2i = n2)
}
tm <- function(expr, reps) {
  ex <- substitute(expr); env <- parent.frame()
  ts <- vapply(seq_len(reps), function(i) system.time(res <<- eval(ex, env))[["elapsed"]], 1)
  list(time = stats::median(ts), res = res)
}
res <- NULL

bcg <- metadat::dat.bcg
sets <- list("dat.bcg (k = 13)" = data.frame(ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos, n2i = bcg$cpos + bcg$cneg),
             "sim k = 100" = sim(100))
if (!quick) sets[["sim k = 1000"]] <- sim(1000)
models <- list(OR.UM.FS = list(measure = "OR", model = "UM.FS"), OR.CM.AL = list(measure = "OR", model = "CM.AL"),
               PLO = list(measure = "PLO"), OR.UM.RS = list(measure = "OR", model = "UM.RS"),
               OR.CM.EL = list(measure = "OR", model = "CM.EL"))
if (!is.null(only)) models <- models[intersect(names(models), only)]
# metafor's times of CM.EL (integrate() per study inside nlminb, after a
# glmer() fit of CM.AL) and UM.RS (three glmer() fits, the saturated one
# with k + 1 fixed effects) at k = 1000 are extrapolated linearly in k from
# k = 100 unless --full: they would run well over 3 minutes (89 s and
# ~200 s at k = 100 here); for UM.RS the linear extrapolation is a lower
# bound (the saturated glmer() fit grows faster than linearly in k)
t100 <- list(OR.CM.EL = NA_real_, OR.UM.RS = NA_real_)
rows <- list()
for (nm in names(sets)) {
  d <- sets[[nm]]
  for (mn in names(models)) {
    a <- models[[mn]]
    args <- if (a$measure == "PLO") list(measure = "PLO", xi = d$ai, ni = d$n1i) else
      c(a, list(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i))
    big <- nrow(d) >= 1000
    ours <- tm(suppressWarnings(do.call(metafast::rma.glmm, args)), 3)
    if (big && mn %in% c("OR.CM.EL", "OR.UM.RS") && !full) {
      est <- t100[[mn]] * 10
      rows[[length(rows) + 1L]] <- data.frame(data = paste(nm, "(metafor extrapolated)"), model = mn, metafast_s = ours$time,
                                              metafor_s = est, ratio = est / ours$time, d_beta = NA_real_,
                                              d_tau2 = NA_real_, d_ll = NA_real_)
      print(rows[[length(rows)]], digits = 3, row.names = FALSE)
      next
    }
    if (big && mn == "OR.UM.FS" && !full) {
      rows[[length(rows) + 1L]] <- data.frame(data = nm, model = mn, metafast_s = ours$time, metafor_s = NA_real_,
                                              ratio = NA_real_, d_beta = NA_real_, d_tau2 = NA_real_, d_ll = NA_real_)
      print(rows[[length(rows)]], digits = 3, row.names = FALSE)
      next
    }
    slow <- big || mn %in% c("OR.UM.RS", "OR.CM.EL")
    theirs <- tm(suppressWarnings(do.call(metafor::rma.glmm, args)), if (slow) 1 else 3)
    if (mn %in% names(t100) && nrow(d) == 100) t100[[mn]] <- theirs$time
    rows[[length(rows) + 1L]] <- data.frame(
      data = nm, model = mn, metafast_s = ours$time, metafor_s = theirs$time,
      ratio = theirs$time / ours$time,
      d_beta = max(abs(ours$res$beta - theirs$res$beta)), d_tau2 = abs(ours$res$tau2 - theirs$res$tau2),
      d_ll = abs(ours$res$fit.stats$ML[1] - theirs$res$fit.stats$ML[1]))
    print(rows[[length(rows)]], digits = 3, row.names = FALSE)
  }
}
cat("\nSummary (ratio = metafor time / metafast time):\n")
print(do.call(rbind, rows), digits = 3, row.names = FALSE)
