# PHI, ZPHI, YUQ, YUY, PBIT, OR2D, OR2DN, OR2DL and the paired-data
# measures MPRD, MPRR, MPOR, MPORC, MPPETO, MPORM against metafor

tab_bcg <- function() {
  bcg <- esc_metadat("dat.bcg")
  list(ai = bcg$tpos, bi = bcg$tneg, ci = bcg$cpos, di = bcg$cneg)
}

# zero cells, an all-zero table, a table with n = 1 per group, NA
tab_edge <- list(ai = c(0, 5, 10, 3, 0, 7, 1, 20, 1, NA, 0),
                 bi = c(10, 5, 0, 8, 0, 3, 1, 15, 0, 4, 0),
                 ci = c(4, 0, 6, 2, 0, 7, 0, 12, 0, 3, 0),
                 di = c(6, 8, 3, 9, 5, 0, 0, 30, 1, 5, 0))

measures_2x2 <- c("PHI", "ZPHI", "YUQ", "YUY", "PBIT", "OR2D", "OR2DN", "OR2DL",
                  "MPRD", "MPRR", "MPOR", "MPORC", "MPPETO")

test_that("2x2 association and paired measures match metafor on dat.bcg", {
  skip_if_not_installed("metafor")
  tb <- tab_bcg()
  for (m in measures_2x2) expect_esc_match(m, tb)
  for (vt in c("ST", "CS", "LS")) {
    expect_esc_match("PHI", c(tb, list(vtype = vt)))
    expect_esc_match("ZPHI", c(tb, list(vtype = vt)))
  }
  for (vt in c("LS", "AV", "H0")) for (m in c("OR2D", "OR2DN", "OR2DL"))
    expect_esc_match(m, c(tb, list(vtype = vt)))
  # the n1i / n2i form
  expect_esc_match("YUQ", list(ai = tb$ai, n1i = tb$ai + tb$bi, ci = tb$ci, n2i = tb$ci + tb$di))
})

test_that("2x2 measures: zero cells with every 'to', drop00, add, onlyo1, addyi/addvi", {
  skip_if_not_installed("metafor")
  for (m in measures_2x2) for (to in c("only0", "all", "if0all", "none"))
    for (d00 in c(FALSE, TRUE))
      expect_esc_match(m, c(tab_edge, list(to = to, drop00 = d00)))
  for (m in c("PHI", "YUQ", "MPRD")) {
    expect_esc_match(m, c(tab_edge, list(add = 1, onlyo1 = TRUE)))
    expect_esc_match(m, c(tab_edge, list(add = 1/2, to = "all")))
  }
  for (vt in c("LS", "AV", "H0")) for (av in c(TRUE, FALSE)) for (ay in c(TRUE, FALSE))
    expect_esc_match("OR2DL", c(tab_edge, list(vtype = vt, addvi = av, addyi = ay)))
  expect_esc_match("PHI", c(tab_edge, list(vtype = rep(c("ST", "CS"), length.out = 11))))
  expect_esc_match("PHI", c(tab_edge, list(vtype = "AV")))
  expect_error(escalc("PHI", ai = 1, bi = 2, ci = 3, di = 4, vtype = "AV"), "vtype")
})

test_that("MPORM matches metafor with ri and/or pi", {
  skip_if_not_installed("metafor")
  tb <- list(ai = c(0, 5, 10, 3, 0, 7, 1, 20), bi = c(10, 5, 0, 8, 0, 3, 1, 15),
             ci = c(4, 0, 6, 2, 0, 7, 0, 12), di = c(6, 8, 3, 9, 5, 0, 0, 30))
  ri <- c(0.4, 0.2, NA, -0.3, 0.9, 0.1, 0.5, 0.6)
  pp <- c(0.1, 0.05, 0.2, NA, 0, 0.3, 0.2, 0.25)
  for (vt in c("LS", "AV", "H0")) for (av in c(TRUE, FALSE)) {
    expect_esc_match("MPORM", c(tb, list(ri = ri, vtype = vt, addvi = av)))
    expect_esc_match("MPORM", c(tb, list(pi = pp, vtype = vt, addvi = av, drop00 = TRUE)))
    expect_esc_match("MPORM", c(tb, list(ri = ri, pi = pp, vtype = vt, addvi = av, to = "all")))
  }
  expect_esc_match("MPORM", c(tab_bcg(), list(ri = rep(0.5, 13))))
  expect_error(escalc("MPORM", ai = 1, bi = 2, ci = 3, di = 4), "ri")
  expect_error(escalc("MPORM", ai = 1, bi = 2, ci = 3, di = 4, ri = 1.5), "ri")
  expect_error(escalc("MPORM", ai = 1, bi = 2, ci = 3, di = 4, pi = 1.5), "pi")
})

test_that("2x2 measures: bad counts give errors naming the argument and rows", {
  expect_error(escalc("PHI", ai = c(1, -1), bi = 2, ci = 3, di = 4), "ai.*rows: 2")
  expect_error(escalc("YUQ", ai = c(1, 5), n1i = c(3, 4), ci = 3, di = 4), "ai must not exceed n1i.*rows: 2")
  expect_error(escalc("MPRD", ai = c(1, 5), bi = 2, n1i = c(3, 4), ci = 3, di = 4), "n1i.*rows: 2")
})
