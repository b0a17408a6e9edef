# leave1out() against metafor::leave1out() on the BCG data (log risk ratios).

bcg_data <- function() {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
}

expect_list_equal <- function(ours, theirs, tol) {
  a <- as.data.frame(ours)
  b <- as.data.frame(theirs)
  expect_identical(names(a), names(b))
  expect_identical(rownames(a), rownames(b))
  for (nm in names(a)) expect_equal(a[[nm]], b[[nm]], tolerance = tol, info = nm)
}

test_that("leave1out matches metafor (REML, DL, EE; z and knha)", {
  dat <- bcg_data()
  cases <- list(list("REML", "z", tol_iter), list("DL", "z", tol_closed),
                list("EE", "z", tol_closed), list("REML", "knha", tol_iter), list("PM", "t", tol_iter))
  for (cs in cases) {
    fit <- rma(yi, vi, data = dat, method = cs[[1]], test = cs[[2]])
    ref <- metafor::rma(yi, vi, data = dat, method = cs[[1]], test = cs[[2]], control = metafor_tight)
    expect_list_equal(leave1out(fit), metafor::leave1out(ref), cs[[3]])
  }
})

test_that("leave1out with slab, transf and a fixed tau2 matches metafor", {
  dat <- bcg_data()
  dat$lab <- paste(dat$author, dat$year)
  fit <- rma(yi, vi, data = dat, slab = lab)
  ref <- metafor::rma(yi, vi, data = dat, slab = lab, control = metafor_tight)
  expect_list_equal(leave1out(fit, transf = exp), metafor::leave1out(ref, transf = exp), tol_iter)
  fit <- rma(yi, vi, data = dat, tau2 = 0.2)
  ref <- metafor::rma(yi, vi, data = dat, tau2 = 0.2)
  expect_list_equal(leave1out(fit), metafor::leave1out(ref), tol_closed)
})

test_that("leave1out is identical for 1 and 2 threads, and k = 2 works", {
  dat <- bcg_data()
  fit <- rma(yi, vi, data = dat)
  expect_identical(leave1out(fit, threads = 1), leave1out(fit, threads = 2))
  # k = 120: large enough for the kernel to use 2 threads
  set.seed(11)
  vi <- runif(120, 0.01, 0.3)
  sim <- data.frame(yi = rnorm(120, 0.3, sqrt(vi + 0.1)), vi = vi)
  fit <- rma(yi, vi, data = sim)
  expect_identical(leave1out(fit, threads = 1), leave1out(fit, threads = 2))
  fit2 <- rma(yi, vi, data = dat[1:2, ])
  ref2 <- metafor::rma(yi, vi, data = dat[1:2, ], control = metafor_tight)
  expect_list_equal(leave1out(fit2), metafor::leave1out(ref2), tol_iter)
})

test_that("leave1out refuses meta-regressions and bad arguments", {
  dat <- bcg_data()
  expect_error(leave1out(rma(yi, vi, mods = ~ ablat, data = dat)), "without moderators")
  expect_error(leave1out(rma(yi, vi, data = dat), progress = NA), "'progress'")
  expect_error(leave1out(rma(yi, vi, data = dat), threads = 0), "'threads'")
  expect_error(leave1out(rma(yi, vi, data = dat), transf = "exp"), "'transf'")
})

test_that("leave1out prints a table", {
  dat <- bcg_data()
  out <- capture.output(print(leave1out(rma(yi, vi, data = dat))))
  expect_true(any(grepl("estimate", out)))
  expect_true(any(grepl("^-13", out)))
})

test_that("leave1out at an extreme magnitude (yi * 1e-150) equals metafor's on the unit scale", {
  # the refits rescale exactly, as rma()'s fit
  dat <- bcg_data()
  tiny <- dat
  tiny$yi <- dat$yi * 1e-150
  tiny$vi <- dat$vi * 1e-300
  ours <- as.data.frame(leave1out(rma(yi, vi, data = tiny)))
  ref <- as.data.frame(metafor::leave1out(metafor::rma(yi, vi, data = dat, control = metafor_tight)))
  for (nm in c("estimate", "se", "ci.lb", "ci.ub")) expect_equal(ours[[nm]] / 1e-150, ref[[nm]], tolerance = tol_iter, info = nm)
  for (nm in c("zval", "pval", "Q", "Qp", "I2", "H2")) expect_equal(ours[[nm]], ref[[nm]], tolerance = tol_iter, info = nm)
  expect_equal(ours$tau2 / 1e-300, ref$tau2, tolerance = tol_iter)
})
