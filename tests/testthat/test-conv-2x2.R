# conv.2x2() against metafor

conv2x2_both <- function(...) {
  cl <- match.call()
  cl[[1]] <- quote(metafast::conv.2x2)
  a <- eval(cl, parent.frame())
  cl[[1]] <- quote(metafor::conv.2x2)
  b <- eval(cl, parent.frame())
  expect_equal(a, b, tolerance = tol_closed, ignore_attr = TRUE)
  invisible(a)
}

test_that("conv.2x2() from odds ratios, phi coefficients and chi-square statistics matches metafor", {
  skip_if_not_installed("metafor")
  ni <- c(100, 80, 60, 120, 50); n1 <- c(40, 30, 20, 60, 25); n2 <- c(50, 44, 10, 70, 25)
  conv2x2_both(ori = c(2.5, 0.8, 1, 4, NA), ni = ni, n1i = n1, n2i = n2)
  conv2x2_both(ri = c(0.2, -0.1, 0.05, NA, 0.9), ni = ni, n1i = n1, n2i = n2)
  for (cr in list(TRUE, FALSE, c(TRUE, FALSE, NA, TRUE, TRUE)))
    conv2x2_both(x2i = c(3.2, -1.1, 0.5, 7, NA), ni = ni, n1i = n1, n2i = n2, correct = cr)
  conv2x2_both(ori = c(2.5, 0.8, 1, 4, 3), ni = ni, n1i = n1, n2i = n2, include = c(1, 3))
  conv2x2_both(ori = c(2.5, 0.8, 1, 4, 3), ni = ni, n1i = n1, n2i = n2, var.names = c("a", "b", "c", "d"))
  # a table with negative cells: missing, with a warning (as metafor)
  expect_warning(a <- conv.2x2(ri = c(0.95, 0.1), ni = c(100, 80), n1i = c(90, 30), n2i = c(5, 44)), "negative")
  b <- suppressWarnings(metafor::conv.2x2(ri = c(0.95, 0.1), ni = c(100, 80), n1i = c(90, 30), n2i = c(5, 44)))
  expect_equal(a, b, ignore_attr = TRUE)
  expect_true(anyNA(a[1, ]))
})

test_that("conv.2x2() from diagnostic accuracy statistics matches metafor (each method, replace)", {
  skip_if_not_installed("metafor")
  d <- data.frame(sens = c(.8, .9, NA, .7, .6, 1), spec = c(.9, .7, .8, NA, .95, .9),
                  ppv = c(.7, NA, .6, .5, .9, .8), npv = c(NA, .8, .9, .85, .7, .9),
                  ni = c(200, 150, 300, 90, 100, 50))
  for (m in c("simple", "optim", "search")) {
    conv2x2_both(sens = sens, spec = spec, ppv = ppv, npv = npv, ni = ni, data = d, method = m)
    conv2x2_both(sens = sens, spec = spec, ppv = ppv, npv = npv, ni = ni, data = d, method = m, drop01 = FALSE)
  }
  d2 <- data.frame(sens = c(.8, .9, .85), spec = c(.9, .7, .8), ppv = c(.7, .5, .6), npv = c(.93, .94, .9),
                   ni = c(200, 150, 300), ai = c(NA, 3, NA))
  for (m in c("simple", "optim", "search")) for (rp in list("ifna", "all", "complete", TRUE, FALSE))
    conv2x2_both(sens = sens, spec = spec, ppv = ppv, npv = npv, ni = ni, data = d2, method = m, replace = rp)
  conv2x2_both(sens = sens, spec = spec, ppv = ppv, npv = npv, ni = ni, data = d2, append = FALSE)
})

test_that("conv.2x2(): bad input gives errors naming the argument and rows", {
  expect_error(conv.2x2(ori = c(2, 2), ni = c(10, -1), n1i = c(5, 5), n2i = c(5, 5)), "ni.*row 2")
  expect_error(conv.2x2(ori = c(2, 2), ni = c(10, 10), n1i = c(5, 12), n2i = c(5, 5)), "n1i.*row 2")
  expect_error(conv.2x2(ri = c(0.1, 1.5), ni = c(10, 10), n1i = c(5, 5), n2i = c(5, 5)), "ri.*row 2")
  expect_error(conv.2x2(sens = 1.2, spec = 0.5, ppv = 0.5, ni = 10), "sens.*row 1")
  expect_error(conv.2x2(ori = 1:2, ni = 1:3, n1i = 1, n2i = 1), "same length")
  expect_error(conv.2x2(ori = 2, ni = 10, n1i = 5, n2i = 5, var.names = "a"), "var.names")
  expect_warning(conv.2x2(ori = 2, ni = 10, n1i = 5, n2i = 5, foo = 1), "foo")
})

test_that("conv.*(): a 'data' that is no data frame gives an error naming 'data' (fuzz finding)", {
  for (f in list(function(d) conv.wald(out = 1, ci.lb = 0.5, ci.ub = 1.5, data = d),
                 function(d) conv.2x2(ori = 2, ni = 10, n1i = 5, n2i = 5, data = d),
                 function(d) conv.fivenum(min = 1, median = 2, max = 4, n = 10, data = d)))
    expect_error(f(list(1, "a", NULL)), "'data' must be a data frame")
})
