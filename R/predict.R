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
#' @param tau2.levels,gamma2.levels metafor's levels of the inner factor of
#'   \code{rma.mv} models; they have no meaning for these fits, so giving
#'   either is an error.
#' @param hetvar heterogeneity variance used for the prediction interval in
#'   place of the estimated \eqn{\tau^2}{tau^2} (one value, or one per
#'   prediction), as metafor.
#' @param prob a string such as \code{">0.2"} or \code{"<-0.1"}: adds
#'   \code{prob}, the probability that the true effect of a new study is
#'   above (\code{>}) or below (\code{<}) the value, from the distribution of
#'   the prediction interval (before any \code{transf}); not with
#'   \code{adjust = TRUE}.
#' @param addx add the rows of the design (\code{X}) to the result.
#' @param level confidence level (default: the level of the fit).
#' @param adjust Bonferroni-adjust the confidence and prediction intervals
#'   for the number of predictions (the quantile at alpha / (2 m)), as
#'   metafor's \code{adjust = TRUE}.
#' @param digits number of decimals for printing.
#' @param transf optional function applied to \code{pred} and the bounds
#'   (\code{se} is then \code{NA}).
#' @param targs optional arguments passed to \code{transf} (as its second
#'   argument, as metafor: \code{transf(x, targs)}).
#' @param vcov also return the covariance matrix of the predictions: the
#'   result is then \code{list(pred = <predictions>, vcov = <matrix>)} (not
#'   with \code{transf}).
#' @param predtype,pi.type the type of prediction interval (metafor takes
#'   them through \code{...}; \code{predtype} wins when both are given):
#'   \code{"default"} (the quantile of the confidence interval: normal, or t
#'   with k - p df for \code{test = "t"/"knha"}), \code{"simple"} (normal
#'   quantile, \eqn{\sqrt{\tau^2}}{sqrt(tau2)} only, ignoring the
#'   uncertainty of the estimate), \code{"Riley"} (t with k - p - 1 df for
#'   random-effects models; Riley et al. 2011) or \code{"t"} (t with k - p
#'   df).
#' @param newvi sampling variances of the new studies, added to the
#'   variance of the prediction interval (metafor's \code{newvi}, also taken
#'   through \code{...} there).
#' @param ... ignored.
#' @return A list of class \code{c("predict.mf_rma", "list.mf_rma")} with
#'   \code{pred}, \code{se}, \code{ci.lb}, \code{ci.ub}, \code{pi.lb},
#'   \code{pi.ub}, \code{cr.lb}, \code{cr.ub} (the last four not for
#'   equal-effects models), optionally \code{prob} and \code{X}, then
#'   \code{slab} and metafor's bookkeeping fields (\code{pi.dist},
#'   \code{pi.ddf}, \code{pi.se}, ...); \code{as.data.frame()} turns it into
#'   a data frame with metafor's columns.
#' @references Riley RD, Higgins JPT, Deeks JJ (2011). Interpretation of
#'   random effects meta-analyses. \emph{BMJ} 342:d549.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' predict(fit, newmods = c(2, 4))
#' predict(fit, newmods = data.frame(x = 3), transf = exp)
#' predict(fit, newmods = 3, predtype = "Riley", prob = ">0.3")
#' @export
predict.mf_rma <- function(object, newmods, intercept, tau2.levels, gamma2.levels, hetvar, prob,
                           addx = FALSE, level, adjust = FALSE, digits, transf, targs, vcov = FALSE,
                           predtype, pi.type, newvi, ...) {
  .mf_check_dots("predict.mf_rma", ...)
  x <- object
  if (!missing(tau2.levels) && !is.null(tau2.levels))
    .mf_stop("Argument 'tau2.levels' (levels of the inner factor of rma.mv models) has no meaning for this model and is not supported.")
  if (!missing(gamma2.levels) && !is.null(gamma2.levels))
    .mf_stop("Argument 'gamma2.levels' (levels of the inner factor of rma.mv models) has no meaning for this model and is not supported.")
  for (nm in c("adjust", "addx", "vcov")) {
    v <- get(nm)
    if (!is.logical(v) || length(v) != 1L || is.na(v)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  alpha <- if (missing(level)) x$level else .mf_level(level)
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  predtype <- .mf_predtype(if (missing(predtype)) NULL else predtype, if (missing(pi.type)) NULL else pi.type)
  hetvar <- if (missing(hetvar)) NULL else hetvar
  if (!is.null(hetvar) && (!is.numeric(hetvar) || anyNA(hetvar)))
    .mf_stop("Argument 'hetvar' must be a numeric vector.")
  prob <- if (missing(prob)) NULL else prob
  if (!is.null(prob) && adjust) .mf_stop("Cannot use 'prob' with adjust = TRUE.")
  targs <- if (missing(targs)) NULL else targs
  transf <- if (missing(transf)) NULL else transf
  if (!is.null(transf) && !is.function(transf)) transf <- NULL  # metafor ignores a non-function 'transf'
  int.spec <- !missing(intercept)
  if (!int.spec) intercept <- x$int.incl
  if (!is.logical(intercept) || length(intercept) != 1L || is.na(intercept))
    .mf_stop("'intercept' must be TRUE or FALSE.")
  rnames <- NULL
  fitted.rows <- full.rows <- FALSE
  if (missing(newmods) || is.null(newmods)) {
    if (x$int.only) {
      Xn <- matrix(1, 1L, 1L)
    } else {
      Xn <- x$X
      fitted.rows <- TRUE
      # na.pass: a prediction for every row whose moderators are known, also
      # where yi or vi is missing (metafor predicts from X.f)
      nv <- .mf_na_view(x)
      full.rows <- .mf_na_action() == "na.pass" && any(!nv$not.na) && !is.null(nv$X.f)
      if (full.rows) Xn <- nv$X.f
    }
    newmods <- NULL
  } else {
    if (x$int.only) .mf_stop("Cannot give 'newmods' for a model without moderators.")
    Xn <- .mf_newmods_matrix(x, newmods, intercept, int.spec)
    rnames <- rownames(Xn)
  }
  kn <- nrow(Xn)
  pred <- unname(c(Xn %*% x$beta))
  XV <- Xn %*% x$vb
  vpred <- unname(rowSums(XV * Xn))
  vpred[vpred < 0] <- NA_real_
  se <- sqrt(vpred)
  tdist <- .mf_tdist(x$test)
  ddf <- .mf_robust_pred_ddf(x, Xn, rep(x$k - x$p, kn))  # (robust(): R/robust.R)
  a2 <- alpha / (if (adjust) 2 * kn else 2)  # Bonferroni over the kn predictions
  qt_or_na <- function(df) ifelse(df > 0, stats::qt(a2, pmax(df, 1), lower.tail = FALSE), NA_real_)
  crit <- if (tdist) qt_or_na(ddf) else rep(stats::qnorm(a2, lower.tail = FALSE), kn)
  pi.dist <- if (tdist) "t" else "norm"
  ci.lb <- pred - crit * se
  ci.ub <- pred + crit * se
  # The prediction interval (Riley et al. 2011): its quantile and variance
  # as metafor's predtype.
  vpi <- vpred
  if (predtype == "simple") {
    crit <- rep(stats::qnorm(a2, lower.tail = FALSE), kn)
    vpi <- 0
    pi.dist <- "norm"
  }
  pi.ddf <- ddf
  if (predtype %in% c("riley", "t")) {
    if (predtype == "riley") pi.ddf <- ddf - x$parms + x$p
    pi.ddf[pi.ddf < 1] <- 1
    crit <- qt_or_na(pi.ddf)
    pi.dist <- "t"
  }
  newvi <- if (missing(newvi) || is.null(newvi)) 0 else .mf_per_prediction(newvi, kn, "newvi")
  het <- if (is.null(hetvar)) x$tau2 else .mf_per_prediction(hetvar, kn, "hetvar")
  pi.se <- sqrt(vpi + het + newvi)
  pi.lb <- pred - crit * pi.se
  pi.ub <- pred + crit * pi.se
  probval <- NULL
  if (!is.null(prob)) {
    # P(theta_new > value) or P(theta_new < value) under the distribution of the PI
    lower.tail <- grepl("<", prob, fixed = TRUE)
    val <- tryCatch(eval(parse(text = gsub("[<=>]", "", prob)), baseenv()), error = function(e) NULL)
    if (is.numeric(val)) {
      zq <- (val - pred) / pi.se
      probval <- if (pi.dist == "norm") stats::pnorm(zq, lower.tail = lower.tail)
                 else stats::pt(zq, df = pi.ddf, lower.tail = lower.tail)
    }
  }
  do.transf <- is.function(transf)
  if (do.transf) {
    metafor.int <- .mf_metafor_transf_int(transf)
    if (is.null(targs) && metafor.int) targs <- list(tau2 = x$tau2)
    tf <- .mf_apply_transf(transf, targs)
    pred <- tf(pred); ci.lb <- tf(ci.lb); ci.ub <- tf(ci.ub); pi.lb <- tf(pi.lb); pi.ub <- tf(pi.ub)
    se <- rep(NA_real_, kn)
  }
  lo <- pmin(ci.lb, ci.ub); ci.ub <- pmax(ci.lb, ci.ub); ci.lb <- lo
  lo <- pmin(pi.lb, pi.ub); pi.ub <- pmax(pi.lb, pi.ub); pi.lb <- lo
  if (fitted.rows) {
    slab <- if (full.rows) nv$slab else x$slab[x$ids]
  } else {
    slab <- if (!is.null(rnames)) rnames else seq_len(kn)
  }
  vslab <- slab
  if (kn == 1L && is.null(rnames)) slab <- ""
  out <- list(pred = pred, se = se, ci.lb = ci.lb, ci.ub = ci.ub, pi.lb = pi.lb, pi.ub = pi.ub,
              cr.lb = pi.lb, cr.ub = pi.ub)
  if (!is.null(probval)) out$prob <- probval
  if (addx) {
    out$X <- matrix(Xn, ncol = x$p)
    colnames(out$X) <- colnames(x$X)
  }
  V <- NULL
  if (vcov && !do.transf) {
    V <- tcrossprod(XV, Xn)
    V <- (V + t(V)) / 2
    dimnames(V) <- list(vslab, vslab)
  }
  # Fitted values follow getOption("na.action") as metafor's: rows omitted
  # from the fit are NA under na.exclude / na.pass.
  if (fitted.rows) {
    idx <- .mf_na_out(seq_len(kn), x, full = full.rows)
    if (length(idx) != kn) {
      vec <- c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub", "cr.lb", "cr.ub", "prob")
      for (nm in intersect(vec, names(out))) out[[nm]] <- unname(out[[nm]][idx])
      if (!is.null(out$X)) out$X <- out$X[idx, , drop = FALSE]
      if (length(pi.se) > 1L) pi.se <- unname(pi.se[idx])
      ddf <- unname(ddf[idx]); pi.ddf <- unname(pi.ddf[idx])
      slab <- names(idx)
      if (is.integer(x$slab)) slab <- as.integer(slab)
      if (!is.null(V)) {
        V <- V[idx, idx, drop = FALSE]
        dimnames(V) <- list(names(idx), names(idx))
      }
    }
  }
  out$slab <- slab
  out$digits <- d
  out$method <- x$method
  out$transf <- do.transf
  out$pred.type <- "location"
  if (x$test != "z") out$ddf <- ddf
  out$pi.dist <- pi.dist
  if (pi.dist == "t") out$pi.ddf <- pi.ddf
  out$pi.se <- pi.se
  attr(out$pi.lb, "level") <- alpha
  attr(out$pi.lb, "dist") <- pi.dist
  if (pi.dist == "t") attr(out$pi.lb, "ddf") <- pi.ddf
  attr(out$pi.lb, "se") <- pi.se
  if (!.mf_estimator_has(x$method, "random") || (do.transf && metafor.int))
    out$pi.lb <- out$pi.ub <- out$cr.lb <- out$cr.ub <- NULL
  class(out) <- c("predict.mf_rma", "list.mf_rma")
  if (!is.null(V)) return(list(pred = out, vcov = V))
  out
}

# metafor's predtype / pi.type (lower case; predtype wins).
.mf_predtype <- function(predtype, pi.type) {
  chk <- function(v, nm) {
    if (!is.character(v) || length(v) != 1L || is.na(v))
      .mf_stop(sprintf("'%s' must be one of \"default\", \"simple\", \"Riley\" or \"t\".", nm))
    i <- pmatch(tolower(v), c("default", "simple", "riley", "t"))
    if (is.na(i)) .mf_stop(sprintf("'%s' must be one of \"default\", \"simple\", \"Riley\" or \"t\".", nm))
    c("default", "simple", "riley", "t")[i]
  }
  if (!is.null(predtype)) return(chk(predtype, "predtype"))
  if (!is.null(pi.type)) return(chk(pi.type, "pi.type"))
  "default"
}

# One value, or one per prediction.
.mf_per_prediction <- function(v, kn, nm) {
  if (!is.numeric(v) || anyNA(v)) .mf_stop(sprintf("Argument '%s' must be a numeric vector.", nm))
  if (length(v) == 1L) v <- rep(v, kn)
  if (length(v) != kn)
    .mf_stop(sprintf("Length of the '%s' argument (%d) does not match the number of predicted values (%d).", nm, length(v), kn))
  as.double(v)
}

# transf applied element-wise, with targs as its second argument (metafor).
.mf_apply_transf <- function(transf, targs) .mf_transf_elementwise(transf, targs)

# Is transf one of metafor's transf.*.int / transf.*.mode functions (which
# integrate over the random-effects distribution; metafor then passes
# targs = list(tau2 = tau2) and drops the prediction interval)?  Found in
# metafor's namespace only when that is already loaded (no dependency).
.mf_metafor_transf_int <- function(transf) {
  env <- environment(transf)
  if (is.null(env) || !identical(environmentName(env), "metafor")) return(FALSE)
  nms <- paste0("transf.", rep(c("exp", "ilogit", "iprobit", "ztor", "iarcsin", "iahw", "iabt", "dtocles"), 2),
                rep(c(".int", ".mode"), each = 8))
  nms <- setdiff(nms, "transf.dtocles.mode")
  any(vapply(nms, function(n) exists(n, envir = env, inherits = FALSE) &&
                                identical(deparse(get(n, envir = env)), deparse(transf)), logical(1)))
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
