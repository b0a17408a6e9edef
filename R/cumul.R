#' Cumulative meta-analysis
#'
#' Adds the studies one at a time, in the order given by \code{order}, and
#' refits the model after each addition (Lau et al. 1992), with the estimator,
#' test, level and solver settings of the original fit.
#'
#' @param x a model fitted by \code{\link{rma}} (intercept-only, as in metafor).
#' @param ... further arguments passed to methods.
#' @return An object of class \code{c("mf_cumul", "mf_list")} with the
#'   columns \code{k}, \code{estimate}, \code{se}, \code{zval} (\code{tval}
#'   for t tests), \code{pval}, \code{ci.lb}, \code{ci.ub}, \code{Q},
#'   \code{Qp}, \code{tau2} (not for equal-effects models), \code{I2},
#'   \code{H2}, the labels \code{slab} of the added studies and \code{order}.
#' @references Lau J, Antman EM, Jimenez-Silva J, Kupelnick B, Mosteller F,
#'   Chalmers TC (1992). Cumulative meta-analysis of therapeutic trials for
#'   myocardial infarction. \emph{N Engl J Med} 327:248-254.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
#'                   year = c(1990, 1985, 2001, 1995, 2010, 2005))
#' fit <- rma(yi, vi, data = dat)
#' cumul(fit, order = year)
#' @export
cumul <- function(x, ...) UseMethod("cumul")

#' @rdname cumul
#' @param order a variable (of the length of the original data, evaluated in
#'   the data of the fit) by whose values the studies are added; by default
#'   the order of the data.  As in metafor it is sorted, so pass
#'   \code{year}, not \code{order(year)}.
#' @param digits number of decimals for printing (default: those of the fit).
#' @param transf optional function applied to the estimates and confidence
#'   bounds (e.g. \code{exp}); the standard errors are then dropped.
#' @param progress show a progress bar (needs \pkg{progressr}; see
#'   \code{\link{boot_rma}}).
#' @export
cumul.mf_rma <- function(x, order, digits, transf, progress = FALSE, ...) {
  a <- .mf_cd_args(x, "cumul")
  if (!a$int.only) .mf_stop("cumul() is only available for models without moderators (as in metafor).")
  progress <- .mf_cd_flag(progress)
  digits <- .mf_cd_digits(digits, x)
  k.all <- x$k.all
  if (missing(order)) {
    orvar <- seq_len(k.all)
  } else {
    expr <- substitute(order)
    env <- parent.frame()
    orvar <- tryCatch(eval(expr, if (is.data.frame(x$data)) x$data else env, env),
                      error = function(e) .mf_stop(sprintf("Cannot evaluate 'order': %s", conditionMessage(e))))
    if (is.null(orvar) || length(orvar) != k.all)
      .mf_stop(sprintf("'order' has length %d but the original data have %d rows.", length(orvar), k.all))
  }
  rows <- which(x$subset)
  rows <- rows[base::order(orvar[rows], na.last = NA)]
  pos <- match(rows, x$ids)
  rows <- rows[!is.na(pos)]   # rows with missing values are left out (na.omit)
  pos <- pos[!is.na(pos)]
  r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                     1L, as.integer(pos - 1L), NA_real_, 1L,
                     .mf_progress_fn(progress, length(pos)))
  out <- c(list(k = r$k), .mf_cd_table(x, r))
  out$k[!r$ok] <- NA_integer_
  tr <- .mf_cd_transf(out, if (missing(transf)) NULL else transf)
  res <- .mf_cd_finish(tr$out, x, x$slab[rows], digits, tr$transf, class = "mf_cumul")
  res$order <- orvar[rows]
  res
}
