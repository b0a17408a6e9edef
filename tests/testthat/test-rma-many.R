# rma_many(): the lean path for simulation studies, against metafor.

many_data <- function(k = 15, n = 6, seed = 11) {
  set.seed(seed)
  V <- matrix(stats::runif(k * n, 0.01, 0.3), k, n)
  Y <- matrix(stats::rnorm(k * n, 0.3, sqrt(V + 0.05)), k, n)
  x <- seq(-1, 1, length.out = k)
  list(Y = Y, V = V, x = x)
}

test_that("rma_many() equals metafor::rma() column by column (REML and DL, with a moderator)", {
  skip_if_not_installed("metafor")
  d <- many_data()
  for (method in c("REML", "DL")) {
    r <- rma_many(d$Y, d$V, mods = d$x, method = method)
    for (j in seq_len(ncol(d$Y))) {
      m <- metafor::rma(d$Y[, j], d$V[, j], mods = d$x, method = method, control = metafor_tight)
      tol <- if (method == "DL") tol_closed else tol_iter
      expect_equal(unname(r$beta[j, ]), c(m$beta), tolerance = tol)
      expect_equal(unname(r$se[j, ]), m$se, tolerance = tol)
      expect_equal(r$tau2[j], m$tau2, tolerance = tol)
    }
  }
})

test_that("rma_many() at extreme magnitudes: exact rescaling gives the unit-scale answer scaled back", {
  # before the core rescaled, sums of squared weights under- or overflowed here
  skip_if_not_installed("metafor")
  d <- many_data(seed = 5)
  for (s in c(1e-150, 1e100)) {
    r <- rma_many(d$Y * s, d$V * s^2, method = "REML")
    for (j in seq_len(ncol(d$Y))) {
      m <- metafor::rma(d$Y[, j], d$V[, j], method = "REML", control = metafor_tight)
      expect_equal(unname(r$beta[j, 1]) / s, c(m$beta), tolerance = tol_iter)
      expect_equal(r$tau2[j] / s^2, m$tau2, tolerance = tol_iter)
    }
  }
})
