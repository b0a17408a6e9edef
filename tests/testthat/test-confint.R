# Confidence intervals: coefficients and Q-profile bounds for tau^2, tau, I^2, H^2 vs metafor.

mods_of <- list(int = ~ 1, ablat = ~ ablat, alloc = ~ factor(alloc))
ci_tight <- list(tol = 1e-12)

test_that("Q-profile bounds match metafor's solved to 1e-12", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (meth in c("REML", "DL", "ML")) for (nm in names(mods_of)) {
    info <- paste(meth, nm)
    f <- rma(yi, vi, mods = mods_of[[nm]], data = dat, method = meth)
    m <- metafor::rma(yi, vi, mods = mods_of[[nm]], data = dat, method = meth, control = metafor_tight)
    cf <- confint(f); cm <- confint(m, control = ci_tight)
    expect_s3_class(cf, "confint.mf_rma")
    expect_equal(dimnames(cf$random), dimnames(cm$random))
    # bounds do not depend on the estimate: closed-form tolerance
    expect_equal(cf$random[, c("ci.lb", "ci.ub")], cm$random[, c("ci.lb", "ci.ub")],
                 tolerance = tol_closed, info = info)
    expect_equal(cf$random[, "estimate"], cm$random[, "estimate"], tolerance = tol_iter, info = info)
    expect_equal(cf$lb.sign, cm$lb.sign); expect_equal(cf$ub.sign, cm$ub.sign)
  }
})

test_that("metafor at its default tolerance is off by > 1e-6; ours matches the tight reference", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  ref <- confint(m, control = ci_tight)$random["tau^2", c("ci.lb", "ci.ub")]
  dflt <- confint(m)$random["tau^2", c("ci.lb", "ci.ub")]
  ours <- confint(f)$random["tau^2", c("ci.lb", "ci.ub")]
  expect_gt(max(abs(dflt - ref)), 1e-6)
  expect_lt(max(abs(ours - ref)), 1e-8)
})

test_that("fixed-effects intervals, level and transf match metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (test in c("z", "knha")) {
    f <- rma(yi, vi, mods = ~ ablat, data = dat, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, test = test, control = metafor_tight)
    cf <- confint(f, fixed = TRUE, random = FALSE, level = 90)
    cm <- confint(m, fixed = TRUE, random = FALSE, level = 90)
    expect_equal(cf$fixed, cm$fixed, tolerance = tol_iter)
    expect_null(cf$random)
  }
  f <- rma(yi, vi, data = dat)
  m <- metafor::rma(yi, vi, data = dat, control = metafor_tight)
  cf <- confint(f, fixed = TRUE, transf = exp)
  cm <- confint(m, fixed = TRUE, transf = exp, control = ci_tight)
  expect_equal(cf$fixed, cm$fixed, tolerance = tol_iter)
  expect_equal(cf$random[, 2:3], cm$random[, 2:3], tolerance = tol_closed)
  expect_equal(confint(f, level = 80)$random[, 2:3], confint(m, level = 80, control = ci_tight)$random[, 2:3],
               tolerance = tol_closed)
})

test_that("bounds outside [tau2.min, tau2.max] are flagged as metafor does", {
  skip_if_not_installed("metafor")
  # homogeneous data: both bounds fall below 0 -> null set
  dat <- data.frame(yi = c(0.1, 0.11, 0.09, 0.1, 0.105), vi = c(0.1, 0.2, 0.15, 0.1, 0.3))
  f <- rma(yi, vi, data = dat)
  m <- metafor::rma(yi, vi, data = dat)
  cf <- confint(f); cm <- suppressMessages(confint(m))
  expect_equal(cf$random[, 2:3], cm$random[, 2:3], tolerance = tol_closed)
  expect_true(cf$ci.null)
  expect_equal(cf$lb.sign, cm$lb.sign)
  expect_message(expect_output(print(cf), "<0.0000"), "null/empty set")
  # tiny tau2.max: the upper bound is reported as '>tau2.max'
  dat <- bcg_data()
  f <- rma(yi, vi, data = dat)
  m <- metafor::rma(yi, vi, data = dat, control = metafor_tight)
  cf <- confint(f, control = list(tau2.max = 0.5))
  cm <- confint(m, control = list(tau2.max = 0.5, tol = 1e-12))
  expect_equal(cf$ub.sign, ">")
  expect_equal(cf$random[, 2:3], cm$random[, 2:3], tolerance = tol_closed)
})

test_that("confint() errors clearly where no interval exists; print works", {
  dat <- bcg_data()
  expect_error(confint(rma(yi, vi, data = dat, method = "EE")), "random-effects")
  expect_error(confint(rma(yi, vi, data = dat, tau2 = 0.1)), "fixed")
  expect_error(confint(rma(yi, vi, data = dat), fixed = FALSE, random = FALSE), "At least one")
  f <- rma(yi, vi, data = dat)
  expect_output(print(confint(f, fixed = TRUE)), "tau\\^2\\s+0.3132\\s+0.1197\\s+1.1115")
  expect_output(print(confint(f)), "I\\^2\\(%\\)")
})

test_that("Q-profile bounds at extreme magnitudes (yi * 1e-150) equal metafor's on the unit scale", {
  # before: tau^2 bounds of ~1e-12 for an estimate of 3e-301 and H^2 of 3e289
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (nm in c("int", "ablat")) {
    tiny <- dat
    tiny$yi <- dat$yi * 1e-150
    tiny$vi <- dat$vi * 1e-300
    cf <- confint(rma(yi, vi, mods = mods_of[[nm]], data = tiny))
    cm <- confint(metafor::rma(yi, vi, mods = mods_of[[nm]], data = dat, control = metafor_tight), control = ci_tight)
    unit <- c(1e-300, 1e-150, 1, 1)
    expect_equal(cf$random[, c("ci.lb", "ci.ub")] / unit, cm$random[, c("ci.lb", "ci.ub")], tolerance = tol_iter, info = nm)
    expect_equal(cf$random[, "estimate"] / unit, cm$random[, "estimate"], tolerance = tol_iter, info = nm)
  }
})
