# forest() of vectors and addpoly(): metafor's arguments that were rejected
# until issue 16 was finished (subset, the arguments forest.default() ignores
# with a warning, slab = NULL; addpoly()'s width, fonts, constarea, lcol,
# olim, textpos and alim), against metafor 5.2.1 by tracing the graphics
# calls of both (helper-trace-prims.R).  Closed-form (DL) fits: tol_closed.
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

bcg3 <- function() escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
                          slab = paste(author, year, sep = ", "))
norm_txt <- function(v) gsub(" +", " ", trimws(gsub("[\u2002\u2007\u2009]", " ", v)))
texts3 <- function(tr) {
  out <- do.call(rbind, lapply(of_kind(tr, "text"), function(z) {
    lab <- as.character(z$labels)
    if (!length(lab)) return(NULL)
    data.frame(x = rep_len(z$x, length(lab)), y = rep_len(z$y, length(lab)), lab = norm_txt(lab),
               family = if (is.null(z$family)) NA_character_ else as.character(z$family),
               font = if (is.null(z$font)) NA_real_ else as.numeric(z$font), stringsAsFactors = FALSE)
  }))
  out[nzchar(out$lab), ]
}
key3 <- function(t) paste(gsub("[-\u2212\u2013]0\\.00(?![0-9])", "0.00", t$lab, perl = TRUE), sprintf("%.6f", t$y))
# the CI segments of the studies: one row per horizontal segment (x0, x1, y)
ci_segs <- function(tr) {
  s <- Filter(function(z) length(z$y0) && all(z$y0 == z$y1) && all(z$x0 != z$x1), of_kind(tr, "segments"))
  d <- do.call(rbind, lapply(s, function(z) data.frame(x0 = z$x0, x1 = z$x1, y = z$y0)))
  d <- d[!(d$x0 == -10 & d$x1 == 6), ]   # (our rule under the header, metafor's abline())
  d[order(d$y, d$x0), ]
}
.mf_test_subset <- function(s, k) if (is.logical(s)) !is.na(s) & s else if (all(s < 0)) !seq_len(k) %in% -s else seq_len(k) %in% s

test_that("forest() of vectors: subset as metafor (logical, row numbers, exclusions; with order, ilab, col, weights)", {
  dat <- bcg3()
  cases <- list(list(subset = dat$ablat > 30), list(subset = c(2, 5, 9, 11)), list(subset = -(1:4)),
                list(subset = c(3, 1, 7)),
                list(subset = dat$ablat > 30, order = "obs", ilab = dat$tpos, ilab.xpos = -6, showweights = TRUE),
                list(subset = c(TRUE, NA, rep(TRUE, 11)), order = dat$ablat, col = rep(c("red", "blue"), length.out = 13)),
                list(subset = 4:10, shade = rep(c(TRUE, FALSE), length.out = 13), rows = 20:14))
  for (cs in cases) {
    args <- c(list(xlim = c(-10, 6)), cs)
    a <- trace_prims(do.call(forest, c(list(dat$yi, dat$vi), args)), "metafast", c("text", "segments", "rect"))
    r <- trace_prims(do.call(metafor:::forest.default, c(list(dat$yi, dat$vi), args)), "metafor",
                     c("text", "segments", "rect"))
    info <- paste(names(cs), collapse = "+")
    expect_equal(a$value$layout$ylim, r$value$ylim, info = info)
    ta <- texts3(a); tr <- texts3(r)
    # (metafor writes the weights into the annotation's string; ours are a column of their own)
    if (isTRUE(cs$showweights)) tr$lab <- sub("^[0-9.]+% +", "", tr$lab)
    expect_true(all(key3(tr) %in% key3(ta)), info = paste(info, paste(setdiff(key3(tr), key3(ta)), collapse = " | ")))
    expect_equal(ci_segs(a)[, c("x0", "x1", "y")], ci_segs(r)[, c("x0", "x1", "y")], tolerance = tol_closed,
                 ignore_attr = TRUE, info = info)
    sub <- .mf_test_subset(cs$subset, 13)
    expect_setequal(a$value$studies$row, which(sub))
    if (isTRUE(cs$showweights)) {
      w <- 1 / dat$vi[sub]
      expect_equal(sort(a$value$studies$weight), sort(100 * w / sum(w)), tolerance = tol_closed)
    }
    if (!is.null(cs$shade)) {
      # (the shading spans the plot; our squares of the studies are rectangles too)
      wide <- function(z) length(z$x0) == 1L && z$x1 - z$x0 > 10
      ra <- Filter(wide, of_kind(a, "rect"))
      rr <- Filter(wide, of_kind(r, "rect"))
      expect_equal(sort(vapply(ra, function(z) z$y0, 0)), sort(vapply(rr, function(z) z$y0, 0)), info = info)
    }
  }
  # metafor's errors
  f <- function(s) trace_prims(forest(dat$yi, dat$vi, subset = s), "metafast", "text")
  expect_error(f(rep(FALSE, 13)), "k = 0 after subsetting")
  expect_error(f(c(1, -2)), "Cannot mix positive and negative")
  expect_error(f(14), "larger than k = 13")
  expect_error(f(c(TRUE, FALSE)), "'subset'")
  expect_error(f("a"), "'subset'")
  # fits: metafor's forest() has no subset either (an error naming it)
  expect_error(trace_prims(forest(rma(yi, vi, data = dat), subset = 1:3), "metafast", "text"), "'subset'")
  expect_error(metafor::forest(metafor::rma(yi, vi, data = dat), subset = 1:3), "subset")
})

test_that("forest() of vectors ignores mlab, addfit, addpred, predstyle, predlim, colout, border with metafor's warnings", {
  dat <- bcg3()
  base <- trace_prims(forest(dat$yi, dat$vi, xlim = c(-10, 6)), "metafast", c("text", "segments", "polygon"))
  for (a in list(list(mlab = "RE"), list(addfit = TRUE), list(addpred = TRUE), list(predstyle = "bar"),
                 list(predlim = c(-1, 1)), list(colout = "red"), list(border = "blue"))) {
    nm <- names(a)
    w_ours <- character(0); w_theirs <- character(0)
    ours <- withCallingHandlers(
      trace_prims(do.call(forest, c(list(dat$yi, dat$vi, xlim = c(-10, 6)), a)), "metafast",
                  c("text", "segments", "polygon")),
      warning = function(w) { w_ours <<- c(w_ours, conditionMessage(w)); invokeRestart("muffleWarning") })
    withCallingHandlers(
      trace_prims(do.call(metafor:::forest.default, c(list(dat$yi, dat$vi, xlim = c(-10, 6)), a)), "metafor", "text"),
      warning = function(w) { w_theirs <<- c(w_theirs, conditionMessage(w)); invokeRestart("muffleWarning") })
    expect_identical(w_ours, w_theirs, info = nm)
    expect_length(w_ours, 1L)
    # the plot is the one drawn without it
    expect_identical(ours$calls, base$calls, info = nm)
  }
  # slab = NULL is metafor's error; slab = NA draws no labels
  expect_error(trace_prims(forest(dat$yi, dat$vi, slab = NULL), "metafast", "text"),
               "Length of the 'slab' argument (0) does not correspond to the number of outcomes (13).", fixed = TRUE)
  expect_error(metafor:::forest.default(dat$yi, dat$vi, slab = NULL),
               "Length of the 'slab' argument (0) does not correspond to the number of outcomes (13).", fixed = TRUE)
  # ... and for fits (rma(), rma.mh()) metafor's error of forest.rma()
  msg <- "The object/variable specified for the 'slab' argument is NULL."
  expect_error(trace_prims(forest(rma(yi, vi, data = dat), slab = NULL), "metafast", "text"), msg, fixed = TRUE)
  expect_error(trace_prims(forest(rma.mh(tpos, tneg, cpos, cneg, data = metadat::dat.bcg), slab = NULL), "metafast",
                           "text"), msg, fixed = TRUE)
  expect_error(metafor::forest(metafor::rma(yi, vi, data = dat), slab = NULL), msg, fixed = TRUE)
})

test_that("addpoly(): width, fonts, lcol, olim, textpos as metafor", {
  dat <- bcg3()
  res <- rma(yi, vi, data = dat, method = "DL")
  mres <- metafor::rma(yi, vi, data = dat, method = "DL")
  pair <- function(fa, ma) {
    a <- trace_prims({ forest(res, xlim = c(-16, 6), atransf = exp, ylim = c(-3, 16)); fa() }, "metafast",
                     c("text", "segments", "polygon"))
    r <- trace_prims({ metafor::forest(mres, xlim = c(-16, 6), atransf = exp, ylim = c(-3, 16)); ma() }, "metafor",
                     c("text", "segments", "polygon"))
    list(a = a, r = r)
  }
  row_txt <- function(tr, y) { t <- texts3(tr); t <- t[abs(t$y - y) < 1e-9, ]; t[order(t$x), ] }
  # width: the annotation string exactly as metafor's
  row_raw <- function(tr, y) unlist(lapply(Filter(function(z) isTRUE(all.equal(z$y, y)), of_kind(tr, "text")),
                                             function(z) as.character(z$labels)))
  for (w in list(6, c(7, 8, 9))) {
    p <- pair(function() addpoly(res, row = -2, width = w, mlab = "again"),
              function() metafor::addpoly(mres, row = -2, width = w, mlab = "again"))
    ann <- function(tr) setdiff(row_txt(tr, -2)$lab, "again")
    expect_identical(setdiff(gsub("\u2212", "-", row_raw(p$a, -2)), "again"), setdiff(row_raw(p$r, -2), "again"))
  }
  # fonts: the families (and fonts) of the label and the annotation
  for (fo in list(c("serif", "mono"), "mono", c(serif = 2, mono = 3))) {
    p <- pair(function() addpoly(res, row = -2, fonts = fo, mlab = "again"),
              function() metafor::addpoly(mres, row = -2, fonts = fo, mlab = "again"))
    fa <- vapply(Filter(function(z) isTRUE(all.equal(z$y, -2)), of_kind(p$a, "text")), function(z) paste(z$family, z$font), "")
    expect_identical(fa, paste(names(if (is.null(names(fo))) setNames(1:2, rep_len(fo, 2)) else fo),
                               if (is.null(names(fo))) c(1, 1) else fo), info = paste(fo, collapse = ","))
    # metafor sets par(family, font) before its text() calls: the label and the annotation are drawn in them
    pr <- Filter(function(z) isTRUE(all.equal(z$y, -2)), of_kind(p$r, "text"))
    expect_length(pr, 2L)
  }
  # lcol: the prediction interval's dotted line and its ends
  p <- pair(function() addpoly(res, row = -2, addpred = TRUE, lcol = "red", mlab = "again"),
            function() metafor::addpoly(mres, row = -2, addpred = TRUE, lcol = "red", mlab = "again"))
  seg_row <- function(tr) Filter(function(z) length(z$y0) == 1L && abs(z$y0 - -2) < 0.5 && abs(z$y1 - -2) < 0.5,
                                 of_kind(tr, "segments"))
  sa <- seg_row(p$a); sr <- seg_row(p$r)
  expect_length(sa, 3L); expect_length(sr, 3L)
  expect_identical(vapply(sa, function(z) z$col, ""), vapply(sr, function(z) z$col, ""))
  expect_equal(sa[[1L]][c("x0", "x1")], sr[[1L]][c("x0", "x1")], tolerance = tol_closed)
  # olim: the diamond and the annotation cut at it (on the scale drawn)
  ol <- c(-0.6, -0.5)
  p <- pair(function() addpoly(res, row = -2, olim = ol, mlab = "again"),
            function() metafor::addpoly(mres, row = -2, olim = ol, mlab = "again"))
  expect_identical(gsub("\u2212", "-", row_txt(p$a, -2)$lab), row_txt(p$r, -2)$lab)
  last_poly <- function(tr) { z <- of_kind(tr, "polygon"); z[[length(z)]] }
  # (metafor keeps the diamond's points strictly inside olim: 1e-4)
  expect_equal(range(last_poly(p$a)$x), range(last_poly(p$r)$x), tolerance = 1e-4)
  # the forest plot's olim is addpoly()'s default, as in metafor
  a <- trace_prims({ forest(res, xlim = c(-16, 6), olim = ol, ylim = c(-3, 16)); addpoly(res, row = -2) }, "metafast", "polygon")
  r <- trace_prims({ metafor::forest(mres, xlim = c(-16, 6), olim = ol, ylim = c(-3, 16)); metafor::addpoly(mres, row = -2) },
                   "metafor", "polygon")
  expect_equal(range(last_poly(a)$x), range(last_poly(r)$x), tolerance = 1e-4)
  # textpos: the label starts and the annotation ends where metafor puts them
  p0 <- pair(function() addpoly(res, row = -2, mlab = "again"), function() metafor::addpoly(mres, row = -2, mlab = "again"))
  p1 <- pair(function() addpoly(res, row = -2, mlab = "again", textpos = c(-14, 4)),
             function() metafor::addpoly(mres, row = -2, mlab = "again", textpos = c(-14, 4)))
  p2 <- pair(function() addpoly(res, row = -2, mlab = "again", textpos = c(NA, 3)),
             function() metafor::addpoly(mres, row = -2, mlab = "again", textpos = c(NA, 3)))
  xs <- function(tr) row_txt(tr, -2)$x
  expect_equal(xs(p1$a) - xs(p0$a), xs(p1$r) - xs(p0$r))
  expect_equal(xs(p1$a) - xs(p0$a), c(2, -2))
  expect_equal(xs(p2$a) - xs(p0$a), xs(p2$r) - xs(p0$r))
  # errors naming them
  expect_error(pair(function() addpoly(res, olim = 1), function() NULL), "'olim'")
  expect_error(pair(function() addpoly(res, width = c(1, 2)), function() NULL), "'width'")
  expect_error(pair(function() addpoly(res, fonts = 1:3), function() NULL), "'fonts'")
  expect_error(pair(function() addpoly(res, textpos = 1), function() NULL), "'textpos'")
})

test_that("addpoly() of estimates: constarea and alim as metafor", {
  dat <- bcg3()
  est <- c(-0.9, -0.5, -0.2); vv <- c(0.02, 0.08, 0.005)
  pair <- function(args) {
    a <- trace_prims({ forest(dat$yi, dat$vi, xlim = c(-10, 6), ylim = c(-5, 16)); do.call(addpoly, c(list(est, vv), args)) },
                     "metafast", c("polygon", "text"))
    r <- trace_prims({ metafor:::forest.default(dat$yi, dat$vi, xlim = c(-10, 6), ylim = c(-5, 16))
                       do.call(metafor:::addpoly.default, c(list(est, vv), args)) }, "metafor", c("polygon", "text"))
    list(a = of_kind(a, "polygon"), r = of_kind(r, "polygon"))
  }
  hgt <- function(p) vapply(p, function(z) diff(range(z$y)), 0)
  xr <- function(p) t(vapply(p, function(z) range(z$x), c(0, 0)))
  for (ca in c(FALSE, TRUE)) {
    p <- pair(list(rows = -1, constarea = ca))
    # the relative heights (our diamonds are sized to the text of the layout)
    expect_equal(hgt(p$a) / hgt(p$a)[1L], hgt(p$r) / hgt(p$r)[1L], tolerance = 1e-6)
    expect_equal(xr(p$a), xr(p$r), tolerance = 1e-6)
  }
  # alim: the diamonds cut at it (metafor keeps its points strictly inside: 1e-3)
  p <- pair(list(rows = -1, alim = c(-0.8, 0)))
  expect_equal(xr(p$a), xr(p$r), tolerance = 1e-3)
  expect_error(trace_prims({ forest(dat$yi, dat$vi); addpoly(est, vv, alim = NA) }, "metafast", "text"), "'alim'")
})

test_that("addpoly() pictures: constarea, lcol, fonts, olim, textpos", {
  skip_if_not_installed("vdiffr")
  dat <- bcg3()
  res <- rma(yi, vi, data = dat, method = "DL")
  vdiffr::expect_doppelganger("addpoly-constarea-lcol-fonts", function() {
    forest(dat$yi, dat$vi, xlim = c(-10, 6), ylim = c(-6, 16), subset = dat$ablat > 20, atransf = exp,
           at = log(c(0.1, 0.5, 1, 2)))
    addpoly(c(-0.9, -0.5, -0.2), c(0.02, 0.08, 0.005), rows = -1, constarea = TRUE, mlab = c("A", "B", "C"),
            fonts = c("serif", "mono"), width = 5)
    addpoly(res, row = -4.5, addpred = TRUE, lcol = "red", olim = c(-1, -0.3), textpos = c(-9, 5), mlab = "RE, cut")
  })
})
