# Documentation of the datasets shipped for the reproduction of Terpstra et al.
# (2022).  The datasets are built by data-raw/review_data.R from the CSV files
# in inst/extdata/ and from simulate_review(2022).

#' Pain interference / disability: 23 per-study effect sizes (real data)
#'
#' Per-study Hedges' g for the outcome pain interference / disability, most
#' probably from Gandy et al. (2022), Pain 163(10):e1041-e1053, supplementary
#' forest-plot table; a 23-row subset (Baumeister 2021 to Menga 2014).
#'
#' Provenance: the rows are a published supplementary forest-plot table of a
#' meta-analysis of internet-delivered cognitive and behavioural interventions
#' for adults with chronic pain, most probably Gandy et al. (2022), which
#' pooled interference/disability at g = 0.28 (95\% CI 0.21 to 0.35) over
#' more trials. The stored table stops after 23 rows in alphabetical order
#' (Baumeister 2021 to Menga 2014), so this is a SUBSET of that analysis and
#' its pooled estimate is not expected to equal 0.28. The source file is
#' shipped as \code{system.file("extdata", "interference_disability_g.csv",
#' package = "metafast")}; \code{data-raw/review_data.R} converts it.
#'
#' Caveats:
#' \itemize{
#'   \item a subset of the source analysis (see above);
#'   \item not the data of Terpstra et al. (2022): several trials are also in
#'     that review, but some rows are unguided or partly unguided programmes,
#'     which Terpstra et al. excluded;
#'   \item rows that share a control group (Dear 2015a/b/c; Lin 2017a/b) are
#'     not independent: their sampling errors are correlated through the
#'     common control group. The table gives no arm sizes, so the control
#'     group cannot be split here (see \code{\link{split_shared_control}} for
#'     data with arm sizes); use one comparison per \code{trial}, or a
#'     multilevel model, as a sensitivity analysis;
#'   \item the letters a/b/c are the source table's; which arm (level of
#'     clinician support, guided or unguided) each letter denotes is not given
#'     in the table;
#'   \item the numbers are rounded to 3 decimals in the source.
#' }
#'
#' @format A data frame with 23 rows and 13 columns:
#' \describe{
#'   \item{study}{label as in the source table, e.g. \code{"Dear, 2015a"}.}
#'   \item{author}{first author.}
#'   \item{year}{publication year (integer).}
#'   \item{g}{Hedges' g, positive values favour the intervention (source column \code{g}).}
#'   \item{se}{standard error of g (source column \code{se}).}
#'   \item{vi}{sampling variance, \code{se^2}. The source's \code{var} column
#'     is the same quantity rounded to 3 decimals (checked by the data-raw
#'     script); \code{se^2} keeps more digits.}
#'   \item{ci.lb, ci.ub}{95\% confidence limits (source \code{ci_lb},
#'     \code{ci_ub}; equal to g -/+ 1.96 se up to rounding).}
#'   \item{z}{z statistic g / se (source).}
#'   \item{p}{two-sided p-value (source).}
#'   \item{trial}{trial identifier shared by the comparisons of one trial:
#'     \code{"Dear 2015"} (rows a, b, c: three intervention arms vs one
#'     waitlist) and \code{"Lin 2017"} (rows a, b: two arms vs one waitlist).
#'     \code{"Buhrman 2013 (CBT)"} and \code{"Buhrman 2013 (ACT)"} are two
#'     separate trials published in 2013 (Buhrman et al., Eur J Pain
#'     17:753-765, 72 participants; Buhrman et al., Behav Res Ther 51:307-315,
#'     76 participants), each with its own control group; their standard
#'     errors fit two trials of that size.}
#'   \item{shared_control}{\code{TRUE} for comparisons that share a control
#'     group with another row (Dear 2015a/b/c, Lin 2017a/b).}
#'   \item{comparison}{label of the comparison: \code{"intervention vs
#'     control"}, \code{"arm a vs shared control"}, \code{"CBT programme vs
#'     control"}, ...}
#' }
#' @source Supplementary forest-plot table (pain interference / disability)
#'   of, most probably, Gandy M, et al. (2022). Internet-delivered cognitive
#'   and behavioural based interventions for adults with chronic pain: a
#'   systematic review and meta-analysis of randomized controlled trials.
#'   \emph{Pain} 163(10):e1041-e1053.
#' @seealso \code{\link{reproduce_review}}
#' @examples
#' rma(yi = g, sei = se, data = dat.gandy2022_interference, slab = study)
#' # one comparison per trial (sensitivity analysis for the shared controls)
#' one <- dat.gandy2022_interference[!duplicated(dat.gandy2022_interference$trial), ]
#' rma(yi = g, sei = se, data = one)
"dat.gandy2022_interference"

#' Abstract-level results of Terpstra et al. (2022)
#'
#' The pooled effect sizes that the abstract of Terpstra et al. (2022)
#' reports for guided internet-based CBT for adults with chronic pain: ranges
#' per outcome domain against passive controls, single values against active
#' controls. These are the numbers \code{\link{reproduce_review}} compares
#' with. Built from \code{system.file("extdata",
#' "seed_abstract_results.csv", package = "metafast")}.
#'
#' @format A data frame with 6 rows and 8 columns:
#' \describe{
#'   \item{outcome}{outcome (or domain, for the ranges).}
#'   \item{domain}{\code{"psychological"}, \code{"physical"} or \code{"impact"}.}
#'   \item{comparison}{control type: \code{"passive"} (waitlist, usual care)
#'     or \code{"active"}.}
#'   \item{analysis}{\code{"main"} or \code{"outliers_removed"} (sensitivity
#'     analysis without outliers).}
#'   \item{es}{the reported effect size (standardized mean difference), NA
#'     where the abstract gives a range.}
#'   \item{es_low, es_high}{the reported range across the domain's outcomes,
#'     NA where a single value is given.}
#'   \item{note}{remarks (\code{""} if none).}
#' }
#' @source Terpstra JA, van der Vaart R, van Beugen S, et al. (2022). Guided internet-based
#'   cognitive-behavioral therapy for patients with chronic pain: A
#'   meta-analytic review. \emph{Internet Interventions} 30:100587.
#'   \doi{10.1016/j.invent.2022.100587} (abstract).
#' @examples
#' dat.terpstra2022_abstract
"dat.terpstra2022_abstract"

#' SIMULATED data mirroring the design of Terpstra et al. (2022)
#'
#' SIMULATED data, NOT the review's data: 33 simulated randomized trials of
#' guided internet-based CBT for chronic pain with 5133 participants in total
#' (each participant counted once), generated by
#' \code{\link{simulate_review}(seed = 2022)} so that every analysis of
#' Terpstra et al. (2022) can be demonstrated; \code{identical(simulate_review(),
#' dat.terpstra2022_sim)} is \code{TRUE}. Only the design (number of trials
#' and participants, outcome domains, passive and active controls, treatment
#' length, therapist contact mode, multi-arm trials) and the true effects come
#' from the review's abstract.
#'
#' True mean effects (Hedges' g, positive favours iCBT), chosen inside the
#' abstract's findings:
#' \itemize{
#'   \item passive controls (abstract: psychological 0.34 to 0.47, physical
#'     0.26 to 0.29, impact 0.38 to 0.41): depression 0.40, anxiety 0.34,
#'     distress 0.47, pain acceptance 0.36, pain self-efficacy 0.42, pain
#'     intensity 0.27, pain interference 0.41, quality of life 0.38;
#'   \item active controls (abstract: distress 0.40, pain acceptance 0.15, pain
#'     interference 0.30 after removing outliers): distress 0.40, pain
#'     acceptance 0.15, pain interference 0.30; not in the abstract, hence
#'     ASSUMED: depression 0.15, anxiety 0.10, pain self-efficacy 0.20, pain
#'     intensity 0.10, quality of life 0.15;
#'   \item moderators (review: longer treatments gave larger effects on
#'     anxiety and quality of life; pain self-efficacy was higher with mixed or
#'     synchronous contact): anxiety and quality of life -0.12 when
#'     \code{weeks <= 8} and +0.12 when \code{weeks > 8}; pain self-efficacy
#'     -0.12 with asynchronous and +0.12 with mixed or synchronous contact;
#'   \item heterogeneity: between-trial SD 0.10 per outcome (a trial effect
#'     with SD 0.08 shared by all outcomes of the trial plus an
#'     outcome-specific SD 0.06), plus SD 0.05 between the arms of a
#'     multi-arm trial;
#'   \item dependence between outcomes: all outcomes of a trial are measured
#'     on the same participants, so the sampling errors of an arm's means are
#'     correlated 0.6 across outcomes (and the true effects 0.64);
#'   \item planted outliers (so that the sensitivity analysis removes
#'     something): two active-control trials with true pain-interference
#'     effects -0.75 and -0.60, one passive-control trial with a depression
#'     effect of 1.55.
#' }
#' Trials: 24 with a passive control (16 waitlist, 8 usual care), 9 with an
#' active control (online discussion forum, psychoeducation, attention
#' control); treatment length 5 to 12 weeks; contact asynchronous (17 trials),
#' mixed (10) or synchronous (6). Four trials have several iCBT arms sharing one
#' control group (one with three arms, three with two). Not every trial reports
#' every outcome. Scores are on a T-score-like scale (control mean about 50, SD
#' 8 to 12) oriented so that higher is better for every outcome (symptom
#' scales reversed).
#'
#' @format A data frame, one row per trial x comparison x outcome:
#' \describe{
#'   \item{trial}{trial number 1 to 33 (shared by the comparisons of a multi-arm trial).}
#'   \item{study}{label of the comparison, \code{"Sim 01"}; arms of a
#'     multi-arm trial get letters, \code{"Sim 07a"}, \code{"Sim 07b"}.}
#'   \item{comparison}{intervention arm: \code{"iCBT"} or \code{"iCBT arm A"}, ...}
#'   \item{control}{\code{"passive"} or \code{"active"}.}
#'   \item{control_type}{\code{"waitlist"}, \code{"usual care"},
#'     \code{"online discussion forum"}, \code{"psychoeducation"} or
#'     \code{"attention control"}.}
#'   \item{outcome}{\code{"depression"}, \code{"anxiety"}, \code{"distress"},
#'     \code{"pain acceptance"}, \code{"pain self-efficacy"}, \code{"pain
#'     intensity"}, \code{"pain interference"} or \code{"quality of life"}.}
#'   \item{domain}{\code{"psychological"}, \code{"physical"} or \code{"impact"}.}
#'   \item{weeks}{treatment length in weeks (integer).}
#'   \item{contact}{therapist contact: \code{"asynchronous"}, \code{"mixed"}
#'     or \code{"synchronous"}.}
#'   \item{m1i, sd1i, n1i}{mean, SD and n of the iCBT arm.}
#'   \item{m2i, sd2i, n2i}{mean, SD and (full) n of the control group.}
#'   \item{shared_control}{\code{TRUE} when the control group is shared by
#'     several comparisons of the trial.}
#'   \item{n_control_split}{the control n after splitting a shared control
#'     group across its comparisons (\code{\link{split_shared_control}});
#'     equals \code{n2i} otherwise. Use it as \code{n2i} in \code{escalc()}
#'     so that no control participant is counted twice.}
#' }
#' The total number of participants is the sum over trials of the iCBT arm
#' sizes plus the (full) control group size: 5133.
#' @source SIMULATED by \code{\link{simulate_review}(seed = 2022)}; the design
#'   mirrors Terpstra JA et al. (2022), Internet Interventions 30:100587,
#'   \doi{10.1016/j.invent.2022.100587}.
#' @seealso \code{\link{reproduce_review}}, \code{\link{dat.terpstra2022_abstract}}
#' @examples
#' d <- dat.terpstra2022_sim[dat.terpstra2022_sim$outcome == "depression" &
#'                           dat.terpstra2022_sim$control == "passive", ]
#' es <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
#'              m2i = m2i, sd2i = sd2i, n2i = n_control_split, data = d)
#' rma(yi, vi, data = es)
"dat.terpstra2022_sim"
