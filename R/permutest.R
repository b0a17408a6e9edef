# Permutation tests of a fitted model (C++ kernel: src/core/permutation.hpp),
# with the scheme and p-value conventions of metafor's permutest.rma.uni().

#' Permutation tests for meta-analytic models
#'
#' Generic; the method for \code{\link{rma}} fits is
#' \code{\link{permutest.mf_rma}}.  (\pkg{metafor} has its own generic of the
#' same name; both can be loaded.)
#'
#' @param x a fitted model.
#' @param ... passed to the method.
#' @return See the method.
#' @export
permutest <- function(x, ...) UseMethod("permutest")

#' Permutation test of a meta-analytic model
#'
#' Permutation p-values for the coefficients and the omnibus test of a model
#' fitted by \code{\link{rma}}, as \code{metafor::permutest()} computes them
#' (Follmann & Proschan 1999; Higgins & Thompson 2004): for an intercept-only
#' model the signs of the outcomes are flipped; for a model with moderators
#' the rows of the model matrix are permuted against the outcomes and their
#' sampling variances.  The test is exact -- over all \eqn{2^k} sign vectors,
#' or all distinct arrangements of the rows of the model matrix -- when
#' \code{exact = TRUE} or when their number is at most \code{iter}; otherwise
#' \code{iter} random permutations are used, the first of which is the
#' observed data.  The p-value of a coefficient is the proportion of
#' permutations with \eqn{|z^*| \ge |z|} (t statistics for \code{test = "t"}
#' or \code{"knha"}), that of the omnibus test the proportion with
#' \eqn{QM^* \ge QM} (F statistics for t tests), with a tolerance of
#' \code{sqrt(.Machine$double.eps)} as metafor.  Permuted models that cannot
#' be fitted are left out of an exact test and redrawn in a random one.
#'
#' The permutations are refitted in C++ on several threads; a random test is
#' reproducible with \code{set.seed()} for any number of threads.
#'
#' @param x a model fitted by \code{\link{rma}}.
#' @param iter number of random permutations.
#' @param exact force an exact test (all permutations).
#' @param permci permutation-based confidence intervals: not implemented
#'   yet (must be \code{FALSE}).
#' @param btt coefficients for the omnibus test (default: those of the fit).
#' @param threads number of threads (see \code{\link{boot_rma}}).
#' @param progress show a progress bar (needs \pkg{progressr}).
#' @param ... ignored.
#' @return An object of class \code{mf_permutest}: \code{pval} (permutation
#'   p-values of the coefficients), \code{QMp}, the statistics of the fit
#'   (\code{beta}, \code{se}, \code{zval}, \code{ci.lb}, \code{ci.ub},
#'   \code{QM}, \code{QMdf}), \code{exact}, \code{iter} (number of
#'   permutations used), \code{exact.iter} (number needed for an exact test),
#'   \code{seed}, and the permutation distributions \code{zval.perm},
#'   \code{beta.perm} (data frames) and \code{QM.perm}.
#' @references Follmann DA, Proschan MA (1999). Valid inference in random
#'   effects meta-analysis. \emph{Biometrics} 55:1-7.
#'   Higgins JPT, Thompson SG (2004). Controlling the risk of spurious
#'   findings from meta-regression. \emph{Stat Med} 23:1663-1682.
#'   Viechtbauer W, Lopez-Lopez JA, Sanchez-Meca J, Marin-Martinez F (2015).
#'   A comparison of procedures to test for moderators in mixed-effects
#'   meta-regression models. \emph{Psychol Methods} 20:360-374.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' permutest(fit, progress = FALSE)   # 6! = 720 <= 1000: exact
#' @export
permutest.mf_rma <- function(x, iter = 1000, exact = FALSE, permci = FALSE, btt, threads = NULL,
                             progress = interactive(), ...) {
  d <- .mf_resample_input(x)
  iter <- .mf_whole(iter, "iter", 2, max = 1e9)
  if (!is.logical(exact) || length(exact) != 1L || is.na(exact)) .mf_stop("'exact' must be TRUE or FALSE.")
  if (!isFALSE(permci))
    .mf_stop("permci is not implemented yet ('permci': permutation-based confidence intervals); use permci = FALSE.")
  if (!is.logical(progress) || length(progress) != 1L || is.na(progress))
    .mf_stop("'progress' must be TRUE or FALSE.")
  btt <- if (missing(btt)) x$btt else .mf_btt(btt, colnames(d$X), x$int.incl)
  m <- length(btt)
  tdist <- x$test %in% c("t", "knha")
  QM <- .mf_wald(c(x$beta), x$vb, btt)
  if (tdist) QM <- QM / m
  QMdf <- c(m, if (tdist) x$k - x$p else NA_integer_)
  QMp <- if (tdist) stats::pf(QM, m, QMdf[2L], lower.tail = FALSE) else stats::pchisq(QM, m, lower.tail = FALSE)

  int.only <- isTRUE(x$int.only)
  k <- d$k
  exact.iter <- if (int.only) 2^k else .mf_n_arrangements(d$X)
  use.exact <- exact || exact.iter <= iter
  if (use.exact && exact.iter > 1e7)
    .mf_stop(sprintf("Too many permutations (%s) for an exact permutation test; use exact = FALSE.",
                     format(exact.iter, big.mark = ",")))
  n <- if (use.exact) exact.iter else iter
  seed <- if (use.exact) NA_real_ else .mf_draw_seed()
  nthreads <- .mf_threads(threads, n_work = n, min_per_thread = 32L)
  res <- .mf_perm_kernel(d$yi, d$vi, d$X, d$weights, d$method, d$test, d$control, as.integer(btt),
                         int.only, use.exact, n, if (use.exact) 0 else seed, nthreads,
                         .mf_progress_fn(progress, n))
  # p-values as metafor: two-sided with |z*| >= |z| - tol, failed fits left out
  comptol <- .Machine$double.eps^0.5
  zval <- c(x$zval)
  pval <- vapply(seq_len(d$p), function(j) mean(abs(res$zval[, j]) >= abs(zval[j]) - comptol, na.rm = TRUE),
                 numeric(1))
  pval[pval > 1] <- 1
  QMp.perm <- mean(res$QM >= QM - comptol, na.rm = TRUE)
  nms <- colnames(d$X)
  zval.perm <- as.data.frame(res$zval); names(zval.perm) <- nms
  beta.perm <- as.data.frame(res$beta); names(beta.perm) <- nms
  names(pval) <- nms
  out <- list(pval = pval, QMdf = QMdf, QMp = QMp.perm, QMp.asymptotic = QMp,
              beta = x$beta, se = x$se, zval = x$zval, ci.lb = x$ci.lb, ci.ub = x$ci.ub,
              QM = QM, k = k, p = d$p, btt = btt, m = m, test = x$test, ddf = x$ddf,
              int.only = int.only, int.incl = x$int.incl,
              digits = if (is.null(x$digits)) 4L else x$digits,
              exact = use.exact, iter = n, exact.iter = exact.iter, seed = seed, permci = FALSE,
              failed = sum(is.na(res$QM)), threads = nthreads,
              zval.perm = zval.perm, beta.perm = beta.perm, QM.perm = res$QM)
  class(out) <- "mf_permutest"
  out
}

# Number of distinct arrangements of the rows of X: k! / prod(n_g!) over the
# groups g of equal rows (a multinomial coefficient).
.mf_n_arrangements <- function(X) {
  cols <- lapply(seq_len(ncol(X)), function(j) sprintf("%.17g", X[, j]))
  key <- do.call(paste, c(cols, sep = "\r"))
  ng <- table(key)
  round(exp(lfactorial(nrow(X)) - sum(lfactorial(ng))))
}

#' @rdname permutest.mf_rma
#' @param digits number of decimals to print.
#' @param signif.stars show significance stars.
#' @export
print.mf_permutest <- function(x, digits = x$digits, signif.stars = getOption("show.signif.stars"), ...) {
  fx <- function(v) ifelse(is.na(v), "NA", formatC(v, format = "f", digits = digits))
  fp <- function(p) {
    thr <- 10^(-digits)
    ifelse(is.na(p), "NA", ifelse(p < thr, paste0("<", sub("^0", "", formatC(thr, format = "f", digits = digits))),
                                  formatC(p, format = "f", digits = digits)))
  }
  cat("\n")
  cat(sprintf("%s permutation test (%s permutations%s)\n\n", if (x$exact) "Exact" else "Approximate",
              format(x$iter, big.mark = ","), if (x$failed > 0) sprintf(", %d not fitted", x$failed) else ""))
  tdist <- x$test %in% c("t", "knha")
  if (!x$int.only) {
    btxt <- if (length(x$btt) > 1L && all(diff(x$btt) == 1L)) paste0(min(x$btt), ":", max(x$btt))
            else paste(x$btt, collapse = ",")
    cat(sprintf("Test of Moderators (coefficient%s %s):\u00b9\n", if (x$m == 1) "" else "s", btxt))
    qp <- fp(x$QMp)
    qp <- if (startsWith(qp, "<")) paste("<", substring(qp, 2)) else paste("=", qp)
    if (tdist) cat(sprintf("F(df1 = %d, df2 = %d) = %s, p-val %s\n\n", x$QMdf[1L], x$QMdf[2L], fx(x$QM), qp))
    else cat(sprintf("QM(df = %d) = %s, p-val %s\n\n", x$QMdf[1L], fx(x$QM), qp))
  }
  tab <- data.frame(estimate = fx(c(x$beta)), se = fx(x$se), stat = fx(c(x$zval)), stringsAsFactors = FALSE)
  names(tab)[3L] <- if (tdist) "tval" else "zval"
  if (tdist) tab$df <- x$ddf
  tab$pval <- paste0(fp(x$pval), "\u00b9")
  tab$ci.lb <- fx(x$ci.lb)
  tab$ci.ub <- fx(x$ci.ub)
  if (signif.stars) {
    tab[[" "]] <- as.character(stats::symnum(x$pval, corr = FALSE, na = FALSE,
                                              cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                                              symbols = c("***", "**", "*", ".", " ")))
  }
  rownames(tab) <- rownames(x$beta)
  cat("Model Results:\n\n")
  print(tab, quote = FALSE, right = TRUE, print.gap = 2)
  cat("\n---\n")
  if (signif.stars) cat("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n")
  cat(sprintf("\n\u00b9 p-value%s based on permutation testing\n\n", if (x$int.only) "" else "s"))
  invisible(x)
}
