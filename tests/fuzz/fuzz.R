# Fuzz harness: random garbage at every exported function of metafast.
#
#   METAFAST_FUZZ_ITER=2000 Rscript tests/fuzz/fuzz.R        (from the repository root)
#   METAFAST_FUZZ_SEED=1 METAFAST_FUZZ_BATCH=200 ...          (optional)
#
# Calls run in batches, each batch in a CHILD R process (system2("Rscript")),
# so a crash (segfault, abort) shows as the child dying: the harness reports
# the batch and the call that was running (the child logs every call before
# making it).  Errors are fine when they are R conditions with a message that
# says what is wrong; an uninformative base-R error ("missing value where
# TRUE/FALSE needed", "subscript out of bounds", ...) is a finding.  Exits
# non-zero when there are findings.
#
# The generator lives in fuzz_lib.R (also used in-process by
# tests/testthat/test-fuzz.R).

args_here <- function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f[1L])) else file.path("tests", "fuzz")
}
here <- args_here()
source(file.path(here, "fuzz_lib.R"))

iter <- as.integer(Sys.getenv("METAFAST_FUZZ_ITER", "0"))
if (is.na(iter) || iter <= 0L) {
  cat("Set METAFAST_FUZZ_ITER (e.g. 2000) to run the fuzzer.\n")
  quit(status = 0L)
}
seed <- as.integer(Sys.getenv("METAFAST_FUZZ_SEED", "20240611"))
batch <- as.integer(Sys.getenv("METAFAST_FUZZ_BATCH", "200"))
timeout <- as.integer(Sys.getenv("METAFAST_FUZZ_TIMEOUT", "300"))
work <- tempfile("mf_fuzz")
dir.create(work)

child_script <- file.path(work, "child.R")
writeLines(c(
  "a <- commandArgs(TRUE)",
  "source(a[1])",
  "suppressPackageStartupMessages(library(metafast))",
  "grDevices::pdf(NULL)",
  "res <- fuzz_batch(seed = as.integer(a[2]), n = as.integer(a[3]), log = a[4])",
  "saveRDS(res, a[5])"
), child_script)

n_batches <- ceiling(iter / batch)
findings <- list()
ran <- 0L
crashes <- 0L
for (b in seq_len(n_batches)) {
  n <- min(batch, iter - (b - 1L) * batch)
  log <- file.path(work, sprintf("batch%03d.log", b))
  out <- file.path(work, sprintf("batch%03d.rds", b))
  st <- system2("timeout", c(timeout, "Rscript", "--vanilla", shQuote(child_script),
                             shQuote(file.path(here, "fuzz_lib.R")), seed + b, n, shQuote(log), shQuote(out)),
                stdout = file.path(work, sprintf("batch%03d.out", b)),
                stderr = file.path(work, sprintf("batch%03d.err", b)))
  if (!file.exists(out)) {
    crashes <- crashes + 1L
    last <- if (file.exists(log)) utils::tail(readLines(log, warn = FALSE), 1L) else "(no call logged)"
    msg <- if (identical(st, 124L)) "HANG (timeout)" else sprintf("CRASH (child exit status %s)", st)
    findings[[length(findings) + 1L]] <- list(kind = msg, call = last)
    done <- if (file.exists(log)) length(readLines(log, warn = FALSE)) else 0L
    ran <- ran + done
    next
  }
  res <- readRDS(out)
  ran <- ran + res$n
  findings <- c(findings, res$findings)
}

cat(sprintf("metafast fuzz: %d calls in %d child batches (seed %d); %d crash/hang, %d findings\n",
            ran, n_batches, seed, crashes, length(findings)))
for (f in findings) cat(sprintf("  [%s] %s\n", f$kind, f$call))
quit(status = if (length(findings)) 1L else 0L)
