# Rank correlation test for funnel-plot asymmetry (Begg & Mazumdar 1994).

#' Rank correlation test for funnel plot asymmetry
#'
#' Begg and Mazumdar's (1994) test: Kendall's tau between the standardised
#' deviates \eqn{(y_i - \hat\theta)/\sqrt{v_i - v_\theta}}{(yi - theta)/sqrt(vi - v.theta)},
#' where \eqn{\hat\theta}{theta} is the inverse-variance weighted mean and
#' \eqn{v_\theta = 1/\sum 1/v_i}{v.theta = 1/sum(1/vi)}, and the sampling
#' variances.  The p-value is exact (Kendall's distribution) when there are
#' no ties and fewer than 50 studies, otherwise from the normal approximation
#' (as \code{stats::cor.test()}).
#'
#' @param x an intercept-only \code{mf_rma} fit, or a vector of effect sizes.
#' @param vi sampling variances (when \code{x} is a vector).
#' @param sei standard errors (alternative to \code{vi}).
#' @param subset logical or numeric vector selecting studies (vector input).
#' @param exact compute an exact p-value when possible (default \code{TRUE});
#'   \code{FALSE} uses the normal approximation.
#' @param digits number of decimals for printing.
#' @param ... ignored.
#' @return An object of class \code{mf_ranktest} with \code{tau} (Kendall's
#'   tau), \code{pval} and \code{k}.
#' @references Begg CB, Mazumdar M (1994). Operating characteristics of a
#'   rank correlation test for publication bias. \emph{Biometrics}
#'   50:1088-1101.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.80),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.09))
#' ranktest(rma(yi, vi, data = dat))
#' ranktest(dat$yi, dat$vi)
#' @export
ranktest <- function(x, vi, sei, subset, exact = TRUE, digits, ...) {
  if (.mf_is_metafor_fit(x)) return(.mf_to_metafor("ranktest"))  # a metafor fit: metafor's ranktest()
  .mf_check_dots("ranktest", ...)
  if (inherits(x, "mf_rma") || inherits(x, "mf_rma_tab")) {
    # (fits of rma.mh() / rma.peto(): their per-study outcomes yi, vi, as metafor)
    if (!missing(vi) || !missing(sei) || !missing(subset))
      warning("Arguments 'vi', 'sei' and 'subset' are ignored when 'x' is a model fit.", call. = FALSE)
    if (!isTRUE(x$int.only))
      .mf_stop("ranktest() needs a model without moderators: the test compares each study with the pooled estimate.")
    yi <- x$yi
    vi <- x$vi
    d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  } else {
    v <- .mf_effect_vectors(x, if (missing(vi)) NULL else vi, if (missing(sei)) NULL else sei,
                     subset = if (missing(subset)) NULL else subset)
    yi <- v$yi
    vi <- v$vi
    d <- if (missing(digits)) 4L else as.integer(digits[1L])
  }
  k <- length(yi)
  if (k < 3L) .mf_stop(sprintf("ranktest() needs at least 3 studies (k = %d).", k))
  if (!is.logical(exact) || length(exact) != 1L || is.na(exact)) .mf_stop("'exact' must be TRUE or FALSE.")
  # Standardised deviates from the fixed-effect mean (Begg & Mazumdar 1994, eq. 1).
  w <- 1 / vi
  theta <- sum(w * yi) / sum(w)
  v.star <- vi - 1 / sum(w)
  z <- (yi - theta) / sqrt(v.star)
  ct <- suppressWarnings(stats::cor.test(z, vi, method = "kendall", exact = exact))
  if (is.na(ct$p.value))
    ct <- suppressWarnings(stats::cor.test(z, vi, method = "kendall", exact = FALSE))
  res <- list(tau = unname(ct$estimate), pval = ct$p.value, k = k, digits = d)
  class(res) <- "mf_ranktest"
  res
}

#' @rdname ranktest
#' @export
print.mf_ranktest <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  cat("\nRank Correlation Test for Funnel Plot Asymmetry\n\n")
  cat("Kendall's tau = ", .mf_fmtx(x$tau, d), ", p ", .mf_fmtp(x$pval, d, equal = TRUE), "\n\n", sep = "")
  invisible(x)
}
