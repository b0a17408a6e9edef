# boot_rma(cluster = ) of rma.mv() fits with a GEN, GDIAG or spatial term
# beside an '~ inner | outer' term of another structure (CS, UN, DIAG):
# each replicate against metafor::rma.mv() refitted on the drawn clusters
# (each drawn copy its own study and its own groups).

# studies of one or two groups of three rows (outcomes A, B, A); x a
# moderator and the inner term of GEN; (x1, x2) coordinates; yi with random
# study, outcome and group intercepts and group slopes, ys with a spatial
# (exponential) effect within groups instead of the slopes
bmix_data <- function(seed = 2, n = 16) {
  set.seed(seed)
  d <- do.call(rbind, lapply(seq_len(n), function(i) {
    ng <- sample(1:2, 1)
    do.call(rbind, lapply(seq_len(ng), function(g) data.frame(study = i, grp = paste0(i, "-", g), outcome = c("A", "B", "A"))))
  }))
  k <- nrow(d)
  d$x <- round(rnorm(k), 2)
  d$x1 <- round(runif(k, 0, 10), 2)
  d$x2 <- round(runif(k, 0, 10), 2)
  d$vi <- runif(k, 0.005, 0.02)
  us <- rnorm(n, 0, 0.3)
  uo <- matrix(rnorm(2 * n, 0, 0.2), n)
  gl <- unique(d$grp)
  g0 <- rnorm(length(gl), 0, 0.3)
  g1 <- 0.5 * g0 + rnorm(length(gl), 0, 0.2)
  gi <- match(d$grp, gl)
  sp <- numeric(k)
  for (ii in split(seq_len(k), gi)) {
    D <- as.matrix(stats::dist(d[ii, c("x1", "x2")]))
    sp[ii] <- c(t(chol(0.1 * exp(-D / 3) + diag(1e-10, length(ii)))) %*% rnorm(length(ii)))
  }
  base <- 0.2 + 0.1 * d$x + us[d$study] + uo[cbind(d$study, match(d$outcome, c("A", "B")))]
  d$yi <- base + g0[gi] + g1[gi] * d$x + rnorm(k, 0, sqrt(d$vi))
  d$ys <- base + sp + rnorm(k, 0, sqrt(d$vi))
  d
}

# Each replicate against metafor's refit of its drawn clusters: refit(d)
# gives metafor's fit, refit(d, th) metafor's fit with the variance
# components fixed at th (a row of $t without its coefficients), stat(m)
# the statistics in the columns of $t (NA for a component that the refit
# does not have).  Where the estimates differ, metafor's log-likelihood at
# ours must be at least that of its own estimate (metafor's optimiser
# stopped at a lower maximum or short of it, or the likelihood is flat: a
# spatial range far below the distances of the rows) and our coefficients
# are compared with metafor's at our estimate.  Every replicate is compared
# at METAFAST_TEST_LEVEL 2, every other one by default (metafor's refits are
# the time of this file).  Returns the numbers compared (n: replicates
# checked).
bmix_check <- function(fit, dat, R, seed, refit, stat) {
  bd <- boot_mv_draws(fit, R, seed)
  b <- bd$b
  idx <- bd$idx
  ids <- sort(unique(dat$study))
  p <- ncol(fit$X)
  done <- lower <- refused <- 0L
  checked <- seq(1L, R, by = if (test_level() >= 2L) 1L else 2L)
  for (r in checked) {
    w <- lapply(seq_along(ids), function(j) which(dat$study == ids[idx[j, r]]))
    d <- dat[unlist(w), ]
    d$study <- rep(seq_along(ids), lengths(w))
    d$grp <- paste(d$study, d$grp)
    m <- tryCatch(suppressWarnings(refit(d)), error = function(e) NULL)
    if (is.null(m)) {
      expect_true(all(is.na(b$t[r, ])), label = sprintf("replicate %d refused by metafor", r))
      refused <- refused + 1L
      next
    }
    got <- unname(b$t[r, ])
    want <- stat(m)
    if (!isTRUE(all.equal(got[seq_len(p)], want[seq_len(p)], tolerance = 1e-6)) ||
        !isTRUE(all.equal(got[-seq_len(p)], want[-seq_len(p)], tolerance = 1e-5))) {
      mf <- suppressWarnings(refit(d, got[-seq_len(p)]))
      expect_gte(c(logLik(mf)), c(logLik(m)) - 1e-8, label = sprintf("replicate %d: metafor's log-likelihood at ours", r))
      expect_equal(got[seq_len(p)], c(mf$beta), tolerance = 1e-6, label = sprintf("replicate %d: coefficients at ours", r))
      lower <- lower + 1L
      next
    }
    expect_equal(got[seq_len(p)], want[seq_len(p)], tolerance = 1e-6, label = sprintf("replicate %d: coefficients", r))
    expect_equal(got[-seq_len(p)], want[-seq_len(p)], tolerance = 1e-5, label = sprintf("replicate %d: variance components", r))
    done <- done + 1L
  }
  list(done = done, lower = lower, refused = refused, boot = b, n = length(checked))
}

test_that("boot_rma(cluster = ) of CS or UN beside GEN and CS beside SPEXP: each replicate is metafor's refit on the drawn clusters", {
  skip_if_not_installed("metafor")
  d <- bmix_data()
  # (the old error is gone)
  rnd <- list(~ outcome | study, ~ x | grp)
  fit <- rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("CS", "GEN"), data = d)
  expect_error(suppressWarnings(boot_rma(fit, R = 2, cluster = study, progress = FALSE)), NA)
  r <- bmix_check(fit, d, 20L, 1L,
                  function(dd, th = NULL) {
                    if (is.null(th)) return(mv_ref(yi, vi, mods = ~ x, random = rnd, struct = c("CS", "GEN"), data = dd))
                    metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("CS", "GEN"), data = dd,
                                    tau2 = th[1], rho = th[2], gamma2 = th[3:4], phi = th[5])
                  },
                  function(m) c(m$beta, m$tau2, m$rho, m$gamma2, m$phi))
  expect_gte(r$done, floor(0.75 * r$n))
  expect_identical(names(r$boot$t0), c("intrcpt", "x", "tau2", "rho", "gamma2.1", "gamma2.2", "phi"))
  # UN beside GEN: both on the Cholesky scale (every component estimated)
  fit <- rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("UN", "GEN"), data = d)
  r <- bmix_check(fit, d, 20L, 4L,
                  function(dd, th = NULL) {
                    if (is.null(th)) return(mv_ref(yi, vi, mods = ~ x, random = rnd, struct = c("UN", "GEN"), data = dd))
                    metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("UN", "GEN"), data = dd,
                                    tau2 = th[1:2], rho = th[3], gamma2 = th[4:5], phi = th[6])
                  },
                  function(m) c(m$beta, m$tau2, m$rho, m$gamma2, m$phi))
  expect_gte(r$done, floor(0.75 * r$n))
  # a spatial term (an estimated range, fitted as log(rho))
  rnd <- list(~ outcome | study, ~ x1 + x2 | grp)
  fit <- rma.mv(ys, vi, mods = ~ x, random = rnd, struct = c("CS", "SPEXP"), data = d)
  r <- bmix_check(fit, d, 20L, 2L,
                  function(dd, th = NULL) {
                    if (is.null(th)) return(mv_ref(ys, vi, mods = ~ x, random = rnd, struct = c("CS", "SPEXP"), data = dd))
                    metafor::rma.mv(ys, vi, mods = ~ x, random = rnd, struct = c("CS", "SPEXP"), data = dd,
                                    tau2 = th[1], rho = th[2], gamma2 = th[3], phi = th[4])
                  },
                  function(m) c(m$beta, m$tau2, m$rho, m$gamma2, m$phi))
  expect_gte(r$done, floor(0.75 * r$n))
})

test_that("boot_rma(cluster = ) of DIAG beside GEN and GDIAG beside DIAG: replicates that metafor sets up otherwise are its refits", {
  skip_if_not_installed("metafor")
  # outcome C in 2 of 16 studies: replicates without it (its variance NA,
  # the GEN term's components one place earlier in the refit's theta) and
  # with it in one drawn study (its variance fixed at 0, metafor's rule)
  d <- bmix_data()
  d$outcome[d$study %in% 1:2 & d$outcome == "B"] <- "C"
  levs <- c("A", "B", "C")
  rnd <- list(~ outcome | study, ~ x | grp)
  fit <- rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("DIAG", "GEN"), data = d)
  r <- bmix_check(fit, d, 20L, 3L,
                  function(dd, th = NULL) {
                    if (is.null(th)) return(mv_ref(yi, vi, mods = ~ x, random = rnd, struct = c("DIAG", "GEN"), data = dd))
                    th <- th[!is.na(th)]
                    nt <- length(th) - 3L
                    metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("DIAG", "GEN"), data = dd,
                                    tau2 = th[seq_len(nt)], gamma2 = th[nt + 1:2], phi = th[nt + 3])
                  },
                  function(m) {
                    tau2 <- rep(NA_real_, 3)
                    tau2[match(m$g.levels.f[[1L]], levs)] <- m$tau2
                    c(m$beta, tau2, m$gamma2, m$phi)
                  })
  expect_gte(r$done, floor(0.75 * r$n))
  t <- r$boot$t
  expect_true(any(is.na(t[, "tau2.3"]) & !is.na(t[, "intrcpt"])))
  expect_true(all(!is.na(t[, "gamma2.1"]) | is.na(t[, "intrcpt"])))
  # the GEN/GDIAG term first, DIAG second (gamma2)
  rnd <- list(~ x | grp, ~ outcome | study)
  fit <- rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("GDIAG", "DIAG"), data = d)
  r <- bmix_check(fit, d, 20L, 3L,
                  function(dd, th = NULL) {
                    if (is.null(th)) return(mv_ref(yi, vi, mods = ~ x, random = rnd, struct = c("GDIAG", "DIAG"), data = dd))
                    th <- th[!is.na(th)]
                    metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = c("GDIAG", "DIAG"), data = dd,
                                    tau2 = th[1:2], gamma2 = th[-(1:2)])
                  },
                  function(m) {
                    g2 <- rep(NA_real_, 3)
                    g2[match(m$h.levels.f[[1L]], levs)] <- m$gamma2
                    c(m$beta, m$tau2, g2)
                  })
  expect_gte(r$done, floor(0.75 * r$n))
  expect_true(any(is.na(r$boot$t[, "gamma2.3"]) & !is.na(r$boot$t[, "intrcpt"])))
})
