# escalc() measures of (semi-)partial correlations and of R^2:
# PCOR, ZPCOR, SPCOR, ZSPCOR, R2, ZR2, R2F, ZR2F.  Same conventions as
# R/escalc-measures.R (list v of subsetted vectors, vtype per row, rows for
# the error messages; returns list(yi, vi, ni)).

# Fisher's r-to-z with r first truncated to [-1, 1] (so that |r| = 1 gives
# +-Inf, which escalc() recodes to NA with a warning)
.esc_rtoz <- function(r) atanh(pmin(pmax(r, -1), 1))

# Variance of a correlation-type estimate carried over to Fisher's z by the
# delta method: Var(z) = Var(r) / (1 - r^2)^2 (|r| > 1 counts as 1).
.esc_rtoz_var <- function(vi, r) vi / (1 - pmin(r^2, 1))^2

# ---------------------------------------------------------------------------
# partial and semi-partial correlations
# ---------------------------------------------------------------------------
# ri: the (semi-)partial correlation of the predictor of interest, mi: the
# number of predictors of the regression model, ni: the sample size, r2i:
# R^2 of the model (semi-partial only); or ti (or a two-sided pi with the
# sign of the effect) of the coefficient's test with ni - mi - 1 df.
#   partial r from t: r = t / sqrt(t^2 + df)            (Aloe & Thompson 2013)
#   semi-partial from t: r = t sqrt(1 - R^2) / sqrt(df)  (Aloe & Becker 2012)
# Variances:
#   PCOR (Olkin & Siotani 1976; Aloe & Thompson 2013, J Soc Social Work Res
#   4:390-405): (1 - r^2)^2 / (n - m);  ZPCOR: 1 / (n - m - 2)
#   SPCOR (Aloe & Becker 2012, J Educ Behav Stat 37:278-297, eq. 7):
#   [R^4 - 2 R^2 + (R^2 - r^2) + 1 - (R^2 - r^2)^2] / n
# "AV" uses the sample-size weighted mean of the estimates in place of r.
.esc_es_pcor <- function(measure, v, vtype, rows) {
  k <- length(rows)
  semi <- measure %in% c("SPCOR", "ZSPCOR")
  ri <- v$ri; mi <- v$mi; ni <- v$ni; r2i <- v$r2i
  .esc_need(v, c("mi", "ni"), measure,
            if (semi) "plus ri or ti, pi and r2i" else "plus ri or ti, pi")
  if (semi) .esc_need(v, "r2i", measure, "with ri or ti, pi, and mi, ni")
  df <- ni - mi - 1
  if (!is.null(v$pi)) .esc_chk(abs(v$pi) > 1, "pi must lie in [-1, 1]", rows)
  ti <- .esc_fill(v$ti, .esc_p2t(v$pi, df), k)
  if (!is.null(ti))
    ri <- .esc_fill(ri, if (semi) ti * sqrt(1 - r2i) / sqrt(df) else ti / sqrt(ti^2 + df), k)
  if (is.null(ri)) .esc_need(v, "ri", measure, "or ti, pi")
  .esc_chk(abs(ri) > 1, "ri (the (semi-)partial correlations) must lie in [-1, 1]", rows)
  if (semi) .esc_chk(r2i < 0 | r2i > 1, "r2i must lie in [0, 1]", rows)
  .esc_chk(ni <= 0, "ni must be positive", rows)
  .esc_chk(mi <= 0, "mi must be positive", rows)
  .esc_chk(df <= 0, "ni - mi - 1 (the df) must be positive", rows)

  vi <- rep(NA_real_, k)
  if (measure == "ZPCOR") {
    return(list(yi = .esc_rtoz(ri), vi = 1 / (ni - mi - 2), ni = ni))
  }
  .esc_vtype_ok(vtype, c("LS", "AV"), measure)
  yi <- ri
  rr <- ifelse(vtype == "AV", .esc_wmean(yi, ni), yi)
  if (!semi) {
    vi <- (1 - rr^2)^2 / (ni - mi)
  } else {
    vi <- (r2i^2 - 2 * r2i + (r2i - rr^2) + 1 - (r2i - rr^2)^2) / ni
  }
  if (measure == "ZSPCOR") {
    vi <- .esc_rtoz_var(vi, yi)
    yi <- .esc_rtoz(yi)
  }
  list(yi = yi, vi = vi, ni = ni)
}

# ---------------------------------------------------------------------------
# coefficient of determination R^2 of a regression model with mi predictors
# ---------------------------------------------------------------------------
# r2i given, or the model's F test (fi, or its p-value pi, with mi and
# ni - mi - 1 df): R^2 = m F / (m F + n - m - 1).
# R2, "LS": the large-sample variance 4 R^2 (1 - R^2)^2 / n (Olkin & Finn
# 1995, Psychol Bull 118:155-164; Cohen, Cohen, West & Aiken 2003, eq.
# 3.8.4); "LS2": the variance with the small-sample factor
# (n - m - 1)^2 / ((n^2 - 1)(n + 3)) in place of 1 / n (Olkin & Finn 1995);
# "AV", "AV2": the same with the weighted mean R^2.
# ZR2: Fisher's z of R = sqrt(R^2) with variance 1 / n (Alexander, Carson,
# Alliger & Carr 1989; Olkin & Finn 1995).
.esc_es_r2 <- function(measure, v, vtype, rows) {
  k <- length(rows)
  mi <- v$mi; ni <- v$ni
  .esc_need(v, c("mi", "ni"), measure, "plus r2i or fi, pi")
  df2 <- ni - mi - 1
  fi <- v$fi
  if (!is.null(v$pi)) {
    # F from a p-value; invalid p-values and df give NA (as metafor)
    p <- v$pi
    p[!is.na(p) & (p < 0 | p > 1)] <- NA_real_
    d1 <- ifelse(mi < 1, NA_real_, mi)
    d2 <- ifelse(df2 < 1, NA_real_, df2)
    fi <- .esc_fill(fi, stats::qf(p, d1, d2, lower.tail = FALSE), k)
  }
  r2i <- .esc_fill(v$r2i, if (!is.null(fi)) mi * fi / (mi * fi + df2), k)
  if (is.null(r2i)) .esc_need(v, "r2i", measure, "or fi, pi")
  .esc_chk(r2i < 0 | r2i > 1, "r2i must lie in [0, 1]", rows)
  .esc_chk(ni <= 0, "ni must be positive", rows)
  .esc_chk(mi <= 0, "mi must be positive", rows)
  .esc_chk(df2 <= 0, "ni - mi - 1 (the df) must be positive", rows)

  if (measure == "ZR2") {
    .esc_vtype_ok(vtype, "LS", measure)
    return(list(yi = .esc_rtoz(sqrt(r2i)), vi = 1 / ni, ni = ni))
  }
  if (measure %in% c("R2F", "ZR2F")) {
    .esc_vtype_ok(vtype, "LS", measure)
    vi <- .esc_r2f_var(r2i, mi, ni)
    if (measure == "ZR2F") {
      # (as metafor 5.2.1: the factor 1 / (1 - R^2)^2 with R^2 itself)
      return(list(yi = .esc_rtoz(sqrt(r2i)), vi = vi / (1 - r2i^2)^2, ni = ni))
    }
    return(list(yi = r2i, vi = vi, ni = ni))
  }
  .esc_vtype_ok(vtype, c("LS", "AV", "LS2", "AV2"), measure)
  yi <- r2i
  rr <- ifelse(vtype %in% c("AV", "AV2"), .esc_wmean(yi, ni), yi)
  fac <- ifelse(vtype %in% c("LS2", "AV2"), df2^2 / ((ni^2 - 1) * (ni + 3)), 1 / ni)
  vi <- 4 * rr * (1 - rr)^2 * fac
  list(yi = yi, vi = vi, ni = ni)
}

# Variance of R^2 for "R2F" / "ZR2F": the likelihood of the observed F
# statistic, F = (n - m - 1) / m * R^2 / (1 - R^2), as a function of the
# population rho^2 (noncentral F with mi and n - m - 1 df and noncentrality
# n rho^2 / (1 - rho^2); Steiger & Fouladi 1997, in Harlow, Mulaik & Steiger
# (eds.), What If There Were No Significance Tests?, ch. 9), normalised over
# the grid of 10^5 values of rho^2 in [1e-4, 0.9999] (trapezoidal rule);
# the variance of rho^2 under it, as metafor computes it.
.esc_r2f_var <- function(r2i, mi, ni) {
  grid <- seq(1e-04, 0.9999, length.out = 1e5)
  dx <- grid[2L] - grid[1L]
  ncp <- grid / (1 - grid)
  vapply(seq_along(r2i), function(i) {
    fval <- (ni[i] - mi[i] - 1) / mi[i] * r2i[i] / (1 - r2i[i])
    dens <- stats::df(fval, df1 = mi[i], df2 = ni[i] - mi[i] - 1, ncp = ni[i] * ncp)
    dens <- dens / (sum(diff(grid) * (dens[-1L] + dens[-length(dens)])) / 2)
    sum(dx * grid^2 * dens) - sum(dx * grid * dens)^2
  }, numeric(1))
}
