# baujat(), predict(), model.matrix(), formula(), ranktest(), gosh() and
# qqnorm() of rma.mh() / rma.peto() fits against metafor 5.2.1's methods of
# rma.mh / rma.peto objects; the pictures as vdiffr snapshots.
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

d <- metadat::dat.bcg
d$tpos[3] <- 0; d$cpos[3] <- 0     # a table without events (dropped by drop00)
h <- metadat::dat.hart1999
fit_pairs <- function(d9 = d) {
  both <- function(fn, ...) list(ref = suppressWarnings(get(fn, asNamespace("metafor"))(...)),
                                 ours = suppressWarnings(get(fn, asNamespace("metafast"))(...)))
  list(
    or = both("rma.mh", ai = d9$tpos, bi = d9$tneg, ci = d9$cpos, di = d9$cneg),
    rr = both("rma.mh", ai = d9$tpos, bi = d9$tneg, ci = d9$cpos, di = d9$cneg, measure = "RR", subset = -2),
    rd = both("rma.mh", ai = d9$tpos, bi = d9$tneg, ci = d9$cpos, di = d9$cneg, measure = "RD",
              to = c("if0all", "if0all")),
    irr = both("rma.mh", x1i = h$x1i, x2i = h$x2i, t1i = h$t1i, t2i = h$t2i, measure = "IRR"),
    ird = both("rma.mh", x1i = h$x1i, x2i = h$x2i, t1i = h$t1i, t2i = h$t2i, measure = "IRD"),
    peto = both("rma.peto", ai = d9$tpos, bi = d9$tneg, ci = d9$cpos, di = d9$cneg),
    peto2 = both("rma.peto", ai = d9$tpos, bi = d9$tneg, ci = d9$cpos, di = d9$cneg, add = c(0.5, 0.5),
                 to = c("only0", "only0"), drop00 = c(TRUE, FALSE)))
}
fits <- fit_pairs()
quiet_png <- function(expr) {
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  on.exit({ grDevices::dev.off(); unlink(f) })
  suppressWarnings(force(expr))
}

test_that("baujat() of rma.mh / rma.peto fits matches metafor", {
  for (nm in names(fits)) {
    ref <- quiet_png(metafor::baujat(fits[[nm]]$ref))
    res <- quiet_png(baujat(fits[[nm]]$ours))
    expect_equal(res$x, ref$x, tolerance = tol_closed, label = nm)
    expect_equal(res$y, ref$y, tolerance = tol_closed, label = nm)
    expect_equal(res$ids, ref$ids, label = nm)
    expect_equal(res$slab, ref$slab, label = nm)
  }
  one <- rma.mh(ai = 1, bi = 9, ci = 2, di = 8)
  expect_error(baujat(one), "k = 1")
  expect_error(quiet_png(baujat(fits$or$ours, symbol = 1:2)), "'symbol' has length 2")
})

test_that("predict() of rma.mh / rma.peto fits matches metafor", {
  args <- list(list(), list(transf = exp), list(level = 90), list(addx = TRUE), list(adjust = TRUE),
               list(transf = exp, targs = NULL), list(prob = ">0"))
  for (nm in names(fits)) for (a in args) {
    ref <- unclass(do.call(predict, c(list(fits[[nm]]$ref), a)))
    res <- unclass(do.call(predict, c(list(fits[[nm]]$ours), a)))
    keep <- setdiff(names(ref), "digits")
    expect_identical(setdiff(names(res), "digits"), keep)
    expect_equal(res[keep], ref[keep], tolerance = tol_closed, label = paste(nm, deparse(a)))
  }
  ref <- predict(fits$or$ref, vcov = TRUE)
  res <- predict(fits$or$ours, vcov = TRUE)
  expect_equal(unclass(res$vcov), unclass(ref$vcov)[, , drop = FALSE], tolerance = tol_closed, ignore_attr = TRUE)
  expect_error(predict(fits$or$ours, newmods = 1), "'newmods'")
})

test_that("model.matrix(), formula() and ranktest() match metafor", {
  old <- options(na.action = "na.omit")
  on.exit(options(old))
  for (nm in names(fits)) {
    f <- fits[[nm]]
    for (na in c("na.omit", "na.exclude", "na.pass")) {
      options(na.action = na)
      expect_equal(model.matrix(f$ours), model.matrix(f$ref))
      expect_equal(model.matrix(f$ours, asdf = TRUE), model.matrix(f$ref, asdf = TRUE))
    }
    options(na.action = "na.omit")
    expect_identical(formula(f$ours), formula(f$ref))
    expect_identical(formula(f$ours, type = "yi"), formula(f$ref, type = "yi"))
    expect_error(formula(f$ours, type = "scale"), "location-scale")
    r1 <- metafor::ranktest(f$ref)
    r2 <- ranktest(f$ours)
    expect_equal(r2$tau, unname(r1$tau), tolerance = tol_closed)
    expect_equal(r2$pval, r1$pval, tolerance = tol_closed)
  }
  withna <- suppressWarnings(rma.mh(ai = c(1, NA, 3), bi = c(9, 9, 7), ci = c(2, 2, 2), di = c(8, 8, 8)))
  options(na.action = "na.fail")
  expect_error(model.matrix(withna), "Missing values")
})

test_that("gosh() of rma.mh / rma.peto fits matches metafor (all subsets and seeded random subsets)", {
  small <- fit_pairs(d[1:8, ])
  for (nm in names(small)) {
    f <- small[[nm]]
    ref <- suppressMessages(metafor::gosh(f$ref))
    res <- gosh(f$ours)
    expect_equal(res$res, ref$res, tolerance = tol_closed, label = nm)
    expect_equal(res$incl, ref$incl, label = nm)
    expect_equal(res$fit, ref$fit, label = nm)
    ref <- suppressMessages(metafor::gosh(f$ref, subsets = 20, seed = 3))
    res <- gosh(f$ours, subsets = 20, seed = 3)
    expect_false(res$exact)
    expect_equal(res$res, ref$res, tolerance = tol_closed, label = nm)
    expect_equal(res$incl, ref$incl, label = nm)
  }
  expect_error(gosh(small$or$ours, parallel = "snow"), "parallel")
  expect_error(gosh(small$or$ours, ncpus = 2), "'ncpus'")
  expect_error(gosh(small$or$ours, subsets = 1), "'subsets'")
})

test_that("qqnorm() of rma.mh / rma.peto fits matches metafor", {
  for (nm in names(fits)) for (type in c("rstandard", "rstudent")) {
    ref <- quiet_png(qqnorm(fits[[nm]]$ref, type = type))
    res <- quiet_png(qqnorm(fits[[nm]]$ours, type = type, label = 2))
    expect_equal(res, ref, tolerance = tol_closed, label = paste(nm, type))
  }
  expect_error(quiet_png(qqnorm(fits$or$ours, type = "x")), "'type'")
  expect_error(quiet_png(qqnorm(fits$or$ours, label = 99)), "'label'")
  expect_error(quiet_png(qqnorm(fits$or$ours, pos = 7)), "'pos'")
})

test_that("pictures of baujat() and qqnorm() of rma.mh / rma.peto fits", {
  skip_if_not_installed("vdiffr")
  mh <- rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg,
               slab = paste(author, year))
  pe <- rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
  vdiffr::expect_doppelganger("baujat-rma-mh", function() baujat(mh))
  vdiffr::expect_doppelganger("baujat-rma-peto-slab", function() baujat(pe, symbol = 19))
  vdiffr::expect_doppelganger("qqnorm-rma-mh", function() qqnorm(mh, label = 3))
  vdiffr::expect_doppelganger("qqnorm-rma-peto", function() qqnorm(pe, type = "rstudent", grid = TRUE))
})
