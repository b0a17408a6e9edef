# Shared pieces of rma.mh() and rma.peto(): the equal-effects fits computed
# from the counts of 2x2 tables (or events and person-times), class
# c("mf_rma_mh" / "mf_rma_peto", "mf_rma_tab").  The data pipeline follows
# metafor 5.2.1's meaning (per-study outcomes from escalc() with add[1],
# to[1], drop00[1]; the pooled estimate from the tables with add[2], to[2],
# drop00[2]); the estimators are closed forms in the sums of per-study
# terms, written once for an aggregator `tot`: sum() for the fit, "sum minus
# the left-out group" for leave1out() and rstudent(), cumsum() for cumul().

# add, to and drop00 as metafor: one value (the second is 0, "none", FALSE)
# or two (for the per-study outcomes and for the pooled estimate).
.mf_tab_opts <- function(add, to, drop00) {
  if (!is.numeric(add) || !length(add) || length(add) > 2L || anyNA(add) || any(add < 0))
    .mf_stop("'add' must be one or two non-negative numbers (for the study outcomes and the pooled estimate).")
  if (length(add) == 1L) add <- c(add, 0)
  ok <- c("all", "only0", "if0all", "none")
  if (!is.character(to) || !length(to) || length(to) > 2L || anyNA(to) || !all(to %in% ok))
    .mf_stop("'to' must be one or two of \"all\", \"only0\", \"if0all\", \"none\".")
  if (length(to) == 1L) to <- c(to, "none")
  if (!is.logical(drop00) || !length(drop00) || length(drop00) > 2L || anyNA(drop00))
    .mf_stop("'drop00' must be one or two TRUE/FALSE values.")
  if (length(drop00) == 1L) drop00 <- c(drop00, FALSE)
  list(add = as.numeric(add), to = to, drop00 = drop00)
}

.mf_tab_flag <- function(x, name) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) .mf_stop(sprintf("'%s' must be TRUE or FALSE.", name))
  x
}

# Evaluate an argument of the caller's call in `data` (then the caller's
# environment), as metafor's functions do.
.mf_tab_getx <- function(mf, name, data, env) {
  if (!name %in% names(mf)) return(NULL)
  expr <- mf[[name]]
  out <- tryCatch(eval(expr, data, env), error = function(e) e)
  if (inherits(out, "error") || is.function(out))
    .mf_stop(sprintf("cannot find the object/variable ('%s') given for argument '%s'.", deparse1(expr), name))
  out
}

# Bad counts: an error naming the argument and the rows.
.mf_tab_bad <- function(bad, what) {
  bad[is.na(bad)] <- FALSE
  if (any(bad)) .mf_stop(sprintf("%s (%s).", what, .mf_rows(bad)))
}

# The data of the fit: per-study outcomes (yi/vi) and the tables used for the
# pooled estimate, with metafor's fields (outdat.f, outdat, not.na, ...).
.mf_tab_data <- function(fn, measure, mf, env, data, opts, onlyo1 = FALSE, addyi = TRUE, addvi = TRUE) {
  rates <- measure %in% c("IRR", "IRD")
  if (is.null(data)) data <- env else if (!is.data.frame(data)) data <- data.frame(data)
  getnum <- function(nm) .mf_numeric(.mf_tab_getx(mf, nm, data, env), nm, allow_null = TRUE)
  need <- if (rates) c("x1i", "x2i", "t1i", "t2i") else c("ai", "bi", "ci", "di", "n1i", "n2i")
  v <- lapply(stats::setNames(need, need), getnum)
  if (rates) {
    miss <- need[vapply(v, is.null, logical(1))]
    if (length(miss)) .mf_stop(sprintf("%s(measure = \"%s\") needs x1i, x2i, t1i and t2i; missing: %s.", fn, measure,
                                       paste(miss, collapse = ", ")))
  } else {
    if (is.null(v$ai) || is.null(v$ci) || (is.null(v$bi) && is.null(v$n1i)) || (is.null(v$di) && is.null(v$n2i)))
      .mf_stop(sprintf("%s() needs the counts ai, bi, ci, di (or ai, ci, n1i, n2i).", fn))
    # as metafor: n1i / n2i are only used when bi / di are not given
    if (!is.null(v$bi)) v$n1i <- NULL
    if (!is.null(v$di)) v$n2i <- NULL
  }
  v <- v[!vapply(v, is.null, logical(1))]
  lens <- lengths(v)
  if (any(lens != lens[1L]))
    .mf_stop(sprintf("the data vectors of %s() have different lengths: %s.", fn,
                     paste0(names(lens), " (", lens, ")", collapse = ", ")))
  k.all <- unname(lens[1L])
  if (k.all == 0L) .mf_stop(sprintf("the data vectors of %s() are empty.", fn))
  cnt <- if (rates) c("x1i", "x2i") else intersect(names(v), c("ai", "bi", "ci", "di", "n1i", "n2i"))
  for (nm in cnt) .mf_tab_bad(v[[nm]] < 0, sprintf("'%s' must not be negative", nm))
  if (rates) {
    for (nm in c("t1i", "t2i")) .mf_tab_bad(v[[nm]] <= 0, sprintf("'%s' (person-time) must be positive", nm))
  } else {
    if (!is.null(v$n1i)) { .mf_tab_bad(v$ai > v$n1i, "'ai' must not exceed 'n1i'"); v$bi <- v$n1i - v$ai }
    if (!is.null(v$n2i)) { .mf_tab_bad(v$ci > v$n2i, "'ci' must not exceed 'n2i'"); v$di <- v$n2i - v$ci }
    v <- v[c("ai", "bi", "ci", "di")]
  }
  ni <- if (rates) v$t1i + v$t2i else v$ai + v$bi + v$ci + v$di

  ids <- seq_len(k.all)
  slab <- .mf_tab_getx(mf, "slab", data, env)
  slab.null <- is.null(slab)
  if (slab.null) slab <- ids else {
    if (anyNA(slab)) .mf_stop(sprintf("'slab' has missing values (%s).", .mf_rows(is.na(slab))))
    if (length(slab) != k.all)
      .mf_stop(sprintf("'slab' has length %d but the data have %d rows.", length(slab), k.all))
    if (is.factor(slab)) slab <- as.character(slab)
    slab <- as.vector(unclass(slab))
  }
  subset <- .mf_tab_getx(mf, "subset", data, env)
  if (!is.null(subset)) {
    keep <- .esc_subset(subset, k.all, "subset")
    v <- lapply(v, `[`, keep)
    ni <- ni[keep]; slab <- slab[keep]; ids <- ids[keep]
    subset <- keep
  }
  if (anyDuplicated(slab)) slab <- .esc_unique_labels(as.character(slab))
  k <- length(ids)

  # per-study outcomes (add[1], to[1], drop00[1])
  if (rates) {
    es <- .esc_es_rates(measure, v, opts$add[1], opts$to[1], opts$drop00[1], addyi, addvi)
    yi <- es$yi; vi <- es$vi
    if (any(is.infinite(yi) | is.infinite(vi))) {
      warning("some 'yi' and/or 'vi' values equal to +-Inf; recoded to NA", call. = FALSE)
      yi[is.infinite(yi) | is.infinite(vi)] <- NA_real_
      vi[is.na(yi)] <- NA_real_
    }
    yi[is.nan(yi)] <- NA_real_; vi[is.nan(vi)] <- NA_real_
  } else {
    es <- escalc(measure = if (measure == "PETO") "PETO" else measure, ai = v$ai, bi = v$bi, ci = v$ci, di = v$di,
                 add = opts$add[1], to = opts$to[1], drop00 = opts$drop00[1], onlyo1 = onlyo1, addyi = addyi,
                 addvi = addvi)
    yi <- as.vector(es$yi); vi <- as.vector(es$vi)
  }
  # the tables of the pooled estimate (drop00[2])
  if (opts$drop00[2]) {
    d00 <- if (rates) v$x1i == 0 & v$x2i == 0 else (v$ai == 0 & v$ci == 0) | (v$bi == 0 & v$di == 0)
    d00[is.na(d00)] <- FALSE
    cells <- if (rates) c("x1i", "x2i") else names(v)
    for (nm in cells) v[[nm]][d00] <- NA_real_
  }
  outdat.f <- v
  not.na <- Reduce(`&`, lapply(v, function(z) !is.na(z)))
  na.act <- .mf_na_action()
  if (any(!not.na)) {
    if (na.act == "na.fail") .mf_stop("Missing values in tables.")
    v <- lapply(v, `[`, not.na)
    warning(sprintf("%d %s with NAs omitted from model fitting.", sum(!not.na),
                    if (sum(!not.na) > 1L) "studies" else "study"), call. = FALSE)
  }
  if (sum(not.na) < 1L) .mf_stop("Processing terminated since k = 0.")
  not.na.yivi <- !(is.na(yi) | is.na(vi))
  yi.f <- yi; vi.f <- vi
  attr(yi.f, "measure") <- measure
  attr(yi.f, "ni") <- ni
  ni.f <- ni
  yk <- yi; vk <- vi; nk <- ni
  if (any(!not.na.yivi)) {
    if (na.act == "na.fail") .mf_stop("Missing yi/vi values.")
    yk <- yi[not.na.yivi]; vk <- vi[not.na.yivi]; nk <- ni[not.na.yivi]
    warning("Some yi/vi values are NA.", call. = FALSE)
  }
  attr(yk, "measure") <- measure
  attr(yk, "ni") <- nk
  # the value added to the tables of the pooled estimate (add[2], to[2])
  cells <- if (rates) c("x1i", "x2i") else names(v)
  v[cells] <- .esc_add(v[cells], opts$add[2], opts$to[2])
  list(outdat.f = outdat.f, outdat = v, cells.f = .mf_tab_pad(v, not.na), yi = yk, vi = vk, yi.f = yi.f, vi.f = vi.f, ni = nk, ni.f = ni.f,
       k = sum(not.na), k.f = k, k.all = k.all, k.yi = length(yk), ids = ids, slab = slab, slab.null = slab.null,
       not.na = not.na, not.na.yivi = not.na.yivi, subset = subset,
       data = if (is.environment(data)) NULL else data)
}

# Tables of the used rows padded with NA to all k.f rows.
.mf_tab_pad <- function(v, not.na) lapply(v, function(z) { o <- rep(NA_real_, length(not.na)); o[not.na] <- z; o })

# The estimators, vectorised over refits: every sum over studies is
# tot(term), where tot() aggregates the terms of the studies included in
# each refit (rows with use = FALSE contribute nothing to the estimate, rows
# with usey = FALSE nothing to Q).  Returns the
# estimate, its standard error and the heterogeneity statistics of each
# refit.  Sources: Robins, Breslow & Greenland (1986, Biometrics 42:311-323;
# variance of the log MH odds ratio); Greenland & Robins (1985, Biometrics
# 41:55-68; MH risk ratio and rate ratio and their variances); Sato,
# Greenland & Robins (1989, Biometrics 45:1323-1324; variance of the MH risk
# difference); Greenland & Robins (1985; MH rate difference);
# Yusuf, Peto, Lewis, Collins & Sleight (1985, Prog Cardiovasc Dis
# 27:335-371; Peto's one-step odds ratio and its heterogeneity statistic).
.mf_tab_core <- function(measure, cells, yi, vi, use, usey, agg, alpha) {
  tot <- function(z) agg(ifelse(use, z, 0))
  k <- tot(rep(1, length(use)))
  zero <- function(z) !is.na(z) & z == 0
  na <- rep(NA_real_, length(k))
  QE.peto <- k.pos <- NULL
  if (measure %in% c("OR", "RR", "RD", "PETO")) {
    ai <- cells$ai; bi <- cells$bi; ci <- cells$ci; di <- cells$di
    n1 <- ai + bi; n2 <- ci + di; N <- n1 + n2
  } else {
    x1 <- cells$x1i; x2 <- cells$x2i; t1 <- cells$t1i; t2 <- cells$t2i
    Ti <- t1 + t2
  }
  if (measure == "OR") {
    Ri <- ai * di / N; Si <- bi * ci / N
    Pi <- (ai + di) / N; Qi <- (bi + ci) / N
    R <- tot(Ri); S <- tot(Si)
    ok <- !(zero(R) | zero(S))
    beta <- ifelse(ok, log(R / S), na)
    se <- ifelse(ok, sqrt((tot(Pi * Ri) / R^2 + tot(Pi * Si + Qi * Ri) / (R * S) + tot(Qi * Si) / S^2) / 2), na)
  } else if (measure == "RR") {
    R <- tot(ai * n2 / N); S <- tot(ci * n1 / N)
    ok <- !(zero(tot(ai)) | zero(tot(ci)))
    beta <- ifelse(ok, log(R / S), na)
    se <- ifelse(ok, sqrt(tot(n1 * n2 * (ai + ci) / N^2 - ai * ci / N) / (R * S)), na)
  } else if (measure == "RD") {
    W <- tot(n1 * n2 / N)
    beta <- tot((ai * n2 - ci * n1) / N) / W
    se <- sqrt((beta * tot(ci * (n1 / N)^2 - ai * (n2 / N)^2 + (n1 / N) * (n2 / N) * (n2 - n1) / 2) +
                  tot(ai * (n2 - ci) / N + ci * (n1 - ai) / N) / 2) / W^2)
  } else if (measure == "IRR") {
    R <- tot(x1 * t2 / Ti); S <- tot(x2 * t1 / Ti)
    ok <- !(zero(tot(x1)) | zero(tot(x2)))
    beta <- ifelse(ok, log(R / S), na)
    se <- ifelse(ok, sqrt(tot(t1 * t2 * (x1 + x2) / Ti^2) / (R * S)), na)
  } else if (measure == "IRD") {
    W <- tot(t1 * t2 / Ti)
    beta <- tot((x1 * t2 - x2 * t1) / Ti) / W
    se <- sqrt(tot((t1 * t2 / Ti)^2 * (x1 / t1^2 + x2 / t2^2))) / W
  } else {
    # Peto: observed minus expected events in group 1 and the hypergeometric
    # variance of each table
    xt <- ai + ci
    Ei <- xt * n1 / N
    Vi <- xt * (bi + di) * (n1 / N) * (n2 / N) / (N - 1)
    sV <- tot(Vi)
    ok <- !zero(sV)
    sO <- tot(ai - Ei)
    beta <- ifelse(ok, sO / sV, na)
    se <- ifelse(ok, sqrt(1 / sV), na)
    pos <- !is.na(Vi) & Vi > 0
    k.pos <- tot(as.numeric(pos))
    QE.peto <- pmax(0, tot(ifelse(pos, (ai - Ei)^2 / Vi, 0)) - sO^2 / tot(ifelse(pos, Vi, 0)))
    QE.peto[!ok] <- NA_real_
  }
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  zval <- beta / se
  # heterogeneity: Q of the per-study outcomes around the pooled estimate
  # (Peto: its own statistic of the tables); with one study Q = 0
  usey <- usey & !is.na(yi) & !is.na(vi)
  toty <- function(z) agg(ifelse(usey, z, 0))
  k.yi <- toty(rep(1, length(use)))
  wi <- 1 / vi
  # centred at a value near every estimate (no cancellation in the sums)
  cen <- if (length(beta) == 1L || all(is.na(beta))) beta[1L] else stats::median(beta, na.rm = TRUE)
  if (is.na(cen)) cen <- 0
  yc <- yi - cen
  d <- beta - cen
  if (length(beta) == 1L) {
    rss <- max(0, toty(wi * (yi - beta)^2))
  } else {
    # a zero variance (infinite weight) makes Q infinite, as in metafor
    inf <- is.infinite(wi)
    wf <- ifelse(inf, 0, wi)
    rss <- pmax(0, toty(wf * yc^2) - 2 * d * toty(wf * yc) + d^2 * toty(wf))
    rss[toty(as.numeric(inf)) > 0 & !is.na(rss)] <- Inf
  }
  if (measure == "PETO") {
    QE <- QE.peto
    het <- k.pos > 1
  } else {
    QE <- ifelse(k.yi > 1, rss, 0)
    het <- k.yi > 1
  }
  df <- k.yi - 1
  list(k = k, k.yi = k.yi, k.pos = k.pos, beta = beta, se = se, zval = zval,
       pval = 2 * stats::pnorm(abs(zval), lower.tail = FALSE),
       ci.lb = beta - crit * se, ci.ub = beta + crit * se, QE = QE,
       QEp = ifelse(het, stats::pchisq(QE, df = pmax(df, 1), lower.tail = FALSE), 1),  # (df < 1: not used)
       I2 = ifelse(het, pmax(0, 100 * (QE - df) / QE), 0), H2 = ifelse(het, QE / df, 1),
       rss = rss, sumw = toty(wi))
}

# metafor's fit statistics of an equal-effects model with the residual sum
# of squares `rss` (Q for rma.mh, the sum of squares of the per-study
# outcomes around Peto's estimate for rma.peto).
.mf_tab_fitstats <- function(yi, vi, rss) {
  k <- length(yi)
  fs <- matrix(NA_real_, 5L, 2L, dimnames = list(c("ll", "dev", "AIC", "BIC", "AICc"), c("ML", "REML")))
  if (k >= 1L) {
    lml <- -k / 2 * log(2 * pi) - sum(log(vi)) / 2 - rss / 2
    lrl <- -(k - 1) / 2 * log(2 * pi) + log(k) / 2 - sum(log(vi)) / 2 - log(sum(1 / vi)) / 2 - rss / 2
    dev <- if (any(vi <= 0)) -2 * lml else -2 * (lml - sum(stats::dnorm(yi, yi, sqrt(vi), log = TRUE)))
    fs[, 1L] <- c(lml, dev, -2 * lml + 2, -2 * lml + log(k), -2 * lml + 2 * max(k, 3) / (max(k, 3) - 2))
    fs[, 2L] <- c(lrl, -2 * lrl, -2 * lrl + 2, -2 * lrl + log(k - 1),
                  -2 * lrl + 2 * max(k - 1, 3) / (max(k - 1, 3) - 2))
  }
  data.frame(fs)
}

# The fit object: the fields metafor's rma.mh / rma.peto objects hold.
.mf_tab_object <- function(cls, measure, dat, core, tests, opts, correct, alpha, digits, call, fitrss) {
  beta <- stats::setNames(core$beta, "intrcpt")
  res <- list(b = beta, beta = beta, se = core$se, zval = core$zval, pval = core$pval,
              ci.lb = core$ci.lb, ci.ub = core$ci.ub,
              vb = matrix(core$se^2, dimnames = list("intrcpt", "intrcpt")),
              tau2 = 0, tau2.f = 0, I2 = core$I2, H2 = core$H2, QE = core$QE, QEp = core$QEp)
  res <- c(res, tests)
  res <- c(res, list(k = dat$k, k.f = dat$k.f, k.yi = dat$k.yi,
                     k.pos = if (is.null(tests$k.pos)) core$k.pos else tests$k.pos,
                     k.eff = dat$k, k.all = dat$k.all, p = 1L, p.eff = 1L, parms = 1L,
                     int.only = TRUE, intercept = TRUE, coef.na = c(X = FALSE),
                     yi = dat$yi, vi = dat$vi, yi.f = dat$yi.f, vi.f = dat$vi.f, X.f = cbind(rep(1, dat$k.f)),
                     outdat.f = dat$outdat.f, outdat = dat$outdat, ni = dat$ni, ni.f = dat$ni.f, ids = dat$ids,
                     not.na = dat$not.na, subset = dat$subset, not.na.yivi = dat$not.na.yivi,
                     slab = dat$slab, slab.null = dat$slab.null, measure = measure, method = "FE",
                     weighted = TRUE, test = "z", ddf = NA_integer_, dfs = NA_integer_, btt = 1L, m = 1L,
                     digits = digits, level = alpha, add = opts$add, to = opts$to, drop00 = opts$drop00))
  if (!is.null(correct)) res$correct <- correct
  res$fit.stats <- .mf_tab_fitstats(dat$yi, dat$vi, fitrss)
  res$data <- dat$data
  res$call <- call
  res$k.pos <- as.integer(res$k.pos)
  class(res) <- c(cls, "mf_rma_tab")
  res
}

.mf_tab_digits <- function(digits) {
  if (missing(digits) || is.null(digits)) return(4L)
  if (!is.numeric(digits) || !length(digits) || is.na(digits[1L])) .mf_stop("'digits' must be a number.")
  as.integer(if (!is.null(names(digits)) && "est" %in% names(digits)) digits[["est"]] else digits[1L])
}
