# Case deletion (rstudent, cooks.distance, dfbetas) of crossed fits by the
# sparse engine, whose linked rows exceed the dense blocks' limit (issue 12):
# each refit is a sparse fit of the kept rows (core/refit_crossed.hpp),
# checked against metafor's refits (run with tight optimiser settings) and
# against the block engine's refits of the same fit.  The internal options
# metafast.mv_sparse_rows and metafast.mv_dense_rows let small data take the
# sparse path.

skip_if_not_installed("metafor")

spdel_tight <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
tol_vc <- 1e-5  # refits: each stops within its optimiser's tolerance

spdel_fits <- function(d, mods = ~ x, V = d$vi) {
  d$V <- V
  fit <- function() rma.mv(yi, V, mods = mods, random = list(~ 1 | a, ~ 1 | b), data = d)
  f <- with_mf_options(sparse_path_opts, fit())
  f_block <- with_mf_options(list(metafast.mv_sparse_rows = 1e6L), fit())
  m <- metafor::rma.mv(yi, V, mods = mods, random = list(~ 1 | a, ~ 1 | b), data = d, control = spdel_tight)
  # metafor at metafast's components: the closed-form (reestimate = FALSE)
  # deletion at the same parameters
  m0 <- metafor::rma.mv(yi, V, mods = mods, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2)
  list(f = f, b = f_block, m = m, m0 = m0)
}

test_that("case deletion of crossed fits of the sparse engine leaves out each row as metafor", {
  d <- sparse_crossed_data(70, 14, 5, 11)
  p <- spdel_fits(d)
  expect_identical(p$f$mf.spec$structure$type, "crossed")
  expect_false(identical(p$b$mf.spec$structure$type, "crossed"))
  expect_equal(p$f$sigma2, p$m$sigma2, tolerance = tol_vc)
  cf <- cooks.distance(p$f)
  expect_equal(cf, cooks.distance(p$m), tolerance = tol_vc)
  expect_equal(cf, cooks.distance(p$b), tolerance = 1e-6)
  rf <- rstudent(p$f)
  rm <- rstudent(p$m)
  expect_equal(rf$resid, rm$resid, tolerance = tol_vc)
  expect_equal(rf$se, rm$se, tolerance = tol_vc)
  expect_equal(rf$z, rm$z, tolerance = tol_vc)
  expect_equal(rf$z, rstudent(p$b)$z, tolerance = 1e-6)
  expect_equal(residuals(p$f, type = "rstudent"), residuals(p$m, type = "rstudent"), tolerance = tol_vc)
  db <- dfbetas(p$f)
  expect_equal(db, dfbetas(p$m), tolerance = tol_vc)
  expect_equal(db, dfbetas(p$b), tolerance = 1e-6)
  # at the full fit's components (closed form per refit)
  expect_equal(cooks.distance(p$f, reestimate = FALSE), cooks.distance(p$m0, reestimate = FALSE), tolerance = 1e-8)
  expect_equal(rstudent(p$f, reestimate = FALSE)$z, rstudent(p$m0, reestimate = FALSE)$z, tolerance = 1e-8)
  expect_equal(dfbetas(p$f, reestimate = FALSE), dfbetas(p$m0, reestimate = FALSE), tolerance = 1e-8)
  # the same for any number of threads
  expect_identical(cooks.distance(p$f, threads = 1), cooks.distance(p$f, threads = 2))
})

test_that("case deletion of crossed fits of the sparse engine by cluster, with a dense V", {
  d <- sparse_crossed_data(72, 12, 6, 12)
  d$cl <- rep(seq_len(24), each = 3)
  V <- metafor::vcalc(vi, cluster = cl, obs = seq_len(nrow(d)), rho = 0.4, data = d)
  p <- spdel_fits(d, V = V)
  expect_identical(p$f$mf.spec$structure$type, "crossed")
  # clusters of a factor (whole levels disappear) and clusters cutting across
  # the V blocks and both factors
  d$grp <- (seq_len(nrow(d)) * 7) %% 9
  # (the loop variable's name is not a column of d: cluster = is looked up
  # in the data of the fit first)
  for (unit_of_row in list(d$a, d$grp)) {
    cf <- cooks.distance(p$f, cluster = unit_of_row)
    expect_length(cf, length(unique(unit_of_row)))
    expect_equal(cf, cooks.distance(p$m, cluster = unit_of_row), tolerance = tol_vc)
    expect_equal(cf, cooks.distance(p$b, cluster = unit_of_row), tolerance = 1e-6)
    rf <- rstudent(p$f, cluster = unit_of_row)
    rm <- rstudent(p$m, cluster = unit_of_row)
    expect_equal(rf$obs$z, rm$obs$z, tolerance = tol_vc)
    expect_equal(rf$cluster$X2, rm$cluster$X2, tolerance = tol_vc)
    expect_equal(rf$cluster$k, rm$cluster$k)
    expect_equal(dfbetas(p$f, cluster = unit_of_row), dfbetas(p$m, cluster = unit_of_row), tolerance = tol_vc)
    expect_equal(rstudent(p$f, cluster = unit_of_row, reestimate = FALSE)$cluster$X2,
                 rstudent(p$m0, cluster = unit_of_row, reestimate = FALSE)$cluster$X2, tolerance = 1e-8)
  }
})

test_that("case deletion of a crossed sparse fit where a factor keeps one level: its sigma2 is fixed at 0 as metafor", {
  d <- sparse_crossed_data(60, 10, 2, 13)
  p <- spdel_fits(d, mods = ~ 1)
  expect_identical(p$f$mf.spec$structure$type, "crossed")
  # leaving out factor b's level 1 leaves one level of b: metafor's refit
  # fixes its sigma2 at 0
  cf <- cooks.distance(p$f, cluster = b)
  expect_equal(cf, cooks.distance(p$m, cluster = b), tolerance = tol_vc)
  expect_equal(dfbetas(p$f, cluster = b), dfbetas(p$m, cluster = b), tolerance = tol_vc)
  # a refit with fewer rows than coefficients + 1 fails as metafor's: NA
  d2 <- d[1:55, ]
  d2$a[1:54] <- rep(1:9, each = 6)
  d2$a[55] <- 10
  d2$x[55] <- 5
  p2 <- spdel_fits(d2)
  expect_equal(cooks.distance(p2$f, cluster = a), suppressWarnings(cooks.distance(p2$m, cluster = a)),
               tolerance = tol_vc)
})

test_that("above 5000 linked rows (no option) the refits use the sparse engine (level 2: vs metafor)", {
  skip_unless_level(2)
  d <- sparse_crossed_data(5200, 900, 12, 14)
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
  expect_identical(f$mf.spec$structure$type, "crossed")
  # at the full fit's components: the refit without level 1 of b is
  # metafor's fit of the kept rows at those components (metafor's sparse
  # fits take ~3 min each at this size, so one refit is checked)
  cd0 <- cooks.distance(f, cluster = b, reestimate = FALSE)
  expect_length(cd0, 12L)
  m1 <- metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d[d$b != 1, ], sparse = TRUE,
                        sigma2 = f$sigma2)
  db <- c(f$beta - m1$beta)
  expect_equal(unname(cd0[1]), c(db %*% solve(f$vb, db)), tolerance = 1e-8)
  # re-estimated: the refit is metafast's own full fit of the kept rows (the
  # refits by metafor at this size are level-1's tests at small k)
  cd <- cooks.distance(f, cluster = b)
  f1 <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d[d$b != 1, ])
  db <- c(f$beta - f1$beta)
  expect_equal(unname(cd[1]), c(db %*% solve(f$vb, db)), tolerance = 1e-6)
})
