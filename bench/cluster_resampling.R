# Resampling by cluster at 800 studies: metafast's cluster bootstrap
# (boot_rma(cluster = ), with its leave-one-cluster-out jackknife) and
# cluster leave-one-out (leave1out(cluster = )) of rma() fits, and the
# cluster bootstrap and the cluster permutation test (permutest(cluster = ))
# of a three-level rma.mv() fit, against loops of metafor refits, side by
# side in one run, ratios printed.
# Run with:  Rscript bench/cluster_resampling.R   (needs metafast, metafor)
#
# A metafor::rma() fit at this size takes seconds (its time grows like k^3 in
# the number of rows), so the metafor loops are NOT run in full: a few refits
# on resampled / reduced data are timed and the mean time per refit is
# multiplied by the number of refits of the full run (marked
# "extrapolated").  The metafor loop is what boot::boot() or a leave-one-out
# loop would run: one rma() call per replicate; boot::boot's own overhead is
# not counted (it favours metafor).

suppressPackageStartupMessages({
  library(metafast)
  stopifnot(requireNamespace("metafor", quietly = TRUE))
})

set.seed(2026)
n_studies <- 800
n_es <- sample(1:4, n_studies, replace = TRUE)          # effects per study (mean 2.5)
dat <- data.frame(study = rep(seq_len(n_studies), n_es))
dat$x <- rep(round(runif(n_studies, 0, 1), 2), n_es)    # a study-level moderator
u <- rnorm(n_studies, 0, 0.2)[dat$study]
dat$vi <- round(runif(nrow(dat), 0.01, 0.2), 4)
dat$yi <- round(0.2 + 0.3 * dat$x + u + rnorm(nrow(dat), 0, sqrt(dat$vi + 0.02)), 4)
k <- nrow(dat)
R <- 999
n_ref <- as.integer(Sys.getenv("BENCH_NREF", "3"))  # metafor refits timed per task (one rma() fit at ~2000 rows takes ~40 s or more)
elapsed <- function(expr) unname(system.time(expr)[["elapsed"]])

fit <- rma(yi, vi, mods = ~ x, data = dat, method = "REML")
threads <- metafast:::.mf_threads(NULL, n_work = R)
ids <- sort(unique(dat$study))
rows_of <- split(seq_len(k), factor(dat$study, levels = ids))
mf_refit <- function(rows) {
  r <- tryCatch(metafor::rma(yi, vi, mods = ~ x, data = dat[rows, ], method = "REML"), error = function(e) NULL)
  if (is.null(r)) rep(NA_real_, 5) else c(coef(r), r$tau2, r$I2, r$H2)
}

out <- list()
add <- function(task, ours, ref, note) {
  out[[length(out) + 1L]] <<- data.frame(task = task, metafast_s = round(ours, 3), metafor_s = round(ref, 1),
                                         ratio = round(ref / ours, 0), metafor = note, stringsAsFactors = FALSE)
}

# 1. cluster bootstrap, R = 999 (plus the 800 leave-one-cluster-out refits of its jackknife)
set.seed(1)
ours <- elapsed(b <- boot_rma(fit, R = R, cluster = study, progress = FALSE))
set.seed(2)
per <- elapsed(for (r in seq_len(n_ref)) mf_refit(unlist(rows_of[sample.int(n_studies, replace = TRUE)]))) / n_ref
add(sprintf("cluster bootstrap, %d studies (%d rows), R = %d + jackknife (%d thread%s)", n_studies, k, R,
            threads, if (threads > 1) "s" else ""),
    ours, per * (R + n_studies), sprintf("loop of rma() refits, extrapolated from %d refits", n_ref))

# 2. cluster leave-one-out (intercept-only model, as leave1out() requires)
fit0 <- rma(yi, vi, data = dat, method = "REML")
ours <- elapsed(l1 <- leave1out(fit0, cluster = study))
ref1 <- list()
per <- elapsed(for (j in seq_len(n_ref))
  ref1[[j]] <- metafor::rma(yi, vi, data = dat[-rows_of[[j]], ], method = "REML")) / n_ref
add(sprintf("cluster leave-one-out, %d studies (%d rows)", n_studies, k), ours, per * n_studies,
    sprintf("loop of rma() refits, extrapolated from %d refits", n_ref))

# check: the timed leave-one-cluster-out refits agree with metafor's
chk <- vapply(ref1, function(m) coef(m)[[1]], 1)
cat(sprintf("max |estimate difference| of the timed leave-one-cluster-out refits: %.1e\n",
            max(abs(chk - l1$estimate[seq_len(n_ref)]))))

# 3. and 4.: the three-level model (effects within studies), rma.mv() refits
dat$es <- seq_len(k)
fit_mv <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = dat)
mv_refit <- function(d) {
  r <- tryCatch(metafor::rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = d), error = function(e) NULL)
  if (is.null(r)) rep(NA_real_, 4) else c(coef(r), r$sigma2)
}
R_mv <- 999
set.seed(3)
ours <- elapsed(bm <- boot_rma(fit_mv, R = R_mv, cluster = study, progress = FALSE))
set.seed(4)
per <- elapsed(for (r in seq_len(n_ref)) {
  draw <- sample.int(n_studies, replace = TRUE)
  d <- dat[unlist(rows_of[draw]), ]
  d$study <- rep(seq_len(n_studies), lengths(rows_of[draw]))   # each drawn study its own cluster
  mv_refit(d)
}) / n_ref
add(sprintf("rma.mv cluster bootstrap, %d studies (%d rows), R = %d + jackknife", n_studies, k, R_mv),
    ours, per * (R_mv + n_studies), sprintf("loop of rma.mv() refits, extrapolated from %d refits", n_ref))

set.seed(5)
ours <- elapsed(pm <- permutest(fit_mv, iter = R_mv, cluster = study, progress = FALSE))
xs <- dat$x[match(seq_len(n_studies), dat$study)]
set.seed(6)
per <- elapsed(for (r in seq_len(n_ref)) {
  d <- dat
  d$x <- sample(xs)[d$study]          # the study-level moderator permuted over studies
  mv_refit(d)
}) / n_ref
add(sprintf("rma.mv cluster permutation test, %d studies (%d rows), iter = %d", n_studies, k, R_mv),
    ours, per * R_mv, sprintf("loop of rma.mv() refits, extrapolated from %d refits", n_ref))

res <- do.call(rbind, out)
print(res, right = FALSE, row.names = FALSE)
cat("\nratio = metafor time / metafast time; metafor times extrapolated as stated.\n")
