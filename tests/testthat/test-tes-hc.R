# tes() (test of excess significance) and hc() (Henmi-Copas interval) against
# metafor::tes() and metafor::hc() (always called fully qualified), issue 15.

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

mdat <- function(name) {
  e <- new.env()
  utils::data(list = name, package = "metadat", envir = e)
  e[[name]]
}
dorn <- function() {
  d <- mdat("dat.dorn2007")
  metafor::escalc(measure = "RR", ai = x.a, n1i = n.a, ci = x.p, n2i = n.p, data = d)
}
bcg <- function() {
  b <- mdat("dat.bcg")
  metafor::escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = b)
}
sim_dat <- function(k, seed, mu = 0.3, tau = 0.2) {
  set.seed(seed)
  vi <- stats::runif(k, 0.01, 0.2)
  data.frame(yi = stats::rnorm(k, mu, sqrt(vi + tau^2)), vi = vi)
}

tes_fields <- c("k", "O", "E", "OEratio", "pval", "power", "theta")
# All fields but the limit estimate (metafor finds it to uniroot's default
# accuracy, ~1e-4; it is checked separately).
expect_tes <- function(a, b, tolerance = tol_closed) {
  expect_identical(a$test, b$test)
  expect_identical(a$sig, b$sig)
  expect_identical(a$tes.alternative, b$tes.alternative)
  for (f in tes_fields) expect_equal(a[[f]], b[[f]], tolerance = tolerance, label = f)
  expect_equal(a$X2, b$X2, tolerance = tolerance)
  expect_identical(is.null(a$theta.lim), is.null(b$theta.lim))
  expect_identical(is.na(a$theta.lim), is.na(b$theta.lim))
}
# The limit estimate against metafor's p-value function: the root of
# metafor::tes(theta = t)$pval - tes.alpha near metafor's own limit estimate,
# found to 1e-12.
ref_limit <- function(args, mlim, side, a) {
  f <- function(t) do.call(metafor::tes, utils::modifyList(args, list(theta = t, tes.alternative = side,
                                                                        find.lim = FALSE, progbar = FALSE)))$pval - a
  stats::uniroot(f, c(mlim - 0.01, mlim + 0.01), tol = 1e-12)$root
}
expect_limit <- function(a, b, args) {
  skip_if(is.null(b$theta.lim))
  sides <- if (b$tes.alternative == "two.sided") c("greater", "less") else b$tes.alternative
  al <- if (b$tes.alternative == "two.sided") b$tes.alpha / 2 else b$tes.alpha
  for (i in seq_along(sides)) {
    if (is.na(b$theta.lim[i])) next
    expect_equal(a$theta.lim[i], ref_limit(args, b$theta.lim[i], sides[i], al), tolerance = tol_iter)
    expect_equal(a$theta.lim[i], b$theta.lim[i], tolerance = 1e-3)  # metafor's own, to its accuracy
  }
}
printed <- function(x, ...) {
  out <- capture.output(print(x, ...))
  sub(" +$", "", out[nzchar(trimws(out))])
}

test_that("tes() reproduces metafor's help example (dat.dorn2007)", {
  dat <- dorn()
  a <- tes(yi, vi, data = dat, test = "chi2")
  b <- metafor::tes(yi, vi, data = dat, test = "chi2")
  expect_tes(a, b)
  expect_limit(a, b, list(x = dat$yi, vi = dat$vi, test = "chi2"))
  expect_s3_class(a, "mf_tes")
  # an EE fit gives the same test
  f <- rma(yi, vi, data = dat, method = "EE")
  fm <- metafor::rma(yi, vi, data = dat, method = "EE")
  expect_tes(tes(f, test = "chi2"), metafor::tes(fm, test = "chi2"))
  # the power of each study, closed form
  crit <- stats::qnorm(0.975)
  th <- sum(dat$yi / dat$vi) / sum(1 / dat$vi)
  m <- th / sqrt(dat$vi)
  expect_equal(a$power, stats::pnorm(crit, m, lower.tail = FALSE) + stats::pnorm(-crit, m), tolerance = tol_closed)
  # the p-value curve of the example: theta over a grid
  for (t in c(0, 0.25, 0.5, 1))
    expect_equal(tes(yi, vi, data = dat, test = "chi2", theta = t)$pval,
                 metafor::tes(yi, vi, data = dat, test = "chi2", theta = t)$pval, tolerance = tol_closed)
  # significance chasing: alpha over a grid
  for (al in c(0.01, 0.2, 0.5, 0.9))
    expect_equal(tes(yi, vi, data = dat, test = "chi2", alpha = al)$pval,
                 metafor::tes(yi, vi, data = dat, test = "chi2", alpha = al)$pval, tolerance = tol_closed)
})

test_that("tes() agrees with metafor for every test, alternative and tes.alternative", {
  sets <- list(bcg = bcg()[, c("yi", "vi")], sim = sim_dat(11, 3), small = sim_dat(4, 7, mu = 0.6))
  alts <- c("two.sided", "greater", "less")
  tests <- list(NULL, "chi2", "binom", "exact")
  if (test_level() < 2L) {  # level 1: every variant once, on the small sets
    sets <- sets[c("bcg", "small")]
  }
  for (nm in names(sets)) for (alt in alts) for (ta in alts) for (te in tests) {
      if (test_level() < 2L && nm == "bcg" && !identical(te, "chi2")) next
      d <- sets[[nm]]
      args <- list(x = d$yi, vi = d$vi, alternative = alt, tes.alternative = ta, progbar = FALSE)
      if (!is.null(te)) args$test <- te
      b <- tryCatch(suppressWarnings(do.call(metafor::tes, args)), error = function(e) NULL)
      if (is.null(b)) next
      a <- do.call(tes, args)
      expect_tes(a, b)
      if (nm == "bcg" && identical(te, "chi2")) expect_limit(a, b, args)
    }
})

test_that("tes() with tau2, theta, H0, subset, sei, correct and a model fit agrees with metafor", {
  dat <- bcg()
  tight <- list(rel.tol = 1e-12)
  a <- tes(dat$yi, dat$vi, tau2 = 0.3, rel.tol = 1e-12)
  b <- metafor::tes(dat$yi, dat$vi, tau2 = 0.3, rel.tol = 1e-12, progbar = FALSE)
  expect_tes(a, b, tol_iter)
  expect_limit(a, b, list(x = dat$yi, vi = dat$vi, tau2 = 0.3, rel.tol = 1e-12, test = b$test))
  # the default quadrature (1e-10) is as close to metafor's tight one
  expect_equal(tes(dat$yi, dat$vi, tau2 = 0.3, find.lim = FALSE)$E, b$E, tolerance = tol_iter)
  # tau2 at or below tau2.lb counts as 0
  expect_tes(tes(dat$yi, dat$vi, tau2 = 0.01, tau2.lb = 0.02), metafor::tes(dat$yi, dat$vi, tau2 = 0.01, tau2.lb = 0.02, progbar = FALSE))
  # one theta per study: no limit estimate
  th <- seq(-1, 0, length.out = 13)
  a <- tes(dat$yi, dat$vi, theta = th, test = "binom")
  b <- metafor::tes(dat$yi, dat$vi, theta = th, test = "binom")
  expect_tes(a, b)
  expect_null(a$theta.lim)
  # H0, alpha, sei, subset, correct, find.lim
  args <- list(x = dat$yi, sei = sqrt(dat$vi), H0 = -0.2, alpha = 0.1, subset = c(1:9, 12), test = "chi2",
               correct = TRUE, alternative = "less")
  expect_tes(do.call(tes, args), do.call(metafor::tes, args))
  args$subset <- dat$year > 1950
  expect_tes(do.call(tes, args), do.call(metafor::tes, args))
  expect_null(tes(dat$yi, dat$vi, find.lim = FALSE)$theta.lim)
  # rma() fits: REML (theta and tau2 from the fit), moderators (fitted values), rma.mh()
  f <- rma(yi, vi, data = dat, control = list(threshold = 1e-12))
  fm <- metafor::rma(yi, vi, data = dat, control = metafor_tight)
  expect_tes(tes(f, rel.tol = 1e-12, find.lim = FALSE), metafor::tes(fm, rel.tol = 1e-12, find.lim = FALSE), tol_iter)
  f <- rma(yi, vi, mods = ~ ablat, data = dat, method = "DL")
  fm <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "DL")
  a <- tes(f, rel.tol = 1e-12)
  expect_tes(a, metafor::tes(fm, rel.tol = 1e-12), tol_iter)
  expect_length(a$theta, 13L)
  m <- rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, measure = "RR")
  mm <- metafor::rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat, measure = "RR")
  expect_tes(tes(m, test = "chi2"), metafor::tes(mm, test = "chi2"))
  # a metafor fit goes to metafor's tes()
  expect_s3_class(tes(fm), "tes")
})

test_that("the exact test is the Poisson-binomial distribution", {
  pw <- c(0.1, 0.5, 0.9, 0.3)
  d <- metafast:::.mf_tes_pbinom(pw)
  ref <- vapply(0:4, function(j) {
    s <- 0
    for (m in 0:15) { b <- as.integer(intToBits(m))[1:4]; if (sum(b) == j) s <- s + prod(ifelse(b == 1, pw, 1 - pw)) }
    s
  }, numeric(1))
  expect_equal(d, ref, tolerance = 1e-14)
  # more studies than metafor can enumerate: the exact test still runs
  dat <- sim_dat(60, 11)
  a <- tes(dat$yi, dat$vi, test = "exact", find.lim = FALSE)
  expect_true(a$pval > 0 && a$pval <= 1)
  expect_identical(tes(dat$yi, dat$vi, find.lim = FALSE)$test, "chi2")
})

test_that("print() of tes() is metafor's", {
  dat <- dorn()
  expect_identical(printed(tes(yi, vi, data = dat, test = "chi2")), printed(metafor::tes(yi, vi, data = dat, test = "chi2")))
  d5 <- dat[2:6, ]  # (a limit estimate metafor finds to 1e-4 far enough from a rounding boundary)
  a <- tes(d5$yi, d5$vi, tes.alternative = "two.sided")
  b <- metafor::tes(d5$yi, d5$vi, tes.alternative = "two.sided", progbar = FALSE)
  expect_identical(printed(a), printed(b))
  th <- seq(0.1, 0.5, length.out = 19)
  expect_identical(printed(tes(dat$yi, dat$vi, theta = th, test = "binom")),
                   printed(metafor::tes(dat$yi, dat$vi, theta = th, test = "binom")))
  expect_identical(printed(tes(dat$yi, dat$vi, test = "chi2"), digits = 2),
                   printed(metafor::tes(dat$yi, dat$vi, test = "chi2"), digits = 2))
})

test_that("tes() rejects bad input by name", {
  dat <- bcg()
  expect_error(tes(dat$yi, -dat$vi), "'vi'")
  expect_error(tes(dat$yi, dat$vi[-1]), "'vi' has length 12")
  expect_error(tes(dat$yi), "'vi' or the standard errors with 'sei'")
  expect_error(tes(dat$yi, dat$vi, alpha = 1), "'alpha'")
  expect_error(tes(dat$yi, dat$vi, alpha = c(0.05, 0.1)), "'alpha'")
  expect_error(tes(dat$yi, dat$vi, tes.alpha = 0), "'tes.alpha'")
  expect_error(tes(dat$yi, dat$vi, theta = Inf), "'theta'")
  expect_error(tes(dat$yi, dat$vi, theta = 1:3), "'theta' has length 3")
  expect_error(tes(dat$yi, dat$vi, tau2 = -1), "'tau2'")
  expect_error(tes(dat$yi, dat$vi, H0 = NA), "'H0'")
  expect_error(tes(dat$yi, dat$vi, test = "z"), "'test'")
  expect_error(tes(dat$yi, dat$vi, alternative = "up"), "'alternative'")
  expect_error(tes(dat$yi, dat$vi, tes.alternative = "up"), "'tes.alternative'")
  expect_error(tes(dat$yi, dat$vi, progbar = NA), "'progbar'")
  expect_error(tes(dat$yi, dat$vi, rel.tol = -1), "'rel.tol'")
  expect_error(tes(dat$yi, dat$vi, subset = 20), "'subset'")
  expect_error(tes(c(dat$yi[-1], Inf), dat$vi), "'x' must be finite; not finite in row 13")
  expect_error(tes(letters, dat$vi), "'x'")
  expect_warning(tes(dat$yi, dat$vi, foo = 1), "'foo'")
  expect_warning(r <- tes(c(NA, dat$yi[-1]), dat$vi, test = "chi2"), "1 study with NAs omitted")
  expect_identical(r$k, 12L)
  fmv <- rma.mv(yi, vi, random = ~ 1 | trial, data = dat)
  expect_error(tes(fmv), "rma.mv")
})

test_that("hc() reproduces metafor's help example (dat.lee2004) and agrees on other data", {
  d <- metafor::escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = mdat("dat.lee2004"))
  tight <- list(tol = 1e-12)
  chk <- function(f, fm, ...) {
    a <- hc(f, control = tight, ...)
    b <- metafor::hc(fm, control = tight, ...)
    expect_s3_class(a, "mf_hc")
    expect_identical(a$method, "DL")
    expect_identical(a$method.rma, b$method.rma)
    # the closed forms (DL tau2, estimate and its SE) and the root (t0 to 1e-12)
    for (nm in c("beta", "se", "tau2")) expect_equal(a[[nm]], b[[nm]], tolerance = tol_closed, label = nm)
    for (nm in c("ci.lb", "ci.ub")) expect_equal(a[[nm]], b[[nm]], tolerance = tol_iter, label = nm)
    # the fit's own results (closed forms for DL and EE)
    for (nm in c("beta.rma", "se.rma", "ci.lb.rma", "ci.ub.rma", "tau2.rma"))
      expect_equal(unname(c(a[[nm]])), unname(c(b[[nm]])), tolerance = tol_iter, label = nm)
    a
  }
  a <- chk(rma(yi, vi, data = d, control = list(threshold = 1e-12)), metafor::rma(yi, vi, data = d, control = metafor_tight))
  expect_true(a$ci.ub - a$ci.lb > 2 * 1.96 * a$se)  # wider than the Wald interval with the same SE
  chk(rma(yi, vi, data = d, method = "DL"), metafor::rma(yi, vi, data = d, method = "DL"), transf = exp)
  b <- bcg()
  chk(rma(yi, vi, data = b, method = "DL"), metafor::rma(yi, vi, data = b, method = "DL"))
  chk(rma(yi, vi, data = b, method = "EE", level = 90), metafor::rma(yi, vi, data = b, method = "EE", level = 90))
  s <- sim_dat(30, 5, tau = 0)  # (tau2 = 0 by DL)
  chk(rma(yi, vi, data = s, method = "HE"), metafor::rma(yi, vi, data = s, method = "HE"))
  s <- sim_dat(25, 9, tau = 0.5)
  chk(rma(yi, vi, data = s, method = "DL", test = "knha"), metafor::rma(yi, vi, data = s, method = "DL", test = "knha"))
  # the default root accuracy (1e-10) is as close
  f <- rma(yi, vi, data = d, method = "DL")
  fm <- metafor::rma(yi, vi, data = d, method = "DL")
  expect_equal(hc(f)$ci.lb, metafor::hc(fm, control = tight)$ci.lb, tolerance = tol_iter)
  # transf.exp.int receives the fit's tau2
  a <- hc(f, transf = transf.exp.int)
  expect_equal(a$beta, exp(hc(f)$beta + f$tau2 / 2), tolerance = tol_closed)
  expect_true(is.na(a$se))
  expect_equal(hc(f, transf = function(x, t) x * t, targs = 2)$ci.ub, 2 * hc(f)$ci.ub, tolerance = tol_closed)
})

test_that("print() of hc() is metafor's, and both packages' hc() reach the right method", {
  d <- metafor::escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = mdat("dat.lee2004"))
  f <- rma(yi, vi, data = d, method = "DL")
  fm <- metafor::rma(yi, vi, data = d, method = "DL")
  expect_identical(printed(hc(f)), printed(metafor::hc(fm)))
  expect_identical(printed(hc(f, transf = exp)), printed(metafor::hc(fm, transf = exp)))
  expect_identical(printed(hc(f), digits = 2), printed(metafor::hc(fm), digits = 2))
  tab <- print(hc(f)) |> utils::capture.output() |> invisible()
  expect_s3_class(metafor::hc(f), "mf_hc")        # metafor's generic, our fit
  expect_s3_class(hc(fm), "hc.rma.uni")           # our generic, metafor's fit
})

test_that("hc() rejects what metafor rejects, by name", {
  b <- bcg()
  expect_error(hc(rma(yi, vi, mods = ~ ablat, data = b)), "without moderators")
  expect_error(hc(rma(yi, vi, data = b[1, ])), "k = 1")
  expect_error(hc(rma(yi, vi, data = b), control = list(tol = -1)), "'control\\$tol'")
  expect_error(hc(rma(yi, vi, data = b), control = list(foo = 1)), "Unknown 'control'")
  expect_error(hc(rma(yi, vi, data = b), control = 1), "'control'")
  expect_error(hc(rma(yi, vi, data = b), transf = "exp"), "'transf'")
  expect_error(hc(rma(yi, vi, data = b), transf = exp, targs = 1), "targs")
  expect_error(hc(rma.mv(yi, vi, random = ~ 1 | trial, data = b)), "hc")
  expect_error(hc(rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = b)), "hc")
  v0 <- b$vi
  v0[2] <- 0
  expect_error(hc(suppressWarnings(rma(b$yi, v0, method = "DL"))), "'vi'")
})
