# Methods and case deletion of rma.mv() fits with '~ inner | outer' terms
# (struct CS, DIAG, HCS, HAR, UN) against metafor.

cdmv_sim <- function(n = 20, seed = 5, d = TRUE) {
  set.seed(seed)
  S <- matrix(c(1, 0.6, 0.4, 0.6, 1, 0.5, 0.4, 0.5, 1), 3)
  s <- sqrt(c(0.06, 0.09, 0.05))
  U <- matrix(rnorm(3 * n), n) %*% chol(S * tcrossprod(s))
  out <- do.call(rbind, lapply(seq_len(n), function(i) {
    keep <- c(TRUE, runif(1) > 0.3, i %% 4 == 0)
    data.frame(study = i, outcome = c("a", "b", "c")[keep], u = U[i, keep])
  }))
  if (d) out <- rbind(out, data.frame(study = 3, outcome = "d", u = 0.1))  # 'd' in one study
  out$x <- rnorm(nrow(out))
  out$vi <- runif(nrow(out), 0.01, 0.05)
  out$yi <- c(a = 0.2, b = 0.4, c = 0, d = 0.1)[out$outcome] + 0.1 * out$x + out$u + rnorm(nrow(out), 0, sqrt(out$vi))
  out$id <- seq_len(nrow(out))
  out
}

test_that("hatvalues, weights and rstandard of struct fits are metafor's (the fit keeps its full theta)", {
  skip_if_not_installed("metafor")
  dat <- cdmv_sim()
  for (st in c("CS", "HCS", "DIAG", "HAR", "UN")) {
    f <- suppressWarnings(rma.mv(yi, vi, mods = ~ x, random = ~ outcome | study, struct = st, data = dat))
    # metafor at our estimates: the methods alone are compared
    m <- suppressWarnings(metafor::rma.mv(yi, vi, mods = ~ x, random = ~ outcome | study, struct = st, data = dat,
                                          tau2 = f$tau2, rho = f$rho))
    expect_equal(hatvalues(f), hatvalues(m), tolerance = 1e-8, label = st)
    expect_equal(weights(f), weights(m), tolerance = 1e-8, label = st)
    expect_equal(rstandard(f)$z, rstandard(m)$z, tolerance = 1e-8, label = st)
    expect_equal(rstandard(f, cluster = dat$study)$cluster$X2, rstandard(m, cluster = dat$study)$cluster$X2,
                 tolerance = 1e-8, label = st)
  }
})

test_that("case deletion of struct fits without reestimation matches metafor (NA where a level disappears)", {
  skip_if_not_installed("metafor")
  dat <- cdmv_sim()
  for (st in c("CS", "HCS", "DIAG", "HAR")) for (cl in c(FALSE, TRUE)) {
    f <- suppressWarnings(rma.mv(yi, vi, mods = ~ x, random = ~ outcome | study, struct = st, data = dat))
    m <- suppressWarnings(metafor::rma.mv(yi, vi, mods = ~ x, random = ~ outcome | study, struct = st, data = dat,
                                          tau2 = f$tau2, rho = f$rho))
    cf <- if (cl) dat$study else dat$id
    a <- cooks.distance(f, reestimate = FALSE, cluster = cf)
    b <- suppressWarnings(cooks.distance(m, reestimate = FALSE, cluster = cf))
    expect_identical(is.na(a), is.na(b), label = paste(st, cl))
    if (st != "CS") expect_true(anyNA(b))  # (the unit holding level 'd': metafor's refit stops)
    expect_equal(a, b, tolerance = 1e-6, label = paste(st, cl))
    ra <- rstudent(f, reestimate = FALSE, cluster = cf)
    rb <- suppressWarnings(rstudent(m, reestimate = FALSE, cluster = cf))
    expect_equal(ra$obs$z, rb$obs$z, tolerance = 1e-6, label = paste(st, cl))
    expect_equal(ra$cluster$X2, rb$cluster$X2, tolerance = 1e-6, label = paste(st, cl))
  }
})

test_that("case deletion of struct fits with reestimation matches metafor (its rules re-applied per subset)", {
  skip_if_not_installed("metafor")
  dat <- cdmv_sim(d = FALSE)
  # (metafor's refits with rel.tol 1e-12 stop with false convergence here)
  ctl <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
  for (st in c("CS", "DIAG")) for (cl in c(FALSE, TRUE)) {
    f <- rma.mv(yi, vi, mods = ~ x, random = ~ outcome | study, struct = st, data = dat)
    m <- mv_ref(yi, vi, mods = ~ x, random = ~ outcome | study, struct = st, data = dat)
    m$control <- ctl
    cf <- if (cl) dat$study else dat$id
    a <- cooks.distance(f, cluster = cf)
    b <- suppressWarnings(cooks.distance(m, cluster = cf))
    expect_false(anyNA(b))
    expect_equal(a, b, tolerance = 1e-5, label = paste(st, cl))
    ra <- rstudent(f, cluster = cf)
    rb <- suppressWarnings(rstudent(m, cluster = cf))
    expect_equal(ra$obs$z, rb$obs$z, tolerance = 1e-5, label = paste(st, cl))
    expect_equal(as.matrix(dfbetas(f, cluster = cf)), as.matrix(suppressWarnings(stats::dfbetas(m, cluster = cf))),
                 tolerance = 1e-5, label = paste(st, cl))
  }
})

test_that("case deletion of UN fits with and without reestimation matches metafor", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.berkey1998
  V <- metafor::vcalc(vi, cluster = trial, obs = outcome, rho = 0.4, data = dat)
  m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat)
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat)
  # (the fit is on metafor's Cholesky scale; its spec keeps the (tau2, rho)
  # form, on which the refits run: the same maximum inside the parameter space)
  expect_identical(f$mf.spec$structure$terms[[1L]]$type, 6L)
  for (re in c(FALSE, TRUE)) {
    a <- rstudent(f, reestimate = re)
    b <- rstudent(m, reestimate = re)
    expect_equal(a$z, b$z, tolerance = 1e-6, label = paste("rstudent", re))
    a <- rstudent(f, cluster = trial, reestimate = re)
    b <- rstudent(m, cluster = trial, reestimate = re)
    expect_equal(a$cluster$X2, b$cluster$X2, tolerance = 1e-6, label = paste("X2", re))
    expect_equal(cooks.distance(f, cluster = trial, reestimate = re), cooks.distance(m, cluster = trial, reestimate = re),
                 tolerance = 1e-6, label = paste("cooks", re))
    expect_equal(as.matrix(dfbetas(f, reestimate = re)), as.matrix(stats::dfbetas(m, reestimate = re)),
                 tolerance = 1e-6, label = paste("dfbetas", re))
  }
})
