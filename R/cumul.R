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
#'   \code{year}, not \code{order(year)}.  Rows with a missing \code{order}
#'   are left out.
#' @param digits number of decimals for printing (default: those of the fit).
#' @param transf optional function applied to the estimates and confidence
#'   bounds (e.g. \code{exp}); the standard errors are then dropped.
#' @param targs optional arguments passed to \code{transf} as its second
#'   argument (as in metafor).
#' @param collapse \code{TRUE}: one result per unique value of \code{order},
#'   adding all studies with that value at once (metafor 5); the labels are
#'   then the values of \code{order}.  Ignored without \code{order}.
#' @param progbar metafor's name for \code{progress}: used when
#'   \code{progress} is not given.
#' @param progress show a progress bar (needs \pkg{progressr}; see
#'   \code{\link{boot_rma}}).
#' @param decreasing add the studies by decreasing values of \code{order}
#'   (metafor's hidden argument of the same name).
#' @details Rows omitted from the fit for missing values follow
#'   \code{getOption("na.action")} when \code{cumul()} is called, as in
#'   metafor: under \code{"na.omit"} they are not shown, under
#'   \code{"na.exclude"} and \code{"na.pass"} they are shown as rows of NA.
#' @export
cumul.mf_rma <- function(x, order, digits, transf, targs, collapse = FALSE, progbar = FALSE, progress = FALSE,
                         decreasing = FALSE, ...) {
  .mf_check_dots("cumul.mf_rma", ...)
  a <- .mf_cd_args(x, "cumul")
  na.act <- .mf_na_action()
  v <- .mf_na_view(x)
  if (na.act == "na.fail" && any(!v$not.na)) .mf_stop("Missing values in data.")
  if (!a$int.only) .mf_stop("cumul() is only available for models without moderators (as in metafor).")
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  if (!is.logical(collapse) || length(collapse) != 1L || is.na(collapse)) .mf_stop("'collapse' must be TRUE or FALSE.")
  if (!is.logical(decreasing) || length(decreasing) != 1L || is.na(decreasing))
    .mf_stop("'decreasing' must be TRUE or FALSE.")
  digits <- .mf_cd_digits(digits, x)
  transf <- if (missing(transf)) NULL else transf
  targs <- if (missing(targs) || is.null(targs)) .mf_cd_auto_targs(transf, x) else targs
  if (missing(order)) {
    orvar <- seq_along(v$not.na)
    collapse <- FALSE
  } else {
    if (grepl("^order\\(", paste(deparse(substitute(order)), collapse = "")))
      warning("Use of order() in the 'order' argument is probably erroneous (as metafor warns).", call. = FALSE)
    orvar <- .mf_cd_getx(substitute(order), x, parent.frame(), "order")
    if (!is.null(x$subset) && length(x$subset) == length(orvar)) orvar <- orvar[x$subset]
  }
  # the rows after 'subset' (k.f), sorted; missing 'order' values left out
  o <- base::order(orvar, decreasing = decreasing, na.last = NA)
  orvar <- orvar[o]
  not.na <- v$not.na[o]
  pos <- cumsum(v$not.na)[o]          # row of the fit (1..k) of each sorted row
  # the refits: prefixes of the sorted rows used; fit i uses the rows used up
  # to sorted row i, or with collapse up to the last row of its value of order
  used <- which(not.na)
  r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                     1L, as.integer(pos[used] - 1L), NA_real_, 1L,
                     .mf_progress_fn(progress, length(used)))
  cols <- c(list(k = r$k), .mf_cd_table(x, r))
  cols$k[!r$ok] <- NA_integer_
  grp <- if (collapse) match(orvar, unique(orvar)) else seq_along(orvar)
  ng <- max(c(0L, grp))
  # the refit of each group: the prefix through its last row used (none when
  # all its rows were omitted for missing values)
  last <- rep(NA_integer_, ng)
  last[grp[used]] <- seq_along(used)   # increasing, so the last row wins
  has <- !is.na(last)
  show <- if (na.act == "na.omit") has else rep(TRUE, ng)
  out <- lapply(cols, function(col) col[last[show]])
  tr <- .mf_cd_transf(out, transf, targs)
  first <- match(seq_len(ng), grp)
  if (collapse) {
    slab <- orvar[first][show]
  } else {
    slab <- v$slab[o][show]
  }
  res <- .mf_cd_finish(tr$out, x, slab, digits, tr$transf, class = "mf_cumul")
  if (!collapse) {
    res$ids <- v$ids[o][show]
    if (is.data.frame(x$data) && !is.null(x$subset) && nrow(x$data) == length(x$subset))
      res$data <- x$data[which(x$subset)[o][show], , drop = FALSE]
  }
  res$slab.null <- if (collapse) FALSE else x$slab.null
  res$order <- orvar[first][show]
  res$level <- x$level
  res$test <- x$test
  if (!tr$transf && !is.null(x$measure)) {
    res$measure <- x$measure
    attr(res$estimate, "measure") <- x$measure
  }
  res
}
