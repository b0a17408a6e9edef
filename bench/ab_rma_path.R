# A/B timing of the ordinary rma() path: two installed builds of metafast
# (e.g. main's and a branch's), each case timed in a fresh process per build,
# the builds alternating, several rounds; prints the median times and the
# ratio after / before (1 = no change).  metafast only, 1 thread.
#
#   Rscript bench/ab_rma_path.R LIB_BEFORE LIB_AFTER [rounds]
#
# Cases: REML and DL at k = 33 (intercept only and two moderators), REML and
# DL at k = 1e5 with 5 moderators, permutest(iter = 1e4) and anova(btt =).

args <- commandArgs(trailingOnly = TRUE)

if (length(args) >= 1L && args[1L] == "--child") {
  # one case in this process: the median of repeated timings (seconds per call)
  suppressPackageStartupMessages(library(metafast))
  case <- args[2L]
  set.seed(1)
  k <- 33
  d <- data.frame(yi = rnorm(k, 0.3, 0.4), vi = runif(k, 0.01, 0.2), x1 = rnorm(k), x2 = runif(k))
  big <- local({
    k <- 1e5
    X <- matrix(rnorm(k * 5), k, 5)
    vi <- runif(k, 0.01, 0.2)
    list(yi = c(X %*% c(0.1, -0.2, 0.05, 0, 0.3)) + rnorm(k, 0, sqrt(vi + 0.1)), vi = vi, X = X)
  })
  f2 <- rma(yi, vi, mods = ~ x1 + x2, data = d)
  run <- switch(case,
    reml33 = function() rma(yi, vi, data = d),
    reml33mods = function() rma(yi, vi, mods = ~ x1 + x2, data = d),
    dl33mods = function() rma(yi, vi, mods = ~ x1 + x2, data = d, method = "DL"),
    reml1e5 = function() rma(big$yi, big$vi, mods = big$X),
    dl1e5 = function() rma(big$yi, big$vi, mods = big$X, method = "DL"),
    permutest = function() permutest(f2, iter = 1e4, progress = FALSE, threads = 1),
    anova = function() anova(f2, btt = 2:3))
  reps <- switch(case, reml1e5 = , dl1e5 = 5L, permutest = 5L, 2000L)
  times <- numeric(7)
  for (i in seq_along(times)) {
    t0 <- proc.time()[["elapsed"]]
    for (j in seq_len(reps)) run()
    times[i] <- (proc.time()[["elapsed"]] - t0) / reps
  }
  cat(stats::median(times), "\n")
  quit(save = "no")
}

if (length(args) < 2L) stop("usage: Rscript bench/ab_rma_path.R LIB_BEFORE LIB_AFTER [rounds]")
libs <- c(before = args[1L], after = args[2L])
rounds <- if (length(args) >= 3L) as.integer(args[3L]) else 2L
script <- normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
cases <- c("reml33", "reml33mods", "dl33mods", "reml1e5", "dl1e5", "permutest", "anova")
one <- function(lib, case) {
  out <- system2(file.path(R.home("bin"), "Rscript"), c(script, "--child", case), stdout = TRUE,
                 env = c(paste0("R_LIBS=", lib), "OMP_NUM_THREADS=1"))
  as.numeric(out[length(out)])
}
res <- matrix(NA_real_, length(cases), 2 * rounds, dimnames = list(cases, NULL))
for (r in seq_len(rounds)) for (cs in cases) {
  # alternate which build goes first
  ord <- if (r %% 2L == 1L) c("before", "after") else c("after", "before")
  for (b in ord) res[cs, 2L * (r - 1L) + match(b, c("before", "after"))] <- one(libs[[b]], cs)
}
before <- apply(res[, seq(1, 2 * rounds, 2), drop = FALSE], 1, stats::median)
after <- apply(res[, seq(2, 2 * rounds, 2), drop = FALSE], 1, stats::median)
cat(sprintf("load average at the end: %s\n", paste(readLines("/proc/loadavg"), collapse = " ")))
print(data.frame(case = cases, before_s = signif(before, 3), after_s = signif(after, 3),
                 after_over_before = round(after / before, 3), row.names = NULL))
