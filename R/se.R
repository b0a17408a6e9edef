#' Standard errors of the model coefficients
#'
#' As metafor's \code{se()}: the standard errors of the estimated
#' coefficients of a fit (named as \code{coef()}); the default method takes
#' the square roots of the diagonal of \code{vcov(object, ...)}.
#'
#' @param object a fitted model (\code{rma()}, \code{rma.mv()}) or, for the
#'   default method, any object with a \code{vcov()} method.
#' @param ... for fits, metafor's \code{type} (\code{"beta"}: the standard
#'   errors of the fixed effects, which is all a metafast fit has); for the
#'   default method, passed on to \code{vcov()}.
#' @return A named vector of standard errors.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' se(rma(yi, vi, mods = ~ x, data = dat))
#' @export
se <- function(object, ...) UseMethod("se")

#' @rdname se
#' @export
se.default <- function(object, ...) {
  vb <- tryCatch(stats::vcov(object, ...), error = function(e) NULL)
  if (!is.matrix(vb) || nrow(vb) != ncol(vb))
    .mf_stop("se(): the default method needs an object whose vcov() is a square matrix.")
  sqrt(diag(vb))
}

# (the fits of rma(), rma.mv(): metafor's se.rma)
.mf_se_fit <- function(object) {
  out <- c(object$se)
  names(out) <- rownames(object$beta)
  out
}

#' @rdname se
#' @export
se.mf_rma <- function(object, ...) {
  .mf_check_dots("se.mf_rma", ...)
  .mf_se_fit(object)
}

#' @rdname se
#' @export
se.mf_rma_mv <- function(object, ...) {
  .mf_check_dots("se.mf_rma", ...)
  .mf_se_fit(object)
}
