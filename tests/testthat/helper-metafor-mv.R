# The reference of the rma.mv() tests: metafor's rma.mv() run with tight
# optimiser settings (metafor's defaults stop REML at ~1e-5 relative).
mv_tight <- list(rel.tol = 1e-12, iter.max = 10000, eval.max = 20000)
# metafor's rma.mv() with nlminb at rel.tol 1e-12, or, where nlminb reports
# false convergence at 1e-12 (boundary fits) or fails, Nelder-Mead at reltol
# 1e-14 (nlminb at rel.tol 1e-10 stops early there: its log-likelihood is
# below ours).  The call is evaluated in the caller's frame, as if metafor
# were called there.
mv_ref <- function(...) {
  cl <- match.call()
  cl[[1L]] <- quote(metafor::rma.mv)
  cl$control <- mv_tight
  env <- parent.frame()
  tryCatch(eval(cl, env), error = function(e) {
    cl$control <- list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000)
    eval(cl, env)
  })
}

# A cluster bootstrap of an rma.mv() fit run with 1 and 2 threads (the same
# $t), the draws of its replicates (n_units x R, 1-based) and a check that
# as.boot()'s statistic refits a drawn data set as the kernel does.
boot_mv_draws <- function(fit, R, seed) {
  set.seed(seed); b <- suppressWarnings(boot_rma(fit, R = R, cluster = study, threads = 1, progress = FALSE))
  set.seed(seed); b2 <- suppressWarnings(boot_rma(fit, R = R, cluster = study, threads = 2, progress = FALSE))
  testthat::expect_identical(b$t, b2$t)
  idx <- metafast:::.mf_rma_mv_boot(b$mv$spec, b$mv$unit, b$mv$n, b$mv$theta, TRUE, 1e-10, 1000L, 1, b$seed, 0, R,
                                    1L, NULL, NULL, TRUE)$index
  bo <- as.boot(b)
  testthat::expect_equal(bo$statistic(bo$data, idx[, 1L]), unname(b$t[1L, ]), tolerance = 1e-10)
  list(b = b, idx = idx)
}
