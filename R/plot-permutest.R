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
#' metafor's \code{plot()} of \code{vif()} results draws the distributions
#' of the variance inflation factors simulated by \code{vif(sim = )}; as in
#' metafor, without the simulation there is nothing to draw, and metafast's
#' \code{vif()} does not simulate yet, so this method stops with an error
#' saying so (instead of R's unrelated error of \code{plot()} of a list).
#'
#' @param x the result of \code{\link{vif}}.
#' @param breaks,freq,col,border,col.out,col.density,trim,adjust,lwd,...
#'   metafor's arguments of the histograms of the simulated values.
#' @return Does not return: an error.
#' @exportS3Method plot vif.mf_rma
plot.vif.mf_rma <- function(x, breaks = "Scott", freq = FALSE, col, border, col.out, col.density, trim = 0,
                            adjust = 1, lwd = c(2, 0), ...) {
  .mf_stop("plot() of vif() results draws the variance inflation factors simulated by vif(sim = ), as metafor's (which cannot plot them without sim either); metafast's vif() does not simulate yet.")
}
