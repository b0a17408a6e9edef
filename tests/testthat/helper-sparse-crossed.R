# Data of two crossed factors (a: n1 levels, b: n2 levels) with a moderator x,
# for the tests of the sparse engine's methods.
sparse_crossed_data <- function(k, n1, n2, seed) {
  set.seed(seed)
  d <- data.frame(a = sample(seq_len(n1), k, TRUE), b = sample(seq_len(n2), k, TRUE))
  d$vi <- runif(k, 0.01, 0.2)
  d$x <- rnorm(k)
  d$yi <- 0.2 + 0.1 * d$x + rnorm(n1, 0, 0.3)[d$a] + rnorm(n2, 0, 0.2)[d$b] + rnorm(k, 0, sqrt(d$vi))
  d
}

# expr evaluated with the options set, the old ones restored; the internal
# options metafast.mv_sparse_rows and metafast.mv_dense_rows let small data
# take the sparse path
with_mf_options <- function(opts, expr) {
  old <- options(opts)
  on.exit(options(old))
  expr
}
sparse_path_opts <- list(metafast.mv_sparse_rows = 50L, metafast.mv_dense_rows = 50L)
