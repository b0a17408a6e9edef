# rma.mv(V = <dense k x k matrix>): the symmetry decision is base R's
# isSymmetric() (as metafor takes it) and the non-zero entries are read in one
# C++ pass without a k x k copy (src/core/dense_input.hpp).  References: base
# R's isSymmetric() and which(), metafor::rma.mv().

# Symmetric test matrices: blocks of sizes 1..4 with covariances, scaled by
# 'mag' (so that the tolerances meet entries far from 1).
dense_v_case <- function(n, seed, mag = 1) {
  set.seed(seed)
  V <- matrix(0, n, n)
  start <- 1L
  while (start <= n) {
    m <- min(n - start + 1L, sample(1:4, 1L))
    idx <- start:(start + m - 1L)
    A <- matrix(rnorm(m * m), m)
    V[idx, idx] <- crossprod(A) / m + diag(runif(m, 0.01, 0.2), m)
    start <- start + m
  }
  V * mag
}

test_that("the symmetry decision is base R's isSymmetric() over perturbations, NAs, infinities and scales", {
  dec <- function(V) metafast:::.mf_dense_sym_triplets(V)$symmetric
  n_cases <- 0L
  for (n in c(2L, 3L, 5L, 12L, 40L)) {
    for (mag in c(1, 1e-150, 1e150)) {
      for (seed in 1:6) {
        V0 <- dense_v_case(n, seed, mag)
        expect_identical(dec(V0), isSymmetric(unname(V0)))
        # one entry moved by a relative amount around the tolerances
        # (100 eps = 2.2e-14 for the whole matrix, 8 x that for the pre-test rows)
        for (rel in c(1e-16, 5e-15, 2e-14, 3e-14, 1e-13, 2e-13, 1e-12, 1e-8)) {
          for (where in c("first", "last", "inner", "zero")) {
            V <- V0
            ij <- switch(where,
              first = c(1L, 2L), last = c(n, n - 1L),
              inner = c(max(1L, n %/% 2L), min(n, n %/% 2L + 1L)),
              zero = { z <- which(V == 0, arr.ind = TRUE); if (nrow(z)) z[1L, ] else c(1L, n) })
            V[ij[1L], ij[2L]] <- if (V[ij[1L], ij[2L]] == 0) rel * mag else V[ij[1L], ij[2L]] * (1 + rel)
            expect_identical(dec(V), isSymmetric(unname(V)), info = sprintf("n %d mag %g seed %d rel %g %s", n, mag, seed, rel, where))
            n_cases <- n_cases + 1L
          }
        }
      }
    }
  }
  expect_gt(n_cases, 2000L)
  # many small asymmetries: the mean, not the largest, decides
  V <- dense_v_case(30L, 7L)
  U <- upper.tri(V) & V != 0
  V2 <- V; V2[U] <- V2[U] * (1 + 1e-14)
  expect_identical(dec(V2), isSymmetric(V2))
  V2 <- V; V2[U] <- V2[U] * (1 + 4e-14)
  expect_identical(dec(V2), isSymmetric(V2))
  # NA and NaN: matching patterns are skipped, a mismatch is not symmetric
  V <- dense_v_case(6L, 3L)
  V[2, 5] <- V[5, 2] <- NA
  expect_identical(dec(V), isSymmetric(V))
  expect_true(dec(V))
  V[5, 2] <- 0.1
  expect_identical(dec(V), isSymmetric(V))
  expect_false(dec(V))
  V[5, 2] <- NaN; V[2, 5] <- NA
  expect_identical(dec(V), isSymmetric(V))
  # infinities
  V <- dense_v_case(5L, 4L)
  V[1, 3] <- V[3, 1] <- Inf
  expect_identical(dec(V), isSymmetric(V))
  V[3, 1] <- -Inf
  expect_identical(dec(V), isSymmetric(V))
  V[3, 1] <- 1
  expect_identical(dec(V), isSymmetric(V))
  # all zero, integer, with dimnames
  expect_identical(dec(matrix(0, 4, 4)), isSymmetric(matrix(0, 4, 4)))
  Vi <- matrix(c(2L, 1L, 0L, 1L, 3L, 0L, 0L, 0L, 1L), 3)
  expect_true(dec(Vi))
  Vi[1, 2] <- 2L
  expect_identical(dec(Vi), isSymmetric(Vi))
  Vn <- dense_v_case(4L, 5L); dimnames(Vn) <- list(letters[1:4], LETTERS[1:4])
  expect_identical(dec(Vn), isSymmetric(unname(Vn)))
})

test_that("the triplets are which(V != 0 | is.na(V)) in column-major order", {
  for (seed in 1:5) {
    V <- dense_v_case(25L, seed)
    if (seed == 2L) V[3, 3] <- 0
    if (seed == 3L) V[4, 6] <- V[6, 4] <- NA
    st <- metafast:::.mf_dense_sym_triplets(V)
    nz <- which(V != 0 | is.na(V), arr.ind = TRUE)
    expect_identical(st$i, unname(nz[, 1L]))
    expect_identical(st$j, unname(nz[, 2L]))
    expect_identical(st$x, V[nz])
  }
  expect_null(metafast:::.mf_dense_sym_triplets(matrix(c(1, 2, 3, 1), 2))$i)
})

test_that("rma.mv() with a dense V gives the list-of-blocks fit and metafor's, and refuses what metafor refuses", {
  skip_if_not_installed("metafor")
  set.seed(11)
  n_st <- 40L
  ni <- sample(1:4, n_st, replace = TRUE)
  d <- data.frame(study = rep(seq_len(n_st), ni), es = sequence(ni))
  k <- nrow(d)
  blocks <- lapply(ni, function(m) {
    A <- matrix(rnorm(m * m), m)
    crossprod(A) / (4 * m) + diag(runif(m, 0.01, 0.1), m)
  })
  V <- as.matrix(Matrix::bdiag(blocks))
  d$x <- rnorm(k)
  d$yi <- 0.2 + 0.1 * d$x + rep(rnorm(n_st, 0, 0.3), ni) + rnorm(k, 0, sqrt(diag(V) + 0.05))
  f_dense <- rma.mv(yi, V, mods = ~ x, random = ~ 1 | study/es, data = d)
  f_list <- rma.mv(yi, blocks, mods = ~ x, random = ~ 1 | study/es, data = d)
  expect_equal(f_dense$beta, f_list$beta, tolerance = 1e-12)
  expect_equal(f_dense$sigma2, f_list$sigma2, tolerance = 1e-12)
  expect_equal(f_dense$vb, f_list$vb, tolerance = 1e-12)
  m <- metafor::rma.mv(yi, V, mods = ~ x, random = ~ 1 | study/es, data = d,
                       control = list(rel.tol = 1e-12, iter.max = 1000))
  expect_equal(c(f_dense$beta), c(m$beta), tolerance = 1e-6)
  expect_equal(f_dense$sigma2, m$sigma2, tolerance = 1e-5)
  expect_equal(c(logLik(f_dense)), c(logLik(m)), tolerance = 1e-8)
  # an asymmetry below isSymmetric()'s tolerance is accepted by both packages;
  # one above it is refused by both
  Vs <- V; Vs[2, 1] <- Vs[2, 1] * (1 + 1e-15)
  expect_true(isSymmetric(Vs))
  expect_silent(f_s <- rma.mv(yi, Vs, mods = ~ x, random = ~ 1 | study/es, data = d))
  expect_equal(f_s$beta, metafor::rma.mv(yi, Vs, mods = ~ x, random = ~ 1 | study/es, data = d,
                                          control = list(rel.tol = 1e-12, iter.max = 1000))$beta, tolerance = 1e-6)
  Va <- V; Va[2, 1] <- Va[2, 1] * (1 + 1e-6)
  expect_false(isSymmetric(Va))
  expect_error(metafor::rma.mv(yi, Va, random = ~ 1 | study/es, data = d))
  expect_error(rma.mv(yi, Va, random = ~ 1 | study/es, data = d), "'V' must be a symmetric matrix")
  # the caller's V is not changed, and a V with dimnames reads the same
  V0 <- V
  Vn <- V; dimnames(Vn) <- list(paste0("r", seq_len(k)), paste0("c", seq_len(k)))
  expect_equal(rma.mv(yi, Vn, mods = ~ x, random = ~ 1 | study/es, data = d)$beta, f_dense$beta, tolerance = 1e-12)
  expect_identical(V, V0)
})
