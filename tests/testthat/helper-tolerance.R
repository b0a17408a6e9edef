# Tolerances, named by the kind of quantity they bound (see DESIGN.md).
tol_closed <- 1e-8      # closed-form results against metafor (relative)
tol_iter <- 1e-6        # iterative results against metafor (relative)
tol_published <- 5e-4   # values printed in papers to 3-4 decimals (absolute)

# Control list that makes metafor converge tightly for the comparisons.
metafor_tight <- list(threshold = 1e-12, maxiter = 1000, tol = 1e-12)

# Test tiers, as lme4's test level: 1 (default) quick, 2 grids, 3 stress.
test_level <- function() as.integer(Sys.getenv("METAFAST_TEST_LEVEL", "1"))
skip_unless_level <- function(level) {
  testthat::skip_if(test_level() < level, sprintf("METAFAST_TEST_LEVEL < %d", level))
}
