# setmfopt() / getmfopt(): metafor's functions for package options, kept in
# metafast's own environment; the options metafast honours (digits, space)
# give metafor's printout.

opt_reset <- function() {
  setmfopt(digits = NULL, space = TRUE, style = NULL, theme = NULL, fg = NULL, bg = NULL)
  # metafor's theme too: left at "dark", it made metafor's later plots (the
  # references of test-plots-gosh-cumul.R) draw on a dark background
  if (requireNamespace("metafor", quietly = TRUE))
    metafor::setmfopt(digits = NULL, space = TRUE, theme = "default")
}
squish <- function(z) {
  z <- gsub("\\s+", " ", trimws(z))
  z[nzchar(z)]
}
opt_dat <- function() {
  skip_if_not_installed("metadat")
  e <- new.env()
  utils::data("dat.bcg", package = "metadat", envir = e)
  b <- e$dat.bcg
  b$yi <- log(b$tpos / b$tneg) - log(b$cpos / b$cneg)
  b$vi <- 1 / b$tpos + 1 / b$tneg + 1 / b$cpos + 1 / b$cneg
  b
}

test_that("getmfopt() and setmfopt() behave as metafor's", {
  skip_if_not_installed("metafor")
  opt_reset()
  on.exit(opt_reset())
  expect_identical(names(formals(getmfopt)), names(formals(metafor::getmfopt)))
  expect_identical(names(formals(setmfopt)), names(formals(metafor::setmfopt)))
  expect_null(getmfopt(digits))
  expect_identical(getmfopt(digits, default = 9), 9)
  expect_true(getmfopt(space))
  old <- setmfopt(digits = 3, theme = "dark")
  expect_false("digits" %in% names(old))
  metafor::setmfopt(digits = 3, theme = "dark")
  expect_identical(getmfopt(digits), metafor::getmfopt(digits))
  expect_identical(getmfopt("theme"), metafor::getmfopt("theme"))
  expect_identical(getmfopt()$digits, 3)
  setmfopt(digits = c(est = 2, pval = 3))
  expect_identical(getmfopt(digits), c(est = 2, pval = 3))
  setmfopt(digits = NULL)
  expect_null(getmfopt(digits))
  # metafor's checks
  for (bad in list(list(space = "yes"), list(digits = "a"), list(style = 1), list(theme = "pink"),
                   list(fg = 1), list(bg = TRUE))) {
    expect_error(do.call(setmfopt, bad), names(bad))
    expect_error(do.call(metafor::setmfopt, bad), names(bad))
  }
  expect_error(setmfopt(3), "name = value")
})

test_that("the options live in metafast, apart from metafor's and from options()", {
  skip_if_not_installed("metafor")
  opt_reset()
  on.exit(opt_reset())
  before <- getOption("metafor")
  setmfopt(digits = 2)
  expect_identical(getOption("metafor"), before)
  expect_null(metafor::getmfopt(digits))
  metafor::setmfopt(digits = 5)
  expect_identical(getmfopt(digits), 2)
})

test_that("the digits option gives metafor's printout of a fit and of fsn()", {
  skip_if_not_installed("metafor")
  opt_reset()
  on.exit(opt_reset())
  d <- opt_dat()
  fa <- rma(yi, vi, data = d)
  fb <- metafor::rma(yi, vi, data = d)
  for (dg in list(2, 6, c(est = 2, se = 2, test = 2, pval = 2, ci = 2, var = 2, sevar = 2, fit = 2, het = 2))) {
    setmfopt(digits = dg)
    metafor::setmfopt(digits = dg)
    expect_identical(squish(capture.output(print(fa))), squish(capture.output(print(fb))))
    expect_identical(squish(capture.output(print(fsn(fa)))), squish(capture.output(print(metafor::fsn(fb)))))
    # explicit digits win over the option
    expect_identical(squish(capture.output(print(fa, digits = 3))), squish(capture.output(print(fb, digits = 3))))
    # as in metafor, the option does not change results that carry their own digits
    expect_identical(squish(capture.output(print(fsn(yi, vi, data = d)))),
                     squish(capture.output(print(metafor::fsn(yi, vi, data = d)))))
    ea <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)[1:3, ]
    eb <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)[1:3, ]
    expect_identical(squish(capture.output(print(ea))), squish(capture.output(print(eb))))
  }
  setmfopt(digits = 2)
  expect_output(print(fa), "0\\.34 \\(SE = 0\\.18\\)")
})

test_that("space = FALSE drops the empty lines around the printout of fsn() and escalc objects", {
  skip_if_not_installed("metafor")
  opt_reset()
  on.exit(opt_reset())
  d <- opt_dat()
  setmfopt(space = FALSE)
  metafor::setmfopt(space = FALSE)
  a <- capture.output(print(fsn(yi, vi, data = d)))
  b <- capture.output(print(metafor::fsn(yi, vi, data = d)))
  expect_identical(trimws(a, "right"), trimws(b, "right"))
  expect_true(nzchar(a[1]))
  ea <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)[1:2, ]
  eb <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)[1:2, ]
  expect_identical(trimws(capture.output(print(ea)), "right"), trimws(capture.output(print(eb)), "right"))
  setmfopt(space = TRUE)
  metafor::setmfopt(space = TRUE)
  a <- capture.output(print(fsn(yi, vi, data = d)))
  b <- capture.output(print(metafor::fsn(yi, vi, data = d)))
  expect_identical(trimws(a, "right"), trimws(b, "right"))
  expect_identical(a[1], "")
})
