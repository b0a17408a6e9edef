# The methods of rma.mv() fits that refit the model -- confint() (profile
# likelihood), profile(), rstudent(), cooks.distance(), dfbetas() -- against
# metafor run with tight optimiser settings (nlminb's rel.tol 1e-10: at 1e-12 nlminb reports false convergence in some refits, which metafor turns into NA), on
# metadat's three-level data.

mvr_tight <- list(rel.tol = 1e-10, iter.max = 10000, eval.max = 20000)
tol_vc <- 1e-5   # variance components and quantities that depend on them

mvr_data <- function() {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  list(k = metadat::dat.konstantopoulos2011,
       a = metadat::dat.assink2016)
}

test_that("confint() gives metafor's profile-likelihood intervals for every component", {
  d <- mvr_data()
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k)
  m <- metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k, control = mvr_tight)
  cf <- confint(f, control = list(tol = 1e-10))
  cm <- confint(m, control = list(tol = 1e-10))
  expect_s3_class(cf, "list.confint.mf_rma")
  for (j in 1:2) {
    expect_equal(cf[[j]]$random[1:2, ], cm[[j]]$random, tolerance = tol_vc)
    expect_identical(rownames(cf[[j]]$random)[1:2], rownames(cm[[j]]$random))
    expect_identical(cf[[j]]$lb.sign, cm[[j]]$lb.sign)
    expect_identical(cf[[j]]$ub.sign, cm[[j]]$ub.sign)
  }
  # one component, with the coefficients, another level
  c1 <- confint(f, sigma2 = 2, fixed = TRUE, level = 90, control = list(tol = 1e-10))
  m1 <- confint(m, sigma2 = 2, fixed = TRUE, level = 90, control = list(tol = 1e-10))
  expect_equal(c1$random[1:2, ], m1$random, tolerance = tol_vc)
  expect_equal(c1$fixed, m1$fixed, tolerance = tol_iter)
  # the printed layout of the components is metafor's
  out <- capture.output(print(cf))
  expect_true(any(grepl("sigma^2.1", out, fixed = TRUE)) && any(grepl("sigma.2", out, fixed = TRUE)))
  # a search interval whose upper end is below the bound: metafor's ">" sign
  c2 <- confint(f, sigma2 = 1, control = list(vc.max = 0.1))
  m2 <- confint(m, sigma2 = 1, control = list(vc.max = 0.1))
  expect_identical(c2$ub.sign, m2$ub.sign)
  expect_equal(c2$random[1:2, ], m2$random, tolerance = 1e-3)  # (metafor's default uniroot tolerance)
  expect_equal(unname(c2$random[1, 3]), 0.1)
})

test_that("confint() with a moderator and ML (dat.assink2016)", {
  d <- mvr_data()
  f <- rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = d$a, method = "ML")
  m <- metafor::rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = d$a, method = "ML",
                       control = mvr_tight)
  cf <- confint(f, control = list(tol = 1e-10))
  cm <- confint(m, control = list(tol = 1e-10))
  for (j in 1:2) expect_equal(cf[[j]]$random[1:2, ], cm[[j]]$random, tolerance = tol_vc)
})

test_that("the I^2 interval of a level is the I^2 at the refits at the profile bounds", {
  d <- mvr_data()
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k)
  cf <- confint(f, sigma2 = 1, control = list(tol = 1e-10))
  expect_equal(unname(cf$random["I^2.1(%)", "estimate"]), unname(i2_levels(f)[1]), tolerance = tol_closed)
  # the refit at the lower bound: sigma2.1 fixed there, sigma2.2 re-estimated (metafor)
  lb <- unname(cf$random["sigma^2.1", "ci.lb"])
  m <- metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k, sigma2 = c(lb, NA), control = mvr_tight)
  W <- diag(1 / d$k$vi)
  X <- model.matrix(m)
  P <- W - W %*% X %*% solve(crossprod(X, W %*% X)) %*% crossprod(X, W)
  vt <- (m$k - m$p) / sum(diag(P))
  expect_equal(unname(cf$random["I^2.1(%)", "ci.lb"]), 100 * lb / (sum(m$sigma2) + vt), tolerance = tol_vc)
  expect_true(cf$random["I^2.1(%)", "ci.lb"] < cf$random["I^2.1(%)", "estimate"])
  expect_true(cf$random["I^2.1(%)", "ci.ub"] > cf$random["I^2.1(%)", "estimate"])
})

test_that("confint() rejects what metafor rejects, naming the argument", {
  d <- mvr_data()
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k)
  expect_error(confint(f, tau2 = 1), "Model does not contain any (estimated) 'tau2' components.", fixed = TRUE)
  expect_error(confint(f, sigma2 = 3), "No such 'sigma2' component")
  expect_error(confint(f, sigma2 = 1, rho = 1), "only one of")
  expect_error(confint(f, extint = TRUE), "'extint'")
  expect_error(confint(f, code1 = "1"), "'code1'")
  fx <- rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k, sigma2 = c(NA, 0.03))
  expect_error(confint(fx, sigma2 = 2), "Specified 'sigma2' component was fixed.")
  expect_warning(confint(f, sigma2 = 1, foo = 1), "'foo'")
})

test_that("profile() gives metafor's profile likelihood", {
  d <- mvr_data()
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k)
  m <- metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k, control = mvr_tight)
  # the default values (from the estimate) and given values
  expect_equal(profile(f, sigma2 = 2, steps = 5, plot = FALSE)$sigma2,
               profile(m, sigma2 = 2, steps = 5, plot = FALSE, progbar = FALSE)$sigma2, tolerance = tol_vc)
  s <- seq(0.01, 0.13, length.out = 5)
  pf <- profile(f, sigma2 = 2, steps = s, plot = FALSE)
  pm <- profile(m, sigma2 = 2, steps = s, plot = FALSE, progbar = FALSE)
  expect_s3_class(pf, "mf_profile")
  expect_identical(pf$sigma2, pm$sigma2)
  expect_equal(pf$ll, pm$ll, tolerance = tol_iter)
  # (at each value sigma2.1 is re-estimated: within tol_vc)
  expect_equal(pf$beta, pm$beta, tolerance = tol_vc)
  expect_equal(pf$ci.lb, pm$ci.lb, tolerance = tol_vc)
  expect_equal(pf$ci.ub, pm$ci.ub, tolerance = tol_vc)
  expect_equal(pf$maxll, pm$maxll, tolerance = tol_iter)
  expect_equal(pf$vc, pm$vc, tolerance = tol_vc)
  expect_equal(pf$ylim, pm$ylim, tolerance = tol_iter)
  # all components; the plot draws one panel each
  pa <- profile(f, steps = 4, plot = FALSE)
  expect_equal(pa$comps, 2)
  expect_equal(pa[[1]]$ll, profile(m, sigma2 = 1, steps = 4, plot = FALSE, progbar = FALSE)$ll, tolerance = tol_iter)
  fpng <- tempfile(fileext = ".png")
  grDevices::png(fpng)
  on.exit({ grDevices::dev.off(); unlink(fpng) })
  res <- plot(pa)
  expect_length(res, 2L)
  expect_equal(res[[2]]$y[-which(res[[2]]$x == pa[[2]]$vc)], pa[[2]]$ll)
  expect_error(profile(f, sigma2 = 1, parallel = "snow", plot = FALSE), "'?parallel")
  expect_error(profile(f, tau2 = 1, plot = FALSE), "'tau2' components")
})

# Case deletion: compare with metafor's methods on the same fit.
cd_pair <- function(d) {
  list(f = rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k),
       m = metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = d$k, control = mvr_tight))
}

test_that("rstudent(), cooks.distance() and dfbetas() leave out each row as metafor", {
  d <- mvr_data()
  p <- cd_pair(d)
  rf <- rstudent(p$f)
  rm <- rstudent(p$m)
  expect_s3_class(rf, "mf_list")
  expect_equal(rf$resid, rm$resid, tolerance = tol_vc)
  expect_equal(rf$se, rm$se, tolerance = tol_vc)
  expect_equal(rf$z, rm$z, tolerance = tol_vc)
  expect_equal(cooks.distance(p$f), cooks.distance(p$m), tolerance = tol_vc)
  expect_equal(dfbetas(p$f), dfbetas(p$m), tolerance = tol_vc)
  # variance components held at the full fit's values
  expect_equal(rstudent(p$f, reestimate = FALSE)$z, rstudent(p$m, reestimate = FALSE)$z, tolerance = tol_iter)
  expect_equal(cooks.distance(p$f, reestimate = FALSE), cooks.distance(p$m, reestimate = FALSE), tolerance = tol_iter)
  expect_equal(dfbetas(p$f, reestimate = FALSE), dfbetas(p$m, reestimate = FALSE), tolerance = tol_iter)
})

test_that("case deletion by cluster matches metafor (moderator, dat.assink2016)", {
  d <- mvr_data()
  dat <- d$a
  dat$grp <- dat$esid %% 3
  f <- rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = dat)
  m <- metafor::rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = dat, control = mvr_tight)
  rf <- rstudent(f, cluster = study)
  rm <- rstudent(m, cluster = study)
  expect_equal(rf$obs$resid, rm$obs$resid, tolerance = tol_vc)
  expect_equal(rf$obs$se, rm$obs$se, tolerance = tol_vc)
  expect_equal(rf$obs$z, rm$obs$z, tolerance = tol_vc)
  expect_equal(rf$obs$cluster, rm$obs$cluster)
  expect_equal(rf$cluster$X2, rm$cluster$X2, tolerance = tol_vc)
  expect_equal(rf$cluster$k, rm$cluster$k)
  expect_equal(rf$cluster$slab, rm$cluster$slab)
  expect_equal(cooks.distance(f, cluster = study), cooks.distance(m, cluster = study), tolerance = tol_vc)
  expect_equal(cooks.distance(f, cluster = study, btt = 2:3), cooks.distance(m, cluster = study, btt = 2:3),
               tolerance = tol_vc)
  expect_equal(dfbetas(f, cluster = study), dfbetas(m, cluster = study), tolerance = tol_vc)
  # a cluster that cuts through the levels of the outer factor (rows of several studies)
  expect_equal(cooks.distance(f, cluster = grp), cooks.distance(m, cluster = grp), tolerance = tol_vc)
  expect_equal(rstudent(f, cluster = grp)$cluster$X2, rstudent(m, cluster = grp)$cluster$X2, tolerance = tol_vc)
})

test_that("case deletion: the same results for any thread count, metafor's parallel arguments, NA for failed refits", {
  d <- mvr_data()
  p <- cd_pair(d)
  r1 <- dfbetas(p$f, threads = 1)
  expect_identical(dfbetas(p$f, threads = 2), r1)
  expect_identical(dfbetas(p$f, parallel = "snow", ncpus = 2), r1)
  expect_identical(rstudent(p$f, threads = 1), rstudent(p$f, threads = 2))
  expect_error(dfbetas(p$f, parallel = "mpi"), "'parallel'")
  expect_error(cooks.distance(p$f, code2 = "1"), "'code2'")
  expect_silent(cooks.distance(p$f, time = TRUE, LB = TRUE))
  # leaving out the only row with a moderator value: that refit fails (NA), as in metafor
  dat <- d$k
  dat$x <- 0
  dat$x[5] <- 1
  f <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat)
  m <- metafor::rma.mv(yi, vi, mods = ~ x, random = ~ 1 | district/school, data = dat, control = mvr_tight)
  cf <- cooks.distance(f)
  expect_true(is.na(cf[5]))
  expect_equal(cf, cooks.distance(m), tolerance = tol_vc)
})

test_that("case deletion follows na.action and subset as metafor", {
  d <- mvr_data()
  dat <- d$k
  dat$yi[3] <- NA
  f <- suppressWarnings(rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, subset = district != 11))
  m <- suppressWarnings(metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = dat,
                                        subset = district != 11, control = mvr_tight))
  expect_equal(cooks.distance(f), cooks.distance(m), tolerance = tol_vc)
  op <- options(na.action = "na.exclude")
  on.exit(options(op))
  expect_equal(cooks.distance(f), cooks.distance(m), tolerance = tol_vc)
  expect_equal(dfbetas(f, cluster = district), dfbetas(m, cluster = district), tolerance = tol_vc)
  expect_equal(rstudent(f)$z, rstudent(m)$z, tolerance = tol_vc)
  expect_equal(rstudent(f, cluster = district)$cluster$k, rstudent(m, cluster = district)$cluster$k)
})

test_that("a deletion that leaves a factor with one level follows metafor's single-level rule", {
  d <- mvr_data()
  dat <- d$k[d$k$district %in% c(11, 12, 18), ]
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  # without one district two remain: no rule applies, metafor's values
  m <- metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, control = mvr_tight)
  expect_equal(cooks.distance(f, cluster = district), cooks.distance(m, cluster = district), tolerance = tol_vc)
  f2 <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, subset = district != 18)
  # (the refits fix the district component at 0, as metafor: its values;
  # test-rma-mv-methods-more.R)
  m2 <- metafor::rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, subset = district != 18, control = mvr_tight)
  expect_equal(cooks.distance(f2, cluster = district, reestimate = FALSE),
               cooks.distance(m2, cluster = district, reestimate = FALSE), tolerance = tol_iter)
})
