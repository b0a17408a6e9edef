# The core's block engine (src/core: structure, objective, optimise) on the
# two-level nested model, through the hidden glue .mf_block_fit(), against
# metafor::rma.mv(yi, vi, random = ~ 1 | district/school) on
# dat.konstantopoulos2011 (Konstantopoulos 2011, Res Synth Methods 2:61).
test_that(".mf_block_fit() reproduces rma.mv() for ~ 1 | district/school", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  stopifnot(!is.unsorted(dat$district))  # rows sorted by block (district)
  offsets <- as.integer(c(0L, cumsum(rle(dat$district)$lengths)))
  ctl <- list(rel.tol = 1e-10, iter.max = 1000, eval.max = 2000)
  for (method in c("REML", "ML")) {
    for (with_mod in c(FALSE, TRUE)) {
      X <- if (with_mod) cbind(1, dat$year - 1990) else cbind(rep(1, nrow(dat)))
      f <- metafast:::.mf_block_fit(dat$yi, dat$vi, X, offsets, numeric(0), method == "REML")
      m <- if (with_mod) {
        metafor::rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district / school, data = dat,
                        method = method, control = ctl)
      } else {
        metafor::rma.mv(yi, vi, random = ~ 1 | district / school, data = dat, method = method, control = ctl)
      }
      expect_true(f$convergence$converged)
      expect_equal(f$theta, m$sigma2, tolerance = tol_iter)
      expect_equal(as.numeric(f$beta), as.numeric(m$beta), tolerance = tol_iter)
      expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
      expect_equal(f$ll, as.numeric(logLik(m)), tolerance = tol_iter)
    }
  }
})
