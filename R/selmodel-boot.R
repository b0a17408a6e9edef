# Bootstrap of selection models (issue 15 item 3): boot_rma() of a selmodel()
# fit.  The C++ kernel (src/core/selmodel_boot.hpp, glue
# src/rcpp_selmodel_boot.cpp) draws each replicate (studies resampled, or
# outcomes simulated from the fitted selection model by rejection sampling)
# and refits it by projected BFGS over the likelihood of core/selmodel.hpp,
# warm-started at the fit's estimate; R builds the spec once.  The result is
# an mf_boot object, so print(), confint() and plot() are boot_rma()'s.
# Non-increasing step weights (decreasing = TRUE, stepcon) are refitted on the
# ratios of adjacent weights (a box), truncest as the best of the smooth
# pieces of its likelihood between adjacent outcomes, and `cluster` draws
# whole clusters (case bootstrap); see the top of core/selmodel_boot.hpp.

# What the kernel needs from an mf_selmodel fit: the model as selmodel() set
# it up (standardised moderators, p-value clamp, intervals, integration
# settings), the estimate and which parameters are free, with their bounds.
.mf_selboot_spec <- function(x) {
  type <- x$type
  if (!type %in% c(.mf_sel_types, "stepcon"))
    .mf_stop(sprintf("boot_rma() does not support selection models of type \"%s\" ('x').", type))
  cone <- type == "stepcon" || (type == "stepfun" && isTRUE(x$decreasing))
  if (cone) {
    # non-increasing weights: refitted on the ratios of adjacent weights in [0, 1]
    if (any(x$delta.fix[-1L]))
      .mf_stop("boot_rma() of a selection model with non-increasing step weights (decreasing = TRUE or type = \"stepcon\") needs every weight but the first estimated; the fit fixes some with 'delta'.")
    if (any(x$delta.min[-1L] != 0) || any(x$delta.max[-1L] != 1))
      .mf_stop("boot_rma() of a selection model with non-increasing step weights needs the default bounds of the weights (0 and 1); the fit sets control entry 'delta.min' or 'delta.max'.")
  }
  if (type == "truncest" && (!is.null(x$control$delta.min) || !is.null(x$control$delta.max)))
    .mf_stop("boot_rma() of a selection model of type \"truncest\" uses metafor's data-dependent range of the cut in each replicate; the fit sets control entry 'delta.min' or 'delta.max'.")
  yi <- as.double(c(x$yi))
  vi <- as.double(c(x$vi))
  X <- x$X
  storage.mode(X) <- "double"
  k <- length(yi)
  p <- ncol(X)
  preci <- as.double(x$preci)
  prec_raw <- if (all(preci == 1) || is.null(x$prec)) rep(1, k) else
    switch(x$prec, sei = sqrt(vi), vi = vi, ninv = 1 / x$ni, sqrtninv = 1 / sqrt(x$ni))
  if (length(prec_raw) != k || anyNA(prec_raw))
    .mf_stop("The selection model's precision measure cannot be rebuilt for resampling ('x'$prec).")
  scaled <- .mf_sel_scale_X(X, isTRUE(x$int.only), isTRUE(x$int.incl))
  beta.s <- .mf_sel_beta_scaled(scaled, c(x$beta), x$mf.wald)
  tau2_free <- .mf_estimator_has(x$method, "random") && !isTRUE(x$tau2.fix)
  alternative <- x$alternative
  steps <- x$steps
  pval.min <- x$pval.min
  zcut <- numeric(0)
  kinks <- numeric(0)
  if (type %in% c("stepfun", "stepcon")) {
    s <- steps[-length(steps)]
    zcut <- if (alternative == "two.sided") stats::qnorm(s / 2, lower.tail = FALSE) else stats::qnorm(s, lower.tail = FALSE)
  } else if (!type %in% c("trunc", "truncest")) {
    kinks <- .mf_sel_kinks(c(steps[1L], if (type == "beta") steps[2L], pval.min, 1 - pval.min), alternative)
  }
  intc <- x$control$intCtrl
  delta <- as.double(x$delta)
  delta_free <- !as.logical(x$delta.fix)
  if (cone) {
    delta_free <- c(FALSE, rep(TRUE, length(delta) - 1L))
    ratio <- delta[-1L] / delta[-length(delta)]
    ratio[!is.finite(ratio)] <- 1
    dtyp <- pmax(pmin(ratio, 1), 0.01)
  } else {
    dtyp <- pmax(abs(delta[delta_free]), 0.01)
  }
  typ <- c(pmax(abs(beta.s), 0.1 * sqrt(stats::median(vi))),
           if (tau2_free) max(x$tau2, 0.01 * stats::median(vi)), dtyp)
  list(yi = yi, vi = vi, X = scaled$X, preci = preci, prec_raw = as.double(prec_raw),
       code = match(if (cone) "stepfun" else type, .mf_sel_types) - 1L, cone = cone, alt = match(alternative, c("greater", "less", "two.sided")) - 1L,
       steps = if (anyNA(steps)) numeric(0) else as.double(steps), zcut = zcut, kinks = kinks,
       pval_min = pval.min, rel_tol = if (is.null(intc$rel.tol)) 1e-10 else intc$rel.tol,
       pieces = if (is.null(intc$subdivisions)) 400L else as.integer(intc$subdivisions),
       beta = beta.s, tau2 = as.double(x$tau2), tau2_free = tau2_free,
       tau2_max = if (is.null(x$tau2.max)) Inf else as.double(x$tau2.max),
       delta = delta, delta_free = delta_free, delta_min = as.double(x$delta.min),
       delta_max = as.double(x$delta.max), mX = scaled$mX, typ = as.double(typ), maxit = 200L)
}

# Names of the bootstrapped statistics: the coefficients, tau2 (if estimated)
# and the estimated selection parameters (metafor's delta.1, delta.2, ...).
.mf_selboot_names <- function(x, spec) {
  nd <- length(spec$delta)
  dn <- if (nd == 1L) "delta" else paste0("delta.", seq_len(nd))
  c(colnames(x$X), if (spec$tau2_free) "tau2", dn[spec$delta_free])
}

# boot_rma() of an mf_selmodel fit (called by boot_rma()); cluster: the
# unevaluated 'cluster' argument (NULL when missing) and env its frame.
.mf_boot_selmodel <- function(x, R, type, threads, parallel, progress, cluster, env, call, dots) {
  ids <- NULL
  if (!is.null(cluster) && type != "case")
    .mf_stop("'cluster' applies to the case bootstrap (type = \"case\"); the parametric bootstrap of a selection model simulates every study.")
  spec <- .mf_selboot_spec(x)
  if (!is.null(cluster)) {
    cl <- .mf_cluster_rows(x, cluster, env)
    if (length(cl) != length(spec$yi))
      .mf_stop(sprintf("'cluster' must have one value per study of the fit (%d), not %d.", length(spec$yi), length(cl)))
    ids <- sort(unique(cl))
    if (length(ids) < 2L)
      .mf_stop("'cluster' has a single value (one cluster); resampling by cluster needs at least 2 clusters.")
    code <- match(cl, ids)
    spec$cl_members <- as.integer(order(code) - 1L)
    spec$cl_offsets <- as.integer(c(0L, cumsum(tabulate(code, nbins = length(ids)))))
  }
  bs <- .mf_boot_setup(R, threads, parallel, progress, dots, min_per_thread = 2L)
  parallel <- bs$parallel
  R <- bs$R
  nthreads <- bs$nthreads
  random.seed <- bs$random.seed
  seed <- bs$seed
  nms <- .mf_selboot_names(x, spec)
  t0 <- c(c(x$beta), if (spec$tau2_free) x$tau2, x$delta[spec$delta_free])
  names(t0) <- nms
  type_code <- if (type == "case") 0L else 1L
  kernel <- function(start, end, nthreads, prog) .mf_selboot_kernel(spec, type_code, seed, start, end, nthreads, prog)
  out <- .mf_run_replicates(kernel, R, parallel, nthreads, progress)
  t <- out$t
  colnames(t) <- nms
  code <- out$code
  failed <- sum(code != 0L)
  if (failed > 0L) {
    why <- table(factor(code[code != 0L], levels = 1:5,
                        labels = c("no convergence within 200 iterations", "log-likelihood not finite",
                                   "line search failed", "rejection sampler exhausted",
                                   "fewer studies than parameters")))
    why <- why[why > 0]
    warning(sprintf("%d of %d bootstrap replicates of the selection model could not be refitted (%s); they are NA in $t.",
                    failed, R, paste(sprintf("%s: %d", names(why), why), collapse = ", ")), call. = FALSE)
  }
  jack <- NULL
  if (type == "case") {
    k <- length(spec$yi)
    sets <- .mf_selboot_units(spec)
    sets <- lapply(seq_along(sets), function(i) unlist(sets[-i], use.names = FALSE))
    jk <- .mf_selboot_kernel(spec, 0L, 0, 0, 0, .mf_threads(threads, n_work = length(sets), min_per_thread = 4L),
                             NULL, sets)
    jack <- jk$t
    # (selmodel() refuses fewer studies than parameters: the kernel's code 5)
    colnames(jack) <- nms
  }
  res <- list(t0 = t0, t = t, R = R, seed = seed, type = type, failed = failed, jack = jack,
              threads = nthreads, parallel = parallel, call = call, cluster = ids, offsets = NULL,
              selmodel = list(spec = spec, type = x$type, steps = x$steps, code = code, ll = out$ll,
                              iterations = out$iterations, empty = out$empty),
              method = x$method, test = "z", control = x$control,
              random.seed = random.seed, digits = if (is.null(x$digits)) 4L else x$digits)
  class(res) <- "mf_boot"
  res
}

# The resampling units of a selmodel bootstrap spec: per unit (study, or
# cluster with 'cluster') the 1-based indices of its studies.
.mf_selboot_units <- function(spec) {
  if (is.null(spec$cl_offsets)) return(as.list(seq_along(spec$yi)))
  off <- spec$cl_offsets
  lapply(seq_len(length(off) - 1L), function(g) spec$cl_members[(off[g] + 1L):off[g + 1L]] + 1L)
}

# The data of bootstrap replicate r (1-based) of boot_rma() of a selection
# model, regenerated from the run's seed (a replicate depends only on the seed
# and r): yi, vi, the precisions of the replicate and, for the case bootstrap,
# the drawn studies (indices into the fit's rows).  For checks against
# metafor::selmodel() on the same data.
.mf_selboot_replicate <- function(b, r) {
  if (!inherits(b, "mf_boot") || is.null(b$selmodel))
    .mf_stop("'b' must be the result of boot_rma() of a selection model.")
  r <- .mf_whole(r, "r", 1, max = b$R)
  d <- .mf_selboot_data(b$selmodel$spec, if (b$type == "case") 0L else 1L, b$seed, r - 1)
  if (b$type != "case") d$idx <- NULL
  d
}
