#' metafast: fast meta-analysis with a metafor-compatible interface
#'
#' Random- and mixed-effects meta-analysis fitted by an exact O(k p^2) C++
#' engine.  Function and argument names follow 'metafor' (Viechtbauer 2010),
#' so that a metafor script runs after swapping \code{library()}; result
#' classes carry their own names (\code{mf_rma}, ...), so both packages can be
#' loaded together.
#'
#' Options: \code{metafast.threads} sets the default number of threads of the
#' resampling functions.
#'
#' @keywords internal
#' @useDynLib metafast, .registration = TRUE
#' @importFrom Rcpp sourceCpp
#' @importFrom stats pnorm qnorm pt qt pchisq qchisq pf model.matrix model.frame na.pass
#'   setNames var coef vcov fitted residuals weights logLik deviance AIC BIC nobs
#'   confint predict update formula rstandard hatvalues terms delete.response lm
#' @importFrom utils head tail
"_PACKAGE"
