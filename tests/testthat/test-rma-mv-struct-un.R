# rma.mv() '~ inner | outer' terms with struct HCS, UN and HAR (heteroscedastic
# compound symmetry, unstructured, heteroscedastic AR(1)) against
# metafor::rma.mv() run with tight optimiser settings.  Tolerances as
# test-rma-mv-struct.R: beta and SE 1e-6 relative (tol_iter), variance
# components 1e-5, log-likelihoods 1e-8 at metafor's estimates (our fit with
# every component fixed there).

un_tol_vc <- 1e-5
un_tol_ll <- 1e-8

# What metafor reports for a fit with inner | outer terms (f ours, m metafor's).
expect_un_equal <- function(f, m) {
  expect_s3_class(f, "mf_rma_mv")
  expect_true(f$convergence$converged)
  # (variances near 0 relative to 0.01: there the likelihood is flat;
  # correlations, on [-1, 1], absolute)
  for (nm in c("sigma2", "tau2", "rho", "gamma2", "phi")) {
    expect_equal(length(f[[nm]]), length(m[[nm]]), info = nm)
    fl <- if (nm %in% c("rho", "phi")) 1 else 0.01
    expect_lt(max(abs(f[[nm]] - m[[nm]]) / pmax(abs(m[[nm]]), fl)), un_tol_vc)
  }
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(f$se, m$se, tolerance = tol_iter)
  expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
  expect_equal(f$QE, m$QE, tolerance = tol_closed)
  expect_equal(f$QM, m$QM, tolerance = tol_iter)
  expect_equal(f$parms, m$parms)
  expect_equal(f$vc.fix, m$vc.fix)
  expect_equal(f$struct, m$struct)
  expect_equal(f$withG, m$withG)
  expect_equal(f$withH, m$withH)
  for (w in c("g", "h")) {
    if (!isTRUE(m[[paste0("with", toupper(w))]])) next
    for (fld in c(".names", ".nlevels", ".nlevels.f", ".levels.f", ".levels.k", ".levels.comb.k"))
      expect_equal(f[[paste0(w, fld)]], m[[paste0(w, fld)]], info = paste0(w, fld))
  }
  expect_equal(as.matrix(f$fit.stats), as.matrix(m$fit.stats), tolerance = tol_iter)
  # the variance-components section of print() as metafor prints it
  vc <- function(x) {
    out <- capture.output(print(x))
    out <- out[seq(grep("^Variance Components", out), grep("^Test for", out)[1L] - 1L)]
    trimws(gsub("\033\\[[0-9;]*m", "", out), "right")
  }
  expect_identical(vc(f), vc(m))
}

# the log-likelihoods at metafor's estimates (our fit with everything fixed there)
expect_un_ll_at <- function(call, m) {
  for (nm in c("tau2", "rho", "gamma2", "phi"))
    if (isTRUE(m[[paste0("with", if (nm %in% c("tau2", "rho")) "G" else "H")]]))
      call[[nm]] <- m[[nm]]
  if (isTRUE(m$withS)) call$sigma2 <- m$sigma2
  f <- suppressWarnings(eval(call, parent.frame()))
  expect_equal(f$fit.stats["ll", ], m$fit.stats["ll", ], tolerance = un_tol_ll)
}

# dat.berkey1998 with its 2 x 2 sampling covariance blocks (v1i, v2i)
un_berkey <- function() {
  dat <- metadat::dat.berkey1998
  V <- metafor::bldiag(lapply(split(dat[c("v1i", "v2i")], dat$trial), as.matrix))
  list(dat = dat, V = V)
}

test_that("UN over ~ outcome | trial on dat.berkey1998 matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  b <- un_berkey()
  dat <- b$dat
  V <- b$V
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat, method = method)
    m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat, method = method)
    expect_un_equal(f, m)
    expect_un_ll_at(quote(rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat,
                                 method = method)), m)
  }
  # a fixed correlation; a fixed variance
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat, rho = 0.3)
  m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat, rho = 0.3)
  expect_un_equal(f, m)
  expect_identical(f$rho, 0.3)
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat, tau2 = c(NA, 0.02))
  m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat, tau2 = c(NA, 0.02))
  expect_un_equal(f, m)
  # HCS and HAR with two inner levels are UN
  for (st in c("HCS", "HAR")) {
    f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = st, data = dat)
    m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = st, data = dat)
    expect_un_equal(f, m)
  }
})

# Multivariate data: n studies reporting 1 to 3 of the outcomes a, b, c with
# unstructured true effects (variances 0.04, 0.09, 0.02; correlations 0.6,
# 0.3, 0.5), a moderator, rows shuffled.
un_sim <- function(n = 40, seed = 11, drop = 0.3) {
  set.seed(seed)
  S <- matrix(c(1, 0.6, 0.3, 0.6, 1, 0.5, 0.3, 0.5, 1), 3)
  s <- sqrt(c(0.04, 0.09, 0.02))
  G <- S * tcrossprod(s)
  U <- matrix(rnorm(3 * n), n) %*% chol(G)
  d <- do.call(rbind, lapply(seq_len(n), function(i) {
    keep <- runif(3) > drop
    if (!any(keep)) keep[sample(3, 1)] <- TRUE
    data.frame(study = i, outcome = c("a", "b", "c")[keep], u = U[i, keep])
  }))
  d$x <- rnorm(nrow(d))
  d$vi <- runif(nrow(d), 0.01, 0.05)
  d$yi <- c(a = 0.2, b = 0.4, c = 0)[d$outcome] + 0.1 * d$x + d$u + rnorm(nrow(d), 0, sqrt(d$vi))
  d[sample(nrow(d)), ]
}

test_that("UN and HCS with three inner levels on simulated data match metafor", {
  skip_if_not_installed("metafor")
  dat <- un_sim()
  for (st in c("UN", "HCS")) for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, mods = ~ outcome + x, random = ~ outcome | study, struct = st, data = dat, method = method)
    m <- mv_ref(yi, vi, mods = ~ outcome + x, random = ~ outcome | study, struct = st, data = dat, method = method)
    expect_un_equal(f, m)
    expect_un_ll_at(quote(rma.mv(yi, vi, mods = ~ outcome + x, random = ~ outcome | study, struct = st, data = dat,
                                 method = method)), m)
  }
  # fixed components given as vectors with NA
  f <- rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = dat, tau2 = c(NA, 0.1, NA), rho = c(NA, 0.2, NA))
  m <- mv_ref(yi, vi, random = ~ outcome | study, struct = "UN", data = dat, tau2 = c(NA, 0.1, NA), rho = c(NA, 0.2, NA))
  expect_un_equal(f, m)
  expect_identical(f$tau2[2], 0.1)
  expect_identical(f$rho[2], 0.2)
  f <- rma.mv(yi, vi, random = ~ outcome | study, struct = "HCS", data = dat, tau2 = c(0.05, NA, NA), rho = 0.4)
  m <- mv_ref(yi, vi, random = ~ outcome | study, struct = "HCS", data = dat, tau2 = c(0.05, NA, NA), rho = 0.4)
  expect_un_equal(f, m)
  # a t test
  f <- rma.mv(yi, vi, mods = ~ x, random = ~ outcome | study, struct = "UN", data = dat, test = "t")
  m <- mv_ref(yi, vi, mods = ~ x, random = ~ outcome | study, struct = "UN", data = dat, test = "t")
  expect_un_equal(f, m)
  expect_equal(f$ddf, m$ddf)
})

test_that("boundary cases: a level in one study, pairs that never meet, a level removed by NAs", {
  skip_if_not_installed("metafor")
  dat <- un_sim(30, seed = 5)
  # outcome "d" in one study only: its variance fixed to 0 with metafor's
  # warning; its pairs with the other outcomes never or once occur
  d1 <- rbind(dat, data.frame(study = 3, outcome = "d", u = 0, x = 0.1, vi = 0.02, yi = 0.3))
  expect_warning(f <- rma.mv(yi, vi, random = ~ outcome | study, struct = "HCS", data = d1), "k=1")
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ outcome | study, struct = "HCS", data = d1))
  expect_un_equal(f, m)
  expect_identical(f$tau2[4], 0)
  # UN there: a variance fixed, every correlation estimated (a cycle), so
  # metafor's Cholesky scale with the fixed values overwriting (this was an
  # error before that scale landed).  The correlations of "d" (variance 0)
  # leave the likelihood: metafor reports what its optimiser left there,
  # metafast the start's 0
  f <- suppressWarnings(rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = d1))
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ outcome | study, struct = "UN", data = d1))
  expect_true(f$convergence$converged)
  expect_equal(f$tau2, m$tau2, tolerance = un_tol_vc)
  expect_equal(f$rho[c(1, 2, 4)], m$rho[c(1, 2, 4)], tolerance = un_tol_vc)
  expect_identical(f$rho[c(3, 5, 6)], c(0, 0, 0))
  expect_equal(as.numeric(logLik(f)), as.numeric(logLik(m)), tolerance = un_tol_ll)
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(f$se, m$se, tolerance = tol_iter)
  # outcomes a and c never in the same study: their correlation fixed to 0
  d2 <- dat[!(dat$outcome == "c" & dat$study %in% dat$study[dat$outcome == "a"]), ]
  expect_warning(f <- rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = d2), "never occurred")
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ outcome | study, struct = "UN", data = d2))
  expect_un_equal(f, m)
  expect_identical(f$rho[2], 0)
  # every row of outcome "b" has a missing yi: the level stays, its
  # components fixed to 0 (metafor's warnings)
  d3 <- dat
  d3$yi[d3$outcome == "b"] <- NA
  for (st in c("UN", "HCS", "DIAG")) {
    f <- suppressWarnings(rma.mv(yi, vi, random = ~ outcome | study, struct = st, data = d3))
    m <- suppressWarnings(mv_ref(yi, vi, random = ~ outcome | study, struct = st, data = d3))
    expect_un_equal(f, m)
  }
  expect_warning(rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = d3), "removed due to NAs")
})

# Longitudinal data: 30 studies with 2 to 5 of the time points 1..5,
# heteroscedastic AR(1) true effects, a study-level sigma2.
un_time <- function(seed = 8) {
  set.seed(seed)
  n <- 2 + (seq_len(30) %% 4)
  d <- data.frame(study = rep(seq_len(30), n))
  d$time <- sequence(n)
  d$vi <- runif(nrow(d), 0.02, 0.06)
  sd_t <- c(0.15, 0.2, 0.25, 0.3, 0.35)
  e <- unlist(lapply(n, function(m) as.numeric(arima.sim(list(ar = 0.6), m, sd = 0.8)) * sd_t[seq_len(m)]))
  d$yi <- 0.2 + 0.05 * d$time + rnorm(30, 0, 0.1)[d$study] + e + rnorm(nrow(d), 0, sqrt(d$vi))
  d
}

test_that("HAR over time matches metafor, alone and beside a sigma2 term", {
  skip_if_not_installed("metafor")
  dat <- un_time()
  f <- rma.mv(yi, vi, mods = ~ time, random = ~ time | study, struct = "HAR", data = dat)
  m <- mv_ref(yi, vi, mods = ~ time, random = ~ time | study, struct = "HAR", data = dat)
  expect_un_equal(f, m)
  expect_un_ll_at(quote(rma.mv(yi, vi, mods = ~ time, random = ~ time | study, struct = "HAR", data = dat)), m)
  f <- rma.mv(yi, vi, random = list(~ 1 | study, ~ time | study), struct = "HAR", data = dat, method = "ML")
  m <- mv_ref(yi, vi, random = list(~ 1 | study, ~ time | study), struct = "HAR", data = dat, method = "ML")
  expect_un_equal(f, m)
  f <- rma.mv(yi, vi, random = ~ time | study, struct = "HAR", data = dat, rho = 0.5)
  m <- mv_ref(yi, vi, random = ~ time | study, struct = "HAR", data = dat, rho = 0.5)
  expect_un_equal(f, m)
})

test_that("two terms: struct = c(\"UN\", \"CS\") (gamma2, phi) and c(\"CS\", \"UN\") with one term match metafor", {
  skip_if_not_installed("metafor")
  # (the simulated data plus region effects: UN over outcomes within
  # studies, CS over outcomes within regions)
  dat <- un_sim()
  dat$region <- (dat$study - 1) %% 8 + 1
  set.seed(1)
  dat$yi <- dat$yi + rnorm(8, 0, 0.3)[dat$region]
  f <- rma.mv(yi, vi, random = list(~ outcome | study, ~ outcome | region), struct = c("UN", "CS"), data = dat)
  m <- mv_ref(yi, vi, random = list(~ outcome | study, ~ outcome | region), struct = c("UN", "CS"), data = dat)
  expect_un_equal(f, m)
  expect_un_ll_at(quote(rma.mv(yi, vi, random = list(~ outcome | study, ~ outcome | region), struct = c("UN", "CS"),
                               data = dat)), m)
  dat <- un_sim(40, seed = 3, drop = 0.2)
  dat$region <- (dat$study - 1) %% 6 + 1
  f <- rma.mv(yi, vi, random = list(~ 1 | study, ~ outcome | region), struct = c("CS", "UN"), data = dat)
  m <- mv_ref(yi, vi, random = list(~ 1 | study, ~ outcome | region), struct = c("CS", "UN"), data = dat)
  expect_un_equal(f, m)
})

test_that("bad input and methods of UN/HCS/HAR fits: named errors", {
  dat <- un_sim(20)
  expect_error(rma.mv(yi, vi, random = ~ outcome | study, struct = c("UN", "CS", "CS"), data = dat), "'struct'.*length 3")
  expect_error(rma.mv(yi, vi, random = ~ outcome | study, struct = "UNR", data = dat), "UNR.*metafor")
  expect_error(rma.mv(yi, vi, random = ~ outcome + x | study, struct = "UN", data = dat), "single inner variable")
  expect_error(rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = dat, tau2 = c(0.1, 0.2)),
               "'tau2' has length 2 but the model has 3")
  expect_error(rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = dat, rho = c(0.1, 0.2)),
               "'rho' has length 2 but the model has 3")
  expect_error(rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = dat, rho = c(0.1, 2, 0)), "'rho'")
  expect_error(rma.mv(yi, vi, random = ~ outcome | study, struct = "HCS", data = dat, tau2 = c(0.1, -1, NA)), "'tau2'")
  expect_error(rma.mv(yi, vi, random = list(~ outcome | study, ~ outcome | x), struct = c("CS", "UN"), data = dat,
                      phi = c(0.1, 0.2)), "'phi' has length 2")
  # predict() of a UN fit (it was an error until predict(tau2.levels =) landed):
  # metafor's values, the interval of each row's own level
  f <- rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", data = dat)
  m <- mv_ref(yi, vi, random = ~ outcome | study, struct = "UN", data = dat)
  p1 <- predict(f)
  p2 <- metafor::predict.rma(m)
  for (nm in c("pred", "se", "pi.lb", "pi.ub")) expect_equal(as.vector(p1[[nm]]), as.vector(p2[[nm]]), tolerance = 1e-5)
  expect_identical(as.character(p1$tau2.level), as.character(p2$tau2.level))
})

test_that("UN with a correlation fixed: metafor's estimate that is not positive semi-definite, and metafor's where the free correlations form a cycle", {
  skip_if_not_installed("metafor")
  # metafor fits UN on the Cholesky scale and overwrites the fixed rho: the
  # free correlations (a path between the levels) may take any value in
  # [-1, 1], so its estimate, like ours, has a negative eigenvalue here
  set.seed(42)
  R <- matrix(c(1, 0.1, 0.7, 0.1, 1, -0.6, 0.7, -0.6, 1), 3)
  L <- t(chol(R * 0.2))
  d <- do.call(rbind, lapply(1:40, function(s) data.frame(study = s, outcome = factor(c("a", "b", "c")),
                                                          yi = c(L %*% rnorm(3)) + rnorm(3, 0, 0.2), vi = 0.04)))
  for (rho in list(c(0.9, NA, NA), c(NA, 0.9, NA), c(-0.5, NA, NA))) {
    lab <- paste(rho, collapse = ",")
    f <- suppressWarnings(rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", rho = rho, data = d))
    m <- mv_ref(yi, vi, random = ~ outcome | study, struct = "UN", rho = rho, data = d)
    expect_equal(as.numeric(logLik(f)), as.numeric(logLik(m)), tolerance = tol_iter, label = lab)
    expect_equal(f$tau2, m$tau2, tolerance = 1e-5, label = lab)
    expect_equal(f$rho, m$rho, tolerance = 1e-5, label = lab)
    expect_equal(c(f$beta), c(m$beta), tolerance = 1e-5, label = lab)
    if (identical(rho[1], 0.9)) {
      expect_lt(min(eigen(m$G, only.values = TRUE)$values), -1e-4)
      Rf <- diag(3)
      Rf[lower.tri(Rf)] <- f$rho
      Rf[upper.tri(Rf)] <- t(Rf)[upper.tri(Rf)]
      expect_lt(min(eigen(Rf * tcrossprod(sqrt(f$tau2)), only.values = TRUE)$values), -1e-4)
    }
  }
  # a tau2 fixed, every rho estimated (a cycle): metafor keeps the
  # correlation matrix positive semi-definite (log-likelihood -73.132 against
  # -73.115 of the box's maximum); so does metafast, on metafor's scale (an
  # error before that scale landed)
  f <- rma.mv(yi, vi, random = ~ outcome | study, struct = "UN", tau2 = c(0.05, NA, NA), data = d)
  m <- mv_ref(yi, vi, random = ~ outcome | study, struct = "UN", tau2 = c(0.05, NA, NA), data = d)
  expect_un_equal(f, m)
  expect_equal(as.numeric(logLik(f)), -73.132, tolerance = 1e-3 / 73)
  Rf <- diag(3)
  Rf[lower.tri(Rf)] <- f$rho
  Rf[upper.tri(Rf)] <- t(Rf)[upper.tri(Rf)]
  expect_gt(min(eigen(Rf, only.values = TRUE)$values), -1e-8)
  # the rule: free correlations without a cycle among the levels
  g <- list(n_lev = 3L, fixed_r = c(0.9, NA, NA))
  expect_true(metafast:::.mf_mv_free_r_forest(g))
  expect_false(metafast:::.mf_mv_free_r_forest(list(n_lev = 3L, fixed_r = rep(NA_real_, 3))))
  # 4 levels, pairs (2,1), (3,1), (4,1), (3,2), (4,2), (4,3): 12, 23, 34, 41 free is a cycle
  expect_false(metafast:::.mf_mv_free_r_forest(list(n_lev = 4L, fixed_r = c(NA, 0, NA, NA, 0, NA))))
  expect_true(metafast:::.mf_mv_free_r_forest(list(n_lev = 4L, fixed_r = c(NA, 0, NA, 0, 0, NA))))
})
