# Test of excess significance (Ioannidis & Trikalinos 2007; exact test:
# Francis 2013), with metafor's arguments, variants and result fields.

# Accuracy of the numerical steps (tighter than metafor's defaults, which are
# .Machine$double.eps^0.25 for both): the relative error of each expected-
# power integral, and the error in theta of the limit estimate.
.mf_tes_rel_tol <- 1e-10
.mf_tes_lim_tol <- 1e-10
# The exact test is chosen when the p-value sums fewer terms than this
# (metafor's rule: the number of subsets of studies it would enumerate).
.mf_tes_exact_max <- 1e6

#' Test of excess significance
#'
#' Compares the observed number \eqn{O} of significant studies with the number
#' \eqn{E} expected from the power of their tests (Ioannidis & Trikalinos
#' 2007), with \code{metafor}'s arguments, defaults and results.  Each estimate
#' is tested by \eqn{z_i = (y_i - H_0)/\sqrt{v_i}}{zi = (yi - H0)/sqrt(vi)}
#' against the normal critical value(s); the power of test \eqn{i} is computed
#' at the true effect \eqn{\theta}{theta}, or, when \eqn{\tau^2 > 0}{tau2 > 0},
#' averaged over a normal distribution of true effects (mean \eqn{\theta}{theta},
#' variance \eqn{\tau^2}{tau2}, integrated over \eqn{\theta \pm 5\tau}{theta +- 5 tau}
#' as \code{metafor} does).  \eqn{E} is the sum of the powers.
#'
#' \code{test = "chi2"} is Pearson's test of \eqn{O} against \eqn{E}
#' (\code{stats::prop.test()}), \code{"binom"} the binomial test
#' (\code{stats::binom.test()}) and \code{"exact"} the test of Francis (2013),
#' which sums the probabilities of the numbers of significant studies under
#' independent tests with the given powers.  metafast computes that
#' distribution (Poisson-binomial) by a recursion over the studies, in
#' \eqn{O(k^2)} operations, where \code{metafor} enumerates every subset of
#' studies; the probabilities are the same.  Unspecified, \code{test} is
#' \code{"exact"} when \code{metafor} would enumerate at most \eqn{10^6}
#' subsets, \code{"chi2"} otherwise (\code{metafor}'s rule, so that both
#' packages run the same test).
#'
#' The limit estimate \eqn{\theta_{lim}}{theta_lim} is the value of
#' \eqn{\theta}{theta} at which the p-value equals \code{tes.alpha}
#' (for \code{tes.alternative = "two.sided"} one limit on each side, at
#' \code{tes.alpha / 2}); \code{NA} (printed "not estimable") when the p-value
#' at \eqn{\theta = H_0}{theta = H0} is already beyond \code{tes.alpha} or no
#' root is found.  It is computed only when one value of \eqn{\theta}{theta}
#' applies to all studies.
#'
#' Further arguments \code{metafor} reads from \code{...} are accepted with its
#' meaning: \code{correct} (continuity correction of the chi-square test,
#' default \code{FALSE}), \code{rel.tol} and \code{subdivisions} (of each power
#' integral; default \code{1e-10} and \code{100}), \code{tau2.lb} (a
#' \code{tau2} at or below it counts as 0; default 0) and \code{find.lim}
#' (compute the limit estimate; default \code{TRUE}).
#'
#' @param x a vector of effect sizes, or a fit of \code{rma()},
#'   \code{rma.mh()} or \code{rma.peto()} (then \code{yi} and \code{vi} are
#'   the fit's, \code{theta} is the pooled estimate (the fitted values for a
#'   model with moderators) and \code{tau2} the fit's; the arguments
#'   \code{vi}, \code{sei}, \code{subset}, \code{data}, \code{theta} and
#'   \code{tau2} are then ignored, as in \code{metafor}).
#' @param vi sampling variances.
#' @param sei standard errors (alternative to \code{vi}).
#' @param subset logical or numeric vector selecting studies.
#' @param data optional data frame in which \code{x}, \code{vi}, \code{sei}
#'   and \code{subset} are evaluated.
#' @param H0 value of the effect under the null hypothesis of each study's test
#'   (default 0).
#' @param alternative sidedness of each study's test: \code{"two.sided"}
#'   (default), \code{"greater"} or \code{"less"}.
#' @param alpha significance level of each study's test (default 0.05).
#' @param theta the (average) true effect at which power is computed: one
#'   number, or one per study.  Unspecified: the inverse-variance weighted
#'   mean (weights \eqn{1/(v_i + \tau^2)}{1/(vi + tau2)}).
#' @param tau2 variance of the true effects (default: none, all studies share
#'   \code{theta}).
#' @param test \code{"chi2"}, \code{"binom"} or \code{"exact"} (see Details).
#' @param tes.alternative sidedness of the test of excess significance:
#'   \code{"greater"} (default; more significant results than expected),
#'   \code{"two.sided"} or \code{"less"}.
#' @param progbar accepted for compatibility with \code{metafor} (a progress
#'   bar for the exact test); the recursion is immediate, so none is shown.
#' @param tes.alpha the p-value that defines the limit estimate (default 0.10).
#' @param digits number of decimals for printing.
#' @param ... \code{correct}, \code{rel.tol}, \code{subdivisions},
#'   \code{tau2.lb}, \code{find.lim} (see Details).
#' @return An object of class \code{mf_tes}: \code{k}, \code{O}, \code{E},
#'   \code{OEratio}, \code{test}, \code{X2} (the chi-square statistic, else
#'   \code{NA}), \code{pval}, \code{power}, \code{sig}, \code{theta},
#'   \code{theta.lim}, \code{tes.alternative}, \code{tes.alpha}, \code{digits}.
#' @references Ioannidis JPA, Trikalinos TA (2007). An exploratory test for an
#'   excess of significant findings. \emph{Clinical Trials} 4:245-253.
#'
#'   Francis G (2013). Replication, statistical consistency, and publication
#'   bias. \emph{Journal of Mathematical Psychology} 57:153-169.
#' @examples
#' dat <- data.frame(yi = c(0.80, -0.08, -0.07, 0.39, 0.45, 0.62, 0.50, 0.28),
#'                   vi = c(0.068, 0.032, 0.040, 0.149, 0.177, 0.050, 0.060, 0.090))
#' tes(yi, vi, data = dat)
#' tes(yi, vi, data = dat, test = "chi2", tes.alternative = "two.sided")
#' tes(rma(yi, vi, data = dat, method = "EE"))
#' @export
tes <- function(x, vi, sei, subset, data, H0 = 0, alternative = "two.sided", alpha = .05, theta, tau2,
                test, tes.alternative = "greater", progbar = TRUE, tes.alpha = .10, digits, ...) {
  cl <- match.call()
  if (missing(data)) data <- NULL
  if (!is.null(data)) data <- .mf_as_data_frame(data)
  env <- parent.frame()
  get_arg <- .mf_arg_getter(cl, data, env)
  if (missing(x)) .mf_stop("'x' is missing: give the effect sizes or an rma() fit.")
  xx <- get_arg("x")
  if (.mf_is_metafor_fit(xx)) return(.mf_to_metafor("tes"))  # a metafor fit: metafor's tes()
  .mf_check_dots("tes", ...)
  dots <- list(...)
  alternative <- .mf_match_arg(alternative, c("two.sided", "greater", "less"), "alternative")
  tes.alternative <- .mf_match_arg(tes.alternative, c("two.sided", "greater", "less"), "tes.alternative")
  .mf_tes_num1(H0, "H0")
  .mf_tes_prob(alpha, "alpha")
  .mf_tes_prob(tes.alpha, "tes.alpha")
  if (!is.logical(progbar) || length(progbar) != 1L || is.na(progbar)) .mf_stop("'progbar' must be TRUE or FALSE.")
  test <- if (missing(test) || is.null(test)) NULL else .mf_match_arg(test, c("chi2", "binom", "exact"), "test")
  opt <- .mf_tes_options(dots)

  if (inherits(xx, "mf_rma_mv"))
    .mf_stop("tes() is not available for rma.mv() fits (as in metafor); give the estimates and variances instead.")
  if (inherits(xx, c("mf_rma", "mf_rma_tab"))) {
    fit <- xx
    if (is.null(fit$yi) || is.null(fit$vi)) .mf_stop("The fit does not hold the estimates and variances the test needs.")
    yi <- c(fit$yi)
    vi <- c(fit$vi)
    th <- if (isTRUE(fit$int.only)) c(fit$beta) else c(stats::fitted(fit))
    t2 <- if (is.null(fit$tau2)) NULL else fit$tau2
    dig <- .mf_digits_vec(if (missing(digits)) NULL else digits, fit$digits)
    sub <- NULL
  } else {
    yi <- xx
    if (!is.numeric(yi) || !is.null(dim(yi)) && length(dim(yi)) > 1L && min(dim(yi)) > 1L)
      .mf_stop("'x' must be a numeric vector of estimates or an rma() fit.")
    yi <- as.double(yi)
    vi <- get_arg("vi")
    sei <- get_arg("sei")
    if (is.null(vi) && !is.null(sei)) {
      sei <- .mf_numeric(sei, "sei")
      if (length(sei) != length(yi)) .mf_stop(sprintf("'sei' has length %d but 'x' has length %d.", length(sei), length(yi)))
      if (any(sei < 0, na.rm = TRUE)) .mf_stop(sprintf("'sei' must be positive; negative in %s.", .mf_rows(!is.na(sei) & sei < 0)))
      vi <- sei^2
    } else if (!is.null(vi)) {
      vi <- .mf_numeric(vi, "vi")
      if (length(vi) != length(yi)) .mf_stop(sprintf("'vi' has length %d but 'x' has length %d.", length(vi), length(yi)))
    } else {
      .mf_stop("Specify the sampling variances with 'vi' or the standard errors with 'sei'.")
    }
    th <- if (missing(theta) || is.null(theta)) NULL else theta
    t2 <- if (missing(tau2)) NULL else tau2
    dig <- .mf_digits_vec(if (missing(digits)) NULL else digits, NULL, opt = FALSE)
    sub <- get_arg("subset")
  }
  .mf_tes_run(yi, vi, th, t2, sub, H0, alternative, alpha, test, tes.alternative, tes.alpha, opt, dig)
}

.mf_tes_num1 <- function(v, name) {
  if (!is.numeric(v) || length(v) != 1L || !is.finite(v)) .mf_stop(sprintf("'%s' must be a single finite number.", name))
}
.mf_tes_prob <- function(v, name) {
  if (!is.numeric(v) || length(v) != 1L || is.na(v) || v <= 0 || v >= 1)
    .mf_stop(sprintf("'%s' must be a single number in (0, 1).", name))
}

# The settings metafor reads from tes()'s `...`.
.mf_tes_options <- function(dots) {
  get <- function(nm, default) if (is.null(dots[[nm]])) default else dots[[nm]]
  opt <- list(correct = get("correct", FALSE), rel.tol = get("rel.tol", .mf_tes_rel_tol),
              subdivisions = get("subdivisions", 100L), tau2.lb = get("tau2.lb", 0), find.lim = get("find.lim", TRUE))
  for (nm in c("correct", "find.lim"))
    if (!is.logical(opt[[nm]]) || length(opt[[nm]]) != 1L || is.na(opt[[nm]])) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  if (!is.numeric(opt$rel.tol) || length(opt$rel.tol) != 1L || !(opt$rel.tol > 0) || !is.finite(opt$rel.tol))
    .mf_stop("'rel.tol' must be a positive number.")
  if (!is.numeric(opt$subdivisions) || length(opt$subdivisions) != 1L || !(opt$subdivisions >= 1) || !is.finite(opt$subdivisions))
    .mf_stop("'subdivisions' must be a number >= 1.")
  .mf_tes_num1(opt$tau2.lb, "tau2.lb")
  opt
}

# Validation of the per-study inputs, then the test.
.mf_tes_run <- function(yi, vi, th, t2, sub, H0, alternative, alpha, test, tes.alternative, tes.alpha, opt, dig) {
  k.f <- length(yi)
  if (k.f == 0L) .mf_stop("'x' has length 0: there are no effect sizes.")
  single <- TRUE
  est.theta <- is.null(th)
  if (est.theta) {
    th <- rep(0, k.f)
  } else {
    if (!is.numeric(th) || !length(th)) .mf_stop("'theta' must be a number or one number per study.")
    if (any(!is.finite(th))) .mf_stop(sprintf("'theta' must be finite; not finite in %s.", .mf_rows(!is.finite(th))))
    if (length(th) == 1L) th <- rep(th, k.f)
    else single <- FALSE
    if (length(th) != k.f) .mf_stop(sprintf("'theta' has length %d but 'x' has length %d.", length(th), k.f))
  }
  if (!is.null(t2)) {
    if (!is.numeric(t2) || length(t2) != 1L || !is.finite(t2) || t2 < 0)
      .mf_stop("'tau2' must be a single non-negative number.")
  }
  if (!is.null(sub)) {
    if (is.numeric(sub) && length(sub) && !anyNA(sub) && all(sub < 0)) sub <- !(seq_len(k.f) %in% -sub)
    if (is.logical(sub) && length(sub) == k.f) keep <- !is.na(sub) & sub
    else if (is.numeric(sub) && all(sub %in% seq_len(k.f))) keep <- seq_len(k.f) %in% sub
    else .mf_stop(sprintf("'subset' must be a logical vector of length %d or row numbers between 1 and %d.", k.f, k.f))
    yi <- yi[keep]
    vi <- vi[keep]
    th <- th[keep]
    rows <- which(keep)
  } else {
    rows <- seq_len(k.f)
  }
  na <- is.na(yi) | is.na(vi)
  if (any(na)) {
    if (identical(getOption("na.action"), "na.fail")) .mf_stop(sprintf("Missing values in %s (na.action = 'na.fail').", .mf_rows(seq_len(k.f) %in% rows[na])))
    warning(sprintf("%d stud%s with NAs omitted from the test (%s).", sum(na), if (sum(na) == 1L) "y" else "ies",
                    .mf_rows(seq_len(k.f) %in% rows[na])), call. = FALSE)
    yi <- yi[!na]
    vi <- vi[!na]
    th <- th[!na]
    rows <- rows[!na]
  }
  if (!length(yi)) .mf_stop("No studies are left for the test (k = 0).")
  bad <- !is.finite(yi)
  if (any(bad)) .mf_stop(sprintf("'x' must be finite; not finite in %s.", .mf_rows(seq_len(k.f) %in% rows[bad])))
  bad <- !is.finite(vi) | vi <= 0
  if (any(bad)) .mf_stop(sprintf("'vi' must be positive and finite; not in %s.", .mf_rows(seq_len(k.f) %in% rows[bad])))
  if (is.null(t2) || t2 <= opt$tau2.lb) t2 <- NULL
  if (est.theta) {
    w <- 1 / (vi + if (is.null(t2)) 0 else t2)
    th <- rep(sum(w * yi) / sum(w), length(yi))
  }
  p <- list(yi = yi, vi = vi, tau2 = t2, H0 = H0, alternative = alternative, alpha = alpha, opt = opt)
  res <- .mf_tes_core(p, th, test, tes.alternative)
  theta.lim <- NULL
  if (opt$find.lim && single) {
    theta.lim <- if (tes.alternative == "two.sided")
      c(.mf_tes_limit(p, th[1L], res$test, "greater", tes.alpha / 2),
        .mf_tes_limit(p, th[1L], res$test, "less", tes.alpha / 2))
    else .mf_tes_limit(p, th[1L], res$test, tes.alternative, tes.alpha)
  }
  out <- list(k = length(yi), O = res$O, E = res$E, OEratio = res$O / res$E, test = res$test, X2 = res$X2,
              pval = res$pval, power = res$power, sig = res$sig, theta = if (single) th[1L] else th,
              theta.lim = theta.lim, tes.alternative = tes.alternative, tes.alpha = tes.alpha, digits = dig)
  class(out) <- "mf_tes"
  out
}

# Critical value of each study's test.
.mf_tes_crit <- function(alternative, alpha) {
  switch(alternative, two.sided = stats::qnorm(alpha / 2, lower.tail = FALSE),
         greater = stats::qnorm(alpha, lower.tail = FALSE), less = stats::qnorm(alpha))
}

# Power of the test of a study with standard error se when its true effect is
# mu (vectorised in mu).
.mf_tes_pow <- function(mu, se, H0, alternative, crit) {
  m <- (mu - H0) / se
  switch(alternative,
         two.sided = stats::pnorm(crit, m, lower.tail = FALSE) + stats::pnorm(-crit, m),
         greater = stats::pnorm(crit, m, lower.tail = FALSE),
         less = stats::pnorm(crit, m))
}

# Power of each study at true effect(s) th: exact without heterogeneity,
# otherwise averaged over N(th, tau2) truncated at th +- 5 tau (metafor's
# definition), by adaptive quadrature.
.mf_tes_power <- function(p, th) {
  crit <- .mf_tes_crit(p$alternative, p$alpha)
  se <- sqrt(p$vi)
  if (is.null(p$tau2)) return(.mf_tes_pow(th, se, p$H0, p$alternative, crit))
  tau <- sqrt(p$tau2)
  vapply(seq_along(se), function(i) {
    f <- function(u) .mf_tes_pow(u, se[i], p$H0, p$alternative, crit) * stats::dnorm(u, th[i], tau)
    r <- tryCatch(stats::integrate(f, th[i] - 5 * tau, th[i] + 5 * tau, rel.tol = p$opt$rel.tol,
                                   subdivisions = p$opt$subdivisions, stop.on.error = FALSE),
                  error = function(e) NULL)
    if (is.null(r) || !is.finite(r$value))
      .mf_stop(sprintf("The expected power of study %d could not be integrated (try other 'rel.tol' or 'subdivisions').", i))
    r$value
  }, numeric(1))
}

# Distribution of the number of significant studies when study i is
# significant with probability pw[i] independently (Poisson-binomial):
# P(j) for j = 0..k by adding one study at a time.
.mf_tes_pbinom <- function(pw) {
  d <- 1
  for (q in pw) d <- c(d * (1 - q), 0) + c(0, d * q)
  d
}

# O, E, the test and its p-value at true effect(s) th.
.mf_tes_core <- function(p, th, test, tes.alternative) {
  k <- length(p$yi)
  pow <- .mf_tes_power(p, th)
  crit <- .mf_tes_crit(p$alternative, p$alpha)
  zi <- (p$yi - p$H0) / sqrt(p$vi)
  sig <- switch(p$alternative, two.sided = abs(zi) >= crit, greater = zi >= crit, less = zi <= crit)
  E <- sum(pow)
  O <- sum(sig)
  js <- switch(tes.alternative, two.sided = 0:k, greater = O:k, less = 0:O)
  if (is.null(test)) test <- if (sum(choose(k, js)) <= .mf_tes_exact_max) "exact" else "chi2"
  X2 <- NA_real_
  if (test != "exact" && !(E > 0 && E < k))
    .mf_stop(sprintf("The expected number of significant studies (%s of %d) leaves no room for a %s test; use test = \"exact\".",
                     format(E), k, if (test == "chi2") "chi-square" else "binomial"))
  if (test == "chi2") {
    r <- suppressWarnings(stats::prop.test(O, k, p = E / k, alternative = tes.alternative, correct = p$opt$correct))
    X2 <- unname(r$statistic)
    pval <- r$p.value
  } else if (test == "binom") {
    pval <- stats::binom.test(O, k, p = E / k, alternative = tes.alternative)$p.value
  } else {
    prj <- .mf_tes_pbinom(pow)
    # two-sided: the outcomes no more likely than the observed one (with
    # metafor's allowance for rounding, sqrt(machine epsilon))
    pval <- switch(tes.alternative, two.sided = sum(prj[prj <= prj[O + 1L] + sqrt(.Machine$double.eps)]),
                   greater = sum(prj[(O:k) + 1L]), less = sum(prj[(0:O) + 1L]))
    pval <- min(pval, 1)
  }
  list(O = O, E = E, test = test, X2 = X2, pval = pval, power = pow, sig = sig)
}

# The limit estimate: theta where the p-value of the one-sided test equals
# a, searched from H0 towards the data's theta (metafor's bracket and
# direction); NA when the p-value at H0 is already on the other side of a or
# no root is found.
.mf_tes_limit <- function(p, theta1, test, side, a) {
  f <- function(t) .mf_tes_core(p, rep(t, length(p$yi)), test, side)$pval - a
  d0 <- f(p$H0)
  if (if (side == "greater") d0 >= 0 else d0 <= 0) return(NA_real_)
  up <- theta1 >= p$H0
  ext <- if (up == (side == "greater")) "upX" else "downX"
  r <- tryCatch(stats::uniroot(f, interval = if (up) c(p$H0, theta1) else c(theta1, p$H0), extendInt = ext,
                               tol = .mf_tes_lim_tol, maxiter = 1000L)$root,
                error = function(e) NA_real_)
  r
}

#' @rdname tes
#' @export
print.mf_tes <- function(x, digits = x$digits, ...) {
  d <- .mf_digits_vec(digits, x$digits, opt = FALSE)
  cat0 <- function(...) cat(..., sep = "")
  .mf_space()
  cat0("Test of Excess Significance\n\n")
  cat0("Observed Number of Significant Findings: ", x$O, " (out of ", x$k, ")\n")
  cat0("Expected Number of Significant Findings: ", .mf_fmtx(x$E, d[["est"]]), "\n")
  cat0("Observed Number / Expected Number:       ", .mf_fmtx(x$OEratio, d[["est"]]), "\n\n")
  if (length(x$theta) == 1L) cat0("Estimated Power of Tests (based on theta = ", .mf_fmtx(x$theta, d[["est"]]), ")")
  else cat0("Estimated Power of Tests: ")
  cat0("\n\n")
  pw <- if (x$k > 5L) stats::setNames(stats::quantile(x$power, names = FALSE), c("min", "q1", "median", "q3", "max"))
        else stats::setNames(x$power, seq_len(x$k))
  .mf_tab_print_vec(.mf_fmtx(pw, d[["pval"]]))
  cat0("\nTest of Excess Significance: p ", .mf_fmtp(x$pval, d[["pval"]], equal = TRUE),
       switch(x$test, chi2 = paste0(" (X^2 = ", .mf_fmtx(x$X2, d[["test"]]), ", df = 1)"),
              binom = " (binomial test)", exact = " (exact test)"), "\n")
  if (!is.null(x$theta.lim)) {
    lim <- ifelse(is.na(x$theta.lim), "not estimable", .mf_fmtx(x$theta.lim, d[["est"]]))
    cat0("Limit Estimate (theta_lim):  ", paste(lim, collapse = ", "))
    if (any(!is.na(x$theta.lim)))
      cat0(" (where p = ", if (x$tes.alternative == "two.sided") x$tes.alpha / 2 else x$tes.alpha, ")")
    cat0("\n")
  }
  .mf_space()
  invisible(x)
}
