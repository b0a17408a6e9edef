# The help pages parse as Rd.  An unescaped "%" in a roxygen comment
# starts an Rd comment and swallows a closing brace, which breaks the rest
# of the page (R CMD check warned on man/rma.Rd and man/rma.mv.Rd, "95%"
# in the level argument).  The man/ sources exist only in a source tree,
# so the test runs there (devtools::test(), tools/run-tests.R) and is
# skipped inside R CMD check, which checks the pages itself.

test_that("every man page parses without Rd errors or warnings", {
  man <- testthat::test_path("..", "..", "man")
  skip_if_not(dir.exists(man), "man/ is not available (installed tests)")
  pages <- list.files(man, pattern = "[.]Rd$", full.names = TRUE)
  expect_gt(length(pages), 20L)
  for (p in pages) {
    msgs <- character()
    withCallingHandlers(
      res <- tools::checkRd(p),
      warning = function(w) {
        msgs <<- c(msgs, conditionMessage(w))
        invokeRestart("muffleWarning")
      }
    )
    # checkRd's own findings of level >= 1 (level -3 is "unnecessary braces")
    bad <- res[!grepl("^checkRd: \\(-", res)]
    expect_identical(c(msgs, bad), character(), info = basename(p))
  }
})

test_that("every argument is documented once (R CMD check's \\usage check)", {
  # checkRd does not see an argument documented by two @param lines of one
  # page (R CMD check warned on mf_rma_tab-methods.Rd after merges)
  pkg <- testthat::test_path("..", "..")
  skip_if_not(dir.exists(file.path(pkg, "man")) && file.exists(file.path(pkg, "DESCRIPTION")),
              "man/ is not available (installed tests)")
  expect_length(tools::checkDocFiles(dir = pkg), 0L)
})
