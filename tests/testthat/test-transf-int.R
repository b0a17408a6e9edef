# transf.*.int and transf.*.mode against metafor

test_that("the integral and mode transformations match metafor", {
  skip_if_not_installed("metafor")
  xs <- list(dtocles = c(-1, 0.3, 2), exp = c(-1, 0.3, 2), iabt = c(0.5, 1.2, 3), iahw = c(0.2, 0.5, 0.8),
             iarcsin = c(0.2, 0.7, 1.3), ilogit = c(-2, 0.3, 1.5, -6), iprobit = c(-1, 0.2, 1),
             ztor = c(-0.5, 0.2, 1.1))
  fns <- grep("^transf\\..*\\.(int|mode)$", ls(asNamespace("metafor")), value = TRUE)
  expect_length(fns, 15L)
  for (f in fns) {
    ours <- get(f, asNamespace("metafast"))
    theirs <- get(f, asNamespace("metafor"))
    x <- xs[[sub("^transf\\.(.*)\\.(int|mode)$", "\\1", f)]]
    for (ta in list(list(tau2 = 0.1), list(tau2 = 0.5), 0.2, c(tau2 = 0.3), list(tau2 = 3)))
      expect_equal(ours(x, targs = ta), theirs(x, targs = ta), tolerance = tol_closed, info = f)
    # tau2 = 0: the plain back-transformation (metafor's *.mode functions
    # return it once per element of xi there, k^2 values; compared for one xi)
    expect_equal(ours(x[1], targs = list(tau2 = 0)), theirs(x[1], targs = list(tau2 = 0)), tolerance = tol_closed,
                 info = f)
    if (grepl("int$", f)) {
      expect_equal(ours(x, targs = list(tau2 = 0)), theirs(x, targs = list(tau2 = 0)), tolerance = tol_closed)
      expect_error(ours(x), "tau2")
      expect_error(ours(x, targs = list(tau2 = -1)), "tau2")
      expect_error(ours(x, targs = list(tau2 = c(1, 2))), "scalar")
    } else {
      expect_equal(ours(x, targs = list(tau2 = 0)), vapply(x, function(z) theirs(z, targs = list(tau2 = 0)), 0),
                   tolerance = tol_closed, info = f)
      expect_error(ours(x), "tau2")
      expect_error(ours(x, targs = -1), "tau2")
      expect_error(ours(x, targs = c(1, 2)), "scalar")
    }
  }
  # limits of integration given by targs (a vector, by position or by name)
  expect_equal(transf.ztor.int(c(0.2, 0.5), targs = c(0.2, -1, 1)),
               metafor::transf.ztor.int(c(0.2, 0.5), targs = c(0.2, -1, 1)), tolerance = tol_closed)
  expect_equal(transf.ilogit.int(c(0.2, 0.5), targs = c(t = 0.2, u = 1)),
               metafor::transf.ilogit.int(c(0.2, 0.5), targs = c(t = 0.2, u = 1)), tolerance = tol_closed)
  expect_error(transf.ztor.int(0.2, targs = c(0.2, -1, 1, 2)), "at most 3")
})
