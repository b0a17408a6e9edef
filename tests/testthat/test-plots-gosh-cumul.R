# plot() of gosh() and of cumul() results against metafor 5.2.1. GOSH: metafor's plot.gosh.rma(): the bars
# and density lines metafor draws (recorded by tracing graphics::rect() and
# graphics::lines() inside metafor's namespace) equal the histograms that
# metafast's plot returns; the scatter data are metafor's gosh() values; the
# pictures are vdiffr snapshots.  DL fits over all 255 subsets of k = 8:
# closed form, so tol_closed.
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

gosh_dat <- function() {
  metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg[1:8, ])
}

# what metafor's plot.gosh.rma() passes to rect() and lines(), in drawing order
metafor_gosh_drawing <- function(g, ...) {
  rec <- new.env()
  rec$rect <- list()
  rec$lines <- list()
  add <- function(kind, v) rec[[kind]][[length(rec[[kind]]) + 1L]] <- v
  ns <- asNamespace("metafor")
  suppressMessages({
    trace("rect", tracer = bquote(.(add)("rect", list(xleft, ybottom, xright, ytop))), where = ns, print = FALSE)
    trace("lines", tracer = bquote(.(add)("lines", list(x, ...))), where = ns, print = FALSE)
  })
  on.exit(suppressMessages({ untrace("rect", where = ns); untrace("lines", where = ns) }), add = TRUE)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  plot(g, ...)
  list(rect = rec$rect, lines = rec$lines)
}

ours_gosh_layout <- function(g, ...) {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  plot(g, ...)
}

test_that("plot(gosh()) without moderators draws metafor's histograms and density lines", {
  dat <- gosh_dat()
  g <- gosh(rma(yi, vi, data = dat, method = "DL"))
  ref <- metafor::gosh(metafor::rma(yi, vi, data = dat, method = "DL"), progbar = FALSE)
  for (het in c("I2", "QE", "H2", "tau2")) {
    lay <- ours_gosh_layout(g, het = het)
    drawn <- metafor_gosh_drawing(ref, het = het)
    # the scatter plot: metafor's values
    expect_equal(lay$data$estimate, ref$res$estimate, tolerance = tol_closed)
    expect_equal(lay$data$het, ref$res[[het]], tolerance = tol_closed)
    # upper histogram (estimates), then the right one (heterogeneity)
    hx <- lay$hist$estimate
    nb <- length(hx$breaks)
    expect_equal(hx$breaks[-nb], drawn$rect[[1]][[1]])
    expect_equal(hx$breaks[-1L], drawn$rect[[1]][[3]])
    expect_equal(hx$parts$all$density, drawn$rect[[1]][[4]], tolerance = tol_closed)
    expect_equal(hx$parts$all$kde$x, drawn$lines[[1]][[1]], tolerance = tol_closed)
    expect_equal(hx$parts$all$kde$y, drawn$lines[[1]][[2]], tolerance = tol_closed)
    hy <- lay$hist$het
    nb <- length(hy$breaks)
    expect_equal(hy$breaks[-nb], drawn$rect[[2]][[2]])
    expect_equal(hy$parts$all$density, drawn$rect[[2]][[3]], tolerance = tol_closed)
    expect_equal(hy$parts$all$kde$y, drawn$lines[[2]][[1]], tolerance = tol_closed)
    expect_equal(hy$parts$all$kde$x, drawn$lines[[2]][[2]], tolerance = tol_closed)
    expect_equal(lay$xlim, range(hx$breaks))
    expect_equal(lay$ylim, range(hy$breaks))
  }
  lay <- ours_gosh_layout(g)
  expect_identical(lay$labels[[1]], "Log Risk Ratio")
  expect_identical(lay$labels[[2]], quote(I^2))
  # metafor's default transparency: the number of subsets to the power -0.2
  expect_identical(unname(lay$col$points), grDevices::adjustcolor("black", alpha.f = 255^(-0.2)))
})

test_that("plot(gosh(), out =) splits the subsets with and without the study as metafor", {
  dat <- gosh_dat()
  g <- gosh(rma(yi, vi, data = dat, method = "DL"))
  ref <- metafor::gosh(metafor::rma(yi, vi, data = dat, method = "DL"), progbar = FALSE)
  lay <- ours_gosh_layout(g, out = 6)
  drawn <- metafor_gosh_drawing(ref, out = 6)
  expect_identical(lay$data$out, unname(ref$incl[, 6]))
  hx <- lay$hist$estimate
  # metafor draws the subsets without the study first, then those with it
  expect_equal(hx$parts$other$density, drawn$rect[[1]][[4]], tolerance = tol_closed)
  expect_equal(hx$parts$out$density, drawn$rect[[2]][[4]], tolerance = tol_closed)
  expect_equal(hx$parts$other$kde$y, drawn$lines[[1]][[2]], tolerance = tol_closed)
  expect_equal(hx$parts$out$kde$y, drawn$lines[[2]][[2]], tolerance = tol_closed)
  hy <- lay$hist$het
  expect_equal(hy$parts$other$density, drawn$rect[[3]][[3]], tolerance = tol_closed)
  expect_equal(hy$parts$out$density, drawn$rect[[4]][[3]], tolerance = tol_closed)
  expect_identical(unname(lay$col$points), grDevices::adjustcolor(c("red", "blue"), alpha.f = 255^(-0.2)))
  # breaks, adjust, lwd = 0 (no density lines), alpha, xhist = FALSE
  lay <- ours_gosh_layout(g, breaks = list(5, 20), adjust = 2, alpha = c(0.2, 0.3, 0.4), xhist = FALSE)
  drawn <- metafor_gosh_drawing(ref, breaks = list(5, 20), adjust = 2, alpha = c(0.2, 0.3, 0.4), xhist = FALSE)
  expect_null(lay$hist$estimate)
  expect_equal(lay$hist$het$parts$all$density, drawn$rect[[1]][[3]], tolerance = tol_closed)
  expect_equal(lay$hist$het$parts$all$kde$y, drawn$lines[[1]][[1]], tolerance = tol_closed)
  expect_identical(unname(lay$col$hist), grDevices::adjustcolor("black", alpha.f = 0.3))
})

test_that("plot(gosh()) of a meta-regression is metafor's scatter-plot matrix; trim as metafor", {
  dat <- gosh_dat()
  g <- gosh(rma(yi, vi, mods = ~ ablat, data = dat, method = "DL"))
  ref <- metafor::gosh(metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "DL"), progbar = FALSE)
  lay <- ours_gosh_layout(g, out = 2)
  ok <- stats::complete.cases(ref$res)
  expect_equal(unname(as.matrix(lay$data[c("I2", "intrcpt", "ablat")])),
               unname(as.matrix(ref$res[ok, c("I2", "intrcpt", "ablat")])), tolerance = tol_closed)
  expect_identical(lay$data$out, unname(ref$incl[ok, 2]))
  expect_length(lay$hist, 3L)
  expect_identical(lay$labels[[3]], "ablat")
  # trim: metafor drops the subsets outside the quantiles of each plotted variable
  ref1 <- metafor::gosh(metafor::rma(yi, vi, data = dat, method = "DL"), progbar = FALSE)
  g1 <- gosh(rma(yi, vi, data = dat, method = "DL"))
  lay <- ours_gosh_layout(g1, trim = 0.1)
  X <- cbind(ref1$res$I2, ref1$res$estimate)
  keep <- rep(TRUE, nrow(X))
  for (j in 1:2) {
    q <- stats::quantile(X[, j], c(0.1, 0.9))
    keep <- keep & X[, j] >= q[1] & X[, j] <= q[2]
  }
  expect_equal(lay$data$estimate, ref1$res$estimate[keep], tolerance = tol_closed)
})

test_that("plot(gosh()) rejects bad arguments by name", {
  dat <- gosh_dat()
  g <- gosh(rma(yi, vi, data = dat, method = "DL"))
  ge <- gosh(rma(yi, vi, data = dat, method = "EE"))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_error(plot(g, out = 9), "'out'")
  expect_error(plot(g, out = c(1, 2)), "'out'")
  expect_error(plot(g, out = 1, col = "red"), "'col'")
  expect_error(plot(g, het = "R2"), "'het'")
  expect_error(plot(ge, het = "tau2"), "equal-effects")
  expect_error(plot(g, hh = 2), "'hh'")
  expect_error(plot(g, alpha = 2), "'alpha'")
  expect_error(plot(g, trim = 0.7), "'trim'")
  expect_error(plot(g, trim = c(0.1, 0.1, 0.1)), "'trim'")
  # metafor's partial and plotmath names of het
  expect_equal(plot(g, het = "tau^2")$data$het, g$res$tau2)
  expect_equal(plot(g, het = "Q")$data$het, g$res$QE)
})

test_that("GOSH pictures", {
  skip_if_not_installed("vdiffr")
  dat <- gosh_dat()
  g <- gosh(rma(yi, vi, data = dat, method = "DL"))
  gm <- gosh(rma(yi, vi, mods = ~ ablat, data = dat, method = "DL"))
  vdiffr::expect_doppelganger("gosh-hist", function() plot(g))
  vdiffr::expect_doppelganger("gosh-out", function() plot(g, out = 6))
  vdiffr::expect_doppelganger("gosh-mods-out", function() plot(gm, out = 2))
})

# plot() of cumul() results against metafor's plot.cumul.rma(): the plotted
# values, their colours and the axis labels metafor draws (recorded by tracing
# graphics::axis() inside each package's namespace).
axis_labels <- function(obj, pkg, ...) {
  rec <- new.env()
  rec$axis <- list()
  add <- function(v) rec$axis[[length(rec$axis) + 1L]] <- v
  ns <- asNamespace(pkg)
  suppressMessages(trace("axis", tracer = bquote(.(add)(list(side = side, at = at, labels = labels))),
                         where = ns, print = FALSE))
  on.exit(suppressMessages(untrace("axis", where = ns)), add = TRUE)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  # (plot.default()'s own calls, with xaxt = "n", have no 'at')
  list(value = plot(obj, ...), axis = Filter(function(a) !is.null(a$at), rec$axis))
}

test_that("plot(cumul()) draws metafor's points, colours and axis labels", {
  dat <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  mdat <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  cases <- list(list(method = "DL", args = list()), list(method = "DL", args = list(yaxis = "I2")),
                list(method = "DL", args = list(yaxis = "H2", atransf = exp)),
                list(method = "DL", args = list(yaxis = "tau", transf = exp, digits = 3)),
                list(method = "EE", args = list()))
  for (cs in cases) {
    ours <- cumul(rma(yi, vi, data = dat, method = cs$method), order = dat$year)
    ref <- metafor::cumul(metafor::rma(yi, vi, data = mdat, method = cs$method), order = mdat$year)
    grDevices::pdf(NULL)
    lay <- do.call(plot, c(list(ours), cs$args))
    grDevices::dev.off()
    m <- do.call(axis_labels, c(list(ref, "metafor"), cs$args))
    expect_equal(lay$estim, m$value$estim, tolerance = tol_closed)
    expect_equal(lay$yval, m$value$yval, tolerance = tol_closed)
    expect_identical(lay$col, m$value$col)
    # metafor's tick labels on both axes (its axTicks on the same limits)
    ours_axis <- do.call(axis_labels, c(list(ours, "metafast"), cs$args))$axis
    expect_length(m$axis, 2L)
    for (j in 1:2) {
      expect_equal(ours_axis[[j]]$at, m$axis[[j]]$at, tolerance = tol_closed)
      expect_identical(trimws(ours_axis[[j]]$labels), trimws(unclass(m$axis[[j]]$labels)))
    }
  }
  ours <- cumul(rma(yi, vi, data = dat, method = "EE"))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_error(plot(ours, yaxis = "tau2"), "equal-effects")
  expect_error(plot(cumul(rma(yi, vi, data = dat)), yaxis = "R2"), "'yaxis'")
  expect_error(plot(cumul(rma(yi, vi, data = dat)), transf = exp, atransf = exp), "'transf'")
})

test_that("plot(cumul()) picture", {
  skip_if_not_installed("vdiffr")
  dat <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  cu <- cumul(rma(yi, vi, data = dat), order = dat$year)
  vdiffr::expect_doppelganger("cumul-plot", function() plot(cu, atransf = exp))
})
