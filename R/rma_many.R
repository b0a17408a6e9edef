#' Fit many meta-analyses that share one design (lean path for simulations)
#'
#' One C++ call fits a model to every column of \code{Y}, in the spirit of
#' fixest's \code{only.coef}: it returns only the coefficients, their
#' standard errors and tau^2, and skips everything else \code{rma()} computes.
#' The input is validated once for all columns.
#'
#' @param Y k x n matrix of effect sizes, one meta-analysis per column.
#' @param V k x n matrix of sampling variances (or a vector of length k used
#'   for every column).
#' @param mods optional moderators shared by all columns: a numeric vector or
#'   matrix with k rows (an intercept is added when \code{intercept = TRUE}).
#' @param method heterogeneity estimator (see \code{\link{rma}}).
#' @param test \code{"z"}, \code{"t"} or \code{"knha"}; only affects the SEs
#'   (Knapp-Hartung scaling).
#' @param intercept include an intercept.
#' @param control solver settings as in \code{\link{rma}}.
#' @return A list with \code{beta} (n x p), \code{se} (n x p), \code{tau2}
#'   (length n) and \code{converged} (length n).
#' @examples
#' set.seed(1)
#' k <- 20; n <- 100
#' V <- matrix(runif(k * n, 0.01, 0.1), k)
#' Y <- matrix(rnorm(k * n, 0.3, sqrt(V + 0.05)), k)
#' res <- rma_many(Y, V)
#' summary(res$tau2)
#' @export
rma_many <- function(Y, V, mods = NULL, method = "REML", test = "z", intercept = TRUE, control = NULL) {
  if (!is.numeric(Y)) .mf_stop("'Y' must be a numeric matrix (k rows, one column per meta-analysis).")
  Y <- as.matrix(Y)
  k <- nrow(Y); n <- ncol(Y)
  if (is.null(dim(V))) {
    V <- .mf_numeric(V, "V")
    if (length(V) != k) .mf_stop(sprintf("'V' has length %d but 'Y' has %d rows.", length(V), k))
    V <- matrix(V, k, n)
  }
  if (!is.numeric(V)) .mf_stop("'V' must be numeric.")
  V <- as.matrix(V)
  if (!identical(dim(V), dim(Y))) .mf_stop(sprintf("'V' is %d x %d but 'Y' is %d x %d.", nrow(V), ncol(V), k, n))
  storage.mode(Y) <- "double"; storage.mode(V) <- "double"
  bad <- !is.finite(Y)
  if (any(bad)) .mf_stop(sprintf("'Y' must be finite; non-finite values in columns %s.", paste(utils::head(unique(col(Y)[bad]), 10), collapse = ", ")))
  bad <- !is.finite(V) | V <= 0
  if (any(bad)) .mf_stop(sprintf("'V' must be positive and finite; bad values in columns %s.", paste(utils::head(unique(col(V)[bad]), 10), collapse = ", ")))
  X <- .mf_design(mods, NULL, k, intercept)$X
  if (qr(X)$rank < ncol(X)) .mf_stop("'mods' is rank deficient (collinear columns).")
  if (ncol(X) > k) .mf_stop(sprintf("There are %d coefficients but only %d rows.", ncol(X), k))
  method <- .mf_method(method)
  if (length(method) != 1L) .mf_stop("'method' must be a single estimator in rma_many().")
  test <- .mf_test(test)
  con <- .mf_control(control, Y[, 1], V[, 1])
  if (is.null(control$tau2.max) || is.na(control$tau2.max))  # the user's bound is kept
    con$tau2.max <- 1e8 * max(1, max(V), stats::var(c(Y)))
  out <- .mf_fit_many(Y, V, X, .mf_method_code(method), .mf_test_code(test), con)
  colnames(out$beta) <- colnames(out$se) <- colnames(X)
  if (!all(out$converged))
    warning(sprintf("The %s estimator did not converge for %d of %d datasets.", method, sum(!out$converged), n), call. = FALSE)
  out
}
