# Case deletion: metafast vs metafor, side by side in one run.
#   leave1out() and influence() at k = 33 and k = 300 (simulated, REML),
#   gosh() at k = 15 (all 32767 subsets, REML).
# Slow runs (metafor's influence() at k = 300) are timed once; fast ones are repeated.
# Run: Rscript bench/bench_case_deletion.R  (needs metafor and metafast installed)
suppressPackageStartupMessages({
  library(metafast)
  library(metafor, include.only = character(0))
})

sim <- function(k, seed) {
  set.seed(seed)
  vi <- runif(k, 0.01, 0.3)
  x <- rnorm(k)
  data.frame(yi = rnorm(k, 0.3 + 0.2 * x, sqrt(vi + 0.1)), vi = vi, x = x)
}
# Median elapsed seconds; a fast expression is repeated until at least 0.2 s
# have passed (system.time() resolves 1 ms only).
tm <- function(expr) {
  f <- eval.parent(substitute(function() expr))
  t1 <- unname(system.time(f())["elapsed"])
  if (t1 >= 0.2) return(t1)
  n <- max(5L, ceiling(0.2 / max(t1, 1e-4)))
  unname(system.time(for (i in seq_len(n)) f())["elapsed"]) / n
}
threads <- getOption("metafast.threads", max(1L, parallel::detectCores() %/% 2L))

rows <- list()
add <- function(task, k, t_mf, t_mr) {
  rows[[length(rows) + 1L]] <<- data.frame(task = task, k = k, metafast_s = t_mf, metafor_s = t_mr,
                                           ratio = t_mr / t_mf)
  cat(sprintf("%-22s k = %4d  metafast %8.4f s  metafor %8.3f s  ratio %8.1f\n", task, k, t_mf, t_mr, t_mr / t_mf))
}

for (k in c(33L, 300L)) {
  d <- sim(k, k)
  f0 <- rma(yi, vi, data = d)
  m0 <- metafor::rma(yi, vi, data = d)
  add("leave1out", k, tm(leave1out(f0, threads = threads)), tm(metafor::leave1out(m0)))
  f1 <- rma(yi, vi, mods = ~ x, data = d)
  m1 <- metafor::rma(yi, vi, mods = ~ x, data = d)
  add("influence (~ x)", k, tm(influence(f1, threads = threads)), tm(stats::influence(m1)))
  # check the values while at it
  a <- influence(f1)$inf$rstudent; b <- stats::influence(m1)$inf$rstudent
  cat(sprintf("   max |rstudent diff| = %.2g (metafor at its default threshold 1e-5)\n", max(abs(a - b))))
}

d <- sim(15L, 15L)
f <- rma(yi, vi, data = d)
m <- metafor::rma(yi, vi, data = d)
# metafor needs minutes for all 32767 subsets: time 2000 random subsets and
# extrapolate linearly (the cost per subset does not depend on which subsets).
n_all <- 2^15 - 1
t_mf_2000 <- tm(metafor::gosh(m, subsets = 2000, progbar = FALSE))
add("gosh (all 32767 subsets; metafor extrapolated from 2000)", 15L, tm(gosh(f, threads = threads)),
    t_mf_2000 * n_all / 2000)

cat(sprintf("\nthreads = %d, cores = %d\n", threads, metafast:::.mf_parallel_cores()))
print(do.call(rbind, rows), digits = 3, row.names = FALSE)
