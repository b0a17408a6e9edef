# rma.mv() memory at 10^6 effects: the three-level model random = ~ 1 |
# study/es with one moderator (data as bench/rma_mv.R).  Prints the size of
# the input, the elapsed time of the fit, the memory the fit retains (R's
# heap in use after the fit minus before, the data already allocated), the
# peak during the fit (gc()'s "max used" after gc(reset = TRUE), minus the
# heap in use before) and object.size() of the largest fields (object.size
# counts strings shared between fields more than once).
# Usage: Rscript bench/rma_mv_memory.R [k]      (default k = 1e6)
suppressPackageStartupMessages(library(metafast))
args <- commandArgs(trailingOnly = TRUE)
k <- if (length(args)) as.numeric(args[1L]) else 1e6
sim3 <- function(n_studies, seed = 1) {
  set.seed(seed)
  n <- sample(1:8, n_studies, replace = TRUE)
  study <- rep(seq_len(n_studies), n)
  kk <- length(study)
  es <- sequence(n)
  vi <- stats::runif(kk, 0.01, 0.2)
  x <- stats::rnorm(kk)
  yi <- 0.3 + 0.2 * x + stats::rnorm(n_studies, 0, sqrt(0.1))[study] + stats::rnorm(kk, 0, sqrt(0.05)) +
    stats::rnorm(kk, 0, sqrt(vi))
  data.frame(study = study, es = es, yi = yi, vi = vi, x = x)
}
d <- sim3(ceiling(k / 4.5) + 10, seed = 4)
d <- d[seq_len(k), ]
rownames(d) <- NULL
mb <- function(g) sum(g[, 2L])          # Mb in use (Ncells + Vcells)
mbmax <- function(g) sum(g[, ncol(g)])  # Mb max used
input <- as.numeric(object.size(d)) / 2^20
invisible(gc(reset = TRUE))
base <- mb(gc(reset = TRUE))
t <- system.time(f <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | study/es, data = d))[["elapsed"]]
peak <- mbmax(gc()) - base
retained <- mb(gc()) - base
cat(sprintf("k = %d: input (data frame) %.1f MB; fit %.2f s; retained by the fit %.1f MB (%.1fx input); peak during the fit %.1f MB (%.1fx input)\n",
            as.integer(k), input, t, retained, retained / input, peak, peak / input))
sz <- sort(vapply(unclass(f), function(e) as.numeric(object.size(e)), 0), decreasing = TRUE) / 2^20
cat("largest fields (object.size, MB):\n")
print(round(utils::head(sz, 10), 1))
cat("mf.spec (object.size, MB):\n")
print(round(vapply(f$mf.spec, function(e) as.numeric(object.size(e)), 0) / 2^20, 1))
