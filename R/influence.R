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
#' @param ... ignored; for \code{plot()}, graphical parameters passed to each
#'   drawing call (as metafor), and \code{abbreviate()}'s \code{minlength}
#'   and \code{strict} (for \code{slab.style = 3}).
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
#' @param plotinf the panels of the eight diagnostics to draw: \code{TRUE}
#'   (all), \code{FALSE} (none) or numbers 1 to 8 (rstudent, dffits, cook.d,
#'   cov.r, tau2.del, QE.del, hat, weight), as metafor.
#' @param plotdfbs draw the DFBETAS: \code{FALSE}, \code{TRUE} (one panel per
#'   coefficient) or the numbers of the coefficients.  Drawn after the
#'   diagnostics: on the same page when \code{par(mfrow = )} has room for
#'   all panels, else on a new page (which R asks for on interactive devices)
#'   or, with \code{dfbsnew = TRUE}, on a new device (\code{dev.new()}).
#' @param dfbsnew open a new device for the DFBETAS (only when both are
#'   drawn).
#' @param logcov draw the covariance ratios on a log axis.
#' @param slab.style labels of the x axis: 1 the study numbers (\code{ids}),
#'   2 the study labels, 3 the study labels abbreviated by
#'   \code{abbreviate()} (its \code{minlength} and \code{strict} read from
#'   \code{...}).
#' @param las orientation of the tick labels (\code{par(las = )}).
#' @param pch,bg symbol and fill colour of the points (default for \code{bg}:
#'   metafor's grey, the background darkened by 35\%).
#' @param bg.infl fill colour of the points of influential studies.
#' @param col.na colour (default a light grey) of the lines joining the points across missing values
#'   (with \code{options(na.action = "na.exclude")} or \code{"na.pass"}; with
#'   \code{"na.omit"} the missing values are left out of the axis).
#' @return \code{plot()} draws, as metafor, one panel per diagnostic against
#'   the study (metafor's arrangement: one column for 2, 3, 5 and 7 panels, two
#'   for 4, 6 and 8, unless \code{par(mfrow = )} already has room; metafor's
#'   deprecated \code{layout} is ignored with its warning) (influential studies filled in \code{bg.infl}; dashed lines at
#'   the reference values, dotted lines at the flagging cut-offs: rstudent
#'   \eqn{\pm}{+-}1.96, dffits \eqn{\pm 3\sqrt{p/(k-p)}}{+-3 sqrt(p/(k-p))},
#'   Cook's distance the median of \eqn{\chi^2_m}{chi^2_m}, QE.del its
#'   degrees of freedom \eqn{k - p}, hat \eqn{3p/k}, DFBETAS
#'   \eqn{\pm 1}{+-1}) and returns \code{x} invisibly, with the attribute
#'   \code{"layout"}: per panel drawn its title \code{main}, the points
#'   \code{x}, \code{y}, the limits \code{ylim}, the axis labels
#'   \code{labels} and the flags \code{infl}.
#' @export
plot.mf_infl <- function(x, plotinf = TRUE, plotdfbs = FALSE, dfbsnew = FALSE, logcov = TRUE, slab.style = 1,
                         las = 0, pch = 21, bg, bg.infl = "red", col.na, ...) {
  .mf_check_dots("plot.mf_infl", ...)
  na.act <- .mf_na_action()
  dots <- list(...)
  dn <- names(dots)
  if (is.null(dn)) dn <- character(length(dots))
  # metafor 5 dropped 'layout': it warns and ignores it
  if ("layout" %in% dn) warning("Argument 'layout' has been deprecated.", call. = FALSE)
  # minlength and strict go to abbreviate() (slab.style = 3) only, as metafor
  gdots <- dots[!dn %in% c("layout", "minlength", "strict")]
  # metafor's default colours: grey shades of the background
  if (missing(bg)) bg <- .mf_bg_shade(0.35)
  if (missing(col.na)) col.na <- .mf_bg_shade(0.2)
  inf <- x$inf
  nms <- c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")
  if (na.act == "na.fail" && anyNA(unlist(unclass(inf)[nms]))) .mf_stop("Missing values in results.")
  pick <- function(v, n, arg) {
    if (is.logical(v) && length(v) == 1L && !is.na(v)) return(if (v) seq_len(n) else integer(0))
    if (!is.numeric(v) || !length(v)) .mf_stop(sprintf("Incorrect specification of the '%s' argument.", arg))
    v <- unique(round(v[!is.na(v) & v >= 1 & v <= n]))
    if (!length(v)) .mf_stop(sprintf("Incorrect specification of the '%s' argument.", arg))
    v
  }
  w_inf <- pick(plotinf, 8L, "plotinf")
  w_dfb <- pick(plotdfbs, x$p, "plotdfbs")
  if (!length(w_inf) && !length(w_dfb))
    .mf_stop("At least one of the arguments 'plotinf' or 'plotdfbs' must be TRUE.")
  dfbsnew <- .mf_flag(dfbsnew, "dfbsnew") && length(w_inf) > 0L
  logcov <- .mf_flag(logcov, "logcov")
  if (!is.numeric(slab.style) || length(slab.style) != 1L || !slab.style %in% 1:3)
    .mf_stop("'slab.style' must be 1 (study numbers), 2 (study labels) or 3 (abbreviated labels).")
  ids <- switch(slab.style, x$ids, inf$slab,
                do.call(abbreviate, c(list(inf$slab), dots[dn %in% c("minlength", "strict")])))
  k <- x$k; p <- x$p
  cut_dffits <- 3 * sqrt(p / (k - p))
  # per diagnostic: the y range (metafor's: the data and the cut-offs, widened
  # by 5% away from 0), the reference values (dashed) and the cut-offs (dotted;
  # one line each, or a list of lines drawn by one call)
  spec <- function(nm, z) {
    mx <- max(z, na.rm = TRUE); mn <- min(z, na.rm = TRUE)
    switch(nm,
           rstudent = list(yl = c(min(mn, -2, stats::qnorm(0.025)), max(mx, 2, stats::qnorm(0.975))) * 1.05,
                           h = 0, d = list(stats::qnorm(c(0.025, 0.975)))),
           dffits = list(yl = c(min(mn, -cut_dffits), max(mx, cut_dffits)) * 1.05, h = 0, d = c(cut_dffits, -cut_dffits)),
           cook.d = list(yl = c(0, mx * 1.05), d = stats::qchisq(0.5, df = x$m)),
           cov.r = list(yl = c(mn, mx), h = 1),
           tau2.del = list(yl = c(mn, mx), h = x$tau2),
           QE.del = list(yl = c(mn, mx), h = x$QE, d = k - p),
           hat = list(yl = c(0, max(mx, 3 * p / k) * 1.05), h = p / k, d = 3 * p / k),
           weight = list(yl = c(0, mx * 1.05), h = 100 / k),
           list(yl = c(mn, mx) * 1.05, h = 0, d = c(1, -1)))
  }
  g <- function(f, ...) do.call(f, c(list(...), gdots))
  infl <- !is.na(x$is.infl) & x$is.infl
  panels <- list()
  panel <- function(z, nm, main) {
    keep <- !is.na(z)
    if (na.act == "na.omit") { zz <- z[keep]; fl <- infl[keep]; lab <- ids[keep] } else { zz <- z; fl <- infl; lab <- ids }
    if (!any(keep) && !startsWith(nm, "dfbs")) {
      g(graphics::plot, NA, NA, xlim = c(0, 1), ylim = c(0, 1), xaxt = "n", yaxt = "n", main = main, xlab = "",
        ylab = "")
      return(list(main = main, x = integer(0), y = numeric(0)))
    }
    sp <- spec(nm, zz)
    xs <- seq_along(zz)
    pargs <- list(NA, NA, xlim = c(1, length(zz)), ylim = sp$yl, xaxt = "n", main = main, xlab = "", ylab = "",
                  las = las)
    if (nm == "cov.r" && logcov) pargs$log <- "y"
    do.call(g, c(list(graphics::plot), pargs))
    g(graphics::axis, side = 1, at = xs, labels = lab, xlab = "", las = las)
    if (!is.null(sp$h)) g(graphics::abline, h = sp$h, lty = "dashed")
    for (d in as.list(sp$d)) g(graphics::abline, h = d, lty = "dotted")
    if (na.act %in% c("na.exclude", "na.pass")) g(graphics::lines, xs[keep], zz[keep], col = col.na)
    g(graphics::lines, xs, zz)
    g(graphics::points, x = xs, y = zz, bg = bg, pch = pch)
    g(graphics::points, x = xs[fl], y = zz[fl], bg = bg.infl, pch = pch)
    list(main = main, x = xs, y = zz, ylim = sp$yl, labels = lab, infl = fl)
  }
  mar_adj <- pmax(graphics::par("mar") - c(2, 1, 2, 0), 1)
  op <- graphics::par("mar")
  on.exit(graphics::par(mar = op), add = TRUE)
  graphics::par(mar = mar_adj)
  n_inf <- length(w_inf)
  if (n_inf) {
    if (n_inf > 1L) {
      # metafor's arrangement, unless the device already has room for the panels
      if (prod(graphics::par("mfrow")) < n_inf)
        graphics::par(mfrow = switch(n_inf - 1L, c(2, 1), c(3, 1), c(2, 2), c(5, 1), c(3, 2), c(7, 1), c(4, 2)))
      on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
    }
    for (j in w_inf) panels[[nms[j]]] <- panel(inf[[nms[j]]], nms[j], nms[j])
  }
  n_dfb <- length(w_dfb)
  if (n_dfb) {
    if (n_inf && n_inf + n_dfb <= prod(graphics::par("mfrow"))) {
      on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
    } else {
      if (dfbsnew) {
        grDevices::dev.new()
        graphics::par(mar = mar_adj)
      } else if (n_inf) {
        oa <- graphics::par(ask = TRUE)
        on.exit(graphics::par(oa), add = TRUE)
      }
      if (n_inf || prod(graphics::par("mfrow")) < n_dfb) graphics::par(mfrow = grDevices::n2mfrow(n_dfb))
      on.exit(graphics::par(mfrow = c(1L, 1L)), add = TRUE)
    }
    cn <- names(x$dfbs)[seq_len(p)]
    for (j in w_dfb) panels[[paste0("dfbs.", cn[j])]] <- panel(x$dfbs[[j]], "dfbs", paste("dfbs: ", cn[j]))
  }
  invisible(structure(x, layout = panels))
}

# metafor's grey of the background: the background shifted by `amount` of
# the colour range towards black (light backgrounds) or white (dark ones).
.mf_bg_shade <- function(amount) {
  rgb <- c(grDevices::col2rgb(graphics::par("bg")))
  rgb <- rgb + round(if (sum(rgb) <= 384) amount * 255 else -amount * 255)
  rgb <- pmin(pmax(rgb, 0), 255)
  grDevices::rgb(rgb[1L], rgb[2L], rgb[3L], maxColorValue = 255)
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
