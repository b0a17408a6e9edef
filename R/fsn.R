# Fail-safe N (Rosenthal 1979; Orwin 1983; Rosenberg 2005; the general
# method of Viechtbauer 2024), with the types, defaults and output of
# metafor 5's fsn().

#' Fail-safe N
#'
#' The number of studies averaging null results that would have to be added
#' to overturn a conclusion (metafor's \code{fsn()}, version 5):
#' \describe{
#'   \item{Rosenthal}{(1979; the default for a vector of estimates) studies
#'     with mean z = 0 needed to raise the combined one-sided p-value to
#'     \code{alpha}.  With \code{pool = "Stouffer"} (default) the p-values are
#'     combined by Stouffer's sum of z:
#'     \eqn{N = k (\bar z / z_{1-\alpha})^2 - k}{N = k (zbar / z[1 - alpha])^2 - k}
#'     with \eqn{\bar z = |\sum z_i| / \sqrt{k}}{zbar = |sum zi| / sqrt(k)};
#'     with \code{pool = "Fisher"} by Fisher's \eqn{-2 \sum \log p_i}{-2 sum log pi}
#'     (added studies have p = 0.5), solved for N numerically.}
#'   \item{Binomial}{studies needed (half with positive, half with negative
#'     estimates) until the two-sided binomial (sign) test of the number of
#'     positive estimates is no longer significant at \code{alpha}.}
#'   \item{Orwin}{(1983) studies with effect 0 needed to reduce the average
#'     effect \eqn{\bar y}{ybar} to \code{target} (default half of it):
#'     \eqn{N = k (\bar y - target)/target}{N = k (ybar - target) / target};
#'     \eqn{\bar y}{ybar} is the inverse-variance weighted mean when
#'     \code{vi} (or \code{sei}) is given, else (or with \code{weighted =
#'     FALSE}) the unweighted mean (as metafor 5).}
#'   \item{Rosenberg}{(2005) studies with effect 0 and the average
#'     (harmonic-mean) sampling variance needed to make the equal-effects
#'     estimate non-significant at two-sided level \code{alpha}:
#'     \eqn{N = [(\sum w_i y_i / z_{1-\alpha/2})^2 - \sum w_i] \bar v}{N = ((sum wi yi / z[1-alpha/2])^2 - sum wi) vbar}.}
#'   \item{General}{(Viechtbauer 2024; the default, and the only type, for a
#'     fitted model) the generalisation of Orwin's and Rosenberg's methods to
#'     the model of \code{method}: studies with mean effect \code{mumiss} and
#'     the harmonic-mean sampling variance are added until the p-value of the
#'     pooled estimate reaches \code{alpha} (or, with \code{target}, until the
#'     pooled estimate falls to \code{target}).  The added studies spread
#'     around \code{mumiss} with the heterogeneity of the observed studies;
#'     \code{exact = FALSE} (default) updates the estimate and tau^2 by
#'     closed-form approximations, \code{exact = TRUE} refits the model for
#'     each N (up to 5000 added studies).  The search is a root search over N
#'     in \code{interval} (extended as needed, at most \code{maxint}).}
#' }
#' The result is rounded up to the next integer and truncated at 0 (as in
#' metafor).
#'
#' @param x a vector of effect sizes, or an intercept-only \code{rma()} fit
#'   (also metafor's \code{rma.uni} fits; its effect sizes, variances, method,
#'   test, fixed tau2 and weighting are used; \code{type} is then always
#'   \code{"General"}).
#' @param vi sampling variances.
#' @param sei standard errors (alternative to \code{vi}).
#' @param subset logical or numeric vector selecting studies.
#' @param data optional data frame in which \code{x}, \code{vi}, \code{sei}
#'   and \code{subset} are evaluated.
#' @param type \code{"Rosenthal"} (default for a vector), \code{"Binomial"},
#'   \code{"Orwin"}, \code{"Rosenberg"} or \code{"General"} (default and only
#'   type for a fitted model); can be abbreviated.
#' @param alpha target significance level (Rosenthal: one-sided; Rosenberg
#'   and General: two-sided).
#' @param target target average effect (Orwin: default half the observed
#'   average; General: if given, the target of the pooled estimate instead of
#'   the p-value).
#' @param method estimator of tau2 for \code{type = "General"} (default: the
#'   fit's, else \code{"REML"}).
#' @param exact \code{type = "General"}: refit the model for each N
#'   (\code{TRUE}) or use the closed-form approximations (\code{FALSE}).
#'   Always \code{TRUE} when \code{test} is not \code{"z"}.
#' @param verbose print the steps of the search of \code{type = "General"}.
#' @param digits number of decimals for printing (one number or metafor's
#'   named vector).
#' @param pool \code{"Stouffer"} (default) or \code{"Fisher"}: how Rosenthal's
#'   method combines the p-values.
#' @param weighted Orwin's method: use the inverse-variance weighted mean
#'   (default: \code{TRUE} when variances are given); \code{type = "General"}:
#'   weighted (default) or unweighted estimation.
#' @param mumiss \code{type = "General"}: mean effect of the added studies
#'   (default 0).
#' @param tau2 \code{type = "General"}: a fixed value of tau2 (default: the
#'   fit's fixed value, else estimated).
#' @param test \code{type = "General"}: the test of the pooled estimate
#'   (default: the fit's, else \code{"z"}).
#' @param interval,maxint,tol,maxiter \code{type = "General"} and Fisher's
#'   pooling: the starting interval of the search for N (default
#'   \code{c(0, 50 k)}), the largest N reported (default \code{1e7}; larger N
#'   print as \code{">1e+07"}), the tolerance and the maximum number of
#'   iterations of \code{uniroot()}.
#' @param ... other arguments are disregarded, with a warning (as in metafor).
#' @return An object of class \code{mf_fsn}: \code{type}, \code{fsnum} (the
#'   fail-safe N), \code{est} (average or pooled estimate), \code{tau2},
#'   \code{meanes} (= \code{est}), \code{pval} (observed p-value),
#'   \code{alpha}, \code{target}, \code{method}, \code{est.fsn},
#'   \code{tau2.fsn}, \code{pval.fsn} (General: with the added studies),
#'   \code{ub.sign} (\code{">"} when N reached \code{maxint}), \code{digits}
#'   and \code{k}.
#' @references Orwin RG (1983). A fail-safe N for effect size in
#'   meta-analysis. \emph{J Educ Stat} 8:157-159. Rosenberg MS (2005). The
#'   file-drawer problem revisited: a general weighted method for calculating
#'   fail-safe numbers in meta-analysis. \emph{Evolution} 59:464-468.
#'   Rosenthal R (1979). The file drawer problem and tolerance for null
#'   results. \emph{Psychol Bull} 86:638-641. Viechtbauer W (2024).
#'   Fail-safe N analysis: a generalization (metafor documentation of
#'   \code{fsn()}, type "General").
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02))
#' fsn(yi, vi, data = dat)
#' fsn(yi, vi, data = dat, pool = "Fisher")
#' fsn(yi, vi, data = dat, type = "Orwin", target = 0.1)
#' fsn(yi, vi, data = dat, type = "Rosenberg")
#' fsn(rma(yi, vi, data = dat))
#' @export
fsn <- function(x, vi, sei, subset, data, type, alpha = .05, target, method,
                exact = FALSE, verbose = FALSE, digits, pool = "Stouffer", weighted,
                mumiss = 0, tau2, test, interval, maxint = 1e7,
                tol = .Machine$double.eps^0.25, maxiter = 1000, ...) {
  .mf_check_dots("fsn", ...)
  if (!is.numeric(alpha) || length(alpha) != 1L || is.na(alpha) || alpha <= 0 || alpha >= 1)
    .mf_stop("'alpha' must be a single number in (0, 1), e.g. 0.05.")
  for (nm in c("exact", "verbose")) {
    val <- get(nm)
    if (!is.logical(val) || length(val) != 1L || is.na(val)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  pool <- .mf_match_arg(if (is.character(pool)) tolower(pool) else pool, c("stouffer", "fisher"), "pool")
  if (!missing(weighted) && !is.null(weighted) && !(is.logical(weighted) && length(weighted) == 1L && !is.na(weighted)))
    .mf_stop("'weighted' must be TRUE or FALSE.")
  wtd <- if (missing(weighted)) NULL else weighted
  if (!is.numeric(mumiss) || length(mumiss) != 1L || is.na(mumiss)) .mf_stop("'mumiss' must be a single number.")
  if (!is.numeric(maxint) || length(maxint) != 1L || is.na(maxint) || maxint < 1) .mf_stop("'maxint' must be a number >= 1.")
  if (!is.numeric(tol) || length(tol) != 1L || is.na(tol) || tol <= 0) .mf_stop("'tol' must be a positive number.")
  if (!is.numeric(maxiter) || length(maxiter) != 1L || is.na(maxiter) || maxiter < 1) .mf_stop("'maxiter' must be a number >= 1.")
  if (missing(target)) target <- NULL
  if (!is.null(target) && (!is.numeric(target) || length(target) != 1L || is.na(target)))
    .mf_stop("'target' must be a single number.")

  cl <- match.call()
  if (missing(data)) data <- NULL
  if (!is.null(data)) data <- .mf_as_data_frame(data)
  env <- parent.frame()
  get_arg <- .mf_arg_getter(cl, data, env)
  if (missing(x)) .mf_stop("'x' is missing: give the effect sizes or an rma() fit.")
  xx <- get_arg("x")
  fit <- NULL
  if (inherits(xx, "rma")) {
    # a metafor fit (both packages loaded): its fields have the same names
    notav <- c("robust.rma", "rma.glmm", "rma.mv", "rma.ls", "rma.gen", "rma.uni.selmodel")
    if (!inherits(xx, "rma.uni") || inherits(xx, notav))
      .mf_stop(sprintf("fsn() is not available for metafor models of class '%s' (only rma.uni fits).",
                       class(xx)[1L]))
  }
  if (inherits(xx, c("mf_rma", "rma"))) {
    fit <- xx
    if (!isTRUE(fit$int.only)) .mf_stop("fsn() needs a model without moderators.")
    if (!missing(type) && !identical(type, "General"))
      warning("type = 'General' is used for a fitted model (as in metafor).", call. = FALSE)
    type <- "General"
    if (!is.null(fit$weights)) .mf_stop("fsn() cannot use a model with user weights ('weights').")
    if (!missing(vi) || !missing(sei) || !missing(subset))
      warning("'vi', 'sei' and 'subset' are ignored when 'x' is a fitted model.", call. = FALSE)
    yi <- fit$yi
    vi <- fit$vi
    dig <- .mf_digits_vec(if (missing(digits)) NULL else digits, fit$digits, opt = TRUE)
  } else {
    type <- if (missing(type)) "Rosenthal" else .mf_fsn_type(type)
    need_v <- type != "Orwin" || isTRUE(wtd)
    sub <- get_arg("subset")
    # negative row numbers too, as metafor
    if (is.numeric(sub) && length(sub) && !anyNA(sub) && all(sub < 0)) sub <- !(seq_along(xx) %in% -sub)
    v <- .mf_effect_vectors(xx, get_arg("vi"), get_arg("sei"), subset = sub, need_v = need_v)
    yi <- v$yi
    vi <- v$vi
    # Orwin: unweighted without variances or with weighted = FALSE (metafor 5)
    if (type == "Orwin" && (is.null(vi) || isFALSE(wtd))) vi <- rep(1, length(yi))
    dig <- .mf_digits_vec(if (missing(digits)) NULL else digits, NULL, opt = FALSE)
  }
  k <- length(yi)
  if (k < 2L) .mf_stop(sprintf("fsn() needs at least 2 studies (k = %d).", k))
  if (any(vi <= 0)) .mf_stop("fsn() needs positive sampling variances.")
  if (missing(interval)) interval <- c(0, k * 50)
  if (!is.numeric(interval) || length(interval) != 2L || anyNA(interval))
    .mf_stop("'interval' must be two numbers.")

  est <- tau2.o <- pval <- est.fsn <- tau2.fsn <- pval.fsn <- NA_real_
  ub.sign <- ""
  mth <- NA
  search <- function(f, ext, what) {
    r <- tryCatch(stats::uniroot(f, interval = interval, extendInt = ext, tol = tol, maxiter = maxiter)$root,
                  error = function(e) NULL)
    if (is.null(r)) .mf_stop(sprintf("Could not find the fail-safe N (%s)%s.", what,
                                      if (type == "General") "; verbose = TRUE shows the search" else ""))
    r
  }

  if (type == "Rosenthal" && pool == "stouffer") {
    # Stouffer's combined z (Rosenthal 1979).
    zbar <- abs(sum(yi / sqrt(vi)) / sqrt(k))
    pval <- stats::pnorm(zbar, lower.tail = FALSE)
    N <- max(0, k * (zbar / stats::qnorm(alpha, lower.tail = FALSE))^2 - k)
  } else if (type == "Rosenthal") {
    # Fisher's combination -2 sum log p ~ chi^2(2 k) of the one-sided
    # p-values of |zi|; each added null study has p = 1/2 (Rosenthal 1979
    # with Fisher's 1932 pooling).
    lp <- sum(stats::pnorm(abs(yi / sqrt(vi)), lower.tail = FALSE, log.p = TRUE))
    fisher <- function(n, a) stats::pchisq(-2 * (lp + floor(n) * log(0.5)), df = 2 * (k + n), lower.tail = FALSE) - a
    pval <- fisher(0, 0)
    N <- if (pval >= alpha) 0 else search(function(n) fisher(n, alpha), "upX", "Fisher's method")
  } else if (type == "Binomial") {
    # sign test of the number of positive estimates; pairs of studies (one
    # positive, one negative) are added until it is no longer significant
    kpos <- sum(yi > 0)
    pval <- stats::binom.test(kpos, k)$p.value
    N <- 0
    if (pval < alpha) {
      pnew <- pval
      while (pnew < alpha) {
        N <- N + 2
        pnew <- stats::binom.test(kpos + N / 2, k + N)$p.value
      }
    }
  } else if (type == "Orwin") {
    w <- 1 / vi
    est <- sum(w * yi) / sum(w)
    if (is.null(target)) target <- est / 2
    if (identical(target, 0)) {
      N <- Inf
    } else {
      if (sign(target) != sign(est)) target <- -target
      N <- max(0, k * (est - target) / target)
    }
  } else if (type == "Rosenberg") {
    # Rosenberg (2005): weighted fixed-effect test, added studies with the
    # harmonic-mean variance.
    w <- 1 / vi
    est <- sum(w * yi) / sum(w)
    pval <- 2 * stats::pnorm(abs(est) * sqrt(sum(w)), lower.tail = FALSE)
    vbar <- 1 / mean(w)
    N <- max(0, ((sum(w * yi) / stats::qnorm(alpha / 2, lower.tail = FALSE))^2 - sum(w)) * vbar)
  } else {
    g <- .mf_fsn_general(yi, vi, fit, target = target, alpha = alpha, exact = exact, verbose = verbose,
                         method = if (missing(method)) NULL else method, tau2 = if (missing(tau2)) NULL else tau2,
                         test = if (missing(test)) NULL else test, weighted = wtd, mumiss = mumiss,
                         maxint = maxint, search = search, width = nchar(max(interval)) + 1)
    N <- g$fsnum
    est <- g$est; tau2.o <- g$tau2; pval <- g$pval; target <- g$target; mth <- g$method
    est.fsn <- g$est.fsn; tau2.fsn <- g$tau2.fsn; pval.fsn <- g$pval.fsn
    if (N >= maxint) ub.sign <- ">"
  }
  if (type != "General") N <- .mf_fsn_round(N)
  if (is.null(target) || type %in% c("Rosenthal", "Binomial", "Rosenberg")) target <- NA_real_
  res <- list(type = type, fsnum = N, est = est, tau2 = tau2.o, meanes = est, pval = unname(pval), alpha = alpha,
              target = target, method = mth, est.fsn = est.fsn, tau2.fsn = tau2.fsn, pval.fsn = pval.fsn,
              ub.sign = ub.sign, digits = dig, k = k)
  class(res) <- "mf_fsn"
  res
}

# metafor's type matching: the first type containing the given string
.mf_fsn_type <- function(type) {
  opts <- c("Rosenthal", "Binomial", "Orwin", "Rosenberg", "General")
  if (!is.character(type) || length(type) != 1L || is.na(type) || !nzchar(type))
    .mf_stop(sprintf("'type' must be one of %s.", paste0("\"", opts, "\"", collapse = ", ")))
  hit <- which(grepl(tolower(type), tolower(opts), fixed = TRUE))
  if (!length(hit))
    .mf_stop(sprintf("'type' = \"%s\" is unknown; use one of %s.", type, paste0("\"", opts, "\"", collapse = ", ")))
  opts[hit[1L]]
}

# Round up unless (numerically) an integer already.
.mf_fsn_round <- function(N) {
  if (is.finite(N) && abs(N - round(N)) >= sqrt(.Machine$double.eps)) ceiling(N) else round(N)
}

# The general method (Viechtbauer 2024): fit the model to the observed
# studies, then search for the number N of added studies (mean mumiss,
# variance vt = harmonic mean of vi, spread sqrt(vt + tau2) around mumiss)
# that brings the p-value of the pooled estimate to alpha (or the estimate to
# target).
.mf_fsn_general <- function(yi, vi, fit, target, alpha, exact, verbose, method, tau2, test, weighted,
                            mumiss, maxint, search, width = 8) {
  k <- length(yi)
  if (is.null(method)) method <- if (!is.null(fit)) fit$method else "REML"
  tau2fix <- if (!is.null(fit) && isTRUE(fit$tau2.fix)) fit$tau2 else NULL
  if (!is.null(tau2)) tau2fix <- tau2
  if (is.null(test)) test <- if (!is.null(fit)) fit$test else "z"
  if (!identical(test, "z")) exact <- TRUE
  wtd <- if (!is.null(fit) && isFALSE(fit$weighted)) FALSE else TRUE
  if (!is.null(weighted)) wtd <- isTRUE(weighted)
  has_weighted <- "weighted" %in% names(formals(rma))
  if (!wtd && !has_weighted)
    .mf_stop("fsn(): type = 'General' with unweighted estimation (weighted = FALSE) is not supported by this version of rma().")
  refit <- function(y, v) {
    args <- list(y, v, method = method, test = test)
    if (!is.null(tau2fix)) args$tau2 <- tau2fix
    if (!wtd) args$weighted <- FALSE
    f <- tryCatch(suppressWarnings(do.call(rma, args)), error = function(e) e)
    if (inherits(f, "error"))
      .mf_stop(sprintf("fsn(): could not fit the model (%s).", conditionMessage(f)))
    list(est = unname(f$beta[1]), tau2 = f$tau2, pval = unname(f$pval[1]))
  }
  f0 <- refit(yi, vi)
  est <- f0$est
  tau2o <- f0$tau2
  pval <- f0$pval
  vt <- 1 / mean(1 / vi)
  ee <- method %in% c("FE", "EE", "CE")
  # Pooled estimate, tau2 and p-value with n added studies.  The added
  # outcomes are mumiss + sqrt(vt + tau2) * z with z of mean 0 and SD 1 (for
  # n >= 2): every estimator depends on them only through their mean and sum
  # of squares, so any such z gives the same result.
  with_n <- function(n) {
    if (n > maxint) n <- maxint
    if (exact && n <= 5000) {
      z <- if (n >= 2) { s <- seq_len(n); (s - mean(s)) / stats::sd(s) } else rep(0, n)
      f <- refit(c(yi, mumiss + sqrt(vt + tau2o) * z), c(vi, rep(vt, n)))
      out <- f
    } else {
      if (ee) {
        t2 <- 0
      } else if (is.null(tau2fix)) {
        m0 <- (k * est + n * mumiss) / (k + n)
        t2 <- ((k - 1) * tau2o + max(0, n - 1) * tau2o + k * (est - m0)^2 + n * (mumiss - m0)^2) / (k + n - 1)
        if (is.null(target)) t2 <- max(0, t2)
      } else {
        t2 <- tau2o
      }
      if (wtd) {
        w <- 1 / (vi + t2)
        wn <- 1 / (vt + t2)
        e <- (sum(w * yi) + n * wn * mumiss) / (sum(w) + n * wn)
        zval <- e / sqrt(1 / (sum(w) + n * wn))
      } else {
        e <- (sum(yi) + n * mumiss) / (k + n)
        zval <- (k + n) * e / sqrt(sum(vi + t2) + n * (vt + t2))
      }
      out <- list(est = e, tau2 = t2, pval = 2 * stats::pnorm(abs(zval), lower.tail = FALSE))
    }
    if (is.null(target) && mumiss != 0 && sign(out$est) == sign(mumiss)) out$pval <- 1
    out
  }
  diff_at <- function(fsnum) {
    n <- floor(fsnum)
    # a search extended below 0 has failed (metafor: an error in the same place)
    if (is.na(n) || n < 0) stop("no fail-safe N in the search interval")
    if (n > maxint) n <- maxint
    r <- with_n(n)
    d <- if (n == maxint) 0 else if (is.null(target)) r$pval - alpha else r$est - target
    if (verbose) {
      f4 <- function(z, flag = "") formatC(z, format = "f", digits = 4, flag = flag)
      cat("fsnum =", formatC(n, width = width, format = "d"), " est =", f4(r$est, " "),
          " tau2 =", f4(r$tau2),
          if (is.null(target)) c(" pval =", f4(r$pval), " alpha =", f4(alpha)) else c(" target =", f4(target)),
          " diff =", f4(d, " "), "\n")
    }
    d
  }
  if (is.null(target)) {
    N <- if (pval >= alpha) 0 else search(diff_at, "upX", "general method")
  } else {
    if (sign(target) != sign(est)) target <- -target
    N <- if (identical(target, 0)) Inf else if (abs(target) >= abs(est)) 0 else
      search(diff_at, if (est > 0) "downX" else "upX", "general method")
  }
  if (is.finite(N) && N > maxint) N <- maxint
  N <- .mf_fsn_round(N)
  r <- if (N == 0 || !is.finite(N)) list(est = est, tau2 = tau2o, pval = pval) else with_n(N)
  list(fsnum = N, est = est, tau2 = tau2o, pval = pval, target = if (is.null(target)) NA_real_ else target,
       method = method, est.fsn = r$est, tau2.fsn = r$tau2, pval.fsn = r$pval)
}

#' @rdname fsn
#' @export
print.mf_fsn <- function(x, digits = x$digits, ...) {
  d <- .mf_digits_vec(digits, x$digits)
  fx <- function(v, dd, flag = "") {
    if (is.na(v)) return("NA")
    out <- formatC(v, format = "f", digits = dd, flag = flag)
    out
  }
  fp <- function(p) .mf_fmtp(min(max(p, 0), 1), max(d[["pval"]], 1))
  cat0 <- function(...) cat(..., sep = "")
  .mf_space()
  cat0("Fail-safe N Calculation Using the ", x$type, " Approach\n\n")
  if (x$type %in% c("Rosenthal", "Binomial")) {
    cat0("Observed Significance Level: ", fp(x$pval), "\n")
    cat0("Target Significance Level:   ", round(x$alpha, d[["pval"]]))
  } else if (x$type == "Orwin") {
    cat0("Average Effect Size: ", fx(x$est, d[["est"]]), "\n")
    cat0("Target Effect Size:  ", fx(x$target, d[["est"]]))
  } else if (x$type == "Rosenberg") {
    fl <- if (isTRUE(x$est < 0)) " " else ""
    cat0("Average Effect Size:         ", fx(x$est, d[["est"]], fl), "\n")
    cat0("Observed Significance Level: ", fl, fp(x$pval), "\n")
    cat0("Target Significance Level:   ", fl, round(x$alpha, d[["pval"]]))
  } else {
    fl <- if (isTRUE(x$est < 0)) " " else ""
    fr <- if (isTRUE(x$est.fsn < 0)) " " else ""
    more <- x$fsnum > 0
    cat0("Average Effect Size:         ", fx(x$est, d[["est"]], fl),
         if (more) paste0(" (with file drawer: ", fx(x$est.fsn, d[["est"]], fr), ")"), "\n")
    if (!x$method %in% c("FE", "EE", "CE"))
      cat0("Amount of Heterogeneity:     ", fx(x$tau2, d[["var"]], fl),
           if (more) paste0(" (with file drawer: ", fx(x$tau2.fsn, d[["var"]], fr), ")"), "\n")
    cat0("Observed Significance Level: ", fl, fp(x$pval),
         if (more) paste0(" (with file drawer: ", fr, fp(x$pval.fsn), ")"), "\n")
    if (is.na(x$target)) {
      cat0("Target Significance Level:   ", fl, round(x$alpha, d[["pval"]]))
    } else {
      cat0("Target Effect Size:          ", fx(x$target, d[["est"]], fl))
    }
  }
  cat0("\n\nFail-safe N: ", x$ub.sign, x$fsnum, "\n")
  .mf_space()
  invisible(x)
}
