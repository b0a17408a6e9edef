# aggregate() of an escalc object (issue 12, part 4): one row per cluster,
# the estimates of a cluster pooled under an assumed (or given) sampling
# covariance matrix, with the arguments and meaning of metafor's
# aggregate.escalc().  The pooled estimate of a cluster with covariance
# matrix V_i is the generalised least squares mean
#   y_i = (1' W_i y) / (1' W_i 1),  v_i = 1 / (1' W_i 1),  W_i = V_i^-1
# (e.g. Borenstein, Hedges, Higgins & Rothstein 2009, Introduction to
# Meta-Analysis, ch. 24, for the composite of correlated outcomes), or with
# weighted = FALSE the plain mean, of variance 1' V_i 1 / k_i^2.  The work is
# done cluster by cluster: without 'V' no k x k matrix is formed.

#' Aggregate the estimates of an escalc object within clusters (as metafor)
#'
#' Pools the effect sizes of each cluster (e.g. the several outcomes of one
#' study) into one row, under an assumed correlation structure of their
#' sampling errors or a given covariance matrix \code{V}.  The arguments and
#' their meaning are those of metafor's \code{aggregate.escalc()}.
#'
#' @param x an object of \code{escalc()}.
#' @param cluster the clusters (a variable of \code{x} or a vector); no
#'   missing values.
#' @param time time points (for \code{struct} "CAR", "CS+CAR" and "CS*CAR").
#' @param obs outcomes within clusters (for \code{struct = "CS*CAR"}).
#' @param V optional sampling covariance matrix of the estimates (or a vector
#'   of variances); when given, \code{struct}, \code{rho} and \code{phi} are
#'   not used.
#' @param struct the assumed correlation structure within clusters: "ID"
#'   (independent), "CS" (compound symmetry, \code{rho}), "CAR" (continuous
#'   autoregressive, \code{phi^|t1 - t2|}), "CS+CAR" (\code{rho + (1 - rho)
#'   phi^|t1 - t2|}) or "CS*CAR" (\code{rho} between different \code{obs}
#'   times \code{phi^|t1 - t2|}).
#' @param rho correlation (one value, or one per cluster), in \eqn{[-1, 1]}.
#' @param phi autocorrelation (one value, or one per cluster), in
#'   \eqn{[0, 1]}.
#' @param weighted pool by generalised least squares (\code{TRUE}) or by the
#'   plain mean (\code{FALSE}).
#' @param checkpd stop when a cluster's covariance matrix is not positive
#'   definite (with a warning naming each such cluster).
#' @param fun optional list of three functions that aggregate the other
#'   columns: numeric, logical and other columns (default: the mean, the
#'   mean, and the most frequent value).
#' @param na.rm remove the rows with a missing estimate or covariance before
#'   pooling (first value) and the missing values of the other columns (second
#'   value; a single value serves both).
#' @param addk add a column \code{ki} with the number of rows pooled per
#'   cluster.
#' @param subset optional rows (logical or indices) to aggregate.
#' @param select optional columns to keep (names evaluated as positions,
#'   e.g. \code{select = c(study, yi, vi)}).
#' @param digits optional number(s) of decimals for printing.
#' @param var.names optional names of the estimate and variance columns.
#' @param ... disregarded.
#' @return An \code{escalc} object with one row per cluster.
#' @examples
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   dat <- escalc(yi = yi, vi = vi, data = metadat::dat.assink2016)
#'   head(aggregate(dat, cluster = study, rho = 0.6))
#' }
#' @importFrom stats aggregate
#' @export
aggregate.mf_escalc <- function(x, cluster, time, obs, V, struct = "CS", rho, phi, weighted = TRUE,
                                checkpd = TRUE, fun, na.rm = TRUE, addk = FALSE, subset, select, digits,
                                var.names, ...) {
  .mf_check_dots("aggregate.mf_escalc", ...)
  if (!is.character(struct) || length(struct) != 1L || !struct %in% c("ID", "CS", "CAR", "CS+CAR", "CS*CAR"))
    .mf_stop("Unknown 'struct' specified: use \"ID\", \"CS\", \"CAR\", \"CS+CAR\" or \"CS*CAR\".")
  if (missing(cluster)) .mf_stop("Must specify the 'cluster' variable.")
  for (nm in c("weighted", "checkpd", "addk")) {
    val <- get(nm)
    if (!is.logical(val) || length(val) != 1L || is.na(val)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  if (!is.logical(na.rm) || !length(na.rm) || length(na.rm) > 2L || anyNA(na.rm))
    .mf_stop("'na.rm' must be TRUE or FALSE (or two such values).")
  na.rm <- rep_len(na.rm, 2L)
  xd <- x
  class(xd) <- "data.frame"
  k <- nrow(xd)
  mf <- match.call()
  env <- parent.frame()
  getx <- function(nm) {
    if (!nm %in% names(mf)) return(NULL)
    out <- tryCatch(eval(mf[[nm]], xd, env), error = function(e) e)
    if (inherits(out, "error") || is.function(out))
      .mf_stop(sprintf("Cannot find the object/variable ('%s') specified for the '%s' argument.",
                       deparse1(mf[[nm]]), nm))
    out
  }
  Vg <- getx("V")
  cluster <- getx("cluster")
  time <- getx("time")
  obs <- getx("obs")
  subset <- getx("subset")
  if (is.factor(cluster)) cluster <- as.character(cluster)
  if (length(cluster) != k)
    .mf_stop(sprintf("Length of the variable specified via 'cluster' (%d) does not match the length of the data (%d).",
                     length(cluster), k))
  if (anyNA(cluster)) .mf_stop(sprintf("No missing values allowed in 'cluster' variable (rows %s).",
                                       .mf_vc_rows(is.na(cluster))))
  ucluster <- unique(cluster)
  n <- length(ucluster)
  cid <- match(cluster, ucluster)

  if (missing(var.names)) {
    yi.name <- attr(x, "yi.names")[1L]
    if (is.null(yi.name)) {
      if (!"yi" %in% names(xd)) .mf_stop("Cannot determine the name of the 'yi' variable.")
      yi.name <- "yi"
    }
    vi.name <- attr(x, "vi.names")[1L]
    if (is.null(vi.name)) {
      if (!"vi" %in% names(xd)) .mf_stop("Cannot determine the name of the 'vi' variable.")
      vi.name <- "vi"
    }
  } else {
    if (!is.character(var.names) || length(var.names) != 2L) .mf_stop("Argument 'var.names' must be of length 2.")
    yi.name <- var.names[1L]
    vi.name <- var.names[2L]
  }
  yi <- xd[[yi.name]]
  vi <- xd[[vi.name]]
  if (is.null(yi)) .mf_stop(sprintf("Cannot find variable '%s' in the data frame.", yi.name))
  if (is.null(vi)) .mf_stop(sprintf("Cannot find variable '%s' in the data frame.", vi.name))
  if (!is.numeric(yi)) .mf_stop(sprintf("Variable '%s' is not numeric.", yi.name))
  if (!is.numeric(vi)) .mf_stop(sprintf("Variable '%s' is not numeric.", vi.name))
  yi <- as.vector(yi)
  vi <- as.vector(vi)

  # the covariance block of rows r (all in cluster c of the full data)
  na_cross <- NULL
  if (is.null(Vg)) {
    per_cluster <- function(v, nm, lo) {
      if (!is.numeric(v) || anyNA(v)) .mf_stop(sprintf("'%s' must be numeric without missing values.", nm))
      if (length(v) == 1L) v <- rep(v, n)
      if (length(v) != n)
        .mf_stop(sprintf("Length of '%s' (%d) does not match the number of clusters (%d).", nm, length(v), n))
      if (any(v > 1) || any(v < lo)) .mf_stop(sprintf("Value(s) of '%s' must be in [%d,1].", nm, lo))
      v
    }
    if (struct %in% c("CS", "CS+CAR", "CS*CAR")) {
      if (missing(rho)) .mf_stop("Must specify 'rho' for this var-cov structure.")
      rho <- per_cluster(rho, "rho", -1L)
    }
    if (struct %in% c("CAR", "CS+CAR", "CS*CAR")) {
      if (missing(phi)) .mf_stop("Must specify 'phi' for this var-cov structure.")
      phi <- per_cluster(phi, "phi", 0L)
      if (!"time" %in% names(mf)) .mf_stop("Must specify a 'time' variable for this var-cov structure.")
      if (length(time) != k)
        .mf_stop(sprintf("Length of the variable specified via 'time' (%d) does not match the length of the data (%d).",
                         length(time), k))
      if (struct == "CS*CAR") {
        if (!"obs" %in% names(mf)) .mf_stop("Must specify an 'obs' variable for this var-cov structure.")
        if (length(obs) != k)
          .mf_stop(sprintf("Length of the variable specified via 'obs' (%d) does not match the length of the data (%d).",
                           length(obs), k))
      }
    }
    s <- sqrt(vi)
    block <- function(r, c) {
      m <- length(r)
      car <- function() phi[c]^abs(outer(time[r], time[r], "-"))
      R <- switch(struct,
                  ID = diag(1, m),
                  CS = matrix(rho[c], m, m),
                  CAR = car(),
                  "CS+CAR" = rho[c] + (1 - rho[c]) * car(),
                  "CS*CAR" = ifelse(outer(obs[r], obs[r], "=="), 1, rho[c]) * car())
      diag(R) <- 1
      R * outer(s[r], s[r])
    }
    dense <- NULL
  } else {
    if (inherits(Vg, "Matrix") && !inherits(Vg, "sparseMatrix")) Vg <- as.matrix(Vg)
    if (inherits(Vg, "sparseMatrix")) {
      # a sparse V: its stored entries and blocks only, never the dense matrix
      if (nrow(Vg) != ncol(Vg)) .mf_stop("'V' must be a square matrix.")
      if (!Matrix::isSymmetric(Vg)) .mf_stop("'V' must be a symmetric matrix.")
      if (nrow(Vg) != k)
        .mf_stop(sprintf("Dimensions of 'V' (%dx%d) do not match the length of the data frame (%d).",
                         nrow(Vg), ncol(Vg), k))
      tr <- Matrix::mat2triplet(Vg)
      tx <- if (is.null(tr$x)) rep(1, length(tr$i)) else as.double(tr$x)
      off <- tr$i != tr$j
      ti <- c(tr$i, tr$j[off]); tj <- c(tr$j, tr$i[off]); tx <- c(tx, tx[off])
      across <- cid[ti] != cid[tj]
      .mf_ag_cross(cid[ti[across & !is.na(tx) & abs(tx) >= .Machine$double.eps]], ucluster)
      na_cross <- cbind(ti, tj)[across & is.na(tx), , drop = FALSE]
      vdg <- Matrix::diag(Vg)
      block <- function(r, c) {
        b <- as.matrix(Vg[r, r, drop = FALSE])
        dimnames(b) <- NULL
        b
      }
      dense <- NULL
    } else if (is.atomic(Vg) && !is.matrix(Vg)) {
      if (length(Vg) == 1L) Vg <- rep(Vg, k)
      if (length(Vg) != k)
        .mf_stop(sprintf("Length of 'V' (%d) does not match the length of the data frame (%d).", length(Vg), k))
      vdiag <- as.vector(Vg)
      block <- function(r, c) diag(vdiag[r], nrow = length(r))
      dense <- NULL
    } else {
      if (is.data.frame(Vg)) Vg <- as.matrix(Vg)
      dimnames(Vg) <- NULL
      if (!is.matrix(Vg) || nrow(Vg) != ncol(Vg)) .mf_stop("'V' must be a square matrix.")
      if (!isSymmetric(Vg)) .mf_stop("'V' must be a symmetric matrix.")
      if (nrow(Vg) != k)
        .mf_stop(sprintf("Dimensions of 'V' (%dx%d) do not match the length of the data frame (%d).",
                         nrow(Vg), ncol(Vg), k))
      nz <- which(abs(Vg) >= .Machine$double.eps, arr.ind = TRUE)
      .mf_ag_cross(cid[nz[cid[nz[, 1L]] != cid[nz[, 2L]], 1L]], ucluster)
      block <- function(r, c) Vg[r, r, drop = FALSE]
      dense <- Vg
    }
  }

  keep <- rep(TRUE, k)
  if (!is.null(subset)) {
    keep <- .mf_ag_subset(subset, k)
    if (!any(keep)) .mf_stop("Processing terminated since k == 0 after 'subset'.")
  }
  if (na.rm[1L]) {
    bad <- is.na(yi)
    if (!is.null(dense)) {
      Vs <- dense[keep, keep, drop = FALSE]
      nd <- is.na(diag(Vs))
      bad[keep] <- bad[keep] | nd | rowSums(is.na(Vs[, !nd, drop = FALSE])) > 0
    } else {
      for (r in split(which(keep), cid[keep])) {
        Vb <- block(r, cid[r[1L]])
        nd <- is.na(diag(Vb))
        bad[r] <- bad[r] | nd | rowSums(is.na(Vb[, !nd, drop = FALSE])) > 0
      }
      # missing covariances with other clusters (sparse V)
      if (length(na_cross)) {
        hit <- keep[na_cross[, 1L]] & keep[na_cross[, 2L]] & !is.na(vdg[na_cross[, 2L]])
        bad[na_cross[hit, 1L]] <- TRUE
      }
    }
    keep <- keep & !bad
    if (!any(keep)) .mf_stop("Processing terminated since k == 0 (all rows have missing estimates or variances).")
  }

  rows <- which(keep)
  ucl <- unique(cluster[rows])
  groups <- split(rows, factor(cluster[rows], levels = ucl))
  m <- length(groups)
  yi.agg <- vi.agg <- rep(NA_real_, m)
  notpd <- FALSE
  noinv <- NULL
  for (g in seq_len(m)) {
    r <- groups[[g]]
    Vi <- block(r, cid[r[1L]])
    if (checkpd && !anyNA(Vi) && !.mf_is_pd(Vi)) {
      notpd <- TRUE
      warning(sprintf("'V' appears to be not positive definite in cluster %s.", ucl[g]), call. = FALSE)
      next
    }
    if (notpd || !is.null(noinv)) next
    if (weighted) {
      Wi <- tryCatch(chol2inv(chol(Vi)), error = function(e) NULL)
      if (is.null(Wi)) {
        noinv <- ucl[g]
        next
      }
      sw <- sum(Wi)
      yi.agg[g] <- sum(Wi %*% yi[r]) / sw
      vi.agg[g] <- 1 / sw
    } else {
      yi.agg[g] <- sum(yi[r]) / length(r)
      vi.agg[g] <- sum(Vi) / length(r)^2
    }
  }
  if (notpd) .mf_stop("Cannot aggregate estimates with a non-positive-definite 'V' matrix.")
  if (!is.null(noinv)) .mf_stop(sprintf("Cannot take inverse of 'V' in cluster %s.", noinv))

  # the other columns: numeric and logical by their mean, others by the most
  # frequent value (or the user's three functions)
  if (!missing(fun)) {
    if (!is.list(fun) || length(fun) != 3L || !all(vapply(fun, is.function, logical(1))))
      .mf_stop("Argument 'fun' must be a list of functions of length 3.")
  } else {
    avg <- function(z) {
      mu <- mean(z, na.rm = na.rm[2L])
      if (is.nan(mu)) NA_real_ else mu
    }
    mode <- function(z) {
      tab <- if (na.rm[2L]) table(stats::na.omit(z)) else table(z, useNA = "ifany")
      val <- utils::tail(names(sort(tab)), 1L)
      if (is.null(val)) NA_integer_ else val
    }
    fun <- list(avg, avg, mode)
  }
  xk <- xd[rows, , drop = FALSE]
  fcl <- factor(cluster[rows], levels = ucl)
  cols <- lapply(xk, function(col) {
    f <- if (inherits(col, c("numeric", "integer"))) fun[[1L]] else if (inherits(col, "logical")) fun[[2L]] else fun[[3L]]
    do.call(c, unname(lapply(split(col, fcl), f)))
  })
  names(cols) <- make.names(names(xd), unique = TRUE)  # as metafor, which builds the rows with as.data.frame()
  xagg <- as.data.frame(cols, stringsAsFactors = FALSE, optional = TRUE)
  for (j in which(vapply(xd, is.factor, logical(1)))) xagg[[j]] <- factor(xagg[[j]])
  xagg[which(names(xagg) == yi.name)] <- yi.agg
  xagg[which(names(xagg) == vi.name)] <- vi.agg
  if (addk) xagg$ki <- as.vector(lengths(groups))
  measure <- attr(xd[[yi.name]], "measure")
  if (yi.name %in% names(xagg)) attr(xagg[[yi.name]], "measure") <- if (is.null(measure)) "GEN" else measure
  attr(xagg, "yi.names") <- yi.name
  attr(xagg, "vi.names") <- vi.name
  dig <- attr(x, "digits")
  if (!missing(digits)) {
    if (is.null(names(digits))) {
      dig <- .esc_default_digits(digits[[1L]])
    } else {
      if (is.null(dig)) dig <- .esc_default_digits()
      pos <- pmatch(names(digits), names(dig))
      dig[pos[!is.na(pos)]] <- unlist(digits)[!is.na(pos)]
    }
    if (!is.na(dig["pval"]) && dig["pval"] <= 1) dig["pval"] <- 2
  }
  attr(xagg, "digits") <- if (is.null(dig)) .esc_default_digits() else dig
  class(xagg) <- c("mf_escalc", "data.frame")
  if (!missing(select)) {
    nl <- as.list(seq_along(xd))
    names(nl) <- names(xd)
    sel <- eval(substitute(select), nl, env)
    xagg <- xagg[, sel, drop = FALSE]
  }
  rownames(xagg) <- NULL
  xagg
}

# metafor's warning for the clusters (indices into ucluster, repeated) whose
# estimates have non-zero covariances with other clusters'.
.mf_ag_cross <- function(cl, ucluster) {
  for (cc in sort(unique(cl)))
    warning(sprintf("Estimates in cluster '%s' appear to have non-zero covariances with estimates belonging to different clusters.",
                    ucluster[cc]), call. = FALSE)
}

# 'subset' as a logical vector over the k rows (logical, or positive or
# negative row numbers, as metafor).
.mf_ag_subset <- function(subset, k) {
  if (!length(subset)) .mf_stop("Argument 'subset' is of length 0.")
  if (is.character(subset)) .mf_stop("Argument 'subset' is not a logical or numeric vector.")
  if (is.logical(subset)) {
    if (length(subset) != k) .mf_stop(sprintf("Length of the 'subset' argument (%d) is not of length k = %d.",
                                              length(subset), k))
    subset[is.na(subset)] <- FALSE
    return(subset)
  }
  s <- as.integer(round(subset[!is.na(subset)]))
  s <- s[s != 0L]
  if (any(s > 0L) && any(s < 0L)) .mf_stop("Cannot mix positive and negative values in 'subset' argument.")
  if (any(abs(s) > k)) .mf_stop(sprintf("Argument 'subset' includes values larger than k = %d.", k))
  if (all(s > 0L)) seq_len(k) %in% s else !seq_len(k) %in% abs(s)
}
