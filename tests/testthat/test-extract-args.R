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
