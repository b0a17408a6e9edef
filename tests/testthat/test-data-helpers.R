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
