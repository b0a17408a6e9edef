# Wald tests (omnibus over btt, or linear contrasts X b) and likelihood
# ratio tests between nested fits, as metafor's anova.rma().

#' Wald and likelihood ratio tests for meta-analytic models
#'
#' With one model: the omnibus Wald test of the coefficients \code{btt}
#' (\eqn{Q_M = b' V^{-1} b}{QM = b' V^-1 b}, chi-square with m df, or QM/m
#' against F(m, k - p) for \code{test = "t"/"knha"}), or, with \code{X}, the
#' linear combinations \eqn{X b} with their standard errors, z (t) tests and
#' the omnibus test that all are zero.  With two models: the likelihood ratio
#' test of the nested fits (both ML, or both REML with the same fixed effects),
#' with their fit statistics, QE, tau^2 and the proportional reduction of
#' tau^2 (R^2).
#'
#' @param object an object of class \code{mf_rma}.
#' @param object2 an optional second (nested) model.
#' @param btt coefficients to test (indices or a string matched against
#'   their names).
#' @param X a vector or matrix of linear combinations (one per row) of the
#'   coefficients; with p - 1 columns an intercept column of ones is added.
#' @param refit with two REML fits that differ in their fixed effects, refit
#'   both with \code{method = "ML"} for the likelihood ratio test (as
#'   metafor's \code{refit = TRUE}); otherwise such a comparison only warns.
#' @param digits number of decimals for printing.
#' @param ... ignored.
#' @return An object of class \code{anova.mf_rma}.
#' @references Viechtbauer W (2010). Conducting meta-analyses in R with the
#'   metafor package. \emph{J Stat Softw} 36(3):1-48.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit1 <- rma(yi, vi, mods = ~ x, data = dat, method = "ML")
#' fit0 <- rma(yi, vi, data = dat, method = "ML")
#' anova(fit1)
#' anova(fit1, X = rbind(c(1, 2), c(1, 5)))
#' anova(fit1, fit0)
#' @export
anova.mf_rma <- function(object, object2, btt, X, refit = FALSE, digits, ...) {
  .mf_check_dots("anova.mf_rma", ...)
  x <- object
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  tdist <- .mf_tdist(x$test)
  if (missing(object2) || is.null(object2)) {
    if (missing(X) || is.null(X)) {
      btt <- if (missing(btt) || is.null(btt)) x$btt else .mf_btt(btt, rownames(x$beta), x$int.incl)
      m <- length(btt)
      b <- c(x$beta)
      QM <- .mf_wald(b, x$vb, btt)
      if (tdist) {
        QM <- QM / m
        QMdf <- c(m, x$k - x$p)
        QMp <- stats::pf(QM, m, QMdf[2], lower.tail = FALSE)
      } else {
        QMdf <- c(m, NA_integer_)
        QMp <- stats::pchisq(QM, m, lower.tail = FALSE)
      }
      res <- list(QM = QM, QMdf = QMdf, QMp = QMp, btt = btt, k = x$k, p = x$p, m = m,
                  test = x$test, digits = d, type = "Wald.btt")
    } else {
      res <- .mf_anova_contrasts(x, X, d)
    }
  } else {
    if (!is.logical(refit) || length(refit) != 1L || is.na(refit)) .mf_stop("'refit' must be TRUE or FALSE.")
    res <- .mf_anova_lrt(x, object2, d, refit)
  }
  class(res) <- "anova.mf_rma"
  res
}

.mf_anova_contrasts <- function(x, X, d) {
  if (is.data.frame(X)) X <- as.matrix(X)
  if (!is.numeric(X)) .mf_stop("'X' must be a numeric vector or matrix of linear combinations.")
  if (is.null(dim(X))) X <- rbind(X)
  if (x$int.incl && ncol(X) == x$p - 1L) X <- cbind(1, X)
  if (ncol(X) != x$p)
    .mf_stop(sprintf("'X' has %d columns but the model has %d coefficients.", ncol(X), x$p))
  if (anyNA(X)) .mf_stop(sprintf("'X' has missing values in %s.", .mf_rows(apply(X, 1L, anyNA))))
  m <- nrow(X)
  tdist <- .mf_tdist(x$test)
  ddf <- if (tdist) rep(x$k - x$p, m) else rep(NA_integer_, m)
  Xb <- c(X %*% x$beta)
  vXb <- X %*% x$vb %*% t(X)
  se <- sqrt(diag(vXb))
  zval <- Xb / se
  pval <- if (tdist) 2 * stats::pt(abs(zval), ddf, lower.tail = FALSE) else 2 * stats::pnorm(abs(zval), lower.tail = FALSE)
  QM <- NA_real_; QMp <- NA_real_; QMdf <- c(NA_integer_, NA_integer_)
  if (qr(X)$rank == m) {
    QM <- .mf_wald(Xb, vXb, seq_len(m))
    if (tdist) {
      QM <- QM / m
      QMdf <- c(m, min(ddf))
      QMp <- stats::pf(QM, m, QMdf[2], lower.tail = FALSE)
    } else {
      QMdf <- c(m, NA_integer_)
      QMp <- stats::pchisq(QM, m, lower.tail = FALSE)
    }
  }
  # Hypotheses as text: "ablat = 0", "intrcpt + 10*ablat = 0".
  nm <- rownames(x$beta)
  hyp <- vapply(seq_len(m), function(j) {
    xj <- round(X[j, ], d)
    sel <- xj != 0
    h <- paste(paste(xj[sel], nm[sel], sep = "*"), collapse = " + ")
    h <- gsub("+ -", "- ", h, fixed = TRUE)
    h <- gsub("(^|\\s|-)1\\*", "\\1", h)
    paste0(h, " = 0")
  }, character(1))
  list(QM = QM, QMdf = QMdf, QMp = QMp, hyp = hyp, Xb = matrix(Xb, ncol = 1L), se = se, zval = zval,
       pval = pval, k = x$k, p = x$p, m = m, test = x$test, ddf = ddf, digits = d, type = "Wald.Xb")
}

# Does the column space of Xr lie in that of Xf?
.mf_is_nested <- function(Xf, Xr) {
  r <- qr.resid(qr(Xf), Xr)
  all(abs(r) < 1e-8 * max(1, abs(Xr)))
}

# The same model fitted by ML (for anova(refit = TRUE)): from the stored
# outcomes, variances, weights and model matrix (the intercept is a column of X).
.mf_refit_ml <- function(m) {
  con <- m$control[c("threshold", "maxiter", "stepadj", "tau2.max", "tol")]
  rma(m$yi, m$vi, weights = m$weights, mods = m$X, intercept = FALSE, method = "ML", test = m$test,
      level = 100 * (1 - m$level), control = con)
}

.mf_anova_lrt <- function(a, b, d, refit = FALSE) {
  if (!inherits(b, "mf_rma")) .mf_stop("'object2' must be an mf_rma model (from rma()).")
  f <- a; r <- b
  if (f$parms == r$parms) .mf_stop("The two models have the same number of parameters.")
  if (f$parms < r$parms) { f <- b; r <- a }
  if (!isTRUE(all.equal(f$yi, r$yi, tolerance = 0)) || !isTRUE(all.equal(f$vi, r$vi, tolerance = 0)))
    .mf_stop("The observed outcomes and/or sampling variances differ between the full and reduced model.")
  lik <- function(m) .mf_estimator_has(m$method, "likelihood")
  random <- function(m) .mf_estimator_has(m$method, "random")
  restricted <- function(m) .mf_estimator_has(m$method, "restricted")
  if (!random(f) && random(r))
    .mf_stop("The full model is an equal-effects model but the reduced model has random effects.")
  if (lik(f) && lik(r) && restricted(f) != restricted(r))
    .mf_stop(sprintf("Mismatch between the use of %s and %s estimation in the full versus reduced model.", f$method, r$method))
  if (!all(c(lik(f) || !random(f), lik(r) || !random(r))))
    warning("LRTs should be based on ML/REML estimation.", call. = FALSE)
  sameX <- identical(unname(f$X), unname(r$X))
  if (refit && restricted(f) && !sameX && !isTRUE(f$tau2.fix) && !isTRUE(r$tau2.fix)) {
    f <- .mf_refit_ml(f)
    r <- .mf_refit_ml(r)
  }
  if (restricted(f) && !sameX)
    warning("REML comparisons are not meaningful for models with different fixed effects\n(refit both models with method = \"ML\").", call. = FALSE)
  if (!sameX && !.mf_is_nested(f$X, r$X))
    warning("The models being compared appear not to be nested.", call. = FALSE)
  if (!random(f)) {
    s2 <- function(m) {
      w <- if (is.null(m$weights)) 1 / m$vi else m$weights
      stats::sigma(stats::lm(m$yi ~ m$X, weights = w))^2
    }
    s2f <- s2(f); s2r <- s2(r)
    R2 <- 100 * max(0, (s2r - s2f) / s2r)
  } else if (identical(r$tau2, 0)) {
    R2 <- 0
  } else {
    R2 <- 100 * max(0, (r$tau2 - f$tau2) / r$tau2)
  }
  col <- if (restricted(f)) "REML" else "ML"
  LRT <- max(0, r$fit.stats["dev", col] - f$fit.stats["dev", col])
  df <- f$parms - r$parms
  fs <- function(m) { v <- m$fit.stats[[col]]; names(v) <- rownames(m$fit.stats); v }
  list(fit.stats.f = fs(f), fit.stats.r = fs(r), parms.f = f$parms, parms.r = r$parms,
       LRT = LRT, pval = stats::pchisq(LRT, df, lower.tail = FALSE),
       QE.f = f$QE, QE.r = r$QE, tau2.f = f$tau2, tau2.r = r$tau2, R2 = R2,
       method = f$method, digits = d, type = "LRT")
}

#' @rdname anova.mf_rma
#' @param x an object of class \code{anova.mf_rma}.
#' @export
print.anova.mf_rma <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  tdist <- .mf_tdist(x$test)
  cat("\n")
  if (x$type == "Wald.btt") {
    cat("Test of Moderators (coefficient", if (x$m == 1) " " else "s ", .mf_format_btt(x$btt), "):\n", sep = "")
    if (tdist) cat(.mf_fmtt(x$QM, "F", df1 = x$QMdf[1], df2 = x$QMdf[2], pval = x$QMp, digits = d), "\n", sep = "")
    else cat(.mf_fmtt(x$QM, "QM", df = x$QMdf[1], pval = x$QMp, digits = d), "\n", sep = "")
  }
  if (x$type == "Wald.Xb") {
    cat("Hypothes", if (x$m == 1) "is" else "es", ":\n", sep = "")
    h <- data.frame(x$hyp, stringsAsFactors = FALSE)
    colnames(h) <- ""
    rownames(h) <- paste0(seq_len(x$m), ":")
    print(h, right = FALSE)
    cat("\nResults:\n")
    tab <- data.frame(estimate = .mf_fmtx(c(x$Xb), d), se = .mf_fmtx(x$se, d), stringsAsFactors = FALSE)
    if (tdist) tab$tval <- .mf_fmtx(x$zval, d) else tab$zval <- .mf_fmtx(x$zval, d)
    if (tdist) tab$df <- x$ddf
    tab$pval <- .mf_fmtp(x$pval, d)
    if (isTRUE(getOption("show.signif.stars")))
      tab[[" "]] <- as.character(stats::symnum(x$pval, corr = FALSE, na = FALSE, cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                                               symbols = c("***", "**", "*", ".", " ")))
    rownames(tab) <- paste0(seq_len(x$m), ":")
    print(tab, quote = FALSE, right = TRUE)
    if (!is.na(x$QM) && x$m > 1L) {
      cat("\nOmnibus Test of Hypotheses:\n")
      if (tdist) cat(.mf_fmtt(x$QM, "F", df1 = x$QMdf[1], df2 = x$QMdf[2], pval = x$QMp, digits = d), "\n", sep = "")
      else cat(.mf_fmtt(x$QM, "QM", df = x$QMdf[1], pval = x$QMp, digits = d), "\n", sep = "")
    }
  }
  if (x$type == "LRT") {
    fs <- function(v, nm) .mf_fmtx(v[nm], d)
    tab <- data.frame(df = c(x$parms.f, x$parms.r),
                      AIC = c(fs(x$fit.stats.f, "AIC"), fs(x$fit.stats.r, "AIC")),
                      BIC = c(fs(x$fit.stats.f, "BIC"), fs(x$fit.stats.r, "BIC")),
                      AICc = c(fs(x$fit.stats.f, "AICc"), fs(x$fit.stats.r, "AICc")),
                      logLik = c(fs(x$fit.stats.f, "ll"), fs(x$fit.stats.r, "ll")),
                      LRT = c("", .mf_fmtx(x$LRT, d)), pval = c("", .mf_fmtp(x$pval, d)),
                      QE = c(.mf_fmtx(x$QE.f, d), .mf_fmtx(x$QE.r, d)),
                      tau2 = c(.mf_fmtx(x$tau2.f, d), .mf_fmtx(x$tau2.r, d)),
                      R2 = c("", .mf_fmtx(x$R2, d, "%")), stringsAsFactors = FALSE)
    colnames(tab)[9:10] <- c("tau^2", "R^2")
    rownames(tab) <- c("Full", "Reduced")
    if (!.mf_estimator_has(x$method, "random")) tab[["tau^2"]] <- NULL
    print(tab, quote = FALSE, right = TRUE)
  }
  cat("\n")
  invisible(x)
}
