# boot_rma(): bootstrap distributions against boot::boot() + metafor::rma(),
# intervals against boot::boot.ci(), reproducibility across threads/workers.

boot_dat <- function() {
  data.frame(yi = c(-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37, -0.34, 0.45, -0.02),
             vi = c(0.326, 0.195, 0.415, 0.020, 0.051, 0.007, 0.223, 0.004, 0.056, 0.073, 0.012, 0.532, 0.071),
             x = c(44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33))
}

# Monte Carlo standard errors of a mean and of a standard deviation
# (delta method with the fourth central moment).
mc_se_mean <- function(t) stats::sd(t) / sqrt(length(t))
mc_se_sd <- function(t) {
  s <- stats::sd(t)
  m4 <- mean((t - mean(t))^4)
  sqrt(max(m4 - s^4, 0) / length(t)) / (2 * s)
}

test_that("t0 holds the statistics of the fit (coefficients, tau2, I2, H2) as metafor reports them", {
  skip_if_not_installed("metafor")
  dat <- boot_dat()
  set.seed(11)
  b <- boot_rma(rma(yi, vi, mods = ~ x, data = dat), R = 50, progress = FALSE)
  m <- metafor::rma(yi, vi, mods = ~ x, data = dat, control = metafor_tight)
  expect_equal(unname(b$t0), unname(c(coef(m), m$tau2, m$I2, m$H2)), tolerance = tol_iter)
  expect_identical(names(b$t0), c("intrcpt", "x", "tau2", "I2", "H2"))
  expect_identical(dim(b$t), c(50L, 5L))
})

test_that("case bootstrap distribution agrees with boot::boot() + metafor::rma() within Monte Carlo error", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("boot")
  dat <- boot_dat()
  set.seed(2024)
  ours <- boot_rma(rma(yi, vi, data = dat, method = "REML"), R = 4000, progress = FALSE)
  set.seed(7)
  ref <- boot::boot(dat, function(d, i) {
    # metafor's Fisher scoring stops with an error on an occasional resample
    # (seen at level 2, R = 2000): that replicate is NA, as boot() users do
    r <- tryCatch(metafor::rma(d$yi[i], d$vi[i], method = "REML"), error = function(e) NULL)
    if (is.null(r)) return(c(NA_real_, NA_real_))
    c(coef(r), r$tau2)
  }, R = if (test_level() >= 2) 2000 else 800)
  for (j in 1:2) {
    a <- ours$t[, j]; a <- a[is.finite(a)]
    r <- ref$t[, j]; r <- r[is.finite(r)]
    expect_lt(abs(mean(a) - mean(r)), 4 * sqrt(mc_se_mean(a)^2 + mc_se_mean(r)^2))
    expect_lt(abs(stats::sd(a) - stats::sd(r)), 4 * sqrt(mc_se_sd(a)^2 + mc_se_sd(r)^2))
  }
  expect_equal(ours$failed, 0L)
})

test_that("parametric bootstrap of an equal-effects model reproduces the sampling distribution of b", {
  # EE model: y* = X b + N(0, v), so b* ~ N(b, vb) exactly.
  dat <- boot_dat()
  fit <- rma(yi, vi, mods = ~ x, data = dat, method = "EE")
  set.seed(5)
  b <- boot_rma(fit, R = 4000, type = "parametric", progress = FALSE)
  for (j in 1:2) {
    t <- b$t[, j]
    expect_lt(abs(mean(t) - fit$beta[j]), 4 * fit$se[j] / sqrt(4000))
    expect_lt(abs(stats::sd(t) / fit$se[j] - 1), 4 / sqrt(2 * 4000))
  }
  expect_true(all(b$t[, "tau2"] == 0))
  expect_error(confint(b, type = "bca"), "case resampling")
})

test_that("perc, basic, norm and BCa intervals equal boot::boot.ci() on our replicates", {
  skip_if_not_installed("boot")
  dat <- boot_dat()
  set.seed(99)
  b <- boot_rma(rma(yi, vi, mods = ~ x, data = dat), R = 999, progress = FALSE)
  bo <- as.boot(b)
  expect_s3_class(bo, "boot")
  # boot's own jackknife calls our statistic: it must reproduce t0
  expect_equal(bo$statistic(bo$data, seq_len(nrow(bo$data))), b$t0, tolerance = 1e-12)
  for (j in seq_along(b$t0)) {
    for (lev in c(0.95, 0.90)) {
      L <- boot::empinf(bo, index = j, type = "jack")
      ci <- suppressWarnings(boot::boot.ci(bo, conf = lev, index = j, type = c("norm", "basic", "perc", "bca"), L = L))
      ours <- lapply(c("norm", "basic", "perc", "bca"), function(ty)
        unname(suppressWarnings(confint(b, parm = j, level = lev, type = ty))[1, 2:3]))
      expect_equal(ours[[1]], unname(ci$normal[1, 2:3]), tolerance = 1e-8)
      expect_equal(ours[[2]], unname(ci$basic[1, 4:5]), tolerance = 1e-8)
      expect_equal(ours[[3]], unname(ci$percent[1, 4:5]), tolerance = 1e-8)
      expect_equal(ours[[4]], unname(ci$bca[1, 4:5]), tolerance = 1e-8)
    }
  }
  # as.boot(index = j) stores the jackknife influence values, so the default
  # boot.ci() call gives the same BCa interval
  bo2 <- as.boot(b, index = "x")
  ci <- boot::boot.ci(bo2, index = 2, type = "bca")
  expect_equal(unname(confint(b, parm = "x", type = "bca")[1, 2:3]), unname(ci$bca[1, 4:5]), tolerance = 1e-8)
})

test_that("results are identical for 1 and 2 threads, and reproducible with set.seed()", {
  dat <- boot_dat()
  fit <- rma(yi, vi, mods = ~ x, data = dat)
  set.seed(3); b1 <- boot_rma(fit, R = 500, threads = 1, progress = FALSE)
  set.seed(3); b2 <- boot_rma(fit, R = 500, threads = 2, progress = FALSE)
  expect_identical(b1$t, b2$t)
  expect_identical(b1$seed, b2$seed)
  set.seed(4); b3 <- boot_rma(fit, R = 500, threads = 2, progress = FALSE)
  expect_false(identical(b1$t, b3$t))
  set.seed(3); p1 <- boot_rma(fit, R = 300, type = "parametric", threads = 1, progress = FALSE)
  set.seed(3); p2 <- boot_rma(fit, R = 300, type = "parametric", threads = 2, progress = FALSE)
  expect_identical(p1$t, p2$t)
  # a run split in two ranges equals the whole run (what the future path does)
  d <- metafast:::.mf_resample_input(fit)
  run <- function(s, e) metafast:::.mf_boot_kernel(d$yi, d$vi, d$X, d$weights, d$method, d$test, d$control,
                                                   0L, c(fit$beta), fit$tau2, 12345, s, e, 2L, NULL)
  expect_identical(rbind(run(0, 123), run(123, 400)), run(0, 400))
})

test_that("parallel = 'future' with 2 multisession workers equals the single-process result", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  dat <- boot_dat()
  fit <- rma(yi, vi, data = dat)
  set.seed(8); b1 <- boot_rma(fit, R = 400, threads = 1, progress = FALSE)
  oplan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(oplan), add = TRUE)
  set.seed(8); bf <- boot_rma(fit, R = 400, parallel = "future", progress = FALSE)
  expect_identical(bf$t, b1$t)
})

test_that("failed refits (rank-deficient resamples) are counted, NA in t and warned about", {
  dat <- boot_dat()
  dat$g <- c(rep("a", 6), rep("b", 6), "c")   # level c in one study only
  fit <- rma(yi, vi, mods = ~ g, data = dat)
  set.seed(6)
  expect_warning(b <- boot_rma(fit, R = 300, progress = FALSE), "could not be fitted")
  bad <- !stats::complete.cases(b$t)
  expect_gt(b$failed, 0L)
  expect_identical(b$failed, sum(bad))
  # P(study 13 absent) = (12/13)^13 = 0.353; check the count is plausible
  expect_lt(abs(b$failed / 300 - (12 / 13)^13), 4 * sqrt(0.353 * 0.647 / 300))
  expect_true(all(is.na(b$t[bad, ])))
  expect_output(print(b), "failed")
  # replicates without the rare level are exactly the NA ones: rebuild them
  expect_true(all(is.finite(b$t[!bad, ])))
})

test_that("progress reporting works and an error in the progress callback stops the run cleanly", {
  dat <- boot_dat()
  fit <- rma(yi, vi, data = dat)
  d <- metafast:::.mf_resample_input(fit)
  seen <- 0
  out <- metafast:::.mf_boot_kernel(d$yi, d$vi, d$X, d$weights, d$method, d$test, d$control, 0L,
                                    c(fit$beta), fit$tau2, 1, 0, 200, 2L, function(n) seen <<- seen + n)
  expect_equal(seen, 200)
  expect_error(metafast:::.mf_boot_kernel(d$yi, d$vi, d$X, d$weights, d$method, d$test, d$control, 0L,
                                          c(fit$beta), fit$tau2, 1, 0, 200, 2L, function(n) stop("boom")),
               "boom")
  skip_if_not_installed("progressr")
  set.seed(1); a <- progressr::with_progress(boot_rma(fit, R = 100, progress = TRUE), handlers = progressr::handler_void())
  set.seed(1); b <- boot_rma(fit, R = 100, progress = FALSE)
  expect_identical(a$t, b$t)
})

test_that("bad input gives clear errors; plot and print work", {
  dat <- boot_dat()
  fit <- rma(yi, vi, data = dat)
  expect_error(boot_rma(list(), R = 10), "fitted by rma")
  expect_error(boot_rma(fit, R = 0), "'R'")
  expect_error(boot_rma(fit, R = 10, threads = 0), "threads")
  set.seed(1)
  b <- boot_rma(fit, R = 100, progress = FALSE)
  expect_error(confint(b, parm = "nope"), "parm")
  expect_output(print(b), "Case")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  res <- plot(b)
  expect_identical(dim(res), c(100L, 4L))
  # the layout: base R's histogram and density of the finite replicates, in
  # axes that hold the whole density line and the original value (the
  # histogram's own axes cut the density's peak and tails)
  lay <- attr(res, "layout")
  for (j in names(b$t0)) {
    t <- b$t[, j][is.finite(b$t[, j])]
    h <- graphics::hist(t, plot = FALSE)
    expect_equal(lay[[j]]$breaks, h$breaks)
    expect_equal(lay[[j]]$density, h$density)
    if (length(unique(t)) > 1L) {
      d <- stats::density(t)
      expect_equal(lay[[j]]$kde$y, d$y)
      expect_equal(lay[[j]]$ylim, c(0, max(h$density, d$y)))
      expect_true(lay[[j]]$xlim[1] <= min(d$x) && lay[[j]]$xlim[2] >= max(d$x))
    }
    expect_true(lay[[j]]$xlim[1] <= b$t0[[j]] && lay[[j]]$xlim[2] >= b$t0[[j]])
  }
  expect_equal(attr(plot(b, which = 1, ylim = c(0, 50), breaks = 5), "layout")[[1]]$ylim, c(0, 50))
  skip_if_not_installed("boot")
  expect_output(print(as.boot(b)), "BOOTSTRAP")
})

test_that("extreme magnitudes (yi * 1e-150): t0 and the replicates are the unit-scale ones scaled back", {
  # the refits rescale exactly, as rma()'s fit (before, tau2 came out on the
  # wrong scale at 1e-150 and I2 / H2 were NaN)
  skip_if_not_installed("metafor")
  dat <- boot_dat()
  tiny <- transform(dat, yi = yi * 1e-150, vi = vi * 1e-300)
  set.seed(3)
  b <- boot_rma(rma(yi, vi, mods = ~ x, data = tiny), R = 40, progress = FALSE)
  set.seed(3)
  b1 <- boot_rma(rma(yi, vi, mods = ~ x, data = dat), R = 40, progress = FALSE)
  m <- metafor::rma(yi, vi, mods = ~ x, data = dat, control = metafor_tight)
  unit <- c(1e-150, 1e-150, 1e-300, 1, 1)
  expect_equal(unname(b$t0 / unit), unname(c(coef(m), m$tau2, m$I2, m$H2)), tolerance = tol_iter)
  expect_equal(sweep(b$t, 2, unit, "/"), b1$t, tolerance = tol_iter)
})
