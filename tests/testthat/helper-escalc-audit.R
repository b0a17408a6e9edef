# Data of the audit of every escalc() measure and vtype against metafor
# (test-escalc-audit.R): deterministic sets per kind of data (metadat
# datasets and boundary rows) and random sets with zero cells, n = 1,
# proportions of 0 and 1 and correlations near -1 and 1.

# data per measure: a list of named argument lists
audit_vtypes <- c("UB", "LS", "LS2", "LS3", "HO", "ST", "CS", "AV", "AV2", "AVHO", "H0", "H0a", "H0b", "MAX")
audit_measures <- c("RR", "OR", "PETO", "RD", "AS", "PHI", "ZPHI", "YUQ", "YUY", "RTET", "ZTET",
  "PBIT", "OR2D", "OR2DN", "OR2DL", "MPRD", "MPRR", "MPOR", "MPORC", "MPPETO",
  "MPORM", "IRR", "IRD", "IRSD", "MD", "POMPMD", "SMD", "SMDH", "SMD1", "SMD1H",
  "ROM", "VR", "CVR", "RPB", "ZPB", "RBIS", "ZBIS", "D2OR", "D2ORN", "D2ORL",
  "COR", "UCOR", "ZCOR", "PCOR", "ZPCOR", "SPCOR", "ZSPCOR", "R2", "ZR2", "R2F",
  "ZR2F", "PR", "PLN", "PLO", "PRZ", "PAS", "PFT", "IR", "IRLN", "IRS", "IRFT",
  "MN", "POMPMN", "SMN", "MNLN", "SDLN", "CVLN", "MC", "POMPMC", "SMCC", "SMCR",
  "SMCRH", "SMCRP", "SMCRPH", "CLESCN", "AUCCN", "ROMC", "VRC", "CVRC", "ARAW",
  "AHW", "ABT", "REH", "CLES", "CLESN", "AUC", "AUCN", "HR", "HD", "GEN")
audit_fam <- function(m) {
  if (m %in% c("RR", "OR", "PETO", "RD", "AS", "PHI", "ZPHI", "YUQ", "YUY", "RTET", "ZTET", "PBIT", "OR2D",
               "OR2DN", "OR2DL", "MPRD", "MPRR", "MPOR", "MPORC", "MPPETO", "MPORM", "HR", "HD")) return("tab")
  if (m %in% c("IRR", "IRD", "IRSD")) return("rate2")
  if (m %in% c("MD", "POMPMD", "SMD", "SMDH", "SMD1", "SMD1H", "ROM", "VR", "CVR", "RPB", "ZPB", "RBIS", "ZBIS",
               "D2OR", "D2ORN", "D2ORL", "CLESN", "AUCN")) return("two")
  if (m %in% c("COR", "UCOR", "ZCOR")) return("cor")
  if (m %in% c("PCOR", "ZPCOR", "SPCOR", "ZSPCOR")) return("pcor")
  if (m %in% c("R2", "ZR2", "R2F", "ZR2F")) return("r2")
  if (m %in% c("PR", "PLN", "PLO", "PRZ", "PAS", "PFT")) return("prop")
  if (m %in% c("IR", "IRLN", "IRS", "IRFT")) return("rate")
  if (m %in% c("MN", "POMPMN", "SMN", "MNLN", "SDLN", "CVLN")) return("mean")
  if (m %in% c("MC", "POMPMC", "SMCC", "SMCR", "SMCRH", "SMCRP", "SMCRPH", "CLESCN", "AUCCN", "ROMC", "VRC", "CVRC"))
    return("pp")
  if (m %in% c("ARAW", "AHW", "ABT")) return("alpha")
  if (m == "REH") return("reh")
  if (m %in% c("CLES", "AUC")) return("auc")
  "gen"
}
# deterministic data (metadat where metafor's docs use it, plus boundary rows)
audit_data <- function(fam, m) {
  b <- metadat::dat.bcg
  switch(fam,
    tab = list(list(ai = b$tpos, bi = b$tneg, ci = b$cpos, di = b$cneg, ri = rep(0.4, 13)),
               list(ai = c(0, 3, 0, 5, 10, 1), bi = c(10, 0, 0, 5, 0, 1), ci = c(0, 2, 4, 0, 10, 1),
                    di = c(9, 7, 0, 5, 1, 1), ri = c(0.2, -0.3, 0.5, 0, 0.9, -0.1))),
    rate2 = {
      h <- metadat::dat.hart1999
      list(list(x1i = h$x1i, x2i = h$x2i, t1i = h$t1i, t2i = h$t2i),
           list(x1i = c(0, 3, 0, 7), x2i = c(0, 0, 4, 1), t1i = c(10, 20, 5, 1), t2i = c(12, 3, 5, 2)))
    },
    two = {
      n <- metadat::dat.normand1999
      l <- list(list(m1i = n$m1i, sd1i = n$sd1i, n1i = n$n1i, m2i = n$m2i, sd2i = n$sd2i, n2i = n$n2i),
                list(m1i = c(1, 2, 0.5, 3, 10), sd1i = c(1, 0.5, 2, 1e-3, 4), n1i = c(2, 3, 50, 5, 1000),
                     m2i = c(2, 2, 0.2, 1, 9), sd2i = c(1.5, 0.5, 1, 2, 4), n2i = c(2, 4, 60, 2, 900)))
      if (m == "POMPMD") l <- lapply(l, function(z) c(z, list(mini = rep(0, length(z[[1]])), maxi = rep(100, length(z[[1]])))))
      l
    },
    cor = {
      mo <- metadat::dat.molloy2014
      list(list(ri = mo$ri, ni = mo$ni), list(ri = c(-0.999, 0.999, 0, 1, -1, 0.5), ni = c(10, 5, 4, 20, 30, 6)))
    },
    pcor = list(list(ri = c(0.3, -0.2, 0.6, 0.1), mi = c(2, 3, 1, 5), ni = c(50, 40, 100, 20),
                     r2i = c(0.4, 0.3, 0.5, 0.6)),
                list(ri = c(0.99, -0.99, 0), mi = c(1, 2, 3), ni = c(10, 8, 9), r2i = c(0.99, 0.995, 0.1))),
    r2 = list(list(r2i = c(0.3, 0.1, 0.6, 0.05, 0.9), mi = c(2, 3, 1, 5, 2), ni = c(50, 40, 100, 20, 30)),
              list(r2i = c(0, 0.999, 0.5), mi = c(1, 2, 3), ni = c(10, 8, 9))),
    prop = {
      p <- metadat::dat.pritz1997
      list(list(xi = p$xi, ni = p$ni), list(xi = c(0, 5, 10, 1, 0), ni = c(10, 5, 20, 1, 1)))
    },
    rate = list(list(xi = c(5, 10, 3, 20), ti = c(100, 200, 50, 1000)), list(xi = c(0, 1, 0), ti = c(10, 1, 0.5))),
    mean = {
      n <- metadat::dat.normand1999
      l <- list(list(mi = n$m1i, sdi = n$sd1i, ni = n$n1i), list(mi = c(1, 0.1, 5), sdi = c(0, 2, 0.5), ni = c(2, 3, 1000)))
      if (m == "POMPMN") l <- lapply(l, function(z) c(z, list(mini = rep(0, length(z[[1]])), maxi = rep(100, length(z[[1]])))))
      l
    },
    pp = {
      l <- list(list(m1i = c(10, 12, 8, 15), m2i = c(8, 11, 9, 10), sd1i = c(2, 3, 2.5, 4), sd2i = c(2.5, 2.8, 2, 5),
                     ri = c(0.5, 0.7, 0.3, 0.8), ni = c(20, 30, 15, 40)),
                list(m1i = c(1, 2, 3), m2i = c(1.5, 2, 1), sd1i = c(1, 1, 2), sd2i = c(1, 2, 0.5),
                     ri = c(0.99, -0.5, 0), ni = c(3, 4, 100)))
      if (m == "POMPMC") l <- lapply(l, function(z) c(z, list(mini = rep(0, length(z[[1]])), maxi = rep(100, length(z[[1]])))))
      l
    },
    alpha = {
      bo <- metadat::dat.bonett2010
      list(list(ai = bo$ai, mi = bo$mi, ni = bo$ni), list(ai = c(0, 0.99, -0.5), mi = c(2, 3, 10), ni = c(10, 5, 100)))
    },
    reh = list(list(ai = c(10, 20, 5), bi = c(40, 50, 30), ci = c(50, 30, 65)), list(ai = c(0, 1, 5), bi = c(10, 0, 0), ci = c(5, 5, 0))),
    auc = list(list(ai = c(0.6, 0.7, 0.55, 0.9), n1i = c(20, 30, 40, 10), n2i = c(25, 30, 35, 12)),
               list(ai = c(0.5, 0.99, 0.01), n1i = c(2, 3, 100), n2i = c(2, 5, 90), mi = c(0.1, 0, 0.2))),
    gen = list(list(yi = c(0.1, 0.2, -0.3), vi = c(0.01, 0.02, 0.03))))
}
# random data with zero cells, boundary values and n = 1
audit_random <- function(fam, m, seed, k = 12) {
  set.seed(seed)
  cnt <- function(n, p = 0.2) { x <- stats::rbinom(k, n, p); x[sample(k, 2)] <- 0; x }
  n1 <- sample(c(1, 2, 3, 10, 50, 300), k, TRUE)
  n2 <- sample(c(1, 2, 3, 10, 50, 300), k, TRUE)
  r <- pmin(pmax(stats::runif(k, -1, 1), -0.999), 0.999); r[1:2] <- c(0.9999, -0.9999)
  switch(fam,
    tab = { ai <- stats::rbinom(k, n1, 0.3); ci <- stats::rbinom(k, n2, 0.2); ai[1] <- 0; ci[1] <- 0; ai[2] <- n1[2]
            list(ai = ai, bi = n1 - ai, ci = ci, di = n2 - ci, ri = r * 0.5) },
    rate2 = list(x1i = cnt(20), x2i = cnt(20), t1i = stats::runif(k, 0.5, 50), t2i = stats::runif(k, 0.5, 50)),
    two = { l <- list(m1i = stats::rnorm(k, 5), m2i = stats::rnorm(k, 5), sd1i = stats::rexp(k), sd2i = stats::rexp(k),
                      n1i = n1 + 1, n2i = n2 + 1)
            if (m == "POMPMD") l <- c(l, list(mini = rep(0, k), maxi = rep(10, k))); l },
    cor = list(ri = r, ni = sample(c(4, 5, 6, 10, 100), k, TRUE)),
    pcor = list(ri = r * 0.7, mi = sample(1:4, k, TRUE), ni = sample(c(8, 10, 30, 200), k, TRUE),
                r2i = pmin(0.999, (r * 0.7)^2 + stats::runif(k, 0, 0.3))),
    r2 = list(r2i = stats::runif(k), mi = sample(1:4, k, TRUE), ni = sample(c(7, 10, 30, 200), k, TRUE)),
    prop = { xi <- stats::rbinom(k, n1, 0.3); xi[1] <- 0; xi[2] <- n1[2]; list(xi = xi, ni = n1) },
    rate = list(xi = cnt(10), ti = stats::runif(k, 0.1, 100)),
    mean = { l <- list(mi = stats::rexp(k) * 3, sdi = stats::rexp(k), ni = n1 + 1)
             if (m == "POMPMN") l <- c(l, list(mini = rep(0, k), maxi = rep(10, k))); l },
    pp = { l <- list(m1i = stats::rnorm(k, 5), m2i = stats::rnorm(k, 5), sd1i = stats::rexp(k), sd2i = stats::rexp(k),
                     ri = r, ni = n1 + 2)
           if (m == "POMPMC") l <- c(l, list(mini = rep(0, k), maxi = rep(10, k))); l },
    alpha = list(ai = stats::runif(k, -0.5, 0.99), mi = sample(2:10, k, TRUE), ni = n1 + 2),
    reh = list(ai = cnt(30, 0.3), bi = cnt(30, 0.4), ci = cnt(30, 0.3)),
    auc = list(ai = stats::runif(k, 0.01, 0.99), n1i = n1 + 1, n2i = n2 + 1),
    gen = list(yi = stats::rnorm(k), vi = stats::rexp(k)))
}
