# vif() of rma.mv() fits against metafor's vif.rma() (which takes rma.mv
# fits): the GVIFs from the correlation matrix of the estimates (closed form
# given the fit: tol_iter, the fits being iterative), from refits with only
# the tested moderators (reestimate = TRUE: the variance components
# re-estimated), and the table.

# studies (1 to 6 effects) crossed with outcomes (4 levels), a moderator
vif_crossed_data <- function(n_study = 30, seed = 1) {
  set.seed(seed)
  n <- 1 + (seq_len(n_study) %% 6)
  d <- data.frame(study = rep(seq_len(n_study), n))
  d$outcome <- sample(c("a", "b", "c", "d"), nrow(d), replace = TRUE)
  d$x <- rnorm(nrow(d))
  d$x2 <- 0.5 * d$x + rnorm(nrow(d))
  d$vi <- runif(nrow(d), 0.01, 0.1)
  u <- rnorm(n_study, 0, 0.3)
  w <- c(a = 0.2, b = -0.1, c = 0, d = 0.25)
  d$yi <- 0.2 + 0.1 * d$x + u[d$study] + w[d$outcome] + rnorm(nrow(d), 0, 0.15) + rnorm(nrow(d), 0, sqrt(d$vi))
  d
}

vif_mv_fits <- function() {
  dat <- metadat::dat.assink2016
  list(
    f = rma.mv(yi, vi, mods = ~ year + pubstatus + deltype, random = ~ 1 | study/esid, data = dat),
    m = mv_ref(yi, vi, mods = ~ year + pubstatus + deltype, random = ~ 1 | study/esid, data = dat))
}

test_that("vif() of an rma.mv() fit matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  fm <- vif_mv_fits()
  f <- fm$f
  m <- fm$m
  vf <- vif(f)
  vm <- metafor::vif(m)
  expect_equal(unname(vf$vifs), unname(vm$vifs), tolerance = tol_iter)
  expect_equal(names(vf$vifs), names(vm$vifs))
  expect_equal(as.data.frame(vf)$sif, as.data.frame(vm)$sif, tolerance = tol_iter)
  # several sets of coefficients, and the table
  vf <- vif(f, btt = list(2:3, 4:5))
  vm <- metafor::vif(m, btt = list(2:3, 4:5))
  expect_equal(unname(vf$vifs), unname(vm$vifs), tolerance = tol_iter)
  vf <- vif(f, btt = "deltype")
  vm <- metafor::vif(m, btt = "deltype")
  expect_equal(unname(vf$vifs), unname(vm$vifs), tolerance = tol_iter)
  vf <- vif(f, table = TRUE)
  vm <- metafor::vif(m, table = TRUE)
  expect_equal(vf$table$estimate, vm$table$estimate, tolerance = tol_iter)
  expect_output(print(vf), "vif")
})

test_that("vif(reestimate = TRUE) of an rma.mv() fit matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  fm <- vif_mv_fits()
  # (metafor refits with its default optimiser settings: compare with a
  # looser tolerance, the components of its refits being within ~1e-5)
  vf <- vif(fm$f, reestimate = TRUE)
  vm <- metafor::vif(fm$m, reestimate = TRUE)
  expect_equal(unname(vf$vifs), unname(vm$vifs), tolerance = 1e-4)
  vf <- vif(fm$f, btt = list(2:3, 4:5), reestimate = TRUE)
  vm <- metafor::vif(fm$m, btt = list(2:3, 4:5), reestimate = TRUE)
  expect_equal(unname(vf$vifs), unname(vm$vifs), tolerance = 1e-4)
  # a crossed model (several formulas) and a struct term
  d <- vif_crossed_data()
  f <- rma.mv(yi, vi, mods = ~ x + x2, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  m <- mv_ref(yi, vi, mods = ~ x + x2, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  expect_equal(unname(vif(f)$vifs), unname(metafor::vif(m)$vifs), tolerance = tol_iter)
  expect_equal(unname(vif(f, reestimate = TRUE)$vifs), unname(metafor::vif(m, reestimate = TRUE)$vifs), tolerance = 1e-4)
  expect_error(vif(rma.mv(yi, vi, random = ~ 1 | study, data = d)), "intercept-only")
})

test_that("bad 'sim' of vif() of an rma.mv() fit: named errors", {
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  fit <- rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat)
  expect_error(vif(fit, sim = 1), "'sim'")
  expect_error(vif(fit, sim = "a"), "'sim'")
  expect_identical(nrow(vif(fit, sim = 3, seed = 1)$sim), 3L)  # (against metafor in test-rma-mv-gen-sp-methods.R)
})
