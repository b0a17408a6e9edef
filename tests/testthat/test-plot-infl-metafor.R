# plot() of influence() against metafor 5.2.1's plot.infl.rma.uni(): the
# graphics calls of both (plot() limits and titles, axis() ticks and labels,
# abline() reference lines, lines(), points() with their symbols and fills)
# are traced and compared.  DL fits (closed form): tol_closed; one REML fit
# with tightened settings.
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

trace_infl <- function(expr, pkg) {
  rec <- new.env()
  rec$calls <- list()
  add <- function(kind, v) rec$calls[[length(rec$calls) + 1L]] <- c(list(kind = kind), v)
  ns <- asNamespace(pkg)
  tr <- list(plot = quote(list(xlim = list(...)$xlim, ylim = list(...)$ylim, main = list(...)$main, log = list(...)$log)),
             axis = quote(list(at = at, labels = labels)),
             abline = quote(list(h = h, lty = list(...)$lty)),
             lines = quote(list(x = x, y = list(...)[[1L]], col = list(...)$col)),
             points = quote(list(x = x, y = list(...)[[1L]], pch = list(...)$pch, bg = list(...)$bg)))
  for (p in names(tr))
    suppressMessages(trace(p, tracer = bquote(.(add)(.(p), .(tr[[p]]))), where = ns, print = FALSE))
  on.exit(suppressMessages(for (p in names(tr)) untrace(p, where = ns)), add = TRUE)
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = 800, height = 1000)
  on.exit({ grDevices::dev.off(); unlink(f) }, add = TRUE)
  val <- force(expr)
  # (plot()'s own axes have at = NULL; points at NA draw nothing; under
  # test_dir(package = "metafast") the test's own call of the plot() generic
  # is traced too: it has no xlim)
  calls <- Filter(function(z) !(z$kind == "axis" && is.null(z$at)) && !(z$kind == "plot" && is.null(z$xlim)),
                  rec$calls)
  calls <- lapply(calls, function(z) {
    if (z$kind == "points") { ok <- !is.na(z$x) & !is.na(z$y); z$x <- z$x[ok]; z$y <- z$y[ok] }
    lapply(z, unname)
  })
  list(value = val, calls = calls)
}

bcg_infl <- function(method = "DL", data = NULL) {
  dat <- if (is.null(data)) escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                                   slab = paste(author, year)) else data
  ctl <- list(threshold = 1e-12, maxiter = 1000)
  list(ours = influence(rma(yi, vi, mods = ~ ablat, data = dat, method = method)),
       theirs = metafor::influence.rma.uni(metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = method,
                                                        control = ctl)))
}

expect_same_calls <- function(args, inf, tol) {
  a <- trace_infl(do.call(plot, c(list(inf$ours), args)), "metafast")
  r <- trace_infl(do.call(metafor:::plot.infl.rma.uni, c(list(inf$theirs), args)), "metafor")
  expect_identical(vapply(a$calls, `[[`, "", "kind"), vapply(r$calls, `[[`, "", "kind"), label = deparse(args))
  expect_equal(a$calls, r$calls, tolerance = tol, label = deparse(args))
  a$value
}

test_that("plot() of influence() draws metafor's panels, with its arguments", {
  inf <- bcg_infl()
  cases <- list(list(), list(plotinf = c(1, 4, 7)), list(plotinf = c(7, 1, 1.2, 9)), list(plotinf = FALSE, plotdfbs = TRUE),
                list(logcov = FALSE, slab.style = 2, las = 2, pch = 22, bg = "blue", bg.infl = "green"),
                list(slab.style = 3, minlength = 4), list(plotinf = 3:4, plotdfbs = 2),
                list(plotinf = 8, plotdfbs = TRUE), list(plotinf = c(2, 5, 6), col.na = "pink", lwd = 2))
  for (a in cases) expect_same_calls(a, inf, tol_closed)
  # the returned layout: one entry per panel
  v <- expect_same_calls(list(plotinf = c(1, 8), plotdfbs = 2), inf, tol_closed)
  lay <- attr(v, "layout")
  expect_named(lay, c("rstudent", "weight", "dfbs.ablat"))
  expect_equal(lay$rstudent$y, inf$theirs$inf$rstudent, tolerance = tol_closed)
  expect_identical(lay$rstudent$labels, 1:13)
  # REML: tau^2 of each refit is iterative
  expect_same_calls(list(), bcg_infl("REML"), tol_iter)
})

test_that("plot() of influence() with missing values follows na.action as metafor", {
  dat <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  dat$yi[3] <- NA
  old <- options(na.action = "na.omit")
  on.exit(options(old))
  for (na in c("na.omit", "na.exclude", "na.pass")) {
    options(na.action = na)
    inf <- suppressWarnings(bcg_infl(data = dat))
    for (na2 in c(na, "na.omit")) {
      options(na.action = na2)
      expect_same_calls(list(), inf, tol_closed)
      expect_same_calls(list(plotinf = FALSE, plotdfbs = 1, col.na = "orange"), inf, tol_closed)
    }
  }
  options(na.action = "na.exclude")
  inf <- suppressWarnings(bcg_infl(data = dat))
  options(na.action = "na.fail")
  expect_error(trace_infl(plot(inf$ours), "metafast"), "Missing values in results")
})

test_that("plot() of influence(): metafor's errors and warnings", {
  inf <- bcg_infl()$ours
  expect_error(trace_infl(plot(inf, plotinf = 9), "metafast"), "'plotinf'")
  expect_error(trace_infl(plot(inf, plotdfbs = 3), "metafast"), "'plotdfbs'")
  expect_error(trace_infl(plot(inf, plotinf = FALSE), "metafast"), "At least one of the arguments")
  expect_error(trace_infl(plot(inf, slab.style = 4), "metafast"), "'slab.style'")
  expect_warning(trace_infl(plot(inf, layout = c(2, 4)), "metafast"), "Argument 'layout' has been deprecated.",
                 fixed = TRUE)
  # dfbsnew: the DFBETAS on a new device (closed here)
  f <- tempfile(fileext = ".png"); f2 <- tempfile(fileext = ".png")
  old <- options(device = function(...) grDevices::png(f2))
  on.exit({ options(old); unlink(c(f, f2)) })
  grDevices::png(f)
  d0 <- grDevices::dev.cur()
  plot(inf, plotinf = 1:2, plotdfbs = TRUE, dfbsnew = TRUE)
  expect_false(grDevices::dev.cur() == d0)
  grDevices::dev.off()
  grDevices::dev.set(d0)
  grDevices::dev.off()
  expect_true(file.exists(f2))
})

test_that("plot() of influence() pictures", {
  skip_if_not_installed("vdiffr")
  inf <- bcg_infl()$ours
  vdiffr::expect_doppelganger("influence-plotinf-dfbs-labels",
                              function() plot(inf, plotinf = c(1, 3, 7), plotdfbs = TRUE, slab.style = 3, minlength = 6,
                                              las = 2, bg = "steelblue", bg.infl = "orange"))
})
