# Selection models (issue 15): metafor's selmodel() for rma() fits.  R checks
# the arguments once and sets up the model (p-values, intervals, normal
# quantiles, parameter bounds and their maps); the log-likelihood is evaluated
# in C++ (src/core/selmodel.hpp, glue src/rcpp_selmodel.cpp) for a batch of
# parameter vectors per call, which the optimiser's gradient and the Hessian
# by Richardson extrapolation use.

#' Selection models
#'
#' Fits a selection model to a random- or equal-effects model fitted with
#' \code{rma()}, with the arguments and results of \code{metafor}'s
#' \code{selmodel()}.  Studies are assumed to be observed with a probability
#' that depends on the (one- or two-sided) p-value of their outcome through a
#' selection function \eqn{w(p)} with parameter(s) \eqn{\delta}.  The model
#' (outcome model and selection function) is fitted by maximum likelihood;
#' the likelihood of an observed outcome is
#' \eqn{w(p_i) \phi(y_i; x_i'\beta, v_i + \tau^2) / A_i}, with
#' \eqn{A_i = \int w(p(y)) \phi(y; x_i'\beta, v_i + \tau^2) dy}.
#'
#' Types (metafor's names and parametrisations):
#' \describe{
#'   \item{\code{"stepfun"}}{a step function with constant weights between the
#'     \code{steps} of the p-value scale (Vevea & Hedges 1995); the weight of
#'     the first interval is 1.  With one step this is the three-parameter
#'     selection model.  \code{decreasing = TRUE} constrains the weights to be
#'     non-increasing.}
#'   \item{\code{"beta"}}{the beta selection model, \eqn{w(p) = p^{\delta_1 - 1}
#'     (1 - p)^{\delta_2 - 1}} (Citkowicz & Vevea 2017).}
#'   \item{\code{"halfnorm"}, \code{"negexp"}, \code{"logistic"},
#'     \code{"power"}}{the half-normal, negative-exponential, logistic and
#'     power functions (Preston et al. 2004), \eqn{w(p) = 1} for \eqn{p} up to
#'     \code{steps} (default 0); the variants \code{"halfnorm1"} etc. rescale
#'     \eqn{p} to \eqn{(p - s)/(1 - s)}; \code{"negexppow"} and the
#'     two-parameter variants \code{"halfnorm2"}, \code{"negexp2"},
#'     \code{"logistic2"}, \code{"power2"} as in metafor.}
#'   \item{\code{"stepcon"}}{a step function whose weights are constrained to
#'     be non-increasing, \eqn{1 = \delta_1 \ge \delta_2 \ge \dots \ge 0}
#'     (metafor fits it with a constrained optimiser).  metafast maximises over
#'     the faces of this cone: each pattern of tied adjacent weights is a step
#'     function on merged intervals; the fit without ties is the maximum when
#'     its weights are non-increasing, otherwise the best fit with
#'     non-increasing weights over all patterns.  \code{LRT.tau2} compares with
#'     the constrained fit at \eqn{\tau^2 = 0} (metafor refits without the
#'     constraint there).}
#'   \item{\code{"trunc"}}{truncation at a known cut on the outcome scale
#'     (\code{steps}, default 0): outcomes on the unexpected side are observed
#'     with relative probability \eqn{\delta}.}
#'   \item{\code{"truncest"}}{truncation at an estimated cut
#'     \eqn{\delta_2} (\eqn{\delta_1} the relative probability).  The
#'     likelihood jumps where the cut passes an outcome and rises towards the
#'     jump, so its supremum is not attained; as in metafor, the estimate is
#'     where \code{optim()}'s BFGS with a finite-difference gradient (its
#'     default \code{maxit} and \code{reltol}) stops next to such a jump, on
#'     metafor's parametrisation.  The standard errors are those of the other
#'     parameters at the cut; the SE of the cut is \code{NA}.}
#' }
#' The integrals \eqn{A_i} of the continuous types are computed by adaptive
#' Gauss-Kronrod quadrature (7/15 points) over the real line, split at the
#' kinks of \eqn{w}, to a relative error of \code{control$intCtrl$rel.tol}
#' (default \code{1e-10}; metafor uses \code{integrate()} with
#' \code{.Machine$double.eps^0.25}).  The optimiser is \code{optim()}'s BFGS on
#' metafor's transformed parameters (\eqn{\log\tau^2}; \eqn{\delta} mapped
#' into \code{[delta.min, delta.max]} by a logistic function) with a gradient
#' by central differences; the standard errors come from the Hessian of the
#' log-likelihood at the estimates (Richardson extrapolation of central
#' differences), with \eqn{\tau^2} and step-function weights that are (almost)
#' zero held fixed, as in metafor.  When BFGS runs out of iterations with
#' \eqn{\log\tau^2} running towards \eqn{-\infty}, the fit with
#' \eqn{\tau^2 = 0} is the estimate if its log-likelihood is at least as high
#' and the derivative in \eqn{\tau^2} at 0 is not positive (a maximum on the
#' boundary); so is it when BFGS stops with \eqn{\tau^2} below
#' \eqn{10^{-4}\min v_i} and the fit with \eqn{\tau^2 = 0} is higher.
#'
#' @param x a fit of \code{rma()} (class \code{mf_rma}).
#' @param type the selection function (see Details; partial matching as in
#'   metafor).
#' @param alternative the p-values of the studies: \code{"greater"}
#'   (default), \code{"less"} or \code{"two.sided"}.
#' @param prec for the continuous types (and, experimental in metafor, step
#'   functions): the weight function's argument is multiplied by a measure of
#'   precision: \code{"sei"}, \code{"vi"}, \code{"ninv"} or
#'   \code{"sqrtninv"} (the last two need the sample sizes in the fit),
#'   divided by its maximum.
#' @param delta values at which to fix the selection parameters (\code{NA}:
#'   estimated); a single value is used for every parameter.
#' @param steps the steps of a step function (values in (0, 1]; sorted,
#'   duplicates dropped and 1 added, as metafor does), the p-value below which
#'   a continuous function is 1, the two bounds of the beta function, or the
#'   cut of \code{"trunc"}.
#' @param decreasing \code{TRUE}: non-increasing weights of a step function.
#' @param verbose \code{TRUE}: print the optimiser's progress.
#' @param digits number of decimals of the printout.
#' @param control a list: \code{delta.init}, \code{beta.init},
#'   \code{tau2.init}, \code{delta.min}, \code{delta.max}, \code{tau2.max},
#'   \code{tau2tol}, \code{deltatol}, \code{pval.min} (metafor's meaning),
#'   \code{optimizer} (\code{"optim"} with \code{optmethod = "BFGS"}, or
#'   \code{"nlminb"}), \code{maxit}, \code{reltol} (optim) or \code{iter.max},
#'   \code{rel.tol} (nlminb), \code{intCtrl = list(rel.tol = ,
#'   subdivisions = )}.  Other metafor entries are rejected by name.
#' @param ... metafor's undocumented extras are rejected by name.
#' @return An object of class \code{c("mf_selmodel", "mf_rma")} with
#'   metafor's fields: \code{beta}, \code{se}, \code{zval}, \code{pval},
#'   \code{ci.lb}, \code{ci.ub}, \code{vb}, \code{tau2}, \code{se.tau2},
#'   \code{delta}, \code{se.delta}, \code{zval.delta}, \code{pval.delta},
#'   \code{ci.lb.delta}, \code{ci.ub.delta}, \code{vd}, \code{LRT},
#'   \code{LRTdf}, \code{LRTp}, \code{LRT.tau2}, \code{LRTp.tau2},
#'   \code{ptable} (step functions: the number of p-values per interval),
#'   \code{ll}, \code{fit.stats}, \code{QM}, \code{QMp}, \code{type},
#'   \code{steps}, \code{pvals}, \code{hessian}, ...
#' @references
#' Vevea, J. L., & Hedges, L. V. (1995). A general linear model for estimating
#' effect size in the presence of publication bias. \emph{Psychometrika},
#' 60(3), 419--435.
#'
#' Citkowicz, M., & Vevea, J. L. (2017). A parsimonious weight function for
#' modeling publication bias. \emph{Psychological Methods}, 22(1), 28--41.
#'
#' Preston, C., Ashby, D., & Smyth, R. (2004). Adjusting for publication bias:
#' Modelling the selection process. \emph{Journal of Evaluation in Clinical
#' Practice}, 10(2), 313--322.
#'
#' Iyengar, S., & Greenhouse, J. B. (1988). Selection models and the file
#' drawer problem. \emph{Statistical Science}, 3(1), 109--117.
#' @examples
#' # metafor's example data for selection models (metadat, suggested)
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   fit <- rma(yi, vi, data = metadat::dat.hackshaw1998, method = "ML")
#'   sel <- selmodel(fit, type = "stepfun", steps = 0.025)
#'   sel
#'   selmodel(fit, type = "negexp")
#' }
#' @export
selmodel <- function(x, ...) UseMethod("selmodel")

# metafor's type names, in the order of the C++ type codes (core/selmodel.hpp)
.mf_sel_types <- c("beta", "halfnorm", "negexp", "logistic", "power", "negexppow",
                   "halfnorm1", "negexp1", "logistic1", "power1",
                   "halfnorm2", "negexp2", "logistic2", "power2",
                   "stepfun", "trunc", "truncest")
# metafor's list, in its order of matching (a partial name selects the first hit)
.mf_sel_type_options <- c("beta", "halfnorm", "negexp", "logistic", "power", "negexppow",
                          "halfnorm1", "negexp1", "logistic1", "power1",
                          "halfnorm2", "negexp2", "logistic2", "power2",
                          "stepfun", "stepcon", "trunc", "truncest")

# The control entries of metafor's selmodel() that metafast does not implement.
.mf_sel_control_rejected <- c(
  hessianCtrl = "the Hessian is computed by metafast's own Richardson extrapolation",
  hesspack = "the Hessian is computed by metafast's own Richardson extrapolation",
  htransf = "the Hessian is computed on the untransformed parameters",
  hes.beta.fix = "the Hessian always covers the estimated coefficients",
  hes.tau2.fix = "use tau2tol", hes.delta.fix = "use deltatol",
  scaleX = "the moderators are always standardised for the optimiser",
  parallel = "there is no parallel optimiser", cl = "there is no parallel optimiser",
  ncpus = "there is no parallel optimiser")

#' @rdname selmodel
#' @export
selmodel.mf_rma <- function(x, type, alternative = "greater", prec, delta, steps, decreasing = FALSE,
                            verbose = FALSE, digits, control, ...) {
  .mf_check_dots("selmodel.mf_rma", ...)
  if (inherits(x, "mf_selmodel")) .mf_stop("'x' is already a selection model; pass the rma() fit.")
  if (missing(type))
    .mf_stop("Must choose a specific selection model via the 'type' argument (see ?selmodel for options).")
  res <- .mf_selmodel_fit(x, type, alternative, prec = if (missing(prec)) NULL else prec,
                          delta = if (missing(delta)) NULL else delta, steps = if (missing(steps)) NULL else steps,
                          decreasing = decreasing, verbose = verbose, digits = if (missing(digits)) NULL else digits,
                          control = if (missing(control)) NULL else control)
  res$call <- match.call()
  res
}

# The fit behind selmodel(); also the refits of profile() and confint()
# (refit = TRUE: x is the selection model itself, as metafor refits its
# object, with tau2 held at `tau2` when not NA, and without the Hessian
# (skiphes) or the test of tau2 = 0 (skiphet)).
.mf_selmodel_fit <- function(x, type, alternative = "greater", prec = NULL, delta = NULL, steps = NULL,
                             decreasing = FALSE, verbose = FALSE, digits = NULL, control = NULL, tau2 = NA_real_,
                             skiphes = FALSE, skiphet = FALSE) {
  tau2.val <- tau2
  if (inherits(x, c("mf_robust_rma")) || !is.null(x$robust))
    .mf_stop("selmodel() needs a fit of rma(), not of robust().")
  if (is.null(x$yi)) .mf_stop("'x' holds no data to fit the selection model.")
  if (!isTRUE(x$allvipos))
    .mf_stop("Cannot fit selection model when one or more sampling variances are non-positive ('x').")
  if (!isTRUE(x$weighted) || !is.null(x$weights))
    .mf_stop("Cannot fit selection model for unweighted models or models with custom weights ('x' has 'weights').")
  if (!is.character(type) || length(type) != 1L || is.na(type) || !nzchar(type))
    .mf_stop("'type' must be one character string.")
  type <- .mf_sel_type_options[grep(type, .mf_sel_type_options, fixed = TRUE)[1L]]
  if (is.na(type)) .mf_stop("Unknown 'type' specified (see ?selmodel for options).")
  if (!is.character(alternative) || length(alternative) != 1L || is.na(alternative))
    .mf_stop("'alternative' must be one of \"greater\", \"less\" or \"two.sided\".")
  alternative <- tryCatch(match.arg(alternative, c("two.sided", "greater", "less")),
                          error = function(e) .mf_stop("'alternative' must be one of \"greater\", \"less\" or \"two.sided\"."))
  if (type %in% c("trunc", "truncest") && alternative == "two.sided")
    .mf_stop(sprintf("Cannot use alternative='two.sided' with this type of selection model ('type' = \"%s\").", type))
  if (!is.logical(decreasing) || length(decreasing) != 1L) .mf_stop("'decreasing' must be TRUE or FALSE.")
  decreasing <- isTRUE(decreasing)
  if (type != "stepfun" && decreasing) {
    warning("Argument 'decreasing' ignored (not applicable to this type of selection model).", call. = FALSE)
    decreasing <- FALSE
  }
  verbose <- if (is.numeric(verbose) || is.logical(verbose)) as.numeric(verbose[1L]) else 0
  if (is.na(verbose)) verbose <- 0
  dig <- if (is.null(digits)) x$digits else digits
  if (is.null(control)) control <- list()
  if (!is.list(control)) .mf_stop("'control' must be a list.")
  bad <- intersect(names(control), names(.mf_sel_control_rejected))
  if (length(bad))
    .mf_stop(sprintf("control entry '%s' of selmodel() is not supported by metafast: %s.", bad[1L],
                     .mf_sel_control_rejected[[bad[1L]]]))

  # the outcome model refitted by ML (metafor's rule: EE/FE/CE and ML fits as they are)
  ee <- !.mf_estimator_has(x$method, "random")
  x0 <- x
  if (!ee && x$method != "ML") {
    args <- list(yi = c(x$yi), vi = x$vi, mods = x$X, intercept = FALSE, method = "ML")
    if (isTRUE(x$tau2.fix)) args$tau2 <- x$tau2
    x <- tryCatch(suppressWarnings(do.call(rma, args)),
                  error = function(e) .mf_stop("Could not refit input model using method='ML'."))
  }
  for (f in c("btt", "m", "int.only", "int.incl", "intercept", "slab", "formula.mods", "terms", "xlevels",
              "data", "measure", "digits", "ids", "not.na", "subset", "k.all", "yi.f", "vi.f", "X.f", "ni",
              "ni.f", "call", "level"))
    x[f] <- list(x0[[f]])
  yi <- c(x$yi)
  vi <- c(x$vi)
  X <- x$X
  p <- x$p
  k <- x$k
  if (!is.na(tau2.val)) x$tau2.fix <- TRUE
  tau2.fixed <- ee || isTRUE(x$tau2.fix)
  tau2.arg <- if (ee) 0 else if (!is.na(tau2.val)) tau2.val else if (isTRUE(x$tau2.fix)) x$tau2 else NA_real_

  # precision
  precspec <- !is.null(prec)
  if (precspec) {
    if (!is.character(prec) || length(prec) != 1L || is.na(prec))
      .mf_stop("'prec' must be one of \"sei\", \"vi\", \"ninv\" or \"sqrtninv\".")
    prec <- tryCatch(match.arg(prec, c("sei", "vi", "ninv", "sqrtninv")),
                     error = function(e) .mf_stop("'prec' must be one of \"sei\", \"vi\", \"ninv\" or \"sqrtninv\"."))
    if (prec %in% c("ninv", "sqrtninv") && (is.null(x$ni) || anyNA(x$ni)))
      .mf_stop(sprintf("prec = \"%s\" needs the sample sizes, which the fit does not hold (or holds with NAs); pass 'ni' to rma() (or yi/vi from escalc()).", prec))
    preci <- switch(prec, sei = sqrt(vi), vi = vi, ninv = 1 / x$ni, sqrtninv = 1 / sqrt(x$ni))
    preci <- preci / max(preci)
  } else {
    prec <- NULL
    preci <- rep(1, k)
  }
  precis <- c(min = min(preci), max = max(preci), mean = mean(preci), median = stats::median(preci))
  pvals <- .mf_sel_pval(yi, vi, alternative)

  # steps
  stepsspec <- !is.null(steps) && !(length(steps) == 1L && is.na(steps))
  if (stepsspec) {
    if (!is.numeric(steps) || anyNA(steps)) .mf_stop("No missing values allowed in 'steps' argument.")
    if (type != "trunc" && any(steps < 0 | steps > 1))
      .mf_stop("Value(s) specified for 'steps' argument must be between 0 and 1.")
    steps <- unique(sort(steps))
    if (!type %in% c("trunc", "beta")) {
      if (steps[1L] == 0) .mf_stop("Lowest 'steps' value must be > 0.")
      if (steps[length(steps)] != 1) steps <- c(steps, 1)
    }
  } else {
    steps <- NA_real_
  }
  if (type == "trunc" && !stepsspec) {
    stepsspec <- TRUE
    steps <- 0
  }
  spec <- .mf_sel_spec(type, stepsspec, steps, precspec, decreasing)
  steps <- spec$steps
  if (type == "truncest") {
    # (metafor's data-dependent start and range of the cut)
    stepsspec <- FALSE
    sdy <- stats::sd(yi)
    spec$init[2L] <- mean(yi)
    spec$min[2L] <- if (alternative == "greater") min(yi) - sdy else min(yi)
    spec$max[2L] <- if (alternative == "greater") max(yi) else max(yi) + sdy
  }
  if (spec$noprec) preci <- rep(1, k)
  deltas <- spec$deltas

  # delta: fixed values and bounds (metafor's checks and messages)
  if (is.null(delta)) {
    delta <- rep(NA_real_, deltas)
  } else {
    if (!is.numeric(delta) && !all(is.na(delta))) .mf_stop("'delta' must be numeric.")
    delta <- as.numeric(delta)
    if (length(delta) == 1L) delta <- rep(delta, deltas)
    if (length(delta) != deltas)
      .mf_stop(sprintf("Argument 'delta' should be of length %d for this type of selection model.", deltas))
    .mf_sel_check_bounds(delta, spec, "delta")
  }
  if (type == "stepfun" && (decreasing || is.na(delta[1L]))) delta[1L] <- 1
  if (type == "stepcon") delta[1L] <- 1
  delta.min <- .mf_sel_ctrl_vec(control$delta.min, spec$min, deltas, "delta.min")
  .mf_sel_check_bounds(delta.min, spec, "delta.min")
  delta.min <- ifelse(!is.na(delta) & delta.min > delta, delta - .Machine$double.eps^0.2, delta.min)
  delta.max <- .mf_sel_ctrl_vec(control$delta.max, spec$max, deltas, "delta.max")
  .mf_sel_check_bounds(delta.max, spec, "delta.max")
  if (any(delta.max < delta.min)) .mf_stop("Value(s) of 'delta.max' must be >= value(s) of 'delta.min'.")
  delta.max <- ifelse(!is.na(delta) & delta.max < delta, delta + .Machine$double.eps^0.2, delta.max)
  delta.init <- .mf_sel_ctrl_vec(control$delta.init, spec$init, deltas, "delta.init")
  .mf_sel_check_bounds(delta.init, spec, "delta.init")
  # the map of delta: logistic between delta.min and delta.max, or the type's
  # own transformation (clamped) when a bound is infinite or for decreasing steps
  defmap <- decreasing || any(is.infinite(delta.max))
  pval.min <- if (is.null(control$pval.min)) spec$pval.min else .mf_sel_ctrl_num(control$pval.min, "pval.min")

  free.delta <- is.na(delta)
  nfree <- p + (!tau2.fixed) + sum(free.delta)
  if (k < nfree)
    .mf_stop(sprintf("Number of studies (k=%d) is too small to fit the selection model.", k))

  pvals <- pmin(pmax(pvals, pval.min), 1 - pval.min)
  ptable <- NA
  pgrp <- integer(0)
  if (type != "trunc" && stepsspec) {
    pgrp <- vapply(pvals, function(pv) which(pv <= steps)[1L], 1L)
    ptable <- .mf_sel_ptable(pgrp, steps)
    if (any(ptable$k == 0L)) {
      if (type == "stepfun" && anyNA(delta[-1L]))
        warning("One or more intervals do not contain any observed p-values.", call. = FALSE)
      if (type != "stepfun")
        warning("One of the intervals does not contain any observed p-values.", call. = FALSE)
    }
  }

  # optimiser settings
  opt <- .mf_sel_optcontrol(control, spec, vi, type)
  intc <- control$intCtrl
  if (is.null(intc)) intc <- list()
  if (!is.list(intc)) .mf_stop("control entry 'intCtrl' must be a list.")
  badi <- setdiff(names(intc), c("rel.tol", "subdivisions"))
  if (length(badi))
    .mf_stop(sprintf("control$intCtrl entry '%s' is not supported by metafast (the integrals cover the whole real line); use rel.tol or subdivisions.", badi[1L]))
  int.rel.tol <- if (is.null(intc$rel.tol)) 1e-10 else .mf_sel_ctrl_num(intc$rel.tol, "intCtrl$rel.tol")
  int.pieces <- if (is.null(intc$subdivisions)) 400L else as.integer(.mf_sel_ctrl_num(intc$subdivisions, "intCtrl$subdivisions"))

  # the moderators standardised for the optimiser (beta = mX %*% beta.scaled)
  scaled <- .mf_sel_scale_X(X, x$int.only, x$int.incl)
  Xs <- scaled$X
  beta.init <- if (is.null(control$beta.init)) c(x$beta) else control$beta.init
  if (length(beta.init) != p || !is.numeric(beta.init) || anyNA(beta.init))
    .mf_stop(sprintf("Length of the 'beta.init' argument (%d) does not match the actual number of parameters (%d).",
                     length(beta.init), p))
  beta.init <- .mf_sel_beta_scaled(scaled, beta.init, if (is.null(control$beta.init)) x$mf.wald)
  tau2.max <- opt$tau2.max
  if (x$tau2 >= tau2.max) .mf_stop("Value of 'tau2.max' must be > tau^2 value.")
  tau2.init <- if (is.null(control$tau2.init)) log(x$tau2 + 0.001) else {
    t0 <- .mf_sel_ctrl_num(control$tau2.init, "tau2.init")
    if (t0 <= 0) .mf_stop("Value of 'tau2.init' must be > 0.")
    if (t0 >= tau2.max) .mf_stop("Value of 'tau2.init' must be < 'tau2.max'.")
    log(t0)
  }

  # what the C++ log-likelihood needs
  code <- match(if (type == "stepcon") "stepfun" else type, .mf_sel_types) - 1L
  alt <- match(alternative, c("greater", "less", "two.sided")) - 1L
  zcut <- numeric(0)
  kinks <- numeric(0)
  if (type %in% c("stepfun", "stepcon")) {
    s <- steps[-length(steps)]
    zcut <- if (alternative == "two.sided") stats::qnorm(s / 2, lower.tail = FALSE) else stats::qnorm(s, lower.tail = FALSE)
  } else if (!type %in% c("trunc", "truncest", "stepcon")) {
    kinks <- .mf_sel_kinks(c(steps[1L], if (type == "beta") steps[2L], pval.min, 1 - pval.min), alternative)
  }
  model <- list(yi = yi, vi = vi, X = Xs, preci = preci, pvals = pvals, pgrp = as.integer(pgrp - 1L),
                code = code, alt = alt, steps = if (anyNA(steps)) numeric(0) else steps, zcut = zcut,
                kinks = kinks, pval.min = pval.min, rel.tol = int.rel.tol, pieces = int.pieces)
  llfun <- function(P) {
    v <- .mf_selmodel_ll(P, model$yi, model$vi, model$X, model$preci, model$pvals, model$pgrp, model$code,
                         model$alt, model$steps, model$zcut, model$kinks, model$pval.min, model$rel.tol,
                         model$pieces)
    v
  }
  map <- list(delta.min = delta.min, delta.max = delta.max, defmap = defmap, transf = spec$transf,
              decreasing = decreasing, tau2.max = tau2.max, tau2.h = 1e-5 * min(vi),
              ident = spec$transf == "I" & !decreasing, numgrad = type == "truncest")

  fit <- if (type == "stepcon") .mf_sel_optimise_stepcon(llfun, p, beta.init, tau2.init, tau2.arg, delta.init, delta, map, opt, verbose, dig)
         else .mf_sel_optimise(llfun, p, beta.init, tau2.init, tau2.arg, delta.init, delta, map, opt, verbose, dig)
  if (any(free.delta & fit$delta <= delta.min + .Machine$double.eps^0.25 & spec$min.check) ||
      any(free.delta & fit$delta >= delta.max - 100 * .Machine$double.eps^0.25 & spec$max.check))
    warning("One or more 'delta' estimates are (almost) equal to their lower or upper bound.\nTreat results with caution (or consider adjusting 'delta.min' and/or 'delta.max').",
            call. = FALSE)
  ll <- fit$ll
  beta.s <- fit$beta
  tau2 <- fit$tau2
  delta.hat <- fit$delta

  # Hessian of -ll on the untransformed parameters, without tau2 and step
  # weights that are (almost) zero (metafor's tau2tol and deltatol)
  hest <- c(rep(TRUE, p), !tau2.fixed && tau2 >= opt$tau2tol,
            free.delta & (if (type == "stepfun") delta.hat >= opt$deltatol else TRUE) &
              # (truncest: the likelihood jumps where the cut passes an outcome and
              # is not stationary in the cut at the estimate: the Hessian of the
              # other parameters at the cut; metafor differentiates numerically
              # across the jumps)
              !(type == "truncest" & seq_len(deltas) == 2L))
  theta <- c(beta.s, tau2, delta.hat)
  vb <- matrix(NA_real_, p, p)
  vd <- matrix(NA_real_, deltas, deltas)
  se.tau2 <- NA_real_
  H <- NA_real_
  if (any(hest) && !skiphes) {
    negll <- function(P) {
      P[p + 1L, ] <- .mf_sel_tau2_clamp(P[p + 1L, ], tau2.max)
      -llfun(P)
    }
    H <- .mf_hessian_richardson(negll, theta, hest, positive = c(rep(FALSE, p), TRUE, spec$lb >= 0))
    dimnames(H) <- rep(list(c(colnames(X), "tau2", if (deltas == 1L) "delta" else paste0("delta.", seq_len(deltas)))), 2L)
    Hh <- H[hest, hest, drop = FALSE]
    iH <- tryCatch(suppressWarnings(chol2inv(chol(Hh))), error = function(e) NULL)
    if (is.null(iH) || anyNA(iH) || any(is.infinite(iH))) {
      warning("Error when trying to invert the Hessian.", call. = FALSE)
    } else {
      full <- matrix(0, length(hest), length(hest))
      full[hest, hest] <- iH
      vb <- full[seq_len(p), seq_len(p), drop = FALSE]
      if (hest[p + 1L]) se.tau2 <- sqrt(full[p + 1L, p + 1L])
      di <- p + 1L + seq_len(deltas)
      vd[hest[di], hest[di]] <- full[di, di, drop = FALSE][hest[di], hest[di], drop = FALSE]
    }
  }
  vb.s <- vb
  beta <- scaled$mX %*% beta.s
  vb <- scaled$mX %*% vb %*% t(scaled$mX)
  rownames(beta) <- rownames(vb) <- colnames(vb) <- colnames(X)
  colnames(beta) <- NULL
  btt <- x$btt
  # (an ill-conditioned design: the Wald statistics in its orthonormal
  # coordinates, b~ = sqrt(k) beta.scaled, R/wald.R)
  wald <- if (!is.null(scaled$tr)) list(b = scaled$c0 * beta.s, vb = scaled$c0^2 * vb.s, RPt = scaled$tr$RPt, D = scaled$tr$D)
  QM <- .mf_wald_stat(list(beta = beta, vb = vb, mf.wald = wald), btt = btt)  # (R/wald.R)
  QMp <- stats::pchisq(QM, df = length(btt), lower.tail = FALSE)
  se <- unname(sqrt(diag(vb)))
  zval <- c(beta / se)
  pval <- 2 * stats::pnorm(abs(zval), lower.tail = FALSE)
  crit <- stats::qnorm(x$level / 2, lower.tail = FALSE)
  se.delta <- sqrt(diag(vd))
  zval.delta <- (delta.hat - spec$H0) / se.delta
  pval.delta <- 2 * stats::pnorm(abs(zval.delta), lower.tail = FALSE)
  ci.lb.delta <- pmax(delta.hat - crit * se.delta, spec$lb, delta.min)
  ci.ub.delta <- pmin(delta.hat + crit * se.delta, spec$ub, delta.max)
  ci.lb.tau2 <- max(0, tau2 - crit * se.tau2)
  ci.ub.tau2 <- tau2 + crit * se.tau2

  # likelihood-ratio test of tau2 = 0 (refit with tau2 = 0 from the same start)
  LRT.tau2 <- LRTp.tau2 <- NA_real_
  if (!tau2.fixed && !skiphet) {
    # (stepcon: the constrained fit with tau2 = 0; metafor refits without the
    # constraint there, with a result that depends on solnp()'s tolerance)
    fit0 <- tryCatch(if (type == "stepcon") .mf_sel_optimise_stepcon(llfun, p, beta.init, tau2.init, 0, delta.init, delta, map, opt, 0, dig)
                     else .mf_sel_optimise(llfun, p, beta.init, tau2.init, 0, delta.init, delta, map, opt, 0, dig),
                     error = function(e) NULL)
    if (!is.null(fit0)) {
      LRT.tau2 <- max(0, -2 * (fit0$ll - ll))
      LRTp.tau2 <- stats::pchisq(LRT.tau2, df = 1, lower.tail = FALSE)
    }
  }
  ll0 <- x$fit.stats["ll", "ML"]
  LRT <- max(0, -2 * (ll0 - ll))
  LRTdf <- sum(free.delta & spec$LRT)
  LRTp <- if (LRTdf > 0) stats::pchisq(LRT, df = LRTdf, lower.tail = FALSE) else NA_real_
  parms <- p + (!tau2.fixed) + sum(free.delta)
  fit.stats <- data.frame(ML = c(ll, -2 * ll, -2 * ll + 2 * parms, -2 * ll + parms * log(k),
                                 -2 * ll + 2 * parms * max(k, parms + 2) / (max(k, parms + 2) - parms - 1)),
                          REML = NA_real_, row.names = c("ll", "dev", "AIC", "BIC", "AICc"))

  res <- x
  res$mf.wald <- wald  # (the selection model's Wald coordinates, R/wald.R; NULL for a well-conditioned design)
  res$beta <- res$b <- beta
  res$se <- se
  res$zval <- zval
  res$pval <- pval
  res$ci.lb <- c(beta - crit * se)
  res$ci.ub <- c(beta + crit * se)
  res$vb <- vb
  res$tau2 <- tau2
  res$se.tau2 <- se.tau2
  res$ci.lb.tau2 <- ci.lb.tau2
  res$ci.ub.tau2 <- ci.ub.tau2
  res$dfs <- res$ddf <- NA_integer_
  res$test <- "z"
  res$s2w <- 1
  res$QE <- res$QEp <- NA_real_
  res$I2 <- res$H2 <- res$vt <- NA_real_
  res$R2 <- NULL
  res$QM <- QM
  res$QMdf <- c(length(btt), NA_integer_)
  res$QMp <- QMp
  res$delta <- delta.hat
  res$vd <- vd
  res$se.delta <- se.delta
  res$zval.delta <- zval.delta
  res$pval.delta <- pval.delta
  res$ci.lb.delta <- ci.lb.delta
  res$ci.ub.delta <- ci.ub.delta
  res$deltas <- deltas
  res$delta.fix <- !free.delta
  res$hessian <- H
  res$hest <- hest
  res$ll <- ll
  res$ll0 <- ll0
  res$LRT <- LRT
  res$LRTdf <- LRTdf
  res$LRTp <- LRTp
  res$LRT.tau2 <- LRT.tau2
  res$LRTp.tau2 <- LRTp.tau2
  res$M <- diag(vi + tau2, nrow = k)
  res$model <- "rma.uni.selmodel"
  res$parms <- parms
  res$fit.stats <- fit.stats
  res$pvals <- pvals
  res$digits <- dig
  res$verbose <- verbose
  res$type <- type
  res$steps <- steps
  res$decreasing <- decreasing
  res$stepsspec <- stepsspec
  res$pgrp <- if (length(pgrp)) pgrp else NA
  res$ptable <- ptable
  res$k0 <- 0L
  res$k1 <- k
  res$alternative <- alternative
  res$pval.min <- pval.min
  res$prec <- prec
  res$precspec <- precspec
  res$precis <- precis
  res$preci <- preci
  res$delta.lb <- spec$lb
  res$delta.ub <- spec$ub
  res$delta.lb.excl <- spec$lb.excl
  res$delta.ub.excl <- spec$ub.excl
  res$delta.min <- delta.min
  res$delta.max <- delta.max
  res$tau2.max <- tau2.max
  res$H0.delta <- spec$H0
  res$convergence <- fit$convergence
  res$control <- control
  res$method <- if (ee) x$method else "ML"
  class(res) <- c("mf_selmodel", "mf_rma")
  res
}

# p-values of the outcomes (one- or two-sided z-tests)
.mf_sel_pval <- function(yi, vi, alternative) {
  z <- yi / sqrt(vi)
  switch(alternative, two.sided = 2 * stats::pnorm(abs(z), lower.tail = FALSE),
         greater = stats::pnorm(z, lower.tail = FALSE), less = stats::pnorm(z))
}

# z-values y / sqrt(v) at which the p-value equals each of `pk` (kinks of w)
.mf_sel_kinks <- function(pk, alternative) {
  pk <- pk[is.finite(pk) & pk > 0 & pk < 1]
  z <- switch(alternative, greater = stats::qnorm(pk, lower.tail = FALSE), less = stats::qnorm(pk),
              two.sided = c(stats::qnorm(pk / 2, lower.tail = FALSE), stats::qnorm(pk / 2), 0))
  sort(unique(z[is.finite(z)]))
}

# The parameters of each selection function: number, bounds, start, range for
# the optimiser, null value, map (metafor's selmodel.rma.uni)
.mf_sel_spec <- function(type, stepsspec, steps, precspec, decreasing) {
  prec_ignored <- function() warning("Argument 'prec' ignored (not applicable to this type of selection model).", call. = FALSE)
  one_step <- function() {
    if (stepsspec) {
      if (length(steps) != 2L)
        .mf_stop("Can only specify a single value for the 'steps' argument for this type of selection model.")
      steps
    } else 0
  }
  out <- list(noprec = FALSE, min.check = TRUE, max.check = TRUE, lb.excl = FALSE, ub.excl = FALSE)
  if (type == "beta") {
    if (stepsspec) {
      if (length(steps) != 2L) .mf_stop("The 'steps' argument for this type of selection model should be of length 2.")
    } else steps <- c(0, 1)
    if (precspec) prec_ignored()
    out$noprec <- TRUE
    out <- c(list(deltas = 2L, transf = c("exp", "exp"), lb = c(0, 0), ub = c(Inf, Inf), init = c(1, 1),
                  min = c(1e-5, 1e-5), max = c(100, 100), H0 = c(1, 1), LRT = c(TRUE, TRUE), pval.min = 1e-5),
             out)
    out$lb.excl <- c(TRUE, TRUE)
  } else if (type %in% c("halfnorm", "negexp", "logistic", "power", "halfnorm1", "negexp1", "logistic1", "power1")) {
    steps <- one_step()
    out <- c(list(deltas = 1L, transf = "exp", lb = 0, ub = Inf, init = 1, min = 0, max = 100, H0 = 0, LRT = TRUE,
                  pval.min = if (type %in% c("power", "power1")) 1e-5 else 0), out)
  } else if (type == "negexppow") {
    steps <- one_step()
    out <- c(list(deltas = 2L, transf = c("exp", "exp"), lb = c(0, 0), ub = c(Inf, Inf), init = c(1, 1),
                  min = c(0, 0), max = c(100, 100), H0 = c(0, 0), LRT = c(TRUE, TRUE), pval.min = 0), out)
  } else if (type %in% c("halfnorm2", "negexp2", "logistic2", "power2")) {
    steps <- one_step()
    out <- c(list(deltas = 2L, transf = c("exp", "exp"), lb = c(0, 0), ub = c(Inf, Inf), init = c(1, 0.25),
                  min = c(0, 0), max = c(100, 100), H0 = c(0, 0), LRT = c(TRUE, TRUE), pval.min = 0), out)
  } else if (type == "stepfun") {
    if (!stepsspec) .mf_stop("Must specify the 'steps' argument for this type of selection model.")
    if (length(steps) < 2L) .mf_stop("'steps' must hold at least one value below 1 for type = \"stepfun\".")
    if (precspec) {
      if (decreasing) {
        prec_ignored()
        out$noprec <- TRUE
      } else {
        warning("Adding a precision measure to this selection model is undocumented and experimental.", call. = FALSE)
      }
    }
    n <- length(steps)
    if (decreasing) {
      out <- c(list(deltas = n, transf = rep("I", n), lb = c(0, rep(-Inf, n - 1L)), ub = c(1, rep(Inf, n - 1L)),
                    init = c(1, rep(-2, n - 1L)), min = rep(0, n), max = rep(1, n)), out)
      out$max.check <- FALSE
    } else {
      out <- c(list(deltas = n, transf = rep("exp", n), lb = rep(0, n), ub = rep(Inf, n),
                    init = seq(1, 0.8, length.out = n), min = rep(0, n), max = rep(100, n)), out)
    }
    out$H0 <- rep(1, n)
    out$LRT <- rep(TRUE, n)
    out$pval.min <- 0
  } else if (type == "stepcon") {
    if (!stepsspec) .mf_stop("Must specify the 'steps' argument for this type of selection model.")
    if (length(steps) < 2L) .mf_stop("'steps' must hold at least one value below 1 for type = \"stepcon\".")
    if (precspec) prec_ignored()
    out$noprec <- TRUE
    n <- length(steps)
    out <- c(list(deltas = n, transf = rep("plogis", n), lb = rep(0, n), ub = rep(1, n),
                  init = seq(1, 0.5, length.out = n), min = rep(0, n), max = rep(1, n), H0 = rep(1, n),
                  LRT = rep(TRUE, n), pval.min = 0), out)
    out$max.check <- FALSE
  } else if (type == "truncest") {
    if (stepsspec) warning("Argument 'steps' ignored (not applicable to this type of selection model).", call. = FALSE)
    steps <- NA_real_
    if (precspec) prec_ignored()
    out$noprec <- TRUE
    # (the start and range of the cut, delta[2], depend on the data: set by the caller)
    out <- c(list(deltas = 2L, transf = c("exp", "I"), lb = c(0, -Inf), ub = c(Inf, Inf), init = c(1, 0),
                  min = c(0, 0), max = c(100, 0), H0 = c(1, 0), LRT = c(TRUE, FALSE), pval.min = 0), out)
  } else if (type == "trunc") {
    if (length(steps) != 1L)
      .mf_stop("Can only specify a single value for the 'steps' argument for this type of selection model.")
    if (precspec) prec_ignored()
    out$noprec <- TRUE
    out <- c(list(deltas = 1L, transf = "exp", lb = 0, ub = Inf, init = 1, min = 0, max = 100, H0 = 1, LRT = TRUE,
                  pval.min = 0), out)
  }
  n <- out$deltas
  out$lb.excl <- rep_len(out$lb.excl, n)
  out$ub.excl <- rep_len(out$ub.excl, n)
  out$steps <- steps
  out
}

.mf_sel_check_bounds <- function(v, spec, what) {
  for (j in seq_along(v)) {
    if (is.na(v[j])) next
    if (spec$lb.excl[j] && v[j] <= spec$lb[j])
      .mf_stop(sprintf("Value of '%s[%d]' must be > %s for this type of selection model.", what, j, spec$lb[j]))
    if (!spec$lb.excl[j] && v[j] < spec$lb[j])
      .mf_stop(sprintf("Value of '%s[%d]' must be >= %s for this type of selection model.", what, j, spec$lb[j]))
    if (spec$ub.excl[j] && v[j] >= spec$ub[j])
      .mf_stop(sprintf("Value of '%s[%d]' must be < %s for this type of selection model.", what, j, spec$ub[j]))
    if (!spec$ub.excl[j] && v[j] > spec$ub[j])
      .mf_stop(sprintf("Value of '%s[%d]' must be <= %s for this type of selection model.", what, j, spec$ub[j]))
  }
  invisible(v)
}

.mf_sel_ctrl_num <- function(v, what) {
  if (!is.numeric(v) || length(v) != 1L || is.na(v)) .mf_stop(sprintf("control entry '%s' must be one number.", what))
  v
}

.mf_sel_ctrl_vec <- function(v, default, n, what) {
  if (is.null(v)) v <- default
  if (!is.numeric(v)) .mf_stop(sprintf("control entry '%s' must be numeric.", what))
  if (length(v) == 1L) v <- rep(v, n)
  if (length(v) != n) .mf_stop(sprintf("Argument '%s' should be of length %d for this type of selection model.", what, n))
  if (anyNA(v)) .mf_stop(sprintf("No missing values allowed in '%s'.", what))
  v
}

# The optimiser's settings from `control` (metafor's entries where they exist)
.mf_sel_optcontrol <- function(control, spec, vi, type = "") {
  known <- c("verbose", "delta.init", "beta.init", "tau2.init", "delta.min", "delta.max", "tau2.max", "tau2tol",
             "deltatol", "pval.min", "optimizer", "optmethod", "intCtrl", "maxit", "reltol", "iter.max",
             "eval.max", "rel.tol")
  other <- setdiff(names(control), known)
  if (length(other))
    .mf_stop(sprintf("control entry '%s' of selmodel() is not supported by metafast (see ?selmodel for the entries it uses).", other[1L]))
  optimizer <- if (is.null(control$optimizer)) "optim" else control$optimizer
  optmethod <- if (is.null(control$optmethod)) "BFGS" else control$optmethod
  if (identical(optimizer, "BFGS")) optimizer <- "optim"
  if (!is.character(optimizer) || length(optimizer) != 1L || !optimizer %in% c("optim", "nlminb"))
    .mf_stop("control entry 'optimizer' must be \"optim\" (with optmethod = \"BFGS\") or \"nlminb\" in metafast.")
  if (!identical(optmethod, "BFGS")) .mf_stop("control entry 'optmethod' must be \"BFGS\" in metafast.")
  num <- function(nm, def) if (is.null(control[[nm]])) def else .mf_sel_ctrl_num(control[[nm]], nm)
  # truncest: the likelihood jumps where the cut passes an outcome, and its
  # supremum (the cut just below an outcome) is not attained; metafor's
  # estimate is where optim()'s BFGS, with its finite-difference gradient
  # (ndeps 1e-3) and its default maxit and reltol, stops next to such a jump:
  # the same optimiser, settings and parametrisation give the same estimate
  if (type == "truncest" && optimizer != "optim")
    .mf_stop("type = \"truncest\" is fitted with control entry 'optimizer' = \"optim\" only (its likelihood is not continuous in the cut).")
  numgrad <- type == "truncest"
  list(optimizer = optimizer, maxit = num("maxit", if (numgrad) 100 else 1000),
       reltol = num("reltol", if (numgrad) sqrt(.Machine$double.eps) else 1e-12),
       iter.max = num("iter.max", 1000), eval.max = num("eval.max", 2000), rel.tol = num("rel.tol", 1e-12),
       tau2.max = num("tau2.max", Inf), tau2tol = num("tau2tol", min(vi / 10, 1e-4)),
       deltatol = num("deltatol", 1e-4))
}

.mf_sel_tau2_clamp <- function(t2, tau2.max) {
  t2[t2 < .Machine$double.eps * 10] <- 0
  pmin(t2, tau2.max)
}

# Standardised moderators (non-dummy columns centred and scaled when the model
# has an intercept) and the matrix mX with beta = mX %*% beta.scaled.  An
# ill-conditioned design (offset, badly scaled or nearly collinear columns;
# DESIGN.md, "Ill-conditioned designs") is replaced instead by its orthonormal
# coordinates X~ = X T (.mf_design_transform()), times sqrt(k) so that the
# columns have unit root-mean-square as standardised ones do: mX = sqrt(k) T,
# and the fit's b~ = sqrt(k) beta.scaled are the coordinates of exact Wald
# statistics (R/wald.R), kept in tr.
.mf_sel_scale_X <- function(X, int.only, int.incl) {
  p <- ncol(X)
  tr <- if (p >= 1L && nrow(X) > p) .mf_design_transform(X)
  if (!is.null(tr)) {
    c0 <- sqrt(nrow(X))
    return(list(X = tr$Xt * c0, mX = tr$T * c0, tr = tr, c0 = c0))
  }
  mX <- diag(p)
  if (int.only || !int.incl || p < 2L) return(list(X = X, mX = mX))
  # (0/1 columns exactly: metafor's test, within 1e-8 of 0 or 1, takes a
  # column scaled by 1e-10 for a dummy and leaves it unstandardised, where the
  # optimiser stops early; issue 18)
  dummy <- apply(X, 2L, function(v) all(v == 0 | v == 1))
  Xs <- X
  for (j in 2:p) {
    if (dummy[j]) next
    m <- mean(X[, j])
    s <- stats::sd(X[, j])
    Xs[, j] <- (X[, j] - m) / s
    mX[j, j] <- 1 / s
    mX[1L, j] <- -m / s
  }
  list(X = Xs, mX = mX)
}

# The optimiser's coefficients of beta (beta.scaled = mX^-1 beta; through the
# exact T^-1 = R P' D^-1 for an ill-conditioned design, or from wald, the
# exact coordinates b~ of a fit that has them).
.mf_sel_beta_scaled <- function(scaled, beta, wald = NULL) {
  if (is.null(scaled$tr)) return(c(solve(scaled$mX, beta)))
  if (!is.null(wald) && length(wald$b) == length(beta) && isTRUE(all.equal(wald$RPt, scaled$tr$RPt)))
    return(c(wald$b) / scaled$c0)
  c(scaled$tr$RPt %*% (beta / scaled$tr$D)) / scaled$c0
}

# delta from the optimiser's parameters (metafor's maps)
.mf_sel_delta_from <- function(th, delta.arg, map) {
  n <- length(delta.arg)
  if (map$decreasing) {
    # th[1] is unused (delta_1 = 1); th[-1] are log increments of -log(delta)
    d <- exp(cumsum(c(0, -exp(th[-1L]))))
  } else if (map$defmap) {
    d <- ifelse(map$transf == "exp", exp(th), th)
    d <- pmin(pmax(d, map$delta.min), map$delta.max)
  } else {
    lo <- map$delta.min
    hi <- map$delta.max
    d <- ifelse(lo == 0 & hi == 1, stats::plogis(th), lo + (hi - lo) / (1 + exp(-th)))
    if (any(map$ident)) d[map$ident] <- pmin(pmax(th[map$ident], lo[map$ident]), hi[map$ident])
  }
  d <- ifelse(is.na(delta.arg), d, delta.arg)
  if (map$decreasing && any(!is.na(delta.arg[-1L]))) d <- rev(cummax(rev(d)))
  d
}

.mf_sel_delta_to <- function(d, map) {
  if (map$decreasing) return(d)  # metafor starts decreasing steps at delta.init on the log-increment scale
  if (map$defmap) return(ifelse(map$transf == "exp", log(d), d))
  lo <- map$delta.min
  hi <- map$delta.max
  out <- ifelse(lo == 0 & hi == 1, stats::qlogis(d), log((d - lo) / (hi - d)))
  if (any(map$ident)) out[map$ident] <- d[map$ident]
  out
}

# Maximise the log-likelihood over the free parameters: beta (scaled X),
# log tau2 (unless fixed) and the mapped free deltas.
.mf_sel_optimise <- function(llfun, p, beta.init, tau2.init, tau2.arg, delta.init, delta.arg, map, opt, verbose,
                             digits) {
  free.d <- is.na(delta.arg)
  if (map$decreasing) free.d[1L] <- FALSE
  tau2.free <- is.na(tau2.arg)
  d0 <- .mf_sel_delta_to(delta.init, map)
  # (metafor starts a fixed delta at its value; with decreasing steps that value
  # enters the cumulative sum of increments)
  d0 <- ifelse(is.na(delta.arg), d0, delta.arg)
  th0 <- c(beta.init, if (tau2.free) tau2.init, d0[free.d])
  dfull <- d0
  natural <- function(th) {
    b <- th[seq_len(p)]
    t2 <- if (tau2.free) .mf_sel_tau2_clamp(exp(th[p + 1L]), map$tau2.max) else tau2.arg
    dd <- dfull
    dd[free.d] <- th[p + tau2.free + seq_len(sum(free.d))]
    c(b, t2, .mf_sel_delta_from(dd, delta.arg, map))
  }
  negll <- function(Th) {
    P <- apply(Th, 2L, natural)
    if (!is.matrix(P)) P <- matrix(P, ncol = ncol(Th))
    -llfun(P)
  }
  f <- function(th) {
    v <- negll(matrix(th, ncol = 1L))
    if (verbose) cat("ll = ", formatC(-v, format = "f", digits = digits), "  ", paste(formatC(natural(th), format = "f", digits = digits), collapse = " "), "\n", sep = "")
    if (is.nan(v)) Inf else v
  }
  g <- function(th) {
    n <- length(th)
    h <- 1e-5 * pmax(1, abs(th))
    Th <- matrix(th, n, 2L * n)
    for (i in seq_len(n)) {
      Th[i, 2L * i - 1L] <- th[i] + h[i]
      Th[i, 2L * i] <- th[i] - h[i]
    }
    v <- negll(Th)
    out <- (v[2L * seq_len(n) - 1L] - v[2L * seq_len(n)]) / (2 * h)
    out[!is.finite(out)] <- 0
    out
  }
  f0 <- negll(matrix(th0, ncol = 1L))
  if (!is.finite(f0)) {
    bad <- attr(f0, "failed")
    .mf_stop(if (!is.null(bad) && bad > 0) sprintf("Could not integrate over density in study %d at the starting values (see control entries delta.init, tau2.init, beta.init).", bad)
             else "The log-likelihood is not finite at the starting values (see control entries delta.init, tau2.init, beta.init).")
  }
  if (isTRUE(map$numgrad)) {
    r <- stats::optim(th0, f, method = "BFGS", control = list(maxit = opt$maxit, reltol = opt$reltol))
    conv <- r$convergence
    iters <- r$counts[["function"]]
    val <- r$value
  } else if (opt$optimizer == "optim") {
    r <- stats::optim(th0, f, g, method = "BFGS", control = list(maxit = opt$maxit, reltol = opt$reltol))
    conv <- r$convergence
    iters <- r$counts[["function"]]
    val <- r$value
    if (conv == 1L) {
      # BFGS creeping towards a bound of a mapped parameter (e.g. the weight of
      # an empty interval going to 0) reaches maxit; nlminb from there stops on
      # its relative function tolerance
      r2 <- stats::nlminb(r$par, f, g, control = list(iter.max = opt$iter.max, eval.max = opt$eval.max,
                                                      rel.tol = opt$rel.tol))
      if (r2$convergence == 0L && r2$objective <= r$value) {
        r <- list(par = r2$par)
        conv <- 0L
        val <- r2$objective
        iters <- iters + r2$evaluations[["function"]]
      } else if (!is.null(b0 <- .mf_sel_tau2_boundary(llfun, p, beta.init, tau2.init, tau2.arg, delta.init, delta.arg,
                                                       map, opt, digits, -r$value))) {
        # log(tau2) running to -Inf: the maximum is on the boundary tau2 = 0
        return(b0)
      } else {
        r3 <- stats::optim(r$par, f, g, method = "BFGS", control = list(maxit = 100, reltol = opt$reltol))
        # still moving: accept when a parameter is next to a bound of its
        # range (an estimate on the boundary, e.g. the weight of an empty
        # interval going to 0, drags the others along slowly; the bounds
        # warning follows)
        nat <- natural(r3$par)
        dd <- nat[-seq_len(p + 1L)]
        near <- (dd - map$delta.min <= 1e-3 * pmax(1, abs(map$delta.min))) |
          (map$delta.max - dd <= 1e-3 * pmax(1, abs(map$delta.max)))
        at_bound <- near[free.d]
        if (any(at_bound)) {
          r <- r3
          conv <- 0L
          val <- r3$value
        }
      }
    }
  } else {
    r <- stats::nlminb(th0, f, g, control = list(iter.max = opt$iter.max, eval.max = opt$eval.max, rel.tol = opt$rel.tol))
    conv <- r$convergence
    iters <- r$iterations
    val <- r$objective
  }
  if (conv != 0)
    .mf_stop(sprintf("Optimizer (%s) did not achieve convergence (convergence = %d); see control entries maxit / iter.max.",
                     opt$optimizer, conv))
  par <- natural(r$par)
  if (tau2.free && !isTRUE(map$numgrad) && par[p + 1L] < 10 * map$tau2.h) {
    # converged with log(tau2) far down its slope: the maximum may be on the
    # boundary tau2 = 0, a little higher than where BFGS stopped
    b0 <- .mf_sel_tau2_boundary(llfun, p, beta.init, tau2.init, tau2.arg, delta.init, delta.arg, map, opt, digits,
                                -val)
    if (!is.null(b0) && b0$ll > -val) return(b0)
  }
  ll <- -negll(matrix(r$par, ncol = 1L))
  if (!is.finite(ll)) .mf_stop("Error during the optimization: the log-likelihood is not finite at the solution.")
  list(ll = c(ll), beta = par[seq_len(p)], tau2 = par[p + 1L], delta = par[-seq_len(p + 1L)],
       convergence = list(optimizer = opt$optimizer, code = conv, evaluations = iters, value = val))
}

# type = "stepcon": the maximum over non-increasing weights
# 1 = delta_1 >= delta_2 >= ... >= delta_n >= 0 (metafor finds it with a
# constrained optimiser, Rsolnp's solnp()).  The maximum lies in the relative
# interior of a face of this cone, i.e. where some adjacent weights are tied;
# with ties the model is a step function on merged intervals (fewer free
# weights, each in (0, 1) by metafor's logistic map).  The fit without ties
# is tried first: when its weights are non-increasing it is the maximum;
# otherwise every pattern of ties is fitted and the best fit whose weights
# are non-increasing is the maximum.
.mf_sel_optimise_stepcon <- function(llfun, p, beta.init, tau2.init, tau2.arg, delta.init, delta.arg, map, opt,
                                     verbose, digits) {
  n <- length(delta.arg)
  feasible <- function(d) all(diff(d) <= 1e-8)
  fit_pattern <- function(tie) {
    grp <- cumsum(c(TRUE, !tie))  # tie[j - 1]: delta_j = delta_(j-1)
    G <- max(grp)
    gval <- vapply(seq_len(G), function(g) {
      v <- unique(delta.arg[grp == g & !is.na(delta.arg)])
      if (length(v) > 1L) NaN else if (length(v) == 1L) v else NA_real_
    }, 0)
    if (any(is.nan(gval))) return(NULL)
    first <- match(seq_len(G), grp)
    m2 <- map
    m2$delta.min <- map$delta.min[first]
    m2$delta.max <- map$delta.max[first]
    m2$transf <- map$transf[first]
    m2$ident <- rep(FALSE, G)
    rows <- c(seq_len(p + 1L), p + 1L + grp)
    ll2 <- function(P) llfun(P[rows, , drop = FALSE])
    f <- tryCatch(.mf_sel_optimise(ll2, p, beta.init, tau2.init, tau2.arg, delta.init[first], gval, m2, opt,
                                   verbose, digits), error = function(e) NULL)
    if (is.null(f)) return(NULL)
    f$delta <- f$delta[grp]
    f
  }
  best <- fit_pattern(rep(FALSE, n - 1L))
  if (!is.null(best) && feasible(best$delta)) return(best)
  best <- NULL
  for (code in seq_len(2^(n - 1L) - 1L)) {
    tie <- as.logical(bitwAnd(code, 2^(seq_len(n - 1L) - 1L)))
    f <- fit_pattern(tie)
    if (is.null(f) || !feasible(f$delta)) next
    if (is.null(best) || f$ll > best$ll) best <- f
  }
  if (is.null(best)) .mf_stop("Optimizer did not achieve convergence for any pattern of tied weights (type = \"stepcon\").")
  best
}

# The maximum on the boundary tau2 = 0 (when the free fit, on the log scale
# of tau2, does not converge): the fit with tau2 = 0 is the maximum when its
# log-likelihood is at least that of the free fit and the one-sided
# derivative in tau2 at 0 (the other parameters at their fit) is not
# positive (the Kuhn-Tucker condition).  NULL otherwise.
.mf_sel_tau2_boundary <- function(llfun, p, beta.init, tau2.init, tau2.arg, delta.init, delta.arg, map, opt, digits,
                                  ll.free) {
  if (!is.na(tau2.arg)) return(NULL)
  fit0 <- tryCatch(.mf_sel_optimise(llfun, p, beta.init, tau2.init, 0, delta.init, delta.arg, map, opt, 0, digits),
                   error = function(e) NULL)
  if (is.null(fit0) || !(fit0$ll >= ll.free - 1e-8 * max(1, abs(ll.free)))) return(NULL)
  h <- map$tau2.h
  P <- cbind(c(fit0$beta, 0, fit0$delta), c(fit0$beta, h, fit0$delta))
  v <- llfun(P)
  if (!all(is.finite(v))) return(NULL)
  g <- (v[2L] - v[1L]) / h
  # (h is 1e-5 min(vi): g min(vi) is the score on the scale of the variances)
  if (g * h / 1e-5 > 1e-6 * max(1, abs(fit0$ll))) return(NULL)
  fit0$convergence$boundary <- "tau2 = 0"
  fit0
}

# Hessian of f (a function of a matrix of parameter columns, returning a
# value per column) at x over the components `which`, by central differences
# at steps h / 2^m (m = 0, ..., r - 1) combined by Richardson extrapolation
# (errors in h^2, h^4, ...).  Steps h = d max(|x|, 0.01), or d |x| for
# parameters that must stay positive (tau2, step weights).  (Steps relative to
# |x| alone, numDeriv's default, lose most digits to rounding for a
# coefficient near 0.)
.mf_hessian_richardson <- function(f, x, which = rep(TRUE, length(x)), positive = rep(FALSE, length(x)),
                                   d = 0.01, r = 4L) {
  n <- length(x)
  idx <- which(which)
  m <- length(idx)
  H <- matrix(NA_real_, n, n)
  f0 <- c(f(matrix(x, ncol = 1L)))
  h0 <- ifelse(positive & x > 0, d * abs(x), d * pmax(abs(x), 0.01))
  est <- array(NA_real_, c(m, m, r))
  for (lev in seq_len(r)) {
    h <- h0 / 2^(lev - 1L)
    cols <- list()
    add <- function(dx) cols[[length(cols) + 1L]] <<- x + dx
    for (a in seq_len(m)) {
      i <- idx[a]
      e <- numeric(n); e[i] <- h[i]
      add(e); add(-e)
    }
    for (a in seq_len(m)) for (b in seq_len(m)) if (b > a) {
      i <- idx[a]; j <- idx[b]
      ei <- numeric(n); ei[i] <- h[i]
      ej <- numeric(n); ej[j] <- h[j]
      add(ei + ej); add(ei - ej); add(-ei + ej); add(-ei - ej)
    }
    v <- f(do.call(cbind, cols))
    pos <- 0L
    for (a in seq_len(m)) {
      i <- idx[a]
      est[a, a, lev] <- (v[pos + 1L] - 2 * f0 + v[pos + 2L]) / h[i]^2
      pos <- pos + 2L
    }
    for (a in seq_len(m)) for (b in seq_len(m)) if (b > a) {
      i <- idx[a]; j <- idx[b]
      val <- (v[pos + 1L] - v[pos + 2L] - v[pos + 3L] + v[pos + 4L]) / (4 * h[i] * h[j])
      est[a, b, lev] <- est[b, a, lev] <- val
      pos <- pos + 4L
    }
  }
  # Richardson: each level halves h; the error series is in h^2, h^4, ...
  for (l in seq_len(r - 1L)) {
    fac <- 4^l
    for (lev in seq_len(r - l)) est[, , lev] <- (fac * est[, , lev + 1L] - est[, , lev]) / (fac - 1)
  }
  H[idx, idx] <- est[, , 1L]
  H
}

# Number of p-values per interval of the step function, metafor's row names
.mf_sel_ptable <- function(pgrp, steps) {
  left <- as.character(c(0, steps[-length(steps)]))
  left <- formatC(left, width = max(nchar(left)), flag = "-")
  labs <- paste0(left, " < p <= ", as.character(steps))
  data.frame(k = tabulate(pgrp, nbins = length(steps)), row.names = labs)
}

# metafor's fits through our selmodel() generic reach metafor's method (see
# R/metafor-interop.R; this file is read after it)
.mf_shared_generics <- c(.mf_shared_generics, "selmodel")
