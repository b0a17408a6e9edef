# Methods for selection models (class mf_selmodel, from selmodel()): print and
# summary laid out as metafor's print.rma.uni() of an rma.uni.selmodel fit,
# coef(), vcov(), anova() (Wald test of the coefficients, or the likelihood-
# ratio test against the model without selection), plot() of the estimated
# selection function, and errors for the methods of rma() fits that do not
# apply to a selection model.

#' Methods for selection models
#'
#' \code{print()} and \code{summary()} lay the fit out as \code{metafor}'s
#' printout of a selection model; \code{coef()} and \code{vcov()} return the
#' coefficients and their covariance matrix together with the selection
#' parameters (\code{type = "beta"} or \code{"delta"} for one of them);
#' \code{logLik()}, \code{deviance()}, \code{AIC()}, \code{BIC()} and
#' \code{fitstats} come from the selection model's likelihood.
#' \code{anova(object)} is the Wald test of the coefficients \code{btt};
#' \code{anova(object, object2)} with the \code{rma()} fit without selection
#' is the likelihood-ratio test of the selection parameters (metafor gives
#' this test in \code{object$LRT}; its \code{anova()} does not compare the
#' two).
#'
#' \code{plot()} draws the estimated selection function over the p-value
#' scale, as metafor's \code{plot()} of a selection model: \code{xlim}
#' (default \code{pval.min} to \code{1 - pval.min}), \code{ylim}, \code{n}
#' points, \code{prec} (\code{"min"}, \code{"max"}, \code{"mean"},
#' \code{"median"} of the precisions, or a value), \code{scale} (rescale to
#' [0, 1]), \code{ci} (\code{TRUE} or \code{"boot"}: pointwise intervals from
#' \code{reps} draws of the selection parameters from their asymptotic normal
#' distribution, \code{seed} in \code{...}; \code{"wald"}: the function at the
#' Wald limits of the parameters), \code{shade}, \code{rug} (the observed
#' p-values), \code{add}, \code{lty}, \code{lwd}.  It returns a data frame
#' \code{xs}, \code{ys}, \code{ys.lb}, \code{ys.ub} invisibly.
#'
#' @param x,object an object of class \code{mf_selmodel}.
#' @param object2 an \code{rma()} fit of the same data without selection.
#' @param btt the coefficients tested by \code{anova()} (default: those of the
#'   fit's omnibus test).
#' @param type \code{coef()}: \code{"beta"} or \code{"delta"} (default both,
#'   as a list); \code{vcov()}: \code{"fixed"} (both, as a list), \code{"beta"}
#'   or \code{"delta"}.
#' @param digits number of decimals.
#' @param showfit print the fit statistics.
#' @param signif.stars,signif.legend significance stars and their legend.
#' @param xlim,ylim,n,prec,scale,ci,reps,shade,rug,add,lty,lwd see Details.
#' @param ... \code{plot()}: graphical parameters and \code{seed}; otherwise
#'   ignored.
#' @return \code{print()} returns \code{x} invisibly; see Details for the
#'   others.
#' @examples
#' # metafor's example data for selection models (metadat, suggested)
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   fit <- rma(yi, vi, data = metadat::dat.hackshaw1998, method = "ML")
#'   sel <- selmodel(fit, type = "negexp")
#'   summary(sel)
#'   coef(sel)
#'   anova(sel, fit)
#'   plot(sel)
#' }
#' @name mf_selmodel-methods
NULL

#' @rdname mf_selmodel-methods
#' @export
print.mf_selmodel <- function(x, digits, showfit = FALSE, signif.stars = getOption("show.signif.stars"),
                              signif.legend = signif.stars, ...) {
  .mf_check_dots("print.mf_selmodel", ...)
  d <- .mf_digits(digits, x)
  ee <- !.mf_estimator_has(x$method, "random")
  fixtxt <- if (isTRUE(x$tau2.fix)) "specified" else "estimated"
  cat("\n")
  if (ee) {
    cat(if (!x$int.only) "Fixed-Effects with Moderators Model"
        else switch(x$method, FE = "Fixed-Effects Model", CE = "Common-Effects Model", "Equal-Effects Model"),
        " (k = ", x$k, ")", sep = "")
  } else {
    cat(if (x$int.only) "Random-Effects Model" else "Mixed-Effects Model", " (k = ", x$k, "; ",
        if (isTRUE(x$tau2.fix)) "user-specified tau^2 value)" else paste0("tau^2 estimator: ", x$method, ")"),
        sep = "")
  }
  cat("\n")
  if (showfit) {
    fs <- .mf_fmtx(x$fit.stats[["ML"]], d)
    names(fs) <- c("logLik", "deviance", "AIC", "BIC", "AICc")
    cat("\n")
    .mf_sel_cat_table(utils::capture.output(print(fs, quote = FALSE, print.gap = 2)))
  }
  cat("\n")
  if (!ee) {
    tau2txt <- .mf_fmtx(x$tau2, d)
    if (!is.na(x$se.tau2)) tau2txt <- paste0(tau2txt, " (SE = ", .mf_fmtx(x$se.tau2, d), ")")
    if (x$int.only) {
      cat("tau^2 (", fixtxt, " amount of total heterogeneity): ", tau2txt, "\n", sep = "")
      cat("tau (square root of ", fixtxt, " tau^2 value):      ", .mf_fmtx(sqrt(x$tau2), d), "\n", sep = "")
    } else {
      cat("tau^2 (", fixtxt, " amount of residual heterogeneity): ", tau2txt, "\n", sep = "")
      cat("tau (square root of ", fixtxt, " tau^2 value):         ", .mf_fmtx(sqrt(x$tau2), d), "\n", sep = "")
    }
    cat("\n")
  }
  if (!is.na(x$LRT.tau2)) {
    cat(if (x$int.only) "Test for Heterogeneity:\n" else "Test for Residual Heterogeneity:\n",
        .mf_fmtt(x$LRT.tau2, "LRT", df = 1, pval = x$LRTp.tau2, digits = d), "\n\n", sep = "")
  }
  signif <- .mf_sel_print_beta(x, d, signif.stars)
  if (!is.na(x$LRT)) {
    cat("\nTest for Selection Model Parameters:\n",
        .mf_fmtt(x$LRT, "LRT", df = x$LRTdf, pval = x$LRTp, digits = d), "\n", sep = "")
  }
  tab <- data.frame(estimate = .mf_fmtx(x$delta, d), se = .mf_fmtx(x$se.delta, d),
                    zval = .mf_fmtx(x$zval.delta, d), pval = .mf_fmtp(x$pval.delta, d),
                    ci.lb = .mf_fmtx(x$ci.lb.delta, d), ci.ub = .mf_fmtx(x$ci.ub.delta, d), stringsAsFactors = FALSE)
  if (x$type %in% c("stepfun", "stepcon")) {
    rownames(tab) <- rownames(x$ptable)
    tab <- cbind(k = x$ptable$k, tab)
  } else {
    rownames(tab) <- paste0("delta.", seq_along(x$delta))
  }
  sig2 <- stats::symnum(x$pval.delta, corr = FALSE, na = FALSE, cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                        symbols = c("***", "**", "*", ".", " "))
  if (isTRUE(signif.stars)) {
    tab <- cbind(tab, as.character(sig2), stringsAsFactors = FALSE)
    colnames(tab)[ncol(tab)] <- ""
  }
  for (j in seq_len(nrow(tab))) {
    miss <- vapply(tab[j, ], function(v) is.na(v) || identical(v, "NA"), logical(1))
    tab[j, miss] <- if (x$delta.fix[j]) "---" else "NA"
  }
  cat("\nSelection Model Results:\n\n")
  if (length(x$delta) == 1L) {
    .mf_sel_print_row(tab)
  } else {
    .mf_sel_print_df(tab)
  }
  if (isTRUE(signif.legend)) cat("\n---\nSignif. codes:  ", attr(signif, "legend"), "\n", sep = "")
  cat("\n")
  invisible(x)
}

# One row of a table without its row name, columns as wide as the wider of
# name and value (metafor's layout of single-row tables)
.mf_sel_print_row <- function(tab) {
  v <- vapply(tab[1L, , drop = TRUE], as.character, "")
  nm <- colnames(tab)
  w <- pmax(nchar(nm), nchar(v))
  pad <- function(s) paste(mapply(formatC, s, width = w), collapse = "  ")
  .mf_sel_cat_table(c(pad(nm), pad(v)))
}

# Table lines end in a space, as metafor prints them
.mf_sel_cat_table <- function(lines) cat(paste0(lines, " \n"), sep = "")
.mf_sel_print_df <- function(tab) {
  .mf_sel_cat_table(utils::capture.output(print(tab, quote = FALSE, right = TRUE, print.gap = 2)))
}

# The test of moderators and the table of coefficients (z tests)
.mf_sel_print_beta <- function(x, d, signif.stars) {
  if (x$p > 1L && !is.na(x$QM)) {
    cat("Test of Moderators (coefficient", if (length(x$btt) == 1L) " " else "s ", .mf_format_btt(x$btt), "):\n", sep = "")
    cat(.mf_fmtt(x$QM, "QM", df = length(x$btt), pval = x$QMp, digits = d), "\n\n", sep = "")
  }
  tab <- data.frame(estimate = .mf_fmtx(c(x$beta), d), se = .mf_fmtx(x$se, d), zval = .mf_fmtx(x$zval, d),
                    pval = .mf_fmtp(x$pval, d), ci.lb = .mf_fmtx(x$ci.lb, d), ci.ub = .mf_fmtx(x$ci.ub, d),
                    stringsAsFactors = FALSE)
  rownames(tab) <- rownames(x$beta)
  signif <- stats::symnum(x$pval, corr = FALSE, na = FALSE, cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                          symbols = c("***", "**", "*", ".", " "))
  if (isTRUE(signif.stars)) {
    tab <- cbind(tab, as.character(signif), stringsAsFactors = FALSE)
    colnames(tab)[ncol(tab)] <- ""
  }
  cat("Model Results:\n\n")
  if (x$int.only) .mf_sel_print_row(tab) else .mf_sel_print_df(tab)
  invisible(signif)
}

#' @rdname mf_selmodel-methods
#' @export
summary.mf_selmodel <- function(object, digits, ...) {
  .mf_check_dots("summary.mf_selmodel", ...)
  if (!missing(digits)) object$digits <- digits
  class(object) <- c("summary.mf_selmodel", class(object))
  object
}

#' @rdname mf_selmodel-methods
#' @export
print.summary.mf_selmodel <- function(x, digits, showfit = TRUE, signif.stars = getOption("show.signif.stars"),
                                      signif.legend = signif.stars, ...) {
  class(x) <- setdiff(class(x), "summary.mf_selmodel")
  print.mf_selmodel(x, digits = .mf_digits(digits, x), showfit = showfit, signif.stars = signif.stars,
                    signif.legend = signif.legend, ...)
  invisible(x)
}

.mf_sel_delta_names <- function(x) if (length(x$delta) == 1L) "delta" else paste0("delta.", seq_along(x$delta))

#' @rdname mf_selmodel-methods
#' @export
coef.mf_selmodel <- function(object, type, ...) {
  b <- c(object$beta)
  names(b) <- rownames(object$beta)
  d <- object$delta
  names(d) <- .mf_sel_delta_names(object)
  if (missing(type)) return(list(beta = b, delta = d))
  if (!is.character(type) || length(type) != 1L || !type %in% c("beta", "delta"))
    .mf_stop("'type' must be \"beta\" or \"delta\".")
  if (type == "beta") b else d
}

#' @rdname mf_selmodel-methods
#' @export
vcov.mf_selmodel <- function(object, type = "fixed", ...) {
  if (!is.character(type) || length(type) != 1L || !type %in% c("fixed", "beta", "delta"))
    .mf_stop("'type' must be \"fixed\", \"beta\" or \"delta\" for a selection model.")
  switch(type, fixed = list(beta = object$vb, delta = object$vd), beta = object$vb, delta = object$vd)
}

#' @rdname mf_selmodel-methods
#' @export
anova.mf_selmodel <- function(object, object2, btt, digits, ...) {
  .mf_check_dots("anova.mf_selmodel", ...)
  d <- .mf_digits(digits, object)
  if (!missing(object2)) {
    if (!inherits(object2, "mf_rma") || inherits(object2, "mf_selmodel"))
      .mf_stop("'object2' must be the rma() fit without selection.")
    if (object2$k != object$k || !isTRUE(all.equal(c(object2$yi), c(object$yi))))
      .mf_stop("'object2' must be fitted to the same data as 'object'.")
    ml <- if (identical(object2$method, "ML") || !.mf_estimator_has(object2$method, "random")) object2 else
      suppressWarnings(do.call(rma, c(list(yi = c(object2$yi), vi = object2$vi, mods = object2$X, intercept = FALSE,
                                           method = "ML"), if (isTRUE(object2$tau2.fix)) list(tau2 = object2$tau2))))
    ll0 <- ml$fit.stats["ll", "ML"]
    LRT <- max(0, -2 * (ll0 - object$ll))
    df <- object$parms - (ml$p + .mf_estimator_has(ml$method, "random") - isTRUE(ml$tau2.fix))
    out <- list(fit.stats.f = object$fit.stats[["ML"]], fit.stats.r = ml$fit.stats[["ML"]], parms.f = object$parms,
                parms.r = ml$parms, LRT = LRT, df = df,
                pval = if (df > 0) stats::pchisq(LRT, df = df, lower.tail = FALSE) else NA_real_,
                tau2.f = object$tau2, tau2.r = ml$tau2, digits = d)
    names(out$fit.stats.f) <- names(out$fit.stats.r) <- c("ll", "dev", "AIC", "BIC", "AICc")
    class(out) <- "mf_anova_selmodel"
    return(out)
  }
  if (missing(btt)) btt <- object$btt
  if (!is.numeric(btt) || anyNA(btt) || any(btt < 1 | btt > object$p | btt != round(btt)))
    .mf_stop(sprintf("'btt' must hold coefficient numbers between 1 and %d.", object$p))
  btt <- sort(unique(as.integer(btt)))
  QM <- .mf_wald_stat(object, btt = btt)  # (R/wald.R)
  out <- list(QM = QM, QMdf = c(length(btt), NA), QMp = stats::pchisq(QM, df = length(btt), lower.tail = FALSE),
              btt = btt, k = object$k, p = object$p, m = length(btt), test = "z", digits = d, type = "Wald.btt")
  class(out) <- "mf_anova_selmodel"
  out
}

#' @rdname mf_selmodel-methods
#' @export
print.mf_anova_selmodel <- function(x, digits = x$digits, ...) {
  d <- digits
  if (!is.null(x$LRT)) {
    tab <- data.frame(df = c(x$parms.f, x$parms.r), AIC = .mf_fmtx(c(x$fit.stats.f[["AIC"]], x$fit.stats.r[["AIC"]]), d),
                      BIC = .mf_fmtx(c(x$fit.stats.f[["BIC"]], x$fit.stats.r[["BIC"]]), d),
                      AICc = .mf_fmtx(c(x$fit.stats.f[["AICc"]], x$fit.stats.r[["AICc"]]), d),
                      logLik = .mf_fmtx(c(x$fit.stats.f[["ll"]], x$fit.stats.r[["ll"]]), d),
                      LRT = c("", .mf_fmtx(x$LRT, d)), pval = c("", .mf_fmtp(x$pval, d)),
                      tau2 = .mf_fmtx(c(x$tau2.f, x$tau2.r), d), stringsAsFactors = FALSE)
    rownames(tab) <- c("Selection", "No selection")
    cat("\n")
    print(tab, quote = FALSE, right = TRUE, print.gap = 2)
    cat("\n")
  } else {
    cat("\nTest of Moderators (coefficient", if (x$m == 1) " " else "s ", .mf_format_btt(x$btt), "):\n", sep = "")
    cat(.mf_fmtt(x$QM, "QM", df = x$QMdf[1], pval = x$QMp, digits = d), "\n\n", sep = "")
  }
  invisible(x)
}

#' @rdname mf_selmodel-methods
#' @export
logLik.mf_selmodel <- function(object, ...) {
  val <- object$ll
  attr(val, "nall") <- object$k
  attr(val, "nobs") <- object$k
  attr(val, "df") <- object$parms
  class(val) <- "logLik"
  val
}

#' @rdname mf_selmodel-methods
#' @export
deviance.mf_selmodel <- function(object, ...) object$fit.stats["dev", "ML"]

# The selection function w(p) in R (for plot(); the likelihood uses the C++ one)
.mf_sel_wfun <- function(x, p, delta, preci) {
  s <- x$steps
  s1 <- if (length(s) && !is.na(s[1L])) s[1L] else 0
  base <- function(b, dd) {
    a <- dd * preci
    switch(b, halfnorm = exp(-a * p^2) / exp(-a * s1^2), negexp = exp(-a * p) / exp(-a * s1),
           logistic = (2 * exp(-a * p) / (1 + exp(-a * p))) / (2 * exp(-a * s1) / (1 + exp(-a * s1))),
           power = (1 - p)^a / (1 - s1)^a)
  }
  t <- x$type
  if (t %in% c("stepfun", "stepcon")) return(delta[vapply(p, function(v) which(v <= s)[1L], 1L)] / preci)
  if (t == "beta") {
    q <- pmin(pmax(s[1L], p), s[2L])
    return(q^(delta[1L] - 1) * (1 - q)^(delta[2L] - 1))
  }
  if (t %in% c("halfnorm", "negexp", "logistic", "power")) return(ifelse(p <= s1, 1, base(t, delta[1L])))
  if (t == "negexppow")
    return(ifelse(p <= s1, 1, exp(-delta[1L] * preci * p^(1 / delta[2L])) / exp(-delta[1L] * preci * s1^(1 / delta[2L]))))
  if (t %in% c("halfnorm1", "negexp1", "logistic1", "power1")) {
    z <- (p - s1) / (1 - s1)
    a <- delta[1L] * preci
    v <- switch(t, halfnorm1 = exp(-a * z^2), negexp1 = exp(-a * z), logistic1 = 2 * exp(-a * z) / (1 + exp(-a * z)),
                power1 = (1 - z)^a)
    return(ifelse(p <= s1, 1, v))
  }
  b <- sub("2$", "", t)
  ifelse(p <= s1, 1, (delta[1L] + base(b, delta[2L])) / (1 + delta[1L]))
}

#' @rdname mf_selmodel-methods
#' @export
plot.mf_selmodel <- function(x, xlim, ylim, n = 1000, prec = "max", scale = FALSE, ci = FALSE, reps = 1000,
                             shade = TRUE, rug = TRUE, add = FALSE, lty = c("solid", "dotted"), lwd = c(2, 1), ...) {
  .mf_check_dots("plot.mf_selmodel", ...)
  if (x$type %in% c("trunc", "truncest"))
    .mf_stop("Cannot draw the selection function for this type of selection model ('type' = \"trunc\").")
  dots <- list(...)
  seed <- dots$seed
  dots$seed <- NULL
  if (is.character(shade)) {
    shadecol <- shade
    shade <- TRUE
  } else {
    shadecol <- grDevices::adjustcolor(graphics::par("fg"), alpha.f = 0.1)
    bgc <- graphics::par("bg")
    if (!identical(bgc, "transparent")) {
      rgbv <- grDevices::col2rgb(bgc)[, 1] / 255
      dark <- sum(rgbv * c(0.299, 0.587, 0.114)) < 0.5
      shadecol <- grDevices::rgb(t(pmin(pmax(rgbv + if (dark) 0.1 else -0.1, 0), 1)))
    } else {
      shadecol <- "gray90"
    }
  }
  citype <- "boot"
  if (is.character(ci)) {
    if (length(ci) != 1L || !tolower(ci) %in% c("boot", "wald")) .mf_stop("'ci' must be TRUE, FALSE, \"boot\" or \"wald\".")
    citype <- tolower(ci)
    ci <- TRUE
  } else if (!is.logical(ci) || length(ci) != 1L || is.na(ci)) .mf_stop("'ci' must be TRUE, FALSE, \"boot\" or \"wald\".")
  if (missing(xlim)) xlim <- c(x$pval.min, 1 - x$pval.min)
  if (!is.numeric(xlim) || length(xlim) != 2L) .mf_stop("Argument 'xlim' should be a vector of length 2.")
  xlim <- sort(xlim)
  if (xlim[1L] < 0 || xlim[2L] > 1) .mf_stop("Values for 'xlim' should be between 0 and 1.")
  if (length(prec) != 1L) .mf_stop("Argument 'prec' should be of length 1.")
  if (is.character(prec)) {
    if (!prec %in% c("min", "max", "mean", "median")) .mf_stop("Unknown options specified for the 'prec' argument.")
    prec <- x$precis[[prec]]
  } else if (is.numeric(prec) && !x$precspec) {
    prec <- 1
  }
  if (!is.numeric(n) || length(n) != 1L || n < 2) .mf_stop("'n' must be a number >= 2.")
  delta <- x$delta
  ps <- seq(xlim[1L], xlim[2L], length.out = n)
  if (x$type %in% c("stepfun", "stepcon")) {
    ps <- unique(sort(c(ps, x$steps)))
    ps <- ps[ps >= xlim[1L] & ps <= xlim[2L]]
    ptype <- "S"
  } else {
    ptype <- "l"
  }
  ys <- .mf_sel_wfun(x, ps, delta, prec)
  if (ci && citype == "boot" && all(is.na(x$vd))) ci <- FALSE
  if (ci && citype == "wald" && all(is.na(x$ci.lb.delta)) && all(is.na(x$ci.ub.delta))) ci <- FALSE
  if (ci && citype == "wald" && !x$type %in% c("stepfun", "stepcon") && sum(!x$delta.fix) >= 2L)
    .mf_stop("Cannot compute Wald-type confidence intervals for this selection model ('ci' = \"wald\").")
  ys.lb <- ys.ub <- NA_real_
  if (ci) {
    if (citype == "boot") {
      if (!is.null(seed)) set.seed(seed)
      vd <- x$vd
      na <- is.na(diag(vd))
      vd[na, ] <- 0
      vd[, na] <- 0
      dsim <- .mf_mvrnorm(reps, delta, vd)
      for (j in seq_len(ncol(dsim))) dsim[, j] <- pmin(pmax(dsim[, j], x$delta.min[j]), x$delta.max[j])
      lev <- x$level
      q <- vapply(ps, function(pv) {
        ysim <- apply(dsim, 1L, function(dd) .mf_sel_wfun(x, pv, dd, prec))
        stats::quantile(ysim, probs = c(lev / 2, 1 - lev / 2))
      }, numeric(2))
      ys.lb <- q[1L, ]
      ys.ub <- q[2L, ]
    } else {
      lb <- x$ci.lb.delta
      ub <- x$ci.ub.delta
      if (x$type %in% c("stepfun", "stepcon")) {
        lb[x$delta.fix] <- delta[x$delta.fix]
        ub[x$delta.fix] <- delta[x$delta.fix]
      }
      ys.lb <- .mf_sel_wfun(x, ps, lb, prec)
      ys.ub <- .mf_sel_wfun(x, ps, ub, prec)
    }
  }
  if (isTRUE(scale)) {
    ys[is.infinite(ys)] <- NA_real_
    rng <- max(ys, na.rm = TRUE) - min(ys, na.rm = TRUE)
    mn <- min(ys, na.rm = TRUE)
    if (rng > .Machine$double.eps^0.5) {
      ys <- (ys - mn) / rng
      ys.lb <- (ys.lb - mn) / rng
      ys.ub <- (ys.ub - mn) / rng
    }
  }
  ys[!is.na(ys) & ys < 0] <- 0
  ys.lb[!is.na(ys.lb) & ys.lb < 0] <- 0
  ys.ub[!is.na(ys.ub) & ys.ub < 0] <- 0
  if (missing(ylim)) {
    if (x$type %in% c("halfnorm", "negexp", "logistic", "power", "negexppow", "halfnorm2", "negexp2", "logistic2", "power2")) {
      ylim <- c(0, 1)
    } else if (ci) {
      ylim <- c(min(c(ys.lb[is.finite(ys.lb)], ys[is.finite(ys)]), na.rm = TRUE),
                max(c(ys.ub[is.finite(ys.ub)], ys[is.finite(ys)]), na.rm = TRUE))
    } else {
      ylim <- range(ys[is.finite(ys)], na.rm = TRUE)
    }
  } else {
    if (!is.numeric(ylim) || length(ylim) != 2L) .mf_stop("Argument 'ylim' should be a vector of length 2.")
    ylim <- sort(ylim)
  }
  lty <- rep_len(lty, 2L)
  lwd <- rep_len(lwd, 2L)
  if (!isTRUE(add))
    do.call(graphics::plot, c(list(ps, ys, ylim = ylim, type = "n", xlab = "p-value",
                                   ylab = "Relative Likelihood of Selection"), dots))
  if (ci) {
    if (isTRUE(shade)) {
      a <- stats::approx(ps, ys.lb, n = 10000, method = "constant", f = 1)
      b <- stats::approx(ps, ys.ub, n = 10000, method = "constant", f = 1)
      graphics::polygon(c(a$x, rev(b$x)), c(a$y, rev(b$y)), col = shadecol, border = NA)
    }
    do.call(graphics::lines, c(list(ps, ys.lb, type = ptype, lty = lty[2L], lwd = lwd[2L]), dots))
    do.call(graphics::lines, c(list(ps, ys.ub, type = ptype, lty = lty[2L], lwd = lwd[2L]), dots))
  }
  if (isTRUE(rug) && !isTRUE(add)) graphics::rug(x$pvals, quiet = TRUE)
  do.call(graphics::lines, c(list(ps, ys, type = ptype, lty = lty[1L], lwd = lwd[1L]), dots))
  invisible(data.frame(xs = ps, ys = ys, ys.lb = ys.lb, ys.ub = ys.ub))
}

# n draws from N(mu, Sigma) by the eigen decomposition (Sigma may be singular)
.mf_mvrnorm <- function(n, mu, Sigma) {
  p <- length(mu)
  e <- eigen(Sigma, symmetric = TRUE)
  ev <- pmax(e$values, 0)
  z <- matrix(stats::rnorm(p * n), n, p, byrow = TRUE)
  sweep(z %*% t(e$vectors %*% diag(sqrt(ev), p)), 2L, mu, "+")
}

#' Profile-likelihood intervals and profiles of a selection model
#'
#' \code{confint()} gives, as metafor's \code{confint()} of a selection model,
#' the profile-likelihood confidence interval of \eqn{\tau^2} and of each
#' estimated selection parameter \eqn{\delta_j} (or of the one chosen with
#' \code{tau2 = TRUE} or \code{delta = j}): the values at which
#' \eqn{-2(\ell(\theta) - \ell(\hat\theta))} equals \code{qchisq(1 - alpha, 1)},
#' with the model refitted (the other parameters re-estimated) at each value
#' of the component, found by \code{uniroot()} on \code{[vc.min, estimate]} and
#' \code{[estimate, vc.max]}.  \code{control}: \code{vc.min}, \code{vc.max}
#' (metafor's defaults: 0 and \code{max(10, 100} times the estimate\code{)} for
#' \eqn{\tau^2}; \code{delta.min} and \code{max(10, 10} times the
#' estimate\code{)} within \code{delta.max} for \eqn{\delta}), \code{tol}
#' (\code{uniroot()}'s tolerance, \code{.Machine$double.eps^0.25} as in
#' metafor; smaller values give the bounds to more digits), \code{maxiter},
#' \code{eptries}, \code{verbose}.  A bound at \code{vc.min}/\code{vc.max}
#' where the statistic is still below the cut-off is shown with
#' \code{"<"}/\code{">"}.  \code{fixed = TRUE} adds the Wald intervals of the
#' coefficients.  As in metafor, neither method is available for step
#' functions with \code{decreasing = TRUE} or \code{type = "stepcon"}.
#'
#' \code{profile()} refits the model with \eqn{\tau^2} or \eqn{\delta_j} held at
#' each of \code{steps} values in \code{xlim} (default: the estimate plus and
#' minus \code{qnorm(0.995)} standard errors, within the parameter's range) and
#' returns (and by default draws, \code{\link{plot.mf_profile}}) the
#' log-likelihood, the coefficients and their Wald bounds at each value; all
#' estimated components when neither \code{tau2} nor \code{delta} is given.
#'
#' @param object,fitted an object of class \code{mf_selmodel}.
#' @param parm ignored, with metafor's warning.
#' @param level confidence level (default: the fit's).
#' @param fixed also give the Wald intervals of the coefficients.
#' @param tau2 \code{TRUE} (or 1): the component \eqn{\tau^2}.
#' @param delta the number of the selection parameter.
#' @param digits number of decimals for printing.
#' @param transf,targs function (and its arguments) applied to the
#'   coefficients and their bounds (\code{fixed = TRUE}).
#' @param verbose show each step of the search.
#' @param control see Details.
#' @param xlim \code{confint()}: shorthand for \code{control = list(vc.min =
#'   xlim[1], vc.max = xlim[2])}; \code{profile()}: the range of values.
#' @param ylim the y-range of the plot.
#' @param steps number of values (at least 2), or the values themselves.
#' @param lltol a profiled log-likelihood above the fit's by more than
#'   \code{lltol} gives a warning.
#' @param progbar accepted for compatibility (no progress bar is shown).
#' @param parallel,ncpus,cl metafor's parallel backends: only \code{"no"}, 1
#'   and none are accepted.
#' @param plot draw the profile.
#' @param ... \code{profile()}: passed to \code{\link{plot.mf_profile}};
#'   \code{confint()}: metafor's \code{time} is accepted and ignored.
#' @return \code{confint()}: an object of class \code{confint.mf_rma} (one
#'   component; rows \code{tau^2} and \code{tau}, or \code{delta} /
#'   \code{delta.j}; columns \code{estimate}, \code{ci.lb}, \code{ci.ub}), or a
#'   list of them of class \code{list.confint.mf_rma}.  \code{profile()}: an
#'   object of class \code{mf_profile} with metafor's fields (\code{tau2} or
#'   \code{delta}, \code{ll}, \code{beta}, \code{ci.lb}, \code{ci.ub},
#'   \code{comps}, \code{ylim}, \code{method}, \code{vc}, \code{maxll},
#'   \code{xlab}, \code{title}), or a list of them.
#' @examples
#' dat <- data.frame(yi = c(0.45, 0.30, 0.62, 0.05, 0.51, 0.38, 0.20, 0.71, 0.12, 0.40),
#'                   vi = c(0.04, 0.02, 0.09, 0.01, 0.06, 0.03, 0.02, 0.10, 0.01, 0.05))
#' sel <- selmodel(rma(yi, vi, data = dat, method = "ML"), type = "stepfun", steps = 0.025)
#' confint(sel)
#' pr <- profile(sel, delta = 2, steps = 5, plot = FALSE)
#' pr$ll
#' @name mf_selmodel-profile
NULL

#' @rdname mf_selmodel-profile
#' @export
confint.mf_selmodel <- function(object, parm, level, fixed = FALSE, tau2, delta, digits, transf, targs,
                                verbose = FALSE, control, ..., xlim) {
  .mf_check_dots("confint.mf_selmodel", ...)
  x <- object
  if (!missing(parm)) warning("Argument 'parm' (currently) ignored.", call. = FALSE)
  if (isTRUE(x$decreasing) || x$type == "stepcon")
    .mf_stop("Method not currently implemented for this type of model (step functions with decreasing = TRUE or type = \"stepcon\"), as in metafor.")
  alpha <- if (missing(level)) x$level else .mf_level(level)
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  if (!is.logical(fixed) || length(fixed) != 1L || is.na(fixed)) .mf_stop("'fixed' must be TRUE or FALSE.")
  control <- if (missing(control) || is.null(control)) list() else control
  if (!is.list(control)) .mf_stop("'control' must be a list.")
  if (!missing(xlim)) {
    if (!is.numeric(xlim) || length(xlim) != 2L || anyNA(xlim)) .mf_stop("Argument 'xlim' should be a vector of length 2.")
    control$vc.min <- xlim[1L]
    control$vc.max <- xlim[2L]
  }
  random <- !missing(tau2) || !missing(delta)
  if (!fixed && !random) {
    comps <- .mf_sel_components(x, "No components for which a CI can be obtained.")
    res.all <- lapply(seq_len(nrow(comps)), function(j) {
      if (isTRUE(verbose)) message(sprintf("Obtaining CI for %s", if (comps$comp[j] == "tau2") "tau2" else paste("delta =", comps$pos[j])))
      .mf_sel_ci_one(x, comps$comp[j], comps$pos[j], alpha, d, control, verbose)
    })
    if (length(res.all) == 1L) return(res.all[[1L]])
    res.all$digits <- d
    class(res.all) <- "list.confint.mf_rma"
    return(res.all)
  }
  res <- list()
  if (fixed) {
    crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
    res$fixed <- .mf_fixed_ci_table(x, crit, if (missing(transf)) NULL else transf,
                                    if (missing(targs)) NULL else targs)
  }
  if (random) {
    cp <- .mf_sel_component_arg(x, tau2, delta)
    one <- .mf_sel_ci_one(x, cp$comp, cp$pos, alpha, d, control, verbose)
    res$random <- one$random
    res[c("ci.null", "lb.sign", "ub.sign")] <- one[c("ci.null", "lb.sign", "ub.sign")]
  }
  res$digits <- d
  class(res) <- "confint.mf_rma"
  res
}

#' @rdname mf_selmodel-profile
#' @export
profile.mf_selmodel <- function(fitted, tau2, delta, xlim, ylim, steps = 20, lltol = 1e-03, progbar = TRUE,
                                parallel = "no", ncpus = 1, cl, plot = TRUE, ...) {
  .mf_check_dots("profile.mf_selmodel", ...)
  x <- fitted
  if (isTRUE(x$decreasing) || x$type == "stepcon")
    .mf_stop("Method not currently implemented for this type of model (step functions with decreasing = TRUE or type = \"stepcon\"), as in metafor.")
  if (!identical(parallel, "no"))
    .mf_stop(sprintf("parallel = \"%s\" (metafor's parallel backends) is not supported by metafast's profile().",
                     paste(parallel, collapse = "")))
  if (!missing(cl) || !identical(as.numeric(ncpus), 1))
    .mf_stop("'ncpus' and 'cl' (metafor's arguments for its parallel backends) are not supported by metafast's profile().")
  if (!is.numeric(steps) || anyNA(steps)) .mf_stop("No missing values allowed in 'steps' argument.")
  if (!is.numeric(lltol) || length(lltol) != 1L || is.na(lltol)) .mf_stop("'lltol' must be a single number.")
  xl <- if (missing(xlim)) NULL else xlim
  yl <- if (missing(ylim)) NULL else ylim
  if (missing(tau2) && missing(delta)) {
    comps <- .mf_sel_components(x, "No components in the model for which a profile likelihood can be constructed.")
    n <- nrow(comps)
    if (isTRUE(plot) && n > 1L) {
      if (grDevices::dev.cur() == 1L || prod(graphics::par("mfrow")) < n)
        graphics::par(mfrow = grDevices::n2mfrow(n))
      on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
    }
    sav <- lapply(seq_len(n), function(j) .mf_sel_profile_one(x, comps$comp[j], comps$pos[j], xl, yl, steps, lltol,
                                                              plot, ...))
    if (n == 1L) sav <- sav[[1L]]
    sav$comps <- n
    class(sav) <- "mf_profile"
    return(invisible(sav))
  }
  if (!missing(tau2) && is.numeric(tau2)) tau2 <- unique(round(tau2))
  if (!missing(delta) && is.numeric(delta)) delta <- unique(round(delta))
  cp <- .mf_sel_component_arg(x, tau2, delta)
  invisible(.mf_sel_profile_one(x, cp$comp, cp$pos, xl, yl, steps, lltol, plot, ...))
}

# The estimated components (tau2, then the free deltas), as metafor orders them
.mf_sel_components <- function(x, none) {
  tau2 <- .mf_estimator_has(x$method, "random") && !isTRUE(x$tau2.fix)
  pos <- which(!x$delta.fix)
  out <- data.frame(comp = c(if (tau2) "tau2", rep("delta", length(pos))), pos = c(if (tau2) 1L, pos),
                    stringsAsFactors = FALSE)
  if (!nrow(out)) .mf_stop(none)
  out
}

# The component chosen with tau2 = / delta = (metafor's checks and messages)
.mf_sel_component_arg <- function(x, tau2, delta) {
  has.tau2 <- !missing(tau2)
  has.delta <- !missing(delta)
  if (has.tau2 && has.delta) .mf_stop("Must specify only one of the 'tau2' or 'delta' arguments.")
  if (has.tau2) {
    if (!.mf_estimator_has(x$method, "random") || isTRUE(x$tau2.fix))
      .mf_stop("Model does not contain an (estimated) 'tau2' component.")
    if (length(tau2) != 1L) .mf_stop("Can only specify one 'tau2' component.")
    if (is.logical(tau2) && isTRUE(tau2)) tau2 <- 1
    if (!is.numeric(tau2) || is.na(tau2) || tau2 > 1 || tau2 <= 0) .mf_stop("No such 'tau2' component in the model.")
    return(list(comp = "tau2", pos = 1L))
  }
  if (all(x$delta.fix)) .mf_stop("Model does not contain any estimated 'delta' components.")
  if (length(delta) != 1L) .mf_stop("Can only specify one 'delta' component.")
  if (is.logical(delta) || !is.numeric(delta) || is.na(delta)) .mf_stop("Must specify a number for the 'delta' component.")
  if (delta > x$deltas || delta <= 0) .mf_stop("No such 'delta' component in the model.")
  if (x$delta.fix[delta]) .mf_stop("Specified 'delta' component was fixed.")
  list(comp = "delta", pos = as.integer(delta))
}

# The selection model refitted with tau2 or delta[pos] held at val (metafor's
# refit of its object: same type, steps, control and start values), NULL when
# the refit fails.
.mf_sel_refit_at <- function(x, comp, pos, val, skiphes) {
  delta.arg <- ifelse(x$delta.fix, x$delta, NA_real_)
  if (comp == "delta") delta.arg[pos] <- val
  tryCatch(suppressWarnings(.mf_selmodel_fit(x, x$type, x$alternative, prec = x$prec, delta = delta.arg,
                                             steps = if (isTRUE(x$stepsspec)) x$steps else NULL,
                                             decreasing = x$decreasing, control = x$control,
                                             tau2 = if (comp == "tau2") val else NA_real_, skiphes = skiphes,
                                             skiphet = TRUE)),
           error = function(e) NULL)
}

# The profile-likelihood interval of one component (metafor's search)
.mf_sel_ci_one <- function(x, comp, pos, alpha, d, control, verbose) {
  vc <- if (comp == "tau2") x$tau2 else x$delta[pos]
  con <- list(tol = .Machine$double.eps^0.25, maxiter = 1000, verbose = FALSE, eptries = 10)
  if (comp == "tau2") {
    con$vc.min <- 0
    con$vc.max <- min(max(if (vc <= .Machine$double.eps^0.5) 10 else max(10, vc * 100), con$vc.min), x$tau2.max)
  } else {
    con$vc.min <- max(0, x$delta.min[pos])
    con$vc.max <- min(max(if (vc <= .Machine$double.eps^0.5) 10 else max(10, vc * 10), con$vc.min), x$delta.max[pos])
  }
  if (length(control)) {
    cp <- pmatch(names(control), names(con))
    con[stats::na.omit(cp)] <- control[!is.na(cp)]
  }
  if (isTRUE(verbose)) con$verbose <- TRUE
  verbose <- isTRUE(con$verbose)
  for (nm in c("tol", "maxiter", "eptries", "vc.min", "vc.max"))
    if (!is.numeric(con[[nm]]) || length(con[[nm]]) != 1L || is.na(con[[nm]]))
      .mf_stop(sprintf("'control$%s' must be a single number.", nm))
  if (con$vc.min > vc) .mf_stop("Lower bound of interval to be searched must be <= estimated value of component.")
  if (con$vc.max < vc) .mf_stop("Upper bound of interval to be searched must be >= estimated value of component.")
  objective <- stats::qchisq(1 - alpha, df = 1)
  maxll <- x$ll
  prof <- function(val) {
    f <- .mf_sel_refit_at(x, comp, pos, val, skiphes = TRUE)
    out <- if (is.null(f)) NA_real_ else -2 * (f$ll - maxll) - objective
    if (verbose) message(sprintf("val = %s  LRT - objective = %s", formatC(val, format = "f", digits = d),
                                 if (is.na(out)) "NA" else formatC(out, format = "f", digits = d)))
    if (is.na(out)) stop("refit failed")
    out
  }
  bd <- .mf_profile_ci_bounds(prof, vc, con, lb_open = function(e) e > 0, ub_open = function(e) TRUE)
  vc.lb <- bd$lb
  vc.ub <- bd$ub
  lb.sign <- bd$lb.sign
  ub.sign <- bd$ub.sign
  est <- c(vc, vc.lb, vc.ub)
  if (comp == "tau2") {
    tab <- rbind(est, sqrt(ifelse(est >= 0, est, NA_real_)))
    rownames(tab) <- c("tau^2", "tau")
  } else {
    tab <- rbind(est)
    rownames(tab) <- if (x$deltas == 1L) "delta" else paste0("delta.", pos)
  }
  colnames(tab) <- c("estimate", "ci.lb", "ci.ub")
  res <- list(random = tab, digits = d, ci.null = FALSE, lb.sign = lb.sign, ub.sign = ub.sign)
  class(res) <- "confint.mf_rma"
  res
}

# The profile of one component (metafor's profile.rma.uni.selmodel)
.mf_sel_profile_one <- function(x, comp, pos, xlim, ylim, steps, lltol, plot, ...) {
  vc <- if (comp == "tau2") x$tau2 else x$delta[pos]
  stepseq <- length(steps) >= 2L
  if (stepseq) {
    if (is.null(xlim)) xlim <- range(steps)
  } else if (steps < 2) .mf_stop("Argument 'steps' must be >= 2.")
  if (is.null(xlim)) {  # (metafor's defaults)
    z <- stats::qnorm(0.995)
    if (comp == "tau2") {
      xlim <- if (is.na(x$se.tau2)) c(max(0, vc / 4), min(max(0.1, vc * 4), x$tau2.max))
              else c(max(0, vc - z * x$se.tau2), min(max(0.1, vc + z * x$se.tau2), x$tau2.max))
    } else {
      se <- x$se.delta[pos]
      xlim <- if (is.na(se)) c(max(0, vc / 4, x$delta.min[pos]), min(max(0.1, vc * 4), x$delta.max[pos]))
              else c(max(0, vc - z * se, x$delta.min[pos]), min(max(0.1, vc + z * se), x$delta.max[pos]))
    }
    if (anyNA(xlim)) .mf_stop("Cannot set 'xlim' automatically. Please set this argument manually.")
  } else {
    if (!is.numeric(xlim) || length(xlim) != 2L || anyNA(xlim)) .mf_stop("Argument 'xlim' should be a vector of length 2.")
    xlim <- sort(xlim)
    if (comp == "tau2" && xlim[1L] < 0) .mf_stop("Lower bound for profiling must be >= 0.")
    if (comp == "delta" && xlim[1L] < x$delta.min[pos])
      .mf_stop(sprintf("Lower bound for profiling must be >= %s.", x$delta.min[pos]))
    if (comp == "delta" && xlim[2L] > x$delta.max[pos])
      .mf_stop(sprintf("Upper bound for profiling must be <= %s.", x$delta.max[pos]))
  }
  vcs <- if (stepseq) steps else seq(xlim[1L], xlim[2L], length.out = steps)
  if (length(vcs) <= 1L) .mf_stop("Cannot set 'xlim' automatically. Please set this argument manually.")
  p <- x$p
  fits <- lapply(vcs, function(v) .mf_sel_refit_at(x, comp, pos, v, skiphes = FALSE))
  lls <- vapply(fits, function(f) if (is.null(f)) NA_real_ else f$ll, numeric(1))
  tab <- function(what) {
    m <- matrix(unlist(lapply(fits, function(f) if (is.null(f)) rep(NA_real_, p) else c(f[[what]]))), ncol = p,
                byrow = TRUE)
    out <- as.data.frame(m)
    names(out) <- rownames(x$beta)
    out
  }
  maxll <- x$ll
  ylim <- .mf_profile_ylim(lls, maxll, lltol, ylim, xlim, vc)
  if (comp == "tau2") {
    xlab <- expression(paste(tau^2, " Value"))
    title <- expression(paste("Profile Plot for ", tau^2))
  } else if (x$deltas == 1L) {
    xlab <- expression(paste(delta, " Value"))
    title <- expression(paste("Profile Plot for ", delta))
  } else {
    xlab <- bquote(delta[.(as.numeric(pos))] ~ "Value")
    title <- bquote("Profile Plot for" ~ delta[.(as.numeric(pos))])
  }
  sav <- list(vcs, ll = lls, beta = tab("beta"), ci.lb = tab("ci.lb"), ci.ub = tab("ci.ub"), comps = 1,
              ylim = ylim, method = x$method, vc = vc, maxll = maxll, xlab = xlab, title = title, exp = NULL)
  names(sav)[1L] <- comp
  class(sav) <- "mf_profile"
  if (isTRUE(plot)) plot(sav, ...)
  sav
}

# Methods of rma() fits that do not apply to a selection model (metafor
# rejects them too): a clear error instead of the plain rma() answer.
.mf_sel_not_available <- function(what) {
  force(what)
  function(...) .mf_stop(sprintf("%s() is not available for selection models (class 'mf_selmodel').", what))
}

#' @exportS3Method baujat mf_selmodel
baujat.mf_selmodel <- .mf_sel_not_available("baujat")

#' @exportS3Method blup mf_selmodel
blup.mf_selmodel <- .mf_sel_not_available("blup")

#' @exportS3Method cumul mf_selmodel
cumul.mf_selmodel <- .mf_sel_not_available("cumul")

#' @exportS3Method forest mf_selmodel
forest.mf_selmodel <- .mf_sel_not_available("forest")

#' @exportS3Method gosh mf_selmodel
gosh.mf_selmodel <- .mf_sel_not_available("gosh")

#' @exportS3Method hatvalues mf_selmodel
hatvalues.mf_selmodel <- .mf_sel_not_available("hatvalues")

#' @exportS3Method influence mf_selmodel
influence.mf_selmodel <- .mf_sel_not_available("influence")

#' @exportS3Method labbe mf_selmodel
labbe.mf_selmodel <- .mf_sel_not_available("labbe")

#' @exportS3Method leave1out mf_selmodel
leave1out.mf_selmodel <- .mf_sel_not_available("leave1out")

#' @exportS3Method permutest mf_selmodel
permutest.mf_selmodel <- .mf_sel_not_available("permutest")

#' @exportS3Method qqnorm mf_selmodel
qqnorm.mf_selmodel <- .mf_sel_not_available("qqnorm")

#' @exportS3Method radial mf_selmodel
radial.mf_selmodel <- .mf_sel_not_available("radial")

#' @exportS3Method ranef mf_selmodel
ranef.mf_selmodel <- .mf_sel_not_available("ranef")

#' @exportS3Method regtest mf_selmodel
regtest.mf_selmodel <- .mf_sel_not_available("regtest")

#' @exportS3Method robust mf_selmodel
robust.mf_selmodel <- .mf_sel_not_available("robust")

#' @exportS3Method rstandard mf_selmodel
rstandard.mf_selmodel <- .mf_sel_not_available("rstandard")

#' @exportS3Method rstudent mf_selmodel
rstudent.mf_selmodel <- .mf_sel_not_available("rstudent")

#' @exportS3Method cooks.distance mf_selmodel
cooks.distance.mf_selmodel <- .mf_sel_not_available("cooks.distance")

#' @exportS3Method dfbetas mf_selmodel
dfbetas.mf_selmodel <- .mf_sel_not_available("dfbetas")

#' @exportS3Method se mf_selmodel
se.mf_selmodel <- .mf_sel_not_available("se")

#' @exportS3Method trimfill mf_selmodel
trimfill.mf_selmodel <- .mf_sel_not_available("trimfill")

#' @exportS3Method vif mf_selmodel
vif.mf_selmodel <- .mf_sel_not_available("vif")

#' @exportS3Method weights mf_selmodel
weights.mf_selmodel <- .mf_sel_not_available("weights")

#' @exportS3Method generics::augment mf_selmodel
augment.mf_selmodel <- .mf_sel_not_available("augment")
