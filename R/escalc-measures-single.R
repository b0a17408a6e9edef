# escalc() measures of single groups: means (MN, POMPMN, SMN, MNLN), variability
# (SDLN, CVLN) and incidence rates (IR, IRLN, IRS, IRFT).  Same conventions
# as R/escalc-measures.R.

# ---------------------------------------------------------------------------
# means and variability of one group: mi (means), sdi (SDs), ni
# ---------------------------------------------------------------------------
.esc_es_mean <- function(measure, v, vtype, rows, correct) {
  k <- length(rows)
  if (measure == "SDLN") .esc_need(v, c("sdi", "ni"), measure)
  else .esc_need(v, c("mi", "sdi", "ni"), measure)
  mi <- v$mi; sdi <- v$sdi; ni <- v$ni
  if (measure == "POMPMN") {
    # POMP scores (Cohen, Cohen, Aiken & West 1999): the mean and SD
    # rescaled to 100 (x - min) / (max - min) of the scale, then as "MN"
    .esc_need(v, c("mini", "maxi"), measure)
    .esc_chk(v$maxi == v$mini, "maxi must differ from mini", rows)
    mi <- 100 * (mi - v$mini) / (v$maxi - v$mini)
    sdi <- 100 * sdi / (v$maxi - v$mini)
  }
  .esc_chk(sdi < 0, "sdi must be non-negative", rows)
  .esc_chk(ni <= 0, "ni must be positive", rows)
  if (measure %in% c("MNLN", "CVLN")) .esc_chk(mi < 0, "mi (the means) must be non-negative", rows)
  vi <- rep(NA_real_, k)
  if (measure %in% c("MN", "POMPMN")) {
    # raw mean, Var = s^2 / n; "HO": the SD pooled over the studies
    # (weights n - 1) in place of s
    .esc_vtype_ok(vtype, c("LS", "HO"), measure)
    yi <- mi
    sp2 <- .esc_wmean(sdi^2, ni - 1)
    vi <- ifelse(vtype == "HO", sp2 / ni, sdi^2 / ni)
  } else if (measure == "SMN") {
    # single-group standardized mean m / s, bias-corrected with c(n - 1)
    # (Hedges 1981), Var = 1/n + g^2 / (2n) (Hedges & Olkin 1985)
    yi <- .esc_cmi(ni - 1, correct) * mi / sdi
    vi <- 1 / ni + yi^2 / (2 * ni)
  } else if (measure == "MNLN") {
    # log mean, delta method: Var = s^2 / (n m^2) (Lajeunesse 2011)
    yi <- log(mi)
    vi <- sdi^2 / (ni * mi^2)
  } else if (measure == "SDLN") {
    # log SD with the bias correction 1 / (2(n - 1)), Var = 1 / (2(n - 1))
    # (Raudenbush & Bryk 1987; Nakagawa et al. 2015, Methods Ecol Evol 6:143)
    yi <- log(sdi)
    if (isTRUE(correct)) yi <- yi + 1 / (2 * (ni - 1))
    vi <- 1 / (2 * (ni - 1))
  } else if (measure == "CVLN") {
    # log coefficient of variation (Nakagawa et al. 2015)
    yi <- log(sdi / mi)
    if (isTRUE(correct)) yi <- yi + 1 / (2 * (ni - 1))
    vi <- 1 / (2 * (ni - 1)) + sdi^2 / (ni * mi^2)
  }
  list(yi = yi, vi = vi, ni = ni)
}

# ---------------------------------------------------------------------------
# incidence rates: xi events in ti person-time units
# ---------------------------------------------------------------------------
# IR: xi / ti with Poisson variance xi / ti^2; IRLN: log rate, Var = 1 / xi;
# IRS: square root rate, Var = 1 / (4 ti); IRFT: Freeman-Tukey type
# (sqrt(x / t) + sqrt((x + 1) / t)) / 2 with Var = 1 / (4 ti) (Freeman &
# Tukey 1950, Ann Math Stat 21:607-611; Rothman, Greenland & Lash 2008, ch.
# 14).  Zero counts get `add` as `to` says (as for proportions); with
# addyi / addvi = FALSE the outcome / the variance of IR, IRLN (IRS: the
# outcome) is computed from the counts without it.  The attribute "ni"
# holds the person-times (as metafor).
.esc_es_rate <- function(measure, v, vtype, rows, add, to, addyi = TRUE, addvi = TRUE) {
  .esc_need(v, c("xi", "ti"), measure)
  xu <- v$xi; ti <- v$ti
  .esc_chk(xu < 0, "xi must be non-negative", rows)
  .esc_chk(ti <= 0, "ti (the person-times) must be positive", rows)
  xi <- .esc_add(list(xu), add, to)[[1]]
  xy <- if (addyi) xi else xu
  xv <- if (addvi) xi else xu
  if (measure == "IR") {
    yi <- xy / ti
    vi <- xv / ti^2
  } else if (measure == "IRLN") {
    yi <- log(xy / ti)
    vi <- 1 / xv
  } else if (measure == "IRS") {
    yi <- sqrt(xy / ti)
    vi <- 1 / (4 * ti)
  } else {
    yi <- (sqrt(xi / ti) + sqrt(xi / ti + 1 / ti)) / 2
    vi <- 1 / (4 * ti)
  }
  list(yi = yi, vi = vi, ni = ti)
}
