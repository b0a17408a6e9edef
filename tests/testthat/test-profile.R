# profile() of tau^2 against metafor's profile.rma.uni(), and the layout of
# its plot.

prof_data <- function() metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)

test_that("profile() gives metafor's profile values", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- prof_data()
  hs <- metadat::dat.hackshaw1998
  cases <- list(
    list(d = dat, mods = NULL, method = "REML", xlim = c(0, 1.2)),
    list(d = dat, mods = ~ ablat, method = "ML", xlim = c(0.01, 0.5)),
    list(d = dat, mods = ~ ablat, method = "DL", xlim = c(0, 0.6)),
    list(d = hs[11:20, ], mods = NULL, method = "REML", xlim = c(0, 0.1))  # estimate at 0
  )
  for (cs in cases) {
    args <- list(yi = cs$d$yi, vi = cs$d$vi, method = cs$method)
    if (!is.null(cs$mods)) { args$mods <- cs$mods; args$data <- cs$d }
    f <- do.call(metafast::rma, args)
    m <- do.call(metafor::rma.uni, c(args, list(control = metafor_tight)))
    a <- profile(f, xlim = cs$xlim, steps = 7, plot = FALSE)
    b <- profile(m, xlim = cs$xlim, steps = 7, plot = FALSE, progbar = FALSE)
    expect_s3_class(a, "mf_profile")
    expect_true(all(setdiff(names(b), c("exp", "sqrt")) %in% names(a)))
    expect_equal(a$tau2, b$tau2, tolerance = tol_closed)
    expect_equal(a$ll, b$ll, tolerance = tol_iter)
    expect_equal(as.matrix(a$beta), as.matrix(b$beta), tolerance = tol_iter)
    expect_equal(as.matrix(a$ci.lb), as.matrix(b$ci.lb), tolerance = tol_iter)
    expect_equal(as.matrix(a$ci.ub), as.matrix(b$ci.ub), tolerance = tol_iter)
    expect_equal(a$I2, b$I2, tolerance = tol_iter)
    expect_equal(a$H2, b$H2, tolerance = tol_iter)
    expect_equal(a$maxll, b$maxll, tolerance = tol_iter)
    expect_equal(a$vc, b$vc, tolerance = tol_iter, ignore_attr = TRUE)
    expect_equal(a$xlim, b$xlim)
    expect_equal(a$ylim, b$ylim, tolerance = tol_iter)
    expect_identical(a$method, b$method)
    expect_equal(a$comps, b$comps)
  }
  # steps as a vector of values
  f <- metafast::rma(yi, vi, data = dat)
  m <- metafor::rma.uni(yi, vi, data = dat, control = metafor_tight)
  a <- profile(f, steps = c(0.1, 0.2, 0.5), plot = FALSE)
  b <- profile(m, steps = c(0.1, 0.2, 0.5), plot = FALSE, progbar = FALSE)
  expect_equal(a$ll, b$ll, tolerance = tol_iter)
  expect_equal(a$xlim, b$xlim)
  # the default xlim: from the Q-profile interval (metafor's to its root tolerance)
  a <- profile(f, plot = FALSE)
  b <- profile(m, plot = FALSE, progbar = FALSE)
  expect_equal(a$xlim, b$xlim, tolerance = 1e-3)
})

test_that("profile() rejects what metafor does and what metafast does not offer", {
  skip_if_not_installed("metafor")
  dat <- prof_data()
  f <- metafast::rma(yi, vi, data = dat)
  expect_error(profile(metafast::rma(yi, vi, data = dat, method = "EE"), plot = FALSE), "equal-effects")
  expect_error(profile(f, steps = 1, plot = FALSE), "steps")
  expect_error(profile(f, parallel = "snow", plot = FALSE), "parallel")
  expect_error(profile(f, ncpus = 2, plot = FALSE), "ncpus")
  expect_error(profile(f, xlim = 1, plot = FALSE), "xlim")
})

test_that("plot.mf_profile draws metafor's layout", {
  skip_if_not_installed("metafor")
  dat <- prof_data()
  f <- metafast::rma(yi, vi, data = dat)
  pdf(NULL)
  on.exit(dev.off())
  a <- profile(f, xlim = c(0, 1), steps = 5, plot = FALSE)
  lay <- plot(a, cline = TRUE)
  # the estimate inserted as a point between the profile values
  expect_equal(lay$x, c(0, 0.25, f$tau2, 0.5, 0.75, 1))
  expect_equal(lay$y[3], c(logLik(f)))
  expect_equal(lay$vline, f$tau2)
  expect_equal(lay$hline, c(logLik(f)))
  expect_equal(lay$cline, c(logLik(f)) - qchisq(0.95, 1) / 2)
  expect_equal(lay$xlim, c(0, 1))
  expect_equal(lay$ylim, a$ylim)
  expect_identical(lay$ylab, "Restricted Log-Likelihood")
  lay <- plot(a, refline = FALSE, ylab = "ll")
  expect_null(lay$vline)
  expect_null(lay$cline)
  expect_identical(lay$ylab, "ll")
  # profile(plot = TRUE) draws and returns the profile invisibly
  expect_invisible(profile(f, xlim = c(0, 1), steps = 3))
})
