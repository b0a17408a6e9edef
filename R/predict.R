# Predicted values with confidence and prediction intervals.

#' Predicted values for a fitted meta-analytic model
#'
#' As \code{metafor}'s \code{predict.rma()}: \code{pred = x'b},
#' \code{se = sqrt(x' V x)}, a confidence interval, and for random- and
#' mixed-effects models the prediction interval
#' \eqn{\hat\mu \pm c \sqrt{se^2 + \tau^2}}{pred +- c sqrt(se^2 + tau2)}
#' (Riley, Higgins & Deeks 2011), where \eqn{c} is a normal quantile, or a t
#' quantile with k - p degrees of freedom when the model was fitted with
#' \code{test = "t"} or \code{"knha"}.
#'
#' @param object an object of class \code{mf_rma}.
#' @param newmods new moderator values: a vector (one value per prediction for
#'   a model with one moderator, otherwise one row), a matrix with one row per
#'   prediction (named columns are matched to the coefficients), or, for
#'   models fitted with a formula, a data frame with the variables of the
#'   formula (factors coded as in the fit).  Without it, the fitted values.
#' @param intercept include the intercept in the new rows (default as in the
#'   fit).
#' @param tau2.levels ignored (for metafor compatibility: one tau^2 here).
#' @param transf optional function applied to \code{pred} and the bounds
#'   (\code{se} is then \code{NA}).
#' @param level confidence level (default: the level of the fit).
#' @param adjust Bonferroni-adjust the confidence and prediction intervals
#'   for the number of predictions (the quantile at alpha / (2 m)), as
#'   metafor's \code{adjust = TRUE}.
#' @param addx add the rows of the design (\code{X}) to the result.
#' @param vcov also return the covariance matrix of the predictions: the
#'   result is then \code{list(pred = <predictions>, vcov = <matrix>)} (not
#'   with \code{transf}).
#' @param digits number of decimals for printing.
#' @param ... ignored.
#' @return A list of class \code{c("predict.mf_rma", "list.mf_rma")} with
#'   \code{pred}, \code{se}, \code{ci.lb}, \code{ci.ub}, \code{pi.lb},
#'   \code{pi.ub} (not for equal-effects models) and \code{slab};
#'   \code{as.data.frame()} turns it into a data frame.
#' @references Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of
#'   random effects meta-analyses. \emph{BMJ} 342:d549.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' predict(fit, newmods = c(2, 4))
#' predict(fit, newmods = data.frame(x = 3), transf = exp)
#' @export
predict.mf_rma <- function(object, newmods, intercept, tau2.levels, transf, level, adjust = FALSE,
                           addx = FALSE, vcov = FALSE, digits, ...) {
  .mf_check_dots("predict.mf_rma", ...)
  x <- object
  for (nm in c("adjust", "addx", "vcov")) {
    v <- get(nm)
    if (!is.logical(v) || length(v) != 1L || is.na(v)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  alpha <- if (missing(level)) x$level else .mf_level(level)
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  int.spec <- !missing(intercept)
  if (!int.spec) intercept <- x$int.incl
  if (!is.logical(intercept) || length(intercept) != 1L || is.na(intercept))
    .mf_stop("'intercept' must be TRUE or FALSE.")
  rnames <- NULL
  if (missing(newmods) || is.null(newmods)) {
    if (x$int.only) {
      Xn <- matrix(1, 1L, 1L)
    } else {
      Xn <- x$X
    }
    newmods <- NULL
  } else {
    if (x$int.only) .mf_stop("Cannot give 'newmods' for a model without moderators.")
    Xn <- .mf_newmods_matrix(x, newmods, intercept, int.spec)
    rnames <- rownames(Xn)
  }
  kn <- nrow(Xn)
  pred <- c(Xn %*% x$beta)
  XV <- Xn %*% x$vb
  vpred <- rowSums(XV * Xn)
  vpred[vpred < 0] <- NA_real_
  se <- sqrt(vpred)
  tdist <- .mf_tdist(x$test)
  ddf <- x$k - x$p
  a2 <- alpha / (if (adjust) 2 * kn else 2)  # Bonferroni over the kn predictions
  crit <- if (tdist) { if (ddf > 0) stats::qt(a2, ddf, lower.tail = FALSE) else NA_real_ }
          else stats::qnorm(a2, lower.tail = FALSE)
  ci.lb <- pred - crit * se
  ci.ub <- pred + crit * se
  pi.se <- sqrt(vpred + x$tau2)
  pi.lb <- pred - crit * pi.se
  pi.ub <- pred + crit * pi.se
  do.transf <- !missing(transf) && is.function(transf)
  if (do.transf) {
    tf <- function(v) vapply(v, transf, numeric(1))
    pred <- tf(pred); ci.lb <- tf(ci.lb); ci.ub <- tf(ci.ub); pi.lb <- tf(pi.lb); pi.ub <- tf(pi.ub)
    se <- rep(NA_real_, kn)
    lo <- pmin(ci.lb, ci.ub); ci.ub <- pmax(ci.lb, ci.ub); ci.lb <- lo
    lo <- pmin(pi.lb, pi.ub); pi.ub <- pmax(pi.lb, pi.ub); pi.lb <- lo
  }
  out <- list(pred = pred, se = se, ci.lb = ci.lb, ci.ub = ci.ub, pi.lb = pi.lb, pi.ub = pi.ub)
  if (!.mf_estimator_has(x$method, "random")) out$pi.lb <- out$pi.ub <- NULL
  if (is.null(newmods) && !x$int.only) {
    slab <- x$slab[x$ids]
  } else {
    slab <- if (!is.null(rnames)) rnames else seq_len(kn)
    if (kn == 1L && is.null(rnames)) slab <- ""
  }
  out$slab <- slab
  out$digits <- d
  out$method <- x$method
  out$transf <- do.transf
  if (tdist) out$ddf <- rep(ddf, kn)
  out$pi.se <- pi.se
  if (addx) {
    out$X <- matrix(Xn, ncol = x$p)
    colnames(out$X) <- colnames(x$X)
  }
  class(out) <- c("predict.mf_rma", "list.mf_rma")
  if (vcov && !do.transf) {
    V <- tcrossprod(XV, Xn)
    V <- (V + t(V)) / 2
    dimnames(V) <- list(slab, slab)
    return(list(pred = out, vcov = V))
  }
  out
}

# The rows of the design for new moderator values.
.mf_newmods_matrix <- function(x, newmods, intercept, int.spec) {
  cn <- colnames(x$X)
  if (is.data.frame(newmods)) {
    if (is.null(x$terms)) .mf_stop("A data frame 'newmods' needs a model fitted with a formula in 'mods'; give a matrix instead.")
    tt <- stats::delete.response(x$terms)
    mf <- tryCatch(stats::model.frame(tt, newmods, na.action = stats::na.pass, xlev = x$xlevels),
                   error = function(e) .mf_stop(sprintf("'newmods' does not match the model formula: %s", conditionMessage(e))))
    Xn <- stats::model.matrix(tt, mf)
    colnames(Xn)[colnames(Xn) == "(Intercept)"] <- "intrcpt"
    miss <- setdiff(cn, colnames(Xn))
    if (length(miss)) .mf_stop(sprintf("'newmods' gives no values for %s.", paste(miss, collapse = ", ")))
    Xn <- Xn[, cn, drop = FALSE]
    if (!intercept && x$int.incl) Xn[, "intrcpt"] <- 0
    rownames(Xn) <- rownames(newmods)
    if (identical(rownames(Xn), as.character(seq_len(nrow(Xn))))) rownames(Xn) <- NULL
    attr(Xn, "assign") <- NULL; attr(Xn, "contrasts") <- NULL
    return(Xn)
  }
  if (!(is.numeric(newmods) || is.logical(newmods)))
    .mf_stop(sprintf("'newmods' must be numeric (a vector or matrix), not %s.", class(newmods)[1L]))
  p <- x$p
  singlemod <- NCOL(newmods) == 1L && ((x$int.incl && p == 2L) || (!x$int.incl && p == 1L))
  rnames <- NULL
  if (singlemod) {
    Xn <- cbind(c(newmods))
    rnames <- if (is.matrix(newmods)) rownames(newmods) else names(newmods)
  } else if (!is.matrix(newmods) || nrow(newmods) == 1L) {
    Xn <- rbind(c(newmods))
    colnames(Xn) <- if (is.matrix(newmods)) colnames(newmods) else names(newmods)
    if (is.matrix(newmods)) rnames <- rownames(newmods)
  } else {
    Xn <- newmods
    rnames <- rownames(newmods)
  }
  storage.mode(Xn) <- "double"
  mod.names <- if (x$int.incl) cn[-1L] else cn
  if (!singlemod && !is.null(colnames(Xn)) && all(colnames(Xn) != "") && ncol(Xn) != p) {
    pos <- match(colnames(Xn), mod.names)
    if (anyNA(pos)) .mf_stop(sprintf("'newmods' has columns not in the model: %s.", paste(colnames(Xn)[is.na(pos)], collapse = ", ")))
    if (length(pos) != length(mod.names))
      .mf_stop(sprintf("'newmods' gives no values for %s.", paste(setdiff(mod.names, colnames(Xn)), collapse = ", ")))
    Xn <- Xn[, order(pos), drop = FALSE]
  }
  if (!singlemod && ncol(Xn) == p) {
    if (int.spec) warning("Argument 'intercept' ignored when 'newmods' has p columns.", call. = FALSE)
  } else if (x$int.incl) {
    Xn <- cbind(intrcpt = if (intercept) 1 else 0, Xn)
  }
  if (ncol(Xn) != p)
    .mf_stop(sprintf("'newmods' has %d columns but the model has %d coefficients.", ncol(Xn), p))
  colnames(Xn) <- cn
  rownames(Xn) <- rnames
  Xn
}
