# Leave-one-out analysis, and the pieces shared by the case-deletion
# functions (leave1out, cumul, influence, gosh): argument checks, the call of
# the C++ refit kernels, and the "mf_list" table they return.

# The arguments the refit kernels need, from a fitted mf_rma object.
.mf_cd_args <- function(x, fun) {
  if (!inherits(x, "mf_rma")) .mf_stop(sprintf("%s() needs a model fitted by rma() (class 'mf_rma').", fun))
  if (is.null(x$yi) || is.null(x$vi) || is.null(x$X))
    .mf_stop(sprintf("The model object lacks the data (yi, vi, X) that %s() needs.", fun))
  con <- x$control
  list(y = as.double(x$yi), v = as.double(x$vi), X = unname(x$X) + 0,
       weights = if (is.null(x$weights)) numeric(0) else as.double(x$weights),
       method = .mf_method_code(x$method), test = .mf_test_code(x$test), control = con,
       int.only = isTRUE(x$int.only))
}

# Warm start of the refits: the full-data tau2, for the Fisher-scoring
# estimators, unless the user gave control$tau2.init (then metafor's start is kept).
.mf_cd_warm <- function(x) {
  if (.mf_estimator_has(x$method, "warm_start") && is.na(x$control$tau2.init) && !isTRUE(x$control$fix.tau2))
    x$tau2 else NA_real_
}

.mf_cd_flag <- function(progress, arg = "progress") {
  if (!is.logical(progress) || length(progress) != 1L || is.na(progress))
    .mf_stop(sprintf("'%s' must be TRUE or FALSE.", arg))
  progress
}

# Tests, p-values and confidence bounds of the refits of an intercept-only
# model: z, or t with k - p degrees of freedom (t and Knapp-Hartung tests);
# a refit on one study uses the z test, as rma() does.
.mf_cd_table <- function(x, r) {
  b <- r$beta[, 1L]
  se <- r$se[, 1L]
  stat <- b / se
  tdist <- x$test %in% c("t", "knha") & !r$z.test
  ddf <- r$k - x$p
  pval <- ifelse(tdist, 2 * stats::pt(abs(stat), pmax(ddf, 1), lower.tail = FALSE),
                 2 * stats::pnorm(abs(stat), lower.tail = FALSE))
  crit <- ifelse(tdist, stats::qt(x$level / 2, pmax(ddf, 1), lower.tail = FALSE),
                 stats::qnorm(x$level / 2, lower.tail = FALSE))
  Qp <- ifelse(r$k > x$p, stats::pchisq(r$QE, pmax(r$k - x$p, 1), lower.tail = FALSE), 1)
  out <- list(estimate = b, se = se, zval = stat, pval = pval, ci.lb = b - crit * se, ci.ub = b + crit * se,
              Q = r$QE, Qp = Qp, tau2 = r$tau2, I2 = r$I2, H2 = r$H2)
  lapply(out, function(col) { col[!r$ok] <- NA_real_; col })
}

# Apply a transformation to the estimates and bounds (the SE is dropped).
.mf_cd_transf <- function(out, transf) {
  if (missing(transf) || is.null(transf) || isFALSE(transf)) return(list(out = out, transf = FALSE))
  if (!is.function(transf)) .mf_stop("'transf' must be a function (e.g. exp).")
  out$estimate <- vapply(out$estimate, transf, numeric(1))
  lb <- vapply(out$ci.lb, transf, numeric(1))
  ub <- vapply(out$ci.ub, transf, numeric(1))
  out$ci.lb <- pmin(lb, ub)
  out$ci.ub <- pmax(lb, ub)
  out$se <- rep(NA_real_, length(out$estimate))
  list(out = out, transf = TRUE)
}

# Column naming as metafor: "tval" for t tests, no tau2 for equal effects.
.mf_cd_finish <- function(out, x, slab, digits, transf, class = NULL) {
  if (x$test %in% c("t", "knha")) names(out)[names(out) == "zval"] <- "tval"
  if (x$method == "EE") out$tau2 <- NULL
  out$slab <- slab
  out$digits <- digits
  out$transf <- transf
  class(out) <- c(class, "mf_list")
  out
}

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
#' @param progress show a progress counter.
#' @param threads number of threads (default: option \code{metafast.threads},
#'   else half the cores; small jobs use one thread).
#' @export
leave1out.mf_rma <- function(x, digits, transf, progress = FALSE, threads = NULL, ...) {
  a <- .mf_cd_args(x, "leave1out")
  if (!a$int.only) .mf_stop("leave1out() is only available for models without moderators (as in metafor); use influence() for meta-regressions.")
  if (x$k < 2L) .mf_stop("leave1out() needs at least 2 studies (k = 1).")
  progress <- .mf_cd_flag(progress)
  digits <- .mf_cd_digits(digits, x)
  th <- .mf_threads(threads, n_work = x$k, min_per_thread = 16L)
  r <- .mf_cd_refits(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
                     0L, integer(0), .mf_cd_warm(x), th, progress)
  out <- .mf_cd_table(x, r)
  tr <- .mf_cd_transf(out, if (missing(transf)) NULL else transf)
  .mf_cd_finish(tr$out, x, paste0("-", x$slab[x$ids]), digits, tr$transf)
}

.mf_cd_digits <- function(digits, x) {
  if (missing(digits) || is.null(digits)) digits <- x$digits
  if (is.null(digits) || !is.numeric(digits) || length(digits) < 1L || is.na(digits[1L])) digits <- 4L
  as.integer(digits[1L])
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

.mf_cd_fmtx <- function(v, d) {
  out <- ifelse(is.na(v), "NA", formatC(v, format = "f", digits = d))
  sub("^-(0\\.?0*)$", "\\1", out)
}

.mf_cd_fmtp <- function(p, d) {
  th <- 10^(-d)
  out <- ifelse(is.na(p), "NA", sub("^0\\.", ".", formatC(p, format = "f", digits = d)))
  out[!is.na(p) & p < th] <- paste0("<", sub("^0", "", formatC(th, format = "f", digits = d)))
  out
}
