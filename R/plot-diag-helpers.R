# Shared pieces of the diagnostic plots labbe(), radial(), regplot() and
# llplot(): colours relative to the device, point sizes, transformations
# with 'targs', per-study plot arguments, axis labels of the measures and
# legend options.  Only graphics and grDevices are used.

# A colour the fraction f of the way from the device's background to its
# foreground (a transparent background counts as white), so that shades work
# on dark backgrounds as well.
.mf_plot_mix <- function(f) {
  bg <- graphics::par("bg")
  if (grDevices::col2rgb(bg, alpha = TRUE)[4L, 1L] == 0) bg <- "white"
  b <- grDevices::col2rgb(bg)[, 1L]
  g <- grDevices::col2rgb(graphics::par("fg"))[, 1L]
  v <- round(b + f * (g - b))
  grDevices::rgb(v[1L], v[2L], v[3L], maxColorValue = 255)
}

# Point sizes from weights wi scaled into plim (metafor's rule): two limits
# map the smallest and largest weight linearly onto them; plim = c(NA, max)
# makes sizes proportional with the largest at max (and a floor plim[3]),
# plim = c(min, NA) proportional with the smallest at min (a ceiling
# plim[3]).
.mf_psize <- function(wi, plim) {
  if (!is.numeric(plim) && !all(is.na(plim)) || length(plim) < 2L || length(plim) > 3L)
    .mf_stop("'plim' must be 2 or 3 numbers (the smallest and largest point size), e.g. c(0.5, 3).")
  k <- length(wi)
  lo <- plim[1L]; hi <- plim[2L]
  ps <- rep(NA_real_, k)
  if (!is.na(lo) && !is.na(hi)) {
    rng <- max(wi, na.rm = TRUE) - min(wi, na.rm = TRUE)
    ps <- if (rng <= sqrt(.Machine$double.eps)) rep(1, k) else
      lo + (wi - min(wi, na.rm = TRUE)) / rng * (hi - lo)
  } else if (is.na(lo) && !is.na(hi)) {
    ps <- wi / max(wi, na.rm = TRUE) * hi
    if (length(plim) == 3L) ps[ps <= plim[3L]] <- plim[3L]
  } else if (!is.na(lo) && is.na(hi)) {
    ps <- wi / min(wi, na.rm = TRUE) * lo
    if (length(plim) == 3L) ps[ps >= plim[3L]] <- plim[3L]
  }
  if (all(is.na(ps))) ps <- rep(1, k)
  ps
}

# A transformation given as 'transf' / 'atransf' (with metafor's 'targs',
# passed as the second argument) as a vectorised function applied value by
# value; NULL when none was given.
.mf_plot_tf <- function(f, targs, arg) {
  if (is.null(f) || isFALSE(f)) return(NULL)
  if (!is.function(f)) .mf_stop(sprintf("'%s' must be a function, e.g. exp.", arg))
  if (!is.null(targs) && !is.primitive(f) && length(formals(f)) == 1L)
    .mf_stop(sprintf("The function given as '%s' has no argument for 'targs'.", arg))
  function(v) {
    if (!length(v)) return(v)
    vapply(v, function(z) as.double(if (is.null(targs)) f(z) else f(z, targs))[1L], numeric(1))
  }
}

# A per-study plot argument (pch, col, psize, ...): one value, or one per
# row of the data (k.all) or per study used (k); the values of the used rows.
.mf_plot_per_study <- function(v, x, arg) {
  if (length(v) == 1L && !is.data.frame(v)) v <- rep(v, x$k.all)
  .mf_per_study(v, x, arg)
}

# Evaluate a plot argument given as an expression (e.g. psize = ni) in the
# data of the fit and then in the caller's frame, as metafor does.
.mf_plot_eval <- function(expr, x, env) {
  data <- x$data
  if (!is.null(data) && !is.data.frame(data)) data <- tryCatch(as.data.frame(data), error = function(e) NULL)
  eval(expr, data, env)
}

# Legend placement options: TRUE / FALSE, a position keyword or a list with
# x, y, inset and cex (metafor's legend argument).
.mf_legend_opts <- function(legend, defaults) {
  if (is.list(legend)) {
    for (nm in names(legend)) {
      hit <- pmatch(nm, names(defaults))
      if (!is.na(hit)) defaults[hit] <- legend[nm]
    }
    return(c(list(show = TRUE), defaults))
  }
  if (is.character(legend) && length(legend) == 1L && !is.na(legend)) {
    defaults$x <- legend
    return(c(list(show = TRUE), defaults))
  }
  if (!is.logical(legend) || length(legend) != 1L || is.na(legend))
    .mf_stop("'legend' must be TRUE, FALSE, a position (e.g. \"topleft\") or a list of legend options.")
  c(list(show = legend), defaults)
}

# TRUE / FALSE or a colour (grid, ci, pi, shade arguments).
.mf_flag_col <- function(v, arg, n = 1L) {
  if (is.logical(v) && length(v) == 1L && !is.na(v)) return(list(on = v, col = NULL))
  if (is.character(v) && length(v) %in% seq_len(n) && !anyNA(v)) return(list(on = TRUE, col = v))
  .mf_stop(sprintf("'%s' must be TRUE, FALSE or a colour.", arg))
}

# Axis label of an outcome measure, as metafor labels it: the measure's name
# (e.g. "Log Risk Ratio"), the back-transformed name when 'transf' /
# 'atransf' is its inverse (e.g. exp: "Risk Ratio", or "Risk Ratio (log
# scale)" for atransf), "Transformed ..." for other functions.
.mf_measure_label <- function(measure, transf = NULL, atransf = NULL, default = "Observed Outcome") {
  exp_f <- list(exp, transf.exp.int)
  ilogit <- list(transf.ilogit, stats::plogis)
  ztor <- list(transf.ztor, tanh)
  tab <- list(
    RR = list("Log Risk Ratio", exp_f, "Risk Ratio"), OR = list("Log Odds Ratio", exp_f, "Odds Ratio"),
    PETO = list("Log Odds Ratio", exp_f, "Odds Ratio"), RD = list("Risk Difference"),
    AS = list("Arcsine Transformed Risk Difference"),
    IRR = list("Log Incidence Rate Ratio", exp_f, "Incidence Rate Ratio"),
    IRD = list("Incidence Rate Difference"), IRSD = list("Square Root Transformed Incidence Rate Difference"),
    MD = list("Mean Difference"), SMD = list("Standardized Mean Difference"),
    SMDH = list("Standardized Mean Difference"), SMD1 = list("Standardized Mean Difference"),
    ROM = list("Log Ratio of Means", exp_f, "Ratio of Means"), VR = list("Log Variability Ratio", exp_f, "Variability Ratio"),
    CVR = list("Log Coefficient of Variation Ratio", exp_f, "Coefficient of Variation Ratio"),
    COR = list("Correlation Coefficient"), UCOR = list("Correlation Coefficient"),
    ZCOR = list("Fisher's z Transformed Correlation Coefficient", ztor, "Correlation Coefficient"),
    PR = list("Proportion"), PLN = list("Log Proportion", exp_f, "Proportion"),
    PLO = list("Log Odds", ilogit, "Proportion", exp_f, "Odds"),
    PAS = list("Arcsine Transformed Proportion", list(transf.iarcsin), "Proportion"),
    PFT = list("Double Arcsine Transformed Proportion"), IR = list("Incidence Rate"),
    IRLN = list("Log Incidence Rate", exp_f, "Incidence Rate"),
    IRS = list("Square Root Transformed Incidence Rate", list(transf.isqrt), "Incidence Rate"),
    MN = list("Mean"), MNLN = list("Log Mean", exp_f, "Mean"), MC = list("Mean Change"),
    SMCC = list("Standardized Mean Change"), SMCR = list("Standardized Mean Change"),
    ROMC = list("Log Ratio of Means", exp_f, "Ratio of Means"))
  e <- if (is.character(measure) && length(measure) == 1L) tab[[measure]]
  if (is.null(e)) return(default)
  f <- if (!is.null(transf)) transf else atransf
  if (is.null(f)) return(e[[1L]])
  same <- function(cands) any(vapply(cands, function(g) identical(f, g) || identical(deparse(f), deparse(g)), logical(1)))
  lab <- paste("Transformed", e[[1L]])
  for (j in 2L * seq_len((length(e) - 1L) %/% 2L))  # (the pairs after the name; none for most measures)
    if (same(e[[j]])) {
      scale <- sub("^(Log|Fisher's z Transformed|Arcsine Transformed|Square Root Transformed) .*$", "\\1", e[[1L]])
      scale <- switch(scale, Log = if (identical(measure, "PLO") && j == 2L) "logit" else "log",
                      "Fisher's z Transformed" = "Fisher's z", "Arcsine Transformed" = "arcsine",
                      "Square Root Transformed" = "square root", "")
      lab <- if (is.null(transf)) paste0(e[[j + 1L]], " (", scale, " scale)") else e[[j + 1L]]
    }
  lab
}

# The corner for a legend (called with legend = TRUE) where it hides the
# least: the legend's box is measured at each corner (legend(plot = FALSE))
# and the drawn points (x, y, with weights w) inside it are counted; ties go
# to the first corner, the default position.
.mf_legend_corner <- function(args, x, y, w = rep(1, length(x)),
                              corners = c("topright", "topleft", "bottomright", "bottomleft")) {
  ok <- is.finite(x) & is.finite(y)
  x <- x[ok]; y <- y[ok]; w <- w[ok]
  cost <- vapply(corners, function(cn) {
    r <- do.call(graphics::legend, c(list(x = cn), args, list(plot = FALSE)))$rect
    sum(w[x >= r$left & x <= r$left + r$w & y <= r$top & y >= r$top - r$h])
  }, numeric(1))
  corners[which.min(cost)]
}

# A text size for a legend (called with legend = TRUE) that keeps its box
# within about 40% of the width and 35% of the height of the plot region, at
# most cex and at least 0.6.
.mf_legend_fit <- function(args, cex) {
  r <- do.call(graphics::legend, c(list(x = "topright"), args, list(plot = FALSE)))$rect
  usr <- graphics::par("usr")
  f <- min(1, 0.4 * (usr[2L] - usr[1L]) / r$w, 0.35 * (usr[4L] - usr[3L]) / r$h)
  max(0.6, cex * f)
}
