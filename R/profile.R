# The (restricted) log-likelihood profile of tau^2, as metafor's
# profile.rma.uni(), and its plot.

# The fit with tau^2 fixed at tau2 (one call of the glue): the log-likelihood
# that logLik() of the fit reports (restricted for REML fits), the
# coefficients with their intervals, I^2 and H^2.
.mf_fit_at_tau2 <- function(x, tau2) {
  con <- x$control
  con$tau2.init <- tau2
  con$fix.tau2 <- TRUE
  f <- .mf_rma_fit(x$yi, x$vi, x$X, if (is.null(x$weights)) numeric(0) else x$weights,
                   .mf_method_code(x$method), .mf_test_code(x$test), con, x$btt, x$level)
  col <- if (.mf_estimator_has(x$method, "restricted")) "REML" else "ML"
  list(ll = f$fit.stats[[col]][1L], beta = c(f$beta), ci.lb = f$ci.lb, ci.ub = f$ci.ub, I2 = f$I2, H2 = f$H2)
}

#' Profile the (restricted) log-likelihood of tau^2
#'
#' Refits the model with tau^2 fixed at each of \code{steps} values and
#' returns the (restricted, for REML fits) log-likelihood, the coefficients
#' with their confidence intervals, I^2 and H^2 at each value, as metafor's
#' \code{profile.rma.uni()}; by default also draws the profile
#' (\code{\link{plot.mf_profile}}).
#'
#' @param fitted an object of class \code{mf_rma} with a random-effects
#'   component.
#' @param xlim range of tau^2 values; by default the Q-profile (for GENQ and
#'   GENQM fits the generalised Q-profile) interval widened to include the
#'   estimate and 0.1, as metafor.
#' @param ylim range of the y-axis of the plot (default: the range of the
#'   log-likelihoods and the maximum, plus and minus 0.1).
#' @param steps number of tau^2 values (at least 2), or the vector of values.
#' @param lltol a profiled log-likelihood above that of the fit by more than
#'   \code{lltol} gives a warning (ML and REML fits).
#' @param progbar accepted for compatibility with metafor (the refits take
#'   microseconds; no progress bar is shown).
#' @param parallel only \code{"no"}: metafor's \code{"snow"} and
#'   \code{"multicore"} (and its \code{ncpus}, \code{cl}) are not supported
#'   and give an error.
#' @param ncpus,cl metafor's arguments of its parallel backends: only the
#'   defaults (1, none) are accepted.
#' @param plot draw the profile.
#' @param ... passed to \code{\link{plot.mf_profile}}.
#' @return Invisibly, a list of class \code{mf_profile} with metafor's
#'   fields: \code{tau2}, \code{ll}, \code{beta}, \code{ci.lb}, \code{ci.ub}
#'   (data frames, one column per coefficient), \code{comps}, \code{xlim},
#'   \code{ylim}, \code{method}, \code{vc} (the estimate), \code{maxll} (the
#'   log-likelihood of the fit), \code{xlab}, \code{title}, \code{I2},
#'   \code{H2}.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fit <- rma(yi, vi, data = dat)
#' pr <- profile(fit, steps = 10, plot = FALSE)
#' pr$ll
#' @importFrom stats profile
#' @export
profile.mf_rma <- function(fitted, xlim, ylim, steps = 20, lltol = 1e-03, progbar = TRUE,
                           parallel = "no", ncpus = 1, cl, plot = TRUE, ...) {
  x <- fitted
  if (!.mf_estimator_has(x$method, "random"))
    .mf_stop("Cannot profile tau^2 of an equal-effects model (method = \"EE\").")
  if (isTRUE(x$tau2.fix)) .mf_stop("Cannot profile tau^2: it was fixed, not estimated.")
  if (!identical(parallel, "no"))
    .mf_stop(sprintf("parallel = \"%s\" (metafor's parallel backends) is not supported by metafast's profile(); its refits take microseconds.",
                     paste(parallel, collapse = "")))
  if (!missing(cl) || !identical(as.numeric(ncpus), 1))
    .mf_stop("'ncpus' and 'cl' (metafor's arguments for its parallel backends) are not supported by metafast's profile().")
  if (!is.numeric(steps) || anyNA(steps)) .mf_stop("'steps' must be a number (at least 2) or a vector of tau^2 values.")
  if (!is.numeric(lltol) || length(lltol) != 1L || is.na(lltol)) .mf_stop("'lltol' must be a single number.")
  stepseq <- length(steps) >= 2L
  if (stepseq) {
    if (missing(xlim)) xlim <- range(steps)
  } else if (steps < 2) .mf_stop("'steps' must be at least 2.")
  if (missing(xlim) || is.null(xlim)) {
    ci <- tryCatch(suppressWarnings(confint(x)), error = function(e) NULL)
    lb <- ub <- NA_real_
    if (!is.null(ci)) {
      lb <- min(x$tau2, ci$random[1L, 2L])
      ub <- max(0.1, x$tau2, ci$random[1L, 3L])
    }
    if (is.na(lb) || is.na(ub)) {
      lb <- max(0, x$tau2 - stats::qnorm(0.995) * x$se.tau2)
      ub <- max(0.1, x$tau2 + stats::qnorm(0.995) * x$se.tau2)
    }
    if (is.na(lb) || is.na(ub)) {
      lb <- max(0, x$tau2 / 4)
      ub <- max(0.1, x$tau2 * 4)
    }
    if (is.na(lb) || is.na(ub)) .mf_stop("Cannot set 'xlim' automatically; give it.")
    xlim <- c(lb, ub)
  } else {
    if (!is.numeric(xlim) || length(xlim) != 2L || anyNA(xlim)) .mf_stop("'xlim' must be a numeric vector of length 2.")
    xlim <- sort(xlim)
  }
  vcs <- if (stepseq) steps else seq(xlim[1L], xlim[2L], length.out = steps)
  if (any(vcs + min(x$vi) <= 0)) .mf_stop("The tau^2 values must be above -min(vi).")
  res <- lapply(vcs, function(t) .mf_fit_at_tau2(x, t))
  lls <- vapply(res, function(r) r$ll, numeric(1))
  cn <- rownames(x$beta)
  tab <- function(f) {
    m <- do.call(rbind, lapply(res, function(r) r[[f]]))
    colnames(m) <- cn
    as.data.frame(m)
  }
  maxll <- c(stats::logLik(x))
  if (.mf_estimator_has(x$method, "likelihood") && any(lls >= maxll + lltol, na.rm = TRUE))
    warning("At least one profiled log-likelihood value is larger than the log-likelihood of the fitted model.",
            call. = FALSE)
  if (missing(ylim) || is.null(ylim)) {
    fin <- lls[is.finite(lls)]
    ylim <- if (length(fin)) {
      if (xlim[1L] <= x$tau2 && xlim[2L] >= x$tau2) range(c(maxll, fin)) else range(fin)
    } else rep(maxll, 2L)
    ylim <- ylim + c(-0.1, 0.1)
  } else {
    if (!is.numeric(ylim) || length(ylim) != 2L) .mf_stop("'ylim' must be a numeric vector of length 2.")
    ylim <- sort(ylim)
  }
  sav <- list(tau2 = vcs, ll = lls, beta = tab("beta"), ci.lb = tab("ci.lb"), ci.ub = tab("ci.ub"),
              comps = 1, xlim = xlim, ylim = ylim, method = x$method, vc = x$tau2, maxll = maxll,
              xlab = expression(paste(tau^2, " Value")), title = expression(paste("Profile Plot for ", tau^2)),
              exp = NULL, sqrt = NULL,  # (metafor's fields for its undocumented exp/sqrt options: unset)
              I2 = vapply(res, function(r) r$I2, numeric(1)), H2 = vapply(res, function(r) r$H2, numeric(1)))
  class(sav) <- "mf_profile"
  if (isTRUE(plot)) plot(sav, ...)
  invisible(sav)
}

#' Plot a tau^2 profile
#'
#' The profiled (restricted) log-likelihood against tau^2, as metafor's
#' \code{plot.profile.rma()}: points joined by lines, the estimate (with the
#' fit's log-likelihood inserted as a point), dotted reference lines at the
#' estimate and at the maximum, and optionally a line at the maximum minus
#' \code{qchisq(1 - cline, 1) / 2} (the profile-likelihood interval's cut).
#'
#' @param x an object of class \code{mf_profile}.
#' @param xlim,ylim axis ranges (default: those of \code{x}).
#' @param pch plotting symbol.
#' @param xlab,ylab,main axis labels and title.
#' @param refline draw the reference lines at the estimate and the maximum.
#' @param cline \code{TRUE} (level 0.05), a level, or \code{FALSE}: the line
#'   of the profile-likelihood interval.
#' @param ... passed to \code{plot()} and \code{points()}.
#' @return Invisibly, the layout drawn: a list with the points \code{x},
#'   \code{y}, the limits \code{xlim}, \code{ylim}, the reference lines
#'   \code{vline} and \code{hline} (NULL when not drawn), \code{cline} and
#'   the labels.
#' @export
plot.mf_profile <- function(x, xlim, ylim, pch = 19, xlab, ylab, main, refline = TRUE, cline = FALSE, ...) {
  if (isTRUE(x$comps > 1)) {  # several components (profile() of rma.mv fits): one panel each
    if (grDevices::dev.cur() == 1L || prod(graphics::par("mfrow")) < x$comps)
      graphics::par(mfrow = grDevices::n2mfrow(x$comps))
    on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
    args <- list(pch = pch, refline = refline, cline = cline, ...)
    for (nm in c("xlim", "ylim", "xlab", "ylab", "main")) if (!eval(call("missing", as.name(nm)))) args[[nm]] <- get(nm)
    return(invisible(lapply(seq_len(x$comps), function(j) do.call(plot.mf_profile, c(list(x[[j]]), args)))))
  }
  if (missing(xlim)) xlim <- x$xlim
  if (missing(ylim)) ylim <- x$ylim
  if (missing(xlab)) xlab <- x$xlab
  if (missing(ylab)) ylab <- paste0(if (identical(x$method, "REML")) "Restricted " else "", "Log-Likelihood")
  if (missing(main)) main <- x$title
  px <- x[[1L]]; py <- x$ll  # (the values: tau2, or sigma2 of rma.mv fits)
  if (min(px) <= x$vc && max(px) >= x$vc) {  # the estimate as a point of the curve
    pos <- which(px >= x$vc)[1L]
    px <- c(px[seq_len(pos - 1L)], x$vc, px[pos:length(px)])
    py <- c(py[seq_len(pos - 1L)], x$maxll, py[pos:length(py)])
  }
  graphics::plot(px, py, type = "n", xlab = xlab, ylab = ylab, main = main, bty = "l", xlim = xlim, ylim = ylim, ...)
  vline <- hline <- cl <- NULL
  if (isTRUE(refline)) {
    vline <- x$vc; hline <- x$maxll
    graphics::abline(v = vline, lty = "dotted")
    graphics::abline(h = hline, lty = "dotted")
  }
  if (isTRUE(cline)) cline <- 0.05
  if (is.numeric(cline)) {
    if (length(cline) != 1L || is.na(cline) || cline <= 0 || cline >= 100) .mf_stop("'cline' must be TRUE, FALSE or a level.")
    a <- if (cline >= 1) (100 - cline) / 100 else if (cline > 0.5) 1 - cline else cline  # (metafor's reading)
    cl <- x$maxll - stats::qchisq(1 - a, df = 1) / 2
    graphics::abline(h = cl, lty = "dotted")
  }
  graphics::points(px, py, type = "o", pch = pch, ...)
  invisible(list(x = px, y = py, xlim = xlim, ylim = ylim, vline = vline, hline = hline, cline = cl,
                 xlab = xlab, ylab = ylab, main = main))
}
