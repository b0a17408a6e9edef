# Wald_test_cwb() (issue 13, item 2): the cluster wild bootstrap, against
# (a) a plain R loop that builds the same y* for every Rademacher sign vector
# and refits with metafor + clubSandwich::Wald_test(), (b) wildmeta's
# p-values within Monte Carlo error, (c) bad input.

bcg_cwb <- function() {
  dat <- metafor::escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  dat$grp <- c(1, 1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6, 2)
  dat
}

# The 2^J sign vectors (J x 2^J): all of them with every = 1 or at
# METAFAST_TEST_LEVEL 2; by default every fourth (each check compares every
# column it is given with a metafor refit, and those refits are the time of
# this file).
sign_vectors <- function(J, every = if (test_level() >= 2L) 1L else 4L) {
  W <- t(as.matrix(expand.grid(rep(list(c(-1, 1)), J))))
  W[, seq(1L, ncol(W), by = every), drop = FALSE]
}

# The bootstrap by hand (wildmeta's algorithm written out): the null model
# fitted with metafor on the design X0, its residuals adjusted by
# clubSandwich's adjustment matrices, y* = fitted + w[cluster] * residual for
# every column w of W, the full model refitted with metafor (fit_full(y)) and
# clubSandwich's Wald statistic.
cwb_by_hand <- function(fit_null, fit_full, y, cluster, C, W, adjust, type, test) {
  f <- factor(cluster)
  res <- c(y - fitted(fit_null))
  if (adjust != "CR0") {
    A <- attr(clubSandwich::vcovCR(fit_null, cluster = f, type = adjust), "adjustments")
    sp <- split(res, f)
    res <- unsplit(Map(function(a, e) as.vector(a %*% e), A, sp), f)
  }
  fv <- c(fitted(fit_null))
  stat <- function(m) {
    vc <- clubSandwich::vcovCR(m, cluster = f, type = type)
    clubSandwich::Wald_test(m, constraints = C, vcov = vc, test = test)$Fstat
  }
  list(observed = stat(fit_full(y)),
       stats = apply(W, 2L, function(w) stat(fit_full(fv + w[as.integer(f)] * res))))
}

test_that("rma(): every sign vector gives the statistic of a metafor refit (enumeration, 6 clusters)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- bcg_cwb()
  W <- sign_vectors(6)
  cases <- list(list(adjust = "CR0", type = "CR0", test = "Naive-F"),
                list(adjust = "CR2", type = "CR2", test = "HTZ"),
                list(adjust = "CR1", type = "CR3", test = "chi-sq"))
  for (cs in cases) {
    fit <- rma(yi, vi, mods = ~ ablat + year, data = dat)
    # null: year = 0 and ablat = 0 -> intercept only (an independent null design)
    C <- clubSandwich::constrain_zero(2:3, coefs = coef(fit))
    ours <- metafast:::.mf_cwb_given(fit, C, W, cluster = dat$grp, adjust = cs$adjust, type = cs$type, test = cs$test)
    fn <- metafor::rma(yi, vi, data = dat, control = metafor_tight)
    ff <- function(y) metafor::rma(y, vi, mods = ~ ablat + year, data = dat, control = metafor_tight)
    hand <- cwb_by_hand(fn, ff, dat$yi, dat$grp, C, W, cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, hand$observed, tolerance = tol_iter, label = paste("observed", cs$type))
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", cs$adjust, cs$type, cs$test))
  }
})

test_that("rma(): a constraint of equality (null design X N) and the DL estimator, by enumeration", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- bcg_cwb()
  dat$x1 <- dat$ablat / 10
  dat$x2 <- (dat$year - 1960) / 5
  W <- sign_vectors(6)
  fit <- rma(yi, vi, mods = ~ x1 + x2, data = dat, method = "DL")
  C <- clubSandwich::constrain_equal(2:3, coefs = coef(fit))
  ours <- metafast:::.mf_cwb_given(fit, C, W, cluster = dat$grp, adjust = "CR2", type = "CR1", test = "Naive-Fp")
  # under b1 = b2 the design is (1, x1 + x2)
  fn <- metafor::rma(yi, vi, mods = ~ I(x1 + x2), data = dat, method = "DL")
  ff <- function(y) metafor::rma(y, vi, mods = ~ x1 + x2, data = dat, method = "DL")
  hand <- cwb_by_hand(fn, ff, dat$yi, dat$grp, C, W, "CR2", "CR1", "Naive-Fp")
  expect_equal(ours$observed, hand$observed, tolerance = tol_closed)
  expect_equal(ours$stats, hand$stats, tolerance = tol_closed)
})

test_that("rma.mv(): every sign vector gives the statistic of a metafor refit (CHE model, 6 clusters)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  dat <- dat[dat$study %in% c(1, 2, 3, 6, 10, 14), ]
  dat$x <- as.numeric(dat$esid %% 2 == 0)  # varies within studies
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  W <- sign_vectors(6)
  fit <- rma.mv(yi, V, mods = ~ year + x, random = ~ 1 | study/esid, data = dat)
  for (cs in list(list(cons = 3, adjust = "CR0", type = "CR0", test = "Naive-F"),
                  list(cons = 2:3, adjust = "CR2", type = "CR2", test = "HTZ"))) {
    C <- diag(3)[cs$cons, , drop = FALSE]
    ours <- metafast:::.mf_cwb_given(fit, cs$cons, W, adjust = cs$adjust, type = cs$type, test = cs$test)
    fn <- if (length(cs$cons) == 1L) mv_ref(yi, V, mods = ~ year, random = ~ 1 | study/esid, data = dat)
          else mv_ref(yi, V, random = ~ 1 | study/esid, data = dat)
    ff <- function(y) {
      d2 <- dat
      d2$ystar <- y
      mv_ref(ystar, V, mods = ~ year + x, random = ~ 1 | study/esid, data = d2)
    }
    hand <- cwb_by_hand(fn, ff, dat$yi, dat$study, C, W, cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, hand$observed, tolerance = tol_iter)
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", cs$type, cs$test))
  }
})

test_that("adjust CR1p/CR1S/CR4, type CR4 and the tests HTA/HTB/EDF/EDT: every sign vector gives the metafor refit's statistic", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  # (a design of moderate condition: CR4's square roots of the singular
  # F_j = X_j' W_j X_j lose digits in clubSandwich with the raw year, ~1e-6)
  dat <- bcg_cwb()
  dat$ablat <- dat$ablat / 10
  dat$year <- (dat$year - 1960) / 5
  W <- sign_vectors(6)
  fit <- rma(yi, vi, mods = ~ ablat + year, data = dat)
  fn <- metafor::rma(yi, vi, data = dat, control = metafor_tight)   # the null model of 2:3 (one coefficient)
  fn3 <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, control = metafor_tight)  # of 3 (q = 1)
  ff <- function(y) metafor::rma(y, vi, mods = ~ ablat + year, data = dat, control = metafor_tight)
  cases <- list(list(cons = 2:3, adjust = "CR4", type = "CR2", test = "HTA"),
                list(cons = 2:3, adjust = "CR2", type = "CR4", test = "HTB"),
                list(cons = 2:3, adjust = "CR1", type = "CR1", test = "EDF"),
                list(cons = 2:3, adjust = "CR3", type = "CR2", test = "EDT"),
                list(cons = 3, adjust = "CR2", type = "CR2", test = "HTA"),
                list(cons = 3, adjust = "CR0", type = "CR4", test = "EDT"),
                list(cons = 3, adjust = "CR0", type = "CR2", test = "EDF"))
  for (cs in cases) {
    C <- diag(3)[cs$cons, , drop = FALSE]
    ours <- metafast:::.mf_cwb_given(fit, cs$cons, W, cluster = dat$grp, adjust = cs$adjust, type = cs$type, test = cs$test)
    hand <- cwb_by_hand(if (length(cs$cons) == 2L) fn else fn3, ff, dat$yi, dat$grp, C, W, cs$adjust, cs$type, cs$test)
    lab <- paste(cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, hand$observed, tolerance = tol_iter, label = paste("observed", lab))
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", lab))
  }
  # CR1p and CR1S: wildmeta leaves the residuals unadjusted (its run_cwb() adjusts
  # for CR1-CR4 only), so the bootstrap is that of CR0; the result says "CWB Adjusted"
  for (a in c("CR1p", "CR1S")) {
    ours <- metafast:::.mf_cwb_given(fit, 2:3, W, cluster = dat$grp, adjust = a, type = "CR2", test = "HTZ")
    hand <- cwb_by_hand(fn, ff, dat$yi, dat$grp, diag(3)[2:3, ], W, "CR0", "CR2", "HTZ")
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = a)
    r <- Wald_test_cwb(fit, 2:3, R = 4, cluster = dat$grp, adjust = a, seed = 1)
    expect_identical(c(r$Test, r$Adjustment), c("CWB Adjusted", a))
  }
  if (requireNamespace("wildmeta", quietly = TRUE)) {
    fnw <- metafor::rma(yi, vi, data = dat)
    y0 <- wildmeta::run_cwb(fnw, cluster = factor(dat$grp), R = 3, adjust = "CR0", seed = 9)
    expect_identical(wildmeta::run_cwb(fnw, cluster = factor(dat$grp), R = 3, adjust = "CR1p", seed = 9), y0)
    expect_identical(wildmeta::run_cwb(fnw, cluster = factor(dat$grp), R = 3, adjust = "CR1S", seed = 9), y0)
  }
  # user weights (the general forms of CR4 and of the tests)
  set.seed(5)
  dat$w <- stats::runif(nrow(dat), 0.5, 3)
  fitw <- rma(yi, vi, weights = w, mods = ~ ablat + year, data = dat)
  fnw <- metafor::rma(yi, vi, weights = w, data = dat, control = metafor_tight)
  ffw <- function(y) metafor::rma(y, vi, weights = w, mods = ~ ablat + year, data = dat, control = metafor_tight)
  for (cs in list(list(adjust = "CR4", type = "CR4", test = "HTB"), list(adjust = "CR2", type = "CR2", test = "EDT"),
                  list(adjust = "CR0", type = "CR1", test = "HTA"), list(adjust = "CR4", type = "CR3", test = "EDF"))) {
    ours <- metafast:::.mf_cwb_given(fitw, 2:3, W, cluster = dat$grp, adjust = cs$adjust, type = cs$type, test = cs$test)
    hand <- cwb_by_hand(fnw, ffw, dat$yi, dat$grp, diag(3)[2:3, ], W, cs$adjust, cs$type, cs$test)
    lab <- paste("weights", cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, hand$observed, tolerance = tol_iter, label = paste("observed", lab))
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", lab))
  }
})

test_that("rma.mv(): CR4 and the tests HTA/HTB/EDF/EDT by enumeration (CHE model, 6 clusters)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  dat <- dat[dat$study %in% c(1, 2, 3, 6, 10, 14), ]
  dat$x <- as.numeric(dat$esid %% 2 == 0)
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  W <- sign_vectors(6)
  fit <- rma.mv(yi, V, mods = ~ year + x, random = ~ 1 | study/esid, data = dat)
  fn <- mv_ref(yi, V, random = ~ 1 | study/esid, data = dat)
  ff <- function(y) {
    d2 <- dat
    d2$ystar <- y
    mv_ref(ystar, V, mods = ~ year + x, random = ~ 1 | study/esid, data = d2)
  }
  ys <- c(fitted(fn)) + W[as.integer(factor(dat$study)), ] * c(dat$yi - fitted(fn))
  # the metafor refits once, then each test's statistic from them
  refits <- lapply(seq_len(ncol(W)), function(r) ff(ys[, r]))
  for (cs in list(list(adjust = "CR4", type = "CR4", test = "HTA"), list(adjust = "CR0", type = "CR2", test = "HTB"),
                  list(adjust = "CR0", type = "CR2", test = "EDF"), list(adjust = "CR0", type = "CR1", test = "EDT"))) {
    ours <- metafast:::.mf_cwb_given(fit, 2:3, W, adjust = cs$adjust, type = cs$type, test = cs$test)
    stat <- function(m) clubSandwich::Wald_test(m, constraints = diag(3)[2:3, ],
                                                vcov = clubSandwich::vcovCR(m, type = cs$type), test = cs$test)$Fstat
    lab <- paste(cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, stat(ff(dat$yi)), tolerance = tol_iter, label = paste("observed", lab))
    if (cs$adjust == "CR0") {
      expect_equal(ours$stats, vapply(refits, stat, 1), tolerance = tol_iter, label = paste("replicates", lab))
    } else {
      hand <- cwb_by_hand(fn, ff, dat$yi, dat$study, diag(3)[2:3, ], W, cs$adjust, cs$type, cs$test)
      expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", lab))
    }
  }
})

# Six (or J) studies with two outcomes measured at three times each, random
# effects correlated between the outcomes: the data of the '~ inner | outer'
# tests.
struct_cwb_data <- function(J = 6, seed = 3) {
  set.seed(seed)
  dat <- expand.grid(time = 1:3, outcome = c("A", "B"), study = seq_len(J))
  dat$vi <- stats::runif(nrow(dat), 0.01, 0.05)
  u <- matrix(stats::rnorm(J * 2), J) %*% chol(matrix(c(0.09, 0.04, 0.04, 0.06), 2))
  dat$x <- stats::rnorm(nrow(dat))
  dat$yi <- 0.2 + 0.1 * (dat$outcome == "B") + 0.05 * dat$x + u[cbind(dat$study, (dat$outcome == "B") + 1)] +
    stats::rnorm(nrow(dat), 0, sqrt(dat$vi))
  dat
}

# metafor's rma.mv(), the tightest that converges (these structures make
# nlminb and Nelder-Mead at 1e-12 fail on some bootstrap outcomes).
mv_ref_any <- function(...) {
  cl <- match.call()
  cl[[1L]] <- quote(metafor::rma.mv)
  env <- parent.frame()
  for (ct in list(mv_tight, list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000),
                  list(optimizer = "BFGS", reltol = 1e-12, maxit = 10000), list())) {
    cl$control <- ct
    r <- tryCatch(eval(cl, env), error = function(e) NULL)
    if (!is.null(r)) return(r)
  }
  stop("metafor's rma.mv() failed with every optimiser")
}

# Every sign vector of an rma.mv() fit with an '~ inner | outer' term against
# metafor refits: the statistics agree to tol_iter, or, on the few outcomes
# where the likelihood is flat (UN, AR near their bounds), our refit's
# log-likelihood is at least metafor's: both found the same maximum, ours
# no less precisely.
struct_cwb_check <- function(dat, st, W, adjust, type, test) {
  rnd <- if (st %in% c("AR", "HAR")) ~ time | study else ~ outcome | study
  fit <- rma.mv(yi, vi, mods = ~ outcome + x, random = rnd, struct = st, data = dat)
  fn <- mv_ref_any(yi, vi, mods = ~ outcome, random = rnd, struct = st, data = dat)
  refit <- function(y, ours = FALSE) {
    d2 <- dat
    d2$ystar <- y
    if (ours) rma.mv(ystar, vi, mods = ~ outcome + x, random = rnd, struct = st, data = d2)
    else mv_ref_any(ystar, vi, mods = ~ outcome + x, random = rnd, struct = st, data = d2)
  }
  ours <- metafast:::.mf_cwb_given(fit, 3, W, adjust = adjust, type = type, test = test)
  hand <- cwb_by_hand(fn, refit, dat$yi, dat$study, diag(3)[3, , drop = FALSE], W, adjust, type, test)
  lab <- paste(st, adjust, type, test)
  expect_equal(ours$observed, hand$observed, tolerance = tol_iter, label = paste("observed", lab))
  off <- which(abs(ours$stats - hand$stats) > tol_iter * abs(hand$stats))
  expect_lte(length(off), ncol(W) / 8)
  if (length(off)) {
    # the y* of those outcomes, and both refits' log-likelihoods
    f <- factor(dat$study)
    res <- c(dat$yi - fitted(fn))
    if (adjust != "CR0") {
      A <- attr(clubSandwich::vcovCR(fn, cluster = f, type = adjust), "adjustments")
      res <- unsplit(Map(function(a, e) as.vector(a %*% e), A, split(res, f)), f)
    }
    for (r in off) {
      y <- c(fitted(fn)) + W[as.integer(f), r] * res
      expect_gte(c(logLik(refit(y, TRUE))), c(logLik(refit(y))) - 1e-9)
    }
  }
  invisible(fit)
}

test_that("rma.mv() with an '~ inner | outer' term (HCS): every sign vector gives the metafor refit's statistic", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- struct_cwb_data(J = 6)
  # (every third of the 64 sign vectors: the enumeration at level 2)
  fit <- struct_cwb_check(dat, "HCS", sign_vectors(6, every = if (test_level() >= 2) 1L else 3L),
                          "CR2", "CR2", "HTZ")
  # the default clusters: the outer factor of the term (clubSandwich's findCluster)
  expect_identical(attr(Wald_test_cwb(fit, 3, R = 8, seed = 2), "bootstraps"),
                   attr(Wald_test_cwb(fit, 3, R = 8, seed = 2, cluster = study), "bootstraps"))
  # bit-identical for any number of threads
  old <- options(metafast.threads = 1L)
  on.exit(options(old))
  r1 <- Wald_test_cwb(fit, 3, R = 16, seed = 4, adjust = "CR2", test = "HTZ")
  options(metafast.threads = 2L)
  r2 <- Wald_test_cwb(fit, 3, R = 16, seed = 4, adjust = "CR2", test = "HTZ")
  expect_identical(attr(r1, "bootstraps"), attr(r2, "bootstraps"))
  expect_false(anyNA(attr(r1, "bootstraps")))
})

test_that("rma.mv() with CS, UN, AR and HAR terms: every sign vector gives the metafor refit's statistic (level 2)", {
  skip_unless_level(2)
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- struct_cwb_data(J = 6)
  W <- sign_vectors(6)
  struct_cwb_check(dat, "CS", W, "CR0", "CR0", "Naive-F")
  struct_cwb_check(dat, "UN", W, "CR2", "CR2", "HTZ")
  struct_cwb_check(dat, "AR", W, "CR1", "CR2", "EDF")
  struct_cwb_check(dat, "HAR", W, "CR3", "CR1", "chi-sq")
})

test_that("rma.mv() with a known correlation matrix R: every sign vector gives the metafor refit's statistic (6 clusters)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  # six districts of dat.konstantopoulos2011; the schools (study) of a district
  # correlated by R (0.5^|distance in school number|), none across districts
  dat <- metadat::dat.konstantopoulos2011
  dat <- dat[dat$district %in% sort(unique(dat$district))[1:6], ]
  dat$x <- dat$year - 1990
  lv <- as.character(sort(unique(dat$study)))
  dis <- dat$district[match(lv, dat$study)]
  num <- dat$school[match(lv, dat$study)]
  Rs <- outer(seq_along(lv), seq_along(lv), function(i, j) ifelse(dis[i] == dis[j], 0.5^abs(num[i] - num[j]), 0))
  dimnames(Rs) <- list(lv, lv)
  W <- sign_vectors(6)
  fit <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | district, ~ 1 | study), R = list(study = Rs), data = dat)
  # clubSandwich refuses fits with R (its vcovCR() stops on $withR); its
  # formulas take the working covariance from the fit's M, which holds R: the
  # reference applies them to metafor's fits with the flag cleared
  noR <- function(m) { m$withR <- FALSE; m }
  fn <- noR(mv_ref(yi, vi, random = list(~ 1 | district, ~ 1 | study), R = list(study = Rs), data = dat))
  ff <- function(y) {
    d2 <- dat
    d2$ystar <- y
    noR(mv_ref(ystar, vi, mods = ~ x, random = list(~ 1 | district, ~ 1 | study), R = list(study = Rs), data = d2))
  }
  for (cs in list(list(adjust = "CR2", type = "CR2", test = "HTZ"), list(adjust = "CR0", type = "CR0", test = "Naive-F"))) {
    ours <- metafast:::.mf_cwb_given(fit, 2, W, cluster = dat$district, adjust = cs$adjust, type = cs$type, test = cs$test)
    hand <- cwb_by_hand(fn, ff, dat$yi, dat$district, diag(2)[2, , drop = FALSE], W, cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, hand$observed, tolerance = tol_iter)
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", cs$type, cs$test))
  }
  # the default clusters (the factor with the fewest levels, district) hold every pair R correlates
  expect_identical(attr(Wald_test_cwb(fit, 2, R = 8, seed = 2), "bootstraps"),
                   attr(Wald_test_cwb(fit, 2, R = 8, seed = 2, cluster = district), "bootstraps"))
})

test_that("rma.mv() with user weights W: every sign vector gives the metafor refit's statistic (CHE model, 6 clusters)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  dat <- dat[dat$study %in% c(1, 2, 3, 6, 10, 14), ]
  dat$x <- as.numeric(dat$esid %% 2 == 0)
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  A <- solve(vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.2))  # block-diagonal by study
  Wv <- sign_vectors(6)
  fit <- rma.mv(yi, V, W = A, mods = ~ year + x, random = ~ 1 | study/esid, data = dat)
  ff <- function(y) {
    d2 <- dat
    d2$ystar <- y
    mv_ref(ystar, V, W = A, mods = ~ year + x, random = ~ 1 | study/esid, data = d2)
  }
  for (cs in list(list(cons = 3, adjust = "CR0", type = "CR0", test = "Naive-F"),
                  list(cons = 2:3, adjust = "CR2", type = "CR2", test = "HTZ"),
                  list(cons = 2:3, adjust = "CR3", type = "CR1", test = "HTB"))) {
    fn <- if (length(cs$cons) == 1L) mv_ref(yi, V, W = A, mods = ~ year, random = ~ 1 | study/esid, data = dat)
          else mv_ref(yi, V, W = A, random = ~ 1 | study/esid, data = dat)
    ours <- metafast:::.mf_cwb_given(fit, cs$cons, Wv, adjust = cs$adjust, type = cs$type, test = cs$test)
    hand <- cwb_by_hand(fn, ff, dat$yi, dat$study, diag(3)[cs$cons, , drop = FALSE], Wv, cs$adjust, cs$type, cs$test)
    lab <- paste("W", cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, hand$observed, tolerance = tol_iter, label = paste("observed", lab))
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", lab))
  }
  # W that links studies: an error, as clubSandwich's block-by-cluster weights
  A2 <- A
  A2[1, nrow(A2)] <- A2[nrow(A2), 1] <- 0.01
  fit2 <- rma.mv(yi, V, W = A2, mods = ~ year + x, random = ~ 1 | study/esid, data = dat)
  expect_error(Wald_test_cwb(fit2, 3, R = 5), "block-diagonal by cluster")
})

test_that("wildmeta's own bootstrap outcomes (its run_cwb()) give the statistics of metafor refits (17 clusters)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  skip_if_not_installed("wildmeta")
  dat <- metadat::dat.assink2016
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  mfit <- metafor::rma.mv(yi, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
  C <- clubSandwich::constrain_zero(2)(coef(mfit))
  fn <- mv_ref(yi, V, mods = ~ deltype, random = ~ 1 | study/esid, data = dat)  # the null model: year = 0
  # wildmeta's y* (its run_cwb() on its null model, 12 replicates) and the weights they imply
  ys <- wildmeta::run_cwb(wildmeta:::estimate_null(mfit, C), cluster = factor(dat$study), R = 12, seed = 7)
  pred <- c(fitted(fn))
  res <- c(dat$yi - pred)
  W <- vapply(ys, function(y) tapply((y - pred) / res, dat$study, function(v) v[1L]), numeric(17))
  expect_true(all(abs(abs(W) - 1) < 1e-6))
  fit <- rma.mv(yi, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
  ours <- metafast:::.mf_cwb_given(fit, C, W)
  ff <- function(y) {
    d2 <- dat
    d2$ystar <- y
    mv_ref(ystar, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = d2)
  }
  hand <- cwb_by_hand(fn, ff, dat$yi, dat$study, C, W, "CR0", "CR0", "Naive-F")
  expect_equal(ours$stats, hand$stats, tolerance = tol_iter)
  expect_equal(ours$observed, hand$observed, tolerance = tol_iter)
})

test_that("rma() with user weights or weighted = FALSE: every sign vector gives the metafor refit's statistic", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- bcg_cwb()
  set.seed(5)
  dat$w <- stats::runif(nrow(dat), 0.5, 3)
  W <- sign_vectors(6)
  C <- diag(3)[2:3, , drop = FALSE]
  # REML with user weights (the null model and every refit keep the weights)
  fit <- rma(yi, vi, weights = w, mods = ~ ablat + year, data = dat)
  fn <- metafor::rma(yi, vi, weights = w, data = dat, control = metafor_tight)
  ff <- function(y) metafor::rma(y, vi, weights = w, mods = ~ ablat + year, data = dat, control = metafor_tight)
  for (cs in list(list(adjust = "CR0", type = "CR0", test = "Naive-F"),
                  list(adjust = "CR2", type = "CR2", test = "HTZ"),
                  list(adjust = "CR3", type = "CR1", test = "chi-sq"))) {
    ours <- metafast:::.mf_cwb_given(fit, 2:3, W, cluster = dat$grp, adjust = cs$adjust, type = cs$type, test = cs$test)
    hand <- cwb_by_hand(fn, ff, dat$yi, dat$grp, C, W, cs$adjust, cs$type, cs$test)
    expect_equal(ours$observed, hand$observed, tolerance = tol_iter, label = paste("observed", cs$type))
    expect_equal(ours$stats, hand$stats, tolerance = tol_iter, label = paste("replicates", cs$adjust, cs$type))
  }
  # DL and weighted = FALSE (closed form), a constraint of equality
  dat$x1 <- dat$ablat / 10
  dat$x2 <- (dat$year - 1960) / 5
  fit <- rma(yi, vi, mods = ~ x1 + x2, data = dat, method = "DL", weighted = FALSE)
  Ce <- clubSandwich::constrain_equal(2:3, coefs = coef(fit))
  ours <- metafast:::.mf_cwb_given(fit, Ce, W, cluster = dat$grp, adjust = "CR2", type = "CR2", test = "HTZ")
  fn <- metafor::rma(yi, vi, mods = ~ I(x1 + x2), data = dat, method = "DL", weighted = FALSE)
  ff <- function(y) metafor::rma(y, vi, mods = ~ x1 + x2, data = dat, method = "DL", weighted = FALSE)
  hand <- cwb_by_hand(fn, ff, dat$yi, dat$grp, Ce, W, "CR2", "CR2", "HTZ")
  expect_equal(ours$observed, hand$observed, tolerance = tol_closed)
  expect_equal(ours$stats, hand$stats, tolerance = tol_closed)
})

test_that("rma() with user weights: wildmeta's Wald_test_cwb() bootstraps are ours on its draws (DL)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  skip_if_not_installed("wildmeta")
  dat <- metadat::dat.assink2016
  set.seed(17)
  dat$w <- stats::runif(nrow(dat), 0.5, 3)
  # (DL: closed form, so wildmeta's refits need no control settings of ours)
  mfit <- metafor::rma(yi, vi, weights = w, mods = ~ year + deltype, data = dat, method = "DL")
  fit <- rma(yi, vi, weights = w, mods = ~ year + deltype, data = dat, method = "DL")
  C <- clubSandwich::constrain_zero(3:4)(coef(mfit))
  # wildmeta's future calls attach metafor and clubSandwich: detach them again
  attached <- search()
  on.exit(for (pk in setdiff(search(), attached)) detach(pk, character.only = TRUE), add = TRUE)
  wm <- suppressWarnings(wildmeta::Wald_test_cwb(mfit, C, R = 12, cluster = dat$study, adjust = "CR2", type = "CR2",
                                                 test = "HTZ", seed = 7))
  # wildmeta's y* (its run_cwb() with the same seed) and the signs they imply
  fn <- wildmeta:::estimate_null(mfit, C)
  ys <- wildmeta::run_cwb(fn, cluster = factor(dat$study), R = 12, adjust = "CR2", seed = 7)
  pred <- c(fitted(fn))
  A <- attr(clubSandwich::vcovCR(fn, cluster = dat$study, type = "CR2"), "adjustments")
  f <- factor(dat$study)
  res <- unsplit(Map(function(a, e) as.vector(a %*% e), A, split(c(dat$yi - pred), f)), f)
  W <- vapply(ys, function(y) {
    s <- (y - pred) / res
    vapply(split(seq_along(s), f), function(i) s[i[which.max(abs(res[i]))]], 1)
  }, numeric(17))
  expect_true(all(abs(abs(W) - 1) < 1e-6))
  ours <- metafast:::.mf_cwb_given(fit, C, sign(W), cluster = dat$study, adjust = "CR2", type = "CR2", test = "HTZ")
  expect_false(anyNA(attr(wm, "bootstraps")))
  expect_equal(ours$observed, attr(wm, "original"), tolerance = tol_closed)
  expect_equal(ours$stats, attr(wm, "bootstraps"), tolerance = tol_closed)
})

test_that("the random draws are sign vectors: each statistic is one of the enumerated ones; threads and seed", {
  dat <- bcg_cwb()
  fit <- rma(yi, vi, mods = ~ ablat + year, data = dat)
  all <- metafast:::.mf_cwb_given(fit, 3, sign_vectors(6, every = 1L), cluster = dat$grp)$stats
  r <- Wald_test_cwb(fit, constraints = 3, R = 60, cluster = dat$grp, seed = 4)
  b <- attr(r, "bootstraps")
  expect_length(b, 60)
  expect_true(all(vapply(b, function(s) min(abs(s - all)) < 1e-10 * (1 + abs(s)), NA)))
  expect_equal(attr(r, "original"), metafast:::.mf_cwb_given(fit, 3, matrix(1, 6, 1), cluster = dat$grp)$observed)
  expect_equal(r$p_val, mean(b > attr(r, "original")))
  # several sign patterns occur (not a constant draw)
  expect_gt(length(unique(round(b, 8))), 10)
  # seed = and set.seed() fix the result; threads do not change it
  old <- options(metafast.threads = 1L)
  on.exit(options(old))
  r1 <- Wald_test_cwb(fit, constraints = 3, R = 60, cluster = dat$grp, seed = 4)
  options(metafast.threads = 2L)
  r2 <- Wald_test_cwb(fit, constraints = 3, R = 60, cluster = dat$grp, seed = 4)
  set.seed(4)
  r3 <- Wald_test_cwb(fit, constraints = 3, R = 60, cluster = dat$grp)
  expect_identical(attr(r1, "bootstraps"), attr(r2, "bootstraps"))
  expect_identical(attr(r1, "bootstraps"), attr(r3, "bootstraps"))
  expect_identical(attr(r1, "bootstraps"), b)
  # future workers (future_args given): the same replicates
  if (requireNamespace("future.apply", quietly = TRUE)) {
    oplan <- future::plan("sequential")
    on.exit(future::plan(oplan), add = TRUE)
    r4 <- Wald_test_cwb(fit, constraints = 3, R = 60, cluster = dat$grp, seed = 4, future_args = list())
    expect_identical(attr(r4, "bootstraps"), b)
  }
  # the result's form (wildmeta's columns)
  expect_s3_class(r, c("mf_wald_cwb", "data.frame"))
  expect_named(r, c("Test", "Adjustment", "CR_type", "Statistic", "R", "p_val"))
  expect_identical(r$Test, "CWB")
  expect_identical(Wald_test_cwb(fit, 3, R = 5, cluster = dat$grp, adjust = "CR1", seed = 1)$Test, "CWB Adjusted")
  expect_output(print(r), "p_val")
})

test_that("constraints as a function, matrix, indices, names and logical give the same test", {
  skip_if_not_installed("clubSandwich")
  dat <- bcg_cwb()
  fit <- rma(yi, vi, mods = ~ ablat + year, data = dat)
  ref <- attr(Wald_test_cwb(fit, clubSandwich::constrain_zero(2:3), R = 20, seed = 2), "bootstraps")
  for (cons in list(clubSandwich::constrain_zero(2:3, coefs = coef(fit)), 2:3, c("ablat", "year"),
                    c(FALSE, TRUE, TRUE), diag(3)[2:3, ]))
    expect_equal(attr(Wald_test_cwb(fit, cons, R = 20, seed = 2), "bootstraps"), ref, tolerance = 1e-10)
})

test_that("the observed statistic equals clubSandwich's Wald_test() on the metafor fit", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  fit <- rma.mv(yi, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
  mfit <- mv_ref(yi, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
  for (cs in list(list(C = clubSandwich::constrain_zero(2), type = "CR0", test = "Naive-F"),
                  list(C = clubSandwich::constrain_equal(3:4), type = "CR2", test = "HTZ"),
                  list(C = clubSandwich::constrain_zero(2:4), type = "CR1S", test = "HTZ"))) {
    r <- Wald_test_cwb(fit, cs$C, R = 3, type = cs$type, test = cs$test, seed = 1)
    ref <- clubSandwich::Wald_test(mfit, cs$C, vcov = clubSandwich::vcovCR(mfit, type = cs$type), test = cs$test)$Fstat
    expect_equal(attr(r, "original"), ref, tolerance = tol_iter)
  }
})

# (b) wildmeta's p-values at R = 1999.  The reference values were computed
# with wildmeta 0.3.2 (metafor 5.2.1, clubSandwich 0.7.0) by
#   Wald_test_cwb(<model>, <constraints>, R = 1999, ..., seed = 20261203)
# for the four settings below; at METAFAST_TEST_LEVEL >= 2 wildmeta runs
# live (about 10 minutes unloaded; wildmeta 0.3.2 gave A 0.1686, B 0.3222, C 0.9039 (2 failed replicates), D 0.3413 (1 failed)).  Two independent estimates of p agree within
# 3 standard errors of their difference, 3 sqrt(2 p (1 - p) / R).
cwb_wildmeta_cases <- function() {
  dat <- metadat::dat.assink2016
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  bcg <- metafor::escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  # (metafor = TRUE: metafor's fit, which wildmeta refits with update())
  che <- function(metafor) if (metafor) metafor::rma.mv(yi, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
                           else rma.mv(yi, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
  mr <- function(metafor) if (metafor) metafor::rma(yi, vi, mods = ~ ablat + year, data = bcg)
                          else rma(yi, vi, mods = ~ ablat + year, data = bcg)
  list(
    A = list(fit = che, args = list(constraints = clubSandwich::constrain_zero(2))),
    B = list(fit = che, args = list(constraints = clubSandwich::constrain_equal(3:4), adjust = "CR2", type = "CR2",
                                    test = "HTZ")),
    C = list(fit = mr, args = list(constraints = clubSandwich::constrain_zero(3), auxiliary_dist = "Webb six",
                                   adjust = "CR1", type = "CR1")),
    D = list(fit = mr, args = list(constraints = clubSandwich::constrain_zero(2), auxiliary_dist = "Mammen",
                                   adjust = "CR3", type = "CR3")))
}
cwb_wildmeta_p <- c(A = 0.1685842921, B = 0.3221610805, C = 0.9038557837, D = 0.3413413413)

test_that("p-values agree with wildmeta's within Monte Carlo error (R = 1999)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  cases <- cwb_wildmeta_cases()
  live <- test_level() >= 2 && requireNamespace("wildmeta", quietly = TRUE)
  R <- 1999
  for (nm in names(cases)) {
    cs <- cases[[nm]]
    ours <- do.call(Wald_test_cwb, c(list(cs$fit(FALSE), R = R, seed = 1), cs$args))
    ref <- if (live) {
      do.call(wildmeta::Wald_test_cwb, c(list(cs$fit(TRUE), R = R, seed = 2), cs$args))$p_val
    } else cwb_wildmeta_p[[nm]]
    p <- (ours$p_val + ref) / 2
    se <- sqrt(2 * max(p * (1 - p), 1 / R) / R)
    expect_lt(abs(ours$p_val - ref), 3 * se, label = sprintf("case %s: |%.4f - %.4f|", nm, ours$p_val, ref))
  }
})

test_that("bad input: clear errors naming the argument", {
  dat <- bcg_cwb()
  fit <- rma(yi, vi, mods = ~ ablat + year, data = dat)
  expect_error(Wald_test_cwb(fit, matrix(c(0, 1), 1, 2), R = 9), "'constraints' has 2 columns but the model has 3")
  expect_error(Wald_test_cwb(fit, matrix(0, 2, 4), R = 9), "'constraints' has 4 columns")
  expect_error(Wald_test_cwb(fit, 4, R = 9), "'constraints'.*between 1 and 3")
  expect_error(Wald_test_cwb(fit, "nope", R = 9), "'constraints' names unknown coefficient")
  expect_error(Wald_test_cwb(fit, c(TRUE, FALSE), R = 9), "'constraints' \\(logical\\)")
  expect_error(Wald_test_cwb(fit, 1:3, R = 9), "'constraints' has 3 rows for 3 coefficients")
  expect_error(Wald_test_cwb(fit, rbind(c(0, 1, 0), c(0, 2, 0)), R = 9), "'constraints' is not of full row rank")
  expect_error(Wald_test_cwb(fit, 2, R = 9, cluster = 1:5), "'cluster' has length 5")
  expect_error(Wald_test_cwb(fit, 2, R = 9, cluster = c(NA, dat$grp[-1])), "'cluster' has missing values in row 1")
  expect_error(Wald_test_cwb(fit, 2, R = 9, cluster = rep(1, 13)), "'cluster' has only one cluster")
  expect_error(Wald_test_cwb(fit, 2, R = 0), "'R' must be a single whole number >= 1")
  expect_error(Wald_test_cwb(fit, 2, R = 2.5), "'R' must be")
  expect_error(Wald_test_cwb(fit, 2), "'R' is missing")
  expect_error(Wald_test_cwb(fit, R = 9), "'constraints' is missing")
  expect_error(Wald_test_cwb(fit, 2, R = 9, adjust = "CR4"), "'adjust' = \"CR4\" needs a null model with one coefficient \\(this one has 2\\)")
  expect_error(Wald_test_cwb(fit, 2, R = 9, adjust = "CR7"), "'adjust' must be one of")
  expect_error(Wald_test_cwb(fit, 2, R = 9, type = "CR7"), "'type' must be one of")
  expect_error(Wald_test_cwb(fit, 2, R = 9, test = "HTQ"), "'test' must be one of")
  expect_error(Wald_test_cwb(fit, 2, R = 9, auxiliary_dist = "Poisson"), "'auxiliary_dist' must be one of")
  expect_error(Wald_test_cwb(fit, 2, R = 9, future_args = 3), "'future_args' must be NULL or a list")
  expect_error(Wald_test_cwb(robust(fit, cluster = dat$grp), 2, R = 9), "robust\\(\\) result")
  expect_error(Wald_test_cwb(lm(yi ~ ablat, data = dat), 2, R = 9), "'full_model' must be a model fitted by rma")
  # rma.mv: a cluster that cuts through the random-effects levels, one cluster only
  d <- metadat::dat.konstantopoulos2011
  fmv <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = d)
  expect_error(Wald_test_cwb(fmv, 2, R = 9, cluster = d$school), "not nested within the clustering variable")
  expect_error(Wald_test_cwb(fmv, 2, R = 9, cluster = rep(1, nrow(d))), "'cluster' has only one cluster")
  # a known correlation matrix R that correlates levels of different clusters
  lv <- as.character(sort(unique(d$district)))
  Rm <- 0.5^abs(outer(seq_along(lv), seq_along(lv), "-"))
  dimnames(Rm) <- list(lv, lv)
  fR <- rma.mv(yi, vi, mods = ~ year, random = list(~ 1 | district, ~ 1 | study), R = list(district = Rm), data = d)
  expect_error(Wald_test_cwb(fR, 2, R = 9, cluster = district), "not nested.*known correlation matrix 'R'")
  expect_error(Wald_test_cwb(fR, 2, R = 9), "'R' of the fit correlates levels in different clusters")
  # the caller's data are not changed
  d0 <- dat
  Wald_test_cwb(fit, 2, R = 3, cluster = grp, seed = 1)
  expect_identical(dat, d0)
})

test_that("default clusters as wildmeta: rows for rma(), the outermost factor for rma.mv()", {
  d <- metadat::dat.konstantopoulos2011
  fmv <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = d)
  a <- Wald_test_cwb(fmv, 2, R = 15, seed = 3)
  b <- Wald_test_cwb(fmv, 2, R = 15, seed = 3, cluster = district)
  expect_identical(attr(a, "bootstraps"), attr(b, "bootstraps"))
  dat <- bcg_cwb()
  fit <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_identical(attr(Wald_test_cwb(fit, 2, R = 15, seed = 3), "bootstraps"),
                   attr(Wald_test_cwb(fit, 2, R = 15, seed = 3, cluster = 1:13), "bootstraps"))
})

test_that("our formals are wildmeta's", {
  skip_if_not_installed("wildmeta")
  expect_identical(formals(Wald_test_cwb), formals(wildmeta::Wald_test_cwb))
})
