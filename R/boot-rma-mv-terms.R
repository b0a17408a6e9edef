# The cluster bootstrap of rma.mv() fits with '~ inner | outer' terms
# (struct CS, ID, DIAG, AR, CAR, HCS, UN, HAR).  metafor's rma.mv() on a
# resampled data set sets the terms up from the rows it is given: the levels
# of the inner factor are those present (a level missing from the drawn
# clusters has no component; AR and HAR take the present levels as equally
# spaced times), and its rules fix what those rows cannot identify (an inner
# level held by one outer level only: its tau2 at 0; pairs of levels that
# never meet: their rho at 0; a single inner level, or one row per outer
# level: rho at 0), and UN is fitted on the scale of the Cholesky factor of
# its matrix (with every component estimated, or with the fixed values
# overwriting where the free correlations form a cycle).  So the model of a
# replicate depends on the clusters drawn.  The kernel refits every
# replicate with the fit's own terms on metafor's scale
# (.mf_boot_mv_scale()); the replicates whose
# draws metafor would set up differently are grouped by that set-up (a key
# from per-cluster counts, O(R n_units)) and refitted with a spec of their
# own (the inner codes renumbered over the present levels, the components
# that metafor fixes held at its values).  The statistics keep the fit's
# columns; a component that the replicate's model does not have (an absent
# level) is NA.  GEN, GDIAG and spatial terms beside these
# (R/boot-rma-mv-gen-sp.R) compose term by term: the spec and start
# transforms act each on its kind of term, the regrouping reads only the
# terms above, and a refit keeps the GEN, GDIAG or spatial term as the fit
# (at its place in theta after the terms before it) and NA where metafor
# cannot set it up on the drawn data.

# The fit's '~ inner | outer' terms as .mf_mv_struct_terms() leaves them
# (chol: UN with every component estimated, which metafor fits on the
# Cholesky scale; gsp: a GEN, GDIAG or spatial term, whose set-up does not
# depend on the draws), from the fit's spec (the (tau2, rho) scale).
.mf_boot_mv_gts <- function(spec) {
  st <- spec$structure
  types <- c("CS", "ID", "DIAG", "AR", "CAR", "HCS", "UN", "UNR", "HAR", "UN", .mf_mv_gen_sp)
  lapply(st$terms, function(tm) {
    fx <- st$fixed[tm$off + seq_len(tm$n_v + tm$n_r)]
    tm$gsp <- tm$type >= 10L
    tm$chol <- tm$type == 6L && tm$n_lev > 1L && all(is.na(fx))
    tm$struct <- types[tm$type + 1L]
    tm$fixed_v <- fx[seq_len(tm$n_v)]
    tm$fixed_r <- fx[tm$n_v + seq_len(tm$n_r)]
    tm
  })
}

# The spec and start of the kernel's refits from a spec and theta on the
# fit's (tau2, rho) scale: UN and GEN terms on metafor's scale (the Cholesky
# factor, with fixed values overwriting where the free correlations form a
# cycle: .mf_mv_metafor_scale(), as case deletion and profile() refit
# them), estimated ranges as log(rho) (.mf_boot_gs_spec()).  gts: per term
# what .mf_mv_unchol() needs to bring a refit's theta back.
.mf_boot_mv_scale <- function(spec, theta) {
  ms <- .mf_mv_metafor_scale(spec, theta)
  sp <- .mf_boot_gs_spec(ms$spec)
  start <- ms$start
  gts <- lapply(seq_along(sp$structure$terms), function(t) {
    tm <- sp$structure$terms[[t]]
    g <- if (is.null(ms$gts)) list(chol = FALSE, cholfix = FALSE) else ms$gts[[t]]
    g[c("off", "n_v", "n_r", "n_lev")] <- tm[c("off", "n_v", "n_r", "n_lev")]
    g$logr <- isTRUE(tm$logr)
    g
  })
  for (g in gts) if (g$logr) start[g$off + g$n_v + 1L] <- log(start[g$off + g$n_v + 1L])
  list(spec = sp, start = start, gts = gts)
}

# The statistics of refits (one per row: p coefficients, then theta on the
# kernel's scale) with theta back on the fit's.
.mf_boot_mv_unscale <- function(t, gts, p) {
  t[, -seq_len(p)] <- .mf_mv_metafor_unscale(list(gts = gts), t[, -seq_len(p), drop = FALSE])
  t
}

# Per term and cluster, the counts that metafor's rules read (nested outer
# levels: a cluster holds whole outer levels): A, clusters x inner levels,
# the number of outer levels of the cluster that hold the level; P (UN),
# clusters x pairs of levels (lower triangle by columns), the number that
# hold both.  Per cluster its rows and outer levels.  terms: the spec's
# terms (not GEN, GDIAG or spatial); unit: 0-based cluster of each row (spec
# order).
.mf_boot_mv_counts <- function(terms, unit, n) {
  rows <- tabulate(unit + 1L, n)
  lapply(terms, function(tm) {
    nl <- tm$n_lev
    first <- !duplicated(cbind(tm$outer, tm$inner))
    A <- matrix(tabulate(unit[first] + 1L + n * tm$inner[first], n * nl), n, nl)
    P <- NULL
    if (tm$type %in% c(6L, 9L) && nl > 1L) {
      oc <- tm$outer[first]
      H <- matrix(0L, max(tm$outer), nl)
      H[cbind(oc, tm$inner[first] + 1L)] <- 1L
      ucl <- integer(max(tm$outer))
      ucl[tm$outer] <- unit
      pr <- which(lower.tri(diag(nl)), arr.ind = TRUE)
      P <- matrix(0, n, nrow(pr))
      for (j in seq_len(nrow(pr))) {
        both <- H[, pr[j, 1L]] * H[, pr[j, 2L]]
        P[, j] <- tabulate(rep(ucl + 1L, both), n)
      }
    }
    outers <- tabulate(unit[!duplicated(tm$outer)] + 1L, n)
    list(A = A, P = P, one = outers == rows)
  })
}

# Statistics (m x (p + q)) of the replicates with the given draws (n_units x
# m, 1-based): tb holds the kernel's refits with the fit's terms; the
# replicates that metafor sets up otherwise are refitted here.  A GEN, GDIAG
# or spatial term beside the others keeps the fit's set-up in every refit
# (its place in theta moves with the components of the terms before it);
# the replicates on whose draws metafor cannot set it up are NA.  Returns the
# statistics with attribute "absent" (replicates with components NA
# because a level is not drawn).
.mf_boot_mv_terms_fix <- function(mv, draws, tb, threads) {
  spec <- mv$spec
  spec$structure <- mv$nat.structure  # (the fit's terms, on the (tau2, rho) scale)
  st <- spec$structure
  p <- ncol(spec$X)
  L <- st$terms[[1L]]$off
  gts <- .mf_boot_mv_gts(spec)
  io <- which(!vapply(gts, function(g) g$gsp, NA))  # (the terms whose set-up depends on the draws)
  n <- mv$n
  m <- ncol(draws)
  if (is.null(mv$counts)) mv$counts <- .mf_boot_mv_counts(st$terms[io], mv$unit, n)
  refused <- if (length(io) < length(gts)) .mf_boot_gs_refused(mv, draws) else logical(m)
  # clusters drawn per replicate (m x n)
  Nc <- matrix(tabulate(rep(seq_len(m), each = n) + m * (c(draws) - 1L), m * n), m, n)
  feat <- do.call(cbind, lapply(mv$counts, function(cn) {
    LK <- Nc %*% cn$A
    CK <- if (is.null(cn$P)) NULL else Nc %*% cn$P
    cbind(LK > 0, LK == 1, if (!is.null(CK)) CK == 0, rowSums(Nc[, !cn$one, drop = FALSE]) == 0)
  }))
  key <- do.call(paste0, lapply(seq_len(ncol(feat)), function(j) as.integer(feat[, j])))
  members <- split(seq_along(mv$unit), mv$unit)
  out <- tb
  out[refused, ] <- NA_real_
  absent <- logical(m)
  user <- st$user
  # metafor's struct and fixed values of those terms (one or two: the first
  # term's are tau2/rho, the second's gamma2/phi)
  struct <- rep_len(user$struct, 2L)[io]
  fix <- c(list(user$fixG, user$fixH)[io], list(list(NULL, NULL)))
  for (kk in unique(key[!refused])) {
    sel <- which(key == kk & !refused)
    r1 <- sel[1L]
    # the representative resampled data: each draw's outer levels relabelled
    rows <- unlist(members[draws[, r1]], use.names = FALSE)
    pos <- rep(seq_len(n), lengths(members[draws[, r1]]))
    gterms <- lapply(st$terms[io], function(tm) {
      inner <- if (tm$type == 4L) tm$times[tm$inner[rows] + 1L] else tm$inner[rows] + 1L
      list(inner = inner, outer = (pos - 1L) * max(tm$outer) + tm$outer[rows], names = c("inner", "outer"))
    })
    sub <- tryCatch(suppressWarnings(.mf_mv_struct_terms(gterms, struct, seq_along(rows), rep(TRUE, length(rows)),
                                                         L, fix[[1L]], fix[[2L]], check.k = user$check.k)),
                    error = function(e) NULL)
    if (is.null(sub)) {
      out[sel, ] <- NA_real_
      next
    }
    # the present levels of each such term (1-based, in the fit's order)
    pres <- lapply(seq_along(sub), function(j) {
      tm <- st$terms[[io[j]]]
      lev <- if (tm$type == 4L) as.character(tm$times) else as.character(seq_len(tm$n_lev))
      match(sub[[j]]$levels.f[[1L]], lev)
    })
    same <- all(vapply(seq_along(sub), function(j) {
      s <- sub[[j]]; g <- gts[[io[j]]]
      s$n_lev == g$n_lev && s$chol == g$chol && identical(as.double(s$fixed_v), as.double(g$fixed_v)) &&
        identical(as.double(s$fixed_r), as.double(g$fixed_r))
    }, NA))
    if (same) {
      out[sel, ] <- .mf_boot_mv_unscale(tb[sel, , drop = FALSE], mv$gts, p)
      next
    }
    # the replicates' own terms: inner codes over the present levels
    spec2 <- spec
    off <- L
    theta0 <- mv$theta.vr
    start <- theta0[seq_len(L)]
    fixed <- st$fixed[seq_len(L)]
    cols <- seq_len(p + L)  # full columns of the replicate's statistics
    for (t in seq_along(gts)) {
      tm <- st$terms[[t]]; g <- gts[[t]]
      j <- match(t, io)
      if (is.na(j)) {
        # GEN, GDIAG or spatial: the fit's term, at its place in theta
        ii <- tm$off + seq_len(tm$n_v + tm$n_r)
        spec2$structure$terms[[t]]$off <- off
        start <- c(start, theta0[ii])
        fixed <- c(fixed, st$fixed[ii])
        cols <- c(cols, p + ii)
        off <- off + tm$n_v + tm$n_r
        next
      }
      s <- sub[[j]]
      pr <- pres[[j]]
      map <- integer(tm$n_lev)
      map[pr] <- seq_along(pr) - 1L
      tm2 <- tm
      tm2$inner <- map[tm$inner + 1L]
      tm2$n_lev <- s$n_lev; tm2$n_v <- s$n_v; tm2$n_r <- s$n_r; tm2$off <- off
      if (tm$type == 4L) tm2$times <- tm$times[pr]
      tm2$type <- s$type
      spec2$structure$terms[[t]] <- tm2
      v <- theta0[tm$off + seq_len(tm$n_v)]
      r <- theta0[tm$off + tm$n_v + seq_len(tm$n_r)]
      het <- tm$n_v > 1L || s$n_v > 1L || g$struct %in% c("DIAG", "HCS", "UN", "HAR")
      vcol <- if (het) tm$off + pr else tm$off + 1L
      v2 <- if (het) v[pr] else v
      if (s$n_r == 0L) {
        r2 <- numeric(0); rcol <- integer(0)
      } else if (tm$type %in% c(6L, 9L)) {
        if (s$n_lev > 1L) {
          old <- which(lower.tri(diag(tm$n_lev)), arr.ind = TRUE)
          new <- which(lower.tri(diag(s$n_lev)), arr.ind = TRUE)
          ri <- match(paste(pr[new[, 1L]], pr[new[, 2L]]), paste(old[, 1L], old[, 2L]))
          r2 <- r[ri]; rcol <- tm$off + tm$n_v + ri
        } else {
          r2 <- 0; rcol <- NA_integer_  # (rho fixed at 0; the fit's pairs all involve absent levels)
        }
      } else {
        r2 <- if (length(r)) r[1L] else 0; rcol <- if (tm$n_r) tm$off + tm$n_v + 1L else NA_integer_
      }
      fx <- c(s$fixed_v, s$fixed_r)
      st2 <- c(v2, r2)
      st2[!is.na(fx)] <- fx[!is.na(fx)]
      start <- c(start, st2)
      fixed <- c(fixed, fx)
      cols <- c(cols, p + vcol, p + rcol)
      off <- off + s$n_v + s$n_r
    }
    spec2$structure$fixed <- fixed
    b2 <- .mf_boot_mv_scale(spec2, start)
    con <- mv$control
    t2 <- .mf_rma_mv_boot(b2$spec, mv$unit, n, b2$start, mv$reml, con$threshold, as.integer(con$maxiter), con$stepadj,
                          0, 0, length(sel), .mf_threads(threads, n_work = length(sel), min_per_thread = 2L), NULL,
                          draws[, sel, drop = FALSE], FALSE)$t
    t2 <- .mf_boot_mv_unscale(t2, b2$gts, p)
    res <- matrix(NA_real_, length(sel), ncol(tb))
    ok <- !is.na(cols)
    res[, cols[ok]] <- t2[, ok, drop = FALSE]
    out[sel, ] <- res
    absent[sel] <- length(unique(cols[ok])) < ncol(tb)
  }
  attr(out, "absent") <- absent & stats::complete.cases(out[, seq_len(p), drop = FALSE])
  out
}
