# Publication-bias tools against metafor: regtest, ranktest, trimfill, fsn,
# pet_peese.

# BCG vaccine trials (Colditz et al. 1994), log risk ratios (helper-bcg.R).
bcg <- bcg_lrr()[, c("yi", "vi", "ni", "ablat")]

# A funnel with small-study effects (small studies show larger effects).
asym <- local({
  set.seed(20240611)
  k <- 18
  vi <- stats::runif(k, 0.005, 0.15)
  yi <- 0.2 + 1.2 * sqrt(vi) + stats::rnorm(k, 0, sqrt(vi + 0.01))
  data.frame(yi = yi, vi = vi, ni = round(4 / vi))
})

test_that("regtest matches metafor for all models and predictors", {
  skip_if_not_installed("metafor")
  for (d in list(bcg, asym)) {
    for (test in c("z", "knha")) {
      f <- rma(yi, vi, data = d, test = test)
      m <- metafor::rma(yi, vi, data = d, test = test, control = metafor_tight)
      for (model in c("rma", "lm")) {
        tol <- if (model == "lm") tol_closed else tol_iter
        for (pred in c("sei", "vi", "ninv", "sqrtni")) {
          a <- regtest(f, model = model, predictor = pred, ni = d$ni)
          b <- metafor::regtest(m, model = model, predictor = pred, ni = d$ni)
          expect_equal(a$zval, unname(b$zval), tolerance = tol)
          expect_equal(a$pval, unname(b$pval), tolerance = tol)
          expect_identical(is.na(a$dfs), is.na(b$dfs))
          if (!is.na(b$dfs)) expect_equal(a$dfs, b$dfs)
          expect_identical(is.null(a$est), is.null(b$est))
          if (!is.null(b$est)) {
            expect_equal(a$est, unname(b$est), tolerance = tol)
            expect_equal(c(a$ci.lb, a$ci.ub), unname(c(b$ci.lb, b$ci.ub)), tolerance = tol)
          }
        }
      }
    }
  }
})

test_that("regtest on a meta-regression and the default method match metafor", {
  skip_if_not_installed("metafor")
  f <- rma(yi, vi, mods = ~ ablat, data = bcg)
  m <- metafor::rma(yi, vi, mods = ~ ablat, data = bcg, control = metafor_tight)
  a <- regtest(f)
  b <- metafor::regtest(m)
  expect_equal(a$zval, unname(b$zval), tolerance = tol_iter)
  expect_null(a$est)
  a <- regtest(asym$yi, asym$vi, model = "lm")
  b <- metafor::regtest(asym$yi, asym$vi, model = "lm")
  expect_equal(c(a$zval, a$pval, a$est), unname(c(b$zval, b$pval, b$est)), tolerance = tol_closed)
  a <- regtest(asym$yi, sei = sqrt(asym$vi), method = "DL")
  b <- metafor::regtest(asym$yi, sei = sqrt(asym$vi), method = "DL")
  expect_equal(c(a$zval, a$est), unname(c(b$zval, b$est)), tolerance = tol_iter)
  expect_output(print(regtest(rma(yi, vi, data = asym))), "Limit Estimate")
})

test_that("regtest gives clear errors", {
  f <- rma(yi, vi, data = bcg)
  expect_error(regtest(f, predictor = "ni"), "sample sizes")
  expect_error(regtest(f, predictor = "foo"), "predictor")
  expect_error(regtest(f, ni = 1:3, predictor = "ni"), "'ni' has length 3")
  expect_error(regtest(c(0.1, 0.2), c(0.01, 0.02)), "at least 3")
})

test_that("ranktest matches metafor", {
  skip_if_not_installed("metafor")
  for (d in list(bcg, asym)) {
    a <- ranktest(rma(yi, vi, data = d))
    b <- metafor::ranktest(metafor::rma(yi, vi, data = d))
    expect_equal(a$tau, unname(b$tau), tolerance = tol_closed)
    expect_equal(a$pval, b$pval, tolerance = tol_closed)
    a <- ranktest(d$yi, d$vi, exact = FALSE)
    b <- metafor::ranktest(d$yi, d$vi, exact = FALSE)
    expect_equal(a$pval, b$pval, tolerance = tol_closed)
  }
  expect_error(ranktest(c(0.1, 0.2), c(0.01, 0.02)), "at least 3")
  expect_error(ranktest(rma(yi, vi, mods = ~ ablat, data = bcg)), "without moderators")
  expect_output(print(ranktest(bcg$yi, bcg$vi)), "Kendall's tau")
})

test_that("trimfill matches metafor (k0, side, filled studies, refit)", {
  skip_if_not_installed("metafor")
  for (d in list(bcg, asym)) {
    f <- rma(yi, vi, data = d)
    # tight control: metafor passes it on to the fits of the trimmed data
    m <- metafor::rma(yi, vi, data = d, control = metafor_tight)
    for (est in c("L0", "R0", "Q0")) {
      for (side in list(NULL, "left", "right")) {
        b <- try(suppressWarnings(if (is.null(side)) metafor::trimfill(m, estimator = est)
                                  else metafor::trimfill(m, side = side, estimator = est)), silent = TRUE)
        if (inherits(b, "try-error")) {
          # metafor fails when Q0 is undefined; we give a clear error
          expect_error(trimfill(f, side = side, estimator = est), "undefined")
          next
        }
        a <- if (is.null(side)) trimfill(f, estimator = est) else trimfill(f, side = side, estimator = est)
        expect_identical(a$side, b$side)
        expect_equal(a$k0, b$k0)
        expect_equal(a$se.k0, b$se.k0, tolerance = 1e-6)
        if (est == "R0") expect_equal(a$p.k0, b$p.k0, tolerance = tol_closed)
        expect_identical(a$fill, b$fill)
        expect_equal(a$yi, c(b$yi), tolerance = tol_iter, ignore_attr = TRUE)
        expect_equal(a$vi, b$vi, tolerance = tol_closed)
        # the refit: against metafor converged tightly on the same data
        mt <- metafor::rma(c(b$yi), b$vi, control = metafor_tight)
        expect_equal(c(a$beta), c(mt$beta), tolerance = tol_iter)
        expect_equal(a$tau2, mt$tau2, tolerance = tol_iter)
        expect_equal(a$se, mt$se, tolerance = tol_iter, ignore_attr = TRUE)
        # and against metafor's own (default-converged) refit
        expect_equal(c(a$beta), c(b$beta), tolerance = 1e-5)
      }
    }
  }
  expect_gt(trimfill(rma(yi, vi, data = asym))$k0, 0)
})

test_that("trimfill output, class and errors", {
  tf <- trimfill(rma(yi, vi, data = asym))
  expect_s3_class(tf, c("mf_rma_filled", "mf_rma"))
  expect_output(print(tf), "Estimated number of missing studies on the left side")
  expect_output(print(trimfill(rma(yi, vi, data = asym), estimator = "R0")), "no missing studies")
  expect_error(trimfill(rma(yi, vi, mods = ~ ablat, data = bcg)), "without moderators")
  expect_error(trimfill(rma(yi, vi, data = bcg), estimator = "X0"), "estimator")
  expect_error(trimfill(1:3), "rma")
})

test_that("fsn matches metafor for Rosenthal, Orwin and Rosenberg", {
  skip_if_not_installed("metafor")
  for (d in list(bcg, asym)) {
    for (alpha in c(0.05, 0.01)) {
      expect_equal(fsn(yi, vi, data = d, alpha = alpha)$fsnum,
                   metafor::fsn(yi, vi, data = d, alpha = alpha)$fsnum)
      expect_equal(fsn(yi, vi, data = d, alpha = alpha)$pval,
                   metafor::fsn(yi, vi, data = d, alpha = alpha)$pval, tolerance = tol_closed)
      a <- fsn(yi, vi, data = d, type = "Rosenberg", alpha = alpha)
      b <- metafor::fsn(yi, vi, data = d, type = "Rosenberg", alpha = alpha)
      expect_equal(c(a$fsnum, a$est, a$pval), c(b$fsnum, b$est, b$pval), tolerance = tol_closed)
    }
    for (w in c(FALSE, TRUE)) {
      for (target in list(NULL, 0.05)) {
        a <- if (is.null(target)) fsn(yi, vi, data = d, type = "Orwin", weighted = w)
             else fsn(yi, vi, data = d, type = "Orwin", weighted = w, target = target)
        b <- if (is.null(target)) metafor::fsn(yi, vi, data = d, type = "Orwin", weighted = w)
             else metafor::fsn(yi, vi, data = d, type = "Orwin", weighted = w, target = target)
        expect_equal(c(a$fsnum, a$est, a$target), c(b$fsnum, b$est, b$target), tolerance = tol_closed)
      }
    }
  }
  # metafor 5: a fitted model gives the General type (was Rosenthal's here, a silent difference)
  expect_equal(fsn(rma(yi, vi, data = bcg))$fsnum, metafor::fsn(metafor::rma(yi, vi, data = bcg))$fsnum)
  expect_output(print(fsn(yi, vi, data = bcg)), "Fail-safe N: ")
  expect_equal(fsn(yi, vi, data = bcg, type = "General")$fsnum,
               metafor::fsn(yi, vi, data = bcg, type = "General")$fsnum)
  expect_error(fsn(yi, data = bcg), "vi")
  expect_error(fsn(0.3, 0.01), "at least 2")
})

test_that("pet_peese intercepts equal metafor's regtest limit estimates", {
  skip_if_not_installed("metafor")
  for (d in list(bcg, asym)) {
    f <- rma(yi, vi, data = d)
    m <- metafor::rma(yi, vi, data = d, control = metafor_tight)
    for (model in c("lm", "rma")) {
      tol <- if (model == "lm") tol_closed else tol_iter
      pp <- pet_peese(f, model = model)
      pet <- metafor::regtest(m, model = model, predictor = "sei")
      peese <- metafor::regtest(m, model = model, predictor = "vi")
      expect_equal(pp$estimates["PET", "estimate"], unname(pet$est), tolerance = tol)
      expect_equal(pp$estimates["PEESE", "estimate"], unname(peese$est), tolerance = tol)
      expect_equal(unlist(pp$estimates["PEESE", c("ci.lb", "ci.ub")]), unname(c(peese$ci.lb, peese$ci.ub)),
                   tolerance = tol, ignore_attr = TRUE)
      # decision rule by hand: one-sided test of PET's intercept
      if (model == "lm") {
        cf <- coef(summary(pet$fit))
        p1 <- pt(sign(coef(m)[1]) * cf[1, 3], pet$fit$df.residual, lower.tail = FALSE)
      } else {
        p1 <- pnorm(sign(coef(m)[1]) * pet$fit$zval[1], lower.tail = FALSE)
      }
      expect_equal(pp$p.decision, unname(p1), tolerance = tol)
      expect_identical(pp$chosen, if (p1 < 0.05) "PEESE" else "PET")
      expect_equal(pp$estimate, pp$estimates[pp$chosen, "estimate"])
    }
  }
  pp <- pet_peese(rma(yi, vi, data = asym), side = "two-sided", alpha = 0.10)
  expect_equal(pp$p.decision, pp$estimates["PET", "pval"])
  expect_output(print(pp), "PET-PEESE estimate")
  expect_error(pet_peese(rma(yi, vi, mods = ~ ablat, data = bcg)), "without moderators")
})
