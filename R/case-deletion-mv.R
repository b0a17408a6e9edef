# Case deletion for rma.mv() fits: rstudent(), cooks.distance() and
# dfbetas() with metafor's arguments (cluster =, reestimate =), each unit
# (a row, or the rows of a cluster) left out in turn by one C++ kernel over
# threads (src/core/refit_mv.hpp, glue src/rcpp_rma_mv_refit.cpp).

#' Case-deletion diagnostics of a model fitted by rma.mv()
#'
#' As metafor's \code{rstudent()}, \code{cooks.distance()} and
#' \code{dfbetas()} for \code{rma.mv} fits: the model is refitted without each
#' row in turn, or, with \code{cluster}, without all rows of each cluster
#' (Viechtbauer & Cheung 2010, extended to multilevel models).  For the
#' unit (row or cluster) \eqn{u} with rows \eqn{D}:
#' \describe{
#'   \item{\code{rstudent()}}{the deleted residuals
#'     \eqn{r = y_D - X_D b_{(-u)}}{r = y_D - X_D b(-u)}, their standard
#'     errors from \eqn{S = M_{DD} + X_D V_{(-u)} X_D'}{S = M_DD + X_D Var(b(-u)) X_D'}
#'     (\eqn{M} the marginal covariance at the variance components of the
#'     refit) and the standardized values \code{z}; with \code{cluster}, also
#'     \eqn{X^2 = r' S^{-1} r}{X2 = r' S^-1 r} per cluster and its number of rows.}
#'   \item{\code{cooks.distance()}}{\eqn{(b - b_{(-u)})' V^{-1} (b - b_{(-u)})}{(b - b(-u))' Var(b)^-1 (b - b(-u))}
#'     over the coefficients \code{btt} (all by default), \eqn{V} the
#'     covariance of the full fit.}
#'   \item{\code{dfbetas()}}{\eqn{(b - b_{(-u)})} divided by the square roots
#'     of the diagonal of the covariance of the coefficients computed on all
#'     rows at the variance components of the refit.}
#' }
#' With \code{reestimate = TRUE} (the default) the variance components are
#' re-estimated in every refit (starting at the full fit's estimates, with the
#' fit's \code{control} settings); with \code{FALSE} they are held at the
#' full fit's values.  A refit that fails (fewer rows than coefficients plus
#' one, collinear moderators within the remaining rows, no convergence) gives
#' NA, as in metafor.  The refits run in C++ on \code{threads} threads; the
#' results do not depend on the number of threads.
#'
#' @param model an object of class \code{mf_rma_mv}.
#' @param digits number of decimals for printing.
#' @param progbar metafor's name for \code{progress}: used when
#'   \code{progress} is not given.
#' @param cluster optional clustering variable (evaluated in the data of the
#'   fit): the units left out together.
#' @param reestimate re-estimate the variance components in each refit.
#' @param parallel,ncpus,cl metafor's parallel backends.  The refits run on
#'   C++ threads instead: \code{parallel = "snow"} or \code{"multicore"} with
#'   \code{ncpus} (or a cluster \code{cl}, of which only the size is used)
#'   sets the number of threads when \code{threads} is not given.  The
#'   results are the same for any setting.
#' @param btt coefficients of Cook's distance (indices or a string; default all).
#' @param progress show a progress bar (needs \pkg{progressr}).
#' @param threads number of threads (default: option \code{metafast.threads},
#'   else half the cores).
#' @param ... metafor's \code{time} and \code{LB} are accepted and ignored;
#'   its code hooks are errors; other names are disregarded with a warning.
#' @return \code{rstudent()}: a list of class \code{mf_list} with \code{resid},
#'   \code{se}, \code{z} (and \code{cluster}) per row; with \code{cluster} a
#'   list of two such tables, \code{obs} and \code{cluster} (columns
#'   \code{X2} and \code{k}, one row per cluster in sorted order).
#'   \code{cooks.distance()}: a named vector (one value per row, or per
#'   cluster in sorted order).  \code{dfbetas()}: a data frame with one column
#'   per coefficient.  Rows omitted for missing values follow
#'   \code{getOption("na.action")} as in metafor.
#' @references Viechtbauer W, Cheung MWL (2010). Outlier and influence
#'   diagnostics for meta-analysis. \emph{Res Synth Methods} 1:112-125.
#'   Cook RD (1977). Detection of influential observation in linear
#'   regression. \emph{Technometrics} 19:15-18.
#' @examples
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   dat <- metadat::dat.konstantopoulos2011
#'   fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
#'   cooks.distance(fit, cluster = district)
#'   head(dfbetas(fit))
#' }
#' @name mf_rma_mv-case-deletion
NULL

#' @rdname mf_rma_mv-case-deletion
#' @export
rstudent.mf_rma_mv <- function(model, digits, progbar = FALSE, cluster, reestimate = TRUE, parallel = "no",
                               ncpus = 1, cl, progress = FALSE, threads = NULL, ...) {
  .mf_check_dots("rstudent.mf_rma_mv", ...)
  x <- model
  na.act <- .mf_na_action()
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  digits <- .mf_cd_digits(if (missing(digits)) NULL else digits, x)
  th <- .mf_mv_cd_threads(parallel, ncpus, if (missing(cl)) NULL else cl, threads)
  u <- .mf_mv_cd_units(x, if (missing(cluster)) NULL else substitute(cluster), parent.frame())
  r <- .mf_mv_cd_run(x, u, reestimate, rstudent = TRUE, dfbetas = FALSE, th, progress)
  o <- x$mf.spec$order
  res <- se <- numeric(x$k)
  res[o] <- r$resid
  se[o] <- r$se
  res[abs(res) < 100 * .Machine$double.eps] <- 0
  v <- .mf_na_view(x)
  pad <- function(val) { out <- rep(NA_real_, length(v$not.na)); out[v$not.na] <- val; out }
  res <- pad(res); se <- pad(se)
  if (na.act == "na.fail" && any(!v$not.na)) .mf_stop("Missing values in results.")
  keep <- if (na.act == "na.omit") v$not.na else rep(TRUE, length(v$not.na))
  out <- list(resid = res[keep], se = se[keep], z = res[keep] / se[keep])
  if (!is.null(u$cluster.f)) out$cluster <- u$cluster.f[keep]
  out$slab <- v$slab[keep]
  out$digits <- digits
  class(out) <- "mf_list"
  if (is.null(u$cluster.f)) return(out)
  # per cluster: X2 and its number of rows (NA for a failed refit), sorted
  k.id <- tabulate(u$unit + 1L, nbins = length(u$ids))
  k.id[!r$ok] <- NA_integer_
  X2 <- r$X2
  if (na.act == "na.omit") {
    ord <- order(u$ids)
    cl.tab <- list(X2 = X2[ord], k = k.id[ord], slab = u$ids[ord])
  } else {
    ids.f <- unique(u$cluster.f)
    X2.f <- rep(NA_real_, length(ids.f))
    X2.f[match(u$ids, ids.f)] <- X2
    k.f <- vapply(ids.f, function(id) sum(u$cluster.f == id & v$not.na), 1L)
    ord <- order(ids.f)
    cl.tab <- list(X2 = X2.f[ord], k = k.f[ord], slab = ids.f[ord])
  }
  cl.tab$digits <- digits
  class(cl.tab) <- "mf_list"
  list(obs = out, cluster = cl.tab)
}

#' @rdname mf_rma_mv-case-deletion
#' @export
cooks.distance.mf_rma_mv <- function(model, progbar = FALSE, cluster, reestimate = TRUE, parallel = "no", ncpus = 1,
                                     cl, btt = NULL, progress = FALSE, threads = NULL, ...) {
  .mf_check_dots("cooks.distance.mf_rma_mv", ...)
  x <- model
  na.act <- .mf_na_action()
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  th <- .mf_mv_cd_threads(parallel, ncpus, if (missing(cl)) NULL else cl, threads)
  btt <- .mf_btt(btt, colnames(x$X), FALSE)
  u <- .mf_mv_cd_units(x, if (missing(cluster)) NULL else substitute(cluster), parent.frame())
  r <- .mf_mv_cd_run(x, u, reestimate, rstudent = FALSE, dfbetas = FALSE, th, progress)
  R <- tryCatch(chol(x$vb[btt, btt, drop = FALSE]), error = function(e)
    .mf_stop("The covariance matrix of the coefficients is not positive definite; Cook's distances cannot be computed."))
  db <- sweep(r$beta[, btt, drop = FALSE], 2L, c(x$beta)[btt], FUN = function(a, b) b - a)
  z <- forwardsolve(t(R), t(db))
  cook <- colSums(z^2)
  cook[!r$ok] <- NA_real_
  .mf_mv_cd_by_unit(x, u, as.matrix(cook), na.act)[, 1L]
}

#' @rdname mf_rma_mv-case-deletion
#' @export
dfbetas.mf_rma_mv <- function(model, progbar = FALSE, cluster, reestimate = TRUE, parallel = "no", ncpus = 1, cl,
                              progress = FALSE, threads = NULL, ...) {
  .mf_check_dots("dfbetas.mf_rma_mv", ...)
  x <- model
  na.act <- .mf_na_action()
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  th <- .mf_mv_cd_threads(parallel, ncpus, if (missing(cl)) NULL else cl, threads)
  u <- .mf_mv_cd_units(x, if (missing(cluster)) NULL else substitute(cluster), parent.frame())
  r <- .mf_mv_cd_run(x, u, reestimate, rstudent = FALSE, dfbetas = TRUE, th, progress)
  db <- sweep(r$beta, 2L, c(x$beta), FUN = function(a, b) b - a)
  dfbs <- db / sqrt(r$vbdiag)
  dfbs[!r$ok, ] <- NA_real_
  out <- .mf_mv_cd_by_unit(x, u, dfbs, na.act)
  colnames(out) <- rownames(x$beta)
  data.frame(out, check.names = FALSE)
}

# ---- helpers ----

# Threads of the refits from metafor's parallel arguments (which choose
# processes there; here their number sets the threads when 'threads' is not
# given: the results are the same).
.mf_mv_cd_threads <- function(parallel, ncpus, cl, threads) {
  if (!is.character(parallel) || length(parallel) < 1L || !parallel[1L] %in% c("no", "snow", "multicore"))
    .mf_stop("'parallel' must be \"no\", \"snow\" or \"multicore\".")
  if (!is.numeric(ncpus) || length(ncpus) != 1L || is.na(ncpus) || ncpus < 1)
    .mf_stop("'ncpus' must be a single number >= 1.")
  if (is.null(threads)) {
    if (!is.null(cl)) threads <- max(1L, length(cl))
    else if (parallel[1L] != "no" || ncpus > 1) threads <- as.integer(ncpus)
  }
  threads
}

# The units of the refits: one per row of the fit, or the clusters of
# 'cluster' (its values on the rows used, in order of first appearance as
# metafor's unique()).  unit: 0-based code per row of the fit (fit order);
# cluster.f: the cluster of each row after 'subset' (NULL without cluster).
.mf_mv_cd_units <- function(x, expr, env) {
  if (!inherits(x, "mf_rma_mv")) .mf_stop("'model' must be a model fitted by rma.mv() (class 'mf_rma_mv').")
  if (is.null(x$mf.spec)) .mf_stop("The model object lacks the model ($mf.spec) that the refits need; refit it with rma.mv().")
  .mf_mv_refuse(x)
  # (metafor re-applies Rscale to the deleted fit's levels, which changes a
  # "cor0"/"cov0" R; "cor" and "none" are unchanged by deleting levels)
  if (isTRUE(x$withR) && isTRUE(x$Rscale %in% c("cor0", "cov0")))
    .mf_stop(sprintf("Case deletion of rma.mv() fits with 'R' and Rscale = \"%s\" is not supported by metafast yet (issue 12).",
                     x$Rscale))
  if (is.null(expr)) return(list(unit = seq_len(x$k) - 1L, n = x$k, ids = NULL, cluster.f = NULL))
  val <- .mf_cd_getx(expr, x, env, "cluster")
  cl.f <- val[x$subset]
  if (anyNA(cl.f)) .mf_stop(sprintf("'cluster' has missing values in %s.", .mf_rows(is.na(val) & x$subset)))
  cl <- val[x$ids]
  ids <- unique(cl)
  list(unit = match(cl, ids) - 1L, n = length(ids), ids = ids, cluster.f = cl.f)
}

# One run of the kernel: the spec of the fit, the units in the spec's row
# order, the full fit's variance components and solver settings.
.mf_mv_cd_run <- function(x, u, reestimate, rstudent, dfbetas, threads, progress) {
  if (!is.logical(reestimate) || length(reestimate) != 1L || is.na(reestimate))
    .mf_stop("'reestimate' must be TRUE or FALSE.")
  # metafor refits each subset re-applying its rules of the heteroscedastic
  # and unstructured terms (variances fixed at 0 for levels left in one outer
  # level, correlations of pairs that no longer meet); the kernel has none
  hs <- intersect(x$struct[c(isTRUE(x$withG), isTRUE(x$withH))], c("HCS", "UN", "HAR"))
  if (reestimate && length(hs))
    .mf_stop(sprintf("Case deletion with reestimate = TRUE of a model with struct = \"%s\" is not supported by metafast yet (issue 12).",
                     hs[1L]))
  spec <- x$mf.spec
  con <- x$control
  th <- .mf_threads(threads, n_work = u$n, min_per_thread = 4L)
  unit <- as.integer(u$unit[spec$order])
  r <- .mf_rma_mv_deletion(spec, unit, as.integer(u$n), as.double(x$sigma2),
                           x$method == "REML", reestimate, con$threshold, as.integer(con$maxiter), con$stepadj,
                           rstudent, dfbetas, th, .mf_progress_fn(progress, u$n))
  if (reestimate) {
    # metafor's single-level rule: a refit whose subset leaves an estimated
    # factor of 'random' with one level fixes that sigma2 at 0 (rma.mv() on
    # the subset, as metafor's .rstudent.rma.mv() / .cooks.distance.rma.mv()
    # refit).  Those units are refitted again with the components fixed at 0
    # in the spec, one kernel run per pattern of such components.
    onem <- .mf_mv_cd_single_level(x, unit, u$n)
    one <- rowSums(onem) > 0L
    if (any(one)) {
      key <- apply(onem, 1L, function(rw) paste(which(rw), collapse = ","))
      for (pat in unique(key[one])) {
        comp <- as.integer(strsplit(pat, ",", fixed = TRUE)[[1L]])
        sel <- one & key == pat
        spec2 <- spec
        spec2$structure$fixed[comp] <- 0
        start <- as.double(x$sigma2)
        start[comp] <- 0
        r2 <- .mf_rma_mv_deletion(spec2, unit, as.integer(u$n), start,
                                  x$method == "REML", reestimate, con$threshold, as.integer(con$maxiter), con$stepadj,
                                  rstudent, dfbetas, th, NULL)
        r$ok[sel] <- r2$ok[sel]
        r$theta[sel, ] <- r2$theta[sel, ]
        r$beta[sel, ] <- r2$beta[sel, ]
        if (length(r$vbdiag)) r$vbdiag[sel, ] <- r2$vbdiag[sel, ]
        if (length(r$X2)) {
          r$X2[sel] <- r2$X2[sel]
          rows <- sel[unit + 1L]
          r$resid[rows] <- r2$resid[rows]
          r$se[rows] <- r2$se[rows]
        }
      }
    }
  }
  r
}

# Units whose deletion leaves an estimated factor of a nested structure with
# one level: a logical matrix (units x components).  A group of a factor
# disappears with unit u when all its rows belong to u (codes: level 1 the
# blocks of the spec, deeper levels the structure's group codes, unique over
# all rows).
.mf_mv_cd_single_level <- function(x, unit, n) {
  spec <- x$mf.spec
  st <- spec$structure
  L <- length(x$sigma2)
  one <- matrix(FALSE, n, L)
  if (!identical(st$type, "nested")) return(one)
  sizes <- diff(spec$offsets)
  codes <- c(list(rep.int(seq_along(sizes), sizes)), lapply(seq_len(ncol(st$groups)), function(j) st$groups[, j]))
  for (l in seq_along(codes)) {
    if (isTRUE(x$vc.fix$sigma2[l])) next
    g <- codes[[l]]
    nl <- length(unique(g))
    # the unit of each group when all its rows are in one unit, else NA
    gu <- tapply(unit, g, function(v) if (all(v == v[1L])) v[1L] else NA_integer_)
    gone <- tabulate(gu[!is.na(gu)] + 1L, nbins = n)
    one[, l] <- nl - gone == 1L
  }
  one
}

# Values per unit (rows of 'vals') laid out as metafor: per row of the data
# (named by slab; padded under na.exclude / na.pass) or per cluster (named
# and sorted by the cluster values; clusters with only omitted rows NA under
# na.exclude / na.pass).
.mf_mv_cd_by_unit <- function(x, u, vals, na.act) {
  v <- .mf_na_view(x)
  if (na.act == "na.fail" && any(!v$not.na)) .mf_stop("Missing values in results.")
  if (is.null(u$cluster.f)) {
    if (na.act == "na.omit") {
      out <- vals
      rownames(out) <- v$slab[v$not.na]
    } else {
      out <- matrix(NA_real_, length(v$not.na), ncol(vals))
      out[v$not.na, ] <- vals
      rownames(out) <- v$slab
    }
    return(out)
  }
  if (na.act == "na.omit") {
    out <- vals
    rownames(out) <- u$ids
    return(out[order(u$ids), , drop = FALSE])
  }
  ids.f <- unique(u$cluster.f)
  out <- matrix(NA_real_, length(ids.f), ncol(vals))
  out[match(u$ids, ids.f), ] <- vals
  rownames(out) <- ids.f
  out[order(ids.f), , drop = FALSE]
}
