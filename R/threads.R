# Thread count for the resampling kernels, as data.table does it: the option
# metafast.threads, else half the cores, capped by OMP_THREAD_LIMIT; small
# jobs stay on one thread.
.mf_threads <- function(threads = NULL, n_work = Inf, min_per_thread = 64L) {
  if (is.null(threads)) threads <- getOption("metafast.threads")
  if (is.null(threads)) {
    cores <- .mf_parallel_cores()
    threads <- max(1L, cores %/% 2L)
    lim <- suppressWarnings(as.integer(Sys.getenv("OMP_THREAD_LIMIT", "")))
    if (!is.na(lim) && lim >= 1L) threads <- min(threads, lim)
  }
  if (!is.numeric(threads) || length(threads) != 1L || is.na(threads) || threads < 1 || threads != round(threads))
    .mf_stop("'threads' must be a single positive whole number.")
  threads <- as.integer(min(threads, 256L))
  if (is.finite(n_work)) threads <- max(1L, min(threads, as.integer(n_work %/% min_per_thread)))
  threads
}

.mf_parallel_cores <- function() {
  n <- .mf_hardware_threads()
  if (is.na(n) || n < 1L) 1L else as.integer(n)
}
