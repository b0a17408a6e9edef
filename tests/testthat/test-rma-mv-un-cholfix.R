# UN and GEN terms with some components fixed whose free correlations form
# a cycle among the levels: fitted as metafor 5.2.1 fits them, on the scale
# of the Cholesky factor L with the fixed values overwriting those of L L'
# (InnerOuterTerm::kUNCHOLFIX, src/core/structure.hpp).  Until that scale
# landed these fits stopped with an error when the (tau2, rho)-scale estimate
# was not positive semi-definite.
#
# The reference is metafor::rma.mv() itself.  Its estimates here often lie
# on the boundary of the positive semi-definite cone, where nlminb reports
# false convergence; optim's BFGS at reltol 1e-14 converges, but from
# metafor's own start it stops within about 1e-4 relative of the maximum (its
# log-likelihood below ours): that is the tolerance against it, the limit of
# the reference.  The tight check: metafor's BFGS started at our estimate
# (control tau2.init, rho.init) stays there (1e-6 relative), and metafor's
# log-likelihood, beta and SEs at our estimate (every component fixed there)
# equal ours to 1e-8.

cf_tol_ref <- 2e-4

# Simulated multivariate data: S studies, nl outcomes, a random subset of 2
# to nl outcomes per study, true correlations R and SDs tau.
cf_sim <- function(S, R, tau, seed) {
  set.seed(seed)
  nl <- nrow(R)
  G <- R * tcrossprod(tau)
  do.call(rbind, lapply(seq_len(S), function(s) {
    u <- drop(t(chol(G)) %*% stats::rnorm(nl))
    vi <- stats::runif(nl, 0.01, 0.1)
    keep <- sort(sample(nl, sample(2:nl, 1)))
    data.frame(study = s, out = keep, yi = 0.2 + u[keep] + stats::rnorm(length(keep), 0, sqrt(vi[keep])),
               vi = vi[keep])
  }))
}

cf_bfgs <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 100000)

# ours (f) against metafor's: m from its own start, m_at started at our
# estimate, refit with every component fixed at ours
vc_rel <- function(a, b) max(abs(a - b) / pmax(abs(b), 0.01))
expect_cf_equal <- function(f, m, m_at, refit, label) {
  expect_true(f$convergence$converged, label = label)
  vc <- function(x) c(x$tau2, x$rho, x$gamma2, x$phi)
  expect_lt(vc_rel(vc(f), vc(m)), cf_tol_ref, label = label)
  expect_lt(vc_rel(vc(f), vc(m_at)), tol_iter, label = label)
  # our maximum is at least metafor's
  expect_gt(as.numeric(logLik(f)), as.numeric(logLik(m)) - 1e-10, label = label)
  # metafor's log-likelihood, beta and SEs at our estimate
  expect_equal(as.numeric(logLik(refit)), as.numeric(logLik(f)), tolerance = 1e-8, label = label)
  expect_equal(c(f$beta), c(refit$beta), tolerance = 1e-8, label = label)
  expect_equal(f$se, refit$se, tolerance = 1e-8, label = label)
  expect_equal(f$QE, m$QE, tolerance = tol_closed, label = label)
  expect_equal(as.matrix(f$fit.stats), as.matrix(m$fit.stats), tolerance = 1e-6, label = label)
  expect_equal(f$parms, m$parms, label = label)
  expect_equal(f$vc.fix, m$vc.fix, label = label)
}

test_that("UN with a variance or correlations fixed and a cycle of free correlations matches metafor", {
  skip_if_not_installed("metafor")
  # four outcomes, one correlation fixed at a value far from the data's:
  # the (tau2, rho)-scale estimate is not positive semi-definite
  R4 <- matrix(0.7, 4, 4)
  diag(R4) <- 1
  d4 <- cf_sim(60, R4, c(0.3, 0.4, 0.5, 0.35), seed = 11)
  # three outcomes with correlations near the boundary, a variance fixed
  # (every correlation free): metafor's estimate is a singular correlation
  # matrix (its smallest eigenvalue 0)
  R3 <- matrix(c(1, .95, .9, .95, 1, .75, .9, .75, 1), 3)
  cases <- list(
    list(d = d4, args = list(rho = c(-0.5, NA, NA, NA, NA, NA)), label = "4 levels, rho[1] fixed"),
    list(d = d4, args = list(rho = c(-0.5, NA, NA, NA, NA, -0.5)), label = "4 levels, rho[c(1, 6)] fixed"),
    list(d = d4, args = list(tau2 = c(NA, 0.5, NA, NA)), label = "4 levels, tau2[2] fixed"),
    list(d = cf_sim(25, R3, c(0.3, 0.4, 0.5), seed = 2), args = list(tau2 = c(0.09, NA, NA)),
         label = "3 levels, boundary"),
    list(d = cf_sim(25, R3, c(0.3, 0.4, 0.5), seed = 3), args = list(tau2 = c(0.09, NA, NA), method = "ML"),
         label = "3 levels, boundary, ML"))
  for (cs in cases) {
    d <- cs$d
    f <- do.call(rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN", data = d), cs$args))
    m <- do.call(metafor::rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN", data = d,
                                         control = cf_bfgs), cs$args))
    m_at <- do.call(metafor::rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN", data = d,
                                            control = c(cf_bfgs, list(tau2.init = f$tau2, rho.init = f$rho))), cs$args))
    refit <- do.call(metafor::rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN",
                                             data = d, tau2 = f$tau2, rho = f$rho),
                                        cs$args[setdiff(names(cs$args), c("tau2", "rho"))]))
    expect_cf_equal(f, m, m_at, refit, cs$label)
    # the free correlations are those of a positive semi-definite matrix:
    # with every correlation free (a variance fixed), the matrix itself
    if (is.null(cs$args$rho)) {
      Rf <- diag(length(f$tau2))
      Rf[lower.tri(Rf)] <- f$rho
      Rf[upper.tri(Rf)] <- t(Rf)[upper.tri(Rf)]
      expect_gt(min(eigen(Rf, only.values = TRUE)$values), -1e-8, label = cs$label)
    }
  }
  # the boundary case: metafor's estimate is singular, so is ours
  Rf <- diag(3)
  Rf[lower.tri(Rf)] <- f$rho
  Rf[upper.tri(Rf)] <- t(Rf)[upper.tri(Rf)]
  expect_lt(min(eigen(Rf, only.values = TRUE)$values), 1e-6)
})

# Four outcomes with two slopes x1, x2 for GEN terms.
cf_gen_data <- function() {
  R4 <- matrix(0.7, 4, 4)
  diag(R4) <- 1
  d <- cf_sim(60, R4, c(0.3, 0.4, 0.5, 0.35), seed = 11)
  set.seed(3)
  d$x1 <- d$out / 4 + stats::rnorm(nrow(d), 0, 0.1)
  d$x2 <- stats::rnorm(nrow(d))
  d
}

test_that("GEN with a variance fixed (every correlation free) matches metafor", {
  skip_if_not_installed("metafor")
  d <- cf_gen_data()
  for (tau2 in list(c(NA, 0.05, NA), c(0.2, NA, NA))) {
    lab <- paste(tau2, collapse = ",")
    f <- rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "GEN", data = d, tau2 = tau2)
    m <- metafor::rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "GEN", data = d, tau2 = tau2, control = cf_bfgs)
    m_at <- metafor::rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "GEN", data = d, tau2 = tau2,
                            control = c(cf_bfgs, list(tau2.init = f$tau2, rho.init = f$rho)))
    refit <- metafor::rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "GEN", data = d, tau2 = f$tau2, rho = f$rho)
    expect_true(f$convergence$converged, label = lab)
    expect_lt(vc_rel(c(f$tau2, f$rho), c(m$tau2, m$rho)), cf_tol_ref, label = lab)
    expect_lt(vc_rel(c(f$tau2, f$rho), c(m_at$tau2, m_at$rho)), tol_iter, label = lab)
    expect_gt(as.numeric(logLik(f)), as.numeric(logLik(m)) - 1e-10, label = lab)
    expect_equal(as.numeric(logLik(refit)), as.numeric(logLik(f)), tolerance = 1e-8, label = lab)
    expect_equal(c(f$beta), c(refit$beta), tolerance = 1e-8, label = lab)
    expect_equal(f$QE, m$QE, tolerance = tol_closed, label = lab)
    expect_equal(f$parms, m$parms, label = lab)
  }
})

test_that("the Cholesky-scale term with fixed components: L to (tau2, rho) and the start", {
  # (the kernel's derivatives: src/core/tests/test_blocks.cpp, test_unchol_fixed)
  g <- list(chol = FALSE, cholfix = TRUE, off = 0L, n_v = 3L, n_r = 3L, n_lev = 3L,
            fixed_v = c(0.5, NA, NA), fixed_r = c(NA, 0.2, NA))
  Lm <- matrix(c(1, 0.5, -0.2, 0, 0.8, 0.3, 0, 0, 0.6), 3)
  th <- c(diag(Lm), Lm[lower.tri(Lm)])
  vr <- metafast:::.mf_mv_unchol(list(g), th)
  P <- tcrossprod(Lm)
  expect_equal(vr[1:3], c(0.5, P[2, 2], P[3, 3]), tolerance = 1e-14)
  expect_equal(vr[4:6], c(cov2cor(P)[2, 1], 0.2, cov2cor(P)[3, 2]), tolerance = 1e-14)
  # the start: the fixed correlations in place, 0 at the free ones
  g$fixed_r <- c(0.3, NA, NA)
  st <- metafast:::.mf_mv_cholfix_start(g, 0.04)
  L0 <- diag(st[1:3])
  L0[lower.tri(L0)] <- st[4:6]
  expect_equal(tcrossprod(L0), 0.04 * matrix(c(1, 0.3, 0, 0.3, 1, 0, 0, 0, 1), 3), tolerance = 1e-14)
  # fixed correlations that are not positive definite with 0 at the free
  # ones: the start is sqrt(s) I
  g$fixed_r <- c(0.9, -0.9, NA)
  expect_equal(metafast:::.mf_mv_cholfix_start(g, 0.04), c(0.2, 0.2, 0.2, 0, 0, 0))
})

test_that("case deletion refits UN terms on metafor's scale (estimates on the boundary of the cone)", {
  skip_if_not_installed("metafor")
  # three outcomes with correlations near 1: the fit and many refits lie on
  # the boundary of the positive semi-definite cone, where a refit on the
  # (tau2, rho) scale (as before) ends outside it and metafor's, on the
  # Cholesky scale, on it (cooks.distance differed from metafor's by up to
  # 6x before)
  R3 <- matrix(c(1, .95, .9, .95, 1, .75, .9, .75, 1), 3)
  for (cs in list(list(seed = 2, args = list()), list(seed = 3, args = list()),
                  list(seed = 2, args = list(tau2 = c(0.09, NA, NA))), list(seed = 4, args = list(tau2 = c(0.09, NA, NA))))) {
    d <- cf_sim(25, R3, c(0.3, 0.4, 0.5), seed = cs$seed)
    lab <- paste(cs$seed, length(cs$args))
    f <- do.call(rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN", data = quote(d)),
                           cs$args))
    m <- do.call(metafor::rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN",
                                         data = quote(d), control = cf_bfgs), cs$args))
    a <- cooks.distance(f, cluster = d$study)
    b <- cooks.distance(m, cluster = d$study)
    expect_false(anyNA(a), label = lab)
    # (metafor's BFGS refits: its own tolerance, about 1e-4 relative)
    expect_lt(max(abs(a - b) / pmax(abs(b), 1e-4)), 5e-4, label = lab)
    ra <- rstudent(f, cluster = d$study)
    rb <- rstudent(m, cluster = d$study)
    expect_lt(max(abs(ra$cluster$X2 - rb$cluster$X2) / pmax(abs(rb$cluster$X2), 1e-2)), 5e-4, label = lab)
    # the tight check on the unit of the largest influence: our refit of
    # that subset (rma.mv() on it) has a log-likelihood at least that of
    # metafor's BFGS, started there (its correlations shrunk by 1e-4: metafor
    # cannot start from a singular matrix), which ends within its tolerance;
    # metafor's fit with every component fixed at ours has our
    # log-likelihood, and its coefficients give our Cook's distance
    i <- which.max(a)
    di <- d[d$study != i, ]
    g <- do.call(rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN", data = quote(di)),
                           cs$args))
    h <- do.call(metafor::rma.mv, c(list(quote(yi), quote(vi), random = ~ factor(out) | study, struct = "UN",
                                         data = quote(di),
                                         control = c(cf_bfgs, list(tau2.init = g$tau2, rho.init = 0.9999 * g$rho))),
                                    cs$args))
    hfix <- metafor::rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = di, tau2 = g$tau2, rho = g$rho)
    expect_lt(vc_rel(c(g$tau2, g$rho), c(h$tau2, h$rho)), cf_tol_ref, label = lab)
    expect_gt(as.numeric(logLik(g)), as.numeric(logLik(h)) - 1e-10, label = lab)
    expect_equal(as.numeric(logLik(hfix)), as.numeric(logLik(g)), tolerance = 1e-8, label = lab)
    db <- c(f$beta - hfix$beta)
    expect_equal(a[i], sum(db * solve(f$vb, db)), tolerance = 1e-6, label = lab, ignore_attr = TRUE)
  }
})

test_that("a UN fit on the Cholesky scale does not stop where L has a zero on its diagonal (bug fix)", {
  skip_if_not_installed("metafor")
  # the fit stopped with L(2, 2) at its bound 0 (a correlation of exactly 1)
  # and reported convergence at a log-likelihood 0.16 below metafor's; the
  # restart with that column negated (chol_flips() in structure.hpp) goes on
  R3 <- matrix(c(1, .95, .9, .95, 1, .75, .9, .75, 1), 3)
  d <- cf_sim(25, R3, c(0.3, 0.4, 0.5), seed = 3)
  d <- d[d$study != 1, ]
  f <- rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = d)
  m <- metafor::rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = d, control = cf_bfgs)
  expect_true(f$convergence$converged)
  expect_gt(as.numeric(logLik(f)), as.numeric(logLik(m)) - 1e-10)
  expect_lt(vc_rel(c(f$tau2, f$rho), c(m$tau2, m$rho)), cf_tol_ref)
  expect_lt(f$rho[1], 1 - 1e-4)
})

test_that("profile() and confint() of UN refit on metafor's scale (were NA where the (tau2, rho) refit was not positive semi-definite)", {
  skip_if_not_installed("metafor")
  skip_on_cran()
  # three outcomes with correlations near 1, every component estimated: a
  # refit with a tau2 fixed has a cycle of free correlations (metafor's
  # Cholesky scale with the fixed value overwriting); with a rho fixed, the
  # start at the fit's estimate can leave the marginal covariance not
  # positive definite (the refit then starts from rma.mv()'s own start)
  R3 <- matrix(0.95, 3, 3)
  diag(R3) <- 1
  tl <- list(tol = 1e-10)
  d <- cf_sim(25, R3, c(0.3, 0.4, 0.5), seed = 1)
  f <- rma.mv(yi, vi, random = ~ out | study, struct = "UN", data = d)
  m <- metafor::rma.mv(yi, vi, random = ~ out | study, struct = "UN", data = d, control = cf_bfgs)
  st <- c(0.02, f$tau2[1] * c(0.5, 2, 4))
  pa <- profile(f, tau2 = 1, steps = st, plot = FALSE)
  pb <- profile(m, tau2 = 1, steps = st, plot = FALSE, progbar = FALSE)
  expect_false(anyNA(pa$ll))
  expect_equal(pa$ll, pb$ll, tolerance = 1e-8)
  expect_equal(as.matrix(pa$ci.lb), as.matrix(pb$ci.lb), tolerance = 1e-5)
  # (metafor's confint() runs dozens of fits a bound: the three components
  # at METAFAST_TEST_LEVEL 2, one by default)
  cmps <- list(list(tau2 = 1), list(tau2 = 3), list(rho = 1))
  for (cmp in if (test_level() >= 2L) cmps else cmps[3L]) {
    a <- do.call(confint, c(list(f, control = tl), cmp))
    b <- do.call(confint, c(list(m, control = tl), cmp))
    expect_equal(a$random[1L, 2:3], b$random[1L, 2:3], tolerance = 1e-5, label = names(cmp))
    expect_lt(vc_rel(a$random[1L, 1L], b$random[1L, 1L]), cf_tol_ref)
  }
  # where metafor's own search fails ("Cannot obtain lower bound ... due to
  # convergence problems"): metafor's fit with rho[1] fixed at our bound is
  # where the likelihood-ratio statistic reaches its 95% quantile
  d <- cf_sim(25, R3, c(0.3, 0.4, 0.5), seed = 4)
  f <- rma.mv(yi, vi, random = ~ out | study, struct = "UN", data = d)
  a <- confint(f, rho = 1, control = tl)
  lb <- a$random[1L, 2L]
  expect_true(lb > -1 && lb < f$rho[1])
  h <- metafor::rma.mv(yi, vi, random = ~ out | study, struct = "UN", data = d, rho = c(lb, NA, NA), control = cf_bfgs)
  expect_equal(-2 * (as.numeric(logLik(h)) - as.numeric(logLik(f))), stats::qchisq(0.95, 1), tolerance = 1e-6)
  # four outcomes with a rho fixed by the user (a cholfix fit): the refits
  # with a tau2 or another rho fixed
  R4 <- matrix(0.7, 4, 4)
  diag(R4) <- 1
  d4 <- cf_sim(60, R4, c(0.3, 0.4, 0.5, 0.35), seed = 11)
  rh <- c(-0.5, NA, NA, NA, NA, NA)
  f <- rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = d4, rho = rh)
  m <- metafor::rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = d4, rho = rh, control = cf_bfgs)
  for (cmp in list(list(tau2 = 2, steps = c(0.05, 0.15, 0.3)), list(rho = 2, steps = c(0, 0.5)))) {
    pa <- do.call(profile, c(list(f, plot = FALSE), cmp))
    pb <- do.call(profile, c(list(m, plot = FALSE, progbar = FALSE), cmp))
    expect_equal(pa$ll, pb$ll, tolerance = 1e-8, label = names(cmp)[1])
    expect_equal(as.matrix(pa$beta), as.matrix(pb$beta), tolerance = 1e-5, label = names(cmp)[1])
  }
})

# Each replicate of boot_rma(cluster = study) of a UN fit with rho fixed by
# the user against metafor's rma.mv() on the drawn clusters (each drawn
# study relabelled): metafor's beta at our estimate (every component fixed
# there) is ours (1e-8); its log-likelihood there is at least that of
# metafor's own BFGS fit (which often stops short on these small data sets,
# or fails); metafor's BFGS started at our estimate stays within cf_tol_ref
# of it in the components the likelihood identifies (a correlation beside a
# variance of 0 does not enter it), where metafor can start there.  At most
# n_na replicates may be NA.  Every replicate is compared at
# METAFAST_TEST_LEVEL 2, every other one by default.
# Returns the number compared with metafor's own fit and the number checked.
cf_boot_check <- function(d, rh, R, seed, n_na = 0L) {
  f <- rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = d, rho = rh)
  set.seed(seed)
  b <- suppressWarnings(boot_rma(f, R = R, cluster = study, progress = FALSE))
  na <- !stats::complete.cases(b$t)
  expect_lte(sum(na), n_na)
  idx <- metafast:::.mf_rma_mv_boot(b$mv$spec, b$mv$unit, b$mv$n, b$mv$theta, TRUE, 1e-10, 1000L, 1, b$seed, 0, R,
                                    1L, NULL, NULL, TRUE)$index
  ids <- sort(unique(d$study))
  nl <- length(f$tau2)
  pr <- which(lower.tri(diag(nl)), arr.ind = TRUE)
  done <- 0L
  checked <- which(!na)
  if (test_level() < 2L) checked <- checked[seq(1L, length(checked), by = 2L)]
  for (r in checked) {
    lab <- sprintf("replicate %d", r)
    w <- lapply(seq_along(ids), function(j) which(d$study == ids[idx[j, r]]))
    dr <- d[unlist(w), ]
    dr$study <- rep(seq_along(ids), lengths(w))
    th <- b$t[r, ]
    tau2 <- th[1L + seq_len(nl)]
    rho <- th[-seq_len(1L + nl)]
    hfix <- metafor::rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = dr, tau2 = tau2, rho = rho)
    expect_equal(c(hfix$beta), unname(th[1L]), tolerance = 1e-8, label = lab)
    ll <- as.numeric(logLik(hfix))
    # (metafor cannot start where its G is not positive definite)
    m_at <- tryCatch(metafor::rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = dr, rho = rh,
                                     control = c(cf_bfgs, list(tau2.init = pmax(tau2, 1e-6), rho.init = 0.9999 * rho))),
                     error = function(e) NULL)
    if (!is.null(m_at)) {
      expect_lt(as.numeric(logLik(m_at)), ll + 1e-8 * abs(ll), label = lab)
      idr <- is.na(rh) & tau2[pr[, 1L]] > 1e-6 & tau2[pr[, 2L]] > 1e-6
      expect_lt(vc_rel(c(tau2, rho[idr]), c(m_at$tau2, m_at$rho[idr])), cf_tol_ref, label = lab)
    }
    m <- tryCatch(metafor::rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = dr, rho = rh,
                                  control = cf_bfgs), error = function(e) NULL)
    if (is.null(m)) next
    expect_gt(ll, as.numeric(logLik(m)) - 1e-8 * abs(ll), label = lab)
    done <- done + 1L
  }
  c(done = done, checked = length(checked))
}

test_that("boot_rma(cluster = ) of UN with a rho fixed and a cycle of free correlations: metafor's refits (were NA where not positive semi-definite)", {
  skip_if_not_installed("metafor")
  skip_on_cran()
  # the replicates ran on the (tau2, rho) scale and were NA where that
  # estimate was not positive semi-definite (11 of 20 on the larger data
  # set, 19 of 20 on the smaller); on the smaller, refits stopped where a
  # variance had gone to 0 (InnerOuterTerm::kUNCHOLFIX's kink; the restarts
  # of RandomTerms::chol_flips()) or at L = 0 (the default start of L).
  # Two replicates of the smaller stay NA: there the likelihood grows
  # without bound as the marginal covariance of a study nears singular (E
  # need not be positive semi-definite on metafor's scale); metafor's BFGS
  # fails on both, its nlminb stops where the covariance is numerically
  # singular
  R4 <- matrix(0.7, 4, 4)
  diag(R4) <- 1
  rh <- c(-0.5, NA, NA, NA, NA, NA)
  # (metafor's own fit failing on at most one, or two, of the replicates checked)
  r1 <- cf_boot_check(cf_sim(60, R4, c(0.3, 0.4, 0.5, 0.35), seed = 11), rh, 6L, 1L)
  expect_gte(r1[["done"]], r1[["checked"]] - 1L)
  r2 <- cf_boot_check(cf_sim(14, R4, c(0.3, 0.4, 0.5, 0.35), seed = 11), rh, 8L, 1L, n_na = 2L)
  expect_gte(r2[["done"]], r2[["checked"]] - 2L)
})

test_that("boot_rma(cluster = ) of GEN with a variance fixed: each replicate is metafor's refit on the drawn clusters", {
  skip_if_not_installed("metafor")
  skip_on_cran()
  d <- cf_gen_data()
  tau2 <- c(NA, 0.05, NA)
  f <- rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "GEN", data = d, tau2 = tau2)
  set.seed(2)
  b <- boot_rma(f, R = 3, cluster = study, progress = FALSE)
  expect_false(anyNA(b$t))
  idx <- metafast:::.mf_rma_mv_boot(b$mv$spec, b$mv$unit, b$mv$n, b$mv$theta, TRUE, 1e-10, 1000L, 1, b$seed, 0, 3,
                                    1L, NULL, NULL, TRUE)$index
  ids <- sort(unique(d$study))
  for (r in 1:3) {
    w <- lapply(seq_along(ids), function(j) which(d$study == ids[idx[j, r]]))
    dr <- d[unlist(w), ]
    dr$study <- rep(seq_along(ids), lengths(w))
    th <- b$t[r, ]
    m <- metafor::rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "GEN", data = dr, tau2 = tau2, control = cf_bfgs)
    h <- metafor::rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "GEN", data = dr, tau2 = th[2:4], rho = th[5:7])
    expect_lt(vc_rel(th[-1], c(m$tau2, m$rho)), cf_tol_ref)
    expect_gt(as.numeric(logLik(h)), as.numeric(logLik(m)) - 1e-10)
    expect_equal(unname(th[1]), c(h$beta), tolerance = 1e-8)
  }
})

test_that("a cholfix fit warns when a block's marginal covariance is nearly singular at the estimate", {
  # a cluster bootstrap replicate of a 14-study set (studies drawn with
  # replacement, renumbered): on metafor's scale the UN matrix becomes
  # indefinite and the covariance of the rows of study 10 (drawn as 1 and 12)
  # nearly singular; the likelihood grows there without bound
  R4 <- matrix(0.7, 4, 4)
  diag(R4) <- 1
  d <- cf_sim(14, R4, c(0.3, 0.4, 0.5, 0.35), seed = 11)
  ids <- c(10, 8, 5, 5, 11, 12, 13, 11, 5, 12, 5, 10, 1, 13)
  w <- lapply(ids, function(j) which(d$study == j))
  dr <- d[unlist(w), ]
  dr$study <- rep(seq_along(ids), lengths(w))
  rh <- c(-0.5, NA, NA, NA, NA, NA)
  msgs <- character(0)
  f <- withCallingHandlers(rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = dr, rho = rh),
                           warning = function(w) {
                             msgs <<- c(msgs, conditionMessage(w))
                             invokeRestart("muffleWarning")
                           })
  sing <- grep("nearly singular", msgs, value = TRUE)
  expect_length(sing, 1L)
  first <- which(dr$study == 1L)
  expect_match(sing, sprintf("rows %s of the fit", paste(first, collapse = ", ")), fixed = TRUE)
  expect_match(sing, "UN term")
  # the named block: its marginal covariance at the estimate, from the estimates
  G <- diag(sqrt(f$tau2)) %*% (function(r) { m <- diag(4); m[lower.tri(m)] <- r; m + t(m) - diag(4) })(f$rho) %*%
    diag(sqrt(f$tau2))
  M <- G[dr$out[first], dr$out[first]] + diag(dr$vi[first])
  e <- eigen(M, only.values = TRUE)$values
  expect_lt(min(e) / max(e), 1e-8)
  # the 60-study set of the same design: no such warning
  d60 <- cf_sim(60, R4, c(0.3, 0.4, 0.5, 0.35), seed = 11)
  expect_no_warning(rma.mv(yi, vi, random = ~ factor(out) | study, struct = "UN", data = d60, rho = rh))
})

