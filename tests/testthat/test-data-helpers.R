# replmiss() and dfround() against metafor

test_that("replmiss() matches metafor (vectors, one value, data, empty x)", {
  skip_if_not_installed("metafor")
  x <- c(1, NA, 3, NA)
  y <- c(10, 20, 30, 40)
  expect_identical(replmiss(x, y), metafor::replmiss(x, y))
  expect_identical(replmiss(x, 0), metafor::replmiss(x, 0))
  expect_identical(replmiss(x, NULL), metafor::replmiss(x, NULL))
  expect_identical(replmiss(NULL, y), metafor::replmiss(NULL, y))
  expect_identical(replmiss(c("a", NA), c("b", "c")), metafor::replmiss(c("a", NA), c("b", "c")))
  d <- data.frame(a = c(NA, 2, NA), b = c(7, 8, 9))
  expect_identical(replmiss(a, b, data = d), metafor::replmiss(a, b, data = d))
  expect_identical(replmiss(a, b * 2, data = d), metafor::replmiss(a, b * 2, data = d))
  expect_error(replmiss(x, 1:3), "length")
  expect_error(replmiss(nonexistent_var, 1), "nonexistent_var")
})

test_that("dfround() matches metafor (digits and drop0 per column, matrices)", {
  skip_if_not_installed("metafor")
  d <- data.frame(a = c(1.23456, 2.5, NA), b = c("x", "y", "z"), c = c(0.1, 10, -3.14159))
  expect_identical(dfround(d, digits = c(2, 0, 1)), metafor::dfround(d, digits = c(2, 0, 1)))
  expect_identical(dfround(d), metafor::dfround(d))
  expect_identical(dfround(d, 3, drop0 = FALSE), metafor::dfround(d, 3, drop0 = FALSE))
  expect_identical(dfround(d, c(1, 1, 2), drop0 = c(TRUE, TRUE, FALSE)),
                   metafor::dfround(d, c(1, 1, 2), drop0 = c(TRUE, TRUE, FALSE)))
  m <- matrix(c(1.234, 5.678, 9.1011, 2.3456), 2, dimnames = list(NULL, c("u", "v")))
  expect_identical(dfround(m, 1), metafor::dfround(m, 1))
  expect_error(dfround(d, c(1, 2)), "digits")
  expect_error(dfround(1:3), "data frame")
})

test_that("contrmat() matches metafor (last, shorten, minlen, check, append, factors)", {
  skip_if_not_installed("metafor")
  d <- data.frame(t1 = c("A", "Bx", "A", "Bb", "Bx"), t2 = c("C", "C", "Bx", "A", "C"), z = 1:5)
  calls <- list(list(d, "t1", "t2"), list(d, 1, 2, append = FALSE), list(d, "t1", "t2", last = "A"),
                list(d, "t1", "t2", last = NA, shorten = TRUE), list(d, "t1", "t2", shorten = TRUE, minlen = 1),
                list(d, "t1", "t2", check = FALSE, append = FALSE), list(d, "t1", "t2", last = "B"))
  for (cl in calls) {
    a <- tryCatch(do.call(contrmat, cl), error = function(e) "error")
    b <- tryCatch(do.call(metafor::contrmat, cl), error = function(e) "error")
    expect_identical(a, b)
  }
  f <- data.frame(g1 = factor(c("x y", "b"), levels = c("b", "x y", "z")),
                  g2 = factor(c("z", "z"), levels = c("b", "x y", "z")))
  expect_identical(contrmat(f, "g1", "g2"), metafor::contrmat(f, "g1", "g2"))
  expect_identical(contrmat(f, "g1", "g2", check = FALSE), metafor::contrmat(f, "g1", "g2", check = FALSE))
  expect_error(contrmat(d, "t1"), "grp2")
  expect_error(contrmat(d, "q", "t2"), "grp1")
  expect_error(contrmat(d, 1, 9), "grp2")
  expect_error(contrmat(data.frame(a = c("A", NA), b = "B"), "a", "b"), "missing")
})
