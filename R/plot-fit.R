# plot() of a fitted model: metafor's four panels, drawn with our own
# forest(), funnel(), radial() and qqnorm(), and the normal QQ plot of the
# standardized or studentized residuals (qqnorm()) with the simulated
# pseudo-confidence envelope of metafor's qqnorm() for rma.uni fits.

#' Plot of a fitted model and normal QQ plots of its residuals
#'
#' \code{plot()} draws, as metafor's \code{plot()} of \code{rma.uni},
#' \code{rma.mh} and \code{rma.peto} objects, four panels in a 2 x 2 layout:
#' a forest plot (\code{\link{forest}}), a funnel plot (\code{\link{funnel}};
#' of the residuals for a model with moderators), a radial plot
#' (\code{\link{radial}}; for a model with moderators instead the
#' standardized residuals against the fitted values) and a plot of the
#' standardized residuals of the studies in their order (or, with
#' \code{qqplot = TRUE}, a normal QQ plot of them, \code{qqnorm()}).
#'
#' \code{qqnorm()} draws the normal QQ plot of the standardized
#' (\code{type = "rstandard"}) or studentized deleted (\code{"rstudent"})
#' residuals with the diagonal and, as metafor, a pseudo-confidence envelope
#' from simulation (Cook and Weisberg 1982, pp. 86-87): \code{reps} vectors
#' of independent standard normal values are multiplied by \eqn{I - H}
#' (\eqn{H} the hat matrix), each sorted, and the \code{level} lower and
#' upper quantiles of each order statistic (Bonferroni-corrected by the
#' number of studies with \code{bonferroni = TRUE}) are plotted against the
#' normal quantiles, smoothed with \code{\link[stats]{supsmu}} when
#' \code{smooth = TRUE}.  The envelope uses R's random number generator:
#' with \code{set.seed()} (or \code{seed =}) it is the same as metafor's.
#'
#' @param x,y a fit of \code{\link{rma}} (without a selection model), or of
#'   \code{\link{rma.mh}} / \code{\link{rma.peto}} for \code{plot()}.
#' @param qqplot \code{plot()}: draw a normal QQ plot in the fourth panel
#'   instead of the standardized residuals in the order of the studies.
#' @param type \code{"rstandard"} or \code{"rstudent"}: the residuals.
#' @param pch,col,bg symbol of the points, its colour and fill.
#' @param grid draw a grid (\code{TRUE}) or a grid of that colour (a colour
#'   name).
#' @param envelope draw the pseudo-confidence envelope (\code{TRUE}), or draw
#'   it shaded in this colour (a colour name).
#' @param level confidence level of the envelope (percent, or a fraction);
#'   by default the fit's.
#' @param bonferroni Bonferroni-correct the envelope's level by the number of
#'   studies.
#' @param reps number of simulated vectors of the envelope.
#' @param smooth smooth the envelope with \code{supsmu()}.
#' @param bass the \code{bass} of \code{supsmu()}.
#' @param label label the points: \code{FALSE} / \code{"none"},
#'   \code{TRUE} / \code{"all"}, a number n (the n points farthest from the
#'   diagonal) or \code{"out"} (the points outside the envelope).
#' @param offset,pos distance of the labels from the points, and their
#'   position: 1 to 4 (below, left, above, right), 13 (below the points
#'   under the diagonal, above the others) or 24 (left or right).
#' @param lty line types of the diagonal and of the envelope (one value is
#'   used for both).
#' @param ... \code{plot()}: arguments passed on to each panel's function
#'   (e.g. \code{cex}); \code{qqnorm()}: \code{seed} (set with
#'   \code{set.seed()} before the envelope is simulated, as metafor) and
#'   graphical parameters passed to \code{qqnorm()}.
#' @return \code{plot()}: invisibly, the layouts of the four panels, a list
#'   with \code{forest}, \code{funnel}, \code{radial} (models without
#'   moderators) or \code{fitted} (with moderators: a data frame of the
#'   fitted values \code{x} and standardized residuals \code{z}), and
#'   \code{qqnorm} (with \code{qqplot = TRUE}) or \code{rstandard} (a data
#'   frame of the points \code{x}, \code{z} and their labels \code{ids}).
#'   \code{qqnorm()}: invisibly, as metafor, the points (\code{x}: normal
#'   quantiles, \code{y}: residuals, in the order of the studies), with an
#'   attribute \code{envelope} (when one is computed) holding its lower and
#'   upper curves \code{lb} and \code{ub} (lists of \code{x} and \code{y}).
#' @references Cook RD, Weisberg S (1982). \emph{Residuals and Influence in
#'   Regression}. London: Chapman and Hall.
#' @examples
#' dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
#'               data = metadat::dat.bcg)
#' res <- rma(yi, vi, data = dat)
#' plot(res)
#' set.seed(1234)
#' qqnorm(res)
#' res <- rma(yi, vi, mods = ~ ablat, data = dat)
#' plot(res, qqplot = TRUE)
#' @name plot-fit
NULL

#' @rdname plot-fit
#' @export
plot.mf_rma <- function(x, qqplot = FALSE, ...) {
  .mf_check_dots("plot.mf_rma", ...)
  .mf_plot_fit(x, qqplot, isTRUE(x$int.only), ...)
}

#' @rdname plot-fit
#' @export
plot.mf_rma_tab <- function(x, qqplot = FALSE, ...) {
  .mf_check_dots("plot.mf_rma_tab", ...)
  .mf_plot_fit(x, qqplot, TRUE, ...)
}

# The four panels of plot(), for rma() fits (with or without moderators) and
# rma.mh() / rma.peto() fits (always without).
.mf_plot_fit <- function(x, qqplot, int.only, ...) {
  if (!is.logical(qqplot) || length(qqplot) != 1L || is.na(qqplot))
    .mf_stop("'qqplot' must be TRUE or FALSE.")
  if ("main" %in% ...names())
    .mf_stop("'main' cannot be given to plot() of a fit: each of the four panels has its own title.")
  na.act <- .mf_na_action()
  op <- graphics::par(mfrow = c(2L, 2L))
  on.exit(graphics::par(op), add = TRUE)
  out <- list()
  out$forest <- forest(x, main = "Forest Plot", ...)
  out$funnel <- funnel(x, main = if (int.only) "Funnel Plot" else "Residual Funnel Plot", ...)
  if (int.only) {
    out$radial <- radial(x, main = "Radial Plot", ...)
  } else {
    z <- .mf_with_na_pass(rstandard(x)$z)
    pred <- .mf_with_na_pass(fitted(x))
    graphics::plot(pred, z, ylim = c(min(z, -2, na.rm = TRUE), max(z, 2, na.rm = TRUE)), pch = 19, bty = "l",
                   xlab = "Fitted Value", ylab = "Standardized Residual",
                   main = "Fitted vs. Standardized Residuals", ...)
    graphics::abline(h = 0, lty = "dashed")
    graphics::abline(h = stats::qnorm(c(0.025, 0.975)), lty = "dotted")
    out$fitted <- data.frame(x = unname(pred), z = unname(z))
  }
  if (qqplot) {
    out$qqnorm <- stats::qqnorm(x, ...)
  } else {
    out$rstandard <- .mf_plot_rstandard(x, na.act, ...)
  }
  invisible(out)
}

.mf_with_na_pass <- function(expr) {
  op <- options(na.action = "na.pass")
  on.exit(options(op))
  expr
}

# The standardized residuals in the order of the studies (with na.omit the
# studies used; otherwise all, with gaps at the studies not used, bridged by
# a light grey line).
.mf_plot_rstandard <- function(x, na.act, ...) {
  z <- unname(.mf_with_na_pass(rstandard(x)$z))
  ids <- .mf_na_view(x)$ids
  if (length(ids) != length(z)) ids <- seq_along(z)
  ok <- !is.na(z)
  if (na.act == "na.omit") { z <- z[ok]; ids <- ids[ok]; ok <- ok[ok] }
  k <- length(z)
  graphics::plot(NA, NA, xlim = c(1, k), ylim = c(min(z, -2, na.rm = TRUE), max(z, 2, na.rm = TRUE)), xaxt = "n",
                 xlab = "Study", ylab = "", bty = "l", main = "Standardized Residuals", ...)
  graphics::lines(seq_len(k)[ok], z[ok], col = "lightgray")
  graphics::lines(seq_len(k), z)
  graphics::points(seq_len(k), z, pch = 21, bg = "black")
  graphics::axis(1, at = seq_len(k), labels = ids)
  graphics::abline(h = 0, lty = "dashed")
  graphics::abline(h = stats::qnorm(c(0.025, 0.975)), lty = "dotted")
  data.frame(x = seq_len(k), z = z, ids = ids)
}

#' @rdname plot-fit
#' @export
qqnorm.mf_rma <- function(y, type = "rstandard", pch = 21, col, bg, grid = FALSE, envelope = TRUE, level = y$level,
                          bonferroni = FALSE, reps = 1000, smooth = TRUE, bass = 0, label = FALSE, offset = 0.3,
                          pos = 13, lty, ...) {
  .mf_check_dots("qqnorm.mf_rma", ...)
  x <- y
  .mf_plot_check(x, "qqnorm")
  type <- .mf_qq_type(type)
  if (x$k == 1L) .mf_stop("Stopped because k = 1.")
  if (!(isTRUE(envelope) || isFALSE(envelope) || (is.character(envelope) && length(envelope) == 1L && !is.na(envelope))))
    .mf_stop("'envelope' must be TRUE, FALSE or a colour.")
  for (a in c("bonferroni", "smooth"))
    if (!isTRUE(get(a)) && !isFALSE(get(a))) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", a))
  if (!is.numeric(reps) || length(reps) != 1L || is.na(reps) || reps < 1 || reps != round(reps))
    .mf_stop("'reps' must be a positive whole number.")
  if (!is.numeric(bass) || length(bass) != 1L || is.na(bass) || bass < 0 || bass > 10)
    .mf_stop("'bass' must be a number between 0 and 10.")
  if (missing(lty)) lty <- c("solid", "dotted") else {
    if (length(lty) < 1L || length(lty) > 2L) .mf_stop("'lty' must be one or two line types.")
    lty <- rep_len(lty, 2L)
  }
  alpha <- if (missing(level)) x$level else .mf_level(level)
  seed <- list(...)$seed
  r <- if (type == "rstandard") rstandard(x) else rstudent(x)
  env <- NULL
  # label = "out" needs the envelope (drawn unless envelope = FALSE was given... as metafor: drawn)
  draw <- !isFALSE(envelope) || identical(label, "out")
  if (draw) {
    if (!is.null(seed)) set.seed(seed)
    env <- .mf_qq_envelope(x, alpha, bonferroni, reps, smooth, bass)
  }
  .mf_qq_draw(r$z, r$slab, x$k, pch = pch, col = if (missing(col)) NULL else col, bg = if (missing(bg)) NULL else bg,
              grid = grid, label = label, offset = offset, pos = pos, lty = lty, env = env,
              envcol = if (is.character(envelope)) envelope else .mf_plot_mix(0.15), allow_out = TRUE, ...)
}

.mf_qq_type <- function(type) {
  if (!is.character(type) || length(type) != 1L || is.na(type) || is.na(pmatch(type, c("rstandard", "rstudent"))))
    .mf_stop("'type' must be \"rstandard\" or \"rstudent\".")
  match.arg(type, c("rstandard", "rstudent"))
}

# The simulated envelope: sorted (I - H) e for reps standard normal vectors
# e; the pointwise quantiles of each order statistic, as normal QQ curves.
.mf_qq_envelope <- function(x, alpha, bonferroni, reps, smooth, bass) {
  k <- x$k
  sims <- matrix(stats::rnorm(k * reps), nrow = k, ncol = reps)
  H <- .mf_hat_matrix(x)
  e <- (diag(k) - H) %*% sims
  e <- apply(e, 2L, sort)
  if (k == 1L) e <- matrix(e, nrow = 1L)
  p <- if (bonferroni) (alpha / 2) / k else alpha / 2
  lb <- apply(e, 1L, stats::quantile, p)
  ub <- apply(e, 1L, stats::quantile, 1 - p)
  curve <- function(v) {
    q <- stats::qqnorm(v, plot.it = FALSE)
    if (smooth) q <- stats::supsmu(q$x, q$y, bass = bass)
    list(x = q$x, y = q$y)
  }
  list(lb = curve(lb), ub = curve(ub))
}

# The QQ plot itself (shared by rma() fits and rma.mh() / rma.peto() fits):
# the residuals z (NA for studies not used) with their labels, the diagonal,
# the envelope `env` (or NULL), a grid, and labels of some points.
.mf_qq_draw <- function(z, slab, k, pch, col, bg, grid, label, offset, pos, lty = c("solid", "dotted"), env = NULL,
                        envcol = NULL, allow_out = FALSE, ...) {
  ok_label <- length(label) == 1L && !is.na(label) &&
    (is.logical(label) || is.numeric(label) || label %in% c("all", "none", if (allow_out) "out"))
  if (!ok_label)
    .mf_stop(sprintf("'label' must be TRUE, FALSE, \"all\", \"none\"%s or a number of points.",
                     if (allow_out) ", \"out\"" else ""))
  if (!is.numeric(pos) || length(pos) != 1L || !pos %in% c(1:4, 13, 24))
    .mf_stop("'pos' must be 1, 2, 3, 4, 13 or 24.")
  if (!isTRUE(grid) && !isFALSE(grid) && !(is.character(grid) && length(grid) == 1L && !is.na(grid)))
    .mf_stop("'grid' must be TRUE, FALSE or a colour.")
  ok <- !is.na(z)
  zi <- unname(z[ok])
  slab <- slab[ok]
  if (is.null(col)) col <- graphics::par("fg")
  if (is.null(bg)) bg <- .mf_plot_mix(0.35)
  dots <- list(...)
  dots$seed <- NULL
  sav <- do.call(stats::qqnorm, c(list(zi, pch = pch, col = col, bg = bg, bty = "l"), dots))
  if (!is.null(env)) {
    graphics::polygon(c(env$lb$x, rev(env$ub$x)), c(env$lb$y, rev(env$ub$y)), col = envcol, border = NA)
    graphics::lines(env$lb$x, env$lb$y, lty = lty[2L])
    graphics::lines(env$ub$x, env$ub$y, lty = lty[2L])
  }
  if (!isFALSE(grid)) {
    graphics::grid(col = if (is.character(grid)) grid else "gray85")
    graphics::box(bty = "l")
  }
  graphics::abline(a = 0, b = 1, lty = lty[1L])
  graphics::points(sav$x, sav$y, pch = pch, col = col, bg = bg)
  if (identical(label, "out")) {
    # the points outside the envelope, the i-th smallest against its i-th value
    rk <- rank(zi, ties.method = "first")
    lab <- sav$y < env$lb$y[rk] | sav$y > env$ub$y[rk]
  } else {
    n <- if (isTRUE(label) || identical(label, "all")) k else if (isFALSE(label) || identical(label, "none")) 0 else
      round(label)
    if (n != 0 && (n < 1 || n > k)) .mf_stop(sprintf("'label' must lie between 1 and k = %d.", k))
    # the n points farthest from the diagonal
    dev <- abs(sav$x - sav$y)
    lab <- vapply(seq_along(dev), function(i) n > 0 && sum(dev > dev[i]) < n, logical(1))
  }
  lab <- !is.na(lab) & lab
  if (any(lab)) {
    where <- switch(as.character(pos), "13" = ifelse(sav$x - sav$y >= 0, 1, 3),
                    "24" = ifelse(sav$x - sav$y <= 0, 2, 4), rep(pos, length(zi)))
    for (i in which(lab)) {
      p <- .mf_label_pos(sav$x[i], sav$y[i], slab[i], where[i], offset)
      graphics::text(sav$x[i], sav$y[i], slab[i], pos = p, offset = offset, xpd = NA)
    }
  }
  if (!is.null(env)) attr(sav, "envelope") <- env
  invisible(sav)
}

# The position (1 below, 2 left, 3 above, 4 right) of a point's label: the
# one asked for when the label fits inside the plot region there, otherwise
# the first of right, left, above and below where it fits (so that labels of
# the extreme points are not cut at the edges), else the one asked for.
.mf_label_pos <- function(x, y, label, pos, offset) {
  usr <- graphics::par("usr")
  w <- graphics::strwidth(label)
  h <- graphics::strheight(label)
  ox <- offset * graphics::strwidth("m")
  oy <- offset * graphics::strheight("M") * 1.5
  box <- function(p) switch(p,
    c(x - w / 2, x + w / 2, y - oy - h, y - oy),
    c(x - ox - w, x - ox, y - h / 2, y + h / 2),
    c(x - w / 2, x + w / 2, y + oy, y + oy + h),
    c(x + ox, x + ox + w, y - h / 2, y + h / 2))
  fits <- function(p) { b <- box(p); b[1] >= usr[1] && b[2] <= usr[2] && b[3] >= usr[3] && b[4] <= usr[4] }
  for (p in unique(c(pos, 4, 2, 3, 1))) if (fits(p)) return(p)
  pos
}
