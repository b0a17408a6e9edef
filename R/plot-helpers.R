# Shared pieces of the base-graphics plots (forest, funnel, baujat).
# Only graphics and grDevices are used; every call is namespaced.

# Check that x is a fitted model of ours.
.mf_plot_check <- function(x, fun) {
  if (!inherits(x, "mf_rma"))
    .mf_stop(sprintf("%s() needs a model fitted by rma() (class 'mf_rma'), not %s.", fun, class(x)[1L]))
  invisible(TRUE)
}

# A per-study argument (slab, ilab, subgroup, ...) may be given for all rows
# of the data (length k.all) or for the k rows used in the fit; return the
# values of the used rows.  Matrices and data frames are subset by row.
.mf_per_study <- function(v, x, arg) {
  if (is.null(v)) return(NULL)
  if (is.function(v) || (is.list(v) && !is.data.frame(v)) || !(is.atomic(v) || is.data.frame(v) || is.factor(v)))
    .mf_stop(sprintf("'%s' must be a vector (or for columns, a matrix or data frame), not %s.", arg, class(v)[1L]))
  n <- if (is.data.frame(v) || is.matrix(v)) nrow(v) else length(v)
  rows <- if (n == x$k.all) x$ids else if (n == x$k) seq_len(x$k) else
    .mf_stop(sprintf("'%s' has %d values but the model uses %d of %d studies; give one value per study.",
                     arg, n, x$k, x$k.all))
  if (is.data.frame(v) || is.matrix(v)) v[rows, , drop = FALSE] else v[rows]
}

# Study labels given as 'slab' to a plot: one vector (a one-column data frame
# or matrix is taken as its column), one label per row of the data or per
# study used.
.mf_slab_labels <- function(slab, x) {
  # slab = NA: no labels (metafor's caterpillar plots)
  if (is.atomic(slab) && length(slab) == 1L && is.na(slab)) return(rep("", x$k))
  if ((is.data.frame(slab) || is.matrix(slab)) && NCOL(slab) == 1L) slab <- if (is.data.frame(slab)) slab[[1L]] else c(slab)
  if (is.data.frame(slab) || is.matrix(slab))
    .mf_stop(sprintf("'slab' must be a vector of study labels, not a %d-column %s.", NCOL(slab), class(slab)[1L]))
  as.character(.mf_per_study(slab, x, "slab"))
}

# Study labels of the used rows: the fit's slab, or "Study i".
.mf_plot_slab <- function(x) {
  s <- x$slab[x$ids]
  if (isTRUE(x$slab.null) || is.null(s)) s <- paste("Study", x$ids)
  as.character(s)
}

# Percentage weights of the used rows: inverse-variance weights
# 1 / (v_i + tau^2), or the user's weights.
.mf_plot_weights <- function(x) {
  w <- if (is.null(x$weights)) 1 / (x$vi + x$tau2) else x$weights
  100 * w / sum(w)
}

# Critical value of the fit's intervals at alpha (by default the fit's):
# normal, or t with k - p df for test = "t" / "knha" (as predict.rma).
.mf_plot_crit <- function(x, alpha = x$level) {
  ddf <- x$k - x$p
  if (.mf_tdist(x$test)) {
    if (ddf > 0) stats::qt(alpha / 2, ddf, lower.tail = FALSE) else NA_real_
  } else stats::qnorm(alpha / 2, lower.tail = FALSE)
}

# Pooled estimate of an intercept-only fit with its confidence and
# prediction interval at alpha (by default the fit's level): pred +- crit * sqrt(se^2 + tau^2) (Riley, Higgins &
# Deeks 2011, BMJ 342:d549).  No prediction interval for equal-effects fits.
.mf_plot_pooled <- function(x, alpha = x$level) {
  est <- unname(c(x$beta)[1L])
  crit <- .mf_plot_crit(x, alpha)
  pse <- sqrt(x$se[1L]^2 + x$tau2)
  ee <- .mf_is_ee(x$method)
  same <- isTRUE(all.equal(alpha, x$level))
  list(estimate = est, ci.lb = if (same) unname(x$ci.lb[1L]) else est - crit * x$se[1L],
       ci.ub = if (same) unname(x$ci.ub[1L]) else est + crit * x$se[1L],
       pi.lb = if (ee) NA_real_ else est - crit * pse,
       pi.ub = if (ee) NA_real_ else est + crit * pse,
       k = x$k, tau2 = x$tau2, I2 = x$I2)
}

# Fixed-decimal formatting with a common width (so right-aligned columns
# line up).
.mf_fmt <- function(v, digits) {
  v <- round(v, digits)
  v[!is.na(v) & v == 0] <- 0   # no "-0.00"
  out <- formatC(v, format = "f", digits = digits)
  out[is.na(v)] <- ""
  formatC(out, width = max(nchar(out), 0L))
}

# Apply a transformation given as a function to values and interval bounds;
# a decreasing transformation swaps the bounds.
.mf_transf <- function(transf, est, lb, ub) {
  if (is.null(transf)) return(list(est = est, lb = lb, ub = ub))
  tr <- .mf_transf_elementwise(transf)
  tf <- function(v) { out <- rep(NA_real_, length(v)); ok <- !is.na(v); out[ok] <- tr(v[ok]); out }
  e <- tf(est); l <- tf(lb); u <- tf(ub)
  list(est = e, lb = pmin(l, u), ub = pmax(l, u))
}

# A single number check for plot arguments.
.mf_plot_number <- function(v, arg, null_ok = TRUE) {
  if (is.null(v) && null_ok) return(NULL)
  if (!is.numeric(v) || length(v) != 1L || !is.finite(v))
    .mf_stop(sprintf("'%s' must be a single finite number.", arg))
  v
}

# Axis range pair check.
.mf_plot_range <- function(v, arg) {
  if (!is.numeric(v) || length(v) != 2L || any(!is.finite(v)) || v[1L] >= v[2L])
    .mf_stop(sprintf("'%s' must be two increasing finite numbers, e.g. c(-1, 2).", arg))
  v
}

#' Suggested figure height for a forest plot
#'
#' \code{forest()} shrinks its text so that rows never overlap, but with many
#' studies a taller figure keeps the text readable.  \code{forest_height()}
#' returns the height (in inches) at which the text of a forest plot with
#' \code{k} studies (and \code{ngroups} subgroups) is drawn at full size;
#' use it as the knitr chunk option \code{fig.height} (e.g.
#' \code{fig.height = forest_height(60)}) or as the \code{height} of
#' \code{png()} / \code{pdf()}.
#'
#' @param k number of studies.
#' @param ngroups number of subgroups (each adds a header, a summary row and
#'   a blank row).
#' @param addpred whether the prediction interval row is drawn.
#' @return A single number: the suggested height in inches (at least 3).
#' @examples
#' forest_height(13)
#' forest_height(60, ngroups = 3)
#' @export
forest_height <- function(k, ngroups = 0, addpred = TRUE) {
  if (!is.numeric(k) || length(k) != 1L || !is.finite(k) || k < 1)
    .mf_stop("'k' must be a single positive number of studies.")
  if (!is.numeric(ngroups) || length(ngroups) != 1L || !is.finite(ngroups) || ngroups < 0)
    .mf_stop("'ngroups' must be a single non-negative number.")
  # rows: header (1.5), studies, 3 per subgroup, a blank row, the overall
  # diamond and the prediction interval; 0.19 in per row at cex = 1 plus
  # about 1.1 in for the axis and margins.
  rows <- 1.5 + k + 3 * ngroups + 2 + as.numeric(isTRUE(addpred))
  max(3, round(1.1 + 0.19 * rows, 1))
}

# The arguments of the calling function that were given, by name; NULL for
# those not given (so a default in the signature does not count as given).
# `names` maps the callee's argument names (the list's names) to the caller's
# (the values); unnamed entries keep the caller's name.
.mf_given <- function(names, env = parent.frame()) {
  to <- if (is.null(names(names))) names else ifelse(nzchar(names(names)), names(names), names)
  out <- lapply(unname(names), function(n) if (eval(call("missing", as.name(n)), env)) NULL else get(n, envir = env))
  names(out) <- to
  out
}

# forest() methods' arguments that .mf_forest_draw() takes as given-or-NULL,
# under the same name (ylim arrives as ylim_user).
.mf_forest_given <- c("cex", "main", "alim", "xlim", "at", "steps", "olim", "ilab.xpos", "ilab.pos", "textpos",
                      "rows", "colshade", "lty", ylim_user = "ylim", "cex.lab", "cex.axis", "width", "fonts")
