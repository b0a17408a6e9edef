# Helpers of the tests of the further escalc() measures
# (tests/testthat/test-escalc-measures-*.R): run metafast's and metafor's
# escalc() on the same arguments (columns of `data` passed as vectors) and
# compare outcomes, variances, NA patterns, the "ni" attribute, errors and
# whether a warning was given.

esc_both <- function(measure, args) {
  run <- function(f) {
    warned <- FALSE
    out <- withCallingHandlers(
      tryCatch(do.call(f, c(list(measure), args)), error = function(e) e),
      warning = function(w) {
        warned <<- TRUE
        invokeRestart("muffleWarning")
      })
    list(out = out, warned = warned)
  }
  list(a = run(metafast::escalc), b = run(metafor::escalc))
}

# args: named list of vectors and options; expect the same results (both
# error, or values within tol_closed and the same NA pattern and warnings)
expect_esc_match <- function(measure, args, tol = tol_closed) {
  r <- esc_both(measure, args)
  a <- r$a$out
  b <- r$b$out
  lab <- paste0(measure, "(", paste(names(args), collapse = ", "), ")")
  if (inherits(b, "error")) {
    expect_true(inherits(a, "error"), label = paste(lab, "errors as metafor"))
    return(invisible())
  }
  expect_false(inherits(a, "error"), label = paste(lab, "runs"))
  if (inherits(a, "error")) return(invisible())
  expect_identical(is.na(as.vector(a$yi)), is.na(as.vector(b$yi)), label = paste(lab, "NA(yi)"))
  expect_identical(is.na(as.vector(a$vi)), is.na(as.vector(b$vi)), label = paste(lab, "NA(vi)"))
  expect_equal(as.vector(a$yi), as.vector(b$yi), tolerance = tol, label = paste(lab, "yi"))
  expect_equal(as.vector(a$vi), as.vector(b$vi), tolerance = tol, label = paste(lab, "vi"))
  expect_equal(as.vector(attr(a$yi, "ni")), as.vector(attr(b$yi, "ni")), label = paste(lab, "ni"))
  expect_identical(r$a$warned, r$b$warned, label = paste(lab, "warning"))
  invisible()
}

# the columns of a data frame as a list of arguments (renamed by `map`,
# argument = column)
esc_cols <- function(data, map) lapply(map, function(nm) data[[nm]])

esc_metadat <- function(name) {
  skip_if_not_installed("metadat")
  e <- new.env()
  utils::data(list = name, package = "metadat", envir = e)
  e[[name]]
}
