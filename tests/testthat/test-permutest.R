# permutest(): exact permutation p-values against metafor::permutest(),
# random tests within Monte Carlo error of the exact p-value.

perm_dat <- function(k) {
  d <- data.frame(yi = c(0.42, 0.10, 0.71, 0.33, -0.05, 0.58, 0.29, 0.90)[seq_len(k)],
                  vi = c(0.040, 0.022, 0.061, 0.030, 0.052, 0.018, 0.075, 0.035)[seq_len(k)],
                  x = c(2.1, 1.4, 3.6, 2.2, 0.7, 3.1, 1.9, 4.0)[seq_len(k)])
  d
}

# metafor's exact test of the k = 6 moderator model (720 fits), computed once
# for the tests below.
ref_cache <- new.env()
metafor_exact_mod6 <- function() {
  if (is.null(ref_cache$mod6))
    ref_cache$mod6 <- metafor::permutest(metafor::rma(yi, vi, mods = ~ x, data = perm_dat(6), control = metafor_tight),
                                         exact = TRUE, progbar = FALSE)
  ref_cache$mod6
}

test_that("exact sign-flip test of an intercept-only model (k = 8) equals metafor", {
  skip_if_not_installed("metafor")
  dat <- perm_dat(8)
  ours <- permutest(rma(yi, vi, data = dat), exact = TRUE, progress = FALSE)
  ref <- metafor::permutest(metafor::rma(yi, vi, data = dat, control = metafor_tight), exact = TRUE, progbar = FALSE)
  expect_true(ours$exact)
  expect_identical(ours$iter, 256)
  expect_equal(unname(ours$pval), unname(ref$pval), tolerance = 1e-12)
  expect_equal(ours$QMp, ref$QMp, tolerance = 1e-12)
  expect_equal(sort(ours$QM.perm), sort(ref$QM.perm), tolerance = tol_iter)
  # also chosen automatically when 2^k <= iter
  auto <- permutest(rma(yi, vi, data = dat), iter = 300, progress = FALSE)
  expect_true(auto$exact)
  expect_equal(auto$pval, ours$pval)
})

test_that("exact row-permutation test with a moderator equals metafor (z and knha)", {
  skip_if_not_installed("metafor")
  k <- if (test_level() >= 2) 7 else 6   # 5040 resp. 720 permutations
  dat <- perm_dat(k)
  ours <- permutest(rma(yi, vi, mods = ~ x, data = dat), exact = TRUE, progress = FALSE)
  ref <- if (k == 6) metafor_exact_mod6() else
    metafor::permutest(metafor::rma(yi, vi, mods = ~ x, data = dat, control = metafor_tight), exact = TRUE, progbar = FALSE)
  expect_identical(ours$iter, factorial(k))
  expect_equal(unname(ours$pval), unname(ref$pval), tolerance = 1e-12)
  expect_equal(ours$QMp, ref$QMp, tolerance = 1e-12)
  expect_equal(sort(ours$QM.perm), sort(ref$QM.perm), tolerance = tol_iter)

  dat <- perm_dat(5)
  ours <- permutest(rma(yi, vi, mods = ~ x, data = dat, test = "knha"), exact = TRUE, btt = 1:2, progress = FALSE)
  ref <- metafor::permutest(metafor::rma(yi, vi, mods = ~ x, data = dat, test = "knha", control = metafor_tight), exact = TRUE,
                            btt = 1:2, progbar = FALSE)
  expect_equal(unname(ours$pval), unname(ref$pval), tolerance = 1e-12)
  expect_equal(ours$QMp, ref$QMp, tolerance = 1e-12)
  expect_equal(ours$QM, ref$QM, tolerance = tol_iter)
})

test_that("exact test over the distinct arrangements of a factor moderator equals metafor", {
  skip_if_not_installed("metafor")
  dat <- perm_dat(8)
  dat$g <- rep(c("a", "b"), c(3, 5))
  ours <- permutest(rma(yi, vi, mods = ~ g, data = dat, method = "DL"), progress = FALSE)
  ref <- metafor::permutest(metafor::rma(yi, vi, mods = ~ g, data = dat, method = "DL"), progbar = FALSE)
  expect_identical(ours$exact.iter, 56)   # choose(8, 3)
  expect_identical(ours$exact.iter, ref$exact.iter)
  expect_equal(unname(ours$pval), unname(ref$pval), tolerance = 1e-12)
  expect_equal(ours$QMp, ref$QMp, tolerance = 1e-12)
})

test_that("random permutation test: reproducible, thread-independent, within MC error of the exact p-value", {
  skip_if_not_installed("metafor")
  dat <- perm_dat(8)
  fit <- rma(yi, vi, mods = ~ x, data = dat)
  iter <- 2000
  set.seed(10); a <- permutest(fit, iter = iter, threads = 1, progress = FALSE)
  set.seed(10); b <- permutest(fit, iter = iter, threads = 2, progress = FALSE)
  expect_false(a$exact)
  expect_identical(a$pval, b$pval)
  expect_identical(a$QM.perm, b$QM.perm)
  expect_equal(a$QM.perm[1], fit$QM, tolerance = 1e-12)   # replicate 1 is the observed data, as in metafor
  set.seed(11); cc <- permutest(fit, iter = iter, progress = FALSE)
  expect_false(identical(a$QM.perm, cc$QM.perm))
  # k = 7: 7! = 5040 > iter, so random; the exact p-value from metafor
  skip_unless_level(2)
  dat7 <- perm_dat(7)
  set.seed(10); a <- permutest(rma(yi, vi, mods = ~ x, data = dat7), iter = iter, progress = FALSE)
  expect_false(a$exact)
  ref <- metafor::permutest(metafor::rma(yi, vi, mods = ~ x, data = dat7, control = metafor_tight), exact = TRUE,
                            progbar = FALSE)
  se <- sqrt(ref$pval * (1 - ref$pval) / iter)
  expect_true(all(abs(a$pval - ref$pval) <= 4 * se + 1 / iter))
})

test_that("random sign-flip and moderator tests are within MC error of metafor's exact p-values", {
  skip_if_not_installed("metafor")
  dat <- perm_dat(6)
  iter <- 600   # < 6! = 720, so random
  fit <- rma(yi, vi, mods = ~ x, data = dat)
  ref <- metafor_exact_mod6()
  set.seed(12); ours <- permutest(fit, iter = iter, progress = FALSE)
  expect_false(ours$exact)
  se <- sqrt(ref$pval * (1 - ref$pval) / iter)
  expect_true(all(abs(ours$pval - ref$pval) <= 4 * se + 1 / iter))
  dat8 <- perm_dat(8)
  ref0 <- metafor::permutest(metafor::rma(yi, vi, data = dat8), exact = TRUE, progbar = FALSE)
  set.seed(13); ours0 <- permutest(rma(yi, vi, data = dat8), iter = 200, progress = FALSE)
  expect_false(ours0$exact)
  expect_lte(abs(ours0$pval - ref0$pval), 4 * sqrt(ref0$pval * (1 - ref0$pval) / 200) + 1 / 200)
})

test_that("permutest is our own generic; errors are clear; print looks like metafor's", {
  dat <- perm_dat(6)
  fit <- rma(yi, vi, mods = ~ x, data = dat)
  expect_error(permutest(fit, iter = 1), "'iter'")
  expect_error(permutest(fit, btt = 5), "btt")
  res <- permutest(fit, progress = FALSE)
  expect_s3_class(res, "mf_permutest")
  expect_output(print(res), "Test of Moderators")
  expect_output(print(res), "based on permutation testing")
  expect_s3_class(res$zval.perm, "data.frame")
  expect_identical(names(res$zval.perm), c("intrcpt", "x"))
})

# Reference bounds from metafor 4.x (cialt = "one.sided", uniroot), generated by
#   metafor::permutest(metafor::rma(yi, vi, data = perm_dat(6), control = metafor_tight),
#                      exact = TRUE, permci = TRUE, control = list(tol = TOL))
# metafor needs 80-200 s for these (64 refits per uniroot step), so level 1 uses
# the stored values and level 2 recomputes them live.
test_that("permci: exact sign-flip CI (k = 6) equals metafor's test inversion", {
  dat <- perm_dat(6)
  fit <- rma(yi, vi, data = dat)
  ref_default <- c(-0.0499705992466812, 0.709964603898107)  # tol = .Machine$double.eps^0.25
  ref_tight <- c(-0.0500000018518619, 0.710000002473273)    # tol = 1e-10
  ours <- permutest(fit, exact = TRUE, permci = TRUE, progress = FALSE)
  tight <- permutest(fit, exact = TRUE, permci = TRUE, progress = FALSE, control = list(tol = 1e-10))
  expect_equal(unname(c(ours$ci.lb, ours$ci.ub)), ref_default, tolerance = 1e-8)
  expect_equal(unname(c(tight$ci.lb, tight$ci.ub)), ref_tight, tolerance = 1e-8)
  expect_true(ours$permci)
  expect_true(ours$ci.lb < fit$beta[1] && fit$beta[1] < ours$ci.ub)
  expect_false(isTRUE(all.equal(c(ours$ci.lb, ours$ci.ub), c(fit$ci.lb, fit$ci.ub))))
  # the p-values and the rest are unchanged
  plain <- permutest(fit, exact = TRUE, progress = FALSE)
  expect_identical(ours$pval, plain$pval)
  skip_unless_level(2)
  skip_if_not_installed("metafor")
  mf <- metafor::rma(yi, vi, data = dat, control = metafor_tight)
  ref <- metafor::permutest(mf, exact = TRUE, permci = TRUE, progbar = FALSE, control = list(tol = 1e-10))
  expect_equal(unname(c(tight$ci.lb, tight$ci.ub)), c(ref$ci.lb, ref$ci.ub), tolerance = 1e-8)
})

test_that("permci: bad values give clear errors; too few permutations keep the model CI", {
  dat <- perm_dat(6)
  fit <- rma(yi, vi, mods = ~ x, data = dat)
  expect_error(permutest(fit, permci = 3, progress = FALSE), "'permci'.*1 to 2")
  expect_error(permutest(fit, permci = 1.5, progress = FALSE), "'permci'")
  expect_error(permutest(fit, permci = NA, progress = FALSE), "'permci' must be TRUE, FALSE")
  expect_error(permutest(fit, permci = "z", progress = FALSE), "'permci' names coefficients .*z")
  expect_error(permutest(fit, permci = TRUE, control = list(tol = -1), progress = FALSE), "control\\$tol")
  expect_error(permutest(fit, permci = TRUE, control = list(foo = 1), progress = FALSE), "foo")
  # k = 4 sign flips: 16 permutations, 1/16 > alpha
  fit4 <- rma(yi, vi, data = perm_dat(4))
  expect_warning(r4 <- permutest(fit4, exact = TRUE, permci = TRUE, progress = FALSE), "too few permutations")
  expect_identical(r4$ci.lb, fit4$ci.lb)
  expect_false(r4$permci)
})

test_that("permci: exact row-permutation CI of a slope (k = 6, 720 permutations) equals metafor", {
  # metafor::permutest(metafor::rma(yi, vi, mods = ~ x, data = perm_dat(6), control = metafor_tight),
  #                    exact = TRUE, permci = TRUE, control = list(tol = 1e-10))  (600 s):
  # intercept NA NA (search fails), slope:
  ref_slope <- c(0.191385206142405, 0.327763133164049)
  fit <- rma(yi, vi, mods = ~ x, data = perm_dat(6))
  ours <- permutest(fit, exact = TRUE, permci = "x", progress = FALSE, control = list(tol = 1e-10))
  expect_equal(unname(c(ours$ci.lb[2], ours$ci.ub[2])), ref_slope, tolerance = 1e-8)
  expect_true(ours$ci.lb[2] < fit$beta[2] && fit$beta[2] < ours$ci.ub[2])
  expect_identical(ours$permci, c(FALSE, TRUE))
  expect_identical(unname(ours$ci.lb[1]), unname(fit$ci.lb[1]))   # not selected: model-based
  # the intercept's search fails as in metafor (metafor gives NA); we keep the model-based bound
  expect_warning(both <- permutest(fit, exact = TRUE, permci = 1:2, progress = FALSE, control = list(tol = 1e-10)),
                 "not found.*intrcpt")
  expect_identical(unname(both$ci.lb[1]), unname(fit$ci.lb[1]))
  expect_identical(both$permci, c(FALSE, TRUE))
  expect_equal(unname(both$ci.ub[2]), ref_slope[2], tolerance = 1e-8)
})

test_that("exact test at an extreme magnitude (yi * 1e-150) equals metafor's on the unit scale", {
  # the refits are rescaled exactly, as rma()'s fit; z and QM do not depend on the scale
  skip_if_not_installed("metafor")
  dat <- perm_dat(6)
  tiny <- transform(dat, yi = yi * 1e-150, vi = vi * 1e-300)
  ours <- permutest(rma(yi, vi, mods = ~ x, data = tiny), exact = TRUE, progress = FALSE)
  ref <- metafor_exact_mod6()
  expect_equal(unname(ours$pval), unname(ref$pval), tolerance = 1e-12)
  expect_equal(ours$QMp, ref$QMp, tolerance = 1e-12)
  expect_equal(sort(ours$QM.perm), sort(ref$QM.perm), tolerance = tol_iter)
})

test_that("parallel = 'future' with 2 multisession workers equals the sequential run (random, exact, permci)", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  dat <- perm_dat(8)
  fit <- rma(yi, vi, mods = ~ x, data = dat)       # 8! > iter: random row permutations
  fit0 <- rma(yi, vi, data = perm_dat(6))          # 2^6 <= iter: exact sign flips
  set.seed(21); a <- permutest(fit, iter = 300, threads = 1, progress = FALSE)
  set.seed(21); a0 <- permutest(fit0, iter = 300, permci = TRUE, threads = 1, progress = FALSE)
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  set.seed(21); b <- permutest(fit, iter = 300, parallel = "future", progress = FALSE)
  set.seed(21); b0 <- permutest(fit0, iter = 300, permci = TRUE, parallel = "future", progress = FALSE)
  expect_false(a$exact)
  expect_true(a0$exact)
  for (nm in c("zval.perm", "beta.perm", "QM.perm", "pval", "QMp", "seed"))
    expect_identical(b[[nm]], a[[nm]], info = nm)
  for (nm in c("zval.perm", "QM.perm", "pval", "ci.lb", "ci.ub"))
    expect_identical(b0[[nm]], a0[[nm]], info = nm)
})

test_that("metafor's parallel backends are rejected by name, not ignored", {
  fit <- rma(yi, vi, mods = ~ x, data = perm_dat(6))
  expect_error(permutest(fit, parallel = "snow", progress = FALSE), "snow")
  expect_error(permutest(fit, ncpus = 2, progress = FALSE), "'ncpus'")
  expect_error(permutest(fit, parallel = "nope", progress = FALSE), "'parallel'")
})
