# forest() of cumul() results: the cumulative estimates with their
# confidence intervals, one row per step (metafor's forest.cumul.rma), drawn
# by the forest engine of R/forest.R.

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
#' @param ... graphical parameters (\code{par()}).
#' @return Invisibly, the list described in \code{\link{forest}} (without
#'   \code{summaries}).
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' forest(cumul(rma(yi, vi, data = dat)))
#' @export
forest.mf_cumul <- function(x, annotate = TRUE, header = TRUE, xlim, alim, olim, ylim, at, steps = 5, refline = 0,
                            digits = 2L, width, xlab, ilab = NULL, ilab.lab = NULL, ilab.xpos, ilab.pos, textpos,
                            transf = NULL, atransf = NULL, targs = NULL, rows, efac = 1, pch = 15, psize = 1, col,
                            colci, shade, colshade, lty, fonts, cex, cex.lab, cex.axis, main, ...) {
  .mf_check_dots("forest.mf_cumul", ...)
  coords <- .mf_forest_coords(xlim, rows, ilab.xpos, textpos, ylim)
  pars <- .mf_par_dots(...)
  if (length(pars)) { op <- graphics::par(pars); on.exit(graphics::par(op), add = TRUE) }
  keep <- !is.na(x$estimate)
  if (!any(keep)) .mf_stop("The cumulative estimates are all missing: there is nothing to plot.")
  k <- sum(keep)
  px <- list(k = k, k.all = length(x$estimate), ids = which(keep))
  est <- as.numeric(x$estimate)
  alpha <- if (is.null(x$level)) 0.05 else x$level
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  lb <- as.numeric(x$ci.lb); ub <- as.numeric(x$ci.ub)
  # labels as metafor: the first study, then "+ study" for each one added
  ids <- if (is.null(x$ids)) seq_along(est) else x$ids
  labs <- if (isTRUE(x$slab.null) || is.null(x$slab)) paste("Study", ids) else as.character(x$slab)
  labs[-1L] <- paste("+", labs[-1L])
  st <- data.frame(row = ids[keep], slab = labs[keep],
                   yi = est[keep], vi = as.numeric(x$se[keep])^2, ci.lb = lb[keep], ci.ub = ub[keep],
                   weight = rep(100 / k, k), group = NA_character_, stringsAsFactors = FALSE)
  ps <- function(v, arg) if (is.null(v)) NULL else .mf_plot_per_study(v, px, arg)
  env <- parent.frame()
  ev <- function(e) .mf_plot_eval(e, x, env)
  ilab <- ev(substitute(ilab))
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
                  .mf_given(.mf_forest_given)))
}
