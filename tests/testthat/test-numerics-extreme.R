# Extreme outcomes (issue 18, item 2): rma() is scale-equivariant -- with yi
# times c and vi times c^2, tau2 scales by c^2 and beta by c -- so the exact
# reference of a fit on extreme data is metafor's fit of the moderate-scale
# data, rescaled.  Where no finite answer exists (tau^2 or Q beyond 1e308) the
# fit stops with an error naming 'yi' and 'vi'; no result is silently
# infinite or NaN.

skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

ext_dat <- local({
  e <- new.env()
  utils::data("dat.bcg", package = "metadat", envir = e)
  b <- e$dat.bcg
  list(yi = log(b$tpos / b$tneg) - log(b$cpos / b$cneg),
       vi = 1 / b$tpos + 1 / b$tneg + 1 / b$cpos + 1 / b$cneg, ablat = b$ablat)
})
ext_methods <- c("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM", "PMM", "DLIT", "SJIT")
ext_closed <- c("EE", "DL", "HE", "HS", "HSk", "SJ")
# fields and the power of c by which each scales
ext_fields <- c(b = 1, se = 1, ci.lb = 1, ci.ub = 1, tau2 = 2, zval = 0, pval = 0, QE = 0, I2 = 0, H2 = 0, QM = 0)

ext_ref <- local({
  cache <- list()
  function(m, mods = FALSE) {
    key <- paste(m, mods)
    if (is.null(cache[[key]]))
      # (metafor's model check warns "essentially perfect fit" for some estimators with mods)
      cache[[key]] <<- suppressWarnings(if (mods) metafor::rma(ext_dat$yi, ext_dat$vi, mods = ~ ext_dat$ablat, method = m, control = metafor_tight)
                       else metafor::rma(ext_dat$yi, ext_dat$vi, method = m, control = metafor_tight))
    cache[[key]]
  }
})

expect_scaled <- function(f, ref, c, tol, label) {
  for (nm in names(ext_fields)) {
    a <- unname(c(f[[nm]]))
    expect_true(all(is.finite(a)), label = paste(label, nm, "finite"))
    # (the p-values of these data are far from 0 and 1: relative agreement)
    expect_equal(a, unname(c(ref[[nm]])) * c^ext_fields[[nm]], tolerance = tol, label = paste(label, nm))
  }
}

ext_grid <- function(methods, scales, mods = FALSE) {
  for (m in methods) for (c in scales) {
    tol <- if (m %in% ext_closed) tol_closed else tol_iter
    f <- if (mods) rma(ext_dat$yi * c, ext_dat$vi * c^2, mods = ~ I(ext_dat$ablat), method = m, control = list(threshold = 1e-12))
         else rma(ext_dat$yi * c, ext_dat$vi * c^2, method = m, control = list(threshold = 1e-12))
    expect_scaled(f, ext_ref(m, mods), c, tol, sprintf("%s, c = %g%s", m, c, if (mods) ", mods" else ""))
  }
}

test_that("fits of yi * c, vi * c^2 are the rescaled moderate-scale fits (representative subset)", {
  ext_grid(ext_methods, c(1e-120, 1e150))
  ext_grid(c("DL", "REML"), c(1e-100, 1e100), mods = TRUE)
})

test_that("fits of yi * c, vi * c^2 over the full grid of scales", {
  skip_unless_level(2)
  ext_grid(ext_methods, c(1e-140, 1e-100, 1e-50, 1e50, 1e100, 1e140, 1e150))
  ext_grid(ext_methods, c(1e-120, 1e150), mods = TRUE)
})

test_that("tiny sampling variances (1e-300) are fitted as metafor fits their limit", {
  # with vi -> 0 every estimator's tau2 tends to its value at vi = 0; metafor
  # fits vi * 1e-12 (a limit to ~1e-12) at a scale it handles
  scales <- if (test_level() >= 2L) c(1e-250, 1e-280, 1e-300) else 1e-300
  # (DLIT stopped at 0.469, ML's limit, where its limit is 0.508: at the
  # variances' scale its tr(P) lost the sum of squared weights to underflow)
  for (m in setdiff(ext_methods, "EE")) {
    ref <- metafor::rma(ext_dat$yi, ext_dat$vi * 1e-12, method = m, control = metafor_tight)
    for (c in scales) {
      f <- rma(ext_dat$yi, ext_dat$vi * c, method = m, control = list(threshold = 1e-12))
      for (nm in c("b", "se", "tau2", "ci.lb", "ci.ub", "zval"))
        expect_equal(unname(c(f[[nm]])), unname(c(ref[[nm]])), tolerance = tol_iter, label = paste(m, c, nm))
      expect_true(all(is.finite(unlist(f[c("QE", "I2", "H2", "pval", "QEp")]))), label = paste(m, c))
    }
  }
})

test_that("outcomes whose results double precision cannot hold are an error naming yi and vi", {
  for (m in ext_methods) {
    for (c in c(1e200, 1e300)) {
      expect_error(rma(ext_dat$yi * c, ext_dat$vi, method = m), "'yi'.*'vi'", label = paste(m, c))
    }
  }
  # yi near 1e150 with moderate vi: tau2 near 5e299 is representable and exact
  for (m in c("DL", "SJ", "REML", "ML", "PM")) {
    f <- rma(ext_dat$yi * 1e150, ext_dat$vi, method = m, control = list(threshold = 1e-12))
    expect_true(is.finite(f$tau2) && f$tau2 > 1e299, label = m)
    expect_true(all(is.finite(c(f$b, f$se, f$ci.lb, f$ci.ub))), label = m)
  }
})

test_that("iterative estimators at the edge of double precision (yi near 1e152, vi near 0.1) give the limit fit", {
  # tau2 near 5e303 with vi near 0.1: vi / tau2 ~ 1e-305, so the fit equals
  # its limit vi -> 0, which metafor fits as vi * 1e-12 (to ~1e-12); EB, DLIT
  # and SJIT gave "did not converge" (they ran at the variances' scale)
  # (SJ with a moderator gave tau2 = 0 there: its weights 1 / (vi + mean
  # square of yi) near 1e-304)
  c <- 1e152
  ab <- ext_dat$ablat
  for (m in c("SJ", "ML", "REML", "EB", "PM", "PMM", "DLIT", "SJIT")) for (mods in c(FALSE, TRUE)) {
    info <- paste(m, if (mods) "mods")
    ref <- if (mods) metafor::rma(ext_dat$yi, ext_dat$vi * 1e-12, mods = ~ ab, method = m, control = metafor_tight)
           else metafor::rma(ext_dat$yi, ext_dat$vi * 1e-12, method = m, control = metafor_tight)
    f <- if (mods) rma(ext_dat$yi * c, ext_dat$vi, mods = ~ ab, method = m, control = list(threshold = 1e-12))
         else rma(ext_dat$yi * c, ext_dat$vi, method = m, control = list(threshold = 1e-12))
    for (nm in c("b", "se", "ci.lb", "ci.ub")) expect_equal(unname(c(f[[nm]])) / c, unname(c(ref[[nm]])), tolerance = tol_iter, label = paste(info, nm))
    expect_equal(f$tau2 / c^2, ref$tau2, tolerance = tol_iter, label = paste(info, "tau2"))
    expect_equal(unname(f$zval), unname(ref$zval), tolerance = tol_iter, label = paste(info, "zval"))
    expect_equal(f$QM, ref$QM, tolerance = tol_iter, label = paste(info, "QM"))
    expect_true(all(is.finite(unlist(f[c("QE", "I2", "H2", "pval")]))), label = info)
  }
})

test_that("an iterative fit whose tau2 / vi is beyond double precision is an error naming yi and vi", {
  # yi near 1e152 with vi near 1e-101: tau2 / vi near 1e406, so that the
  # weights 1 / (vi + tau2) cannot be formed at any one scale
  for (m in c("ML", "REML", "EB", "PM", "PMM", "DLIT", "SJIT"))
    expect_error(rma(ext_dat$yi * 1e152, ext_dat$vi * 1e-100, method = m), "'yi'.*'vi'", label = m)
})

test_that("closed-form estimators at yi near 1e152 (vi near 0.1) give the exact scaled fit", {
  # tau2 near 4e303 is representable; DL, HE, HS and HSk with moderators gave
  # the 'yi' error (their fixed effects at tau2 ran at the variances' scale,
  # weights 1 / (vi + tau2) near 1e-304).  The fit of yi * c with vi is the
  # fit of yi with vi / c^2 scaled back (tau2 by c^2, beta by c); with
  # vi / c^2 = 1e-304 vi it is the limit vi -> 0, which metafor fits as
  # vi * 1e-12 (to ~1e-12 relative: the terms in vi are 1e-12 of the others)
  c <- 1e152
  ab <- ext_dat$ablat
  for (m in c("DL", "HE", "HS", "HSk")) for (mods in c(FALSE, TRUE)) for (test in c("z", "knha")) {
    info <- paste(m, if (mods) "mods", test)
    ref <- if (mods) metafor::rma(ext_dat$yi, ext_dat$vi * 1e-12, mods = ~ ab, method = m, test = test)
           else metafor::rma(ext_dat$yi, ext_dat$vi * 1e-12, method = m, test = test)
    f <- if (mods) rma(ext_dat$yi * c, ext_dat$vi, mods = ~ ab, method = m, test = test)
         else rma(ext_dat$yi * c, ext_dat$vi, method = m, test = test)
    for (nm in c("b", "se", "ci.lb", "ci.ub")) expect_equal(unname(c(f[[nm]])) / c, unname(c(ref[[nm]])), tolerance = tol_closed, label = paste(info, nm))
    expect_equal(f$tau2 / c^2, ref$tau2, tolerance = tol_closed, label = paste(info, "tau2"))
    if (!is.na(ref$se.tau2)) expect_equal(f$se.tau2 / c^2, ref$se.tau2, tolerance = tol_closed, label = paste(info, "se.tau2"))
    expect_equal(unname(f$zval), unname(ref$zval), tolerance = tol_closed, label = paste(info, "zval"))
    expect_equal(f$QM, ref$QM, tolerance = tol_closed, label = paste(info, "QM"))
    # (ll of y c: that of y, less k log c)
    expect_equal(f$fit.stats$ML[1] + 13 * log(c), ref$fit.stats$ML[1], tolerance = tol_closed, label = paste(info, "ll"))
    expect_true(all(is.finite(unlist(f[c("QE", "I2", "H2", "pval")]))), label = info)
  }
})

test_that("GENQ with moderators at yi near 1e152 gives the exact scaled fit", {
  c <- 1e152
  ab <- ext_dat$ablat
  w <- 1 / (ext_dat$vi + 0.1)
  ref <- metafor::rma(ext_dat$yi, ext_dat$vi * 1e-12, weights = w, mods = ~ ab, method = "GENQ")
  f <- rma(ext_dat$yi * c, ext_dat$vi, weights = w, mods = ~ ab, method = "GENQ")
  for (nm in c("b", "se", "ci.lb", "ci.ub")) expect_equal(unname(c(f[[nm]])) / c, unname(c(ref[[nm]])), tolerance = tol_closed, label = nm)
  expect_equal(f$tau2 / c^2, ref$tau2, tolerance = tol_closed)
  expect_equal(f$se.tau2 / c^2, ref$se.tau2, tolerance = tol_closed)
  expect_equal(f$QM, ref$QM, tolerance = tol_closed)
})
