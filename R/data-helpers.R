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

# the column (name, unique partial name or position) of data given as
# argument `arg` of contrmat()
.mf_find_col <- function(data, g, arg) {
  if (length(g) != 1L) .mf_stop(sprintf("'%s' must be of length 1.", arg))
  if (!(is.character(g) || is.numeric(g)))
    .mf_stop(sprintf("'%s' must be a column name or a column number.", arg))
  if (is.character(g)) {
    pos <- charmatch(g, names(data))
    if (is.na(pos) || pos == 0L)
      .mf_stop(sprintf("Could not find or uniquely identify the column given as '%s'.", arg))
  } else {
    pos <- round(g)
    if (is.na(pos) || pos < 1 || pos > ncol(data))
      .mf_stop(sprintf("Column %s given as '%s' does not exist in the data.", g, arg))
  }
  out <- data[[pos]]
  if (anyNA(out)) .mf_stop(sprintf("The column given as '%s' must not contain missing values.", arg))
  out
}

# the shortest prefixes (at least minlen characters) that keep the labels
# distinct
.mf_shorten <- function(x, minlen) {
  u <- unique(stats::na.omit(x))
  maxlen <- max(nchar(u))
  l <- maxlen
  for (j in seq_len(maxlen)) if (length(unique(substr(u, 1, j))) == length(u)) { l <- j; break }
  if (!missing(minlen) && l < minlen) l <- min(minlen, maxlen)
  substr(x, 1, l)
}

#' Contrast matrix of two-group comparisons
#'
#' As metafor's \code{contrmat()}: for data with one comparison per row
#' (group \code{grp1} versus group \code{grp2}), the matrix with one column
#' per group holding +1 for \code{grp1}, -1 for \code{grp2} and 0 otherwise
#' (the design of a network meta-analysis), the group \code{last} (by
#' default the most frequent \code{grp2}) as the last column.
#'
#' @param data a data frame.
#' @param grp1,grp2 the columns (names, unique partial names or numbers) of
#'   the two groups of each comparison.
#' @param last the group placed last (\code{NA}: the last in sorted order).
#' @param shorten logical: shorten the group names to the shortest unique
#'   prefixes (at least \code{minlen} characters).
#' @param minlen see \code{shorten}.
#' @param check logical: make the column names syntactically valid.
#' @param append logical: return the data with the columns added.
#' @return A matrix, or with \code{append = TRUE} the data frame with the
#'   columns added.
#' @examples
#' d <- data.frame(t1 = c("A", "B", "A"), t2 = c("C", "C", "B"))
#' contrmat(d, "t1", "t2")
#' @export
contrmat <- function(data, grp1, grp2, last, shorten = FALSE, minlen = 2, check = TRUE, append = TRUE) {
  if (missing(data)) .mf_stop("'data' must be given.")
  data <- .mf_conv_data(data)
  if (missing(grp1)) .mf_stop("'grp1' must be given.")
  g1 <- .mf_find_col(data, grp1, "grp1")
  if (missing(grp2)) .mf_stop("'grp2' must be given.")
  g2 <- .mf_find_col(data, grp2, "grp2")
  lvls <- if (is.factor(g1) && is.factor(g2) && identical(levels(g1), levels(g2))) levels(g1)
          else sort(union(levels(factor(g1)), levels(factor(g2))))
  if (missing(last)) {
    tb <- table(g2)
    last <- names(tb)[which.max(tb)]
  }
  if (length(last) != 1L) .mf_stop("'last' must be of length 1.")
  if (is.na(last)) last <- lvls[length(lvls)]
  lp <- charmatch(last, lvls)
  if (is.na(lp) || lp == 0L) .mf_stop("Could not find or uniquely identify the group given as 'last'.")
  lvls <- c(lvls[-lp], lvls[lp])
  X <- outer(as.character(g1), lvls, "==") * 1 - outer(as.character(g2), lvls, "==") * 1
  rownames(X) <- as.character(seq_len(nrow(X)))
  if (shorten) lvls <- .mf_shorten(lvls, minlen = minlen)
  colnames(X) <- if (check) make.names(lvls, unique = TRUE) else lvls
  if (append) X <- cbind(data, X)
  X
}
