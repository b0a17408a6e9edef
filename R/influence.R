#' Outlier and influence diagnostics
#'
#' Case-deletion diagnostics of Viechtbauer & Cheung (2010) for each study:
#' externally studentized residuals, DFFITS, Cook's distances, covariance
#' ratios, the leave-one-out tau^2 and Q, hat values, weights and DFBETAS.
#' The k refits run in one C++ kernel over several threads (warm-started at
#' the full-data tau^2 for ML, REML and EB); results do not depend on the
#' number of threads.
#'
#' A study is flagged as influential (\code{is.infl}, a \code{*} in the
#' printout) when any of these holds, as in metafor: |DFFITS| >
#' \eqn{3\sqrt{p/(k-p)}}{3 sqrt(p/(k-p))}; \code{pchisq(cook.d, p) > 0.5};
#' hat > 3p/k; any |DFBETAS| > 1.
#'
#' @param model a model fitted by \code{\link{rma}}.
#' @param digits number of decimals for printing (default: those of the fit).
#' @param progbar metafor's name for \code{progress}: used when
#'   \code{progress} is not given.
#' @param progress show a progress bar (needs \pkg{progressr}; see
#'   \code{\link{boot_rma}}).
#' @param threads number of threads (default: option \code{metafast.threads},
#'   else half the cores; small jobs use one thread).
#' @param btt the coefficients over which Cook's distances and covariance
#'   ratios are computed (numbers, or names matched as in \code{rma()}); by
#'   default all of them (metafor's argument of the same name, passed through
#'   its \code{...}).  The cut-off of Cook's distance then uses
#'   \code{length(btt)} degrees of freedom (\code{m}).
#' @param ... ignored.
#' @details Rows omitted from the fit for missing values follow
#'   \code{getOption("na.action")} when the method is called, as in metafor:
#'   under \code{"na.exclude"} and \code{"na.pass"} every result has one row
#'   per row of the data (after \code{subset}), NA for the omitted ones.
#' @return \code{influence()}: an object of class \code{mf_infl}, a list with
#'   \code{inf} (an \code{mf_list} with \code{rstudent}, \code{dffits},
#'   \code{cook.d}, \code{cov.r}, \code{tau2.del}, \code{QE.del}, \code{hat},
#'   \code{weight}, \code{inf} and \code{slab}), \code{dfbs} (an
#'   \code{mf_list} of DFBETAS, one column per coefficient), \code{ids},
#'   \code{is.infl}, \code{tau2}, \code{QE}, \code{k}, \code{p}, \code{m}.
#'   \code{rstudent()}: an \code{mf_list} with \code{resid}, \code{se},
#'   \code{z}.  \code{cooks.distance()}: a named vector.  \code{dfbetas()}:
#'   the \code{dfbs} table.
#' @references Viechtbauer W, Cheung MW-L (2010). Outlier and influence
#'   diagnostics for meta-analysis. \emph{Res Synth Methods} 1:112-125.
#'   Belsley DA, Kuh E, Welsch RE (1980). \emph{Regression Diagnostics}.
#'   Wiley. Cook RD (1977). Detection of influential observations in linear
#'   regression. \emph{Technometrics} 19:15-18.
#' @examples
#' dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 1.20),
#'                   vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04),
#'                   x = c(1, 2, 3, 4, 5, 6, 7))
#' fit <- rma(yi, vi, mods = ~ x, data = dat)
#' inf <- influence(fit)
#' inf
#' rstudent(fit)
#' cooks.distance(fit)
#' dfbetas(fit)
#' @importFrom stats influence rstudent cooks.distance dfbetas
#' @export
influence.mf_rma <- function(model, digits, progbar = FALSE, progress = FALSE, threads = NULL, btt = NULL, ...) {
  .mf_check_dots("influence.mf_rma", ...)
  x <- model
  a <- .mf_cd_args(x, "influence")
  if (x$k < 2L) .mf_stop("influence() needs at least 2 studies (k = 1).")
  na.act <- .mf_na_action()
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  digits <- .mf_cd_digits(digits, x)
  k <- x$k; p <- x$p
  btt <- .mf_btt(btt, colnames(x$X), FALSE)   # all coefficients unless given (metafor)
  # leverages h_i = w_i x_i'(X'WX)^{-1} x_i and percentage weights of the full fit
  w <- if (is.null(x$weights)) 1 / (x$vi + x$tau2) else x$weights
  X <- a$X
  # (from the core, which handles ill-conditioned designs: src/core/leverage.hpp)
  hat <- .mf_leverage(as.double(a$y), as.double(a$v), X, if (is.null(x$weights)) numeric(0) else as.double(w),
                      x$tau2)$hat
  hat[hat > 1 - 10 * .Machine$double.eps] <- 1
  weight <- 100 * w / sum(w)
  vb <- unname(x$vb) + 0
  th <- .mf_threads(threads, n_work = k, min_per_thread = 16L)
  r <- .mf_cd_influence(a$y, a$v, X, a$weights, a$method, a$test, a$control, a$int.only,
                        as.double(x$beta), vb, as.double(hat),
                        if (length(btt) == p) integer(0) else as.integer(btt - 1L), .mf_cd_warm(x), th,
                        .mf_progress_fn(progress, k))
  # externally studentized (deleted) residuals: (y_i - x_i'b(-i)) over
  # sqrt(s2w(-i) (v_i + tau2(-i)) + x_i' Var(b(-i)) x_i)
  resid <- x$yi - r$delpred
  resid[abs(resid) < 100 * .Machine$double.eps] <- 0
  seresid <- sqrt(x$vi * r$s2w.del + r$vdelpred + r$tau2.del * r$s2w.del)
  rstud <- resid / seresid
  dfbs <- r$dfbs
  colnames(dfbs) <- colnames(x$X)
  m <- length(btt)
  is.infl <- abs(r$dffits) > 3 * sqrt(p / (k - p)) | stats::pchisq(r$cook.d, df = m) > 0.5 |
    hat > 3 * p / k | apply(abs(dfbs) > 1, 1L, any)
  # rows dropped for missing values: as getOption("na.action") says (metafor)
  v <- .mf_na_view(x)
  if (na.act == "na.fail" && any(!v$not.na)) .mf_stop("Missing values in results.")
  cols <- .mf_cd_pad(list(rstudent = rstud, dffits = r$dffits, cook.d = r$cook.d, cov.r = r$cov.r,
                          tau2.del = r$tau2.del, QE.del = r$QE.del, hat = hat, weight = weight,
                          is.infl = is.infl, resid = resid, seresid = seresid),
                     v$not.na, na.act)
  dcols <- .mf_cd_pad(lapply(seq_len(p), function(j) dfbs[, j]), v$not.na, na.act)
  rows <- if (na.act %in% c("na.exclude", "na.pass")) rep(TRUE, length(v$not.na)) else v$not.na
  slab <- v$slab[rows]
  inf <- c(cols[1:8], list(inf = ifelse(cols$is.infl & !is.na(cols$is.infl), "*", ""), slab = slab, digits = digits))
  class(inf) <- "mf_list"
  dfl <- c(dcols, list(slab = slab, digits = digits))
  names(dfl)[seq_len(p)] <- colnames(dfbs)
  class(dfl) <- "mf_list"
  out <- list(inf = inf, dfbs = dfl, ids = v$ids[rows],
              not.na = v$not.na[rows], is.infl = cols$is.infl,
              resid = cols$resid, seresid = cols$seresid,
              tau2 = x$tau2, QE = x$QE, k = k, p = p, m = m, digits = digits)
  class(out) <- "mf_infl"
  out
}

#' @rdname influence.mf_rma
#' @param x an object of class \code{mf_infl}.
#' @param infonly print only the influential studies.
#' @export
print.mf_infl <- function(x, digits = x$digits, infonly = FALSE, ...) {
  sel <- if (isTRUE(infonly)) !is.na(x$is.infl) & x$is.infl else rep(TRUE, length(x$is.infl))
  pick <- function(l) {
    n <- match("slab", names(l))
    for (j in seq_len(n)) l[[j]] <- l[[j]][sel]
    l
  }
  if (x$p == 1L) {
    tab <- x$inf
    pos <- match("inf", names(tab))
    tab <- c(unclass(tab)[seq_len(pos - 1L)], list(dfbs = x$dfbs[[1L]]), unclass(tab)[pos:length(tab)])
    class(tab) <- "mf_list"
    print(pick(tab), digits = digits)
  } else {
    print(pick(x$inf), digits = digits)
    cat("\n")
    print(pick(x$dfbs), digits = digits)
  }
  invisible(x)
}

#' @rdname influence.mf_rma
#' @return \code{plot()} draws the eight diagnostics against the study index
#'   (influential studies in red; reference lines at the flagging cut-offs)
#'   and returns \code{x} invisibly.
#' @export
plot.mf_infl <- function(x, ...) {
  .mf_check_dots("plot.mf_infl", ...)
  pars <- .mf_par_dots(...)
  inf <- x$inf
  k <- x$k; p <- x$p
  idx <- seq_len(k)
  flag <- !is.na(x$is.infl) & x$is.infl
  ref <- list(rstudent = list(h = 0, d = stats::qnorm(c(0.025, 0.975))),
              dffits = list(h = 0, d = c(-1, 1) * 3 * sqrt(p / (k - p))),
              cook.d = list(h = NULL, d = stats::qchisq(0.5, df = x$m)),
              cov.r = list(h = 1, d = NULL),
              tau2.del = list(h = x$tau2, d = NULL),
              QE.del = list(h = x$QE, d = k - p),
              hat = list(h = p / k, d = 3 * p / k),
              weight = list(h = 100 / k, d = NULL))
  op <- graphics::par(c(list(mfrow = c(4L, 2L), mar = c(3, 4, 2, 1)), pars))
  on.exit(graphics::par(op), add = TRUE)
  for (nm in names(ref)) {
    z <- inf[[nm]]
    rng <- range(c(z, ref[[nm]]$h, ref[[nm]]$d), na.rm = TRUE, finite = TRUE)
    graphics::plot(idx, z, type = "n", xaxt = "n", xlab = "", ylab = "", main = nm, ylim = rng)
    graphics::axis(1L, at = idx, labels = if (k <= 40) as.character(inf$slab) else FALSE, cex.axis = 0.7)
    if (!is.null(ref[[nm]]$h)) graphics::abline(h = ref[[nm]]$h, lty = "dashed", col = "gray40")
    if (!is.null(ref[[nm]]$d)) graphics::abline(h = ref[[nm]]$d, lty = "dotted", col = "gray40")
    graphics::lines(idx, z, col = "gray50")
    graphics::points(idx, z, pch = 21, bg = "gray85")
    if (any(flag)) graphics::points(idx[flag], z[flag], pch = 21, bg = "red")
  }
  invisible(x)
}

#' @rdname influence.mf_rma
#' @export
rstudent.mf_rma <- function(model, digits, progbar = FALSE, progress = FALSE, threads = NULL, ...) {
  .mf_check_dots("rstudent.mf_rma", ...)
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  inf <- influence.mf_rma(model, digits = if (missing(digits)) NULL else digits,
                          progress = progress, threads = threads)
  out <- list(resid = unname(inf$resid), se = unname(inf$seresid), z = inf$inf$rstudent,
              slab = inf$inf$slab, digits = inf$digits)
  class(out) <- "mf_list"
  out
}

#' @rdname influence.mf_rma
#' @export
cooks.distance.mf_rma <- function(model, progbar = FALSE, progress = FALSE, threads = NULL, btt = NULL, ...) {
  .mf_check_dots("cooks.distance.mf_rma", ...)
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  inf <- influence.mf_rma(model, progress = progress, threads = threads, btt = btt)
  stats::setNames(inf$inf$cook.d, inf$inf$slab)
}

#' @rdname influence.mf_rma
#' @export
dfbetas.mf_rma <- function(model, progbar = FALSE, progress = FALSE, threads = NULL, ...) {
  .mf_check_dots("dfbetas.mf_rma", ...)
  progress <- .mf_progbar(progress, progbar, missing(progress) && !missing(progbar))
  influence.mf_rma(model, progress = progress, threads = threads)$dfbs
}

#' @rdname influence.mf_rma
#' @param row.names,optional ignored (for the \code{as.data.frame} generic).
#' @return \code{as.data.frame()}: the printed table of \code{influence()} (metafor
#'   has no such method): one row per study with the columns \code{rstudent}
#'   to \code{weight}, the DFBETAS (\code{dfbs} for one coefficient, else
#'   \code{dfbs.<coefficient>}) and the flag \code{inf}; row names are the
#'   study labels.
#' @export
as.data.frame.mf_infl <- function(x, row.names = NULL, optional = FALSE, ...) {
  inf <- as.data.frame.mf_list(x$inf)
  dfb <- as.data.frame.mf_list(x$dfbs)
  names(dfb) <- if (x$p == 1L) "dfbs" else paste0("dfbs.", names(x$dfbs)[seq_len(x$p)])
  pos <- match("inf", names(inf))
  out <- cbind(inf[seq_len(pos - 1L)], dfb, inf[pos])
  rownames(out) <- rownames(inf)
  out
}
