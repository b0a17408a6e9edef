# fsn() with metafor 5's types, defaults and arguments (pool, exact, method,
# weighted, mumiss, tau2, test, interval, maxint) and its printout, against
# metafor::fsn() (always called fully qualified).

fsn_dat <- function() {
  skip_if_not_installed("metadat")
  e <- new.env()
  utils::data("dat.bcg", package = "metadat", envir = e)
  b <- e$dat.bcg
  ai <- b$tpos; bi <- b$tneg; ci <- b$cpos; di <- b$cneg
  b$yi <- log(ai / bi) - log(ci / di)
  b$vi <- 1 / ai + 1 / bi + 1 / ci + 1 / di
  b
}
pos_dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, -0.05),
                      vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.03))

fsn_fields <- c("fsnum", "est", "tau2", "pval", "alpha", "target", "est.fsn", "tau2.fsn", "pval.fsn")
expect_fsn <- function(a, b, tolerance = tol_closed) {
  expect_identical(a$type, b$type)
  expect_equal(a$fsnum, b$fsnum)
  expect_identical(a$ub.sign, b$ub.sign)
  expect_identical(a$method, b$method)
  expect_equal(unlist(a[fsn_fields]), unlist(b[fsn_fields]), tolerance = tolerance)
}
printed <- function(x, ...) {
  out <- capture.output(print(x, ...))
  out[nzchar(trimws(out))]
}

test_that("fsn() has metafor 5's formals (names, order, defaults)", {
  skip_if_not_installed("metafor")
  mf <- formals(metafor::fsn)
  ours <- formals(fsn)
  n <- setdiff(names(mf), "...")
  expect_identical(names(ours)[seq_along(n)], n)
  for (a in c("alpha", "exact", "verbose")) expect_identical(ours[[a]], mf[[a]], info = a)
})

test_that("Rosenthal (Stouffer and Fisher pooling), Binomial, Orwin and Rosenberg match metafor", {
  skip_if_not_installed("metafor")
  bcg <- fsn_dat()
  for (d in list(bcg, pos_dat)) {
    for (alpha in c(0.05, 0.01)) {
      for (pool in c("Stouffer", "Fisher", "fish")) {
        expect_fsn(fsn(yi, vi, data = d, alpha = alpha, pool = pool),
                   metafor::fsn(yi, vi, data = d, alpha = alpha, pool = pool))
      }
      expect_fsn(fsn(yi, vi, data = d, alpha = alpha, type = "Binomial"),
                 metafor::fsn(yi, vi, data = d, alpha = alpha, type = "Binomial"))
      expect_fsn(fsn(yi, vi, data = d, alpha = alpha, type = "Rosenberg"),
                 metafor::fsn(yi, vi, data = d, alpha = alpha, type = "Rosenberg"))
    }
    # Orwin: weighted by default when variances are given (metafor 5), unweighted without
    for (args in list(list(), list(weighted = FALSE), list(weighted = TRUE), list(target = 0.05),
                      list(target = -0.05, weighted = FALSE))) {
      expect_fsn(do.call(fsn, c(list(quote(yi), quote(vi), data = d, type = "Orwin"), args)),
                 do.call(metafor::fsn, c(list(quote(yi), quote(vi), data = d, type = "Orwin"), args)))
    }
    expect_fsn(fsn(d$yi, type = "Orwin"), metafor::fsn(d$yi, type = "Orwin"))
    expect_fsn(fsn(yi, sei = sqrt(vi), data = d, type = "Orw"), metafor::fsn(yi, sei = sqrt(vi), data = d, type = "Orw"))
    # type is matched as metafor does (a part of the name)
    expect_fsn(fsn(yi, vi, data = d, type = "berg"), metafor::fsn(yi, vi, data = d, type = "berg"))
    expect_fsn(fsn(yi, vi, data = d, subset = -1), metafor::fsn(yi, vi, data = d, subset = -1))
  }
  expect_error(fsn(pos_dat$yi, type = "Orwin", weighted = TRUE), "vi")
  expect_error(fsn(yi, vi, data = pos_dat, pool = "Tippett"), "'pool'")
})

test_that("the General type matches metafor (approximate and exact, target, method, tau2, test, mumiss)", {
  skip_if_not_installed("metafor")
  bcg <- fsn_dat()
  for (d in list(bcg, pos_dat)) {
    # mumiss: added studies on the other side of 0 (on the same side the
    # p-value never reaches alpha: both packages stop with an error)
    mm <- if (mean(d$yi) < 0) 0.05 else -0.05
    # Non-iterative estimators (DL, HE, EE) and fixed tau2 compare tightly;
    # metafor's own fits inside fsn() (REML by default) run with its default
    # convergence threshold (1e-5), which fsn() does not let one tighten:
    # those compare to 1e-4.
    for (args in list(list(), list(alpha = 0.01), list(method = "DL"), list(method = "EE"),
                      list(method = "HE"), list(mumiss = mm, method = "DL"), list(mumiss = mm),
                      list(tau2 = 0.1), list(method = "DL", exact = TRUE), list(method = "EE", exact = TRUE),
                      list(method = "DL", test = "knha"), list(method = "DL", test = "t"),
                      list(interval = c(0, 5), method = "DL"), list(interval = c(0, 5)))) {
      a <- do.call(fsn, c(list(quote(yi), quote(vi), data = d, type = "General"), args))
      b <- do.call(metafor::fsn, c(list(quote(yi), quote(vi), data = d, type = "General"), args))
      tol <- if (is.null(args$method) && is.null(args$tau2)) 1e-4
             else if (isTRUE(args$exact) || !is.null(args$test)) tol_iter else tol_closed
      expect_fsn(a, b, tolerance = tol)
    }
    expect_error(fsn(yi, vi, data = d, type = "General", mumiss = -mm), "Could not find")
    expect_error(metafor::fsn(yi, vi, data = d, type = "General", mumiss = -mm))
    tg <- if (mean(d$yi) < 0) -0.2 else 0.15
    for (args in list(list(target = tg, method = "DL"), list(target = -tg, method = "DL"), list(target = tg),
                      list(target = tg, method = "EE"), list(target = tg, method = "DL", exact = TRUE))) {
      a <- do.call(fsn, c(list(quote(yi), quote(vi), data = d, type = "General"), args))
      b <- do.call(metafor::fsn, c(list(quote(yi), quote(vi), data = d, type = "General"), args))
      tol <- if (is.null(args$method)) 1e-4 else if (isTRUE(args$exact)) tol_iter else tol_closed
      expect_fsn(a, b, tolerance = tol)
    }
  }
  # exact refits with REML: metafor refits with its default convergence
  # threshold (1e-5), which fsn() does not let one tighten
  a <- fsn(yi, vi, data = bcg, type = "General", exact = TRUE)
  b <- metafor::fsn(yi, vi, data = bcg, type = "General", exact = TRUE)
  expect_equal(a$fsnum, b$fsnum)
  expect_equal(unlist(a[fsn_fields]), unlist(b[fsn_fields]), tolerance = 1e-4)
  # a target beyond the estimate, and maxint reached
  a <- fsn(yi, vi, data = bcg, type = "General", target = -2, method = "DL")
  expect_fsn(a, metafor::fsn(yi, vi, data = bcg, type = "General", target = -2, method = "DL"))
  expect_identical(a$fsnum, 0)
  a <- fsn(yi, vi, data = bcg, type = "General", maxint = 10, method = "DL")
  b <- metafor::fsn(yi, vi, data = bcg, type = "General", maxint = 10, method = "DL")
  expect_fsn(a, b)
  expect_identical(a$ub.sign, ">")
  expect_identical(printed(a), printed(b))
})

test_that("a fitted model gives the General type with the model's method, test and tau2", {
  skip_if_not_installed("metafor")
  bcg <- fsn_dat()
  for (args in list(list(), list(method = "DL"), list(method = "EE"), list(method = "FE"),
                    list(method = "DL", test = "knha"), list(tau2 = 0.2))) {
    fa <- do.call(rma, c(list(quote(yi), quote(vi), data = bcg), args))
    fb <- do.call(metafor::rma, c(list(quote(yi), quote(vi), data = bcg), args))
    tol <- if (length(args) == 0L) 1e-4 else if (!is.null(args$test)) tol_iter else tol_closed
    expect_fsn(fsn(fa), metafor::fsn(fb), tolerance = tol)
    expect_fsn(fsn(fa, target = -0.3), metafor::fsn(fb, target = -0.3), tolerance = tol)
    expect_fsn(fsn(fa, method = "HE"), metafor::fsn(fb, method = "HE"),
               tolerance = if (!is.null(args$test)) tol_iter else tol_closed)
  }
  fa <- rma(yi, vi, data = bcg)
  fb <- metafor::rma(yi, vi, data = bcg)
  expect_warning(a <- fsn(fa, type = "Rosenthal"), "General")
  expect_warning(b <- metafor::fsn(fb, type = "Rosenthal"), "General")
  expect_fsn(a, b, tolerance = 1e-4)
  expect_warning(fsn(fa, vi = 1), "ignored")
  expect_error(fsn(rma(yi, vi, mods = ~ ablat, data = bcg)), "moderators")
  expect_error(fsn(rma(yi, vi, weights = 1 / (vi + 0.1), data = bcg)), "weights")
})

test_that("weighted = FALSE (unweighted estimation) in the General type", {
  skip_if_not_installed("metafor")
  bcg <- fsn_dat()
  if (!"weighted" %in% names(formals(rma))) {
    expect_error(fsn(yi, vi, data = bcg, type = "General", weighted = FALSE), "weighted")
  } else {
    for (args in list(list(), list(method = "DL"), list(method = "DL", exact = TRUE)))
      expect_fsn(do.call(fsn, c(list(quote(yi), quote(vi), data = bcg, type = "General", weighted = FALSE), args)),
                 do.call(metafor::fsn, c(list(quote(yi), quote(vi), data = bcg, type = "General",
                                              weighted = FALSE), args)),
                 tolerance = if (is.null(args$method)) 1e-4 else tol_iter)
  }
})

test_that("the printout is metafor's for every type", {
  skip_if_not_installed("metafor")
  bcg <- fsn_dat()
  for (d in list(bcg, pos_dat)) {
    for (args in list(list(), list(pool = "Fisher"), list(type = "Binomial"), list(type = "Orwin"),
                      list(type = "Rosenberg"), list(type = "General"), list(type = "General", method = "EE"),
                      list(type = "General", target = 0.1), list(digits = 2), list(type = "General", digits = 3))) {
      a <- do.call(fsn, c(list(quote(yi), quote(vi), data = d), args))
      b <- do.call(metafor::fsn, c(list(quote(yi), quote(vi), data = d), args))
      expect_identical(printed(a), printed(b))
    }
  }
  fa <- rma(yi, vi, data = bcg)
  fb <- metafor::rma(yi, vi, data = bcg)
  expect_identical(printed(fsn(fa)), printed(metafor::fsn(fb)))
  expect_identical(printed(fsn(fa), digits = 2), printed(metafor::fsn(fb), digits = 2))
})

test_that("verbose shows the search; unknown arguments are disregarded with a warning", {
  bcg <- fsn_dat()
  out <- capture.output(fsn(yi, vi, data = bcg, type = "General", verbose = TRUE))
  expect_true(any(grepl("^fsnum = ", out)))
  expect_warning(fsn(yi, vi, data = bcg, foo = 1), "'foo'.*disregarded")
  expect_error(fsn(yi, vi, data = bcg, exact = NA), "'exact'")
  expect_error(fsn(yi, vi, data = bcg, mumiss = "a"), "'mumiss'")
})

test_that("a metafor rma.uni fit works as x (both packages loaded); other metafor models give an error", {
  skip_if_not_installed("metafor")
  bcg <- fsn_dat()
  fb <- metafor::rma(yi, vi, data = bcg, method = "DL")
  expect_fsn(fsn(fb), metafor::fsn(fb))
  expect_identical(printed(fsn(fb)), printed(metafor::fsn(fb)))
  fb <- metafor::rma(yi, vi, data = bcg, method = "EE")
  expect_fsn(fsn(fb, target = -0.2), metafor::fsn(fb, target = -0.2))
  mv <- metafor::rma.mv(yi, vi, random = ~ 1 | trial, data = bcg)
  expect_error(fsn(mv), "rma.mv")
})

test_that("verbose prints metafor's lines of the search", {
  skip_if_not_installed("metafor")
  bcg <- fsn_dat()
  a <- capture.output(fsn(yi, vi, data = bcg, type = "General", method = "DL", verbose = TRUE))
  b <- capture.output(metafor::fsn(yi, vi, data = bcg, type = "General", method = "DL", verbose = TRUE))
  expect_identical(trimws(grep("^fsnum", a, value = TRUE), "right"), trimws(grep("^fsnum", b, value = TRUE), "right"))
})
