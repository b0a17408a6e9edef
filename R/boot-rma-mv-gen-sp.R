# The cluster bootstrap of rma.mv() fits with GEN, GDIAG or spatial
# '~ inner | outer' terms (struct SPEXP, SPGAU, SPLIN, SPRAT, SPSPH).  Their
# set-up on resampled data does not depend on which clusters are drawn (the
# inner design of GEN/GDIAG and the coordinates or distances of the spatial
# structures belong to the rows; a drawn copy of a cluster is its own outer
# levels, hence its own blocks), so the kernel refits every replicate with
# the fit's terms: GEN on metafor's scale (the Cholesky factor of its
# matrix, .mf_boot_mv_scale()) and an estimated range as log(rho), as the
# fit.  The drawn data that metafor's rma.mv() refuses are NA: an inner term
# with a single distinct row, every outer level with one row (spatial), and
# (GEN/GDIAG) a column of the inner design that is zero in every drawn row
# (its variance is not identified).

# The spec of the kernel's refits with estimated ranges on the log scale
# (the fit keeps the range itself; GEN terms move to metafor's scale in
# .mf_boot_mv_scale()).
.mf_boot_gs_spec <- function(spec) {
  st <- spec$structure
  for (t in seq_along(st$terms)) {
    tm <- st$terms[[t]]
    if (tm$type %in% 12:16 && is.na(st$fixed[tm$off + tm$n_v + 1L])) st$terms[[t]]$logr <- TRUE
  }
  spec$structure <- st
  spec
}

# Per unit (cluster), what metafor's set-up rules read: the distinct inner
# rows (keys) of each term, whether some outer level holds two rows, and
# (GEN/GDIAG) which columns of the inner design are non-zero.
.mf_boot_gs_units <- function(spec, unit, n) {
  tms <- Filter(function(tm) tm$type >= 10L, spec$structure$terms)
  lapply(tms, function(tm) {
    key <- if (!is.null(tm$zlev)) apply(tm$zlev, 1L, paste, collapse = "\r")
           else if (!is.null(tm$coords)) apply(tm$coords, 1L, paste, collapse = "\r")
           else as.character(seq_len(nrow(tm$dmat)))
    kc <- match(key, unique(key))[tm$inner + 1L]
    nk <- vapply(split(kc, factor(unit, levels = seq_len(n) - 1L)), function(v) length(unique(v)), 1L)
    k1 <- vapply(split(kc, factor(unit, levels = seq_len(n) - 1L)), function(v) v[1L], 1L)
    multi <- vapply(split(tm$outer, factor(unit, levels = seq_len(n) - 1L)), anyDuplicated, 1L) > 0L
    nz <- NULL
    if (!is.null(tm$zlev)) {
      Z <- tm$zlev[tm$inner + 1L, , drop = FALSE] != 0
      nz <- rowsum(Z + 0, factor(unit, levels = seq_len(n) - 1L), reorder = TRUE) > 0
    }
    list(nk = nk, k1 = k1, multi = multi, nz = nz, spatial = tm$type >= 12L)
  })
}

# Per replicate (the columns of draws, n_units x m, 1-based), whether
# metafor's rma.mv() refuses to set up a GEN, GDIAG or spatial term on the
# drawn data.
.mf_boot_gs_refused <- function(mv, draws) {
  units <- if (is.null(mv$units)) .mf_boot_gs_units(mv$spec, mv$unit, mv$n) else mv$units
  vapply(seq_len(ncol(draws)), function(i) {
    d <- draws[, i]
    any(vapply(units, function(u) {
      (all(u$nk[d] == 1L) && length(unique(u$k1[d])) == 1L) || (u$spatial && !any(u$multi[d])) ||
        (!is.null(u$nz) && !all(colSums(u$nz[d, , drop = FALSE]) > 0))
    }, NA))
  }, NA)
}

# The statistics of the replicates with the given draws (n_units x m,
# 1-based) from the kernel's refits tb (theta on the kernel's scale): theta
# back to the fit's form, NA for the drawn data that metafor refuses.
.mf_boot_gs_fix <- function(mv, draws, tb) {
  bad <- .mf_boot_gs_refused(mv, draws) | !stats::complete.cases(tb)
  out <- .mf_boot_mv_unscale(tb, mv$gts, ncol(mv$spec$X))
  out[bad, ] <- NA_real_
  attr(out, "absent") <- logical(nrow(out))
  out
}

# The statistics of the replicates of a cluster bootstrap with '~ inner |
# outer' terms, from the kernel's refits with the fit's terms: with only
# GEN, GDIAG and spatial terms the set-up never changes with the draws;
# with other terms (beside those or not) replicates are regrouped and
# refitted (.mf_boot_mv_terms_fix()).
.mf_boot_mv_post <- function(mv, draws, tb, threads) {
  if (is.null(mv$theta.vr)) .mf_boot_gs_fix(mv, draws, tb) else .mf_boot_mv_terms_fix(mv, draws, tb, threads)
}
