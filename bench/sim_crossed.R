# Simulated crossed data for the benches of crossed fits
# (rma_mv_crossed_diag.R, rma_mv_crossed_deletion.R): ns studies with 1 to 7
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
