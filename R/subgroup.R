# Subgroup analysis: per-subgroup pooled estimates and the test of subgroup
# differences (Borenstein et al. 2009, ch. 19; RevMan).

#' Subgroup analysis
#'
#' Splits the studies of an intercept-only fit by a categorical moderator
#' (or a continuous one cut at \code{cut}) and pools each subgroup.
#'
#' With \code{tau2 = "separate"} (default, as RevMan and Comprehensive
#' Meta-Analysis) each subgroup is fitted on its own with the estimator of
#' \code{x}, so each has its own \eqn{\tau^2}{tau^2}.  With
#' \code{tau2 = "common"} the mixed-effects model with the subgroup factor
#' as moderator is fitted first, and each subgroup is then pooled with
#' \eqn{\tau^2}{tau^2} fixed at that model's residual \eqn{\tau^2}{tau^2}.
#'
#' The test of subgroup differences is
#' \eqn{Q_{between} = \sum_j w_j (\hat\mu_j - \bar\mu)^2}{Qb = sum_j w_j (mu_j - mubar)^2}
#' with \eqn{w_j = 1/SE_j^2}{w_j = 1/se_j^2} and \eqn{\bar\mu}{mubar} the
#' \eqn{w}-weighted mean of the subgroup estimates, referred to a
#' chi-square distribution with J - 1 degrees of freedom (Borenstein et al.
#' 2009, ch. 19).  The omnibus moderator test \code{QM} of the mixed-effects
#' model \code{rma(yi, vi, mods = ~ factor(group))} (same estimator and test
#' as \code{x}) is reported as well; with a common \eqn{\tau^2}{tau^2} and
#' z-tests the two statistics coincide.
#'
#' @param x an intercept-only \code{mf_rma} fit.
#' @param by the subgroup variable: a vector with one value per row of the
#'   data of \code{x} (or per study used in the fit), or a one-sided formula
#'   such as \code{~ mode} naming a column of \code{data} (default: the data
#'   the fit was called with).  Studies with a missing value are left out
#'   with a warning.
#' @param data optional data frame for a formula \code{by}.
#' @param tau2 \code{"separate"} (default) or \code{"common"}.
#' @param cut optional cut-off for a numeric \code{by}: studies with
#'   \code{by >= cut} form one subgroup, the others the second.
#' @param ... ignored.
#' @return An object of class \code{mf_subgroups}: \code{table}, a data
#'   frame with one row per subgroup (\code{group}, \code{k},
#'   \code{estimate}, \code{se}, \code{ci.lb}, \code{ci.ub}, \code{pval},
#'   \code{tau2}, \code{I2}, \code{Q}, \code{Qp}); \code{Qb}, \code{Qb.df},
#'   \code{Qb.p} (test of subgroup differences); \code{QM}, \code{QMdf},
#'   \code{QMp} (moderator test of the mixed-effects model); \code{tau2}
#'   (\code{"separate"} or \code{"common"}), \code{tau2.common}; the
#'   per-subgroup fits \code{fits} and the moderator model \code{mods.fit}.
#' @references Borenstein M, Hedges LV, Higgins JPT, Rothstein HR (2009).
#'   \emph{Introduction to Meta-Analysis}, ch. 19. Wiley. Deeks JJ, Higgins
#'   JPT, Altman DG (2022). Analysing data and undertaking meta-analyses. In
#'   \emph{Cochrane Handbook for Systematic Reviews of Interventions}, ch. 10.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.80, 0.70),
#'                   vi = c(0.01, 0.03, 0.05, 0.06, 0.05, 0.02, 0.09, 0.08),
#'                   mode = rep(c("guided", "unguided"), 4),
#'                   weeks = c(4, 6, 8, 10, 12, 6, 8, 9))
#' fit <- rma(yi, vi, data = dat)
#' subgroups(fit, ~ mode)
#' subgroups(fit, ~ weeks, cut = 8, tau2 = "common")
#' @export
subgroups <- function(x, by, data = NULL, tau2 = c("separate", "common"), cut = NULL, ...) {
  .mf_need_rma(x, "subgroups")
  if (!isTRUE(x$int.only))
    .mf_stop("subgroups() needs a model without moderators; the subgroup factor is given by 'by'.")
  tau2 <- .mf_match_arg(tau2, c("separate", "common"), "tau2")
  if (missing(by)) .mf_stop("'by' is missing: give the subgroup variable (a vector or a formula such as ~ mode).")
  name <- "group"
  if (inherits(by, "formula")) {
    vars <- all.vars(by)
    if (length(vars) != 1L || length(by) != 2L)
      .mf_stop("'by' as a formula must be one-sided with a single variable, e.g. ~ mode.")
    name <- vars
    src <- if (!is.null(data)) .mf_as_data_frame(data) else x$data
    if (is.null(src))
      .mf_stop("'by' is a formula but there is no data: give 'data' (the fit was not called with data).")
    by <- tryCatch(eval(by[[2L]], src, environment(by)),
                   error = function(e) .mf_stop(sprintf("Cannot evaluate 'by': %s", conditionMessage(e))))
  }
  if (is.data.frame(by)) by <- by[[1L]]
  if (!is.atomic(by) || !is.null(dim(by)) && length(dim(by)) > 1L)
    .mf_stop("'by' must be a vector (or a formula naming a column of the data).")
  # One value per row of the original data, or per study used in the fit.
  if (length(by) == x$k.all) {
    by <- by[x$ids]
  } else if (length(by) != x$k) {
    .mf_stop(sprintf("'by' has length %d but the fit has %d rows of data (%d studies used).",
                     length(by), x$k.all, x$k))
  }
  if (!is.null(cut)) {
    if (!is.numeric(cut) || length(cut) != 1L || is.na(cut)) .mf_stop("'cut' must be a single number.")
    if (!is.numeric(by)) .mf_stop("'cut' needs a numeric 'by'.")
    fmt <- format(cut)
    by <- factor(ifelse(by >= cut, paste(name, ">=", fmt), paste(name, "<", fmt)),
                 levels = c(paste(name, "<", fmt), paste(name, ">=", fmt)))
  }
  miss <- is.na(by)
  if (any(miss)) {
    warning(sprintf("%d stud%s with a missing subgroup left out (%s of the studies used).", sum(miss),
                    if (sum(miss) == 1L) "y" else "ies", .mf_rows(miss)), call. = FALSE)
  }
  g <- droplevels(factor(by[!miss]))
  yi <- x$yi[!miss]
  vi <- x$vi[!miss]
  wi <- if (is.null(x$weights)) NULL else x$weights[!miss]
  lev <- levels(g)
  J <- length(lev)
  if (J < 2L) .mf_stop(sprintf("'by' defines %d subgroup%s; at least 2 are needed.", J, if (J == 1L) "" else "s"))

  # Mixed-effects model with the subgroup factor (cell-means coding with
  # intercept, so QM tests the differences).
  Xg <- stats::model.matrix(~ g)
  colnames(Xg) <- c("intrcpt", paste0("g", lev[-1L]))
  mfit <- .mf_refit_data(x, yi, vi, X = Xg, weights = wi)
  fix <- NULL
  if (tau2 == "common") fix <- mfit$tau2

  fits <- lapply(lev, function(l) {
    s <- g == l
    ww <- if (is.null(wi)) NULL else wi[s]
    if (sum(s) == 1L && is.null(fix)) {
      # A single study: its own estimate, no heterogeneity to estimate.
      suppressWarnings(.mf_refit_data(x, yi[s], vi[s], weights = ww, tau2 = 0))
    } else {
      .mf_refit_data(x, yi[s], vi[s], weights = ww, tau2 = fix)
    }
  })
  names(fits) <- lev
  tab <- data.frame(group = lev,
                    k = vapply(fits, function(f) f$k, numeric(1)),
                    estimate = vapply(fits, function(f) f$beta[1L, 1L], numeric(1)),
                    se = vapply(fits, function(f) unname(f$se[1L]), numeric(1)),
                    ci.lb = vapply(fits, function(f) unname(f$ci.lb[1L]), numeric(1)),
                    ci.ub = vapply(fits, function(f) unname(f$ci.ub[1L]), numeric(1)),
                    pval = vapply(fits, function(f) unname(f$pval[1L]), numeric(1)),
                    tau2 = vapply(fits, function(f) f$tau2, numeric(1)),
                    I2 = vapply(fits, function(f) f$I2, numeric(1)),
                    Q = vapply(fits, function(f) f$QE, numeric(1)),
                    Qp = vapply(fits, function(f) f$QEp, numeric(1)),
                    stringsAsFactors = FALSE, row.names = NULL)
  # Q-between (Borenstein et al. 2009, eq. 19.x): weighted squared
  # deviations of the subgroup estimates from their weighted mean.
  Qb <- .mf_qstat(tab$estimate, tab$se^2, matrix(1, J, 1L), 0)
  res <- list(table = tab, Qb = Qb, Qb.df = J - 1L, Qb.p = stats::pchisq(Qb, J - 1L, lower.tail = FALSE),
              QM = mfit$QM, QMdf = mfit$QMdf, QMp = mfit$QMp, test = mfit$test,
              tau2 = tau2, tau2.common = if (tau2 == "common") fix else NA_real_,
              method = x$method, name = name, fits = fits, mods.fit = mfit,
              omitted = which(miss), digits = .mf_digits(NULL, x))
  class(res) <- "mf_subgroups"
  res
}

#' @rdname subgroups
#' @param digits number of decimals for printing.
#' @export
print.mf_subgroups <- function(x, digits = x$digits, ...) {
  d <- .mf_digits(digits, x)
  t <- x$table
  cat("\nSubgroup analysis by ", x$name, " (", x$method, ", ",
      if (x$tau2 == "separate") "separate tau^2 per subgroup" else
        paste0("common tau^2 = ", .mf_fmtx(x$tau2.common, d)), ")\n\n", sep = "")
  out <- data.frame(k = t$k, estimate = .mf_fmtx(t$estimate, d), se = .mf_fmtx(t$se, d),
                    ci = paste0("[", .mf_fmtx(t$ci.lb, d), ", ", .mf_fmtx(t$ci.ub, d), "]"),
                    pval = .mf_fmtp(t$pval, d), tau2 = .mf_fmtx(t$tau2, d), I2 = .mf_fmtx(t$I2, 1, "%"),
                    Q = .mf_fmtx(t$Q, 2), row.names = t$group)
  print(out)
  cat("\nTest for subgroup differences: Q-between(df = ", x$Qb.df, ") = ", .mf_fmtx(x$Qb, d),
      ", p ", .mf_fmtp(x$Qb.p, d, equal = TRUE), "\n", sep = "")
  if (.mf_tdist(x$test)) {
    cat("Moderator test (mixed-effects model): F(df1 = ", x$QMdf[1L], ", df2 = ", x$QMdf[2L], ") = ",
        .mf_fmtx(x$QM, d), ", p ", .mf_fmtp(x$QMp, d, equal = TRUE), "\n\n", sep = "")
  } else {
    cat("Moderator test (mixed-effects model): QM(df = ", x$QMdf[1L], ") = ", .mf_fmtx(x$QM, d),
        ", p ", .mf_fmtp(x$QMp, d, equal = TRUE), "\n\n", sep = "")
  }
  invisible(x)
}
