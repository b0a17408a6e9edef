# Row diagnostics (hatvalues, weights, rstandard, residuals) of crossed fits
# by the sparse engine, whose linked rows exceed the dense blocks' limit
# (issue 12): computed from the sparse factor (Woodbury and the selected
# inverse, core/sparse_objective.hpp), checked against metafor's methods at
# the same variance components (closed forms there: 1e-8) and against the
# block path on the same fit.  The internal options metafast.mv_sparse_rows
# and metafast.mv_dense_rows let small data take the sparse path.

skip_if_not_installed("metafor")

spd_check <- function(f, m, f_block = NULL, tol = 1e-8) {
  expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = tol)
  expect_equal(unname(weights(f)), unname(weights(m)), tolerance = tol)
  expect_equal(rstandard(f)$z, rstandard(m)$z, tolerance = tol)
  expect_equal(rstandard(f)$se, rstandard(m)$se, tolerance = tol)
  expect_equal(unname(residuals(f, type = "pearson")), unname(residuals(m, type = "pearson")), tolerance = tol)
  if (!is.null(f_block)) {
    expect_equal(hatvalues(f), hatvalues(f_block), tolerance = 1e-10)
    expect_equal(weights(f), weights(f_block), tolerance = 1e-10)
    expect_equal(rstandard(f)$z, rstandard(f_block)$z, tolerance = 1e-10)
  }
}

test_that("crossed fits of the sparse engine: hatvalues, weights, rstandard and residuals as metafor's", {
  d <- sparse_crossed_data(300, 60, 12, 1)
  fit <- function() rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
  f <- with_mf_options(sparse_path_opts, fit())
  expect_identical(f$mf.spec$structure$type, "crossed")
  f_block <- with_mf_options(list(metafast.mv_sparse_rows = 1e6L), fit())
  expect_false(identical(f_block$mf.spec$structure$type, "crossed"))
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2)
  spd_check(f, m, f_block)
  # Cholesky residuals: metafor's chol(W) %*% e, W formed on this request
  expect_equal(unname(residuals(f, type = "cholesky")), unname(residuals(m, type = "cholesky")), tolerance = 1e-8)
  expect_equal(residuals(f, type = "cholesky"), residuals(f_block, type = "cholesky"), tolerance = 1e-10)
  # a component at 0, intercept only with row-sum weights, three crossed factors
  d$c <- sample(1:5, nrow(d), TRUE)
  f0 <- with_mf_options(sparse_path_opts,
                            rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | b, ~ 1 | c), data = d, sigma2 = c(NA, 0, NA)))
  expect_identical(f0$mf.spec$structure$type, "crossed")
  m0 <- metafor::rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | b, ~ 1 | c), data = d, sigma2 = f0$sigma2)
  spd_check(f0, m0)
  expect_equal(unname(weights(f0, type = "rowsum")), unname(weights(m0, type = "rowsum")), tolerance = 1e-8)
})

test_that("crossed fits of the sparse engine with a block-diagonal V and missing rows", {
  d <- sparse_crossed_data(240, 50, 10, 2)
  d$cl <- rep(seq_len(80), each = 3)
  V <- metafor::vcalc(vi, cluster = cl, obs = seq_len(nrow(d)), rho = 0.5, data = d)
  d$yi[c(5, 77)] <- NA
  fit <- function() suppressWarnings(rma.mv(yi, V, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d))
  f <- with_mf_options(sparse_path_opts, fit())
  expect_identical(f$mf.spec$structure$type, "crossed")
  f_block <- with_mf_options(list(metafast.mv_sparse_rows = 1e6L), fit())
  m <- suppressWarnings(metafor::rma.mv(yi, V, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2))
  spd_check(f, m, f_block)
  expect_length(hatvalues(f), nrow(d) - 2L)
  expect_equal(unname(residuals(f, type = "cholesky")), unname(residuals(m, type = "cholesky")), tolerance = 1e-8)
})

test_that("above 5000 linked rows (no option) the diagnostics come from the sparse factor (level 2: vs metafor)", {
  skip_unless_level(2)
  d <- sparse_crossed_data(5200, 900, 30, 3)
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
  expect_identical(f$mf.spec$structure$type, "crossed")
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2, sparse = TRUE)
  spd_check(f, m)
})

test_that("ranef() of crossed fits of the sparse engine is metafor's (BLUPs from the sparse factor)", {
  d <- sparse_crossed_data(300, 60, 12, 4)
  d$a <- paste0("s", d$a)  # (character levels: metafor's sorted order)
  d$yi[7] <- NA
  fit <- function() suppressWarnings(rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d))
  f <- with_mf_options(sparse_path_opts, fit())
  expect_identical(f$mf.spec$structure$type, "crossed")
  f_block <- with_mf_options(list(metafast.mv_sparse_rows = 1e6L), fit())
  m <- suppressWarnings(metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d,
                                        sigma2 = f$sigma2))
  r <- ranef(f)
  rm <- metafor::ranef(m)
  expect_named(r, names(rm))
  for (j in names(rm)) {
    expect_equal(rownames(r[[j]]), rownames(rm[[j]]), info = j)
    expect_equal(as.matrix(r[[j]]), as.matrix(rm[[j]]), tolerance = tol_closed, ignore_attr = TRUE, info = j)
    expect_equal(r[[j]], ranef(f_block)[[j]], tolerance = 1e-10, info = j)
  }
  # expand = TRUE, a component fixed at 0 (BLUPs and variances 0), t-test intervals
  re <- ranef(f, expand = TRUE)
  rme <- metafor::ranef(m, expand = TRUE)
  expect_equal(as.matrix(re$b), as.matrix(rme$b), tolerance = tol_closed, ignore_attr = TRUE)
  f0 <- with_mf_options(sparse_path_opts,
                 suppressWarnings(rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = c(NA, 0),
                                         test = "t")))
  m0 <- suppressWarnings(metafor::rma.mv(yi, vi, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f0$sigma2,
                                         test = "t"))
  r0 <- ranef(f0)
  rm0 <- metafor::ranef(m0)
  for (j in names(rm0))
    expect_equal(as.matrix(r0[[j]]), as.matrix(rm0[[j]]), tolerance = tol_closed, ignore_attr = TRUE, info = j)
  expect_true(all(r0$b$intrcpt == 0))
})

test_that("rstandard(cluster =) of crossed fits of the sparse engine is metafor's (diagonal and block V)", {
  d <- sparse_crossed_data(240, 50, 10, 5)
  d$cl <- rep(seq_len(80), each = 3)
  V <- metafor::vcalc(vi, cluster = cl, obs = seq_len(nrow(d)), rho = 0.5, data = d)
  for (vv in c("vi", "V")) {
    Vin <- if (vv == "vi") d$vi else V
    fit <- function() rma.mv(yi, Vin, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
    f <- with_mf_options(sparse_path_opts, fit())
    expect_identical(f$mf.spec$structure$type, "crossed")
    f_block <- with_mf_options(list(metafast.mv_sparse_rows = 1e6L), fit())
    m <- metafor::rma.mv(yi, Vin, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2)
    for (clv in c("a", "cl")) {
      info <- paste(vv, clv)
      r <- rstandard(f, cluster = d[[clv]])
      rm <- stats::rstandard(m, cluster = d[[clv]])
      expect_equal(r$cluster$X2, rm$cluster$X2, tolerance = tol_closed, info = info)
      expect_equal(r$cluster$k, rm$cluster$k, info = info)
      expect_equal(r$cluster$X2, rstandard(f_block, cluster = d[[clv]])$cluster$X2, tolerance = 1e-10, info = info)
    }
  }
})

test_that("the k x k matrices of crossed fits of the sparse engine, on request, are metafor's", {
  d <- sparse_crossed_data(200, 40, 8, 6)
  d$grp <- rep(seq_len(100), each = 2)
  V <- metafor::vcalc(vi, cluster = grp, obs = seq_len(nrow(d)), rho = 0.3, data = d)
  for (vv in c("vi", "V")) {
    Vin <- if (vv == "vi") d$vi else V
    f <- with_mf_options(sparse_path_opts,
                  rma.mv(yi, Vin, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d))
    expect_identical(f$mf.spec$structure$type, "crossed")
    m <- metafor::rma.mv(yi, Vin, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2)
    expect_equal(unclass(hatvalues(f, type = "matrix")), unclass(hatvalues(m, type = "matrix")),
                 tolerance = tol_closed, ignore_attr = TRUE, info = vv)
    expect_equal(unclass(weights(f, type = "matrix")), unclass(weights(m, type = "matrix")),
                 tolerance = tol_closed, ignore_attr = TRUE, info = vv)
    for (type in c("obs", "resid"))
      expect_equal(unclass(vcov(f, type = type)), unclass(vcov(m, type = type)), tolerance = tol_closed,
                   ignore_attr = TRUE, info = paste(vv, type))
    # ranef(vcov = TRUE): the covariance matrices of the BLUPs
    rv <- ranef(f, vcov = TRUE)$vcov
    rmv <- metafor::ranef(m, vcov = TRUE)$vcov
    for (j in names(rmv)) expect_equal(unclass(rv[[j]]), unclass(rmv[[j]]), tolerance = tol_closed, ignore_attr = TRUE,
                                       info = paste(vv, j))
  }
})
