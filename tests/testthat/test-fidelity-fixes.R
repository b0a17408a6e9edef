# Silent differences from metafor found after issue 10, each fixed and tested
# against metafor (numbered as they were fixed).

bcg_es <- function() {
  d <- metadat::dat.bcg
  metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)
}

test_that("F1: method aliases (FE, CE, CO, VC, MP) are kept as given and printed as metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- bcg_es()
  for (m in c("EE", "FE", "CE", "CO", "VC", "MP", "PM", "HE")) {
    for (mods in list(~ 1, ~ ablat)) {
      ours <- metafast::rma(yi, vi, mods = mods, data = d, method = m)
      ref <- metafor::rma(yi, vi, mods = mods, data = d, method = m, control = metafor_tight)
      expect_identical(ours$method, ref$method)
      expect_identical(capture.output(print(ours))[2], capture.output(print(ref))[2])
      expect_equal(ours$tau2, ref$tau2, tolerance = tol_iter)
    }
  }
  # a fallback chain reports the estimator that was used, under its given name
  ours <- metafast::rma(yi, vi, data = d, method = c("MP", "DL"))
  expect_identical(ours$method, "MP")
})

test_that("F1: an FE fit works with the methods that branch on equal effects", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- bcg_es()
  ours <- metafast::rma(yi, vi, data = d, method = "FE")
  ref <- metafor::rma(yi, vi, data = d, method = "FE")
  l1 <- metafast::leave1out(ours)
  r1 <- metafor::leave1out(ref)
  expect_null(l1$tau2)
  expect_equal(l1$estimate, r1$estimate, tolerance = tol_closed)
  expect_error(confint(ours), "random-effects")
})

test_that("F2: a character 'btt' is a regular expression, as metafor's", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- bcg_es()
  ours <- metafast::rma(yi, vi, mods = ~ ablat + year + alloc, data = d)
  ref <- metafor::rma(yi, vi, mods = ~ ablat + year + alloc, data = d, control = metafor_tight)
  for (b in c("alloc", "^abl|year", "a")) {
    a1 <- anova(ours, btt = b)
    a2 <- metafor::anova.rma(ref, btt = b)
    expect_identical(a1$btt, a2$btt)
    expect_equal(a1$QM, a2$QM, tolerance = tol_iter)
    f1 <- metafast::rma(yi, vi, mods = ~ ablat + year + alloc, data = d, btt = b)
    expect_identical(f1$btt, a2$btt)
  }
  # in rma(), only the first string is used, with R's warning (metafor uses
  # grep too); anova() tests each string of a vector separately, as metafor
  expect_warning(f2 <- metafast::rma(yi, vi, mods = ~ ablat + year + alloc, data = d, btt = c("year", "ablat")),
                 "first element")
  expect_identical(f2$btt, 3L)
  a1 <- anova(ours, btt = c("year", "ablat"))
  a2 <- metafor::anova.rma(ref, btt = c("year", "ablat"))
  expect_equal(as.data.frame(a1)$QM, as.data.frame(a2)$QM, tolerance = tol_iter)
  expect_error(anova(ours, btt = "nomatch"), "'btt'")
})

test_that("F2: numeric 'btt' as metafor: negative numbers leave out, numbers beyond p are dropped", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- bcg_es()
  ours <- metafast::rma(yi, vi, mods = ~ ablat + year, data = d)
  ref <- metafor::rma(yi, vi, mods = ~ ablat + year, data = d, control = metafor_tight)
  for (b in list(-1, c(-1, -2), c(2, 9), c(3, 2, 2), 2.2)) {
    a1 <- anova(ours, btt = b)
    a2 <- metafor::anova.rma(ref, btt = b)
    expect_identical(a1$btt, a2$btt)
    expect_equal(a1$QM, a2$QM, tolerance = tol_iter)
  }
  expect_error(anova(ours, btt = c(-1, 2)), "'btt'")
  expect_error(anova(ours, btt = 7), "'btt'")
  expect_error(metafor::anova.rma(ref, btt = 7))
})

test_that("F3: predict() without newmods under na.pass predicts rows with a missing yi (metafor uses X.f)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- bcg_es()
  d$yi[3] <- NA
  d$ablat[5] <- NA
  old <- options(na.action = "na.pass")
  on.exit(options(old))
  ours <- suppressWarnings(metafast::rma(yi, vi, mods = ~ ablat, data = d))
  ref <- suppressWarnings(metafor::rma(yi, vi, mods = ~ ablat, data = d, control = metafor_tight))
  for (args in list(list(), list(transf = exp), list(addx = TRUE))) {
    p1 <- do.call(predict, c(list(ours), args))
    p2 <- do.call(predict, c(list(ref), args))
    for (nm in c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"))
      expect_equal(unname(p1[[nm]]), unname(p2[[nm]]), tolerance = tol_iter)
    expect_false(is.na(p1$pred[3]))
    expect_true(is.na(p1$pred[5]))
    expect_equal(as.character(p1$slab), as.character(p2$slab))
  }
  options(na.action = "na.exclude")
  p1 <- predict(ours)
  p2 <- predict(ref)
  expect_equal(unname(p1$pred), unname(p2$pred), tolerance = tol_iter)
  expect_true(is.na(p1$pred[3]))
})

test_that("F4: fuzz findings give errors that name the argument", {
  fit <- metafast::rma(c(0.1, 0.3, 0.35, 0.6), c(0.03, 0.02, 0.05, 0.01))
  pdf(NULL)
  on.exit(dev.off())
  expect_error(forest(fit, slab = function(x) x), "'slab' must be a vector")
  expect_error(forest(fit, slab = data.frame(a = 1:4, b = 1:4)), "'slab' must be a vector of study labels")
  # a one-column data frame is its column
  out <- forest(fit, slab = data.frame(a = c("A", "B", "C", "D")))
  expect_identical(out$studies$slab, c("A", "B", "C", "D"))
  expect_error(forest(c(0.1, 0.2), c(0.01, 0.02), slab = list("a", "b")), "'slab' must be a vector")
  expect_error(reproduce_review(verbose = factor(character(0))), "'verbose' must be TRUE or FALSE")
  d <- data.frame(yi = c(0.1, 0.3, 0.35, 0.6), vi = c(0.03, 0.02, 0.05, 0.01), x = 1:4)
  f2 <- metafast::rma(yi, vi, mods = ~ x, data = d)
  expect_error(update(f2, formula. = ~ . + zz_undefined), "Cannot evaluate the moderators in 'mods'.*zz_undefined")
})

test_that("F5: rma.mv()'s ids are unnamed row numbers, as metafor's (they carried the row names)", {
  skip_if_not_installed("metafor")
  d <- data.frame(study = c(1, 1, 2, 3, 3, 3), es = c(1, 2, 1, 1, 2, 3),
                  yi = c(0.1, 0.3, 0.2, 0.5, 0.4, 0.6), vi = c(0.01, 0.02, 0.015, 0.02, 0.03, 0.01),
                  x = c(0, 1, 0, 1, 0, 1))
  d <- d[c(2, 1, 3:6), ]
  f <- metafast::rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = d)
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = d)
  expect_identical(f$ids, m$ids)
  expect_identical(f$not.na, m$not.na)
})

test_that("F6: fuzz findings of 2026-12-03 give errors that name the argument", {
  expect_error(contrmat(data = list(1, "a", NULL), grp1 = "a", grp2 = "b"), "'data' must be a data frame")
  expect_error(transf.ilogit.mode(c(-0.5, 0.2), targs = numeric(0)), "'tau2' value in 'targs' must be a")
  expect_error(transf.ilogit.mode(c(-0.5, 0.2), targs = list(tau2 = NA)), "'tau2' value in 'targs' must be a number")
  expect_error(transf.ztor.int(0.2, targs = list(tau2 = numeric(0))), "'tau2' value in 'targs' must be a number")
  expect_error(transf.ztor.int(0.2, targs = list(tau2 = "a")), "'tau2' value in 'targs' must be a number")
})

test_that("F7: the F test's fractional df2 (HTZ) is printed rounded to 2 decimals, as metafor prints it", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  f <- metafast::rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = dat)
  m <- metafor::rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = dat)
  ours <- capture.output(print(anova(robust(f, cluster = study, clubSandwich = TRUE), btt = 2:3)))
  theirs <- capture.output(print(metafor::anova.rma(metafor::robust(m, cluster = dat$study, clubSandwich = TRUE),
                                                    btt = 2:3)))
  line <- function(x) grep("^F\\(df1", x, value = TRUE)
  expect_identical(sub(" = [0-9.]+, p-val.*", "", line(ours)), sub(" = [0-9.]+, p-val.*", "", line(theirs)))
  expect_match(line(ours), "df2 = 0.8\\)")
})

test_that("F8: 'level' is read as metafor reads it: 0.05 is alpha (a 95% interval), 0 a zero-width one", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  for (lv in c(0.05, 0.3, 0.5, 0.9, 1, 0, 40)) {
    info <- paste("level =", lv)
    f <- metafast::rma(yi, vi, mods = ~ ablat, data = d, level = lv)
    m <- metafor::rma(yi, vi, mods = ~ ablat, data = d, level = lv, control = metafor_tight)
    expect_equal(f$level, m$level, tolerance = tol_closed, info = info)
    expect_equal(unname(c(f$ci.lb, f$ci.ub)), c(m$ci.lb, m$ci.ub), tolerance = tol_iter, info = info)
    # given to a method of a fit made at 95%
    f95 <- metafast::rma(yi, vi, mods = ~ ablat, data = d)
    m95 <- metafor::rma(yi, vi, mods = ~ ablat, data = d, control = metafor_tight)
    pf <- predict(f95, newmods = 30, level = lv)
    pm <- predict(m95, newmods = 30, level = lv)
    expect_equal(c(pf$ci.lb, pf$pi.lb, pf$pi.ub), c(pm$ci.lb, pm$pi.lb, pm$pi.ub), tolerance = tol_iter, info = info)
    if (lv > 0) {
      cf <- confint(f95, level = lv, fixed = TRUE)$fixed
      cm <- confint(m95, level = lv, fixed = TRUE)$fixed
      expect_equal(unname(cf[, "ci.lb"]), unname(cm[, "ci.lb"]), tolerance = tol_iter, info = info)
      hf <- metafast::rma.mh(tpos, tneg, cpos, cneg, data = d, level = lv)
      hm <- metafor::rma.mh(tpos, tneg, cpos, cneg, data = d, level = lv)
      expect_equal(c(hf$ci.lb, hf$ci.ub), c(hm$ci.lb, hm$ci.ub), tolerance = tol_closed, info = info)
      vf <- metafast::rma.mv(yi, vi, random = ~ 1 | trial, data = d, level = lv)
      vm <- mv_ref(yi, vi, random = ~ 1 | trial, data = d, level = lv)
      expect_equal(c(vf$ci.lb, vf$ci.ub), c(vm$ci.lb, vm$ci.ub), tolerance = tol_iter, info = info)
    }
  }
  expect_error(metafast::rma(yi, vi, data = d, level = 100), "'level'")
})

test_that("F9: control entries: unnamed, negative tol or tau2.max and tau2.min != 0 are errors; rma_many keeps the user's tau2.max", {
  skip_if_not_installed("metadat")
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  expect_error(metafast::rma(yi, vi, data = d, control = list(1)), "'control' must be named")
  expect_error(metafast::rma(yi, vi, data = d, control = list(maxiter = 50, 2)), "'control' must be named")
  expect_error(metafast::rma(yi, vi, data = d, control = list(tol = -1)), "'control\\$tol'")
  expect_error(metafast::rma(yi, vi, data = d, control = list(tau2.max = -1)), "'control\\$tau2.max'")
  # tau2.min was accepted and ignored; it is the lower bound of tau^2 now (test-numerics.R);
  # metafor's negative lower bounds are refused by name
  expect_error(metafast::rma(yi, vi, data = d, control = list(tau2.min = -0.01)), "'control\\$tau2.min'")
  expect_error(metafast::rma(yi, vi, data = d, control = list(tau2.min = 2, tau2.max = 1)), "'control\\$tau2.min'")
  # rma_many overwrote a user's tau2.max: a bound below the PM estimate (0.31) must make PM fail
  # there exactly as rma() fails with it (metafor: "Value of 'tau2.max' too low")
  Y <- cbind(d$yi, d$yi); V <- cbind(d$vi, d$vi)
  expect_error(metafast::rma(yi, vi, data = d, method = "PM", control = list(tau2.max = 0.1)), "tau2.max")
  expect_warning(metafast::rma_many(Y, V, method = "PM", control = list(tau2.max = 0.1)), "did not converge")
  expect_no_warning(metafast::rma_many(Y, V, method = "PM", control = list(tau2.max = 5)))
})

test_that("F10: a 'transf' that fails or returns the wrong length or type: an error naming 'transf'; Dates in escalc: an error", {
  skip_if_not_installed("metadat")
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  f <- metafast::rma(yi, vi, data = d)
  bad <- list(function(x) stop("boom"), function(x) c(x, x), function(x) "a", function(x) list(x))
  for (tf in bad) {
    expect_error(predict(f, transf = tf), "'transf'")
    expect_error(confint(f, fixed = TRUE, transf = tf), "'transf'")
    expect_error(cumul(f, transf = tf), "'transf'")
    expect_error(leave1out(f, transf = tf), "'transf'")
    expect_error(summary(d, transf = tf), "'transf'")
    expect_error(metafast::conv.wald(out = c(1.5, 0.8), ci.lb = c(1.1, 0.5), ci.ub = c(2.05, 1.28), transf = tf), "'transf'")
  }
  # an integer-valued transf is a number (no error)
  expect_equal(predict(f, transf = function(x) 1L)$pred, 1)
  x <- metadat::dat.bcg
  x$tpos <- as.Date(x$tpos, origin = "1970-01-01")
  expect_error(metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = x), "'ai' must be numeric, not Date")
  x$tpos <- as.difftime(metadat::dat.bcg$tpos, units = "days")
  expect_error(metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = x), "'ai' must be numeric, not difftime")
  x$tpos <- I(metadat::dat.bcg$tpos)  # a numeric class: accepted
  expect_equal(c(metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = x)$yi), c(d$yi), tolerance = tol_closed)
})

test_that("F11: gosh() refuses runs beyond 1e7 fits (enumerated or random) with their size and memory, unless setmfopt(gosh.max) allows them", {
  set.seed(11)
  k <- 26
  f <- metafast::rma(stats::rnorm(k), stats::runif(k, 0.01, 0.1), method = "DL")
  expect_error(gosh(f, subsets = 5e7), "would fit 50,000,000 subsets \\(k = 26\\), keeping about .*(Gb|GB|Mb|MB)")
  expect_error(gosh(f, subsets = 1e8), "setmfopt\\(gosh.max")   # all 67,108,837 subsets enumerated
  old <- setmfopt(gosh.max = 2e3)
  on.exit(setmfopt(gosh.max = NULL))
  expect_error(gosh(f, subsets = 3000), "would fit 3,000 subsets")
  expect_s3_class(gosh(f, subsets = 2000, seed = 1), "mf_gosh")
})

test_that("F12: a fit and split_shared_control() never alias the caller's data (data.table's set() changes columns in place)", {
  skip_if_not_installed("data.table")
  skip_if_not_installed("metadat")
  d <- data.table::as.data.table(metadat::dat.bcg)
  d$yi <- log((d$tpos / (d$tpos + d$tneg)) / (d$cpos / (d$cpos + d$cneg)))
  d$vi <- 1 / d$tpos - 1 / (d$tpos + d$tneg) + 1 / d$cpos - 1 / (d$cpos + d$cneg)
  y0 <- d$yi[1]; v0 <- d$vi[1]
  f1 <- metafast::rma(yi, vi, data = d)
  f2 <- metafast::rma(d$yi, d$vi)
  f3 <- metafast::rma.mv(d$yi, d$vi, random = ~ 1 | trial, data = d)
  l2 <- leave1out(f2)$estimate
  s <- split_shared_control(d, trial = "trial", n2i = "cneg")
  data.table::set(d, i = 1L, j = "yi", value = 100)
  data.table::set(d, i = 1L, j = "vi", value = 100)
  data.table::set(d, i = 1L, j = "cneg", value = 1L)
  for (f in list(f1, f2, f3)) expect_identical(c(f$yi[1], f$vi[1]), c(y0, v0))
  expect_identical(leave1out(f2)$estimate, l2)
  expect_identical(s$yi[1], y0)
  expect_identical(s$cneg[1], metadat::dat.bcg$cneg[1])
})
