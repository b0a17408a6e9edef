# The input gate: bad input gives an error naming the argument (and the
# offending rows); odd-but-valid input gives the same fit as clean input.

gate_data <- function() {
  set.seed(42)
  k <- 12
  data.frame(yi = stats::rnorm(k, 0.3, 0.4), vi = stats::runif(k, 0.02, 0.3),
             x = stats::rnorm(k), g = factor(rep(c("a", "b", "c"), 4)),
             stringsAsFactors = FALSE)
}

test_that("negative vi: error naming 'vi' and the rows", {
  d <- gate_data()
  d$vi[c(3, 7)] <- -0.1
  expect_error(rma(yi, vi, data = d), "'vi'.*rows 3, 7")
  expect_error(rma(d$yi, d$vi), "negative")
  d$vi[7] <- 0.1
  expect_error(rma(yi, vi, data = d), "'vi'.*row 3")
})

test_that("negative sei: error naming 'sei' and the rows", {
  d <- gate_data()
  expect_error(rma(yi, sei = c(-1, sqrt(d$vi[-1])), data = d), "'sei'.*row 1")
})

test_that("zero vi: error naming 'vi' and the rows", {
  d <- gate_data()
  d$vi[5] <- 0
  expect_error(rma(yi, vi, data = d), "'vi'.*zero.*row 5")
})

test_that("NA rows are omitted with a warning naming them; the fit equals the complete-case fit", {
  d <- gate_data()
  d$yi[2] <- NA
  d$vi[9] <- NA
  expect_warning(r <- rma(yi, vi, data = d), "rows 2, 9")
  r0 <- rma(yi, vi, data = d[-c(2, 9), ])
  expect_equal(r$tau2, r0$tau2)
  expect_equal(r$beta, r0$beta)
  expect_equal(r$k, 10L)
  expect_equal(r$ids, setdiff(1:12, c(2, 9)))
  expect_equal(r$not.na, !(1:12 %in% c(2, 9)))
  # NA in a moderator
  d <- gate_data()
  d$x[4] <- NA
  expect_warning(r <- rma(yi, vi, mods = ~ x, data = d), "row 4")
  expect_equal(r$k, 11L)
  # as metafor
  skip_if_not_installed("metafor")
  m <- suppressWarnings(metafor::rma(yi, vi, mods = ~ x, data = d, control = metafor_tight))
  expect_equal(r$tau2, m$tau2, tolerance = tol_iter)
})

test_that("all rows NA: a clear error", {
  expect_error(suppressWarnings(rma(c(NA_real_, NA_real_), c(0.1, 0.1))), "[Nn]o outcomes")
})

test_that("Inf in yi, vi, weights or mods: error naming the argument and rows", {
  d <- gate_data()
  d$yi[6] <- Inf
  expect_error(rma(yi, vi, data = d), "'yi'.*finite.*row 6")
  d <- gate_data()
  d$vi[1] <- Inf
  expect_error(rma(yi, vi, data = d), "'vi'.*row 1")
  d <- gate_data()
  expect_error(rma(yi, vi, data = d, weights = c(-Inf, rep(1, 11))), "'weights'.*row 1")
  d$x[10] <- -Inf
  expect_error(rma(yi, vi, mods = ~ x, data = d), "'mods'.*row 10")
})

test_that("wrong lengths: error naming the argument and both lengths", {
  d <- gate_data()
  expect_error(rma(d$yi, d$vi[-1]), "'vi' has length 11 but 'yi' has length 12")
  expect_error(rma(d$yi, sei = sqrt(d$vi[1:3])), "'sei' has length 3")
  expect_error(rma(d$yi, d$vi, weights = 1:5), "'weights' has length 5")
  expect_error(rma(d$yi, d$vi, mods = d$x[-1]), "'mods'.*11")
  expect_error(rma(d$yi, d$vi, slab = letters[1:3]), "'slab' has length 3")
  expect_error(rma(d$yi, d$vi, subset = c(TRUE, FALSE)), "'subset' has length 2")
})

test_that("non-numeric yi / vi: error naming the argument", {
  d <- gate_data()
  expect_error(rma(as.character(d$yi), d$vi), "'yi' must be numeric")
  expect_error(rma(factor(d$yi), d$vi), "'yi' must be numeric")
  expect_error(rma(d$yi, as.character(d$vi)), "'vi' must be numeric")
  expect_error(rma(as.list(d$yi), d$vi), "'yi' must be numeric")
  expect_error(rma(d$yi > 0, d$vi), "'yi' must be numeric")
  expect_error(rma(yi = numeric(0), vi = numeric(0)), "length 0")
  expect_error(rma(d$yi), "'vi'|'sei'")
})

test_that("unknown method or test: error listing the choices", {
  d <- gate_data()
  expect_error(rma(yi, vi, data = d, method = "REMLX"), "'method'.*REMLX.*REML")
  expect_error(rma(yi, vi, data = d, method = c("REML", "foo")), "'foo'")
  expect_error(rma(yi, vi, data = d, method = NA_character_), "'method'")
  expect_error(rma(yi, vi, data = d, test = "F"), "'test'.*knha")
  expect_error(rma(yi, vi, data = d, test = c("z", "t")), "'test'")
})

test_that("level 100, -1, NA: error naming 'level'", {
  d <- gate_data()
  for (lv in list(100, -1, NA_real_, Inf, c(90, 95), "95", 150))
    expect_error(rma(yi, vi, data = d, level = lv), "'level'", info = paste(lv, collapse = ","))
  # 95 and 0.95 are the same level (as in metafor)
  expect_equal(rma(yi, vi, data = d, level = 0.9)$ci.lb, rma(yi, vi, data = d, level = 90)$ci.lb)
})

test_that("subset selecting nothing: a clear error", {
  d <- gate_data()
  expect_error(rma(yi, vi, data = d, subset = rep(FALSE, 12)), "'subset' selects no rows")
  expect_error(rma(yi, vi, data = d, subset = x > 100), "'subset' selects no rows")
  expect_error(rma(yi, vi, data = d, subset = 13), "'subset'")
  # a valid subset equals the subsetted data
  r <- rma(yi, vi, data = d, subset = g != "a")
  expect_equal(r$tau2, rma(yi, vi, data = d[d$g != "a", ])$tau2)
})

test_that("data frame missing a column: error naming the argument", {
  d <- gate_data()
  expect_error(rma(yi, vii, data = d), "'vi'")
  expect_error(rma(yy, vi, data = d), "'yi'")
  expect_error(rma(yi, vi, mods = ~ z, data = d), "z")
  expect_error(rma(yi, vi, data = as.matrix(d[, 1:2])), "'data'")
})

test_that("tibble and data.table inputs give the same fit as a data.frame", {
  d <- gate_data()
  r0 <- rma(yi, vi, mods = ~ x + g, data = d, subset = x > -2)
  if (requireNamespace("tibble", quietly = TRUE)) {
    r1 <- rma(yi, vi, mods = ~ x + g, data = tibble::as_tibble(d), subset = x > -2)
    for (f in c("beta", "se", "tau2", "se.tau2", "QE", "QM", "I2", "R2", "ids"))
      expect_identical(r1[[f]], r0[[f]], info = paste("tibble", f))
  }
  if (requireNamespace("data.table", quietly = TRUE)) {
    dt <- data.table::as.data.table(d)
    r2 <- rma(yi, vi, mods = ~ x + g, data = dt, subset = x > -2)
    for (f in c("beta", "se", "tau2", "se.tau2", "QE", "QM", "I2", "R2", "ids"))
      expect_identical(r2[[f]], r0[[f]], info = paste("data.table", f))
    # the caller's data.table is untouched (no reference semantics leak)
    expect_identical(dt, data.table::as.data.table(d))
  }
  skip_if_not(requireNamespace("tibble", quietly = TRUE) || requireNamespace("data.table", quietly = TRUE),
              "neither tibble nor data.table installed")
})

test_that("labelled (haven-style) vectors and other attributes are stripped", {
  d <- gate_data()
  lab <- function(x, label) structure(x, label = label, class = c("haven_labelled", "vctrs_vctr", "double"))
  dl <- d
  dl$yi <- lab(d$yi, "log odds ratio")
  dl$vi <- lab(d$vi, "sampling variance")
  dl$x <- lab(d$x, "dose")
  r0 <- rma(yi, vi, mods = ~ x, data = d)
  r1 <- rma(yi, vi, mods = ~ x, data = dl)
  expect_identical(r1$tau2, r0$tau2)
  expect_identical(r1$beta, r0$beta)
  expect_null(attributes(r1$yi))
  expect_null(attributes(r1$vi))
  expect_true(is.double(r1$yi))
  # AsIs and units-like attributes
  r2 <- rma(I(d$yi), structure(d$vi, units = "log-OR^2"))
  expect_identical(r2$tau2, rma(d$yi, d$vi)$tau2)
  expect_null(attributes(r2$vi))
})

test_that("collinear moderators are dropped with a warning naming them", {
  d <- gate_data()
  d$x2 <- 2 * d$x
  expect_warning(r <- rma(yi, vi, mods = ~ x + x2, data = d), "[Rr]edundant.*x2")
  expect_equal(r$p, 2L)
  expect_equal(r$tau2, rma(yi, vi, mods = ~ x, data = d)$tau2)
  skip_if_not_installed("metafor")
  m <- suppressWarnings(metafor::rma(yi, vi, mods = ~ x + x2, data = d, control = metafor_tight))
  expect_equal(r$tau2, m$tau2, tolerance = tol_iter)
  expect_equal(as.numeric(r$beta), as.numeric(m$beta[!is.na(m$beta)]), tolerance = tol_iter)
})

test_that("more coefficients than studies: redundant columns dropped, then a clear error if unestimable", {
  # with k = 3 rows the model matrix has rank <= 3, so p > k cannot survive
  # the collinearity check: the extra column is dropped with a warning.
  d <- gate_data()[1:3, ]
  expect_warning(r <- rma(yi, vi, mods = ~ g + x, data = d, method = "EE"), "[Rr]edundant")
  expect_equal(r$p, 3L)
  # an explicit full-rank design with more columns than rows is impossible;
  # a single row with an intercept and a moderator is rank 1:
  expect_warning(r1 <- rma(0.2, 0.1, mods = 3, method = "EE"), "[Rr]edundant")
  expect_equal(r1$p, 1L)
})

test_that("p == k with a heterogeneity estimator: error as in metafor", {
  d <- gate_data()[1:3, ]
  expect_error(suppressWarnings(rma(yi, vi, mods = ~ g + x, data = d)), "parameters|coefficients")
})

test_that("the caller's data and vectors are unchanged", {
  d <- gate_data()
  d$yi[2] <- NA
  d$vi[9] <- -0 + 0.1
  before <- d
  yi <- d$yi; vi <- d$vi
  yi_before <- yi; vi_before <- vi
  w <- seq(1, 2, length.out = 12); w_before <- w
  suppressWarnings(rma(yi, vi, mods = ~ x + g, data = d, subset = x > -3, weights = w))
  suppressWarnings(rma(yi, vi, weights = w))
  expect_identical(d, before)
  expect_identical(yi, yi_before)
  expect_identical(vi, vi_before)
  expect_identical(w, w_before)
})

test_that("bad weights, intercept, tau2 and btt give clear errors", {
  d <- gate_data()
  expect_error(rma(yi, vi, data = d, weights = c(0, rep(1, 11))), "'weights'.*row 1")
  expect_error(rma(yi, vi, data = d, intercept = NA), "'intercept'")
  expect_error(rma(yi, vi, data = d, tau2 = -1), "'tau2'")
  expect_error(rma(yi, vi, data = d, tau2 = c(0.1, 0.2)), "'tau2'")
  expect_error(rma(yi, vi, mods = ~ x, data = d, btt = 5), "'btt'")
  expect_error(rma(yi, vi, mods = ~ x, data = d, btt = "nomatch"), "'btt'")
  expect_error(rma(yi, vi, data = d, control = list(maxiterr = 5)), "maxiterr")
  expect_error(rma(yi, vi, data = d, control = "fast"), "'control'")
})

test_that("negative subset indices leave rows out, as in metafor (was an error)", {
  skip_if_not_installed("metafor")
  d <- data.frame(yi = c(0.1, 0.3, 0.35, 0.65, 0.45, 0.15), vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
  a <- rma(yi, vi, data = d, subset = -c(1, 4))
  b <- metafor::rma(yi, vi, data = d, subset = -c(1, 4), control = metafor_tight)
  expect_equal(a$k, 4L)
  expect_equal(c(a$beta), c(b$beta), tolerance = tol_iter)
  expect_equal(a$tau2, b$tau2, tolerance = tol_iter)
  expect_error(rma(yi, vi, data = d, subset = c(-1, 2)), "'subset'")
})

test_that("intercept = FALSE is ignored for a formula, as in metafor (with a warning)", {
  skip_if_not_installed("metafor")
  d <- data.frame(yi = c(0.1, 0.3, 0.35, 0.65, 0.45, 0.15), vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
                  x = 1:6)
  expect_warning(a <- rma(yi, vi, mods = ~ x, data = d, intercept = FALSE), "ignored")
  b <- metafor::rma(yi, vi, mods = ~ x, data = d, intercept = FALSE, control = metafor_tight)
  expect_equal(unname(c(a$beta)), unname(c(b$beta)), tolerance = tol_iter)
  expect_equal(a$p, 2L)
})

test_that("near-collinear moderators: the cross-product rank check defers to the QR (no false drop)", {
  # x2 differs from x by 1e-6 relative: the Cholesky pivot is too small to
  # decide, so the QR at tol = 1e-9 decides (full rank), as before the fast path
  d <- gate_data()
  set.seed(3)
  d$x2 <- d$x + 1e-6 * stats::rnorm(nrow(d))
  expect_false(metafast:::.mf_clearly_full_rank(cbind(1, d$x, d$x2)))
  expect_equal(qr(cbind(1, d$x, d$x2), tol = 1e-9)$rank, 3L)
  r <- rma(yi, vi, mods = ~ x + x2, data = d)
  expect_equal(r$p, 3L)
  # a clearly full-rank design passes the fast check; a collinear one does not
  expect_true(metafast:::.mf_clearly_full_rank(cbind(1, d$x, d$x^2)))
  expect_false(metafast:::.mf_clearly_full_rank(cbind(1, d$x, 2 * d$x)))
  expect_false(metafast:::.mf_clearly_full_rank(cbind(1, d$x, 0)))
  # (metafor stops here: its eigenvalue check of X'X calls this matrix rank deficient)
})

test_that("NaN and NA in a moderator matrix (not a formula) are omitted like NA rows, naming them", {
  d <- gate_data()
  X <- cbind(x = d$x, z = d$x^2)
  X[4, 2] <- NaN
  X[9, 1] <- NA
  expect_warning(r <- rma(d$yi, d$vi, mods = X), "2 with missing values.*rows 4, 9")
  expect_equal(r$k, 10L)
  # Inf in the matrix is an error naming the row, NA elsewhere notwithstanding
  X7 <- X
  X7[7, 1] <- Inf
  expect_error(suppressWarnings(rma(d$yi, d$vi, mods = X7)), "'mods'.*row 7")
  skip_if_not_installed("metafor")
  m <- suppressWarnings(metafor::rma(d$yi, d$vi, mods = X, control = metafor_tight))
  expect_equal(r$k, m$k)
  expect_equal(r$tau2, m$tau2, tolerance = tol_iter)
  expect_equal(unname(c(r$beta)), unname(c(m$beta)), tolerance = tol_iter)
})

test_that("slab.null: TRUE without labels or with labels 1..k, FALSE otherwise (as before the fast path)", {
  d <- gate_data()
  expect_true(rma(yi, vi, data = d)$slab.null)
  expect_true(rma(yi, vi, data = d, slab = seq_len(nrow(d)))$slab.null)
  expect_false(rma(yi, vi, data = d, slab = paste("S", seq_len(nrow(d))))$slab.null)
})
