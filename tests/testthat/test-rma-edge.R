# Edge cases of rma(): each gives the correct result (against metafor, or an
# independent computation) or a clear error.

edge_methods <- c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM")

# Restricted / full log-likelihood profile in tau2 (intercept-only model),
# maximised with optimize(): an oracle independent of both packages.
profile_ll <- function(t2, y, v, reml) {
  w <- 1 / (v + t2)
  mu <- sum(w * y) / sum(w)
  -0.5 * sum(log(v + t2)) - 0.5 * sum(w * (y - mu)^2) - if (reml) 0.5 * log(sum(w)) else 0
}

test_that("k = 1: tau2 = 0, the estimate is the study itself (as metafor)", {
  skip_if_not_installed("metafor")
  for (method in edge_methods) {
    r <- rma(0.5, 0.1, method = method)
    m <- metafor::rma(0.5, 0.1, method = method)
    info <- paste("[k=1", method, "]")
    expect_identical(r$tau2, 0, info = info)
    expect_equal(as.numeric(r$beta), 0.5, info = info)
    expect_equal(as.numeric(r$se), sqrt(0.1), info = info)
    expect_equal(as.numeric(r$ci.lb), as.numeric(m$ci.lb), tolerance = tol_closed, info = info)
    expect_equal(r$QE, m$QE, info = info)
    expect_equal(r$I2, m$I2, info = info)
    expect_equal(r$H2, m$H2, info = info)
    expect_equal(r$k, 1L, info = info)
  }
})

test_that("k = 1 with a t-type test: no t interval with 0 df", {
  # metafor switches to test = "z" with a warning; rma() must not report a
  # zero standard error (Knapp-Hartung's s2w is 0/0 here).  Was se = 0.
  for (test in c("t", "knha")) {
    expect_warning(r <- rma(0.5, 0.1, test = test), "k = 1.*test = \"z\"")
    expect_equal(as.numeric(r$se), sqrt(0.1), tolerance = tol_closed)
    expect_equal(r$test, "z")
    expect_true(is.na(r$se.tau2))
    r <- tryCatch(suppressWarnings(rma(0.5, 0.1, test = test)), error = function(e) e)
    if (inherits(r, "error")) {
      expect_match(conditionMessage(r), "k|test|one")
    } else {
      expect_gt(as.numeric(r$se), 0, label = paste("k=1 test =", test, "se"))
      expect_false(isTRUE(all.equal(as.numeric(r$se), 0)))
    }
  }
})

test_that("k = 2 matches metafor for every method and test", {
  skip_if_not_installed("metafor")
  yi <- c(0.1, 0.9); vi <- c(0.05, 0.08)
  for (method in edge_methods) for (test in c("z", "t", "knha")) {
    r <- suppressWarnings(rma(yi, vi, method = method, test = test))
    m <- suppressWarnings(metafor::rma(yi, vi, method = method, test = test, control = metafor_tight))
    info <- sprintf("[k=2 %s %s]", method, test)
    tol <- if (method %in% c("ML", "REML", "EB", "PM")) tol_iter else tol_closed
    expect_equal(r$tau2, m$tau2, tolerance = tol, info = info)
    for (f in c("beta", "se", "pval", "ci.lb", "ci.ub", "QE", "I2"))
      expect_equal(as.numeric(r[[f]]), as.numeric(m[[f]]), tolerance = tol, info = paste(info, f))
  }
})

test_that("homogeneous data: tau2 exactly 0 on the boundary (REML/ML), as metafor", {
  skip_if_not_installed("metafor")
  set.seed(5)
  vi <- stats::runif(20, 0.1, 0.5)
  yi <- stats::rnorm(20, 0.3, 0.3 * sqrt(vi))   # far less spread than sampling error
  for (method in c("REML", "ML", "DL", "PM", "EB", "HE", "HS")) {
    r <- rma(yi, vi, method = method)
    m <- metafor::rma(yi, vi, method = method, control = metafor_tight)
    info <- paste("[homogeneous", method, "]")
    expect_identical(r$tau2, 0, info = info)
    expect_lt(abs(m$tau2), 1e-8, label = paste(info, "metafor tau2"))
    expect_equal(as.numeric(r$beta), as.numeric(m$beta), tolerance = tol_iter, info = info)
    expect_equal(r$se.tau2, m$se.tau2, tolerance = tol_iter, info = info)
    expect_equal(r$I2, 0, info = info)
    expect_equal(r$H2, 1, info = info)
  }
  # the boundary is a genuine maximum: the profile decreases from 0
  expect_gt(profile_ll(0, yi, vi, TRUE), profile_ll(1e-4, yi, vi, TRUE))
})

test_that("identical yi: tau2 = 0, QE = 0, the common value is the estimate", {
  skip_if_not_installed("metafor")
  yi <- rep(0.3, 6); vi <- c(0.1, 0.2, 0.3, 0.1, 0.05, 0.4)
  for (method in setdiff(edge_methods, "EE")) for (test in c("z", "knha")) {
    r <- rma(yi, vi, method = method, test = test)
    m <- metafor::rma(yi, vi, method = method, test = test)
    info <- sprintf("[identical yi %s %s]", method, test)
    expect_identical(r$tau2, 0, info = info)
    expect_equal(as.numeric(r$beta), 0.3, tolerance = 1e-14, info = info)
    expect_equal(r$QE, 0, tolerance = 1e-20, info = info)
    expect_equal(as.numeric(r$se), as.numeric(m$se), tolerance = tol_closed, info = info)
  }
})

# Scale invariance (an independent check): yi -> c yi, vi -> c^2 vi scales
# beta, se and the CI by c and tau2 by c^2, leaves z, p, QE, I2, H2 unchanged.
scale_check <- function(methods, scales) {
  set.seed(3)
  k <- 15
  vi <- stats::runif(k, 0.01, 0.5)
  x <- stats::rnorm(k)
  yi <- stats::rnorm(k, 0.3 + 0.2 * x, sqrt(vi + 0.2))
  for (method in methods) {
    r1 <- rma(yi, vi, mods = ~ x, method = method)
    for (cc in scales) {
      rc <- rma(yi * cc, vi * cc^2, mods = ~ x, method = method)
      info <- sprintf("[scale c=%g %s]", cc, method)
      expect_equal(rc$tau2 / cc^2, r1$tau2, tolerance = tol_iter, info = paste(info, "tau2"))
      expect_equal(as.numeric(rc$beta) / cc, as.numeric(r1$beta), tolerance = tol_iter, info = paste(info, "beta"))
      expect_equal(as.numeric(rc$se) / cc, as.numeric(r1$se), tolerance = tol_iter, info = paste(info, "se"))
      expect_equal(as.numeric(rc$zval), as.numeric(r1$zval), tolerance = tol_iter, info = paste(info, "z"))
      expect_equal(rc$QE, r1$QE, tolerance = tol_iter, info = paste(info, "QE"))
      expect_equal(rc$I2, r1$I2, tolerance = tol_iter, info = paste(info, "I2"))
    }
  }
}

test_that("scale invariance: closed-form estimators at c = 1e-4 and 1e4, iterative at 1e4", {
  scale_check(c("EE", "DL", "HE", "HS", "HSk", "SJ"), c(1e-4, 1e4))
  scale_check(c("ML", "REML", "EB", "PM"), 1e4)
})

test_that("scale invariance: iterative estimators at small scale (c = 1e-4)", {
  # was wrong before the rescaling fix (absolute convergence threshold)
  scale_check(c("ML", "REML", "EB", "PM"), 1e-4)
})

test_that("huge (1e8) and tiny (1e-8) sampling variances match metafor / the profile maximum", {
  skip_if_not_installed("metafor")
  set.seed(3)
  k <- 15
  vi <- stats::runif(k, 0.01, 0.5)
  yi <- stats::rnorm(k, 0.3, sqrt(vi + 0.2))
  # huge variances, unit-scale effects: tau2 = 0, beta is the IV mean
  r <- rma(yi, vi * 1e8)
  m <- metafor::rma(yi, vi * 1e8, control = metafor_tight)
  expect_identical(r$tau2, 0)
  expect_equal(as.numeric(r$beta), as.numeric(m$beta), tolerance = tol_closed)
  expect_equal(as.numeric(r$se), as.numeric(m$se), tolerance = tol_closed)
  # tiny variances (1e-8), unit-scale effects: compare with metafor
  r <- rma(yi, vi * 1e-8)
  m <- metafor::rma(yi, vi * 1e-8, control = metafor_tight)
  expect_equal(r$tau2, m$tau2, tolerance = tol_iter)
  expect_equal(as.numeric(r$beta), as.numeric(m$beta), tolerance = tol_iter)
  # tiny variances and tiny effects (scale 1e-4): the profile maximum
  yt <- yi * 1e-4; vt <- vi * 1e-8
  opt <- stats::optimize(profile_ll, c(0, 1e-7), y = yt, v = vt, reml = TRUE, maximum = TRUE, tol = 1e-18)$maximum
  r <- rma(yt, vt)
  expect_equal(r$tau2, opt, tolerance = 1e-6)
})

test_that("extreme variance ratios: the REML maximum is found (not a false stop at 0)", {
  skip_if_not_installed("metafor")
  set.seed(3)
  k <- 15
  vi <- stats::runif(k, 0.01, 0.5)
  yi <- stats::rnorm(k, 0.3, sqrt(vi + 0.2))
  for (vv in list(c(1e-10, 1e6), c(1e-14, 1e4), c(1e-6, 1e2), c(1e-4, 1e4))) {
    v2 <- vi; v2[1:2] <- vv
    info <- sprintf("[vi %g, %g]", vv[1], vv[2])
    r <- suppressWarnings(rma(yi, v2))
    opt <- stats::optimize(profile_ll, c(0, 5), y = yi, v = v2, reml = TRUE, maximum = TRUE, tol = 1e-12)
    expect_equal(r$tau2, opt$maximum, tolerance = 1e-6, info = info)
    expect_gte(profile_ll(r$tau2, yi, v2, TRUE), profile_ll(0, yi, v2, TRUE))
    # moment estimators: compare with metafor while the ratio is < 1e14
    # (beyond, both lose all digits of sum(w) - sum(w^2)/sum(w))
    if (vv[2] / vv[1] >= 1e14) next
    for (method in c("DL", "HE", "SJ", "HS")) {
      r <- suppressWarnings(rma(yi, v2, method = method))
      m <- suppressWarnings(metafor::rma(yi, v2, method = method))
      expect_equal(r$tau2, m$tau2, tolerance = 1e-6, info = paste(info, method))
    }
  }
  # a ratio >= 1e14 is flagged
  v2 <- vi; v2[1:2] <- c(1e-10, 1e6)
  expect_warning(rma(yi, v2), "[Rr]atio")
})

test_that("large effect scale (Normand-type: tau2 in the hundreds) matches metafor", {
  skip_if_not_installed("metafor")
  set.seed(11)
  vi <- stats::runif(12, 1, 150)
  yi <- stats::rnorm(12, -15, sqrt(vi + 600))
  for (method in edge_methods) {
    r <- rma(yi, vi, method = method)
    m <- metafor::rma(yi, vi, method = method, control = metafor_tight)
    tol <- if (method %in% c("ML", "REML", "EB", "PM")) tol_iter else tol_closed
    expect_equal(r$tau2, m$tau2, tolerance = tol, info = method)
    expect_equal(as.numeric(r$se), as.numeric(m$se), tolerance = tol, info = method)
  }
})
