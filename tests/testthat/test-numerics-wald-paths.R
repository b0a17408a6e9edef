# Exact Wald statistics (issue 18) for the fits that carried none before:
# rma.mv() fits by the sparse crossed engine, rma.mv() fits with user weights
# W, and selmodel() fits.  Each is fitted on an ill-conditioned design X = Z M
# (a moderator with an offset, a scaled moderator, or two nearly collinear
# moderators) and compared with the same fit on the well-conditioned design Z:
# metafor's (rma.mv; tight optimiser settings) or, for selection models,
# metafast's own fit on Z (the exact reference of the issue: the same model on
# rescaled data), with metafor's on Z as a looser check (its optimiser stops
# ~1e-4 away).  The Wald statistic of L beta = rhs is that of (L Minv) beta_Z
# = rhs (.wp_wald_ref(), the construction of test-numerics.R).
# Tolerances: 1e-5 against metafor's rma.mv (its optimiser), 1e-6 against
# metafast's own fit on Z.

wp_data <- function() {
  dat <- bcg_data()
  set.seed(18)
  dat$z <- round(stats::rnorm(13), 2)
  dat$a <- rep(1:4, length.out = 13)
  dat$b <- rep(1:3, each = 5)[1:13]
  dat$w <- 1 / (dat$vi + 0.05)
  dat
}

wp_tight <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 20000)

.wp_wald_ref <- function(r, L, Minv, anova_fun = metafor::anova.rma) {
  LZ <- L %*% Minv
  C <- t(qr.Q(qr(t(LZ))))
  anova_fun(r, X = C)$QM
}

# The designs: list(formula on the ill-conditioned data, Minv) for x1 = ablat
# + off, x1 = ablat * sc and x2 = ablat + eps z; the reference is ~ ablat + z.
wp_cases <- function(level) {
  offs <- if (level >= 2) 10^(3:12) else c(1e6)
  scs <- if (level >= 2) 10^c(-150, -120, -100, -50, -10, 10, 50, 100, 120, 150) else c(1e-120)
  epss <- if (level >= 2) c(1e-3, 1e-4, 3e-5, 1e-5) else c(1e-5)
  c(lapply(offs, function(off) list(name = paste("offset", off), set = function(d) { d$x1 <- d$ablat + off; d$x2 <- d$z; d },
                                    Minv = rbind(c(1, -off, 0), c(0, 1, 0), c(0, 0, 1)))),
    lapply(scs, function(sc) list(name = paste("scale", sc), set = function(d) { d$x1 <- d$ablat * sc; d$x2 <- d$z; d },
                                  Minv = diag(c(1, 1 / sc, 1)),
                                  # (contrasts of x1 at its own scale: rows that mix 1e120 b1 and
                                  # b2 are ill-posed in double precision, their row space is lost
                                  # to rounding in any coordinates)
                                  L = rbind(c(0, sc, -1), c(1, 40 * sc, 0)))),
    lapply(epss, function(eps) list(name = paste("collinear", eps),
                                    set = function(d) { d$x1 <- d$ablat; d$x2 <- d$ablat + eps * d$z; d },
                                    Minv = rbind(c(1, 0, 0), c(0, 1, -1 / eps), c(0, 0, 1 / eps)))))
}

# the fit f on the ill-conditioned design against the reference r on Z (or,
# where metafast dropped x1 as metafor's rank decision does, r0 on ~ z)
wp_expect <- function(f, r, r0, cs, tol, info, anova_fun = metafor::anova.rma,
                      wald_X = function(f, L) anova(f, X = L)$QM) {
  if (nrow(f$beta) == 2L) {  # (x1 dropped: the offset is beyond the rank decision's tolerance)
    expect_equal(f$QM, r0$QM, tolerance = tol, info = info)
    return(invisible())
  }
  # (the designs that the core fits in orthonormal coordinates carry them)
  if (!is.null(metafast:::.mf_design_transform(unname(f$X)))) expect_false(is.null(f$mf.wald), info = info)
  expect_equal(f$QM, r$QM, tolerance = tol, info = info)
  I3 <- diag(3)
  for (btt in list(2, 3, c(1, 3))) {
    expect_equal(anova(f, btt = btt)$QM, .wp_wald_ref(r, I3[btt, , drop = FALSE], cs$Minv, anova_fun),
                 tolerance = tol, info = paste(info, deparse(btt)))
  }
  L <- if (is.null(cs$L)) rbind(c(0, 1, -1), c(1, 40, 0)) else cs$L
  expect_equal(wald_X(f, L), .wp_wald_ref(r, L, cs$Minv, anova_fun), tolerance = tol, info = paste(info, "X"))
  # z statistics of the coefficients (each a one-row Wald test)
  b <- drop(cs$Minv %*% r$beta)
  se <- sqrt(diag(cs$Minv %*% r$vb %*% t(cs$Minv)))
  expect_lt(max(abs(c(f$beta) - b) / (abs(b) + se)), tol, label = paste("beta", info))
}

wp_run_mv <- function(level, weights) {
  dat <- wp_data()
  old <- options(metafast.mv_sparse_rows = if (weights) getOption("metafast.mv_sparse_rows") else 0L)
  on.exit(options(old))
  rnd <- list(~ 1 | a, ~ 1 | b)
  ref <- function(mods, d) {
    if (weights) metafor::rma.mv(yi, vi, W = w, mods = mods, random = rnd, data = d, control = wp_tight)
    else metafor::rma.mv(yi, vi, mods = mods, random = rnd, data = d, sparse = TRUE, control = wp_tight)
  }
  ours <- function(d) {
    if (weights) rma.mv(yi, vi, W = w, mods = ~ x1 + x2, random = rnd, data = d)
    else rma.mv(yi, vi, mods = ~ x1 + x2, random = rnd, data = d)
  }
  r <- ref(~ ablat + z, dat)
  r0 <- ref(~ z, dat)
  for (cs in wp_cases(level)) {
    d <- cs$set(dat)
    info <- paste(if (weights) "W" else "sparse", cs$name)
    wf <- character(0)
    f <- withCallingHandlers(ours(d), warning = function(w) { wf <<- c(wf, conditionMessage(w)); invokeRestart("muffleWarning") })
    if (nrow(f$beta) == 2L) {
      # metafor drops the same column
      wm <- character(0)
      withCallingHandlers(try(ref(~ x1 + x2, d), silent = TRUE),
                          warning = function(w) { wm <<- c(wm, conditionMessage(w)); invokeRestart("muffleWarning") })
      expect_true(any(grepl("Redundant predictors", wm)), info = info)
      expect_true(any(grepl("Redundant predictors", wf)), info = info)
    }
    wp_expect(f, r, r0, cs, 1e-5, info)
    expect_equal(f$sigma2, if (nrow(f$beta) == 2L) r0$sigma2 else r$sigma2, tolerance = 1e-5, info = info)
    expect_equal(f$fit.stats["ll", "ML"], (if (nrow(f$beta) == 2L) r0 else r)$fit.stats["ll", "ML"], tolerance = 1e-6, info = info)
  }
}

test_that("sparse crossed rma.mv() fits: exact Wald statistics on ill-conditioned designs", {
  skip_if_not_installed("metafor")
  wp_run_mv(1L, weights = FALSE)
})

test_that("rma.mv() fits with user weights W: exact Wald statistics on ill-conditioned designs", {
  skip_if_not_installed("metafor")
  wp_run_mv(1L, weights = TRUE)
})

test_that("sparse and W rma.mv() fits over the offset / scale / collinearity grid", {
  skip_unless_level(2)
  skip_if_not_installed("metafor")
  wp_run_mv(2L, weights = FALSE)
  wp_run_mv(2L, weights = TRUE)
})

wp_run_sel <- function(level, types) {
  dat <- wp_data()
  for (ty in types) {
    fz <- rma(yi, vi, mods = ~ ablat + z, data = dat, method = "ML")
    st <- if (ty == "stepfun") 0.05
    r <- selmodel(fz, type = ty, steps = st)
    r0 <- selmodel(rma(yi, vi, mods = ~ z, data = dat, method = "ML"), type = ty, steps = st)
    # metafor on Z, where its optimiser is accurate to ~1e-4
    if (ty == "halfnorm") {
      rm <- metafor::selmodel(metafor::rma(yi, vi, mods = ~ ablat + z, data = dat, method = "ML"), type = ty)
      expect_equal(r$QM, rm$QM, tolerance = 1e-3)
      expect_equal(r$delta, rm$delta, tolerance = 1e-3)
    }
    for (cs in wp_cases(level)) {
      d <- cs$set(dat)
      info <- paste("selmodel", ty, cs$name)
      x <- suppressWarnings(rma(yi, vi, mods = ~ x1 + x2, data = d, method = "ML"))
      f <- selmodel(x, type = ty, steps = if (ty == "stepfun") 0.05)
      # (anova() of a selection model takes btt; contrasts through its helper)
      wx <- function(f, L) metafast:::.mf_wald_stat(f, L = L)
      # (the beta and step-function models' likelihoods are flat enough that
      # BFGS at reltol 1e-12 stops ~3e-6 apart in other coordinates)
      tol <- if (ty %in% c("beta", "stepfun")) 1e-5 else 1e-6
      wp_expect(f, r, r0, cs, tol, info, anova_fun = function(r, X) list(QM = wx(r, X)), wald_X = wx)
      rr <- if (nrow(f$beta) == 2L) r0 else r
      expect_equal(f$delta, rr$delta, tolerance = tol, info = info)
      expect_equal(f$tau2, rr$tau2, tolerance = tol, info = info)
      expect_equal(f$fit.stats["ll", "ML"], rr$fit.stats["ll", "ML"], tolerance = 1e-8, info = info)
    }
  }
}

test_that("selmodel() fits: exact Wald statistics on ill-conditioned designs", {
  skip_if_not_installed("metafor")
  wp_run_sel(1L, "halfnorm")
})

test_that("selmodel() fits over the offset / scale / collinearity grid", {
  skip_unless_level(2)
  skip_if_not_installed("metafor")
  wp_run_sel(2L, c("halfnorm", "negexp", "beta"))  # (stepfun at 0.05 on these 13 studies: delta at its bound)
})
