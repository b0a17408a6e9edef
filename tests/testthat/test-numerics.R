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

# The exact reference of a reparametrised design: X = Z M (M invertible), so
# beta_X = M^-1 beta_Z and vb_X = M^-1 vb_Z M^-T; everything else is equal.
.nm_expect_reparam <- function(f, r, Minv, info, tol = tol_iter) {
  expect_equal(f$tau2, r$tau2, tolerance = tol, info = info)
  expect_equal(f$QE, r$QE, tolerance = tol, info = info)
  b <- drop(Minv %*% r$beta)
  vb <- Minv %*% r$vb %*% t(Minv)
  se <- sqrt(diag(vb))
  # element by element (coefficients of very different magnitudes)
  expect_lt(max(abs(c(f$beta) - b) / (abs(b) + se)), tol, label = paste("beta", info))
  expect_equal(unname(f$se / se), rep(1, length(se)), tolerance = tol, info = info)
  expect_equal(f$QM, r$QM, tolerance = tol, info = info)
  expect_equal(f$fit.stats$REML, r$fit.stats$REML, tolerance = tol, info = info)
  expect_equal(f$fit.stats$ML, r$fit.stats$ML, tolerance = tol, info = info)
  expect_equal(unname(hatvalues(f)), unname(hatvalues(r)), tolerance = tol, info = info)
  expect_equal(rstandard(f)$z, stats::rstandard(r)$z, tolerance = tol, info = info)
}

.nm_methods <- function() {
  if (test_level() >= 2) c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM", "GENQ",
                           if (requireNamespace("CompQuadForm", quietly = TRUE)) "GENQM",  # (metafor's GENQM needs it)
                           "DLIT", "SJIT")
  else c("DL", "REML", "PM")
}

test_that("offset moderators (x + 1e3 ... 1e12): exact fits, and columns dropped where metafor drops them", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$w <- 1 / (dat$vi + 0.1)
  offs <- if (test_level() >= 2) 10^(3:12) else c(1e4, 1e7, 1e12)
  for (m in .nm_methods()) {
    w <- if (m %in% c("GENQ", "GENQM")) dat$w
    r <- metafor::rma(yi, vi, weights = w, mods = ~ ablat, data = dat, method = m, control = metafor_tight)
    for (off in offs) {
      info <- paste(m, off)
      dat$xo <- dat$ablat + off
      wf <- character(0)
      f <- withCallingHandlers(rma(yi, vi, weights = w, mods = ~ xo, data = dat, method = m),
                               warning = function(w) { wf <<- c(wf, conditionMessage(w)); invokeRestart("muffleWarning") })
      wm <- character(0)
      rm <- withCallingHandlers(try(metafor::rma(yi, vi, weights = w, mods = ~ xo, data = dat, method = m,
                                                 control = metafor_tight), silent = TRUE),
                                warning = function(w) { wm <<- c(wm, conditionMessage(w)); invokeRestart("muffleWarning") })
      dropped_m <- any(grepl("Redundant predictors", wm))
      expect_equal(any(grepl("Redundant predictors", wf)), dropped_m, info = info)
      if (dropped_m) {
        expect_equal(rownames(f$beta), "intrcpt", info = info)
        r0 <- metafor::rma(yi, vi, weights = w, data = dat, method = m, control = metafor_tight)
        .nm_expect_reparam(f, r0, diag(1), info)
      } else {
        # x + off = (x) + off * 1: beta_int = b0 - off b1
        .nm_expect_reparam(f, r, rbind(c(1, -off), c(0, 1)), info)
      }
    }
  }
})

test_that("moderators scaled by 1e-250 ... 1e250: exact fits (power-of-two scaling inside the core)", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$w <- 1 / (dat$vi + 0.1)
  dat$year <- c(1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976)
  scs <- if (test_level() >= 2) 10^c(-150, -120, -100, -50, -10, 10, 50, 100, 120, 150) else c(1e-150, 1e120)
  # beyond ~1e150 the variances of the coefficient (1e300 / 1e-300 times the
  # unscaled one) are outside double precision: an error naming the coefficient
  # (metafor: "Model matrix not of full rank" at 1e-150 and below, an error in
  # eigen() at 1e200 and above)
  for (sc in c(1e-250, 1e-200, 1e200, 1e250)) {
    dat$xs <- dat$ablat * sc
    expect_error(rma(yi, vi, mods = ~ xs, data = dat), "'xs' are outside the range of double precision", info = sc)
  }
  for (m in .nm_methods()) {
    w <- if (m %in% c("GENQ", "GENQM")) dat$w
    r <- metafor::rma(yi, vi, weights = w, mods = ~ ablat + year, data = dat, method = m, control = metafor_tight)
    for (sc in scs) {
      info <- paste(m, sc)
      dat$xs <- dat$ablat * sc
      f <- expect_silent(rma(yi, vi, weights = w, mods = ~ xs + year, data = dat, method = m))
      .nm_expect_reparam(f, r, diag(c(1, 1 / sc, 1)), info)
      # no intercept: a single scaled column
      f1 <- rma(yi, vi, mods = ~ xs - 1, data = dat, method = m, weights = w)
      r1 <- metafor::rma(yi, vi, weights = w, mods = ~ ablat - 1, data = dat, method = m, control = metafor_tight)
      .nm_expect_reparam(f1, r1, matrix(1 / sc), paste(info, "no intercept"))
    }
  }
})

test_that("nearly collinear moderators: exact fits up to metafor's rank decision", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$w <- 1 / (dat$vi + 0.1)
  set.seed(18)
  dat$z <- round(stats::rnorm(13), 2)
  epss <- if (test_level() >= 2) 10^-(2:10) else c(1e-3, 1e-6, 1e-10)
  for (m in .nm_methods()) {
    w <- if (m %in% c("GENQ", "GENQM")) dat$w
    r <- metafor::rma(yi, vi, weights = w, mods = ~ ablat + z, data = dat, method = m, control = metafor_tight)
    for (eps in epss) {
      info <- paste(m, eps)
      dat$x2 <- dat$ablat + eps * dat$z
      wf <- character(0)
      f <- withCallingHandlers(rma(yi, vi, weights = w, mods = ~ ablat + x2, data = dat, method = m),
                               warning = function(w) { wf <<- c(wf, conditionMessage(w)); invokeRestart("muffleWarning") })
      wm <- character(0)
      rm <- withCallingHandlers(try(metafor::rma(yi, vi, weights = w, mods = ~ ablat + x2, data = dat, method = m,
                                                 control = metafor_tight), silent = TRUE),
                                warning = function(w) { wm <<- c(wm, conditionMessage(w)); invokeRestart("muffleWarning") })
      dropped_m <- any(grepl("Redundant predictors", wm))
      expect_equal(any(grepl("Redundant predictors", wf)), dropped_m, info = info)
      if (dropped_m) {
        expect_equal(rownames(f$beta), rownames(rm$beta), info = info)
      } else {
        # (metafor is inaccurate here, the reference is exact: at eps = 1e-5 it
        # drops nothing but stops with "Model matrix not of full rank" (its
        # eigenvalue check of X'X), and at 1e-3 / 1e-4 its Fisher scoring and
        # DLIT / SJIT iterations do not converge at threshold 1e-12 for some
        # estimators; metafast gives the exact fit.  metafast's QM at 1e-5 was
        # off by ~1e-3: it came from the mapped-back vb, whose rounding the
        # nearly singular vb[2:3, 2:3] amplifies by cond(X)^2; wald_qm_fit()
        # now computes it in the QR's orthonormal coordinates, issue 18)
        if (inherits(rm, "try-error"))
          expect_match(as.character(rm), "not of full rank|did not converge", info = info)
        # [1, a, a + eps z] = [1, a, z] M, M = [[1,0,0],[0,1,1],[0,0,eps]]
        Minv <- rbind(c(1, 0, 0), c(0, 1, -1 / eps), c(0, 0, 1 / eps))
        .nm_expect_reparam(f, r, Minv, info, tol = 1e-5)
      }
    }
  }
})

test_that("ill-conditioned designs in the refit kernels (influence) and rma.mv", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$xo <- dat$ablat + 1e6
  f <- rma(yi, vi, mods = ~ xo, data = dat)
  r <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  l <- influence(f)$inf; lr <- stats::influence(r)$inf
  expect_equal(unname(l$tau2.del), unname(lr$tau2.del), tolerance = tol_iter)
  expect_equal(unname(l$cook.d), unname(lr$cook.d), tolerance = 1e-5)
  dat$xs <- dat$ablat * 1e-120
  fs <- rma(yi, vi, mods = ~ xs, data = dat)
  expect_equal(confint(fs)$random, confint(r, control = list(tol = 1e-12))$random, tolerance = tol_iter)
  expect_equal(influence(fs)$inf$cook.d, unname(stats::influence(r)$inf$cook.d), tolerance = 1e-5)
  dat$es <- seq_len(nrow(dat)); dat$study <- rep(1:7, length.out = 13)
  mv <- rma.mv(yi, vi, mods = ~ xs, random = ~ 1 | study/es, data = dat)
  rv <- metafor::rma.mv(yi, vi, mods = ~ ablat, random = ~ 1 | study/es, data = dat)
  expect_equal(mv$sigma2, rv$sigma2, tolerance = 1e-5)
  expect_equal(c(mv$beta) * c(1, 1e-120), c(rv$beta), tolerance = 1e-5)
  expect_equal(unname(mv$se * c(1, 1e-120) / rv$se), c(1, 1), tolerance = 1e-5)
})

# The Wald statistic of L beta = rhs is invariant to a reparametrisation
# X = Z M of the design: with beta_X = Minv beta_Z it is the statistic of
# (L Minv) beta_Z = rhs, which metafor computes exactly from the
# well-conditioned fit on Z.  L Minv (entries of 1 / eps) is replaced by an
# orthonormal basis of its row space, G L Minv with G = R'^-1 from the QR of
# (L Minv)', and rhs by G rhs (the same hypothesis, well-conditioned).
.nm_wald_ref <- function(r, L, Minv, rhs = NULL) {
  LZ <- L %*% Minv
  q <- qr(t(LZ))
  C <- t(qr.Q(q))
  R <- qr.R(q)
  if (is.null(rhs)) return(metafor::anova.rma(r, X = C)$QM)
  metafor::anova.rma(r, X = C, rhs = backsolve(R, rhs, transpose = TRUE))$QM
}

test_that("anova(), permutest() and robust() Wald statistics on nearly collinear designs are exact", {
  # (issue 18: they were formed from the mapped-back beta and vb, off by ~1e-3
  # at cond(X) ~ 1e7 as rma()'s own QM was; now in the fit's orthonormal
  # coordinates, R/wald.R)
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  set.seed(18)
  dat$z <- round(stats::rnorm(13), 2)
  dat$cl <- rep(1:5, length.out = 13)
  # (at 1e-6 metafor's rank decision drops x2, as metafast's does)
  epss <- if (test_level() >= 2) c(1e-3, 1e-4, 3e-5, 1e-5) else c(1e-4, 1e-5)
  methods <- if (test_level() >= 2) c("DL", "HE", "REML", "PM") else c("DL", "REML")
  I3 <- diag(3)
  for (m in methods) for (test in c("z", "knha")) {
    r <- metafor::rma(yi, vi, mods = ~ ablat + z, data = dat, method = m, test = test, control = metafor_tight)
    tol <- if (m %in% c("DL", "HE")) tol_closed else tol_iter
    for (eps in epss) {
      info <- paste(m, test, eps)
      dat$x2 <- dat$ablat + eps * dat$z
      f <- rma(yi, vi, mods = ~ ablat + x2, data = dat, method = m, test = test)
      expect_false(is.null(f$mf.wald), info = info)  # (the design is fitted in orthonormal coordinates)
      Minv <- rbind(c(1, 0, 0), c(0, 1, -1 / eps), c(0, 0, 1 / eps))
      for (btt in list(2, 3, 2:3, c(1, 3), 1:3)) {
        L <- I3[btt, , drop = FALSE]
        expect_equal(anova(f, btt = btt)$QM, .nm_wald_ref(r, L, Minv), tolerance = tol, info = paste(info, deparse(btt)))
      }
      expect_equal(anova(f, btt = 2:3, rhs = c(0.01, -0.02))$QM,
                   .nm_wald_ref(r, I3[2:3, ], Minv, rhs = c(0.01, -0.02)), tolerance = tol, info = info)
      for (L in list(rbind(c(0, 1, 1)), rbind(c(0, 1, -1), c(1, 40, 0)), rbind(c(1, 10, 20)))) {
        expect_equal(anova(f, X = L)$QM, .nm_wald_ref(r, L, Minv), tolerance = tol, info = paste(info, deparse(L)))
      }
      expect_equal(anova(f, X = rbind(c(0, 1, -1), c(1, 40, 0)), rhs = c(0.5, 1))$QM,
                   .nm_wald_ref(r, rbind(c(0, 1, -1), c(1, 40, 0)), Minv, rhs = c(0.5, 1)), tolerance = tol, info = info)

      # permutation tests: the observed QM, and each permutation's QM equals
      # that of the well-conditioned design [1, ablat, z] under the same rows
      if (m == "DL") {
        fz <- rma(yi, vi, mods = ~ ablat + z, data = dat, method = m, test = test)
        for (btt in list(2:3, 3)) {
          set.seed(7); pf <- permutest(f, iter = 50, btt = btt, progress = FALSE)
          set.seed(7); pz <- permutest(fz, iter = 50, btt = btt, progress = FALSE)
          expect_equal(pf$QM, .nm_wald_ref(r, I3[btt, , drop = FALSE], Minv), tolerance = tol, info = paste(info, "perm"))
          expect_equal(pf$QM.perm, pz$QM.perm, tolerance = tol, info = paste(info, "perm dist"))
          expect_equal(pf$QMp, pz$QMp, info = paste(info, "perm p"))
        }
      }

      # robust(): the sandwich in the orthonormal coordinates (default and
      # clubSandwich CR2 with HTZ); vb maps to Minv vb_Z Minv'
      if (m %in% c("DL", "REML")) for (cs in c(FALSE, TRUE)) {
        rf <- robust(f, cluster = dat$cl, clubSandwich = cs)
        rr <- metafor::robust(r, cluster = dat$cl, clubSandwich = cs)
        ii <- paste(info, "robust", cs)
        expect_equal(rf$QM, rr$QM, tolerance = tol, info = ii)
        expect_equal(rf$QMp, rr$QMp, tolerance = tol, info = ii)
        vb <- Minv %*% rr$vb %*% t(Minv)
        expect_equal(unname(rf$se / sqrt(diag(vb))), rep(1, 3), tolerance = tol, info = ii)
        expect_equal(unname(rf$zval), unname(c(Minv %*% rr$beta) / sqrt(diag(vb))), tolerance = tol, info = ii)
        # (Satterthwaite df of the intercept and x2: those of the intercept and z)
        if (cs) expect_equal(unname(rf$ddf[c(1, 3)]), unname(rr$ddf[c(1, 3)]), tolerance = tol, info = ii)
        for (btt in list(3, 2:3)) {
          L <- I3[btt, , drop = FALSE]
          ar <- .nm_wald_ref(rr, L, Minv)
          expect_equal(anova(rf, btt = btt)$QM, ar, tolerance = tol, info = paste(ii, deparse(btt)))
        }
      }
    }
  }
})

test_that("rma.mv() QM and anova() on nearly collinear designs are exact", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  set.seed(18)
  dat$z <- round(stats::rnorm(13), 2)
  dat$es <- seq_len(13); dat$study <- rep(1:7, length.out = 13)
  I3 <- diag(3)
  r <- metafor::rma.mv(yi, vi, mods = ~ ablat + z, random = ~ 1 | study/es, data = dat)
  for (eps in c(1e-4, 1e-5)) {
    info <- paste("rma.mv", eps)
    dat$x2 <- dat$ablat + eps * dat$z
    f <- rma.mv(yi, vi, mods = ~ ablat + x2, random = ~ 1 | study/es, data = dat)
    expect_false(is.null(f$mf.wald), info = info)
    Minv <- rbind(c(1, 0, 0), c(0, 1, -1 / eps), c(0, 0, 1 / eps))
    expect_equal(f$sigma2, r$sigma2, tolerance = 1e-5, info = info)
    expect_equal(f$QM, r$QM, tolerance = 1e-5, info = info)
    for (btt in list(2, 3, c(1, 3))) {
      L <- I3[btt, , drop = FALSE]
      expect_equal(anova(f, btt = btt)$QM, .nm_wald_ref(r, L, Minv), tolerance = 1e-5,
                   info = paste(info, deparse(btt)))
    }
    L <- rbind(c(0, 1, -1), c(1, 40, 0))
    expect_equal(anova(f, X = L)$QM, .nm_wald_ref(r, L, Minv), tolerance = 1e-5, info = info)
    # robust() of an rma.mv fit: the sandwich in the orthonormal coordinates
    for (cs in c(FALSE, TRUE)) {
      rf <- robust(f, cluster = dat$study, clubSandwich = cs)
      rr <- metafor::robust(r, cluster = dat$study, clubSandwich = cs)
      ii <- paste(info, "robust", cs)
      expect_equal(rf$QM, rr$QM, tolerance = 1e-5, info = ii)
      vb <- Minv %*% rr$vb %*% t(Minv)
      expect_equal(unname(rf$se / sqrt(diag(vb))), rep(1, 3), tolerance = 1e-5, info = ii)
      ar <- .nm_wald_ref(rr, I3[3, , drop = FALSE], Minv)
      expect_equal(anova(rf, btt = 3)$QM, ar, tolerance = 1e-5, info = ii)
    }
  }
})
