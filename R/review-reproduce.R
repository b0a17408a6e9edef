# reproduce_review(): runs the analyses of Terpstra et al. (2022), Internet
# Interventions 30:100587, on the SIMULATED dataset that mirrors its design
# (dat.terpstra2022_sim) and the real pain-interference table
# (dat.gandy2022_interference), and sets the results beside the review's
# abstract-level numbers (dat.terpstra2022_abstract).

# Outlier rule of the review's sensitivity analysis: a study is an outlier when
# its 95% CI lies wholly outside the 95% CI of the pooled effect (Harrer,
# Cuijpers, Furukawa & Ebert 2021, Doing Meta-Analysis in R, section 5.4.1).
# The toolkit's outlier_analysis(rule = "ci") applies the same rule; it is
# used when present, the local three lines otherwise (and when it refuses,
# e.g. for k < 3).  Returns the used-row numbers (fit$ids) of the outliers.
.review_outliers <- function(fit) {
  oa <- get0("outlier_analysis", envir = asNamespace("metafast"), inherits = FALSE)
  if (is.function(oa)) {
    flag <- tryCatch(oa(fit, rule = "ci")$flag, error = function(e) NULL)
    if (is.logical(flag) && length(flag) == fit$k) return(fit$ids[flag])
  }
  crit <- stats::qnorm(1 - fit$level / 2)
  lo <- fit$yi - crit * sqrt(fit$vi)
  hi <- fit$yi + crit * sqrt(fit$vi)
  fit$ids[hi < fit$ci.lb | lo > fit$ci.ub]
}

# One row of the result table: the analysis labels, the numbers of
# .review_fit_numbers() (R/review-dependence.R) and the published columns,
# filled in later by .review_published().
.review_row <- function(analysis, outcome, comparison, numbers, data, note = "") {
  cbind(data.frame(analysis = analysis, outcome = outcome, comparison = comparison,
                   stringsAsFactors = FALSE),
        numbers,
        data.frame(published = NA_real_, published.lb = NA_real_, published.ub = NA_real_,
                   flag = "", note = note, data = data, stringsAsFactors = FALSE))
}

# Participants of the rows of an analysis: each intervention arm once, plus
# its (split) share of the control group, so no one counts twice.
.review_n <- function(d) {
  u <- d[!duplicated(d$study), , drop = FALSE]
  as.integer(sum(u$n1i + u$.n2_split))
}

.review_ntrials <- function(d) length(unique(d$trial))

# One forest plot (forest(), R/forest.R) as a PNG file; the title says
# whether the data are simulated.
.review_png <- function(path, file, fit, title, extra_rows = 0L, ...) {
  f <- file.path(path, file)
  args <- list(...)
  if (is.null(args$main)) args$main <- title
  if (is.null(args$xlab)) args$xlab <- "Hedges' g (positive favours the intervention)"
  grDevices::png(f, width = 900, height = 260 + 22 * (fit$k + extra_rows), res = 110)
  on.exit(grDevices::dev.off())
  do.call(forest, c(list(fit), args))
  f
}

# A funnel plot (contour-enhanced at 90/95/99%) as a PNG file.
.review_funnel_png <- function(path, file, fit, title) {
  f <- file.path(path, file)
  grDevices::png(f, width = 760, height = 600, res = 110)
  on.exit(grDevices::dev.off())
  funnel(fit, level = c(90, 95, 99), shade = c("white", "gray55", "gray75"), refline = 0,
         legend = list(x = "bottomright"), main = title, xlab = "Hedges' g", cex.main = 0.9)
  f
}

.review_file <- function(...) gsub("[^A-Za-z0-9]+", "_", paste(..., sep = "_"))

#' Reproduce the analyses of Terpstra et al. (2022)
#'
#' Runs the analyses of the meta-analytic review of guided internet-based CBT
#' for chronic pain by Terpstra et al. (2022) and prints them beside the
#' review's abstract-level results.  The review's study-level data were not
#' available, so by default the analyses run on the SIMULATED dataset
#' \code{\link{dat.terpstra2022_sim}}, which mirrors the review's design; the
#' estimates therefore show that the pipeline works, not what the review
#' found.  One real-data analysis is added: the pain interference / disability
#' table \code{\link{dat.gandy2022_interference}} (a 23-row subset of another
#' review's forest plot), with its dependence handled five ways.
#'
#' Analyses (Hedges' g from \code{escalc(measure = "SMD")}, random-effects
#' models with REML, 95\% Wald-type CIs and prediction intervals):
#' \describe{
#'   \item{main}{each outcome pooled separately for passive and active
#'     controls. Shared control groups of multi-arm trials are split first
#'     (\code{\link{split_shared_control}}, by trial and outcome), so no
#'     control participant counts twice.}
#'   \item{outliers_removed}{the main model refitted without outliers, a study
#'     being an outlier when its 95\% CI lies wholly outside the pooled 95\% CI
#'     (Harrer et al. 2021). Reported for every outcome with at least one
#'     outlier, and always for active-control pain interference (the review's
#'     sensitivity analysis).}
#'   \item{subgroup: length / subgroup: contact}{passive-control comparisons
#'     only (the active-control k are too small): each subgroup's own
#'     random-effects fit (treatment length \code{"shorter (<= 8 weeks)"} vs
#'     \code{"longer (> 8 weeks)"}; contact \code{"asynchronous"},
#'     \code{"mixed"}, \code{"synchronous"}; groups with fewer than 2
#'     comparisons are skipped), from \code{\link{subgroups}}.  The tests of
#'     difference (attribute \code{moderator_tests}) are Q-between of the
#'     subgroup estimates (\code{Qb}, Borenstein et al. 2009) and the QM test
#'     of the mixed-effects model \code{mods = ~ group} with a common tau^2;
#'     that model's residual heterogeneity (\code{QE}, \code{tau2},
#'     \code{I2}) is the heterogeneity within the subgroups, and the column
#'     \code{planted} says which effects the simulation put in.}
#'   \item{domain: multilevel + RVE}{all outcomes of a domain at once, as the
#'     review's domain-level summaries: \code{\link{vcalc}} for the
#'     correlation of outcomes measured on the same participants (rho = 0.6,
#'     the value the simulation uses; the arms of a multi-arm trial are
#'     independent subgroups after the split), \code{rma.mv(random = ~ 1 |
#'     trial/outcome)}, and CR2 cluster-robust inference by trial with
#'     Satterthwaite df (\code{robust(clubSandwich = TRUE)}).  \code{I2.between}
#'     and \code{I2.within} give the multilevel I^2 (\code{\link{i2_levels}}).}
#'   \item{real data}{\code{dat.gandy2022_interference}, the dependence of
#'     Dear 2015a/b/c and Lin 2017a/b (arms sharing a waitlist) handled as
#'     (a) all rows with the published, split-control SEs, (b) one comparison
#'     per trial, (c) \code{vcalc(grp1 =, grp2 =)} for the shared control plus
#'     \code{rma.mv(random = ~ 1 | trial/comparison)}, (d) (c) with
#'     \code{robust(clubSandwich = TRUE)}, (e) (c) leaving out the trial whose
#'     removal changes the estimate most (every trial's refit in the attribute
#'     \code{leave_one_trial_out}); and (a) without outliers.  The column
#'     \code{note} says what each choice changes.  Their outcome is labelled
#'     \code{"pain interference"} and their comparison \code{"any"} (passive
#'     and active controls pooled, as in the source).}
#' }
#'
#' \code{published} holds the review's point estimate where its abstract
#' gives one, \code{published.lb} / \code{published.ub} the abstract's range
#' for the passive-control domains (for the main row of each outcome of the
#' domain and for the domain row); \code{flag} is \code{"outside the published
#' range"} or \code{"published value outside the 95\% CI"}.  Published values
#' are not set for the real rows (another review's data): Gandy et al. (2022)
#' pooled interference/disability at g = 0.28 (0.21 to 0.35) over more trials
#' than the 23 rows at hand, which is printed as a note.
#'
#' @param path \code{NULL}, or a directory into which the forest plots (with
#'   prediction intervals; by subgroup where the review reported a moderator
#'   effect) and funnel plots (analyses with k >= 10) are written as PNG files
#'   (created if needed).
#' @param data a data frame in the format of \code{dat.terpstra2022_sim}
#'   (default: that SIMULATED dataset). Rows are labelled \code{"simulated"}
#'   when \code{data} carries the attribute \code{simulated = TRUE} (as the
#'   output of \code{\link{simulate_review}} does), \code{"user"} otherwise.
#' @param real include the real-data analyses of
#'   \code{dat.gandy2022_interference} (default \code{TRUE}).
#' @param verbose print the table (default \code{TRUE}).
#' @param report \code{NULL}, or the name of an \code{.html} file: a
#'   self-contained HTML report (methods paragraph, the tables, the moderator
#'   tests, the dependence comparison, forest and funnel plots embedded) is
#'   written there.  It needs the package \pkg{markdown} (no pandoc); without
#'   it the error says how to install it.
#' @param csv \code{NULL}, or a directory: the result table and the tables of
#'   its attributes are written there as UTF-8 CSV files.
#' @param ... further arguments passed to \code{forest()}.
#' @return (invisibly) a data frame of class \code{c("mf_review",
#'   "data.frame")}, one row per analysis, with columns \code{analysis},
#'   \code{outcome}, \code{comparison} (control type), \code{k} (comparisons),
#'   \code{trials}, \code{n} (participants; NA for the real rows),
#'   \code{estimate}, \code{ci.lb}, \code{ci.ub}, \code{pval}, \code{pi.lb},
#'   \code{pi.ub}, \code{tau2} (the sum of the variance components for
#'   multilevel rows), \code{I2} (percent), \code{I2.between},
#'   \code{I2.within}, \code{published}, \code{published.lb},
#'   \code{published.ub}, \code{flag}, \code{note} and \code{data}
#'   (\code{"simulated"}, \code{"real"} or \code{"user"}); attributes
#'   \code{moderator_tests}, \code{outliers}, \code{published_ranges},
#'   \code{leave_one_trial_out}, \code{files} (the PNG files written to
#'   \code{path}), and \code{csv} / \code{report} (the files written).
#' @references Terpstra JA, van der Vaart R, van Beugen S, et al. (2022).
#'   Guided internet-based cognitive-behavioral therapy for patients with
#'   chronic pain: A meta-analytic review. \emph{Internet Interventions}
#'   30:100587. \doi{10.1016/j.invent.2022.100587}
#'
#'   Harrer M, Cuijpers P, Furukawa TA, Ebert DD (2021). \emph{Doing
#'   Meta-Analysis with R: A Hands-On Guide}. Chapman & Hall/CRC (section
#'   5.4.1, outlier removal).
#'
#'   Gandy M, et al. (2022). Internet-delivered cognitive
#'   and behavioural based interventions for adults with chronic pain: a
#'   systematic review and meta-analysis of randomized controlled trials.
#'   \emph{Pain} 163(10):e1041-e1053.
#'
#'   Pustejovsky JE, Tipton E (2018). Small-sample methods for
#'   cluster-robust variance estimation and hypothesis testing in fixed
#'   effects models. \emph{J Bus Econ Stat} 36:672-683.
#' @examples
#' res <- reproduce_review(verbose = FALSE)
#' res[res$analysis == "main", c("outcome", "comparison", "k", "estimate", "flag")]
#' \donttest{
#' out <- file.path(tempdir(), "terpstra")
#' if (requireNamespace("markdown", quietly = TRUE))
#'   reproduce_review(report = file.path(out, "report.html"), csv = out, verbose = FALSE)
#' }
#' @export
reproduce_review <- function(path = NULL, data = metafast::dat.terpstra2022_sim, real = TRUE,
                             verbose = TRUE, report = NULL, csv = NULL, ...) {
  label <- "user"
  if (isTRUE(attr(data, "simulated"))) label <- "simulated"
  if (!is.data.frame(data)) .mf_stop("'data' must be a data frame like dat.terpstra2022_sim.")
  need <- c("trial", "study", "control", "outcome", "domain", "weeks", "contact",
            "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "shared_control")
  miss <- setdiff(need, names(data))
  if (length(miss))
    .mf_stop(sprintf("'data' lacks the column(s) %s (see ?dat.terpstra2022_sim).",
                     paste0("'", miss, "'", collapse = ", ")))
  if (!is.logical(real) || length(real) != 1L || is.na(real)) .mf_stop("'real' must be TRUE or FALSE.")
  if (!is.logical(verbose) || length(verbose) != 1L || is.na(verbose)) .mf_stop("'verbose' must be TRUE or FALSE.")
  one_path <- function(x, arg) {
    if (!is.null(x) && (!is.character(x) || length(x) != 1L || is.na(x) || !nzchar(x)))
      .mf_stop(sprintf("'%s' must be NULL or a single file or directory name.", arg))
  }
  one_path(path, "path"); one_path(report, "report"); one_path(csv, "csv")
  if (!is.null(report)) {
    .review_report_check(report)
    .review_mkdir(dirname(report), "report")
  }
  if (!is.null(path)) .review_mkdir(path, "path")
  if (!is.null(csv)) .review_mkdir(csv, "csv")
  # plots for the report go to a temporary directory unless 'path' is given
  plot_dir <- path
  if (is.null(plot_dir) && !is.null(report)) {
    plot_dir <- tempfile("metafast-review-")
    dir.create(plot_dir)
    on.exit(unlink(plot_dir, recursive = TRUE), add = TRUE)
  }

  es <- .review_effects(data)
  outcomes <- unique(c(.review_sim_outcomes$outcome, es$outcome))
  outcomes <- outcomes[outcomes %in% es$outcome]
  rows <- list(); tests <- list(); outl <- list(); files <- character(0)
  add <- function(r) rows[[length(rows) + 1L]] <<- r
  for (ctl in c("passive", "active")) {
    for (o in outcomes) {
      sub <- es[es$control == ctl & es$outcome == o & !is.na(es$yi), , drop = FALSE]
      if (nrow(sub) < 2L) next
      fit <- rma(yi = sub$yi, vi = sub$vi, slab = sub$study, method = "REML")
      add(.review_row("main", o, ctl, .review_fit_numbers(fit, trials = .review_ntrials(sub), n = .review_n(sub)),
                      data = label))
      if (!is.null(plot_dir))
        files <- c(files, .review_png(plot_dir, paste0(.review_file("forest", label, ctl, o), ".png"), fit,
                                      sprintf("%s data: %s, iCBT vs %s control",
                                              c(simulated = "SIMULATED", user = "User")[[label]], o, ctl),
                                      addpred = TRUE, ...))
      if (!is.null(plot_dir) && fit$k >= 10L)
        files <- c(files, .review_funnel_png(plot_dir, paste0(.review_file("funnel", label, ctl, o), ".png"), fit,
                                             sprintf("%s data: %s, iCBT vs %s control",
                                                     c(simulated = "SIMULATED", user = "User")[[label]], o, ctl)))
      ol <- .review_outliers(fit)
      if (length(ol) || (ctl == "active" && o == "pain interference")) {
        keep <- setdiff(seq_len(nrow(sub)), ol)
        if (length(keep) >= 2L) {
          s2 <- sub[keep, , drop = FALSE]
          fit2 <- rma(yi = s2$yi, vi = s2$vi, slab = s2$study, method = "REML")
          add(.review_row("outliers_removed", o, ctl,
                          .review_fit_numbers(fit2, trials = .review_ntrials(s2), n = .review_n(s2)), data = label,
                          note = if (length(ol)) paste("without", paste(sub$study[ol], collapse = ", ")) else "no outlier"))
          outl[[length(outl) + 1L]] <- data.frame(outcome = o, comparison = ctl,
                                                  removed = paste(sub$study[ol], collapse = ", "),
                                                  stringsAsFactors = FALSE)
        }
      }
      if (ctl != "passive") next
      for (mod in c("length", "contact")) {
        sg <- .review_subgroups(sub, mod, o, ctl, label)
        if (is.null(sg)) next
        # forest plots by subgroup where the review reported a moderator effect
        if (!is.null(plot_dir) && any(.review_sim_planted$outcome == o & .review_sim_planted$moderator == mod))
          files <- c(files, .review_png(plot_dir, paste0(.review_file("forest", label, ctl, o, "by", mod), ".png"), fit,
                                        sprintf("%s data: %s by %s, iCBT vs %s control",
                                                c(simulated = "SIMULATED", user = "User")[[label]], o,
                                                c(length = "treatment length", contact = "contact mode")[[mod]], ctl),
                                        subgroup = sub[[mod]], addpred = TRUE, extra_rows = 3L * nlevels(droplevels(sub[[mod]])), ...))
        for (r in sg$rows) add(r)
        tests[[length(tests) + 1L]] <- sg$test
      }
    }
    # the domain level: all outcomes of a domain in one multilevel model with
    # cluster-robust inference (trial / outcome-within-trial)
    for (dom in unique(.review_sim_outcomes$domain)) {
      sub <- es[es$control == ctl & es$domain == dom & !is.na(es$yi), , drop = FALSE]
      if (.review_ntrials(sub) < 3L) next
      add(.review_domain_row(sub, dom, ctl, label))
    }
  }
  dep <- NULL
  if (real) {
    rd <- .review_real_data()
    dep <- .review_dependence(rd)
    for (j in seq_len(nrow(dep$rows)))
      add(.review_row(dep$rows$analysis[j], "pain interference", "any",
                      dep$rows[j, setdiff(names(dep$rows), c("analysis", "note"))], data = "real",
                      note = dep$rows$note[j]))
    fa <- dep$fits$a
    ol <- .review_outliers(fa)
    if (length(ol)) {
      f2 <- rma(yi = rd$g[-ol], sei = rd$se[-ol], slab = rd$study[-ol], method = "REML")
      add(.review_row("(a) outliers_removed", "pain interference", "any",
                      .review_fit_numbers(f2, trials = .review_ntrials(rd[-ol, ])), data = "real",
                      note = paste("without", paste(rd$study[ol], collapse = ", "))))
      outl[[length(outl) + 1L]] <- data.frame(outcome = "pain interference/disability (real)",
                                              comparison = "any",
                                              removed = paste(rd$study[ol], collapse = "; "),
                                              stringsAsFactors = FALSE)
    }
    if (!is.null(plot_dir))
      files <- c(files, .review_png(plot_dir, "forest_real_gandy2022_interference.png", fa,
                                    "Real data: pain interference/disability (23-row subset, Gandy et al. 2022)",
                                    addpred = TRUE, ...))
  }
  res <- do.call(rbind, rows)
  rownames(res) <- NULL
  ab <- getExportedValue("metafast", "dat.terpstra2022_abstract")
  res <- .review_published(res, ab)
  attr(res, "moderator_tests") <- if (length(tests)) do.call(rbind, tests) else NULL
  attr(res, "outliers") <- if (length(outl)) do.call(rbind, outl) else NULL
  attr(res, "published_ranges") <- ab[is.na(ab$es), c("outcome", "domain", "comparison", "es_low", "es_high")]
  attr(res, "leave_one_trial_out") <- if (!is.null(dep)) dep$loto else NULL
  attr(res, "files") <- if (!is.null(path)) files else character(0)
  class(res) <- c("mf_review", "data.frame")
  if (!is.null(csv)) attr(res, "csv") <- .review_write_csv(res, csv)
  if (!is.null(report)) attr(res, "report") <- .review_write_report(res, report, files)
  if (verbose) print(res)
  invisible(res)
}

.review_mkdir <- function(dir, arg) {
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  if (!dir.exists(dir)) .mf_stop(sprintf("'%s': cannot create the directory '%s'.", arg, dir))
}

# Hedges' g of every row (shared controls split first, by trial, outcome and
# control type: split_shared_control(), Cochrane Handbook 23.3.4), with the
# moderator factors.
.review_effects <- function(data) {
  data <- as.data.frame(data, stringsAsFactors = FALSE)
  d <- split_shared_control(data, "trial", "n2i", by = c("outcome", "control"),
                            shared = "shared_control", name = ".n2_split")
  # (columns passed as vectors: no non-standard evaluation in package code)
  es <- escalc(measure = "SMD", m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i,
               m2i = d$m2i, sd2i = d$sd2i, n2i = d$.n2_split, data = d)
  es <- as.data.frame(es)
  es$length <- factor(ifelse(es$weeks > 8, "longer (> 8 weeks)", "shorter (<= 8 weeks)"),
                      levels = c("shorter (<= 8 weeks)", "longer (> 8 weeks)"))
  es$contact <- factor(es$contact, levels = c("asynchronous", "mixed", "synchronous"))
  es$esid <- seq_len(nrow(es))
  es
}

# Subgroups of one outcome by a moderator (groups with >= 2 comparisons),
# by subgroups() (R/subgroup.R): each group's own random-effects fit (its
# estimate, tau2 and I2), Q-between of the subgroup estimates (Borenstein et
# al. 2009, ch. 19), and the mixed-effects model mods = ~ group with a common
# tau2, whose QM tests the same difference and whose QE, residual tau2 and
# I2 are the heterogeneity within the subgroups.
.review_subgroups <- function(sub, mod, o, ctl, label) {
  grp <- droplevels(sub[[mod]])
  ok <- grp %in% names(which(table(grp) >= 2L))
  s2 <- sub[ok, , drop = FALSE]
  s2$grp <- droplevels(grp[ok])
  if (nlevels(s2$grp) < 2L) return(NULL)
  fit <- rma(yi = s2$yi, vi = s2$vi, method = "REML")
  sg <- subgroups(fit, by = s2$grp)
  rows <- lapply(levels(s2$grp), function(g) {
    .review_row(sprintf("subgroup: %s = %s", mod, g), o, ctl,
                .review_fit_numbers(sg$fits[[g]], trials = .review_ntrials(s2[s2$grp == g, ]),
                                    n = .review_n(s2[s2$grp == g, ])),
                data = label, note = "own fit of the subgroup")
  })
  ft <- sg$mods.fit
  planted <- label == "simulated" &&
    any(.review_sim_planted$outcome == o & .review_sim_planted$moderator == mod)
  test <- data.frame(outcome = o, comparison = ctl, moderator = mod, k = as.integer(ft$k),
                     Qb = sg$Qb, Qb.df = as.integer(sg$Qb.df), Qb.p = sg$Qb.p,
                     QM = ft$QM, df = as.integer(ft$QMdf[1L]), pval = ft$QMp,
                     QE = ft$QE, QEdf = as.integer(ft$k - ft$p), QEp = ft$QEp, tau2 = ft$tau2, I2 = ft$I2,
                     planted = if (label == "simulated") planted else NA,
                     stringsAsFactors = FALSE)
  list(rows = rows, test = test)
}

# All outcomes of one domain: V from vcalc() (outcomes of a comparison
# correlated .review_sim_rho, as the simulation generated them; the arms of a
# multi-arm trial are independent subgroups because their control group was
# split), a three-level model (trial / outcome within trial), and CR2
# cluster-robust inference by trial with Satterthwaite df (Pustejovsky &
# Tipton 2018), the "correlated and hierarchical effects" working model.
.review_domain_row <- function(sub, dom, ctl, label) {
  V <- vcalc(vi = sub$vi, cluster = sub$trial, subgroup = sub$study, obs = sub$outcome,
             rho = .review_sim_rho)
  fit <- rma.mv(yi = sub$yi, V = V, random = list(~ 1 | trial / esid), data = sub, slab = sub$study)
  rob <- robust(fit, cluster = sub$trial, clubSandwich = TRUE)
  .review_row("domain: multilevel + RVE", paste(dom, "outcomes"), ctl,
              .review_fit_numbers(rob, fit, trials = .review_ntrials(sub), n = .review_n(sub)), data = label,
              note = sprintf("%d outcomes; vcalc(rho = %.1f), ~ 1 | trial/outcome, CR2 (df %.1f)",
                             length(unique(sub$outcome)), .review_sim_rho, rob$dfs[1L]))
}

# The published values (Terpstra et al. 2022, abstract): point values where
# the abstract gives one (flagged when outside the 95% CI), and the domain
# ranges of the passive-control comparisons for the main rows of each
# outcome of the domain and for the domain row (flagged when the estimate is
# outside the range).  Not for the real rows (another review's data).
.review_published <- function(res, ab) {
  own <- res$data != "real"
  dom <- .review_sim_outcomes$domain[match(res$outcome, .review_sim_outcomes$outcome)]
  dom[grepl(" outcomes$", res$outcome)] <- sub(" outcomes$", "", res$outcome[grepl(" outcomes$", res$outcome)])
  for (j in seq_len(nrow(ab))) {
    if (!is.na(ab$es[j])) {
      hit <- own & res$analysis == ab$analysis[j] & res$outcome == ab$outcome[j] & res$comparison == ab$comparison[j]
      res$published[hit] <- ab$es[j]
      out <- hit & (ab$es[j] < res$ci.lb | ab$es[j] > res$ci.ub)
      res$flag[out] <- "published value outside the 95% CI"
    } else {
      hit <- own & res$comparison == ab$comparison[j] & dom %in% ab$domain[j] &
        res$analysis %in% c("main", "domain: multilevel + RVE")
      res$published.lb[hit] <- ab$es_low[j]
      res$published.ub[hit] <- ab$es_high[j]
      out <- hit & (res$estimate < ab$es_low[j] | res$estimate > ab$es_high[j])
      res$flag[out] <- "outside the published range"
    }
  }
  res
}
