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
