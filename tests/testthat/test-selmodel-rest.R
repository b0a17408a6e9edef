# selmodel() (issue 15), the rest: confint() and profile() of selection
# models, types "stepcon" and "truncest", and fits whose tau^2 estimate is on
# the boundary 0 -- against metafor's selmodel() run with tight settings.

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

mt_ctrl <- list(reltol = 1e-13, intCtrl = list(rel.tol = 1e-12, subdivisions = 1000L))
hack <- metadat::dat.hackshaw1998
dat10 <- data.frame(yi = c(0.45, 0.30, 0.62, 0.05, 0.51, 0.38, 0.20, 0.71, 0.12, 0.40),
                    vi = c(0.04, 0.02, 0.09, 0.01, 0.06, 0.03, 0.02, 0.10, 0.01, 0.05))

expect_close <- function(a, b, tol) {
  expect_equal(is.na(a), is.na(b))
  d <- max(c(0, abs(c(a) - c(b))), na.rm = TRUE)
  expect(d <= tol, sprintf("largest absolute difference %.3g > %.3g", d, tol))
}

test_that("a fit with tau^2 on the boundary 0 converges (the negexp example of ?selmodel)", {
  # optim's BFGS on log(tau2) runs towards -Inf and hit maxit ("did not achieve
  # convergence"); metafor's optim fails the same way with reltol = 1e-13, its
  # nlminb converges (to tau2 = 0 exactly), as does the fit with tau2 fixed at 0
  f <- rma(yi, vi, data = dat10, method = "ML")
  a <- selmodel(f, type = "negexp")
  m <- metafor::rma(yi, vi, data = dat10, method = "ML")
  b <- metafor::selmodel(m, type = "negexp", control = list(optimizer = "nlminb", intCtrl = mt_ctrl$intCtrl))
  b0 <- metafor::selmodel(metafor::rma(yi, vi, data = dat10, tau2 = 0), type = "negexp", control = mt_ctrl)
  expect_identical(a$tau2, 0)
  expect_lt(b$tau2, 1e-10)
  expect_close(a$ll, b$ll, 1e-6)
  expect_close(a$ll, b0$ll, 1e-6)
  expect_close(a$beta, b$beta, 1e-5)
  expect_close(a$delta, b$delta, 1e-5)
  expect_close(a$beta, b0$beta, 1e-5)
  # (the likelihood is flat in delta here, SE 15.6: metafor's two fits differ by 3e-5)
  expect_equal(a$delta, b0$delta, tolerance = 1e-6)
  expect_equal(a$se, b$se, tolerance = 1e-4)
  expect_equal(a$se.delta, b$se.delta, tolerance = 1e-4)
  expect_true(is.na(a$se.tau2))
  expect_close(a$LRT, b$LRT, 1e-6)
  expect_identical(a$LRT.tau2, 0)
  expect_identical(a$convergence$code, 0L)
  expect_identical(a$convergence$boundary, "tau2 = 0")
  # metafor's default fit stops early on these data (ll 9.15365, tau2 1.6e-6,
  # delta 32.54): with integrate()'s default rel.tol its likelihood is off by 4e-3
})

test_that("the other fits of the 10-study example data reach the boundary tau^2 = 0 too", {
  f <- rma(yi, vi, data = dat10, method = "ML")
  a <- selmodel(f, type = "stepfun", steps = 0.025)
  m <- metafor::rma(yi, vi, data = dat10, method = "ML")
  b <- metafor::selmodel(m, type = "stepfun", steps = 0.025, control = list(optimizer = "nlminb"))
  expect_identical(a$tau2, 0)
  expect_close(a$ll, b$ll, 1e-6)
  expect_close(c(a$beta), c(b$beta), 1e-5)
  expect_close(a$delta, b$delta, 1e-5)
  # metafor 5.2.1, control = list(optimizer = "nlminb", intCtrl = list(rel.tol = 1e-12,
  # subdivisions = 1000)) (tau2 < 2e-11 there): ll, beta, delta
  ref <- list(logistic = c(8.11512404, -0.253428, 30.59186), halfnorm = c(5.66103623, 0.072303, 32.98240),
              power = c(8.24623014, -0.203336, 21.60478))
  for (ty in names(ref)) {
    a <- selmodel(f, type = ty)
    expect_identical(a$tau2, 0)
    expect_close(a$ll, ref[[ty]][1], 1e-6)
    expect_close(c(a$beta), ref[[ty]][2], 2e-6)
    # (the likelihood is flat in delta: SEs near 15)
    expect_equal(a$delta, ref[[ty]][3], tolerance = 2e-6)
  }
})

test_that("confint() gives metafor's profile-likelihood intervals (tau2 and each delta)", {
  f <- rma(yi, vi, data = hack)
  m <- metafor::rma(yi, vi, data = hack)
  a <- selmodel(f, type = "stepfun", steps = c(0.025, 0.5))
  b <- metafor::selmodel(m, type = "stepfun", steps = c(0.025, 0.5), control = mt_ctrl)
  # (metafor's uniroot() tolerance is .Machine$double.eps^0.25 by default: both tightened)
  ca <- confint(a, control = list(tol = 1e-10))
  cb <- confint(b, control = list(tol = 1e-10))
  expect_s3_class(ca, "list.confint.mf_rma")
  expect_length(ca, 4L)
  for (j in 1:3) {
    expect_equal(dimnames(ca[[j]]$random), dimnames(cb[[j]]$random))
    expect_close(ca[[j]]$random[, 2:3], cb[[j]]$random[, 2:3], 1e-6)
    expect_close(ca[[j]]$random[, 1], cb[[j]]$random[, 1], 1e-5)
    expect_identical(ca[[j]]$lb.sign, cb[[j]]$lb.sign)
    expect_identical(ca[[j]]$ub.sign, cb[[j]]$ub.sign)
  }
  # one component, with the coefficients
  c1 <- confint(a, delta = 3, fixed = TRUE, control = list(tol = 1e-10))
  expect_s3_class(c1, "confint.mf_rma")
  expect_close(c1$random, ca[[3]]$random, 1e-12)
  expect_close(c1$fixed[, "ci.lb"], a$ci.lb, 1e-12)
  expect_output(print(ca), "delta.2")
  expect_output(print(c1), "intrcpt")
  # a bound beyond the search interval is shown with its sign, as in metafor
  c2 <- confint(a, delta = 2, control = list(vc.max = 1, tol = 1e-10))
  c2b <- confint(b, delta = 2, control = list(vc.max = 1, tol = 1e-10))
  expect_identical(c2$ub.sign, ">")
  expect_identical(c2$ub.sign, c2b$ub.sign)
  expect_close(c2$random[, 2:3], c2b$random[, 2:3], 1e-6)
})

test_that("confint() of a continuous selection function matches metafor", {
  skip_unless_level(2)  # metafor takes ~5 minutes
  f <- rma(yi, vi, data = hack)
  m <- metafor::rma(yi, vi, data = hack)
  a <- selmodel(f, type = "negexp")
  b <- metafor::selmodel(m, type = "negexp", control = mt_ctrl)
  ca <- confint(a, control = list(tol = 1e-10))
  cb <- confint(b, control = list(tol = 1e-10))
  for (j in 1:2) expect_close(ca[[j]]$random[, 2:3], cb[[j]]$random[, 2:3], 1e-5)
})

test_that("profile() gives metafor's profiles and plots them", {
  f <- rma(yi, vi, data = hack)
  m <- metafor::rma(yi, vi, data = hack)
  a <- selmodel(f, type = "stepfun", steps = c(0.025, 0.5))
  b <- metafor::selmodel(m, type = "stepfun", steps = c(0.025, 0.5), control = mt_ctrl)
  pa <- profile(a, delta = 2, xlim = c(0.2, 1.2), steps = 6, plot = FALSE)
  pb <- profile(b, delta = 2, xlim = c(0.2, 1.2), steps = 6, plot = FALSE, progbar = FALSE)
  expect_s3_class(pa, "mf_profile")
  expect_equal(names(pa), names(pb))
  expect_equal(pa$delta, pb$delta)
  expect_close(pa$ll, pb$ll, 1e-6)
  expect_close(as.matrix(pa$beta), as.matrix(pb$beta), 1e-5)
  expect_close(as.matrix(pa$ci.lb), as.matrix(pb$ci.lb), 1e-4)
  expect_identical(pa$title, pb$title)
  expect_identical(pa$xlab, pb$xlab)
  pt <- profile(a, tau2 = TRUE, steps = c(0, 0.01, 0.05), plot = FALSE)
  qt <- profile(b, tau2 = TRUE, steps = c(0, 0.01, 0.05), plot = FALSE, progbar = FALSE)
  expect_close(pt$ll, qt$ll, 1e-6)
  expect_identical(pt$title, qt$title)
  # every component, drawn
  pf <- tempfile(fileext = ".png")
  grDevices::png(pf)
  all <- profile(a, steps = 4)
  grDevices::dev.off()
  unlink(pf)
  expect_identical(all$comps, 3L)
  expect_equal(unname(vapply(all[1:3], function(p) names(p)[1L], "")), c("tau2", "delta", "delta"))
})

test_that("confint() and profile(): metafor's errors", {
  f <- rma(yi, vi, data = hack)
  a <- selmodel(f, type = "stepfun", steps = c(0.025, 0.5))
  expect_error(confint(a, delta = 1), "fixed")
  expect_error(confint(a, delta = 4), "No such 'delta'")
  expect_error(confint(a, delta = 2, tau2 = TRUE), "only one")
  expect_error(confint(a, delta = 2, extint = TRUE), "extint")
  expect_error(profile(a, delta = 2, xlim = c(-1, 1)), "Lower bound")
  expect_error(profile(a, delta = 2, parallel = "snow"), "parallel")
  ad <- selmodel(f, type = "stepfun", steps = c(0.025, 0.5), decreasing = TRUE)
  expect_error(confint(ad), "not currently implemented")
  expect_error(profile(ad), "not currently implemented")
  ee <- selmodel(rma(yi, vi, data = hack, method = "EE"), type = "stepfun", steps = 0.025, delta = c(1, 0.5))
  expect_error(confint(ee), "No components")
})

test_that("type = 'stepcon' (non-increasing step weights) matches metafor's solnp() fit", {
  bask <- metadat::dat.baskerville2012
  bask$yi <- bask$smd
  bask$vi <- bask$se^2
  f <- rma(yi, vi, data = bask)
  a <- selmodel(f, type = "stepcon", steps = c(0.01, 0.05, 0.2))
  # metafor 5.2.1 with Rsolnp 1.16, control = list(tol = 1e-12, delta = 1e-9):
  # the unconstrained weights (1, 0.81, 0.11, 0.12) are tied at the maximum
  expect_close(a$ll, -2.431946353, 1e-6)
  expect_close(c(a$beta), 0.3553376856, 1e-5)
  expect_close(a$tau2, 0.006020912691, 1e-5)
  expect_close(a$delta, c(1, 0.8054696552, 0.1156789496, 0.1156789496), 1e-5)
  expect_equal(a$delta[3], a$delta[4])
  expect_equal(a$se, 0.1230394586, tolerance = 1e-4)
  expect_equal(a$se.delta[-1], c(0.5949397526, 0.1321173338, 0.1430824165), tolerance = 1e-4)
  expect_close(a$LRT, 8.567817919, 1e-6)
  expect_identical(a$LRTdf, 3L)
  expect_identical(a$type, "stepcon")
  expect_equal(a$ptable$k, c(9L, 9L, 2L, 3L))
  expect_output(print(a), "0.05 < p <= 0.2")
  # where the unconstrained weights are non-increasing, stepcon is stepfun
  hack <- metadat::dat.hackshaw1998
  fh <- rma(yi, vi, data = hack)
  s1 <- selmodel(fh, type = "stepcon", steps = c(0.025, 0.1, 0.5))
  s2 <- selmodel(fh, type = "stepfun", steps = c(0.025, 0.1, 0.5))
  expect_close(s1$ll, s2$ll, 1e-8)
  expect_close(s1$delta, s2$delta, 1e-5)
  expect_warning(selmodel(fh, type = "stepcon", steps = 0.05, prec = "sei"), "'prec' ignored")
  expect_error(selmodel(fh, type = "stepcon"), "'steps'")
  expect_error(confint(s1), "not currently implemented")

  skip_if_not_installed("Rsolnp")
  sc <- list(tol = 1e-12, delta = 1e-9)
  set.seed(7)
  k <- 80
  vi <- runif(k, 0.01, 0.2)
  yi <- rnorm(k, 0.1, sqrt(vi + 0.02))
  pv <- pnorm(yi / sqrt(vi), lower.tail = FALSE)
  sim <- data.frame(yi = yi, vi = vi)[pv < 0.025 | (pv > 0.5 & runif(k) < 0.9) | runif(k) < 0.2, ]
  cfgs <- list(list(d = hack, s = c(0.05, 0.1, 0.2, 0.5), alt = "greater"),
               list(d = bask, s = c(0.01, 0.05, 0.2), alt = "greater"))
  # (metafor takes ~30 s on the simulated data)
  if (test_level() >= 2) cfgs <- c(cfgs, list(list(d = sim, s = c(0.025, 0.5), alt = "two.sided")))
  for (cfg in cfgs) {
    a <- selmodel(rma(yi, vi, data = cfg$d), type = "stepcon", steps = cfg$s, alternative = cfg$alt)
    m <- metafor::rma(yi, vi, data = cfg$d)
    b <- suppressWarnings(metafor::selmodel(m, type = "stepcon", steps = cfg$s, alternative = cfg$alt, control = sc))
    # (solnp stops up to 1e-5 below the maximum in the log-likelihood; ours is at least as high)
    expect_gt(a$ll, b$ll - 1e-8)
    expect_close(a$ll, b$ll, 1e-5)
    expect_close(a$beta, b$beta, 1e-5)
    expect_close(a$tau2, b$tau2, 1e-5)
    expect_close(a$delta, b$delta, 2e-5)
    expect_equal(a$se.delta, b$se.delta, tolerance = 1e-3)
    expect_close(a$LRT, b$LRT, 2e-5)
    expect_equal(a$LRTdf, b$LRTdf)
    # LRT.tau2: the constrained fit with tau2 = 0 (metafor's own refit drops
    # the constraint; compare with its constrained fit of the rma(tau2 = 0) model)
    b0 <- suppressWarnings(metafor::selmodel(metafor::rma(yi, vi, data = cfg$d, tau2 = 0), type = "stepcon",
                                             steps = cfg$s, alternative = cfg$alt, control = sc))
    expect_close(a$LRT.tau2, max(0, -2 * (b0$ll - a$ll)), 2e-5)
  }
})

test_that("type = 'truncest' (estimated truncation point) follows metafor's fit", {
  hack <- metadat::dat.hackshaw1998
  f <- rma(yi, vi, data = hack, method = "ML")
  m <- metafor::rma(yi, vi, data = hack, method = "ML")
  for (alt in c("greater", "less")) {
    a <- selmodel(f, type = "truncest", alternative = alt)
    b <- metafor::selmodel(m, type = "truncest", alternative = alt)
    # The likelihood jumps where the cut passes an outcome and rises towards
    # the jump, so its supremum is not attained: metafor's estimate is where
    # optim()'s BFGS, with its finite-difference gradient, stops next to a
    # jump; metafast runs the same optimiser on the same parametrisation.  From
    # metafor's starting values (its ML fit differs from ours by 6e-7) the
    # paths coincide; from our own the estimates agree within 1e-6 and the
    # log-likelihood, steep in the cut, within 2e-5.
    b2 <- metafor::selmodel(m, type = "truncest", alternative = alt,
                            control = list(beta.init = c(f$beta), tau2.init = f$tau2 + 0.001))
    expect_close(a$ll, b2$ll, 1e-8)
    expect_close(a$beta, b2$beta, 1e-7)
    expect_close(a$tau2, b2$tau2, 1e-7)
    expect_close(a$delta, b2$delta, 1e-7)
    expect_close(a$delta, b$delta, 1e-6)
    expect_close(a$beta, b$beta, 1e-6)
    expect_close(a$ll, b$ll, 2e-5)
    expect_close(a$LRT, b2$LRT, 1e-6)
    expect_equal(a$LRTdf, 1L)
    # the cut lies just below an outcome
    expect_lt(min(abs(hack$yi - a$delta[2])), 1e-3)
    # standard errors: of beta, tau2 and delta[1] at the cut (metafor's
    # numerical Hessian also differentiates across the jumps in the cut)
    expect_true(is.na(a$se.delta[2]))
    expect_true(all(is.finite(c(a$se, a$se.tau2, a$se.delta[1]))))
  }
  expect_error(selmodel(f, type = "truncest", alternative = "two.sided"), "two.sided")
  expect_warning(selmodel(f, type = "truncest", steps = 0.1), "'steps' ignored")
  expect_error(plot(a), "Cannot draw")
})
