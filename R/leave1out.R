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
#' @param cluster optional variable (of the length of the original data,
#'   evaluated in the data of the fit) whose values define clusters: each
#'   cluster is left out in turn (metafor 5), in the order of its sorted
#'   values; the labels are "-" followed by the value.
#' @param digits number of decimals for printing (default: those of the fit).
#' @param transf optional function applied to the estimates and confidence
#'   bounds (e.g. \code{exp}); the standard errors are then dropped.
#' @param targs optional arguments passed to \code{transf} as its second
#'   argument (as in metafor).
#' @param progbar metafor's name for \code{progress}: used when
#'   \code{progress} is not given.
#' @param progress show a progress bar (needs \pkg{progressr}; see
#'   \code{\link{boot_rma}}).
#' @param threads number of threads (default: option \code{metafast.threads},
#'   else half the cores; small jobs use one thread).
#' @details Rows omitted from the fit for missing values follow
#'   \code{getOption("na.action")} when \code{leave1out()} is called, as in
#'   metafor: \code{"na.omit"} gives one row per study used,
#'   \code{"na.exclude"} and \code{"na.pass"} one row per row of the data
#'   (after \code{subset}), NA for the omitted ones (not with \code{cluster}).
#' @export
leave1out.mf_rma <- function(x, cluster, digits, transf, targs, progbar = FALSE, progress = FALSE,
                             threads = NULL, ...) {
  .mf_check_dots("leave1out.mf_rma", ...)
  a <- .mf_cd_args(x, "leave1out")
  if (!a$int.only) .mf_stop("leave1out() is only available for models without moderators (as in metafor); use influence() for meta-regressions.")
  if (x$k < 2L) .mf_stop("leave1out() needs at least 2 studies (k = 1).")
  na.act <- .mf_na_action()
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  digits <- .mf_cd_digits(digits, x)
  transf <- if (missing(transf)) NULL else transf
  targs <- if (missing(targs) || is.null(targs)) .mf_cd_auto_targs(transf, x) else targs
  v <- .mf_na_view(x)
  if (missing(cluster)) {
    n <- x$k
    th <- .mf_threads(threads, n_work = n, min_per_thread = 16L)
    r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                       0L, integer(0), .mf_cd_warm(x), th, .mf_progress_fn(progress, n))
  } else {
    # leave one cluster out (metafor 5): the clusters of the rows used, sorted
    cl <- .mf_cluster_rows(x, substitute(cluster), parent.frame())
    ids <- sort(unique(cl))
    n <- length(ids)
    th <- .mf_threads(threads, n_work = n, min_per_thread = 16L)
    r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                       2L, match(cl, ids) - 1L, .mf_cd_warm(x), th, .mf_progress_fn(progress, n))
  }
  out <- .mf_cd_table(x, r)
  tr <- .mf_cd_transf(out, transf, targs)
  out <- tr$out
  if (!missing(cluster)) {
    slab <- paste0("-", ids)
  } else {
    # (under na.fail metafor gives the rows used, as under na.omit)
    out <- .mf_cd_pad(out, v$not.na, na.act)
    slab <- paste0("-", if (na.act %in% c("na.exclude", "na.pass")) v$slab else v$slab[v$not.na])
  }
  out <- .mf_cd_finish(out, x, slab, digits, tr$transf, class = "mf_leave1out")
  # the data rows of the table rows, for forest(ilab = ) and the like
  if (missing(cluster) && is.data.frame(x$data) && is.logical(x$subset) && nrow(x$data) == length(x$subset)) {
    rows <- which(x$subset)
    if (!na.act %in% c("na.exclude", "na.pass")) rows <- rows[v$not.na]
    out$data <- x$data[rows, , drop = FALSE]
  }
  .mf_l1o_plot_info(out, x, function(o) .mf_cd_transf(o, transf, targs)$out)
}

# What forest() of a leave1out() result needs besides the table (kept after
# 'slab', so that printing ignores it): the level, the measure and the full
# model's estimate (transformed as the table is, by 'transform', a function
# of a table).
.mf_l1o_plot_info <- function(out, x, transform) {
  b <- as.numeric(x$beta)[1L]
  out$full.estimate <- transform(list(estimate = b, se = NA_real_, ci.lb = b, ci.ub = b))$estimate
  out$level <- x$level
  # (no measure when the table is transformed: its axis is then not the measure's)
  if (!isTRUE(out$transf)) out$measure <- x$measure
  out
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
  # the labels as row names, kept numeric for numeric labels (as metafor)
  rn <- x$slab
  if (length(rn) == nrow(out) && !anyDuplicated(as.character(rn))) row.names(out) <- rn
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
