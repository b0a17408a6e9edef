# Methods of rma.mv() fits that need no refitting (R/methods-rma-mv-diag.R,
# src/rcpp_rma_mv_methods.cpp) against metafor's *.rma.mv methods, on
# metadat's three-level data.  metafor is fitted with the variance components
# fixed at ours, so both sides work at the same parameters (closed-form
# quantities: tol_closed, except where metafor's own dense inverses limit
# the agreement).

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

tol_m <- 1e-7  # metafor's chol2inv of the k x k M and of X'WX: ~1e-10 relative noise

# metafor at our variance components
mv_at <- function(f, ...) {
  cl <- match.call()
  cl[[1L]] <- quote(metafor::rma.mv)
  cl$f <- NULL
  cl$sigma2 <- f$sigma2
  eval(cl, parent.frame())
}

# metafor tightly converged: nlminb at rel.tol 1e-12, else Nelder-Mead
mv_tight_fit <- function(...) {
  cl <- match.call()
  cl[[1L]] <- quote(metafor::rma.mv)
  cl$control <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 20000)
  env <- parent.frame()
  tryCatch(eval(cl, env), error = function(e) {
    cl$control <- list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000)
    eval(cl, env)
  })
}

# rows of each cluster scattered over the data (the engine sorts them into blocks)
set.seed(12)
dat_k <- metadat::dat.konstantopoulos2011
dat_k <- dat_k[sample(nrow(dat_k)), ]
dat_a <- as.data.frame(metadat::dat.assink2016)
dat_a <- dat_a[sample(nrow(dat_a)), ]
dat_a$slab <- paste0("s", dat_a$study, ".", dat_a$esid)
V_a <- metafor::vcalc(vi, cluster = study, obs = esid, rho = 0.6, data = dat_a)

fits <- function() {
  list(
    k_int = list(ours = rma.mv(yi, vi, random = ~ 1 | district/school, data = dat_k)),
    k_mod = list(ours = rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k)),
    a_mod = list(ours = rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat_a,
                               slab = slab)),
    a_V = list(ours = rma.mv(yi, V_a, mods = ~ year, random = ~ 1 | study/esid, data = dat_a)),
    a_V_int = list(ours = rma.mv(yi, V_a, random = ~ 1 | study/esid, data = dat_a))
  )
}
F <- fits()
F$k_int$ref <- mv_at(F$k_int$ours, yi, vi, random = ~ 1 | district/school, data = dat_k)
F$k_mod$ref <- mv_at(F$k_mod$ours, yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k)
F$a_mod$ref <- mv_at(F$a_mod$ours, yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat_a,
                     slab = slab)
F$a_V$ref <- mv_at(F$a_V$ours, yi, V_a, mods = ~ year, random = ~ 1 | study/esid, data = dat_a)
F$a_V_int$ref <- mv_at(F$a_V_int$ours, yi, V_a, random = ~ 1 | study/esid, data = dat_a)

test_that("hatvalues() and weights() match metafor (diagonal, matrix, rowsum)", {
  for (nm in names(F)) {
    f <- F[[nm]]$ours; m <- F[[nm]]$ref
    expect_equal(hatvalues(f), hatvalues(m), tolerance = tol_m, label = nm)
    expect_equal(hatvalues(f, type = "matrix"), hatvalues(m, type = "matrix"), tolerance = tol_m, label = nm)
    expect_equal(weights(f), weights(m), tolerance = tol_m, label = nm)
    expect_equal(weights(f, type = "matrix"), weights(m, type = "matrix"), tolerance = tol_m, label = nm)
    if (f$int.only) {
      expect_equal(weights(f, type = "rowsum"), weights(m, type = "rowsum"), tolerance = tol_m, label = nm)
    } else {
      expect_error(weights(f, type = "rowsum"), "intercept-only")
    }
  }
  expect_equal(sum(hatvalues(F$a_mod$ours)), F$a_mod$ours$p, tolerance = tol_closed)
  expect_error(hatvalues(F$k_int$ours, type = "foo"), "'type'")
  expect_error(weights(F$k_int$ours, type = "foo"), "'type'")
})

test_that("fitted() and residuals() of every type match metafor", {
  for (nm in names(F)) {
    f <- F[[nm]]$ours; m <- F[[nm]]$ref
    expect_equal(fitted(f), fitted(m), tolerance = tol_m, label = nm)
    for (type in c("response", "rstandard", "pearson", "cholesky"))
      expect_equal(residuals(f, type = type), residuals(m, type = type), tolerance = tol_m,
                   label = paste(nm, type))
  }
  # (type = "rstudent": test-rma-mv-methods-more.R)
})

test_that("rstandard() matches metafor, with and without cluster", {
  for (nm in names(F)) {
    f <- F[[nm]]$ours; m <- F[[nm]]$ref
    a <- rstandard(f); b <- rstandard(m)
    expect_equal(a$resid, b$resid, tolerance = tol_m, label = nm)
    expect_equal(a$se, b$se, tolerance = tol_m, label = nm)
    expect_equal(a$z, b$z, tolerance = tol_m, label = nm)
    expect_equal(a$slab, b$slab)
  }
  f <- F$a_V$ours; m <- F$a_V$ref
  a <- rstandard(f, cluster = study); b <- rstandard(m, cluster = study)
  expect_equal(names(a), c("obs", "cluster"))
  expect_equal(a$obs$z, b$obs$z, tolerance = tol_m)
  expect_equal(a$obs$cluster, b$obs$cluster)
  expect_equal(a$cluster$X2, b$cluster$X2, tolerance = tol_m)
  expect_equal(a$cluster$k, b$cluster$k)
  expect_equal(a$cluster$slab, b$cluster$slab)
  # the one study with deltype "covert" fits that coefficient alone: its
  # Var(e)_cc is singular, X2 is NA (metafor's value there is rounding noise:
  # NA or an arbitrary number, depending on the order of the rows)
  a <- rstandard(F$a_mod$ours, cluster = study); b <- rstandard(F$a_mod$ref, cluster = study)
  sing <- a$cluster$slab == unique(dat_a$study[dat_a$deltype == "covert"])
  expect_true(is.na(a$cluster$X2[sing]))
  expect_equal(a$cluster$X2[!sing], b$cluster$X2[!sing], tolerance = tol_m)
  expect_equal(a$cluster$k, b$cluster$k)
  # a cluster that straddles the blocks of the engine (deltype across studies)
  a <- rstandard(F$a_V$ours, cluster = deltype); b <- rstandard(F$a_V$ref, cluster = deltype)
  expect_equal(a$cluster$X2, b$cluster$X2, tolerance = tol_m)
  expect_equal(a$cluster$slab, b$cluster$slab)
  # a vector given in the caller's frame
  cl <- dat_k$district
  a <- rstandard(F$k_mod$ours, cluster = cl); b <- rstandard(F$k_mod$ref, cluster = cl)
  expect_equal(a$cluster$X2, b$cluster$X2, tolerance = tol_m)
  out <- capture.output(print(a$cluster))
  expect_true(any(grepl("^11 +[0-9.]+ +4$", out)))  # k printed as a count, as metafor
  expect_equal(as.data.frame(a$cluster)$k, b$cluster$k)
  expect_error(rstandard(F$k_mod$ours, cluster = cl[-1]), "'cluster'")
  cl[3] <- NA
  expect_error(rstandard(F$k_mod$ours, cluster = cl), "'cluster'.*missing")
})

test_that("ranef() matches metafor's ranef.rma.mv (level, transf, expand, t tests)", {
  cmp <- function(a, b, label) {
    expect_equal(names(a), names(b), label = label)
    for (j in seq_along(b)) {
      expect_equal(rownames(a[[j]]), rownames(b[[j]]), label = label)
      expect_equal(colnames(a[[j]]), colnames(b[[j]]), label = label)
      expect_equal(as.matrix(a[[j]]), as.matrix(b[[j]]), tolerance = tol_m, label = label)
    }
  }
  for (nm in names(F)) cmp(ranef(F[[nm]]$ours), metafor::ranef(F[[nm]]$ref), nm)
  f <- F$k_mod$ours; m <- F$k_mod$ref
  cmp(ranef(f, level = 90), metafor::ranef(m, level = 90), "level")
  cmp(ranef(f, transf = exp), metafor::ranef(m, transf = exp), "transf")
  cmp(ranef(f, transf = function(x, a) x * a, targs = 2), metafor::ranef(m, transf = function(x, a) x * a, targs = 2), "targs")
  cmp(ranef(f, expand = TRUE), metafor::ranef(m, expand = TRUE), "expand")
  ft <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k, test = "t")
  mt <- mv_at(ft, yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k, test = "t")
  cmp(ranef(ft), metafor::ranef(mt), "t")
  fc <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k, test = "t", dfs = "contain")
  mc <- mv_at(fc, yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k, test = "t", dfs = "contain")
  cmp(ranef(fc), metafor::ranef(mc), "contain")
  # (vcov = TRUE: test-rma-mv-methods-more.R)
  expect_warning(ranef(f, foo = 1), "'foo'")
})

test_that("results are padded for rows omitted for missing values as metafor's", {
  d <- dat_a
  d$yi[c(4, 30)] <- NA
  d$year[50] <- NA
  f <- suppressWarnings(rma.mv(yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = d, slab = slab))
  m <- suppressWarnings(mv_at(f, yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = d, slab = slab))
  for (act in c("na.omit", "na.exclude", "na.pass")) {
    old <- options(na.action = act)
    expect_equal(hatvalues(f), hatvalues(m), tolerance = tol_m, label = act)
    expect_equal(hatvalues(f, type = "matrix"), hatvalues(m, type = "matrix"), tolerance = tol_m, label = act)
    expect_equal(weights(f), weights(m), tolerance = tol_m, label = act)
    expect_equal(weights(f, type = "matrix"), weights(m, type = "matrix"), tolerance = tol_m, label = act)
    expect_equal(fitted(f), fitted(m), tolerance = tol_m, label = act)
    for (type in c("response", "rstandard", "pearson", "cholesky"))
      expect_equal(residuals(f, type = type), residuals(m, type = type), tolerance = tol_m, label = paste(act, type))
    a <- rstandard(f); b <- rstandard(m)
    expect_equal(a$z, b$z, tolerance = tol_m, label = act)
    expect_equal(a$slab, b$slab, label = act)
    a <- rstandard(f, cluster = study); b <- rstandard(m, cluster = study)
    expect_equal(a$obs$cluster, b$obs$cluster, label = act)
    expect_equal(a$cluster$X2, b$cluster$X2, tolerance = tol_m, label = act)
    expect_equal(a$cluster$k, b$cluster$k, label = act)
    a <- ranef(f); b <- metafor::ranef(m)
    for (j in seq_along(b)) {
      expect_equal(rownames(a[[j]]), rownames(b[[j]]), label = act)
      expect_equal(as.matrix(a[[j]]), as.matrix(b[[j]]), tolerance = tol_m, label = act)
    }
    options(old)
  }
  old <- options(na.action = "na.fail")
  on.exit(options(old))
  expect_error(hatvalues(f), "Missing values")
  expect_error(weights(f), "Missing values")
  expect_error(rstandard(f), "Missing values")
})

test_that("anova(): Wald tests of one fit match metafor", {
  f <- F$a_mod$ours; m <- F$a_mod$ref
  cmp <- function(a, b) {
    for (nm in intersect(c("QM", "QMp", "Xb", "se", "zval", "pval"), names(b)))
      expect_equal(unname(c(a[[nm]])), unname(c(b[[nm]])), tolerance = tol_iter, label = nm)
    expect_equal(unname(a$QMdf), unname(b$QMdf))
  }
  cmp(anova(f), anova(m))
  cmp(anova(f, btt = 2), anova(m, btt = 2))
  cmp(anova(f, btt = 2:3, rhs = c(0.1, 0)), anova(m, btt = 2:3, rhs = c(0.1, 0)))
  X <- rbind(c(1, 0, 0), c(1, 1, 0), c(1, 0, 5))
  cmp(anova(f, X = X), anova(m, X = X))
  cmp(anova(f, X = X, rhs = 0.2, adjust = "holm"), anova(m, X = X, rhs = 0.2, adjust = "holm"))
  a <- anova(f, btt = list(2, 3), adjust = TRUE); b <- anova(m, btt = list(2, 3), adjust = TRUE)
  expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_iter, ignore_attr = TRUE)
  expect_equal(as.data.frame(anova(f, X = X)), as.data.frame(anova(m, X = X)), tolerance = tol_iter,
               ignore_attr = TRUE)
  # t tests with the fit's denominator df (containment: differ per coefficient)
  ft <- rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat_a, dfs = "contain")
  mt <- mv_at(ft, yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat_a, dfs = "contain")
  cmp(anova(ft), anova(mt))
  cmp(anova(ft, btt = 3), anova(mt, btt = 3))
  cmp(anova(ft, X = X), anova(mt, X = X))
  expect_equal(unname(anova(ft, X = X)$ddf), unname(anova(mt, X = X)$ddf))
  expect_output(print(anova(ft, X = X)), "Omnibus Test of Hypotheses")
  expect_equal(anova(f, L = X), anova(f, X = X))  # (metafor's alias: test-rma-mv-methods-more.R)
  expect_error(anova(f, att = 1), "'att'")
})

test_that("anova(): likelihood ratio test of nested fits matches metafor", {
  f1 <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k, method = "ML")
  f0 <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat_k, method = "ML")
  m1 <- mv_tight_fit(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k, method = "ML")
  m0 <- mv_tight_fit(yi, vi, random = ~ 1 | district/school, data = dat_k, method = "ML")
  a <- anova(f1, f0); b <- anova(m1, m0)
  expect_equal(a$LRT, b$LRT, tolerance = 1e-5)
  expect_equal(a$pval, b$pval, tolerance = 1e-5)
  expect_equal(c(a$parms.f, a$parms.r), c(b$parms.f, b$parms.r))
  expect_equal(a$fit.stats.f[c("ll", "AIC", "BIC", "AICc")], b$fit.stats.f[c("ll", "AIC", "BIC", "AICc")],
               tolerance = tol_iter)
  expect_equal(c(a$QE.f, a$QE.r), c(b$QE.f, b$QE.r), tolerance = tol_closed)
  expect_equal(as.data.frame(anova(f0, f1)), as.data.frame(b), tolerance = 1e-5)
  expect_equal(colnames(as.data.frame(a)), colnames(as.data.frame(b)))
  out <- capture.output(print(a))
  expect_false(any(grepl("R\\^2|tau\\^2", out)))
  # a variance component fixed to 0 (REML, same fixed effects)
  g1 <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat_k)
  g0 <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat_k, sigma2 = c(0, NA))
  h1 <- mv_tight_fit(yi, vi, random = ~ 1 | district/school, data = dat_k)
  h0 <- mv_tight_fit(yi, vi, random = ~ 1 | district/school, data = dat_k, sigma2 = c(0, NA))
  expect_equal(anova(g1, g0)$LRT, anova(h1, h0)$LRT, tolerance = 1e-5)
  # REML fits with different fixed effects: metafor's warning, or refit with ML
  r1 <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k)
  expect_warning(anova(r1, g1), "REML comparisons")
  a <- anova(r1, g1, refit = TRUE)
  expect_equal(a$LRT, b$LRT, tolerance = 1e-5)
  expect_error(anova(r1, F$a_mod$ours), "not equal")
  expect_error(anova(r1, rma(yi, vi, data = dat_k)), "object2")
})

test_that("update() refits an rma.mv() fit", {
  f <- F$k_int$ours
  u <- update(f, mods = ~ year)
  expect_s3_class(u, "mf_rma_mv")
  expect_equal(c(u$beta), c(F$k_mod$ours$beta), tolerance = tol_closed)
  u2 <- update(f, ~ . + year)
  expect_equal(c(u2$beta), c(F$k_mod$ours$beta), tolerance = tol_closed)
  u3 <- update(F$k_mod$ours, method = "ML")
  m3 <- mv_tight_fit(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat_k, method = "ML")
  expect_equal(u3$sigma2, m3$sigma2, tolerance = 1e-5)
  expect_true(is.call(update(f, method = "ML", evaluate = FALSE)))
})

test_that("tidy(), glance() and augment() of rma.mv() fits agree with metafor's results", {
  skip_if_not_installed("generics")
  f <- F$a_mod$ours; m <- F$a_mod$ref
  td <- generics::tidy(f, conf.int = TRUE)
  expect_equal(td$term, rownames(m$beta))
  expect_equal(td$estimate, c(m$beta), tolerance = tol_iter)
  expect_equal(td$std.error, m$se, tolerance = tol_iter)
  expect_equal(td$conf.low, m$ci.lb, tolerance = tol_iter)
  ci90 <- generics::tidy(f, conf.int = TRUE, conf.level = 0.9)
  expect_equal(ci90$conf.high, c(m$beta) + qnorm(0.95) * m$se, tolerance = tol_iter)
  gl <- generics::glance(f)
  expect_equal(gl$nobs, m$k)
  expect_equal(gl$QE, m$QE, tolerance = tol_closed)
  expect_equal(c(gl$sigma2.1, gl$sigma2.2), m$sigma2)
  au <- generics::augment(f)
  expect_equal(au$.hat, unname(hatvalues(m)), tolerance = tol_m)
  expect_equal(au$.std.resid, unname(rstandard(m)$z), tolerance = tol_m)
  expect_equal(au$.weight, unname(weights(m)), tolerance = tol_m)
  expect_equal(au$.fitted, unname(fitted(m)), tolerance = tol_m)
})
