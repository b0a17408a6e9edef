# metafor's integral and mode transformations (transf.*.int, transf.*.mode).
#
# An outcome estimated on a transformed scale with between-study variance
# tau2 has, across studies, a normal distribution N(xi, tau2) on that scale.
# The *.int functions give the mean of the back-transformed outcome, the
# integral of h(z) phi((z - xi) / tau) / tau over z (for the transforms of
# bounded outcomes the normal truncated to the transform's range), as in
# metafor 5.2.1 over xi +- 10 tau unless targs gives lower / upper; the
# *.mode functions give the mode of the back-transformed distribution
# (Viechtbauer 2010; for the mean of a back-transformed normal see e.g.
# Aitchison & Brown 1957, The Lognormal Distribution).

# targs of the *.int functions: a list or a (named or positional) vector of
# tau2, lower, upper, each a scalar; tau2 >= 0 required.
.tf_targs_int <- function(targs) {
  if (length(targs) > 3L) .mf_stop("'targs' must have at most 3 elements (tau2, lower, upper).")
  if (!is.list(targs) && !is.null(targs)) {
    .tf_num(targs, "targs")
    if (is.null(names(targs))) {
      targs <- as.list(stats::setNames(targs, c("tau2", "lower", "upper")[seq_along(targs)]))
    } else {
      nm <- names(targs)
      targs <- list(tau2 = unname(targs[startsWith(nm, "t")]), lower = unname(targs[startsWith(nm, "l")]),
                    upper = unname(targs[startsWith(nm, "u")]))
      targs <- targs[lengths(targs) > 0L]
    }
  }
  if (any(lengths(targs) > 1L)) .mf_stop("The elements of 'targs' must be scalars.")
  if (is.null(targs$tau2)) .mf_stop("Must specify a 'tau2' value via the 'targs' argument.")
  if (length(targs$tau2) != 1L || !is.numeric(targs$tau2) || is.na(targs$tau2))
    .mf_stop("The 'tau2' value in 'targs' must be a number.")
  if (targs$tau2 < 0) .mf_stop("'tau2' in 'targs' must be >= 0 for an integral transformation.")
  targs
}

# tau2 of the *.mode functions: targs$tau2 or targs itself, a scalar >= 0
.tf_targs_mode <- function(targs, keep_names = TRUE) {
  if (is.null(targs) || (is.list(targs) && is.null(targs$tau2)))
    .mf_stop("Must specify a 'tau2' value via the 'targs' argument.")
  tau2 <- if (is.list(targs)) targs$tau2 else if (keep_names) targs else unname(targs)
  if (length(tau2) != 1L) .mf_stop("The 'tau2' value in 'targs' must be a scalar.")
  if (!is.numeric(tau2) || is.na(tau2)) .mf_stop("The 'tau2' value in 'targs' must be a number.")
  if (tau2 < 0) .mf_stop("'tau2' in 'targs' must be >= 0 for this transformation.")
  tau2[tau2 < .Machine$double.eps] <- 0
  tau2
}

# The integral transformation of xi by the back-transformation h.  bounds:
# the range of the transformed scale (NULL: the real line), over which the
# normal is truncated; the default limits of integration are xi -+ 10 tau
# cut to that range (as metafor, one pair of limits for all xi when the
# range is bounded at that end).
.tf_int <- function(xi, targs, h, bounds = NULL) {
  .tf_num(xi)
  targs <- .tf_targs_int(targs)
  tau2 <- targs$tau2
  if (tau2 < .Machine$double.eps) return(c(h(xi)))
  tau <- sqrt(tau2)
  lower <- targs$lower
  upper <- targs$upper
  if (is.null(lower)) lower <- if (is.null(bounds) || is.infinite(bounds[1])) xi - 10 * tau else max(bounds[1], xi - 10 * tau)
  if (is.null(upper)) upper <- if (is.null(bounds) || is.infinite(bounds[2])) xi + 10 * tau else min(bounds[2], xi + 10 * tau)
  one <- function(m, lo, up) {
    # probability mass of N(m, tau2) within the transform's range
    mass <- if (is.null(bounds)) 1 else stats::pnorm((bounds[2] - m) / tau) - stats::pnorm((bounds[1] - m) / tau)
    out <- tryCatch(stats::integrate(function(z) h(z) * stats::dnorm(z, mean = m, sd = tau) / mass,
                                     lower = lo, upper = up)$value,
                    error = function(e) NA_real_)
    out
  }
  c(mapply(one, xi, lower, upper))
}

# The mode of the back-transformed distribution: the maximum over (lo, up)
# of the density dens(x, mu, tau) of the back-transformed outcome.
.tf_mode <- function(xi, targs, h, dens, lo = 0, up = 1) {
  .tf_num(xi)
  tau2 <- .tf_targs_mode(targs)
  if (tau2 == 0) return(c(h(xi)))
  tau <- sqrt(tau2)
  c(vapply(xi, function(m) {
    tryCatch(stats::optimize(dens, lower = lo, upper = up, maximum = TRUE, mu = m, tau = tau)$maximum,
             error = function(e) NA_real_)
  }, 0))
}

#' Integral and mode transformations
#'
#' As metafor's \code{transf.*.int()} and \code{transf.*.mode()}: with
#' \code{targs = list(tau2 = )} (and optionally \code{lower}, \code{upper},
#' the limits of integration), the mean (\code{.int}) or the mode
#' (\code{.mode}) of the back-transformed outcome when the outcome on the
#' transformed scale is normal with mean \code{xi} and variance \code{tau2}
#' (truncated to the transformation's range for the arcsine, AHW and ABT
#' transformations).  \code{targs} may also be a numeric vector
#' (\code{tau2}, \code{lower}, \code{upper}, by position or by name); the
#' \code{.mode} functions take \code{tau2} only.
#'
#' @param xi numeric vector of values to transform.
#' @param targs list (or numeric vector) with \code{tau2} and, for the
#'   \code{.int} functions, optionally \code{lower} and \code{upper}.
#' @return A numeric vector.
#' @name transf.int
#' @examples
#' transf.ztor.int(c(0.2, 0.5), targs = list(tau2 = 0.1))
#' transf.ilogit.mode(c(-1, 0.5), targs = list(tau2 = 0.3))
NULL

#' @rdname transf.int
#' @export
transf.exp.int <- function(xi, targs = NULL) {
  .tf_num(xi)
  targs <- .tf_targs_int(targs)
  # mean of a log-normal: exp(mu + sigma^2 / 2)
  c(exp(xi + targs$tau2 / 2))
}

#' @rdname transf.int
#' @export
transf.exp.mode <- function(xi, targs = NULL) {
  .tf_num(xi)
  # mode of a log-normal: exp(mu - sigma^2)
  c(exp(xi - .tf_targs_mode(targs, keep_names = FALSE)))
}

#' @rdname transf.int
#' @export
transf.ztor.int <- function(xi, targs = NULL) .tf_int(xi, targs, tanh)

#' @rdname transf.int
#' @export
transf.ztor.mode <- function(xi, targs = NULL) {
  # density of r = tanh(z): phi(atanh(r)) / (1 - r^2)
  .tf_mode(xi, targs, tanh, function(x, mu, tau) stats::dnorm(atanh(x), mean = mu, sd = tau) / (1 - x^2),
           lo = -0.9999, up = 0.9999)
}

#' @rdname transf.int
#' @export
transf.ilogit.int <- function(xi, targs = NULL) .tf_int(xi, targs, stats::plogis)

#' @rdname transf.int
#' @export
transf.ilogit.mode <- function(xi, targs = NULL) {
  .tf_num(xi)
  tau2 <- .tf_targs_mode(targs)
  if (tau2 == 0) return(c(stats::plogis(xi)))
  # the mode of the logit-normal solves tau2 (2x - 1) + mu - logit(x) = 0;
  # it is unique when that function is monotone in x (checked on a grid of
  # 10^5 points, as metafor), else NA (a bimodal distribution)
  g <- function(x, mu) tau2 * (2 * x - 1) + mu - stats::qlogis(x)
  xs <- seq(0, 1, length.out = 1e5)
  c(vapply(xi, function(m) {
    if (length(unique(sign(diff(g(xs, m))))) != 1L) return(NA_real_)
    tryCatch(stats::uniroot(g, lower = 0, upper = 1, mu = m)$root, error = function(e) NA_real_)
  }, 0))
}

#' @rdname transf.int
#' @export
transf.iprobit.int <- function(xi, targs = NULL) .tf_int(xi, targs, stats::pnorm)

#' @rdname transf.int
#' @export
transf.iprobit.mode <- function(xi, targs = NULL) {
  # density of p = Phi(z): phi((z - mu) / tau) / phi(z) (up to 1 / tau)
  .tf_mode(xi, targs, stats::pnorm, function(x, mu, tau) {
    z <- stats::qnorm(x)
    stats::dnorm(z, mu, tau) / stats::dnorm(z)
  })
}

#' @rdname transf.int
#' @export
transf.iarcsin.int <- function(xi, targs = NULL) .tf_int(xi, targs, transf.iarcsin, bounds = c(0, base::pi / 2))

#' @rdname transf.int
#' @export
transf.iarcsin.mode <- function(xi, targs = NULL) {
  .tf_mode(xi, targs, transf.iarcsin, function(x, mu, tau) {
    stats::dnorm(transf.arcsin(x), mean = mu, sd = tau) /
      (2 * sqrt(x * (1 - x)) * (stats::pnorm((base::pi / 2 - mu) / tau) - stats::pnorm(-mu / tau)))
  })
}

#' @rdname transf.int
#' @export
transf.iahw.int <- function(xi, targs = NULL) .tf_int(xi, targs, transf.iahw, bounds = c(0, 1))

#' @rdname transf.int
#' @export
transf.iahw.mode <- function(xi, targs = NULL) {
  .tf_mode(xi, targs, transf.iahw, function(x, mu, tau) {
    stats::dnorm(transf.ahw(x), mean = mu, sd = tau) /
      (3 * (1 - x)^(2 / 3) * (stats::pnorm((1 - mu) / tau) - stats::pnorm(-mu / tau)))
  })
}

#' @rdname transf.int
#' @export
transf.iabt.int <- function(xi, targs = NULL) .tf_int(xi, targs, transf.iabt, bounds = c(0, Inf))

#' @rdname transf.int
#' @export
transf.iabt.mode <- function(xi, targs = NULL) {
  .tf_mode(xi, targs, transf.iabt, function(x, mu, tau) {
    stats::dnorm(transf.abt(x), mean = mu, sd = tau) / ((1 - x) * stats::pnorm(mu / tau))
  })
}

#' @rdname transf.int
#' @export
transf.dtocles.int <- function(xi, targs = NULL) .tf_int(xi, targs, transf.dtocles)
