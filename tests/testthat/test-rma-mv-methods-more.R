# Methods for rma.mv() fits with '~ inner | outer' terms and more of
# metafor's arguments (issue 12, item 2), against metafor 5.2.1 on metadat's
# data.  Closed-form methods are compared with metafor's method applied to
# metafor's fit with every variance component fixed at our estimates (so the
# two fits share the components and the comparison is at tol_iter or better).

mm_berkey <- function() {
  dat <- metadat::dat.berkey1998
  dat$V <- NULL
  V <- metafor::bldiag(lapply(split(dat[, c("v1i", "v2i")], dat$trial), as.matrix))
  list(dat = dat, V = V)
}

# metafor's fit with the components of our fit f fixed
mm_ref_at <- function(f, ...) {
  args <- list(...)
  for (nm in c("sigma2", "tau2", "rho", "gamma2", "phi")) {
    w <- switch(nm, sigma2 = "withS", tau2 = , rho = "withG", "withH")
    if (isTRUE(f[[w]])) args[[nm]] <- f[[nm]]
  }
  do.call(metafor::rma.mv, args)
}

# the numeric columns and the level columns of two predict() results
expect_pred_equal <- function(p, q) {
  cols <- c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub", "tau2.level", "gamma2.level")
  for (nm in intersect(cols, names(unclass(q)))) {
    expect_true(nm %in% names(unclass(p)), info = nm)
    if (is.numeric(q[[nm]])) expect_equal(unname(c(p[[nm]])), unname(c(q[[nm]])), tolerance = tol_iter, info = nm)
    else expect_identical(p[[nm]], q[[nm]], info = nm)
  }
  for (nm in setdiff(c("tau2.level", "gamma2.level"), names(unclass(q))))
    expect_null(p[[nm]], info = nm)
}

test_that("predict() with tau2.levels for DIAG and CS over outcome | trial matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  b <- mm_berkey()
  dat <- b$dat
  V <- b$V
  for (st in c("DIAG", "CS")) {
    f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = st, data = dat)
    m <- mm_ref_at(f, yi = dat$yi, V = V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = st, data = dat)
    expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
    # fitted values: each row at its own inner level
    expect_pred_equal(predict(f), predict(m))
    # new rows with given levels (labels, numbers, recycled), and without (NA for DIAG)
    X2 <- rbind(c(1, 0), c(0, 1))
    expect_pred_equal(predict(f, newmods = c(1, 0), tau2.levels = "PD"),
                      predict(m, newmods = c(1, 0), tau2.levels = "PD"))
    expect_pred_equal(predict(f, newmods = X2, tau2.levels = 1:2), predict(m, newmods = X2, tau2.levels = 1:2))
    expect_pred_equal(predict(f, newmods = X2, tau2.levels = "AL"), predict(m, newmods = X2, tau2.levels = "AL"))
    expect_pred_equal(predict(f, newmods = X2), predict(m, newmods = X2))
    expect_pred_equal(predict(f, newmods = X2, tau2.levels = 2:1, level = 90, adjust = TRUE),
                      predict(m, newmods = X2, tau2.levels = 2:1, level = 90, adjust = TRUE))
    # fitted values ignore the levels with metafor's warning
    expect_warning(p <- predict(f, tau2.levels = 1), "ignored when obtaining fitted values")
    expect_pred_equal(p, predict(m))
    # intercept-only: one prediction per inner level, or per given level
    f <- rma.mv(yi, V, random = ~ outcome | trial, struct = st, data = dat)
    m <- mm_ref_at(f, yi = dat$yi, V = V, random = ~ outcome | trial, struct = st, data = dat)
    expect_pred_equal(predict(f), predict(m))
    expect_pred_equal(predict(f, tau2.levels = c(2, 1, 2)), predict(m, tau2.levels = c(2, 1, 2)))
  }
  # bad levels: metafor's errors
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "DIAG", data = dat)
  expect_error(predict(f, newmods = c(1, 0), tau2.levels = "XX"), "Non-existing levels.*'tau2.levels'")
  expect_error(predict(f, newmods = c(1, 0), tau2.levels = 3), "Non-existing tau\\^2 values")
  expect_error(predict(f, newmods = rbind(c(1, 0), c(0, 1), c(1, 1)), tau2.levels = 1:2),
               "Length of the 'tau2.levels' argument \\(2\\)")
  expect_error(predict(f, newmods = c(1, 0), gamma2.levels = 1), "'gamma2.levels'")
})

test_that("predict() with tau2.levels and gamma2.levels for two inner | outer terms matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  dat$half <- factor(dat$esid > 3)
  dat$odd <- factor(dat$esid %% 2)
  r <- list(~ half | study, ~ odd | study)
  for (st in list(c("DIAG", "CS"), c("CS", "DIAG"), c("DIAG", "DIAG"))) {
    f <- rma.mv(yi, vi, random = r, struct = st, data = dat)
    m <- mm_ref_at(f, yi = dat$yi, V = dat$vi, random = r, struct = st, data = dat)
    expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
    expect_pred_equal(predict(f), predict(m))
    expect_pred_equal(predict(f, tau2.levels = c(1, 2), gamma2.levels = c("1", "0")),
                      predict(m, tau2.levels = c(1, 2), gamma2.levels = c("1", "0")))
    expect_error(predict(f, tau2.levels = 1), "Either specify both")
    f <- rma.mv(yi, vi, mods = ~ year, random = r, struct = st, data = dat)
    m <- mm_ref_at(f, yi = dat$yi, V = dat$vi, mods = ~ year, random = r, struct = st, data = dat)
    expect_pred_equal(predict(f), predict(m))
    expect_pred_equal(predict(f, newmods = 1:3, tau2.levels = 1), predict(m, newmods = 1:3, tau2.levels = 1))
    expect_pred_equal(predict(f, newmods = 1:3, tau2.levels = 1, gamma2.levels = c(1, 2, 1)),
                      predict(m, newmods = 1:3, tau2.levels = 1, gamma2.levels = c(1, 2, 1)))
  }
})

test_that("dfs = \"contain\" with inner | outer terms matches metafor's containment rule", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  b <- mm_berkey()
  dat_b <- b$dat
  V <- b$V
  dat_k <- metadat::dat.konstantopoulos2011
  dat_a <- metadat::dat.assink2016
  dat_a$half <- factor(dat_a$esid > 3)
  dat_a$odd <- factor(dat_a$esid %% 2)
  chk <- function(f, m) {
    expect_equal(unname(f$ddf), unname(m$ddf))
    expect_identical(f$test, m$test)
    expect_equal(f$pval, m$pval, tolerance = tol_iter)
    expect_equal(c(f$ci.lb, f$ci.ub), c(m$ci.lb, m$ci.ub), tolerance = tol_iter)
    expect_equal(f$QMdf, m$QMdf)
    expect_equal(f$QMp, m$QMp, tolerance = tol_iter)
  }
  # (outcome x trial combinations: 10 levels; trial: 5; metafor's k - p for
  # the moderators that vary within trials)
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "DIAG", data = dat_b, dfs = "contain")
  chk(f, mm_ref_at(f, yi = dat_b$yi, V = V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "DIAG",
                   data = dat_b, dfs = "contain"))
  f <- rma.mv(yi, V, mods = ~ outcome + year, random = ~ outcome | trial, struct = "CS", data = dat_b, dfs = "contain")
  m <- mm_ref_at(f, yi = dat_b$yi, V = V, mods = ~ outcome + year, random = ~ outcome | trial, struct = "CS",
                 data = dat_b, dfs = "contain")
  chk(f, m)
  expect_equal(unname(f$ddf), c(2, 7, 2))
  expect_pred_equal(predict(f, newmods = c(1, 1980)), predict(m, newmods = c(1, 1980)))
  expect_equal(predict(f, newmods = c(1, 1980))$ddf, predict(m, newmods = c(1, 1980))$ddf)
  f <- rma.mv(yi, vi, mods = ~ year, random = ~ school | district, data = dat_k, dfs = "contain")
  chk(f, mm_ref_at(f, yi = dat_k$yi, V = dat_k$vi, mods = ~ year, random = ~ school | district, data = dat_k,
                   dfs = "contain"))
  f <- rma.mv(yi, vi, mods = ~ year + half, random = list(~ half | study, ~ odd | study), struct = c("DIAG", "CS"),
              data = dat_a, dfs = "contain")
  chk(f, mm_ref_at(f, yi = dat_a$yi, V = dat_a$vi, mods = ~ year + half, random = list(~ half | study, ~ odd | study),
                   struct = c("DIAG", "CS"), data = dat_a, dfs = "contain"))
  f <- rma.mv(yi, vi, mods = ~ deltype, random = list(~ 1 | study, ~ half | study), struct = "CS", data = dat_a,
              dfs = "contain")
  chk(f, mm_ref_at(f, yi = dat_a$yi, V = dat_a$vi, mods = ~ deltype, random = list(~ 1 | study, ~ half | study),
                   struct = "CS", data = dat_a, dfs = "contain"))
})

test_that("residuals(type = \"rstudent\") is metafor's (the z of rstudent())", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  tight <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  m <- metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, control = tight)
  rf <- residuals(f, type = "rstudent")
  rm <- residuals(m, type = "rstudent")
  expect_equal(rf, rm, tolerance = 1e-5)
  expect_identical(names(rf), names(rm))
  expect_identical(rf, setNames(rstudent(f)$z, rstudent(f)$slab))
})

test_that("ranef(vcov = TRUE) gives metafor's covariance matrices of the predicted random effects", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat_a <- metadat::dat.assink2016
  dat_k <- metadat::dat.konstantopoulos2011
  cases <- list(list(d = dat_a, mods = ~ deltype, test = "z"), list(d = dat_k, mods = ~ year, test = "t"))
  for (cs in cases) {
    dat <- cs$d
    r <- if (identical(dat, dat_a)) ~ 1 | study/esid else ~ 1 | district/school
    f <- rma.mv(yi, vi, mods = cs$mods, random = r, data = dat, test = cs$test)
    m <- mm_ref_at(f, yi = dat$yi, V = dat$vi, mods = cs$mods, random = r, data = dat, test = cs$test)
    rf <- ranef(f, vcov = TRUE)
    rm <- metafor::ranef(m, vcov = TRUE)
    expect_identical(names(rf), c("pred", "vcov"))
    expect_identical(names(rf$vcov), names(rm$vcov))
    expect_equal(rf$pred, rm$pred, tolerance = tol_iter)
    for (j in seq_along(rm$vcov))
      expect_equal(unname(rf$vcov[[j]]), unname(as.matrix(unclass(rm$vcov[[j]]))), tolerance = tol_iter)
    # the diagonal is the square of the se column
    expect_equal(sqrt(diag(rf$vcov[[2L]])), rf$pred[[2L]]$se, tolerance = 1e-12)
    expect_identical(ranef(f, vcov = FALSE), ranef(f))
  }
  expect_error(ranef(f, vcov = NA), "'vcov'")
})

test_that("anova() for rma.mv fits: L, fixed, test = \"Wald\" and df as metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  f1 <- rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat, method = "ML")
  f0 <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = dat, method = "ML")
  m1 <- mm_ref_at(f1, yi = dat$yi, V = dat$vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat,
                  method = "ML")
  m0 <- mm_ref_at(f0, yi = dat$yi, V = dat$vi, mods = ~ year, random = ~ 1 | study/esid, data = dat, method = "ML")
  num <- function(a) unlist(unclass(a)[c("QM", "QMdf", "QMp", "zval", "pval", "LRT", "parms.f", "parms.r")])
  # L: metafor's alias of X
  Lm <- rbind(c(0, 1, -1, 0), c(0, 1, 0, 0))
  expect_equal(num(anova(f1, L = Lm)), num(metafor:::anova.rma(m1, L = Lm)), tolerance = tol_iter)
  expect_equal(num(anova(f1, L = Lm)), num(anova(f1, X = Lm)))
  # fixed = TRUE: the btt string literally ("deltype" matches two coefficients either way; "e." only as a regex)
  expect_equal(num(anova(f1, btt = "deltype", fixed = TRUE)), num(metafor:::anova.rma(m1, btt = "deltype", fixed = TRUE)),
               tolerance = tol_iter)
  expect_identical(anova(f1, btt = "e.", fixed = FALSE)$btt, metafor:::anova.rma(m1, btt = "e.")$btt)
  expect_error(anova(f1, btt = "e.", fixed = TRUE), "'btt'")
  expect_error(metafor:::anova.rma(m1, btt = "e.", fixed = TRUE))
  bl <- anova(f1, btt = list("deltype", "year"), fixed = TRUE)
  ml <- metafor:::anova.rma(m1, btt = list("deltype", "year"), fixed = TRUE)
  for (j in 1:2) expect_equal(num(bl[[j]]), num(ml[[j]]), tolerance = tol_iter)
  # two models: the Wald test of the coefficients the reduced model lacks
  aw <- anova(f1, f0, test = "Wald")
  mw <- metafor:::anova.rma(m1, m0, test = "Wald")
  expect_equal(num(aw), num(mw), tolerance = tol_iter)
  expect_identical(aw$btt, mw$btt)
  expect_equal(num(anova(f0, f1, test = "Wald")), num(metafor:::anova.rma(m0, m1, test = "Wald")), tolerance = tol_iter)
  # the LRT with a given df (models not reordered): against metafor's
  # estimated fits (the parameter counts include the estimated components)
  tight <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
  e1 <- metafor::rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat, method = "ML", control = tight)
  e0 <- metafor::rma.mv(yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = dat, method = "ML", control = tight)
  e2 <- metafor::rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study, data = dat, method = "ML", control = tight)
  expect_equal(num(anova(f1, f0, df = 3)), num(metafor:::anova.rma(e1, e0, df = 3)), tolerance = 1e-5)
  expect_equal(num(anova(f1, f0)), num(metafor:::anova.rma(e1, e0)), tolerance = 1e-5)
  f2 <- rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study, data = dat, method = "ML")
  expect_equal(num(anova(f2, f1, df = 1)), num(metafor:::anova.rma(e2, e1, df = 1)), tolerance = 1e-5)
  expect_equal(anova(f2, f1, df = 1)$parms.f, f2$parms + 1)
  expect_error(anova(f1, f0, test = "XX"), "'test'")
  expect_error(anova(f1, f0, df = "a"), "'df'")
  expect_error(anova(f1, fixed = NA), "'fixed'")
  fr <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = dat)
  expect_error(anova(f1, fr, test = "Wald"), "same 'method'")
})

test_that("case deletion that leaves a factor with one level fixes its sigma2 at 0, as metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  tight <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
  k <- metadat::dat.konstantopoulos2011
  # two districts: leaving one out leaves the district factor with one level
  dat <- k[k$district %in% c(11, 12, 18), ]
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, subset = district != 18)
  m <- metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, subset = district != 18, control = tight)
  expect_silent(cd <- cooks.distance(f, cluster = district))
  expect_false(anyNA(cd))
  expect_equal(cd, cooks.distance(m, cluster = district), tolerance = 1e-5)
  rf <- rstudent(f, cluster = district)
  rm <- rstudent(m, cluster = district)
  expect_equal(rf$obs$z, rm$obs$z, tolerance = 1e-5)
  expect_equal(rf$cluster$X2, rm$cluster$X2, tolerance = 1e-5)
  expect_equal(as.matrix(dfbetas(f, cluster = district)), as.matrix(dfbetas(m, cluster = district)), tolerance = 1e-5)
  # dat.assink2016 with two studies (study/esid), leaving one study out
  a <- metadat::dat.assink2016
  a <- a[a$study %in% c(1, 3), ]
  f <- rma.mv(yi, vi, random = ~ 1 | study/esid, data = a)
  m <- metafor::rma.mv(yi, vi, random = ~ 1 | study/esid, data = a, control = tight)
  cd <- cooks.distance(f, cluster = study)
  expect_false(anyNA(cd))
  expect_equal(cd, cooks.distance(m, cluster = study), tolerance = 1e-5)
  expect_equal(rstudent(f, cluster = study)$cluster$X2, rstudent(m, cluster = study)$cluster$X2, tolerance = 1e-5)
})
