# Confidence intervals for the coefficients and for tau^2, tau, I^2 and H^2:
# the Q-profile (Viechtbauer 2007), the generalised Q-profile (Jackson 2013),
# the profile likelihood, Wald-type and Higgins-Thompson intervals.

#' Confidence intervals for a fitted meta-analytic model
#'
#' Intervals for the model coefficients (\code{fixed = TRUE}) and for the
#' amount of heterogeneity (\code{random = TRUE}).  For tau^2 the interval
#' \code{type} is, as in metafor's \code{confint.rma.uni()}:
#' \describe{
#'   \item{\code{"QP"}}{(the default) the Q-profile method: the values of
#'     tau^2 at which the generalised Q statistic equals the chi-square(k - p)
#'     quantiles (Viechtbauer 2007), solved by the C++ root finder to the
#'     tolerance \code{control$tol} (default 1e-12).}
#'   \item{\code{"GENQ"}}{(the default for fits with \code{method = "GENQ"} or
#'     \code{"GENQM"}, and only for those) the generalised Q-profile method
#'     with the fit's \code{weights}: the tau^2 at which the observed Q_a is the
#'     alpha/2 and 1 - alpha/2 quantile of its distribution (Jackson 2013).}
#'   \item{\code{"PL"}}{the profile likelihood: the tau^2 at which
#'     \eqn{-2(\ell(\tau^2) - \ell(\hat\tau^2))}{-2 (ll(tau2) - ll(tau2 hat))}
#'     equals \code{qchisq(1 - alpha, 1)}, with the restricted likelihood for
#'     REML fits and the likelihood otherwise (as metafor's \code{logLik()}).}
#'   \item{\code{"Wald"}, \code{"Wald.log"}, \code{"Wald.sqrt"}}{tau^2 plus or
#'     minus a normal quantile times \code{se.tau2} (the lower bound at least
#'     \code{control$tau2.min} of the fit, default 0), on the log or square-root
#'     scale.}
#'   \item{\code{"HT"}}{Higgins & Thompson's (2002) interval for H, for models
#'     without moderators and k > 2.}
#' }
#' tau is the square root of the tau^2 bounds; I^2 and H^2 are
#' the monotone transforms \eqn{100 \tau^2/(v_t + \tau^2)}{100 tau2/(vt + tau2)}
#' and \eqn{\tau^2/v_t + 1}{tau2/vt + 1} with \eqn{v_t = (k-p)/\mathrm{tr}(P_0)}{vt = (k - p)/tr(P0)}.
#'
#' @param object an object of class \code{mf_rma}.
#' @param parm ignored (as in metafor).
#' @param level confidence level (default: the level of the fit).
#' @param fixed give intervals for the coefficients.
#' @param random give intervals for tau^2, tau, I^2 and H^2.
#' @param type the interval for tau^2 (case-insensitive): \code{"QP"},
#'   \code{"GENQ"}, \code{"PL"}, \code{"Wald"}, \code{"Wald.log"},
#'   \code{"Wald.sqrt"} or \code{"HT"} (see Details); by default \code{"GENQ"}
#'   for GENQ and GENQM fits and \code{"QP"} otherwise.
#' @param digits number of decimals for printing.
#' @param transf optional function applied to the coefficients and their
#'   bounds.
#' @param targs optional list of further arguments given to \code{transf}
#'   (as its second argument, as in metafor).
#' @param verbose print the steps of the profile-likelihood search
#'   (\code{type = "PL"}); otherwise ignored.
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
#'   Jackson D (2013). Confidence intervals for the between-study variance in
#'   random effects meta-analysis using generalised Cochran heterogeneity
#'   statistics. \emph{Res Synth Methods} 4:220-229.
#'   Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a
#'   meta-analysis. \emph{Stat Med} 21:1539-1558.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fit <- rma(yi, vi, data = dat)
#' confint(fit)
#' confint(fit, type = "PL")
#' confint(fit, fixed = TRUE)
#' @export
confint.mf_rma <- function(object, parm, level, fixed = FALSE, random = TRUE, type,
                           digits, transf, targs, verbose = FALSE, control, ...) {
  .mf_check_dots("confint.mf_rma", ...)
  x <- object
  alpha <- if (missing(level)) x$level else .mf_level(level)
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  if (!isTRUE(fixed) && !isTRUE(random)) .mf_stop("At least one of 'fixed' and 'random' must be TRUE.")
  genq.fit <- isTRUE(.mf_estimator_has(x$method, "user_weights"))
  types <- c("qp", "genq", "pl", "ht", "wald", "wald.log", "wald.sqrt")
  if (missing(type) || is.null(type)) {
    type <- if (genq.fit) "genq" else "qp"
  } else {
    if (!is.character(type) || length(type) != 1L || !tolower(type) %in% types)
      .mf_stop("'type' must be one of \"QP\", \"GENQ\", \"PL\", \"HT\", \"Wald\", \"Wald.log\", \"Wald.sqrt\".")
    type <- tolower(type)
  }
  if (missing(targs)) targs <- NULL
  if (!is.null(targs) && !is.list(targs) && !is.numeric(targs)) .mf_stop("'targs' must be a list (or a number).")
  res <- list()
  if (isTRUE(fixed)) {
    crit <- if (.mf_tdist(x$test)) stats::qt(alpha / 2, x$ddf, lower.tail = FALSE)
            else stats::qnorm(alpha / 2, lower.tail = FALSE)
    res$fixed <- .mf_fixed_ci_table(x, crit, if (missing(transf)) NULL else transf,
                                    if (missing(targs)) NULL else targs)
  }
  if (isTRUE(random)) {
    if (x$k == 1L) .mf_stop("Cannot compute a CI for tau^2 when k = 1.")
    if (!.mf_estimator_has(x$method, "random")) .mf_stop("The model has no random-effects component (method = \"EE\").")
    if (isTRUE(x$tau2.fix)) .mf_stop("The model has no estimated random-effects component (tau^2 was fixed).")
    if (x$k <= x$p) .mf_stop("Cannot compute a CI for tau^2: no residual degrees of freedom (k <= p).")
    if (type == "genq" && !genq.fit)
      .mf_stop("type = \"GENQ\" needs a model fitted with method = \"GENQ\" or \"GENQM\" (the weights of its Q statistic).")
    # (the search starts at the fit's control$tau2.min, as in metafor)
    con <- list(tol = 1e-12, maxiter = 1000L, tau2.min = if (is.null(x$control$tau2.min)) 0 else x$control$tau2.min,
                tau2.max = NULL)
    if (!missing(control) && !is.null(control)) {
      if (!is.list(control)) .mf_stop("'control' must be a list.")
      for (nm in intersect(names(control), names(con))) con[nm] <- list(control[[nm]])
    }
    res$random <- switch(type,
      qp = .mf_qp_random(x, alpha, con),
      genq = .mf_qp_random(x, alpha, con, genq = TRUE),
      pl = .mf_pl_random(x, alpha, con, isTRUE(verbose)),
      .mf_closed_random(x, alpha, type))
    res[c("ci.null", "lb.sign", "ub.sign", "tau2.min")] <- attributes(res$random)[c("ci.null", "lb.sign", "ub.sign", "tau2.min")]
    attributes(res$random) <- attributes(res$random)[c("dim", "dimnames")]
  }
  res$digits <- d
  class(res) <- "confint.mf_rma"
  res
}

# The random-effects table from the tau2 bounds (tau, I^2, H^2 as metafor:
# tau NA for a negative bound), with the attributes the caller moves to the list.
.mf_random_table <- function(x, lb, ub, lb.sign = "", ub.sign = "", ci.null = FALSE, tau2.min = 0) {
  rt <- function(t) if (is.na(t) || t < 0) NA_real_ else sqrt(t)
  out <- rbind(`tau^2` = c(x$tau2, lb, ub),
               tau = c(rt(x$tau2), rt(lb), rt(ub)),
               `I^2(%)` = c(x$I2, 100 * lb / (x$vt + lb), 100 * ub / (x$vt + ub)),
               `H^2` = c(x$H2, lb / x$vt + 1, ub / x$vt + 1))
  colnames(out) <- c("estimate", "ci.lb", "ci.ub")
  attr(out, "ci.null") <- ci.null
  attr(out, "lb.sign") <- lb.sign
  attr(out, "ub.sign") <- ub.sign
  attr(out, "tau2.min") <- tau2.min
  out
}

# Wald-type intervals (on the tau2, log or square-root scale) and Higgins &
# Thompson's (2002) interval for H (their eq. for SE(ln H)).
.mf_closed_random <- function(x, alpha, type) {
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  t <- x$tau2; se <- x$se.tau2
  tmin <- if (is.null(x$control$tau2.min)) 0 else x$control$tau2.min
  lb <- ub <- NA_real_
  if (type == "wald") {
    lb <- max(tmin, t - crit * se)
    ub <- t + crit * se
  } else if (type == "wald.log") {
    if (t >= 0) {
      lb <- exp(log(t) - crit * se / t)
      ub <- max(t, exp(log(t) + crit * se / t))
    }
  } else if (type == "wald.sqrt") {
    if (t >= 0) {
      lb <- max(0, sqrt(t) - crit * se / (2 * sqrt(t)))^2
      ub <- (sqrt(t) + crit * se / (2 * sqrt(t)))^2
    }
  } else {  # ht
    if (!isTRUE(x$int.only)) .mf_stop("type = \"HT\" is only available for models without moderators.")
    if (x$k <= 2L) .mf_stop("type = \"HT\" needs k > 2.")
    k <- x$k; QE <- x$QE
    se.lnH <- if (QE > k) 0.5 * (log(QE) - log(k - 1)) / (sqrt(2 * QE) - sqrt(2 * k - 3))
              else sqrt(1 / (2 * (k - 2)) * (1 - 1 / (3 * (k - 2)^2)))
    H2.lb <- exp(log(x$H2) - crit * 2 * se.lnH)
    H2.ub <- exp(log(x$H2) + crit * 2 * se.lnH)
    I2.lb <- (H2.lb - 1) / H2.lb
    I2.ub <- (H2.ub - 1) / H2.ub
    lb <- max(0, I2.lb * x$vt / (1 - I2.lb))
    ub <- I2.ub * x$vt / (1 - I2.ub)
  }
  .mf_random_table(x, lb, ub, tau2.min = tmin)
}

# Profile-likelihood bounds: -2 (ll(tau2) - ll(fit)) = qchisq(1 - alpha, 1),
# ll of the refit with tau2 fixed (.mf_fit_at_tau2(), R/profile.R), searched
# by uniroot() on [tau2.min, tau2.hat] and [tau2.hat, tau2.max] (metafor's
# signs when a bound lies outside).
.mf_pl_random <- function(x, alpha, con, verbose) {
  tmin <- con$tau2.min
  tmax <- if (is.null(con$tau2.max)) max(100, 10 * x$tau2, 10 * tmin) else con$tau2.max
  if (tmin > x$tau2) .mf_stop("'control$tau2.min' must be at most the estimate of tau^2.")
  if (tmax < x$tau2) .mf_stop("'control$tau2.max' must be at least the estimate of tau^2.")
  crit <- stats::qchisq(1 - alpha, df = 1)
  ll.hat <- c(stats::logLik(x))
  obj <- function(t) {
    v <- -2 * (.mf_fit_at_tau2(x, t)$ll - ll.hat) - crit
    if (verbose) message(sprintf("tau2 = %s  LRT - objective = %s", format(t, digits = 6), format(v, digits = 6)))
    v
  }
  search <- function(lo, hi) {
    r <- tryCatch(stats::uniroot(obj, c(lo, hi), tol = con$tol, maxiter = con$maxiter)$root, error = function(e) NA_real_)
    r
  }
  lb.sign <- ub.sign <- ""
  lb <- ub <- NA_real_
  o <- obj(tmin)
  if (!is.na(o)) {
    if (o < 0) {
      lb <- tmin
      if (tmin > 0) lb.sign <- "<"
    } else lb <- search(tmin, x$tau2)
  }
  o <- obj(tmax)
  if (!is.na(o)) {
    if (o < 0) {
      ub <- tmax
      ub.sign <- ">"
    } else ub <- search(x$tau2, tmax)
  }
  if (is.na(lb)) warning("Error in the iterative search for the lower bound of tau^2.", call. = FALSE)
  if (is.na(ub)) warning("Error in the iterative search for the upper bound of tau^2.", call. = FALSE)
  .mf_random_table(x, lb, ub, lb.sign, ub.sign, tau2.min = tmin)
}

# Both (generalised) Q-profile bounds from the core (src/core/qprofile.hpp), which also
# rescales outcomes of extreme magnitude exactly and applies metafor's
# conventions for bounds outside [tau2.min, tau2.max] (default tau2.max:
# max(100, 10 tau^2) on the solving scale, as in metafor).
# genq = TRUE: the generalised Q-profile with the fit's weights (Jackson 2013).
.mf_qp_random <- function(x, alpha, con, genq = FALSE) {
  tmax <- if (is.null(con$tau2.max)) NA_real_ else con$tau2.max
  q <- if (genq) .mf_genq_profile(x$yi, x$vi, x$X, x$weights, isTRUE(x$int.incl), x$tau2, x$vt, alpha, con$tol,
                                  as.integer(con$maxiter), con$tau2.min, tmax)
       else .mf_qprofile(x$yi, x$vi, x$X, isTRUE(x$int.incl), x$tau2, x$vt, alpha, con$tol,
                         as.integer(con$maxiter), con$tau2.min, tmax)
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

# The CI table of the coefficients (x$beta, x$se) at the critical value
# crit, through an elementwise transf (with targs) when one is given, the
# bounds ordered after the transformation (a decreasing transf swaps them).
# Used by confint() of rma(), rma.mv() and selection-model fits.
.mf_fixed_ci_table <- function(x, crit, transf = NULL, targs = NULL) {
  b <- c(x$beta)
  lb <- b - crit * x$se
  ub <- b + crit * x$se
  if (is.function(transf)) {
    tf <- .mf_transf_elementwise(transf, targs)
    b <- tf(b); lb <- tf(lb); ub <- tf(ub)
  }
  fx <- cbind(estimate = b, ci.lb = pmin(lb, ub), ci.ub = pmax(lb, ub))
  rownames(fx) <- rownames(x$beta)
  fx
}
