# results_table(): every number against metafor (fit, confint, predict).

bcg <- transform(bcg_lrr()[, c("yi", "vi", "random")], n = bcg_lrr()$ni)

test_that("results_table matches metafor's fit, confint and predict", {
  skip_if_not_installed("metafor")
  ci_tight <- list(tol = 1e-12)
  for (test in c("z", "knha")) {
    f1 <- rma(yi, vi, data = bcg, test = test)
    f2 <- rma(yi, vi, data = bcg, subset = random, test = test, method = "DL")
    tab <- results_table(All = f1, Random = f2, n = c(sum(bcg$n), sum(bcg$n[bcg$random])))
    expect_s3_class(tab, c("mf_results_table", "data.frame"))
    expect_identical(tab$analysis, c("All", "Random"))
    ms <- list(metafor::rma(yi, vi, data = bcg, test = test, control = metafor_tight),
               metafor::rma(yi, vi, data = bcg, subset = random, test = test, method = "DL",
                            control = metafor_tight))
    for (i in 1:2) {
      m <- ms[[i]]
      r <- tab[i, ]
      ci <- confint(m, control = ci_tight)$random
      pr <- predict(m)
      expect_equal(r$k, m$k)
      expect_equal(r$g, c(m$beta), tolerance = tol_iter)
      expect_equal(c(r$ci.lb, r$ci.ub), c(m$ci.lb, m$ci.ub), tolerance = tol_iter)
      expect_equal(r$p, m$pval, tolerance = tol_iter)
      expect_equal(c(r$Q, r$Q.p), c(m$QE, m$QEp), tolerance = tol_closed)
      expect_equal(r$I2, m$I2, tolerance = tol_iter)
      expect_equal(c(r$I2.lb, r$I2.ub), unname(ci["I^2(%)", c("ci.lb", "ci.ub")]), tolerance = tol_iter)
      expect_equal(r$tau2, m$tau2, tolerance = tol_iter)
      expect_equal(c(r$pi.lb, r$pi.ub), c(pr$pi.lb, pr$pi.ub), tolerance = tol_iter)
    }
    expect_equal(tab$n, c(sum(bcg$n), sum(bcg$n[bcg$random])))
  }
})

test_that("list input, labels, equal-effects rows and formatting", {
  f1 <- rma(yi, vi, data = bcg)
  fe <- rma(yi, vi, data = bcg, method = "EE")
  tab <- results_table(list(Main = f1, Fixed = fe))
  expect_identical(tab$analysis, c("Main", "Fixed"))
  expect_true(all(is.na(tab$n)))
  expect_true(is.na(tab$I2.lb[2]) && is.na(tab$pi.lb[2]))
  expect_equal(tab$tau2[2], 0)
  tab2 <- results_table(f1)
  expect_identical(tab2$analysis, "f1")
  fm <- format(results_table(Main = f1, n = 1000))
  expect_identical(fm[["Estimate [95% CI]"]],
                   sprintf("%.2f [%.2f, %.2f]", f1$beta[1], f1$ci.lb, f1$ci.ub))
  expect_identical(fm$N, "1,000")
  expect_output(print(tab), "Estimate \\[95% CI\\]")
  df <- as.data.frame(tab)
  expect_identical(class(df), "data.frame")
  expect_null(attr(df, "digits"))
  skip_if_not_installed("knitr")
  expect_true(length(knitr::kable(df)) > 2)
})

test_that("results_table gives clear errors", {
  f1 <- rma(yi, vi, data = bcg)
  expect_error(results_table(), "at least one")
  expect_error(results_table(a = f1, b = 3), "'b'")
  expect_error(results_table(a = f1, n = 1:2), "'n' has length 2")
  expect_error(results_table(m = rma(yi, vi, mods = ~ n, data = bcg)), "moderators")
})
