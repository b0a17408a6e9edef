# Regression test for funnel-plot asymmetry (Egger et al. 1997) and its
# variants, with the limit estimate at predictor = 0 (PET/PEESE).

# Refit helper shared by the publication-bias and subgroup tools: fit
# rma() to new data with the settings (method, test, level, control, fixed
# tau^2) of an existing fit `x`.
.mf_refit_data <- function(x, yi, vi, X = NULL, weights = NULL, tau2 = NULL, method = x$method,
                      test = x$test, control = TRUE, inherit_tau2 = TRUE, ...) {
  con <- NULL
  if (isTRUE(control) && !is.null(x$control)) {
    con <- x$control[intersect(names(x$control), c("threshold", "maxiter", "stepadj", "tol"))]
  }
  if (is.null(tau2) && inherit_tau2 && isTRUE(x$tau2.fix)) tau2 <- x$tau2
  args <- list(yi = yi, vi = vi, method = method, test = test, level = 100 * (1 - x$level))
  if (!is.null(X)) {
    args$mods <- X
    args$intercept <- FALSE
  }
  if (!is.null(weights)) args$weights <- weights
  if (!is.null(tau2)) args$tau2 <- tau2
  if (!is.null(con)) args$control <- con
  args <- c(args, list(...))
  do.call(rma, args)
}

# Check that an argument is an mf_rma fit.
.mf_need_rma <- function(x, fun) {
  if (!inherits(x, "mf_rma"))
    .mf_stop(sprintf("'x' must be a model fitted with rma() (class \"mf_rma\"), not %s, in %s().",
                     class(x)[1L], fun))
}

#' Regression test for funnel plot asymmetry
#'
#' Egger's regression test and its variants: the model of \code{x} (or an
#' intercept-only model) is extended by a measure of precision (the
#' predictor) and the test of its coefficient tests for funnel-plot
#' asymmetry.  With \code{model = "rma"} the extended model is a
#' (mixed-effects) meta-regression fitted with the estimator, test and
#' settings of \code{x}; with \code{model = "lm"} it is the weighted
#' regression \code{lm(yi ~ predictor, weights = 1/vi)} with a
#' multiplicative dispersion parameter (Egger et al. 1997) and a t-test.
#' For the predictors \code{"sei"}, \code{"vi"}, \code{"ninv"} and
#' \code{"sqrtninv"} of an intercept-only model the intercept is the
#' \emph{limit estimate}, the effect expected for a study of infinite
#' precision (PET for \code{"sei"}, PEESE for \code{"vi"}; Stanley &
#' Doucouliagos 2014).
#'
#' @param x an \code{mf_rma} fit, or a vector of observed effect sizes.
#' @param vi sampling variances (default method).
#' @param sei standard errors (default method; alternative to \code{vi}).
#' @param ni sample sizes, needed for the predictors \code{"ni"},
#'   \code{"ninv"}, \code{"sqrtni"} and \code{"sqrtninv"} (for a fit: one
#'   value per row of the original data).
#' @param subset logical or numeric vector selecting studies (default method).
#' @param model \code{"rma"} (default) or \code{"lm"}.
#' @param predictor \code{"sei"} (default), \code{"vi"}, \code{"ni"},
#'   \code{"ninv"}, \code{"sqrtni"} or \code{"sqrtninv"}.
#' @param ret.fit print the full fit of the extended model.
#' @param digits number of decimals for printing.
#' @param ... for the default method: \code{method}, \code{test} and
#'   \code{level} of the meta-regression; otherwise ignored.
#' @return An object of class \code{mf_regtest}: \code{model},
#'   \code{predictor}, \code{zval} (z or t statistic of the predictor),
#'   \code{pval}, \code{dfs} and \code{ddf} (residual df for t-tests, else
#'   \code{NA}), \code{method}, \code{fit} (the extended model), and the limit
#'   estimate \code{est} with \code{ci.lb}, \code{ci.ub} (\code{NULL} when not
#'   defined).
#' @references Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in
#'   meta-analysis detected by a simple, graphical test. \emph{BMJ}
#'   315:629-634. Sterne JAC, Egger M (2005). Regression methods to detect
#'   publication and other bias in meta-analysis. In Rothstein HR et al.
#'   (eds), \emph{Publication Bias in Meta-Analysis}, Wiley. Stanley TD,
#'   Doucouliagos H (2014). Meta-regression approximations to reduce
#'   publication selection bias. \emph{Res Synth Methods} 5:60-78.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.80),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.09))
#' fit <- rma(yi, vi, data = dat)
#' regtest(fit)
#' regtest(fit, model = "lm", predictor = "vi")
#' @export
regtest <- function(x, ...) UseMethod("regtest")

.mf_regtest_predictors <- c("sei", "vi", "ni", "ninv", "sqrtni", "sqrtninv")

#' @rdname regtest
#' @export
regtest.mf_rma <- function(x, vi, sei, ni, subset, model = "rma", predictor = "sei", ret.fit = FALSE,
                           digits, ...) {
  .mf_check_dots("regtest.mf_rma", ...)
  model <- .mf_match_arg(model, c("rma", "lm"), "model")
  predictor <- .mf_match_arg(predictor, .mf_regtest_predictors, "predictor")
  if (!missing(vi) || !missing(sei) || !missing(subset))
    warning("Arguments 'vi', 'sei' and 'subset' are ignored when 'x' is a model fit.", call. = FALSE)
  if (missing(ni) || is.null(ni)) {
    ni <- x$ni
  } else {
    ni <- .mf_numeric(ni, "ni")
    if (length(ni) != x$k.all)
      .mf_stop(sprintf("'ni' has length %d but the data of the fit have %d rows.", length(ni), x$k.all))
    ni <- ni[x$ids]
  }
  .mf_regtest_run(yi = x$yi, vi = x$vi, ni = ni, X = x$X, weights = x$weights, x = x,
              model = model, predictor = predictor, ret.fit = ret.fit,
              digits = .mf_digits(if (missing(digits)) NULL else digits, x))
}

#' @rdname regtest
#' @export
regtest.default <- function(x, vi, sei, ni, subset, model = "rma", predictor = "sei", ret.fit = FALSE,
                            digits, ...) {
  .mf_check_dots("regtest.default", ...)
  model <- .mf_match_arg(model, c("rma", "lm"), "model")
  predictor <- .mf_match_arg(predictor, .mf_regtest_predictors, "predictor")
  dd <- list(...)
  d <- .mf_effect_vectors(x, if (missing(vi)) NULL else vi, if (missing(sei)) NULL else sei,
                   if (missing(ni)) NULL else ni, if (missing(subset)) NULL else subset)
  # A stand-in fit holding the settings of the meta-regression.
  lev <- if (is.null(dd$level)) 95 else dd$level
  set <- list(method = if (is.null(dd$method)) "REML" else dd$method,
              test = if (is.null(dd$test)) "z" else dd$test,
              level = .mf_level(lev), control = NULL, tau2.fix = FALSE)
  .mf_regtest_run(yi = d$yi, vi = d$vi, ni = d$ni, X = matrix(1, length(d$yi), 1L, dimnames = list(NULL, "intrcpt")),
              weights = NULL, x = set, model = model, predictor = predictor, ret.fit = ret.fit,
              digits = if (missing(digits)) 4L else as.integer(digits[1L]))
}

# match.arg with an error naming the argument.
.mf_match_arg <- function(arg, choices, name) {
  if (!is.character(arg) || length(arg) < 1L || is.na(arg[1L]))
    .mf_stop(sprintf("'%s' must be one of %s.", name, paste0("\"", choices, "\"", collapse = ", ")))
  i <- pmatch(arg[1L], choices)
  if (is.na(i))
    .mf_stop(sprintf("Unknown '%s' \"%s\"; use one of %s.", name, arg[1L], paste0("\"", choices, "\"", collapse = ", ")))
  choices[i]
}

# Effect sizes, variances (and sample sizes) given as vectors: validate,
# subset and drop incomplete rows (with a warning, as rma()).
.mf_effect_vectors <- function(yi, vi, sei, ni = NULL, subset = NULL, need_v = TRUE) {
  yi <- .mf_numeric(yi, "x")
  k <- length(yi)
  if (k == 0L) .mf_stop("'x' has length 0: there are no effect sizes.")
  if (is.null(vi) && !is.null(sei)) {
    sei <- .mf_numeric(sei, "sei")
    if (length(sei) != k) .mf_stop(sprintf("'sei' has length %d but 'x' has length %d.", length(sei), k))
    vi <- sei^2
  } else if (!is.null(vi)) {
    vi <- .mf_numeric(vi, "vi")
    if (length(vi) == 1L && k > 1L) vi <- rep(vi, k)
    if (length(vi) != k) .mf_stop(sprintf("'vi' has length %d but 'x' has length %d.", length(vi), k))
  } else if (need_v) {
    .mf_stop("Specify the sampling variances with 'vi' or the standard errors with 'sei'.")
  }
  if (!is.null(ni)) {
    ni <- .mf_numeric(ni, "ni")
    if (length(ni) != k) .mf_stop(sprintf("'ni' has length %d but 'x' has length %d.", length(ni), k))
  }
  keep <- rep(TRUE, k)
  if (!is.null(subset)) {
    if (is.logical(subset) && length(subset) == k) keep <- !is.na(subset) & subset
    else if (is.numeric(subset) && all(subset %in% seq_len(k))) keep <- seq_len(k) %in% subset
    else .mf_stop(sprintf("'subset' must be a logical vector of length %d or row numbers between 1 and %d.", k, k))
  }
  na <- is.na(yi) | (if (is.null(vi)) FALSE else is.na(vi)) | (if (is.null(ni)) FALSE else is.na(ni))
  om <- keep & na
  if (any(om)) warning(sprintf("%d stud%s with missing values omitted (%s).", sum(om),
                               if (sum(om) == 1L) "y" else "ies", .mf_rows(om)), call. = FALSE)
  use <- keep & !na
  bad <- use & !is.null(vi) & (if (is.null(vi)) FALSE else vi <= 0)
  if (any(bad)) .mf_stop(sprintf("'vi' must be positive; non-positive in %s.", .mf_rows(bad)))
  list(yi = yi[use], vi = if (is.null(vi)) NULL else vi[use], ni = if (is.null(ni)) NULL else ni[use],
       rows = which(use))
}

# The test itself.  `x` supplies method, test, level, control (a fit or a
# stand-in list).
.mf_regtest_run <- function(yi, vi, ni, X, weights, x, model, predictor, ret.fit, digits) {
  k <- length(yi)
  p <- ncol(X)
  if (predictor %in% c("ni", "ninv", "sqrtni", "sqrtninv")) {
    if (is.null(ni))
      .mf_stop(sprintf("predictor = \"%s\" needs the sample sizes: give them with 'ni'.", predictor))
    bad <- is.na(ni) | ni <= 0
    if (any(bad)) .mf_stop(sprintf("'ni' must be positive; missing or non-positive in %s.", .mf_rows(bad)))
  }
  pred <- switch(predictor, sei = sqrt(vi), vi = vi, ni = ni, ninv = 1 / ni,
                 sqrtni = sqrt(ni), sqrtninv = 1 / sqrt(ni))
  Xe <- cbind(X, pred)
  colnames(Xe)[p + 1L] <- predictor
  if (k < p + 2L)
    .mf_stop(sprintf("The regression test needs at least %d studies for this model (k = %d).", p + 2L, k))
  if (qr(Xe)$rank < ncol(Xe))
    .mf_stop(sprintf("The predictor '%s' is collinear with the model (e.g. all studies equally precise); the test cannot be carried out.",
                     predictor))
  alpha <- x$level
  if (model == "rma") {
    fit <- .mf_refit_data(x, yi, vi, X = Xe, weights = weights)
    zval <- unname(fit$zval[p + 1L])
    pval <- unname(fit$pval[p + 1L])
    ddf <- fit$ddf
    method <- fit$method
  } else {
    # Weighted least squares with multiplicative dispersion (Egger et al. 1997).
    fit <- stats::lm(yi ~ 0 + Xe, weights = 1 / vi)
    cf <- stats::coef(summary(fit))
    zval <- unname(cf[p + 1L, 3L])
    pval <- unname(cf[p + 1L, 4L])
    ddf <- fit$df.residual
    method <- x$method
  }
  est <- ci.lb <- ci.ub <- NULL
  is_int <- p == 1L && all(X[, 1L] == 1)
  if (is_int && predictor %in% c("sei", "vi", "ninv", "sqrtninv")) {
    if (model == "lm") {
      crit <- stats::qt(alpha / 2, ddf, lower.tail = FALSE)
      est <- unname(cf[1L, 1L])
      ci.lb <- est - crit * cf[1L, 2L]
      ci.ub <- est + crit * cf[1L, 2L]
    } else {
      est <- unname(fit$beta[1L, 1L])
      ci.lb <- unname(fit$ci.lb[1L])
      ci.ub <- unname(fit$ci.ub[1L])
    }
  }
  res <- list(model = model, predictor = predictor, zval = zval, pval = pval, dfs = ddf, ddf = ddf,
              method = method, digits = digits, ret.fit = ret.fit, fit = fit,
              est = est, ci.lb = ci.lb, ci.ub = ci.ub)
  class(res) <- "mf_regtest"
  res
}

#' @rdname regtest
#' @export
print.mf_regtest <- function(x, digits = x$digits, ret.fit = x$ret.fit, ...) {
  d <- .mf_digits(digits, x)
  cat("\nRegression Test for Funnel Plot Asymmetry\n\n")
  if (x$model == "lm") {
    cat("Model:     weighted regression with multiplicative dispersion\n")
  } else {
    cat("Model:     ", if (isFALSE(.mf_estimator_has(x$method, "random"))) "fixed-effects" else "mixed-effects",
        " meta-regression model\n", sep = "")
  }
  lab <- c(sei = "standard error", vi = "sampling variance", ni = "sample size",
           ninv = "inverse of the sample size", sqrtni = "square root sample size",
           sqrtninv = "inverse of the square root sample size")
  cat("Predictor: ", lab[[x$predictor]], "\n", sep = "")
  if (isTRUE(ret.fit)) {
    if (x$model == "lm") print(summary(x$fit)) else print(x$fit)
  } else cat("\n")
  stat <- if (is.na(x$ddf)) sprintf("z = %s", .mf_fmtx(x$zval, d))
          else sprintf("t = %s, df = %s", .mf_fmtx(x$zval, d), x$ddf)
  cat("Test for Funnel Plot Asymmetry: ", stat, ", p ", .mf_fmtp(x$pval, d, equal = TRUE), "\n", sep = "")
  if (!is.null(x$est)) {
    lim <- switch(x$predictor, sei = "as sei -> 0", vi = "as vi -> 0", "as ni -> inf")
    cat(sprintf("Limit Estimate (%s): b = %s (CI: %s, %s)\n", lim, .mf_fmtx(x$est, d),
                .mf_fmtx(x$ci.lb, d), .mf_fmtx(x$ci.ub, d)))
  }
  cat("\n")
  invisible(x)
}
