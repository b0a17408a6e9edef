# Variance inflation factors of the coefficients of a meta-regression, as
# metafor's vif.rma(): the (generalised) VIF of Fox & Monette (1992),
# computed from the correlation matrix of the estimates, or from a refit
# of the model with only the tested moderators (reestimate = TRUE).
# Fox J, Monette G (1992). Generalized collinearity diagnostics. J Am Stat
# Assoc 87:178-183.

#' Variance inflation factors
#'
#' The variance inflation factors (VIF) of the coefficients of a
#' meta-regression, as metafor's \code{vif()} for \code{rma.uni} and
#' \code{rma.mv} fits.  For a
#' set of m coefficients \code{btt} the generalised VIF (Fox & Monette 1992)
#' is \eqn{\det(R_{11}) \det(R_{22}) / \det(R)}{det(R11) det(R22) / det(R)},
#' with \eqn{R} the correlation matrix of the estimates without the
#' intercept, \eqn{R_{11}}{R11} its block of \code{btt} and
#' \eqn{R_{22}}{R22} the rest; the generalised SIF is
#' \eqn{GVIF^{1/(2m)}}{GVIF^(1/(2m))} (the square root of the VIF for m = 1).
#' With \code{reestimate = TRUE} the model is refitted with only the
#' moderators \code{btt} (and the intercept), so that tau^2 is re-estimated,
#' and the VIF is the ratio of the determinants of the covariance matrices
#' of the estimates in the full and the reduced model.  For \code{rma.mv()}
#' fits the refit keeps the random effects, the structures and the fixed
#' components of the fit and re-estimates the others (as metafor); it is
#' not available for fits with user weights (\code{W}).
#'
#' @param x an object of class \code{mf_rma} or \code{mf_rma_mv}.
#' @param btt the coefficients (indices or a string matched against the
#'   names) for one (G)VIF; a list (or a character vector of several strings)
#'   gives one per element.  Default: one VIF per coefficient other than the
#'   intercept.
#' @param att metafor's VIFs of the scale coefficients of location-scale
#'   models; metafast fits no location-scale models, so giving it is an
#'   error.
#' @param table with the default \code{btt}: add the VIFs to the table of
#'   the coefficients (estimate, se, test statistic, p-value, CI).
#' @param reestimate refit the model with only the tested moderators (see
#'   Details).
#' @param sim simulate the distribution of the VIFs under independent
#'   moderators, as metafor: \code{TRUE} (1000 data sets) or the number of
#'   data sets.  In each, every variable of the model formula is permuted on
#'   its own (every column of the model matrix when the fit does not hold its
#'   formula and data), so that the moderators keep their values but not
#'   their correlations; the model is refitted with the settings of the fit
#'   and its VIFs computed as for the fit (an \code{rma.mv()} fit: its random
#'   effects, fixed components and user weights kept, the components
#'   re-estimated from the fit's estimates, as metafor refits
#'   \code{rma.mv()}).  The result then holds
#'   \code{sim} (one row per data set, one column per VIF; NA where a refit
#'   failed, Inf where it dropped a predictor of the set) and \code{prop}
#'   (the proportion of simulated VIFs that the observed one reaches or
#'   exceeds), printed beside the VIFs and drawn by \code{plot()}.  The
#'   draws are those of metafor's (R's \code{sample()} in the same order),
#'   so under the same seed both give the same data sets.
#' @param seed \code{NULL} (the draws continue R's random number stream, set
#'   it with \code{set.seed()}) or a number: data set l starts from
#'   \code{set.seed(seed + l)}, as metafor.
#' @param progbar metafor's progress bar of the simulation: accepted and
#'   ignored.
#' @param parallel,ncpus,cl metafor's parallel simulation: not supported
#'   (values other than the defaults are errors; the results do not depend
#'   on them).
#' @param digits number of decimals for printing.
#' @param ... further arguments of methods.
#' @return A list of class \code{vif.mf_rma} with \code{vif} (one data frame
#'   per element of \code{btt}: \code{spec}, \code{coefs}, \code{coefname},
#'   \code{m}, \code{vif}, \code{sif}), \code{vifs}, with \code{table}
#'   the coefficient table, and with \code{sim} the simulated VIFs
#'   \code{sim} and \code{prop}; \code{as.data.frame()} gives metafor's
#'   table.
#' @references Fox J, Monette G (1992). Generalized collinearity
#'   diagnostics. \emph{J Am Stat Assoc} 87:178-183.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.2, 0.5),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02),
#'                   x1 = c(1, 3, 2, 5, 4, 6, 8, 7), x2 = c(2, 1, 4, 3, 6, 5, 7, 9))
#' fit <- rma(yi, vi, mods = ~ x1 + x2, data = dat)
#' vif(fit)
#' vif(fit, table = TRUE)
#' vif(fit, btt = 2:3)
#' vs <- vif(fit, sim = 200, seed = 1)
#' vs
#' plot(vs)
#' @export
vif <- function(x, ...) UseMethod("vif")

#' @rdname vif
#' @export
vif.mf_rma <- function(x, btt, att, table = FALSE, reestimate = FALSE, sim = FALSE, progbar = TRUE,
                       seed = NULL, parallel = "no", ncpus = 1, cl, digits, ...) {
  if (!missing(att) && !is.null(att))
    .mf_stop("Argument 'att' (VIFs of the scale coefficients of location-scale models) is not supported: metafast fits no location-scale models.")
  nsim <- .mf_vif_nsim(sim)
  if (!is.null(seed) && (!is.numeric(seed) || length(seed) != 1L || !is.finite(seed)))
    .mf_stop("'seed' must be NULL or one number (the seed of the simulation, as metafor's set.seed(seed + l) per replicate).")
  if (!identical(parallel, "no")) .mf_stop("Argument 'parallel' of vif() is not supported: the simulation runs sequentially (its results do not depend on it).")
  if (!is.numeric(ncpus) || !identical(as.numeric(ncpus), 1)) .mf_stop("Argument 'ncpus' of vif() is not supported: the simulation runs sequentially (its results do not depend on it).")
  if (!missing(cl)) .mf_stop("Argument 'cl' of vif() is not supported: the simulation runs sequentially.")
  for (nm in c("table", "reestimate")) {
    v <- get(nm)
    if (!is.logical(v) || length(v) != 1L || is.na(v)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  if (x$int.only) .mf_stop("VIFs are not applicable to intercept-only models.")
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  cn <- rownames(x$beta)
  bttmiss <- missing(btt) || is.null(btt)
  if (bttmiss) btt <- as.list(if (x$int.incl) 2:x$p else seq_len(x$p))
  if (is.character(btt)) btt <- as.list(btt)
  if (!is.list(btt)) btt <- list(btt)
  spec <- btt
  btt <- lapply(btt, .mf_btt, names = cn, int.incl = x$int.incl)
  if (x$int.incl && any(vapply(btt, function(b) identical(b, 1L), logical(1))))
    .mf_stop("Cannot compute a VIF for the intercept alone (btt = 1).")
  vif <- lapply(seq_along(btt), function(j) {
    b <- btt[[j]]
    gvif <- if (reestimate) .mf_vif_refit(x, b) else .mf_vif_cor(x$vb, b, x$int.incl)
    b <- if (x$int.incl) b[b > 1L] else b   # the intercept is not among the tested
    m <- length(b)
    data.frame(spec = .mf_format_btt(spec[[j]]), coefs = .mf_format_btt(b),
               coefname = if (m == 1L) cn[b] else "", m = m, vif = gvif,
               sif = gvif^(1 / (2 * m)), stringsAsFactors = FALSE)
  })
  names(vif) <- if (bttmiss) vapply(vif, function(v) v$coefname, "") else vapply(vif, function(v) v$coefs, "")
  res <- list(vif = vif, vifs = vapply(vif, function(v) v$vif, numeric(1)))
  if (table && bttmiss) {
    res$table <- .mf_coef_table(x)
    res$test <- x$test
  }
  res$bttspec <- !bttmiss
  res$digits <- d
  class(res) <- "vif.mf_rma"
  # the distribution of the VIFs under independent moderators (metafor's
  # sim): none when every VIF is 1 or predictors were dropped
  if (nsim >= 2L && all(res$vifs == 1, na.rm = TRUE)) nsim <- 0L
  if (nsim >= 2L && !is.null(x$coef.na) && any(x$coef.na)) {
    warning("Cannot use 'sim' when some redundant predictors were dropped from the model.", call. = FALSE)
    nsim <- 0L
  }
  if (nsim >= 2L) {
    if (!is.null(seed)) set.seed(seed)
    sim_res <- .mf_vif_sim(x, btt, nsim, reestimate, seed)
    res$sim <- sim_res
    res$prop <- apply(res$vifs >= t(sim_res), 1L, mean, na.rm = TRUE)
  }
  res
}

# metafor's sim: TRUE is 1000 replicates, FALSE none, a number (rounded) at
# least 2.
.mf_vif_nsim <- function(sim) {
  if (is.logical(sim) && length(sim) == 1L && !is.na(sim)) return(if (sim) 1000L else 0L)
  if (!is.numeric(sim) || length(sim) != 1L || !is.finite(sim))
    .mf_stop("'sim' must be TRUE, FALSE or the number of simulated data sets (>= 2).")
  if (identical(as.numeric(sim), 0)) return(0L)
  sim <- round(sim)
  if (sim <= 1) .mf_stop("'sim' must be >= 2 (the number of simulated data sets).")
  as.integer(sim)
}

# The VIFs of `nsim` data sets in which each moderator is permuted on its
# own, so that the moderators are independent while each keeps its values
# (metafor's vif(sim = )): the variables of the model formula are permuted
# and the model matrix rebuilt when the fit has the formula and its data,
# otherwise the columns of the model matrix (the intercept's too, as metafor,
# so that the random numbers are drawn as there).  Each data set is refitted
# with the settings of the fit and its VIFs computed as for the fit.  With a
# seed, replicate l starts from set.seed(seed + l) (metafor's streams);
# without, the draws continue R's stream.  A replicate whose refit fails
# gives NA; one that drops a predictor gives Inf for the sets holding it.
.mf_vif_sim <- function(x, btt, nsim, reestimate, seed) {
  use_data <- !is.null(x$data) && !is.null(x$formula.mods) && is.data.frame(x$data)
  if (use_data) {
    dat <- stats::get_all_vars(x$formula.mods, data = x$data)
    if (!is.null(x$subset)) dat <- dat[x$subset, , drop = FALSE]
    if (!is.null(x$not.na)) dat <- dat[x$not.na, , drop = FALSE]
  }
  out <- matrix(NA_real_, nsim, length(btt), dimnames = list(seq_len(nsim), seq_along(btt)))
  for (l in seq_len(nsim)) {
    if (!is.null(seed)) set.seed(seed + l)
    Xp <- if (use_data) {
      tryCatch(stats::model.matrix(x$formula.mods, data = as.data.frame(lapply(dat, sample))), error = function(e) NULL)
    } else apply(x$X, 2L, sample)
    if (is.null(Xp) || nrow(Xp) != nrow(x$X)) next
    fit <- if (inherits(x, "mf_rma_mv")) .mf_vif_fit_X_mv(x, Xp) else .mf_vif_fit_X(x, Xp, "vb")
    if (is.null(fit)) next
    if (length(fit$dropped)) {
      out[l, ] <- vapply(btt, function(b) if (any(fit$dropped %in% b)) Inf else NA_real_, numeric(1))
      next
    }
    out[l, ] <- vapply(btt, function(b) {
      if (reestimate) .mf_vif_refit(fit$fit, b, x$int.incl) else .mf_vif_cor(fit$fit$vb, b, x$int.incl)
    }, numeric(1))
  }
  attr(out, "type") <- if (use_data) "data" else "X"
  out
}

# The same for an rma.mv() fit (metafor refits rma.mv() with the permuted
# model matrix, its variance components re-estimated): the fit's spec (rows,
# blocks, structure, fixed components) with the model matrix X, started at
# the fit's estimates; the columns that metafor drops as redundant (lm()'s
# pivoted QR at tolerance 1e-7) are reported, not fitted.  With user weights
# the coefficients and their covariance are the weighted ones, as the fit's.
# The result stands in for the fit (vb, X, the spec and theta) in
# .mf_vif_cor() and .mf_vif_refit_mv().
# The rma.mv() fit x refitted (its variance components re-estimated from x's
# estimate as the start) with the model matrix X (rows in x's data order):
# the C++ fit's list with the refit's spec, or NULL when it fails or does not
# converge.  (User
# weights: the components are fitted without them, as the fit's.)
.mf_vif_refit_mv_X <- function(x, X) {
  spec <- x$mf.spec
  spec$refuse <- NULL
  Xo <- X[spec$order, , drop = FALSE]
  dimnames(Xo) <- NULL
  spec$X <- Xo
  fitfun <- .mf_mv_fitfun(spec)
  con <- x$control
  f <- tryCatch(suppressWarnings(fitfun(spec, .mf_mv_theta(x), x$method == "REML", con$threshold, con$maxiter, con$stepadj)),
                error = function(e) NULL)
  if (is.null(f) || !length(f$beta) || !isTRUE(f$convergence$converged)) return(NULL)
  f$spec <- spec
  f
}

.mf_vif_fit_X_mv <- function(x, X) {
  qx <- qr(X, tol = 1e-7)
  if (qx$rank < ncol(X)) return(list(fit = NULL, dropped = sort(qx$pivot[-seq_len(qx$rank)])))
  f <- .mf_vif_refit_mv_X(x, X)
  if (is.null(f)) return(NULL)
  vb <- f$vb
  if (.mf_mv_hasW(x)) {
    wb <- tryCatch(.mf_mv_wfit(.mf_mv_Wc(x), X, x$yi, f$spec, f$theta, c(f$beta), vb), error = function(e) NULL)
    if (is.null(wb)) return(NULL)
    vb <- wb$vb
  }
  out <- x
  out$X <- X
  out$vb <- vb
  out$mf.spec <- f$spec
  out$mf.theta <- f$theta
  list(fit = out, dropped = integer(0))
}

# The fit of x with the model matrix X (the intercept, if any, among its
# columns): the fit and the indices of the columns dropped as redundant, or
# NULL when the fit fails.
.mf_vif_fit_X <- function(x, X, what) {
  colnames(X) <- paste0("X", seq_len(ncol(X)))
  con <- x$control[intersect(names(x$control), c("threshold", "maxiter", "stepadj", "tau2.min", "tau2.max", "tol"))]
  fit <- tryCatch(suppressWarnings(
    rma(x$yi, x$vi, weights = x$weights, mods = X, intercept = FALSE, method = x$method, test = x$test,
        level = 100 * (1 - x$level), tau2 = if (isTRUE(x$tau2.fix)) x$tau2 else NULL, control = con)),
    error = function(e) NULL)
  if (is.null(fit)) return(NULL)
  list(fit = fit, dropped = which(!colnames(X) %in% rownames(fit$beta)))
}

#' @rdname vif
#' @export
vif.mf_rma_mv <- vif.mf_rma

# GVIF from the correlation matrix of the estimates without the intercept:
# det(R[btt, btt]) det(R[-btt, -btt]) / det(R) (Fox & Monette 1992).
.mf_vif_cor <- function(vb, btt, int.incl) {
  if (int.incl) {
    vb <- vb[-1L, -1L, drop = FALSE]
    btt <- btt - 1L
    btt <- btt[btt > 0L]
  }
  R <- suppressWarnings(stats::cov2cor(vb))
  det(R[btt, btt, drop = FALSE]) * det(R[-btt, -btt, drop = FALSE]) / det(R)
}

# GVIF with the model refitted on the tested moderators only (tau^2
# re-estimated): det(vb_full[btt, btt]) / det(vb_reduced without intercept).
.mf_vif_refit <- function(x, btt, int.incl = x$int.incl) {
  if (inherits(x, "mf_rma_mv")) return(.mf_vif_refit_mv(x, btt))
  b <- if (int.incl) btt[btt > 1L] else btt
  Xb <- x$X[, b, drop = FALSE]
  if (int.incl) Xb <- cbind(intrcpt = 1, Xb)
  red <- .mf_vif_fit_X(x, Xb, "vb")
  if (is.null(red)) return(NA_real_)
  red <- red$fit
  vr <- if (int.incl) red$vb[-1L, -1L, drop = FALSE] else red$vb
  det(x$vb[b, b, drop = FALSE]) / det(vr)
}

# The table of the coefficients (metafor's coef(summary(fit))).
.mf_coef_table <- function(x) {
  tdist <- .mf_tdist(x$test)
  tab <- data.frame(estimate = c(x$beta), se = unname(x$se), stringsAsFactors = FALSE)
  if (tdist) {
    tab$tval <- unname(x$zval)
    tab$df <- rep(as.integer(x$k - x$p), x$p)
  } else {
    tab$zval <- unname(x$zval)
  }
  tab$pval <- unname(x$pval)
  tab$ci.lb <- unname(x$ci.lb)
  tab$ci.ub <- unname(x$ci.ub)
  rownames(tab) <- rownames(x$beta)
  tab
}

#' @rdname vif
#' @export
print.vif.mf_rma <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  cat("\n")
  if (isTRUE(x$bttspec)) {
    if (length(x$vif) == 1L) {
      v <- x$vif[[1L]]
      if (v$m == 1) {
        cat("Collinearity Diagnostics (coefficient ", v$coefs, "):\n", sep = "")
        cat("VIF = ", .mf_fmtx(v$vif, d), ", SIF = ", .mf_fmtx(v$sif, d), sep = "")
      } else {
        cat("Collinearity Diagnostics (coefficients ", v$coefs, "):\n", sep = "")
        cat("GVIF = ", .mf_fmtx(v$vif, d), ", GSIF = ", .mf_fmtx(v$sif, d), sep = "")
      }
      if (!is.null(x$sim)) cat(", prop = ", .mf_fmtx(x$prop, 2L), sep = "")
      cat("\n")
    } else {
      tab <- do.call(rbind, x$vif)
      tab$vif <- .mf_fmtx(tab$vif, d)
      tab$sif <- .mf_fmtx(tab$sif, d)
      tab$coefname <- NULL
      if (!is.null(x$sim)) tab$prop <- .mf_fmtx(x$prop, 2L)
      if (all(substr(tab$spec, 1, 1) %in% as.character(1:9))) tab$spec <- NULL
      rownames(tab) <- NULL
      print(tab, quote = FALSE, right = TRUE, print.gap = 1)
    }
  } else if (is.null(x$table) && !is.null(x$sim)) {
    tab <- data.frame(vif = .mf_fmtx(x$vifs, d), prop = .mf_fmtx(x$prop, 2L), row.names = names(x$vifs))
    print(tab, quote = FALSE, right = TRUE, print.gap = 2)
  } else if (is.null(x$table)) {
    print(noquote(.mf_fmtx(x$vifs, d)), right = TRUE, print.gap = 2)
  } else {
    vifs <- x$vifs; sifs <- vapply(x$vif, function(v) v$sif, numeric(1))
    if (length(vifs) != nrow(x$table)) { vifs <- c(NA_real_, vifs); sifs <- c(NA_real_, sifs) }
    t <- x$table
    tab <- data.frame(estimate = .mf_fmtx(t$estimate, d), se = .mf_fmtx(t$se, d), stringsAsFactors = FALSE)
    if (!is.null(t$tval)) {
      tab$tval <- .mf_fmtx(t$tval, d)
      tab$df <- round(t$df, 2)
    } else {
      tab$zval <- .mf_fmtx(t$zval, d)
    }
    tab$pval <- .mf_fmtp(t$pval, d)
    tab$ci.lb <- .mf_fmtx(t$ci.lb, d)
    tab$ci.ub <- .mf_fmtx(t$ci.ub, d)
    tab$vif <- .mf_fmtx(vifs, d)
    tab$sif <- .mf_fmtx(sifs, d)
    rownames(tab) <- rownames(t)
    if (!is.null(x$sim)) tab$prop <- .mf_fmtx(if (length(x$prop) != nrow(t)) c(NA_real_, x$prop) else x$prop, 2L)
    print(tab, quote = FALSE, right = TRUE, print.gap = 1)
  }
  cat("\n")
  invisible(x)
}

#' @rdname vif
#' @param row.names,optional ignored (for the \code{as.data.frame} generic).
#' @export
as.data.frame.vif.mf_rma <- function(x, row.names = NULL, optional = FALSE, ...) {
  tab <- data.frame(spec = vapply(x$vif, function(v) v$spec, ""),
                    coefs = vapply(x$vif, function(v) v$coefs, ""),
                    m = vapply(x$vif, function(v) v$m, numeric(1)),
                    vif = vapply(x$vif, function(v) v$vif, numeric(1)),
                    sif = vapply(x$vif, function(v) v$sif, numeric(1)), stringsAsFactors = FALSE)
  if (!is.null(x$prop)) tab$prop <- x$prop
  if (all(substr(tab$spec, 1, 1) %in% as.character(1:9))) tab$spec <- NULL
  if (isTRUE(x$bttspec)) rownames(tab) <- NULL
  tab
}

# The same for an rma.mv() fit: the fit's spec (its blocks, structure and
# fixed components) with the design of the tested moderators (and the
# intercept), the components re-estimated from the fit's estimates.
.mf_vif_refit_mv <- function(x, btt) {
  .mf_mv_refuse(x)
  if (.mf_mv_hasW(x)) .mf_stop("vif(reestimate = TRUE) of rma.mv() fits with user weights ('W') is not supported by metafast yet (issue 12).")
  b <- if (x$int.incl) btt[btt > 1L] else btt
  Xb <- x$X[, b, drop = FALSE]
  if (x$int.incl) Xb <- cbind(intrcpt = 1, Xb)
  red <- .mf_vif_refit_mv_X(x, Xb)
  if (is.null(red)) return(NA_real_)
  vr <- if (x$int.incl) red$vb[-1L, -1L, drop = FALSE] else red$vb
  det(x$vb[b, b, drop = FALSE]) / det(vr)
}
