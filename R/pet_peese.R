# PET-PEESE (Stanley & Doucouliagos 2014).

#' PET-PEESE estimate of the effect corrected for small-study effects
#'
#' The precision-effect test (PET) regresses the effect sizes on their
#' standard errors, the precision-effect estimate with standard error
#' (PEESE) on their sampling variances; the intercepts are the effects
#' expected for a study of infinite precision.  The conditional PET-PEESE
#' estimator (Stanley & Doucouliagos 2014) uses PEESE when PET's intercept
#' indicates a genuine effect, else PET.  Both regressions are
#' \code{\link{regtest}()} fits, so the intercepts, their intervals and the
#' test statistics equal those of \code{regtest(x, model, predictor = "sei")}
#' and \code{regtest(x, model, predictor = "vi")}.
#'
#' \code{model = "lm"} (the default, as in Stanley & Doucouliagos 2014 and
#' most applications) fits weighted least squares with weights \eqn{1/v_i}
#' and a multiplicative dispersion parameter, with t-based intervals;
#' \code{model = "rma"} fits mixed-effects meta-regressions with the
#' estimator of \code{x} (additive heterogeneity).
#'
#' The decision rule: with \code{side = "one-sided"} (default) PEESE is chosen
#' when PET's intercept is significantly different from 0 in the direction
#' of the pooled estimate at level \code{alpha} (one-sided p < .05 as
#' Stanley & Doucouliagos 2014); with \code{side = "two-sided"} when the
#' two-sided p-value of PET's intercept is below \code{alpha} (some authors
#' use a two-sided .10).
#'
#' @param x an intercept-only \code{mf_rma} fit.
#' @param model \code{"lm"} (default) or \code{"rma"}.
#' @param alpha significance level of the decision rule.
#' @param side \code{"one-sided"} (default) or \code{"two-sided"}.
#' @param ... ignored.
#' @return An object of class \code{mf_pet_peese}: a data frame
#'   \code{estimates} (rows PET, PEESE; columns estimate, se, ci.lb, ci.ub,
#'   pval of the intercept, and the slope test \code{slope.zval},
#'   \code{slope.pval}), \code{chosen} ("PET" or "PEESE"), \code{estimate},
#'   \code{ci.lb}, \code{ci.ub} of the chosen intercept, \code{p.decision}
#'   (the PET p-value used by the rule), and the two \code{mf_regtest}
#'   objects \code{pet} and \code{peese}.
#' @references Stanley TD, Doucouliagos H (2014). Meta-regression
#'   approximations to reduce publication selection bias. \emph{Res Synth
#'   Methods} 5:60-78.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.80, 0.70),
#'                   vi = c(0.01, 0.03, 0.05, 0.06, 0.05, 0.02, 0.09, 0.08))
#' pet_peese(rma(yi, vi, data = dat))
#' @export
pet_peese <- function(x, model = c("lm", "rma"), alpha = 0.05, side = c("one-sided", "two-sided"), ...) {
  .mf_need_rma(x, "pet_peese")
  if (!isTRUE(x$int.only))
    .mf_stop("pet_peese() needs a model without moderators (the intercept is the corrected effect).")
  model <- .mf_match_arg(model, c("lm", "rma"), "model")
  side <- .mf_match_arg(side, c("one-sided", "two-sided"), "side")
  if (!is.numeric(alpha) || length(alpha) != 1L || is.na(alpha) || alpha <= 0 || alpha >= 1)
    .mf_stop("'alpha' must be a single number in (0, 1).")
  pet <- regtest(x, model = model, predictor = "sei")
  peese <- regtest(x, model = model, predictor = "vi")
  row <- function(r) {
    if (model == "lm") {
      cf <- stats::coef(summary(r$fit))
      se <- cf[1L, 2L]; st <- cf[1L, 3L]; p2 <- cf[1L, 4L]
    } else {
      se <- unname(r$fit$se[1L]); st <- unname(r$fit$zval[1L]); p2 <- unname(r$fit$pval[1L])
    }
    data.frame(estimate = r$est, se = se, ci.lb = r$ci.lb, ci.ub = r$ci.ub, stat = st, pval = p2,
               slope.zval = r$zval, slope.pval = r$pval)
  }
  est <- rbind(PET = row(pet), PEESE = row(peese))
  # One-sided test of PET's intercept in the direction of the pooled effect.
  st <- est$stat[1L]
  dir <- if (c(x$beta)[1L] >= 0) 1 else -1
  p1 <- if (model == "lm" || !is.na(pet$fit$ddf)) {
    df <- if (model == "lm") pet$fit$df.residual else pet$fit$ddf
    stats::pt(dir * st, df, lower.tail = FALSE)
  } else stats::pnorm(dir * st, lower.tail = FALSE)
  p.dec <- if (side == "one-sided") p1 else est$pval[1L]
  chosen <- if (p.dec < alpha) "PEESE" else "PET"
  res <- list(estimates = est, chosen = chosen, estimate = est[chosen, "estimate"],
              ci.lb = est[chosen, "ci.lb"], ci.ub = est[chosen, "ci.ub"], p.decision = p.dec,
              alpha = alpha, side = side, model = model, pet = pet, peese = peese,
              digits = .mf_digits(NULL, x))
  class(res) <- "mf_pet_peese"
  res
}

#' @rdname pet_peese
#' @param digits number of decimals for printing.
#' @export
print.mf_pet_peese <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  cat("\nPET-PEESE (", if (x$model == "lm") "weighted least squares, multiplicative dispersion"
      else "mixed-effects meta-regression", ")\n\n", sep = "")
  e <- x$estimates
  tab <- data.frame(estimate = .mf_fmtx(e$estimate, d), se = .mf_fmtx(e$se, d),
                    ci = paste0("[", .mf_fmtx(e$ci.lb, d), ", ", .mf_fmtx(e$ci.ub, d), "]"),
                    pval = .mf_fmtp(e$pval, d), slope.pval = .mf_fmtp(e$slope.pval, d),
                    row.names = rownames(e))
  print(tab)
  cat(sprintf("\nPET intercept: %s p = %s (alpha = %s) -> %s\n", x$side, .mf_fmtp(x$p.decision, d), x$alpha, x$chosen))
  cat(sprintf("PET-PEESE estimate: %s [%s, %s]\n\n", .mf_fmtx(x$estimate, d), .mf_fmtx(x$ci.lb, d), .mf_fmtx(x$ci.ub, d)))
  invisible(x)
}
