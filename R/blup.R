# Best linear unbiased predictions of the true effects (blup) and of the
# random effects (ranef) of a random-effects model, as metafor's
# blup.rma.uni() and ranef.rma.uni().  Empirical Bayes shrinkage:
# Raudenbush SW, Bryk AS (1985). Empirical Bayes meta-analysis. J Educ Stat
# 10:75-98; Robinson GK (1991). That BLUP is a good thing. Stat Sci 6:15-32.

#' Best linear unbiased predictions and random effects
#'
#' \code{blup()} gives the best linear unbiased predictions of the true
#' effects \eqn{\theta_i}{theta_i}, \code{ranef()} those of the random
#' effects \eqn{u_i = \theta_i - x_i'\beta}{u_i = theta_i - x_i' b}, each
#' with its standard error and a prediction interval, as metafor's
#' \code{blup()} and \code{ranef()} for \code{rma.uni} fits.  With the
#' shrinkage factor \eqn{\lambda_i = \tau^2 / (\tau^2 + v_i)}{l_i = tau2 /
#' (tau2 + vi)}: \eqn{\hat\theta_i = \lambda_i y_i + (1 - \lambda_i)
#' x_i'b}{theta_i = l_i yi + (1 - l_i) x_i'b} with variance
#' \eqn{\lambda_i v_i + (1 - \lambda_i)^2 x_i' V_b x_i}{l_i vi + (1 - l_i)^2
#' x_i' vb x_i}, and \eqn{\hat u_i = \lambda_i (y_i - x_i'b)}{u_i = l_i (yi -
#' x_i'b)} with variance \eqn{\lambda_i v_i + \lambda_i^2 x_i' V_b x_i}{l_i
#' vi + l_i^2 x_i' vb x_i} (0 for an equal-effects model).  The interval uses
#' a normal quantile, or a t quantile with k - p df for \code{test = "t"} or
#' \code{"knha"}.  Not available for fits with user weights.  Rows omitted
#' from the fit follow \code{getOption("na.action")}.
#'
#' \code{ranef} is a generic here (metafor re-exports nlme's generic of the
#' same name); \code{blup} is a generic as in metafor.
#'
#' @param x,object an object of class \code{mf_rma}.
#' @param level level of the prediction intervals (default: the level of the
#'   fit).
#' @param digits number of decimals for printing.
#' @param transf optional function applied to the predictions and the
#'   interval bounds (\code{se} is then \code{NA}).
#' @param targs optional arguments passed to \code{transf} (as its second
#'   argument).
#' @param ... further arguments of methods.
#' @return A list of class \code{list.mf_rma} with \code{pred}, \code{se},
#'   \code{pi.lb}, \code{pi.ub} and \code{slab}; \code{as.data.frame()}
#'   turns it into a data frame.
#' @references Raudenbush SW, Bryk AS (1985). Empirical Bayes
#'   meta-analysis. \emph{J Educ Stat} 10:75-98.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fit <- rma(yi, vi, data = dat)
#' blup(fit)
#' ranef(fit)
#' @name blup
#' @export
blup <- function(x, ...) UseMethod("blup")

#' @rdname blup
#' @export
ranef <- function(object, ...) UseMethod("ranef")

#' @rdname blup
#' @export
blup.mf_rma <- function(x, level, digits, transf, targs, ...) {
  .mf_eb_predictions(x, if (missing(level)) NULL else level, if (missing(digits)) NULL else digits,
                     if (missing(transf)) NULL else transf, if (missing(targs)) NULL else targs,
                     random = FALSE)
}

#' @rdname blup
#' @export
ranef.mf_rma <- function(object, level, digits, transf, targs, ...) {
  .mf_eb_predictions(object, if (missing(level)) NULL else level, if (missing(digits)) NULL else digits,
                     if (missing(transf)) NULL else transf, if (missing(targs)) NULL else targs,
                     random = TRUE)
}

.mf_eb_predictions <- function(x, level, digits, transf, targs, random) {
  if (!is.null(x$weights) || isFALSE(x$weighted))
    .mf_stop("Extraction of random effects is not available for models with non-standard weights.")
  alpha <- if (is.null(level)) x$level else .mf_level(level)
  d <- .mf_digits(digits, x)
  crit <- if (.mf_tdist(x$test)) {
    if (x$k - x$p > 0) stats::qt(alpha / 2, x$k - x$p, lower.tail = FALSE) else NA_real_
  } else stats::qnorm(alpha / 2, lower.tail = FALSE)
  Xb <- c(x$X %*% x$beta)
  xvx <- rowSums((x$X %*% x$vb) * x$X)   # x_i' vb x_i, O(k p^2)
  li <- x$tau2 / (x$tau2 + x$vi)         # shrinkage factor
  if (random) {
    if (!.mf_estimator_has(x$method, "random")) {
      pred <- rep(0, x$k); vpred <- rep(0, x$k)
    } else {
      pred <- li * (x$yi - Xb)
      vpred <- li * x$vi + li^2 * xvx
    }
  } else {
    pred <- li * x$yi + (1 - li) * Xb
    vpred <- ifelse(li == 1, li * x$vi, li * x$vi + (1 - li)^2 * xvx)
  }
  se <- sqrt(vpred)
  pi.lb <- pred - crit * se
  pi.ub <- pred + crit * se
  do.transf <- is.function(transf)
  if (do.transf) {
    tf <- .mf_apply_transf(transf, targs)
    pred <- tf(pred); pi.lb <- tf(pi.lb); pi.ub <- tf(pi.ub)
    se <- rep(NA_real_, x$k)
  }
  lo <- pmin(pi.lb, pi.ub); pi.ub <- pmax(pi.lb, pi.ub); pi.lb <- lo
  pad <- function(v) unname(.mf_na_out(v, x))
  out <- list(pred = pad(pred), se = pad(se), pi.lb = pad(pi.lb), pi.ub = pad(pi.ub))
  slab <- names(.mf_na_out(pred, x))
  out$slab <- if (is.integer(x$slab)) as.integer(slab) else slab
  out$digits <- d
  out$transf <- do.transf
  class(out) <- "list.mf_rma"
  out
}
