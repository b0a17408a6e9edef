# Forest plots (Lewis & Clarke 2001, BMJ 322:1479) in base graphics.
# The layout is computed in inches from strwidth()/strheight() of the text
# actually drawn, then mapped to user coordinates, so labels, the extra
# columns and the annotations never overlap the plotting panel.

#' Forest plots
#'
#' Draws one row per study (a square with area proportional to the study's
#' weight and its confidence interval), annotation columns on the right
#' (estimate with confidence interval and the weight in percent), the pooled
#' estimate as a diamond and, for random-effects models, the prediction
#' interval as a dashed bar under the diamond.  With \code{subgroup}, the
#' studies are grouped into blocks, each with a header line and its own pooled
#' diamond (a model with the method of \code{x} fitted to the block), and the
#' overall diamond comes at the bottom.
#'
#' The text size shrinks with the number of rows so that nothing overlaps; to
#' keep it readable with many studies give the figure more height: in R
#' Markdown use the chunk option \code{fig.height = forest_height(k)} (the
#' plot is designed for a width of about 7 inches, knitr's default
#' \code{fig.width}); with \code{png()} or \code{pdf()} use
#' \code{height = forest_height(k)}.
#'
#' @param x a fitted model (\code{forest.mf_rma}) or a vector of observed
#'   effect sizes (\code{forest.default}).
#' @param ... graphical parameters (\code{par()}, e.g. \code{family} or
#'   \code{font}), set while the plot is drawn.  metafor's forest arguments
#'   that metafast does not implement yet (\code{atransf}, \code{at},
#'   \code{xlim}, \code{ilab.xpos}, \code{col}, ...; issue 16) are errors.
#' @return Invisibly, a list with \code{studies} (a data frame with one row
#'   per drawn study: \code{row} (row of the data), \code{slab}, \code{yi},
#'   \code{vi}, \code{ci.lb}, \code{ci.ub}, \code{weight} (percent),
#'   \code{group} and the vertical position \code{y}), \code{summaries} (one
#'   row per diamond: \code{label}, \code{group}, \code{k},
#'   \code{estimate}, \code{ci.lb}, \code{ci.ub}, \code{pi.lb},
#'   \code{pi.ub}, \code{y}) and \code{layout} (\code{xlim}, \code{ylim},
#'   \code{alim}, \code{at}, \code{cex}).  Values are on the scale drawn
#'   (after \code{transf}).
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
#' @export
forest <- function(x, ...) UseMethod("forest")

#' @rdname forest
#' @param annotate draw the estimate and confidence interval of each row on
#'   the right.
#' @param addpred draw the prediction interval under the overall diamond
#'   (random-effects models only).
#' @param showweights draw the weights (percent) column (for
#'   \code{forest.default} the inverse-variance weights).
#' @param header \code{TRUE}, \code{FALSE} or two strings: the headers of
#'   the label column and of the annotation column (e.g.
#'   \code{c("Study", "g [95\% CI]")}).
#' @param alim optional range of the x axis of the plotting panel; intervals
#'   outside it end in arrows.
#' @param level confidence level (percent) of the intervals drawn: by default
#'   the level of the fit (\code{forest.mf_rma}) or 95.  The studies'
#'   intervals use the normal quantile, the pooled estimate's that of the
#'   fit's test.
#' @param refline position of the vertical reference line (\code{NULL} for
#'   none).
#' @param digits decimals of the annotations and axis labels.
#' @param xlab label of the x axis.
#' @param slab study labels (one per row of the data or per study used);
#'   by default those of the fit.
#' @param ilab extra columns drawn between the labels and the plot: a vector,
#'   matrix or data frame with one row per study (e.g. sample size, weeks).
#' @param ilab.lab headers of the \code{ilab} columns.
#' @param order \code{NULL} (data order), \code{"obs"} (by effect size),
#'   \code{"prec"} (by sampling variance), \code{"weight"} (by decreasing
#'   weight) or a vector with one sort key per study.  With subgroups the
#'   studies are sorted within their block.
#' @param transf optional function applied to the estimates and bounds
#'   (e.g. \code{exp} for log ratios; then use \code{refline = 1}).
#' @param cex text size; by default the largest size (at most 1) at which
#'   rows and columns do not overlap.
#' @param subgroup a factor (or vector) with one value per study: the blocks
#'   (metafast only).
#' @param main optional title (metafast only).
#' @export
forest.mf_rma <- function(x, annotate = TRUE, addpred = TRUE, showweights = TRUE, header = TRUE, alim,
                          level = x$level, refline = 0, digits = 2L, xlab, slab, ilab = NULL, ilab.lab = NULL,
                          order = NULL, transf = NULL, cex, subgroup = NULL, main, ...) {
  .mf_check_dots("forest.mf_rma", ...)
  .mf_plot_check(x, "forest")
  alpha <- if (missing(level)) x$level else .mf_level(level)
  pars <- .mf_par_dots(...)
  if (length(pars)) { op <- graphics::par(pars); on.exit(graphics::par(op), add = TRUE) }
  k <- x$k
  labs <- if (missing(slab) || is.null(slab)) .mf_plot_slab(x) else .mf_slab_labels(slab, x)
  yi <- x$yi; vi <- x$vi
  crit_i <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  wt <- .mf_plot_weights(x)
  st <- data.frame(row = x$ids, slab = labs, yi = yi, vi = vi,
                   ci.lb = yi - crit_i * sqrt(vi), ci.ub = yi + crit_i * sqrt(vi),
                   weight = wt, stringsAsFactors = FALSE)
  grp <- .mf_forest_groups(subgroup, x, k)
  st$group <- if (is.null(grp)) NA_character_ else as.character(grp)
  if (length(order) > 1L) order <- .mf_per_study(order, x, "order")
  ord <- .mf_forest_order(order, st, grp)
  model_lab <- if (.mf_is_ee(x$method)) "Equal-effects model" else "Random-effects model"

  sums <- NULL
  if (x$int.only) {
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
    sums <- rbind(sums, data.frame(label = sprintf("%s (k = %d)", model_lab, k), group = NA_character_,
                                   k = k, estimate = pool$estimate, ci.lb = pool$ci.lb,
                                   ci.ub = pool$ci.ub, pi.lb = pool$pi.lb, pi.ub = pool$pi.ub,
                                   stringsAsFactors = FALSE))
  }
  # Meta-regression: the fitted value of each study as a small grey diamond.
  fit_rows <- NULL
  if (!x$int.only) {
    pred <- c(x$X %*% x$beta)
    sep <- sqrt(pmax(rowSums((x$X %*% x$vb) * x$X), 0))
    crit <- .mf_plot_crit(x, alpha)
    fit_rows <- data.frame(estimate = pred, ci.lb = pred - crit * sep, ci.ub = pred + crit * sep)
  }
  .mf_forest_draw(st = st, ord = ord, grp = grp, sums = sums, fit_rows = fit_rows,
                  ilab = .mf_per_study(ilab, x, "ilab"), ilab.lab = ilab.lab,
                  annotate = annotate, showweights = showweights, addpred = addpred,
                  header = header, xlab = if (missing(xlab)) NULL else xlab, transf = transf,
                  refline = refline, digits = digits, cex = if (missing(cex)) NULL else cex,
                  main = if (missing(main)) NULL else main, alim = if (missing(alim)) NULL else alim,
                  pi_label = "Prediction interval", level_pct = 100 * (1 - alpha))
}

#' @rdname forest
#' @param vi sampling variances (\code{forest.default}).
#' @param sei standard errors (alternative to \code{vi}).
#' @param ci.lb,ci.ub confidence bounds (alternative to \code{vi} and
#'   \code{sei}).
#' @export
forest.default <- function(x, vi, sei, ci.lb, ci.ub, annotate = TRUE, showweights = FALSE, header = TRUE,
                           alim, level = 95, refline = 0, digits = 2L, xlab, slab, ilab = NULL,
                           ilab.lab = NULL, order = NULL, transf = NULL, cex, subgroup = NULL, main, ...) {
  .mf_check_dots("forest.default", ...)
  pars <- .mf_par_dots(...)
  if (length(pars)) { op <- graphics::par(pars); on.exit(graphics::par(op), add = TRUE) }
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
  if (!any(keep)) .mf_stop("No studies with both an effect size and a variance remain.")
  # a pseudo-fit so the per-study arguments are handled as for a model
  px <- list(k = sum(keep), k.all = k, ids = which(keep))
  labs <- if (missing(slab) || is.null(slab)) paste("Study", which(keep)) else .mf_slab_labels(slab, px)
  w <- ifelse(vi[keep] > 0, 1 / vi[keep], NA_real_)
  w <- if (all(is.na(w))) rep(1, sum(keep)) else { w[is.na(w)] <- max(w, na.rm = TRUE); w }
  st <- data.frame(row = which(keep), slab = labs, yi = yi[keep], vi = vi[keep], ci.lb = lb[keep],
                   ci.ub = ub[keep], weight = 100 * w / sum(w), stringsAsFactors = FALSE)
  grp <- .mf_forest_groups(subgroup, px, px$k)
  st$group <- if (is.null(grp)) NA_character_ else as.character(grp)
  if (length(order) > 1L) order <- .mf_per_study(order, px, "order")
  ord <- .mf_forest_order(order, st, grp)
  .mf_forest_draw(st = st, ord = ord, grp = grp, sums = NULL, fit_rows = NULL,
                  ilab = .mf_per_study(ilab, px, "ilab"), ilab.lab = ilab.lab,
                  annotate = annotate, showweights = showweights, addpred = FALSE,
                  header = header, xlab = if (missing(xlab)) NULL else xlab, transf = transf,
                  refline = refline, digits = digits, cex = if (missing(cex)) NULL else cex,
                  main = if (missing(main)) NULL else main, alim = if (missing(alim)) NULL else alim,
                  pi_label = "Prediction interval", level_pct = 100 * (1 - alpha))
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
# subgroups when given.
.mf_forest_order <- function(order, st, grp) {
  k <- nrow(st)
  key <- if (is.null(order)) seq_len(k) else if (is.character(order) && length(order) == 1L && k != 1L) {
    switch(order, obs = st$yi, prec = st$vi, weight = -st$weight,
           .mf_stop("'order' must be NULL, \"obs\", \"prec\", \"weight\" or one sort key per study."))
  } else {
    if (length(order) != k) .mf_stop(sprintf("'order' has %d values but %d studies are drawn.", length(order), k))
    order
  }
  if (is.null(grp)) base::order(key) else base::order(as.integer(grp), key)
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

# The drawing engine shared by both methods.
.mf_forest_draw <- function(st, ord, grp, sums, fit_rows, ilab, ilab.lab, annotate, showweights,
                            addpred, header, xlab, transf, refline, digits, cex, main, alim, pi_label,
                            level_pct = 95) {
  digits <- .mf_plot_number(digits, "digits", null_ok = FALSE)
  if (!is.null(refline)) refline <- .mf_plot_number(refline, "refline")
  if (!is.null(cex)) cex <- .mf_plot_number(cex, "cex")
  if (!is.null(alim)) alim <- .mf_plot_range(alim, "alim")
  annotate <- isTRUE(annotate); showweights <- isTRUE(showweights); addpred <- isTRUE(addpred)
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
  # header strings
  hdr <- NULL
  if (isTRUE(header)) hdr <- c("Study", sprintf("Estimate [%s%% CI]", format(level_pct)))
  if (is.character(header)) hdr <- rep_len(header, 2L)

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
  if (length(ov)) {
    if (is.null(grp)) add("blank")
    add("overall", sums$label[ov], s = ov)
    if (addpred && !is.na(sums$pi.lb[ov])) add("pi", pi_label, s = ov)
  } else if (!is.null(grp) && length(items) && items[[length(items)]]$type == "blank") {
    items[[length(items)]] <- NULL
  }
  n <- length(items)
  types <- vapply(items, `[[`, "", "type")
  top_pad <- if (is.null(hdr) && nil == 0L) 0.5 else 1.6
  ys <- rev(seq_len(n))  # first item at the top
  ylim <- c(0.4, n + top_pad)

  # ---- text of the annotation columns ------------------------------------
  ann <- rep("", n); wtx <- rep("", n)
  si <- vapply(items, `[[`, 1L, "i"); ss <- vapply(items, `[[`, 1L, "s")
  if (annotate) {
    est_all <- c(st$est, if (!is.null(sums)) sums$estimate)
    lb_all <- c(st$lb, if (!is.null(sums)) sums$ci.lb)
    ub_all <- c(st$ub, if (!is.null(sums)) sums$ci.ub)
    if (!is.null(sums)) {
      est_all <- c(est_all, rep(NA, nrow(sums))); lb_all <- c(lb_all, sums$pi.lb); ub_all <- c(ub_all, sums$pi.ub)
    }
    # format jointly so the columns share widths
    el <- .mf_fmt(est_all, digits); ll <- .mf_fmt(lb_all, digits); ul <- .mf_fmt(ub_all, digits)
    ns <- if (is.null(sums)) 0L else nrow(sums)
    for (j in seq_len(n)) {
      if (types[j] == "study") {
        i <- si[j]; ann[j] <- sprintf("%s [%s, %s]", el[i], ll[i], ul[i])
      } else if (types[j] %in% c("sub", "overall")) {
        i <- k + ss[j]; ann[j] <- sprintf("%s [%s, %s]", el[i], ll[i], ul[i])
      } else if (types[j] == "pi") {
        i <- k + ns + ss[j]; ann[j] <- sprintf("[%s, %s]", ll[i], ul[i])
      }
    }
  }
  if (showweights) {
    wfmt <- formatC(st$weight, format = "f", digits = 1)
    for (j in which(types == "study")) wtx[j] <- paste0(wfmt[si[j]], "%")
    for (j in which(types == "overall")) wtx[j] <- "100%"
    if (!is.null(grp)) for (j in which(types == "sub")) {
      g <- sums$group[ss[j]]
      wtx[j] <- paste0(formatC(sum(st$weight[st$group == g]), format = "f", digits = 1), "%")
    }
  }
  showw <- showweights && any(nzchar(wtx))
  showa <- annotate

  # ---- device and layout -------------------------------------------------
  op <- graphics::par(no.readonly = TRUE)
  on.exit(graphics::par(mar = op$mar, xpd = op$xpd), add = TRUE)
  has_main <- !is.null(main) && nzchar(main)
  graphics::par(mar = c(4.1, 0.8, if (has_main) 2.5 else 0.8, 0.8), xpd = FALSE)
  graphics::plot.new()
  pin <- graphics::par("pin")
  rowh <- pin[2L] / diff(ylim)                 # inches per row
  sw <- function(s, font = 1) if (length(s)) max(graphics::strwidth(s, units = "inches", cex = 1, font = font), 0) else 0
  lab_w <- max(sw(vapply(items[types %in% c("study", "sub", "overall", "pi")], `[[`, "", "label")),
               sw(vapply(items[types == "group"], `[[`, "", "label"), font = 2), if (!is.null(hdr)) sw(hdr[1L], 2))
  il_w <- if (nil) vapply(seq_len(nil), function(j) max(sw(ilab[, j]), if (!is.null(ilab.lab)) sw(ilab.lab[j], 2)), 0) else numeric(0)
  an_w <- if (showa) max(sw(ann), if (!is.null(hdr)) sw(hdr[2L], 2)) else 0
  w_w <- if (showw) max(sw(wtx), sw("Weight", 2)) else 0
  gap <- 1.5 * sw("m")
  ncol_txt <- 1L + nil + as.integer(showa) + as.integer(showw)
  text_w1 <- lab_w + sum(il_w) + an_w + w_w + gap * (ncol_txt + 1)   # at cex = 1
  text_h1 <- graphics::strheight("Ag", units = "inches", cex = 1)
  if (is.null(cex)) {
    cex_v <- rowh / (1.4 * text_h1)
    cex_h <- 0.62 * pin[1L] / text_w1
    cex <- min(1, cex_v, cex_h)
  }
  panel_w <- pin[1L] - cex * text_w1
  if (panel_w <= 0.1 * pin[1L]) panel_w <- 0.1 * pin[1L]
  # x range of the panel
  vals <- c(st$lb, st$ub, st$est, refline)
  if (!is.null(sums)) vals <- c(vals, sums$ci.lb, sums$ci.ub, if (addpred) c(sums$pi.lb, sums$pi.ub))
  if (!is.null(fit_rows)) vals <- c(vals, fit_rows$ci.lb, fit_rows$ci.ub)
  vals <- vals[is.finite(vals)]
  if (!length(vals)) vals <- c(-1, 1)
  if (is.null(alim)) {
    # about one tick label per 0.6 inch of panel at the drawn text size
    at <- pretty(range(vals), n = max(2, min(6, floor(panel_w / (0.6 * max(cex, 0.5))))))
    alim <- range(at)
  } else {
    at <- pretty(alim, n = max(2, min(6, floor(panel_w / (0.6 * max(cex, 0.5))))))
    at <- at[at >= alim[1L] - 1e-12 * diff(alim) & at <= alim[2L] + 1e-12 * diff(alim)]
  }
  if (diff(alim) == 0) { alim <- alim + c(-1, 1); at <- pretty(alim) }
  u <- diff(alim) / panel_w                    # user units per inch
  left_in <- cex * (lab_w + sum(il_w) + gap * (1 + nil)) + cex * gap / 2
  right_in <- cex * (an_w + w_w + gap * (as.integer(showa) + as.integer(showw))) + cex * gap / 2
  xlim <- c(alim[1L] - left_in * u, alim[2L] + right_in * u)
  graphics::plot.window(xlim = xlim, ylim = ylim, xaxs = "i", yaxs = "i")

  # column positions (user coordinates)
  x_lab <- xlim[1L]
  x_il <- numeric(nil)
  pos <- xlim[1L] + cex * (lab_w + gap) * u
  for (j in seq_len(nil)) { x_il[j] <- pos + cex * il_w[j] / 2 * u; pos <- pos + cex * (il_w[j] + gap) * u }
  x_ann <- xlim[2L]
  x_w <- if (showa) xlim[2L] - cex * (an_w + gap) * u else xlim[2L]

  # ---- drawing -----------------------------------------------------------
  # half-heights (in rows) of diamonds and interval end bars: a fraction of
  # the row, but no taller than the text when rows are roomy
  dia_h <- min(0.4, 0.9 * cex * text_h1 / rowh)
  bar_h <- min(0.25, 0.55 * cex * text_h1 / rowh)
  st_y <- ys[types == "study"]
  if (!is.null(refline) && refline >= alim[1L] && refline <= alim[2L]) {
    ytop <- if (length(st_y)) max(st_y) + 0.5 else n + 0.5
    graphics::segments(refline, 0.5, refline, ytop, lty = 3, col = "gray40")
  }
  if (!is.null(hdr) || nil) {
    yh_hdr <- n + 1
    if (!is.null(hdr)) {
      graphics::text(x_lab, yh_hdr, hdr[1L], adj = c(0, 0.5), font = 2, cex = cex)
      if (showa) graphics::text(x_ann, yh_hdr, hdr[2L], adj = c(1, 0.5), font = 2, cex = cex)
      if (showw) graphics::text(x_w, yh_hdr, "Weight", adj = c(1, 0.5), font = 2, cex = cex)
    }
    if (nil && !is.null(ilab.lab))
      graphics::text(x_il, yh_hdr, ilab.lab, font = 2, cex = cex)
  }
  # squares: side proportional to sqrt(weight) (area proportional to weight)
  in_per_row <- rowh
  side_max <- min(0.75 * in_per_row, 1.5 * cex * text_h1)
  wmax <- max(st$weight, na.rm = TRUE)
  clipx <- function(v) pmin(pmax(v, alim[1L]), alim[2L])
  arrow_len <- 0.6 * cex * text_h1
  drawn_y <- rep(NA_real_, k)
  for (j in seq_len(n)) {
    y <- ys[j]; it <- items[[j]]
    if (it$type == "group") {
      graphics::text(x_lab, y, it$label, adj = c(0, 0.5), font = 2, cex = cex)
    } else if (it$type == "study") {
      i <- it$i; drawn_y[i] <- y
      graphics::text(x_lab, y, it$label, adj = c(0, 0.5), cex = cex)
      if (nil) graphics::text(x_il, y, ilab[i, ], cex = cex)
      if (!is.na(st$est[i])) {
        l <- st$lb[i]; r <- st$ub[i]
        if (!is.null(fit_rows)) {  # fitted value behind the study's square
          f <- fit_rows[i, ]
          graphics::polygon(clipx(c(f$ci.lb, f$estimate, f$ci.ub, f$estimate)), y + c(0, 0.2, 0, -0.2),
                            col = "gray75", border = NA)
        }
        if (!is.na(l) && !is.na(r) && r > alim[1L] && l < alim[2L]) {
          graphics::segments(clipx(l), y, clipx(r), y)
          if (l < alim[1L]) graphics::arrows(alim[1L] + 1e-9, y, alim[1L], y, length = arrow_len, angle = 25)
          if (r > alim[2L]) graphics::arrows(alim[2L] - 1e-9, y, alim[2L], y, length = arrow_len, angle = 25)
        }
        if (st$est[i] >= alim[1L] && st$est[i] <= alim[2L]) {
          half <- max(0.12 * in_per_row, side_max * sqrt(st$weight[i] / wmax)) / 2
          graphics::rect(st$est[i] - half * u, y - half / in_per_row, st$est[i] + half * u,
                         y + half / in_per_row, col = "black", border = NA)
        }
      }
      if (showa) graphics::text(x_ann, y, ann[j], adj = c(1, 0.5), cex = cex)
      if (showw) graphics::text(x_w, y, wtx[j], adj = c(1, 0.5), cex = cex)
    } else if (it$type %in% c("sub", "overall")) {
      s <- it$s
      graphics::text(x_lab, y, it$label, adj = c(0, 0.5), cex = cex, font = if (it$type == "overall") 2 else 1)
      graphics::polygon(clipx(c(sums$ci.lb[s], sums$estimate[s], sums$ci.ub[s], sums$estimate[s])),
                        y + c(0, 1, 0, -1) * dia_h,
                        col = if (it$type == "overall") "black" else "gray45", border = NA)
      if (showa) graphics::text(x_ann, y, ann[j], adj = c(1, 0.5), cex = cex, font = if (it$type == "overall") 2 else 1)
      if (showw) graphics::text(x_w, y, wtx[j], adj = c(1, 0.5), cex = cex)
    } else if (it$type == "pi") {
      s <- it$s
      graphics::text(x_lab, y, it$label, adj = c(0, 0.5), cex = cex)
      l <- sums$pi.lb[s]; r <- sums$pi.ub[s]
      graphics::segments(clipx(l), y, clipx(r), y, lty = 2, lwd = 1.5)
      graphics::segments(clipx(c(l, r)), y - bar_h, clipx(c(l, r)), y + bar_h, lwd = 1.5)
      if (showa) graphics::text(x_ann, y, ann[j], adj = c(1, 0.5), cex = cex)
    }
  }
  # horizontal rule between the studies and the overall summary
  if (length(ov)) {
    yo <- ys[types == "overall"]
    graphics::segments(xlim[1L], yo + 0.6, xlim[2L], yo + 0.6, col = "gray60")
  }
  if (!is.null(hdr) || nil) graphics::segments(xlim[1L], n + 0.5, xlim[2L], n + 0.5, col = "gray60")
  graphics::axis(1, at = at, labels = formatC(at, format = "fg", digits = max(digits, 3)),
                 cex.axis = max(cex, 0.5), mgp = c(3, 0.5 * max(cex, 0.6) + 0.2, 0), tcl = -0.3)
  if (is.null(xlab)) xlab <- if (is.null(transf)) "Observed outcome" else "Transformed outcome"
  graphics::mtext(xlab, side = 1, line = 2.2, at = mean(alim), cex = max(cex, 0.6))
  if (has_main) graphics::title(main = main, line = 1, cex.main = max(cex, 0.7) * 1.1)

  st$y <- drawn_y
  studies <- data.frame(row = st$row, slab = st$slab, yi = st$est, vi = st$vi, ci.lb = st$lb,
                        ci.ub = st$ub, weight = st$weight, group = st$group, y = st$y,
                        stringsAsFactors = FALSE)[ord, , drop = FALSE]
  rownames(studies) <- NULL
  summaries <- NULL
  if (!is.null(sums)) {
    sums$y <- NA_real_
    for (j in which(types %in% c("sub", "overall"))) sums$y[ss[j]] <- ys[j]
    summaries <- sums
    rownames(summaries) <- NULL
  }
  invisible(list(studies = studies, summaries = summaries,
                 layout = list(xlim = xlim, ylim = ylim, alim = alim, at = at, cex = cex)))
}
