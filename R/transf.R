# The transformation functions of metafor (transf.*), for the outcomes of
# escalc() and for the 'transf' argument of the methods (predict(),
# summary(), forest(), ...).  Each has metafor's arguments and results
# (vectorised, NaN as NA, values clamped to the range of the back-
# transformation where metafor clamps them).  The integral and mode
# transformations (transf.*.int, transf.*.mode) are in R/transf-int.R.

# the numeric arguments of the transformations: a clear error for anything
# else (functions, formulas, lists, data frames, character vectors)
.tf_num <- function(x, name = "xi") {
  if (is.list(x) || !(is.numeric(x) || is.logical(x)))
    .mf_stop(sprintf("'%s' must be a numeric vector.", name))
  invisible(x)
}

# argument checks shared by the functions below
.tf_same_length <- function(x, xi, name) {
  if (length(x) == 1L) x <- rep(x, length(xi))
  if (length(x) != length(xi))
    .mf_stop(sprintf("The length of '%s' (%d) does not match the length of 'xi' (%d).",
                     name, length(x), length(xi)))
  x
}

# h = m / n1 + m / n2 (m = n1 + n2 - 2) of the conversions between d and the
# point-biserial r (Jacobs & Viechtbauer 2017, Res Synth Methods 8:161-180);
# 4 (equal, large groups) when the group sizes are not given
.tf_hi <- function(xi, n1i, n2i) {
  if (is.null(n1i) || is.null(n2i)) return(list(hi = 4, p = 0.5))
  .tf_num(n1i, "n1i")
  .tf_num(n2i, "n2i")
  if (length(n1i) != length(n2i))
    .mf_stop(sprintf("The length of 'n1i' (%d) does not match the length of 'n2i' (%d).",
                     length(n1i), length(n2i)))
  if (length(n1i) != length(xi))
    .mf_stop(sprintf("The lengths of 'n1i' and 'n2i' (%d) do not match the length of 'xi' (%d).",
                     length(n1i), length(xi)))
  m <- n1i + n2i - 2
  list(hi = m / n1i + m / n2i, p = n1i / (n1i + n2i))
}

# proportion p of group 1 of the conversions between point-biserial and
# biserial correlations (0.5 when not given)
.tf_pi <- function(pi, xi) {
  if (is.null(pi)) return(0.5)
  .tf_num(pi, "pi")
  pi <- .tf_same_length(pi, xi, "pi")
  if (any(pi < 0 | pi > 1, na.rm = TRUE))
    .mf_stop("One or more 'pi' values are < 0 or > 1.")
  pi
}

# factor sqrt(p (1 - p)) / phi(Phi^-1(p)) between the point-biserial and the
# biserial correlation (Soper 1914; Jacobs & Viechtbauer 2017, eq. 15)
.tf_bis_factor <- function(p) sqrt(p * (1 - p)) / stats::dnorm(stats::qnorm(p))

.tf_nan_na <- function(z) {
  z[is.nan(z)] <- NA_real_
  z
}

#' Transformation functions (metafor's transf.* family)
#'
#' The transformations of metafor's \code{transf.*} functions, with the same
#' arguments and results: Fisher's r-to-z (\code{transf.rtoz}) and back
#' (\code{transf.ztor}), logit, probit, arcsine, Freeman-Tukey (proportions:
#' \code{transf.pft}, back-transformed with \code{transf.ipft} with the
#' sample sizes or \code{transf.ipft.hm} with their harmonic mean; rates:
#' \code{transf.irft}, \code{transf.iirft}), square root, the alpha
#' transformations of Hakstian-Whalen and Bonett, \eqn{R^2} to z, and the
#' conversions of standardized mean differences d into Cohen's U1, U2, U3,
#' the overlap, the common language effect size, Cliff's delta, the BESD, a
#' mean difference (with \code{targs} the SD), point-biserial and biserial
#' correlations, and into log odds ratios (and back), and of log odds ratios
#' into risk differences, risk ratios (with the control risk \code{pc}) and
#' tetrachoric correlations.  The integral and mode versions
#' (\code{transf.*.int}, \code{transf.*.mode}) are not provided.
#'
#' @param xi vector of values to transform.
#' @param ni sample sizes (\code{transf.pft}, \code{transf.ipft}).
#' @param ti person-times (\code{transf.irft}, \code{transf.iirft}).
#' @param targs \code{transf.ipft.hm}: \code{list(ni = )}, the sample sizes
#'   whose harmonic mean is used; \code{transf.dtomd}: the standard deviation
#'   (a number or \code{list(sd = )}).
#' @param n1i,n2i group sizes (optional; equal large groups when missing).
#' @param pi proportion of the units in group 1 (optional; 0.5 when missing).
#' @param pc risk of the control group.
#' @return A vector of transformed values.
#' @references Fisher, R. A. (1921). On the "probable error" of a
#'   coefficient of correlation deduced from a small sample. Metron, 1, 3-32.
#'
#'   Freeman, M. F., & Tukey, J. W. (1950). Transformations related to the
#'   angular and the square root. Annals of Mathematical Statistics, 21,
#'   607-611.
#'
#'   Miller, J. J. (1978). The inverse of the Freeman-Tukey double arcsine
#'   transformation. American Statistician, 32, 138.
#'
#'   Jacobs, P., & Viechtbauer, W. (2017). Estimation of the biserial
#'   correlation and its sampling variance for use in meta-analysis.
#'   Research Synthesis Methods, 8, 161-180.
#' @examples
#' transf.rtoz(c(-0.5, 0, 0.9))
#' transf.ipft(transf.pft(c(0, 0.2, 1), ni = 20), ni = 20)
#' transf.dtocles(0.5)
#' @name transf
NULL

#' @rdname transf
#' @export
transf.rtoz <- function(xi) {
  .tf_num(xi)
  # Fisher's (1921) z = atanh(r), r first truncated to [-1, 1]
  xi[xi > 1] <- 1
  xi[xi < -1] <- -1
  atanh(xi)
}

#' @rdname transf
#' @export
transf.ztor <- function(xi) {
  .tf_num(xi)
  tanh(xi)
}

#' @rdname transf
#' @export
transf.ztor2 <- function(xi) {
  .tf_num(xi)
  tanh(xi)^2
}

#' @rdname transf
#' @export
transf.r2toz <- function(xi) {
  .tf_num(xi)
  # z of R = sqrt(R^2), R^2 truncated to [0, 1]
  xi[xi > 1] <- 1
  xi[xi < 0] <- 0
  atanh(sqrt(xi))
}

#' @rdname transf
#' @export
transf.logit <- function(xi) {
  .tf_num(xi)
  stats::qlogis(xi)
}

#' @rdname transf
#' @export
transf.ilogit <- function(xi) {
  .tf_num(xi)
  stats::plogis(xi)
}

#' @rdname transf
#' @export
transf.probit <- function(xi) {
  .tf_num(xi)
  stats::qnorm(xi)
}

#' @rdname transf
#' @export
transf.iprobit <- function(xi) {
  .tf_num(xi)
  stats::pnorm(xi)
}

#' @rdname transf
#' @export
transf.arcsin <- function(xi) {
  .tf_num(xi)
  asin(sqrt(xi))
}

#' @rdname transf
#' @export
transf.iarcsin <- function(xi) {
  .tf_num(xi)
  # p = sin(x)^2 on [0, pi/2], clamped outside
  z <- sin(xi)^2
  z[xi < 0] <- 0
  z[xi > base::pi / 2] <- 1
  c(z)
}

#' @rdname transf
#' @export
transf.pft <- function(xi, ni) {
  .tf_num(xi)
  .tf_num(ni, "ni")
  # Freeman-Tukey double arcsine of a proportion p with n units:
  # (asin(sqrt(x / (n + 1))) + asin(sqrt((x + 1) / (n + 1)))) / 2, x = n p
  x <- xi * ni
  c((asin(sqrt(x / (ni + 1))) + asin(sqrt((x + 1) / (ni + 1)))) / 2)
}

# Miller's (1978) inverse of the double arcsine with n units:
# p = [1 - sgn(cos 2t) sqrt(1 - (sin 2t + (sin 2t - 1 / sin 2t) / n)^2)] / 2,
# 0 and 1 outside the range of the transformation
.tf_ipft <- function(xi, n) {
  s <- sin(2 * xi)
  z <- suppressWarnings((1 - sign(cos(2 * xi)) * sqrt(1 - (s + (s - 1 / s) / n)^2)) / 2)
  z <- .tf_nan_na(z)
  z[xi > transf.pft(1, n)] <- 1
  z[xi < transf.pft(0, n)] <- 0
  c(z)
}

#' @rdname transf
#' @export
transf.ipft <- function(xi, ni) {
  .tf_num(xi)
  .tf_num(ni, "ni")
  .tf_num(xi)
  .tf_ipft(xi, ni)
}

#' @rdname transf
#' @export
transf.ipft.hm <- function(xi, targs) {
  .tf_num(xi)
  # with the harmonic mean of the sample sizes (Miller 1978)
  if (missing(targs) || is.null(targs) || !is.list(targs) || is.null(targs$ni))
    .mf_stop("transf.ipft.hm() needs the sample sizes as 'targs = list(ni = )'.")
  .tf_num(targs$ni, "targs$ni")
  nhm <- 1 / mean(1 / targs$ni, na.rm = TRUE)
  .tf_ipft(xi, nhm)
}

#' @rdname transf
#' @export
transf.isqrt <- function(xi) {
  .tf_num(xi)
  z <- xi^2
  z[xi < 0] <- 0
  c(z)
}

#' @rdname transf
#' @export
transf.irft <- function(xi, ti) {
  .tf_num(xi)
  .tf_num(ti, "ti")
  # Freeman-Tukey transformation of a rate r in person-time t:
  # (sqrt(r) + sqrt(r + 1 / t)) / 2
  c((sqrt(xi) + sqrt(xi + 1 / ti)) / 2)
}

#' @rdname transf
#' @export
transf.iirft <- function(xi, ti) {
  .tf_num(xi)
  .tf_num(ti, "ti")
  # its inverse: from 2y = sqrt(r) + sqrt(r + 1/t), sqrt(r) =
  # (4 y^2 - 1/t) / (4 y), so r = (16 t y^4 - 8 y^2 + 1/t) / (16 t y^2);
  # 0 below the transformation of 0 (and for values within rounding of 0)
  z <- (16 * ti * xi^4 - 8 * xi^2 + 1 / ti) / (16 * ti * xi^2)
  z <- .tf_nan_na(z)
  z[xi < transf.irft(0, ti)] <- 0
  z[z <= .Machine$double.eps] <- 0
  c(z)
}

#' @rdname transf
#' @export
transf.ahw <- function(xi) {
  .tf_num(xi)
  # Hakstian & Whalen (1976, Psychometrika 41:219-231): 1 - (1 - alpha)^(1/3)
  c(1 - (1 - xi)^(1 / 3))
}

#' @rdname transf
#' @export
transf.iahw <- function(xi) {
  .tf_num(xi)
  z <- .tf_nan_na(1 - (1 - xi)^3)
  z[xi > 1] <- 1
  z[xi < 0] <- 0
  c(z)
}

#' @rdname transf
#' @export
transf.abt <- function(xi) {
  .tf_num(xi)
  # Bonett (2002, J Educ Behav Stat 27:335-340): -log(1 - alpha)
  c(-log(1 - xi))
}

#' @rdname transf
#' @export
transf.iabt <- function(xi) {
  .tf_num(xi)
  z <- .tf_nan_na(1 - exp(-xi))
  z[xi < 0] <- 0
  c(z)
}

# --- standardized mean differences d (normal distributions, equal SDs) ---

#' @rdname transf
#' @export
transf.dtou1 <- function(xi) {
  .tf_num(xi)
  # Cohen's (1988) U1, the non-overlap: (2 U2 - 1) / U2
  u2 <- stats::pnorm(abs(xi) / 2)
  (2 * u2 - 1) / u2
}

#' @rdname transf
#' @export
transf.dtou2 <- function(xi) {
  .tf_num(xi)
  stats::pnorm(xi / 2)
}

#' @rdname transf
#' @export
transf.dtou3 <- function(xi) {
  .tf_num(xi)
  stats::pnorm(xi)
}

#' @rdname transf
#' @export
transf.dtoovl <- function(xi) {
  .tf_num(xi)
  # overlapping coefficient of two normal densities (Inman & Bradley 1989,
  # Commun Stat Theory Methods 18:3851-3874): 2 Phi(-|d| / 2)
  2 * stats::pnorm(-abs(xi) / 2)
}

#' @rdname transf
#' @export
transf.dtocles <- function(xi) {
  .tf_num(xi)
  # common language effect size (McGraw & Wong 1992, Psychol Bull
  # 111:361-365): Phi(d / sqrt(2))
  stats::pnorm(xi / sqrt(2))
}

#' @rdname transf
#' @export
transf.clestod <- function(xi) {
  .tf_num(xi)
  sqrt(2) * stats::qnorm(xi)
}

#' @rdname transf
#' @export
transf.dtocliffd <- function(xi) {
  .tf_num(xi)
  # Cliff's (1993) delta = 2 CLES - 1
  2 * stats::pnorm(xi / sqrt(2)) - 1
}

#' @rdname transf
#' @export
transf.dtobesd <- function(xi) {
  .tf_num(xi)
  # binomial effect size display (Rosenthal & Rubin 1982, J Educ Psychol
  # 74:166-169): 0.5 + r / 2 with r = d / sqrt(d^2 + 4)
  0.5 + xi / sqrt(xi^2 + 4) / 2
}

#' @rdname transf
#' @export
transf.dtomd <- function(xi, targs = NULL) {
  .tf_num(xi)
  sd <- if (is.list(targs)) targs$sd else targs
  if (is.null(sd)) .mf_stop("transf.dtomd() needs the standard deviation as 'targs' (a number or list(sd = )).")
  if (length(sd) != 1L) .mf_stop("'targs' must give a single standard deviation.")
  .tf_num(sd, "targs")
  xi * sd
}

#' @rdname transf
#' @export
transf.dtorpb <- function(xi, n1i, n2i) {
  .tf_num(xi)
  # point-biserial r = d / sqrt(d^2 + h) (Jacobs & Viechtbauer 2017)
  h <- .tf_hi(xi, if (missing(n1i)) NULL else n1i, if (missing(n2i)) NULL else n2i)
  xi / sqrt(xi^2 + h$hi)
}

#' @rdname transf
#' @export
transf.dtorbis <- function(xi, n1i, n2i) {
  .tf_num(xi)
  h <- .tf_hi(xi, if (missing(n1i) || missing(n2i)) NULL else n1i,
              if (missing(n1i) || missing(n2i)) NULL else n2i)
  .tf_bis_factor(h$p) * xi / sqrt(xi^2 + h$hi)
}

#' @rdname transf
#' @export
transf.rpbtod <- function(xi, n1i, n2i) {
  .tf_num(xi)
  # d = sqrt(h) r / sqrt(1 - r^2)
  h <- .tf_hi(xi, if (missing(n1i) || missing(n2i)) NULL else n1i,
              if (missing(n1i) || missing(n2i)) NULL else n2i)
  sqrt(h$hi) * xi / sqrt(1 - xi^2)
}

#' @rdname transf
#' @export
transf.rtod <- function(xi, n1i, n2i) {
  .tf_num(xi)
  # biserial r to d: first to the point-biserial r
  giv <- !(missing(n1i) || missing(n2i))
  h <- .tf_hi(xi, if (giv) n1i else NULL, if (giv) n2i else NULL)
  if (giv && any(c(n1i < 0, n2i < 0), na.rm = TRUE))
    .mf_stop("One or more values of 'n1i' or 'n2i' are negative.")
  rpb <- xi / .tf_bis_factor(h$p)
  sqrt(h$hi) * rpb / sqrt(1 - rpb^2)
}

#' @rdname transf
#' @export
transf.rtorpb <- function(xi, pi) {
  .tf_num(xi)
  p <- .tf_pi(if (missing(pi)) NULL else pi, xi)
  xi / .tf_bis_factor(p)
}

#' @rdname transf
#' @export
transf.rpbtorbis <- function(xi, pi) {
  .tf_num(xi)
  p <- .tf_pi(if (missing(pi)) NULL else pi, xi)
  .tf_bis_factor(p) * xi
}

# --- log odds ratios ---

#' @rdname transf
#' @export
transf.lnortod.logis <- function(xi) {
  .tf_num(xi)
  # logistic distributions: d = sqrt(3) / pi * log OR (Hasselblad & Hedges
  # 1995, Psychol Bull 117:167-178)
  sqrt(3) / base::pi * xi
}

#' @rdname transf
#' @export
transf.lnortod.norm <- function(xi) {
  .tf_num(xi)
  xi / 1.65
}

#' @rdname transf
#' @export
transf.dtolnor.logis <- function(xi) {
  .tf_num(xi)
  base::pi / sqrt(3) * xi
}

#' @rdname transf
#' @export
transf.dtolnor.norm <- function(xi) {
  .tf_num(xi)
  1.65 * xi
}

.tf_pc <- function(pc, xi) {
  .tf_num(pc, "pc")
  pc <- .tf_same_length(pc, xi, "pc")
  if (anyNA(pc) || any(pc < 0 | pc > 1))
    .mf_stop("The control group risk 'pc' must be between 0 and 1.")
  pc
}

#' @rdname transf
#' @export
transf.lnortord <- function(xi, pc) {
  .tf_num(xi)
  # risk difference at control risk pc: p1 - pc with odds(p1) = OR odds(pc)
  pc <- .tf_pc(pc, xi)
  or <- exp(xi)
  or * pc / (1 - pc + pc * or) - pc
}

#' @rdname transf
#' @export
transf.lnortorr <- function(xi, pc) {
  .tf_num(xi)
  # risk ratio at control risk pc (Zhang & Yu 1998, JAMA 280:1690-1691):
  # OR / (1 - pc + pc OR)
  pc <- .tf_pc(pc, xi)
  or <- exp(xi)
  or / (pc * (or - 1) + 1)
}

#' @rdname transf
#' @export
transf.lnortortet.pearson <- function(xi) {
  .tf_num(xi)
  # Pearson's (1900) approximation of the tetrachoric correlation:
  # cos(pi / (1 + sqrt(OR)))
  cos(base::pi / (1 + sqrt(exp(xi))))
}

#' @rdname transf
#' @export
transf.lnortortet.digby <- function(xi) {
  .tf_num(xi)
  # Digby (1983, Biometrics 39:753-757): (OR^(3/4) - 1) / (OR^(3/4) + 1)
  q <- exp(xi)^(3 / 4)
  (q - 1) / (q + 1)
}
