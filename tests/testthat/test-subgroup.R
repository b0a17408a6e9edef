# subgroups(): per-subgroup fits, Q-between and QM against metafor.

bcg <- bcg_lrr()[, c("yi", "vi", "ablat", "alloc")]

# metafor reference: per-subgroup fits and the Borenstein Q-between.
ref_subgroups <- function(d, g, method = "REML", test = "z", tau2 = NULL) {
  lev <- sort(unique(g))
  fits <- lapply(lev, function(l) metafor::rma(yi, vi, data = d[g == l, ], method = method, test = test,
                                               tau2 = tau2, control = metafor_tight))
  est <- vapply(fits, function(f) c(f$beta), numeric(1))
  se <- vapply(fits, function(f) f$se, numeric(1))
  w <- 1 / se^2
  Qb <- sum(w * (est - sum(w * est) / sum(w))^2)
  list(fits = fits, est = est, se = se, Qb = Qb)
}

test_that("separate tau2: per-subgroup fits and Q-between match metafor", {
  skip_if_not_installed("metafor")
  for (method in c("REML", "DL")) {
    f <- rma(yi, vi, data = bcg, method = method)
    s <- subgroups(f, ~ alloc)
    r <- ref_subgroups(bcg, bcg$alloc, method = method)
    t <- s$table
    expect_identical(t$group, sort(unique(bcg$alloc)))
    expect_equal(t$k, vapply(r$fits, function(x) x$k, numeric(1)))
    expect_equal(t$estimate, r$est, tolerance = tol_iter)
    expect_equal(t$se, r$se, tolerance = tol_iter)
    expect_equal(t$ci.lb, vapply(r$fits, function(x) x$ci.lb, numeric(1)), tolerance = tol_iter)
    expect_equal(t$ci.ub, vapply(r$fits, function(x) x$ci.ub, numeric(1)), tolerance = tol_iter)
    expect_equal(t$pval, vapply(r$fits, function(x) x$pval, numeric(1)), tolerance = tol_iter)
    expect_equal(t$tau2, vapply(r$fits, function(x) x$tau2, numeric(1)), tolerance = tol_iter)
    expect_equal(t$I2, vapply(r$fits, function(x) x$I2, numeric(1)), tolerance = tol_iter)
    expect_equal(t$Q, vapply(r$fits, function(x) x$QE, numeric(1)), tolerance = tol_closed)
    expect_equal(s$Qb, r$Qb, tolerance = tol_iter)
    expect_equal(s$Qb.df, 2L)
    expect_equal(s$Qb.p, pchisq(r$Qb, 2, lower.tail = FALSE), tolerance = tol_iter)
    # moderator test of the mixed-effects model
    m <- metafor::rma(yi, vi, mods = ~ factor(alloc), data = bcg, method = method, control = metafor_tight)
    expect_equal(s$QM, m$QM, tolerance = tol_iter)
    expect_equal(s$QMp, m$QMp, tolerance = tol_iter)
  }
})

test_that("common tau2: subgroups use the moderator model's tau2 and Q-between equals QM", {
  skip_if_not_installed("metafor")
  f <- rma(yi, vi, data = bcg)
  s <- subgroups(f, ~ alloc, tau2 = "common")
  m <- metafor::rma(yi, vi, mods = ~ factor(alloc), data = bcg, control = metafor_tight)
  expect_equal(s$tau2.common, m$tau2, tolerance = tol_iter)
  r <- ref_subgroups(bcg, bcg$alloc, tau2 = m$tau2)
  expect_equal(s$table$estimate, r$est, tolerance = tol_iter)
  expect_equal(s$table$se, r$se, tolerance = tol_iter)
  expect_equal(s$table$tau2, rep(m$tau2, 3), tolerance = tol_iter)
  expect_equal(s$Qb, r$Qb, tolerance = tol_iter)
  # with one common tau2 the Wald test of the cell means is Q-between
  expect_equal(s$Qb, m$QM, tolerance = tol_iter)
  expect_equal(s$QM, m$QM, tolerance = tol_iter)
})

test_that("Knapp-Hartung fits carry over and QM is the F-test", {
  skip_if_not_installed("metafor")
  f <- rma(yi, vi, data = bcg, test = "knha")
  s <- subgroups(f, bcg$alloc)
  r <- ref_subgroups(bcg, bcg$alloc, test = "knha")
  expect_equal(s$table$ci.lb, vapply(r$fits, function(x) x$ci.lb, numeric(1)), tolerance = tol_iter)
  m <- metafor::rma(yi, vi, mods = ~ factor(alloc), data = bcg, test = "knha", control = metafor_tight)
  expect_equal(s$QM, m$QM, tolerance = tol_iter)
  expect_equal(s$QMdf, m$QMdf)
  expect_output(print(s), "F\\(df1 = 2, df2 = 10\\)")
})

test_that("a continuous moderator is split at 'cut'", {
  skip_if_not_installed("metafor")
  f <- rma(yi, vi, data = bcg)
  s <- subgroups(f, ~ ablat, cut = 30)
  expect_identical(s$table$group, c("ablat < 30", "ablat >= 30"))
  hi <- bcg$ablat >= 30
  r <- ref_subgroups(bcg, ifelse(hi, "b", "a"))
  expect_equal(s$table$k, c(sum(!hi), sum(hi)))
  expect_equal(s$table$estimate, r$est, tolerance = tol_iter)
  expect_equal(s$Qb, r$Qb, tolerance = tol_iter)
  m <- metafor::rma(yi, vi, mods = ~ I(ablat >= 30), data = bcg, control = metafor_tight)
  expect_equal(s$QM, m$QM, tolerance = tol_iter)
  # a vector 'by' gives the same
  s2 <- subgroups(f, bcg$ablat, cut = 30)
  expect_equal(s2$Qb, s$Qb)
})

test_that("subsets, missing groups, single-study groups and errors", {
  skip_if_not_installed("metafor")
  f <- rma(yi, vi, data = bcg, subset = 2:13)
  s <- subgroups(f, ~ alloc)
  r <- ref_subgroups(bcg[-1, ], bcg$alloc[-1])
  expect_equal(s$table$estimate, r$est, tolerance = tol_iter)
  g <- bcg$alloc
  g[2] <- NA
  expect_warning(s <- subgroups(rma(yi, vi, data = bcg), g), "missing subgroup")
  expect_equal(sum(s$table$k), 12)
  g1 <- c("a", rep("b", 12))
  s <- subgroups(rma(yi, vi, data = bcg), g1)
  expect_equal(s$table$estimate[1], bcg$yi[1], tolerance = tol_closed)
  expect_equal(s$table$se[1], sqrt(bcg$vi[1]), tolerance = tol_closed)
  f <- rma(yi, vi, data = bcg)
  expect_error(subgroups(f, rep("a", 13)), "at least 2")
  expect_error(subgroups(f, 1:5), "length 5")
  expect_error(subgroups(f, ~ nonexistent), "Cannot evaluate")
  expect_error(subgroups(f, bcg$alloc, cut = 3), "numeric 'by'")
  expect_error(subgroups(rma(yi, vi, mods = ~ ablat, data = bcg), bcg$alloc), "without moderators")
  expect_output(print(subgroups(f, ~ alloc)), "Test for subgroup differences")
})
