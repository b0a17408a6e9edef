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

# The replicates of boot_rma(cluster = ) of a fit with an '~ outcome | study'
# term against metafor::rma.mv() on the resampled data (each drawn cluster
# relabelled, its V block its own): the statistics (beta, tau2, rho) with NA
# for the components metafor's refit does not have (a level not drawn).
# Compared where metafor's estimate is interior (every tau2 > 1e-6, every
# |rho| < 0.999): at a variance of 0 the correlations are not identified, and
# where metafor's maximum has |rho| = 1 with a small variance metafast's fitter
# can stop at the variance 0 (README, issue 12).  Returns the number compared.
struct_boot_check <- function(dat, V, st, mods, R, seed, levs) {
  fit <- rma.mv(yi, V, mods = mods, random = ~ outcome | study, struct = st, data = dat)
  set.seed(seed); b <- suppressWarnings(boot_rma(fit, R = R, cluster = study, threads = 1, progress = FALSE))
  set.seed(seed); b2 <- suppressWarnings(boot_rma(fit, R = R, cluster = study, threads = 2, progress = FALSE))
  expect_identical(b$t, b2$t)
  idx <- metafast:::.mf_rma_mv_boot(b$mv$spec, b$mv$unit, b$mv$n, b$mv$theta, TRUE, 1e-10, 1000L, 1, b$seed, 0, R,
                                    1L, NULL, NULL, TRUE)$index
  ids <- sort(unique(dat$study))
  n <- length(ids)
  done <- 0L
  for (r in seq_len(R)) {
    w <- lapply(seq_len(n), function(j) which(dat$study == ids[idx[j, r]]))
    d <- dat[unlist(w), ]
    d$study <- rep(seq_len(n), lengths(w))
    Vd <- metafor::bldiag(lapply(w, function(i) V[i, i, drop = FALSE]))
    m <- tryCatch(suppressWarnings(mv_ref(yi, Vd, mods = mods, random = ~ outcome | study, struct = st, data = d)),
                  error = function(e) NULL)
    if (is.null(m)) next
    pl <- match(m$g.levels.f[[1L]], levs)
    tau2 <- rep(NA_real_, length(levs))
    tau2[pl] <- m$tau2
    rho <- m$rho
    if (st == "UN") {
      pr <- which(lower.tri(diag(length(levs))), arr.ind = TRUE)
      np <- which(lower.tri(diag(length(pl))), arr.ind = TRUE)
      rho <- rep(NA_real_, nrow(pr))
      if (length(pl) > 1L) rho[match(paste(pl[np[, 1L]], pl[np[, 2L]]), paste(pr[, 1L], pr[, 2L]))] <- m$rho
    }
    # Replicates with rho at +-1 beside a variance of 0 are compared too (the
    # boundary restarts reach metafor's maximum there; they were skipped
    # before them).  With every estimated variance at 0, rho is not in the
    # likelihood at all (any value gives the same maximum; metafor reports
    # where its optimiser stopped), so only beta and tau2 are compared.
    got <- unname(b$t[r, ])
    want <- c(m$beta, tau2, rho)
    if (all(m$tau2[!m$vc.fix$tau2] <= 1e-6)) {
      jr <- length(want) - length(rho) + seq_along(rho)
      got[jr] <- want[jr] <- NA_real_
    }
    expect_equal(got, want, tolerance = tol_iter, label = sprintf("%s replicate %d", st, r))
    done <- done + 1L
  }
  done
}

test_that("boot_rma(cluster = ) of rma.mv fits with HCS, UN and HAR terms: each replicate is metafor's refit on the drawn clusters", {
  skip_if_not_installed("metafor")
  # two outcomes in each of 5 trials (dat.berkey1998), V by vcalc()
  dat <- metadat::dat.berkey1998
  dat$study <- dat$trial
  V <- metafor::vcalc(vi, cluster = trial, obs = outcome, data = dat, rho = 0.4)
  for (st in c("HCS", "UN", "HAR"))
    expect_gt(struct_boot_check(dat, V, st, ~ outcome, 12L, 7L, c("AL", "PD")), 3L)
  # three outcomes, C in 2 of 16 studies and B missing in some: replicates
  # without C (its tau2 NA, as metafor's refit has no such component) and
  # with C in one drawn study (tau2 fixed at 0 by metafor's rule)
  set.seed(2)
  lev <- list(c("A", "B", "C"), c("A", "B"), c("A", "B"), c("A", "C"), c("A", "B"), "B", c("A", "B"), c("A", "B"),
              c("A", "B"), "B", c("A", "B"), c("A", "B"), "A", c("A", "B"), "B", c("A", "B"))
  d3 <- do.call(rbind, lapply(seq_along(lev), function(i) data.frame(study = i, outcome = lev[[i]])))
  d3$vi <- stats::runif(nrow(d3), 0.005, 0.02)
  d3$x <- stats::rnorm(nrow(d3))
  S <- matrix(0.3, 3, 3); diag(S) <- 1; S <- S * tcrossprod(c(0.3, 0.4, 0.5))
  U <- matrix(stats::rnorm(48), 16) %*% chol(S)
  d3$yi <- 0.3 + 0.2 * (d3$outcome == "B") + 0.1 * d3$x + U[cbind(d3$study, match(d3$outcome, c("A", "B", "C")))] +
    stats::rnorm(nrow(d3), 0, sqrt(d3$vi))
  V3 <- diag(d3$vi)
  fit <- rma.mv(yi, V3, mods = ~ x, random = ~ outcome | study, struct = "HCS", data = d3)
  set.seed(3); b <- suppressWarnings(boot_rma(fit, R = 10, cluster = study, progress = FALSE))
  expect_true(any(is.na(b$t[, 2L + 3L]) & !is.na(b$t[, 1L])))  # replicates without C (its tau2 the 3rd component)
  expect_gt(struct_boot_check(d3, V3, "HCS", ~ x, 10L, 3L, c("A", "B", "C")), 6L)
  expect_gt(struct_boot_check(d3, V3, "HAR", ~ x, 10L, 3L, c("A", "B", "C")), 6L)
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
