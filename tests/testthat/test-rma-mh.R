# rma.mh() against metafor 5.2.1 (every field, the printout and the methods)
# and against published values (Stata's metan on the BCG data).

mh_fields <- c("beta", "se", "zval", "pval", "ci.lb", "ci.ub", "vb", "tau2", "I2", "H2", "QE", "QEp", "CO", "COp",
               "MH", "MHp", "BD", "BDp", "TA", "TAp", "k", "k.f", "k.yi", "k.pos", "k.eff", "k.all", "p", "parms",
               "yi", "vi", "yi.f", "vi.f", "ni", "ni.f", "ids", "not.na", "not.na.yivi", "slab", "slab.null",
               "measure", "method", "level", "add", "to", "drop00", "correct", "fit.stats", "outdat", "outdat.f",
               "int.only", "test")

expect_fields_mh <- function(ours, ref, fields = mh_fields, label = "") {
  for (f in fields) {
    a <- ours[[f]]; b <- ref[[f]]
    if (is.list(b) && !is.data.frame(b)) b <- b[!vapply(b, function(z) length(z) == 1L && is.na(z), logical(1))]
    if (is.numeric(b) && !is.null(b)) {
      expect_equal(as.vector(unlist(a)), as.vector(unlist(b)), tolerance = tol_closed, label = paste(label, f))
    } else {
      expect_equal(a, b, ignore_attr = TRUE, label = paste(label, f))
    }
  }
}

# A mix of sparse tables: double zeros, single zeros, a full column, a missing cell.
sparse_tables <- function(seed, k = 12) {
  set.seed(seed)
  n1 <- sample(5:40, k, TRUE); n2 <- sample(5:40, k, TRUE)
  ai <- rbinom(k, n1, 0.1); ci <- rbinom(k, n2, 0.15)
  ai[1] <- 0; ci[1] <- 0; ai[2] <- 0; ci[3] <- n2[3]; ai[4] <- NA
  data.frame(ai = ai, n1 = n1, ci = ci, n2 = n2, g = rep(1:4, length.out = k), yr = sample(1990:1995, k, TRUE))
}
sparse_rates <- function(seed, k = 10) {
  set.seed(seed)
  x1 <- rpois(k, 3); x2 <- rpois(k, 4); x1[1] <- 0; x2[1] <- 0; x1[2] <- 0
  data.frame(x1 = x1, x2 = x2, t1 = runif(k, 50, 200), t2 = runif(k, 50, 200), g = rep(1:3, length.out = k))
}

test_that("rma.mh() gives metafor's fields on the BCG data (OR, RR, RD) and for rates (IRR, IRD)", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  for (m in c("OR", "RR", "RD")) {
    ours <- rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = m, slab = author)
    ref <- metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = m, slab = author)
    expect_s3_class(ours, "mf_rma_mh")
    expect_fields_mh(ours, ref, label = m)
  }
  d2 <- metadat::dat.nielweise2008
  for (m in c("IRR", "IRD")) {
    ours <- rma.mh(x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = d2, measure = m)
    ref <- metafor::rma.mh(x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = d2, measure = m)
    expect_fields_mh(ours, ref, label = m)
  }
})

test_that("rma.mh() matches metafor on sparse tables for every add / to / drop00 / correct / level", {
  skip_if_not_installed("metafor")
  d <- sparse_tables(1)
  dr <- sparse_rates(2)
  settings <- list(list(to = "only0", drop00 = TRUE), list(to = "if0all", drop00 = FALSE),
                   list(to = c("only0", "only0"), drop00 = c(TRUE, TRUE), add = c(1/2, 1/4)),
                   list(to = c("all", "if0all"), drop00 = c(FALSE, TRUE), correct = FALSE, level = 90),
                   list(to = "none", drop00 = FALSE))
  for (m in c("OR", "RR", "RD", "IRR", "IRD")) for (s in settings) {
    args <- if (m %in% c("IRR", "IRD")) list(x1i = dr$x1, x2i = dr$x2, t1i = dr$t1, t2i = dr$t2) else
      list(ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2)
    args <- c(args, list(measure = m), s)
    ours <- suppressWarnings(do.call(rma.mh, args))
    ref <- suppressWarnings(do.call(metafor::rma.mh, args))
    expect_fields_mh(ours, ref, label = paste(m, paste(unlist(s), collapse = " ")))
  }
  # onlyo1, addyi, addvi (metafor reads them from `...`)
  ours <- suppressWarnings(rma.mh(ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2, to = "all", addyi = FALSE,
                                  onlyo1 = TRUE))
  ref <- suppressWarnings(metafor::rma.mh(ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2, to = "all", addyi = FALSE,
                                          onlyo1 = TRUE))
  expect_fields_mh(ours, ref, c("yi", "vi", "QE", "beta"), label = "onlyo1/addyi")
})

test_that("rma.mh() with subset, slab, duplicated labels and missing values as metafor", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  dat$lab <- rep(c("a", "b", "c"), length.out = 13)
  ours <- rma.mh(tpos, tneg, cpos, cneg, data = dat, slab = lab, subset = year > 1950)
  ref <- metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat, slab = lab, subset = year > 1950)
  expect_fields_mh(ours, ref, label = "subset")
  d <- sparse_tables(3)
  ours <- suppressWarnings(rma.mh(ai = ai, n1i = n1, ci = ci, n2i = n2, data = d, subset = -2))
  ref <- suppressWarnings(metafor::rma.mh(ai = ai, n1i = n1, ci = ci, n2i = n2, data = d, subset = -2))
  expect_fields_mh(ours, ref, label = "negative subset")
  expect_warning(expect_warning(rma.mh(ai = ai, n1i = n1, ci = ci, n2i = n2, data = d), "1 study with NAs omitted"),
                 "Some yi/vi values are NA")
  op <- options(na.action = "na.fail")
  on.exit(options(op))
  expect_error(rma.mh(ai = ai, n1i = n1, ci = ci, n2i = n2, data = d), "Missing values in tables")
})

test_that("print() and summary() of rma.mh() fits are metafor's printout", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  d2 <- metadat::dat.nielweise2008
  same <- function(a, b, ...) expect_identical(capture.output(print(a, ...)), capture.output(print(b, ...)))
  for (m in c("OR", "RR", "RD")) {
    same(rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = m),
         metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = m))
  }
  for (m in c("IRR", "IRD")) {
    same(rma.mh(x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = d2, measure = m),
         metafor::rma.mh(x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = d2, measure = m))
  }
  ours <- rma.mh(tpos, tneg, cpos, cneg, data = dat)
  ref <- metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat)
  same(summary(ours), summary(ref))
  same(ours, ref, digits = 2)
  same(ours, ref, showfit = TRUE)
  # Tarone's test not computable: one table
  same(rma.mh(tpos, tneg, cpos, cneg, data = dat, subset = 1), metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat, subset = 1))
})

test_that("rma.mh() reproduces the published Mantel-Haenszel results of Stata's metan (BCG data)", {
  dat <- metadat::dat.bcg
  # metan tpos tneg cpos cneg, fixed nograph rr / or / rd (values printed to 3 and 2 decimals)
  rr <- rma.mh(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
  expect_equal(round(c(unname(rr$beta), rr$ci.lb, rr$ci.ub), 3), c(-0.454, -0.531, -0.377))
  expect_equal(round(c(abs(rr$zval), rr$QE), 2), c(11.53, 152.57))
  expect_equal(round(exp(c(unname(rr$beta), rr$ci.lb, rr$ci.ub)), 3), c(0.635, 0.588, 0.686))
  or <- rma.mh(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
  expect_equal(round(c(unname(or$beta), or$ci.lb, or$ci.ub), 3), c(-0.473, -0.554, -0.393))
  expect_equal(round(c(abs(or$zval), or$QE), 2), c(11.54, 163.94))
  expect_equal(round(exp(c(unname(or$beta), or$ci.lb, or$ci.ub)), 3), c(0.623, 0.575, 0.675))
  rd <- rma.mh(measure = "RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
  expect_equal(round(c(unname(rd$beta), rd$ci.lb, rd$ci.ub), 3), c(-0.003, -0.004, -0.003))
  expect_equal(round(rd$QE, 2), 386.78)
})

# The methods, compared field by field under na.omit and na.exclude.
compare_tab_methods <- function(ours, ref, label) {
  for (na in c("na.omit", "na.exclude")) {
    op <- options(na.action = na)
    lab <- paste(label, na)
    l1 <- suppressWarnings(leave1out(ours)); l2 <- suppressWarnings(metafor::leave1out(ref))
    for (f in c("estimate", "se", "zval", "pval", "ci.lb", "ci.ub", "Q", "Qp", "I2", "H2"))
      expect_equal(l1[[f]], l2[[f]], tolerance = tol_closed, label = paste(lab, "leave1out", f))
    expect_equal(l1$slab, l2$slab, label = paste(lab, "leave1out slab"))
    c1 <- suppressWarnings(cumul(ours)); c2 <- suppressWarnings(metafor::cumul(ref))
    for (f in c("k", "estimate", "se", "zval", "pval", "ci.lb", "ci.ub", "Q", "Qp", "I2", "H2"))
      expect_equal(as.numeric(c1[[f]]), as.numeric(c2[[f]]), tolerance = tol_closed, label = paste(lab, "cumul", f))
    expect_equal(c1$slab, c2$slab, label = paste(lab, "cumul slab"))
    for (fn in c("rstandard", "rstudent")) {
      r1 <- suppressWarnings(get(fn, asNamespace("stats"))(ours)); r2 <- suppressWarnings(get(fn, asNamespace("stats"))(ref))
      for (f in c("resid", "se", "z")) expect_equal(c(r1[[f]]), c(r2[[f]]), tolerance = tol_closed, label = paste(lab, fn, f))
      expect_equal(r1$slab, r2$slab, label = paste(lab, fn, "slab"))
    }
    expect_equal(fitted(ours), fitted(ref), tolerance = tol_closed, label = paste(lab, "fitted"))
    for (type in c("response", "rstandard", "rstudent", "pearson"))
      expect_equal(suppressWarnings(residuals(ours, type = type)), suppressWarnings(residuals(ref, type = type)),
                   tolerance = tol_closed, label = paste(lab, "residuals", type))
    expect_equal(weights(ours), weights(ref), tolerance = tol_closed, label = paste(lab, "weights"))
    expect_equal(weights(ours, type = "matrix"), weights(ref, type = "matrix"), tolerance = tol_closed,
                 label = paste(lab, "weights matrix"))
    expect_equal(unclass(vcov(ours, type = "fitted")), unclass(vcov(ref, type = "fitted")), tolerance = tol_closed,
                 ignore_attr = TRUE, label = paste(lab, "vcov fitted"))
    options(op)
  }
  expect_equal(coef(ours), coef(ref), tolerance = tol_closed)
  expect_equal(vcov(ours), vcov(ref), tolerance = tol_closed)
  expect_equal(confint(ours)$fixed, confint(ref)$fixed, tolerance = tol_closed, ignore_attr = TRUE)
  expect_equal(confint(ours, level = 90, transf = TRUE)$fixed, confint(ref, level = 90, transf = TRUE)$fixed,
               tolerance = tol_closed, ignore_attr = TRUE)
  expect_equal(c(logLik(ours)), c(logLik(ref)), tolerance = tol_closed)
  expect_equal(c(logLik(ours, REML = TRUE)), c(logLik(ref, REML = TRUE)), tolerance = tol_closed)
  expect_equal(deviance(ours), deviance(ref), tolerance = tol_closed)
  expect_equal(AIC(ours), AIC(ref), tolerance = tol_closed)
  expect_equal(AIC(ours, correct = TRUE), AIC(ref, correct = TRUE), tolerance = tol_closed)
  expect_equal(BIC(ours), BIC(ref), tolerance = tol_closed)
  expect_equal(nobs(ours), nobs(ref))
}

test_that("the methods of rma.mh() fits give metafor's results (sums minus one term and the refits)", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  for (m in c("OR", "RR", "RD")) {
    compare_tab_methods(rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = m),
                        metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = m), m)
  }
  d <- sparse_tables(4)
  dr <- sparse_rates(5)
  # to = "if0all" / to[2] != "none": refits as metafor does them
  for (to in list("only0", "if0all", c("only0", "all"))) {
    for (m in c("OR", "RR", "RD")) {
      a <- list(ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2, measure = m, to = to)
      compare_tab_methods(suppressWarnings(do.call(rma.mh, a)), suppressWarnings(do.call(metafor::rma.mh, a)),
                          paste(m, paste(to, collapse = "/")))
    }
    for (m in c("IRR", "IRD")) {
      a <- list(x1i = dr$x1, x2i = dr$x2, t1i = dr$t1, t2i = dr$t2, measure = m, to = to)
      compare_tab_methods(suppressWarnings(do.call(rma.mh, a)), suppressWarnings(do.call(metafor::rma.mh, a)),
                          paste(m, paste(to, collapse = "/")))
    }
  }
})

test_that("leave1out(cluster =), cumul(order =, collapse =) and transf of rma.mh() fits as metafor", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  ours <- rma.mh(tpos, tneg, cpos, cneg, data = dat, slab = author)
  ref <- metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat, slab = author)
  cols <- c("estimate", "ci.lb", "ci.ub", "Q", "Qp", "I2", "H2")
  l1 <- leave1out(ours, cluster = alloc); l2 <- metafor::leave1out(ref, cluster = alloc)
  for (f in c(cols, "se")) expect_equal(l1[[f]], l2[[f]], tolerance = tol_closed, label = f)
  expect_equal(l1$slab, l2$slab)
  l1 <- leave1out(ours, transf = TRUE); l2 <- metafor::leave1out(ref, transf = TRUE)
  for (f in cols) expect_equal(l1[[f]], l2[[f]], tolerance = tol_closed, label = f)
  c1 <- cumul(ours, order = year); c2 <- metafor::cumul(ref, order = year)
  for (f in c("k", cols)) expect_equal(as.numeric(c1[[f]]), as.numeric(c2[[f]]), tolerance = tol_closed, label = f)
  expect_equal(c1$slab, c2$slab)
  c1 <- cumul(ours, order = alloc, collapse = TRUE, transf = exp)
  c2 <- metafor::cumul(ref, order = alloc, collapse = TRUE, transf = exp)
  for (f in c("k", cols)) expect_equal(as.numeric(c1[[f]]), as.numeric(c2[[f]]), tolerance = tol_closed, label = f)
  expect_equal(c1$slab, c2$slab)
  c1 <- cumul(ours, order = year, decreasing = TRUE); c2 <- metafor::cumul(ref, order = year, decreasing = TRUE)
  expect_equal(c1$estimate, c2$estimate, tolerance = tol_closed)
})

test_that("rma.mh() rejects bad input with errors naming the argument and the rows", {
  d <- data.frame(ai = c(2, -1, 3), bi = c(10, 10, 10), ci = c(1, 2, 3), di = c(9, 9, 9))
  d0 <- d
  expect_error(rma.mh(ai, bi, ci, di, data = d), "'ai' must not be negative \\(row 2\\)")
  expect_identical(d, d0)
  expect_error(rma.mh(ai = c(2, 12, 3), n1i = c(10, 10, 10), ci = c(1, 2, 3), n2i = c(9, 9, 9)),
               "'ai' must not exceed 'n1i' \\(row 2\\)")
  expect_error(rma.mh(ai = c(2, 3), bi = c(10, 10, 10), ci = c(1, 2, 3), di = c(9, 9, 9)), "different lengths.*ai \\(2\\)")
  expect_error(rma.mh(x1i = c(1, -2), x2i = c(1, 2), t1i = c(10, 10), t2i = c(10, 10), measure = "IRR"),
               "'x1i' must not be negative \\(row 2\\)")
  expect_error(rma.mh(x1i = c(1, 2), x2i = c(1, 2), t1i = c(10, 0), t2i = c(10, 10), measure = "IRD"),
               "'t1i'.*must be positive \\(row 2\\)")
  expect_error(rma.mh(ai = 1, bi = 2, ci = 3, di = 4, measure = "PETO"), "'measure'")
  expect_error(rma.mh(ai = c(1, 2), bi = c(2, 2), ci = c(3, 1), di = c(4, 4), to = "some"), "'to'")
  expect_error(rma.mh(ai = c(1, 2), bi = c(2, 2), ci = c(3, 1), di = c(4, 4), add = c(1, 2, 3)), "'add'")
  expect_error(rma.mh(ai = c(1, 2), bi = c(2, 2), ci = c(3, 1), di = c(4, 4), correct = NA), "'correct'")
  expect_error(rma.mh(ai = c(1, 2), bi = c(2, 2), ci = c(3, 1), di = c(4, 4), slab = "a"), "'slab'")
  expect_error(rma.mh(ai = c("1", "2"), bi = c(2, 2), ci = c(3, 1), di = c(4, 4)), "'ai' must be numeric")
  expect_error(rma.mh(ai = c(1, 2), ci = c(3, 1), di = c(4, 4)), "needs the counts")
  expect_error(rma.mh(ai = c(1, 2), bi = c(2, 2), ci = c(3, 1), di = c(4, 4), outlist = "minimal"), "'outlist'")
  expect_warning(rma.mh(ai = c(1, 2), bi = c(2, 2), ci = c(3, 1), di = c(4, 4), foo = 1),
                 "Extra argument ('foo') disregarded.", fixed = TRUE)
  expect_error(vcov(rma.mh(ai = c(1, 2), bi = c(2, 2), ci = c(3, 1), di = c(4, 4)), type = "obs"), "not available")
})

test_that("funnel() of rma.mh() and rma.peto() fits draws metafor's points around the pooled estimate", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.bcg
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  on.exit({ grDevices::dev.off(); unlink(f) })
  for (fit in list(list(rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = "RR"),
                        metafor::rma.mh(tpos, tneg, cpos, cneg, data = dat, measure = "RR")),
                   list(rma.peto(tpos, tneg, cpos, cneg, data = dat), metafor::rma.peto(tpos, tneg, cpos, cneg, data = dat)))) {
    a <- funnel(fit[[1]]); b <- metafor::funnel(fit[[2]])
    expect_equal(a$x, c(b$x), tolerance = tol_closed, ignore_attr = TRUE)
    expect_equal(a$y, b$y, tolerance = tol_closed)
    expect_equal(unname(attr(a, "refline")), unname(c(fit[[2]]$beta)), tolerance = tol_closed)
    # metafor's funnel() arguments (issue 16): weights, several levels, labels
    a <- funnel(fit[[1]], yaxis = "wi", label = 2); b <- metafor::funnel(fit[[2]], yaxis = "wi")
    expect_equal(a$y, b$y, tolerance = tol_closed)
    a <- funnel(fit[[1]], level = c(90, 95, 99), shade = c("white", "gray55", "gray75"), refline = 0, legend = TRUE)
    u1 <- graphics::par("usr")
    b <- metafor::funnel(fit[[2]], level = c(90, 95, 99), shade = c("white", "gray55", "gray75"), refline = 0, legend = TRUE)
    expect_equal(u1, graphics::par("usr"), tolerance = 1e-8)
  }
  # transf: ignored with metafor's warning (metafor's funnel() has none)
  expect_warning(funnel(rma.mh(tpos, tneg, cpos, cneg, data = dat), transf = exp),
                 "Function does not have a 'transf' argument (use 'atransf' instead).", fixed = TRUE)
})

test_that("forest() of rma.mh() and rma.peto() fits draws metafor's studies, weights and pooled estimate", {
  skip_if_not_installed("metafor")
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  on.exit({ grDevices::dev.off(); unlink(f) })
  d <- sparse_tables(6)
  for (pair in list(list(rma.mh, metafor::rma.mh), list(rma.peto, metafor::rma.peto))) {
    ours <- suppressWarnings(pair[[1]](ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2, slab = paste("s", seq_len(nrow(d)))))
    ref <- suppressWarnings(pair[[2]](ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2, slab = paste("s", seq_len(nrow(d)))))
    r <- forest(ours, level = 90)
    keep <- !is.na(ref$yi.f)
    expect_equal(r$studies$yi, c(ref$yi.f)[keep], tolerance = tol_closed)
    expect_equal(r$studies$ci.ub, c(ref$yi.f)[keep] + qnorm(0.95) * sqrt(ref$vi.f[keep]), tolerance = tol_closed)
    op <- options(na.action = "na.exclude")
    expect_equal(r$studies$weight, unname(weights(ref))[keep], tolerance = tol_closed)
    options(op)
    expect_equal(r$studies$slab, ref$slab[keep])
    expect_equal(r$summaries$estimate, unname(c(ref$beta)), tolerance = tol_closed)
    expect_equal(r$summaries$ci.lb, unname(c(ref$beta)) - qnorm(0.95) * ref$se, tolerance = tol_closed)
    # the right header and the x-axis title name the measure as metafor's labels do
    # (they said "Estimate" and nothing before)
    lab <- function(short, tf = "FALSE") metafor:::.setlab(ref$measure, tf, "FALSE", gentype = 1, short = short)
    expect_identical(r$layout$header, c("Study", paste(lab(TRUE), "[90% CI]")))
    expect_identical(r$layout$xlab, lab(FALSE))
    r <- forest(ours, transf = exp)
    expect_identical(r$layout$header, c("Study", paste(lab(TRUE, deparse(exp)), "[95% CI]")))
    expect_identical(r$layout$xlab, lab(FALSE, deparse(exp)))
  }
  expect_error(forest(suppressWarnings(rma.mh(ai = d$ai, n1i = d$n1, ci = d$ci, n2i = d$n2)), subgroup = rep(1:2, 3)),
               "'subgroup'")
})

test_that("rma.mh() and rma.peto() with a numeric subset out of order keep the data order, as metafor", {
  skip_if_not_installed("metafor")
  d <- esc_metadat("dat.bcg")
  for (fn in c("rma.mh", "rma.peto")) {
    a <- list(ai = quote(tpos), bi = quote(tneg), ci = quote(cpos), di = quote(cneg), data = d,
              subset = c(5, 1, 3), slab = quote(author))
    f <- do.call(get(fn, asNamespace("metafast")), a)
    g <- do.call(get(fn, asNamespace("metafor")), a)
    expect_equal(as.vector(f$yi), as.vector(g$yi), tolerance = tol_closed, info = fn)
    expect_identical(f$slab, g$slab, info = fn)
    expect_identical(f$ids, g$ids, info = fn)
    expect_equal(as.vector(f$beta), as.vector(g$beta), tolerance = tol_closed, info = fn)
  }
})
