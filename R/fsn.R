# Fail-safe N (Rosenthal 1979; Orwin 1983; Rosenberg 2005).

#' Fail-safe N
#'
#' The number of unpublished null studies that would have to be added to
#' overturn a conclusion:
#' \describe{
#'   \item{Rosenthal}{(1979) studies with mean z = 0 needed to raise the
#'     Stouffer combined one-sided p-value to \code{alpha}:
#'     \eqn{N = k (\bar z / z_{1-\alpha})^2 - k}{N = k (zbar / z[1 - alpha])^2 - k}
#'     with \eqn{\bar z = |\sum z_i| / \sqrt{k}}{zbar = |sum zi| / sqrt(k)}.}
#'   \item{Orwin}{(1983) studies with effect 0 needed to reduce the average
#'     effect \eqn{\bar y}{ybar} to \code{target} (default half of it):
#'     \eqn{N = k (\bar y - target)/target}{N = k (ybar - target) / target};
#'     \eqn{\bar y}{ybar} is the unweighted mean, or the inverse-variance
#'     weighted mean with \code{weighted = TRUE}.}
#'   \item{Rosenberg}{(2005) studies with effect 0 and the average
#'     (harmonic-mean) sampling variance needed to make the equal-effects
#'     estimate non-significant at two-sided level \code{alpha}:
#'     \eqn{N = [(\sum w_i y_i / z_{1-\alpha/2})^2 - \sum w_i] \bar v}{N = ((sum wi yi / z[1-alpha/2])^2 - sum wi) vbar}.}
#' }
#' The result is rounded up to the next integer and truncated at 0 (as in
#' metafor).  metafor's model-based type \code{"General"} is not available.
#' Note that metafor from version 5.0 uses the weighted mean for Orwin's
#' method when variances are given; here, as in metafor 4 and Orwin (1983),
#' the default is the unweighted mean.
#'
#' @param x a vector of effect sizes, or an intercept-only \code{mf_rma} fit
#'   (its effect sizes and variances are used).
#' @param vi sampling variances.
#' @param sei standard errors (alternative to \code{vi}).
#' @param data optional data frame in which \code{x}, \code{vi}, \code{sei}
#'   and \code{subset} are evaluated.
#' @param type \code{"Rosenthal"} (default), \code{"Orwin"} or
#'   \code{"Rosenberg"}.
#' @param alpha target significance level (Rosenthal: one-sided; Rosenberg:
#'   two-sided).
#' @param target target average effect for Orwin's method (default: half the
#'   observed average).
#' @param weighted Orwin's method: use the inverse-variance weighted mean.
#' @param subset logical or numeric vector selecting studies.
#' @param digits number of decimals for printing.
#' @param ... ignored.
#' @return An object of class \code{mf_fsn}: \code{type}, \code{fsnum} (the
#'   fail-safe N), \code{alpha}, \code{pval} (observed p-value; Rosenthal,
#'   Rosenberg), \code{est} (average effect; Orwin, Rosenberg),
#'   \code{target} (Orwin) and \code{k}.
#' @references Rosenthal R (1979). The file drawer problem and tolerance
#'   for null results. \emph{Psychol Bull} 86:638-641. Orwin RG (1983). A
#'   fail-safe N for effect size in meta-analysis. \emph{J Educ Stat}
#'   8:157-159. Rosenberg MS (2005). The file-drawer problem revisited: a
#'   general weighted method for calculating fail-safe numbers in
#'   meta-analysis. \emph{Evolution} 59:464-468.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fsn(yi, vi, data = dat)
#' fsn(yi, vi, data = dat, type = "Orwin", target = 0.1)
#' fsn(yi, vi, data = dat, type = "Rosenberg")
#' @export
fsn <- function(x, vi, sei, data, type = "Rosenthal", alpha = .05, target, weighted = FALSE, subset,
                digits, ...) {
  if (missing(data) && !missing(x) && .mf_is_metafor_fit(tryCatch(x, error = function(e) NULL)))
    return(.mf_to_metafor("fsn"))  # a metafor fit: metafor's fsn()
  .mf_check_dots("fsn", ...)
  type <- .mf_match_arg(type, c("Rosenthal", "Orwin", "Rosenberg"), "type")
  if (!is.numeric(alpha) || length(alpha) != 1L || is.na(alpha) || alpha <= 0 || alpha >= 1)
    .mf_stop("'alpha' must be a single number in (0, 1), e.g. 0.05.")
  if (!is.logical(weighted) || length(weighted) != 1L || is.na(weighted))
    .mf_stop("'weighted' must be TRUE or FALSE.")
  cl <- match.call()
  if (missing(data)) data <- NULL
  if (!is.null(data)) data <- .mf_as_data_frame(data)
  env <- parent.frame()
  get_arg <- function(name) {
    expr <- cl[[name]]
    if (is.null(expr)) return(NULL)
    tryCatch(eval(expr, if (is.null(data)) env else data, env),
             error = function(e) .mf_stop(sprintf("Cannot evaluate '%s': %s", name, conditionMessage(e))))
  }
  if (missing(x)) .mf_stop("'x' is missing: give the effect sizes or an rma() fit.")
  xx <- get_arg("x")
  if (inherits(xx, "mf_rma")) {
    if (!isTRUE(xx$int.only)) .mf_stop("fsn() needs a model without moderators.")
    yi <- xx$yi
    vi <- xx$vi
    d <- .mf_digits(if (missing(digits)) NULL else digits, xx)
  } else {
    need_v <- type != "Orwin" || weighted
    v <- .mf_effect_vectors(xx, get_arg("vi"), get_arg("sei"), subset = get_arg("subset"), need_v = need_v)
    yi <- v$yi
    vi <- v$vi
    d <- if (missing(digits)) 4L else as.integer(digits[1L])
  }
  k <- length(yi)
  if (k < 2L) .mf_stop(sprintf("fsn() needs at least 2 studies (k = %d).", k))
  est <- pval <- NA_real_
  if (type == "Rosenthal") {
    # Stouffer's combined z (Rosenthal 1979).
    zbar <- abs(sum(yi / sqrt(vi)) / sqrt(k))
    pval <- stats::pnorm(zbar, lower.tail = FALSE)
    N <- max(0, k * (zbar / stats::qnorm(alpha, lower.tail = FALSE))^2 - k)
    target <- NA_real_
  } else if (type == "Orwin") {
    w <- if (weighted) 1 / vi else rep(1, k)
    est <- sum(w * yi) / sum(w)
    if (missing(target) || is.null(target)) target <- est / 2
    if (!is.numeric(target) || length(target) != 1L || is.na(target))
      .mf_stop("'target' must be a single number.")
    if (target == 0) {
      N <- Inf
    } else {
      if (sign(target) != sign(est)) target <- -target
      N <- max(0, k * (est - target) / target)
    }
  } else {
    # Rosenberg (2005): weighted fixed-effect test, added studies with the
    # harmonic-mean variance.
    w <- 1 / vi
    est <- sum(w * yi) / sum(w)
    pval <- 2 * stats::pnorm(abs(est) * sqrt(sum(w)), lower.tail = FALSE)
    vbar <- 1 / mean(w)
    N <- max(0, ((sum(w * yi) / stats::qnorm(alpha / 2, lower.tail = FALSE))^2 - sum(w)) * vbar)
    target <- NA_real_
  }
  # Round up unless (numerically) an integer already.
  N <- if (is.finite(N) && abs(N - round(N)) >= sqrt(.Machine$double.eps)) ceiling(N) else round(N)
  res <- list(type = type, fsnum = N, alpha = alpha, pval = pval, est = est, meanes = est, target = target,
              weighted = weighted, k = k, digits = d)
  class(res) <- "mf_fsn"
  res
}

#' @rdname fsn
#' @export
print.mf_fsn <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  cat("\nFail-safe N Calculation Using the", x$type, "Approach\n\n")
  if (x$type %in% c("Orwin", "Rosenberg"))
    cat("Average Effect Size:         ", .mf_fmtx(x$est, d), "\n", sep = "")
  if (x$type == "Orwin") {
    cat("Target Effect Size:          ", .mf_fmtx(x$target, d), "\n", sep = "")
  } else {
    cat("Observed Significance Level: ", .mf_fmtp(x$pval, d), "\n", sep = "")
    cat("Target Significance Level:   ", x$alpha, "\n", sep = "")
  }
  cat("\nFail-safe N: ", x$fsnum, "\n\n", sep = "")
  invisible(x)
}
