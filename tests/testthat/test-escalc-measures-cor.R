# PCOR, ZPCOR, SPCOR, ZSPCOR, R2, ZR2 against metafor

test_that("partial and semi-partial correlations match metafor on dat.aloe2013", {
  skip_if_not_installed("metafor")
  dat <- esc_metadat("dat.aloe2013")
  base <- list(ti = dat$tval, ni = dat$n, mi = dat$preds, r2i = dat$R2)
  for (m in c("PCOR", "ZPCOR", "SPCOR", "ZSPCOR"))
    for (vt in c("LS", "AV")) expect_esc_match(m, c(base, list(vtype = vt)))
  # correlations given directly, and p-values with the sign of the effect
  r <- metafor::escalc("PCOR", ti = tval, ni = n, mi = preds, data = dat)$yi
  expect_esc_match("PCOR", list(ri = as.vector(r), ni = dat$n, mi = dat$preds))
  p <- sign(dat$tval) * 2 * pt(abs(dat$tval), dat$n - dat$preds - 1, lower.tail = FALSE)
  for (m in c("PCOR", "SPCOR")) expect_esc_match(m, list(pi = p, ni = dat$n, mi = dat$preds, r2i = dat$R2))
  a <- escalc("ZPCOR", ti = tval, ni = n, mi = preds, data = dat)
  expect_identical(attr(a$yi, "measure"), "ZPCOR")
})

test_that("(semi-)partial correlations: edge cases and bad input as metafor", {
  skip_if_not_installed("metafor")
  d <- list(ri = c(NA, 0.3, -0.5, 0.9999999, -1, 1, 0, 0.2),
            mi = c(2, 3, 1, 4, 2, 5, 1, 2), ni = c(30, 50, 4, 100, 10, 20, 5, 40),
            r2i = c(0.4, 0.5, 0.6, 1, 0.7, 1, 0, 0.3))
  for (m in c("PCOR", "ZPCOR", "SPCOR", "ZSPCOR"))
    for (vt in c("LS", "AV", c("LS", "AV", "AV", "LS", "LS", "AV", "LS", "LS")))
      expect_esc_match(m, c(d, list(vtype = vt)))
  d$ti <- c(2.1, -1.5, 0.3, 4, -2, 1, 0.5, 3)
  for (m in c("PCOR", "ZPCOR", "SPCOR", "ZSPCOR")) expect_esc_match(m, d[c("ti", "mi", "ni", "r2i")])
  # subset; the df ni - mi - 1 = 0 (error), |r| > 1, R^2 outside [0, 1], ni, mi <= 0
  expect_esc_match("SPCOR", c(d, list(subset = c(2, 4, 5))))
  expect_esc_match("PCOR", list(ri = 0.2, mi = 3, ni = 4))
  expect_error(escalc("PCOR", ri = 0.2, mi = 3, ni = 4), "df")
  expect_error(escalc("PCOR", ri = c(0.2, 1.2), mi = 3, ni = 40), "ri.*rows: 2")
  expect_error(escalc("SPCOR", ri = 0.2, mi = 3, ni = 40, r2i = 1.1), "r2i")
  expect_error(escalc("PCOR", ri = 0.2, mi = 0, ni = 40), "mi")
  expect_error(escalc("SPCOR", ri = 0.2, mi = 3, ni = 40), "r2i")
  expect_error(escalc("PCOR", mi = 3, ni = 40), "ri")
  expect_error(escalc("PCOR", ri = 0.2, mi = 3, ni = 40, vtype = "UB"), "vtype")
  # ZPCOR with ni - mi - 2 = 0: infinite variance, recoded to NA with a warning
  expect_esc_match("ZPCOR", list(ri = c(0.2, 0.3), mi = c(3, 2), ni = c(5, 30)))
})

test_that("R2 and ZR2 match metafor (r2i, fi or pi; every vtype)", {
  skip_if_not_installed("metafor")
  dat <- esc_metadat("dat.aloe2013")
  for (vt in c("LS", "AV", "LS2", "AV2"))
    expect_esc_match("R2", list(r2i = dat$R2, mi = dat$preds, ni = dat$n, vtype = vt))
  expect_esc_match("ZR2", list(r2i = dat$R2, mi = dat$preds, ni = dat$n))
  d <- list(r2i = c(0, 0.2, 0.5, 0.99, 1, NA, NA), mi = c(1, 2, 3, 1, 2, 2, 4),
            ni = c(10, 20, 40, 5, 30, 30, 3e3), fi = c(NA, 3, 4, 2, 1, 5, NA),
            pi = c(0.5, 0.01, NA, 0.2, 0.3, 0.04, 1e-12))
  for (m in c("R2", "ZR2")) {
    for (vt in c("LS", "AV", "LS2", "AV2"))
      expect_esc_match(m, c(d[c("r2i", "mi", "ni")], list(vtype = vt)))
    expect_esc_match(m, d[c("fi", "mi", "ni")])
    expect_esc_match(m, d[c("pi", "mi", "ni")])
    expect_esc_match(m, d)
  }
  expect_error(escalc("ZR2", r2i = 0.3, mi = 2, ni = 30, vtype = "AV"), "vtype")
  expect_error(escalc("R2", r2i = 1.3, mi = 2, ni = 30), "r2i")
  expect_error(escalc("R2", r2i = 0.3, mi = 2, ni = 3), "df")
  expect_error(escalc("R2", mi = 2, ni = 30), "r2i")
})

test_that("R2F and ZR2F (variance from the noncentral F likelihood) match metafor", {
  skip_if_not_installed("metafor")
  dat <- esc_metadat("dat.aloe2013")
  for (m in c("R2F", "ZR2F")) {
    expect_esc_match(m, list(r2i = dat$R2, mi = dat$preds, ni = dat$n))
    # R^2 of 0 and 1, NA, from F and p
    expect_esc_match(m, list(r2i = c(0, 0.3, 1, NA), mi = c(1, 2, 2, 3), ni = c(10, 40, 30, 20)))
    expect_esc_match(m, list(fi = c(3, NA), pi = c(0.5, 0.01), mi = c(2, 3), ni = c(25, 60)))
  }
  expect_error(escalc("R2F", r2i = 0.3, mi = 2, ni = 30, vtype = "AV"), "vtype")
})
