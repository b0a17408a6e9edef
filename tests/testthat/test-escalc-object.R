# escalc(): metafor's arguments fi, mini, maxi, flip, correct, cutoff, and the
# escalc object (attributes through `[`, `$<-`, rbind, cbind, a second
# escalc() call, summary()) against metafor::escalc() (always called fully
# qualified).

getdat <- function(name) {
  skip_if_not_installed("metadat")
  e <- new.env()
  utils::data(list = name, package = "metadat", envir = e)
  e[[name]]
}

# the attributes metafor's code reads, on the yi column and on the data frame
col_attrs <- function(x, nm = "yi") {
  a <- attributes(x[[nm]])[c("ni", "slab", "measure")]
  a$ni <- if (!is.null(a$ni)) as.numeric(a$ni)
  a
}
df_attrs <- function(x) {
  nms <- c("yi.names", "vi.names", "sei.names", "zi.names", "pval.names",
           "ci.lb.names", "ci.ub.names")
  lapply(stats::setNames(nms, nms), function(a) attr(x, a))
}
plain <- function(x) {
  x <- as.data.frame(unclass(x), stringsAsFactors = FALSE)
  for (nm in names(x)) x[[nm]] <- as.vector(x[[nm]])
  rownames(x) <- NULL
  x
}
expect_same_escalc <- function(a, b, tolerance = tol_closed) {
  expect_equal(plain(a), plain(b), tolerance = tolerance)
  for (nm in intersect(attr(b, "yi.names"), names(b)))
    expect_equal(col_attrs(a, nm), col_attrs(b, nm), tolerance = tolerance)
  expect_identical(df_attrs(a), df_attrs(b))
}

test_that("escalc() has metafor's formals, in metafor's order", {
  skip_if_not_installed("metafor")
  expect_identical(names(formals(escalc)), names(formals(metafor::escalc)))
  mf <- formals(metafor::escalc)
  for (a in c("add", "to", "drop00", "vtype", "correct", "var.names", "add.measure",
              "append", "replace"))
    expect_identical(formals(escalc)[[a]], mf[[a]], info = a)
})

test_that("metafor's measures that metafast does not compute give an error naming them", {
  skip_if_not_installed("metafor")
  # (IRR and RTET, which these lines used, are computed now; see
  # test-escalc-measures-rates-tet.R)
  # (R2F and POMPMN, which these lines used, are computed now; see
  # test-escalc-measures-cor.R and -single.R)
  expect_error(escalc("HD", ai = 1, bi = 2, ci = 3, di = 4), "'HD'.*not supported")
  expect_error(escalc("HR", ai = 1, bi = 2, ci = 3, di = 4), "'HR'.*not supported")
  expect_error(escalc("XYZ", ai = 1, bi = 1, ci = 1, di = 1), "unknown measure 'XYZ'")
})

test_that("metafor's onlyo1, addyi and addvi (via ...) match metafor", {
  skip_if_not_installed("metafor")
  nw <- getdat("dat.nielweise2007")
  nw <- rbind(nw, nw[1, ])
  nw$ai[nrow(nw)] <- 0; nw$ci[nrow(nw)] <- 0
  for (m in c("OR", "RR", "RD", "PETO", "AS")) {
    vts <- switch(m, RD = c("LS", "UB", "AV", "H0"), OR = , RR = c("LS", "AV", "H0"), "LS")
    for (vt in vts) for (to in c("only0", "all")) {
      for (args in list(list(onlyo1 = TRUE), list(addyi = FALSE), list(addvi = FALSE),
                        list(addyi = FALSE, addvi = FALSE), list(onlyo1 = TRUE, addvi = FALSE))) {
        a <- suppressWarnings(do.call(escalc, c(list(m, ai = quote(ai), n1i = quote(n1i), ci = quote(ci),
                                                      n2i = quote(n2i), data = nw, vtype = vt, to = to), args)))
        b <- suppressWarnings(do.call(metafor::escalc, c(list(m, ai = quote(ai), n1i = quote(n1i), ci = quote(ci),
                                                               n2i = quote(n2i), data = nw, vtype = vt, to = to),
                                                          args)))
        expect_same_escalc(a, b)
      }
    }
  }
  pr <- data.frame(xi = c(0, 3, 10, 25), ni = c(20, 30, 40, 25))
  for (m in c("PR", "PLN", "PLO", "PAS", "PFT")) {
    vts <- switch(m, PR = c("LS", "UB", "AV"), PLN = , PLO = c("LS", "AV"), "LS")
    for (vt in vts) for (args in list(list(addyi = FALSE), list(addvi = FALSE), list(addyi = FALSE, addvi = FALSE))) {
      a <- suppressWarnings(do.call(escalc, c(list(m, xi = quote(xi), ni = quote(ni), data = pr, vtype = vt, add = 0.5),
                                              args)))
      b <- suppressWarnings(do.call(metafor::escalc, c(list(m, xi = quote(xi), ni = quote(ni), data = pr, vtype = vt,
                                                            add = 0.5), args)))
      expect_same_escalc(a, b)
    }
  }
  expect_error(escalc("OR", ai = 1, bi = 1, ci = 1, di = 1, addyi = "no"), "'addyi'")
  expect_warning(escalc("OR", ai = 1, bi = 1, ci = 1, di = 1, foo = 1), "'foo'.*disregarded")
})

test_that("flip matches metafor (logical, per row, numeric, with subset and include)", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  fl <- rep(c(TRUE, FALSE, NA), length.out = nrow(bcg))
  for (args in list(list(flip = TRUE), list(flip = fl), list(flip = quote(ifelse(year > 1960, -2, 1))),
                    list(flip = fl, subset = 3:10), list(flip = fl, include = 1:6),
                    list(flip = quote(year > 1970)))) {
    a <- do.call(escalc, c(list("OR", ai = quote(tpos), bi = quote(tneg), ci = quote(cpos),
                                di = quote(cneg), data = bcg), args))
    b <- do.call(metafor::escalc, c(list("OR", ai = quote(tpos), bi = quote(tneg), ci = quote(cpos),
                                         di = quote(cneg), data = bcg), args))
    expect_same_escalc(a, b)
  }
  a <- escalc(yi = yi, vi = vi, data = data.frame(yi = c(1, -2), vi = c(.1, .2)), flip = c(TRUE, FALSE))
  expect_equal(c(a$yi), c(-1, -2))
  expect_error(escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, flip = c(TRUE, FALSE)),
               "'flip'")
  # a single number is not recycled (metafor: an error too)
  expect_error(escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, flip = -1), "'flip'")
  expect_error(metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, flip = -1))
  expect_error(escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, flip = "yes"), "'flip'")
})

test_that("correct matches metafor for SMD, SMDH, SMCC, SMCR and ROM", {
  skip_if_not_installed("metafor")
  nd <- getdat("dat.normand1999")
  for (m in c("SMD", "SMDH")) for (cr in list(TRUE, FALSE, "approx", "ex", "exact")) {
    a <- suppressWarnings(escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                                 n2i = n2i, data = nd, correct = cr))
    b <- suppressWarnings(metafor::escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i,
                                          sd2i = sd2i, n2i = n2i, data = nd, correct = cr))
    expect_same_escalc(a, b)
  }
  pp <- data.frame(m1i = c(0.5, 1.2, -0.3, 2.0), m2i = c(0.1, 0.4, 0.2, 0.9),
                   sd1i = c(1, 1.5, 0.8, 2.2), sd2i = c(1.1, 1.3, 0.9, 2), ni = c(20, 35, 8, 60),
                   ri = c(0.5, 0.7, 0.2, 0.85))
  for (m in c("SMCC", "SMCR")) for (cr in list(TRUE, FALSE, "approx")) {
    a <- escalc(m, m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni, ri = ri, data = pp, correct = cr)
    b <- metafor::escalc(m, m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni, ri = ri, data = pp,
                         correct = cr)
    expect_same_escalc(a, b)
  }
  cu <- getdat("dat.curtis1998")
  for (cr in c(TRUE, FALSE)) {
    a <- escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = cu,
                correct = cr)
    b <- metafor::escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                         data = cu, correct = cr)
    expect_same_escalc(a, b)
  }
  expect_error(escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                      data = cu, correct = "approx"), "'correct'.*ROM")
  expect_error(escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                      data = nd, correct = "foo"), "'correct'")
  expect_error(escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                      data = nd, correct = NA), "'correct'")
})

test_that("cutoff: metafor's warning about unusually large outcomes", {
  skip_if_not_installed("metafor")
  d <- data.frame(m1i = c(10, 1.3, 7.77), m2i = c(1, 1, 1), sd1i = 1, sd2i = 1, n1i = 10, n2i = 10)
  # default: |SMD| > 2 warns (once for the same outcomes), as metafor
  expect_warning(a <- escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                             n2i = n2i, data = d), "SMD values are unusually large.*abs\\(yi\\) > 2")
  expect_warning(b <- metafor::escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                                      n2i = n2i, data = d), "unusually large")
  expect_same_escalc(a, b)
  expect_no_warning(escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                           n2i = n2i, data = d))
  d$m1i[3] <- 7.78
  expect_no_warning(escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                           n2i = n2i, data = d, cutoff = NA))
  expect_no_warning(escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                           n2i = n2i, data = d, cutoff = 100))
  expect_warning(escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                        n2i = n2i, data = d, cutoff = -5), "MD values are unusually large.*> 5")
  expect_no_warning(escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                           n2i = n2i, data = d))
  expect_error(escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                      n2i = n2i, data = d, cutoff = c(1, 2)), "'cutoff'")
  expect_error(escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i,
                      n2i = n2i, data = d, cutoff = "a"), "'cutoff'")
})

test_that("POMPMD and POMPMC (mini, maxi) match metafor", {
  skip_if_not_installed("metafor")
  d <- data.frame(m1i = c(12, 20, 31), m2i = c(10, 22, 25), sd1i = c(4, 5, 6), sd2i = c(4.5, 5, 7),
                  n1i = c(20, 30, 40), n2i = c(22, 28, 41), ni = c(20, 30, 40), ri = c(.5, .6, .7),
                  lo = c(0, 0, 10), hi = c(40, 50, 60))
  for (vt in c("LS", "UB", "HO")) {
    a <- escalc("POMPMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i,
                mini = lo, maxi = hi, data = d, vtype = vt)
    b <- metafor::escalc("POMPMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i,
                         mini = lo, maxi = hi, data = d, vtype = vt)
    expect_same_escalc(a, b)
  }
  a <- escalc("POMPMC", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni, ri = ri,
              mini = lo, maxi = hi, data = d)
  b <- metafor::escalc("POMPMC", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ni = ni, ri = ri,
                       mini = lo, maxi = hi, data = d)
  expect_same_escalc(a, b)
  expect_error(escalc("POMPMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i,
                      data = d), "mini, maxi")
  # fi is accepted (and ignored) by the measures metafast computes, as in metafor
  a <- escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i, fi = 3, data = d)
  b <- metafor::escalc("MD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i, fi = 3,
                       data = d)
  expect_same_escalc(a, b)
})

test_that("given yi are taken as the outcomes of the named measure, as in metafor", {
  skip_if_not_installed("metafor")
  d <- data.frame(yi = c(.1, .2, 2.5), vi = c(.01, .02, .03), n = c(10, 20, 30))
  a <- suppressWarnings(escalc("SMD", yi = yi, vi = vi, ni = n, data = d))
  b <- suppressWarnings(metafor::escalc("SMD", yi = yi, vi = vi, ni = n, data = d))
  expect_same_escalc(a, b)
  expect_identical(attr(a$yi, "measure"), "SMD")
})

test_that("attributes survive `[` (rows, columns, both, an expression in the columns)", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a0 <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  b0 <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                        slab = paste(author, year))
  expect_same_escalc(a0, b0)
  expect_same_escalc(a0[2:5, ], b0[2:5, ])
  expect_same_escalc(a0[-1, ], b0[-1, ])
  expect_same_escalc(a0[c("yi", "vi")], b0[c("yi", "vi")])
  expect_same_escalc(a0[, c("author", "yi", "vi")], b0[, c("author", "yi", "vi")])
  expect_same_escalc(a0[3:1, c("yi", "vi")], b0[3:1, c("yi", "vi")])
  expect_same_escalc(a0[a0$year > 1970, ], b0[b0$year > 1970, ])
  expect_same_escalc(a0[year > 1970, ], b0[year > 1970, ])
  expect_same_escalc(a0[1:3, , drop = FALSE], b0[1:3, , drop = FALSE])
  expect_equal(a0[1:3, "yi"], b0[1:3, "yi"])
  expect_s3_class(a0[2:5, ], "mf_escalc")
  expect_identical(attr(a0[1:2, ], "digits"), attr(b0[1:2, ], "digits"))
  # $<- keeps the column-role attributes in step with the columns
  a1 <- a0; b1 <- b0
  a1$vi <- NULL; b1$vi <- NULL
  expect_identical(df_attrs(a1), df_attrs(b1))
  a1$new <- 1; b1$new <- 1
  expect_same_escalc(a1, b1)
})

test_that("attributes survive rbind() and cbind() as in metafor", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a0 <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = author)
  b0 <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = author)
  ra <- rbind(a0[1:3, ], a0[5:6, ])
  rb <- rbind(b0[1:3, ], b0[5:6, ])
  expect_same_escalc(ra, rb)
  expect_s3_class(ra, "mf_escalc")
  # repeated labels are made unique, as metafor does
  ra <- rbind(a0[1:2, ], a0[1:2, ])
  rb <- rbind(b0[1:2, ], b0[1:2, ])
  expect_same_escalc(ra, rb)
  expect_identical(attr(ra$yi, "slab"), c("Aronson.1", "Ferguson & Simes.1", "Aronson.2", "Ferguson & Simes.2"))
  ca <- cbind(a0, z = 1)
  cb <- cbind(b0, z = 1)
  expect_equal(plain(ca), plain(cb))
  expect_identical(df_attrs(ca), df_attrs(cb))
  expect_equal(col_attrs(ca), col_attrs(cb))
  expect_s3_class(ca, "mf_escalc")
})

test_that("a second escalc() on the object keeps and adds attributes as metafor", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a0 <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = paste(author, year))
  b0 <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg,
                        slab = paste(author, year))
  calls <- list(
    list(var.names = c("rr", "vrr")),
    list(var.names = c("rr", "vrr"), add.measure = TRUE),
    list(subset = 2:5),
    list(replace = FALSE, include = 1:3),
    list(replace = TRUE, include = 1:3),
    list(append = FALSE))
  for (args in calls) {
    a <- do.call(escalc, c(list("RR", ai = quote(tpos), bi = quote(tneg), ci = quote(cpos),
                                di = quote(cneg), data = a0), args))
    b <- do.call(metafor::escalc, c(list("RR", ai = quote(tpos), bi = quote(tneg), ci = quote(cpos),
                                         di = quote(cneg), data = b0), args))
    expect_same_escalc(a, b)
    for (nm in intersect(c("yi", "rr"), names(b))) expect_equal(col_attrs(a, nm), col_attrs(b, nm))
  }
  # replace = FALSE fills in only the missing outcomes
  a1 <- a0; b1 <- b0
  a1$yi[2] <- NA; b1$yi[2] <- NA
  a <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = a1, replace = FALSE)
  b <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = b1, replace = FALSE)
  expect_same_escalc(a, b)
  # summary() columns survive a second escalc()
  a <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = summary(a0), var.names = c("rr", "vrr"))
  b <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = summary(b0),
                       var.names = c("rr", "vrr"))
  expect_same_escalc(a, b)
})

test_that("summary() has metafor's arguments and columns", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a0 <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = author)
  b0 <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = author)
  calls <- list(
    list(),
    list(level = 90),
    list(H0 = -0.5),
    list(H0 = seq(-1, 1, length.out = 13)),
    list(transf = exp),
    list(transf = exp, append = FALSE),
    list(append = FALSE),
    list(out.names = c("se", "z", "p", "lo", "hi")),
    list(olim = c(-1, 0)),
    list(transf = exp, olim = c(0, 1)),
    list(transf = function(x) -x),
    list(transf = function(x, scale) x * scale, scale = 2),
    list(digits = 2),
    list(digits = c(est = 2, ci = 3)))
  for (args in calls) {
    a <- do.call(summary, c(list(a0), args))
    b <- do.call(summary, c(list(b0), args))
    expect_same_escalc(a, b)
    expect_identical(attr(a, "digits"), attr(b, "digits"))
  }
  # var.names: another pair of columns
  a1 <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = a0, var.names = c("or", "vor"))
  b1 <- metafor::escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = b0, var.names = c("or", "vor"))
  expect_same_escalc(summary(a1), summary(b1))
  expect_same_escalc(summary(a1, var.names = c("yi", "vi")), summary(b1, var.names = c("yi", "vi")))
  # replace = FALSE keeps existing values of these columns where not missing
  a2 <- summary(a0); b2 <- summary(b0)
  a2$ci.lb[1:3] <- c(NA, 9, 9); b2$ci.lb[1:3] <- c(NA, 9, 9)
  expect_same_escalc(summary(a2, level = 50, replace = FALSE), summary(b2, level = 50, replace = FALSE))
  expect_same_escalc(summary(a2, level = 50), summary(b2, level = 50))
  expect_error(summary(a0, out.names = c("a", "b")), "'out.names'")
  expect_error(summary(a0, var.names = c("foo", "bar")), "foo")
  expect_error(summary(a0, olim = 1), "'olim'")
  expect_error(summary(a0, transf = "exp"), "'transf'")
})

test_that("print shows metafor's digits and p-values", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a0 <- summary(escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))[, c("yi", "vi", "sei",
                                                                                    "zi", "pval", "ci.lb", "ci.ub")]
  b0 <- summary(metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))[
    , c("yi", "vi", "sei", "zi", "pval", "ci.lb", "ci.ub")]
  strip <- function(z) trimws(z[nzchar(trimws(z))])
  expect_identical(strip(capture.output(print(a0))), strip(capture.output(print(b0))))
  expect_identical(strip(capture.output(print(a0, digits = 2))), strip(capture.output(print(b0, digits = 2))))
  expect_identical(strip(capture.output(print(a0, digits = c(pval = 3)))),
                   strip(capture.output(print(b0, digits = c(pval = 3)))))
})

test_that("with vi and sei both given, sei is not used (metafor): missing vi stay missing", {
  skip_if_not_installed("metafor")
  a <- escalc(yi = c(.1, .2), vi = c(NA, .1), sei = c(.3, .3))
  b <- metafor::escalc(yi = c(.1, .2), vi = c(NA, .1), sei = c(.3, .3))
  expect_same_escalc(a, b)
  expect_true(is.na(a$vi[1]))
})

test_that("aggregate() of an escalc object is metafor's aggregate.escalc, not aggregate.data.frame", {
  a <- escalc("OR", ai = c(4, 6, 3), bi = c(119, 300, 228), ci = c(11, 29, 11), di = c(128, 274, 209))
  # (the pooling itself is tested against metafor in test-aggregate-escalc.R)
  expect_error(aggregate(a, cluster = c(1, 1, 2)), "'rho'")
  ag <- aggregate(a, cluster = c(1, 1, 2), rho = 0.5)
  expect_s3_class(ag, "mf_escalc")
  expect_identical(nrow(ag), 2L)
})

test_that("base functions that index rows internally pick the right rows (columns named like their variables)", {
  skip_if_not_installed("metafor")
  bcg <- getdat("dat.bcg")
  a0 <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg, slab = author)
  a0$r <- 13:1
  a0$x <- 1
  a0$n <- 1:13
  s <- subset(a0, year > 1975)
  expect_identical(s$trial, bcg$trial[bcg$year > 1975])
  expect_identical(attr(s$yi, "slab"), attr(a0$yi, "slab")[bcg$year > 1975])
  expect_identical(nrow(unique(a0)), 13L)
  expect_identical(head(a0, 3)$trial, 1:3)
  # (metafor 5.2.1 evaluates the index in the columns first: there subset() picks
  # its rows by the column 'r', a bug not copied)
})
