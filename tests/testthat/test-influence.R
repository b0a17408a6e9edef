# influence(), rstudent(), cooks.distance(), dfbetas() against metafor.

bcg_data <- function() {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
}

infl_cols <- c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")

compare_infl <- function(fit, ref, tol) {
  ours <- influence(fit)
  theirs <- stats::influence(ref)
  for (nm in infl_cols) expect_equal(ours$inf[[nm]], theirs$inf[[nm]], tolerance = tol, info = nm)
  expect_identical(ours$inf$inf, theirs$inf$inf)
  expect_identical(as.vector(ours$is.infl), as.vector(theirs$is.infl))
  expect_equal(unname(as.matrix(as.data.frame(ours$dfbs))),
               unname(as.matrix(as.data.frame(theirs$dfbs))), tolerance = tol)
  expect_identical(names(as.data.frame(ours$dfbs)), names(as.data.frame(theirs$dfbs)))
}

test_that("influence matches metafor: REML and DL, intercept-only and ~ ablat", {
  dat <- bcg_data()
  for (meth in c("REML", "DL")) {
    tol <- if (meth == "REML") tol_iter else tol_closed
    for (mods in list(~ 1, ~ ablat)) {
      fit <- rma(yi, vi, mods = mods, data = dat, method = meth)
      ref <- metafor::rma(yi, vi, mods = mods, data = dat, method = meth, control = metafor_tight)
      compare_infl(fit, ref, tol)
    }
  }
})

test_that("influence matches metafor with Knapp-Hartung, user weights and EE", {
  dat <- bcg_data()
  fit <- rma(yi, vi, mods = ~ ablat, data = dat, test = "knha")
  ref <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, test = "knha", control = metafor_tight)
  compare_infl(fit, ref, tol_iter)
  w <- 1 / sqrt(dat$vi)
  fit <- rma(yi, vi, mods = ~ ablat, data = dat, weights = w, method = "DL")
  ref <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, weights = w, method = "DL")
  compare_infl(fit, ref, tol_closed)
  fit <- rma(yi, vi, mods = ~ ablat, data = dat, method = "EE")
  ref <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "EE")
  compare_infl(fit, ref, tol_closed)
})

test_that("an influential study is flagged as in metafor", {
  dat <- bcg_data()
  dat$yi[3] <- 2.5
  fit <- rma(yi, vi, mods = ~ ablat, data = dat)
  ref <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  inf <- influence(fit)
  expect_true(any(inf$is.infl))
  compare_infl(fit, ref, tol_iter)
  out <- capture.output(print(inf))
  expect_true(any(grepl("\\*", out)))
})

test_that("rstudent, cooks.distance and dfbetas accessors match metafor", {
  dat <- bcg_data()
  fit <- rma(yi, vi, mods = ~ ablat, data = dat)
  ref <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  rs <- rstudent(fit); rr <- metafor::rstudent.rma.uni(ref)
  expect_equal(rs$resid, rr$resid, tolerance = tol_iter)
  expect_equal(rs$se, rr$se, tolerance = tol_iter)
  expect_equal(rs$z, rr$z, tolerance = tol_iter)
  expect_equal(cooks.distance(fit), metafor::cooks.distance.rma.uni(ref), tolerance = tol_iter)
  expect_equal(unname(as.matrix(as.data.frame(dfbetas(fit)))),
               unname(as.matrix(as.data.frame(metafor::dfbetas.rma.uni(ref)))), tolerance = tol_iter)
})

test_that("influence is identical for 1 and 2 threads", {
  dat <- bcg_data()
  fit <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_identical(influence(fit, threads = 1), influence(fit, threads = 2))
  # k = 120: large enough for the kernel to use 2 threads
  set.seed(12)
  vi <- runif(120, 0.01, 0.3)
  sim <- data.frame(x = rnorm(120), vi = vi)
  sim$yi <- rnorm(120, 0.3 + 0.2 * sim$x, sqrt(vi + 0.1))
  fit <- rma(yi, vi, mods = ~ x, data = sim)
  expect_identical(influence(fit, threads = 1), influence(fit, threads = 2))
})

test_that("plot.mf_infl draws and returns the object invisibly", {
  dat <- bcg_data()
  inf <- influence(rma(yi, vi, mods = ~ ablat, data = dat))
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  res <- withVisible(plot(inf))
  grDevices::dev.off()
  expect_false(res$visible)
  expect_s3_class(res$value, "mf_infl")
  expect_gt(file.size(f), 1000)
})
