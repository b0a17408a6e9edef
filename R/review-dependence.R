# The real pain-interference rows (dat.gandy2022_interference) with their
# dependence handled five ways (reproduce_review(), issue 17 item 1).  Two
# trials contribute several rows: Dear 2015 (three guided arms, one shared
# waitlist) and Lin 2017 (guided and unguided ACT, one shared waitlist).
#
#  (a) all rows as published: the printed SEs of Dear 2015a/b/c fit a
#      waitlist split three ways (Cochrane Handbook 23.3.4), so the rows are
#      treated as independent;
#  (b) one comparison per trial (the first listed arm);
#  (c) the arms of a trial share their control group: vcalc(grp1 = arm,
#      grp2 = control) gives the covariance of two comparisons that share a
#      group (for equal group sizes, correlation 0.5; Gleser & Olkin 2009,
#      eq. 19.21, as metafor's vcalc()), and a three-level model
#      rma.mv(random = ~ 1 | trial/comparison) adds within-trial
#      heterogeneity.  Applied to the published (split) variances, this is
#      the conservative bound: it assumes the full overlap of a shared control;
#  (d) (c) with cluster-robust inference: CR2 with Satterthwaite df by trial
#      (Pustejovsky & Tipton 2018), as robust(clubSandwich = TRUE);
#  (e) (c) refitted with each trial left out (all its rows together).

# The rows of dat.gandy2022_interference with the columns the models need.
.review_real_data <- function() {
  rd <- getExportedValue("metafast", "dat.gandy2022_interference")
  rd <- as.data.frame(rd, stringsAsFactors = FALSE)
  rd$control_group <- paste(rd$trial, "control")
  rd$row <- seq_len(nrow(rd))
  rd
}

# The three-level model of (c): V from vcalc() with the shared control, then
# rma.mv() with trial and comparison levels.
.review_real_mv <- function(rd) {
  V <- vcalc(vi = rd$vi, cluster = rd$trial, grp1 = rd$study, grp2 = rd$control_group)
  rma.mv(yi = rd$g, V = V, random = list(~ 1 | trial / row), data = rd, slab = rd$study)
}

# Numbers of one analysis row from a fit (rma(), rma.mv() or robust() of
# either); `model` is the fit whose variance components and prediction
# interval are reported (the working model when `fit` is a robust() fit).
.review_fit_numbers <- function(fit, model = fit, trials = NA_integer_, n = NA_integer_) {
  pr <- stats::predict(model)
  mv <- inherits(model, "mf_rma_mv")
  i2 <- if (mv) i2_levels(model) else NULL
  data.frame(k = as.integer(fit$k), trials = as.integer(trials), n = as.integer(n),
             estimate = unname(fit$beta[1L, 1L]), ci.lb = unname(fit$ci.lb[1L]),
             ci.ub = unname(fit$ci.ub[1L]), pval = unname(fit$pval[1L]),
             pi.lb = if (is.null(pr$pi.lb)) NA_real_ else unname(pr$pi.lb[1L]),
             pi.ub = if (is.null(pr$pi.ub)) NA_real_ else unname(pr$pi.ub[1L]),
             tau2 = if (mv) sum(model$sigma2) else unname(model$tau2),
             I2 = if (mv) unname(i2[["total"]]) else unname(model$I2),
             I2.between = if (mv) unname(i2[[1L]]) else NA_real_,
             I2.within = if (mv && length(model$sigma2) > 1L) unname(i2[[2L]]) else NA_real_,
             stringsAsFactors = FALSE)
}

# The five analyses; returns list(rows = data frame (one row per approach,
# the columns of .review_fit_numbers() plus analysis and note), loto = the
# leave-one-trial-out table, fits = the models (a) to (d)).
.review_dependence <- function(rd = .review_real_data()) {
  ntr <- function(d) length(unique(d$trial))
  fa <- rma(yi = rd$g, sei = rd$se, slab = rd$study, method = "REML")
  one <- rd[!duplicated(rd$trial), , drop = FALSE]
  fb <- rma(yi = one$g, sei = one$se, slab = one$study, method = "REML")
  fc <- .review_real_mv(rd)
  fd <- robust(fc, cluster = rd$trial, clubSandwich = TRUE)
  trials <- unique(rd$trial)
  loto <- do.call(rbind, lapply(trials, function(t) {
    keep <- rd$trial != t
    f <- .review_real_mv(rd[keep, , drop = FALSE])
    data.frame(trial = t, k = as.integer(f$k), estimate = unname(f$beta[1L, 1L]),
               ci.lb = unname(f$ci.lb), ci.ub = unname(f$ci.ub), sigma2.trial = f$sigma2[1L],
               sigma2.within = f$sigma2[2L], stringsAsFactors = FALSE)
  }))
  loto$change <- loto$estimate - unname(fc$beta[1L, 1L])
  big <- which.max(abs(loto$change))
  fe <- .review_real_mv(rd[rd$trial != loto$trial[big], , drop = FALSE])
  rows <- rbind(
    cbind(analysis = "(a) all rows, shared controls split", .review_fit_numbers(fa, trials = ntr(rd))),
    cbind(analysis = "(b) one comparison per trial", .review_fit_numbers(fb, trials = ntr(one))),
    cbind(analysis = "(c) vcalc + rma.mv(~ 1 | trial/comparison)", .review_fit_numbers(fc, trials = ntr(rd))),
    cbind(analysis = "(d) (c) with robust(clubSandwich = TRUE)", .review_fit_numbers(fd, fc, trials = ntr(rd))),
    cbind(analysis = "(e) (c) leaving out one trial", .review_fit_numbers(fe, trials = ntr(rd) - 1L)))
  ref <- rows$estimate[1L]
  chg <- function(j) sprintf("%+.3f vs (a)", rows$estimate[j] - ref)
  rows$note <- c(
    "the published SEs already split the shared waitlists; rows treated as independent",
    paste0(chg(2), "; drops ", paste(rd$study[duplicated(rd$trial)], collapse = "; ")),
    paste0(chg(3), "; arms sharing a control correlated (r = 0.5), trial and comparison levels"),
    sprintf("%s; CR2 SE %.3f (model %.3f), Satterthwaite df %.1f", chg(4), fd$se[1L], fc$se[1L], fd$dfs[1L]),
    sprintf("%s; %d refits: g from %.3f to %.3f, largest change without %s (%+.3f)", chg(5), nrow(loto),
            min(loto$estimate), max(loto$estimate), loto$trial[big], loto$change[big]))
  list(rows = rows, loto = loto, fits = list(a = fa, b = fb, c = fc, d = fd, e = fe))
}
