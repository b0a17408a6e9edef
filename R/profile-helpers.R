# The bounds of a profile-likelihood CI of one variance or selection
# parameter, searched as metafor's confint() of rma.mv and selection-model
# fits search them: at each end of [con$vc.min, con$vc.max] the profile is
# evaluated, the end moving towards the estimate in con$eptries steps while
# the refit fails; where the profile at the end is already below the
# objective, the end is the bound (marked "<" or ">" when `lb_open(end)` /
# `ub_open(end)` say the end is not a limit of the parameter's range), else
# uniroot() finds the root between the end and the estimate (the likelihood
# ratio CI: Hardy & Thompson 1996, Stat Med 15:619-629).
#
# prof(val): -2 (ll(val) - ll_max) - qchisq(1 - alpha, 1), stopping when the
# refit at val fails.  Used by .mf_mv_ci_one() and .mf_sel_ci_one().
.mf_profile_ci_bounds <- function(prof, vc, con, lb_open, ub_open) {
  search <- function(lo, hi) {
    tryCatch({
      r <- stats::uniroot(prof, c(lo, hi), tol = con$tol, maxiter = con$maxiter)
      if (r$iter >= con$maxiter) NA_real_ else r$root   # (metafor: check.conv = TRUE)
    }, error = function(e) NA_real_)
  }
  one_end <- function(lower) {
    end <- if (lower) con$vc.min else con$vc.max
    step <- abs(end - vc) / con$eptries
    for (i in seq_len(con$eptries)) {
      res <- tryCatch(prof(end), error = function(e) NA_real_)
      if (!is.na(res)) {
        if (res < 0) {
          open <- if (lower) lb_open(end) else ub_open(end)
          return(list(b = end, conv = TRUE, sign = if (open) (if (lower) "<" else ">") else ""))
        }
        b <- if (lower) search(end, vc) else search(vc, end)
        return(list(b = b, conv = !is.na(b), sign = ""))
      }
      end <- if (lower) end + step else end - step
    }
    list(b = NA_real_, conv = FALSE, sign = "")
  }
  lo <- one_end(TRUE)
  hi <- one_end(FALSE)
  if (!lo$conv) warning("Cannot obtain lower bound of profile likelihood CI due to convergence problems.", call. = FALSE)
  if (!hi$conv) warning("Cannot obtain upper bound of profile likelihood CI due to convergence problems.", call. = FALSE)
  list(lb = lo$b, ub = hi$b, lb.sign = lo$sign, ub.sign = hi$sign)
}

# The checks and the y-range of a profile (metafor's profile() of rma.mv and
# selection-model fits): warnings when a refit's log-likelihood exceeds the
# fit's (by lltol) or every refit failed; the default ylim spans the
# profiled values (and the maximum, when the estimate lies within xlim),
# widened by 0.1 on each side.  Used by .mf_mv_profile_one() and
# .mf_sel_profile_one().
.mf_profile_ylim <- function(lls, maxll, lltol, ylim, xlim, vc) {
  if (any(lls >= maxll + lltol, na.rm = TRUE))
    warning("At least one profiled log-likelihood value is larger than the log-likelihood of the fitted model.", call. = FALSE)
  if (all(is.na(lls))) warning("All model fits failed. Cannot draw profile likelihood plot.", call. = FALSE)
  if (is.null(ylim)) {
    fin <- lls[is.finite(lls)]
    ylim <- if (length(fin)) {
      if (xlim[1L] <= vc && xlim[2L] >= vc) range(c(maxll, fin)) else range(fin)
    } else rep(maxll, 2L)
    return(ylim + c(-0.1, 0.1))
  }
  if (!is.numeric(ylim) || length(ylim) != 2L) .mf_stop("Argument 'ylim' should be a vector of length 2.")
  sort(ylim)
}
