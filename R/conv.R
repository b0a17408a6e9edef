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
  if (has.data) data <- .mf_conv_data(data)
  x <- if (has.data) data else NULL
  vn <- .mf_conv_var_names(x, if (missing(var.names)) NULL else var.names)
  yi.name <- vn[1L]
  vi.name <- vn[2L]
  mf <- match.call()
  env <- parent.frame()
  getx <- .mf_conv_getter(mf, x, env, as_vector = TRUE)
  vals <- .mf_conv_vectors(getx, c("out", "ci.lb", "ci.ub", "zval", "pval", "n"))
  k <- length(vals[[1L]])
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
    tf <- .mf_transf_elementwise(transf)
    for (nm in c("out", "ci.lb", "ci.ub")) vals[[nm]] <- tf(vals[[nm]])
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

# Derivative of f at the scalar x by Richardson extrapolation of central
# differences (Richardson 1927; the settings of numDeriv's grad(): first
# step d |x| (eps when x is about 0), halved r = 4 times, extrapolated with
# the factors 4^m).  `...` are further arguments of f.
.conv_deriv <- function(f, x, ...) {
  d <- 1e-4
  eps <- 1e-4
  zero.tol <- sqrt(.Machine$double.eps / 7e-7)
  r <- 4L
  h <- abs(d * x) + eps * (abs(x) < zero.tol)
  a <- numeric(r)
  for (j in seq_len(r)) {
    a[j] <- (f(x + h, ...) - f(x - h, ...)) / (2 * h)
    if (is.na(a[j])) stop("the function is not defined around x")   # (as numDeriv)
    h <- h / 2
  }
  for (m in seq_len(r - 1L)) a <- (a[-1L] * 4^m - a[-length(a)]) / (4^m - 1)
  a
}

#' Transformed outcomes and their variances by the delta method
#'
#' As metafor's \code{conv.delta()}: the outcomes \code{yi} transformed by
#' \code{transf} and their variances \eqn{v_i f'(y_i)^2}, the derivative
#' computed numerically (Richardson extrapolation).  Further arguments of
#' \code{transf} can be given in \code{...} (evaluated in \code{data}, one
#' value or one per row).  The results are added to \code{data} as
#' \code{replace} says and returned as an \code{escalc()} object.
#'
#' @param yi,vi outcomes and their sampling variances.
#' @param ni optional sample sizes (stored as the attribute \code{ni}).
#' @param data optional data frame (arguments are evaluated in it).
#' @param include optional logical or index vector: the rows to transform.
#' @param transf the transformation (a function of one value).
#' @param var.names names of the yi and vi columns of the result.
#' @param append logical: return all of \code{data} or only the two columns.
#' @param replace \code{"ifna"}, \code{"all"} or \code{"complete"} (or a
#'   logical), as in \code{\link{conv.wald}}.
#' @param ... further arguments of \code{transf}.
#' @return An object of class \code{mf_escalc}.
#' @references Oehlert, G. W. (1992). A note on the delta method. American
#'   Statistician, 46, 27-29.
#' @examples
#' conv.delta(yi = c(0.2, 0.5), vi = c(0.01, 0.02), transf = exp)
#' @export
conv.delta <- function(yi, vi, ni, data, include, transf, var.names, append = TRUE,
                       replace = "ifna", ...) {
  .mf_check_dots("conv.delta", ...)
  if (missing(yi) || missing(vi)) .mf_stop("conv.delta() needs the 'yi' and 'vi' arguments.")
  if (missing(transf)) .mf_stop("conv.delta() needs the 'transf' argument.")
  if (!is.function(transf)) .mf_stop("'transf' must be a function.")
  if (is.logical(replace)) replace <- if (isTRUE(replace)) "all" else "ifna"
  replace <- match.arg(replace, c("ifna", "all", "complete"))
  has.data <- !missing(data) && !is.null(data)
  if (has.data) data <- .mf_conv_data(data)
  x <- if (has.data) data else NULL
  vn <- .mf_conv_var_names(x, if (missing(var.names)) NULL else var.names)
  yi.name <- vn[1L]
  vi.name <- vn[2L]
  mf <- match.call()
  env <- parent.frame()
  getx <- .mf_conv_getter(mf, x, env, as_vector = FALSE)
  yv <- getx("yi")
  ynia <- attr(yv, "ni")
  yv <- as.numeric(as.vector(unclass(yv)))
  vv <- as.numeric(as.vector(unclass(getx("vi"))))
  nv <- getx("ni")
  if (length(yv) != length(vv)) .mf_stop("The lengths of 'yi' and 'vi' are not the same.")
  k <- length(yv)
  if (!is.null(nv) && length(nv) != k) .mf_stop("'ni' must have the same length as 'yi'.")
  nv <- if (is.null(nv)) rep(NA_real_, k) else as.numeric(as.vector(unclass(nv)))
  include <- getx("include", numeric = FALSE)
  include <- if (is.null(include)) rep(TRUE, k) else .esc_subset(include, k, "include", stop_if_empty = FALSE)
  yv[!include] <- NA_real_
  vv[!include] <- NA_real_
  nv[!include] <- NA_real_
  # the arguments in `...` that are arguments of transf (as metafor: others
  # are ignored), evaluated in data, one value or one per row
  targs <- setdiff(names(formals(args(transf)))[-1L], "...")
  dn <- setdiff(names(mf)[-1L], c("yi", "vi", "ni", "data", "include", "transf", "var.names",
                                  "append", "replace"))
  dn <- dn[dn %in% targs]
  if (any(!is.na(pmatch(dn, c("func", "method", "side"), duplicates.ok = TRUE))))
    .mf_stop("An argument in ... (partially) matches an argument of the numerical derivative (func, method, side).")
  dargs <- lapply(stats::setNames(dn, dn), function(nm) {
    val <- getx(nm)
    if (length(val) == 1L) val <- rep(val, k)
    val
  })
  yt <- rep(NA_real_, k)
  vt <- rep(NA_real_, k)
  for (i in seq_len(k)) {
    ai <- lapply(dargs, `[[`, i)
    val <- tryCatch(suppressWarnings(do.call(transf, c(list(yv[i]), ai))), error = function(e) NA_real_)
    yt[i] <- if (length(val) == 1L) val else NA_real_
    g <- tryCatch(suppressWarnings(do.call(.conv_deriv, c(list(transf, yv[i]), ai))),
                  error = function(e) NA_real_)
    vt[i] <- if (length(g) == 1L) vv[i] * g^2 else NA_real_
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
  oldni <- if (replace == "complete") NULL else attr(x[[yi.name]], "ni")
  ycol <- put(x[[yi.name]], yt)
  if (!is.null(ynia)) nv[is.na(nv)] <- ynia[is.na(nv)]
  if (!is.null(oldni)) nv[is.na(nv)] <- oldni[is.na(nv)]
  attr(ycol, "ni") <- if (any(!is.na(nv))) nv else oldni
  x[[yi.name]] <- ycol
  x[[vi.name]] <- put(x[[vi.name]], vt)
  res <- do.call(escalc, list(data = x, yi = x[[yi.name]], vi = x[[vi.name]],
                              var.names = c(yi.name, vi.name)))
  ni <- attr(x[[yi.name]], "ni")
  if (!is.null(ni)) {
    yc <- res[[yi.name]]
    attr(yc, "ni") <- ni
    res[[yi.name]] <- yc
  }
  if (!append) res <- res[, c(yi.name, vi.name)]
  res
}

# The names of the yi and vi columns that conv.wald() and conv.delta() write:
# var.names, or those an escalc data frame carries, or "yi" and "vi".
.mf_conv_var_names <- function(x, var.names) {
  if (is.null(var.names)) {
    yi.name <- "yi"
    vi.name <- "vi"
    if (inherits(x, c("mf_escalc", "escalc"))) {
      if (!is.null(attr(x, "yi.names"))) yi.name <- attr(x, "yi.names")[1]
      else if (!"yi" %in% names(x)) .mf_stop("Cannot determine the name of the 'yi' variable.")
      if (!is.null(attr(x, "vi.names"))) vi.name <- attr(x, "vi.names")[1]
      else if (!"vi" %in% names(x)) .mf_stop("Cannot determine the name of the 'vi' variable.")
    }
    return(c(yi.name, vi.name))
  }
  if (length(var.names) != 2L) .mf_stop("'var.names' must be of length 2.")
  if (any(var.names != make.names(var.names, unique = TRUE))) {
    var.names <- make.names(var.names, unique = TRUE)
    warning("'var.names' adjusted to syntactically valid names: ", paste(var.names, collapse = ", "), call. = FALSE)
  }
  var.names[1:2]
}

# A function that evaluates the argument 'name' of the call mf in the data x
# (then in env), as metafor's conv.* functions read their arguments (NULL
# when not given); numeric values are checked and, with as_vector, stripped
# of their attributes.
.mf_conv_getter <- function(mf, x, env, as_vector) {
  force(mf); force(x); force(env)
  function(name, numeric = TRUE) {
    if (!name %in% names(mf)) return(NULL)
    e <- mf[[name]]
    val <- tryCatch(eval(e, x, env), error = function(err) err)
    if (inherits(val, "error") || is.function(val))
      .mf_stop(sprintf("Cannot find the object/variable ('%s') specified for the '%s' argument.", deparse1(e), name))
    if (numeric && !is.null(val) && !(is.numeric(val) || is.logical(val)))
      .mf_stop(sprintf("The object/variable specified for the '%s' argument is not numeric.", name))
    if (as_vector && numeric && !is.null(val)) val <- as.vector(unclass(val))
    val
  }
}

# The data vectors of a conv.*() function, each fetched by name with `getx`
# (from `x` or the call; NULL when not given), as numeric vectors of one
# common length k (an absent one is all NA); an error when the given ones
# differ in length.
.mf_conv_vectors <- function(getx, nms) {
  v <- lapply(stats::setNames(nms, nms), getx)
  lens <- lengths(v)
  lens <- lens[lens > 0L]
  if (length(unique(lens)) > 1L)
    .mf_stop(sprintf("The data vectors are not all of the same length: %s.",
                     paste0(names(lens), " (", lens, ")", collapse = ", ")))
  k <- if (length(lens)) lens[[1]] else 0L
  lapply(v, function(z) if (is.null(z)) rep(NA_real_, k) else as.numeric(z))
}
