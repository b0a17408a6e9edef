# Wald statistics of fits, exact also on nearly collinear designs (issue 18).
#
# A fit of a design that the core fits in orthonormal coordinates (DESIGN.md,
# "Ill-conditioned designs": X D P = Q R) carries mf.wald: its coefficients b
# and covariance vb in those coordinates, R P' (RPt) and D.  Its beta = T b
# and vb = T vb T' hold a Wald statistic only to about cond(X)^2 eps (the
# rounding of a nearly singular vb[btt, btt] moved it by ~1e-3 at
# cond(X) ~ 1e7), so every Wald statistic of such a fit (anova(), the
# permutation tests' observed QM, robust()) is formed in the orthonormal
# coordinates: the hypothesis L beta = rhs is C b = d there, with C = U' an
# orthonormal basis of the tested directions (core wald_basis()) and
# d = U' T^-1 beta0 for any beta0 with L beta0 = rhs.  Fits without mf.wald
# (well-conditioned designs, and fits of other kinds) use beta and vb.

# The hypothesis L beta = rhs (L: m x p of full row rank; rhs NULL: 0) of fit
# x as list(C, b, vb, d): the statistic is (C b - d)' (C vb C')^-1 (C b - d).
.mf_wald_coords <- function(x, L, rhs = NULL) {
  w <- x$mf.wald
  if (is.null(w)) return(list(C = L, b = c(x$beta), vb = x$vb, d = if (is.null(rhs)) rep(0, nrow(L)) else rhs))
  C <- .mf_wald_basis(w$RPt, w$D, L)
  d <- rep(0, nrow(L))
  if (!is.null(rhs) && any(rhs != 0)) {
    beta0 <- c(t(L) %*% solve(tcrossprod(L), rhs))  # (exact for a selection L: rhs at the tested coefficients)
    d <- c(C %*% (w$RPt %*% (beta0 / w$D)))        # (T^-1 = R P' D^-1)
  }
  list(C = C, b = c(w$b), vb = w$vb, d = d)
}

# The Wald statistic of H0: beta[btt] = rhs, or of H0: L beta = rhs (NA when
# the covariance of the tested combinations is not positive definite).
.mf_wald_stat <- function(x, btt = NULL, L = NULL, rhs = NULL) {
  if (is.null(x$mf.wald)) {
    if (is.null(L)) {
      b <- c(x$beta)
      if (!is.null(rhs)) b[btt] <- b[btt] - rhs
      return(.mf_wald(b, x$vb, btt))
    }
    Lb <- c(L %*% x$beta) - if (is.null(rhs)) 0 else rhs
    return(.mf_wald(Lb, L %*% x$vb %*% t(L), seq_len(nrow(L))))
  }
  if (is.null(L)) L <- diag(length(x$beta))[btt, , drop = FALSE]
  w <- .mf_wald_coords(x, L, rhs)
  .mf_wald(c(w$C %*% w$b) - w$d, w$C %*% w$vb %*% t(w$C), seq_len(nrow(L)))
}

# The rows of C as contrasts of the coordinates in which x's sandwich pieces
# are held (robust(): the orthonormal coordinates of a fit with mf.wald), one
# row per row of C (each the direction that tests the row alone), or, with
# joint = TRUE, a basis of the tested directions of all rows.
.mf_wald_rows <- function(x, C, joint = FALSE) {
  w <- x$mf.wald
  if (is.null(w) || nrow(C) == 0L) return(C)
  if (joint) return(.mf_wald_basis(w$RPt, w$D, C))
  do.call(rbind, lapply(seq_len(nrow(C)), function(i) .mf_wald_basis(w$RPt, w$D, C[i, , drop = FALSE])))
}
