# Resampling by cluster: boot_rma(cluster = ) (case bootstrap of whole
# clusters) against boot::boot() over clusters with a plain loop of metafor
# refits on the same resampled indices; the leave-one-cluster-out jackknife
# against metafor's leave1out(cluster = ); reproducibility across threads;
# bad input.

cl_dat <- function() {
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  as.data.frame(dat[, c("district", "school", "study", "yi", "vi", "year")])
}

# The statistics of boot_rma (coefficients, tau2, I2, H2) of a metafor refit
# on the rows of the clusters picked by i (indices into the sorted clusters).
mf_cluster_stat <- function(dat, ids, i, mods = NULL, method = "REML") {
  rows <- unlist(lapply(ids[i], function(id) which(dat$district == id)), use.names = FALSE)
  d <- dat[rows, ]
  m <- if (is.null(mods)) metafor::rma(yi, vi, data = d, method = method, control = metafor_tight)
       else metafor::rma(yi, vi, mods = mods, data = d, method = method, control = metafor_tight)
  c(coef(m), m$tau2, m$I2, m$H2)
}

test_that("cluster bootstrap statistic equals boot::boot() over clusters with metafor refits (same indices)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("boot")
  dat <- cl_dat()
  ids <- sort(unique(dat$district))
  for (mods in list(NULL, ~ year)) {
    fit <- if (is.null(mods)) rma(yi, vi, data = dat) else rma(yi, vi, mods = mods, data = dat)
    set.seed(5)
    b <- boot_rma(fit, R = 20, cluster = district, progress = FALSE)
    expect_identical(b$cluster, ids)
    stat <- as.boot(b)$statistic
    # boot::boot over the clusters, each replicate a metafor refit on the rows of its clusters
    set.seed(21)
    bb <- boot::boot(data.frame(cluster = ids), function(d, i) mf_cluster_stat(dat, ids, i, mods), R = 15)
    idx <- boot::boot.array(bb, indices = TRUE)
    ours <- t(apply(idx, 1L, function(i) stat(NULL, i)))
    ok <- stats::complete.cases(bb$t)
    expect_true(sum(ok) >= 10L)
    expect_equal(unname(ours[ok, ]), unname(bb$t[ok, ]), tolerance = tol_iter)
    expect_equal(unname(b$t0), unname(bb$t0), tolerance = tol_iter)
    expect_equal(unname(stat(NULL, seq_along(ids))), unname(bb$t0), tolerance = tol_iter)
  }
})

test_that("the cluster jackknife equals metafor's leave1out(cluster = ) and gives BCa intervals", {
  skip_if_not_installed("metafor")
  dat <- cl_dat()
  set.seed(2)
  b <- boot_rma(rma(yi, vi, data = dat), R = 200, cluster = district, progress = FALSE)
  m <- metafor::rma(yi, vi, data = dat, control = metafor_tight)
  l1 <- metafor::leave1out(m, cluster = district)
  expect_identical(nrow(b$jack), length(unique(dat$district)))
  expect_equal(unname(b$jack[, "intrcpt"]), unname(l1$estimate), tolerance = tol_iter)
  expect_equal(unname(b$jack[, "tau2"]), unname(l1$tau2), tolerance = tol_iter)
  expect_equal(unname(b$jack[, "I2"]), unname(l1$I2), tolerance = tol_iter)
  ci <- confint(b, parm = "intrcpt", type = "bca")
  expect_true(all(is.finite(ci)))
  # BCa acceleration from the clusters: (n - 1) (t0 - t(-j)) over n = 11 clusters
  bo <- as.boot(b, index = "intrcpt")
  expect_equal(bo$L, 10 * (b$t0[["intrcpt"]] - b$jack[, "intrcpt"]))
  expect_identical(nrow(bo$data), 11L)
})

test_that("whole clusters are drawn: clusters of identical rows behave as single studies", {
  # an equal-effects fit on clusters of two identical rows equals the fit on
  # one row per cluster, so the cluster bootstrap replicates equal the row
  # bootstrap's under the same seed (the same stream draws the units)
  one <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28, 0.9),
                    vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02, 0.06))
  two <- one[rep(seq_len(nrow(one)), each = 2L), ]
  two$cl <- rep(seq_len(nrow(one)), each = 2L)
  two <- two[c(seq(2, 18, 2), seq(1, 17, 2)), ]   # clusters not in contiguous rows
  set.seed(7); b1 <- boot_rma(rma(yi, vi, data = one, method = "EE"), R = 300, progress = FALSE)
  set.seed(7); b2 <- boot_rma(rma(yi, vi, data = two, method = "EE"), R = 300, cluster = cl, progress = FALSE)
  expect_equal(b2$t[, "intrcpt"], b1$t[, "intrcpt"], tolerance = 1e-12)
  # singleton clusters: the same replicates as the row bootstrap
  set.seed(8); r1 <- boot_rma(rma(yi, vi, data = one), R = 300, progress = FALSE)
  set.seed(8); r2 <- boot_rma(rma(yi, vi, data = one), R = 300, cluster = seq_len(9), progress = FALSE)
  expect_equal(r2$t, r1$t, tolerance = 1e-12)
})

test_that("the cluster bootstrap is reproducible with set.seed() and identical for 1 and 2 threads", {
  dat <- cl_dat()
  fit <- rma(yi, vi, mods = ~ year, data = dat)
  set.seed(3); b1 <- suppressWarnings(boot_rma(fit, R = 300, cluster = district, threads = 1, progress = FALSE))
  set.seed(3); b2 <- suppressWarnings(boot_rma(fit, R = 300, cluster = district, threads = 2, progress = FALSE))
  expect_identical(b1$t, b2$t)
  expect_identical(b1$jack, b2$jack)
  set.seed(4); b3 <- suppressWarnings(boot_rma(fit, R = 300, cluster = district, threads = 2, progress = FALSE))
  expect_false(identical(b1$t, b3$t))
  # a run split in two ranges equals the whole run (the future path)
  d <- metafast:::.mf_cluster_units(metafast:::.mf_resample_input(fit), dat$district)
  run <- function(s, e) metafast:::.mf_boot_kernel(d$yi, d$vi, d$X, d$weights, d$method, d$test, d$control,
                                                   0L, c(fit$beta), fit$tau2, 12345, s, e, 2L, NULL, d$offsets)
  expect_identical(rbind(run(0, 77), run(77, 200)), run(0, 200))
  # progress through progressr
  skip_if_not_installed("progressr")
  progressr::with_progress({
    set.seed(3)
    b4 <- suppressWarnings(boot_rma(fit, R = 300, cluster = district, threads = 2, progress = TRUE))
  }, handlers = progressr::handler_void())
  expect_identical(b4$t, b1$t)
})

test_that("cluster with 'subset' and missing values follows the rows of the fit", {
  skip_if_not_installed("metafor")
  dat <- cl_dat()
  dat$yi[3] <- NA
  sub <- dat$year > 1975
  fit <- suppressWarnings(rma(yi, vi, data = dat, subset = sub))
  set.seed(1)
  b <- suppressWarnings(boot_rma(fit, R = 20, cluster = district, progress = FALSE))
  m <- suppressWarnings(metafor::rma(yi, vi, data = dat, subset = sub, control = metafor_tight))
  l1 <- suppressWarnings(metafor::leave1out(m, cluster = district))
  expect_equal(unname(b$jack[, "intrcpt"]), unname(l1$estimate), tolerance = tol_iter)
  expect_equal(unname(b$t0[1:2]), unname(c(coef(m), m$tau2)), tolerance = tol_iter)
})

test_that("bad 'cluster' input gives errors naming 'cluster'", {
  dat <- cl_dat()
  fit <- rma(yi, vi, data = dat)
  expect_error(boot_rma(fit, R = 10, cluster = dat$district[-1], progress = FALSE), "'cluster' has length 55")
  cl <- dat$district; cl[4] <- NA
  expect_error(boot_rma(fit, R = 10, cluster = cl, progress = FALSE), "'cluster' has missing values")
  expect_error(boot_rma(fit, R = 10, cluster = rep(1, nrow(dat)), progress = FALSE), "'cluster' has a single value")
  expect_error(boot_rma(fit, R = 10, type = "parametric", cluster = district, progress = FALSE),
               "'cluster' applies to the case bootstrap")
  expect_error(boot_rma(fit, R = 10, cluster = no_such_variable, progress = FALSE), "Cannot evaluate 'cluster'")
})
