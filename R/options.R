# Package options: setmfopt() / getmfopt() with the names and checks of
# metafor's functions of the same name.  metafor keeps its options in
# options("metafor"); metafast keeps its own in an environment of the package,
# so that the two packages loaded together do not change each other.

.mf_opts <- new.env(parent = emptyenv())
.mf_opts$opts <- list(space = TRUE)

# the values metafor's setmfopt() accepts for 'theme'
.mf_opt_themes <- c("default", "light", "dark", "auto", "custom",
                    "default2", "light2", "dark2", "auto2", "custom2")

#' Get and set package options
#'
#' \code{setmfopt()} sets and \code{getmfopt()} returns the options of
#' metafast, with the names and checks of metafor's functions of the same
#' name.  The options live in an environment inside metafast (not in
#' \code{options()}), so setting them does not change metafor's options and
#' vice versa.
#'
#' Options that metafast honours:
#' \describe{
#'   \item{\code{digits}}{a number (or a named vector, as in metafor; metafast
#'     prints with one number of decimals and then uses the element
#'     \code{est}, else the first element) that replaces the \code{digits}
#'     stored in a fitted model whenever no \code{digits} argument is given:
#'     \code{print()} and \code{summary()} of an \code{rma()} fit, and the
#'     results that take their digits from a fit (\code{confint()},
#'     \code{predict()}, \code{anova()}, \code{fsn()}, \code{regtest()},
#'     \code{ranktest()}, \code{trimfill()}, ...).  As in metafor, it does not
#'     change the printout of \code{escalc()} objects or of \code{fsn()} run on
#'     a vector of estimates, which carry their own digits.}
#'   \item{\code{space}}{\code{TRUE} (default) or \code{FALSE}: whether the
#'     printout of \code{escalc()} objects and of \code{fsn()} starts and ends
#'     with an empty line.  (The other print methods always add them.)}
#'   \item{\code{gosh.max}}{the number of model fits above which \code{gosh()}
#'     asks for confirmation (interactive sessions) or refuses (default 1e7).}
#' }
#' Options that metafast stores (with metafor's checks) but that have no
#' effect: \code{check} and \code{silent} (metafor's start-up version check and
#' message), \code{style} (colours of the console output with the crayon
#' package), \code{theme}, \code{fg} and \code{bg} (plot colours).
#'
#' @param x the name of an option (unquoted or a string); if missing, all
#'   options are returned.
#' @param default value returned when the option is not set.
#' @param ... options to set, as \code{name = value}; \code{name = NULL}
#'   removes an option.
#' @return \code{getmfopt()}: the value of the option, or the list of all
#'   options.  \code{setmfopt()}: the previous list of options, invisibly.
#' @examples
#' old <- setmfopt(digits = 2)
#' getmfopt(digits)
#' fit <- rma(yi = c(0.1, 0.3, 0.35, 0.65), vi = c(0.03, 0.03, 0.05, 0.01))
#' fit
#' setmfopt(digits = NULL)
#' getmfopt()
#' @export
getmfopt <- function(x, default = NULL) {
  opts <- .mf_opts$opts
  if (!missing(x)) {
    nm <- substitute(x)
    nm <- if (is.character(nm)) nm else as.character(nm)
    if (length(nm) != 1L) .mf_stop("'x' must be the name of one option.")
    opts <- opts[[nm]]
  }
  if (is.null(opts)) default else opts
}

#' @rdname getmfopt
#' @export
setmfopt <- function(...) {
  new <- list(...)
  if (length(new) && (is.null(names(new)) || any(names(new) == "")))
    .mf_stop("setmfopt() takes options as name = value, e.g. setmfopt(digits = 3).")
  old <- .mf_opts$opts
  opts <- old
  for (nm in names(new)) {
    val <- new[[nm]]
    if (!is.null(val)) {
      if (nm == "space" && !(is.logical(val) && length(val) == 1L && !is.na(val)))
        .mf_stop("'space' must be TRUE or FALSE.")
      if (nm == "digits" && !(is.vector(val, mode = "numeric") && length(val) >= 1L && !anyNA(val)))
        .mf_stop("'digits' must be a numeric vector, e.g. setmfopt(digits = 3).")
      if (nm == "style" && !is.logical(val) && !is.list(val))
        .mf_stop("'style' must be a list (or FALSE).")
      if (nm == "theme" && !(is.character(val) && length(val) == 1L && val %in% .mf_opt_themes))
        .mf_stop(sprintf("'theme' must be one of %s.", paste0("'", .mf_opt_themes, "'", collapse = ", ")))
      if (nm %in% c("fg", "bg") && !is.character(val))
        .mf_stop(sprintf("'%s' must be a character string.", nm))
    }
    opts[nm] <- list(val)
    if (is.null(val)) opts[[nm]] <- NULL
  }
  .mf_opts$opts <- opts
  invisible(old)
}

# The digits option as one integer (NULL when unset): metafast prints every
# number of a result with one number of decimals, so a named vector
# (metafor's est/se/test/pval/ci/var/sevar/fit/het) gives its 'est' element.
.mf_opt_digits <- function() {
  d <- .mf_opts$opts$digits
  if (is.null(d) || !length(d)) return(NULL)
  if (!is.null(names(d)) && "est" %in% names(d)) d <- d[["est"]]
  as.integer(d[[1L]])
}

# metafor's empty line before and after a printout (option 'space').
.mf_space <- function() {
  if (isTRUE(.mf_opts$opts$space) || is.null(.mf_opts$opts$space)) cat("\n")
}

# metafor's digits: a named vector (est, se, test, pval, ci, var, sevar, fit,
# het).  d (one number, or named elements, partially matched) merged into res.
.mf_merge_digits <- function(res, d) {
  if (is.null(d) || !length(d)) return(res)
  if (is.null(names(d))) {
    res[] <- d[[1L]]
  } else {
    pos <- pmatch(names(d), names(res))
    res[pos[!is.na(pos)]] <- unlist(d)[!is.na(pos)]
  }
  res
}

# The digits vector of a result, in metafor's order: 4 everywhere, the
# object's own (xdigits), the option (setmfopt(digits = ); opt = FALSE skips
# it, as metafor does for results computed from plain vectors), the argument.
.mf_digits_vec <- function(digits = NULL, xdigits = NULL, opt = TRUE) {
  res <- c(est = 4, se = 4, test = 4, pval = 4, ci = 4, var = 4, sevar = 4, fit = 4, het = 4)
  res <- .mf_merge_digits(res, xdigits)
  if (opt) res <- .mf_merge_digits(res, .mf_opts$opts$digits)
  res <- .mf_merge_digits(res, digits)
  if (res[["pval"]] <= 1) res[["pval"]] <- 2
  res
}
