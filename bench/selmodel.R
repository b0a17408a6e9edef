# selmodel(type = "stepfun", steps = 0.025) at k = 33 and k = 1000: metafast
# against metafor, side by side in one session on the same simulated data
# (yi ~ N(0.2, vi + 0.05), vi ~ U(0.01, 0.2); studies with p > 0.025 kept
# with probability 0.5 — a selected data set), REML fit refitted by ML by
# both. Each package with its default settings. Median of `reps` timings.
# Run from the package root: Rscript bench/selmodel.R
suppressMessages({
  library(metafast)
  library(metafor)
})
set.seed(2026)
simulate <- function(k) {
  out <- NULL
  while (is.null(out) || nrow(out) < k) {
    vi <- runif(4 * k, 0.01, 0.2)
    yi <- rnorm(4 * k, 0.2, sqrt(vi + 0.05))
    keep <- pnorm(yi / sqrt(vi), lower.tail = FALSE) <= 0.025 | runif(4 * k) < 0.5
    out <- rbind(out, data.frame(yi = yi, vi = vi)[keep, ])
  }
  out[seq_len(k), ]
}
time_med <- function(expr, reps) {
  e <- substitute(expr)
  env <- parent.frame()
  median(vapply(seq_len(reps), function(i) system.time(eval(e, env))[["elapsed"]], numeric(1)))
}
cat(sprintf("%-8s %12s %12s %8s %12s %12s\n", "k", "metafast (s)", "metafor (s)", "ratio", "|d beta|", "|d delta|"))
for (k in c(33, 1000)) {
  d <- simulate(k)
  ff <- metafast::rma(yi, vi, data = d)
  mf <- metafor::rma(yi, vi, data = d)
  reps <- if (k <= 33) 20 else 3
  a <- metafast::selmodel(ff, type = "stepfun", steps = 0.025)
  b <- metafor::selmodel(mf, type = "stepfun", steps = 0.025)
  t1 <- time_med(metafast::selmodel(ff, type = "stepfun", steps = 0.025), reps)
  t2 <- time_med(metafor::selmodel(mf, type = "stepfun", steps = 0.025), reps)
  cat(sprintf("%-8d %12.4f %12.4f %8.1f %12.2e %12.2e\n", k, t1, t2, t2 / t1, max(abs(a$beta - b$beta)),
              max(abs(a$delta - b$delta))))
}
