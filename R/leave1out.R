# Leave-one-out analysis, and the "mf_list" table returned by the
# case-deletion functions (their shared helpers: R/case-deletion-helpers.R).

#' Leave-one-out analysis
#'
#' Refits the model k times, each time leaving out one study, with the same
#' estimator, test, level and solver settings as the original fit.  The k
#' refits run in one C++ kernel over several threads; the Fisher-scoring
#' estimators (ML, REML, EB) start from the full-data tau^2 (a warm start:
#' the solution is the same, only reached faster).  Results do not depend on
#' the number of threads.
#'
#' @param x a model fitted by \code{\link{rma}} (intercept-only, as in metafor).
#' @param ... further arguments passed to methods.
#' @return An object of class \code{mf_list}: a list with the columns
#'   \code{estimate}, \code{se}, \code{zval} (\code{tval} for t tests),
#'   \code{pval}, \code{ci.lb}, \code{ci.ub}, \code{Q}, \code{Qp}, \code{tau2}
#'   (not for equal-effects models), \code{I2}, \code{H2}, and \code{slab}
#'   ("-" followed by the label of the omitted study).  Use
#'   \code{as.data.frame()} for a data frame.
#' @references Viechtbauer W, Cheung MW-L (2010). Outlier and influence
#'   diagnostics for meta-analysis. \emph{Res Synth Methods} 1:112-125.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fit <- rma(yi, vi, data = dat)
#' leave1out(fit)
#' @export
leave1out <- function(x, ...) UseMethod("leave1out")

#' @rdname leave1out
#' @param digits number of decimals for printing (default: those of the fit).
#' @param transf optional function applied to the estimates and confidence
#'   bounds (e.g. \code{exp}); the standard errors are then dropped.
#' @param progress show a progress bar (needs \pkg{progressr}; see
#'   \code{\link{boot_rma}}).
#' @param threads number of threads (default: option \code{metafast.threads},
#'   else half the cores; small jobs use one thread).
#' @export
leave1out.mf_rma <- function(x, digits, transf, progress = FALSE, threads = NULL, ...) {
  .mf_check_dots("leave1out.mf_rma", ...)
  a <- .mf_cd_args(x, "leave1out")
  if (!a$int.only) .mf_stop("leave1out() is only available for models without moderators (as in metafor); use influence() for meta-regressions.")
  if (x$k < 2L) .mf_stop("leave1out() needs at least 2 studies (k = 1).")
  progress <- .mf_cd_flag(progress)
  digits <- .mf_cd_digits(digits, x)
  th <- .mf_threads(threads, n_work = x$k, min_per_thread = 16L)
  r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                     0L, integer(0), .mf_cd_warm(x), th, .mf_progress_fn(progress, x$k))
  out <- .mf_cd_table(x, r)
  tr <- .mf_cd_transf(out, if (missing(transf)) NULL else transf)
  .mf_cd_finish(tr$out, x, paste0("-", x$slab[x$ids]), digits, tr$transf)
}

#' Tables returned by the case-deletion functions
#'
#' \code{leave1out()}, \code{cumul()}, \code{influence()} and
#' \code{rstudent()} return lists of class \code{mf_list}: equal-length
#' columns, the study labels \code{slab} and the print settings.
#'
#' @param x an object of class \code{mf_list}.
#' @param digits number of decimals.
#' @param row.names,optional ignored (for the \code{as.data.frame} generic).
#' @param ... ignored.
#' @return \code{print} returns \code{x} invisibly; \code{as.data.frame} a
#'   data frame with the study labels as row names.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' l1 <- leave1out(rma(yi, vi, data = dat))
#' as.data.frame(l1)
#' @name mf_list
NULL

#' @rdname mf_list
#' @export
as.data.frame.mf_list <- function(x, row.names = NULL, optional = FALSE, ...) {
  cols <- unclass(x)[seq_len(match("slab", names(x)) - 1L)]
  if (isTRUE(x$transf)) cols$se <- NULL
  out <- as.data.frame(cols, stringsAsFactors = FALSE)
  rn <- as.character(x$slab)
  if (length(rn) == nrow(out) && !anyDuplicated(rn)) rownames(out) <- rn
  out
}

#' @rdname mf_list
#' @export
print.mf_list <- function(x, digits = x$digits, ...) {
  d <- .mf_cd_digits(digits, x)
  df <- as.data.frame.mf_list(x)
  for (nm in names(df)) {
    col <- df[[nm]]
    if (!is.numeric(col) || nm == "k") next
    df[[nm]] <- if (nm %in% c("pval", "Qp")) .mf_cd_fmtp(col, d) else .mf_cd_fmtx(col, d)
  }
  if ("inf" %in% names(df)) names(df)[names(df) == "inf"] <- ""
  print(df, quote = FALSE, right = TRUE)
  invisible(x)
}
