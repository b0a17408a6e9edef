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

.review_row <- function(analysis, outcome, comparison, fit, est = 1L, data = "simulated") {
  data.frame(analysis = analysis, outcome = outcome, comparison = comparison,
             k = as.integer(fit$k), estimate = unname(fit$beta[est, 1L]),
             ci.lb = unname(fit$ci.lb[est]), ci.ub = unname(fit$ci.ub[est]),
             I2 = unname(fit$I2), published = NA_real_, data = data,
             stringsAsFactors = FALSE)
}

# One forest plot (forest(), R/forest.R) as a PNG file; the title says
# whether the data are simulated.
.review_png <- function(path, file, fit, title, ...) {
  f <- file.path(path, file)
  args <- list(...)
  if (is.null(args$main)) args$main <- title
  if (is.null(args$xlab)) args$xlab <- "Hedges' g (positive favours the intervention)"
  grDevices::png(f, width = 900, height = 260 + 22 * fit$k, res = 110)
  on.exit(grDevices::dev.off())
  do.call(forest, c(list(fit), args))
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
#' review's forest plot).
#'
#' Analyses (Hedges' g from \code{escalc(measure = "SMD")}, random-effects
#' model with REML, 95\% Wald-type CIs):
#' \describe{
#'   \item{main}{each outcome pooled separately for passive and active
#'     controls. Shared control groups of multi-arm trials are split first
#'     (\code{\link{split_shared_control}}, by trial and outcome; this is
#'     where the split happens), so no control participant counts twice.}
#'   \item{outliers_removed}{the main model refitted without outliers, a study
#'     being an outlier when its 95\% CI lies wholly outside the pooled 95\% CI
#'     (Harrer et al. 2021). Reported for every outcome with at least one
#'     outlier, and always for active-control pain interference (the review's
#'     sensitivity analysis).}
#'   \item{subgroup: length / subgroup: contact}{passive-control comparisons
#'     only (the active-control k are too small): a mixed-effects model with a
#'     common tau^2, \code{mods = ~ 0 + group}, gives the estimate per group
#'     (treatment length \code{"shorter (<= 8 weeks)"} vs \code{"longer (> 8
#'     weeks)"}; contact \code{"asynchronous"}, \code{"mixed"},
#'     \code{"synchronous"}); the test of difference is the omnibus QM test of
#'     \code{mods = ~ group}, kept in the attribute \code{moderator_tests}.
#'     Groups with fewer than 2 comparisons are skipped. In these rows
#'     \code{k} is the number of comparisons in the group and \code{I2} the
#'     residual I^2 of the subgroup model.}
#'   \item{real data}{\code{dat.gandy2022_interference}: all 23 rows (the
#'     dependence of the Dear 2015a/b/c and Lin 2017a/b rows through their
#'     shared control groups is ignored: arm sizes are not in the table), one
#'     comparison per trial (the first listed arm), and outliers removed.
#'     Their outcome is labelled \code{"pain interference"} (the source's
#'     interference/disability) and their comparison \code{"any"} (passive
#'     and active controls pooled, as in the source).}
#' }
#'
#' The column \code{published} holds the review's point estimate where its
#' abstract gives one (from \code{\link{dat.terpstra2022_abstract}}), NA
#' elsewhere; the abstract's ranges for the passive-control domains are in the
#' attribute \code{published_ranges} and printed under the table.  Gandy et
#' al. (2022) pooled interference/disability at g = 0.28 (0.21 to 0.35) over
#' more trials than the 23 rows at hand, so that value is only printed as a
#' note, not put in \code{published}.
#'
#' @param path \code{NULL}, or a directory into which forest plots of the main
#'   and real-data analyses are written as PNG files (created if needed).
#' @param data a data frame in the format of \code{dat.terpstra2022_sim}
#'   (default: that SIMULATED dataset). Rows are labelled \code{"simulated"}
#'   when \code{data} carries the attribute \code{simulated = TRUE} (as the
#'   output of \code{\link{simulate_review}} does), \code{"user"} otherwise.
#' @param real include the real-data analyses of
#'   \code{dat.gandy2022_interference} (default \code{TRUE}).
#' @param verbose print the table (default \code{TRUE}).
#' @param ... further arguments passed to \code{forest()}.
#' @return (invisibly) a data frame of class \code{c("mf_review",
#'   "data.frame")}, one row per analysis, with columns \code{analysis},
#'   \code{outcome}, \code{comparison} (control type), \code{k},
#'   \code{estimate}, \code{ci.lb}, \code{ci.ub}, \code{I2} (percent),
#'   \code{published} and \code{data} (\code{"simulated"}, \code{"real"} or
#'   \code{"user"}); attributes \code{moderator_tests} (QM, df, p per outcome
#'   and moderator), \code{outliers} (the studies removed),
#'   \code{published_ranges} and \code{files} (the PNG files written).
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
#' @examples
#' res <- reproduce_review(verbose = FALSE)
#' res[res$analysis == "main", c("outcome", "comparison", "k", "estimate")]
#' @export
reproduce_review <- function(path = NULL, data = metafast::dat.terpstra2022_sim, real = TRUE,
                             verbose = TRUE, ...) {
  label <- "user"
  if (isTRUE(attr(data, "simulated"))) label <- "simulated"
  if (!is.data.frame(data)) .mf_stop("'data' must be a data frame like dat.terpstra2022_sim.")
  need <- c("trial", "study", "control", "outcome", "weeks", "contact",
            "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "shared_control")
  miss <- setdiff(need, names(data))
  if (length(miss))
    .mf_stop(sprintf("'data' lacks the column(s) %s (see ?dat.terpstra2022_sim).",
                     paste0("'", miss, "'", collapse = ", ")))
  if (!is.logical(real) || length(real) != 1L || is.na(real)) .mf_stop("'real' must be TRUE or FALSE.")
  if (!is.logical(verbose) || length(verbose) != 1L || is.na(verbose)) .mf_stop("'verbose' must be TRUE or FALSE.")
  if (!is.null(path)) {
    if (!is.character(path) || length(path) != 1L || is.na(path))
      .mf_stop("'path' must be NULL or a single directory name.")
    dir.create(path, showWarnings = FALSE, recursive = TRUE)
    if (!dir.exists(path)) .mf_stop(sprintf("Cannot create the directory '%s'.", path))
  }
  data <- as.data.frame(data, stringsAsFactors = FALSE)
  # shared controls: split the control n across the comparisons of a trial x outcome
  d <- split_shared_control(data, "trial", "n2i", by = c("outcome", "control"),
                            shared = "shared_control", name = ".n2_split")
  # (columns passed as vectors: no non-standard evaluation in package code)
  es <- escalc(measure = "SMD", m1i = d$m1i, sd1i = d$sd1i, n1i = d$n1i,
               m2i = d$m2i, sd2i = d$sd2i, n2i = d$.n2_split, data = d)
  es <- as.data.frame(es)
  es$length <- factor(ifelse(es$weeks > 8, "longer (> 8 weeks)", "shorter (<= 8 weeks)"),
                      levels = c("shorter (<= 8 weeks)", "longer (> 8 weeks)"))
  es$contact <- factor(es$contact, levels = c("asynchronous", "mixed", "synchronous"))

  outcomes <- unique(c(.review_sim_outcomes$outcome, es$outcome))
  outcomes <- outcomes[outcomes %in% es$outcome]
  rows <- list(); tests <- list(); outl <- list(); files <- character(0)
  for (ctl in c("passive", "active")) {
    for (o in outcomes) {
      sub <- es[es$control == ctl & es$outcome == o & !is.na(es$yi), , drop = FALSE]
      if (nrow(sub) < 2L) next
      fit <- rma(yi = sub$yi, vi = sub$vi, slab = sub$study, method = "REML")
      rows[[length(rows) + 1L]] <- .review_row("main", o, ctl, fit, data = label)
      if (!is.null(path))
        files <- c(files, .review_png(path, paste0(.review_file("forest", label, ctl, o), ".png"), fit,
                                      sprintf("%s data: %s, iCBT vs %s control",
                                              c(simulated = "SIMULATED", user = "User")[[label]], o, ctl), ...))
      ol <- .review_outliers(fit)
      if (length(ol) || (ctl == "active" && o == "pain interference")) {
        keep <- setdiff(seq_len(nrow(sub)), ol)
        if (length(keep) >= 2L) {
          fit2 <- rma(yi = sub$yi[keep], vi = sub$vi[keep], slab = sub$study[keep], method = "REML")
          rows[[length(rows) + 1L]] <- .review_row("outliers_removed", o, ctl, fit2, data = label)
          outl[[length(outl) + 1L]] <- data.frame(outcome = o, comparison = ctl,
                                                  removed = paste(sub$study[ol], collapse = ", "),
                                                  stringsAsFactors = FALSE)
        }
      }
      if (ctl != "passive") next
      for (mod in c("length", "contact")) {
        grp <- droplevels(sub[[mod]])
        ok <- grp %in% names(which(table(grp) >= 2L))
        s2 <- sub[ok, , drop = FALSE]
        s2$grp <- droplevels(grp[ok])
        if (nlevels(s2$grp) < 2L) next
        fg <- rma(yi = s2$yi, vi = s2$vi, mods = ~ 0 + grp, data = s2, method = "REML")
        ft <- rma(yi = s2$yi, vi = s2$vi, mods = ~ grp, data = s2, method = "REML")
        nk <- table(s2$grp)
        for (j in seq_len(nlevels(s2$grp))) {
          r <- .review_row(sprintf("subgroup: %s = %s", mod, levels(s2$grp)[j]), o, ctl, fg, est = j, data = label)
          r$k <- as.integer(nk[j])  # comparisons in the group (the model uses all)
          rows[[length(rows) + 1L]] <- r
        }
        tests[[length(tests) + 1L]] <- data.frame(outcome = o, comparison = ctl, moderator = mod,
                                                  k = as.integer(ft$k), QM = ft$QM, df = as.integer(ft$QMdf[1L]),
                                                  pval = ft$QMp, stringsAsFactors = FALSE)
      }
    }
  }
  if (real) {
    rd <- getExportedValue("metafast", "dat.gandy2022_interference")
    fr <- rma(yi = rd$g, sei = rd$se, slab = rd$study, method = "REML")
    rows[[length(rows) + 1L]] <- .review_row("real: all 23 rows (shared controls ignored)",
                                             "pain interference", "any", fr, data = "real")
    one <- rd[!duplicated(rd$trial), , drop = FALSE]
    f1 <- rma(yi = one$g, sei = one$se, slab = one$study, method = "REML")
    rows[[length(rows) + 1L]] <- .review_row("real: one comparison per trial",
                                             "pain interference", "any", f1, data = "real")
    ol <- .review_outliers(fr)
    if (length(ol)) {
      f2 <- rma(yi = rd$g[-ol], sei = rd$se[-ol], slab = rd$study[-ol], method = "REML")
      rows[[length(rows) + 1L]] <- .review_row("real: outliers_removed",
                                               "pain interference", "any", f2, data = "real")
      outl[[length(outl) + 1L]] <- data.frame(outcome = "pain interference/disability (real)",
                                              comparison = "any",
                                              removed = paste(rd$study[ol], collapse = "; "),
                                              stringsAsFactors = FALSE)
    }
    if (!is.null(path))
      files <- c(files, .review_png(path, "forest_real_gandy2022_interference.png", fr,
                                    "Real data: pain interference/disability (23-row subset, Gandy et al. 2022)", ...))
  }
  res <- do.call(rbind, rows)
  # the review's point values (abstract), from dat.terpstra2022_abstract
  ab <- getExportedValue("metafast", "dat.terpstra2022_abstract")
  pt <- ab[!is.na(ab$es), , drop = FALSE]
  if (label == "simulated") {
    for (j in seq_len(nrow(pt))) {
      hit <- res$analysis == pt$analysis[j] & res$outcome == pt$outcome[j] &
        res$comparison == pt$comparison[j] & res$data == "simulated"
      res$published[hit] <- pt$es[j]
    }
  }
  rownames(res) <- NULL
  attr(res, "moderator_tests") <- if (length(tests)) do.call(rbind, tests) else NULL
  attr(res, "outliers") <- if (length(outl)) do.call(rbind, outl) else NULL
  attr(res, "published_ranges") <- ab[is.na(ab$es), c("outcome", "domain", "comparison", "es_low", "es_high")]
  attr(res, "files") <- files
  class(res) <- c("mf_review", "data.frame")
  if (verbose) print(res)
  invisible(res)
}

#' Print the results of reproduce_review()
#'
#' @param x an \code{mf_review} object from \code{\link{reproduce_review}}.
#' @param digits number of decimals for the estimates.
#' @param ... ignored.
#' @return \code{x}, invisibly.
#' @export
print.mf_review <- function(x, digits = 2, ...) {
  df <- as.data.frame(unclass(x), stringsAsFactors = FALSE)[names(x)]
  fmt <- function(v, d) ifelse(is.na(v), "", formatC(v, format = "f", digits = d))
  short <- sub("^subgroup: ", "", df$analysis)
  short <- sub("^real: ", "", short)
  short <- sub("shorter \\(<= 8 weeks\\)", "<= 8 wk", sub("longer \\(> 8 weeks\\)", "> 8 wk", short))
  short <- sub("all 23 rows \\(shared controls ignored\\)", "all 23 rows", short)
  line <- function(a, o, c, k, e, ci, i2, p)
    sprintf("%-24s %-18s %-7s %3s %6s %-15s %4s %5s", a, o, c, k, e, ci, i2, p)
  heads <- c(simulated = "Simulated data (mirrors the design of Terpstra et al. 2022; NOT the review's data)",
             user = "User data",
             real = "Real data: dat.gandy2022_interference (23-row subset of Gandy et al. 2022, Pain)")
  cat("Hedges' g, random effects (REML), 95% CI; 'published' = Terpstra et al. 2022 (abstract)\n\n")
  for (lab in unique(df$data)) {
    cat("==", heads[[lab]], "==\n")
    cat(line("analysis", "outcome", "control", "k", "g", "95% CI", "I2", "publ."), "\n")
    for (j in which(df$data == lab))
      cat(line(short[j], substr(df$outcome[j], 1, 18), df$comparison[j], df$k[j],
               fmt(df$estimate[j], digits),
               sprintf("[%s, %s]", fmt(df$ci.lb[j], digits), fmt(df$ci.ub[j], digits)),
               paste0(fmt(df$I2[j], 0), "%"), fmt(df$published[j], digits)), "\n")
    cat("\n")
  }
  rng <- attr(x, "published_ranges")
  if (!is.null(rng) && nrow(rng) && any(df$data == "simulated")) {
    cat("Published ranges (Terpstra et al. 2022, abstract; compare with the main rows of each domain):\n")
    for (j in seq_len(nrow(rng)))
      cat(sprintf("  %s, %s controls: ES %.2f to %.2f\n", rng$domain[j], rng$comparison[j],
                  rng$es_low[j], rng$es_high[j]))
  }
  mt <- attr(x, "moderator_tests")
  if (!is.null(mt) && nrow(mt)) {
    cat("Moderator tests (QM, passive controls; review: longer treatments -> larger effects on anxiety\n",
        " and quality of life; pain self-efficacy higher with mixed/synchronous contact):\n", sep = "")
    for (j in seq_len(nrow(mt)))
      cat(sprintf("  %-19s %-8s QM(%d) = %6.2f, p = %.3f\n", mt$outcome[j], mt$moderator[j],
                  mt$df[j], mt$QM[j], mt$pval[j]))
  }
  ol <- attr(x, "outliers")
  if (!is.null(ol) && nrow(ol)) {
    cat("Outliers removed (95% CI wholly outside the pooled 95% CI):\n")
    for (j in seq_len(nrow(ol)))
      cat(sprintf("  %s (%s): %s\n", ol$outcome[j], ol$comparison[j],
                  if (nzchar(ol$removed[j])) ol$removed[j] else "none"))
  }
  if (any(df$data == "real"))
    cat("Real data: Gandy et al. (2022) reported g = 0.28 (95% CI 0.21 to 0.35) over MORE trials;\n",
        "  the 23 rows here are a subset, so the estimates are not expected to match.\n", sep = "")
  invisible(x)
}
