# plot() of permutest() results, as metafor's plot.permutest.rma.uni(): for
# each chosen coefficient (and with QM = TRUE the omnibus test) the histogram
# of its permutation distribution, the bars at least as extreme as the
# observed value in col.out, the observed value as a dashed line, and
# optionally the theoretical null distribution (normal or t; chi-square or F
# for QM) and a kernel density estimate of the permutation distribution.

#' Plot the permutation distributions of permutest()
#'
#' Draws, as metafor's \code{plot()} of \code{permutest()} results, one
#' histogram per coefficient (and with \code{QM = TRUE} one for the omnibus
#' test) of the statistic's permutation distribution, with the bars in the
#' tail(s) defining the permutation p-value shaded, the observed value as a
#' dashed line, the theoretical null distribution (standard normal or t with
#' the fit's df; chi-square or F for the omnibus test) and a kernel density
#' estimate of the permutation distribution.
#'
#' @param x the result of \code{\link{permutest}}.
#' @param beta the coefficients to draw (numbers, names or a pattern as
#'   \code{btt}; \code{NA} for none); by default all but the intercept (the
#'   intercept of intercept-only models).
#' @param alpha,QS the scale coefficients and their omnibus test of
#'   location-scale models (as in metafor, ignored for the models metafast
#'   fits).
#' @param QM also draw the permutation distribution of the omnibus test.
#' @param breaks \code{breaks} of \code{hist()}.
#' @param freq draw frequencies (the curves are then left out) instead of
#'   densities.
#' @param col,border fill and border colour of the bars.
#' @param col.out fill of the bars in the tail(s).
#' @param col.ref,col.density colours of the theoretical null distribution
#'   and of the kernel density estimate.
#' @param trim fraction of the distribution trimmed from its tails before the
#'   histogram is drawn (below 0.5).
#' @param adjust bandwidth multiplier of the kernel density estimate.
#' @param lwd line widths of the observed value, the null distribution, the
#'   kernel density estimate and the line at 0 (default \code{c(2, 0, 0, 4)};
#'   shorter vectors as metafor).
#' @param legend add a legend of the curves: \code{TRUE}, a position keyword
#'   or a list with \code{x}, \code{y}, \code{inset} and \code{cex}.
#' @param ... graphical parameters for \code{hist()}; as metafor,
#'   \code{alternative} (\code{"two.sided"}, \code{"less"}, \code{"greater"}),
#'   \code{p2defn} (\code{"abs"}, \code{"px2"}) and \code{stat} (\code{"test"}
#'   or \code{"coef"}: the distribution of the coefficients) are read from
#'   \code{...}.
#' @return Invisibly, one element per panel: \code{main}, \code{breaks},
#'   \code{density}, \code{counts}, \code{observed}, the shaded bars
#'   \code{tail} (data frames of \code{left}, \code{right}, \code{height}),
#'   the null distribution \code{ref} and the kernel density estimate
#'   \code{kde} (lists of \code{x} and \code{y}).
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' pt <- permutest(rma(yi, vi, mods = ~ x, data = dat, method = "DL"), exact = TRUE)
#' plot(pt, lwd = c(2, 3, 3, 4), QM = TRUE)
#' @export
plot.mf_permutest <- function(x, beta, alpha, QM = FALSE, QS = FALSE, breaks = "Scott", freq = FALSE, col, border,
                              col.out, col.ref, col.density, trim = 0, adjust = 1, lwd = c(2, 0, 0, 4),
                              legend = FALSE, ...) {
  .mf_check_dots("plot.mf_permutest", ...)
  d <- list(...)
  alternative <- if (is.null(d$alternative)) "two.sided" else
    match.arg(d$alternative, c("two.sided", "less", "greater"))
  p2defn <- if (is.null(d$p2defn)) "abs" else match.arg(d$p2defn, c("abs", "px2"))
  stat <- if (is.null(d$stat)) "test" else match.arg(d$stat, c("test", "coef"))
  if (!is.null(d$layout)) warning("Argument 'layout' has been deprecated.", call. = FALSE)
  pars <- d[setdiff(names(d), c("alternative", "p2defn", "stat", "layout"))]
  QM <- .mf_flag(QM, "QM")
  freq <- .mf_flag(freq, "freq")
  if (!is.numeric(trim) || length(trim) != 1L || is.na(trim) || trim < 0 || trim >= 0.5)
    .mf_stop("'trim' must be a single number in [0, 0.5).")
  if (!is.numeric(lwd) || !length(lwd) %in% 1:4 || anyNA(lwd) || any(lwd < 0))
    .mf_stop("'lwd' must be one to four non-negative line widths.")
  lwd <- switch(length(lwd), c(lwd[c(1L, 1L, 1L)], 4), c(lwd[c(1L, 2L, 2L)], 4), lwd[c(1L, 2L, 2L, 3L)], lwd)
  if (freq) lwd[2:3] <- 0
  # metafor's default colours: the background (for the reference line the
  # foreground) shifted by a fraction of 255 towards the other (on a dark
  # background, lighter)
  bg <- graphics::par("bg")
  if (grDevices::col2rgb(bg, alpha = TRUE)[4L, 1L] == 0) bg <- "white"
  dark <- mean(grDevices::col2rgb(bg)[, 1L]) < 128
  shift <- function(colr, f) {
    v <- pmin(pmax(grDevices::col2rgb(colr)[, 1L] + round((if (dark) f else -f) * 255), 0), 255)
    grDevices::rgb(v[1L], v[2L], v[3L], maxColorValue = 255)
  }
  if (missing(col)) col <- shift(bg, 0.3)
  if (missing(border)) border <- shift(bg, 0.1)
  if (missing(col.out)) col.out <- if (dark) grDevices::rgb(0.7, 0.15, 0.15, 0.5) else grDevices::rgb(1, 0, 0, 0.5)
  if (missing(col.ref)) col.ref <- shift(graphics::par("fg"), -0.3)
  if (missing(col.density)) col.density <- if (dark) "dodgerblue" else "blue"
  nms <- names(x$zval.perm)
  sel <- if (missing(beta)) {
    if (x$int.only) 1L else if (isTRUE(x$int.incl)) seq_len(x$p)[-1L] else seq_len(x$p)
  } else if (length(beta) && all(is.na(beta))) integer(0) else .mf_btt(beta, nms, isTRUE(x$int.incl))
  perm <- if (stat == "test") x$zval.perm[sel] else x$beta.perm[sel]
  obs <- unname(if (stat == "test") c(x$zval)[sel] else c(x$beta)[sel])
  use_QM <- QM && !x$int.only
  np <- length(sel) + as.integer(use_QM)
  if (np == 0L) .mf_stop("Select at least one coefficient to plot ('beta'), or QM = TRUE.")
  if (np > 1L) {
    if (grDevices::dev.cur() == 1L || prod(graphics::par("mfrow")) < np)
      graphics::par(mfrow = grDevices::n2mfrow(np))
    on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
  }
  tdf <- if (is.null(x$ddf) || all(is.na(x$ddf))) NA_real_ else x$ddf[1L]
  out <- list()
  draw <- function(pdist, main, xlab, ref, tails, vlines, zero) {
    den <- stats::density(pdist, adjust = adjust, na.rm = TRUE, n = 8192)
    if (trim > 0) pdist <- ref$trim(pdist)
    h0 <- graphics::hist(pdist, breaks = breaks, plot = FALSE)
    ylim <- if (lwd[2L] == 0 && lwd[3L] == 0) NULL else
      # (the chi-square density with 1 df is infinite at 0, where metafor's
      # ylim fails: the finite values)
      c(0, max(if (lwd[2L] == 0) 0 else max(ref$y[is.finite(ref$y)]), if (lwd[3L] == 0) 0 else max(den$y),
               max(h0$density)))
    h <- do.call(graphics::hist, c(list(pdist, breaks = breaks, col = col, border = border, main = main, xlab = xlab,
                                        freq = freq), if (!is.null(ylim)) list(ylim = ylim), pars))
    tl <- do.call(rbind, lapply(tails, function(t) .mf_hist_tail(h, t$val, t$tail, t$mult, col.out, border, freq)))
    if (lwd[1L] > 0) graphics::abline(v = vlines, lwd = lwd[1L], lty = "dashed")
    if (lwd[2L] > 0) graphics::lines(ref$x, ref$y, lwd = lwd[2L], col = col.ref)
    if (lwd[3L] > 0) graphics::lines(den, lwd = lwd[3L], col = col.density)
    if (zero && lwd[4L] > 0) graphics::abline(v = 0, lwd = lwd[4L])
    if (!isFALSE(legend) && any(lwd[2:3] > 0)) .mf_perm_legend(legend, lwd, col.density, col.ref)
    list(main = main, breaks = h$breaks, density = h$density, counts = h$counts, observed = vlines, tail = tl,
         ref = list(x = ref$x, y = ref$y), kde = list(x = den$x, y = den$y))
  }
  if (use_QM) {
    pd <- x$QM.perm
    m <- x$m
    top <- max(if (is.na(tdf)) stats::qchisq(0.995, m) else stats::qf(0.995, m, tdf), max(pd, na.rm = TRUE))
    xs <- seq(0, top, length.out = 1000)
    ref <- list(x = xs, y = if (is.na(tdf)) stats::dchisq(xs, m) else stats::df(xs, m, tdf),
                trim = function(v) v[v <= stats::quantile(v, 1 - trim, na.rm = TRUE)])
    out$QM <- draw(pd, "Omnibus Test of Coefficients", "Value of Test Statistic", ref,
                   list(list(val = x$QM, tail = "upper", mult = 1)), x$QM, FALSE)
  }
  for (i in seq_along(sel)) {
    pd <- perm[[i]]
    q <- if (is.na(tdf)) stats::qnorm(0.995) else stats::qt(0.995, tdf)
    xs <- seq(min(-q, min(pd, na.rm = TRUE)), max(q, max(pd, na.rm = TRUE)), length.out = 1000)
    ref <- list(x = xs, y = if (is.na(tdf)) stats::dnorm(xs) else stats::dt(xs, tdf),
                trim = function(v) {
                  b <- stats::quantile(v, c(trim / 2, 1 - trim / 2), na.rm = TRUE)
                  v[v >= b[1L] & v <= b[2L]]
                })
    o <- obs[i]
    # the tails of the p-value (metafor's definitions)
    tp <- if (trim > 0) ref$trim(pd) else pd
    spec <- switch(alternative,
      two.sided = if (p2defn == "abs") {
        list(tails = list(list(val = -abs(o), tail = "lower", mult = 1), list(val = abs(o), tail = "upper", mult = 1)),
             v = c(-o, o))
      } else if (o > stats::median(tp, na.rm = TRUE)) {
        list(tails = list(list(val = abs(o), tail = "upper", mult = 2)), v = o)
      } else list(tails = list(list(val = -abs(o), tail = "lower", mult = 2)), v = -abs(o)),
      less = list(tails = list(list(val = o, tail = "lower", mult = 1)), v = o),
      greater = list(tails = list(list(val = o, tail = "upper", mult = 1)), v = o))
    main <- if (np == 1L) "" else paste0("Coefficient: ", nms[sel[i]])
    out[[nms[sel[i]]]] <- draw(pd, main, if (stat == "test") "Value of Test Statistic" else "Value of Coefficient",
                               ref, spec$tails, spec$v, TRUE)
  }
  invisible(out)
}

# The bars of histogram h in the tail beyond val (the bar holding val cut at
# it), drawn over h in col (heights times mult, as metafor's two-sided
# "px2" p-value); returns them (left, right, height).
.mf_hist_tail <- function(h, val, tail, mult, col, border, freq) {
  b <- h$breaks
  ht <- (if (freq) h$counts else h$density) * mult
  if (tail == "lower") keep <- b[-length(b)] < val else keep <- b[-1L] > val
  idx <- which(keep)
  if (!length(idx)) return(NULL)
  left <- b[idx]; right <- b[idx + 1L]
  if (tail == "lower") right <- pmin(right, val) else left <- pmax(left, val)
  graphics::rect(left, 0, right, ht[idx], col = col, border = border)
  data.frame(left = left, right = right, height = ht[idx])
}

.mf_perm_legend <- function(legend, lwd, col.density, col.ref) {
  o <- list(x = "topright", y = NULL, inset = 0.01, cex = 1)
  if (is.list(legend)) {
    for (nm in names(legend)) { hit <- pmatch(nm, names(o)); if (!is.na(hit)) o[hit] <- legend[nm] }
  } else if (is.character(legend)) o$x <- legend else if (!isTRUE(legend))
    .mf_stop("'legend' must be TRUE / FALSE, a position keyword or a list.")
  txt <- c("Kernel Density Estimate of\nthe Permutation Distribution", "Theoretical Null Distribution")
  lw <- lwd[3:2]; cl <- c(col.density, col.ref)
  on <- lw > 0
  graphics::legend(x = o$x, y = o$y, inset = o$inset, bg = graphics::par("bg"), lwd = lw[on], col = cl[on],
                   lty = "solid", legend = txt[on], cex = o$cex)
}

#' Plot of vif() results
#'
#' metafor's \code{plot()} of \code{vif()} results: for each VIF simulated by
#' \code{vif(sim = )}, the histogram of the simulated values (the VIFs of the
#' data sets with independently permuted moderators), the bars at or above
#' the observed VIF in \code{col.out}, the observed VIF as a dashed line (at
#' the right edge with an arrow when it lies beyond the histogram) and
#' optionally a kernel density estimate.  As in metafor, without the
#' simulation there is nothing to draw: an error.
#'
#' @param x the result of \code{\link{vif}(..., sim = )}.
#' @param breaks,freq passed to \code{hist()} (default \code{"Scott"},
#'   densities).
#' @param col,border fill and border of the bars.
#' @param col.out fill of the bars at or above the observed VIF.
#' @param col.density colour of the kernel density estimate.
#' @param trim proportion of the largest simulated values left out of the
#'   histogram (in [0, 0.5)).
#' @param adjust bandwidth adjustment of the density estimate.
#' @param lwd line widths of the observed value and of the density estimate
#'   (one value: both; with \code{freq = TRUE} no density is drawn).
#' @param ... graphical parameters for the histograms.
#' @return Invisibly, one list per VIF (named by its coefficients) with the
#'   title \code{main}, the histogram's \code{breaks}, \code{density} and
#'   \code{counts}, the \code{observed} VIF, the bars of the tail drawn in
#'   \code{col.out} (\code{tail}: left, right, height) and the density
#'   estimate \code{kde} (\code{x}, \code{y}).
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.2, 0.5),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02),
#'                   x1 = c(1, 3, 2, 5, 4, 6, 8, 7), x2 = c(2, 1, 4, 3, 6, 5, 7, 9))
#' plot(vif(rma(yi, vi, mods = ~ x1 + x2, data = dat), sim = 200, seed = 1))
#' @exportS3Method plot vif.mf_rma
plot.vif.mf_rma <- function(x, breaks = "Scott", freq = FALSE, col, border, col.out, col.density, trim = 0,
                            adjust = 1, lwd = c(2, 0), ...) {
  .mf_check_dots("plot.vif.mf_rma", ...)
  if (is.null(x$sim))
    .mf_stop("plot() of vif() results draws the simulated VIFs: use vif(..., sim = TRUE) (as metafor, which cannot plot them without sim either).")
  freq <- .mf_flag(freq, "freq")
  if (!is.numeric(trim) || length(trim) != 1L || is.na(trim) || trim < 0 || trim >= 0.5)
    .mf_stop("'trim' must be a single number in [0, 0.5).")
  if (!is.numeric(lwd) || !length(lwd) %in% 1:2 || anyNA(lwd) || any(lwd < 0))
    .mf_stop("'lwd' must be one or two non-negative line widths (observed value, density).")
  lwd <- rep_len(lwd, 2L)
  if (freq) lwd[2L] <- 0
  dc <- .mf_hist_colours()
  if (missing(col)) col <- dc$col
  if (missing(border)) border <- dc$border
  if (missing(col.out)) col.out <- dc$col.out
  if (missing(col.density)) col.density <- dc$col.density
  pars <- list(...)
  np <- length(x$vifs)
  if (np > 1L) {
    if (grDevices::dev.cur() == 1L || prod(graphics::par("mfrow")) < np)
      graphics::par(mfrow = grDevices::n2mfrow(np))
    on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
  }
  out <- list()
  for (i in seq_len(np)) {
    pv <- x$sim[, i]
    pv <- pv[is.finite(pv)]
    if (length(pv) < 2L) .mf_stop(sprintf("Fewer than two finite simulated values for VIF %d: nothing to draw.", i))
    den <- stats::density(pv, adjust = adjust)
    if (trim > 0) pv <- pv[pv <= stats::quantile(pv, 1 - trim)]
    h0 <- graphics::hist(pv, breaks = breaks, plot = FALSE)
    ylim <- c(0, max(if (freq) h0$counts else h0$density, if (lwd[2L] > 0) max(den$y) else 0))
    main <- paste0("Coefficient", if (x$vif[[i]]$m > 1) "s" else "", ": ", names(x$vifs)[i])
    h <- do.call(graphics::hist, c(list(pv, breaks = breaks, col = col, border = border, main = main,
                                        xlab = "Value of VIF", freq = freq, ylim = ylim, xaxt = "n"), pars))
    xat <- graphics::axTicks(1L)
    graphics::axis(1L, at = xat, labels = xat)   # (as metafor: 1, not 1.0)
    obs <- unname(x$vifs[i])
    tl <- .mf_hist_tail(h, obs, "upper", 1, col.out, border, freq)
    usr <- graphics::par("usr")
    if (obs > usr[2L] && lwd[1L] > 0) {
      ya <- mean(graphics::par("yaxp")[1:2])
      graphics::arrows(usr[2L] - 0.08 * (usr[2L] - usr[1L]), ya, usr[2L] - 0.01 * (usr[2L] - usr[1L]), ya,
                       length = 0.02 * diff(graphics::grconvertY(usr[3:4], from = "user", to = "inches")))
    }
    if (lwd[1L] > 0)
      graphics::segments(min(obs, usr[2L]), usr[3L], min(obs, usr[2L]), usr[4L], lwd = lwd[1L], lty = "dashed",
                         xpd = TRUE)
    if (lwd[2L] > 0) graphics::lines(den, lwd = lwd[2L], col = col.density)
    out[[names(x$vifs)[i]]] <- list(main = main, breaks = h$breaks, density = h$density, counts = h$counts,
                                    observed = obs, tail = tl, kde = list(x = den$x, y = den$y))
  }
  invisible(out)
}

# metafor's default colours of its histograms: the background shifted by a
# fraction of 255 towards the foreground (on a dark background, lighter).
.mf_hist_colours <- function() {
  bg <- graphics::par("bg")
  if (grDevices::col2rgb(bg, alpha = TRUE)[4L, 1L] == 0) bg <- "white"
  dark <- mean(grDevices::col2rgb(bg)[, 1L]) < 128
  shift <- function(colr, f) {
    v <- pmin(pmax(grDevices::col2rgb(colr)[, 1L] + round((if (dark) f else -f) * 255), 0), 255)
    grDevices::rgb(v[1L], v[2L], v[3L], maxColorValue = 255)
  }
  list(col = shift(bg, 0.3), border = shift(bg, 0.1),
       col.out = if (dark) grDevices::rgb(0.7, 0.15, 0.15, 0.5) else grDevices::rgb(1, 0, 0, 0.5),
       col.ref = shift(graphics::par("fg"), -0.3), col.density = if (dark) "dodgerblue" else "blue")
}
