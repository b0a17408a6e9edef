# Forest plots (Lewis & Clarke 2001, BMJ 322:1479) in base graphics.
# Two layouts share one drawing engine (.mf_forest_draw):
# - the automatic layout (the default): computed in inches from
#   strwidth()/strheight() of the text actually drawn, then mapped to user
#   coordinates, so labels, the extra columns and the annotations never
#   overlap the plotting panel;
# - metafor's coordinates (when xlim, rows, ilab.xpos or textpos is given):
#   the x axis is in units of the outcome from xlim[1] to xlim[2], the
#   studies sit on rows k, ..., 1, the pooled estimate on row -1 and the
#   header on row k + 2, so that metafor scripts that add text(), addpoly()
#   or ilab columns at metafor's positions draw what metafor draws.

#' Forest plots
#'
#' Draws one row per study (a square with area proportional to the study's
#' weight and its confidence interval), annotation columns on the right
#' (estimate with confidence interval and, optionally, the weight in percent),
#' the pooled estimate as a diamond and, for random-effects models, the
#' prediction interval.  With \code{subgroup}, the studies are grouped into
#' blocks, each with a header line and its own pooled diamond (a model with
#' the method of \code{x} fitted to the block), and the overall diamond comes
#' at the bottom.
#'
#' \strong{Two layouts.}  By default the layout is automatic: the columns are
#' placed from the widths of their text and the text size shrinks with the
#' number of rows so that nothing overlaps; to keep it readable with many
#' studies give the figure more height: in R Markdown use the chunk option
#' \code{fig.height = forest_height(k)} (the plot is designed for a width of
#' about 7 inches, knitr's default \code{fig.width}); with \code{png()} or
#' \code{pdf()} use \code{height = forest_height(k)}.  When \code{xlim},
#' \code{ylim}, \code{rows}, \code{ilab.xpos} or \code{textpos} is given, the plot uses
#' metafor's coordinates instead: the horizontal axis runs from
#' \code{xlim[1]} to \code{xlim[2]} in units of the outcome (by default
#' metafor's limits), the study labels start at \code{textpos[1]} (default
#' \code{xlim[1]}), the annotations end at \code{textpos[2]} (default
#' \code{xlim[2]}), the \code{ilab} columns are centred at \code{ilab.xpos},
#' the studies sit on the rows \code{rows} (default \code{k:1}), the pooled
#' estimate on row -1 and the headers on row \code{max(rows) + 2}, so that
#' further \code{text()} and \code{addpoly()} calls of a metafor script land
#' where they land in metafor.  In this layout \code{showweights} and
#' \code{addpred} default to \code{FALSE}, as in metafor; the text size still
#' shrinks (unless \code{cex} is given) so that the rows and the columns do
#' not overlap.
#'
#' @param x a fitted model (\code{forest.mf_rma}) or a vector of observed
#'   effect sizes (\code{forest.default}).
#' @param ... graphical parameters (\code{par()}, e.g. \code{family} or
#'   \code{font}), set while the plot is drawn; for fits of \code{rma()},
#'   \code{rma.mh()} and \code{rma.peto()} also metafor's options read from
#'   \code{...}: \code{annosym} (three to five strings: the opening bracket,
#'   the separator and the closing bracket of the annotations, then the minus
#'   sign and the space, e.g. \code{c(" (", " to ", ")")}), \code{tabfig} (1,
#'   2 or 3: metafor's symbols of the width of a figure: thin spaces, the
#'   minus sign or en dash, en or figure spaces), \code{at.lab} (the tick
#'   labels, one per tick), \code{top} (rows above the top study, default 3;
#'   metafor's coordinates), \code{rowadj} (vertical shifts, in rows, of the
#'   labels, the annotations and the \code{ilab} columns; one value shifts
#'   the first two), \code{clim} (metafor's older name of \code{olim}; it
#'   wins), \code{decreasing} (sort keys given as a vector in \code{order}
#'   sorted in decreasing order), \code{xlabadj} (\code{adj} of the labels
#'   at the ends of the axis; one value a: a and 1 - a), \code{xlabfont}
#'   (font of the axis labels; a second value for the middle one of three)
#'   and \code{predtail} (see \code{predstyle}); \code{forest.default}
#'   (vectors) reads the same options but \code{predtail}, \code{forest()}
#'   of \code{cumul()} results those but \code{predtail} and
#'   \code{decreasing}.  \code{addpoly()}
#'   uses the annotation symbols, shifts and fonts of the forest plot.
#'   metafor's forest arguments that metafast does not implement are errors.
#' @return Invisibly, a list with \code{studies} (a data frame with one row
#'   per drawn study: \code{row} (row of the data), \code{slab}, \code{yi},
#'   \code{vi}, \code{ci.lb}, \code{ci.ub}, \code{weight} (percent),
#'   \code{group}, the vertical position \code{y} and the annotation text
#'   \code{annotation}), \code{summaries} (one row per diamond:
#'   \code{label}, \code{group}, \code{k}, \code{estimate}, \code{ci.lb},
#'   \code{ci.ub}, \code{pi.lb}, \code{pi.ub}, \code{y}) and \code{layout}
#'   (\code{xlim}, \code{ylim}, \code{alim}, \code{at}, \code{at.lab} (the
#'   tick labels), \code{cex}, \code{rows}, \code{textpos},
#'   \code{ilab.xpos}, \code{header} (left and right), \code{xlab},
#'   \code{refline} (\code{NULL} for none),
#'   \code{coords} (\code{"auto"} or \code{"metafor"}), and with \code{predstyle =
#'   "shade"} / \code{"dist"} \code{pred}: the points of the predictive
#'   distribution drawn (\code{x}; for "shade" the colour of each point
#'   \code{col}, for "dist" the drawn curve \code{y})).  Values are on
#'   the scale drawn (after \code{transf}; with \code{atransf} on the scale of
#'   the model, as drawn).
#' @references Lewis S, Clarke M (2001). Forest plots: trying to see the wood
#'   and the trees. \emph{BMJ} 322:1479-1480.
#'   Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of random effects
#'   meta-analyses. \emph{BMJ} 342:d549.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
#'                   type = c("a", "a", "b", "b", "b", "a"))
#' fit <- rma(yi, vi, data = dat)
#' forest(fit)
#' forest(fit, subgroup = dat$type, header = c("Study", "g [95% CI]"))
#' forest(dat$yi, dat$vi)
#' # metafor's gallery example (BCG vaccine trials)
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
#'                 data = metadat::dat.bcg, slab = paste(author, year, sep = ", "))
#'   res <- rma(yi, vi, data = bcg)
#'   forest(res, atransf = exp, at = log(c(0.05, 0.25, 1, 4)), xlim = c(-16, 6),
#'          ilab = cbind(tpos, tneg, cpos, cneg), ilab.xpos = c(-9.5, -8, -6, -4.5),
#'          header = "Author(s) and Year", mlab = "RE Model for All Studies", shade = TRUE)
#' }
#' @export
forest <- function(x, ...) UseMethod("forest")

#' @rdname forest
#' @param annotate draw the estimate and confidence interval of each row on
#'   the right.
#' @param addfit draw the pooled estimate (intercept-only models) or the
#'   fitted values (meta-regression), as metafor.
#' @param addpred draw the prediction interval of the pooled estimate
#'   (random-effects models; for a meta-regression the fitted values' bars
#'   show the prediction instead of the confidence interval).  Default:
#'   \code{TRUE} in the automatic layout, \code{FALSE} (as metafor) in
#'   metafor's coordinates.
#' @param predstyle how the prediction interval is drawn: \code{"line"} (a
#'   dotted line through the diamond, metafor's default), \code{"bar"} (a bar
#'   on the row below the diamond), \code{"polygon"} (a flat diamond on the
#'   row below), \code{"shade"} (a bar on the row below shaded by the
#'   density of the predictive distribution) or \code{"dist"} (the density
#'   of the predictive distribution drawn on the row below; with
#'   \code{transf} one of metafor's transformations \code{exp},
#'   \code{transf.ztor}, \code{tanh}, \code{transf.ilogit}, \code{plogis},
#'   \code{transf.iarcsin}, \code{transf.iprobit}, \code{pnorm},
#'   \code{transf.iahw}, \code{transf.iabt}: the density of the transformed
#'   outcome).  Giving it sets \code{addpred = TRUE}, as in metafor.  As
#'   metafor, \code{predstyle = "dist"} reads \code{predtail} from \code{...}:
#'   the value (default 0) whose side away from the estimate is drawn in
#'   \code{col[3]}, or a string \code{"<v"} / \code{">v"} choosing the side.  By
#'   default the automatic layout draws the interval as a dashed bar on its
#'   own row, labelled with its bounds.
#' @param preddist a given predictive distribution (as metafor): a list
#'   whose first two elements are points on the scale of the model and the
#'   density there; optional elements \code{pi.lb}, \code{pi.ub} (the
#'   prediction interval; by default the \code{level} quantiles of the
#'   trapezoid-rule distribution function) and \code{level}.  Its interval
#'   replaces the fit's, and \code{predstyle = "shade"} / \code{"dist"} draw
#'   its density.
#' @param predlim range (on the scale drawn, i.e. after \code{transf}) over
#'   which \code{predstyle = "dist"} draws the density (without it: where the
#'   scaled density exceeds 0.005), as metafor; with \code{preddist} the
#'   points kept for both styles.
#' @param showweights draw the weights (percent) column (for
#'   \code{forest.default} the inverse-variance weights).  Default:
#'   \code{TRUE} in the automatic layout for fits, \code{FALSE} otherwise (as
#'   metafor).
#' @param header \code{TRUE}, \code{FALSE}, one string (the header of the
#'   label column) or two strings (the headers of the label and of the
#'   annotation column, e.g. \code{c("Study", "g [95\% CI]")}).  The default
#'   right header is metafor's: the short name of the measure (e.g.
#'   \code{"Log[RR]"}, or \code{"Risk Ratio"} with \code{atransf = exp} or
#'   \code{transf = exp}; \code{"Estimate"} otherwise) followed by
#'   \code{"[95\% CI]"}.
#' @param xlim horizontal limits of the plot in units of the outcome
#'   (metafor's coordinates; see Details).
#' @param ylim vertical limits of the plot in rows (one value: the bottom;
#'   metafor's coordinates): the header goes on row \code{ylim[2] - 1}, the
#'   rule under it on row \code{ylim[2] - 2}.
#' @param alim range of the x axis of the plotting panel (by default that of
#'   \code{at}, else a range covering the intervals); intervals outside it end
#'   in arrows.
#' @param olim limits for the drawn values: estimates and bounds outside are
#'   set to the limit (on the scale drawn).
#' @param at positions of the axis ticks (on the scale drawn, i.e. before
#'   \code{atransf}); values outside \code{alim} are moved to its ends.
#' @param steps number of ticks when \code{alim} is given without \code{at}
#'   (metafor's \code{seq(alim[1], alim[2], length.out = steps)}).
#' @param level confidence level (percent) of the intervals drawn: by default
#'   the level of the fit (\code{forest.mf_rma}) or 95.  The studies'
#'   intervals use the normal quantile, the pooled estimate's that of the
#'   fit's test.
#' @param refline position of the vertical reference line (\code{NULL},
#'   \code{NA} or \code{FALSE} for none).
#' @param digits decimals of the annotations; a second value sets those of
#'   the axis labels (which drop the decimals of whole numbers, as metafor), a
#'   third those of the weights (default one decimal).
#' @param xlab label of the x axis; by default metafor's label of the measure
#'   (e.g. \code{"Log Risk Ratio"}, \code{"Risk Ratio (log scale)"} with
#'   \code{atransf = exp}).  Two or three labels go under the left end (the
#'   middle) and the right end of the axis, as metafor (e.g. \code{c("Favours
#'   treatment", "Favours control")}).
#' @param width minimum number of characters of the annotation columns
#'   (estimate, lower and upper bound; with \code{showweights} the weights
#'   first): one value or one per column, as metafor.
#' @param slab study labels (one per row of the data or per study used; an
#'   expression is evaluated in the data of the fit, as metafor); by default
#'   those of the fit (\code{forest.default}: the labels that \code{escalc()}
#'   attached to \code{x}, else "Study 1", ...; the measure it attached sets
#'   the default axis label and right header, as metafor).
#' @param mlab label of the pooled estimate (one string; a second string
#'   labels the prediction interval row of \code{predstyle = "bar"} /
#'   \code{"polygon"}), or an expression drawn as such (e.g. metafor's
#'   gallery: \code{list(bquote(paste(...)))}; the layout returns its text).
#' @param ilab extra columns drawn between the labels and the plot: a vector,
#'   matrix or data frame with one row per study (e.g. sample size, weeks);
#'   an expression such as \code{cbind(tpos, tneg)} is evaluated in the data
#'   of the fit, as metafor.
#' @param ilab.lab headers of the \code{ilab} columns (drawn on the header
#'   row).
#' @param ilab.xpos horizontal positions of the \code{ilab} columns (their
#'   centres, or the anchors of \code{ilab.pos}) in units of the outcome, as
#'   metafor.
#' @param ilab.pos \code{text()} positions of the \code{ilab} columns (1 to
#'   4; e.g. 2 right-aligns them at \code{ilab.xpos}); one value or one per
#'   column.
#' @param textpos two horizontal positions: where the study labels start and
#'   where the annotations end (metafor's coordinates).
#' @param order \code{NULL} (data order), \code{"obs"} / \code{"yi"} (by
#'   effect size), \code{"prec"} / \code{"vi"} (by sampling variance, ties by
#'   effect size), \code{"fit"}, \code{"resid"}, \code{"abs.resid"},
#'   \code{"rstandard"}, \code{"abs.rstandard"} (as metafor),
#'   \code{"weight"} (by decreasing weight; metafast only), a vector with one
#'   sort key per study, or a permutation given as \code{order(...)}.  With
#'   subgroups the studies are sorted within their block.
#' @param transf optional function applied to the estimates and bounds
#'   (e.g. \code{exp} for log ratios; then use \code{refline = 1}).
#' @param atransf optional function applied to the annotations and the axis
#'   labels only: the plot stays on the scale of the model (e.g.
#'   \code{atransf = exp} draws log risk ratios on an axis labelled in risk
#'   ratios).  Not together with \code{transf}.
#' @param targs optional second argument of \code{transf} / \code{atransf}.
#' @param rows vertical positions of the studies (one per study drawn, in
#'   the order drawn, or a single value: the top row); metafor's
#'   coordinates.
#' @param efac expansion factors (one to four values, as metafor): the ends
#'   of the intervals, the arrows, the diamond and the prediction interval
#'   polygon.
#' @param pch,psize symbol and size multipliers of the study points (one
#'   value or one per study); when either is given the points are drawn with
#'   \code{points()} as in metafor (default \code{pch = 15}, sizes from
#'   \code{plim}), otherwise as squares of area proportional to the weight.
#' @param plim range of the point sizes when \code{psize} is not given (see
#'   \code{pch}).
#' @param colout colour of the studies' points and intervals (one value or one
#'   per study).
#' @param colci colour of the studies' intervals (one value or one per study;
#'   default \code{colout}, for \code{forest.default} \code{col}).
#' @param col colour of the diamond and of the prediction interval (intercept
#'   models: one or two values), or of the fitted values (meta-regression);
#'   for \code{forest.default} the colour of the studies.
#' @param border border colour of the diamond (meta-regression: of the fitted
#'   values).
#' @param shade shading of the study rows: \code{TRUE} or \code{"zebra"}
#'   (every other row, starting with the bottom one), \code{"zebra2"} (the
#'   other rows), \code{"all"}, a logical vector with one value per study, or
#'   numbers (the rows to shade), as metafor.
#' @param colshade colour of the shading (default a light grey).
#' @param lty line types: of the intervals, of the prediction interval and of
#'   the horizontal rules (one to three values); for \code{forest.default}
#'   and \code{forest()} of \code{cumul()} results, as metafor, of the
#'   intervals and of the horizontal rule (one or two values).
#' @param cex text size; by default the largest size (at most 1) at which
#'   rows and columns do not overlap.
#' @param fonts font families of the study labels, the annotations and the
#'   \code{ilab} columns (one to three, as metafor; e.g. \code{c("sans",
#'   "mono")} for annotations in a monospaced font); as metafor, a named
#'   vector gives the fonts (1 to 5) named by their families, e.g.
#'   \code{c(serif = 3, mono = 1)}.  A single number 1 to 4
#'   (e.g. \code{font = 2}, which R matches to \code{fonts}) sets
#'   \code{par(font = )} for the text.
#' @param cex.lab,cex.axis text sizes of the axis label and of the tick labels
#'   (default: \code{cex}, at least 0.6 and 0.5).
#' @param subgroup a factor (or vector) with one value per study: the blocks
#'   (metafast only; automatic layout only).
#' @param main optional title (metafast only).
#' @export
forest.mf_rma <- function(x, annotate = TRUE, addfit = TRUE, addpred, predstyle, preddist, showweights, header = TRUE,
                          xlim, alim, olim, ylim, predlim, at, steps = 5, level = x$level, refline = 0, digits = 2L, width,
                          xlab, slab,
                          mlab, ilab = NULL, ilab.lab = NULL, ilab.xpos, ilab.pos, textpos, order = NULL,
                          transf = NULL, atransf = NULL, targs = NULL, rows, efac = 1, pch, psize,
                          plim = c(0.5, 1.5), colout, colci, col, border, shade, colshade, lty, fonts, cex,
                          cex.lab, cex.axis, subgroup = NULL, main, ...) {
  .mf_check_dots("forest.mf_rma", ...)
  .mf_plot_check(x, "forest")
  alpha <- if (missing(level)) x$level else .mf_level(level)
  env <- parent.frame()
  ev <- function(e) .mf_plot_eval(e, x, env)
  ilab <- ev(substitute(ilab))
  order_expr <- substitute(order)
  order <- ev(order_expr)
  if (!missing(slab)) slab <- ev(substitute(slab))
  colout <- if (missing(colout)) NULL else ev(substitute(colout))
  colci <- if (missing(colci)) NULL else ev(substitute(colci))
  pch <- if (missing(pch)) NULL else ev(substitute(pch))
  psize <- if (missing(psize)) NULL else ev(substitute(psize))
  shade <- if (missing(shade)) NULL else ev(substitute(shade))
  coords <- .mf_forest_coords(xlim, rows, ilab.xpos, textpos, ylim)
  hidden <- .mf_forest_dots(...)
  if (length(hidden$par)) { op <- graphics::par(hidden$par); on.exit(graphics::par(op), add = TRUE) }
  pr <- .mf_forest_pred_args(addpred, predstyle, coords)
  addpred <- pr$addpred; predstyle <- pr$predstyle
  showweights <- if (missing(showweights)) coords == "auto" else isTRUE(showweights)
  addfit <- .mf_flag(addfit, "addfit")
  k <- x$k
  if (!missing(slab) && is.null(slab))
    .mf_stop("The object/variable specified for the 'slab' argument is NULL.")
  labs <- if (missing(slab)) .mf_plot_slab(x) else .mf_slab_labels(slab, x)
  yi <- x$yi; vi <- x$vi
  crit_i <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  wt <- .mf_plot_weights(x)
  st <- data.frame(row = x$ids, slab = labs, yi = yi, vi = vi,
                   ci.lb = yi - crit_i * sqrt(vi), ci.ub = yi + crit_i * sqrt(vi),
                   weight = wt, stringsAsFactors = FALSE)
  grp <- .mf_forest_groups(subgroup, x, k)
  if (!is.null(grp) && isTRUE(x$forest_tab))
    .mf_stop("'subgroup' is not available for rma.mh() / rma.peto() fits; place the groups with 'rows' and add their estimates with addpoly().")
  if (!is.null(grp) && coords == "metafor")
    .mf_stop("'subgroup' works in the automatic layout only; with 'xlim', 'rows', 'ilab.xpos' or 'textpos' place the groups with 'rows' and add their estimates with addpoly().")
  st$group <- if (is.null(grp)) NA_character_ else as.character(grp)
  # fitted values of a meta-regression (for order = "fit" / "resid" and the drawn bars)
  pred <- c(x$X %*% x$beta)
  keys <- list(fit = pred, resid = yi - pred, abs.resid = abs(yi - pred))
  if (is.character(order) && length(order) == 1L && order %in% c("rstandard", "abs.rstandard")) {
    z <- if (isTRUE(x$forest_tab)) x$forest_rstandard else suppressWarnings(stats::rstandard(x))$z
    keys$rstandard <- z; keys$abs.rstandard <- abs(z)
  }
  dec <- .mf_forest_decreasing(hidden, order_expr)
  order <- .mf_forest_order_arg(order, order_expr, x)
  ord <- .mf_forest_order(order, st, grp, keys, decreasing = dec)
  model_lab <- if (.mf_is_ee(x$method)) "Equal-effects model" else "Random-effects model"

  sums <- NULL
  pdist <- NULL
  mlab_expr <- NULL
  pi_level <- 100 * (1 - alpha)
  if (x$int.only && addfit) {
    if (!is.null(grp)) {
      for (g in levels(grp)) {
        idx <- which(grp == g)
        sub <- .mf_forest_subfit(x, idx, alpha)
        if (is.null(sub)) next
        lab <- if (.mf_is_ee(x$method) || is.na(sub$I2)) sprintf("Subtotal (k = %d)", sub$k) else
          sprintf("Subtotal (k = %d, I\u00b2 = %.0f%%)", sub$k, sub$I2)
        sums <- rbind(sums, data.frame(label = lab, group = g, k = sub$k, estimate = sub$estimate,
                                       ci.lb = sub$ci.lb, ci.ub = sub$ci.ub, pi.lb = sub$pi.lb,
                                       pi.ub = sub$pi.ub, stringsAsFactors = FALSE))
      }
    }
    pool <- .mf_plot_pooled(x, alpha)
    lab <- sprintf("%s (k = %d)", model_lab, if (is.null(x$forest_k)) k else x$forest_k)
    pi_lab <- NULL
    if (!missing(mlab)) {
      mlab <- .mf_forest_mlab(mlab)
      lab <- mlab[1L]
      if (length(mlab) > 1L) pi_lab <- mlab[2L]
      mlab_expr <- attr(mlab, "expr")
    }
    # metafor's predictive distribution (predstyle "shade" / "dist") and a
    # given one (preddist: its prediction interval replaces the fit's)
    if (!missing(preddist) || (addpred && !is.null(predstyle) && predstyle %in% c("shade", "dist") &&
                               !.mf_is_ee(x$method))) {
      pdist <- .mf_forest_pdist(predstyle, pool$estimate, sqrt(x$se[1L]^2 + x$tau2),
                                if (.mf_tdist(x$test)) x$k - x$p else Inf, alpha, transf, targs,
                                if (missing(predlim)) NULL else predlim, if (missing(preddist)) NULL else preddist,
                                hidden$predtail)
      if (!.mf_is_ee(x$method)) { pool$pi.lb <- pdist$pi.lb; pool$pi.ub <- pdist$pi.ub }
      pi_level <- pdist$level
    } else if (!missing(predlim)) .mf_forest_predlim(predlim)
    sums <- rbind(sums, data.frame(label = lab, group = NA_character_,
                                   k = k, estimate = pool$estimate, ci.lb = pool$ci.lb,
                                   ci.ub = pool$ci.ub, pi.lb = pool$pi.lb, pi.ub = pool$pi.ub,
                                   stringsAsFactors = FALSE))
  } else {
    if (!missing(mlab)) .mf_forest_mlab(mlab)
    pi_lab <- NULL
  }
  # Meta-regression: the fitted value of each study (confidence or, with
  # addpred, prediction interval) as a grey diamond.
  fit_rows <- NULL
  if (!x$int.only && addfit) {
    sep <- sqrt(pmax(rowSums((x$X %*% x$vb) * x$X), 0))
    if (addpred) sep <- sqrt(sep^2 + x$tau2)
    crit <- .mf_plot_crit(x, alpha)
    fit_rows <- data.frame(estimate = pred, ci.lb = pred - crit * sep, ci.ub = pred + crit * sep)
  }
  if (is.null(pi_lab)) pi_lab <- if (!is.null(predstyle) && predstyle %in% c("bar", "polygon", "shade"))
    sprintf("Prediction Interval [%s%% PI]", format(round(pi_level, digits[1L]))) else if (identical(predstyle, "dist"))
    sprintf("Predictive Distribution [%s%% PI]", format(round(pi_level, digits[1L]))) else "Prediction interval"
  ps <- function(v, arg) if (is.null(v)) NULL else .mf_plot_per_study(v, x, arg)
  given <- .mf_forest_hidden_args(hidden, .mf_given(.mf_forest_given))
  do.call(.mf_forest_draw, c(list(st = st, ord = ord, grp = grp, sums = sums, fit_rows = fit_rows,
                  ilab = .mf_per_study(ilab, x, "ilab"), ilab.lab = ilab.lab,
                  annotate = annotate, showweights = showweights, addpred = addpred,
                  header = header, transf = .mf_plot_tf(transf, targs, "transf"), refline = refline, digits = digits,
                  pi_label = pi_lab, level_pct = 100 * (1 - alpha),
                  measure = x$measure, transf_f = transf, atransf_f = atransf,
                  atransf = .mf_plot_tf(atransf, targs, "atransf"),
                  coords = coords, predstyle = predstyle, efac = efac, pch = ps(pch, "pch"), psize = ps(psize, "psize"),
                  plim = plim, colout = ps(colout, "colout"), col = if (missing(col)) NULL else col,
                  border = if (missing(border)) NULL else border, shade = .mf_forest_shade(shade, x),
                  int_only = x$int.only, pdist = pdist, colci = ps(colci, "colci"), mlab_expr = mlab_expr,
                  xlab = if (missing(xlab)) NULL else xlab),
                  given))
}

#' @rdname forest
#' @param vi sampling variances (\code{forest.default}).
#' @param sei standard errors (alternative to \code{vi}).
#' @param ci.lb,ci.ub confidence bounds (alternative to \code{vi} and
#'   \code{sei}).
#' @param subset the studies to draw (\code{forest.default}, as metafor): a
#'   logical vector with one value per study, or study numbers (all positive,
#'   or all negative to leave studies out).  The per-study arguments
#'   (\code{slab}, \code{ilab}, \code{pch}, \code{psize}, \code{col},
#'   \code{colci}, a logical \code{shade}, \code{order}) are given for all
#'   studies and follow it; weights and point sizes are those of the studies
#'   drawn; \code{rows} are the rows of the studies drawn.  metafor's
#'   \code{forest()} of fits has no \code{subset} (an error, as in metafor):
#'   fit the model to the subset.
#' @details \code{forest.default}, as metafor's, has no \code{mlab},
#'   \code{addfit}, \code{addpred}, \code{predstyle}, \code{predlim},
#'   \code{colout} or \code{border}: given, each is ignored with metafor's
#'   warning ("The forest.default() function does not have an 'mlab'
#'   argument."); use \code{col} for the colour of the studies, and
#'   \code{addpoly()} for a summary.  A \code{slab} of \code{NULL} is an
#'   error, as in metafor (\code{slab = NA} draws no labels).
#' @export
forest.default <- function(x, vi, sei, ci.lb, ci.ub, annotate = TRUE, showweights = FALSE, header = TRUE,
                           xlim, alim, olim, ylim, at, steps = 5, level = 95, refline = 0, digits = 2L, width,
                           xlab, slab,
                           ilab = NULL, ilab.lab = NULL, ilab.xpos, ilab.pos, textpos, order = NULL, subset,
                           transf = NULL, atransf = NULL, targs = NULL, rows, efac = 1, pch, psize,
                           plim = c(0.5, 1.5), col, colci, shade, colshade, lty, fonts, cex, cex.lab, cex.axis,
                           subgroup = NULL, main, ...) {
  .mf_check_dots("forest.default", ...)
  coords <- .mf_forest_coords(xlim, rows, ilab.xpos, textpos, ylim)
  hidden <- .mf_forest_dots(..., ours = .mf_dots_ours$forest.default)
  # the arguments of forest() of fits that metafor's forest.default() reads
  # from `...` only to warn that it ignores them
  for (nm in .mf_forest_default_ignored) if (!is.null(hidden[[nm]]))
    warning(sprintf("The forest.default() function does not have %s '%s' argument.",
                    if (nm %in% c("mlab", "addfit", "addpred")) "an" else "a", nm),
            call. = FALSE, immediate. = TRUE)
  if (length(hidden$par)) { op <- graphics::par(hidden$par); on.exit(graphics::par(op), add = TRUE) }
  yi <- .mf_numeric(x, "x")
  k <- length(yi)
  if (k == 0L) .mf_stop("'x' has length 0: there is nothing to plot.")
  alpha <- .mf_level(level)
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  if (!missing(vi)) {
    vi <- .mf_numeric(vi, "vi")
  } else if (!missing(sei)) {
    sei <- .mf_numeric(sei, "sei")
    if (length(sei) != k) .mf_stop(sprintf("'sei' has length %d but 'x' has length %d.", length(sei), k))
    vi <- sei^2
  } else if (!missing(ci.lb) && !missing(ci.ub)) {
    lb <- .mf_numeric(ci.lb, "ci.lb"); ub <- .mf_numeric(ci.ub, "ci.ub")
    if (length(lb) != k || length(ub) != k) .mf_stop("'ci.lb' and 'ci.ub' must have the length of 'x'.")
    bad <- !is.na(lb) & !is.na(ub) & lb > ub
    if (any(bad)) .mf_stop(sprintf("'ci.lb' is above 'ci.ub' in %s.", .mf_rows(bad)))
    vi <- ((ub - lb) / (2 * crit))^2
  } else .mf_stop("Give the sampling variances 'vi', the standard errors 'sei', or 'ci.lb' and 'ci.ub'.")
  if (length(vi) != k) .mf_stop(sprintf("'vi' has length %d but 'x' has length %d.", length(vi), k))
  bad <- !is.na(vi) & vi < 0
  if (any(bad)) .mf_stop(sprintf("'vi' must be non-negative; negative in %s.", .mf_rows(bad)))
  lb <- if (!missing(ci.lb) && !missing(ci.ub)) .mf_numeric(ci.lb, "ci.lb") else yi - crit * sqrt(vi)
  ub <- if (!missing(ci.lb) && !missing(ci.ub)) .mf_numeric(ci.ub, "ci.ub") else yi + crit * sqrt(vi)
  keep <- !is.na(yi) & !is.na(vi)
  # metafor's subset: logical, or row numbers (all positive or all negative),
  # of the data; the per-study arguments of the length of the data follow it
  if (!missing(subset) && !is.null(subset)) {
    sub <- .mf_ag_subset(subset, k)
    if (!any(sub)) .mf_stop("Stopped because k = 0 after subsetting.")
    keep <- keep & sub
  }
  if (!any(keep)) .mf_stop("No studies with both an effect size and a variance remain.")
  # a pseudo-fit so the per-study arguments are handled as for a model
  px <- list(k = sum(keep), k.all = k, ids = which(keep))
  # as metafor: the labels and the measure that escalc() attached to x; a
  # given NULL is an error (metafor: a 'slab' of length 0)
  if (missing(slab) && length(attr(x, "slab")) == k) slab <- attr(x, "slab")
  if (!missing(slab) && is.null(slab))
    .mf_stop(sprintf("Length of the 'slab' argument (0) does not correspond to the number of outcomes (%d).", k))
  labs <- if (missing(slab) || is.null(slab)) paste("Study", which(keep)) else .mf_slab_labels(slab, px)
  measure <- attr(x, "measure")
  if (!is.character(measure) || length(measure) != 1L || is.na(measure)) measure <- "GEN"
  w <- ifelse(vi[keep] > 0, 1 / vi[keep], NA_real_)
  w <- if (all(is.na(w))) rep(1, sum(keep)) else { w[is.na(w)] <- max(w, na.rm = TRUE); w }
  st <- data.frame(row = which(keep), slab = labs, yi = yi[keep], vi = vi[keep], ci.lb = lb[keep],
                   ci.ub = ub[keep], weight = 100 * w / sum(w), stringsAsFactors = FALSE)
  grp <- .mf_forest_groups(subgroup, px, px$k)
  if (!is.null(grp) && coords == "metafor")
    .mf_stop("'subgroup' works in the automatic layout only (without 'xlim', 'rows', 'ilab.xpos' and 'textpos').")
  st$group <- if (is.null(grp)) NA_character_ else as.character(grp)
  order_expr <- substitute(order)
  dec <- .mf_forest_decreasing(hidden, order_expr)
  order <- .mf_forest_order_arg(order, order_expr, px)
  ord <- .mf_forest_order(order, st, grp, decreasing = dec)
  ps <- function(v, arg) if (is.null(v)) NULL else .mf_plot_per_study(v, px, arg)
  do.call(.mf_forest_draw, c(list(st = st, ord = ord, grp = grp, sums = NULL, fit_rows = NULL,
                  ilab = .mf_per_study(ilab, px, "ilab"), ilab.lab = ilab.lab,
                  annotate = annotate, showweights = showweights, addpred = FALSE,
                  header = header, transf = .mf_plot_tf(transf, targs, "transf"), refline = refline, digits = digits,
                  pi_label = "Prediction interval", level_pct = 100 * (1 - alpha),
                  measure = measure, transf_f = transf, atransf_f = atransf,
                  atransf = .mf_plot_tf(atransf, targs, "atransf"),
                  coords = coords, efac = efac, pch = if (missing(pch)) NULL else ps(pch, "pch"),
                  psize = if (missing(psize)) NULL else ps(psize, "psize"), plim = plim,
                  colout = if (missing(col)) NULL else ps(col, "col"),
                  shade = .mf_forest_shade(if (missing(shade)) NULL else shade, px),
                  colci = if (missing(colci)) NULL else ps(colci, "colci"),
                  xlab = if (missing(xlab)) NULL else xlab),
                  .mf_forest_hidden_args(hidden, .mf_forest_given_lty2(.mf_given(.mf_forest_given)))))
}

# The given lty of forest.default / forest.mf_cumul, marked as metafor's
# two-value form (see .mf_forest_hidden_args()).
.mf_forest_given_lty2 <- function(given) {
  if (!is.null(given$lty)) { given$lty2 <- given$lty; given$lty <- NULL }
  given
}

# metafor's forest() options read from `...` that metafast implements (`ours`:
# those of the method), and the graphical parameters among the other names
# (a list for par()).
.mf_forest_dots <- function(..., ours = .mf_forest_ours) {
  d <- list(...)
  nms <- names(d)
  if (is.null(nms)) nms <- rep("", length(d))
  hit <- nzchar(nms) & nms %in% ours
  out <- d[hit]
  out$par <- do.call(.mf_par_dots, d[!hit])
  out
}

# The arguments of the drawing engine from metafor's options read from `...`
# (one code path for fits, vectors and cumul() results), added to the given
# formals `given`: clim is metafor's older name of olim (it wins).
.mf_forest_hidden_args <- function(hidden, given) {
  if (!is.null(given$lty2)) {
    # forest() of vectors and of cumul() results: metafor's lty is (intervals,
    # horizontal rule)
    lt <- given$lty2
    if (!length(lt) || length(lt) > 2L) .mf_stop("'lty' must be one or two line types (intervals, horizontal rule).")
    given$lty <- c(lt[1L], "dotted", if (length(lt) == 2L) lt[2L] else "solid")
    given$lty2 <- NULL
  }
  if (!is.null(hidden$clim)) given$olim <- hidden$clim
  c(given, list(annosym = hidden$annosym, tabfig = hidden$tabfig, at_lab_user = hidden$at.lab, top = hidden$top,
                rowadj = hidden$rowadj, xlabadj = hidden$xlabadj, xlabfont = hidden$xlabfont))
}

# metafor's `decreasing` (read from `...`): sort keys given as a vector in
# `order` in decreasing order; a permutation order(...) is used as is.
.mf_forest_decreasing <- function(hidden, order_expr) {
  d <- hidden$decreasing
  if (is.null(d)) return(FALSE)
  if (!is.logical(d) || length(d) != 1L || is.na(d)) .mf_stop("'decreasing' must be TRUE or FALSE.")
  d && !(is.call(order_expr) && identical(order_expr[[1L]], as.name("order")))
}

# The density of the predictive distribution drawn by predstyle = "shade" /
# "dist" (metafor's construction): normal, or t with the fit's df, with mean
# the pooled estimate and sd sqrt(SE^2 + tau^2) (Riley, Higgins & Deeks 2011),
# on 10000 points between its 'level' quantiles ("shade") or its 1e-4 and
# 1 - 1e-4 quantiles ("dist"), or over 'predlim' (on the drawn scale);
# 'preddist' gives the points and densities instead (a list: x, density,
# optionally pi.lb, pi.ub and level; the interval from its trapezoid cdf by
# default).  With transf, the density of the transformed variable: the
# density divided by the derivative of the transformation.  Returns the
# points on the drawn scale, the tail sides of 'predtail', the prediction
# interval on the model's scale and its level (percent).
.mf_forest_pdist <- function(predstyle, pred, pi_se, pi_df, alpha, transf, targs, predlim, preddist, predtail) {
  lvl <- 100 * (1 - alpha)
  if (!is.null(predlim)) .mf_forest_predlim(predlim)
  tk <- if (is.null(transf) || is.null(predstyle) || !predstyle %in% c("shade", "dist")) NULL else .mf_forest_tkind(transf)
  if (!is.null(preddist)) {
    if (!is.list(preddist) || length(preddist) < 2L)
      .mf_stop("'preddist' must be a list (of length >= 2): the points and the density of the predictive distribution.")
    pdx <- preddist[[1L]]; pdy <- preddist[[2L]]
    if (!is.numeric(pdx) || !is.numeric(pdy) || anyNA(pdx) || anyNA(pdy))
      .mf_stop("'preddist[[1]]' and 'preddist[[2]]' must be numbers without missing values.")
    if (length(pdx) != length(pdy))
      .mf_stop("The length of 'preddist[[1]]' does not match the length of 'preddist[[2]]'.")
    if (length(pdx) < 2L) .mf_stop("'preddist' must give at least two points.")
    cdf <- cumsum(diff(pdx) * (pdy[-1L] + pdy[-length(pdy)]) / 2)
    cdf <- cdf / max(cdf)
    pl <- if (is.null(preddist$pi.lb)) pdx[which.min(abs(cdf - alpha / 2))] else .mf_plot_number(preddist$pi.lb, "preddist$pi.lb")
    pu <- if (is.null(preddist$pi.ub)) pdx[which.min(abs(cdf - (1 - alpha / 2)))] else .mf_plot_number(preddist$pi.ub, "preddist$pi.ub")
    if (!is.null(preddist$level)) lvl <- 100 * (1 - .mf_level(preddist$level))
  } else {
    crit <- if (is.finite(pi_df)) stats::qt(alpha / 2, pi_df, lower.tail = FALSE) else stats::qnorm(alpha / 2, lower.tail = FALSE)
    pl <- pred - crit * pi_se; pu <- pred + crit * pi_se
  }
  out <- list(pi.lb = pl, pi.ub = pu, level = lvl)
  if (is.null(predstyle) || !predstyle %in% c("shade", "dist")) return(out)
  dens <- function(v) if (is.finite(pi_df)) stats::dt((v - pred) / pi_se, pi_df) / pi_se else stats::dnorm(v, pred, pi_se)
  if (is.null(preddist)) {
    if (is.finite(pi_df) && pi_df <= 1)
      .mf_stop("Cannot shade / draw the predictive distribution when its df <= 1.")
    if (is.null(predlim) || predstyle == "shade") {
      q <- if (predstyle == "shade") c(alpha / 2, 1 - alpha / 2) else c(1e-4, 0.9999)
      crits <- if (is.finite(pi_df)) stats::qt(q, pi_df) * pi_se + pred else stats::qnorm(q, pred, pi_se)
      xs <- seq(crits[1L], crits[2L], length.out = 10000L)
    } else {
      xs <- seq(predlim[1L], predlim[2L], length.out = 10000L)
      if (!is.null(tk)) { xs <- suppressWarnings(tk$inv(xs)); xs <- xs[is.finite(xs)] }
    }
    ys <- dens(xs)
  } else {
    xs <- preddist[[1L]]; ys <- preddist[[2L]]
    if (!is.null(predlim)) {
      lim <- if (is.null(tk)) predlim else suppressWarnings(tk$inv(predlim))
      keep <- xs > lim[1L] & xs < lim[2L]
      xs <- xs[keep]; ys <- ys[keep]
    }
  }
  # the side of 'predtail' (default 0) away from the estimate is drawn in
  # col[3] (predstyle = "dist"; predtail "<v" / ">v" sets the side)
  tail_v <- 0; lower <- pred > 0
  if (!is.null(predtail)) {
    if (!(is.numeric(predtail) || is.character(predtail)) || length(predtail) != 1L || is.na(predtail))
      .mf_stop("'predtail' must be one number or one string such as \"<0.2\" or \">0\".")
    lower <- grepl("<", predtail, fixed = TRUE)
    tail_v <- suppressWarnings(as.numeric(gsub("[<=>]", "", predtail)))
    if (is.na(tail_v)) .mf_stop("'predtail' must be one number or one string such as \"<0.2\" or \">0\".")
  }
  l0 <- xs < tail_v; g0 <- xs > tail_v
  if (!is.null(tk)) {
    tfv <- .mf_plot_tf(transf, targs, "transf")
    xs <- tfv(xs)
    ys <- ys / tk$jac(xs)
    if (is.null(predlim)) {
      sel <- xs > tk$lim[1L] & xs < tk$lim[2L]
      xs <- xs[sel]; ys <- ys[sel]; l0 <- l0[sel]; g0 <- g0[sel]
    }
  }
  c(out, list(x = xs, y = ys, l0 = l0, g0 = g0, lower = lower, predlim = !is.null(predlim)))
}

.mf_forest_predlim <- function(predlim) {
  if (!is.numeric(predlim) || length(predlim) != 2L || anyNA(predlim))
    .mf_stop("'predlim' must be two numbers (the range of the predictive distribution drawn).")
  invisible(predlim)
}

# The transformations under which predstyle = "shade" / "dist" can draw the
# density (metafor's list): the inverse (for predlim), the derivative (the
# density of the transformed variable is divided by it) and the range kept
# when predlim is not given.
.mf_forest_tkind <- function(f) {
  kinds <- list(
    exp = list(f = c("exp"), inv = log, jac = function(x) x, lim = c(0.01, Inf)),
    ztor = list(f = c("transf.ztor", "tanh"), inv = atanh, jac = function(x) 1 - x^2, lim = c(-0.99, 0.99)),
    ilogit = list(f = c("transf.ilogit", "plogis"), inv = stats::qlogis, jac = function(x) x * (1 - x),
                  lim = c(0.01, 0.99)),
    iarcsin = list(f = "transf.iarcsin", inv = transf.arcsin, jac = function(x) 2 * sqrt(x * (1 - x)),
                   lim = c(0.01, 0.99)),
    iprobit = list(f = c("transf.iprobit", "pnorm"), inv = stats::qnorm, jac = function(x) stats::dnorm(stats::qnorm(x)),
                   lim = c(0.01, 0.99)),
    iahw = list(f = "transf.iahw", inv = transf.ahw, jac = function(x) 3 * (1 - x)^(2 / 3), lim = c(0.01, 0.99)),
    iabt = list(f = "transf.iabt", inv = transf.abt, jac = function(x) 1 - x, lim = c(0.01, 0.99)))
  dep <- deparse(f)
  cand <- function(nm) {
    out <- list(get0(nm, envir = asNamespace("metafast"), inherits = TRUE))
    if (isNamespaceLoaded("metafor")) out <- c(out, list(get0(nm, envir = asNamespace("metafor"), inherits = TRUE)))
    Filter(is.function, out)
  }
  for (kd in kinds) for (nm in kd$f) for (g in cand(nm))
    if (identical(f, g) || identical(dep, deparse(g))) return(kd)
  .mf_stop("predstyle = \"shade\" / \"dist\" with 'transf' needs one of the transformations exp, transf.ztor, tanh, transf.ilogit, plogis, transf.iarcsin, transf.iprobit, pnorm, transf.iahw, transf.iabt (as metafor).")
}

# "metafor" when one of metafor's coordinate arguments is given, else "auto".
.mf_forest_coords <- function(xlim, rows, ilab.xpos, textpos, ylim) {
  if (!missing(xlim) || !missing(rows) || !missing(ilab.xpos) || !missing(textpos) || !missing(ylim)) "metafor" else "auto"
}

.mf_flag <- function(v, arg) {
  if (!is.logical(v) || length(v) != 1L || is.na(v)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", arg))
  v
}

# addpred / predstyle as metafor: giving predstyle turns addpred on.
.mf_forest_pred_args <- function(addpred, predstyle, coords) {
  ps <- NULL
  if (!missing(predstyle)) {
    if (!is.character(predstyle) || length(predstyle) != 1L || is.na(predstyle))
      .mf_stop("'predstyle' must be one of \"line\", \"bar\", \"polygon\", \"shade\", \"dist\".")
    ps <- match.arg(predstyle, c("line", "bar", "polygon", "shade", "dist"))
  }
  ap <- if (missing(addpred)) (coords == "auto" || !is.null(ps)) else .mf_flag(addpred, "addpred")
  if (!missing(addpred) && isFALSE(addpred) && !is.null(ps)) ap <- TRUE
  if (is.null(ps) && coords == "metafor") ps <- "line"
  list(addpred = ap, predstyle = ps)
}

.mf_forest_mlab <- function(mlab) {
  # an expression (e.g. metafor's gallery: list(bquote(paste(...)))) is drawn
  # as such; its text stands in the returned layout
  if (is.list(mlab) && length(mlab) == 1L && is.language(mlab[[1L]])) mlab <- mlab[[1L]]
  if (is.language(mlab)) {
    ex <- as.expression(mlab)
    if (length(ex) != 1L) .mf_stop("'mlab' given as an expression must hold one expression.")
    return(structure(paste(deparse(ex[[1L]]), collapse = ""), expr = ex))
  }
  if (is.list(mlab)) mlab <- unlist(mlab)
  if (!(is.character(mlab) || is.numeric(mlab)) || !length(mlab) || length(mlab) > 2L || anyNA(mlab))
    .mf_stop("'mlab' must be one string (the label of the pooled estimate) or two (and of the prediction interval).")
  as.character(mlab)
}

# order given as a call order(...) is a permutation (metafor uses it as is):
# turn it into sort keys.
.mf_forest_order_arg <- function(order, expr, x) {
  if (is.null(order) || length(order) <= 1L) return(order)
  if (is.call(expr) && identical(expr[[1L]], as.name("order"))) {
    n <- length(order)
    if (n != x$k.all && n != x$k)
      .mf_stop(sprintf("'order' has %d values but the model uses %d of %d studies.", n, x$k, x$k.all))
    if (!all(sort(order) == seq_len(n))) .mf_stop("'order' given as order(...) must be a permutation.")
    key <- integer(n); key[order] <- seq_len(n)
    order <- key
  }
  .mf_per_study(order, x, "order")
}

# shade as metafor: TRUE / "zebra" / "zebra1" / "zebra2" / "all", a logical
# per study (of the data or of the studies used) or numbers (rows).
.mf_forest_shade <- function(shade, x) {
  if (is.null(shade) || isFALSE(shade)) return(NULL)
  if (is.character(shade)) {
    if (length(shade) != 1L || !shade %in% c("zebra", "zebra1", "zebra2", "all"))
      .mf_stop("'shade' must be TRUE, \"zebra\", \"zebra2\", \"all\", a logical per study or row numbers.")
    return(list(type = "char", v = shade))
  }
  if (is.logical(shade)) {
    if (length(shade) == 1L) return(if (isTRUE(shade)) list(type = "char", v = "zebra") else NULL)
    if (anyNA(shade)) .mf_stop("'shade' has missing values.")
    return(list(type = "logical", v = .mf_per_study(shade, x, "shade")))
  }
  if (is.numeric(shade) && all(is.finite(shade))) return(list(type = "numeric", v = shade))
  .mf_stop("'shade' must be TRUE, \"zebra\", \"zebra2\", \"all\", a logical per study or row numbers.")
}

# The subgroup factor of the used rows (NULL without subgroups).
.mf_forest_groups <- function(subgroup, x, k) {
  if (is.null(subgroup)) return(NULL)
  g <- .mf_per_study(subgroup, x, "subgroup")
  if (is.data.frame(g) || is.matrix(g)) .mf_stop("'subgroup' must be a vector or factor, not a table.")
  if (anyNA(g)) .mf_stop(sprintf("'subgroup' has missing values in %s.", .mf_rows(is.na(g))))
  droplevels(as.factor(g))
}

# Display order of the studies (indices into the study table), within
# subgroups when given.  keys: further named sort keys (fit, resid, ...).
.mf_forest_order <- function(order, st, grp, keys = list(), decreasing = FALSE) {
  k <- nrow(st)
  ties <- seq_len(k)
  if (is.null(order)) key <- seq_len(k) else if (is.character(order) && length(order) == 1L && k != 1L) {
    key <- switch(order, obs = , yi = st$yi, prec = , vi = { ties <- st$yi; st$vi }, weight = -st$weight,
                  fit = , resid = , abs.resid = , rstandard = , abs.rstandard =
                    if (is.null(keys[[order]])) NULL else { if (order != "fit") ties <- st$yi; keys[[order]] },
                  NULL)
    if (is.null(key))
      .mf_stop("'order' must be NULL, \"obs\", \"prec\", \"weight\" (or for fits \"fit\", \"resid\", \"rstandard\", \"abs.resid\", \"abs.rstandard\") or one sort key per study.")
  } else {
    if (length(order) != k) .mf_stop(sprintf("'order' has %d values but %d studies are drawn.", length(order), k))
    # (metafor's decreasing: sort keys given as a vector in decreasing
    # order, ties in data order)
    key <- if (isTRUE(decreasing)) -xtfrm(order) else order
  }
  if (is.null(grp)) base::order(key, ties) else base::order(as.integer(grp), key, ties)
}

# Refit the model of x to the studies idx (a subgroup); NULL if it fails.
.mf_forest_subfit <- function(x, idx, alpha = x$level) {
  yg <- x$yi[idx]; vg <- x$vi[idx]
  wg <- if (is.null(x$weights)) NULL else x$weights[idx]
  if (length(idx) < 1L) return(NULL)
  method <- if (length(idx) < 2L) "EE" else x$method
  fit <- tryCatch(suppressWarnings(rma(yi = yg, vi = vg, weights = wg, method = method, test = x$test,
                                       level = 100 * (1 - alpha))),
                  error = function(e) NULL)
  if (is.null(fit)) return(NULL)
  out <- .mf_plot_pooled(fit)
  if (length(idx) < 2L) { out$pi.lb <- NA_real_; out$pi.ub <- NA_real_; out$I2 <- NA_real_ }
  out
}

# metafor's short name of a measure for the right header ("Log[RR]", or
# "Risk Ratio" when transf / atransf is exp, ...); "Estimate" otherwise.
.mf_forest_short <- function(measure, transf = NULL, atransf = NULL) {
  m <- if (is.character(measure) && length(measure) == 1L) measure else "GEN"
  f <- if (!is.null(transf)) transf else atransf
  logs <- c(RR = "RR", OR = "OR", PETO = "OR", D2ORL = "OR", D2ORN = "OR", IRR = "IRR", ROM = "RoM", ROMC = "RoM",
            VR = "VR", VRC = "VR", CVR = "CVR", CVRC = "CVR", PLN = "Pr", PLO = "Odds", IRLN = "IR", MNLN = "Mean",
            CVLN = "CV", SDLN = "SD")
  back <- c(RR = "Risk Ratio", OR = "Odds Ratio", PETO = "Odds Ratio", D2ORL = "Odds Ratio", D2ORN = "Odds Ratio",
            IRR = "Rate Ratio", ROM = "Ratio of Means", ROMC = "Ratio of Means", VR = "VR", VRC = "VR", CVR = "CVR",
            CVRC = "CVR", PLN = "Proportion", PLO = "Odds", IRLN = "Rate", MNLN = "Mean", CVLN = "CV", SDLN = "SD")
  plain <- c(RD = "Risk Difference", AS = "Arcsine RD", PHI = "Phi", YUQ = "Yule's Q", YUY = "Yule's Y",
             RTET = "Correlation", IRD = "IRD", IRSD = "IRSD", MD = "MD", SMD = "SMD", SMDH = "SMD", SMD1 = "SMD",
             COR = "Correlation", UCOR = "Correlation", PCOR = "Correlation", SPCOR = "Correlation",
             RPB = "Correlation", RBIS = "Correlation", PR = "Proportion", PFT = "PFT", IR = "Rate", IRFT = "IRFT",
             MN = "Mean", SMN = "Std. Mean", MC = "Mean Change", SMCC = "SMC", SMCR = "SMC", SMCRH = "SMC",
             ARAW = "Alpha", ZCOR = "Fisher's z", ZPCOR = "Fisher's z", ZTET = "Fisher's z", ZBIS = "Fisher's z",
             ZPHI = "Fisher's z", ZPB = "Fisher's z", PAS = "arcsin(sqrt(p))", IRS = "Sqrt[IR]")
  z_back <- c(ZCOR = "Correlation", ZPCOR = "Correlation", ZTET = "Correlation", ZBIS = "Correlation",
              ZPB = "Correlation", ZPHI = "Phi")
  same <- function(cands) any(vapply(cands, function(g) identical(f, g) || identical(deparse(f), deparse(g)), logical(1)))
  if (is.null(f)) {
    if (m %in% names(logs)) return(sprintf("Log[%s]", logs[[m]]))
    if (m %in% names(plain)) return(plain[[m]])
    return("Estimate")
  }
  if (m %in% names(back) && same(list(exp, transf.exp.int))) return(back[[m]])
  if (m == "PLO" && same(list(transf.ilogit, stats::plogis))) return("Proportion")
  if (m %in% names(z_back) && same(list(transf.ztor, tanh))) return(z_back[[m]])
  if (m == "PAS" && same(list(transf.iarcsin))) return("Proportion")
  if (m == "PFT" && same(list(transf.ipft.hm))) return("Proportion")
  if (m == "IRS" && same(list(transf.isqrt))) return("Rate")
  "Estimate"
}

# Axis tick labels as metafor: 'digits' decimals; an integer 'digits' (the
# default 2L) drops trailing zeros (0.05, 0.1, 1, 4), a double keeps them.
.mf_forest_at_lab <- function(v, digits) {
  d <- as.integer(round(digits))
  out <- formatC(round(v, d), format = "f", digits = d)
  if (is.integer(digits) && d > 0L) out <- sub("\\.$", "", sub("0+$", "", out))
  out[grepl("^-0(\\.0*)?$", out)] <- sub("^-", "", out[grepl("^-0(\\.0*)?$", out)])
  out
}

# Colour helper: the argument or a default, recycled.
.mf_forest_vec <- function(v, n, default) {
  if (is.null(v)) v <- default
  rep_len(v, n)
}

# The drawing engine shared by all methods.
.mf_forest_draw <- function(st, ord, grp, sums, fit_rows, ilab, ilab.lab, annotate, showweights,
                            addpred, header, xlab, transf, refline, digits, cex, main, alim, pi_label,
                            level_pct = 95, measure = NULL, transf_f = NULL, atransf_f = NULL, atransf = NULL,
                            coords = "auto", xlim = NULL, at = NULL, steps = NULL, olim = NULL, ilab.xpos = NULL,
                            ilab.pos = NULL, textpos = NULL, rows = NULL, predstyle = NULL, efac = 1, pch = NULL,
                            psize = NULL, plim = c(0.5, 1.5), colout = NULL, col = NULL, border = NULL,
                            shade = NULL, colshade = NULL, lty = NULL, int_only = TRUE, ylim_user = NULL,
                            colci = NULL, cex.lab = NULL, cex.axis = NULL, width = NULL, fonts = NULL,
                            pdist = NULL, annosym = NULL, tabfig = NULL, at_lab_user = NULL, top = NULL,
                            rowadj = NULL, xlabadj = NULL, xlabfont = NULL, mlab_expr = NULL) {
  # ---- arguments -----------------------------------------------------------
  if (!is.numeric(digits) || !length(digits) || length(digits) > 3L || any(!is.finite(digits)) || any(digits < 0))
    .mf_stop("'digits' must be one to three non-negative numbers (annotations, axis labels, weights).")
  dig_ax <- if (length(digits) >= 2L) digits[2L] else digits[1L]
  dig_w <- if (length(digits) >= 3L) digits[3L] else if (coords == "metafor") digits[1L] else 1L
  digits <- digits[1L]
  if (is.null(refline) || isFALSE(refline) || (length(refline) == 1L && is.na(refline))) refline <- NULL
  if (!is.null(refline)) refline <- .mf_plot_number(refline, "refline")
  if (!is.null(cex)) cex <- .mf_plot_number(cex, "cex")
  if (!is.null(cex.lab)) cex.lab <- .mf_plot_number(cex.lab, "cex.lab")
  if (!is.null(cex.axis)) cex.axis <- .mf_plot_number(cex.axis, "cex.axis")
  if (!is.null(alim)) {
    if (!is.numeric(alim) || length(alim) != 2L || any(!is.finite(alim)) || alim[1L] == alim[2L])
      .mf_stop("'alim' must be two different finite numbers, e.g. c(-1, 2).")
    alim <- sort(alim)
  }
  if (!is.null(xlim)) {
    if (!is.numeric(xlim) || length(xlim) != 2L || any(!is.finite(xlim)) || xlim[1L] == xlim[2L])
      .mf_stop("'xlim' must be two different finite numbers, e.g. c(-16, 6).")
    xlim <- sort(xlim)
  }
  if (!is.null(at) && (!is.numeric(at) || !length(at) || any(!is.finite(at))))
    .mf_stop("'at' must be finite numbers (the tick positions).")
  if (!is.null(steps) && (!is.numeric(steps) || length(steps) != 1L || !is.finite(steps) || steps < 2))
    .mf_stop("'steps' must be a single number of at least 2.")
  if (!is.null(olim)) {
    if (!is.numeric(olim) || length(olim) != 2L || anyNA(olim)) .mf_stop("'olim' must be two numbers.")
    olim <- sort(olim)
  }
  if (!is.null(textpos) && (!is.numeric(textpos) || length(textpos) != 2L))
    .mf_stop("'textpos' must be two numbers (where the labels start and the annotations end).")
  if (!is.numeric(efac) || !length(efac) || length(efac) > 4L || any(is.na(efac)) || any(efac < 0))
    .mf_stop("'efac' must be one to four non-negative numbers.")
  efac <- switch(length(efac), rep(efac, 4L), efac[c(1, 1, 2, 2)], efac[c(1, 2, 3, 3)], efac)
  if (!is.null(lty)) {
    if (length(lty) > 3L || !length(lty)) .mf_stop("'lty' must be one to three line types.")
    lty <- c(lty, c("solid", "dotted", "solid")[-seq_along(lty)])
  }
  if (!is.null(transf) && !is.null(atransf))
    .mf_stop("Use either 'transf' or 'atransf' to specify a transformation (not both).")
  annotate <- isTRUE(annotate); showweights <- isTRUE(showweights); addpred <- isTRUE(addpred)
  metafor <- coords == "metafor"
  # metafor's options read from `...`: annosym (the brackets, separator,
  # minus sign and space of the annotations), tabfig (a minus sign or en dash
  # of the width of a figure), rowadj (vertical shifts of the labels, the
  # annotations and the ilab columns), top (rows above the top study)
  annosym <- .mf_forest_annosym(annosym, tabfig)
  asym <- function(v) gsub(" ", annosym[5L], gsub("-", annosym[4L], v, fixed = TRUE), fixed = TRUE)
  radj <- c(0, 0, 0)
  if (!is.null(rowadj)) {
    if (!is.numeric(rowadj) || !length(rowadj) %in% 1:3 || any(!is.finite(rowadj)))
      .mf_stop("'rowadj' must be one to three numbers (shifts of the labels, the annotations and the ilab columns).")
    radj <- switch(length(rowadj), c(rowadj, rowadj, 0), c(rowadj, 0), rowadj)
  }
  if (!is.null(top)) {
    if (!metafor) .mf_stop("'top' sets the rows above the studies in metafor's coordinates: give 'xlim' or 'rows' as well.")
    top <- .mf_plot_number(top, "top")
  } else top <- 3
  # fonts as metafor: font families of the labels, the annotations and the
  # ilab columns (one to three; names of a named vector are the families and
  # its values the fonts, which are not supported)
  ffam <- rep(graphics::par("family"), 3L)
  ffont <- rep(graphics::par("font"), 3L)
  if (is.numeric(fonts) && is.null(names(fonts)) && length(fonts) == 1L && fonts %in% 1:4) {
    # font = 2 matches 'fonts' partially: taken as par(font =), as before
    ofont <- graphics::par(font = fonts)
    on.exit(graphics::par(ofont), add = TRUE)
    ffont <- rep(fonts, 3L)
    fonts <- NULL
  }
  if (!is.null(fonts) && !is.null(names(fonts))) {
    # metafor: a named vector, the names the families and the values the fonts
    if (!is.numeric(fonts) || !length(fonts) %in% 1:3 || any(!fonts %in% 1:5) || anyNA(names(fonts)))
      .mf_stop("'fonts' as a named vector must have one to three font numbers (1 to 5) named by their families, e.g. c(sans = 1, mono = 2).")
    ix <- switch(length(fonts), c(1L, 1L, 1L), c(1L, 2L, 1L), 1:3)
    ffam <- names(fonts)[ix]; ffont <- unname(fonts)[ix]
    fonts <- NULL
  }
  if (!is.null(fonts)) {
    if (!is.character(fonts) || !length(fonts) %in% 1:3 || anyNA(fonts))
      .mf_stop("'fonts' must be one to three font families (labels, annotations, ilab columns), e.g. c(\"sans\", \"mono\").")
    ffam <- switch(length(fonts), rep(fonts, 3L), fonts[c(1L, 2L, 1L)], fonts)
  }
  k <- nrow(st)
  # values on the drawn scale
  tr <- .mf_transf(transf, st$yi, st$ci.lb, st$ci.ub)
  st$est <- tr$est; st$lb <- tr$lb; st$ub <- tr$ub
  if (!is.null(sums)) {
    tr <- .mf_transf(transf, sums$estimate, sums$ci.lb, sums$ci.ub)
    sums$estimate <- tr$est; sums$ci.lb <- tr$lb; sums$ci.ub <- tr$ub
    tr <- .mf_transf(transf, sums$pi.lb, sums$pi.lb, sums$pi.ub)
    sums$pi.lb <- tr$lb; sums$pi.ub <- tr$ub
  }
  if (!is.null(fit_rows)) {
    tr <- .mf_transf(transf, fit_rows$estimate, fit_rows$ci.lb, fit_rows$ci.ub)
    fit_rows <- data.frame(estimate = tr$est, ci.lb = tr$lb, ci.ub = tr$ub)
  }
  if (!is.null(olim)) {
    cl <- function(v) ifelse(is.na(v), v, pmin(pmax(v, olim[1L]), olim[2L]))
    st$est <- cl(st$est); st$lb <- cl(st$lb); st$ub <- cl(st$ub)
    if (!is.null(sums)) for (nm in c("estimate", "ci.lb", "ci.ub", "pi.lb", "pi.ub")) sums[[nm]] <- cl(sums[[nm]])
    if (!is.null(fit_rows)) for (nm in names(fit_rows)) fit_rows[[nm]] <- cl(fit_rows[[nm]])
  }
  # ilab as a character matrix
  if (!is.null(ilab)) {
    ilab <- as.data.frame(ilab, stringsAsFactors = FALSE)
    ilab <- vapply(ilab, function(col) {
      out <- if (is.numeric(col)) format(col, trim = TRUE) else as.character(col)
      out[is.na(col)] <- ""
      out
    }, character(nrow(ilab)))
    ilab <- matrix(ilab, nrow = k)
    if (!is.null(ilab.lab) && length(ilab.lab) != ncol(ilab))
      .mf_stop(sprintf("'ilab.lab' has %d labels but 'ilab' has %d columns.", length(ilab.lab), ncol(ilab)))
  }
  nil <- if (is.null(ilab)) 0L else ncol(ilab)
  if (!is.null(ilab.xpos)) {
    if (!is.numeric(ilab.xpos) || any(!is.finite(ilab.xpos))) .mf_stop("'ilab.xpos' must be finite numbers.")
    if (length(ilab.xpos) != nil)
      .mf_stop(sprintf("'ilab.xpos' has %d positions but 'ilab' has %d columns.", length(ilab.xpos), nil))
  }
  if (!is.null(ilab.pos)) {
    if (!is.numeric(ilab.pos) || any(!ilab.pos %in% 1:4) || !length(ilab.pos) %in% c(1L, nil))
      .mf_stop("'ilab.pos' must be text() positions (1 to 4): one, or one per 'ilab' column.")
    ilab.pos <- rep_len(ilab.pos, nil)
  }
  # header strings (metafor: header TRUE = "Study" and the measure's label)
  hdr_right <- paste0(.mf_forest_short(measure, transf_f, atransf_f), annosym[1L], format(level_pct), "% CI", annosym[3L])
  hdr <- NULL
  if (isTRUE(header)) hdr <- c("Study", hdr_right) else if (is.character(header)) {
    if (!length(header) || length(header) > 2L || anyNA(header)) .mf_stop("'header' must be TRUE, FALSE or one or two strings.")
    hdr <- if (length(header) == 1L) c(header, hdr_right) else header
  } else if (!isFALSE(header)) .mf_stop("'header' must be TRUE, FALSE or one or two strings.")
  if (!is.null(hdr) && !annotate) hdr[2L] <- ""

  # ---- rows, top to bottom ------------------------------------------------
  # type: group / study / sub / blank / overall / pi
  items <- list()
  add <- function(type, label = "", i = NA_integer_, s = NA_integer_)
    items[[length(items) + 1L]] <<- list(type = type, label = label, i = i, s = s)
  glev <- if (is.null(grp)) NA_character_ else levels(grp)
  for (g in glev) {
    idx <- if (is.na(g)) ord else ord[st$group[ord] == g]
    if (!is.na(g)) add("group", g)
    for (i in idx) add("study", st$slab[i], i = i)
    if (!is.na(g) && !is.null(sums)) {
      s <- which(sums$group == g)
      if (length(s)) add("sub", sums$label[s[1L]], s = s[1L])
    }
    if (!is.na(g)) add("blank")
  }
  ov <- if (is.null(sums)) integer(0) else which(is.na(sums$group))
  pi_own_row <- is.null(predstyle) || predstyle != "line"
  if (length(ov)) {
    if (is.null(grp)) add("blank")
    add("overall", sums$label[ov], s = ov)
    if (addpred && !is.na(sums$pi.lb[ov]) && pi_own_row) add("pi", pi_label, s = ov)
  } else if (!is.null(grp) && length(items) && items[[length(items)]]$type == "blank") {
    items[[length(items)]] <- NULL
  }
  if (metafor) items <- items[vapply(items, `[[`, "", "type") != "blank"]
  n <- length(items)
  types <- vapply(items, `[[`, "", "type")
  if (!metafor) {
    top_pad <- if (is.null(hdr) && nil == 0L) 0.5 else 1.6
    ys <- rev(seq_len(n))  # first item at the top
    ylim <- c(0.4, n + top_pad)
    y_hdr <- n + 1; y_rule_top <- n + 0.5
    y_rule_ov <- if (length(ov)) ys[types == "overall"] + 0.6 else NULL
    study_rows <- NULL
  } else {
    # metafor's rows: studies on 'rows' (default k:1), the pooled estimate on
    # -1, the prediction interval row (bar / polygon) on -2
    if (is.null(rows)) rows <- k:1 else {
      if (!is.numeric(rows) || any(!is.finite(rows))) .mf_stop("'rows' must be finite numbers.")
      if (length(rows) == 1L) rows <- rows:(rows - k + 1)
      if (length(rows) != k)
        .mf_stop(sprintf("'rows' has %d values but %d studies are drawn (give one per study, or the top row).",
                         length(rows), k))
    }
    ys <- numeric(n)
    ys[types == "study"] <- rows
    ys[types == "overall"] <- -1
    ys[types == "pi"] <- -2
    top_row <- max(rows)
    ylim <- c(if (length(ov)) (if (any(types == "pi")) -3 else -2) else 0, top_row + top)
    if (!is.null(ylim_user)) {
      if (!is.numeric(ylim_user) || !length(ylim_user) %in% 1:2 || any(!is.finite(ylim_user)))
        .mf_stop("'ylim' must be one or two finite numbers (the bottom, or the bottom and top of the plot).")
      ylim <- if (length(ylim_user) == 1L) c(ylim_user, top_row + top) else sort(ylim_user)
      if (ylim[1L] == ylim[2L]) .mf_stop("'ylim' must be two different numbers.")
    }
    # (metafor's 'top': the rows above the top study; header and rule keep
    # their places above it)
    y_rule_top <- ylim[2L] - (top - 1); y_hdr <- y_rule_top + 1
    y_rule_ov <- if (length(ov)) 0 else NULL
    study_rows <- rows
  }

  # ---- text of the annotation columns ------------------------------------
  ann <- rep("", n); wtx <- rep("", n); ann_widths <- c(0L, 0L, 0L)
  si <- vapply(items, `[[`, 1L, "i"); ss <- vapply(items, `[[`, 1L, "s")
  if (annotate) {
    est_all <- c(st$est, if (!is.null(sums)) sums$estimate)
    lb_all <- c(st$lb, if (!is.null(sums)) sums$ci.lb)
    ub_all <- c(st$ub, if (!is.null(sums)) sums$ci.ub)
    if (!is.null(sums)) {
      est_all <- c(est_all, rep(NA, nrow(sums))); lb_all <- c(lb_all, sums$pi.lb); ub_all <- c(ub_all, sums$pi.ub)
    }
    if (!is.null(atransf)) {
      tr <- .mf_transf(atransf, est_all, lb_all, ub_all)
      est_all <- tr$est; lb_all <- tr$lb; ub_all <- tr$ub
    }
    # format jointly so the columns share widths
    el <- .mf_fmt(est_all, digits); ll <- .mf_fmt(lb_all, digits); ul <- .mf_fmt(ub_all, digits)
    if (!is.null(width)) {
      # metafor's width: characters of the annotation columns (estimate,
      # lower, upper; with showweights the weights first)
      nw <- 3L + as.integer(showweights)
      if (!is.numeric(width) || !length(width) %in% c(1L, nw) || any(!is.finite(width)) || any(width < 0))
        .mf_stop(sprintf("'width' must be one number or %d (the characters of the annotation columns%s).", nw,
                         if (showweights) ": weights, estimate, lower and upper bound" else ": estimate, lower and upper bound"))
      width <- rep_len(width, nw)
      if (showweights) { w_width <- width[1L]; width <- width[-1L] }
      el <- formatC(el, width = width[1L]); ll <- formatC(ll, width = width[2L]); ul <- formatC(ul, width = width[3L])
    }
    ann_widths <- c(max(nchar(el)), max(nchar(ll)), max(nchar(ul)))
    ns <- if (is.null(sums)) 0L else nrow(sums)
    for (j in seq_len(n)) {
      if (types[j] == "study") {
        i <- si[j]; if (!is.na(est_all[i])) ann[j] <- asym(paste0(el[i], annosym[1L], ll[i], annosym[2L], ul[i], annosym[3L]))
      } else if (types[j] %in% c("sub", "overall")) {
        i <- k + ss[j]; ann[j] <- asym(paste0(el[i], annosym[1L], ll[i], annosym[2L], ul[i], annosym[3L]))
      } else if (types[j] == "pi") {
        i <- k + ns + ss[j]; ann[j] <- asym(paste0(sub("^ +", "", annosym[1L]), ll[i], annosym[2L], ul[i], annosym[3L]))
      }
    }
  }
  if (showweights) {
    wfmt <- formatC(st$weight, format = "f", digits = dig_w)
    if (!is.null(width) && annotate && exists("w_width", inherits = FALSE)) wfmt <- formatC(wfmt, width = w_width)
    for (j in which(types == "study")) wtx[j] <- paste0(wfmt[si[j]], "%")
    for (j in which(types == "overall")) wtx[j] <- "100%"
    if (!is.null(grp)) for (j in which(types == "sub")) {
      g <- sums$group[ss[j]]
      wtx[j] <- paste0(formatC(sum(st$weight[st$group == g]), format = "f", digits = dig_w), "%")
    }
  }
  showw <- showweights && any(nzchar(wtx))
  showa <- annotate

  # ---- device and layout -------------------------------------------------
  op <- graphics::par(no.readonly = TRUE)
  # restore the margins only (as metafor): the user coordinates of the plot
  # and its clipping region stay, so that text() / addpoly() land where the
  # plot put its rows (setting xpd would reset the clipping region)
  on.exit(graphics::par(mar = op$mar), add = TRUE)
  has_main <- !is.null(main) && nzchar(main)
  graphics::par(mar = c(4.1, 0.8, if (has_main) 2.5 else 0.8, 0.8), xpd = FALSE)
  graphics::plot.new()
  pin <- graphics::par("pin")
  rowh <- pin[2L] / diff(ylim)                 # inches per row
  sw <- function(s, font = 1, j = 1L) if (length(s)) max(graphics::strwidth(s, units = "inches", cex = 1, font = font,
                                                                            family = ffam[j]), 0) else 0
  lab_w <- max(sw(vapply(items[types %in% c("study", "sub", "pi")], `[[`, "", "label")),
               sw(if (is.null(mlab_expr)) vapply(items[types == "overall"], `[[`, "", "label") else mlab_expr,
                  font = if (metafor) 1 else 2),
               sw(vapply(items[types == "group"], `[[`, "", "label"), font = 2), if (!is.null(hdr)) sw(hdr[1L], 2))
  il_w <- if (nil) vapply(seq_len(nil), function(j) max(sw(ilab[, j], j = 3L), if (!is.null(ilab.lab)) sw(ilab.lab[j], 2, 3L)), 0) else numeric(0)
  an_w <- if (showa) max(sw(ann, j = 2L), if (!is.null(hdr)) sw(hdr[2L], 2, 2L)) else 0
  w_w <- if (showw) max(sw(wtx, j = 2L), if (!metafor) sw("Weight", 2, 2L)) else 0
  gap <- 1.5 * sw("m")
  ncol_txt <- 1L + nil + as.integer(showa) + as.integer(showw)
  text_w1 <- lab_w + sum(il_w) + an_w + w_w + gap * (ncol_txt + 1)   # at cex = 1
  text_h1 <- graphics::strheight("Ag", units = "inches", cex = 1)
  cex_v <- rowh / (1.4 * text_h1)
  vals <- c(st$lb, st$ub, st$est, refline)
  if (!is.null(sums)) vals <- c(vals, sums$ci.lb, sums$ci.ub, if (addpred) c(sums$pi.lb, sums$pi.ub))
  if (!is.null(fit_rows)) vals <- c(vals, fit_rows$ci.lb, fit_rows$ci.ub)
  vals <- vals[is.finite(vals)]
  if (!length(vals)) vals <- c(-1, 1)
  ci_rng <- range(c(st$lb, st$ub), na.rm = TRUE)
  if (!all(is.finite(ci_rng))) ci_rng <- range(vals)

  if (!metafor) {
    cex_user <- cex
    if (is.null(cex)) {
      cex_h <- 0.62 * pin[1L] / text_w1
      cex <- min(1, cex_v, cex_h)
    }
    panel_w <- pin[1L] - cex * text_w1
    if (panel_w <= 0.1 * pin[1L]) panel_w <- 0.1 * pin[1L]
    nt <- max(2, min(6, floor(panel_w / (0.6 * max(cex, 0.5)))))
    if (is.null(alim) && is.null(at)) {
      # about one tick label per 0.6 inch of panel at the drawn text size
      at <- pretty(range(vals), n = nt)
      alim <- range(at)
    } else if (is.null(alim)) {
      alim <- range(at)
    } else if (is.null(at)) {
      if (!is.null(steps)) at <- seq(alim[1L], alim[2L], length.out = steps) else {
        at <- pretty(alim, n = nt)
        at <- at[at >= alim[1L] - 1e-12 * diff(alim) & at <= alim[2L] + 1e-12 * diff(alim)]
      }
    }
    if (diff(alim) == 0) { alim <- alim + c(-1, 1); at <- pretty(alim) }
    u <- diff(alim) / panel_w                    # user units per inch
    left_in <- cex * (lab_w + sum(il_w) + gap * (1 + nil)) + cex * gap / 2
    right_in <- cex * (an_w + w_w + gap * (as.integer(showa) + as.integer(showw))) + cex * gap / 2
    xlim <- c(alim[1L] - left_in * u, alim[2L] + right_in * u)
    textpos <- xlim
    x_il <- numeric(nil)
    pos <- xlim[1L] + cex * (lab_w + gap) * u
    for (j in seq_len(nil)) { x_il[j] <- pos + cex * il_w[j] / 2 * u; pos <- pos + cex * (il_w[j] + gap) * u }
    il_pos <- ilab.pos
    # text(pos = 2 / 4) anchors at the column's right / left edge
    if (!is.null(il_pos)) x_il <- x_il + ifelse(il_pos == 2, 1, ifelse(il_pos == 4, -1, 0)) * cex * il_w / 2 * u
  } else {
    # metafor's axis limits and ticks
    stp <- if (is.null(steps)) 5 else steps
    if (is.null(alim)) {
      if (is.null(at)) { at <- pretty(ci_rng, n = stp - 1); alim <- range(at) } else alim <- range(at)
    } else if (is.null(at)) at <- seq(alim[1L], alim[2L], length.out = stp)
    if (diff(alim) == 0) alim <- alim + c(-1, 1)
    if (is.null(xlim)) {
      # metafor's default limits: label, panel and annotation areas in the
      # proportions 40 (25 without labels) + 5 per ilab column : rest : 25
      # (30 with weights, 10 without annotations)
      a_sl <- 40 + 5 * nil; a_an <- if (annotate) (if (showweights) 30 else 25) else 10
      a_fo <- 100 + 5 * nil - a_sl - a_an
      f1 <- max(min(st$lb, na.rm = TRUE), alim[1L]); f2 <- min(max(st$ub, na.rm = TRUE), alim[2L])
      if (!is.finite(f1) || !is.finite(f2) || f1 == f2) { f1 <- alim[1L]; f2 <- alim[2L] }
      rng <- f2 - f1
      xlim <- round(c(f1 - rng * a_sl / a_fo, f2 + rng * a_an / a_fo), dig_ax)
    }
    if (is.null(textpos)) textpos <- xlim
    textpos[is.na(textpos)] <- xlim[is.na(textpos)]
    u <- diff(xlim) / pin[1L]
    if (nil) {
      if (is.null(ilab.xpos)) {
        dist <- min(st$lb, na.rm = TRUE) - xlim[1L]
        fr <- switch(min(nil, 4L), 0.75, c(0.65, 0.85), c(0.60, 0.75, 0.90), seq(0.5, 0.9, length.out = nil))
        ilab.xpos <- xlim[1L] + dist * fr
      }
      x_il <- ilab.xpos
    } else x_il <- numeric(0)
    il_pos <- ilab.pos
    if (is.null(cex)) {
      # shrink the text so that the label column ends before the first ilab
      # column (or the panel) and the annotations start after the panel
      il_left <- if (nil) x_il - (if (is.null(il_pos)) il_w / 2 * u else ifelse(il_pos == 2, il_w * u, ifelse(il_pos == 4, 0, il_w / 2 * u))) else numeric(0)
      lab_room <- (min(c(il_left, alim[1L])) - textpos[1L]) / u
      ann_room <- (textpos[2L] - alim[2L]) / u
      cs <- c(1, cex_v)
      if (lab_room > 0 && lab_w > 0) cs <- c(cs, 0.97 * lab_room / (lab_w + gap / 2))
      need_r <- an_w + w_w + (if (showw) gap else 0) + gap / 2
      if (ann_room > 0 && need_r > 0 && showa) cs <- c(cs, 0.97 * ann_room / need_r)
      cex <- max(0.3, min(cs))
    }
  }
  at <- sort(unique(pmin(pmax(at, alim[1L]), alim[2L])))
  graphics::plot.window(xlim = xlim, ylim = ylim, xaxs = "i", yaxs = "i")
  # metafor places its text with text(pos = 4 / 2): half a character in
  x_off <- if (metafor) 0.5 * graphics::par("cin")[1L] * cex * u else 0
  x_lab <- textpos[1L] + x_off
  x_ann <- textpos[2L] - x_off
  x_w <- if (showa) x_ann - cex * (an_w + gap) * u else x_ann

  # ---- drawing -----------------------------------------------------------
  # the axis and the titles first, so that the last drawing is in the plot
  # region and later text() / addpoly() calls keep its clipping region
  at_lab <- if (!is.null(at_lab_user)) {
    if (!(is.character(at_lab_user) || is.numeric(at_lab_user) || is.expression(at_lab_user)) ||
        length(at_lab_user) != length(at))
      .mf_stop(sprintf("'at.lab' must give one label per tick (%d ticks at %s).", length(at), paste(format(at), collapse = ", ")))
    at_lab_user
  } else if (is.null(atransf)) .mf_forest_at_lab(at, dig_ax) else .mf_forest_at_lab(atransf(at), dig_ax)
  cex_axis <- if (!is.null(cex.axis)) cex.axis else max(cex, 0.5)
  cex_lab <- if (!is.null(cex.lab)) cex.lab else max(cex, 0.6)
  graphics::axis(1, at = at, labels = at_lab, cex.axis = cex_axis,
                 mgp = c(3, 0.5 * max(cex, 0.6) + 0.2, 0), tcl = -0.3)
  if (is.null(xlab)) xlab <- .mf_measure_label(measure, transf_f, atransf_f, default = "Observed Outcome")
  if (!is.character(xlab) && !is.expression(xlab) || !length(xlab) %in% 1:3)
    .mf_stop("'xlab' must be one, two or three labels (as metafor: under the left end, the middle and the right end of the axis).")
  xl_at <- switch(length(xlab), mean(range(at)), range(at), c(min(at), mean(range(at)), max(at)))
  # metafor's xlabadj (adj of the labels at the ends of the axis; one value
  # a for the left one, 1 - a for the right one) and xlabfont (the font of
  # the labels; a second value for the middle one of three)
  if (!is.null(xlabadj) && (!is.numeric(xlabadj) || !length(xlabadj) %in% 1:2))
    .mf_stop("'xlabadj' must be one or two numbers (the adj of the labels at the ends of the axis).")
  if (!is.null(xlabfont) && (!is.numeric(xlabfont) || !length(xlabfont) %in% 1:2 || any(!xlabfont %in% 1:5)))
    .mf_stop("'xlabfont' must be one or two font numbers (1 to 5).")
  xadj <- if (is.null(xlabadj)) c(NA, NA) else if (length(xlabadj) == 1L) c(xlabadj, 1 - xlabadj) else xlabadj
  xfont <- if (is.null(xlabfont)) c(1, NA) else c(xlabfont[1L], if (length(xlabfont) > 1L) xlabfont[2L] else NA)
  xl_adj <- switch(length(xlab), NA, xadj, c(xadj[1L], NA, xadj[2L]))
  xl_font <- switch(length(xlab), xfont[1L], xfont[c(1L, 1L)], xfont[c(1L, 2L, 1L)])
  for (j in seq_along(xlab)) graphics::mtext(xlab[j], side = 1, line = 2.2, at = xl_at[j], cex = cex_lab,
                                             adj = xl_adj[j], font = xl_font[j])
  if (has_main) graphics::title(main = main, line = 1, cex.main = max(cex, 0.7) * 1.1)
  colout <- .mf_forest_vec(colout, k, "black")
  colci <- if (is.null(colci)) colout else .mf_forest_vec(colci, k, "black")
  lty_ci <- if (is.null(lty)) "solid" else lty[1L]
  lty_pi <- if (is.null(lty)) (if (is.null(predstyle)) 2 else "dotted") else lty[2L]
  lty_h <- if (is.null(lty)) "solid" else lty[3L]
  col_h <- if (is.null(lty) && !metafor) "gray60" else "black"
  # half-heights (in rows) of diamonds and interval end bars: a fraction of
  # the row, but no taller than the text when rows are roomy
  dia_h <- min(0.4, 0.9 * cex * text_h1 / rowh)
  # the pooled diamonds are at least as tall as half a line of text, so that
  # they stay visible when the rows are thinner than the text (metafor's
  # caterpillar plots of hundreds of studies)
  dia_hs <- max(dia_h, 0.5 * cex * text_h1 / rowh)
  bar_h <- min(0.25, 0.55 * cex * text_h1 / rowh)
  tick_h <- 0.5 * bar_h
  st_y <- ys[types == "study"]
  if (!is.null(shade)) {
    cs <- if (is.null(colshade)) .mf_plot_mix(0.1) else colshade
    sy <- if (shade$type == "numeric") shade$v else {
      # in drawing order from the bottom, as metafor
      yy <- sort(st_y)
      on <- switch(if (shade$type == "char") shade$v else "logical",
                   zebra = , zebra1 = rep_len(c(TRUE, FALSE), k), zebra2 = rep_len(c(FALSE, TRUE), k),
                   all = rep(TRUE, k), logical = NULL)
      if (is.null(on)) {
        yv <- rep(NA_real_, k); yv[si[types == "study"]] <- st_y
        yv[shade$v]
      } else yy[on]
    }
    for (y in sy) graphics::rect(xlim[1L], y - 0.5, xlim[2L], y + 0.5, col = cs, border = cs)
  }
  if (!is.null(refline) && refline >= alim[1L] && refline <= alim[2L]) {
    ytop <- if (metafor) y_rule_top else if (length(st_y)) max(st_y) + 0.5 else n + 0.5
    ybot <- if (metafor) ylim[1L] else 0.5
    graphics::segments(refline, ybot, refline, ytop, lty = 3, col = if (metafor) "black" else "gray40")
  }
  if (!is.null(hdr) || (nil && !is.null(ilab.lab))) {
    if (!is.null(hdr)) {
      graphics::text(x_lab, y_hdr + radj[1L], hdr[1L], adj = c(0, 0.5), font = 2, cex = cex, family = ffam[1L])
      if (showa) graphics::text(x_ann, y_hdr + radj[2L], hdr[2L], adj = c(1, 0.5), font = 2, cex = cex, family = ffam[2L])
      if (showw && !metafor) graphics::text(x_w, y_hdr + radj[2L], "Weight", adj = c(1, 0.5), font = 2, cex = cex, family = ffam[2L])
    }
    if (nil && !is.null(ilab.lab)) for (j in seq_len(nil))
      graphics::text(x_il[j], y_hdr + radj[3L], ilab.lab[j], font = 2, cex = cex, family = ffam[3L], pos = il_pos[j])
  }
  # squares: side proportional to sqrt(weight) (area proportional to weight),
  # or metafor's points when pch / psize are given
  in_per_row <- rowh
  side_max <- min(0.75 * in_per_row, 1.5 * cex * text_h1)
  wmax <- max(st$weight, na.rm = TRUE)
  use_points <- !is.null(pch) || !is.null(psize)
  if (use_points) {
    if (is.null(pch)) pch <- rep(15, k)
    if (is.null(psize)) psize <- .mf_psize(sqrt(st$weight), plim)
    if (!is.numeric(psize)) .mf_stop("'psize' must be numbers.")
  }
  clipx <- function(v) pmin(pmax(v, alim[1L]), alim[2L])
  arrow_len <- 0.6 * cex * text_h1 * efac[2L]
  # a filled arrowhead at the end (side 1: left, 2: right) of the axis
  arrowhead <- function(side, y, colr) {
    if (!is.finite(arrow_len)) return(invisible())
    x0 <- alim[side]; dx <- if (side == 1L) arrow_len * u else -arrow_len * u
    hh <- 0.45 * arrow_len / rowh
    graphics::polygon(c(x0, x0 + dx, x0 + dx), c(y, y + hh, y - hh), col = colr, border = colr)
  }
  fit_col <- if (is.null(col)) .mf_plot_mix(0.2) else col[1L]
  fit_border <- if (is.null(border)) .mf_plot_mix(0.3) else border[1L]
  dia_col <- if (is.null(col)) "black" else col[1L]
  pi_col <- if (length(col) >= 2L) col[2L] else "black"
  dia_border <- if (is.null(border)) NA else border[1L]
  drawn_y <- rep(NA_real_, k)
  pred_drawn <- NULL
  for (j in seq_len(n)) {
    y <- ys[j]; it <- items[[j]]
    if (it$type == "group") {
      graphics::text(x_lab, y + radj[1L], it$label, adj = c(0, 0.5), font = 2, cex = cex, family = ffam[1L])
    } else if (it$type == "study") {
      i <- it$i; drawn_y[i] <- y
      graphics::text(x_lab, y + radj[1L], it$label, adj = c(0, 0.5), cex = cex, family = ffam[1L], font = ffont[1L])
      if (nil) for (jj in seq_len(nil)) graphics::text(x_il[jj], y + radj[3L], ilab[i, jj], cex = cex, family = ffam[3L],
                                                       font = ffont[3L], pos = il_pos[jj])
      if (!is.na(st$est[i])) {
        l <- st$lb[i]; r <- st$ub[i]
        if (!is.null(fit_rows) && !is.na(fit_rows$estimate[i])) {  # fitted value behind the study's square
          f <- fit_rows[i, ]
          if (is.finite(efac[3L]))
            graphics::polygon(clipx(c(f$ci.lb, f$estimate, f$ci.ub, f$estimate)), y + c(0, 1, 0, -1) * dia_h * efac[3L],
                              col = fit_col, border = fit_border)
        }
        if (!is.na(l) && !is.na(r) && r > alim[1L] && l < alim[2L]) {
          graphics::segments(clipx(l), y, clipx(r), y, col = colci[i], lty = lty_ci)
          if (l < alim[1L]) arrowhead(1L, y, colci[i])
          else if (is.finite(efac[1L])) graphics::segments(l, y - tick_h * efac[1L], l, y + tick_h * efac[1L], col = colci[i])
          if (r > alim[2L]) arrowhead(2L, y, colci[i])
          else if (is.finite(efac[1L])) graphics::segments(r, y - tick_h * efac[1L], r, y + tick_h * efac[1L], col = colci[i])
        } else if (!is.na(l) && !is.na(r)) {   # the whole interval is off the axis: an arrow
          if (l >= alim[2L]) arrowhead(2L, y, colci[i])
          if (r <= alim[1L]) arrowhead(1L, y, colci[i])
        }
        if (st$est[i] >= alim[1L] && st$est[i] <= alim[2L]) {
          if (use_points) {
            graphics::points(st$est[i], y, pch = pch[i], cex = cex * psize[i], col = colout[i])
          } else {
            half <- max(0.12 * in_per_row, side_max * sqrt(st$weight[i] / wmax)) / 2
            graphics::rect(st$est[i] - half * u, y - half / in_per_row, st$est[i] + half * u,
                           y + half / in_per_row, col = colout[i], border = NA)
          }
        }
      }
      if (showa) graphics::text(x_ann, y + radj[2L], ann[j], adj = c(1, 0.5), cex = cex, family = ffam[2L], font = ffont[2L])
      if (showw) graphics::text(x_w, y + radj[2L], wtx[j], adj = c(1, 0.5), cex = cex, family = ffam[2L], font = ffont[2L])
    } else if (it$type %in% c("sub", "overall")) {
      s <- it$s
      ovr <- it$type == "overall"
      graphics::text(x_lab, y + radj[1L], if (ovr && !is.null(mlab_expr)) mlab_expr else it$label, adj = c(0, 0.5),
                     cex = cex, family = ffam[1L], font = if (ovr && !metafor) 2 else ffont[1L])
      if (ovr && addpred && identical(predstyle, "line") && !is.na(sums$pi.lb[s])) {
        l <- sums$pi.lb[s]; r <- sums$pi.ub[s]
        graphics::segments(clipx(l), y, clipx(r), y, lty = lty_pi, col = pi_col)
        for (e in c(l, r)) if (e >= alim[1L] && e <= alim[2L] && is.finite(efac[1L]))
          graphics::segments(e, y - tick_h * efac[1L], e, y + tick_h * efac[1L], col = pi_col)
      }
      if (is.finite(efac[3L]))
        graphics::polygon(clipx(c(sums$ci.lb[s], sums$estimate[s], sums$ci.ub[s], sums$estimate[s])),
                          y + c(0, 1, 0, -1) * dia_hs * efac[3L],
                          col = if (ovr) dia_col else "gray45", border = if (ovr) dia_border else NA)
      if (showa) graphics::text(x_ann, y + radj[2L], ann[j], adj = c(1, 0.5), cex = cex, family = ffam[2L],
                                font = if (ovr && !metafor) 2 else ffont[2L])
      if (showw) graphics::text(x_w, y + radj[2L], wtx[j], adj = c(1, 0.5), cex = cex, family = ffam[2L], font = ffont[2L])
    } else if (it$type == "pi") {
      s <- it$s
      graphics::text(x_lab, y + radj[1L], it$label, adj = c(0, 0.5), cex = cex, family = ffam[1L], font = ffont[1L])
      l <- sums$pi.lb[s]; r <- sums$pi.ub[s]; e <- sums$estimate[s]
      pcol <- if (length(col) >= 2L) col[2L] else "black"
      pbord <- if (length(border) >= 2L) border[2L] else "black"
      if (identical(predstyle, "bar")) {
        hh <- 0.6 * dia_h * efac[4L]
        graphics::rect(clipx(l), y - hh, clipx(e), y + hh, col = pcol, border = pbord)
        graphics::rect(clipx(e), y - hh, clipx(r), y + hh, col = pcol, border = pbord)
      } else if (predstyle %in% c("shade", "dist") && !is.null(pdist$x)) {
        pred_drawn <- .mf_forest_pi_dist(predstyle, pdist, y, l, r, alim, olim, col, border, efac[4L], dia_h)
      } else if (identical(predstyle, "polygon")) {
        graphics::polygon(clipx(c(l, e, r, e)), y + c(0, 1, 0, -1) * dia_h * efac[4L], col = pcol, border = pbord)
      } else {
        graphics::segments(clipx(l), y, clipx(r), y, lty = lty_pi, lwd = 1.5, col = pi_col)
        graphics::segments(clipx(c(l, r)), y - bar_h * efac[1L], clipx(c(l, r)), y + bar_h * efac[1L], lwd = 1.5,
                           col = pi_col)
      }
      if (showa) graphics::text(x_ann, y + radj[2L], ann[j], adj = c(1, 0.5), cex = cex, family = ffam[2L], font = ffont[2L])
    }
  }
  # horizontal rules: between the studies and the overall summary, under
  # the header
  if (length(y_rule_ov))
    graphics::segments(xlim[1L], y_rule_ov, xlim[2L], y_rule_ov, col = col_h, lty = lty_h)
  if (metafor || !is.null(hdr) || nil)
    graphics::segments(xlim[1L], y_rule_top, xlim[2L], y_rule_top, col = col_h, lty = lty_h)

  st$y <- drawn_y
  st$annotation <- ""
  for (j in which(types == "study")) st$annotation[si[j]] <- ann[j]
  studies <- data.frame(row = st$row, slab = st$slab, yi = st$est, vi = st$vi, ci.lb = st$lb,
                        ci.ub = st$ub, weight = st$weight, group = st$group, y = st$y,
                        annotation = st$annotation, stringsAsFactors = FALSE)[ord, , drop = FALSE]
  rownames(studies) <- NULL
  summaries <- NULL
  if (!is.null(sums)) {
    sums$y <- NA_real_
    for (j in which(types %in% c("sub", "overall"))) sums$y[ss[j]] <- ys[j]
    summaries <- sums
    rownames(summaries) <- NULL
  }
  lay <- list(xlim = xlim, ylim = ylim, alim = alim, at = at, at.lab = at_lab, cex = cex, cex.lab = cex_lab,
              cex.axis = cex_axis,
              rows = if (metafor) study_rows else rev(sort(ys[types == "study"])),
              textpos = textpos, ilab.xpos = if (nil) x_il else NULL, ilab.pos = il_pos,
              header = hdr, xlab = xlab, refline = refline, coords = coords, pred = pred_drawn)
  .mf_forest_state$last <- list(xlim = xlim, alim = alim, cex = cex, textpos = textpos, digits = digits,
                                atransf = atransf, transf = transf, efac = efac, annotate = annotate,
                                level_pct = level_pct, dia_h = dia_h, dia_hs = dia_hs, text_h1 = text_h1, rowh = rowh, x_w = x_w, showw = showw,
                                coords = coords, x_off = x_off, tick_h = tick_h, ann_widths = ann_widths,
                                annosym = annosym, radj = radj, ffam = ffam, ffont = ffont,
                                transf_f = transf_f, olim = olim)
  # text() that a script adds on the top row (metafor's gallery writes
  # column headers on row ylim[2]) is not cut at the edge of the panel: the
  # clipping region reaches one row above it (within the figure; the
  # coordinates stay metafor's, and the next plot resets it)
  if (metafor) {
    usr <- graphics::par("usr")
    top_fig <- max(graphics::grconvertY(c(0, 1), from = "nfc", to = "user"))
    graphics::clip(usr[1L], usr[2L], usr[3L], min(top_fig, usr[4L] + 1))
  }
  invisible(list(studies = studies, summaries = summaries, layout = lay))
}

# The predictive distribution of predstyle = "shade" / "dist" on row y (the
# prediction interval l, r on the scale drawn), for forest() and addpoly():
#
# - "shade" (metafor's shading): the bar from col[2] where the density of the
#   predictive distribution is highest to col[3] where it is lowest, one
#   rectangle from each of its points to the next, in the colour of the first
#   (runs of one colour are drawn as one rectangle);
# - "dist" (metafor's predictive distribution): the density scaled to one row
#   (times efac4) on the row of the interval; the side of 'predtail' (default
#   0) away from the estimate in col[3], the tails beyond the prediction
#   interval in col[2].
# Returns what was drawn (the points, and the colours or the curve).
.mf_forest_pi_dist <- function(predstyle, pdist, y, l, r, alim, olim, col, border, efac4, dia_h) {
  pred_drawn <- NULL
  if (predstyle == "shade") {
    hh <- 0.6 * dia_h * efac4
    c2 <- if (length(col) >= 2L) col[2L] else graphics::par("fg")
    c3 <- if (length(col) >= 3L) col[3L] else .mf_plot_mix(0.05)
    xs <- pdist$x; ys <- pdist$y
    inten <- 1 - (ys - min(ys)) / (max(ys) - min(ys))
    sel <- xs >= alim[1L] & xs <= alim[2L]
    if (!is.null(olim)) sel <- sel & xs > olim[1L] & xs < olim[2L]
    xs <- xs[sel]; inten <- inten[sel]
    ramp <- grDevices::colorRamp(c(c2, c3))(inten)
    rc <- ifelse(rowSums(is.na(ramp)) > 0, NA_character_,
                 grDevices::rgb(pmax(0, ramp[, 1L]), pmax(0, ramp[, 2L]), pmax(0, ramp[, 3L]), maxColorValue = 255))
    nx <- length(xs)
    if (nx > 1L) {
      rcol <- rc[-nx]
      runs <- rle(ifelse(is.na(rcol), "", rcol))
      ends <- cumsum(runs$lengths); starts <- ends - runs$lengths + 1L
      ok <- nzchar(runs$values)
      graphics::rect(xs[starts[ok]], y - hh, xs[ends[ok] + 1L], y + hh, col = runs$values[ok],
                     border = runs$values[ok])
      pred_drawn <- list(x = xs, col = rc, y = y, height = hh)
    }
  } else {
    c2 <- if (length(col) >= 2L) col[2L] else .mf_plot_mix(0.6)
    c3 <- if (length(col) >= 3L) col[3L] else .mf_plot_mix(0.2)
    c4 <- if (length(col) >= 4L) col[4L] else NA
    bcol <- if (length(border) >= 2L) border[2L] else graphics::par("fg")
    xs <- pdist$x; ys <- pdist$y / max(pdist$y)
    sel <- if (isTRUE(pdist$predlim)) rep(TRUE, length(ys)) else ys > 0.005
    ys <- ys * efac4
    sel <- sel & xs >= alim[1L] & xs <= alim[2L]
    if (!is.null(olim)) sel <- sel & xs > olim[1L] & xs < olim[2L]
    l0 <- pdist$l0[sel]; g0 <- pdist$g0[sel]
    xs <- xs[sel]; drow <- y - 0.5; hs <- ys[sel] + drow
    # drawn with every 5th point of metafor's 10000 (the curve returned in full)
    thin <- if (length(xs) > 2000L) sort(unique(c(seq(1L, length(xs), by = 5L), length(xs)))) else seq_along(xs)
    area <- function(keep, colr) {
      keep <- keep & seq_along(xs) %in% thin
      graphics::polygon(c(xs[keep], rev(xs[keep])), c(hs[keep], rep(drow, sum(keep))), col = colr,
                        border = if (is.na(colr)) NA else bcol)
    }
    if (isTRUE(pdist$lower)) { area(g0, c4); area(l0, c3) } else { area(g0, c3); area(l0, c4) }
    area(xs <= l, c2)
    area(xs >= r, c2)
    graphics::lines(xs[thin], rep(drow, length(thin)), col = bcol)
    graphics::lines(xs[thin], hs[thin], col = bcol)
    pred_drawn <- list(x = xs, y = hs)
  }
  pred_drawn
}

# metafor's annosym (3 to 5 strings: opening bracket, separator, closing
# bracket, minus sign, space) and tabfig (thin spaces U+2009 around the
# brackets; 1: the minus sign U+2212 and the en space U+2002 for spaces; 2:
# the en dash U+2013 and the en space; 3: the minus sign and the figure space
# U+2007).
.mf_forest_annosym <- function(annosym, tabfig) {
  out <- c(" [", ", ", "]", "-", " ")
  if (!is.null(annosym)) {
    if (!is.character(annosym) || !length(annosym) %in% 3:5 || anyNA(annosym))
      .mf_stop("'annosym' must be 3 (or 4 or 5) strings: the opening bracket, the separator and the closing bracket (then the minus sign and the space).")
    out[seq_along(annosym)] <- annosym
  }
  if (!is.null(tabfig)) {
    if (!is.numeric(tabfig) || length(tabfig) != 1L || !tabfig %in% 1:3)
      .mf_stop("'tabfig' must be 1, 2 or 3 (as metafor).")
    out <- c("\u2009[", ",\u2009", "]", if (tabfig == 2) "\u2013" else "\u2212", if (tabfig == 3) "\u2007" else "\u2002")
  }
  out
}

# The layout of the last forest plot, for addpoly().
.mf_forest_state <- new.env(parent = emptyenv())
