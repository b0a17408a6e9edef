# robust() benchmark (issue 13): CR2 tests with Satterthwaite df and the HTZ
# omnibus test for a three-level "correlated and hierarchical effects" (CHE)
# working model, side by side with metafor::robust(clubSandwich = TRUE) and
# clubSandwich::coef_test() + Wald_test(test = "HTZ") on the same metafor fit.
# The model fits are excluded from the timings.
# Usage (from the package root, metafast installed):
#
#   Rscript bench/robust.R            # 800 studies (about 3,600 effects)
#   Rscript bench/robust.R --quick    # 200 studies
#
# Data: studies with 1 to 8 effects (uniform), vi ~ U(0.01, 0.2) per study,
# sampling correlation 0.6 within studies (vcalc), a study effect (variance
# 0.1), an effect-size effect (0.05), one moderator that varies within and one
# that varies between studies.  Timing: median elapsed time of system.time()
# over repetitions (one run for the slow R implementations).

suppressPackageStartupMessages({
  library(metafast)
})
for (p in c("metafor", "clubSandwich"))
  if (!requireNamespace(p, quietly = TRUE)) stop("bench/robust.R needs the package '", p, "'.")
args <- commandArgs(trailingOnly = TRUE)
n_studies <- if ("--quick" %in% args) 200L else 800L

sim_che <- function(n_studies, seed = 1) {
  set.seed(seed)
  n <- sample(1:8, n_studies, replace = TRUE)
  study <- rep(seq_len(n_studies), n)
  k <- length(study)
  es <- sequence(n)
  vi <- stats::runif(n_studies, 0.01, 0.2)[study]
  x <- stats::rnorm(k)
  z <- stats::rnorm(n_studies)[study]
  yi <- 0.3 + 0.2 * x + 0.1 * z + stats::rnorm(n_studies, 0, sqrt(0.1))[study] + stats::rnorm(k, 0, sqrt(0.05)) +
    stats::rnorm(k, 0, sqrt(vi))
  data.frame(study = study, es = es, yi = yi, vi = vi, x = x, z = z)
}

med_time <- function(f, reps, warmup = TRUE) {
  if (warmup) f()
  stats::median(vapply(seq_len(reps), function(i) {
    gc(FALSE)
    unname(system.time(f())["elapsed"])
  }, numeric(1)))
}

dat <- sim_che(n_studies)
V <- metafor::vcalc(vi, cluster = study, obs = es, rho = 0.6, data = dat)
cat(sprintf("CHE model: %d studies, %d effects, V with rho = 0.6\n", n_studies, nrow(dat)))
t_fit <- system.time(ours <- rma.mv(yi, V, mods = ~ x + z, random = ~ 1 | study/es, data = dat))["elapsed"]
cat(sprintf("metafast rma.mv fit: %.1f s\n", t_fit))
# metafor's fit at our estimates (sigma2 fixed: the same fit, without metafor's slow REML iterations)
theirs <- metafor::rma.mv(yi, V, mods = ~ x + z, random = ~ 1 | study/es, data = dat, sigma2 = ours$sigma2)
cat("metafor fit done\n")

t_ours <- med_time(function() robust(ours, cluster = study, clubSandwich = TRUE), 5)
t_mf <- med_time(function() suppressWarnings(metafor::robust(theirs, cluster = study, clubSandwich = TRUE)), 1, FALSE)
t_cs <- med_time(function() {
  clubSandwich::coef_test(theirs, vcov = "CR2", cluster = dat$study, test = "Satterthwaite")
  clubSandwich::Wald_test(theirs, constraints = clubSandwich::constrain_zero(2:3), vcov = "CR2",
                          cluster = dat$study, test = "HTZ")
}, 1, FALSE)

rob <- robust(ours, cluster = study, clubSandwich = TRUE)
rt <- suppressWarnings(metafor::robust(theirs, cluster = study, clubSandwich = TRUE))
cat(sprintf("largest relative differences vs metafor: se %.1e, df %.1e, QM %.1e\n",
            max(abs(rob$se / rt$se - 1)), max(abs(rob$ddf / rt$ddf - 1)), abs(rob$QM / rt$QM - 1)))
tab <- data.frame(method = c("metafast robust(clubSandwich = TRUE)", "metafor robust(clubSandwich = TRUE)",
                             "clubSandwich coef_test + Wald_test(HTZ)"),
                  seconds = c(t_ours, t_mf, t_cs),
                  ratio = c(1, t_mf / t_ours, t_cs / t_ours))
print(tab, row.names = FALSE, digits = 4)
