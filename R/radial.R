# Radial (Galbraith) plots: each study's standardised estimate
# z_i = y_i / sqrt(v_i + tau^2) against its precision x_i = 1 / sqrt(v_i + tau^2)
# (Galbraith 1988, 1994).  A line through the origin with slope b marks the
# estimate b, so the slopes of the points are the estimates: they are read
# off an arc scaled in effect sizes at the right.

#' Radial (Galbraith) plots
#'
#' Draws each study's standardised estimate
#' \eqn{z_i = y_i / \sqrt{v_i + \hat\tau^2}}{zi = yi / sqrt(vi + tau2)}
#' against its precision \eqn{x_i = 1 / \sqrt{v_i + \hat\tau^2}}{xi = 1 / sqrt(vi + tau2)}
#' (Galbraith 1988, 1994).  A line from the origin with slope \eqn{b} stands
#' for the effect size \eqn{b}: the solid line is the pooled estimate, the
#' shaded region between the dotted lines \eqn{\pm z_{1-\alpha/2}}{+- z}
#' around it is where about \eqn{1 - \alpha} of the points fall when the
#' model holds, and the arc at the right reads the slopes as effect sizes
#' (with the pooled estimate and its confidence interval on the inner arc).
#' The arguments and their meaning are those of \code{metafor::radial()};
#' \code{galbraith()} is the same function.  The arc is a true circle
#' whatever the device's shape (metafor makes the plot square instead).
#'
#' @param x a model without moderators fitted by \code{rma()},
#'   \code{rma.mh()} or \code{rma.peto()}.
#' @param center centre the estimates on the pooled estimate.
#' @param xlim,zlim ranges of the x (precision) and z axes.
#' @param xlab,zlab axis titles.
#' @param atz positions of the z-axis ticks.
#' @param aty effect sizes marked on the arc.
#' @param steps number of tick marks on the arc (without \code{aty}).
#' @param level confidence level (percent) of the region and interval; by
#'   default the fit's.
#' @param digits decimals of the arc's labels.
#' @param transf a function applied to the arc's labels (e.g. \code{exp}).
#' @param targs extra argument passed as the second argument of
#'   \code{transf}.
#' @param pch,col,bg plotting symbol, border and fill colour of the points.
#' @param back colour of the region around the pooled estimate.
#' @param arc.res number of segments of the outer arc (and of the inner arc:
#'   a quarter of it, or the second value).
#' @param cex,cex.lab,cex.axis sizes of the points, axis titles and axis
#'   labels (relative to \code{par("cex")}).
#' @param ... graphical parameters passed to \code{plot()} (e.g. \code{main}).
#' @return Invisibly, a data frame with the points (\code{x}, \code{y},
#'   \code{ids}, \code{slab}), as \code{metafor::radial()} returns; its
#'   attributes hold the axis limits \code{xlim} and \code{zlim} and
#'   \code{arc}, a data frame of the arc's labels (\code{x}, \code{z},
#'   \code{value}, \code{label}).
#' @references Galbraith RF (1988). A note on graphical presentation of
#'   estimated odds ratios from several clinical trials. \emph{Stat Med}
#'   7:889-894.
#'   Galbraith RF (1994). Some applications of radial plots. \emph{J Am Stat
#'   Assoc} 89:1232-1242.
#' @examples
#' dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
#'               data = metadat::dat.bcg)
#' res <- rma(yi, vi, data = dat, method = "EE")
#' radial(res)
#' res <- rma(yi, vi, data = dat)
#' galbraith(res, transf = exp, center = TRUE)
#' @export
radial <- function(x, ...) UseMethod("radial")

#' @rdname radial
#' @export
galbraith <- function(x, ...) UseMethod("radial")

#' @rdname radial
#' @export
radial.mf_rma <- function(x, center = FALSE, xlim = NULL, zlim, xlab, zlab, atz, aty, steps = 7, level = x$level,
                          digits = 2, transf, targs, pch = 21, col, bg, back, arc.res = 100, cex, cex.lab,
                          cex.axis, ...) {
  .mf_check_dots("radial.mf_rma", ...)
  .mf_plot_check(x, "radial")
  cl <- match.call()
  cl[[1L]] <- .mf_radial
  cl$fit_ids <- x$ids
  cl$fit_slab <- x$slab[x$ids]
  eval(cl, parent.frame())
}

# metafor's radial() refuses rma.mv fits (its class check lists "rma.mv"
# among the classes it does not take): so does metafast.
#' @rdname radial
#' @export
radial.mf_rma_mv <- function(x, ...) {
  .mf_stop("radial() is not available for models fitted by rma.mv() (as metafor: 'Method not available for objects of class \"rma.mv\"'); a radial plot needs a model with one sampling variance per estimate and no moderators, fitted by rma().")
}

#' @rdname radial
#' @export
radial.mf_rma_tab <- function(x, center = FALSE, xlim = NULL, zlim, xlab, zlab, atz, aty, steps = 7,
                              level = x$level, digits = 2, transf, targs, pch = 21, col, bg, back, arc.res = 100,
                              cex, cex.lab, cex.axis, ...) {
  .mf_check_dots("radial.mf_rma_tab", ...)
  keep <- if (is.null(x$not.na.yivi)) x$not.na else x$not.na.yivi
  cl <- match.call()
  cl[[1L]] <- .mf_radial
  cl$fit_ids <- x$ids[keep]
  cl$fit_slab <- x$slab[keep]
  eval(cl, parent.frame())
}

.mf_radial <- function(x, center = FALSE, xlim = NULL, zlim, xlab, zlab, atz, aty, steps = 7, level = x$level,
                       digits = 2, transf, targs, pch = 21, col, bg, back, arc.res = 100, cex, cex.lab,
                       cex.axis, fit_ids, fit_slab, ...) {
  if (!isTRUE(x$int.only)) .mf_stop("radial() needs a model without moderators.")
  if (is.null(x$yi) || is.null(x$vi)) .mf_stop("The fit holds no effect sizes to plot.")
  if (!isTRUE(center) && !isFALSE(center)) .mf_stop("'center' must be TRUE or FALSE.")
  tf <- .mf_plot_tf(if (missing(transf)) NULL else transf, if (missing(targs)) NULL else targs, "transf")
  alpha <- if (missing(level)) x$level else .mf_level(level)
  zcrit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  yi <- x$yi
  vi <- x$vi
  b <- unname(c(x$beta)[1L])
  ci <- c(unname(x$ci.lb[1L]), unname(x$ci.ub[1L]))
  tau2 <- if (is.null(x$tau2)) 0 else 1 / mean(1 / x$tau2)
  ee <- .mf_is_ee(x$method)
  aty <- if (missing(aty)) NULL else sort(.mf_numeric(aty, "aty"))
  aty_lab <- aty
  yi_lab <- range(yi)
  shift <- if (center) b else 0
  yi <- yi - shift
  beta <- b - shift
  ci <- ci - shift
  if (!is.null(aty)) aty <- aty - shift
  zi <- yi / sqrt(vi + tau2)
  xi <- 1 / sqrt(vi + tau2)
  if (any(!is.finite(c(xi, zi))))
    .mf_stop("Some points are not finite (a zero variance?): set 'xlim' and 'zlim' yourself.")
  xlim <- if (is.null(xlim)) c(0, 1.3 * max(xi)) else sort(.mf_plot_range(sort(xlim), "xlim"))
  xr <- xlim[2L] - xlim[1L]
  ci.xpos <- xlim[2L] + 0.12 * xr
  ya.xpos <- xlim[2L] + 0.14 * xr
  ytick <- if (is.null(aty)) range(yi) else range(aty)
  if (missing(zlim)) {
    zlim <- c(min(-5, 1.1 * min(zi), 1.1 * ci[1L] * ci.xpos, 1.1 * ytick[1L] * ya.xpos, 1.1 * min(yi) * ya.xpos,
                  -1.1 * zcrit + xlim[2L] * beta),
              max(5, 1.1 * max(zi), 1.1 * ci[2L] * ci.xpos, 1.1 * ytick[2L] * ya.xpos, 1.1 * max(yi) * ya.xpos,
                  1.1 * zcrit + xlim[2L] * beta))
  } else zlim <- .mf_plot_range(sort(zlim), "zlim")
  if (missing(back)) back <- .mf_plot_mix(0.1)
  if (missing(col)) col <- graphics::par("fg")
  if (missing(bg)) bg <- .mf_plot_mix(0.35)
  pc <- graphics::par("cex")
  cex <- if (missing(cex)) 1 else pc * cex
  cex.lab <- if (missing(cex.lab)) 1 else pc * cex.lab
  cex.axis <- if (missing(cex.axis)) 1 else pc * cex.axis
  if (missing(xlab))
    xlab <- if (ee) expression(x[i] == 1 / sqrt(v[i])) else expression(x[i] == 1 / sqrt(v[i] + tau^2))
  if (missing(zlab)) {
    zlab <- if (center) {
      if (ee) expression(z[i] == frac(y[i] - hat(theta), sqrt(v[i]))) else
        expression(z[i] == frac(y[i] - hat(mu), sqrt(v[i] + tau^2)))
    } else if (ee) expression(z[i] == frac(y[i], sqrt(v[i]))) else expression(z[i] == frac(y[i], sqrt(v[i] + tau^2)))
  }

  # the arc's tick values and labels
  arc.res <- .mf_numeric(arc.res, "arc.res")
  if (length(arc.res) == 1L) arc.res <- c(arc.res, arc.res / 4)
  if (!is.null(aty)) {
    ticks <- aty
    labv <- aty_lab
  } else {
    if (!is.numeric(steps) || length(steps) != 1L || steps < 2) .mf_stop("'steps' must be a number of at least 2.")
    ticks <- seq(min(yi), max(yi), length.out = steps)
    labv <- seq(yi_lab[1L], yi_lab[2L], length.out = steps)
  }
  labs <- .mf_fmt_axis(if (is.null(tf)) labv else tf(labv), digits)

  # margins: room for the horizontal z title at the left and for the arc
  # with its labels at the right, added to the user's margins
  dots <- list(...)
  titles <- names(dots) %in% c("main", "sub")
  pd <- do.call(.mf_par_dots, dots[!titles])
  op <- graphics::par(c("mar", "xpd", names(pd)))
  on.exit(graphics::par(op), add = TRUE)
  if (length(pd)) graphics::par(pd)
  graphics::plot.new()
  lin <- graphics::par("mai")[1L] / graphics::par("mar")[1L]  # inches per margin line
  if (!is.finite(lin) || lin <= 0) lin <- graphics::par("csi")
  fin <- graphics::par("fin")
  mar <- op$mar
  # (mtext() below takes cex as it is; strwidth() multiplies it by par("cex"))
  zlab_w <- graphics::strwidth(zlab, units = "inches", cex = cex.lab) / lin
  tick_w <- max(graphics::strwidth(c("-2", "0", "2", if (!missing(atz)) format(atz)), units = "inches",
                                   cex = pc * cex.axis)) / lin
  left <- max(mar[2L], 1.2 + tick_w + 0.5 + zlab_w + 0.8)  # (0.8 lines to spare: no clipping at the device edge)
  lab_w <- max(graphics::strwidth(labs, units = "inches", cex = pc * cex.axis * 0.85)) / lin
  # the labels start 0.16 x-ranges right of the plot region (plus the text offset)
  right_in <- (0.16 * (fin[1L] - (left + mar[4L]) * lin) + (lab_w + 0.6) * lin) / 1.16
  right <- max(mar[4L] + 1, right_in / lin + 0.16 * mar[4L] / 1.16)
  graphics::par(mar = c(mar[1L], left, mar[3L], right))
  graphics::plot.window(xlim = xlim, ylim = zlim, xaxs = "i", yaxs = "i")
  do.call(graphics::title, c(list(xlab = xlab, cex.lab = pc * cex.lab), dots[titles]))
  graphics::polygon(c(0, xlim[2L], xlim[2L], 0), c(zcrit, zcrit + xlim[2L] * beta, -zcrit + xlim[2L] * beta, -zcrit),
                    border = NA, col = back)
  graphics::segments(0, 0, xlim[2L], xlim[2L] * beta)
  graphics::segments(0, c(-zcrit, zcrit), xlim[2L], c(-zcrit, zcrit) + xlim[2L] * beta, lty = "dotted")
  graphics::axis(1, cex.axis = pc * cex.axis)
  if (missing(atz)) {
    graphics::axis(2, at = -4:4, labels = NA, las = 1, tcl = graphics::par("tcl") / 2)
    graphics::axis(2, at = c(-2, 0, 2), las = 1, cex.axis = pc * cex.axis)
  } else graphics::axis(2, at = atz, labels = atz, las = 1, cex.axis = pc * cex.axis)
  graphics::mtext(zlab, side = 2, line = 1.2 + tick_w + 0.5, at = 0, adj = 1, las = 1, cex = pc * cex.lab)

  # points on a circle of radius r (in x units) at slope s: a true circle in
  # inches, whatever the shape of the plot region
  pin <- graphics::par("pin")
  asp <- (diff(zlim) / pin[2L]) / (diff(xlim) / pin[1L])
  arc <- function(s, r) {
    ax <- r / sqrt(1 + (s / asp)^2)
    list(x = ax, z = ax * s)
  }
  inside <- function(z) z > zlim[1L] & z < zlim[2L]
  graphics::par(xpd = TRUE)
  a <- arc(seq(min(ticks), max(ticks), length.out = arc.res[1L]), ya.xpos)
  ok <- inside(a$z)
  graphics::lines(a$x[ok], a$z[ok])
  a1 <- arc(ticks, ya.xpos)
  a2 <- arc(ticks, ya.xpos + 0.015 * xr)
  ok <- inside(a1$z) & inside(a2$z)
  if (any(ok)) graphics::segments(a1$x[ok], a1$z[ok], a2$x[ok], a2$z[ok])
  a3 <- arc(ticks, ya.xpos + 0.02 * xr)
  ok3 <- inside(a3$z)
  if (any(ok3)) graphics::text(a3$x[ok3], a3$z[ok3], labs[ok3], pos = 4, offset = 0.25, cex = pc * cex.axis * 0.85)
  a <- arc(seq(ci[1L], ci[2L], length.out = arc.res[2L]), ci.xpos)
  ok <- inside(a$z)
  if (any(ok)) graphics::lines(a$x[ok], a$z[ok])
  t3 <- c(ci[1L], beta, ci[2L])
  a1 <- arc(t3, ci.xpos - 0.007 * xr)
  a2 <- arc(t3, ci.xpos + 0.007 * xr)
  ok <- inside(a1$z) & inside(a2$z)
  if (any(ok)) graphics::segments(a1$x[ok], a1$z[ok], a2$x[ok], a2$z[ok])
  graphics::par(xpd = op$xpd)
  graphics::points(xi, zi, pch = pch, cex = pc * cex, col = col, bg = bg)

  out <- data.frame(x = xi, y = zi, ids = fit_ids, slab = fit_slab, stringsAsFactors = FALSE)
  attr(out, "xlim") <- xlim
  attr(out, "zlim") <- zlim
  attr(out, "arc") <- data.frame(x = a3$x, z = a3$z, value = ticks + shift, label = labs, drawn = ok3,
                                 stringsAsFactors = FALSE)
  invisible(out)
}
