# rma.mv() with several random-effects terms (nested and crossed factors) and
# '~ inner | outer' structures, against metafor::rma.mv() run with tight
# optimiser settings.  Tolerances as test-rma-mv.R: beta and SE 1e-6 relative
# (tol_iter), variance components 1e-5, log-likelihoods 1e-8 at the same
# parameters (our fit with the components fixed at metafor's estimates).

st_tol_vc <- 1e-5
st_tol_ll <- 1e-8

# What metafor reports for a fit with sigma2 components (f ours, m metafor's).
expect_st_equal <- function(f, m) {
  expect_s3_class(f, "mf_rma_mv")
  expect_true(f$convergence$converged)
  expect_equal(f$sigma2, m$sigma2, tolerance = st_tol_vc)
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(f$se, m$se, tolerance = tol_iter)
  expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
  expect_equal(f$QE, m$QE, tolerance = tol_closed)
  expect_equal(f$QM, m$QM, tolerance = tol_iter)
  expect_equal(f$k, m$k)
  expect_equal(f$parms, m$parms)
  expect_equal(f$s.nlevels, unname(m$s.nlevels))
  expect_equal(f$s.names, unname(m$s.names))
  expect_equal(f$s.levels, unname(m$s.levels))
  expect_equal(f$vc.fix$sigma2, m$vc.fix$sigma2)
  expect_equal(unname(f$ddf), unname(m$ddf))
  expect_equal(as.matrix(f$fit.stats), as.matrix(m$fit.stats), tolerance = tol_iter)
  expect_equal(unname(fitted(f)), unname(fitted(m)), tolerance = tol_iter)
}

# Our fit with the sigma2 components fixed at metafor's: the log-likelihoods
# agree within 1e-8 (relative).
expect_st_ll_at <- function(call, m) {
  call$sigma2 <- m$sigma2
  f <- suppressWarnings(eval(call, parent.frame()))
  expect_equal(f$fit.stats["ll", ], m$fit.stats["ll", ], tolerance = st_tol_ll)
}

# Crossed data: studies (1 to 6 effects) crossed with outcomes (4 levels),
# a moderator; the rows are shuffled so that the components are not sorted.
st_crossed_data <- function(n_study = 30, seed = 1) {
  set.seed(seed)
  n <- 1 + (seq_len(n_study) %% 6)
  d <- data.frame(study = rep(seq_len(n_study), n))
  d$es <- sequence(n)
  d$outcome <- sample(c("a", "b", "c", "d"), nrow(d), replace = TRUE)
  d$x <- rnorm(nrow(d))
  d$vi <- runif(nrow(d), 0.01, 0.1)
  u <- rnorm(n_study, 0, 0.3)
  w <- c(a = 0.2, b = -0.1, c = 0, d = 0.25)
  d$yi <- 0.2 + 0.1 * d$x + u[d$study] + w[d$outcome] + rnorm(nrow(d), 0, 0.15) + rnorm(nrow(d), 0, sqrt(d$vi))
  d[sample(nrow(d)), ]
}

test_that("crossed random effects list(~ 1 | study, ~ 1 | outcome) match metafor", {
  skip_if_not_installed("metafor")
  dat <- st_crossed_data()
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = dat, method = method)
    m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = dat, method = method)
    expect_st_equal(f, m)
    expect_st_ll_at(quote(rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = dat,
                                 method = method)), m)
  }
  # three terms: nested study/es crossed with outcome; t tests with the containment rule
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study/es, ~ 1 | outcome), data = dat, test = "t", dfs = "contain")
  m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | study/es, ~ 1 | outcome), data = dat, test = "t", dfs = "contain")
  expect_st_equal(f, m)
  expect_equal(f$pval, m$pval, tolerance = tol_iter)
  # a fixed component
  f <- rma.mv(yi, vi, random = list(~ 1 | study, ~ 1 | outcome), data = dat, sigma2 = c(NA, 0.02))
  m <- mv_ref(yi, vi, random = list(~ 1 | study, ~ 1 | outcome), data = dat, sigma2 = c(NA, 0.02))
  expect_st_equal(f, m)
  expect_identical(f$sigma2[2], 0.02)
})

test_that("several terms on metadat data (dat.crede2010, dat.konstantopoulos2011) match metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metafor::escalc(measure = "ZCOR", ri = ri, ni = ni, data = metadat::dat.crede2010)
  f <- rma.mv(yi, vi, random = list(~ 1 | studyid/sampleid, ~ 1 | criterion), data = dat)
  m <- mv_ref(yi, vi, random = list(~ 1 | studyid/sampleid, ~ 1 | criterion), data = dat)
  expect_st_equal(f, m)
  # terms that nest: the same fit as the nested formula (district/school)
  dat <- metadat::dat.konstantopoulos2011
  dat$ds <- paste(dat$district, dat$school)
  f <- rma.mv(yi, vi, random = list(~ 1 | district, ~ 1 | ds), data = dat)
  m <- mv_ref(yi, vi, random = list(~ 1 | district, ~ 1 | ds), data = dat)
  expect_st_equal(f, m)
  n <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  expect_equal(f$sigma2, n$sigma2, tolerance = st_tol_vc)
  # a nested term and a crossed single-level factor (sigma2 fixed to 0, metafor's warning)
  dat$g <- rep(1:4, length.out = nrow(dat))
  f <- rma.mv(yi, vi, random = list(~ 1 | district/school, ~ 1 | g), data = dat)
  m <- mv_ref(yi, vi, random = list(~ 1 | district/school, ~ 1 | g), data = dat)
  expect_st_equal(f, m)
})

test_that("crossed terms with a dense V: blocks are the components linked by factors and V", {
  skip_if_not_installed("metafor")
  dat <- st_crossed_data(20, seed = 3)
  dat <- dat[order(dat$study), ]
  # covariances within studies, and one covariance that joins two studies (rows of 1 and 2)
  V <- diag(dat$vi)
  for (s in unique(dat$study)) {
    i <- which(dat$study == s)
    if (length(i) > 1L) for (a in i) for (b in i) if (a != b) V[a, b] <- 0.4 * sqrt(dat$vi[a] * dat$vi[b])
  }
  a <- which(dat$study == 1)[1L]; b <- which(dat$study == 2)[1L]
  V[a, b] <- V[b, a] <- 0.3 * sqrt(dat$vi[a] * dat$vi[b])
  f <- rma.mv(yi, V, mods = ~ x, random = list(~ 1 | study, ~ 1 | es), data = dat)
  m <- mv_ref(yi, V, mods = ~ x, random = list(~ 1 | study, ~ 1 | es), data = dat)
  expect_st_equal(f, m)
})

test_that("crossed components larger than the dense cap: the sparse engine fits, dense-only parts say why not", {
  set.seed(2)
  k <- 5200
  d <- data.frame(yi = rnorm(k), vi = 0.1, a = rep(1:3, length.out = k), b = rep(1:2, length.out = k))
  f <- rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | b), data = d)
  expect_identical(f$mf.spec$structure$type, "crossed")
  expect_true(f$convergence$converged)
  # (hat values and weights come from the sparse factor, test-rma-mv-sparse-diag.R;
  # the refits of case deletion are sparse fits, test-rma-mv-sparse-deletion.R)
  expect_length(hatvalues(f), k)
  cd <- cooks.distance(f, cluster = a, reestimate = FALSE)
  expect_length(cd, 3L)
  expect_true(all(is.finite(cd)))
  # an '~ inner | outer' term crossed with another factor: the sparse engine
  # too (test-rma-mv-sparse-terms.R); a GEN term needs the dense blocks
  g <- rma.mv(yi, vi, random = list(~ 1 | b, ~ b | a), data = d)
  expect_identical(g$mf.spec$structure$type, "crossed")
  expect_true(g$convergence$converged)
  expect_error(rma.mv(yi, vi, random = list(~ 1 | b, ~ b | a), struct = "GEN", data = d),
               "5200 rows.*at most 5000 rows a block")
})

test_that("bad input in several terms: NA in a factor, a wrong length, an empty list", {
  dat <- st_crossed_data(10)
  dat$outcome[3] <- NA
  expect_error(rma.mv(yi, vi, random = list(~ 1 | study, ~ 1 | outcome), data = dat), "'outcome'.*row")
  expect_error(rma.mv(yi, vi, random = list(~ 1 | study, ~ 1 | I(1:3)), data = dat), "has length 3")
  expect_error(rma.mv(yi, vi, random = list(), data = dat), "'random'")
  expect_error(rma.mv(yi, vi, random = list(~ 1 | study, "x"), data = dat), "'random'")
})

# ---- '~ inner | outer' terms ----

# What metafor reports for a fit with inner | outer terms.
expect_struct_equal <- function(f, m) {
  expect_s3_class(f, "mf_rma_mv")
  expect_true(f$convergence$converged)
  # (components near 0 relative to 0.01: there the likelihood is flat and
  # metafor's optimiser stops within ~1e-8 absolute)
  for (nm in c("sigma2", "tau2", "rho", "gamma2", "phi")) {
    expect_equal(length(f[[nm]]), length(m[[nm]]), info = nm)
    expect_lt(max(abs(f[[nm]] - m[[nm]]) / pmax(abs(m[[nm]]), 0.01)), st_tol_vc)
  }
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(f$se, m$se, tolerance = tol_iter)
  expect_equal(f$QE, m$QE, tolerance = tol_closed)
  expect_equal(f$parms, m$parms)
  expect_equal(f$vc.fix, m$vc.fix)
  expect_equal(f$struct, m$struct)
  expect_equal(f$withS, m$withS)
  expect_equal(f$withG, m$withG)
  expect_equal(f$withH, m$withH)
  for (w in c("g", "h")) {
    if (!isTRUE(m[[paste0("with", toupper(w))]])) next
    for (fld in c(".names", ".nlevels", ".nlevels.f", ".levels.f", ".levels.k"))
      expect_equal(f[[paste0(w, fld)]], m[[paste0(w, fld)]], info = paste0(w, fld))
  }
  expect_equal(as.matrix(f$fit.stats), as.matrix(m$fit.stats), tolerance = tol_iter)
}

# the log-likelihoods at metafor's estimates (our fit with everything fixed there)
expect_struct_ll_at <- function(call, m) {
  for (nm in c("tau2", "rho", "gamma2", "phi"))
    if (isTRUE(m[[paste0("with", if (nm %in% c("tau2", "rho")) "G" else "H")]]) && !all(m$vc.fix[[nm]] %in% TRUE))
      call[[nm]] <- m[[nm]]
  if (isTRUE(m$withS)) call$sigma2 <- m$sigma2
  f <- suppressWarnings(eval(call, parent.frame()))
  expect_equal(f$fit.stats["ll", ], m$fit.stats["ll", ], tolerance = st_tol_ll)
}

test_that("CS over ~ school | district matches metafor and the nested model", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  for (method in c("REML", "ML")) {
    f <- rma.mv(yi, vi, random = ~ school | district, data = dat, method = method)
    m <- mv_ref(yi, vi, random = ~ school | district, data = dat, method = method)
    expect_struct_equal(f, m)
    expect_struct_ll_at(quote(rma.mv(yi, vi, random = ~ school | district, data = dat, method = method)), m)
    # CS with rho >= 0 is the nested model: sigma2 = (tau2 rho, tau2 (1 - rho))
    n <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, method = method)
    expect_equal(c(f$tau2 * f$rho, f$tau2 * (1 - f$rho)), n$sigma2, tolerance = st_tol_vc)
    expect_equal(f$fit.stats["ll", ], n$fit.stats["ll", ], tolerance = st_tol_ll)
  }
  # fixed rho; fixed tau2
  f <- rma.mv(yi, vi, random = ~ school | district, data = dat, rho = 0.5)
  m <- mv_ref(yi, vi, random = ~ school | district, data = dat, rho = 0.5)
  expect_struct_equal(f, m)
  f <- rma.mv(yi, vi, random = ~ school | district, data = dat, tau2 = 0.1)
  m <- mv_ref(yi, vi, random = ~ school | district, data = dat, tau2 = 0.1)
  expect_struct_equal(f, m)
  out <- capture.output(print(f))
  expect_true(any(grepl("^outer factor: district \\(nlvls = 11\\)", out)))
  expect_true(any(grepl("^inner factor: school   \\(nlvls = 11\\)", out)))
  expect_true(any(grepl("^tau\\^2 +0\\.1000 +0\\.3162 +yes", out)))
  expect_true(any(grepl("^rho +0\\.[0-9]{4} +no", out)))
})

# Longitudinal data: 25 studies with 2 to 5 time points (times 1..5 or
# irregular), a sigma2 term for the study and an AR / CAR / DIAG term.
st_time_data <- function(seed = 4, irregular = FALSE) {
  set.seed(seed)
  n <- 2 + (seq_len(25) %% 4)
  d <- data.frame(study = rep(seq_len(25), n))
  d$time <- sequence(n)
  if (irregular) d$time <- d$time + round(runif(nrow(d), 0, 0.8), 1)
  d$vi <- runif(nrow(d), 0.02, 0.08)
  u <- rnorm(25, 0, 0.2)
  e <- unlist(lapply(n, function(m) as.numeric(arima.sim(list(ar = 0.6), m, sd = 0.25))))
  d$yi <- 0.3 + u[d$study] + e + rnorm(nrow(d), 0, sqrt(d$vi))
  d$x <- rnorm(nrow(d))
  d
}

test_that("AR, CAR, ID and DIAG over time match metafor", {
  skip_if_not_installed("metafor")
  dat <- st_time_data()
  for (st in c("AR", "ID", "DIAG")) {
    f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ time | study), struct = st, data = dat)
    m <- mv_ref(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ time | study), struct = st, data = dat)
    expect_struct_equal(f, m)
    expect_struct_ll_at(quote(rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ time | study), struct = st,
                                     data = dat)), m)
    expect_output(print(f), "inner factor: time")
  }
  dat <- st_time_data(5, irregular = TRUE)
  f <- rma.mv(yi, vi, random = ~ time | study, struct = "CAR", data = dat)
  m <- mv_ref(yi, vi, random = ~ time | study, struct = "CAR", data = dat)
  expect_struct_equal(f, m)
  expect_struct_ll_at(quote(rma.mv(yi, vi, random = ~ time | study, struct = "CAR", data = dat)), m)
})

test_that("two inner | outer terms (G and H) match metafor", {
  skip_if_not_installed("metafor")
  # AR over time within studies (G) and CS over studies within regions (H)
  set.seed(7)
  n <- 3 + (seq_len(40) %% 3)
  dat <- data.frame(study = rep(seq_len(40), n))
  dat$time <- sequence(n)
  dat$region <- (dat$study - 1) %% 8 + 1
  dat$vi <- runif(nrow(dat), 0.02, 0.08)
  e <- unlist(lapply(n, function(m) as.numeric(arima.sim(list(ar = 0.5), m, sd = 0.25))))
  dat$yi <- 0.3 + rnorm(40, 0, 0.2)[dat$study] + rnorm(8, 0, 0.2)[dat$region] + e + rnorm(nrow(dat), 0, sqrt(dat$vi))
  f <- rma.mv(yi, vi, random = list(~ time | study, ~ study | region), struct = c("AR", "CS"), data = dat)
  m <- mv_ref(yi, vi, random = list(~ time | study, ~ study | region), struct = c("AR", "CS"), data = dat)
  expect_struct_equal(f, m)
  expect_struct_ll_at(quote(rma.mv(yi, vi, random = list(~ time | study, ~ study | region), struct = c("AR", "CS"),
                                   data = dat)), m)
  out <- capture.output(print(f))
  expect_true(any(grepl("^tau\\^2 ", out)))
  expect_true(any(grepl("^gamma\\^2 ", out)))
  expect_true(any(grepl("^phi ", out)))
  expect_true(any(grepl("^outer factor: region \\(nlvls = 8\\)", out)))
  # DIAG over time with a fixed variance
  f <- rma.mv(yi, vi, random = list(~ 1 | study, ~ time | study), struct = "DIAG", data = dat, tau2 = c(NA, 0.05, NA, NA, NA))
  m <- mv_ref(yi, vi, random = list(~ 1 | study, ~ time | study), struct = "DIAG", data = dat, tau2 = c(NA, 0.05, NA, NA, NA))
  expect_struct_equal(f, m)
  expect_true(any(grepl("^tau\\^2\\.2 +0\\.0500 +0\\.2236 +[0-9]+ +yes +2", capture.output(print(f)))))
})

test_that("bad input in inner | outer terms: named errors", {
  dat <- st_time_data()
  expect_error(rma.mv(yi, vi, random = ~ time | study, struct = "PHYBM", data = dat), "Unknown 'struct'")
  expect_error(rma.mv(yi, vi, random = ~ time | study, struct = "XX", data = dat), "Unknown 'struct'")
  dat$lab <- letters[dat$time]
  expect_error(rma.mv(yi, vi, random = ~ lab | study, struct = "CAR", data = dat), "CAR.*numeric")
  expect_error(rma.mv(yi, vi, random = ~ time | study, data = dat, rho = 2), "'rho'")
  expect_error(rma.mv(yi, vi, random = ~ time | study, data = dat, tau2 = c(1, 2)), "'tau2' has length 2")
  d2 <- dat
  d2$time[4] <- NA
  expect_error(rma.mv(yi, vi, random = ~ time | study, data = d2), "'time'.*row")
  expect_error(rma.mv(yi, vi, random = list(~ time | study, ~ x | study, ~ lab | study), data = dat), "at most two")
  # methods that would ignore tau2 / gamma2 stop instead (predict():
  # test-rma-mv-methods-more.R)
  f <- rma.mv(yi, vi, random = ~ time | study, struct = "AR", data = dat)
  expect_named(i2_levels(f), c("tau^2", "total"))  # (I^2 of inner | outer terms: test-rma-mv-confint-struct.R)
  expect_output(print(summary(f)), "rho")
})
