# escalc() measures of two independent groups besides MD, SMD, SMDH, ROM
# (R/escalc-measures.R): Glass-type SMDs (SMD1, SMD1H), variability ratios
# (VR, CVR), point-biserial and biserial correlations (RPB, ZPB, RBIS, ZBIS),
# SMDs converted to log odds ratios (D2OR, D2ORN, D2ORL), and the common
# language effect size / area under the curve (CLES, AUC from the AUC
# itself; CLESN, AUCN under normality).

.esc_es_quantmore <- function(measure, v, vtype, rows, correct) {
  k <- length(rows)
  m1i <- v$m1i; m2i <- v$m2i; sd1i <- v$sd1i; sd2i <- v$sd2i
  n1i <- v$n1i; n2i <- v$n2i
  if (measure %in% c("CLESN", "AUCN")) return(.esc_es_aucn(measure, v, vtype, rows))
  from_d <- measure %in% c("RPB", "ZPB", "RBIS", "ZBIS", "D2OR", "D2ORN", "D2ORL")
  if (from_d) {
    # standardized mean differences also from di, ti, pi or ri (as "SMD")
    .esc_need(v, c("n1i", "n2i"), measure, "plus m1i, m2i, sd1i, sd2i or di, ti, pi, ri")
    if (!is.null(v$ri)) .esc_chk(abs(v$ri) > 1, "ri must lie in [-1, 1]", rows)
    if (!is.null(v$pi)) .esc_chk(abs(v$pi) > 1, "pi must lie in [-1, 1]", rows)
    ti <- .esc_fill(v$ti, .esc_p2t(v$pi, n1i + n2i - 2), k)
    dd <- .esc_fill(v$di, if (!is.null(ti)) ti * sqrt(1 / n1i + 1 / n2i), k)
    if (!is.null(v$ri)) {
      mm <- n1i + n2i - 2
      dd <- .esc_fill(dd, sqrt(mm / n1i + mm / n2i) * v$ri / sqrt(1 - v$ri^2), k)
    }
    v2 <- .esc_d_as_means(dd, list(m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i), k)
    m1i <- v2$m1i; m2i <- v2$m2i; sd1i <- v2$sd1i; sd2i <- v2$sd2i
    .esc_need(v2, c("m1i", "m2i", "sd1i", "sd2i"), measure,
              "or di, ti, pi, ri together with n1i, n2i")
  } else if (measure == "VR") {
    .esc_need(v, c("sd1i", "sd2i", "n1i", "n2i"), measure)
  } else if (measure == "SMD1") {
    .esc_need(v, c("m1i", "m2i", "sd2i", "n1i", "n2i"), measure)
  } else {
    .esc_need(v, c("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"), measure)
  }
  if (!is.null(sd1i)) .esc_chk(sd1i < 0, "sd1i must be non-negative", rows)
  if (!is.null(sd2i)) .esc_chk(sd2i < 0, "sd2i must be non-negative", rows)
  .esc_chk(n1i <= 0, "n1i must be positive", rows)
  .esc_chk(n2i <= 0, "n2i must be positive", rows)
  ni <- n1i + n2i
  vi <- rep(NA_real_, k)

  if (measure %in% c("SMD1", "SMD1H")) {
    # standardized by the SD of group 2 (Glass 1976; Glass, McGaw & Smith
    # 1981), bias-corrected with c(n2 - 1) (Hedges 1981).  SMD1: variances
    # as for "SMD" with n2 in place of n1 + n2 in the d^2 term (Hedges &
    # Olkin 1985, ch. 5); SMD1H: the variance without equal variances
    # (Bonett 2008, Psychol Methods 13:99-109, eq. 13)
    mi <- n2i - 1
    d <- (m1i - m2i) / sd2i
    cm <- .esc_cmi(mi, correct)
    yi <- cm * d
    if (measure == "SMD1H") {
      vi <- (sd1i^2 / sd2i^2) / (n1i - 1) + 1 / (n2i - 1) + yi^2 / (2 * (n2i - 1))
    } else {
      .esc_vtype_ok(vtype, c("LS", "LS2", "LS3", "UB", "AV", "H0"), measure)
      base <- 1 / n1i + 1 / n2i
      ybar <- .esc_wmean(yi, ni)
      s <- vtype == "LS"; vi[s] <- (base + yi^2 / (2 * n2i))[s]
      s <- vtype == "LS2"; vi[s] <- (cm^2 * (base + d^2 / (2 * n2i)))[s]
      s <- vtype == "LS3"; vi[s] <- (base + yi^2 / (2 * (n2i - 3.94)))[s]
      s <- vtype == "UB"; vi[s] <- (base + (1 - (mi - 2) / (mi * cm^2)) * yi^2)[s]
      s <- vtype == "AV"; vi[s] <- (base + ybar^2 / (2 * n2i))[s]
      s <- vtype == "H0"
      vi[s] <- ifelse(mi > 2, cm^2 * base * mi / (mi - 2), NA_real_)[s]
    }
  } else if (measure == "VR") {
    # log variability ratio lnVR = log(s1 / s2) with the bias correction
    # 1/(2(n1 - 1)) - 1/(2(n2 - 1)) (Nakagawa et al. 2015, Methods Ecol Evol
    # 6:143-152); "LS2": the variance 1/2 [n1/(n1-1)^2 + n2/(n2-1)^2]
    # (Raudenbush & Bryk 1987)
    .esc_vtype_ok(vtype, c("LS", "LS2"), measure)
    yi <- log(sd1i / sd2i)
    if (isTRUE(correct)) yi <- yi + 1 / (2 * (n1i - 1)) - 1 / (2 * (n2i - 1))
    vi <- ifelse(vtype == "LS", 1 / (2 * (n1i - 1)) + 1 / (2 * (n2i - 1)),
                 (n1i / (n1i - 1)^2 + n2i / (n2i - 1)^2) / 2)
  } else if (measure == "CVR") {
    # log coefficient of variation ratio (Nakagawa et al. 2015, eqs. 11-12);
    # "LS2" adds the second-order terms of the log ratio of means
    # (Lajeunesse 2015) and the "LS2" variance of lnVR
    .esc_vtype_ok(vtype, c("LS", "LS2"), measure)
    cv1 <- sd1i^2 / (n1i * m1i^2)
    cv2 <- sd2i^2 / (n2i * m2i^2)
    yi <- log(sd1i / m1i) - log(sd2i / m2i)
    if (isTRUE(correct)) yi <- yi + 1 / (2 * (n1i - 1)) - 1 / (2 * (n2i - 1)) + (cv2 - cv1) / 2
    vls <- 1 / (2 * (n1i - 1)) + cv1 + 1 / (2 * (n2i - 1)) + cv2
    vls2 <- cv1 + cv2 + cv1^2 / 2 + cv2^2 / 2 + (n1i / (n1i - 1)^2 + n2i / (n2i - 1)^2) / 2
    vi <- ifelse(vtype == "LS", vls, vls2)
  } else {
    # Cohen's d with the pooled SD (no bias correction)
    mi <- ni - 2
    sdp <- sqrt(((n1i - 1) * sd1i^2 + (n2i - 1) * sd2i^2) / mi)
    d <- (m1i - m2i) / sdp
    hi <- mi / n1i + mi / n2i
    if (measure %in% c("RPB", "ZPB", "RBIS", "ZBIS")) {
      # point-biserial r = d / sqrt(d^2 + h), h = m/n1 + m/n2
      # (Jacobs & Viechtbauer 2017, Res Synth Methods 8:161-180)
      rpb <- d / sqrt(d^2 + hi)
    }
    if (measure %in% c("RPB", "ZPB")) {
      # "ST" (= "LS"): variance under stratified sampling (fixed group sizes;
      # Jacobs & Viechtbauer 2017, eq. 13); "CS": under cross-sectional
      # sampling (Tate 1954, Ann Math Stat 25:603-607)
      .esc_vtype_ok(vtype, c("ST", "CS", "LS"), measure)
      yi <- rpb
      vst <- hi^2 / (hi + d^2)^3 * (1 / n1i + 1 / n2i + d^2 / (2 * ni))
      vcs <- (1 - yi^2)^2 * (ni * yi^2 / (4 * n1i * n2i) + (2 - 3 * yi^2) / (2 * ni))
      vi <- ifelse(vtype == "CS", vcs, vst)
    } else if (measure %in% c("RBIS", "ZBIS")) {
      # biserial r = sqrt(p1 p2) / phi(z_p1) * r_pb with its large-sample
      # variance (Soper 1914; Jacobs & Viechtbauer 2017, eqs. 16-17), in
      # which |r| > 1 counts as 1
      p1i <- n1i / ni
      p2i <- n2i / ni
      zi <- stats::qnorm(p1i, lower.tail = FALSE)
      fzi <- stats::dnorm(zi)
      yi <- sqrt(p1i * p2i) / fzi * rpb
      yt <- ifelse(abs(yi) > 1, sign(yi), yi)
      vi <- (p1i * p2i / fzi^2 - (3 / 2 + (1 - p1i * zi / fzi) * (1 + p2i * zi / fzi)) * yt^2 +
               yt^4) / (ni - 1)
    } else if (measure %in% c("D2OR", "D2ORL")) {
      # log odds ratio from d under logistic distributions: pi / sqrt(3) d
      # (Hasselblad & Hedges 1995, Psychol Bull 117:167-178)
      yi <- base::pi / sqrt(3) * d
      vi <- base::pi^2 / 3 * (1 / n1i + 1 / n2i + d^2 / (2 * ni))
    } else if (measure == "D2ORN") {
      # under normal distributions: 1.65 d (Cox 1970; Sanchez-Meca,
      # Marin-Martinez & Chacon-Moscoso 2003, Psychol Methods 8:448-467)
      yi <- 1.65 * d
      vi <- 1.65^2 * (1 / n1i + 1 / n2i + d^2 / (2 * ni))
    }
    if (measure %in% c("ZPB", "ZBIS")) {
      vi <- .esc_rtoz_var(vi, yi)
      yi <- .esc_rtoz(yi)
    }
  }
  list(yi = yi, vi = vi, ni = ni)
}

# ---------------------------------------------------------------------------
# CLES / AUC: the probability that a value of group 1 exceeds one of group 2
# (plus half the probability of a tie), given as ai, with the proportion of
# ties mi (default 0).
# "LS": Newcombe (2006, Stat Med 25:543-557, method 5);
# "LS2": Hanley & McNeil (1982, Radiology 143:29-36), with the ties term;
# "H0": the variance of the Mann-Whitney statistic under H0,
#       (n1 + n2 + 1) / (12 n1 n2);
# "MAX": the upper bound A(1 - A) / (min(n1, n2) - 1) (Birnbaum & Klose
#       1957, Ann Math Stat 28:933-945)
# ---------------------------------------------------------------------------
.esc_es_auc <- function(measure, v, vtype, rows) {
  k <- length(rows)
  .esc_need(v, c("ai", "n1i", "n2i"), measure)
  ai <- v$ai; n1i <- v$n1i; n2i <- v$n2i
  mi <- if (is.null(v$mi)) rep(0, k) else v$mi
  mi[is.na(mi)] <- 0
  .esc_chk(n1i <= 0, "n1i must be positive", rows)
  .esc_chk(n2i <= 0, "n2i must be positive", rows)
  .esc_chk(ai < 0 | ai > 1, "ai (the AUC values) must lie in [0, 1]", rows)
  .esc_chk(mi < 0 | mi > 1, "mi (the proportions of ties) must lie in [0, 1]", rows)
  .esc_vtype_ok(vtype, c("LS", "LS2", "H0", "MAX"), measure)
  q0 <- ai * (1 - ai)
  q1 <- ai / (2 - ai)
  q2 <- 2 * ai^2 / (1 + ai)
  na <- (n1i + n2i) / 2
  vi <- rep(NA_real_, k)
  s <- vtype == "LS"
  vi[s] <- (q0 / ((n1i - 1) * (n2i - 1)) *
              (2 * na - 1 - (3 * na - 3) / ((2 - ai) * (1 + ai))))[s]
  s <- vtype == "LS2"
  vi[s] <- ((q0 - mi / 4 + (n1i - 1) * (q1 - ai^2) + (n2i - 1) * (q2 - ai^2)) /
              ((n1i - 1) * (n2i - 1)))[s]
  s <- vtype == "H0"; vi[s] <- ((n1i + n2i + 1) / (12 * n1i * n2i))[s]
  s <- vtype == "MAX"; vi[s] <- (q0 / (pmin(n1i, n2i) - 1))[s]
  list(yi = ai, vi = vi, ni = n1i + n2i)
}

# ---------------------------------------------------------------------------
# CLESN / AUCN: the AUC under normal distributions, Phi(d / sqrt(2)), from
# means and SDs (d standardized by sqrt((s1^2 + s2^2) / 2), or by the pooled
# SD with vtype "HO"), or from di, ti, pi or ai (then, and when the SDs are
# missing, equal variances are assumed: vtype "HO").  Delta-method
# variances of Phi(d / sqrt(2)) (Ruscio 2008, Psychol Methods 13:19-30;
# Goldstein et al. 2017): "LS" with n - 1, "LS2" with n, "LS3" mixed, "HO"
# under equal variances, "H0" at d = 0.
# ---------------------------------------------------------------------------
.esc_es_aucn <- function(measure, v, vtype, rows) {
  k <- length(rows)
  .esc_need(v, c("n1i", "n2i"), measure, "plus m1i, m2i, sd1i, sd2i or di, ti, pi, ai")
  n1i <- v$n1i; n2i <- v$n2i
  sd1i <- v$sd1i; sd2i <- v$sd2i
  if (is.null(sd1i) || is.null(sd2i)) sd1i <- sd2i <- rep(NA_real_, k)
  if (!is.null(v$pi)) .esc_chk(abs(v$pi) > 1, "pi must lie in [-1, 1]", rows)
  ti <- .esc_fill(v$ti, .esc_p2t(v$pi, n1i + n2i - 2), k)
  di <- .esc_fill(v$di, if (!is.null(ti)) ti * sqrt(1 / n1i + 1 / n2i), k)
  if (!is.null(di)) vtype[!is.na(di)] <- "HO"
  sdp <- ifelse(vtype == "HO",
                sqrt(((n1i - 1) * sd1i^2 + (n2i - 1) * sd2i^2) / (n1i + n2i - 2)),
                sqrt((sd1i^2 + sd2i^2) / 2))
  if (!is.null(v$m1i) && !is.null(v$m2i)) di <- .esc_fill(di, (v$m1i - v$m2i) / sdp, k)
  ai <- .esc_fill(v$ai, if (!is.null(di)) stats::pnorm(di / sqrt(2)), k)
  if (is.null(ai)) .esc_need(v, c("m1i", "m2i", "sd1i", "sd2i"), measure, "or di, ti, pi, ai")
  di <- .esc_fill(di, stats::qnorm(ai) * sqrt(2), k)
  miss <- is.na(sd1i) | is.na(sd2i)
  sd1i[miss] <- 1
  sd2i[miss] <- 1
  vtype[miss] <- "HO"
  .esc_chk(sd1i < 0, "sd1i must be non-negative", rows)
  .esc_chk(sd2i < 0, "sd2i must be non-negative", rows)
  .esc_chk(n1i <= 0, "n1i must be positive", rows)
  .esc_chk(n2i <= 0, "n2i must be positive", rows)
  .esc_chk(ai < 0 | ai > 1, "ai (the AUC values) must lie in [0, 1]", rows)
  .esc_vtype_ok(vtype, c("LS", "LS2", "LS3", "HO", "H0"), measure)
  vri <- sd1i^2 / (sd1i^2 + sd2i^2)
  ed <- exp(-di^2 / 2)
  vterm <- function(a1, a2, b1, b2)
    ed / (8 * base::pi) * (di^2 * vri^2 / (n1i - a1) + di^2 * (1 - vri)^2 / (n2i - a2) +
                             4 * vri / (n1i - b1) + 4 * (1 - vri) / (n2i - b2))
  vi <- rep(NA_real_, k)
  s <- vtype == "LS"; vi[s] <- vterm(1, 1, 1, 1)[s]
  s <- vtype == "LS2"; vi[s] <- vterm(0, 0, 0, 0)[s]
  s <- vtype == "LS3"; vi[s] <- vterm(1, 1, 0, 0)[s]
  s <- vtype == "HO"
  vi[s] <- (ed / (4 * base::pi) * (1 / n1i + 1 / n2i + di^2 / (2 * (n1i + n2i))))[s]
  s <- vtype == "H0"
  vi[s] <- (1 / (8 * base::pi) * (4 * vri / (n1i - 1) + 4 * (1 - vri) / (n2i - 1)))[s]
  list(yi = ai, vi = vi, ni = n1i + n2i)
}
