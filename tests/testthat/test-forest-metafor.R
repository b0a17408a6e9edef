# forest() with metafor's arguments (issue 16): atransf / at / xlim /
# ilab.xpos / header / mlab / shade / rows / ... have metafor's meaning; the
# layout returned by the plot is compared with what metafor's forest()
# returns for the same call (and with metafor's formatting of its labels).

skip_if_not(capabilities("png"), "no png device")
skip_if_not_installed("metadat")

in_png <- function(expr, width = 900, height = 700) {
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = width, height = height)
  on.exit({ grDevices::dev.off(); unlink(f) })
  force(expr)
}
bcg_dat <- function() escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                             slab = paste(author, year, sep = ", "))
squish <- function(s) gsub(" +", " ", trimws(s))
# metafor's tick labels: fmtx(v, 2L, drop0ifint = TRUE)
.mf_at_ref <- function(v) {
  skip_if_not_installed("metafor")
  trimws(as.character(unclass(metafor::fmtx(v, 2L, drop0ifint = TRUE))))
}
fmt2 <- function(v) formatC(round(v, 2), format = "f", digits = 2)

test_that("metafor's gallery call draws metafor's layout: axis, columns, rows, headers, labels", {
  skip_if_not_installed("metafor")
  dat <- bcg_dat()
  res <- rma(yi, vi, data = dat)
  out <- in_png(forest(res, atransf = exp, at = log(c(.05, .25, 1, 4)), xlim = c(-16, 6),
                       ilab = cbind(tpos, tneg, cpos, cneg), ilab.xpos = c(-9.5, -8, -6, -4.5),
                       header = "Author(s) and Year", mlab = "RE Model for All Studies", shade = TRUE))
  mdat <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                          slab = paste(author, year, sep = ", "))
  mres <- metafor::rma(yi, vi, data = mdat)
  ref <- in_png(metafor::forest(mres, atransf = exp, at = log(c(.05, .25, 1, 4)), xlim = c(-16, 6),
                                ilab = cbind(tpos, tneg, cpos, cneg), ilab.xpos = c(-9.5, -8, -6, -4.5),
                                header = "Author(s) and Year", mlab = "RE Model for All Studies", shade = TRUE))
  lay <- out$layout
  expect_identical(lay$coords, "metafor")
  expect_equal(lay$xlim, ref$xlim)
  expect_equal(lay$ylim, ref$ylim)
  expect_equal(lay$alim, ref$alim, tolerance = 1e-12)
  expect_equal(lay$at, ref$at, tolerance = 1e-12)
  expect_equal(lay$ilab.xpos, ref$ilab.xpos)
  expect_equal(lay$textpos, ref$textpos)
  expect_equal(sort(lay$rows), sort(ref$rows))
  # tick labels are the exponentiated ticks, formatted as metafor (whole numbers without decimals)
  expect_identical(lay$at.lab, c("0.05", "0.25", "1", "4"))
  # headers: the given left one and metafor's right one for atransf = exp and measure RR
  expect_identical(lay$header, c("Author(s) and Year", "Risk Ratio [95% CI]"))
  expect_identical(lay$xlab, "Risk Ratio (log scale)")
  # study labels from escalc's slab, in data order top-down on rows 13, ..., 1
  expect_identical(out$studies$slab, paste(metadat::dat.bcg$author, metadat::dat.bcg$year, sep = ", "))
  expect_equal(out$studies$y, 13:1)
  # annotations on the ratio scale, as metafor prints them
  ci <- cbind(mres$yi - qnorm(0.975) * sqrt(mres$vi), mres$yi + qnorm(0.975) * sqrt(mres$vi))
  expect_identical(squish(out$studies$annotation),
                   squish(sprintf("%s [%s, %s]", fmt2(exp(mres$yi)), fmt2(exp(ci[, 1])), fmt2(exp(ci[, 2])))))
  expect_identical(out$studies$annotation[1], "0.41 [0.13, 1.26]")
  # the pooled estimate on row -1 with the given label, on the model's scale
  expect_equal(out$summaries$y, -1)
  expect_identical(out$summaries$label, "RE Model for All Studies")
  expect_equal(out$summaries$estimate, c(mres$beta), tolerance = 1e-6)
  expect_equal(out$summaries$ci.lb, mres$ci.lb, tolerance = 1e-6)
  # metafor's defaults in its coordinates: no weights, no prediction interval row
  expect_false(any(grepl("%", out$studies$annotation)))
  # ilab given as columns of the data of the fit or as vectors: the same plot
  out2 <- in_png(forest(res, atransf = exp, at = log(c(.05, .25, 1, 4)), xlim = c(-16, 6),
                        ilab = cbind(dat$tpos, dat$tneg, dat$cpos, dat$cneg), ilab.xpos = c(-9.5, -8, -6, -4.5),
                        header = "Author(s) and Year", mlab = "RE Model for All Studies", shade = TRUE))
  expect_identical(out2, out)
})

test_that("default headers and axis labels follow metafor's labels of the measure", {
  dat <- bcg_dat()
  res <- rma(yi, vi, data = dat)
  lay <- in_png(forest(res))$layout
  expect_identical(lay$header, c("Study", "Log[RR] [95% CI]"))
  expect_identical(lay$xlab, "Log Risk Ratio")
  expect_identical(lay$coords, "auto")
  lay <- in_png(forest(res, atransf = exp))$layout
  expect_identical(lay$header, c("Study", "Risk Ratio [95% CI]"))
  expect_identical(lay$xlab, "Risk Ratio (log scale)")
  expect_identical(lay$at.lab, .mf_at_ref(exp(lay$at)))
  lay <- in_png(forest(res, transf = exp, header = c("Trial", "RR (95% CI)")))$layout
  expect_identical(lay$header, c("Trial", "RR (95% CI)"))
  expect_identical(lay$xlab, "Risk Ratio")
  expect_null(in_png(forest(res, header = FALSE))$layout$header)
  expect_identical(in_png(forest(res, level = 90, header = "Trial"))$layout$header, c("Trial", "Log[RR] [90% CI]"))
  # forest() of escalc() values reads the measure escalc() attached (as metafor's forest.default)
  expect_identical(in_png(forest(dat$yi, dat$vi))$layout$header, c("Study", "Log[RR] [95% CI]"))
  expect_identical(in_png(forest(c(dat$yi), dat$vi))$layout$header, c("Study", "Estimate [95% CI]"))
  # the right header and xlab of other measures, as metafor's
  skip_if_not_installed("metafor")
  for (m in c("OR", "RD", "PETO")) {
    fit <- rma(measure = m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
    ref <- metafor:::.setlab(m, "FALSE", "FALSE", gentype = 3, short = TRUE)
    expect_identical(in_png(forest(fit))$layout$header[2], paste0(ref, " [95% CI]"))
  }
})

test_that("at, alim, steps, digits and olim have metafor's meaning", {
  skip_if_not_installed("metafor")
  dat <- bcg_dat()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  # alim with steps: evenly spaced ticks (metafor's coordinates and the automatic layout)
  a <- in_png(forest(res, xlim = c(-10, 6), alim = c(-2, 2), steps = 5))$layout
  r <- in_png(metafor::forest(mres, xlim = c(-10, 6), alim = c(-2, 2), steps = 5))
  expect_equal(a$at, r$at)
  expect_equal(a$alim, r$alim)
  expect_equal(in_png(forest(res, alim = c(-2, 2), steps = 3))$layout$at, c(-2, 0, 2))
  # metafor's default axis and limits in its coordinates
  a <- in_png(forest(res, rows = 15:3))$layout
  r <- in_png(metafor::forest(mres, rows = 15:3))
  expect_equal(a$at, r$at)
  expect_equal(a$xlim, r$xlim)
  expect_equal(a$ylim, r$ylim)
  expect_equal(sort(a$rows), sort(r$rows))
  # at outside alim is moved to its ends; digits[2] for the axis labels
  a <- in_png(forest(res, at = c(-3, -1.5, 0, 1.5), alim = c(-2, 2), digits = c(2, 1)))$layout
  expect_equal(a$at, c(-2, -1.5, 0, 1.5))
  expect_identical(a$at.lab, c("-2.0", "-1.5", "0.0", "1.5"))   # a double digits keeps the zeros (metafor)
  expect_identical(in_png(forest(res, at = c(-2, -1.5, 0, 1)))$layout$at.lab, c("-2", "-1.5", "0", "1"))
  # olim: the drawn values are clipped
  out <- in_png(forest(res, olim = c(-1.5, 0.5)))
  expect_true(all(out$studies$ci.lb >= -1.5 & out$studies$ci.ub <= 0.5))
  expect_equal(out$studies$yi, pmin(pmax(as.numeric(dat$yi), -1.5), 0.5))
  # rows as a single value: the top row
  expect_equal(in_png(forest(res, rows = 20))$studies$y, 20:8)
  expect_error(in_png(forest(res, rows = 1:3)), "'rows' has 3 values but 13 studies")
})

test_that("order, ilab.pos, textpos and the per-study arguments", {
  skip_if_not_installed("metafor")
  dat <- bcg_dat()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  for (o in c("obs", "prec", "fit", "resid", "abs.resid", "rstandard")) {
    a <- in_png(forest(res, order = o))$studies$row
    ref <- switch(o, obs = order(dat$yi), prec = order(dat$vi, dat$yi), fit = order(rep(c(mres$beta), 13)),
                  resid = order(dat$yi - c(mres$beta), dat$yi), abs.resid = order(abs(dat$yi - c(mres$beta)), dat$yi),
                  rstandard = order(rstandard(mres)$z, dat$yi))
    expect_identical(a, ref, info = o)
  }
  # a permutation given as order(...) is used as is (metafor); a vector of keys is sorted
  expect_identical(in_png(forest(res, order = order(dat$ablat)))$studies$row, order(dat$ablat))
  expect_identical(in_png(forest(res, order = ablat))$studies$row, order(dat$ablat))
  a <- in_png(forest(res, ilab = cbind(tpos, cpos), ilab.xpos = c(-6, -4), ilab.pos = 2, textpos = c(-9, 4)))$layout
  expect_equal(a$ilab.xpos, c(-6, -4))
  expect_equal(a$ilab.pos, c(2, 2))
  expect_equal(a$textpos, c(-9, 4))
  expect_error(in_png(forest(res, ilab = cbind(tpos, cpos), ilab.xpos = -6)), "'ilab.xpos' has 1 positions but 'ilab' has 2")
  expect_error(in_png(forest(res, colout = c("red", "blue"))), "'colout'")
  expect_error(in_png(forest(res, shade = "stripes")), "'shade'")
  expect_error(in_png(forest(res, transf = exp, atransf = exp)), "either 'transf' or 'atransf'")
  expect_silent(in_png(forest(res, fonts = c("sans", "mono"), xlim = c(-10, 6))))
  expect_silent(in_png(forest(res, fonts = c(sans = 2))))
  expect_error(in_png(forest(res, fonts = c(sans = "bold"))), "'fonts' as a named vector")
  a <- in_png(forest(res, colci = "grey50", cex.lab = 1.2, cex.axis = 0.7))$layout
  expect_equal(c(a$cex.lab, a$cex.axis), c(1.2, 0.7))
  expect_error(in_png(forest(res, colci = c("red", "blue"))), "'colci'")
  # ylim as metafor: the header goes on row ylim[2] - 1
  a <- in_png(forest(res, ylim = c(-1, 27), rows = c(3:4, 9:15, 20:23), order = alloc))$layout
  r <- in_png(metafor::forest(metafor::rma(yi, vi, data = dat), ylim = c(-1, 27), rows = c(3:4, 9:15, 20:23),
                              order = alloc))
  expect_equal(a$ylim, r$ylim)
  expect_equal(sort(a$rows), sort(r$rows))
  expect_equal(in_png(forest(res, ylim = -4))$layout$ylim, c(-4, 16))
  expect_error(in_png(forest(res, predlim = 1)), "'predlim'")
  # width pads the annotation columns; xlab of two or three labels
  a <- in_png(forest(res, showweights = FALSE, width = c(5, 6, 6), xlab = c("Favours vaccine", "Log RR", "Favours control")))
  expect_identical(a$studies$annotation[1], "-0.89 [ -2.01,   0.23]")
  expect_identical(a$layout$xlab, c("Favours vaccine", "Log RR", "Favours control"))
  expect_error(in_png(forest(res, showweights = FALSE, width = 1:2)), "'width' must be one number or 3")
  expect_silent(in_png(forest(res, width = c(6, 5, 6, 6))))
  expect_error(in_png(forest(res, xlab = letters[1:4])), "'xlab'")
  expect_error(in_png(forest(res, subgroup = dat$alloc, xlim = c(-10, 5))), "'subgroup' works in the automatic layout only")
  expect_silent(in_png(forest(res, colout = ifelse(dat$yi > -0.5, "red", "black"), pch = 19, psize = 1,
                              efac = c(0, 1, 2), lty = c("dashed", "dotted"), col = "navy", border = "navy",
                              shade = dat$alloc == "random", colshade = "lightyellow", refline = NA)))
})

test_that("addpred, predstyle and addfit as metafor", {
  skip_if_not_installed("metafor")
  dat <- bcg_dat()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  a <- in_png(forest(res, xlim = c(-10, 6), predstyle = "bar"))
  r <- in_png(metafor::forest(mres, xlim = c(-10, 6), predstyle = "bar"))
  expect_equal(a$layout$ylim, r$ylim)
  expect_equal(a$summaries$pi.lb, as.numeric(predict(mres)$pi.lb), tolerance = 1e-6)
  a <- in_png(forest(res, xlim = c(-10, 6), predstyle = "shade"))
  r <- in_png(metafor::forest(mres, xlim = c(-10, 6), predstyle = "shade"))
  expect_equal(a$layout$ylim, r$ylim)
  expect_silent(in_png(forest(res, predstyle = "shade", transf = exp)))
  a <- in_png(forest(res, xlim = c(-10, 6), predstyle = "dist"))
  r <- in_png(metafor::forest(mres, xlim = c(-10, 6), predstyle = "dist"))
  expect_equal(a$layout$ylim, r$ylim)
  expect_equal(a$summaries$pi.ub, as.numeric(predict(mres)$pi.ub), tolerance = 1e-6)
  a <- in_png(forest(res, xlim = c(-10, 6), addpred = TRUE))
  r <- in_png(metafor::forest(mres, xlim = c(-10, 6), addpred = TRUE))
  expect_equal(a$layout$ylim, r$ylim)
  a <- in_png(forest(res, xlim = c(-10, 6), addfit = FALSE))
  r <- in_png(metafor::forest(mres, xlim = c(-10, 6), addfit = FALSE))
  expect_null(a$summaries)
  expect_equal(a$layout$ylim, r$ylim)
  # automatic layout: the prediction interval on its own row by default, through the diamond with "line"
  expect_equal(nrow(in_png(forest(res))$summaries), 1L)
  a <- in_png(forest(res, predstyle = "line"))
  b <- in_png(forest(res))
  expect_equal(a$layout$ylim[2] - a$layout$ylim[1], b$layout$ylim[2] - b$layout$ylim[1] - 1)
  expect_silent(in_png(forest(rma(yi, vi, mods = ~ ablat, data = dat), addpred = TRUE, xlim = c(-10, 6))))
})

test_that("forest() in metafor's coordinates still never overlaps rows at k = 60", {
  set.seed(3)
  k <- 60
  d <- data.frame(yi = rnorm(k, 0.3, 0.3), vi = runif(k, 0.01, 0.1))
  fit <- rma(yi, vi, data = d)
  a <- in_png(forest(fit, xlim = c(-4, 3), atransf = exp), width = 700, height = 700)$layout
  # the text is no taller than the row
  grDevices::png(tempfile(fileext = ".png"), width = 700, height = 700)
  on.exit(grDevices::dev.off())
  graphics::plot.new()
  graphics::par(mar = c(4.1, 0.8, 0.8, 0.8))
  rowh <- graphics::par("pin")[2] / diff(a$ylim)
  expect_lt(a$cex * graphics::strheight("Ag", units = "inches", cex = 1), rowh)
})

test_that("addpoly() adds diamonds at metafor's rows with the forest plot's settings", {
  skip_if_not_installed("metafor")
  dat <- bcg_dat()
  res <- rma(yi, vi, data = dat)
  mdat <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  sub_r <- rma(yi, vi, data = dat, subset = alloc == "random")
  msub_r <- metafor::rma(yi, vi, data = mdat, subset = alloc == "random")
  out <- in_png({
    forest(res, xlim = c(-16, 6), atransf = exp, rows = c(20:14, 10:8, 4:2), addfit = FALSE)
    addpoly(sub_r, row = 13, mlab = "Random allocation")
  })
  expect_equal(out$row, 13)
  expect_equal(out$estimate, c(msub_r$beta), tolerance = 1e-6)
  expect_equal(out$ci.lb, msub_r$ci.lb, tolerance = 1e-6)
  expect_identical(out$annotation, sprintf("%s [%s, %s]", fmt2(exp(c(msub_r$beta))), fmt2(exp(msub_r$ci.lb)),
                                           fmt2(exp(msub_r$ci.ub))))
  # estimates with variances; several rows from the top one; prediction interval
  out <- in_png({
    forest(res, xlim = c(-16, 6))
    addpoly(c(-0.5, -0.2), vi = c(0.01, 0.04), rows = -2, mlab = c("A", "B"), pi.lb = c(-1, -1), pi.ub = c(0, 0.5))
  })
  expect_equal(out$row, c(-2, -3))
  expect_equal(out$ci.ub, c(-0.5, -0.2) + qnorm(0.975) * c(0.1, 0.2))
  p <- in_png({ forest(res, xlim = c(-16, 6)); addpoly(res, row = -2, addpred = TRUE) })
  expect_equal(p$pi.lb, as.numeric(predict(metafor::rma(yi, vi, data = mdat))$pi.lb), tolerance = 1e-6)
  expect_error(in_png({ forest(res); addpoly(rma(yi, vi, mods = ~ ablat, data = dat)) }), "intercept-only")
  expect_error(in_png({ forest(res); addpoly(1, vi = 1, mlab = c("a", "b")) }), "'mlab' has 2 labels")
  expect_error(in_png({ forest(res); addpoly(res, predstyle = "wave") }), "'predstyle'")
  expect_error(in_png({ forest(res); addpoly(res, width = 1:2) }), "'width'")
})

test_that("forest() of cumul() results draws metafor's rows, labels and axis", {
  skip_if_not_installed("metafor")
  dat <- bcg_dat()
  mdat <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                          slab = paste(author, year, sep = ", "))
  cu <- cumul(rma(yi, vi, data = dat))
  mcu <- metafor::cumul(metafor::rma(yi, vi, data = mdat))
  out <- in_png(forest(cu, xlim = c(-6, 3)))
  ref <- in_png(metafor::forest(mcu, xlim = c(-6, 3)))
  expect_equal(out$layout$alim, ref$alim)
  expect_equal(out$layout$at, ref$at)
  expect_equal(out$layout$ylim, ref$ylim)
  expect_equal(out$studies$yi, as.numeric(mcu$estimate), tolerance = 1e-6)
  expect_equal(out$studies$ci.lb, as.numeric(mcu$ci.lb), tolerance = 1e-6)
  labs <- paste(metadat::dat.bcg$author, metadat::dat.bcg$year, sep = ", ")
  expect_identical(out$studies$slab, c(labs[1], paste("+", labs[-1])))
  expect_identical(out$layout$header, c("Study", "Log[RR] [95% CI]"))
  expect_identical(out$layout$xlab, "Log Risk Ratio")
  lay <- in_png(forest(cumul(rma(yi, vi, data = dat)), atransf = exp))$layout
  expect_identical(lay$header, c("Study", "Risk Ratio [95% CI]"))
  expect_error(in_png(forest(cu, at.lab = c("a", "b"))), "'at.lab'")
})

test_that("forest() of leave1out() results: metafor's leave-one-out estimates, labels, full-model line, ilab from the data", {
  skip_if_not_installed("metafor")
  dat <- bcg_dat()
  mdat <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                          slab = paste(author, year, sep = ", "))
  mfit <- metafor::rma(yi, vi, data = mdat, control = list(threshold = 1e-12, maxiter = 1000))
  ml <- metafor::leave1out(mfit)
  res <- rma(yi, vi, data = dat)
  l1 <- leave1out(res)
  expect_s3_class(l1, "mf_list")
  out <- in_png(forest(l1, ilab = cbind(tpos, tneg)))
  expect_equal(out$studies$yi, as.numeric(ml$estimate), tolerance = 1e-6)
  expect_equal(out$studies$ci.lb, as.numeric(ml$ci.lb), tolerance = 1e-6)
  expect_equal(out$studies$ci.ub, as.numeric(ml$ci.ub), tolerance = 1e-6)
  expect_identical(out$studies$slab, paste0("-", paste(metadat::dat.bcg$author, metadat::dat.bcg$year, sep = ", ")))
  expect_equal(out$layout$refline, as.numeric(coef(mfit)), tolerance = 1e-6)
  expect_identical(out$layout$xlab, "Log Risk Ratio")
  # on the ratio scale: the line moves with transf; a given refline replaces it
  tr <- in_png(forest(l1, transf = exp))
  expect_equal(tr$layout$refline, exp(as.numeric(coef(mfit))), tolerance = 1e-6)
  expect_equal(tr$studies$yi, exp(as.numeric(ml$estimate)), tolerance = 1e-6)
  expect_null(in_png(forest(l1, refline = NULL))$layout$refline)
  lt <- leave1out(res, transf = exp)
  lo <- in_png(forest(lt))
  expect_equal(lo$studies$yi, as.numeric(metafor::leave1out(mfit, transf = exp)$estimate), tolerance = 1e-6)
  expect_equal(lo$layout$refline, exp(as.numeric(coef(mfit))), tolerance = 1e-6)
  expect_false(identical(lo$layout$xlab, "Log Risk Ratio"))
  # rma.mh: the full fit is the Mantel-Haenszel estimate
  mh <- rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg, measure = "RR")
  mmh <- metafor::rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg, measure = "RR")
  lm <- in_png(forest(leave1out(mh)))
  expect_equal(lm$studies$yi, as.numeric(metafor::leave1out(mmh)$estimate), tolerance = 1e-8)
  expect_equal(lm$layout$refline, as.numeric(coef(mmh)), tolerance = 1e-8)
  expect_error(in_png(forest(l1, ilab = 1:3)), "ilab")
})

test_that("vif(ncpus = <not a number>) is an error naming 'ncpus' (a fuzz finding)", {
  fit <- rma(yi, vi, mods = ~ ablat + year, data = bcg_dat())
  expect_error(vif(fit, ncpus = function(x) x), "'ncpus'")
})
