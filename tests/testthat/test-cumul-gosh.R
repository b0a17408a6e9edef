# cumul() and gosh() against metafor.

bcg_data <- function() {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
}

test_that("cumul matches metafor (REML, DL; default order and by year)", {
  dat <- bcg_data()
  for (meth in c("REML", "DL")) {
    tol <- if (meth == "REML") tol_iter else tol_closed
    fit <- rma(yi, vi, data = dat, method = meth)
    ref <- metafor::rma(yi, vi, data = dat, method = meth, control = metafor_tight)
    for (by_year in c(FALSE, TRUE)) {
      a <- if (by_year) cumul(fit, order = year) else cumul(fit)
      b <- if (by_year) metafor::cumul(ref, order = year) else metafor::cumul(ref)
      a <- as.data.frame(a); b <- as.data.frame(b)
      expect_identical(names(a), names(b)[seq_along(a)])
      expect_identical(rownames(a), rownames(b))
      for (nm in names(a)) expect_equal(as.vector(a[[nm]]), as.vector(b[[nm]]), tolerance = tol, info = nm)
    }
  }
})

test_that("cumul with knha and transf matches metafor, and refuses moderators", {
  dat <- bcg_data()
  fit <- rma(yi, vi, data = dat, test = "knha")
  ref <- metafor::rma(yi, vi, data = dat, test = "knha", control = metafor_tight)
  a <- as.data.frame(cumul(fit, order = year, transf = exp))
  b <- as.data.frame(metafor::cumul(ref, order = year, transf = exp))
  for (nm in names(a)) expect_equal(as.vector(a[[nm]]), as.vector(b[[nm]]), tolerance = tol_iter, info = nm)
  expect_error(cumul(rma(yi, vi, mods = ~ ablat, data = dat)), "without moderators")
  expect_error(cumul(fit, order = 1:3), "'order'")
})

# Match subsets on the inclusion matrix: both list them by size, then in
# the order of expand.grid.
compare_gosh <- function(ours, theirs, tol) {
  expect_identical(unname(ours$incl), unname(theirs$incl) == 1)
  expect_identical(unname(ours$fit), unname(theirs$fit))
  expect_identical(names(ours$res), names(theirs$res))
  for (nm in names(ours$res)) expect_equal(ours$res[[nm]], theirs$res[[nm]], tolerance = tol, info = nm)
}

gosh_case <- function(meth, mods) {
  dat <- bcg_data()[1:8, ]
  fit <- rma(yi, vi, mods = mods, data = dat, method = meth)
  ref <- metafor::rma(yi, vi, mods = mods, data = dat, method = meth, control = metafor_tight)
  compare_gosh(gosh(fit), metafor::gosh(ref, progbar = FALSE), if (meth == "DL") tol_closed else tol_iter)
}

test_that("gosh over all subsets (k = 8) matches metafor: DL, and REML intercept-only", {
  gosh_case("DL", ~ 1)
  gosh_case("DL", ~ ablat)
  gosh_case("REML", ~ 1)
})

test_that("gosh over all subsets (k = 8) matches metafor: REML with ~ ablat", {
  skip_unless_level(2)  # metafor needs several seconds here
  gosh_case("REML", ~ ablat)
})

test_that("gosh is identical for 1 and 2 threads, exact and random", {
  dat <- bcg_data()
  fit <- rma(yi, vi, mods = ~ ablat, data = dat[1:10, ])
  expect_identical(gosh(fit, threads = 1), gosh(fit, threads = 2))
  fit <- rma(yi, vi, data = dat)
  g1 <- gosh(fit, subsets = 3000, seed = 42, threads = 1)
  g2 <- gosh(fit, subsets = 3000, seed = 42, threads = 2)
  expect_identical(g1, g2)
  expect_false(g1$exact)
  expect_equal(nrow(g1$res), 3000)
  expect_false(is.unsorted(g1$res$k))
  expect_identical(g1$res$k, as.integer(rowSums(g1$incl)))
  # random subsets of size >= 1 are uniform: mean size k/2 / (1 - 2^-k)
  expect_equal(mean(g1$res$k), 13 / 2, tolerance = 0.03)
  set.seed(7); a <- gosh(fit, subsets = 100)
  set.seed(7); b <- gosh(fit, subsets = 100)
  expect_identical(a, b)
})

test_that("gosh results equal direct fits of the subsets", {
  dat <- bcg_data()
  fit <- rma(yi, vi, data = dat)
  g <- gosh(fit, subsets = 50, seed = 1)
  for (i in c(10, 30, 50)) {
    ref <- metafor::rma(yi, vi, data = dat, subset = g$incl[i, ], control = metafor_tight)
    expect_equal(g$res$estimate[i], c(ref$beta), tolerance = tol_iter)
    expect_equal(g$res$tau2[i], ref$tau2, tolerance = tol_iter)
    expect_equal(g$res$QE[i], ref$QE, tolerance = tol_closed)
  }
})

test_that("gosh print and plot work; bad arguments are refused", {
  dat <- bcg_data()
  g <- gosh(rma(yi, vi, data = dat[1:6, ]))
  expect_output(print(g), "Model fits attempted: 63")
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  d <- plot(g)
  grDevices::dev.off()
  expect_equal(nrow(d$data), sum(g$fit))
  expect_error(gosh(rma(yi, vi, data = dat), subsets = 1), "'subsets'")
  expect_error(gosh(rma(yi, vi, data = dat), seed = -1), "'seed'")
})

test_that("gosh(parallel = 'future') with 2 multisession workers equals the sequential run", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  set.seed(5)
  dat <- data.frame(yi = rnorm(12, 0.3, 0.3), vi = runif(12, 0.01, 0.1), x = rnorm(12))
  fit <- rma(yi, vi, data = dat[1:9, ])                 # all 511 subsets
  fitm <- rma(yi, vi, mods = ~ x, data = dat)           # random subsets
  a <- gosh(fit, threads = 1)
  am <- gosh(fitm, subsets = 400, seed = 9, threads = 1)
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  b <- gosh(fit, parallel = "future")
  bm <- gosh(fitm, subsets = 400, seed = 9, parallel = "future")
  expect_true(a$exact)
  expect_false(am$exact)
  expect_identical(b$res, a$res)
  expect_identical(b$incl, a$incl)
  expect_identical(bm$res, am$res)
  expect_identical(bm$incl, am$incl)
})

test_that("gosh rejects metafor's parallel backends by name", {
  fit <- rma(yi, vi, data = data.frame(yi = c(0.1, 0.3, 0.35, 0.65), vi = c(0.03, 0.03, 0.05, 0.01)))
  expect_error(gosh(fit, parallel = "multicore"), "multicore")
  expect_error(gosh(fit, ncpus = 2), "'ncpus'")
  expect_error(gosh(fit, cl = NULL, ncpus = 2), "'ncpus' and 'cl'")
})

test_that("gosh() refuses an exact enumeration too large for its inclusion matrix", {
  # (regression: only random subsets were checked; 40 studies and subsets >= 2^40 would
  # have enumerated 2^40 subsets)
  set.seed(1)
  fit <- rma(rnorm(40, 0.2, 0.3), runif(40, 0.01, 0.1))
  expect_error(gosh(fit, subsets = 2^41), "'subsets'.*inclusion matrix")
})
