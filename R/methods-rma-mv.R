# Methods for mf_rma_mv objects (rma.mv(), R/rma_mv.R): print and summary
# laid out as metafor's print.rma.mv(), the extractors with metafor's
# definitions, predict() and the I^2 of each level.  The class is not a
# subclass of mf_rma: methods of univariate models (hatvalues, influence,
# leave1out, ...) would silently give wrong answers for it.

#' Print and summarise a fitted multilevel model
#'
#' \code{print()} lays the fit out as \code{metafor}'s \code{print.rma.mv()}:
#' the variance components (estimate, square root, number of levels, fixed,
#' factor), the test for (residual) heterogeneity, the test of moderators and
#' the table of coefficients.  \code{summary()} adds the fit statistics and,
#' beyond metafor, the I^2 of each level (see \code{\link{i2_levels}}).
#'
#' @param x an object of class \code{mf_rma_mv} (or \code{summary.mf_rma_mv}).
#' @param object an object of class \code{mf_rma_mv}.
#' @param digits number of decimals (default: the \code{digits} of the fit).
#' @param showfit print the fit statistics (\code{TRUE} in \code{summary()}).
#' @param signif.stars show significance stars.
#' @param signif.legend show the legend of the stars.
#' @param ... ignored.
#' @return \code{print} returns \code{x} invisibly; \code{summary} returns an
#'   object of class \code{c("summary.mf_rma_mv", "mf_rma_mv")}.
#' @export
print.mf_rma_mv <- function(x, digits, showfit = FALSE, signif.stars = getOption("show.signif.stars"),
                            signif.legend = signif.stars, ...) {
  d <- .mf_digits(digits, x)
  cat("\nMultivariate Meta-Analysis Model (k = ", x$k, "; method: ", x$method, ")\n", sep = "")
  if (showfit) {
    fs <- .mf_fmtx(x$fit.stats[[if (x$method == "REML") "REML" else "ML"]], d)
    names(fs) <- c("logLik", "Deviance", "AIC", "BIC", "AICc")
    cat("\n")
    print(fs, quote = FALSE, print.gap = 2)
  }
  cat("\nVariance Components:\n\n")
  if (!isFALSE(x$withS)) {
    vc <- cbind(estim = .mf_fmtx(x$sigma2, d), sqrt = .mf_fmtx(sqrt(x$sigma2), d), nlvls = x$s.nlevels,
                fixed = ifelse(x$vc.fix$sigma2, "yes", "no"), factor = x$s.names)
    if (isTRUE(x$withR)) vc <- cbind(vc, R = ifelse(x$Rfix, "yes", "no"))  # (known correlation matrices, as metafor)
    rownames(vc) <- if (length(x$sigma2) == 1L) "sigma^2  " else paste0("sigma^2.", seq_along(x$sigma2))
    print(vc, quote = FALSE, right = TRUE, print.gap = 2)
    cat("\n")
  }
  if (isTRUE(x$withG)) .mf_print_struct_term(x, d, "g")
  if (isTRUE(x$withH)) .mf_print_struct_term(x, d, "h")
  if (inherits(x, "summary.mf_rma_mv")) .mf_print_i2_levels(x)
  if (!is.na(x$QE)) {
    if (x$int.only) cat("Test for Heterogeneity:\n", .mf_fmtt(x$QE, "Q", df = x$QEdf, pval = x$QEp, digits = d), "\n\n", sep = "")
    else cat("Test for Residual Heterogeneity:\n", .mf_fmtt(x$QE, "QE", df = x$QEdf, pval = x$QEp, digits = d), "\n\n", sep = "")
  }
  tdist <- x$test == "t"
  signif <- .mf_print_model_results(x, d, tdist, signif.stars)
  if (isTRUE(signif.legend)) cat("\n---\nSignif. codes:  ", attr(signif, "legend"), "\n", sep = "")
  if (!isTRUE(x$convergence$converged))
    cat("\nNote: the ", x$method, " fit did not converge (", x$convergence$message, "); see $convergence.\n", sep = "")
  cat("\n")
  invisible(x)
}

# One '~ inner | outer' term's section of print(), laid out as metafor's:
# the outer and inner factors, then tau^2 and rho (gamma^2 and phi for the
# second term), one row a level for DIAG.
.mf_print_struct_term <- function(x, d, w) {
  h <- w == "h"
  v <- if (h) x$gamma2 else x$tau2
  r <- if (h) x$phi else x$rho
  fv <- if (h) x$vc.fix$gamma2 else x$vc.fix$tau2
  fr <- if (h) x$vc.fix$phi else x$vc.fix$rho
  st <- x$struct[if (h) 2L else 1L]
  nms <- x[[paste0(w, ".names")]]
  nl <- x[[paste0(w, ".nlevels")]]
  if (st %in% .mf_mv_gen_sp) return(.mf_print_gen_sp_term(x, d, h, st, v, r, fv, fr, unname(nms), nl))
  mn <- max(nchar(nms))
  pad <- function(s) paste0(s, strrep(" ", max(0, mn - nchar(s))))
  cat("outer factor: ", pad(nms[2L]), " (nlvls = ", nl[2L], ")\n", sep = "")
  cat("inner factor: ", pad(nms[1L]), " (nlvls = ", x[[paste0(w, ".nlevels.f")]][1L], ")\n\n", sep = "")
  vn <- if (h) "gamma^2" else "tau^2"
  rn <- if (h) "phi" else "rho"
  yn <- function(f) ifelse(f, "yes", "no")
  lk <- x[[paste0(w, ".levels.k")]]
  lf <- x[[paste0(w, ".levels.f")]][[1L]]
  if (st %in% c("DIAG", "HCS", "HAR")) {
    vc <- cbind(estim = .mf_fmtx(v, d), sqrt = .mf_fmtx(sqrt(v), d), k.lvl = lk, fixed = yn(fv), level = lf)
    rownames(vc) <- if (length(v) == 1L) paste0(vn, if (h) " " else "   ") else paste0(vn, ".", seq_along(v), "  ")
    if (st != "DIAG") {
      vc <- rbind(vc, c(.mf_fmtx(r, d), "", "", yn(fr), ""))
      rownames(vc)[nrow(vc)] <- rn
    }
  } else if (st %in% c("UN", "UNR")) {
    # the variances (one a level), then the correlations below the diagonal
    # beside the number of outer levels holding each pair (above) and
    # whether each correlation is fixed (below), as metafor prints them
    nl <- length(lk)
    vv <- if (st == "UN") v else rep(v, nl)
    vc <- cbind(estim = .mf_fmtx(vv, d), sqrt = .mf_fmtx(sqrt(vv), d), k.lvl = lk,
                fixed = yn(if (st == "UN") fv else rep(fv, nl)), level = lf)
    rownames(vc) <- if (nl == 1L) vn else paste0(vn, ".", seq_len(nl), "  ")
    print(vc, quote = FALSE, right = TRUE, print.gap = 2)
    cat("\n")
    m <- if (length(r) == 1L) 2L else nl
    G <- matrix(NA_character_, m, m)
    G[lower.tri(G)] <- .mf_fmtx(r, d)
    G[upper.tri(G)] <- t(G)[upper.tri(G)]
    diag(G) <- 1
    G[upper.tri(G)] <- ""
    Gi <- matrix(NA_character_, m, m)
    Gi[lower.tri(Gi)] <- x[[paste0(w, ".levels.comb.k")]]
    Gi[upper.tri(Gi)] <- t(Gi)[upper.tri(Gi)]
    Gi[lower.tri(Gi)] <- yn(fr)
    diag(Gi) <- "-"
    vc <- cbind(G, "", Gi)
    colnames(vc) <- c(paste0(rn, ".", abbreviate(lf)), "", abbreviate(lf))
    rownames(vc) <- lf
  } else {
    vc <- rbind(c(.mf_fmtx(v, d), .mf_fmtx(sqrt(v), d), yn(fv)), c(.mf_fmtx(r, d), "", yn(fr)))
    colnames(vc) <- c("estim", "sqrt", "fixed")
    rownames(vc) <- c(paste0(vn, if (h) "  " else "    "), rn)  # (metafor's padding)
    if (st == "ID") vc <- vc[1L, , drop = FALSE]
  }
  print(vc, quote = FALSE, right = TRUE, print.gap = 2)
  cat("\n")
}

# The section of a GEN, GDIAG or spatial term, laid out as metafor's: the
# outer factor and the inner term, then one variance per column of the inner
# term (GEN: beside the correlations, fixed or not below the diagonal) or
# tau^2 and the range rho.
.mf_print_gen_sp_term <- function(x, d, h, st, v, r, fv, fr, nms, nl) {
  yn <- function(f) ifelse(f, "yes", "no")
  outer <- nms[length(nms)]
  forms <- if (is.list(x$random) && !inherits(x$random, "formula")) x$random else list(x$random)
  io <- Filter(function(f) !(is.numeric(f[[2L]][[2L]]) && f[[2L]][[2L]] == 1), forms)
  inner <- paste0("~", gsub(" ", "", paste(deparse(io[[if (h) 2L else 1L]][[2L]][[2L]]), collapse = "")))
  mn <- max(nchar(c(outer, inner)))
  pad <- function(s) paste0(s, strrep(" ", max(0, mn - nchar(s))))
  cat("outer factor: ", pad(outer), " (nlvls = ", nl[2L], ")\n", sep = "")
  cat("inner term:   ", pad(inner), " (nlvls = ", nl[1L], ")\n\n", sep = "")
  if (st %in% c("GEN", "GDIAG")) {
    cn <- nms[-length(nms)]
    vc <- cbind(estim = .mf_fmtx(v, d), sqrt = .mf_fmtx(sqrt(v), d), fixed = yn(fv))
    rownames(vc) <- cn
    if (st == "GEN" && length(cn) > 1L) {
      n <- length(cn)
      G <- matrix("", n, n)
      R <- diag(n)
      R[lower.tri(R)] <- r
      F <- matrix(FALSE, n, n)
      F[lower.tri(F)] <- fr
      G[upper.tri(G)] <- .mf_fmtx(t(R)[upper.tri(R)], d)
      G[lower.tri(G)] <- yn(F[lower.tri(F)])
      diag(G) <- "-"
      colnames(G) <- abbreviate(cn)
      vc <- cbind(vc, "rho:" = "", G)
    }
  } else {
    vn <- if (h) "gamma^2" else "tau^2"
    vc <- rbind(c(.mf_fmtx(v, d), .mf_fmtx(sqrt(v), d), yn(fv)), c(.mf_fmtx(r, d), "", yn(fr)))
    colnames(vc) <- c("estim", "sqrt", "fixed")
    rownames(vc) <- c(paste0(vn, if (h) "  " else "    "), if (h) "phi" else "rho")
  }
  print(vc, quote = FALSE, right = TRUE, print.gap = 2)
  cat("\n")
}

#' @rdname print.mf_rma_mv
#' @export
summary.mf_rma_mv <- function(object, digits, ...) {
  if (!missing(digits)) object$digits <- digits
  object$i2.ci <- .mf_mv_i2_ci(object)  # (the profile-likelihood CIs of the I^2 per level: refits, once)
  class(object) <- c("summary.mf_rma_mv", class(object))
  object
}

#' @rdname print.mf_rma_mv
#' @export
print.summary.mf_rma_mv <- function(x, digits, showfit = TRUE, signif.stars = getOption("show.signif.stars"),
                                    signif.legend = signif.stars, ...) {
  print.mf_rma_mv(x, digits = .mf_digits(digits, x), showfit = showfit, signif.stars = signif.stars,
                  signif.legend = signif.legend, ...)
  invisible(x)
}

#' I^2 of each level of a multilevel model
#'
#' The share of the total variance (heterogeneity plus a typical sampling
#' variance) that each variance component accounts for:
#' \deqn{I^2_l = 100\, \sigma^2_l / (\sum_j \sigma^2_j + \tilde v), \quad
#'   \tilde v = (k - p) / \mathrm{tr}(P),}{I2_l = 100 sigma2_l / (sum sigma2 + v), v = (k - p) / tr(P),}
#' with \eqn{P = W - W X (X'WX)^{-1} X'W}{P = W - W X (X'WX)^-1 X'W},
#' \eqn{W = \mathrm{diag}(1/v_i)}{W = diag(1/vi)} (the typical sampling
#' variance of Higgins & Thompson 2002, generalised to meta-regression).
#' This is the multilevel I^2 of Nakagawa & Santos (2012) and Cheung (2014),
#' in the form given in metafor's FAQ; \code{metafor} does not print it.
#' Computed in O(k p^2).  A \code{~ inner | outer} term adds its variance
#' tau^2 (gamma^2) to every row; a heteroscedastic term (DIAG, HCS, HAR, UN)
#' adds tau^2_j to the rows at inner level j, and enters as tau^2_j times the
#' share of rows at that level (so that the parts sum to the average
#' heterogeneity of a row).  \code{summary()} prints each I^2 with its
#' profile-likelihood interval (\code{\link{confint.mf_rma_mv}}) and each
#' level's share of the heterogeneity.
#'
#' @param x an object of class \code{mf_rma_mv}.
#' @return A named numeric vector: I^2 (percent) per level (named by the
#'   factor for sigma^2 components, \code{tau^2.j} / \code{gamma^2.j} for
#'   inner | outer terms) and in total.
#' @references Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a
#'   meta-analysis. \emph{Stat Med} 21:1539-1558. Nakagawa S, Santos ESA
#'   (2012). Methodological issues and advances in biological meta-analysis.
#'   \emph{Evol Ecol} 26:1253-1274. Cheung MWL (2014). Modeling dependent
#'   effect sizes with three-level meta-analyses: a structural equation
#'   modeling approach. \emph{Psychol Methods} 19:211-229.
#' @export
i2_levels <- function(x) {
  if (!inherits(x, "mf_rma_mv")) .mf_stop("'x' must be a model fitted by rma.mv().")
  .mf_mv_i2_parts(x)$I2
}

# The variance each component adds to a row (sigma2_l; tau2 and gamma2 of a
# homoscedastic '~ inner | outer' term; for a heteroscedastic term (DIAG,
# HCS, HAR, UN) tau2_j times the share of rows at inner level j, so that the
# parts sum to the average random-effects variance of a row), at theta
# (metafor's scale; default: the estimate).  Returns the parts, their names
# (sigma^2.l, tau^2.j, gamma^2.j as print() names them), the factor of each,
# I2 (percent; names: the factor of sigma2 components, as before, the row
# name of the others; then "total") and the share of each in the total
# heterogeneity.
.mf_mv_i2_parts <- function(x, theta = .mf_mv_theta(x)) {
  L <- if (isFALSE(x$withS)) 0L else length(x$sigma2)
  parts <- theta[seq_len(L)]
  rn <- if (L == 1L) "sigma^2" else if (L) paste0("sigma^2.", seq_len(L)) else character(0)
  fac <- if (L) x$s.names else character(0)
  key <- fac
  terms <- x$mf.spec$structure$terms
  for (t in seq_along(terms)) {
    g <- terms[[t]]
    w <- c("g", "h")[t]
    v <- theta[g$off + seq_len(g$n_v)]
    share <- if (g$n_v > 1L) tabulate(g$inner + 1L, g$n_v) / length(g$inner) else 1
    parts <- c(parts, v * share)
    nm <- c("tau^2", "gamma^2")[t]
    r <- if (g$n_v == 1L) nm else paste0(nm, ".", seq_len(g$n_v))
    rn <- c(rn, r)
    key <- c(key, r)
    nms <- x[[paste0(w, ".names")]]
    fac <- c(fac, if (g$n_v == 1L) paste(nms[1L], "|", nms[2L])
                  else paste0(nms[1L], " = ", x[[paste0(w, ".levels.f")]][[1L]], " | ", nms[2L]))
  }
  vt <- .mf_typical_vi(x)
  tot <- sum(parts)
  I2 <- 100 * c(parts, tot) / (tot + vt)
  names(I2) <- c(key, "total")
  list(parts = parts, rownames = rn, factor = fac, I2 = I2, share = if (tot > 0) parts / tot else rep(NA_real_, length(parts)),
       vt = vt)
}

# The name of component comp[pos] in .mf_mv_i2_parts()$I2.
.mf_mv_i2_name <- function(x, comp, pos) {
  if (comp == "sigma2") return(x$s.names[pos])
  nm <- c(tau2 = "tau^2", gamma2 = "gamma^2")[[comp]]
  if (length(x[[comp]]) == 1L) nm else paste0(nm, ".", pos)
}

# The profile-likelihood interval of the I^2 of each estimated variance
# component (the I^2 at the refits at the bounds of the component's profile
# interval, confint.mf_rma_mv()); NA where it cannot be had.  A matrix with
# columns ci.lb, ci.ub, rows as .mf_mv_i2_parts()'s parts.
.mf_mv_i2_ci <- function(x) {
  pa <- .mf_mv_i2_parts(x)
  out <- matrix(NA_real_, length(pa$parts), 2L, dimnames = list(pa$rownames, c("ci.lb", "ci.ub")))
  if (!is.null(x$mf.spec$refuse)) return(out)
  pos <- tryCatch(.mf_mv_vc_positions(x), error = function(e) NULL)
  if (is.null(pos)) return(out)
  pos <- pos[pos$comp %in% c("sigma2", "tau2", "gamma2"), , drop = FALSE]
  for (r in seq_len(nrow(pos))) {
    ci <- tryCatch(suppressWarnings(.mf_mv_ci_one(x, pos$comp[r], pos$pos[r], x$level, x$digits, list(), FALSE)),
                   error = function(e) NULL)
    if (is.null(ci)) next
    key <- .mf_mv_i2_name(x, pos$comp[r], pos$pos[r])
    out[match(key, names(pa$I2)), ] <- ci$random[3L, c("ci.lb", "ci.ub")]
  }
  out
}

# (k - p) / tr(P) with W = diag(1/vi): tr(P) = sum w - tr((X'WX)^-1 X'W^2X).
.mf_typical_vi <- function(x) {
  if (any(x$vi <= 0)) return(NA_real_)
  w <- 1 / x$vi
  A <- crossprod(x$X, w * x$X)
  B <- crossprod(x$X, w^2 * x$X)
  trP <- sum(w) - sum(diag(solve(A, B)))
  (x$k - x$p) / trP
}

.mf_print_i2_levels <- function(x) {
  pa <- .mf_mv_i2_parts(x)
  ci <- if (!is.null(x$i2.ci)) x$i2.ci else .mf_mv_i2_ci(x)
  n <- length(pa$parts)
  tab <- cbind(I2 = .mf_fmtx(pa$I2, 2, "%"),
               ci.lb = c(.mf_fmtx(ci[, 1L], 2, "%"), ""), ci.ub = c(.mf_fmtx(ci[, 2L], 2, "%"), ""),
               share = .mf_fmtx(100 * c(pa$share, if (n) sum(pa$share) else NA_real_), 1, "%"),
               factor = c(pa$factor, ""))
  tab[tab == "NA"] <- "-"
  rownames(tab) <- c(paste0(pa$rownames, "  "), "total")
  cat("I^2 per level with ", 100 * (1 - x$level), "% profile-likelihood CI, and each level's share of the heterogeneity
",
      "(Nakagawa & Santos 2012; typical sampling variance ", .mf_fmtx(pa$vt, 4), "):\n\n", sep = "")
  print(tab, quote = FALSE, right = TRUE, print.gap = 2)
  cat("\n")
}

#' Extractors for models fitted by rma.mv()
#'
#' As metafor's methods for \code{rma.mv} objects: \code{coef}, \code{vcov},
#' \code{logLik}, \code{deviance}, \code{AIC}, \code{BIC}, \code{nobs},
#' \code{model.matrix} and \code{formula}.  Rows omitted for missing values
#' follow \code{getOption("na.action")} as in metafor.
#'
#' @param object,x,model an object of class \code{mf_rma_mv}.
#' @param REML log-likelihood, deviance: restricted (default for REML fits) or not.
#' @param k,correct AIC: penalty per parameter (only 2) and AICc instead of AIC.
#' @param type vcov: \code{"fixed"} (or \code{"beta"}, the default) the
#'   covariance matrix of the coefficients; \code{"obs"} (or
#'   \code{"marginal"}) the marginal covariance matrix M of the outcomes;
#'   \code{"fitted"} that of the fitted values, \eqn{X V_b X'}{X vb X'};
#'   \code{"resid"} that of the residuals, \eqn{(I - H) M (I - H)'}.  The
#'   last three are k x k matrices, formed only on this request (metafor's
#'   \code{vcov.rma()}).  formula: \code{"mods"} or \code{"yi"}, as for
#'   \code{rma()} fits.
#' @param all nobs(): also the numbers of rows in the data, in
#'   \code{subset}, with complete data, used, and the residual degrees of
#'   freedom (metafor's \code{nobs(all = TRUE)}).
#' @param asdf model.matrix(): return a data frame.
#' @param ... other fits (AIC, BIC) or ignored.
#' @name mf_rma_mv-extract
NULL

#' @rdname mf_rma_mv-extract
#' @export
coef.mf_rma_mv <- function(object, ...) coef.mf_rma(object)

#' @rdname mf_rma_mv-extract
#' @export
vcov.mf_rma_mv <- function(object, type = "fixed", ...) {
  .mf_check_dots("vcov.mf_rma_mv", ...)
  type <- .mf_vcov_type(type, object)
  if (type %in% c("fixed", "beta")) return(object$vb)
  X <- object$X
  # the k x k matrices of metafor's vcov.rma(), formed on this request only
  if (type == "fitted") return(.mf_na_matrix(tcrossprod(X %*% object$vb, X), object))
  sp <- object
  sp$mf.spec$refuse <- NULL  # (a W fit's blocks of M are those of the fit)
  M <- .mf_mv_kxk(sp, "M")
  if (type %in% c("obs", "marginal")) return(.mf_na_matrix(M, object))
  # Var(e) = (I - H) M (I - H)'; with the model's own weights W = M^-1 this
  # is M - X (X'WX)^-1 X' (H = X (X'WX)^-1 X'W)
  if (!.mf_mv_hasW(object)) return(.mf_na_matrix(M - tcrossprod(X %*% object$vb, X), object))
  A <- .mf_mv_A(object)
  XtA <- crossprod(X, A)
  ImH <- diag(object$k) - X %*% solve(XtA %*% X, XtA)
  .mf_na_matrix(ImH %*% tcrossprod(M, ImH), object)
}

#' @rdname mf_rma_mv-extract
#' @export
logLik.mf_rma_mv <- function(object, REML, ...) logLik.mf_rma(object, if (missing(REML)) NULL else REML)

#' @rdname mf_rma_mv-extract
#' @export
deviance.mf_rma_mv <- function(object, REML, ...) deviance.mf_rma(object, if (missing(REML)) NULL else REML)

#' @rdname mf_rma_mv-extract
#' @export
AIC.mf_rma_mv <- function(object, ..., k = 2, correct = FALSE) {
  if (!identical(k, 2)) .mf_stop("AIC(k = ) other than 2 is not supported (as metafor).")
  nms <- vapply(as.list(match.call())[-1L], function(e) paste(deparse(e), collapse = ""), "")
  nms <- nms[!names(as.list(match.call())[-1L]) %in% c("k", "correct")]
  .mf_info_crit(object, list(...), if (isTRUE(correct)) "AICc" else "AIC", nms)
}

#' @rdname mf_rma_mv-extract
#' @export
BIC.mf_rma_mv <- function(object, ...) {
  nms <- vapply(as.list(match.call())[-1L], function(e) paste(deparse(e), collapse = ""), "")
  .mf_info_crit(object, list(...), "BIC", nms)
}

#' @rdname mf_rma_mv-extract
#' @export
nobs.mf_rma_mv <- function(object, all = FALSE, ...) nobs.mf_rma(object, all = all, ...)

#' @rdname mf_rma_mv-extract
#' @export
model.matrix.mf_rma_mv <- function(object, asdf = FALSE, ...) model.matrix.mf_rma(object, asdf = asdf, ...)

#' @rdname mf_rma_mv-extract
#' @export
formula.mf_rma_mv <- function(x, type = "mods", ...) formula.mf_rma(x, type = type, ...)

#' Predicted values for a model fitted by rma.mv()
#'
#' As metafor's \code{predict.rma()} for \code{rma.mv} fits:
#' \code{pred = x'b}, \code{se = sqrt(x' vb x)}, the confidence interval, and
#' the prediction interval
#' \eqn{pred \pm c \sqrt{se^2 + \sum_l \sigma^2_l + \tau^2_j + \gamma^2_h}}{pred +- c sqrt(se^2 + sum(sigma2) + tau2[j] + gamma2[h])}
#' with the total of the variance components, where for
#' \code{~ inner | outer} terms \eqn{j} and \eqn{h} are the inner levels
#' given by \code{tau2.levels} and \code{gamma2.levels}; \eqn{c} is a normal quantile,
#' or for \code{test = "t"} a t quantile with the smallest degrees of freedom
#' of the coefficients the prediction involves.
#'
#' @param object an object of class \code{mf_rma_mv}.
#' @param newmods new moderator values (as in \code{\link{predict.mf_rma}}).
#' @param intercept include the intercept in the new rows (default as in the fit).
#' @param tau2.levels,gamma2.levels for \code{~ inner | outer} terms whose
#'   struct has several variances (DIAG, ...): the inner level (label or
#'   number) whose \eqn{\tau^2}{tau^2} (first term) or
#'   \eqn{\gamma^2}{gamma^2} (second term) enters the prediction interval, one
#'   or one per prediction, as metafor.  Without them the prediction interval
#'   of new rows is \code{NA}; fitted values use each row's own level; an
#'   intercept-only model gives one prediction per inner level (per
#'   combination for two terms).  The result then holds \code{tau2.level} /
#'   \code{gamma2.level}.  An error for a model without such a term.
#' @param transf optional function applied to \code{pred} and the bounds.
#' @param level confidence level (default: the level of the fit).
#' @param adjust Bonferroni adjustment over the predictions, as metafor.
#' @param addx add the rows of the design (\code{X}).
#' @param vcov also return the covariance matrix of the predictions.
#' @param digits number of decimals for printing.
#' @param ... metafor's other arguments (\code{hetvar}, \code{predtype},
#'   \code{newvi}, ...) are not supported yet (error).
#' @return As \code{\link{predict.mf_rma}}.
#' @export
predict.mf_rma_mv <- function(object, newmods, intercept, tau2.levels, gamma2.levels, transf, level,
                              adjust = FALSE, addx = FALSE, vcov = FALSE, digits, ...) {
  x <- object
  todo <- "is not supported by metafast's predict() for rma.mv() fits yet (issue 12)"
  withG <- isTRUE(x$withG)
  withH <- isTRUE(x$withH)
  t2l <- if (missing(tau2.levels)) NULL else tau2.levels
  g2l <- if (missing(gamma2.levels)) NULL else gamma2.levels
  if (!withG && !is.null(t2l))
    .mf_stop("Argument 'tau2.levels' needs a model with an '~ inner | outer' term in 'random'.")
  if (!withH && !is.null(g2l))
    .mf_stop("Argument 'gamma2.levels' needs a model with two '~ inner | outer' terms in 'random'.")
  if (length(list(...))) {
    nms <- names(list(...))
    if (is.null(nms)) nms <- ""
    nms[nms == ""] <- "(unnamed)"
    .mf_stop(sprintf("Argument%s %s %s.", if (length(nms) > 1L) "s" else "", paste0("'", nms, "'", collapse = ", "), todo))
  }
  for (nm in c("adjust", "addx", "vcov")) {
    v <- get(nm)
    if (!is.logical(v) || length(v) != 1L || is.na(v)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  alpha <- if (missing(level)) x$level else .mf_level(level)
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  # GEN/GDIAG terms (random slopes): metafor predicts the fixed part only (no
  # prediction interval, no levels)
  gen <- any(x$struct %in% c("GEN", "GDIAG")) && withG
  if (gen) withG <- withH <- FALSE
  int.spec <- !missing(intercept)
  if (!int.spec) intercept <- x$int.incl
  if (!is.logical(intercept) || length(intercept) != 1L || is.na(intercept))
    .mf_stop("'intercept' must be TRUE or FALSE.")
  rnames <- NULL
  if (missing(newmods) || is.null(newmods)) {
    newmods <- NULL
    if (!x$int.only) {
      Xn <- x$X
      if (withG) {
        # fitted values: each row at the level(s) of its own inner factor (metafor)
        if (!is.null(t2l) || !is.null(g2l))
          warning("Arguments 'tau2.levels' and 'gamma2.levels' ignored when obtaining fitted values.", call. = FALSE)
        t2l <- .mf_mv_row_inner(x, 1L)
        if (withH) g2l <- .mf_mv_row_inner(x, 2L)
      }
    } else if (withG && withH) {
      # intercept-only: one prediction per combination of the inner levels
      # (or per given pair of levels), as metafor
      if (is.null(t2l) && is.null(g2l)) {
        kn <- x$tau2s * x$gamma2s
        t2l <- if (x$tau2s == 1L) rep(1, kn) else rep(x$g.levels.f[[1L]], each = x$gamma2s)
        g2l <- if (x$gamma2s == 1L) rep(1, kn) else rep(x$h.levels.f[[1L]], times = x$tau2s)
      }
      if (is.null(t2l) != is.null(g2l))
        .mf_stop("Either specify both of 'tau2.levels' and 'gamma2.levels' or neither.")
      if (length(t2l) != length(g2l))
        .mf_stop("Length of 'tau2.levels' and 'gamma2.levels' are not the same.")
      Xn <- matrix(1, length(t2l), 1L)
    } else if (withG) {
      if (is.null(t2l)) t2l <- if (x$tau2s == 1L) 1 else x$g.levels.f[[1L]]
      Xn <- matrix(1, length(t2l), 1L)
    } else {
      Xn <- matrix(1, 1L, 1L)
    }
  } else {
    if (x$int.only) .mf_stop("Cannot give 'newmods' for a model without moderators.")
    Xn <- .mf_newmods_matrix(x, newmods, intercept, int.spec)
    rnames <- rownames(Xn)
  }
  kn <- nrow(Xn)
  # the level of tau^2 / gamma^2 of each prediction: an index, or NA (no
  # prediction interval) when a term has several variances and none is given
  t.idx <- if (withG) .mf_mv_level_index(t2l, x$tau2s, x$g.levels.f[[1L]], kn, "tau2.levels", "tau^2") else rep(1L, kn)
  g.idx <- if (withH) .mf_mv_level_index(g2l, x$gamma2s, x$h.levels.f[[1L]], kn, "gamma2.levels", "gamma^2") else rep(1L, kn)
  if (withH && (anyNA(t.idx) || anyNA(g.idx))) t.idx <- g.idx <- rep(NA_integer_, kn)  # metafor: both or neither
  pred <- c(Xn %*% x$beta)
  XV <- Xn %*% x$vb
  vpred <- rowSums(XV * Xn)
  vpred[vpred < 0] <- NA_real_
  se <- sqrt(vpred)
  a2 <- alpha / (if (adjust) 2 * kn else 2)
  tdist <- x$test == "t"
  ddf <- NULL
  if (tdist) {
    # per prediction: the smallest ddf of the coefficients it involves (metafor)
    ddf <- if (length(unique(x$ddf)) == 1L) rep(x$ddf[1L], kn)
           else apply(Xn != 0, 1L, function(nz) if (any(nz)) min(x$ddf[nz]) else x$k - x$p)
    ddf <- unname(.mf_robust_pred_ddf(x, Xn, ddf))  # (robust(): R/robust.R)
    crit <- stats::qt(a2, ddf, lower.tail = FALSE)
  } else {
    crit <- stats::qnorm(a2, lower.tail = FALSE)
  }
  ci.lb <- pred - crit * se
  ci.ub <- pred + crit * se
  # prediction interval: the variance of the prediction plus every variance
  # component, for '~ inner | outer' terms the variance of the level
  het <- sum(x$sigma2)
  if (withG) het <- het + x$tau2[t.idx]
  if (withH) het <- het + x$gamma2[g.idx]
  pi.se <- sqrt(vpred + het)
  pi.lb <- pred - crit * pi.se
  pi.ub <- pred + crit * pi.se
  do.transf <- !missing(transf) && is.function(transf)
  if (do.transf) {
    tf <- function(v) vapply(v, transf, numeric(1))
    pred <- tf(pred); ci.lb <- tf(ci.lb); ci.ub <- tf(ci.ub); pi.lb <- tf(pi.lb); pi.ub <- tf(pi.ub)
    se <- rep(NA_real_, kn)
    lo <- pmin(ci.lb, ci.ub); ci.ub <- pmax(ci.lb, ci.ub); ci.lb <- lo
    lo <- pmin(pi.lb, pi.ub); pi.ub <- pmax(pi.lb, pi.ub); pi.lb <- lo
  }
  out <- list(pred = pred, se = se, ci.lb = ci.lb, ci.ub = ci.ub, pi.lb = pi.lb, pi.ub = pi.ub,
              cr.lb = pi.lb, cr.ub = pi.ub)
  if (gen) out$pi.lb <- out$pi.ub <- out$cr.lb <- out$cr.ub <- NULL
  # (logical NA when no levels were given, as metafor)
  lev_out <- function(labels, idx) if (all(is.na(idx))) rep(NA, kn) else labels[idx]
  if (withG && x$tau2s > 1L) out$tau2.level <- lev_out(x$g.levels.f[[1L]], t.idx)
  if (withH && x$gamma2s > 1L) out$gamma2.level <- lev_out(x$h.levels.f[[1L]], g.idx)
  slab <- if (is.null(newmods) && !x$int.only) x$slab[x$ids]
          else if (!is.null(rnames)) rnames else if (kn == 1L) "" else seq_len(kn)
  out$slab <- slab
  out$digits <- d
  out$method <- x$method
  out$transf <- do.transf
  if (tdist) out$ddf <- ddf
  out$pi.se <- pi.se
  if (addx) {
    out$X <- matrix(Xn, ncol = x$p)
    colnames(out$X) <- colnames(x$X)
  }
  class(out) <- c("predict.mf_rma", "list.mf_rma")
  if (vcov && !do.transf) {
    V <- tcrossprod(XV, Xn)
    V <- (V + t(V)) / 2
    dimnames(V) <- list(slab, slab)
    return(list(pred = out, vcov = V))
  }
  out
}

# The inner level (label) of each row of the fit for its first (t = 1, G) or
# second (t = 2, H) '~ inner | outer' term, in the order of the rows of X.
.mf_mv_row_inner <- function(x, t) {
  sp <- x$mf.spec
  tm <- sp$structure$terms[[t]]
  inner <- integer(length(sp$order))
  inner[sp$order] <- tm$inner + 1L
  (if (t == 1L) x$g.levels.f else x$h.levels.f)[[1L]][inner]
}

# metafor's tau2.levels / gamma2.levels of predict(): labels (partially
# matched) or numbers (rounded) of the inner levels, one or one per
# prediction; a term with one variance uses it for every prediction; NA when
# the term has several variances and no levels were given.
.mf_mv_level_index <- function(lev, nvar, labels, kn, nm, what) {
  if (nvar == 1L) return(rep(1L, kn))
  if (is.null(lev)) return(rep(NA_integer_, kn))
  if (is.numeric(lev)) {
    idx <- round(lev)
    if (anyNA(idx) || any(idx < 1) || any(idx > length(labels)))
      .mf_stop(sprintf("Non-existing %s values specified via '%s' argument.", what, nm))
  } else {
    idx <- pmatch(as.character(lev), labels, duplicates.ok = TRUE)
    if (anyNA(idx)) .mf_stop(sprintf("Non-existing levels specified via '%s' argument.", nm))
  }
  if (length(idx) == 1L) idx <- rep(idx, kn)
  if (length(idx) != kn)
    .mf_stop(sprintf("Length of the '%s' argument (%d) does not match the number of predicted values (%d).", nm, length(idx), kn))
  as.integer(idx)
}
