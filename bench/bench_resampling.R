# Resampling benchmark: metafast's C++ kernels against boot::boot() +
# metafor::rma() and metafor::permutest(), side by side in one run.
# Run with:  Rscript bench/bench_resampling.R   (needs metafast, metafor, boot)
#
# Reference runs that would take more than a minute are timed on a smaller
# number of replicates and extrapolated linearly (marked "extrapolated").

suppressPackageStartupMessages({
  library(metafast)
  stopifnot(requireNamespace("metafor", quietly = TRUE), requireNamespace("boot", quietly = TRUE))
})

set.seed(2024)
k <- 33
dat <- data.frame(x = round(runif(k, 0, 10), 1), vi = round(runif(k, 0.01, 0.2), 4))
dat$yi <- round(rnorm(k, 0.2 + 0.03 * dat$x, sqrt(dat$vi + 0.04)), 4)

R_full <- 1e4
R_small <- 200
elapsed <- function(expr) unname(system.time(expr)[["elapsed"]])

# Time the reference on R_small replicates; run it fully only if that would
# take at most a minute.
reference <- function(run) {
  t_small <- elapsed(run(R_small))
  est <- t_small * R_full / R_small
  if (est > 60) return(list(time = est, note = sprintf("extrapolated from R = %d", R_small)))
  list(time = elapsed(run(R_full)), note = "measured")
}

rows <- list()
add <- function(task, ours, ref, note) {
  rows[[length(rows) + 1L]] <<- data.frame(task = task, metafast_s = round(ours, 3),
                                           reference_s = round(ref, 2),
                                           ratio = if (is.na(ref)) NA else round(ref / ours, 1),
                                           reference = note, stringsAsFactors = FALSE)
}

fit <- rma(yi, vi, data = dat, method = "REML")
threads <- metafast:::.mf_threads(NULL, n_work = R_full)

# 1. case bootstrap of a REML fit
ours <- elapsed(boot_rma(fit, R = R_full, progress = FALSE))
# metafor stops when Fisher scoring fails on a resample: count it as NA
mf_stats <- function(yi, vi) {
  r <- tryCatch(metafor::rma(yi, vi, method = "REML"), error = function(e) NULL)
  if (is.null(r)) rep(NA_real_, 4) else c(coef(r), r$tau2, r$I2, r$H2)
}
ref <- reference(function(R) boot::boot(dat, function(d, i) mf_stats(d$yi[i], d$vi[i]), R = R))
add(sprintf("case bootstrap, REML, k = %d, R = 1e4 (%d thread%s)", k, threads, if (threads > 1) "s" else ""),
    ours, ref$time, paste("boot::boot + metafor::rma,", ref$note))

# 2. parametric bootstrap
ours <- elapsed(boot_rma(fit, R = R_full, type = "parametric", progress = FALSE))
mle <- list(mu = c(fit$beta), tau2 = fit$tau2)
ref <- reference(function(R) boot::boot(dat, function(d) mf_stats(d$yi, d$vi), R = R, sim = "parametric", mle = mle,
ran.gen = function(d, mle) { d$yi <- stats::rnorm(nrow(d), mle$mu, sqrt(mle$tau2 + d$vi)); d }))
add("parametric bootstrap, REML, k = 33, R = 1e4", ours, ref$time, paste("boot::boot + metafor::rma,", ref$note))

# 3. permutation test with one moderator
fitm <- rma(yi, vi, mods = ~ x, data = dat, method = "REML")
fitm_mf <- metafor::rma(yi, vi, mods = ~ x, data = dat, method = "REML")
ours <- elapsed(permutest(fitm, iter = R_full, progress = FALSE))
ref <- reference(function(R) metafor::permutest(fitm_mf, iter = R, progbar = FALSE))
add("permutest, one moderator, iter = 1e4", ours, ref$time, paste("metafor::permutest,", ref$note))

# 4. thread scaling of the case bootstrap
R_big <- 1e5
t1 <- elapsed(boot_rma(fit, R = R_big, threads = 1, progress = FALSE))
t2 <- elapsed(boot_rma(fit, R = R_big, threads = 2, progress = FALSE))
add("case bootstrap R = 1e5: 2 threads vs 1 thread", t2, t1, "metafast with 1 thread (ratio = speed-up)")

tab <- do.call(rbind, rows)
cat(sprintf("\nResampling benchmark (%s, %d cores reported, load average %s)\n\n", R.version.string,
            metafast:::.mf_parallel_cores(),
            tryCatch(paste(scan("/proc/loadavg", what = "", n = 3, quiet = TRUE), collapse = " "),
                     error = function(e) "n/a")))
print(tab, row.names = FALSE, right = FALSE)
cat("\nratio = reference time / metafast time (elapsed seconds).\n")
