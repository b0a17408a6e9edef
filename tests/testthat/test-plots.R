# forest(), funnel() and baujat(): every plot is drawn into a png device and
# the data it returns is checked against the fit and against metafor.

skip_if_not(capabilities("png"), "no png device")

# BCG vaccine trials (Colditz et al. 1994), as in metafor's dat.bcg.
bcg <- data.frame(
  author = c("Aronson", "Ferguson & Simes", "Rosenthal et al", "Hart & Sutherland",
             "Frimodt-Moller et al", "Stein & Aronson", "Vandiviere et al", "TPT Madras",
             "Coetzee & Berjak", "Rosenthal et al", "Comstock et al", "Comstock & Webster",
             "Comstock et al"),
  year = c(1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976),
  tpos = c(4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27),
  tneg = c(119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886),
  cpos = c(11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29),
  cneg = c(128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825),
  ablat = c(44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33))
bcg$yi <- log((bcg$tpos / (bcg$tpos + bcg$tneg)) / (bcg$cpos / (bcg$cpos + bcg$cneg)))
bcg$vi <- 1 / bcg$tpos - 1 / (bcg$tpos + bcg$tneg) + 1 / bcg$cpos - 1 / (bcg$cpos + bcg$cneg)
bcg$slab <- paste(bcg$author, bcg$year)

sim_dat <- function(k, seed) {
  set.seed(seed)
  vi <- stats::runif(k, 0.01, 0.2)
  data.frame(yi = stats::rnorm(k, 0.4, sqrt(vi + 0.05)), vi = vi, n = round(4 / vi),
             weeks = sample(4:16, k, TRUE),
             grp = rep_len(c("CBT", "Mindfulness", "Psychoeducation"), k),
             lab = paste0("Author ", seq_len(k), " et al. (", 2000 + seq_len(k) %% 22, ")"),
             stringsAsFactors = FALSE)
}

# Draw into a png file; return the plot's value and the number of pages.
draw <- function(expr, width = 7, height = 7) {
  dir <- tempfile("plots")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  grDevices::png(file.path(dir, "p%03d.png"), width = width, height = height, units = "in", res = 50)
  out <- tryCatch(force(expr), finally = grDevices::dev.off())
  attr(out, "pages") <- length(list.files(dir))
  out
}

test_that("forest() returns the study rows and the pooled diamond of the fit (k = 5, 20, 60)", {
  skip_if_not_installed("metafor")
  for (k in c(5, 20, 60)) {
    d <- sim_dat(k, k)
    fit <- rma(yi, vi, data = d, slab = lab)
    res <- draw(forest(fit, ilab = d[, c("n", "weeks")], ilab.lab = c("N", "Weeks"),
                       header = c("Study", "g [95% CI]")))
    expect_equal(attr(res, "pages"), 1L)
    s <- res$studies
    expect_equal(nrow(s), k)
    expect_equal(s$yi, d$yi, tolerance = tol_closed)
    expect_equal(s$ci.lb, d$yi - stats::qnorm(0.975) * sqrt(d$vi), tolerance = tol_closed)
    expect_equal(s$ci.ub, d$yi + stats::qnorm(0.975) * sqrt(d$vi), tolerance = tol_closed)
    expect_equal(s$slab, d$lab)
    mf <- metafor::rma(yi, vi, data = d, control = metafor_tight)
    expect_equal(s$weight, unname(metafor::weights.rma.uni(mf)), tolerance = tol_iter)
    sm <- res$summaries
    expect_equal(nrow(sm), 1L)
    pr <- metafor::predict.rma(mf)
    expect_equal(sm$estimate, c(mf$beta), tolerance = tol_iter)
    expect_equal(c(sm$ci.lb, sm$ci.ub), c(mf$ci.lb, mf$ci.ub), tolerance = tol_iter)
    expect_equal(c(sm$pi.lb, sm$pi.ub), c(pr$pi.lb, pr$pi.ub), tolerance = tol_iter)
    # rows distinct, top to bottom in data order; everything inside the axis range
    expect_true(all(diff(s$y) < 0))
    lay <- res$layout
    expect_true(lay$cex <= 1 && lay$cex > 0)
    expect_true(lay$xlim[1] < lay$alim[1] && lay$xlim[2] > lay$alim[2])
    expect_true(all(c(s$ci.lb, s$ci.ub, sm$pi.lb, sm$pi.ub) >= lay$alim[1] &
                    c(s$ci.lb, s$ci.ub, sm$pi.lb, sm$pi.ub) <= lay$alim[2]))
  }
})

test_that("forest() text shrinks with k and grows back on a taller device", {
  d <- sim_dat(60, 2)
  fit <- rma(yi, vi, data = d, slab = lab)
  c60 <- draw(forest(fit))$layout$cex
  c5 <- draw(forest(rma(yi, vi, data = d[1:5, ], slab = lab)))$layout$cex
  ctall <- draw(forest(fit), height = forest_height(60))$layout$cex
  expect_lt(c60, c5)
  expect_gt(ctall, c60)
  expect_gt(forest_height(60), forest_height(5))
  expect_gte(forest_height(1), 3)
})

test_that("forest() with subgroups draws each block's own pooled estimate", {
  skip_if_not_installed("metafor")
  d <- sim_dat(20, 3)
  fit <- rma(yi, vi, data = d, slab = lab, method = "DL")
  res <- draw(forest(fit, subgroup = d$grp, ilab = d$n, ilab.lab = "N", order = "obs"))
  sm <- res$summaries
  expect_equal(nrow(sm), 4L)
  for (g in unique(d$grp)) {
    mg <- metafor::rma(yi, vi, data = d[d$grp == g, ], method = "DL")
    row <- sm[!is.na(sm$group) & sm$group == g, ]
    expect_equal(row$estimate, c(mg$beta), tolerance = tol_closed)
    expect_equal(c(row$ci.lb, row$ci.ub), c(mg$ci.lb, mg$ci.ub), tolerance = tol_closed)
    expect_equal(row$k, mg$k)
    # the block's studies sit above its diamond, sorted by effect size
    st <- res$studies[res$studies$group == g, ]
    expect_true(all(st$y > row$y))
    expect_false(is.unsorted(st$yi))
  }
  ov <- sm[is.na(sm$group), ]
  expect_equal(ov$estimate, c(metafor::rma(yi, vi, data = d, method = "DL")$beta), tolerance = tol_closed)
  expect_true(ov$y < min(sm$y[!is.na(sm$group)]))
  expect_equal(sum(res$studies$weight), 100, tolerance = tol_closed)
})

test_that("forest() on BCG: labels, transf, meta-regression and plain effect sizes", {
  fit <- rma(yi, vi, data = bcg, slab = slab)
  res <- draw(forest(fit, transf = exp, refline = 1, xlab = "Risk ratio",
                     ilab = cbind(bcg$tpos, bcg$cpos), ilab.lab = c("TB+", "Ctl TB+")))
  expect_equal(res$studies$yi, exp(bcg$yi), tolerance = tol_closed)
  expect_equal(res$summaries$estimate, exp(c(fit$beta)), tolerance = tol_closed)
  expect_equal(res$studies$slab, bcg$slab)
  # equal-effects fit: no prediction interval
  res <- draw(forest(rma(yi, vi, data = bcg, method = "EE")))
  expect_true(is.na(res$summaries$pi.lb))
  # meta-regression: the studies, no pooled diamond
  res <- draw(forest(rma(yi, vi, mods = ~ ablat, data = bcg)))
  expect_null(res$summaries)
  expect_equal(res$studies$yi, bcg$yi, tolerance = tol_closed)
  # plain effect sizes, by variance or by bounds
  res <- draw(forest(bcg$yi, bcg$vi, slab = bcg$slab))
  expect_equal(res$studies$ci.ub, bcg$yi + stats::qnorm(0.975) * sqrt(bcg$vi), tolerance = tol_closed)
  res2 <- draw(forest(bcg$yi, ci.lb = res$studies$ci.lb, ci.ub = res$studies$ci.ub))
  expect_equal(res2$studies$ci.lb, res$studies$ci.lb, tolerance = tol_closed)
  expect_equal(attr(res2, "pages"), 1L)
})

test_that("forest() handles omitted rows: per-study arguments of either length", {
  d <- data.frame(yi = c(0.1, NA, 0.3, 0.5, 0.2), vi = c(0.02, 0.03, 0.04, 0.05, 0.01),
                  g = c("a", "a", "b", "b", "b"), s = letters[1:5])
  fit <- suppressWarnings(rma(yi, vi, data = d, slab = s))
  res <- draw(forest(fit, subgroup = d$g, ilab = d$s, order = 5:1))
  expect_equal(res$studies$row, c(1, 5, 4, 3))
  expect_equal(res$studies$slab, c("a", "e", "d", "c"))
  expect_equal(res$summaries$k, c(1, 3, 4))
  res2 <- draw(forest(fit, subgroup = d$g[-2], slab = toupper(d$s[-2])))
  expect_equal(res2$studies$slab, c("A", "C", "D", "E"))
})

test_that("forest() rejects bad per-study arguments with a clear message", {
  fit <- rma(yi, vi, data = bcg)
  expect_error(draw(forest(fit, slab = letters[1:3])), "'slab'")
  expect_error(draw(forest(fit, ilab = 1:4)), "'ilab'")
  expect_error(draw(forest(fit, ilab = cbind(1:13, 1:13), ilab.lab = "a")), "'ilab.lab'")
  expect_error(draw(forest(fit, subgroup = c(NA, rep("a", 12)))), "'subgroup'.*row 1")
  expect_error(draw(forest(fit, order = "nonsense")), "'order'")
  expect_error(forest(bcg$yi), "'vi'")
  expect_error(forest_height(-1), "'k'")
})

test_that("funnel() returns the drawn points, matching metafor", {
  skip_if_not_installed("metafor")
  fit <- rma(yi, vi, data = bcg, slab = slab)
  mf <- metafor::rma(yi, vi, data = bcg, slab = slab)
  grDevices::pdf(NULL)
  ref <- metafor::funnel(mf)
  ref_vi <- metafor::funnel(mf, yaxis = "vi")
  ref_inv <- metafor::funnel(mf, yaxis = "seinv")
  grDevices::dev.off()
  res <- draw(funnel(fit))
  expect_equal(attr(res, "pages"), 1L)
  expect_equal(res$x, as.numeric(ref$x), tolerance = tol_closed)
  expect_equal(res$y, as.numeric(ref$y), tolerance = tol_closed)
  expect_equal(res$slab, ref$slab)
  expect_equal(attr(res, "refline"), c(fit$beta))
  expect_equal(draw(funnel(fit, yaxis = "vi"))$y, ref_vi$y, tolerance = tol_closed)
  expect_equal(draw(funnel(fit, yaxis = "seinv"))$y, ref_inv$y, tolerance = tol_closed)
  # contour-enhanced: regions around 0
  res <- draw(funnel(fit, contour = TRUE))
  expect_equal(attr(res, "refline"), 0)
  expect_equal(attr(res, "contours"), c(90, 95, 99))
  # meta-regression: residuals around 0, as metafor's raw residuals
  fm <- rma(yi, vi, mods = ~ ablat, data = bcg)
  res <- draw(funnel(fm))
  expect_equal(res$x, unname(c(metafor::rma(yi, vi, mods = ~ ablat, data = bcg, control = metafor_tight) |>
                                 stats::residuals())), tolerance = tol_iter)
  expect_error(draw(funnel(fit, yaxis = "n")), "'yaxis'")
  expect_error(draw(funnel(fit, contour = TRUE, contours = 150)), "'contours'")
})

test_that("funnel() on simulated data (k = 5, 20, 60) with contours and filled studies", {
  for (k in c(5, 20, 60)) {
    d <- sim_dat(k, 10 + k)
    fit <- rma(yi, vi, data = d)
    res <- draw(funnel(fit, contour = TRUE, contours = c(90, 95, 99, 99.9)))
    expect_equal(res$x, d$yi, tolerance = tol_closed)
    expect_equal(res$y, sqrt(d$vi), tolerance = tol_closed)
    expect_false(any(res$fill))
  }
  # a trim-and-fill result: the rows with fill = TRUE are drawn open
  tf <- fit
  tf$fill <- rep(c(FALSE, TRUE), c(50, 10))
  class(tf) <- c("mf_rma_filled", "mf_rma")
  res <- draw(funnel(tf))
  expect_equal(res$fill, tf$fill)
  # plain effect sizes
  res <- draw(funnel(d$yi, sei = sqrt(d$vi)))
  expect_equal(res$y, sqrt(d$vi), tolerance = tol_closed)
  expect_equal(attr(res, "refline"), 0)
})

test_that("baujat() matches metafor::baujat()", {
  skip_if_not_installed("metafor")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  # closed form for the intercept-only equal-effects model
  bcg$w <- seq(0.5, 2, length.out = 13)
  for (weighted in c(FALSE, TRUE)) {
    if (weighted) {
      res <- baujat(rma(yi, vi, weights = w, data = bcg, method = "EE"))
      ref <- metafor::baujat(metafor::rma(yi, vi, weights = w, data = bcg, method = "EE"))
    } else {
      res <- baujat(rma(yi, vi, data = bcg, method = "EE"))
      ref <- metafor::baujat(metafor::rma(yi, vi, data = bcg, method = "EE"))
    }
    expect_equal(res$x, ref$x, tolerance = tol_closed)
    expect_equal(res$y, ref$y, tolerance = tol_closed)
    expect_equal(res$ids, ref$ids)
  }
  # leave-one-out refits for other estimators and meta-regression
  for (m in c("DL", "REML")) {
    ref <- metafor::baujat(metafor::rma(yi, vi, data = bcg, method = m, control = metafor_tight))
    res <- baujat(rma(yi, vi, data = bcg, method = m))
    expect_equal(res$x, ref$x, tolerance = tol_iter)
    expect_equal(res$y, ref$y, tolerance = tol_iter)
  }
  ref <- metafor::baujat(metafor::rma(yi, vi, mods = ~ ablat, data = bcg, control = metafor_tight))
  res <- baujat(rma(yi, vi, mods = ~ ablat, data = bcg))
  expect_equal(res$x, ref$x, tolerance = tol_iter)
  expect_equal(res$y, ref$y, tolerance = tol_iter)
})

test_that("baujat() draws one page for k = 5, 20, 60 and checks 'symbol'", {
  skip_if_not_installed("metafor")
  for (k in c(5, 20, 60)) {
    d <- sim_dat(k, 20 + k)
    res <- draw(baujat(rma(yi, vi, data = d, method = "EE", slab = lab), symbol = "slab"))
    expect_equal(attr(res, "pages"), 1L)
    grDevices::pdf(NULL)
    ref <- metafor::baujat(metafor::rma(yi, vi, data = d, method = "EE"))
    grDevices::dev.off()
    expect_equal(res$y, ref$y, tolerance = tol_closed)
    expect_equal(res$slab, d$lab)
  }
  expect_error(draw(baujat(rma(yi, vi, data = bcg), symbol = "x")), "'symbol'")
  expect_error(baujat(1:3), "class")
})
