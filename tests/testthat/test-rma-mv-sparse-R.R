# Known correlation matrices (metafor's R, e.g. a phylogeny) in the sparse
# engine (core/sparse_objective.hpp: R^-1 in Henderson's equations), used
# when an R links more rows than the dense blocks allow (issue 12).  Checked
# against metafor::rma.mv() with tight optimiser settings: the fit (sigma2
# 1e-5, beta and SE 1e-6, log-likelihoods at metafor's estimates 1e-8) and
# the methods at the same variance components (closed forms, 1e-8).  The
# internal options of sparse_path_opts let small data take the sparse path.

skip_if_not_installed("metafor")

# 24 species with a positive definite correlation matrix (exponential decay
# of the distances between random points), crossed with 30 studies of 1 to
# 4 effects; clade: 6 groups of 4 species, and Cb the matrix C with the
# correlations between clades set to 0.
sr_data <- function(seed) {
  set.seed(seed)
  ns <- 24
  sp <- sprintf("sp%02d", seq_len(ns))
  pts <- matrix(stats::runif(2 * ns), ncol = 2)
  C <- exp(-as.matrix(stats::dist(pts)) / 0.4)
  dimnames(C) <- list(sp, sp)
  clade <- rep(seq_len(6), each = 4)
  Cb <- C * outer(clade, clade, "==")
  nstudy <- 30
  study <- rep(seq_len(nstudy), sample(1:4, nstudy, replace = TRUE))
  k <- length(study)
  species <- sample(c(sp, sample(sp, k - ns, replace = TRUE)))
  u <- c(t(chol(C)) %*% stats::rnorm(ns)) * 0.3
  names(u) <- sp
  vi <- stats::runif(k, 0.01, 0.08)
  x <- stats::rnorm(k)
  yi <- 0.2 + 0.1 * x + u[species] + stats::rnorm(nstudy, 0, 0.2)[study] + stats::rnorm(k, 0, sqrt(vi + 0.02))
  list(dat = data.frame(study = study, es = seq_len(k), species = species, phylo = species,
                        clade = clade[match(species, sp)], yi = yi, vi = vi, x = x),
       C = C, Cb = Cb)
}

sr_random <- list(~ 1 | study, ~ 1 | species, ~ 1 | phylo, ~ 1 | es)

test_that("R in the sparse engine: the fit is metafor's, REML and ML", {
  s <- sr_data(21)
  dat <- s$dat
  for (meth in c("REML", "ML")) {
    m <- mv_ref(yi, vi, mods = ~ x, random = sr_random, R = list(phylo = s$C), data = dat, method = meth)
    f <- with_mf_options(sparse_path_opts,
                         rma.mv(yi, vi, mods = ~ x, random = sr_random, R = list(phylo = s$C), data = dat, method = meth))
    expect_identical(f$mf.spec$structure$type, "crossed")
    expect_false(is.null(f$mf.spec$structure$R[[3L]]))
    expect_true(f$convergence$converged)
    expect_equal(f$sigma2, m$sigma2, tolerance = 1e-5)
    expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
    expect_equal(f$se, m$se, tolerance = tol_iter)
    expect_equal(f$QE, m$QE, tolerance = tol_closed)
    # at metafor's estimates: both log-likelihoods, beta and vb
    g <- with_mf_options(sparse_path_opts,
                         rma.mv(yi, vi, mods = ~ x, random = sr_random, R = list(phylo = s$C), data = dat, method = meth,
                                sigma2 = m$sigma2))
    expect_identical(g$mf.spec$structure$type, "crossed")
    expect_equal(g$fit.stats$ML[1L], m$fit.stats$ML[1L], tolerance = tol_closed)
    expect_equal(g$fit.stats$REML[1L], m$fit.stats$REML[1L], tolerance = tol_closed)
    expect_equal(c(g$beta), c(m$beta), tolerance = tol_closed)
    expect_equal(unname(g$vb), unname(m$vb), tolerance = tol_closed)
  }
  # Rscale = "cov0" (R minus its smallest entry, still positive definite here)
  m <- mv_ref(yi, vi, random = sr_random[2:4], R = list(phylo = s$C), Rscale = "cov0", data = dat)
  f <- with_mf_options(sparse_path_opts,
                       rma.mv(yi, vi, random = sr_random[2:4], R = list(phylo = s$C), Rscale = "cov0", data = dat))
  expect_identical(f$mf.spec$structure$type, "crossed")
  expect_equal(f$sigma2, m$sigma2, tolerance = 1e-5)
  expect_equal(f$fit.stats$REML[1L], m$fit.stats$REML[1L], tolerance = tol_closed)
})

test_that("R in the sparse engine: the methods are metafor's at the same variance components", {
  s <- sr_data(22)
  dat <- s$dat
  f <- with_mf_options(sparse_path_opts,
                       rma.mv(yi, vi, mods = ~ x, random = sr_random, R = list(phylo = s$C), data = dat))
  expect_identical(f$mf.spec$structure$type, "crossed")
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = sr_random, R = list(phylo = s$C), data = dat, sigma2 = f$sigma2)
  expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = tol_closed)
  expect_equal(unname(weights(f)), unname(weights(m)), tolerance = tol_closed)
  expect_equal(rstandard(f)$z, rstandard(m)$z, tolerance = tol_closed)
  expect_equal(unname(residuals(f, type = "pearson")), unname(residuals(m, type = "pearson")), tolerance = tol_closed)
  expect_equal(unname(as.matrix(vcov(f, type = "obs"))), unname(unclass(vcov(m, type = "obs"))), tolerance = tol_closed)
  expect_equal(unname(as.matrix(vcov(f, type = "resid"))), unname(unclass(vcov(m, type = "resid"))), tolerance = tol_closed)
  # BLUPs of every factor, the phylogenetic one sigma2 R Z'W e
  rf <- ranef(f)
  rm <- metafor::ranef(m)
  for (nm in names(rm)) {
    expect_equal(rownames(rf[[nm]]), rownames(rm[[nm]]))
    expect_equal(rf[[nm]]$intrcpt, rm[[nm]]$intrcpt, tolerance = tol_closed)
    expect_equal(rf[[nm]]$se, rm[[nm]]$se, tolerance = tol_closed)
  }
  pf <- predict(f, newmods = c(-1, 2))
  pm <- predict(m, newmods = c(-1, 2))
  expect_equal(c(pf$pi.lb), c(pm$pi.lb), tolerance = tol_closed)
  expect_equal(c(pf$pi.ub), c(pm$pi.ub), tolerance = tol_closed)
  # case deletion without re-estimation (refits of the sparse engine), and
  # rstandard by cluster (M's entries from V, the codes and R)
  expect_equal(rstudent(f, reestimate = FALSE)$z, rstudent(m, reestimate = FALSE)$z, tolerance = tol_closed)
  expect_equal(unname(cooks.distance(f, cluster = dat$study, reestimate = FALSE)),
               unname(cooks.distance(m, cluster = dat$study, reestimate = FALSE)), tolerance = tol_closed)
  expect_equal(rstandard(f, cluster = dat$study)$cluster$X2, rstandard(m, cluster = dat$study)$cluster$X2,
               tolerance = tol_closed)
  # robust() with clusters that R crosses (metafor's default estimator needs no nesting)
  expect_equal(robust(f, cluster = dat$study)$se, metafor::robust(m, cluster = dat$study)$se, tolerance = tol_closed)
})

test_that("R in the sparse engine: re-estimated case deletion and profile CIs are metafor's", {
  s <- sr_data(23)
  dat <- s$dat
  rnd <- list(~ 1 | study, ~ 1 | phylo)
  f <- with_mf_options(sparse_path_opts, rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat))
  expect_identical(f$mf.spec$structure$type, "crossed")
  m <- mv_ref(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat)
  cl <- dat$study %% 8
  rf <- rstudent(f, cluster = cl)
  rm <- suppressWarnings(rstudent(m, cluster = cl, control = mv_tight))
  expect_equal(rf$cluster$X2, rm$cluster$X2, tolerance = 1e-5)
  ci_f <- confint(f, sigma2 = 2)
  ci_m <- confint(m, sigma2 = 2, control = mv_tight)
  expect_equal(unname(ci_f$random[1L, ]), unname(ci_m$random[1L, ]), tolerance = 1e-5)
})

test_that("R in the sparse engine: clubSandwich-type robust() needs clusters that hold R's correlated levels", {
  s <- sr_data(24)
  dat <- s$dat
  rnd <- list(~ 1 | study, ~ 1 | phylo)
  fit <- function() rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$Cb), data = dat)
  # studies nested in clades: a study whose effects span two clades would cut a block
  dat$study <- paste(dat$clade, dat$study)
  # (each clade's block holds about 20 rows)
  f <- with_mf_options(list(metafast.mv_sparse_rows = 5L, metafast.mv_dense_rows = 5L), fit())
  expect_identical(f$mf.spec$structure$type, "crossed")
  f_block <- with_mf_options(list(metafast.mv_sparse_rows = 1e6L), fit())
  expect_false(identical(f_block$mf.spec$structure$type, "crossed"))
  expect_equal(f$sigma2, f_block$sigma2, tolerance = 1e-6)
  rb <- robust(f, cluster = dat$clade, clubSandwich = TRUE)
  rb_block <- robust(f_block, cluster = dat$clade, clubSandwich = TRUE)
  expect_equal(rb$se, rb_block$se, tolerance = 1e-6)
  expect_equal(rb$zval, rb_block$zval, tolerance = 1e-6)
  # species as clusters: the correlations of R cross them
  expect_error(robust(f, cluster = dat$species, clubSandwich = TRUE), "not nested within the clustering variable")
})

test_that("a singular R stays with the dense blocks, and above 5000 linked rows it is refused by name", {
  s <- sr_data(25)
  dat <- s$dat
  C <- s$C
  C["sp02", ] <- C["sp01", ]
  C[, "sp02"] <- C[, "sp01"]  # (two identical species: rank 23)
  rnd <- list(~ 1 | study, ~ 1 | phylo)
  f <- with_mf_options(sparse_path_opts, rma.mv(yi, vi, random = rnd, R = list(phylo = C), data = dat))
  expect_false(identical(f$mf.spec$structure$type, "crossed"))
  m <- mv_ref(yi, vi, random = rnd, R = list(phylo = C), data = dat)
  expect_equal(f$sigma2, m$sigma2, tolerance = 1e-5)
  expect_equal(f$fit.stats$REML[1L], m$fit.stats$REML[1L], tolerance = 1e-8)
  big <- dat[rep(seq_len(nrow(dat)), length.out = 5200L), ]
  big$study <- rep(seq_len(1300L), each = 4L)
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = C), data = big),
               "link 5200 rows.*known correlation matrix 'R' that is singular \\(for 'phylo'")
})

test_that("above 5000 rows linked by R (no option): the sparse fit is metafor's at the same components (level 2)", {
  skip_unless_level(2)
  set.seed(26)
  ns <- 150
  sp <- sprintf("sp%03d", seq_len(ns))
  pts <- matrix(stats::runif(2 * ns), ncol = 2)
  C <- exp(-as.matrix(stats::dist(pts)) / 0.3)
  dimnames(C) <- list(sp, sp)
  k <- 5200L
  dat <- data.frame(species = sample(sp, k, TRUE), x = stats::rnorm(k), vi = stats::runif(k, 0.01, 0.1))
  dat$phylo <- dat$species
  dat$es <- seq_len(k)
  u <- c(t(chol(C)) %*% stats::rnorm(ns)) * 0.3
  names(u) <- sp
  dat$yi <- 0.2 + 0.1 * dat$x + u[dat$species] + stats::rnorm(k, 0, sqrt(dat$vi + 0.03))
  rnd <- list(~ 1 | species, ~ 1 | phylo, ~ 1 | es)
  f <- rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = C), data = dat)
  expect_identical(f$mf.spec$structure$type, "crossed")
  expect_true(f$convergence$converged)
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = C), data = dat, sigma2 = f$sigma2)
  expect_equal(f$fit.stats$REML[1L], m$fit.stats$REML[1L], tolerance = tol_closed)
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_closed)
  expect_equal(f$se, m$se, tolerance = tol_closed)
  # the phylogenetic component's score of metafor's REML log-likelihood
  # vanishes at our estimate (each metafor call forms 5200 x 5200 matrices:
  # minutes, so one central difference)
  ll <- function(s2) metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = C), data = dat,
                                     sigma2 = s2)$fit.stats$REML[1L]
  h <- c(0, 1e-4 * f$sigma2[2L], 0)
  expect_gt(f$sigma2[2L], 1e-3)
  expect_lt(abs((ll(f$sigma2 + h) - ll(f$sigma2 - h)) / (2 * h[2L])), 1e-2)
})

# (issue 12, 2026-12-07: the message said "a known correlation matrix" for a W fit)
test_that("bug fix: the error for user weights W with more than 5000 linked rows names W, not R", {
  set.seed(27)
  k <- 5200L
  d <- data.frame(a = sample(400, k, TRUE), b = sample(30, k, TRUE), vi = stats::runif(k, 0.01, 0.1))
  d$yi <- stats::rnorm(k)
  expect_error(rma.mv(yi, vi, W = 1 / (d$vi + 0.1), random = list(~ 1 | a, ~ 1 | b), data = d),
               "link 5200 rows.*a fit with weights 'W' needs dense blocks")
})
