# Baujat plots (Baujat et al. 2002): each study's contribution to the
# heterogeneity statistic against its influence on the pooled result.

#' Baujat plots
#'
#' For each study, the x axis shows its contribution to the heterogeneity
#' statistic, the squared Pearson residual
#' \eqn{(y_i - x_i'b)^2 / (v_i + \hat\tau^2)}{(yi - xi'b)^2 / (vi + tau2)}
#' (for equal-effects models its contribution to \eqn{Q_E}), and the y axis
#' its influence on the fitted value,
#' \eqn{(x_i'b_{(-i)} - x_i'b)^2 / x_i'V_{(-i)}x_i}{(xi'b(-i) - xi'b)^2 / xi'V(-i)xi},
#' where \eqn{b_{(-i)}}{b(-i)} and \eqn{V_{(-i)}}{V(-i)} come from the model
#' refitted without study i (with the same estimator; these are the
#' definitions of \code{metafor::baujat()}).  For the intercept-only
#' equal-effects model the leave-one-out estimates are weighted means with a
#' closed form, so no refit is needed: with weights \eqn{w_i},
#' \eqn{b_{(-i)} = (\sum w y - w_i y_i) / (W - w_i)}{b(-i) = (sum wy - wi yi) / (W - wi)}
#' and \eqn{V_{(-i)} = (\sum w^2 v - w_i^2 v_i) / (W - w_i)^2}{V(-i) = (sum w^2 v - wi^2 vi) / (W - wi)^2}.
#'
#' @param x a model fitted by \code{rma()}.
#' @param xlim,ylim optional axis ranges.
#' @param xlab,ylab axis labels.
#' @param cex size of the symbols or labels (default 0.8).
#' @param grid draw a background grid: \code{TRUE}, \code{FALSE} or its
#'   colour.
#' @param symbol \code{"ids"} (row numbers), \code{"slab"} (study labels) or
#'   a plotting symbol (\code{pch}) for the points.
#' @param progbar accepted for metafor compatibility (cosmetic: the refits
#'   show no progress bar).
#' @param ... further arguments passed to \code{title()} (e.g. \code{main}).
#' @return Invisibly, a data frame with \code{x}, \code{y}, \code{ids} and
#'   \code{slab}, one row per study (NA where a leave-one-out fit failed).
#' @references Baujat B, Mahe C, Pignon JP, Hill C (2002). A graphical method
#'   for exploring heterogeneity in meta-analyses: application to a
#'   meta-analysis of 65 trials. \emph{Stat Med} 21:2641-2652.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fit <- rma(yi, vi, data = dat, method = "EE")
#' baujat(fit)
#' @export
baujat <- function(x, ...) UseMethod("baujat")

#' @rdname baujat
#' @export
baujat.mf_rma <- function(x, xlim, ylim, xlab, ylab, cex, symbol = "ids", grid = TRUE, progbar = FALSE, ...) {
  .mf_check_dots("baujat.mf_rma", ...)
  .mf_plot_check(x, "baujat")
  if (x$k < 2L) .mf_stop("baujat() needs at least 2 studies.")
  d <- .mf_baujat_values(x)
  .mf_baujat_draw(x, d$x, d$y, x$ids, .mf_plot_slab(x), if (missing(xlim)) NULL else xlim,
                  if (missing(ylim)) NULL else ylim, if (missing(xlab)) NULL else xlab,
                  if (missing(ylab)) NULL else ylab, if (missing(cex)) NULL else cex, symbol, grid, ...)
}

# The Baujat plot of the coordinates xh, yh of the studies ids (labels slab);
# NULL arguments take their defaults.  Returns the coordinates, invisibly.
.mf_baujat_draw <- function(x, xh, yh, ids, slab, xlim, ylim, xlab, ylab, cex, symbol, grid, ...) {
  if (is.null(xlab)) xlab <- if (.mf_is_ee(x$method))
    (if (x$int.only) "Contribution to Overall Heterogeneity" else "Contribution to Residual Heterogeneity") else
      "Squared Pearson Residual"
  if (is.null(ylab)) ylab <- if (x$int.only) "Influence on Overall Result" else "Influence on Fitted Value"
  for (lab in list(list(xlab, "xlab"), list(ylab, "ylab")))
    if (!(is.character(lab[[1L]]) || is.expression(lab[[1L]]) || is.call(lab[[1L]])))
      .mf_stop(sprintf("'%s' must be a character string or an expression.", lab[[2L]]))
  cex <- if (is.null(cex)) 0.8 else .mf_plot_number(cex, "cex")
  if (!isTRUE(grid) && !isFALSE(grid) && !(is.character(grid) && length(grid) == 1L && !is.na(grid)))
    .mf_stop("'grid' must be TRUE, FALSE or a colour.")
  labs <- if (is.character(symbol) && identical(symbol, "slab")) slab else as.character(ids)
  # pad the ranges so that text labels centred on the points stay inside
  graphics::plot.new()
  pin <- graphics::par("pin")
  half_w <- if (is.numeric(symbol)) 0.06 else max(graphics::strwidth(labs, units = "inches", cex = cex)) / 2 + 0.03
  half_h <- 0.06
  rng <- function(v, half, len) {
    r <- range(v, na.rm = TRUE)
    if (!all(is.finite(r))) r <- c(0, 1)
    d <- max(diff(r), 1e-8 * max(1, abs(r)))
    f <- min(half / len, 0.3)
    r + c(-1, 1) * d * f / (1 - 2 * f)
  }
  # (a range given by the user gets R's usual 4% padding, as in metafor, so
  # that points and labels at its ends are not cut at the box)
  xaxs <- if (is.null(xlim)) "i" else "r"
  yaxs <- if (is.null(ylim)) "i" else "r"
  xlim <- if (is.null(xlim)) rng(xh, half_w, pin[1L]) else .mf_plot_range(xlim, "xlim")
  ylim <- if (is.null(ylim)) rng(yh, half_h, pin[2L]) else .mf_plot_range(ylim, "ylim")
  # one page: plot.new() above, then the window, axes and labels by hand
  graphics::plot.window(xlim = xlim, ylim = ylim, xaxs = xaxs, yaxs = yaxs)
  graphics::axis(1)
  graphics::axis(2, las = 1)
  graphics::box()
  dots <- list(...)
  dots$progbar <- NULL  # metafor's progress bar: accepted and ignored
  do.call(graphics::title, c(list(xlab = xlab, ylab = ylab), dots))
  if (!isFALSE(grid)) graphics::grid(col = if (is.character(grid)) grid else "gray85")
  if (is.numeric(symbol)) {
    graphics::points(xh, yh, pch = symbol, cex = cex)
  } else {
    if (!is.character(symbol) || length(symbol) != 1L || !symbol %in% c("ids", "slab"))
      .mf_stop("'symbol' must be \"ids\", \"slab\" or a plotting symbol number.")
    graphics::text(xh, yh, if (symbol == "ids") ids else slab, cex = cex)
  }
  invisible(data.frame(x = xh, y = yh, ids = ids, slab = slab, stringsAsFactors = FALSE))
}

# The Baujat coordinates of the used rows.
.mf_baujat_values <- function(x) {
  yi <- x$yi; vi <- x$vi; X <- x$X; k <- x$k
  fitted <- c(X %*% x$beta)
  xhat <- (yi - fitted)^2 / (vi + x$tau2)
  if (x$int.only && .mf_is_ee(x$method) && x$test != "knha") {
    # closed form of the leave-one-out weighted mean (see the Rd)
    w <- if (is.null(x$weights)) 1 / vi else x$weights
    W <- sum(w); b <- sum(w * yi) / W
    Wi <- W - w
    bi <- (sum(w * yi) - w * yi) / Wi
    vbi <- if (is.null(x$weights)) 1 / Wi else (sum(w^2 * vi) - w^2 * vi) / Wi^2
    yhat <- (bi - b)^2 / vbi
  } else {
    # the k leave-one-out refits in one C++ kernel (the refit engine)
    a <- .mf_cd_args(x, "baujat")
    r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                       0L, integer(0), NA_real_, .mf_threads(NULL, n_work = k, min_per_thread = 16L), NULL)
    yhat <- (r$delpred - fitted)^2 / r$vdelpred
  }
  list(x = xhat, y = yhat)
}
