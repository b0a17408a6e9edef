# metafor's to.wide(): arm-level data in long format (one row per group of a
# study) to one row per comparison of a group with the study's reference
# group (the contrast-based format of network meta-analysis).

# the position of a column of data named (unique partial match) or numbered
# by `arg` (argument name `what`)
.mf_col_pos <- function(arg, what, varnames) {
  if (!(is.character(arg) || is.numeric(arg)))
    .mf_stop(sprintf("'%s' must be a column name or a column number.", what))
  if (is.character(arg)) {
    pos <- charmatch(arg, varnames)
    if (anyNA(pos) || any(pos == 0L))
      .mf_stop(sprintf("'%s': could not find or uniquely identify the column(s) %s.", what,
                       paste0("'", arg[is.na(pos) | pos == 0L], "'", collapse = ", ")))
  } else {
    pos <- round(arg)
    if (any(pos < 1 | pos > length(varnames)))
      .mf_stop(sprintf("'%s': there is no column %s in 'data'.", what,
                       paste(pos[pos < 1 | pos > length(varnames)], collapse = ", ")))
  }
  pos
}

#' Restructure arm-level data into the wide (contrast) format
#'
#' As metafor's \code{to.wide()}: the rows of each study (one per group) are
#' paired, each group with the study's reference group (the group
#' \code{ref}, or else the one that comes last in the order of the levels of
#' \code{grp} with \code{ref} moved to the end).  The columns \code{grpvars}
#' (with \code{grp}) of the group get \code{postfix[1]}, those of the
#' reference group are added with \code{postfix[2]}.  Studies with a single
#' row give one row with missing values for the reference group.  The rows
#' are sorted by study and group.
#'
#' @param data data frame in long format.
#' @param study,grp the column (name or number) of the study and group
#'   identifiers (no missing values).
#' @param ref the reference group (default: the most frequent group).
#' @param grpvars the columns (names or numbers) whose values differ
#'   between the groups.
#' @param postfix suffixes of the group's and the reference group's columns.
#' @param addid,addcomp,adddesign logical: add a row identifier, the
#'   comparison (\code{"B-A"}) and the design (all groups of the study,
#'   \code{"B-C-A"}).
#' @param minlen minimum number of characters of the shortened group names
#'   in \code{comp} and \code{design}.
#' @param var.names names of the id, comparison and design columns.
#' @return A data frame.
#' @examples
#' d <- data.frame(study = c(1, 1, 2, 2, 2), trt = c("A", "B", "A", "B", "C"),
#'                 xi = c(5, 8, 3, 6, 9), ni = c(50, 50, 40, 40, 40))
#' to.wide(d, study = "study", grp = "trt", ref = "A", grpvars = c("xi", "ni"))
#' @export
to.wide <- function(data, study, grp, ref, grpvars, postfix = c(".1", ".2"), addid = TRUE, addcomp = TRUE,
                    adddesign = TRUE, minlen = 2, var.names = c("id", "comp", "design")) {
  if (missing(data)) .mf_stop("'data' must be specified.")
  data <- .mf_conv_data(data)
  varnames <- names(data)
  nvars <- length(varnames)
  if (length(var.names) != 3L) .mf_stop("'var.names' must be of length 3.")
  if (!is.character(var.names)) .mf_stop("'var.names' must be a character vector.")
  if (any(var.names != make.names(var.names, unique = TRUE))) {
    var.names <- make.names(var.names, unique = TRUE)
    warning("'var.names' adjusted to syntactically valid names: ", paste(var.names, collapse = ", "), call. = FALSE)
  }
  if (missing(study)) .mf_stop("'study' must be specified.")
  if (length(study) != 1L) .mf_stop("'study' must be of length 1.")
  study.pos <- .mf_col_pos(study, "study", varnames)
  if (anyNA(data[[study.pos]])) .mf_stop("The 'study' column must not contain missing values.")
  if (missing(grp)) .mf_stop("'grp' must be specified.")
  if (length(grp) != 1L) .mf_stop("'grp' must be of length 1.")
  grp.pos <- .mf_col_pos(grp, "grp", varnames)
  g <- data[[grp.pos]]
  if (anyNA(g)) .mf_stop("The 'grp' column must not contain missing values.")
  lvls <- if (is.factor(g)) levels(g) else sort(unique(g))
  if (missing(ref)) ref <- names(sort(table(g), decreasing = TRUE)[1])
  if (length(ref) != 1L) .mf_stop("'ref' must be of length 1.")
  ref.pos <- charmatch(ref, lvls)
  if (is.na(ref.pos) || ref.pos == 0L)
    .mf_stop(sprintf("Could not find or uniquely identify the reference group '%s' among the groups.", ref))
  lvls <- c(lvls[-ref.pos], lvls[ref.pos])
  data <- data[order(data[[study.pos]], factor(g, levels = lvls)), ]
  study <- data[[study.pos]]
  if (missing(grpvars)) .mf_stop("'grpvars' must be specified.")
  gv <- union(grp.pos, unique(.mf_col_pos(grpvars, "grpvars", varnames)))
  # each group beside the study's last (reference) row
  pair <- function(x) {
    n <- nrow(x)
    if (n > 1L) return(cbind(x[-n, ], x[rep(n, n - 1L), gv]))
    ref <- x[rep(1L, 1L), gv]
    ref[] <- lapply(ref, function(col) { col[] <- NA; col })
    cbind(x, ref)
  }
  out <- do.call(rbind, lapply(split(data, study), pair))
  names(out)[gv] <- paste0(names(out)[gv], postfix[1])
  extra <- (nvars + 1L):ncol(out)
  names(out)[extra] <- paste0(varnames[gv], postfix[2])
  rownames(out) <- seq_len(nrow(out))
  short <- split(.mf_shorten(as.character(data[[grp.pos]]), minlen = minlen), study)
  comp <- unlist(lapply(short, function(s) {
    n <- length(s)
    if (n > 1L) paste0(s[-n], "-", s[n]) else NA
  }), use.names = FALSE)
  design <- unlist(lapply(short, function(s) {
    n <- length(s)
    if (n > 1L) rep(paste(s, collapse = "-"), n - 1L) else NA
  }), use.names = FALSE)
  if (addid) out[[var.names[1]]] <- seq_len(nrow(out))
  if (addcomp) out[[var.names[2]]] <- comp
  if (adddesign) out[[var.names[3]]] <- design
  out
}
