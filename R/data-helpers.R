# Data helpers of metafor: replmiss(), dfround().

#' Replace missing values
#'
#' As metafor's \code{replmiss()}: the missing values of \code{x} replaced
#' by the corresponding values of \code{y} (one value, or one per element of
#' \code{x}).  With \code{data}, \code{x} and \code{y} are looked up in it
#' first.
#'
#' @param x a vector.
#' @param y a value or a vector as long as \code{x}.
#' @param data optional data frame in which \code{x} and \code{y} are
#'   evaluated.
#' @return \code{x} with its missing values replaced (an empty \code{x}
#'   becomes \code{y}).
#' @examples
#' replmiss(c(1, NA, 3, NA), c(10, 20, 30, 40))
#' replmiss(c(1, NA, 3), 0)
#' @export
replmiss <- function(x, y, data) {
  env <- parent.frame()
  dat <- if (missing(data) || is.null(data)) NULL else {
    if (!is.data.frame(data)) data <- data.frame(data)
    data
  }
  get1 <- function(e, name) {
    out <- tryCatch(eval(e, dat, env), error = function(err) err)
    if (inherits(out, "error") || is.function(out))
      .mf_stop(sprintf("Cannot find the object/variable ('%s') specified for the '%s' argument.",
                       deparse1(e), name))
    out
  }
  x <- get1(substitute(x), "x")
  y <- get1(substitute(y), "y")
  if (length(y) == 0L) return(x)
  if (length(x) == 0L) x <- rep(NA_real_, length(y))
  if (length(y) == 1L) y <- rep(y, length(x))
  if (length(x) != length(y))
    .mf_stop(sprintf("The length of 'x' (%d) and of 'y' (%d) are not the same.", length(x), length(y)))
  na <- is.na(x)
  x[na] <- y[na]
  x
}

#' Round the numeric columns of a data frame
#'
#' As metafor's \code{dfround()}: each numeric column rounded to its number
#' of digits; with \code{drop0 = FALSE} the column is formatted (as text)
#' with that many decimals, trailing zeros kept.
#'
#' @param x a data frame (or a two-dimensional matrix).
#' @param digits number of digits, one value or one per column (default 0).
#' @param drop0 logical, one value or one per column: \code{TRUE} rounds,
#'   \code{FALSE} formats with trailing zeros.
#' @return The data frame with its numeric columns rounded (or formatted).
#' @examples
#' dfround(data.frame(a = c(1.2345, 2.5), b = c("x", "y"), c = c(0.1, 10)), digits = c(2, 0, 1))
#' @export
dfround <- function(x, digits, drop0 = TRUE) {
  if (is.matrix(x) && length(dim(x)) == 2L) x <- data.frame(x, check.names = FALSE)
  if (!is.data.frame(x)) .mf_stop("'x' must be a data frame (or a matrix).")
  p <- ncol(x)
  if (missing(digits)) digits <- 0
  if (length(digits) == 1L) digits <- rep(digits, p)
  if (length(drop0) == 1L) drop0 <- rep(drop0, p)
  if (length(digits) != p)
    .mf_stop(sprintf("Number of columns in 'x' (%d) does not match the length of 'digits' (%d).", p, length(digits)))
  if (length(drop0) != p)
    .mf_stop(sprintf("Number of columns in 'x' (%d) does not match the length of 'drop0' (%d).", p, length(drop0)))
  if (!is.numeric(digits)) .mf_stop("'digits' must be a numeric vector.")
  if (!is.logical(drop0)) .mf_stop("'drop0' must be a logical vector.")
  for (j in seq_len(p)) {
    if (!is.numeric(x[[j]])) next
    x[[j]] <- if (isTRUE(drop0[j])) round(x[[j]], digits[j])
              else formatC(x[[j]], format = "f", digits = digits[j])
  }
  x
}
