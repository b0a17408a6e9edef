# Funnel plots (Light & Pillemer 1984; Sterne & Egger 2001) and
# contour-enhanced funnel plots (Peters et al. 2008) in base graphics, with
# metafor's arguments and layout.

#' Funnel plots
#'
#' Plots each study's effect size against a measure of its precision: by
#' default the standard error on a reversed y axis (precise studies at the
#' top), with the pseudo confidence region \eqn{c \pm z_{1-\alpha/2}
#' \sqrt{SE^2 + \tau^2}}{c +- z sqrt(SE^2 + tau^2)} around the reference line
#' \eqn{c}{c} (the pooled estimate; \eqn{\tau^2}{tau^2} only with
#' \code{addtau2 = TRUE}) (Sterne & Egger 2001).  Several \code{level}s draw
#' nested regions, each filled with its colour of \code{shade}; with
#' \code{refline = 0} this is the contour-enhanced funnel plot of Peters et
#' al. (2008), where the regions are those of the studies' two-sided p values
#' (\code{contour = TRUE} is a shorthand for it).  For a trim-and-fill result
#' the filled studies are drawn with \code{pch.fill}.  For a meta-regression
#' the residuals are drawn around 0: the standardized residuals with their
#' standard errors (\code{type = "rstandard"}) or the deleted residuals
#' (\code{type = "rstudent"}), as \code{rstandard()} / \code{rstudent()}
#' return them.  Layout, defaults and colours follow metafor's
#' \code{funnel()}: the y axis has \code{steps} ticks from the least to the
#' most precise study, the x axis 10\% of padding on each side of the widest
#' region and of the points.
#'
#' @param x a fitted model (\code{funnel.mf_rma}) or a vector of observed
#'   effect sizes (\code{funnel.default}; its \code{measure}, \code{slab} and
#'   \code{ni} attributes, as \code{escalc()} sets them, are used).
#' @param yaxis the y axis: \code{"sei"} (standard error, the default),
#'   \code{"vi"} (sampling variance), \code{"seinv"} (inverse standard error),
#'   \code{"vinv"} (inverse variance), \code{"ni"} (sample size),
#'   \code{"ninv"} (inverse sample size), \code{"sqrtni"} (square root sample
#'   size), \code{"sqrtninv"} (inverse square root sample size), \code{"lni"}
#'   (log sample size) or \code{"wi"} (the weights of the fit in percent;
#'   \code{funnel.default}: inverse-variance weights).  The sample sizes are
#'   the fit's \code{ni} (the \code{ni} attribute of \code{escalc()} output,
#'   or \code{rma(ni = )}) or \code{funnel.default(ni = )}.  The pseudo
#'   confidence regions are drawn only for the first four.
#' @param level level(s) (percent) of the pseudo confidence region(s); a
#'   vector draws nested regions.  By default the level of the fit
#'   (\code{funnel.mf_rma}) or 95.
#' @param contour \code{TRUE} draws the contour-enhanced funnel plot of
#'   Peters et al. (2008) (a metafast shorthand): \code{level} defaults to
#'   \code{contours}, \code{refline} to 0 and \code{legend} to \code{TRUE}.
#' @param contours confidence levels (percent) of the contours for
#'   \code{contour = TRUE}.
#' @param refline position of the vertical reference line and the centre of
#'   the regions; by default the pooled estimate (0 for contour plots,
#'   meta-regressions and \code{funnel.default}).  \code{NULL} or \code{NA}
#'   draws neither (labels are then placed relative to the mean effect).
#' @param xlab,ylab axis labels; by default the name of the outcome measure
#'   (\code{"Residual Value"} for meta-regressions) and of the y axis.
#' @param xlim,ylim axis ranges.  \code{ylim} is put in the order of the axis
#'   (decreasing for \code{"sei"}, \code{"vi"}, \code{"ninv"},
#'   \code{"sqrtninv"}).
#' @param slab study labels for \code{label} (one per row of the data or per
#'   study used); by default those of the fit.
#' @param steps number of tick marks (and horizontal lines) on the y axis.
#' @param at positions of the x-axis tick marks (the axis range is widened to
#'   include them).
#' @param atransf a function applied to the x-axis tick labels (e.g.
#'   \code{exp}), the axis positions staying on the scale of the outcome.
#' @param targs further argument passed to \code{atransf} as its second
#'   argument.
#' @param digits decimals of the x- and y-axis labels (one number for both,
#'   or two); integers drop trailing zeros, as in metafor (default
#'   \code{c(2L, 3L)}, for \code{"ni"} \code{c(2L, 0L)}, for \code{"wi"}
#'   \code{c(2L, 2L)}).
#' @param addtau2 add \eqn{\tau^2}{tau^2} to the sampling variances of the
#'   regions (intercept-only models).
#' @param type residuals of a meta-regression: \code{"rstandard"} or
#'   \code{"rstudent"}.
#' @param back colour of the background (outside the regions).
#' @param shade colour(s) of the regions, one per \code{level} (the widest
#'   region last); with one colour and several levels, metafor's grey ramp.
#' @param hlines colour of the horizontal lines at the y-axis ticks.
#' @param lty line types of the region bounds and of the reference line (one
#'   for both, or two).
#' @param pch,col,bg plotting symbol, colour and fill of the points (one
#'   value, or one per row of the data or per study used); for trim-and-fill
#'   results \code{col} and \code{bg} are two colours, for the observed and
#'   the filled studies.
#' @param pch.fill symbol of the filled studies of a trim-and-fill result.
#' @param label which points to label with their study label: \code{FALSE},
#'   \code{TRUE} or \code{"all"} (all), \code{"out"} (those outside the
#'   widest region; all for the sample-size axes) or a number \eqn{n} (the
#'   \eqn{n} points farthest from the reference line).
#' @param offset distance of the labels from the points (in character
#'   widths).
#' @param legend \code{TRUE}, a position (e.g. \code{"topleft"}) or a list of
#'   options (\code{x}, \code{y}, \code{inset}, \code{bty}, \code{bg},
#'   \code{studies}, \code{show} = \code{"pvals"}, \code{"cis"} or \code{NA},
#'   \code{cex}, \code{x.intersp}, \code{y.intersp}) for a legend of the
#'   regions (as p-value ranges, or as confidence regions for \code{show =
#'   "cis"}) and of the studies (observed and imputed studies for
#'   trim-and-fill results).
#' @param refline2,level2,lty2 a second reference line with its region bounds
#'   (level \code{level2}, by default that of the fit or 95; line type
#'   \code{lty2}), e.g. at an adjusted estimate.
#' @param ci.res number of points on each region bound.
#' @param colref,colci,colbox colours of the reference line, of the region
#'   bounds and of the L-shaped box around the plot (\code{NA}: no box).
#' @param at.lab labels of the x-axis ticks (with \code{at}).
#' @param ... further graphical parameters (\code{main}, \code{cex},
#'   \code{cex.lab}, \code{las}, ...) passed to the plot, axes, points and
#'   labels.  \code{transf} is ignored with metafor's warning, as in
#'   metafor's funnel() (which has none): use \code{atransf}.
#' @return Invisibly, a data frame with one row per drawn study: \code{x}
#'   (effect size or residual), \code{y} (the y-axis value), \code{slab} and
#'   \code{fill} (\code{TRUE} for studies imputed by trim and fill).  Its
#'   attributes give the layout: \code{refline}, \code{level} (percent, one
#'   per region), \code{contours} (with \code{contour = TRUE}), \code{xlim},
#'   \code{ylim}, \code{yat} (y ticks), \code{at} and \code{at.lab} (x ticks
#'   and their labels), \code{labelled} (rows of the labelled points) and
#'   \code{regions} (one data frame per level with the y grid and the lower
#'   and upper bound, \code{NULL} for the sample-size axes).
#' @references Sterne JAC, Egger M (2001). Funnel plots for detecting bias in
#'   meta-analysis: guidelines on choice of axis. \emph{J Clin Epidemiol}
#'   54:1046-1055.
#'   Peters JL, Sutton AJ, Jones DR, Abrams KR, Rushton L (2008).
#'   Contour-enhanced meta-analysis funnel plots help distinguish publication
#'   bias from other causes of asymmetry. \emph{J Clin Epidemiol} 61:991-996.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
#'                   ni = c(40, 45, 30, 120, 25, 60))
#' fit <- rma(yi, vi, data = dat, ni = ni)
#' funnel(fit)
#' funnel(fit, level = c(90, 95, 99), shade = c("white", "gray55", "gray75"),
#'        refline = 0, legend = TRUE)
#' funnel(fit, yaxis = "ni", label = "out")
#' funnel(dat$yi, dat$vi, yaxis = "seinv")
#' @export
funnel <- function(x, ...) UseMethod("funnel")

#' @rdname funnel
#' @export
funnel.mf_rma <- function(x, yaxis = "sei", xlim, ylim, xlab, ylab, slab, steps = 5, at, atransf, targs, digits,
                          level = x$level, addtau2 = FALSE, type = "rstandard", back, shade, hlines, refline,
                          lty = 3, pch, pch.fill, col, bg, label = FALSE, offset = 0.4, legend = contour,
                          contour = FALSE, contours = c(90, 95, 99), ..., refline2 = NULL, level2, lty2 = 3,
                          ci.res = 1000, colref, colci, colbox, at.lab) {
  .mf_check_dots("funnel.mf_rma", ...)
  .mf_funnel_no_transf(...)
  if (!inherits(x, "mf_rma") && !(is.list(x) && !is.null(x$yi) && !is.null(x$vi)))
    .mf_stop(sprintf("funnel() needs a model fitted by rma(), not %s.", class(x)[1L]))
  contour <- .mf_funnel_flag(contour, "contour")
  addtau2 <- .mf_funnel_flag(addtau2, "addtau2")
  yaxis <- .mf_funnel_yaxis(yaxis)
  type <- .mf_match_arg(type, c("rstandard", "rstudent"), "type")
  fit_alpha <- if (is.null(x$level)) 0.05 else x$level
  if (missing(level)) level <- if (contour) contours else fit_alpha
  trimfill <- !is.null(x$fill)
  # fits of rma() and rma.mv() (the latter reach here through funnel.default)
  is_fit <- inherits(x, c("mf_rma", "mf_rma_mv"))
  int.only <- !is_fit || isTRUE(x$int.only)
  yi <- c(x$yi); vi <- c(x$vi)
  n <- length(yi)
  ni <- if (!is.null(x$ni) && length(x$ni) == n) as.numeric(x$ni) else NULL
  if (is.null(ni) && yaxis %in% c("ni", "ninv", "sqrtni", "sqrtninv", "lni"))
    .mf_stop(sprintf("yaxis = \"%s\" needs the sample sizes, but the fit has none: fit it with rma(ni = ) or to escalc() output with sample sizes.", yaxis))
  if (int.only) {
    xv <- yi; se <- sqrt(vi)
    if (missing(refline)) refline <- if (contour) 0 else c(x$beta)[1L]
    if (missing(xlab)) xlab <- .mf_measure_label(x$measure, atransf = if (missing(atransf)) NULL else atransf)
    tau2 <- 0
    if (addtau2 && inherits(x, "mf_rma_mv")) {
      warning("'addtau2' is ignored for rma.mv() fits (as in metafor).", call. = FALSE)
    } else if (addtau2) tau2 <- if (is.null(x$tau2)) 0 else x$tau2
  } else {
    if (missing(refline)) refline <- 0
    if (addtau2) warning("'addtau2' is ignored for models with moderators (as in metafor).", call. = FALSE)
    op <- options(na.action = "na.omit")
    on.exit(options(op), add = TRUE)
    res <- if (type == "rstandard") rstandard(x) else rstudent(x)
    options(op)
    xv <- c(res$resid); se <- c(res$se)
    if (length(xv) != n) .mf_stop("The residuals of the fit do not match its studies.")
    if (missing(xlab)) xlab <- "Residual Value"
    tau2 <- 0
  }
  fill <- .mf_funnel_fill(x, n)
  # slab, pch, col and bg may name variables of the data of the fit (as in metafor)
  env <- parent.frame()
  if (is_fit) {
    if (!missing(slab)) slab <- .mf_plot_eval(substitute(slab), x, env)
    if (!missing(pch)) pch <- .mf_plot_eval(substitute(pch), x, env)
    if (!missing(col)) col <- .mf_plot_eval(substitute(col), x, env)
    if (!missing(bg)) bg <- .mf_plot_eval(substitute(bg), x, env)
  }
  slab <- if (missing(slab)) .mf_funnel_slab(x, n) else if (is_fit) .mf_slab_labels(slab, x) else {
    if (length(slab) != n) .mf_stop(sprintf("'slab' has %d values but %d studies are drawn.", length(slab), n))
    as.character(slab)
  }
  wi <- NULL
  if (yaxis == "wi") {
    if (is_fit) {
      op <- options(na.action = "na.omit")
      on.exit(options(op), add = TRUE)
      wi <- c(stats::weights(x))
      options(op)
    } else wi <- x$wi
    if (is.null(wi) || length(wi) != n) .mf_stop("The weights of this fit are not available for yaxis = \"wi\".")
  }
  per <- function(v, arg) {
    if (is_fit && !trimfill) return(.mf_plot_per_study(v, x, arg))
    if (length(v) == 1L) return(rep(v, n))
    if (length(v) != n) .mf_stop(sprintf("'%s' has %d values but %d studies are drawn.", arg, length(v), n))
    v
  }
  fg <- graphics::par("fg")
  pch.vec <- !missing(pch) && length(pch) > 1L
  pch <- per(if (missing(pch)) 19 else pch, "pch")
  if (missing(pch.fill)) pch.fill <- 21
  if (trimfill) {
    col.vec <- bg.vec <- FALSE
    col <- if (missing(col)) c(fg, fg) else if (length(col) == 1L) c(col, fg) else col[1:2]
    bg <- if (missing(bg)) c(.mf_plot_mix(0.6), .mf_plot_mix(0.1)) else if (length(bg) == 1L)
      c(bg, .mf_plot_mix(0.1)) else bg[1:2]
  } else {
    col.vec <- !missing(col) && length(col) > 1L
    bg.vec <- !missing(bg) && length(bg) > 1L
    col <- per(if (missing(col)) fg else col, "col")
    bg <- per(if (missing(bg)) .mf_plot_mix(0.1) else bg, "bg")
  }
  .mf_funnel_draw(
    xv = xv, se = se, ni = ni, wi = wi, slab = slab, fill = fill, trimfill = trimfill, yaxis = yaxis,
    xlim = if (missing(xlim)) NULL else xlim, ylim = if (missing(ylim)) NULL else ylim, xlab = xlab,
    ylab = if (missing(ylab)) NULL else ylab, steps = steps, at = if (missing(at)) NULL else at,
    atransf = if (missing(atransf)) NULL else atransf, targs = if (missing(targs)) NULL else targs,
    digits = if (missing(digits)) NULL else digits, level = level, tau2 = tau2,
    back = if (missing(back)) NULL else back, shade = if (missing(shade)) NULL else shade,
    hlines = if (missing(hlines)) NULL else hlines, refline = refline, lty = lty, pch = pch,
    pch.fill = pch.fill, col = col, bg = bg, vec = pch.vec || col.vec || bg.vec, label = label, offset = offset,
    legend = legend, contour = contour, contours = contours, refline2 = refline2,
    level2 = if (missing(level2)) fit_alpha else level2, lty2 = lty2, ci.res = ci.res,
    colref = if (missing(colref)) NULL else colref, colci = if (missing(colci)) NULL else colci,
    colbox = if (missing(colbox)) NULL else colbox, at.lab = if (missing(at.lab)) NULL else at.lab, ...)
}

#' @rdname funnel
#' @param vi sampling variances (\code{funnel.default}).
#' @param sei standard errors (alternative to \code{vi}).
#' @param ni sample sizes (\code{funnel.default}; by default the \code{ni}
#'   attribute of \code{x}).
#' @param subset logical or index vector selecting the studies to draw
#'   (\code{funnel.default}).
#' @export
funnel.default <- function(x, vi, sei, ni, subset, yaxis = "sei", xlim, ylim, xlab, ylab, slab, steps = 5, at,
                           atransf, targs, digits, level = 95, back, shade, hlines, refline = 0, lty = 3, pch,
                           col, bg, label = FALSE, offset = 0.4, legend = contour, contour = FALSE,
                           contours = c(90, 95, 99), ..., refline2 = NULL, level2 = 95, lty2 = 3, ci.res = 1000,
                           colref, colci, colbox, at.lab) {
  # a trim-and-fill result that does not inherit from mf_rma
  if (is.list(x) && !is.data.frame(x) && !is.null(x$yi) && !is.null(x$vi) && !is.null(x$beta)) {
    cl <- match.call()
    cl[[1L]] <- funnel.mf_rma
    return(eval(cl, parent.frame()))
  }
  .mf_check_dots("funnel.default", ...)
  .mf_funnel_no_transf(...)
  contour <- .mf_funnel_flag(contour, "contour")
  yaxis <- .mf_funnel_yaxis(yaxis)
  measure <- attr(x, "measure")
  yi <- .mf_numeric(x, "x")
  k <- length(yi)
  if (k == 0L) .mf_stop("'x' has length 0: there is nothing to plot.")
  vi <- if (!missing(vi) && !is.null(vi)) .mf_numeric(vi, "vi") else if (!missing(sei) && !is.null(sei))
    .mf_numeric(sei, "sei")^2 else NULL
  nbased <- yaxis %in% c("ni", "ninv", "sqrtni", "sqrtninv", "lni")
  if (is.null(vi) && !nbased) .mf_stop("Give the sampling variances 'vi' or the standard errors 'sei'.")
  if (!is.null(vi)) {
    if (length(vi) != k) .mf_stop(sprintf("'vi' has length %d but 'x' has length %d.", length(vi), k))
    bad <- !is.na(vi) & vi < 0
    if (any(bad)) .mf_stop(sprintf("'vi' must not be negative; negative in %s.", .mf_rows(bad)))
  }
  if (missing(ni) || is.null(ni)) ni <- attr(x, "ni")
  if (!is.null(ni)) {
    ni <- .mf_numeric(ni, "ni")
    if (length(ni) != k) .mf_stop(sprintf("'ni' has length %d but 'x' has length %d.", length(ni), k))
  }
  if (nbased && is.null(ni))
    .mf_stop(sprintf("yaxis = \"%s\" needs the sample sizes: give 'ni' (or an escalc() result with its ni attribute).", yaxis))
  if (missing(slab) || is.null(slab)) {
    slab <- attr(x, "slab")
    if (is.null(slab) || length(slab) != k) slab <- seq_len(k)
  }
  if (length(slab) != k) .mf_stop(sprintf("'slab' has length %d but 'x' has length %d.", length(slab), k))
  slab <- as.character(slab)
  vecarg <- function(v, arg) {
    if (length(v) == 1L) return(rep(v, k))
    if (length(v) != k) .mf_stop(sprintf("'%s' has %d values but 'x' has %d.", arg, length(v), k))
    v
  }
  vec <- (!missing(pch) && length(pch) > 1L) || (!missing(col) && length(col) > 1L) || (!missing(bg) && length(bg) > 1L)
  pch <- vecarg(if (missing(pch)) 19 else pch, "pch")
  col <- vecarg(if (missing(col)) graphics::par("fg") else col, "col")
  bg <- vecarg(if (missing(bg)) .mf_plot_mix(0.1) else bg, "bg")
  keep <- rep(TRUE, k)
  if (!missing(subset) && !is.null(subset)) {
    if (is.logical(subset)) {
      if (length(subset) != k) .mf_stop(sprintf("'subset' has length %d but 'x' has length %d.", length(subset), k))
      keep <- !is.na(subset) & subset
    } else if (is.numeric(subset) && !anyNA(subset) && all(subset >= 1 & subset <= k)) {
      keep <- seq_len(k) %in% subset
    } else .mf_stop("'subset' must be a logical vector or indices of the studies.")
  }
  keep <- keep & !is.na(yi)
  if (yaxis %in% c("sei", "vi", "seinv", "vinv", "wi")) keep <- keep & !is.na(vi)
  if (nbased) keep <- keep & !is.na(ni)
  if (sum(keep) < 2L) .mf_stop("Fewer than 2 studies with an effect size and a variance (or sample size) remain to plot.")
  yi <- yi[keep]; vi <- vi[keep]; ni <- ni[keep]
  wi <- NULL
  if (yaxis == "wi") {
    if (any(vi <= 0)) .mf_stop("yaxis = \"wi\" needs positive sampling variances 'vi'.")
    wi <- 100 * (1 / vi) / sum(1 / vi)
  }
  if (is.null(vi)) vi <- rep(NA_real_, length(yi))
  if (!missing(refline) && is.null(refline)) refline <- NA_real_
  if (contour && missing(level)) level <- contours
  if (missing(xlab))
    xlab <- .mf_measure_label(measure, atransf = if (missing(atransf)) NULL else atransf)
  .mf_funnel_draw(
    xv = yi, se = sqrt(vi), ni = ni, wi = wi, slab = slab[keep], fill = rep(FALSE, length(yi)), trimfill = FALSE,
    yaxis = yaxis, xlim = if (missing(xlim)) NULL else xlim, ylim = if (missing(ylim)) NULL else ylim,
    xlab = xlab, ylab = if (missing(ylab)) NULL else ylab, steps = steps, at = if (missing(at)) NULL else at,
    atransf = if (missing(atransf)) NULL else atransf, targs = if (missing(targs)) NULL else targs,
    digits = if (missing(digits)) NULL else digits, level = level, tau2 = 0,
    back = if (missing(back)) NULL else back, shade = if (missing(shade)) NULL else shade,
    hlines = if (missing(hlines)) NULL else hlines, refline = refline, lty = lty, pch = pch[keep],
    pch.fill = 21, col = col[keep], bg = bg[keep], vec = vec, label = label, offset = offset, legend = legend,
    contour = contour, contours = contours, refline2 = refline2, level2 = level2, lty2 = lty2, ci.res = ci.res,
    colref = if (missing(colref)) NULL else colref, colci = if (missing(colci)) NULL else colci,
    colbox = if (missing(colbox)) NULL else colbox, at.lab = if (missing(at.lab)) NULL else at.lab, ...)
}

.mf_funnel_flag <- function(v, arg) {
  if (!is.logical(v) || length(v) != 1L || is.na(v)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", arg))
  v
}

.mf_funnel_axes <- c("sei", "vi", "seinv", "vinv", "ni", "ninv", "sqrtni", "sqrtninv", "lni", "wi")

.mf_funnel_yaxis <- function(yaxis) {
  ok <- is.character(yaxis) && length(yaxis) == 1L && !is.na(yaxis)
  hit <- if (ok) pmatch(yaxis, .mf_funnel_axes) else NA_integer_
  if (is.na(hit))
    .mf_stop(sprintf("'yaxis' must be one of %s.", paste0("\"", .mf_funnel_axes, "\"", collapse = ", ")))
  .mf_funnel_axes[hit]
}

# Levels given in percent, as proportions or as alpha (metafor's rule), as
# alpha values; a vector is allowed.
.mf_funnel_alpha <- function(level, arg = "level") {
  if (!is.numeric(level) || !length(level) || anyNA(level) || any(level < 0 | level > 100))
    .mf_stop(sprintf("'%s' must be confidence levels between 0 and 100, e.g. 95 or c(90, 95, 99).", arg))
  ifelse(level == 0, 1, ifelse(level >= 1, (100 - level) / 100, ifelse(level > 0.5, 1 - level, level)))
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
  if (!is.null(s) && !is.null(x$ids) && length(x$ids) == n && length(s) >= max(x$ids)) return(as.character(s[x$ids]))
  if (!is.null(s) && length(s) == n) return(as.character(s))
  as.character(seq_len(n))
}

# Axis labels with d decimals; an integer d drops trailing zeros (metafor).
.mf_funnel_fmt <- function(v, d) {
  if (!is.numeric(d) || length(d) != 1L || is.na(d) || d < 0) .mf_stop("'digits' must be one or two non-negative numbers.")
  formatC(v, format = "f", digits = d, drop0trailing = is.integer(d))
}

# Legend text of the p-value ranges between the alpha levels, e.g.
# "0.05 < p <= 0.10": plotmath expressions with their plain text as names.
.mf_funnel_ptext <- function(alpha) {
  a <- c(1, alpha, 0)
  nd <- max(0, max(nchar(format(signif(alpha, 8), scientific = FALSE, trim = TRUE, drop0trailing = TRUE))) - 2L)
  f <- function(v) formatC(v, format = "f", digits = nd)
  out <- lapply(seq_len(length(alpha) + 1L), function(i)
    bquote(.(f(a[i + 1L])) < {p <= .(f(a[i]))}))
  names(out) <- vapply(seq_len(length(alpha) + 1L), function(i) sprintf("%s < p <= %s", f(a[i + 1L]), f(a[i])), "")
  out
}

# metafor's funnel() has no 'transf': given, it warns and ignores it.
.mf_funnel_no_transf <- function(...) {
  if ("transf" %in% ...names())
    warning("Function does not have a 'transf' argument (use 'atransf' instead).", call. = FALSE)
}

.mf_funnel_draw <- function(xv, se, ni, wi, slab, fill, trimfill, yaxis, xlim, ylim, xlab, ylab, steps, at, atransf,
                            targs, digits, level, tau2, back, shade, hlines, refline, lty, pch, pch.fill, col, bg,
                            vec, label, offset, legend, contour, contours, refline2, level2, lty2, ci.res, colref,
                            colci, colbox, at.lab, ...) {
  ciaxis <- yaxis %in% c("sei", "vi", "seinv", "vinv")
  if (contour) {
    if (!is.numeric(contours) || !length(contours) || anyNA(contours) || any(contours <= 0 | contours >= 100))
      .mf_stop("'contours' must be confidence levels in percent between 0 and 100, e.g. c(90, 95, 99).")
  }
  alpha <- .mf_funnel_alpha(level)
  if (is.null(refline) || (length(refline) == 1L && is.na(refline))) refline <- NA_real_ else
    refline <- .mf_plot_number(refline, "refline")
  if (!is.null(refline2)) refline2 <- .mf_plot_number(refline2, "refline2")
  alpha2 <- .mf_funnel_alpha(level2, "level2")[1L]
  if (!is.numeric(steps) || length(steps) != 1L || !is.finite(steps) || steps < 2)
    .mf_stop("'steps' must be a single number of at least 2.")
  if (!is.numeric(ci.res) || length(ci.res) != 1L || !is.finite(ci.res) || ci.res < 2)
    .mf_stop("'ci.res' must be a single number of at least 2.")
  ci.res <- as.integer(ci.res)
  if (!is.numeric(offset) || length(offset) != 1L || !is.finite(offset)) .mf_stop("'offset' must be a single number.")
  if (length(label) != 1L || is.na(label) ||
      !(is.logical(label) || is.numeric(label) || (is.character(label) && label %in% c("all", "out"))))
    .mf_stop("'label' must be TRUE, FALSE, \"all\", \"out\" or a number of points.")
  if (is.null(digits)) {
    digits <- switch(yaxis, ni = c(2L, 0L), wi = c(2L, 2L), c(2L, 3L))
  } else {
    if (!length(digits) || length(digits) > 2L) .mf_stop("'digits' must be one or two numbers (x axis, y axis).")
    if (length(digits) == 1L) digits <- c(digits, digits)
  }
  lty <- if (length(lty) == 1L) rep(lty, 2L) else lty
  atf <- .mf_plot_tf(atransf, targs, "atransf")
  if (is.null(back)) back <- .mf_plot_mix(0.2)
  if (is.null(shade)) shade <- .mf_plot_mix(0)
  if (length(alpha) > 1L && length(shade) == 1L) {
    ramp <- grDevices::colorRampPalette(c(shade, .mf_plot_mix(0.5)))(length(alpha))
    shade <- c(ramp[1L], rev(ramp[-1L]))
  }
  if (ciaxis && length(shade) < length(alpha))
    .mf_stop(sprintf("'shade' has %d colours but there are %d levels.", length(shade), length(alpha)))
  if (is.null(hlines)) hlines <- .mf_plot_mix(0)
  if (is.null(colref)) colref <- .mf_plot_mix(0.6)
  if (is.null(colci)) colci <- .mf_plot_mix(0.6)
  if (is.null(colbox)) colbox <- .mf_plot_mix(0.6)
  yv <- switch(yaxis, sei = se, vi = se^2, seinv = 1 / se, vinv = 1 / se^2, ni = ni, ninv = 1 / ni,
               sqrtni = sqrt(ni), sqrtninv = 1 / sqrt(ni), lni = log(ni), wi = wi)
  if (is.null(ylab)) ylab <- switch(yaxis, sei = "Standard Error", vi = "Variance", seinv = "Inverse Standard Error",
                                    vinv = "Inverse Variance", ni = "Sample Size", ninv = "Inverse Sample Size",
                                    sqrtni = "Square Root Sample Size", sqrtninv = "Inverse Square Root Sample Size",
                                    lni = "Log Sample Size", wi = "Weight (in %)")
  drawn <- !is.na(xv) & !is.na(yv)
  if (!any(drawn)) .mf_stop(sprintf("No study has a value for yaxis = \"%s\".", yaxis))
  if (yaxis %in% c("ni", "ninv", "sqrtni", "sqrtninv", "lni") && any(!drawn))
    warning("Some studies have no sample size and are not drawn.", call. = FALSE)
  decreasing <- yaxis %in% c("sei", "vi", "ninv", "sqrtninv")
  if (is.null(ylim)) {
    r <- range(yv[drawn])
    ylim <- if (decreasing) rev(r) else r
    if (yaxis %in% c("sei", "vi")) ylim[2L] <- 0
    if (any(!is.finite(ylim)))
      .mf_stop("The y-axis range cannot be set automatically (a sampling variance is 0): give 'ylim'.")
  } else {
    if (!is.numeric(ylim) || length(ylim) != 2L || any(!is.finite(ylim))) .mf_stop("'ylim' must be two finite numbers.")
    ylim <- if (decreasing) sort(ylim, decreasing = TRUE) else sort(ylim)
    if (yaxis %in% c("seinv", "vinv") && any(ylim <= 0)) .mf_stop("Both y-axis limits ('ylim') must be > 0.")
    if (any(ylim < 0)) .mf_stop("Both y-axis limits ('ylim') must be >= 0.")
  }
  sefun <- function(y) switch(yaxis, sei = y, vi = sqrt(y), seinv = 1 / y, vinv = 1 / sqrt(y))
  zval <- function(a) stats::qnorm(a / 2, lower.tail = FALSE)
  if (is.null(xlim)) {
    lo <- min(xv[drawn]); hi <- max(xv[drawn])
    if (ciaxis && !is.na(refline)) {
      half <- zval(min(alpha)) * sqrt(sefun(ylim[1L])^2 + tau2)
      lo <- min(lo, refline - half); hi <- max(hi, refline + half)
    }
    xlim <- c(lo, hi) + c(-0.1, 0.1) * (hi - lo)
  } else {
    if (!is.numeric(xlim) || length(xlim) != 2L || any(!is.finite(xlim))) .mf_stop("'xlim' must be two finite numbers.")
    xlim <- sort(xlim)
  }
  if (!is.null(at)) {
    if (!is.numeric(at) || anyNA(at)) .mf_stop("'at' must be numeric positions of the x-axis ticks.")
    xlim <- c(min(xlim[1L], at), max(xlim[2L], at))
  }

  # the graphical parameters in ... go to the plot; those of the axes and
  # points to them as well (as in metafor, without the titles)
  gp <- list(...)
  gp$transf <- NULL   # (ignored with metafor's warning: .mf_funnel_no_transf())
  gp_axis <- gp[names(gp) %in% c("cex.axis", "col.axis", "font.axis", "las", "mgp", "tcl", "lwd", "family")]
  gp_pts <- gp[names(gp) %in% c("cex", "lwd", "font", "family")]
  do.call(graphics::plot, c(list(NA, NA, xlim = xlim, ylim = ylim, xlab = xlab, ylab = ylab, xaxt = "n", yaxt = "n",
                               bty = "n"), gp))
  usr <- graphics::par("usr")
  graphics::rect(usr[1L], usr[3L], usr[2L], usr[4L], col = back, border = NA)
  yat <- seq(ylim[1L], ylim[2L], length.out = steps)
  do.call(graphics::axis, c(list(side = 2, at = yat, labels = .mf_funnel_fmt(yat, digits[[2L]])), gp_axis))
  graphics::abline(h = yat, col = hlines)
  regions <- NULL
  if (ciaxis) {
    # the regions reach 10% beyond the points (only upwards for the inverse axes)
    yr <- ylim
    span <- abs(ylim[2L] - ylim[1L])
    if (yaxis %in% c("sei", "vi")) {
      yr[1L] <- ylim[1L] + 0.1 * span
      yr[2L] <- max(0, ylim[2L] - 0.1 * span)
    } else yr[2L] <- ylim[2L] + 0.1 * span
    ygrid <- seq(yr[1L], yr[2L], length.out = ci.res)
    segrid <- sqrt(sefun(ygrid)^2 + tau2)
    regions <- vector("list", length(alpha))
    for (m in rev(seq_along(alpha))) {
      lb <- refline - zval(alpha[m]) * segrid
      ub <- refline + zval(alpha[m]) * segrid
      regions[[m]] <- data.frame(y = ygrid, lb = lb, ub = ub)
      if (is.na(refline)) next
      graphics::polygon(c(lb, rev(ub)), c(ygrid, rev(ygrid)), border = NA, col = shade[m])
      graphics::lines(lb, ygrid, lty = lty[1L], col = colci)
      graphics::lines(ub, ygrid, lty = lty[1L], col = colci)
    }
    if (!is.null(refline2)) {
      half <- zval(alpha2) * segrid
      graphics::lines(refline2 - half, ygrid, lty = lty2, col = colci)
      graphics::lines(refline2 + half, ygrid, lty = lty2, col = colci)
    }
    if (!is.na(refline)) graphics::segments(refline, yr[1L], refline, yr[2L], lty = lty[2L], col = colref)
    if (!is.null(refline2)) graphics::segments(refline2, yr[1L], refline2, yr[2L], lty = lty2, col = colref)
  } else {
    if (!is.na(refline)) graphics::abline(v = refline, lty = lty[2L], col = colref)
    if (!is.null(refline2)) graphics::abline(v = refline2, lty = lty2, col = colref)
  }
  if (trimfill) {
    do.call(graphics::points, c(list(xv[!fill], yv[!fill], pch = pch[!fill], col = col[1L], bg = bg[1L]), gp_pts))
    do.call(graphics::points, c(list(xv[fill], yv[fill], pch = pch.fill, col = col[2L], bg = bg[2L]), gp_pts))
  } else do.call(graphics::points, c(list(xv, yv, pch = pch, col = col, bg = bg), gp_pts))
  if (is.null(at)) at <- graphics::axTicks(side = 1) else at <- at[at > usr[1L] & at < usr[2L]]
  if (is.null(at.lab)) {
    at.lab <- if (is.null(atf)) at else atf(at)
    at.lab <- .mf_funnel_fmt(at.lab, digits[[1L]])
  } else if (length(at.lab) != length(at)) .mf_stop(sprintf("'at.lab' has %d labels for %d ticks.", length(at.lab), length(at)))
  do.call(graphics::axis, c(list(side = 1, at = at, labels = at.lab), gp_axis))
  if (!is.na(colbox)) graphics::box(bty = "l", col = colbox)

  # labels (metafor's rule): the points farthest from the reference line
  # (the mean effect when there is none)
  ref_lab <- if (is.na(refline)) mean(xv, na.rm = TRUE) else refline
  k <- length(xv)
  lab <- integer(0)
  if (isTRUE(label) || identical(label, "all")) {
    lab <- seq_len(k)
  } else if (is.numeric(label)) {
    m <- min(max(round(label), 0), k)
    lab <- order(abs(xv - ref_lab), decreasing = TRUE)[seq_len(m)]
  } else if (identical(label, "out")) {
    lab <- if (!ciaxis) seq_len(k) else
      which(abs(xv - ref_lab) / sqrt(se^2 + tau2) >= zval(min(alpha)))
  }
  lab <- lab[drawn[lab]]
  gp_txt <- gp_pts[names(gp_pts) %in% c("cex", "font", "family")]
  tcex <- if (is.null(gp_txt$cex)) 1 else gp_txt$cex
  # metafor's side (away from the reference line); a label that would run
  # out of the plot region (metafor's are clipped there) or onto a label
  # already drawn goes to the other side of its point, or a little up or
  # down, when that place is free
  boxes <- NULL
  hh <- abs(graphics::strheight("M", cex = tcex)) * 0.8
  ydir <- if (usr[4L] >= usr[3L]) 1 else -1
  for (i in lab) {
    w <- graphics::strwidth(slab[i], cex = tcex) + offset * graphics::strwidth("m", cex = tcex)
    box_of <- function(pos, dy) {
      yc <- yv[i] + dy
      if (pos == 4) c(xv[i], xv[i] + w, yc - hh, yc + hh) else c(xv[i] - w, xv[i], yc - hh, yc + hh)
    }
    inside <- function(b) b[1L] >= usr[1L] && b[2L] <= usr[2L] && b[3L] >= min(usr[3:4]) && b[4L] <= max(usr[3:4])
    # overlap with the labels drawn so far, as a fraction of the label's box
    overlap <- function(b) {
      if (is.null(boxes)) return(0)
      ox <- pmax(0, pmin(boxes[, 2L], b[2L]) - pmax(boxes[, 1L], b[1L]))
      oy <- pmax(0, pmin(boxes[, 4L], b[4L]) - pmax(boxes[, 3L], b[3L]))
      sum(ox * oy) / ((b[2L] - b[1L]) * (b[4L] - b[3L]))
    }
    pref <- if (xv[i] - ref_lab >= 0) 4 else 2
    cand <- expand.grid(pos = c(pref, 6 - pref), dy = c(0, 2.2, -2.2, 4.4, -4.4) * hh * ydir)
    # the first free place inside the plot, else the one inside with the least overlap
    score <- vapply(seq_len(nrow(cand)), function(j) {
      b <- box_of(cand$pos[j], cand$dy[j])
      if (inside(b)) overlap(b) else Inf
    }, numeric(1))
    hit <- if (all(is.infinite(score))) NA_integer_ else which(score == min(score))[1L]
    pos <- if (is.na(hit)) pref else cand$pos[hit]
    dy <- if (is.na(hit)) 0 else cand$dy[hit]
    boxes <- rbind(boxes, box_of(pos, dy))
    do.call(graphics::text, c(list(xv[i], yv[i] + dy, slab[i], pos = pos, offset = offset, xpd = NA), gp_txt))
  }

  leg <- .mf_funnel_legend(legend, alpha = alpha, shade = shade, back = back, ciaxis = ciaxis, trimfill = trimfill,
                    pch = pch, pch.fill = pch.fill, col = col, bg = bg, vec = vec, colci = colci)

  out <- data.frame(x = xv, y = yv, slab = slab, fill = fill, stringsAsFactors = FALSE)
  attr(out, "refline") <- if (is.na(refline)) NULL else refline
  attr(out, "level") <- 100 * (1 - alpha)
  if (contour) attr(out, "contours") <- contours
  attr(out, "xlim") <- xlim
  attr(out, "ylim") <- ylim
  attr(out, "yat") <- yat
  attr(out, "at") <- at
  attr(out, "at.lab") <- at.lab
  attr(out, "labelled") <- sort(lab)
  attr(out, "regions") <- regions
  attr(out, "legend") <- leg
  invisible(out)
}

.mf_funnel_legend <- function(legend, alpha, shade, back, ciaxis, trimfill, pch, pch.fill, col, bg, vec, colci) {
  if (is.null(legend)) return(invisible(NULL))
  o <- .mf_legend_opts(legend, list(x = "topright", y = NULL, inset = 0.01, bty = "o", bg = .mf_plot_mix(0),
                                    studies = TRUE, show = "pvals", cex = c(1, 2, 1), x.intersp = 1, y.intersp = 1))
  if (!isTRUE(o$show)) return(invisible(NULL))
  cex <- o$cex
  if (length(cex) == 1L) cex <- c(cex, 2 * cex, cex)
  if (length(cex) == 2L) cex <- c(cex, cex[1L])
  show <- o[[which(names(o) == "show")[2L]]]
  if (length(show) != 1L || !(is.na(show) || show %in% c("pvals", "cis")))
    .mf_stop("The 'show' option of 'legend' must be \"pvals\", \"cis\" or NA.")
  if (!ciaxis) show <- NA
  studies <- isTRUE(o$studies) && !vec
  if (!studies && is.na(show)) return(invisible(NULL))
  txt <- list(); lpch <- NULL; lcol <- NULL; lcex <- NULL; lbg <- NULL
  if (identical(show, "pvals")) {
    txt <- .mf_funnel_ptext(alpha)
    n <- length(alpha) + 1L
    lpch <- rep(22, n); lcol <- rep(colci, n); lcex <- rep(cex[2L], n); lbg <- c(shade[seq_along(alpha)], back)
  } else if (identical(show, "cis")) {
    pct <- 100 - 100 * alpha
    nd <- max(0, max(nchar(format(signif(pct, 8), trim = TRUE, drop0trailing = TRUE))) - 3L)
    txt <- lapply(pct, function(v) bquote(.(formatC(v, format = "f", digits = nd)) * "% CI Region"))
    names(txt) <- paste0(formatC(pct, format = "f", digits = nd), "% CI Region")
    n <- length(alpha)
    lpch <- rep(22, n); lcol <- rep(colci, n); lcex <- rep(cex[2L], n); lbg <- shade[seq_along(alpha)]
  }
  if (studies) {
    txt <- c(txt, if (trimfill) list("Observed Studies" = quote(plain("Observed Studies"))) else
      list(Studies = quote(plain("Studies"))))
    lpch <- c(lpch, pch[1L]); lcol <- c(lcol, col[1L]); lcex <- c(lcex, cex[3L]); lbg <- c(lbg, bg[1L])
    if (trimfill) {
      txt <- c(txt, list("Imputed Studies" = quote(plain("Imputed Studies"))))
      lpch <- c(lpch, pch.fill[1L]); lcol <- c(lcol, col[2L]); lcex <- c(lcex, cex[3L]); lbg <- c(lbg, bg[2L])
    }
  }
  graphics::legend(x = o$x, y = o$y, inset = o$inset, bty = o$bty, bg = o$bg, cex = cex[1L],
                   x.intersp = o$x.intersp, y.intersp = o$y.intersp, pch = lpch, col = lcol, pt.cex = lcex,
                   pt.bg = lbg, legend = as.expression(txt))
  # the legend's text, as plain strings, for the returned layout
  names(txt)
}
