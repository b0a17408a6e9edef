# Effect-size computations used by escalc().
#
# Every .esc_es_*() function receives a named list `v` of (already subsetted)
# numeric vectors of common length k, a character vector `vtype` of length k,
# the original row numbers `rows` (used in error messages) and the zero-cell
# options.  It returns list(yi, vi, ni) where ni are the (unadjusted) total
# sample sizes stored as attribute "ni" on the yi column.
#
# References for the formulas are given next to each measure.

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

# Error that names the argument and the offending (original) row numbers.
.esc_chk <- function(bad, msg, rows) {
  bad[is.na(bad)] <- FALSE
  if (any(bad)) {
    off <- rows[bad]
    shown <- if (length(off) > 20L) c(off[1:20], "...") else off
    stop(msg, "; offending rows: ", paste(shown, collapse = ", "),
         call. = FALSE)
  }
  invisible(TRUE)
}

.esc_need <- function(v, args, measure, hint = NULL) {
  miss <- args[vapply(args, function(a) is.null(v[[a]]), logical(1))]
  if (length(miss)) {
    stop("measure = '", measure, "' requires argument",
         if (length(args) > 1L) "s " else " ", paste(args, collapse = ", "),
         if (!is.null(hint)) paste0(" (", hint, ")") else "",
         "; missing: ", paste(miss, collapse = ", "), call. = FALSE)
  }
}

.esc_vtype_ok <- function(vtype, allowed, measure) {
  bad <- setdiff(unique(vtype), allowed)
  if (length(bad)) {
    stop("vtype '", bad[1], "' is not available for measure = '", measure,
         "'; allowed: ", paste(allowed, collapse = ", "), call. = FALSE)
  }
}

# replace missing values of x by those of y (x may be NULL)
.esc_fill <- function(x, y, k) {
  if (is.null(y)) return(x)
  if (is.null(x)) x <- rep(NA_real_, k)
  na <- is.na(x)
  x[na] <- y[na]
  x
}

# A standardised difference d given instead of means and SDs (directly, or
# from t or p): the rows with d get means (d, 0) and SDs (1, 1), and ri = 0.5
# when ri is among the arguments (pre-post designs), so that the usual
# formulas reproduce d.  v: list of m1i, m2i, sd1i, sd2i (and ri), NULL when
# not given.
.esc_d_as_means <- function(dd, v, k) {
  if (is.null(dd)) return(v)
  has <- !is.na(dd)
  fill <- c(m1i = NA, m2i = 0, sd1i = 1, sd2i = 1, ri = 0.5)
  for (nm in names(v)) {
    x <- if (is.null(v[[nm]])) rep(NA_real_, k) else v[[nm]]
    x[has] <- if (nm == "m1i") dd[has] else fill[[nm]]
    v[nm] <- list(x)
  }
  v
}

.esc_wmean <- function(x, w) {
  ok <- !(is.na(x) | is.na(w))
  sum(x[ok] * w[ok]) / sum(w[ok])
}

# two-sided p-value -> t statistic; the sign of the p-value gives the
# direction of the effect (a negative p-value means a negative t).
.esc_p2t <- function(p, df) {
  if (is.null(p)) return(NULL)
  df[!is.na(df) & df < 1] <- NA_real_
  p[!is.na(p) & abs(p) > 1] <- NA_real_
  sign(p) * stats::qt(abs(p) / 2, df = df, lower.tail = FALSE)
}

# Stirling series S(x) = lgamma(x) - [(x - 1/2) log x - x + log(2 pi)/2]
# (Abramowitz & Stegun 6.1.40), accurate to double precision for x >= 20.
.esc_stirling_rest <- function(x) {
  x2 <- x * x
  (1 / 12 + (-1 / 360 + (1 / 1260 + (-1 / 1680 + (1 / 1188 +
    (-691 / 360360) / x2) / x2) / x2) / x2) / x2) / x
}

# Small-sample bias correction of the standardized mean difference
# (Hedges 1981, J Educ Stat 6:107-128, eq. 6e):
#   c(m) = Gamma(m/2) / ( sqrt(m/2) * Gamma((m-1)/2) ).
# For m < 100 the ratio is evaluated in log space with lgamma().  For larger m
# the difference of two big lgamma() values loses digits (absolute error about
# eps * lgamma(m/2)), so we write z = (m-1)/2 and use the Stirling series:
#   log c(m) = (z - 1/2) * log1p(1/(2z)) - 1/2 + S(z + 1/2) - S(z),
# which is free of cancellation and exact to double precision for any m.
.esc_cmi <- function(m, correct = TRUE) {
  if (isFALSE(correct)) return(rep(1, length(m)))
  if (identical(correct, "approx")) {
    # Hedges (1981) approximation
    return(ifelse(m <= 1, NA_real_, 1 - 3 / (4 * m - 1)))
  }
  out <- rep(NA_real_, length(m))
  ok <- !is.na(m) & m > 1
  small <- ok & m < 100
  large <- ok & m >= 100
  if (any(small)) {
    ms <- m[small]
    out[small] <- exp(lgamma(ms / 2) - lgamma((ms - 1) / 2) - 0.5 * log(ms / 2))
  }
  if (any(large)) {
    z <- (m[large] - 1) / 2
    out[large] <- exp((z - 0.5) * log1p(1 / (2 * z)) - 0.5 +
                        .esc_stirling_rest(z + 0.5) - .esc_stirling_rest(z))
  }
  out
}

# Gauss hypergeometric function 2F1(a, b; cc; x) for 0 <= x <= 1 and
# cc > a + b (needed for the Olkin & Pratt 1958 unbiased correlation and its
# variance).  Power series (Abramowitz & Stegun 15.1.1) when it converges
# quickly, otherwise Euler's integral representation (A&S 15.3.1),
# which requires cc > b > 0.
.esc_hyp2f1 <- function(a, b, cc, x) {
  k <- max(length(cc), length(x))
  cc <- rep_len(cc, k)
  x <- rep_len(x, k)
  out <- rep(NA_real_, k)
  for (i in seq_len(k)) {
    ci <- cc[i]
    xi <- x[i]
    if (is.na(ci) || is.na(xi) || ci <= a + b || xi < 0 || xi > 1) next
    if (xi <= 0.9 || ci >= 25) {
      s <- 1
      term <- 1
      j <- 0
      repeat {
        term <- term * (a + j) * (b + j) / ((ci + j) * (j + 1)) * xi
        s <- s + term
        j <- j + 1
        if (abs(term) <= 1e-17 * abs(s) || j > 1e5) break
      }
      out[i] <- s
    } else {
      f <- function(t) t^(b - 1) * (1 - t)^(ci - b - 1) * (1 - xi * t)^(-a)
      int <- stats::integrate(f, 0, 1, rel.tol = 1e-13, subdivisions = 1000L)$value
      out[i] <- exp(lgamma(ci) - lgamma(b) - lgamma(ci - b)) * int
    }
  }
  out
}

# zero-cell adjustment shared by 2x2 tables and proportions
.esc_add <- function(cells, add, to) {
  if (to == "none" || add == 0) return(cells)
  has0 <- Reduce(`|`, lapply(cells, function(z) !is.na(z) & z == 0))
  idx <- switch(to,
                all = rep(TRUE, length(has0)),
                only0 = has0,
                if0all = rep(any(has0), length(has0)))
  lapply(cells, function(z) { z[idx] <- z[idx] + add; z })
}

# The cells of 2x2 tables given as ai, bi, ci, di or ai, n1i, ci, n2i:
# checked, the tables with zero events (or non-events) in both groups set to
# NA with drop00, and `add` added as `to` says (to the event cells only with
# onlyo1).  Returns raw (after drop00) and adj (after add) lists of the four
# cells and ni.u (the total sample sizes before drop00).
.esc_2x2_cells <- function(measure, v, rows, add, to, drop00, onlyo1 = FALSE) {
  k <- length(rows)
  ai <- v$ai; bi <- v$bi; ci <- v$ci; di <- v$di; n1i <- v$n1i; n2i <- v$n2i
  if (is.null(ai)) .esc_need(v, "ai", measure, "with bi or n1i")
  if (is.null(ci)) .esc_need(v, "ci", measure, "with di or n2i")
  if (is.null(bi) && is.null(n1i))
    stop("measure = '", measure, "' requires bi or n1i", call. = FALSE)
  if (is.null(di) && is.null(n2i))
    stop("measure = '", measure, "' requires di or n2i", call. = FALSE)
  for (nm in c("ai", "bi", "ci", "di", "n1i", "n2i"))
    if (!is.null(v[[nm]])) .esc_chk(v[[nm]] < 0, paste(nm, "must be non-negative"), rows)
  if (!is.null(n1i) && !is.null(bi))
    .esc_chk(n1i != ai + bi, "n1i must equal ai + bi", rows)
  if (!is.null(n2i) && !is.null(di))
    .esc_chk(n2i != ci + di, "n2i must equal ci + di", rows)
  if (!is.null(n1i)) {
    .esc_chk(ai > n1i, "ai must not exceed n1i", rows)
    bi <- .esc_fill(bi, n1i - ai, k)
  }
  if (!is.null(n2i)) {
    .esc_chk(ci > n2i, "ci must not exceed n2i", rows)
    di <- .esc_fill(di, n2i - ci, k)
  }
  ni.u <- ai + bi + ci + di

  if (drop00) {
    both0 <- (ai == 0 & ci == 0) | (bi == 0 & di == 0)
    both0[is.na(both0)] <- FALSE
    ai[both0] <- bi[both0] <- ci[both0] <- di[both0] <- NA_real_
  }
  cl <- .esc_add(list(ai, bi, ci, di), add, to)
  # onlyo1: the value is added to the event cells only (metafor's option)
  if (onlyo1) cl[c(2, 4)] <- list(bi, di)
  list(raw = list(ai, bi, ci, di), adj = cl, ni.u = ni.u)
}

# ---------------------------------------------------------------------------
# 2x2 tables: OR, RR, RD, PETO, AS
# ---------------------------------------------------------------------------
# Log odds ratio, log risk ratio and risk difference with large-sample
# (delta-method) variances; see Fleiss & Berlin (2009) in The Handbook of
# Research Synthesis and Meta-Analysis, ch. 13.  "AV" replaces the group
# proportions by their sample-size weighted averages across studies, "H0"
# uses the pooled proportion of the study (variance under the null).
# Peto's one-step log odds ratio: Yusuf et al. (1985), Prog Cardiovasc Dis
# 27:335-371.  Arcsine difference: Rucker et al. (2009), Stat Med 28:721-738.
.esc_es_2x2 <- function(measure, v, vtype, rows, add, to, drop00,
                        onlyo1 = FALSE, addyi = TRUE, addvi = TRUE) {
  k <- length(rows)
  tab <- .esc_2x2_cells(measure, v, rows, add, to, drop00, onlyo1)
  ai <- tab$raw[[1]]; bi <- tab$raw[[2]]; ci <- tab$raw[[3]]; di <- tab$raw[[4]]
  ni.u <- tab$ni.u
  cl <- tab$adj
  calc <- function(ai, bi, ci, di, nav1 = NULL, nav2 = NULL) {
    n1 <- ai + bi
    n2 <- ci + di
    p1 <- ai / n1
    p2 <- ci / n2
    pbar1 <- .esc_wmean(p1, n1)
    pbar2 <- .esc_wmean(p2, n2)
    pp <- (ai + ci) / (n1 + n2)
    # (the sample sizes of vtype "AV" of the OR; see addvi below)
    if (is.null(nav1)) nav1 <- n1
    if (is.null(nav2)) nav2 <- n2
    vi <- rep(NA_real_, k)
    if (measure == "OR") {
      .esc_vtype_ok(vtype, c("LS", "AV", "H0"), measure)
      yi <- log(ai / bi) - log(ci / di)
      s <- vtype == "LS"; vi[s] <- (1 / ai + 1 / bi + 1 / ci + 1 / di)[s]
      s <- vtype == "AV"
      vi[s] <- (1 / (pbar1 * (1 - pbar1) * nav1) + 1 / (pbar2 * (1 - pbar2) * nav2))[s]
      s <- vtype == "H0"; vi[s] <- ((1 / n1 + 1 / n2) / (pp * (1 - pp)))[s]
    } else if (measure == "RR") {
      .esc_vtype_ok(vtype, c("LS", "AV", "H0"), measure)
      yi <- log(p1) - log(p2)
      s <- vtype == "LS"; vi[s] <- (1 / ai - 1 / n1 + 1 / ci - 1 / n2)[s]
      s <- vtype == "AV"
      vi[s] <- ((1 - pbar1) / (pbar1 * n1) + (1 - pbar2) / (pbar2 * n2))[s]
      s <- vtype == "H0"; vi[s] <- ((1 - pp) / pp * (1 / n1 + 1 / n2))[s]
    } else if (measure == "RD") {
      .esc_vtype_ok(vtype, c("UB", "LS", "AV", "H0"), measure)
      yi <- p1 - p2
      s <- vtype == "LS"; vi[s] <- (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)[s]
      s <- vtype == "UB"
      vi[s] <- (p1 * (1 - p1) / (n1 - 1) + p2 * (1 - p2) / (n2 - 1))[s]
      s <- vtype == "AV"
      vi[s] <- (pbar1 * (1 - pbar1) / n1 + pbar2 * (1 - pbar2) / n2)[s]
      s <- vtype == "H0"; vi[s] <- (pp * (1 - pp) * (1 / n1 + 1 / n2))[s]
    } else if (measure == "PETO") {
      n <- n1 + n2
      ei <- (ai + ci) * n1 / n                      # expected events, group 1
      hv <- (ai + ci) * (bi + di) * n1 * n2 / (n^2 * (n - 1))  # hypergeometric var
      yi <- (ai - ei) / hv
      vi <- 1 / hv
    } else if (measure == "AS") {
      yi <- asin(sqrt(p1)) - asin(sqrt(p2))
      vi <- 1 / (4 * n1) + 1 / (4 * n2)
    }
    list(yi = yi, vi = vi)
  }
  adj <- calc(cl[[1]], cl[[2]], cl[[3]], cl[[4]])
  # addyi / addvi = FALSE (metafor's options; OR, RR, RD only): the outcome /
  # the variance from the counts without the added value.  As metafor, the
  # OR's vtype "AV" then keeps the adjusted group sizes.
  if (measure %in% c("OR", "RR", "RD") && !(addyi && addvi)) {
    raw <- calc(ai, bi, ci, di, nav1 = cl[[1]] + cl[[2]], nav2 = cl[[3]] + cl[[4]])
    if (!addyi) adj$yi <- raw$yi
    if (!addvi) adj$vi <- raw$vi
  }
  list(yi = adj$yi, vi = adj$vi, ni = ni.u)
}

# POMP scores (percent of maximum possible): means and SDs rescaled to
# 100 (x - min) / (max - min) of the scale (Cohen, Cohen, Aiken & West 1999,
# Multivariate Behav Res 34:315-346), then the raw (mean) difference.
.esc_pomp <- function(v, measure, rows) {
  .esc_need(v, c("mini", "maxi"), measure)
  .esc_chk(v$maxi == v$mini, "maxi must differ from mini", rows)
  rng <- v$maxi - v$mini
  for (nm in intersect(c("m1i", "m2i"), names(v))) v[[nm]] <- 100 * (v[[nm]] - v$mini) / rng
  for (nm in intersect(c("sd1i", "sd2i"), names(v))) v[[nm]] <- 100 * v[[nm]] / rng
  v
}

# ---------------------------------------------------------------------------
# two independent groups, quantitative outcome: MD, POMPMD, SMD, SMDH, ROM
# ---------------------------------------------------------------------------
.esc_es_quant <- function(measure, v, vtype, rows, correct) {
  k <- length(rows)
  if (measure == "POMPMD") {
    .esc_need(v, c("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"), measure)
    v <- .esc_pomp(v, measure, rows)
    measure <- "MD"
  }
  m1i <- v$m1i; m2i <- v$m2i; sd1i <- v$sd1i; sd2i <- v$sd2i
  n1i <- v$n1i; n2i <- v$n2i
  if (measure == "SMD") {
    .esc_need(v, c("n1i", "n2i"), measure,
             "plus m1i, m2i, sd1i, sd2i or di, ti, pi, ri")
    # Standardized mean differences reported only as test statistics:
    # d = t * sqrt(1/n1 + 1/n2); p-values are first converted to t
    # (df = n1 + n2 - 2), point-biserial r to d via d = sqrt(h) r / sqrt(1 - r^2)
    # with h = m/n1 + m/n2 (Jacobs & Viechtbauer 2017, Res Synth Methods 8:161).
    if (!is.null(v$ri)) .esc_chk(abs(v$ri) > 1, "ri must lie in [-1, 1]", rows)
    if (!is.null(v$pi)) .esc_chk(abs(v$pi) > 1, "pi must lie in [-1, 1]", rows)
    ti <- .esc_fill(v$ti, .esc_p2t(v$pi, n1i + n2i - 2), k)
    dd <- .esc_fill(v$di, if (!is.null(ti)) ti * sqrt(1 / n1i + 1 / n2i), k)
    if (!is.null(v$ri)) {
      mm <- n1i + n2i - 2
      hh <- mm / n1i + mm / n2i
      dd <- .esc_fill(dd, sqrt(hh) * v$ri / sqrt(1 - v$ri^2), k)
    }
    v2 <- .esc_d_as_means(dd, list(m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i), k)
    m1i <- v2$m1i; m2i <- v2$m2i; sd1i <- v2$sd1i; sd2i <- v2$sd2i
    .esc_need(v2, c("m1i", "m2i", "sd1i", "sd2i"), measure,
             "or di, ti, pi, ri together with n1i, n2i")
  } else {
    .esc_need(v, c("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"), measure)
  }
  if (!is.null(v$sd1i)) .esc_chk(sd1i < 0, "sd1i must be non-negative", rows)
  if (!is.null(v$sd2i)) .esc_chk(sd2i < 0, "sd2i must be non-negative", rows)
  .esc_chk(n1i <= 0, "n1i must be positive", rows)
  .esc_chk(n2i <= 0, "n2i must be positive", rows)

  ni <- n1i + n2i
  mi <- ni - 2
  sdp <- sqrt(((n1i - 1) * sd1i^2 + (n2i - 1) * sd2i^2) / mi)  # pooled SD
  vi <- rep(NA_real_, k)

  if (measure == "MD") {
    # raw mean difference; LS/UB: unbiased estimate of Var(m1 - m2),
    # HO: assumes homoscedasticity (pooled SD)
    .esc_vtype_ok(vtype, c("LS", "UB", "HO"), measure)
    yi <- m1i - m2i
    s <- vtype %in% c("LS", "UB"); vi[s] <- (sd1i^2 / n1i + sd2i^2 / n2i)[s]
    s <- vtype == "HO"; vi[s] <- (sdp^2 * (1 / n1i + 1 / n2i))[s]
  } else if (measure == "SMD") {
    # Hedges' g (Hedges 1981; Hedges & Olkin 1985, ch. 5)
    .esc_vtype_ok(vtype, c("LS", "LS2", "LS3", "UB", "AV", "H0"), measure)
    d <- (m1i - m2i) / sdp
    cm <- .esc_cmi(mi, correct)
    yi <- cm * d
    ybar <- .esc_wmean(yi, ni)
    base <- 1 / n1i + 1 / n2i
    # LS: large-sample variance (Hedges 1981, eq. 8 with g plugged in)
    s <- vtype == "LS"; vi[s] <- (base + yi^2 / (2 * ni))[s]
    # LS2: variance of c(m) * d using d (Borenstein 2009 style, scaled)
    s <- vtype == "LS2"; vi[s] <- (cm^2 * (base + d^2 / (2 * ni)))[s]
    # LS3: large-sample variance with n - 3.94 in the denominator (Hedges 1981)
    s <- vtype == "LS3"; vi[s] <- (base + yi^2 / (2 * (ni - 3.94)))[s]
    # UB: unbiased estimator (Hedges 1983, Psychol Bull 93:388-395)
    s <- vtype == "UB"
    vi[s] <- (base + (1 - (mi - 2) / (mi * cm^2)) * yi^2)[s]
    # AV: sample-size weighted average of g in place of g (Hedges & Olkin 1985)
    s <- vtype == "AV"; vi[s] <- (base + ybar^2 / (2 * ni))[s]
    # H0: exact variance of g when delta = 0
    s <- vtype == "H0"
    vi[s] <- ifelse(mi > 2, cm^2 * base * mi / (mi - 2), NA_real_)[s]
  } else if (measure == "SMDH") {
    # heteroscedastic SMD (Bonett 2008, Psychol Methods 13:99-109; 2009)
    .esc_vtype_ok(vtype, c("LS", "LS2", "LS3"), measure)
    sda <- sqrt((sd1i^2 + sd2i^2) / 2)
    yi <- .esc_cmi(mi, correct) * (m1i - m2i) / sda
    s <- vtype == "LS"
    vi[s] <- (yi^2 * (sd1i^4 / (n1i - 1) + sd2i^4 / (n2i - 1)) / (8 * sda^4) +
                (sd1i^2 / (n1i - 1) + sd2i^2 / (n2i - 1)) / sda^2)[s]
    s <- vtype == "LS2"
    vi[s] <- ((sd1i^2 / n1i + sd2i^2 / n2i) / sda^2 +
                yi^2 / (8 * sda^4) * (sd1i^4 / n1i + sd2i^4 / n2i))[s]
    s <- vtype == "LS3"
    vi[s] <- ((sd1i^2 / n1i + sd2i^2 / n2i) / sda^2 +
                yi^2 / (8 * sda^4) * (sd1i^4 / (n1i - 1) + sd2i^4 / (n2i - 1)))[s]
  } else if (measure == "ROM") {
    # log ratio of means (Hedges, Gurevitch & Curtis 1999, Ecology 80:1150);
    # correct = TRUE adds the second-order bias correction of
    # Lajeunesse (2015, Ecology 96:2056-2063), as metafor >= 4.8 does by default
    .esc_vtype_ok(vtype, c("LS", "LS2", "HO", "AV", "AVHO"), measure)
    cv1 <- sd1i / m1i
    cv2 <- sd2i / m2i
    yi <- log(m1i / m2i)
    if (!isFALSE(correct)) yi <- yi + (cv1^2 / n1i - cv2^2 / n2i) / 2
    s <- vtype == "LS"; vi[s] <- (cv1^2 / n1i + cv2^2 / n2i)[s]
    s <- vtype == "LS2"
    vi[s] <- (cv1^2 / n1i + cv2^2 / n2i + cv1^4 / (2 * n1i^2) + cv2^4 / (2 * n2i^2))[s]
    s <- vtype == "HO"; vi[s] <- (sdp^2 / (n1i * m1i^2) + sdp^2 / (n2i * m2i^2))[s]
    s <- vtype == "AV"
    if (any(s)) {
      a1 <- .esc_wmean(cv1, n1i); a2 <- .esc_wmean(cv2, n2i)
      vi[s] <- (a1^2 / n1i + a2^2 / n2i)[s]
    }
    s <- vtype == "AVHO"
    if (any(s)) {
      ok <- !(is.na(n1i) | is.na(n2i) | is.na(cv1) | is.na(cv2))
      ap <- (sum((n1i * cv1)[ok]) + sum((n2i * cv2)[ok])) / sum(ni[ok])
      vi[s] <- (ap^2 * (1 / n1i + 1 / n2i))[s]
    }
  }
  list(yi = yi, vi = vi, ni = ni)
}

# ---------------------------------------------------------------------------
# pre-post / matched pairs: MC, SMCC, SMCR  (Morris 2000; Becker 1988;
# Gibbons, Hedeker & Davis 1993; Morris & DeShon 2002)
# ---------------------------------------------------------------------------
.esc_es_prepost <- function(measure, v, vtype, rows, correct) {
  k <- length(rows)
  if (measure == "POMPMC") {
    .esc_need(v, c("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"), measure)
    v <- .esc_pomp(v, measure, rows)
    measure <- "MC"
  }
  m1i <- v$m1i; m2i <- v$m2i; sd1i <- v$sd1i; sd2i <- v$sd2i
  ri <- v$ri; ni <- v$ni
  if (measure == "SMCC") {
    .esc_need(v, "ni", measure, "plus m1i, m2i, sd1i, sd2i, ri or di, ti, pi")
    # d from a paired t-test: d = t / sqrt(n) (p converted with df = n - 1)
    if (!is.null(v$pi)) .esc_chk(abs(v$pi) > 1, "pi must lie in [-1, 1]", rows)
    ti <- .esc_fill(v$ti, .esc_p2t(v$pi, ni - 1), k)
    dd <- .esc_fill(v$di, if (!is.null(ti)) ti * sqrt(1 / ni), k)
    # (with ri = 0.5 the sd of the change score equals 1 as well)
    v2 <- .esc_d_as_means(dd, list(m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, ri = ri), k)
    m1i <- v2$m1i; m2i <- v2$m2i; sd1i <- v2$sd1i; sd2i <- v2$sd2i; ri <- v2$ri
    .esc_need(v2, c("m1i", "m2i", "sd1i", "sd2i", "ri"), measure,
             "or di, ti, pi together with ni")
  } else if (measure == "SMCR") {
    .esc_need(v, c("m1i", "m2i", "sd1i", "ri", "ni"), measure)
  } else {
    .esc_need(v, c("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"), measure)
  }
  if (!is.null(v$sd1i)) .esc_chk(sd1i < 0, "sd1i must be non-negative", rows)
  if (!is.null(v$sd2i) && measure != "SMCR")
    .esc_chk(sd2i < 0, "sd2i must be non-negative", rows)
  if (!is.null(v$ri)) .esc_chk(abs(v$ri) > 1, "ri must lie in [-1, 1]", rows)
  .esc_chk(ni <= 0, "ni must be positive", rows)

  mi <- ni - 1
  vi <- rep(NA_real_, k)
  if (measure != "SMCR") sdd <- sqrt(sd1i^2 + sd2i^2 - 2 * ri * sd1i * sd2i)
  if (measure == "MC") {
    yi <- m1i - m2i
    vi <- sdd^2 / ni
  } else if (measure == "SMCC") {
    # standardized mean change using the change-score SD (Gibbons et al. 1993)
    .esc_vtype_ok(vtype, c("LS", "LS2", "UB", "H0"), measure)
    cm <- .esc_cmi(mi, correct)
    d <- (m1i - m2i) / sdd
    yi <- cm * d
    s <- vtype == "LS"; vi[s] <- (1 / ni + yi^2 / (2 * ni))[s]
    s <- vtype == "LS2"; vi[s] <- (cm^2 * (1 / ni + d^2 / (2 * ni)))[s]
    s <- vtype == "UB"; vi[s] <- (1 / ni + (1 - (mi - 2) / (mi * cm^2)) * yi^2)[s]
    s <- vtype == "H0"
    vi[s] <- ifelse(mi > 2, cm^2 / ni * mi / (mi - 2), NA_real_)[s]
  } else if (measure == "SMCR") {
    # standardized by the pre-test (raw score) SD (Becker 1988, Br J Math
    # Stat Psychol 41:257-278; Morris 2000)
    .esc_vtype_ok(vtype, c("LS", "LS2", "UB", "H0"), measure)
    cm <- .esc_cmi(mi, correct)
    d <- (m1i - m2i) / sd1i
    yi <- cm * d
    s <- vtype == "LS"; vi[s] <- (2 * (1 - ri) / ni + yi^2 / (2 * ni))[s]
    s <- vtype == "LS2"; vi[s] <- (cm^2 * (2 * (1 - ri) / ni + d^2 / (2 * ni)))[s]
    s <- vtype %in% c("UB", "H0")
    if (any(s)) {
      # Olkin & Pratt (1958) unbiased estimate of rho
      ru <- ri * .esc_hyp2f1(0.5, 0.5, (ni - 2) / 2, 1 - ri^2)
      s <- vtype == "UB"
      vi[s] <- (2 * (1 - ru) / ni + (1 - (mi - 2) / (mi * cm^2)) * yi^2)[s]
      s <- vtype == "H0"
      vi[s] <- ifelse(mi > 2, cm^2 * 2 * (1 - ru) / ni * mi / (mi - 2), NA_real_)[s]
    }
  }
  list(yi = yi, vi = vi, ni = ni)
}

# ---------------------------------------------------------------------------
# correlations: COR, UCOR, ZCOR
# ---------------------------------------------------------------------------
.esc_es_cor <- function(measure, v, vtype, rows) {
  k <- length(rows)
  ni <- v$ni
  .esc_need(v, "ni", measure, "plus ri or ti, pi")
  if (!is.null(v$pi)) .esc_chk(abs(v$pi) > 1, "pi must lie in [-1, 1]", rows)
  # r from t: r = t / sqrt(t^2 + n - 2); p -> t with df = n - 2
  ti <- .esc_fill(v$ti, .esc_p2t(v$pi, ni - 2), k)
  ri <- .esc_fill(v$ri, if (!is.null(ti)) ti / sqrt(ti^2 + ni - 2), k)
  if (is.null(ri)) .esc_need(v, "ri", measure, "or ti, pi")
  .esc_chk(abs(ri) > 1, "ri must lie in [-1, 1]", rows)
  .esc_chk(ni <= 0, "ni must be positive", rows)
  if (measure != "UCOR" && any(vtype == "UB"))
    stop("vtype 'UB' is only available for measure = 'UCOR'", call. = FALSE)
  vi <- rep(NA_real_, k)
  if (measure == "ZCOR") {
    # Fisher's (1921) r-to-z transformation, Var = 1/(n - 3)
    if (any(ni <= 3, na.rm = TRUE))
      warning("sampling variance cannot be estimated when ni <= 3 (set to NA)",
              call. = FALSE)
    yi <- atanh(ri)
    vi <- 1 / (ni - 3)
  } else {
    if (measure == "COR") {
      .esc_vtype_ok(vtype, c("LS", "AV", "H0", "H0a", "H0b"), measure)
      yi <- ri
    } else {
      # Olkin & Pratt (1958) unbiased correlation
      .esc_vtype_ok(vtype, c("LS", "UB", "AV"), measure)
      if (any(ni <= 4, na.rm = TRUE))
        warning("the bias-corrected correlation cannot be computed when ni <= 4 (set to NA)",
                call. = FALSE)
      yi <- ri * .esc_hyp2f1(0.5, 0.5, (ni - 2) / 2, 1 - ri^2)
    }
    ybar <- .esc_wmean(yi, ni)
    s <- vtype == "LS"; vi[s] <- ((1 - yi^2)^2 / (ni - 1))[s]
    s <- vtype == "AV"; vi[s] <- ((1 - ybar^2)^2 / (ni - 1))[s]
    s <- vtype %in% c("H0", "H0a"); vi[s] <- ((1 - yi^2) / (ni - 2))[s]
    s <- vtype == "H0b"; vi[s] <- (1 / ni)[s]
    s <- vtype == "UB"
    if (any(s)) {
      # unbiased estimate of Var(r_u) (Hedges 1989, Psychol Bull 105:297)
      vi[s] <- (yi^2 - (1 - (ni - 3) / (ni - 2) * (1 - ri^2) *
                          .esc_hyp2f1(1, 1, ni / 2, 1 - ri^2)))[s]
    }
  }
  vi[!is.na(ni) & ni <= 3] <- NA_real_
  list(yi = yi, vi = vi, ni = ni)
}

# ---------------------------------------------------------------------------
# single proportions: PR, PLN, PLO, PRZ, PAS, PFT
# ---------------------------------------------------------------------------
# Raw, log and logit proportion with binomial delta-method variances;
# arcsine (Anscombe 1948) and Freeman-Tukey (1950) double arcsine transforms.
.esc_es_prop <- function(measure, v, vtype, rows, add, to, addyi = TRUE, addvi = TRUE) {
  k <- length(rows)
  xi <- v$xi; mi <- v$mi; ni <- v$ni
  .esc_need(v, "xi", measure, "with mi or ni")
  if (is.null(mi) && is.null(ni))
    stop("measure = '", measure, "' requires mi or ni", call. = FALSE)
  for (nm in c("xi", "mi", "ni"))
    if (!is.null(v[[nm]])) .esc_chk(v[[nm]] < 0, paste(nm, "must be non-negative"), rows)
  if (!is.null(ni) && !is.null(mi)) .esc_chk(ni != xi + mi, "ni must equal xi + mi", rows)
  if (!is.null(ni)) {
    .esc_chk(xi > ni, "xi must not exceed ni", rows)
    mi <- .esc_fill(mi, ni - xi, k)
  }
  ni.u <- xi + mi
  .esc_chk(ni.u <= 0, "ni (= xi + mi) must be positive", rows)
  cl <- .esc_add(list(xi, mi), add, to)
  calc <- function(xi, mi) {
    n <- xi + mi
    p <- xi / n
    pbar <- .esc_wmean(p, n)
    vi <- rep(NA_real_, k)
    if (measure == "PR") {
      .esc_vtype_ok(vtype, c("LS", "UB", "AV"), measure)
      yi <- p
      s <- vtype == "LS"; vi[s] <- (p * (1 - p) / n)[s]
      s <- vtype == "UB"; vi[s] <- (p * (1 - p) / (n - 1))[s]
      s <- vtype == "AV"; vi[s] <- (pbar * (1 - pbar) / n)[s]
    } else if (measure == "PLN") {
      .esc_vtype_ok(vtype, c("LS", "AV"), measure)
      yi <- log(p)
      s <- vtype == "LS"; vi[s] <- (1 / xi - 1 / n)[s]
      s <- vtype == "AV"; vi[s] <- (1 / (pbar * n) - 1 / n)[s]
    } else if (measure == "PLO") {
      .esc_vtype_ok(vtype, c("LS", "AV"), measure)
      yi <- log(xi / mi)
      s <- vtype == "LS"; vi[s] <- (1 / xi + 1 / mi)[s]
      s <- vtype == "AV"; vi[s] <- (1 / (pbar * n) + 1 / ((1 - pbar) * n))[s]
    } else if (measure == "PRZ") {
      # probit of the proportion, delta method:
      # Var = 2 pi p (1 - p) exp(z^2) / n (Sanchez-Meca et al. 2003)
      yi <- stats::qnorm(p)
      vi <- 2 * base::pi * p * (1 - p) * exp(yi^2) / n
    } else if (measure == "PAS") {
      yi <- asin(sqrt(p))
      vi <- 1 / (4 * n)
    } else if (measure == "PFT") {
      yi <- (asin(sqrt(xi / (n + 1))) + asin(sqrt((xi + 1) / (n + 1)))) / 2
      vi <- 1 / (4 * n + 2)
    }
    list(yi = yi, vi = vi)
  }
  adj <- calc(cl[[1]], cl[[2]])
  # addyi / addvi = FALSE (metafor's options; PR, PLN, PLO only): the outcome
  # / the variance from the counts without the added value
  if (measure %in% c("PR", "PLN", "PLO") && !(addyi && addvi)) {
    raw <- calc(xi, mi)
    if (!addyi) adj$yi <- raw$yi
    if (!addvi) adj$vi <- raw$vi
  }
  list(yi = adj$yi, vi = adj$vi, ni = ni.u)
}
