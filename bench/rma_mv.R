# rma.mv() benchmark: the three-level model random = ~ 1 | study/es with one
# moderator, REML, against metafor::rma.mv() side by side in one run.
# Usage (from the package root, metafast installed):
#
#   Rscript bench/rma_mv.R            # full run (metafor dense at 200 studies takes about a minute)
#   Rscript bench/rma_mv.R --quick    # no metafor dense, no 800 studies
#
# Data: studies with 1 to 8 effects (uniform), vi ~ U(0.01, 0.2), a study
# effect (variance 0.1), an effect-size effect (variance 0.05) and one
# standard-normal moderator (slope 0.2).  Timing: median elapsed time of
# system.time() over repetitions (one run for the slow metafor fits).  The
# table also prints the largest differences of sigma2 and beta.

suppressPackageStartupMessages({
  library(metafast)
  have_metafor <- requireNamespace("metafor", quietly = TRUE)
})
args <- commandArgs(trailingOnly = TRUE)
quick <- "--quick" %in% args

sim3 <- function(n_studies, seed = 1) {
  set.seed(seed)
  n <- sample(1:8, n_studies, replace = TRUE)
  study <- rep(seq_len(n_studies), n)
  k <- length(study)
  es <- sequence(n)
  vi <- stats::runif(k, 0.01, 0.2)
  x <- stats::rnorm(k)
  yi <- 0.3 + 0.2 * x + stats::rnorm(n_studies, 0, sqrt(0.1))[study] + stats::rnorm(k, 0, sqrt(0.05)) +
    stats::rnorm(k, 0, sqrt(vi))
  data.frame(study = study, es = es, yi = yi, vi = vi, x = x)
}

med_time <- function(f, reps) {
  f()
  stats::median(vapply(seq_len(reps), function(i) {
    gc(FALSE)
    unname(system.time(f())["elapsed"])
  }, numeric(1)))
}
once <- function(f) {
  gc(FALSE)
  t <- system.time(r <- f())["elapsed"]
  list(time = unname(t), fit = r)
}

rows <- list()
add <- function(case, k, t_mf, t_mo = NA, what = "", d_sigma2 = NA, d_beta = NA) {
  rows[[length(rows) + 1L]] <<- data.frame(case = case, k = k, metafast = signif(t_mf, 3),
                                           metafor = signif(t_mo, 3), ratio = signif(t_mo / t_mf, 3),
                                           metafor_mode = what, max_d_sigma2 = signif(d_sigma2, 2),
                                           max_d_beta = signif(d_beta, 2))
}

fit_mf <- function(d) rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = d)
fit_mo <- function(d, sparse) metafor::rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = d, sparse = sparse)

# 200 studies: metafor sparse and dense
d <- sim3(200)
f <- fit_mf(d)
t_mf <- med_time(function() fit_mf(d), 21)
if (have_metafor) {
  s <- once(function() fit_mo(d, TRUE))
  add("200 studies", nrow(d), t_mf, s$time, "sparse", max(abs(f$sigma2 - s$fit$sigma2)), max(abs(f$beta - s$fit$beta)))
  if (!quick) {
    dd <- once(function() fit_mo(d, FALSE))
    add("200 studies", nrow(d), t_mf, dd$time, "dense", max(abs(f$sigma2 - dd$fit$sigma2)), max(abs(f$beta - dd$fit$beta)))
  }
} else add("200 studies", nrow(d), t_mf)

# 800 studies: metafor sparse
if (!quick) {
  d <- sim3(800, seed = 2)
  f <- fit_mf(d)
  t_mf <- med_time(function() fit_mf(d), 11)
  if (have_metafor) {
    s <- once(function() fit_mo(d, TRUE))
    add("800 studies", nrow(d), t_mf, s$time, "sparse", max(abs(f$sigma2 - s$fit$sigma2)), max(abs(f$beta - s$fit$beta)))
  } else add("800 studies", nrow(d), t_mf)
  # the same model with V given as a dense k x k matrix (the symmetry check
  # and the reading of its non-zero entries are one C++ pass)
  Vd <- diag(d$vi)
  fit_mf_V <- function() rma.mv(d$yi, Vd, mods = ~ x, random = ~ 1 | study/es, data = d)
  f <- fit_mf_V()
  t_mf <- med_time(fit_mf_V, 5)
  if (have_metafor) {
    s <- once(function() metafor::rma.mv(d$yi, Vd, mods = ~ x, random = ~ 1 | study/es, data = d, sparse = TRUE))
    add("800 studies, dense k x k V", nrow(d), t_mf, s$time, "sparse", max(abs(f$sigma2 - s$fit$sigma2)),
        max(abs(f$beta - s$fit$beta)))
  } else add("800 studies, dense k x k V", nrow(d), t_mf)
}

# metafast alone at 1e5 effects (about 22,000 studies)
d <- sim3(22300, seed = 3)
d <- d[seq_len(min(nrow(d), 1e5)), ]
t_mf <- med_time(function() fit_mf(d), if (quick) 1L else 3L)
add("1e5 effects", nrow(d), t_mf, what = "(not run)")

out <- do.call(rbind, rows)
cat("\nrma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es), REML; elapsed seconds\n\n")
print(out, row.names = FALSE)
cat("\n", R.version.string, "; metafor ", if (have_metafor) as.character(utils::packageVersion("metafor")) else "-",
    "; metafast ", as.character(utils::packageVersion("metafast")), "\n", sep = "")
