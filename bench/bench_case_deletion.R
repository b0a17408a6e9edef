# Case deletion: metafast vs metafor, side by side in one run.
#   leave1out() and influence() at k = 33 and k = 300 (simulated, REML),
#   gosh() at k = 15 (all 32767 subsets, REML).
# metafor's influence() at k = 300 is slow: every timing is a single run.
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
tm <- function(expr) unname(system.time(expr)["elapsed"])
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
add("gosh (all subsets)", 15L, tm(gosh(f, threads = threads)), tm(metafor::gosh(m, progbar = FALSE)))

cat(sprintf("\nthreads = %d, cores = %d\n", threads, parallel::detectCores()))
print(do.call(rbind, rows), digits = 3, row.names = FALSE)
