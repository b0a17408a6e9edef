# escalc(): effect sizes and sampling variances with the argument names and
# output format of metafor::escalc() (Viechtbauer 2010, J Stat Softw 36(3)).
# The formulas live in R/escalc-measures.R.

.esc_measure_family <- c(
  OR = "2x2", RR = "2x2", RD = "2x2", PETO = "2x2", AS = "2x2",
  MD = "quant", POMPMD = "quant", SMD = "quant", SMDH = "quant", ROM = "quant",
  MC = "prepost", POMPMC = "prepost", SMCC = "prepost", SMCR = "prepost",
  COR = "cor", UCOR = "cor", ZCOR = "cor",
  PR = "prop", PLN = "prop", PLO = "prop", PAS = "prop", PFT = "prop",
  GEN = "gen",
  # further measures (R/escalc-measures-*.R)
  PCOR = "pcor", ZPCOR = "pcor", SPCOR = "pcor", ZSPCOR = "pcor",
  R2 = "r2", ZR2 = "r2", R2F = "r2", ZR2F = "r2",
  PHI = "2x2more", ZPHI = "2x2more", YUQ = "2x2more", YUY = "2x2more",
  PBIT = "2x2more", OR2D = "2x2more", OR2DN = "2x2more", OR2DL = "2x2more",
  MPRD = "2x2more", MPRR = "2x2more", MPOR = "2x2more", MPORC = "2x2more",
  MPPETO = "2x2more", MPORM = "2x2more",
  SMD1 = "quantmore", SMD1H = "quantmore", VR = "quantmore", CVR = "quantmore",
  RPB = "quantmore", ZPB = "quantmore", RBIS = "quantmore", ZBIS = "quantmore",
  D2OR = "quantmore", D2ORN = "quantmore", D2ORL = "quantmore",
  CLESN = "quantmore", AUCN = "quantmore",
  CLES = "auc", AUC = "auc",
  MN = "mean", POMPMN = "mean", SMN = "mean", MNLN = "mean", SDLN = "mean", CVLN = "mean",
  IR = "rate", IRLN = "rate", IRS = "rate", IRFT = "rate",
  IRR = "rate2", IRD = "rate2", IRSD = "rate2", RTET = "tet", ZTET = "tet",
  SMCRH = "prepostmore", SMCRP = "prepostmore", SMCRPH = "prepostmore",
  ROMC = "prepostmore", VRC = "prepostmore", CVRC = "prepostmore",
  CLESCN = "prepostmore", AUCCN = "prepostmore",
  ARAW = "alpha", AHW = "alpha", ABT = "alpha",
  PRZ = "prop", REH = "reh"
)

.esc_family_args <- list(
  "2x2" = c("ai", "bi", "ci", "di", "n1i", "n2i"),
  quant = c("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
  prepost = c("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"),
  cor = c("ri", "ni", "ti", "pi"),
  prop = c("xi", "mi", "ni"),
  gen = c("yi", "vi", "sei", "ni"),
  pcor = c("ri", "ti", "mi", "ni", "pi", "r2i"),
  r2 = c("r2i", "mi", "ni", "fi", "pi"),
  "2x2more" = c("ai", "bi", "ci", "di", "n1i", "n2i", "ri", "pi"),
  quantmore = c("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i", "di", "ti", "pi", "ri", "ai"),
  auc = c("ai", "n1i", "n2i", "mi"),
  mean = c("mi", "sdi", "ni"),
  rate = c("xi", "ti"),
  rate2 = c("x1i", "x2i", "t1i", "t2i"),
  tet = c("ai", "bi", "ci", "di", "n1i", "n2i"),
  prepostmore = c("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"),
  alpha = c("ai", "mi", "ni"),
  reh = c("ai", "bi", "ci")
)

# every measure of metafor 5.2.1's escalc(): the ones metafast does not
# compute get an error that says so (never a different measure in silence)
.esc_metafor_measures <- c(
  "RR", "OR", "PETO", "RD", "AS", "PHI", "ZPHI", "YUQ", "YUY", "RTET", "ZTET",
  "PBIT", "OR2D", "OR2DN", "OR2DL", "MPRD", "MPRR", "MPOR", "MPORC", "MPPETO",
  "MPORM", "IRR", "IRD", "IRSD", "MD", "POMPMD", "SMD", "SMDH", "SMD1", "SMD1H",
  "ROM", "VR", "CVR", "RPB", "ZPB", "RBIS", "ZBIS", "D2OR", "D2ORN", "D2ORL",
  "COR", "UCOR", "ZCOR", "PCOR", "ZPCOR", "SPCOR", "ZSPCOR", "R2", "ZR2", "R2F",
  "ZR2F", "PR", "PLN", "PLO", "PRZ", "PAS", "PFT", "IR", "IRLN", "IRS", "IRFT",
  "MN", "POMPMN", "SMN", "MNLN", "SDLN", "CVLN", "MC", "POMPMC", "SMCC", "SMCR",
  "SMCRH", "SMCRP", "SMCRPH", "CLESCN", "AUCCN", "ROMC", "VRC", "CVRC", "ARAW",
  "AHW", "ABT", "REH", "CLES", "CLESN", "AUC", "AUCN", "HR", "HD", "GEN")

# metafor's escalc() arguments passed through '...' (as in metafor):
# onlyo1 (add to the event cells only), addyi, addvi (the added value used for
# the outcome / the variance)
.esc_dots_args <- c("onlyo1", "addyi", "addvi")

.esc_vtypes <- c("UB", "LS", "LS2", "LS3", "HO", "ST", "CS", "AV", "AV2", "AVHO",
                 "H0", "H0a", "H0b", "MAX")

.esc_default_digits <- function(d = 4) {
  c(est = d, se = d, test = d, pval = d, ci = d, var = d, sevar = d,
    fit = d, het = d)
}

# argument 'correct' as metafor reads it: TRUE/FALSE, or "exact"/"approx"
# (partial matching) for the bias-correction factor of the standardized mean
# differences; the ratio measures (ROM) take TRUE or FALSE only.
# Returns TRUE, FALSE or "approx".
.esc_correct <- function(correct, measure) {
  if (is.logical(correct)) {
    if (length(correct) != 1L || is.na(correct))
      stop("argument 'correct' must be TRUE or FALSE (or \"exact\" / \"approx\")",
           call. = FALSE)
    return(correct)
  }
  if (measure %in% c("ROM", "VR", "CVR", "SDLN", "CVLN", "ROMC", "CVRC"))
    stop("argument 'correct' must be TRUE or FALSE for measure = '", measure, "'",
         call. = FALSE)
  opt <- if (is.character(correct) && length(correct) == 1L && !is.na(correct))
    c("exact", "approx")[pmatch(correct, c("exact", "approx"))] else NA_character_
  if (is.na(opt))
    stop("argument 'correct' must be TRUE, FALSE, \"exact\" or \"approx\"",
         call. = FALSE)
  if (opt == "exact") TRUE else "approx"
}

# argument 'flip' (one value or one per row of the data, before 'subset'):
# TRUE / -1 reverses the sign of an outcome; numeric values multiply yi (and
# vi by their square), as in metafor.
.esc_flip <- function(flip, k.all) {
  if (is.null(flip)) return(rep(1, k.all))
  if (is.logical(flip)) {
    if (length(flip) == 1L) flip <- rep(flip, k.all)
    flip <- ifelse(flip %in% TRUE, -1, 1)
  } else if (is.numeric(flip)) {
    flip <- as.vector(unclass(flip))
  } else {
    stop("argument 'flip' must be logical or numeric", call. = FALSE)
  }
  if (length(flip) != k.all)
    stop("length of 'flip' (", length(flip), ") does not match the number ",
         "of studies (", k.all, ")", call. = FALSE)
  flip
}

# Outcomes remembered after a warning about unusually large values (the last
# 100), so that recomputing the same outcomes does not warn again (metafor
# keeps a digest of the values; a summary of the values serves here).
.esc_state <- new.env(parent = emptyenv())
.esc_state$size_warned <- character(0)

# metafor's check of unusually large outcomes (argument 'cutoff'): by default
# |yi| > 2 for the standardized mean differences (usually standard errors
# passed as standard deviations), no check for other measures.
.esc_check_size <- function(yi, measure, cutoff) {
  hint <- NULL
  if (is.null(cutoff)) {
    if (!measure %in% c("SMD", "SMDH", "SMD1", "SMD1H")) return(invisible())
    cutoff <- 2
    hint <- "Maybe SEs were used in place of SDs to compute them?"
  } else {
    if (length(cutoff) != 1L)
      stop("argument 'cutoff' must be a single value", call. = FALSE)
    if (is.na(cutoff)) return(invisible())
    if (!is.numeric(cutoff))
      stop("argument 'cutoff' must be numeric", call. = FALSE)
    cutoff <- abs(cutoff)
  }
  if (!any(abs(yi) > cutoff, na.rm = TRUE)) return(invisible())
  # (a summary of the values only, as metafor's digest: the same outcomes
  # computed under another measure, e.g. SMD1 then SMD1H, do not warn again)
  sig <- paste(length(yi), sum(is.na(yi)),
               sprintf("%.17g", c(sum(yi, na.rm = TRUE), sum(yi^2, na.rm = TRUE),
                                  sum(seq_along(yi) * yi, na.rm = TRUE))),
               collapse = " ")
  if (sig %in% .esc_state$size_warned) return(invisible())
  warning("one or more ", measure, " values are unusually large (abs(yi) > ",
          cutoff, ")", if (!is.null(hint)) paste0("; ", hint), call. = FALSE)
  .esc_state$size_warned <- utils::head(c(sig, .esc_state$size_warned), 100L)
  invisible()
}

# names of the attributes of an escalc object that list its columns by role
.esc_names_attrs <- c("yi.names", "vi.names", "sei.names", "zi.names",
                      "pval.names", "ci.lb.names", "ci.ub.names")

# Rows of a data frame whose yi columns (attribute "yi.names") carry the
# per-row attributes "ni" and "slab": `[.data.frame` drops them, so they are
# put back, subset in the same way ("measure" is kept as it is).
.esc_rows <- function(x, rows) {
  yn <- intersect(attr(x, "yi.names"), names(x))
  keep <- lapply(stats::setNames(yn, yn), function(nm) attributes(x[[nm]])[c("ni", "slab", "measure")])
  out <- x
  class(out) <- "data.frame"
  out <- out[rows, , drop = FALSE]
  for (nm in yn) {
    a <- keep[[nm]]
    col <- out[[nm]]
    if (!is.null(a$ni)) attr(col, "ni") <- a$ni[rows]
    if (!is.null(a$slab)) attr(col, "slab") <- a$slab[rows]
    if (!is.null(a$measure)) attr(col, "measure") <- a$measure
    out[[nm]] <- col
  }
  out
}

# numeric input without attributes (drops SPSS/haven labels, AsIs, ...)
.esc_as_num <- function(x, name) {
  if (is.null(x)) return(NULL)
  if (is.factor(x) || is.character(x) || is.list(x) || is.complex(x))
    stop("argument '", name, "' must be numeric", call. = FALSE)
  # classed vectors that are not numbers (Date, POSIXct, difftime: is.numeric() is FALSE for
  # them) are rejected, as rma() rejects them; numeric classes (AsIs, labelled) are unclassed
  if (is.object(x) && !is.numeric(x))
    stop("argument '", name, "' must be numeric, not ", class(x)[1L], call. = FALSE)
  x <- as.vector(unclass(x))
  if (!is.numeric(x) && !is.logical(x))
    stop("argument '", name, "' must be numeric", call. = FALSE)
  as.numeric(x)
}

# logical/positive/negative index -> logical vector of length k
.esc_subset <- function(x, k, name, stop_if_empty = TRUE) {
  if (is.null(x)) return(NULL)
  x <- as.vector(unclass(x))
  if (is.character(x) || is.factor(x))
    stop("argument '", name, "' must be a logical or numeric vector", call. = FALSE)
  if (is.logical(x)) {
    if (length(x) != k)
      stop("argument '", name, "' has length ", length(x),
           " but the data have k = ", k, " rows", call. = FALSE)
    x[is.na(x)] <- FALSE
  } else {
    x <- as.integer(round(x[!is.na(x)]))
    x <- x[x != 0L]
    if (any(x > 0L) && any(x < 0L))
      stop("argument '", name, "' cannot mix positive and negative indices",
           call. = FALSE)
    if (any(abs(x) > k))
      stop("argument '", name, "' contains indices larger than k = ", k,
           call. = FALSE)
    x <- if (length(x) && all(x < 0L)) !(seq_len(k) %in% -x) else seq_len(k) %in% x
  }
  if (stop_if_empty && !any(x))
    stop("no rows left after applying '", name, "' (k = 0)", call. = FALSE)
  x
}

.esc_unique_labels <- function(x) {
  dup <- x %in% x[duplicated(x)]
  if (any(dup)) {
    for (u in unique(x[dup])) {
      w <- which(x == u)
      x[w] <- paste(u, seq_along(w), sep = ".")
    }
  }
  x
}

#' Compute effect sizes and their sampling variances
#'
#' A fast, dependency-free reimplementation of \code{metafor::escalc()} for
#' the most common outcome measures.  Arguments are evaluated in \code{data}
#' (if given), so column names can be passed unquoted.
#'
#' Supported measures: \code{"OR"}, \code{"RR"}, \code{"RD"}, \code{"PETO"},
#' \code{"AS"} (2x2 tables via \code{ai, bi, ci, di} or \code{ai, n1i, ci,
#' n2i}); \code{"MD"}, \code{"SMD"}, \code{"SMDH"}, \code{"ROM"} (two groups
#' via \code{m1i, m2i, sd1i, sd2i, n1i, n2i}; for \code{"SMD"} also \code{ti},
#' \code{pi} (two-sided p-values, sign = direction), \code{di} (Cohen's d) or
#' \code{ri} (point-biserial r) with \code{n1i, n2i}); \code{"MC"},
#' \code{"SMCC"}, \code{"SMCR"} (pre-post via \code{m1i, m2i, sd1i, sd2i, ri,
#' ni}); \code{"COR"}, \code{"UCOR"}, \code{"ZCOR"} (\code{ri} or
#' \code{ti}/\code{pi} with \code{ni}); \code{"PR"}, \code{"PLN"}, \code{"PLO"},
#' \code{"PAS"}, \code{"PFT"} (\code{xi} with \code{mi} or \code{ni}); and
#' \code{"GEN"} (pre-computed \code{yi} with \code{vi} or \code{sei}).
#'
#' The bias correction of the standardized mean differences uses the exact
#' factor \eqn{c(m) = \Gamma(m/2) / (\sqrt{m/2}\,\Gamma((m-1)/2))} (Hedges
#' 1981), evaluated without overflow or loss of precision for any \eqn{m}.
#'
#' Also \code{"POMPMD"} and \code{"POMPMC"}: the raw mean difference and mean
#' change of POMP scores (means and SDs rescaled to 0-100 with \code{mini} and
#' \code{maxi}).  Given \code{yi}, the outcomes are taken as they are, for any
#' measure (as in metafor).
#'
#' Further measures, with metafor's arguments, \code{vtype} options and
#' zero-cell handling: partial and semi-partial correlations \code{"PCOR"},
#' \code{"ZPCOR"}, \code{"SPCOR"}, \code{"ZSPCOR"} (\code{ri} or
#' \code{ti}/\code{pi}, with \code{mi} predictors, \code{ni}, and
#' \code{r2i} for the semi-partial ones); \code{"R2"}, \code{"ZR2"},
#' \code{"R2F"}, \code{"ZR2F"} (\code{r2i} or \code{fi}/\code{pi}, \code{mi},
#' \code{ni}); from 2x2
#' tables \code{"PHI"}, \code{"ZPHI"}, \code{"YUQ"}, \code{"YUY"},
#' \code{"PBIT"}, \code{"OR2D"}, \code{"OR2DN"}, \code{"OR2DL"}, the
#' tetrachoric correlation \code{"RTET"} and its z transform \code{"ZTET"}
#' (maximum likelihood under a bivariate normal, as metafor) and for
#' paired binary data \code{"MPRD"}, \code{"MPRR"}, \code{"MPOR"},
#' \code{"MPORC"}, \code{"MPPETO"}, \code{"MPORM"} (the latter with
#' \code{ri} and/or \code{pi}); two groups \code{"SMD1"}, \code{"SMD1H"},
#' \code{"VR"}, \code{"CVR"}, \code{"RPB"}, \code{"ZPB"}, \code{"RBIS"},
#' \code{"ZBIS"}, \code{"D2OR"}, \code{"D2ORN"}, \code{"D2ORL"},
#' \code{"CLESN"}, \code{"AUCN"}, and \code{"CLES"}, \code{"AUC"} (the AUC
#' as \code{ai}, ties as \code{mi}); one group \code{"MN"}, \code{"POMPMN"}
#' (with \code{mini}, \code{maxi}), \code{"SMN"},
#' \code{"MNLN"}, \code{"SDLN"}, \code{"CVLN"} (\code{mi}, \code{sdi},
#' \code{ni}), \code{"PRZ"}, incidence rates \code{"IR"}, \code{"IRLN"},
#' \code{"IRS"}, \code{"IRFT"} (\code{xi} events in person-time
#' \code{ti}), two incidence rates \code{"IRR"}, \code{"IRD"},
#' \code{"IRSD"} (\code{x1i}, \code{x2i} events in person-times
#' \code{t1i}, \code{t2i}); pre-post \code{"SMCRH"}, \code{"SMCRP"}, \code{"SMCRPH"},
#' \code{"ROMC"}, \code{"VRC"}, \code{"CVRC"}, \code{"CLESCN"},
#' \code{"AUCCN"}; Cronbach's alpha \code{"ARAW"}, \code{"AHW"},
#' \code{"ABT"} (\code{ai}, \code{mi} items, \code{ni}); and \code{"REH"}
#' (genotype counts \code{ai}, \code{bi}, \code{ci}).  metafor's other
#' measures (\code{"HR"}, \code{"HD"}, which metafor lists but does not
#' compute either) give an error that names them.
#'
#' The object keeps, as metafor's, the attributes \code{ni} (sample sizes),
#' \code{slab} (study labels, read by \code{rma()}) and \code{measure} on the
#' yi column, and \code{digits}, \code{yi.names}, \code{vi.names} (and after
#' \code{summary()} \code{sei.names}, \code{zi.names}, \code{pval.names},
#' \code{ci.lb.names}, \code{ci.ub.names}) on the data frame; they follow
#' \code{[} (rows and columns; the row index may use the columns, e.g.
#' \code{dat[year > 1970, ]}, when the caller has no such variables),
#' \code{$<-}, \code{rbind()}, \code{cbind()} and a second \code{escalc()}
#' call with the object as \code{data} (which adds columns with other
#' \code{var.names}, or fills in missing values with \code{replace = FALSE}).
#'
#' @param measure character string naming the outcome measure.
#' @param ai,bi,ci,di cell frequencies of 2x2 tables (\code{di} is Cohen's d
#'   for \code{measure = "SMD"}/\code{"SMCC"} and the measures computed from
#'   d; \code{ai} is the AUC of \code{"CLES"}/\code{"AUC"} and alpha of
#'   \code{"ARAW"}, \code{"AHW"}, \code{"ABT"}).
#' @param n1i,n2i group sizes.
#' @param x1i,x2i,t1i,t2i event counts and person-times of the two groups
#'   (\code{"IRR"}, \code{"IRD"}, \code{"IRSD"}).
#' @param m1i,m2i,sd1i,sd2i means and standard deviations.
#' @param xi,mi event and non-event counts for single proportions (\code{xi}:
#'   events of incidence rates; \code{mi}: the means of \code{"MN"} and
#'   friends, the number of predictors of \code{"PCOR"} and \code{"R2"}, the
#'   items of alpha, the proportion of ties of \code{"CLES"}).
#' @param ri correlations.
#' @param ti t statistics (person-times of the incidence rates).
#' @param fi F statistics of the models of \code{"R2"}, \code{"ZR2"},
#'   \code{"R2F"}, \code{"ZR2F"}
#'   (ignored by the other measures, as in metafor).
#' @param pi two-sided p-values (negative values indicate a negative effect).
#' @param sdi standard deviations of single groups (\code{"MN"} and friends).
#' @param r2i R^2 values (\code{"R2"}, \code{"ZR2"}, \code{"SPCOR"},
#'   \code{"ZSPCOR"}).
#' @param mini,maxi minimum and maximum possible value of the scale
#'   (\code{"POMPMD"}, \code{"POMPMC"}, \code{"POMPMN"}).
#' @param ni sample sizes.
#' @param yi,vi,sei pre-computed estimates, variances, standard errors.
#' @param data optional data frame (tibbles and data.tables are accepted).
#' @param slab optional study labels (stored as the attribute \code{slab} of
#'   the yi column; duplicated labels are made unique).
#' @param flip optional logical (or numeric) vector, one value or one per row:
#'   \code{TRUE} (or \code{-1}) reverses the sign of the outcome; a number
#'   multiplies the outcome (and the variance by its square).  Applied to the
#'   included rows after the outcomes are computed.
#' @param subset optional logical or index vector selecting rows.
#' @param include optional logical or index vector; rows not included get
#'   \code{NA} (or keep their old values when appending).
#' @param add,to,drop00 zero-cell handling for 2x2 tables and proportions.
#' @param vtype variance type (single value or one per row).
#' @param correct bias correction: \code{TRUE} (default; the exact factor
#'   for \code{"SMD"}, \code{"SMDH"}, \code{"SMCC"}, \code{"SMCR"}, the
#'   second-order correction for \code{"ROM"}), \code{"approx"} (Hedges'
#'   approximation \eqn{1 - 3/(4m - 1)}) or \code{FALSE} (none: Cohen's d,
#'   plain log ratio of means).  \code{"ROM"} takes \code{TRUE}/\code{FALSE}
#'   only.
#' @param cutoff outcomes with \code{abs(yi) > cutoff} give a warning (once
#'   for the same outcomes); by default 2 for \code{"SMD"} and \code{"SMDH"}
#'   (standard errors passed as standard deviations) and no check otherwise;
#'   \code{NA} switches the check off.
#' @param var.names names of the yi/vi (and measure) columns.
#' @param add.measure logical: add a column with the measure name.
#' @param append logical: append to \code{data}.
#' @param replace logical: replace existing yi/vi values (if \code{FALSE},
#'   only missing values are filled in).
#' @param digits number of digits for printing.
#' @param ... metafor's \code{onlyo1} (\code{TRUE}: \code{add} goes to the
#'   event cells \code{ai}, \code{ci} only), \code{addyi} and \code{addvi}
#'   (\code{FALSE}: the outcome, or the variance, of \code{"OR"}, \code{"RR"},
#'   \code{"RD"}, \code{"PR"}, \code{"PLN"}, \code{"PLO"} from the counts
#'   without \code{add}); other arguments are disregarded with a warning.
#' @return A data frame of class \code{c("mf_escalc", "data.frame")} (its own class name, so that metafor can be loaded too).
#' @references Hedges, L. V. (1981). Distribution theory for Glass's
#'   estimator of effect size and related estimators. Journal of Educational
#'   Statistics, 6, 107-128.
#'
#'   Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor
#'   package. Journal of Statistical Software, 36(3), 1-48.
#' @export
escalc <- function(measure, ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i,
                   m1i, m2i, sd1i, sd2i, xi, mi, ri, ti, fi, pi, sdi, r2i,
                   mini, maxi, ni, yi, vi, sei, data, slab, flip, subset, include,
                   add = 1/2, to = "only0", drop00 = FALSE, vtype = "LS",
                   correct = TRUE, cutoff,
                   var.names = c("yi", "vi"), add.measure = FALSE,
                   append = TRUE, replace = TRUE, digits, ...) {
  .mf_check_dots("escalc", ...)

  mf <- match.call()
  env <- parent.frame()

  # ---- measure ------------------------------------------------------------
  if (missing(measure)) {
    if (!"yi" %in% names(mf))
      stop("argument 'measure' must be specified (e.g. measure = \"SMD\")",
           call. = FALSE)
    measure <- "GEN"
  }
  if (!is.character(measure) || length(measure) != 1L || is.na(measure))
    stop("argument 'measure' must be a single character string", call. = FALSE)
  if (!measure %in% names(.esc_measure_family)) {
    if (measure %in% .esc_metafor_measures)
      stop("measure '", measure, "' (of metafor's escalc()) is not supported by ",
           "metafast; supported measures: ",
           paste(names(.esc_measure_family), collapse = ", "), call. = FALSE)
    stop("unknown measure '", measure, "'; supported measures: ",
         paste(names(.esc_measure_family), collapse = ", "), call. = FALSE)
  }
  family <- .esc_measure_family[[measure]]
  # as in metafor, given yi (and vi or sei) are taken as the outcomes of the
  # measure named (or "GEN"), whatever the measure
  if ("yi" %in% names(mf)) family <- "gen"

  # ---- options --------------------------------------------------------------
  if (!is.character(to) || length(to) != 1L || is.na(to) ||
      !to %in% c("all", "only0", "if0all", "none"))
    stop("argument 'to' must be one of \"all\", \"only0\", \"if0all\", \"none\"",
         call. = FALSE)
  if (!is.logical(drop00) || length(drop00) != 1L || is.na(drop00))
    stop("argument 'drop00' must be TRUE or FALSE", call. = FALSE)
  if (missing(add) && measure %in% c("AS", "PAS", "PFT", "PHI", "ZPHI", "IRS", "IRFT",
                                      "IRSD", "RTET", "ZTET"))
    add <- 0
  if (!is.numeric(add) || length(add) != 1L || is.na(add) || add < 0)
    stop("argument 'add' must be a single non-negative number", call. = FALSE)
  if (!is.character(vtype) || anyNA(vtype) || !all(vtype %in% .esc_vtypes))
    stop("unknown 'vtype' ", paste0("'", setdiff(vtype, .esc_vtypes), "'", collapse = ", "),
         "; possible values: ", paste(.esc_vtypes, collapse = ", "), call. = FALSE)
  for (nm in c("append", "replace", "add.measure")) {
    val <- get(nm)
    if (!is.logical(val) || length(val) != 1L || is.na(val))
      stop("argument '", nm, "' must be TRUE or FALSE", call. = FALSE)
  }
  if (!is.character(var.names))
    stop("argument 'var.names' must be a character vector", call. = FALSE)
  nvn <- if (add.measure) 3L else 2L
  if (add.measure && length(var.names) == 2L) var.names <- c(var.names, "measure")
  if (!add.measure && length(var.names) == 3L) var.names <- var.names[1:2]
  if (length(var.names) != nvn)
    stop("argument 'var.names' must be of length ", nvn, call. = FALSE)
  if (any(var.names != make.names(var.names, unique = TRUE))) {
    var.names <- make.names(var.names, unique = TRUE)
    warning("'var.names' adjusted to syntactically valid names: ",
            paste(var.names, collapse = ", "), call. = FALSE)
  }
  correct <- .esc_correct(correct, measure)
  ddd <- list(...)
  dflag <- function(nm, default) {
    val <- ddd[[nm]]
    if (is.null(val)) return(default)
    if (!is.logical(val) || length(val) != 1L || is.na(val))
      stop("argument '", nm, "' must be TRUE or FALSE", call. = FALSE)
    val
  }
  onlyo1 <- dflag("onlyo1", FALSE)
  addyi <- dflag("addyi", TRUE)
  addvi <- dflag("addvi", TRUE)
  extra <- setdiff(names(ddd), .esc_dots_args)
  if (length(extra))
    warning("extra argument", if (length(extra) > 1L) "s" else "", " (",
            paste0("'", extra, "'", collapse = ", "), ") disregarded",
            call. = FALSE)
  digits <- if (missing(digits)) .esc_default_digits() else {
    if (is.null(names(digits))) .esc_default_digits(digits[[1]]) else {
      dd <- .esc_default_digits()
      pos <- pmatch(names(digits), names(dd))
      dd[pos[!is.na(pos)]] <- unlist(digits)[!is.na(pos)]
      dd
    }
  }

  # ---- data and non-standard evaluation ------------------------------------
  has.data <- !missing(data) && !is.null(data)
  if (has.data) {
    if (!is.data.frame(data)) data <- data.frame(data)
    dattr <- lapply(stats::setNames(.esc_names_attrs, .esc_names_attrs),
                    function(a) attr(data, a))
    data <- as.data.frame(data)      # tibble / data.table -> data.frame
    class(data) <- "data.frame"      # also drops an "escalc" class
    for (a in .esc_names_attrs) attr(data, a) <- dattr[[a]]
  } else {
    data <- NULL
  }
  getx <- function(name) {
    if (!name %in% names(mf)) return(NULL)
    expr <- mf[[name]]
    out <- tryCatch(eval(expr, data, env), error = function(e) e)
    if (inherits(out, "error") || is.function(out))
      stop("cannot find the object/variable ('", deparse1(expr),
           "') specified for argument '", name, "'", call. = FALSE)
    if (is.null(out))
      stop("the object/variable ('", deparse1(expr),
           "') specified for argument '", name, "' is NULL", call. = FALSE)
    out
  }

  argn <- .esc_family_args[[family]]
  if (measure == "SMD") argn <- c(argn, "di", "ti", "pi", "ri")
  if (measure == "SMCC") argn <- c(argn, "di", "ti", "pi")
  if (measure %in% c("POMPMD", "POMPMC", "POMPMN")) argn <- c(argn, "mini", "maxi")
  v <- lapply(stats::setNames(argn, argn), function(a) .esc_as_num(getx(a), a))
  v <- v[!vapply(v, is.null, logical(1))]
  if (family == "gen" && is.null(v$yi))
    stop("argument 'yi' must be specified", call. = FALSE)
  if (family == "gen" && is.null(v$vi) && is.null(v$sei))
    stop("argument 'vi' or 'sei' must be specified", call. = FALSE)
  if (!length(v))
    stop("measure = '", measure, "' requires arguments ",
         paste(.esc_family_args[[family]], collapse = ", "), call. = FALSE)

  lens <- lengths(v)
  k.all <- max(lens)
  if (any(lens != k.all & lens != 1L))
    stop("supplied data vectors are not all of the same length: ",
         paste0(names(lens), " (", lens, ")", collapse = ", "), call. = FALSE)
  v <- lapply(v, rep_len, length.out = k.all)
  if (has.data && append && nrow(data) != k.all)
    stop("the data vectors have length ", k.all, " but 'data' has ",
         nrow(data), " rows", call. = FALSE)

  slab <- getx("slab")
  flip <- .esc_flip(getx("flip"), k.all)
  yslab <- if (family == "gen" && "yi" %in% names(mf)) attr(getx("yi"), "slab") else NULL
  subset <- .esc_subset(getx("subset"), k.all, "subset")
  include <- .esc_subset(getx("include"), k.all, "include", stop_if_empty = FALSE)
  if (is.null(subset)) subset <- rep(TRUE, k.all)
  if (is.null(include)) include <- rep(TRUE, k.all)

  if (length(vtype) == k.all && k.all > 1L) vtype <- vtype[subset]
  rows <- which(subset)
  k <- length(rows)
  v <- lapply(v, function(z) z[subset])
  if (length(vtype) == 1L) vtype <- rep(vtype, k)
  if (length(vtype) != k)
    stop("argument 'vtype' must be of length 1 or k = ", k.all, call. = FALSE)
  include <- include[subset]

  # ---- compute ---------------------------------------------------------------
  res <- switch(family,
    "2x2" = .esc_es_2x2(measure, v, vtype, rows, add, to, drop00, onlyo1, addyi, addvi),
    quant = .esc_es_quant(measure, v, vtype, rows, correct),
    prepost = .esc_es_prepost(measure, v, vtype, rows, correct),
    cor = .esc_es_cor(measure, v, vtype, rows),
    prop = .esc_es_prop(measure, v, vtype, rows, add, to, addyi, addvi),
    pcor = .esc_es_pcor(measure, v, vtype, rows),
    r2 = .esc_es_r2(measure, v, vtype, rows),
    "2x2more" = .esc_es_2x2more(measure, v, vtype, rows, add, to, drop00, onlyo1, addyi, addvi),
    quantmore = .esc_es_quantmore(measure, v, vtype, rows, correct),
    auc = .esc_es_auc(measure, v, vtype, rows),
    mean = .esc_es_mean(measure, v, vtype, rows, correct),
    rate = .esc_es_rate(measure, v, vtype, rows, add, to, addyi, addvi),
    rate2 = .esc_es_rates(measure, v, add, to, drop00, addyi, addvi, rows),
    tet = .esc_es_tet(measure, v, vtype, rows, add, to, drop00, onlyo1),
    prepostmore = .esc_es_prepostmore(measure, v, vtype, rows, correct),
    alpha = .esc_es_alpha(measure, v, vtype, rows),
    reh = .esc_es_reh(measure, v, vtype, rows),
    gen = {
      # as metafor: sei only when vi is not given (missing vi stay missing)
      vv <- if (!is.null(v$vi)) v$vi else v$sei^2
      list(yi = v$yi, vi = vv, ni = v$ni)
    })
  yi <- as.vector(res$yi)
  vi <- as.vector(res$vi)
  ni.u <- res$ni

  inf <- is.infinite(yi) | is.infinite(vi)
  if (any(inf)) {
    warning("some 'yi' and/or 'vi' values equal to +-Inf; recoded to NA",
            call. = FALSE)
    yi[inf] <- NA_real_
    vi[inf] <- NA_real_
  }
  nan <- is.nan(yi) | is.nan(vi)
  yi[nan] <- NA_real_
  vi[nan] <- NA_real_
  .esc_check_size(yi, measure, if (missing(cutoff)) NULL else cutoff)
  vi[!is.na(vi) & vi < 0] <- NA_real_

  # ---- study labels ----------------------------------------------------------
  if (is.null(slab) && !is.null(yslab) && length(yslab) == k.all) slab <- yslab
  if (!is.null(slab)) {
    if (length(slab) != k.all)
      stop("length of 'slab' (", length(slab), ") does not match the number ",
           "of studies (", k.all, ")", call. = FALSE)
    slab <- as.vector(unclass(if (is.factor(slab)) as.character(slab) else slab))
    slab <- slab[subset]
    if (anyNA(slab)) stop("'slab' contains NA values", call. = FALSE)
    if (anyDuplicated(slab)) slab <- .esc_unique_labels(as.character(slab))
  }

  # ---- flip (after the checks, on the included rows, as metafor) -------------
  flip <- flip[subset]
  yi[include] <- flip[include] * yi[include]
  vi[include] <- flip[include]^2 * vi[include]

  # ---- assemble output -------------------------------------------------------
  yname <- var.names[1]
  vname <- var.names[2]
  if (has.data && append) {
    dat <- .esc_rows(data, subset)
    repl <- function(nm) {
      if (replace || !nm %in% names(dat)) rep(TRUE, k) else {
        old <- dat[[nm]]
        is.na(old) | (is.character(old) & old %in% "")
      }
    }
    yrep <- include & repl(yname)
    vrep <- include & repl(vname)
    mrep <- if (add.measure) include & repl(var.names[3]) else NULL
    if (!yname %in% names(dat)) dat[[yname]] <- rep(NA_real_, k)
    if (!vname %in% names(dat)) dat[[vname]] <- rep(NA_real_, k)
    ycol <- dat[[yname]]
    ycol[yrep] <- yi[yrep]
    nattr <- attr(dat[[yname]], "ni")
    if (length(nattr) != k) nattr <- rep(NA_real_, k)
    if (!is.null(ni.u)) nattr[yrep] <- ni.u[yrep]
    attr(ycol, "ni") <- if (all(is.na(nattr))) NULL else nattr
    dat[[yname]] <- ycol
    vcol <- dat[[vname]]
    vcol[vrep] <- vi[vrep]
    dat[[vname]] <- vcol
    if (add.measure) {
      mname <- var.names[3]
      mcol <- if (mname %in% names(dat)) as.character(dat[[mname]]) else rep(NA_character_, k)
      mcol[!is.na(yi) & mrep] <- measure
      mcol[is.na(mcol)] <- ""
      dat[[mname]] <- mcol
    }
  } else {
    ycol <- rep(NA_real_, k)
    vcol <- rep(NA_real_, k)
    ycol[include] <- yi[include]
    vcol[include] <- vi[include]
    if (!is.null(ni.u)) {
      nattr <- rep(NA_real_, k)
      nattr[include] <- ni.u[include]
      attr(ycol, "ni") <- nattr
    }
    dat <- data.frame(ycol, vcol)
    if (add.measure) {
      mcol <- rep("", k)
      mcol[!is.na(yi) & include] <- measure
      dat$measure <- mcol
    }
    names(dat) <- var.names
  }
  yc <- dat[[yname]]
  if (!is.null(slab)) attr(yc, "slab") <- slab
  attr(yc, "measure") <- measure
  dat[[yname]] <- yc

  attr(dat, "digits") <- digits
  attr(dat, "yi.names") <- intersect(union(yname, attr(data, "yi.names")), names(dat))
  attr(dat, "vi.names") <- intersect(union(vname, attr(data, "vi.names")), names(dat))
  for (a in setdiff(.esc_names_attrs, c("yi.names", "vi.names")))
    attr(dat, a) <- attr(data, a)
  class(dat) <- c("mf_escalc", "data.frame")
  dat
}

# ---------------------------------------------------------------------------
# methods of escalc objects: as metafor's print, summary, `[`, `$<-`, rbind,
# cbind of class "escalc"
# ---------------------------------------------------------------------------

#' @export
print.mf_escalc <- function(x, digits = attr(x, "digits"), ...) {
  digits <- .mf_digits_vec(digits, attr(x, "digits"))
  y <- x
  class(y) <- "data.frame"
  fmt <- function(z, d) {
    out <- formatC(as.vector(z), digits = d, format = "f")
    out[is.na(z)] <- "NA"
    out
  }
  fmtp <- function(z, d) {
    z <- as.vector(z)
    z[!is.na(z) & z < 0] <- 0
    z[!is.na(z) & z > 1] <- 1
    .mf_fmtp(z, max(d, 1))
  }
  cols <- function(a) intersect(attr(x, a), names(y))
  for (nm in cols("yi.names")) y[[nm]] <- fmt(y[[nm]], digits[["est"]])
  for (nm in cols("vi.names")) y[[nm]] <- fmt(y[[nm]], digits[["var"]])
  for (nm in cols("sei.names")) y[[nm]] <- fmt(y[[nm]], digits[["se"]])
  for (nm in cols("zi.names")) y[[nm]] <- fmt(y[[nm]], digits[["test"]])
  for (nm in cols("pval.names")) y[[nm]] <- fmtp(y[[nm]], digits[["pval"]])
  for (nm in c(cols("ci.lb.names"), cols("ci.ub.names"))) y[[nm]] <- fmt(y[[nm]], digits[["ci"]])
  .mf_space()
  print.data.frame(y, ...)
  .mf_space()
  invisible(x)
}

#' Standard errors, tests and confidence intervals of escalc outcomes
#'
#' \code{summary()} of an object made by \code{escalc()} adds, as metafor's
#' \code{summary.escalc()}, the standard error, the test statistic of
#' \code{yi = H0}, its two-sided p-value and the Wald confidence interval of
#' each outcome; with \code{transf} the outcomes and the bounds are
#' transformed and the other columns left out.
#'
#' @param object an object of class \code{mf_escalc}.
#' @param var.names the names of the yi and vi columns to use (default: the
#'   ones \code{escalc()} made).
#' @param append logical: return the data with the new columns (\code{TRUE})
#'   or only the outcomes and the new columns.
#' @param replace logical: replace existing columns of these names
#'   (\code{FALSE}: fill in their missing values only).
#' @param digits digits for printing (one number or metafor's named vector).
#' @param ... further arguments of \code{transf}.
#' @return An object of class \code{mf_escalc}.
#' @examples
#' dat <- escalc("RR", ai = c(4, 6, 3), bi = c(119, 300, 228),
#'               ci = c(11, 29, 11), di = c(128, 274, 209))
#' summary(dat)
#' summary(dat, transf = exp, append = FALSE)
#' @param out.names names of the columns \code{summary()} adds: the standard
#'   error, the test statistic, the p-value and the confidence bounds.
#' @param H0 value of the outcome under the null hypothesis of the test
#'   (one value, or one per row).
#' @param level confidence level of the intervals (e.g. 95).
#' @param olim optional limits (two values) to which the (transformed)
#'   outcomes and bounds are truncated.
#' @param transf optional function applied to the outcomes and the bounds of
#'   the confidence intervals (e.g. \code{exp}); the variances, standard
#'   errors, test statistics and p-values are then left out.  Further
#'   arguments in \code{...} are passed to it (vectorised, as in metafor).
#' @export
summary.mf_escalc <- function(object, out.names = c("sei", "zi", "pval", "ci.lb", "ci.ub"),
                              var.names, H0 = 0, append = TRUE, replace = TRUE,
                              level = 95, olim, digits, transf, ...) {
  x <- object
  alpha <- .mf_level(level)
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  if (!is.character(out.names) || length(out.names) != 5L || anyNA(out.names))
    .mf_stop("'out.names' must be 5 column names (se, test statistic, p-value, lower and upper bound).")
  if (any(out.names != make.names(out.names, unique = TRUE))) {
    out.names <- make.names(out.names, unique = TRUE)
    warning("'out.names' adjusted to syntactically valid names: ",
            paste(out.names, collapse = ", "), call. = FALSE)
  }
  for (nm in c("append", "replace")) {
    val <- get(nm)
    if (!is.logical(val) || length(val) != 1L || is.na(val))
      .mf_stop(sprintf("'%s' must be TRUE or FALSE.", nm))
  }
  if (missing(var.names)) {
    yn <- attr(x, "yi.names")[1]
    vn <- attr(x, "vi.names")[1]
    if (is.null(yn) || is.na(yn)) yn <- "yi"
    if (is.null(vn) || is.na(vn)) vn <- "vi"
  } else {
    if (!is.character(var.names) || length(var.names) != 2L || anyNA(var.names))
      .mf_stop("'var.names' must be 2 column names (yi and vi).")
    if (any(var.names != make.names(var.names, unique = TRUE))) {
      var.names <- make.names(var.names, unique = TRUE)
      warning("'var.names' adjusted to syntactically valid names: ",
              paste(var.names, collapse = ", "), call. = FALSE)
    }
    yn <- var.names[1]
    vn <- var.names[2]
  }
  for (nm in c(yn, vn))
    if (!nm %in% names(x)) .mf_stop(sprintf("cannot find the column '%s' in the data.", nm))
  yi <- x[[yn]]
  vi <- x[[vn]]
  if (!is.numeric(H0) || !length(H0) %in% c(1L, length(yi)) || anyNA(H0))
    .mf_stop(sprintf("'H0' must be one number or one per row (%d).", length(yi)))
  if (!missing(transf) && !is.null(transf) && !is.function(transf) && !isFALSE(transf))
    .mf_stop("'transf' must be a function, e.g. transf = exp.")
  do_transf <- !missing(transf) && is.function(transf)
  if (!missing(olim) && (!is.numeric(olim) || length(olim) != 2L || anyNA(olim)))
    .mf_stop("'olim' must be two numbers (lower and upper limit).")

  sei <- sqrt(vi)
  zi <- c(yi - H0) / sei
  pval <- 2 * stats::pnorm(abs(zi), lower.tail = FALSE)
  lb <- c(yi - crit * sei)
  ub <- c(yi + crit * sei)
  if (do_transf) {
    # applied element by element, extra arguments vectorised (as metafor)
    tr <- function(v) .mf_transf_run(function() mapply(transf, v, ...), length(v))
    lb <- tr(lb)
    ub <- tr(ub)
    yi <- tr(yi)
    vi <- sei <- zi <- pval <- NULL
  }
  # a decreasing transformation swaps the bounds
  sw <- !is.na(lb) & !is.na(ub) & lb > ub
  tmp <- lb[sw]; lb[sw] <- ub[sw]; ub[sw] <- tmp
  if (!missing(olim)) {
    olim <- sort(olim)
    clamp <- function(z) pmin(pmax(z, olim[1]), olim[2])
    yi <- clamp(yi); lb <- clamp(lb); ub <- clamp(ub)
  }

  y <- x
  class(y) <- "data.frame"
  y[[yn]] <- yi
  y[[vn]] <- vi
  vals <- list(sei, zi, pval, lb, ub)
  if (append) {
    dat <- y
    for (j in 1:5) {
      nm <- out.names[j]
      if (is.null(vals[[j]])) {
        if (replace) dat[[nm]] <- NULL
        next
      }
      if (replace || !nm %in% names(dat)) {
        dat[[nm]] <- vals[[j]]
      } else {
        col <- dat[[nm]]
        na <- is.na(col)
        col[na] <- vals[[j]][na]
        dat[[nm]] <- col
      }
    }
  } else if (do_transf) {
    dat <- data.frame(yi, lb, ub)
    names(dat) <- c(yn, out.names[4:5])
  } else {
    dat <- data.frame(yi, vi, sei, zi, pval, lb, ub)
    names(dat) <- c(yn, vn, out.names)
  }
  attr(dat, "digits") <- if (!missing(digits)) .mf_digits_vec(digits, attr(x, "digits"))
                         else attr(x, "digits")
  if (is.null(attr(dat, "digits"))) attr(dat, "digits") <- 4
  attr(dat, "yi.names") <- union(yn, attr(object, "yi.names"))
  attr(dat, "vi.names") <- union(vn, attr(object, "vi.names"))
  attr(dat, "sei.names") <- union(out.names[1], attr(object, "sei.names"))
  attr(dat, "zi.names") <- union(out.names[2], attr(object, "zi.names"))
  attr(dat, "pval.names") <- union(out.names[3], attr(object, "pval.names"))
  attr(dat, "ci.lb.names") <- union(out.names[4], attr(object, "ci.lb.names"))
  attr(dat, "ci.ub.names") <- union(out.names[5], attr(object, "ci.ub.names"))
  class(dat) <- c("mf_escalc", "data.frame")
  dat
}

#' @export
`[.mf_escalc` <- function(x, i, j, drop) {
  y <- x
  class(y) <- "data.frame"
  rowsel <- !missing(i) && (nargs() - !missing(drop)) > 2L
  if (rowsel) {
    # as metafor, the row index may use the columns, e.g. dat[year > 1970, ];
    # but an index the caller can evaluate is the caller's (metafor looks in
    # the columns first, so that subset(), unique(), ... of data with a column
    # named like their internal variables, e.g. 'r' or 'x', pick wrong rows)
    ie <- substitute(i)
    pf <- parent.frame()
    i <- tryCatch(eval(ie, pf), error = function(e) eval(ie, y, pf))
    idx <- seq_len(nrow(y))
    names(idx) <- row.names(y)
    rows <- unname(idx[i])
  }
  out <- if (!rowsel) {
    if (nargs() == 2L && !missing(i)) y[i] else if (missing(drop)) y[, j] else y[, j, drop = drop]
  } else if (missing(j)) {
    if (missing(drop)) y[i, ] else y[i, , drop = drop]
  } else {
    if (missing(drop)) y[i, j] else y[i, j, drop = drop]
  }
  if (!is.data.frame(out)) return(out)
  for (nm in intersect(attr(x, "yi.names"), names(out))) {
    col <- out[[nm]]
    old <- x[[nm]]
    if (rowsel) {
      attr(col, "ni") <- attr(old, "ni")[rows]
      attr(col, "slab") <- attr(old, "slab")[rows]
    }
    attr(col, "measure") <- attr(old, "measure")
    out[[nm]] <- col
  }
  for (a in .esc_names_attrs) {
    keep <- intersect(attr(x, a), names(out))
    attr(out, a) <- if (length(keep)) keep else NULL
  }
  attr(out, "digits") <- attr(x, "digits")
  class(out) <- class(x)
  out
}

#' @export
`$<-.mf_escalc` <- function(x, name, value) {
  cls <- class(x)
  y <- x
  class(y) <- "data.frame"
  y[[name]] <- value
  for (a in .esc_names_attrs) {
    keep <- intersect(attr(y, a), names(y))
    attr(y, a) <- if (length(keep)) keep else NULL
  }
  class(y) <- cls
  y
}

#' @export
rbind.mf_escalc <- function(..., deparse.level = 1) {
  args <- list(...)
  dat <- rbind.data.frame(..., deparse.level = deparse.level)
  for (nm in intersect(attr(dat, "yi.names"), names(dat))) {
    get_attr <- function(a) lapply(args, function(z)
      if (is.data.frame(z) && nm %in% names(z)) attr(z[[nm]], a) else NULL)
    col <- dat[[nm]]
    ni <- get_attr("ni")
    attr(col, "ni") <- if (all(!vapply(ni, is.null, logical(1)))) unlist(ni) else NULL
    sl <- get_attr("slab")
    attr(col, "slab") <- if (all(!vapply(sl, is.null, logical(1))))
      .esc_unique_labels(as.character(unlist(sl))) else NULL
    dat[[nm]] <- col
  }
  dat
}

#' @export
cbind.mf_escalc <- function(..., deparse.level = 1) {
  args <- list(...)
  dat <- data.frame(..., check.names = FALSE)
  for (a in .esc_names_attrs) {
    v <- unique(unlist(lapply(rev(args), function(z) attr(z, a))))
    attr(dat, a) <- v
  }
  dig <- NULL
  for (z in args) if (is.null(dig)) dig <- attr(z, "digits")
  attr(dat, "digits") <- dig
  class(dat) <- c("mf_escalc", "data.frame")
  dat
}
