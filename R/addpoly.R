# addpoly(): add pooled estimates as diamonds to the last forest plot drawn
# by forest(), at metafor's rows and with the settings of that plot.

#' Add diamonds to a forest plot
#'
#' Adds one or more estimates with their confidence intervals as diamonds to
#' the forest plot drawn last by \code{\link{forest}} (as metafor's
#' \code{addpoly()}): the label at the left edge of the plot, the annotation
#' at its right edge, with the text size, transformation
#' (\code{transf} / \code{atransf}), decimals and axis limits of that plot.
#' Use it with metafor's coordinates (\code{xlim} or \code{rows} given to
#' \code{forest()}), where the studies sit on the rows given to
#' \code{forest()} (default \code{k:1}) and the pooled estimate on row -1.
#'
#' @param x an intercept-only \code{rma()} fit (\code{addpoly.mf_rma}) or
#'   estimates (\code{addpoly.default}).
#' @param row,rows the row (fit) or rows (estimates; a single value is the
#'   top row of consecutive rows) where the diamonds are drawn.
#' @param level confidence level (percent); by default that of the fit, or of
#'   the forest plot.
#' @param annotate draw the annotations (default: as the forest plot).
#' @param addpred add the prediction interval as a dotted line through the
#'   diamond (fits: metafor's \code{predstyle = "line"}).
#' @param predstyle \code{"line"} (the only style supported by
#'   \code{addpoly()} yet); giving it sets \code{addpred = TRUE}.
#' @param digits decimals of the annotations (default: as the forest plot).
#' @param mlab labels of the diamonds.
#' @param transf,atransf,targs transformation of the estimates (default: as
#'   the forest plot).
#' @param efac expansion factor of the diamonds' height (one value, or
#'   metafor's vector whose third value is used).
#' @param col,border fill and border colour of the diamonds.
#' @param lty line type of the prediction interval.
#' @param cex text size (default: as the forest plot).
#' @param vi,sei sampling variances or standard errors of the estimates.
#' @param ci.lb,ci.ub confidence bounds (instead of \code{vi} / \code{sei}).
#' @param pi.lb,pi.ub optional prediction interval bounds (a dotted line).
#' @param ... graphical parameters for the text (e.g. \code{font}).
#' @return Invisibly, a data frame with one row per diamond: \code{row},
#'   \code{estimate}, \code{ci.lb}, \code{ci.ub}, \code{pi.lb}, \code{pi.ub}
#'   (on the scale drawn) and \code{annotation}.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
#'                   type = c("a", "a", "a", "b", "b", "b"))
#' fit <- rma(yi, vi, data = dat)
#' forest(fit, xlim = c(-2, 2), rows = c(10:8, 4:2), addfit = FALSE)
#' addpoly(rma(yi, vi, data = dat, subset = type == "a"), row = 7, mlab = "Type a")
#' addpoly(rma(yi, vi, data = dat, subset = type == "b"), row = 1, mlab = "Type b")
#' @export
addpoly <- function(x, ...) UseMethod("addpoly")

#' @rdname addpoly
#' @export
addpoly.mf_rma <- function(x, row = -2, level = x$level, annotate, addpred = FALSE, predstyle, digits, mlab,
                           transf, atransf, targs, efac, col, border, lty, cex, ...) {
  .mf_check_dots("addpoly.mf_rma", ...)
  if (!inherits(x, "mf_rma")) .mf_stop("addpoly() needs a model fitted by rma().")
  if (!x$int.only) .mf_stop("addpoly() needs an intercept-only fit (the fit has moderators).")
  alpha <- if (missing(level)) x$level else .mf_level(level)
  if (!missing(predstyle)) {
    .mf_addpoly_predstyle(predstyle)
    addpred <- TRUE
  }
  addpred <- .mf_flag(addpred, "addpred")
  pool <- .mf_plot_pooled(x, alpha)
  if (missing(mlab)) mlab <- if (.mf_is_ee(x$method)) "Equal-Effects Model" else "Random-Effects Model"
  args <- list(x = pool$estimate, ci.lb = pool$ci.lb, ci.ub = pool$ci.ub, rows = row, level = 100 * (1 - alpha),
               mlab = mlab)
  if (addpred && !is.na(pool$pi.lb)) { args$pi.lb <- pool$pi.lb; args$pi.ub <- pool$pi.ub }
  for (nm in c("annotate", "digits", "transf", "atransf", "targs", "efac", "col", "border", "lty", "cex")) {
    v <- eval(call("missing", as.name(nm)))
    if (!v) args[nm] <- list(get(nm))
  }
  do.call(addpoly.default, c(args, list(...)))
}

#' @rdname addpoly
#' @export
addpoly.default <- function(x, vi, sei, ci.lb, ci.ub, pi.lb, pi.ub, rows = -1, level, annotate, predstyle, digits,
                            mlab, transf, atransf, targs, efac, col, border, lty, cex, ...) {
  .mf_check_dots("addpoly.default", ...)
  stt <- .mf_forest_state$last
  if (is.null(stt))
    .mf_stop("addpoly() adds to a forest plot: draw one with forest() first.")
  if (!missing(predstyle)) .mf_addpoly_predstyle(predstyle)
  est <- .mf_numeric(x, "x")
  k <- length(est)
  if (!k) .mf_stop("'x' has length 0: there is nothing to add.")
  lvl <- if (missing(level)) stt$level_pct else 100 * (1 - .mf_level(level))
  crit <- stats::qnorm((1 - lvl / 100) / 2, lower.tail = FALSE)
  if (!missing(ci.lb) && !missing(ci.ub)) {
    lb <- .mf_numeric(ci.lb, "ci.lb"); ub <- .mf_numeric(ci.ub, "ci.ub")
  } else {
    v <- if (!missing(vi)) .mf_numeric(vi, "vi") else if (!missing(sei)) .mf_numeric(sei, "sei")^2 else
      .mf_stop("Give the sampling variances 'vi', the standard errors 'sei', or 'ci.lb' and 'ci.ub'.")
    if (any(v < 0, na.rm = TRUE)) .mf_stop("'vi' must be non-negative.")
    lb <- est - crit * sqrt(v); ub <- est + crit * sqrt(v)
  }
  plb <- if (missing(pi.lb)) rep(NA_real_, k) else rep_len(.mf_numeric(pi.lb, "pi.lb"), k)
  pub <- if (missing(pi.ub)) rep(NA_real_, k) else rep_len(.mf_numeric(pi.ub, "pi.ub"), k)
  if (length(lb) != k || length(ub) != k) .mf_stop("'ci.lb' and 'ci.ub' (or 'vi' / 'sei') must have the length of 'x'.")
  if (!is.numeric(rows) || any(!is.finite(rows))) .mf_stop("'rows' must be finite numbers.")
  if (length(rows) == 1L) rows <- rows:(rows - k + 1)
  if (length(rows) != k) .mf_stop(sprintf("'rows' has %d values but 'x' has %d.", length(rows), k))
  if (missing(mlab)) mlab <- rep("", k) else {
    mlab <- as.character(unlist(mlab))
    if (length(mlab) != k) .mf_stop(sprintf("'mlab' has %d labels but 'x' has %d estimates.", length(mlab), k))
  }
  tg <- if (missing(targs)) NULL else targs
  tf <- if (missing(transf)) stt$transf else .mf_plot_tf(transf, tg, "transf")
  atf <- if (missing(atransf)) stt$atransf else .mf_plot_tf(atransf, tg, "atransf")
  if (!missing(transf) && missing(atransf)) atf <- NULL
  if (!missing(atransf) && missing(transf)) tf <- NULL
  if (!is.null(tf) && !is.null(atf)) .mf_stop("Use either 'transf' or 'atransf' to specify a transformation (not both).")
  annotate <- if (missing(annotate)) stt$annotate else .mf_flag(annotate, "annotate")
  digits <- if (missing(digits)) stt$digits else .mf_plot_number(digits[1L], "digits", null_ok = FALSE)
  cex <- if (missing(cex)) stt$cex else .mf_plot_number(cex, "cex")
  ef <- if (missing(efac)) stt$efac[3L] else {
    if (!is.numeric(efac) || !length(efac) || any(efac < 0, na.rm = TRUE)) .mf_stop("'efac' must be non-negative numbers.")
    efac[min(length(efac), 3L)]
  }
  col <- if (missing(col)) "black" else col
  border <- if (missing(border)) NA else border
  lty <- if (missing(lty)) "dotted" else lty
  col <- rep_len(col, k); border <- rep_len(border, k)
  tr <- .mf_transf(tf, est, lb, ub); e <- tr$est; l <- tr$lb; u <- tr$ub
  trp <- .mf_transf(tf, plb, plb, pub); pl <- trp$lb; pu <- trp$ub
  ann <- rep("", k)
  if (annotate) {
    ta <- if (is.null(atf)) list(est = e, lb = l, ub = u) else .mf_transf(atf, e, l, u)
    # padded to the widths of the forest plot's columns, so the brackets line up
    w <- if (is.null(stt$ann_widths)) c(0L, 0L, 0L) else stt$ann_widths
    pad <- function(v, j) formatC(.mf_fmt(v, digits), width = w[j])
    ann <- sprintf("%s [%s, %s]", pad(ta$est, 1L), pad(ta$lb, 2L), pad(ta$ub, 3L))
  }
  alim <- stt$alim
  clipx <- function(v) pmin(pmax(v, alim[1L]), alim[2L])
  x_off <- if (is.null(stt$x_off)) 0 else stt$x_off
  for (i in seq_len(k)) {
    y <- rows[i]
    if (!is.na(pl[i]) && !is.na(pu[i])) {
      graphics::segments(clipx(pl[i]), y, clipx(pu[i]), y, lty = lty)
      for (b in c(pl[i], pu[i])) if (b >= alim[1L] && b <= alim[2L])
        graphics::segments(b, y - stt$tick_h, b, y + stt$tick_h)
    }
    if (!is.na(e[i]))
      graphics::polygon(clipx(c(l[i], e[i], u[i], e[i])), y + c(0, 1, 0, -1) * stt$dia_h * ef,
                        col = col[i], border = border[i])
    graphics::text(stt$textpos[1L] + x_off, y, mlab[i], adj = c(0, 0.5), cex = cex, ...)
    if (annotate) graphics::text(stt$textpos[2L] - x_off, y, ann[i], adj = c(1, 0.5), cex = cex, ...)
  }
  invisible(data.frame(row = rows, estimate = e, ci.lb = l, ci.ub = u, pi.lb = pl, pi.ub = pu, annotation = ann,
                       stringsAsFactors = FALSE))
}

.mf_addpoly_predstyle <- function(predstyle) {
  if (!identical(predstyle, "line"))
    .mf_stop("addpoly(predstyle = ) supports \"line\" only in metafast yet (issue 16).")
  invisible(TRUE)
}
