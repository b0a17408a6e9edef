# rma()'s arguments and result fields of metafor's rma.uni() (issue 10):
# weighted, raw data with measure, scalar vi / sei / weights, zero vi with
# the equal-effects model, na.action, the fields k.f, k.all, not.na, ni,
# measure, slab, and coef(summary()).  Every comparison is against
# metafor::rma.uni().

# compare the fields of a metafast fit with metafor's
expect_fields <- function(f, m, fields, tol = tol_iter, info = NULL) {
  for (nm in fields) {
    a <- f[[nm]]
    b <- m[[nm]]
    if (is.data.frame(a)) a <- as.matrix(a)
    if (is.data.frame(b)) b <- as.matrix(b)
    if (is.numeric(a) || is.numeric(b)) {
      expect_equal(unname(c(a)), unname(c(b)), tolerance = tol, info = paste(info, nm))
    } else {
      expect_equal(unname(a), unname(b), info = paste(info, nm))
    }
  }
}
fit_fields <- c("beta", "se", "zval", "pval", "ci.lb", "ci.ub", "vb", "tau2", "QE", "QEp", "QM", "QMp",
                "I2", "H2", "k", "p", "fit.stats")

test_that("weighted = FALSE: OLS fixed effects with metafor's covariance, tests and fit statistics", {
  skip_if_not_installed("metafor")
  d <- bcg_data()
  for (method in c("REML", "ML", "DL", "HE", "SJ", "EE", "EB")) {
    for (test in c("z", "t", "knha")) {
      info <- paste(method, test)
      f <- rma(yi, vi, mods = ~ ablat, data = d, method = method, test = test, weighted = FALSE)
      m <- metafor::rma(yi, vi, mods = ~ ablat, data = d, method = method, test = test, weighted = FALSE,
                        control = metafor_tight)
      expect_fields(f, m, c(fit_fields, "se.tau2", "R2", "weighted"), info = info)
      # intercept only
      f <- rma(yi, vi, data = d, method = method, test = test, weighted = FALSE)
      m <- metafor::rma(yi, vi, data = d, method = method, test = test, weighted = FALSE, control = metafor_tight)
      expect_fields(f, m, c(fit_fields, "weighted"), info = paste(info, "int-only"))
    }
  }
  # user weights are ignored with weighted = FALSE (as metafor)
  f <- rma(yi, vi, data = d, weights = seq_len(13), weighted = FALSE)
  m <- metafor::rma(yi, vi, data = d, weights = seq_len(13), weighted = FALSE, control = metafor_tight)
  expect_fields(f, m, fit_fields)
  # the unweighted estimate is the plain mean (a check that does not need metafor)
  f <- rma(yi, vi, data = d, weighted = FALSE, method = "EE")
  expect_equal(c(f$beta), mean(d$yi), tolerance = tol_closed)
  expect_false(isTRUE(all.equal(c(f$beta), c(rma(yi, vi, data = d, method = "EE")$beta))))
  expect_error(rma(yi, vi, data = d, weighted = NA), "'weighted'")
})

test_that("raw data with measure: escalc() inside rma(), evaluated in data, as metafor", {
  skip_if_not_installed("metafor")
  d <- bcg_counts()
  for (measure in c("RR", "OR", "RD", "PETO", "AS")) {
    f <- rma(measure = measure, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, mods = ~ ablat)
    m <- metafor::rma(measure = measure, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, mods = ~ ablat,
                      control = metafor_tight)
    expect_fields(f, m, c(fit_fields, "yi", "vi", "ni", "measure", "add", "to", "drop00"), info = measure)
  }
  # n1i / n2i instead of bi / di; a subset and to = "if0all" (escalc sees the subset only)
  d$n1 <- d$tpos + d$tneg
  d$n2 <- d$cpos + d$cneg
  d$tpos[3] <- 0
  f <- rma(measure = "OR", ai = tpos, n1i = n1, ci = cpos, n2i = n2, data = d, subset = year > 1950,
           to = "if0all", method = "DL")
  m <- metafor::rma(measure = "OR", ai = tpos, n1i = n1, ci = cpos, n2i = n2, data = d, subset = year > 1950,
                    to = "if0all", method = "DL")
  expect_fields(f, m, c(fit_fields, "yi", "vi", "ni", "k.f", "k.all", "not.na", "yi.f", "vi.f"), tol = tol_closed)
  # means and standard deviations; no data frame (arguments from the caller)
  m1 <- c(10.2, 11.5, 9.8, 12.1, 10.9); m2 <- c(9.1, 10.0, 9.9, 10.5, 9.7)
  s1 <- c(2.1, 2.5, 1.9, 2.8, 2.2); s2 <- c(2.0, 2.4, 2.1, 2.5, 2.3)
  n1 <- c(20, 35, 18, 40, 25); n2 <- c(22, 30, 20, 38, 27)
  for (measure in c("MD", "SMD", "ROM")) {
    f <- rma(measure = measure, m1i = m1, m2i = m2, sd1i = s1, sd2i = s2, n1i = n1, n2i = n2)
    m <- metafor::rma(measure = measure, m1i = m1, m2i = m2, sd1i = s1, sd2i = s2, n1i = n1, n2i = n2,
                      control = metafor_tight)
    expect_fields(f, m, c(fit_fields, "yi", "vi", "ni", "measure"), info = measure)
  }
  # vtype goes to escalc()
  for (vtype in c("UB", "AV")) {
    f <- rma(measure = "SMD", m1i = m1, m2i = m2, sd1i = s1, sd2i = s2, n1i = n1, n2i = n2, vtype = vtype)
    m <- metafor::rma(measure = "SMD", m1i = m1, m2i = m2, sd1i = s1, sd2i = s2, n1i = n1, n2i = n2,
                      vtype = vtype, control = metafor_tight)
    expect_fields(f, m, c(fit_fields, "vi"), info = vtype)
  }
  # correlations and proportions
  f <- rma(measure = "ZCOR", ri = c(0.2, 0.35, 0.1, 0.5), ni = c(50, 80, 40, 120))
  m <- metafor::rma(measure = "ZCOR", ri = c(0.2, 0.35, 0.1, 0.5), ni = c(50, 80, 40, 120), control = metafor_tight)
  expect_fields(f, m, c(fit_fields, "yi", "vi", "ni", "measure"))
  f <- rma(measure = "PLO", xi = c(5, 12, 0, 30), ni = c(50, 80, 40, 120), add = 0.25)
  m <- metafor::rma(measure = "PLO", xi = c(5, 12, 0, 30), ni = c(50, 80, 40, 120), add = 0.25, control = metafor_tight)
  expect_fields(f, m, c(fit_fields, "yi", "vi", "ni", "measure", "add"))
  f <- rma(measure = "PFT", xi = c(5, 12, 0, 30), ni = c(50, 80, 40, 120))
  m <- metafor::rma(measure = "PFT", xi = c(5, 12, 0, 30), ni = c(50, 80, 40, 120), control = metafor_tight)
  expect_fields(f, m, c(fit_fields, "yi", "vi", "add"))
})

test_that("measure: the label of yi, unknown measures and missing yi are errors", {
  skip_if_not_installed("metafor")
  d <- bcg_data()
  f <- rma(yi, vi, data = d, measure = "RR")
  m <- metafor::rma(yi, vi, data = d, measure = "RR")
  expect_equal(f$measure, m$measure)
  expect_equal(rma(yi, vi, data = d)$measure, "GEN")
  expect_error(rma(yi, vi, data = d, measure = "XYZ"), "'measure'.*XYZ")
  expect_error(metafor::rma(yi, vi, data = d, measure = "XYZ"))
  expect_error(rma(vi = d$vi), "'yi' is missing")
  # a measure metafor lists but this package's escalc() does not: escalc's error
  expect_error(rma(measure = "HR", ai = 1:3, bi = 2:4, ci = 1:3, di = 2:4), "HR")
})

test_that("escalc objects: yi and vi from the object, slab, ni and measure from its attributes", {
  skip_if_not_installed("metafor")
  d <- bcg_counts()
  d$study <- paste("Study", c(1, 2, 3, 3, 5:13))    # a duplicated label
  es_m <- metafor::escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = study)
  es_f <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = study)
  m1 <- metafor::rma(es_m, control = metafor_tight)
  m2 <- metafor::rma(yi, vi, mods = ~ ablat, data = es_m, subset = -2, control = metafor_tight)
  m3 <- metafor::rma(es_m, mods = ~ ablat, control = metafor_tight)
  for (es in list(es_m, es_f)) {
    f <- rma(es)
    expect_fields(f, m1, c(fit_fields, "ni", "measure"))
    expect_equal(as.character(f$slab[f$ids]), as.character(m1$slab))
    # columns of the object in mods; a subset
    f <- rma(yi, vi, mods = ~ ablat, data = es, subset = -2)
    expect_fields(f, m2, c(fit_fields, "ni", "ni.f", "measure", "k.f", "k.all"))
    expect_equal(as.character(f$slab[f$ids]), as.character(m2$slab))
    f <- rma(es, mods = ~ ablat)
    expect_fields(f, m3, c(fit_fields, "measure"))
  }
  # duplicated labels given as slab are made unique within the subset, as metafor
  dd <- bcg_data()
  lab <- c("a", "b", "a", "c", "d", "b", "e", "f", "g", "h", "i", "j", "a")
  f <- rma(yi, vi, data = dd, slab = lab, subset = -1)
  m <- metafor::rma(yi, vi, data = dd, slab = lab, subset = -1)
  expect_equal(as.character(f$slab[f$ids]), m$slab)
  # ni given explicitly
  f <- rma(yi, vi, data = dd, ni = seq_len(13) + 10)
  m <- metafor::rma(yi, vi, data = dd, ni = seq_len(13) + 10)
  expect_equal(f$ni, m$ni)
})

test_that("a single vi, sei or weight is recycled to all studies, as metafor", {
  skip_if_not_installed("metafor")
  d <- bcg_data()
  expect_fields(rma(d$yi, 0.1), metafor::rma(d$yi, 0.1, control = metafor_tight), c(fit_fields, "vi"))
  expect_fields(rma(d$yi, sei = 0.3), metafor::rma(d$yi, sei = 0.3, control = metafor_tight), c(fit_fields, "vi"))
  expect_fields(rma(yi, vi, data = d, weights = 2), metafor::rma(yi, vi, data = d, weights = 2, control = metafor_tight),
                fit_fields)
  expect_error(rma(d$yi, d$vi[1:2]), "'vi' has length 2")
})

test_that("zero sampling variances: the equal-effects model without inverse-variance weights fits as metafor", {
  skip_if_not_installed("metafor")
  d <- bcg_data()
  v <- replace(d$vi, 3, 0)
  quiet <- function(e) suppressWarnings(e)
  for (args in list(list(weighted = FALSE), list(weights = seq_len(13)), list(weighted = FALSE, test = "t"))) {
    expect_warning(expect_warning(f <- do.call(rma, c(list(d$yi, v, method = "EE"), args)),
                                  "outcomes with non-positive sampling variances"), "Cannot compute")
    m <- quiet(do.call(metafor::rma, c(list(d$yi, v, method = "EE"), args)))
    expect_fields(f, m, c("beta", "se", "zval", "pval", "ci.lb", "ci.ub", "QE", "QEp", "I2", "H2", "fit.stats",
                          "allvipos"), tol = tol_closed)
    expect_true(is.na(f$QE))
  }
  # all zero: no warning; se = 0
  expect_silent(f <- rma(d$yi, 0, method = "EE", weighted = FALSE))
  m <- metafor::rma(d$yi, 0, method = "EE", weighted = FALSE)
  expect_fields(f, m, c("beta", "se", "zval", "pval", "ci.lb", "ci.ub", "QE", "I2", "fit.stats"), tol = tol_closed)
  # metafor stops where inverse-variance weights are needed: so does rma()
  expect_error(suppressWarnings(metafor::rma(d$yi, v, method = "EE")), "Division by zero")
  expect_error(suppressWarnings(rma(d$yi, v, method = "EE")), "'vi'.*zero.*row 3")
  expect_error(metafor::rma(d$yi, 0, method = "EE"), "Division by zero")
  expect_error(rma(d$yi, 0, method = "EE"), "'vi'.*zero")
  expect_error(suppressWarnings(metafor::rma(d$yi, v, method = "EE", weights = 1:13, test = "knha")))
  expect_error(suppressWarnings(rma(d$yi, v, method = "EE", weights = 1:13, test = "knha")), "'vi'.*zero")
  expect_error(suppressWarnings(metafor::rma(d$yi, v, method = "DL")), "DL")
  expect_error(suppressWarnings(rma(d$yi, v, method = "DL")), "'vi'.*zero.*row 3")
  # negative sampling variances stay an error
  expect_error(rma(d$yi, replace(d$vi, 2, -1), method = "EE", weighted = FALSE), "'vi'.*negative.*row 2")
})

test_that("k.f, k.all, not.na, yi.f, vi.f, X.f, k.eff, p.eff with a subset and missing values, as metafor", {
  skip_if_not_installed("metafor")
  d <- bcg_data()
  d$yi[4] <- NA
  d$ablat[9] <- NA
  f <- suppressWarnings(rma(yi, vi, mods = ~ ablat, data = d, subset = -c(1, 2)))
  m <- suppressWarnings(metafor::rma(yi, vi, mods = ~ ablat, data = d, subset = -c(1, 2), control = metafor_tight))
  expect_fields(f, m, c(fit_fields, "k.f", "k.all", "k.eff", "p.eff", "not.na", "yi.f", "vi.f", "X.f"))
  expect_equal(f$k.f, 11L)
  expect_equal(f$k.all, 13L)
  expect_equal(f$not.na, !(3:13 %in% c(4, 9)))
  # no subset: k.f = k.all
  f <- suppressWarnings(rma(yi, vi, data = d))
  m <- suppressWarnings(metafor::rma(yi, vi, data = d))
  expect_fields(f, m, c("k", "k.f", "k.all", "not.na", "yi.f", "vi.f"))
})

test_that("na.action: na.omit, na.exclude and na.pass omit rows; na.fail stops; other values are errors", {
  skip_if_not_installed("metafor")
  d <- bcg_data()
  d$yi[4] <- NA
  for (act in c("na.omit", "na.exclude", "na.pass")) {
    old <- options(na.action = act)
    f <- suppressWarnings(rma(yi, vi, data = d))
    m <- suppressWarnings(metafor::rma(yi, vi, data = d, control = metafor_tight))
    options(old)
    expect_fields(f, m, c(fit_fields, "not.na", "k.f"), info = act)
  }
  old <- options(na.action = "na.fail")
  on.exit(options(old))
  expect_error(metafor::rma(yi, vi, data = d), "Missing values")
  expect_error(rma(yi, vi, data = d), "Missing values.*row 4.*na.fail")
  expect_equal(c(rma(yi, vi, data = d[-4, ])$beta), c(metafor::rma(yi, vi, data = d[-4, ])$beta),
               tolerance = tol_iter)
  options(na.action = "na.foo")
  expect_error(metafor::rma(yi, vi, data = d), "na.action")
  expect_error(rma(yi, vi, data = d[-4, ]), "na.action")
})

test_that("coef(summary()) is metafor's table of the coefficients", {
  skip_if_not_installed("metafor")
  d <- bcg_data()
  for (test in c("z", "t", "knha")) {
    f <- rma(yi, vi, mods = ~ ablat, data = d, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat, data = d, test = test, control = metafor_tight)
    a <- coef(summary(f))
    b <- coef(summary(m))
    expect_s3_class(a, "data.frame")
    expect_equal(names(a), names(b), info = test)
    expect_equal(rownames(a), rownames(b), info = test)
    expect_equal(as.matrix(a), as.matrix(b), tolerance = tol_iter, info = test)
  }
  # coef() of the fit itself stays the named vector
  expect_equal(coef(f), coef(m), tolerance = tol_iter)
})
