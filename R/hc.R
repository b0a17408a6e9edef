# The Henmi-Copas (2010) interval: the equal-effects estimate with a
# confidence interval that allows for heterogeneity (DerSimonian-Laird tau2)
# and for the estimation of tau2 itself.

# Relative accuracy of the integral of Henmi & Copas (2010, eq. 11) over the
# normal density; the root t0 is found to control$tol (default below; metafor's
# is .Machine$double.eps^0.25).
.mf_hc_rel_tol <- 1e-12
.mf_hc_tol <- 1e-10

#' Henmi-Copas confidence interval
#'
#' The method of Henmi and Copas (2010) for a random-effects meta-analysis
#' without moderators: the pooled estimate is the inverse-variance weighted
#' mean of the equal-effects model (weights \eqn{1/v_i}{1/vi}, so that it does
#' not move towards the small studies as the heterogeneity grows), its
#' standard error allows for the heterogeneity (\eqn{\tau^2}{tau2} by
#' DerSimonian-Laird), and the interval allows for the uncertainty in
#' \eqn{\tau^2}{tau2} through the joint distribution of the standardised
#' estimate and Cochran's Q (Q approximated by a gamma distribution given the
#' estimate; Henmi & Copas 2010, section 3).  The half-width \eqn{u_0}{u0} of
#' the interval (in standard errors) solves
#' \eqn{\int_{t}^{\infty} G(f(r/t); r)\,\phi(r)\,dr = \alpha/2}{int_t^Inf G(f(r/t); r) phi(r) dr = alpha/2}
#' for \eqn{t = u_0/\sqrt{1 + \tau^2 W_2}}{t = u0/sqrt(1 + tau2 W2)}, found by
#' a bracketed root search on \eqn{[0, 2]} (as \code{metafor}); the integral is
#' computed by adaptive quadrature.  Results as \code{metafor}'s \code{hc()}.
#'
#' @param object a fit of \code{rma()} without moderators.
#' @param digits number of decimals for printing (default: the fit's).
#' @param transf optional function applied to the estimates and interval
#'   bounds (e.g. \code{exp}); the standard errors are then \code{NA}.
#'   \code{transf.exp.int} and the other integral transformations receive
#'   \code{targs = list(tau2 = )} of the fit when \code{targs} is not given (as
#'   in \code{metafor}).
#' @param targs optional arguments of \code{transf}.
#' @param control list: \code{tol} (accuracy of the root; default
#'   \code{1e-10}) and \code{maxiter} (default 1000) of the root search;
#'   \code{verbose} is accepted and ignored.
#' @param ... other arguments (ignored).
#' @param x an object of class \code{mf_hc}.
#' @return An object of class \code{mf_hc}: \code{beta}, \code{se},
#'   \code{ci.lb}, \code{ci.ub} (Henmi-Copas), \code{beta.rma},
#'   \code{se.rma}, \code{ci.lb.rma}, \code{ci.ub.rma} (the fit's),
#'   \code{method} (\code{"DL"}), \code{method.rma}, \code{tau2},
#'   \code{tau2.rma}, \code{digits}.  \code{print()} returns the table it
#'   prints, invisibly.
#' @references Henmi M, Copas JB (2010). Confidence intervals for random
#'   effects meta-analysis and robustness to publication bias.
#'   \emph{Statistics in Medicine} 29:2969-2983.
#' @examples
#' dat <- data.frame(yi = c(-0.89, -1.59, -1.35, -1.44, -0.22, -0.79, -1.62, 0.01, -0.47, -1.37),
#'                   vi = c(0.33, 0.19, 0.42, 0.02, 0.05, 0.01, 0.22, 0.004, 0.06, 0.07))
#' res <- rma(yi, vi, data = dat)
#' hc(res)
#' hc(res, transf = exp)
#' @export
hc <- function(object, ...) UseMethod("hc")

#' @rdname hc
#' @export
hc.default <- function(object, ...) {
  .mf_stop(sprintf("hc() is available for fits of rma() without moderators, not for an object of class '%s'.",
                   class(object)[1L]))
}

#' @rdname hc
#' @export
hc.mf_rma <- function(object, digits, transf, targs, control, ...) {
  .mf_check_dots("hc.mf_rma", ...)
  x <- object
  if (!isTRUE(x$int.only)) .mf_stop("hc() needs a model without moderators (the method pools one effect).")
  if (is.null(x$yi) || is.null(x$vi)) .mf_stop("The fit does not hold the estimates and variances hc() needs.")
  dig <- .mf_digits_vec(if (missing(digits)) NULL else digits, x$digits)
  yi <- c(x$yi)
  vi <- c(x$vi)
  k <- length(yi)
  if (k == 1L) .mf_stop("hc() needs at least 2 studies (k = 1).")
  if (!isTRUE(x$allvipos) || any(vi <= 0))
    .mf_stop(sprintf("hc() needs positive sampling variances; 'vi' is not positive in %s.", .mf_rows(vi <= 0)))
  con <- .mf_hc_control(if (missing(control)) list() else control)
  alpha <- x$level

  # Henmi & Copas (2010), section 3: the moments of Q given the standardised
  # estimate, from the sums W_r = sum(w^r) / sum(w) of the weights w = 1/v.
  w <- 1 / vi
  W1 <- sum(w)
  W2 <- sum(w^2) / W1
  W3 <- sum(w^3) / W1
  W4 <- sum(w^4) / W1
  beta <- sum(w * yi) / W1
  Q <- sum(w * (yi - beta)^2)
  tau2 <- max(0, (Q - (k - 1)) / (W1 - W2))
  se <- sqrt((tau2 * W2 + 1) / W1)
  VR <- 1 + tau2 * W2
  SDR <- sqrt(VR)
  D3 <- W3 - W2^2
  # E[Q | r] and Var[Q | r] (eqs. 7-8), r the standardised estimate
  EQ <- function(r) (k - 1) + tau2 * (W1 - W2) + tau2^2 * (r^2 / VR^2 - 1 / VR) * D3
  VQ <- function(r) {
    a <- r^2 / VR^2 - 1 / VR
    2 * (k - 1) + 4 * tau2 * (W1 - W2) + 2 * tau2^2 * (W1 * W2 - 2 * W3 + W2^2) + 4 * tau2^2 * a * D3 +
      4 * tau2^3 * a * (W4 - 2 * W2 * W3 + W2^3) + 2 * tau2^4 * (1 / VR^2 - 2 * r^2 / VR^3) * D3^2
  }
  # Q as a function of the ratio f of the widths (eq. 10)
  fQ <- function(f) (W1 / W2 - 1) * (f^2 - 1) + (k - 1)
  eqn <- function(t) {
    integrand <- function(r) {
      s <- SDR * r
      eq <- EQ(s)
      vq <- VQ(s)
      stats::pgamma(fQ(r / t), shape = eq^2 / vq, scale = vq / eq) * stats::dnorm(r)
    }
    stats::integrate(integrand, lower = t, upper = Inf, rel.tol = .mf_hc_rel_tol, subdivisions = 1000L)$value - alpha / 2
  }
  t0 <- tryCatch(stats::uniroot(eqn, lower = 0, upper = 2, tol = con$tol, maxiter = con$maxiter)$root,
                 error = function(e) .mf_stop(sprintf("hc(): the root search for the interval failed (%s).", conditionMessage(e))))
  u0 <- SDR * t0
  ci.lb <- beta - u0 * se
  ci.ub <- beta + u0 * se
  beta.rma <- unname(c(x$beta))
  se.rma <- unname(c(x$se))
  ci.lb.rma <- unname(c(x$ci.lb))
  ci.ub.rma <- unname(c(x$ci.ub))
  if (!missing(transf) && !is.null(transf) && !isFALSE(transf)) {
    if (missing(targs) || is.null(targs)) targs <- .mf_hc_auto_targs(transf, x)
    tf <- .mf_transf_elementwise(transf, targs)
    beta <- tf(beta)
    beta.rma <- tf(beta.rma)
    ci <- tf(c(ci.lb, ci.ub, ci.lb.rma, ci.ub.rma))
    se <- se.rma <- NA_real_
    ci.lb <- min(ci[1:2]); ci.ub <- max(ci[1:2])
    ci.lb.rma <- min(ci[3:4]); ci.ub.rma <- max(ci[3:4])
  } else if (!missing(targs) && !is.null(targs)) {
    .mf_stop("'targs' is given without 'transf'.")
  }
  res <- list(beta = beta, se = se, ci.lb = ci.lb, ci.ub = ci.ub, beta.rma = beta.rma, se.rma = se.rma,
              ci.lb.rma = ci.lb.rma, ci.ub.rma = ci.ub.rma, method = "DL", method.rma = x$method,
              tau2 = tau2, tau2.rma = x$tau2, digits = dig)
  class(res) <- "mf_hc"
  res
}

# metafor's control of hc(): tol and maxiter of the root search (verbose has
# no effect there either).
.mf_hc_control <- function(control) {
  if (!is.list(control)) .mf_stop("'control' must be a list, e.g. list(tol = 1e-10).")
  con <- list(tol = .mf_hc_tol, maxiter = 1000, verbose = FALSE)
  if (length(control)) {
    nms <- names(control)
    if (is.null(nms) || any(!nzchar(nms))) .mf_stop("The entries of 'control' must be named (tol, maxiter, verbose).")
    pos <- pmatch(nms, names(con))
    if (anyNA(pos)) .mf_stop(sprintf("Unknown 'control' entr%s: %s (hc() uses tol, maxiter, verbose).",
                                     if (sum(is.na(pos)) == 1L) "y" else "ies", paste(nms[is.na(pos)], collapse = ", ")))
    con[pos] <- control
  }
  if (!is.numeric(con$tol) || length(con$tol) != 1L || !(con$tol > 0) || !is.finite(con$tol))
    .mf_stop("'control$tol' must be a positive number.")
  if (!is.numeric(con$maxiter) || length(con$maxiter) != 1L || !(con$maxiter >= 1) || !is.finite(con$maxiter))
    .mf_stop("'control$maxiter' must be a number >= 1.")
  con
}

# targs = list(tau2 = ) for the integral and mode transformations (ours or
# metafor's) when none is given, as metafor supplies it.
.mf_hc_auto_targs <- function(transf, x) {
  us <- asNamespace("metafast")
  nms <- c(paste0("transf.", c("exp", "ilogit", "iprobit", "ztor", "iarcsin", "iahw", "iabt", "dtocles"), ".int"),
           paste0("transf.", c("exp", "ilogit", "iprobit", "ztor", "iarcsin", "iahw", "iabt"), ".mode"))
  for (nm in nms) if (identical(transf, get0(nm, envir = us, inherits = FALSE))) return(list(tau2 = x$tau2))
  .mf_cd_auto_targs(transf, x)
}

#' @rdname hc
#' @export
print.mf_hc <- function(x, digits = x$digits, ...) {
  d <- .mf_digits_vec(digits, x$digits, opt = FALSE)
  tab <- data.frame(method = c(x$method.rma, x$method), tau2 = .mf_fmtx(c(x$tau2.rma, x$tau2), d[["var"]]),
                    estimate = .mf_fmtx(c(x$beta.rma, x$beta), d[["est"]]), se = .mf_fmtx(c(x$se.rma, x$se), d[["se"]]),
                    ci.lb = .mf_fmtx(c(x$ci.lb.rma, x$ci.lb), d[["ci"]]), ci.ub = .mf_fmtx(c(x$ci.ub.rma, x$ci.ub), d[["ci"]]),
                    stringsAsFactors = FALSE)
  if (is.na(x$se[1L])) tab$se <- NULL
  rownames(tab) <- c("rma", "hc")
  .mf_space()
  out <- utils::capture.output(print(tab, quote = FALSE, right = TRUE))
  cat(paste0(out, " \n"), sep = "")
  .mf_space()
  invisible(tab)
}
