# rma.mv() with nested random effects against metafor::rma.mv() run with
# tight optimiser settings (nlminb's rel.tol 1e-12).  Tolerances: beta and SE
# 1e-6 relative (tol_iter), sigma2 1e-5, log-likelihoods 1e-8 at the same
# parameters (our fit with sigma2 fixed at metafor's estimates).

tol_sigma2 <- 1e-5
tol_ll <- 1e-8

# Everything metafor reports for the fit (f ours, m metafor's).
expect_mv_equal <- function(f, m) {
  expect_s3_class(f, "mf_rma_mv")
  expect_true(f$convergence$converged)
  expect_equal(f$sigma2, m$sigma2, tolerance = tol_sigma2)
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(rownames(f$beta), rownames(m$beta))
  expect_equal(f$se, m$se, tolerance = tol_iter)
  expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
  expect_equal(f$zval, m$zval, tolerance = tol_iter)
  # p-values on the log scale (in the tail a relative change of z becomes a
  # z^2 times larger relative change of p)
  lp <- function(p) log(pmax(p, 1e-300))
  expect_equal(lp(f$pval), lp(m$pval), tolerance = tol_iter)
  # (bounds near 0: relative to the scale of beta and its SE)
  scale <- abs(c(m$beta)) + m$se
  expect_lt(max(abs(f$ci.lb - m$ci.lb) / scale), tol_iter)
  expect_lt(max(abs(f$ci.ub - m$ci.ub) / scale), tol_iter)
  expect_equal(f$QE, m$QE, tolerance = tol_closed)
  expect_equal(f$QEp, m$QEp, tolerance = tol_closed)
  expect_equal(f$QM, m$QM, tolerance = tol_iter)
  expect_equal(lp(f$QMp), lp(m$QMp), tolerance = tol_iter)
  expect_equal(f$QMdf, m$QMdf)
  expect_equal(f$k, m$k)
  expect_equal(f$p, m$p)
  expect_equal(f$parms, m$parms)
  expect_equal(f$s.nlevels, unname(m$s.nlevels))
  expect_equal(f$s.names, unname(m$s.names))
  expect_equal(f$vc.fix$sigma2, m$vc.fix$sigma2)
  expect_equal(f$test, m$test)
  expect_equal(unname(f$ddf), unname(m$ddf))
  expect_equal(as.matrix(f$fit.stats), as.matrix(m$fit.stats), tolerance = tol_iter)
  expect_equal(unname(fitted(f)), unname(fitted(m)), tolerance = tol_iter)
  expect_equal(unname(residuals(f)), unname(residuals(m)), tolerance = tol_iter)
  expect_equal(coef(f), coef(m), tolerance = tol_iter)
  expect_equal(unname(vcov(f)), unname(vcov(m)), tolerance = tol_iter)
  expect_equal(as.numeric(logLik(f)), as.numeric(logLik(m)), tolerance = tol_iter)
  expect_equal(attr(logLik(f), "df"), attr(logLik(m), "df"))
  expect_equal(AIC(f), AIC(m), tolerance = tol_iter)
  expect_equal(BIC(f), BIC(m), tolerance = tol_iter)
  expect_equal(deviance(f), deviance(m), tolerance = tol_iter)
  expect_equal(nobs(f), nobs(m))
  expect_equal(unname(model.matrix(f)), unname(model.matrix(m)))
}

# The log-likelihoods (ML and REML), beta and SE at metafor's estimates:
# our model refitted with sigma2 fixed there.
expect_mv_same_params <- function(refit, m) {
  expect_equal(refit$sigma2, m$sigma2)
  expect_equal(refit$fit.stats["ll", "ML"], m$fit.stats["ll", "ML"], tolerance = tol_ll)
  expect_equal(refit$fit.stats["ll", "REML"], m$fit.stats["ll", "REML"], tolerance = tol_ll)
  expect_equal(c(refit$beta), c(m$beta), tolerance = tol_closed)
  expect_equal(refit$se, m$se, tolerance = tol_closed)
}

test_that("rma.mv(~ 1 | district/school) matches metafor (REML, ML; z, t; dfs residual, contain)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  for (method in c("REML", "ML")) {
    for (test in c("z", "t")) {
      f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, method = method, test = test)
      m <- mv_ref(yi, vi, random = ~ 1 | district/school, data = dat, method = method, test = test)
      expect_mv_equal(f, m)
      fx <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, method = method, test = test,
                   sigma2 = m$sigma2)
      expect_mv_same_params(fx, m)
      expect_equal(as.data.frame(predict(f))[, c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub")],
                   as.data.frame(predict(m))[, c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub")],
                   tolerance = tol_iter, ignore_attr = TRUE)
    }
  }
  # a moderator, t tests with the containment degrees of freedom (9 and 54)
  for (method in c("REML", "ML")) {
    for (dfs in c("residual", "contain")) {
      f <- rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat, method = method,
                  test = "t", dfs = dfs)
      m <- mv_ref(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat,
                           method = method, test = "t", dfs = dfs)
      expect_mv_equal(f, m)
      nm <- data.frame(pred = 0)
      pf <- predict(f, newmods = c(-5, 0, 7))
      pm <- predict(m, newmods = c(-5, 0, 7))
      for (nm in c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub")) expect_equal(pf[[nm]], c(pm[[nm]]), tolerance = tol_iter, ignore_attr = TRUE)
    }
  }
  # dfs = "contain" with test = "z" switches to t tests, as metafor
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, dfs = "contain")
  m <- mv_ref(yi, vi, random = ~ 1 | district/school, data = dat, dfs = "contain")
  expect_mv_equal(f, m)
  # numeric dfs
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, test = "t", dfs = 7)
  m <- mv_ref(yi, vi, random = ~ 1 | district/school, data = dat, test = "t", dfs = 7)
  expect_mv_equal(f, m)
})

test_that("rma.mv(~ 1 | study/esid) with moderators matches metafor on dat.assink2016", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat, method = method)
    m <- mv_ref(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat, method = method)
    expect_mv_equal(f, m)
    expect_mv_same_params(rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat,
                                 method = method, sigma2 = m$sigma2), m)
    # btt by name, t tests
    f <- rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat, method = method,
                test = "t", btt = "deltype")
    m <- mv_ref(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat, method = method,
                         test = "t", btt = "deltype")
    expect_mv_equal(f, m)
    expect_equal(f$btt, m$btt)
  }
  # the formula interface yi ~ mods, intercept = FALSE with a numeric matrix, subset, level
  f <- rma.mv(yi ~ year, vi, random = ~ 1 | study/esid, data = dat, subset = pubstatus == 1, level = 90)
  m <- mv_ref(yi ~ year, vi, random = ~ 1 | study/esid, data = dat, subset = pubstatus == 1, level = 90)
  expect_mv_equal(f, m)
  X <- cbind(a = dat$year, b = dat$year^2 / 10)
  f <- rma.mv(yi, vi, mods = X, intercept = FALSE, random = ~ 1 | study/esid, data = dat)
  m <- mv_ref(yi, vi, mods = X, intercept = FALSE, random = ~ 1 | study/esid, data = dat)
  expect_mv_equal(f, m)
})

test_that("three nested levels (~ 1 | a/b/c) match metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, random = ~ 1 | deltype/study/esid, data = dat, method = method)
    m <- mv_ref(yi, vi, random = ~ 1 | deltype/study/esid, data = dat, method = method)
    expect_mv_equal(f, m)
    expect_length(f$sigma2, 3L)
    expect_mv_same_params(rma.mv(yi, vi, random = ~ 1 | deltype/study/esid, data = dat, method = method,
                                 sigma2 = m$sigma2), m)
  }
})

test_that("rma.mv(~ 1 | trial) on dat.bcg equals rma() REML and metafor's rma.mv", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$trial <- seq_len(nrow(dat))
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, mods = ~ ablat, random = ~ 1 | trial, data = dat, method = method)
    m <- mv_ref(yi, vi, mods = ~ ablat, random = ~ 1 | trial, data = dat, method = method)
    expect_mv_equal(f, m)
    u <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = method, control = metafor_tight)
    expect_equal(f$sigma2, u$tau2, tolerance = tol_iter)
    expect_equal(c(f$beta), c(u$beta), tolerance = tol_iter)
    expect_equal(f$se, u$se, tolerance = tol_iter)
    expect_equal(f$QE, u$QE, tolerance = tol_closed)
    expect_equal(as.matrix(f$fit.stats), as.matrix(u$fit.stats), tolerance = tol_iter)
  }
  expect_output(print(f), "sigma\\^2  ")
})

test_that("fixing sigma2 (c(NA, 0), c(value, NA)) matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  for (s2 in list(c(NA, 0), c(0.05, NA), c(0.05, 0.02))) {
    for (method in c("REML", "ML")) {
      f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, method = method, sigma2 = s2)
      m <- mv_ref(yi, vi, random = ~ 1 | district/school, data = dat, method = method, sigma2 = s2)
      expect_mv_equal(f, m)
      expect_equal(f$sigma2[!is.na(s2)], s2[!is.na(s2)])
      expect_output(print(f), "yes")
    }
  }
})

test_that("a level whose variance component is 0 (boundary) matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  # schools within a district share the district's mean outcome: the
  # within-district variance is below the sampling variances, sigma2.2 = 0
  dat$yi <- ave(dat$yi, dat$district)
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, method = method)
    m <- mv_ref(yi, vi, random = ~ 1 | district/school, data = dat, method = method)
    expect_equal(f$sigma2[2], 0)
    expect_lt(m$sigma2[2], 1e-6)
    expect_mv_equal(f, m)
  }
})

test_that("V as a block-diagonal matrix, a sparse Matrix and a list of blocks matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  # correlated sampling errors within districts (rows sorted by district)
  blocks <- lapply(split(dat$vi, dat$district), function(v) {
    S <- 0.4 * sqrt(outer(v, v))
    diag(S) <- v
    S
  })
  Vm <- as.matrix(metafor::bldiag(blocks))
  m <- mv_ref(yi, Vm, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat)
  f <- rma.mv(yi, Vm, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat)
  expect_mv_equal(f, m)
  expect_mv_equal(rma.mv(yi, unname(blocks), mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat), m)
  if (requireNamespace("Matrix", quietly = TRUE)) {
    expect_mv_equal(rma.mv(yi, Matrix::Matrix(Vm, sparse = TRUE), mods = ~ I(year - 1990),
                           random = ~ 1 | district/school, data = dat), m)
  }
  # rows in another order: the same fit
  o <- rev(seq_len(nrow(dat)))
  fr <- rma.mv(yi, Vm[o, o], mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat[o, ])
  expect_equal(fr$sigma2, f$sigma2, tolerance = tol_iter)
  expect_equal(c(fr$beta), c(f$beta), tolerance = tol_iter)
  expect_equal(unname(fitted(fr)), rev(unname(fitted(f))), tolerance = tol_iter)
  # missing outcomes are omitted with a warning, as metafor
  d2 <- dat
  d2$yi[c(3, 20)] <- NA
  expect_warning(f2 <- rma.mv(yi, Vm, random = ~ 1 | district/school, data = d2), "rows 3, 20")
  m2 <- suppressWarnings(mv_ref(yi, Vm, random = ~ 1 | district/school, data = d2))
  expect_mv_equal(f2, m2)
})

test_that("summary() prints I^2 per level (Nakagawa & Santos 2012 / metafor's FAQ formula)", {
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  f <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = dat)
  # the formula written out with dense k x k algebra (k = 100)
  W <- diag(1 / dat$vi)
  X <- cbind(1, dat$year)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  I2 <- 100 * f$sigma2 / (sum(f$sigma2) + (f$k - f$p) / sum(diag(P)))
  expect_equal(unname(i2_levels(f)), c(I2, sum(I2)), tolerance = tol_closed)
  out <- capture.output(summary(f))
  expect_true(any(grepl("I^2 per level", out, fixed = TRUE)))
  expect_true(any(grepl(sprintf("%.2f%%", I2[1]), out, fixed = TRUE)))
  expect_true(any(grepl("logLik", out)))
})

test_that("rma.mv() rejects bad input with errors that name the argument and rows", {
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  # a V block that straddles two districts (rows 4 and 5 are in districts 11 and 12)
  V <- diag(dat$vi)
  V[4, 5] <- V[5, 4] <- 0.5 * sqrt(dat$vi[4] * dat$vi[5])
  expect_error(rma.mv(yi, V, random = ~ 1 | district/school, data = dat), "rows 4 .* and 5 .*straddle")
  # a list block over rows 4:5 (two districts)
  blk <- c(list(diag(dat$vi[1:3])), list(matrix(c(dat$vi[4], 0.001, 0.001, dat$vi[5]), 2)),
           as.list(dat$vi[6:56]))
  expect_error(rma.mv(yi, blk, random = ~ 1 | district/school, data = dat), "straddle")
  # a block that is not positive semi-definite
  V <- diag(dat$vi)
  V[1, 2] <- V[2, 1] <- 2 * sqrt(dat$vi[1] * dat$vi[2])
  expect_error(rma.mv(yi, V, random = ~ 1 | district/school, data = dat), "not positive semi-definite .*rows 1, 2, 3, 4")
  expect_error(rma.mv(yi, -vi, random = ~ 1 | district/school, data = dat), "'V' .*negative .*rows 1, 2")
  # missing values in a variable of 'random'
  d2 <- dat
  d2$school[c(7, 9)] <- NA
  expect_error(rma.mv(yi, vi, random = ~ 1 | district/school, data = d2), "'school' .*rows 7, 9")
  d2 <- dat
  d2$district[2] <- NA
  expect_error(rma.mv(yi, vi, random = ~ 1 | district/school, data = d2), "'district' .*row 2")
  # V of the wrong size, malformed random
  expect_error(rma.mv(yi, vi[-1], random = ~ 1 | district, data = dat), "'V' has length 55")
  expect_error(rma.mv(yi, vi, random = ~ district, data = dat), "'random'")
  expect_error(rma.mv(yi, vi, random = ~ 1 | district, data = dat, sigma2 = c(NA, 0)), "'sigma2' has length 2")
  expect_error(rma.mv(yi, vi, random = ~ 1 | district, data = dat, sigma2 = -1), "'sigma2'")
  expect_error(rma.mv(yi, vi, random = ~ 1 | district, data = dat, control = list(foo = 1)), "foo")
  expect_error(rma.mv(yi, vi, random = ~ 1 | district, data = dat, method = "DL"), "'method'")
})

test_that("metafor arguments not implemented yet are rejected by name", {
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  r <- ~ 1 | district/school
  # (W and R are implemented: test-rma-mv-R-W.R; bad ones are errors naming them)
  expect_error(rma.mv(yi, vi, W = 1 / vi[-1], random = r, data = dat), "'W' has length")
  expect_error(rma.mv(yi, vi, random = r, data = dat, R = list(district = diag(11))), "'R'")
  expect_error(rma.mv(yi, vi, random = ~ school | district, data = dat, struct = "PHYBM"), "Unknown 'struct'")
  expect_error(rma.mv(yi, vi, data = dat), "without 'random'")
  expect_error(rma.mv(yi, vi, random = r, data = dat, method = "EE"), "EE")
  expect_error(rma.mv(yi, vi, random = r, data = dat, test = "knha"), "knha")
  expect_error(rma.mv(yi, vi, random = r, data = dat, cvvc = TRUE), "'cvvc'")
  expect_error(rma.mv(yi, vi, random = r, data = dat, verbose = TRUE), "'verbose'")
  expect_error(rma.mv(yi, vi, random = r, data = dat, tdist = TRUE), "'tdist' is not supported")
  expect_error(rma.mv(yi, vi, random = r, data = dat, vccon = list()), "'vccon'")
  expect_error(rma.mv(yi, vi, random = r, data = dat, control = list(REMLf = FALSE)), "REMLf")
  f <- rma.mv(yi, vi, random = r, data = dat)
  expect_error(predict(f, tau2.levels = 1), "'tau2.levels'")
  expect_error(predict(f, hetvar = 1), "'hetvar'")
  # accepted: sparse (no effect), struct without an inner | outer term (metafor's warning)
  expect_equal(rma.mv(yi, vi, random = r, data = dat, sparse = TRUE)$sigma2, f$sigma2)
  expect_warning(fs <- rma.mv(yi, vi, random = r, data = dat, struct = "UN"), "struct")
  expect_equal(fs$sigma2, f$sigma2)
})

test_that("rma.mv() has metafor's formal arguments, in metafor's order, with its defaults", {
  skip_if_not_installed("metafor")
  ours <- formals(rma.mv)
  theirs <- formals(metafor::rma.mv)
  expect_identical(names(ours), names(theirs))
  for (nm in c("struct", "intercept", "method", "test", "dfs", "level", "Rscale", "cvvc", "sparse", "verbose"))
    expect_identical(ours[[nm]], theirs[[nm]], info = nm)
})
