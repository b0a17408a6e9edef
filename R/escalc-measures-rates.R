# Incidence-rate comparisons of two groups: escalc()'s measures IRR, IRD and
# IRSD (metafor's, with its add / to / drop00 / addyi / addvi handling) and
# the per-study outcomes of rma.mh(measure = "IRR" / "IRD").  x1i, x2i: event
# counts; t1i, t2i: person-times.  Log incidence rate ratio with variance
# 1/x1i + 1/x2i, incidence rate difference with variance x1i/t1i^2 +
# x2i/t2i^2 (Rothman, Greenland & Lash 2008, Modern Epidemiology, 3rd ed.,
# ch. 14); square-root rate difference with the variance-stabilised
# 1/(4 t1i) + 1/(4 t2i) (Bartlett 1936, J R Stat Soc Suppl 3:68-78).
# rma.mh() has checked the counts (>= 0) and times (> 0); escalc() passes
# rows (the rows for its error messages) so that they are checked here.
.esc_es_rates <- function(measure, v, add, to, drop00, addyi = TRUE, addvi = TRUE, rows = NULL) {
  if (!is.null(rows)) {
    .esc_need(v, c("x1i", "x2i", "t1i", "t2i"), measure)
    .esc_chk(v$x1i < 0 | v$x2i < 0, "x1i and x2i (the counts) must be non-negative", rows)
    .esc_chk(v$t1i <= 0 | v$t2i <= 0, "t1i and t2i (the person-times) must be positive", rows)
  }
  x1i <- v$x1i; x2i <- v$x2i; t1i <- v$t1i; t2i <- v$t2i
  ni.u <- t1i + t2i
  if (drop00) {
    both0 <- x1i == 0 & x2i == 0
    both0[is.na(both0)] <- FALSE
    x1i[both0] <- x2i[both0] <- NA_real_
  }
  adj <- .esc_add(list(x1i, x2i), add, to)
  # the value added to the counts enters the outcome / the variance unless
  # addyi / addvi is FALSE
  ey <- if (addyi) adj else list(x1i, x2i)
  ev <- if (addvi) adj else list(x1i, x2i)
  if (measure == "IRR") {
    yi <- log(ey[[1]] / t1i) - log(ey[[2]] / t2i)
    vi <- 1 / ev[[1]] + 1 / ev[[2]]
  } else if (measure == "IRD") {
    yi <- ey[[1]] / t1i - ey[[2]] / t2i
    vi <- ev[[1]] / t1i^2 + ev[[2]] / t2i^2
  } else {
    yi <- sqrt(ey[[1]] / t1i) - sqrt(ey[[2]] / t2i)
    vi <- 1 / (4 * t1i) + 1 / (4 * t2i)
  }
  list(yi = yi, vi = vi, ni = ni.u)
}
