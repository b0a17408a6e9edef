# broom-style tidiers (generics::tidy, glance, augment) for mf_rma objects.
# They are registered lazily as S3 methods of the generics package, which is
# only suggested: nothing here runs unless generics is installed.

#' Tidy, glance at and augment a meta-analytic model
#'
#' Methods for the \code{generics} verbs, following the broom conventions.
#' \code{tidy()} gives one row per coefficient (\code{term},
#' \code{estimate}, \code{std.error}, \code{statistic}, \code{p.value}, and
#' with \code{conf.int = TRUE} \code{conf.low}, \code{conf.high});
#' \code{glance()} one row of model summaries; \code{augment()} the data used
#' with \code{.fitted}, \code{.resid}, \code{.se.resid}, \code{.std.resid},
#' \code{.hat} and \code{.weight}.  Available when the \code{generics} package
#' is installed.
#'
#' @param x an object of class \code{mf_rma}.
#' @param conf.int add confidence limits.
#' @param conf.level their level.
#' @param ... ignored.
#' @return A data frame (a tibble when the tibble package is installed).
#' @keywords internal
#' @examplesIf requireNamespace("generics", quietly = TRUE)
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' generics::tidy(fit, conf.int = TRUE)
#' generics::glance(fit)
#' @name mf_rma-tidiers
#' @exportS3Method generics::tidy
tidy.mf_rma <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  out <- data.frame(term = rownames(x$beta), estimate = c(x$beta), std.error = x$se,
                    statistic = x$zval, p.value = x$pval, stringsAsFactors = FALSE)
  if (isTRUE(conf.int)) {
    ci <- confint.mf_rma(x, level = conf.level, fixed = TRUE, random = FALSE)$fixed
    out$conf.low <- unname(ci[, "ci.lb"])
    out$conf.high <- unname(ci[, "ci.ub"])
  }
  rownames(out) <- NULL
  .mf_tibble(out)
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::glance
glance.mf_rma <- function(x, ...) {
  col <- if (.mf_estimator_has(x$method, "restricted")) "REML" else "ML"
  out <- data.frame(nobs = x$k, method = x$method, tau2 = x$tau2, se.tau2 = x$se.tau2,
                    i.squared = x$I2, h.squared = x$H2, r.squared = if (is.null(x$R2)) NA_real_ else x$R2,
                    QE = x$QE, QE.p = x$QEp, QM = x$QM, QM.p = x$QMp,
                    logLik = x$fit.stats["ll", col], deviance = x$fit.stats["dev", col],
                    AIC = x$fit.stats["AIC", col], BIC = x$fit.stats["BIC", col],
                    AICc = x$fit.stats["AICc", col], df.residual = x$k - x$p, stringsAsFactors = FALSE)
  rownames(out) <- NULL
  .mf_tibble(out)
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::augment
augment.mf_rma <- function(x, ...) {
  lv <- .mf_leverage_of(x)
  rs <- rstandard.mf_rma(x)
  ok <- !is.na(rs$resid) | seq_along(rs$resid) %in% seq_len(x$k)
  if (length(rs$resid) != x$k) ok <- rs$slab %in% x$slab[x$ids]
  out <- data.frame(.rownames = as.character(x$slab[x$ids]), yi = x$yi, vi = x$vi,
                    .fitted = c(x$X %*% x$beta), .resid = rs$resid[ok], .se.resid = rs$se[ok],
                    .std.resid = rs$z[ok], .hat = lv$hat, .weight = 100 * lv$weight / sum(lv$weight),
                    stringsAsFactors = FALSE)
  rownames(out) <- NULL
  .mf_tibble(out)
}

.mf_tibble <- function(df) {
  if (requireNamespace("tibble", quietly = TRUE)) tibble::as_tibble(df) else df
}
