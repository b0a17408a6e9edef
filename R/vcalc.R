# vcalc(): the sampling variance-covariance matrix of dependent effect sizes
# (issue 12, part 4), with the arguments and meaning of metafor's vcalc().
#
# The covariance of two estimates in one cluster is a product of three
# correlations:
#  - between the constructs ('type') or the outcomes ('obs') they measure
#    (rho);
#  - between the time points at which they were measured, phi^|t1 - t2|, a
#    continuous-time autoregressive decay (time1, time2, phi);
#  - of the group contrasts they are built from: estimates that share a group
#    (e.g. several treatments against one control) are correlated through the
#    sampling error of that group, weighted by its inverse size (grp1, grp2,
#    w1, w2; Gleser & Olkin, 2009, "Stochastically dependent effect sizes",
#    in The Handbook of Research Synthesis and Meta-Analysis, 2nd ed.,
#    pp. 357-376).
# V = S R S with S = diag(sqrt(vi)).  The work is done cluster by cluster;
# nothing but the requested k x k matrix (dense) or its non-zero blocks
# (sparse = TRUE) is ever formed.

#' Sampling covariance matrix of dependent effect sizes (as metafor's vcalc)
#'
#' Builds the variance-covariance matrix of the sampling errors of effect
#' sizes that are dependent within clusters (studies), under assumed
#' correlations, for \code{rma.mv(V = )}.  The arguments and their meaning
#' are those of \code{metafor::vcalc()}.
#'
#' Within a cluster, two estimates are correlated through (1) the correlation
#' \code{rho} between the outcomes (\code{obs}) or constructs (\code{type})
#' they measure, (2) \code{phi^|t1 - t2|} between time points (\code{time1},
#' \code{time2}), and (3) the groups they share (\code{grp1}, \code{grp2},
#' weighted by the inverse group sizes \code{w1}, \code{w2}; Gleser & Olkin
#' 2009).  Estimates in different clusters are independent.
#'
#' @param vi sampling variances (a variable of \code{data} or a vector; a
#'   single value is recycled).
#' @param cluster the clusters (studies); no missing values.
#' @param subgroup optional subgroups within clusters (independent of one
#'   another: the clusters become \code{cluster}.\code{subgroup}).
#' @param obs optional outcomes within clusters; with \code{rho} a scalar (the
#'   correlation of different outcomes) or a named matrix over the values of
#'   \code{obs}.
#' @param type optional constructs within clusters; with \code{rho} (the
#'   correlation of different constructs; with both \code{type} and
#'   \code{obs}, \code{rho = c(within, between)} or a list of two scalars or
#'   matrices).
#' @param time1,time2 optional time points of the (first and second) group;
#'   need \code{phi}.
#' @param grp1,grp2 optional group identifiers of the two groups an estimate
#'   contrasts (defaults 1 and 2).
#' @param w1,w2 optional group sizes (or other weights) of the two groups.
#' @param data optional data frame in which the variables are evaluated.
#' @param rho correlation(s), see \code{obs} and \code{type}; in \eqn{[-1, 1]}.
#' @param phi autocorrelation of estimates one time unit apart, in
#'   \eqn{[-1, 1]}.
#' @param rvars instead of the arguments above, the columns of \code{data}
#'   that hold each cluster's correlation matrix (its lower triangle is used;
#'   e.g. \code{rvars = c(v1i, v2i)} or \code{rvars = v1i:v4i}).  The blocks
#'   are placed at the rows of their cluster (metafor stacks them in the
#'   order of the clusters, which differs when a cluster's rows are not
#'   contiguous).
#' @param checkpd check that each cluster's correlation matrix is positive
#'   definite (a warning names the cluster when it is not).
#' @param nearpd replace a cluster's correlation matrix that is not positive
#'   definite by the nearest one (\code{Matrix::nearPD(corr = TRUE)}).
#' @param sparse return a sparse \code{Matrix} (needs the Matrix package).
#' @param ... \code{nearPD = TRUE} as a synonym of \code{nearpd} (as metafor);
#'   other arguments are disregarded with a warning.
#' @return The k x k variance-covariance matrix (a \code{dgCMatrix} with
#'   \code{sparse = TRUE}).
#' @references Gleser, L. J., & Olkin, I. (2009). Stochastically dependent
#'   effect sizes. In H. Cooper, L. V. Hedges, & J. C. Valentine (Eds.), The
#'   handbook of research synthesis and meta-analysis (2nd ed., pp. 357-376).
#' @examples
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   dat <- metadat::dat.assink2016
#'   V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
#'   V[1:3, 1:3]
#' }
#' @export
vcalc <- function(vi, cluster, subgroup, obs, type, time1, time2, grp1, grp2, w1, w2, data, rho, phi,
                  rvars, checkpd = TRUE, nearpd = FALSE, sparse = FALSE, ...) {
  .mf_check_dots("vcalc", ...)
  if (missing(vi)) .mf_stop("Must specify the 'vi' variable.")
  if (missing(cluster)) .mf_stop("Must specify the 'cluster' variable.")
  if (isTRUE(list(...)$nearPD)) nearpd <- TRUE
  for (nm in c("checkpd", "nearpd", "sparse")) {
    val <- get(nm)
    if (!is.logical(val) || length(val) != 1L || is.na(val)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  if ((sparse || nearpd) && !requireNamespace("Matrix", quietly = TRUE))
    .mf_stop(sprintf("'%s = TRUE' needs the Matrix package; install it or leave '%s' FALSE.",
                     if (sparse) "sparse" else "nearpd", if (sparse) "sparse" else "nearpd"))
  if (missing(data)) data <- NULL
  if (is.null(data) && !missing(rvars)) .mf_stop("Must specify the 'data' argument when using 'rvars'.")
  if (!is.null(data)) data <- .mf_as_data_frame(data)
  mf <- match.call()
  env <- parent.frame()
  spec <- function(nm) nm %in% names(mf)
  getx <- function(nm, numeric = FALSE) {
    if (!spec(nm)) return(NULL)
    out <- tryCatch(eval(mf[[nm]], data, env), error = function(e) e)
    if (inherits(out, "error") || is.function(out))
      .mf_stop(sprintf("Cannot find the object/variable ('%s') specified for the '%s' argument.",
                       deparse1(mf[[nm]]), nm))
    if (is.null(out)) .mf_stop(sprintf("The object/variable ('%s') specified for the '%s' argument is NULL.",
                                       deparse1(mf[[nm]]), nm))
    if (numeric && !is.numeric(out))
      .mf_stop(sprintf("The object/variable specified for the '%s' argument is not numeric.", nm))
    if (is.factor(out)) as.character(out) else as.vector(out)
  }
  vi <- getx("vi", numeric = TRUE)
  cluster <- getx("cluster")
  if (length(vi) == 1L && length(cluster) > 1L) vi <- rep(vi, length(cluster))
  k <- length(vi)
  if (k == 1L) .mf_stop("Processing terminated since k = 1.")
  chk <- function(x, nm) {
    if (length(x) != k)
      .mf_stop(sprintf("Length of the variable specified via '%s' (%d) does not match the length of 'vi' (%d).",
                       nm, length(x), k))
    if (anyNA(x)) .mf_stop(sprintf("No missing values allowed in '%s' variable (rows %s).", nm, .mf_vc_rows(is.na(x))))
    x
  }
  cluster <- chk(cluster, "cluster")
  if (spec("subgroup")) cluster <- paste0(cluster, ".", chk(getx("subgroup"), "subgroup"))
  ucluster <- unique(cluster)
  idx <- split(seq_len(k), factor(cluster, levels = ucluster))

  # every within-cluster pair (row a, column b), cluster by cluster in
  # column-major order of the cluster's block; pos = position in the cluster
  ni <- lengths(idx)
  pa <- unlist(lapply(idx, function(i) rep(i, length(i))), use.names = FALSE)
  pb <- unlist(lapply(idx, function(i) rep(i, each = length(i))), use.names = FALSE)
  pos <- integer(k)
  pos[unlist(idx, use.names = FALSE)] <- sequence(ni)
  # the lower triangle defines the matrix (as metafor, whose formula is
  # evaluated for the later row against the earlier column)
  lo <- ifelse(pos[pa] >= pos[pb], pa, pb)
  hi <- ifelse(pos[pa] >= pos[pb], pb, pa)
  if (missing(rvars)) {
    a <- .mf_vc_setup(getx, spec, chk, k, if (missing(rho)) NULL else rho, if (missing(phi)) NULL else phi)
    r <- .mf_vc_pairs(lo, hi, a)
    # the diagonal is the formula's (1, or NaN for a contrast of zero
    # variance), but for each cluster's first row, which metafor leaves at 1
    r[pa == pb & pos[pa] == 1L] <- 1
  } else {
    given <- c("type", "obs", "grp1", "grp2", "time1", "time2", "w1", "w2", "rho", "phi")
    given <- given[vapply(given, spec, logical(1))]
    if (length(given))
      warning(sprintf("Argument%s '%s' ignored for when 'rvars' is specified.", if (length(given) > 1L) "s" else "",
                      paste0(given, collapse = ",")), call. = FALSE)
    rv <- as.matrix(.mf_vc_rvars(substitute(rvars), data, idx))
    # element (p, q), p >= q, of a cluster's matrix is column q of its row p
    r <- as.vector(rv[cbind(lo, pos[hi])])
    gcl <- rep(seq_along(idx), ni * ni)
    for (g in unique(gcl[is.na(r)]))
      warning(sprintf("There are missing values in 'rvals' for cluster %s.", ucluster[g]), call. = FALSE)
  }
  if (checkpd || nearpd) {
    off <- c(0L, cumsum(ni * ni))
    cand <- if (missing(rvars)) which(ni > 1L) else seq_along(idx)
    # clusters of two rows: the smaller eigenvalue in closed form
    two <- cand[ni[cand] == 2L]
    if (length(two)) {
      r11 <- r[off[two] + 1L]; r21 <- r[off[two] + 2L]; r22 <- r[off[two] + 4L]
      lmin <- (r11 + r22) / 2 - sqrt(((r11 - r22) / 2)^2 + r21^2)
      cand <- setdiff(cand, two[!is.na(lmin) & lmin > .Machine$double.eps * 4])
    }
    for (g in cand) {
      seg <- off[g] + seq_len(ni[g] * ni[g])
      Rc <- matrix(r[seg], ni[g], ni[g])
      Rn <- .mf_vc_pd(Rc, ucluster[g], nearpd)
      if (!identical(Rn, Rc)) r[seg] <- as.vector(Rn)
    }
  }
  s <- sqrt(as.vector(vi))
  x <- r * (s[pa] * s[pb])
  if (sparse) return(Matrix::sparseMatrix(i = pa, j = pb, x = x, dims = c(k, k)))
  V <- matrix(0, k, k)
  V[cbind(pa, pb)] <- x
  # an undefined standard deviation leaves its whole row and column
  # undefined, as in metafor's dense product S %*% R %*% S
  bad <- which(is.na(s))
  if (length(bad)) {
    V[bad, ] <- s[bad] * 0
    V[, bad] <- rep(s[bad] * 0, each = k)
  }
  V
}

# "1, 4, 7" (the first few rows of a logical vector).
.mf_vc_rows <- function(lgl) {
  r <- which(lgl)
  paste0(paste(utils::head(r, 10L), collapse = ", "), if (length(r) > 10L) ", ..." else "")
}

# The variables and correlations of vcalc() without 'rvars', checked and
# normalised as metafor does (defaults: one construct, one outcome, groups 1
# and 2, one time point, unit weights).
.mf_vc_setup <- function(getx, spec, chk, k, rho, phi) {
  type <- if (spec("type")) {
    if (is.null(rho)) .mf_stop("Must specify 'rho' when 'type' is specified.")
    chk(getx("type"), "type")
  } else rep(1, k)
  obs <- if (spec("obs")) {
    if (is.null(rho)) .mf_stop("Must specify 'rho' when 'obs' is specified.")
    chk(getx("obs"), "obs")
  } else rep(1, k)
  if (spec("grp2") && !spec("grp1")) .mf_stop("Either specify only 'grp1', both 'grp1' and 'grp2', or neither.")
  grp1 <- if (spec("grp1")) chk(getx("grp1"), "grp1") else rep(1, k)
  grp2 <- if (spec("grp2")) chk(getx("grp2"), "grp2") else rep(2, k)
  if (spec("time2") && !spec("time1")) .mf_stop("Either specify only 'time1', both 'time1' and 'time2', or neither.")
  if (spec("time2") && !spec("grp2")) .mf_stop("Must specify 'grp2' when 'time2' is specified.")
  time1 <- if (spec("time1")) chk(getx("time1", TRUE), "time1") else rep(1, k)
  time2 <- if (spec("time2")) chk(getx("time2", TRUE), "time2") else time1
  if (spec("time1")) {
    if (is.null(phi)) .mf_stop("Must specify 'phi' when 'time1' and/or 'time2' is specified.")
    if (!is.numeric(phi) || length(phi) != 1L || is.na(phi) || abs(phi) > 1)
      .mf_stop("Value of argument 'phi' must be a single number in [-1,1].")
  } else phi <- 1
  if (spec("w2") && !spec("w1")) .mf_stop("Either specify only 'w1', both 'w1' and 'w2', or neither.")
  if (spec("w2") && !spec("grp2")) .mf_stop("Must specify 'grp2' when 'w2' is specified.")
  w1 <- if (spec("w1")) chk(getx("w1", TRUE), "w1") else rep(1, k)
  w2 <- if (spec("w2")) chk(getx("w2", TRUE), "w2") else w1
  # groups are compared as numbers when both are numeric, else as text (as
  # R's == does)
  if (!(is.numeric(grp1) && is.numeric(grp2))) {
    grp1 <- as.character(grp1)
    grp2 <- as.character(grp2)
  }

  # rho: list(correlations among outcomes, correlations among constructs)
  if (!is.null(rho) && !(is.list(rho) || is.matrix(rho) || (is.atomic(rho) && !is.null(rho))))
    .mf_stop("Argument 'rho' must either be a vector, a matrix, or a list.")
  isvec <- is.atomic(rho) && !is.matrix(rho)
  two <- "When 'type' and 'obs' are both specified, 'rho' must specify both the within- and between-construct correlations."
  rho <- if (spec("type") && spec("obs")) {
    if (isvec) {
      if (length(rho) != 2L) .mf_stop(two)
      as.list(rho)
    } else if (is.matrix(rho)) .mf_stop(two) else {
      if (length(rho) != 2L) .mf_stop("When 'type' and 'obs' are both specified and 'rho' is a list, then it must have two elements.")
      rho
    }
  } else if (spec("type")) {
    if (isvec && length(rho) != 1L) .mf_stop("When only 'type' is specified, 'rho' must be a scalar.")
    if (is.list(rho) && length(rho) != 1L) .mf_stop("When only 'type' is specified, 'rho' must have a single list element.")
    list(0, if (is.list(rho)) rho[[1L]] else rho)
  } else if (spec("obs")) {
    if (isvec && length(rho) != 1L) .mf_stop("When only 'obs' is specified, 'rho' must be a scalar.")
    if (is.list(rho) && length(rho) != 1L) .mf_stop("When only 'obs' is specified, 'rho' must have a single list element.")
    list(if (is.list(rho)) rho[[1L]] else rho, 0)
  } else list(0, 0)
  obs <- as.character(obs)
  type <- as.character(type)
  rho <- Map(function(r, lev, nm) {
    if (!is.numeric(r) && !is.logical(r)) .mf_stop(sprintf("'rho' (%s) must be numeric.", nm))
    if (length(r) == 1L && !is.matrix(r)) {
      u <- unique(lev)
      r <- matrix(r, length(u), length(u), dimnames = list(u, u))
      diag(r) <- 1
    }
    r <- as.matrix(r)
    if (nrow(r) != ncol(r)) .mf_stop("All matrices specified via 'rho' argument must be square matrices.")
    if (anyNA(r) || any(abs(r) > 1))
      .mf_stop(sprintf("All correlations specified via 'rho' must be in [-1,1] (the %s correlations).", nm))
    if (is.null(dimnames(r))) .mf_stop("Any matrices specified via 'rho' must have dimension names.")
    if (is.null(rownames(r))) rownames(r) <- colnames(r)
    if (is.null(colnames(r))) colnames(r) <- rownames(r)
    miss <- setdiff(unique(lev), rownames(r))
    if (length(miss))
      .mf_stop(sprintf("There are '%s' values with no corresponding row/column in the correlation matrix 'rho' (%s).",
                       nm, paste(utils::head(miss, 10L), collapse = ", ")))
    r
  }, rho, list(obs, type), c("obs", "type"))
  list(type = type, obs = obs, grp1 = grp1, grp2 = grp2, time1 = time1, time2 = time2, iw1 = 1 / w1, iw2 = 1 / w2,
       rho = rho, phi = phi)
}

# The correlations of the pairs of rows (a, b) of one cluster each, without
# 'rvars': outcomes/constructs (rho) times the correlation of the group
# contrasts (shared groups, time points; Gleser & Olkin 2009).
.mf_vc_pairs <- function(a, b, p) {
  # phi^|t - u| (1 at equal times), zero where the groups differ
  link <- function(ga, gb, ta, tb) {
    out <- p$phi^abs(ta - tb)
    out[ta == tb] <- 1
    out[ga != gb] <- 0
    out
  }
  # groups, outcomes and constructs as integer codes (equal codes, equal
  # values)
  gg <- c(p$grp1, p$grp2)
  gg <- match(gg, gg)
  k <- length(p$iw1)
  g1 <- gg[seq_len(k)]; g2 <- gg[k + seq_len(k)]
  t1 <- p$time1; t2 <- p$time2; iw1 <- p$iw1; iw2 <- p$iw2
  num <- link(g1[a], g1[b], t1[a], t1[b]) * sqrt(iw1[a] * iw1[b]) -
    link(g1[a], g2[b], t1[a], t2[b]) * sqrt(iw1[a] * iw2[b]) -
    link(g2[a], g1[b], t2[a], t1[b]) * sqrt(iw2[a] * iw1[b]) +
    link(g2[a], g2[b], t2[a], t2[b]) * sqrt(iw2[a] * iw2[b])
  den <- sqrt(iw1 + iw2 - 2 * link(g1, g2, t1, t2) * sqrt(iw1 * iw2))
  r1 <- p$rho[[1L]]
  r2 <- p$rho[[2L]]
  ob <- match(p$obs, p$obs); ty <- match(p$type, p$type)
  cc <- r2[cbind(match(p$type, rownames(r2))[a], match(p$type, colnames(r2))[b])]
  same <- ty[a] == ty[b]
  sameob <- same & ob[a] == ob[b]
  diffob <- same & !sameob
  cc[sameob] <- 1
  cc[diffob] <- r1[cbind(match(p$obs, rownames(r1))[a[diffob]], match(p$obs, colnames(r1))[b[diffob]])]
  cc * num / (den[a] * den[b])
}

# The columns of data named by 'rvars' (evaluated with the column names
# standing for their positions, so that c(a, b) and a:d select columns).
.mf_vc_rvars <- function(expr, data, idx) {
  nl <- as.list(seq_along(data))
  names(nl) <- names(data)
  pos <- tryCatch(eval(expr, nl, baseenv()), error = function(e) e)
  if (inherits(pos, "error")) .mf_stop("Could not find all variables specified via 'rvars' in 'data'.")
  if (grepl(":", deparse1(expr), fixed = TRUE) && length(pos) == 2L) pos <- seq(from = pos[1L], to = pos[2L])
  rv <- tryCatch(data[pos], error = function(e) .mf_stop("Could not find all variables specified via 'rvars' in 'data'."))
  nmax <- max(lengths(idx))
  nv <- length(rv)
  what <- if (nv == 1L) "is 1 variable " else sprintf("are %d variables ", nv)
  if (nmax > nv) .mf_stop(sprintf("There %sspecified via 'rvars', but there are clusters with more rows.", what))
  if (nmax != nv) .mf_stop(sprintf("There %sspecified via 'rvars', but no cluster with this many rows.", what))
  rv
}

# Positive definiteness of a cluster's correlation matrix (all eigenvalues
# above machine epsilon, as metafor), with metafor's warnings; nearpd
# replaces it by the nearest correlation matrix (Higham 2002, IMA J Numer
# Anal 22:329-343, via Matrix::nearPD).
.mf_vc_pd <- function(Rc, cl, nearpd) {
  if (anyNA(Rc) || .mf_is_pd(Rc)) return(Rc)
  if (!nearpd) {
    warning(sprintf("The var-cov matrix appears to be not positive definite in cluster %s.", cl), call. = FALSE)
    return(Rc)
  }
  Rn <- tryCatch(as.matrix(Matrix::nearPD(Rc, corr = TRUE)$mat), error = function(e) NULL)
  if (is.null(Rn)) {
    warning(sprintf("Using nearPD() failed in cluster %s.", cl), call. = FALSE)
    return(Rc)
  }
  dimnames(Rn) <- NULL
  if (!anyNA(Rn) && !.mf_is_pd(Rn))
    warning(sprintf("The var-cov matrix still appears to be not positive definite in cluster %s even after nearPD().",
                    cl), call. = FALSE)
  Rn
}

.mf_is_pd <- function(x, tol = .Machine$double.eps) {
  all(eigen(x, symmetric = TRUE, only.values = TRUE)$values > tol)
}
