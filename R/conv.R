# Conversion helpers of metafor (conv.*).

#' Sampling variances from confidence intervals, test statistics or p-values
#'
#' As metafor's \code{conv.wald()}: for outcomes reported with a Wald-type
#' confidence interval (\code{out} with \code{ci.lb}, \code{ci.ub}; the
#' variance is \eqn{((ub - lb) / (2 z_{1-\alpha/2}))^2}, or
#' \eqn{((ub - out) / z)^2} without the lower bound), a Wald statistic
#' \code{zval} or its two-sided p-value \code{pval} (then
#' \eqn{(y / z)^2}).  With \code{transf} (e.g. \code{log} for odds ratios
#' and their interval) the outcome and the bounds are transformed first.
#' The outcomes and variances are added to \code{data} (as its \code{yi}
#' and \code{vi} columns, or \code{var.names}) as \code{replace} says, and
#' the result is an \code{escalc()} object.
#'
#' @param out,ci.lb,ci.ub observed outcomes and bounds of their intervals.
#' @param zval,pval Wald statistics and their two-sided p-values.
#' @param n sample sizes (stored as the attribute \code{ni}).
#' @param data optional data frame (arguments are evaluated in it).
#' @param include optional logical or index vector: the rows to convert.
#' @param level confidence level of the intervals (one or one per row).
#' @param transf optional function applied to \code{out}, \code{ci.lb},
#'   \code{ci.ub}.
#' @param check logical: warn when the outcome is not about halfway between
#'   the bounds (relative distance above \code{cifac}, 0.1 by default, given
#'   in \code{...}).
#' @param var.names names of the yi and vi columns.
#' @param append logical: return all of \code{data} (\code{TRUE}) or only
#'   the two columns.
#' @param replace \code{"ifna"} (fill in missing values only), \code{"all"}
#'   (replace by the new non-missing values) or \code{"complete"}; a logical
#'   means \code{"all"} (\code{TRUE}) or \code{"ifna"}.
#' @param ... metafor's \code{cifac}.
#' @return An object of class \code{mf_escalc}.
#' @references Altman, D. G., & Bland, J. M. (2011). How to obtain the
#'   confidence interval from a P value. BMJ, 343, d2090.
#' @examples
#' conv.wald(out = c(1.5, 0.8), ci.lb = c(1.1, 0.5), ci.ub = c(2.05, 1.28), transf = log)
#' @export
conv.wald <- function(out, ci.lb, ci.ub, zval, pval, n, data, include, level = 95,
                      transf, check = TRUE, var.names, append = TRUE, replace = "ifna", ...) {
  .mf_check_dots("conv.wald", ...)
  if (missing(out) && missing(ci.lb) && missing(ci.ub) && missing(zval) && missing(pval))
    .mf_stop("conv.wald() needs at least one of 'out', 'ci.lb', 'ci.ub', 'zval', 'pval'.")
  if (is.logical(replace)) replace <- if (isTRUE(replace)) "all" else "ifna"
  replace <- match.arg(replace, c("ifna", "all", "complete"))
  cifac <- list(...)$cifac
  if (is.null(cifac)) cifac <- 0.1
  has.data <- !missing(data) && !is.null(data)
  if (has.data && !is.data.frame(data)) data <- data.frame(data)
  x <- if (has.data) data else NULL
  if (missing(var.names)) {
    yi.name <- "yi"
    vi.name <- "vi"
    if (inherits(x, c("mf_escalc", "escalc"))) {
      if (!is.null(attr(x, "yi.names"))) yi.name <- attr(x, "yi.names")[1]
      else if (!"yi" %in% names(x)) .mf_stop("Cannot determine the name of the 'yi' variable.")
      if (!is.null(attr(x, "vi.names"))) vi.name <- attr(x, "vi.names")[1]
      else if (!"vi" %in% names(x)) .mf_stop("Cannot determine the name of the 'vi' variable.")
    }
  } else {
    if (length(var.names) != 2L) .mf_stop("'var.names' must be of length 2.")
    if (any(var.names != make.names(var.names, unique = TRUE))) {
      var.names <- make.names(var.names, unique = TRUE)
      warning("'var.names' adjusted to syntactically valid names: ",
              paste(var.names, collapse = ", "), call. = FALSE)
    }
    yi.name <- var.names[1]
    vi.name <- var.names[2]
  }
  mf <- match.call()
  env <- parent.frame()
  getx <- function(name, numeric = TRUE) {
    if (!name %in% names(mf)) return(NULL)
    e <- mf[[name]]
    val <- tryCatch(eval(e, x, env), error = function(err) err)
    if (inherits(val, "error") || is.function(val))
      .mf_stop(sprintf("Cannot find the object/variable ('%s') specified for the '%s' argument.", deparse1(e), name))
    if (numeric && !is.null(val) && !(is.numeric(val) || is.logical(val)))
      .mf_stop(sprintf("The object/variable specified for the '%s' argument is not numeric.", name))
    if (numeric && !is.null(val)) val <- as.vector(unclass(val))
    val
  }
  vals <- lapply(c(out = "out", ci.lb = "ci.lb", ci.ub = "ci.ub", zval = "zval", pval = "pval", n = "n"), getx)
  lens <- lengths(vals)
  lens <- lens[lens > 0L]
  if (length(unique(lens)) > 1L)
    .mf_stop(sprintf("The data vectors are not all of the same length: %s.",
                     paste0(names(lens), " (", lens, ")", collapse = ", ")))
  k <- if (length(lens)) lens[[1]] else 0L
  vals <- lapply(vals, function(v) if (is.null(v)) rep(NA_real_, k) else as.numeric(v))
  level <- if ("level" %in% names(mf)) getx("level") else level
  include <- getx("include", numeric = FALSE)
  include <- if (is.null(include)) rep(TRUE, k) else .esc_subset(include, k, "include", stop_if_empty = FALSE)
  for (nm in names(vals)) vals[[nm]][!include] <- NA_real_
  pv <- vals$pval
  if (any(pv < 0 | pv > 1, na.rm = TRUE)) .mf_stop("One or more p-values are < 0 or > 1.")
  if (length(level) == 1L) level <- rep(level, k)
  if (length(level) != k)
    .mf_stop(sprintf("The length of 'level' (%d) does not match the number of rows (%d).", length(level), k))
  if (!is.numeric(level) || any(level < 0 | level > 100, na.rm = TRUE))
    .mf_stop("'level' must be between 0 and 100.")
  # (as metafor: 0 -> alpha 1; >= 1 a percentage; else a level or an alpha)
  alpha <- ifelse(level == 0, 1, ifelse(level >= 1, (100 - level) / 100,
                                        ifelse(level > 0.5, 1 - level, level)))
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  if (!missing(transf) && is.function(transf)) {
    for (nm in c("out", "ci.lb", "ci.ub")) vals[[nm]] <- vapply(vals[[nm]], function(z) as.double(transf(z)), 0)
  }
  if (!has.data) {
    x <- data.frame(rep(NA_real_, k), rep(NA_real_, k))
    names(x) <- c(yi.name, vi.name)
  }
  put <- function(old, new) {
    if (replace == "complete") return(new)
    if (is.null(old)) old <- rep(NA_real_, k)
    sel <- if (replace == "ifna") is.na(old) else !is.na(new)
    old[sel] <- new[sel]
    old
  }
  ycol <- put(x[[yi.name]], vals$out)
  ni <- attr(x[[yi.name]], "ni")
  if (!is.null(ni)) {
    na <- is.na(ni)
    ni[na] <- vals$n[na]
    attr(ycol, "ni") <- ni
  } else if (any(!is.na(vals$n))) {
    attr(ycol, "ni") <- vals$n
  }
  x[[yi.name]] <- ycol
  lb <- vals$ci.lb
  ub <- vals$ci.ub
  vi <- ifelse(is.na(lb), ((ub - vals$out) / crit)^2, ((ub - lb) / (2 * crit))^2)
  if (isTRUE(check)) {
    dev <- abs((ub + lb) / 2 - x[[yi.name]]) / (ub - lb)
    big <- dev > cifac
    if (!is.null(x[[vi.name]])) big[!is.na(x[[vi.name]])] <- NA
    if (any(big, na.rm = TRUE)) {
      w <- which(big)
      w <- if (length(w) > 5L) paste0(paste(w[1:5], collapse = ", "), ", ...") else paste(w, collapse = ", ")
      warning("the observed outcome does not appear to be halfway between (ci.lb, ci.ub) in row(s): ", w,
              call. = FALSE)
    }
  }
  zv <- vals$zval
  zna <- is.na(zv)
  zv[zna] <- stats::qnorm(vals$pval[zna] / 2, lower.tail = FALSE)
  vna <- is.na(vi)
  vi[vna] <- ((x[[yi.name]] / zv)^2)[vna]
  x[[vi.name]] <- put(x[[vi.name]], vi)
  measure <- attr(x[[yi.name]], "measure")
  if (is.null(measure)) measure <- "GEN"
  # (values, not expressions: nothing is looked up in the columns of x)
  res <- do.call(escalc, list(measure = measure, data = x, yi = x[[yi.name]], vi = x[[vi.name]],
                              var.names = c(yi.name, vi.name), cutoff = NA_real_))
  # (escalc() keeps the attribute "ni" only of the yi columns it knows)
  ni <- attr(x[[yi.name]], "ni")
  if (!is.null(ni)) {
    yc <- res[[yi.name]]
    attr(yc, "ni") <- ni
    res[[yi.name]] <- yc
  }
  if (!append) res <- res[, c(yi.name, vi.name)]
  res
}
