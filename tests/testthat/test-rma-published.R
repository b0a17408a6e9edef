# Published values: rma() reproduces numbers printed in papers.
#
# Every value asserted here is the number printed in the cited source, at its
# printed precision: |ours - printed| <= half a unit in the last printed digit
# (tol_published = 5e-4 for values printed with 3 decimals).  The data are
# typed in from the papers (via the metadat package's copies), so the effect
# sizes are computed here with base R, not with escalc().

# Half a unit in the last printed digit.
tol_printed <- function(digits) 0.5 * 10^(-digits) + 1e-12

expect_printed <- function(object, printed, digits, what = "") {
  object <- as.numeric(object)
  stopifnot(length(object) == length(printed))
  dev <- max(abs(object - printed))
  expect_lte(dev, tol_printed(digits), label = sprintf("%s: max |%s - printed %s|", what,
                                                        paste(signif(object, 7), collapse = ","),
                                                        paste(printed, collapse = ",")))
}

test_that("the printed-precision tolerance matches tol_published", {
  expect_equal(tol_printed(3), tol_published, tolerance = 1e-6)
})

# ---- BCG vaccine trials: Colditz et al. (1994), as analysed in
# Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
# package. J Stat Softw 36(3):1-48, doi:10.18637/jss.v036.i03 (Sections 3-4,
# printed output of the REML random- and mixed-effects models).
bcg <- bcg_counts()[, c("tpos", "tneg", "cpos", "cneg", "ablat", "year")]
# log relative risk and its large-sample variance
bcg$yi <- with(bcg, log((tpos / (tpos + tneg)) / (cpos / (cpos + cneg))))
bcg$vi <- with(bcg, 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg))

test_that("BCG random-effects model (REML) reproduces Viechtbauer (2010)", {
  res <- rma(yi, vi, data = bcg)
  expect_printed(res$tau2, 0.3132, 4, "tau2")
  expect_printed(res$se.tau2, 0.1664, 4, "se.tau2")
  expect_printed(sqrt(res$tau2), 0.5597, 4, "tau")
  expect_printed(res$I2, 92.22, 2, "I2")
  expect_printed(res$H2, 12.86, 2, "H2")
  expect_printed(res$QE, 152.2330, 4, "QE")
  expect_lt(res$QEp, 1e-4)
  expect_printed(res$beta, -0.7145, 4, "estimate")
  expect_printed(res$se, 0.1798, 4, "se")
  expect_printed(res$zval, -3.9744, 4, "zval")
  expect_lt(res$pval, 1e-4)
  expect_printed(res$ci.lb, -1.0669, 4, "ci.lb")
  expect_printed(res$ci.ub, -0.3622, 4, "ci.ub")
})

test_that("BCG random-effects model with Knapp-Hartung reproduces the printed output", {
  # metafor's printed REML + test = "knha" output for the same data
  res <- rma(yi, vi, data = bcg, test = "knha")
  expect_printed(res$tau2, 0.3132, 4, "tau2")
  expect_printed(res$se, 0.1808, 4, "se")
  expect_printed(res$zval, -3.9522, 4, "tval")
  expect_equal(res$ddf, 12)
  expect_printed(res$pval, 0.0019, 4, "pval")
  expect_printed(res$ci.lb, -1.1084, 4, "ci.lb")
  expect_printed(res$ci.ub, -0.3206, 4, "ci.ub")
})

test_that("BCG mixed-effects model with ablat and year reproduces Viechtbauer (2010)", {
  # The printed output was produced with metafor's default stopping rule for
  # Fisher scoring (change in tau^2 < 1e-5), which stops ~3e-6 short of the
  # REML maximum here (0.1107873 vs 0.1107847); the intercept's se (29.0959)
  # is sensitive to that.  With the same threshold rma() takes the same
  # iterates and reproduces every printed digit.
  for (res in list(rma(yi, vi, mods = ~ ablat + year, data = bcg, control = list(threshold = 1e-5)),
                   rma(yi, vi, mods = cbind(bcg$ablat, bcg$year), data = bcg,
                       control = list(threshold = 1e-5)))) {
    expect_printed(res$tau2, 0.1108, 4, "tau2")
    expect_printed(res$se.tau2, 0.0845, 4, "se.tau2")
    expect_printed(res$I2, 71.98, 2, "I2")
    expect_printed(res$H2, 3.57, 2, "H2")
    expect_printed(res$R2, 64.63, 2, "R2")
    expect_printed(res$QE, 28.3251, 4, "QE")
    expect_printed(res$QEp, 0.0016, 4, "QEp")
    expect_equal(res$btt, 2:3)
    expect_printed(res$QM, 12.2043, 4, "QM")
    expect_printed(res$QMp, 0.0022, 4, "QMp")
    expect_printed(res$beta, c(-3.5455, -0.0280, 0.0019), 4, "estimates")
    expect_printed(res$se, c(29.0959, 0.0102, 0.0147), 4, "se")
    expect_printed(res$zval, c(-0.1219, -2.7371, 0.1299), 4, "zval")
    expect_printed(res$pval, c(0.9030, 0.0062, 0.8966), 4, "pval")
    expect_printed(res$ci.lb, c(-60.5724, -0.0481, -0.0269), 4, "ci.lb")
    expect_printed(res$ci.ub, c(53.4814, -0.0080, 0.0307), 4, "ci.ub")
  }
  # The default (tight) fit is the exact REML maximum: within metafor's
  # stopping error of the printed values, and the printed tau2 to 4 decimals.
  res <- rma(yi, vi, mods = ~ ablat + year, data = bcg)
  expect_printed(res$tau2, 0.1108, 4, "tau2 (tight)")
  expect_equal(as.numeric(res$se), c(29.0959, 0.0102, 0.0147), tolerance = 5e-3)
  expect_lt(abs(res$tau2 - 0.1107847), 1e-7)   # REML maximum (profile likelihood, optimize())
})

# ---- Viechtbauer W (2005). Bias and efficiency of meta-analytic variance
# estimators in the random-effects model. J Educ Behav Stat 30(3):261-293.
# Examples on pp. 271-272: tau^2, I^2 and H^2 for seven estimators.
test_that("tau2 / I2 / H2 for seven estimators reproduce Viechtbauer (2005), example 1", {
  d <- data.frame(
    yi = c(-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232),
    vi = c(0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040))
  methods <- c("HS", "HE", "DL", "ML", "REML", "EB", "SJ")
  fits <- lapply(methods, function(m) rma(yi, vi, data = d, method = m))
  # printed on p. 271
  expect_printed(sapply(fits, `[[`, "tau2"), c(0.228, 0.148, 0.277, 0.197, 0.223, 0.192, 0.199), 3, "tau2")
  expect_printed(sapply(fits, `[[`, "I2"), c(77.23, 68.80, 80.44, 74.51, 76.84, 74.05, 74.75), 2, "I2")
  expect_printed(sapply(fits, `[[`, "H2"), c(4.39, 3.21, 5.11, 3.92, 4.32, 3.85, 3.96), 2, "H2")
})

test_that("tau2 / I2 / H2 for seven estimators reproduce Viechtbauer (2005), example 2", {
  d <- data.frame(
    yi = c(0.100, -0.162, -0.090, -0.049, -0.046, -0.010, -0.431, -0.261, 0.134, 0.019, 0.175,
           0.056, 0.045, 0.103, 0.121, -0.482, 0.290, 0.342),
    vi = c(0.016, 0.015, 0.050, 0.050, 0.032, 0.052, 0.036, 0.024, 0.034, 0.033, 0.031, 0.034,
           0.039, 0.167, 0.134, 0.096, 0.016, 0.035))
  methods <- c("HS", "HE", "DL", "ML", "REML", "EB", "SJ")
  fits <- lapply(methods, function(m) rma(yi, vi, data = d, method = m))
  # printed on p. 272 (HE truncated at 0)
  expect_printed(sapply(fits, `[[`, "tau2"), c(0.010, 0.000, 0.013, 0.013, 0.016, 0.010, 0.025), 3, "tau2")
  expect_identical(fits[[2]]$tau2, 0)
  expect_printed(sapply(fits, `[[`, "I2"), c(22.93, 0.00, 27.53, 28.45, 32.02, 23.72, 42.67), 2, "I2")
  expect_printed(sapply(fits, `[[`, "H2"), c(1.30, 1.00, 1.38, 1.40, 1.47, 1.31, 1.74), 2, "H2")
})

# ---- DerSimonian R, Kacker R (2007). Random-effects model for meta-analysis
# of clinical trials: an update. Contemp Clin Trials 28:105-114, Tables 3-4
# (CLASP trials, log odds ratios).
test_that("tau, mu and se for eight estimators reproduce DerSimonian & Kacker (2007)", {
  n1i <- c(156, 303, 565, 1570, 103, 4659)
  n2i <- c(74, 303, 477, 1565, 105, 4650)
  ai <- c(5, 5, 12, 69, 9, 313)
  ci <- c(8, 17, 9, 94, 11, 352)
  yi <- log(ai / (n1i - ai)) - log(ci / (n2i - ci))
  vi <- 1 / ai + 1 / (n1i - ai) + 1 / ci + 1 / (n2i - ci)
  printed <- rbind(PM = c(0.3681, -0.3811, 0.2060), HE = c(0.4410, -0.4035, 0.2327),
                   DL = c(0.2323, -0.3240, 0.1540), EB = c(0.3681, -0.3811, 0.2060),
                   ML = c(0.0023, -0.1974, 0.0694), REML = c(0.1843, -0.2980, 0.1343),
                   HS = c(0.1330, -0.2666, 0.1125), SJ = c(0.4572, -0.4079, 0.2386))
  for (m in setdiff(rownames(printed), "ML")) {
    res <- rma(yi, vi, method = m)
    expect_printed(c(sqrt(res$tau2), res$beta, res$se), printed[m, ], 4, m)
  }
  # ML: the printed tau = 0.0023 (tau^2 = 5e-6) is an unconverged iterate of
  # a scoring algorithm creeping towards the boundary (metafor's default
  # gives the same 0.0023); the ML maximum is tau^2 = 0 exactly (the profile
  # log-likelihood decreases on [0, 1]: checked below).  mu and se at tau^2 = 0
  # then differ from the printed ones by at most 1e-4.
  res <- rma(yi, vi, method = "ML")
  expect_identical(res$tau2, 0)
  ll <- function(t2) {
    w <- 1 / (vi + t2)
    mu <- sum(w * yi) / sum(w)
    -0.5 * sum(log(vi + t2)) - 0.5 * sum(w * (yi - mu)^2)
  }
  expect_gt(ll(0), ll(5.2e-6))
  expect_lt(stats::optimize(ll, c(0, 1), maximum = TRUE, tol = 1e-14)$maximum, 1e-10)
  expect_lte(max(abs(c(res$beta, res$se) - printed["ML", 2:3])), 1e-4)
  # SJ started from the HE (Cochran's ANOVA) estimate
  he <- rma(yi, vi, method = "HE")
  sj2 <- rma(yi, vi, method = "SJ", control = list(tau2.init = he$tau2))
  expect_printed(c(sqrt(sj2$tau2), sj2$beta, sj2$se), c(0.4084, -0.3941, 0.2208), 4, "SJ2")
})

# ---- Raudenbush SW (2009). Analyzing effect sizes: random-effects models.
# In Cooper, Hedges, Valentine (eds), The Handbook of Research Synthesis and
# Meta-Analysis, 2nd ed., pp. 295-315: Tables 16.2 and 16.3 (teacher
# expectancy data of Raudenbush 1984).
raud <- data.frame(
  weeks = c(2, 21, 19, 0, 0, 3, 17, 24, 0, 1, 0, 0, 1, 2, 17, 5, 1, 2, 7),
  yi = c(0.03, 0.12, -0.14, 1.18, 0.26, -0.06, -0.02, -0.32, 0.27, 0.8, 0.54, 0.18, -0.02,
         0.23, -0.18, -0.06, 0.3, 0.07, -0.07),
  vi = c(0.0156, 0.0216, 0.0279, 0.1391, 0.1362, 0.0106, 0.0106, 0.0484, 0.0269, 0.063,
         0.0912, 0.0497, 0.0835, 0.0841, 0.0253, 0.0279, 0.0193, 0.0088, 0.0303))

test_that("equal-, random- and mixed-effects models reproduce Raudenbush (2009), Table 16.2", {
  fe <- rma(yi, vi, data = raud, method = "EE")
  expect_printed(fe$beta, 0.060, 3, "FE estimate")
  expect_printed(fe$QE, 35.83, 2, "FE QE")
  re <- rma(yi, vi, data = raud)
  expect_printed(re$tau2, 0.019, 3, "RE tau2")
  expect_printed(re$zval, 1.62, 2, "RE z")
  raud$weeks.c <- pmin(raud$weeks, 3)
  me <- rma(yi, vi, mods = ~ weeks.c, data = raud)
  expect_printed(me$tau2, 0, 3, "ME tau2")
  expect_printed(me$beta, c(0.407, -0.157), 3, "ME estimates")
  expect_printed(me$QE, 16.57, 2, "ME QE")
  expect_printed(me$zval, c(4.68, -4.39), 2, "ME z")
})

test_that("five estimators with z and Knapp-Hartung tests reproduce Raudenbush (2009), Table 16.3", {
  methods <- c("EE", "ML", "REML", "DL", "HE")
  # columns: tau2, mu, se, z (or t), ci.lb, ci.ub -- printed to 3 decimals
  printed_z <- rbind(c(0, 0.060, 0.036, 1.655, -0.011, 0.132),
                     c(0.013, 0.078, 0.047, 1.637, -0.015, 0.171),
                     c(0.019, 0.084, 0.052, 1.621, -0.018, 0.185),
                     c(0.026, 0.089, 0.056, 1.601, -0.020, 0.199),
                     c(0.080, 0.114, 0.079, 1.443, -0.041, 0.270))
  printed_knha <- rbind(c(0, 0.060, 0.051, 1.173, -0.048, 0.168),
                        c(0.013, 0.078, 0.059, 1.311, -0.047, 0.202),
                        c(0.019, 0.084, 0.062, 1.359, -0.046, 0.213),
                        c(0.026, 0.089, 0.064, 1.405, -0.044, 0.223),
                        c(0.080, 0.114, 0.071, 1.608, -0.035, 0.264))
  for (i in seq_along(methods)) {
    for (test in c("z", "knha")) {
      res <- suppressWarnings(rma(yi, vi, data = raud, method = methods[i], test = test))
      printed <- if (test == "z") printed_z[i, ] else printed_knha[i, ]
      expect_printed(c(res$tau2, res$beta, res$se, res$zval, res$ci.lb, res$ci.ub), printed, 3,
                     paste(methods[i], test))
    }
  }
})

# ---- Normand S-LT (1999). Meta-analysis: formulating, evaluating, combining,
# and reporting. Stat Med 18:321-359, Table IX (p. 352): mean differences of
# length of hospital stay (a large-scale outcome: tau^2 in the hundreds).
test_that("DL and REML on a large scale reproduce Normand (1999), Table IX", {
  n1i <- c(155, 31, 75, 18, 8, 57, 34, 110, 60)
  m1i <- c(55, 27, 64, 66, 14, 19, 52, 21, 30)
  sd1i <- c(47, 7, 17, 20, 8, 7, 45, 16, 27)
  n2i <- c(156, 32, 71, 18, 13, 52, 33, 183, 52)
  m2i <- c(75, 29, 119, 137, 18, 18, 41, 31, 23)
  sd2i <- c(64, 4, 29, 48, 11, 4, 34, 27, 20)
  sdp <- sqrt(((n1i - 1) * sd1i^2 + (n2i - 1) * sd2i^2) / (n1i + n2i - 2))
  yi <- m1i - m2i
  vi <- sdp^2 * (1 / n1i + 1 / n2i)
  fe <- rma(yi, vi, method = "EE")
  expect_printed(c(fe$beta, fe$ci.lb, fe$ci.ub), c(-3.49, -5.03, -1.96), 2, "FE")
  dl <- rma(yi, vi, method = "DL")
  expect_printed(c(dl$beta, dl$ci.lb, dl$ci.ub, dl$tau2), c(-14.10, -24.45, -3.75, 218.72), 2, "DL")
  reml <- rma(yi, vi, method = "REML")
  expect_printed(c(reml$beta, reml$ci.lb, reml$ci.ub, reml$tau2), c(-15.12, -32.67, 2.43, 685.20), 2, "REML")
})
