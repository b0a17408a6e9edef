# metafor's conv.2x2(): the cells of 2x2 tables reconstructed from reported
# statistics.

# 'data' of the conv.* and to.* helpers as a data frame (as metafor:
# data.frame(data)), with an error naming the argument when it is not one.
.mf_conv_data <- function(data) {
  if (is.data.frame(data)) return(data)
  out <- tryCatch(data.frame(data), error = function(e) NULL)
  if (is.null(out)) .mf_stop("'data' must be a data frame (or something data.frame() turns into one).")
  out
}

# Column `name` of x updated with `new` as metafor's conv.* functions do
# (replace = "ifna": fill the missing values; "all": take every non-missing
# new value; "complete": take new as it is).
.mf_conv_replace <- function(old, new, replace) {
  if (replace == "complete" || is.null(old)) return(new)
  sel <- if (replace == "ifna") is.na(old) else !is.na(new)
  old[sel] <- new[sel]
  old
}

# The four cells (a, b, c, d: test+/disease+, test+/disease-, test-/disease+,
# test-/disease-) of a table of n subjects with the given sensitivity,
# specificity and positive predictive value (Bayes' theorem: the prevalence
# is ppv (1 - spec) / (sens (1 - ppv) + ppv (1 - spec))).
.mf_diag_cells <- function(sens, spec, ppv, ni) {
  den <- sens * (1 - ppv) + ppv * (1 - spec)
  f <- ni * (1 - spec) / den
  c(f * sens * ppv, f * sens * (1 - ppv), f * (1 - sens) * ppv, ni * sens * spec * (1 - ppv) / den)
}

# Squared distance between the observed (sens, spec, ppv, npv, n) and those
# of the table that par = (sens, spec, ppv) gives (as metafor's loss; 10
# where the table is undefined).
.mf_diag_loss <- function(par, obs, ni) {
  if (par[1] * (1 - par[3]) + par[3] * (1 - par[2]) <= .Machine$double.eps) return(10)
  t <- .mf_diag_cells(par[1], par[2], par[3], ni)
  fit <- c(t[1] / (t[1] + t[3]), t[4] / (t[2] + t[4]), t[1] / (t[1] + t[2]), t[4] / (t[3] + t[4]))
  sum((obs - fit)^2) + (ni - sum(t))^2
}

# Rounding of x to integers that sum to n: floors, then one more for the
# largest fractional parts (Hamilton's largest remainder method).
.mf_round_to_total <- function(x, n) {
  out <- floor(x)
  rem <- n - sum(out)
  if (isTRUE(rem > 0)) {
    idx <- order(-(x - out))[seq_len(rem)]
    out[idx] <- out[idx] + 1
  }
  out
}

# One table from diagnostic accuracy statistics (three of the four given).
.mf_conv_diag <- function(sens, spec, ppv, npv, ni, method) {
  # the missing one from the other three (Bayes' theorem)
  if (is.na(sens)) sens <- (1 - spec) * ppv * npv / ((1 - spec) * ppv * npv + spec * (1 - ppv) * (1 - npv))
  if (is.na(spec)) spec <- (1 - sens) * ppv * npv / ((1 - sens) * ppv * npv + sens * (1 - ppv) * (1 - npv))
  if (is.na(ppv)) ppv <- sens * spec * (1 - npv) / (sens * spec * (1 - npv) + (1 - sens) * (1 - spec) * npv)
  if (is.na(npv)) npv <- sens * spec * (1 - ppv) / (sens * spec * (1 - ppv) + (1 - sens) * (1 - spec) * ppv)
  if (isTRUE(sens * (1 - ppv) + ppv * (1 - spec) == 0)) return(NULL)
  obs <- c(sens, spec, ppv, npv)
  cells <- switch(method,
    simple = .mf_diag_cells(sens, spec, ppv, ni),
    optim = {
      # the (sens, spec, ppv) whose table is closest to all four statistics
      fit <- tryCatch(stats::optim(c(sens, spec, ppv), .mf_diag_loss, method = "BFGS", obs = obs, ni = ni),
                      error = function(e) NULL)
      if (is.null(fit)) rep(NA_real_, 4) else .mf_diag_cells(fit$par[1], fit$par[2], fit$par[3], ni)
    },
    search = {
      # the same on a grid of 21 values within +-0.005 of each statistic
      grid <- function(p) seq(max(0, p - 0.005), min(1, p + 0.005), length.out = 21)
      g <- expand.grid(s1 = grid(sens), s2 = grid(spec), s3 = grid(ppv))
      loss <- vapply(seq_len(nrow(g)), function(j) .mf_diag_loss(c(g$s1[j], g$s2[j], g$s3[j]), obs, ni), 0)
      j <- which(loss == min(loss, na.rm = TRUE))[1L]
      .mf_diag_cells(g$s1[j], g$s2[j], g$s3[j], ni)
    })
  .mf_round_to_total(cells, ni)
}

#' Reconstruct 2x2 tables from reported statistics
#'
#' As metafor's \code{conv.2x2()}: the cell counts of 2x2 tables with row
#' totals \code{n1i} and column totals \code{n2i} (of \code{ni} subjects)
#' from an odds ratio \code{ori} (Bonett 2007), a phi coefficient \code{ri}
#' or a chi-square statistic \code{x2i} (signed by the direction of the
#' association; with \code{correct}, one with Yates' correction), or, for
#' diagnostic tests, from three or four of \code{sens}, \code{spec},
#' \code{ppv}, \code{npv} with \code{ni} (Bayes' theorem; with all four, the
#' table closest to all of them, found as \code{method} in \code{...} says:
#' \code{"optim"}, the default, \code{"simple"} or \code{"search"}; the
#' cells are rounded to integers that sum to \code{ni}).  Tables with
#' negative cells are set to missing with a warning.
#'
#' @param ori odds ratios.
#' @param ri phi coefficients.
#' @param x2i chi-square statistics (signed).
#' @param ni total sample sizes.
#' @param n1i,n2i row and column totals (the margins with the "event").
#' @param sens,spec,ppv,npv sensitivities, specificities, positive and
#'   negative predictive values.
#' @param correct logical (one or one per row): whether \code{x2i} was
#'   computed with Yates' continuity correction.
#' @param drop01 logical: skip diagnostic tables with a statistic of 0 or 1.
#' @param data optional data frame (arguments are evaluated in it).
#' @param include optional logical or index vector: the rows to convert.
#' @param var.names names of the four cell columns.
#' @param append logical: return \code{data} with the cell columns
#'   (\code{TRUE}) or only the four columns.
#' @param replace \code{"ifna"}, \code{"all"} or \code{"complete"} (or a
#'   logical), as in \code{conv.wald()}.
#' @param ... metafor's \code{method}.
#' @return A data frame.
#' @references Bonett, D. G. (2007). Transforming odds ratios into
#'   correlations for meta-analytic research. American Psychologist, 62(3),
#'   254-255.
#' @examples
#' conv.2x2(ori = c(2.5, 0.8), ni = c(100, 80), n1i = c(40, 30), n2i = c(50, 44))
#' conv.2x2(sens = 0.8, spec = 0.9, ppv = 0.7, ni = 200)
#' @export
conv.2x2 <- function(ori, ri, x2i, ni, n1i, n2i, sens, spec, ppv, npv, correct = TRUE,
                     drop01 = TRUE, data, include, var.names = c("ai", "bi", "ci", "di"),
                     append = TRUE, replace = "ifna", ...) {
  .mf_check_dots("conv.2x2", ...)
  if (is.logical(replace)) replace <- if (isTRUE(replace)) "all" else "ifna"
  replace <- match.arg(replace, c("ifna", "all", "complete"))
  method <- list(...)$method
  method <- if (is.null(method)) "optim" else match.arg(method, c("simple", "optim", "search"))
  has.data <- !missing(data) && !is.null(data)
  if (has.data) data <- .mf_conv_data(data)
  x <- if (has.data) data else NULL
  if (length(var.names) != 4L) .mf_stop("'var.names' must be of length 4.")
  if (any(var.names != make.names(var.names, unique = TRUE))) {
    var.names <- make.names(var.names, unique = TRUE)
    warning("'var.names' adjusted to syntactically valid names: ", paste(var.names, collapse = ", "), call. = FALSE)
  }
  mf <- match.call()
  getx <- .mf_conv_getter(mf, x, parent.frame(), as_vector = TRUE)
  nms <- c("ori", "ri", "x2i", "sens", "spec", "ppv", "npv", "ni", "n1i", "n2i")
  v <- .mf_conv_vectors(getx, nms)
  k <- length(v[[1L]])
  cor <- if ("correct" %in% names(mf)) getx("correct", numeric = FALSE) else correct
  if (length(cor) == 1L) cor <- rep(cor, k)
  if (length(cor) != k)
    .mf_stop(sprintf("The length of 'correct' (%d) does not match the number of rows (%d).", length(cor), k))
  cor <- as.logical(cor)
  cor[is.na(cor)] <- TRUE
  include <- getx("include", numeric = FALSE)
  include <- if (is.null(include)) rep(TRUE, k) else .esc_subset(include, k, "include", stop_if_empty = FALSE)
  for (nm in nms) v[[nm]][!include] <- NA_real_
  for (nm in c("ni", "n1i", "n2i")) v[[nm]] <- round(v[[nm]])
  rowlist <- function(bad) { bad[is.na(bad)] <- FALSE; .mf_rows(bad) }
  for (nm in c("ni", "n1i", "n2i"))
    if (any(v[[nm]] < 0, na.rm = TRUE))
      .mf_stop(sprintf("'%s' has negative sample sizes or margins (%s).", nm, rowlist(v[[nm]] < 0)))
  for (nm in c("n1i", "n2i"))
    if (any(v[[nm]] > v$ni, na.rm = TRUE))
      .mf_stop(sprintf("'%s' is larger than 'ni' (%s).", nm, rowlist(v[[nm]] > v$ni)))
  if (any(abs(v$ri) > 1, na.rm = TRUE))
    .mf_stop(sprintf("'ri' has phi coefficients above 1 or below -1 (%s).", rowlist(abs(v$ri) > 1)))
  for (nm in c("sens", "spec", "ppv", "npv"))
    if (any(v[[nm]] < 0 | v[[nm]] > 1, na.rm = TRUE))
      .mf_stop(sprintf("'%s' has values below 0 or above 1 (%s).", nm, rowlist(v[[nm]] < 0 | v[[nm]] > 1)))

  cells <- matrix(NA_real_, k, 4L)
  for (i in seq_len(k)) {
    n <- v$ni[i]
    if (is.na(n)) next
    dg <- c(v$sens[i], v$spec[i], v$ppv[i], v$npv[i])
    if (sum(!is.na(dg)) >= 3L) {
      if (drop01 && any(dg %in% c(0, 1))) next
      tab <- .mf_conv_diag(dg[1], dg[2], dg[3], dg[4], n, method)
      if (!is.null(tab)) cells[i, ] <- tab
      next
    }
    n1 <- v$n1i[i]; n2 <- v$n2i[i]
    if (is.na(n1) || is.na(n2)) next
    p1 <- n1 / n; p2 <- n2 / n
    p11 <- NA_real_
    or <- v$ori[i]
    if (!is.na(or)) {
      # the joint proportion that gives odds ratio `or` with margins p1, p2:
      # the root in [0, 1] of a quadratic (Bonett 2007)
      if (or == 1) {
        p11 <- p1 * p2
      } else {
        b <- or * (p1 + p2) + (1 - p1) - p2
        p11 <- (b - sqrt(b^2 - 4 * p1 * p2 * or * (or - 1))) / (2 * (or - 1))
      }
    }
    r <- v$ri[i]
    if (is.na(r) && !is.na(v$x2i[i])) {
      x2 <- v$x2i[i]
      r <- sign(x2) * sqrt(abs(x2) / n)
      # (metafor's adjustment for a Yates-corrected statistic)
      if (cor[i]) r <- r + sign(x2) * n / (2 * sqrt(n1 * (n - n1) * n2 * (n - n2)))
    }
    if (is.na(p11) && !is.na(r)) p11 <- p1 * p2 + r * sqrt(p1 * (1 - p1) * p2 * (1 - p2))
    a <- round(n * p11)
    cells[i, ] <- c(a, n1 - a, n2 - a, n - n1 - n2 + a)
  }
  neg <- rowSums(cells < 0) > 0
  neg[is.na(neg)] <- FALSE
  if (any(neg)) {
    warning("there are negative cell frequencies in table", if (sum(neg) > 1L) "s " else " ",
            paste(which(neg), collapse = ","), " (set to NA)", call. = FALSE)
    cells[neg, ] <- NA_real_
  }
  if (has.data && append) {
    for (j in 1:4) x[[var.names[j]]] <- .mf_conv_replace(x[[var.names[j]]], cells[, j], replace)
    return(x)
  }
  out <- as.data.frame(cells)
  names(out) <- var.names
  out
}

# ---------------------------------------------------------------------------
# conv.fivenum(): means and SDs from the five-number summary
# ---------------------------------------------------------------------------

.mf_fivenum_mean_methods <- c("default", "luo/wan/shi", "qe", "bc", "mln", "blue", "hozo2005", "wan2014",
                              "bland2015", "luo2016", "walter2007")
.mf_fivenum_sd_methods <- c("default", "luo/wan/shi", "qe", "bc", "mln", "blue", "hozo2005", "wan2014",
                            "bland2015", "shi2020", "walter2007")

# Mean and SD of one study from (min, q1, median, q3, max) (NA where not
# reported; values on the log scale when lnorm).  Scenario S1: min, median,
# max; S2: q1, median, q3; S3: all five.  Returns c(mean, sd, tval, crit,
# sig) (mean and sd NA when `test` and the skewness test is significant).
# Means: Luo et al. (2018, Stat Methods Med Res 27:1785-1805), Hozo et al.
# (2005, BMC Med Res Methodol 5:13), Wan et al. (2014, BMC Med Res Methodol
# 14:135), Bland (2015, Int J Stat Med Res 4:57-64), Walter & Yao (2007, J
# Clin Epidemiol 60:849-852).  SDs: Wan et al. (2014), Shi et al. (2020,
# Res Synth Methods 11:641-654), Hozo et al. (2005), Bland (2015), Walter &
# Yao (2007).  Skewness tests and the log-normal versions with their
# back-transformation: Shi et al. (2023, Stat Methods Med Res 32:1338-1360).
.mf_fivenum_one <- function(a, q1, m, q3, b, n, method, lnorm, transf, test) {
  out <- c(NA_real_, NA_real_, NA_real_, NA_real_, NA)
  s1 <- !is.na(a) && is.na(q1) && is.na(q3) && !is.na(b)
  s2 <- is.na(a) && !is.na(q1) && !is.na(q3) && is.na(b)
  s3 <- !is.na(a) && !is.na(q1) && !is.na(q3) && !is.na(b)
  if (!(s1 || s2 || s3)) return(out)
  xi <- 2 * stats::qnorm((n - 0.375) / (n + 0.25))       # expected range / sigma
  eta <- 2 * stats::qnorm((0.75 * n - 0.125) / (n + 0.25))  # expected IQR / sigma
  mu <- sdv <- NA_real_
  if (s1) {
    tval <- abs((a + b - 2 * m) / (b - a))
    crit <- 1 / log(n + 9) + 2.5 / (n + 1)
    sig <- isTRUE(tval >= crit)
    if (test && sig) return(c(NA, NA, tval, crit, sig))
    mu <- switch(method[1],
      "luo/wan/shi" = , luo2016 = { w <- 4 / (4 + n^0.75); w * (a + b) / 2 + (1 - w) * m },
      hozo2005 = if (is.na(n)) NA_real_ else if (n <= 25) (a + 2 * m + b) / 4 else m,
      wan2014 = (a + 2 * m + b) / 4,
      walter2007 = m,
      NA_real_)
    sdv <- switch(method[2],
      "luo/wan/shi" = , wan2014 = (b - a) / xi / sqrt(if (lnorm) 1.01 + 0.25 / log(n)^2 else 1),
      hozo2005 = if (is.na(n)) NA_real_ else if (n <= 15) sqrt((a - 2 * m + b)^2 / 4 + (b - a)^2) / sqrt(12)
                 else if (n <= 70) (b - a) / 4 else (b - a) / 6,
      walter2007 = {
        # expected range of n standard normals
        f <- tryCatch(stats::integrate(function(x) 1 - (1 - stats::pnorm(x))^n - stats::pnorm(x)^n,
                                       -Inf, Inf)$value, error = function(e) NULL)
        if (is.null(f)) return(c(mu, NA, tval, crit, sig))
        (b - a) / f
      },
      NA_real_)
    if (lnorm && transf) {
      s4 <- ((b - a) / xi)^4 / (1 + 2.23 / log(n)^2)
      cf <- c(0.565, 0.37, 2.26, 5.92, 1.48)
    }
  } else if (s2) {
    tval <- abs((q1 + q3 - 2 * m) / (q3 - q1))
    crit <- 2.65 / sqrt(n) - 6 / n^2
    sig <- isTRUE(tval >= crit)
    if (test && sig) return(c(NA, NA, tval, crit, sig))
    mu <- switch(method[1],
      "luo/wan/shi" = , luo2016 = { w <- 0.7 + 0.39 / n; w * (q1 + q3) / 2 + (1 - w) * m },
      wan2014 = (q1 + m + q3) / 3,
      NA_real_)
    sdv <- switch(method[2],
      "luo/wan/shi" = , wan2014 = (q3 - q1) / eta / sqrt(if (lnorm) 1 + 1.58 / n else 1),
      NA_real_)
    if (lnorm && transf) {
      s4 <- ((q3 - q1) / eta)^4 / (1 + 19.2 / n^1.2)
      cf <- c(0.57, 0.75, 2.28, 12, 3)
    }
  } else {
    tval <- max(2.65 * log(0.6 * n) / sqrt(n) * abs((a + b - 2 * m) / (b - a)),
                abs((q1 + q3 - 2 * m) / (q3 - q1)))
    crit <- 3 / sqrt(n) - 40 / n^3
    sig <- isTRUE(tval >= crit)
    if (test && sig) return(c(NA, NA, tval, crit, sig))
    mu <- switch(method[1],
      "luo/wan/shi" = , luo2016 = {
        w1 <- 2.2 / (2.2 + n^0.75); w2 <- 0.7 - 0.72 / n^0.55
        w1 * (a + b) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * m
      },
      wan2014 = , bland2015 = (a + 2 * q1 + 2 * m + 2 * q3 + b) / 8,
      NA_real_)
    w <- 1 / (1 + 0.07 * n^0.6)
    sdv <- switch(method[2],
      "luo/wan/shi" = , shi2020 = (w * (b - a) / xi + (1 - w) * (q3 - q1) / eta) /
        sqrt(if (lnorm) 1 + 0.28 / log(n)^2 else 1),
      wan2014 = ((b - a) / xi + (q3 - q1) / eta) / 2,
      bland2015 = sqrt((a^2 + 2 * q1^2 + 2 * m^2 + 2 * q3^2 + b^2) / 16 +
                       (a * q1 + q1 * m + m * q3 + q3 * b) / 8 - (a + 2 * q1 + 2 * m + 2 * q3 + b)^2 / 64),
      NA_real_)
    if (lnorm && transf) {
      s4 <- (w * (b - a) / xi + (1 - w) * (q3 - q1) / eta)^4 / (1 + 3.93 / n)
      cf <- c(0.405, 0.315, 1.62, 5.04, 1.26)
    }
  }
  if (lnorm && transf) {
    # back to the original scale, with the small-sample corrections
    s2v <- sdv^2
    bm <- exp(mu + s2v / 2) / (1 + cf[1] * s2v / n + cf[2] * s4 / n)
    bs <- sqrt(exp(2 * mu + 2 * s2v) / (1 + cf[3] * s2v / n + cf[4] * s4 / n) -
               exp(2 * mu + s2v) / (1 + cf[3] * s2v / n + cf[5] * s4 / n))
    mu <- bm
    sdv <- bs
  }
  c(mu, sdv, tval, crit, sig)
}

.mf_fivenum_ext <- c("qe", "bc", "mln", "blue")

# S1: min, median, max; S2: q1, median, q3; S3: all five (by which of min,
# q1, q3, max are given); NA: none of these.
.mf_fivenum_scenario <- function(s) {
  p <- !is.na(s[c(1L, 2L, 4L, 5L)])
  if (all(p)) "S3" else if (all(p == c(TRUE, FALSE, FALSE, TRUE))) "S1" else
    if (all(p == c(FALSE, TRUE, TRUE, FALSE))) "S2" else NA_character_
}

# The mean and SD of one study (s: min, q1, median, q3, max, NA where not
# reported) from the estmeansd package (qe: quantile estimation, bc: Box-Cox,
# mln: median of the log-normal; McGrath et al. 2020) or from metaBLUE (blue:
# best linear unbiased estimators; Yang et al. 2022), called as metafor
# calls them: a failure of estmeansd leaves the study's estimates missing
# (qe: its distribution too).  Returns list(est = c(mean, sd), dist).
.mf_fivenum_external <- function(s, n, ext, scen, verbose) {
  use <- switch(scen, S1 = c(1L, 3L, 5L), S2 = c(2L, 3L, 4L), S3 = 1:5)
  if (ext == "blue") {
    r <- metaBLUE::BLUE_s(s[use], n = n, scen)
    return(list(est = c(r$muhat, r$sigmahat), dist = "norm"))
  }
  args <- c(as.list(stats::setNames(s[use], c("min.val", "q1.val", "med.val", "q3.val", "max.val")[use])), n = n)
  fn <- switch(ext, qe = estmeansd::qe.mean.sd, bc = estmeansd::bc.mean.sd, mln = estmeansd::mln.mean.sd)
  r <- tryCatch(if (verbose) do.call(fn, args) else suppressWarnings(suppressMessages(do.call(fn, args))),
                error = function(e) {
                  if (verbose) message("Error in estmeansd's ", ext, ".mean.sd(): ", conditionMessage(e))
                  NULL
                })
  if (is.null(r)) return(list(est = c(NA_real_, NA_real_), dist = NA_character_))
  d <- if (ext == "qe") gsub("log-normal", "lnorm", r$selected.dist, fixed = TRUE) else "norm"
  list(est = c(r$est.mean, r$est.sd), dist = d)
}

#' Means and standard deviations from five-number summaries
#'
#' As metafor's \code{conv.fivenum()}: the mean and SD of each study
#' estimated from its minimum, quartiles, median and maximum (the minimum,
#' median and maximum; the quartiles and median; or all five), by default
#' with the methods of Luo et al. (2018) for the mean and Wan et al. (2014) /
#' Shi et al. (2020) for the SD, and a test of skewness (Shi et al. 2023)
#' that leaves the study out when significant (\code{test = TRUE}).
#' \code{dist = "lnorm"} assumes a log-normal distribution (and with
#' \code{transf} gives the mean and SD on the original scale).  Studies with
#' \code{n < 5} are skipped.  The methods \code{"qe"}, \code{"bc"} and
#' \code{"mln"} (McGrath et al. 2020) call the package estmeansd, and
#' \code{"blue"} (Yang et al. 2022) the package metaBLUE, as metafor does
#' (an error names the package when it is not installed): they estimate the
#' mean and the SD together (give one method), \code{"bc"} and \code{"mln"}
#' need positive values, and only \code{"blue"} (and \code{"qe"} for rows
#' with negative values, which it takes as normal) applies the skewness
#' test.  With \code{"qe"} the attribute \code{dist} holds the distribution
#' estmeansd selected for each row.
#'
#' @param min,q1,median,q3,max the five-number summaries (any may be
#'   missing).
#' @param n sample sizes.
#' @param data optional data frame (arguments are evaluated in it).
#' @param include optional logical or index vector: the rows to convert.
#' @param method one or two of \code{"default"} (= \code{"luo/wan/shi"}),
#'   \code{"hozo2005"}, \code{"wan2014"}, \code{"bland2015"},
#'   \code{"luo2016"} (mean), \code{"shi2020"} (SD), \code{"walter2007"}
#'   (the first for the mean, the second for the SD), or one of
#'   \code{"qe"}, \code{"bc"}, \code{"mln"} (package estmeansd) and
#'   \code{"blue"} (package metaBLUE) for both.
#' @param dist \code{"norm"} or \code{"lnorm"} (one or one per row).
#' @param transf logical: back-transform log-normal estimates.
#' @param test logical: skip studies whose skewness test is significant.
#' @param var.names names of the mean and SD columns.
#' @param append logical: return \code{data} with the two columns.
#' @param replace \code{"ifna"}, \code{"all"} or \code{"complete"} (or a
#'   logical), as in \code{conv.wald()}.
#' @param ... metafor's \code{verbose} (show the messages, warnings and
#'   errors of estmeansd) and \code{seed} (set with \code{set.seed()} first:
#'   the \code{"bc"} and \code{"mln"} methods of estmeansd are random).
#' @return A data frame; the mean column has the attributes \code{tval},
#'   \code{crit}, \code{sig} (the skewness tests) and \code{dist}, and
#'   existing columns that were filled in have \code{est}.
#' @references Luo, D., Wan, X., Liu, J., & Tong, T. (2018). Optimally
#'   estimating the sample mean from the sample size, median, mid-range,
#'   and/or mid-quartile range. Statistical Methods in Medical Research,
#'   27(6), 1785-1805.
#'
#'   Wan, X., Wang, W., Liu, J., & Tong, T. (2014). Estimating the sample mean
#'   and standard deviation from the sample size, median, range and/or
#'   interquartile range. BMC Medical Research Methodology, 14, 135.
#'
#'   Shi, J., Luo, D., Wan, X., Liu, Y., Liu, J., Bian, Z., & Tong, T.
#'   (2023). Detecting the skewness of data from the five-number summary and
#'   its application in meta-analysis. Statistical Methods in Medical
#'   Research, 32(7), 1338-1360.
#'
#'   McGrath, S., Zhao, X., Steele, R., Thombs, B. D., Benedetti, A., & the
#'   DEPRESSD Collaboration (2020). Estimating the sample mean and standard
#'   deviation from commonly reported quantiles in meta-analysis.
#'   Statistical Methods in Medical Research, 29(9), 2520-2537.
#'
#'   Yang, X., Hutson, A. D., & Wang, D. (2022). A generalized BLUE approach
#'   for combining location and scale information in a meta-analysis.
#'   Journal of Applied Statistics, 49(15), 3846-3867.
#' @examples
#' conv.fivenum(min = c(2, 3), median = c(10, 12), max = c(30, 25), n = c(40, 60))
#' @export
conv.fivenum <- function(min, q1, median, q3, max, n, data, include, method = "default", dist = "norm",
                         transf = TRUE, test = TRUE, var.names = c("mean", "sd"), append = TRUE,
                         replace = "ifna", ...) {
  .mf_check_dots("conv.fivenum", ...)
  if (missing(min) && missing(q1) && missing(median) && missing(q3) && missing(max))
    .mf_stop("conv.fivenum() needs at least one of 'min', 'q1', 'median', 'q3', 'max'.")
  if (is.logical(replace)) replace <- if (isTRUE(replace)) "all" else "ifna"
  replace <- match.arg(replace, c("ifna", "all", "complete"))
  seed <- list(...)$seed
  if (!is.null(seed)) set.seed(seed)
  has.data <- !missing(data) && !is.null(data)
  if (has.data) data <- .mf_conv_data(data)
  x <- if (has.data) data else NULL
  if (length(var.names) != 2L) .mf_stop("'var.names' must be of length 2.")
  if (any(var.names != make.names(var.names, unique = TRUE))) {
    var.names <- make.names(var.names, unique = TRUE)
    warning("'var.names' adjusted to syntactically valid names: ", paste(var.names, collapse = ", "), call. = FALSE)
  }
  mf <- match.call()
  getx <- .mf_conv_getter(mf, x, parent.frame(), as_vector = TRUE)
  nms <- c("min", "q1", "median", "q3", "max", "n")
  v <- .mf_conv_vectors(getx, nms)
  k <- length(v[[1L]])
  dist <- if ("dist" %in% names(mf)) getx("dist", numeric = FALSE) else dist
  if (length(dist) == 1L) dist <- rep(dist, k)
  if (length(dist) != k)
    .mf_stop(sprintf("The length of 'dist' (%d) does not match the number of rows (%d).", length(dist), k))
  dist <- c("norm", "lnorm")[pmatch(dist, c("norm", "lnorm"), duplicates.ok = TRUE)]
  if (anyNA(dist)) .mf_stop("'dist' must be \"norm\" or \"lnorm\".")
  include <- getx("include", numeric = FALSE)
  include <- if (is.null(include)) rep(TRUE, k) else .esc_subset(include, k, "include", stop_if_empty = FALSE)
  include[which(v$n < 5)] <- FALSE
  for (nm in nms) v[[nm]][!include] <- NA_real_
  method <- rep_len(tolower(method), 2L)
  pick <- function(m, opts) opts[grep(paste0("^", m), opts)[1]]
  method <- c(pick(method[1], .mf_fivenum_mean_methods), pick(method[2], .mf_fivenum_sd_methods))
  if (anyNA(method)) .mf_stop("Unknown 'method' specified.")
  method[method == "default"] <- "luo/wan/shi"
  if (any(dist == "lnorm") && !all(method == "luo/wan/shi")) {
    method <- c("luo/wan/shi", "luo/wan/shi")
    warning("switching to method = 'luo/wan/shi' (dist = 'lnorm' for one or more studies)", call. = FALSE)
  }
  ext <- if (method[1] %in% .mf_fivenum_ext || method[2] %in% .mf_fivenum_ext) method[1] else NULL
  if (!is.null(ext)) {
    if (method[1] != method[2])
      .mf_stop(sprintf("method = c('%s', '%s'): the methods \"qe\", \"bc\", \"mln\" and \"blue\" estimate the mean and the SD together; give the same 'method' for both.",
                       method[1], method[2]))
    pkg <- if (ext == "blue") "metaBLUE" else "estmeansd"
    if (!requireNamespace(pkg, quietly = TRUE))
      .mf_stop(sprintf("method = '%s' needs the package '%s': install it with install.packages(\"%s\").", ext, pkg, pkg))
  }
  verbose <- isTRUE(list(...)$verbose)
  dists <- dist

  res <- matrix(NA_real_, k, 5L)
  for (i in seq_len(k)) {
    s <- c(v$min[i], v$q1[i], v$median[i], v$q3[i], v$max[i])
    if (!is.null(ext)) {
      if (ext %in% c("bc", "mln") && any(s <= 0, na.rm = TRUE))
        .mf_stop(sprintf("method = '%s' needs positive values of 'min', 'q1', 'median', 'q3' and 'max' (not so in row %d).",
                         ext, i))
      # qe: a row with negative values is assumed normal, so it is tested for
      # skewness (when test = TRUE); the other rows are not tested
      test_i <- if (ext == "blue") test else test && any(s < 0, na.rm = TRUE) && ext == "qe"
      if (is.unsorted(s, na.rm = TRUE))
        .mf_stop(sprintf("'min <= q1 <= median <= q3 <= max' does not hold in row %d.", i))
      r <- .mf_fivenum_one(s[1], s[2], s[3], s[4], s[5], v$n[i], c("none", "none"), FALSE, FALSE, test_i)
      scen <- .mf_fivenum_scenario(s)
      if (!is.na(scen) && !(test_i && isTRUE(as.logical(r[5])))) {
        e <- .mf_fivenum_external(s, v$n[i], ext, scen, verbose)
        r[1:2] <- e$est
        if (ext == "qe") dists[i] <- e$dist
      }
      res[i, ] <- r
      next
    }
    if (is.unsorted(s, na.rm = TRUE))
      .mf_stop(sprintf("'min <= q1 <= median <= q3 <= max' does not hold in row %d.", i))
    lnorm <- dist[i] == "lnorm"
    if (lnorm) {
      if (any(s <= 0, na.rm = TRUE))
        .mf_stop(sprintf("dist = 'lnorm' needs positive values (row %d).", i))
      s <- log(s)
    }
    res[i, ] <- .mf_fivenum_one(s[1], s[2], s[3], s[4], s[5], v$n[i], method, lnorm, transf, test)
  }
  means <- res[, 1]; sds <- res[, 2]
  if (has.data && append) {
    for (j in 1:2) {
      new <- res[, j]
      old <- x[[var.names[j]]]
      if (is.null(old)) {
        x[[var.names[j]]] <- new
      } else {
        est <- if (replace == "ifna") is.na(old) & !is.na(new) else !is.na(new)
        col <- .mf_conv_replace(old, new, replace)
        # (as metafor: a completely replaced column does not keep "est")
        if (replace != "complete") attr(col, "est") <- est
        x[[var.names[j]]] <- col
      }
    }
  } else {
    x <- data.frame(means, sds)
    names(x) <- var.names
  }
  mcol <- x[[var.names[1]]]
  attr(mcol, "tval") <- res[, 3]
  attr(mcol, "crit") <- res[, 4]
  attr(mcol, "sig") <- as.logical(res[, 5])
  attr(mcol, "dist") <- dists
  x[[var.names[1]]] <- mcol
  x
}
