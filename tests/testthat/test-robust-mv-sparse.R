# robust() of crossed fits by the sparse engine (issue 12): metafor's default
# cluster-robust estimator needs only the rows of W X and the residuals,
# which the sparse factor gives without a k x k matrix
# (SparseCrossedObjective::weighted_X()).  Checked against metafor's robust()
# at the same variance components (closed forms there: 1e-8) and against the
# block path on the same fit.  The internal options metafast.mv_sparse_rows
# and metafast.mv_dense_rows let small data take the sparse path.

skip_if_not_installed("metafor")

rms_check <- function(r, m, info) {
  expect_equal(r$vb, m$vb, tolerance = tol_closed, ignore_attr = TRUE, info = info)
  expect_equal(r$se, m$se, tolerance = tol_closed, info = info)
  expect_equal(r$pval, m$pval, tolerance = tol_closed, info = info)
  expect_equal(r$ci.lb, m$ci.lb, tolerance = tol_closed, info = info)
  expect_equal(r$QM, m$QM, tolerance = tol_closed, info = info)
  expect_equal(r$QMp, m$QMp, tolerance = tol_closed, info = info)
  expect_equal(r$dfs, m$dfs, info = info)
}

test_that("robust() of a sparse crossed fit is metafor's, for each 'adjust'", {
  d <- sparse_crossed_data(300, 60, 12, 11)
  fit <- function() rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
  f <- with_mf_options(sparse_path_opts, fit())
  expect_identical(f$mf.spec$structure$type, "crossed")
  f_block <- fit()
  expect_false(identical(f_block$mf.spec$structure$type, "crossed"))
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2)
  for (adj in list(TRUE, FALSE, "Stata1", "Stata2")) {
    info <- format(adj)
    r <- robust(f, cluster = a, adjust = adj)
    rms_check(r, metafor::robust(m, cluster = d$a, adjust = adj), info)
    rb <- robust(f_block, cluster = a, adjust = adj)
    expect_equal(r$vb, rb$vb, tolerance = 1e-9, info = info)
  }
  # clustering by the other crossed factor
  rms_check(robust(f, cluster = b), metafor::robust(m, cluster = d$b), "cluster b")
})

test_that("robust() of a sparse crossed fit with a block-diagonal V and an intercept-only model", {
  d <- sparse_crossed_data(240, 50, 10, 12)
  d$grp <- rep(seq_len(120), each = 2)
  V <- metafor::vcalc(vi, cluster = grp, obs = seq_len(nrow(d)), rho = 0.4, data = d)
  f <- with_mf_options(sparse_path_opts, rma.mv(yi, V, random = list(~ 1 | a, ~ 1 | b), data = d))
  expect_identical(f$mf.spec$structure$type, "crossed")
  m <- metafor::rma.mv(yi, V, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2)
  rms_check(robust(f, cluster = a), metafor::robust(m, cluster = d$a), "V blocks")
  # the clubSandwich estimators need M block diagonal by cluster, which
  # clusters of one crossed factor are not: an error, as metafor's
  # ("Could not obtain the cluster-robust variance-covariance matrix")
  expect_error(robust(f, cluster = a, clubSandwich = TRUE), "not nested within the clustering variable")
  expect_error(suppressWarnings(metafor::robust(m, cluster = d$a, clubSandwich = TRUE)))
})

test_that("robust(clubSandwich = TRUE) of a sparse crossed fit whose clusters hold whole factors is metafor's", {
  skip_if_not_installed("clubSandwich")
  # three groups of studies and outcomes, crossed within each group: each
  # group a cluster that nests both factors
  parts <- lapply(1:3, function(g) {
    p <- sparse_crossed_data(c(70, 90, 60)[g], c(14, 16, 10)[g], c(4, 5, 3)[g], 20 + g)
    p$a <- p$a + 100 * g
    p$b <- p$b + 100 * g
    p$grp <- g
    p
  })
  d <- do.call(rbind, parts)
  d$pair <- rep(seq_len(nrow(d) / 2), each = 2)
  for (dense_V in c(FALSE, TRUE)) {
    info <- if (dense_V) "dense V" else "diagonal V"
    d$V <- if (dense_V) metafor::vcalc(vi, cluster = pair, obs = seq_len(nrow(d)), rho = 0.3, data = d) else d$vi
    fit <- function() rma.mv(yi, V, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
    f <- with_mf_options(sparse_path_opts, fit())
    expect_identical(f$mf.spec$structure$type, "crossed")
    f_block <- fit()
    expect_false(identical(f_block$mf.spec$structure$type, "crossed"))
    m <- metafor::rma.mv(yi, V, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2)
    r <- robust(f, cluster = grp, clubSandwich = TRUE)
    rm <- metafor::robust(m, cluster = d$grp, clubSandwich = TRUE)
    rms_check(r, rm, info)
    expect_equal(r$vb, robust(f_block, cluster = grp, clubSandwich = TRUE)$vb, tolerance = 1e-9, info = info)
    r0 <- robust(f, cluster = grp, clubSandwich = TRUE, vcov = "CR0", coef_test = "naive-t")
    rms_check(r0, metafor::robust(m, cluster = d$grp, clubSandwich = TRUE, vcov = "CR0", coef_test = "naive-t"), info)
  }
  # a V block that straddles two clusters: not nested
  d$V <- metafor::vcalc(vi, cluster = rep(1, nrow(d)), obs = seq_len(nrow(d)), rho = 0.1, data = d)
  f <- with_mf_options(sparse_path_opts, rma.mv(yi, V, random = list(~ 1 | a, ~ 1 | b), data = d))
  expect_error(robust(f, cluster = grp, clubSandwich = TRUE), "not nested within the clustering variable")
})

test_that("robust() of a crossed fit above 5000 linked rows (level 2: metafor's robust forms W)", {
  skip_unless_level(2)
  d <- sparse_crossed_data(5200, 1300, 30, 13)
  f <- rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d)
  expect_identical(f$mf.spec$structure$type, "crossed")
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | a, ~ 1 | b), data = d, sigma2 = f$sigma2,
                       sparse = TRUE)
  rms_check(robust(f, cluster = a), metafor::robust(m, cluster = d$a), "k = 5200")
})
