# rma.mv() with a moderator offset by 1e3 .. 1e12 (issue 18 item 1, for the
# multivariate structures): CS, HCS and UN over outcomes within studies, with
# a dense V (correlated sampling errors).  x + c beside an intercept is a
# reparametrisation: the variance components, the slope, its SE, the fitted
# values and the log-likelihood are those of the fit on x itself.  The exact
# reference is the same model on (x + c) - c (exact: Sterbenz), checked
# against metafor's rma.mv at tight settings.  From an offset of 1e7 on, the
# centred x is below lm()'s rank tolerance (1e-7) relative to the offset
# column: metafor drops x as redundant (with a warning), and so must we.

mvo_data <- local({
  set.seed(1818)
  S <- 30
  n <- sample(2:3, S, replace = TRUE)
  d <- do.call(rbind, lapply(seq_len(S), function(s) {
    data.frame(study = s, outcome = sort(sample(c("a", "b", "c"), n[s])))
  }))
  k <- nrow(d)
  d$x <- rnorm(k)
  d$vi <- runif(k, 0.02, 0.1)
  u <- rnorm(S, 0, 0.3)
  d$yi <- 0.2 + 0.1 * (d$outcome == "b") + 0.15 * d$x + u[d$study] + rnorm(k, 0, 0.2) +
    rnorm(k, 0, sqrt(d$vi))
  d
})
# sampling errors correlated 0.5 within a study: block-diagonal V
mvo_V <- local({
  d <- mvo_data
  V <- diag(d$vi)
  same <- outer(d$study, d$study, "==") & row(V) != col(V)
  V[same] <- 0.5 * sqrt(outer(d$vi, d$vi))[same]
  V
})
mvo_fit <- function(struct, x, fun = rma.mv, ...) {
  d <- mvo_data
  d$xx <- x
  fun(yi, mvo_V, mods = ~ outcome + xx, random = ~ outcome | study, struct = struct, data = d, ...)
}
mvo_vc <- function(f) c(f$tau2, f$rho)

test_that("the reference fits (no offset) are metafor's", {
  skip_if_not_installed("metafor")
  for (struct in c("CS", "HCS", "UN")) {
    ref <- mvo_fit(struct, mvo_data$x)
    d <- mvo_data
    d$xx <- d$x
    m <- mv_ref(yi, mvo_V, mods = ~ outcome + xx, random = ~ outcome | study, struct = struct, data = d)
    expect_equal(mvo_vc(ref), mvo_vc(m), tolerance = 1e-5, info = struct)
    expect_equal(c(logLik(ref)), c(logLik(m)), tolerance = 1e-8, info = struct)
    expect_equal(c(ref$beta), c(m$beta), tolerance = 1e-5, info = struct)
  }
})

test_that("an offset moderator (1e3 .. 1e12) gives the fit on the centred moderator, for CS, HCS and UN", {
  for (struct in c("CS", "HCS", "UN")) {
    for (cc in 10^c(3, 5, 6)) {
      xo <- mvo_data$x + cc
      info <- sprintf("%s, offset %g", struct, cc)
      ref <- mvo_fit(struct, xo - cc)  # (exact: the rounded x the offset design holds)
      f <- mvo_fit(struct, xo)
      p <- length(f$beta)
      expect_equal(mvo_vc(f), mvo_vc(ref), tolerance = 1e-6, info = info)
      expect_equal(c(logLik(f)), c(logLik(ref)), tolerance = 1e-8, info = info)
      # the slope and its SE; the intercept moves by -c * slope
      expect_equal(f$beta[p], ref$beta[p], tolerance = 1e-6, info = info)
      expect_equal(f$se[p], ref$se[p], tolerance = 1e-6, info = info)
      expect_equal(f$beta[1] + cc * f$beta[p], ref$beta[1], tolerance = 1e-6, info = info)
      expect_equal(unname(fitted(f)), unname(fitted(ref)), tolerance = 1e-7, info = info)
      expect_equal(f$QE, ref$QE, tolerance = 1e-7, info = info)
      expect_true(all(is.finite(f$se)), info = info)
    }
  }
})

test_that("from an offset of 1e7 on, the moderator is dropped as metafor drops it", {
  d <- mvo_data
  for (struct in c("CS", "HCS", "UN")) {
    # the model without the moderator
    ref <- rma.mv(yi, mvo_V, mods = ~ outcome, random = ~ outcome | study, struct = struct, data = d)
    for (cc in 10^c(7, 9, 12)) {
      info <- sprintf("%s, offset %g", struct, cc)
      expect_warning(f <- mvo_fit(struct, mvo_data$x + cc), "Redundant predictors dropped from the model: xx",
                     info = info)
      expect_equal(mvo_vc(f), mvo_vc(ref), tolerance = 1e-8, info = info)
      expect_equal(c(f$beta), c(ref$beta), tolerance = 1e-8, info = info)
      expect_equal(c(logLik(f)), c(logLik(ref)), tolerance = 1e-10, info = info)
    }
  }
  skip_if_not_installed("metafor")
  # metafor's decision: the same drop from 1e7 on (at 1e6 its fit fails: "Model matrix not of full
  # rank", where ours is the exact fit of the test above)
  for (cc in 10^c(7, 9, 12)) {
    d$xx <- d$x + cc
    expect_warning(m <- metafor::rma.mv(yi, mvo_V, mods = ~ outcome + xx, random = ~ outcome | study,
                                        struct = "CS", data = d),
                   "Redundant predictors dropped", info = format(cc))
    expect_equal(nrow(m$beta), 3L, info = format(cc))
  }
})
