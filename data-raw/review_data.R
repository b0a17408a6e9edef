# Builds the datasets of the review reproduction (run from the package root):
#   Rscript data-raw/review_data.R
# Sources: inst/extdata/interference_disability_g.csv and
# inst/extdata/seed_abstract_results.csv (copies of the files supplied with the
# issue "Reproduce the review"; see R/review-data.R for their provenance), and
# simulate_review(2022) for the SIMULATED dataset.

stopifnot(file.exists("DESCRIPTION"))
source("R/gate.R")             # .mf_stop, .mf_numeric, .mf_rows
source("R/review-simulate.R")  # simulate_review(), split_shared_control()

# ---- dat.gandy2022_interference (real) ----------------------------------------
raw <- utils::read.csv("inst/extdata/interference_disability_g.csv", stringsAsFactors = FALSE)
stopifnot(nrow(raw) == 23L)
lab <- raw$study                               # "Dear, 2015a"
# The source table drops the o-umlaut of Hedman-Lagerlof (written "\u00f6" below;
# Hedman-Lagerlof E et al. 2018, JAMA Netw Open): restore it as UTF-8.
lab <- sub("Hedman-Lagerlof", "Hedman-Lagerl\u00f6f", lab, fixed = TRUE)
author <- sub(",.*$", "", lab)
yr_tag <- sub("^.*, *", "", lab)               # "2015a", "2013cbt"
year <- as.integer(substr(yr_tag, 1, 4))
tag <- substring(yr_tag, 5)                    # "a", "cbt", ""
# Trials: Dear 2015a/b/c are three arms of one trial (Dear et al. 2015, Pain
# 156:1920-1935, three levels of clinician support vs one waitlist); Lin
# 2017a/b are two arms of one trial (ACTonPain: guided and unguided ACT vs one
# waitlist).  Buhrman 2013cbt and 2013act are two SEPARATE trials published in
# 2013 (Eur J Pain 17:753-765, n = 72, CBT; Behav Res Ther 51:307-315, n = 76,
# ACT), each with its own control group; their standard errors (0.233, 0.230)
# fit separate trials of about 72 and 76 participants.
trial <- paste(author, year)
trial[lab == "Buhrman, 2013cbt"] <- "Buhrman 2013 (CBT)"
trial[lab == "Buhrman, 2013act"] <- "Buhrman 2013 (ACT)"
shared <- trial %in% c("Dear 2015", "Lin 2017")
comparison <- ifelse(shared, paste("arm", tag, "vs shared control"), "intervention vs control")
comparison[tag == "cbt"] <- "CBT programme vs control"
comparison[tag == "act"] <- "ACT programme vs control"

# internal consistency of the source table (README: var = se^2, CI = g +/- 1.96 se, z = g/se)
# (se itself is rounded to 3 decimals, hence the 0.001 * se term)
stopifnot(all(abs(raw$var - raw$se^2) <= 0.0005 + 0.001 * raw$se + 1e-9),
          all(abs(raw$ci_lb - (raw$g - 1.96 * raw$se)) <= 0.002),
          all(abs(raw$ci_ub - (raw$g + 1.96 * raw$se)) <= 0.002),
          all(abs(raw$z - raw$g / raw$se) <= 0.02))  # rounding of g, se, CI and z

dat.gandy2022_interference <- data.frame(
  study = lab, author = author, year = year,
  g = raw$g, se = raw$se,
  vi = raw$se^2,                 # se^2 (the source's 3-decimal 'var' column is its rounding)
  ci.lb = raw$ci_lb, ci.ub = raw$ci_ub, z = raw$z, p = raw$p,
  trial = trial, shared_control = shared, comparison = comparison,
  stringsAsFactors = FALSE)

# ---- dat.terpstra2022_abstract (published, abstract level) ----------------------
ab <- utils::read.csv("inst/extdata/seed_abstract_results.csv", stringsAsFactors = FALSE,
                      na.strings = c("NA", ""))
ab$note[is.na(ab$note)] <- ""
dat.terpstra2022_abstract <- ab

# ---- dat.terpstra2022_sim (SIMULATED) --------------------------------------------
dat.terpstra2022_sim <- simulate_review(seed = 2022)
stopifnot(length(unique(dat.terpstra2022_sim$trial)) == 33L)

save(dat.gandy2022_interference, file = "data/dat.gandy2022_interference.rda", compress = "xz")
save(dat.terpstra2022_abstract, file = "data/dat.terpstra2022_abstract.rda", compress = "xz")
save(dat.terpstra2022_sim, file = "data/dat.terpstra2022_sim.rda", compress = "xz")
