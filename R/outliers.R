# Outlier detection and the sensitivity analysis without outliers.

#' Outlier analysis: flag outlying studies and refit without them
#'
#' Flags outlying studies of an intercept-only fit by one of two rules and
#' refits the model without them (same estimator, test and level):
#' \describe{
#'   \item{\code{"ci"}}{non-overlapping confidence intervals: study i is an
#'     outlier when its confidence interval
#'     \eqn{y_i \pm z_{1-\alpha/2}\sqrt{v_i}}{yi +- z sqrt(vi)} lies wholly
#'     outside the confidence interval of the pooled estimate (upper bound
#'     below \code{ci.lb} or lower bound above \code{ci.ub}); Harrer et al.
#'     (2021), ch. 5.4 (the rule of \code{dmetar::find.outliers()}).}
#'   \item{\code{"rstudent"}}{the absolute studentized deleted residual
#'     exceeds \code{threshold} (Viechtbauer & Cheung 2010), computed by
#'     \code{rstudent()}.}
#' }
#'
#' @param x an intercept-only \code{mf_rma} fit.
#' @param rule \code{"ci"} (default) or \code{"rstudent"}.
#' @param threshold cut-off for \code{rule = "rstudent"} (default 1.96).
#' @param ... ignored.
#' @return An object of class \code{mf_outliers}: \code{outliers} (data frame
#'   of the flagged studies: \code{row} in the data, \code{slab}, \code{yi},
#'   \code{ci.lb}, \code{ci.ub} and, for \code{"rstudent"}, \code{rstudent}),
#'   \code{flag} (logical, one per study used in \code{x}), \code{comparison}
#'   (data frame with rows \code{"all studies"} and \code{"outliers removed"}:
#'   \code{k}, \code{estimate}, \code{ci.lb}, \code{ci.ub}, \code{pval},
#'   \code{tau2}, \code{I2}), and the fits \code{fit} and \code{fit.removed}
#'   (\code{NULL} when nothing was flagged).
#' @references Harrer M, Cuijpers P, Furukawa TA, Ebert DD (2021).
#'   \emph{Doing Meta-Analysis with R: A Hands-On Guide}, ch. 5. Chapman &
#'   Hall/CRC. Viechtbauer W, Cheung MWL (2010). Outlier and influence
#'   diagnostics for meta-analysis. \emph{Res Synth Methods} 1:112-125.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 1.60, 0.30),
#'                   vi = c(0.01, 0.03, 0.05, 0.01, 0.05, 0.02, 0.02, 0.04))
#' outlier_analysis(rma(yi, vi, data = dat))
#' @export
outlier_analysis <- function(x, rule = c("ci", "rstudent"), threshold = 1.96, ...) {
  .mf_need_rma(x, "outlier_analysis")
  if (!isTRUE(x$int.only))
    .mf_stop("outlier_analysis() needs a model without moderators.")
  rule <- .mf_match_arg(rule, c("ci", "rstudent"), "rule")
  if (!is.numeric(threshold) || length(threshold) != 1L || is.na(threshold) || threshold <= 0)
    .mf_stop("'threshold' must be a single positive number.")
  if (x$k < 3L) .mf_stop(sprintf("outlier_analysis() needs at least 3 studies (k = %d).", x$k))
  crit <- stats::qnorm(x$level / 2, lower.tail = FALSE)
  lb <- x$yi - crit * sqrt(x$vi)
  ub <- x$yi + crit * sqrt(x$vi)
  rs <- NULL
  if (rule == "ci") {
    flag <- ub < x$ci.lb[1L] | lb > x$ci.ub[1L]
  } else {
    rs <- .mf_outlier_rstudent(x)
    flag <- !is.na(rs) & abs(rs) > threshold
  }
  slab <- x$slab[x$ids]
  out <- data.frame(row = x$ids[flag], slab = slab[flag], yi = x$yi[flag], ci.lb = lb[flag], ci.ub = ub[flag],
                    stringsAsFactors = FALSE)
  if (!is.null(rs)) out$rstudent <- rs[flag]
  fit2 <- NULL
  if (any(flag)) {
    keep <- !flag
    if (sum(keep) < 2L)
      .mf_stop(sprintf("Only %d stud%s would remain after removing the %d flagged outliers; no refit.",
                       sum(keep), if (sum(keep) == 1L) "y" else "ies", sum(flag)))
    fit2 <- .mf_refit_data(x, x$yi[keep], x$vi[keep], weights = if (is.null(x$weights)) NULL else x$weights[keep],
                      slab = slab[keep])
  }
  row <- function(f) {
    data.frame(k = f$k, estimate = f$beta[1L, 1L], ci.lb = unname(f$ci.lb[1L]), ci.ub = unname(f$ci.ub[1L]),
               pval = unname(f$pval[1L]), tau2 = f$tau2, I2 = f$I2)
  }
  cmp <- row(x)
  cmp <- rbind(cmp, if (is.null(fit2)) row(x) else row(fit2))
  rownames(cmp) <- c("all studies", "outliers removed")
  res <- list(outliers = out, flag = flag, comparison = cmp, fit = x, fit.removed = fit2, rule = rule,
              threshold = if (rule == "rstudent") threshold else NA_real_, rstudent = rs,
              digits = .mf_digits(NULL, x))
  class(res) <- "mf_outliers"
  res
}

# Studentized deleted residuals: from rstudent() (R/influence.R) when that
# method is available; otherwise from the leave-one-out refits of the C++
# kernel (Viechtbauer & Cheung 2010, eq. 12: (yi - mu(-i)) / sqrt(vi +
# tau2(-i) + var(mu(-i)))).
.mf_outlier_rstudent <- function(x, use_method = TRUE) {
  m <- if (use_method) utils::getS3method("rstudent", "mf_rma", optional = TRUE) else NULL
  if (!is.null(m)) {
    z <- stats::rstudent(x)$z
    if (length(z) == x$k) return(unname(z))
    if (length(z) == x$k.all) return(unname(z[x$ids]))
  }
  # the k leave-one-out refits in one C++ kernel (the refit engine)
  a <- .mf_cd_args(x, "outlier_analysis")
  r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                     0L, integer(0), NA_real_, .mf_threads(NULL, n_work = x$k, min_per_thread = 16L), NULL)
  (x$yi - r$beta[, 1L]) / sqrt(x$vi + r$tau2 + r$se[, 1L]^2)
}

#' @rdname outlier_analysis
#' @param digits number of decimals for printing.
#' @export
print.mf_outliers <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  rule <- if (x$rule == "ci") "study CI outside the CI of the pooled estimate"
          else sprintf("|studentized deleted residual| > %s", format(x$threshold))
  cat("\nOutlier analysis (rule: ", rule, ")\n\n", sep = "")
  if (nrow(x$outliers) == 0L) {
    cat("No outliers flagged.\n\n")
  } else {
    cat("Flagged: ", paste(x$outliers$slab, collapse = ", "), "\n\n", sep = "")
  }
  c <- x$comparison
  tab <- data.frame(k = c$k, estimate = .mf_fmtx(c$estimate, d),
                    ci = paste0("[", .mf_fmtx(c$ci.lb, d), ", ", .mf_fmtx(c$ci.ub, d), "]"),
                    pval = .mf_fmtp(c$pval, d), tau2 = .mf_fmtx(c$tau2, d), I2 = .mf_fmtx(c$I2, 1, "%"),
                    row.names = rownames(c))
  print(tab)
  cat("\n")
  invisible(x)
}
