# Permutation tests of a fitted model (C++ kernel: src/core/permutation.hpp),
# with the scheme and p-value conventions of metafor's permutest.rma.uni().

#' Permutation tests for meta-analytic models
#'
#' Generic; the method for \code{\link{rma}} fits is
#' \code{\link{permutest.mf_rma}}.  (\pkg{metafor} has its own generic of the
#' same name; both can be loaded.)
#'
#' @param x a fitted model.
#' @param ... passed to the method.
#' @return See the method.
#' @export
permutest <- function(x, ...) UseMethod("permutest")

#' Permutation test of a meta-analytic model
#'
#' Permutation p-values for the coefficients and the omnibus test of a model
#' fitted by \code{\link{rma}}, as \code{metafor::permutest()} computes them
#' (Follmann & Proschan 1999; Higgins & Thompson 2004): for an intercept-only
#' model the signs of the outcomes are flipped; for a model with moderators
#' the rows of the model matrix are permuted against the outcomes and their
#' sampling variances.  The test is exact -- over all \eqn{2^k} sign vectors,
#' or all distinct arrangements of the rows of the model matrix -- when
#' \code{exact = TRUE} or when their number is at most \code{iter}; otherwise
#' \code{iter} random permutations are used, the first of which is the
#' observed data.  The p-value of a coefficient is the proportion of
#' permutations with \eqn{|z^*| \ge |z|} (t statistics for \code{test = "t"}
#' or \code{"knha"}), that of the omnibus test the proportion with
#' \eqn{QM^* \ge QM} (F statistics for t tests), with a tolerance of
#' \code{sqrt(.Machine$double.eps)} as metafor.  Permuted models that cannot
#' be fitted are left out of an exact test and redrawn in a random one.
#'
#' The permutations are refitted in C++ on several threads; a random test is
#' reproducible with \code{set.seed()} for any number of threads.
#'
#' @param x a model fitted by \code{\link{rma}}.
#' @param iter number of random permutations.
#' @param exact force an exact test (all permutations).
#' @param permci permutation-based confidence intervals: \code{FALSE}
#'   (default), \code{TRUE} for all coefficients, or the numbers (or names)
#'   of the coefficients.  As in metafor, bound \eqn{b_0} of coefficient
#'   \eqn{j} is found with \code{\link[stats]{uniroot}} as the value where the
#'   one-sided permutation p-value of \eqn{H_0: \beta_j = b_0}, computed from
#'   outcomes \eqn{y_i - b_0 x_{ij}} (the model refitted) with the same
#'   permutations (the same seed for a random test), crosses \eqn{\alpha/2};
#'   the lower bound is searched in \eqn{[lb - (b - lb), b]}, the upper in
#'   \eqn{[b, ub + (ub - b)]}, with \eqn{b} the estimate and \eqn{lb, ub} the
#'   model-based bounds.  Where a search fails, the model-based bound is kept
#'   with a warning (metafor returns \code{NA}); coefficients not selected keep
#'   their model-based bounds.
#' @param control list for the CI search: \code{tol} (tolerance of
#'   \code{uniroot}, default \code{.Machine$double.eps^0.25} as metafor),
#'   \code{maxiter} (default 100) and \code{distfac} (default 1: how far beyond
#'   the model-based bound to search, in units of its distance to the
#'   estimate).
#' @param btt coefficients for the omnibus test (default: those of the fit).
#' @param threads number of threads (see \code{\link{boot_rma}}).
#' @param parallel \code{"no"}, or \code{"future"} to split the permutations
#'   over the workers of the current \code{future::plan()} (needs the
#'   \pkg{future.apply} package); the result is identical to \code{"no"}.
#' @param progress show a progress bar (needs \pkg{progressr}).
#' @param progbar metafor's name for \code{progress}: used when \code{progress} is
#'   not given (its default, \code{interactive()}, is kept otherwise).
#' @param ... ignored.
#' @return An object of class \code{mf_permutest}: \code{pval} (permutation
#'   p-values of the coefficients), \code{QMp}, the statistics of the fit
#'   (\code{beta}, \code{se}, \code{zval}, \code{ci.lb}, \code{ci.ub},
#'   \code{QM}, \code{QMdf}), \code{exact}, \code{iter} (number of
#'   permutations used), \code{exact.iter} (number needed for an exact test),
#'   \code{seed}, and the permutation distributions \code{zval.perm},
#'   \code{beta.perm} (data frames) and \code{QM.perm}.
#' @references Follmann DA, Proschan MA (1999). Valid inference in random
#'   effects meta-analysis. \emph{Biometrics} 55:1-7.
#'   Higgins JPT, Thompson SG (2004). Controlling the risk of spurious
#'   findings from meta-regression. \emph{Stat Med} 23:1663-1682.
#'   Viechtbauer W, Lopez-Lopez JA, Sanchez-Meca J, Marin-Martinez F (2015).
#'   A comparison of procedures to test for moderators in mixed-effects
#'   meta-regression models. \emph{Psychol Methods} 20:360-374.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' permutest(fit, progress = FALSE)   # 6! = 720 <= 1000: exact
#' @export
permutest.mf_rma <- function(x, iter = 1000, exact = FALSE, permci = FALSE, btt, threads = NULL,
                             progress = interactive(), control = list(), parallel = c("no", "future"),
                             progbar = TRUE, ...) {
  .mf_check_dots("permutest.mf_rma", ...)
  if (missing(progress) && !missing(progbar)) progress <- .mf_cd_flag(progbar, "progbar")
  d <- .mf_resample_input(x)
  iter <- .mf_whole(iter, "iter", 2, max = 1e9)
  if (!is.logical(exact) || length(exact) != 1L || is.na(exact)) .mf_stop("'exact' must be TRUE or FALSE.")
  ci.coefs <- .mf_permci_coefs(permci, colnames(d$X))
  con <- .mf_permci_control(control)
  if (!is.logical(progress) || length(progress) != 1L || is.na(progress))
    .mf_stop("'progress' must be TRUE or FALSE.")
  parallel <- .mf_parallel_arg(parallel, list(...), "permutest")
  btt <- if (missing(btt)) x$btt else .mf_btt(btt, colnames(d$X), x$int.incl)
  m <- length(btt)
  tdist <- .mf_tdist(x$test)
  QM <- .mf_wald_stat(x, btt = btt)
  if (tdist) QM <- QM / m
  QMdf <- c(m, if (tdist) x$k - x$p else NA_integer_)
  QMp <- if (tdist) stats::pf(QM, m, QMdf[2L], lower.tail = FALSE) else stats::pchisq(QM, m, lower.tail = FALSE)

  int.only <- isTRUE(x$int.only)
  k <- d$k
  exact.iter <- if (int.only) 2^k else .mf_n_arrangements(d$X)
  use.exact <- exact || exact.iter <= iter
  if (use.exact && exact.iter > 1e7)
    .mf_stop(sprintf("Too many permutations (%s) for an exact permutation test; use exact = FALSE.",
                     format(exact.iter, big.mark = ",")))
  n <- if (use.exact) exact.iter else iter
  seed <- if (use.exact) NA_real_ else .mf_draw_seed()
  nthreads <- .mf_threads(threads, n_work = n, min_per_thread = 32L)
  # the permutations of outcomes y (the observed ones, or shifted ones for permci)
  perm_run <- function(y, progress) {
    kernel <- function(start, end, nthreads, prog) {
      .mf_perm_kernel(y, d$vi, d$X, d$weights, d$method, d$test, d$control, as.integer(btt),
                      int.only, use.exact, n, if (use.exact) 0 else seed, start, end, nthreads, prog)
    }
    .mf_run_replicates(kernel, n, parallel, nthreads, progress)
  }
  res <- perm_run(d$yi, progress)
  comptol <- .Machine$double.eps^0.5
  ci <- list(lb = c(x$ci.lb), ub = c(x$ci.ub), perm = rep(FALSE, d$p))
  if (length(ci.coefs)) {
    # the smallest attainable one-sided p-value must reach alpha / 2 (metafor's check is 1/n > alpha)
    if (1 / n > x$level) {
      warning(sprintf("Cannot obtain a %g%% permutation-based CI: too few permutations (%s); the model-based CI is kept.",
                      100 * (1 - x$level), format(n, big.mark = ",")), call. = FALSE)
    } else {
      ci <- .mf_permci(x, d, ci.coefs, con, perm_run, comptol, ci)
    }
  }
  .mf_perm_result(x, res, colnames(d$X), btt, QM, QMdf, QMp, ci, use.exact, n, exact.iter, seed, nthreads)
}

#' Permutation test of a multilevel / multivariate model
#'
#' Permutation p-values for the coefficients and the omnibus test of a model
#' fitted by \code{\link{rma.mv}} (\pkg{metafor} 5.2 has no permutation test
#' for \code{rma.mv()} fits; this method extends the scheme of
#' \code{\link{permutest.mf_rma}} to them).  The units that are permuted are
#' the rows of the fit, or with \code{cluster} whole clusters: for an
#' intercept-only model the signs of all outcomes of a unit are flipped
#' together; for a model with moderators the rows of the model matrix are
#' permuted over the units (with \code{cluster}, the moderators must be
#' constant within clusters -- cluster-level moderators -- and a cluster's
#' row of moderator values moves as a whole to another cluster).  The
#' outcomes, their sampling covariance matrix \code{V} and the random-effects
#' structure stay in place, and every permuted model is refitted (REML or ML,
#' from the fit's variance components as starting values) in C++ on several
#' threads.  The test is exact -- all \eqn{2^n} sign vectors or all distinct
#' arrangements of the units' design rows -- when \code{exact = TRUE} or when
#' their number is at most \code{iter}; otherwise \code{iter} random
#' permutations are used, the first being the observed data, reproducible
#' with \code{set.seed()} for any number of threads.  The p-values are
#' computed as in \code{\link{permutest.mf_rma}}.  Permuting rows (no
#' \code{cluster}) treats the rows as exchangeable, which correlated rows are
#' not: with dependent effects give the clusters that carry the dependence
#' (e.g. studies).
#'
#' @param x a model fitted by \code{\link{rma.mv}}.
#' @param iter,exact,btt,threads,progress,parallel,progbar as in
#'   \code{\link{permutest.mf_rma}}.
#' @param permci only \code{FALSE} (permutation-based intervals are not
#'   available for \code{rma.mv()} fits).
#' @param cluster optional clustering variable (evaluated in the data of the
#'   fit, of the length of the original data): the units permuted (or whose
#'   signs are flipped) are its clusters.
#' @param ... as in \code{\link{permutest.mf_rma}}.
#' @return An object of class \code{mf_permutest} (see
#'   \code{\link{permutest.mf_rma}}), with \code{n.units} (the number of
#'   units permuted) and \code{cluster} (the cluster values of the units, in
#'   sorted order, or \code{NULL}).
#' @examples
#' dat <- metadat::dat.konstantopoulos2011
#' fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
#' set.seed(1)
#' permutest(fit, iter = 200, cluster = district, progress = FALSE)
#' @export
permutest.mf_rma_mv <- function(x, iter = 1000, exact = FALSE, permci = FALSE, btt, threads = NULL,
                                progress = interactive(), parallel = c("no", "future"), progbar = TRUE,
                                cluster, ...) {
  .mf_check_dots("permutest.mf_rma", ...)
  if (missing(progress) && !missing(progbar)) progress <- .mf_cd_flag(progbar, "progbar")
  u <- .mf_mv_units_sorted(x, if (missing(cluster)) NULL else substitute(cluster), parent.frame())
  iter <- .mf_whole(iter, "iter", 2, max = 1e9)
  if (!is.logical(exact) || length(exact) != 1L || is.na(exact)) .mf_stop("'exact' must be TRUE or FALSE.")
  if (!isFALSE(permci))
    .mf_stop("'permci' (permutation-based confidence intervals) is not available for rma.mv() fits; use permci = FALSE.")
  if (!is.logical(progress) || length(progress) != 1L || is.na(progress))
    .mf_stop("'progress' must be TRUE or FALSE.")
  parallel <- .mf_parallel_arg(parallel, list(...), "permutest")
  X <- x$X
  storage.mode(X) <- "double"
  nms <- colnames(X)
  btt <- if (missing(btt)) x$btt else .mf_btt(btt, nms, x$int.incl)
  m <- length(btt)
  tdist <- .mf_tdist(x$test)
  QM <- .mf_wald_stat(x, btt = btt)
  if (tdist) QM <- QM / m
  QMdf <- c(m, if (tdist) x$QMdf[2L] else NA_integer_)
  QMp <- if (tdist) stats::pf(QM, m, QMdf[2L], lower.tail = FALSE) else stats::pchisq(QM, m, lower.tail = FALSE)
  int.only <- isTRUE(x$int.only)
  nu <- u$n
  # the design row of each unit; with clusters the moderators must be cluster-level
  first <- match(seq_len(nu) - 1L, u$unit)
  Xu <- X[first, , drop = FALSE]
  if (!int.only && !is.null(u$ids)) {
    bad <- which(rowSums(abs(X - Xu[u$unit + 1L, , drop = FALSE])) > 0)
    if (length(bad)) {
      cols <- nms[colSums(abs(X - Xu[u$unit + 1L, , drop = FALSE])) > 0]
      .mf_stop(sprintf("permutest(cluster = ) permutes cluster-level moderators, but %s %s within clusters (e.g. cluster '%s').",
                       paste0("'", cols, "'", collapse = ", "), if (length(cols) > 1L) "vary" else "varies",
                       format(u$ids[u$unit[bad[1L]] + 1L])))
    }
  }
  exact.iter <- if (int.only) 2^nu else .mf_n_arrangements(Xu)
  use.exact <- exact || exact.iter <= iter
  if (use.exact && (exact.iter > 1e7 || (int.only && nu > 40)))
    .mf_stop(sprintf("Too many permutations (%s) for an exact permutation test; use exact = FALSE.",
                     format(exact.iter, big.mark = ",")))
  n <- if (use.exact) exact.iter else iter
  seed <- if (use.exact) NA_real_ else .mf_draw_seed()
  nthreads <- .mf_threads(threads, n_work = n, min_per_thread = 2L)
  spec <- x$mf.spec
  con <- x$control
  unit <- as.integer(u$unit[spec$order])
  theta <- as.double(.mf_mv_theta(x))
  kernel <- function(start, end, nthreads, prog) {
    r <- .mf_rma_mv_perm(spec, unit, Xu, theta, x$method == "REML", con$threshold, as.integer(con$maxiter),
                         con$stepadj, as.integer(btt), tdist, int.only, use.exact, n, if (use.exact) 0 else seed,
                         start, end, nthreads, prog, FALSE)
    r$index <- NULL
    r
  }
  res <- .mf_run_replicates(kernel, n, parallel, nthreads, progress)
  ci <- list(lb = c(x$ci.lb), ub = c(x$ci.ub), perm = rep(FALSE, length(nms)))
  out <- .mf_perm_result(x, res, nms, btt, QM, QMdf, QMp, ci, use.exact, n, exact.iter, seed, nthreads)
  out$n.units <- nu
  out$cluster <- u$ids
  out
}

# The units of a resampling of an rma.mv() fit: the rows of the fit, or the
# clusters of 'cluster' (expr; NULL: none) in sorted order.  unit: 0-based
# unit of each row of the fit (fit order); ids: the sorted cluster values
# (NULL without cluster); n: the number of units.
.mf_mv_units_sorted <- function(x, expr, env) {
  u <- .mf_mv_cd_units(x, expr, env)
  if (is.null(u$ids)) return(list(unit = u$unit, n = u$n, ids = NULL))
  cl <- u$ids[u$unit + 1L]
  ids <- sort(unique(cl))
  if (length(ids) < 2L)
    .mf_stop("'cluster' has a single value (one cluster); resampling by cluster needs at least 2 clusters.")
  list(unit = match(cl, ids) - 1L, n = length(ids), ids = ids)
}

# The mf_permutest object from the permutation statistics res (beta, zval,
# QM): p-values as metafor, two-sided with |z*| >= |z| - tol and QM* >= QM -
# tol (tol = sqrt(.Machine$double.eps)), failed fits left out.
.mf_perm_result <- function(x, res, nms, btt, QM, QMdf, QMp, ci, use.exact, n, exact.iter, seed, nthreads) {
  comptol <- .Machine$double.eps^0.5
  p <- length(nms)
  zval <- c(x$zval)
  pval <- vapply(seq_len(p), function(j) mean(abs(res$zval[, j]) >= abs(zval[j]) - comptol, na.rm = TRUE),
                 numeric(1))
  pval[pval > 1] <- 1
  QMp.perm <- mean(res$QM >= QM - comptol, na.rm = TRUE)
  zval.perm <- as.data.frame(res$zval); names(zval.perm) <- nms
  beta.perm <- as.data.frame(res$beta); names(beta.perm) <- nms
  names(pval) <- nms
  out <- list(pval = pval, QMdf = QMdf, QMp = QMp.perm, QMp.asymptotic = QMp,
              beta = x$beta, se = x$se, zval = x$zval, ci.lb = ci$lb, ci.ub = ci$ub,
              QM = QM, k = x$k, p = p, btt = btt, m = length(btt), test = x$test, ddf = x$ddf,
              int.only = isTRUE(x$int.only), int.incl = x$int.incl,
              digits = if (is.null(x$digits)) 4L else x$digits,
              exact = use.exact, iter = n, exact.iter = exact.iter, seed = seed, permci = ci$perm,
              failed = sum(is.na(res$QM)), threads = nthreads,
              zval.perm = zval.perm, beta.perm = beta.perm, QM.perm = res$QM)
  class(out) <- "mf_permutest"
  out
}

# Which coefficients get a permutation-based CI (integer vector, possibly empty).
.mf_permci_coefs <- function(permci, nms) {
  p <- length(nms)
  if (is.logical(permci) && length(permci) == 1L && !is.na(permci)) return(if (permci) seq_len(p) else integer(0))
  if (is.character(permci) && length(permci) >= 1L && !anyNA(permci)) {
    bad <- setdiff(permci, nms)
    if (length(bad))
      .mf_stop(sprintf("'permci' names coefficients that are not in the model: %s (the model has %s).",
                       paste(bad, collapse = ", "), paste(nms, collapse = ", ")))
    return(match(unique(permci), nms))
  }
  if (is.numeric(permci) && length(permci) >= 1L && !anyNA(permci)) {
    bad <- permci[permci != round(permci) | permci < 1 | permci > p]
    if (length(bad))
      .mf_stop(sprintf("'permci' must select coefficients 1 to %d; not: %s.", p, paste(format(bad), collapse = ", ")))
    return(as.integer(unique(permci)))
  }
  .mf_stop("'permci' must be TRUE, FALSE, or the numbers or names of coefficients.")
}

.mf_permci_control <- function(control) {
  if (!is.list(control)) .mf_stop("'control' must be a list (tol, maxiter, distfac).")
  bad <- setdiff(names(control), c("tol", "maxiter", "distfac"))
  if (length(bad)) .mf_stop(sprintf("Unknown 'control' element(s): %s (allowed: tol, maxiter, distfac).",
                                    paste(bad, collapse = ", ")))
  con <- list(tol = .Machine$double.eps^0.25, maxiter = 100, distfac = 1)
  con[names(control)] <- control
  for (nm in names(con)) {
    v <- con[[nm]]
    if (!is.numeric(v) || length(v) != 1L || is.na(v) || !is.finite(v) || v <= 0)
      .mf_stop(sprintf("'control$%s' must be a single positive number.", nm))
  }
  con$maxiter <- as.integer(round(con$maxiter))
  con
}

# Permutation-based CI bounds by test inversion (metafor's permutest.rma.uni
# with cialt = "one.sided"): bound b0 solves p(b0) = alpha / 2, where p is the
# one-sided permutation p-value (z* >= z for the lower, z* <= z for the upper
# bound) of the model refitted to y - b0 * X[, j], over the same permutations.
# As metafor, uniroot() is given p - alpha/2 with negative values scaled by 10.
.mf_permci <- function(x, d, coefs, con, perm_run, comptol, ci) {
  alpha2 <- x$level / 2
  fail <- character(0)
  pdiff <- function(b0, j, up) {
    y <- d$yi - b0 * d$X[, j]
    obs <- tryCatch(.mf_fit(y, d$vi, d$X, d$weights, d$method, d$test, d$control), error = function(e) NULL)
    if (is.null(obs) || anyNA(obs$beta)) stop("the model could not be fitted")
    z <- obs$beta[j] / sqrt(obs$vb[j, j])
    res <- perm_run(y, FALSE)
    zp <- res$zval[, j]
    pv <- if (up) mean(zp <= z + comptol, na.rm = TRUE) else mean(zp >= z - comptol, na.rm = TRUE)
    dif <- min(pv, 1) - alpha2
    if (dif < 0) 10 * dif else dif
  }
  b <- c(x$beta); lb <- c(x$ci.lb); ub <- c(x$ci.ub)
  for (j in coefs) {
    found <- TRUE
    for (upper in c(FALSE, TRUE)) {
      iv <- if (upper) c(b[j], ub[j] + con$distfac * (ub[j] - b[j])) else c(lb[j] - con$distfac * (b[j] - lb[j]), b[j])
      r <- tryCatch(stats::uniroot(pdiff, interval = iv, j = j, up = upper, tol = con$tol,
                                   maxiter = con$maxiter)$root, error = function(e) NA_real_)
      if (is.na(r)) {
        found <- FALSE
        fail <- c(fail, sprintf("%s of %s", if (upper) "upper" else "lower", colnames(d$X)[j]))
      } else if (upper) ci$ub[j] <- r else ci$lb[j] <- r
    }
    ci$perm[j] <- found   # TRUE when both bounds are permutation-based
  }
  if (length(fail))
    warning(sprintf("Permutation-based CI bound not found (model-based bound kept): %s.", paste(fail, collapse = "; ")),
            call. = FALSE)
  ci
}

# Number of distinct arrangements of the rows of X: k! / prod(n_g!) over the
# groups g of equal rows (a multinomial coefficient).
.mf_n_arrangements <- function(X) {
  cols <- lapply(seq_len(ncol(X)), function(j) sprintf("%.17g", X[, j]))
  key <- do.call(paste, c(cols, sep = "\r"))
  ng <- table(key)
  round(exp(lfactorial(nrow(X)) - sum(lfactorial(ng))))
}

#' @rdname permutest.mf_rma
#' @param digits number of decimals to print.
#' @param signif.stars show significance stars.
#' @export
print.mf_permutest <- function(x, digits = x$digits, signif.stars = getOption("show.signif.stars"), ...) {
  fx <- function(v) ifelse(is.na(v), "NA", formatC(v, format = "f", digits = digits))
  fp <- function(p) {
    thr <- 10^(-digits)
    ifelse(is.na(p), "NA", ifelse(p < thr, paste0("<", sub("^0", "", formatC(thr, format = "f", digits = digits))),
                                  formatC(p, format = "f", digits = digits)))
  }
  cat("\n")
  cat(sprintf("%s permutation test (%s permutations%s)\n\n", if (x$exact) "Exact" else "Approximate",
              format(x$iter, big.mark = ","), if (x$failed > 0) sprintf(", %d not fitted", x$failed) else ""))
  if (!is.null(x$cluster)) cat(sprintf("Permuted units: %d clusters\n\n", length(x$cluster)))
  tdist <- .mf_tdist(x$test)
  if (!x$int.only) {
    btxt <- if (length(x$btt) > 1L && all(diff(x$btt) == 1L)) paste0(min(x$btt), ":", max(x$btt))
            else paste(x$btt, collapse = ",")
    cat(sprintf("Test of Moderators (coefficient%s %s):\u00b9\n", if (x$m == 1) "" else "s", btxt))
    qp <- fp(x$QMp)
    qp <- if (startsWith(qp, "<")) paste("<", substring(qp, 2)) else paste("=", qp)
    if (tdist) cat(sprintf("F(df1 = %d, df2 = %d) = %s, p-val %s\n\n", x$QMdf[1L], x$QMdf[2L], fx(x$QM), qp))
    else cat(sprintf("QM(df = %d) = %s, p-val %s\n\n", x$QMdf[1L], fx(x$QM), qp))
  }
  tab <- data.frame(estimate = fx(c(x$beta)), se = fx(x$se), stat = fx(c(x$zval)), stringsAsFactors = FALSE)
  names(tab)[3L] <- if (tdist) "tval" else "zval"
  if (tdist) tab$df <- x$ddf
  tab$pval <- paste0(fp(x$pval), "\u00b9")
  tab$ci.lb <- fx(x$ci.lb)
  tab$ci.ub <- fx(x$ci.ub)
  if (signif.stars) {
    tab[[" "]] <- as.character(stats::symnum(x$pval, corr = FALSE, na = FALSE,
                                              cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                                              symbols = c("***", "**", "*", ".", " ")))
  }
  rownames(tab) <- rownames(x$beta)
  cat("Model Results:\n\n")
  print(tab, quote = FALSE, right = TRUE, print.gap = 2)
  cat("\n---\n")
  if (signif.stars) cat("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n")
  cat(sprintf("\n\u00b9 p-value%s based on permutation testing\n\n", if (x$int.only) "" else "s"))
  invisible(x)
}

#' @rdname permutest.mf_rma
#' @param row.names,optional ignored (for the \code{as.data.frame} generic).
#' @return \code{as.data.frame()}: the printed table of model results (metafor
#'   has no such method): one row per coefficient with \code{estimate},
#'   \code{se}, \code{zval} (\code{tval} and \code{df} for t tests),
#'   \code{pval} (permutation p-values), \code{ci.lb}, \code{ci.ub}.
#' @export
as.data.frame.mf_permutest <- function(x, row.names = NULL, optional = FALSE, ...) {
  out <- data.frame(estimate = c(x$beta), se = c(x$se), zval = c(x$zval), stringsAsFactors = FALSE)
  tdist <- .mf_tdist(x$test)
  if (tdist) {
    names(out)[3L] <- "tval"
    out$df <- rep_len(x$ddf, nrow(out))
  }
  out$pval <- unname(x$pval)
  out$ci.lb <- c(x$ci.lb)
  out$ci.ub <- c(x$ci.ub)
  rownames(out) <- rownames(x$beta)
  out
}
