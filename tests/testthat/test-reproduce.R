# reproduce_review(): every estimate against metafor on the same data.

res <- reproduce_review(verbose = FALSE)

mf_escalc_sim <- function() {
  d <- dat.terpstra2022_sim
  metafor::escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                  m2i = m2i, sd2i = sd2i, n2i = n_control_split, data = d)
}

test_that("reproduce_review returns the documented columns", {
  expect_s3_class(res, "data.frame")
  expect_identical(names(res), c("analysis", "outcome", "comparison", "k", "trials", "n", "estimate",
                                 "ci.lb", "ci.ub", "pval", "pi.lb", "pi.ub", "tau2", "I2", "I2.between",
                                 "I2.within", "published", "published.lb", "published.ub", "flag", "note",
                                 "data"))
  expect_setequal(unique(res$data), c("simulated", "real"))
  expect_true(all(c("main", "outliers_removed") %in% res$analysis))
  expect_true(any(grepl("^subgroup: length", res$analysis)))
  expect_true(any(grepl("^subgroup: contact", res$analysis)))
  expect_identical(sum(res$analysis == "main" & res$data == "simulated"), 16L)
  out <- capture.output(print(res))
  expect_true(any(grepl("SIMULATED data (mirrors the design of Terpstra et al. 2022", out, fixed = TRUE)))
  expect_true(any(grepl("Real data", out)))
  expect_output(reproduce_review(real = FALSE), "Published: Terpstra et al. 2022")
})

test_that("main estimates equal metafor::rma on metafor::escalc data", {
  skip_if_not_installed("metafor")
  es <- mf_escalc_sim()
  main <- res[res$analysis == "main" & res$data == "simulated", ]
  for (j in seq_len(nrow(main))) {
    s <- es[es$outcome == main$outcome[j] & es$control == main$comparison[j], ]
    f <- metafor::rma(yi, vi, data = s, method = "REML", control = metafor_tight)
    expect_identical(main$k[j], f$k)
    expect_equal(main$estimate[j], c(f$beta), tolerance = tol_iter)
    expect_equal(main$ci.lb[j], f$ci.lb, tolerance = tol_iter)
    expect_equal(main$ci.ub[j], f$ci.ub, tolerance = tol_iter)
    expect_equal(main$I2[j], f$I2, tolerance = tol_iter)
    expect_equal(main$tau2[j], f$tau2, tolerance = tol_iter)
    expect_equal(main$pval[j], f$pval, tolerance = tol_iter)
    pr <- predict(f)
    expect_equal(c(main$pi.lb[j], main$pi.ub[j]), c(pr$pi.lb, pr$pi.ub), tolerance = tol_iter)
    expect_identical(main$trials[j], length(unique(s$trial)))
    # participants: every arm once plus its share of the (split) control group
    expect_identical(main$n[j], sum(s$n1i + s$n_control_split))
  }
})

test_that("shared controls are split before pooling (not the full control n)", {
  skip_if_not_installed("metafor")
  d <- dat.terpstra2022_sim
  s <- d[d$outcome == "depression" & d$control == "passive", ]
  full <- metafor::rma(metafor::escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                                       m2i = m2i, sd2i = sd2i, n2i = n2i, data = s),
                       method = "REML", control = metafor_tight)
  r <- res[res$analysis == "main" & res$outcome == "depression" & res$comparison == "passive", ]
  expect_gt(abs(r$ci.ub - r$ci.lb - (full$ci.ub - full$ci.lb)), 1e-6)
})

test_that("outlier removal follows the non-overlapping CI rule (vs metafor)", {
  skip_if_not_installed("metafor")
  es <- mf_escalc_sim()
  sens <- res[res$analysis == "outliers_removed" & res$data == "simulated", ]
  expect_true("pain interference" %in% sens$outcome[sens$comparison == "active"])
  n_main <- 0L
  for (ctl in c("passive", "active")) for (o in unique(es$outcome)) {
    s <- es[es$outcome == o & es$control == ctl, ]
    f <- metafor::rma(yi, vi, data = s, method = "REML", control = metafor_tight)
    lo <- s$yi - qnorm(0.975) * sqrt(s$vi); hi <- s$yi + qnorm(0.975) * sqrt(s$vi)
    out <- hi < f$ci.lb | lo > f$ci.ub
    r <- sens[sens$outcome == o & sens$comparison == ctl, ]
    if (!any(out) && !(ctl == "active" && o == "pain interference")) {
      expect_identical(nrow(r), 0L)
      next
    }
    n_main <- n_main + 1L
    f2 <- metafor::rma(yi, vi, data = s[!out, ], method = "REML", control = metafor_tight)
    expect_identical(r$k, f2$k)
    expect_equal(r$estimate, c(f2$beta), tolerance = tol_iter)
    expect_equal(c(r$ci.lb, r$ci.ub), c(f2$ci.lb, f2$ci.ub), tolerance = tol_iter)
  }
  expect_identical(n_main, nrow(sens))
  # the planted active-control outliers make the difference the review reported
  ai <- res[res$outcome == "pain interference" & res$comparison == "active", ]
  expect_lt(ai$ci.lb[ai$analysis == "main"], 0)
  expect_gt(ai$ci.lb[ai$analysis == "outliers_removed"], 0)
})

test_that("subgroup rows are each group's own fit; moderator tests equal metafor", {
  skip_if_not_installed("metafor")
  es <- mf_escalc_sim()
  es$length <- ifelse(es$weeks > 8, "longer (> 8 weeks)", "shorter (<= 8 weeks)")
  mt <- attr(res, "moderator_tests")
  for (o in c("anxiety", "quality of life", "pain self-efficacy")) {
    s <- es[es$outcome == o & es$control == "passive", ]
    for (mod in c("length", "contact")) {
      s$grp <- factor(s[[mod]])
      s <- s[s$grp %in% names(which(table(s$grp) >= 2)), ]
      s$grp <- droplevels(s$grp)
      f1 <- metafor::rma(yi, vi, mods = ~ grp, data = s, method = "REML", control = metafor_tight)
      for (lv in levels(s$grp)) {
        r <- res[res$analysis == paste0("subgroup: ", mod, " = ", lv) & res$outcome == o, ]
        expect_identical(nrow(r), 1L)
        fg <- metafor::rma(yi, vi, data = s[s$grp == lv, ], method = "REML", control = metafor_tight)
        expect_equal(c(r$estimate, r$ci.lb, r$ci.ub, r$tau2, r$I2),
                     c(c(fg$beta), fg$ci.lb, fg$ci.ub, fg$tau2, fg$I2), tolerance = tol_iter)
        expect_identical(r$k, sum(s$grp == lv))
      }
      m <- mt[mt$outcome == o & mt$moderator == mod, ]
      # Q-between: the subgroup estimates pooled with an equal-effects model (Borenstein ch. 19)
      fs <- lapply(levels(s$grp), function(lv)
        metafor::rma(yi, vi, data = s[s$grp == lv, ], method = "REML", control = metafor_tight))
      qb <- metafor::rma(yi = sapply(fs, function(f) c(f$beta)), sei = sapply(fs, function(f) f$se), method = "EE")
      expect_equal(c(m$Qb, m$Qb.p), c(qb$QE, qb$QEp), tolerance = tol_iter)
      expect_identical(m$Qb.df, nlevels(s$grp) - 1L)
      expect_equal(c(m$QM, m$pval, m$QE, m$QEp, m$tau2, m$I2),
                   c(f1$QM, f1$QMp, f1$QE, f1$QEp, f1$tau2, f1$I2), tolerance = tol_iter)
      expect_identical(m$df, as.integer(f1$QMdf[1]))
      expect_identical(m$QEdf, as.integer(f1$k - f1$p))
    }
  }
  # the moderator effects the simulation planted are named as planted, the others not
  planted <- paste(mt$outcome, mt$moderator)[mt$planted]
  expect_setequal(planted, c("anxiety length", "quality of life length", "pain self-efficacy contact"))
  out <- capture.output(print(res))
  expect_true(any(grepl("PLANTED", out)))
  expect_true(any(grepl("The simulation planted exactly these", out)))
})

test_that("domain rows: vcalc + three-level model + CR2 equal metafor and clubSandwich", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  es <- mf_escalc_sim()
  es$esid <- seq_len(nrow(es))
  dom <- res[res$analysis == "domain: multilevel + RVE", ]
  expect_identical(nrow(dom), 6L)
  for (j in seq_len(nrow(dom))) {
    s <- es[es$domain == sub(" outcomes$", "", dom$outcome[j]) & es$control == dom$comparison[j], ]
    V <- metafor::vcalc(vi, cluster = trial, subgroup = study, obs = outcome, rho = 0.6, data = s)
    f <- metafor::rma.mv(yi, V, random = ~ 1 | trial / esid, data = s,
                         control = list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000))
    r <- metafor::robust(f, cluster = s$trial, clubSandwich = TRUE)
    expect_identical(dom$k[j], f$k)
    expect_identical(dom$trials[j], length(unique(s$trial)))
    expect_equal(c(dom$estimate[j], dom$ci.lb[j], dom$ci.ub[j], dom$pval[j]),
                 c(c(r$beta), r$ci.lb, r$ci.ub, r$pval), tolerance = 1e-5)
    expect_equal(dom$tau2[j], sum(f$sigma2), tolerance = 1e-5)
    pr <- predict(f)
    expect_equal(c(dom$pi.lb[j], dom$pi.ub[j]), c(pr$pi.lb, pr$pi.ub), tolerance = 1e-5)
    # multilevel I2 (metafor's FAQ formula) from the metafor fit
    W <- diag(1 / f$vi); X <- model.matrix(f)
    P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
    vt <- (f$k - f$p) / sum(diag(P))
    expect_equal(c(dom$I2[j], dom$I2.between[j], dom$I2.within[j]),
                 100 * c(sum(f$sigma2), f$sigma2) / (sum(f$sigma2) + vt), tolerance = 1e-4)
  }
})

test_that("real rows: per-study values equal the published table", {
  src <- utils::read.csv(system.file("extdata", "interference_disability_g.csv", package = "metafast"),
                         stringsAsFactors = FALSE)
  d <- dat.gandy2022_interference
  e <- summary(escalc(measure = "GEN", yi = d$g, sei = d$se))
  # the table prints 3 decimals, computed from unrounded g and se: half a unit
  # of the last digit, plus the rounding of se carried through 1.96 se and g / se
  expect_equal(as.numeric(e$yi), src$g, tolerance = 0)
  expect_equal(sqrt(as.numeric(e$vi)), src$se, tolerance = 1e-12)
  # (g and se rounded, the CI rounded: 0.0005 + 1.96 * 0.0005 + 0.0005)
  expect_lte(max(abs(e$ci.lb - src$ci_lb)), 0.002)
  expect_lte(max(abs(e$ci.ub - src$ci_ub)), 0.002)
  expect_lte(max(abs(e$zi - src$z) / pmax(1, abs(src$z))), 0.02)
  expect_lte(max(abs(e$pval - src$p)), 0.003)
})

test_that("real rows: the dependence handled five ways, each equal to metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("clubSandwich")
  d <- dat.gandy2022_interference
  d$ctrl <- paste(d$trial, "control")
  d$row <- seq_len(nrow(d))
  real <- res[res$data == "real", ]
  pick <- function(tag) real[startsWith(real$analysis, tag), ]
  fa <- metafor::rma(yi = g, sei = se, data = d, method = "REML", control = metafor_tight)
  one <- d[!duplicated(d$trial), ]
  fb <- metafor::rma(yi = g, sei = se, data = one, method = "REML", control = metafor_tight)
  mv <- function(dd) {
    V <- metafor::vcalc(vi, cluster = trial, grp1 = study, grp2 = ctrl, data = dd)
    metafor::rma.mv(g, V, random = ~ 1 | trial / row, data = dd,
                    control = list(rel.tol = 1e-10, iter.max = 10000, eval.max = 10000))
  }
  fc <- mv(d)
  fd <- metafor::robust(fc, cluster = d$trial, clubSandwich = TRUE)
  cmp <- function(r, f, tol) expect_equal(c(r$estimate, r$ci.lb, r$ci.ub, r$pval),
                                          c(c(f$beta), f$ci.lb, f$ci.ub, f$pval), tolerance = tol)
  cmp(pick("(a) all rows"), fa, tol_iter)
  cmp(pick("(b)"), fb, tol_iter)
  cmp(pick("(c)"), fc, 1e-5)
  cmp(pick("(d)"), fd, 1e-5)
  expect_identical(c(pick("(a) all")$k, pick("(b)")$k, pick("(c)")$k), c(23L, 20L, 23L))
  expect_identical(pick("(c)")$trials, 20L)
  expect_equal(pick("(c)")$tau2, sum(fc$sigma2), tolerance = 1e-5)
  # (e): every trial left out in turn (all its rows), as metafor refits
  lo <- attr(res, "leave_one_trial_out")
  expect_identical(lo$trial, unique(d$trial))
  for (t in unique(d$trial)) {
    f <- mv(d[d$trial != t, ])
    expect_equal(lo$estimate[lo$trial == t], c(f$beta), tolerance = 1e-5)
    expect_equal(c(lo$ci.lb[lo$trial == t], lo$ci.ub[lo$trial == t]), c(f$ci.lb, f$ci.ub), tolerance = 1e-5)
  }
  big <- lo$trial[which.max(abs(lo$estimate - c(fc$beta)))]
  cmp(pick("(e)"), mv(d[d$trial != big, ]), 1e-5)
  expect_match(pick("(e)")$note, big, fixed = TRUE)
  expect_true(all(is.na(real$published)))
  out <- capture.output(print(res))
  expect_true(any(grepl("handled five ways", out)))
  expect_true(any(grepl("Hedman-Lagerl\u00f6f", out, fixed = TRUE)))
})

test_that("published values, ranges and flags follow the abstract", {
  src <- utils::read.csv(system.file("extdata", "seed_abstract_results.csv", package = "metafast"),
                         stringsAsFactors = FALSE, na.strings = c("NA", ""))
  pt <- src[!is.na(src$es), ]
  has <- !is.na(res$published)
  expect_identical(sum(has), nrow(pt))
  for (j in seq_len(nrow(pt))) {
    r <- res[res$analysis == pt$analysis[j] & res$outcome == pt$outcome[j] &
               res$comparison == pt$comparison[j] & res$data == "simulated", ]
    expect_identical(r$published, pt$es[j])
    expect_identical(r$flag, if (pt$es[j] < r$ci.lb || pt$es[j] > r$ci.ub) "published value outside the 95% CI" else "")
  }
  # ranges: the passive-control main rows of every outcome of a domain, and the domain row
  rng <- src[is.na(src$es), ]
  doms <- c(depression = "psychological", anxiety = "psychological", distress = "psychological",
            `pain acceptance` = "psychological", `pain self-efficacy` = "psychological",
            `pain intensity` = "physical", `pain interference` = "impact", `quality of life` = "impact")
  sim <- res[res$data == "simulated", ]
  dom <- ifelse(sim$outcome %in% names(doms), doms[sim$outcome], sub(" outcomes$", "", sim$outcome))
  inr <- sim$comparison == "passive" & sim$analysis %in% c("main", "domain: multilevel + RVE")
  expect_identical(sum(!is.na(sim$published.lb)), sum(inr))
  expect_identical(sim$published.lb[inr], rng$es_low[match(dom[inr], rng$domain)])
  expect_identical(sim$published.ub[inr], rng$es_high[match(dom[inr], rng$domain)])
  out <- inr & (sim$estimate < sim$published.lb | sim$estimate > sim$published.ub)
  expect_identical(sim$flag[inr], ifelse(out[inr], "outside the published range", ""))
  expect_true(any(out))  # the shipped simulation has estimates outside the ranges: flagged
  expect_identical(attr(res, "published_ranges")$es_low, rng$es_low)
})

test_that("print: p-values as p < 0.001, flags and sections", {
  x <- res
  mt <- attr(x, "moderator_tests")
  mt$pval[1] <- 1e-6; mt$QEp[1] <- 0.0004
  attr(x, "moderator_tests") <- mt
  out <- capture.output(print(x))
  expect_false(any(grepl("0.000\\b", out) & grepl("p", out) & !grepl("0.0000", out) & grepl("= 0.000", out)))
  expect_true(any(grepl("< 0.001", out, fixed = TRUE)))
  expect_false(any(grepl("p = 0.000", out, fixed = TRUE)))
  expect_true(any(grepl("!range", out, fixed = TRUE)))
  expect_true(any(grepl("-- iCBT vs active controls --", out, fixed = TRUE)))
  expect_identical(metafast:::.review_p(c(0.0004, 0.0123, NA)), c("p < 0.001", "p = 0.012", "p = NA"))
})

test_that("csv = writes the tables; report = writes a self-contained HTML report", {
  dir <- file.path(tempdir(), "review-out")
  on.exit(unlink(dir, recursive = TRUE))
  rep <- file.path(dir, "report.html")
  skip_if_not_installed("markdown")
  r <- reproduce_review(verbose = FALSE, csv = file.path(dir, "csv"), report = rep)
  csv <- attr(r, "csv")
  expect_true(all(file.exists(csv)))
  tab <- utils::read.csv(csv[1], stringsAsFactors = FALSE, encoding = "UTF-8")
  expect_identical(names(tab), names(r))
  expect_equal(tab$estimate, r$estimate, tolerance = 1e-12)
  expect_true(any(grepl("Hedman-Lagerl\u00f6f", utils::read.csv(csv[grepl("leave_one", csv)],
                                                                 encoding = "UTF-8")$trial, fixed = TRUE)))
  expect_true(file.exists(rep))
  html <- paste(readLines(rep, encoding = "UTF-8", warn = FALSE), collapse = "\n")
  for (sec in c("Methods", "SIMULATED data", "Moderator analyses", "the dependence handled five ways",
                "Leaving out one trial", "Forest plots", "Funnel plots"))
    expect_match(html, sec, fixed = TRUE)
  expect_gt(lengths(regmatches(html, gregexpr("data:image/png;base64", html))), 20L)
  expect_false(grepl("<img src=\"/", html, fixed = TRUE))   # images embedded, not linked
  expect_error(reproduce_review(verbose = FALSE, report = file.path(dir, "report.pdf")), "'report'.*\\.html")
  expect_error(reproduce_review(verbose = FALSE, csv = 1), "'csv'")
})

test_that("user data are labelled as such and bad input is refused", {
  d <- as.data.frame(dat.terpstra2022_sim)
  attr(d, "simulated") <- NULL
  r <- reproduce_review(data = d, real = FALSE, verbose = FALSE)
  expect_true(all(r$data == "user"))
  # user data (e.g. the review's own) are compared with the published values too
  expect_identical(r$published, res$published[res$data == "simulated"])
  expect_identical(r$flag, res$flag[res$data == "simulated"])
  expect_equal(r$estimate, res$estimate[res$data == "simulated"], tolerance = 1e-12)
  expect_error(reproduce_review(data = d[, -1], verbose = FALSE), "'trial'")
  expect_error(reproduce_review(data = 1, verbose = FALSE), "data frame")
  expect_identical(d, {x <- as.data.frame(dat.terpstra2022_sim); attr(x, "simulated") <- NULL; x})
})

test_that("forest plots are written to 'path'", {
  skip_if_not(exists("forest", envir = asNamespace("metafast"), inherits = FALSE),
              "forest() not in this build")
  dir <- file.path(tempdir(), "review-forest")
  on.exit(unlink(dir, recursive = TRUE))
  r <- reproduce_review(path = dir, verbose = FALSE)
  files <- attr(r, "files")
  # a forest plot per outcome and control (16), per moderator effect the
  # review reported (3), of the real rows (1); a funnel plot per analysis with k >= 10
  es <- mf_escalc_sim()
  kk <- table(es$outcome, es$control)
  expect_identical(length(files), 16L + 3L + 1L + sum(kk >= 10))
  expect_identical(sum(grepl("_by_", files)), 3L)
  expect_true(all(file.exists(files)))
  expect_true(all(file.size(files) > 0))
})
