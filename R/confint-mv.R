# Profile-likelihood confidence intervals and likelihood profiles of the
# variance components of rma.mv() fits, as metafor's confint.rma.mv() and
# profile.rma.mv(): refits with one component held at a value, each one call
# of the C++ fit (.mf_rma_mv_fit) on a copy of the fit's spec in which that
# component is fixed.

#' Profile-likelihood confidence intervals for a model fitted by rma.mv()
#'
#' As metafor's \code{confint.rma.mv()}: for each estimated variance
#' component (sigma2, and tau2, rho, gamma2, phi of \code{~ inner | outer}
#' terms; or the one chosen with \code{sigma2 =}, \code{tau2 =}, ...), the
#' values at which the likelihood-ratio statistic
#' \eqn{-2(\ell(\theta_l) - \ell(\hat\theta_l))}{-2 (ll(theta_l) - ll(fit))}
#' (restricted for REML fits; the other components re-estimated at each
#' value) equals \code{qchisq(1 - alpha, 1)}, found by \code{uniroot()} on
#' \code{[vc.min, estimate]} and \code{[estimate, vc.max]}.  Each refit
#' holds the component at a value on metafor's scale (variances,
#' correlations); UN and GEN terms are refitted as \code{rma.mv()} fits them
#' (on the scale of the Cholesky factor, the fixed values overwriting those of
#' its product where the estimated correlations form a cycle), from the fit's
#' estimate and, if that refit fails, from \code{rma.mv()}'s start.  A bound at
#' \code{vc.min} or \code{vc.max} where the statistic is still below the
#' cut-off is reported with \code{"<"} or \code{">"}; if the refit at an end
#' of the search interval fails, that end is moved towards the estimate in
#' \code{eptries} steps, as in metafor.
#'
#' Beyond metafor, the table of a variance (sigma2, tau2, gamma2) has a row
#' \code{I^2(\%)} with the I^2 of that level (\code{\link{i2_levels}}) and
#' its interval: the I^2 of the level,
#' \eqn{100 \sigma^2_l / (\sum_j \sigma^2_j + \tilde v)}{100 sigma2_l / (sum(sigma2) + v)},
#' evaluated at the two refits at the bounds of the profile interval, i.e.
#' with \eqn{\sigma^2_l} at its bound and the other components at their
#' profiled (re-estimated) values there; \eqn{\tilde v} is the typical
#' sampling variance of the fit.
#'
#' @param object an object of class \code{mf_rma_mv}.
#' @param parm ignored, with metafor's warning.
#' @param level confidence level (default: the level of the fit).
#' @param fixed also give the Wald-type intervals of the coefficients.
#' @param sigma2 the variance component (an index) to profile; by default
#'   all estimated components (when \code{fixed = FALSE}).
#' @param tau2,rho,gamma2,phi the component (an index) of the first
#'   (\code{tau2}, \code{rho}) or second (\code{gamma2}, \code{phi})
#'   \code{~ inner | outer} term to profile; errors as in metafor for models
#'   without them.
#' @param digits number of decimals for printing.
#' @param transf,targs optional function (with arguments) applied to the
#'   coefficients and their bounds.
#' @param verbose show each step of the search.
#' @param control list: \code{vc.min} (0; for a correlation -1, or
#'   \code{min(0, estimate)} for AR, HAR and CAR), \code{vc.max}
#'   (\code{max(10, 100} times the estimate\code{)}; 10 for an estimate near
#'   0; 1 for a correlation), \code{tol}
#'   (\code{uniroot()}'s tolerance, \code{.Machine$double.eps^0.25}),
#'   \code{maxiter} (1000), \code{eptries} (10) and \code{verbose}, as in
#'   metafor (names matched partially).
#' @param xlim shorthand for \code{control = list(vc.min = xlim[1], vc.max = xlim[2])}.
#' @param ... metafor's \code{time} is accepted and ignored; other names are
#'   disregarded with a warning.
#' @return An object of class \code{confint.mf_rma} (one component, or
#'   \code{fixed = TRUE} alone) with \code{random} (rows \code{sigma^2.l},
#'   \code{sigma.l}, \code{I^2.l(\%)}, likewise \code{tau^2}, \code{gamma^2};
#'   one row \code{rho.l} or \code{phi.l} for a correlation; columns \code{estimate}, \code{ci.lb},
#'   \code{ci.ub}) and/or \code{fixed}, or a list of them of class
#'   \code{list.confint.mf_rma} (several components).
#' @references Hardy RJ, Thompson SG (1996). A likelihood approach to
#'   meta-analysis with random effects. \emph{Stat Med} 15:619-629.
#'   Nakagawa S, Santos ESA (2012). Methodological issues and advances in
#'   biological meta-analysis. \emph{Evol Ecol} 26:1253-1274.
#' @examples
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   dat <- metadat::dat.konstantopoulos2011
#'   fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
#'   confint(fit)
#' }
#' @export
confint.mf_rma_mv <- function(object, parm, level, fixed = FALSE, sigma2, tau2, rho, gamma2, phi, digits, transf,
                              targs, verbose = FALSE, control, ..., xlim) {
  .mf_check_dots("confint.mf_rma_mv", ...)
  x <- object
  if (!missing(parm)) warning("Argument 'parm' (currently) ignored.", call. = FALSE)
  alpha <- if (missing(level)) x$level else .mf_level(level)
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  if (!is.logical(fixed) || length(fixed) != 1L || is.na(fixed)) .mf_stop("'fixed' must be TRUE or FALSE.")
  control <- if (missing(control) || is.null(control)) list() else control
  if (!is.list(control)) .mf_stop("'control' must be a list.")
  if (!missing(xlim)) {
    if (!is.numeric(xlim) || length(xlim) != 2L || anyNA(xlim)) .mf_stop("Argument 'xlim' should be a vector of length 2.")
    control$vc.min <- xlim[1L]
    control$vc.max <- xlim[2L]
  }
  given <- c(sigma2 = !missing(sigma2), tau2 = !missing(tau2), rho = !missing(rho), gamma2 = !missing(gamma2),
             phi = !missing(phi))
  if (!fixed && !any(given)) {
    pos <- .mf_mv_vc_positions(x)
    res.all <- lapply(seq_len(nrow(pos)), function(j) {
      if (isTRUE(verbose)) message(sprintf("Obtaining CI for %s = %d", pos$comp[j], pos$pos[j]))
      .mf_mv_ci_one(x, pos$comp[j], pos$pos[j], alpha, d, control, verbose)
    })
    if (length(res.all) == 1L) return(res.all[[1L]])
    res.all$digits <- d
    class(res.all) <- "list.confint.mf_rma"
    return(res.all)
  }
  res <- list()
  if (fixed) {
    crit <- if (x$test == "t") stats::qt(alpha / 2, x$ddf, lower.tail = FALSE) else stats::qnorm(alpha / 2, lower.tail = FALSE)
    res$fixed <- .mf_fixed_ci_table(x, crit, if (missing(transf)) NULL else transf,
                                    if (missing(targs)) NULL else targs)
  }
  if (any(given)) {
    if (sum(given) > 1L) .mf_stop("Must specify only one of the arguments 'sigma2', 'tau2', 'rho', 'gamma2', or 'phi'.")
    comp <- names(given)[given]
    val <- get(comp)
    one <- .mf_mv_ci_one(x, comp, .mf_mv_vc_check(x, comp, val), alpha, d, control, verbose)
    res$random <- one$random
    res[c("ci.null", "lb.sign", "ub.sign")] <- one[c("ci.null", "lb.sign", "ub.sign")]
  }
  res$digits <- d
  class(res) <- "confint.mf_rma"
  res
}

#' @rdname confint.mf_rma_mv
#' @param x an object of class \code{list.confint.mf_rma}.
#' @export
print.list.confint.mf_rma <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  parts <- unclass(x)[names(x) != "digits"]
  cat("\n")
  for (j in seq_along(parts)) {
    r <- .mf_fmtx(parts[[j]]$random, d)
    r[, 2] <- paste0(parts[[j]]$lb.sign, r[, 2])
    r[, 3] <- paste0(parts[[j]]$ub.sign, r[, 3])
    print(r, quote = FALSE, right = TRUE)
    if (j != length(parts)) cat("\n")
  }
  cat("\n")
  invisible(x)
}

#' Profile the likelihood of the variance components of an rma.mv() fit
#'
#' As metafor's \code{profile.rma.mv()}: the model is refitted with one
#' variance component held at each of \code{steps} values (the other
#' components re-estimated), giving the (restricted, for REML fits)
#' log-likelihood, the coefficients and their confidence bounds at each
#' value; without \code{sigma2 =}, \code{tau2 =}, ... every estimated
#' component (sigma2, tau2, rho, gamma2, phi) is profiled.
#' By default the profiles are drawn (\code{\link{plot.mf_profile}}).
#'
#' @param fitted an object of class \code{mf_rma_mv}.
#' @param sigma2 the variance component (an index) to profile.
#' @param tau2,rho,gamma2,phi the component (an index) of the first or
#'   second \code{~ inner | outer} term to profile; errors as in metafor for
#'   models without them.
#' @param xlim range of the values (default, as metafor: from a quarter of
#'   the estimate to \code{max(0.1, 4} times the estimate\code{)} for a
#'   variance; the estimate -+ 0.5 within (-0.99999, 0.99999) for a
#'   correlation, from 0 for CAR).
#' @param ylim range of the y-axis of the plot.
#' @param steps number of values (at least 2), or the vector of values.
#' @param lltol a profiled log-likelihood above that of the fit by more than
#'   \code{lltol} gives a warning.
#' @param progbar accepted (the refits take milliseconds; no progress bar).
#' @param parallel only \code{"no"}: metafor's \code{"snow"} and
#'   \code{"multicore"} (and \code{ncpus}, \code{cl}) give an error.
#' @param ncpus,cl only the defaults (1, none).
#' @param plot draw the profile(s).
#' @param ... passed to \code{\link{plot.mf_profile}}.
#' @return Invisibly, an object of class \code{mf_profile} with metafor's
#'   fields (\code{sigma2}, \code{tau2}, \code{rho}, \code{gamma2} or
#'   \code{phi}: the values, \code{ll}, \code{beta},
#'   \code{ci.lb}, \code{ci.ub}, \code{comps}, \code{ylim}, \code{method},
#'   \code{vc}, \code{maxll}, \code{xlab}, \code{title}), or for several
#'   components a list of them with \code{comps}.
#' @examples
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   dat <- metadat::dat.konstantopoulos2011
#'   fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
#'   pr <- profile(fit, sigma2 = 1, steps = 5, plot = FALSE)
#'   pr$ll
#' }
#' @export
profile.mf_rma_mv <- function(fitted, sigma2, tau2, rho, gamma2, phi, xlim, ylim, steps = 20, lltol = 1e-03,
                              progbar = TRUE, parallel = "no", ncpus = 1, cl, plot = TRUE, ...) {
  .mf_check_dots("profile.mf_rma_mv", ...)
  x <- fitted
  if (!inherits(x, "mf_rma_mv") || is.null(x$mf.spec))
    .mf_stop("Information needed for profiling is not available in the model object.")
  if (!identical(parallel, "no"))
    .mf_stop(sprintf("parallel = \"%s\" (metafor's parallel backends) is not supported by metafast's profile(); its refits take milliseconds.",
                     paste(parallel, collapse = "")))
  if (!missing(cl) || !identical(as.numeric(ncpus), 1))
    .mf_stop("'ncpus' and 'cl' (metafor's arguments for its parallel backends) are not supported by metafast's profile().")
  if (!is.numeric(steps) || anyNA(steps)) .mf_stop("No missing values allowed in 'steps' argument.")
  if (!is.numeric(lltol) || length(lltol) != 1L || is.na(lltol)) .mf_stop("'lltol' must be a single number.")
  given <- c(sigma2 = !missing(sigma2), tau2 = !missing(tau2), rho = !missing(rho), gamma2 = !missing(gamma2),
             phi = !missing(phi))
  if (!any(given)) {
    pos <- .mf_mv_vc_positions(x, "No components in the model for which a profile likelihood can be constructed.")
    comps <- nrow(pos)
    if (isTRUE(plot) && comps > 1L) {
      if (grDevices::dev.cur() == 1L || prod(graphics::par("mfrow")) < comps)
        graphics::par(mfrow = grDevices::n2mfrow(comps))
      on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
    }
    xl <- if (missing(xlim)) NULL else xlim
    yl <- if (missing(ylim)) NULL else ylim
    sav <- lapply(seq_len(comps), function(j) .mf_mv_profile_one(x, pos$comp[j], pos$pos[j], xl, yl, steps, lltol, plot, ...))
    if (comps == 1L) sav <- sav[[1L]]
    sav$comps <- comps
    class(sav) <- "mf_profile"
    return(invisible(sav))
  }
  if (sum(given) > 1L) .mf_stop("Must specify only one of the arguments 'sigma2', 'tau2', 'rho', 'gamma2', or 'phi'.")
  comp <- names(given)[given]
  val <- get(comp)
  if (is.numeric(val)) val <- unique(round(val))
  sav <- .mf_mv_profile_one(x, comp, .mf_mv_vc_check(x, comp, val), if (missing(xlim)) NULL else xlim,
                            if (missing(ylim)) NULL else ylim, steps, lltol, plot, ...)
  invisible(sav)
}

# ---- helpers ----

# The estimated variance components (metafor's order: sigma2, tau2, rho,
# gamma2, phi) as a data frame of (comp, pos).
.mf_mv_vc_positions <- function(x, none = "No components for which a CI can be obtained.") {
  fix <- x$vc.fix
  est <- function(nm) { f <- fix[[nm]]; if (is.null(f) || all(is.na(f))) integer(0) else which(!f) }
  pos <- do.call(rbind, lapply(c("sigma2", "tau2", "rho", "gamma2", "phi"), function(nm) {
    p <- est(nm)
    if (length(p)) data.frame(comp = nm, pos = p, stringsAsFactors = FALSE) else NULL
  }))
  if (is.null(pos) || nrow(pos) == 0L) .mf_stop(none)
  pos
}

# metafor's checks of a chosen component; returns its index.
.mf_mv_vc_check <- function(x, comp, val) {
  f <- x$vc.fix[[comp]]
  if (is.null(f) || all(is.na(f)) || all(f)) .mf_stop(sprintf("Model does not contain any (estimated) '%s' components.", comp))
  if (length(val) > 1L) .mf_stop(sprintf("Can only specify one '%s' component.", comp))
  if (is.logical(val) || !is.numeric(val) || is.na(val)) .mf_stop(sprintf("Must specify a number for the '%s' component.", comp))
  if (val > length(f) || val <= 0) .mf_stop(sprintf("No such '%s' component in the model.", comp))
  if (f[val]) .mf_stop(sprintf("Specified '%s' component was fixed.", comp))
  as.integer(val)
}

# The position in theta (the engine's parameter vector: the sigma2, then the
# variances and correlations of the '~ inner | outer' terms, metafor's
# (tau2, rho) and (gamma2, phi) scale) of component comp[pos].
.mf_mv_theta_pos <- function(x, comp, pos) {
  if (comp == "sigma2") return(as.integer(pos))
  g <- x$mf.spec$structure$terms[[if (comp %in% c("tau2", "rho")) 1L else 2L]]
  as.integer(g$off + if (comp %in% c("tau2", "gamma2")) pos else g$n_v + pos)
}

# The admissible values of component comp (metafor's rma.mv() refuses a
# fixed value outside them): variances >= 0, correlations in [-1, 1] (CAR:
# [0, 1]).
.mf_mv_comp_range <- function(x, comp) {
  if (comp %in% c("sigma2", "tau2", "gamma2")) return(c(0, Inf))
  st <- x$struct[if (comp == "rho") 1L else 2L]
  if (st %in% .mf_mv_sp) return(c(0, Inf))  # (the range of a spatial structure)
  c(if (st == "CAR") 0 else -1, 1)
}

# The spatial structures (their rho is a range in [0, inf)).
.mf_mv_sp <- c("SPEXP", "SPGAU", "SPLIN", "SPRAT", "SPSPH")

# The fit's spec with component comp[pos] fixed at val (the structure's
# 'fixed' holds every component of theta: NA estimated).  The spec's terms
# are on the (tau2, rho) scale, where metafor fixes a component; the refit
# moves UN and GEN terms to metafor's fitting scale (.mf_mv_fit_at()).
.mf_mv_spec_fix <- function(spec, j, val) {
  spec$structure$fixed[j] <- val
  spec
}

# rma.mv()'s own start of a refit of spec, the fallback of one that fails
# from the fit's estimate theta (moving one correlation of a UN term can
# leave the estimate's others where the marginal covariance is not positive
# definite): the free components of the '~ inner | outer' terms at the
# default start (NA; UN and GEN on the Cholesky scale from
# .mf_mv_metafor_scale(default = TRUE)), sigma2 and spatial ranges (types 12
# to 16, whose start rma.mv() sets from the distances) at the estimate.
.mf_mv_default_start <- function(spec, theta) {
  ms <- .mf_mv_metafor_scale(spec, theta, default = TRUE)
  st <- spec$structure
  if (!st$type %in% c("terms", "crossed")) return(ms)
  for (t in seq_along(st$terms)) {
    tm <- st$terms[[t]]
    if (tm$type %in% 12:16 || isTRUE(ms$gts[[t]]$chol) || isTRUE(ms$gts[[t]]$cholfix)) next
    ii <- tm$off + seq_len(tm$n_v + tm$n_r)
    ms$start[ii[is.na(st$fixed[ii])]] <- NA_real_
  }
  ms
}

# The refit with comp[pos] held at val (warm start at the fit's estimates):
# the log-likelihood logLik() reports, theta (metafor's scale), beta and vb;
# NULL when val is not admissible, or the fit fails or does not converge.
.mf_mv_fit_at <- function(x, comp, pos, val) {
  rg <- .mf_mv_comp_range(x, comp)
  if (!is.finite(val) || val < rg[1L] || val > rg[2L]) return(NULL)
  j <- .mf_mv_theta_pos(x, comp, pos)
  spec <- .mf_mv_spec_fix(x$mf.spec, j, val)
  spec$refuse <- NULL  # (user weights W: handled below)
  start <- as.double(.mf_mv_theta(x))
  start[j] <- val
  if (val == 0 && comp %in% c("tau2", "gamma2")) {
    # a variance at 0 leaves the correlations of its level without effect
    # on the likelihood (all of them in a homoscedastic term): held at their
    # estimates, so that the refit is identified (metafor's refit leaves
    # them to its optimiser, and fixes them to 0 for two inner levels)
    g <- spec$structure$terms[[if (comp == "tau2") 1L else 2L]]
    if (g$n_r) {
      rj <- g$off + g$n_v + seq_len(g$n_r)
      idle <- if (g$n_v == 1L) rep(TRUE, g$n_r) else if (g$n_r == 1L) all(start[g$off + seq_len(g$n_v)][-pos] == 0) else {
        pr <- which(lower.tri(diag(g$n_lev)), arr.ind = TRUE)
        pr[, 1L] == pos | pr[, 2L] == pos
      }
      idle <- idle & is.na(spec$structure$fixed[rj])
      spec$structure$fixed[rj[idle]] <- start[rj[idle]]
    }
  }
  con <- x$control
  fitfun <- .mf_mv_fitfun(spec)
  # UN and GEN terms refitted on metafor's scale (.mf_mv_metafor_scale(): the
  # Cholesky factor, the fixed values overwriting those of L L' where the
  # free correlations form a cycle), as metafor's profile refits them through
  # rma.mv(); a refit that fails from the fit's estimate is tried once more
  # from rma.mv()'s own start (.mf_mv_default_start())
  refit <- function(ms) {
    f <- tryCatch(fitfun(ms$spec, ms$start, x$method == "REML", con$threshold, as.integer(con$maxiter), con$stepadj),
                  error = function(e) NULL)
    if (is.null(f) || !length(f$beta) || anyNA(f$theta)) return(NULL)
    # (a refit that stops at maxiter with its last step below 1e-6 is taken:
    # near a flat direction, e.g. a correlation of a small variance, the
    # optimisers creep, while the log-likelihood is settled to ~1e-12)
    if (!isTRUE(f$convergence$converged) && !isTRUE(f$convergence$change < 1e-6)) return(NULL)
    if (!is.null(ms$gts)) f$theta <- .mf_mv_unchol(ms$gts, f$theta)
    f
  }
  ms <- .mf_mv_metafor_scale(spec, start)
  f <- refit(ms)
  if (is.null(f)) {
    ds <- .mf_mv_default_start(spec, start)
    if (!identical(ds$start, ms$start)) f <- refit(ds)  # (crossed specs: the same start)
  }
  if (is.null(f)) return(NULL)
  ll <- if (x$method == "REML") f$ll.REML else f$ll.ML
  if (.mf_mv_hasW(x)) {
    # user weights W (metafor's refit with W): the components as without W,
    # b and its sandwich covariance from W, the log-likelihood at that b
    wb <- .mf_mv_wfit(.mf_mv_Wc(x), x$X, x$yi, spec, f$theta, c(f$beta), f$vb)
    return(list(ll = ll - wb$dll, theta = f$theta, beta = wb$beta, vb = wb$vb))
  }
  list(ll = ll, theta = f$theta, beta = c(f$beta), vb = f$vb)
}

.mf_mv_maxll <- function(x) x$fit.stats[[if (x$method == "REML") "REML" else "ML"]][1L]

# The profile-likelihood interval of one component (metafor's search).
.mf_mv_ci_one <- function(x, comp, pos, alpha, d, control, verbose) {
  vc <- x[[comp]][pos]
  isvar <- comp %in% c("sigma2", "tau2", "gamma2")
  con <- list(tol = .Machine$double.eps^0.25, maxiter = 1000, verbose = FALSE, eptries = 10)
  if (isvar) {
    con$vc.min <- 0
    con$vc.max <- max(if (vc <= .Machine$double.eps^0.5) 10 else max(10, vc * 100), con$vc.min)
  } else {  # (metafor's search interval of a correlation)
    st <- x$struct[if (comp == "rho") 1L else 2L]
    con$vc.min <- if (st %in% c("AR", "HAR", "CAR")) min(0, vc) else -1
    con$vc.max <- 1
    if (st %in% .mf_mv_sp) {  # (metafor's interval of a range)
      con$vc.min <- 0
      con$vc.max <- max(10, vc * 10)
    }
  }
  if (length(control)) {
    cp <- pmatch(names(control), names(con))
    con[stats::na.omit(cp)] <- control[!is.na(cp)]
  }
  if (isTRUE(verbose)) con$verbose <- TRUE
  verbose <- isTRUE(con$verbose)
  for (nm in c("tol", "maxiter", "eptries", "vc.min", "vc.max"))
    if (!is.numeric(con[[nm]]) || length(con[[nm]]) != 1L || is.na(con[[nm]]))
      .mf_stop(sprintf("'control$%s' must be a single number.", nm))
  if (con$vc.min > vc) .mf_stop("Lower bound of interval to be searched must be <= estimated value of component.")
  if (con$vc.max < vc) .mf_stop("Upper bound of interval to be searched must be >= estimated value of component.")
  if (isvar && con$vc.min < 0) .mf_stop("'control$vc.min' must be >= 0 for a variance component.")
  objective <- stats::qchisq(1 - alpha, df = 1)
  maxll <- .mf_mv_maxll(x)
  prof <- function(val) {
    f <- .mf_mv_fit_at(x, comp, pos, val)
    out <- if (is.null(f)) NA_real_ else -2 * (f$ll - maxll) - objective
    if (verbose) message(sprintf("val = %s  LRT - objective = %s", formatC(val, format = "f", digits = d),
                                 if (is.na(out)) "NA" else formatC(out, format = "f", digits = 4)))
    if (is.na(out)) stop("refit failed")
    out
  }
  bd <- .mf_profile_ci_bounds(prof, vc, con, lb_open = function(e) e > (if (isvar) 0 else -1), ub_open = function(e) isvar || e < 1)
  vc.lb <- bd$lb
  vc.ub <- bd$ub
  lb.sign <- bd$lb.sign
  ub.sign <- bd$ub.sign
  est <- c(vc, vc.lb, vc.ub)
  sfx <- if (length(x[[comp]]) == 1L) "" else paste0(".", pos)
  if (isvar) {
    # beyond metafor: the I^2 of the component at the estimate and at the
    # refits at the two bounds (.mf_mv_i2_parts)
    j <- .mf_mv_theta_pos(x, comp, pos)
    i2_at <- function(b) {
      if (is.na(b)) return(NA_real_)
      th <- if (isTRUE(all.equal(b, vc, tolerance = 0))) .mf_mv_theta(x) else {
        f <- .mf_mv_fit_at(x, comp, pos, b)
        if (is.null(f)) return(NA_real_)
        f$theta
      }
      .mf_mv_i2_parts(x, th)$I2[[.mf_mv_i2_name(x, comp, pos)]]
    }
    sym <- c(sigma2 = "sigma", tau2 = "tau", gamma2 = "gamma")[[comp]]
    tab <- rbind(est, sqrt(ifelse(est >= 0, est, NA_real_)), c(i2_at(vc), i2_at(vc.lb), i2_at(vc.ub)))
    rownames(tab) <- c(paste0(sym, "^2", sfx), paste0(sym, sfx), paste0("I^2", sfx, "(%)"))
  } else {
    tab <- rbind(est)
    rownames(tab) <- paste0(comp, sfx)
  }
  colnames(tab) <- c("estimate", "ci.lb", "ci.ub")
  res <- list(random = tab, digits = d, ci.null = FALSE, lb.sign = lb.sign, ub.sign = ub.sign)
  class(res) <- "confint.mf_rma"
  res
}

# The profile of one component (metafor's profile.rma.mv for one component).
.mf_mv_profile_one <- function(x, comp, pos, xlim, ylim, steps, lltol, plot, ...) {
  vc <- x[[comp]][pos]
  stepseq <- length(steps) >= 2L
  if (stepseq) {
    if (is.null(xlim)) xlim <- range(steps)
  } else if (steps < 2) .mf_stop("Argument 'steps' must be >= 2.")
  isvar <- comp %in% c("sigma2", "tau2", "gamma2")
  car <- !isvar && x$struct[if (comp == "rho") 1L else 2L] == "CAR"
  sp <- x$struct[if (comp %in% c("tau2", "rho")) 1L else 2L] %in% .mf_mv_sp && comp != "sigma2"
  if (is.null(xlim)) {  # (metafor's defaults)
    xlim <- if (isvar && sp) c(max(0, vc / 2), max(0.1, vc * 2))
            else if (isvar) c(max(0, vc / 4), max(0.1, vc * 4))
            else if (sp) c(vc / 2, vc * 2)
            else c(max(if (car) 0 else -0.99999, vc - 0.5), min(0.99999, vc + 0.5))
    if (anyNA(xlim)) .mf_stop("Cannot set 'xlim' automatically. Please set this argument manually.")
  } else {
    if (!is.numeric(xlim) || length(xlim) != 2L || anyNA(xlim)) .mf_stop("Argument 'xlim' should be a vector of length 2.")
    xlim <- sort(xlim)
    if ((isvar || car || sp) && xlim[1L] < 0) .mf_stop("Lower bound for profiling must be >= 0.")
    if (xlim[1L] < -1) .mf_stop("Lower bound for profiling must be >= -1.")
    if (!isvar && !car && !sp && xlim[2L] > 1) .mf_stop("Upper bound for profiling must be <= 1.")
  }
  vcs <- if (stepseq) steps else seq(xlim[1L], xlim[2L], length.out = steps)
  if (length(vcs) <= 1L) .mf_stop("Cannot set 'xlim' automatically. Please set this argument manually.")
  crit <- if (x$test == "t") stats::qt(x$level / 2, x$ddf, lower.tail = FALSE) else stats::qnorm(x$level / 2, lower.tail = FALSE)
  p <- x$p
  fits <- lapply(vcs, function(v) .mf_mv_fit_at(x, comp, pos, v))
  lls <- vapply(fits, function(f) if (is.null(f)) NA_real_ else f$ll, numeric(1))
  row_of <- function(f, what) {
    if (is.null(f)) return(rep(NA_real_, p))
    se <- sqrt(pmax(diag(f$vb), 0))
    switch(what, beta = f$beta, ci.lb = f$beta - crit * se, ci.ub = f$beta + crit * se)
  }
  tab <- function(what) {
    m <- matrix(unlist(lapply(fits, row_of, what = what)), ncol = p, byrow = TRUE)
    out <- as.data.frame(m)
    names(out) <- rownames(x$beta)
    out
  }
  maxll <- .mf_mv_maxll(x)
  ylim <- .mf_profile_ylim(lls, maxll, lltol, ylim, xlim, vc)
  one <- length(x[[comp]]) == 1L
  sym <- as.name(c(sigma2 = "sigma", tau2 = "tau", gamma2 = "gamma", rho = "rho", phi = "phi")[[comp]])
  if (isvar) {
    xlab <- if (one) as.expression(bquote(paste(.(sym)^2, " Value"))) else bquote(.(sym)[.(as.numeric(pos))]^2 ~ "Value")
    title <- if (one) as.expression(bquote(paste("Profile Plot for ", .(sym)^2))) else bquote("Profile Plot for" ~ .(sym)[.(as.numeric(pos))]^2)
  } else {
    xlab <- if (one) as.expression(bquote(paste(.(sym), " Value"))) else bquote(.(sym)[.(as.numeric(pos))] ~ "Value")
    title <- if (one) as.expression(bquote(paste("Profile Plot for ", .(sym)))) else bquote("Profile Plot for" ~ .(sym)[.(as.numeric(pos))])
  }
  sav <- list(vcs, ll = lls, beta = tab("beta"), ci.lb = tab("ci.lb"), ci.ub = tab("ci.ub"), comps = 1,
              ylim = ylim, method = x$method, vc = vc, maxll = maxll, xlab = xlab, title = title)
  names(sav)[1L] <- comp
  class(sav) <- "mf_profile"
  if (isTRUE(plot)) plot(sav, ...)
  sav
}
