# Output of reproduce_review(): the console table (print.mf_review), the
# CSV tables (csv =) and the self-contained HTML report (report =).

# "p < 0.001" / "p = 0.012"
.review_p <- function(p) {
  ifelse(is.na(p), "p = NA", ifelse(p < 0.001, "p < 0.001", paste("p =", formatC(p, format = "f", digits = 3))))
}

.review_num <- function(v, d) ifelse(is.na(v), "", formatC(v, format = "f", digits = d))

# Short analysis labels for the tables.
.review_short <- function(a) {
  sg <- grepl("^subgroup: ", a)
  b <- sub("^subgroup: ", "", a)
  b <- sub("shorter \\(<= 8 weeks\\)", "<= 8 wk", sub("longer \\(> 8 weeks\\)", "> 8 wk", b))
  b <- sub("asynchronous", "async", sub("synchronous$", "sync", b))
  b[sg] <- sub("^(length|contact) = ", "", b[sg])
  b <- sub("outliers_removed", "outliers out", b)
  sub("^domain: multilevel \\+ RVE$", "domain ML+RVE", b)
}

# The character table of a block of rows (one data source); `control`: keep
# the control column (FALSE when the rows are printed per control type).
.review_format_rows <- function(df, digits = 2, control = TRUE) {
  f <- function(v) .review_num(v, digits)
  i2 <- ifelse(is.na(df$I2), "", paste0(.review_num(df$I2, 0), "%"))
  ml <- !is.na(df$I2.between)
  i2[ml] <- paste0(i2[ml], " (", .review_num(df$I2.between[ml], 0), "/",
                   ifelse(is.na(df$I2.within[ml]), "-", .review_num(df$I2.within[ml], 0)), ")")
  pub <- ifelse(!is.na(df$published), f(df$published),
                ifelse(!is.na(df$published.lb), paste0(f(df$published.lb), "-", f(df$published.ub)), ""))
  flag <- c("outside the published range" = "!range", "published value outside the 95% CI" = "!CI")[df$flag]
  flag[is.na(flag)] <- ""
  out <- data.frame(Analysis = .review_short(df$analysis), Outcome = sub(" outcomes$", " (all)", df$outcome),
                    Control = df$comparison, `k/trials` = paste0(df$k, "/", df$trials),
                    N = ifelse(is.na(df$n), "", format(df$n, trim = TRUE)),
                    `g [95% CI]` = paste0(f(df$estimate), " [", f(df$ci.lb), ", ", f(df$ci.ub), "]"),
                    `95% PI` = ifelse(is.na(df$pi.lb), "", paste0("[", f(df$pi.lb), ", ", f(df$pi.ub), "]")),
                    tau2 = .review_num(df$tau2, 3), I2 = i2, Published = pub, Flag = unname(flag),
                    check.names = FALSE, stringsAsFactors = FALSE)
  if (!control) out$Control <- NULL
  if (all(out$N == "")) out$N <- NULL
  out
}

.review_heads <- c(
  simulated = "SIMULATED data (mirrors the design of Terpstra et al. 2022; NOT the review's data)",
  user = "User data",
  real = "Real data: dat.gandy2022_interference (23-row subset of Gandy et al. 2022, Pain)")

# The moderator tests as a character table.
.review_moderator_table <- function(mt) {
  data.frame(Outcome = mt$outcome, Moderator = mt$moderator,
             `Q-between (df)` = sprintf("%.2f (%d)", mt$Qb, mt$Qb.df), p = sub("^p ", "", .review_p(mt$Qb.p)),
             `QM (df)` = sprintf("%.2f (%d)", mt$QM, mt$df), ` p` = sub("^p ", "", .review_p(mt$pval)),
             `Q within (df)` = sprintf("%.2f (%d)", mt$QE, mt$QEdf), `p ` = sub("^p ", "", .review_p(mt$QEp)),
             `I2 within` = paste0(.review_num(mt$I2, 0), "%"),
             Planted = ifelse(is.na(mt$planted), "", ifelse(mt$planted, "PLANTED", "no")),
             check.names = FALSE, stringsAsFactors = FALSE)
}

#' Print the results of reproduce_review()
#'
#' One table per data source (simulated or user data, real data) with, per
#' analysis: the number of comparisons and trials, participants, Hedges' g
#' with its 95\% CI, the 95\% prediction interval, tau^2, I^2 (for the
#' multilevel rows: total, and between/within trials in parentheses), the
#' published value or range (Terpstra et al. 2022, abstract) and a flag when
#' an estimate lies outside the published range (\code{! range}) or a
#' published value outside the estimate's CI (\code{! CI}).  Then the
#' moderator tests (Q-between and the heterogeneity within the subgroups,
#' saying which effects the simulation planted), what each way of handling
#' the dependence of the real rows changes, and the outliers removed.
#'
#' @param x an \code{mf_review} object from \code{\link{reproduce_review}}.
#' @param digits number of decimals for the estimates.
#' @param ... ignored.
#' @return \code{x}, invisibly.
#' @export
print.mf_review <- function(x, digits = 2, ...) {
  df <- as.data.frame(unclass(x), stringsAsFactors = FALSE)[names(x)]
  cat("Hedges' g (positive favours iCBT), random effects (REML), 95% CI and prediction interval (PI);\n",
      "k/trials: comparisons/trials; N: participants (split control groups counted once);\n",
      "Published: Terpstra et al. 2022 (abstract), a value or the range over a domain's outcomes.\n", sep = "")
  for (lab in unique(df$data)) {
    cat("\n==", .review_heads[[lab]], "==\n")
    for (ctl in unique(df$comparison[df$data == lab])) {
      blk <- df[df$data == lab & df$comparison == ctl, , drop = FALSE]
      if (ctl != "any") cat("-- iCBT vs", ctl, "controls --\n")
      print(.review_format_rows(blk, digits, control = FALSE), row.names = FALSE, right = FALSE)
    }
  }
  if (any(df$flag != "" & df$data == "simulated"))
    cat("\n!range: a SIMULATED estimate outside the published range; !CI: the published value outside\n",
        "  the simulated 95% CI. Simulated data can differ from the review by chance: these flags check the\n",
        "  simulation, not the review.\n", sep = "")
  if (any(!is.na(df$I2.between)))
    cat("I2 of the multilevel rows: total (between trials / within trials).\n")
  if (any(grepl("^subgroup", df$analysis)))
    cat("Subgroup rows (<= 8 wk, > 8 wk: treatment length; async, mixed, sync: contact mode): each\n",
        "  subgroup's own random-effects fit (its own tau2 and I2).\n", sep = "")
  mt <- attr(x, "moderator_tests")
  if (!is.null(mt) && nrow(mt)) {
    cat("\nModerator tests, passive controls: Q-between of the subgroup estimates; QM of the mixed-effects\n",
        "model mods = ~ group (common tau2) and its heterogeneity within the subgroups; Planted: an\n",
        "effect the simulation put in.\n", sep = "")
    print(.review_moderator_table(mt), row.names = FALSE, right = FALSE)
    if (any(mt$planted %in% TRUE))
      cat("  (review: longer treatments -> larger effects on anxiety and quality of life; pain\n",
          "  self-efficacy higher with mixed/synchronous contact. The simulation planted exactly these\n",
          "  effects: a test that finds them shows the method recovers what was put in, not that the\n",
          "  review was right; one that misses them shows the power of so few comparisons.)\n", sep = "")
  }
  if (any(df$data == "real")) {
    cat("\nReal data, the dependence of Dear 2015a/b/c and Lin 2017a/b handled five ways:\n")
    rr <- df[df$data == "real" & grepl("^\\([a-e]\\) ", df$analysis) & !grepl("outliers", df$analysis), , drop = FALSE]
    cat(sprintf("  %s: %s\n", substr(rr$analysis, 1, 3), rr$note), sep = "")
    cat("  Gandy et al. (2022) reported g = 0.28 (95% CI 0.21 to 0.35) over MORE trials; the 23 rows\n",
        "  here are a subset, so the estimates are not expected to match.\n", sep = "")
  }
  ol <- attr(x, "outliers")
  if (!is.null(ol) && nrow(ol)) {
    cat("\nOutliers removed (95% CI wholly outside the pooled 95% CI):\n")
    cat(sprintf("  %s (%s): %s\n", ol$outcome, ol$comparison,
                ifelse(nzchar(ol$removed), ol$removed, "none")), sep = "")
  }
  invisible(x)
}

# csv = "dir": the tables as CSV files (UTF-8); returns the file names.
.review_write_csv <- function(x, dir) {
  out <- c(results = file.path(dir, "review_results.csv"))
  utils::write.csv(as.data.frame(unclass(x), stringsAsFactors = FALSE)[names(x)], out[["results"]],
                   row.names = FALSE, fileEncoding = "UTF-8")
  extra <- list(moderator_tests = attr(x, "moderator_tests"), outliers = attr(x, "outliers"),
                leave_one_trial_out = attr(x, "leave_one_trial_out"),
                published_ranges = attr(x, "published_ranges"))
  for (nm in names(extra)) {
    if (is.null(extra[[nm]])) next
    f <- file.path(dir, paste0("review_", nm, ".csv"))
    utils::write.csv(extra[[nm]], f, row.names = FALSE, fileEncoding = "UTF-8")
    out[[nm]] <- f
  }
  unname(out)
}

# The report needs the markdown package (no pandoc): say how to get it.
.review_report_check <- function(report) {
  if (!grepl("\\.html?$", report, ignore.case = TRUE))
    .mf_stop(sprintf("'report' must name an .html file, not '%s'.", report))
  if (!requireNamespace("markdown", quietly = TRUE))
    .mf_stop(paste0("'report' needs the package 'markdown' (it renders the HTML without pandoc); ",
                    "install it with install.packages(\"markdown\") and run reproduce_review() again."))
}

# A pipe table of a character data frame.
.review_md_table <- function(tab) {
  esc <- function(v) gsub("|", "\\|", v, fixed = TRUE)
  c(paste0("| ", paste(esc(names(tab)), collapse = " | "), " |"),
    paste0("|", paste(rep("---", ncol(tab)), collapse = "|"), "|"),
    apply(tab, 1L, function(r) paste0("| ", paste(esc(r), collapse = " | "), " |")), "")
}

# report = "file.html": a self-contained HTML report (methods, tables, the
# forest plots with prediction intervals, the dependence comparison), written
# from Markdown by the markdown package with the PNGs embedded.
.review_write_report <- function(x, file, files) {
  df <- as.data.frame(unclass(x), stringsAsFactors = FALSE)[names(x)]
  md <- c("---", "title: Reproducing Terpstra et al. (2022) with metafast", "---", "",
          sprintf("Written by metafast %s on %s.", utils::packageVersion("metafast"), format(Sys.Date())), "",
          "## Methods", "",
          paste("The analyses follow the meta-analytic review of guided internet-based CBT for chronic pain",
                "by Terpstra et al. (2022, Internet Interventions 30:100587). Its study-level data were not",
                "available, so the review's analyses run on a SIMULATED dataset that mirrors its design",
                "(33 trials, 5133 participants, eight outcomes in three domains, passive and active controls,",
                "treatment length, contact mode, multi-arm trials; `?dat.terpstra2022_sim`). Effect sizes are",
                "Hedges' g (`escalc(measure = \"SMD\")`); shared control groups of multi-arm trials are split",
                "across their comparisons (Cochrane Handbook 23.3.4). Each outcome is pooled separately for",
                "passive and active controls with a random-effects model (REML, 95% Wald-type CI and",
                "prediction interval). Outliers are studies whose 95% CI lies wholly outside the pooled CI",
                "(Harrer et al. 2021). Subgroups (treatment length, contact mode) are fitted separately and",
                "compared by the Q-between test of a mixed-effects model. Each domain is also analysed with",
                "all its outcomes at once: `vcalc()` for the correlation of outcomes measured on the same",
                sprintf("participants (rho = %.1f, as simulated), a three-level model (trial / outcome) and", .review_sim_rho),
                "CR2 cluster-robust inference with Satterthwaite df (`robust(clubSandwich = TRUE)`).",
                "The real rows (pain interference, a 23-row subset of Gandy et al. 2022) are analysed with",
                "their dependence handled five ways."), "")
  for (lab in unique(df$data)) {
    md <- c(md, paste("##", .review_heads[[lab]]), "",
            .review_md_table(.review_format_rows(df[df$data == lab, , drop = FALSE])))
  }
  mt <- attr(x, "moderator_tests")
  if (!is.null(mt) && nrow(mt)) {
    tab <- .review_moderator_table(mt)
    md <- c(md, "## Moderator analyses (passive controls)", "", .review_md_table(tab))
  }
  if (any(df$data == "real")) {
    rr <- df[df$data == "real", , drop = FALSE]
    md <- c(md, "## Real data: the dependence handled five ways", "",
            .review_md_table(data.frame(Approach = rr$analysis, `What it changes` = rr$note,
                                        check.names = FALSE, stringsAsFactors = FALSE)))
    lo <- attr(x, "leave_one_trial_out")
    if (!is.null(lo))
      md <- c(md, "### Leaving out one trial (model c)", "",
              .review_md_table(data.frame(Trial = lo$trial, k = lo$k,
                                          `g [95% CI]` = sprintf("%.2f [%.2f, %.2f]", lo$estimate, lo$ci.lb, lo$ci.ub),
                                          Change = sprintf("%+.3f", lo$change),
                                          check.names = FALSE, stringsAsFactors = FALSE)))
  }
  forest_files <- files[grepl("^forest", basename(files))]
  funnel_files <- files[grepl("^funnel", basename(files))]
  if (length(forest_files))
    md <- c(md, "## Forest plots", "", sprintf("![%s](%s)\n", basename(forest_files), normalizePath(forest_files)))
  if (length(funnel_files))
    md <- c(md, "## Funnel plots", "", sprintf("![%s](%s)\n", basename(funnel_files), normalizePath(funnel_files)))
  md <- c(md, "## References", "",
          "Terpstra JA, et al. (2022). Internet Interventions 30:100587. doi:10.1016/j.invent.2022.100587", "",
          "Gandy M, et al. (2022). Pain 163(10):e1041-e1053.", "",
          "Harrer M, Cuijpers P, Furukawa TA, Ebert DD (2021). Doing Meta-Analysis with R. Chapman & Hall/CRC.", "",
          "Pustejovsky JE, Tipton E (2018). J Bus Econ Stat 36:672-683.", "")
  markdown::mark_html(text = md, output = file)
  normalizePath(file)
}
