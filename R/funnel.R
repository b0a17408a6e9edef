# Funnel plots (Light & Pillemer 1984; Sterne & Egger 2001) and
# contour-enhanced funnel plots (Peters et al. 2008) in base graphics.

#' Funnel plots
#'
#' Plots each study's effect size against its precision: by default the
#' standard error on a reversed y axis (precise studies at the top), with the
#' pseudo confidence region \eqn{\hat\mu \pm z_{1-\alpha/2} SE}{mu +- z SE}
#' around the pooled estimate (Sterne & Egger 2001).  With
#' \code{contour = TRUE} the contour-enhanced funnel plot of Peters et al.
#' (2008) is drawn instead: the regions around zero where a study's two-sided
#' p value is above .10, between .10 and .05, between .05 and .01 and below
#' .01 (for the default \code{contours}) are shaded, so asymmetry due to
#' missing non-significant studies can be told from other causes.  For a
#' trim-and-fill result (a model with a logical \code{fill} field marking the
#' imputed studies) the filled studies are drawn as open circles.  For a
#' meta-regression the residuals \eqn{y_i - x_i'b}{yi - xi'b} are drawn
#' around 0.
#'
#' @param x a fitted model (\code{funnel.mf_rma}) or a vector of observed
#'   effect sizes (\code{funnel.default}).
#' @param yaxis the precision on the y axis: \code{"sei"} (standard error),
#'   \code{"vi"} (sampling variance), \code{"seinv"} (inverse standard error)
#'   or \code{"vinv"} (inverse variance).
#' @param level level (percent) of the pseudo confidence region; by default
#'   the level of the fit (\code{funnel.mf_rma}) or 95.
#' @param contour draw the contour-enhanced funnel plot.
#' @param contours confidence levels (percent) of the contours; the regions
#'   between them are shaded.
#' @param refline position of the vertical reference line; by default the
#'   pooled estimate (0 for contour-enhanced plots and meta-regressions).
#' @param xlab,ylab axis labels.
#' @param xlim,ylim optional axis ranges.
#' @param legend add a legend of the contour regions (contour plots only).
#' @param ... further arguments (\code{main}, \code{cex} and other graphical
#'   parameters) passed to the plot.  metafor's funnel arguments that
#'   metafast does not implement yet (\code{atransf}, \code{shade},
#'   \code{pch}, \code{col}, ...; issue 16) are errors.
#' @return Invisibly, a data frame with one row per drawn study: \code{x}
#'   (effect size or residual), \code{y} (the y-axis value), \code{slab} and
#'   \code{fill} (\code{TRUE} for studies imputed by trim and fill); its
#'   attributes \code{refline}, \code{level} and (contour plots)
#'   \code{contours} give the drawn regions.
#' @references Sterne JAC, Egger M (2001). Funnel plots for detecting bias in
#'   meta-analysis: guidelines on choice of axis. \emph{J Clin Epidemiol}
#'   54:1046-1055.
#'   Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2008).
#'   Contour-enhanced meta-analysis funnel plots help distinguish publication
#'   bias from other causes of asymmetry. \emph{J Clin Epidemiol} 61:991-996.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fit <- rma(yi, vi, data = dat)
#' funnel(fit)
#' funnel(fit, contour = TRUE)
#' @export
funnel <- function(x, ...) UseMethod("funnel")

#' @rdname funnel
#' @export
funnel.mf_rma <- function(x, yaxis = "sei", xlim, ylim, xlab, ylab, level = x$level, refline, legend = contour,
                          contour = FALSE, contours = c(90, 95, 99), ...) {
  .mf_check_dots("funnel.mf_rma", ...)
  if (!inherits(x, "mf_rma") && !(is.list(x) && !is.null(x$yi) && !is.null(x$vi)))
    .mf_stop(sprintf("funnel() needs a model fitted by rma(), not %s.", class(x)[1L]))
  if (!is.logical(contour) || length(contour) != 1L || is.na(contour))
    .mf_stop("'contour' must be TRUE or FALSE.")
  if (missing(level)) level <- if (is.null(x$level)) 95 else 100 * (1 - x$level)
  yi <- x$yi; vi <- x$vi
  int.only <- isTRUE(x$int.only)
  xv <- if (int.only) yi else c(yi - x$X %*% x$beta)
  fill <- .mf_funnel_fill(x, length(yi))
  slab <- .mf_funnel_slab(x, length(yi))
  if (missing(refline)) refline <- if (contour || !int.only) 0 else c(x$beta)[1L]
  if (missing(xlab)) xlab <- if (int.only) "Observed outcome" else "Residual value"
  .mf_funnel_draw(xv = xv, vi = vi, slab = slab, fill = fill, yaxis = yaxis, level = level,
                  contour = contour, contours = contours, refline = refline, xlab = xlab,
                  ylab = if (missing(ylab)) NULL else ylab, xlim = if (missing(xlim)) NULL else xlim,
                  ylim = if (missing(ylim)) NULL else ylim, legend = legend, ...)
}

#' @rdname funnel
#' @param vi sampling variances (\code{funnel.default}).
#' @param sei standard errors (alternative to \code{vi}).
#' @param slab study labels, returned with the drawn points
#'   (\code{funnel.default}).
#' @export
funnel.default <- function(x, vi, sei, yaxis = "sei", xlim, ylim, xlab, ylab, slab, level = 95, refline = 0,
                           legend = contour, contour = FALSE, contours = c(90, 95, 99), ...) {
  # a trim-and-fill result that does not inherit from mf_rma
  if (is.list(x) && !is.data.frame(x) && !is.null(x$yi) && !is.null(x$vi) && !is.null(x$beta)) {
    cl <- match.call()
    cl[[1L]] <- funnel.mf_rma
    return(eval(cl, parent.frame()))
  }
  .mf_check_dots("funnel.default", ...)
  yi <- .mf_numeric(x, "x")
  k <- length(yi)
  if (k == 0L) .mf_stop("'x' has length 0: there is nothing to plot.")
  if (!missing(vi)) vi <- .mf_numeric(vi, "vi") else if (!missing(sei)) vi <- .mf_numeric(sei, "sei")^2 else
    .mf_stop("Give the sampling variances 'vi' or the standard errors 'sei'.")
  if (length(vi) != k) .mf_stop(sprintf("'vi' has length %d but 'x' has length %d.", length(vi), k))
  bad <- !is.na(vi) & vi <= 0
  if (any(bad)) .mf_stop(sprintf("'vi' must be positive; not positive in %s.", .mf_rows(bad)))
  keep <- !is.na(yi) & !is.na(vi)
  if (!any(keep)) .mf_stop("No studies with both an effect size and a variance remain.")
  slab <- if (missing(slab) || is.null(slab)) paste("Study", which(keep)) else {
    if (length(slab) != k) .mf_stop(sprintf("'slab' has length %d but 'x' has length %d.", length(slab), k))
    as.character(slab[keep])
  }
  if (!is.logical(contour) || length(contour) != 1L || is.na(contour))
    .mf_stop("'contour' must be TRUE or FALSE.")
  .mf_funnel_draw(xv = yi[keep], vi = vi[keep], slab = slab, fill = rep(FALSE, sum(keep)), yaxis = yaxis,
                  level = level, contour = contour, contours = contours, refline = refline,
                  xlab = if (missing(xlab)) "Observed outcome" else xlab, ylab = if (missing(ylab)) NULL else ylab,
                  xlim = if (missing(xlim)) NULL else xlim, ylim = if (missing(ylim)) NULL else ylim,
                  legend = legend, ...)
}

# Logical marker of imputed (trim-and-fill) studies among the drawn rows.
.mf_funnel_fill <- function(x, n) {
  f <- x$fill
  if (is.null(f)) return(rep(FALSE, n))
  f <- as.logical(f)
  if (length(f) == n) return(!is.na(f) & f)
  if (!is.null(x$k.all) && length(f) == x$k.all && !is.null(x$ids)) return(!is.na(f[x$ids]) & f[x$ids])
  .mf_stop(sprintf("'fill' of the model has %d values but %d studies are drawn.", length(f), n))
}

.mf_funnel_slab <- function(x, n) {
  s <- x$slab
  if (!is.null(s) && length(s) == n) return(as.character(s))
  if (!is.null(s) && !is.null(x$ids) && length(s) >= max(x$ids) && length(x$ids) == n) return(as.character(s[x$ids]))
  as.character(seq_len(n))
}

# Standard error as a function of the y-axis value, and back.
.mf_funnel_se <- function(y, yaxis) switch(yaxis, sei = y, vi = sqrt(y), seinv = 1 / y, vinv = 1 / sqrt(y))
.mf_funnel_y <- function(se, yaxis) switch(yaxis, sei = se, vi = se^2, seinv = 1 / se, vinv = 1 / se^2)

.mf_funnel_draw <- function(xv, vi, slab, fill, yaxis, level, contour, contours, refline, xlab, ylab,
                            xlim, ylim, legend, main = NULL, cex = 1, ...) {
  yaxis <- if (is.character(yaxis) && length(yaxis) == 1L) yaxis else ""
  if (!yaxis %in% c("sei", "vi", "seinv", "vinv"))
    .mf_stop("'yaxis' must be one of \"sei\", \"vi\", \"seinv\", \"vinv\".")
  alpha <- .mf_level(level)
  if (!is.null(refline)) refline <- .mf_plot_number(refline, "refline")
  contour <- isTRUE(contour)
  if (contour) {
    if (!is.numeric(contours) || !length(contours) || anyNA(contours) || any(contours <= 0 | contours >= 100))
      .mf_stop("'contours' must be confidence levels in percent between 0 and 100, e.g. c(90, 95, 99).")
    contours <- sort(unique(contours))
  }
  se <- sqrt(vi)
  yv <- .mf_funnel_y(se, yaxis)
  ref0 <- if (is.null(refline)) 0 else refline
  # y range: reversed for sei / vi (precise studies at the top)
  if (is.null(ylim)) {
    if (yaxis %in% c("sei", "vi")) {
      top <- max(yv) * 1.05
      ylim <- c(top, 0)
    } else {
      ylim <- range(yv)
      ylim <- ylim + c(-0.05, 0.05) * max(diff(ylim), ylim[2L] * 0.1)
      ylim[1L] <- max(ylim[1L], min(yv) / 2)
    }
  } else {
    if (!is.numeric(ylim) || length(ylim) != 2L || any(!is.finite(ylim)))
      .mf_stop("'ylim' must be two finite numbers.")
    if (yaxis %in% c("sei", "vi")) ylim <- c(max(ylim), min(ylim)) else ylim <- sort(ylim)
    if (any(ylim < 0) || (yaxis %in% c("seinv", "vinv") && any(ylim <= 0)))
      .mf_stop("'ylim' must be non-negative (positive for inverse precision axes).")
  }
  ygrid <- seq(min(ylim), max(ylim), length.out = 200L)
  if (yaxis %in% c("seinv", "vinv")) ygrid <- ygrid[ygrid > 0]
  segrid <- .mf_funnel_se(ygrid, yaxis)
  z_reg <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  zc <- if (contour) stats::qnorm((1 - contours / 100) / 2, lower.tail = FALSE) else z_reg
  semax <- max(segrid[is.finite(segrid)])
  if (is.null(xlim)) {
    xlim <- range(c(xv, ref0 + c(-1, 1) * max(zc) * semax))
    xlim <- xlim + c(-0.04, 0.04) * diff(xlim)
  } else xlim <- .mf_plot_range(xlim, "xlim")
  if (is.null(ylab)) ylab <- switch(yaxis, sei = "Standard error", vi = "Sampling variance",
                                    seinv = "Inverse standard error", vinv = "Inverse sampling variance")

  graphics::plot(NA, xlim = xlim, ylim = ylim, xlab = xlab, ylab = ylab, main = main,
                 xaxs = "i", yaxs = "i", las = 1, cex.axis = 0.9 * cex, cex.lab = cex, ...)
  usr <- graphics::par("usr")
  region <- function(z, centre) list(x = c(centre - z * segrid, rev(centre + z * segrid)),
                                    y = c(ygrid, rev(ygrid)))
  shade <- NULL
  if (contour) {
    # Peters et al. (2008): p > .10 white, then darker to lighter grey bands.
    m <- length(contours)
    shade <- c("white", grDevices::gray(seq(0.55, 0.88, length.out = m)))
    graphics::rect(usr[1L], usr[3L], usr[2L], usr[4L], col = shade[m + 1L], border = NA)
    for (j in rev(seq_len(m))) {
      r <- region(zc[j], 0)
      graphics::polygon(r$x, r$y, col = shade[j], border = NA)
    }
    if (!is.null(refline)) graphics::abline(v = refline, lty = 3)
  } else {
    graphics::rect(usr[1L], usr[3L], usr[2L], usr[4L], col = "gray93", border = NA)
    r <- region(z_reg, ref0)
    graphics::polygon(r$x, r$y, col = "white", border = NA)
    graphics::lines(ref0 - z_reg * segrid, ygrid, lty = 3)
    graphics::lines(ref0 + z_reg * segrid, ygrid, lty = 3)
    if (!is.null(refline)) graphics::segments(refline, min(ylim), refline, max(ylim), lty = 2)
  }
  graphics::box()
  pch <- ifelse(fill, 21, 19)
  graphics::points(xv, yv, pch = pch, bg = "white", col = "black", cex = cex)
  if (contour && isTRUE(legend)) {
    pv <- c(1, 1 - contours / 100, 0)
    labs <- vapply(seq_len(length(contours) + 1L), function(j) {
      hi <- pv[j]; lo <- pv[j + 1L]
      if (j == 1L) sprintf("p > %s", format(lo)) else if (lo == 0) sprintf("p < %s", format(hi)) else
        sprintf("%s > p > %s", format(hi), format(lo))
    }, "")
    graphics::legend("topright", legend = labs, fill = shade, bg = "white", cex = 0.8 * cex, inset = 0.01)
  }
  out <- data.frame(x = xv, y = yv, slab = slab, fill = fill, stringsAsFactors = FALSE)
  attr(out, "refline") <- refline
  attr(out, "level") <- 100 * (1 - alpha)
  if (contour) attr(out, "contours") <- contours
  invisible(out)
}
