# print() and summary() for mf_rma objects, laid out as metafor's
# print.rma.uni() so that scripts and readers see the familiar output.

# Fixed-decimal formatting (as sprintf("%.*f")); NA stays "NA".
.mf_fmtx <- function(x, digits, postfix = "") {
  out <- ifelse(is.na(x), "NA", paste0(formatC(x, format = "f", digits = digits), postfix))
  # "-0.0000" reads as a sign error: print it as 0.
  out <- sub("^-(0\\.?0*)$", "\\1", out)
  if (!is.null(dim(x))) dim(out) <- dim(x)
  if (!is.null(dimnames(x))) dimnames(out) <- dimnames(x)
  out
}

# p-values: "<.0001" below 10^-digits, as in metafor.
.mf_fmtp <- function(p, digits, equal = FALSE) {
  thresh <- 10^(-digits)
  vapply(p, function(pi) {
    if (is.na(pi)) return("NA")
    if (pi < thresh) return(paste0(if (equal) "< " else "<", sub("^0", "", formatC(thresh, format = "f", digits = digits))))
    s <- formatC(pi, format = "f", digits = digits)
    if (equal) paste0("= ", s) else s
  }, character(1))
}

# "QM(df = 1) = 15.2, p-val < .0001" and "F(df1 = 1, df2 = 11) = ..."
.mf_fmtt <- function(stat, name, df = NULL, df1 = NULL, df2 = NULL, pval, digits) {
  # (df2 rounded to 2 decimals as metafor prints it: Satterthwaite df are fractional)
  dftxt <- if (!is.null(df)) sprintf("(df = %s)", df) else sprintf("(df1 = %s, df2 = %s)", df1, round(df2, 2))
  paste0(name, dftxt, " = ", .mf_fmtx(stat, digits), ", p-val ", .mf_fmtp(pval, digits, equal = TRUE))
}

# "2:3" or "2,4" for the tested coefficients.
.mf_format_btt <- function(btt) {
  if (length(btt) > 1L && all(diff(btt) == 1L)) paste0(min(btt), ":", max(btt))
  else paste(btt, collapse = ",")
}

.mf_digits <- function(digits, x) {
  # no digits given: the option (setmfopt(digits = )) before the object's own, as in metafor
  if (missing(digits) || is.null(digits)) digits <- if (!is.null(.mf_opt_digits())) .mf_opt_digits() else x$digits
  if (is.null(digits) || !is.numeric(digits) || length(digits) < 1L || is.na(digits[1L])) digits <- 4L
  as.integer(digits[1L])
}

#' Print and summarise a fitted meta-analytic model
#'
#' Output laid out as \code{metafor}'s \code{print.rma.uni()}: the model type,
#' heterogeneity estimates (tau^2, tau, I^2, H^2, R^2), the test for
#' (residual) heterogeneity, the omnibus test of moderators and the table of
#' coefficients.  \code{summary()} adds the fit statistics (log-likelihood,
#' deviance, AIC, BIC, AICc).  A note is printed when the estimator needed a
#' fallback or did not converge.
#'
#' @param x an object of class \code{mf_rma} (or \code{summary.mf_rma}).
#' @param object an object of class \code{mf_rma} (\code{summary()}) or
#'   \code{summary.mf_rma} (\code{coef()}).
#' @param digits number of decimals (default: the \code{digits} of the fit).
#' @param showfit print the fit statistics (\code{TRUE} in \code{summary()}).
#' @param signif.stars show significance stars.
#' @param signif.legend show the legend of the stars.
#' @param ... ignored.
#' @return \code{print} returns \code{x} invisibly; \code{summary} returns an
#'   object of class \code{c("summary.mf_rma", "mf_rma")}.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' fit
#' summary(fit)
#' @export
print.mf_rma <- function(x, digits, showfit = FALSE, signif.stars = getOption("show.signif.stars"),
                         signif.legend = signif.stars, ...) {
  .mf_check_dots("print.mf_rma", ...)
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
    fs <- x$fit.stats[[if (.mf_estimator_has(x$method, "restricted")) "REML" else "ML"]]
    fs <- .mf_fmtx(fs, d)
    names(fs) <- c("logLik", "deviance", "AIC", "BIC", "AICc")
    cat("\n")
    print(fs, quote = FALSE, print.gap = 2)
  }
  cat("\n")
  tau2txt <- .mf_fmtx(x$tau2, d)
  if (!is.na(x$se.tau2)) tau2txt <- paste0(tau2txt, " (SE = ", .mf_fmtx(x$se.tau2, d), ")")
  if (!ee) {
    if (x$int.only) {
      cat("tau^2 (", fixtxt, " amount of total heterogeneity): ", tau2txt, "\n", sep = "")
      cat("tau (square root of ", fixtxt, " tau^2 value):      ", .mf_fmtx(sqrt(x$tau2), d), "\n", sep = "")
    } else {
      cat("tau^2 (", fixtxt, " amount of residual heterogeneity):     ", tau2txt, "\n", sep = "")
      cat("tau (square root of ", fixtxt, " tau^2 value):             ", .mf_fmtx(sqrt(x$tau2), d), "\n", sep = "")
    }
  }
  if (x$int.only) {
    if (!is.na(x$I2)) cat("I^2 (total heterogeneity / total variability):   ", .mf_fmtx(x$I2, 2, "%"), "\n", sep = "")
    if (!is.na(x$H2) && is.finite(x$H2)) cat("H^2 (total variability / sampling variability):  ", .mf_fmtx(x$H2, 2), "\n", sep = "")
  } else {
    if (!is.na(x$I2)) cat("I^2 (residual heterogeneity / unaccounted variability): ", .mf_fmtx(x$I2, 2, "%"), "\n", sep = "")
    if (!is.na(x$H2) && is.finite(x$H2)) cat("H^2 (unaccounted variability / sampling variability):   ", .mf_fmtx(x$H2, 2), "\n", sep = "")
    if (!is.null(x$R2)) cat("R^2 (amount of heterogeneity accounted for):            ", .mf_fmtx(x$R2, 2, "%"), "\n", sep = "")
  }
  cat("\n")
  if (!is.na(x$QE)) {
    if (x$int.only) {
      cat("Test for Heterogeneity:\n", .mf_fmtt(x$QE, "Q", df = x$k - x$p, pval = x$QEp, digits = d), "\n\n", sep = "")
    } else {
      cat("Test for Residual Heterogeneity:\n", .mf_fmtt(x$QE, "QE", df = x$k - x$p, pval = x$QEp, digits = d), "\n\n", sep = "")
    }
  }
  tdist <- .mf_tdist(x$test)
  signif <- .mf_print_model_results(x, d, tdist, signif.stars)
  if (isTRUE(signif.legend)) {
    cat("\n---\nSignif. codes:  ", attr(signif, "legend"), "\n", sep = "")
  }
  .mf_print_convergence(x)
  cat("\n")
  invisible(x)
}

# Convergence note: fallbacks used or estimator not converged.
.mf_print_convergence <- function(x) {
  cv <- x$convergence
  if (is.null(cv)) return(invisible())
  fb <- cv$fallbacks
  if (length(fb)) {
    cat("\nNote: ", paste(fb, collapse = ", "), " did not converge; the ", cv$method,
        " estimator was used instead (fallback chain).\n", sep = "")
  }
  if (!is.null(cv$converged) && !isTRUE(cv$converged)) {
    cat("\nNote: the ", cv$method, " estimator did not converge (", cv$iterations,
        " iterations); see $convergence.\n", sep = "")
  }
  invisible()
}

#' @rdname print.mf_rma
#' @export
summary.mf_rma <- function(object, digits, ...) {
  .mf_check_dots("summary.mf_rma", ...)
  if (!missing(digits)) object$digits <- digits
  class(object) <- c("summary.mf_rma", class(object))
  object
}

#' @rdname print.mf_rma
#' @details \code{coef(summary(fit))} is metafor's table of the coefficients:
#'   a data frame with columns \code{estimate}, \code{se}, \code{zval},
#'   \code{pval}, \code{ci.lb}, \code{ci.ub} (with \code{test = "t"} or
#'   \code{"knha"}: \code{tval} and \code{df} instead of \code{zval}), one
#'   row per coefficient.
#' @export
coef.summary.mf_rma <- function(object, ...) {
  b <- c(object$beta)
  tab <- if (.mf_tdist(object$test)) {
    data.frame(estimate = b, se = object$se, tval = object$zval, df = object$ddf, pval = object$pval,
               ci.lb = object$ci.lb, ci.ub = object$ci.ub)
  } else {
    data.frame(estimate = b, se = object$se, zval = object$zval, pval = object$pval,
               ci.lb = object$ci.lb, ci.ub = object$ci.ub)
  }
  rownames(tab) <- rownames(object$beta)
  tab
}

#' @rdname print.mf_rma
#' @export
print.summary.mf_rma <- function(x, digits, showfit = TRUE, signif.stars = getOption("show.signif.stars"),
                                 signif.legend = signif.stars, ...) {
  class(x) <- setdiff(class(x), "summary.mf_rma")
  print.mf_rma(x, digits = .mf_digits(digits, x), showfit = showfit, signif.stars = signif.stars,
               signif.legend = signif.legend, ...)
  invisible(x)
}

# The test of moderators and metafor's "Model Results" table of a fit (rma and
# rma.mv prints); returns the significance codes for the legend.
.mf_print_model_results <- function(x, d, tdist, signif.stars) {
  if (x$p > 1L && !is.na(x$QM)) {
    cat("Test of Moderators (coefficient", if (x$m == 1) " " else "s ", .mf_format_btt(x$btt), "):\n", sep = "")
    if (tdist) cat(.mf_fmtt(x$QM, "F", df1 = x$QMdf[1], df2 = x$QMdf[2], pval = x$QMp, digits = d), "\n\n", sep = "")
    else cat(.mf_fmtt(x$QM, "QM", df = x$QMdf[1], pval = x$QMp, digits = d), "\n\n", sep = "")
  }
  tab <- data.frame(estimate = .mf_fmtx(c(x$beta), d), se = .mf_fmtx(x$se, d), stringsAsFactors = FALSE)
  if (tdist) {
    tab$tval <- .mf_fmtx(x$zval, d)
    tab$df <- round(x$ddf, 2)
  } else {
    tab$zval <- .mf_fmtx(x$zval, d)
  }
  tab$pval <- .mf_fmtp(x$pval, d)
  tab$ci.lb <- .mf_fmtx(x$ci.lb, d)
  tab$ci.ub <- .mf_fmtx(x$ci.ub, d)
  rownames(tab) <- rownames(x$beta)
  signif <- stats::symnum(x$pval, corr = FALSE, na = FALSE, cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                          symbols = c("***", "**", "*", ".", " "))
  if (isTRUE(signif.stars)) {
    tab <- cbind(tab, as.character(signif), stringsAsFactors = FALSE)
    colnames(tab)[ncol(tab)] <- ""
  }
  cat("Model Results:\n\n")
  if (x$int.only) {
    m <- as.matrix(tab)
    rownames(m) <- ""
    print(m, quote = FALSE, right = TRUE, print.gap = 2)
  } else {
    print(tab, quote = FALSE, right = TRUE, print.gap = 2)
  }
  invisible(signif)
}
