# rma.mv() fits whose maximum has a correlation at +-1 beside a small
# variance (issue 12): at a variance of 0 the correlation drops out of the
# likelihood and the optimiser used to stop there, below metafor's maximum
# (found on cluster-bootstrap resamples of dat.berkey1998, HCS and HAR).
# Reference: metafor's rma.mv() at tight settings (mv_ref, helper-metafor-mv.R).

berkey_resample <- function(ids) {
  dat <- metadat::dat.berkey1998
  V <- metafor::vcalc(vi, cluster = trial, obs = outcome, data = dat, rho = 0.4)
  w <- lapply(ids, function(j) which(dat$trial == j))
  d <- dat[unlist(w), ]
  d$study <- rep(seq_along(ids), lengths(w))
  list(d = d, V = metafor::bldiag(lapply(w, function(i) V[i, i, drop = FALSE])))
}

test_that("HCS and HAR fits at a correlation of +-1 beside a small variance reach metafor's maximum", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  cases <- list(list("HCS", c(4, 4, 1, 5, 5)), list("HCS", c(1, 1, 1, 3, 3)), list("HCS", c(1, 4, 5, 1, 1)),
                list("HCS", c(4, 4, 4, 2, 4)), list("HAR", c(5, 3, 5, 3, 3)), list("HAR", c(2, 2, 4, 4, 2)),
                list("HAR", c(4, 4, 1, 4, 1)), list("HAR", c(3, 1, 5, 3, 3)))
  for (cs in cases) {
    r <- berkey_resample(cs[[2]])
    d <- r$d
    Vd <- r$V
    lab <- paste(cs[[1]], paste(cs[[2]], collapse = ","))
    m <- suppressWarnings(mv_ref(yi, Vd, mods = ~ outcome, random = ~ outcome | study, struct = cs[[1]], data = d))
    f <- rma.mv(yi, Vd, mods = ~ outcome, random = ~ outcome | study, struct = cs[[1]], data = d)
    expect_true(f$convergence$converged, label = lab)
    # metafor's optimum lies on |rho| = 1, which its transformed parameter
    # reaches only in the limit: ours is at least as high, and no higher
    # than rounding of the same maximum
    expect_gte(as.numeric(logLik(f)), as.numeric(logLik(m)) - 1e-8 * (1 + abs(as.numeric(logLik(m)))))
    expect_equal(as.numeric(logLik(f)), as.numeric(logLik(m)), tolerance = tol_iter, label = lab)
    expect_equal(f$tau2, m$tau2, tolerance = 1e-4, label = lab)
    expect_equal(c(f$beta), c(m$beta), tolerance = 1e-5, label = lab)
    expect_equal(abs(f$rho), 1, label = lab)
  }
})

test_that("fits with variances far above 1 converge by Fisher scoring (relative step test)", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.konstantopoulos2011
  s <- 300
  f1 <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  fs <- rma.mv(yi * s, vi * s^2, random = ~ 1 | district/school, data = dat)
  expect_true(fs$convergence$converged)
  expect_false(grepl("quasi-Newton", fs$convergence$message))
  expect_equal(fs$sigma2, f1$sigma2 * s^2, tolerance = tol_iter)
  expect_equal(c(fs$beta), c(f1$beta) * s, tolerance = tol_iter)
  m <- mv_ref(yi * s, vi * s^2, random = ~ 1 | district/school, data = dat)
  expect_equal(fs$sigma2, m$sigma2, tolerance = tol_iter)
})

test_that("GEN fits with a fixed component (base UN on its natural scale) at a correlation of +-1 reach metafor's maximum", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  # tau2[1] fixed: the fit is on the natural (tau2, rho) scale, where rho
  # drops out at tau2[2] = 0 as for UN (resamples found by a scan of 40)
  cases <- list(list(~ 0 + outcome | study, c(4, 4, 4, 2, 4)), list(~ 0 + outcome | study, c(1, 3, 3, 3, 3)),
                list(~ 0 + outcome | study, c(1, 2, 3, 3, 3)), list(~ 0 + outcome | study, c(1, 5, 5, 1, 5)),
                list(~ outcome | study, c(4, 4, 4, 2, 4)))
  for (cs in cases) {
    r <- berkey_resample(cs[[2]])
    d <- r$d
    Vd <- r$V
    rnd <- cs[[1]]
    lab <- paste(deparse(rnd), paste(cs[[2]], collapse = ","))
    m <- suppressWarnings(mv_ref(yi, Vd, mods = ~ outcome, random = rnd, struct = "GEN", tau2 = c(0.01, NA), data = d))
    f <- rma.mv(yi, Vd, mods = ~ outcome, random = rnd, struct = "GEN", tau2 = c(0.01, NA), data = d)
    expect_true(f$convergence$converged, label = lab)
    expect_gte(as.numeric(logLik(f)), as.numeric(logLik(m)) - 1e-8 * (1 + abs(as.numeric(logLik(m)))))
    expect_equal(as.numeric(logLik(f)), as.numeric(logLik(m)), tolerance = tol_iter, label = lab)
    expect_equal(f$tau2, m$tau2, tolerance = 1e-4, label = lab)
    expect_equal(f$rho, m$rho, tolerance = 1e-4, label = lab)
    expect_equal(c(f$beta), c(m$beta), tolerance = 1e-5, label = lab)
  }
})
