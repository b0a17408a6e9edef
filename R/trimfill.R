# Trim-and-fill (Duval & Tweedie 2000a, 2000b).

#' Trim-and-fill analysis
#'
#' The nonparametric trim-and-fill method of Duval and Tweedie: the number
#' \eqn{k_0}{k0} of studies missing on one side of the funnel plot is
#' estimated iteratively (trim the \eqn{k_0}{k0} most extreme studies,
#' re-estimate the centre, re-rank the deviations, until \eqn{k_0}{k0} no
#' longer changes); the trimmed studies are then mirrored about the centre
#' and the model is refitted to the observed plus filled studies.
#'
#' The estimators of \eqn{k_0}{k0}, with \eqn{T_n}{Tn} the sum of the
#' positive signed ranks of the centred effects and \eqn{\gamma^*}{gamma*}
#' the length of the rightmost run of positive ranks: \eqn{L_0 = [4T_n -
#' k(k+1)]/(2k-1)}{L0 = (4 Tn - k (k+1)) / (2k - 1)}, \eqn{R_0 = \gamma^* -
#' 1}{R0 = gamma* - 1} and \eqn{Q_0 = k - 1/2 - \sqrt{2k^2 - 4T_n + 1/4}}{Q0
#' = k - 1/2 - sqrt(2 k^2 - 4 Tn + 1/4)}, each rounded and truncated at 0.
#' When \code{side} is not given, the missing studies are estimated on the
#' side opposite to the sign of the slope in a regression of the effects on
#' their standard errors (Egger-type model with the estimator of \code{x}),
#' as in metafor.  The filled model is fitted with the estimator, test and
#' level of \code{x} (metafor refits with \code{test = "z"} and a 95\% level).
#'
#' @param x an intercept-only \code{mf_rma} fit.
#' @param side \code{"left"} or \code{"right"}: where the missing studies are
#'   expected; by default chosen from the data (see Details).
#' @param estimator \code{"L0"} (default), \code{"R0"} or \code{"Q0"}.
#' @param maxiter maximal number of iterations.
#' @param verbose print the iterations.
#' @param ... ignored.
#' @return An \code{mf_rma} fit to the observed and filled studies, of class
#'   \code{c("mf_rma_filled", "mf_rma")}, with the additional fields
#'   \code{k0} (estimated number of missing studies), \code{se.k0},
#'   \code{p.k0} (for R0: the p-value of the test of no missing studies,
#'   \eqn{2^{-(k_0+1)}}{2^-(k0 + 1)}), \code{side}, \code{k0.est} (the
#'   estimator) and \code{fill} (logical: which studies were filled).  When
#'   \eqn{k_0 = 0}{k0 = 0} this is \code{x} itself with these fields.
#' @references Duval S, Tweedie R (2000a). Trim and fill: a simple
#'   funnel-plot-based method of testing and adjusting for publication bias
#'   in meta-analysis. \emph{Biometrics} 56:455-463. Duval S, Tweedie R
#'   (2000b). A nonparametric "trim and fill" method of accounting for
#'   publication bias in meta-analysis. \emph{J Am Stat Assoc} 95:89-98.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.80, 0.70),
#'                   vi = c(0.01, 0.03, 0.05, 0.06, 0.05, 0.02, 0.09, 0.08))
#' tf <- trimfill(rma(yi, vi, data = dat))
#' tf
#' tf$k0
#' @export
trimfill <- function(x, ...) UseMethod("trimfill")

#' @rdname trimfill
#' @export
trimfill.default <- function(x, ...) {
  .mf_stop(sprintf("trimfill() needs a model fitted with rma() (class \"mf_rma\"), not %s.", class(x)[1L]))
}

#' @rdname trimfill
#' @export
trimfill.mf_rma <- function(x, side, estimator = "L0", maxiter = 100, verbose = FALSE, ...) {
  .mf_check_dots("trimfill.mf_rma", ...)
  if (!isTRUE(x$int.only))
    .mf_stop("trimfill() needs a model without moderators: trim-and-fill mirrors studies about a single pooled estimate.")
  estimator <- .mf_match_arg(estimator, c("L0", "R0", "Q0"), "estimator")
  if (!is.numeric(maxiter) || length(maxiter) != 1L || is.na(maxiter) || maxiter < 1)
    .mf_stop("'maxiter' must be a positive number.")
  k <- x$k
  if (k < 2L) .mf_stop(sprintf("trimfill() needs at least 2 studies (k = %d).", k))
  yi <- x$yi
  vi <- x$vi
  wi <- x$weights
  if (missing(side) || is.null(side)) {
    # Side from the slope of the Egger-type regression on sqrt(vi).
    eg <- suppressWarnings(.mf_refit_data(x, yi, vi, X = cbind(intrcpt = 1, sei = sqrt(vi)), weights = wi,
                                     inherit_tau2 = FALSE))
    side <- if (eg$beta[2L, 1L] < 0) "right" else "left"
  } else {
    side <- .mf_match_arg(side, c("left", "right"), "side")
  }
  # Work as if the missing studies are on the left: flip for "right".
  if (side == "right") yi <- -yi
  o <- order(yi)
  yi <- yi[o]; vi <- vi[o]
  if (!is.null(wi)) wi <- wi[o]
  k0 <- 0
  k0.old <- -1
  iter <- 0
  while (k0 != k0.old) {
    k0.old <- k0
    iter <- iter + 1
    if (iter > maxiter)
      .mf_stop(sprintf("The trim-and-fill iterations did not converge in %d iterations; raise 'maxiter'.", maxiter))
    keep <- seq_len(k - k0)
    fit <- suppressWarnings(.mf_refit_data(x, yi[keep], vi[keep], weights = if (is.null(wi)) NULL else wi[keep],
                                      inherit_tau2 = FALSE, test = "z"))
    beta <- fit$beta[1L, 1L]
    dev <- yi - beta
    r <- rank(abs(dev), ties.method = "first")
    sr <- sign(dev) * r
    Tn <- sum(sr[sr > 0])
    if (estimator == "R0") {
      # gamma* = length of the rightmost run of positive ranks (DT 2000a).
      k0 <- if (any(sr < 0)) k - max(-sr[sr < 0]) - 1 else k - 1
      se.k0 <- sqrt(2 * max(0, k0) + 2)
    } else {
      if (estimator == "L0") {
        k0 <- (4 * Tn - k * (k + 1)) / (2 * k - 1)
      } else {
        rad <- 2 * k^2 - 4 * Tn + 1 / 4
        if (rad < 0)
          .mf_stop(sprintf("The Q0 estimator is undefined for these data (2k^2 - 4 Tn + 1/4 = %.3g < 0 at iteration %d: nearly all large deviations lie on one side); use estimator = \"L0\" or \"R0\".",
                           rad, iter))
        k0 <- k - 1 / 2 - sqrt(rad)
      }
      # Variance of Tn given k0 (Duval & Tweedie 2000b, eq. 4.3 and following).
      varT <- (k * (k + 1) * (2 * k + 1) + 10 * k0^3 + 27 * k0^2 + 17 * k0 - 18 * k * k0^2 -
                 18 * k * k0 + 6 * k^2 * k0) / 24
      se.k0 <- if (estimator == "L0") 4 * sqrt(varT) / (2 * k - 1)
               else 2 * sqrt(varT) / sqrt((k - 1 / 2)^2 - k0 * (2 * k - k0 - 1))
    }
    k0 <- max(0, round(k0))
    se.k0 <- max(0, se.k0)
    if (isTRUE(verbose))
      cat(sprintf("Iteration: %d  missing = %d  beta = %s\n", iter, k0,
                  .mf_fmtx(if (side == "right") -beta else beta, 4)))
  }
  slab.used <- if (isTRUE(x$slab.null)) paste("Study", x$ids) else as.character(x$slab[x$ids])
  if (k0 > 0) {
    idx <- seq.int(k - k0 + 1L, k)
    # Mirror the k0 most extreme studies about the centre of the trimmed data.
    y.fill <- 2 * beta - yi[idx]
    if (side == "right") y.fill <- -y.fill
    yi.all <- c(x$yi, y.fill)
    vi.all <- c(x$vi, vi[idx])
    wi.all <- if (is.null(wi)) NULL else c(x$weights, wi[idx])
    res <- suppressWarnings(.mf_refit_data(x, yi.all, vi.all, weights = wi.all, control = FALSE, inherit_tau2 = FALSE,
                                      slab = c(slab.used, paste("Filled", seq_len(k0)))))
    res$digits <- x$digits
    res$measure <- x$measure   # (as metafor: funnel() and forest() name the measure)
    res$fill <- c(rep(FALSE, k), rep(TRUE, k0))
    res$slab.null <- FALSE
  } else {
    res <- x
    res$fill <- rep(FALSE, k)
  }
  res$k0 <- k0
  res$se.k0 <- se.k0
  res$side <- side
  res$k0.est <- estimator
  res$iterations <- iter
  # R0: P(R0 >= k0 | no missing studies) = 2^-(k0 + 1) (Duval & Tweedie 2000b).
  res$p.k0 <- if (estimator == "R0") 0.5^(k0 + 1) else NA_real_
  class(res) <- c("mf_rma_filled", "mf_rma")
  res
}

#' @rdname trimfill
#' @param digits number of decimals for printing.
#' @export
print.mf_rma_filled <- function(x, digits, ...) {
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  cat("\n")
  cat(sprintf("Estimated number of missing studies on the %s side: %d (SE = %s)\n", x$side, as.integer(x$k0),
              .mf_fmtx(x$se.k0, d)))
  if (x$k0.est == "R0")
    cat("Test of H0: no missing studies on the ", x$side, " side:", strrep(" ", 6 - nchar(x$side)),
        "p-val ", .mf_fmtp(x$p.k0, d, equal = TRUE), "\n", sep = "")
  y <- x
  class(y) <- "mf_rma"
  print(y, digits = d, ...)
  invisible(x)
}
