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
  tf <- if (missing(transf)) NULL else transf
  ta <- if (missing(targs)) NULL else targs
  tr <- .mf_tab_transf(x, out, tf, ta)
  out <- .mf_cd_finish(tr$out, x, slab, digits, tr$transf, class = "mf_leave1out")
  .mf_l1o_plot_info(out, x, function(o) .mf_tab_transf(x, o, tf, ta)$out)
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
  r <- .mf_tab_drop1(x)
  .mf_tab_resid_out(x, c(x$yi.f) - r$beta, sqrt(x$vi.f + r$se^2), digits)
}

# The estimate and its standard error without each of the k.f rows (NA for
# the rows not used in the fit), as metafor's rstudent() and baujat() refit
# them: the fitting function on the tables outdat.f with subset = -i.
.mf_tab_drop1 <- function(x) {
  nn <- x$not.na
  kf <- x$k.f
  slow <- any(x$to == "if0all")
  agg <- function(z) sum(z) - z
  sets <- lapply(seq_len(kf), function(i) -i)
  r <- if (slow) {
    rr <- .mf_tab_refits(x, x$outdat.f, x$yi.f, x$vi.f, nn, x$not.na.yivi, agg, sets[nn], TRUE)
    lapply(rr, function(z) { o <- rep(NA_real_, kf); o[nn] <- z; o })
  } else .mf_tab_refits(x, x$outdat.f, x$yi.f, x$vi.f, nn, x$not.na.yivi, agg, sets, FALSE)
  del <- r$beta; se <- r$se
  del[!nn] <- NA_real_; se[!nn] <- NA_real_
  list(beta = del, se = se)
}

#' @rdname mf_rma_tab-methods
#' @param xlim,ylim,xlab,ylab,cex,symbol,grid axis ranges, axis titles, text size (and, in baujat(), the symbol and grid): as in \code{\link{baujat}}, \code{\link{funnel}} and \code{\link{forest}} for \code{rma()} fits; in baujat():
#'   each study's contribution
#'   to the heterogeneity (its squared residual over its sampling variance)
#'   against its influence on the pooled estimate (the squared change of the
#'   estimate without the study over the variance of that estimate), as
#'   metafor's \code{baujat()} of \code{rma.mh} / \code{rma.peto} fits.
#' @export
baujat.mf_rma_tab <- function(x, xlim, ylim, xlab, ylab, cex, symbol = "ids", grid = TRUE, progbar = FALSE, ...) {
  .mf_check_dots("baujat.mf_rma_tab", ...)
  if (x$k == 1L) .mf_stop("Stopped because k = 1.")
  r <- .mf_tab_drop1(x)
  b <- unname(x$beta)
  yh <- (r$beta - b)^2 / r$se^2
  xh <- (c(x$yi.f) - b)^2 / x$vi.f
  nn <- x$not.na
  if (is.numeric(symbol)) {
    if (length(symbol) == 1L) symbol <- rep(symbol, x$k.all)
    if (length(symbol) != x$k.all)
      .mf_stop(sprintf("'symbol' has length %d but the data have %d rows.", length(symbol), x$k.all))
    if (!is.null(x$subset)) symbol <- symbol[x$subset]
    symbol <- symbol[nn]
  }
  .mf_baujat_draw(x, xh[nn], yh[nn], x$ids[nn], x$slab[nn], if (missing(xlim)) NULL else xlim,
                  if (missing(ylim)) NULL else ylim, if (missing(xlab)) NULL else xlab,
                  if (missing(ylab)) NULL else ylab, if (missing(cex)) NULL else cex, symbol, grid, ...)
}

#' @rdname mf_rma_tab-methods
#' @param newmods,intercept,tau2.levels,gamma2.levels,hetvar,prob,addx,adjust,vcov
#'   predict(): as in \code{\link{predict.mf_rma}}; a fit of \code{rma.mh()}
#'   or \code{rma.peto()} has no moderators and no heterogeneity variance, so
#'   the prediction is the pooled estimate with its confidence interval.
#' @export
predict.mf_rma_tab <- function(object, newmods, intercept, tau2.levels, gamma2.levels, hetvar, prob, addx = FALSE,
                               level, adjust = FALSE, digits, transf, targs, vcov = FALSE, ...) {
  .mf_check_dots("predict.mf_rma_tab", ...)
  # the equal-effects, intercept-only model as predict.mf_rma() reads it
  x <- object
  x$X <- matrix(1, x$k, 1L)  # (no column name: metafor reads X.f, which has none)
  x$int.incl <- TRUE
  cl <- match.call()
  cl[[1L]] <- predict.mf_rma
  cl$object <- x
  eval(cl, parent.frame())
}

#' @rdname mf_rma_tab-methods
#' @param asdf model.matrix(): return a data frame.
#' @export
model.matrix.mf_rma_tab <- function(object, asdf = FALSE, ...) {
  .mf_check_dots("model.matrix.mf_rma_tab", ...)
  # as metafor's model.matrix() of these fits: the column of ones of all k.f
  # rows, whatever na.action (only na.fail stops when rows were omitted)
  if (.mf_na_action() == "na.fail" && any(!object$not.na)) .mf_stop("Missing values in results.")
  out <- object$X.f
  if (isTRUE(asdf)) as.data.frame(out) else out
}

#' @rdname mf_rma_tab-methods
#' @export
formula.mf_rma_tab <- function(x, type = "mods", ...) {
  .mf_check_dots("formula.mf_rma_tab", ...)
  type <- match.arg(type, c("mods", "yi", "scale"))
  if (type == "scale") .mf_stop("Can only use type = 'scale' for location-scale models.")
  NULL  # these fits have neither a moderator formula nor a formula for yi (as metafor's)
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
#' @param all nobs(): as metafor's \code{nobs(all = TRUE)}, the numbers of
#'   studies, of rows in the data, in \code{subset}, with complete data,
#'   used and the residual degrees of freedom.
#' @export
nobs.mf_rma_tab <- function(object, all = FALSE, ...) nobs.mf_rma(object, all = all, ...)

#' @rdname mf_rma_tab-methods
#' @param yaxis,legend,contour,contours as in
#'   \code{\link{funnel}} for \code{rma()} fits: the funnel plot of the
#'   per-study outcomes \code{yi} around the pooled estimate.
#' @param steps,at,atransf,addtau2,back,shade,hlines,lty,pch.fill,refline2,level2,lty2,ci.res,colref,colci,colbox,at.lab
#'   funnel(): as in \code{\link{funnel}} for \code{rma()} fits (where
#'   \code{slab}, \code{digits}, \code{targs}, \code{pch}, \code{col},
#'   \code{bg}, \code{label}, \code{offset} and \code{level} have the
#'   meaning of \code{\link{funnel}} as well).
#' @param slab study labels: as in \code{\link{funnel}} (and the other
#'   plots) for \code{rma()} fits, one per row of the data or per study used.
#' @param refline as in \code{\link{funnel}} and \code{\link{forest}}
#'   for \code{rma()} fits (the reference line and the x-axis label).
#' @export
funnel.mf_rma_tab <- function(x, yaxis = "sei", xlim, ylim, xlab, ylab, slab, steps = 5, at, atransf, targs, digits,
                              level = x$level, addtau2 = FALSE, type = "rstandard", back, shade, hlines, refline,
                              lty = 3, pch, pch.fill, col, bg, label = FALSE, offset = 0.4, legend = contour,
                              contour = FALSE, contours = c(90, 95, 99), ..., refline2 = NULL, level2, lty2 = 3,
                              ci.res = 1000, colref, colci, colbox, at.lab) {
  .mf_check_dots("funnel.mf_rma_tab", ...)
  # the studies with an outcome, drawn as for an intercept-only rma() fit
  # (with the weights of the fit for yaxis = "wi")
  cl <- match.call()
  cl[[1L]] <- funnel.mf_rma
  op <- options(na.action = "na.omit")
  wi <- tryCatch(c(stats::weights(x)), error = function(e) NULL)
  options(op)
  cl$x <- list(yi = c(x$yi), vi = c(x$vi), slab = x$slab[x$not.na.yivi], beta = x$beta, int.only = TRUE,
               level = x$level, measure = x$measure, wi = if (length(wi) == length(x$yi)) wi)
  eval(cl, parent.frame())
}

#' @rdname forest
#' @details For \code{rma.mh()} and \code{rma.peto()} fits, \code{forest()}
#'   takes the arguments of \code{forest()} for \code{rma()} fits, with
#'   metafor's meaning: it draws the per-study outcomes with their confidence
#'   intervals, the weights of the Mantel-Haenszel or Peto method (as
#'   metafor's \code{weights()}) and the pooled estimate of the fit (an
#'   equal-effects model: no prediction interval); the studies whose outcome
#'   cannot be computed are left out, as in metafor.  Per-study arguments
#'   take one value per row of the data or per study drawn.  \code{subgroup}
#'   is not available for these fits (add the subgroups' estimates with
#'   \code{addpoly()}).
#' @export
forest.mf_rma_tab <- function(x, ...) {
  # the same code path as rma() fits: the call is evaluated again with
  # forest.mf_rma() on a view of the fit as an intercept-only model
  cl <- match.call()
  cl[[1L]] <- forest.mf_rma
  cl$x <- .mf_tab_forest_view(x)
  eval(cl, parent.frame())
}
formals(forest.mf_rma_tab) <- formals(forest.mf_rma)

# An rma.mh() / rma.peto() fit seen by forest.mf_rma(): the studies with an
# outcome (metafor draws yi.f / vi.f without the missing ones), the weights of
# the fit (percent), its pooled estimate and standard error, and its
# standardized residuals (for order = "rstandard").
.mf_tab_forest_view <- function(x) {
  keep <- x$not.na.yivi
  ids <- x$ids[keep]
  k <- sum(keep)
  if (!k) .mf_stop("No study has an outcome to draw.")
  slab <- rep(NA_character_, x$k.all)
  slab[ids] <- as.character(x$slab[keep])
  op <- options(na.action = "na.exclude")
  on.exit(options(op))
  wt <- unname(weights.mf_rma_tab(x))[keep]
  z <- tryCatch(rstandard.mf_rma_tab(x)$z, error = function(e) NULL)
  if (length(z) != length(keep)) z <- NULL else z <- unname(z[keep])
  options(op)
  b <- unname(c(x$beta))
  out <- list(yi = c(x$yi.f)[keep], vi = c(x$vi.f)[keep], k = k, k.all = x$k.all, ids = ids, slab = slab,
              slab.null = isTRUE(x$slab.null), weights = wt, X = matrix(1, k, 1L), beta = matrix(b, 1L, 1L),
              vb = matrix(x$se^2, 1L, 1L), se = x$se, ci.lb = x$ci.lb, ci.ub = x$ci.ub, tau2 = 0, I2 = x$I2,
              int.only = TRUE, p = 1L, test = "z", method = x$method, measure = x$measure, level = x$level,
              data = x$data, forest_k = x$k, forest_rstandard = z, forest_tab = TRUE)
  class(out) <- "mf_rma"
  out
}

#' @rdname mf_rma_tab-methods
#' @param subsets gosh(): the largest number of subsets fitted (default
#'   1e6); with more possible subsets, \code{subsets} random subsets.
#' @param seed gosh(): optional seed, set with \code{set.seed()} before the
#'   random subsets are drawn (as metafor's \code{seed} of these fits: the
#'   subsets are drawn with R's generator, as metafor draws them, so the same
#'   seed gives the same subsets).
#' @param parallel gosh(): \code{"no"} (metafor's parallel backends are not
#'   supported).
#' @export
gosh.mf_rma_tab <- function(x, subsets, seed, progbar = TRUE, parallel = "no", ...) {
  .mf_check_dots("gosh.mf_rma_tab", ...)
  parallel <- .mf_parallel_arg(parallel, list(...), "gosh")
  if (parallel != "no") .mf_stop("parallel = \"future\" is not available for fits of rma.mh() or rma.peto().")
  if (x$k == 1L) .mf_stop("Stopped because k = 1.")
  k <- x$k
  N.tot <- sum(choose(k, 1:k))
  if (missing(subsets) || is.null(subsets)) subsets <- 1e6
  if (!is.numeric(subsets) || length(subsets) != 1L || is.na(subsets) || round(subsets) < 2)
    .mf_stop("'subsets' must be a single number >= 2.")
  subsets <- round(subsets)
  exact <- N.tot <= subsets
  if (!exact) N.tot <- subsets
  # the subsets as metafor makes them: all (expand.grid order), or random
  # sizes from Binomial(k, 1/2) (at least 1) and random studies
  if (exact) {
    incl <- as.matrix(expand.grid(replicate(k, list(c(FALSE, TRUE))), KEEP.OUT.ATTRS = FALSE))
    incl <- incl[rowSums(incl) >= 1L, , drop = FALSE]
    seed <- NA_real_
  } else {
    if (!missing(seed) && !is.null(seed)) {
      if (!is.numeric(seed) || length(seed) != 1L || is.na(seed)) .mf_stop("'seed' must be a single number.")
      set.seed(seed)
    } else seed <- NA_real_
    j <- sample(1:k, N.tot, replace = TRUE, prob = stats::dbinom(1:k, k, 0.5))
    incl <- t(vapply(j, function(m) seq_len(k) %in% sample(k, m), logical(k)))
  }
  colnames(incl) <- seq_len(k)
  # each subset is a refit on the tables of the studies used in the fit
  # (sums over the subset's rows; to = "if0all" calls the fitting function)
  nn <- x$not.na
  src <- lapply(x$outdat.f, `[`, nn)
  slow <- any(x$to == "if0all")
  step <- 5000L
  parts <- lapply(split(seq_len(nrow(incl)), (seq_len(nrow(incl)) - 1L) %/% step), function(rows) {
    M <- incl[rows, , drop = FALSE]
    storage.mode(M) <- "double"
    agg <- function(z) as.vector(M %*% z)
    sets <- lapply(seq_len(nrow(M)), function(i) M[i, ] > 0)
    .mf_tab_refits(x, src, x$yi.f[nn], x$vi.f[nn], rep(TRUE, k), x$not.na.yivi[nn], agg, sets, slow)
  })
  get <- function(nm) unlist(lapply(parts, `[[`, nm), use.names = FALSE)
  # a refit that fails (rma.peto() without events) has all values NA; one
  # whose estimate is NA (rma.mh() with no events in a group) keeps Q, I2, H2
  QE <- get("QE")
  tau2 <- ifelse(is.na(QE), NA_real_, 0)
  res <- data.frame(k = rowSums(incl), QE = QE, I2 = get("I2"), H2 = get("H2"), tau2 = tau2, tau = tau2,
                    estimate = get("beta"))
  o <- order(res$k)
  res <- res[o, , drop = FALSE]
  incl <- incl[o, , drop = FALSE]
  rownames(res) <- rownames(incl) <- seq_len(nrow(res))
  fit <- stats::complete.cases(res)
  names(fit) <- rownames(res)
  if (!any(fit)) .mf_stop("All model fits failed.")
  out <- list(res = res, incl = incl, fit = fit, k = k, int.only = TRUE, method = x$method, measure = x$measure,
              exact = exact, seed = seed, digits = .mf_cd_digits(NULL, x))
  class(out) <- "mf_gosh"
  out
}

#' @rdname mf_rma_tab-methods
#' @param y qqnorm(): a fit of \code{rma.mh()} or \code{rma.peto()}.
#' @param pch,col,bg qqnorm(): symbol, its colour and fill.
#' @param label qqnorm(): label the points: \code{FALSE} / \code{"none"},
#'   \code{TRUE} / \code{"all"}, or a number n (the n points farthest from
#'   the diagonal).
#' @param offset,pos qqnorm(): distance of the labels from the points, and
#'   their position: 1 to 4 (below, left, above, right), 13 (below points
#'   under the diagonal, above the others) or 24 (left or right).
#' @details \code{qqnorm()} draws, as metafor's \code{qqnorm()} of these
#'   fits, the normal QQ plot of the standardized (\code{type =
#'   "rstandard"}) or studentized deleted (\code{"rstudent"}) residuals of
#'   the per-study outcomes, with the diagonal; it returns the coordinates
#'   (\code{x}: theoretical quantiles, \code{y}: residuals) invisibly.
#' @export
qqnorm.mf_rma_tab <- function(y, type = "rstandard", pch = 21, col, bg, grid = FALSE, label = FALSE, offset = 0.3,
                              pos = 13, ...) {
  .mf_check_dots("qqnorm.mf_rma_tab", ...)
  x <- y
  if (!is.character(type) || length(type) != 1L || is.na(type) || !type %in% c("rstandard", "rstudent"))
    .mf_stop("'type' must be \"rstandard\" or \"rstudent\".")
  if (x$k == 1L) .mf_stop("Stopped because k = 1.")
  r <- if (type == "rstandard") rstandard.mf_rma_tab(x) else rstudent.mf_rma_tab(x)
  .mf_qq_draw(r$z, r$slab, x$k, pch = pch, col = if (missing(col)) NULL else col,
              bg = if (missing(bg)) "gray60" else bg, grid = grid, label = label, offset = offset, pos = pos, ...)
}
