# A review-style table of pooled results, one row per analysis.

#' Table of meta-analytic results
#'
#' One row per analysis (intercept-only fit): number of studies, optional
#' number of participants, the pooled estimate with its confidence interval
#' and p-value, Cochran's Q with its p-value, \eqn{I^2}{I^2} with its
#' Q-profile confidence interval (Viechtbauer 2007; from
#' \code{confint()}), \eqn{\tau^2}{tau^2} and the prediction interval
#' \eqn{\hat\mu \pm c\sqrt{SE^2 + \tau^2}}{mu +- c sqrt(se^2 + tau2)} (from
#' \code{predict()}: \eqn{c} is a normal quantile, or a t quantile with
#' k - 1 df for fits with \code{test = "t"} or \code{"knha"}).  Equal-effects
#' fits and fits with a fixed \eqn{\tau^2}{tau^2} have no interval for
#' \eqn{I^2}{I^2} (and equal-effects fits no prediction interval).
#'
#' @param ... \code{mf_rma} fits, given as named arguments
#'   (\code{results_table(main = fit1, guided = fit2)}) or as one named
#'   list.  Unnamed fits are labelled by their expression.
#' @param n optional numbers of participants, one per analysis.
#' @param digits number of decimals for printing (default 2).
#' @return A data frame of class \code{c("mf_results_table", "data.frame")}
#'   with columns \code{analysis}, \code{k}, \code{n}, \code{g} (estimate),
#'   \code{ci.lb}, \code{ci.ub}, \code{p}, \code{Q}, \code{Q.p}, \code{I2},
#'   \code{I2.lb}, \code{I2.ub}, \code{tau2}, \code{pi.lb}, \code{pi.ub}.
#'   \code{format()} gives the character table that \code{print()} shows
#'   ("0.34 [0.21, 0.47]"); \code{as.data.frame()} the plain numbers, ready
#'   for \code{knitr::kable()}.
#' @references Viechtbauer W (2007). Confidence intervals for the amount of
#'   heterogeneity in meta-analysis. \emph{Stat Med} 26:37-52. Riley RD,
#'   Higgins JPT, Deeks JJ (2011). Interpretation of random effects
#'   meta-analyses. \emph{BMJ} 342:d549.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.80, 0.70),
#'                   vi = c(0.01, 0.03, 0.05, 0.06, 0.05, 0.02, 0.09, 0.08),
#'                   guided = rep(c(TRUE, FALSE), 4))
#' all <- rma(yi, vi, data = dat)
#' guided <- rma(yi, vi, data = dat, subset = guided)
#' tab <- results_table(`All studies` = all, Guided = guided, n = c(1200, 640))
#' tab
#' as.data.frame(tab)
#' @export
results_table <- function(..., n = NULL, digits = 2) {
  fits <- list(...)
  nms <- names(fits)
  if (length(fits) == 1L && is.list(fits[[1L]]) && !inherits(fits[[1L]], "mf_rma")) {
    fits <- fits[[1L]]
    nms <- names(fits)
    if (is.null(nms)) nms <- paste("Analysis", seq_along(fits))
  } else {
    exprs <- vapply(as.list(substitute(list(...)))[-1L], function(e) paste(deparse(e), collapse = ""), character(1))
    if (is.null(nms)) nms <- exprs
    nms[nms == ""] <- exprs[nms == ""]
  }
  if (length(fits) == 0L) .mf_stop("Give at least one model fitted with rma().")
  bad <- !vapply(fits, inherits, logical(1), what = "mf_rma")
  if (any(bad)) .mf_stop(sprintf("All analyses must be rma() fits; not so for %s.", paste0("'", nms[bad], "'", collapse = ", ")))
  notint <- !vapply(fits, function(f) isTRUE(f$int.only), logical(1))
  if (any(notint))
    .mf_stop(sprintf("results_table() needs models without moderators; %s ha%s moderators.",
                     paste0("'", nms[notint], "'", collapse = ", "), if (sum(notint) == 1L) "s" else "ve"))
  if (!is.null(n)) {
    n <- .mf_numeric(n, "n")
    if (length(n) != length(fits))
      .mf_stop(sprintf("'n' has length %d but there are %d analyses.", length(n), length(fits)))
    bad <- !is.na(n) & (n < 0 | n != round(n))
    if (any(bad)) .mf_stop(sprintf("'n' must hold non-negative whole numbers of participants; bad in %s.",
                                   sub("^row", "analysis", .mf_rows(bad))))
  } else n <- rep(NA_real_, length(fits))
  if (!is.numeric(digits) || length(digits) != 1L || is.na(digits) || digits < 0)
    .mf_stop("'digits' must be a single non-negative number.")
  rows <- lapply(fits, .review_result_row)
  out <- do.call(rbind, rows)
  out <- cbind(data.frame(analysis = nms, k = vapply(fits, function(f) f$k, numeric(1)), n = n,
                          stringsAsFactors = FALSE), out)
  rownames(out) <- NULL
  attr(out, "digits") <- as.integer(digits)
  class(out) <- c("mf_results_table", "data.frame")
  out
}

# One row: estimate, CI, p, Q, I2 with its Q-profile CI, tau2, PI.
.review_result_row <- function(f) {
  I2.ci <- c(NA_real_, NA_real_)
  re <- !.mf_is_ee(f$method) && !isTRUE(f$tau2.fix) && f$k > f$p
  if (re) {
    ci <- tryCatch(suppressWarnings(stats::confint(f)$random), error = function(e) NULL)
    if (!is.null(ci)) I2.ci <- unname(ci["I^2(%)", c("ci.lb", "ci.ub")])
  }
  pr <- stats::predict(f)
  pi <- if (is.null(pr$pi.lb)) c(NA_real_, NA_real_) else c(pr$pi.lb[1L], pr$pi.ub[1L])
  data.frame(g = f$beta[1L, 1L], ci.lb = unname(f$ci.lb[1L]), ci.ub = unname(f$ci.ub[1L]),
             p = unname(f$pval[1L]), Q = f$QE, Q.p = f$QEp, I2 = f$I2, I2.lb = I2.ci[1L], I2.ub = I2.ci[2L],
             tau2 = f$tau2, pi.lb = pi[1L], pi.ub = pi[2L])
}

#' @rdname results_table
#' @param x an \code{mf_results_table}.
#' @export
format.mf_results_table <- function(x, digits = attr(x, "digits"), ...) {
  d <- if (is.null(digits)) 2L else as.integer(digits)
  f <- function(v) .mf_fmtx(v, d)
  ci <- function(e, lb, ub) ifelse(is.na(lb), f(e), paste0(f(e), " [", f(lb), ", ", f(ub), "]"))
  y <- as.data.frame(x)
  out <- data.frame(Analysis = y$analysis, k = as.character(y$k),
                    stringsAsFactors = FALSE)
  if (any(!is.na(y$n))) out$N <- ifelse(is.na(y$n), "", format(y$n, big.mark = ","))
  out[["Estimate [95% CI]"]] <- ci(y$g, y$ci.lb, y$ci.ub)
  out$p <- .mf_fmtp(y$p, 3)
  out$Q <- paste0(.mf_fmtx(y$Q, 2), " (p ", .mf_fmtp(y$Q.p, 3, equal = TRUE), ")")
  out[["I2 [95% CI]"]] <- ifelse(is.na(y$I2.lb), .mf_fmtx(y$I2, 0),
                                 paste0(.mf_fmtx(y$I2, 0), " [", .mf_fmtx(y$I2.lb, 0), ", ", .mf_fmtx(y$I2.ub, 0), "]"))
  out$tau2 <- .mf_fmtx(y$tau2, max(d, 3L))
  out[["95% PI"]] <- ifelse(is.na(y$pi.lb), "", paste0("[", f(y$pi.lb), ", ", f(y$pi.ub), "]"))
  out
}

#' @rdname results_table
#' @export
print.mf_results_table <- function(x, digits = attr(x, "digits"), ...) {
  print(format(x, digits = digits), row.names = FALSE, right = FALSE)
  invisible(x)
}

#' @rdname results_table
#' @param row.names,optional passed to \code{as.data.frame()}.
#' @export
as.data.frame.mf_results_table <- function(x, row.names = NULL, optional = FALSE, ...) {
  attr(x, "digits") <- NULL
  class(x) <- "data.frame"
  x
}
