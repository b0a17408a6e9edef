# metafor's arguments of anova, vcov, hatvalues, weights, predict, and
# vif(), blup(), ranef(), as.data.frame() on the results: each against
# metafor (rma.uni fits on metadat data, with and without moderators, z and
# knha tests, EE and RE).

mf_fits <- function(dat, mods, meth, test, w = FALSE) {
  if (w) {
    f <- rma(yi, vi, weights = w, mods = mods, data = dat, method = meth, test = test)
    m <- metafor::rma(yi, vi, weights = w, mods = mods, data = dat, method = meth, test = test, control = metafor_tight)
  } else if (is.null(mods)) {
    f <- rma(yi, vi, data = dat, method = meth, test = test)
    m <- metafor::rma(yi, vi, data = dat, method = meth, test = test, control = metafor_tight)
  } else {
    f <- rma(yi, vi, mods = mods, data = dat, method = meth, test = test)
    m <- metafor::rma(yi, vi, mods = mods, data = dat, method = meth, test = test, control = metafor_tight)
  }
  list(f = f, m = m)
}

# metafor's numeric results as plain values (no vcovmat class, no attributes)
plain <- function(v) { v <- unclass(v); attributes(v) <- attributes(v)[intersect(names(attributes(v)), c("dim", "dimnames", "names"))]; v }

dat_bcg <- function() {
  d <- metadat::dat.bcg
  es <- metafor::escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)
  data.frame(yi = c(es$yi), vi = c(es$vi), ablat = d$ablat, year = d$year, alloc = d$alloc,
             stringsAsFactors = FALSE)
}

dat_normand <- function() {
  d <- metadat::dat.normand1999
  es <- metafor::escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                        n2i = n2i, data = d)
  data.frame(yi = c(es$yi), vi = c(es$vi), n = d$n1i + d$n2i)
}

grid <- list(list(meth = "REML", test = "z"), list(meth = "REML", test = "knha"),
             list(meth = "EE", test = "z"), list(meth = "EE", test = "knha"),
             list(meth = "DL", test = "z"))

test_that("anova(rhs =, adjust =) and list btt match metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- dat_bcg()
  for (g in grid) {
    info <- paste(g$meth, g$test)
    p <- mf_fits(dat, ~ ablat + factor(alloc), g$meth, g$test)
    X <- rbind(c(1, 10, 0, 0), c(1, 30, 1, 0), c(0, 0, 1, -1))
    for (adj in list(NULL, "holm", TRUE, "BH")) for (rhs in list(NULL, 0.1, c(0.1, -0.5, 0.2))) {
      args <- c(list(X = X), if (!is.null(rhs)) list(rhs = rhs), if (!is.null(adj)) list(adjust = adj))
      a <- do.call(anova, c(list(p$f), args)); b <- do.call(anova, c(list(p$m), args))
      ii <- paste(info, deparse(adj), deparse(rhs))
      expect_equal(c(a$Xb), c(b$Xb), tolerance = tol_iter, info = ii)
      expect_equal(a$se, b$se, tolerance = tol_iter, info = ii)
      expect_equal(a$zval, b$zval, tolerance = tol_iter, info = ii)
      expect_equal(a$pval, b$pval, tolerance = tol_iter, info = ii)
      expect_equal(a$QM, b$QM, tolerance = tol_iter, info = ii)
      expect_equal(a$QMp, b$QMp, tolerance = tol_iter, info = ii)
      expect_equal(a$hyp, b$hyp[[1]], info = ii)
      expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_iter, info = ii)
    }
    # a single contrast, and rhs on btt
    a <- anova(p$f, X = c(1, 20, 0, 1), rhs = -0.3); b <- anova(p$m, X = c(1, 20, 0, 1), rhs = -0.3)
    expect_equal(c(a$QM, a$QMp, a$pval), c(b$QM, b$QMp, b$pval), tolerance = tol_iter, info = info)
    expect_output(print(a), "Test of Hypothesis:")
    for (rhs in list(0.02, c(0.02, 0.1, -0.1))) {
      a <- anova(p$f, btt = 2:4, rhs = rhs); b <- anova(p$m, btt = 2:4, rhs = rhs)
      expect_equal(c(a$QM, a$QMp), c(b$QM, b$QMp), tolerance = tol_iter, info = info)
      expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_iter, info = info)
    }
    # list btt (and several strings): one test each, adjusted
    for (btt in list(list(2, 3:4), c("ablat", "alloc"))) for (adj in list(NULL, "bonferroni", "hochberg")) {
      args <- c(list(btt = btt), if (!is.null(adj)) list(adjust = adj))
      a <- do.call(anova, c(list(p$f), args)); b <- do.call(anova, c(list(p$m), args))
      expect_s3_class(a, "list.anova.mf_rma")
      expect_equal(names(a), names(b), info = info)
      expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_iter, info = info)
      expect_output(print(a), "pval")
    }
  }
  # the likelihood ratio test as a data frame
  f1 <- rma(yi, vi, mods = ~ ablat, data = dat, method = "ML")
  f0 <- rma(yi, vi, data = dat, method = "ML")
  m1 <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "ML", control = metafor_tight)
  m0 <- metafor::rma(yi, vi, data = dat, method = "ML", control = metafor_tight)
  expect_equal(as.data.frame(anova(f1, f0)), as.data.frame(anova(m1, m0)), tolerance = tol_iter)
})

test_that("anova() rejects att, Z, a bad adjust and a bad rhs by name", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_error(anova(f, att = 2), "'att'.*location-scale")
  expect_error(anova(f, Z = c(1, 1)), "'Z'.*location-scale")
  expect_error(anova(f, X = c(1, 10), adjust = "nope"), "'adjust'")
  expect_error(anova(f, X = rbind(c(1, 10), c(1, 20)), rhs = 1:3), "'rhs'")
  expect_error(anova(f, btt = 2, rhs = "a"), "'rhs'")
  expect_error(anova(f, btt = list(1, 2), rhs = 1), "'rhs'")
})

test_that("vcov(type =) matches metafor, with dimnames and na.action", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- dat_bcg()
  dat$yi[3] <- NA
  dat$w <- 1 / (dat$vi + 0.05)
  op <- options(na.action = "na.omit")
  on.exit(options(op))
  for (na in c("na.omit", "na.exclude", "na.pass")) for (g in grid) for (wt in c(FALSE, TRUE)) {
    options(na.action = na)
    info <- paste(na, g$meth, g$test, wt)
    p <- suppressWarnings(mf_fits(dat, ~ ablat, g$meth, g$test, w = wt))
    for (ty in c("fixed", "beta", "obs", "marginal", "fitted", "resid")) {
      a <- vcov(p$f, type = ty); b <- plain(vcov(p$m, type = ty))
      expect_equal(unname(a), unname(b), tolerance = tol_iter, info = paste(info, ty))
      if (ty %in% c("obs", "fitted", "resid"))
        expect_identical(dimnames(a), lapply(dimnames(b), as.character), info = paste(info, ty))
    }
    a <- hatvalues(p$f, type = "matrix"); b <- hatvalues(p$m, type = "matrix")
    expect_equal(a, plain(b), tolerance = tol_iter, ignore_attr = "dimnames", info = info)
    expect_identical(dimnames(a), lapply(dimnames(b), as.character), info = info)
    expect_equal(unname(diag(hatvalues(p$f, type = "matrix"))), unname(hatvalues(p$m)), tolerance = tol_iter, info = info)
    a <- weights(p$f, type = "matrix"); b <- weights(p$m, type = "matrix")
    expect_equal(a, plain(b), tolerance = tol_iter, ignore_attr = "dimnames", info = info)
    expect_identical(dimnames(a), lapply(dimnames(b), as.character), info = info)
  }
  options(na.action = "na.omit")
  # an intercept-only model on other data
  d2 <- dat_normand()
  p <- mf_fits(d2, NULL, "REML", "z")
  for (ty in c("obs", "fitted", "resid"))
    expect_equal(unname(vcov(p$f, type = ty)), unname(plain(vcov(p$m, type = ty))), tolerance = tol_iter, info = ty)
  # Var(e) of the residuals: its diagonal gives rstandard's standard errors
  expect_equal(unname(sqrt(diag(vcov(p$f, type = "resid")))), rstandard(p$f)$se, tolerance = 1e-10)
})

test_that("vcov, hatvalues and weights reject unknown or unsupported types by name", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_error(vcov(f, type = "alpha"), "location-scale")
  expect_error(vcov(f, type = "delta"), "selection")
  expect_error(vcov(f, type = "nope"), "'type'")
  expect_error(hatvalues(f, type = "nope"), "'type'")
  expect_error(weights(f, type = "rowsum"), "'type'")
})

test_that("predict(targs, predtype/pi.type, hetvar, newvi, prob) matches metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- dat_bcg()
  cols <- c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub", "cr.lb", "cr.ub", "prob", "pi.se", "pi.ddf", "ddf")
  same <- function(a, b, info) {
    expect_equal(intersect(names(a), c(cols, "X", "slab")), intersect(names(b), c(cols, "X", "slab")), info = info)
    for (cl in intersect(cols, names(b)))
      expect_equal(unname(c(a[[cl]])), unname(c(b[[cl]])), tolerance = tol_iter, info = paste(info, cl))
    expect_identical(a$pi.dist, b$pi.dist, info = info)
    expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_iter, info = info)
  }
  for (g in grid) for (pt in c("default", "simple", "Riley", "t")) {
    info <- paste(g$meth, g$test, pt)
    p <- mf_fits(dat, ~ ablat, g$meth, g$test)
    same(predict(p$f, newmods = c(10, 40), predtype = pt, prob = ">-0.5"),
         predict(p$m, newmods = c(10, 40), predtype = pt, prob = ">-0.5"), info)
    same(predict(p$f, pi.type = pt, hetvar = 0.1, newvi = 0.02, prob = "<-0.2"),
         predict(p$m, pi.type = pt, hetvar = 0.1, newvi = 0.02, prob = "<-0.2"), paste(info, "fitted"))
    same(predict(p$f, newmods = c(20, 30), transf = function(x, a) x * a, targs = 3, addx = TRUE),
         predict(p$m, newmods = c(20, 30), transf = function(x, a) x * a, targs = 3, addx = TRUE), paste(info, "targs"))
    p0 <- mf_fits(dat, NULL, g$meth, g$test)
    same(predict(p0$f, predtype = pt, adjust = TRUE, hetvar = c(0.2)),
         predict(p0$m, predtype = pt, adjust = TRUE, hetvar = c(0.2)), paste(info, "int-only"))
    same(predict(p0$f, transf = metafor::transf.exp.int), predict(p0$m, transf = metafor::transf.exp.int),
         paste(info, "transf.exp.int"))
  }
  # predtype wins over pi.type, and the names are matched case-insensitively
  p <- mf_fits(dat, ~ ablat, "REML", "z")
  expect_equal(predict(p$f, predtype = "riley", pi.type = "simple")$pi.lb,
               predict(p$f, predtype = "Riley")$pi.lb)
  # the fitted values follow na.action
  dat$yi[3] <- NA
  op <- options(na.action = "na.exclude")
  on.exit(options(op))
  p <- suppressWarnings(mf_fits(dat, ~ ablat, "REML", "z"))
  a <- predict(p$f); b <- predict(p$m)
  for (cl in c("pred", "se", "ci.lb", "ci.ub", "pi.lb", "pi.ub"))
    expect_equal(c(a[[cl]]), unname(c(b[[cl]])), tolerance = tol_iter, info = cl)
  expect_equal(a$slab, b$slab)
  va <- predict(p$f, vcov = TRUE)$vcov; vb <- predict(p$m, vcov = TRUE)$vcov
  expect_equal(unclass(va), plain(vb), tolerance = tol_iter, ignore_attr = "dimnames")
  expect_identical(dimnames(va), lapply(dimnames(vb), as.character))
})

test_that("predict() prints as metafor and rejects rma.mv arguments by name", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat, data = dat)
  expect_output(print(predict(f, newmods = c(10, 40), prob = ">0", addx = TRUE)),
                "pred\\s+se\\s+ci.lb\\s+ci.ub\\s+pi.lb\\s+pi.ub\\s+prob\\s+X.intrcpt\\s+X.ablat")
  expect_output(print(predict(f, newmods = c(10, 40), transf = exp)), "pred\\s+ci.lb\\s+ci.ub\\s+pi.lb\\s+pi.ub")
  expect_error(predict(f, tau2.levels = 1), "'tau2.levels'")
  expect_error(predict(f, gamma2.levels = 1), "'gamma2.levels'")
  expect_error(predict(f, predtype = "x"), "'predtype'")
  expect_error(predict(f, pi.type = 1), "'pi.type'")
  expect_error(predict(f, hetvar = "a"), "'hetvar'")
  expect_error(predict(f, hetvar = 1:2), "'hetvar'")
  expect_error(predict(f, newmods = 10, newvi = 1:2), "'newvi'")
  expect_error(predict(f, newmods = 10, prob = ">0", adjust = TRUE), "'prob'")
  expect_error(predict(f, newmods = 10, transf = function(x) exp(x), targs = 2), "'targs'")
})

test_that("blup() and ranef() match metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  for (dn in c("bcg", "normand")) {
    dat <- if (dn == "bcg") dat_bcg() else dat_normand()
    mods <- if (dn == "bcg") ~ ablat else ~ n
    for (g in grid) for (mm in list(NULL, mods)) {
      info <- paste(dn, g$meth, g$test, is.null(mm))
      p <- mf_fits(dat, mm, g$meth, g$test)
      for (fn in c("blup", "ranef")) {
        FUN <- get(fn, envir = asNamespace("metafast"))
        GUN <- get(fn, envir = asNamespace("metafor"))
        for (args in list(list(), list(level = 90), list(transf = exp), list(transf = function(x, a) x + a, targs = 1))) {
          a <- do.call(FUN, c(list(p$f), args)); b <- do.call(GUN, c(list(p$m), args))
          ii <- paste(info, fn, paste(names(args), collapse = ","))
          for (cl in c("pred", "se", "pi.lb", "pi.ub"))
            expect_equal(a[[cl]], b[[cl]], tolerance = tol_iter, info = paste(ii, cl))
          expect_equal(a$slab, b$slab, info = ii)
          expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_iter, info = ii)
        }
      }
    }
  }
  dat <- dat_bcg()
  dat$yi[3] <- NA
  op <- options(na.action = "na.exclude")
  on.exit(options(op))
  p <- suppressWarnings(mf_fits(dat, ~ ablat, "REML", "z"))
  for (fn in c("blup", "ranef")) {
    a <- get(fn, envir = asNamespace("metafast"))(p$f); b <- get(fn, envir = asNamespace("metafor"))(p$m)
    for (cl in c("pred", "se", "pi.lb", "pi.ub")) expect_equal(a[[cl]], b[[cl]], tolerance = tol_iter, info = paste(fn, cl))
  }
})

test_that("blup() and ranef() refuse user weights and print", {
  dat <- bcg_data()
  f <- rma(yi, vi, weights = 1 / vi, data = dat)
  expect_error(blup(f), "weights")
  expect_error(ranef(f), "weights")
  g <- rma(yi, vi, data = dat)
  expect_output(print(blup(g)), "pred\\s+se\\s+pi.lb\\s+pi.ub")
  expect_error(blup(g, level = -1), "'level'")  # (0 is valid: metafor's zero-width interval)
})

test_that("vif() matches metafor (btt, table, reestimate)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- dat_bcg()
  for (g in grid) {
    info <- paste(g$meth, g$test)
    p <- mf_fits(dat, ~ ablat + year + factor(alloc), g$meth, g$test)
    for (re in c(FALSE, TRUE)) {
      for (btt in list(NULL, 2, 2:3, list(2, 3, 4:5), "alloc", c("ablat", "alloc"), list(1:3))) {
        a <- if (is.null(btt)) vif(p$f, reestimate = re) else vif(p$f, btt = btt, reestimate = re)
        b <- if (is.null(btt)) metafor::vif(p$m, reestimate = re) else metafor::vif(p$m, btt = btt, reestimate = re)
        ii <- paste(info, re, deparse(btt))
        expect_equal(a$vifs, b$vifs, tolerance = tol_iter, info = ii)
        expect_equal(as.data.frame(a), as.data.frame(b), tolerance = tol_iter, info = ii)
        expect_output(print(a))
      }
    }
    a <- vif(p$f, table = TRUE); b <- metafor::vif(p$m, table = TRUE)
    expect_equal(a$table, b$table, tolerance = tol_iter, info = info)
    expect_output(print(a), "estimate\\s+se\\s+[zt]val")
    expect_output(print(a), "sif")
  }
  f <- rma(yi, vi, mods = ~ ablat + year, data = dat)
  expect_output(print(vif(f, btt = 2)), "VIF = [0-9.]+, SIF = ")
  expect_output(print(vif(f, btt = 2:3)), "GVIF = ")
})

test_that("vif() rejects what it does not implement by name", {
  dat <- bcg_data()
  f <- rma(yi, vi, mods = ~ ablat + factor(alloc), data = dat)
  expect_error(vif(f, att = 2), "'att'")
  expect_error(vif(f, sim = 1), "'sim'")
  expect_error(vif(f, seed = "a"), "'seed'")
  expect_error(vif(f, parallel = "snow"), "'parallel'")
  expect_error(vif(f, ncpus = 2), "'ncpus'")
  expect_error(vif(f, cl = 1), "'cl'")
  expect_error(vif(f, btt = 1), "intercept")
  expect_error(vif(rma(yi, vi, data = dat)), "intercept-only")
  expect_error(vif(f, table = NA), "'table'")
})

test_that("as.data.frame() of confint() has metafor's rows and columns", {
  skip_if_not_installed("metafor")
  dat <- bcg_data()
  for (test in c("z", "knha")) {
    f <- rma(yi, vi, mods = ~ ablat, data = dat, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, test = test, control = metafor_tight)
    for (fx in c(FALSE, TRUE)) {
      a <- as.data.frame(confint(f, fixed = fx))
      b <- as.data.frame(confint(m, fixed = fx, control = list(tol = 1e-12, maxiter = 1000)))
      expect_s3_class(a, "data.frame")
      expect_equal(dimnames(a), dimnames(b))
      expect_equal(as.matrix(a), plain(b), tolerance = tol_iter)
    }
  }
})
