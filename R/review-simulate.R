# simulate_review(): the SIMULATED dataset dat.terpstra2022_sim, which mirrors
# the design (not the data) of Terpstra et al. (2022), Internet Interventions
# 30:100587.  The true effects are the review's abstract-level findings; every
# assumption is listed in .review_sim_effects() and in R/review-data.R.
# split_shared_control(): Cochrane Handbook (Higgins et al.) ch. 23.3.4.

# Outcomes of the three domains of the review (abstract), in print order.
.review_sim_outcomes <- data.frame(
  outcome = c("depression", "anxiety", "distress", "pain acceptance",
              "pain self-efficacy", "pain intensity", "pain interference",
              "quality of life"),
  domain = c(rep("psychological", 5), "physical", "impact", "impact"),
  stringsAsFactors = FALSE
)

# True mean effects (Hedges' g, positive = favours iCBT) used by simulate_review().
# passive: inside the abstract's ranges (psychological 0.34-0.47, physical
#   0.26-0.29, impact 0.38-0.41); active: distress 0.40, pain acceptance 0.15,
#   pain interference 0.30 (the review's value after outlier removal) as
#   reported; the other active-control values are ASSUMPTIONS (the abstract
#   gives none).
# Moderators (review: longer treatments larger effects on anxiety and quality of
#   life; pain self-efficacy higher with mixed or synchronous contact):
#   anxiety, quality of life: -0.12 when weeks <= 8, +0.12 when weeks > 8;
#   pain self-efficacy: -0.12 with asynchronous, +0.12 with mixed/synchronous
#   contact, around the values below.
.review_sim_effects <- function() {
  data.frame(
    outcome = .review_sim_outcomes$outcome,
    passive = c(0.40, 0.34, 0.47, 0.36, 0.42, 0.27, 0.41, 0.38),
    active  = c(0.15, 0.10, 0.40, 0.15, 0.20, 0.10, 0.30, 0.15),
    stringsAsFactors = FALSE
  )
}

# The moderator effects simulate_review() plants (see .review_sim_effects()),
# so that reproduce_review() can say which "confirmed" moderators it planted.
.review_sim_planted <- data.frame(
  outcome = c("anxiety", "quality of life", "pain self-efficacy"),
  moderator = c("length", "length", "contact"),
  effect = c("-0.12 when <= 8 weeks, +0.12 when > 8 weeks", "-0.12 when <= 8 weeks, +0.12 when > 8 weeks",
             "-0.12 with asynchronous, +0.12 with mixed or synchronous contact"),
  stringsAsFactors = FALSE
)

# Correlation of the outcome scores of one participant (all outcomes of a
# trial are measured on the same participants): the sampling errors of one
# arm's means across outcomes are equicorrelated with this value.  The domain
# analyses of reproduce_review() assume the same value in vcalc().
.review_sim_rho <- 0.6

# Split integer n into m parts that differ by at most one and sum to n
# (the larger parts first).
.review_split_n <- function(n, m) {
  base <- n %/% m
  base + c(rep(1L, n %% m), rep(0L, m - n %% m))
}

# Column name given as a string, an unquoted name, or a variable holding a string.
.review_colname <- function(expr, arg, data, env) {
  if (is.character(expr) && length(expr) == 1L) return(expr)
  if (is.name(expr)) {
    nm <- as.character(expr)
    if (nm %in% names(data)) return(nm)
    val <- get0(nm, envir = env)
    if (is.character(val) && length(val) == 1L) return(val)
    return(nm)
  }
  .mf_stop(sprintf("'%s' must name a column of 'data' (a string or an unquoted name).", arg))
}

#' Split a shared control group across the comparisons that use it
#'
#' In a multi-arm trial in which several intervention arms are compared with
#' one control group, using the full control group in every comparison counts
#' its participants more than once and makes the comparisons look more precise
#' than they are.  Following the Cochrane Handbook (Higgins et al., chapter
#' 23.3.4), the control group's sample size is split as evenly as possible
#' across the comparisons (its mean and SD are kept): the parts differ by at
#' most one (floor/ceiling, larger parts first) and sum to the original n, so
#' every control participant is counted exactly once.
#'
#' Rows are grouped by \code{trial} and the columns named in \code{by}
#' (for example the outcome); within a group the rows with \code{shared} TRUE
#' share one control group, so their \code{n2i} must be equal.
#'
#' @param data a data frame with one row per comparison (and outcome).
#' @param trial column of \code{data} identifying the trial (string or
#'   unquoted name).
#' @param n2i column holding the control group's (full) sample size.
#' @param by character vector of further grouping columns, e.g.
#'   \code{"outcome"}; \code{NULL} for none.
#' @param shared optional logical column: TRUE for rows whose control group is
#'   shared with other rows of the same group.  \code{NULL} (default) means
#'   every group with more than one row shares its control group.
#' @param name name of the column added to the result.
#' @return \code{data} with an integer column \code{name}: the split control n
#'   for shared rows, \code{n2i} otherwise.
#' @references Higgins JPT, Li T, Deeks JJ (eds). Chapter 6 and chapter 23:
#'   Including variants on randomized trials (section 23.3.4, multi-arm
#'   studies). In: Higgins JPT et al. (eds). Cochrane Handbook for Systematic
#'   Reviews of Interventions, version 6.3, 2022.
#' @examples
#' d <- data.frame(trial = c(1, 1, 1, 2), n2i = c(61, 61, 61, 40),
#'                 shared = c(TRUE, TRUE, TRUE, FALSE))
#' split_shared_control(d, trial, n2i, shared = "shared")
#' @export
split_shared_control <- function(data, trial = "trial", n2i = "n2i", by = NULL,
                                 shared = NULL, name = "n_control_split") {
  if (!is.data.frame(data)) .mf_stop("'data' must be a data frame.")
  trial <- .review_colname(substitute(trial), "trial", data, parent.frame())
  n2i <- .review_colname(substitute(n2i), "n2i", data, parent.frame())
  if (!is.null(by) && !is.character(by)) .mf_stop("'by' must be a character vector of column names.")
  if (!is.null(shared) && !(is.character(shared) && length(shared) == 1L))
    .mf_stop("'shared' must be NULL or the name of a logical column.")
  if (!is.character(name) || length(name) != 1L || is.na(name) || !nzchar(name))
    .mf_stop("'name' must be a single column name.")
  miss <- setdiff(c(trial, n2i, by, shared), names(data))
  if (length(miss))
    .mf_stop(sprintf("Column(s) %s not found in 'data'.", paste0("'", miss, "'", collapse = ", ")))
  n <- .mf_numeric(data[[n2i]], n2i)
  bad <- is.na(n) | n < 1 | n != round(n)
  if (any(bad)) .mf_stop(sprintf("'%s' must hold whole numbers >= 1; see %s.", n2i, .mf_rows(bad)))
  sh <- if (is.null(shared)) rep(TRUE, nrow(data)) else data[[shared]]
  if (!is.logical(sh) || anyNA(sh))
    .mf_stop(sprintf("Column '%s' must be logical without NA.", shared))
  out <- as.integer(n)
  keys <- interaction(data[c(trial, by)], drop = TRUE, lex.order = TRUE)
  for (g in split(seq_len(nrow(data)), keys)) {
    g <- g[sh[g]]
    if (length(g) < 2L) next
    if (length(unique(n[g])) != 1L)
      .mf_stop(sprintf("Rows sharing a control group must have the same '%s'; they differ in %s.",
                       n2i, .mf_rows(seq_len(nrow(data)) %in% g)))
    if (n[g[1L]] < length(g))
      .mf_stop(sprintf("A control group of n = %d cannot be split across %d comparisons (%s).",
                       as.integer(n[g[1L]]), length(g), .mf_rows(seq_len(nrow(data)) %in% g)))
    out[g] <- .review_split_n(as.integer(n[g[1L]]), length(g))
  }
  data[[name]] <- out
  # every column a copy (c() allocates), so that the result never aliases the caller's table
  # (a data.table changed in place by set() or := would otherwise change it too)
  for (j in seq_along(data)) if (!identical(names(data)[j], name)) data[[j]] <- .mf_copy_column(data[[j]])
  data
}

# A column copied with its attributes (factor levels, classes).
.mf_copy_column <- function(x) {
  y <- c(unclass(x))
  attributes(y) <- attributes(x)
  y
}

#' Simulate a dataset with the design of Terpstra et al. (2022)
#'
#' Generates the SIMULATED dataset \code{\link{dat.terpstra2022_sim}}: 33
#' randomized trials of guided internet-based CBT for chronic pain with 5133
#' participants in total, per-arm means, SDs and sample sizes for eight
#' outcomes of the review's three domains, passive (waitlist, usual care) and
#' active controls, treatment length, therapist contact mode, and multi-arm
#' trials with a shared control group.  The numbers are NOT the review's data
#' (which were not available); only the design and the true effects come from
#' the review's abstract.
#'
#' Generating model (per trial \eqn{i}, outcome \eqn{o}, intervention arm
#' \eqn{a}): true standardized effect \eqn{\theta_{ioa} = \mu_{o,c} +
#' \delta_{io} + u_i + u_{io} + w_{ioa}} where \eqn{\mu_{o,c}} is the true mean for
#' control type \eqn{c} (see \code{\link{dat.terpstra2022_sim}} for the
#' values), \eqn{\delta} the moderator shift (+/-0.12 for treatment length on
#' anxiety and quality of life, +/-0.12 for contact mode on pain self-efficacy),
#' \eqn{u_i \sim N(0, 0.08^2)} a trial effect shared by all its outcomes,
#' \eqn{u_{io} \sim N(0, 0.06^2)} an outcome-specific deviation (so the
#' between-trial SD of one outcome is 0.10 and two outcomes of a trial have
#' true effects correlated 0.64) and \eqn{w \sim N(0, 0.05^2)} an arm
#' deviation in multi-arm trials.  The outcomes of a trial are measured on the
#' same participants: the sampling errors of an arm's means are correlated 0.6
#' across outcomes.  Three outlying effects are
#' planted (two in active-control pain interference, one in passive-control
#' depression).  All scores are on a T-score-like scale (control mean about 50,
#' SD 8 to 12) oriented so that higher is better; the observed means are drawn
#' from their sampling distributions and the SDs from scaled chi-square
#' distributions, rounded to two decimals.
#'
#' The caller's random-number state is restored on exit.
#'
#' @param seed integer seed; \code{2022} gives the shipped dataset.
#' @return A data frame in long format, one row per trial x comparison x
#'   outcome, with the columns described in \code{\link{dat.terpstra2022_sim}}
#'   and the attribute \code{simulated = TRUE}.
#' @references Terpstra JA, van der Vaart R, van Beugen S, et al. (2022).
#'   Guided internet-based cognitive-behavioral therapy for patients with
#'   chronic pain: A meta-analytic review. \emph{Internet Interventions}
#'   30:100587. \doi{10.1016/j.invent.2022.100587}
#' @examples
#' sim <- simulate_review(2022)
#' identical(sim, dat.terpstra2022_sim)
#' table(sim$outcome, sim$control)
#' @export
simulate_review <- function(seed = 2022) {
  if (!is.numeric(seed) || length(seed) != 1L || is.na(seed))
    .mf_stop("'seed' must be a single number.")
  genv <- globalenv()
  old_seed <- get0(".Random.seed", envir = genv, inherits = FALSE)
  on.exit({
    if (is.null(old_seed)) {
      if (exists(".Random.seed", envir = genv, inherits = FALSE))
        rm(".Random.seed", envir = genv)
    } else assign(".Random.seed", old_seed, envir = genv)
  }, add = TRUE)
  suppressWarnings(set.seed(seed, kind = "Mersenne-Twister", normal.kind = "Inversion",
                            sample.kind = "Rejection"))

  n_trials <- 33L
  n_total <- 5133L
  # --- trial-level design --------------------------------------------------
  # controls: 24 passive (16 waitlist, 8 usual care), 9 active
  ctype <- c(rep("waitlist", 16), rep("usual care", 8),
             rep(c("online discussion forum", "psychoeducation", "attention control"), 3))
  ctype <- ctype[sample.int(n_trials)]
  control <- ifelse(ctype %in% c("waitlist", "usual care"), "passive", "active")
  weeks <- sample(5:12, n_trials, replace = TRUE)
  contact <- sample(c(rep("asynchronous", 17), rep("mixed", 10), rep("synchronous", 6)))
  # multi-arm trials with a shared control: 3 iCBT arms in one passive trial,
  # 2 arms in two passive trials and in one active trial
  n_arms <- rep(1L, n_trials)
  pas <- which(control == "passive"); act <- which(control == "active")
  n_arms[pas[c(3, 11)]] <- 2L
  n_arms[pas[7]] <- 3L
  n_arms[act[4]] <- 2L
  # trial sizes: log-normal, rescaled to exactly n_total (largest remainder)
  raw <- pmax(40, exp(stats::rnorm(n_trials, log(130), 0.6)))
  size <- raw / sum(raw) * n_total
  N <- floor(size)
  rest <- n_total - sum(N)
  N[order(size - N, decreasing = TRUE)[seq_len(rest)]] <- N[order(size - N, decreasing = TRUE)[seq_len(rest)]] + 1
  N <- as.integer(N)
  # which outcomes each trial reports (active trials report distress,
  # acceptance and interference more often, as the abstract's k suggests)
  p_pas <- c(0.85, 0.70, 0.45, 0.40, 0.50, 0.85, 0.75, 0.55)
  p_act <- c(0.70, 0.55, 0.75, 0.75, 0.50, 0.75, 0.95, 0.50)
  eff <- .review_sim_effects()
  outc <- .review_sim_outcomes
  planted <- list(c(act[2], 7, -0.75), c(act[6], 7, -0.60), c(pas[5], 1, 1.55))

  rows <- vector("list", n_trials)
  for (i in seq_len(n_trials)) {
    arms <- .review_split_n(N[i], n_arms[i] + 1L)       # control gets the last part
    n_ctrl <- arms[n_arms[i] + 1L]
    n_int <- arms[seq_len(n_arms[i])]
    prob <- if (control[i] == "passive") p_pas else p_act
    rep_o <- stats::runif(8) < prob
    rep_o[c(1, 6)[which.max(prob[c(1, 6)])]] <- TRUE   # at least one outcome
    for (pl in planted) if (pl[1] == i) rep_o[pl[2]] <- TRUE
    sigma <- stats::runif(1, 8, 12)
    os <- which(rep_o)
    m <- length(os)
    # The outcomes of a trial are measured on the same participants: a shared
    # trial effect u_i (SD 0.08) plus an outcome-specific u_io (SD 0.06), and
    # sampling errors of the arm means correlated .review_sim_rho across
    # outcomes (equicorrelated scores).  Total between-trial SD per outcome 0.10.
    u_i <- stats::rnorm(1, 0, 0.08)
    R <- matrix(.review_sim_rho, m, m); diag(R) <- 1
    L <- t(chol(R))
    mu_c <- stats::rnorm(m, 50, 2)
    z_c <- drop(L %*% stats::rnorm(m))
    theta <- numeric(m)
    for (j in seq_len(m)) {
      o <- os[j]
      mu <- eff[[control[i]]][o]
      if (outc$outcome[o] %in% c("anxiety", "quality of life"))
        mu <- mu + if (weeks[i] > 8) 0.12 else -0.12
      if (outc$outcome[o] == "pain self-efficacy")
        mu <- mu + if (contact[i] == "asynchronous") -0.12 else 0.12
      theta[j] <- mu + u_i + stats::rnorm(1, 0, 0.06)
      for (pl in planted) if (pl[1] == i && pl[2] == o) theta[j] <- pl[3]
    }
    m2 <- mu_c + sigma / sqrt(n_ctrl) * z_c
    sd2 <- sigma * sqrt(stats::rchisq(m, n_ctrl - 1) / (n_ctrl - 1))
    tr <- list()
    for (a in seq_len(n_arms[i])) {
      th_a <- theta + if (n_arms[i] > 1L) stats::rnorm(m, 0, 0.05) else 0
      z_a <- drop(L %*% stats::rnorm(m))
      m1 <- mu_c + th_a * sigma + sigma / sqrt(n_int[a]) * z_a
      sd1 <- sigma * sqrt(stats::rchisq(m, n_int[a] - 1) / (n_int[a] - 1))
      tr[[a]] <- data.frame(
        trial = i,
        study = if (n_arms[i] > 1L) sprintf("Sim %02d%s", i, letters[a]) else sprintf("Sim %02d", i),
        comparison = if (n_arms[i] > 1L) paste("iCBT arm", LETTERS[a]) else "iCBT",
        control = control[i], control_type = ctype[i],
        outcome = outc$outcome[os], domain = outc$domain[os],
        weeks = weeks[i], contact = contact[i],
        m1i = round(m1, 2), sd1i = round(sd1, 2), n1i = n_int[a],
        m2i = round(m2, 2), sd2i = round(sd2, 2), n2i = n_ctrl,
        shared_control = n_arms[i] > 1L,
        stringsAsFactors = FALSE)
    }
    tr <- do.call(rbind, tr)
    tr <- tr[order(match(tr$outcome, outc$outcome), tr$study), , drop = FALSE]
    rows[[i]] <- tr
  }
  out <- do.call(rbind, rows)
  out$trial <- as.integer(out$trial)
  out$weeks <- as.integer(out$weeks)
  out <- split_shared_control(out, "trial", "n2i", by = "outcome", shared = "shared_control")
  rownames(out) <- NULL
  attr(out, "simulated") <- TRUE
  out
}
