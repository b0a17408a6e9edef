# Bootstrap of selmodel(type = "stepfun", steps = 0.025) at k = 37
# (metadat's dat.hackshaw1998, the example of metafor's selmodel() help) and
# at k = 33 (simulated, selected data as in bench/selmodel.R): metafast's
# boot_rma() of the selection model (C++ refits, threads) against a refit
# loop of metafor::selmodel() (metafor::rma(method = "ML") + selmodel() on
# each resample, metafor's default settings).  The metafor loop is timed on
# `R_ref` replicates and extrapolated linearly to R = 1000 (marked
# "extrapolated").  Run from the package root: Rscript bench/selmodel_boot.R
suppressMessages({
  library(metafast)
  library(metafor)
})
R_full <- 1000
R_ref <- 50
elapsed <- function(expr) unname(system.time(expr)[["elapsed"]])
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
sets <- list(hackshaw1998 = metadat::dat.hackshaw1998[, c("yi", "vi")], simulated = simulate(33))
threads <- metafast:::.mf_threads(NULL, n_work = R_full)

metafor_loop <- function(d, R, type, mf_sel) {
  k <- nrow(d)
  for (r in seq_len(R)) {
    if (type == "case") {
      i <- sample.int(k, k, replace = TRUE)
      yi <- d$yi[i]; vi <- d$vi[i]
    } else {
      # rejection sampling from the fitted step-function model (as metafast)
      vi <- d$vi
      yi <- numeric(k)
      mu <- c(mf_sel$beta); tau2 <- mf_sel$tau2; w2 <- mf_sel$delta[2]
      for (j in seq_len(k)) repeat {
        y <- rnorm(1, mu, sqrt(vi[j] + tau2))
        w <- if (pnorm(y / sqrt(vi[j]), lower.tail = FALSE) <= 0.025) 1 else w2
        if (runif(1) * max(1, w2) <= w) { yi[j] <- y; break }
      }
    }
    m <- metafor::rma(yi, vi, method = "ML")
    try(suppressWarnings(metafor::selmodel(m, type = "stepfun", steps = 0.025)), silent = TRUE)
  }
}

cat(sprintf("metafast: %d thread%s; metafor loop: %d replicates, extrapolated to %d\n\n", threads,
            if (threads > 1) "s" else "", R_ref, R_full))
cat(sprintf("%-14s %-4s %-11s %12s %12s %8s %8s\n", "data", "k", "bootstrap", "metafast (s)", "metafor (s)",
            "ratio", "failed"))
for (nm in names(sets)) {
  d <- sets[[nm]]
  sel <- metafast::selmodel(metafast::rma(yi, vi, data = d, method = "ML"), type = "stepfun", steps = 0.025)
  msel <- metafor::selmodel(metafor::rma(yi, vi, data = d, method = "ML"), type = "stepfun", steps = 0.025)
  for (type in c("case", "parametric")) {
    set.seed(1)
    ours <- elapsed(b <- suppressWarnings(boot_rma(sel, R = R_full, type = type, progress = FALSE)))
    set.seed(1)
    ref <- elapsed(metafor_loop(d, R_ref, type, msel)) * R_full / R_ref
    cat(sprintf("%-14s %-4d %-11s %12.3f %12.1f %8.0f %8d\n", nm, nrow(d), type, ours, ref, ref / ours, b$failed))
  }
}
# one thread, for the per-core speed
sel <- metafast::selmodel(metafast::rma(yi, vi, data = sets[[1]], method = "ML"), type = "stepfun", steps = 0.025)
set.seed(1)
t1 <- elapsed(boot_rma(sel, R = R_full, threads = 1, progress = FALSE))
cat(sprintf("\nhackshaw1998 case bootstrap, R = %d, 1 thread: %.3f s\n", R_full, t1))
