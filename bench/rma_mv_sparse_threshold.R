# Where the sparse engine overtakes the dense block: rma.mv() fits models
# whose crossed factors (or '~ inner | outer' terms, or known correlation
# matrices R) link n rows into one connected block either with one dense
# n x n block (n^3 per evaluation, src/core/mv_objective.hpp) or with the
# sparse engine (a sparse Cholesky factor of the random-effects system,
# src/core/sparse_objective.hpp).  rma.mv() switches at a row count per kind
# of model (.mf_mv_sparse_rows in R/rma_mv.R); this bench measures both
# engines at sizes around it, on the same data, metafast against itself (the
# engines are forced with the internal option metafast.mv_sparse_rows), and
# prints the ratio dense / sparse.  Both fits must agree: the table shows the
# difference in their REML log-likelihoods.
# Usage (from the package root, metafast installed; a few minutes):
#
#   Rscript bench/rma_mv_sparse_threshold.R
#
# Models (data from bench/sim_crossed.R and bench/sim_phylo.R):
#   crossed  random = list(~ 1 | study, ~ 1 | outcome)
#   Vstudy   the same with V: sampling errors correlated 0.5 within a study
#   Vhalf    the same with V two blocks, each over half the rows (correlation 0.3)
#   Vall     the same with V one block over all rows (correlation 0.2)
#            (the sparse engine carries V's dense blocks: rma.mv() uses it
#            only while their sizes cubed sum to at most a quarter of n^3)
#   CS/HCS/UN random = list(~ 1 | outcome, ~ type | study), struct = ...
#   phylo    random = list(~ 1 | species, ~ 1 | phylo, ~ 1 | es), R = list(phylo = C)
# Timings are the median of 3 runs of the whole rma.mv() call (elapsed).

suppressPackageStartupMessages(library(metafast))
source(file.path("bench", "sim_crossed.R"))  # sim_crossed(), sim_struct()
source(file.path("bench", "sim_phylo.R"))    # sim_phylo()

# V with correlation r between the sampling errors of rows in the same group
vcov_within <- function(d, group, r) {
  sv <- sqrt(d$vi)
  V <- outer(sv, sv) * (r * outer(group, group, "=="))
  diag(V) <- d$vi
  V
}

models <- list(
  crossed = list(sim = function(n) sim_crossed(round(n / 4), seed = n),
                 fit = function(d) rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | study, ~ 1 | outcome), data = d)),
  Vstudy = list(sim = function(n) sim_crossed(round(n / 4), seed = n),
                fit = function(d) rma.mv(yi, vcov_within(d, d$study, 0.5), mods = ~ x,
                                         random = list(~ 1 | study, ~ 1 | outcome), data = d)),
  Vhalf = list(sim = function(n) sim_crossed(round(n / 4), seed = n),
               fit = function(d) rma.mv(yi, vcov_within(d, seq_len(nrow(d)) <= nrow(d) / 2, 0.3), mods = ~ x,
                                        random = list(~ 1 | study, ~ 1 | outcome), data = d)),
  Vall = list(sim = function(n) sim_crossed(round(n / 4), seed = n),
              fit = function(d) rma.mv(yi, vcov_within(d, rep(1L, nrow(d)), 0.2), mods = ~ x,
                                       random = list(~ 1 | study, ~ 1 | outcome), data = d)),
  CS = list(sim = function(n) sim_struct(round(n / 4), seed = n),
            fit = function(d) rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | outcome, ~ type | study),
                                     struct = "CS", data = d)),
  HCS = list(sim = function(n) sim_struct(round(n / 4), seed = n),
             fit = function(d) rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | outcome, ~ type | study),
                                      struct = "HCS", data = d)),
  UN = list(sim = function(n) sim_struct(round(n / 4), seed = n),
            fit = function(d) rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | outcome, ~ type | study),
                                     struct = "UN", data = d)),
  phylo = list(sim = function(n) sim_phylo(round(n / 20), seed = n),
               fit = function(s) rma.mv(yi, vi, mods = ~ x, random = list(~ 1 | species, ~ 1 | phylo, ~ 1 | es),
                                        R = list(phylo = s$C), data = s$d))
)
target <- c(60L, 100L, 150L, 200L, 300L, 400L, 500L, 700L)  # rows (about)

time_fit <- function(m, d, engine_rows) {
  old <- options(metafast.mv_sparse_rows = engine_rows)
  on.exit(options(old))
  f <- m$fit(d)
  t <- stats::median(vapply(1:3, function(j) {
    gc(FALSE)
    unname(system.time(m$fit(d))["elapsed"])
  }, numeric(1)))
  list(fit = f, t = t)
}

rows <- list()
for (nm in names(models)) {
  m <- models[[nm]]
  for (n in target) {
    d <- m$sim(n)
    k <- if (is.data.frame(d)) nrow(d) else nrow(d$d)
    dn <- time_fit(m, d, 1e6L)  # one dense block
    sp <- time_fit(m, d, 0L)    # the sparse engine
    rows[[length(rows) + 1L]] <- data.frame(
      model = nm, k = k, dense = signif(dn$t, 3), sparse = signif(sp$t, 3),
      ratio = signif(dn$t / sp$t, 3), d_logLik = signif(abs(c(logLik(dn$fit)) - c(logLik(sp$fit))), 2))
    print(rows[[length(rows)]], row.names = FALSE)  # (progress: each row as it is measured)
    flush(stdout())
  }
}
out <- do.call(rbind, rows)
cat("\nrma.mv(), REML: one dense block against the sparse engine, elapsed seconds (median of 3);",
    "ratio = dense / sparse (> 1: the sparse engine is faster)\n\n")
print(out, row.names = FALSE)
cat("\n", R.version.string, "; metafast ", as.character(utils::packageVersion("metafast")), "\n", sep = "")
