# The numerics that R reads from the core after a fit (src/core/qprofile.hpp,
# leverage.hpp, estimators.hpp, wald_qm): compared with metafor.

test_that("Q-profile bounds at 1e-150 and 1e100 scale and without an intercept match metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  mods <- list(int = ~ 1, ablat = ~ ablat, noint = ~ ablat - 1, alloc0 = ~ factor(alloc) - 1)
  for (nm in names(mods)) for (s in c(1, 1e-150, 1e100)) {
    info <- paste(nm, s)
    sc <- dat
    sc$yi <- dat$yi * s
    sc$vi <- dat$vi * s^2
    cf <- confint(rma(yi, vi, mods = mods[[nm]], data = sc))
    cm <- confint(metafor::rma(yi, vi, mods = mods[[nm]], data = dat, control = metafor_tight), control = list(tol = 1e-12))
    unit <- c(s^2, s, 1, 1)
    expect_equal(cf$random[, c("ci.lb", "ci.ub")] / unit, cm$random[, c("ci.lb", "ci.ub")], tolerance = tol_iter, info = info)
    expect_equal(cf$lb.sign, cm$lb.sign, info = info)
    expect_equal(cf$ub.sign, cm$ub.sign, info = info)
  }
})

test_that("Q-profile with tau2.min > 0 and a given tau2.max matches metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (mods in list(~ ablat, ~ ablat - 1)) {
    f <- rma(yi, vi, mods = mods, data = dat)
    m <- metafor::rma(yi, vi, mods = mods, data = dat, control = metafor_tight)
    for (con in list(list(tau2.min = 0.01), list(tau2.min = 0.2), list(tau2.max = 0.3), list(tau2.min = 0.01, tau2.max = 5))) {
      info <- paste(deparse(mods), deparse(con))
      cf <- confint(f, control = con)
      cm <- suppressMessages(confint(m, control = c(con, tol = 1e-12)))
      expect_equal(cf$random[, c("ci.lb", "ci.ub")], cm$random[, c("ci.lb", "ci.ub")], tolerance = tol_closed, info = info)
      expect_equal(cf$lb.sign, cm$lb.sign, info = info)
      expect_equal(cf$ub.sign, cm$ub.sign, info = info)
    }
  }
})

test_that("Q-profile with tau2.min below -min(vi) gives NA bounds with two warnings, as metafor", {
  # (regression: the core searched on an undefined Q and reported the null set)
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (con in list(list(tau2.min = -0.2), list(tau2.min = -2 * min(dat$vi)))) {
    info <- deparse(con)
    m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
    wm <- character(0)
    cm <- withCallingHandlers(confint(m, control = con),
                              warning = function(w) { wm <<- c(wm, conditionMessage(w)); invokeRestart("muffleWarning") })
    wf <- character(0)
    cf <- withCallingHandlers(confint(rma(yi, vi, mods = ~ ablat, data = dat), control = con),
                              warning = function(w) { wf <<- c(wf, conditionMessage(w)); invokeRestart("muffleWarning") })
    expect_true(all(is.na(cm$random[, c("ci.lb", "ci.ub")])), info = info)  # what metafor does
    expect_equal(is.na(cf$random[, c("ci.lb", "ci.ub")]), is.na(cm$random[, c("ci.lb", "ci.ub")]), info = info)
    expect_false(any(is.nan(cf$random)), info = info)
    expect_length(wf, length(wm))
    expect_match(wf, "iterative search for the (lower|upper) bound", all = TRUE)
  }
})

test_that("hatvalues, rstandard and augment's leverages match metafor with and without user weights", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  wt <- c(2, 1, 1, 3, 1, 2, 1, 4, 1, 1, 2, 1, 1)
  for (w in list(NULL, wt)) for (mods in list(~ 1, ~ ablat, ~ ablat + factor(alloc))) {
    info <- paste(is.null(w), deparse(mods))
    dat$w <- if (is.null(w)) NULL else w
    f <- if (is.null(w)) rma(yi, vi, mods = mods, data = dat) else rma(yi, vi, weights = w, mods = mods, data = dat)
    m <- if (is.null(w)) metafor::rma(yi, vi, mods = mods, data = dat, control = metafor_tight)
         else metafor::rma(yi, vi, weights = w, mods = mods, data = dat, control = metafor_tight)
    expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = tol_iter, info = info)
    rf <- rstandard(f); rm <- stats::rstandard(m)
    expect_equal(rf$se, rm$se, tolerance = tol_iter, info = info)
    expect_equal(rf$z, rm$z, tolerance = tol_iter, info = info)
    if (requireNamespace("generics", quietly = TRUE)) {
      a <- generics::augment(f)
      expect_equal(a$.hat, unname(hatvalues(m)), tolerance = tol_iter, info = info)
      expect_equal(a$.weight, unname(weights(m)), tolerance = tol_iter, info = info)
    }
  }
})

test_that("anova Wald tests (btt and contrasts) match metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (test in c("z", "knha")) {
    f <- rma(yi, vi, mods = ~ ablat + factor(alloc), data = dat, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat + factor(alloc), data = dat, test = test, control = metafor_tight)
    for (btt in list(2, 2:4, 3:4)) {
      a <- anova(f, btt = btt); b <- metafor::anova.rma(m, btt = btt)
      expect_equal(a$QM, b$QM, tolerance = tol_iter, info = paste(test, deparse(btt)))
      expect_equal(a$QMp, b$QMp, tolerance = tol_iter, info = paste(test, deparse(btt)))
    }
    L <- rbind(c(1, 30, 0, 0), c(1, 30, 1, 0), c(0, 0, 1, -1))
    a <- anova(f, X = L); b <- metafor::anova.rma(m, X = L)
    expect_equal(a$QM, b$QM, tolerance = tol_iter, info = test)
    expect_equal(c(a$zval), c(b$zval), tolerance = tol_iter, info = test)
  }
})

test_that("the estimator table drives names, aliases, codes and properties", {
  tab <- metafast:::.mf_estimators()
  expect_setequal(tab$name, c("EE", "FE", "CE", "DL", "HE", "CO", "VC", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM",
                              "MP", "GENQ", "GENQM", "DLIT", "SJIT", "PMM"))
  expect_equal(tab$canonical[tab$name %in% c("CO", "VC", "MP")], c("HE", "HE", "PM"))
  expect_equal(tab$name[tab$user_weights], c("GENQ", "GENQM"))
  expect_equal(tab$canonical[tab$name %in% c("FE", "CE")], c("EE", "EE"))
  expect_equal(tab$name[tab$likelihood], c("ML", "REML"))
  expect_equal(tab$name[tab$warm_start], c("ML", "REML", "EB"))
  expect_equal(tab$name[tab$iterative], c("ML", "REML", "EB", "PM", "MP", "GENQM", "DLIT", "SJIT", "PMM"))
  expect_equal(anyDuplicated(tab$code[tab$name == tab$canonical]), 0L)
  dat <- bcg_data()
  # the fit keeps the name given, as metafor (the engine uses the canonical one)
  expect_equal(rma(yi, vi, data = dat, method = "FE")$method, "FE")
  expect_error(rma(yi, vi, data = dat, method = "XX"), "use one of EE, FE, CE, DL")
  expect_error(rma(yi, vi, data = dat, test = "F"), "'test' must be one of 'z', 't', 'knha'")
  # every estimator's code reaches the core: each name gives metafor's estimate
  skip_if_not_installed("metafor")
  dat$w <- 1 / (dat$vi + 0.1)  # (the weights of GENQ and GENQM)
  for (m in tab$name) {
    if (m == "GENQM" && !requireNamespace("CompQuadForm", quietly = TRUE)) next  # (metafor needs it)
    w <- if (tab$user_weights[tab$name == m]) dat$w
    f <- rma(yi, vi, weights = w, mods = ~ ablat, data = dat, method = m)
    r <- metafor::rma(yi, vi, weights = w, mods = ~ ablat, data = dat, method = m, control = metafor_tight)
    expect_equal(f$tau2, r$tau2, tolerance = tol_iter, info = m)
    expect_equal(is.na(f$se.tau2), is.na(r$se.tau2) || !tab$has_se[tab$name == m], info = m)
  }
})

test_that("the test table gives the t / F reference distributions", {
  expect_equal(metafast:::.mf_tests()$name[metafast:::.mf_tests()$tdist], c("t", "knha"))
  expect_equal(metafast:::.mf_tdist(c("z", "t", "knha")), c(FALSE, TRUE, TRUE))
})

test_that("user weights are scale-invariant: weights times 1e-200 ... 1e200 give metafor's fit with the weights", {
  # (issue 18 item 3: weights of 1e-200 or 1e200 gave se 0 or Inf; the exact
  # reference is metafor's fit with the unscaled weights)
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$w0 <- c(2, 1, 1, 3, 1, 2, 1, 4, 1, 1, 2, 1, 1) / 3
  cs <- if (test_level() >= 2) 10^c(-300, -250, -200, -100, -20, 20, 100, 200, 250, 300) else c(1e-200, 1e200)
  methods <- if (test_level() >= 2) c("EE", "DL", "REML", "ML", "HE", "SJ", "PM", "GENQ") else c("DL", "GENQ", "REML")
  for (m in methods) for (test in c("z", "knha")) {
    r <- metafor::rma(yi, vi, weights = w0, mods = ~ ablat, data = dat, method = m, test = test,
                      control = metafor_tight)
    for (cc in cs) {
      info <- paste(m, test, cc)
      dat$w <- dat$w0 * cc
      f <- rma(yi, vi, weights = w, mods = ~ ablat, data = dat, method = m, test = test)
      expect_equal(f$tau2, r$tau2, tolerance = tol_iter, info = info)
      expect_equal(c(f$beta), c(r$beta), tolerance = tol_iter, info = info)
      expect_equal(unname(f$se), unname(r$se), tolerance = tol_iter, info = info)
      expect_equal(f$QM, r$QM, tolerance = tol_iter, info = info)
      expect_equal(unname(weights(f)), unname(weights(r)), tolerance = tol_iter, info = info)
      expect_equal(unname(hatvalues(f)), unname(hatvalues(r)), tolerance = tol_iter, info = info)
      expect_equal(rstandard(f)$z, stats::rstandard(r)$z, tolerance = tol_iter, info = info)
      if (m == "DL" && test == "z") {
        inf_f <- influence(f)$inf; inf_r <- stats::influence(r)$inf
        for (col in c("rstudent", "dffits", "cook.d", "cov.r", "hat"))
          expect_equal(unname(inf_f[[col]]), unname(inf_r[[col]]), tolerance = 1e-5, info = paste(info, col))
        f0 <- rma(yi, vi, weights = w, data = dat, method = m)
        r0 <- metafor::rma(yi, vi, weights = w0, data = dat, method = m, control = metafor_tight)
        expect_equal(leave1out(f0)$se, metafor::leave1out(r0)$se, tolerance = tol_iter, info = info)
      }
    }
  }
})

test_that("control$tau2.min is the lower bound of every estimator, as in metafor", {
  # (issue 18 item 5: tau2.min was accepted and ignored)
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$w <- 1 / (dat$vi + 0.1)
  methods <- if (test_level() >= 2) c("DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM", "GENQ", "DLIT", "SJIT")
             else c("DL", "HE", "SJ", "ML", "REML", "EB", "PM", "GENQ", "DLIT")
  for (m in methods) for (tmin in c(0.05, 0.5, 2)) for (mods in list(~ 1, ~ ablat)) {
    info <- paste(m, tmin, deparse(mods))
    w <- if (m %in% c("GENQ", "GENQM")) dat$w
    r <- suppressWarnings(metafor::rma(yi, vi, weights = w, mods = mods, data = dat, method = m,
                                       control = c(metafor_tight, tau2.min = tmin)))  # (its local-maximum warning)
    f <- rma(yi, vi, weights = w, mods = mods, data = dat, method = m, control = list(tau2.min = tmin))
    expect_gte(f$tau2, tmin)
    expect_equal(f$tau2, r$tau2, tolerance = tol_iter, info = info)
    expect_equal(f$se.tau2, r$se.tau2, tolerance = 1e-5, info = info)
    expect_equal(c(f$beta), c(r$beta), tolerance = tol_iter, info = info)
    expect_equal(unname(f$se), unname(r$se), tolerance = tol_iter, info = info)
    # the refit and resampling kernels read the same control
    if (m == "REML" && tmin == 0.5 && deparse(mods) == "~1") {
      expect_equal(leave1out(f)$tau2, metafor::leave1out(r)$tau2, tolerance = tol_iter, info = info)
      cf <- confint(f); cm <- confint(r, control = list(tol = 1e-12))  # (both search from the fit's tau2.min)
      expect_equal(cf$random[, c("ci.lb", "ci.ub")], cm$random[, c("ci.lb", "ci.ub")], tolerance = tol_iter, info = info)
    }
  }
})

