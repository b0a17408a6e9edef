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
              measure = x$measure, exact = exact, seed = seed, digits = .mf_cd_digits(NULL, x))
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
#' @param het which heterogeneity statistic is plotted: \code{"I2"}
#'   (default), \code{"QE"}, \code{"H2"}, \code{"tau2"} or \code{"tau"}
#'   (also \code{"I^2"}, \code{"H^2"}, \code{"tau^2"}; partial matching).
#' @param pch,cex point symbol and size (\code{cex} is relative to
#'   \code{par("cex")}; default 0.5).
#' @param out optional: one study (its number among the fitted studies); the
#'   subsets that contain it are drawn in \code{col[1]}, the others in
#'   \code{col[2]}, in the scatter plot and in the histograms. (For
#'   compatibility with earlier versions of metafast, a statistic name is
#'   taken as \code{het}.)
#' @param col colour of the points, histograms and density lines (two
#'   colours with \code{out}; default \code{par("fg")}, or red and blue).
#' @param alpha transparency of the points, the histograms and the density
#'   lines (one to three values; default: the number of subsets to the power
#'   -0.2, 0.5 and 0.9).
#' @param border colour of the histogram bars' borders (one, or one per
#'   histogram).
#' @param xlim,ylim axis ranges of the scatter plot (model without
#'   moderators; default: the range of the histograms' breaks).
#' @param xhist,yhist draw the histogram of the estimates above, and of the
#'   heterogeneity statistic to the right of, the scatter plot (model without
#'   moderators).
#' @param hh height of the upper and width of the right histogram, as a
#'   proportion of the device (one or two values in [0, 1]); with moderators,
#'   the head room of the histograms on the diagonal.
#' @param breaks the \code{breaks} of \code{\link[graphics]{hist}} (one, or a
#'   list of two: estimates, heterogeneity).
#' @param adjust the bandwidth adjustment of the kernel density lines (see
#'   \code{\link[stats]{density}}; one or two values).
#' @param lwd width of the density lines (one or two; 0 draws none).
#' @param labels axis labels (with moderators: the labels of the panels).
#' @param trim proportion of the smallest and largest values of each plotted
#'   variable left out (one value per variable, each a number or a pair for
#'   the lower and upper tail).
#' @return \code{plot()} draws metafor's GOSH plot: for a model without
#'   moderators the scatter plot of the estimate against the heterogeneity
#'   statistic with histograms and kernel density lines in the margins, with
#'   moderators a scatter-plot matrix of the heterogeneity statistic and the
#'   coefficients with histograms on the diagonal. It returns its layout
#'   invisibly: \code{data} (the plotted values and, with \code{out}, whether
#'   the subset contains the study), \code{xlim}, \code{ylim}, \code{labels},
#'   the colours and, per histogram, its \code{breaks}, \code{density} and
#'   kernel density (\code{hist}).
#' @export
plot.mf_gosh <- function(x, het = "I2", pch = 16, cex, out, col, alpha, border, xlim, ylim, xhist = TRUE,
                         yhist = TRUE, hh = 0.3, breaks, adjust, lwd, labels, trim, ...) {
  .mf_check_dots("plot.mf_gosh", ...)
  if (!missing(out) && is.character(out) && length(out) == 1L && out %in% c("I2", "QE", "H2", "tau2")) {
    het <- out
    out <- NULL
  } else if (missing(out)) out <- NULL
  het <- .mf_gosh_het(het, x$method)
  res <- x$res[x$fit, , drop = FALSE]
  incl <- x$incl[x$fit, , drop = FALSE]
  coefs <- names(res)[-seq_len(6L)]
  if (!missing(trim)) {
    keep <- .mf_gosh_trim(trim, cbind(res[[het]], as.matrix(res[coefs])))
    res <- res[keep, , drop = FALSE]
    incl <- incl[keep, , drop = FALSE]
  }
  if (!nrow(res)) .mf_stop("'trim' leaves no subsets to plot.")
  isout <- NULL
  if (!is.null(out)) {
    if (!is.numeric(out) || length(out) != 1L || !is.finite(out) || round(out) < 1 || round(out) > x$k)
      .mf_stop(sprintf("'out' must be one study, a number from 1 to %d.", x$k))
    isout <- incl[, round(out)]
  }
  if (missing(alpha)) alpha <- nrow(x$res)^(-0.2)
  if (!is.numeric(alpha) || !length(alpha) || length(alpha) > 3L || any(!is.finite(alpha)) || any(alpha < 0 | alpha > 1))
    .mf_stop("'alpha' must be one to three numbers in [0, 1] (points, histograms, density lines).")
  if (length(alpha) == 1L) alpha <- c(alpha, 0.5, 0.9) else if (length(alpha) == 2L) alpha <- c(alpha, 0.9)
  if (missing(col)) col <- if (is.null(out)) graphics::par("fg") else c("red", "blue")
  if (!is.null(out) && length(col) != 2L) .mf_stop("'col' must give two colours when 'out' is used.")
  if (is.null(out) && length(col) != 1L) .mf_stop("'col' must be one colour (two with 'out').")
  shade <- function(a) vapply(col, function(cl) grDevices::adjustcolor(cl, alpha.f = a), "")
  cols <- list(points = shade(alpha[1L]), hist = shade(alpha[2L]), line = shade(alpha[3L]))
  if (missing(border)) {
    # a shade of the background: 10% darker (light background) or lighter
    bg <- graphics::par("bg")
    bg <- grDevices::col2rgb(if (identical(bg, "transparent")) "white" else bg) / 255
    bg <- pmin(pmax(bg + if (mean(bg) > 0.5) -0.1 else 0.1, 0), 1)
    border <- grDevices::rgb(bg[1L], bg[2L], bg[3L])
  }
  border <- rep_len(border, 2L)
  hh <- .mf_gosh_pair(hh, "hh")
  if (x$int.only && any(hh < 0 | hh > 1)) .mf_stop("'hh' must be one or two numbers in [0, 1].")
  breaks <- if (missing(breaks)) list("Sturges", "Sturges") else if (is.list(breaks)) rep_len(breaks, 2L) else list(breaks, breaks)
  adjust <- if (missing(adjust)) c(1, 1) else .mf_gosh_pair(adjust, "adjust")
  lwd <- if (missing(lwd)) c(2, 2) else .mf_gosh_pair(lwd, "lwd")
  cex <- graphics::par("cex") * (if (missing(cex)) 0.5 else cex)
  if (missing(labels)) {
    hl <- switch(het, QE = if (x$int.only) expression(Q) else expression(Q[E]), I2 = expression(I^2),
                 H2 = expression(H^2), tau2 = expression(tau^2), tau = expression(tau))
    labels <- if (x$int.only) c(.mf_measure_label(x$measure, default = "Overall Estimate"), hl) else c(hl, coefs)
  }
  pcol <- if (is.null(isout)) rep_len(cols$points[1L], nrow(res)) else ifelse(isout, cols$points[1L], cols$points[2L])
  if (!x$int.only) {
    X <- cbind(res[[het]], as.matrix(res[coefs]))
    hists <- list()
    diag_panel <- function(v, ...) {
      h <- .mf_gosh_hist(v, isout, breaks[[1L]], adjust[1L])
      usr <- graphics::par("usr")
      on.exit(graphics::par(usr = usr))
      # scaled by the larger of the bars and the density line (metafor scales by
      # the bars, and a peaked density line runs out of the panel)
      top <- h$top
      graphics::par(usr = c(usr[1:2], 0, 1.2 + hh[1L]))
      .mf_gosh_draw_hist(h, cols, border[1L], lwd[1L], vertical = FALSE, scale = top)
      hists[[length(hists) + 1L]] <<- h
      graphics::box()
    }
    graphics::pairs(X, pch = pch, cex = cex, diag.panel = diag_panel, col = pcol, labels = labels, ...)
    colnames(X) <- c(het, coefs)
    return(invisible(list(data = data.frame(X, out = if (is.null(isout)) NA else isout, check.names = FALSE),
                          labels = labels, col = cols, hist = hists)))
  }
  est <- res[["estimate"]]
  hv <- res[[het]]
  hx <- .mf_gosh_hist(est, isout, breaks[[1L]], adjust[1L])
  hy <- .mf_gosh_hist(hv, isout, breaks[[2L]], adjust[2L])
  if (missing(xlim)) xlim <- range(hx$breaks) else xlim <- .mf_plot_range(xlim, "xlim")
  if (missing(ylim)) ylim <- range(hy$breaks) else ylim <- .mf_plot_range(ylim, "ylim")
  # metafor's margins: the scatter plot loses the top 3.1 and right 1.1 lines
  # (the histograms take their place) and gains one line on the left
  mar <- graphics::par("mar")
  mar_adj <- pmax(mar - c(0, -1, 3.1, 1.1), 0)
  on.exit(graphics::par(mar = mar), add = TRUE)
  if (xhist && yhist) {
    graphics::layout(matrix(1:4, 2L, byrow = TRUE), widths = c(1 - hh[2L], hh[2L]), heights = c(hh[1L], 1 - hh[1L]))
  } else if (xhist) {
    graphics::layout(matrix(1:2, 2L), heights = c(hh[1L], 1 - hh[1L]))
  } else if (yhist) {
    graphics::layout(matrix(1:2, 1L), widths = c(1 - hh[2L], hh[2L]))
  }
  if (xhist || yhist) on.exit(graphics::layout(matrix(1)), add = TRUE)
  if (xhist) {
    graphics::par(mar = c(0, mar_adj[2:4]))
    graphics::plot(NULL, xlim = xlim, ylim = c(0, hx$top), xlab = "", ylab = "", xaxt = "n", yaxt = "n", bty = "n")
    .mf_gosh_draw_hist(hx, cols, border[1L], lwd[1L], vertical = FALSE)
  }
  if (xhist && yhist) graphics::plot.new()
  graphics::par(mar = mar_adj)
  graphics::plot(est, hv, xlim = xlim, ylim = ylim, pch = pch, cex = cex, col = pcol, bty = "l",
                 xlab = labels[1L], ylab = labels[2L], ...)
  if (yhist) {
    graphics::par(mar = c(mar_adj[1L], 0, mar_adj[3:4]))
    graphics::plot(NULL, xlim = c(0, hy$top), ylim = ylim, xlab = "", ylab = "", xaxt = "n", yaxt = "n", bty = "n")
    .mf_gosh_draw_hist(hy, cols, border[2L], lwd[2L], vertical = TRUE)
  }
  invisible(list(data = data.frame(estimate = est, het = hv, out = if (is.null(isout)) NA else isout),
                 xlim = xlim, ylim = ylim, labels = labels, col = cols,
                 hist = list(estimate = if (xhist) hx, het = if (yhist) hy)))
}

.mf_gosh_het <- function(het, method) {
  if (!is.character(het) || length(het) != 1L || is.na(het))
    .mf_stop("'het' must be one of \"I2\", \"QE\", \"H2\", \"tau2\", \"tau\".")
  choices <- c("QE", "I2", "I^2", "H2", "H^2", "tau2", "tau^2", "tau")
  hit <- choices[startsWith(choices, het)]
  if (het %in% choices) hit <- het
  if (length(hit) != 1L) .mf_stop("'het' must be one of \"I2\", \"QE\", \"H2\", \"tau2\", \"tau\".")
  het <- sub("^", "", hit, fixed = TRUE)
  if (het %in% c("tau2", "tau") && .mf_is_ee(method))
    .mf_stop(sprintf("het = \"%s\" cannot be plotted for an equal-effects model (tau2 is 0).", het))
  het
}

.mf_gosh_pair <- function(v, arg) {
  if (!is.numeric(v) || !length(v) || length(v) > 2L || any(!is.finite(v)) || any(v < 0))
    .mf_stop(sprintf("'%s' must be one or two non-negative numbers.", arg))
  rep_len(as.numeric(v), 2L)
}

# The subsets kept by 'trim': per plotted variable, the values inside its
# (lower, upper) quantiles (metafor's 'trim').
.mf_gosh_trim <- function(trim, X) {
  if (!is.list(trim)) {
    if (!is.numeric(trim) || !length(trim) || any(!is.finite(trim)) || any(trim < 0 | trim >= 0.5))
      .mf_stop("'trim' must be proportions in [0, 0.5) (one per plotted variable, or a list of pairs).")
    if (!length(trim) %in% c(1L, ncol(X)))
      .mf_stop(sprintf("'trim' must have one entry per plotted variable (%d), or one for all.", ncol(X)))
    trim <- as.list(rep_len(trim, ncol(X)))
  }
  if (length(trim) != ncol(X)) .mf_stop(sprintf("'trim' must have one entry per plotted variable (%d).", ncol(X)))
  keep <- rep(TRUE, nrow(X))
  for (j in seq_len(ncol(X))) {
    t <- trim[[j]]
    if (!is.numeric(t) || !length(t) || length(t) > 2L || any(!is.finite(t)) || any(t < 0 | t >= 0.5))
      .mf_stop("'trim' must be proportions in [0, 0.5) (one per plotted variable, or a list of pairs).")
    q <- stats::quantile(X[, j], c(t[1L], 1 - t[length(t)]), na.rm = TRUE, names = FALSE)
    keep <- keep & !is.na(X[, j]) & X[, j] >= q[1L] & X[, j] <= q[2L]
  }
  keep
}

# One margin histogram of a GOSH plot: the bars (with 'isout', of the subsets
# with and without the study on common breaks) and their kernel densities.
.mf_gosh_hist <- function(v, isout, breaks, adjust) {
  h <- graphics::hist(v, breaks = breaks, plot = FALSE)
  groups <- if (is.null(isout)) list(all = v) else list(out = v[isout], other = v[!isout])
  parts <- lapply(groups, function(g) {
    hg <- if (is.null(isout)) h else graphics::hist(g, breaks = h$breaks, plot = FALSE)
    d <- if (sum(is.finite(g)) >= 2L) stats::density(g, adjust = adjust, na.rm = TRUE) else NULL
    list(density = hg$density, kde = if (!is.null(d)) list(x = d$x, y = d$y))
  })
  dens <- unlist(lapply(parts, `[[`, "density"))
  kdes <- unlist(lapply(parts, function(p) p$kde$y))
  list(breaks = h$breaks, parts = parts, density_all = dens, top = max(dens, kdes, 0))
}

.mf_gosh_draw_hist <- function(h, cols, border, lwd, vertical, scale = 1) {
  b <- h$breaks
  n <- length(b)
  # the other subsets first, the subsets with the study on top (metafor's order)
  idx <- rev(seq_along(h$parts))
  for (i in idx) {
    y <- h$parts[[i]]$density / scale
    if (vertical) graphics::rect(0, b[-n], y, b[-1L], col = cols$hist[i], border = border) else
      graphics::rect(b[-n], 0, b[-1L], y, col = cols$hist[i], border = border)
  }
  if (lwd > 0) for (i in idx) {
    d <- h$parts[[i]]$kde
    if (is.null(d)) next
    if (vertical) graphics::lines(d$y / scale, d$x, lwd = lwd, col = cols$line[i]) else
      graphics::lines(d$x, d$y / scale, lwd = lwd, col = cols$line[i])
  }
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
