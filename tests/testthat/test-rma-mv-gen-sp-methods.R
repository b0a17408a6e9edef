# ranef(), boot_rma(cluster = ) and vif(sim = ) of rma.mv() fits with GEN,
# GDIAG and spatial '~ inner | outer' terms against metafor 5.2.1: ranef()
# against metafor::ranef() of metafor's fit (nlminb at rel.tol 1e-12; given
# the estimates the BLUPs are closed form, so they inherit the 1e-6 of the
# estimates: tol_iter); each bootstrap replicate against metafor::rma.mv()
# on the resampled data (each drawn cluster relabelled); vif(sim = ) against
# metafor::vif() with the same seed (the same permuted data sets).

gsm_spatial <- function(seed = 3, n = 25) {
  set.seed(seed)
  ns <- sample(3:6, n, TRUE)
  d <- data.frame(study = rep(seq_len(n), ns))
  k <- nrow(d)
  d$x1 <- round(runif(k, 0, 10), 2)
  d$x2 <- round(runif(k, 0, 10), 2)
  d$vi <- runif(k, 0.01, 0.05)
  d$mod <- rnorm(k)
  u <- unlist(lapply(split(seq_len(k), d$study), function(ii) {
    D <- as.matrix(stats::dist(d[ii, c("x1", "x2")]))
    c(t(chol(0.1 * exp(-D / 3) + diag(1e-10, length(ii)))) %*% rnorm(length(ii)))
  }))
  d$yi <- 0.3 + 0.1 * d$mod + u + rnorm(k, 0, sqrt(d$vi))
  d
}

gsm_slope <- function(seed = 7, n = 30) {
  set.seed(seed)
  ns <- sample(2:6, n, TRUE)
  d <- data.frame(study = rep(seq_len(n), ns))
  k <- nrow(d)
  d$x <- round(rnorm(k), 2)
  d$vi <- runif(k, 0.01, 0.06)
  u0 <- rnorm(n, 0, 0.3)
  u1 <- 0.5 * u0 + rnorm(n, 0, 0.15)
  d$yi <- 0.2 + 0.15 * d$x + u0[d$study] + u1[d$study] * d$x + rnorm(k, 0, sqrt(d$vi))
  d$es <- seq_len(k)
  d
}

expect_ranef_equal <- function(rf, rm) {
  expect_identical(names(rf), names(rm))
  for (j in seq_along(rm)) {
    expect_identical(rownames(rf[[j]]), rownames(rm[[j]]), info = names(rm)[j])
    expect_identical(colnames(rf[[j]]), colnames(rm[[j]]), info = names(rm)[j])
    expect_equal(unname(as.matrix(rf[[j]])), unname(as.matrix(rm[[j]])), tolerance = tol_iter, info = names(rm)[j])
  }
}

test_that("ranef() of spatial fits matches metafor", {
  skip_if_not_installed("metafor")
  d <- gsm_spatial()
  # a sigma2 component beside the term; the range fixed (SPLIN/SPSPH have
  # kinks and local maxima: at a fixed range the fit is smooth)
  for (st in c("SPEXP", "SPGAU", "SPLIN", "SPRAT", "SPSPH")) {
    f <- rma.mv(yi, vi, mods = ~ mod, random = list(~ 1 | study, ~ x1 + x2 | study), struct = st, data = d, rho = 3)
    m <- mv_ref(yi, vi, mods = ~ mod, random = list(~ 1 | study, ~ x1 + x2 | study), struct = st, data = d, rho = 3)
    expect_ranef_equal(ranef(f), metafor::ranef(m))
  }
  # the range estimated; t tests (residual and contain: metafor counts the
  # values of the second coordinate); level, transf
  f <- rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d, test = "t", dfs = "contain")
  m <- mv_ref(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d, test = "t", dfs = "contain")
  expect_equal(f$rho, m$rho, tolerance = 1e-5)
  expect_ranef_equal(ranef(f), metafor::ranef(m))
  expect_ranef_equal(ranef(f, level = 80, transf = exp), metafor::ranef(m, level = 80, transf = exp))
  f <- update(f, dfs = "residual")
  m <- update(m, dfs = "residual")
  expect_ranef_equal(ranef(f), metafor::ranef(m))
  # a missing value and a subset: rows named by their position in the data
  d2 <- d[-c(3, 7), ]
  d2$yi[5] <- NA
  f <- suppressWarnings(rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPGAU", data = d2, rho = 3,
                               subset = study > 3))
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ x1 + x2 | study, struct = "SPGAU", data = d2, rho = 3,
                               subset = study > 3))
  expect_ranef_equal(ranef(f), metafor::ranef(m))
  # vcov = TRUE: the prediction covariance over the rows
  vf <- ranef(f, vcov = TRUE)
  vm <- metafor::ranef(m, vcov = TRUE)
  expect_ranef_equal(vf$pred, vm$pred)
  expect_equal(unname(as.matrix(vf$vcov[[1]])), unname(as.matrix(vm$vcov[[1]])), tolerance = tol_iter)
  expect_identical(dimnames(vf$vcov[[1]]), dimnames(vm$vcov[[1]]))
})

test_that("ranef() of spatial fits with a distance matrix matches metafor (dat.maire2019)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.maire2019$dat
  dmat <- metadat::dat.maire2019$dmat
  f <- rma.mv(s1, vars1, random = ~ site_station | const, struct = "SPEXP", data = dat, dist = list(dmat), rho = 20)
  m <- mv_ref(s1, vars1, random = ~ site_station | const, struct = "SPEXP", data = dat, dist = list(dmat), rho = 20)
  expect_ranef_equal(ranef(f), metafor::ranef(m))
  vf <- ranef(f, vcov = TRUE)$vcov[[1]]
  vm <- metafor::ranef(m, vcov = TRUE)$vcov[[1]]
  expect_equal(unname(as.matrix(vf)), unname(as.matrix(vm)), tolerance = tol_iter)
})

test_that("ranef() of GEN and GDIAG fits is metafor's matrix of the coefficients' BLUPs", {
  skip_if_not_installed("metafor")
  d <- gsm_slope()
  for (st in c("GEN", "GDIAG")) {
    f <- rma.mv(yi, vi, mods = ~ x, random = ~ x | study, struct = st, data = d)
    m <- mv_ref(yi, vi, mods = ~ x, random = ~ x | study, struct = st, data = d)
    rf <- ranef(f)
    rm <- metafor::ranef(m)
    expect_true(is.matrix(rf))
    expect_identical(dimnames(rf), dimnames(rm))
    expect_equal(unname(rf), unname(rm), tolerance = tol_iter, info = st)
    # (whatever else is asked for: metafor returns the matrix only)
    expect_identical(ranef(f, vcov = TRUE), rf)
  }
  # a sigma2 component beside it: still the matrix only (as metafor)
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | es, ~ x | study), struct = "GEN", data = d)
  m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | es, ~ x | study), struct = "GEN", data = d)
  expect_equal(unname(ranef(f)), unname(metafor::ranef(m)), tolerance = tol_iter)
  # a crossed factor joins the studies into one block: metafor's formula
  # takes the rows of each study from M^-1 (W[o, o] e_o)
  d$grp <- rep(1:3, length.out = nrow(d))
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | grp, ~ x | study), struct = "GEN", data = d)
  m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | grp, ~ x | study), struct = "GEN", data = d)
  expect_equal(unname(ranef(f)), unname(metafor::ranef(m)), tolerance = tol_iter)
  # a factor inner term (dat.berkey1998)
  skip_if_not_installed("metadat")
  dat <- metadat::dat.berkey1998
  V <- metafor::vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = dat)
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "GEN", data = dat)
  m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "GEN", data = dat)
  expect_identical(dimnames(ranef(f)), dimnames(metafor::ranef(m)))
  expect_equal(unname(ranef(f)), unname(metafor::ranef(m)), tolerance = tol_iter)
})

test_that("ranef() with a GEN term as the second term leaves it out, as metafor", {
  skip_if_not_installed("metafor")
  d <- gsm_slope()
  d$arm <- rep(c("a", "b"), length.out = nrow(d))
  # (the CS and GEN terms of one outer factor lie on a ridge of the
  # likelihood: the CS components fixed)
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ arm | study, ~ x | study), struct = c("CS", "GEN"), data = d,
              tau2 = 0.02, rho = 0.5)
  m <- mv_ref(yi, vi, mods = ~ x, random = list(~ arm | study, ~ x | study), struct = c("CS", "GEN"), data = d,
              tau2 = 0.02, rho = 0.5)
  expect_ranef_equal(ranef(f), metafor::ranef(m))
  expect_identical(names(ranef(f)), "~arm | study")
})

# Each replicate of boot_rma(cluster = ) against metafor's refit of the
# drawn clusters (each draw relabelled by its position).  Returns the number
# of replicates compared (metafor's refit can fail; those NA in ours too
# when metafor refuses the data).
gsm_boot_check <- function(fit, dat, R, seed, refit, stat) {
  bd <- boot_mv_draws(fit, R, seed)
  b <- bd$b
  idx <- bd$idx
  ids <- sort(unique(dat$study))
  done <- 0L
  for (r in seq_len(R)) {
    w <- lapply(seq_along(ids), function(j) which(dat$study == ids[idx[j, r]]))
    d <- dat[unlist(w), ]
    d$study <- rep(seq_along(ids), lengths(w))
    m <- tryCatch(suppressWarnings(refit(d)), error = function(e) NULL)
    if (is.null(m)) {
      expect_true(all(is.na(b$t[r, ])), label = sprintf("replicate %d refused by metafor", r))
      next
    }
    expect_equal(unname(b$t[r, ]), stat(m), tolerance = tol_iter, label = sprintf("replicate %d", r))
    done <- done + 1L
  }
  list(done = done, boot = b)
}

test_that("boot_rma(cluster = ) of GEN and GDIAG fits: each replicate is metafor's refit on the drawn clusters", {
  skip_if_not_installed("metafor")
  d <- gsm_slope(n = 20)
  for (st in c("GEN", "GDIAG")) {
    fit <- rma.mv(yi, vi, mods = ~ x, random = ~ x | study, struct = st, data = d)
    r <- gsm_boot_check(fit, d, 8L, 4L,
                        function(dd) mv_ref(yi, vi, mods = ~ x, random = ~ x | study, struct = st, data = dd),
                        function(m) c(m$beta, m$tau2, if (st == "GEN") m$rho))
    expect_gt(r$done, 5L)
    expect_identical(names(r$boot$t0), c("intrcpt", "x", "tau2.1", "tau2.2", if (st == "GEN") "rho"))
  }
})

test_that("boot_rma(cluster = ) of spatial fits: each replicate is metafor's refit on the drawn clusters", {
  skip_if_not_installed("metafor")
  d <- gsm_spatial(n = 15)
  fit <- rma.mv(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = "SPEXP", data = d)
  r <- gsm_boot_check(fit, d, 6L, 2L,
                      function(dd) {
                        m <- mv_ref(yi, vi, mods = ~ mod, random = ~ x1 + x2 | study, struct = "SPEXP", data = dd)
                        # (nlminb at 1e-12 can stop short on these likelihoods: then
                        # compared where metafor confirms its point from ours)
                        m
                      },
                      function(m) c(m$beta, m$tau2, m$rho))
  expect_gt(r$done, 3L)
  # a fixed range and a sigma2 component
  fit <- rma.mv(yi, vi, random = list(~ 1 | study, ~ x1 + x2 | study), struct = "SPGAU", data = d, rho = 2)
  r <- gsm_boot_check(fit, d, 6L, 5L,
                      function(dd) mv_ref(yi, vi, random = list(~ 1 | study, ~ x1 + x2 | study), struct = "SPGAU",
                                          data = dd, rho = 2),
                      function(m) c(m$beta, m$sigma2, m$tau2, m$rho))
  expect_gt(r$done, 3L)
  # drawn data that metafor refuses (every study one row): NA
  d1 <- d[!duplicated(d$study), ]
  d1 <- rbind(d1, d[d$study == 1, ][2, ])
  fit <- rma.mv(yi, vi, random = ~ x1 + x2 | study, struct = "SPEXP", data = d1, rho = 2)
  set.seed(1)
  b <- suppressWarnings(boot_rma(fit, R = 20, cluster = study, progress = FALSE))
  idx <- metafast:::.mf_rma_mv_boot(b$mv$spec, b$mv$unit, b$mv$n, b$mv$theta, TRUE, 1e-10, 1000L, 1, b$seed, 0, 20,
                                    1L, NULL, NULL, TRUE)$index
  expect_identical(is.na(b$t[, 1]), colSums(idx == 1L) == 0)
})

test_that("vif(sim = ) of rma.mv() fits draws metafor's data sets and gives its simulated VIFs", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  f <- rma.mv(yi, vi, mods = ~ year + pubstatus + deltype, random = ~ 1 | study/esid, data = dat)
  m <- mv_ref(yi, vi, mods = ~ year + pubstatus + deltype, random = ~ 1 | study/esid, data = dat)
  for (args in list(list(sim = 12, seed = 3), list(sim = 8), list(sim = 6, btt = list(2:3, 4:5), seed = 1))) {
    set.seed(42); a <- do.call(vif, c(list(f), args))
    set.seed(42); r <- do.call(metafor::vif, c(list(m, progbar = FALSE), args))
    expect_identical(dim(a$sim), dim(r$sim))
    expect_identical(attr(a$sim, "type"), attr(r$sim, "type"))
    expect_identical(is.na(a$sim), is.na(r$sim))
    expect_equal(c(a$sim), c(r$sim), tolerance = tol_iter)
    expect_equal(a$prop, r$prop, tolerance = 1e-12)
  }
  # reestimate = TRUE: the reduced models refitted on each permuted data set
  set.seed(2); a <- vif(f, sim = 5, seed = 9, reestimate = TRUE)
  set.seed(2); r <- metafor::vif(m, sim = 5, seed = 9, reestimate = TRUE, progbar = FALSE)
  expect_equal(c(a$sim), c(r$sim), tolerance = 1e-4)  # (metafor's reduced refits at its default settings)
  # a GEN term (its inner variable is the permuted moderator: the random
  # part keeps the data's values, as metafor's)
  d <- gsm_slope()
  d$z <- 0.5 * d$x + rnorm(nrow(d))
  f <- rma.mv(yi, vi, mods = ~ x + z, random = ~ x | study, struct = "GEN", data = d)
  m <- mv_ref(yi, vi, mods = ~ x + z, random = ~ x | study, struct = "GEN", data = d)
  a <- vif(f, sim = 6, seed = 4)
  r <- metafor::vif(m, sim = 6, seed = 4, progbar = FALSE)
  expect_equal(c(a$sim), c(r$sim), tolerance = 1e-5)
})
