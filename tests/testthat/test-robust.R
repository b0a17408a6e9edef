# robust() against metafor::robust() (both clubSandwich settings) and
# clubSandwich's coef_test() / Wald_test(test = "HTZ") (issue 13, item 1).

rel_eq <- function(a, b, tol) {
  a <- unname(c(as.matrix(a)))
  b <- unname(c(as.matrix(b)))
  expect_equal(length(a), length(b))
  ok <- is.finite(a) & is.finite(b)
  expect_identical(is.na(a), is.na(b))
  expect_true(all(abs(a[ok] - b[ok]) <= tol * pmax(abs(b[ok]), 1e-300) | abs(a[ok] - b[ok]) < 1e-300),
              info = paste(signif(max(abs(a[ok] - b[ok]) / pmax(abs(b[ok]), 1e-300)), 3)))
}

expect_robust_equal <- function(ours, theirs, tol) {
  rel_eq(ours$vb, theirs$vb, tol)
  rel_eq(ours$se, theirs$se, tol)
  rel_eq(ours$zval, theirs$zval, tol)
  rel_eq(ours$pval, theirs$pval, tol)
  rel_eq(ours$ci.lb, theirs$ci.lb, tol)
  rel_eq(ours$ci.ub, theirs$ci.ub, tol)
  rel_eq(ours$ddf, theirs$ddf, tol)
  rel_eq(ours$QM, theirs$QM, tol)
  rel_eq(ours$QMdf, theirs$QMdf, tol)
  rel_eq(ours$QMp, theirs$QMp, tol)
  expect_equal(ours$n, theirs$n)
  expect_equal(ours$vbest, theirs$vbest)
  expect_equal(ours$robumethod, theirs$robumethod)
}

# metafor's robust() on a metafor fit, quietly
mf_robust <- function(x, cluster, ...) suppressWarnings(do.call(metafor::robust, list(x, cluster = cluster, ...)))

konst_fits <- function() {
  dat <- metadat::dat.konstantopoulos2011
  dat$x <- dat$year - 1990
  s2 <- c(0.0651, 0.0327)  # fixed variance components: closed-form comparison
  list(dat = dat,
       ours = rma.mv(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat, sigma2 = s2),
       theirs = metafor::rma.mv(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat, sigma2 = s2))
}

test_that("robust() equals metafor's for rma.mv with fixed variance components (closed form)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  f <- konst_fits()
  for (adj in list(TRUE, FALSE, "Stata", "Stata2")) {
    expect_robust_equal(robust(f$ours, cluster = district, adjust = adj),
                        mf_robust(f$theirs, cluster = f$dat$district, adjust = adj), tol_closed)
  }
  for (type in c("CR2", "CR0", "CR1", "CR1p", "CR1S", "CR3")) {
    expect_robust_equal(robust(f$ours, cluster = district, clubSandwich = TRUE, vcov = type),
                        mf_robust(f$theirs, cluster = f$dat$district, clubSandwich = TRUE, vcov = type), tol_closed)
  }
  for (ct in c("z", "naive-t", "naive-tp")) {
    expect_robust_equal(robust(f$ours, cluster = district, clubSandwich = TRUE, coef_test = ct),
                        mf_robust(f$theirs, cluster = f$dat$district, clubSandwich = TRUE, coef_test = ct), tol_closed)
  }
  for (wt in c("chi-sq", "Naive-F", "Naive-Fp")) {
    expect_robust_equal(robust(f$ours, cluster = district, clubSandwich = TRUE, wald_test = wt),
                        mf_robust(f$theirs, cluster = f$dat$district, clubSandwich = TRUE, wald_test = wt), tol_closed)
  }
  # against clubSandwich directly
  rob <- robust(f$ours, cluster = district, clubSandwich = TRUE)
  cs <- clubSandwich::coef_test(f$theirs, vcov = "CR2", cluster = f$dat$district, test = "Satterthwaite")
  rel_eq(rob$se, cs$SE, tol_closed)
  rel_eq(rob$ddf, cs$df_Satt, tol_closed)
  rel_eq(rob$pval, cs$p_Satt, tol_closed)
})

test_that("robust() equals metafor's and clubSandwich's on the three-level model of dat.assink2016 (REML)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  ours <- rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat)
  theirs <- metafor::rma.mv(yi, vi, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat,
                            control = metafor_tight)
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_iter)
  rob <- robust(ours, cluster = study, clubSandwich = TRUE)
  expect_robust_equal(rob, mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE), tol_iter)
  cs <- clubSandwich::coef_test(theirs, vcov = "CR2", cluster = dat$study, test = "Satterthwaite")
  rel_eq(rob$se, cs$SE, tol_iter)
  rel_eq(rob$ddf, cs$df_Satt, tol_iter)
  w <- clubSandwich::Wald_test(theirs, constraints = clubSandwich::constrain_zero(2:4), vcov = "CR2",
                               cluster = dat$study, test = "HTZ")
  rel_eq(rob$QM, w$Fstat, tol_iter)
  rel_eq(rob$QMdf[2], w$df_denom, tol_iter)
  rel_eq(rob$QMp, w$p_val, tol_iter)
  # anova() with btt and with X (HTZ), predict() (Satterthwaite), confint()
  rt <- mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE)
  a1 <- anova(rob, btt = 2:3)
  a2 <- metafor::anova.rma(rt, btt = 2:3)
  rel_eq(c(a1$QM, a1$QMdf, a1$QMp), c(a2$QM, a2$QMdf, a2$QMp), tol_iter)
  w2 <- clubSandwich::Wald_test(theirs, constraints = clubSandwich::constrain_zero(2:3), vcov = "CR2",
                                cluster = dat$study, test = "HTZ")
  rel_eq(c(a1$QM, a1$QMdf[2], a1$QMp), c(w2$Fstat, w2$df_denom, w2$p_val), tol_iter)
  L <- rbind(c(0, 1, -1, 0), c(0, 0, 0, 1))
  a3 <- anova(rob, X = L)
  a4 <- metafor::anova.rma(rt, X = L)
  rel_eq(c(a3$QM, a3$QMdf, a3$QMp), c(a4$QM, a4$QMdf, a4$QMp), tol_iter)
  rel_eq(c(a3$Xb, a3$se, a3$zval, a3$pval, a3$ddf), c(a4$Xb, a4$se, a4$zval, a4$pval, a4$ddf), tol_iter)
  nd <- rbind(c(0, 0, 1), c(1, 0, -2))
  p1 <- predict(rob, newmods = nd)
  p2 <- metafor::predict.rma(rt, newmods = nd)
  rel_eq(c(p1$pred, p1$se, p1$ci.lb, p1$ci.ub), c(p2$pred, p2$se, p2$ci.lb, p2$ci.ub), tol_iter)
  rel_eq(coef(rob), coef(rt), tol_iter)
  rel_eq(vcov(rob), vcov(rt), tol_iter)
  expect_output(print(rob), "Number of clusters:    17")
  expect_output(print(rob), "cluster-robust inference \\(var-cov estimator: CR2")
  expect_output(print(summary(rob)))
  ci <- confint(rob)
  expect_true(is.list(ci) || is.data.frame(ci) || is.matrix(ci))
})

test_that("robust() equals metafor's for rma() with a cluster (FE closed form, REML), with singleton clusters", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  dat <- dat[!(dat$study %in% c(2, 3) & dat$esid > 1), ]  # studies 2 and 3 become singleton clusters
  expect_true(sum(table(dat$study) == 1) >= 2)
  ours <- rma(yi, vi, mods = ~ year, data = dat, method = "FE")
  theirs <- suppressWarnings(metafor::rma(yi, vi, mods = ~ year, data = dat, method = "FE"))
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_closed)
  for (type in c("CR2", "CR3", "CR1S")) {
    expect_robust_equal(robust(ours, cluster = study, clubSandwich = TRUE, vcov = type),
                        mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE, vcov = type), tol_closed)
  }
  ours <- rma(yi, vi, data = dat)
  theirs <- metafor::rma(yi, vi, data = dat, control = metafor_tight)
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_iter)
  expect_robust_equal(robust(ours, cluster = study, clubSandwich = TRUE),
                      mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE), tol_iter)
  # knha fit and unweighted fit, default estimator
  ours <- rma(yi, vi, mods = ~ year, data = dat, test = "knha")
  theirs <- metafor::rma(yi, vi, mods = ~ year, data = dat, test = "knha", control = metafor_tight)
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_iter)
  ours <- rma(yi, vi, mods = ~ year, data = dat, weighted = FALSE)
  theirs <- metafor::rma(yi, vi, mods = ~ year, data = dat, weighted = FALSE, control = metafor_tight)
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_iter)
})

test_that("robust() on a three-level model with moderators that vary within and between clusters, subset", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  s2 <- c(0.2, 0.08)
  sub <- dat$study != 5
  ours <- rma.mv(yi, vi, mods = ~ pubstatus + deltype, random = ~ 1 | study/esid, data = dat, sigma2 = s2,
                 subset = sub)
  theirs <- metafor::rma.mv(yi, vi, mods = ~ pubstatus + deltype, random = ~ 1 | study/esid, data = dat,
                            sigma2 = s2, subset = sub)
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_closed)
  expect_robust_equal(robust(ours, cluster = study, clubSandwich = TRUE),
                      mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE), tol_closed)
})

test_that("robust() rejects bad input with errors naming 'cluster'", {
  dat <- metadat::dat.konstantopoulos2011
  fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  expect_error(robust(fit), "'cluster'")
  expect_error(robust(fit, cluster = dat$district[-1]), "'cluster'")
  cl <- dat$district
  cl[3] <- NA
  expect_error(robust(fit, cluster = cl), "'cluster'.*row 3")
  expect_error(robust(fit, cluster = rep(1, nrow(dat))), "'cluster'")
  expect_error(robust(fit, cluster = rep(1, nrow(dat)), clubSandwich = TRUE), "'cluster'")
  # a cluster that cuts across the levels of the outer random factor
  expect_error(robust(fit, cluster = dat$school, clubSandwich = TRUE), "nested.*'cluster'")
  expect_error(robust(fit, cluster = district, clubSandwich = TRUE, vcov = "CR9"), "'vcov'")
  expect_error(robust(fit, cluster = district, clubSandwich = TRUE, coef_test = "saddlepoint"), "'coef_test'")
  expect_error(robust(fit, cluster = district, clubSandwich = TRUE, wald_test = "EDF"), "'wald_test'")
  expect_error(robust(fit, cluster = district, adjust = "no"), "'adjust'")
  uf <- rma(yi, vi, data = dat)
  expect_error(robust(uf, cluster = dat$district[1:3]), "'cluster'")
})

test_that("default robust(): clusters that cut the random-effects blocks, anova() and predict() as metafor", {
  skip_if_not_installed("metafor")
  f <- konst_fits()
  dat <- f$dat
  # clusters that do not nest the districts (metafor computes the sandwich all the same)
  cl <- dat$school %% 3
  expect_robust_equal(robust(f$ours, cluster = cl), mf_robust(f$theirs, cluster = cl), tol_closed)
  rob <- robust(f$ours, cluster = district)
  rt <- mf_robust(f$theirs, cluster = dat$district)
  a1 <- anova(rob, btt = 2)
  a2 <- metafor::anova.rma(rt, btt = 2)
  rel_eq(c(a1$QM, a1$QMdf, a1$QMp), c(a2$QM, a2$QMdf, a2$QMp), tol_closed)
  L <- rbind(c(1, 5), c(1, -5))
  a3 <- anova(rob, X = L)
  a4 <- metafor::anova.rma(rt, X = L)
  rel_eq(c(a3$QM, a3$QMdf, a3$QMp, a3$se, a3$pval, a3$ddf), c(a4$QM, a4$QMdf, a4$QMp, a4$se, a4$pval, a4$ddf),
         tol_closed)
  p1 <- predict(rob, newmods = c(-5, 0, 5))
  p2 <- metafor::predict.rma(rt, newmods = c(-5, 0, 5))
  rel_eq(c(p1$pred, p1$se, p1$ci.lb, p1$ci.ub), c(p2$pred, p2$se, p2$ci.lb, p2$ci.ub), tol_closed)
  # rma() with moderators: predict() uses the robust df (n - p), as metafor
  d2 <- metadat::dat.assink2016
  u <- rma(yi, vi, mods = ~ year, data = d2, method = "FE")
  ut <- suppressWarnings(metafor::rma(yi, vi, mods = ~ year, data = d2, method = "FE"))
  ru <- robust(u, cluster = study)
  rut <- mf_robust(ut, cluster = d2$study)
  p1 <- predict(ru, newmods = c(-2, 3))
  p2 <- metafor::predict.rma(rut, newmods = c(-2, 3))
  rel_eq(c(p1$pred, p1$se, p1$ci.lb, p1$ci.ub), c(p2$pred, p2$se, p2$ci.lb, p2$ci.ub), tol_closed)
  rcs <- robust(u, cluster = study, clubSandwich = TRUE)
  rcst <- mf_robust(ut, cluster = d2$study, clubSandwich = TRUE)
  p1 <- predict(rcs, newmods = c(-2, 3))
  p2 <- metafor::predict.rma(rcst, newmods = c(-2, 3))
  rel_eq(c(p1$pred, p1$se, p1$ci.lb, p1$ci.ub), c(p2$pred, p2$se, p2$ci.lb, p2$ci.ub), tol_closed)
  a1 <- anova(ru, X = c(1, 2))
  a2 <- metafor::anova.rma(rut, X = c(1, 2))
  rel_eq(c(a1$QM, a1$QMdf, a1$QMp, a1$pval), c(a2$QM, a2$QMdf, a2$QMp, a2$pval), tol_closed)
})

test_that("robust(clubSandwich = TRUE) equals metafor's on simulated unbalanced grids (2 to 60 clusters; 200 at level 2)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  for (J in c(2L, 3L, 10L, 60L, if (test_level() >= 2) 200L)) {
    set.seed(J)
    n <- sample(1:6, J, replace = TRUE)
    n[1] <- 1L  # a singleton cluster
    dat <- data.frame(study = rep(seq_len(J), n), es = sequence(n))
    k <- nrow(dat)
    dat$vi <- stats::runif(k, 0.01, 0.1)
    dat$x <- stats::rnorm(k)                  # varies within clusters
    dat$z <- stats::rbinom(J, 1, 0.5)[dat$study]  # cluster-level moderator
    dat$yi <- 0.2 + 0.1 * dat$x + stats::rnorm(J, 0, 0.3)[dat$study] + stats::rnorm(k, 0, sqrt(dat$vi + 0.02))
    mods <- if (J == 2L) ~ 1 else if (J > 3L) ~ x + z else ~ x  # (2 clusters: one coefficient, as metafor needs)
    ours <- rma.mv(yi, vi, mods = mods, random = ~ 1 | study/es, data = dat, sigma2 = c(0.09, 0.02))
    theirs <- metafor::rma.mv(yi, vi, mods = mods, random = ~ 1 | study/es, data = dat, sigma2 = c(0.09, 0.02))
    expect_robust_equal(robust(ours, cluster = study, clubSandwich = TRUE),
                        mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE), tol_closed)
    expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_closed)
    ou <- rma(yi, vi, mods = mods, data = dat, method = "FE")
    tu <- metafor::rma(yi, vi, mods = mods, data = dat, method = "FE")
    expect_robust_equal(robust(ou, cluster = study, clubSandwich = TRUE),
                        mf_robust(tu, cluster = dat$study, clubSandwich = TRUE), tol_closed)
  }
})

test_that("print() and summary() of robust fits carry metafor's cluster lines and robust-test legend", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.konstantopoulos2011
  dat$x <- dat$year - 1990
  # the lines both printouts share: cluster counts, estimates per cluster, the
  # F/t test line and metafor's legend of the var-cov estimator and df method
  pick <- function(out) {
    out <- trimws(gsub("\u00b9|^1\\) ", "", out))
    out <- sub("^results based", "Results based", out)
    out[grepl("^(Number of|Estimates per cluster|F\\(df1|Results based|approx|logLik|-?[0-9.]+ +-?[0-9.]+ +-?[0-9.]+ +-?[0-9.]+ +-?[0-9.]+$)", out)]
  }
  fits <- list(
    list(rma.mv(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat),
         metafor::rma.mv(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat)),
    list(rma(yi, vi, mods = ~ x, data = dat), metafor::rma(yi, vi, mods = ~ x, data = dat)))
  for (f in fits) for (cs in c(FALSE, TRUE)) {
    ours <- robust(f[[1]], cluster = dat$district, clubSandwich = cs)
    theirs <- mf_robust(f[[2]], cluster = dat$district, clubSandwich = cs)
    for (s in c(FALSE, TRUE)) {
      po <- pick(utils::capture.output(if (s) print(summary(ours)) else print(ours)))
      pt <- pick(utils::capture.output(if (s) print(summary(theirs)) else print(theirs)))
      expect_true(any(startsWith(po, "Number of clusters:    11")))
      expect_true(any(startsWith(po, "Estimates per cluster: 3-11")))
      expect_identical(sum(startsWith(po, "logLik")), as.integer(s))
      expect_identical(gsub(" +", " ", po), gsub(" +", " ", pt))
    }
  }
})

# Weights other than the inverse of the working covariance (issue 13): rma()
# with user weights or weighted = FALSE, rma.mv() with W.  clubSandwich then
# uses the fitted marginal covariance as target with inverse_var = FALSE.
cs_direct <- function(ours, theirs, cluster, btt, tol) {
  rel_eq(ours$vb, as.matrix(clubSandwich::vcovCR(theirs, cluster = cluster, type = "CR2")), tol)
  cs <- clubSandwich::coef_test(theirs, vcov = "CR2", cluster = cluster, test = "Satterthwaite")
  rel_eq(ours$se, cs$SE, tol)
  rel_eq(ours$ddf, cs$df_Satt, tol)
  rel_eq(ours$pval, cs$p_Satt, tol)
  w <- clubSandwich::Wald_test(theirs, constraints = clubSandwich::constrain_zero(btt), vcov = "CR2",
                               cluster = cluster, test = "HTZ")
  rel_eq(ours$QM, w$Fstat, tol)
  rel_eq(ours$QMdf, c(w$df_num, w$df_denom), tol)
  rel_eq(ours$QMp, w$p_val, tol)
}

test_that("robust(clubSandwich = TRUE) of rma() with user weights or weighted = FALSE (EE, DL, REML)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  set.seed(13)
  dat$w <- stats::runif(nrow(dat), 0.5, 3)
  mods <- ~ year + deltype
  for (meth in c("EE", "DL", "REML")) {
    tol <- if (meth == "REML") tol_iter else tol_closed
    ctl <- if (meth == "REML") metafor_tight else list()
    for (wt in c("weights", "unweighted")) {
      if (wt == "weights") {
        ours <- rma(yi, vi, weights = w, mods = mods, data = dat, method = meth)
        theirs <- metafor::rma(yi, vi, weights = w, mods = mods, data = dat, method = meth, control = ctl)
      } else {
        ours <- rma(yi, vi, weighted = FALSE, mods = mods, data = dat, method = meth)
        theirs <- metafor::rma(yi, vi, weighted = FALSE, mods = mods, data = dat, method = meth, control = ctl)
      }
      rob <- robust(ours, cluster = study, clubSandwich = TRUE)
      rt <- mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE)
      expect_robust_equal(rob, rt, tol)
      cs_direct(rob, theirs, dat$study, 2:4, tol)
      if (meth == "EE") {
        # (CR3 below: I - H_jj is singular for study 16, the only one with covert delinquency)
        for (type in c("CR0", "CR1", "CR1p", "CR1S")) {
          expect_robust_equal(robust(ours, cluster = study, clubSandwich = TRUE, vcov = type),
                              mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE, vcov = type), tol)
        }
        # ... where metafor (clubSandwich) stops, and so do we, naming 'vcov'
        expect_error(robust(ours, cluster = study, clubSandwich = TRUE, vcov = "CR3"), "'vcov'.*CR3.*singular")
        # (clubSandwich's solve() stops for the weighted fit; unweighted, its
        # reciprocal condition number lands just above R's tolerance)
        if (wt == "weights") expect_error(mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE, vcov = "CR3"))
        o3 <- update(ours, mods = ~ year)
        t3 <- update(theirs, mods = ~ year)
        expect_robust_equal(robust(o3, cluster = study, clubSandwich = TRUE, vcov = "CR3"),
                            mf_robust(t3, cluster = dat$study, clubSandwich = TRUE, vcov = "CR3"), tol)
        expect_robust_equal(robust(ours, cluster = study, clubSandwich = TRUE, coef_test = "naive-tp",
                                   wald_test = "chi-sq"),
                            mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE, coef_test = "naive-tp",
                                      wald_test = "chi-sq"), tol)
      }
      if (meth == "REML") {
        # anova() (HTZ) and predict() (Satterthwaite) of the robust fit
        a1 <- anova(rob, btt = 3:4)
        a2 <- metafor::anova.rma(rt, btt = 3:4)
        rel_eq(c(a1$QM, a1$QMdf, a1$QMp), c(a2$QM, a2$QMdf, a2$QMp), tol)
        L <- rbind(c(0, 1, 0, 0), c(0, 0, 1, -1))
        a3 <- anova(rob, X = L)
        a4 <- metafor::anova.rma(rt, X = L)
        rel_eq(c(a3$QM, a3$QMdf, a3$QMp, a3$se, a3$pval, a3$ddf), c(a4$QM, a4$QMdf, a4$QMp, a4$se, a4$pval, a4$ddf),
               tol)
        nd <- rbind(c(0, 0, 1), c(-3, 1, 0))
        p1 <- predict(rob, newmods = nd)
        p2 <- metafor::predict.rma(rt, newmods = nd)
        rel_eq(c(p1$pred, p1$se, p1$ci.lb, p1$ci.ub), c(p2$pred, p2$se, p2$ci.lb, p2$ci.ub), tol)
      }
    }
  }
  # an intercept-only model, weights 1/vi given by the user (the general
  # formulas at W = Theta^-1) and singleton clusters
  d2 <- dat[!(dat$study %in% c(2, 3) & dat$esid > 1), ]
  ours <- rma(yi, vi, weights = 1 / vi, data = d2, method = "EE")
  theirs <- metafor::rma(yi, vi, weights = 1 / vi, data = d2, method = "EE")
  rob <- robust(ours, cluster = study, clubSandwich = TRUE)
  expect_robust_equal(rob, mf_robust(theirs, cluster = d2$study, clubSandwich = TRUE), tol_closed)
  # ... which equals the inverse-variance fit's robust results
  rinv <- robust(rma(yi, vi, data = d2, method = "EE"), cluster = study, clubSandwich = TRUE)
  rel_eq(c(rob$vb, rob$ddf, rob$pval), c(rinv$vb, rinv$ddf, rinv$pval), tol_closed)
  # the default estimator of the same fits, as metafor's
  ours <- rma(yi, vi, weights = w, mods = mods, data = dat, method = "DL")
  theirs <- metafor::rma(yi, vi, weights = w, mods = mods, data = dat, method = "DL")
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_closed)
})

test_that("robust() of rma.mv() fits with W: both estimators as metafor's (fixed components, closed form)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  f <- konst_fits()
  dat <- f$dat
  s2 <- c(0.0651, 0.0327)
  set.seed(31)
  wv <- stats::runif(nrow(dat), 1, 5)
  # W block-diagonal by district: the inverse of a compound-symmetric block per district
  Wm <- as.matrix(bldiag(lapply(split(dat$vi, dat$district), function(v) {
    S <- 0.5 * sqrt(tcrossprod(v))
    diag(S) <- v
    solve(S)
  })))
  for (W in list(wv, Wm)) {
    ours <- rma.mv(yi, vi, W = W, mods = ~ x, random = ~ 1 | district/school, data = dat, sigma2 = s2)
    theirs <- metafor::rma.mv(yi, vi, W = W, mods = ~ x, random = ~ 1 | district/school, data = dat, sigma2 = s2)
    for (adj in list(TRUE, FALSE, "Stata1", "Stata2")) {
      expect_robust_equal(robust(ours, cluster = district, adjust = adj),
                          mf_robust(theirs, cluster = dat$district, adjust = adj), tol_closed)
    }
    for (type in c("CR2", "CR0", "CR1", "CR1p", "CR1S", "CR3")) {
      expect_robust_equal(robust(ours, cluster = district, clubSandwich = TRUE, vcov = type),
                          mf_robust(theirs, cluster = dat$district, clubSandwich = TRUE, vcov = type), tol_closed)
    }
    rob <- robust(ours, cluster = district, clubSandwich = TRUE)
    cs_direct(rob, theirs, dat$district, 2, tol_closed)
  }
  # W that is not block-diagonal by cluster: the default estimator uses the
  # whole of W (as metafor); the CR2-type estimators need its blocks
  Wf <- Wm + 0.01
  ours <- rma.mv(yi, vi, W = Wf, mods = ~ x, random = ~ 1 | district/school, data = dat, sigma2 = s2)
  theirs <- metafor::rma.mv(yi, vi, W = Wf, mods = ~ x, random = ~ 1 | district/school, data = dat, sigma2 = s2)
  expect_robust_equal(robust(ours, cluster = district), mf_robust(theirs, cluster = dat$district), tol_closed)
  expect_error(robust(ours, cluster = district, clubSandwich = TRUE), "'W'.*'cluster'")
  # W block-diagonal by school but the clusters are districts: fine; by
  # district with school clusters: W's blocks are cut (and so are the random effects)
  expect_error(robust(rma.mv(yi, vi, W = Wm, random = ~ 1 | school, data = dat, sigma2 = 0.05),
                      cluster = school, clubSandwich = TRUE), "'W'.*'cluster'")
})

test_that("robust() of a three-level rma.mv() with W (REML) equals metafor's and clubSandwich's", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  dat <- metadat::dat.assink2016
  # working weights from a compound-symmetric sampling covariance (r = 0.6) per study
  Wm <- as.matrix(bldiag(lapply(split(dat$vi, dat$study), function(v) {
    S <- 0.6 * sqrt(tcrossprod(v))
    diag(S) <- v
    solve(S)
  })))
  ours <- rma.mv(yi, vi, W = Wm, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat)
  theirs <- mv_ref(yi, vi, W = Wm, mods = ~ deltype + year, random = ~ 1 | study/esid, data = dat)
  expect_robust_equal(robust(ours, cluster = study), mf_robust(theirs, cluster = dat$study), tol_iter)
  rob <- robust(ours, cluster = study, clubSandwich = TRUE)
  rt <- mf_robust(theirs, cluster = dat$study, clubSandwich = TRUE)
  expect_robust_equal(rob, rt, tol_iter)
  cs_direct(rob, theirs, dat$study, 2:4, tol_iter)
  a1 <- anova(rob, btt = 2:3)
  a2 <- metafor::anova.rma(rt, btt = 2:3)
  rel_eq(c(a1$QM, a1$QMdf, a1$QMp), c(a2$QM, a2$QMdf, a2$QMp), tol_iter)
  p1 <- predict(rob, newmods = rbind(c(0, 1, 0), c(1, 0, 5)))
  p2 <- metafor::predict.rma(rt, newmods = rbind(c(0, 1, 0), c(1, 0, 5)))
  rel_eq(c(p1$pred, p1$se, p1$ci.lb, p1$ci.ub), c(p2$pred, p2$se, p2$ci.lb, p2$ci.ub), tol_iter)
  expect_output(print(rob), "var-cov estimator: CR2")
})
