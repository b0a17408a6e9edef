# boot_rma() of a selection model (issue 15 item 3), continued: non-increasing
# step weights (decreasing = TRUE, type = "stepcon"), resampling whole
# clusters, and metafor's se.delta of truncest -- each
# replicate's refit against metafor::selmodel() on the same resampled or
# simulated data (.mf_selboot_replicate()), with tight optimiser settings.

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

sbm_int <- list(rel.tol = 1e-12, subdivisions = 1000L)
sbm_ctrls <- list(list(reltol = 1e-13, maxit = 10000, intCtrl = sbm_int),
                  list(optimizer = "nlminb", rel.tol = 1e-12, iter.max = 10000, eval.max = 10000, intCtrl = sbm_int))
sbm_hack <- metadat::dat.hackshaw1998
sbm_bask <- local({
  d <- metadat::dat.baskerville2012
  data.frame(yi = d$smd, vi = d$se^2)
})

# metafor's selection model on data d (yi, vi, idx), run with each of `ctrls`;
# the fit with the highest log-likelihood (on flat likelihoods either
# optimiser may stop short), its statistics in the order of b$t.
sbm_refit <- function(b, d, ..., mods = NULL, ctrls = sbm_ctrls) {
  mm <- if (is.null(mods)) NULL else if (is.null(d$idx)) mods else mods[d$idx, , drop = FALSE]
  m <- if (is.null(mm)) metafor::rma(d$yi, d$vi, method = "ML") else metafor::rma(d$yi, d$vi, mods = mm, method = "ML")
  fits <- lapply(ctrls, function(ctrl)
    tryCatch(suppressWarnings(metafor::selmodel(m, ..., control = ctrl)), error = function(e) NULL))
  fits <- Filter(Negate(is.null), fits)
  if (!length(fits)) stop("metafor::selmodel() failed with every optimiser")
  s <- fits[[which.max(vapply(fits, function(f) f$ll, 0))]]
  spec <- b$selmodel$spec
  free <- if (isTRUE(spec$cone)) seq_along(s$delta) > 1L else spec$delta_free
  structure(c(c(s$beta), if (spec$tau2_free) s$tau2, s$delta[free]), ll = s$ll, fit = s)
}

# largest difference of replicate r from metafor's refit; where it exceeds
# 1e-5 metafast's maximum must be the higher one (metafor stopped short)
sbm_check <- function(b, r, ref, tol = 1e-5, loose = 1e-3) {
  d <- max(abs(b$t[r, ] - ref))
  if (d > tol) expect_gte(b$selmodel$ll[r], attr(ref, "ll") - 1e-9)
  expect_lt(d, loose)
  d
}

test_that("non-increasing step weights (decreasing = TRUE) bootstrap like metafor's refits", {
  steps <- c(0.025, 0.1, 0.5)
  sel <- selmodel(rma(yi, vi, data = sbm_hack), type = "stepfun", steps = steps, decreasing = TRUE)
  for (type in c("case", "parametric")) {
    set.seed(41)
    b <- boot_rma(sel, R = 4, type = type, progress = FALSE)
    expect_identical(colnames(b$t), c("intrcpt", "tau2", "delta.2", "delta.3", "delta.4"))
    expect_equal(unname(b$t0), c(c(sel$beta), sel$tau2, sel$delta[-1]))
    for (r in 1:4) {
      if (is.na(b$t[r, 1])) next
      # every replicate's weights are non-increasing
      expect_true(all(diff(c(1, b$t[r, 3:5])) <= 1e-12))
      d <- metafast:::.mf_selboot_replicate(b, r)
      sbm_check(b, r, sbm_refit(b, d, type = "stepfun", steps = steps, decreasing = TRUE))
    }
  }
})

test_that("type = 'stepcon' bootstraps over the same cone (metafor's decreasing = TRUE refits)", {
  # metafor fits stepcon with Rsolnp's solnp(); its decreasing = TRUE fit
  # maximises over the same non-increasing weights (open cone, same supremum),
  # and is compared where Rsolnp is not installed.  On these data the weights
  # of the last two intervals are tied at the maximum (test-selmodel-rest.R).
  steps <- c(0.01, 0.05, 0.2)
  sel <- selmodel(rma(yi, vi, data = sbm_bask), type = "stepcon", steps = steps)
  expect_equal(sel$delta[3], sel$delta[4])
  set.seed(42)
  b <- boot_rma(sel, R = 4, progress = FALSE)
  expect_identical(colnames(b$t), c("intrcpt", "tau2", "delta.2", "delta.3", "delta.4"))
  dmax <- 0
  for (r in 1:4) {
    if (is.na(b$t[r, 1])) next
    expect_true(all(diff(c(1, b$t[r, 3:5])) <= 1e-12))
    d <- metafast:::.mf_selboot_replicate(b, r)
    ref <- tryCatch(sbm_refit(b, d, type = "stepfun", steps = steps, decreasing = TRUE), error = function(e) NULL)
    # (metafor's decreasing = TRUE fit fails on some resamples of these data)
    if (is.null(ref)) next
    # metafor's log-increments cannot reach a tie (or a zero weight) exactly:
    # there it stops short, its maximum lower than ours
    dmax <- max(dmax, sbm_check(b, r, ref, loose = 1e-2))
    if (requireNamespace("Rsolnp", quietly = TRUE)) {
      ref2 <- sbm_refit(b, d, type = "stepcon", steps = steps, ctrls = list(list(tol = 1e-12, delta = 1e-9)))
      expect_gte(b$selmodel$ll[r], attr(ref2, "ll") - 1e-8)
    }
  }
  # the parametric bootstrap draws from the fitted (tied) weights
  set.seed(43)
  b <- boot_rma(sel, R = 2, type = "parametric", progress = FALSE)
  for (r in 1:2) {
    if (is.na(b$t[r, 1])) next
    d <- metafast:::.mf_selboot_replicate(b, r)
    ref <- tryCatch(sbm_refit(b, d, type = "stepfun", steps = steps, decreasing = TRUE), error = function(e) NULL)
    if (!is.null(ref)) sbm_check(b, r, ref, loose = 1e-2)
  }
})

test_that("'cluster' resamples whole clusters; each replicate equals metafor's refit on the drawn studies", {
  dat <- sbm_hack
  dat$grp <- rep(1:13, length.out = nrow(dat))[order(dat$year)]
  sel <- selmodel(rma(yi, vi, data = dat), type = "stepfun", steps = 0.025)
  set.seed(44)
  b <- boot_rma(sel, R = 6, cluster = grp, progress = FALSE)
  expect_identical(b$cluster, 1:13)
  members <- split(seq_len(nrow(dat)), dat$grp)
  for (r in 1:6) {
    d <- metafast:::.mf_selboot_replicate(b, r)
    # the drawn studies are 13 whole clusters
    drawn <- table(factor(dat$grp[d$idx], levels = 1:13)) / lengths(members)
    expect_true(all(drawn == round(drawn)))
    expect_equal(sum(drawn), 13)
    expect_equal(d$yi, dat$yi[d$idx])
    if (is.na(b$t[r, 1])) next
    sbm_check(b, r, sbm_refit(b, d, type = "stepfun", steps = 0.025))
  }
  # the jackknife leaves out one cluster at a time
  expect_identical(nrow(b$jack), 13L)
  keep <- dat$grp != 5
  s <- suppressWarnings(metafor::selmodel(metafor::rma(dat$yi[keep], dat$vi[keep], method = "ML"), type = "stepfun",
                                          steps = 0.025, control = sbm_ctrls[[1]]))
  expect_lt(max(abs(b$jack[5, ] - c(c(s$beta), s$tau2, s$delta[2]))), 1e-5)
  # reproducible across threads; BCa and as.boot() work on clusters
  set.seed(44)
  b2 <- boot_rma(sel, R = 6, cluster = grp, threads = 2, progress = FALSE)
  expect_identical(b$t, b2$t)
  skip_if_not_installed("boot")
  bo <- as.boot(b)
  expect_identical(nrow(bo$data), 13L)
  expect_lt(max(abs(bo$statistic(bo$data, 1:13) - b$t0)), 1e-5)
  # with moderators, the moderators of the drawn studies
  dat$x <- dat$year - 1990
  selx <- selmodel(rma(yi, vi, mods = ~ x, data = dat), type = "stepfun", steps = 0.05)
  set.seed(45)
  b <- boot_rma(selx, R = 3, cluster = grp, progress = FALSE)
  for (r in 1:3) {
    if (is.na(b$t[r, 1])) next
    d <- metafast:::.mf_selboot_replicate(b, r)
    sbm_check(b, r, sbm_refit(b, d, type = "stepfun", steps = 0.05, mods = cbind(dat$x)))
  }
})

test_that("'cluster' with the parametric bootstrap, a single cluster or NAs gives errors naming it", {
  dat <- sbm_hack
  dat$grp <- rep(1:2, length.out = nrow(dat))
  sel <- selmodel(rma(yi, vi, data = dat), type = "stepfun", steps = 0.025)
  expect_error(boot_rma(sel, R = 10, type = "parametric", cluster = grp), "'cluster'")
  expect_error(boot_rma(sel, R = 10, cluster = rep(1, 37)), "'cluster'")
  expect_error(boot_rma(sel, R = 10, cluster = c(NA, dat$grp[-1])), "'cluster'")
  expect_error(boot_rma(sel, R = 10, cluster = 1:5), "'cluster'")
})

test_that("type = 'truncest': metafor's se.delta of the cut is an artefact of its differencing steps", {
  # metafor's numerical Hessian (numDeriv, d = 0.1: steps from 0.1 |cut|
  # down to 0.1 |cut| / 32 = 1.3e-3) differentiates across the jump at the
  # outcome 5.9e-4 above the cut, which gives se.delta[2] = 6.5e-4 (metafor
  # 5.2.1); with steps 10 times smaller its Hessian cannot be inverted and
  # every SE is NA.  The likelihood is not stationary in the cut, so there is
  # no SE of it to match: metafast reports NA, and the SEs of the other
  # parameters at the cut.
  m <- metafor::rma(yi, vi, data = sbm_hack, method = "ML")
  b <- suppressWarnings(metafor::selmodel(m, type = "truncest"))
  expect_equal(b$se.delta[2], 0.0006498758, tolerance = 1e-4)
  b2 <- suppressWarnings(metafor::selmodel(m, type = "truncest", control = list(hessianCtrl = list(d = 0.01))))
  expect_true(all(is.na(c(b2$se, b2$se.delta))))
  a <- selmodel(rma(yi, vi, data = sbm_hack, method = "ML"), type = "truncest")
  expect_true(is.na(a$se.delta[2]))
  expect_true(all(is.finite(c(a$se, a$se.tau2, a$se.delta[1]))))
})

test_that("type = 'truncest': each replicate is the supremum of its likelihood (metafor at the same cut)", {
  # The likelihood jumps where the cut passes an outcome and is smooth in
  # between, so its supremum is not attained in general, and metafor's
  # estimate is where optim() happens to stop next to a jump (test-selmodel-rest.R).
  # A replicate's estimate is the best of the maxima of the smooth pieces
  # over their closures: its cut is typically an outcome u, approached from
  # one side.  Comparable with metafor: (1) the
  # other parameters and the log-likelihood at that cut (metafor with the cut
  # fixed 1e-12 inside the piece; optim and nlminb, the better kept): equal
  # within 1e-5, or ours the higher maximum; (2) metafor's free
  # refit reaches no higher a likelihood (its cut is next to a jump of its
  # own, often of another piece, e.g. 7.93 vs our 8.21 on the first case replicate).
  for (alt in c("greater", "less")) {
    sel <- selmodel(rma(yi, vi, data = sbm_hack, method = "ML"), type = "truncest", alternative = alt)
    for (type in c("case", "parametric")) {
      set.seed(47)
      b <- boot_rma(sel, R = 3, type = type, progress = FALSE)
      expect_identical(colnames(b$t), c("intrcpt", "tau2", "delta.1", "delta.2"))
      expect_equal(b$failed, 0L)
      for (r in 1:3) {
        d <- metafast:::.mf_selboot_replicate(b, r)
        m <- metafor::rma(d$yi, d$vi, method = "ML")
        cut <- b$t[r, 4]
        # on an outcome: metafor's cut 1e-12 to either side (the supremum is
        # the higher of the two one-sided limits)
        cuts <- if (any(d$yi == cut)) cut + c(-1e-12, 1e-12) else cut
        fits <- unlist(lapply(cuts, function(cf) lapply(sbm_ctrls, function(ctrl) tryCatch(suppressWarnings(
          metafor::selmodel(m, type = "truncest", alternative = alt, delta = c(NA, cf), control = ctrl)),
          error = function(e) NULL))), recursive = FALSE)
        fits <- Filter(Negate(is.null), fits)
        s <- fits[[which.max(vapply(fits, function(f) f$ll, 0))]]
        # metafor's optimiser stops short on these flat pieces (ours reached
        # up to 2.1e-6 higher log-likelihoods, parameters up to 3e-5 apart at
        # equal log-likelihood): beyond 1e-5 ours must be the higher maximum
        expect_gte(b$selmodel$ll[r], s$ll - 1e-9)
        expect_lt(b$selmodel$ll[r] - s$ll, 1e-5)
        sbm_check(b, r, structure(c(c(s$beta), s$tau2, s$delta[1], cut), ll = s$ll), loose = 1e-4)
        free <- suppressWarnings(metafor::selmodel(m, type = "truncest", alternative = alt))
        expect_gte(b$selmodel$ll[r], free$ll - 1e-8)
        # the cut lies in metafor's data-dependent range
        sdy <- stats::sd(d$yi)
        rng <- if (alt == "greater") c(min(d$yi) - sdy, max(d$yi)) else c(min(d$yi), max(d$yi) + sdy)
        expect_true(cut >= rng[1] - 1e-12 && cut <= rng[2] + 1e-12)
      }
    }
  }
})

test_that("type = 'truncest': the supremum on the original data is at least selmodel()'s maximum", {
  # documented in ?boot_rma: t0 is selmodel()'s (metafor's) estimate, which
  # stops next to a jump below the supremum on dat.hackshaw1998
  for (alt in c("greater", "less")) {
    sel <- selmodel(rma(yi, vi, data = sbm_hack, method = "ML"), type = "truncest", alternative = alt)
    spec <- metafast:::.mf_selboot_spec(sel)
    o <- metafast:::.mf_selboot_kernel(spec, 0L, 0, 0, 0, 1L, NULL, list(seq_along(sbm_hack$yi)))
    expect_gt(o$ll, sel$ll + 0.01)
    expect_equal(c(o$t[1, 4]) %in% sbm_hack$yi, TRUE)
  }
})

test_that("continuous selection functions (beta, halfnorm, power, negexppow, logistic2) match metafor per replicate", {
  # metafor integrates numerically (seconds to minutes per fit): level 2 only
  # (negexp is in test-selmodel-boot.R's default run); two replicates per type.
  # Where our refit reaches the higher maximum (beta, case replicate 2 of
  # seed 46: 4.26 above metafor's refit from its default start, at an
  # intercept of 2.08 vs -0.18), metafor started at our estimate must stay
  # there: that maximum is metafor's too, its default start finds another.
  types <- list(list(type = "beta"), list(type = "halfnorm"), list(type = "power"),
                list(type = "negexppow"), list(type = "logistic2"))
  skip_unless_level(2)
  for (tp in types) {
    sel <- do.call(selmodel, c(list(rma(yi, vi, data = sbm_hack)), tp))
    for (type in c("case", "parametric")) {
      set.seed(46)
      b <- suppressWarnings(boot_rma(sel, R = 2, type = type, progress = FALSE))
      for (r in 1:2) {
        if (is.na(b$t[r, 1])) next
        d <- metafast:::.mf_selboot_replicate(b, r)
        ref <- do.call(sbm_refit, c(list(b, d), tp))
        if (b$selmodel$ll[r] > attr(ref, "ll") + 1e-6) {
          ctrls <- lapply(sbm_ctrls, function(ctrl) c(ctrl, list(beta.init = b$t[r, 1], tau2.init = b$t[r, 2],
                                                                 delta.init = b$t[r, -(1:2)])))
          ref <- tryCatch(do.call(sbm_refit, c(list(b, d), tp, list(ctrls = ctrls))), error = function(e) NULL)
          if (is.null(ref)) {
            # metafor's optimisers fail when started there (power, case
            # replicate 1): metafor's likelihood at our tau2 and delta, held
            # fixed, maximised over beta, must be our maximum
            m0 <- metafor::rma(d$yi, d$vi, method = "ML", tau2 = b$t[r, 2])
            s0 <- do.call(metafor::selmodel, c(list(m0), tp, list(delta = unname(b$t[r, -(1:2)]), control = sbm_ctrls[[1L]])))
            expect_equal(s0$ll, b$selmodel$ll[r], tolerance = 1e-8)
            expect_equal(c(s0$beta), unname(b$t[r, 1]), tolerance = 1e-5)
            next
          }
        }
        sbm_check(b, r, ref, loose = 1e-4)
      }
    }
  }
})
