# Methods of rma.mv() fits (class mf_rma_mv) that need no refitting, with
# metafor's arguments and results (its *.rma.mv methods): hat values,
# weights, fitted values, residuals, standardised residuals (per row and per
# cluster), the BLUPs of the random effects, Wald and likelihood ratio
# tests, update() and the broom tidiers.  The block quantities come from C++
# (src/rcpp_rma_mv_methods.cpp), which reads the fit's spec ($mf.spec, rows
# in the engine's sorted order) through MvModel: no k x k matrix is formed
# unless the user asks for one (type = "matrix").

# The variance parameters as the engine's structure takes them.
.mf_mv_theta <- function(x) if (!is.null(x$mf.theta)) x$mf.theta else x$sigma2

# Values per sorted row of the spec, back in the fit's row order.
.mf_mv_unsort <- function(v, x) {
  out <- v
  out[x$mf.spec$order] <- v
  out
}

# hat values, diag(W), row sums of W, diag(M), Var(e_i), e and the Cholesky
# residuals, in the fit's row order.  Crossed fits of the sparse engine (no
# block structure): the same from its factor (no Cholesky residuals: NULL).
.mf_mv_rowdiag <- function(x) {
  if (is.null(x$mf.spec)) .mf_stop("The model object holds no 'mf.spec' (refit it with this version of metafast).")
  fun <- if (.mf_mv_is_sparse(x)) .mf_rma_mv_rowdiag_sparse else .mf_rma_mv_rowdiag
  d <- fun(x$mf.spec, .mf_mv_theta(x), c(x$beta))
  lapply(d, .mf_mv_unsort, x = x)
}
.mf_mv_is_sparse <- function(x) .mf_spec_is_sparse(x$mf.spec)
.mf_spec_is_sparse <- function(spec) identical(spec$structure$type, "crossed")

# The block of the marginal covariance M of each row (spec's order): the
# engine's blocks, or, for a crossed fit of the sparse engine (whose offsets
# hold the blocks of V only, or none for a diagonal V), the connected
# components of the rows that V, a random factor, the outer factor of an
# '~ inner | outer' term or a known correlation matrix R links.  Clusters of robust(), the cluster bootstrap and the
# cluster wild bootstrap must hold whole blocks.
.mf_mv_spec_blocks <- function(spec) {
  k <- length(spec$y)
  off <- spec$offsets
  blk <- if (length(off)) rep.int(seq_len(length(off) - 1L), diff(off)) else seq_len(k)
  if (!.mf_spec_is_sparse(spec)) return(blk)
  st <- spec$structure
  codes <- lapply(seq_len(ncol(st$codes)), function(l) st$codes[, l])
  links <- if (!is.null(st$R)) .mf_mv_R_links(st$R, codes) else list(i = integer(0), j = integer(0))
  nxt <- which(c(FALSE, blk[-1L] == blk[-k]))  # (rows of one V block: each linked to the one before)
  # (an '~ inner | outer' term links the rows of each outer level)
  cm <- st$codes
  for (tm in st$terms) cm <- cbind(cm, as.integer(factor(tm$outer)))
  storage.mode(cm) <- "integer"
  .mf_mv_components(cm, as.integer(c(links$i, nxt)), as.integer(c(links$j, nxt - 1L)))
}

# The fitting kernel of a model spec: the sparse one for crossed random effects.
.mf_mv_fitfun <- function(spec) if (.mf_spec_is_sparse(spec)) .mf_rma_mv_fit_sparse else .mf_rma_mv_fit

# A k x k matrix ("W", "H" or "M") in the fit's row order (only on request).
.mf_mv_kxk <- function(x, what) {
  fun <- if (.mf_mv_is_sparse(x)) .mf_rma_mv_matrix_sparse else .mf_rma_mv_matrix
  S <- fun(x$mf.spec, .mf_mv_theta(x), what)
  o <- x$mf.spec$order
  M <- matrix(0, x$k, x$k)
  M[o, o] <- S
  M
}

#' Diagnostics of a model fitted by rma.mv()
#'
#' As metafor's methods for \code{rma.mv} objects.  With the marginal
#' covariance \eqn{M = V + \sum_l \sigma^2_l Z_l Z_l'}{M = V + sum sigma2_l
#' Z_l Z_l'} at the estimates, \eqn{W = M^{-1}}{W = M^-1} and
#' \eqn{A = (X'WX)^{-1}}{A = (X'WX)^-1}: \code{hatvalues()} gives the
#' diagonal of \eqn{H = X A X' W}{H = X A X' W} (or, with \code{type =
#' "matrix"}, H itself); \code{weights()} the diagonal of W as percentages,
#' W itself (\code{"matrix"}) or its row sums as percentages
#' (\code{"rowsum"}, intercept-only models); \code{fitted()} \eqn{X b};
#' \code{residuals()} the raw residuals \eqn{e = y - Xb}, the standardised
#' ones (\code{"rstandard"}), the Pearson residuals \eqn{e_i /
#' \sqrt{M_{ii}}}{e_i / sqrt(M_ii)} or the Cholesky residuals \eqn{L e}
#' with \eqn{L'L = W}; \code{rstandard()} \eqn{e_i / \sqrt{\mathrm{Var}(e)_{ii}}}{e_i / sqrt(Var(e)_ii)}
#' with \eqn{\mathrm{Var}(e) = (I - H) M (I - H)' = M - X A X'}{Var(e) =
#' (I - H) M (I - H)' = M - X A X'} and, with \code{cluster}, metafor's
#' cluster-level statistic \eqn{X^2_c = e_c' \mathrm{Var}(e)_{cc}^{-1} e_c}{X2_c = e_c' Var(e)_cc^-1 e_c}.
#' Everything is computed block by block (the blocks of the outermost
#' random factor) in O(sum of n_i^3 + k p^2); a k x k matrix is only formed
#' for \code{type = "matrix"}.  Rows omitted from the fit for missing values
#' follow \code{getOption("na.action")} as in metafor.
#'
#' @param model,object an object of class \code{mf_rma_mv}.
#' @param type \code{hatvalues}: \code{"diagonal"} or \code{"matrix"};
#'   \code{weights}: \code{"diagonal"}, \code{"matrix"} or \code{"rowsum"};
#'   \code{residuals}: \code{"response"}, \code{"rstandard"},
#'   \code{"pearson"}, \code{"cholesky"} (metafor's \code{chol(W) \%*\% e};
#'   for crossed fits of the sparse engine it forms the k x k W) or
#'   \code{"rstudent"} (the refits of \code{rstudent()}).
#' @param digits number of decimals for printing.
#' @param cluster optional clustering variable (of the length of the
#'   original data, evaluated in the data of the fit): adds the cluster-level
#'   \eqn{X^2}{X2} statistics and the number of rows per cluster.
#' @param ... ignored.
#' @return numeric vectors or matrices named by the study labels; for
#'   \code{rstandard} a list of class \code{list.mf_rma} (\code{resid},
#'   \code{se}, \code{z}, \code{slab}), or with \code{cluster} a list of two
#'   (\code{obs}, \code{cluster} with \code{X2}, \code{k}, \code{slab}).
#' @references Harville DA (1977). Maximum likelihood approaches to variance
#'   component estimation and to related problems. \emph{JASA} 72:320-338.
#' @name mf_rma_mv-diagnostics
NULL

#' @rdname mf_rma_mv-diagnostics
#' @export
hatvalues.mf_rma_mv <- function(model, type = "diagonal", ...) {
  .mf_check_dots("hatvalues.mf_rma_mv", ...)
  type <- .mf_diag_or_matrix(type, "hatvalues")
  if (.mf_mv_hasW(model)) {
    # user weights A (metafor): H = X (X'AX)^-1 X'A
    # (no k x k hat matrix unless type = "matrix")
    XA <- .mf_mv_XtA(model$X, .mf_mv_Wc(model))
    B <- solve(XA %*% model$X, XA)
    if (type == "matrix") return(.mf_na_matrix(model$X %*% B, model))
    h <- rowSums(model$X * t(B))
    h[h > 1 - 10 * .Machine$double.eps] <- 1
    return(.mf_na_out(h, model))
  }
  if (type == "matrix") return(.mf_na_matrix(.mf_mv_kxk(model, "H"), model))
  h <- .mf_mv_rowdiag(model)$hat
  h[h > 1 - 10 * .Machine$double.eps] <- 1
  .mf_na_out(h, model)
}

#' @rdname mf_rma_mv-diagnostics
#' @export
weights.mf_rma_mv <- function(object, type = "diagonal", ...) {
  .mf_check_dots("weights.mf_rma_mv", ...)
  type <- .mf_match_arg(type, c("diagonal", "matrix", "rowsum"), "type")
  if (type == "matrix")
    return(.mf_na_matrix(if (!.mf_mv_hasW(object)) .mf_mv_kxk(object, "W") else .mf_mv_A(object), object))
  if (type == "rowsum" && !object$int.only)
    .mf_stop("Row-sum weights are only meaningful for intercept-only models (as metafor).")
  if (.mf_mv_hasW(object)) {  # user weights (metafor's W)
    Wc <- .mf_mv_Wc(object)
    w <- as.numeric(if (type == "rowsum") Matrix::rowSums(Wc) else Matrix::diag(Wc))
  } else {
    d <- .mf_mv_rowdiag(object)
    w <- if (type == "rowsum") d$wrowsum else d$wdiag
  }
  .mf_na_out(100 * w / sum(w), object, msg = "Missing values in weights.")
}

#' @rdname mf_rma_mv-diagnostics
#' @export
fitted.mf_rma_mv <- function(object, ...) {
  .mf_check_dots("fitted.mf_rma_mv", ...)
  fitted.mf_rma(object)
}

#' @rdname mf_rma_mv-diagnostics
#' @export
residuals.mf_rma_mv <- function(object, type = "response", ...) {
  .mf_check_dots("residuals.mf_rma_mv", ...)
  type <- .mf_match_arg(type, c("response", "rstandard", "rstudent", "pearson", "cholesky"), "type")
  if (type == "rstudent") {
    # as metafor: the z column of rstudent(), named by its slab
    rs <- rstudent.mf_rma_mv(object)
    out <- rs$z
    names(out) <- rs$slab
    return(out)
  }
  if (type == "response") return(residuals.mf_rma(object, type = "response"))
  if (type == "rstandard") {
    rs <- rstandard.mf_rma_mv(object)
    out <- rs$z
    names(out) <- rs$slab
    return(out)
  }
  # (e = y - Xb and M: with user weights W too, whose spec refuses only the refits)
  if (.mf_mv_hasW(object)) object$mf.spec$refuse <- NULL
  d <- .mf_mv_rowdiag(object)
  if (type == "pearson") {
    e <- d$resid
    e[abs(e) < 100 * .Machine$double.eps] <- 0
    return(.mf_na_out(e / sqrt(d$mdiag), object))
  }
  if (is.null(d$chol)) {
    # a crossed fit of the sparse engine: metafor's chol(W) %*% e needs the
    # k x k W in the fit's row order, formed on this request only (O(k^3))
    R <- tryCatch(chol(.mf_mv_kxk(object, "W")), error = function(e)
      .mf_stop("The weight matrix W is not positive definite; the Cholesky residuals cannot be computed."))
    d$chol <- c(R %*% d$resid)
  }
  .mf_na_out(d$chol, object)
}

#' @rdname mf_rma_mv-diagnostics
#' @export
rstandard.mf_rma_mv <- function(model, digits, cluster, ...) {
  .mf_check_dots("rstandard.mf_rma_mv", ...)
  x <- model
  na.act <- .mf_na_action()
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  v <- .mf_na_view(x)
  # user weights A (metafor's W): Var(e) = (I - H) M (I - H)', H = X (X'AX)^-1 X'A
  wv <- if (.mf_mv_hasW(x)) .mf_mv_wresid(x)
  rd <- if (is.null(wv)) .mf_mv_rowdiag(x) else wv
  e <- rd$resid
  e[abs(e) < 100 * .Machine$double.eps] <- 0
  se <- sqrt(rd$var.resid)
  if (na.act == "na.fail" && any(!v$not.na)) .mf_stop("Missing values in results.")
  pad <- function(val) unname(.mf_na_out(val, x, na.act = na.act))
  out <- list(resid = pad(e), se = pad(se), z = pad(e / se))
  if (missing(cluster)) {
    out$slab <- if (na.act == "na.omit") v$slab[v$not.na] else v$slab
    out$digits <- d
    class(out) <- "list.mf_rma"
    return(out)
  }
  cl <- .mf_cd_getx(substitute(cluster), x, parent.frame(), "cluster")
  cl.f <- if (is.logical(x$subset) && length(x$subset) == length(cl)) cl[x$subset] else cl
  if (anyNA(cl.f)) .mf_stop(sprintf("'cluster' has missing values in %s (no missing values allowed, as metafor).",
                                    .mf_rows(is.na(cl.f))))
  cl.u <- cl.f[v$not.na]
  ids <- unique(cl.u)
  codes <- match(cl.u, ids)
  srt <- integer(x$k)
  srt[seq_len(x$k)] <- codes[x$mf.spec$order]  # codes per sorted row
  x2fun <- if (.mf_mv_is_sparse(x)) .mf_rma_mv_cluster_x2_sparse else .mf_rma_mv_cluster_x2
  X2 <- if (is.null(wv)) x2fun(x$mf.spec, .mf_mv_theta(x), c(x$beta), srt - 1L, length(ids))
        else .mf_mv_wresid(x, codes, length(ids))$X2
  k.id <- tabulate(codes, nbins = length(ids))
  out$cluster <- if (na.act == "na.omit") cl.u else cl.f
  out$slab <- if (na.act == "na.omit") v$slab[v$not.na] else v$slab
  if (na.act == "na.omit") {
    o <- order(ids)
    cls <- list(X2 = X2[o], k = k.id[o], slab = ids[o])
  } else {
    ids.f <- unique(cl.f)
    X2.f <- rep(NA_real_, length(ids.f))
    X2.f[match(ids, ids.f)] <- X2
    k.f <- vapply(ids.f, function(id) sum(cl.f == id & v$not.na), 1L)
    o <- order(ids.f)
    cls <- list(X2 = X2.f[o], k = k.f[o], slab = ids.f[o])
  }
  out$digits <- d
  cls$digits <- d
  class(out) <- "list.mf_rma"
  class(cls) <- "list.mf_rma"
  list(obs = out, cluster = cls)
}

# The residuals of a fit with user weights A (metafor's W) and the diagonal
# of their covariance Var(e) = (I - H) M (I - H)' with H = X G, G = (X'AX)^-1
# X'A: Var(e)_ii = M_ii - 2 x_i' (G M)_i + x_i' (G M G') x_i, with G M formed
# block by block from the blocks of M (block diagonal), so no k x k matrix
# beyond the A the user gave; with cluster codes (1..n, fit order), metafor's
# X2_c = e_c' Var(e)_cc^-1 e_c per cluster (NA when Var(e)_cc is not
# positive definite: an eigenvalue whose square is not above machine
# epsilon).
.mf_mv_wresid <- function(x, cluster = NULL, n = 0L) {
  sp <- x$mf.spec
  sp$refuse <- NULL  # (the blocks of M are those of the fit)
  theta <- .mf_mv_theta(x)
  k <- x$k
  o <- sp$order
  X <- x$X
  XA <- .mf_mv_XtA(X, .mf_mv_Wc(x))
  G <- solve(XA %*% X, XA)
  off <- sp$offsets
  Th <- .mf_robust_mv_blocks(sp, theta, seq_len(k) - 1L, off)$Theta
  GM <- matrix(0, nrow(G), k)
  mdiag <- numeric(k)
  pos <- 0
  for (b in seq_len(length(off) - 1L)) {
    fr <- o[(off[b] + 1L):off[b + 1L]]
    nb <- length(fr)
    Mb <- matrix(Th[pos + seq_len(nb * nb)], nb, nb)
    pos <- pos + nb * nb
    GM[, fr] <- G[, fr, drop = FALSE] %*% Mb
    mdiag[fr] <- diag(Mb)
  }
  GMG <- GM %*% t(G)
  XGMG <- X %*% GMG
  e <- c(x$yi - X %*% x$beta)
  out <- list(resid = e, var.resid = mdiag - 2 * rowSums(X * t(GM)) + rowSums(XGMG * X))
  if (is.null(cluster)) return(out)
  # the blocks of M over the rows of each cluster (rows sorted by cluster)
  pos.s <- integer(k)
  pos.s[o] <- seq_len(k) - 1L  # sorted-row index of each fit row
  ocl <- order(cluster)
  offc <- c(0L, cumsum(tabulate(cluster, nbins = n)))
  Thc <- .mf_robust_mv_blocks(sp, theta, pos.s[ocl], as.integer(offc))$Theta
  X2 <- rep(NA_real_, n)
  pos <- 0
  for (c in seq_len(n)) {
    r <- ocl[(offc[c] + 1L):offc[c + 1L]]
    m <- length(r)
    Mc <- matrix(Thc[pos + seq_len(m * m)], m, m)
    pos <- pos + m * m
    HM <- X[r, , drop = FALSE] %*% GM[, r, drop = FALSE]
    ve <- Mc - HM - t(HM) + XGMG[r, , drop = FALSE] %*% t(X[r, , drop = FALSE])
    ve <- (ve + t(ve)) / 2
    ev <- eigen(ve, symmetric = TRUE, only.values = TRUE)$values
    if (any(ev^2 <= .Machine$double.eps)) next
    ch <- tryCatch(chol(ve), error = function(err) NULL)
    if (is.null(ch)) next
    z <- backsolve(ch, e[r], transpose = TRUE)
    X2[c] <- sum(z^2)
  }
  out$X2 <- X2
  out
}

# ---- ranef ----

# Integer codes per row (fit's order) of each nested factor of 'random', read
# from the spec of a nested structure; NULL for other structures.
.mf_mv_row_codes <- function(x) {
  s <- x$mf.spec$structure
  if (identical(s$type, "terms")) {
    # several factors (crossed or nested, optionally with known correlation
    # matrices R, and '~ inner | outer' terms): the codes of each factor, per
    # sorted row
    return(lapply(seq_len(if (isTRUE(x$withS)) length(x$sigma2) else 0L), function(l) .mf_mv_unsort(s$codes[, l], x)))
  }
  # crossed factors of the sparse engine: the 1-based codes per sorted row
  if (identical(s$type, "crossed")) return(lapply(seq_len(ncol(s$codes)), function(l) .mf_mv_unsort(s$codes[, l], x)))
  if (is.null(s$type) || !identical(s$type, "nested")) return(NULL)
  off <- x$mf.spec$offsets
  L <- length(x$sigma2)
  codes <- vector("list", L)
  codes[[1L]] <- rep.int(seq_len(length(off) - 1L), diff(off))
  for (l in seq_len(L - 1L)) codes[[l + 1L]] <- s$groups[, l]
  lapply(codes, .mf_mv_unsort, x = x)
}

#' Random effects of a model fitted by rma.mv()
#'
#' The best linear unbiased predictions of the random effects of each
#' variance component, as metafor's \code{ranef.rma.mv()}: for the
#' component \eqn{\sigma^2_l}{sigma2_l} of the factor with indicator matrix
#' \eqn{Z_l}, \eqn{\hat u_l = \sigma^2_l Z_l' W e}{u_l = sigma2_l Z_l' W e}
#' with prediction variances the diagonal of
#' \eqn{\sigma^2_l I - \sigma^4_l Z_l' P Z_l}{sigma2_l I - sigma2_l^2 Z_l' P Z_l},
#' \eqn{P = W - W X (X'WX)^{-1} X' W}{P = W - W X (X'WX)^-1 X'W}
#' (Robinson 1991), computed block by block; for a factor with a known
#' correlation matrix \eqn{R_l} (argument \code{R} of \code{rma.mv()}),
#' \eqn{\hat u_l = \sigma^2_l R_l Z_l' W e}{u_l = sigma2_l R_l Z_l' W e} and
#' \eqn{\sigma^2_l R_l - \sigma^4_l R_l Z_l' P Z_l R_l}{sigma2_l R_l - sigma2_l^2 R_l Z_l' P Z_l R_l}.
#' Fits with several factors (crossed or nested) are supported.  For an
#' \code{~ inner | outer} term with covariance \eqn{G}{G} (its part of the
#' marginal covariance: \eqn{E(a, c)}{E(a, c)} between rows of the same outer
#' level with inner levels \eqn{a}{a} and \eqn{c}{c}), \eqn{\hat u = G W e}{u = G W e}
#' with prediction variances the diagonal of \eqn{G - G P G}{G - G P G}, one
#' row per combination of inner and outer level, named \code{"inner | outer"}
#' and ordered by outer, then inner level, as metafor (\code{expand} does not
#' apply to them; their list element is named by the formula, e.g.
#' \code{"~outcome | trial"}).  For a spatial term (SPEXP, SPGAU, SPLIN,
#' SPRAT, SPSPH) there is one row per row of the data, named by its position
#' in the data and its outer level and in the data's order, as metafor.  For
#' a GEN or GDIAG term metafor 5.2.1 gives something else, and so does
#' metafast: as the G term, the result is only the matrix of the BLUPs of
#' the term's coefficients per outer level, \eqn{E Z_o' W_{oo} e_o}{E Z_o' W[o, o] e_o}
#' (\eqn{W_{oo}}{W[o, o]} the rows of the outer level in
#' \eqn{M^{-1}}{M^-1}), rows named by the outer levels, columns by the inner
#' design; as the H term it is left out.  The prediction intervals use a
#' normal quantile, or for \code{test = "t"} a t quantile with
#' \code{k - p} degrees of freedom (\code{dfs = "residual"}) or the number
#' of levels of the factor minus p (\code{dfs = "contain"} or numbers), as
#' metafor.
#'
#' @param object an object of class \code{mf_rma_mv}.
#' @param level confidence level (default: the level of the fit).
#' @param digits number of decimals for printing (kept as metafor; the
#'   result is a list of data frames).
#' @param transf optional function applied to the predictions and the
#'   interval bounds (the \code{se} column is then dropped, as metafor).
#' @param targs optional second argument of \code{transf}.
#' @param verbose accepted and ignored (metafor's progress messages).
#' @param expand one row per row of the data (metafor's \code{expand =
#'   TRUE}) instead of one per level.
#' @param vcov \code{TRUE}: the result is a list with \code{pred} (the list
#'   above) and \code{vcov}: per component the levels-by-levels covariance
#'   matrix \eqn{\sigma^2_l I - \sigma^4_l Z_l' P Z_l}{sigma2_l I - sigma2_l^2 Z_l' P Z_l}
#'   (for an \code{~ inner | outer} term the rows of \eqn{G - G P G}{G - G P G}
#'   of its table),
#'   as metafor (a dense matrix, built only on this request; \code{NULL}
#'   elements under \code{na.exclude} / \code{na.pass} with omitted rows, as
#'   metafor).
#' @param ... other arguments are an error.
#' @return A named list (one element per variance component, named by the
#'   factor, then one per \code{~ inner | outer} term) of data frames with
#'   columns \code{intrcpt}, \code{se}, \code{pi.lb} and \code{pi.ub}, rows
#'   named by the levels.
#' @references Robinson GK (1991). That BLUP is a good thing: the estimation
#'   of random effects. \emph{Stat Sci} 6:15-32.
#' @export
ranef.mf_rma_mv <- function(object, level, digits, transf, targs, verbose = FALSE, expand = FALSE, vcov = FALSE, ...) {
  .mf_check_dots("ranef.mf_rma_mv", ...)
  x <- object
  na.act <- .mf_na_action()
  alpha <- if (missing(level)) x$level else .mf_level(level)
  if (!is.logical(expand) || length(expand) != 1L || is.na(expand)) .mf_stop("'expand' must be TRUE or FALSE.")
  if (!is.logical(vcov) || length(vcov) != 1L || is.na(vcov)) .mf_stop("'vcov' must be TRUE or FALSE.")
  if (.mf_mv_hasW(x))
    .mf_stop("Extraction of random effects is not available for models with non-standard weights ('W'), as in metafor.")
  nG <- length(x$mf.spec$structure$terms)
  # a GEN/GDIAG G term (random slopes): metafor 5.2.1 returns only the matrix
  # of the BLUPs of its coefficients (outer levels x columns of the inner
  # design), whatever else the model holds
  if (nG && x$struct[1L] %in% c("GEN", "GDIAG")) return(.mf_mv_ranef_gen(x, 1L))
  codes <- .mf_mv_row_codes(x)
  if (is.null(codes))
    .mf_stop("ranef() for this random-effects structure of rma.mv() is not supported by metafast yet (issue 12).")
  L <- length(codes)
  # (a GEN/GDIAG H term has no element, as metafor)
  tset <- Filter(function(t) !(t == 2L && x$struct[2L] %in% c("GEN", "GDIAG")), seq_len(nG))
  if (L) {
    r <- if (.mf_mv_is_sparse(x)) .mf_rma_mv_ranef_sparse(x$mf.spec, .mf_mv_theta(x))
         else .mf_rma_mv_ranef(x$mf.spec, .mf_mv_theta(x), c(x$beta))
    pred <- apply(r$pred[, seq_len(L), drop = FALSE], 2L, .mf_mv_unsort, x = x)
    vpred <- apply(r$var[, seq_len(L), drop = FALSE], 2L, .mf_mv_unsort, x = x)
    pred <- matrix(pred, nrow = x$k)
    vpred <- matrix(vpred, nrow = x$k)
  }
  do.transf <- !missing(transf) && is.function(transf)
  tf <- if (do.transf) .mf_apply_transf(transf, if (missing(targs)) NULL else targs) else NULL
  out <- vector("list", L)
  names(out) <- x$s.names[seq_len(L)]
  for (j in seq_len(L)) {
    lev <- x$s.levels[[j]]
    first <- match(seq_along(lev), codes[[j]])
    p <- pred[first, j]
    p[abs(p) < 100 * .Machine$double.eps] <- 0
    se <- sqrt(vpred[first, j])
    if (x$test == "z") {
      crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
    } else {
      ddf <- if (identical(x$dfs, "residual")) x$k - x$p else x$s.nlevels[j] - x$p
      crit <- stats::qt(alpha / 2, max(ddf, 1), lower.tail = FALSE)
    }
    tab <- data.frame(intrcpt = p, se = se, pi.lb = p - crit * se, pi.ub = p + crit * se)
    rownames(tab) <- lev
    if (expand) {
      rows <- codes[[j]]
      tab <- tab[rows, , drop = FALSE]
      rownames(tab) <- .mf_mv_make_unique(lev[rows])
    } else if (na.act %in% c("na.exclude", "na.pass") && any(!.mf_na_view(x)$not.na)) {
      lev.f <- .mf_mv_levels_f(x)[[j]]
      if (!is.null(lev.f)) {
        full <- data.frame(intrcpt = rep(NA_real_, length(lev.f)), se = NA_real_, pi.lb = NA_real_, pi.ub = NA_real_)
        full[match(lev, lev.f), ] <- tab
        rownames(full) <- lev.f
        tab <- full
      }
    }
    if (do.transf) {
      tab[] <- lapply(tab, tf)
      tab <- tab[, -2L, drop = FALSE]
    }
    out[[j]] <- tab
  }
  # the '~ inner | outer' terms (metafor's G and H): one row per combination
  # of inner and outer level, in the order of outer, then inner level
  gt <- lapply(tset, function(t) .mf_mv_ranef_term(x, t, alpha))
  for (t in seq_along(gt)) {
    tab <- gt[[t]]$tab
    if (do.transf) {
      tab[] <- lapply(tab, tf)
      tab <- tab[, -2L, drop = FALSE]
    }
    out[[gt[[t]]$name]] <- tab
  }
  if (!vcov) return(out)
  # metafor's vcov = TRUE: per component the covariance matrix of the
  # predicted effects minus the true ones (Henderson 1975; Robinson 1991),
  # D - D Z' P Z D with D = sigma2_j I and P = W - W X (X'WX)^-1 X'W; dense
  # (levels x levels, and P is k x k): only on this request.  As metafor,
  # it is given with na.omit only (NULL elements otherwise).
  V <- vector("list", L)
  names(V) <- x$s.names
  if (na.act == "na.omit" || !any(!.mf_na_view(x)$not.na)) {
    W <- .mf_mv_kxk(x, "W")
    WX <- W %*% x$X
    P <- W - WX %*% solve(crossprod(x$X, WX), t(WX))
    for (j in seq_len(L)) {
      nl <- length(x$s.levels[[j]])
      ZPZ <- rowsum(t(rowsum(P, codes[[j]], reorder = TRUE)), codes[[j]], reorder = TRUE)  # Z' P Z
      Rj <- if (is.null(x$R[[j]])) diag(nl) else unname(x$R[[j]])  # (a known correlation matrix: sigma2 R - sigma2^2 R Z'PZ R)
      Vj <- x$sigma2[j] * Rj - x$sigma2[j]^2 * (Rj %*% unname(ZPZ) %*% Rj)
      V[[j]] <- (Vj + t(Vj)) / 2
    }
  }
  # the inner | outer terms (metafor gives them under every na.action):
  # G - G P G over the rows kept, G = [outer equal] E(inner, inner)
  if (length(gt)) {
    W <- .mf_mv_kxk(x, "W")
    WX <- W %*% x$X
    P <- W - WX %*% solve(crossprod(x$X, WX), t(WX))
    for (t in seq_along(gt)) {
      g <- gt[[t]]
      G <- (outer(g$outer, g$outer, "==") + 0) * g$E[g$inner, g$inner, drop = FALSE]
      Vt <- G - G %*% P %*% G
      Vt <- ((Vt + t(Vt)) / 2)[g$rows, g$rows, drop = FALSE]
      rn <- as.character(which(.mf_na_view(x)$not.na)[g$rows])  # (metafor: the rows' positions after subset)
      dimnames(Vt) <- list(rn, rn)
      V[[g$name]] <- Vt
    }
  }
  list(pred = out, vcov = V)
}

# The BLUPs of the '~ inner | outer' term t (1: G, 2: H) as metafor's
# ranef(): per row of the fit G_t W e and diag(G_t - G_t P G_t) (the C++
# kernel, block by block), then one row per combination of inner and outer
# level (its first row), labelled "inner | outer" (inner right-aligned to the
# widest label) and ordered by outer, then inner level; the prediction
# intervals use a normal quantile or, for t tests, a t quantile with k - p
# (dfs = "residual") or the number of outer levels minus p degrees of
# freedom.  Also returns what vcov = TRUE needs: the rows kept, the inner and
# outer code of each row and the term's matrix E.
.mf_mv_ranef_term <- function(x, t, alpha) {
  sp <- x$mf.spec
  tm <- sp$structure$terms[[t]]
  r <- if (.mf_mv_is_sparse(x)) {
    rs <- .mf_rma_mv_ranef_sparse(sp, .mf_mv_theta(x))  # (the sparse engine: from its factor)
    list(pred = rs$gpred[, t], var = rs$gvar[, t])
  } else .mf_rma_mv_ranef_term(sp, .mf_mv_theta(x), c(x$beta), t - 1L)
  pred <- .mf_mv_unsort(r$pred, x)
  se <- sqrt(.mf_mv_unsort(r$var, x))
  pred[abs(pred) < 100 * .Machine$double.eps] <- 0
  inner <- .mf_mv_unsort(tm$inner, x) + 1L
  outer <- .mf_mv_unsort(tm$outer, x)
  lev.in <- (if (t == 1L) x$g.levels.f else x$h.levels.f)[[1L]]
  lev.out <- tm$outer.levels
  if (is.null(lev.out)) lev.out <- (if (t == 1L) x$g.levels.f else x$h.levels.f)[[2L]]
  spatial <- x$struct[t] %in% .mf_mv_gen_sp
  if (x$test == "z") {
    crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  } else {
    # (metafor counts the values of the second variable of the term: for a
    # spatial term with several coordinates the second coordinate)
    nu <- if (spatial) length(unique(.mf_mv_sp_second(x, t, outer))) else length(unique(outer))
    ddf <- if (identical(x$dfs, "residual")) x$k - x$p else nu - x$p
    crit <- stats::qt(alpha / 2, max(ddf, 1), lower.tail = FALSE)
  }
  if (spatial) {
    # one row per row of the data, named by its position in the data (after
    # 'subset') and its outer level, in the order of the data (as metafor)
    ids <- x$ids[.mf_na_view(x)$not.na]
    rn <- paste(formatC(ids, format = "f", digits = 0, width = max(nchar(ids))), lev.out[outer], sep = " | ")
  } else {
    lab.in <- lev.in[inner]
    rn <- paste(formatC(lab.in, width = max(nchar(lab.in))), lev.out[outer], sep = " | ")
  }
  first <- which(!duplicated(rn))
  rows <- if (spatial) first else first[order(outer[first], inner[first])]
  tab <- data.frame(intrcpt = pred[rows], se = se[rows], pi.lb = pred[rows] - crit * se[rows],
                    pi.ub = pred[rows] + crit * se[rows])
  rownames(tab) <- rn[rows]
  forms <- if (is.list(x$random) && !inherits(x$random, "formula")) x$random else list(x$random)
  io <- Filter(function(f) !(is.numeric(f[[2L]][[2L]]) && f[[2L]][[2L]] == 1), forms)
  list(tab = tab, name = paste0(as.character(io[[t]]), collapse = ""), rows = rows, inner = inner, outer = outer,
       E = .mf_mv_term_E(x, t))
}

# The matrix E of the '~ inner | outer' term t at the estimates (metafor's G,
# or H): inner levels by inner levels, from tau2/rho (gamma2/phi) and the
# struct (see InnerOuterTerm in src/core/structure.hpp).
.mf_mv_term_E <- function(x, t) {
  st <- x$struct[t]
  v <- if (t == 1L) x$tau2 else x$gamma2
  r <- if (t == 1L) x$rho else x$phi
  if (st %in% .mf_mv_gen_sp) return(v * .mf_mv_sp_corr(st, .mf_mv_sp_dist(x$mf.spec$structure$terms[[t]]), r))
  lev <- (if (t == 1L) x$g.levels.f else x$h.levels.f)[[1L]]
  n <- length(lev)
  s <- sqrt(if (length(v) == 1L) rep(v, n) else v)
  d <- abs(outer(seq_len(n), seq_len(n), "-"))
  C <- switch(st,
              CS = , HCS = { m <- matrix(r, n, n); diag(m) <- 1; m },
              ID = , DIAG = diag(n),
              AR = , HAR = r^d,
              CAR = { tm <- as.numeric(lev); r^abs(outer(tm, tm, "-")) },
              UN = , UNR = { m <- diag(n); m[lower.tri(m)] <- r; m[upper.tri(m)] <- t(m)[upper.tri(m)]; m },
              .mf_stop(sprintf("ranef() is not available for struct = \"%s\".", st)))
  C * tcrossprod(s)
}

# The distances between the inner codes of a spatial term (spec term tm):
# its distance matrix, or those of its coordinates (euclidean, maximum,
# manhattan, great-circle; see InnerOuterTerm::distance()).
.mf_mv_sp_dist <- function(tm) {
  if (!is.null(tm$dmat)) return(tm$dmat)
  cs <- tm$coords
  if (identical(as.integer(tm$dist), 3L)) {
    n <- nrow(cs)
    D <- matrix(0, n, n)
    D[lower.tri(D)] <- .mf_mv_gcd_pairs(cs)
    return(D + t(D))
  }
  as.matrix(stats::dist(cs, method = c("euclidean", "maximum", "manhattan")[as.integer(tm$dist) + 1L]))
}

# The spatial correlation at distances D and range r (metafor's SPEXP,
# SPGAU, SPLIN, SPRAT, SPSPH; the core's InnerOuterTerm::sp_corr()).
.mf_mv_sp_corr <- function(st, D, r) {
  u <- D / r
  C <- switch(st,
              SPEXP = exp(-u),
              SPGAU = exp(-u^2),
              SPLIN = ifelse(u < 1, 1 - u, 0),
              SPRAT = 1 / (1 + u^2),
              SPSPH = ifelse(u < 1, 1 - 1.5 * u + 0.5 * u^3, 0))
  C[D == 0] <- 1
  C
}

# The values (per row of the fit) of the second variable of the spatial term
# t, as metafor's ranef() counts them for its degrees of freedom: the second
# inner variable, or the outer factor for a term with one inner variable.
.mf_mv_sp_second <- function(x, t, outer) {
  forms <- if (is.list(x$random) && !inherits(x$random, "formula")) x$random else list(x$random)
  io <- Filter(function(f) !(is.numeric(f[[2L]][[2L]]) && f[[2L]][[2L]] == 1), forms)
  inner <- io[[t]][[2L]][[2L]]
  vars <- tryCatch(stats::model.frame(stats::as.formula(call("~", inner)), data = x$data, na.action = stats::na.pass),
                   error = function(e) NULL)
  if (is.null(vars) || ncol(vars) < 2L) return(outer)
  v <- vars[[2L]]
  if (is.logical(x$subset) && length(v) == length(x$subset)) v <- v[x$subset]
  nn <- .mf_na_view(x)$not.na
  if (length(v) == length(nn)) v <- v[nn]
  v
}

# metafor 5.2.1's ranef() of a fit whose G term is GEN or GDIAG: the BLUPs of
# the term's coefficients per outer level o, u_o = E Z_o' W[o, o] e_o (E the
# term's matrix over the columns of the inner design Z, W[o, o] the rows of o
# of M^-1: metafor's formula, which ignores covariances of o's rows with rows
# of other outer levels), a matrix of outer levels by columns, nothing else.
.mf_mv_ranef_gen <- function(x, t) {
  sp <- x$mf.spec
  tm <- sp$structure$terms[[t]]
  w <- .mf_rma_mv_group_we(sp, .mf_mv_theta(x), c(x$beta), as.integer(tm$outer))
  Z <- tm$zlev[tm$inner + 1L, , drop = FALSE]
  v <- if (t == 1L) x$tau2 else x$gamma2
  r <- if (t == 1L) x$rho else x$phi
  n <- length(v)
  E <- diag(v, n)
  if (x$struct[t] == "GEN" && n > 1L) {
    C <- diag(n)
    C[lower.tri(C)] <- r
    C[upper.tri(C)] <- t(C)[upper.tri(C)]
    E <- C * tcrossprod(sqrt(v))
  }
  U <- rowsum(Z * w, tm$outer, reorder = TRUE) %*% E
  U[abs(U) < 100 * .Machine$double.eps] <- 0
  lev.out <- tm$outer.levels
  if (is.null(lev.out)) lev.out <- (if (t == 1L) x$g.levels.f else x$h.levels.f)[[2L]]
  dimnames(U) <- list(as.character(lev.out)[sort(unique(tm$outer))], unname((if (t == 1L) x$g.names else x$h.names)[seq_len(n)]))
  U
}

# metafor's labels for repeated levels: "a.1", "a.2", ... (unique ones kept).
.mf_mv_make_unique <- function(x) {
  x <- as.character(x)
  dup <- x %in% x[duplicated(x)]
  x[dup] <- stats::ave(x[dup], x[dup], FUN = function(s) paste(s, seq_along(s), sep = "."))
  x
}

# The levels of the nested factors over all rows after 'subset' (including
# rows omitted for missing values), for the padding of ranef() under
# na.exclude / na.pass; NULL elements when the factors cannot be evaluated.
.mf_mv_levels_f <- function(x) {
  vals <- tryCatch(.mf_mv_random(x$random, x$data, x$k.all, FALSE)$values, error = function(e) NULL)
  if (is.null(vals)) return(vector("list", length(x$sigma2)))
  keep <- if (is.logical(x$subset)) x$subset else rep(TRUE, x$k.all)
  lapply(.mf_mv_level_codes(lapply(vals, function(v) v[keep]))$levels, .mf_mv_labels)
}

# ---- anova ----

#' Wald and likelihood ratio tests for models fitted by rma.mv()
#'
#' As metafor's \code{anova()} for \code{rma.mv} fits.  With one model: the
#' Wald test of the coefficients \code{btt} against \code{rhs} (chi-square,
#' or F with the fit's denominator degrees of freedom for \code{test =
#' "t"}), or of the linear combinations \code{X} (each with its z or t test,
#' the t tests with the smallest degrees of freedom of the coefficients a
#' combination involves, and the omnibus test).  With two models: the
#' likelihood ratio test of the nested fits (full and reduced), with their
#' fit statistics and QE.
#'
#' @inheritParams anova.mf_rma
#' @param object an object of class \code{mf_rma_mv}.
#' @param object2 an optional second (nested) \code{mf_rma_mv} fit.
#' @param refit with two REML fits that differ in their fixed effects,
#'   refit both with \code{method = "ML"} (via \code{update()}) for the
#'   test, as metafor.
#' @param L metafor's alias of \code{X} (it wins when both are given).
#' @param test with two models: \code{"LRT"} (default) or \code{"Wald"}
#'   (the Wald test, in the full model, of the coefficients the reduced model
#'   lacks), as metafor.
#' @param fixed \code{TRUE}: a \code{btt} string is matched literally, not
#'   as a regular expression (metafor's \code{fixed}).
#' @param df with two models: the difference in the number of parameters
#'   for the likelihood ratio test (the models are then not reordered, and
#'   only their outcomes must agree), as metafor.
#' @return An object of class \code{anova.mf_rma} (see
#'   \code{\link{anova.mf_rma}}).
#' @export
anova.mf_rma_mv <- function(object, object2, btt, X, att, Z, rhs, adjust, digits, refit = FALSE, L, test = "LRT",
                            fixed = FALSE, df, ...) {
  .mf_check_dots("anova.mf_rma_mv", ...)
  x <- object
  if (!missing(L) && !is.null(L)) X <- L  # metafor's alias (L wins)
  if (!is.logical(fixed) || length(fixed) != 1L || is.na(fixed)) .mf_stop("'fixed' must be TRUE or FALSE.")
  # fixed = TRUE: a 'btt' string is matched literally (grep(fixed = TRUE)), as metafor
  btt_of <- function(b) {
    if (!fixed || !is.character(b) || length(b) != 1L) return(b)
    idx <- grep(b, rownames(x$beta), fixed = TRUE)
    if (!length(idx)) .mf_stop(sprintf("'btt' matches no coefficient (the string \"%s\" in the names %s).", b, paste(rownames(x$beta), collapse = ", ")))
    idx
  }
  if (!missing(att)) .mf_stop("Argument 'att' is only meaningful for location-scale models (as metafor: 'Can only specify 'att' for location-scale models').")
  if (!missing(Z)) .mf_stop("Argument 'Z' is only meaningful for location-scale models (as metafor: 'Can only specify 'Z' for location-scale models').")
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  adjust <- .mf_adjust_method(if (missing(adjust)) NULL else adjust)
  rhs <- if (missing(rhs)) NULL else rhs
  if (!missing(object2) && !is.null(object2)) {
    if (!is.logical(refit) || length(refit) != 1L || is.na(refit)) .mf_stop("'refit' must be TRUE or FALSE.")
    test <- .mf_match_arg(test, c("LRT", "Wald"), "test")
    df <- if (missing(df)) NULL else df
    if (!is.null(df) && (!is.numeric(df) || length(df) != 1L || is.na(df)))
      .mf_stop("'df' must be one number (the difference in the number of parameters).")
    res <- .mf_mv_anova_lrt(x, object2, d, refit, parent.frame(), test, df)
    if (identical(res$type, "Wald.btt")) return(res)
    class(res) <- "anova.mf_rma"
    return(res)
  }
  if (missing(X) || is.null(X)) {
    if (!missing(btt) && !is.null(btt) && (is.list(btt) || (is.character(btt) && length(btt) > 1L))) {
      if (!is.null(rhs)) .mf_stop("Cannot use 'rhs' with a list 'btt' (one test per element).")
      return(.mf_anova_btt_list(btt, adjust, function(b) .mf_mv_anova_btt(x, btt_of(b), NULL, d)))
    }
    res <- .mf_mv_anova_btt(x, if (missing(btt)) NULL else btt_of(btt), rhs, d)
    if (!is.null(adjust)) res$QMp <- stats::p.adjust(res$QMp, method = adjust)
  } else {
    res <- .mf_anova_contrasts(x, X, rhs, d)
    if (x$test == "t") {
      # per combination: the smallest ddf of the coefficients it involves (metafor)
      Xm <- if (is.null(dim(X))) rbind(X) else as.matrix(X)
      if (x$int.incl && ncol(Xm) == x$p - 1L) Xm <- cbind(1, Xm)
      ddf <- unname(if (length(unique(x$ddf)) == 1L) rep(x$ddf[1L], res$m)
                    else apply(Xm != 0, 1L, function(nz) min(x$ddf[nz])))
      res$ddf <- ddf
      res$pval <- ifelse(ddf > 0, 2 * stats::pt(abs(res$zval), pmax(ddf, 1), lower.tail = FALSE), NA_real_)
      if (!is.na(res$QM)) {
        res$QMdf <- c(res$m, min(ddf))
        res$QMp <- if (res$QMdf[2] > 0) stats::pf(res$QM, res$m, res$QMdf[2], lower.tail = FALSE) else NA_real_
      }
    }
    if (!is.null(adjust)) res$pval <- stats::p.adjust(res$pval, method = adjust)
  }
  class(res) <- "anova.mf_rma"
  res
}

# Wald test of H0: b[btt] = rhs for an rma.mv fit: F tests take the fit's
# denominator df (QMdf[2]), as metafor.
.mf_mv_anova_btt <- function(x, btt, rhs, d) {
  btt <- if (is.null(btt)) x$btt else .mf_btt(btt, rownames(x$beta), x$int.incl)
  m <- length(btt)
  QM <- .mf_wald_stat(x, btt = btt, rhs = .mf_rhs(rhs, m, "coefficients tested"))
  if (x$test == "t") {
    QM <- QM / m
    QMdf <- c(m, x$QMdf[2])
    QMp <- stats::pf(QM, m, QMdf[2], lower.tail = FALSE)
  } else {
    QMdf <- c(m, NA_integer_)
    QMp <- stats::pchisq(QM, m, lower.tail = FALSE)
  }
  list(QM = QM, QMdf = QMdf, QMp = QMp, btt = btt, k = x$k, p = x$p, m = m,
       test = x$test, digits = d, type = "Wald.btt")
}

# (refit: the calls of the fits are evaluated with method = "ML" where
# anova() was called).  test = "Wald": the Wald test of the coefficients of
# the full model that the reduced one lacks (metafor).  df: the difference in
# the number of parameters (the fits are then taken in the given order and
# only their outcomes must agree, as metafor).
.mf_mv_anova_lrt <- function(a, b, d, refit, env, test = "LRT", df = NULL) {
  if (!inherits(b, "mf_rma_mv")) .mf_stop("'object2' must be a model fitted by rma.mv() (class mf_rma_mv), as 'object'.")
  f <- a; r <- b
  if (is.null(df)) {
    if (f$parms == r$parms) .mf_stop("The two models have the same number of parameters.")
    if (f$parms < r$parms) { f <- b; r <- a }
  }
  sameV <- function(p, q) {
    isTRUE(all.equal(p$yi, q$yi, tolerance = 0)) && isTRUE(all.equal(p$vi, q$vi, tolerance = 0)) &&
      identical(p$mf.spec$order, q$mf.spec$order) && identical(p$mf.spec$Vblocks, q$mf.spec$Vblocks)
  }
  if (is.null(df) && !sameV(f, r))
    .mf_stop("The observed outcomes and/or sampling variances/covariances are not equal in the full and reduced model.")
  if (!is.null(df) && !isTRUE(all.equal(f$yi, r$yi, tolerance = 0)))
    .mf_stop("The observed outcomes are not equal in the full and reduced model.")
  if (test == "Wald" && f$method != r$method)
    .mf_stop("Full and reduced model must use the same 'method' for the model fitting.")
  if (f$method != r$method)
    .mf_stop(sprintf("Mismatch between the use of %s and %s estimation in the full versus reduced model.", f$method, r$method))
  if (test == "Wald") {
    fn <- rownames(f$beta); rn <- rownames(r$beta)
    btt <- setdiff(fn, rn)
    if (!length(btt)) .mf_stop("Full and reduced models appear to contain the same moderators.")
    if (length(setdiff(rn, fn))) .mf_stop("There are coefficients in the reduced model that are not in the full model.")
    btt <- charmatch(btt, fn)
    if (anyNA(btt)) .mf_stop("Cannot identify coefficients to test.")
    res <- .mf_mv_anova_btt(f, btt, NULL, .mf_digits(NULL, f))
    class(res) <- "anova.mf_rma"
    return(res)
  }
  sameX <- identical(unname(f$X), unname(r$X))
  if (f$method == "REML" && !sameX) {
    if (refit) {
      ml <- function(m) eval(.mf_update_call(m, NULL, list(method = "ML")), env)
      f <- tryCatch(ml(f), error = function(e) .mf_stop(sprintf("Refitting the full model with ML estimation failed: %s", conditionMessage(e))))
      r <- tryCatch(ml(r), error = function(e) .mf_stop(sprintf("Refitting the reduced model with ML estimation failed: %s", conditionMessage(e))))
    } else {
      warning("REML comparisons not meaningful for models with different fixed effects\n(use 'refit=TRUE' to refit both models based on ML estimation).",
              call. = FALSE)
    }
  }
  if (!sameX && !.mf_is_nested(f$X, r$X)) warning("The models being compared appear not to be nested.", call. = FALSE)
  col <- if (f$method == "REML") "REML" else "ML"
  LRT <- max(0, r$fit.stats["dev", col] - f$fit.stats["dev", col])
  fs <- function(m) { v <- m$fit.stats[[col]]; names(v) <- rownames(m$fit.stats); v }
  parms.f <- if (is.null(df)) f$parms else f$parms + df
  pdiff <- if (is.null(df)) f$parms - r$parms else df
  list(fit.stats.f = fs(f), fit.stats.r = fs(r), parms.f = parms.f, parms.r = r$parms,
       LRT = LRT, pval = stats::pchisq(LRT, pdiff, lower.tail = FALSE),
       QE.f = f$QE, QE.r = r$QE, tau2.f = NA_real_, tau2.r = NA_real_, R2 = NA_real_,
       method = f$method, class.f = class(f), digits = d, type = "LRT")
}

# ---- update and tidiers ----

#' Update and refit a model fitted by rma.mv()
#'
#' As \code{\link{update.mf_rma}}: changes arguments in the call of the fit
#' and evaluates it again; \code{formula.} updates the moderators.
#'
#' @param object an object of class \code{mf_rma_mv}.
#' @param formula. a formula that updates the moderators.
#' @param ... arguments of \code{rma.mv()} to change.
#' @param evaluate evaluate the new call (default) or return it.
#' @return The refitted model, or the call when \code{evaluate = FALSE}.
#' @export
update.mf_rma_mv <- function(object, formula., ..., evaluate = TRUE) {
  .mf_check_dots("update.mf_rma_mv", ...)
  call <- .mf_update_call(object, if (missing(formula.)) NULL else formula., match.call(expand.dots = FALSE)$...)
  if (isTRUE(evaluate)) eval(call, parent.frame()) else call
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::tidy
tidy.mf_rma_mv <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  out <- data.frame(term = rownames(x$beta), estimate = c(x$beta), std.error = x$se,
                    statistic = x$zval, p.value = x$pval, stringsAsFactors = FALSE)
  if (isTRUE(conf.int)) {
    alpha <- .mf_level(conf.level)
    crit <- if (x$test == "t") stats::qt(alpha / 2, x$ddf, lower.tail = FALSE)
            else stats::qnorm(alpha / 2, lower.tail = FALSE)
    out$conf.low <- c(x$beta) - crit * x$se
    out$conf.high <- c(x$beta) + crit * x$se
  }
  rownames(out) <- NULL
  .mf_tibble(out)
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::glance
glance.mf_rma_mv <- function(x, ...) {
  col <- if (x$method == "REML") "REML" else "ML"
  out <- data.frame(nobs = x$k, method = x$method, QE = x$QE, QE.p = x$QEp, QM = x$QM, QM.p = x$QMp,
                    logLik = x$fit.stats["ll", col], deviance = x$fit.stats["dev", col],
                    AIC = x$fit.stats["AIC", col], BIC = x$fit.stats["BIC", col],
                    AICc = x$fit.stats["AICc", col], df.residual = x$k - x$p, stringsAsFactors = FALSE)
  for (l in seq_along(x$sigma2)) out[[paste0("sigma2.", l)]] <- x$sigma2[l]
  rownames(out) <- NULL
  .mf_tibble(out)
}

#' @rdname mf_rma-tidiers
#' @exportS3Method generics::augment
augment.mf_rma_mv <- function(x, ...) {
  # user weights A (metafor's W): Var(e) = (I - H) M (I - H)', H = X (X'AX)^-1 X'A
  wv <- if (.mf_mv_hasW(x)) .mf_mv_wresid(x)
  rd <- if (is.null(wv)) .mf_mv_rowdiag(x) else wv
  e <- rd$resid
  e[abs(e) < 100 * .Machine$double.eps] <- 0
  se <- sqrt(rd$var.resid)
  out <- data.frame(.rownames = as.character(x$slab[x$ids]), yi = x$yi, vi = x$vi,
                    .fitted = c(x$X %*% x$beta), .resid = e, .se.resid = se, .std.resid = e / se,
                    .hat = rd$hat, .weight = 100 * rd$wdiag / sum(rd$wdiag), stringsAsFactors = FALSE)
  rownames(out) <- NULL
  .mf_tibble(out)
}
