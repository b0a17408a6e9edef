# Helpers shared by the resampling and case-deletion functions (boot_rma,
# permutest, gosh, leave1out, influence, cumul): the kernel input, progress
# reporting, the split of a run over future workers, and the seed.

# What the kernels need from an mf_rma fit.
.mf_resample_input <- function(x) {
  if (!inherits(x, "mf_rma")) .mf_stop("'x' must be a model fitted by rma() (class 'mf_rma').")
  if (is.null(x$yi) || is.null(x$vi) || is.null(x$X))
    .mf_stop("'x' does not hold yi, vi and X; refit the model with rma().")
  X <- x$X
  storage.mode(X) <- "double"
  list(yi = as.double(x$yi), vi = as.double(x$vi), X = X,
       weights = if (is.null(x$weights)) numeric(0) else as.double(x$weights),
       method = .mf_method_code(x$method), test = .mf_test_code(x$test), control = x$control,
       k = length(x$yi), p = ncol(X))
}

# The progress callback of every C++ kernel: an R function that reports
# `delta` finished replicates to progressr, or NULL (no progress wanted, or
# progressr not installed).  The kernels call it from their poll (at most
# every 50 ms, not during the first half second, once at the end:
# RPoll in src/rcpp_interrupt.h), so progress costs a negligible share of a run.
.mf_progress_fn <- function(progress, steps) {
  if (!isTRUE(progress)) return(NULL)
  if (!requireNamespace("progressr", quietly = TRUE)) {
    if (is.null(.mf_cache$progressr_told)) {  # once per session
      .mf_cache$progressr_told <- TRUE
      message("progress = TRUE shows progress through the 'progressr' package, which is not installed.")
    }
    return(NULL)
  }
  p <- progressr::progressor(steps = steps, envir = parent.frame())
  function(delta) p(amount = delta)
}

.mf_whole <- function(x, arg, min = 1, max = .Machine$integer.max) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x < min || x != round(x))
    .mf_stop(sprintf("'%s' must be a single whole number >= %s.", arg, format(min)))
  if (x > max)
    .mf_stop(sprintf("'%s' = %s is too large (at most %s).", arg, format(x), format(max, big.mark = ",")))
  x
}

# The `parallel` argument of the resampling functions: "no" or "future".
# metafor's own ways ("snow", "multicore" with ncpus and cl) are rejected by
# name rather than ignored.
.mf_parallel_arg <- function(parallel, dots = list(), fun = "this function") {
  if (!is.character(parallel) || length(parallel) < 1L || anyNA(parallel))
    .mf_stop("'parallel' must be \"no\" or \"future\".")
  if (length(parallel) > 1L) parallel <- parallel[1L]
  if (parallel %in% c("snow", "multicore"))
    .mf_stop(sprintf("parallel = \"%s\" (metafor's parallel backends) is not supported by metafast's %s(); use threads = (C++ threads) or parallel = \"future\" with a future::plan().",
                     parallel, fun))
  if (!parallel %in% c("no", "future")) .mf_stop("'parallel' must be \"no\" or \"future\".")
  bad <- intersect(c("ncpus", "cl"), names(dots))
  if (length(bad))
    .mf_stop(sprintf("%s (metafor's arguments for its parallel backends) %s not supported by metafast's %s(); use threads = (C++ threads) or parallel = \"future\" with a future::plan().",
                     paste0("'", bad, "'", collapse = " and "), if (length(bad) > 1L) "are" else "is", fun))
  parallel
}

# Run kernel(start, end, nthreads, progress) over the replicates [0, n):
# in one call on nthreads C++ threads (parallel = "no"), or split into one
# contiguous chunk per worker of the current future::plan() (parallel =
# "future"; each chunk on one thread).  A replicate depends only on its
# index and the seed, so the rows are those of a single run for any split.
.mf_run_replicates <- function(kernel, n, parallel, nthreads, progress) {
  if (parallel == "future") return(.mf_future_chunks(kernel, n, progress))
  kernel(0, n, nthreads, .mf_progress_fn(progress, n))
}

.mf_future_chunks <- function(kernel, n, progress, fargs = NULL) {
  if (!requireNamespace("future.apply", quietly = TRUE) || !requireNamespace("future", quietly = TRUE))
    .mf_stop("parallel = \"future\" needs the packages 'future' and 'future.apply'; install them or use parallel = \"no\".")
  nw <- max(1L, as.integer(future::nbrOfWorkers()))
  nw <- min(nw, n)
  bounds <- unique(round(seq(0, n, length.out = nw + 1L)))
  chunks <- lapply(seq_len(length(bounds) - 1L), function(i) c(bounds[i], bounds[i + 1L]))
  p <- if (isTRUE(progress) && requireNamespace("progressr", quietly = TRUE))
    progressr::progressor(steps = n) else NULL
  # fargs: further arguments of future_lapply() (Wald_test_cwb's future_args)
  fargs <- fargs[setdiff(names(fargs), c("X", "FUN", "future.seed", "future.packages"))]
  parts <- do.call(future.apply::future_lapply, c(list(chunks, function(ch) {
    out <- kernel(ch[1L], ch[2L], 1L, NULL)
    if (!is.null(p)) p(amount = ch[2L] - ch[1L])
    out
  }, future.seed = NULL, future.packages = "metafast"), fargs))
  .mf_bind_chunks(parts)
}

# Stack the results of consecutive chunks: matrices by rows, vectors end to
# end, lists element by element.
.mf_bind_chunks <- function(parts) {
  if (length(parts) == 1L) return(parts[[1L]])
  first <- parts[[1L]]
  if (is.matrix(first)) return(do.call(rbind, parts))
  if (!is.list(first)) return(do.call(c, parts))
  out <- lapply(seq_along(first), function(j) .mf_bind_chunks(lapply(parts, `[[`, j)))
  names(out) <- names(first)
  out
}

# One 53-bit seed drawn from R's RNG, so that set.seed() fixes the result.
.mf_draw_seed <- function() {
  hi <- floor(stats::runif(1L) * 2^26)
  lo <- floor(stats::runif(1L) * 2^27)
  hi * 2^27 + lo
}

# What every bootstrap (boot_rma() of rma(), rma.mv() and selection-model
# fits) settles before its replicates: the parallel back end, R, progress,
# the thread count, R's RNG state (kept in the result, as boot's `seed`) and
# the one seed drawn from it that fixes every replicate's stream.
.mf_boot_setup <- function(R, threads, parallel, progress, dots, min_per_thread = 64L) {
  parallel <- .mf_parallel_arg(parallel, dots, "boot_rma")
  R <- .mf_whole(R, "R", 1, max = 1e9)
  if (!is.logical(progress) || length(progress) != 1L || is.na(progress))
    .mf_stop("'progress' must be TRUE or FALSE.")
  nthreads <- .mf_threads(threads, n_work = R, min_per_thread = min_per_thread)
  random.seed <- if (exists(".Random.seed", envir = globalenv(), inherits = FALSE))
    get(".Random.seed", envir = globalenv(), inherits = FALSE) else NULL
  list(parallel = parallel, R = R, nthreads = nthreads, random.seed = random.seed, seed = .mf_draw_seed())
}

# The cluster of each row of an rma() fit (the k rows used, in the fit's
# order) from 'cluster' given to a resampling or case-deletion function:
# evaluated in the data of the fit, of the length of the original data (as
# metafor), read through 'subset'; NA in a row after 'subset' is an error.
.mf_cluster_rows <- function(x, expr, env) {
  cl <- .mf_cd_getx(expr, x, env, "cluster")
  cl.f <- if (!is.null(x$subset) && length(x$subset) == length(cl)) cl[x$subset] else cl
  if (anyNA(cl.f)) .mf_stop(sprintf("'cluster' has missing values in %s.", .mf_rows(is.na(cl.f))))
  cl.f[.mf_na_view(x)$not.na]
}

# Rows of the kernel input d (.mf_resample_input) sorted by cluster, with the
# 0-based offsets of the clusters: the units of the cluster bootstrap and
# jackknife.  ids: the sorted cluster values (unit j is cluster ids[j]).
.mf_cluster_units <- function(d, cl) {
  ids <- sort(unique(cl))
  if (length(ids) < 2L)
    .mf_stop("'cluster' has a single value (one cluster); resampling by cluster needs at least 2 clusters.")
  code <- match(cl, ids)
  o <- order(code)
  d$yi <- d$yi[o]
  d$vi <- d$vi[o]
  d$X <- d$X[o, , drop = FALSE]
  if (length(d$weights)) d$weights <- d$weights[o]
  d$offsets <- c(0L, cumsum(tabulate(code, nbins = length(ids))))
  d$ids <- ids
  d$n.units <- length(ids)
  d
}
