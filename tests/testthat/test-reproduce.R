# reproduce_review(): every estimate against metafor on the same data.

res <- reproduce_review(verbose = FALSE)

mf_escalc_sim <- function() {
  d <- dat.terpstra2022_sim
  metafor::escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                  m2i = m2i, sd2i = sd2i, n2i = n_control_split, data = d)
}

test_that("reproduce_review returns the documented columns", {
  expect_s3_class(res, "data.frame")
  expect_identical(names(res), c("analysis", "outcome", "comparison", "k", "estimate",
                                 "ci.lb", "ci.ub", "I2", "published", "data"))
  expect_setequal(unique(res$data), c("simulated", "real"))
  expect_true(all(c("main", "outliers_removed") %in% res$analysis))
  expect_true(any(grepl("^subgroup: length", res$analysis)))
  expect_true(any(grepl("^subgroup: contact", res$analysis)))
  expect_identical(sum(res$analysis == "main" & res$data == "simulated"), 16L)
  out <- capture.output(print(res))
  expect_true(any(grepl("Simulated data (mirrors the design of Terpstra et al. 2022", out, fixed = TRUE)))
  expect_true(any(grepl("Real data", out)))
  expect_output(reproduce_review(real = FALSE), "Published ranges")
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

test_that("subgroup estimates and moderator tests equal metafor", {
  skip_if_not_installed("metafor")
  es <- mf_escalc_sim()
  es$length <- ifelse(es$weeks > 8, "longer (> 8 weeks)", "shorter (<= 8 weeks)")
  mt <- attr(res, "moderator_tests")
  for (o in c("anxiety", "quality of life", "pain self-efficacy")) {
    s <- es[es$outcome == o & es$control == "passive", ]
    for (mod in c("length", "contact")) {
      s$grp <- factor(s[[mod]])
      f0 <- metafor::rma(yi, vi, mods = ~ 0 + grp, data = s, method = "REML", control = metafor_tight)
      f1 <- metafor::rma(yi, vi, mods = ~ grp, data = s, method = "REML", control = metafor_tight)
      for (lv in levels(s$grp)) {
        r <- res[res$analysis == paste0("subgroup: ", mod, " = ", lv) & res$outcome == o, ]
        expect_identical(nrow(r), 1L)
        expect_equal(r$estimate, unname(coef(f0)[paste0("grp", lv)]), tolerance = tol_iter)
        expect_identical(r$k, sum(s$grp == lv))
      }
      m <- mt[mt$outcome == o & mt$moderator == mod, ]
      expect_equal(m$QM, f1$QM, tolerance = tol_iter)
      expect_equal(m$pval, f1$QMp, tolerance = tol_iter)
    }
  }
  # the simulated moderator effects are visible, as in the review
  p <- function(o, mod) mt$pval[mt$outcome == o & mt$moderator == mod]
  expect_lt(p("anxiety", "length"), 0.05)
  expect_lt(p("quality of life", "length"), 0.05)
  expect_lt(p("pain self-efficacy", "contact"), 0.05)
})

test_that("real-data rows equal metafor on dat.gandy2022_interference", {
  skip_if_not_installed("metafor")
  d <- dat.gandy2022_interference
  real <- res[res$data == "real", ]
  f <- metafor::rma(yi = g, sei = se, data = d, method = "REML", control = metafor_tight)
  r <- real[grepl("all 23", real$analysis), ]
  expect_identical(r$k, 23L)
  expect_equal(c(r$estimate, r$ci.lb, r$ci.ub, r$I2), c(c(f$beta), f$ci.lb, f$ci.ub, f$I2),
               tolerance = tol_iter)
  one <- d[!duplicated(d$trial), ]
  f1 <- metafor::rma(yi = g, sei = se, data = one, method = "REML", control = metafor_tight)
  r1 <- real[grepl("one comparison", real$analysis), ]
  expect_identical(r1$k, 20L)
  expect_equal(r1$estimate, c(f1$beta), tolerance = tol_iter)
  expect_true(all(is.na(real$published)))
})

test_that("published column equals the seed CSV's values", {
  src <- utils::read.csv(system.file("extdata", "seed_abstract_results.csv", package = "metafast"),
                         stringsAsFactors = FALSE, na.strings = c("NA", ""))
  pt <- src[!is.na(src$es), ]
  has <- !is.na(res$published)
  expect_identical(sum(has), nrow(pt))
  for (j in seq_len(nrow(pt))) {
    r <- res[res$analysis == pt$analysis[j] & res$outcome == pt$outcome[j] &
               res$comparison == pt$comparison[j] & res$data == "simulated", ]
    expect_identical(r$published, pt$es[j])
  }
  rng <- attr(res, "published_ranges")
  expect_identical(rng$es_low, src$es_low[is.na(src$es)])
  expect_identical(rng$es_high, src$es_high[is.na(src$es)])
})

test_that("user data are labelled as such and bad input is refused", {
  d <- as.data.frame(dat.terpstra2022_sim)
  attr(d, "simulated") <- NULL
  r <- reproduce_review(data = d, real = FALSE, verbose = FALSE)
  expect_true(all(r$data == "user"))
  expect_true(all(is.na(r$published)))
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
  expect_identical(length(files), 17L)
  expect_true(all(file.exists(files)))
  expect_true(all(file.size(files) > 0))
})
