# Oracle tests: rma() against metafor::rma() on simulated data.
#
# Grid: method x test x model x k (x true tau2).  Level 1 runs a reduced grid
# (a few seconds); the full grid runs with METAFAST_TEST_LEVEL >= 2.
#
# Data: yi ~ N(X b, vi + tau2), vi ~ U(0.01, 0.5), with set.seed per cell.

closed_methods <- c("EE", "DL", "HE", "HS", "HSk", "SJ")
iter_methods <- c("ML", "REML", "EB", "PM")
all_methods <- c(closed_methods, iter_methods)
all_tests <- c("z", "t", "knha")

# Simulate one data set.  model: "int" (intercept only), "cont" (one
# continuous moderator) or "fac" (a 3-level factor moderator).
oracle_data <- function(k, model, tau2, seed) {
  set.seed(seed)
  x <- stats::rnorm(k)
  f <- factor(sample(rep_len(c("a", "b", "c"), k)))
  vi <- stats::runif(k, 0.01, 0.5)
  mu <- switch(model,
               int = rep(0.3, k),
               cont = 0.2 + 0.4 * x,
               fac = c(a = 0.1, b = 0.5, c = -0.2)[as.character(f)])
  yi <- stats::rnorm(k, mu, sqrt(vi + tau2))
  data.frame(yi = yi, vi = vi, x = x, f = f)
}

oracle_mods <- list(int = NULL, cont = ~ x, fac = ~ f)

# Compare every documented result field of a metafast fit `r` with a
# metafor fit `m`.  tau2 values below `tau2_zero` in both fits are compared
# on an absolute scale (metafor's Fisher scoring creeps towards the
# boundary instead of landing on 0); quantities that are ratios of such
# near-zero tau2 values (I2, H2, R2) are then compared absolutely too.
expect_rma_matches <- function(r, m, tol, info, tau2_zero = 1e-6, abs_tau2 = 1e-8) {
  num <- function(x) as.numeric(x)
  eq <- function(a, b, what, tolerance = tol) {
    expect_equal(num(a), num(b), tolerance = tolerance, info = paste(info, what))
  }
  near0 <- max(r$tau2, m$tau2) < tau2_zero
  eq(r$beta, m$beta, "beta")
  eq(r$se, m$se, "se")
  eq(r$zval, m$zval, "zval")
  eq(r$pval, m$pval, "pval")
  eq(r$ci.lb, m$ci.lb, "ci.lb")
  eq(r$ci.ub, m$ci.ub, "ci.ub")
  eq(r$vb, m$vb, "vb")
  if (near0) {
    expect_lt(abs(r$tau2 - m$tau2), abs_tau2, label = paste(info, "|tau2 - metafor|"))
    expect_lt(abs(r$I2 - m$I2), 100 * abs_tau2 / min(r$vi), label = paste(info, "|I2 - metafor|"))
    expect_lt(abs(r$H2 - m$H2), abs_tau2 / min(r$vi), label = paste(info, "|H2 - metafor|"))
  } else {
    eq(r$tau2, m$tau2, "tau2")
    eq(r$I2, m$I2, "I2")
    eq(r$H2, m$H2, "H2")
  }
  if (is.na(m$se.tau2)) expect_true(is.na(r$se.tau2), info = paste(info, "se.tau2 NA"))
  else eq(r$se.tau2, m$se.tau2, "se.tau2")
  eq(r$QE, m$QE, "QE")
  eq(r$QEp, m$QEp, "QEp")
  eq(r$QM, m$QM, "QM")
  eq(r$QMp, m$QMp, "QMp")
  expect_equal(r$k, m$k, info = paste(info, "k"))
  expect_equal(r$p, m$p, info = paste(info, "p"))
  expect_equal(r$test, m$test, info = paste(info, "test"))
  if (m$test != "z") expect_equal(num(r$ddf), num(m$ddf), info = paste(info, "ddf"))
  # R2 (pseudo R^2, Raudenbush 2009): NULL exactly when metafor gives NULL.
  # When tau2 of the intercept-only model is itself ~0, metafor's R2 is a
  # ratio of two round-off-sized numbers (e.g. 1e-13 / 9e-13); skip it then.
  if (is.null(m$R2)) {
    expect_null(r$R2, info = paste(info, "R2 NULL"))
  } else if (!is.na(m$R2)) {
    args0 <- list(yi = m$yi, vi = m$vi, method = m$method, control = metafor_tight)
    if (!is.null(m$weights)) args0$weights <- m$weights
    tau2_re <- if (m$method %in% c("EE", "FE", "CE")) Inf else do.call(metafor::rma, args0)$tau2
    if (tau2_re >= tau2_zero) {
      eq(r$R2, m$R2, "R2", tolerance = if (near0) max(tol, 1e-6) else tol)
    }
  }
  fr <- as.matrix(r$fit.stats[c("ll", "dev", "AIC", "BIC", "AICc"), c("ML", "REML")])
  fm <- as.matrix(m$fit.stats[c("ll", "dev", "AIC", "BIC", "AICc"), c("ML", "REML")])
  # fit statistics near tau2 = 0: the log-likelihood moves by |dll/dtau2| * 1e-8
  eq(fr, fm, "fit.stats", tolerance = if (near0) max(tol, 1e-6) else tol)
}

fit_both <- function(d, model, method, test, ...) {
  mods <- oracle_mods[[model]]
  if (is.null(mods)) {
    r <- rma(yi, vi, data = d, method = method, test = test, ...)
    m <- metafor::rma(yi, vi, data = d, method = method, test = test, control = metafor_tight, ...)
  } else {
    r <- rma(yi, vi, mods = mods, data = d, method = method, test = test, ...)
    m <- metafor::rma(yi, vi, mods = mods, data = d, method = method, test = test,
                      control = metafor_tight, ...)
  }
  list(r = r, m = m)
}

run_grid <- function(ks, models, methods, tests, tau2s) {
  seed <- 0L
  for (tau2 in tau2s) for (k in ks) for (model in models) {
    seed <- seed + 1L
    p <- switch(model, int = 1L, cont = 2L, fac = 3L)
    if (k < p + 1L && model != "int") next   # k = 2 only for intercept-only
    d <- oracle_data(k, model, tau2, seed = 20240 + seed)
    for (method in methods) for (test in tests) {
      info <- sprintf("[k=%d model=%s tau2=%g method=%s test=%s]", k, model, tau2, method, test)
      fits <- fit_both(d, model, method, test)
      tol <- if (method %in% closed_methods) tol_closed else tol_iter
      expect_rma_matches(fits$r, fits$m, tol, info)
    }
  }
}

test_that("rma() matches metafor over a reduced grid (level 1)", {
  skip_if_not_installed("metafor")
  run_grid(ks = 33L, models = c("int", "fac"), methods = all_methods, tests = "z", tau2s = 0.3)
  run_grid(ks = 10L, models = "cont", methods = all_methods, tests = "t", tau2s = 0.3)
  run_grid(ks = 5L, models = "fac", methods = all_methods, tests = "knha", tau2s = 0.3)
  run_grid(ks = 2L, models = "int", methods = all_methods, tests = "t", tau2s = 0.3)
  run_grid(ks = 10L, models = "cont", methods = c("DL", "REML", "ML", "PM"),
           tests = "knha", tau2s = 0)
})

test_that("rma() matches metafor over the full grid (level 2)", {
  skip_unless_level(2)
  skip_if_not_installed("metafor")
  run_grid(ks = c(2L, 5L, 10L, 33L, 200L), models = c("int", "cont", "fac"),
           methods = all_methods, tests = all_tests, tau2s = c(0.3, 0))
})

# ---- single features -------------------------------------------------------

oracle_feature_data <- function() oracle_data(20L, "cont", 0.2, seed = 777)

test_that("user weights match metafor", {
  skip_if_not_installed("metafor")
  d <- oracle_feature_data()
  d$w <- seq(1, 3, length.out = nrow(d))
  for (method in c("EE", "DL", "REML", "PM")) for (model in c("int", "cont")) {
    fits <- fit_both(d, model, method, "z", weights = d$w)
    tol <- if (method %in% closed_methods) tol_closed else tol_iter
    expect_rma_matches(fits$r, fits$m, tol, sprintf("[weights %s %s]", method, model))
    expect_equal(fits$r$weights, d$w)
  }
})

test_that("btt selects the tested coefficients as in metafor", {
  skip_if_not_installed("metafor")
  d <- oracle_feature_data()
  d$f <- factor(rep_len(c("a", "b", "c"), nrow(d)))
  for (test in c("z", "knha")) for (btt in list(2, 2:3, c(1, 4), "f")) {
    r <- rma(yi, vi, mods = ~ x + f, data = d, btt = btt, test = test)
    m <- metafor::rma(yi, vi, mods = ~ x + f, data = d, btt = btt, test = test, control = metafor_tight)
    info <- sprintf("[btt=%s test=%s]", paste(btt, collapse = ","), test)
    expect_equal(r$btt, m$btt, info = info)
    expect_equal(r$QM, m$QM, tolerance = tol_iter, info = info)
    expect_equal(r$QMp, m$QMp, tolerance = tol_iter, info = info)
    expect_equal(as.numeric(r$QMdf), as.numeric(m$QMdf), info = info)
  }
})

test_that("level = 90 gives metafor's intervals", {
  skip_if_not_installed("metafor")
  d <- oracle_feature_data()
  for (test in all_tests) for (level in c(90, 0.9, 99)) {
    r <- rma(yi, vi, mods = ~ x, data = d, level = level, test = test)
    m <- metafor::rma(yi, vi, mods = ~ x, data = d, level = level, test = test, control = metafor_tight)
    info <- sprintf("[level=%g test=%s]", level, test)
    expect_equal(r$level, m$level, info = info)
    expect_equal(as.numeric(r$ci.lb), as.numeric(m$ci.lb), tolerance = tol_iter, info = info)
    expect_equal(as.numeric(r$ci.ub), as.numeric(m$ci.ub), tolerance = tol_iter, info = info)
  }
})

test_that("fixed tau2 matches metafor", {
  skip_if_not_installed("metafor")
  d <- oracle_feature_data()
  for (tau2 in c(0, 1.3)) for (test in c("z", "knha")) for (model in c("int", "cont")) {
    fits <- fit_both(d, model, "REML", test, tau2 = tau2)
    info <- sprintf("[tau2 fixed=%g test=%s model=%s]", tau2, test, model)
    expect_identical(fits$r$tau2, tau2)
    expect_true(is.na(fits$r$se.tau2), info = info)
    expect_true(fits$r$tau2.fix, info = info)
    for (f in c("beta", "se", "pval", "ci.lb", "ci.ub", "QE", "QM", "QMp", "I2", "H2"))
      expect_equal(as.numeric(fits$r[[f]]), as.numeric(fits$m[[f]]), tolerance = tol_closed,
                   info = paste(info, f))
    expect_equal(fits$r$parms, fits$m$parms, info = info)
    expect_equal(as.matrix(fits$r$fit.stats), as.matrix(fits$m$fit.stats[, c("ML", "REML")]),
                 tolerance = tol_closed, ignore_attr = TRUE, info = info)
  }
})

test_that("intercept = FALSE with moderators matches metafor", {
  skip_if_not_installed("metafor")
  d <- oracle_data(30L, "fac", 0.2, seed = 4242)
  # metafor honours intercept = FALSE for matrix moderators; for formulas
  # the intercept is removed with "- 1".
  Xf <- stats::model.matrix(~ f - 1, d)
  cases <- list(list(mods = cbind(x = d$x), intercept = FALSE),
                list(mods = cbind(x = d$x, x2 = d$x^2), intercept = FALSE),
                list(mods = Xf, intercept = FALSE),
                list(mods = ~ f - 1, intercept = TRUE),
                list(mods = ~ x - 1, intercept = TRUE))
  for (method in c("DL", "REML")) for (i in seq_along(cases)) {
    cs <- cases[[i]]
    r <- rma(yi, vi, mods = cs$mods, data = d, method = method, intercept = cs$intercept)
    m <- metafor::rma(yi, vi, mods = cs$mods, data = d, method = method, intercept = cs$intercept,
                      control = metafor_tight)
    info <- sprintf("[no intercept %s case %d]", method, i)
    expect_equal(r$p, m$p, info = info)
    expect_false(r$int.incl)
    expect_rma_matches(r, m, if (method == "DL") tol_closed else tol_iter, info)
  }
})

test_that("formula with an interaction matches metafor (mods= and yi ~ formula)", {
  skip_if_not_installed("metafor")
  d <- oracle_data(40L, "fac", 0.2, seed = 99)
  for (method in c("HE", "REML", "PM")) {
    tol <- if (method %in% closed_methods) tol_closed else tol_iter
    r <- rma(yi, vi, mods = ~ x * f, data = d, method = method)
    m <- metafor::rma(yi, vi, mods = ~ x * f, data = d, method = method, control = metafor_tight)
    expect_equal(rownames(r$beta), rownames(m$beta))
    expect_rma_matches(r, m, tol, sprintf("[x*f %s]", method))
    r2 <- rma(yi ~ x * f, vi, data = d, method = method)
    expect_equal(as.numeric(r2$beta), as.numeric(m$beta), tolerance = tol)
    expect_equal(r2$tau2, m$tau2, tolerance = tol)
  }
})

test_that("fallback chain c('REML','DL') records the convergence", {
  skip_if_not_installed("metafor")
  d <- oracle_feature_data()
  # converging REML: no fallback used
  r <- rma(yi, vi, mods = ~ x, data = d, method = c("REML", "DL"))
  m <- metafor::rma(yi, vi, mods = ~ x, data = d, method = "REML", control = metafor_tight)
  expect_equal(r$method, "REML")
  expect_true(r$convergence$converged)
  expect_equal(r$convergence$method, "REML")
  expect_length(r$convergence$fallbacks, 0L)
  expect_equal(r$method.chain, c("REML", "DL"))
  expect_gt(r$convergence$iterations, 0L)
  expect_lt(abs(r$convergence$change), 1e-8)
  expect_equal(r$tau2, m$tau2, tolerance = tol_iter)
  # REML's Fisher scoring stopped after one iteration: the bracketed
  # root-finder takes over, the record says so, and the estimate is still
  # metafor's (tight) REML estimate; no fallback to DL is needed.
  r2 <- rma(yi, vi, mods = ~ x, data = d, method = c("REML", "DL"), control = list(maxiter = 1))
  expect_equal(r2$method, "REML")
  expect_true(r2$convergence$converged)
  expect_length(r2$convergence$fallbacks, 0L)
  expect_equal(r2$convergence$solver, "bracketed root-finder")
  expect_match(r2$convergence$message, "root-finder")
  expect_rma_matches(r2, m, tol_iter, "[REML via root-finder]")
  # metafor with the same setting cannot fit REML and falls back to DL
  m3 <- suppressWarnings(metafor::rma(yi, vi, mods = ~ x, data = d, method = c("REML", "DL"),
                                      control = list(maxiter = 1)))
  expect_equal(m3$method, "DL")
  # a chain of one closed-form estimator: converged, no iterations
  r4 <- rma(yi, vi, mods = ~ x, data = d, method = c("DL", "REML"))
  expect_equal(r4$convergence$method, "DL")
  expect_length(r4$convergence$fallbacks, 0L)
  expect_rma_matches(r4, metafor::rma(yi, vi, mods = ~ x, data = d, method = "DL"), tol_closed, "[DL first]")
})
