# metafor's transf.* functions (other than *.int / *.mode) against metafor

tf_compare <- function(fn, ...) {
  ours <- tryCatch(get(fn, asNamespace("metafast"))(...), error = function(e) e)
  theirs <- tryCatch(get(fn, asNamespace("metafor"))(...), error = function(e) e)
  if (inherits(theirs, "error")) {
    expect_true(inherits(ours, "error"), label = paste(fn, "errors as metafor"))
  } else {
    expect_false(inherits(ours, "error"), label = paste(fn, "runs"))
    if (!inherits(ours, "error")) {
      expect_identical(is.na(ours), is.na(theirs), label = paste(fn, "NA"))
      expect_equal(ours, theirs, tolerance = tol_closed, label = fn)
    }
  }
}

test_that("one-argument transformations match metafor (edge values, NA, names)", {
  skip_if_not_installed("metafor")
  r <- c(a = -1.2, b = -1, c = -0.999999, d = -0.3, e = 0, f = 0.5, g = 0.999999, h = 1, i = 1.5, j = NA)
  z <- c(-40, -3, -0.5, 0, 0.2, 1, 2.5, 40, NA, Inf, -Inf)
  p <- c(-0.1, 0, 1e-12, 0.2, 0.5, 0.9, 1 - 1e-12, 1, 1.1, NA)
  fns <- c("rtoz", "ztor", "ztor2", "r2toz", "logit", "ilogit", "probit", "iprobit", "arcsin",
           "iarcsin", "isqrt", "ahw", "iahw", "abt", "iabt", "dtou1", "dtou2", "dtou3",
           "dtoovl", "dtocles", "clestod", "dtocliffd", "dtobesd", "lnortod.logis",
           "lnortod.norm", "dtolnor.logis", "dtolnor.norm", "lnortortet.pearson",
           "lnortortet.digby", "dtorpb", "dtorbis", "rpbtod", "rtod", "rtorpb", "rpbtorbis")
  for (f in fns) for (x in list(r, z, p, matrix(c(0.1, 0.4, -0.2, 0.7), 2)))
    suppressWarnings(tf_compare(paste0("transf.", f), x))
})

test_that("transformations with sample sizes, person-times and targs match metafor", {
  skip_if_not_installed("metafor")
  p <- c(0, 0.01, 0.2, 0.5, 0.95, 1, NA)
  n <- c(10, 1, 25, 100, 3, 40, 12)
  y <- metafor::transf.pft(p, n)
  tf_compare("transf.pft", p, n)
  tf_compare("transf.ipft", y, n)
  tf_compare("transf.ipft", c(-1, y, 2), c(5, n, 5))
  tf_compare("transf.ipft.hm", c(-1, y, 2), list(ni = n))
  tf_compare("transf.ipft.hm", y, list(ni = c(n, NA)))
  expect_error(transf.ipft.hm(y), "targs")
  expect_error(transf.ipft.hm(y, targs = list(n = 3)), "targs")
  tt <- c(100, 3, 0.5, 1000, 20, 1, 7)
  rate <- c(0, 0.02, 1, 5, 0.3, NA, 1e-3)
  yr <- metafor::transf.irft(rate, tt)
  tf_compare("transf.irft", rate, tt)
  tf_compare("transf.iirft", yr, tt)
  tf_compare("transf.iirft", c(0, 0.01, 3), c(10, 10, 10))
  d <- c(-2, 0, 0.4, 1.5, NA)
  tf_compare("transf.dtomd", d, 2.5)
  tf_compare("transf.dtomd", d, list(sd = 2.5))
  expect_error(transf.dtomd(d), "targs")
  expect_error(transf.dtomd(d, c(1, 2)), "single")
  n1 <- c(10, 20, 5, 50, 8)
  n2 <- c(10, 40, 5, 2, 30)
  for (f in c("transf.dtorpb", "transf.dtorbis", "transf.rpbtod", "transf.rtod")) {
    x <- if (f %in% c("transf.rpbtod", "transf.rtod")) c(-0.9, 0, 0.3, 0.7, NA) else d
    tf_compare(f, x, n1, n2)
    tf_compare(f, x, n1[1:2], n2[1:2])   # length mismatch: error
    tf_compare(f, x, n1, n2[1:2])
  }
  tf_compare("transf.rtod", c(0.1, 0.2), c(-1, 5), c(5, 5))
  for (f in c("transf.rtorpb", "transf.rpbtorbis")) {
    tf_compare(f, c(-0.5, 0, 0.4, NA), c(0.2, 0.5, 0.9, 0.3))
    tf_compare(f, c(-0.5, 0, 0.4), 0.3)
    tf_compare(f, c(-0.5, 0, 0.4), c(0.3, 1.2, 0.5))
    tf_compare(f, c(-0.5, 0, 0.4), c(0.3, 0.5))
  }
  lor <- c(-3, -0.5, 0, 0.7, 2, NA)
  for (f in c("transf.lnortord", "transf.lnortorr")) {
    tf_compare(f, lor, 0.2)
    tf_compare(f, lor, c(0, 0.1, 0.5, 0.9, 1, 0.3))
    tf_compare(f, lor, 1.3)
    tf_compare(f, lor, c(0.1, 0.2))
  }
})

test_that("transf functions work as 'transf' of summary() of escalc objects", {
  skip_if_not_installed("metafor")
  a <- escalc("ZCOR", ri = c(0.2, 0.5, -0.3), ni = c(30, 50, 20))
  b <- metafor::escalc("ZCOR", ri = c(0.2, 0.5, -0.3), ni = c(30, 50, 20))
  sa <- summary(a, transf = transf.ztor)
  sb <- summary(b, transf = metafor::transf.ztor)
  expect_equal(as.vector(sa$yi), as.vector(sb$yi), tolerance = tol_closed)
  expect_equal(sa$ci.lb, sb$ci.lb, tolerance = tol_closed)
  expect_equal(sa$ci.ub, sb$ci.ub, tolerance = tol_closed)
})
