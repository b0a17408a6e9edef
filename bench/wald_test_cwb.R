# Cluster wild bootstrap benchmark (issue 13): Wald_test_cwb() with R = 999
# replicates for a three-level "correlated and hierarchical effects" (CHE)
# working model at 200 studies, metafast side by side with wildmeta's
# Wald_test_cwb() on the same (metafor) model.  wildmeta refits every
# replicate with metafor and clubSandwich in R (about a second per replicate
# at this size), so it runs fewer replicates (default 19) and its time is
# extrapolated linearly to R = 999 (the replicates are alike; the null fit
# and the observed statistic are a negligible share).
# Usage (from the package root, metafast installed):
#
#   Rscript bench/wald_test_cwb.R                 # 200 studies, wildmeta at 19 replicates
#   Rscript bench/wald_test_cwb.R --wildmeta-R=49 # more wildmeta replicates
#   Rscript bench/wald_test_cwb.R --struct-only   # only the '~ inner | outer' model (below)
#
# The second model has an '~ outcome | study' term (struct = "HCS": a variance
# per outcome and their correlation): 200 studies with both outcomes, 1 to 3
# effects each, a moderator x; the test x = 0 (CR2 / CR2 / HTZ).
#
# Data: studies with 1 to 8 effects (uniform), vi ~ U(0.01, 0.2) per study,
# sampling correlation 0.6 within studies (vcalc), a study effect (variance
# 0.1), an effect-size effect (0.05), a moderator x within studies and z
# between studies; the test: z = 0 (CR2 adjustment of the residuals, CR2
# sandwich, HTZ statistic; and the defaults CR0 / Naive-F).

suppressPackageStartupMessages({
  library(metafast)
})
for (p in c("metafor", "clubSandwich", "wildmeta"))
  if (!requireNamespace(p, quietly = TRUE)) stop("bench/wald_test_cwb.R needs the package '", p, "'.")
args <- commandArgs(trailingOnly = TRUE)
n_studies <- 200L
R <- 999L
Rw <- 19L
struct_only <- "--struct-only" %in% args
for (a in args) if (startsWith(a, "--wildmeta-R=")) Rw <- as.integer(sub("--wildmeta-R=", "", a, fixed = TRUE))

set.seed(13)
n <- sample(1:8, n_studies, replace = TRUE)
study <- rep(seq_len(n_studies), n)
k <- length(study)
dat <- data.frame(study = study, es = sequence(n), vi = stats::runif(n_studies, 0.01, 0.2)[study],
                  x = stats::rnorm(k), z = stats::rnorm(n_studies)[study])
dat$yi <- 0.3 + 0.2 * dat$x + 0.05 * dat$z + stats::rnorm(n_studies, 0, sqrt(0.1))[study] +
  stats::rnorm(k, 0, sqrt(0.05)) + stats::rnorm(k, 0, sqrt(dat$vi))
V <- vcalc(vi, cluster = study, obs = es, data = dat, rho = 0.6)

cat(sprintf("CHE model: %d studies, %d effects; R = %d (wildmeta: %d, extrapolated); threads: %d\n\n",
            n_studies, k, R, Rw, metafast:::.mf_threads(NULL, n_work = R, min_per_thread = 4L)))

fit <- metafast::rma.mv(yi, V, mods = ~ x + z, random = ~ 1 | study/es, data = dat)
mfit <- metafor::rma.mv(yi, V, mods = ~ x + z, random = ~ 1 | study/es, data = dat)
future::plan("sequential")

settings <- list(
  "CR0 / CR0 / Naive-F" = list(adjust = "CR0", type = "CR0", test = "Naive-F"),
  "CR2 / CR2 / HTZ" = list(adjust = "CR2", type = "CR2", test = "HTZ"))
rows <- list()
if (struct_only) settings <- list()
for (nm in names(settings)) {
  s <- settings[[nm]]
  tm <- system.time(ours <- Wald_test_cwb(fit, constraints = 3, R = R, adjust = s$adjust, type = s$type,
                                          test = s$test, seed = 1))[["elapsed"]]
  tw <- system.time(wm <- wildmeta::Wald_test_cwb(mfit, clubSandwich::constrain_zero(3), R = Rw, adjust = s$adjust,
                                                  type = s$type, test = s$test, seed = 1))[["elapsed"]]
  tw_ext <- tw * R / Rw
  rows[[nm]] <- data.frame(setting = nm, metafast_s = round(tm, 2), wildmeta_s = round(tw_ext, 1),
                           ratio = round(tw_ext / tm), p_metafast = ours$p_val, p_wildmeta = round(wm$p_val, 3),
                           stat_metafast = signif(attr(ours, "original"), 7),
                           stat_wildmeta = signif(attr(wm, "original"), 7))
  cat(sprintf("%-20s metafast %.2f s (R = %d); wildmeta %.1f s for R = %d -> %.0f s at R = %d; ratio %.0fx\n",
              nm, tm, R, tw, Rw, tw_ext, R, tw_ext / tm))
}
if (length(rows)) {
  cat("\n")
  print(do.call(rbind, rows), row.names = FALSE)
  cat("\n(wildmeta's p-value rests on", Rw, "replicates only; the observed statistics agree.)\n")
}

# ---- an rma.mv() fit with an '~ inner | outer' term (struct = "HCS") ----
set.seed(14)
m <- sample(1:3, 2 * n_studies, replace = TRUE)  # effects per study and outcome
ds <- data.frame(study = rep(rep(seq_len(n_studies), each = 2), m), outcome = rep(rep(c("A", "B"), n_studies), m))
ks <- nrow(ds)
u <- matrix(stats::rnorm(2 * n_studies), n_studies) %*% chol(matrix(c(0.09, 0.04, 0.04, 0.06), 2))
ds$vi <- stats::runif(ks, 0.01, 0.1)
ds$x <- stats::rnorm(ks)
ds$yi <- 0.2 + 0.1 * (ds$outcome == "B") + 0.05 * ds$x + u[cbind(ds$study, (ds$outcome == "B") + 1)] +
  stats::rnorm(ks, 0, sqrt(ds$vi))
fs <- metafast::rma.mv(yi, vi, mods = ~ outcome + x, random = ~ outcome | study, struct = "HCS", data = ds)
mfs <- metafor::rma.mv(yi, vi, mods = ~ outcome + x, random = ~ outcome | study, struct = "HCS", data = ds)
cat(sprintf("\nHCS model (~ outcome | study): %d studies, %d effects; R = %d (wildmeta: %d, extrapolated)\n",
            n_studies, ks, R, Rw))
tm <- system.time(ours <- Wald_test_cwb(fs, constraints = 3, R = R, adjust = "CR2", type = "CR2", test = "HTZ",
                                        seed = 1))[["elapsed"]]
cat(sprintf("metafast: %.2f s for R = %d\n", tm, R))
tw <- system.time(wm <- wildmeta::Wald_test_cwb(mfs, clubSandwich::constrain_zero(3), R = Rw, adjust = "CR2",
                                                type = "CR2", test = "HTZ", seed = 1))[["elapsed"]]
tw_ext <- tw * R / Rw
cat(sprintf("%-20s metafast %.2f s (R = %d); wildmeta %.1f s for R = %d -> %.0f s at R = %d; ratio %.0fx\n",
            "HCS CR2 / CR2 / HTZ", tm, R, tw, Rw, tw_ext, R, tw_ext / tm))
cat(sprintf("observed statistic: metafast %.7g, wildmeta %.7g; p: metafast %.4f, wildmeta %.3f (%d replicates)\n",
            attr(ours, "original"), attr(wm, "original"), ours$p_val, wm$p_val, Rw))
