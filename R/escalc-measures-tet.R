# Tetrachoric correlation of a 2x2 table (escalc measures RTET and ZTET).
#
# The correlation of a bivariate normal whose two thresholds reproduce the
# table's margins, estimated by maximum likelihood (Pearson 1900, Phil Trans
# R Soc A 195:1-47; Olsson 1979, Psychometrika 44:443-460, the "two-step" and
# full ML estimators).  As metafor 5.2.1 does (so that the values agree):
# a one-dimensional search over rho with the thresholds fixed at the margins,
# then the full likelihood in (rho, both thresholds) by Nelder-Mead from
# there; the variance is the [1, 1] element of the inverse of the numerical
# Hessian; |rho| is capped at maxcor inside the likelihood.

# Gauss-Legendre nodes and weights on [-1, 1] (Golub & Welsch 1969, Math
# Comp 23:221-230): eigenvalues / first eigenvector components of the Jacobi
# matrix.  Computed once per size and kept.
.esc_gl_cache <- new.env(parent = emptyenv())
.esc_gauss_legendre <- function(n) {
  key <- as.character(n)
  if (!is.null(.esc_gl_cache[[key]])) return(.esc_gl_cache[[key]])
  j <- seq_len(n - 1L)
  b <- j / sqrt(4 * j^2 - 1)
  jm <- matrix(0, n, n)
  jm[cbind(j, j + 1L)] <- b
  jm[cbind(j + 1L, j)] <- b
  e <- eigen(jm, symmetric = TRUE)
  o <- order(e$values)
  res <- list(x = e$values[o], w = 2 * e$vectors[1L, o]^2)
  .esc_gl_cache[[key]] <- res
  res
}

# P(X > h, Y > k) for a standard bivariate normal with correlation r
# (scalar arguments), by Genz's method (Genz 2004, Stat Comput 14:251-260):
# Drezner & Wesolowsky's (1990) integral over asin(r) for |r| < 0.925, and
# for larger |r| the integral in 1 - r^2 after taking out the singular
# leading terms.
.esc_bvn_upper <- function(h, k, r) {
  if (is.infinite(h) || is.infinite(k)) {
    if (h == Inf || k == Inf) return(0)
    if (h == -Inf) return(stats::pnorm(-k))
    return(stats::pnorm(-h))
  }
  ar <- abs(r)
  n <- if (ar < 0.3) 6L else if (ar < 0.75) 12L else 20L
  gl <- .esc_gauss_legendre(n)
  x <- gl$x; w <- gl$w
  hk <- h * k
  if (ar < 0.925) {
    hs <- (h * h + k * k) / 2
    asr <- asin(r)
    sn <- sin(asr * (x + 1) / 2)
    s <- sum(w * exp((sn * hk - hs) / (1 - sn * sn)))
    return(s * asr / (4 * pi) + stats::pnorm(-h) * stats::pnorm(-k))
  }
  if (r < 0) { k <- -k; hk <- -hk }
  bvn <- 0
  if (ar < 1) {
    as <- (1 - r) * (1 + r)
    a <- sqrt(as)
    bs <- (h - k)^2
    cc <- (4 - hk) / 8
    dd <- (12 - hk) / 16
    bvn <- a * exp(-(bs / as + hk) / 2) *
      (1 - cc * (bs - as) * (1 - dd * bs / 5) / 3 + cc * dd * as * as / 5)
    if (hk > -160) {
      b <- sqrt(bs)
      bvn <- bvn - exp(-hk / 2) * sqrt(2 * pi) * stats::pnorm(-b / a) * b *
        (1 - cc * bs * (1 - dd * bs / 5) / 3)
    }
    a <- a / 2
    xs <- (a * (x + 1))^2
    rs <- sqrt(1 - xs)
    bvn <- bvn + a * sum(w * (exp(-bs / (2 * xs) - hk / (1 + rs)) / rs -
                              exp(-(bs / xs + hk) / 2) * (1 + cc * xs * (1 + dd * xs))))
    bvn <- -bvn / (2 * pi)
  }
  if (r > 0) return(bvn + stats::pnorm(-max(h, k)))
  -bvn + max(0, stats::pnorm(-h) - stats::pnorm(-k))
}

# RTET of one table (counts after add/to); list(yi, vi).
.esc_rtet_one <- function(ai, bi, ci, di, maxcor = 0.9999) {
  ni <- ai + bi + ci + di
  if (ai + bi == 0 || ci + di == 0 || ai + ci == 0 || bi + di == 0)
    return(list(yi = 0, vi = Inf))
  if (bi == 0 && ci == 0) return(list(yi = 1, vi = 0))
  if (ai == 0 && di == 0) return(list(yi = -1, vi = 0))
  # minus the multinomial log-likelihood; rows of the table: the second
  # variable below / above its threshold t2, columns: the first below /
  # above t1
  nll <- function(rho, t1, t2) {
    if (abs(rho) > maxcor) rho <- sign(rho) * maxcor
    p <- c(.esc_bvn_upper(-t1, -t2, rho), .esc_bvn_upper(t1, -t2, -rho),
           .esc_bvn_upper(-t1, t2, -rho), .esc_bvn_upper(t1, t2, rho))
    if (any(p <= 0)) return(Inf)
    -(ai * log(p[1]) + bi * log(p[2]) + ci * log(p[3]) + di * log(p[4]))
  }
  t1.0 <- stats::qnorm((ai + ci) / ni)
  t2.0 <- stats::qnorm((ai + bi) / ni)
  fail <- function(what) {
    warning("could not estimate the ", what, " of the tetrachoric correlation", call. = FALSE)
    NULL
  }
  step1 <- tryCatch(suppressWarnings(stats::optimize(function(r) nll(r, t1.0, t2.0), c(-1, 1))),
                    error = function(e) fail("value"))
  if (is.null(step1)) return(list(yi = NA_real_, vi = NA_real_))
  step2 <- tryCatch(stats::optim(c(step1$minimum, t2.0, t1.0),
                                 function(p) nll(p[1], p[3], p[2]), hessian = TRUE),
                    error = function(e) fail("value"))
  if (is.null(step2)) return(list(yi = NA_real_, vi = NA_real_))
  vi <- tryCatch(chol2inv(chol(step2$hessian))[1, 1], error = function(e) NULL)
  if (is.null(vi)) {
    fail("sampling variance")
    vi <- NA_real_
  }
  yi <- step2$par[1]
  if (bi == 0 || ci == 0) yi <- 1
  if (ai == 0 || di == 0) yi <- -1
  list(yi = yi, vi = vi)
}

# escalc's RTET / ZTET for all rows.
.esc_es_tet <- function(measure, v, vtype, rows, add, to, drop00, onlyo1 = FALSE) {
  tab <- .esc_2x2_cells(measure, v, rows, add, to, drop00, onlyo1)
  ai <- tab$adj[[1]]; bi <- tab$adj[[2]]; ci <- tab$adj[[3]]; di <- tab$adj[[4]]
  k <- length(rows)
  yi <- vi <- rep(NA_real_, k)
  for (i in seq_len(k)) {
    if (is.na(ai[i]) || is.na(bi[i]) || is.na(ci[i]) || is.na(di[i])) next
    r <- .esc_rtet_one(ai[i], bi[i], ci[i], di[i])
    yi[i] <- r$yi
    vi[i] <- r$vi
  }
  if (measure == "ZTET") {
    vi <- .esc_rtoz_var(vi, yi)
    yi <- .esc_rtoz(yi)
  }
  list(yi = yi, vi = vi, ni = tab$ni.u)
}
