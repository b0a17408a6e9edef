# Audit of escalc() against metafor 5.2.1: EVERY measure of metafor's
# escalc() with EVERY vtype value (the ones metafor rejects for a measure
# must be rejected by us as well), on metadat data and boundary rows
# (level 1) and on a grid of random data with zero cells, n = 1,
# proportions 0 / 1 and correlations near +-1 (METAFAST_TEST_LEVEL >= 2).
# Data: helper-escalc-audit.R; comparison: expect_esc_match()
# (helper-escalc-measures.R): same errors, yi / vi within tol_closed (tol_iter
# for the maximum-likelihood tetrachoric correlation), same NA pattern, ni
# and warnings.
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

# Measures metafor computes only with the 'gsl' package (hypergeometric
# function): compared when it is installed.
audit_skip <- function(m, vt) {
  !nzchar(system.file(package = "gsl")) &&
    (m == "UCOR" || (m == "SMCR" && vt %in% c("UB", "H0")))
}

# The tetrachoric correlation of a table with a zero cell is +-1; its
# variance is unbounded there and both packages return an arbitrary huge
# number (or NA) from the numerical second derivative at the boundary: those
# rows are compared for yi only.
audit_args <- function(m, a) {
  if (!m %in% c("RTET", "ZTET")) return(list(a))
  zero <- a$ai == 0 | a$bi == 0 | a$ci == 0 | a$di == 0
  if (!any(zero)) return(list(a))
  list(lapply(a, function(z) z[!zero]))
}

# The measures computed by numerical integration or maximum likelihood take
# seconds per call: at level 1 only with vtype "LS" (all vtypes at level 2).
audit_slow <- c("R2F", "ZR2F", "RTET", "ZTET")

audit_check <- function(sets_of) {
  for (m in audit_measures) {
    tol <- if (m %in% c("RTET", "ZTET")) tol_iter else tol_closed
    vts <- if (m %in% audit_slow && test_level() < 2) "LS" else audit_vtypes
    for (a in sets_of(m)) for (b in audit_args(m, a)) for (vt in vts) {
      if (audit_skip(m, vt)) next
      expect_esc_match(m, c(b, list(vtype = vt)), tol = tol)
    }
  }
}

test_that("every measure x vtype matches metafor on metadat data and boundary rows", {
  audit_check(function(m) audit_data(audit_fam(m), m))
})

test_that("RTET / ZTET of tables with a zero cell: yi = +-1 (or its z) as metafor", {
  a <- list(ai = c(0, 3, 5, 10), bi = c(10, 0, 5, 0), ci = c(0, 2, 0, 10), di = c(9, 7, 5, 1))
  for (m in c("RTET", "ZTET")) {
    r <- esc_both(m, a)
    expect_equal(as.vector(r$a$out$yi), as.vector(r$b$out$yi), tolerance = tol_iter)
  }
})

test_that("every measure x vtype matches metafor on random data with zero cells and boundary values", {
  skip_unless_level(2)
  audit_check(function(m) lapply(1:6, function(s) audit_random(audit_fam(m), m, s)))
})

test_that("the warning about large outcomes is given once per set of outcomes, whatever the measure (as metafor)", {
  # fix: the outcomes were remembered per measure, so SMD1H after SMD1 (the
  # same yi) warned again where metafor does not
  a <- list(m1i = c(5, 1, 2), m2i = c(1, 1, 1), sd1i = c(1, 1, 1), sd2i = c(0.5, 1, 1), n1i = c(10, 10, 10),
            n2i = c(10, 10, 10) + runif(1))   # (fresh values: not remembered from other tests)
  r1 <- esc_both("SMD1", a)
  r2 <- esc_both("SMD1H", a)
  expect_true(r1$a$warned)
  expect_identical(r1$a$warned, r1$b$warned)
  expect_false(r2$a$warned)
  expect_identical(r2$a$warned, r2$b$warned)
})
