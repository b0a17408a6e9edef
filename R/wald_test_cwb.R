# The cluster wild bootstrap test (wildmeta's Wald_test_cwb()): the null
# model, the residual adjustment and every replicate's refit and
# cluster-robust Wald statistic run in C++ (src/core/wild_bootstrap.hpp).

#' Cluster wild bootstrap test of meta-regression coefficients
#'
#' As wildmeta's \code{Wald_test_cwb()}: a p-value for the hypothesis
#' \eqn{C\beta = 0}{C b = 0} (one or several constraints) from the cluster
#' wild bootstrap (Joshi, Pustejovsky & Beretvas 2022), for models fitted by
#' \code{\link{rma}} or \code{\link{rma.mv}}, computed in C++ (threaded,
#' reproducible, bit-identical for any number of threads or future workers).
#'
#' The algorithm is wildmeta's: (1) the null model, i.e. the full model with
#' the constraints imposed (its design is \eqn{X N}{X N}, \eqn{N} a basis of
#' the null space of \eqn{C}), is fitted with the same estimator and variance
#' structure, its variance components re-estimated; (2) its residuals are
#' multiplied cluster by cluster by the adjustment matrices of \code{adjust}
#' ("CR0": none; "CR1": \eqn{\sqrt{J/(J-1)}}{sqrt(J/(J-1))}; "CR2": the
#' bias-reduced linearisation matrices; "CR3": \eqn{(I - H_{jj})^{-1}}{(I -
#' H_jj)^-1}; "CR4": clubSandwich's CR4 matrix, which for a null model with
#' one coefficient is a number per cluster) computed at the null model's
#' working covariance; "CR1p" and "CR1S" leave the residuals unadjusted, as
#' wildmeta does (only the label of the result says "CWB Adjusted"); (3) each
#' replicate draws one auxiliary weight per cluster, forms \eqn{y^* =}{y* =}
#' null fitted values + weight x adjusted residuals, refits the FULL model
#' (its variance components re-estimated, as wildmeta's \code{update()}
#' does) and computes the cluster-robust Wald statistic with the sandwich
#' estimator \code{type} and the small-sample form \code{test}, as
#' clubSandwich's \code{Wald_test()} (its \code{Fstat}); (4) the p-value is
#' the share of bootstrap statistics larger than the observed one (replicates
#' whose refit failed are left out, as wildmeta does; a warning counts them).
#'
#' The weights of replicate r come from a counter-based random stream seeded
#' from R's generator (so \code{set.seed()} or \code{seed} fix the result);
#' they are not the numbers wildmeta draws, so p-values agree with wildmeta's
#' within Monte Carlo error, and the observed statistic exactly.
#'
#' For \code{rma()} fits with user \code{weights} (or \code{weighted =
#' FALSE}) and \code{rma.mv()} fits with user weights \code{W} the null
#' model and every refit use the same weights (for \code{rma.mv()}, the
#' variance components are estimated without them and \eqn{b = (X'WX)^{-1}
#' X'Wy}{b = (X'WX)^-1 X'Wy}, as metafor), and the adjustments and statistics
#' the general forms of \code{\link{robust}()} (working covariance the fitted
#' marginal one, weights not its inverse), as wildmeta and clubSandwich;
#' \code{W} must then be block-diagonal by cluster.  \code{rma.mv()} fits
#' with \code{~ inner | outer} terms (\code{struct}) are refitted with the
#' same structure, every component re-estimated from the fit's values.
#' \code{rma.mv()} fits with known correlation matrices \code{R} are
#' refitted with the same (scaled) matrices; the clusters must then also
#' contain every pair of levels that \code{R} correlates (clubSandwich's
#' \code{vcovCR()}, and so wildmeta, refuse such fits; the statistics are
#' clubSandwich's formulas with the fit's marginal covariance, which holds
#' R).
#'
#' Not supported (an error names them): \code{adjust = "CR4"} when the null model has
#' more than one coefficient (wildmeta fails there: it multiplies the
#' residuals by clubSandwich's p x p CR4 matrices).  A \code{robust()}
#' result is not accepted (wildmeta does not accept metafor's either): pass
#' the model.
#'
#' @param full_model a model fitted by \code{\link{rma}} or
#'   \code{\link{rma.mv}} with all the moderators.
#' @param constraints the constraints \eqn{C} (q x p): a function of the
#'   coefficient vector returning the matrix, as clubSandwich's
#'   \code{constrain_zero()}, \code{constrain_equal()} and
#'   \code{constrain_pairwise()} make; a q x p matrix; or the coefficients set
#'   to zero by the null hypothesis, as indices, names or a logical vector.
#' @param R number of bootstrap replicates.
#' @param cluster the clusters: a vector over the rows of the fit or of the
#'   original data (or a variable of the fit's data).  Default: as wildmeta,
#'   every row for \code{rma()} fits and the outermost random-effects factor
#'   (the one with the fewest levels, which must nest the others) for
#'   \code{rma.mv()} fits.
#' @param auxiliary_dist the distribution of the weights: "Rademacher",
#'   "Mammen", "Webb six", "uniform" or "standard normal".
#' @param adjust the adjustment of the null model's residuals: "CR0", "CR1",
#'   "CR1p", "CR1S" (these two: none, as wildmeta), "CR2", "CR3" or "CR4".
#' @param type the cluster-robust variance estimator of the Wald statistic:
#'   "CR0", "CR1", "CR1p", "CR1S", "CR2", "CR3" or "CR4".
#' @param test the form of the statistic, as clubSandwich's
#'   \code{Wald_test()}: "Naive-F", "Naive-Fp", "chi-sq" (all \eqn{Q/q}),
#'   "HTZ", "HTA", "HTB", "EDF" (\eqn{\delta Q/q}{delta Q/q}) or "EDT".
#' @param seed optional seed: \code{set.seed(seed)} before the draws.
#' @param future_args \code{NULL} (the replicates run on C++ threads, see
#'   option \code{metafast.threads}) or a list: the replicates are split over
#'   the workers of the current \code{future::plan()} and the list's elements
#'   are passed to \code{future.apply::future_lapply()}.  The result does not
#'   depend on the choice.
#' @return A data frame of class \code{c("mf_wald_cwb", "data.frame")} with
#'   wildmeta's columns \code{Test}, \code{Adjustment}, \code{CR_type},
#'   \code{Statistic}, \code{R} and \code{p_val}, and the attributes
#'   \code{bootstraps} (the R bootstrap statistics) and \code{original} (the
#'   observed statistic).
#' @references Joshi M, Pustejovsky JE, Beretvas SN (2022). Cluster wild
#'   bootstrapping to handle dependent effect sizes in meta-analysis with a
#'   small number of studies. \emph{Res Synth Methods} 13:457-477.
#'   Cameron AC, Gelbach JB, Miller DL (2008). Bootstrap-based improvements
#'   for inference with clustered errors. \emph{Rev Econ Stat} 90:414-427.
#' @examples
#' dat <- metadat::dat.assink2016
#' V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
#' fit <- rma.mv(yi, V, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
#' Wald_test_cwb(fit, constraints = 3:4, R = 99, seed = 1)
#' if (requireNamespace("clubSandwich", quietly = TRUE))
#'   Wald_test_cwb(fit, clubSandwich::constrain_equal(3:4), R = 99, adjust = "CR2", seed = 1)
#' @export
Wald_test_cwb <- function(full_model, constraints, R, cluster = NULL, auxiliary_dist = "Rademacher",
                          adjust = "CR0", type = "CR0", test = "Naive-F", seed = NULL, future_args = NULL) {
  x <- full_model
  .mf_cwb_check_model(x)
  if (missing(constraints)) .mf_stop("'constraints' is missing: give the constraint matrix (or a constrain_*() function, or the coefficients to test).")
  if (missing(R)) .mf_stop("'R' is missing: give the number of bootstrap replicates.")
  R <- .mf_whole(R, "R", 1, max = 1e9)
  if (!is.null(future_args) && !is.list(future_args)) .mf_stop("'future_args' must be NULL or a list.")
  cl <- .mf_cwb_cluster(x, substitute(cluster), parent.frame())
  setup <- .mf_cwb_setup(x, constraints, cl, auxiliary_dist, adjust, type, test)
  if (!is.null(seed)) {
    if (!is.numeric(seed) || length(seed) != 1L || is.na(seed)) .mf_stop("'seed' must be NULL or a single number.")
    set.seed(seed)
  }
  setup$seed <- .mf_draw_seed()
  kernel <- function(start, end, nthreads, prog) setup$kernel(start, end, nthreads, prog, setup$seed)
  res <- if (is.null(future_args)) {
    kernel(0, R, .mf_threads(NULL, n_work = R, min_per_thread = 4L), .mf_progress_fn(TRUE, R))
  } else {
    .mf_future_chunks(kernel, R, TRUE, fargs = future_args)
  }
  boots <- res$stats
  org <- res$observed[1L]
  if (!is.finite(org))
    warning("The Wald statistic of the full model could not be computed (C V C' not positive definite); the p-value is NA.",
            call. = FALSE)
  failed <- sum(is.na(boots))
  if (failed > 0L)
    warning(sprintf("%d of %d bootstrap replicates could not be refitted or gave no statistic; they are left out of the p-value (as wildmeta).",
                    failed, R), call. = FALSE)
  p_val <- mean(boots > org, na.rm = TRUE)
  out <- data.frame(Test = if (setup$adjust != "CR0") "CWB Adjusted" else "CWB", Adjustment = setup$adjust,
                    CR_type = setup$type, Statistic = setup$test, R = R, p_val = p_val, stringsAsFactors = FALSE)
  class(out) <- c("mf_wald_cwb", "data.frame")
  attr(out, "bootstraps") <- boots
  attr(out, "original") <- org
  out
}

#' @rdname Wald_test_cwb
#' @param x an object of class \code{mf_wald_cwb}.
#' @param digits number of significant digits of the p-value.
#' @param ... ignored.
#' @export
print.mf_wald_cwb <- function(x, digits = 4, ...) {
  df <- x
  class(df) <- "data.frame"
  attr(df, "bootstraps") <- NULL
  attr(df, "original") <- NULL
  df$p_val <- signif(df$p_val, digits)
  print(df, row.names = FALSE)
  invisible(x)
}

# ---- helpers ----

.mf_cwb_check_model <- function(x) {
  if (inherits(x, "mf_robust_rma"))
    .mf_stop("'full_model' is a robust() result; pass the model fitted by rma() or rma.mv() (wildmeta does not accept robust() results either).")
  if (inherits(x, c("mf_rma_mh", "mf_rma_peto")) || !inherits(x, c("mf_rma", "mf_rma_mv")))
    .mf_stop("'full_model' must be a model fitted by rma() or rma.mv().")
  if (inherits(x, "mf_rma_mv")) {
    # (a fit with user weights W refuses the methods that refit it; this one handles W)
    if (!.mf_mv_hasW(x) || isTRUE(x$sparse)) .mf_mv_refuse(x)
    if (!x$method %in% c("REML", "ML")) .mf_stop("'full_model' must be fitted with method = \"REML\" or \"ML\".")
  }
  invisible(NULL)
}

# The cluster of each row of the fit (fit row order), from 'cluster' (an
# expression evaluated in the fit's data, or NULL: wildmeta's default).
.mf_cwb_cluster <- function(x, expr, env) {
  if (is.null(expr)) return(NULL)
  val <- tryCatch(eval(expr, if (is.data.frame(x$data)) x$data else env, env),
                  error = function(e) .mf_stop(sprintf("Cannot evaluate 'cluster': %s", conditionMessage(e))))
  if (is.null(val)) return(NULL)
  if (!is.atomic(val) || !is.null(dim(val)))
    .mf_stop("'cluster' must be a vector (one value per row of the fit or of the original data).")
  k <- x$k
  k.all <- if (!is.null(x$k.all)) x$k.all else length(x$subset)
  if (length(val) == k) {
    cl <- val
  } else if (length(val) == k.all) {
    cl <- if (inherits(x, "mf_rma_mv")) val[x$ids] else .mf_cluster_rows(x, val, env)
  } else {
    .mf_stop(sprintf("'cluster' has length %d but the model was fitted to %d rows (%d rows in the original data).",
                     length(val), k, k.all))
  }
  if (anyNA(cl)) .mf_stop(sprintf("'cluster' has missing values in %s of the fitted data.", .mf_rows(is.na(cl))))
  cl
}

# wildmeta's default clusters of an rma.mv() fit (clubSandwich's
# findCluster.rma.mv): the random factor with the fewest levels, which must
# nest the others; returned in the spec's sorted row order.
.mf_cwb_default_mv_cluster <- function(x) {
  s <- x$mf.spec
  st <- s$structure
  if (identical(st$type, "nested")) {
    # one nested formula: the blocks of the engine are the outermost factor's levels
    return(rep.int(seq_len(length(s$offsets) - 1L), diff(s$offsets)))
  }
  # the candidates in clubSandwich's order: the outer factors of the G and H
  # terms, then the factors of the '~ 1 | f' terms; the first with the fewest
  # levels clusters, and must nest all the others
  cand <- list()
  nlev <- integer(0)
  for (g in st$terms) {
    cand[[length(cand) + 1L]] <- g$outer
    nlev <- c(nlev, length(unique(g$outer)))
  }
  if (isTRUE(x$withS) && length(x$s.nlevels)) {
    codes <- st$codes[, seq_along(x$s.nlevels), drop = FALSE]
    for (l in seq_len(ncol(codes))) cand[[length(cand) + 1L]] <- codes[, l]
    nlev <- c(nlev, x$s.nlevels)
  }
  if (!length(cand)) .mf_stop("The model has no random factor to cluster by: give 'cluster'.")
  j <- which.min(nlev)
  g <- cand[[j]]
  for (l in seq_along(cand)) {
    if (l == j) next
    if (any(tapply(g, cand[[l]], function(v) length(unique(v))) > 1L))
      .mf_stop("Random effects are not nested within the clustering variable (the random factor with the fewest levels); give 'cluster'.")
  }
  g
}

# Constraints as a q x p matrix (wildmeta's and clubSandwich's forms, and
# coefficient indices, names or a logical vector).
.mf_cwb_constraints <- function(constraints, beta) {
  p <- length(beta)
  nm <- names(beta)
  if (is.function(constraints)) {
    constraints <- tryCatch(constraints(beta), error = function(e)
      .mf_stop(sprintf("'constraints' (a function) failed on the coefficients: %s", conditionMessage(e))))
  }
  if (is.list(constraints))
    .mf_stop("'constraints' must be one constraint matrix (a list of several hypotheses is not supported, as in wildmeta).")
  if (is.matrix(constraints)) {
    C <- constraints
    if (!is.numeric(C)) .mf_stop("'constraints' must be a numeric matrix.")
    if (ncol(C) != p)
      .mf_stop(sprintf("'constraints' has %d column%s but the model has %d coefficients: the constraint matrix must be q x %d.",
                       ncol(C), if (ncol(C) == 1L) "" else "s", p, p))
  } else {
    if (is.logical(constraints)) {
      if (length(constraints) != p || anyNA(constraints))
        .mf_stop(sprintf("'constraints' (logical) must have one TRUE/FALSE per coefficient (%d).", p))
      idx <- which(constraints)
    } else if (is.character(constraints)) {
      idx <- match(constraints, nm)
      if (anyNA(idx))
        .mf_stop(sprintf("'constraints' names unknown coefficient(s) %s; the coefficients are %s.",
                         paste0("'", constraints[is.na(idx)], "'", collapse = ", "), paste(nm, collapse = ", ")))
    } else if (is.numeric(constraints)) {
      if (anyNA(constraints) || any(constraints != round(constraints)) || any(constraints < 1 | constraints > p))
        .mf_stop(sprintf("'constraints' (coefficient numbers) must be whole numbers between 1 and %d.", p))
      idx <- as.integer(constraints)
    } else {
      .mf_stop("'constraints' must be a constraint matrix, a constrain_*() function, or coefficient numbers, names or a logical vector.")
    }
    if (anyDuplicated(idx)) .mf_stop("'constraints' names a coefficient twice.")
    C <- diag(p)[idx, , drop = FALSE]
  }
  q <- nrow(C)
  if (q < 1L) .mf_stop("'constraints' selects no coefficient.")
  if (any(!is.finite(C))) .mf_stop("'constraints' has missing or infinite entries.")
  if (q >= p)
    .mf_stop(sprintf("'constraints' has %d rows for %d coefficients: the null model would have no fixed effects left.", q, p))
  if (qr(C)$rank < q) .mf_stop("'constraints' is not of full row rank (a constraint repeats or combines others).")
  storage.mode(C) <- "double"
  C
}

# The null model's design: X N, N an orthonormal basis of the null space of
# C (the projection I - C'(CC')^-1 C and its leading right singular vectors).
.mf_cwb_null_design <- function(X, C) {
  p <- ncol(X)
  q <- nrow(C)
  P <- diag(p) - crossprod(C, chol2inv(chol(tcrossprod(C)))) %*% C
  N <- svd(P, nu = p - q, nv = p - q)$v
  X0 <- X %*% N
  storage.mode(X0) <- "double"
  X0
}

.mf_cwb_dists <- c("Rademacher", "Mammen", "Webb six", "uniform", "standard normal")
# (the order of the C++ codes: SandwichType and CwbTest in core/)
.mf_cwb_types <- c("CR0", "CR1", "CR1p", "CR1S", "CR2", "CR3", "CR4")
.mf_cwb_tests <- c("chi-sq", "Naive-F", "Naive-Fp", "HTZ", "HTA", "HTB", "EDF", "EDT")

# Everything a run needs: the validated options and kernel(start, end,
# nthreads, progress, seed, weights = NULL) -> list(stats, observed, ...).
# cl: the clusters in the fit's row order (NULL: wildmeta's default).
.mf_cwb_setup <- function(x, constraints, cl, auxiliary_dist = "Rademacher", adjust = "CR0", type = "CR0",
                          test = "Naive-F") {
  .mf_cwb_check_model(x)
  dist <- .mf_robust_choice(auxiliary_dist, "Rademacher", .mf_cwb_dists, "auxiliary_dist")
  adjust <- .mf_robust_choice(adjust, "CR0", .mf_cwb_types, "adjust")
  type <- .mf_robust_choice(type, "CR0", .mf_cwb_types, "type")
  test <- .mf_robust_choice(test, "Naive-F", .mf_cwb_tests, "test")
  beta <- stats::setNames(c(x$beta), rownames(x$beta))
  C <- .mf_cwb_constraints(constraints, beta)
  X <- x$X
  storage.mode(X) <- "double"
  X0 <- .mf_cwb_null_design(X, C)
  if (adjust == "CR4" && ncol(X0) != 1L)
    .mf_stop(sprintf("'adjust' = \"CR4\" needs a null model with one coefficient (this one has %d): wildmeta multiplies the residuals of a cluster by clubSandwich's p x p CR4 matrix, which fails (non-conformable arguments) otherwise.",
                     ncol(X0)))
  mv <- inherits(x, "mf_rma_mv")
  if (mv) {
    spec <- x$mf.spec
    o <- spec$order
    # the clusters must hold whole blocks of the marginal covariance (rows
    # linked by a random factor, by V or by a known correlation matrix R)
    blk <- .mf_mv_spec_blocks(spec)
    if (is.null(cl)) {
      cls <- .mf_cwb_default_mv_cluster(x)
      f <- match(cls, unique(cls))
      if (isTRUE(x$withR) && any(tapply(f, blk, function(v) any(v != v[1L]))))
        .mf_stop("The known correlation matrix 'R' of the fit correlates levels in different clusters of the default clustering (the random factor with the fewest levels), so the clusters are not independent; give a 'cluster' that contains every pair of correlated levels.")
    } else {
      cls <- cl[o]
      f <- match(cls, unique(cls))
      if (any(tapply(f, blk, function(v) any(v != v[1L]))))
        .mf_stop(if (isTRUE(x$withR))
          "Random effects are not nested within the clustering variable 'cluster': every cluster must contain whole levels of the outer random factors and every pair of levels that the known correlation matrix 'R' correlates."
        else "Random effects are not nested within the clustering variable 'cluster' (every cluster must contain whole levels of the outer random factors, as clubSandwich requires).")
    }
  } else {
    cls <- if (is.null(cl)) seq_len(x$k) else cl
  }
  f <- droplevels(as.factor(cls))
  J <- nlevels(f)
  if (J < 2L) .mf_stop("'cluster' has only one cluster: the cluster wild bootstrap needs at least two clusters.")
  code <- as.integer(f) - 1L
  # (wildmeta adjusts the residuals for CR1, CR2, CR3 and CR4 only: CR1p and CR1S leave them as CR0)
  codes <- c(if (adjust %in% c("CR1p", "CR1S")) 1L else match(adjust, .mf_cwb_types), match(type, .mf_cwb_types),
             match(test, .mf_cwb_tests), match(dist, .mf_cwb_dists)) - 1L
  kernel <- if (mv) {
    con <- x$control
    X0s <- X0[o, , drop = FALSE]
    reml <- x$method == "REML"
    theta0 <- as.double(.mf_mv_theta(x))
    ub <- NULL
    if (.mf_mv_hasW(x)) {
      # user weights: the blocks of W by cluster (rows in spec order within
      # each cluster, as the C++ layout sorts them); W must not link clusters
      spec$refuse <- NULL
      A <- .mf_mv_Wc(x)[o, o, drop = FALSE]  # (sparse as held; only its blocks are made dense)
      nz <- .mf_mv_W_nz(A)
      if (any(code[nz[, 1L]] != code[nz[, 2L]]))
        .mf_stop("Wald_test_cwb() needs user weights 'W' that are block-diagonal by cluster ('W' has nonzero entries between rows of different clusters), as clubSandwich's vcovCR().")
      ub <- .mf_mv_W_blocks(A, split(seq_along(code), code))
      storage.mode(ub) <- "double"
    }
    function(start, end, nthreads, prog, seed, weights = NULL)
      .mf_cwb_rma_mv(spec, X0s, reml, con$threshold, as.integer(con$maxiter), con$stepadj, theta0, code, J, C,
                     codes[1L], codes[2L], codes[3L], codes[4L], seed, start, end, nthreads, prog, weights, ub)
  } else {
    d <- .mf_resample_input(x)
    function(start, end, nthreads, prog, seed, weights = NULL)
      .mf_cwb_rma(d$yi, d$vi, d$X, X0, d$weights, d$method, d$control, code, J, C,
                  codes[1L], codes[2L], codes[3L], codes[4L], seed, start, end, nthreads, prog, weights)
  }
  list(kernel = kernel, C = C, X0 = X0, J = J, levels = levels(f), adjust = adjust, type = type, test = test,
       dist = dist)
}

# The statistics of given weight vectors (the columns of W, J x n, rows in
# the order of the cluster levels): the tests compare them with refits done
# by hand.
.mf_cwb_given <- function(full_model, constraints, W, cluster = NULL, adjust = "CR0", type = "CR0",
                          test = "Naive-F") {
  s <- .mf_cwb_setup(full_model, constraints, cluster, "Rademacher", adjust, type, test)
  storage.mode(W) <- "double"
  if (nrow(W) != s$J) .mf_stop(sprintf("'W' must have %d rows (one per cluster).", s$J))
  s$kernel(0, ncol(W), 1L, NULL, 0, W)
}
