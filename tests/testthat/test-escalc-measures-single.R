# MN, SMN, MNLN, SDLN, CVLN and IR, IRLN, IRS, IRFT against metafor

test_that("single-group means and SDs match metafor on dat.normand1999", {
  skip_if_not_installed("metafor")
  dat <- esc_metadat("dat.normand1999")
  args <- esc_cols(dat, c(mi = "m1i", sdi = "sd1i", ni = "n1i"))
  for (vt in c("LS", "HO")) expect_esc_match("MN", c(args, list(vtype = vt)))
  for (m in c("SMN", "MNLN", "SDLN", "CVLN")) {
    expect_esc_match(m, args)
    expect_esc_match(m, c(args, list(correct = FALSE)))
  }
  expect_esc_match("SMN", c(args, list(correct = "approx")))
  expect_error(escalc("SDLN", sdi = 2, ni = 10, correct = "approx"), "correct")
})

test_that("single-group measures: edge cases (n = 1, zero SD and mean, NA) as metafor", {
  skip_if_not_installed("metafor")
  s <- list(mi = c(10, 0, 5, NA, 3, 1e-3, 7), sdi = c(2, 1, 0, 1, NA, 1, 3),
            ni = c(10, 1, 2, 30, 5, 100, 8))
  for (m in c("MN", "SMN", "MNLN", "SDLN", "CVLN")) {
    for (vt in c("LS", "HO", "AV")) expect_esc_match(m, c(s, list(vtype = vt)))
    expect_esc_match(m, c(s, list(subset = -2)))
  }
  expect_esc_match("SDLN", s[c("sdi", "ni")])
  expect_error(escalc("MNLN", mi = c(1, -1), sdi = 1, ni = 10), "mi.*rows: 2")
  expect_error(escalc("MN", mi = 1, sdi = -1, ni = 10), "sdi")
  expect_error(escalc("MN", mi = 1, sdi = 1, ni = 0), "ni")
  expect_error(escalc("MN", mi = 1, ni = 10), "sdi")
})

test_that("incidence rates match metafor on dat.hart1999 and with zero counts", {
  skip_if_not_installed("metafor")
  dat <- esc_metadat("dat.hart1999")
  for (m in c("IR", "IRLN", "IRS", "IRFT")) {
    expect_esc_match(m, list(xi = dat$x1i, ti = dat$t1i))
    expect_esc_match(m, list(xi = dat$x2i, ti = dat$t2i))
  }
  r <- list(xi = c(0, 5, 10, NA, 1, 0), ti = c(100, 50, 1, 20, 0.5, 3))
  for (m in c("IR", "IRLN", "IRS", "IRFT"))
    for (to in c("only0", "all", "if0all", "none"))
      for (ay in c(TRUE, FALSE)) for (av in c(TRUE, FALSE))
        expect_esc_match(m, c(r, list(to = to, addyi = ay, addvi = av)))
  for (m in c("IRS", "IRFT")) expect_esc_match(m, c(r, list(add = 1/2)))
  expect_esc_match("IRLN", c(r, list(add = 1, to = "all", subset = c(1, 3))))
  a <- escalc("IR", xi = c(0, 3), ti = c(10, 20))
  expect_equal(as.vector(attr(a$yi, "ni")), c(10, 20))
  expect_error(escalc("IR", xi = c(1, -1), ti = 10), "xi.*rows: 2")
  expect_error(escalc("IR", xi = 1, ti = c(10, 0)), "ti.*rows: 2")
  expect_error(escalc("IR", xi = 1), "ti")
})

test_that("PRZ (probit of a proportion) matches metafor with zero cells and n = 1", {
  skip_if_not_installed("metafor")
  x <- c(0, 3, 10, 5, NA, 1)
  n <- c(10, 3, 20, 5, 4, 1)
  for (to in c("only0", "all", "if0all", "none")) expect_esc_match("PRZ", list(xi = x, ni = n, to = to))
  expect_esc_match("PRZ", list(xi = x, mi = n - x, add = 0))
  dat <- esc_metadat("dat.pritz1997")
  expect_esc_match("PRZ", list(xi = dat$xi, ni = dat$ni))
})

test_that("POMPMN matches metafor (LS, HO)", {
  skip_if_not_installed("metafor")
  s <- list(mi = c(10, 0, 5, NA, 3, 1e-3, 7), sdi = c(2, 1, 0, 1, NA, 1, 3), ni = c(10, 1, 2, 30, 5, 100, 8),
            mini = rep(0, 7), maxi = c(20, 20, 20, 20, 20, 20, 10))
  for (vt in c("LS", "HO", "AV")) expect_esc_match("POMPMN", c(s, list(vtype = vt)))
  dat <- esc_metadat("dat.normand1999")
  expect_esc_match("POMPMN", list(mi = dat$m1i, sdi = dat$sd1i, ni = dat$n1i, mini = rep(0, 9), maxi = rep(200, 9)))
  expect_error(escalc("POMPMN", mi = 3, sdi = 1, ni = 10, mini = 0), "maxi")
  expect_error(escalc("POMPMN", mi = 3, sdi = 1, ni = 10, mini = 5, maxi = 5), "maxi")
})
