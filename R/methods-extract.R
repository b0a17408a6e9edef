# Extractor methods for mf_rma objects (metafor's definitions for rma.uni).
# Everything is O(k p^2): no k-by-k matrix is ever formed.

# getOption("na.action") when a method is called, as metafor reads it: one of
# "na.omit" (results for the k rows used), "na.exclude" and "na.pass" (results
# padded with NA to the k.f rows of the data after 'subset'), "na.fail" (an
# error when rows were dropped for missing values).
.mf_na_action <- function() {
  act <- getOption("na.action")
  if (is.null(act)) return("na.omit")
  if (is.function(act)) {
    known <- list(na.omit = stats::na.omit, na.exclude = stats::na.exclude,
                  na.fail = stats::na.fail, na.pass = stats::na.pass)
    hit <- names(known)[vapply(known, identical, logical(1), act)]
    act <- if (length(hit)) hit[1L] else NA_character_
  }
  if (!is.character(act) || length(act) != 1L || !act %in% c("na.omit", "na.exclude", "na.fail", "na.pass"))
    .mf_stop("Unknown 'na.action' specified under options(); metafast knows \"na.omit\", \"na.exclude\", \"na.fail\" and \"na.pass\".")
  act
}

# The fit's rows after 'subset' (k.f of them) with metafor's fields: not.na
# (TRUE for the k rows used), slab, ids (row numbers in the data), yi.f, vi.f,
# weights.f and X.f.  (Fits whose not.na, slab and *.f fields cover all rows
# before 'subset', with ids the k rows used, are read through 'subset'.)
.mf_na_view <- function(x) {
  v <- list(not.na = unname(x$not.na), slab = x$slab, ids = x$ids, yi.f = x$yi.f, vi.f = x$vi.f,
            weights.f = x$weights.f, X.f = x$X.f)
  if (is.null(v$not.na)) v$not.na <- rep(TRUE, x$k)
  sub <- x$subset
  if (is.logical(sub) && length(sub) > 0L) {
    # fields over all rows of the data (subset is a logical over them) are read through it;
    # not.na and the *.f fields may already be after 'subset' (length k.f)
    ns <- length(sub)
    if (length(v$not.na) == ns) v$not.na <- v$not.na[sub]
    if (length(v$slab) == ns) v$slab <- v$slab[sub]
    v$ids <- which(sub)
    for (nm in c("yi.f", "vi.f", "weights.f")) if (length(v[[nm]]) == ns) v[[nm]] <- v[[nm]][sub]
    if (!is.null(v$X.f) && nrow(v$X.f) == ns) v$X.f <- v$X.f[sub, , drop = FALSE]
  }
  v
}

# A result per row following getOption("na.action") as metafor: 'values' are
# those of the k rows used, or (full = TRUE) of all k.f rows (NA where a row
# cannot be computed); named by slab.  na.pass keeps the values of 'full'
# results for rows that were not used (metafor's fitted() and residuals()).
.mf_na_out <- function(values, object, full = FALSE, na.act = .mf_na_action(), msg = "Missing values in results.") {
  v <- .mf_na_view(object)
  out <- if (full) values else { o <- rep(NA_real_, length(v$not.na)); o[v$not.na] <- values; o }
  names(out) <- v$slab
  switch(na.act,
         na.omit = out[v$not.na],
         na.exclude = { out[!v$not.na] <- NA_real_; out },
         na.pass = out,
         na.fail = if (any(!v$not.na)) .mf_stop(msg) else out)
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
#' @section Residual types and missing values:
#' \code{residuals(type = )} also takes \code{"rstudent"} (from
#' \code{rstudent()}) and \code{"cholesky"} (metafor's \eqn{L e} with
#' \eqn{L'L = M^{-1}}{L'L = M^-1}; for the diagonal marginal covariance
#' \eqn{M = \mathrm{diag}(v_i + \tau^2)}{M = diag(vi + tau2)} of this model
#' these equal the Pearson residuals).  \code{rstandard(type = "conditional")}
#' gives metafor's conditional residuals \eqn{y_i - \hat\theta_i}{yi - BLUP_i}
#' with variance \eqn{v_i^2 (1 - h_i) / (v_i + \tau^2)}{vi^2 (1 - hi) / (vi + tau2)}
#' (not with user weights).  Rows omitted from the fit for missing values
#' follow \code{getOption("na.action")} when the method is called, as in
#' metafor: \code{"na.omit"} gives the rows used, \code{"na.exclude"} pads
#' the results with NA to all rows of the data (after \code{subset}),
#' \code{"na.pass"} does too but \code{fitted()} and \code{residuals()} then
#' give values for omitted rows whose moderators (and outcome) are known,
#' and \code{"na.fail"} stops.
#'
#' @param object,model,x an object of class \code{mf_rma}.
#' @param type for \code{residuals}: \code{"response"} (raw, alias
#'   \code{"raw"}), \code{"rstandard"} or \code{"pearson"}; for
#'   \code{weights} and \code{hatvalues}: \code{"diagonal"} (the
#'   percentage weights, or the leverages h_i) or \code{"matrix"} (the k x k
#'   weight matrix W, unscaled, or the hat matrix
#'   \eqn{H = X(X'WX)^{-1}X'W}{H = X (X'WX)^-1 X'W}; built only when asked
#'   for); for \code{vcov}: \code{"fixed"} (alias \code{"beta"}: the
#'   covariance of the coefficients), \code{"obs"} (alias
#'   \code{"marginal"}: the marginal covariance of the outcomes,
#'   \eqn{\mathrm{diag}(v_i + \tau^2)}{diag(vi + tau2)}), \code{"fitted"}
#'   (\eqn{X V_b X'}{X vb X'}) or \code{"resid"}
#'   (\eqn{(I - H) M (I - H)'}{(I - H) M (I - H)'}); the k x k matrices have
#'   the study labels as dimnames and follow \code{getOption("na.action")}
#'   as metafor's.
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
  .mf_check_dots("coef.mf_rma", ...)
  b <- c(object$beta)
  names(b) <- rownames(object$beta)
  b
}

#' @rdname mf_rma-extract
#' @export
vcov.mf_rma <- function(object, type = "fixed", ...) {
  .mf_check_dots("vcov.mf_rma", ...)
  type <- .mf_vcov_type(type, object)
  if (type %in% c("fixed", "beta")) return(object$vb)
  if (type %in% c("obs", "marginal")) {
    # the marginal covariance of the outcomes, M = diag(vi + tau2)
    return(.mf_na_matrix(diag(object$vi + object$tau2, nrow = object$k), object))
  }
  if (type == "fitted") {
    # Var(X b) = X vb X'
    XV <- object$X %*% object$vb
    return(.mf_na_matrix(tcrossprod(XV, object$X), object))
  }
  .mf_na_matrix(.mf_resid_vcov(object), object)
}

# vcov()'s 'type' as metafor reads it (partial matching), with metafor's
# errors: "alpha" and "delta" belong to models metafast does not fit here, and
# the covariance of the residuals is not available for robust() fits.
.mf_vcov_type <- function(type, object) {
  types <- c("fixed", "beta", "obs", "marginal", "fitted", "resid")
  if (!is.character(type) || length(type) != 1L || is.na(type) ||
      (is.na(pmatch(type, types)) && !type %in% c("alpha", "delta")))
    .mf_stop("'type' must be one of \"fixed\", \"beta\", \"obs\", \"marginal\", \"fitted\" or \"resid\".")
  if (type %in% c("alpha", "delta"))
    .mf_stop(sprintf("vcov(type = \"%s\") is for %s, which metafast does not fit.", type,
                     if (type == "alpha") "location-scale models" else "selection models"))
  type <- match.arg(type, types)
  if (type == "resid" && inherits(object, "mf_robust_rma"))
    .mf_stop("vcov(type = \"resid\") is not available for robust() fits (as in metafor).")
  type
}

# The diagonal weights of the fit: 1 / (vi + tau2), the user weights, or
# equal weights for an unweighted fit (metafor's weights.rma.uni()).
.mf_fit_weights <- function(object) {
  if (isFALSE(object$weighted)) return(rep(1 / object$k, object$k))
  if (is.null(object$weights)) 1 / (object$vi + object$tau2) else object$weights
}

# (X'WX)^-1 X' W as a p x k matrix, from the Cholesky factor of the p x p
# cross-product (no k x k inverse).
.mf_hat_left <- function(object) {
  w <- .mf_fit_weights(object)
  X <- object$X
  A <- crossprod(X * sqrt(w))
  Ainv <- chol2inv(chol(A))
  list(L = X %*% Ainv, WX = X * w, w = w, Ainv = Ainv)
}

# The hat matrix H = X (X'WX)^-1 X' W (k x k; only built on request).
.mf_hat_matrix <- function(object) {
  h <- .mf_hat_left(object)
  tcrossprod(h$L, h$WX)
}

# Var(e) = (I - H) M (I - H)' with M = diag(vi + tau2).  With the model's
# own weights W = M^-1 this is M - X (X'WX)^-1 X' (Viechtbauer & Cheung
# 2010); otherwise the sandwich M - HM - MH' + H M H', formed from k x p
# factors.
.mf_resid_vcov <- function(object) {
  m <- object$vi + object$tau2
  h <- .mf_hat_left(object)
  if (is.null(object$weights) && !isFALSE(object$weighted)) {
    ve <- -tcrossprod(h$L, object$X)
  } else {
    HM <- tcrossprod(h$L, h$WX * m)                      # H M
    mid <- crossprod(h$WX * sqrt(m))                     # X' W M W X
    ve <- tcrossprod(h$L %*% mid, h$L) - HM - t(HM)
  }
  diag(ve) <- diag(ve) + m
  (ve + t(ve)) / 2
}

# A k x k matrix over the rows used in the fit, laid out as metafor's
# methods do under getOption("na.action"): rows and columns of omitted
# studies are NA under na.exclude / na.pass and dropped under na.omit.
.mf_na_matrix <- function(M, object) {
  idx <- .mf_na_out(seq_len(object$k), object)
  out <- M[idx, idx, drop = FALSE]
  dimnames(out) <- list(names(idx), names(idx))
  out
}

#' @rdname mf_rma-extract
#' @export
fitted.mf_rma <- function(object, ...) {
  .mf_check_dots("fitted.mf_rma", ...)
  na.act <- .mf_na_action()
  v <- .mf_na_view(object)
  # na.pass: x_i'b for every row whose moderators are known (metafor)
  if (na.act == "na.pass" && any(!v$not.na) && !is.null(v$X.f))
    return(.mf_na_out(c(v$X.f %*% object$beta), object, full = TRUE, na.act = na.act))
  .mf_na_out(c(object$X %*% object$beta), object, na.act = na.act)
}

#' @rdname mf_rma-extract
#' @export
residuals.mf_rma <- function(object, type = "response", ...) {
  type <- .mf_match_arg(type, c("response", "raw", "rstandard", "rstudent", "pearson", "cholesky"), "type")
  if (type %in% c("rstandard", "rstudent")) {
  .mf_check_dots("residuals.mf_rma", ...)
    rs <- if (type == "rstandard") rstandard.mf_rma(object) else rstudent.mf_rma(object)
    out <- rs$z
    names(out) <- rs$slab
    return(out)
  }
  na.act <- .mf_na_action()
  v <- .mf_na_view(object)
  zero_small <- function(e) { e[which(abs(e) < 100 * .Machine$double.eps)] <- 0; e }
  # na.pass: y_i - x_i'b for every row with y_i and x_i known (metafor)
  if (type %in% c("response", "raw") && na.act == "na.pass" && any(!v$not.na) && !is.null(v$X.f))
    return(.mf_na_out(zero_small(c(v$yi.f - v$X.f %*% object$beta)), object, full = TRUE, na.act = na.act))
  e <- zero_small(c(object$yi - object$X %*% object$beta))
  # Pearson residuals divide by the marginal SD sqrt(vi + tau2); so do the
  # Cholesky residuals of metafor (L e with L'L = M^-1) for the diagonal
  # marginal covariance M = diag(vi + tau2) of this model.
  if (type %in% c("pearson", "cholesky")) e <- e / sqrt(object$vi + object$tau2)
  .mf_na_out(e, object, na.act = na.act)
}

#' @rdname mf_rma-extract
#' @export
rstandard.mf_rma <- function(model, digits, type = "marginal", ...) {
  type <- .mf_match_arg(type, c("marginal", "conditional"), "type")
  na.act <- .mf_na_action()
  lev <- .mf_leverage_of(model)
  if (type == "marginal") {
  .mf_check_dots("rstandard.mf_rma", ...)
    e <- c(model$yi - model$X %*% model$beta)
    e[abs(e) < 100 * .Machine$double.eps] <- 0
    # Var(e) = diag((I - H) M (I - H)'), the sandwich form for any weights
    se <- sqrt(lev$var.resid)
  } else {
    # conditional residuals y_i - BLUP_i, with BLUP_i = l_i y_i + (1 - l_i) x_i'b and
    # l_i = tau2 / (tau2 + v_i); Var = v_i^2 / (v_i + tau2) (1 - h_i)
    # (Viechtbauer & Cheung 2010; metafor's definition)
    if (!is.null(model$weights) || isFALSE(model$weighted))
      .mf_stop("rstandard(type = \"conditional\") is not available for models with user weights or weighted = FALSE (as in metafor).")
    li <- model$tau2 / (model$tau2 + model$vi)
    e <- c((1 - li) * (model$yi - model$X %*% model$beta))
    se <- sqrt(model$vi^2 / (model$vi + model$tau2) * (1 - lev$hat))
  }
  out <- list(resid = .mf_na_out(e, model, na.act = na.act), se = .mf_na_out(se, model, na.act = na.act),
              z = .mf_na_out(e / se, model, na.act = na.act))
  v <- .mf_na_view(model)
  out$slab <- if (na.act == "na.omit") v$slab[v$not.na] else v$slab
  out$resid <- unname(out$resid); out$se <- unname(out$se); out$z <- unname(out$z)
  out$digits <- .mf_digits(if (missing(digits)) NULL else digits, model)
  class(out) <- "list.mf_rma"
  out
}

#' @rdname mf_rma-extract
#' @export
weights.mf_rma <- function(object, type = "diagonal", ...) {
  .mf_check_dots("weights.mf_rma", ...)
  type <- .mf_diag_or_matrix(type, "weights")
  w <- .mf_fit_weights(object)
  if (type == "matrix") return(.mf_na_matrix(diag(w, nrow = object$k), object))
  .mf_na_out(100 * w / sum(w), object)
}

#' @rdname mf_rma-extract
#' @export
hatvalues.mf_rma <- function(model, type = "diagonal", ...) {
  .mf_check_dots("hatvalues.mf_rma", ...)
  type <- .mf_diag_or_matrix(type, "hatvalues")
  if (type == "matrix") return(.mf_na_matrix(.mf_hat_matrix(model), model))
  h <- .mf_leverage_of(model)$hat
  h[h > 1 - 10 * .Machine$double.eps] <- 1
  .mf_na_out(h, model)
}

.mf_diag_or_matrix <- function(type, fn) {
  if (!is.character(type) || length(type) != 1L || is.na(type) ||
      is.na(pmatch(type, c("diagonal", "matrix"))))
    .mf_stop(sprintf("'type' in %s() must be \"diagonal\" or \"matrix\".", fn))
  match.arg(type, c("diagonal", "matrix"))
}

.mf_use_reml <- function(object, REML) {
  if (missing(REML) || is.null(REML)) return(.mf_estimator_has(object$method, "restricted"))
  isTRUE(REML)
}

#' @rdname mf_rma-extract
#' @export
logLik.mf_rma <- function(object, REML, ...) {
  .mf_check_dots("logLik.mf_rma", ...)
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
#' @param all nobs(): the numbers of studies, of rows in the data, in
#'   \code{subset}, with complete data, used, and the residual degrees of
#'   freedom (metafor's \code{nobs(all = TRUE)}).
#' @export
nobs.mf_rma <- function(object, all = FALSE, ...) {
  .mf_check_dots("nobs.mf_rma", ...)
  if (!is.logical(all) || length(all) != 1L || is.na(all)) .mf_stop("'all' must be TRUE or FALSE.")
  if (!all) return(object$k)
  k.eff <- if (is.null(object$k.eff)) object$k else object$k.eff
  p.eff <- if (is.null(object$p.eff)) object$p else object$p.eff
  # (metafor's sum(subset): 0 without 'subset'; not.na over the rows in the subset)
  c(studies = object$k, data = object$k.all,
    subset = if (is.null(object$call$subset)) 0L else sum(object$subset), not.na = sum(.mf_na_view(object)$not.na),
    effective = k.eff, df.residual = k.eff - p.eff)
}

#' @rdname mf_rma-extract
#' @param asdf model.matrix(): return a data frame.
#' @export
model.matrix.mf_rma <- function(object, asdf = FALSE, ...) {
  .mf_check_dots("model.matrix.mf_rma", ...)
  if (!is.logical(asdf) || length(asdf) != 1L || is.na(asdf)) .mf_stop("'asdf' must be TRUE or FALSE.")
  # the rows used (na.omit) or every row in the subset (na.exclude, na.pass), as metafor
  na.act <- .mf_na_action()
  v <- .mf_na_view(object)
  if (na.act == "na.fail" && any(!v$not.na)) .mf_stop("Missing values in results.")
  out <- if (na.act %in% c("na.exclude", "na.pass") && !is.null(v$X.f)) v$X.f else object$X
  if (asdf) as.data.frame(out) else out
}

#' @rdname mf_rma-extract
#' @param type formula(): \code{"mods"} (the moderators' formula) or
#'   \code{"yi"} (the formula given as \code{yi}); NULL when there is none.
#' @export
formula.mf_rma <- function(x, type = "mods", ...) {
  .mf_check_dots("formula.mf_rma", ...)
  type <- .mf_match_arg(type, c("mods", "yi", "scale"), "type")
  if (type == "scale") .mf_stop("Can only use type = 'scale' for location-scale models.")
  if (type == "mods") x$formula.mods else x$formula.yi
}

#' @rdname mf_rma-extract
#' @export
print.list.mf_rma <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  df <- as.data.frame.list.mf_rma(x)
  num <- vapply(df, is.numeric, logical(1))
  # the design rows added by predict(addx = TRUE) print as they are (metafor)
  num[startsWith(names(df), "X.") & !is.null(x$X)] <- FALSE
  # counts print without decimals (metafor's column k)
  if ("k" %in% names(df) && is.numeric(df$k)) { num["k"] <- FALSE; df$k <- .mf_fmtx(df$k, 0) }
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
  # as metafor's as.data.frame.list.rma(): the columns before 'slab', without
  # the credibility bounds (cr.lb, cr.ub: copies of pi.lb, pi.ub) and, after
  # a transformation, without 'se'
  x <- unclass(x)
  pos <- match("slab", names(x))
  cols <- x[seq_len(pos - 1L)]
  cols$cr.lb <- NULL
  cols$cr.ub <- NULL
  if (!is.null(cols$pi.lb)) cols$pi.lb <- c(cols$pi.lb)
  if (isTRUE(x$transf)) cols$se <- NULL
  out <- as.data.frame(cols, stringsAsFactors = FALSE)
  rn <- x$slab
  if (length(rn) == nrow(out) && !anyDuplicated(rn) && !anyNA(rn))
    out <- data.frame(cols, row.names = rn, stringsAsFactors = FALSE)
  out
}

#' @rdname mf_rma-extract
#' @export
as.data.frame.confint.mf_rma <- function(x, row.names = NULL, optional = FALSE, ...) {
  # as metafor's as.data.frame.confint.rma(): the rows of 'fixed' (when
  # computed) above those of 'random', columns estimate, ci.lb, ci.ub
  # (metafor returns the bound matrix itself; here it is a data frame)
  out <- rbind(x$fixed, x$random)
  if (is.null(out)) return(data.frame())
  as.data.frame(out, stringsAsFactors = FALSE)
}
