# Solver stress: many random datasets per iterative estimator through
# rma_many() (the lean C++ path): tau2 at and near the boundary, extreme
# variance ratios, k = 2 and 3.  No hang, finite results, the iteration cap
# respected, and a random sample cross-checked against metafor.
# Level 1: 2000 datasets per estimator; level 3: 10^5.

stress_data <- function(n, seed) {
  set.seed(seed)
  k <- sample(c(2L, 3L, 5L, 10L, 30L), 1L)
  # vi spanning 1e-6 .. 1e3 in some datasets, a narrow range in others
  V <- matrix(if (stats::runif(1) < 0.5) 10^stats::runif(k * n, -6, 3) else stats::runif(k * n, 0.01, 0.2), k)
  tau2 <- sample(c(0, 1e-8, 1e-4, 0.05, 1), n, TRUE)
  Y <- matrix(stats::rnorm(k * n, 0.2, sqrt(V + rep(tau2, each = k))), k)
  list(Y = Y, V = V, k = k)
}

stress_run <- function(method, n_total, chunk = 500L) {
  done <- 0L; nonconv <- 0L; i <- 0L
  sample_sets <- list()
  while (done < n_total) {
    i <- i + 1L
    n <- min(chunk, n_total - done)
    d <- stress_data(n, seed = 1000L * i + nchar(method))
    r <- withCallingHandlers(rma_many(d$Y, d$V, method = method),
                             warning = function(w) invokeRestart("muffleWarning"))
    expect_true(all(is.finite(r$beta)) && all(is.finite(r$se)) && all(is.finite(r$tau2)) && all(r$tau2 >= 0),
                label = sprintf("%s: finite results (chunk %d, k = %d)", method, i, d$k))
    nonconv <- nonconv + sum(!r$converged)
    j <- sample.int(n, 2L)
    sample_sets <- c(sample_sets, lapply(j, function(jj) list(y = d$Y[, jj], v = d$V[, jj], beta = unname(r$beta[jj, 1]),
                                                              tau2 = r$tau2[jj], conv = r$converged[jj])))
    done <- done + n
  }
  list(done = done, nonconv = nonconv, sample = sample_sets)
}

for (method in c("ML", "REML", "EB", "PM")) {
  test_that(sprintf("%s: random datasets finish with finite results; 50 agree with metafor", method), {
    n_total <- if (test_level() >= 3) 1e5 else 2000
    res <- stress_run(method, n_total)
    expect_equal(res$done, n_total)
    expect_lte(res$nonconv, 0.001 * n_total)
    skip_if_not_installed("metafor")
    set.seed(7)
    smp <- res$sample[sample.int(length(res$sample), min(50L, length(res$sample)))]
    for (s in smp) {
      if (!s$conv) next
      m <- tryCatch(suppressWarnings(metafor::rma(s$y, s$v, method = method,
                                                  control = list(threshold = 1e-12, maxiter = 10000, tol = 1e-12, stepadj = 0.5))),
                    error = function(e) NULL)
      if (is.null(m) || !isTRUE(m$tau2 >= 0)) next
      scale <- max(s$v)
      expect_equal(s$tau2, m$tau2, tolerance = tol_iter * scale / max(abs(m$tau2), 1e-300) + tol_iter)
      expect_equal(s$beta, c(m$beta), tolerance = tol_iter * sqrt(scale) / max(abs(m$beta), 1e-300) + tol_iter)
    }
  })
}

test_that("the iteration cap is respected: maxiter = 5 reports non-convergence or the fallback solves it", {
  set.seed(3)
  k <- 20
  V <- matrix(10^stats::runif(k * 50, -6, 3), k)
  Y <- matrix(stats::rnorm(k * 50, 0, sqrt(V + 2)), k)
  for (method in c("ML", "REML", "EB", "PM")) {
    r <- suppressWarnings(rma_many(Y, V, method = method, control = list(maxiter = 5)))
    expect_true(all(is.finite(r$tau2[r$converged])))
    for (j in 1:5) {
      w <- NULL
      fit <- withCallingHandlers(tryCatch(rma(Y[, j], V[, j], method = method, control = list(maxiter = 5)),
                                          error = function(e) e),
                                 warning = function(x) { w <<- c(w, conditionMessage(x)); invokeRestart("muffleWarning") })
      if (inherits(fit, "error")) {
        expect_match(conditionMessage(fit), "maxiter|converge")
        next
      }
      cv <- fit$convergence
      expect_true(cv$iterations <= 5 || !identical(cv$solver, "fisher") || !cv$converged)
      if (!isTRUE(cv$converged)) expect_true(any(grepl("did not converge", w)))
      else expect_true(is.finite(fit$tau2))
    }
  }
})
