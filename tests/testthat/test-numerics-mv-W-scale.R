# rma.mv(W = ) is scale-invariant (issue 18 item 3): b, vb, the hat matrix and
# weights() do not change when W is multiplied by a constant, so the fit with
# W * s must be the fit with W (the exact reference: the same model at a
# moderate scale, itself checked against metafor in test-rma-mv-R-W.R).
# Before the fix, W * 1e-200 gave se = 0 and QM = NA, W * 1e200 NaN, and
# W * 1e300 an error: X'WMWX under- or overflowed.

skip_if_not_installed("metadat")

wsc_dat <- metadat::dat.konstantopoulos2011
wsc_W <- local({
  set.seed(3)
  1 / (wsc_dat$vi + runif(nrow(wsc_dat), 0, 0.05))
})

test_that("a vector W times 1e-300 .. 1e300 gives the fit with W", {
  ref <- rma.mv(yi, vi, W = wsc_W, mods = ~ year, random = ~ 1 | district/school, data = wsc_dat)
  expect_true(all(ref$se > 0))
  for (s in c(2^-1000, 1e-300, 1e-100, 3, 1e100, 1e300)) {
    f <- rma.mv(yi, vi, W = wsc_W * s, mods = ~ year, random = ~ 1 | district/school, data = wsc_dat)
    info <- paste("scale", format(s))
    # exact for powers of two; otherwise W * s rounds each weight (1e-16
    # relative), which the design's condition (year ~ 1980 beside the
    # intercept) turns into ~1e-10
    tol <- if (log2(s) == round(log2(s))) 1e-13 else 1e-8
    expect_equal(c(f$beta), c(ref$beta), tolerance = tol, info = info)
    expect_equal(f$se, ref$se, tolerance = tol, info = info)
    expect_equal(f$vb, ref$vb, tolerance = tol, info = info)
    expect_equal(f$QM, ref$QM, tolerance = tol, info = info)
    expect_equal(f$sigma2, ref$sigma2, tolerance = tol, info = info)
    expect_equal(c(logLik(f)), c(logLik(ref)), tolerance = tol, info = info)
    expect_equal(hatvalues(f), hatvalues(ref), tolerance = tol, info = info)
    expect_equal(weights(f), weights(ref), tolerance = 1e-12, info = info)
    expect_equal(rstandard(f)$z, rstandard(ref)$z, tolerance = tol, info = info)
    # the user's W comes back as given (held times an exact power of two)
    expect_identical(unname(diag(f$W)), wsc_W * s, info = info)
    expect_identical(unname(diag(weights(f, type = "matrix"))), wsc_W * s, info = info)
  }
})

test_that("a dense and a sparse (Matrix) W matrix, scaled, give the fit with W; robust() and case deletion too", {
  k <- nrow(wsc_dat)
  Wm <- diag(wsc_W)
  # covariances within districts, so that W is not diagonal
  same <- outer(wsc_dat$district, wsc_dat$district, "==") & row(Wm) != col(Wm)
  Wm[same] <- 0.1 * sqrt(outer(wsc_W, wsc_W))[same]
  ref <- rma.mv(yi, vi, W = Wm, mods = ~ year, random = ~ 1 | district/school, data = wsc_dat)
  r_ref <- robust(ref, cluster = wsc_dat$district)
  c_ref <- cooks.distance(ref)
  s_ref <- rstudent(ref)
  for (s in c(1e-250, 1e250)) {
    for (form in c("dense", "Matrix")) {
      Ws <- if (form == "dense") Wm * s else Matrix::Matrix(Wm * s, sparse = TRUE)
      f <- rma.mv(yi, vi, W = Ws, mods = ~ year, random = ~ 1 | district/school, data = wsc_dat)
      info <- paste(form, format(s))
      tol <- 1e-8
      expect_equal(c(f$beta), c(ref$beta), tolerance = tol, info = info)
      expect_equal(f$vb, ref$vb, tolerance = tol, info = info)
      expect_equal(f$QM, ref$QM, tolerance = tol, info = info)
      expect_equal(unname(f$W), unname(Wm * s), tolerance = 0, info = info)
      r <- robust(f, cluster = wsc_dat$district)
      expect_equal(r$vb, r_ref$vb, tolerance = tol, info = info)
      expect_equal(r$QM, r_ref$QM, tolerance = tol, info = info)
      expect_equal(cooks.distance(f), c_ref, tolerance = tol, info = info)
      expect_equal(rstudent(f)$z, s_ref$z, tolerance = tol, info = info)
    }
  }
})

test_that("the reference fit is metafor's", {
  skip_if_not_installed("metafor")
  ref <- rma.mv(yi, vi, W = wsc_W, mods = ~ year, random = ~ 1 | district/school, data = wsc_dat)
  m <- metafor::rma.mv(yi, vi, W = wsc_W, mods = ~ year, random = ~ 1 | district/school, data = wsc_dat)
  # (metafor's default nlminb tolerance is the limit for sigma2)
  expect_equal(ref$sigma2, m$sigma2, tolerance = 1e-4)
  # at metafor's own variance components, b and vb are closed forms
  f0 <- rma.mv(yi, vi, W = wsc_W, mods = ~ year, random = ~ 1 | district/school, data = wsc_dat,
               sigma2 = m$sigma2)
  expect_equal(c(f0$beta), c(m$beta), tolerance = 1e-8)
  expect_equal(f0$vb, m$vb, tolerance = 1e-8, ignore_attr = TRUE)
})

test_that("rma.mv(): a moderator scaled by 1e-150..1e150 is exact, beyond that its variance is an error naming it", {
  d <- wsc_dat
  d$yc <- d$year - 1990
  ref <- rma.mv(yi, vi, mods = ~ yc, random = ~ 1 | district/school, data = d)
  for (s in c(1e-150, 1e-100, 1e100, 1e150)) {
    d$xs <- d$yc * s
    f <- rma.mv(yi, vi, mods = ~ xs, random = ~ 1 | district/school, data = d)
    info <- paste("scale", format(s))
    expect_equal(f$beta[2] * s, ref$beta[2], tolerance = 1e-8, info = info)
    expect_equal(f$se[2] * s, ref$se[2], tolerance = 1e-8, info = info)
    expect_equal(f$QM, ref$QM, tolerance = 1e-8, info = info)
    expect_equal(f$sigma2, ref$sigma2, tolerance = 1e-8, info = info)
  }
  # variances of 1e400 / 1e-400 (before: se Inf and z 0, or se 0 and z Inf)
  for (s in c(1e-300, 1e-200, 1e170, 1e200, 1e300)) {
    d$xs <- d$yc * s
    expect_error(rma.mv(yi, vi, mods = ~ xs, random = ~ 1 | district/school, data = d),
                 "coefficient\\(s\\) 'xs' are outside the range of double precision", info = format(s))
  }
})

test_that("rma.mv(): a moderator offset by 100 .. 1e6 converges by Fisher scoring to the centred fit", {
  # (bug: year ~ 1990 +- 6 in dat.konstantopoulos2011 was not routed to the
  # orthonormal coordinates; the normal equations' noise stalled Fisher
  # scoring for 1000 iterations, then quasi-Newton, 0.8 s, sigma2 off by 1e-9)
  d <- wsc_dat
  d$yc <- d$year - mean(d$year)
  ref <- rma.mv(yi, vi, mods = ~ yc, random = ~ 1 | district/school, data = d)
  for (off in c(100, 500, 1000, 1990, 5000, 1e4, 1e6)) {
    d$xo <- d$yc + off
    f <- rma.mv(yi, vi, mods = ~ xo, random = ~ 1 | district/school, data = d)
    info <- paste("offset", off)
    expect_identical(f$convergence$solver, "Fisher scoring", info = info)
    expect_lt(f$convergence$iterations, 50)
    expect_equal(f$sigma2, ref$sigma2, tolerance = 1e-9, info = info)
    expect_equal(f$beta[2], ref$beta[2], tolerance = 1e-9, info = info)
    expect_equal(f$se[2], ref$se[2], tolerance = 1e-9, info = info)
  }
})
