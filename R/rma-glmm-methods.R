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
#' @export
nobs.mf_rma_glmm <- function(object, ...) object$k.eff

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
  list(fixed = out)
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::tidy
tidy.mf_rma_glmm <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  out <- data.frame(term = rownames(x$beta), estimate = c(x$beta), std.error = x$se,
                    statistic = x$zval, p.value = x$pval, stringsAsFactors = FALSE)
  if (isTRUE(conf.int)) {
    ci <- confint.mf_rma_glmm(x, level = conf.level)$fixed
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
