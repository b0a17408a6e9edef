# metafor's arguments of nobs() (all), model.matrix() (asdf, and the rows
# under each na.action) and formula() (type) for rma() and rma.mv() fits.
# Before, all three swallowed them in '...': nobs(all = TRUE) gave k,
# model.matrix(asdf = TRUE) a matrix and formula(type = "yi") the moderators.

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

xa_fits <- function(dat, ...) {
  list(ours = list(uni = suppressWarnings(rma(yi, vi, mods = ~ year, data = dat, ...)),
                   mv = suppressWarnings(rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat,
                                                ...))),
       ref = list(uni = suppressWarnings(metafor::rma(yi, vi, mods = ~ year, data = dat, ...)),
                  mv = suppressWarnings(metafor::rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school,
                                                        data = dat, ...))))
}

test_that("nobs(all = TRUE) and model.matrix(asdf =) as metafor, with subset and missing rows", {
  dat <- metadat::dat.konstantopoulos2011
  dat$yi[c(3, 30)] <- NA
  for (sub in c(FALSE, TRUE)) {
    fits <- if (sub) xa_fits(dat, subset = dat$district != 11) else xa_fits(dat)
    for (kind in c("uni", "mv")) {
      f <- fits$ours[[kind]]
      m <- fits$ref[[kind]]
      info <- paste(kind, sub)
      expect_identical(nobs(f), nobs(m), info = info)
      expect_equal(nobs(f, all = TRUE), nobs(m, all = TRUE), info = info)
      for (na in c("na.omit", "na.exclude", "na.pass")) {
        old <- options(na.action = na)
        expect_equal(model.matrix(f), model.matrix(m), ignore_attr = TRUE, info = paste(info, na))
        expect_equal(dim(model.matrix(f)), dim(model.matrix(m)), info = paste(info, na))
        expect_equal(model.matrix(f, asdf = TRUE), model.matrix(m, asdf = TRUE), ignore_attr = "row.names",
                     info = paste(info, na))
        expect_s3_class(model.matrix(f, asdf = TRUE), "data.frame")
        options(old)
      }
      old <- options(na.action = "na.fail")
      expect_error(model.matrix(f), "Missing values")
      expect_error(model.matrix(m), "Missing values")
      options(old)
    }
  }
  expect_error(nobs(fits$ours$uni, all = NA), "'all'")
})

test_that("formula(type =) as metafor: the moderators' formula, or the formula given as yi", {
  dat <- metadat::dat.konstantopoulos2011
  f1 <- rma(yi ~ year, vi, data = dat)
  m1 <- metafor::rma(yi ~ year, vi, data = dat)
  f2 <- rma(yi, vi, mods = ~ year, data = dat)
  m2 <- metafor::rma(yi, vi, mods = ~ year, data = dat)
  f3 <- rma.mv(yi ~ year, vi, random = ~ 1 | district/school, data = dat)
  m3 <- metafor::rma.mv(yi ~ year, vi, random = ~ 1 | district/school, data = dat)
  for (p in list(list(f1, m1), list(f2, m2), list(f3, m3))) {
    for (type in c("mods", "yi")) {
      a <- formula(p[[1]], type = type)
      b <- formula(p[[2]], type = type)
      if (is.null(b)) expect_null(a) else expect_equal(deparse(a), deparse(b))
    }
    expect_error(formula(p[[1]], type = "scale"), "location-scale")
  }
  expect_false(is.null(formula(f1, type = "yi")))
  expect_null(formula(f2, type = "yi"))
})

test_that("nobs() of rma.glmm(), rma.mh() and rma.peto() fits as metafor's, with all = TRUE", {
  # before: nobs() of rma.glmm() fits gave k.eff (the rows of the long
  # format, 32 here) where metafor gives k (16), and all three swallowed
  # 'all' in '...'; rma.glmm() kept 'subset' as given (indices) where metafor
  # keeps a logical over the rows
  dat <- metadat::dat.nielweise2007
  dat$ai[1] <- 0
  dat$ci[1] <- 0
  dat$ai[5] <- NA
  args <- list(measure = "OR", ai = quote(ai), n1i = quote(n1i), ci = quote(ci), n2i = quote(n2i), data = dat)
  for (sub in list(NULL, 2:16)) {
    a <- c(args, if (!is.null(sub)) list(subset = sub))
    pairs <- list(
      glmm = list(do.call(rma.glmm, c(a, model = "UM.FS")), do.call(metafor::rma.glmm, c(a, model = "UM.FS"))),
      mh = list(do.call(rma.mh, a), do.call(metafor::rma.mh, a)),
      peto = list(do.call(rma.peto, a[-1]), do.call(metafor::rma.peto, a[-1])))
    for (nm in names(pairs)) {
      info <- paste(nm, if (is.null(sub)) "all rows" else "subset")
      f <- suppressWarnings(pairs[[nm]][[1]])
      m <- suppressWarnings(pairs[[nm]][[2]])
      expect_identical(nobs(f), nobs(m), info = info)
      expect_equal(nobs(f, all = TRUE), nobs(m, all = TRUE), info = info)
      expect_error(nobs(f, all = NA), "'all' must be TRUE or FALSE")
      expect_identical(f$subset, m$subset, info = info)
    }
  }
})
