# ranef() of '~ inner | outer' terms of rma.mv() fits (metafor's G and H),
# against metafor::ranef() at the same variance components: our fit has them
# fixed at metafor's estimates (metafor run with tight settings), so the BLUPs,
# their standard errors and prediction intervals agree to ~1e-8.

# Simulated data: studies (numeric ids, rows shuffled) with 1 to 4 outcomes of
# three kinds (character inner levels whose labels differ in width), measured
# at up to three years; labs crossed with the studies.
ranef_terms_data <- function(seed = 2026) {
  set.seed(seed)
  ns <- 14
  rows <- lapply(seq_len(ns), function(s) {
    m <- sample(1:4, 1)
    data.frame(study = 100 + 7 * s, outcome = sample(c("a", "bb", "ccc"), m, replace = TRUE),
               year = sample(c(1, 2, 4), m, replace = TRUE), lab = sample(c("L1", "L2", "L3", "L4"), 1))
  })
  d <- do.call(rbind, rows)
  d$vi <- runif(nrow(d), 0.02, 0.12)
  d$x <- rnorm(nrow(d))
  u <- rnorm(ns, 0, 0.3)[match(d$study, unique(d$study))]
  d$yi <- 0.2 + 0.15 * d$x + u + rnorm(nrow(d), 0, 0.15) + rnorm(nrow(d), 0, sqrt(d$vi))
  d[sample(nrow(d)), ]
}

# Our fit with every component fixed at metafor's estimates.
fit_at <- function(m, ...) {
  args <- list(...)
  fx <- list(tau2 = m$tau2, rho = m$rho, gamma2 = m$gamma2, phi = m$phi)
  if (isTRUE(m$withS)) fx$sigma2 <- m$sigma2
  if (!isTRUE(m$withG)) fx[c("tau2", "rho")] <- NULL
  if (!isTRUE(m$withH)) fx[c("gamma2", "phi")] <- NULL
  if (isTRUE(m$withG) && m$struct[1L] %in% c("ID", "DIAG")) fx$rho <- NULL
  if (isTRUE(m$withH) && m$struct[2L] %in% c("ID", "DIAG")) fx$phi <- NULL
  suppressWarnings(do.call(metafast::rma.mv, c(args, fx)))
}

expect_ranef_equal <- function(a, b, tol = 1e-7) {
  expect_identical(names(a), names(b))
  for (j in names(b)) {
    expect_identical(rownames(a[[j]]), rownames(b[[j]]), info = j)
    expect_identical(colnames(a[[j]]), colnames(b[[j]]), info = j)
    expect_equal(as.matrix(a[[j]]), as.matrix(b[[j]]), tolerance = tol, info = j)
  }
}

test_that("ranef() of an '~ inner | outer' term matches metafor for every struct", {
  skip_if_not_installed("metafor")
  d <- ranef_terms_data()
  for (st in c("CS", "HCS", "UN", "ID", "DIAG", "AR", "HAR")) {
    m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | lab, ~ outcome | study), struct = st, data = d)
    f <- fit_at(m, yi = d$yi, V = d$vi, mods = ~ x, random = list(~ 1 | lab, ~ outcome | study), struct = st, data = d)
    expect_equal(c(f$beta), c(m$beta), tolerance = 1e-8, info = st)
    expect_ranef_equal(ranef(f), metafor::ranef(m))
  }
  # CAR: the inner variable is numeric (times)
  m <- mv_ref(yi, vi, random = ~ year | study, struct = "CAR", data = d)
  f <- fit_at(m, yi = d$yi, V = d$vi, random = ~ year | study, struct = "CAR", data = d)
  expect_ranef_equal(ranef(f), metafor::ranef(m))
})

test_that("ranef() of rma.mv fits with two '~ inner | outer' terms, V and t tests matches metafor", {
  skip_if_not_installed("metafor")
  dat <- metadat::dat.berkey1998
  V <- metafor::vcalc(vi, cluster = trial, obs = outcome, rho = 0.4, data = dat)
  m <- mv_ref(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat)
  f <- fit_at(m, yi = dat$yi, V = V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "UN", data = dat)
  expect_ranef_equal(ranef(f), metafor::ranef(m))
  expect_identical(names(ranef(f)), "~outcome | trial")
  expect_identical(rownames(ranef(f)[[1L]])[1:2], c("AL | 1", "PD | 1"))
  # G and H terms, a sigma2 component, t tests with both dfs rules, level
  d <- ranef_terms_data(7)
  rnd <- list(~ 1 | lab, ~ outcome | study, ~ factor(year) | lab)
  for (dfs in c("residual", "contain")) {
    m <- mv_ref(yi, vi, mods = ~ x, random = rnd, struct = c("CS", "ID"), test = "t", dfs = dfs, data = d)
    f <- fit_at(m, yi = d$yi, V = d$vi, mods = ~ x, random = rnd, struct = c("CS", "ID"), test = "t", dfs = dfs,
                data = d)
    expect_ranef_equal(ranef(f), metafor::ranef(m))
    expect_ranef_equal(ranef(f, level = 80), metafor::ranef(m, level = 80))
  }
  expect_identical(names(ranef(f)), c("lab", "~outcome | study", "~factor(year) | lab"))
  # transf drops the se column; vcov = TRUE gives the covariance matrices
  expect_ranef_equal(ranef(f, transf = exp), metafor::ranef(m, transf = exp))
  a <- ranef(f, vcov = TRUE)
  b <- metafor::ranef(m, vcov = TRUE)
  expect_ranef_equal(a$pred, b$pred)
  expect_identical(names(a$vcov), names(b$vcov))
  for (j in names(b$vcov)) expect_equal(unname(as.matrix(a$vcov[[j]])), unname(as.matrix(b$vcov[[j]])), tolerance = 1e-7)
  expect_identical(dimnames(a$vcov[[2L]]), dimnames(b$vcov[[2L]]))
})

test_that("ranef() of '~ inner | outer' terms: missing values, outer levels left out, factor inner levels", {
  skip_if_not_installed("metafor")
  d <- ranef_terms_data(11)
  d$yi[c(2, 9)] <- NA
  d$outcome <- factor(d$outcome, levels = c("ccc", "a", "bb"))
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ outcome | study, struct = "HCS", data = d))
  expect_true(anyNA(m$yi.f))
  f <- fit_at(m, yi = d$yi, V = d$vi, random = ~ outcome | study, struct = "HCS", data = d)
  expect_ranef_equal(ranef(f), metafor::ranef(m))
  a <- ranef(f, vcov = TRUE)
  b <- metafor::ranef(m, vcov = TRUE)
  expect_equal(a$vcov, unclass(b$vcov), tolerance = 1e-7)
  # a subset that drops a study entirely
  keep <- d$study != d$study[1L]
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ outcome | study, data = d, subset = keep))
  f <- fit_at(m, yi = d$yi, V = d$vi, random = ~ outcome | study, data = d, subset = keep)
  expect_ranef_equal(ranef(f), metafor::ranef(m))
})
