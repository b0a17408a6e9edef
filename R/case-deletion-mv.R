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
  if (!.mf_mv_hasW(x)) .mf_mv_refuse(x)  # (user weights W: see .mf_mv_cd_wrefit())
  if (is.null(expr)) return(list(unit = seq_len(x$k) - 1L, n = x$k, ids = NULL, cluster.f = NULL))
  val <- .mf_cd_getx(expr, x, env, "cluster")
  cl.f <- val[x$subset]
  if (anyNA(cl.f)) .mf_stop(sprintf("'cluster' has missing values in %s.", .mf_rows(is.na(val) & x$subset)))
  cl <- val[x$ids]
  ids <- unique(cl)
  list(unit = match(cl, ids) - 1L, n = length(ids), ids = ids, cluster.f = cl.f)
}

# One run of the kernel: the spec of the fit, the units in the spec's row
# order, the full fit's variance components and solver settings.  With
# reestimate = TRUE, metafor refits rma.mv() on each subset, which re-applies
# its rules for components the subset cannot identify (a factor left with one
# level: sigma2 fixed at 0; for '~ inner | outer' terms the single-level,
# k = 1 and never-met-pairs rules of .mf_mv_struct_terms()); a subset that
# loses a level of an inner factor of a DIAG, HCS, UN or HAR term (or of any
# term without reestimation) changes the number of components, which
# metafor's refit refuses (NA).  Units are grouped by the fixed components
# of their subset; the kernel runs once per group (the rows of the other
# units kept as one extra unit).
.mf_mv_cd_run <- function(x, u, reestimate, rstudent, dfbetas, threads, progress) {
  if (!is.logical(reestimate) || length(reestimate) != 1L || is.na(reestimate))
    .mf_stop("'reestimate' must be TRUE or FALSE.")
  spec <- x$mf.spec
  if (.mf_mv_hasW(x)) {
    # user weights W: the variance components of each refit are those of the
    # unweighted refit (rma.mv() estimates them without W); the coefficients
    # and their covariances follow from them (.mf_mv_cd_wrefit())
    x$mf.spec$refuse <- NULL
    W <- x$mf.W
    x$mf.W <- NULL
    r <- .mf_mv_cd_run(x, u, reestimate, rstudent, dfbetas, threads, progress)
    x$mf.W <- W
    return(.mf_mv_cd_wrefit(x, u, r, rstudent, dfbetas))
  }
  con <- x$control
  th <- .mf_threads(threads, n_work = u$n, min_per_thread = 4L)
  unit <- as.integer(u$unit[spec$order])
  theta <- as.double(.mf_mv_theta(x))
  # (UN and GEN terms refitted on metafor's scale, .mf_mv_metafor_scale(),
  # from the fit's estimate; the refits that fail from there once more from
  # rma.mv()'s own start)
  kernel <- function(ms, un, n, prog) {
    r <- .mf_rma_mv_deletion(ms$spec, un, as.integer(n), ms$start, x$method == "REML", reestimate, con$threshold,
                             as.integer(con$maxiter), con$stepadj, rstudent, dfbetas, th, prog)
    r$theta <- .mf_mv_metafor_unscale(ms, r$theta)
    r
  }
  run <- function(sp, un, n, start, prog) {
    if (!reestimate) return(kernel(list(spec = sp, start = start), un, n, prog))
    ms <- .mf_mv_metafor_scale(sp, start)
    r <- kernel(ms, un, n, prog)
    ids <- which(!r$ok)
    if (length(ids) && !is.null(ms$gts)) {
      un2 <- match(un, ids - 1L) - 1L
      un2[is.na(un2)] <- length(ids)
      r <- .mf_mv_cd_put(r, kernel(.mf_mv_metafor_scale(sp, start, default = TRUE), as.integer(un2), length(ids) + 1L, NULL),
                         ids, un)
    }
    r
  }
  pat <- .mf_mv_cd_fixed(x, unit, u$n, reestimate)
  fx0 <- spec$structure$fixed
  rmin <- .mf_mv_cd_rmin(x, unit, u$n)
  rkey <- if (is.null(rmin)) rep("", u$n) else
    apply(rmin, 1L, function(v) if (all(v == 0)) "" else paste(format(v, digits = 17), collapse = ","))
  same <- vapply(seq_len(u$n), function(i) !pat$bad[i] && identical(pat$fixed[[i]], fx0) && rkey[i] == "", NA)
  r <- run(spec, unit, u$n, theta, .mf_progress_fn(progress, u$n))
  if (all(same)) return(r)
  fail <- function(sel) {
    r$ok[sel] <<- FALSE
    r$theta[sel, ] <<- NA_real_
    r$beta[sel, ] <<- NA_real_
    if (length(r$vbdiag)) r$vbdiag[sel, ] <<- NA_real_
    if (length(r$X2)) {
      r$X2[sel] <<- NA_real_
      rows <- sel[unit + 1L]
      r$resid[rows] <<- NA_real_
      r$se[rows] <<- NA_real_
    }
  }
  fail(pat$bad)
  other <- !same & !pat$bad
  key <- paste(vapply(pat$fixed, function(f) paste(format(f, digits = 17), collapse = ","), ""), rkey)
  for (kk in unique(key[other])) {
    sel <- other & key == kk
    ids <- which(sel)
    fx <- pat$fixed[[ids[1L]]]
    spec2 <- spec
    spec2$structure$fixed <- fx
    start <- theta
    if (rkey[ids[1L]] != "") {
      # R rescaled over the levels the subset keeps (metafor's refit)
      mm <- rmin[ids[1L], ]
      for (l in which(mm != 0)) {
        Rl <- spec2$structure$R[[l]]
        spec2$structure$R[[l]] <- if (x$Rscale == "cor0") (Rl - mm[l]) / (1 - mm[l]) else Rl - mm[l]
      }
    }
    start[!is.na(fx)] <- fx[!is.na(fx)]
    # the units of the group as 0..m-1, the rows of all other units as unit m
    un2 <- match(unit, ids - 1L) - 1L
    un2[is.na(un2)] <- length(ids)
    r <- .mf_mv_cd_put(r, run(spec2, as.integer(un2), length(ids) + 1L, start, NULL), ids, unit)
  }
  r
}

# The kernel's results r with those of units ids (1-based) taken from r2, a
# run in which they are units 0..length(ids) - 1 (unit: 0-based unit of each
# row, as in r).
.mf_mv_cd_put <- function(r, r2, ids, unit) {
  g <- seq_along(ids)
  r$ok[ids] <- r2$ok[g]
  r$theta[ids, ] <- r2$theta[g, ]
  r$beta[ids, ] <- r2$beta[g, ]
  if (length(r$vbdiag)) r$vbdiag[ids, ] <- r2$vbdiag[g, ]
  if (length(r$X2)) {
    r$X2[ids] <- r2$X2[g]
    rows <- (unit + 1L) %in% ids
    r$resid[rows] <- r2$resid[rows]
    r$se[rows] <- r2$se[rows]
  }
  r
}

# Case deletion of a fit with user weights A (metafor's W), from the
# variance components theta_u of each refit (r$theta, the kernel's): as
# metafor's refits of rma.mv(W = A[-D, -D]) on the rows K kept, b_u = G_u y_K
# with G_u = (X_K' A_KK X_K)^-1 X_K' A_KK, Var(b_u) = G_u M_KK G_u' (M at
# theta_u); rstudent: r = y_D - X_D b_u, S = M_DD + X_D Var(b_u) X_D' and
# X2 = r' S^-1 r; dfbetas: the scale sqrt(diag(G M G')) of the fit on all
# rows at theta_u.  M is held as a sparse matrix of its blocks (nnz = sum
# n_b^2); the k x k A is the user's.  O(n_units (k p^2 + nnz(M) p)).
.mf_mv_cd_wrefit <- function(x, u, r, rstudent, dfbetas) {
  sp <- x$mf.spec
  sp$refuse <- NULL
  k <- x$k
  o <- sp$order
  off <- sp$offsets
  X <- x$X
  y <- x$yi
  A <- .mf_mv_Wc(x)  # (sparse as held: A[K, K] per unit, never a dense k x k matrix)
  p <- ncol(X)
  pos.s <- integer(k)
  pos.s[o] <- seq_len(k) - 1L
  # the sparse pattern of M's blocks (fit order), filled per unit
  bi <- unlist(lapply(seq_len(length(off) - 1L), function(b) {
    fr <- o[(off[b] + 1L):off[b + 1L]]
    rep(fr, times = length(fr))
  }), use.names = FALSE)
  bj <- unlist(lapply(seq_len(length(off) - 1L), function(b) {
    fr <- o[(off[b] + 1L):off[b + 1L]]
    rep(fr, each = length(fr))
  }), use.names = FALSE)
  M_at <- function(theta)
    Matrix::sparseMatrix(i = bi, j = bj, x = .mf_robust_mv_blocks(sp, theta, seq_len(k) - 1L, off)$Theta, dims = c(k, k))
  G_all <- if (dfbetas) { XA <- .mf_mv_XtA(X, A); solve(XA %*% X, XA) }
  beta <- matrix(NA_real_, u$n, p)
  vbdiag <- if (dfbetas) matrix(NA_real_, u$n, p) else r$vbdiag
  resid <- se <- rep(NA_real_, k)  # (fit order)
  X2 <- rep(NA_real_, u$n)
  for (i in seq_len(u$n)) {
    if (!isTRUE(r$ok[i])) next
    D <- which(u$unit == i - 1L)
    K <- which(u$unit != i - 1L)
    M <- M_at(r$theta[i, ])
    XA <- .mf_mv_XtA(X[K, , drop = FALSE], A[K, K, drop = FALSE])
    G <- tryCatch(solve(XA %*% X[K, , drop = FALSE], XA), error = function(e) NULL)
    if (is.null(G)) { r$ok[i] <- FALSE; next }
    b <- c(G %*% y[K])
    beta[i, ] <- b
    if (dfbetas) vbdiag[i, ] <- diag(as.matrix(G_all %*% M %*% t(G_all)))
    if (rstudent) {
      vb <- as.matrix(G %*% M[K, K] %*% t(G))
      XD <- X[D, , drop = FALSE]
      rr <- c(y[D] - XD %*% b)
      S <- as.matrix(M[D, D]) + XD %*% vb %*% t(XD)
      resid[D] <- rr
      se[D] <- sqrt(diag(S))
      ch <- tryCatch(chol(S), error = function(e) NULL)
      if (!is.null(ch)) X2[i] <- sum(backsolve(ch, rr, transpose = TRUE)^2)
    }
  }
  r$beta <- beta
  r$vbdiag <- vbdiag
  if (rstudent) {
    # (r$resid and r$se are in the spec's sorted order)
    r$resid <- resid[o]
    r$se <- se[o]
    r$X2 <- X2
  }
  r
}

# Rscale = "cor0" / "cov0" (metafor's refits re-apply the scaling to the
# fit's R, already scaled to a minimum of 0, over the levels the subset keeps):
# per unit and factor with R, the minimum of R over the levels left after
# deleting the unit (0: R unchanged, e.g. when every level keeps rows); NULL
# for other fits.  unit: 0-based unit code of each row in the spec's order.
.mf_mv_cd_rmin <- function(x, unit, n) {
  if (!isTRUE(x$withR) || !isTRUE(x$Rscale %in% c("cor0", "cov0"))) return(NULL)
  st <- x$mf.spec$structure
  Rs <- st$R
  out <- matrix(0, n, length(Rs))
  for (l in seq_along(Rs)) {
    if (is.null(Rs[[l]])) next
    g <- st$codes[, l]
    # units whose rows hold every row of some level: only their deletion removes levels
    lone <- tapply(unit, g, function(v) if (all(v == v[1L])) v[1L] else NA_integer_)
    lone <- as.vector(lone)
    for (i in unique(lone[!is.na(lone)])) {
      rem <- sort(unique(g[unit != i]))
      out[i + 1L, l] <- if (length(rem)) min(Rs[[l]][rem, rem]) else 0
    }
  }
  out
}

# The fixed components of the refit without each unit (as metafor's rma.mv()
# on the subset would fix them; see .mf_mv_cd_run()): a list of vectors
# (one per unit, NA: estimated) in the order of the spec's theta, and 'bad',
# the units whose subset metafor refuses.  Without reestimation every
# component is fixed (at the full fit's values).  unit: 0-based unit code of each
# row in the spec's order.
.mf_mv_cd_fixed <- function(x, unit, n, reestimate) {
  spec <- x$mf.spec
  st <- spec$structure
  fx0 <- st$fixed
  fixed <- rep(list(fx0), n)
  bad <- logical(n)
  L <- if (isTRUE(x$withS)) length(x$sigma2) else 0L
  terms <- if (st$type %in% c("terms", "crossed")) st$terms else NULL
  # the single-level rule of sigma2 (only for estimated components): a factor
  # whose levels all but one disappear with the unit
  if (reestimate && L > 0L) {
    codes <- if (identical(st$type, "nested")) {
      sizes <- diff(spec$offsets)
      c(list(rep.int(seq_along(sizes), sizes)), lapply(seq_len(ncol(st$groups)), function(j) st$groups[, j]))
    } else lapply(seq_len(L), function(j) st$codes[, j])
    for (l in seq_len(L)) {
      if (!is.na(fx0[l])) next
      g <- codes[[l]]
      nl <- length(unique(g))
      gu <- tapply(unit, g, function(v) if (all(v == v[1L])) v[1L] else NA_integer_)
      gone <- tabulate(gu[!is.na(gu)] + 1L, nbins = n)
      for (i in which(nl - gone == 1L)) fixed[[i]][l] <- 0
    }
  }
  if (!length(terms)) return(list(fixed = fixed, bad = bad))
  # GEN, GDIAG and spatial terms (types >= 10): metafor refuses a subset
  # whose inner term keeps a single distinct row (and, spatial, whose outer
  # levels all hold one row); their fixed components stay as in the fit
  newt <- vapply(terms, function(tm) tm$type >= 10L, NA)
  for (tm in terms[newt]) {
    lev <- if (!is.null(tm$zlev)) apply(tm$zlev, 1L, paste, collapse = "\r")
           else if (!is.null(tm$coords)) apply(tm$coords, 1L, paste, collapse = "\r") else as.character(seq_len(nrow(tm$dmat)))
    for (i in seq_len(n)) {
      keep <- unit != i - 1L
      if (length(unique(lev[tm$inner[keep] + 1L])) < 2L ||
          (tm$type >= 12L && !anyDuplicated(tm$outer[keep]))) bad[i] <- TRUE
    }
  }
  terms <- terms[!newt]
  if (!length(terms)) return(list(fixed = fixed, bad = bad))
  # the rules of the '~ inner | outer' terms on each subset
  types <- c("CS", "ID", "DIAG", "AR", "CAR", "HCS", "UN", "UNR", "HAR")
  gts <- lapply(terms, function(tm) {
    inner <- if (tm$type == 4L) tm$times[tm$inner + 1L] else tm$inner + 1L
    list(inner = inner, outer = tm$outer, names = c("inner", "outer"))
  })
  fixg <- function(t) {
    if (t > length(terms)) return(list(NULL, NULL))
    tm <- terms[[t]]
    list(fx0[tm$off + seq_len(tm$n_v)], if (tm$n_r) fx0[tm$off + tm$n_v + seq_len(tm$n_r)] else NULL)
  }
  struct <- vapply(terms, function(tm) if (tm$type == 9L) "UN" else types[tm$type + 1L], "")  # (9: UN, Cholesky scale)
  check.k <- if (is.null(x$control$check.k.gtr.1)) TRUE else x$control$check.k.gtr.1
  k <- length(unit)
  for (i in seq_len(n)) {
    keep <- unit != i - 1L
    sub <- tryCatch(suppressWarnings(.mf_mv_struct_terms(gts, struct, which(keep), keep, L, fixg(1L), fixg(2L),
                                                         check.k = check.k)),
                    error = function(e) NULL)
    # a subset with fewer components than the fit (a DIAG, HCS, UN or HAR
    # term losing an inner level): metafor's refit stops (its tau2 and init
    # values no longer fit), NA
    if (is.null(sub) || any(vapply(seq_along(sub), function(t)
      sub[[t]]$n_v != terms[[t]]$n_v || sub[[t]]$n_r != terms[[t]]$n_r, NA))) {
      bad[i] <- TRUE
      next
    }
    # AR takes the sorted levels present as equally spaced times: a subset
    # without an inner level between others has other lags in metafor's refit
    for (t in seq_along(sub)) {
      if (terms[[t]]$type != 3L || sub[[t]]$n_lev == terms[[t]]$n_lev) next
      pres <- sort(unique(terms[[t]]$inner[keep]))
      if (length(pres) && pres[length(pres)] - pres[1L] + 1L != length(pres))
        .mf_stop(sprintf("Case deletion of an rma.mv() fit with struct = \"AR\": leaving out unit %d removes an inner level between others, which changes the lags of the refit in metafor; this is not supported by metafast yet (issue 12).", i))
    }
    if (!reestimate) next  # (every component fixed at the full fit's values)
    for (t in seq_along(sub)) {
      tm <- terms[[t]]
      fixed[[i]][tm$off + seq_len(tm$n_v + tm$n_r)] <- c(sub[[t]]$fixed_v, sub[[t]]$fixed_r)
    }
  }
  list(fixed = fixed, bad = bad)
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
