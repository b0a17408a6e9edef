# to.wide() against metafor

test_that("to.wide() matches metafor (names, numbers, ref, postfix, single-arm studies, factors)", {
  skip_if_not_installed("metafor")
  d <- data.frame(study = c(1, 1, 2, 2, 2, 3, 4, 4), trt = c("A", "B", "A", "B", "C", "B", "C", "Aa"),
                  xi = c(5, 8, 3, 6, 9, 4, 2, 7), ni = c(50, 50, 40, 40, 40, 30, 20, 20), yr = c(1, 1, 2, 2, 2, 3, 4, 4))
  both <- function(...) expect_equal(to.wide(...), metafor::to.wide(...))
  both(d, study = "study", grp = "trt", ref = "A", grpvars = c("xi", "ni"))
  both(d, study = "study", grp = "trt", ref = "B", grpvars = 3:4, postfix = c("_t", "_c"), minlen = 1)
  both(d, study = 1, grp = 2, grpvars = "xi")
  both(d, study = "st", grp = "trt", grpvars = c("xi", "ni"), addid = FALSE, adddesign = FALSE,
       var.names = c("a", "b", "c"))
  dat <- esc_metadat("dat.senn2013")
  both(dat, study = "study", grp = "treatment", ref = "placebo", grpvars = c("mi", "sdi", "ni"))
  dat$treatment <- factor(dat$treatment)
  both(dat, study = "study", grp = "treatment", ref = "placebo", grpvars = c("treatment", "mi", "sdi", "ni"))
})

test_that("to.wide(): bad input gives errors naming the argument", {
  d <- data.frame(study = c(1, 1), trt = c("A", "B"), xi = 1:2)
  expect_error(to.wide(d, study = "nope", grp = "trt", grpvars = "xi"), "study.*nope")
  expect_error(to.wide(d, study = "study", grp = 9, grpvars = "xi"), "grp.*9")
  expect_error(to.wide(d, study = "study", grp = "trt", grpvars = "zz"), "grpvars.*zz")
  expect_error(to.wide(d, study = "study", grp = "trt", ref = "Q", grpvars = "xi"), "'Q'")
  expect_error(to.wide(d, study = "study", grp = "trt"), "grpvars")
  d$study[1] <- NA
  expect_error(to.wide(d, study = "study", grp = "trt", grpvars = "xi"), "study.*missing")
})
