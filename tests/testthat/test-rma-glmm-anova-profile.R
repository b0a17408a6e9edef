# anova(), confint() (profile CI of tau^2), profile(), forest() and funnel()
# of rma.glmm() fits (issue 19).  metafor 5.2.1 refuses anova() and confint()
# of rma.glmm fits ("Method not available"), so the references are metafor's
# own numbers: the log-likelihoods of glmer fits (rma.glmm(skiphet = TRUE)
# reports glmer's logLik() for OR models), its QM with btt, its beta and vb for
# the contrasts, and, for the CI of tau^2, the binomial-normal log-likelihood
# integrated in this file with integrate() and maximised with optim().
# For model = "UM.RS" the profile of tau^2 is checked against lme4's own
# Laplace deviance function (glmer(devFunOnly = TRUE)) maximised in this file
# with optim() at each fixed tau^2; for OR CM.EL against the exact conditional
# likelihood integrated with integrate().
# Tolerances: 1e-6 for log-likelihood differences and QM (metafor's own fits
# are iterative: 1e-5 on the Wald tests, as the estimates); the profile
# equation to 1e-5 (the external integral's rel.tol 1e-10).

glmm_bcg <- function(...) {
  rma.glmm(measure = "OR", ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg, data = metadat::dat.bcg, ...)
}
# (metafor with tight settings, as test-rma-glmm.R)
glmm_bcg_m <- function(...) {
  metafor::rma.glmm(measure = "OR", ai = tpos, n1i = tpos + tneg, ci = cpos, n2i = cpos + cneg,
                    data = metadat::dat.bcg, ...,
                    control = list(glmerCtrl = list(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5)),
                                   glmCtrl = list(epsilon = 1e-12, maxit = 200)))
}

test_that("anova() of two rma.glmm fits: the LRT from the maximised log-likelihoods, as glmer's", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("lme4")
  f1 <- glmm_bcg(mods = ~ ablat + year)
  f0 <- glmm_bcg()
  fe <- glmm_bcg(method = "EE")
  m1 <- suppressWarnings(glmm_bcg_m(mods = ~ ablat + year, skiphet = TRUE))
  m0 <- suppressWarnings(glmm_bcg_m(skiphet = TRUE))
  a <- anova(f1, f0)
  expect_s3_class(a, "anova.mf_rma")
  expect_equal(a$LRT, c(2 * (logLik(m1) - logLik(m0))), tolerance = 1e-6)
  expect_equal(a$parms.f - a$parms.r, 2)
  expect_equal(a$pval, stats::pchisq(a$LRT, 2, lower.tail = FALSE))
  expect_identical(anova(f0, f1)$LRT, a$LRT)  # (either order)
  # tau^2 = 0: the ML fit against the equal-effects fit
  me <- suppressWarnings(glmm_bcg_m(method = "EE", skiphet = TRUE))
  expect_equal(anova(f0, fe)$LRT, c(2 * (logLik(m0) - logLik(me))), tolerance = 1e-6)
  expect_output(print(a), "LRT")
  expect_error(anova(f1, glmm_bcg(model = "CM.AL")), "same counts")
  expect_error(anova(f1, rma(1:3, c(1, 1, 1))), "rma.glmm")
  expect_error(anova(f1, f0, btt = 2), "not both")
})

test_that("anova(btt = , X = ) of an rma.glmm fit: metafor's QM and contrasts", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("lme4")
  f <- glmm_bcg(mods = ~ ablat + year)
  for (btt in list(2, 3, 2:3)) {
    m <- suppressWarnings(glmm_bcg_m(mods = ~ ablat + year, btt = btt))
    expect_equal(anova(f, btt = btt)$QM, m$QM, tolerance = 1e-5, info = deparse(btt))
    expect_equal(anova(f, btt = btt)$QMp, m$QMp, tolerance = 1e-4, info = deparse(btt))
  }
  m <- suppressWarnings(glmm_bcg_m(mods = ~ ablat + year))
  L <- rbind(c(1, 30, 1970), c(0, 1, -1))
  a <- anova(f, X = L)
  Lb <- c(L %*% m$beta)
  vL <- L %*% m$vb %*% t(L)
  expect_equal(c(a$Xb), Lb, tolerance = 1e-5)
  expect_equal(a$se, sqrt(diag(vL)), tolerance = 1e-5)
  expect_equal(a$QM, c(crossprod(Lb, solve(vL, Lb))), tolerance = 1e-5)
  # t tests: F statistic on k - p df
  ft <- glmm_bcg(mods = ~ ablat, test = "t")
  mt <- suppressWarnings(glmm_bcg_m(mods = ~ ablat, test = "t"))
  expect_equal(anova(ft, btt = 2)$QM, mt$QM, tolerance = 1e-5)
  expect_equal(anova(ft, btt = 2)$QMdf, mt$QMdf)
})

# binomial-normal model of proportions: the marginal log-likelihood by
# integrate() (outside metafast's quadrature), with log choose(n, x)
.bn_ll <- function(b, tau, x, n) {
  sum(vapply(seq_along(x), function(i) {
    f <- function(u) stats::dbinom(x[i], n[i], stats::plogis(b + u)) * stats::dnorm(u, 0, tau)
    log(stats::integrate(f, -Inf, Inf, rel.tol = 1e-12, abs.tol = 0)$value)
  }, numeric(1)))
}
.bn_pl <- function(tau2, x, n) {
  if (tau2 == 0) return(max(-stats::optimize(function(b) -sum(stats::dbinom(x, n, stats::plogis(b), log = TRUE)),
                                             c(-10, 10), tol = 1e-12)$objective))
  -stats::optimize(function(b) -.bn_ll(b, sqrt(tau2), x, n), c(-10, 10), tol = 1e-12)$objective
}

test_that("confint() of an rma.glmm fit: profile-likelihood CI of tau^2 solving the LRT equation (integrate())", {
  skip_if_not_installed("metadat")
  d <- metadat::dat.pritz1997
  f <- rma.glmm(measure = "PLO", xi = xi, ni = ni, data = d, nAGQ = 40)
  ci <- confint(f)
  expect_s3_class(ci, "confint.mf_rma")
  expect_equal(rownames(ci$random), c("tau^2", "tau"))
  expect_equal(ci$random[2, ], sqrt(ci$random[1, ]))
  llmax <- -stats::optim(c(c(f$beta), log(sqrt(f$tau2))), function(p) -.bn_ll(p[1], exp(p[2]), d$xi, d$ni),
                         control = list(reltol = 1e-14))$value
  expect_equal(f$ll.marginal, llmax, tolerance = 1e-7)
  crit <- stats::qchisq(0.95, 1)
  for (t2 in ci$random[1, 2:3]) {
    expect_gt(t2, 0)
    expect_equal(2 * (llmax - .bn_pl(t2, d$xi, d$ni)), crit, tolerance = 1e-5, info = t2)
  }
  # level = 90: narrower, the same equation at the 90% quantile
  ci90 <- confint(f, level = 90)
  expect_gt(ci90$random[1, 2], ci$random[1, 2])
  expect_lt(ci90$random[1, 3], ci$random[1, 3])
  expect_equal(2 * (llmax - .bn_pl(ci90$random[1, 3], d$xi, d$ni)), stats::qchisq(0.9, 1), tolerance = 1e-5)
  expect_output(print(ci), "tau\\^2")
  # equal-effects fits: no tau^2 (fixed effects only); profile() refuses
  fe <- rma.glmm(measure = "PLO", xi = xi, ni = ni, data = d, method = "EE")
  expect_null(confint(fe)$random)
  expect_error(profile(fe), "method = \"ML\"")
})

test_that("confint() of an OR model: the CI bounds solve the profile equation of our own profile()", {
  skip_if_not_installed("metadat")
  f <- glmm_bcg()
  ci <- confint(f)$random
  pr <- profile(f, xlim = ci[1, 2:3], steps = 2, plot = FALSE)
  expect_equal(2 * (f$ll.marginal - pr$ll), rep(stats::qchisq(0.95, 1), 2), tolerance = 1e-6)
  expect_lt(ci[1, 2], f$tau2)
  expect_gt(ci[1, 3], f$tau2)
  p <- profile(f, steps = 5, plot = FALSE)
  expect_length(p$ll, 5)
  expect_true(all(p$ll <= f$ll.marginal + 1e-8))
})

test_that("forest() and funnel() of rma.glmm fits: the outcomes of escalc() and the model's estimate", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("lme4")
  f <- glmm_bcg()
  m <- suppressWarnings(glmm_bcg_m())
  png(tempfile(fileext = ".png"))
  on.exit(dev.off())
  l <- forest(f)
  expect_equal(l$studies$yi, c(m$yi), tolerance = 1e-12)
  expect_equal(l$studies$vi, c(m$vi), tolerance = 1e-12)
  expect_equal(l$summaries$estimate, c(m$beta), tolerance = 1e-5)
  expect_equal(c(l$summaries$ci.lb, l$summaries$ci.ub), c(f$ci.lb, f$ci.ub), tolerance = 1e-12)
  # (metafor's se comes from glmer's numerical Hessian: 2e-5 apart)
  expect_equal(c(l$summaries$ci.lb, l$summaries$ci.ub), c(m$ci.lb, m$ci.ub), tolerance = 1e-4)
  pm <- metafor::predict.rma(m)
  expect_equal(c(l$summaries$pi.lb, l$summaries$pi.ub), c(pm$pi.lb, pm$pi.ub), tolerance = 1e-4)
  expect_error(forest(f, showweights = TRUE), "showweights")
  # with moderators: the fitted value of each study
  fr <- glmm_bcg(mods = ~ ablat)
  lr <- forest(fr, addfit = TRUE)
  expect_equal(nrow(lr$studies), 13L)
  fn <- funnel(f)
  expect_equal(fn$x, c(m$yi), tolerance = 1e-12)
  expect_equal(fn$y, sqrt(c(m$vi)), tolerance = 1e-12)
  expect_error(funnel(fr), "moderators")
})

test_that("forest() and funnel() of an rma.glmm fit: snapshots", {
  skip_if_not_installed("vdiffr")
  skip_if_not_installed("metadat")
  f <- glmm_bcg()
  vdiffr::expect_doppelganger("forest-rma-glmm", function() forest(f, atransf = exp))
  vdiffr::expect_doppelganger("funnel-rma-glmm", function() funnel(f))
})

# model = "UM.RS": the profile log-likelihood of tau^2 against glmer's own
# Laplace deviance function (lme4::glmer(devFunOnly = TRUE), a function of
# (theta, beta) whose -1/2 times is glmer's logLik()), maximised in this file
# with optim() over the other parameters at each fixed tau^2 (theta of the
# group effect fixed; with cor = TRUE the Cholesky column of the group effect
# (l21, l22) = tau (sin phi, cos phi)), and against the same maximisation of
# our own UM.RS log-likelihood (.mf_glmm_loglik_rs).
.rs_long <- function(d) {
  k <- nrow(d)
  data.frame(study = factor(rep(seq_len(k), each = 2L)), y = c(rbind(d$ai, d$ci)),
             n = c(rbind(d$n1i, d$n2i)), g1 = rep(c(1, 0), k), grp = rep(c(1/2, -1/2), k), int = rep(c(0, 1), k))
}
.rs_glmer_devfun <- function(long, cor) {
  fo <- if (cor) cbind(y, n - y) ~ 0 + g1 + int + (1 + grp | study) else cbind(y, n - y) ~ 0 + g1 + int + (1 | study) + (0 + grp | study)
  suppressMessages(lme4::glmer(fo, data = long, family = stats::binomial, nAGQ = 1, devFunOnly = TRUE))
}
# maximise ll(beta, lambda) over all but tau: par = (beta (2), sigma[, phi])
.rs_pl_optim <- function(ll, tau, cor, start) {
  full <- function(par) {
    if (cor) list(beta = par[1:2], lambda = c(par[3], tau * sin(par[4]), tau * cos(par[4])))
    else list(beta = par[1:2], lambda = c(par[3], tau))
  }
  # (glmer's PIRLS can fail far from the maximum: such points count as -Inf)
  fn <- function(par) { v <- -tryCatch(ll(full(par)), error = function(e) -Inf); if (is.finite(v)) v else 1e10 }
  o <- stats::optim(start, fn, method = "BFGS", control = list(reltol = 1e-14, maxit = 2000))
  o <- stats::optim(o$par, fn, method = "Nelder-Mead", control = list(reltol = 1e-15, maxit = 20000))
  o <- stats::optim(o$par, fn, method = "BFGS", control = list(reltol = 1e-15, maxit = 2000))
  -o$value
}

test_that("profile() and confint() of UM.RS fits: the profile of tau^2 against glmer's deviance function", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("lme4")
  skip_if_not_installed("metadat")
  bcg <- metadat::dat.bcg
  d <- data.frame(ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos, n2i = bcg$cpos + bcg$cneg)
  long <- .rs_long(d)
  crit <- stats::qchisq(0.95, 1)
  for (cor in c(FALSE, TRUE)) {
    f <- suppressWarnings(rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = d, model = "UM.RS", cor = cor))
    m <- suppressWarnings(glmm_bcg_m(model = "UM.RS", cor = cor))
    # (a) the fit's log-likelihood is glmer's (metafor's logLik) and the
    # profile at the estimate is the fit's log-likelihood
    # (absolute differences; measured: 2e-11, 6e-13)
    expect_lt(abs(c(logLik(f)) - c(logLik(m))), 1e-6)
    expect_lt(abs(metafast:::.mf_glmm_profile_ll(f, f$tau2)$ll - c(logLik(f))), 1e-8)
    expect_lt(abs(profile(f, xlim = c(f$tau2, 2 * f$tau2), steps = 2, plot = FALSE)$ll[1] - c(logLik(f))), 1e-8)
    # (b) at fixed tau^2: glmer's deviance function and our log-likelihood,
    # each maximised by optim() over the other parameters
    dev <- .rs_glmer_devfun(long, cor)
    ll.glmer <- function(q) -dev(c(q$lambda, q$beta)) / 2
    obs <- list(y = long$y, n = long$n, off = rep(0, nrow(long)), lconst = lchoose(long$n, long$y),
                start = as.integer(seq(0, nrow(long), by = 2)), family = 0L, study_int = FALSE,
                z = long$grp, X = cbind(long$g1, long$int))
    ll.ours <- function(q) metafast:::.mf_glmm_loglik_rs(obs, cor, c(q$beta, q$lambda))
    # the intercepts (log odds of group 2, group 1) and sigma of the fit
    b0 <- c(f$beta[1] + f$theta.rs[2], f$theta.rs[2], sqrt(f$sigma2))
    start <- if (cor) c(b0, asin(f$rho)) else b0
    pr <- profile(f, xlim = c(0.25, 2.5) * f$tau2, steps = 4, plot = FALSE)
    for (j in seq_along(pr$tau2)) {
      ref <- .rs_pl_optim(ll.glmer, sqrt(pr$tau2[j]), cor, start)
      # (absolute; measured: up to 2.5e-9 from glmer's, 3e-12 from ours)
      expect_lt(abs(pr$ll[j] - ref), 1e-7, label = sprintf("cor = %s, tau2 = %g (glmer)", cor, pr$tau2[j]))
      expect_lt(abs(pr$ll[j] - .rs_pl_optim(ll.ours, sqrt(pr$tau2[j]), cor, start)), 1e-8,
                label = sprintf("cor = %s, tau2 = %g (ours)", cor, pr$tau2[j]))
    }
    # tau^2 = 0: the random-intercept model with a fixed group effect
    dev0 <- .rs_glmer_devfun(long, FALSE)
    ll.glmer0 <- function(q) -dev0(c(q$lambda, q$beta)) / 2
    expect_lt(abs(metafast:::.mf_glmm_profile_ll(f, 0)$ll - .rs_pl_optim(ll.glmer0, 0, FALSE, b0)), 1e-7)
    # (c) the CI bounds: where glmer's profile drops by qchisq(0.95, 1) / 2
    # (uniroot on the profile written here)
    ci <- confint(f)
    expect_equal(rownames(ci$random), c("tau^2", "tau"))
    expect_equal(ci$random[2, ], sqrt(ci$random[1, ]))
    ci <- ci$random[1, ]
    expect_equal(ci[["estimate"]], f$tau2)
    llmax <- c(logLik(m))
    g <- function(t2) 2 * (llmax - .rs_pl_optim(ll.glmer, sqrt(t2), cor, start)) - crit
    for (b in c("ci.lb", "ci.ub")) {
      expect_true(ci[[b]] > 0 && is.finite(ci[[b]]))
      r <- stats::uniroot(g, ci[[b]] * c(0.9, 1.1), tol = 1e-10)$root
      # (measured: 4e-10 relative)
      expect_equal(ci[[b]], r, tolerance = 1e-7, info = sprintf("cor = %s, %s", cor, b))
    }
  }
})

test_that("profile() and confint() of UM.RS fits: IRR, moderators and the plot", {
  skip_if_not_installed("metadat")
  d8 <- metadat::dat.nielweise2008
  f <- suppressWarnings(rma.glmm(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d8, model = "UM.RS"))
  expect_lt(abs(metafast:::.mf_glmm_profile_ll(f, f$tau2)$ll - c(logLik(f))), 1e-8)
  # (the lower bound is 0: the profile at tau^2 = 0 is within the critical value)
  ci <- confint(f)$random
  expect_identical(ci[1, 2], 0)
  pr <- profile(f, xlim = ci[1, 2:3], steps = 2, plot = FALSE)
  expect_lt(2 * (c(logLik(f)) - pr$ll[1]), stats::qchisq(0.95, 1))
  expect_equal(2 * (c(logLik(f)) - pr$ll[2]), stats::qchisq(0.95, 1), tolerance = 1e-6)
  bcg <- metadat::dat.bcg
  fm <- suppressWarnings(rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                                  model = "UM.RS", mods = ~ ablat, coding = 1))
  expect_lt(abs(metafast:::.mf_glmm_profile_ll(fm, fm$tau2)$ll - c(logLik(fm))), 1e-8)
  p <- profile(fm, steps = 5, plot = FALSE)
  expect_true(all(p$ll <= c(logLik(fm)) + 1e-8))
  png(tempfile(fileext = ".png"))
  on.exit(dev.off())
  expect_silent(profile(fm, steps = 4, progbar = FALSE))
})

test_that("confint() of an rma.glmm ML fit never leaves out the tau^2 rows silently", {
  skip_if_not_installed("metadat")
  f <- suppressWarnings(rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                                 model = "UM.RS"))
  f$theta.rs <- NULL  # (a fit without the UM.RS estimates)
  expect_warning(ci <- confint(f), "CI of tau\\^2 is not available")
  expect_equal(rownames(ci$random), c("tau^2", "tau"))
  expect_true(all(is.na(ci$random[, 2:3])))
  expect_error(profile(f), "UM.RS estimates")
})

# OR with model = "CM.EL": the exact conditional likelihood (Fisher's
# non-central hypergeometric probability of ai given the margins) integrated
# over the normal random log odds ratio with integrate(), written here.
.nch_ll <- function(mu, tau, a, n1, n2, t) {
  sum(vapply(seq_along(a), function(i) {
    x <- max(0, t[i] - n2[i]):min(n1[i], t[i])
    lw <- lchoose(n1[i], x) + lchoose(n2[i], t[i] - x)
    lp <- function(th) {  # log P(a | th)
      e <- outer(th, x) + rep(lw, each = length(th))
      mx <- apply(e, 1, max)
      lchoose(n1[i], a[i]) + lchoose(n2[i], t[i] - a[i]) + th * a[i] - (mx + log(rowSums(exp(e - mx))))
    }
    if (tau == 0) return(lp(mu))
    log(stats::integrate(function(th) exp(lp(th)) * stats::dnorm(th, mu, tau), mu - 12 * tau, mu + 12 * tau,
                         rel.tol = 1e-12, abs.tol = 0, subdivisions = 1000L)$value)
  }, numeric(1)))
}

test_that("confint() of an OR CM.EL fit: the profile of the exact conditional likelihood (integrate())", {
  skip_if_not_installed("metadat")
  d <- metadat::dat.bcg[c(1, 2, 3, 5, 7, 10, 12), ]
  f <- rma.glmm(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, model = "CM.EL")
  a <- d$tpos; n1 <- d$tpos + d$tneg; n2 <- d$cpos + d$cneg; t <- d$tpos + d$cpos
  pl <- function(t2) -stats::optimize(function(m) -.nch_ll(m, sqrt(t2), a, n1, n2, t), c(-4, 2), tol = 1e-10)$objective
  llmax <- -stats::optim(c(c(f$beta), log(f$tau2) / 2), function(p) -.nch_ll(p[1], exp(p[2]), a, n1, n2, t),
                         control = list(reltol = 1e-14))$value
  # (31-node quadrature against integrate(): measured 1e-11; the profile equation 3e-13)
  expect_lt(abs(f$ll.marginal - llmax), 1e-7)
  expect_lt(abs(metafast:::.mf_glmm_profile_ll(f, f$tau2)$ll - f$ll.marginal), 1e-8)
  ci <- confint(f)$random
  for (t2 in ci[1, 2:3]) {
    expect_gt(t2, 0)
    expect_equal(2 * (llmax - pl(t2)), stats::qchisq(0.95, 1), tolerance = 1e-8, info = t2)
  }
})
