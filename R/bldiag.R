#' Block-diagonal matrix (as metafor's bldiag)
#'
#' Places matrices (or vectors, as diagonal matrices) along the diagonal of a
#' larger matrix that is zero elsewhere, e.g. the sampling covariance blocks
#' of several studies for \code{rma.mv(V = )}.  The arguments and their
#' meaning are those of \code{metafor::bldiag()}.
#'
#' @param ... matrices, vectors (taken as diagonal matrices) or sparse
#'   matrices, or a single list of them.  Blocks need not be square.
#' @param order optional reordering of the rows and columns of a square
#'   result: a vector of sort keys (the result is ordered by
#'   \code{order(order)}), or a call \code{order(...)} giving the permutation
#'   itself.  Either way, row \code{i} of the stacked blocks becomes row
#'   \code{p[i]} of the result.
#' @return A matrix (0 x 0 when every block is empty).
#' @examples
#' bldiag(matrix(1, 2, 2), diag(3), c(4, 5))
#' @export
bldiag <- function(..., order) {
  blocks <- list(...)
  if (length(blocks) == 1L && is.list(blocks[[1L]])) blocks <- unlist(blocks, recursive = FALSE)
  blocks <- lapply(blocks, function(b) {
    if (inherits(b, "sparseMatrix") || inherits(b, "Matrix")) b <- as.matrix(b)
    if (inherits(b, "matrix")) b else diag(b, nrow = NROW(b), ncol = NROW(b), names = TRUE)
  })
  empty <- vapply(blocks, function(b) any(dim(b) == 0L), logical(1))
  if (!length(blocks) || all(empty)) return(matrix(nrow = 0, ncol = 0))
  blocks <- blocks[!empty]
  nr <- vapply(blocks, nrow, integer(1))
  nc <- vapply(blocks, ncol, integer(1))
  out <- matrix(0, sum(nr), sum(nc))
  r0 <- c(0L, cumsum(nr))
  c0 <- c(0L, cumsum(nc))
  for (b in seq_along(blocks)) out[r0[b] + seq_len(nr[b]), c0[b] + seq_len(nc[b])] <- blocks[[b]]
  if (!missing(order)) {
    if (nrow(out) != ncol(out)) .mf_stop("Can only use 'order' argument for square matrices.")
    if (length(order) != nrow(out))
      .mf_stop(sprintf("Length of the 'order' argument (%d) does not correspond to the dimensions of the matrix (%dx%d).",
                       length(order), nrow(out), ncol(out)))
    p <- if (grepl("^order\\(", deparse1(substitute(order)))) order else base::order(order)
    out[p, p] <- out
  }
  out
}
