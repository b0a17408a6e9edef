# Confidence intervals for the coefficients and, by the Q-profile method
# (Viechtbauer 2007), for tau^2, tau, I^2 and H^2.

#' Confidence intervals for a fitted meta-analytic model
#'
#' Intervals for the model coefficients (\code{fixed = TRUE}) and for the
#' amount of heterogeneity (\code{random = TRUE}): tau^2 by the Q-profile
#' method, i.e. the values of tau^2 at which the generalised Q statistic
#' equals the chi-square(k - p) quantiles, solved by the C++ root finder to
#' the tolerance \code{control$tol} (default 1e-12, so the bounds are exact to
#' about 1e-10).  tau is the square root of the tau^2 bounds; I^2 and H^2 are
#' the monotone transforms \eqn{100 \tau^2/(v_t + \tau^2)}{100 tau2/(vt + tau2)}
#' and \eqn{\tau^2/v_t + 1}{tau2/vt + 1} with \eqn{v_t = (k-p)/\mathrm{tr}(P_0)}{vt = (k - p)/tr(P0)}.
#'
#' @param object an object of class \code{mf_rma}.
#' @param parm ignored (as in metafor).
#' @param level confidence level (default: the level of the fit).
#' @param fixed give intervals for the coefficients.
#' @param random give intervals for tau^2, tau, I^2 and H^2.
#' @param type only \code{"QP"} (Q-profile) is available.
#' @param digits number of decimals for printing.
#' @param transf optional function applied to the coefficients and their
#'   bounds.
#' @param control list: \code{tol} (root tolerance, default 1e-12),
#'   \code{maxiter} (1000), \code{tau2.min} (0) and \code{tau2.max} (default
#'   \code{max(100, 10 tau^2)} as in metafor: a bound beyond it is reported as
#'   \code{">tau2.max"}).
#' @param ... ignored.
#' @return A list of class \code{confint.mf_rma} with matrices \code{fixed}
#'   and/or \code{random} (columns \code{estimate}, \code{ci.lb},
#'   \code{ci.ub}) and the signs \code{lb.sign}, \code{ub.sign}.
#' @references Viechtbauer W (2007). Confidence intervals for the amount of
#'   heterogeneity in meta-analysis. \emph{Stat Med} 26:37-52.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fit <- rma(yi, vi, data = dat)
#' confint(fit)
#' confint(fit, fixed = TRUE)
#' @export
confint.mf_rma <- function(object, parm, level, fixed = FALSE, random = TRUE, type = "QP",
                           digits, transf, control, ...) {
  .mf_check_dots("confint.mf_rma", ...)
  x <- object
  alpha <- if (missing(level)) x$level else .mf_level(level)
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  if (!isTRUE(fixed) && !isTRUE(random)) .mf_stop("At least one of 'fixed' and 'random' must be TRUE.")
  if (!identical(toupper(type), "QP")) .mf_stop("Only type = \"QP\" (Q-profile) is available.")
  res <- list()
  if (isTRUE(fixed)) {
    crit <- if (.mf_tdist(x$test)) stats::qt(alpha / 2, x$ddf, lower.tail = FALSE)
            else stats::qnorm(alpha / 2, lower.tail = FALSE)
    b <- c(x$beta)
    lb <- b - crit * x$se
    ub <- b + crit * x$se
    if (!missing(transf) && is.function(transf)) {
      b <- vapply(b, transf, numeric(1)); lb <- vapply(lb, transf, numeric(1)); ub <- vapply(ub, transf, numeric(1))
    }
    fx <- cbind(estimate = b, ci.lb = pmin(lb, ub), ci.ub = pmax(lb, ub))
    rownames(fx) <- rownames(x$beta)
    res$fixed <- fx
  }
  if (isTRUE(random)) {
    if (x$k == 1L) .mf_stop("Cannot compute a CI for tau^2 when k = 1.")
    if (!.mf_estimator_has(x$method, "random")) .mf_stop("The model has no random-effects component (method = \"EE\").")
    if (isTRUE(x$tau2.fix)) .mf_stop("The model has no estimated random-effects component (tau^2 was fixed).")
    if (x$k <= x$p) .mf_stop("Cannot compute a CI for tau^2: no residual degrees of freedom (k <= p).")
    con <- list(tol = 1e-12, maxiter = 1000L, tau2.min = 0, tau2.max = NULL)
    if (!missing(control) && !is.null(control)) {
      if (!is.list(control)) .mf_stop("'control' must be a list.")
      for (nm in intersect(names(control), names(con))) con[nm] <- list(control[[nm]])
    }
    res$random <- .mf_qp_random(x, alpha, con)
    res[c("ci.null", "lb.sign", "ub.sign", "tau2.min")] <- attributes(res$random)[c("ci.null", "lb.sign", "ub.sign", "tau2.min")]
    attributes(res$random) <- attributes(res$random)[c("dim", "dimnames")]
  }
  res$digits <- d
  class(res) <- "confint.mf_rma"
  res
}

# Both Q-profile bounds from the core (src/core/qprofile.hpp), which also
# rescales outcomes of extreme magnitude exactly and applies metafor's
# conventions for bounds outside [tau2.min, tau2.max] (default tau2.max:
# max(100, 10 tau^2) on the solving scale, as in metafor).
.mf_qp_random <- function(x, alpha, con) {
  q <- .mf_qprofile(x$yi, x$vi, x$X, isTRUE(x$int.incl), x$tau2, x$vt, alpha, con$tol,
                    as.integer(con$maxiter), con$tau2.min, if (is.null(con$tau2.max)) NA_real_ else con$tau2.max)
  if (!q$converged[1L]) warning("Error in the iterative search for the lower bound of tau^2.", call. = FALSE)
  if (!q$converged[2L]) warning("Error in the iterative search for the upper bound of tau^2.", call. = FALSE)
  # (the core's NaN -- a failed search, the tau of a negative bound -- is NA in R, as before)
  na <- function(b) { b[is.nan(b)] <- NA_real_; b }
  out <- cbind(estimate = c(x$tau2, sqrt(x$tau2), x$I2, x$H2), ci.lb = na(q$lower), ci.ub = na(q$upper))
  rownames(out) <- c("tau^2", "tau", "I^2(%)", "H^2")
  attr(out, "ci.null") <- q$ci.null
  attr(out, "lb.sign") <- q$lb.sign
  attr(out, "ub.sign") <- q$ub.sign
  attr(out, "tau2.min") <- q$tau2.min
  out
}

#' @rdname confint.mf_rma
#' @param x an object of class \code{confint.mf_rma}.
#' @export
print.confint.mf_rma <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  cat("\n")
  if (!is.null(x$fixed)) {
    print(.mf_fmtx(x$fixed, d), quote = FALSE, right = TRUE)
  }
  if (!is.null(x$random)) {
    if (!is.null(x$fixed)) cat("\n")
    r <- .mf_fmtx(x$random, d)
    r[, 2] <- paste0(x$lb.sign, r[, 2])
    r[, 3] <- paste0(x$ub.sign, r[, 3])
    print(r, quote = FALSE, right = TRUE)
    if (isTRUE(x$ci.null))
      message(sprintf("\nThe upper and lower CI bounds for tau^2 both fall below %s.\nThe CIs are therefore equal to the null/empty set.",
                      round(x$tau2.min, 4)))
  }
  cat("\n")
  invisible(x)
}
