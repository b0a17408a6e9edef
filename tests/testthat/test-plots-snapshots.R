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
  vdiffr::expect_doppelganger("forest-cumul", function() forest(cumul(res), atransf = exp, xlim = c(-6, 3)))
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
