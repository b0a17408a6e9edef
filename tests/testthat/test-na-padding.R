# Rows omitted for missing values: the methods follow getOption("na.action")
# at the time they are called, as metafor's do (na.omit: the k rows used;
# na.exclude / na.pass: padded with NA to the k.f rows; na.pass keeps the
# fitted values and residuals of rows whose data are known; na.fail stops).

# BCG data with a missing outcome (row 3), a missing moderator (row 5) and a
# missing sampling variance (row 9), plus year and allocation.
na_data <- function() {
  d <- bcg_data()
  d$year <- bcg_counts()$year
  d$yi[3] <- NA
  d$ablat[5] <- NA
  d$vi[9] <- NA
  d
}

with_na_action <- function(act, code) {
  old <- options(na.action = act)
  on.exit(options(old))
  code
}

# lists of columns compared by name (metafor's classes and extra fields aside)
expect_cols_equal <- function(a, b, cols, tol) {
  for (nm in cols) expect_equal(c(unclass(a)[[nm]]), c(unclass(b)[[nm]]), tolerance = tol, info = nm)
}

acts <- c("na.omit", "na.exclude", "na.pass")

test_that("fitted, residuals and rstandard are padded as in metafor", {
  skip_if_not_installed("metafor")
  d <- na_data()
  f <- suppressWarnings(rma(yi, vi, mods = ~ ablat, data = d))
  m <- suppressWarnings(metafor::rma(yi, vi, mods = ~ ablat, data = d, control = metafor_tight))
  for (act in acts) with_na_action(act, {
    expect_equal(fitted(f), fitted(m), tolerance = tol_iter, info = act)
    for (ty in c("response", "pearson", "cholesky", "rstandard"))
      expect_equal(residuals(f, type = ty), residuals(m, type = ty), tolerance = tol_iter, info = paste(act, ty))
    for (ty in c("marginal", "conditional"))
      expect_cols_equal(rstandard(f, type = ty), rstandard(m, type = ty), c("resid", "se", "z", "slab"), tol_iter)
    expect_equal(hatvalues(f), hatvalues(m), tolerance = tol_iter, info = act)
    expect_equal(weights(f), weights(m), tolerance = tol_iter, info = act)
  })
  # the shapes: k rows under na.omit, k.f under na.exclude; na.pass keeps
  # x_i'b of row 3 (outcome missing) and the residual of row 9 (vi missing)
  expect_length(with_na_action("na.omit", fitted(f)), 10)
  expect_true(is.na(with_na_action("na.exclude", fitted(f))[3]))
  expect_false(is.na(with_na_action("na.pass", fitted(f))[3]))
  expect_true(is.na(with_na_action("na.pass", fitted(f))[5]))
  expect_false(is.na(with_na_action("na.pass", residuals(f))[9]))
  expect_true(is.na(with_na_action("na.pass", residuals(f, type = "pearson"))[9]))
})

test_that("rstudent, influence, cooks.distance and dfbetas are padded as in metafor", {
  skip_if_not_installed("metafor")
  d <- na_data()
  f <- suppressWarnings(rma(yi, vi, mods = ~ ablat, data = d))
  m <- suppressWarnings(metafor::rma(yi, vi, mods = ~ ablat, data = d, control = metafor_tight))
  for (act in acts) with_na_action(act, {
    expect_cols_equal(rstudent(f), rstudent(m), c("resid", "se", "z", "slab"), tol_iter)
    expect_equal(residuals(f, type = "rstudent"), residuals(m, type = "rstudent"), tolerance = tol_iter)
    fi <- influence(f)
    mi <- influence(m)
    expect_cols_equal(fi$inf, mi$inf, c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat",
                                         "weight", "inf", "slab"), tol_iter)
    expect_cols_equal(fi$dfbs, mi$dfbs, c("intrcpt", "ablat", "slab"), tol_iter)
    expect_equal(fi$ids, mi$ids)
    expect_equal(unname(fi$not.na), unname(mi$not.na))
    expect_equal(fi$is.infl, mi$is.infl)
    expect_equal(cooks.distance(f), cooks.distance(m), tolerance = tol_iter)
    expect_cols_equal(dfbetas(f), dfbetas(m), c("intrcpt", "ablat", "slab"), tol_iter)
    expect_length(fi$inf$rstudent, if (act == "na.omit") 10 else 13)
    expect_output(print(fi))
  })
})

test_that("leave1out and cumul are padded as in metafor", {
  skip_if_not_installed("metafor")
  d <- na_data()
  f <- suppressWarnings(rma(yi, vi, data = d))
  m <- suppressWarnings(metafor::rma(yi, vi, data = d, control = metafor_tight))
  cols <- c("estimate", "se", "zval", "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2", "slab")
  for (act in acts) with_na_action(act, {
    expect_cols_equal(leave1out(f), metafor::leave1out(m), cols, tol_iter)
    expect_equal(as.data.frame(leave1out(f)), as.data.frame(metafor::leave1out(m)), tolerance = tol_iter)
    fc <- cumul(f, order = year)
    mc <- metafor::cumul(m, order = year)
    expect_cols_equal(fc, mc, c("k", cols, "order"), tol_iter)
    expect_equal(fc$ids, mc$ids)
    expect_length(fc$estimate, if (act == "na.omit") 11 else 13)
  })
})

test_that("padding follows 'subset' (rows before subset are not reported)", {
  skip_if_not_installed("metafor")
  d <- na_data()
  f <- suppressWarnings(rma(yi, vi, mods = ~ ablat, data = d, subset = -1))
  m <- suppressWarnings(metafor::rma(yi, vi, mods = ~ ablat, data = d, subset = -1, control = metafor_tight))
  f0 <- suppressWarnings(rma(yi, vi, data = d, subset = -1))
  m0 <- suppressWarnings(metafor::rma(yi, vi, data = d, subset = -1, control = metafor_tight))
  for (act in acts) with_na_action(act, {
    expect_equal(fitted(f), fitted(m), tolerance = tol_iter, info = act)
    expect_equal(residuals(f), residuals(m), tolerance = tol_iter, info = act)
    expect_cols_equal(influence(f)$inf, influence(m)$inf, c("rstudent", "cook.d", "hat", "slab"), tol_iter)
    expect_cols_equal(leave1out(f0), metafor::leave1out(m0), c("estimate", "tau2", "slab"), tol_iter)
    expect_cols_equal(cumul(f0, order = year), metafor::cumul(m0, order = year), c("k", "estimate", "slab"), tol_iter)
  })
})

test_that("na.fail stops when rows were omitted; an unknown na.action is an error", {
  d <- na_data()
  f <- suppressWarnings(rma(yi, vi, mods = ~ ablat, data = d))
  f0 <- suppressWarnings(rma(yi, vi, data = d))
  with_na_action("na.fail", {
    expect_error(fitted(f), "Missing values")
    expect_error(residuals(f), "Missing values")
    expect_error(rstandard(f), "Missing values")
    expect_error(influence(f), "Missing values")
    expect_length(leave1out(f0)$estimate, 11)  # metafor: the rows used
    expect_error(cumul(f0), "Missing values")
  })
  with_na_action("na.nonsense", expect_error(fitted(f), "na.action"))
  # without missing values na.fail changes nothing
  g <- rma(yi, vi, data = bcg_data())
  expect_equal(with_na_action("na.fail", fitted(g)), fitted(g))
})
