# rma.mv() with known correlation matrices (R, Rscale) and user weights (W)
# against metafor::rma.mv() run with tight optimiser settings.  Tolerances:
# beta and SE 1e-6 relative (tol_iter), sigma2 1e-5, log-likelihoods 1e-8 at
# metafor's estimates (our fit with sigma2 fixed at them).

rw_tol_sigma2 <- 1e-5
rw_tol_ll <- 1e-8

# A simulated phylogeny-like design: 24 species with a p.d. correlation
# matrix (exponential decay of distances between random points), studies
# crossed with species, 1 to 4 effects per study.
rw_data <- function(seed = 12) {
  set.seed(seed)
  ns <- 24
  sp <- paste0("sp", sprintf("%02d", seq_len(ns)))
  pts <- matrix(stats::runif(2 * ns), ncol = 2)
  C <- exp(-as.matrix(stats::dist(pts)) / 0.4)
  dimnames(C) <- list(sp, sp)
  nstudy <- 30
  ni <- sample(1:4, nstudy, replace = TRUE)
  study <- rep(seq_len(nstudy), ni)
  k <- length(study)
  species <- sample(c(sp, sample(sp, k - ns, replace = TRUE)))  # every species present
  L <- t(chol(C))
  u <- c(L %*% stats::rnorm(ns)) * 0.3
  names(u) <- sp
  vi <- stats::runif(k, 0.01, 0.08)
  x <- stats::rnorm(k)
  yi <- 0.2 + 0.1 * x + u[species] + stats::rnorm(nstudy, 0, 0.2)[study] + stats::rnorm(k, 0, sqrt(vi))
  list(dat = data.frame(study = study, es = seq_len(k), species = species, phylo = species, yi = yi, vi = vi, x = x),
       C = C)
}

# beta, SE, vb, sigma2, QE, QM, both likelihoods at metafor's estimates
rw_expect_equal <- function(f, m, refit) {
  expect_true(f$convergence$converged)
  expect_equal(f$sigma2, m$sigma2, tolerance = rw_tol_sigma2)
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(f$se, m$se, tolerance = tol_iter)
  expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
  expect_equal(f$QE, m$QE, tolerance = tol_closed)
  expect_equal(f$QM, m$QM, tolerance = tol_iter)
  expect_identical(f$withR, m$withR)
  expect_identical(unname(f$Rfix), unname(m$Rfix))
  # at metafor's estimates: beta, vb and the log-likelihoods
  expect_equal(c(refit$beta), c(m$beta), tolerance = tol_iter)
  expect_equal(unname(refit$vb), unname(m$vb), tolerance = tol_iter)
  expect_equal(refit$fit.stats$ML[1L], m$fit.stats$ML[1L], tolerance = rw_tol_ll)
  expect_equal(refit$fit.stats$REML[1L], m$fit.stats$REML[1L], tolerance = rw_tol_ll)
  expect_equal(refit$fit.stats$ML[2L], m$fit.stats$ML[2L], tolerance = rw_tol_ll)
}

test_that("R: a known correlation matrix (phylogenetic) matches metafor, REML and ML", {
  skip_if_not_installed("metafor")
  s <- rw_data()
  dat <- s$dat
  rnd <- list(~ 1 | study, ~ 1 | species, ~ 1 | phylo)
  for (meth in c("REML", "ML")) {
    m <- mv_ref(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat, method = meth)
    f <- rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat, method = meth)
    g <- rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat, method = meth, sigma2 = m$sigma2)
    rw_expect_equal(f, m, g)
    expect_equal(f$R$phylo, m$R$phylo, tolerance = tol_closed)
  }
  # without R the phylo factor would be a copy of species: R changes the fit
  f0 <- rma.mv(yi, vi, mods = ~ x, random = rnd, data = dat)
  expect_false(isTRUE(all.equal(f0$sigma2, f$sigma2)))
})

test_that("R: Rscale 'cor', 'cor0', 'cov0' and FALSE on a covariance matrix match metafor", {
  skip_if_not_installed("metafor")
  s <- rw_data(3)
  dat <- s$dat
  sds <- seq(0.5, 2, length.out = nrow(s$C))
  Cv <- s$C * tcrossprod(sds)  # a covariance matrix
  rnd <- list(~ 1 | study, ~ 1 | phylo)
  for (rs in list("cor", "cor0", "cov0", FALSE)) {
    m <- mv_ref(yi, vi, random = rnd, R = list(phylo = Cv), Rscale = rs, data = dat)
    f <- rma.mv(yi, vi, random = rnd, R = list(phylo = Cv), Rscale = rs, data = dat)
    g <- rma.mv(yi, vi, random = rnd, R = list(phylo = Cv), Rscale = rs, data = dat, sigma2 = m$sigma2)
    rw_expect_equal(f, m, g)
    expect_equal(unname(f$R$phylo), unname(m$R$phylo), tolerance = tol_closed, info = format(rs))
    expect_identical(f$Rscale, m$Rscale)
  }
})

test_that("R: a subset of the levels, extra rows/columns, levels linked only through R", {
  skip_if_not_installed("metafor")
  s <- rw_data(5)
  # every species its own study-free row group: only R links the rows
  dat <- s$dat[s$dat$species %in% rownames(s$C)[1:18], ]
  expect_warning(f <- rma.mv(yi, vi, random = ~ 1 | phylo, R = list(phylo = s$C), data = dat),
                 "no data")
  m <- suppressWarnings(mv_ref(yi, vi, random = ~ 1 | phylo, R = list(phylo = s$C), data = dat))
  g <- suppressWarnings(rma.mv(yi, vi, random = ~ 1 | phylo, R = list(phylo = s$C), data = dat, sigma2 = m$sigma2))
  rw_expect_equal(f, m, g)
  # subset argument: R is restricted to the levels of the rows used
  sub <- s$dat$study <= 20
  m <- suppressWarnings(mv_ref(yi, vi, random = list(~ 1 | study, ~ 1 | phylo), R = list(phylo = s$C),
                                        data = s$dat, subset = sub))
  f <- suppressWarnings(rma.mv(yi, vi, random = list(~ 1 | study, ~ 1 | phylo), R = list(phylo = s$C),
                               data = s$dat, subset = sub))
  g <- suppressWarnings(rma.mv(yi, vi, random = list(~ 1 | study, ~ 1 | phylo), R = list(phylo = s$C),
                               data = s$dat, subset = sub, sigma2 = m$sigma2))
  rw_expect_equal(f, m, g)
})

test_that("R: the phylogenetic model of dat.moura2021 (subset, ape tree) matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  skip_if_not_installed("ape")
  d <- metadat::dat.moura2021$dat
  d <- metafor::escalc(measure = "ZCOR", ri = ri, ni = ni, data = d)
  d <- d[d$phylum %in% "Lophotrochozoa", ]
  tree <- ape::compute.brlen(ape::keep.tip(metadat::dat.moura2021$tree, unique(d$species.id)))
  A <- ape::vcv(tree, corr = TRUE)
  d$phylogeny <- d$species.id
  rnd <- list(~ 1 | study.id, ~ 1 | effect.size.id, ~ 1 | species.id, ~ 1 | phylogeny)
  m <- mv_ref(yi, vi, random = rnd, R = list(phylogeny = A), data = d)
  f <- rma.mv(yi, vi, random = rnd, R = list(phylogeny = A), data = d)
  g <- rma.mv(yi, vi, random = rnd, R = list(phylogeny = A), data = d, sigma2 = m$sigma2)
  rw_expect_equal(f, m, g)
})

test_that("R fits: hatvalues, weights, rstandard and rstudent match metafor", {
  skip_if_not_installed("metafor")
  s <- rw_data(7)
  dat <- s$dat
  rnd <- list(~ 1 | study, ~ 1 | phylo)
  m <- mv_ref(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat)
  f <- rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat, sigma2 = m$sigma2)
  expect_equal(unname(hatvalues(f)), unname(hatvalues(m)), tolerance = tol_iter)
  expect_equal(unname(weights(f)), unname(weights(m)), tolerance = tol_iter)
  expect_equal(rstandard(f)$z, rstandard(m)$z, tolerance = tol_iter)
  expect_equal(unname(weights(f, type = "matrix")), unname(weights(m, type = "matrix")), tolerance = tol_iter)
  # (ranef() and confint() of 'terms' structures, which R fits use, are not
  # available yet; their own messages)
  f2 <- rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = s$C), data = dat)
  # case deletion (variance components fixed at the full fit's)
  rsf <- rstudent(f2, reestimate = FALSE)
  rsm <- rstudent(m, reestimate = FALSE)
  expect_equal(rsf$z, rsm$z, tolerance = 1e-5)
})

test_that("R fits with Rscale = \"cor0\" / \"cov0\": case deletion rescales R over the levels kept, as metafor", {
  skip_if_not_installed("metafor")
  s <- rw_data(7)
  dat <- s$dat
  # (a covariance matrix with varying diagonal, so that cov0 differs from cor0)
  C <- s$C * tcrossprod(seq(0.5, 1.5, length.out = nrow(s$C)))
  rnd <- list(~ 1 | study, ~ 1 | phylo)
  for (rs in c("cor0", "cov0")) {
    m <- mv_ref(yi, vi, mods = ~ x, random = rnd, R = list(phylo = C), Rscale = rs, data = dat)
    g <- rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = C), Rscale = rs, data = dat, sigma2 = m$sigma2)
    # deleting a row whose species has one row removes that level: R changes for some rows
    un <- seq_len(g$k) - 1L
    if (rs == "cor0") expect_true(any(metafast:::.mf_mv_cd_rmin(g, un[g$mf.spec$order], g$k) != 0))
    a <- rstudent(g, reestimate = FALSE)
    b <- metafor:::rstudent.rma.mv(m, reestimate = FALSE)
    expect_equal(a$z, b$z, tolerance = 1e-7, info = rs)
    expect_equal(unname(cooks.distance(g, reestimate = FALSE)), unname(metafor:::cooks.distance.rma.mv(m, reestimate = FALSE)),
                 tolerance = 1e-7, info = rs)
    a <- rstudent(g, cluster = phylo, reestimate = FALSE)
    b <- metafor:::rstudent.rma.mv(m, cluster = phylo, reestimate = FALSE)
    expect_equal(a$cluster$X2, b$cluster$X2, tolerance = 1e-7, info = rs)
    # re-estimated components (metafor's refits converge to ~1e-6)
    f <- rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = C), Rscale = rs, data = dat)
    # (metafor's case deletion fails here at tight settings (NA) and stops
    # early at its defaults; so against metafor's own refits on the subsets,
    # R = its scaled R, re-scaled by rma.mv() over the species kept)
    cd <- cooks.distance(f, cluster = phylo)
    for (sp in c("sp08", "sp23", "sp05")) {  # (sp23, sp05: their deletion changes the scaled R)
      ms <- suppressWarnings(metafor::rma.mv(yi, vi, mods = ~ x, random = rnd, R = list(phylo = m$R[[2L]]), Rscale = rs,
                                             data = dat, subset = phylo != sp, control = list(rel.tol = 1e-10)))
      d <- c(f$beta) - c(ms$beta)
      expect_equal(unname(cd[sp]), sum(d * solve(f$vb, d)), tolerance = 1e-5, info = paste(rs, sp))
    }
  }
})

test_that("R: bad matrices are errors naming R", {
  s <- rw_data()
  dat <- s$dat
  rnd <- list(~ 1 | study, ~ 1 | phylo)
  C <- s$C
  expect_error(rma.mv(yi, vi, random = rnd, R = list(s$C), data = dat), "named")
  bad <- C; bad[1, 2] <- 0.99
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = bad), data = dat), "'R'.*not symmetric")
  bad <- C; bad[1, 2] <- bad[2, 1] <- NA
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = bad), data = dat), "'R'.*missing values")
  bad <- C[-1, -1]
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = bad), data = dat), "no matching rows/columns.*sp01")
  bad <- unname(C)
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = bad), data = dat), "dimension names")
  bad <- C; bad[1, 2] <- bad[2, 1] <- -0.99; bad[1, 3] <- bad[3, 1] <- 0.99
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = bad), data = dat), "not positive semi-definite")
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = C), Rscale = "foo", data = dat), "Rscale")
  bad <- C; diag(bad)[2] <- 0
  expect_error(rma.mv(yi, vi, random = rnd, R = list(phylo = bad), data = dat), "non-positive values on the diagonal")
  # a name not in 'random': metafor's warning, R disregarded
  expect_warning(f <- rma.mv(yi, vi, random = rnd, R = list(other = C), data = dat), "not in 'random'")
  expect_false(f$withR)
})

test_that("W: user weights (vector and matrix) match metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  dat$w <- 1 / (dat$vi + 0.05)
  r <- ~ 1 | district/school
  m <- mv_ref(yi, vi, W = w, mods = ~ I(year - 1990), random = r, data = dat)
  f <- rma.mv(yi, vi, W = w, mods = ~ I(year - 1990), random = r, data = dat)
  g <- rma.mv(yi, vi, W = w, mods = ~ I(year - 1990), random = r, data = dat, sigma2 = m$sigma2)
  rw_expect_equal(f, m, g)
  expect_equal(unname(f$W), unname(as.matrix(m$W)), tolerance = tol_closed)
  # the variance components are those without weights (as metafor)
  f0 <- rma.mv(yi, vi, mods = ~ I(year - 1990), random = r, data = dat)
  expect_equal(f$sigma2, f0$sigma2, tolerance = 1e-8)
  expect_false(isTRUE(all.equal(c(f$beta), c(f0$beta))))
  expect_equal(unname(weights(g)), unname(weights(m)), tolerance = tol_closed)
  expect_equal(unname(hatvalues(g)), unname(hatvalues(m)), tolerance = tol_closed)
  expect_equal(unname(hatvalues(g, type = "matrix")), unname(hatvalues(m, type = "matrix")), tolerance = tol_closed)
  expect_equal(unname(weights(g, type = "matrix")), unname(as.matrix(weights(m, type = "matrix"))), tolerance = tol_closed)
  expect_equal(unname(fitted(g)), unname(fitted(m)), tolerance = tol_iter)
  expect_equal(predict(g, newmods = 5)$pred, predict(m, newmods = 5)$pred, tolerance = tol_iter)
  expect_equal(predict(g, newmods = 5)$se, predict(m, newmods = 5)$se, tolerance = tol_iter)
  # ranef() is refused, as metafor
  expect_error(ranef(f), "non-standard weights \\('W'\\)")
  expect_error(metafor::ranef(m), "non-standard weights")
})

test_that("W: rstandard(), residuals() and the case deletion of user-weight fits match metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011[1:30, ]
  dat$w <- 1 / (dat$vi + 0.05)
  r <- ~ 1 | district/school
  m <- suppressWarnings(metafor::rma.mv(yi, vi, W = w, mods = ~ year, random = r, data = dat,
                                        control = list(rel.tol = 1e-10)))
  g <- rma.mv(yi, vi, W = w, mods = ~ year, random = r, data = dat, sigma2 = m$sigma2)
  ms <- metafor:::rstandard.rma.mv(m)
  expect_equal(rstandard(g)$z, ms$z, tolerance = tol_closed)
  expect_equal(rstandard(g)$se, ms$se, tolerance = tol_closed)
  a <- rstandard(g, cluster = district)
  b <- metafor:::rstandard.rma.mv(m, cluster = district)
  expect_equal(a$cluster$X2, b$cluster$X2, tolerance = tol_closed)
  for (tp in c("pearson", "cholesky", "rstandard"))
    expect_equal(unname(residuals(g, type = tp)), unname(residuals(m, type = tp)), tolerance = tol_closed)
  # case deletion at metafor's components (reestimate = FALSE: closed forms)
  a <- rstudent(g, reestimate = FALSE)
  b <- metafor:::rstudent.rma.mv(m, reestimate = FALSE)
  expect_equal(a$z, b$z, tolerance = tol_closed)
  a <- rstudent(g, cluster = district, reestimate = FALSE)
  b <- metafor:::rstudent.rma.mv(m, cluster = district, reestimate = FALSE)
  expect_equal(a$obs$se, b$obs$se, tolerance = tol_closed)
  expect_equal(a$cluster$X2, b$cluster$X2, tolerance = tol_closed)
  expect_equal(unname(cooks.distance(g, reestimate = FALSE)), unname(metafor:::cooks.distance.rma.mv(m, reestimate = FALSE)),
               tolerance = tol_closed)
  expect_equal(unname(as.matrix(dfbetas(g, cluster = district, reestimate = FALSE))),
               unname(as.matrix(metafor:::dfbetas.rma.mv(m, cluster = district, reestimate = FALSE))), tolerance = tol_closed)
  # re-estimated components (metafor's refits converge to ~1e-7)
  f <- rma.mv(yi, vi, W = w, mods = ~ year, random = r, data = dat)
  a <- rstudent(f, cluster = district)
  b <- metafor:::rstudent.rma.mv(m, cluster = district)
  expect_equal(a$obs$z, b$obs$z, tolerance = 1e-5)
  expect_equal(a$cluster$X2, b$cluster$X2, tolerance = 1e-5)
  expect_equal(unname(cooks.distance(f)), unname(metafor:::cooks.distance.rma.mv(m)), tolerance = 1e-5)
  expect_equal(unname(as.matrix(dfbetas(f))), unname(as.matrix(metafor:::dfbetas.rma.mv(m))), tolerance = 1e-5)
  # a matrix W (non-diagonal within districts)
  Wm <- diag(dat$w)
  for (d in unique(dat$district)) {
    i <- which(dat$district == d)
    Wm[i, i] <- Wm[i, i] + 0.3 * sqrt(tcrossprod(dat$w[i])) * (1 - diag(length(i)))
  }
  m2 <- suppressWarnings(metafor::rma.mv(yi, vi, W = Wm, mods = ~ year, random = r, data = dat,
                                         control = list(rel.tol = 1e-10)))
  g2 <- rma.mv(yi, vi, W = Wm, mods = ~ year, random = r, data = dat, sigma2 = m2$sigma2)
  expect_equal(rstandard(g2)$z, metafor:::rstandard.rma.mv(m2)$z, tolerance = tol_closed)
  expect_equal(rstudent(g2, reestimate = FALSE)$z, metafor:::rstudent.rma.mv(m2, reestimate = FALSE)$z,
               tolerance = tol_closed)
})

test_that("W: confint() and profile() of user-weight fits match metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011[1:30, ]
  dat$w <- 1 / (dat$vi + 0.05)
  r <- ~ 1 | district/school
  m <- suppressWarnings(metafor::rma.mv(yi, vi, W = w, mods = ~ year, random = r, data = dat,
                                        control = list(rel.tol = 1e-10)))
  f <- rma.mv(yi, vi, W = w, mods = ~ year, random = r, data = dat)
  a <- confint(f)
  b <- confint(m)
  for (j in 1:2) expect_equal(unname(a[[j]]$random[1:2, ]), unname(b[[j]]$random[, 1:3]), tolerance = 1e-5)
  # the profile at the same values: the log-likelihood at the weighted b
  pa <- profile(f, sigma2 = 2, xlim = c(0.002, 0.05), steps = 5, plot = FALSE)
  pb <- profile(m, sigma2 = 2, xlim = c(0.002, 0.05), steps = 5, plot = FALSE)
  expect_equal(pa$sigma2, pb$sigma2, tolerance = tol_closed)
  expect_equal(pa$ll, pb$ll, tolerance = 1e-6)
})

test_that("W: a weight matrix, crossed factors, ML, and missing weights match metafor", {
  skip_if_not_installed("metafor")
  s <- rw_data(9)
  dat <- s$dat
  k <- nrow(dat)
  # a block-diagonal weight matrix: within studies
  Wm <- diag(1 / dat$vi)
  same <- outer(dat$study, dat$study, "==") & !diag(k)
  Wm[same] <- 2
  rnd <- list(~ 1 | study, ~ 1 | species)
  for (meth in c("REML", "ML")) {
    m <- mv_ref(yi, vi, W = Wm, mods = ~ x, random = rnd, data = dat, method = meth)
    f <- rma.mv(yi, vi, W = Wm, mods = ~ x, random = rnd, data = dat, method = meth)
    g <- rma.mv(yi, vi, W = Wm, mods = ~ x, random = rnd, data = dat, method = meth, sigma2 = m$sigma2)
    rw_expect_equal(f, m, g)
  }
  # W with R
  m <- mv_ref(yi, vi, W = 1 / vi, random = list(~ 1 | study, ~ 1 | phylo), R = list(phylo = s$C),
                       data = dat)
  f <- rma.mv(yi, vi, W = 1 / vi, random = list(~ 1 | study, ~ 1 | phylo), R = list(phylo = s$C), data = dat)
  g <- rma.mv(yi, vi, W = 1 / vi, random = list(~ 1 | study, ~ 1 | phylo), R = list(phylo = s$C), data = dat,
              sigma2 = m$sigma2)
  rw_expect_equal(f, m, g)
  # a missing weight: the row is omitted (as metafor)
  w <- 1 / dat$vi
  w[3] <- NA
  m <- suppressWarnings(mv_ref(yi, vi, W = w, random = rnd, data = dat))
  expect_warning(f <- rma.mv(yi, vi, W = w, random = rnd, data = dat), "omitted")
  expect_equal(f$k, m$k)
  expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
  # bad weights
  expect_error(rma.mv(yi, vi, W = w[-1], random = rnd, data = dat), "'W' has length")
  bad <- Wm; bad[1, 2] <- 5
  expect_error(rma.mv(yi, vi, W = bad, random = rnd, data = dat), "'W' must be a symmetric")
  expect_error(rma.mv(yi, vi, W = Wm[-1, -1], random = rnd, data = dat), "'W' is a")
})

test_that("W: the sandwich from the engine's blocks of M on rows out of block order (metafor)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- metadat::dat.konstantopoulos2011
  set.seed(2)
  d <- d[sample(nrow(d)), ]
  w <- runif(nrow(d), 1, 5)
  f <- rma.mv(yi, vi, W = w, mods = ~ year, random = ~ 1 | district/school, data = d)
  expect_true(is.unsorted(f$mf.spec$order))
  m <- metafor::rma.mv(yi, vi, W = w, mods = ~ year, random = ~ 1 | district/school, data = d, sigma2 = f$sigma2)
  expect_equal(f$vb, m$vb, tolerance = 1e-8)
  expect_equal(c(f$beta), c(m$beta), tolerance = 1e-8)
  expect_equal(hatvalues(f), hatvalues(m), tolerance = 1e-8)
})

test_that("W: the forms metafor accepts (vector, matrix, data frame, sparse Matrix), held block-wise", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- metadat::dat.konstantopoulos2011
  set.seed(4)
  w <- runif(nrow(d), 1, 5)
  # block-diagonal weights by district: exchangeable within each
  Wb <- metafor::bldiag(lapply(split(w, d$district), function(v) {
    m <- 0.3 * tcrossprod(sqrt(v)); diag(m) <- v; m
  }))
  r <- ~ 1 | district/school
  m <- mv_ref(yi, vi, W = Wb, mods = ~ year, random = r, data = d)
  for (Wx in list(Wb, as.data.frame(Wb), Matrix::Matrix(Wb, sparse = TRUE), Matrix::forceSymmetric(Matrix::Matrix(Wb, sparse = TRUE)))) {
    f <- rma.mv(yi, vi, W = Wx, mods = ~ year, random = r, data = d, sigma2 = m$sigma2)
    expect_equal(c(f$beta), c(m$beta), tolerance = tol_closed)
    expect_equal(f$vb, m$vb, tolerance = tol_closed)
    expect_equal(unname(f$W), unname(as.matrix(m$W)), tolerance = 0)  # (metafor's dense k x k, built on access)
    expect_equal(weights(f), weights(m), tolerance = tol_closed)
    expect_equal(hatvalues(f), hatvalues(m), tolerance = tol_closed)
    # held as its non-zero entries, not as a k x k matrix
    expect_s4_class(.subset2(f, "mf.W"), "sparseMatrix")
    expect_null(.subset2(f, "W"))
  }
  # vector weights: their diagonal, O(k)
  f <- rma.mv(yi, vi, W = w, mods = ~ year, random = r, data = d)
  expect_s4_class(.subset2(f, "mf.W"), "sparseMatrix")
  expect_lt(as.numeric(object.size(.subset2(f, "mf.W"))), 8 * nrow(d)^2 / 4)
  expect_equal(diag(f$W), w)
  # a list of blocks: metafor's rma.mv() does not accept it (an error there
  # too); ours names 'W'
  expect_error(rma.mv(yi, vi, W = list(diag(2)), random = r, data = d), "'W' must be a vector or a symmetric matrix")
  expect_error(metafor::rma.mv(yi, vi, W = list(diag(2)), random = r, data = d))
})

test_that("W: vif(sim = ) of a user-weight fit matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  set.seed(3)
  w <- runif(nrow(dat), 1, 3)
  f <- rma.mv(yi, vi, W = w, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
  # (metafor's refits of the permuted data with W fail at rel.tol 1e-12,
  # nlminb's false convergence, and are NA there: its default settings, hence
  # the looser tolerance, its components being within ~1e-5)
  m <- metafor::rma.mv(yi, vi, W = w, mods = ~ year + deltype, random = ~ 1 | study/esid, data = dat)
  a <- vif(f, sim = 5, seed = 2)
  b <- metafor::vif(m, sim = 5, seed = 2, progbar = FALSE)
  expect_equal(unname(a$vifs), unname(b$vifs), tolerance = 1e-4)
  expect_false(anyNA(b$sim))
  expect_equal(c(a$sim), c(b$sim), tolerance = 1e-4)
})

test_that("W: case deletion, robust() and Wald_test_cwb() of a block-diagonal W work on its sparse blocks (metafor's values, no k x k matrix)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- metadat::dat.konstantopoulos2011
  set.seed(4)
  w <- runif(nrow(d), 1, 5)
  Wb <- metafor::bldiag(lapply(split(w, d$district), function(v) {
    m <- 0.3 * tcrossprod(sqrt(v)); diag(m) <- v; m
  }))
  r <- ~ 1 | district/school
  m <- suppressWarnings(mv_ref(yi, vi, W = Wb, mods = ~ year, random = r, data = d))
  f <- rma.mv(yi, vi, W = Matrix::Matrix(Wb, sparse = TRUE), mods = ~ year, random = r, data = d)
  g <- rma.mv(yi, vi, W = Wb, mods = ~ year, random = r, data = d, sigma2 = m$sigma2)
  expect_s4_class(.subset2(g, "mf.W"), "sparseMatrix")
  # the dense k x k expansion of the held W (.mf_mv_A()) is an error inside these methods
  # (replaced in the namespace for the duration; testthat 3.1.6 has no local_mocked_bindings())
  res <- (function() {
    ns <- asNamespace("metafast")
    orig <- get(".mf_mv_A", envir = ns)
    unlockBinding(".mf_mv_A", ns)
    on.exit({ assign(".mf_mv_A", orig, envir = ns); lockBinding(".mf_mv_A", ns) })
    assign(".mf_mv_A", function(x) stop("dense expansion of W"), envir = ns)
    list(cd = cooks.distance(g, cluster = district, reestimate = FALSE),
         dfb = dfbetas(g, cluster = district, reestimate = FALSE),
         rs = rstudent(g, cluster = district, reestimate = FALSE), rsf = rstudent(f, cluster = district),
         rb = robust(g, cluster = district), rc = robust(g, cluster = district, clubSandwich = TRUE),
         cwb = Wald_test_cwb(g, 2, R = 8, seed = 1, cluster = d$district))
  })()
  expect_equal(unname(res$cd), unname(metafor:::cooks.distance.rma.mv(m, cluster = d$district, reestimate = FALSE)),
               tolerance = tol_closed)
  expect_equal(unname(as.matrix(res$dfb)),
               unname(as.matrix(metafor:::dfbetas.rma.mv(m, cluster = d$district, reestimate = FALSE))), tolerance = tol_closed)
  b <- metafor:::rstudent.rma.mv(m, cluster = d$district, reestimate = FALSE)
  expect_equal(res$rs$cluster$X2, b$cluster$X2, tolerance = tol_closed)
  # (re-estimated: metafor's refits at its default settings, NA where nlminb stops unconverged)
  b <- metafor:::rstudent.rma.mv(m, cluster = d$district)$cluster$X2
  expect_gt(sum(!is.na(b)), 3)
  expect_equal(res$rsf$cluster$X2[!is.na(b)], b[!is.na(b)], tolerance = 1e-5)
  expect_equal(unname(res$rb$vb), unname(metafor::robust(m, cluster = d$district)$vb), tolerance = tol_closed)
  if (requireNamespace("clubSandwich", quietly = TRUE))
    expect_equal(unname(res$rc$vb), unname(as.matrix(clubSandwich::vcovCR(m, cluster = d$district, type = "CR2"))),
                 tolerance = tol_closed)
  expect_true(is.finite(res$cwb$p_val) && length(attr(res$cwb, "bootstraps")) == 8L)
  # weights(type = "matrix") gives the k x k matrix, from the held blocks
  expect_equal(unname(weights(f, type = "matrix")), unname(Wb), tolerance = 0)
})
