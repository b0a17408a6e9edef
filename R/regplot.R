# Bubble plots of a meta-regression (Thompson & Higgins 2002): the observed
# effect sizes against one moderator, point areas by weight, with the fitted
# regression line and its confidence and prediction bands.

#' Scatter (bubble) plots for meta-regressions
#'
#' Draws the observed effect sizes of a meta-regression against one
#' moderator, with points sized by the studies' weights, the regression line
#' of the fitted model (the other moderators held at their means), and the
#' bands of the confidence interval of the fitted line and of the prediction
#' interval for a new study's true effect (Thompson & Higgins 2002; Riley,
#' Higgins & Deeks 2011).  The arguments and their meaning are those of
#' \code{metafor::regplot()}.
#'
#' @param x a meta-regression fitted by \code{rma()} or \code{rma.mv()}
#'   (\code{mods = }).
#' @param mod the moderator on the x axis: its position among the model's
#'   coefficients or (part of) its name.  May be omitted when the model has
#'   one moderator.
#' @param pred draw the regression line (\code{TRUE}), or an object returned
#'   by \code{predict()} whose predictions (at \code{xvals}) are drawn.
#' @param ci,pi draw the confidence / prediction interval bands.
#' @param shade shade the bands: \code{TRUE}, \code{FALSE}, or one or two
#'   colours (confidence band, prediction band).
#' @param xlim,ylim axis limits.
#' @param predlim the range of moderator values over which the line and bands
#'   are drawn (by default the range of the observed values, widened by 4\%).
#' @param olim limits beyond which the effect sizes and bands are truncated.
#' @param xlab,ylab axis titles (by default the moderator's name and the
#'   measure's name).
#' @param at positions of the y-axis ticks.
#' @param digits decimals of the y-axis labels.
#' @param transf a function applied to the effect sizes and bands (e.g.
#'   \code{exp}).
#' @param atransf a function applied to the y-axis labels only (the values
#'   are drawn on their original scale, e.g. a log axis labelled as ratios).
#' @param targs extra argument passed as the second argument of
#'   \code{transf} / \code{atransf}.
#' @param level confidence level (percent) of the bands; by default the
#'   fit's.
#' @param pch,col,bg plotting symbol, border and fill colour of the points:
#'   one value or one per study (expressions are evaluated in the fit's
#'   data).
#' @param psize point sizes: one value or one per study, or \code{"seinv"} /
#'   \code{"vinv"} to size by the inverse standard errors / variances; by
#'   default by the square roots of the model's weights.
#' @param plim the smallest and largest point size (see metafor's
#'   \code{regplot()} for the forms with \code{NA}).
#' @param slab study labels (by default the fit's).
#' @param grid draw a grid: \code{TRUE}, \code{FALSE} or its colour.
#' @param refline position of a horizontal reference line.
#' @param label which points to label with their study labels: \code{FALSE},
#'   \code{TRUE} or \code{"all"}, \code{"ciout"} / \code{"piout"} (the
#'   points outside the confidence / prediction band), a logical vector or
#'   row numbers.
#' @param offset distance of the labels from the points: a fixed part and a
#'   part scaled by the point size, in percent of the y range (one number:
#'   the scaled part only; three numbers: in y units, the third the power of
#'   the point size).
#' @param labsize size of the labels.
#' @param lcol,lwd,lty colour, width and type of the regression line, the
#'   confidence band bounds, the prediction band bounds and the reference
#'   line (recycled as metafor does).
#' @param legend add a legend: \code{TRUE}, a position or a list with
#'   \code{x}, \code{y}, \code{inset} and \code{cex}.
#' @param xvals the moderator values at which the line and bands are
#'   computed (or of the predictions given as \code{pred}).
#' @param grep,fixed with \code{mod} a name: find it with
#'   \code{grep(mod, fixed = fixed)} instead of by (partial) matching.
#' @param box.lty line type of the legend box.
#' @param at.lab labels of the y-axis ticks at \code{at}.
#' @param ... graphical parameters passed to \code{plot()} (e.g. \code{main},
#'   \code{las}).
#' @return Invisibly, an object of class \code{mf_regplot}: a data frame
#'   with one row per study (\code{slab}, \code{ids}, \code{xi}, \code{yi},
#'   \code{pch}, \code{psize}, \code{col}, \code{bg}, \code{label},
#'   \code{order} (drawing order) and \code{pred} (the fitted value)), as
#'   \code{metafor::regplot()} returns; its attributes hold \code{offset},
#'   \code{labsize}, the axis limits \code{xlim} and \code{ylim}, the ticks
#'   \code{at} and \code{at.lab}, and \code{lines}, a data frame of the
#'   drawn line and bands (\code{x}, \code{pred}, \code{ci.lb}, \code{ci.ub},
#'   \code{pi.lb}, \code{pi.ub}).  \code{points()} on it redraws the points
#'   (e.g. after highlighting).
#' @references Thompson SG, Higgins JPT (2002). How should meta-regression
#'   analyses be undertaken and interpreted? \emph{Stat Med} 21:1559-1573.
#'   Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects
#'   meta-analyses. \emph{BMJ} 342:d549.
#' @examples
#' dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
#'               data = metadat::dat.bcg)
#' res <- rma(yi, vi, mods = ~ ablat, data = dat)
#' regplot(res, xlab = "Absolute Latitude", label = "piout", pi = TRUE)
#' regplot(res, atransf = exp, at = log(c(0.2, 0.5, 1, 2)), legend = TRUE)
#' @export
regplot <- function(x, ...) UseMethod("regplot")

#' @rdname regplot
#' @export
regplot.mf_rma <- function(x, mod, pred = TRUE, ci = TRUE, pi = FALSE, shade = TRUE, xlim, ylim, predlim, olim,
                           xlab, ylab, at, digits = 2L, transf, atransf, targs, level = x$level, pch, psize,
                           plim = c(0.5, 3), col, bg, slab, grid = FALSE, refline, label = FALSE, offset = c(1, 1),
                           labsize = 1, lcol, lwd, lty, legend = FALSE, xvals, ..., grep = FALSE, fixed = FALSE,
                           box.lty, at.lab) {
  .mf_check_dots("regplot.mf_rma", ...)
  if (!inherits(x, "mf_rma_mv")) .mf_plot_check(x, "regplot")
  if (isTRUE(x$int.only)) .mf_stop("regplot() needs a meta-regression: the model has no moderators.")
  env <- parent.frame()
  mc <- match.call()
  targs <- if (missing(targs)) NULL else targs
  tf <- .mf_plot_tf(if (missing(transf)) NULL else transf, targs, "transf")
  atf <- .mf_plot_tf(if (missing(atransf)) NULL else atransf, targs, "atransf")
  if (!is.null(tf) && !is.null(atf)) .mf_stop("Give either 'transf' or 'atransf', not both.")
  alpha <- if (missing(level)) x$level else .mf_level(level)
  for (a in c("ci", "pi", "grep", "fixed"))
    if (!isTRUE(get(a)) && !isFALSE(get(a))) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", a))
  sh <- .mf_flag_col(shade, "shade", 2L)
  shadecol <- if (is.null(sh$col)) c(.mf_plot_mix(0.15), .mf_plot_mix(0.05)) else rep_len(sh$col, 2L)
  gr <- .mf_flag_col(grid, "grid")
  gridcol <- if (is.null(gr$col)) .mf_plot_mix(0.2) else gr$col

  # the moderator
  X <- x$X
  cn <- colnames(X)
  if (missing(mod)) {
    mod <- if (x$p == 2L && isTRUE(x$int.incl)) 2L else if (x$p == 1L) 1L else
      .mf_stop("The model has several moderators: say which one to plot with 'mod' (its position or name).")
  }
  if (length(mod) != 1L || !(is.character(mod) || is.numeric(mod)) || is.na(mod))
    .mf_stop("'mod' must be one position or one name of a model coefficient.")
  if (is.character(mod)) {
    pos <- if (grep) base::grep(mod, cn, fixed = fixed) else {
      m <- charmatch(mod, cn)
      if (is.na(m) || m == 0L) integer(0) else m
    }
    if (length(pos) != 1L)
      .mf_stop(sprintf("'mod' = \"%s\" matches %s of the coefficients (%s).", mod,
                       if (length(pos)) "several" else "none", paste(cn, collapse = ", ")))
  } else {
    pos <- round(mod)
    if (pos < 1 || pos > x$p) .mf_stop(sprintf("'mod' must be a position between 1 and %d.", x$p))
  }
  xi <- unname(X[, pos])
  yi <- x$yi
  vi <- x$vi
  k <- x$k

  # per-study arguments (expressions evaluated in the fit's data, as metafor)
  arg <- function(nm, default) {
    if (is.null(mc[[nm]])) return(default)
    .mf_plot_per_study(.mf_plot_eval(mc[[nm]], x, env), x, nm)
  }
  pch <- arg("pch", rep(21, k))
  col <- arg("col", rep(graphics::par("fg"), k))
  bg <- arg("bg", rep(.mf_plot_mix(0.35), k))
  slab <- if (is.null(mc$slab)) x$slab[x$ids] else {
    s <- .mf_plot_eval(mc$slab, x, env)
    .mf_per_study(s, x, "slab")
  }
  ps <- if (is.null(mc$psize)) NULL else .mf_plot_eval(mc$psize, x, env)
  psize_char <- is.character(ps)
  if (psize_char) {
    ps <- match.arg(ps, c("seinv", "vinv"))
    ps <- if (ps == "seinv") 1 / sqrt(vi) else 1 / vi
  } else if (!is.null(ps)) ps <- .mf_plot_per_study(ps, x, "psize")
  lab <- if (is.null(mc$label)) NULL else .mf_plot_eval(mc$label, x, env)
  if (!is.null(lab)) {
    if (is.character(lab)) {
      lab <- match.arg(lab, c("all", "ciout", "piout"))
      if (lab == "all") lab <- rep(TRUE, k)
    } else if (is.logical(lab)) {
      lab <- .mf_plot_per_study(lab, x, "label")
    } else if (is.numeric(lab)) {
      lab <- x$ids %in% round(lab)
    } else .mf_stop("'label' must be TRUE, FALSE, \"all\", \"ciout\", \"piout\", a logical vector or row numbers.")
  }

  # line and bands
  given_pred <- inherits(pred, c("list.mf_rma", "list.rma"))
  if (given_pred) {
    if (missing(xvals)) .mf_stop("Give 'xvals' (the moderator values of the predictions) when 'pred' is a predict() result.")
    if (length(xvals) != length(pred$pred))
      .mf_stop(sprintf("'xvals' has %d values but 'pred' holds %d predictions.", length(xvals), length(pred$pred)))
    addpred <- TRUE
  } else {
    if (!isTRUE(pred) && !isFALSE(pred)) .mf_stop("'pred' must be TRUE, FALSE or a result of predict().")
    addpred <- pred
  }
  newmods <- function(v) {
    Xn <- matrix(colMeans(X), nrow = length(v), ncol = ncol(X), byrow = TRUE)
    Xn[, pos] <- v
    if (isTRUE(x$int.incl)) Xn[, -1L, drop = FALSE] else Xn
  }
  lev <- 100 * (1 - alpha)
  yi.pred <- yi.ci <- yi.pi <- NULL
  if (given_pred) {
    xs <- as.numeric(xvals)
    p <- pred
    if (is.null(p$pi.lb) || anyNA(p$pi.lb)) {
      if (pi) warning("The predict() result given as 'pred' has no prediction interval; no prediction band is drawn.", call. = FALSE)
      pi <- FALSE
      p$pi.lb <- p$ci.lb; p$pi.ub <- p$ci.ub
    }
    if (is.character(lab) && lab %in% c("ciout", "piout")) {
      warning("Points cannot be labelled by the bands when 'pred' is a predict() result; no labels are drawn.", call. = FALSE)
      lab <- NULL
    }
    if (missing(predlim)) predlim <- range(xs)
  } else {
    if (!missing(xvals)) {
      xs <- as.numeric(xvals)
      predlim <- range(xs)
    } else {
      if (missing(predlim)) {
        r <- diff(range(xi))
        predlim <- c(min(xi) - 0.04 * r, max(xi) + 0.04 * r)
      } else if (!is.numeric(predlim) || length(predlim) != 2L) .mf_stop("'predlim' must be two numbers.")
      xs <- seq(predlim[1L], predlim[2L], length.out = 1000L)
    }
    p <- stats::predict(x, newmods = newmods(xs), level = lev)
    if (is.null(p$pi.lb) || anyNA(p$pi.lb)) {
      if (pi) warning("The model has no prediction interval; no prediction band is drawn.", call. = FALSE)
      pi <- FALSE
      p$pi.lb <- p$ci.lb; p$pi.ub <- p$ci.ub
    }
    q <- stats::predict(x, newmods = newmods(xi), level = lev)
    yi.pred <- as.vector(unname(q$pred), "double")
    yi.ci <- cbind(q$ci.lb, q$ci.ub)
    yi.pi <- if (is.null(q$pi.lb) || anyNA(q$pi.lb)) {
      if (is.character(lab) && lab == "piout") {
        warning("The model has no prediction interval; no points are labelled by it.", call. = FALSE)
        lab <- NULL
      }
      yi.ci
    } else cbind(q$pi.lb, q$pi.ub)
  }
  num <- function(v) as.vector(unname(v), "double")
  pr <- num(p$pred); ci.lb <- num(p$ci.lb); ci.ub <- num(p$ci.ub)
  pi.lb <- num(p$pi.lb); pi.ub <- num(p$pi.ub)
  if (!is.null(tf)) {
    yi <- tf(yi); pr <- tf(pr); ci.lb <- tf(ci.lb); ci.ub <- tf(ci.ub); pi.lb <- tf(pi.lb); pi.ub <- tf(pi.ub)
    if (!is.null(yi.pred)) {
      yi.pred <- tf(yi.pred)
      yi.ci <- cbind(tf(yi.ci[, 1L]), tf(yi.ci[, 2L]))
      yi.pi <- cbind(tf(yi.pi[, 1L]), tf(yi.pi[, 2L]))
    }
  }
  srt <- function(a, b) list(pmin(a, b), pmax(a, b))
  s <- srt(ci.lb, ci.ub); ci.lb <- s[[1L]]; ci.ub <- s[[2L]]
  s <- srt(pi.lb, pi.ub); pi.lb <- s[[1L]]; pi.ub <- s[[2L]]
  if (!is.null(yi.ci)) {
    yi.ci <- cbind(pmin(yi.ci[, 1L], yi.ci[, 2L]), pmax(yi.ci[, 1L], yi.ci[, 2L]))
    yi.pi <- cbind(pmin(yi.pi[, 1L], yi.pi[, 2L]), pmax(yi.pi[, 1L], yi.pi[, 2L]))
  }
  if (!missing(olim)) {
    if (!is.numeric(olim) || length(olim) != 2L) .mf_stop("'olim' must be two numbers.")
    olim <- sort(olim)
    clamp <- function(v) pmin(pmax(v, olim[1L]), olim[2L])
    yi <- clamp(yi); ci.lb <- clamp(ci.lb); ci.ub <- clamp(ci.ub); pr <- clamp(pr)
    pi.lb <- clamp(pi.lb); pi.ub <- clamp(pi.ub)
  }
  if (is.null(ps) || psize_char) ps <- .mf_psize(if (psize_char) ps else sqrt(stats::weights(x)), plim)

  # the labelled points (logical), before the limits that must hold them
  if (is.null(lab)) lab <- rep(FALSE, k) else {
    if (is.character(lab)) {
      band <- if (lab == "ciout") yi.ci else yi.pi
      lab <- yi < band[, 1L] | yi > band[, 2L]
      lab[xi < predlim[1L] | xi > predlim[2L]] <- FALSE
    }
    lab <- !is.na(lab) & lab
  }
  # label offsets in y units: a fixed part plus a part scaled by the point size
  lab_offset <- function(yr) {
    if (length(offset) == 2L) c(offset[1L] / 100 * yr, offset[2L] / 100 * yr, 1) else
      if (length(offset) == 1L) c(0, offset / 100 * yr, 1) else offset
  }
  # styles of the line, the band bounds and the reference line (metafor's recycling)
  four <- function(v, fourth) {
    if (length(v) == 1L) v <- rep(v, 4L)
    if (length(v) == 2L) v <- c(v[c(1L, 2L, 2L)], fourth)
    if (length(v) == 3L) v <- c(v, fourth)
    v
  }
  lcol <- if (missing(lcol)) c(rep(graphics::par("fg"), 3L), .mf_plot_mix(0.5)) else four(lcol, .mf_plot_mix(0.5))
  lty <- if (missing(lty)) c("solid", "dashed", "dotted", "solid") else four(lty, "solid")
  lwd <- if (missing(lwd)) c(3, 1, 1, 2) else four(lwd, 2)
  refline <- if (missing(refline)) NA_real_ else refline
  box.lty <- if (missing(box.lty)) graphics::par("lty") else box.lty

  if (missing(xlab)) xlab <- cn[pos]
  if (!is.expression(xlab) && identical(xlab, "")) xlab <- "Moderator"
  if (missing(ylab)) ylab <- .mf_measure_label(x$measure, if (is.null(tf)) NULL else transf,
                                              if (is.null(atf)) NULL else atransf)
  xlim <- if (missing(xlim)) range(xi) else .mf_plot_range(sort(xlim), "xlim")
  if (missing(ylim)) {
    ylim <- range(c(yi, if (pi) c(pi.lb, pi.ub) else if (ci) c(ci.lb, ci.ub)), na.rm = TRUE)
    ylim_auto <- TRUE
  } else if (!is.numeric(ylim) || length(ylim) != 2L) .mf_stop("'ylim' must be two numbers.") else ylim_auto <- FALSE
  at <- if (missing(at)) NULL else at
  if (!is.null(at)) ylim <- c(min(ylim[1L], at, na.rm = TRUE), max(ylim[2L], at, na.rm = TRUE))
  offset <- lab_offset(ylim[2L] - ylim[1L])
  if (ylim_auto && any(lab)) {
    # widen the range just enough to hold the labels (metafor lets them run
    # out of the plot): the label's centre +- about half a line of text
    d <- offset[1L] + offset[2L] * ps^offset[3L] + 0.035 * diff(ylim) * labsize
    up <- if (is.null(yi.pred)) rep(FALSE, k) else !is.na(yi.pred) & yi > yi.pred
    ylim <- range(ylim, (yi + d)[lab & up], (yi - d)[lab & !up], na.rm = TRUE)
  }

  graphics::plot(NA, NA, xlim = xlim, ylim = ylim, xlab = xlab, ylab = ylab, yaxt = "n", ...)
  usr <- graphics::par("usr")
  at <- if (is.null(at)) graphics::axTicks(2L) else at[at > usr[3L] & at < usr[4L]]
  if (missing(at.lab)) {
    v <- if (is.null(atf)) at else atf(at)
    at.lab <- .mf_fmt_axis(v, digits[[1L]])
  }
  # the axis parameters of ... (e.g. las = 1) apply to the y axis as well
  gp <- list(...)
  do.call(graphics::axis, c(list(2L, at = at, labels = at.lab),
                            gp[names(gp) %in% c("las", "cex.axis", "col.axis", "font.axis", "mgp", "tcl")]))
  if (sh$on) {
    if (pi) graphics::polygon(c(xs, rev(xs)), c(pi.lb, rev(pi.ub)), border = NA, col = shadecol[2L])
    if (ci) graphics::polygon(c(xs, rev(xs)), c(ci.lb, rev(ci.ub)), border = NA, col = shadecol[1L])
  }
  if (ci) {
    graphics::lines(xs, ci.lb, col = lcol[2L], lty = lty[2L], lwd = lwd[2L])
    graphics::lines(xs, ci.ub, col = lcol[2L], lty = lty[2L], lwd = lwd[2L])
  }
  if (pi) {
    graphics::lines(xs, pi.lb, col = lcol[3L], lty = lty[3L], lwd = lwd[3L])
    graphics::lines(xs, pi.ub, col = lcol[3L], lty = lty[3L], lwd = lwd[3L])
  }
  if (gr$on) graphics::grid(col = gridcol)
  if (any(!is.na(refline))) graphics::abline(h = refline, col = lcol[4L], lty = lty[4L], lwd = lwd[4L])
  if (addpred) graphics::lines(xs, pr, col = lcol[1L], lty = lty[1L], lwd = lwd[1L])
  graphics::box(bty = if (is.null(gp$bty)) graphics::par("bty") else gp$bty)
  # larger points first (as metafor), sizes equal to 12 digits in row order:
  # an order that rounding of the weights cannot change
  ord <- order(-signif(ps, 12), seq_along(ps))
  graphics::points(xi[ord], yi[ord], pch = pch[ord], col = col[ord], bg = bg[ord], cex = ps[ord])

  lab_xy <- .mf_regplot_labels(xi, yi, yi.pred, slab, ps, lab, offset, labsize)

  lo <- .mf_legend_opts(legend, list(x = "topright", y = NULL, inset = 0.01, cex = 1))
  if (lo$show) {
    one_style <- length(unique(pch)) == 1L && length(unique(col)) == 1L && length(unique(bg)) == 1L
    lvl <- paste0(round(100 * (1 - alpha), digits[[1L]]))
    items <- list(
      studies = if (one_style) list(txt = "Studies", pch = pch[1L], col = col[1L], bg = bg[1L], lty = "blank", lwd = 1, box = NA),
      line = if (addpred) list(txt = "Regression Line", pch = NA, col = lcol[1L], bg = NA, lty = lty[1L], lwd = lwd[1L], box = NA),
      ci = if (ci) list(txt = paste0(lvl, "% Confidence Interval"), pch = NA, col = lcol[2L], bg = NA, lty = lty[2L],
                        lwd = lwd[2L], box = shadecol[1L]),
      pi = if (pi) list(txt = paste0(lvl, "% Prediction Interval"), pch = NA, col = lcol[3L], bg = NA, lty = lty[3L],
                        lwd = lwd[3L], box = shadecol[2L]))
    items <- items[!vapply(items, is.null, logical(1))]
    if (length(items)) {
      g <- function(f) unlist(lapply(items, `[[`, f), use.names = FALSE)
      if (isTRUE(legend)) {
        # legend = TRUE: the corner where the legend hides the fewest points
        # and the least of the line and bands (metafor: always top right)
        sub <- unique(round(seq(1, length(xs), length.out = min(length(xs), 60L))))
        band_y <- c(if (addpred) pr[sub], if (ci) c(ci.lb[sub], ci.ub[sub]), if (pi) c(pi.lb[sub], pi.ub[sub]))
        nb <- length(band_y) / length(sub)
        largs <- function(cx) list(legend = g("txt"), inset = lo$inset, cex = cx, pt.cex = 1.5 * cx,
                                   seg.len = 3 * cx, lty = g("lty"), pch = g("pch"))
        # ... at most about half the plot wide (a smaller text on small devices)
        if (!is.list(legend) || is.null(legend$cex)) lo$cex <- .mf_legend_fit(largs(lo$cex), lo$cex)
        lx <- c(lab_xy$x - lab_xy$w / 2, lab_xy$x, lab_xy$x + lab_xy$w / 2)
        lo$x <- .mf_legend_corner(largs(lo$cex), c(xi, rep(xs[sub], nb), lx), c(yi, band_y, rep(lab_xy$y, 3L)),
                                  c(rep(5, k), rep(1, length(band_y)), rep(5, length(lx))))
      }
      # first pass: the shaded squares of the bands and the background
      graphics::legend(x = lo$x, y = lo$y, inset = lo$inset, bg = .mf_plot_mix(0), legend = g("txt"),
                       pch = ifelse(is.na(g("box")), NA, 22), pt.bg = g("box"), col = g("col"), lty = "blank",
                       pt.cex = 1.5 * lo$cex, pt.lwd = 1, text.col = "transparent", seg.len = 3 * lo$cex,
                       box.lty = box.lty, cex = lo$cex)
      # second pass: the symbols, lines and text on top
      graphics::legend(x = lo$x, y = lo$y, inset = lo$inset, bg = NA, legend = g("txt"), pch = g("pch"),
                       col = g("col"), pt.bg = g("bg"), lty = g("lty"), lwd = g("lwd") * lo$cex,
                       pt.cex = 1.5 * lo$cex, seg.len = 3 * lo$cex, box.lty = box.lty, cex = lo$cex)
    }
  }

  out <- data.frame(slab = slab, ids = x$ids, xi = xi, yi = yi, pch = pch, psize = ps, col = col, bg = bg,
                    label = lab, order = ord, stringsAsFactors = FALSE)
  if (!is.null(yi.pred)) out$pred <- yi.pred
  attr(out, "offset") <- offset
  attr(out, "labsize") <- labsize
  attr(out, "xlim") <- usr[1:2]
  attr(out, "ylim") <- usr[3:4]
  attr(out, "at") <- at
  attr(out, "at.lab") <- at.lab
  attr(out, "lines") <- data.frame(x = xs, pred = pr, ci.lb = ci.lb, ci.ub = ci.ub, pi.lb = pi.lb, pi.ub = pi.ub)
  class(out) <- c("mf_regplot", "data.frame")
  invisible(out)
}

# (rma.mv() fits: the same plot, as metafor's regplot() of rma.mv fits; the
# points are sized by the square roots of weights(), the diagonal of the
# weight matrix, and the prediction band is drawn when predict() gives one)
#' @rdname regplot
#' @export
regplot.mf_rma_mv <- regplot.mf_rma

# Study labels of a bubble plot: above the points that lie above the fitted
# line, below the others, moved away by a fixed part plus a part that grows
# with the point size.
.mf_regplot_labels <- function(xi, yi, pred, slab, psize, label, offset, labsize, ...) {
  p <- .mf_regplot_label_xy(xi, yi, pred, slab, psize, label, offset, labsize)
  if (length(p$x)) graphics::text(p$x, p$y, p$label, cex = labsize, ...)
  invisible(p)
}

# Positions of the labels: above / below the points, moved sideways as far as
# needed to stay inside the plot region (metafor centres them on the points,
# so labels of points near the sides were cut).
.mf_regplot_label_xy <- function(xi, yi, pred, slab, psize, label, offset, labsize) {
  i <- which(label)
  if (!length(i)) return(list(x = numeric(0), y = numeric(0), w = numeric(0), label = character(0)))
  d <- offset[1L] + offset[2L] * psize[i]^offset[3L]
  up <- !is.na(pred[i]) & yi[i] > pred[i]
  if (!length(pred)) up <- rep(FALSE, length(i))
  usr <- graphics::par("usr")
  w <- graphics::strwidth(as.character(slab[i]), cex = labsize)
  x <- pmin(pmax(xi[i], usr[1L] + w / 2), usr[2L] - w / 2)
  list(x = x, y = ifelse(up, yi[i] + d, yi[i] - d), w = w, label = as.character(slab[i]))
}

# Axis tick labels with a fixed number of decimals (no "-0.00").
.mf_fmt_axis <- function(v, digits) {
  v <- round(v, digits)
  v[!is.na(v) & v == 0] <- 0
  formatC(v, format = "f", digits = digits)
}

#' @rdname regplot
#' @export
points.mf_regplot <- function(x, ...) {
  o <- x$order
  graphics::points(x$xi[o], x$yi[o], pch = x$pch[o], cex = x$psize[o], col = x$col[o], bg = x$bg[o], ...)
  if (any(x$label))
    .mf_regplot_labels(x$xi, x$yi, x$pred, x$slab, x$psize, x$label, attr(x, "offset"), attr(x, "labsize"), ...)
  invisible(NULL)
}
