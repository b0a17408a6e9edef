# outlier_analysis(): flagged sets by hand / metafor::rstudent, refits vs metafor.

bcg <- bcg_lrr()[, c("yi", "vi")]

# A data set with one clear outlier (study 7).
outl <- data.frame(yi = c(0.10, 0.30, 0.35, 0.25, 0.45, 0.15, 1.60, 0.30, 0.20, 0.28),
                   vi = c(0.01, 0.03, 0.05, 0.01, 0.05, 0.02, 0.02, 0.04, 0.02, 0.03))

test_that("the CI rule flags the studies found by hand and the refit matches metafor", {
  skip_if_not_installed("metafor")
  for (d in list(bcg, outl)) {
    for (test in c("z", "knha")) {
      f <- rma(yi, vi, data = d, test = test)
      m <- metafor::rma(yi, vi, data = d, test = test, control = metafor_tight)
      o <- outlier_analysis(f)
      lo <- d$yi - qnorm(0.975) * sqrt(d$vi)
      hi <- d$yi + qnorm(0.975) * sqrt(d$vi)
      flag <- hi < m$ci.lb | lo > m$ci.ub
      expect_identical(o$flag, flag)
      expect_identical(o$outliers$row, which(flag))
      expect_true(any(flag))
      m2 <- metafor::rma(yi, vi, data = d[!flag, ], test = test, control = metafor_tight)
      cmp <- o$comparison
      expect_identical(rownames(cmp), c("all studies", "outliers removed"))
      expect_equal(cmp$k, c(nrow(d), sum(!flag)))
      expect_equal(cmp$estimate, c(c(m$beta), c(m2$beta)), tolerance = tol_iter)
      expect_equal(cmp$ci.lb, c(m$ci.lb, m2$ci.lb), tolerance = tol_iter)
      expect_equal(cmp$ci.ub, c(m$ci.ub, m2$ci.ub), tolerance = tol_iter)
      expect_equal(cmp$pval, c(m$pval, m2$pval), tolerance = tol_iter)
      expect_equal(cmp$tau2, c(m$tau2, m2$tau2), tolerance = tol_iter)
      expect_equal(cmp$I2, c(m$I2, m2$I2), tolerance = tol_iter)
    }
  }
})

test_that("the rstudent rule flags |studentized deleted residual| > threshold", {
  skip_if_not_installed("metafor")
  skip_if(is.null(utils::getS3method("rstudent", "mf_rma", optional = TRUE)), "rstudent.mf_rma not available")
  f <- rma(yi, vi, data = outl)
  m <- metafor::rma(yi, vi, data = outl, control = metafor_tight)
  z <- stats::rstudent(m)$z
  for (thr in c(1.96, 1.5)) {
    o <- outlier_analysis(f, rule = "rstudent", threshold = thr)
    expect_equal(o$rstudent, z, tolerance = tol_iter)
    expect_identical(o$flag, abs(z) > thr)
    m2 <- metafor::rma(yi, vi, data = outl[abs(z) <= thr, ], control = metafor_tight)
    expect_equal(o$comparison["outliers removed", "estimate"], c(m2$beta), tolerance = tol_iter)
    expect_equal(o$comparison["outliers removed", "tau2"], m2$tau2, tolerance = tol_iter)
  }
})

test_that("the internal rstudent fallback matches metafor", {
  skip_if_not_installed("metafor")
  f <- rma(yi, vi, data = outl)
  m <- metafor::rma(yi, vi, data = outl, control = metafor_tight)
  # the refit path (used when rstudent.mf_rma is not available)
  expect_equal(metafast:::.mf_outlier_rstudent(f, use_method = FALSE), stats::rstudent(m)$z, tolerance = tol_iter)
})

test_that("no outliers: both rows equal; errors are clear", {
  d <- data.frame(yi = c(0.2, 0.25, 0.3, 0.22, 0.28), vi = rep(0.02, 5))
  o <- outlier_analysis(rma(yi, vi, data = d))
  expect_equal(nrow(o$outliers), 0L)
  expect_null(o$fit.removed)
  expect_equal(o$comparison[1, ], o$comparison[2, ], ignore_attr = TRUE)
  expect_output(print(o), "No outliers flagged")
  expect_output(print(outlier_analysis(rma(yi, vi, data = outl))), "Flagged: 7")
  expect_error(outlier_analysis(rma(yi, vi, data = d), rule = "cook"), "rule")
  expect_error(outlier_analysis(rma(yi, vi, data = d), rule = "rstudent", threshold = -1), "threshold")
  expect_error(outlier_analysis(rma(yi, vi, data = d[1:2, ])), "at least 3")
  expect_error(outlier_analysis(list()), "rma")
})
