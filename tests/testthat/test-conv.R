# conv.wald() against metafor

cw_both <- function(...) {
  run <- function(f) {
    warned <- FALSE
    val <- withCallingHandlers(tryCatch(f(...), error = function(e) e),
                               warning = function(w) { warned <<- TRUE; invokeRestart("muffleWarning") })
    list(val = val, warned = warned)
  }
  list(a = run(metafast::conv.wald), b = run(metafor::conv.wald))
}

expect_cw <- function(r) {
  a <- r$a$val
  b <- r$b$val
  if (inherits(b, "error")) return(expect_true(inherits(a, "error")))
  expect_false(inherits(a, "error"))
  expect_identical(names(a), names(b))
  for (nm in names(b)) {
    expect_identical(is.na(a[[nm]]), is.na(b[[nm]]), label = nm)
    expect_equal(as.vector(a[[nm]]), as.vector(b[[nm]]), tolerance = tol_closed, label = nm)
  }
  yn <- attr(b, "yi.names")[1]
  expect_equal(attr(a[[yn]], "ni"), attr(b[[yn]], "ni"))
  expect_identical(attr(a[[yn]], "measure"), attr(b[[yn]], "measure"))
  expect_identical(r$a$warned, r$b$warned)
}

test_that("conv.wald() matches metafor: intervals, z, p, levels, transf, n", {
  skip_if_not_installed("metafor")
  expect_cw(cw_both(out = c(1.5, 0.8, NA, 2), ci.lb = c(1.1, 0.5, NA, NA), ci.ub = c(2.05, 1.28, NA, 3),
                    pval = c(NA, NA, 0.03, NA), transf = log))
  expect_cw(cw_both(out = c(1.5, 0.8, 1.2), ci.lb = c(1.1, 0.5, 0.2), ci.ub = c(2.05, 1.28, 1.3)))  # warns
  expect_cw(cw_both(out = c(1.5, 0.8, 1.2), ci.lb = c(1.1, 0.5, 0.2), ci.ub = c(2.05, 1.28, 1.3), check = FALSE))
  expect_cw(cw_both(out = c(1.5, 0.8), ci.lb = c(1.4, 0.5), ci.ub = c(2.05, 1.28), transf = log, cifac = 0.5))
  expect_cw(cw_both(out = c(1.5, 0.8, 1.2), zval = c(2, NA, -1), pval = c(NA, 0.2, 0.3),
                    n = c(10, 20, 30), level = c(95, 90, 99)))
  expect_cw(cw_both(out = c(0.3, -0.2), ci.lb = c(0.1, -0.5), ci.ub = c(0.5, 0.1), level = 0.9))
  expect_cw(cw_both(out = c(1.5, 0.8), pval = c(1.2, 0.3)))
  expect_cw(cw_both(out = c(1.5, 0.8), ci.lb = 1:3))
  for (rp in list("ifna", "all", "complete", TRUE, FALSE))
    expect_cw(cw_both(out = c(1.5, 0.8), pval = c(0.2, 0.3), replace = rp,
                      data = data.frame(yi = c(1, NA), vi = c(0.1, NA))))
})

test_that("conv.wald() with data: columns, var.names, include, append, an escalc object", {
  skip_if_not_installed("metafor")
  d <- data.frame(or = c(1.5, 0.8, NA), lb = c(1.1, 0.5, 0.3), ub = c(2.05, 1.28, 0.9),
                  p = c(NA, NA, 0.01), x = 1:3)
  for (app in c(TRUE, FALSE)) {
    a <- conv.wald(out = or, ci.lb = lb, ci.ub = ub, pval = p, data = d, transf = log, append = app)
    b <- metafor::conv.wald(out = or, ci.lb = lb, ci.ub = ub, pval = p, data = d, transf = log, append = app)
    expect_cw(list(a = list(val = a, warned = FALSE), b = list(val = b, warned = FALSE)))
  }
  a <- conv.wald(out = or, ci.lb = lb, ci.ub = ub, data = d, transf = log, var.names = c("lnor", "v"),
                 include = c(TRUE, FALSE, TRUE))
  b <- metafor::conv.wald(out = or, ci.lb = lb, ci.ub = ub, data = d, transf = log, var.names = c("lnor", "v"),
                          include = c(TRUE, FALSE, TRUE))
  expect_cw(list(a = list(val = a, warned = FALSE), b = list(val = b, warned = FALSE)))
  expect_s3_class(a, "mf_escalc")
  # filling in the missing outcomes of an escalc object keeps its measure
  e1 <- escalc("OR", ai = c(3, NA, 5), bi = c(10, 9, 8), ci = c(4, NA, 2), di = c(12, 11, 10))
  e2 <- metafor::escalc("OR", ai = c(3, NA, 5), bi = c(10, 9, 8), ci = c(4, NA, 2), di = c(12, 11, 10))
  a <- conv.wald(out = c(NA, 1.5, NA), ci.lb = c(NA, 1.1, NA), ci.ub = c(NA, 2.05, NA), data = e1, transf = log)
  b <- metafor::conv.wald(out = c(NA, 1.5, NA), ci.lb = c(NA, 1.1, NA), ci.ub = c(NA, 2.05, NA), data = e2, transf = log)
  expect_equal(as.vector(a$yi), as.vector(b$yi), tolerance = tol_closed)
  expect_equal(as.vector(a$vi), as.vector(b$vi), tolerance = tol_closed)
  expect_identical(attr(a$yi, "measure"), "OR")
  expect_error(conv.wald(), "at least one")
  expect_warning(conv.wald(out = 1, ci.lb = 0.5, ci.ub = 1.5, foo = 1), "foo")
})
