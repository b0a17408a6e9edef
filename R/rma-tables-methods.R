# Methods for the fits of rma.mh() and rma.peto() (class mf_rma_tab), with
# the meaning of metafor 5.2.1's methods for rma.mh / rma.peto objects.  The
# case-deletion methods (leave1out, cumul, rstudent) evaluate the closed-form
# estimators once per refit with the sums of the studies kept (sum minus the
# left-out terms, cumulative sums); when the value added to zero cells
# depends on the other studies (to = "if0all"), or metafor refits from the
# already adjusted tables (leave1out() with to[2] != "none"), each refit is
# done as metafor does it, by calling the fitting function on the subset.

#' Methods for rma.mh() and rma.peto() fits
#'
#' The methods metafor offers for \code{rma.mh} and \code{rma.peto} objects,
#' with the same arguments and results.
#'
#' @param object,model,x a fit of \code{\link{rma.mh}} or \code{\link{rma.peto}}.
#' @param digits number of decimals for printing.
#' @param type \code{vcov()}: \code{"fixed"} (or \code{"beta"}) or
#'   \code{"fitted"}; \code{residuals()}: \code{"response"},
#'   \code{"rstandard"}, \code{"rstudent"} or \code{"pearson"} (= rstandard);
#'   \code{weights()}: \code{"diagonal"} or \code{"matrix"}.
#' @param parm ignored (with a warning, as metafor).
#' @param level confidence level.
#' @param transf a function applied to the estimates and bounds, or
#'   \code{TRUE} for \code{exp} (ratio measures).
#' @param targs optional second argument of \code{transf}.
#' @param cluster leave1out(): optional clusters left out together.
#' @param order cumul(): variable giving the order of the studies.
#' @param collapse cumul(): add studies with the same value of \code{order} together.
#' @param decreasing cumul(): sort in decreasing order.
#' @param progbar accepted for compatibility (ignored).
#' @param ... other arguments (see metafor).
#' @return As metafor's methods.
#' @name mf_rma_tab-methods
NULL

.mf_tab_refit_fn <- function(x) if (inherits(x, "mf_rma_peto")) rma.peto else rma.mh

# One refit per group: `src` the tables of the rows (a list of columns), yi /
# vi their per-study outcomes, use / usey the rows' inclusion flags, `agg`
# the aggregator of the groups' sums (fast path), `sets` the logical
# selections of the rows of each refit (slow path).
.mf_tab_refits <- function(x, src, yi, vi, use, usey, agg, sets, slow) {
  cols <- c("k", "beta", "se", "zval", "pval", "ci.lb", "ci.ub", "QE", "QEp", "I2", "H2")
  if (slow) {
    fn <- .mf_tab_refit_fn(x)
    r <- lapply(sets, function(s) {
      a <- c(src, list(add = x$add, to = x$to, drop00 = x$drop00, level = 100 * (1 - x$level), subset = s))
      if (inherits(x, "mf_rma_mh")) a <- c(a, list(measure = x$measure, correct = x$correct))
      f <- tryCatch(suppressWarnings(do.call(fn, a)), error = function(e) NULL)
      if (is.null(f)) return(stats::setNames(rep(NA_real_, length(cols)), cols))
      f$beta <- unname(f$beta)
      unlist(f[cols])
    })
    r <- do.call(rbind, r)
    return(lapply(stats::setNames(cols, cols), function(nm) unname(r[, nm])))
  }
  cells <- src
  if (inherits(x, "mf_rma_mh") || inherits(x, "mf_rma_peto")) {
    cn <- if (x$measure %in% c("IRR", "IRD")) c("x1i", "x2i") else c("ai", "bi", "ci", "di")
    cells[cn] <- .esc_add(cells[cn], x$add[2], x$to[2])
  }
  core <- .mf_tab_core(x$measure, cells, yi, vi, use, usey & use, agg, x$level)
  bad <- core$k == 0 | (x$measure == "PETO" & is.na(core$beta))
  out <- core[cols]
  lapply(out, function(z) { z[bad] <- NA_real_; z })
}

.mf_tab_transf <- function(x, out, transf, targs) {
  if (isTRUE(transf) && x$measure %in% c("OR", "RR", "IRR", "PETO")) transf <- exp
  if (isTRUE(transf)) transf <- NULL
  .mf_cd_transf(out, transf, if (missing(targs)) NULL else targs)
}

#' @rdname mf_rma_tab-methods
#' @export
leave1out.mf_rma_tab <- function(x, cluster, digits, transf, targs, progbar = FALSE, ...) {
  .mf_check_dots("leave1out.mf_rma_tab", ...)
  na.act <- .mf_na_action()
  if (x$k == 1L) .mf_stop("Stopped because k = 1.")
  digits <- .mf_cd_digits(digits, x)
  nn <- x$not.na
  if (missing(cluster)) {
    cl <- seq_len(x$k.f)
    misscl <- TRUE
  } else {
    cl <- .mf_cd_getx(substitute(cluster), x, parent.frame(), "cluster")
    if (length(cl) != x$k.all)
      .mf_stop(sprintf("'cluster' has length %d but the data have %d rows.", length(cl), x$k.all))
    if (!is.null(x$subset)) cl <- cl[x$subset]
    if (anyNA(cl)) .mf_stop("'cluster' must not have missing values.")
    misscl <- FALSE
  }
  clu <- cl[nn]
  ids <- unique(clu)
  if (!misscl) ids <- sort(ids)
  g <- match(clu, ids)
  slow <- x$to[1] == "if0all" || x$to[2] != "none"
  agg <- function(z) sum(z) - as.vector(rowsum(z, factor(g, levels = seq_along(ids)), reorder = TRUE))
  sets <- lapply(seq_along(ids), function(i) g != i)
  r <- .mf_tab_refits(x, x$outdat, x$yi.f[nn], x$vi.f[nn], rep(TRUE, x$k), x$not.na.yivi[nn], agg, sets, slow)
  out <- list(estimate = r$beta, se = r$se, zval = r$zval, pval = r$pval, ci.lb = r$ci.lb, ci.ub = r$ci.ub,
              Q = r$QE, Qp = r$QEp, I2 = r$I2, H2 = r$H2)
  if (misscl) {
    if (na.act == "na.fail" && any(!nn)) .mf_stop("Missing values in results.")
    if (na.act %in% c("na.exclude", "na.pass"))
      out <- lapply(out, function(z) { o <- rep(NA_real_, x$k.f); o[nn] <- z; o })
    slab <- paste0("-", if (na.act == "na.omit") x$slab[nn] else x$slab)
  } else {
    slab <- paste0("-", ids)
  }
  tr <- .mf_tab_transf(x, out, if (missing(transf)) NULL else transf, targs)
  .mf_cd_finish(tr$out, x, slab, digits, tr$transf)
}

#' @rdname mf_rma_tab-methods
#' @export
cumul.mf_rma_tab <- function(x, order, digits, transf, targs, collapse = FALSE, progbar = FALSE,
                             decreasing = FALSE, ...) {
  .mf_check_dots("cumul.mf_rma_tab", ...)
  na.act <- .mf_na_action()
  if (na.act == "na.fail" && any(!x$not.na)) .mf_stop("Missing values in data.")
  if (!is.logical(collapse) || length(collapse) != 1L || is.na(collapse)) .mf_stop("'collapse' must be TRUE or FALSE.")
  if (!is.logical(decreasing) || length(decreasing) != 1L || is.na(decreasing))
    .mf_stop("'decreasing' must be TRUE or FALSE.")
  digits <- .mf_cd_digits(digits, x)
  if (missing(order)) {
    orvar <- seq_len(x$k.f)
    collapse <- FALSE
  } else {
    if (grepl("^order\\(", paste(deparse(substitute(order)), collapse = "")))
      warning("Use of order() in the 'order' argument is probably erroneous (as metafor warns).", call. = FALSE)
    orvar <- .mf_cd_getx(substitute(order), x, parent.frame(), "order")
    if (length(orvar) != x$k.all)
      .mf_stop(sprintf("'order' has length %d but the data have %d rows.", length(orvar), x$k.all))
    if (!is.null(x$subset)) orvar <- orvar[x$subset]
  }
  o <- base::order(orvar, decreasing = decreasing, na.last = NA)
  orvar <- orvar[o]
  nn <- x$not.na[o]
  grp <- if (collapse) match(orvar, unique(orvar)) else seq_along(orvar)
  ng <- max(c(0L, grp))
  last <- vapply(seq_len(ng), function(i) max(which(grp == i)), integer(1))
  anyused <- vapply(seq_len(ng), function(i) any(nn[grp == i]), logical(1))
  src <- lapply(x$outdat.f, `[`, o)
  slow <- any(x$to == "if0all")
  agg <- function(z) cumsum(z)[last]
  sets <- lapply(seq_len(ng), function(i) seq_len(last[i]))
  r <- .mf_tab_refits(x, src, x$yi.f[o], x$vi.f[o], nn, x$not.na.yivi[o], agg, sets, slow)
  r <- lapply(r, function(z) { z[!anyused] <- NA_real_; z })
  show <- if (na.act == "na.omit") anyused else rep(TRUE, ng)
  out <- list(k = as.integer(r$k), estimate = r$beta, se = r$se, zval = r$zval, pval = r$pval, ci.lb = r$ci.lb,
              ci.ub = r$ci.ub, Q = r$QE, Qp = r$QEp, I2 = r$I2, H2 = r$H2)
  out <- lapply(out, `[`, show)
  tr <- .mf_tab_transf(x, out, if (missing(transf)) NULL else transf, targs)
  first <- match(seq_len(ng), grp)
  slab <- if (collapse) orvar[first][show] else x$slab[o][show]
  res <- .mf_cd_finish(tr$out, x, slab, digits, tr$transf, class = "mf_cumul")
  if (!collapse) res$ids <- x$ids[o][show]
  res$slab.null <- if (collapse) FALSE else x$slab.null
  res$order <- if (collapse) orvar[first][show] else orvar[show]
  res$level <- x$level
  res$test <- x$test
  if (!tr$transf) {
    res$measure <- x$measure
    attr(res$estimate, "measure") <- x$measure
  }
  res
}

# rstandard / rstudent as metafor: the residuals of the per-study outcomes
# (all k.f rows; na.action picks the rows with an outcome).
.mf_tab_resid_out <- function(x, resid, se, digits) {
  na.act <- .mf_na_action()
  resid[!is.na(resid) & abs(resid) < 100 * .Machine$double.eps] <- 0
  keep <- x$not.na.yivi
  if (na.act == "na.fail" && any(!keep)) .mf_stop("Missing values in results.")
  sel <- if (na.act == "na.omit") keep else rep(TRUE, x$k.f)
  out <- list(resid = resid[sel], se = se[sel], z = (resid / se)[sel], slab = x$slab[sel],
              digits = .mf_cd_digits(digits, x))
  class(out) <- "list.mf_rma"
  out
}

#' @rdname mf_rma_tab-methods
#' @export
rstandard.mf_rma_tab <- function(model, digits, ...) {
  .mf_check_dots("rstandard.mf_rma_tab", ...)
  .mf_tab_resid_out(model, c(model$yi.f) - unname(model$beta), sqrt(model$vi.f), digits)
}

#' @rdname mf_rma_tab-methods
#' @export
rstudent.mf_rma_tab <- function(model, digits, progbar = FALSE, ...) {
  .mf_check_dots("rstudent.mf_rma_tab", ...)
  x <- model
  nn <- x$not.na
  slow <- any(x$to == "if0all")
  kf <- x$k.f
  agg <- function(z) sum(z) - z
  sets <- lapply(seq_len(kf), function(i) -i)
  r <- if (slow) {
    rr <- .mf_tab_refits(x, x$outdat.f, x$yi.f, x$vi.f, nn, x$not.na.yivi, agg, sets[nn], TRUE)
    lapply(rr, function(z) { o <- rep(NA_real_, kf); o[nn] <- z; o })
  } else .mf_tab_refits(x, x$outdat.f, x$yi.f, x$vi.f, nn, x$not.na.yivi, agg, sets, FALSE)
  del <- r$beta; vdel <- r$se^2
  del[!nn] <- NA_real_; vdel[!nn] <- NA_real_
  .mf_tab_resid_out(x, c(x$yi.f) - del, sqrt(x$vi.f + vdel), digits)
}

#' @rdname mf_rma_tab-methods
#' @export
confint.mf_rma_tab <- function(object, parm, level, digits, transf, targs, ...) {
  .mf_check_dots("confint.mf_rma_tab", ...)
  if (!missing(parm)) warning("Argument 'parm' (currently) ignored.", call. = FALSE)
  alpha <- if (missing(level)) object$level else .mf_level(level)
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  b <- unname(object$beta)
  out <- list(estimate = b, ci.lb = b - crit * object$se, ci.ub = b + crit * object$se, se = object$se)
  tr <- .mf_tab_transf(object, out, if (missing(transf)) NULL else transf, targs)
  fixed <- cbind(estimate = tr$out$estimate, ci.lb = tr$out$ci.lb, ci.ub = tr$out$ci.ub)
  rownames(fixed) <- ""
  res <- list(fixed = fixed, digits = .mf_cd_digits(digits, object))
  class(res) <- "confint.mf_rma"
  res
}

#' @rdname mf_rma_tab-methods
#' @export
summary.mf_rma_tab <- function(object, digits, ...) {
  .mf_check_dots("summary.mf_rma_tab", ...)
  if (!missing(digits)) object$digits <- digits
  class(object) <- c("summary.mf_rma_tab", class(object))
  object
}

#' @rdname mf_rma_tab-methods
#' @param showfit print the fit statistics (\code{TRUE} for a summary).
#' @export
print.summary.mf_rma_tab <- function(x, digits, showfit = TRUE, ...) {
  class(x) <- setdiff(class(x), "summary.mf_rma_tab")
  print(x, digits = .mf_digits(digits, x), showfit = showfit, ...)
  invisible(x)
}

#' @rdname mf_rma_tab-methods
#' @export
coef.mf_rma_tab <- function(object, ...) {
  .mf_check_dots("coef.mf_rma_tab", ...)
  unname(object$beta)  # as metafor (rownames of a vector: no names)
}

#' @rdname mf_rma_tab-methods
#' @export
vcov.mf_rma_tab <- function(object, type = "fixed", ...) {
  .mf_check_dots("vcov.mf_rma_tab", ...)
  type <- match.arg(type, c("fixed", "beta", "alpha", "delta", "obs", "marginal", "fitted", "resid"))
  if (type %in% c("fixed", "beta")) return(object$vb)
  if (type == "fitted") {
    # the k.f x k.f matrix the user asked for (all entries equal to the variance)
    na.act <- .mf_na_action()
    out <- matrix(object$se^2, object$k.f, object$k.f, dimnames = list(object$slab, object$slab))
    if (na.act == "na.omit") out <- out[object$not.na, object$not.na, drop = FALSE]
    if (na.act %in% c("na.exclude", "na.pass")) { out[!object$not.na, ] <- NA_real_; out[, !object$not.na] <- NA_real_ }
    return(out)
  }
  .mf_stop(sprintf("vcov(type = \"%s\") is not available for fits of rma.mh() or rma.peto() (as in metafor).", type))
}

#' @rdname mf_rma_tab-methods
#' @export
fitted.mf_rma_tab <- function(object, ...) {
  .mf_check_dots("fitted.mf_rma_tab", ...)
  out <- rep(unname(object$beta), object$k.f)
  .mf_tab_na(out, object)
}

.mf_tab_na <- function(out, object, exclude_na = TRUE) {
  na.act <- .mf_na_action()
  names(out) <- object$slab
  switch(na.act,
         na.omit = out[object$not.na],
         na.exclude = { out[!object$not.na] <- NA_real_; out },
         na.pass = out,
         na.fail = if (any(!object$not.na)) .mf_stop("Missing values in results.") else out)
}

#' @rdname mf_rma_tab-methods
#' @export
residuals.mf_rma_tab <- function(object, type = "response", ...) {
  .mf_check_dots("residuals.mf_rma_tab", ...)
  type <- match.arg(type, c("response", "rstandard", "rstudent", "pearson", "cholesky"))
  if (type == "pearson") type <- "rstandard"
  if (type == "cholesky") .mf_stop("Cholesky residuals are not available for fits of rma.mh() or rma.peto() (as in metafor).")
  if (type %in% c("rstandard", "rstudent")) {
    tmp <- if (type == "rstandard") rstandard.mf_rma_tab(object) else rstudent.mf_rma_tab(object)
    return(stats::setNames(c(tmp$z), tmp$slab))
  }
  out <- c(object$yi.f) - unname(object$beta)
  out[!is.na(out) & abs(out) < 100 * .Machine$double.eps] <- 0
  .mf_tab_na(out, object)
}

#' @rdname mf_rma_tab-methods
#' @export
weights.mf_rma_tab <- function(object, type = "diagonal", ...) {
  .mf_check_dots("weights.mf_rma_tab", ...)
  type <- match.arg(type, c("diagonal", "matrix"))
  na.act <- .mf_na_action()
  d <- object$outdat
  m <- object$measure
  wi <- switch(m,
               OR = d$bi * d$ci / (d$ai + d$bi + d$ci + d$di),
               RR = d$ci * (d$ai + d$bi) / (d$ai + d$bi + d$ci + d$di),
               RD = (d$ai + d$bi) * (d$ci + d$di) / (d$ai + d$bi + d$ci + d$di),
               IRR = d$x2i * d$t1i / (d$t1i + d$t2i),
               IRD = d$t1i * d$t2i / (d$t1i + d$t2i),
               PETO = {
                 # the hypergeometric variances of the tables (metafor's weights of Peto's method)
                 n1 <- d$ai + d$bi; n2 <- d$ci + d$di; N <- n1 + n2
                 (d$ai + d$ci) * (d$bi + d$di) * (n1 / N) * (n2 / N) / (N - 1)
               })
  nn <- object$not.na
  if (na.act == "na.fail" && any(!nn)) .mf_stop("Missing values in weights.")
  if (type == "diagonal") {
    w <- rep(NA_real_, object$k.f)
    w[nn] <- wi / sum(wi) * 100
    names(w) <- object$slab
    return(if (na.act == "na.omit") w[nn] else w)
  }
  W <- matrix(NA_real_, object$k.f, object$k.f, dimnames = list(object$slab, object$slab))
  W[nn, nn] <- diag(wi, length(wi))
  if (na.act == "na.omit") W <- W[nn, nn, drop = FALSE]
  W
}

# The fit statistics read as for rma() fits (method "FE": the ML column).
#' @rdname mf_rma_tab-methods
#' @param REML use the REML fit statistics.
#' @export
logLik.mf_rma_tab <- function(object, REML, ...) logLik.mf_rma(object, REML, ...)

#' @rdname mf_rma_tab-methods
#' @export
deviance.mf_rma_tab <- function(object, REML, ...) deviance.mf_rma(object, REML, ...)

#' @rdname mf_rma_tab-methods
#' @param k penalty per parameter (AIC).
#' @param correct AICc instead of AIC.
#' @export
AIC.mf_rma_tab <- function(object, ..., k = 2, correct = FALSE) {
  nms <- vapply(as.list(match.call())[-1L], function(e) paste(deparse(e), collapse = ""), "")
  nms <- nms[!names(as.list(match.call())[-1L]) %in% c("k", "correct")]
  .mf_info_crit(object, list(...), if (isTRUE(correct)) "AICc" else "AIC", nms)
}

#' @rdname mf_rma_tab-methods
#' @export
BIC.mf_rma_tab <- function(object, ...) {
  nms <- vapply(as.list(match.call())[-1L], function(e) paste(deparse(e), collapse = ""), "")
  .mf_info_crit(object, list(...), "BIC", nms)
}

#' @rdname mf_rma_tab-methods
#' @export
nobs.mf_rma_tab <- function(object, ...) object$k

#' @rdname mf_rma_tab-methods
#' @param yaxis,xlim,ylim,ylab,legend,contour,contours as in
#'   \code{\link{funnel}} for \code{rma()} fits: the funnel plot of the
#'   per-study outcomes \code{yi} around the pooled estimate.
#' @param refline,xlab as in \code{\link{funnel}} and \code{\link{forest}}
#'   for \code{rma()} fits (the reference line and the x-axis label).
#' @export
funnel.mf_rma_tab <- function(x, yaxis = "sei", xlim, ylim, xlab, ylab, level = x$level, refline, legend = contour,
                              contour = FALSE, contours = c(90, 95, 99), ...) {
  .mf_check_dots("funnel.mf_rma_tab", ...)
  # the studies with an outcome, drawn as for an intercept-only rma() fit
  cl <- match.call()
  cl[[1L]] <- funnel.mf_rma
  cl$x <- list(yi = c(x$yi), vi = c(x$vi), slab = x$slab[x$not.na.yivi], beta = x$beta, int.only = TRUE,
               level = x$level)
  eval(cl, parent.frame())
}

#' @rdname mf_rma_tab-methods
#' @param annotate,addpred,showweights,header,alim,slab,ilab,ilab.lab,cex,main
#'   as in \code{\link{forest}} for \code{rma()} fits: the per-study outcomes
#'   with their confidence intervals, the weights of the Mantel-Haenszel or
#'   Peto method (as metafor's \code{weights()}) and the pooled estimate
#'   (an equal-effects model: no prediction interval, \code{addpred} has no
#'   effect).  \code{slab}, \code{ilab} and \code{order} take one value per
#'   row of the data or per study drawn.
#' @export
forest.mf_rma_tab <- function(x, annotate = TRUE, addpred = TRUE, showweights = TRUE, header = TRUE, alim,
                              level = x$level, refline = 0, digits = 2L, xlab, slab, ilab = NULL, ilab.lab = NULL,
                              order = NULL, transf = NULL, cex, main, ...) {
  .mf_check_dots("forest.mf_rma_tab", ...)
  alpha <- if (missing(level)) x$level else .mf_level(level)
  pars <- .mf_par_dots(...)
  if (length(pars)) { op <- graphics::par(pars); on.exit(graphics::par(op), add = TRUE) }
  # the studies with an outcome (metafor draws yi.f / vi.f without the missing ones)
  keep <- x$not.na.yivi
  view <- list(k = sum(keep), k.all = x$k.all, ids = x$ids[keep])
  labs <- if (missing(slab) || is.null(slab)) {
    if (isTRUE(x$slab.null)) paste("Study", x$ids[keep]) else as.character(x$slab[keep])
  } else as.character(.mf_per_study(slab, view, "slab"))
  op2 <- options(na.action = "na.exclude")
  wt <- weights.mf_rma_tab(x)
  options(op2)
  yi <- c(x$yi.f)[keep]; vi <- x$vi.f[keep]
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  st <- data.frame(row = x$ids[keep], slab = labs, yi = yi, vi = vi, ci.lb = yi - crit * sqrt(vi),
                   ci.ub = yi + crit * sqrt(vi), weight = unname(wt[keep]), group = NA_character_,
                   stringsAsFactors = FALSE)
  if (length(order) > 1L) order <- .mf_per_study(order, view, "order")
  ord <- .mf_forest_order(order, st, NULL)
  b <- unname(x$beta)
  sums <- data.frame(label = sprintf("Equal-effects model (k = %d)", x$k), group = NA_character_, k = x$k,
                     estimate = b, ci.lb = b - crit * x$se, ci.ub = b + crit * x$se, pi.lb = NA_real_,
                     pi.ub = NA_real_, stringsAsFactors = FALSE)
  .mf_forest_draw(st = st, ord = ord, grp = NULL, sums = sums, fit_rows = NULL,
                  ilab = .mf_per_study(ilab, view, "ilab"), ilab.lab = ilab.lab, annotate = annotate,
                  showweights = showweights, addpred = FALSE, header = header,
                  xlab = if (missing(xlab)) NULL else xlab, transf = transf, refline = refline, digits = digits,
                  cex = if (missing(cex)) NULL else cex, main = if (missing(main)) NULL else main,
                  alim = if (missing(alim)) NULL else alim, pi_label = "Prediction interval",
                  level_pct = 100 * (1 - alpha))
}
