# forest() of cumul() results: the cumulative estimates with their
# confidence intervals, one row per step (metafor's forest.cumul.rma), drawn
# by the forest engine of R/forest.R; forest() of leave1out() results draws
# the leave-one-out estimates the same way (metafor has no such method).

#' Forest plot of a cumulative meta-analysis
#'
#' Draws the estimates of \code{\link{cumul}()} (one row per step, labelled
#' with the study added at that step) with their confidence intervals, as
#' metafor's \code{forest()} of \code{cumul()} results: points of equal size
#' and the annotations on the right.  The layout arguments are those of
#' \code{\link{forest}} (automatic layout by default, metafor's coordinates
#' with \code{xlim}, \code{ylim}, \code{rows}, \code{ilab.xpos} or
#' \code{textpos}).
#'
#' @param x the result of \code{cumul()}.
#' @param annotate,header,xlim,alim,olim,ylim,at,steps,refline,digits,width,xlab,ilab,ilab.lab,ilab.xpos,ilab.pos,textpos,transf,atransf,targs,rows,efac,pch,psize,col,colci,shade,colshade,lty,fonts,cex,cex.lab,cex.axis,main
#'   as in \code{\link{forest}}; \code{col} is the colour of the points
#'   (default \code{pch = 15} and \code{psize = 1}, as metafor).
#' @param ... graphical parameters (\code{par()}) and metafor's options read
#'   from \code{...}: \code{annosym}, \code{tabfig}, \code{at.lab},
#'   \code{top}, \code{rowadj}, \code{clim}, \code{xlabadj} and
#'   \code{xlabfont}, as in \code{\link{forest}}.
#' @return Invisibly, the list described in \code{\link{forest}} (without
#'   \code{summaries}).
#' @details \code{forest()} of \code{\link{leave1out}()} results (metafor has
#'   no such method) draws the estimates without each study (or cluster)
#'   the same way, one row per left-out study, labelled as
#'   \code{leave1out()} labels them ("-" and the study), with a dotted line at
#'   the estimate of the full model (unless \code{refline} is given, which
#'   then replaces it).
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' forest(cumul(rma(yi, vi, data = dat)))
#' forest(leave1out(rma(yi, vi, data = dat)))
#' @export
forest.mf_cumul <- function(x, annotate = TRUE, header = TRUE, xlim, alim, olim, ylim, at, steps = 5, refline = 0,
                            digits = 2L, width, xlab, ilab = NULL, ilab.lab = NULL, ilab.xpos, ilab.pos, textpos,
                            transf = NULL, atransf = NULL, targs = NULL, rows, efac = 1, pch = 15, psize = 1, col,
                            colci, shade, colshade, lty, fonts, cex, cex.lab, cex.axis, main, ...) {
  .mf_check_dots("forest.mf_cumul", ...)
  coords <- .mf_forest_coords(xlim, rows, ilab.xpos, textpos, ylim)
  hidden <- .mf_forest_dots(..., ours = .mf_dots_ours$forest.mf_cumul)
  if (length(hidden$par)) { op <- graphics::par(hidden$par); on.exit(graphics::par(op), add = TRUE) }
  keep <- !is.na(x$estimate)
  l1o <- inherits(x, "mf_leave1out")
  if (!any(keep)) .mf_stop(sprintf("The %s estimates are all missing: there is nothing to plot.",
                                   if (l1o) "leave-one-out" else "cumulative"))
  k <- sum(keep)
  px <- list(k = k, k.all = length(x$estimate), ids = which(keep))
  est <- as.numeric(x$estimate)
  alpha <- if (is.null(x$level)) 0.05 else x$level
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  lb <- as.numeric(x$ci.lb); ub <- as.numeric(x$ci.ub)
  # labels as metafor: the first study, then "+ study" for each one added
  # (leave1out(): its own labels, "-" and the left-out study)
  ids <- if (is.null(x$ids)) seq_along(est) else x$ids
  if (l1o) {
    labs <- as.character(x$slab)
  } else {
    labs <- if (isTRUE(x$slab.null) || is.null(x$slab)) paste("Study", ids) else as.character(x$slab)
    labs[-1L] <- paste("+", labs[-1L])
  }
  st <- data.frame(row = ids[keep], slab = labs[keep],
                   yi = est[keep], vi = as.numeric(x$se[keep])^2, ci.lb = lb[keep], ci.ub = ub[keep],
                   weight = rep(100 / k, k), group = NA_character_, stringsAsFactors = FALSE)
  ps <- function(v, arg) if (is.null(v)) NULL else .mf_plot_per_study(v, px, arg)
  env <- parent.frame()
  ev <- function(e) .mf_plot_eval(e, x, env)
  ilab <- ev(substitute(ilab))
  if (l1o && missing(refline)) {
    refline <- x$full.estimate
    tf <- .mf_plot_tf(transf, targs, "transf")
    if (!is.null(tf)) refline <- tf(refline)
  }
  do.call(.mf_forest_draw, c(list(st = st, ord = seq_len(k), grp = NULL, sums = NULL, fit_rows = NULL,
                  ilab = .mf_per_study(ilab, px, "ilab"), ilab.lab = ilab.lab, annotate = annotate,
                  showweights = FALSE, addpred = FALSE, header = header,
                  xlab = if (missing(xlab)) .mf_measure_label(x$measure, transf, atransf, default = "Overall Estimate") else xlab,
                  transf = .mf_plot_tf(transf, targs, "transf"), refline = refline, digits = digits,
                  pi_label = "", level_pct = 100 * (1 - alpha),
                  measure = x$measure, transf_f = transf, atransf_f = atransf,
                  atransf = .mf_plot_tf(atransf, targs, "atransf"), coords = coords,
                  efac = efac, pch = ps(pch, "pch"), psize = ps(psize, "psize"),
                  colout = if (missing(col)) NULL else ps(col, "col"),
                  shade = .mf_forest_shade(if (missing(shade)) NULL else shade, px),
                  colci = if (missing(colci)) NULL else ps(colci, "colci")),
                  .mf_forest_hidden_args(hidden, .mf_forest_given_lty2(.mf_given(.mf_forest_given)))))
}

#' @rdname forest.mf_cumul
#' @export
forest.mf_leave1out <- function(x, ...) {
  # the same drawing as forest() of cumul(), evaluated where the user called
  # it, so that ilab = and the like see the caller's variables
  cl <- match.call()
  cl[[1L]] <- forest.mf_cumul
  cl$x <- x
  eval(cl, parent.frame())
}

#' Plot of cumulative meta-analysis results
#'
#' metafor's plot of a cumulative meta-analysis: the pooled estimate (x axis)
#' against the amount of heterogeneity (y axis) after each added study,
#' joined in order, from light (first studies) to dark (all studies).
#'
#' @param x the result of \code{\link{cumul}}.
#' @param yaxis \code{"tau2"} (default for random-effects models), \code{"tau"},
#'   \code{"I2"} (default for equal-effects models) or \code{"H2"}.
#' @param xlim,ylim axis ranges (default: the range of the values).
#' @param xlab,ylab axis titles (default: the measure, and the statistic).
#' @param at positions of the x-axis ticks.
#' @param transf,atransf,targs a function applied to the estimates
#'   (\code{transf}) or to the x-axis labels only (\code{atransf}), with
#'   optional extra arguments.
#' @param digits decimals of the x- and y-axis labels (one or two; an integer
#'   drops trailing zeros, as metafor).
#' @param cols two colours: of the first and of the last point (the points and
#'   lines in between are interpolated).
#' @param grid draw a dotted grid at the ticks (\code{TRUE}, \code{FALSE} or a
#'   colour).
#' @param pch,cex,lwd point symbol and size, and line width.
#' @param ... further graphical parameters for the plot, the axes, the lines
#'   and the points.
#' @return The plotted values (\code{estim}, \code{yval}) and their colours
#'   (\code{col}), invisibly, as metafor returns them.
#' @export
plot.mf_cumul <- function(x, yaxis, xlim, ylim, xlab, ylab, at, transf, atransf, targs, digits, cols,
                          grid = TRUE, pch = 19, cex = 1, lwd = 2, ...) {
  .mf_check_dots("plot.mf_cumul", ...)
  re <- !is.null(x$tau2)
  if (missing(yaxis)) {
    yaxis <- if (re) "tau2" else "I2"
  } else {
    ok <- c("tau2", "tau", "I2", "H2")
    hit <- if (is.character(yaxis) && length(yaxis) == 1L && !is.na(yaxis))
      if (yaxis %in% ok) yaxis else ok[startsWith(ok, yaxis)]
    if (length(hit) != 1L) .mf_stop("'yaxis' must be one of \"tau2\", \"tau\", \"I2\", \"H2\".")
    yaxis <- hit
    if (!re) .mf_stop(sprintf("yaxis = \"%s\" cannot be used for an equal-effects model (no tau2 is estimated).", yaxis))
  }
  tf <- .mf_plot_tf(if (missing(transf)) NULL else transf, if (missing(targs)) NULL else targs, "transf")
  atf <- .mf_plot_tf(if (missing(atransf)) NULL else atransf, if (missing(targs)) NULL else targs, "atransf")
  if (!is.null(tf) && !is.null(atf)) .mf_stop("Give either 'transf' or 'atransf', not both.")
  if (missing(xlab)) xlab <- .mf_measure_label(x$measure, if (!missing(transf)) transf, if (!missing(atransf)) atransf,
                                               default = "Overall Estimate")
  if (missing(ylab)) ylab <- switch(yaxis,
    tau2 = expression(paste("Amount of Heterogeneity ", (tau^2))),
    tau = expression(paste("Amount of Heterogeneity ", (tau))),
    I2 = expression(paste("Percentage of Variability due to Heterogeneity ", (I^2))),
    H2 = expression(paste("Ratio of Total Variability to Sampling Variability ", (H^2))))
  if (missing(digits)) digits <- if (yaxis %in% c("tau2", "tau")) c(2L, 3L) else c(2L, 1L)
  if (!is.numeric(digits) || !length(digits) || length(digits) > 2L || any(!is.finite(digits)) || any(digits < 0))
    .mf_stop("'digits' must be one or two non-negative numbers (x- and y-axis labels).")
  digits <- rep_len(digits, 2L)
  est <- c(x$estimate)
  yval <- switch(yaxis, tau2 = x$tau2, tau = sqrt(x$tau2), I2 = x$I2, H2 = x$H2)
  dat <- data.frame(estim = est, yval = c(yval))
  na_act <- getOption("na.action", "na.omit")
  if (identical(na_act, "na.fail") && anyNA(dat)) .mf_stop("Missing values in the results (options(na.action = \"na.fail\")).")
  if (identical(na_act, "na.omit")) dat <- stats::na.omit(dat)
  if (!is.null(tf)) dat$estim <- tf(dat$estim)
  k <- nrow(dat)
  xlim <- if (missing(xlim)) range(dat$estim, na.rm = TRUE) else sort(.mf_plot_range(xlim, "xlim"))
  ylim <- if (missing(ylim)) range(dat$yval, na.rm = TRUE) else sort(.mf_plot_range(ylim, "ylim"))
  at <- if (missing(at)) NULL else at
  if (!is.null(at)) xlim <- range(xlim, at, na.rm = TRUE)
  # background and foreground mixed 80:20 and 20:80 (metafor's defaults: light
  # and dark grey on a white background)
  mix <- function(w) {
    bg <- graphics::par("bg")
    bg <- grDevices::col2rgb(if (identical(bg, "transparent")) "white" else bg) / 255
    fg <- grDevices::col2rgb(graphics::par("fg")) / 255
    v <- w * bg + (1 - w) * fg
    grDevices::rgb(v[1L], v[2L], v[3L])
  }
  if (missing(cols)) cols <- c(mix(0.8), mix(0.2))
  gridcol <- if (is.character(grid)) grid else mix(0.8)
  grid <- !isFALSE(grid)
  op <- graphics::par(mar = graphics::par("mar") + c(0, 0.5, 0, 0))
  on.exit(graphics::par(op), add = TRUE)
  graphics::plot(NA, NA, xlim = xlim, ylim = ylim, xlab = xlab, ylab = ylab, xaxt = "n", yaxt = "n", ...)
  usr <- graphics::par("usr")
  at <- if (is.null(at)) graphics::axTicks(1) else at[at > usr[1L] & at < usr[2L]]
  at_lab <- .mf_forest_at_lab(if (is.null(atf)) at else atf(at), digits[1L])
  graphics::axis(1, at = at, labels = at_lab, ...)
  aty <- graphics::axTicks(2)
  graphics::axis(2, at = aty, labels = .mf_forest_at_lab(aty, digits[2L]), ...)
  if (grid) {
    graphics::abline(v = at, lty = "dotted", col = gridcol)
    graphics::abline(h = aty, lty = "dotted", col = gridcol)
  }
  cols_pts <- grDevices::colorRampPalette(cols)(k)
  # each step drawn as 49 short segments shading from one point's colour to the next
  for (i in seq_len(k - 1L)) {
    if (anyNA(c(dat$estim[i + 0:1], dat$yval[i + 0:1]))) next
    xs <- seq(dat$estim[i], dat$estim[i + 1L], length.out = 50L)
    ys <- seq(dat$yval[i], dat$yval[i + 1L], length.out = 50L)
    graphics::segments(xs[-50L], ys[-50L], xs[-1L], ys[-1L],
                       col = grDevices::colorRampPalette(cols_pts[i + 0:1])(50L), lwd = lwd, ...)
  }
  graphics::points(dat$estim, dat$yval, pch = pch, col = cols_pts, cex = cex, ...)
  graphics::box(...)
  dat$col <- cols_pts
  invisible(dat)
}
