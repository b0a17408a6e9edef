# conv.fivenum() against metafor

fivenum_both <- function(...) {
  cl <- match.call()
  cl[[1]] <- quote(metafast::conv.fivenum)
  a <- suppressWarnings(eval(cl, parent.frame()))
  cl[[1]] <- quote(metafor::conv.fivenum)
  b <- suppressWarnings(eval(cl, parent.frame()))
  expect_equal(a, b, tolerance = tol_closed)
  invisible(a)
}

fivenum_data <- function() {
  set.seed(3)
  k <- 12
  n <- c(4, 10, 20, 30, 50, 80, 100, 200, 16, 70, 26, 500)
  med <- runif(k, 10, 20); q1 <- med - runif(k, 1, 4); q3 <- med + runif(k, 1, 4)
  data.frame(mn = q1 - runif(k, 1, 5), q1 = q1, med = med, q3 = q3, mx = q3 + runif(k, 1, 9), n = n)
}

test_that("conv.fivenum() matches metafor for every method, scenario and test setting", {
  skip_if_not_installed("metafor")
  d <- fivenum_data()
  d1 <- d
  d1$q1[1:4] <- NA; d1$q3[1:4] <- NA      # min, median, max
  d1$mn[5:8] <- NA; d1$mx[5:8] <- NA      # q1, median, q3
  for (m in list("default", "hozo2005", "wan2014", "bland2015", c("luo2016", "default"), "walter2007",
                 c("wan", "shi"), c("luo2016", "bland"), "hozo", c("walter", "hozo")))
    for (tt in c(TRUE, FALSE)) for (dd in list(d, d1)) {
      fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = dd, method = m, test = tt)
      fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = dd, method = m, test = tt,
                   append = FALSE)
    }
})

test_that("conv.fivenum(): log-normal data, dist per row, replace and include as metafor", {
  skip_if_not_installed("metafor")
  d <- fivenum_data()
  d1 <- d
  d1$q1[1:4] <- NA; d1$q3[1:4] <- NA
  d1$mn[5:8] <- NA; d1$mx[5:8] <- NA
  for (dd in list(d, d1)) for (tr in c(TRUE, FALSE))
    fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = dd, dist = "lnorm",
                 transf = tr, test = FALSE)
  d1$mean <- c(NA, 1, NA, 2, rep(NA, 8))
  d1$sd <- c(1, NA, 2, rep(NA, 9))
  d1$dd <- rep(c("norm", "lnorm"), 6)
  for (rp in list("ifna", "all", "complete", TRUE))
    fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = d1, replace = rp, dist = dd)
  fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = d1, include = 3:9)
  fivenum_both(min = mn, median = med, max = mx, n = n, data = d1, var.names = c("m", "s"))
  # the switch to luo/wan/shi for log-normal data warns, as metafor
  expect_warning(conv.fivenum(min = 1, median = 5, max = 20, n = 30, dist = "lnorm", method = "hozo2005"),
                 "luo/wan/shi")
})

test_that("conv.fivenum(): bad input gives errors naming the argument and row", {
  expect_error(conv.fivenum(min = c(1, 5), median = c(2, 3), max = c(4, 4), n = c(10, 10)), "row 2")
  expect_error(conv.fivenum(min = c(1, -1), median = c(2, 3), max = c(4, 4), n = c(10, 10), dist = "lnorm"),
               "lnorm.*row 2")
  expect_error(conv.fivenum(min = 1, median = 2, max = 4, n = 10, method = "xyz"), "method")
  if (!requireNamespace("estmeansd", quietly = TRUE))
    expect_error(conv.fivenum(min = 1, median = 2, max = 4, n = 10, method = "qe"), "'qe'.*'estmeansd'")
  if (!requireNamespace("metaBLUE", quietly = TRUE))
    expect_error(conv.fivenum(min = 1, median = 2, max = 4, n = 10, method = "blue"), "'blue'.*'metaBLUE'")
  expect_error(conv.fivenum(min = 1, median = 2, max = 4, n = 10, method = c("qe", "wan")), "same 'method'")
  expect_error(conv.fivenum(min = 1, median = 2, max = 4, n = 10, method = c("luo", "blue")), "same 'method'")
  expect_error(conv.fivenum(min = 1, median = 2, max = 4, n = 10, dist = "t"), "dist")
  expect_error(conv.fivenum(min = 1:2, median = 2, max = 4, n = 10), "same length")
  expect_error(conv.fivenum(n = 10), "at least one")
  expect_warning(conv.fivenum(min = 1, median = 2, max = 4, n = 10, foo = 1), "foo")
})

test_that("conv.fivenum(method = 'qe', 'bc', 'mln') calls estmeansd as metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("estmeansd")
  d <- fivenum_data()[-1, ]  # (row 1: n < 5)
  d1 <- d
  d1$q1[1:3] <- NA; d1$q3[1:3] <- NA      # min, median, max
  d1$mn[4:6] <- NA; d1$mx[4:6] <- NA      # q1, median, q3
  for (m in c("qe", "bc", "mln")) for (dd in list(d, d1)) {
    # (bc and mln simulate: the same seed gives the same values)
    fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = dd, method = m, seed = 42)
  }
  # qe: rows with negative values are taken as normal and tested for skewness
  d2 <- d1
  d2[, 1:5] <- d2[, 1:5] - 15
  d2$mx[1] <- d2$med[1] + 60   # a skewed row (significant with test = TRUE)
  for (tt in c(TRUE, FALSE)) {
    r <- fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = d2, method = "qe",
                      test = tt, append = FALSE)
  }
  r <- fivenum_both(min = mn, median = med, max = mx, n = n, data = d, method = "qe")
  expect_true(all(attr(r$mean, "dist") %in% c("norm", "lnorm", "gamma", "weibull", "beta")))
  # bc and mln need positive values
  expect_error(conv.fivenum(min = c(1, -1), median = c(2, 3), max = c(4, 5), n = c(10, 10), method = "bc"),
               "'bc'.*row 2")
  expect_error(conv.fivenum(min = c(0, 1), median = c(2, 3), max = c(4, 5), n = c(10, 10), method = "mln"),
               "'mln'.*row 1")
})

test_that("conv.fivenum(method = 'blue') calls metaBLUE as metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metaBLUE")
  d <- fivenum_data()[-1, ]
  d1 <- d
  d1$q1[1:3] <- NA; d1$q3[1:3] <- NA
  d1$mn[4:6] <- NA; d1$mx[4:6] <- NA
  for (tt in c(TRUE, FALSE)) for (dd in list(d, d1))
    fivenum_both(min = mn, q1 = q1, median = med, q3 = q3, max = mx, n = n, data = dd, method = "blue", test = tt)
})
