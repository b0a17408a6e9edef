# rma.peto() against metafor 5.2.1 (every field, the printout and the
# methods) and against published values (Yusuf et al. 1985 data; Stata's
# metan on the BCG data).

peto_fields <- c("beta", "se", "zval", "pval", "ci.lb", "ci.ub", "vb", "tau2", "I2", "H2", "QE", "QEp", "k", "k.f",
                 "k.yi", "k.pos", "k.eff", "k.all", "p", "parms", "yi", "vi", "yi.f", "vi.f", "ni", "ni.f", "ids",
                 "not.na", "not.na.yivi", "slab", "slab.null", "measure", "method", "level", "add", "to", "drop00",
                 "fit.stats", "outdat", "outdat.f", "int.only", "test")

expect_fields_peto <- function(ours, ref, label = "") {
  for (f in peto_fields) {
    a <- ours[[f]]; b <- ref[[f]]
    if (is.numeric(b) || (is.list(b) && !is.data.frame(b))) {
      expect_equal(as.vector(unlist(a)), as.vector(unlist(b)), tolerance = tol_closed, label = paste(label, f))
    } else {
      expect_equal(a, b, ignore_attr = TRUE, label = paste(label, f))
    }
  }
}

peto_sparse <- function(seed, k = 12) {
  set.seed(seed)
  n1 <- sample(5:40, k, TRUE); n2 <- sample(5:40, k, TRUE)
  ai <- rbinom(k, n1, 0.1); ci <- rbinom(k, n2, 0.15)
  ai[1] <- 0; ci[1] <- 0; ai[2] <- 0; ci[3] <- n2[3]; ai[4] <- NA
  data.frame(ai = ai, n1 = n1, ci = ci, n2 = n2, g = rep(1:4, length.out = k))
}

test_that("rma.peto() gives metafor's fields (BCG, Yusuf 1985, sparse tables with every add / to / drop00)", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  ours <- rma.peto(tpos, tneg, cpos, cneg, data = dat, slab = author)
  ref <- metafor::rma.peto(tpos, tneg, cpos, cneg, data = dat, slab = author)
  expect_s3_class(ours, "mf_rma_peto")
  expect_fields_peto(ours, ref, "bcg")
  y <- metadat::dat.yusuf1985
  for (tab in unique(y$table)) {
    ours <- suppressWarnings(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = y, subset = (table == tab)))
    ref <- suppressWarnings(metafor::rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = y, subset = (table == tab)))
    expect_fields_peto(ours, ref, paste("yusuf table", tab))
  }
  d <- peto_sparse(1)
  for (s in list(list(to = "only0", drop00 = TRUE), list(to = "if0all", drop00 = FALSE, level = 90),
                 list(to = c("all", "only0"), drop00 = c(FALSE, TRUE), add = c(1, 1/2)), list(to = "none"))) {
    a <- c(list(ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2), s)
    expect_fields_peto(suppressWarnings(do.call(rma.peto, a)), suppressWarnings(do.call(metafor::rma.peto, a)),
                       paste(unlist(s), collapse = " "))
  }
})

test_that("print() and summary() of rma.peto() fits are metafor's printout", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  ours <- rma.peto(tpos, tneg, cpos, cneg, data = dat)
  ref <- metafor::rma.peto(tpos, tneg, cpos, cneg, data = dat)
  expect_identical(capture.output(print(ours)), capture.output(print(ref)))
  expect_identical(capture.output(print(summary(ours))), capture.output(print(summary(ref))))
  expect_identical(capture.output(print(ours, digits = 3)), capture.output(print(ref, digits = 3)))
  y <- metadat::dat.yusuf1985
  ours <- suppressWarnings(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = y, subset = (table == "6")))
  ref <- suppressWarnings(metafor::rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = y, subset = (table == "6")))
  expect_identical(capture.output(print(ours)), capture.output(print(ref)))
})

test_that("rma.peto() reproduces published results", {
  # Yusuf et al. (1985), table 6 (short-term trials of oral beta blockers):
  # pooled odds ratio 0.9332 (0.7385, 1.1792), the values metafor's analysis
  # example 'yusuf1985' checks against the published ones (p. 107 there)
  y <- metadat::dat.yusuf1985
  res <- suppressWarnings(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = y, subset = (table == "6")))
  expect_equal(exp(c(unname(res$beta), res$ci.lb, res$ci.ub)), c(0.9332, 0.7385, 1.1792), tolerance = tol_published)
  # Stata: metan tpos tneg cpos cneg, peto nograph or log (BCG data)
  res <- rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  expect_equal(round(c(unname(res$beta), res$ci.lb, res$ci.ub), 3), c(-0.474, -0.554, -0.395))
  expect_equal(round(c(res$zval, res$QE), 2), c(-11.67, 167.73))
})

test_that("the methods of rma.peto() fits give metafor's results", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  cols <- c("estimate", "se", "zval", "pval", "ci.lb", "ci.ub", "Q", "Qp", "I2", "H2")
  check <- function(ours, ref, label) {
    for (na in c("na.omit", "na.exclude")) {
      op <- options(na.action = na)
      l1 <- suppressWarnings(leave1out(ours)); l2 <- suppressWarnings(metafor::leave1out(ref))
      for (f in cols) expect_equal(l1[[f]], l2[[f]], tolerance = tol_closed, label = paste(label, na, "leave1out", f))
      expect_equal(l1$slab, l2$slab)
      c1 <- suppressWarnings(cumul(ours)); c2 <- suppressWarnings(metafor::cumul(ref))
      for (f in c("k", cols)) expect_equal(as.numeric(c1[[f]]), as.numeric(c2[[f]]), tolerance = tol_closed,
                                           label = paste(label, na, "cumul", f))
      r1 <- suppressWarnings(rstudent(ours)); r2 <- suppressWarnings(rstudent(ref))
      for (f in c("resid", "se", "z")) expect_equal(c(r1[[f]]), c(r2[[f]]), tolerance = tol_closed, label = paste(label, na, "rstudent", f))
      r1 <- rstandard(ours); r2 <- rstandard(ref)
      for (f in c("resid", "se", "z")) expect_equal(c(r1[[f]]), c(r2[[f]]), tolerance = tol_closed, label = paste(label, na, "rstandard", f))
      expect_equal(fitted(ours), fitted(ref), tolerance = tol_closed)
      expect_equal(residuals(ours), residuals(ref), tolerance = tol_closed)
      expect_equal(weights(ours), weights(ref), tolerance = tol_closed, label = paste(label, na, "weights"))
      options(op)
    }
    expect_equal(coef(ours), coef(ref), tolerance = tol_closed)
    expect_equal(vcov(ours), vcov(ref), tolerance = tol_closed)
    expect_equal(confint(ours, transf = TRUE)$fixed, confint(ref, transf = TRUE)$fixed, tolerance = tol_closed,
                 ignore_attr = TRUE)
    expect_equal(c(logLik(ours)), c(logLik(ref)), tolerance = tol_closed)
    expect_equal(AIC(ours), AIC(ref), tolerance = tol_closed)
    expect_equal(BIC(ours), BIC(ref), tolerance = tol_closed)
    expect_equal(deviance(ours), deviance(ref), tolerance = tol_closed)
  }
  check(rma.peto(tpos, tneg, cpos, cneg, data = dat), metafor::rma.peto(tpos, tneg, cpos, cneg, data = dat), "bcg")
  d <- peto_sparse(2)
  for (to in list("only0", "if0all", c("only0", "only0"))) {
    a <- list(ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2, to = to)
    check(suppressWarnings(do.call(rma.peto, a)), suppressWarnings(do.call(metafor::rma.peto, a)), paste(to, collapse = "/"))
  }
  ours <- rma.peto(tpos, tneg, cpos, cneg, data = dat)
  ref <- metafor::rma.peto(tpos, tneg, cpos, cneg, data = dat)
  l1 <- leave1out(ours, cluster = alloc, transf = TRUE); l2 <- metafor::leave1out(ref, cluster = alloc, transf = TRUE)
  for (f in c("estimate", "ci.lb", "ci.ub", "Q", "I2")) expect_equal(l1[[f]], l2[[f]], tolerance = tol_closed)
  c1 <- cumul(ours, order = year); c2 <- metafor::cumul(ref, order = year)
  for (f in c("estimate", "se", "Q", "I2")) expect_equal(c1[[f]], c2[[f]], tolerance = tol_closed, ignore_attr = TRUE)
})

test_that("rma.peto() rejects bad input with errors naming the argument and the rows", {
  d <- data.frame(ai = c(2, 3, 3), n1i = c(10, 10, 2), ci = c(1, 2, 3), n2i = c(9, 9, 9))
  d0 <- d
  expect_error(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d), "'ai' must not exceed 'n1i' \\(row 3\\)")
  expect_identical(d, d0)
  expect_error(rma.peto(ai = c(1, 2), bi = c(3, -3), ci = c(1, 2), di = c(3, 3)), "'bi' must not be negative \\(row 2\\)")
  expect_error(rma.peto(ai = c(1, 2), bi = c(3, 3, 3), ci = c(1, 2), di = c(3, 3)), "different lengths")
  expect_error(rma.peto(ai = c(0, 0), bi = c(3, 3), ci = c(0, 0), di = c(3, 3), drop00 = FALSE), "never occurred")
  expect_warning(rma.peto(ai = c(1, 2), bi = c(3, 3), ci = c(1, 2), di = c(3, 3), measure = "OR"),
                 "Extra argument ('measure') disregarded.", fixed = TRUE)
  expect_error(rma.peto(ai = c(1, 2), bi = c(3, 3), ci = c(1, 2), di = c(3, 3), outlist = "minimal"), "'outlist'")
})
