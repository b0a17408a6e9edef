# In-process fuzz (tests/fuzz/fuzz_lib.R): random garbage at every exported
# function and the methods for fitted models.  Every call must return or
# raise an R error that says what is wrong.  The child-process harness that
# also catches crashes is tests/fuzz/fuzz.R (METAFAST_FUZZ_ITER=2000).

fuzz_lib <- function() {
  f <- testthat::test_path("..", "fuzz", "fuzz_lib.R")
  if (!file.exists(f)) testthat::skip("tests/fuzz/fuzz_lib.R not found")
  e <- new.env()
  sys.source(f, envir = e)
  e
}

# Findings reported to the owners of those files and not fixed yet: each
# entry is c(function, message pattern).  Remove an entry when it is fixed.
fuzz_known <- list(
  # (empty: the findings listed here until 2026-12-03 -- forest(slab = <data
  # frame or function>), reproduce_review(verbose = <empty>), update(fit,
  # formula. = ~ undefined) -- are fixed and tested in test-fidelity-fixes.R)
)
fuzz_is_known <- function(f) {
  fun <- sub("\\(.*", "", f$call)
  any(vapply(fuzz_known, function(k) k[1L] == fun && grepl(k[2L], f$kind, fixed = TRUE), NA))
}

fuzz_check <- function(n, seed) {
  lib <- fuzz_lib()
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  res <- lib$fuzz_batch(seed = seed, n = n)
  expect_equal(res$n, n)
  new <- Filter(Negate(fuzz_is_known), res$findings)
  expect_equal(length(new), 0L,
               label = paste(c("new fuzz findings:", vapply(new, function(f) paste(f$kind, f$call), "")),
                             collapse = "\n"))
}

test_that("200 random calls: only informative R errors", {
  fuzz_check(200L, seed = 1L)
})

test_that("5000 random calls: only informative R errors", {
  skip_unless_level(3)
  fuzz_check(5000L, seed = 2L)
})
