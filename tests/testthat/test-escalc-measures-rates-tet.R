# escalc() measures IRR, IRD, IRSD (two incidence rates) and RTET, ZTET
# (tetrachoric correlation) against metafor

test_that("IRR, IRD and IRSD match metafor on dat.hart1999 and dat.nielweise2008", {
  skip_if_not_installed("metafor")
  for (nm in c("dat.hart1999", "dat.nielweise2008")) {
    dat <- esc_metadat(nm)
    args <- esc_cols(dat, c(x1i = "x1i", x2i = "x2i", t1i = "t1i", t2i = "t2i"))
    for (m in c("IRR", "IRD", "IRSD")) expect_esc_match(m, args)
  }
})

test_that("IRR, IRD and IRSD: zero counts with add, to, drop00, addyi, addvi and subset as metafor", {
  skip_if_not_installed("metafor")
  s <- list(x1i = c(0, 3, 5, 0, 12, NA, 1), x2i = c(2, 0, 7, 0, 9, 4, 1),
            t1i = c(100, 120, 90, 50, 300, 40, 1), t2i = c(110, 80, 95, 60, 280, 50, 2))
  for (m in c("IRR", "IRD", "IRSD")) {
    expect_esc_match(m, s)
    for (to in c("only0", "all", "if0all", "none")) for (d0 in c(FALSE, TRUE)) {
      expect_esc_match(m, c(s, list(to = to, drop00 = d0)))
      expect_esc_match(m, c(s, list(to = to, drop00 = d0, add = 1)))
    }
    expect_esc_match(m, c(s, list(addyi = FALSE)))
    expect_esc_match(m, c(s, list(addvi = FALSE)))
    expect_esc_match(m, c(s, list(subset = c(5, 1, 2))))
  }
  # IRSD adds nothing unless add is given (as metafor)
  expect_equal(as.vector(escalc("IRSD", x1i = 0, x2i = 4, t1i = 10, t2i = 10)$yi), -sqrt(0.4))
  # the data frame as metafor's: columns and the ni attribute (t1i + t2i)
  a <- escalc("IRR", x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = as.data.frame(s))
  b <- metafor::escalc("IRR", x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = as.data.frame(s))
  expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_closed, ignore_attr = TRUE)
  expect_equal(attr(a$yi, "ni"), attr(b$yi, "ni"))
  # rma() computes the measure as metafor does
  # (both omit the row with a missing count, and both say so)
  expect_warning(f <- rma(measure = "IRR", x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = as.data.frame(s),
                          method = "DL"), "missing values omitted")
  expect_warning(g <- metafor::rma(measure = "IRR", x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i,
                                   data = as.data.frame(s), method = "DL"), "NAs omitted")
  expect_equal(f$beta[1], g$beta[1], tolerance = tol_closed)
  expect_equal(as.vector(f$se), as.vector(g$se), tolerance = tol_closed)
})

test_that("IRR, IRD and IRSD: bad input gives errors naming the argument and rows", {
  expect_error(escalc("IRR", x1i = c(1, -1), x2i = 1, t1i = 10, t2i = 10), "x1i.*rows: 2")
  expect_error(escalc("IRD", x1i = 1, x2i = 1, t1i = c(10, 0), t2i = 10), "t1i.*rows: 2")
  expect_error(escalc("IRSD", x1i = 1, x2i = 1, t1i = 10), "t2i")
  expect_error(escalc("IRR", x1i = 1:2, x2i = 1:3, t1i = 10, t2i = 10), "same length")
})

test_that("RTET and ZTET match metafor (iterative, 1e-6) on dat.bcg and random tables", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("mvtnorm")   # metafor's tetrachoric routine needs it
  dat <- esc_metadat("dat.bcg")
  args <- esc_cols(dat, c(ai = "tpos", bi = "tneg", ci = "cpos", di = "cneg"))
  for (m in c("RTET", "ZTET")) expect_esc_match(m, args, tol = tol_iter)
  set.seed(14)
  k <- 25
  s <- list(ai = rpois(k, 8) + 1, bi = rpois(k, 5) + 1, ci = rpois(k, 4) + 1, di = rpois(k, 9) + 1)
  s$ai[1] <- 200; s$di[2] <- 150       # strongly associated, still interior
  for (m in c("RTET", "ZTET")) {
    expect_esc_match(m, s, tol = tol_iter)
    expect_esc_match(m, c(s, list(add = 1 / 2, to = "all")), tol = tol_iter)
    expect_esc_match(m, c(s, list(subset = 3:1)), tol = tol_iter)
  }
  # n1i / n2i instead of bi / di
  expect_esc_match("RTET", list(ai = s$ai, n1i = s$ai + s$bi, ci = s$ci, n2i = s$ci + s$di), tol = tol_iter)
})

test_that("RTET at the boundary: tables with an empty cell or margin give metafor's values", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("mvtnorm")
  tabs <- list(ai = c(0, 5, 0, 13, 0, 4, 6), bi = c(3, 0, 0, 6, 0, 5, 6),
               ci = c(6, 0, 3, 4, 3, 2, 0), di = c(8, 9, 8, 0, 8, 7, 0))
  a <- suppressWarnings(escalc("RTET", ai = tabs$ai, bi = tabs$bi, ci = tabs$ci, di = tabs$di))
  b <- suppressWarnings(metafor::escalc("RTET", ai = tabs$ai, bi = tabs$bi, ci = tabs$ci, di = tabs$di))
  # yi is +-1 or 0 (an empty margin), as metafor; the variance is exactly 0
  # for a diagonal table (rows 2) and missing for an empty margin (rows 3, 5,
  # 7), as metafor.  (Where a single cell is empty the likelihood's maximum is
  # at the correlation cap and both packages' numerical Hessians are
  # arbitrary: those variances are not compared.)
  expect_equal(as.vector(a$yi), as.vector(b$yi), tolerance = tol_closed)
  expect_identical(as.vector(a$vi)[c(2, 3, 5, 7)], as.vector(b$vi)[c(2, 3, 5, 7)])
})
