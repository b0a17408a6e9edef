# Datasets of the review reproduction: dat.terpstra2022_sim (SIMULATED),
# dat.gandy2022_interference (real), dat.terpstra2022_abstract (published).

sim_participants <- function(d) {
  # each trial: every intervention arm once + its (one) control group once
  sum(vapply(split(d, d$trial), function(t) {
    arms <- t[!duplicated(t$comparison), ]
    sum(arms$n1i) + t$n2i[1]
  }, numeric(1)))
}

test_that("simulated data: 33 trials and 5133 participants, each counted once", {
  d <- dat.terpstra2022_sim
  expect_true(isTRUE(attr(d, "simulated")))
  expect_identical(length(unique(d$trial)), 33L)
  # one control group per trial
  expect_true(all(tapply(d$n2i, d$trial, function(x) length(unique(x))) == 1L))
  expect_identical(sim_participants(d), 5133)
  # the split control ns also add up to the same total
  tot <- sum(vapply(split(d, d$trial), function(t) {
    o <- t[t$outcome == t$outcome[1], ]
    sum(o$n1i) + sum(o$n_control_split)
  }, numeric(1)))
  expect_identical(tot, 5133)
})

test_that("simulated data has the documented columns and design", {
  d <- dat.terpstra2022_sim
  expect_identical(names(d), c("trial", "study", "comparison", "control", "control_type",
                               "outcome", "domain", "weeks", "contact", "m1i", "sd1i", "n1i",
                               "m2i", "sd2i", "n2i", "shared_control", "n_control_split"))
  expect_setequal(unique(d$control), c("passive", "active"))
  expect_true(all(d$control_type[d$control == "passive"] %in% c("waitlist", "usual care")))
  expect_setequal(unique(d$contact), c("asynchronous", "mixed", "synchronous"))
  expect_setequal(unique(d$domain), c("psychological", "physical", "impact"))
  expect_setequal(unique(d$outcome), c("depression", "anxiety", "distress", "pain acceptance",
                                       "pain self-efficacy", "pain intensity",
                                       "pain interference", "quality of life"))
  # not every trial reports every outcome
  expect_lt(nrow(unique(d[c("trial", "outcome")])), 33 * 8)
  # shared_control exactly where a trial has several comparisons
  ncomp <- tapply(d$comparison, d$trial, function(x) length(unique(x)))
  expect_identical(d$shared_control, as.vector(ncomp[as.character(d$trial)] > 1))
  expect_gte(sum(ncomp > 1), 2)
  expect_true(all(d$sd1i > 0 & d$sd2i > 0 & d$n1i >= 2 & d$n2i >= 2))
  expect_false(anyDuplicated(d[c("trial", "comparison", "outcome")]) > 0)
})

test_that("simulate_review(2022) is exactly the shipped object and keeps the RNG state", {
  set.seed(1)
  before <- .Random.seed
  s <- simulate_review(2022)
  expect_identical(.Random.seed, before)
  expect_identical(s, dat.terpstra2022_sim)
  expect_identical(simulate_review(), dat.terpstra2022_sim)
  expect_false(identical(simulate_review(1), dat.terpstra2022_sim))
  expect_error(simulate_review("a"), "seed")
})

test_that("split_shared_control splits so that the parts sum to the control n", {
  d <- dat.terpstra2022_sim
  ds <- d[d$shared_control, ]
  groups <- split(ds, interaction(ds$trial, ds$outcome, drop = TRUE))
  expect_gt(length(groups), 5L)
  for (g in groups) {
    expect_identical(sum(g$n_control_split), g$n2i[1])
    expect_lte(diff(range(g$n_control_split)), 1L)
    expect_gt(nrow(g), 1L)
  }
  expect_identical(d$n_control_split[!d$shared_control], d$n2i[!d$shared_control])

  x <- data.frame(trial = c(1, 1, 1, 2, 3, 3), n2i = c(61, 61, 61, 40, 9, 9),
                  sh = c(TRUE, TRUE, TRUE, FALSE, TRUE, TRUE))
  r <- split_shared_control(x, trial, n2i, shared = "sh")
  expect_identical(r$n_control_split, c(21L, 20L, 20L, 40L, 5L, 4L))
  expect_identical(r[names(x)], x)                      # input columns untouched
  col <- "trial"
  expect_identical(split_shared_control(x, col, "n2i", shared = "sh")$n_control_split,
                   r$n_control_split)
  # without 'shared', every multi-row group is split
  expect_identical(split_shared_control(x[-4, ], "trial", "n2i")$n_control_split,
                   c(21L, 20L, 20L, 5L, 4L))
  bad <- x; bad$n2i[2] <- 60
  expect_error(split_shared_control(bad, "trial", "n2i", shared = "sh"), "rows 1, 2, 3")
  tiny <- data.frame(trial = c(1, 1, 1), n2i = c(2, 2, 2))
  expect_error(split_shared_control(tiny, "trial", "n2i"), "cannot be split")
  expect_error(split_shared_control(x, "trial", "nope"), "'nope' not found")
  expect_error(split_shared_control(1:3), "data frame")
})

test_that("real interference data match the shipped source CSV", {
  src <- utils::read.csv(system.file("extdata", "interference_disability_g.csv", package = "metafast"),
                         stringsAsFactors = FALSE)
  d <- dat.gandy2022_interference
  expect_identical(names(d), c("study", "author", "year", "g", "se", "vi", "ci.lb", "ci.ub",
                               "z", "p", "trial", "shared_control", "comparison"))
  expect_identical(nrow(d), 23L)
  # the source drops the o-umlaut of Hedman-Lagerl\u00f6f; the dataset restores it (UTF-8)
  expect_identical(d$study, sub("Hedman-Lagerlof", "Hedman-Lagerl\u00f6f", src$study, fixed = TRUE))
  expect_identical(d$author[18], "Hedman-Lagerl\u00f6f")
  expect_identical(Encoding(d$study[18]), "UTF-8")
  expect_identical(d$g, src$g)
  expect_identical(d$se, src$se)
  expect_identical(d$ci.lb, src$ci_lb)
  expect_identical(d$ci.ub, src$ci_ub)
  expect_identical(d$z, src$z)
  expect_identical(d$p, src$p)
  expect_equal(d$vi, d$se^2, tolerance = 1e-15)
  expect_true(all(abs(d$vi - src$var) <= 0.0005 + 0.001 * d$se))
  expect_identical(d$study[1], "Baumeister, 2021")
  expect_identical(d$study[23], "Menga, 2014")
  expect_identical(sum(d$trial == "Dear 2015"), 3L)
  expect_identical(sum(d$trial == "Lin 2017"), 2L)
  expect_identical(d$study[d$shared_control],
                   c("Dear, 2015a", "Dear, 2015b", "Dear, 2015c", "Lin, 2017a", "Lin, 2017b"))
  expect_identical(length(unique(d$trial)), 20L)
})

test_that("abstract results equal the shipped seed CSV", {
  src <- utils::read.csv(system.file("extdata", "seed_abstract_results.csv", package = "metafast"),
                         stringsAsFactors = FALSE, na.strings = c("NA", ""))
  d <- dat.terpstra2022_abstract
  expect_identical(names(d), names(src))
  for (nm in setdiff(names(src), "note")) expect_identical(d[[nm]], src[[nm]])
  expect_identical(d$es[d$outcome == "distress"], 0.40)
  expect_identical(d$es[d$outcome == "pain acceptance"], 0.15)
  expect_identical(d$es[d$analysis == "outliers_removed"], 0.30)
})
