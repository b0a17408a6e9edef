# to.long() and to.table() against metafor 5.2.1 (every measure family,
# vlong, append, var.names, subset, slab, add/to, drop00, na.action).
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

# same(fn, args...): the call of our function and of metafor's, evaluated in
# the caller's frame (so that column names are found in 'data')
same <- function(fn, ...) {
  cl <- match.call()
  env <- parent.frame()
  run <- function(pkg) {
    c2 <- cl
    c2[[1L]] <- call("::", as.name(pkg), as.name(fn))
    c2$fn <- NULL
    suppressWarnings(eval(c2, env))
  }
  expect_equal(run("metafast"), run("metafor"), tolerance = tol_closed)
}

test_that("2x2 tables (OR family, MP*, MPORC): long, vlong, to/add, append, subset", {
  d <- metadat::dat.bcg
  d$tpos[2] <- 0
  for (vl in c(FALSE, TRUE)) for (to in c("none", "only0", "all", "if0all")) {
    same("to.long", "OR", ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg, vlong = vl, to = to, slab = d$author)
    same("to.long", "RR", ai = d$tpos, n1i = d$tpos + d$tneg, ci = d$cpos, n2i = d$cpos + d$cneg, vlong = vl,
         to = to, add = 1, data = d, append = c("year", "author"))
  }
  for (m in c("MPRD", "MPORC", "MPORM")) for (vl in c(FALSE, TRUE)) {
    same("to.long", m, ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg, data = d, vlong = vl, append = 2:3,
         subset = 1:5)
    same("to.table", m, ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg, data = d, subset = -1)
  }
  same("to.table", "OR", ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg, rows = c("a", "b"),
       cols = c("x", "y"), add = 1, to = "all")
  same("to.long", "OR", ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg, var.names = c("s", "g", "e", "n"))
})

test_that("zero tables, drop00 and na.action", {
  ai <- c(0, 3, NA, 4); bi <- c(10, 0, 5, 6); ci <- c(0, 2, 1, 0); di <- c(9, 0, 4, 5)
  old <- options(na.action = "na.omit")
  on.exit(options(old))
  for (na in c("na.omit", "na.pass", "na.exclude")) {
    options(na.action = na)
    for (vl in c(FALSE, TRUE))
      same("to.long", "RR", ai = ai, bi = bi, ci = ci, di = di, drop00 = TRUE, to = "only0", vlong = vl)
    same("to.table", "RR", ai = ai, bi = bi, ci = ci, di = di, drop00 = TRUE, to = "only0")
    same("to.long", "IRD", x1i = c(0, 2, 3), x2i = c(0, 1, NA), t1i = c(10, 20, 30), t2i = c(11, 21, 31),
         drop00 = TRUE, to = "all")
  }
  options(na.action = "na.fail")
  expect_error(to.long("RR", ai = ai, bi = bi, ci = ci, di = di), "Missing values in tables \\(row 3\\)")
  options(na.action = "na.omit")
  expect_warning(to.long("RR", ai = ai, bi = bi, ci = ci, di = di), "1 table with NAs omitted")
})

test_that("means, correlations, proportions, rates, pre-post and alpha", {
  d <- metadat::dat.normand1999
  same("to.long", "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d,
       slab = source)
  same("to.table", "ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d,
       slab = source)
  same("to.long", "MN", mi = m1i, sdi = sd1i, ni = n1i, data = d)
  same("to.table", "MNLN", mi = m1i, sdi = sd1i, ni = n1i, data = d, cols = c("a", "b", "c"))
  d$ri <- 0.5
  same("to.long", "SMCR", m1i = m1i, m2i = m1i + 1, sd1i = sd1i, ni = n1i, ri = ri, data = d)
  same("to.long", "MC", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = n1i, ri = ri, data = d)
  same("to.table", "SMCR", m1i = m1i, m2i = m1i + 1, sd1i = sd1i, ni = n1i, ri = ri, data = d)
  same("to.table", "ROMC", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = n1i, ri = ri, data = d)
  m <- metadat::dat.molloy2014
  same("to.long", "ZCOR", ri = ri, ni = ni, data = m, append = FALSE)
  same("to.table", "COR", ri = ri, ni = ni, data = m)
  same("to.long", "COR", ti = c(2, -1, NA), ri = c(NA, NA, 0.3), ni = c(20, 30, 40))
  p <- metadat::dat.pritz1997
  for (vl in c(FALSE, TRUE)) same("to.long", "PR", xi = xi, ni = ni, data = p, vlong = vl, to = "only0")
  same("to.table", "PLO", xi = xi, ni = ni, data = p)
  same("to.long", "PFT", xi = c(0, 5, 10), mi = c(10, 5, 0), to = "if0all", add = 0.25)
  h <- metadat::dat.hart1999
  same("to.long", "IRR", x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = h, var.names = c("s", "g", "e", "t"))
  same("to.table", "IRR", x1i = x1i, x2i = x2i, t1i = t1i, t2i = t2i, data = h)
  same("to.long", "IR", xi = x1i, ti = t1i, data = h)
  same("to.table", "IRLN", xi = c(0, 3), ti = c(10, 20), to = "only0")
  b <- metadat::dat.bonett2010
  same("to.long", "AHW", ai = ai, mi = mi, ni = ni, data = b)
  same("to.table", "ABT", ai = ai, mi = mi, ni = ni, data = b)
})

test_that("bad input: errors naming the argument and rows", {
  expect_error(to.long("OR", ai = c(1, -1), bi = c(2, 3), ci = c(1, 1), di = c(3, 3)), "'ai' must not be negative \\(row 2\\)")
  expect_error(to.long("OR", ai = c(1, 5), n1i = c(2, 4), ci = c(1, 1), n2i = c(3, 3)), "'ai' must not exceed 'n1i' \\(row 2\\)")
  expect_error(to.long("OR", ai = c(1, 5), bi = 1, ci = c(1, 1), di = c(3, 3)), "different lengths")
  expect_error(to.table("OR", ai = c(1, 5), bi = c(1, 1), ci = c(1, 1)), "missing: di")
  expect_error(to.long("COR", ri = c(0.5, 1.2), ni = c(10, 10)), "'ri' must lie in \\[-1, 1\\] \\(row 2\\)")
  expect_error(to.long("IRR", x1i = 1, x2i = 1, t1i = 0, t2i = 1), "'t1i' \\(person-time\\) must be positive \\(row 1\\)")
  expect_error(to.long("VR", m1i = 1), "not available for measure = \"VR\"")
  expect_error(to.table("XYZ", ai = 1), "unknown measure")
  expect_error(to.long("OR", ai = 1, bi = 1, ci = 1, di = 1, var.names = "a"), "'var.names' must be of length 4")
  expect_error(to.table("OR", ai = 1, bi = 1, ci = 1, di = 1, rows = "a"), "'rows'")
  expect_error(to.long("OR", ai = 1, bi = 1, ci = 1, di = 1, to = "some"), "'to'")
  expect_error(to.long("AHW", ai = 1.2, mi = 3, ni = 10), "'ai' \\(alpha\\) must not exceed 1 \\(row 1\\)")
})
