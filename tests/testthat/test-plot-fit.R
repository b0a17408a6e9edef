# plot() of rma(), rma.mh() and rma.peto() fits (metafor's four panels) and
# qqnorm() of rma() fits with metafor's simulated envelope, against metafor
# 5.2.1: the layouts the plots return, the envelope that metafor draws, and
# the pictures as vdiffr snapshots.
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

in_png <- function(expr, width = 900, height = 900) {
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = width, height = height)
  on.exit({ grDevices::dev.off(); unlink(f) })
  force(expr)
}

bcg <- metadat::dat.bcg
dat_ours <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                             slab = paste(author, year))
dat_ref <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                           slab = paste(author, year))
fit0 <- metafast::rma(yi, vi, data = dat_ours)
ref0 <- metafor::rma(yi, vi, data = dat_ref, control = metafor_tight)
fit1 <- metafast::rma(yi, vi, mods = ~ ablat, data = dat_ours)
ref1 <- metafor::rma(yi, vi, mods = ~ ablat, data = dat_ref, control = metafor_tight)

.mf_with_pass <- function(expr) {
  op <- options(na.action = "na.pass")
  on.exit(options(op))
  expr
}

# The envelope metafor draws (the polygon of qqnorm.rma.uni), caught by
# tracing graphics::polygon as metafor calls it.
metafor_envelope <- function(fit, ...) {
  e <- new.env()
  ns <- asNamespace("metafor")
  suppressMessages(trace("polygon", where = ns, print = FALSE,
                         tracer = bquote(assign("poly", list(x = x, y = y), envir = .(e)))))
  on.exit(suppressMessages(untrace("polygon", where = ns)))
  in_png(stats::qqnorm(fit, ...))
  e$poly
}

test_that("qqnorm() of rma() fits: points and simulated envelope as metafor's", {
  for (pair in list(list(fit0, ref0), list(fit1, ref1))) for (type in c("rstandard", "rstudent")) {
    for (opt in list(list(), list(bonferroni = TRUE, smooth = FALSE, level = 90), list(reps = 200, bass = 5))) {
      set.seed(11)
      ours <- in_png(do.call(qqnorm, c(list(pair[[1]], type = type), opt)))
      set.seed(11)
      poly <- do.call(metafor_envelope, c(list(pair[[2]], type = type), opt))
      set.seed(11)
      ref <- in_png(do.call(qqnorm, c(list(pair[[2]], type = type), opt)))
      expect_equal(ours$x, ref$x, tolerance = tol_closed)
      expect_equal(ours$y, ref$y, tolerance = tol_closed)
      env <- attr(ours, "envelope")
      expect_equal(c(env$lb$x, rev(env$ub$x)), poly$x, tolerance = tol_closed)
      expect_equal(c(env$lb$y, rev(env$ub$y)), poly$y, tolerance = tol_closed)
    }
  }
  # the points: the sorted residuals against the normal quantiles
  r <- stats::rstandard(ref0)$z
  q <- in_png(qqnorm(fit0, envelope = FALSE))
  expect_equal(sort(q$y), sort(r), tolerance = tol_closed)
  expect_equal(sort(q$x), stats::qnorm(stats::ppoints(length(r))), tolerance = tol_closed)
  expect_null(attr(q, "envelope"))
  # seed = as metafor's (set.seed(seed) before the simulation), and reproducible
  a <- in_png(qqnorm(fit0, seed = 5, reps = 100))
  poly <- metafor_envelope(ref0, seed = 5, reps = 100)
  expect_equal(c(attr(a, "envelope")$lb$y, rev(attr(a, "envelope")$ub$y)), poly$y, tolerance = tol_closed)
  set.seed(5)
  b <- in_png(qqnorm(fit0, reps = 100))
  expect_identical(attr(a, "envelope"), attr(b, "envelope"))
  # envelope as a colour, label = "out", grid, lty
  expect_silent(in_png(qqnorm(fit0, envelope = "lightblue", label = "out", grid = TRUE, lty = "dashed",
                              reps = 50)))
  expect_silent(in_png(qqnorm(fit0, label = 3, pos = 24, envelope = FALSE, main = "QQ")))
})

test_that("qqnorm() of rma() fits: bad input", {
  expect_error(in_png(qqnorm(fit0, type = "x")), "'type'")
  expect_error(in_png(qqnorm(fit0, envelope = 2)), "'envelope'")
  expect_error(in_png(qqnorm(fit0, reps = 0)), "'reps'")
  expect_error(in_png(qqnorm(fit0, bass = 11)), "'bass'")
  expect_error(in_png(qqnorm(fit0, smooth = NA)), "'smooth'")
  expect_error(in_png(qqnorm(fit0, label = 99, envelope = FALSE)), "'label'")
  expect_error(in_png(qqnorm(fit0, label = "some", envelope = FALSE)), "'label'")
  expect_error(in_png(qqnorm(fit0, pos = 7, envelope = FALSE)), "'pos'")
  expect_error(in_png(qqnorm(fit0, lty = 1:3)), "'lty'")
  expect_error(qqnorm(metafast::rma(yi, vi, data = dat_ours[1, ])), "k = 1")
})

test_that("plot() of an rma() fit without moderators: the four panels as metafor's", {
  lay <- in_png(plot(fit0))
  expect_named(lay, c("forest", "funnel", "radial", "rstandard"))
  k <- fit0$k
  expect_equal(lay$rstandard$z, unname(stats::rstandard(ref0)$z), tolerance = tol_closed)
  expect_equal(lay$rstandard$x, seq_len(k))
  expect_equal(lay$rstandard$ids, ref0$ids)
  expect_equal(lay$funnel$x, unname(c(ref0$yi)), tolerance = tol_closed)
  expect_equal(lay$radial$y, unname(c(ref0$yi) / sqrt(ref0$vi + ref0$tau2)), tolerance = tol_closed)
  expect_equal(nrow(lay$forest$studies), k)
  # qqplot = TRUE: the QQ plot of the standardized residuals in the fourth panel
  set.seed(2)
  lay <- in_png(plot(fit0, qqplot = TRUE))
  expect_named(lay, c("forest", "funnel", "radial", "qqnorm"))
  z <- stats::rstandard(ref0)$z
  expect_equal(sort(lay$qqnorm$y), sort(z), tolerance = tol_closed)
  expect_equal(lay$qqnorm$x[order(lay$qqnorm$y)], stats::qnorm(stats::ppoints(k)), tolerance = tol_closed)
  # the device's layout is restored
  in_png({
    plot(fit0)
    expect_equal(graphics::par("mfrow"), c(1L, 1L))
  })
})

test_that("plot() of an rma() fit with moderators: residual funnel and fitted vs standardized residuals", {
  lay <- in_png(plot(fit1))
  expect_named(lay, c("forest", "funnel", "fitted", "rstandard"))
  expect_equal(lay$fitted$x, unname(c(fitted(ref1))), tolerance = tol_closed)
  expect_equal(lay$fitted$z, unname(stats::rstandard(ref1)$z), tolerance = tol_closed)
  expect_equal(lay$funnel$x, unname(c(residuals(ref1))), tolerance = tol_closed)
  expect_equal(lay$rstandard$z, unname(stats::rstandard(ref1)$z), tolerance = tol_closed)
  set.seed(3)
  lay <- in_png(plot(fit1, qqplot = TRUE))
  expect_equal(sort(lay$qqnorm$y), sort(stats::rstandard(ref1)$z), tolerance = tol_closed)
})

test_that("plot() with missing values follows na.action as metafor", {
  d1 <- dat_ours; d1$yi[3] <- NA
  r1 <- dat_ref; r1$yi[3] <- NA
  f <- suppressWarnings(metafast::rma(yi, vi, data = d1))
  r <- suppressWarnings(metafor::rma(yi, vi, data = r1, control = metafor_tight))
  lay <- in_png(plot(f))
  expect_equal(lay$rstandard$z, unname(stats::rstandard(r)$z), tolerance = tol_closed)
  expect_equal(lay$rstandard$ids, r$ids[r$not.na])
  op <- options(na.action = "na.exclude")
  on.exit(options(op))
  lay <- in_png(plot(f))
  zr <- stats::rstandard(r)$z
  expect_equal(lay$rstandard$z, unname(zr), tolerance = tol_closed)
  expect_equal(length(lay$rstandard$z), 13L)
  expect_true(is.na(lay$rstandard$z[3]))
  expect_equal(lay$rstandard$ids, r$ids)
})

test_that("plot() of rma.mh() and rma.peto() fits: the four panels as metafor's", {
  mh <- metafast::rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  mhr <- metafor::rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  pe <- metafast::rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  per <- metafor::rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  for (p in list(list(mh, mhr), list(pe, per))) {
    lay <- in_png(plot(p[[1]]))
    expect_named(lay, c("forest", "funnel", "radial", "rstandard"))
    expect_equal(lay$rstandard$z, unname(stats::rstandard(p[[2]])$z), tolerance = tol_closed)
    expect_equal(lay$rstandard$ids, p[[2]]$ids)
    lay <- in_png(plot(p[[1]], qqplot = TRUE))
    expect_named(lay, c("forest", "funnel", "radial", "qqnorm"))
    ref <- in_png(qqnorm(p[[2]]))
    expect_equal(lay$qqnorm, ref, tolerance = tol_closed)
  }
  # a table without events (no outcome) and a subset: the studies drawn and their ids as metafor
  d <- bcg; d$tpos[3] <- 0; d$cpos[3] <- 0
  for (fn in c("rma.mh", "rma.peto")) {
    a <- suppressWarnings(get(fn, asNamespace("metafast"))(ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg,
                                                           subset = -2))
    b <- suppressWarnings(get(fn, asNamespace("metafor"))(ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg,
                                                          subset = -2))
    z <- .mf_with_pass(stats::rstandard(b)$z)
    lay <- in_png(plot(a))
    expect_equal(lay$rstandard$z, unname(z[!is.na(z)]), tolerance = tol_closed)
    expect_equal(lay$rstandard$ids, b$ids[!is.na(z)])
    op <- options(na.action = "na.exclude")
    lay <- in_png(plot(a))
    options(op)
    expect_equal(lay$rstandard$z, unname(z), tolerance = tol_closed)
    expect_equal(lay$rstandard$ids, b$ids)
  }
})

test_that("plot() of a fit: bad input", {
  expect_error(in_png(plot(fit0, qqplot = "yes")), "'qqplot'")
  expect_error(in_png(plot(fit0, main = "x")), "'main'")
  mh <- metafast::rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  expect_error(in_png(plot(mh, qqplot = NA)), "'qqplot'")
})

test_that("pictures of plot() and qqnorm() of fits", {
  skip_if_not_installed("vdiffr")
  mh <- metafast::rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  pe <- metafast::rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  vdiffr::expect_doppelganger("plot-rma", function() plot(fit0))
  vdiffr::expect_doppelganger("plot-rma-mods", function() plot(fit1))
  vdiffr::expect_doppelganger("plot-rma-qqplot", function() { set.seed(1); plot(fit0, qqplot = TRUE) })
  vdiffr::expect_doppelganger("plot-rma-mh", function() plot(mh))
  vdiffr::expect_doppelganger("plot-rma-peto", function() plot(pe, qqplot = TRUE))
  vdiffr::expect_doppelganger("qqnorm-rma-envelope", function() qqnorm(fit0, seed = 3, label = "out"))
  vdiffr::expect_doppelganger("qqnorm-rma-mods-rstudent", function()
    qqnorm(fit1, type = "rstudent", seed = 3, envelope = "lightblue", grid = TRUE, label = 2))
})
