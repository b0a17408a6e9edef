#' Fit meta-analytic equal-, random- and mixed-effects models
#'
#' The interface of \code{metafor::rma.uni()}: the same arguments and the same
#' result fields, computed by an exact O(k p^2) C++ engine that never builds a
#' k-by-k matrix.
#'
#' @param yi observed effect sizes (vector, or a column name of \code{data}).
#'   A formula \code{yi ~ x} is also accepted and gives the moderators.
#' @param vi sampling variances.
#' @param sei standard errors (alternative to \code{vi}).
#' @param weights optional user weights (the default is inverse-variance weights).
#' @param mods moderators: a one-sided formula (factors and interactions allowed)
#'   or a numeric vector or matrix.
#' @param data optional data frame (also tibble or data.table) in which the
#'   arguments are evaluated.
#' @param slab study labels.
#' @param subset logical or numeric vector selecting the studies to use.
#' @param method heterogeneity estimator: \code{"EE"} (aliases \code{"FE"},
#'   \code{"CE"}), \code{"DL"}, \code{"DLIT"} (iterated DerSimonian-Laird),
#'   \code{"HE"} (aliases \code{"CO"}, \code{"VC"}), \code{"HS"},
#'   \code{"HSk"}, \code{"SJ"}, \code{"SJIT"} (iterated Sidik-Jonkman),
#'   \code{"ML"}, \code{"REML"}, \code{"EB"}, \code{"PM"} (alias
#'   \code{"MP"}), \code{"PMM"} (median-unbiased Paule-Mandel),
#'   \code{"GENQ"} (generalised Q-statistic estimator with the weights given
#'   in \code{weights}, DerSimonian & Kacker 2007) or \code{"GENQM"} (its
#'   median-unbiased version, Jackson 2013); GENQ and GENQM need
#'   \code{weights}.  DLIT and SJIT iterate from \code{control$tau2.init}
#'   (default 0 and the SJ start) until the change is at most
#'   \code{control$threshold}, in at most \code{control$maxiter} steps.  A
#'   vector such as \code{c("REML", "DL")} is a fallback chain: the next
#'   estimator is used when one fails to converge.
#' @param test \code{"z"}, \code{"t"} or \code{"knha"} (Knapp & Hartung 2003).
#' @param level confidence level in percent (95) or as a proportion (0.95).
#' @param btt coefficients tested by the omnibus test (indices or a string
#'   matched against their names); by default all but the intercept.
#' @param tau2 optional fixed value of tau^2.
#' @param intercept include an intercept (default \code{TRUE}).
#' @param digits number of digits for printing.
#' @param control list of solver settings: \code{threshold} (1e-10),
#'   \code{maxiter} (1000), \code{stepadj} (1), \code{tau2.init},
#'   \code{tau2.max} and \code{tol} (1e-12, for the Q-profile bounds).
#' @param ... ignored (for compatibility).
#' @return An object of class \code{mf_rma} holding metafor's fields
#'   (\code{beta}, \code{b}, \code{se}, \code{zval}, \code{pval}, \code{ci.lb},
#'   \code{ci.ub}, \code{vb}, \code{tau2}, \code{se.tau2}, \code{I2}, \code{H2},
#'   \code{R2}, \code{QE}, \code{QEp}, \code{QM}, \code{QMp}, \code{k},
#'   \code{p}, \code{yi}, \code{vi}, \code{X}, \code{fit.stats}, ...) and a
#'   convergence record \code{convergence}.
#' @references Viechtbauer W (2005). Bias and efficiency of meta-analytic
#'   variance estimators in the random-effects model. \emph{J Educ Behav Stat}
#'   30:261-293. Knapp G, Hartung J (2003). Improved tests for a random
#'   effects meta-regression with a single covariate. \emph{Stat Med}
#'   22:2693-2710.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
#'                   x  = c(1, 2, 3, 4, 5, 6))
#' rma(yi, vi, data = dat)
#' rma(yi, vi, mods = ~ x, data = dat, test = "knha")
#' @export
rma <- function(yi, vi, sei, weights, mods, data, slab, subset, method = "REML", test = "z",
                level = 95, btt, tau2, intercept = TRUE, digits = 4, control, ...) {
  cl <- match.call()
  if (missing(yi)) .mf_stop("'yi' is missing: give the observed effect sizes.")
  if (missing(data)) data <- NULL
  current <- ""
  # one handler for all arguments (a handler per argument costs more than a fit at small k)
  fail <- function(e) .mf_stop(sprintf("Cannot evaluate '%s': %s", current, conditionMessage(e)))
  if (is.null(data)) {
    # no data: the arguments are ordinary promises in the caller's frame
    args <- withCallingHandlers({
      current <- "yi"; a_yi <- yi
      current <- "mods"; a_mods <- if (!missing(mods)) mods
      current <- "vi"; a_vi <- if (!missing(vi)) vi
      current <- "sei"; a_sei <- if (!missing(sei)) sei
      current <- "weights"; a_w <- if (!missing(weights)) weights
      current <- "slab"; a_slab <- if (!missing(slab)) slab
      current <- "subset"; a_sub <- if (!missing(subset)) subset
      list(yi = a_yi, mods = a_mods, vi = a_vi, sei = a_sei, weights = a_w, slab = a_slab, subset = a_sub)
    }, error = fail)
  } else {
    # data: the expressions are evaluated in data, then in the caller's frame
    data <- .mf_as_data_frame(data)
    env <- parent.frame()
    get_arg <- function(name) {
      expr <- cl[[name]]
      if (is.null(expr)) return(NULL)
      current <<- name
      eval(expr, data, env)
    }
    args <- withCallingHandlers(
      list(yi = get_arg("yi"), mods = get_arg("mods"), vi = get_arg("vi"), sei = get_arg("sei"),
           weights = get_arg("weights"), slab = get_arg("slab"), subset = get_arg("subset")),
      error = fail)
  }
  yi <- args$yi
  mods <- args$mods
  if (inherits(yi, "formula")) {
    if (!is.null(mods)) .mf_stop("Give moderators either in the 'yi' formula or in 'mods', not both.")
    f <- yi
    yi <- eval(f[[2L]], if (is.null(data)) environment(f) else data, environment(f))
    mods <- f[-2L]
    if (length(attr(stats::terms(mods), "term.labels")) == 0L && attr(stats::terms(mods), "intercept") == 1L)
      mods <- NULL
  }
  g <- .mf_gate(yi = yi, vi = args$vi, sei = args$sei, weights = args$weights,
                mods = mods, data = data, slab = args$slab, subset = args$subset,
                method = method, test = test, level = level,
                btt = if (missing(btt)) NULL else btt,
                tau2 = if (missing(tau2)) NULL else tau2, intercept = intercept,
                control = if (missing(control)) NULL else control)
  res <- .mf_fit_gated(g)
  res$call <- cl
  res$digits <- digits
  res$data <- data
  res
}

#' @rdname rma
#' @export
rma.uni <- rma

# Convert tibbles, data.tables and other data frames to a plain data.frame.
.mf_as_data_frame <- function(data) {
  if (!is.data.frame(data)) .mf_stop("'data' must be a data frame.")
  as.data.frame(data, stringsAsFactors = FALSE)
}

# Assemble the mf_rma object from the gate's output: the fit and its
# inference come from one C++ call (src/rcpp_rma.cpp), the data fields from
# the gate.
.mf_fit_gated <- function(g) {
  fit <- .mf_rma_fit(g$yi, g$vi, g$X, g$weights, .mf_method_code(g$method), .mf_test_code(g$test), g$control,
                     g$btt, g$alpha)
  conv <- fit$convergence
  if (is.na(fit$tau2))
    .mf_stop(sprintf("Estimation of tau^2 failed for method %s: %s. Try another 'method', a fallback chain such as c(\"REML\", \"DL\"), or raise control$maxiter.",
                     paste(c(conv$fallbacks, conv$method), collapse = ", "), conv$message))
  if (!isTRUE(conv$converged))
    warning(sprintf("The %s estimator did not converge (%d iterations, last change %.3g); see $convergence.",
                    conv$method, conv$iterations, conv$change), call. = FALSE)
  k <- g$k; p <- g$p
  res <- c(fit, list(k = k, k.f = k, k.eff = k, k.all = g$k.all, p = p, p.eff = p,
              btt = g$btt, int.only = p == 1L && g$int.incl, int.incl = g$int.incl,
              intercept = g$int.incl, yi = g$yi, vi = g$vi, X = g$X, weights = if (length(g$weights)) g$weights,
              yi.f = g$yi.all, vi.f = g$vi.all, X.f = g$X.all, weights.f = g$weights.all,
              ids = g$rows, not.na = g$not.na, subset = g$subset, slab = g$slab,
              slab.null = g$slab.null, test = g$test,
              level = g$alpha, control = g$control,
              formula.mods = g$formula, terms = g$terms, xlevels = g$xlevels,
              method.chain = g$method))
  class(res) <- "mf_rma"
  if (!res$int.only) res$R2 <- .mf_R2(res, g)
  res
}

# Pseudo R^2 (Raudenbush 2009): proportional reduction of tau^2 relative to
# the intercept-only model fitted with the same estimator.  Only for models
# that contain the intercept-only model.
.mf_R2 <- function(res, g) {
  if (res$int.only || !.mf_nested_in_intercept(g$X)) return(NULL)
  if (!.mf_estimator_has(res$method, "random")) {
    if (stats::var(g$yi) == 0) return(0)
    w <- if (length(g$weights)) g$weights else 1 / g$vi
    X <- g$X
    r2 <- summary(stats::lm(g$yi ~ X, weights = w))$adj.r.squared
    return(max(0, 100 * r2))
  }
  # the intercept-only model with the estimator the full model ended with (lean: tau2 only)
  fit0 <- .mf_fit(g$yi, g$vi, matrix(1, nrow = g$k, ncol = 1L), g$weights, .mf_method_code(res$method),
                  .mf_test_code(g$test), g$control, TRUE)
  tau2.RE <- fit0$tau2
  if (is.na(tau2.RE)) return(NA_real_)
  if (tau2.RE == 0) return(0)
  max(0, 100 * (tau2.RE - res$tau2) / tau2.RE)
}

.mf_nested_in_intercept <- function(X) {
  # a column of ones: the intercept-only model is nested (no O(k p^2) QR
  # needed); the column named intrcpt first, a single column's scan at large k
  if ("intrcpt" %in% colnames(X) && all(X[, "intrcpt"] == 1)) return(TRUE)
  if (any(colSums(X != 1) == 0)) return(TRUE)
  one <- rep(1, nrow(X))
  r <- qr.resid(qr(X), one)
  sum(r^2) < 1e-8 * nrow(X)
}
