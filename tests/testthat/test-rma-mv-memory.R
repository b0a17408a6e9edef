# The compact forms of a large rma.mv() fit (deferred row names, shared
# vectors, s.levels kept as codes) read as metafor's fields.

test_that("s.levels kept as codes read as metafor's labels (fit$s.levels, fit[[\"s.levels\"]], ranef)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  m <- mv_ref(yi, vi, random = ~ 1 | district/school, data = dat)
  old <- options(metafast.mv_lazy_levels = 5L)
  on.exit(options(old))
  f <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
  expect_s3_class(unclass(f)$s.levels[[2L]], "mf_lazy_levels")  # (the compact form is used)
  expect_identical(f$s.levels, m$s.levels)
  expect_identical(f[["s.levels"]], m$s.levels)
  expect_identical(f$s.lev, m$s.levels)  # ($ matches partially, as for a list)
  expect_identical(f$s.nlevels, m$s.nlevels)
  rf <- ranef(f)
  rm <- metafor::ranef(m)
  expect_identical(rownames(rf[[2L]]), rownames(rm[[2L]]))
  expect_equal(rf[[2L]]$intrcpt, rm[[2L]]$intrcpt, tolerance = 1e-5)
  # three levels: the labels of the innermost level paste a lazy parent
  dat$g <- rep(1:4, length.out = nrow(dat))
  m3 <- suppressWarnings(metafor::rma.mv(yi, vi, random = ~ 1 | district/school/g, data = dat))
  f3 <- suppressWarnings(rma.mv(yi, vi, random = ~ 1 | district/school/g, data = dat))
  expect_identical(f3$s.levels, m3$s.levels)
})

test_that("row names, ids and not.na are metafor's (deferred row names, shared vectors)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  for (sub in list(rep(TRUE, nrow(dat)), dat$district != 11)) {
    dat2 <- dat
    dat2$yi[3] <- NA
    m <- suppressWarnings(metafor::rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat2, subset = sub))
    f <- suppressWarnings(rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat2, subset = sub))
    expect_identical(dimnames(f$X), dimnames(m$X))
    if (all(sub)) {  # (after 'subset', metafor's X.f and not.na hold the subset's rows; ours all rows)
      expect_identical(dimnames(f$X.f), dimnames(m$X.f))
      expect_identical(f$not.na, m$not.na)
    }
    expect_identical(f$yi, c(m$yi), ignore_attr = TRUE)
    expect_equal(c(f$beta), c(m$beta), tolerance = 1e-5)
  }
  # data with row names of its own keep them
  dat3 <- dat
  rownames(dat3) <- paste0("r", seq_len(nrow(dat)))
  m <- metafor::rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat3)
  f <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat3)
  expect_identical(dimnames(f$X), dimnames(m$X))
  expect_identical(f$not.na, m$not.na)
  expect_identical(f$ids, m$ids)
  # unsorted rows (the spec is a sorted copy) and sorted rows give one fit
  o <- rev(seq_len(nrow(dat)))
  fr <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat[o, ])
  expect_equal(c(fr$beta), c(f$beta), tolerance = 1e-8)
  expect_equal(fr$sigma2, f$sigma2, tolerance = 1e-8)
  expect_equal(unname(hatvalues(fr))[o], unname(hatvalues(f)), tolerance = 1e-8)
})
