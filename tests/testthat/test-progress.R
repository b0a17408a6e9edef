# Progress of the C++ kernels reaches progressr: a handler that counts the
# update signals sees them, and their amounts add up to the number of
# replicates.  Short runs send one signal (at the end), so progress costs
# nothing measurable.

count_progress <- function(expr) {
  n <- 0
  amount <- 0
  old <- options(progressr.enable = TRUE)   # (progressr is off in non-interactive sessions)
  on.exit(options(old))
  counter <- progressr::make_progression_handler("counter", reporter = list(
    update = function(config, state, progression, ...) {
      n <<- n + 1
      amount <<- amount + progression$amount
    }))
  value <- progressr::with_progress(expr, handlers = counter)
  list(n = n, amount = amount, value = value)
}

prog_dat <- function() {
  data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28, 0.40),
             vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02, 0.03), x = c(1, 3, 2, 5, 4, 7, 6, 9, 8))
}

test_that("boot_rma, permutest, gosh, leave1out, cumul and influence report progress to progressr", {
  skip_if_not_installed("progressr")
  dat <- prog_dat()
  fit <- rma(yi, vi, data = dat)
  fitm <- rma(yi, vi, mods = ~ x, data = dat)
  set.seed(1); r <- count_progress(boot_rma(fit, R = 200, progress = TRUE))
  expect_gte(r$n, 1); expect_equal(r$amount, 200)
  set.seed(1); expect_identical(r$value$t, boot_rma(fit, R = 200, progress = FALSE)$t)
  set.seed(2); r <- count_progress(permutest(fitm, iter = 300, progress = TRUE))
  expect_gte(r$n, 1); expect_equal(r$amount, 300)
  r <- count_progress(gosh(fit, progress = TRUE))
  expect_gte(r$n, 1); expect_equal(r$amount, 2^9 - 1)
  r <- count_progress(leave1out(fit, progress = TRUE))
  expect_gte(r$n, 1); expect_equal(r$amount, 9)
  r <- count_progress(cumul(fit, progress = TRUE))
  expect_gte(r$n, 1); expect_equal(r$amount, 9)
  r <- count_progress(influence(fitm, progress = TRUE))
  expect_gte(r$n, 1); expect_equal(r$amount, 9)
  # no progress wanted: no signal
  r <- count_progress(leave1out(fit, progress = FALSE))
  expect_equal(r$n, 0)
})

test_that("Wald_test_cwb() and the cluster bootstrap of rma.mv fits report progress to progressr", {
  skip_if_not_installed("progressr")
  dat <- prog_dat()
  dat$grp <- c(1, 1, 2, 2, 3, 3, 4, 4, 5)
  fitm <- rma(yi, vi, mods = ~ x, data = dat)
  r <- count_progress(Wald_test_cwb(fitm, 2, R = 150, cluster = grp, seed = 1))
  expect_gte(r$n, 1); expect_equal(r$amount, 150)
  expect_identical(attr(r$value, "bootstraps"), attr(Wald_test_cwb(fitm, 2, R = 150, cluster = grp, seed = 1), "bootstraps"))
  d <- metadat::dat.konstantopoulos2011
  fmv <- rma.mv(yi, vi, random = ~ 1 | district/school, data = d)
  set.seed(3); r <- count_progress(boot_rma(fmv, R = 40, cluster = district, progress = TRUE))
  expect_gte(r$n, 1); expect_equal(r$amount, 40)
})

test_that("progress is throttled: a short run signals once, a long one a few times per second", {
  skip_on_cran()
  skip_if_not_installed("progressr")
  fit <- rma(yi, vi, data = prog_dat())
  set.seed(3); r <- count_progress(boot_rma(fit, R = 100, threads = 1, progress = TRUE))
  expect_equal(r$n, 1)
  t <- system.time(r <- count_progress(boot_rma(fit, R = 2e5, threads = 2, progress = TRUE)))[["elapsed"]]
  expect_equal(r$amount, 2e5)
  # at most one signal per 50 ms poll after the first half second, plus the last
  expect_lte(r$n, max(0, t - 0.5) / 0.05 + 2)
})
