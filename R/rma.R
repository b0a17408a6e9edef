#' Fit meta-analytic equal-, random- and mixed-effects models
#'
#' The interface of \code{metafor::rma.uni()} and its result fields, computed
#' by an exact O(k p^2) C++ engine that never builds a k-by-k matrix.  Every
#' argument of \code{metafor::rma.uni()} is either implemented with metafor's
#' meaning or rejected with an error that names it (see below).
#'
#' @section What metafast does not cover:
#' These metafor arguments and functions stop with an error naming them (the
#' issue that will add them in brackets):
#' \itemize{
#'   \item escalc() options inside \code{rma()} (\code{correct},
#'     \code{cutoff}, \code{onlyo1}, \code{addyi}, \code{addvi}): compute
#'     \code{yi} and \code{vi} with \code{escalc()} first (a follow-up of 10);
#'   \item the rest of \code{rma.mv()}: see the README's table (12);
#'   \item \code{rma.glmm()} with \code{model = "UM.RS"} or OR with \code{"CM.EL"} (19);
#'   \item selection models, \code{selmodel()}, \code{tes()}, \code{hc()}
#'     (15);
#'   \item plot arguments such as \code{atransf}, \code{at}, \code{xlim}
#'     and the colours of \code{forest()} and \code{funnel()} (16);
#'   \item not planned: location-scale models (\code{scale}, \code{att}),
#'     other definitions of I^2 and R^2 (\code{i2def}, \code{r2def}),
#'     fixed coefficients (\code{beta}); \code{knha = TRUE} is
#'     \code{test = "knha"}.
#' }
#' \code{verbose} is accepted and ignored.  The argument-by-argument list
#' is \code{metafast:::.mf_metafor_args}.
#'
#' @param yi observed effect sizes (vector, or a column name of \code{data}).
#'   A formula \code{yi ~ x} is also accepted and gives the moderators. An
#'   \code{escalc()} data frame (of this package or of metafor) may be given
#'   whole: its yi and vi columns are used, and its columns are the data of
#'   \code{mods}.
#' @param vi sampling variances (a single value is recycled to all studies, as
#'   in metafor). Zero variances are accepted where metafor accepts them (see
#'   Details).
#' @param sei standard errors (alternative to \code{vi}; a single value is
#'   recycled).
#' @param weights optional user weights (the default is inverse-variance
#'   weights; a single value is recycled).
#' @param ai,bi,ci,di,n1i,n2i,x1i,x2i,t1i,t2i,m1i,m2i,sd1i,sd2i,xi,mi,ri,ti,fi,pi,sdi,r2i,mini,maxi
#'   raw data from which \code{\link{escalc}()} computes the effect sizes and
#'   their sampling variances when \code{yi} is not given (the arguments
#'   \code{measure} needs, as in \code{escalc()}; evaluated in \code{data}).
#'   Arguments that this package's \code{escalc()} does not take are refused
#'   with an error naming them.
#' @param ni sample sizes (stored in the fit as \code{ni}; with raw data, also
#'   an input of \code{escalc()}). By default the \code{ni} attribute of
#'   \code{yi}, as escalc sets it.
#' @param measure the outcome measure: \code{"GEN"} (default: \code{yi} and
#'   \code{vi} are given) or one of metafor's measures; with raw data it is
#'   passed to \code{escalc()}. With \code{"GEN"}, the \code{measure}
#'   attribute of \code{yi} (set by \code{escalc()}) is used if there is one.
#' @param add,to,drop00,vtype passed to \code{escalc()} with raw data (its
#'   defaults when not given).
#' @param weighted \code{TRUE} (default): the fixed effects are estimated by
#'   weighted least squares (inverse-variance or user weights);
#'   \code{FALSE}: by ordinary (unweighted) least squares, with the
#'   covariance \eqn{(X'X)^{-1} X' M X (X'X)^{-1}}, \eqn{M = diag(v_i +
#'   \tau^2)}, as metafor. tau^2 is estimated as with \code{weighted = TRUE};
#'   user weights are then ignored (the fit stores \code{weights} as ones so
#'   that its methods and refits are unweighted too).
#' @param mods moderators: a one-sided formula (factors and interactions allowed)
#'   or a numeric vector or matrix.
#' @param data optional data frame (also tibble or data.table) in which the
#'   arguments are evaluated.
#' @param slab study labels (by default the \code{slab} attribute of
#'   \code{yi}, as escalc sets it; duplicated labels are made unique as in
#'   metafor).
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
#' @param level confidence level, read as metafor reads it: 95 (percent), 0.95
#'   (coverage) and 0.05 (alpha) all mean a 95\% interval.
#' @param btt coefficients tested by the omnibus test (indices or a string
#'   matched against their names); by default all but the intercept.
#' @param tau2 optional fixed value of tau^2.
#' @param intercept include an intercept (default \code{TRUE}).
#' @param digits number of digits for printing.
#' @param control list of solver settings: \code{threshold} (1e-10),
#'   \code{maxiter} (1000), \code{stepadj} (1), \code{tau2.init},
#'   \code{tau2.min} (0: the lower bound of the estimate of tau^2, as in
#'   metafor; negative values are not supported), \code{tau2.max} and
#'   \code{tol} (1e-12, for the Q-profile bounds).
#' @param ... metafor's arguments that metafast does not implement are
#'   errors that name them (see the section below); \code{verbose} is
#'   accepted and ignored; any other name is disregarded with a warning, as
#'   in metafor.
#' @details Rows with missing values are handled as
#'   \code{getOption("na.action")} says, as in metafor: \code{"na.omit"},
#'   \code{"na.exclude"} and \code{"na.pass"} leave them out of the fit with a
#'   warning (the fit's \code{not.na} marks them; methods such as
#'   \code{fitted()} pad their results with \code{NA} under
#'   \code{"na.exclude"} and \code{"na.pass"}), \code{"na.fail"} stops.
#'
#'   Zero sampling variances (as metafor): the equal-effects model needs
#'   \code{weighted = FALSE} or user \code{weights} (inverse-variance weights
#'   would be infinite); the DL, HS, HSk and PM estimators refuse them; the
#'   other estimators fit, and QE, I^2 and H^2 are then \code{NA}.
#' @return An object of class \code{mf_rma} holding metafor's fields
#'   (\code{beta}, \code{b}, \code{se}, \code{zval}, \code{pval}, \code{ci.lb},
#'   \code{ci.ub}, \code{vb}, \code{tau2}, \code{se.tau2}, \code{I2}, \code{H2},
#'   \code{R2}, \code{QE}, \code{QEp}, \code{QM}, \code{QMp}, \code{k},
#'   \code{p}, \code{yi}, \code{vi}, \code{X}, \code{fit.stats}, \code{k.f}
#'   (rows after \code{subset}), \code{k.all} (rows before it), \code{not.na}
#'   (which of the \code{k.f} rows were fitted), \code{yi.f}, \code{vi.f},
#'   \code{X.f}, \code{ni}, \code{ni.f}, \code{measure}, \code{weighted},
#'   ...) and a convergence record \code{convergence}.
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
#' # raw 2x2 tables: escalc() computes the log risk ratios
#' bcg <- data.frame(tpos = c(4, 6, 3, 62), tneg = c(119, 300, 228, 13536),
#'                   cpos = c(11, 29, 11, 248), cneg = c(128, 274, 209, 12619))
#' rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
#' @export
rma <- function(yi, vi, sei, weights, ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i,
                m1i, m2i, sd1i, sd2i, xi, mi, ri, ti, fi, pi, sdi, r2i, mini, maxi, ni,
                mods, measure = "GEN", data, slab, subset, add = 1/2, to = "only0", drop00 = FALSE,
                intercept = TRUE, method = "REML", weighted = TRUE, test = "z",
                level = 95, btt, tau2, digits = 4, control, vtype = "LS", ...) {
  .mf_check_dots("rma", ...)
  cl <- match.call()
  if (missing(data)) data <- NULL
  if (!is.null(data)) data <- .mf_as_data_frame(data)
  if (!identical(measure, "GEN")) .mf_check_measure(measure)
  esc <- NULL
  if (missing(yi)) {
    if (identical(measure, "GEN"))
      .mf_stop("'yi' is missing: give the observed effect sizes, or the raw data with their 'measure'.")
    # raw data: escalc() computes yi, vi and ni (evaluated in data, as escalc does)
    esc <- .mf_rma_escalc(cl, measure, data, parent.frame())
  }
  current <- ""
  # one handler for all arguments (a handler per argument costs more than a fit at small k)
  fail <- function(e) .mf_stop(sprintf("Cannot evaluate '%s': %s", current, conditionMessage(e)))
  args <- NULL
  a_yi <- esc$yi
  if (is.null(data) && is.null(esc)) {
    # no data: the arguments are ordinary promises in the caller's frame
    args <- withCallingHandlers({
      current <- "yi"; a_yi <- yi
      if (is.data.frame(a_yi) && .mf_is_escalc(a_yi)) NULL else {
        current <- "mods"; a_mods <- if (!missing(mods)) mods
        current <- "vi"; a_vi <- if (!missing(vi)) vi
        current <- "sei"; a_sei <- if (!missing(sei)) sei
        current <- "weights"; a_w <- if (!missing(weights)) weights
        current <- "slab"; a_slab <- if (!missing(slab)) slab
        current <- "subset"; a_sub <- if (!missing(subset)) subset
        current <- "ni"; a_ni <- if (!missing(ni)) ni
        list(yi = a_yi, mods = a_mods, vi = a_vi, sei = a_sei, weights = a_w, slab = a_slab, subset = a_sub,
             ni = a_ni)
      }
    }, error = fail)
  }
  if (is.null(args)) {
    # data: the expressions are evaluated in data, then in the caller's frame;
    # an escalc data frame given as yi is the data of the other arguments (as metafor)
    env <- parent.frame()
    get_arg <- function(name) {
      expr <- cl[[name]]
      if (is.null(expr)) return(NULL)
      current <<- name
      eval(expr, data, env)
    }
    args <- withCallingHandlers({
      if (is.null(a_yi)) a_yi <- get_arg("yi")
      yi_esc <- is.data.frame(a_yi) && .mf_is_escalc(a_yi)
      if (yi_esc) data <- .mf_as_data_frame(a_yi)
      list(yi = a_yi, mods = get_arg("mods"),
           vi = if (!is.null(esc)) esc$vi else if (!yi_esc) get_arg("vi"),
           sei = if (is.null(esc) && !yi_esc) get_arg("sei"),
           weights = get_arg("weights"), slab = get_arg("slab"),
           subset = get_arg("subset"), ni = if (is.null(esc)) get_arg("ni") else esc$ni)
    }, error = fail)
  }
  yi <- args$yi
  mods <- args$mods
  vi <- args$vi
  sei <- args$sei
  if (is.data.frame(yi) && .mf_is_escalc(yi)) {
    # an escalc data frame: its yi and vi columns (named by its attributes, as metafor)
    ynm <- attr(yi, "yi.names")[1L]
    vnm <- attr(yi, "vi.names")[1L]
    if (is.null(ynm) || is.na(ynm)) ynm <- "yi"
    if (is.null(vnm) || is.na(vnm)) vnm <- "vi"
    if (is.null(yi[[ynm]]) || is.null(yi[[vnm]]))
      .mf_stop(sprintf("'yi' is an escalc data frame without the columns '%s' and '%s'.", ynm, vnm))
    vi <- yi[[vnm]]
    sei <- NULL
    yi <- yi[[ynm]]
  }
  formula.yi <- NULL
  if (inherits(yi, "formula")) {
    if (!is.null(mods)) .mf_stop("Give moderators either in the 'yi' formula or in 'mods', not both.")
    f <- formula.yi <- yi
    yi <- eval(f[[2L]], if (is.null(data)) environment(f) else data, environment(f))
    mods <- f[-2L]
    if (length(attr(stats::terms(mods), "term.labels")) == 0L && attr(stats::terms(mods), "intercept") == 1L)
      mods <- NULL
  }
  # escalc's attributes of yi: measure, slab and ni (as metafor)
  ni <- args$ni
  if (!is.null(attributes(yi))) {
    if (identical(measure, "GEN") && !is.null(attr(yi, "measure"))) measure <- attr(yi, "measure")
    if (is.null(ni)) ni <- attr(yi, "ni")
    if (is.null(args$slab) && length(attr(yi, "slab")) == length(yi)) args$slab <- attr(yi, "slab")
  }
  g <- .mf_gate(yi = yi, vi = vi, sei = sei, weights = args$weights,
                mods = mods, data = data, slab = args$slab, subset = args$subset,
                method = method, test = test, level = level,
                btt = if (missing(btt)) NULL else btt,
                tau2 = if (missing(tau2)) NULL else tau2, intercept = intercept,
                control = if (missing(control)) NULL else control,
                weighted = weighted, ni = ni)
  # add, to and drop00 as metafor stores them (add is 0 for these measures unless given)
  if (!identical(measure, "GEN") && is.null(cl$add) &&
      measure %in% c("AS", "PHI", "ZPHI", "RTET", "ZTET", "IRSD", "PAS", "PFT", "IRS", "IRFT"))
    add <- 0
  res <- .mf_fit_gated(g)
  # (one c() instead of a `$<-` per field: each of those copies the list)
  res <- c(res, list(measure = measure, add = add, to = to, drop00 = drop00, call = cl, digits = digits,
                     data = data, formula.yi = formula.yi))
  if (!is.null(esc$outdat.f)) res$outdat.f <- esc$outdat.f  # group-level counts, for labbe()
  class(res) <- "mf_rma"
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

# The evaluator of the arguments of call `cl`: an argument's expression is
# evaluated in `data` (a data frame or NULL), then in the caller's frame
# `env`; NULL when the argument was not given.
.mf_arg_getter <- function(cl, data, env) {
  function(name) {
    expr <- cl[[name]]
    if (is.null(expr)) return(NULL)
    tryCatch(eval(expr, data, env),
             error = function(e) .mf_stop(sprintf("Cannot evaluate '%s': %s", name, conditionMessage(e))))
  }
}

# Assemble the mf_rma object from the gate's output: the fit and its
# inference come from one C++ call (src/rcpp_rma.cpp), the data fields from
# the gate.
.mf_fit_gated <- function(g) {
  fit <- .mf_rma_fit(g$yi, g$vi, g$X, g$weights, .mf_method_code(g$method), .mf_test_code(g$test), g$control,
                     g$btt, g$alpha)
  conv <- fit$convergence
  # the C++ side flags results outside double precision (status 1, or no status when tau^2
  # failed); only then are they examined in detail, which costs more than a small fit
  if (!identical(attr(fit, "mf.status"), 0L)) .mf_fit_range_check(fit, g)
  if (!isTRUE(conv$converged))
    warning(sprintf("The %s estimator did not converge (%d iterations, last change %.3g); see $convergence.",
                    conv$method, conv$iterations, conv$change), call. = FALSE)
  k <- g$k; p <- g$p
  if (!g$allvipos) {
    # zero sampling variances (metafor): no Q-test, I^2 or H^2; the deviance is -2 ll
    if (!g$vi0)
      warning(sprintf("Cannot compute %s, I^2, or H^2 when there are non-positive sampling variances in the data.",
                      if (p == 1L && g$int.incl) "the Q-test" else "the QE-test"), call. = FALSE)
    fit$QE <- fit$QEp <- fit$I2 <- fit$H2 <- fit$vt <- NA_real_
    fit$fit.stats["dev", "ML"] <- if (k > p) -2 * fit$fit.stats["ll", "ML"] else 0
  }
  res <- c(fit, list(k = k, k.f = g$k.f, k.eff = k, k.all = g$k.all, p = p, p.eff = p,
              btt = g$btt, int.only = p == 1L && g$int.incl, int.incl = g$int.incl,
              intercept = g$int.incl, allvipos = g$allvipos,
              yi = g$yi, vi = g$vi, X = g$X, weights = if (length(g$weights)) g$weights,
              yi.f = g$yi.f, vi.f = g$vi.f, X.f = g$X.f, weights.f = g$weights.f,
              ni = g$ni, ni.f = g$ni.f,
              ids = g$rows, not.na = g$not.na, subset = g$subset, slab = g$slab,
              slab.null = g$slab.null, weighted = g$weighted, test = g$test,
              level = g$alpha, control = g$control,
              formula.mods = g$formula, terms = g$terms, xlevels = g$xlevels,
              method.chain = g$method))
  # the estimator under the name the user gave (metafor keeps "FE", "CE",
  # "CO", "VC" and "MP" as given; the engine works with canonical names)
  used <- match(res$method, g$method)
  if (!is.na(used) && length(g$method.given) == length(g$method)) res$method <- g$method.given[used]
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
    # (R^2 is invariant under y * c and w * d: exact powers of two keep lm()'s
    # absolute perfect-fit check meaningful at extreme scales, issue 18)
    sy <- 2^round(log2(max(abs(g$yi))))
    yy <- if (is.finite(sy) && sy > 0) g$yi / sy else g$yi
    w <- w / 2^round(log2(max(w)))
    r2 <- summary(stats::lm(yy ~ X, weights = w))$adj.r.squared
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

# The detailed checks of a fit whose results the C++ side flagged (see
# .mf_fit_gated()): an error that says what is outside double precision, or
# nothing when the flag was only conservative (e.g. QE of zero sampling
# variances, or a Knapp-Hartung variance of exactly 0).
.mf_fit_range_check <- function(fit, g) {
  conv <- fit$convergence
  # (tau^2 of outcomes that spread beyond 1e154 can exceed the largest double)
  if (is.na(fit$tau2) && !is.finite(diff(range(g$yi))^2))
    fit$tau2 <- Inf
  # (an iterative estimator that failed where tau^2 / vi is beyond double
  # precision, e.g. yi near 1e150 with vi near 1e-100: the weights 1 / (vi +
  # tau^2) cannot be formed at any one scale; issue 18)
  if (is.na(fit$tau2) && any(g$vi > 0)) {
    h <- diff(range(g$yi))
    if (is.finite(h) && h > 0 && 2 * log2(h) - log2(min(g$vi[g$vi > 0])) > 1100)
      .mf_stop(sprintf("Estimation of tau^2 failed for method %s: the spread of the outcomes 'yi' (%s) is beyond the range of double precision relative to the smallest sampling variance 'vi' (%s): tau^2 / vi would exceed 1e330. Check 'yi' and 'vi' (are they on the same scale?), or use a closed-form method such as \"DL\".",
                       conv$method, format(h, digits = 3), format(min(g$vi[g$vi > 0]), digits = 3)))
  }
  if (is.na(fit$tau2))
    .mf_stop(sprintf("Estimation of tau^2 failed for method %s: %s. Try another 'method', a fallback chain such as c(\"REML\", \"DL\"), or raise control$maxiter.",
                     paste(c(conv$fallbacks, conv$method), collapse = ", "), conv$message))
  # outcomes whose results double precision cannot hold (yi near 1e200 with
  # vi near 1: tau^2 or Q of the order of 1e400; issue 18): an error instead
  # of an infinite or NaN result
  big <- c(tau2 = !is.finite(fit$tau2), estimate = !all(is.finite(fit$beta)),
           QE = g$allvipos && !is.null(fit$QE) && !is.finite(fit$QE))
  if (any(big))
    .mf_stop(sprintf("The results (%s) of these outcomes are outside the range of double precision: 'yi' spreads over %s with sampling variances 'vi' of about %s. Rescale the outcomes (divide 'yi' by a power of 10 and 'vi' by its square) and refit.",
                     paste(names(big)[big], collapse = ", "), format(diff(range(g$yi)), digits = 3),
                     format(stats::median(g$vi), digits = 3)))
  if (g$allvipos) .mf_check_vb_range(fit$vb, zero_ok = isTRUE(fit$s2w == 0))
  invisible()
}

.mf_double_xmin <- .Machine$double.xmin  # (the smallest normal double)

# Coefficients of moderators scaled beyond ~1e150 have variances that double
# precision cannot hold (the estimates are exact, their variances under- or
# overflow, or fall among the subnormal numbers, where they keep only a few
# digits): an error instead of standard errors of 0, Inf or few digits
# (issue 18).  zero_ok: 0 is legitimate (Knapp-Hartung with residuals 0).
.mf_check_vb_range <- function(vb, zero_ok = FALSE) {
  dvb <- vb[seq.int(1L, length(vb), by = nrow(vb) + 1L)]  # (diag() is slower on this path)
  if (!anyNA(dvb) && all(dvb >= .mf_double_xmin) && all(dvb < Inf)) return(invisible())
  ok <- is.finite(dvb) & (dvb >= .mf_double_xmin | (zero_ok & dvb == 0))
  if (all(ok)) return(invisible())
  bad <- rownames(vb)[!ok]
  .mf_stop(sprintf("The sampling variances of the coefficient(s) %s are outside the range of double precision (%s); rescale the moderators (e.g. by a power of 10) and refit.",
                   paste0("'", bad, "'", collapse = ", "),
                   if (any(!is.finite(dvb[!ok]))) "they overflow" else "they underflow to 0 or to fewer than 16 digits"))
}
