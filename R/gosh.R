#' GOSH plot analysis: the model fitted to subsets of the studies
#'
#' Fits the model to every subset of at least p studies when there are at
#' most \code{subsets} of them, otherwise to \code{subsets} random subsets
#' (each a uniform draw among the subsets of size >= p), as
#' \code{metafor::gosh()} does (Olkin, Dahabreh & Trikalinos 2012).  The fits
#' run in one C++ kernel over several threads; random subset r is drawn from
#' a counter-based stream of (\code{seed}, r), so the result is the same for
#' any number of threads.
#'
#' @param x a model fitted by \code{\link{rma}}.
#' @param ... further arguments passed to methods.
#' @return An object of class \code{mf_gosh}: \code{res} (a data frame with
#'   \code{k}, \code{QE}, \code{I2}, \code{H2}, \code{tau2}, \code{tau} and
#'   the coefficients, \code{estimate} for intercept-only models), \code{incl}
#'   (a logical matrix, one row per subset and one column per study), \code{fit}
#'   (whether the fit succeeded), \code{k}, \code{int.only}, \code{method},
#'   \code{exact} and \code{seed} (\code{NA} when all subsets were fitted).  Rows are ordered by subset size.
#' @references Olkin I, Dahabreh IJ, Trikalinos TA (2012). GOSH - a graphical
#'   display of study heterogeneity. \emph{Res Synth Methods} 3:214-223.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' g <- gosh(rma(yi, vi, data = dat))
#' g
#' plot(g)
#' @export
gosh <- function(x, ...) UseMethod("gosh")

#' @rdname gosh
#' @param subsets the largest number of subsets fitted (default 1e6): with
#'   more subsets than this, \code{subsets} random subsets are used.  A run of
#'   more than 1e7 fits (enumerated or random) reports its size and the memory
#'   its results take and asks for confirmation in an interactive session; it
#'   is refused otherwise (raise the limit with \code{setmfopt(gosh.max = )}).
#' @param seed seed of the random subsets (a whole number; by default drawn
#'   from R's RNG, so \code{set.seed()} fixes it).
#' @param threads number of threads (default: option \code{metafast.threads},
#'   else half the cores; small jobs use one thread).
#' @param progress show a progress bar (needs \pkg{progressr}; see
#'   \code{\link{boot_rma}}).
#' @param progbar metafor's name for \code{progress}: used when
#'   \code{progress} is not given.
#' @param parallel \code{"no"}, or \code{"future"} to split the subsets over
#'   the workers of the current \code{future::plan()} (needs the
#'   \pkg{future.apply} package); the result is identical to \code{"no"}.
#'   metafor's \code{parallel = "snow"} or \code{"multicore"} and its
#'   \code{ncpus} and \code{cl} are not supported (an error says so); use
#'   \code{threads} for C++ threads.
#' @export
gosh.mf_rma <- function(x, subsets, seed, threads = NULL, progress = FALSE, parallel = c("no", "future"),
                        progbar = TRUE, ...) {
  .mf_check_dots("gosh.mf_rma", ...)
  a <- .mf_cd_args(x, "gosh")
  if (x$k < 2L) .mf_stop("gosh() needs at least 2 studies (k = 1).")
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  parallel <- .mf_parallel_arg(parallel, list(...), "gosh")
  k <- x$k; p <- x$p
  N.tot <- sum(choose(k, p:k))
  if (missing(subsets) || is.null(subsets)) subsets <- 1e6
  if (!is.numeric(subsets) || length(subsets) != 1L || is.na(subsets) || round(subsets) < 2)
    .mf_stop("'subsets' must be a single number >= 2.")
  subsets <- round(subsets)
  exact <- N.tot <= subsets
  n_fit <- if (exact) N.tot else subsets
  if (n_fit > .Machine$integer.max / k)
    .mf_stop(sprintf("'subsets' = %g with k = %d would need a %g-cell inclusion matrix; use fewer subsets.",
                     subsets, k, n_fit * k))
  .mf_gosh_confirm_size(n_fit, k, ncol(x$X))
  if (missing(seed) || is.null(seed)) {
    seed <- if (exact) NA_real_ else .mf_draw_seed()
  } else if (!is.numeric(seed) || length(seed) != 1L || is.na(seed) || seed < 0 || seed != round(seed) || seed >= 2^53) {
    .mf_stop("'seed' must be a single non-negative whole number (below 2^53).")
  }
  n <- if (exact) N.tot else subsets
  th <- .mf_threads(threads, n_work = n, min_per_thread = 256L)
  kernel <- function(start, end, nthreads, prog) {
    .mf_gosh(a$y, a$v, a$X, a$weights, a$method, a$test, a$control, a$int.only,
             exact, as.double(n), if (exact) 0 else as.double(seed), start, end, nthreads, prog)
  }
  r <- .mf_run_replicates(kernel, n, parallel, th, progress)
  beta <- r$beta
  colnames(beta) <- if (a$int.only) "estimate" else colnames(x$X)
  res <- data.frame(k = r$k, QE = r$QE, I2 = r$I2, H2 = r$H2, tau2 = r$tau2, tau = sqrt(r$tau2),
                    beta, check.names = FALSE)
  # metafor's closed-form path for DerSimonian-Laird intercept-only models
  # reports H2 = Q / (k - 1) also when Q < k - 1 (tau2 = 0); kept for equal values.
  if (x$method == "DL" && a$int.only && !length(a$weights))
    res$H2 <- ifelse(res$k > 1L, res$QE / (res$k - 1L), 1)
  incl <- r$incl
  colnames(incl) <- seq_len(k)
  rownames(incl) <- rownames(res) <- seq_len(nrow(res))
  fit <- stats::complete.cases(res)
  names(fit) <- rownames(res)
  if (!any(fit)) .mf_stop("All model fits failed.")
  out <- list(res = res, incl = incl, fit = fit, k = k, int.only = a$int.only, method = x$method,
              exact = exact, seed = seed, digits = .mf_cd_digits(NULL, x))
  class(out) <- "mf_gosh"
  out
}

#' @rdname gosh
#' @param digits number of decimals.
#' @export
print.mf_gosh <- function(x, digits = x$digits, ...) {
  d <- .mf_cd_digits(digits, x)
  cat("\nModel fits attempted: ", length(x$fit), " (", if (x$exact) "all" else "random", " subsets)\n", sep = "")
  cat("Model fits succeeded: ", sum(x$fit), "\n\n", sep = "")
  res <- x$res
  if (.mf_is_ee(x$method)) res$tau2 <- res$tau <- NULL
  q <- t(vapply(res, function(z) c(mean(z, na.rm = TRUE), stats::quantile(z, c(0, 0.25, 0.5, 0.75, 1), na.rm = TRUE, names = FALSE)),
                numeric(6)))
  colnames(q) <- c("mean", "min", "q1", "median", "q3", "max")
  tab <- matrix(.mf_cd_fmtx(q, d), nrow(q), dimnames = dimnames(q))
  print(tab, quote = FALSE, right = TRUE)
  cat("\n")
  invisible(x)
}

#' @rdname gosh
#' @param het which heterogeneity statistic on the y axis: \code{"I2"}
#'   (default), \code{"QE"}, \code{"H2"} or \code{"tau2"}.
#' @param out for compatibility with earlier versions of metafast, a
#'   statistic name is taken as \code{het}; metafor's meaning (a study whose
#'   subsets are highlighted) is not supported yet (issue 16).
#' @param col,pch,cex point colour, symbol and size.
#' @param xlim,ylim optional axis ranges.
#' @return \code{plot()} draws the GOSH scatter plot (coefficient against the
#'   heterogeneity statistic) and returns the plotted data invisibly.
#' @export
plot.mf_gosh <- function(x, het = "I2", pch = 19, cex = 0.5, out,
                         col = grDevices::adjustcolor("black", alpha.f = 0.3), xlim, ylim, ...) {
  .mf_check_dots("plot.mf_gosh", ...)
  stats_ok <- c("I2", "QE", "H2", "tau2")
  if (!missing(out)) {
    if (is.character(out) && length(out) == 1L && out %in% stats_ok) het <- out else
      .mf_stop("argument 'out' of plot() of gosh() (highlighting the subsets that contain a study) is not supported by metafast yet (issue 16); the heterogeneity statistic is chosen with het =.")
  }
  if (!is.character(het) || length(het) != 1L || !het %in% stats_ok)
    .mf_stop("'het' must be one of \"I2\", \"QE\", \"H2\", \"tau2\".")
  est <- if (x$int.only) "estimate" else names(x$res)[7L]
  d <- x$res[x$fit, c(est, het), drop = FALSE]
  lab <- c(I2 = "I^2 (%)", QE = "Q", H2 = "H^2", tau2 = "tau^2")[[het]]
  args <- list(d[[est]], d[[het]], col = col, pch = pch, cex = cex,
               xlab = if (x$int.only) "Estimate" else est, ylab = lab)
  if (!missing(xlim)) args$xlim <- .mf_plot_range(xlim, "xlim")
  if (!missing(ylim)) args$ylim <- .mf_plot_range(ylim, "ylim")
  do.call(graphics::plot, c(args, list(...)))
  invisible(d)
}

# A GOSH run keeps, per fitted subset, the inclusion row (k logicals), the statistics (6 + p
# doubles) and row names: beyond getmfopt(gosh.max) fits (default 1e7) it is confirmed
# interactively or refused, with its size and memory, for enumerated and random subsets alike.
.mf_gosh_confirm_size <- function(n_fit, k, p) {
  limit <- getmfopt("gosh.max", 1e7)
  if (n_fit <= limit) return(invisible(TRUE))
  bytes <- n_fit * (4 * k + 8 * (7 + p) + 64)
  msg <- sprintf("gosh() would fit %s subsets (k = %d), keeping about %s of results.",
                 format(n_fit, big.mark = ",", scientific = FALSE), k,
                 format(structure(bytes, class = "object_size"), units = "auto"))
  if (interactive() && isTRUE(utils::askYesNo(paste(msg, "Continue?"), default = FALSE)))
    return(invisible(TRUE))
  .mf_stop(paste(msg, "Ask for fewer with 'subsets', or raise the limit with setmfopt(gosh.max = ...)."))
}
