# rma.glmm() against metafor::rma.glmm() (which fits with lme4::glmer() and
# glm()), with tight optimiser settings and the same nAGQ: estimates and
# standard errors within 1e-5 (5e-4 where glmer uses its finite-difference Hessian), log-likelihoods within 1e-6; plus a check of
# the quadrature against stats::integrate() and the bad-input errors.

# metafor's optimisers tightened: glmer() with bobyqa to rhoend = 1e-10,
# glm() to a deviance change of 1e-12.
glmm_ctrl <- list(glmerCtrl = list(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5)),
                  glmCtrl = list(epsilon = 1e-12, maxit = 200))

skip_glmm_ref <- function() {
  skip_if_not_installed("metafor")
  skip_if_not_installed("lme4")
  skip_if_not_installed("metadat")
}

# ours and metafor's fits compared: coefficients, SEs, tau^2 (relative
# 1e-5; absolute 1e-7 for a tau^2 at zero), log-likelihood (absolute 1e-6),
# heterogeneity tests and fit statistics.
# Standard errors of ML fits: within 5e-4 only where glmer uses a Hessian, because glmer's covariance comes from a
# finite-difference Hessian (delta 1e-4) of a deviance evaluated with PIRLS
# tolerance 1e-7; on dat.bcg (PLO) it is 5e-5 away from the Hessian of the
# same likelihood by numDeriv's Richardson extrapolation, which agrees with
# ours to 4e-7 (the quadrature test below checks our SE against a Hessian of
# the likelihood by stats::integrate()).
expect_glmm_match <- function(ours, ref, tol = 1e-5, tol_ll = 1e-6, tol_wld = 1e-6, tol_se = 5e-4) {
  expect_equal(c(ours$beta), c(ref$beta), tolerance = tol)
  expect_equal(ours$se, ref$se, tolerance = if (ref$method == "ML") tol_se else tol)
  if (ref$tau2 > 1e-6) expect_equal(ours$tau2, ref$tau2, tolerance = tol) else expect_lt(abs(ours$tau2 - ref$tau2), 1e-7)
  # metafor's ML log-likelihood is the conditional one at the modes (see
  # DESIGN.md), which is not stationary at the optimum: glmer's optimum,
  # accurate to ~1e-7, moves it by up to ~3e-5 (2e-7 relative); EE fits
  # (glm) match to 1e-6 absolute
  if (ref$method == "ML") expect_equal(ours$fit.stats["ll", "ML"], ref$fit.stats["ll", "ML"], tolerance = tol_ll)
  else expect_lt(abs(ours$fit.stats["ll", "ML"] - ref$fit.stats["ll", "ML"]), tol_ll)
  expect_equal(ours$fit.stats$ML[3:5], ref$fit.stats$ML[3:5], tolerance = tol_ll)
  expect_equal(ours$QE.LRT, ref$QE.LRT, tolerance = tol_ll)
  if (!is.na(ref$QE.Wld)) expect_equal(ours$QE.Wld, ref$QE.Wld, tolerance = tol_wld)
  expect_identical(ours$QE.df, ref$QE.df)
  expect_equal(ours$QM, ref$QM, tolerance = if (ref$method == "ML") tol_se else tol)
  expect_equal(ours$I2, ref$I2, tolerance = tol)
  expect_equal(ours$parms, ref$parms)
  expect_equal(ours$k.eff, ref$k.eff)
}

ref_fit <- function(...) {
  cl <- match.call()
  cl[[1L]] <- quote(metafor::rma.glmm)
  cl$control <- glmm_ctrl
  suppressWarnings(eval(cl, parent.frame()))
}
# all warnings of an expression (and its value)
warnings_of <- function(expr) {
  w <- character(0)
  val <- withCallingHandlers(expr, warning = function(cnd) {
    w <<- c(w, conditionMessage(cnd))
    invokeRestart("muffleWarning")
  })
  list(value = val, warnings = w)
}

test_that("PLO and IRLN (binomial-normal, Poisson-normal) match metafor on dat.bcg and dat.nielweise2008", {
  skip_glmm_ref()
  dat <- metadat::dat.bcg
  for (method in c("ML", "EE")) {
    ours <- rma.glmm(measure = "PLO", xi = tpos, ni = tpos + tneg, data = dat, method = method)
    ref <- ref_fit(measure = "PLO", xi = tpos, ni = tpos + tneg, data = dat, method = method)
    expect_glmm_match(ours, ref)
    ours <- rma.glmm(measure = "PLO", xi = tpos, ni = tpos + tneg, data = dat, method = method, mods = ~ ablat + alloc)
    ref <- ref_fit(measure = "PLO", xi = tpos, ni = tpos + tneg, data = dat, method = method, mods = ~ ablat + alloc)
    expect_glmm_match(ours, ref)
  }
  d8 <- metadat::dat.nielweise2008
  for (nq in c(1, 7, 15)) {
    ours <- rma.glmm(measure = "IRLN", xi = x1i, ti = t1i, data = d8, nAGQ = nq)
    ref <- ref_fit(measure = "IRLN", xi = x1i, ti = t1i, data = d8, nAGQ = nq)
    expect_glmm_match(ours, ref)
  }
  ours <- rma.glmm(measure = "IRLN", xi = x1i, ti = t1i, data = d8, test = "t", mods = ~ year)
  ref <- ref_fit(measure = "IRLN", xi = x1i, ti = t1i, data = d8, test = "t", mods = ~ year)
  expect_glmm_match(ours, ref)
  expect_equal(ours$pval, ref$pval, tolerance = 1e-5)
  expect_equal(ours$ci.lb, ref$ci.lb, tolerance = 1e-5)
})

test_that("OR and IRR with model UM.FS match metafor (dat.bcg, dat.nielweise2007, dat.nielweise2008, dat.collins1985a)", {
  skip_glmm_ref()
  dat <- metadat::dat.bcg
  for (coding in c(1/2, 1, 0)) {
    ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, coding = coding)
    ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, coding = coding)
    expect_glmm_match(ours, ref)
  }
  ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, mods = ~ ablat)
  ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, mods = ~ ablat)
  expect_glmm_match(ours, ref)
  ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, method = "EE")
  ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, method = "EE")
  expect_glmm_match(ours, ref)
  d7 <- metadat::dat.nielweise2007
  ours <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d7))
  ref <- ref_fit(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d7)
  expect_glmm_match(ours, ref)
  dc <- metadat::dat.collins1985a
  ours <- suppressWarnings(rma.glmm(measure = "OR", ai = b.xti, n1i = nti, ci = b.xci, n2i = nci, data = dc))
  ref <- ref_fit(measure = "OR", ai = b.xti, n1i = nti, ci = b.xci, n2i = nci, data = dc)
  expect_glmm_match(ours, ref)
  d8 <- metadat::dat.nielweise2008
  ours <- rma.glmm(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d8)
  ref <- ref_fit(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d8)
  expect_glmm_match(ours, ref)
})

test_that("the conditional models (OR CM.AL, IRR CM.EL) match metafor", {
  skip_glmm_ref()
  dat <- metadat::dat.bcg
  ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, model = "CM.AL")
  ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, model = "CM.AL")
  expect_glmm_match(ours, ref)
  d7 <- metadat::dat.nielweise2007
  ours <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d7, model = "CM.AL"))
  ref <- ref_fit(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d7, model = "CM.AL")
  expect_glmm_match(ours, ref)
  d8 <- metadat::dat.nielweise2008
  ours <- rma.glmm(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d8, model = "CM.EL")
  ref <- ref_fit(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d8, model = "CM.EL")
  expect_glmm_match(ours, ref)
})

test_that("simulated rare events with many zero cells match metafor", {
  skip_glmm_ref()
  set.seed(19)
  k <- 30
  n1 <- rpois(k, 150) + 20; n2 <- rpois(k, 150) + 20
  th <- rnorm(k, -0.4, 0.5); base <- rnorm(k, -4.5, 0.6)
  ai <- rbinom(k, n1, plogis(base + th)); ci <- rbinom(k, n2, plogis(base))
  sim <- data.frame(ai = ai, n1i = n1, ci = ci, n2i = n2)
  expect_gt(sum(ai == 0 | ci == 0), 8)
  for (model in c("UM.FS", "CM.AL")) {
    ours <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = sim, model = model))
    ref <- ref_fit(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = sim, model = model)
    # the Wald test: metafor's glm() leaves the coefficients of zero cells
    # finite (about -20 to -30) with large but finite variances; we take
    # their limit (weight 0): 0.5% apart here (metafor's CM.AL gives NA:
    # "Cannot invert the Hessian for the saturated model")
    expect_glmm_match(ours, ref, tol_wld = 1e-2)
  }
  ours <- rma.glmm(measure = "PLO", xi = ai, ni = n1i, data = sim)
  ref <- ref_fit(measure = "PLO", xi = ai, ni = n1i, data = sim)
  expect_glmm_match(ours, ref, tol_wld = 1e-2)
})

test_that("adaptive quadrature converges with nAGQ and agrees with stats::integrate()", {
  # binomial-normal model of dat.bcg (group 1): the marginal log-likelihood
  # at the fitted values, integrated by stats::integrate() study by study
  dat <- data.frame(x = c(4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27),
                    n = c(123, 306, 231, 13598, 5069, 1541, 2545, 88391, 7499, 1716, 50634, 2498, 16913))
  fits <- lapply(c(1, 3, 7, 15, 31), function(q) rma.glmm(measure = "PLO", xi = x, ni = n, data = dat, nAGQ = q))
  b <- vapply(fits, function(f) c(f$beta), 1)
  t2 <- vapply(fits, function(f) f$tau2, 1)
  # the changes shrink as nAGQ grows
  expect_lt(abs(b[5] - b[4]), abs(b[2] - b[1]))
  expect_lt(abs(b[5] - b[4]), 1e-7)
  expect_lt(abs(t2[5] - t2[4]), 1e-7)
  f <- fits[[5]]
  mu <- c(f$beta); tau <- sqrt(f$tau2)
  ll <- sum(vapply(seq_len(nrow(dat)), function(i) {
    g <- function(u) dbinom(dat$x[i], dat$n[i], plogis(mu + tau * u)) * dnorm(u)
    log(integrate(g, -Inf, Inf, rel.tol = 1e-13, abs.tol = 0)$value)
  }, 1))
  expect_equal(f$ll.marginal, ll, tolerance = 1e-9)
  # and the maximum: the log-likelihood by integrate() is lower on both
  # sides of the estimates
  llat <- function(mu, tau) sum(vapply(seq_len(nrow(dat)), function(i) {
    g <- function(u) dbinom(dat$x[i], dat$n[i], plogis(mu + tau * u)) * dnorm(u)
    log(integrate(g, -Inf, Inf, rel.tol = 1e-13, abs.tol = 0)$value)
  }, 1))
  for (d in c(-1e-3, 1e-3)) {
    expect_lt(llat(mu + d, tau), ll)
    expect_lt(llat(mu, tau + d), ll)
  }
  # the SE of the intercept from a central-difference Hessian of that
  # log-likelihood (h = 1e-3: truncation error ~1e-6)
  h <- 1e-3
  H <- matrix(0, 2, 2)
  H[1, 1] <- (llat(mu + h, tau) - 2 * ll + llat(mu - h, tau)) / h^2
  H[2, 2] <- (llat(mu, tau + h) - 2 * ll + llat(mu, tau - h)) / h^2
  H[1, 2] <- H[2, 1] <- (llat(mu + h, tau + h) - llat(mu + h, tau - h) - llat(mu - h, tau + h) +
                           llat(mu - h, tau - h)) / (4 * h^2)
  expect_equal(f$se, sqrt(solve(-H)[1, 1]), tolerance = 1e-5)
})

test_that("bad input gives errors naming the argument; all-zero studies are dropped as in metafor", {
  dat <- data.frame(ai = c(4, 6, 3, 0), n1i = c(123, 306, 231, 50), ci = c(11, 29, 11, 0), n2i = c(139, 303, 220, 50))
  expect_error(rma.glmm(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat), "measure")
  expect_error(rma.glmm(measure = "OR", ai = -ai, n1i = n1i, ci = ci, n2i = n2i, data = dat), "'ai' must not be negative")
  expect_error(rma.glmm(measure = "OR", ai = ai + 500, n1i = n1i, ci = ci, n2i = n2i, data = dat), "'ai' must not exceed 'n1i'")
  expect_error(rma.glmm(measure = "PLO", xi = ai, ni = ai - 1, data = dat), "must not")
  expect_error(rma.glmm(measure = "IRLN", xi = ai, ti = ai - 10, data = dat), "'ti'")
  expect_error(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, model = "UM.XX"), "model")
  expect_error(rma.glmm(measure = "PLO", xi = ai, ni = n1i, data = dat, cor = NA), "cor")
  expect_error(rma.glmm(measure = "RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat), "measure")
  expect_error(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, method = "REML"), "method")
  expect_error(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, nAGQ = 0), "nAGQ")
  expect_error(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, coding = 2), "coding")
  expect_error(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, family = binomial), "family")
  expect_error(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, retfit = TRUE), "retfit")
  wf <- warnings_of(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, method = "EE"))
  fit <- wf$value
  expect_true("1 study with NAs omitted from model fitting." %in% wf$warnings)
  expect_identical(fit$k, 3L)
  expect_warning(rma.glmm(measure = "PLO", xi = ai, ni = n1i, data = dat, model = "CM.AL"), "not relevant")
  skip_glmm_ref()
  ref <- suppressWarnings(metafor::rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, method = "EE"))
  expect_identical(fit$k, ref$k)
  wr <- warnings_of(metafor::rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, method = "EE"))
  expect_identical(sort(wf$warnings), sort(wr$warnings))
})

test_that("methods of rma.glmm() fits", {
  dat <- data.frame(ai = c(4, 6, 3, 62, 33, 180), n1i = c(123, 306, 231, 13598, 5069, 1541),
                    ci = c(11, 29, 11, 248, 47, 372), n2i = c(139, 303, 220, 12867, 5808, 1451), x = 1:6)
  fit <- rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, mods = ~ x)
  expect_output(print(fit), "Mixed-Effects Model")
  expect_output(print(summary(fit)), "logLik")
  expect_identical(names(coef(fit)), c("intrcpt", "x"))
  expect_identical(dim(vcov(fit)), c(2L, 2L))
  expect_equal(c(logLik(fit)), fit$fit.stats["ll", "ML"])
  expect_identical(attr(logLik(fit), "df"), fit$parms)
  expect_equal(AIC(fit), fit$fit.stats["AIC", "ML"])
  expect_equal(BIC(fit), fit$fit.stats["BIC", "ML"])
  expect_equal(unname(fitted(fit)), c(fit$X %*% fit$beta))
  pr <- predict(fit, newmods = 3)
  expect_equal(pr$pred, sum(coef(fit) * c(1, 3)))
  expect_equal(confint(fit)$fixed[, "ci.lb"], fit$ci.lb, ignore_attr = TRUE)
  skip_if_not_installed("generics")
  td <- generics::tidy(fit, conf.int = TRUE)
  expect_equal(td$estimate, c(fit$beta))
  expect_equal(td$conf.low, fit$ci.lb)
  gl <- generics::glance(fit)
  expect_equal(gl$logLik, fit$fit.stats["ll", "ML"])
  expect_equal(gl$QE.LRT, fit$QE.LRT)
})

test_that("drop00 = FALSE keeps studies without events (they add nothing to the likelihood) and test = 't'", {
  dat <- data.frame(ai = c(4, 6, 3, 0, 1), n1i = c(123, 306, 231, 50, 80), ci = c(11, 29, 11, 0, 5),
                    n2i = c(139, 303, 220, 50, 90))
  f1 <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat))
  f2 <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, drop00 = FALSE))
  expect_identical(c(f1$k, f2$k), c(4L, 5L))
  expect_equal(c(f2$beta), c(f1$beta), tolerance = 1e-8)
  expect_equal(f2$ll.marginal, f1$ll.marginal, tolerance = 1e-10)
  ft <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, test = "t"))
  expect_equal(ft$pval, 2 * pt(abs(ft$zval), 3, lower.tail = FALSE))
  expect_identical(ft$ddf, 3L)
  skip_glmm_ref()
  ref <- ref_fit(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat, drop00 = FALSE)
  expect_equal(c(f2$beta), c(ref$beta), tolerance = 1e-5)
  expect_equal(f2$tau2, ref$tau2, tolerance = 1e-5)
})

test_that("the printout has metafor's lines up to the table of coefficients", {
  skip_glmm_ref()
  dat <- metadat::dat.bcg
  # (the QM line is left out: its 4th decimal depends on glmer's covariance)
  head_of <- function(x) {
    out <- utils::capture.output(print(x))
    out <- out[seq_len(grep("^Model Results", out) - 1L)]
    out[!startsWith(out, "QM(")]
  }
  ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
  ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
  expect_identical(trimws(head_of(ours)), trimws(head_of(ref)))
  ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, mods = ~ ablat)
  ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, mods = ~ ablat)
  expect_identical(trimws(head_of(ours)), trimws(head_of(ref)))
  ours <- rma.glmm(measure = "PLO", xi = tpos, ni = tpos + tneg, data = dat, method = "EE")
  ref <- ref_fit(measure = "PLO", xi = tpos, ni = tpos + tneg, data = dat, method = "EE")
  expect_identical(trimws(head_of(ours)), trimws(head_of(ref)))
})


test_that("model = UM.RS (random study intercepts and group effects, Laplace) matches metafor", {
  skip_glmm_ref()
  dat <- metadat::dat.bcg
  # metafor (glmer) sets nAGQ to 1 for ML fits of UM.RS, with a warning
  w <- warnings_of(rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, model = "UM.RS"))
  expect_true(any(grepl("nAGQ automatically set to 1", w$warnings)))
  for (cor in c(FALSE, TRUE)) for (method in c("ML", "EE")) {
    ours <- suppressWarnings(rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat,
                                      model = "UM.RS", cor = cor, method = method))
    ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, model = "UM.RS",
                   cor = cor, method = method)
    expect_glmm_match(ours, ref, tol_wld = 1e-5)
    expect_equal(ours$sigma2, ref$sigma2, tolerance = 1e-5)
    if (cor && method == "ML") expect_equal(ours$rho, ref$rho, tolerance = 1e-5)
  }
  ours <- suppressWarnings(rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat,
                                    model = "UM.RS", mods = ~ ablat, coding = 1))
  ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, model = "UM.RS",
                 mods = ~ ablat, coding = 1)
  expect_glmm_match(ours, ref, tol_wld = 1e-5)
  expect_equal(ours$sigma2, ref$sigma2, tolerance = 1e-5)
  # dat.nielweise2007 (zero cells: glmer's saturated model keeps large
  # finite group effects where ours takes their limit, so the Wald test is
  # 0.4% apart) and the IRR model of dat.nielweise2008
  d7 <- metadat::dat.nielweise2007
  ours <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d7, model = "UM.RS"))
  ref <- ref_fit(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d7, model = "UM.RS")
  expect_glmm_match(ours, ref, tol_wld = 1e-2)
  expect_equal(ours$sigma2, ref$sigma2, tolerance = 1e-5)
  d8 <- metadat::dat.nielweise2008
  ours <- suppressWarnings(rma.glmm(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d8, model = "UM.RS"))
  ref <- ref_fit(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d8, model = "UM.RS")
  expect_glmm_match(ours, ref, tol_wld = 1e-5)
  # simulated rare events with zero cells and a moderator
  set.seed(19)
  k <- 30
  n1 <- rpois(k, 150) + 20; n2 <- rpois(k, 150) + 20
  th <- rnorm(k, -0.4, 0.5); base <- rnorm(k, -4.5, 0.6)
  sim <- data.frame(ai = rbinom(k, n1, plogis(base + th)), n1i = n1, ci = rbinom(k, n2, plogis(base)), n2i = n2, x = rnorm(k))
  expect_gt(sum(sim$ai == 0 | sim$ci == 0), 8)
  ours <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = sim, model = "UM.RS", mods = ~ x))
  ref <- ref_fit(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = sim, model = "UM.RS", mods = ~ x)
  expect_glmm_match(ours, ref, tol_wld = 1e-5)
  expect_equal(ours$sigma2, ref$sigma2, tolerance = 1e-5)
  expect_output(print(ours), "sigma\\^2 \\(estimated amount of study level variability\\): 0.2636")
})

test_that("measure = OR with model = CM.EL (non-central hypergeometric) matches metafor", {
  skip_glmm_ref()
  skip_if_not_installed("BiasedUrn")
  # metafor integrates each study with integrate(): tightened to rel.tol
  # 1e-10 and nlminb to rel.tol 1e-10 (its fit of dat.bcg takes ~90 s, so
  # the full data only at METAFAST_TEST_LEVEL >= 2)
  cmel_ctrl <- c(glmm_ctrl, list(intCtrl = list(rel.tol = 1e-10),
                                 optCtrl = list(rel.tol = 1e-10, eval.max = 1e4, iter.max = 1e4)))
  dat <- metadat::dat.bcg
  sets <- list(dat[c(1, 2, 3, 5, 7, 10, 12), ])
  if (as.integer(Sys.getenv("METAFAST_TEST_LEVEL", "1")) >= 2) sets <- c(sets, list(dat))
  for (d in sets) for (method in c("ML", "EE")) {
    ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, model = "CM.EL", method = method)
    ref <- suppressWarnings(metafor::rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d,
                                              model = "CM.EL", method = method, control = cmel_ctrl))
    expect_equal(c(ours$beta), c(ref$beta), tolerance = 1e-5)
    # metafor's covariance: numDeriv's Hessian of its integrate()-based likelihood
    expect_equal(ours$se, ref$se, tolerance = 5e-4)
    expect_equal(ours$tau2, ref$tau2, tolerance = 1e-5)
    if (method == "ML") expect_equal(ours$se.tau2, ref$se.tau2, tolerance = 5e-4)
    expect_lt(abs(ours$fit.stats["ll", "ML"] - ref$fit.stats["ll", "ML"]), 1e-6)
    expect_equal(ours$QE.LRT, ref$QE.LRT, tolerance = 1e-6)
    expect_equal(ours$parms, ref$parms)
    if (method == "ML") expect_identical(ours$se.warn, ref$se.warn)
  }
  # the Wald test of the saturated model, computed here from BiasedUrn's
  # moments: each study's conditional MLE of the log odds ratio (mean = ai)
  # and its variance 1 / Var(ai), weighted least squares on the intercept
  d <- sets[[1]]
  ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, model = "CM.EL", method = "EE")
  est <- vapply(seq_len(nrow(d)), function(i) {
    m1 <- d$tpos[i] + d$tneg[i]; m2 <- d$cpos[i] + d$cneg[i]; n <- d$tpos[i] + d$cpos[i]
    th <- uniroot(function(t) BiasedUrn::meanFNCHypergeo(m1, m2, n, exp(t), 1e-12) - d$tpos[i], c(-10, 10), tol = 1e-12)$root
    c(th, BiasedUrn::varFNCHypergeo(m1, m2, n, exp(th), 1e-12))
  }, numeric(2))
  wq <- est[2, ]
  expect_equal(ours$QE.Wld, sum(wq * (est[1, ] - sum(wq * est[1, ]) / sum(wq))^2), tolerance = 1e-6)
})

test_that("UM.FS with drop00 = FALSE and no zero cells matches metafor", {
  skip_glmm_ref()
  dat <- metadat::dat.bcg
  ours <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, drop00 = FALSE)
  ref <- ref_fit(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, drop00 = FALSE)
  expect_glmm_match(ours, ref)
})

test_that("OR CM.EL: metafor's check of the SEs against a Peto fit (warnings 'unusually small/large')", {
  skip_glmm_ref()
  # the ratio (det V_peto / det vb)^(1 / (2 m)) with metafor's own Peto fit
  # (rma.uni, REML, add = 0, tightened) and our vb; metafor 5.2.1 does not
  # warn on dat.bcg (ratio 0.97) or dat.nielweise2007 (0.66), nor do we
  peto_ratio <- function(f) {
    v <- f$outdat
    pm <- metafor::rma.uni(measure = "PETO", ai = v$ai, bi = v$bi, ci = v$ci, di = v$di, add = 0, mods = f$X,
                           intercept = FALSE, skipr2 = TRUE, control = list(threshold = 1e-12, maxiter = 1000))
    (det(vcov(pm)) / det(f$vb))^(1 / (2 * f$m))
  }
  bcg <- metadat::dat.bcg
  d7 <- metadat::dat.nielweise2007
  fits <- list(
    w1 = warnings_of(rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, model = "CM.EL")),
    w2 = warnings_of(rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, model = "CM.EL",
                              mods = ~ ablat)),
    w3 = warnings_of(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d7, model = "CM.EL")))
  for (nm in names(fits)) {
    f <- fits[[nm]]$value
    expect_false(any(grepl("unusually", fits[[nm]]$warnings)), label = nm)
    expect_false(f$se.warn)
    r <- peto_ratio(f)
    expect_gt(r, 1 / 100); expect_lt(r, 100)
    expect_equal(metafast:::.mf_glmm_peto_ratio(f$outdat, f$X, f$vb, f$m), r, tolerance = 1e-6, info = nm)
  }
  # the thresholds (a ratio set by hand: no data set at hand makes metafor
  # warn; .mf_glmm_peto_ratio replaced in the namespace for the duration,
  # testthat 3.1.6 has no local_mocked_bindings())
  d <- bcg[c(1, 2, 3, 5, 7, 10, 12), ]
  with_ratio <- function(r, expr) {
    ns <- asNamespace("metafast")
    orig <- get(".mf_glmm_peto_ratio", envir = ns)
    unlockBinding(".mf_glmm_peto_ratio", ns)
    on.exit({ assign(".mf_glmm_peto_ratio", orig, envir = ns); lockBinding(".mf_glmm_peto_ratio", ns) })
    assign(".mf_glmm_peto_ratio", function(...) r, envir = ns)
    warnings_of(expr)
  }
  fit <- function(method = "ML") rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d,
                                          model = "CM.EL", method = method)
  w <- with_ratio(100, fit())
  expect_identical(w$warnings, "Standard errors of fixed effects appear to be unusually small. Treat results with caution.")
  expect_true(w$value$se.warn)
  w <- with_ratio(1 / 100, fit())
  expect_identical(w$warnings, "Standard errors of fixed effects appear to be unusually large. Treat results with caution.")
  expect_true(w$value$se.warn)
  w <- with_ratio(99, fit())
  expect_length(w$warnings, 0)
  expect_false(w$value$se.warn)
  # (equal-effects fits: no check, as metafor)
  w <- with_ratio(1e6, fit("EE"))
  expect_length(w$warnings, 0)
  expect_false(w$value$se.warn)
})
