# escalc() measures of reliability: Cronbach's alpha (ai) of a scale with mi
# items in ni persons, raw (ARAW) or transformed (AHW, ABT); and of genotype
# counts: the relative excess heterozygosity (REH).

.esc_es_alpha <- function(measure, v, vtype, rows) {
  .esc_need(v, c("ai", "mi", "ni"), measure)
  ai <- v$ai; mi <- v$mi; ni <- v$ni
  .esc_chk(ai > 1, "ai (the alpha values) must not exceed 1", rows)
  .esc_chk(mi < 2, "mi (the number of items) must be at least 2", rows)
  .esc_chk(ni <= 0, "ni must be positive", rows)
  if (measure == "ARAW") {
    # raw alpha, Var = 2 m (1 - a)^2 / ((m - 1)(n - 2)) (van Zyl, Neudecker &
    # Nel 2000, Psychometrika 65:271-280; Bonett 2002)
    yi <- ai
    vi <- 2 * mi * (1 - ai)^2 / ((mi - 1) * (ni - 2))
  } else if (measure == "AHW") {
    # Hakstian & Whalen (1976, Psychometrika 41:219-231): 1 - (1 - a)^(1/3)
    yi <- 1 - (1 - ai)^(1 / 3)
    vi <- 18 * mi * (ni - 1) * (1 - ai)^(2 / 3) / ((mi - 1) * (9 * ni - 11)^2)
  } else {
    # Bonett (2002, J Educ Behav Stat 27:335-340): -log(1 - a)
    yi <- -log(1 - ai)
    vi <- 2 * mi / ((mi - 1) * (ni - 2))
  }
  list(yi = yi, vi = vi, ni = ni)
}

# REH: relative excess heterozygosity from genotype counts ai (homozygous,
# allele 1), bi (heterozygous), ci (homozygous, allele 2):
# log(p1 / (2 sqrt(p0 p2))), the log ratio of the observed to the
# Hardy-Weinberg expected heterozygote frequency, with its delta-method
# variance ((1 - p1) / (4 p0 p2) + 1 / p1) / n (Ziegler, Van Steen & Wellek
# 2011, Breast Cancer Res Treat 128:197-201)
.esc_es_reh <- function(measure, v, vtype, rows) {
  .esc_need(v, c("ai", "bi", "ci"), measure)
  ai <- v$ai; bi <- v$bi; ci <- v$ci
  .esc_chk(ai < 0, "ai must be non-negative", rows)
  .esc_chk(bi < 0, "bi must be non-negative", rows)
  .esc_chk(ci < 0, "ci must be non-negative", rows)
  ni <- ai + bi + ci
  p0 <- ai / ni
  p1 <- bi / ni
  p2 <- ci / ni
  list(yi = log(p1) - log(2 * sqrt(p0 * p2)),
       vi = ((1 - p1) / (4 * p0 * p2) + 1 / p1) / ni, ni = ni)
}
