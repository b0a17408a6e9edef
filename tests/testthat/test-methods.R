# Extractors, print and summary of mf_rma fits vs metafor (rma.uni methods).

fit_pair <- function(method, mods, test = "z", dat = bcg_data()) {
  list(f = rma(yi, vi, mods = mods, data = dat, method = method, test = test),
       m = metafor::rma(yi, vi, mods = mods, data = dat, method = method, test = test,
                        control = metafor_tight))
}

grid <- expand.grid(method = c("REML", "DL", "EE", "ML"), test = c("z", "knha"),
                    model = c("int", "ablat", "alloc"), stringsAsFactors = FALSE)
mods_of <- list(int = ~ 1, ablat = ~ ablat, alloc = ~ factor(alloc))

test_that("coef, vcov, fitted, residuals, rstandard, weights, hatvalues match metafor", {
  skip_if_not_installed("metafor")
  for (i in seq_len(nrow(grid))) {
    g <- grid[i, ]
    pr <- fit_pair(g$method, mods_of[[g$model]], g$test)
    f <- pr$f; m <- pr$m
    info <- paste(g$method, g$test, g$model)
    tol <- if (g$method %in% c("REML", "ML")) tol_iter else tol_closed
    expect_equal(coef(f), coef(m), tolerance = tol, info = info)
    expect_equal(unname(vcov(f)), unname(vcov(m)), tolerance = tol, info = info)
    expect_equal(unname(fitted(f)), unname(fitted(m)), tolerance = tol, info = info)
    expect_equal(unname(residuals(f)), unname(residuals(m)), tolerance = tol, info = info)
    expect_equal(unname(residuals(f, type = "pearson")), unname(residuals(m, type = "pearson")),
                 tolerance = tol, info = info)
    expect_equal(unname(residuals(f, type = "rstandard")), unname(residuals(m, type = "rstandard")),
                 tolerance = tol, info = info)
    rf <- rstandard(f); rm <- rstandard(m)
    expect_equal(rf$resid, rm$resid, tolerance = tol, info = info)
    expect_equal(rf$se, rm$se, tolerance = tol, info = info)
    expect_equal(rf$z, rm$z, tolerance = tol, info = info)
    expect_equal(unname(weights(f)), unname(weights(m)), tolerance = tol, info = info)
    expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = tol, info = info)
    expect_equal(nobs(f), nobs(m))
    expect_equal(unname(model.matrix(f)), unname(model.matrix(m)), info = info)
  }
})

test_that("logLik, deviance, AIC, BIC, AICc match metafor (REML vs ML as metafor)", {
  skip_if_not_installed("metafor")
  for (meth in c("REML", "ML", "DL", "EE")) for (mods in mods_of) {
    pr <- fit_pair(meth, mods)
    f <- pr$f; m <- pr$m
    info <- paste(meth, deparse(mods))
    lf <- logLik(f); lm <- logLik(m)
    expect_s3_class(lf, "logLik")
    expect_equal(c(unclass(lf)), c(unclass(lm)), tolerance = tol_iter, info = info)
    expect_equal(attr(lf, "df"), attr(lm, "df"), info = info)
    expect_equal(attr(lf, "nobs"), attr(lm, "nobs"), info = info)
    expect_equal(c(unclass(logLik(f, REML = FALSE))), c(unclass(logLik(m, REML = FALSE))), tolerance = tol_iter)
    expect_equal(deviance(f), deviance(m), tolerance = tol_iter, info = info)
    expect_equal(AIC(f), AIC(m), tolerance = tol_iter, info = info)
    expect_equal(AIC(f, correct = TRUE), AIC(m, correct = TRUE), tolerance = tol_iter, info = info)
    expect_equal(BIC(f), BIC(m), tolerance = tol_iter, info = info)
  }
})

test_that("AIC and BIC of several models give a table", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  f1 <- rma(yi, vi, mods = ~ ablat, data = dat, method = "ML")
  f0 <- rma(yi, vi, data = dat, method = "ML")
  m1 <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "ML", control = metafor_tight)
  m0 <- metafor::rma(yi, vi, data = dat, method = "ML", control = metafor_tight)
  a <- AIC(f1, f0)
  expect_equal(a$AIC, AIC(m1, m0)$AIC, tolerance = tol_iter)
  expect_equal(a$df, c(3, 2))
  expect_equal(BIC(f1, f0)$BIC, BIC(m1, m0)$BIC, tolerance = tol_iter)
})

test_that("formula() and hat values sum to p", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_equal(formula(f), ~ ablat, ignore_attr = TRUE)
  expect_equal(sum(hatvalues(f)), 2, tolerance = 1e-10)
  w <- rma(yi, vi, mods = ~ ablat, data = dat, weights = rep(1, 13))
  expect_equal(sum(hatvalues(w)), 2, tolerance = 1e-10)
})

test_that("rstandard with user weights matches metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  wt <- seq(1, 3, length.out = 13)
  f <- rma(yi, vi, mods = ~ ablat, data = dat, weights = wt)
  m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, weights = wt, control = metafor_tight)
  expect_equal(rstandard(f)$se, rstandard(m)$se, tolerance = tol_iter)
  expect_equal(rstandard(f)$z, rstandard(m)$z, tolerance = tol_iter)
  expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = tol_iter)
  expect_equal(unname(weights(f)), unname(weights(m)), tolerance = tol_closed)
})

test_that("rows with missing values: na.omit drops, na.exclude pads", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  dat$yi[3] <- NA
  f <- suppressWarnings(rma(yi, vi, mods = ~ ablat, data = dat))
  m <- suppressWarnings(metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight))
  expect_length(residuals(f), 12)
  expect_equal(unname(rstandard(f)$z), unname(rstandard(m)$z), tolerance = tol_iter)
  old <- options(na.action = "na.exclude"); on.exit(options(old))
  expect_length(residuals(f), 13)
  expect_true(is.na(residuals(f)[3]))
  expect_equal(unname(weights(f)), unname(weights(m)), tolerance = tol_iter)
})

test_that("print and summary read like metafor", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_output(print(f), "Mixed-Effects Model \\(k = 13; tau\\^2 estimator: REML\\)")
  expect_output(print(f), "tau\\^2 \\(estimated amount of residual heterogeneity\\):     0.0763 \\(SE = 0.0590\\)")
  expect_output(print(f), "R\\^2 \\(amount of heterogeneity accounted for\\):            75.63%")
  expect_output(print(f), "QE\\(df = 11\\) = 30.7331, p-val = 0.0012")
  expect_output(print(f), "QM\\(df = 1\\) = 16.3582, p-val < .0001")
  expect_output(print(f), "ablat\\s+-0.0291\\s+0.0072\\s+-4.0445\\s+<.0001\\s+-0.0432\\s+-0.0150\\s+\\*\\*\\*")
  expect_output(print(summary(f)), "logLik\\s+deviance\\s+AIC\\s+BIC\\s+AICc")
  expect_output(print(summary(f)), "-8.0873\\s+16.1746\\s+22.1746\\s+23.3683\\s+25.6032")
  r <- rma(yi, vi, data = dat)
  expect_output(print(r), "Random-Effects Model \\(k = 13; tau\\^2 estimator: REML\\)")
  expect_output(print(r), "I\\^2 \\(total heterogeneity / total variability\\):   92.22%")
  expect_output(print(r), "Q\\(df = 12\\) = 152.2330")
  e <- rma(yi, vi, data = dat, method = "EE")
  expect_output(print(e), "Equal-Effects Model \\(k = 13\\)")
  k <- rma(yi, vi, mods = ~ factor(alloc), data = dat, test = "knha")
  expect_output(print(k), "F\\(df1 = 2, df2 = 10\\)")
  expect_output(print(k), "tval")
})

test_that("print notes a fallback estimator", {
  dat <- bcg_data()
  f <- rma(yi, vi, data = dat)
  f$convergence$fallbacks <- "SJ"
  f$convergence$method <- "REML"
  expect_output(print(f), "Note: SJ did not converge")
  f$convergence$fallbacks <- character(0)
  f$convergence$converged <- FALSE
  expect_output(print(f), "did not converge")
})

test_that("generics tidiers follow the broom conventions", {
  skip_if_not_installed("generics")
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  td <- generics::tidy(f, conf.int = TRUE)
  expect_named(td, c("term", "estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high"))
  expect_equal(td$estimate, unname(coef(m)), tolerance = tol_iter)
  expect_equal(td$conf.low, m$ci.lb, tolerance = tol_iter)
  expect_equal(td$p.value, m$pval, tolerance = tol_iter)
  expect_equal(generics::tidy(f, conf.int = TRUE, conf.level = 0.9)$conf.high,
               metafor::rma(yi, vi, mods = ~ ablat, data = dat, level = 90, control = metafor_tight)$ci.ub,
               tolerance = tol_iter)
  gl <- generics::glance(f)
  expect_equal(nrow(gl), 1L)
  expect_equal(gl$tau2, m$tau2, tolerance = tol_iter)
  expect_equal(gl$logLik, c(unclass(logLik(m))), tolerance = tol_iter)
  au <- generics::augment(f)
  expect_equal(nrow(au), 13L)
  expect_equal(au$.std.resid, rstandard(m)$z, tolerance = tol_iter)
  expect_equal(au$.hat, unname(hatvalues(m)), tolerance = tol_iter)
})

test_that("update() refits with new arguments", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  f <- rma(yi, vi, data = dat)
  g <- update(f, mods = ~ ablat)
  m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  expect_equal(coef(g), coef(m), tolerance = tol_iter)
  h <- update(f, method = "DL")
  expect_equal(h$tau2, metafor::rma(yi, vi, data = dat, method = "DL")$tau2, tolerance = tol_closed)
  u <- update(g, ~ . + factor(alloc))
  mu <- metafor::rma(yi, vi, mods = ~ ablat + factor(alloc), data = dat, control = metafor_tight)
  expect_equal(unname(coef(u)), unname(coef(mu)), tolerance = tol_iter)
  expect_true(is.call(update(f, method = "ML", evaluate = FALSE)))
})
