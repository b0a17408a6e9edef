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
