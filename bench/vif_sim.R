# vif(sim = 1000) on the BCG data (k = 13, moderators ablat, year, alloc; the
# variables of the formula permuted, as metafor): metafast against metafor in
# one session, the same seed (so both simulate the same 1000 data sets; the
# largest relative difference of the simulated VIFs is printed). Each package
# with its default settings, metafor without its progress bar. Median of
# `reps` timings. Run from the package root: Rscript bench/vif_sim.R
suppressMessages({
  library(metafast)
  library(metafor)
})
reps <- 3
dat <- metafor::escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = metadat::dat.bcg)
ff <- metafast::rma(yi, vi, mods = ~ ablat + year + alloc, data = dat)
mf <- metafor::rma(yi, vi, mods = ~ ablat + year + alloc, data = dat)
time_med <- function(expr) {
  e <- substitute(expr)
  env <- parent.frame()
  median(vapply(seq_len(reps), function(i) system.time(eval(e, env))[["elapsed"]], numeric(1)))
}
ta <- time_med(a <- metafast::vif(ff, sim = 1000, seed = 1))
tb <- time_med(b <- metafor::vif(mf, sim = 1000, seed = 1, progbar = FALSE))
cat(sprintf("%-24s %12s %12s %8s %14s\n", "", "metafast (s)", "metafor (s)", "ratio", "max rel diff"))
cat(sprintf("%-24s %12.2f %12.2f %8.1f %14.1e\n", "vif(sim = 1000), k = 13", ta, tb, tb / ta,
            max(abs(a$sim - b$sim) / b$sim, na.rm = TRUE)))
