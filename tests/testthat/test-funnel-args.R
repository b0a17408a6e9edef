# funnel() with metafor's arguments (issue 16): the drawn values, the axis
# ranges and the regions against metafor's funnel() and against the
# definitions computed directly.

skip_if_not(capabilities("png"), "no png device")
skip_if_not_installed("metafor")
skip_if_not_installed("metadat")

tol <- 1e-8
in_png <- function(expr) {
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = 640, height = 520)
  on.exit({ grDevices::dev.off(); unlink(f) }, add = TRUE)
  res <- expr
  list(res = res, usr = graphics::par("usr"))
}
# the same call drawn by metafast and by metafor: returned points and the
# plot region (which holds the axis ranges metafor computes)
both <- function(ours, theirs) {
  a <- in_png(ours); b <- in_png(theirs)
  list(ours = a$res, ref = b$res, usr = a$usr, usr_ref = b$usr)
}

dat_f <- metafast::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
dat_m <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
fit <- metafast::rma(yi, vi, data = dat_f, slab = paste(author, year, sep = ", "))
mfit <- metafor::rma(yi, vi, data = dat_m, slab = paste(author, year, sep = ", "), control = metafor_tight)

test_that("every yaxis choice draws metafor's values in metafor's ranges", {
  ni <- metadat::dat.bcg$tpos + metadat::dat.bcg$tneg + metadat::dat.bcg$cpos + metadat::dat.bcg$cneg
  w <- 1 / (fit$vi + fit$tau2)
  direct <- list(sei = sqrt(fit$vi), vi = fit$vi, seinv = 1 / sqrt(fit$vi), vinv = 1 / fit$vi, ni = ni,
                 ninv = 1 / ni, sqrtni = sqrt(ni), sqrtninv = 1 / sqrt(ni), lni = log(ni), wi = 100 * w / sum(w))
  for (ya in names(direct)) {
    r <- both(funnel(fit, yaxis = ya), metafor::funnel(mfit, yaxis = ya))
    expect_equal(r$ours$y, direct[[ya]], tolerance = tol, info = ya)
    expect_equal(r$ours$y, as.numeric(r$ref$y), tolerance = tol, info = ya)
    expect_equal(r$ours$x, as.numeric(r$ref$x), tolerance = tol, info = ya)
    expect_equal(r$usr, r$usr_ref, tolerance = 1e-6, info = ya)
    if (ya %in% c("ni", "ninv", "sqrtni", "sqrtninv", "lni", "wi")) expect_null(attr(r$ours, "regions"))
  }
  expect_equal(nchar(attr(in_png(funnel(fit, yaxis = "wi"))$res, "at.lab")) > 0, rep(TRUE, 5))
})

test_that("the regions are refline +- z * sqrt(se^2 [+ tau2]) for each level", {
  res <- in_png(funnel(fit, level = c(90, 95, 99), refline = 0))$res
  expect_equal(attr(res, "level"), c(90, 95, 99))
  reg <- attr(res, "regions")
  for (j in 1:3) {
    z <- qnorm((1 - c(0.90, 0.95, 0.99)[j]) / 2, lower.tail = FALSE)
    expect_equal(reg[[j]]$ub, z * reg[[j]]$y, tolerance = tol)
    expect_equal(reg[[j]]$lb, -z * reg[[j]]$y, tolerance = tol)
  }
  # inverse standard error axis, addtau2, around the estimate
  res <- in_png(funnel(fit, yaxis = "seinv", addtau2 = TRUE))$res
  reg <- attr(res, "regions")[[1]]
  expect_equal(reg$ub - c(fit$beta), qnorm(0.975) * sqrt(1 / reg$y^2 + fit$tau2), tolerance = tol)
  r <- both(funnel(fit, yaxis = "vinv", addtau2 = TRUE, ci.res = 50),
            metafor::funnel(mfit, yaxis = "vinv", addtau2 = TRUE, ci.res = 50))
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  expect_equal(nrow(attr(r$ours, "regions")[[1]]), 50)
  # the grid reaches 10% beyond the points
  res <- in_png(funnel(fit))$res
  yr <- range(attr(res, "regions")[[1]]$y)
  expect_equal(yr, c(0, 1.1 * max(sqrt(fit$vi))), tolerance = tol)
  expect_equal(attr(res, "yat"), seq(max(sqrt(fit$vi)), 0, length.out = 5), tolerance = tol)
  expect_equal(attr(in_png(funnel(fit, steps = 3))$res, "yat"), seq(max(sqrt(fit$vi)), 0, length.out = 3),
               tolerance = tol)
})

test_that("label marks metafor's points: all, those outside the region, the n most extreme", {
  b <- c(fit$beta)
  z <- abs(fit$yi - b) / sqrt(fit$vi)
  res <- in_png(funnel(fit, label = "out"))$res
  expect_equal(attr(res, "labelled"), which(z >= qnorm(0.975)))
  expect_true(length(attr(res, "labelled")) > 0)
  res <- in_png(funnel(fit, label = 3))$res
  expect_equal(attr(res, "labelled"), sort(order(abs(fit$yi - b), decreasing = TRUE)[1:3]))
  expect_equal(attr(in_png(funnel(fit, label = TRUE))$res, "labelled"), 1:13)
  expect_equal(attr(in_png(funnel(fit, label = "all", offset = 1))$res, "labelled"), 1:13)
  expect_length(attr(in_png(funnel(fit))$res, "labelled"), 0)
  # widest level decides 'out'; no refline: relative to the mean
  res <- in_png(funnel(fit, label = "out", level = c(90, 99), refline = 0))$res
  expect_equal(attr(res, "labelled"), which(abs(fit$yi) / sqrt(fit$vi) >= qnorm(0.995)))
  res <- in_png(funnel(fit, label = 2, refline = NULL))$res
  expect_equal(attr(res, "labelled"), sort(order(abs(fit$yi - mean(fit$yi)), decreasing = TRUE)[1:2]))
  expect_null(attr(res, "refline"))
  expect_error(in_png(funnel(fit, label = "some")), "'label'")
})

test_that("atransf, at, targs and digits label the x axis as metafor", {
  at <- log(c(0.125, 0.25, 0.5, 1, 2))
  r <- both(funnel(fit, atransf = exp, at = at, digits = 3L, ylim = c(0, 0.8)),
            metafor::funnel(mfit, atransf = exp, at = at, digits = 3L, ylim = c(0, 0.8)))
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  expect_equal(attr(r$ours, "at"), at)
  expect_equal(attr(r$ours, "at.lab"), c("0.125", "0.25", "0.5", "1", "2"))
  expect_equal(attr(r$ours, "ylim"), c(0.8, 0))
  res <- in_png(funnel(fit, atransf = function(x, k) k * exp(x), targs = 10, at = 0, digits = 2))$res
  expect_equal(attr(res, "at.lab"), "10.00")
  res <- in_png(funnel(fit, at = c(-1, 0), at.lab = c("a", "b")))$res
  expect_equal(attr(res, "at.lab"), c("a", "b"))
  expect_error(in_png(funnel(fit, atransf = function(x) exp(x), targs = 2)), "'atransf'")
})

test_that("several levels, shade, legend and trim-and-fill points as metafor", {
  res <- in_png(funnel(fit, level = c(90, 95, 99), shade = c("white", "gray55", "gray75"), refline = 0,
                       legend = TRUE))$res
  expect_equal(attr(res, "legend"), c("0.10 < p <= 1.00", "0.05 < p <= 0.10", "0.01 < p <= 0.05", "0.00 < p <= 0.01",
                                      "Studies"))
  res <- in_png(funnel(fit, level = c(90, 95, 99), refline = 0, legend = list(show = "cis", x = "topleft")))$res
  expect_equal(attr(res, "legend"), c("90% CI Region", "95% CI Region", "99% CI Region", "Studies"))
  # contour = TRUE is the same plot
  a <- in_png(funnel(fit, contour = TRUE))$res
  b <- in_png(funnel(fit, level = c(90, 95, 99), refline = 0, legend = TRUE))$res
  expect_equal(attr(a, "regions"), attr(b, "regions"))
  expect_equal(attr(a, "legend"), attr(b, "legend"))
  # trim and fill: filled studies, observed and imputed in the legend
  hf <- metafast::rma(yi, vi, data = metadat::dat.hackshaw1998, measure = "OR")
  hm <- metafor::rma(yi, vi, data = metadat::dat.hackshaw1998, measure = "OR")
  r <- both(funnel(metafast::trimfill(hf), legend = TRUE), metafor::funnel(metafor::trimfill(hm), legend = TRUE))
  expect_equal(r$ours$fill, r$ref$fill)
  expect_equal(metafast::trimfill(hf)$measure, "OR")   # the x-axis title names the measure, as metafor
  expect_equal(r$ours$x, as.numeric(r$ref$x), tolerance = 1e-5)
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-5)
  expect_equal(attr(r$ours, "legend"), c("0.05 < p <= 1.00", "0.00 < p <= 0.05",
                                         "Observed Studies", "Imputed Studies"))
  # vectors of pch / col drop the studies from the legend; show = NA leaves none
  res <- in_png(funnel(fit, pch = rep(c(19, 21), length.out = 13), legend = TRUE))$res
  expect_false("Studies" %in% attr(res, "legend"))
  expect_null(attr(in_png(funnel(fit, pch = rep(c(19, 21), length.out = 13), legend = list(show = NA)))$res, "legend"))
  expect_error(in_png(funnel(fit, level = c(90, 95), shade = "white", legend = list(show = "x"))), "'show'")
  expect_error(in_png(funnel(fit, level = c(90, 95, 99), shade = c("white", "gray"))), "'shade'")
})

test_that("pch, col and bg per study (given as variables of the data), back, hlines, lty, colours", {
  sub <- metafast::rma(yi, vi, data = dat_f, subset = 2:10)
  msub <- metafor::rma(yi, vi, data = dat_m, subset = 2:10)
  r <- both(funnel(sub, pch = ifelse(yi > -1, 19, 21), col = ifelse(sqrt(vi) > 0.3, "red", "blue")),
            metafor::funnel(msub, pch = ifelse(yi > -1, 19, 21), col = ifelse(sqrt(vi) > 0.3, "red", "blue")))
  expect_equal(r$ours$x, as.numeric(r$ref$x), tolerance = tol)
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  expect_silent(in_png(funnel(fit, back = "white", shade = "gray90", hlines = "gray", lty = c(2, 1), pch = 21,
                              bg = "red", col = "blue", colref = "red", colci = "blue", colbox = NA, main = "x",
                              cex = 0.8, las = 1)))
  expect_error(in_png(funnel(fit, pch = 1:3)), "'pch'")
})

test_that("refline2 / level2 / lty2 add a second funnel; xlim and ylim as metafor", {
  r <- both(funnel(fit, refline2 = 0, level2 = 90, lty2 = 2), metafor::funnel(mfit, refline2 = 0, level2 = 90, lty2 = 2))
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  r <- both(funnel(fit, xlim = c(1, -3), ylim = c(0.1, 0.9)), metafor::funnel(mfit, xlim = c(1, -3), ylim = c(0.1, 0.9)))
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  expect_equal(attr(r$ours, "ylim"), c(0.9, 0.1))
  expect_error(in_png(funnel(fit, yaxis = "seinv", ylim = c(0, 2))), "'ylim'")
})

test_that("meta-regression: rstandard / rstudent residuals with their standard errors", {
  reg <- metafast::rma(yi, vi, mods = ~ ablat, data = dat_f)
  mreg <- metafor::rma(yi, vi, mods = ~ ablat, data = dat_m, control = metafor_tight)
  for (ty in c("rstandard", "rstudent")) {
    r <- both(funnel(reg, type = ty), metafor::funnel(mreg, type = ty))
    expect_equal(r$ours$x, as.numeric(r$ref$x), tolerance = 1e-6, info = ty)
    expect_equal(r$ours$y, as.numeric(r$ref$y), tolerance = 1e-6, info = ty)
    expect_equal(r$usr, r$usr_ref, tolerance = 1e-5, info = ty)
  }
  expect_equal(in_png(funnel(reg, type = "rstudent"))$res$x, rstudent(reg)$resid, tolerance = tol)
  expect_warning(in_png(funnel(reg, addtau2 = TRUE)), "'addtau2'")
  expect_error(in_png(funnel(reg, type = "raw")), "'type'")
})

test_that("funnel.default: ni, subset, slab, weights, measure label and the sample-size axes", {
  ni <- attr(dat_f$yi, "ni")
  expect_false(is.null(ni))
  r <- both(funnel(dat_f$yi, dat_f$vi, yaxis = "sqrtni"), metafor::funnel(dat_m$yi, dat_m$vi, yaxis = "sqrtni"))
  expect_equal(r$ours$y, sqrt(ni), tolerance = tol)
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  r <- both(funnel(c(dat_f$yi), ni = ni, yaxis = "ni", subset = 2:10, label = "out"),
            metafor::funnel(c(dat_m$yi), ni = ni, yaxis = "ni", subset = 2:10, label = "out"))
  expect_equal(r$ours$y, ni[2:10])
  expect_equal(attr(r$ours, "labelled"), 1:9)   # all on the sample-size axes, as metafor
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  r <- both(funnel(dat_f$yi, dat_f$vi, yaxis = "wi"), metafor::funnel(dat_m$yi, dat_m$vi, yaxis = "wi"))
  expect_equal(r$ours$y, 100 * (1 / dat_f$vi) / sum(1 / dat_f$vi), tolerance = tol)
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  r <- both(funnel(dat_f$yi, dat_f$vi, subset = dat_f$alloc == "random", slab = dat_f$author, label = 2),
            metafor::funnel(dat_m$yi, dat_m$vi, subset = dat_m$alloc == "random", slab = dat_m$author, label = 2))
  expect_equal(r$ours$slab, r$ref$slab)
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
  expect_error(in_png(funnel(c(dat_f$yi), dat_f$vi, yaxis = "ni")), "'ni'")
  expect_error(in_png(funnel(dat_f$yi, dat_f$vi, subset = "a")), "'subset'")
  expect_error(in_png(funnel(dat_f$yi, dat_f$vi, yaxis = "lnx")), "'yaxis'")
  expect_error(in_png(funnel(dat_f$yi, dat_f$vi, level = 120)), "'level'")
  # fits without sample sizes
  expect_error(in_png(funnel(metafast::rma(c(dat_f$yi), c(dat_f$vi)), yaxis = "ni")), "sample size")
})

test_that("metafor's gallery call of baujat() with given limits: padded as metafor", {
  p <- metadat::dat.pignon2000
  p$yi <- with(p, OmE / V); p$vi <- with(p, 1 / V)
  pf <- metafast::rma(yi, vi, data = p, method = "EE", slab = trial)
  pm <- metafor::rma(yi, vi, data = p, method = "EE", slab = trial)
  r <- both(baujat(pf, symbol = 19, xlim = c(0, 20), ylim = c(0, 0.2)),
            metafor::baujat(pm, symbol = 19, xlim = c(0, 20), ylim = c(0, 0.2)))
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-8)
  expect_equal(r$ours$x, r$ref$x, tolerance = 1e-6)
  expect_equal(r$ours$y, r$ref$y, tolerance = 1e-6)
})

test_that("rma.mv() fits: residuals of meta-regressions, outcomes of intercept-only fits, as metafor", {
  d <- dat_f; d$id <- seq_len(nrow(d))
  dm <- dat_m; dm$id <- seq_len(nrow(dm))
  f <- metafast::rma.mv(yi, vi, mods = ~ ablat, random = ~ 1 | id, data = d)
  m <- metafor::rma.mv(yi, vi, mods = ~ ablat, random = ~ 1 | id, data = dm, control = list(rel.tol = 1e-10, iter.max = 1000, eval.max = 2000))
  r <- both(funnel(f), metafor::funnel(m))
  expect_equal(r$ours$x, as.numeric(r$ref$x), tolerance = 1e-5)
  expect_equal(r$ours$y, as.numeric(r$ref$y), tolerance = 1e-5)
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-5)
  f0 <- metafast::rma.mv(yi, vi, random = ~ 1 | id, data = d)
  m0 <- metafor::rma.mv(yi, vi, random = ~ 1 | id, data = dm, control = list(rel.tol = 1e-10, iter.max = 1000, eval.max = 2000))
  r <- both(funnel(f0, yaxis = "wi", label = 2), metafor::funnel(m0, yaxis = "wi", label = 2))
  expect_equal(r$ours$y, as.numeric(r$ref$y), tolerance = 1e-5)
  expect_equal(r$usr, r$usr_ref, tolerance = 1e-5)
  expect_warning(in_png(funnel(f0, addtau2 = TRUE)), "'addtau2'")
})

test_that("funnel(transf =) is ignored with metafor's warning (metafor's funnel() has no transf)", {
  msg <- "Function does not have a 'transf' argument (use 'atransf' instead)."
  for (cs in list(list(ours = quote(funnel(fit, transf = exp)), theirs = quote(metafor::funnel(mfit, transf = exp)),
                       base = quote(funnel(fit))),
                  list(ours = quote(funnel(dat_f$yi, dat_f$vi, transf = exp)),
                       theirs = quote(metafor:::funnel.default(dat_m$yi, dat_m$vi, transf = exp)),
                       base = quote(funnel(dat_f$yi, dat_f$vi))))) {
    expect_warning(r <- both(eval(cs$ours), suppressWarnings(eval(cs$theirs))), msg, fixed = TRUE)
    expect_warning(eval(cs$theirs), msg, fixed = TRUE)
    b <- in_png(eval(cs$base))
    # the plot drawn without it: metafor's values and ranges
    expect_equal(r$ours$x, as.numeric(r$ref$x), tolerance = tol)
    expect_equal(r$usr, r$usr_ref, tolerance = 1e-6)
    expect_equal(r$usr, b$usr)
  }
})
