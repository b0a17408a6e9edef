# bldiag() against metafor's bldiag() (issue 12, part 4).

test_that("bldiag() matches metafor: matrices, vectors, a list, non-square and empty blocks", {
  skip_if_not_installed("metafor")
  A <- matrix(c(1, 0.5, 0.5, 2), 2)
  B <- matrix(1:6, 2, 3)
  expect_identical(bldiag(A, diag(3), c(4, 5)), unclass(metafor::bldiag(A, diag(3), c(4, 5))))
  expect_identical(bldiag(list(A, 7, A)), unclass(metafor::bldiag(list(A, 7, A))))
  expect_identical(bldiag(A, B), metafor::bldiag(A, B))
  expect_identical(bldiag(A, matrix(nrow = 0, ncol = 0), A), metafor::bldiag(A, matrix(nrow = 0, ncol = 0), A))
  expect_identical(bldiag(matrix(nrow = 0, ncol = 0)), metafor::bldiag(matrix(nrow = 0, ncol = 0)))
  # named vectors give their names to the diagonal block's dimnames, as diag()
  expect_identical(bldiag(c(a = 1, b = 2)), metafor::bldiag(c(a = 1, b = 2)))
  skip_if_not_installed("Matrix")
  S <- Matrix::Matrix(A, sparse = TRUE)
  expect_identical(bldiag(S, A), metafor::bldiag(S, A))
})

test_that("bldiag(order = ) reorders rows and columns as metafor (sort keys or an order() call)", {
  skip_if_not_installed("metafor")
  blocks <- list(matrix(c(1, 0.5, 0.5, 2), 2), 3, matrix(c(4, 1, 1, 5), 2))
  key <- c(2, 1, 3, 1, 2)
  expect_identical(bldiag(blocks, order = key), metafor::bldiag(blocks, order = key))
  expect_identical(bldiag(blocks, order = order(key)), metafor::bldiag(blocks, order = order(key)))
  expect_false(identical(bldiag(blocks, order = key), bldiag(blocks)))
  expect_error(bldiag(blocks, order = 1:3), "'order'.*\\(3\\)")
  expect_error(bldiag(matrix(1:6, 2), order = 1:2), "'order'.*square")
})

test_that("bldiag() of vcalc() blocks rebuilds the matrix", {
  d <- data.frame(vi = c(0.1, 0.2, 0.3, 0.2, 0.1), study = c(1, 1, 2, 2, 2), obs = c(1, 2, 1, 2, 3))
  V <- vcalc(vi, cluster = study, obs = obs, rho = 0.5, data = d)
  expect_equal(bldiag(V[1:2, 1:2], V[3:5, 3:5]), V, tolerance = tol_closed)
})
