# rma.mh(): the Mantel-Haenszel equal-effects model of metafor 5.2.1 (same
# arguments, fields and meaning); the shared data pipeline and estimators are
# in R/rma-tables-helpers.R.

#' Mantel-Haenszel method for 2x2 tables and incidence rates
#'
#' Equal-effects meta-analysis with the Mantel-Haenszel method, with the
#' arguments, results and printout of \code{metafor::rma.mh()}: the pooled
#' log odds ratio (\code{measure = "OR"}), log risk ratio (\code{"RR"}), risk
#' difference (\code{"RD"}), log incidence rate ratio (\code{"IRR"}) or
#' incidence rate difference (\code{"IRD"}), with the Robins-Breslow-Greenland
#' variance (OR), the Greenland-Robins variances (RR, IRR, IRD) and the
#' Sato-Greenland-Robins variance (RD); the Cochran-Mantel-Haenszel test (OR,
#' IRR; with or without continuity correction), the Breslow-Day test and
#' Tarone's test for heterogeneity (OR), and the Q test, I^2 and H^2 of the
#' per-study outcomes.
#'
#' @param ai,bi,ci,di the cells of the 2x2 tables (events and non-events of
#'   group 1, then of group 2).
#' @param n1i,n2i group sizes (instead of \code{bi} and \code{di}).
#' @param x1i,x2i event counts of the two groups (IRR, IRD).
#' @param t1i,t2i person-times of the two groups (IRR, IRD).
#' @param measure \code{"OR"}, \code{"RR"}, \code{"RD"}, \code{"IRR"} or \code{"IRD"}.
#' @param data optional data frame in which the arguments are evaluated.
#' @param slab optional study labels.
#' @param subset optional logical or numeric vector selecting the studies.
#' @param add,to,drop00 zero-cell handling: one value, or two (the first for
#'   the per-study outcomes \code{yi}/\code{vi}, the second for the tables of
#'   the pooled estimate); defaults \code{c(1/2, 0)}, \code{c("only0",
#'   "none")}, \code{c(TRUE, FALSE)} as in metafor.
#' @param correct continuity correction of the Cochran-Mantel-Haenszel test.
#' @param level confidence level (e.g. 95).
#' @param verbose accepted for compatibility (ignored).
#' @param digits number of decimals for printing.
#' @param ... \code{onlyo1}, \code{addyi}, \code{addvi} (passed to
#'   \code{\link{escalc}} for the per-study outcomes, as in metafor).
#' @return An object of class \code{c("mf_rma_mh", "mf_rma_tab")} with
#'   metafor's fields: \code{beta}, \code{se}, \code{zval}, \code{pval},
#'   \code{ci.lb}, \code{ci.ub}, \code{vb}, \code{QE}, \code{QEp}, \code{I2},
#'   \code{H2}, \code{CO}/\code{COp} and \code{MH}/\code{MHp} (the CMH test
#'   with N and N - 1 in the variance), \code{BD}/\code{BDp} (Breslow-Day),
#'   \code{TA}/\code{TAp} (Tarone), \code{k}, \code{k.yi}, \code{k.pos},
#'   \code{yi}/\code{vi} (the per-study outcomes), \code{fit.stats}, ...
#' @references Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748.
#'   Robins J, Breslow N, Greenland S (1986). Biometrics 42:311-323.
#'   Greenland S, Robins JM (1985). Biometrics 41:55-68.
#'   Sato T, Greenland S, Robins JM (1989). Biometrics 45:1323-1324.
#'   Tarone RE (1985). Biometrika 72:91-95.
#' @examples
#' dat <- data.frame(tpos = c(4, 6, 3, 62), tneg = c(119, 300, 228, 13536),
#'                   cpos = c(11, 29, 11, 248), cneg = c(128, 274, 209, 12619))
#' rma.mh(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
#' @export
rma.mh <- function(ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i, measure = "OR", data, slab, subset,
                   add = 1/2, to = "only0", drop00 = TRUE, correct = TRUE, level = 95, verbose = FALSE,
                   digits, ...) {
  .mf_check_dots("rma.mh", ...)
  if (!is.character(measure) || length(measure) != 1L || !measure %in% c("OR", "RR", "RD", "IRR", "IRD"))
    .mf_stop("rma.mh(): 'measure' must be one of \"OR\", \"RR\", \"RD\", \"IRR\", \"IRD\".")
  opts <- .mf_tab_opts(add, to, drop00)
  correct <- .mf_tab_flag(correct, "correct")
  ddd <- list(...)
  flag <- function(nm, default) if (is.null(ddd[[nm]])) default else .mf_tab_flag(ddd[[nm]], nm)
  alpha <- .mf_level(level)
  digits <- .mf_tab_digits(digits)
  mf <- match.call()
  dat <- .mf_tab_data("rma.mh", measure, mf, parent.frame(), if (missing(data)) NULL else data, opts,
                      onlyo1 = flag("onlyo1", FALSE), addyi = flag("addyi", TRUE), addvi = flag("addvi", TRUE))
  core <- .mf_tab_core(measure, dat$cells.f, dat$yi.f, dat$vi.f, dat$not.na, dat$not.na.yivi, sum, alpha)
  tests <- .mf_mh_tests(measure, dat$outdat, core$beta, correct)
  .mf_tab_object("mf_rma_mh", measure, dat, core, tests, opts, correct, alpha, digits, mf, core$QE)
}

# The tests of rma.mh(): Cochran-Mantel-Haenszel (Mantel & Haenszel 1959;
# CO with N, MH with N - 1 in the hypergeometric variance), Breslow-Day and
# Tarone's correction (Tarone 1985) for OR; the MH test of IRR (Greenland &
# Robins 1985).  NA where metafor's are.
.mf_mh_tests <- function(measure, cells, beta, correct) {
  out <- list(CO = NA_real_, COp = NA_real_, MH = NA_real_, MHp = NA_real_, BD = NA_real_, BDp = NA_real_,
              TA = NA_real_, TAp = NA_real_, k.pos = NA_integer_)
  cc <- if (correct) 0.5 else 0
  p1 <- function(x) stats::pchisq(x, df = 1, lower.tail = FALSE)
  if (measure == "OR") {
    ai <- cells$ai; bi <- cells$bi; ci <- cells$ci; di <- cells$di
    n1 <- ai + bi; n2 <- ci + di; N <- n1 + n2
    xt <- ai + ci; yt <- bi + di
    if (sum(xt) != 0 && sum(yt) != 0) {
      num <- (abs(sum(ai - n1 / N * xt)) - cc)^2
      out$CO <- num / sum(n1 / N * n2 / N * xt * yt / N)
      out$MH <- num / sum(n1 / N * n2 / N * xt * yt / (N - 1))
      out$COp <- p1(out$CO); out$MHp <- p1(out$MH)
    }
    if (is.na(beta)) {
      out$k.pos <- 0L
    } else {
      # the expected cell a_i given the margins and the common odds ratio
      # psi: the root in (0, min(n1, xt)) of a quadratic
      psi <- exp(beta)
      if (psi == 1) {
        e11 <- n1 * xt / N
      } else {
        A <- psi * (n1 + xt) + (n2 - xt)
        e11 <- (A - sqrt(A^2 - 4 * psi * (psi - 1) * n1 * xt)) / (2 * (psi - 1))
      }
      pos <- e11 > 0 & xt > 0 & yt > 0
      out$k.pos <- sum(pos)
      e11 <- e11[pos]
      ve <- 1 / (1 / e11 + 1 / (n1[pos] - e11) + 1 / (xt[pos] - e11) + 1 / (N[pos] - n1[pos] - xt[pos] + e11))
      dev <- ai[pos] - e11
      out$BD <- max(0, sum(dev^2 / ve))
      out$TA <- max(0, out$BD - sum(dev)^2 / sum(ve))
      if (out$k.pos > 1L) {
        out$BDp <- stats::pchisq(out$BD, df = out$k.pos - 1L, lower.tail = FALSE)
        out$TAp <- stats::pchisq(out$TA, df = out$k.pos - 1L, lower.tail = FALSE)
      }
    }
  } else if (measure == "IRR") {
    x1 <- cells$x1i; x2 <- cells$x2i; t1 <- cells$t1i; t2 <- cells$t2i
    Ti <- t1 + t2
    xt <- x1 + x2
    if (sum(xt) != 0) {
      out$MH <- (abs(sum(x1 - xt * t1 / Ti)) - cc)^2 / sum(xt * (t1 / Ti) * (t2 / Ti))
      out$MHp <- p1(out$MH)
    }
  }
  out
}

#' @rdname rma.mh
#' @param x a fit of \code{rma.mh()} or \code{rma.peto()}.
#' @param showfit print the fit statistics (log-likelihood, deviance, AIC, BIC, AICc).
#' @export
print.mf_rma_mh <- function(x, digits, showfit = FALSE, ...) {
  .mf_check_dots("print.mf_rma_mh", ...)
  d <- .mf_digits(digits, x)
  .mf_tab_print_head(x, d, showfit, df = max(x$k.yi - 1, 0))
  if (x$measure %in% c("OR", "RR", "IRR")) {
    .mf_tab_print_results(x, d, exp = TRUE)
    if (x$measure == "OR") {
      MH <- .mf_fmtx(x$MH, d); TA <- .mf_fmtx(x$TA, d)
      w <- if (is.na(x$MH) && is.na(x$TA)) 1 else max(nchar(c(if (!is.na(x$MH)) MH, if (!is.na(x$TA)) TA)))
      cat("\nCochran-Mantel-Haenszel Test:    ")
      if (is.na(x$MH)) cat("test value not computable for these data\n") else
        cat("CMH = ", formatC(MH, width = w), ", df = 1,", strrep(" ", nchar(x$k.pos) - 1L), " p-val ",
            .mf_fmtp_add0(x$MHp, d), "\n", sep = "")
      cat("Tarone's Test for Heterogeneity: ")
      if (is.na(x$TA)) cat("test value not computable for these data") else
        cat("X^2 = ", formatC(TA, width = w), ", df = ", x$k.pos - 1, ", p-val ", .mf_fmtp_add0(x$TAp, d), sep = "")
      cat("\n")
    }
    if (x$measure == "IRR") {
      cat("\nMantel-Haenszel Test: ")
      if (is.na(x$MH)) cat("test value not computable for these data") else
        cat("MH = ", .mf_fmtx(x$MH, d), ", df = 1, p-val ", .mf_fmtp(x$MHp, d, equal = TRUE), sep = "")
      cat("\n")
    }
  } else {
    .mf_tab_print_results(x, d, exp = FALSE)
  }
  cat("\n")
  invisible(x)
}

# metafor's p-values of the CMH and Tarone lines: "=" and "<" followed by a
# space, and a leading zero kept ("p-val = 0.0123", "p-val < 0.0001").
.mf_fmtp_add0 <- function(p, d) {
  if (is.na(p)) return("= NA")
  thresh <- 10^(-d)
  if (p < thresh) paste0("< ", formatC(thresh, format = "f", digits = d)) else
    paste0("= ", formatC(p, format = "f", digits = d))
}

# The first lines of the printout (shared with rma.peto()).
.mf_tab_print_head <- function(x, d, showfit, df) {
  cat("\nEqual-Effects Model (k = ", x$k, ")\n", sep = "")
  if (showfit) {
    fs <- .mf_fmtx(x$fit.stats$ML, d)
    names(fs) <- c("logLik", "deviance", "AIC", "BIC", "AICc")
    cat("\n", paste0(utils::capture.output(print(fs, quote = FALSE, print.gap = 2)), " \n"), sep = "")
  }
  cat("\n")
  if (!is.na(x$I2)) cat("I^2 (total heterogeneity / total variability):  ", .mf_fmtx(x$I2, 2), "%\n", sep = "")
  if (!is.na(x$H2)) cat("H^2 (total variability / sampling variability): ", .mf_fmtx(x$H2, 2), "\n", sep = "")
  if (!is.na(x$QE)) cat("\nTest for Heterogeneity: \n", .mf_fmtt(x$QE, "Q", df = df, pval = x$QEp, digits = d), sep = "")
  if (any(!is.na(c(x$I2, x$H2, x$QE)))) cat("\n\n")
}

# "Model Results" (log scale and, for ratios, exponentiated).
.mf_tab_print_results <- function(x, d, exp) {
  tab <- c(estimate = .mf_fmtx(unname(x$beta), d), se = .mf_fmtx(x$se, d), zval = .mf_fmtx(x$zval, d),
           pval = .mf_fmtp(x$pval, d), ci.lb = .mf_fmtx(x$ci.lb, d), ci.ub = .mf_fmtx(x$ci.ub, d))
  cat(if (exp) "Model Results (log scale):" else "Model Results:", "\n\n", sep = "")
  .mf_tab_print_vec(tab)
  if (exp) {
    tabx <- c(estimate = .mf_fmtx(base::exp(unname(x$beta)), d), ci.lb = .mf_fmtx(base::exp(x$ci.lb), d),
              ci.ub = .mf_fmtx(base::exp(x$ci.ub), d))
    cat("\nModel Results (", if (inherits(x, "mf_rma_peto")) "OR" else x$measure, " scale):\n\n", sep = "")
    .mf_tab_print_vec(tabx)
  }
}

# A named vector of formatted values as two lines, each column as wide as
# its name or value (metafor's layout of these tables).
.mf_tab_print_vec <- function(x) {
  w <- pmax(nchar(names(x)), nchar(x))
  pad <- function(z) paste0(strrep(" ", w - nchar(z)), z)
  cat(paste(pad(names(x)), collapse = "  "), " \n", paste(pad(unname(x)), collapse = "  "), " \n", sep = "")
}
