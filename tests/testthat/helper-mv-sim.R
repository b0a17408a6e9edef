# Simulated data of the rma.mv() tests.

# ns studies with 1 to 7 effects, each on one of 20 crossed outcomes and of
# one of three types, with study, outcome and study-by-type effects (as
# bench/sim_crossed.R's sim_struct())
engine_data <- function(ns, seed) {
  set.seed(seed)
  n <- sample(1:7, ns, replace = TRUE)
  study <- rep(seq_len(ns), n)
  outcome <- unlist(lapply(n, function(m) sample(20L, m)))
  k <- length(study)
  vi <- stats::runif(k, 0.01, 0.2)
  x <- stats::rnorm(k)
  yi <- 0.2 * x + stats::rnorm(ns, 0, sqrt(0.08))[study] + stats::rnorm(20, 0, sqrt(0.04))[outcome] +
    stats::rnorm(k, 0, sqrt(vi))
  type <- sample(c("a", "b", "c"), k, TRUE)
  u <- matrix(stats::rnorm(ns * 3, 0, sqrt(0.06 * 0.4)), ns) + stats::rnorm(ns, 0, sqrt(0.06 * 0.6))
  yi <- yi + u[cbind(study, match(type, c("a", "b", "c")))]
  data.frame(study, outcome, type, yi, vi, x)
}
