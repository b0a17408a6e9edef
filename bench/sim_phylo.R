# Simulated phylogenetic data (bench/rma_mv_phylo.R,
# rma_mv_sparse_threshold.R): ns species at random points of the unit square
# with C = exp(-distance / 0.3) (positive definite), k = 20 ns effects on
# random species, vi ~ U(0.02, 0.2), a phylogenetic effect (variance 0.09),
# a species effect (variance 0.04), an effect-level one (variance 0.05) and
# one standard-normal moderator (slope 0.1).
sim_phylo <- function(ns, seed) {
  set.seed(seed)
  sp <- sprintf("sp%04d", seq_len(ns))
  pts <- matrix(stats::runif(2 * ns), ncol = 2)
  C <- exp(-as.matrix(stats::dist(pts)) / 0.3)
  dimnames(C) <- list(sp, sp)
  k <- 20L * ns
  d <- data.frame(species = sample(sp, k, TRUE), x = stats::rnorm(k), vi = stats::runif(k, 0.02, 0.2))
  d$phylo <- d$species
  d$es <- seq_len(k)
  u <- c(t(chol(C)) %*% stats::rnorm(ns)) * 0.3
  names(u) <- sp
  d$yi <- 0.2 + 0.1 * d$x + u[d$species] + stats::rnorm(ns, 0, 0.2)[match(d$species, sp)] +
    stats::rnorm(k, 0, sqrt(d$vi + 0.05))
  list(d = d, C = C)
}
