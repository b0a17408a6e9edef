# L'Abbe plots (L'Abbe, Detsky & O'Rourke 1987): the outcome of one group
# of each study against the outcome of the other, with the line of no effect
# and the line of the pooled estimate.

#' L'Abbe plots
#'
#' For a meta-analysis of two-group studies with dichotomous outcomes or
#' person-time data, draws each study's arm-level outcome in the treatment
#' group (group 1) against the outcome in the control group (group 2), on
#' the scale of the measure: log risks for \code{"RR"}, log odds for
#' \code{"OR"}, risks for \code{"RD"}, arcsine-transformed risks for
#' \code{"AS"}, log rates for \code{"IRR"}, rates for \code{"IRD"} and
#' square-root rates for \code{"IRSD"} (L'Abbe, Detsky & O'Rourke 1987).
#' The solid diagonal is the line of no effect; the dashed line, shifted by
#' the pooled estimate, is where the points of studies with exactly the
#' pooled effect lie.  Point areas grow with the precision of the difference
#' of the two arms.  The arguments and their meaning are those of
#' \code{metafor::labbe()}; the arm-level outcomes are computed with
#' \code{escalc()} from the counts kept by the fit, so the model must be
#' fitted with \code{rma(measure = , ai = , bi = , ci = , di = )} (or
#' \code{x1i}, \code{x2i}, \code{t1i}, \code{t2i}), \code{rma.mh()} or
#' \code{rma.peto()} (whose measure, the Peto odds ratio, has no L'Abbe plot,
#' as in metafor).  Unlike metafor, whose axis titles say "(Group 1)" on the
#' x axis although it shows group 2, the titles name the group drawn.
#'
#' @param x a model without moderators fitted on raw counts.
#' @param xlim,ylim axis ranges.
#' @param lim one range for both axes.
#' @param xlab,ylab axis titles.
#' @param flip draw group 1 on the x axis and group 2 on the y axis.
#' @param ci,pi shade the confidence / prediction interval of the line of
#'   the pooled estimate: \code{TRUE}, \code{FALSE} or a colour.
#' @param grid draw a grid: \code{TRUE}, \code{FALSE} or its colour.
#' @param legend add a legend: \code{TRUE}, a position or a list with
#'   \code{x}, \code{y}, \code{inset}, \code{cex} and \code{pt.cex}.
#' @param add,to the correction added to zero counts for the arm-level
#'   outcomes and when (as in \code{escalc()}); by default the fit's.
#' @param transf a function applied to the outcomes and lines (e.g.
#'   \code{exp} to draw risks for \code{"RR"}).
#' @param targs extra argument passed as the second argument of
#'   \code{transf}.
#' @param pch,col,bg plotting symbol, border and fill colour: one value or
#'   one per study.
#' @param psize point sizes: one value or one per study; by default from
#'   the inverse standard errors scaled into \code{plim}.
#' @param plim the smallest and largest point size.
#' @param lty line types of the line of no effect and of the estimate.
#' @param addyi,addvi add the correction \code{add} when computing the
#'   arm-level outcomes / their variances (as in \code{escalc()}).
#' @param llim range of the x values over which the lines are drawn
#'   (untransformed).
#' @param ... graphical parameters passed to \code{plot()} (e.g.
#'   \code{main}).
#' @return Invisibly, a data frame with one row per drawn study (\code{x},
#'   \code{y}, \code{cex}, \code{pch}, \code{col}, \code{bg}, \code{ids},
#'   \code{slab}), as \code{metafor::labbe()} returns; its attributes hold
#'   the axis limits \code{xlim} and \code{ylim} and \code{lines}, a data
#'   frame of the drawn lines (\code{x}, \code{y} (the estimate),
#'   \code{ci.lb}, \code{ci.ub}, \code{pi.lb}, \code{pi.ub}).
#' @references L'Abbe KA, Detsky AS, O'Rourke K (1987). Meta-analysis in
#'   clinical research. \emph{Ann Intern Med} 107:224-233.
#' @examples
#' res <- rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
#'            data = metadat::dat.bcg)
#' labbe(res)
#' labbe(res, transf = exp, ci = TRUE, pi = TRUE, legend = TRUE)
#' @export
labbe <- function(x, ...) UseMethod("labbe")

#' @rdname labbe
#' @export
labbe.mf_rma <- function(x, xlim, ylim, lim, xlab, ylab, flip = FALSE, ci = FALSE, pi = FALSE, grid = FALSE,
                         legend = FALSE, add = x$add, to = x$to, transf, targs, pch = 21, psize,
                         plim = c(0.5, 3.5), col, bg, lty, ..., addyi = TRUE, addvi = TRUE, llim = NULL) {
  .mf_check_dots("labbe.mf_rma", ...)
  .mf_plot_check(x, "labbe")
  cl <- match.call()
  cl[[1L]] <- .mf_labbe
  cl$fit_ids <- if (is.null(x$subset)) seq_len(x$k.all) else which(x$subset)
  if (!"add" %in% names(cl)) cl$add <- x$add
  if (!"to" %in% names(cl)) cl$to <- x$to
  eval(cl, parent.frame())
}

#' @rdname labbe
#' @export
labbe.mf_rma_tab <- function(x, xlim, ylim, lim, xlab, ylab, flip = FALSE, ci = FALSE, pi = FALSE, grid = FALSE,
                             legend = FALSE, add = x$add, to = x$to, transf, targs, pch = 21, psize,
                             plim = c(0.5, 3.5), col, bg, lty, ..., addyi = TRUE, addvi = TRUE, llim = NULL) {
  .mf_check_dots("labbe.mf_rma_tab", ...)
  cl <- match.call()
  cl[[1L]] <- .mf_labbe
  cl$fit_ids <- x$ids
  if (!"add" %in% names(cl)) cl$add <- x$add
  if (!"to" %in% names(cl)) cl$to <- x$to
  eval(cl, parent.frame())
}

.mf_labbe <- function(x, xlim, ylim, lim, xlab, ylab, flip = FALSE, ci = FALSE, pi = FALSE, grid = FALSE,
                      legend = FALSE, add, to, transf, targs, pch = 21, psize, plim = c(0.5, 3.5), col, bg, lty,
                      ..., addyi = TRUE, addvi = TRUE, llim = NULL, fit_ids) {
  if (!isTRUE(x$int.only)) .mf_stop("labbe() needs a model without moderators.")
  tab_measures <- c("RR", "OR", "RD", "AS")
  if (!isTRUE(x$measure %in% c(tab_measures, "IRR", "IRD", "IRSD")))
    .mf_stop(sprintf("labbe() needs a fit of measure \"RR\", \"OR\", \"RD\", \"AS\", \"IRR\", \"IRD\" or \"IRSD\", not \"%s\".",
                     paste(x$measure, collapse = "")))
  od <- x$outdat.f
  if (is.null(od))
    .mf_stop("labbe() needs the group-level counts: fit the model on them, e.g. rma(measure = \"RR\", ai = , bi = , ci = , di = , data = ).")
  for (a in c("flip", "addyi", "addvi"))
    if (!isTRUE(get(a)) && !isFALSE(get(a))) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", a))
  if (length(add) == 2L) add <- add[1L]
  if (length(to) == 2L) to <- to[1L]
  if (!is.character(to) || length(to) != 1L || is.na(to) || !to %in% c("all", "only0", "if0all", "none"))
    .mf_stop("'to' must be one of \"all\", \"only0\", \"if0all\", \"none\".")
  tf <- .mf_plot_tf(if (missing(transf)) NULL else transf, if (missing(targs)) NULL else targs, "transf")
  cif <- .mf_flag_col(ci, "ci")
  pif <- .mf_flag_col(pi, "pi")
  grf <- .mf_flag_col(grid, "grid")
  cicol <- if (is.null(cif$col)) .mf_plot_mix(0.15) else cif$col
  picol <- if (is.null(pif$col)) .mf_plot_mix(0.05) else pif$col
  gridcol <- if (is.null(grf$col)) .mf_plot_mix(0.2) else grf$col
  lty <- if (missing(lty)) c("solid", "dashed") else if (length(lty) == 1L) c(lty, lty) else lty

  # per-study arguments: one value, or one per row of the data (or of the fit's rows)
  kf <- length(x$yi.f)
  per_row <- function(v, arg) {
    if (length(v) == 1L) return(rep(v, kf))
    if (length(v) == x$k.all) return(v[fit_ids])
    if (length(v) == kf) return(v)
    .mf_stop(sprintf("'%s' has %d values; give one value or one per study (%d).", arg, length(v), x$k.all))
  }
  pch <- per_row(pch, "pch")
  psize <- if (missing(psize) || is.null(psize)) NULL else per_row(psize, "psize")
  col <- per_row(if (missing(col)) graphics::par("fg") else col, "col")
  bg <- per_row(if (missing(bg)) .mf_plot_mix(0.35) else bg, "bg")

  # arm-level outcomes with escalc() (the fit's rows; rows without an effect size are dropped)
  gone <- is.na(x$yi.f)
  arm <- function(e, t) {
    e <- as.numeric(e); t <- as.numeric(t)
    e[gone] <- NA; t[gone] <- NA
    m <- switch(x$measure, RR = "PLN", OR = "PLO", RD = "PR", AS = "PAS", IRR = "IRLN", IRD = "IR", IRSD = "IRS")
    r <- if (x$measure %in% tab_measures)
      escalc(m, xi = e, mi = t, add = add, to = to, addyi = addyi, addvi = addvi) else
        escalc(m, xi = e, ti = t, add = add, to = to, addyi = addyi, addvi = addvi)
    list(yi = as.numeric(r$yi), vi = as.numeric(r$vi))
  }
  g1 <- if (x$measure %in% tab_measures) arm(od$ai, od$bi) else arm(od$x1i, od$t1i)
  g2 <- if (x$measure %in% tab_measures) arm(od$ci, od$di) else arm(od$x2i, od$t2i)
  dx <- if (flip) g1 else g2
  dy <- if (flip) g2 else g1
  ok <- !(is.na(dx$yi) | is.na(dx$vi) | is.na(dy$yi) | is.na(dy$vi))
  if (!any(ok)) .mf_stop("No study has both arm-level outcomes: nothing to plot.")
  xv <- dx$yi[ok]; yv <- dy$yi[ok]
  vi <- dx$vi[ok] + dy$vi[ok]
  pch <- pch[ok]; col <- col[ok]; bg <- bg[ok]
  # (metafor leaves a user's psize unsubset here, a bug; it is subset with the points)
  if (!is.null(psize)) psize <- psize[ok] else psize <- .mf_psize(sqrt(1 / vi), plim)

  # lines: no effect (y = x) and the estimate (y = b + x), over metafor's ranges
  b <- unname(c(x$beta)[1L])
  lo <- min(c(xv, yv)); hi <- max(c(xv, yv)); r <- hi - lo
  if (is.null(llim)) {
    lr <- switch(x$measure,
                 RD = , IRD = , IRSD = if (b > 0) c(0, 1 - b) else c(-b, 1),
                 AS = if (b > 0) c(0, asin(1) - b) else c(-b, asin(1)),
                 RR = , IRR = c(lo - r, if (b > 0) -b else 0),
                 OR = c(lo - r, hi + r))
  } else {
    if (!is.numeric(llim) || length(llim) != 2L) .mf_stop("'llim' must be two numbers.")
    lr <- llim
  }
  # straight lines need two points; a transformation bends them
  xl <- seq(lr[1L], lr[2L], length.out = if (is.null(tf)) 2L else 1000L)
  band <- if (cif$on || pif$on) {
    p <- if (inherits(x, "mf_rma")) stats::predict(x) else
      list(ci.lb = x$ci.lb[1L], ci.ub = x$ci.ub[1L], pi.lb = x$ci.lb[1L], pi.ub = x$ci.ub[1L])
    pl <- if (is.null(p$pi.lb) || anyNA(p$pi.lb)) c(p$ci.lb, p$ci.ub) else c(p$pi.lb, p$pi.ub)
    list(ci.lb = p$ci.lb[1L] + xl, ci.ub = p$ci.ub[1L] + xl, pi.lb = pl[1L] + xl, pi.ub = pl[2L] + xl)
  } else list(ci.lb = NULL, ci.ub = NULL, pi.lb = NULL, pi.ub = NULL)
  yl <- b + xl
  if (!is.null(tf)) {
    xv <- tf(xv); yv <- tf(yv); yl <- tf(yl)
    band <- lapply(band, function(v) if (is.null(v)) v else tf(v))
    xl <- tf(xl)
  }

  if (!missing(lim)) {
    xlim <- ylim <- .mf_plot_range(sort(lim), "lim")
  } else {
    rg <- range(c(xv, yv))
    xlim <- if (missing(xlim)) rg else .mf_plot_range(sort(xlim), "xlim")
    ylim <- if (missing(ylim)) rg else .mf_plot_range(sort(ylim), "ylim")
  }
  m <- switch(x$measure, RR = "PLN", OR = "PLO", RD = "PR", AS = "PAS", IRR = "IRLN", IRD = "IR", IRSD = "IRS")
  base <- .mf_measure_label(m, if (is.null(tf)) NULL else transf)
  if (missing(xlab)) xlab <- paste(base, if (flip) "(Group 1)" else "(Group 2)")
  if (missing(ylab)) ylab <- paste(base, if (flip) "(Group 2)" else "(Group 1)")

  graphics::plot(NA, NA, xlim = xlim, ylim = ylim, xlab = xlab, ylab = ylab, ...)
  if (pif$on) graphics::polygon(c(xl, rev(xl)), c(band$pi.lb, rev(band$pi.ub)), col = picol, border = NA)
  if (cif$on) graphics::polygon(c(xl, rev(xl)), c(band$ci.lb, rev(band$ci.ub)), col = cicol, border = NA)
  if (grf$on) {
    graphics::grid(col = gridcol)
    bty <- list(...)$bty
    graphics::box(bty = if (is.null(bty)) graphics::par("bty") else bty)
  }
  graphics::segments(min(xl), min(xl), max(xl), max(xl), lty = lty[1L])
  graphics::lines(xl, yl, lty = lty[2L])
  ord <- order(psize, decreasing = TRUE)
  graphics::points(xv[ord], yv[ord], cex = psize[ord], pch = pch[ord], col = col[ord], bg = bg[ord])

  lo <- .mf_legend_opts(legend, list(x = if (b > 0) "bottomright" else "topleft", y = NULL, inset = 0.01,
                                     cex = 1, pt.cex = 2.5))
  if (lo$show) {
    if (is.list(legend) && !is.null(legend$cex) && is.null(legend$pt.cex)) lo$pt.cex <- lo$pt.cex * lo$cex
    lvl <- round(100 * (1 - x$level), 2)
    txt <- c("Reference Line of No Effect", "Line for the Estimated Effect", paste0(lvl, "% Confidence Interval"),
             paste0(lvl, "% Prediction Interval"))
    llty <- if (is.numeric(lty)) c(lty[1:2], 0, 0) else c(lty[1:2], "blank", "blank")
    sel <- c(lty[1:2] != "blank" & lty[1:2] != 0, cif$on, pif$on)
    if (any(sel))
      graphics::legend(x = lo$x, y = lo$y, inset = lo$inset, bg = .mf_plot_mix(0), pch = c(NA, NA, 22, 22)[sel],
                       pt.cex = lo$pt.cex, pt.lwd = 0, pt.bg = c(NA, NA, cicol, picol)[sel], lty = llty[sel],
                       legend = txt[sel], cex = lo$cex)
  }
  slab <- if (inherits(x, "mf_rma")) x$slab[fit_ids] else x$slab
  out <- data.frame(x = xv, y = yv, cex = psize, pch = pch, col = col, bg = bg, ids = fit_ids[ok],
                    slab = slab[ok], stringsAsFactors = FALSE)
  attr(out, "xlim") <- graphics::par("usr")[1:2]
  attr(out, "ylim") <- graphics::par("usr")[3:4]
  attr(out, "lines") <- data.frame(x = xl, y = yl, ci.lb = if (is.null(band$ci.lb)) NA else band$ci.lb,
                                   ci.ub = if (is.null(band$ci.ub)) NA else band$ci.ub,
                                   pi.lb = if (is.null(band$pi.lb)) NA else band$pi.lb,
                                   pi.ub = if (is.null(band$pi.ub)) NA else band$pi.ub)
  invisible(out)
}
