# Resampling of rma.mv() fits by cluster (issue 13, item 3): permutest() for
# rma.mv fits (rows or whole clusters; metafor has no permutation test for
# rma.mv) and boot_rma(cluster = ) against plain R loops of metafor refits on
# the same sign vectors, permutations and resampled clusters; bad input.

# six districts of dat.konstantopoulos2011 (29 schools), a district-level
# moderator dx and a school-level one (year)
konst6 <- function(n = 6) {
  dat <- metadat::dat.konstantopoulos2011
  keep <- sort(unique(dat$district))[seq_len(n)]
  dat <- dat[dat$district %in% keep, ]
  dat$dx <- c(0.3, 1.2, -0.4, 0.8, 2.1, -1.0, 0.5)[match(dat$district, keep)]
  dat
}

# metafor's statistics (z of every coefficient, QM) of the model refitted
# with outcomes y and moderators dx
# (NA where metafor's optimisers fail on a permuted data set)
mf_mv_stats <- function(dat, mods) {
  m <- tryCatch(if (is.null(mods)) mv_ref(yi, vi, random = ~ 1 | district/school, data = dat)
                else mv_ref(yi, vi, mods = mods, random = ~ 1 | district/school, data = dat),
                error = function(e) NULL)
  if (is.null(m)) return(rep(NA_real_, if (is.null(mods)) 2L else 3L))
  c(m$zval, m$QM)
}

test_that("permutest() of an intercept-only rma.mv fit flips the signs of whole clusters (exact, as a metafor loop)", {
  skip_if_not_installed("metafor")
  dat <- konst6()
  fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  pt <- permutest(fit, cluster = district, progress = FALSE)
  ids <- sort(unique(dat$district))
  expect_true(pt$exact)
  expect_identical(pt$iter, 2^6)
  expect_identical(pt$cluster, ids)
  # replicate r flips cluster u when bit u of r is set
  ref <- t(vapply(0:63, function(r) {
    s <- ifelse(bitwAnd(r, 2^(0:5)) > 0, -1, 1)
    d <- dat
    d$yi <- d$yi * s[match(d$district, ids)]
    mf_mv_stats(d, NULL)
  }, numeric(2)))
  expect_equal(pt$zval.perm[[1]], ref[, 1], tolerance = tol_iter)
  m <- mv_ref(yi, vi, random = ~ 1 | district/school, data = dat)
  expect_equal(unname(pt$pval), mean(abs(ref[, 1]) >= abs(m$zval) - sqrt(.Machine$double.eps)))
  expect_equal(c(pt$zval), c(m$zval), tolerance = tol_iter)
  expect_output(print(pt), "Permuted units: 6 clusters")
})

test_that("permutest(cluster = ) permutes cluster-level moderators (exact: the multiset of a metafor loop)", {
  skip_if_not_installed("metafor")
  dat <- konst6(5)
  fit <- rma.mv(yi, vi, mods = ~ dx, random = ~ 1 | district/school, data = dat)
  pt <- permutest(fit, cluster = district, progress = FALSE)
  expect_true(pt$exact)
  expect_identical(pt$iter, factorial(5))
  ids <- sort(unique(dat$district))
  dx <- dat$dx[match(ids, dat$district)]
  # all permutations in lexicographic order (the order of the exact test):
  # replicate r gives cluster u the moderator value of cluster perms[r, u]
  perms <- as.matrix(expand.grid(rep(list(1:5), 5)))
  perms <- perms[apply(perms, 1L, function(r) length(unique(r)) == 5L), ]
  perms <- perms[do.call(order, unname(as.data.frame(perms))), ]
  ref <- t(apply(perms, 1L, function(pm) {
    d <- dat
    d$dx <- dx[pm][match(d$district, ids)]
    mf_mv_stats(d, ~ dx)
  }))
  ok <- is.finite(ref[, 3])
  expect_gt(sum(ok), 100)
  expect_equal(pt$zval.perm[[2]][ok], ref[ok, 2], tolerance = tol_iter)
  expect_equal(pt$QM.perm[ok], ref[ok, 3], tolerance = tol_iter)
  expect_equal(sum(is.na(pt$QM.perm)), 0L)
  m <- mv_ref(yi, vi, mods = ~ dx, random = ~ 1 | district/school, data = dat)
  tol <- sqrt(.Machine$double.eps)
  expect_equal(unname(pt$pval[2]), mean(abs(pt$zval.perm[[2]]) >= abs(m$zval[2]) - tol))
  # (metafor's refits that converged decide the same way as ours)
  expect_identical(abs(ref[ok, 2]) >= abs(m$zval[2]) - tol, abs(pt$zval.perm[[2]][ok]) >= abs(m$zval[2]) - tol)
  expect_identical(ref[ok, 3] >= m$QM - tol, pt$QM.perm[ok] >= m$QM - tol)
  # a moderator that varies within clusters cannot be permuted by cluster
  fy <- rma.mv(yi, vi, mods = ~ school, random = ~ 1 | district/school, data = dat)
  expect_error(permutest(fy, cluster = district, progress = FALSE), "'school' varies within clusters")
})

test_that("random permutations of rma.mv fits: the drawn permutations refitted by metafor, reproducible for any thread count", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.konstantopoulos2011
  dat$dx <- round(sin(dat$district), 3)
  fit <- rma.mv(yi, vi, mods = ~ dx, random = ~ 1 | district/school, data = dat)
  set.seed(11); p1 <- permutest(fit, iter = 40, cluster = district, threads = 1, progress = FALSE)
  set.seed(11); p2 <- permutest(fit, iter = 40, cluster = district, threads = 2, progress = FALSE)
  expect_false(p1$exact)
  expect_identical(p1$zval.perm, p2$zval.perm)
  expect_identical(p1$QM.perm, p2$QM.perm)
  # the permutations the kernel drew (exposed by the internal kernel with the same seed)
  ids <- sort(unique(dat$district))
  unit <- match(dat$district, ids) - 1L
  Xu <- fit$X[match(seq_along(ids) - 1L, unit), , drop = FALSE]
  r <- metafast:::.mf_rma_mv_perm(fit$mf.spec, as.integer(unit[fit$mf.spec$order]), Xu, fit$sigma2, TRUE,
                                  fit$control$threshold, fit$control$maxiter, fit$control$stepadj, 2L, FALSE,
                                  FALSE, FALSE, 40, p1$seed, 0, 6, 1L, NULL, TRUE)
  expect_equal(unname(r$zval), unname(as.matrix(p1$zval.perm[1:6, ])), tolerance = 0)
  expect_identical(r$index[, 1], seq_along(ids))   # replicate 0: the observed data
  dx <- dat$dx[match(ids, dat$district)]
  for (j in 2:6) {
    d <- dat
    d$dx <- dx[r$index[, j]][match(d$district, ids)]
    expect_equal(unname(r$zval[j, ]), mf_mv_stats(d, ~ dx)[1:2], tolerance = tol_iter)
  }
  # rows as units (no cluster): identical for 1 and 2 threads, observed data first
  set.seed(12); q1 <- permutest(fit, iter = 20, threads = 1, progress = FALSE)
  set.seed(12); q2 <- permutest(fit, iter = 20, threads = 2, progress = FALSE)
  expect_identical(q1$zval.perm, q2$zval.perm)
  expect_equal(unlist(q1$zval.perm[1, ]), c(fit$zval), tolerance = tol_iter, ignore_attr = TRUE)
})

test_that("boot_rma(cluster = ) of an rma.mv fit equals metafor refits on the same resampled clusters", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.konstantopoulos2011
  dat$x <- dat$year - 1990
  fit <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat)
  set.seed(5); b <- boot_rma(fit, R = 6, cluster = district, threads = 1, progress = FALSE)
  set.seed(5); b2 <- boot_rma(fit, R = 6, cluster = district, threads = 2, progress = FALSE)
  expect_identical(b$t, b2$t)
  expect_identical(names(b$t0), c("intrcpt", "x", "sigma2.1", "sigma2.2"))
  ids <- sort(unique(dat$district))
  expect_identical(b$cluster, ids)
  # the resampled clusters of each replicate (the kernel's draws for b's seed)
  idx <- metafast:::.mf_rma_mv_boot(b$mv$spec, b$mv$unit, b$mv$n, b$mv$theta, TRUE, b$mv$control$threshold,
                                    b$mv$control$maxiter, b$mv$control$stepadj, b$seed, 0, 6, 1L, NULL, NULL,
                                    TRUE)$index
  expect_identical(dim(idx), c(length(ids), 6L))
  for (r in 1:6) {
    # each draw a cluster of its own: the district relabelled by its position
    d <- do.call(rbind, lapply(seq_along(ids), function(j) {
      dj <- dat[dat$district == ids[idx[j, r]], ]
      dj$district <- j
      dj
    }))
    m <- mv_ref(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = d)
    expect_equal(unname(b$t[r, ]), c(m$beta, m$sigma2), tolerance = tol_iter)
  }
  # the jackknife (BCa) leaves out one district at a time, as metafor's refits
  j3 <- mv_ref(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat[dat$district != ids[3], ])
  expect_equal(unname(b$jack[3, ]), c(j3$beta, j3$sigma2), tolerance = tol_iter)
  set.seed(6)
  bb <- boot_rma(fit, R = 60, cluster = district, progress = FALSE)
  ci <- suppressWarnings(confint(bb, type = "bca"))
  expect_identical(rownames(ci), names(bb$t0))
  expect_true(all(ci[, "ci.lb"] <= ci[, "ci.ub"], na.rm = TRUE))
  # as.boot(): the statistic refits the drawn clusters
  bo <- as.boot(bb)
  expect_equal(bo$statistic(bo$data, idx[, 1]), unname(b$t[1, ]), tolerance = 1e-10)
})

test_that("bad input to permutest() and boot_rma() of rma.mv fits gives clear errors", {
  dat <- metadat::dat.konstantopoulos2011
  fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  expect_error(boot_rma(fit, R = 5, progress = FALSE), "give 'cluster'")
  expect_error(boot_rma(fit, R = 5, type = "parametric", cluster = district, progress = FALSE), "case bootstrap")
  expect_error(boot_rma(fit, R = 5, cluster = dat$district[-1], progress = FALSE), "'cluster' has length 55")
  cl <- dat$district
  cl[4] <- NA
  expect_error(boot_rma(fit, R = 5, cluster = cl, progress = FALSE), "'cluster' has missing values in row 4")
  expect_error(permutest(fit, cluster = cl, progress = FALSE), "'cluster' has missing values in row 4")
  expect_error(boot_rma(fit, R = 5, cluster = rep(1, 56), progress = FALSE), "single value")
  expect_error(permutest(fit, cluster = rep(1, 56), progress = FALSE), "single value")
  # clusters that split the levels of the outer random factor
  expect_error(boot_rma(fit, R = 5, cluster = school, progress = FALSE), "does not nest the random effects")
  expect_error(permutest(fit, permci = TRUE, progress = FALSE), "'permci'")
  expect_error(permutest(fit, iter = 10, exact = TRUE, cluster = study, progress = FALSE), "Too many permutations")
  # rma.mv case deletion by cluster: the same errors
  expect_error(cooks.distance(fit, cluster = dat$district[-1]), "'cluster' has length 55")
  expect_error(rstudent(fit, cluster = cl), "'cluster' has missing values in row 4")
})
