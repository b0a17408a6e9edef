# rma.mv() '~ inner | outer' terms with struct GEN, GDIAG (random slopes) and
# the spatial structures SPEXP, SPGAU, SPLIN, SPRAT, SPSPH (metafor's 'dist'
# argument: euclidean, maximum, manhattan, gcd, a distance matrix) against
# metafor::rma.mv() run with tight optimiser settings.  Tolerances as
# test-rma-mv-struct.R: beta and SE 1e-6 relative (tol_iter), variance
# components 1e-5, log-likelihoods 1e-8 at metafor's estimates (our fit with
# every component fixed there).

gs_tol_vc <- 1e-5
gs_tol_ll <- 1e-8

# The reference: metafor's rma.mv() with nlminb at rel.tol 1e-12 from its
# default start (or the given control, e.g. rho.init).  Where nlminb reports
# false convergence there (it does for most spatial fits at 1e-12), nlminb at
# 1e-12 started at our estimate f: metafor's optimiser then confirms the point
# as its maximum; and our log-likelihood must be at least that of metafor's
# Nelder-Mead run (reltol 1e-14) from its default start, so that a local
# maximum of ours below metafor's would fail.
gs_ref <- function(..., f) {
  cl <- match.call()
  cl[[1L]] <- quote(metafor::rma.mv)
  cl$f <- NULL
  env <- parent.frame()
  con <- if (is.null(cl$control)) list() else eval(cl$control, env)
  cl$control <- c(con, mv_tight)
  tryCatch(eval(cl, env), error = function(e) {
    nm <- cl
    nm$control <- c(con, list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000))
    mn <- eval(nm, env)
    ll <- if (f$method == "REML") "REML" else "ML"
    expect_gte(f$fit.stats[["ll", ll]] - mn$fit.stats[["ll", ll]], -1e-8)
    init <- list(tau2.init = pmax(f$tau2, 1e-6), rho.init = f$rho)
    if (isTRUE(f$withS)) init$sigma2.init <- pmax(f$sigma2, 1e-6)
    cl$control <- c(con[setdiff(names(con), names(init))], mv_tight, init)
    tryCatch(eval(cl, env), error = function(e) {
      cl$control$rel.tol <- 1e-10  # (false convergence at 1e-12 even there)
      eval(cl, env)
    })
  })
}

# What metafor reports (f ours, m metafor's).
expect_gs_equal <- function(f, m, fields = TRUE) {
  expect_s3_class(f, "mf_rma_mv")
  expect_true(f$convergence$converged)
  for (nm in c("sigma2", "tau2", "rho", "gamma2", "phi")) {
    expect_equal(length(f[[nm]]), length(m[[nm]]), info = nm)
    fl <- if (nm %in% c("rho", "phi") && !any(f$struct %in% c("SPEXP", "SPGAU", "SPLIN", "SPRAT", "SPSPH"))) 1 else 0.01
    expect_lt(max(abs(f[[nm]] - m[[nm]]) / pmax(abs(m[[nm]]), fl)), gs_tol_vc, label = nm)
  }
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(f$se, m$se, tolerance = tol_iter)
  expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
  expect_equal(f$QE, m$QE, tolerance = tol_closed)
  expect_equal(f$QM, m$QM, tolerance = tol_iter)
  expect_equal(f$parms, m$parms)
  expect_equal(f$vc.fix, m$vc.fix)
  expect_equal(f$struct, m$struct)
  if (fields) {
    for (fld in c(".names", ".nlevels", ".nlevels.f", ".levels.f"))
      expect_equal(unname(f[[paste0("g", fld)]]), unname(m[[paste0("g", fld)]]), info = paste0("g", fld))
    expect_equal(as.vector(f$g.levels.k), as.vector(m$g.levels.k))
  }
  expect_equal(as.matrix(f$fit.stats), as.matrix(m$fit.stats), tolerance = tol_iter)
  expect_equal(unname(fitted(f)), unname(fitted(m)), tolerance = tol_iter)
}

# Our log-likelihoods with every component fixed at metafor's estimates.
expect_gs_ll_at <- function(call, m) {
  call$tau2 <- m$tau2
  if (!m$struct[1L] %in% "GDIAG") call$rho <- m$rho
  if (isTRUE(m$withS)) call$sigma2 <- m$sigma2
  f <- suppressWarnings(eval(call, parent.frame()))
  expect_equal(f$fit.stats["ll", ], m$fit.stats["ll", ], tolerance = gs_tol_ll)
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
}

# Simulated spatial data: 25 studies of 3 to 6 sites with coordinates in a
# 10 x 10 square, exponential spatial correlation within studies (range 3).
gs_spatial_data <- function(seed = 3) {
  set.seed(seed)
  n <- 25
  ns <- sample(3:6, n, TRUE)
  d <- data.frame(study = rep(seq_len(n), ns))
  k <- nrow(d)
  d$x1 <- round(runif(k, 0, 10), 2)
  d$x2 <- round(runif(k, 0, 10), 2)
  d$vi <- runif(k, 0.01, 0.05)
  d$mod <- rnorm(k)
  u <- unlist(lapply(split(seq_len(k), d$study), function(ii) {
    D <- as.matrix(stats::dist(d[ii, c("x1", "x2")]))
    c(t(chol(0.1 * exp(-D / 3) + diag(1e-10, length(ii)))) %*% rnorm(length(ii)))
  }))
  d$yi <- 0.3 + 0.1 * d$mod + u + rnorm(k, 0, sqrt(d$vi))
  d
}

# Simulated random-slope data: 30 studies of 2 to 6 effects, a moderator x
# whose slope varies between studies, correlated with the intercepts.
gs_slope_data <- function(seed = 7) {
  set.seed(seed)
  n <- 30
  ns <- sample(2:6, n, TRUE)
  d <- data.frame(study = rep(seq_len(n), ns))
  k <- nrow(d)
  d$x <- round(rnorm(k), 2)
  d$z <- round(runif(k), 2)
  d$vi <- runif(k, 0.01, 0.06)
  u0 <- rnorm(n, 0, 0.3)
  u1 <- 0.5 * u0 + rnorm(n, 0, 0.15)
  d$yi <- 0.2 + 0.15 * d$x + u0[d$study] + u1[d$study] * d$x + rnorm(k, 0, sqrt(d$vi))
  d
}

test_that("spatial structures with computed distances match metafor", {
  skip_if_not_installed("metafor")
  d <- gs_spatial_data()
  # (level 1: one distance per structure; level 2: every distance)
  one <- c(SPEXP = "euclidean", SPGAU = "manhattan", SPRAT = "maximum", SPSPH = "euclidean")
  for (st in c("SPEXP", "SPGAU", "SPRAT", "SPSPH")) {
    for (dm in if (test_level() >= 2L) c("euclidean", "manhattan", "maximum") else one[[st]]) {
      f <- rma.mv(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = st, data = d, dist = dm)
      m <- gs_ref(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = st, data = d, dist = dm, f = f)
      expect_gs_equal(f, m)
      expect_gs_ll_at(quote(rma.mv(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = st, data = d,
                                   dist = dm)), m)
    }
  }
  # SPLIN: its likelihood has a kink at every distance between two rows and
  # local maxima between them (on these data metafor's optimiser and ours
  # stop at different ones, or at a kink where neither converges): compared
  # at fixed ranges
  for (dm in c("euclidean", "manhattan")) {
    f <- rma.mv(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = "SPLIN", data = d, dist = dm, rho = 4)
    m <- mv_ref(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = "SPLIN", data = d, dist = dm, rho = 4)
    expect_gs_equal(f, m)
    expect_gs_ll_at(quote(rma.mv(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = "SPLIN", data = d,
                                 dist = dm)), m)
  }
  # ML, a sigma2 component beside the term, and a fixed range
  f <- rma.mv(yi, vi, random = list(~ 1 | study, ~ x1 + x2 | study), struct = "SPEXP", data = d, method = "ML")
  m <- gs_ref(yi, vi, random = list(~ 1 | study, ~ x1 + x2 | study), struct = "SPEXP", data = d, method = "ML", f = f)
  expect_gs_equal(f, m)
  f <- rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPGAU", data = d, rho = 2)
  m <- gs_ref(yi, vi, random = ~ x1 + x2 | study, struct = "SPGAU", data = d, rho = 2, f = f)
  expect_gs_equal(f, m)
  expect_identical(f$rho, 2)
})

test_that("spatial structures with a distance matrix match metafor (dat.maire2019)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.maire2019$dat
  dmat <- metadat::dat.maire2019$dmat
  # (metafor's documented example: rho starts at 10 so that the optimiser
  # does not stop at a local maximum)
  f <- rma.mv(s1, vars1, random = ~ site_station | const, struct = "SPGAU", data = dat, dist = list(dmat),
              control = list(rho.init = 10))
  m <- gs_ref(s1, vars1, random = ~ site_station | const, struct = "SPGAU", data = dat, dist = list(dmat),
              control = list(rho.init = 10), f = f)
  expect_gs_equal(f, m)
  expect_gs_ll_at(quote(rma.mv(s1, vars1, random = ~ site_station | const, struct = "SPGAU", data = dat,
                               dist = list(dmat))), m)
  # (metafor's res3 of the example, with ~ 1 | site/station beside the
  # spatial term, is not compared: station is one per row, so sigma2 of the
  # stations and tau2 lie on a ridge, and neither metafor's nlminb at 1e-12
  # nor ours converges there)
  # a fixed range
  f <- rma.mv(s1, vars1, random = ~ site_station | const, struct = "SPEXP", data = dat, dist = list(dmat), rho = 20)
  m <- mv_ref(s1, vars1, random = ~ site_station | const, struct = "SPEXP", data = dat, dist = list(dmat), rho = 20)
  expect_gs_equal(f, m)
  # a distance function of the coordinates
  d <- gs_spatial_data()
  fd <- function(x) as.matrix(stats::dist(x, method = "minkowski", p = 3))
  f <- rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d, dist = list(fd))
  m <- gs_ref(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d, dist = list(fd), f = f)
  expect_gs_equal(f, m)
})

test_that("great-circle distances (dist = \"gcd\") match metafor with sp", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("sp")
  d <- gs_spatial_data()
  d$lon <- 5 + d$x1 / 3
  d$lat <- 45 + d$x2 / 4
  f <- rma.mv(yi, vi, random = ~ lon + lat | study, struct = "SPEXP", data = d, dist = "gcd")
  m <- gs_ref(yi, vi, random = ~ lon + lat | study, struct = "SPEXP", data = d, dist = "gcd", f = f)
  expect_gs_equal(f, m)
  expect_gs_ll_at(quote(rma.mv(yi, vi, random = ~ lon + lat | study, struct = "SPEXP", data = d, dist = "gcd")), m)
})

test_that("GEN and GDIAG (random slopes) match metafor", {
  skip_if_not_installed("metafor")
  d <- gs_slope_data()
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, mods = ~ x, random = ~ x | study, struct = "GEN", data = d, method = method)
    m <- mv_ref(yi, vi, mods = ~ x, random = ~ x | study, struct = "GEN", data = d, method = method)
    expect_gs_equal(f, m)
    expect_gs_ll_at(quote(rma.mv(yi, vi, mods = ~ x, random = ~ x | study, struct = "GEN", data = d,
                                 method = method)), m)
    f <- rma.mv(yi, vi, mods = ~ x, random = ~ x | study, struct = "GDIAG", data = d, method = method)
    m <- mv_ref(yi, vi, mods = ~ x, random = ~ x | study, struct = "GDIAG", data = d, method = method)
    expect_gs_equal(f, m)
  }
  # two slopes (three columns), and '~ x || study' (GDIAG)
  f <- rma.mv(yi, vi, mods = ~ x + z, random = ~ x + z | study, struct = "GEN", data = d)
  m <- mv_ref(yi, vi, mods = ~ x + z, random = ~ x + z | study, struct = "GEN", data = d)
  expect_gs_equal(f, m)
  f <- rma.mv(yi, vi, mods = ~ x, random = ~ x || study, struct = "GEN", data = d)
  m <- mv_ref(yi, vi, mods = ~ x, random = ~ x || study, struct = "GEN", data = d)
  expect_gs_equal(f, m)
  # a fixed variance (fitted on the (tau2, rho) scale)
  f <- rma.mv(yi, vi, mods = ~ x, random = ~ x | study, struct = "GEN", data = d, tau2 = c(NA, 0.02))
  m <- mv_ref(yi, vi, mods = ~ x, random = ~ x | study, struct = "GEN", data = d, tau2 = c(NA, 0.02))
  expect_gs_equal(f, m)
  # the fixed part of predict() (metafor gives no prediction interval for GEN)
  pf <- predict(f, newmods = c(-1, 0, 1))
  pm <- predict(m, newmods = c(-1, 0, 1))
  expect_equal(pf$pred, pm$pred, tolerance = tol_iter)
  expect_equal(pf$ci.lb, pm$ci.lb, tolerance = tol_iter)
  expect_null(pf$pi.lb)
})

test_that("GEN with a factor inner term (dat.berkey1998) matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.berkey1998
  V <- metafor::vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = dat)
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "GEN", data = dat)
  m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "GEN", data = dat)
  expect_gs_equal(f, m)
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "GDIAG", data = dat)
  m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "GDIAG", data = dat)
  expect_gs_equal(f, m)
})

test_that("methods of spatial and GEN fits", {
  skip_if_not_installed("metafor")
  d <- gs_spatial_data()
  f <- rma.mv(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = "SPEXP", data = d)
  m <- gs_ref(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = "SPEXP", data = d, f = f)
  expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = 1e-5)
  expect_equal(unname(rstandard(f)$z), unname(rstandard(m)$z), tolerance = 1e-5)
  expect_equal(unname(weights(f)), unname(weights(m)), tolerance = 1e-5)
  # case deletion refits (warm start at the fit)
  rf <- rstudent(f)
  rm <- rstudent(m)
  # (metafor's refits fail for some rows, NA; ours converge)
  ok <- !is.na(rm$z)
  expect_gt(sum(ok), 10)
  expect_equal(unname(rf$z[ok]), unname(rm$z[ok]), tolerance = 1e-6)
  expect_named(ranef(f), "~x1 + x2 | study")  # (against metafor in test-rma-mv-gen-sp-methods.R)
  expect_output(print(f), "tau\\^2")
})

test_that("bad input of GEN and spatial terms: named errors", {
  d <- gs_spatial_data()
  expect_error(rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "CS", data = d), "single inner variable")
  expect_error(rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d, dist = "cosine"), "dist")
  expect_error(rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d, rho = -1), "rho")
  d1 <- d[!duplicated(d$study), ]
  expect_error(rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d1), "single level of the inner term")
  d$x1[3] <- NA
  expect_error(rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d), "missing values")
  expect_error(rma.mv(yi, vi, random = ~ 1 | study, struct = "SPEXP", data = d, dist = "manhattan", foo = 1), "foo")
})
