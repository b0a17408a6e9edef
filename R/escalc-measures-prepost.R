# escalc() measures of one group measured twice (or matched pairs) besides
# MC, POMPMC, SMCC, SMCR (R/escalc-measures.R): SMCRH, SMCRP, SMCRPH, ROMC,
# VRC, CVRC and CLESCN / AUCCN.  m1i, m2i, sd1i, sd2i: means and SDs at the
# two times, ri: their correlation, ni: the sample size.

.esc_es_prepostmore <- function(measure, v, vtype, rows, correct) {
  k <- length(rows)
  if (measure == "VRC") .esc_need(v, c("sd1i", "sd2i", "ri", "ni"), measure)
  else .esc_need(v, c("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"), measure)
  m1i <- v$m1i; m2i <- v$m2i; sd1i <- v$sd1i; sd2i <- v$sd2i
  ri <- v$ri; ni <- v$ni
  .esc_chk(sd1i < 0, "sd1i must be non-negative", rows)
  .esc_chk(sd2i < 0, "sd2i must be non-negative", rows)
  .esc_chk(abs(ri) > 1, "ri must lie in [-1, 1]", rows)
  .esc_chk(ni <= 0, "ni must be positive", rows)
  sdd <- sqrt(sd1i^2 + sd2i^2 - 2 * ri * sd1i * sd2i)   # SD of the changes
  sdp <- sqrt((sd1i^2 + sd2i^2) / 2)                     # average SD
  # the term of the two SDs' fourth powers of the "P" and "PH" variances
  s4 <- sd1i^4 + sd2i^4 + 2 * ri^2 * sd1i^2 * sd2i^2
  vi <- rep(NA_real_, k)

  if (measure == "SMCRH") {
    # mean change standardized by the SD at time 1, without assuming equal
    # variances (Bonett 2008, Psychol Methods 13:99-109)
    .esc_vtype_ok(vtype, c("LS", "LS2"), measure)
    yi <- .esc_cmi(ni - 1, correct) * (m1i - m2i) / sd1i
    nn <- ifelse(vtype == "LS", ni - 1, ni)
    vi <- sdd^2 / (sd1i^2 * nn) + yi^2 / (2 * nn)
  } else if (measure %in% c("SMCRP", "SMCRPH")) {
    # mean change standardized by the average SD at both times, bias
    # correction with the approximate df 2(n - 1) / (1 + r^2) (Bonett 2008;
    # Cousineau 2020); SMCRP assumes equal variances, SMCRPH does not
    mi <- 2 * (ni - 1) / (1 + ri^2)
    yi <- .esc_cmi(mi, correct) * (m1i - m2i) / sdp
    if (measure == "SMCRP") {
      .esc_vtype_ok(vtype, "LS", measure)
      vi <- 2 * (1 - ri) / ni + yi^2 * (1 + ri^2) / (4 * ni)
    } else {
      .esc_vtype_ok(vtype, c("LS", "LS2"), measure)
      nn <- ifelse(vtype == "LS", ni - 1, ni)
      vi <- sdd^2 / (sdp^2 * nn) + yi^2 * s4 / (8 * sdp^4 * nn)
    }
  } else if (measure %in% c("CLESCN", "AUCCN")) {
    # AUC of the two times under normality: Phi(d / sqrt(2)) with d
    # standardized by the average SD; delta method on the SMCRPH variance
    d <- (m1i - m2i) / sdp
    yi <- stats::pnorm(d / sqrt(2))
    vi <- exp(-d^2 / 2) / (4 * base::pi) *
      (sdd^2 / (sdp^2 * (ni - 1)) + d^2 * s4 / (8 * sdp^4 * (ni - 1)))
  } else {
    # log ratios of dependent means / SDs / CVs (Lajeunesse 2011, Ecology
    # 92:2049-2055; Nakagawa et al. 2015, Methods Ecol Evol 6:143-152)
    c1 <- sd1i^2 / (ni * m1i^2)
    c2 <- sd2i^2 / (ni * m2i^2)
    cov12 <- 2 * ri * sd1i * sd2i / (m1i * m2i * ni)
    romls <- c1 + c2 - cov12
    romls2 <- romls + sd1i^4 / (2 * ni^2 * m1i^4) + sd2i^4 / (2 * ni^2 * m2i^4) -
      ri^2 * sd1i^2 * sd2i^2 / (ni^2 * m1i^2 * m2i^2)
    vrls <- (1 - ri^2) / (ni - 1)
    vrls2 <- vrls + (1 - ri^4) / (ni - 1)^2
    .esc_vtype_ok(vtype, c("LS", "LS2"), measure)
    ls <- vtype == "LS"
    if (measure == "ROMC") {
      yi <- log(m1i / m2i)
      if (isTRUE(correct)) yi <- yi + (c1 - c2) / 2
      vi <- ifelse(ls, romls, romls2)
    } else if (measure == "VRC") {
      yi <- log(sd1i / sd2i)
      vi <- ifelse(ls, vrls, vrls2)
    } else {
      yi <- log(sd1i / m1i) - log(sd2i / m2i)
      if (isTRUE(correct)) yi <- yi + (c2 - c1) / 2
      vi <- ifelse(ls, romls + vrls, romls2 + vrls2)
    }
  }
  list(yi = yi, vi = vi, ni = ni)
}
