# predict() vs metafor: fitted values, new moderators, prediction intervals, transf.

cols <- c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub")
same_pred <- function(a, b, tol, info = NULL) {
  for (cl in intersect(cols, names(b))) expect_equal(unname(a[[cl]]), unname(b[[cl]]), tolerance = tol, ignore_attr = TRUE, info = paste(info, cl))
}

test_that("predict() matches metafor across methods, tests and models", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (meth in c("REML", "DL", "EE", "ML")) for (test in c("z", "knha")) {
    info <- paste(meth, test)
    f <- rma(yi, vi, data = dat, method = meth, test = test)
    m <- metafor::rma(yi, vi, data = dat, method = meth, test = test, control = metafor_tight)
    same_pred(predict(f), predict(m), tol_iter, info)
    f <- rma(yi, vi, mods = ~ ablat, data = dat, method = meth, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = meth, test = test, control = metafor_tight)
    same_pred(predict(f), predict(m), tol_iter, info)
    same_pred(predict(f, newmods = c(10, 30, 50)), predict(m, newmods = c(10, 30, 50)), tol_iter, info)
    same_pred(predict(f, newmods = 20, level = 90), predict(m, newmods = 20, level = 90), tol_iter, info)
    if (meth == "EE") expect_null(predict(f)$pi.lb)
  }
})

test_that("factor models: matrix newmods, named columns, intercept = FALSE", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ factor(alloc), data = dat)
  m <- metafor::rma(yi, vi, mods = ~ factor(alloc), data = dat, control = metafor_tight)
  nm <- rbind(c(0, 0), c(1, 0), c(0, 1))
  same_pred(predict(f, newmods = nm), predict(m, newmods = nm), tol_iter)
  named <- cbind("factor(alloc)systematic" = c(1, 0), "factor(alloc)random" = c(0, 1))
  same_pred(predict(f, newmods = named), predict(m, newmods = named), tol_iter)
  same_pred(predict(f, newmods = c(1, 0), intercept = FALSE), predict(m, newmods = c(1, 0), intercept = FALSE), tol_iter)
  # a data frame is matched to the formula's terms (factor levels as in the fit)
  nd <- data.frame(alloc = c("alternate", "random", "systematic"))
  same_pred(predict(f, newmods = nd), predict(m, newmods = nm), tol_iter)
  f2 <- rma(yi, vi, mods = ~ ablat, data = dat)
  m2 <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  same_pred(predict(f2, newmods = data.frame(ablat = c(15, 45))), predict(m2, newmods = c(15, 45)), tol_iter)
})

test_that("transf is applied to pred and the bounds; se becomes NA", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)
  pf <- predict(f, newmods = c(10, 40), transf = exp)
  pm <- predict(m, newmods = c(10, 40), transf = exp)
  same_pred(pf, pm, tol_iter)
  expect_true(all(is.na(pf$se)))
  r <- rma(yi, vi, data = dat)
  expect_equal(predict(r, transf = exp)$pred, exp(c(r$beta)))
})

test_that("the prediction interval is pred +- crit * sqrt(se^2 + tau2)", {
  dat <- bcg_data()
  f <- rma(yi, vi, data = dat, test = "knha")
  p <- predict(f)
  crit <- qt(0.975, 12)
  expect_equal(p$pi.ub, p$pred + crit * sqrt(p$se^2 + f$tau2), tolerance = 1e-12)
})

test_that("predict output prints and converts to a data frame; bad newmods are errors", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  p <- predict(f, newmods = c(10, 30))
  expect_output(print(p), "pred\\s+se\\s+ci.lb\\s+ci.ub\\s+pi.lb\\s+pi.ub")
  df <- as.data.frame(p)
  expect_s3_class(df, "data.frame")
  expect_equal(names(df), c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"))
  expect_equal(nrow(df), 2L)
  expect_error(predict(rma(yi, vi, data = dat), newmods = 1), "without moderators")
  expect_error(predict(f, newmods = "a"), "numeric")
  g <- rma(yi, vi, mods = ~ ablat + factor(alloc), data = dat)
  expect_error(predict(g, newmods = c(1, 2)), "columns")
})

test_that("adjust (Bonferroni), addx and vcov match metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (test in c("z", "knha")) {
    f <- rma(yi, vi, mods = ~ ablat, data = dat, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, test = test, control = metafor_tight)
    nm <- c(10, 30, 50)
    same_pred(predict(f, newmods = nm, adjust = TRUE), predict(m, newmods = nm, adjust = TRUE), tol_iter, test)
    # the adjusted intervals are wider than the unadjusted ones
    expect_true(all(predict(f, newmods = nm, adjust = TRUE)$ci.lb < predict(f, newmods = nm)$ci.lb))
    a <- predict(f, newmods = nm, addx = TRUE)
    b <- predict(m, newmods = nm, addx = TRUE)
    expect_equal(unname(a$X), unname(b$X))
    expect_identical(colnames(a$X), c("intrcpt", "ablat"))
    va <- predict(f, newmods = nm, vcov = TRUE)
    vb <- predict(m, newmods = nm, vcov = TRUE)
    same_pred(va$pred, vb$pred, tol_iter, test)
    expect_equal(unname(unclass(va$vcov)), unname(unclass(as.matrix(vb$vcov))), tolerance = tol_iter)
  }
  expect_error(predict(f, adjust = NA), "'adjust'")
  expect_error(predict(f, vcov = "yes"), "'vcov'")
})
