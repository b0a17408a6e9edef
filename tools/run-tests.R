# Runs the test suite against the installed metafast and ends with the line
# "N passed, N failed, N skipped" (counted from testthat's results, one count
# per expectation, as testthat's own summary counts).  Exits non-zero on any
# failure or error.  Run from the repository root:  Rscript tools/run-tests.R
# METAFAST_TEST_LEVEL=2 (grids) or 3 (stress) runs the slower tiers.
# Not a CRAN check: the tests skipped on CRAN (the SIGINT test in a child
# process, the 2-worker future plan) run here, as under devtools::test().
if (!nzchar(Sys.getenv("NOT_CRAN"))) Sys.setenv(NOT_CRAN = "true")
# Two worker processes where the machine has two cores or more (testthat's
# parallel mode: each file runs whole in one worker, the slowest first, as
# listed in DESCRIPTION's Config/testthat/start-first); one process on one
# core.  TESTTHAT_PARALLEL and TESTTHAT_CPUS set by the caller are kept.
if (!nzchar(Sys.getenv("TESTTHAT_PARALLEL"))) {
  cores <- parallel::detectCores()
  par <- is.finite(cores) && cores >= 2L
  Sys.setenv(TESTTHAT_PARALLEL = if (par) "TRUE" else "FALSE")
  if (par && !nzchar(Sys.getenv("TESTTHAT_CPUS"))) Sys.setenv(TESTTHAT_CPUS = "2")
}
suppressPackageStartupMessages({
  library(testthat)
  library(metafast)
})
testthat::set_max_fails(Inf)
res <- testthat::test_dir("tests/testthat", package = "metafast", load_package = "installed",
                          reporter = testthat::ProgressReporter$new(show_praise = FALSE),
                          stop_on_failure = FALSE, stop_on_warning = FALSE)
kinds <- unlist(lapply(res, function(t) vapply(t$results, function(e) class(e)[1L], "")))
n_pass <- sum(kinds == "expectation_success")
n_fail <- sum(kinds %in% c("expectation_failure", "expectation_error"))
n_skip <- sum(kinds == "expectation_skip")
cat(sprintf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip))
quit(status = if (n_fail > 0L || n_pass == 0L) 1L else 0L)
