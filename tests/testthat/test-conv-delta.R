# conv.delta() against metafor

expect_cd <- function(a, b) {
  expect_identical(names(a), names(b))
  for (nm in names(b)) {
    expect_identical(is.na(a[[nm]]), is.na(b[[nm]]), label = nm)
    expect_equal(as.vector(a[[nm]]), as.vector(b[[nm]]), tolerance = tol_closed, label = nm)
  }
  yn <- attr(b, "yi.names")[1]
  expect_equal(attr(a[[yn]], "ni"), attr(b[[yn]], "ni"))
}

test_that("conv.delta() matches metafor (transformations, extra arguments, NA, include)", {
  skip_if_not_installed("metafor")
  y <- c(0.2, -0.5, NA, 1.3, 0)
  v <- c(0.01, 0.02, 0.03, NA, 0.05)
  for (f in list(exp, transf.ztor, transf.ilogit, function(x) x^3, sqrt))
    expect_cd(conv.delta(yi = y, vi = v, transf = f), metafor::conv.delta(yi = y, vi = v, transf = f))
  expect_cd(conv.delta(yi = y, vi = v, ni = c(10, 20, 30, 40, 50), transf = exp, include = c(1, 2, 5)),
            metafor::conv.delta(yi = y, vi = v, ni = c(10, 20, 30, 40, 50), transf = exp, include = c(1, 2, 5)))
  # an argument of transf, per row, from the data
  d <- data.frame(est = c(0.3, 0.6, 0.1), var = c(0.02, 0.01, 0.04), s = c(2, 3, 4), other = 1:3)
  for (app in c(TRUE, FALSE))
    expect_cd(conv.delta(est, var, data = d, transf = transf.dtomd, targs = s, append = app),
              metafor::conv.delta(est, var, data = d, transf = metafor::transf.dtomd, targs = s, append = app))
  f2 <- function(x, a, b = 1) a * x^2 + b
  expect_cd(conv.delta(yi = y, vi = v, transf = f2, a = 2, b = c(1, 2, 3, 4, 5), zz = 3),
            metafor::conv.delta(yi = y, vi = v, transf = f2, a = 2, b = c(1, 2, 3, 4, 5), zz = 3))
  # filling in an escalc object's outcomes
  e1 <- escalc("ZCOR", ri = c(0.2, 0.5, NA), ni = c(30, 40, 50))
  e2 <- metafor::escalc("ZCOR", ri = c(0.2, 0.5, NA), ni = c(30, 40, 50))
  for (rp in list("ifna", "all", "complete"))
    expect_cd(conv.delta(yi, vi, data = e1, transf = transf.ztor, replace = rp, var.names = c("r", "vr")),
              metafor::conv.delta(yi, vi, data = e2, transf = metafor::transf.ztor, replace = rp,
                                  var.names = c("r", "vr")))
  expect_error(conv.delta(yi = 1, vi = 0.1), "transf")
  expect_error(conv.delta(yi = 1:2, vi = 0.1, transf = exp), "length")
  expect_error(conv.delta(yi = 1, vi = 0.1, transf = function(x, method) x, method = 2), "func, method, side")
})
