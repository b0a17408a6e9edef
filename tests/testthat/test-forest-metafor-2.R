# forest() / addpoly() / plot() features of issue 16 against metafor 5.2.1,
# by tracing the graphics primitives (rect(), lines(), polygon(), text(),
# segments(), points(), axis()) metafor calls inside its namespace and
# comparing their coordinates with the layouts our plots return (and with our
# own traced calls).  REML fits: tau^2 is iterative, so tol_iter.
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

# fill colours of the polygons of the predictive distribution's row (below
# row -1.4 in metafor's coordinates, or empty), in drawing order
dist_cols <- function(tr) {
  p <- Filter(function(z) !length(z$y) || max(z$y) < -1.4, of_kind(tr, "polygon"))
  vapply(p, function(z) as.character(z$col), "")
}
bcg2 <- function() escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                          slab = paste(author, year, sep = ", "))

test_that("forest(predstyle = 'shade' / 'dist', transf =) draws metafor's predictive distribution", {
  dat <- bcg2()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  cases <- list(list(ps = "shade", tf = NULL), list(ps = "shade", tf = exp), list(ps = "dist", tf = NULL),
                list(ps = "dist", tf = exp), list(ps = "dist", tf = exp, predlim = c(0.05, 3)),
                list(ps = "shade", tf = exp, level = 80))
  for (cs in cases) {
    args <- list(xlim = c(-10, 6), predstyle = cs$ps, transf = cs$tf, refline = if (is.null(cs$tf)) 0 else 1)
    if (!is.null(cs$predlim)) args$predlim <- cs$predlim
    if (!is.null(cs$level)) args$level <- cs$level
    a <- trace_prims(do.call(forest, c(list(res), args)), "metafast")
    r <- trace_prims(do.call(metafor::forest, c(list(mres), args)), "metafor")
    pr <- a$value$layout$pred
    expect_equal(a$value$layout$ylim, r$value$ylim)
    expect_equal(a$value$summaries$pi.lb, as.numeric(predict(mres, level = if (is.null(cs$level)) 95 else cs$level,
                                                              transf = cs$tf)$pi.lb), tolerance = tol_iter)
    if (cs$ps == "shade") {
      # metafor: one rect() call with a rectangle from each point to the next
      big <- Filter(function(z) length(z$x0) > 100L, of_kind(r, "rect"))[[1L]]
      n <- length(pr$x)
      expect_equal(length(big$x0), n - 1L)
      expect_equal(pr$x[-n], big$x1, tolerance = tol_iter)
      expect_equal(pr$x[-1L], big$x0, tolerance = tol_iter)
      # the colours: metafor's (one unit of 255 apart where tau^2's last
      # digits move a point across a step of the ramp)
      rgbd <- function(u, v) max(abs(grDevices::col2rgb(u) - grDevices::col2rgb(v)))
      expect_lte(rgbd(pr$col[-n], big$col[seq_len(n - 1L)]), 1)
      expect_gt(mean(pr$col[-n] == big$col[seq_len(n - 1L)]), 0.99)
      # ours: the runs of one colour as one rectangle each, covering the same
      # span; the colour at the middle of each of metafor's rectangles
      ours <- Filter(function(z) length(z$x0) > 10L, of_kind(a, "rect"))[[1L]]
      expect_equal(min(ours$x0), min(big$x1), tolerance = tol_iter)
      expect_equal(max(ours$x1), max(big$x0), tolerance = tol_iter)
      mid <- (big$x0 + big$x1) / 2
      run <- findInterval(mid, ours$x0)
      expect_lte(rgbd(ours$col[run], big$col[seq_along(mid)]), 1)
    } else {
      # metafor: the density curve is its last lines() call
      ln <- of_kind(r, "lines")
      cur <- ln[[length(ln)]]
      expect_equal(pr$x, cur$x, tolerance = tol_iter)
      expect_equal(pr$y, cur$y, tolerance = tol_iter)
      # our drawn curve: every 5th of those points (and the last)
      lo <- of_kind(a, "lines")
      expect_true(all(lo[[length(lo)]]$x %in% pr$x))
      expect_equal(range(lo[[length(lo)]]$x), range(pr$x))
      # the polygons: the colours metafor fills with (the sides of 0, the tails)
      expect_identical(dist_cols(a), dist_cols(r))
    }
  }
  # the other transformations of metafor's list draw; others are errors, as in metafor
  z <- escalc("ZCOR", ri = c(0.2, 0.35, 0.1, 0.5, 0.3), ni = c(40, 80, 60, 30, 100))
  zf <- rma(yi, vi, data = z, method = "DL"); mzf <- metafor::rma(yi, vi, data = z, method = "DL")
  for (tf in list(list(transf.ztor, metafor::transf.ztor), list(tanh, tanh))) {
    a <- trace_prims(forest(zf, xlim = c(-2, 2), predstyle = "dist", transf = tf[[1]]), "metafast")
    r <- trace_prims(metafor::forest(mzf, xlim = c(-2, 2), predstyle = "dist", transf = tf[[2]]), "metafor")
    ln <- of_kind(r, "lines")
    expect_equal(a$value$layout$pred$y, ln[[length(ln)]]$y, tolerance = tol_iter)
  }
  a <- trace_prims(forest(zf, xlim = c(-2, 2), predstyle = "dist", transf = metafor::transf.ztor), "metafast")
  expect_length(a$value$layout$pred$x, length(ln[[length(ln)]]$x))
  expect_error(trace_prims(forest(res, predstyle = "dist", transf = sqrt), "metafast"), "transf.ztor")
  expect_error(trace_prims(forest(res, predstyle = "dist", predlim = 1), "metafast"), "'predlim'")
  # knha with k = 2: df 1, as metafor an error
  expect_error(trace_prims(forest(rma(yi, vi, data = dat[1:2, ], test = "knha"), predstyle = "shade"), "metafast"),
               "df <= 1")
})

test_that("forest(preddist =, predtail =) as metafor: the given distribution and its interval", {
  dat <- bcg2()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  xs <- seq(-3, 1.5, length.out = 500)
  pd <- list(xs, dnorm(xs, -0.7, 0.6))
  for (ps in c("line", "shade", "dist")) for (pt in list(NULL, "<-0.5", 0.2)) {
    if (ps != "dist" && !is.null(pt)) next
    args <- list(xlim = c(-10, 6), predstyle = ps, preddist = pd, atransf = exp)
    if (!is.null(pt)) args$predtail <- pt
    a <- trace_prims(do.call(forest, c(list(res), args)), "metafast")
    r <- trace_prims(do.call(metafor::forest, c(list(mres), args)), "metafor")
    # metafor's interval: the 2.5% and 97.5% points of the trapezoid cdf
    cdf <- cumsum(diff(xs) * (pd[[2]][-1] + pd[[2]][-500]) / 2); cdf <- cdf / max(cdf)
    expect_equal(a$value$summaries$pi.lb, xs[which.min(abs(cdf - 0.025))])
    expect_equal(a$value$summaries$pi.ub, xs[which.min(abs(cdf - 0.975))])
    txt_a <- unlist(lapply(of_kind(a, "text"), `[[`, "labels"))
    txt_r <- unlist(lapply(of_kind(r, "text"), `[[`, "labels"))
    pi_txt <- grep("^\\[", trimws(txt_r), value = TRUE)
    if (length(pi_txt)) expect_true(any(gsub(" +", " ", trimws(txt_a)) %in% gsub(" +", " ", pi_txt)))
    if (ps == "dist") {
      ln <- of_kind(r, "lines")
      expect_equal(a$value$layout$pred$y, ln[[length(ln)]]$y)
      expect_identical(dist_cols(a), dist_cols(r))
    }
  }
  # given bounds and level
  a <- trace_prims(forest(res, xlim = c(-10, 6), predstyle = "bar",
                          preddist = list(xs, pd[[2]], pi.lb = -2, pi.ub = 0.5, level = 90)), "metafast")
  expect_equal(c(a$value$summaries$pi.lb, a$value$summaries$pi.ub), c(-2, 0.5))
  expect_true("Prediction Interval [90% PI]" %in% unlist(lapply(of_kind(a, "text"), `[[`, "labels")))
  expect_error(trace_prims(forest(res, preddist = list(1:3, 1:2)), "metafast"), "preddist")
  expect_error(trace_prims(forest(res, preddist = 1:3), "metafast"), "'preddist' must be a list")
  expect_error(trace_prims(forest(res, predstyle = "dist", predtail = "<x"), "metafast"), "'predtail'")
})

test_that("forest() of rma.mh() / rma.peto() fits takes metafor's arguments and draws metafor's layout", {
  d <- metadat::dat.bcg
  sl <- paste(d$author, d$year, sep = ", ")
  fits <- list(list(rma.mh(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = sl),
                    metafor::rma.mh(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = sl)),
               list(rma.mh(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = sl),
                    metafor::rma.mh(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = sl)),
               list(rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = sl),
                    metafor::rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d, slab = sl)))
  for (f in fits) {
    args <- list(atransf = exp, at = log(c(.05, .25, 1, 4)), xlim = c(-16, 6), ilab = quote(cbind(tpos, tneg, cpos, cneg)),
                 ilab.xpos = c(-9.5, -8, -6, -4.5), header = "Author(s) and Year", shade = TRUE, showweights = TRUE,
                 order = "obs", mlab = "MH / Peto model")
    a <- trace_prims(do.call(forest, c(list(f[[1]]), args)), "metafast", c("text", "rect"))
    r <- trace_prims(do.call(metafor::forest, c(list(f[[2]]), args)), "metafor", c("text", "rect"))
    lay <- a$value$layout
    for (nm in c("xlim", "alim", "at", "ylim", "ilab.xpos", "textpos")) expect_equal(lay[[nm]], r$value[[nm]], info = nm)
    expect_equal(sort(lay$rows), sort(r$value$rows))
    # every label metafor writes (study labels, ilab cells, weights, annotations, headers, mlab) is ours
    # (metafor writes the weight and the annotation as one string)
    norm <- function(tr) {
      l <- gsub(" +", " ", trimws(unlist(lapply(of_kind(tr, "text"), function(z) as.character(z$labels)))))
      sort(unlist(strsplit(sub("^([0-9.]+%) ", "\\1\n", l), "\n")))
    }
    mine <- norm(a); theirs <- norm(r)
    expect_true(all(theirs %in% mine), info = paste(setdiff(theirs, mine), collapse = " | "))
    # the same studies at the same y, in metafor's order
    ys_r <- vapply(of_kind(r, "text"), function(z) if (length(z$labels) == 1L && z$labels %in% sl) z$y else NA_real_, 0)
    labs_r <- vapply(of_kind(r, "text"), function(z) if (length(z$labels) == 1L && z$labels %in% sl) z$labels else NA_character_, "")
    ok <- !is.na(ys_r)
    expect_equal(a$value$studies$y[match(labs_r[ok], a$value$studies$slab)], ys_r[ok])
    # shaded rows: metafor's rectangles
    rr <- of_kind(r, "rect"); ra <- Filter(function(z) length(z$y0) == 1L, of_kind(a, "rect"))
    expect_equal(sort(vapply(ra[seq_along(rr)], `[[`, 0, "y0")), sort(vapply(rr, `[[`, 0, "y0")))
    # pooled estimate and weights: the fit's
    expect_equal(a$value$summaries$estimate, unname(c(f[[2]]$beta)), tolerance = tol_closed)
    expect_equal(a$value$summaries$ci.lb, f[[2]]$ci.lb, tolerance = tol_closed)
    expect_equal(a$value$studies$weight[order(a$value$studies$row)], unname(weights(f[[2]])), tolerance = tol_closed)
  }
  # order = "rstandard" uses the fit's standardized residuals
  a <- trace_prims(forest(fits[[3]][[1]], order = "rstandard", xlim = c(-8, 5)), "metafast", "text")
  r <- trace_prims(metafor::forest(fits[[3]][[2]], order = "rstandard", xlim = c(-8, 5)), "metafor", "text")
  ys_r <- vapply(of_kind(r, "text"), function(z) if (length(z$labels) == 1L && z$labels %in% sl) z$y else NA_real_, 0)
  labs_r <- vapply(of_kind(r, "text"), function(z) if (length(z$labels) == 1L && z$labels %in% sl) z$labels else NA_character_, "")
  ok <- !is.na(ys_r)
  expect_equal(a$value$studies$y[match(labs_r[ok], a$value$studies$slab)], ys_r[ok])
})

test_that("addpoly(predstyle = 'bar' / 'polygon') and addpoly() of predict() results draw metafor's elements", {
  dat <- bcg2()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  for (ps in c("bar", "polygon")) {
    a <- trace_prims({ forest(res, xlim = c(-10, 6), atransf = exp, ylim = c(-6, 16))
                       addpoly(res, row = -2.5, predstyle = ps, mlab = "RE again") }, "metafast", c("rect", "polygon", "text"))
    r <- trace_prims({ metafor::forest(mres, xlim = c(-10, 6), atransf = exp, ylim = c(-6, 16))
                       metafor::addpoly(mres, row = -2.5, predstyle = ps, mlab = "RE again") }, "metafor",
                     c("rect", "polygon", "text"))
    out <- a$value
    expect_equal(out$pi.row, -3.5)
    pr <- predict(mres)
    expect_equal(c(out$pi.lb, out$pi.ub), c(pr$pi.lb, pr$pi.ub), tolerance = tol_iter)
    # the texts metafor writes on the two rows
    # (metafor writes both annotations in one text() call)
    txt <<- function(tr, y) gsub(" +", " ", trimws(unlist(lapply(of_kind(tr, "text"), function(z) {
      lab <- as.character(z$labels)
      lab[abs(rep_len(z$y, length(lab)) - y) < 1e-9]
    }))))
    for (y in c(-2.5, -3.5)) expect_setequal(txt(a, y), txt(r, y))
    if (ps == "bar") {
      # metafor's two rectangles from the bounds to the estimate
      rb <- Filter(function(z) isTRUE(all.equal((z$y0 + z$y1) / 2, -3.5)), of_kind(r, "rect"))
      ab <- Filter(function(z) isTRUE(all.equal((z$y0 + z$y1) / 2, -3.5)), of_kind(a, "rect"))
      ends <- function(l) sort(unlist(lapply(l, function(z) c(z$x0, z$x1))))
      expect_equal(ends(ab), ends(rb), tolerance = tol_iter)
    } else {
      rp <- Filter(function(z) length(z$y) && isTRUE(all.equal(mean(range(z$y)), -3.5)), of_kind(r, "polygon"))
      ap <- Filter(function(z) length(z$y) && isTRUE(all.equal(mean(range(z$y)), -3.5)), of_kind(a, "polygon"))
      expect_equal(range(ap[[1]]$x), range(rp[[1]]$x), tolerance = 1e-3)
    }
  }
  # predict() results: one diamond per prediction, from the confidence bounds, with the prediction intervals
  mods <- rma(yi, vi, mods = ~ ablat, data = dat, method = "DL")
  mm <- metafor::rma(yi, vi, mods = ~ ablat, data = dat, method = "DL")
  a <- trace_prims({ forest(res, xlim = c(-10, 6), atransf = exp, ylim = c(-6, 16))
                     addpoly(predict(mods, newmods = c(20, 50)), rows = -3, mlab = c("a20", "a50"), addpred = TRUE) },
                   "metafast", c("polygon", "text", "segments"))
  r <- trace_prims({ metafor::forest(mres, xlim = c(-10, 6), atransf = exp, ylim = c(-6, 16))
                     metafor::addpoly(predict(mm, newmods = c(20, 50)), rows = -3, mlab = c("a20", "a50"), addpred = TRUE) },
                   "metafor", c("polygon", "text", "segments"))
  pm <- predict(mm, newmods = c(20, 50))
  expect_equal(a$value$row, c(-3, -4))
  expect_equal(a$value$estimate, c(pm$pred), tolerance = tol_iter)
  expect_equal(a$value$ci.lb, c(pm$ci.lb), tolerance = tol_iter)
  expect_equal(a$value$pi.ub, c(pm$pi.ub), tolerance = tol_iter)
  for (y in c(-3, -4)) {
    rp <- Filter(function(z) length(z$y) && isTRUE(all.equal(mean(range(z$y)), y)), of_kind(r, "polygon"))
    ap <- Filter(function(z) length(z$y) && isTRUE(all.equal(mean(range(z$y)), y)), of_kind(a, "polygon"))
    expect_equal(range(ap[[1]]$x), range(rp[[1]]$x), tolerance = 1e-3)
    expect_setequal(txt(a, y), txt(r, y))
  }
  expect_error(trace_prims({ forest(res); addpoly(predict(mods, newmods = c(20, 50)), predstyle = "bar") }, "metafast"),
               "single polygon")
  expect_error(trace_prims({ forest(res); addpoly(predict(mods), width = 1:2) }, "metafast"), "'width'")
  expect_error(trace_prims({ forest(res); addpoly(rma(yi, vi, data = dat, method = "EE"), predstyle = "bar") },
                           "metafast"), "prediction interval")
})

test_that("metafor's hidden forest() options annosym, tabfig, at.lab, top, rowadj and named fonts", {
  dat <- bcg2()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  norm <- function(v) gsub(" +", " ", trimws(gsub("[\u2002\u2007\u2009]", " ", v)))
  texts <- function(tr) {
    out <- do.call(rbind, lapply(of_kind(tr, "text"), function(z) {
      lab <- as.character(z$labels)
      if (!length(lab)) return(NULL)
      data.frame(y = rep_len(z$y, length(lab)), lab = norm(lab), stringsAsFactors = FALSE)
    }))
    out[nzchar(out$lab), ]
  }
  cases <- list(list(annosym = c(" (", " to ", ")")), list(annosym = c(" [", "; ", "]", "\u2212")),
                list(tabfig = 1), list(tabfig = 2), list(tabfig = 3), list(rowadj = c(0.2, -0.2, 0.1)), list(rowadj = 0.3), list(top = 5),
                list(top = 2, rowadj = c(0, 0.25)))
  for (cs in cases) {
    args <- c(list(xlim = c(-10, 6), ilab = dat$tpos, ilab.xpos = -6, ilab.lab = "TB+"), cs)
    a <- trace_prims(do.call(forest, c(list(res), args)), "metafast", c("text", "segments"))
    r <- trace_prims(do.call(metafor::forest, c(list(mres), args)), "metafor", c("text", "segments"))
    expect_equal(a$value$layout$ylim, r$value$ylim)
    ta <- texts(a); tr <- texts(r)
    # every text metafor writes, at metafor's height (our pooled-estimate label says "k = 13")
    tr <- tr[tr$lab != "Random-Effects Model", ]
    # (metafor writes -0.00 where we write 0.00)
    key <- function(t) paste(gsub("[-\u2212\u2013]0\\.00(?![0-9])", "0.00", t$lab, perl = TRUE), sprintf("%.6f", t$y))
    expect_true(all(key(tr) %in% key(ta)), info = paste(setdiff(key(tr), key(ta)), collapse = " | "))
  }
  # tabfig: metafor's exact characters (thin spaces, minus sign, en / figure spaces)
  for (tf in 1:3) {
    a <- trace_prims(forest(res, xlim = c(-10, 6), tabfig = tf), "metafast", "text")
    r <- trace_prims(metafor::forest(mres, xlim = c(-10, 6), tabfig = tf), "metafor", "text")
    la <- unlist(lapply(of_kind(a, "text"), function(z) as.character(z$labels)))
    lr <- unlist(lapply(of_kind(r, "text"), function(z) as.character(z$labels)))
    expect_true(all(c(lr[grepl("^.0\\.89", lr)], lr[grepl("CI", lr)]) %in% la))
  }
  # at.lab: the tick labels metafor draws
  a <- trace_prims(forest(res, xlim = c(-10, 6), at = c(-2, 0, 1), at.lab = c("low", "none", "high")), "metafast", "axis")
  r <- trace_prims(metafor::forest(mres, xlim = c(-10, 6), at = c(-2, 0, 1), at.lab = c("low", "none", "high")),
                   "metafor", "axis")
  ax <- function(tr) Filter(function(z) !is.null(z$at), of_kind(tr, "axis"))[[1L]]
  expect_identical(ax(a)$labels, ax(r)$labels)
  expect_equal(ax(a)$at, ax(r)$at)
  expect_identical(a$value$layout$at.lab, c("low", "none", "high"))
  # fonts as a named vector: the families and fonts of the labels, annotations and ilab columns
  seen <- of_kind(trace_prims(forest(res, xlim = c(-10, 6), fonts = c(serif = 3, mono = 2), ilab = dat$tpos,
                                     ilab.xpos = -6), "metafast", "text"), "text")
  fam <- function(lab) { s <- Filter(function(z) identical(as.character(z$labels), lab), seen)[[1L]]; c(s$family, as.character(s$font)) }
  expect_identical(fam("Aronson, 1948"), c("serif", "3"))
  expect_identical(fam(as.character(dat$tpos[1])), c("serif", "3"))
  expect_identical(fam(res$slab[1])[1], "serif")
  ann1 <- Filter(function(z) grepl("^-0.89", as.character(z$labels)), seen)[[1L]]
  expect_identical(c(ann1$family, as.character(ann1$font)), c("mono", "2"))
  # clim (metafor's older name of olim), decreasing (vector sort keys), xlabadj, xlabfont
  args <- list(xlim = c(-10, 6), clim = c(-1.5, 0), order = quote(ablat), decreasing = TRUE,
               xlab = c("Favours vaccine", "Log RR", "Favours control"), xlabadj = 0.2, xlabfont = c(2, 3))
  a <- trace_prims(do.call(forest, c(list(res), args)), "metafast", c("text", "segments"))
  r <- trace_prims(do.call(metafor::forest, c(list(mres), args)), "metafor", c("text", "segments"))
  ta <- texts(a); tr <- texts(r)
  tr <- tr[tr$lab != "Random-Effects Model", ]
  expect_true(all(key(tr) %in% key(ta)), info = paste(setdiff(key(tr), key(ta)), collapse = " | "))
  expect_equal(a$value$studies$ci.lb[a$value$studies$slab == "Aronson, 1948"], -1.5)
  expect_identical(a$value$studies$slab, res$slab[order(dat$ablat, decreasing = TRUE)])
  # order(...) is a permutation, as metafor: decreasing does not apply
  o <- trace_prims(forest(res, xlim = c(-10, 6), order = order(dat$ablat), decreasing = TRUE), "metafast", "text")
  expect_identical(o$value$studies$slab, res$slab[order(dat$ablat)])
  rec <- new.env(); rec$m <- list()
  suppressMessages(trace("mtext", tracer = bquote(.(function(v) rec$m[[length(rec$m) + 1L]] <- v)(
    list(text = text, adj = adj, font = font))), where = asNamespace("metafast"), print = FALSE))
  trace_prims(do.call(forest, c(list(res), args)), "metafast", character(0))
  suppressMessages(untrace("mtext", where = asNamespace("metafast")))
  rec$m <- Filter(function(z) any(z$text %in% args$xlab), rec$m)
  expect_equal(vapply(rec$m, function(z) as.numeric(z$adj), 0), c(0.2, NA, 0.8))
  expect_equal(vapply(rec$m, function(z) as.numeric(z$font), 0), c(2, 3, 2))
  # bad values
  expect_error(trace_prims(forest(res, xlim = c(-10, 6), decreasing = "yes"), "metafast"), "'decreasing'")
  expect_error(trace_prims(forest(res, xlabfont = 9), "metafast"), "'xlabfont'")
  expect_error(trace_prims(forest(res, xlim = c(-10, 6), annosym = c("(", ")")), "metafast"), "'annosym'")
  expect_error(trace_prims(forest(res, xlim = c(-10, 6), tabfig = 4), "metafast"), "'tabfig'")
  expect_error(trace_prims(forest(res, xlim = c(-10, 6), at = c(-1, 0), at.lab = "a"), "metafast"), "'at.lab'")
  expect_error(trace_prims(forest(res, top = 4), "metafast"), "'top'")
  expect_error(trace_prims(forest(res, rowadj = "a"), "metafast"), "'rowadj'")
  expect_error(trace_prims(forest(res, fonts = c(serif = 9)), "metafast"), "'fonts'")
})

test_that("the hidden forest() options work for vectors and cumul() results as metafor's (one code path)", {
  dat <- bcg2()
  norm <- function(v) gsub(" +", " ", trimws(gsub("[\u2002\u2007\u2009]", " ", v)))
  texts <- function(tr) {
    out <- do.call(rbind, lapply(of_kind(tr, "text"), function(z) {
      lab <- as.character(z$labels)
      if (!length(lab)) return(NULL)
      data.frame(y = rep_len(z$y, length(lab)), lab = norm(lab), stringsAsFactors = FALSE)
    }))
    out[nzchar(out$lab), ]
  }
  key <- function(t) paste(gsub("[-\u2212\u2013]0\\.00(?![0-9])", "0.00", t$lab, perl = TRUE), sprintf("%.6f", t$y))
  ax <- function(tr) Filter(function(z) !is.null(z$at), of_kind(tr, "axis"))[[1L]]
  cu <- cumul(rma(yi, vi, data = dat), order = dat$year)
  mcu <- metafor::cumul(metafor::rma(yi, vi, data = dat), order = dat$year)
  cases <- list(list(annosym = c(" (", " to ", ")")), list(annosym = c(" [", "; ", "]", "\u2212")),
                list(tabfig = 1), list(tabfig = 2), list(tabfig = 3), list(rowadj = c(0.2, -0.2, 0.1)),
                list(rowadj = 0.3), list(top = 5), list(top = 2, rowadj = c(0, 0.25)),
                list(clim = c(-1.5, 0), xlab = c("Favours vaccine", "Log RR", "Favours control"), xlabadj = 0.2,
                     xlabfont = c(2, 3)),
                list(at = c(-2, 0, 1), at.lab = c("low", "none", "high")))
  for (what in c("default", "cumul")) for (cs in cases) {
    args <- c(list(xlim = c(-10, 6), ilab = dat$tpos, ilab.xpos = -6, ilab.lab = "TB+"), cs)
    if (what == "cumul") args$ilab <- dat$tpos[order(dat$year)]
    ours <- if (what == "default") quote(forest(dat$yi, dat$vi)) else quote(forest(cu))
    # (metafor's methods called directly: under test_dir(package = "metafast")
    # the test environment's top level is metafast's namespace, where S3
    # dispatch from metafor::forest() on a numeric vector finds metafast's
    # forest.default first)
    theirs <- if (what == "default") quote(metafor:::forest.default(dat$yi, dat$vi)) else quote(metafor:::forest.cumul.rma(mcu))
    a <- trace_prims(eval(as.call(c(as.list(ours), args))), "metafast", c("text", "segments", "axis"))
    r <- trace_prims(eval(as.call(c(as.list(theirs), args))), "metafor", c("text", "segments", "axis"))
    info <- paste(what, paste(names(cs), collapse = "+"))
    expect_equal(a$value$layout$ylim, r$value$ylim, info = info)
    ta <- texts(a); tr <- texts(r)
    expect_true(all(key(tr) %in% key(ta)), info = paste(info, paste(setdiff(key(tr), key(ta)), collapse = " | ")))
    expect_identical(as.character(ax(a)$labels), as.character(ax(r)$labels), info = info)
    expect_equal(ax(a)$at, ax(r)$at, info = info)
    # (forest.default of escalc() values: metafor's labels and header from the attributes)
    if (what == "default" && is.null(cs$annosym) && is.null(cs$tabfig))
      expect_true(all(c("Aronson, 1948", "Log[RR] [95% CI]") %in% ta$lab), info = info)
  }
  # clim: the bounds drawn are cut at it (the studies' table, on the scale drawn)
  a <- trace_prims(forest(dat$yi, dat$vi, xlim = c(-10, 6), clim = c(-1.5, 0)), "metafast", "text")
  expect_equal(min(a$value$studies$ci.lb), -1.5)
  expect_equal(max(a$value$studies$ci.ub), 0)
  a <- trace_prims(forest(cu, clim = c(-1, 0)), "metafast", "text")
  expect_equal(min(a$value$studies$ci.lb), -1)
  # decreasing sorts the keys of order = in forest.default as metafor
  a <- trace_prims(forest(dat$yi, dat$vi, xlim = c(-10, 6), order = dat$ablat, decreasing = TRUE), "metafast", "text")
  r <- trace_prims(metafor:::forest.default(dat$yi, dat$vi, xlim = c(-10, 6), order = dat$ablat, decreasing = TRUE), "metafor", "text")
  lab_y <- function(tr) { t <- texts(tr); t$y[match(attr(dat$yi, "slab"), t$lab)] }
  expect_false(anyNA(lab_y(a)))
  expect_equal(lab_y(a), lab_y(r))
  expect_identical(a$value$studies$slab, attr(dat$yi, "slab")[order(dat$ablat, decreasing = TRUE)])
  # bad values, named
  expect_error(trace_prims(forest(dat$yi, dat$vi, annosym = c("(", ")")), "metafast"), "'annosym'")
  expect_error(trace_prims(forest(cu, tabfig = 4), "metafast"), "'tabfig'")
  expect_error(trace_prims(forest(cu, xlim = c(-10, 6), at = c(-1, 0), at.lab = "a"), "metafast"), "'at.lab'")
  expect_error(trace_prims(forest(dat$yi, dat$vi, decreasing = "yes", order = dat$ablat), "metafast"), "'decreasing'")
  # what metafor's versions do not read stays an error naming it
  expect_error(trace_prims(forest(dat$yi, dat$vi, predtail = 0), "metafast"), "'predtail'")
  expect_error(trace_prims(forest(cu, decreasing = TRUE), "metafast"), "'decreasing'")
})

# rect(), lines() and abline() calls (their coordinates and colours) while
# `expr` draws, traced in the graphics namespace (hist() draws its bars
# there) and in the calling package's imports.
trace_hist <- function(expr, pkg) {
  rec <- new.env()
  rec$calls <- list()
  add <- function(kind, v) rec$calls[[length(rec$calls) + 1L]] <- c(list(kind = kind), v)
  tr <- list(rect = quote(list(x0 = xleft, y0 = ybottom, x1 = xright, y1 = ytop, col = col)),
             lines = quote(list(x = x, y = list(...)[[1L]])),
             abline = quote(list(v = v, lwd = list(...)$lwd)))
  nss <- unique(list(asNamespace("graphics"), asNamespace(pkg)))
  for (ns in nss) for (p in names(tr))
    suppressMessages(trace(p, tracer = bquote(.(add)(.(p), .(tr[[p]]))), where = ns, print = FALSE))
  on.exit(suppressMessages(for (ns in nss) for (p in names(tr)) untrace(p, where = ns)), add = TRUE)
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = 900, height = 900)
  on.exit({ grDevices::dev.off(); unlink(f) }, add = TRUE)
  val <- force(expr)
  list(value = val, calls = rec$calls)
}

test_that("plot() of permutest() results draws metafor's histograms, tails, curves and lines", {
  d <- metadat::dat.bcg[1:6, ]
  e <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)
  p <- permutest(rma(yi, vi, mods = ~ ablat, data = e, method = "DL"), exact = TRUE, progress = FALSE)
  mp <- metafor::permutest(metafor::rma(yi, vi, mods = ~ ablat, data = e, method = "DL"), exact = TRUE,
                           progbar = FALSE)
  p1 <- permutest(rma(yi, vi, data = e, method = "DL"), exact = TRUE, progress = FALSE)
  mp1 <- metafor::permutest(metafor::rma(yi, vi, data = e, method = "DL"), exact = TRUE, progbar = FALSE)
  cases <- list(list(p, mp, list()), list(p, mp, list(lwd = c(2, 3, 3, 4))), list(p, mp, list(beta = 1:2, stat = "coef")),
                list(p, mp, list(beta = 2, p2defn = "px2", trim = 0.1, lwd = 1)),
                list(p, mp, list(alternative = "less", col = "gray80", col.out = "orange")),
                list(p, mp, list(alternative = "greater", freq = TRUE)),
                list(p1, mp1, list(lwd = c(2, 2, 2, 0), adjust = 2)))
  for (cs in cases) {
    a <- trace_hist(do.call(plot, c(list(cs[[1]]), cs[[3]])), "metafast")
    r <- trace_hist(do.call(plot, c(list(cs[[2]]), cs[[3]])), "metafor")
    strip <- function(calls) lapply(calls, function(z) { z$col <- if (is.null(z$col)) NULL else toupper(z$col); z })
    # (metafor shades the tails with lines() of a histogram, which draws with rect())
    r$calls <- Filter(function(z) !(z$kind == "lines" && inherits(z$x, "histogram")), r$calls)
    ka <- vapply(a$calls, `[[`, "", "kind"); kr <- vapply(r$calls, `[[`, "", "kind")
    expect_identical(ka, kr)
    for (j in seq_along(a$calls)) {
      za <- a$calls[[j]]; zr <- r$calls[[j]]
      if (za$kind == "rect") {
        for (nm in c("x0", "y0", "x1", "y1")) expect_equal(za[[nm]], zr[[nm]], tolerance = tol_closed)
        expect_identical(grDevices::col2rgb(za$col, alpha = TRUE), grDevices::col2rgb(zr$col, alpha = TRUE))
      } else if (za$kind == "lines") {
        xr <- if (is.list(zr$x)) zr$x$x else zr$x; yr <- if (is.list(zr$x)) zr$x$y else zr$y
        xa <- if (is.list(za$x)) za$x$x else za$x; ya <- if (is.list(za$x)) za$x$y else za$y
        expect_equal(xa, xr, tolerance = tol_closed); expect_equal(ya, yr, tolerance = tol_closed)
      } else {
        expect_equal(unname(za$v), unname(zr$v), tolerance = tol_closed); expect_equal(za$lwd, zr$lwd)
      }
    }
  }
  # the returned layout: the bars and the shaded tail of the histogram drawn
  lay <- trace_hist(plot(p), "metafast")$value$ablat
  expect_equal(sum(lay$density * diff(lay$breaks)), 1)
  expect_equal(lay$observed, c(-1, 1) * c(p$zval)[2], tolerance = tol_closed)
  expect_true(all(lay$tail$right <= -abs(c(p$zval)[2]) + 1e-12 | lay$tail$left >= abs(c(p$zval)[2]) - 1e-12))
  # QM: metafor's ylim is infinite with one df (the chi-square density at 0); ours draws
  lay <- trace_hist(plot(p, QM = TRUE, lwd = c(2, 2, 2, 4)), "metafast")$value
  expect_identical(names(lay), c("QM", "ablat"))
  expect_equal(lay$QM$observed, p$QM, tolerance = tol_closed)
  expect_error(trace_hist(plot(p, beta = NA), "metafast"), "at least one")
  expect_error(trace_hist(plot(p, trim = 0.5), "metafast"), "'trim'")
})

test_that("plot() of vif() results stops as metafor's does without simulated values", {
  fit <- rma(yi, vi, mods = ~ ablat + year, data = bcg2())
  expect_error(plot(vif(fit)), "sim = TRUE")
  mfit <- metafor::rma(yi, vi, mods = ~ ablat + year, data = bcg2())
  expect_error(plot(metafor::vif(mfit)), "sim=TRUE")
})

test_that("vif(sim =) draws metafor's data sets and gives its simulated VIFs; plot() draws its histograms", {
  dat <- bcg2()
  tight <- list(threshold = 1e-12, maxiter = 1000)
  f <- rma(yi, vi, mods = ~ ablat + year + alloc, data = dat)
  mf <- metafor::rma(yi, vi, mods = ~ ablat + year + alloc, data = dat, control = tight)
  X <- cbind(ablat = dat$ablat, year = dat$year)
  f2 <- rma(dat$yi, dat$vi, mods = X, method = "DL")
  mf2 <- metafor::rma(dat$yi, dat$vi, mods = X, method = "DL")
  cases <- list(list(f, mf, list(sim = 60)), list(f, mf, list(sim = 40, seed = 7)),
                list(f, mf, list(sim = 30, seed = 3, reestimate = TRUE)),
                list(f, mf, list(sim = 40, btt = list(2:3, 4:5), seed = 11)),
                list(f2, mf2, list(sim = 40)), list(f2, mf2, list(sim = 25, seed = 2, table = TRUE)))
  for (cs in cases) {
    set.seed(101)
    a <- do.call(vif, c(list(cs[[1]]), cs[[3]]))
    set.seed(101)
    r <- do.call(metafor::vif, c(list(cs[[2]], progbar = FALSE), cs[[3]]))
    info <- paste(names(cs[[3]]), collapse = "+")
    # the observed VIFs do not depend on the simulation
    expect_equal(a$vifs, do.call(vif, c(list(cs[[1]]), cs[[3]][setdiff(names(cs[[3]]), c("sim", "seed"))]))$vifs)
    expect_equal(unname(a$vifs), unname(r$vifs), tolerance = tol_iter, info = info)
    # the same permuted data sets: the same simulated VIFs, replicate by replicate
    expect_identical(dim(a$sim), dim(r$sim))
    expect_identical(dimnames(a$sim), dimnames(r$sim))
    expect_identical(attr(a$sim, "type"), attr(r$sim, "type"), info = info)
    expect_identical(is.na(a$sim), is.na(r$sim))
    expect_equal(c(a$sim), c(r$sim), tolerance = tol_iter, info = info)
    expect_equal(a$prop, r$prop, tolerance = 1e-12, info = info)
    # printed with the proportions as metafor
    pa <- capture.output(print(a)); pr <- capture.output(print(r))
    expect_identical(trimws(pa[nzchar(trimws(pa))]), trimws(pr[nzchar(trimws(pr))]), info = info)
    expect_identical(as.data.frame(a)$prop, as.data.frame(r)$prop)
  }
  # reproducible: with seed, independent of R's stream; without, from it
  expect_identical(vif(f, sim = 20, seed = 5)$sim, { set.seed(99); vif(f, sim = 20, seed = 5)$sim })
  set.seed(8); s1 <- vif(f, sim = 20)$sim
  set.seed(8); expect_identical(vif(f, sim = 20)$sim, s1)
  expect_identical(nrow(vif(f, sim = TRUE, seed = 1)$sim), 1000L)
  # the simulated VIFs are VIFs: at least 1 (up to rounding)
  expect_true(all(s1 >= 1 - 1e-10))
  # one moderator: its VIF is 1 and nothing is simulated (as metafor)
  expect_null(vif(rma(yi, vi, mods = ~ ablat, data = dat), sim = 10)$sim)
  expect_null(metafor::vif(metafor::rma(yi, vi, mods = ~ ablat, data = dat), sim = 10, progbar = FALSE)$sim)
  expect_error(vif(f, sim = 1), "'sim'")
  expect_error(vif(f, sim = "a"), "'sim'")
  expect_error(vif(f, sim = 10, seed = "x"), "'seed'")
  expect_error(vif(f, sim = 10, parallel = "snow"), "'parallel'")
  # plot(): metafor's bars, shaded tail and density curve, from the same simulated values
  v <- vif(f, sim = 200, seed = 1)
  mv <- metafor::vif(mf, sim = 200, seed = 1, progbar = FALSE)
  for (args in list(list(), list(lwd = c(2, 2)), list(trim = 0.1, breaks = 10, col.out = "orange"),
                    list(freq = TRUE))) {
    a <- trace_hist(do.call(plot, c(list(v), args)), "metafast")
    r <- trace_hist(do.call(plot, c(list(mv), args)), "metafor")
    r$calls <- Filter(function(z) !(z$kind == "lines" && inherits(z$x, "histogram")), r$calls)
    ka <- vapply(a$calls, `[[`, "", "kind"); kr <- vapply(r$calls, `[[`, "", "kind")
    expect_identical(ka, kr)
    for (j in seq_along(a$calls)) {
      za <- a$calls[[j]]; zr <- r$calls[[j]]
      if (za$kind == "rect") {
        for (nm in c("x0", "x1", "y1")) expect_equal(za[[nm]], zr[[nm]], tolerance = tol_iter)
        expect_identical(grDevices::col2rgb(za$col, alpha = TRUE), grDevices::col2rgb(zr$col, alpha = TRUE))
      } else if (za$kind == "lines") {
        expect_equal(za$x$x, zr$x$x, tolerance = tol_iter); expect_equal(za$x$y, zr$x$y, tolerance = tol_iter)
      }
    }
    lay <- a$value
    expect_identical(names(lay), names(v$vifs))
    expect_equal(vapply(lay, `[[`, 0, "observed"), v$vifs)
    expect_true(all(vapply(lay, function(l) all(l$tail$left >= l$observed - 1e-12), TRUE)))
  }
  expect_error(trace_hist(plot(v, trim = 0.5), "metafast"), "'trim'")
})

test_that("addpoly(predstyle = 'shade' / 'dist') draws metafor's predictive distribution", {
  dat <- bcg2()
  res <- rma(yi, vi, data = dat, test = "knha")
  tight <- list(threshold = 1e-12, maxiter = 1000)
  mres <- metafor::rma(yi, vi, data = dat, test = "knha", control = tight)
  sub <- rma(yi, vi, data = dat, subset = alloc == "random")
  msub <- metafor::rma(yi, vi, data = dat, subset = alloc == "random", control = tight)
  rgbd <- function(u, v) max(abs(grDevices::col2rgb(u) - grDevices::col2rgb(v)))
  txt <- function(tr, yv) {
    d <- do.call(rbind, lapply(of_kind(tr, "text"), function(z) {
      lab <- as.character(z$labels)
      if (!length(lab) || !length(z$y)) return(NULL)
      data.frame(y = rep_len(z$y, length(lab)), lab = lab, stringsAsFactors = FALSE)
    }))
    gsub(" +", " ", trimws(d$lab[abs(d$y - yv) < 1e-9]))
  }
  cases <- list(list(ps = "shade"), list(ps = "dist"), list(ps = "dist", tf = exp), list(ps = "shade", tf = exp),
                list(ps = "dist", predlim = c(-2, 1)), list(ps = "dist", predtail = "<-0.5"),
                list(ps = "dist", col = c("black", "gray40", "lightblue", "mistyrose")),
                list(ps = "shade", what = "predict"), list(ps = "dist", what = "predict"))
  for (cs in cases) {
    fa <- list(xlim = c(-10, 6), addfit = FALSE, ylim = c(-4, 16))
    if (!is.null(cs$tf)) { fa$transf <- cs$tf; fa$refline <- 1; fa$at <- c(0, 1, 2) }
    pa <- list(row = -1, predstyle = cs$ps, mlab = "RE, random allocation")
    for (nm in c("predlim", "predtail", "col")) if (!is.null(cs[[nm]])) pa[[nm]] <- cs[[nm]]
    if (identical(cs$what, "predict")) { names(pa)[1] <- "rows"; pa$mlab <- NULL }
    a <- trace_prims({
      do.call(forest, c(list(res), fa))
      do.call(addpoly, c(list(if (identical(cs$what, "predict")) predict(sub) else sub), pa))
    }, "metafast")
    r <- trace_prims({
      do.call(metafor::forest, c(list(mres), fa))
      do.call(metafor::addpoly, c(list(if (identical(cs$what, "predict")) predict(msub) else msub), pa))
    }, "metafor")
    info <- paste(unlist(cs), collapse = " ")
    pr <- attr(a$value, "pred")
    expect_equal(a$value$pi.lb, as.numeric(predict(msub, transf = cs$tf)$pi.lb), tolerance = tol_iter, info = info)
    if (cs$ps == "shade") {
      big <- Filter(function(z) length(z$x0) > 100L, of_kind(r, "rect"))[[1L]]
      n <- length(pr$x)
      expect_equal(length(big$x0), n - 1L, info = info)
      expect_equal(pr$x[-1L], big$x0, tolerance = tol_iter, info = info)
      expect_lte(rgbd(pr$col[-n], big$col[seq_len(n - 1L)]), 1)
      expect_gt(mean(pr$col[-n] == big$col[seq_len(n - 1L)]), 0.99)
      ours <- Filter(function(z) length(z$x0) > 10L, of_kind(a, "rect"))[[1L]]
      expect_equal(c(min(ours$x0), max(ours$x1)), c(min(big$x1), max(big$x0)), tolerance = tol_iter, info = info)
      expect_equal(mean(c(ours$y0[1], ours$y1[1])), -2)
    } else {
      ln <- of_kind(r, "lines")
      expect_equal(pr$x, ln[[length(ln)]]$x, tolerance = tol_iter, info = info)
      expect_equal(pr$y, ln[[length(ln)]]$y, tolerance = tol_iter, info = info)
      expect_identical(dist_cols(a), dist_cols(r), info = info)
    }
    # the labels and annotations of both rows, as metafor writes them
    for (y in c(-1, -2)) expect_identical(sort(txt(a, y)), sort(txt(r, y)), info = info)
  }
  # with preddist (a given distribution) and from vectors with predict()'s pi.lb
  xs <- seq(-3, 1.5, length.out = 500)
  pd <- list(xs, dnorm(xs, -0.7, 0.6))
  a <- trace_prims({ forest(res, xlim = c(-10, 6), addfit = FALSE, ylim = c(-4, 16))
    addpoly(sub, row = -1, predstyle = "dist", preddist = pd) }, "metafast")
  r <- trace_prims({ metafor::forest(mres, xlim = c(-10, 6), addfit = FALSE, ylim = c(-4, 16))
    metafor::addpoly(msub, row = -1, predstyle = "dist", preddist = pd) }, "metafor")
  ln <- of_kind(r, "lines")
  expect_equal(attr(a$value, "pred")$y, ln[[length(ln)]]$y)
  expect_identical(dist_cols(a), dist_cols(r))
  for (y in c(-1, -2)) expect_setequal(txt(a, y), txt(r, y))
  p <- predict(sub); mp <- predict(msub)
  a <- trace_prims({ forest(res, xlim = c(-10, 6), addfit = FALSE, ylim = c(-4, 16))
    addpoly(p$pred, ci.lb = p$ci.lb, ci.ub = p$ci.ub, pi.lb = p$pi.lb, pi.ub = p$pi.ub, rows = -1, predstyle = "shade") },
    "metafast")
  r <- trace_prims({ metafor::forest(mres, xlim = c(-10, 6), addfit = FALSE, ylim = c(-4, 16))
    metafor:::addpoly.default(mp$pred, ci.lb = mp$ci.lb, ci.ub = mp$ci.ub, pi.lb = mp$pi.lb, pi.ub = mp$pi.ub, rows = -1,
                     predstyle = "shade") }, "metafor")
  big <- Filter(function(z) length(z$x0) > 100L, of_kind(r, "rect"))[[1L]]
  expect_equal(attr(a$value, "pred")$x[-1L], big$x0, tolerance = tol_iter)
  # errors, named: no SE to draw the distribution from, several estimates, an equal-effects fit
  expect_error(trace_prims({ forest(res, xlim = c(-10, 6)); addpoly(-0.7, ci.lb = -1, ci.ub = -0.4, pi.lb = -1.5,
                                                                     pi.ub = 0.1, predstyle = "dist") }, "metafast"),
               "standard error of the prediction interval")
  expect_error(trace_prims({ forest(res, xlim = c(-10, 6)); addpoly(c(-0.7, -0.5), sei = c(0.1, 0.2), predstyle = "shade") },
                           "metafast"), "single polygon")
  expect_error(trace_prims({ forest(res, xlim = c(-10, 6)); addpoly(rma(yi, vi, data = dat, method = "EE"),
                                                                     predstyle = "shade") }, "metafast"),
               "prediction interval")
  expect_error(trace_prims({ forest(res, xlim = c(-10, 6)); addpoly(sub, predstyle = "dist", predlim = 1) }, "metafast"),
               "'predlim'")
})

test_that("metafor's gallery: expressions as mlab, slab = NA, lty of forest.default, caterpillar diamonds", {
  dat <- bcg2()
  res <- rma(yi, vi, data = dat)
  mres <- metafor::rma(yi, vi, data = dat)
  # mlab as list(bquote(...)) (the gallery's mlabfun()), in forest() and addpoly()
  mlabfun <- function(text, x) list(bquote(paste(.(text), " (Q = ", .(formatC(x$QE, digits = 2, format = "f")), "; ",
                                                 I^2, " = ", .(formatC(x$I2, digits = 1, format = "f")), "%)")))
  exprs <- function(tr) {
    z <- Filter(function(z) is.language(z$labels) || is.expression(z$labels), of_kind(tr, "text"))
    vapply(z, function(u) paste(deparse(if (is.expression(u$labels)) u$labels[[1L]] else u$labels), collapse = ""), "")
  }
  a <- trace_prims({
    forest(res, xlim = c(-16, 6), ylim = c(-3, 16), mlab = mlabfun("RE Model", res))
    addpoly(res, row = -2, mlab = mlabfun("again", res))
  }, "metafast", "text")
  r <- trace_prims({
    metafor::forest(mres, xlim = c(-16, 6), ylim = c(-3, 16), mlab = mlabfun("RE Model", mres))
    metafor::addpoly(mres, row = -2, mlab = mlabfun("again", mres))
  }, "metafor", "text")
  expect_length(exprs(a), 2L)
  expect_identical(exprs(a), exprs(r))
  lab <- trace_prims(forest(res, xlim = c(-16, 6), mlab = mlabfun("RE Model", res)), "metafast", "text")$value$summaries$label
  expect_match(lab, "RE Model", fixed = TRUE)
  # slab = NA: no labels (metafor's caterpillar plot)
  a <- trace_prims(forest(dat$yi, dat$vi, slab = NA, xlim = c(-6, 3)), "metafast", "text")
  expect_true(all(a$value$studies$slab == ""))
  # lty of forest.default and forest() of cumul(): (intervals, horizontal rule), as metafor
  rule_lty <- function(tr, y) {
    z <- Filter(function(z) length(z$y0) && isTRUE(all.equal(z$y0[1], y)) && z$x1[1] - z$x0[1] > 5, of_kind(tr, "segments"))
    if (length(z)) z[[1L]]$lty else NULL
  }
  for (lt in list(c("solid", "blank"), c("dashed", "dotted"))) {
    a <- trace_prims(forest(dat$yi, dat$vi, xlim = c(-6, 3), lty = lt), "metafast", "segments")
    expect_identical(rule_lty(a, 14), lt[2])
    ci <- Filter(function(z) isTRUE(all.equal(z$y0[1], 13)) && isTRUE(all.equal(z$y1[1], 13)), of_kind(a, "segments"))
    expect_identical(ci[[1L]]$lty, lt[1])
  }
  expect_error(trace_prims(forest(dat$yi, dat$vi, lty = c(1, 2, 3)), "metafast"), "'lty'")
  # the caterpillar plot: 250 rows, the pooled diamond of addpoly(cex = 1) stays visible (metafor: 2.5 rows high)
  set.seed(5132)
  k <- 250
  vi <- rchisq(k, df = 1) * .03
  yi <- rnorm(k, rnorm(k, 0.5, 0.4), sqrt(vi))
  cp <- function(f, fit, pkg) trace_prims({
    f$forest(yi, vi, xlim = c(-2.5, 3.5), ylim = c(-2, k + 3), order = "obs", slab = NA, annotate = FALSE,
             efac = c(0, 1), pch = 19, col = "gray40", psize = 1, lty = c("solid", "blank"), header = FALSE)
    f$addpoly(fit, mlab = "", annotate = FALSE, cex = 1, row = -1)
  }, pkg, "polygon")
  a <- cp(list(forest = forest, addpoly = addpoly), rma(yi, vi), "metafast")
  r <- cp(list(forest = metafor::forest, addpoly = metafor::addpoly), metafor::rma(yi, vi), "metafor")
  hgt <- function(tr) { p <- of_kind(tr, "polygon"); diff(range(p[[length(p)]]$y)) }
  expect_gt(hgt(a), 0.5 * hgt(r))
  expect_lt(hgt(a), 2 * hgt(r))
})
