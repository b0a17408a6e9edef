# escalc(): effect sizes and sampling variances with the argument names and
# output format of metafor::escalc() (Viechtbauer 2010, J Stat Softw 36(3)).
# The formulas live in R/escalc-measures.R.

.esc_measure_family <- c(
  OR = "2x2", RR = "2x2", RD = "2x2", PETO = "2x2", AS = "2x2",
  MD = "quant", SMD = "quant", SMDH = "quant", ROM = "quant",
  MC = "prepost", SMCC = "prepost", SMCR = "prepost",
  COR = "cor", UCOR = "cor", ZCOR = "cor",
  PR = "prop", PLN = "prop", PLO = "prop", PAS = "prop", PFT = "prop",
  GEN = "gen"
)

.esc_family_args <- list(
  "2x2" = c("ai", "bi", "ci", "di", "n1i", "n2i"),
  quant = c("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
  prepost = c("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"),
  cor = c("ri", "ni", "ti", "pi"),
  prop = c("xi", "mi", "ni"),
  gen = c("yi", "vi", "sei", "ni")
)

.esc_vtypes <- c("UB", "LS", "LS2", "LS3", "HO", "AV", "AVHO", "H0", "H0a", "H0b")

.esc_default_digits <- function(d = 4) {
  c(est = d, se = d, test = d, pval = d, ci = d, var = d, sevar = d,
    fit = d, het = d)
}

# numeric input without attributes (drops SPSS/haven labels, AsIs, ...)
.esc_as_num <- function(x, name) {
  if (is.null(x)) return(NULL)
  if (is.factor(x) || is.character(x) || is.list(x) || is.complex(x))
    stop("argument '", name, "' must be numeric", call. = FALSE)
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
#' Additional argument \code{correct} (via \code{...}): \code{TRUE}
#' (default, exact correction), \code{"approx"}, or \code{FALSE} (no bias
#' correction: Cohen's d for SMD, plain log ratio for ROM).
#'
#' @param measure character string naming the outcome measure.
#' @param ai,bi,ci,di cell frequencies of 2x2 tables (\code{di} is Cohen's d
#'   for \code{measure = "SMD"}/\code{"SMCC"}).
#' @param n1i,n2i group sizes.
#' @param x1i,x2i,t1i,t2i accepted for compatibility (incidence measures are
#'   not implemented).
#' @param m1i,m2i,sd1i,sd2i means and standard deviations.
#' @param xi,mi event and non-event counts for single proportions.
#' @param ri correlations.
#' @param ti t statistics.
#' @param pi two-sided p-values (negative values indicate a negative effect).
#' @param sdi,r2i accepted for compatibility (unused).
#' @param ni sample sizes.
#' @param yi,vi,sei pre-computed estimates, variances, standard errors.
#' @param data optional data frame (tibbles and data.tables are accepted).
#' @param slab optional study labels.
#' @param subset optional logical or index vector selecting rows.
#' @param include optional logical or index vector; rows not included get
#'   \code{NA} (or keep their old values when appending).
#' @param add,to,drop00 zero-cell handling for 2x2 tables and proportions.
#' @param vtype variance type (single value or one per row).
#' @param var.names names of the yi/vi (and measure) columns.
#' @param add.measure logical: add a column with the measure name.
#' @param append logical: append to \code{data}.
#' @param replace logical: replace existing yi/vi values (if \code{FALSE},
#'   only missing values are filled in).
#' @param digits number of digits for printing.
#' @param ... \code{correct} (see Details).
#' @return A data frame of class \code{c("mf_escalc", "data.frame")} (its own class name, so that metafor can be loaded too).
#' @references Hedges, L. V. (1981). Distribution theory for Glass's
#'   estimator of effect size and related estimators. Journal of Educational
#'   Statistics, 6, 107-128.
#'
#'   Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor
#'   package. Journal of Statistical Software, 36(3), 1-48.
#' @export
escalc <- function(measure, ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i,
                   m1i, m2i, sd1i, sd2i, xi, mi, ri, ti, pi, sdi, r2i, ni,
                   yi, vi, sei, data, slab, subset, include,
                   add = 1/2, to = "only0", drop00 = FALSE, vtype = "LS",
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
  if (!measure %in% names(.esc_measure_family))
    stop("unknown measure '", measure, "'; supported measures: ",
         paste(names(.esc_measure_family), collapse = ", "), call. = FALSE)
  family <- .esc_measure_family[[measure]]

  # ---- options --------------------------------------------------------------
  if (!is.character(to) || length(to) != 1L || is.na(to) ||
      !to %in% c("all", "only0", "if0all", "none"))
    stop("argument 'to' must be one of \"all\", \"only0\", \"if0all\", \"none\"",
         call. = FALSE)
  if (!is.logical(drop00) || length(drop00) != 1L || is.na(drop00))
    stop("argument 'drop00' must be TRUE or FALSE", call. = FALSE)
  if (missing(add) && measure %in% c("AS", "PAS", "PFT")) add <- 0
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
  ddd <- list(...)
  correct <- if (is.null(ddd$correct)) TRUE else ddd$correct
  if (!(isTRUE(correct) || isFALSE(correct) ||
        identical(correct, "exact") || identical(correct, "approx")))
    stop("argument 'correct' must be TRUE, FALSE, \"exact\" or \"approx\"",
         call. = FALSE)
  if (identical(correct, "exact")) correct <- TRUE
  extra <- setdiff(names(ddd), "correct")
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
    data <- as.data.frame(data)      # tibble / data.table -> data.frame
    class(data) <- "data.frame"      # also drops an "escalc" class
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
    "2x2" = .esc_es_2x2(measure, v, vtype, rows, add, to, drop00),
    quant = .esc_es_quant(measure, v, vtype, rows, correct),
    prepost = .esc_es_prepost(measure, v, vtype, rows, correct),
    cor = .esc_es_cor(measure, v, vtype, rows),
    prop = .esc_es_prop(measure, v, vtype, rows, add, to),
    gen = {
      vv <- if (!is.null(v$vi)) v$vi else v$sei^2
      if (!is.null(v$vi) && !is.null(v$sei)) vv[is.na(vv)] <- v$sei[is.na(vv)]^2
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

  # ---- assemble output -------------------------------------------------------
  yname <- var.names[1]
  vname <- var.names[2]
  if (has.data && append) {
    dat <- data[subset, , drop = FALSE]
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
  class(dat) <- c("mf_escalc", "data.frame")
  dat
}

#' @export
print.mf_escalc <- function(x, digits = attr(x, "digits"), ...) {
  if (is.null(digits)) digits <- .esc_default_digits()
  if (length(digits) == 1L && is.null(names(digits))) digits <- .esc_default_digits(digits)
  y <- x
  class(y) <- "data.frame"
  fmt <- function(z, d) {
    out <- formatC(as.vector(z), digits = d, format = "f")
    out[is.na(z)] <- "NA"
    out
  }
  yn <- intersect(attr(x, "yi.names"), names(y))
  vn <- intersect(attr(x, "vi.names"), names(y))
  for (nm in yn) y[[nm]] <- fmt(y[[nm]], digits[["est"]])
  for (nm in vn) y[[nm]] <- fmt(y[[nm]], digits[["var"]])
  for (nm in intersect(c("sei"), names(y))) y[[nm]] <- fmt(y[[nm]], digits[["se"]])
  for (nm in intersect(c("zi"), names(y))) y[[nm]] <- fmt(y[[nm]], digits[["test"]])
  for (nm in intersect(c("pval"), names(y))) y[[nm]] <- fmt(y[[nm]], digits[["pval"]])
  for (nm in intersect(c("ci.lb", "ci.ub"), names(y))) y[[nm]] <- fmt(y[[nm]], digits[["ci"]])
  print.data.frame(y, ...)
  invisible(x)
}

#' @export
summary.mf_escalc <- function(object, level = 95, ...) {
  .mf_check_dots("summary.mf_escalc", ...)
  x <- object
  yn <- attr(x, "yi.names")[1]
  vn <- attr(x, "vi.names")[1]
  if (is.null(yn) || !yn %in% names(x)) yn <- "yi"
  if (is.null(vn) || !vn %in% names(x)) vn <- "vi"
  if (!all(c(yn, vn) %in% names(x)))
    stop("cannot find the yi/vi columns", call. = FALSE)
  alpha <- if (level > 1) 1 - level / 100 else 1 - level
  crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  yi <- as.vector(x[[yn]])
  sei <- sqrt(x[[vn]])
  x$sei <- sei
  x$zi <- yi / sei
  x$pval <- 2 * stats::pnorm(abs(yi / sei), lower.tail = FALSE)
  x$ci.lb <- yi - crit * sei
  x$ci.ub <- yi + crit * sei
  x
}

#' @export
`[.mf_escalc` <- function(x, i, j, drop) {
  cls <- class(x)
  keep <- attributes(x)[c("digits", "yi.names", "vi.names")]
  y <- x
  class(y) <- "data.frame"
  yattr <- lapply(stats::setNames(keep$yi.names, keep$yi.names), function(nm)
    attributes(y[[nm]])[c("slab", "ni", "measure")])
  nr <- nrow(y)
  if (nargs() == 2L) {          # x[j]: column selection only
    rows <- seq_len(nr)
    out <- if (missing(i)) y else y[i]
  } else {
    if (missing(i)) {
      rows <- seq_len(nr)
    } else {
      idx <- seq_len(nr)
      names(idx) <- row.names(y)
      rows <- unname(idx[i])
    }
    out <- if (missing(drop)) y[i, j] else y[i, j, drop = drop]
  }
  if (!is.data.frame(out)) return(out)
  for (nm in intersect(names(yattr), names(out))) {
    a <- yattr[[nm]]
    col <- out[[nm]]
    if (!is.null(a$slab)) attr(col, "slab") <- a$slab[rows]
    if (!is.null(a$ni)) attr(col, "ni") <- a$ni[rows]
    if (!is.null(a$measure)) attr(col, "measure") <- a$measure
    out[[nm]] <- col
  }
  attr(out, "digits") <- keep$digits
  attr(out, "yi.names") <- intersect(keep$yi.names, names(out))
  attr(out, "vi.names") <- intersect(keep$vi.names, names(out))
  class(out) <- cls
  out
}
