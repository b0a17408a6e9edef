# labbe(), radial() / galbraith(), regplot() and llplot() (issue 16): the
# layouts they return against the values metafor's versions return, their
# arguments, and the examples of metafor's documentation run unchanged.
# Pictures: test-plots-snapshots.R.

skip_if_not_installed("metadat")

in_png <- function(expr) {
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = 700, height = 600)
  on.exit({ grDevices::dev.off(); unlink(f) })
  force(expr)
}
# metafor's plot and its invisible result (in a device of its own)
mf_plot <- function(expr) in_png(suppressWarnings(expr))
bcg <- metadat::dat.bcg
bcg_es <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
same_points <- function(ours, theirs, cols) {
  for (cc in cols) expect_equal(unname(as.numeric(ours[[cc]])), unname(as.numeric(theirs[[cc]])),
                                tolerance = tol_closed, label = cc)
}

test_that("regplot() returns metafor's coordinates, sizes, labels and fitted values", {
  skip_if_not_installed("metafor")
  d <- bcg_es
  d$ablat[5] <- NA
  m <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  m$ablat[5] <- NA
  cases <- list(list(), list(label = "piout", pi = TRUE), list(label = "ciout", psize = "seinv"),
                list(transf = exp, label = TRUE), list(plim = c(NA, 2, 0.8), label = c(2, 7, 12)),
                list(xvals = seq(0, 60, by = 5), label = "all", level = 90), list(offset = 2, label = "all", psize = 1.5),
                list(psize = "vinv", plim = c(1, NA, 4)))
  for (sub in list(NULL, -2)) {
    ours <- suppressWarnings(do.call(rma, c(list(yi = d$yi, vi = d$vi, mods = ~ d$ablat, method = "DL"),
                                            if (!is.null(sub)) list(subset = sub))))
    theirs <- suppressWarnings(do.call(metafor::rma, c(list(yi = m$yi, vi = m$vi, mods = ~ m$ablat, method = "DL"), if (!is.null(sub)) list(subset = sub))))
    for (a in cases) {
      r1 <- in_png(do.call(regplot, c(list(ours), a)))
      r2 <- mf_plot(do.call(metafor::regplot, c(list(theirs), a)))
      expect_s3_class(r1, "mf_regplot")
      same_points(r1, r2, c("xi", "yi", "psize", "pred", "ids", "pch", "order"))
      expect_identical(as.logical(r1$label), as.logical(r2$label))
      expect_identical(as.character(r1$slab), as.character(r2$slab))
    }
  }
  # two moderators: mod by name or position; the others held at their means
  f2 <- rma(yi, vi, mods = ~ ablat + year, data = bcg_es, method = "DL")
  m0 <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  m2 <- metafor::rma(yi, vi, mods = ~ ablat + year, data = m0, method = "DL")
  for (mod in list("year", 3, "abl")) {
    r1 <- in_png(regplot(f2, mod = mod, label = "ciout"))
    r2 <- mf_plot(metafor::regplot(m2, mod = mod, label = "ciout"))
    same_points(r1, r2, c("xi", "yi", "psize", "pred"))
    expect_identical(r1$label, r2$label)
  }
  # the line and bands against metafor's predict()
  r1 <- in_png(regplot(f2, mod = "ablat", pi = TRUE, xvals = c(10, 30, 50)))
  p <- predict(m2, newmods = cbind(c(10, 30, 50), mean(bcg$year)))
  ln <- attr(r1, "lines")
  expect_equal(ln$pred, p$pred, tolerance = tol_closed)
  expect_equal(ln$ci.lb, p$ci.lb, tolerance = tol_closed)
  expect_equal(ln$pi.ub, p$pi.ub, tolerance = tol_closed)
})

test_that("regplot() of rma.mv() fits returns metafor's layout; radial() refuses them as metafor", {
  skip_if_not_installed("metafor")
  d <- metadat::dat.konstantopoulos2011
  d$year[c(3, 20)] <- NA
  m <- suppressWarnings(mv_ref(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = d))
  f <- suppressWarnings(rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = d, sigma2 = m$sigma2))
  cases <- list(list(), list(label = "piout", pi = TRUE), list(psize = "seinv", label = "ciout"),
                list(transf = exp, label = TRUE, level = 90), list(xvals = c(1980, 1990, 2000), pi = TRUE))
  for (a in cases) {
    r1 <- in_png(do.call(regplot, c(list(f), a)))
    r2 <- mf_plot(do.call(metafor::regplot, c(list(m), a)))
    expect_s3_class(r1, "mf_regplot")
    # (not the drawing order: equal weights within a school tie, and ties
    # of weights equal to ~1e-9 break either way)
    same_points(r1, r2, c("xi", "yi", "psize", "pred", "ids", "pch"))
    expect_identical(as.logical(r1$label), as.logical(r2$label))
  }
  # the line and bands: metafor's predict() of the rma.mv fit
  r1 <- in_png(regplot(f, pi = TRUE, xvals = c(1980, 1990, 2000)))
  p <- predict(m, newmods = c(1980, 1990, 2000))
  ln <- attr(r1, "lines")
  for (cc in c("pred", "ci.lb", "ci.ub", "pi.lb", "pi.ub")) expect_equal(ln[[cc]], c(p[[cc]]), tolerance = tol_closed)
  # an '~ inner | outer' term (UN) and V, two moderators, mod by name
  b <- metadat::dat.berkey1998
  V <- metafor::vcalc(vi, cluster = trial, obs = outcome, rho = 0.4, data = b)
  m2 <- mv_ref(yi, V, mods = ~ outcome + year, random = ~ outcome | trial, struct = "UN", data = b)
  f2 <- rma.mv(yi, V, mods = ~ outcome + year, random = ~ outcome | trial, struct = "UN", data = b, tau2 = m2$tau2,
               rho = m2$rho)
  r1 <- in_png(regplot(f2, mod = "year", label = "ciout"))
  r2 <- mf_plot(metafor::regplot(m2, mod = "year", label = "ciout"))
  same_points(r1, r2, c("xi", "yi", "psize", "pred"))
  expect_identical(as.logical(r1$label), as.logical(r2$label))
  expect_error(in_png(regplot(f2)), "'mod'")
  expect_error(metafor::radial(m), "rma.mv")
  expect_error(radial(f), "not available for models fitted by rma.mv")
  expect_error(galbraith(f), "not available for models fitted by rma.mv")
})

test_that("regplot() with a predict() result, atransf and the other arguments", {
  skip_if_not_installed("metafor")
  fit <- rma(yi, vi, mods = ~ ablat + I(ablat^2), data = bcg_es)
  xs <- seq(0, 60, length = 61)
  p <- predict(fit, newmods = cbind(xs, xs^2))
  r <- in_png(regplot(fit, mod = "ablat", pred = p, xvals = xs, pi = TRUE))
  expect_equal(attr(r, "lines")$pred, p$pred)
  expect_equal(attr(r, "lines")$pi.lb, as.vector(p$pi.lb))
  expect_error(in_png(regplot(fit, mod = "ablat", pred = p)), "'xvals'")
  expect_error(in_png(regplot(fit, mod = "ablat", pred = p, xvals = 1:3)), "'xvals' has 3 values")
  # atransf labels the log axis on the ratio scale; the values stay logs
  f1 <- rma(yi, vi, mods = ~ ablat, data = bcg_es)
  r <- in_png(regplot(f1, atransf = exp, at = log(c(0.25, 0.5, 1, 2)), digits = 2))
  expect_identical(attr(r, "at.lab"), c("0.25", "0.50", "1.00", "2.00"))
  expect_equal(attr(r, "at"), log(c(0.25, 0.5, 1, 2)))
  expect_equal(r$yi, f1$yi)
  r <- in_png(regplot(f1, at = c(-1, 0), at.lab = c("minus one", "zero")))
  expect_identical(attr(r, "at.lab"), c("minus one", "zero"))
  # labels stay inside the plot
  r <- in_png(regplot(f1, label = "all"))
  d <- attr(r, "offset")
  top <- max(r$yi + d[1L] + d[2L] * r$psize)
  expect_lt(top, attr(r, "ylim")[2L])
  # per-study arguments are evaluated in the fit's data, as metafor's
  r <- in_png(regplot(f1, psize = ablat / 10, pch = ifelse(alloc == "random", 21, 22)))
  expect_equal(r$psize, bcg$ablat / 10)
  expect_equal(r$pch, ifelse(bcg$alloc == "random", 21, 22))
  # olim truncates, grep finds the moderator
  r <- in_png(regplot(f1, olim = c(-1, 0)))
  expect_true(all(r$yi >= -1 & r$yi <= 0))
  r <- in_png(regplot(fit, mod = "2)", grep = TRUE, fixed = TRUE))
  expect_equal(r$xi, bcg$ablat^2)
  # errors name the argument
  expect_error(in_png(regplot(rma(yi, vi, data = bcg_es))), "no moderators")
  expect_error(in_png(regplot(fit)), "'mod'")
  expect_error(in_png(regplot(f1, mod = "foo")), "'mod'")
  expect_error(in_png(regplot(f1, transf = exp, atransf = exp)), "'transf' or 'atransf'")
  expect_error(in_png(regplot(f1, legend = 3)), "'legend'")
  expect_error(in_png(regplot(f1, plim = 1)), "'plim'")
  expect_error(in_png(regplot(f1, col = c("red", "blue"))), "'col'")
  # no prediction band for equal-effects models: metafor's warning
  expect_warning(in_png(regplot(rma(yi, vi, mods = ~ ablat, data = bcg_es, method = "EE"), pi = TRUE)),
                 "no prediction interval")
  # the legend avoids the points when its place is not given
  r <- in_png(regplot(f1, legend = TRUE))
  expect_s3_class(r, "mf_regplot")
  # points() redraws on top of the plot
  expect_null(in_png({
    regplot(f1)
    points(r)
  }))
})

test_that("radial() returns metafor's points for rma, rma.mh and rma.peto fits", {
  skip_if_not_installed("metafor")
  m <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  for (meth in c("EE", "DL")) {
    for (center in c(FALSE, TRUE)) {
      ours <- rma(yi, vi, data = bcg_es, method = meth, subset = -3)
      theirs <- metafor::rma(yi, vi, data = m, method = meth, subset = -3)
      r1 <- in_png(radial(ours, center = center))
      r2 <- mf_plot(metafor::radial(theirs, center = center))
      same_points(r1, r2, c("x", "y", "ids"))
      expect_identical(as.character(r1$slab), as.character(r2$slab))
      expect_equal(attr(r1, "xlim"), c(0, 1.3 * max(r2$x)), tolerance = tol_closed)
    }
  }
  expect_identical(in_png(galbraith(rma(yi, vi, data = bcg_es))), in_png(radial(rma(yi, vi, data = bcg_es))))
  b <- bcg
  b$tpos[2] <- 0
  b$cpos[2] <- 0
  for (fn in c("rma.mh", "rma.peto")) {
    ours <- suppressWarnings(get(fn)(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = b))
    theirs <- suppressWarnings(get(fn, asNamespace("metafor"))(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = b))
    r1 <- in_png(radial(ours))
    r2 <- mf_plot(metafor::radial(theirs))
    same_points(r1, r2, c("x", "y", "ids"))
  }
  # the arc is labelled with the (transformed) effect sizes
  r <- in_png(radial(rma(yi, vi, data = bcg_es), transf = exp, aty = log(c(0.25, 0.5, 1, 2)), digits = 2))
  expect_identical(attr(r, "arc")$label, c("0.25", "0.50", "1.00", "2.00"))
  expect_error(in_png(radial(rma(yi, vi, mods = ~ ablat, data = bcg_es))), "without moderators")
  expect_error(in_png(radial(rma(yi, vi, data = bcg_es), steps = 1)), "'steps'")
})

test_that("labbe() returns metafor's arm-level points for every measure, flip, rma.mh and subsets", {
  skip_if_not_installed("metafor")
  for (meas in c("RR", "OR", "RD", "AS")) {
    for (flip in c(FALSE, TRUE)) {
      ours <- rma(measure = meas, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, subset = -4, method = "DL")
      theirs <- metafor::rma(measure = meas, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, subset = -4,
                             method = "DL")
      r1 <- in_png(labbe(ours, flip = flip))
      r2 <- mf_plot(metafor::labbe(theirs, flip = flip))
      same_points(r1, r2, c("x", "y", "cex", "ids"))
    }
  }
  # n1i / n2i instead of bi / di, zero cells with add and to, a transformation, plim forms
  dam <- metadat::dat.damico2009
  dam$xt[2] <- 0
  ours <- rma(measure = "OR", ai = xt, n1i = nt, ci = xc, n2i = nc, data = dam)
  theirs <- metafor::rma(measure = "OR", ai = xt, n1i = nt, ci = xc, n2i = nc, data = dam)
  for (a in list(list(), list(transf = exp), list(add = 1, to = "all"), list(plim = c(NA, 3)),
                 list(plim = c(1, NA, 2)), list(to = "none"), list(addyi = FALSE))) {
    r1 <- suppressWarnings(in_png(do.call(labbe, c(list(ours), a))))
    r2 <- mf_plot(do.call(metafor::labbe, c(list(theirs), a)))
    same_points(r1, r2, c("x", "y", "cex", "ids"))
  }
  # person-time data
  hart <- metadat::dat.hart1999
  for (meas in c("IRR", "IRD", "IRSD")) {
    ours <- rma(measure = meas, x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = hart)
    theirs <- metafor::rma(measure = meas, x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = hart)
    r1 <- in_png(labbe(ours))
    r2 <- mf_plot(metafor::labbe(theirs))
    same_points(r1, r2, c("x", "y", "cex", "ids"))
  }
  # Mantel-Haenszel fits; Peto fits have no L'Abbe plot (as in metafor)
  mh <- rma.mh(measure = "RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, subset = 2:13)
  mmh <- metafor::rma.mh(measure = "RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, subset = 2:13)
  r1 <- in_png(labbe(mh, ci = TRUE))
  r2 <- mf_plot(metafor::labbe(mmh, ci = TRUE))
  same_points(r1, r2, c("x", "y", "cex", "ids"))
  expect_error(in_png(labbe(rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))), "measure")
  # the lines: no effect and the pooled estimate, with its interval
  fit <- rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  r <- in_png(labbe(fit, ci = TRUE, pi = TRUE, legend = "topleft"))
  ln <- attr(r, "lines")
  expect_equal(ln$y - ln$x, rep(c(fit$beta), nrow(ln)), tolerance = tol_closed)
  expect_equal(ln$ci.ub - ln$x, rep(unname(fit$ci.ub), nrow(ln)), tolerance = tol_closed)
  # errors name what is missing
  expect_error(in_png(labbe(rma(yi, vi, data = bcg_es))), "group-level counts")
  expect_error(in_png(labbe(rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, mods = ~ ablat,
                                data = bcg))), "without moderators")
  expect_error(in_png(labbe(fit, to = "never")), "'to'")
  expect_error(in_png(labbe(fit, pch = 1:2)), "'pch'")
})

test_that("llplot() returns metafor's likelihood curves", {
  skip_if_not_installed("metafor")
  # (metafor's llplot() fails with 'subset' for measure = "GEN": its own bug)
  for (a in list(list(), list(scale = FALSE), list(level = 95, xvals = 200), list(xlim = c(-2, 1), lwd = 2))) {
    l1 <- in_png(do.call(llplot, c(list(measure = "GEN", yi = bcg_es$yi, vi = bcg_es$vi), a)))
    l2 <- mf_plot(do.call(metafor::llplot, c(list(measure = "GEN", yi = bcg_es$yi, vi = bcg_es$vi), a)))
    expect_equal(c(l1), c(l2), tolerance = tol_closed)
  }
  l1 <- in_png(llplot(measure = "GEN", yi = yi, sei = sqrt(vi), data = bcg_es))
  expect_identical(attr(l1, "ids"), 1:13)
  l1 <- in_png(llplot(measure = "GEN", yi = yi, vi = vi, data = bcg_es, xlim = c(-3, 2)))
  l2 <- in_png(llplot(measure = "GEN", yi = yi, vi = vi, data = bcg_es, subset = 3:9, xlim = c(-3, 2)))
  expect_identical(attr(l2, "ids"), 3:9)
  expect_equal(c(l2), c(l1[3:9, ]), tolerance = tol_closed)
  # log odds ratios: the conditional (non-central hypergeometric) likelihood
  col <- metadat::dat.collins1985a
  l1 <- suppressWarnings(in_png(llplot(measure = "OR", ai = b.xci, n1i = nci, ci = b.xti, n2i = nti, data = col,
                                       xlim = c(-4, 4), drop00 = FALSE, xvals = 101)))
  # reference: metafor's own density of the non-central hypergeometric distribution
  dnc <- get(".dnoncenhypergeom", asNamespace("metafor"))
  xs <- attr(l1, "x")
  ids <- attr(l1, "ids")
  for (j in seq_along(ids)) {
    i <- ids[j]
    a <- col$b.xci[i]; n1 <- col$nci[i]; cc <- col$b.xti[i]; n2 <- col$nti[i]
    ref <- vapply(xs, function(t) dnc(x = a, n1 = n1, n2 = n2, m1 = a + cc, psi = exp(t)), numeric(1))
    ref <- ref / (sum(diff(xs) * (ref[-1] + ref[-length(ref)])) / 2)
    drawn <- !is.na(l1[j, ])
    expect_equal(l1[j, drawn], ref[drawn], tolerance = 1e-8)
  }
  skip_if_not_installed("BiasedUrn")
  l2 <- mf_plot(metafor::llplot(measure = "OR", ai = b.xci, n1i = nci, ci = b.xti, n2i = nti, data = col,
                                xlim = c(-4, 4), drop00 = FALSE, xvals = 101))
  expect_equal(c(l1), c(l2), tolerance = 1e-8)
})

test_that("llplot() checks its input", {
  expect_error(llplot(yi = 1, vi = 1), "measure")
  expect_error(llplot(measure = "SMD", yi = 1, vi = 1), "'measure'")
  expect_error(llplot(measure = "GEN", yi = 1:2, vi = 1), "'vi'")
  expect_error(llplot(measure = "GEN", yi = 1), "'vi'")
  expect_error(llplot(measure = "OR", ai = 1, bi = 2, ci = 3, di = 4, n1i = 5), "'n1i'")
  expect_error(in_png(llplot(measure = "GEN", yi = 1:3, vi = c(1, 1, 1), lwd = 1:2)), "'lwd'")
  expect_warning(in_png(llplot(measure = "GEN", yi = c(1, NA, 2), vi = c(1, 1, 1))), "1 study with NAs omitted")
})

test_that("the examples of metafor's documentation run unchanged", {
  skip_if_not_installed("metafor")
  env <- new.env(parent = globalenv())
  utils::data(list = c("dat.bcg", "dat.damico2009", "dat.collins1985a"), package = "metadat", envir = env)
  db <- tools::Rd_db("metafor")
  for (f in c("labbe", "radial", "regplot", "llplot")) {
    tf <- tempfile(fileext = ".R")
    tools::Rd2ex(db[[paste0(f, ".Rd")]], out = tf)
    ex <- parse(tf)
    unlink(tf)
    in_png(for (e in ex) {
      err <- tryCatch({ suppressWarnings(eval(e, env)); NULL }, error = function(err) conditionMessage(err))
      expect(is.null(err), sprintf("metafor's %s example `%s` fails: %s", f, deparse(e)[1L], err))
    })
  }
  # the functions the examples called are ours
  expect_identical(environment(get("regplot", env)), asNamespace("metafast"))
})
