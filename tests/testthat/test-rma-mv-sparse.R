# The sparse engine of crossed random effects (src/core/sparse_objective.hpp,
# glue .mf_rma_mv_fit_sparse) against metafor::rma.mv(random = list(~ 1 | a,
# ~ 1 | b, ...), sparse = TRUE) run with tight optimiser settings.  The spec
# is built by hand in most tests; the last ones go through rma.mv(), which
# routes crossed factors linking more than 100 rows (the internal option
# metafast.mv_sparse_rows) to the sparse engine.
# Tolerances: theta, beta, vb and the log-likelihoods at the estimates
# tol_iter (1e-6 relative); QE (from V alone) tol_closed; the log-likelihoods
# at metafor's estimates (our objective with theta fixed there) 1e-8.

sp_tight <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 20000)
# metafor with nlminb at rel.tol 1e-12, or Nelder-Mead at reltol 1e-14 where
# nlminb reports false convergence (as test-rma-mv.R)
sp_ref <- function(...) {
  cl <- match.call()
  cl[[1L]] <- quote(metafor::rma.mv)
  cl$control <- sp_tight
  cl$sparse <- TRUE
  env <- parent.frame()
  tryCatch(eval(cl, env), error = function(e) {
    cl$control <- list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000)
    eval(cl, env)
  })
}

# The spec of a crossed model: facs a list of the L grouping variables,
# block the variable whose levels delimit the dense V blocks (NULL: V = diag(vi),
# V is then a vector); V a k x k matrix (block diagonal over block).
sp_spec <- function(yi, V, X, facs, fixed = rep(NA_real_, length(facs)), block = NULL) {
  k <- length(yi)
  if (is.null(block)) {
    o <- seq_len(k)
    vi <- V
    offsets <- integer(0)
    Vblocks <- numeric(0)
  } else {
    g <- as.integer(factor(block))
    o <- order(g)
    vi <- diag(V)
    sizes <- tabulate(g)
    offsets <- c(0L, cumsum(sizes))
    Vblocks <- unlist(lapply(seq_along(sizes), function(b) {
      r <- o[(offsets[b] + 1L):offsets[b + 1L]]
      c(V[r, r, drop = FALSE])
    }))
  }
  codes <- vapply(facs, function(f) as.integer(factor(f))[o], integer(k))
  codes <- matrix(codes, nrow = k)
  metafast:::.mf_mv_spec(yi, vi, X, o, offsets, Vblocks,
                         list(type = "crossed", codes = codes, nlevels = as.integer(apply(codes, 2, max)),
                              fixed = as.double(fixed)))
}

sp_fit <- function(spec, reml = TRUE, start = NULL) {
  L <- ncol(spec$structure$codes)
  metafast:::.mf_rma_mv_fit_sparse(spec, if (is.null(start)) rep(NA_real_, L) else start, reml, 1e-10, 1000L, 1)
}

expect_sparse_equal <- function(f, m, spec, reml) {
  expect_true(f$convergence$converged)
  expect_equal(f$theta, m$sigma2, tolerance = tol_iter)
  expect_equal(f$beta, c(m$beta), tolerance = tol_iter)
  expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
  expect_equal(c(f$ll.ML, f$ll.REML), unname(unlist(m$fit.stats["ll", ])), tolerance = tol_iter)
  expect_equal(f$QE, m$QE, tolerance = tol_closed)
  # the log-likelihood at metafor's estimates
  spec$structure$fixed <- m$sigma2
  g <- sp_fit(spec, reml)
  expect_equal(if (reml) g$ll.REML else g$ll.ML, as.numeric(logLik(m)), tolerance = 1e-8)
  expect_equal(g$theta, m$sigma2)
}

# simulated crossed data: ns studies, no outcomes, each study reporting 1-5
# of the outcomes, one moderator
sp_sim <- function(ns, no, seed) {
  set.seed(seed)
  rows <- lapply(seq_len(ns), function(s) {
    n <- sample(1:5, 1)
    data.frame(study = s, outcome = sort(sample(no, min(n, no))))
  })
  d <- do.call(rbind, rows)
  k <- nrow(d)
  d$x <- rnorm(k)
  d$vi <- runif(k, 0.01, 0.2)
  u <- rnorm(ns, 0, sqrt(0.08))
  w <- rnorm(no, 0, sqrt(0.05))
  d$yi <- 0.2 + 0.1 * d$x + u[d$study] + w[d$outcome] + rnorm(k, 0, sqrt(d$vi))
  d
}

test_that("crossed study x outcome (diagonal V) equals metafor, REML and ML", {
  skip_if_not_installed("metafor")
  d <- sp_sim(60, 8, 1)
  X <- cbind(intrcpt = rep(1, nrow(d)), x = d$x)
  spec <- sp_spec(d$yi, d$vi, X, list(d$study, d$outcome))
  for (method in c("REML", "ML")) {
    m <- sp_ref(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d, method = method)
    f <- sp_fit(spec, method == "REML")
    expect_sparse_equal(f, m, spec, method == "REML")
  }
})

test_that("crossed terms with dense V blocks (correlated outcomes within studies) equal metafor", {
  skip_if_not_installed("metafor")
  d <- sp_sim(50, 6, 2)
  V <- metafor::vcalc(vi, cluster = study, obs = outcome, rho = 0.6, data = d)
  V <- as.matrix(V)
  X <- cbind(intrcpt = rep(1, nrow(d)), x = d$x)
  # rows shuffled: the spec sorts them into the V blocks
  sh <- sample(nrow(d))
  d <- d[sh, ]
  V <- V[sh, sh]
  spec <- sp_spec(d$yi, V, X[sh, ], list(d$study, d$outcome), block = d$study)
  expect_true(length(spec$Vblocks) > 0)
  for (method in c("REML", "ML")) {
    m <- sp_ref(yi, V, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d, method = method)
    f <- sp_fit(spec, method == "REML")
    expect_sparse_equal(f, m, spec, method == "REML")
  }
})

test_that("a fixed component (sigma2 = c(NA, 0) and c(NA, 0.03)) equals metafor", {
  skip_if_not_installed("metafor")
  d <- sp_sim(40, 5, 3)
  X <- cbind(intrcpt = rep(1, nrow(d)))
  for (fx in c(0, 0.03)) {
    spec <- sp_spec(d$yi, d$vi, X, list(d$study, d$outcome), fixed = c(NA, fx))
    m <- sp_ref(yi, vi, random = list(~ 1 | study, ~ 1 | outcome), data = d, sigma2 = c(NA, fx))
    f <- sp_fit(spec)
    expect_equal(f$theta[2], fx)
    expect_sparse_equal(f, m, spec, TRUE)
  }
})

test_that("a component estimated at 0 equals metafor", {
  skip_if_not_installed("metafor")
  set.seed(4)
  d <- sp_sim(40, 5, 4)
  d$yi <- 0.2 + rnorm(nrow(d), 0, sqrt(d$vi))  # no heterogeneity from either term
  spec <- sp_spec(d$yi, d$vi, cbind(intrcpt = rep(1, nrow(d))), list(d$study, d$outcome))
  m <- sp_ref(yi, vi, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  f <- sp_fit(spec)
  expect_true(f$convergence$converged)
  expect_equal(f$theta, m$sigma2, tolerance = 1e-5)
  expect_equal(f$beta, c(m$beta), tolerance = tol_iter)
  expect_equal(as.numeric(f$ll.REML), as.numeric(logLik(m)), tolerance = 1e-8)
})

test_that("dat.lim2014: article, effect and species crossed equal metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  d <- metadat::dat.lim2014$m_o_size
  d <- metafor::escalc("ZCOR", ri = ri, ni = ni, data = d)
  d$esid <- seq_len(nrow(d))
  spec <- sp_spec(c(d$yi), d$vi, cbind(intrcpt = rep(1, nrow(d))), list(d$article, d$esid, d$species))
  m <- sp_ref(yi, vi, random = list(~ 1 | article, ~ 1 | esid, ~ 1 | species), data = d)
  f <- sp_fit(spec)
  expect_sparse_equal(f, m, spec, TRUE)
  # with a moderator and ML
  X <- cbind(intrcpt = rep(1, nrow(d)), environmentwild = as.numeric(d$environment == "wild"))
  spec <- sp_spec(c(d$yi), d$vi, X, list(d$article, d$esid, d$species))
  m <- sp_ref(yi, vi, mods = ~ environment, random = list(~ 1 | article, ~ 1 | esid, ~ 1 | species), data = d,
              method = "ML")
  f <- sp_fit(spec, FALSE)
  expect_sparse_equal(f, m, spec, FALSE)
})

test_that("starting values and a V that is not positive definite", {
  d <- sp_sim(30, 4, 5)
  spec <- sp_spec(d$yi, d$vi, cbind(intrcpt = rep(1, nrow(d))), list(d$study, d$outcome))
  a <- sp_fit(spec)
  b <- sp_fit(spec, start = c(0.5, NA))
  expect_true(b$convergence$converged)
  expect_equal(b$theta, a$theta, tolerance = 1e-6)
  spec$v[3] <- 0
  z <- sp_fit(spec)
  expect_false(z$convergence$converged)
  expect_length(z$beta, 0)
  expect_match(z$convergence$message, "not positive definite")
})

test_that("rma.mv() routes linked crossed factors to the sparse engine: metafor's fit, methods on the dense blocks", {
  skip_if_not_installed("metafor")
  d <- sp_sim(50, 6, 2)
  V <- as.matrix(metafor::vcalc(vi, cluster = study, obs = outcome, rho = 0.6, data = d))
  sh <- sample(nrow(d))
  d <- d[sh, ]
  V <- V[sh, sh]
  m <- sp_ref(yi, V, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  dense <- rma.mv(yi, V, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  old <- options(metafast.mv_sparse_rows = 0L)
  on.exit(options(old))
  sparse <- rma.mv(yi, V, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  expect_identical(sparse$mf.spec$structure$type, "terms")  # the dense blocks, for the methods
  for (f in list(dense, sparse)) {
    expect_equal(f$sigma2, m$sigma2, tolerance = tol_iter)
    expect_equal(c(f$beta), c(m$beta), tolerance = tol_iter)
    expect_equal(unname(f$vb), unname(m$vb), tolerance = tol_iter)
    expect_equal(f$fit.stats, m$fit.stats, tolerance = tol_iter, ignore_attr = TRUE)
    expect_equal(f$QE, m$QE, tolerance = tol_closed)
  }
  expect_equal(unname(hatvalues(sparse)), unname(hatvalues(dense)), tolerance = tol_iter)
  # an inner | outer term still needs the dense blocks
  cs <- rma.mv(yi, vi, random = ~ outcome | study, data = d)
  expect_identical(cs$mf.spec$structure$type, "terms")
  expect_true(cs$convergence$converged)
})

test_that("a crossed fit beyond the dense blocks' limit: the fit works", {
  skip_unless_level(2)
  d <- sp_sim(2000, 40, 3)
  while (nrow(d) <= 5000L) d <- rbind(d, transform(sp_sim(200, 40, nrow(d)), study = study + max(d$study)))
  f <- rma.mv(yi, vi, random = list(~ 1 | study, ~ 1 | outcome), data = d)
  expect_identical(f$mf.spec$structure$type, "crossed")
  expect_true(f$convergence$converged)
  # (hat values come from the sparse factor, test-rma-mv-sparse-diag.R; the
  # refits of case deletion from the sparse engine, test-rma-mv-sparse-deletion.R)
  expect_length(hatvalues(f), nrow(d))
})
