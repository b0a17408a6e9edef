# anova(): Wald tests over btt, linear contrasts and LRTs vs metafor.

test_that("Wald test over btt matches metafor (z and knha)", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (meth in c("REML", "DL", "EE")) for (test in c("z", "knha")) {
    info <- paste(meth, test)
    f <- rma(yi, vi, mods = ~ ablat + factor(alloc), data = dat, method = meth, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat + factor(alloc), data = dat, method = meth, test = test,
                      control = metafor_tight)
    for (btt in list(NULL, 2, 3:4, "alloc")) {
      a <- if (is.null(btt)) anova(f) else anova(f, btt = btt)
      b <- if (is.null(btt)) anova(m) else anova(m, btt = btt)
      expect_equal(a$QM, b$QM, tolerance = tol_iter, info = info)
      expect_equal(a$QMp, b$QMp, tolerance = tol_iter, info = info)
      expect_equal(a$QMdf, b$QMdf, info = info)
      expect_equal(a$btt, b$btt, info = info)
    }
  }
})

test_that("linear contrasts X match metafor, with the omnibus test", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (test in c("z", "knha")) {
    f <- rma(yi, vi, mods = ~ factor(alloc), data = dat, test = test)
    m <- metafor::rma(yi, vi, mods = ~ factor(alloc), data = dat, test = test, control = metafor_tight)
    X <- rbind(c(0, 1, -1), c(0, 1, 0))
    a <- anova(f, X = X); b <- anova(m, X = X)
    expect_equal(c(a$Xb), c(b$Xb), tolerance = tol_iter)
    expect_equal(a$se, b$se, tolerance = tol_iter)
    expect_equal(a$zval, b$zval, tolerance = tol_iter)
    expect_equal(a$pval, b$pval, tolerance = tol_iter)
    expect_equal(a$QM, b$QM, tolerance = tol_iter)
    expect_equal(a$QMp, b$QMp, tolerance = tol_iter)
    expect_equal(a$QMdf, b$QMdf, ignore_attr = TRUE)
    expect_equal(a$hyp, b$hyp[[1]])
    # p - 1 columns: the intercept is added
    a1 <- anova(f, X = c(1, 0)); b1 <- anova(m, X = c(1, 0))
    expect_equal(c(a1$Xb), c(b1$Xb), tolerance = tol_iter)
  }
  expect_error(anova(f, X = c(1, 2, 3, 4)), "columns")
})

test_that("LRT between nested ML fits matches metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  f1 <- rma(yi, vi, mods = ~ ablat, data = dat, method = "ML")
  f0 <- rma(yi, vi, data = dat, method = "ML")
  m1 <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "ML", control = metafor_tight)
  m0 <- metafor::rma(yi, vi, data = dat, method = "ML", control = metafor_tight)
  for (ord in list(c(1, 0), c(0, 1))) {
    a <- if (ord[1] == 1) anova(f1, f0) else anova(f0, f1)
    b <- anova(m1, m0)
    expect_equal(a$LRT, b$LRT, tolerance = tol_iter)
    expect_equal(a$pval, b$pval, tolerance = tol_iter)
    expect_equal(a$R2, b$R2, tolerance = tol_iter)
    expect_equal(a$parms.f, b$parms.f); expect_equal(a$parms.r, b$parms.r)
    expect_equal(unname(a$fit.stats.f), unname(b$fit.stats.f), tolerance = tol_iter)
    expect_equal(unname(a$fit.stats.r), unname(b$fit.stats.r), tolerance = tol_iter)
    expect_equal(c(a$QE.f, a$QE.r, a$tau2.f, a$tau2.r), c(b$QE.f, b$QE.r, b$tau2.f, b$tau2.r), tolerance = tol_iter)
  }
  expect_output(print(anova(f1, f0)), "Full\\s+3\\s+21.3713")
  expect_output(print(anova(f1, f0)), "Reduced\\s+2\\s+29.3302.*9.9588\\s+0.0016")
})

test_that("LRT: REML with different fixed effects warns; ML vs REML is an error; EE", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  r1 <- rma(yi, vi, mods = ~ ablat, data = dat)
  r0 <- rma(yi, vi, data = dat)
  expect_warning(a <- anova(r1, r0), "REML comparisons")
  b <- suppressWarnings(anova(metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight),
                              metafor::rma(yi, vi, data = dat, control = metafor_tight)))
  expect_equal(a$LRT, b$LRT, tolerance = tol_iter)
  expect_error(anova(r1, rma(yi, vi, data = dat, method = "ML")), "Mismatch")
  expect_error(anova(r0, rma(yi, vi, data = dat)), "same number of parameters")
  e1 <- rma(yi, vi, mods = ~ ablat, data = dat, method = "EE")
  e0 <- rma(yi, vi, data = dat, method = "EE")
  a <- anova(e1, e0)
  b <- anova(metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "EE"),
             metafor::rma(yi, vi, data = dat, method = "EE"))
  expect_equal(a$LRT, b$LRT, tolerance = tol_closed)
  expect_equal(a$R2, b$R2, tolerance = tol_closed)
  # the same tau2 estimate in the full and reduced model as a REML fit with fixed-effects equal
  tdat <- dat; tdat$yi2 <- tdat$yi + 1
  expect_error(anova(r1, rma(yi2, vi, data = tdat)), "differ")
})

test_that("LRT with refit = TRUE refits REML fits with ML, as metafor's", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  r1 <- rma(yi, vi, mods = ~ ablat, data = dat)
  r0 <- rma(yi, vi, data = dat)
  expect_silent(a <- anova(r1, r0, refit = TRUE))
  b <- anova(metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight),
             metafor::rma(yi, vi, data = dat, control = metafor_tight), refit = TRUE)
  expect_identical(a$method, b$method)
  expect_equal(a$LRT, b$LRT, tolerance = tol_iter)
  expect_equal(a$pval, b$pval, tolerance = tol_iter)
  expect_equal(c(a$tau2.f, a$tau2.r, a$R2), c(b$tau2.f, b$tau2.r, b$R2), tolerance = tol_iter)
  expect_equal(unname(a$fit.stats.f), unname(b$fit.stats.f), tolerance = tol_iter)
  expect_error(anova(r1, r0, refit = NA), "'refit'")
})

test_that("anova prints Wald tests and contrasts", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_output(print(anova(f)), "QM\\(df = 1\\) = 16.3582, p-val < .0001")
  k <- rma(yi, vi, mods = ~ ablat, data = dat, test = "knha")
  expect_output(print(anova(k)), "F\\(df1 = 1, df2 = 11\\)")
  expect_output(print(anova(f, X = rbind(c(1, 10), c(1, 30)))), "intrcpt \\+ 10\\*ablat = 0")
  expect_output(print(anova(f, X = rbind(c(1, 10), c(1, 30)))), "QM\\(df = 2\\) = 54.6630")
})

test_that("btt given unsorted, with duplicates, non-integer or negative is read as metafor reads it", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  dat <- metafor::escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
  f <- rma(yi, vi, mods = ~ ablat + year + alloc, data = dat)
  m <- metafor::rma(yi, vi, mods = ~ ablat + year + alloc, data = dat, tau2 = f$tau2)
  for (b in list(c(3, 2), c(2, 2, 3), c(2.2, 3.4), c(4, 2, 9), -1, c(-1, -2), 2:3)) {
    a <- anova(f, btt = b)
    r <- metafor::anova.rma(m, btt = b)
    expect_equal(a$btt, r$btt, info = deparse(b))
    # (at the same tau^2; metafor's normal equations of a design with year ~ 1950 hold ~1e-9)
    expect_equal(a$QM, r$QM, tolerance = 1e-7, info = deparse(b))
  }
})
