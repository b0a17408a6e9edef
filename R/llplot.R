# Likelihood plots: each study's likelihood of the true effect, drawn as a
# curve over the effect size (for log odds ratios the exact conditional
# likelihood of the 2x2 table, the non-central hypergeometric distribution:
# Breslow 1981; van Houwelingen, Zwinderman & Stijnen 1993).

#' Plot of the likelihoods of the individual studies
#'
#' Draws, for each study, its likelihood of the true effect
#' \eqn{\theta}{theta} over a grid of values: for \code{measure = "GEN"} the
#' normal likelihood \eqn{\phi((y_i - \theta) / \sqrt{v_i}) / \sqrt{v_i}}{dnorm(yi, theta, sqrt(vi))};
#' for \code{measure = "OR"} the exact conditional likelihood of the log odds
#' ratio given the margins of the 2x2 table, the non-central hypergeometric
#' probability of \eqn{a_i}{ai} (Breslow 1981; van Houwelingen et al. 1993),
#' computed here directly (metafor needs the BiasedUrn package for it).
#' With \code{scale = TRUE} each curve is scaled to unit area (trapezoid
#' rule over the grid).  Each curve is drawn only within its
#' \code{level}\% Wald interval; more precise studies get thicker, darker
#' lines and are drawn on top.  For \code{"OR"} tables with a zero cell are
#' drawn dashed and tables with two zero cells (\code{drop00 = FALSE})
#' dotted.  The arguments and their meaning are those of
#' \code{metafor::llplot()}.
#'
#' @param measure \code{"GEN"} (effect sizes with their variances) or
#'   \code{"OR"} (2x2 tables).
#' @param yi,vi,sei effect sizes and their variances or standard errors
#'   (\code{"GEN"}).
#' @param ai,bi,ci,di,n1i,n2i the 2x2 tables (\code{"OR"}): events and
#'   non-events in the two groups, or events and group sizes.
#' @param data a data frame in which the arguments are evaluated.
#' @param subset the studies to draw (logical or row numbers).
#' @param drop00 drop tables without events or without non-events in both
#'   groups.
#' @param xvals number of grid points.
#' @param xlim,ylim axis ranges (by default the union of the intervals and
#'   the curves' height).
#' @param xlab,ylab axis titles.
#' @param scale scale each likelihood to unit area.
#' @param lty,lwd,col line type, width and colour of the curves: one value
#'   or one per study.
#' @param level level (percent) of the interval within which each curve is
#'   drawn.
#' @param refline position of a vertical reference line (\code{NULL} for
#'   none).
#' @param onlyo1,addyi,addvi as in \code{escalc()}, for the log odds ratios
#'   of \code{"OR"} (whose Wald intervals bound the curves).
#' @param ... graphical parameters passed to \code{plot()} (e.g.
#'   \code{main}).
#' @return Invisibly, the \code{k} by \code{xvals} matrix of the drawn
#'   likelihood values (\code{NA} outside each study's interval), as
#'   \code{metafor::llplot()} returns; its attributes hold the grid
#'   \code{x}, the axis limits \code{xlim} and \code{ylim}, and the row
#'   numbers \code{ids} of the drawn studies.
#' @references Breslow NE (1981). Odds ratio estimators when the data are
#'   sparse. \emph{Biometrika} 68:73-84.
#'   van Houwelingen HC, Zwinderman KH, Stijnen T (1993). A bivariate
#'   approach to meta-analysis. \emph{Stat Med} 12:2273-2284.
#' @examples
#' dat <- escalc(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
#'               data = metadat::dat.bcg)
#' llplot(measure = "GEN", yi = yi, vi = vi, data = dat, lwd = 1,
#'        refline = NA, xlim = c(-3, 2))
#' llplot(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
#'        data = metadat::dat.bcg, lwd = 1, refline = NA, xlim = c(-3, 2))
#' @export
llplot <- function(measure, yi, vi, sei, ai, bi, ci, di, n1i, n2i, data, subset, drop00 = TRUE, xvals = 1000,
                   xlim, ylim, xlab, ylab, scale = TRUE, lty, lwd, col, level = 99.99, refline = 0, ...,
                   onlyo1 = FALSE, addyi = TRUE, addvi = TRUE) {
  .mf_check_dots("llplot", ...)
  if (missing(measure)) .mf_stop("Give the outcome measure: measure = \"GEN\" or \"OR\".")
  if (!is.character(measure) || length(measure) != 1L || !measure %in% c("GEN", "OR"))
    .mf_stop("'measure' must be \"GEN\" or \"OR\".")
  for (a in c("drop00", "scale", "onlyo1", "addyi", "addvi"))
    if (!isTRUE(get(a)) && !isFALSE(get(a))) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", a))
  if (!is.numeric(xvals) || length(xvals) != 1L || !is.finite(xvals) || xvals < 2)
    .mf_stop("'xvals' must be a number of grid points (at least 2).")
  xvals <- as.integer(round(xvals))
  alpha <- .mf_level(level)
  mc <- match.call()
  env <- parent.frame()
  if (missing(data)) data <- NULL
  if (!is.null(data)) data <- .mf_as_data_frame(data)
  get_arg <- function(nm) {
    e <- mc[[nm]]
    if (is.null(e)) return(NULL)
    tryCatch(eval(e, data, env), error = function(err)
      .mf_stop(sprintf("Cannot evaluate '%s': %s", nm, conditionMessage(err))))
  }
  num <- function(nm) {
    v <- get_arg(nm)
    if (is.null(v)) NULL else .mf_numeric(v, nm)
  }
  if (measure == "GEN") {
    yi <- num("yi"); vi <- num("vi"); sei <- num("sei")
    if (is.null(vi) && !is.null(sei)) vi <- sei^2
    if (is.null(yi) || is.null(vi)) .mf_stop("measure = \"GEN\" needs 'yi' and 'vi' (or 'sei').")
    if (length(yi) != length(vi)) .mf_stop(sprintf("'yi' has %d values but 'vi' has %d.", length(yi), length(vi)))
    k <- length(yi)
  } else {
    ai <- num("ai"); bi <- num("bi"); ci <- num("ci"); di <- num("di"); n1i <- num("n1i"); n2i <- num("n2i")
    if (is.null(bi) && !is.null(n1i) && !is.null(ai)) bi <- n1i - ai
    if (is.null(di) && !is.null(n2i) && !is.null(ci)) di <- n2i - ci
    if (is.null(ai) || is.null(bi) || is.null(ci) || is.null(di))
      .mf_stop("measure = \"OR\" needs 'ai', 'bi', 'ci' and 'di' (or 'ai', 'n1i', 'ci' and 'n2i').")
    k <- length(ai)
    if (any(c(length(bi), length(ci), length(di)) != k)) .mf_stop("'ai', 'bi', 'ci' and 'di' must have the same length.")
    for (nm in c("n1i", "n2i")) {
      n <- get(nm)
      tot <- if (nm == "n1i") ai + bi else ci + di
      if (!is.null(n) && any(n != tot, na.rm = TRUE))
        .mf_stop(sprintf("'%s' differs from the sum of the events and non-events in %s.", nm, .mf_rows(!is.na(n) & n != tot)))
    }
    if (any(c(ai, bi, ci, di) < 0, na.rm = TRUE)) .mf_stop("The counts must not be negative.")
    id0 <- (ai == 0 | bi == 0 | ci == 0 | di == 0)
    id0[is.na(id0)] <- FALSE
    id00 <- (ai == 0 & ci == 0) | (bi == 0 & di == 0)
    id00[is.na(id00)] <- FALSE
    if (drop00) ai[id00] <- bi[id00] <- ci[id00] <- di[id00] <- NA
  }
  ids <- seq_len(k)
  per <- function(nm) {
    v <- get_arg(nm)
    if (is.null(v)) return(NULL)
    if (length(v) == 1L) v <- rep(v, k)
    if (length(v) != k) .mf_stop(sprintf("'%s' has %d values but there are %d studies.", nm, length(v), k))
    v
  }
  lty <- per("lty"); lwd <- per("lwd"); col <- per("col")
  sub <- get_arg("subset")
  if (!is.null(sub)) {
    keep <- .mf_subset_keep(sub, k)
    sel <- function(v) if (is.null(v)) NULL else v[keep]
    ids <- ids[keep]
    lty <- sel(lty); lwd <- sel(lwd); col <- sel(col)
    if (measure == "GEN") {
      yi <- yi[keep]; vi <- vi[keep]
    } else {
      ai <- ai[keep]; bi <- bi[keep]; ci <- ci[keep]; di <- di[keep]; id0 <- id0[keep]; id00 <- id00[keep]
    }
  }
  if (measure == "OR") {
    e <- escalc("OR", ai = ai, bi = bi, ci = ci, di = di, drop00 = drop00, onlyo1 = onlyo1, addyi = addyi,
                addvi = addvi)
    yi <- as.numeric(e$yi); vi <- as.numeric(e$vi)
    has.na <- is.na(ai) | is.na(bi) | is.na(ci) | is.na(di)
  } else has.na <- is.na(yi) | is.na(vi)
  if (any(has.na)) {
    if (identical(getOption("na.action"), "na.fail")) .mf_stop(sprintf("Missing values in %s.", .mf_rows(has.na)))
    keep <- !has.na
    warning(sprintf("%d %s with NAs omitted from plotting.", sum(has.na), if (sum(has.na) > 1) "studies" else "study"),
            call. = FALSE)
    yi <- yi[keep]; vi <- vi[keep]; ids <- ids[keep]
    lty <- lty[keep]; lwd <- lwd[keep]; col <- col[keep]
    if (measure == "OR") {
      ai <- ai[keep]; bi <- bi[keep]; ci <- ci[keep]; di <- di[keep]; id0 <- id0[keep]; id00 <- id00[keep]
    }
  }
  k <- length(yi)
  if (k < 1L) .mf_stop("No studies left to plot.")
  if (any(vi <= 0)) .mf_stop(sprintf("The sampling variances must be positive; not in %s.", .mf_rows(vi <= 0)))
  if (is.null(lty)) lty <- if (measure == "GEN") rep("solid", k) else ifelse(id00, "dotted", ifelse(id0, "dashed", "solid"))
  # thicker and darker lines for the more precise studies
  if (is.null(lwd)) lwd <- seq(4, 0.4, length.out = k)[rank(vi)]
  if (is.null(col)) col <- vapply(seq(0.8, 0.2, length.out = k), .mf_plot_mix, "")[rank(vi)]
  z <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  ci.lb <- yi - z * sqrt(vi)
  ci.ub <- yi + z * sqrt(vi)
  xlim <- if (missing(xlim)) c(min(ci.lb), max(ci.ub)) else .mf_plot_range(sort(xlim), "xlim")
  xs <- seq(xlim[1L], xlim[2L], length.out = xvals)
  lls <- matrix(NA_real_, nrow = k, ncol = xvals)
  for (i in seq_len(k)) {
    lls[i, ] <- if (measure == "GEN") stats::dnorm(yi[i], xs, sqrt(vi[i])) else
      .mf_dnchg(xs, ai[i], bi[i], ci[i], di[i])
  }
  if (scale) {
    for (i in seq_len(k)) {
      okv <- !is.na(lls[i, ])
      xx <- xs[okv]; yy <- lls[i, okv]
      area <- sum(diff(xx) * (yy[-1L] + yy[-length(yy)])) / 2
      lls[i, ] <- lls[i, ] / area
    }
  }
  lls[outer(ci.lb, xs, ">") | outer(ci.ub, xs, "<")] <- NA
  ylim <- if (missing(ylim)) c(0, max(lls, na.rm = TRUE)) else .mf_plot_range(sort(ylim), "ylim")
  if (missing(xlab)) xlab <- if (measure == "GEN") "Observed Outcome" else "Log Odds Ratio"
  if (missing(ylab)) ylab <- if (scale) "Scaled Likelihood" else "Likelihood"
  graphics::plot(NA, NA, xlim = xlim, ylim = ylim, xlab = xlab, ylab = ylab, ...)
  for (i in order(1 / vi)) graphics::lines(xs, lls[i, ], lty = lty[i], lwd = lwd[i], col = col[i])
  if (is.numeric(refline) && any(!is.na(refline))) graphics::abline(v = refline, lty = "solid", lwd = 2)
  attr(lls, "x") <- xs
  attr(lls, "xlim") <- xlim
  attr(lls, "ylim") <- ylim
  attr(lls, "ids") <- ids
  invisible(lls)
}

# Conditional likelihood of the log odds ratio theta for one 2x2 table: the
# non-central hypergeometric probability of ai given the margins
# (n1 = ai + bi, n2 = ci + di, m1 = ai + ci),
# C(n1, ai) C(n2, m1 - ai) psi^ai / sum_u C(n1, u) C(n2, m1 - u) psi^u with
# psi = exp(theta) (Breslow 1981), summed in logs.  theta is limited to
# +-12 log(10) (odds ratios 1e-12 to 1e12) as metafor does.
.mf_dnchg <- function(theta, ai, bi, ci, di) {
  n1 <- ai + bi; n2 <- ci + di; m1 <- ai + ci
  u <- seq(max(0, m1 - n2), min(n1, m1))
  lc <- lchoose(n1, u) + lchoose(n2, m1 - u)
  lt <- pmin(pmax(theta, -12 * log(10)), 12 * log(10))
  vapply(lt, function(t) {
    e <- lc + u * t
    m <- max(e)
    exp(lchoose(n1, ai) + lchoose(n2, m1 - ai) + ai * t - m - log(sum(exp(e - m))))
  }, numeric(1))
}
