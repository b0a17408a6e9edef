# metafor's starting values of rma.mv(): control$sigma2.init, tau2.init,
# rho.init (first '~ inner | outer' term), gamma2.init, phi.init (second),
# one value recycled or one per component, a UN or GEN term started at the
# Cholesky factor of the matrix they give (metafor 5.2.1 rma.mv()).  Before,
# tau2.init and gamma2.init were accepted and ignored, and rho.init and
# phi.init acted only as a spatial range.

init_data <- function() {
  d <- engine_data(60, 1)  # (test-rma-mv-engine.R)
  set.seed(11)
  d$time <- stats::ave(seq_len(nrow(d)), d$study, FUN = seq_along)
  d$lat <- stats::rnorm(nrow(d))
  d$lon <- stats::rnorm(nrow(d))
  d$t4 <- sample(c("a", "b", "c", "d"), nrow(d), TRUE)
  d
}

init_cases <- list(
  UN = list(random = ~ type | study, struct = "UN"),
  HCS = list(random = ~ type | study, struct = "HCS"),
  AR = list(random = ~ time | study, struct = "AR"),
  HAR = list(random = ~ type | study, struct = "HAR"),
  CAR = list(random = ~ time | study, struct = "CAR"),
  DIAG = list(random = list(~ 1 | study, ~ type | outcome), struct = "DIAG"),
  CS_UN = list(random = list(~ type | outcome, ~ type | study), struct = c("CS", "UN")),
  GEN = list(random = ~ x | study, struct = "GEN"),
  SPEXP = list(random = ~ lat + lon | study, struct = "SPEXP"),
  # (a fixed correlation: the free ones form no cycle, (tau2, rho) scale)
  UN_forest = list(random = ~ type | study, struct = "UN", rho = c(NA, 0.3, NA)),
  # (a fixed correlation among four levels: a cycle, the Cholesky scale
  # with the fixed value overwriting, as metafor)
  UN_cholfix = list(random = ~ t4 | study, struct = "UN", rho = c(NA, NA, NA, NA, 0.2, NA))
)

test_that("a fit started at its own estimate through metafor's *.init arguments stops after one step, for every struct", {
  # The estimate given as metafor's (sigma2, tau2, rho, gamma2, phi) must map
  # to the same point of theta (the Cholesky factor for UN and GEN, the range
  # of a spatial term): Fisher scoring then takes one step.  From the default
  # start every one of these fits takes more than ten.
  d <- init_data()
  for (nm in names(init_cases)) {
    a <- init_cases[[nm]]
    fit <- function(...) suppressWarnings(do.call(rma.mv, c(list(quote(yi), quote(vi), mods = ~ x, data = quote(d)), a, list(...))))
    f0 <- fit()
    expect_true(f0$convergence$converged, label = nm)
    expect_gt(f0$convergence$iterations, 10L)
    ini <- list(tau2.init = f0$tau2, rho.init = f0$rho, gamma2.init = f0$gamma2, phi.init = f0$phi)
    if (nm == "UN_cholfix") {
      # (the estimate, with the fixed value overwriting L L', is indefinite
      # here, and metafor's start is the Cholesky factor of the matrix
      # given: the fixed position gets the value that makes it positive
      # definite, which the fit overwrites; the likelihood is the estimate's)
      mineig <- function(r5) {
        r <- f0$rho
        r[5L] <- r5
        R <- diag(4)
        R[lower.tri(R)] <- r
        R[upper.tri(R)] <- t(R)[upper.tri(R)]
        min(eigen(R * tcrossprod(sqrt(f0$tau2)), only.values = TRUE)$values)
      }
      expect_lt(mineig(0.2), 0)
      ini$rho.init[5L] <- stats::optimize(mineig, c(-1, 1), maximum = TRUE)$maximum
    }
    if (f0$withS) ini$sigma2.init <- f0$sigma2
    f1 <- fit(control = ini)
    expect_identical(f1$convergence$iterations, 1L, label = nm)
    expect_equal(c(f1$tau2, f1$rho, f1$gamma2, f1$phi), c(f0$tau2, f0$rho, f0$gamma2, f0$phi), tolerance = 1e-8, label = nm)
  }
})

test_that("the start decides which maximum a fit reaches, as metafor's start does", {
  skip_if_not_installed("metafor")
  # The study's variance beside an HCS term over the studies (confounded
  # components, a likelihood with several maxima): from metafast's default
  # start the fit stops at a lower maximum (the study's variance 0.077, the
  # HCS term's correlation at 1); started at B it reaches metafor's maximum
  # (the study's variance ~0, phi 0.95), as metafor does from B and from its
  # own default start.
  d <- engine_data(38, 9)
  rnd <- list(~ 1 | study, ~ type | outcome, ~ type | study)
  st <- c("CS", "HCS")
  B <- list(sigma2.init = 0.001, tau2.init = 0.01, rho.init = 0.5, gamma2.init = 0.12, phi.init = 0.9)
  # (metafor's default settings: nlminb at rel.tol 1e-12 reports false
  # convergence on these confounded components)
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d)
  mB <- metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d, control = B)
  f0 <- suppressWarnings(rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d))
  fB <- suppressWarnings(rma.mv(yi, vi, mods = ~ x, random = rnd, struct = st, data = d, control = B))
  expect_true(fB$convergence$converged)
  expect_lt(c(logLik(f0)), c(logLik(m)) - 0.05)  # (the lower maximum, NEWS)
  expect_gte(c(logLik(fB)), c(logLik(m)) - 1e-8)
  expect_gte(c(logLik(fB)), c(logLik(mB)) - 1e-8)
  expect_equal(c(fB$sigma2, fB$tau2, fB$rho, fB$gamma2, fB$phi), c(m$sigma2, m$tau2, m$rho, m$gamma2, m$phi),
               tolerance = 1e-5)
  expect_equal(c(fB$beta), c(m$beta), tolerance = 1e-5)
})

test_that("starting values that metafor refuses are refused, naming the argument", {
  skip_if_not_installed("metafor")
  d <- init_data()
  both <- function(control, pattern, random = ~ type | study, struct = "UN") {
    expect_error(suppressWarnings(metafor::rma.mv(yi, vi, random = random, struct = struct, data = d, control = control)))
    expect_error(rma.mv(yi, vi, random = random, struct = struct, data = d, control = control), pattern)
  }
  both(list(tau2.init = c(0.1, 0.2)), "Length of the 'control\\$tau2.init' argument \\(2\\).*variance components \\(3\\)")
  both(list(tau2.init = 0), "'control\\$tau2.init' must be > 0")
  both(list(rho.init = 1), "'control\\$rho.init' must be in \\(-1, 1\\)")
  both(list(tau2.init = NA), "'control\\$tau2.init' must hold finite numbers")
  both(list(rho.init = c(0.9, -0.9, 0.9)), "Cholesky decomposition of the initial 'G' matrix.*tau2.init, rho.init")
  both(list(rho.init = 1.5), "'control\\$rho.init' must be in \\(0, 1\\)", random = ~ time | study, struct = "CAR")
  both(list(phi.init = 1), "'control\\$phi.init' must be in \\(-1, 1\\)",
       random = list(~ type | study, ~ type | outcome), struct = c("UN", "CS"))
  both(list(gamma2.init = c(1, 2)), "Length of the 'control\\$gamma2.init' argument \\(2\\).*variance components \\(1\\)",
       random = list(~ type | study, ~ type | outcome), struct = c("UN", "CS"))
  both(list(rho.init = c(1, 2)), "Length of the 'control\\$rho.init' argument \\(2\\).*correlations \\(1\\)",
       random = ~ lat + lon | study, struct = "SPEXP")
  both(list(rho.init = -1), "'rho.init' must be > 0", random = ~ lat + lon | study, struct = "SPEXP")
  # (metafor recycles a rho.init of another length into the correlations of
  # UN, with R's warning; metafast refuses it)
  expect_error(rma.mv(yi, vi, random = ~ type | study, struct = "UN", data = d, control = list(rho.init = c(0.1, 0.2))),
               "Length of the 'control\\$rho.init' argument \\(2\\).*correlations \\(3\\)")
})
