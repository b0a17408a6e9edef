# The plots as pictures: vdiffr SVG snapshots (tests/testthat/_snaps/) of
# every plot function on fixed data.  A change in what a plot draws fails
# here; review it with testthat::snapshot_review() and accept it only when the
# new picture is right.  The layouts these plots return are tested in
# test-plots.R.

skip_if_not_installed("vdiffr")
skip_if_not_installed("metadat")

bcg_fit <- function(...) {
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                        slab = paste(author, year))
  metafast::rma(yi, vi, data = d, ...)
}

test_that("forest() pictures", {
  fit <- bcg_fit()
  vdiffr::expect_doppelganger("forest-bcg", function() forest(fit))
  vdiffr::expect_doppelganger("forest-bcg-exp", function() forest(fit, transf = exp, header = "Author(s) and Year"))
  reg <- bcg_fit(mods = ~ ablat)
  vdiffr::expect_doppelganger("forest-bcg-metareg", function() forest(reg))
  d <- metadat::dat.bcg
  yi <- log((d$tpos / (d$tpos + d$tneg)) / (d$cpos / (d$cpos + d$cneg)))
  vi <- 1 / d$tpos - 1 / (d$tpos + d$tneg) + 1 / d$cpos - 1 / (d$cpos + d$cneg)
  vdiffr::expect_doppelganger("forest-default", function() forest(yi, vi, slab = d$author))
})

test_that("forest() pictures with metafor's arguments (issue 16)", {
  dat <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                          slab = paste(author, year, sep = ", "))
  res <- metafast::rma(yi, vi, data = dat)
  # metafor's gallery example
  vdiffr::expect_doppelganger("forest-gallery", function()
    forest(res, atransf = exp, at = log(c(.05, .25, 1, 4)), xlim = c(-16, 6),
           ilab = cbind(tpos, tneg, cpos, cneg), ilab.xpos = c(-9.5, -8, -6, -4.5),
           header = "Author(s) and Year", mlab = "RE Model for All Studies", shade = TRUE))
  # the automatic layout with atransf, ilab headers and shading
  vdiffr::expect_doppelganger("forest-auto-atransf", function()
    forest(res, atransf = exp, at = log(c(.05, .25, 1, 4)), ilab = cbind(tpos, tneg, cpos, cneg),
           ilab.lab = c("TB+", "TB-", "TB+", "TB-"), shade = "zebra", header = "Author(s) and Year"))
  # metafor's coordinates with the styling arguments
  vdiffr::expect_doppelganger("forest-metafor-options", function()
    forest(res, xlim = c(-10, 6), atransf = exp, at = log(c(.1, .25, 1, 4)), predstyle = "bar",
           showweights = TRUE, colout = ifelse(dat$alloc == "random", "firebrick", "black"), psize = 1,
           pch = 19, efac = c(1, 1.5, 1.5), col = "steelblue", border = "navy", shade = "zebra2",
           order = "obs", digits = c(2, 2)))
  vdiffr::expect_doppelganger("forest-metareg-addpred", function()
    forest(metafast::rma(yi, vi, mods = ~ ablat, data = dat), xlim = c(-10, 6), atransf = exp,
           addpred = TRUE, ilab = ablat, ilab.xpos = -4, ilab.lab = "Lat."))
  vdiffr::expect_doppelganger("forest-polygon-mlab", function()
    forest(res, predstyle = "polygon", atransf = exp, mlab = c("Pooled", "Prediction")))
  vdiffr::expect_doppelganger("forest-addpoly-subgroups", function() {
    # metafor's subgroup example: the groups on rows set apart, one diamond per group
    forest(res, xlim = c(-16, 6), atransf = exp, at = log(c(.05, .25, 1, 4)), rows = c(3:4, 9:15, 20:23),
           order = alloc, ylim = c(-2, 27), header = "Author(s) and Year")
    text(-16, c(24, 16, 5), c("Systematic Allocation", "Random Allocation", "Alternate Allocation"), pos = 4,
         font = 4)
    addpoly(metafast::rma(yi, vi, data = dat, subset = alloc == "systematic"), row = 18.5, mlab = "RE Model")
    addpoly(metafast::rma(yi, vi, data = dat, subset = alloc == "random"), row = 7.5, mlab = "RE Model")
    addpoly(metafast::rma(yi, vi, data = dat, subset = alloc == "alternate"), row = 1.5, mlab = "RE Model")
  })
  vdiffr::expect_doppelganger("forest-predstyle-shade", function()
    forest(metafast::rma(yi, vi, data = dat, test = "knha"), xlim = c(-10, 6), atransf = exp,
           predstyle = "shade"))
  vdiffr::expect_doppelganger("forest-predstyle-dist", function()
    forest(res, xlim = c(-10, 6), atransf = exp, predstyle = "dist"))
  vdiffr::expect_doppelganger("forest-predstyle-shade-transf", function()
    forest(res, xlim = c(-10, 6), transf = exp, refline = 1, at = 0:3, predstyle = "shade"))
  vdiffr::expect_doppelganger("forest-predstyle-dist-transf-predlim", function()
    forest(res, xlim = c(-10, 6), transf = exp, refline = 1, at = 0:3, predstyle = "dist", predlim = c(0, 3)))
  pdx <- seq(-3, 1.5, length.out = 300)
  vdiffr::expect_doppelganger("forest-preddist-predtail", function()
    forest(res, atransf = exp, predstyle = "dist", preddist = list(pdx, dnorm(pdx, -0.7, 0.6)), predtail = "<-0.5",
           col = c("black", "gray40", "lightblue", "mistyrose")))
  vdiffr::expect_doppelganger("addpoly-bar-predict", function() {
    forest(res, xlim = c(-10, 6), atransf = exp, ylim = c(-6, 16))
    addpoly(res, row = -2.5, predstyle = "bar", mlab = "RE again")
    addpoly(predict(metafast::rma(yi, vi, mods = ~ ablat, data = dat), newmods = c(20, 50)), rows = -4.5,
            mlab = c("ablat 20", "ablat 50"), addpred = TRUE)
  })
  vdiffr::expect_doppelganger("forest-hidden-options", function() {
    forest(res, xlim = c(-10, 6), annosym = c(" (", " to ", ")"), at = c(-2, -1, 0, 1), at.lab = c("a", "b", "c", "d"),
           top = 5, rowadj = c(0.2, -0.2, 0), fonts = c(serif = 3, mono = 1), ilab = dat$tpos, ilab.xpos = -6,
           ilab.lab = "TB+")
    addpoly(res, row = -2, mlab = "again")
  })
  pt <- permutest(metafast::rma(yi, vi, mods = ~ ablat, data = dat[1:6, ], method = "DL"), exact = TRUE,
                  progress = FALSE)
  vdiffr::expect_doppelganger("plot-permutest", function() plot(pt, QM = TRUE, lwd = c(2, 2, 2, 4), legend = TRUE))
  vdiffr::expect_doppelganger("forest-cumul", function() forest(cumul(res), atransf = exp, xlim = c(-6, 3)))
  vdiffr::expect_doppelganger("forest-leave1out", function() forest(leave1out(res), atransf = exp))
  vdiffr::expect_doppelganger("forest-default-rows", function()
    forest(dat$yi, dat$vi, slab = dat$author, xlim = c(-8, 5), atransf = exp, at = log(c(.1, 1, 8)),
           rows = 15:3, shade = "all", col = "darkgreen"))
})

test_that("funnel() pictures", {
  fit <- bcg_fit()
  vdiffr::expect_doppelganger("funnel-bcg", function() funnel(fit))
  vdiffr::expect_doppelganger("funnel-bcg-contours", function() funnel(fit, contour = TRUE))
  vdiffr::expect_doppelganger("funnel-bcg-vi", function() funnel(fit, yaxis = "vi"))
})

# metafor's arguments of funnel() (issue 16) and the calls of metafor's plot
# gallery and help pages, unchanged
test_that("funnel() pictures with metafor's arguments", {
  fit <- bcg_fit()
  rr <- metafast::rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  vdiffr::expect_doppelganger("funnel-gallery-contour", function()
    funnel(rr, level = c(90, 95, 99), shade = c("white", "gray55", "gray75"), refline = 0, legend = TRUE))
  vdiffr::expect_doppelganger("funnel-contour-cis-atransf", function()
    funnel(rr, level = c(90, 95, 99), digits = 3L, ylim = c(0, 0.8), atransf = exp,
           at = log(c(0.125, 0.25, 0.5, 1, 2, 4, 8)), refline = 0, legend = list(show = "cis")))
  vdiffr::expect_doppelganger("funnel-atransf-label-out", function() funnel(fit, atransf = exp, label = "out"))
  vdiffr::expect_doppelganger("funnel-refline2", function()
    funnel(fit, atransf = exp, at = log(c(0.125, 0.25, 0.5, 1, 2, 4)), digits = 3L, ylim = c(0, 0.8), refline2 = 0))
  vdiffr::expect_doppelganger("funnel-seinv-addtau2-colours", function()
    funnel(fit, yaxis = "seinv", addtau2 = TRUE, back = "gray95", shade = "lightblue", hlines = "gray80",
           lty = c(2, 1), pch = 21, bg = "orange", col = "gray20", steps = 4, label = 3, legend = "topleft"))
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  vdiffr::expect_doppelganger("funnel-ni-label", function() funnel(d$yi, d$vi, yaxis = "ni", label = 4,
                                                                    slab = d$author))
  vdiffr::expect_doppelganger("funnel-default-wi-subset", function() funnel(d$yi, d$vi, yaxis = "wi", subset = 2:12))
  sub <- metafast::rma(yi, vi, data = d, subset = 2:10)
  vdiffr::expect_doppelganger("funnel-pch-col-vectors", function()
    funnel(sub, pch = ifelse(yi > -1, 19, 21), col = ifelse(sqrt(vi) > 0.3, "red", "blue")))
  reg <- bcg_fit(mods = ~ ablat)
  vdiffr::expect_doppelganger("funnel-metareg-rstudent", function() funnel(reg, type = "rstudent", label = "out"))
  hf <- metafast::rma(yi, vi, data = metadat::dat.hackshaw1998, measure = "OR")
  vdiffr::expect_doppelganger("funnel-gallery-trimfill", function() funnel(trimfill(hf), legend = TRUE))
})

test_that("metafor's gallery: bubble, L'Abbe, radial and Baujat plots", {
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  res <- metafast::rma(yi, vi, mods = ~ ablat, data = d)
  vdiffr::expect_doppelganger("gallery-regplot", function()
    regplot(res, xlim = c(10, 60), predlim = c(10, 60), xlab = "Absolute Latitude", refline = 0,
            atransf = exp, at = log(seq(0.2, 1.6, by = 0.2)), digits = 1, las = 1, bty = "l",
            label = c(4, 7, 12, 13), offset = c(1.6, 0.8), labsize = 0.9))
  dm <- metafast::rma(measure = "OR", ai = xt, n1i = nt, ci = xc, n2i = nc, data = metadat::dat.damico2009)
  vdiffr::expect_doppelganger("gallery-labbe-risk", function()
    labbe(dm, ci = TRUE, pi = TRUE, grid = TRUE, legend = TRUE, bty = "l", transf = plogis, lim = c(0, 1),
          xlab = "Risk (Control Group)", ylab = "Risk (Treatment Group)"))
  ee <- metafast::rma(yi, vi, data = d, method = "EE")
  vdiffr::expect_doppelganger("gallery-radial-ee", function() radial(ee))
  p <- metadat::dat.pignon2000
  p$yi <- with(p, OmE / V); p$vi <- with(p, 1 / V)
  pf <- metafast::rma(yi, vi, data = p, method = "EE", slab = trial)
  vdiffr::expect_doppelganger("gallery-baujat", function() baujat(pf))
})

test_that("baujat(), profile, influence and GOSH pictures", {
  fit <- bcg_fit()
  vdiffr::expect_doppelganger("baujat-bcg", function() baujat(fit))
  pr <- profile(fit, steps = 15, progbar = FALSE)
  vdiffr::expect_doppelganger("profile-bcg", function() plot(pr))
  inf <- influence(fit)
  vdiffr::expect_doppelganger("influence-bcg", function() plot(inf))
  set.seed(1)
  g <- gosh(metafast::rma(yi, vi, data = metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
                                                            data = metadat::dat.bcg[1:8, ])))
  vdiffr::expect_doppelganger("gosh-bcg8", function() plot(g))
})

test_that("bootstrap picture", {
  fit <- bcg_fit()
  set.seed(42)
  b <- boot_rma(fit, R = 200, threads = 1)
  vdiffr::expect_doppelganger("boot-bcg", function() plot(b))
})

test_that("regplot(), radial(), labbe() and llplot() pictures", {
  fit <- bcg_fit(mods = ~ ablat)
  vdiffr::expect_doppelganger("regplot-bcg", function() regplot(fit))
  vdiffr::expect_doppelganger("regplot-bcg-pi-labels", function()
    regplot(fit, pi = TRUE, label = "piout", legend = TRUE, refline = 0, xlab = "Absolute Latitude"))
  vdiffr::expect_doppelganger("regplot-bcg-atransf", function()
    regplot(fit, atransf = exp, at = log(c(0.25, 0.5, 1, 2)), psize = "seinv", shade = FALSE, grid = TRUE))
  mv <- metafast::rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = metadat::dat.konstantopoulos2011)
  vdiffr::expect_doppelganger("regplot-rma-mv", function() regplot(mv, pi = TRUE, label = "piout", legend = TRUE))
  fit0 <- bcg_fit()
  vdiffr::expect_doppelganger("radial-bcg", function() radial(fit0))
  vdiffr::expect_doppelganger("radial-bcg-center-exp", function() radial(fit0, center = TRUE, transf = exp))
  rr <- metafast::rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  vdiffr::expect_doppelganger("labbe-bcg", function() labbe(rr))
  vdiffr::expect_doppelganger("labbe-bcg-exp-bands", function() labbe(rr, transf = exp, ci = TRUE, pi = TRUE,
                                                                        grid = TRUE, legend = TRUE))
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  vdiffr::expect_doppelganger("llplot-gen", function() llplot(measure = "GEN", yi = yi, vi = vi, data = d,
                                                              xlim = c(-3, 2), xvals = 200))
  vdiffr::expect_doppelganger("llplot-or", function() llplot(measure = "OR", ai = tpos, bi = tneg, ci = cpos,
                                                             di = cneg, data = metadat::dat.bcg, xlim = c(-3, 2),
                                                             xvals = 200))
})

test_that("forest() pictures of vectors and cumul() results with metafor's hidden options", {
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                        slab = paste(author, year))
  vdiffr::expect_doppelganger("forest-default-hidden", function()
    forest(d$yi, d$vi, xlim = c(-10, 6), atransf = exp, at = log(c(0.1, 1, 4)), at.lab = c("1/10", "1", "4"),
           annosym = c(" (", " to ", ")", "\u2212"), top = 5, rowadj = c(0.2, 0.2, 0), clim = log(c(0.1, 4)),
           order = d$ablat, decreasing = TRUE, xlab = c("Favours vaccine", "Favours control"),
           xlabadj = 0.3, xlabfont = 3, header = "Trial"))
  cu <- cumul(metafast::rma(yi, vi, data = d), order = d$year)
  vdiffr::expect_doppelganger("forest-cumul-hidden", function()
    forest(cu, xlim = c(-8, 5), atransf = exp, at = log(c(0.25, 1, 4)), tabfig = 1, top = 4, rowadj = 0.15,
           xlab = c("Favours vaccine", "Favours control"), xlabfont = 2))
})

test_that("addpoly(predstyle = 'shade' / 'dist') pictures", {
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                        slab = paste(author, year))
  res <- metafast::rma(yi, vi, data = d)
  vdiffr::expect_doppelganger("addpoly-shade", function() {
    forest(res, xlim = c(-10, 6), atransf = exp, at = log(c(0.1, 1, 4)), addfit = FALSE, ylim = c(-4, 16))
    addpoly(metafast::rma(yi, vi, data = d, subset = alloc == "random"), row = -1, predstyle = "shade",
            mlab = "Random allocation")
  })
  vdiffr::expect_doppelganger("addpoly-dist-transf", function() {
    forest(res, xlim = c(-10, 6), transf = exp, refline = 1, at = 0:3, addfit = FALSE, ylim = c(-4, 16))
    addpoly(predict(metafast::rma(yi, vi, data = d, subset = alloc == "random")), rows = -1, predstyle = "dist",
            col = c("black", "gray40", "lightblue", "mistyrose"), predtail = "<1")
  })
})

test_that("plot() of vif(sim =) results", {
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  v <- vif(metafast::rma(yi, vi, mods = ~ ablat + year + alloc, data = d), sim = 200, seed = 1)
  vdiffr::expect_doppelganger("plot-vif-sim", function() plot(v, lwd = c(2, 2)))
  vdiffr::expect_doppelganger("plot-vif-sim-btt", function()
    plot(vif(metafast::rma(yi, vi, mods = ~ ablat + year + alloc, data = d), btt = list(2:3, 4:5), sim = 100,
             seed = 2), trim = 0.05, col.out = "orange"))
})

test_that("metafor's gallery scripts: headers written on the top row, a caterpillar plot", {
  d <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                        slab = paste(author, year, sep = ", "))
  res <- metafast::rma(yi, vi, data = d)
  vdiffr::expect_doppelganger("forest-gallery-top-row-text", function() {
    forest(res, atransf = exp, at = log(c(.05, .25, 1, 4)), xlim = c(-16, 6), ilab = cbind(tpos, tneg, cpos, cneg),
           ilab.xpos = c(-9.5, -8, -6, -4.5), cex = .75, header = "Author(s) and Year", mlab = "", shade = TRUE)
    op <- par(cex = .75, font = 2)
    text(c(-9.5, -8, -6, -4.5), res$k + 2, c("TB+", "TB-", "TB+", "TB-"))
    text(c(-8.75, -5.25), res$k + 3, c("Vaccinated", "Control"))
    par(op)
  })
  set.seed(5132)
  k <- 250
  vi <- rchisq(k, df = 1) * .03
  yi <- rnorm(k, rnorm(k, 0.5, 0.4), sqrt(vi))
  vdiffr::expect_doppelganger("forest-caterpillar", function() {
    forest(yi, vi, xlim = c(-2.5, 3.5), ylim = c(-2, k + 3), order = "obs", slab = NA, annotate = FALSE,
           efac = c(0, 1), pch = 19, col = "gray40", psize = 1, cex.lab = 1, cex.axis = 1, lty = c("solid", "blank"),
           header = FALSE)
    abline(h = 0)
    addpoly(metafast::rma(yi, vi), mlab = "", annotate = FALSE, cex = 1, row = -1)
  })
})
