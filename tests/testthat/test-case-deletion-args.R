# metafor's arguments of the case-deletion functions: cumul(collapse, targs,
# decreasing, progbar), leave1out(cluster, targs, progbar), progbar of
# influence and its parts, gosh, baujat and permutest, and as.data.frame() of
# their results.

bcg_year <- function() {
  d <- bcg_data()
  d$year <- bcg_counts()$year
  d$decade <- floor(d$year / 10) * 10
  d
}

l1o_cols <- c("estimate", "se", "zval", "tval", "pval", "ci.lb", "ci.ub", "Q", "Qp", "tau2", "I2", "H2", "slab")

expect_table_equal <- function(a, b, tol) {
  nms <- intersect(c("k", l1o_cols, "order"), names(unclass(b)))
  expect_setequal(intersect(names(unclass(a)), c("k", l1o_cols)), setdiff(intersect(nms, c("k", l1o_cols)), "order"))
  for (nm in nms) expect_equal(c(unclass(a)[[nm]]), c(unclass(b)[[nm]]), tolerance = tol, info = nm)
}

test_that("cumul(collapse = TRUE) matches metafor (one row per value of order)", {
  skip_if_not_installed("metafor")
  d <- bcg_year()
  for (method in c("REML", "DL", "EE")) for (test in c("z", "knha")) {
    f <- rma(yi, vi, data = d, method = method, test = test)
    m <- metafor::rma(yi, vi, data = d, method = method, test = test, control = metafor_tight)
    for (ord in c("decade", "alloc", "ablat")) {
      fc <- eval(bquote(cumul(f, order = .(as.name(ord)), collapse = TRUE)))
      mc <- eval(bquote(metafor::cumul(m, order = .(as.name(ord)), collapse = TRUE)))
      expect_table_equal(fc, mc, tol_iter)
      expect_equal(as.data.frame(fc), as.data.frame(mc), tolerance = tol_iter, ignore_attr = "measure")
    }
  }
  f <- rma(yi, vi, data = d)
  m <- metafor::rma(yi, vi, data = d, control = metafor_tight)
  expect_length(cumul(f, order = decade, collapse = TRUE)$estimate, 5)
  # without 'order' collapse has no effect (as in metafor)
  expect_equal(cumul(f, collapse = TRUE)$estimate, cumul(f)$estimate)
  # with missing values under na.exclude, a value whose rows are all missing is a row of NA
  d2 <- d
  d2$yi[d2$decade == 1950] <- NA
  f2 <- suppressWarnings(rma(yi, vi, data = d2))
  m2 <- suppressWarnings(metafor::rma(yi, vi, data = d2, control = metafor_tight))
  for (act in c("na.omit", "na.exclude")) {
    old <- options(na.action = act)
    expect_table_equal(cumul(f2, order = decade, collapse = TRUE),
                       metafor::cumul(m2, order = decade, collapse = TRUE), tol_iter)
    options(old)
  }
})

test_that("cumul(targs, decreasing) and the transf.*.int auto-targs match metafor", {
  skip_if_not_installed("metafor")
  d <- bcg_year()
  f <- rma(yi, vi, data = d)
  m <- metafor::rma(yi, vi, data = d, control = metafor_tight)
  tf <- function(x, a) exp(x) * a$s
  expect_table_equal(cumul(f, order = year, transf = tf, targs = list(s = 2)),
                     metafor::cumul(m, order = year, transf = tf, targs = list(s = 2)), tol_iter)
  expect_table_equal(cumul(f, order = year, decreasing = TRUE),
                     metafor::cumul(m, order = year, decreasing = TRUE), tol_iter)
  expect_table_equal(cumul(f, order = year, transf = metafor::transf.exp.int),
                     metafor::cumul(m, order = year, transf = metafor::transf.exp.int), tol_iter)
  expect_error(cumul(f, transf = exp, targs = list(s = 2)), "targs")
  expect_error(cumul(f, order = year, collapse = NA), "collapse")
  expect_warning(cumul(f, order = order(d$year)), "order\\(\\)")
})

test_that("leave1out(cluster = ) matches metafor (one cluster left out at a time)", {
  skip_if_not_installed("metafor")
  d <- bcg_year()
  for (method in c("REML", "DL", "EE")) for (test in c("z", "knha")) {
    f <- rma(yi, vi, data = d, method = method, test = test)
    m <- metafor::rma(yi, vi, data = d, method = method, test = test, control = metafor_tight)
    expect_table_equal(leave1out(f, cluster = alloc), metafor::leave1out(m, cluster = alloc), tol_iter)
    expect_table_equal(leave1out(f, cluster = decade), metafor::leave1out(m, cluster = decade), tol_iter)
  }
  f <- rma(yi, vi, data = d)
  m <- metafor::rma(yi, vi, data = d, control = metafor_tight)
  # a cluster per study is the ordinary leave-one-out
  expect_equal(leave1out(f, cluster = seq_len(13))$estimate, leave1out(f)$estimate, tolerance = 1e-12)
  expect_identical(leave1out(f, cluster = alloc, threads = 1), leave1out(f, cluster = alloc, threads = 2))
  expect_equal(as.data.frame(leave1out(f, cluster = alloc, transf = exp)),
               as.data.frame(metafor::leave1out(m, cluster = alloc, transf = exp)), tolerance = tol_iter)
  # a single cluster leaves nothing to fit: NA, as metafor
  one <- leave1out(f, cluster = rep(1, 13))
  expect_true(is.na(one$estimate))
  # with subset: the clusters of the rows kept
  fs <- rma(yi, vi, data = d, subset = alloc != "alternate")
  ms <- metafor::rma(yi, vi, data = d, subset = alloc != "alternate", control = metafor_tight)
  expect_table_equal(leave1out(fs, cluster = alloc), metafor::leave1out(ms, cluster = alloc), tol_iter)
  # rows omitted for missing values: the clusters of the rows used, never padded (metafor)
  dn <- d
  dn$yi[c(2, 6)] <- NA
  fn <- suppressWarnings(rma(yi, vi, data = dn))
  mn <- suppressWarnings(metafor::rma(yi, vi, data = dn, control = metafor_tight))
  for (act in c("na.omit", "na.exclude")) {
    old <- options(na.action = act)
    expect_table_equal(leave1out(fn, cluster = alloc), metafor::leave1out(mn, cluster = alloc), tol_iter)
    options(old)
  }
  # bad input
  cl <- d$alloc
  cl[2] <- NA
  expect_error(leave1out(f, cluster = cl), "cluster.*row 2")
  expect_error(leave1out(f, cluster = 1:5), "cluster.*length 5")
})

test_that("leave1out(targs) matches metafor", {
  skip_if_not_installed("metafor")
  d <- bcg_year()
  f <- rma(yi, vi, data = d)
  m <- metafor::rma(yi, vi, data = d, control = metafor_tight)
  tf <- function(x, a) x * a$s + a$t
  expect_table_equal(leave1out(f, transf = tf, targs = list(s = 2, t = 1)),
                     metafor::leave1out(m, transf = tf, targs = list(s = 2, t = 1)), tol_iter)
  expect_table_equal(leave1out(f, transf = metafor::transf.ilogit.int),
                     metafor::leave1out(m, transf = metafor::transf.ilogit.int), tol_iter)
  expect_error(leave1out(f, transf = exp, targs = list(s = 2)), "targs")
})

test_that("progbar is accepted (cosmetic) and leaves the results unchanged", {
  d <- bcg_year()
  f <- rma(yi, vi, data = d)
  g <- rma(yi, vi, mods = ~ ablat, data = d)
  q <- function(expr) suppressMessages(suppressWarnings(expr))
  expect_identical(q(leave1out(f, progbar = TRUE)), leave1out(f))
  expect_identical(q(cumul(f, progbar = TRUE)), cumul(f))
  expect_identical(q(influence(g, progbar = TRUE))$inf, influence(g)$inf)
  expect_identical(q(rstudent(g, progbar = TRUE)), rstudent(g))
  expect_identical(q(cooks.distance(g, progbar = TRUE)), cooks.distance(g))
  expect_identical(q(dfbetas(g, progbar = TRUE)), dfbetas(g))
  expect_identical(q(gosh(f, subsets = 200, seed = 1, progbar = TRUE))$res, gosh(f, subsets = 200, seed = 1)$res)
  set.seed(3); a <- q(permutest(g, iter = 50, progbar = FALSE))
  set.seed(3); b <- permutest(g, iter = 50, progress = FALSE)
  expect_identical(a$pval, b$pval)
  pdf(NULL); on.exit(grDevices::dev.off(), add = TRUE)
  expect_identical(baujat(f, progbar = TRUE), baujat(f))
  expect_error(leave1out(f, progbar = NA), "progbar")
})

test_that("as.data.frame() of permutest, leave1out, influence and cumul results", {
  skip_if_not_installed("metafor")
  d <- bcg_year()
  g <- rma(yi, vi, mods = ~ ablat, data = d)
  set.seed(1)
  p <- permutest(g, iter = 100, progress = FALSE)
  pd <- as.data.frame(p)
  expect_equal(names(pd), c("estimate", "se", "zval", "pval", "ci.lb", "ci.ub"))
  expect_equal(rownames(pd), c("intrcpt", "ablat"))
  expect_equal(pd$pval, unname(p$pval))
  expect_equal(pd$estimate, c(g$beta))
  gk <- rma(yi, vi, mods = ~ ablat, data = d, test = "knha")
  expect_equal(names(as.data.frame(permutest(gk, iter = 50, progress = FALSE))),
               c("estimate", "se", "tval", "df", "pval", "ci.lb", "ci.ub"))
  # influence: the printed columns, numeric, against metafor's values
  m <- metafor::rma(yi, vi, mods = ~ ablat, data = d, control = metafor_tight)
  id <- as.data.frame(influence(g))
  mi <- influence(m)
  expect_equal(names(id), c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight",
                            "dfbs.intrcpt", "dfbs.ablat", "inf"))
  expect_equal(id$cook.d, mi$inf$cook.d, tolerance = tol_iter)
  expect_equal(id$dfbs.ablat, mi$dfbs$ablat, tolerance = tol_iter)
  expect_equal(rownames(id), as.character(1:13))
  f <- rma(yi, vi, data = d)
  expect_equal(names(as.data.frame(influence(f)))[9:10], c("dfbs", "inf"))
  # leave1out and cumul: metafor's as.data.frame()
  mf <- metafor::rma(yi, vi, data = d, control = metafor_tight)
  expect_equal(as.data.frame(leave1out(f)), as.data.frame(metafor::leave1out(mf)), tolerance = tol_iter)
  expect_equal(as.data.frame(cumul(f, order = year)), as.data.frame(metafor::cumul(mf, order = year)),
               tolerance = tol_iter, ignore_attr = "measure")
})

test_that("influence(btt = ) and cooks.distance(btt = ) match metafor", {
  skip_if_not_installed("metafor")
  d <- bcg_year()
  for (test in c("z", "knha")) {
    f <- rma(yi, vi, mods = ~ ablat + year, data = d, test = test)
    m <- metafor::rma(yi, vi, mods = ~ ablat + year, data = d, test = test, control = metafor_tight)
    for (b in list(2, c(2, 3), "year", 1)) {
      fi <- influence(f, btt = b)
      mi <- stats::influence(m, btt = b)
      expect_equal(fi$inf$cook.d, mi$inf$cook.d, tolerance = tol_iter)
      expect_equal(fi$inf$cov.r, mi$inf$cov.r, tolerance = tol_iter)
      expect_equal(fi$is.infl, mi$is.infl)
      expect_equal(fi$m, mi$m)
      expect_equal(cooks.distance(f, btt = b), stats::cooks.distance(m, btt = b), tolerance = tol_iter)
    }
  }
  expect_false(isTRUE(all.equal(influence(f, btt = 2)$inf$cook.d, influence(f)$inf$cook.d)))
  expect_error(influence(f, btt = 7), "btt")
})
