# metafor's conv.2x2(): the cells of 2x2 tables reconstructed from reported
# statistics.

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
  if (has.data && !is.data.frame(data)) data <- data.frame(data)
  x <- if (has.data) data else NULL
  if (length(var.names) != 4L) .mf_stop("'var.names' must be of length 4.")
  if (any(var.names != make.names(var.names, unique = TRUE))) {
    var.names <- make.names(var.names, unique = TRUE)
    warning("'var.names' adjusted to syntactically valid names: ", paste(var.names, collapse = ", "), call. = FALSE)
  }
  mf <- match.call()
  getx <- .mf_conv_getter(mf, x, parent.frame(), as_vector = TRUE)
  nms <- c("ori", "ri", "x2i", "sens", "spec", "ppv", "npv", "ni", "n1i", "n2i")
  v <- lapply(stats::setNames(nms, nms), getx)
  lens <- lengths(v)
  lens <- lens[lens > 0L]
  if (length(unique(lens)) > 1L)
    .mf_stop(sprintf("The data vectors are not all of the same length: %s.",
                     paste0(names(lens), " (", lens, ")", collapse = ", ")))
  k <- if (length(lens)) lens[[1]] else 0L
  v <- lapply(v, function(z) if (is.null(z)) rep(NA_real_, k) else as.numeric(z))
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
