# boot_rma() of a selection model (issue 15 item 3): each replicate's refit
# against metafor::selmodel() (tight optimiser settings) on the same
# resampled or simulated data, reproducibility across threads and workers,
# bad input.

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

sb_ctrl <- list(reltol = 1e-13, maxit = 10000, intCtrl = list(rel.tol = 1e-12, subdivisions = 1000L))
sb_ctrl_nlminb <- list(optimizer = "nlminb", rel.tol = 1e-12, iter.max = 10000, eval.max = 10000,
                       intCtrl = list(rel.tol = 1e-12, subdivisions = 1000L))
sb_hack <- metadat::dat.hackshaw1998

# metafor's selection model on the data of replicate r, its statistics in the
# order of b$t (coefficients, tau2, the free deltas).  metafor is run with
# optim (BFGS) and with nlminb, both with tight tolerances, and the higher
# maximum is kept: on flat likelihoods (a delta of a continuous function, a
# weight drifting to its bound) either may stop short (seen: optim's BFGS
# 3.6e-5 away in delta at a log-likelihood 3e-10 lower).
sb_metafor_refit <- function(b, r, mods = NULL, ...) {
  d <- metafast:::.mf_selboot_replicate(b, r)
  m <- if (is.null(mods)) metafor::rma(d$yi, d$vi, method = "ML")
       else metafor::rma(d$yi, d$vi, mods = if (is.null(d$idx)) mods else mods[d$idx, , drop = FALSE], method = "ML")
  fits <- lapply(list(sb_ctrl, sb_ctrl_nlminb), function(ctrl)
    tryCatch(suppressWarnings(metafor::selmodel(m, ..., control = ctrl)), error = function(e) NULL))
  fits <- Filter(Negate(is.null), fits)
  if (!length(fits)) stop("metafor::selmodel() failed with both optimisers")
  s <- fits[[which.max(vapply(fits, function(f) f$ll, 0))]]
  free <- b$selmodel$spec$delta_free
  structure(c(c(s$beta), if (b$selmodel$spec$tau2_free) s$tau2, s$delta[free]), ll = s$ll)
}

test_that("case replicates of a step-function model equal metafor::selmodel() on the resampled studies", {
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "stepfun", steps = 0.025)
  set.seed(15)
  b <- boot_rma(sel, R = 6, progress = FALSE)
  expect_s3_class(b, "mf_boot")
  expect_identical(colnames(b$t), c("intrcpt", "tau2", "delta.2"))
  expect_equal(unname(b$t0), c(c(sel$beta), sel$tau2, sel$delta[2]))
  expect_equal(b$failed, 0L)
  for (r in 1:6) {
    d <- metafast:::.mf_selboot_replicate(b, r)
    expect_equal(d$yi, sb_hack$yi[d$idx])
    ref <- sb_metafor_refit(b, r, type = "stepfun", steps = 0.025)
    expect_lt(max(abs(b$t[r, ] - ref)), 1e-5)
  }
  # the jackknife (BCa) rows are refits without one study
  ref <- {
    m <- metafor::rma(sb_hack$yi[-3], sb_hack$vi[-3], method = "ML")
    s <- suppressWarnings(metafor::selmodel(m, type = "stepfun", steps = 0.025, control = sb_ctrl))
    c(c(s$beta), s$tau2, s$delta[2])
  }
  expect_lt(max(abs(b$jack[3, ] - ref)), 1e-5)
})

test_that("parametric replicates equal metafor::selmodel() on the simulated outcomes", {
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "stepfun", steps = c(0.025, 0.5))
  set.seed(16)
  b <- boot_rma(sel, R = 5, type = "parametric", progress = FALSE)
  expect_identical(colnames(b$t), c("intrcpt", "tau2", "delta.2", "delta.3"))
  for (r in 1:5) {
    d <- metafast:::.mf_selboot_replicate(b, r)
    expect_equal(d$vi, sb_hack$vi)
    expect_null(d$idx)
    ref <- sb_metafor_refit(b, r, type = "stepfun", steps = c(0.025, 0.5))
    if (is.na(b$t[r, 1])) next
    expect_lt(max(abs(b$t[r, ] - ref)), 1e-5)
  }
  expect_error(confint(b, type = "bca"), "case resampling")
})

test_that("moderators, two-sided p-values and other selection functions match metafor per replicate", {
  dat <- sb_hack
  dat$x <- dat$year - 1990
  sel <- selmodel(rma(yi, vi, mods = ~ x, data = dat), type = "stepfun", steps = 0.05, alternative = "two.sided")
  set.seed(17)
  b <- boot_rma(sel, R = 3, progress = FALSE)
  expect_identical(colnames(b$t), c("intrcpt", "x", "tau2", "delta.2"))
  for (r in 1:3) {
    ref <- sb_metafor_refit(b, r, mods = cbind(dat$x), type = "stepfun", steps = 0.05, alternative = "two.sided")
    expect_lt(max(abs(b$t[r, ] - ref)), 1e-5)
  }
  # truncation at a known cut (closed form)
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "trunc")
  set.seed(18)
  b <- boot_rma(sel, R = 3, type = "parametric", progress = FALSE)
  for (r in 1:3) expect_lt(max(abs(b$t[r, ] - sb_metafor_refit(b, r, type = "trunc"))), 1e-5)
  # a continuous function (numerical integrals; metafor takes seconds per fit)
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "negexp")
  set.seed(19)
  b <- boot_rma(sel, R = 2, progress = FALSE)
  expect_identical(colnames(b$t), c("intrcpt", "tau2", "delta"))
  for (r in 1:2) expect_lt(max(abs(b$t[r, ] - sb_metafor_refit(b, r, type = "negexp"))), 1e-5)
})

test_that("every one of 40 replicates (case and parametric, 1 and 3 steps) equals metafor's refit", {
  skip_unless_level(2)
  for (steps in list(0.025, c(0.025, 0.1, 0.5))) {
    sel <- selmodel(rma(yi, vi, data = sb_hack), type = "stepfun", steps = steps)
    for (type in c("case", "parametric")) {
      set.seed(30)
      b <- suppressWarnings(boot_rma(sel, R = 10, type = type, progress = FALSE))
      expect_equal(b$failed, 0L)
      for (r in 1:10) {
        ref <- sb_metafor_refit(b, r, type = "stepfun", steps = steps)
        d <- max(abs(b$t[r, ] - ref))
        # Within 1e-5, or (3 of these 40 replicates, three steps: flat in the
        # weights, tau2 at 0 in two) up to 1e-4 where both metafor optimisers
        # stop short: there metafast's maximum is the higher one (by 3.5e-9
        # to 3.6e-6 in ll; metafor's log(tau2) cannot reach tau2 = 0).
        if (d > 1e-5) expect_gte(b$selmodel$ll[r], attr(ref, "ll"))
        expect_lt(d, 1e-4)
      }
    }
  }
})

test_that("the parametric bootstrap draws from the fitted selection model", {
  # With delta = 1 fixed (no selection) the model is the random-effects model:
  # the simulated outcomes are N(mu, v + tau2); with a weight delta_2 < 1 the
  # share of significant outcomes follows the model's probabilities.
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "stepfun", steps = 0.025, delta = c(1, 0.25))
  set.seed(21)
  b <- boot_rma(sel, R = 200, type = "parametric", progress = FALSE)
  sig <- vapply(1:200, function(r) mean(metafast:::.mf_selboot_replicate(b, r)$pvals <= 0.025), 0)
  mu <- c(sel$beta)
  sd <- sqrt(sb_hack$vi + sel$tau2)
  q <- stats::pnorm(stats::qnorm(0.975) * sqrt(sb_hack$vi), mu, sd, lower.tail = FALSE)  # P(p <= .025) before selection
  expected <- mean(q / (q + 0.25 * (1 - q)))
  expect_lt(abs(mean(sig) - expected), 4 * stats::sd(sig) / sqrt(200))
})

test_that("set.seed() reproduces the replicates for any number of threads and future workers", {
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "stepfun", steps = 0.025)
  for (type in c("case", "parametric")) {
    set.seed(3); b1 <- boot_rma(sel, R = 60, type = type, threads = 1, progress = FALSE)
    set.seed(3); b2 <- boot_rma(sel, R = 60, type = type, threads = 2, progress = FALSE)
    expect_identical(b1$t, b2$t)
    expect_identical(b1$selmodel$code, b2$selmodel$code)
    set.seed(4); b3 <- boot_rma(sel, R = 60, type = type, threads = 2, progress = FALSE)
    expect_false(identical(b1$t, b3$t))
  }
  skip_if_not_installed("future.apply")
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  set.seed(3); b4 <- boot_rma(sel, R = 60, type = "parametric", parallel = "future", progress = FALSE)
  expect_identical(b1$t, b4$t)
})

test_that("print, confint (perc, basic, norm, bca), plot and as.boot work on a selection model bootstrap", {
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "stepfun", steps = 0.025)
  set.seed(5)
  b <- boot_rma(sel, R = 199, progress = FALSE)
  expect_output(print(b), "bootstrap of a selection model \\(type stepfun")
  for (tp in c("perc", "basic", "norm", "bca")) {
    ci <- suppressWarnings(confint(b, parm = "intrcpt", type = tp))
    expect_true(ci[1, "ci.lb"] < sel$beta[1] && sel$beta[1] < ci[1, "ci.ub"])
  }
  skip_if_not_installed("boot")
  bo <- as.boot(b)
  expect_lt(max(abs(bo$statistic(bo$data, seq_len(nrow(bo$data))) - b$t0)), 1e-5)
  ci <- suppressWarnings(boot::boot.ci(bo, index = 1, type = "perc"))
  expect_equal(unname(ci$percent[4:5]), unname(confint(b, parm = 1, type = "perc")[1, 2:3]), tolerance = 1e-12)
  pdf(NULL)
  on.exit(dev.off())
  expect_silent(plot(b, which = "intrcpt"))
})

test_that("bad input to boot_rma() of a selection model gives errors naming the argument", {
  sel <- selmodel(rma(yi, vi, data = sb_hack), type = "stepfun", steps = 0.025)
  expect_error(boot_rma(sel, R = 0), "'R'")
  expect_error(boot_rma(sel, R = 10.5), "'R'")
  expect_error(boot_rma(sel, R = 10, type = "wild"), "'arg'|type")
  expect_error(boot_rma(sel, R = 10, type = "parametric", cluster = rep(1:2, length.out = 37)), "'cluster'")
  expect_error(boot_rma(sel, R = 10, progress = NA), "'progress'")
  expect_error(boot_rma(sel, R = 10, threads = -1), "'threads'")
  expect_error(boot_rma(sel, R = 10, parallel = "snow"), "parallel")
  expect_error(boot_rma(sel, R = 10, ncpus = 2), "ncpus")
  set.seed(1)
  b <- boot_rma(sel, R = 5, progress = FALSE)
  expect_error(metafast:::.mf_selboot_replicate(b, 6), "'r'")
  expect_error(confint(b, parm = "nope"), "'parm'")
})

test_that("boot_rma() of stepcon, decreasing and truncest fits refuses what it cannot resample, by name", {
  fit <- rma(yi, vi, data = metadat::dat.hackshaw1998, method = "ML")
  sc <- selmodel(fit, type = "stepcon", steps = c(0.025, 0.5), delta = c(1, NA, 0.2))
  expect_error(boot_rma(sc, R = 10), "'delta'")
  dec <- selmodel(fit, type = "stepfun", steps = c(0.025, 0.5), decreasing = TRUE, control = list(delta.max = 0.9))
  expect_error(boot_rma(dec, R = 10), "'delta.max'")
  tr <- selmodel(fit, type = "truncest", control = list(delta.min = c(0, -1)))
  expect_error(boot_rma(tr, R = 10), "'delta.min'")
})
