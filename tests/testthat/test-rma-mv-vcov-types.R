# vcov(type = ) of rma.mv() fits, as metafor's vcov.rma(): "fixed"/"beta",
# "obs"/"marginal" (M), "fitted" (X vb X') and "resid" ((I - H) M (I - H)').
# Before, vcov.mf_rma_mv() ignored 'type' and returned vb for every type.
# Closed forms at the same variance components: 1e-8 against metafor.

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

vct_check <- function(f, m, info) {
  for (type in c("fixed", "beta", "obs", "marginal", "fitted", "resid")) {
    expect_equal(unclass(vcov(f, type = type)), unclass(vcov(m, type = type)), tolerance = tol_closed,
                 ignore_attr = TRUE, info = paste(info, type))
    expect_equal(dim(vcov(f, type = type)), dim(vcov(m, type = type)), info = paste(info, type))
  }
  expect_equal(dimnames(vcov(f, type = "obs")), dimnames(unclass(vcov(m, type = "obs"))), info = info)
}

test_that("vcov(type = ) of a three-level model, with missing rows under each na.action", {
  dat <- metadat::dat.konstantopoulos2011
  f <- rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat)
  m <- metafor::rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district/school, data = dat,
                       sigma2 = f$sigma2)
  vct_check(f, m, "nested")
  dat$yi[c(3, 20)] <- NA
  f <- suppressWarnings(rma.mv(yi, vi, random = ~ 1 | district/school, data = dat))
  m <- suppressWarnings(metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, sigma2 = f$sigma2))
  for (na in c("na.omit", "na.exclude", "na.pass")) {
    old <- options(na.action = na)
    vct_check(f, m, na)
    options(old)
  }
  expect_error(vcov(f, type = "nope"), "'type'")
  expect_identical(vcov(f, foo = "obs"), f$vb)  # (metafor ignores other arguments)
})

test_that("vcov(type = ) with a dense V and a CS term, with user weights W, and of robust() fits", {
  dat <- metadat::dat.berkey1998
  V <- metafor::vcalc(vi, cluster = trial, type = outcome, rho = 0.4, data = dat)
  f <- rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "CS", data = dat)
  m <- metafor::rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial, struct = "CS", data = dat,
                       tau2 = f$tau2, rho = f$rho)
  vct_check(f, m, "CS")
  W <- diag(1 / (dat$vi + 0.01))
  fw <- rma.mv(yi, V, W = W, mods = ~ outcome - 1, random = ~ 1 | trial, data = dat)
  mw <- metafor::rma.mv(yi, V, W = W, mods = ~ outcome - 1, random = ~ 1 | trial, data = dat, sigma2 = fw$sigma2)
  vct_check(fw, mw, "W")
  r <- robust(f, cluster = trial)
  mr <- metafor::robust(m, cluster = dat$trial)
  for (type in c("fixed", "obs", "fitted"))
    expect_equal(unclass(vcov(r, type = type)), unclass(vcov(mr, type = type)), tolerance = tol_closed,
                 ignore_attr = TRUE, info = type)
  expect_error(stats::vcov(mr, type = "resid"), "not available")
  expect_error(vcov(r, type = "resid"), "not available for robust")
})
