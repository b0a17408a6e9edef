# addpoly(): add pooled estimates as diamonds to the last forest plot drawn
# by forest(), at metafor's rows and with the settings of that plot.

#' Add diamonds to a forest plot
#'
#' Adds one or more estimates with their confidence intervals as diamonds to
#' the forest plot drawn last by \code{\link{forest}} (as metafor's
#' \code{addpoly()}): the label at the left edge of the plot, the annotation
#' at its right edge, with the text size, transformation
#' (\code{transf} / \code{atransf}), decimals and axis limits of that plot.
#' Use it with metafor's coordinates (\code{xlim} or \code{rows} given to
#' \code{forest()}), where the studies sit on the rows given to
#' \code{forest()} (default \code{k:1}) and the pooled estimate on row -1.
#'
#' @param x an intercept-only \code{rma()} fit (\code{addpoly.mf_rma}),
#'   estimates (\code{addpoly.default}) or the result of \code{predict()}
#'   of a fit.
#' @param row,rows the row (fit) or rows (estimates; a single value is the
#'   top row of consecutive rows) where the diamonds are drawn.
#' @param level confidence level (percent); by default that of the fit, or of
#'   the forest plot.
#' @param annotate draw the annotations (default: as the forest plot).
#' @param addpred add the prediction interval as a dotted line through the
#'   diamond (fits: metafor's \code{predstyle = "line"}).
#' @param predstyle \code{"line"} (a dotted line through the diamond),
#'   \code{"bar"} (a bar on the row below the diamond, as metafor),
#'   \code{"polygon"} (a flat diamond on the row below), \code{"shade"} (a
#'   bar on the row below shaded by the density of the predictive
#'   distribution) or \code{"dist"} (that density drawn on the row below);
#'   all but \code{"line"} for a single estimate, labelled "Prediction
#'   Interval [95\% PI]" ("Predictive Distribution [95\% PI]") unless
#'   \code{mlab} gives a second label.  Giving it sets \code{addpred = TRUE}.
#'   As metafor, \code{"shade"} and \code{"dist"} draw the normal or t
#'   distribution of the prediction interval, with the standard error and
#'   degrees of freedom that \code{predict()} attaches to its \code{pi.lb}
#'   (fits and \code{predict()} results carry them; for
#'   \code{addpoly.default} give that \code{pi.lb}), or a given
#'   distribution \code{preddist} (read from \code{...}: a list of points on
#'   the scale of the model and the density there, as in
#'   \code{\link{forest}}); \code{predtail} (from \code{...}) colours the
#'   side of a value, as in \code{\link{forest}}.  With \code{transf} (or
#'   the forest plot's), the density of the transformed outcome, for
#'   metafor's list of transformations (see \code{\link{forest}}).
#' @param predlim range (on the scale drawn) over which \code{predstyle =
#'   "dist"} draws the density, as in \code{\link{forest}}.
#' @param digits decimals of the annotations (default: as the forest plot).
#' @param width minimum number of characters of the estimate, lower and upper
#'   bound in the annotations (one value for all three, or three), as
#'   metafor; by default the widths of the forest plot's annotation columns,
#'   so that the brackets line up.
#' @param fonts font families of the label and of the annotation (one or
#'   two, e.g. \code{c("sans", "mono")}; then in the plain font), or a named
#'   vector of fonts 1 to 5 named by their families (e.g. \code{c(sans = 2,
#'   mono = 1)}), as metafor; by default those of the forest plot.
#' @param constarea draw diamonds of equal area (as metafor): the height of
#'   each inversely proportional to the width of its interval, the narrowest
#'   at the usual height.
#' @param mlab labels of the diamonds (strings, or expressions such as
#'   \code{list(bquote(paste(...)))}, drawn as such).
#' @param transf,atransf,targs transformation of the estimates (default: as
#'   the forest plot).
#' @param efac expansion factor of the diamonds' height (one value, or
#'   metafor's vector whose third value is used).
#' @param col,border fill and border colour of the diamonds.
#' @param lty line type of the prediction interval.
#' @param cex text size (default: as the forest plot).
#' @param vi,sei sampling variances or standard errors of the estimates.
#' @param ci.lb,ci.ub confidence bounds (instead of \code{vi} / \code{sei}).
#' @param pi.lb,pi.ub optional prediction interval bounds (a dotted line).
#' @param ... graphical parameters for the text (e.g. \code{font}), and
#'   metafor's \code{preddist}, \code{predtail} (see \code{predstyle}),
#'   \code{annosym} (the annotation symbols; default those of the forest
#'   plot), \code{alim} (the axis limits at which the diamonds and intervals
#'   are cut), \code{olim} (limits at which the estimates and bounds are cut,
#'   on the scale drawn; default both as the forest plot), \code{lcol} (the
#'   colour of the prediction interval's dotted line, one or one per
#'   estimate) and \code{textpos} (where the label starts and the annotation
#'   ends, in units of the outcome; \code{NA} keeps the forest plot's).  For
#'   fits, \code{constarea} is read from \code{...} too, as metafor.
#' @return Invisibly, a data frame with one row per diamond: \code{row},
#'   \code{estimate}, \code{ci.lb}, \code{ci.ub}, \code{pi.lb}, \code{pi.ub}
#'   (on the scale drawn), \code{annotation}, and for \code{predstyle =
#'   "bar"} / \code{"polygon"} / \code{"shade"} / \code{"dist"} the row of the
#'   prediction interval \code{pi.row} and its annotation
#'   \code{pi.annotation}; with \code{"shade"} / \code{"dist"} the attribute
#'   \code{"pred"} holds the points drawn, as \code{layout$pred} of
#'   \code{\link{forest}}.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
#'                   type = c("a", "a", "a", "b", "b", "b"))
#' fit <- rma(yi, vi, data = dat)
#' forest(fit, xlim = c(-2, 2), rows = c(10:8, 4:2), addfit = FALSE)
#' addpoly(rma(yi, vi, data = dat, subset = type == "a"), row = 7, mlab = "Type a")
#' addpoly(rma(yi, vi, data = dat, subset = type == "b"), row = 1, mlab = "Type b")
#' @export
addpoly <- function(x, ...) UseMethod("addpoly")

#' @rdname addpoly
#' @export
addpoly.mf_rma <- function(x, row = -2, level = x$level, annotate, addpred = FALSE, predstyle, predlim, digits, width,
                           mlab, transf, atransf, targs, efac, col, border, lty, fonts, cex, ...) {
  .mf_check_dots("addpoly.mf_rma", ...)
  if (!inherits(x, "mf_rma")) .mf_stop("addpoly() needs a model fitted by rma().")
  if (!x$int.only) .mf_stop("addpoly() needs an intercept-only fit (the fit has moderators).")
  alpha <- if (missing(level)) x$level else .mf_level(level)
  if (!missing(predstyle)) {
    predstyle <- .mf_addpoly_predstyle(predstyle)
    addpred <- TRUE
  }
  addpred <- .mf_flag(addpred, "addpred")
  pool <- .mf_plot_pooled(x, alpha)
  if (missing(mlab)) mlab <- if (.mf_is_ee(x$method)) "Equal-Effects Model" else "Random-Effects Model"
  args <- list(x = pool$estimate, ci.lb = pool$ci.lb, ci.ub = pool$ci.ub, rows = row, level = 100 * (1 - alpha),
               mlab = mlab)
  if (addpred && !is.na(pool$pi.lb)) {
    # (with what predict() attaches for predstyle = "shade" / "dist": the SE
    # and the distribution of the prediction interval)
    pr <- predict(x, level = 100 * (1 - alpha))
    args$pi.lb <- .mf_addpoly_pi_attr(pool$pi.lb, pr$pi.lb); args$pi.ub <- pool$pi.ub
  }
  for (nm in c("annotate", "predstyle", "predlim", "digits", "width", "transf", "atransf", "targs", "efac", "col",
               "border", "lty", "fonts", "cex")) {
    v <- eval(call("missing", as.name(nm)))
    if (!v) args[nm] <- list(get(nm))
  }
  if (!is.null(args$predstyle) && args$predstyle != "line" && is.null(args$pi.lb) && is.null(list(...)$preddist))
    .mf_stop("An equal-effects fit has no prediction interval to draw with 'predstyle'.")
  do.call(addpoly.default, c(args, list(...)))
}

#' @rdname addpoly
#' @details \code{addpoly()} of \code{predict()} results (as metafor's
#'   \code{addpoly.predict.rma()}) adds the predicted values with their
#'   confidence intervals (and with \code{addpred = TRUE} their prediction
#'   intervals) as diamonds, one per row of the predictions.
#' @exportS3Method addpoly predict.mf_rma
addpoly.predict.mf_rma <- function(x, rows = -2, annotate, addpred = FALSE, predstyle, predlim, digits, width, mlab,
                                   transf, atransf, targs, efac, col, border, lty, fonts, cex, constarea = FALSE, ...) {
  .mf_check_dots("addpoly.predict.mf_rma", ...)
  if (!missing(predstyle)) {
    predstyle <- .mf_addpoly_predstyle(predstyle)
    addpred <- TRUE
  }
  addpred <- .mf_flag(addpred, "addpred")
  args <- list(x = unname(c(x$pred)), ci.lb = unname(c(x$ci.lb)), ci.ub = unname(c(x$ci.ub)), rows = rows)
  if (addpred) {
    if (is.null(x$pi.lb) || is.null(x$pi.ub)) {
      warning("Could not extract prediction interval bounds.", call. = FALSE)
    } else { args$pi.lb <- .mf_addpoly_pi_attr(unname(c(x$pi.lb)), x$pi.lb); args$pi.ub <- unname(c(x$pi.ub)) }
  }
  for (nm in c("annotate", "predstyle", "predlim", "digits", "width", "mlab", "transf", "atransf", "targs", "efac",
               "col", "border", "lty", "fonts", "cex", "constarea")) {
    v <- eval(call("missing", as.name(nm)))
    if (!v) args[nm] <- list(get(nm))
  }
  do.call(addpoly.default, c(args, list(...)))
}

#' @rdname addpoly
#' @export
addpoly.default <- function(x, vi, sei, ci.lb, ci.ub, pi.lb, pi.ub, rows = -1, level, annotate, predstyle, predlim,
                            digits, width, mlab, transf, atransf, targs, efac, col, border, lty, fonts, cex,
                            constarea = FALSE, ...) {
  .mf_check_dots("addpoly.default", ...)
  stt <- .mf_forest_state$last
  if (is.null(stt))
    .mf_stop("addpoly() adds to a forest plot: draw one with forest() first.")
  predstyle <- if (missing(predstyle)) "line" else .mf_addpoly_predstyle(predstyle)
  # metafor's options read from `...` (the rest goes to text())
  dots <- list(...)
  hid <- dots[names(dots) %in% .mf_dots_ours$addpoly.default]
  dots <- dots[!names(dots) %in% .mf_dots_ours$addpoly.default]
  pi_attr <- if (missing(pi.lb)) NULL else attributes(pi.lb)
  est <- .mf_numeric(x, "x")
  k <- length(est)
  if (!k) .mf_stop("'x' has length 0: there is nothing to add.")
  lvl <- if (missing(level)) stt$level_pct else 100 * (1 - .mf_level(level))
  crit <- stats::qnorm((1 - lvl / 100) / 2, lower.tail = FALSE)
  if (!missing(ci.lb) && !missing(ci.ub)) {
    lb <- .mf_numeric(ci.lb, "ci.lb"); ub <- .mf_numeric(ci.ub, "ci.ub")
  } else {
    v <- if (!missing(vi)) .mf_numeric(vi, "vi") else if (!missing(sei)) .mf_numeric(sei, "sei")^2 else
      .mf_stop("Give the sampling variances 'vi', the standard errors 'sei', or 'ci.lb' and 'ci.ub'.")
    if (any(v < 0, na.rm = TRUE)) .mf_stop("'vi' must be non-negative.")
    lb <- est - crit * sqrt(v); ub <- est + crit * sqrt(v)
  }
  plb <- if (missing(pi.lb)) rep(NA_real_, k) else rep_len(.mf_numeric(pi.lb, "pi.lb"), k)
  pub <- if (missing(pi.ub)) rep(NA_real_, k) else rep_len(.mf_numeric(pi.ub, "pi.ub"), k)
  if (length(lb) != k || length(ub) != k) .mf_stop("'ci.lb' and 'ci.ub' (or 'vi' / 'sei') must have the length of 'x'.")
  if (!is.numeric(rows) || any(!is.finite(rows))) .mf_stop("'rows' must be finite numbers.")
  pi_row <- NA_real_
  pi_lab <- ""
  # the annotation symbols of the forest plot, or metafor's annosym read from `...`
  as_ <- if (!is.null(hid$annosym)) .mf_forest_annosym(hid$annosym, NULL) else
    if (is.null(stt$annosym)) c(" [", ", ", "]", "-", " ") else stt$annosym
  tg <- if (missing(targs)) NULL else targs
  pdist <- NULL
  if (!is.null(hid$preddist) && k != 1L) .mf_stop("'preddist' can only be used with a single estimate.")
  if (!missing(predlim)) .mf_forest_predlim(predlim)
  if (predstyle != "line") {
    # metafor: a single estimate, its prediction interval on the row below
    if (k != 1L) .mf_stop(sprintf("predstyle = \"%s\" draws a single polygon ('x' has %d estimates).", predstyle, k))
    lvl_pi <- if (is.numeric(pi_attr$level) && length(pi_attr$level) == 1L) 100 * (1 - pi_attr$level) else lvl
    if (predstyle %in% c("shade", "dist") || !is.null(hid$preddist)) {
      # the predictive distribution: given (preddist), or normal / t with the
      # SE that predict() attaches to its pi.lb (as metafor)
      se <- pi_attr$se
      if (is.null(hid$preddist) && (!is.numeric(se) || length(se) != 1L || !is.finite(se)))
        .mf_stop(sprintf("predstyle = \"%s\" needs the standard error of the prediction interval: give 'pi.lb' and 'pi.ub' from predict() of a random-effects fit (pi.lb carries it), or 'preddist'.", predstyle))
      tf0 <- if (missing(transf)) stt$transf_f else transf
      pdist <- .mf_forest_pdist(predstyle, est, if (is.null(se)) NA_real_ else se,
                                if (identical(pi_attr$dist, "t") && is.numeric(pi_attr$ddf)) pi_attr$ddf[1L] else Inf,
                                1 - lvl_pi / 100, if (isFALSE(tf0)) NULL else tf0, tg,
                                if (missing(predlim)) NULL else predlim, hid$preddist, hid$predtail)
      lvl_pi <- pdist$level
      if (is.na(plb) || !is.null(hid$preddist$pi.lb)) plb <- pdist$pi.lb
      if (is.na(pub) || !is.null(hid$preddist$pi.ub)) pub <- pdist$pi.ub
    }
    if (is.na(plb) || is.na(pub))
      .mf_stop(sprintf("predstyle = \"%s\" needs the prediction interval: give 'pi.lb' and 'pi.ub'.", predstyle))
    if (length(rows) > 2L) .mf_stop("'rows' must be one row (or two: the estimate's and the prediction interval's).")
    pi_row <- if (length(rows) == 2L) rows[2L] else rows - 1
    rows <- rows[1L]
    pi_lab <- paste0(if (predstyle == "dist") "Predictive Distribution" else "Prediction Interval", as_[1L],
                     format(round(lvl_pi, 2L)), "% PI", as_[3L])
  }
  if (length(rows) == 1L) rows <- rows:(rows - k + 1)
  if (length(rows) != k) .mf_stop(sprintf("'rows' has %d values but 'x' has %d.", length(rows), k))
  if (missing(mlab)) mlab <- as.list(rep("", k)) else {
    # strings, or expressions (metafor's gallery: list(bquote(paste(...))))
    ml <- if (is.expression(mlab)) as.list(mlab) else if (is.language(mlab)) list(mlab) else
      if (is.list(mlab)) mlab else as.list(as.character(mlab))
    mlab <- lapply(ml, function(m) if (is.language(m)) as.expression(m) else paste(as.character(unlist(m)), collapse = " "))
    if (predstyle != "line" && length(mlab) == 2L) { pi_lab <- mlab[[2L]]; mlab <- mlab[1L] }
    if (length(mlab) != k) .mf_stop(sprintf("'mlab' has %d labels but 'x' has %d estimates.", length(mlab), k))
  }
  # metafor's alim, olim, lcol and textpos read from `...` (by default those
  # of the forest plot; lcol the foreground colour)
  alim <- if (is.null(hid$alim)) stt$alim else .mf_addpoly_lim(hid$alim, "alim")
  olim <- if (is.null(hid$olim)) stt$olim else .mf_addpoly_lim(hid$olim, "olim")
  tpos <- stt$textpos
  if (!is.null(hid$textpos)) {
    if (!is.numeric(hid$textpos) && !all(is.na(hid$textpos)) || length(hid$textpos) != 2L)
      .mf_stop("'textpos' must be two numbers (where the labels start and the annotations end; NA keeps the forest plot's).")
    tpos[!is.na(hid$textpos)] <- hid$textpos[!is.na(hid$textpos)]
  }
  lcol <- if (is.null(hid$lcol)) graphics::par("fg") else hid$lcol
  if (!length(lcol) || !length(lcol) %in% c(1L, k)) .mf_stop(sprintf("'lcol' must be one colour or one per estimate (%d).", k))
  lcol <- rep_len(lcol, k)
  constarea <- .mf_flag(constarea, "constarea")
  if (!missing(width) && !is.null(width) &&
      (!is.numeric(width) || !length(width) %in% c(1L, 3L) || anyNA(width) || any(width < 0)))
    .mf_stop("'width' must be one or three non-negative numbers (characters of the estimate, lower and upper bound columns).")
  ffam <- stt$ffam; ffont <- stt$ffont
  if (!missing(fonts) && !is.null(fonts)) {
    # metafor: families of the label and of the annotation (one or two); a
    # named vector gives their fonts (1 to 5), else the plain font
    if (!length(fonts) || length(fonts) > 2L || anyNA(fonts) ||
        (is.null(names(fonts)) && !is.character(fonts)) || (!is.null(names(fonts)) && !all(fonts %in% 1:5)))
      .mf_stop("'fonts' must be one or two font families (label, annotation), e.g. c(\"sans\", \"mono\"), or a named vector of fonts 1 to 5 named by their families.")
    fonts <- fonts[rep_len(seq_along(fonts), 2L)]
    if (is.null(names(fonts))) { ffam <- unname(fonts); ffont <- c(1L, 1L) } else { ffam <- names(fonts); ffont <- unname(fonts) }
  }
  tf <- if (missing(transf)) stt$transf else .mf_plot_tf(transf, tg, "transf")
  atf <- if (missing(atransf)) stt$atransf else .mf_plot_tf(atransf, tg, "atransf")
  if (!missing(transf) && missing(atransf)) atf <- NULL
  if (!missing(atransf) && missing(transf)) tf <- NULL
  if (!is.null(tf) && !is.null(atf)) .mf_stop("Use either 'transf' or 'atransf' to specify a transformation (not both).")
  annotate <- if (missing(annotate)) stt$annotate else .mf_flag(annotate, "annotate")
  digits <- if (missing(digits)) stt$digits else .mf_plot_number(digits[1L], "digits", null_ok = FALSE)
  cex <- if (missing(cex)) stt$cex else .mf_plot_number(cex, "cex")
  ef <- if (missing(efac)) stt$efac[3L] else {
    if (!is.numeric(efac) || !length(efac) || any(efac < 0, na.rm = TRUE)) .mf_stop("'efac' must be non-negative numbers.")
    efac[min(length(efac), 3L)]
  }
  ef4 <- if (missing(efac)) stt$efac[4L] else efac[min(length(efac), 4L)]
  # the prediction interval's fill and border (bar / polygon): col[2], border[2]
  pcol <- if (!missing(col) && length(col) >= 2L) col[2L] else graphics::par("fg")
  pbord <- if (!missing(border) && length(border) >= 2L) border[2L] else graphics::par("fg")
  col_all <- if (missing(col)) NULL else col
  border_all <- if (missing(border)) NULL else border
  if (predstyle != "line") {
    if (!missing(col)) col <- col[1L]
    if (!missing(border)) border <- border[1L]
  }
  col <- if (missing(col)) "black" else col
  border <- if (missing(border)) NA else border
  lty <- if (missing(lty)) "dotted" else lty
  col <- rep_len(col, k); border <- rep_len(border, k)
  tr <- .mf_transf(tf, est, lb, ub); e <- tr$est; l <- tr$lb; u <- tr$ub
  trp <- .mf_transf(tf, plb, plb, pub); pl <- trp$lb; pu <- trp$ub
  if (!is.null(olim)) {
    # metafor's olim: the values drawn and annotated are cut at it
    cl <- function(v) ifelse(is.na(v), v, pmin(pmax(v, olim[1L]), olim[2L]))
    e <- cl(e); l <- cl(l); u <- cl(u); pl <- cl(pl); pu <- cl(pu)
  }
  ann <- rep("", k)
  asym <- function(v) gsub(" ", as_[5L], gsub("-", as_[4L], v, fixed = TRUE), fixed = TRUE)
  if (annotate) {
    ta <- if (is.null(atf)) list(est = e, lb = l, ub = u) else .mf_transf(atf, e, l, u)
    # padded to the widths of the forest plot's columns, so the brackets line up
    w <- .mf_addpoly_widths(width, stt$ann_widths, missing(width))
    pad <- function(v, j) formatC(.mf_fmt(v, digits), width = w[j])
    ann <- asym(paste0(pad(ta$est, 1L), as_[1L], pad(ta$lb, 2L), as_[2L], pad(ta$ub, 3L), as_[3L]))
  }
  pi_ann <- ""
  if (annotate && predstyle != "line") {
    tp <- if (is.null(atf)) list(lb = pl, ub = pu) else .mf_transf(atf, pl, pl, pu)
    w <- .mf_addpoly_widths(width, stt$ann_widths, missing(width))
    pi_ann <- asym(paste0(sub("^ +", "", as_[1L]), formatC(.mf_fmt(tp$lb, digits), width = w[2L]), as_[2L],
                          formatC(.mf_fmt(tp$ub, digits), width = w[3L]), as_[3L]))
  }
  clipx <- function(v) pmin(pmax(v, alim[1L]), alim[2L])
  x_off <- if (is.null(stt$x_off)) 0 else stt$x_off
  ra <- if (is.null(stt$radj)) c(0, 0, 0) else stt$radj
  # the text in the fonts of the forest plot's labels and annotations (as
  # metafor), unless given in `...`
  fnt <- function(j) {
    d <- names(dots)
    out <- list()
    if (!is.null(ffam) && !"family" %in% d) out$family <- ffam[j]
    if (!is.null(ffont) && !"font" %in% d) out$font <- ffont[j]
    out
  }
  txt <- function(x, y, lab, adj, j) do.call(graphics::text, c(list(x, y, lab, adj = adj, cex = cex), fnt(j), dots))
  pred_drawn <- NULL
  # the diamonds at least half as tall as a line of addpoly()'s text (see
  # .mf_forest_draw(); metafor sizes them by the text size given here too)
  dia_hs <- max(stt$dia_h, stt$dia_hs, if (!is.null(stt$text_h1)) 0.5 * cex * stt$text_h1 / stt$rowh)
  # constarea (metafor): the heights inversely proportional to the widths of
  # the intervals, the narrowest at the usual height, so all have one area
  dia_f <- rep(1, k)
  if (constarea) {
    wd <- u - l
    if (any(wd > 0, na.rm = TRUE)) dia_f <- min(wd[wd > 0], na.rm = TRUE) / wd
  }
  for (i in seq_len(k)) {
    y <- rows[i]
    if (predstyle != "line") {
      # metafor's bar (two rectangles meeting at the estimate) or flat diamond
      hh <- 0.6 * stt$dia_h * ef4
      if (predstyle %in% c("shade", "dist")) {
        pred_drawn <- .mf_forest_pi_dist(predstyle, pdist, pi_row, pl[i], pu[i], alim, olim, col_all, border_all,
                                         ef4, stt$dia_h)
      } else if (predstyle == "bar") {
        graphics::rect(clipx(pl[i]), pi_row - hh, clipx(e[i]), pi_row + hh, col = pcol, border = pbord)
        graphics::rect(clipx(e[i]), pi_row - hh, clipx(pu[i]), pi_row + hh, col = pcol, border = pbord)
      } else {
        graphics::polygon(clipx(c(pl[i], e[i], pu[i], e[i])), pi_row + c(0, 1, 0, -1) * stt$dia_h * ef4,
                          col = pcol, border = pbord)
      }
      txt(tpos[1L] + x_off, pi_row + ra[1L], pi_lab, c(0, 0.5), 1L)
      if (annotate) txt(tpos[2L] - x_off, pi_row + ra[2L], pi_ann, c(1, 0.5), 2L)
    } else if (!is.na(pl[i]) && !is.na(pu[i])) {
      graphics::segments(clipx(pl[i]), y, clipx(pu[i]), y, lty = lty, col = lcol[i])
      for (b in c(pl[i], pu[i])) if (b >= alim[1L] && b <= alim[2L])
        graphics::segments(b, y - stt$tick_h, b, y + stt$tick_h, col = lcol[i])
    }
    if (!is.na(e[i]))
      graphics::polygon(clipx(c(l[i], e[i], u[i], e[i])), y + c(0, 1, 0, -1) * dia_hs * ef * dia_f[i],
                        col = col[i], border = border[i])
    txt(tpos[1L] + x_off, y + ra[1L], mlab[[i]], c(0, 0.5), 1L)
    if (annotate) txt(tpos[2L] - x_off, y + ra[2L], ann[i], c(1, 0.5), 2L)
  }
  out <- data.frame(row = rows, estimate = e, ci.lb = l, ci.ub = u, pi.lb = pl, pi.ub = pu, annotation = ann,
                    pi.row = pi_row, pi.annotation = pi_ann, stringsAsFactors = FALSE)
  if (!is.null(pred_drawn)) attr(out, "pred") <- pred_drawn
  invisible(out)
}

# Two limits (alim, olim of addpoly()), sorted.
.mf_addpoly_lim <- function(v, arg) {
  if (!is.numeric(v) || length(v) != 2L || anyNA(v)) .mf_stop(sprintf("'%s' must be two numbers.", arg))
  sort(v)
}

# The widths (characters) of the estimate, lower and upper bound columns of
# the annotations: metafor's width when given (one value for all three),
# else those of the forest plot's columns (so the brackets line up).
.mf_addpoly_widths <- function(width, forest_widths, missing_width) {
  if (!missing_width && !is.null(width)) return(rep_len(width, 3L))
  if (is.null(forest_widths)) c(0L, 0L, 0L) else forest_widths
}

# pi.lb with what metafor's predict() attaches to it (level, dist, ddf, se)
# taken from `from`.
.mf_addpoly_pi_attr <- function(v, from) {
  for (nm in c("level", "dist", "ddf", "se")) attr(v, nm) <- attr(from, nm)
  v
}

.mf_addpoly_predstyle <- function(predstyle) {
  ok <- c("line", "polygon", "bar", "shade", "dist")
  hit <- if (is.character(predstyle) && length(predstyle) == 1L && !is.na(predstyle)) pmatch(predstyle, ok) else NA
  if (is.na(hit)) .mf_stop("'predstyle' must be \"line\", \"bar\", \"polygon\", \"shade\" or \"dist\".")
  ok[hit]
}
