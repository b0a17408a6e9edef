# Bootstrap of a fitted model: the C++ kernel (src/core/bootstrap.hpp) refits
# every replicate; confidence intervals as boot::boot.ci defines them
# (Davison & Hinkley 1997, ch. 5).

#' Bootstrap a fitted meta-analytic model
#'
#' Case (non-parametric) or parametric bootstrap of the coefficients, tau^2,
#' I^2 and H^2 of a model fitted by \code{\link{rma}}.  Every replicate is
#' refitted in C++ with the same estimator, test and solver settings as the
#' original fit.  The replicates are threaded and reproducible: one seed is
#' drawn from R's generator (so \code{set.seed()} fixes the result) and
#' replicate r draws from its own counter-based stream, so the result is
#' bit-identical for any number of threads or future workers.
#'
#' Case resampling draws k studies with replacement.  With \code{cluster},
#' it draws whole clusters instead: as many clusters as there are, with
#' replacement, each bringing all its rows (the cluster or block bootstrap;
#' Davison & Hinkley 1997, sec. 3.8; Field & Welsh 2007), and the jackknife
#' for BCa intervals leaves out one cluster at a time.  The parametric bootstrap
#' simulates \eqn{y^* = X b + e}, \eqn{e_i \sim N(0, v_i + \hat\tau^2)}, from
#' the fitted model.  I^2 and H^2 are computed from each replicate as
#' \code{rma()} does (the typical sampling variance of the replicate; from QE
#' for the equal-effects model).  A replicate that cannot be fitted (a
#' rank-deficient resampled model matrix, tau^2 not estimable, no
#' convergence) gives a row of \code{NA} in \code{t}; these are counted in
#' \code{failed} and reported with a warning.
#'
#' For a model fitted by \code{\link{rma.mv}} (\code{cluster} required,
#' case bootstrap only) the statistics are the coefficients and the variance
#' components (\code{sigma2.1}, ..., or those of the structure).  Each drawn
#' cluster brings all its rows, its sampling covariances and its levels of
#' the random factors; a cluster drawn twice enters as two independent
#' clusters (as if its levels were relabelled), and every replicate is refitted
#' (REML or ML, from the fit's variance components as starting values) by the
#' block engine in C++.  The clusters must contain whole levels of the
#' random factors (e.g. the study of a three-level model).  With
#' \code{~ inner | outer} terms (any \code{struct}) each replicate is set up
#' as \code{rma.mv()} sets up a fit of the resampled data: the levels of the
#' inner factor are those drawn (a component of a level that no drawn cluster
#' holds is \code{NA} in \code{t}, with a warning; AR and HAR take the drawn
#' levels as equally spaced), metafor's rules fix what the drawn rows cannot
#' identify (a level in one outer level only, pairs of levels that never
#' meet, a single level), and UN is fitted on metafor's scale, that of the
#' Cholesky factor (with some components fixed and the estimated correlations
#' forming a cycle among the levels, the fixed values overwriting those of
#' the factor's product, as \code{rma.mv()} fits them).  These refits also
#' start from the default starting values (and, with a Cholesky factor, from
#' \code{rma.mv()}'s start of it) and keep the fit of higher likelihood.
#' GEN, GDIAG and
#' spatial terms (struct SPEXP, SPGAU, SPLIN, SPRAT, SPSPH) belong to the
#' rows (inner design, coordinates or distances), so every replicate is
#' refitted with the fit's term (GEN on metafor's scale as UN, an estimated
#' range as log(rho)); drawn data on
#' which metafor's \code{rma.mv()} cannot set the term up (an inner term with
#' a single distinct row, every outer level with one row for a spatial term,
#' a column of the inner design that is zero in every drawn row) give
#' \code{NA}.  Beside an \code{~ inner | outer} term of another structure
#' each term is set up by its own rules: the replicates that metafor sets up
#' otherwise are refitted with the other term's set-up and the GEN, GDIAG or
#' spatial term as in the fit.
#'
#' For a selection model fitted by \code{\link{selmodel}} the statistics
#' are the adjusted coefficients, \eqn{\tau^2} (when estimated) and the
#' estimated selection parameters (\code{delta.2}, ... of a step function).
#' The case bootstrap draws k studies with replacement (a precision measure
#' \code{prec} is rescaled within each replicate, as \code{selmodel()} on the
#' resampled data would do); the parametric bootstrap draws each outcome,
#' with its observed \eqn{v_i}, from the fitted selection model, whose
#' density is \eqn{w(p_i) \phi(y_i; x_i'\beta, v_i + \tau^2) / A_i}
#' (Hedges 1992; Vevea & Hedges 1995), by rejection sampling: \eqn{y \sim
#' N(x_i'\beta, v_i + \tau^2)} accepted with probability \eqn{w(p(y)) /
#' \max w}.  Each replicate is refitted by maximum likelihood in C++ (projected
#' BFGS over \eqn{\beta}, \eqn{\tau^2 \ge 0} and \eqn{\delta} within
#' \code{delta.min}/\code{delta.max}, warm-started at the fit's estimate;
#' the estimate may lie on a bound, e.g. a weight of 0 for an interval of a
#' step function that holds no p-value in the replicate, counted in the
#' printout).  A replicate whose refit does not converge is \code{NA},
#' counted in \code{failed} and reported with a warning giving the reasons
#' (\code{$selmodel$code}: 1 no convergence, 2 log-likelihood not finite, 3
#' line search failed, 4 rejection sampler exhausted, 5 fewer studies than
#' parameters).  Non-increasing step weights (\code{decreasing = TRUE},
#' \code{type = "stepcon"}) are refitted over the closed cone
#' \eqn{1 \ge \delta_2 \ge \dots \ge 0} (a box in the ratios of adjacent
#' weights, so ties and zero weights are reached exactly; every weight but the
#' first must be estimated and \code{delta.min}/\code{delta.max} left at 0
#' and 1).  For \code{type = "truncest"} the likelihood jumps where the cut
#' passes an outcome: a replicate's estimate is the supremum of the
#' likelihood, the best of the maxima of its smooth pieces between adjacent
#' outcomes (the cut within metafor's data-dependent range), so its cut is
#' typically an outcome of the replicate.  The fit itself (\code{t0}) stays
#' \code{selmodel()}'s, as metafor's: where the optimiser stops next to a
#' jump, whose log-likelihood can lie below the supremum (by 0.035 and 0.06
#' on \code{dat.hackshaw1998} with \code{alternative = "greater"} and
#' \code{"less"}), so \code{t0} and the replicates are not the same
#' estimator there.  With
#' \code{cluster} (case bootstrap only) whole clusters are drawn, the
#' replicate's number of studies varies, and the jackknife (BCa) leaves out
#' one cluster at a time.
#'
#' @param x a model fitted by \code{\link{rma}}, \code{\link{rma.mv}} or
#'   \code{\link{selmodel}}.
#' @param R number of bootstrap replicates.
#' @param type \code{"case"} (resample studies) or \code{"parametric"}.
#' @param threads number of threads (default: option \code{metafast.threads},
#'   else half the cores; small runs use one thread).
#' @param parallel \code{"no"}, or \code{"future"} to split the replicates
#'   over the workers of the current \code{future::plan()} (needs the
#'   \pkg{future.apply} package); the result is identical to \code{"no"}.
#' @param progress show a progress bar (needs \pkg{progressr}; use
#'   \code{progressr::handlers()} to choose its look).
#' @param cluster optional clustering variable (evaluated in the data of the
#'   fit, of the length of the original data as in \code{leave1out()}): case
#'   resampling then draws whole clusters.  Missing values in the rows of the
#'   fit and a single cluster are errors.
#' @param ... ignored.
#' @return An object of class \code{mf_boot}: \code{t0} (the statistics of the
#'   fit), \code{t} (R x q matrix of replicates), \code{R}, \code{seed},
#'   \code{type}, \code{failed} (number of failed replicates), \code{jack}
#'   (leave-one-out statistics, for BCa intervals; case bootstrap only;
#'   one row per cluster with \code{cluster}), \code{cluster} (the sorted
#'   cluster values, or \code{NULL}),
#'   \code{call} and the data needed by \code{\link{as.boot}}; for a
#'   selection model also \code{selmodel}: per replicate the refit's
#'   \code{code} (0 converged), log-likelihood \code{ll}, \code{iterations}
#'   and the number of \code{empty} intervals of a step function.
#' @references Davison AC, Hinkley DV (1997). \emph{Bootstrap Methods and
#'   their Application}. Cambridge University Press.
#'   Field CA, Welsh AH (2007). Bootstrapping clustered data. \emph{J R
#'   Stat Soc B} 69:369-390.
#'   Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a
#'   meta-analysis. \emph{Stat Med} 21:1539-1558.
#'   Hedges LV (1992). Modeling publication selection effects in
#'   meta-analysis. \emph{Statistical Science} 7:246-255.
#'   Vevea JL, Hedges LV (1995). A general linear model for estimating effect
#'   size in the presence of publication bias. \emph{Psychometrika}
#'   60:419-435.
#'   Devroye L (1986). \emph{Non-Uniform Random Variate Generation}, sec.
#'   II.3 (rejection). Springer.
#' @seealso \code{\link{confint.mf_boot}}, \code{\link{as.boot}}
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02))
#' fit <- rma(yi, vi, data = dat)
#' set.seed(1)
#' b <- boot_rma(fit, R = 200, progress = FALSE)
#' b
#' confint(b, type = "perc")
#' # whole clusters (here: pairs of studies) resampled
#' set.seed(1)
#' boot_rma(fit, R = 200, cluster = rep(1:4, each = 2), progress = FALSE)
#' # the adjusted estimate of a three-parameter selection model
#' sel <- selmodel(rma(yi, vi, data = dat, method = "ML"), type = "stepfun", steps = 0.025)
#' set.seed(1)
#' bs <- boot_rma(sel, R = 200, progress = FALSE)
#' confint(bs, parm = "intrcpt", type = "perc")
#' @export
boot_rma <- function(x, R = 1000, type = c("case", "parametric"), threads = NULL,
                     parallel = c("no", "future"), progress = interactive(), cluster, ...) {
  cl <- match.call()
  type <- match.arg(type)
  if (inherits(x, "mf_selmodel"))
    return(.mf_boot_selmodel(x, R, type, threads, parallel, progress, if (missing(cluster)) NULL else substitute(cluster),
                             parent.frame(), cl, list(...)))
  if (inherits(x, "mf_rma_mv"))
    return(.mf_boot_rma_mv(x, R, type, threads, parallel, progress, if (missing(cluster)) NULL else substitute(cluster),
                           parent.frame(), cl, list(...)))
  d <- .mf_resample_input(x)
  d$offsets <- NULL
  d$ids <- NULL
  d$n.units <- d$k
  if (!missing(cluster)) {
    if (type != "case")
      .mf_stop("'cluster' applies to the case bootstrap (type = \"case\"); the parametric bootstrap simulates every study.")
    d <- .mf_cluster_units(d, .mf_cluster_rows(x, substitute(cluster), parent.frame()))
  }
  bs <- .mf_boot_setup(R, threads, parallel, progress, list(...))
  parallel <- bs$parallel
  R <- bs$R
  nthreads <- bs$nthreads
  random.seed <- bs$random.seed
  seed <- bs$seed

  t0 <- .mf_boot_stat(d$yi, d$vi, d$X, d$weights, seq_len(d$n.units), d$method, d$test, d$control, d$offsets)
  if (anyNA(t0)) .mf_stop("The model cannot be refitted from its own data; no bootstrap is possible.")
  beta <- t0[seq_len(d$p)]
  tau2 <- t0[[d$p + 1L]]
  type_code <- if (type == "case") 0L else 1L
  kernel <- function(start, end, nthreads, prog) {
    .mf_boot_kernel(d$yi, d$vi, d$X, d$weights, d$method, d$test, d$control, type_code,
                    beta, tau2, seed, start, end, nthreads, prog, d$offsets)
  }
  t <- .mf_run_replicates(kernel, R, parallel, nthreads, progress)
  failed <- sum(!stats::complete.cases(t))
  if (failed > 0L)
    warning(sprintf("%d of %d bootstrap replicates could not be fitted (rank-deficient resample, tau^2 not estimable or no convergence); they are NA in $t.",
                    failed, R), call. = FALSE)
  jack <- if (type == "case") {
    .mf_jack_kernel(d$yi, d$vi, d$X, d$weights, d$method, d$test, d$control,
                    .mf_threads(threads, n_work = d$n.units, min_per_thread = 16L), d$offsets)
  } else NULL
  res <- list(t0 = t0, t = t, R = R, seed = seed, type = type, failed = failed, jack = jack,
              threads = nthreads, parallel = parallel, call = cl,
              yi = d$yi, vi = d$vi, X = d$X, weights = d$weights,
              cluster = d$ids, offsets = d$offsets,
              method = x$method, test = x$test, control = d$control,
              random.seed = random.seed, digits = if (is.null(x$digits)) 4L else x$digits)
  class(res) <- "mf_boot"
  res
}

# The cluster bootstrap of an rma.mv() fit (C++: mv_boot_run in
# core/refit_mv.hpp): whole clusters drawn with replacement, each copy of a
# cluster its own blocks (independent random effects), the model refitted from
# the fit's variance components; the statistics are the coefficients and the
# variance components (theta).  The jackknife of the BCa intervals leaves out
# one cluster at a time (the case-deletion kernel).
.mf_boot_rma_mv <- function(x, R, type, threads, parallel, progress, cl_expr, env, call, dots) {
  if (type != "case")
    .mf_stop("boot_rma() of an rma.mv() fit supports only the case bootstrap of whole clusters (type = \"case\" with 'cluster').")
  if (is.null(cl_expr))
    .mf_stop("boot_rma() of an rma.mv() fit resamples whole clusters: give 'cluster' (e.g. the study identifier).")
  u <- .mf_mv_units_sorted(x, cl_expr, env)
  spec <- x$mf.spec
  terms <- !is.null(spec$structure$terms)
  if (terms && is.null(spec$structure$user))
    .mf_stop("This rma.mv() fit was made by an older version of metafast; refit it to bootstrap it.")
  # GEN, GDIAG and spatial terms (R/boot-rma-mv-gen-sp.R), other terms
  # (R/boot-rma-mv-terms.R), or both
  gsp.t <- if (terms) vapply(spec$structure$terms, function(tm) tm$type >= 10L, NA) else logical(0)
  gsp <- any(gsp.t)
  unit <- as.integer(u$unit[spec$order])
  # every block of the engine (the rows that share random effects) in one cluster
  blk <- .mf_mv_spec_blocks(spec)
  cut <- vapply(split(unit, blk), function(v) any(v != v[1L]), logical(1))
  if (any(cut)) {
    rows <- sort(spec$order[blk == which(cut)[1L]])
    .mf_stop(sprintf("'cluster' does not nest the random effects: rows that share random effects (e.g. %s of the fit) fall into several clusters; give a cluster (e.g. the outer factor) that contains whole levels.",
                     .mf_rows(seq_len(x$k) %in% rows)))
  }
  bs <- .mf_boot_setup(R, threads, parallel, progress, dots, min_per_thread = 2L)
  parallel <- bs$parallel
  R <- bs$R
  nthreads <- bs$nthreads
  random.seed <- bs$random.seed
  seed <- bs$seed
  theta <- as.double(.mf_mv_theta(x))
  con <- x$control
  reml <- x$method == "REML"
  t0 <- c(c(x$beta), theta)
  names(t0) <- c(rownames(x$beta), .mf_mv_theta_names(x, length(theta)))
  mv <- list(spec = spec, unit = unit, n = as.integer(u$n), theta = theta, reml = reml, control = con)
  if (terms) {
    # '~ inner | outer' terms, each transformed by its kind: GEN/GDIAG and
    # UN on the Cholesky scale and ranges on the log scale, as metafor fits
    # them; with terms other than GEN, GDIAG and spatial (theta.vr), the
    # replicates that metafor sets up otherwise are refitted afterwards
    spec$refit.restart <- TRUE
    b <- .mf_boot_mv_scale(spec, theta)
    mv$spec <- b$spec
    mv$nat.structure <- spec$structure  # (the fit's terms; the data stay in mv$spec only)
    mv$theta <- b$start
    mv$gts <- b$gts
    mv$gsp <- gsp
    if (!all(gsp.t)) mv$theta.vr <- theta
  }
  kernel <- function(start, end, nthreads, prog) {
    r <- .mf_rma_mv_boot(mv$spec, unit, mv$n, mv$theta, reml, con$threshold, as.integer(con$maxiter), con$stepadj,
                         seed, start, end, nthreads, prog, NULL, terms)
    if (terms) cbind(r$t, t(r$index)) else r$t
  }
  t <- .mf_run_replicates(kernel, R, parallel, nthreads, progress)
  absent <- 0L
  if (terms) {
    q <- length(t0)
    draws <- t(t[, q + seq_len(mv$n), drop = FALSE])
    storage.mode(draws) <- "integer"
    t <- .mf_boot_mv_post(mv, draws, t[, seq_len(q), drop = FALSE], threads)
    absent <- sum(attr(t, "absent"))
    attr(t, "absent") <- NULL
  }
  colnames(t) <- names(t0)
  failed <- sum(!stats::complete.cases(t[, seq_len(ncol(x$X)), drop = FALSE]))
  if (failed > 0L)
    warning(sprintf("%d of %d bootstrap replicates could not be fitted (rank-deficient resample or no convergence%s); they are NA in $t.",
                    failed, R, if (gsp) ", or drawn clusters on which metafor's rma.mv() cannot set up the GEN, GDIAG or spatial term" else ""),
            call. = FALSE)
  if (absent > 0L)
    warning(sprintf("In %d of %d bootstrap replicates some level of an inner factor of an '~ inner | outer' term is not among the drawn clusters; metafor's refit on those data has no component for it, so it is NA in $t.",
                    absent, R), call. = FALSE)
  jth <- .mf_threads(threads, n_work = u$n, min_per_thread = 4L)
  if (terms) {
    # metafor's rules per subset (the case-deletion refits of leave1out(cluster =))
    jk <- tryCatch(.mf_mv_cd_run(x, u, TRUE, FALSE, FALSE, threads, FALSE), error = function(e) NULL)
    if (is.null(jk)) jk <- list(ok = rep(FALSE, u$n), beta = matrix(NA_real_, u$n, ncol(x$X)),
                                theta = matrix(NA_real_, u$n, length(theta)))
  } else {
    jk <- .mf_rma_mv_deletion(spec, unit, as.integer(u$n), theta, reml, TRUE, con$threshold, as.integer(con$maxiter),
                              con$stepadj, FALSE, FALSE, jth, NULL)
  }
  jack <- cbind(jk$beta, jk$theta)
  jack[!jk$ok, ] <- NA_real_
  colnames(jack) <- names(t0)
  res <- list(t0 = t0, t = t, R = R, seed = seed, type = type, failed = failed, jack = jack,
              threads = nthreads, parallel = parallel, call = call, cluster = u$ids, offsets = NULL,
              mv = mv,
              method = x$method, test = x$test, control = con,
              random.seed = random.seed, digits = if (is.null(x$digits)) 4L else x$digits)
  class(res) <- "mf_boot"
  res
}

# Names of the variance components of an rma.mv() fit as statistics:
# sigma2.1, ... (the nested model), else those of $mf.theta (theta.1, ...
# when it has none).
.mf_mv_theta_names <- function(x, q) {
  if (is.null(x$mf.theta) || !isTRUE(x$withG) && !isTRUE(x$withH))  # sigma2 components only
    return(if (q == 1L) "sigma2" else paste0("sigma2.", seq_len(q)))
  nm <- names(x$mf.theta)
  if (!is.null(nm) && length(nm) == q && all(nzchar(nm))) return(nm)
  # sigma2, then per '~ inner | outer' term its variances and correlations
  # (tau2/rho, gamma2/phi; numbered when there are several)
  num <- function(s, n) if (n == 1L) s else if (n > 1L) paste0(s, ".", seq_len(n)) else character(0)
  tms <- x$mf.spec$structure$terms
  nm <- num("sigma2", if (isTRUE(x$withS)) length(x$sigma2) else 0L)
  for (t in seq_along(tms))
    nm <- c(nm, num(if (t == 1L) "tau2" else "gamma2", tms[[t]]$n_v), num(if (t == 1L) "rho" else "phi", tms[[t]]$n_r))
  if (length(nm) != q) paste0("theta.", seq_len(q)) else nm
}

#' @rdname boot_rma
#' @param digits number of decimals to print.
#' @export
print.mf_boot <- function(x, digits = x$digits, ...) {
  cat("\n", if (x$type == "case") "Case (non-parametric)" else "Parametric",
      if (is.null(x$selmodel)) paste0(" bootstrap of a meta-analytic model (method ", x$method, ")")
      else paste0(" bootstrap of a selection model (type ", x$selmodel$type, ", method ", x$method, ")"),
      "\n\n", sep = "")
  if (!is.null(x$cluster)) cat("Resampled units: ", length(x$cluster), " clusters\n", sep = "")
  cat("Replicates: ", x$R, if (x$failed > 0) sprintf(" (%d failed, NA)", x$failed) else "", "\n", sep = "")
  if (!is.null(x$selmodel) && any(x$selmodel$empty > 0))
    cat("Replicates with an interval of the step function without p-values: ", sum(x$selmodel$empty > 0), "\n", sep = "")
  cat("\n")
  ok <- x$t
  tab <- data.frame(original = x$t0,
                    bias = colMeans(ok, na.rm = TRUE) - x$t0,
                    std.error = apply(ok, 2L, stats::sd, na.rm = TRUE))
  print(round(as.matrix(tab), digits))
  cat("\n")
  invisible(x)
}

# Quantiles of the replicates as boot::boot.ci defines them: order
# statistics at (R + 1) alpha, interpolated on the normal quantile scale
# between neighbouring order statistics (Davison & Hinkley 1997, eq. 5.8).
.mf_norm_inter <- function(t, alpha) {
  t <- sort(t[is.finite(t)])
  R <- length(t)
  rk <- (R + 1) * alpha
  if (!all(rk > 1 & rk < R))
    warning("extreme order statistics used as endpoints", call. = FALSE)
  k <- trunc(rk)
  out <- numeric(length(alpha))
  for (i in seq_along(alpha)) {
    if (k[i] == 0) {
      out[i] <- t[1L]
    } else if (k[i] >= R) {
      out[i] <- t[R]
    } else if (k[i] == rk[i]) {
      out[i] <- t[k[i]]
    } else {
      z <- stats::qnorm(c(alpha[i], k[i] / (R + 1), (k[i] + 1) / (R + 1)))
      out[i] <- t[k[i]] + (z[1L] - z[2L]) / (z[3L] - z[2L]) * (t[k[i] + 1L] - t[k[i]])
    }
  }
  out
}

.mf_parm <- function(parm, names) {
  if (missing(parm) || is.null(parm)) return(seq_along(names))
  if (is.character(parm)) {
    idx <- match(parm, names)
    if (anyNA(idx))
      .mf_stop(sprintf("'parm' names unknown statistic(s) %s; the statistics are %s.",
                       paste0("'", parm[is.na(idx)], "'", collapse = ", "), paste(names, collapse = ", ")))
    return(idx)
  }
  if (!is.numeric(parm) || anyNA(parm) || any(parm < 1 | parm > length(names) | parm != round(parm)))
    .mf_stop(sprintf("'parm' must hold statistic numbers between 1 and %d or their names.", length(names)))
  as.integer(parm)
}

#' Bootstrap confidence intervals
#'
#' Percentile, basic, normal and BCa intervals from the replicates of
#' \code{\link{boot_rma}}, defined exactly as \code{boot::boot.ci()} defines
#' them (order statistics at (R + 1) alpha with normal-scale interpolation;
#' the normal interval corrected for bias; BCa with bias correction
#' \eqn{z_0 = \Phi^{-1}(\#\{t^* < t_0\}/R)} and the acceleration from the
#' jackknife, \eqn{a = \sum L_i^3 / (6 (\sum L_i^2)^{3/2})}, with
#' \eqn{L_i = (k - 1)(t_0 - t_{(-i)})}).  Replicates that failed (\code{NA})
#' are left out, as \code{boot.ci()} does.
#'
#' @param object an object of class \code{mf_boot}.
#' @param parm statistics (numbers or names; default all).
#' @param level confidence level (0.95 or 95).
#' @param type \code{"perc"}, \code{"basic"}, \code{"norm"} or \code{"bca"}.
#' @param ... ignored.
#' @return A matrix with one row per statistic and columns \code{estimate}
#'   (the original statistic), \code{ci.lb} and \code{ci.ub}; attributes
#'   \code{type} and \code{level}.
#' @references Efron B (1987). Better bootstrap confidence intervals.
#'   \emph{JASA} 82:171-185. Davison AC, Hinkley DV (1997). \emph{Bootstrap
#'   Methods and their Application}, ch. 5. Cambridge University Press.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02))
#' set.seed(2)
#' b <- boot_rma(rma(yi, vi, data = dat), R = 200, progress = FALSE)
#' confint(b, parm = "intrcpt", type = "bca")
#' @export
confint.mf_boot <- function(object, parm, level = 0.95, type = c("perc", "basic", "norm", "bca"), ...) {
  type <- match.arg(type)
  conf <- 1 - .mf_level(level)
  nms <- names(object$t0)
  idx <- .mf_parm(if (missing(parm)) NULL else parm, nms)
  if (type == "bca" && is.null(object$jack))
    .mf_stop("BCa intervals need case resampling (type = \"case\" in boot_rma()); the acceleration comes from the jackknife.")
  out <- matrix(NA_real_, length(idx), 3L, dimnames = list(nms[idx], c("estimate", "ci.lb", "ci.ub")))
  for (r in seq_along(idx)) {
    j <- idx[r]
    t0 <- object$t0[[j]]
    t <- object$t[, j]
    t <- t[is.finite(t)]
    out[r, 1L] <- t0
    if (length(t) < 2L || diff(range(t)) < min(1e-8, abs(mean(t)) / 1e6)) {
      warning(sprintf("All replicates of '%s' are equal; no interval.", nms[j]), call. = FALSE)
      next
    }
    out[r, 2:3] <- switch(type,
      perc = .mf_norm_inter(t, (1 + c(-conf, conf)) / 2),
      basic = 2 * t0 - .mf_norm_inter(t, (1 + c(conf, -conf)) / 2),
      norm = {
        bias <- mean(t) - t0
        merr <- sqrt(stats::var(t)) * stats::qnorm((1 + conf) / 2)
        c(t0 - bias - merr, t0 - bias + merr)
      },
      bca = .mf_bca(t, t0, object$jack[, j], conf, nms[j]))
  }
  attr(out, "type") <- type
  attr(out, "level") <- conf
  out
}

# BCa limits (Efron 1987) from finite replicates t, the original t0 and the
# leave-one-out values tj.
.mf_bca <- function(t, t0, tj, conf, name) {
  z0 <- stats::qnorm(sum(t < t0) / length(t))
  L <- (length(tj) - 1) * (t0 - tj)
  a <- sum(L^3) / (6 * sum(L^2)^1.5)
  if (!is.finite(z0) || !is.finite(a)) {
    warning(sprintf("BCa interval of '%s' not available: the %s is not finite.", name,
                    if (!is.finite(z0)) "bias correction z0" else "jackknife acceleration"), call. = FALSE)
    return(c(NA_real_, NA_real_))
  }
  za <- stats::qnorm((1 + c(-conf, conf)) / 2)
  adj <- stats::pnorm(z0 + (z0 + za) / (1 - a * (z0 + za)))
  .mf_norm_inter(t, adj)
}

#' Convert to a \code{boot} object
#'
#' Gives the replicates of \code{\link{boot_rma}} the form of
#' \code{boot::boot()}'s result, so that \code{boot::boot.ci()},
#' \code{plot()} and the other tools of \pkg{boot} can be used.  The
#' \code{statistic} refits the model with the C++ core on
#' \code{data[indices, ]}, so \code{boot::empinf(type = "jack")} works.
#'
#' \code{boot::boot.ci()} computes BCa intervals for ordinary bootstraps from
#' regression estimates of the influence values, which need the resampling
#' indices regenerated from R's generator: these are not the indices that
#' the C++ streams drew.  Give it the jackknife influence values instead:
#' either \code{L = boot::empinf(b, index = j, type = "jack")} in
#' \code{boot.ci()}, or convert with \code{index = j}, which stores them in
#' \code{$L} for statistic \code{j} (then use only \code{index = j} in
#' \code{boot.ci()}).
#'
#' @param x an object of class \code{mf_boot}.
#' @param index optional single statistic whose jackknife influence values
#'   are stored in \code{$L} (case bootstrap only).
#' @param ... ignored.
#' @return An object of class \code{boot}.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02))
#' set.seed(3)
#' b <- boot_rma(rma(yi, vi, data = dat), R = 200, progress = FALSE)
#' bo <- as.boot(b)
#' if (requireNamespace("boot", quietly = TRUE))
#'   boot::boot.ci(bo, index = 1, type = c("perc", "basic", "norm"))
#' @export
as.boot <- function(x, ...) UseMethod("as.boot")

#' @rdname as.boot
#' @export
as.boot.mf_boot <- function(x, index = NULL, ...) {
  method <- .mf_method_code(x$method)
  test <- .mf_test_code(x$test)
  control <- x$control
  if (!is.null(x$selmodel)) {
    # selection model: indices pick studies; the refit is the kernel's
    k <- length(x$selmodel$spec$yi)
    data <- data.frame(yi = x$selmodel$spec$yi, vi = x$selmodel$spec$vi)
    spec <- x$selmodel$spec
    units <- .mf_selboot_units(spec)
    k <- length(units)
    if (!is.null(spec$cl_offsets)) data <- data.frame(cluster = x$cluster)
    statistic <- function(data, indices) {
      # (with clusters, indices pick clusters)
      c(.mf_selboot_kernel(spec, 0L, 0, 0, 0, 1L, NULL, list(as.integer(unlist(units[indices]))))$t)
    }
  } else if (!is.null(x$mv)) {
    # cluster bootstrap of an rma.mv() fit: one row of data per cluster; indices pick clusters
    k <- length(x$cluster)
    data <- data.frame(cluster = x$cluster)
    mv <- x$mv
    statistic <- function(data, indices) {
      d <- matrix(as.integer(indices), ncol = 1L)
      t <- .mf_rma_mv_boot(mv$spec, mv$unit, mv$n, mv$theta, mv$reml, mv$control$threshold,
                           as.integer(mv$control$maxiter), mv$control$stepadj, 0, 0, 1, 1L, NULL, d, FALSE)$t
      if (isTRUE(mv$gsp) || !is.null(mv$theta.vr)) t <- .mf_boot_mv_post(mv, d, t, 1L)
      c(t)
    }
  } else if (is.null(x$offsets)) {
    k <- length(x$yi)
    data <- data.frame(yi = x$yi, vi = x$vi)
    if (length(x$weights)) data$weights <- x$weights
    data$X <- x$X
    statistic <- function(data, indices) {
      w <- if (is.null(data$weights)) numeric(0) else as.double(data$weights)
      .mf_boot_stat(as.double(data$yi), as.double(data$vi), data$X, w, as.integer(indices),
                    method, test, control)
    }
  } else {
    # cluster bootstrap: one row of data per cluster; indices pick clusters
    k <- length(x$cluster)
    data <- data.frame(cluster = x$cluster)
    yi <- x$yi; vi <- x$vi; X <- x$X; w <- x$weights; off <- x$offsets
    statistic <- function(data, indices) {
      .mf_boot_stat(yi, vi, X, w, as.integer(indices), method, test, control, off)
    }
  }
  seed <- x$random.seed
  if (is.null(seed)) seed <- 0L
  out <- list(t0 = x$t0, t = unname(x$t), R = x$R, data = data, seed = seed, statistic = statistic,
              sim = if (x$type == "case") "ordinary" else "parametric", call = x$call,
              stype = "i", strata = rep(1, k), weights = rep(1 / k, k))
  if (x$type == "parametric") {
    out$ran.gen <- function(data, mle) data
    out$mle <- NULL
  }
  if (!is.null(index)) {
    if (x$type != "case") .mf_stop("'index' (jackknife influence values) needs a case bootstrap.")
    j <- .mf_parm(index, names(x$t0))
    if (length(j) != 1L) .mf_stop("'index' must name a single statistic.")
    out$L <- (k - 1) * (x$t0[[j]] - x$jack[, j])
  }
  class(out) <- "boot"
  attr(out, "boot_type") <- "boot"
  out
}

#' Plot bootstrap distributions
#'
#' Histograms (base graphics) of the bootstrap replicates of each statistic,
#' with a kernel density estimate and a vertical line at the original value.
#'
#' @param x an object of class \code{mf_boot}.
#' @param which statistics to plot (numbers or names; default all).
#' @param ... further arguments passed to \code{hist()} (\code{breaks}) and
#'   to its plot method (\code{xlim}, \code{ylim}, \code{col}, ...).
#' @return The replicates that were plotted, invisibly, with the layout as
#'   attribute \code{"layout"}: per statistic the histogram's \code{breaks}
#'   and \code{density}, the kernel density line (\code{kde}), \code{xlim},
#'   \code{ylim} and the original value \code{t0}. The axes hold the whole
#'   density line and the original value.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02))
#' set.seed(4)
#' b <- boot_rma(rma(yi, vi, data = dat), R = 100, progress = FALSE)
#' plot(b, which = "intrcpt")
#' @export
plot.mf_boot <- function(x, which, ...) {
  nms <- names(x$t0)
  idx <- .mf_parm(if (missing(which)) NULL else which, nms)
  n <- length(idx)
  if (n > 1L) {
    nc <- ceiling(sqrt(n))
    op <- graphics::par(mfrow = c(ceiling(n / nc), nc))
    on.exit(graphics::par(op))
  }
  dots <- list(...)
  lay <- list()
  for (j in idx) {
    t <- x$t[, j]
    t <- t[is.finite(t)]
    h <- graphics::hist(t, breaks = if (is.null(dots$breaks)) "Sturges" else dots$breaks, plot = FALSE)
    d <- if (length(unique(t)) > 1L) stats::density(t) else NULL
    # the axes hold the whole density line and the original value (the
    # histogram's own axes would cut the line's peak and tails)
    xlim <- if (is.null(dots$xlim)) range(h$breaks, d$x, x$t0[[j]], finite = TRUE) else dots$xlim
    ylim <- if (is.null(dots$ylim)) c(0, max(c(h$density, d$y), na.rm = TRUE)) else dots$ylim
    args <- utils::modifyList(list(h, freq = FALSE, main = nms[j], xlab = nms[j], col = "grey90",
                                   border = "grey60", xlim = xlim, ylim = ylim),
                              dots[setdiff(names(dots), c("breaks", "xlim", "ylim"))])
    do.call(graphics::plot, args)
    if (!is.null(d)) graphics::lines(d, lwd = 1.5)
    graphics::abline(v = x$t0[[j]], lty = 2, col = "red", lwd = 1.5)
    lay[[nms[j]]] <- list(breaks = h$breaks, density = h$density, kde = if (!is.null(d)) list(x = d$x, y = d$y),
                          xlim = xlim, ylim = ylim, t0 = x$t0[[j]])
  }
  out <- x$t[, idx, drop = FALSE]
  attr(out, "layout") <- lay
  invisible(out)
}
