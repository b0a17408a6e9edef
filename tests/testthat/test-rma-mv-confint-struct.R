# Profile-likelihood CIs and profiles of every variance component of rma.mv()
# fits (tau2, rho, gamma2, phi of '~ inner | outer' terms; sigma2 of crossed
# factors and of factors with a known correlation matrix R), metafor's
# identifiability rules, and the I^2 per level of inner | outer terms, each
# against metafor.  metafor's refits use the fit's control: BFGS at reltol
# 1e-12 (nlminb at rel.tol 1e-12 fails on many of these refits); both
# searches run uniroot() at tol 1e-10 (metafor's default tol, eps^0.25,
# limits the agreement to ~1e-4).

mv_bfgs <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-12, maxit = 10000)

mv_struct_data <- function() {
  set.seed(42)
  ns <- 30
  d <- do.call(rbind, lapply(1:ns, function(s) {
    data.frame(study = s, time = sort(sample(1:3, sample(2:3, 1))))
  }))
  u <- rnorm(ns, 0, 0.3)
  d$grp <- (d$study - 1) %/% 5 + 1
  d$yi <- 0.2 + 0.1 * d$time + u[d$study] + rnorm(nrow(d), 0, 0.25)
  d$vi <- runif(nrow(d), 0.02, 0.08)
  d$yi <- d$yi + rnorm(nrow(d), 0, sqrt(d$vi))
  d
}

# The warnings of expr (evaluated in the caller's frame), muffled.
mv_warnings <- function(expr) {
  w <- character(0)
  withCallingHandlers(expr, warning = function(cnd) {
    w <<- c(w, conditionMessage(cnd))
    invokeRestart("muffleWarning")
  })
  w
}

expect_ci_equal <- function(a, b, tol = 1e-5) {
  expect_equal(rownames(a$random)[1L], rownames(b$random)[1L])
  expect_equal(unname(a$random[1L, ]), unname(b$random[1L, ]), tolerance = tol)
  expect_identical(c(a$lb.sign, a$ub.sign), c(b$lb.sign, b$ub.sign))
}

test_that("confint() of tau2 and rho, every struct, as metafor's (1e-5)", {
  skip_if_not_installed("metafor")
  skip_on_cran()
  d <- mv_struct_data()
  tl <- list(tol = 1e-10)
  cases <- list(list("CS", "tau2", 1), list("CS", "rho", 1), list("AR", "rho", 1), list("CAR", "tau2", 1),
                list("HCS", "tau2", 2), list("HAR", "rho", 1), list("DIAG", "tau2", 3), list("ID", "tau2", 1),
                list("UN", "tau2", 1), list("UN", "rho", 3))
  for (cs in cases) {
    f <- rma.mv(yi, vi, random = ~ time | study, struct = cs[[1]], data = d)
    m <- metafor::rma.mv(yi, vi, random = ~ time | study, struct = cs[[1]], data = d, control = mv_bfgs)
    a <- do.call(confint, c(list(f, control = tl), stats::setNames(list(cs[[3]]), cs[[2]])))
    b <- do.call(confint, c(list(m, control = tl), stats::setNames(list(cs[[3]]), cs[[2]])))
    expect_ci_equal(a, b)
  }
  # the default: every estimated component, in metafor's order and names
  f <- rma.mv(yi, vi, random = ~ time | study, struct = "CS", data = d)
  m <- metafor::rma.mv(yi, vi, random = ~ time | study, struct = "CS", data = d, control = mv_bfgs)
  a <- confint(f, control = tl)
  b <- confint(m, control = tl)
  expect_s3_class(a, "list.confint.mf_rma")
  expect_length(a, length(b))
  for (j in 1:2) expect_ci_equal(a[[j]], b[[j]])
  expect_equal(rownames(a[[2]]$random), "rho")
  expect_equal(rownames(a[[1]]$random)[1:2], rownames(b[[1]]$random))
  # fixed = TRUE and level
  a <- confint(f, rho = 1, level = 90, fixed = TRUE, control = tl)
  b <- confint(m, rho = 1, level = 90, fixed = TRUE, control = tl)
  expect_ci_equal(a, b)
  expect_equal(a$fixed, b$fixed, tolerance = 1e-6)
  # xlim (metafor's ...) and control$vc.min: a bound at the end of the search is signed
  a <- confint(f, rho = 1, control = list(vc.min = 0.1, tol = 1e-10))
  b <- confint(m, rho = 1, control = list(vc.min = 0.1, tol = 1e-10))
  expect_ci_equal(a, b)
  expect_identical(a$lb.sign, "<")
  expect_error(confint(f, tau2 = 2), "No such 'tau2'")
  expect_error(confint(f, gamma2 = 1), "any \\(estimated\\) 'gamma2'")
  expect_error(confint(f, tau2 = 1, rho = 1), "only one")
})

test_that("confint() of gamma2 and phi (two inner | outer terms) as metafor's", {
  skip_if_not_installed("metafor")
  skip_on_cran()
  d <- mv_struct_data()
  d$yi <- d$yi + rnorm(6, 0, 0.3)[d$grp]
  tl <- list(tol = 1e-10)
  f <- rma.mv(yi, vi, random = list(~ time | study, ~ time | grp), struct = c("CS", "AR"), data = d)
  m <- metafor::rma.mv(yi, vi, random = list(~ time | study, ~ time | grp), struct = c("CS", "AR"), data = d,
                       control = mv_bfgs)
  expect_ci_equal(confint(f, gamma2 = 1, control = tl), confint(m, gamma2 = 1, control = tl))
  a <- confint(f, phi = 1, control = tl)
  b <- confint(m, phi = 1, control = tl)
  expect_equal(unname(a$random[1L, ]), unname(b$random[1L, ]), tolerance = 1e-5)
  expect_equal(rownames(a$random), "phi")
  # profile(): the profiled log-likelihood at given values, and the labels
  pa <- profile(f, gamma2 = 1, steps = c(0, 0.1, 0.3), plot = FALSE)
  pb <- profile(m, gamma2 = 1, steps = c(0, 0.1, 0.3), plot = FALSE, progbar = FALSE)
  expect_equal(pa$ll, pb$ll, tolerance = 1e-7)
  expect_equal(pa$beta, pb$beta, tolerance = 1e-5)
  pa <- profile(f, phi = 1, plot = FALSE, steps = 3)
  pb <- profile(m, phi = 1, plot = FALSE, steps = 3, progbar = FALSE)
  expect_equal(pa$phi, pb$phi, tolerance = 1e-6)
  expect_equal(pa$ll, pb$ll, tolerance = 1e-6)
  expect_identical(pa$xlab, pb$xlab)
  expect_identical(pa$title, pb$title)
})

test_that("profile() of tau2 and rho as metafor's; UN profiled on metafor's (tau2, rho) scale", {
  skip_if_not_installed("metafor")
  skip_on_cran()
  d <- mv_struct_data()
  for (st in c("HCS", "UN")) {
    f <- rma.mv(yi, vi, random = ~ time | study, struct = st, data = d)
    m <- metafor::rma.mv(yi, vi, random = ~ time | study, struct = st, data = d, control = mv_bfgs)
    for (cmp in list(list(tau2 = 2, steps = c(0, 0.05, 0.2, 0.5)), list(rho = 1, steps = c(-0.3, 0, 0.5, 0.9)))) {
      pa <- do.call(profile, c(list(f, plot = FALSE), cmp))
      pb <- do.call(profile, c(list(m, plot = FALSE, progbar = FALSE), cmp))
      expect_equal(pa$ll, pb$ll, tolerance = 1e-7)
      expect_equal(pa$ci.lb, pb$ci.lb, tolerance = 1e-5)
      expect_identical(pa$xlab, pb$xlab)
    }
  }
  # the default xlim of a correlation (metafor's: the estimate -+ 0.5 within (-1, 1))
  pa <- profile(f, rho = 2, steps = 3, plot = FALSE)
  pb <- profile(m, rho = 2, steps = 3, plot = FALSE, progbar = FALSE)
  expect_equal(pa$rho, pb$rho, tolerance = 1e-5)
  expect_error(profile(f, rho = 1, xlim = c(-2, 0), plot = FALSE), ">= -1")
})

test_that("crossed factors and R: logLik with fixed components (1e-8), confint() and profile() as metafor's", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("ape")
  skip_on_cran()
  set.seed(1)
  k <- 60
  d <- data.frame(a = sample(1:8, k, TRUE), b = sample(1:6, k, TRUE), vi = runif(k, 0.01, 0.1), x = rnorm(k))
  d$yi <- rnorm(k, 0.2, 0.3) + rnorm(8, 0, 0.3)[d$a]
  d$a2 <- d$a
  d$es <- seq_len(k)
  set.seed(2)
  tr <- ape::rtree(8)
  tr$tip.label <- as.character(1:8)
  C <- ape::vcv(tr, corr = FALSE)
  for (meth in c("REML", "ML")) for (sparse_rows in c(500L, 10L)) {
    old <- options(metafast.mv_sparse_rows = sparse_rows)  # (10: the sparse engine fits the crossed model)
    f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = c(0.1, NA), method = meth)
    m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = c(0.1, NA), method = meth)
    expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
    f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b/es), data = d, sigma2 = c(NA, 0.05, NA), method = meth)
    m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b/es), data = d, sigma2 = c(NA, 0.05, NA), method = meth)
    expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
    options(old)
    for (rs in c("cor", "none")) {
      f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | a2), R = list(a = C), Rscale = rs, data = d,
                  sigma2 = c(0.1, NA), method = meth)
      m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | a2), R = list(a = C), Rscale = rs, data = d,
                  sigma2 = c(0.1, NA), method = meth)
      expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
      f <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | a/es, R = list(a = C), Rscale = rs, data = d,
                  sigma2 = c(NA, 0.01), method = meth)
      m <- mv_ref(yi, vi, mods = ~ x, random = ~ 1 | a/es, R = list(a = C), Rscale = rs, data = d,
                  sigma2 = c(NA, 0.01), method = meth)
      expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
    }
  }
  tl <- list(tol = 1e-10)
  for (sparse_rows in c(500L, 10L)) {
    old <- options(metafast.mv_sparse_rows = sparse_rows)
    f <- rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | b), data = d)
    options(old)
    m <- metafor::rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | b), data = d, control = mv_bfgs)
    for (j in 1:2) expect_ci_equal(confint(f, sigma2 = j, control = tl), confint(m, sigma2 = j, control = tl))
    pa <- profile(f, sigma2 = 2, steps = c(0, 0.02, 0.1), plot = FALSE)
    pb <- profile(m, sigma2 = 2, steps = c(0, 0.02, 0.1), plot = FALSE, progbar = FALSE)
    expect_equal(pa$ll, pb$ll, tolerance = 1e-7)
  }
  # ranef() of crossed factors and of a factor with R (it stopped before), at
  # the same variance components; with vcov = TRUE (sigma2 R - sigma2^2 R Z'PZ R)
  for (withR in c(FALSE, TRUE)) {
    m <- if (withR) metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | a2), R = list(a = C), data = d,
                                    sigma2 = c(0.05, 0.1))
         else metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, control = mv_bfgs)
    f <- if (withR) rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | a2), R = list(a = C), data = d,
                           sigma2 = c(0.05, 0.1))
         else rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
    ra <- ranef(f, vcov = TRUE)
    rb <- metafor::ranef(m, vcov = TRUE)
    for (j in 1:2) {
      expect_equal(as.matrix(ra$pred[[j]]), as.matrix(rb$pred[[j]]), tolerance = 1e-6)
      expect_equal(unname(ra$vcov[[j]]), unname(rb$vcov[[j]]), tolerance = 1e-6)
    }
  }
  f <- rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | a2), R = list(a = C), data = d)
  m <- metafor::rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | a2), R = list(a = C), data = d, control = mv_bfgs)
  expect_ci_equal(confint(f, sigma2 = 2, control = tl), confint(m, sigma2 = 2, control = tl))
  pa <- profile(f, sigma2 = 1, steps = c(0, 0.05, 0.1), plot = FALSE)
  pb <- profile(m, sigma2 = 1, steps = c(0, 0.05, 0.1), plot = FALSE, progbar = FALSE)
  expect_equal(pa$ll, pb$ll, tolerance = 1e-7)
})

test_that("metafor's identifiability rules of inner | outer terms: same fixed components, estimates and warnings", {
  skip_if_not_installed("metafor")
  d <- mv_struct_data()
  # inner level 3 in one study only: its tau2 fixed to 0 (DIAG, HCS, UN, HAR)
  d1 <- d[d$time != 3 | d$study == 1, ]
  for (st in c("DIAG", "HCS", "UN", "HAR")) {
    w <- mv_warnings(f <- rma.mv(yi, vi, random = ~ time | study, struct = st, data = d1))
    expect_true(any(grepl("Inner factor has k=1 for one or more levels. Corresponding 'tau2' value(s) fixed to 0", w, fixed = TRUE)))
    m <- suppressWarnings(mv_ref(yi, vi, random = ~ time | study, struct = st, data = d1))
    expect_identical(f$vc.fix$tau2, m$vc.fix$tau2)
    expect_identical(f$vc.fix$rho, m$vc.fix$rho)
    expect_equal(f$tau2, m$tau2, tolerance = 1e-5)
    expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
  }
  # check.k.gtr.1 = FALSE: no such rule (as metafor)
  f <- rma.mv(yi, vi, random = ~ time | study, struct = "DIAG", data = d1, control = list(check.k.gtr.1 = FALSE))
  expect_false(any(f$vc.fix$tau2))
  # every study with one row: rho (phi) fixed to 0 for CS, HCS, AR, HAR, CAR
  d2 <- d[!duplicated(d$study), ]
  d2$time[seq(1, nrow(d2), 3)] <- 2
  for (st in c("CS", "AR", "CAR")) {
    expect_warning(f <- rma.mv(yi, vi, random = ~ time | study, struct = st, data = d2),
                   "only a single level of the inner factor, so fixed value of rho to 0")
    m <- suppressWarnings(mv_ref(yi, vi, random = ~ time | study, struct = st, data = d2))
    expect_identical(f$vc.fix$rho, m$vc.fix$rho)
    expect_equal(f$rho, m$rho)
    expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
  }
  d3 <- d[!duplicated(d$study), ]
  d3$grp2 <- (d3$study - 1) %/% 3
  expect_warning(f <- rma.mv(yi, vi, random = list(~ time | study, ~ time | grp2), struct = c("CS", "AR"), data = d3),
                 "fixed value of rho to 0")
  m <- suppressWarnings(mv_ref(yi, vi, random = list(~ time | study, ~ time | grp2), struct = c("CS", "AR"), data = d3))
  expect_identical(f$vc.fix$phi, m$vc.fix$phi)
  expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
  # UN: levels 1 and 3 never in one study: their rho fixed to 0 (the
  # estimates are not compared: this fit lies on a boundary, rho.3 = -1)
  d4 <- d[!(d$time == 3 & d$study %in% d$study[d$time == 1]), ]
  w <- mv_warnings(f <- rma.mv(yi, vi, random = ~ time | study, struct = "UN", data = d4))
  expect_true(any(grepl("never occurred. Corresponding rho value(s) fixed to 0", w, fixed = TRUE)))
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ time | study, struct = "UN", data = d4))
  expect_identical(f$vc.fix$rho, m$vc.fix$rho)
  expect_identical(f$rho[2L], 0)
  # a level whose rows all have NA: removed, its tau2 fixed to 0
  d5 <- d
  d5$yi[d5$time == 3] <- NA
  w <- mv_warnings(f <- rma.mv(yi, vi, random = ~ time | study, struct = "HCS", data = d5))
  expect_true(any(grepl("Fixed tau2 to 0 for removed level(s)", w, fixed = TRUE)))
  expect_true(any(grepl("levels of inner factor (i.e., 3) removed due to NAs", w, fixed = TRUE)))
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ time | study, struct = "HCS", data = d5))
  expect_identical(f$vc.fix$tau2, m$vc.fix$tau2)
  expect_equal(f$tau2, m$tau2, tolerance = 1e-5)
  expect_equal(c(logLik(f)), c(logLik(m)), tolerance = 1e-8)
})

test_that("I^2 per level of inner | outer terms; summary() prints it with its profile CI and share", {
  skip_if_not_installed("metafor")
  d <- mv_struct_data()
  f <- rma.mv(yi, vi, mods = ~ time, random = ~ time | study, struct = "HCS", data = d)
  m <- mv_ref(yi, vi, mods = ~ time, random = ~ time | study, struct = "HCS", data = d)
  W <- diag(1 / d$vi)
  X <- cbind(1, d$time)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  vt <- (nrow(d) - 2) / sum(diag(P))
  part <- m$tau2 * as.vector(table(d$time)) / nrow(d)  # (tau2_j at the share of rows at level j)
  I2 <- 100 * part / (sum(part) + vt)
  expect_equal(unname(i2_levels(f)), c(I2, sum(I2)), tolerance = 1e-5)
  expect_named(i2_levels(f), c("tau^2.1", "tau^2.2", "tau^2.3", "total"))
  ci <- confint(f, tau2 = 2)
  expect_equal(unname(ci$random["I^2.2(%)", "estimate"]), I2[2], tolerance = 1e-5)
  out <- capture.output(summary(f))
  expect_true(any(grepl("share", out)))
  row <- grep("^tau\\^2\\.2 ", out, value = TRUE)
  row <- row[grepl("%", row)]
  expect_true(grepl(sprintf("%.2f%%", I2[2]), row, fixed = TRUE))
  expect_true(grepl(sprintf("%.2f%%", ci$random["I^2.2(%)", "ci.lb"]), row, fixed = TRUE))
  expect_true(grepl(sprintf("%.1f%%", 100 * part[2] / sum(part)), row, fixed = TRUE))
  # methods of inner | outer fits use every component (they stopped before)
  expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = 1e-6)
  expect_equal(rstandard(f)$z, rstandard(m)$z, tolerance = 1e-5)
})
