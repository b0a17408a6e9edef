# Simulated data of the rma.mv() tests and of the benches of crossed fits
# (bench/sim_crossed.R sources this file).

# Crossed data (bench/rma_mv_crossed_diag.R, rma_mv_crossed_deletion.R): ns studies with 1 to 7
# effects each, every effect one of 20 outcomes (no outcome twice in a
# study), study and outcome random effects (variances 0.08 and 0.04), one
# moderator x with slope 0.2.
sim_crossed <- function(ns, seed = 1) {
  set.seed(seed)
  n <- sample(1:7, ns, replace = TRUE)
  study <- rep(seq_len(ns), n)
  outcome <- unlist(lapply(n, function(m) sample(20L, m)))
  k <- length(study)
  vi <- stats::runif(k, 0.01, 0.2)
  x <- stats::rnorm(k)
  yi <- 0.2 * x + stats::rnorm(ns, 0, sqrt(0.08))[study] + stats::rnorm(20, 0, sqrt(0.04))[outcome] +
    stats::rnorm(k, 0, sqrt(vi))
  data.frame(study, outcome, yi, vi, x)
}

# sim_crossed() with an '~ type | study' term (the rma.mv() engine tests;
# bench/rma_mv_struct_crossed.R, rma_mv_sparse_threshold.R,
# rma_mv_confounded.R): each effect of one of
# three types, a study-by-type effect (variance 0.06, correlation 0.6 within
# a study).
sim_struct <- function(ns, seed) {
  d <- sim_crossed(ns, seed)
  k <- nrow(d)
  d$type <- sample(c("a", "b", "c"), k, TRUE)
  u <- matrix(stats::rnorm(ns * 3, 0, sqrt(0.06 * 0.4)), ns) + stats::rnorm(ns, 0, sqrt(0.06 * 0.6))
  d$yi <- d$yi + u[cbind(d$study, match(d$type, c("a", "b", "c")))]
  d
}

# (the name of the tests)
engine_data <- function(ns, seed) sim_struct(ns, seed)
