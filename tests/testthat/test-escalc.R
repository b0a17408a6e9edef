# Tests for escalc().  Reference values come from metafor::escalc() (always
# called fully qualified) or from formulas evaluated independently here.

tol <- 1e-10

# metafor's example data sets live in the 'metadat' package (lazy data)
getdat <- function(name) {
  skip_if_not_installed("metadat")
  e <- new.env()
  utils::data(list = name, package = "metadat", envir = e)
  e[[name]]
}

# compare yi/vi (values and NA pattern) of two escalc results
expect_es <- function(a, b, tolerance = tol) {
  expect_identical(is.na(as.vector(a$yi)), is.na(as.vector(b$yi)))
  expect_identical(is.na(as.vector(a$vi)), is.na(as.vector(b$vi)))
  expect_equal(as.vector(a$yi), as.vector(b$yi), tolerance = tolerance)
  expect_equal(as.vector(a$vi), as.vector(b$vi), tolerance = tolerance)
}

# exact bias-correction factor via the Gamma recurrence
# Gamma(x + 1) = x Gamma(x), started from Gamma(1) = 1, Gamma(1/2) = sqrt(pi);
# no lgamma() and no asymptotic series involved.  m must be an integer >= 2.
cm_recurrence <- function(m) {
  vapply(m, function(mm) {
    if (mm %% 2 == 0) {
      k <- mm / 2                       # Gamma(k) / Gamma(k - 1/2)
      j <- seq_len(k - 1)
      lr <- -0.5 * log(base::pi) - sum(log1p(-1 / (2 * j)))
    } else {
      k <- (mm - 1) / 2                 # Gamma(k + 1/2) / Gamma(k)
      j <- seq_len(k - 1)
      lr <- log(sqrt(base::pi) / 2) + sum(log1p(1 / (2 * j)))
    }
    exp(lr - 0.5 * log(mm / 2))
  }, numeric(1))
}
cm_gamma <- function(m) gamma(m / 2) / (sqrt(m / 2) * gamma((m - 1) / 2))

prepost <- data.frame(
  m1i = c(0.5, 1.2, -0.3, 2.0, 0.8, NA), m2i = c(0.1, 0.4, 0.2, 0.9, 0.0, 1),
  sd1i = c(1, 1.5, 0.8, 2.2, 1.1, 1), sd2i = c(1.1, 1.3, 0.9, 2, 1.3, 1),
  ni = c(20, 35, 8, 60, 12, 15), ri = c(0.5, 0.7, 0.2, 0.85, 0.3, 0.5))

# ---------------------------------------------------------------------------
test_that("2x2 measures match metafor on dat.bcg for all vtypes", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  for (m in c("OR", "RR", "RD", "PETO", "AS")) {
    vts <- switch(m, RD = c("LS", "UB", "AV", "H0"), OR = , RR = c("LS", "AV", "H0"), "LS")
    for (vt in vts) {
      a <- escalc(m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, vtype = vt)
      b <- metafor::escalc(m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, vtype = vt)
      expect_es(a, b)
      expect_identical(attr(a$yi, "measure"), m)
      expect_equal(as.vector(attr(a$yi, "ni")), as.vector(attr(b$yi, "ni")))
    }
  }
  # ai, n1i, ci, n2i form
  a <- escalc("OR", ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg, data = bcg)
  b <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  expect_es(a, b)
})

test_that("log odds ratio agrees with the textbook formula", {
  a <- escalc("OR", ai = 4, bi = 119, ci = 11, di = 128)
  expect_equal(as.vector(a$yi), log(4 * 128 / (119 * 11)), tolerance = tol)
  expect_equal(a$vi, 1 / 4 + 1 / 119 + 1 / 11 + 1 / 128, tolerance = tol)
  r <- escalc("RD", ai = 4, bi = 6, ci = 3, di = 17, vtype = "UB")
  expect_equal(r$vi, 0.4 * 0.6 / 9 + 0.15 * 0.85 / 19, tolerance = tol)
})

test_that("zero-cell handling (add, to, drop00) matches metafor", {
  skip_if_not_installed("metafor")
  nw <- getdat("dat.nielweise2007")
  nw <- rbind(nw, nw[1, ])
  nw$ai[nrow(nw)] <- 0; nw$ci[nrow(nw)] <- 0          # a double-zero study
  for (m in c("OR", "RR", "RD")) {
    for (to in c("only0", "all", "if0all", "none")) {
      for (add in c(1 / 2, 1)) {
        for (d00 in c(FALSE, TRUE)) {
          a <- suppressWarnings(escalc(m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = nw,
                                       add = add, to = to, drop00 = d00))
          b <- suppressWarnings(metafor::escalc(m, ai = ai, n1i = n1i, ci = ci, n2i = n2i,
                                                data = nw, add = add, to = to, drop00 = d00))
          expect_es(a, b)
        }
      }
    }
  }
  # only0: cell counts of the first study are adjusted by 1/2
  a <- escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = nw)
  expect_equal(as.vector(a$yi[1]), log((0.5 / 116.5) / (3.5 / 114.5)), tolerance = tol)
  # drop00 gives NA for the double-zero study
  d <- escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = nw, drop00 = TRUE)
  dz <- (nw$ai == 0 & nw$ci == 0) | (nw$n1i - nw$ai == 0 & nw$n2i - nw$ci == 0)
  expect_true(dz[nrow(nw)])
  expect_identical(is.na(as.vector(d$yi)), dz)
  expect_identical(is.na(d$vi), dz)
  # to = "none" with a zero cell: NA with a warning
  expect_warning(z <- escalc("OR", ai = 0, bi = 10, ci = 2, di = 8, to = "none"), "Inf")
  expect_true(is.na(z$yi))
})

test_that("MD, SMD, SMDH, ROM match metafor on dat.normand1999 and dat.curtis1998", {
  skip_if_not_installed("metafor")
  vts <- list(MD = c("LS", "UB", "HO"), SMD = c("LS", "LS2", "LS3", "UB", "AV", "H0"),
              SMDH = c("LS", "LS2", "LS3"), ROM = c("LS", "LS2", "HO", "AV", "AVHO"))
  rom_has_correct <- "correct" %in% names(formals(metafor::escalc))
  for (dname in c("dat.normand1999", "dat.curtis1998")) {
    dd <- getdat(dname)
    for (m in names(vts)) for (vt in vts[[m]]) {
      # (both packages warn about |SMD| > 2 in these data: metafor's cutoff check)
      a <- suppressWarnings(escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                                   n2i = n2i, data = dd, vtype = vt))
      b <- suppressWarnings(metafor::escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i,
                                            sd2i = sd2i, n2i = n2i, data = dd, vtype = vt))
      if (m == "ROM" && !rom_has_correct) {
        # old metafor (< 4.8): ROM without bias correction
        a <- escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                    n2i = n2i, data = dd, vtype = vt, correct = FALSE)
      }
      expect_es(a, b)
    }
  }
})

test_that("ROM with correct = FALSE is the plain log ratio of means", {
  dd <- data.frame(m1i = c(6.8, 2.6), m2i = c(3.9, 2.25), sd1i = c(1.7, 0.66),
                   sd2i = c(1.1, 0.33), n1i = c(3, 5), n2i = c(5, 5))
  a <- escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dd, correct = FALSE)
  expect_equal(as.vector(a$yi), log(dd$m1i / dd$m2i), tolerance = tol)
  expect_equal(a$vi, dd$sd1i^2 / (dd$n1i * dd$m1i^2) + dd$sd2i^2 / (dd$n2i * dd$m2i^2),
               tolerance = tol)
  b <- escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = dd)
  expect_equal(as.vector(b$yi), log(dd$m1i / dd$m2i) +
                 (dd$sd1i^2 / (dd$n1i * dd$m1i^2) - dd$sd2i^2 / (dd$n2i * dd$m2i^2)) / 2,
               tolerance = tol)
})

test_that("SMD equals Hedges' g computed from first principles", {
  dd <- data.frame(m1i = c(10, 3), m2i = c(8, 4), sd1i = c(2, 1.5), sd2i = c(3, 1),
                   n1i = c(12, 40), n2i = c(15, 33))
  a <- escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
              n2i = n2i, data = dd)
  m <- dd$n1i + dd$n2i - 2
  sp <- sqrt(((dd$n1i - 1) * dd$sd1i^2 + (dd$n2i - 1) * dd$sd2i^2) / m)
  g <- cm_gamma(m) * (dd$m1i - dd$m2i) / sp
  expect_equal(as.vector(a$yi), g, tolerance = tol)
  expect_equal(a$vi, 1 / dd$n1i + 1 / dd$n2i + g^2 / (2 * (dd$n1i + dd$n2i)), tolerance = tol)
  u <- escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
              n2i = n2i, data = dd, vtype = "UB")
  expect_equal(u$vi, 1 / dd$n1i + 1 / dd$n2i + (1 - (m - 2) / (m * cm_gamma(m)^2)) * g^2,
               tolerance = tol)
  # correct = FALSE gives Cohen's d
  d0 <- escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
               n2i = n2i, data = dd, correct = FALSE)
  expect_equal(as.vector(d0$yi), (dd$m1i - dd$m2i) / sp, tolerance = tol)
})

test_that("SMD bias correction is exact for large N (no gamma overflow)", {
  # gamma() overflows for m/2 > 171, i.e. N >= 344
  expect_false(is.finite(gamma(344 / 2 + 1)))
  ms <- c(2, 3, 10, 57, 98, 99, 100, 101, 250, 342, 343, 344, 345, 1000, 12345,
          100001, 1e6)
  for (mm in ms) {
    n1 <- floor((mm + 2) / 2)
    n2 <- mm + 2 - n1
    a <- escalc("SMD", m1i = 0.5, m2i = 0, sd1i = 1, sd2i = 1, n1i = n1, n2i = n2)
    cref <- cm_recurrence(mm)
    expect_equal(as.vector(a$yi) / 0.5, cref, tolerance = 1e-12)
    expect_true(is.finite(a$yi))
    expect_equal(a$vi, 1 / n1 + 1 / n2 + (0.5 * cref)^2 / (2 * (n1 + n2)), tolerance = 1e-12)
    # the UB variance is sensitive to c(m); compare it too
    u <- escalc("SMD", m1i = 0.5, m2i = 0, sd1i = 1, sd2i = 1, n1i = n1, n2i = n2,
                vtype = "UB")
    expect_equal(u$vi, 1 / n1 + 1 / n2 + (1 - (mm - 2) / (mm * cref^2)) * (0.5 * cref)^2,
                 tolerance = 1e-8)
  }
  # where gamma() still works, the recurrence reference agrees with it
  expect_equal(cm_recurrence(c(10, 57, 300)), cm_gamma(c(10, 57, 300)), tolerance = 1e-13)
  # c(m) -> 1 - 3/(4m) asymptotically (Hedges 1981)
  a <- escalc("SMD", m1i = 1, m2i = 0, sd1i = 1, sd2i = 1, n1i = 5e6, n2i = 5e6)
  expect_equal(as.vector(a$yi), 1 - 3 / (4 * (1e7 - 2)), tolerance = 1e-12)
  # m <= 1: correction undefined
  expect_true(is.na(escalc("SMD", m1i = 1, m2i = 0, sd1i = 1, sd2i = 1, n1i = 1, n2i = 1)$yi))
})

test_that("SMD from t statistics and p-values matches metafor and the formula", {
  skip_if_not_installed("metafor")
  nd <- getdat("dat.normand1999")
  m <- nd$n1i + nd$n2i - 2
  sp <- sqrt(((nd$n1i - 1) * nd$sd1i^2 + (nd$n2i - 1) * nd$sd2i^2) / m)
  nd$tval <- (nd$m1i - nd$m2i) / (sp * sqrt(1 / nd$n1i + 1 / nd$n2i))
  nd$pval <- 2 * pt(abs(nd$tval), df = m, lower.tail = FALSE) * sign(nd$tval)
  # (both packages warn about |SMD| > 2 in these data: metafor's cutoff check)
  raw <- suppressWarnings(escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                                 n2i = n2i, data = nd))
  a <- suppressWarnings(escalc("SMD", ti = tval, n1i = n1i, n2i = n2i, data = nd))
  b <- suppressWarnings(metafor::escalc("SMD", ti = tval, n1i = n1i, n2i = n2i, data = nd))
  expect_es(a, b)
  expect_es(a, raw)   # t path reproduces the raw-data path
  expect_equal(as.vector(a$yi), cm_recurrence(m) * nd$tval * sqrt(1 / nd$n1i + 1 / nd$n2i),
               tolerance = tol)
  # p-values: sign of p gives the direction
  p <- suppressWarnings(escalc("SMD", pi = pval, n1i = n1i, n2i = n2i, data = nd))
  bp <- suppressWarnings(metafor::escalc("SMD", pi = pval, n1i = n1i, n2i = n2i, data = nd))
  expect_es(p, bp)
  expect_equal(as.vector(p$yi), as.vector(raw$yi), tolerance = 1e-8)
  expect_true(all(sign(p$yi) == sign(nd$tval)))
  # positive p-values give positive effects
  pp <- suppressWarnings(escalc("SMD", pi = abs(pval), n1i = n1i, n2i = n2i, data = nd))
  expect_true(all(pp$yi > 0))
  # ti takes precedence, missing ti are filled in from pi
  nd$t2 <- nd$tval; nd$t2[c(2, 5)] <- NA
  mix <- suppressWarnings(escalc("SMD", ti = t2, pi = -abs(pval), n1i = n1i, n2i = n2i, data = nd))
  bmix <- suppressWarnings(metafor::escalc("SMD", ti = t2, pi = -abs(pval), n1i = n1i,
                                           n2i = n2i, data = nd))
  expect_es(mix, bmix)
  expect_equal(as.vector(mix$yi[c(2, 5)]), -abs(as.vector(raw$yi[c(2, 5)])), tolerance = 1e-8)
  # Cohen's d (di) and point-biserial r (ri) inputs
  nd$dval <- (nd$m1i - nd$m2i) / sp
  dd <- suppressWarnings(escalc("SMD", di = dval, n1i = n1i, n2i = n2i, data = nd))
  expect_es(dd, raw)
  nd$rpb <- c(0.1, -0.3, 0.25, 0.5, -0.05, 0.2, 0.15, 0.4, 0.05)
  r <- escalc("SMD", ri = rpb, n1i = n1i, n2i = n2i, data = nd)
  br <- suppressWarnings(metafor::escalc("SMD", ri = rpb, n1i = n1i, n2i = n2i, data = nd))
  expect_es(r, br)
})

test_that("pre-post measures MC, SMCC, SMCR match metafor", {
  skip_if_not_installed("metafor")
  vts <- list(MC = "LS", SMCC = c("LS", "LS2", "UB", "H0"), SMCR = c("LS", "LS2"))
  # metafor needs 'gsl' for these (hypergeometric function)
  if (nzchar(system.file(package = "gsl"))) vts$SMCR <- c(vts$SMCR, "UB", "H0")
  for (m in names(vts)) for (vt in vts[[m]]) {
    a <- escalc(m, m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni, ri = ri,
                data = prepost, vtype = vt)
    b <- metafor::escalc(m, m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni,
                         ri = ri, data = prepost, vtype = vt)
    expect_es(a, b)
  }
  # SMCR needs no sd2i
  a <- escalc("SMCR", m1i = m1i, m2i = m2i, sd1i = sd1i, ni = ni, ri = ri, data = prepost)
  b <- metafor::escalc("SMCR", m1i = m1i, m2i = m2i, sd1i = sd1i, ni = ni, ri = ri, data = prepost)
  expect_es(a, b)
  # SMCC from paired t statistics
  prepost$tval <- with(prepost, (m1i - m2i) / sqrt(sd1i^2 + sd2i^2 - 2 * ri * sd1i * sd2i) *
                         sqrt(ni))
  a <- escalc("SMCC", ti = tval, ni = ni, data = prepost)
  b <- metafor::escalc("SMCC", ti = tval, ni = ni, data = prepost)
  expect_es(a, b)
  raw <- escalc("SMCC", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni, ri = ri,
                data = prepost)
  expect_es(a, raw)
  # formula check for SMCR (Becker 1988)
  s <- escalc("SMCR", m1i = m1i, m2i = m2i, sd1i = sd1i, ni = ni, ri = ri, data = prepost)
  g <- cm_recurrence(prepost$ni - 1) * (prepost$m1i - prepost$m2i) / prepost$sd1i
  expect_equal(as.vector(s$yi), g, tolerance = tol)
  expect_equal(s$vi, 2 * (1 - prepost$ri) / prepost$ni + g^2 / (2 * prepost$ni), tolerance = tol)
})

test_that("hypergeometric helper agrees with closed forms (used by SMCR/UCOR UB)", {
  x <- c(0.1, 0.5, 0.9, 0.95, 0.99, 0.9975, 0.99999)
  # 2F1(1/2, 1/2; 3/2; x) = asin(sqrt(x)) / sqrt(x)
  expect_equal(.esc_hyp2f1(0.5, 0.5, 1.5, x), asin(sqrt(x)) / sqrt(x), tolerance = 1e-11)
  # 2F1(1, 1; 2; x) = -log(1 - x) / x is not covered (cc > a + b needed); use
  # 2F1(1, 1; 3; x) = 2 * ((1 - x) * log(1 - x) + x) / x^2
  expect_equal(.esc_hyp2f1(1, 1, 3, x), 2 * ((1 - x) * log1p(-x) + x) / x^2, tolerance = 1e-10)
  # Gauss's theorem at x = 1
  for (cc in c(1.5, 3, 5, 10, 30)) {
    expect_equal(.esc_hyp2f1(0.5, 0.5, cc, 1),
                 exp(lgamma(cc) + lgamma(cc - 1) - 2 * lgamma(cc - 0.5)), tolerance = 1e-11)
  }
})

test_that("COR, UCOR and ZCOR match metafor on dat.molloy2014", {
  skip_if_not_installed("metafor")
  mo <- getdat("dat.molloy2014")
  for (vt in c("LS", "AV", "H0", "H0a", "H0b")) {
    expect_es(escalc("COR", ri = ri, ni = ni, data = mo, vtype = vt),
              metafor::escalc("COR", ri = ri, ni = ni, data = mo, vtype = vt))
  }
  expect_es(escalc("ZCOR", ri = ri, ni = ni, data = mo),
            metafor::escalc("ZCOR", ri = ri, ni = ni, data = mo))
  z <- escalc("ZCOR", ri = ri, ni = ni, data = mo)
  expect_equal(as.vector(z$yi), 0.5 * log((1 + mo$ri) / (1 - mo$ri)), tolerance = tol)
  expect_equal(z$vi, 1 / (mo$ni - 3), tolerance = tol)
  skip_if_not_installed("gsl")
  for (vt in c("LS", "UB", "AV")) {
    expect_es(escalc("UCOR", ri = ri, ni = ni, data = mo, vtype = vt),
              metafor::escalc("UCOR", ri = ri, ni = ni, data = mo, vtype = vt))
  }
})

test_that("correlations from t statistics and p-values", {
  skip_if_not_installed("metafor")
  d <- data.frame(tv = c(2.1, -0.5, 3.3), pv = c(0.04, -0.6, 0.002), ni = c(30, 50, 80))
  expect_es(escalc("COR", ti = tv, ni = ni, data = d),
            metafor::escalc("COR", ti = tv, ni = ni, data = d))
  expect_es(escalc("ZCOR", pi = pv, ni = ni, data = d),
            metafor::escalc("ZCOR", pi = pv, ni = ni, data = d))
  a <- escalc("COR", ti = tv, ni = ni, data = d)
  expect_equal(as.vector(a$yi), d$tv / sqrt(d$tv^2 + d$ni - 2), tolerance = tol)
  expect_warning(w <- escalc("ZCOR", ri = c(0.2, 0.3), ni = c(3, 20)), "ni <= 3")
  expect_true(is.na(w$vi[1]))
})

test_that("proportions PR, PLN, PLO, PAS, PFT match metafor on dat.pritz1997", {
  skip_if_not_installed("metafor")
  pz <- getdat("dat.pritz1997")
  pz0 <- rbind(pz, pz[1:2, ])
  pz0$xi[nrow(pz0) - 1] <- 0                   # zero events
  pz0$xi[nrow(pz0)] <- pz0$ni[nrow(pz0)]       # all events
  vts <- list(PR = c("LS", "UB", "AV"), PLN = c("LS", "AV"), PLO = c("LS", "AV"),
              PAS = "LS", PFT = "LS")
  for (dd in list(pz, pz0)) for (m in names(vts)) for (vt in vts[[m]]) for (to in c("only0", "all", "if0all")) {
    a <- escalc(m, xi = xi, ni = ni, data = dd, vtype = vt, to = to)
    b <- metafor::escalc(m, xi = xi, ni = ni, data = dd, vtype = vt, to = to)
    expect_es(a, b)
  }
  # xi, mi form
  pz1 <- pz[pz$xi > 0 & pz$xi < pz$ni, ]
  a <- escalc("PLO", xi = xi, mi = ni - xi, data = pz1)
  expect_equal(as.vector(a$yi), log(pz1$xi / (pz1$ni - pz1$xi)), tolerance = tol)
  expect_equal(a$vi, 1 / pz1$xi + 1 / (pz1$ni - pz1$xi), tolerance = tol)
  # a study with all events gets 1/2 added to both cells (to = "only0")
  a <- escalc("PLO", xi = 10, ni = 10)
  expect_equal(as.vector(a$yi), log(10.5 / 0.5), tolerance = tol)
  expect_equal(a$vi, 1 / 10.5 + 1 / 0.5, tolerance = tol)
})

test_that("GEN measure passes yi / vi (or sei) through", {
  a <- escalc(yi = c(0.1, 0.5), sei = c(0.2, 0.3))
  expect_equal(as.vector(a$yi), c(0.1, 0.5))
  expect_equal(a$vi, c(0.04, 0.09), tolerance = tol)
  expect_identical(attr(a$yi, "measure"), "GEN")
  expect_error(escalc(yi = 1:2), "'vi' or 'sei'")
})

# ---------------------------------------------------------------------------
test_that("output structure, append, replace, var.names, add.measure", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  b <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  expect_s3_class(a, c("mf_escalc", "data.frame"), exact = TRUE)
  expect_identical(names(a), names(b))
  expect_identical(attr(a, "yi.names"), "yi")
  expect_identical(attr(a, "vi.names"), "vi")
  # not appended
  na <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, append = FALSE)
  expect_identical(names(na), c("yi", "vi"))
  expect_identical(nrow(na), nrow(bcg))
  # vectors without data
  v <- escalc("RR", ai = bcg$tpos, bi = bcg$tneg, ci = bcg$cpos, di = bcg$cneg)
  expect_identical(names(v), c("yi", "vi"))
  expect_es(v, b)
  # var.names and add.measure
  vn <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
               var.names = c("lrr", "vlrr"), add.measure = TRUE)
  bvn <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                         var.names = c("lrr", "vlrr"), add.measure = TRUE)
  expect_identical(names(vn), names(bvn))
  expect_identical(vn$measure, bvn$measure)
  expect_equal(as.vector(vn$lrr), as.vector(bvn$lrr), tolerance = tol)
  # replace = TRUE overwrites, replace = FALSE only fills NAs
  a2 <- a
  a2$yi[c(2, 4)] <- NA
  a2$vi[4] <- NA
  o <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = a2, replace = FALSE)
  bo <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = a2,
                        replace = FALSE)
  or <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  expect_es(o, bo)
  expect_equal(as.vector(o$yi[-c(2, 4)]), as.vector(b$yi[-c(2, 4)]), tolerance = tol)
  expect_equal(as.vector(o$yi[c(2, 4)]), as.vector(or$yi[c(2, 4)]), tolerance = tol)
  expect_equal(o$vi[-4], b$vi[-4], tolerance = tol)
  expect_equal(o$vi[4], or$vi[4], tolerance = tol)
  r <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = a2, replace = TRUE)
  expect_es(r, or)
  expect_identical(attr(r$yi, "measure"), "OR")
  # the caller's data are not modified
  bcg0 <- getdat("dat.bcg")
  expect_identical(bcg, bcg0)
})

test_that("subset, include and slab behave like metafor", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
              subset = alloc == "random", slab = paste(author, year))
  b <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                       subset = alloc == "random", slab = paste(author, year))
  expect_identical(nrow(a), sum(bcg$alloc == "random"))
  expect_es(a, b)
  expect_identical(attr(a$yi, "slab"), attr(b$yi, "slab"))
  expect_identical(a$trial, b$trial)
  # numeric subset, duplicated labels made unique
  a <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
              subset = c(1, 3, 5), slab = rep(c("x", "y"), length.out = 13))
  b <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                       subset = c(1, 3, 5), slab = rep(c("x", "y"), length.out = 13))
  expect_identical(attr(a$yi, "slab"), attr(b$yi, "slab"))
  expect_identical(attr(a$yi, "slab"), c("x.1", "x.2", "x.3"))
  expect_es(a, b)
  # include: excluded rows get NA
  a <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, include = year > 1960)
  b <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                       include = year > 1960)
  expect_es(a, b)
  expect_true(all(is.na(a$yi[bcg$year <= 1960])))
  # `[` keeps the class and subsets the slab
  s <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = author)
  s2 <- s[2:4, ]
  expect_s3_class(s2, "mf_escalc")
  expect_identical(attr(s2$yi, "slab"), c("Ferguson & Simes", "Rosenthal et al.1",
                                           "Hart & Sutherland"))
  expect_identical(attr(s[-1, ]$yi, "slab"), attr(s$yi, "slab")[-1])
  expect_identical(attr(s[bcg$year > 1970, ]$yi, "ni"), attr(s$yi, "ni")[bcg$year > 1970])
  expect_identical(attr(s2$yi, "measure"), "OR")
  expect_equal(as.vector(s2$yi), as.vector(s$yi[2:4]))
  expect_output(print(s), "yi")
  expect_output(print(s), "-0.9387")
  sm <- summary(s)
  expect_equal(sm$ci.lb, as.vector(s$yi) - qnorm(0.975) * sqrt(s$vi), tolerance = tol)
})

test_that("vtype may be given per study", {
  skip_if_not_installed("metafor")
  nd <- getdat("dat.normand1999")
  vt <- rep(c("LS", "UB", "AV"), length.out = nrow(nd))
  a <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
              n2i = n2i, data = nd, vtype = vt)
  b <- suppressWarnings(metafor::escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i,
                                        sd2i = sd2i, n2i = n2i, data = nd, vtype = vt))
  expect_es(a, b)
})

test_that("tibbles, data.tables and labelled columns are accepted", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  ref <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  if (nzchar(system.file(package = "tibble"))) {
    tb <- tibble::as_tibble(bcg)
    a <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = tb)
    expect_s3_class(a, "mf_escalc")
    expect_es(a, ref)
    expect_s3_class(tb, "tbl_df")
    expect_false("yi" %in% names(tb))
  }
  if (nzchar(system.file(package = "data.table"))) {
    dt <- data.table::as.data.table(bcg)
    a <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dt)
    expect_es(a, ref)
    expect_false("yi" %in% names(dt))    # no by-reference modification
  }
  # an SPSS-style labelled column (same structure as haven::labelled())
  lb <- bcg
  lb$tpos <- structure(as.double(lb$tpos), label = "treated, positive",
                       labels = c(none = 0), class = c("haven_labelled", "vctrs_vctr", "double"))
  a <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = lb)
  expect_es(a, ref)
  # attributes on plain vectors are stripped as well
  x <- structure(bcg$tpos, label = "tpos")
  a <- escalc("OR", ai = x, bi = bcg$tneg, ci = bcg$cpos, di = bcg$cneg)
  expect_null(attributes(as.vector(a$yi)))
  expect_es(a, ref)
})

test_that("NA inputs give NA outcomes, not errors", {
  a <- escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = ni, n2i = ni,
              data = prepost)
  expect_true(is.na(a$yi[6]) && is.na(a$vi[6]))
  expect_false(anyNA(a$yi[1:5]))
  b <- escalc("OR", ai = c(1, NA, 3), bi = c(5, 5, 5), ci = c(2, 2, 2), di = c(4, 4, NA))
  expect_identical(is.na(b$yi), c(FALSE, TRUE, TRUE))
})

test_that("invalid input gives informative errors", {
  d <- data.frame(m1i = 1:4, m2i = 0, sd1i = c(1, -1, 1, -2), sd2i = 1, n1i = 10, n2i = 10)
  expect_error(escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                      n2i = n2i, data = d), "sd1i must be non-negative; offending rows: 2, 4")
  d$sd1i <- 1; d$sd2i[3] <- -1
  expect_error(escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                      n2i = n2i, data = d), "sd2i.*rows: 3")
  # subset excludes the offending row: no error; row numbers refer to the data
  expect_silent(escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                       n2i = n2i, data = d, subset = -3))
  d$sd2i[3] <- 1; d$n1i[4] <- 0
  expect_error(escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                      n2i = n2i, data = d), "n1i must be positive; offending rows: 4")
  expect_error(escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, n1i = n1i, n2i = n2i,
                      data = d), "sd2i")
  expect_error(escalc("XYZ", ai = 1, bi = 1, ci = 1, di = 1), "unknown measure 'XYZ'.*SMD")
  expect_error(escalc("OR", ai = -1, bi = 1, ci = 1, di = 1), "ai must be non-negative")
  expect_error(escalc("OR", ai = c(1, 5), n1i = c(3, 4), ci = c(1, 1), n2i = c(3, 3)),
               "ai must not exceed n1i; offending rows: 2")
  expect_error(escalc("OR", ai = 1, bi = 2, n1i = 4, ci = 1, di = 1), "n1i must equal ai \\+ bi")
  expect_error(escalc("OR", ai = 1:3, bi = 1:2, ci = 1:3, di = 1:3), "same length.*bi \\(2\\)")
  expect_error(escalc("COR", ri = c(0.5, 1.2), ni = c(10, 10)), "ri must lie in \\[-1, 1\\]; offending rows: 2")
  expect_error(escalc("COR", ri = 0.5, ni = 0), "ni must be positive")
  expect_error(escalc("PR", xi = c(3, 12), ni = c(10, 10)), "xi must not exceed ni; offending rows: 2")
  expect_error(escalc("SMCR", m1i = 1, m2i = 0, sd1i = -1, ni = 10, ri = 0.5), "sd1i")
  expect_error(escalc("SMD", pi = 1.5, n1i = 10, n2i = 10), "pi must lie")
  expect_error(escalc("OR", ai = 1, bi = 1, ci = 1, di = 1, vtype = "UB"),
               "vtype 'UB' is not available for measure = 'OR'")
  expect_error(escalc("OR", ai = 1, bi = 1, ci = 1, di = 1, vtype = "foo"), "unknown 'vtype'")
  expect_error(escalc("OR", ai = 1, bi = 1, ci = 1, di = 1, to = "some"), "'to'")
  expect_error(escalc("OR", ai = letters[1:2], bi = 1:2, ci = 1:2, di = 1:2), "'ai' must be numeric")
  expect_error(escalc("OR", ai = nosuchcolumn, bi = tneg, ci = cpos, di = cneg,
                      data = data.frame(tneg = 1, cpos = 1, cneg = 1)), "nosuchcolumn")
  expect_error(escalc("OR", ai = 1, ci = 1, di = 1), "bi or n1i")
  expect_error(escalc(ai = 1), "measure")
})
