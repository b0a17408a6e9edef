# metafor's to.long() and to.table(): the data of each study (2x2 table,
# means and SDs of two groups, a correlation, ...) as rows of a long data
# frame or as one table per study in an array.  Both read the data as
# escalc() does (the same arguments, zero-cell options add / to / drop00);
# one table of measure families below says which cells each family has.

# The families: the measures (those metafor's to.long() / to.table() accept),
# the arguments read, the cells of a study's table (row by row, as functions
# of the checked data) with the table's row and column names, and the column
# names of to.long()'s data frame (long: one row per table row; vlong: one
# row per cell).
.mf_tl_families <- list(
  tab = list(measures = c("RR", "OR", "PETO", "RD", "AS", "PHI", "YUQ", "YUY", "RTET", "PBIT", "OR2D", "OR2DN",
                          "OR2DL", "MPORM"),
             cells = function(v) list(v$ai, v$bi, v$ci, v$di), nr = 2L, rows = c("Grp1", "Grp2"),
             cols = c("Out1", "Out2"), long = c("study", "group", "out1", "out2"),
             vlong = c("study", "group", "outcome", "freq")),
  mp = list(measures = c("MPRD", "MPRR", "MPOR"),
            cells = function(v) list(v$ai + v$bi, v$ci + v$di, v$ai + v$ci, v$bi + v$di), nr = 2L,
            rows = c("Time1", "Time2"), cols = c("Out1", "Out2"), long = c("study", "time", "out1", "out2"),
            vlong = c("study", "time", "outcome", "freq"), vlong.unique = TRUE),
  mpc = list(measures = c("MPORC", "MPPETO"), cells = function(v) list(v$ai, v$bi, v$ci, v$di), nr = 2L,
             rows = c("Time1.Out1", "Time1.Out2"), cols = c("Time2.Out1", "Time2.Out2"),
             long = c("study", "out.time1", "out1.time2", "out2.time2"),
             vlong = c("study", "out.time1", "out.time2", "freq")),
  rate2 = list(measures = c("IRR", "IRD", "IRSD"), cells = function(v) list(v$x1i, v$t1i, v$x2i, v$t2i), nr = 2L,
               rows = c("Grp1", "Grp2"), cols = c("Events", "Person-Time"),
               long = c("study", "group", "events", "ptime")),
  quant = list(measures = c("MD", "SMD", "SMDH", "ROM", "RPB", "RBIS", "D2OR", "D2ORN", "D2ORL"),
               cells = function(v) list(v$m1i, v$sd1i, v$n1i, v$m2i, v$sd2i, v$n2i), nr = 2L,
               rows = c("Grp1", "Grp2"), cols = c("Mean", "SD", "n"), long = c("study", "group", "mean", "sd", "n")),
  cor = list(measures = c("COR", "UCOR", "ZCOR"), cells = function(v) list(v$ri, v$ni), nr = 1L, rows = "Grp",
             cols = c("r", "n"), long = c("study", "r", "n")),
  prop = list(measures = c("PR", "PLN", "PLO", "PRZ", "PAS", "PFT"), cells = function(v) list(v$xi, v$mi),
              nr = 1L, rows = "Grp", cols = c("Out1", "Out2"), long = c("study", "out1", "out2"),
              vlong = c("study", "outcome", "freq")),
  rate = list(measures = c("IR", "IRLN", "IRS", "IRFT"), cells = function(v) list(v$xi, v$ti), nr = 1L,
              rows = "Grp", cols = c("Events", "Person-Time"), long = c("study", "events", "ptime")),
  mean = list(measures = c("MN", "SMN", "MNLN"), cells = function(v) list(v$mi, v$sdi, v$ni), nr = 1L,
              rows = "Grp", cols = c("Mean", "SD", "n"), long = c("study", "mean", "sd", "n")),
  prepost = list(measures = c("MC", "SMCC", "SMCRH", "ROMC", "CVRC"),
                 cells = function(v) list(v$m1i, v$m2i, v$sd1i, v$sd2i, v$ni, v$ri), nr = 1L, rows = "Grp",
                 cols = c("Mean1", "Mean2", "SD1", "SD2", "n", "r"),
                 long = c("study", "mean1", "mean2", "sd1", "sd2", "n", "r")),
  smcr = list(measures = "SMCR", cells = function(v) list(v$m1i, v$m2i, v$sd1i, v$ni, v$ri), nr = 1L,
              rows = "Grp", cols = c("Mean1", "Mean2", "SD1", "n", "r"),
              long = c("study", "mean1", "mean2", "sd1", "n", "r")),
  alpha = list(measures = c("ARAW", "AHW", "ABT"), cells = function(v) list(v$ai, v$mi, v$ni), nr = 1L,
               rows = "Grp", cols = c("alpha", "m", "n"), long = c("study", "alpha", "m", "n"),
               long.unique = TRUE))

# measures of metafor's escalc() that its to.long() / to.table() refuse
.mf_tl_refused <- c("VR", "CVR", "PCOR", "ZPCOR", "SPCOR", "R2", "ZR2", "R2F", "ZR2F", "SDLN", "CVLN", "VRC")

# The family of a measure (or an error naming it).
.mf_tl_family <- function(measure, fn) {
  if (missing(measure)) .mf_stop(sprintf("%s(): 'measure' must be specified.", fn))
  if (!is.character(measure) || length(measure) != 1L || is.na(measure))
    .mf_stop(sprintf("%s(): 'measure' must be a single character string.", fn))
  if (measure %in% .mf_tl_refused)
    .mf_stop(sprintf("%s() is not available for measure = \"%s\" (as in metafor).", fn, measure))
  for (f in names(.mf_tl_families)) if (measure %in% .mf_tl_families[[f]]$measures) return(f)
  .mf_stop(sprintf("%s(): unknown measure \"%s\"; possible: %s.", fn, measure,
                   paste(unlist(lapply(.mf_tl_families, `[[`, "measures")), collapse = ", ")))
}

# Read, check and prepare the data of one family as metafor does: the
# arguments evaluated in `data`, subset, the group sizes completed, bad
# values rejected (naming the argument and rows), drop00 and add / to
# applied to the counts, the study labels, and the tables with missing
# values handled by na.action.  Returns the cells (a list of columns), the
# labels and the rows of `data` (NULL without data).
.mf_tl_data <- function(fn, family, measure, mf, env, data, add, to, drop00) {
  if (!is.character(to) || length(to) != 1L || is.na(to) || !to %in% c("all", "only0", "if0all", "none"))
    .mf_stop("'to' must be one of \"all\", \"only0\", \"if0all\", \"none\".")
  if (!is.numeric(add) || length(add) != 1L || is.na(add))
    .mf_stop("'add' must be a single number.")
  if (!is.logical(drop00) || length(drop00) != 1L || is.na(drop00))
    .mf_stop("'drop00' must be TRUE or FALSE.")
  na.act <- .mf_na_action()
  if (is.na(na.act)) .mf_stop("unknown 'na.action' set under options().")
  args <- switch(family, tab = , mp = , mpc = c("ai", "bi", "ci", "di", "n1i", "n2i"),
                 rate2 = c("x1i", "x2i", "t1i", "t2i"), quant = c("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
                 cor = c("ri", "ni", "ti"), prop = c("xi", "mi", "ni"), rate = c("xi", "ti"),
                 mean = c("mi", "sdi", "ni"), prepost = c("m1i", "m2i", "sd1i", "sd2i", "ri", "ni"),
                 smcr = c("m1i", "m2i", "sd1i", "ri", "ni"), alpha = c("ai", "mi", "ni"))
  src <- if (is.null(data)) env else data
  v <- lapply(stats::setNames(args, args), function(a) .mf_numeric(.mf_tab_getx(mf, a, src, env), a, allow_null = TRUE))
  v <- v[!vapply(v, is.null, logical(1))]
  lens <- lengths(v)
  if (length(lens) && any(lens != lens[1L]))
    .mf_stop(sprintf("%s(): the data vectors have different lengths: %s.", fn,
                     paste0(names(lens), " (", lens, ")", collapse = ", ")))
  need <- function(nms, hint = paste(nms, collapse = ", ")) {
    miss <- setdiff(nms, names(v))
    if (length(miss))
      .mf_stop(sprintf("%s(measure = \"%s\") needs %s; missing: %s.", fn, measure, hint, paste(miss, collapse = ", ")))
  }
  bad <- function(cond, what) .mf_tab_bad(cond, what)
  if (family %in% c("tab", "mp", "mpc")) {
    need(c("ai", "ci"), "ai, bi, ci, di (or ai, n1i, ci, n2i)")
    if (!is.null(v$n1i) && !is.null(v$bi)) bad(v$n1i != v$ai + v$bi, "'n1i' must equal 'ai' + 'bi'")
    if (!is.null(v$n2i) && !is.null(v$di)) bad(v$n2i != v$ci + v$di, "'n2i' must equal 'ci' + 'di'")
    if (is.null(v$bi) && !is.null(v$n1i)) v$bi <- v$n1i - v$ai
    if (is.null(v$di) && !is.null(v$n2i)) v$di <- v$n2i - v$ci
    if (!is.null(v$bi) && !is.null(v$n1i)) v$bi[is.na(v$bi)] <- (v$n1i - v$ai)[is.na(v$bi)]
    if (!is.null(v$di) && !is.null(v$n2i)) v$di[is.na(v$di)] <- (v$n2i - v$ci)[is.na(v$di)]
    need(c("bi", "di"), "ai, bi, ci, di (or ai, n1i, ci, n2i)")
    cnt <- c("ai", "bi", "ci", "di")
  } else if (family == "rate2") {
    need(args)
    cnt <- c("x1i", "x2i")
  } else if (family == "cor") {
    if (!is.null(v$ti) && !is.null(v$ni)) {
      r.t <- v$ti / sqrt(v$ni - 2 + v$ti^2)
      v$ri <- if (is.null(v$ri)) r.t else ifelse(is.na(v$ri), r.t, v$ri)
    }
    need(c("ri", "ni"), "ri (or ti) and ni")
    cnt <- NULL
  } else if (family == "prop") {
    need("xi", "xi and mi (or ni)")
    if (!is.null(v$ni) && !is.null(v$mi)) bad(v$ni != v$xi + v$mi, "'ni' must equal 'xi' + 'mi'")
    if (!is.null(v$ni)) v$mi <- if (is.null(v$mi)) v$ni - v$xi else ifelse(is.na(v$mi), v$ni - v$xi, v$mi)
    need("mi", "xi and mi (or ni)")
    cnt <- c("xi", "mi")
  } else {
    need(args)
    cnt <- if (family == "rate") "xi" else NULL
  }
  k.all <- length(v[[1L]])
  v <- v[intersect(c(args, "bi", "di", "mi", "ri"), names(v))]
  subset <- .mf_tab_getx(mf, "subset", src, env)
  keep <- if (is.null(subset)) rep(TRUE, k.all) else .esc_subset(subset, k.all, "subset")
  v <- lapply(v, `[`, keep)
  if (family %in% c("tab", "mp", "mpc")) {
    v$n1i <- v$ai + v$bi
    v$n2i <- v$ci + v$di
    bad(v$ai > v$n1i, "'ai' must not exceed 'n1i'")
    bad(v$ci > v$n2i, "'ci' must not exceed 'n2i'")
    for (nm in cnt) bad(v[[nm]] < 0, sprintf("'%s' must not be negative", nm))
  } else if (family == "rate2") {
    for (nm in cnt) bad(v[[nm]] < 0, sprintf("'%s' must not be negative", nm))
    for (nm in c("t1i", "t2i")) bad(v[[nm]] <= 0, sprintf("'%s' (person-time) must be positive", nm))
  } else if (family == "quant") {
    for (nm in c("sd1i", "sd2i")) bad(v[[nm]] < 0, sprintf("'%s' must not be negative", nm))
    for (nm in c("n1i", "n2i")) bad(v[[nm]] <= 0, sprintf("'%s' must be positive", nm))
  } else if (family == "cor") {
    bad(abs(v$ri) > 1, "'ri' must lie in [-1, 1]")
    bad(v$ni <= 0, "'ni' must be positive")
  } else if (family == "prop") {
    v$ni <- v$xi + v$mi
    for (nm in cnt) bad(v[[nm]] < 0, sprintf("'%s' must not be negative", nm))
    bad(v$ni <= 0, "'ni' (= xi + mi) must be positive")
  } else if (family == "rate") {
    bad(v$xi < 0, "'xi' must not be negative")
    bad(v$ti <= 0, "'ti' (person-time) must be positive")
  } else if (family == "mean") {
    bad(v$sdi < 0, "'sdi' must not be negative")
    bad(v$ni <= 0, "'ni' must be positive")
    if (measure == "MNLN") bad(v$mi < 0, "'mi' (the means) must not be negative")
  } else if (family %in% c("prepost", "smcr")) {
    for (nm in intersect(c("sd1i", "sd2i"), names(v))) bad(v[[nm]] < 0, sprintf("'%s' must not be negative", nm))
    bad(abs(v$ri) > 1, "'ri' must lie in [-1, 1]")
    bad(v$ni <= 0, "'ni' must be positive")
  } else if (family == "alpha") {
    bad(v$ai > 1, "'ai' (alpha) must not exceed 1")
    bad(v$mi < 2, "'mi' (the number of items) must be at least 2")
    bad(v$ni <= 0, "'ni' must be positive")
  }
  # drop00: tables without events (or without non-events) in both groups
  if (drop00 && family %in% c("tab", "mp", "mpc", "rate2")) {
    d00 <- if (family == "rate2") v$x1i == 0 & v$x2i == 0 else (v$ai == 0 & v$ci == 0) | (v$bi == 0 & v$di == 0)
    d00[is.na(d00)] <- FALSE
    for (nm in cnt) v[[nm]][d00] <- NA_real_
  }
  if (!is.null(cnt) && to != "none") v[cnt] <- .esc_add(v[cnt], add, to)

  # study labels (the row numbers by default), made unique
  slab <- .mf_tab_getx(mf, "slab", src, env)
  if (is.null(slab)) slab <- seq_len(k.all) else {
    if (anyNA(slab)) .mf_stop(sprintf("'slab' has missing values (%s).", .mf_rows(is.na(slab))))
    if (length(slab) != k.all) .mf_stop(sprintf("'slab' has length %d but the data have %d rows.", length(slab), k.all))
    if (is.factor(slab)) slab <- as.character(slab)
  }
  slab <- slab[keep]
  if (anyDuplicated(slab)) slab <- .esc_unique_labels(as.character(slab))
  rows <- if (is.null(data)) NULL else which(keep)
  # tables with missing values: na.omit drops them (with a warning), na.fail stops
  cells <- .mf_tl_families[[family]]$cells(v)
  has.na <- Reduce(`|`, lapply(cells, is.na))
  if (any(has.na)) {
    if (na.act == "na.fail") .mf_stop(sprintf("Missing values in tables (%s).", .mf_rows(has.na)))
    if (na.act == "na.omit") {
      cells <- lapply(cells, `[`, !has.na)
      slab <- slab[!has.na]
      if (!is.null(rows)) rows <- rows[!has.na]
      warning(sprintf("%d %s with NAs omitted.", sum(has.na), if (sum(has.na) > 1L) "tables" else "table"),
              call. = FALSE)
    }
  }
  if (!length(slab)) .mf_stop("Processing terminated since k = 0.")
  list(cells = cells, slab = slab, rows = rows)
}

# The evaluation environment and data of a call of to.long() / to.table().
.mf_tl_src <- function(data) {
  if (is.null(data)) return(NULL)
  if (!is.data.frame(data)) data <- data.frame(data)
  data
}

#' Convert data into long format
#'
#' As metafor's \code{to.long()}: the data of each study, given with the
#' arguments of \code{\link{escalc}} for the measure, as rows of a data
#' frame in long format: two rows per 2x2 table (the groups, with the counts
#' of the two outcomes), or four with \code{vlong = TRUE} (one per cell);
#' two rows per study of two groups (means, SDs, sizes; events and
#' person-times); one row per study for single groups (correlations,
#' proportions, rates, means, pre-post data, Cronbach's alpha).  The study
#' column is a factor of the study labels; the group (or time, outcome)
#' columns are factors with levels \code{c(2, 1)}, as in metafor.  Tables
#' with missing values follow \code{getOption("na.action")}.
#'
#' @param measure the outcome measure (one of those metafor's
#'   \code{to.long()} accepts; it fixes the kind of data).
#' @param ai,bi,ci,di,n1i,n2i,x1i,x2i,t1i,t2i,m1i,m2i,sd1i,sd2i,xi,mi,ri,ti,sdi,ni
#'   the data of the studies, as in \code{\link{escalc}}.
#' @param data optional data frame in which the arguments are evaluated.
#' @param slab optional study labels (default: the row numbers).
#' @param subset optional logical or index vector selecting the studies.
#' @param add,to the value added to the counts (2x2 tables, proportions,
#'   events) and to which tables (\code{"all"}, \code{"only0"},
#'   \code{"if0all"}, \code{"none"}; default none).
#' @param drop00 set 2x2 tables (and pairs of event counts) with no events
#'   or no non-events in both groups to missing.
#' @param vlong one row per cell of the 2x2 tables (and proportions).
#' @param append \code{TRUE} (add all columns of \code{data}), \code{FALSE},
#'   or the columns of \code{data} (names or numbers) to add in front.
#' @param var.names the names of the new columns (default as metafor's).
#' @return A data frame.
#' @examples
#' dat <- data.frame(tpos = c(4, 6, 3), tneg = c(119, 300, 228),
#'                   cpos = c(11, 29, 11), cneg = c(128, 274, 209))
#' to.long(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
#' to.table(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat)
#' @export
to.long <- function(measure, ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i, m1i, m2i, sd1i, sd2i, xi, mi, ri, ti,
                    sdi, ni, data, slab, subset, add = 1/2, to = "none", drop00 = FALSE, vlong = FALSE,
                    append = TRUE, var.names) {
  family <- .mf_tl_family(measure, "to.long")
  spec <- .mf_tl_families[[family]]
  if (!is.logical(vlong) || length(vlong) != 1L || is.na(vlong)) .mf_stop("'vlong' must be TRUE or FALSE.")
  data <- if (missing(data)) NULL else .mf_tl_src(data)
  # the columns of data to add in front (metafor: TRUE, numbers or names)
  appendvars <- NULL
  if (!is.null(data)) {
    if (is.logical(append)) {
      if (length(append) != 1L || is.na(append)) .mf_stop("'append' must be TRUE, FALSE or columns of 'data'.")
      if (append) appendvars <- seq_len(ncol(data))
    } else if (is.numeric(append)) {
      a <- unique(round(append))
      appendvars <- a[!is.na(a) & a >= 1 & a <= ncol(data)]
    } else if (is.character(append)) {
      appendvars <- stats::na.omit(pmatch(unique(append), colnames(data)))
    } else .mf_stop("'append' must be TRUE, FALSE or columns of 'data'.")
  }
  d <- .mf_tl_data("to.long", family, measure, match.call(), parent.frame(), data, add, to, drop00)
  cells <- d$cells
  k <- length(d$slab)
  very <- vlong && !is.null(spec$vlong)
  nc <- length(cells) / spec$nr
  if (very) {
    # one row per cell: row (group / time) and column (outcome) indices
    per <- length(cells)
    out <- data.frame(rep(d$slab, each = per), stringsAsFactors = FALSE)
    if (spec$nr == 2L) out[[2L]] <- rep(c(1, 1, 2, 2), k)
    out[[ncol(out) + 1L]] <- rep(seq_len(nc), length.out = per * k)
    out[[ncol(out) + 1L]] <- c(do.call(rbind, cells))
    nms <- spec$vlong
    fac <- seq_len(ncol(out))[-c(1L, ncol(out))]
  } else {
    per <- spec$nr
    out <- data.frame(rep(d$slab, each = per), stringsAsFactors = FALSE)
    if (per == 2L) out[[2L]] <- rep(c(1, 2), k)
    for (j in seq_len(nc)) {
      col <- if (per == 2L) c(rbind(cells[[j]], cells[[nc + j]])) else cells[[j]]
      out[[ncol(out) + 1L]] <- col
    }
    nms <- spec$long
    fac <- if (per == 2L) 2L else integer(0)
  }
  if (!missing(var.names)) {
    if (length(var.names) != length(nms)) .mf_stop(sprintf("'var.names' must be of length %d.", length(nms)))
    nms <- var.names
  }
  names(out) <- nms
  out[[1L]] <- factor(out[[1L]])
  for (j in fac) out[[j]] <- factor(out[[j]], levels = c(2, 1))
  if (length(appendvars)) {
    front <- data[rep(d$rows, each = per), appendvars, drop = FALSE]
    uniq <- if (very) isTRUE(spec$vlong.unique) else isTRUE(spec$long.unique)
    out <- if (uniq) data.frame(front, out) else cbind(front, out)
  }
  rownames(out) <- seq_len(nrow(out))
  out
}

#' Convert data into table format
#'
#' As metafor's \code{to.table()}: the data of each study as a table, all
#' studies in one array of dimension rows x columns x studies (named by the
#' study labels): 2 x 2 tables of counts, 2 x 2 tables of events and
#' person-times, 2 x 3 tables of means, SDs and sizes, and one-row tables
#' for single groups.
#'

#' @param rows,cols optional names of the rows and columns of the tables.
#' @return An array.
#' @rdname to.long
#' @export
to.table <- function(measure, ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i, m1i, m2i, sd1i, sd2i, xi, mi, ri, ti,
                     sdi, ni, data, slab, subset, add = 1/2, to = "none", drop00 = FALSE, rows, cols) {
  family <- .mf_tl_family(measure, "to.table")
  spec <- .mf_tl_families[[family]]
  data <- if (missing(data)) NULL else .mf_tl_src(data)
  d <- .mf_tl_data("to.table", family, measure, match.call(), parent.frame(), data, add, to, drop00)
  nc <- length(d$cells) / spec$nr
  if (missing(rows)) rows <- spec$rows else if (length(rows) != spec$nr)
    .mf_stop(sprintf("'rows' (the names of the table rows) must be of length %d.", spec$nr))
  if (missing(cols)) cols <- spec$cols else if (length(cols) != nc)
    .mf_stop(sprintf("'cols' (the names of the table columns) must be of length %d.", nc))
  k <- length(d$slab)
  # cells are given row by row; the array is filled column by column
  m <- do.call(rbind, d$cells)
  ord <- c(matrix(seq_len(nrow(m)), nrow = spec$nr, byrow = TRUE))
  array(c(m[ord, , drop = FALSE]), dim = c(spec$nr, nc, k), dimnames = list(rows, cols, d$slab))
}
