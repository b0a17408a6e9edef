# Extractor methods for mf_rma objects (metafor's definitions for rma.uni).
# Everything is O(k p^2): no k-by-k matrix is ever formed.

# Handle rows dropped for missing values as metafor does, following
# getOption("na.action"): na.omit drops them, na.exclude / na.pass pad NA.
.mf_na_out <- function(values_used, object, names = object$slab) {
  out <- rep(NA_real_, object$k.all)
  out[object$ids] <- values_used
  names(out) <- names
  na.act <- getOption("na.action")
  if (is.null(na.act)) na.act <- "na.omit"
  if (!is.character(na.act)) na.act <- "na.omit"
  used <- seq_along(out) %in% object$ids
  if (na.act == "na.fail" && any(!used & object$subset))
    .mf_stop("Missing values in results.")
  if (na.act %in% c("na.exclude", "na.pass")) return(out[object$subset])
  out[used]
}

# Leverages h_i, model weights w_i (inverse of vi + tau2, or the user
# weights) and residual variances Var(e_i) from the core
# (src/core/leverage.hpp), in O(k p^2).
.mf_leverage_of <- function(object) {
  .mf_leverage(object$yi, object$vi, object$X, if (is.null(object$weights)) numeric(0) else object$weights,
               object$tau2)
}

#' Extract results from a fitted meta-analytic model
#'
#' Methods with the definitions of \code{metafor}'s methods for
#' \code{rma.uni} objects.  \code{residuals(type = "rstandard")} and
#' \code{rstandard()} give the standardised residuals
#' \eqn{e_i / \sqrt{\mathrm{Var}(e_i)}}{e_i / sqrt(Var(e_i))} with
#' \eqn{\mathrm{Var}(e) = (I - H) M (I - H)'}{Var(e) = (I - H) M (I - H)'},
#' computed row by row in O(k p^2) from
#' \eqn{h_i = w_i x_i'(X'WX)^{-1} x_i}{h_i = w_i x_i' (X'WX)^-1 x_i}.
#' \code{weights()} gives the percentage weights.  \code{logLik()} uses the
#' restricted likelihood for REML fits and the full likelihood otherwise.
#'
#' @param object,model,x an object of class \code{mf_rma}.
#' @param type for \code{residuals}: \code{"response"} (raw, alias
#'   \code{"raw"}), \code{"rstandard"} or \code{"pearson"}; for
#'   \code{weights} and \code{hatvalues}: \code{"diagonal"} only.
#' @param digits ignored (kept for metafor compatibility).
#' @param REML use the restricted log-likelihood (default: \code{TRUE} for
#'   REML fits).
#' @param k penalty per parameter for \code{AIC} (only 2 is supported, as in
#'   metafor's fit statistics).
#' @param correct \code{AIC(correct = TRUE)} gives the AICc.
#' @param ... further models for \code{AIC}/\code{BIC} (a table is returned),
#'   otherwise ignored.
#' @return numeric vectors, matrices, a \code{logLik} object, or for
#'   \code{rstandard} a list of class \code{list.mf_rma} with \code{resid},
#'   \code{se}, \code{z} and \code{slab}.
#' @references Viechtbauer W, Cheung MW-L (2010). Outlier and influence
#'   diagnostics for meta-analysis. \emph{Res Synth Methods} 1:112-125.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' coef(fit); vcov(fit); logLik(fit); AIC(fit); BIC(fit)
#' rstandard(fit)
#' weights(fit)
#' hatvalues(fit)
#' @name mf_rma-extract
NULL

#' @rdname mf_rma-extract
#' @export
coef.mf_rma <- function(object, ...) {
  b <- c(object$beta)
  names(b) <- rownames(object$beta)
  b
}

#' @rdname mf_rma-extract
#' @export
vcov.mf_rma <- function(object, ...) object$vb

#' @rdname mf_rma-extract
#' @export
fitted.mf_rma <- function(object, ...) {
  .mf_na_out(c(object$X %*% object$beta), object)
}

#' @rdname mf_rma-extract
#' @export
residuals.mf_rma <- function(object, type = "response", ...) {
  type <- match.arg(type, c("response", "raw", "rstandard", "pearson"))
  if (type == "rstandard") {
    rs <- rstandard.mf_rma(object)
    out <- rs$z
    names(out) <- rs$slab
    return(out)
  }
  e <- c(object$yi - object$X %*% object$beta)
  e[abs(e) < 100 * .Machine$double.eps] <- 0
  # Pearson residuals divide by the marginal SD sqrt(vi + tau2).
  if (type == "pearson") e <- e / sqrt(object$vi + object$tau2)
  .mf_na_out(e, object)
}

#' @rdname mf_rma-extract
#' @export
rstandard.mf_rma <- function(model, digits, type = "marginal", ...) {
  if (!identical(type, "marginal")) .mf_stop("Only type = \"marginal\" is available in rstandard().")
  e <- c(model$yi - model$X %*% model$beta)
  e[abs(e) < 100 * .Machine$double.eps] <- 0
  # Var(e) = diag((I - H) M (I - H)'), the sandwich form for any weights
  se <- sqrt(.mf_leverage_of(model)$var.resid)
  out <- list(resid = .mf_na_out(e, model), se = .mf_na_out(se, model), z = .mf_na_out(e / se, model))
  out$slab <- names(out$resid)
  out$resid <- unname(out$resid); out$se <- unname(out$se); out$z <- unname(out$z)
  out$digits <- .mf_digits(NULL, model)
  class(out) <- "list.mf_rma"
  out
}

#' @rdname mf_rma-extract
#' @export
weights.mf_rma <- function(object, type = "diagonal", ...) {
  if (!identical(type, "diagonal")) .mf_stop("Only type = \"diagonal\" is available in weights() (no k x k matrices).")
  w <- if (is.null(object$weights)) 1 / (object$vi + object$tau2) else object$weights
  .mf_na_out(100 * w / sum(w), object)
}

#' @rdname mf_rma-extract
#' @export
hatvalues.mf_rma <- function(model, type = "diagonal", ...) {
  if (!identical(type, "diagonal")) .mf_stop("Only type = \"diagonal\" is available in hatvalues() (no k x k matrices).")
  h <- .mf_leverage_of(model)$hat
  h[h > 1 - 10 * .Machine$double.eps] <- 1
  .mf_na_out(h, model)
}

.mf_use_reml <- function(object, REML) {
  if (missing(REML) || is.null(REML)) return(.mf_estimator_has(object$method, "restricted"))
  isTRUE(REML)
}

#' @rdname mf_rma-extract
#' @export
logLik.mf_rma <- function(object, REML, ...) {
  reml <- .mf_use_reml(object, if (missing(REML)) NULL else REML)
  val <- object$fit.stats["ll", if (reml) "REML" else "ML"]
  attr(val, "nall") <- object$k
  attr(val, "nobs") <- object$k - if (reml) object$p else 0
  attr(val, "df") <- object$parms
  class(val) <- "logLik"
  val
}

#' @rdname mf_rma-extract
#' @export
deviance.mf_rma <- function(object, REML, ...) {
  reml <- .mf_use_reml(object, if (missing(REML)) NULL else REML)
  object$fit.stats["dev", if (reml) "REML" else "ML"]
}

.mf_info_crit <- function(object, others, crit, nms) {
  col <- if (.mf_estimator_has(object$method, "restricted")) "REML" else "ML"
  if (!length(others)) return(object$fit.stats[crit, col])
  fits <- c(list(object), others)
  out <- data.frame(df = vapply(fits, function(f) f$parms, numeric(1)),
                    v = vapply(fits, function(f) f$fit.stats[crit, col], numeric(1)))
  names(out)[2] <- crit
  rownames(out) <- nms
  out
}

#' @rdname mf_rma-extract
#' @export
AIC.mf_rma <- function(object, ..., k = 2, correct = FALSE) {
  nms <- vapply(as.list(match.call())[-1L], function(e) paste(deparse(e), collapse = ""), "")
  nms <- nms[!names(as.list(match.call())[-1L]) %in% c("k", "correct")]
  .mf_info_crit(object, list(...), if (isTRUE(correct)) "AICc" else "AIC", nms)
}

#' @rdname mf_rma-extract
#' @export
BIC.mf_rma <- function(object, ...) {
  nms <- vapply(as.list(match.call())[-1L], function(e) paste(deparse(e), collapse = ""), "")
  .mf_info_crit(object, list(...), "BIC", nms)
}

#' @rdname mf_rma-extract
#' @export
nobs.mf_rma <- function(object, ...) object$k

#' @rdname mf_rma-extract
#' @export
model.matrix.mf_rma <- function(object, ...) object$X

#' @rdname mf_rma-extract
#' @export
formula.mf_rma <- function(x, ...) x$formula.mods

#' @rdname mf_rma-extract
#' @export
print.list.mf_rma <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  df <- as.data.frame.list.mf_rma(x)
  if (isTRUE(x$transf)) df$se <- NULL
  num <- vapply(df, is.numeric, logical(1))
  df[num] <- lapply(df[num], .mf_fmtx, digits = d)
  cat("\n")
  print(df, quote = FALSE, right = TRUE)
  cat("\n")
  invisible(x)
}

#' @rdname mf_rma-extract
#' @param row.names,optional ignored (for the \code{as.data.frame} generic).
#' @export
as.data.frame.list.mf_rma <- function(x, row.names = NULL, optional = FALSE, ...) {
  pos <- match("slab", names(x))
  cols <- unclass(x)[seq_len(pos - 1L)]
  out <- as.data.frame(cols, stringsAsFactors = FALSE)
  rn <- as.character(x$slab)
  if (!anyDuplicated(rn) && length(rn) == nrow(out) && !all(rn == "")) rownames(out) <- rn
  out
}
