# rma.peto(): Peto's one-step odds ratio method of metafor 5.2.1 (same
# arguments, fields and meaning); shared pieces in R/rma-tables-helpers.R.

#' Peto's method for 2x2 tables
#'
#' Equal-effects meta-analysis of log odds ratios with Peto's one-step method
#' (Yusuf et al. 1985), with the arguments, results and printout of
#' \code{metafor::rma.peto()}: the pooled estimate is the sum of the observed
#' minus expected events of group 1 over the sum of their hypergeometric
#' variances; heterogeneity is Peto's Q statistic of the tables, with I^2 and
#' H^2; the per-study outcomes \code{yi}/\code{vi} are Peto's log odds ratios
#' (\code{escalc(measure = "PETO")}).
#'
#' @inheritParams rma.mh
#' @param ... accepted for compatibility (\code{time}); other names warn.
#' @return An object of class \code{c("mf_rma_peto", "mf_rma_tab")} with
#'   metafor's fields (\code{beta}, \code{se}, \code{zval}, \code{pval},
#'   \code{ci.lb}, \code{ci.ub}, \code{vb}, \code{QE}, \code{QEp}, \code{I2},
#'   \code{H2}, \code{k}, \code{k.yi}, \code{k.pos}, \code{yi}, \code{vi},
#'   \code{fit.stats}, ...).
#' @references Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta
#'   blockade during and after myocardial infarction: an overview of the
#'   randomized trials. Prog Cardiovasc Dis 27:335-371.
#' @examples
#' dat <- data.frame(ai = c(5, 3, 10), n1i = c(100, 80, 150),
#'                   ci = c(9, 6, 14), n2i = c(100, 82, 148))
#' rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat)
#' @export
rma.peto <- function(ai, bi, ci, di, n1i, n2i, data, slab, subset, add = 1/2, to = "only0", drop00 = TRUE,
                     level = 95, verbose = FALSE, digits, ...) {
  .mf_check_dots("rma.peto", ...)
  opts <- .mf_tab_opts(add, to, drop00)
  alpha <- .mf_level(level)
  digits <- .mf_tab_digits(digits)
  mf <- match.call()
  dat <- .mf_tab_data("rma.peto", "PETO", mf, parent.frame(), if (missing(data)) NULL else data, opts)
  core <- .mf_tab_core("PETO", dat$cells.f, dat$yi.f, dat$vi.f, dat$not.na, dat$not.na.yivi, sum, alpha)
  if (is.na(core$beta))
    .mf_stop("One of the two outcomes never occurred in any of the tables. Peto's method cannot be used.")
  .mf_tab_object("mf_rma_peto", "PETO", dat, core, list(), opts, NULL, alpha, digits, mf, core$rss)
}

#' @rdname rma.peto
#' @param x a fit of \code{rma.peto()}.
#' @param showfit print the fit statistics (log-likelihood, deviance, AIC, BIC, AICc).
#' @export
print.mf_rma_peto <- function(x, digits, showfit = FALSE, ...) {
  .mf_check_dots("print.mf_rma_peto", ...)
  d <- .mf_digits(digits, x)
  .mf_tab_print_head(x, d, showfit, df = x$k.pos - 1)
  .mf_tab_print_results(x, d, exp = TRUE)
  cat("\n")
  invisible(x)
}
