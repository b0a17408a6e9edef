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
#'   their names).  A list (or a character vector of several strings) gives
#'   one test per element, returned as a \code{list.anova.mf_rma}.
#' @param X a vector or matrix of linear combinations (one per row) of the
#'   coefficients; with p - 1 columns an intercept column of ones is added.
#' @param att,Z metafor's tests of the scale coefficients of location-scale
#'   models; metafast fits no location-scale models, so giving either is an
#'   error.
#' @param rhs the right-hand side of the hypotheses (default 0): with
#'   \code{btt}, \eqn{H_0: \beta_{btt} = rhs}{H0: b[btt] = rhs}; with
#'   \code{X}, \eqn{H_0: X\beta = rhs}{H0: X b = rhs}.  One value (used for
#'   all) or one per coefficient tested / row of \code{X}.
#' @param adjust adjust the p-values of the individual tests (the rows of
#'   \code{X}, or the elements of a list \code{btt}) for multiple testing:
#'   a method of \code{\link[stats]{p.adjust}} (\code{"bonferroni"},
#'   \code{"holm"}, ...), or \code{TRUE} for \code{"bonferroni"} and
#'   \code{FALSE} for none, as metafor.
#' @param refit with two REML fits that differ in their fixed effects, refit
#'   both with \code{method = "ML"} for the likelihood ratio test (as
#'   metafor's \code{refit = TRUE}); otherwise such a comparison only warns.
#' @param digits number of decimals for printing.
#' @param ... ignored.
#' @return An object of class \code{anova.mf_rma} (or, for a list
#'   \code{btt}, \code{list.anova.mf_rma}); \code{as.data.frame()} gives
#'   metafor's table of the results.
#' @references Viechtbauer W (2010). Conducting meta-analyses in R with the
#'   metafor package. \emph{J Stat Softw} 36(3):1-48.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02), x = 1:6)
#' fit1 <- rma(yi, vi, mods = ~ x, data = dat, method = "ML")
#' fit0 <- rma(yi, vi, data = dat, method = "ML")
#' anova(fit1)
#' anova(fit1, X = rbind(c(1, 2), c(1, 5)))
#' anova(fit1, X = rbind(c(1, 2), c(1, 5)), rhs = 0.3, adjust = "holm")
#' anova(fit1, btt = 2, rhs = 0.05)
#' anova(fit1, fit0)
#' @export
anova.mf_rma <- function(object, object2, btt, X, att, Z, rhs, adjust, digits, refit = FALSE, ...) {
  .mf_check_dots("anova.mf_rma", ...)
  x <- object
  if (!missing(att)) .mf_stop("Argument 'att' (tests of the scale coefficients of location-scale models) is not supported: metafast fits no location-scale models.")
  if (!missing(Z)) .mf_stop("Argument 'Z' (linear combinations of the scale coefficients of location-scale models) is not supported: metafast fits no location-scale models.")
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  adjust <- .mf_adjust_method(if (missing(adjust)) NULL else adjust)
  rhs.given <- !missing(rhs)
  if (!rhs.given) rhs <- NULL
  if (missing(object2) || is.null(object2)) {
    if (missing(X) || is.null(X)) {
      if (!missing(btt) && !is.null(btt) && (is.list(btt) || (is.character(btt) && length(btt) > 1L))) {
        if (rhs.given) .mf_stop("Cannot use 'rhs' with a list 'btt' (one test per element).")
        return(.mf_anova_btt_list(btt, adjust, function(b) .mf_anova_btt(x, b, NULL, d)))
      }
      res <- .mf_anova_btt(x, if (missing(btt)) NULL else btt, rhs, d)
      if (!is.null(adjust)) res$QMp <- stats::p.adjust(res$QMp, method = adjust)
    } else {
      res <- .mf_anova_contrasts(x, X, rhs, d)
      if (!is.null(adjust)) res$pval <- stats::p.adjust(res$pval, method = adjust)
    }
  } else {
    if (!is.logical(refit) || length(refit) != 1L || is.na(refit)) .mf_stop("'refit' must be TRUE or FALSE.")
    res <- .mf_anova_lrt(x, object2, d, refit)
  }
  class(res) <- "anova.mf_rma"
  res
}

# metafor's 'adjust': TRUE means Bonferroni, FALSE none, else a p.adjust method.
.mf_adjust_method <- function(adjust) {
  if (is.null(adjust)) return(NULL)
  if (is.logical(adjust) && length(adjust) == 1L && !is.na(adjust)) return(if (adjust) "bonferroni" else "none")
  if (!is.character(adjust) || length(adjust) != 1L || is.na(adjust) ||
      is.na(i <- pmatch(adjust, stats::p.adjust.methods)))
    .mf_stop(sprintf("Unknown 'adjust' method; use TRUE, FALSE or one of %s (see ?p.adjust).",
                     paste(stats::p.adjust.methods, collapse = ", ")))
  stats::p.adjust.methods[i]
}

# rhs: NULL (all 0), one value for all, or one per hypothesis.
.mf_rhs <- function(rhs, m, what) {
  if (is.null(rhs)) return(rep(0, m))
  if (!is.numeric(rhs) || anyNA(rhs) || !all(is.finite(rhs)))
    .mf_stop("'rhs' must be a numeric vector of finite values.")
  rhs <- as.double(rhs)
  if (length(rhs) == 1L) rhs <- rep(rhs, m)
  if (length(rhs) != m)
    .mf_stop(sprintf("Length of 'rhs' (%d) does not match the number of %s (%d).", length(rhs), what, m))
  rhs
}

# One Wald test per element of a list (or character vector) btt, p-values
# adjusted for multiple testing as metafor's anova(); test(b) is the test of
# one element.
.mf_anova_btt_list <- function(btt, adjust, test) {
  res <- lapply(as.list(btt), test)
  if (!is.null(adjust)) {
    p.adj <- stats::p.adjust(vapply(res, function(r) r$QMp, numeric(1)), method = adjust)
    for (j in seq_along(res)) res[[j]]$QMp <- p.adj[j]
  }
  names(res) <- vapply(as.list(btt), .mf_format_btt, character(1))
  class(res) <- "list.anova.mf_rma"
  res
}

# The Wald test of H0: b[btt] = rhs (QM, or QM / m against F(m, k - p)).
.mf_anova_btt <- function(x, btt, rhs, d) {
  btt <- if (is.null(btt)) x$btt else .mf_btt(btt, rownames(x$beta), x$int.incl)
  m <- length(btt)
  QM <- .mf_wald_stat(x, btt = btt, rhs = .mf_rhs(rhs, m, "coefficients tested"))
  if (.mf_tdist(x$test)) {
    QM <- QM / m
    QMdf <- c(m, x$k - x$p)
    QMp <- if (QMdf[2] > 0) stats::pf(QM, m, QMdf[2], lower.tail = FALSE) else NA_real_
  } else {
    QMdf <- c(m, NA_integer_)
    QMp <- stats::pchisq(QM, m, lower.tail = FALSE)
  }
  list(QM = QM, QMdf = QMdf, QMp = QMp, btt = btt, k = x$k, p = x$p, m = m,
       test = x$test, digits = d, type = "Wald.btt")
}

.mf_anova_contrasts <- function(x, X, rhs, d) {
  if (is.data.frame(X)) X <- as.matrix(X)
  if (!is.numeric(X)) .mf_stop("'X' must be a numeric vector or matrix of linear combinations.")
  if (is.null(dim(X))) X <- rbind(X)
  if (x$int.incl && ncol(X) == x$p - 1L) X <- cbind(1, X)
  if (ncol(X) != x$p)
    .mf_stop(sprintf("'X' has %d columns but the model has %d coefficients.", ncol(X), x$p))
  if (anyNA(X)) .mf_stop(sprintf("'X' has missing values in %s.", .mf_rows(apply(X, 1L, anyNA))))
  m <- nrow(X)
  rhs <- .mf_rhs(rhs, m, "linear combinations")
  tdist <- .mf_tdist(x$test)
  ddf <- if (tdist) rep(x$k - x$p, m) else rep(NA_integer_, m)
  Xb <- c(X %*% x$beta) - rhs
  vXb <- X %*% x$vb %*% t(X)
  se <- sqrt(diag(vXb))
  zval <- unname(Xb / se)
  pval <- if (tdist) ifelse(ddf > 0, 2 * stats::pt(abs(zval), pmax(ddf, 1), lower.tail = FALSE), NA_real_)
          else 2 * stats::pnorm(abs(zval), lower.tail = FALSE)
  QM <- NA_real_; QMp <- NA_real_; QMdf <- c(NA_integer_, NA_integer_)
  if (qr(X)$rank == m) {
    QM <- .mf_wald_stat(x, L = X, rhs = rhs)
    if (tdist) {
      QM <- QM / m
      QMdf <- c(m, min(ddf))
      QMp <- if (QMdf[2] > 0) stats::pf(QM, m, QMdf[2], lower.tail = FALSE) else NA_real_
    } else {
      QMdf <- c(m, NA_integer_)
      QMp <- stats::pchisq(QM, m, lower.tail = FALSE)
    }
  }
  # Hypotheses as text: "ablat = 0", "intrcpt + 10*ablat = 0.5".
  nm <- rownames(x$beta)
  hyp <- vapply(seq_len(m), function(j) {
    xj <- round(X[j, ], d)
    sel <- xj != 0
    h <- paste(paste(xj[sel], nm[sel], sep = "*"), collapse = " + ")
    h <- gsub("+ -", "- ", h, fixed = TRUE)
    gsub("(^|\\s|-)1\\*", "\\1", h)
  }, character(1))
  hyp <- paste0(hyp, " = ", if (all(rhs == 0)) "0" else if (length(unique(rhs)) == 1L) round(rhs, d)
                            else .mf_fmtx(rhs, d))
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
  con <- m$control[intersect(names(m$control), c("threshold", "maxiter", "stepadj", "tau2.min", "tau2.max", "tol"))]
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
    # the hypotheses right-aligned under the heading, as metafor prints them
    cat("Hypothes", if (x$m == 1) "is" else "es", ":", sep = "")
    h <- data.frame(x$hyp, stringsAsFactors = FALSE)
    colnames(h) <- ""
    rownames(h) <- paste0(seq_len(x$m), ":")
    cat(utils::capture.output(print(h)), sep = "\n")
    cat("\nResults:\n")
    tab <- data.frame(estimate = .mf_fmtx(c(x$Xb), d), se = .mf_fmtx(x$se, d), stringsAsFactors = FALSE)
    if (tdist) tab$tval <- .mf_fmtx(x$zval, d) else tab$zval <- .mf_fmtx(x$zval, d)
    if (tdist) tab$df <- round(x$ddf, 2)
    tab$pval <- .mf_fmtp(x$pval, d)
    if (isTRUE(getOption("show.signif.stars"))) {
      tab <- cbind(tab, .mf_signif_stars(x$pval))
      colnames(tab)[ncol(tab)] <- ""
    }
    rownames(tab) <- paste0(seq_len(x$m), ":")
    print(tab, quote = FALSE, right = TRUE)
    if (!is.na(x$QM)) {
      cat(if (x$m == 1L) "\nTest of Hypothesis:\n" else "\nOmnibus Test of Hypotheses:\n")
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
    if (!.mf_estimator_has(x$method, "random") || is.na(x$tau2.f) || is.na(x$tau2.r)) tab[["tau^2"]] <- NULL
    if (any(c("mf_rma_mv", "mf_rma_glmm") %in% x$class.f)) tab[["R^2"]] <- NULL  # (as metafor for rma.mv fits)
    if (is.na(x$QE.f) && is.na(x$QE.r)) tab$QE <- NULL  # (rma.glmm fits)
    print(tab, quote = FALSE, right = TRUE)
  }
  cat("\n")
  invisible(x)
}

.mf_signif_stars <- function(p) {
  stats::symnum(p, corr = FALSE, na = FALSE, cutpoints = c(0, 0.001, 0.01, 0.05, 0.1, 1),
                symbols = c("***", "**", "*", ".", " "))
}

#' @rdname anova.mf_rma
#' @export
print.list.anova.mf_rma <- function(x, digits = x[[1L]]$digits, ...) {
  d <- .mf_digits(digits, x[[1L]])
  tab <- as.data.frame.list.anova.mf_rma(x)
  st <- if ("QM" %in% names(tab)) "QM" else "Fval"
  tab[[st]] <- .mf_fmtx(tab[[st]], d)
  stars <- .mf_signif_stars(tab$pval)
  tab$pval <- .mf_fmtp(tab$pval, d)
  if (isTRUE(getOption("show.signif.stars"))) {
    tab <- cbind(tab, stars)
    colnames(tab)[ncol(tab)] <- ""
  }
  cat("\n")
  print(tab, quote = FALSE, right = TRUE)
  cat("\n")
  invisible(x)
}

#' @rdname anova.mf_rma
#' @param row.names,optional ignored (for the \code{as.data.frame} generic).
#' @export
as.data.frame.anova.mf_rma <- function(x, row.names = NULL, optional = FALSE, ...) {
  tdist <- .mf_tdist(x$test)
  if (x$type == "Wald.btt") {
    tab <- data.frame(coefs = .mf_format_btt(x$btt), QM = x$QM, df = round(x$QMdf[1], 2), pval = x$QMp,
                      stringsAsFactors = FALSE)
    if (tdist) {
      names(tab)[2:3] <- c("Fval", "df1")
      tab <- cbind(tab[1:3], df2 = round(x$QMdf[2], 2), tab[4])
    }
    return(tab)
  }
  if (x$type == "Wald.Xb") {
    tab <- data.frame(hyp = x$hyp, estimate = c(x$Xb), se = x$se, stringsAsFactors = FALSE)
    if (tdist) {
      tab$tval <- x$zval
      tab$df <- round(x$ddf, 2)
    } else {
      tab$zval <- x$zval
    }
    tab$pval <- x$pval
    rownames(tab) <- paste0(seq_len(x$m), ":")
    return(tab)
  }
  tab <- data.frame(df = c(x$parms.f, x$parms.r),
                    AIC = c(x$fit.stats.f[["AIC"]], x$fit.stats.r[["AIC"]]),
                    BIC = c(x$fit.stats.f[["BIC"]], x$fit.stats.r[["BIC"]]),
                    AICc = c(x$fit.stats.f[["AICc"]], x$fit.stats.r[["AICc"]]),
                    logLik = c(x$fit.stats.f[["ll"]], x$fit.stats.r[["ll"]]),
                    LRT = c(NA_real_, x$LRT), pval = c(NA_real_, x$pval),
                    QE = c(x$QE.f, x$QE.r), tau2 = c(x$tau2.f, x$tau2.r), R2 = c(NA_real_, x$R2))
  colnames(tab)[9:10] <- c("tau^2", "R^2")
  rownames(tab) <- c("Full", "Reduced")
  if (!.mf_estimator_has(x$method, "random") || is.na(x$tau2.f) || is.na(x$tau2.r)) tab[["tau^2"]] <- NULL
  if ("mf_rma_mv" %in% x$class.f) tab[["R^2"]] <- NULL
  tab
}

#' @rdname anova.mf_rma
#' @export
as.data.frame.list.anova.mf_rma <- function(x, row.names = NULL, optional = FALSE, ...) {
  tdist <- .mf_tdist(x[[1L]]$test)
  tab <- data.frame(spec = names(x),
                    coefs = vapply(x, function(r) .mf_format_btt(r$btt), character(1)),
                    QM = vapply(x, function(r) r$QM, numeric(1)),
                    df = vapply(x, function(r) round(r$QMdf[1], 2), numeric(1)),
                    pval = vapply(x, function(r) r$QMp, numeric(1)), stringsAsFactors = FALSE)
  if (tdist) {
    names(tab)[3:4] <- c("Fval", "df1")
    tab <- cbind(tab[1:4], df2 = vapply(x, function(r) round(r$QMdf[2], 2), numeric(1)), tab[5])
  }
  if (all(substr(tab$spec, 1, 1) %in% as.character(1:9))) tab$spec <- NULL
  rownames(tab) <- NULL
  tab
}
