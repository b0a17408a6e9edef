# Methods for rma.glmm() fits (class "mf_rma_glmm"): printout laid out as
# metafor's print.rma.glmm(), and the extractors.  The fit holds metafor's
# fields, so the shared helpers of the other fits (.mf_print_model_results,
# .mf_fmtx, ...) print it.

.mf_glmm_model_type <- function(x) {
  if (!x$measure %in% c("OR", "IRR")) return(NULL)
  switch(x$model, UM.FS = "Unconditional Model with Fixed Study Effects",
         UM.RS = "Unconditional Model with Random Study Effects",
         CM.AL = "Conditional Model with Approximate Likelihood",
         CM.EL = "Conditional Model with Exact Likelihood")
}

#' @rdname rma.glmm
#' @param x,object a fit of \code{rma.glmm()}.
#' @param showfit print the fit statistics.
#' @param signif.stars,signif.legend show significance stars and their legend.
#' @export
print.mf_rma_glmm <- function(x, digits, showfit = FALSE, signif.stars = getOption("show.signif.stars"),
                              signif.legend = signif.stars, ...) {
  .mf_check_dots("print.mf_rma_glmm", ...)
  d <- .mf_digits(digits, x)
  cat("\n")
  if (x$method == "EE") {
    cat(if (x$int.only) "Equal-Effects Model" else "Fixed-Effects with Moderators Model", " (k = ", x$k, ")\n", sep = "")
  } else {
    cat(if (x$int.only) "Random-Effects Model" else "Mixed-Effects Model", " (k = ", x$k,
        "; tau^2 estimator: ML)\n", sep = "")
  }
  mt <- .mf_glmm_model_type(x)
  if (!is.null(mt)) cat("Model Type: ", mt, "\n", sep = "")
  if (isTRUE(showfit)) {
    cat("\n")
    fs <- .mf_fmtx(unlist(x$fit.stats$ML), d)
    names(fs) <- c("logLik", "deviance", "AIC", "BIC", "AICc")
    print(fs, quote = FALSE, print.gap = 2)
  }
  cat("\n")
  if (x$method == "ML") {
    # labels padded to the longest plus one, as metafor lays them out
    het <- if (x$int.only) "total" else "residual"
    labs <- c(sprintf("tau^2 (estimated amount of %s heterogeneity):", het),
              "tau (square root of estimated tau^2 value):",
              if (x$int.only) "I^2 (total heterogeneity / total variability):" else
                "I^2 (residual heterogeneity / unaccounted variability):",
              if (x$int.only) "H^2 (total variability / sampling variability):" else
                "H^2 (unaccounted variability / sampling variability):")
    labs <- formatC(labs, width = -(max(nchar(labs)) + 1L))
    t2 <- if (x$tau2 < 10 * .Machine$double.eps) "0" else .mf_fmtx(x$tau2, if (x$tau2 < 1e-4) d + 1L else d)
    if (!is.null(x$se.tau2) && !is.na(x$se.tau2)) t2 <- paste0(t2, " (SE = ", .mf_fmtx(x$se.tau2, d), ")")
    cat(labs[1], t2, "\n", sep = "")
    cat(labs[2], .mf_fmtx(sqrt(x$tau2), d), "\n", sep = "")
    cat(labs[3], .mf_fmtx(x$I2, 2), "%\n", sep = "")
    cat(labs[4], .mf_fmtx(x$H2, 2), "\n", sep = "")
    cat("\n")
  }
  if (!is.null(x$sigma2) && !is.na(x$sigma2)) {
    # model = "UM.RS": the variance of the random study intercepts
    cat("sigma^2 (estimated amount of study level variability): ", .mf_fmtx(x$sigma2, d), "\n", sep = "")
    cat("sigma (square root of estimated sigma^2 value):        ", .mf_fmtx(sqrt(x$sigma2), d), "\n\n", sep = "")
  }
  if (!is.na(x$QE.df)) {
    cat("Tests for ", if (x$int.only) "Heterogeneity:" else "Residual Heterogeneity:", "\n", sep = "")
    cat(sprintf("Wld(df = %d) = %s, p-val %s\n", x$QE.df, .mf_fmtx(x$QE.Wld, d), .mf_fmtp(x$QEp.Wld, d, equal = TRUE)))
    cat(sprintf("LRT(df = %d) = %s, p-val %s\n\n", x$QE.df, .mf_fmtx(x$QE.LRT, d), .mf_fmtp(x$QEp.LRT, d, equal = TRUE)))
  }
  .mf_print_model_results(x, d, x$test == "t", signif.stars)
  if (isTRUE(signif.legend) && isTRUE(signif.stars)) {
    cat("\n---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n")
  }
  if (!isTRUE(x$converged)) cat("\nNote: the ML fit did not converge (", x$iterations, " iterations).\n", sep = "")
  cat("\n")
  invisible(x)
}

#' @rdname rma.glmm
#' @export
summary.mf_rma_glmm <- function(object, digits, ...) {
  if (!missing(digits)) object$digits <- digits
  class(object) <- c("summary.mf_rma_glmm", class(object))
  object
}

#' @rdname rma.glmm
#' @export
print.summary.mf_rma_glmm <- function(x, digits, showfit = TRUE, ...) {
  print.mf_rma_glmm(x, digits = if (missing(digits)) NULL else digits, showfit = showfit)
}

#' @rdname rma.glmm
#' @export
coef.mf_rma_glmm <- function(object, ...) {
  b <- c(object$beta)
  names(b) <- rownames(object$beta)
  b
}

#' @rdname rma.glmm
#' @export
vcov.mf_rma_glmm <- function(object, ...) object$vb

#' @rdname rma.glmm
#' @export
logLik.mf_rma_glmm <- function(object, ...) {
  val <- object$fit.stats["ll", "ML"]
  attr(val, "nall") <- object$k.eff
  attr(val, "nobs") <- object$k.eff
  attr(val, "df") <- object$parms
  class(val) <- "logLik"
  val
}

#' @rdname rma.glmm
#' @export
deviance.mf_rma_glmm <- function(object, ...) object$fit.stats["dev", "ML"]

#' @rdname rma.glmm
#' @param all nobs(): as metafor's \code{nobs(all = TRUE)}, the numbers of
#'   studies, of rows in the data, in \code{subset}, with complete data,
#'   used (the rows of the long format) and the residual degrees of freedom;
#'   \code{FALSE}: the number of studies, as metafor.
#' @export
nobs.mf_rma_glmm <- function(object, all = FALSE, ...) nobs.mf_rma(object, all = all, ...)

#' @rdname rma.glmm
#' @export
AIC.mf_rma_glmm <- function(object, ..., k = 2) {
  fits <- c(list(object), list(...))
  if (length(fits) == 1L) return(-2 * object$fit.stats["ll", "ML"] + k * object$parms)
  out <- data.frame(df = vapply(fits, function(f) f$parms, numeric(1)),
                    AIC = vapply(fits, function(f) -2 * f$fit.stats["ll", "ML"] + k * f$parms, numeric(1)))
  rownames(out) <- vapply(as.list(match.call())[-1L][seq_along(fits)], function(e) paste(deparse(e), collapse = ""), "")
  out
}

#' @rdname rma.glmm
#' @export
BIC.mf_rma_glmm <- function(object, ...) {
  fits <- c(list(object), list(...))
  if (length(fits) == 1L) return(object$fit.stats["BIC", "ML"])
  out <- data.frame(df = vapply(fits, function(f) f$parms, numeric(1)),
                    BIC = vapply(fits, function(f) f$fit.stats["BIC", "ML"], numeric(1)))
  rownames(out) <- vapply(as.list(match.call())[-1L][seq_along(fits)], function(e) paste(deparse(e), collapse = ""), "")
  out
}

#' @rdname rma.glmm
#' @export
fitted.mf_rma_glmm <- function(object, ...) {
  out <- c(object$X.f %*% object$beta)
  names(out) <- object$slab
  out[!object$not.na] <- NA_real_
  out
}

#' @rdname rma.glmm
#' @param newmods moderator values for \code{predict()} (a vector or a
#'   matrix with one column per moderator, without the intercept).
#' @param transf optional function applied to the predicted values and their
#'   limits (e.g. \code{exp}).
#' @param level confidence level of \code{predict()} and \code{confint()}
#'   (default: that of the fit).
#' @export
predict.mf_rma_glmm <- function(object, newmods, transf, level, digits, ...) {
  alpha <- if (missing(level)) object$level else .mf_level(level)
  p <- object$p
  if (missing(newmods) || is.null(newmods)) {
    Xn <- if (object$int.only) matrix(1, 1, 1) else object$X
  } else {
    Xn <- as.matrix(newmods)
    if (object$int.incl && p > 1L && ncol(Xn) == 1L && p - 1L != 1L) Xn <- t(Xn)
    if (object$int.incl) Xn <- cbind(1, Xn)
    if (ncol(Xn) != p) .mf_stop(sprintf("'newmods' must give %d moderator value%s per row.", p - object$int.incl,
                                        if (p - object$int.incl > 1) "s" else ""))
  }
  pred <- c(Xn %*% object$beta)
  se <- sqrt(rowSums((Xn %*% object$vb) * Xn))
  crit <- if (object$test == "t") stats::qt(alpha / 2, object$ddf, lower.tail = FALSE) else stats::qnorm(alpha / 2, lower.tail = FALSE)
  out <- data.frame(pred = pred, se = se, ci.lb = pred - crit * se, ci.ub = pred + crit * se)
  # prediction interval with tau^2 (metafor: pi.lb/pi.ub for ML fits)
  if (object$method == "ML") {
    sp <- sqrt(se^2 + object$tau2)
    out$pi.lb <- pred - crit * sp
    out$pi.ub <- pred + crit * sp
  }
  if (!missing(transf) && is.function(transf)) {
    out$se <- NULL
    for (nm in intersect(names(out), c("pred", "ci.lb", "ci.ub", "pi.lb", "pi.ub"))) out[[nm]] <- transf(out[[nm]])
  }
  if (missing(newmods) && !object$int.only) rownames(out) <- object$slab[object$not.na]
  out
}

#' @rdname rma.glmm
#' @param parm ignored (all coefficients).
#' @param k the penalty per parameter of \code{AIC()} (default 2).
#' @export
confint.mf_rma_glmm <- function(object, parm, level, ...) {
  alpha <- if (missing(level)) object$level else .mf_level(level)
  crit <- if (object$test == "t") stats::qt(alpha / 2, object$ddf, lower.tail = FALSE) else stats::qnorm(alpha / 2, lower.tail = FALSE)
  b <- c(object$beta)
  out <- cbind(estimate = b, ci.lb = b - crit * object$se, ci.ub = b + crit * object$se)
  rownames(out) <- rownames(object$beta)
  res <- list(fixed = out)
  # the profile-likelihood CI of tau^2 of an ML fit (metafor has none for
  # rma.glmm fits; built as confint.rma.uni()'s for ML fits)
  # (never left out silently: a case without it is a warning, with NA rows)
  if (object$method == "ML" && !isTRUE(list(...)$.fixed.only)) {
    res$random <- tryCatch(.mf_glmm_tau2_ci(object, alpha), error = function(e) {
      warning(sprintf("The profile-likelihood CI of tau^2 is not available: %s", conditionMessage(e)), call. = FALSE)
      rbind(`tau^2` = c(estimate = object$tau2, ci.lb = NA_real_, ci.ub = NA_real_),
            tau = c(sqrt(object$tau2), NA_real_, NA_real_))
    })
  }
  res$digits <- .mf_digits(NULL, object)
  res$lb.sign <- res$ub.sign <- ""
  class(res) <- "confint.mf_rma"
  res
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::tidy
tidy.mf_rma_glmm <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  out <- data.frame(term = rownames(x$beta), estimate = c(x$beta), std.error = x$se,
                    statistic = x$zval, p.value = x$pval, stringsAsFactors = FALSE)
  if (isTRUE(conf.int)) {
    ci <- confint.mf_rma_glmm(x, level = conf.level, .fixed.only = TRUE)$fixed
    out$conf.low <- unname(ci[, "ci.lb"])
    out$conf.high <- unname(ci[, "ci.ub"])
  }
  rownames(out) <- NULL
  .mf_tibble(out)
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::glance
glance.mf_rma_glmm <- function(x, ...) {
  out <- data.frame(nobs = x$k, method = x$method, measure = x$measure, model = x$model, tau2 = x$tau2,
                    i.squared = x$I2, h.squared = x$H2, QE.Wld = x$QE.Wld, QE.Wld.p = x$QEp.Wld,
                    QE.LRT = x$QE.LRT, QE.LRT.p = x$QEp.LRT, QM = x$QM, QM.p = x$QMp,
                    logLik = x$fit.stats["ll", "ML"], deviance = x$fit.stats["dev", "ML"],
                    AIC = x$fit.stats["AIC", "ML"], BIC = x$fit.stats["BIC", "ML"],
                    AICc = x$fit.stats["AICc", "ML"], df.residual = x$k - x$p, stringsAsFactors = FALSE)
  rownames(out) <- NULL
  .mf_tibble(out)
}

# ---------------------------------------------------------------------------
# anova(), profile() and the profile-likelihood CI of tau^2, forest(),
# funnel() (issue 19).  metafor 5.2.1 refuses anova() and confint() of
# rma.glmm fits ("Method not available"); here they follow metafor's
# anova.rma() / confint.rma.uni() for the other fits.

#' @rdname rma.glmm
#' @param object2 a second \code{rma.glmm()} fit of the same data (nested in
#'   \code{object} or \code{object} in it): \code{anova()} gives the
#'   likelihood-ratio test of the two.
#' @param X,rhs Wald tests of \code{anova()} of linear combinations: the rows
#'   of \code{X} (= \code{rhs}), as \code{anova()} of \code{rma()} fits
#'   (or the coefficients \code{btt}).
#' @details \code{anova(object, object2)}: the likelihood-ratio test of two
#'   nested fits, 2 (ll.f - ll.r) on the difference of their numbers of
#'   parameters, from the maximised (marginal) log-likelihoods of the fits
#'   (\code{ll.marginal}; the log-likelihoods printed are those of
#'   \code{fit.stats}, metafor's).  \code{confint()} of an ML fit adds the
#'   profile-likelihood CI of tau^2 (and tau): the values where
#'   2 (ll.max - pl(tau^2)) equals the chi-square(1) quantile, pl the
#'   log-likelihood maximised over the coefficients at fixed tau^2 (the
#'   study intercepts of \code{model = "UM.FS"} too; for
#'   \code{model = "UM.RS"} also sigma^2 and, with \code{cor = TRUE}, the
#'   correlation rho, on the fit's Laplace approximation), with the lower
#'   bound 0 when pl(0) is within it; \code{profile()} draws pl.  When the CI
#'   cannot be computed, \code{confint()} says so in a warning and gives
#'   NA bounds.
#' @export
anova.mf_rma_glmm <- function(object, object2, btt, X, rhs, digits, ...) {
  .mf_check_dots("anova.mf_rma_glmm", ...)
  x <- object
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  if (missing(object2) || is.null(object2)) {
    res <- if (missing(X) || is.null(X)) .mf_anova_btt(x, if (missing(btt)) NULL else btt, if (missing(rhs)) NULL else rhs, d)
           else .mf_anova_contrasts(x, X, if (missing(rhs)) NULL else rhs, d)
    class(res) <- "anova.mf_rma"
    return(res)
  }
  if (!missing(btt) || !missing(X)) .mf_stop("Give either 'object2' (a likelihood-ratio test) or 'btt' / 'X' (a Wald test), not both.")
  if (!inherits(object2, "mf_rma_glmm")) .mf_stop("'object2' must be an rma.glmm() fit.")
  f <- x; r <- object2
  if (f$parms == r$parms) .mf_stop("The two models have the same number of parameters.")
  if (f$parms < r$parms) { f <- object2; r <- x }
  if (f$measure != r$measure || !identical(f$model, r$model) || f$k != r$k ||
      !isTRUE(all.equal(f$outdat, r$outdat, check.attributes = FALSE, tolerance = 0)))
    .mf_stop("The full and reduced model must be fitted to the same counts with the same 'measure' and 'model'.")
  if (f$method == "EE" && r$method != "EE")
    .mf_stop("The full model is an equal-effects model but the reduced model has random effects.")
  if (!identical(unname(f$X), unname(r$X)) && !.mf_is_nested(f$X, r$X))
    warning("The models being compared appear not to be nested.", call. = FALSE)
  LRT <- max(0, 2 * (f$ll.marginal - r$ll.marginal))
  df <- f$parms - r$parms
  fs <- function(m) { v <- m$fit.stats[["ML"]]; names(v) <- rownames(m$fit.stats); v }
  res <- list(fit.stats.f = fs(f), fit.stats.r = fs(r), parms.f = f$parms, parms.r = r$parms,
              LRT = LRT, pval = stats::pchisq(LRT, df, lower.tail = FALSE), QE.f = NA_real_, QE.r = NA_real_,
              tau2.f = f$tau2, tau2.r = r$tau2, R2 = NA_real_, method = f$method, class.f = class(f),
              digits = d, type = "LRT")
  class(res) <- "anova.mf_rma"
  res
}

# The log-likelihood of fit x maximised over its coefficients at tau = sqrt(tau2)
# (the study intercepts of UM.FS are profiled inside the core); start: the
# coefficients to start from.  Returns list(ll, beta).
.mf_glmm_profile_ll <- function(x, tau2, start = c(x$beta)) {
  if (x$measure %in% c("OR", "IRR") && x$model == "UM.RS") return(.mf_glmm_profile_ll_rs(x, tau2))
  if (x$measure == "OR" && x$model == "CM.EL") {
    # the exact conditional likelihood, with the fit's 31-node quadrature
    v <- x$outdat
    obs <- list(y = as.double(v$ai), n = as.double(v$ai + v$bi), off = rep(0, x$k), z = rep(1, x$k),
                lconst = rep(0, x$k), X = unname(x$X), start = as.integer(0:x$k), family = 2L, study_int = FALSE,
                n2 = as.double(v$ci + v$di), tt = as.double(v$ai + v$ci))
    storage.mode(obs$X) <- "double"
    ll <- function(b) .mf_glmm_loglik_obs(obs, 31L, c(b, sqrt(tau2)), TRUE)
  } else {
    obs <- .mf_glmm_obs(x$measure, x$model, x$outdat, x$X, x$coding)
    ll <- function(b) .mf_glmm_loglik_obs(obs, as.integer(x$nAGQ), c(b, sqrt(tau2)), TRUE)
  }
  fn <- function(b) { v <- -ll(b); if (is.finite(v)) v else 1e300 }
  o <- stats::optim(start, fn, method = "BFGS", control = list(reltol = 1e-15, maxit = 1000, ndeps = rep(1e-6, length(start))))
  # (a Nelder-Mead polish: BFGS on a finite-difference gradient stops ~1e-9 short)
  if (length(start) > 1L) o <- stats::optim(o$par, fn, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 5000))
  else o <- stats::optimize(fn, o$par + c(-1, 1) * max(1, 10 * max(x$se, 0.01)), tol = 1e-12)
  list(ll = -(if (is.null(o$value)) o$objective else o$value), beta = if (is.null(o$par)) o$minimum else o$par)
}

# model = "UM.RS": the log-likelihood maximised at tau = sqrt(tau2) over the
# coefficients, the intercept of group 2, sigma and (cor = TRUE) the
# correlation, by the core's Newton steps (profile_rs in core/glmm.hpp)
# from the ML estimates.  Returns list(ll, beta, free, converged).
.mf_glmm_profile_ll_rs <- function(x, tau2) {
  obs <- .mf_glmm_rs_obs(x$measure, x$outdat, x$X, x$coding)
  p <- x$p
  th <- x$theta.rs
  start <- if (isTRUE(x$cor)) c(th[seq_len(p + 2L)], atan2(th[p + 3L], th[p + 4L])) else th[seq_len(p + 2L)]
  r <- .mf_glmm_profile_rs(obs, isTRUE(x$cor), as.double(start), sqrt(tau2), x$control$maxiter, x$control$tol)
  list(ll = r$ll, beta = r$free[seq_len(p)], free = r$free, converged = r$converged)
}

.mf_glmm_check_profile <- function(x, what) {
  if (x$method != "ML") .mf_stop(sprintf("%s needs a random-effects fit (method = \"ML\"): tau^2 is not estimated in an equal-effects model.", what))
  if (!((x$measure %in% c("PLO", "IRLN")) || (x$measure %in% c("OR", "IRR") && x$model %in% c("UM.FS", "UM.RS", "CM.AL", "CM.EL"))))
    .mf_stop(sprintf("%s is not available for rma.glmm() fits with model = \"%s\" yet.", what, x$model))
  if (x$model == "UM.RS" && x$measure %in% c("OR", "IRR") && is.null(x$theta.rs))
    .mf_stop(sprintf("%s needs the UM.RS estimates of the fit (refit it with this version of metafast).", what))
  if (!is.finite(x$ll.marginal)) .mf_stop(sprintf("%s needs the maximised log-likelihood of the fit.", what))
}

# The profile-likelihood CI of tau^2 of an ML fit (confint.rma.uni()'s method:
# pl(tau2) = ll.max - qchisq(1 - alpha, 1) / 2 on each side of the estimate).
.mf_glmm_tau2_ci <- function(x, alpha) {
  .mf_glmm_check_profile(x, "The CI of tau^2")
  crit <- stats::qchisq(1 - alpha, 1) / 2
  target <- x$ll.marginal - crit
  conv <- TRUE
  g <- function(t2) {
    r <- .mf_glmm_profile_ll(x, t2)
    if (identical(r$converged, FALSE)) conv <<- FALSE
    r$ll - target
  }
  t2 <- x$tau2
  lb <- if (t2 <= 0 || g(0) >= 0) 0 else
    stats::uniroot(function(s) g(s^2), c(0, sqrt(t2)), tol = 1e-10 * max(1, sqrt(t2)))$root^2
  hi <- max(sqrt(t2), 0.1)
  for (i in seq_len(60)) { if (g(hi^2) < 0) break; hi <- 2 * hi }
  ub <- if (g(hi^2) < 0) stats::uniroot(function(s) g(s^2), c(sqrt(t2), hi), tol = 1e-10 * max(1, hi))$root^2 else NA_real_
  if (is.na(ub)) warning("The upper bound of the CI of tau^2 was not found (the profile log-likelihood does not drop enough).", call. = FALSE)
  if (!conv) warning("The maximisation at fixed tau^2 did not converge at some values; the CI of tau^2 may be inaccurate.", call. = FALSE)
  rbind(`tau^2` = c(estimate = t2, ci.lb = lb, ci.ub = ub), tau = c(sqrt(t2), sqrt(lb), sqrt(ub)))
}

#' @rdname rma.glmm
#' @param fitted an ML fit of \code{rma.glmm()}.
#' @param xlim,ylim,steps,lltol,progbar,plot,pch,refline,cline profile(): the
#'   range of tau^2 (default: the profile CI widened), the number of points,
#'   and the plotting arguments of \code{profile()} for \code{rma()} fits.
#' @export
profile.mf_rma_glmm <- function(fitted, xlim, ylim, steps = 20, lltol = 1e-03, progbar = TRUE, plot = TRUE,
                                pch = 19, refline = TRUE, cline = FALSE, ...) {
  .mf_check_dots("profile.mf_rma_glmm", ...)
  x <- fitted
  .mf_glmm_check_profile(x, "profile()")
  if (!is.numeric(steps) || length(steps) != 1L || steps < 2) .mf_stop("'steps' must be a number >= 2.")
  if (missing(xlim)) {
    ci <- tryCatch(.mf_glmm_tau2_ci(x, x$level)[1L, ], error = function(e) c(x$tau2, 0, NA))
    ub <- if (is.finite(ci[3])) ci[3] else 4 * max(x$tau2, 0.01)
    xlim <- c(max(0, ci[2] - 0.1 * (ub - ci[2])), ub + 0.1 * (ub - ci[2]))
  }
  if (!is.numeric(xlim) || length(xlim) != 2L || anyNA(xlim) || xlim[1] < 0 || xlim[2] <= xlim[1])
    .mf_stop("'xlim' must be two increasing values >= 0.")
  vc <- seq(xlim[1], xlim[2], length.out = steps)
  lls <- vapply(vc, function(t2) .mf_glmm_profile_ll(x, t2)$ll, numeric(1))
  out <- list(tau2 = vc, ll = lls, beta = NULL, ci.lb = NULL, ci.ub = NULL, comps = 1L, ylim = if (missing(ylim)) range(c(lls, x$ll.marginal), finite = TRUE) else ylim,
              method = "ML", vc = x$tau2, maxll = x$ll.marginal, xlab = expression(paste(tau^2, " Value")),
              title = "")
  class(out) <- "profile.mf_rma_glmm"
  if (isTRUE(plot)) {
    graphics::plot(vc, lls, type = "o", pch = pch, xlab = expression(paste(tau^2, " Value")),
                   ylab = "Log-Likelihood", ylim = out$ylim, bty = "l")
    if (isTRUE(refline)) {
      graphics::abline(v = x$tau2, lty = "dotted")
      graphics::abline(h = x$ll.marginal, lty = "dotted")
    }
    if (isTRUE(cline)) graphics::abline(h = x$ll.marginal - stats::qchisq(1 - x$level, 1) / 2, lty = "dotted")
  }
  invisible(out)
}

# forest() and funnel(): the per-study outcomes yi, vi (escalc()'s, with
# add / to / drop00 as given to rma.glmm()) and the fit's estimate, as
# metafor's forest.rma() / funnel.rma() draw an rma.glmm fit (no weights:
# showweights = TRUE is an error there, as in metafor).
.mf_glmm_plot_view <- function(x) {
  keep <- x$not.na.yivi
  if (!sum(keep)) .mf_stop("No study has an outcome to draw.")
  out <- list(yi = c(x$yi), vi = c(x$vi), k = sum(keep), k.all = x$k.all, ids = x$ids[keep], slab = x$slab[keep],
              slab.null = isTRUE(x$slab.null), X = x$X.f[keep, , drop = FALSE], beta = x$beta, vb = x$vb,
              se = x$se, ci.lb = x$ci.lb, ci.ub = x$ci.ub, tau2 = x$tau2, I2 = x$I2, int.only = x$int.only,
              p = x$p, test = x$test, method = x$method, measure = x$measure, level = x$level, data = x$data,
              forest_k = x$k, forest_rstandard = NULL, forest_tab = TRUE)
  class(out) <- "mf_rma"
  out
}

#' @rdname forest
#' @details For \code{rma.glmm()} fits, \code{forest()} draws the per-study
#'   outcomes of \code{escalc()} (with the fit's \code{add}, \code{to},
#'   \code{drop00}) and the pooled estimate of the model (with its
#'   prediction interval for an ML fit), or the fitted values of a model with
#'   moderators, as metafor's \code{forest.rma()} does for these fits;
#'   \code{showweights = TRUE} is an error there (the model has no weights),
#'   and so here, and \code{order = "rstandard"} is not available.
#' @export
forest.mf_rma_glmm <- function(x, ...) {
  cl <- match.call()
  if (isTRUE(eval(cl$showweights, parent.frame())))
    .mf_stop("Option 'showweights = TRUE' is not possible for rma.glmm() fits (as in metafor).")
  cl[[1L]] <- forest.mf_rma
  cl$x <- .mf_glmm_plot_view(x)
  if (is.null(cl$showweights)) cl$showweights <- FALSE
  eval(cl, parent.frame())
}
formals(forest.mf_rma_glmm) <- formals(forest.mf_rma)

#' @rdname funnel
#' @details For \code{rma.glmm()} fits, \code{funnel()} draws the per-study
#'   outcomes of \code{escalc()} against their standard errors around the
#'   model's estimate (an intercept-only fit; with moderators, as metafor, the
#'   residuals of a model with moderators are not available for these fits:
#'   an error).
#' @export
funnel.mf_rma_glmm <- function(x, ...) {
  if (!x$int.only)
    .mf_stop("funnel() of an rma.glmm() fit with moderators is not available (the model has no residuals of the normal-normal kind).")
  cl <- match.call()
  cl[[1L]] <- funnel.mf_rma
  cl$x <- list(yi = c(x$yi), vi = c(x$vi), slab = x$slab[x$not.na.yivi], beta = x$beta, int.only = TRUE,
               level = x$level, measure = x$measure, wi = NULL)
  eval(cl, parent.frame())
}
formals(funnel.mf_rma_glmm) <- formals(funnel.mf_rma)
