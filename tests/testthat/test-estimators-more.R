# The estimators GENQ, GENQM, DLIT, SJIT and PMM (and metafor's aliases CO,
# VC, MP) against metafor::rma.uni() run with tight control, on three
# metadat data sets, with and without moderators, including a case at the
# tau2 = 0 boundary; and the confint() types PL, Wald(.log/.sqrt), HT and GENQ.

# |a - b| <= tol max(1, |b|) elementwise (values near 0 compared absolutely)
expect_close <- function(a, b, tol, label = "") {
  a <- unname(as.numeric(a)); b <- unname(as.numeric(b))
  expect_equal(length(a), length(b), label = label)
  expect_equal(is.na(a), is.na(b), label = label)
  ok <- !is.na(b)
  d <- ifelse(a[ok] == b[ok], 0, abs(a[ok] - b[ok]) / pmax(1, abs(b[ok])))  # (equal infinite bounds: 0)
  expect_true(all(d <= tol), label = sprintf("%s (max scaled difference %.3g)", label, if (length(d)) max(d) else 0))
}

compare_fit <- function(f, m, tol, label) {
  for (nm in c("tau2", "se.tau2", "beta", "se", "zval", "pval", "ci.lb", "ci.ub", "vb", "QE", "QEp", "QM", "QMp",
               "I2", "H2", "R2", "k", "p", "parms"))
    expect_close(f[[nm]], m[[nm]], tol, paste(label, nm))
  expect_close(as.matrix(f$fit.stats), as.matrix(m$fit.stats), tol, paste(label, "fit.stats"))
  expect_identical(f$method, m$method)
  expect_true(f$convergence$converged)
}

estim_cases <- function() {
  bcg <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  mol <- metafor::escalc("ZCOR", ri = ri, ni = ni, data = metadat::dat.molloy2014)
  hs <- metadat::dat.hackshaw1998
  list(
    bcg = list(data = bcg, mods = NULL, w = 1 / (bcg$vi + 0.1)),
    bcg.mods = list(data = bcg, mods = ~ ablat, w = 1 / (bcg$vi + 0.1)),
    molloy = list(data = mol, mods = NULL, w = mol$ni),
    molloy.mods = list(data = mol, mods = ~ meanage, w = mol$ni),
    hackshaw = list(data = hs, mods = NULL, w = 1 / hs$vi),
    hackshaw.mods = list(data = hs, mods = ~ year, w = sqrt(1 / hs$vi)),
    boundary = list(data = hs[11:20, ], mods = NULL, w = 1 / hs$vi[11:20])  # tau2 = 0
  )
}

fit_both <- function(cs, method, control = NULL) {
  d <- cs$data
  d$w <- cs$w
  args <- list(yi = d$yi, vi = d$vi, data = d, method = method)
  if (!is.null(cs$mods)) args$mods <- cs$mods
  if (method %in% c("GENQ", "GENQM")) args$weights <- d$w
  f <- do.call(metafast::rma, c(args, if (!is.null(control)) list(control = control)))
  m <- do.call(metafor::rma.uni, c(args, list(control = c(metafor_tight, control))))
  list(f = f, m = m)
}

test_that("DLIT, SJIT, PMM, GENQ and GENQM give metafor's fits", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  cases <- estim_cases()
  methods <- c("DLIT", "SJIT", "PMM", "GENQ", if (requireNamespace("CompQuadForm", quietly = TRUE)) "GENQM")
  for (cn in names(cases)) for (me in methods) {
    r <- fit_both(cases[[cn]], me)
    tol <- if (me == "GENQ") tol_closed else tol_iter
    compare_fit(r$f, r$m, tol, paste(cn, me))
    if (cn == "boundary") {
      if (me == "SJIT") expect_lt(r$f$tau2, 1e-8) else expect_identical(r$f$tau2, 0)
      expect_lt(r$m$tau2, 1e-8)
    }
  }
})

test_that("metafor's aliases CO, VC (HE) and MP (PM) are accepted", {
  skip_if_not_installed("metafor")
  cs <- estim_cases()$bcg.mods
  for (al in c("CO", "VC", "MP")) {
    f <- metafast::rma(yi, vi, mods = ~ ablat, data = cs$data, method = al)
    m <- metafor::rma.uni(yi, vi, mods = ~ ablat, data = cs$data, method = al, control = metafor_tight)
    expect_close(c(f$tau2, f$se.tau2, f$beta, f$se), c(m$tau2, m$se.tau2, m$beta, m$se), tol_iter, al)
  }
})

test_that("control$tau2.init and the iteration cap of DLIT and SJIT", {
  skip_if_not_installed("metafor")
  cs <- estim_cases()$bcg
  for (me in c("DLIT", "SJIT")) {
    r <- fit_both(cs, me, control = list(tau2.init = 2))
    expect_close(r$f$tau2, r$m$tau2, tol_iter, me)
    # maxiter = 2 is too few: metafor stops, so do we (naming the estimator)
    expect_error(metafast::rma(yi, vi, data = cs$data, method = me, control = list(maxiter = 2)), me)
    expect_error(metafor::rma.uni(yi, vi, data = cs$data, method = me, control = list(maxiter = 2)), "converge")
    # in a fallback chain the next estimator is used
    f <- metafast::rma(yi, vi, data = cs$data, method = c(me, "DL"), control = list(maxiter = 2))
    expect_identical(f$method, "DL")
    expect_identical(f$convergence$fallbacks, me)
  }
})

test_that("GENQ and GENQM need weights, as in metafor", {
  skip_if_not_installed("metafor")
  cs <- estim_cases()$bcg
  for (me in c("GENQ", "GENQM")) {
    expect_error(metafast::rma(yi, vi, data = cs$data, method = me), "weights")
    expect_error(metafor::rma.uni(yi, vi, data = cs$data, method = me), "weights")
  }
})

test_that("confint() types PL, Wald, Wald.log, Wald.sqrt and HT give metafor's intervals", {
  skip_if_not_installed("metafor")
  cases <- estim_cases()
  for (cn in c("bcg", "bcg.mods", "molloy.mods", "boundary")) for (me in c("REML", "ML", "DL", "PMM")) {
    r <- fit_both(cases[[cn]], me)
    for (ty in c("PL", "Wald", "Wald.log", "Wald.sqrt")) {
      a <- suppressWarnings(confint(r$f, type = ty))
      b <- suppressWarnings(confint(r$m, type = ty, control = list(tol = 1e-12)))
      tol <- if (ty == "PL") tol_iter else tol_iter  # (tau2 is iterative for these methods)
      expect_close(a$random, b$random, tol, paste(cn, me, ty))
      expect_identical(c(a$lb.sign, a$ub.sign), c(b$lb.sign, b$ub.sign))
    }
    if (is.null(cases[[cn]]$mods))
      expect_close(confint(r$f, type = "HT")$random, confint(r$m, type = "HT")$random, tol_iter, paste(cn, me, "HT"))
  }
  r <- fit_both(cases$bcg.mods, "REML")
  expect_error(confint(r$f, type = "HT"), "moderators")
  expect_error(confint(r$f, type = "GENQ"), "GENQ")
  expect_error(confint(r$f, type = "nope"), "'type'")
})

test_that("confint(type = 'GENQ') is the generalised Q-profile of metafor's objective", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("CompQuadForm")
  cases <- estim_cases()
  for (cn in c("bcg", "bcg.mods", "molloy.mods")) for (me in c("GENQ", "GENQM")) {
    r <- fit_both(cases[[cn]], me)
    a <- confint(r$f)  # the default type for these fits, as in metafor
    expect_identical(a, confint(r$f, type = "GENQ"))
    # metafor's confint uses uniroot's default tolerance: solve its objective tightly instead
    x <- r$m
    A <- diag(x$weights)
    P <- A - A %*% x$X %*% solve(crossprod(x$X, A) %*% x$X) %*% crossprod(x$X, A)
    Q <- c(crossprod(x$yi, P) %*% x$yi)
    root <- function(lower) stats::uniroot(metafor:::.GENQ.func, c(0, 100), P = P, vi = x$vi, Q = Q, level = 0.025,
                                           k = x$k, p = x$p, getlower = lower, tol = 1e-12)$root
    expect_close(a$random["tau^2", 2:3], c(root(TRUE), root(FALSE)), tol_iter, paste(cn, me, "GENQ"))
    b <- confint(x)
    # (and metafor's own bounds, to uniroot's default tolerance of about 1e-4)
    expect_close(a$random["tau^2", ], b$random["tau^2", ], 1e-3, paste(cn, me, "GENQ vs metafor's default"))
  }
})

test_that("confint(transf, targs) passes targs to transf as metafor does", {
  skip_if_not_installed("metafor")
  r <- fit_both(estim_cases()$bcg.mods, "REML")
  tf <- function(x, s) exp(x * s)
  a <- confint(r$f, fixed = TRUE, random = FALSE, transf = tf, targs = 2)
  b <- confint(r$m, fixed = TRUE, random = FALSE, transf = tf, targs = 2)
  expect_close(a$fixed, b$fixed, tol_closed, "targs")
  # a transf without an argument for targs: an error in both
  tf1 <- function(x) exp(x)
  expect_error(confint(r$f, fixed = TRUE, transf = tf1, targs = 2), "targs")
  expect_error(confint(r$m, fixed = TRUE, transf = tf1, targs = 2), "targs")
})
