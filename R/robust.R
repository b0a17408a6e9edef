#' Cluster-robust tests and confidence intervals
#'
#' As metafor's \code{robust()}: cluster-robust (sandwich) inference for the
#' fixed effects of a model fitted by \code{rma()} or \code{rma.mv()}, with
#' the clusters given by \code{cluster}.
#'
#' By default (\code{clubSandwich = FALSE}) the variance of the estimates is
#' the sandwich \eqn{B (\sum_j X_j' W_j e_j e_j' W_j X_j) B}{B (sum_j X_j' W_j e_j e_j' W_j X_j) B}
#' with \eqn{B = (X'WX)^{-1}}{B = (X'WX)^-1}, multiplied by \eqn{n/(n - p)}
#' for \eqn{n} clusters when \code{adjust = TRUE} ("CR1"; \code{adjust =
#' "Stata"} or \code{"Stata1"}: \eqn{n/(n-1) (k-1)/(k-p)}, \code{"Stata2"}:
#' \eqn{n/(n-1)}); tests and intervals use the t distribution with \eqn{n -
#' p} degrees of freedom and the omnibus test is an F test.
#'
#' With \code{clubSandwich = TRUE} the results are those metafor obtains
#' from the clubSandwich package, computed here in C++ cluster by cluster
#' (without clubSandwich and without a k x k matrix): the bias-reduced CR2
#' estimator (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018, J Bus Econ
#' Stat 36:672-683) with the fitted marginal covariance as working model,
#' t tests with Satterthwaite degrees of freedom per coefficient and the HTZ
#' test (Tipton & Pustejovsky 2015) for the omnibus test and for
#' \code{anova(, btt = )} and \code{anova(, X = )}.  Fits whose weights are
#' not the inverse of that covariance (\code{rma()} with \code{weights} or
#' \code{weighted = FALSE}, \code{rma.mv()} with \code{W}) use the general
#' forms of these formulas, in which the weights and the working covariance
#' both enter, as clubSandwich does for them.  \code{vcov} chooses another
#' estimator ("CR0", "CR1", "CR1p", "CR1S", "CR3"), \code{coef_test},
#' \code{conf_test} and \code{wald_test} other reference distributions, as
#' metafor passes them on to clubSandwich.  The clusters must nest the random
#' effects of an \code{rma.mv()} model (an error otherwise, as clubSandwich),
#' and the weights \code{W} of an \code{rma.mv()} fit must be block-diagonal
#' by cluster (an error otherwise; clubSandwich would use only their blocks).
#'
#' The result is the fit with the robust results in place (class
#' \code{mf_robust_rma} before the fit's class): \code{print()},
#' \code{summary()}, \code{coef()}, \code{vcov()}, \code{confint()},
#' \code{predict()} and \code{anova()} use them.  Unlike metafor, the result
#' does not keep the k x k "meat" matrix (\code{$meat} is \code{NULL}).
#'
#' @param x a model fitted by \code{rma()} or \code{rma.mv()}.
#' @param cluster the clustering variable (a vector over the rows of the
#'   original data, or a variable of the data the model was fitted with).
#' @param adjust \code{TRUE} (default), \code{FALSE}, \code{"Stata"},
#'   \code{"Stata1"} or \code{"Stata2"}: the small-sample factor of the
#'   default estimator (ignored with \code{clubSandwich = TRUE}).  In
#'   \code{anova()}: the p-value adjustment, as \code{anova()} of the fit.
#' @param clubSandwich whether to use the CR2-type methods of the
#'   clubSandwich package (computed here).
#' @param digits digits of the printed results.
#' @param vcov,coef_test,conf_test,wald_test with \code{clubSandwich = TRUE}:
#'   the estimator (default "CR2"), the test of the coefficients
#'   ("Satterthwaite", "z", "naive-t", "naive-tp"), the intervals (default:
#'   as \code{coef_test}) and the omnibus test ("HTZ", "chi-sq", "Naive-F",
#'   "Naive-Fp"), as metafor reads them from its \code{...}.
#' @param verbose accepted for metafor compatibility (no effect).
#' @param ... other arguments: metafor's are rejected by name.
#' @return an object of class \code{c("mf_robust_rma", class(x))}.
#' @examples
#' dat <- metadat::dat.konstantopoulos2011
#' fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
#' robust(fit, cluster = district)
#' rob <- robust(fit, cluster = district, clubSandwich = TRUE)
#' rob
#' confint(rob)
#' @export
robust <- function(x, cluster, adjust = TRUE, clubSandwich = FALSE, digits, ...) UseMethod("robust")

#' @rdname robust
#' @export
robust.mf_rma <- function(x, cluster, adjust = TRUE, clubSandwich = FALSE, digits, vcov, coef_test, conf_test,
                          wald_test, verbose = FALSE, ...) {
  .mf_check_dots("robust.mf_rma", ...)
  .mf_robust_method(environment(), parent.frame())
}

#' @rdname robust
#' @export
robust.mf_rma_mv <- function(x, cluster, adjust = TRUE, clubSandwich = FALSE, digits, vcov, coef_test, conf_test,
                             wald_test, verbose = FALSE, ...) {
  .mf_check_dots("robust.mf_rma_mv", ...)
  .mf_robust_method(environment(), parent.frame())
}

# The body of both robust() methods, given the method's frame e (its
# arguments) and the caller's frame: the cluster expression evaluated in the
# data of the fit, then the robust fit.
.mf_robust_method <- function(e, env) {
  given <- function(nm) !eval(call("missing", as.name(nm)), e)
  if (!given("cluster")) .mf_stop("Must specify the 'cluster' variable.")
  opt <- function(nm) if (given(nm)) get(nm, e) else NULL
  x <- e$x
  cl <- .mf_cd_getx(eval(call("substitute", as.name("cluster")), e), x, env, "cluster")
  .mf_robust_run(x, cl, e$adjust, e$clubSandwich, opt("digits"), opt("vcov"), opt("coef_test"), opt("conf_test"),
                 opt("wald_test"))
}

.mf_robust_choice <- function(val, def, allowed, name, also = character(0)) {
  if (is.null(val)) return(def)
  if (!is.character(val) || length(val) != 1L || is.na(val))
    .mf_stop(sprintf("'%s' must be one of %s.", name, paste0("\"", allowed, "\"", collapse = ", ")))
  m <- pmatch(val, c(allowed, also))
  if (is.na(m)) .mf_stop(sprintf("'%s' must be one of %s.", name, paste0("\"", allowed, "\"", collapse = ", ")))
  out <- c(allowed, also)[m]
  if (out %in% also)
    .mf_stop(sprintf("'%s' = \"%s\" is not supported (supported: %s).", name, out,
                     paste0("\"", allowed, "\"", collapse = ", ")))
  out
}

# The cluster-sorted pieces of the sandwich: X, e, offsets, the working
# covariance blocks and, for weights other than their inverse, the weight
# blocks (both concatenated; Wb NULL: W = Theta^-1), B = (X'WX)^-1, the row
# order and, for the default estimator, the rows of W X (fit's row order).
.mf_robust_pieces <- function(x, cl, need_theta) {
  X <- x$X
  # a fit with mf.wald (R/wald.R): the sandwich in its orthonormal coordinates
  # X~ = X T, whose Wald statistics are exact (vb = T vb~ T'); rma.mv() fits
  # transformed their spec's X (rows in block order), as here
  tr <- NULL
  if (!is.null(x$mf.wald)) {
    mv <- inherits(x, "mf_rma_mv")
    tr <- .mf_design_transform(if (mv) x$mf.spec$X else X)
    if (!is.null(tr) && mv) {
      Xs <- tr$Xt
      tr$Xt <- matrix(0, x$k, x$p)
      tr$Xt[x$mf.spec$order, ] <- Xs
      tr$Xs <- Xs
    }
  }
  if (!is.null(tr)) {
    X <- tr$Xt
    e <- c(x$yi - X %*% x$mf.wald$b)
  } else {
    e <- c(x$yi - X %*% x$beta)
  }
  f <- factor(cl, levels = unique(cl))
  fi <- as.integer(f)
  ocl <- order(fi)
  sizes <- tabulate(fi, nbins = nlevels(f))
  off <- c(0L, cumsum(sizes))
  blocks <- function(v) unlist(lapply(split(v, f), function(u) diag(u, length(u))), use.names = FALSE)
  Wb <- NULL
  if (inherits(x, "mf_rma_mv")) {
    A <- .mf_mv_Wc(x)  # (sparse as held; only its blocks by cluster are made dense)
    o <- x$mf.spec$order
    pos <- integer(x$k)
    pos[o] <- seq_len(x$k) - 1L          # sorted-row index of each fit row
    blk <- findInterval(seq_len(x$k) - 1L, x$mf.spec$offsets, rightmost.closed = FALSE)
    bl <- blk[pos + 1L]                  # engine block of each fit row
    cut <- any(vapply(split(fi, bl), function(v) any(v != v[1L]), logical(1)))
    # (a W fit's spec refuses the methods that refit; its blocks of M are valid)
    spec <- x$mf.spec
    spec$refuse <- NULL
    if (!is.null(tr)) spec$X <- tr$Xs
    if (.mf_spec_is_sparse(spec)) {
      # crossed random effects fitted by the sparse engine: W X from its factor
      # (src/core/sparse_objective.hpp).  The CR2-type estimators need M block
      # diagonal by cluster: every level of every factor within one cluster
      # (clubSandwich's condition, as for the block engine's fits), the
      # blocks M_cc then read from V and the codes
      gl <- list()
      if (is.null(A)) gl$WX <- .mf_rma_mv_WX_sparse(spec, .mf_mv_theta(x))
      if (need_theta) {
        # (the blocks of M: rows linked by V, a factor or a known R)
        cut <- any(tapply(fi[o], .mf_mv_spec_blocks(spec), function(v) any(v != v[1L])))
        if (!cut) gl$Theta <- .mf_rma_mv_cluster_blocks_sparse(spec, .mf_mv_theta(x), pos[ocl], off)
      }
    } else {
      gl <- if (is.null(A) || need_theta) .mf_robust_mv_blocks(spec, .mf_mv_theta(x), pos[ocl], off)
    }
    if (is.null(A)) {
      WX <- matrix(0, x$k, x$p)
      WX[o, ] <- gl$WX
    } else {
      # user weights (metafor's W = A): B = (X'AX)^-1 and the scores of the
      # rows A X (metafor's default estimator uses the whole of A); the
      # CR2-type estimators need A block-diagonal by cluster
      WX <- t(.mf_mv_XtA(X, A))  # (A symmetric)
      if (need_theta) {
        nz <- .mf_mv_W_nz(A)
        if (any(fi[nz[, 1L]] != fi[nz[, 2L]]))
          .mf_stop("robust(clubSandwich = TRUE) needs weights 'W' that are block-diagonal by 'cluster' ",
                   "('W' has nonzero entries between rows of different clusters).")
        Wb <- .mf_mv_W_blocks(A, split(ocl, fi[ocl]))
      }
    }
    B <- chol2inv(chol(crossprod(X, WX)))
    list(X = X, e = e, f = f, ocl = ocl, off = off, Theta = gl$Theta, Wb = Wb, B = B, WX = WX, cut = cut,
         inv = is.null(A), Bdef = B, T = tr$T)
  } else {
    inv <- isTRUE(x$weighted) && is.null(x$weights)
    w <- if (!isTRUE(x$weighted)) rep(1, x$k) else if (is.null(x$weights)) 1 / (x$vi + x$tau2) else x$weights
    WX <- X * w
    B <- chol2inv(chol(crossprod(X, WX)))
    # the target is the fitted marginal covariance diag(vi + tau2) whatever the weights
    Theta <- if (need_theta) blocks(x$vi + x$tau2)
    if (need_theta && !inv) Wb <- blocks(w)
    # metafor's default estimator uses the fit's vb for inverse-variance weights
    list(X = X, e = e, f = f, ocl = ocl, off = off, Theta = Theta, Wb = Wb, B = B, WX = WX, cut = FALSE, inv = inv,
         Bdef = if (inv) (if (is.null(tr)) x$vb else x$mf.wald$vb) else B, T = tr$T)
  }
}

.mf_robust_types <- c("CR0", "CR1", "CR1p", "CR1S", "CR2", "CR3")

# C++: the sandwich of 'type' with Satterthwaite df for the rows of Csatt and
# nu_Z of the HTZ tests of the matrices in Chtz.
.mf_robust_cs <- function(pc, type, Csatt = matrix(0, 0, ncol(pc$X)), Chtz = list()) {
  .mf_robust_sandwich(pc$X[pc$ocl, , drop = FALSE], pc$e[pc$ocl], as.integer(pc$off), pc$Theta,
                      if (is.null(pc$Wb)) numeric(0) else pc$Wb, pc$B, match(type, .mf_robust_types) - 1L, Csatt, Chtz)
}

# Hotelling's T^2 approximation of the HTZ test (Tipton & Pustejovsky 2015).
.mf_robust_htz <- function(Q, q, nu) {
  delta <- max((nu - q + 1) / nu, 0)
  df2 <- nu - q + 1
  Fs <- delta * Q / q
  list(Fstat = Fs, df_num = q, df_denom = df2,
       p_val = if (df2 > 0) stats::pf(Fs, q, df2, lower.tail = FALSE) else NA_real_)
}

# The Wald test of C b = rhs of a clubSandwich-type robust fit.
.mf_robust_wald <- function(x, C, rhs = NULL) {
  q <- nrow(C)
  Q <- .mf_wald_stat(x, L = C, rhs = rhs)
  J <- x$n
  switch(x$wald_test,
         "chi-sq" = list(Fstat = Q / q, df_num = q, df_denom = Inf, p_val = stats::pchisq(Q, q, lower.tail = FALSE)),
         "Naive-F" = list(Fstat = Q / q, df_num = q, df_denom = J - 1,
                          p_val = stats::pf(Q / q, q, J - 1, lower.tail = FALSE)),
         "Naive-Fp" = list(Fstat = Q / q, df_num = q, df_denom = J - x$p,
                           p_val = stats::pf(Q / q, q, J - x$p, lower.tail = FALSE)),
         HTZ = {
           nu <- .mf_robust_cs(x$mf.robust, x$vbest, Chtz = list(.mf_wald_rows(x, C, joint = TRUE)))$nu
           .mf_robust_htz(Q, q, nu)
         })
}

# Degrees of freedom of the rows of C under test 'test'.
.mf_robust_df <- function(x, C, test) {
  switch(test, z = rep(Inf, nrow(C)), "naive-t" = rep(x$n - 1, nrow(C)), "naive-tp" = rep(x$n - x$p, nrow(C)),
         Satterthwaite = .mf_robust_cs(x$mf.robust, x$vbest, Csatt = .mf_wald_rows(x, C))$df)
}

.mf_robust_run <- function(x, cl, adjust, clubSandwich, digits, vcov, coef_test, conf_test, wald_test) {
  if (!is.logical(clubSandwich) || length(clubSandwich) != 1L || is.na(clubSandwich))
    .mf_stop("'clubSandwich' must be TRUE or FALSE.")
  if (!(isTRUE(adjust) || isFALSE(adjust) || (is.character(adjust) && length(adjust) == 1L &&
                                               adjust %in% c("Stata", "Stata1", "Stata2"))))
    .mf_stop("'adjust' must be TRUE, FALSE, \"Stata\", \"Stata1\" or \"Stata2\".")
  if (is.logical(x$subset) && length(x$subset) == length(cl)) cl <- cl[x$subset]
  cl <- cl[.mf_na_view(x)$not.na]
  if (anyNA(cl)) .mf_stop(sprintf("No missing values allowed in 'cluster' variable (%s of the fitted data).",
                                  .mf_rows(is.na(cl))))
  if (length(cl) == 0L) .mf_stop("Cannot find 'cluster' variable (or it has zero length).")
  n <- length(unique(cl))
  if (n < 2L) .mf_stop("'cluster' has only one cluster: cluster-robust inference needs at least two clusters.")
  dfs <- n - x$p
  level <- x$level
  if (clubSandwich) {
    vcov <- .mf_robust_choice(vcov, "CR2", .mf_robust_types, "vcov")
    coef_test <- .mf_robust_choice(coef_test, "Satterthwaite", c("z", "naive-t", "naive-tp", "Satterthwaite"),
                                   "coef_test", also = "saddlepoint")
    conf_test <- .mf_robust_choice(conf_test, coef_test, c("z", "naive-t", "naive-tp", "Satterthwaite"),
                                   "conf_test")
    wald_test <- .mf_robust_choice(wald_test, "HTZ", c("chi-sq", "Naive-F", "Naive-Fp", "HTZ"), "wald_test",
                                   also = c("HTA", "HTB", "EDF", "EDT"))
    pc <- .mf_robust_pieces(x, cl, TRUE)
    if (pc$cut) .mf_stop("Random effects are not nested within the clustering variable 'cluster' (clubSandwich ",
                         "requires every cluster to contain whole levels of the outer random factors).")
    x$mf.robust <- pc
    x$vbest <- vcov
    x$n <- n
    x$coef_test <- coef_test
    x$conf_test <- conf_test
    x$wald_test <- wald_test
    p <- x$p
    I <- diag(p)
    r <- .mf_robust_cs(pc, vcov, Csatt = if ("Satterthwaite" %in% c(coef_test, conf_test)) .mf_wald_rows(x, I)
                                        else matrix(0, 0, p))
    vb <- r$vcov
    if (!is.null(pc$T)) {  # (the sandwich in the fit's orthonormal coordinates, R/wald.R)
      x$mf.wald$vb <- vb
      vb <- pc$T %*% vb %*% t(pc$T)
    }
    dimnames(vb) <- dimnames(x$vb)
    x$vb <- vb
    beta <- c(x$beta)
    se <- sqrt(diag(vb))
    zval <- beta / se
    zval[is.infinite(zval)] <- NA_real_
    dfc <- function(test) switch(test, z = rep(Inf, p), "naive-t" = rep(n - 1, p), "naive-tp" = rep(n - p, p),
                                 Satterthwaite = r$df)
    dft <- dfc(coef_test)
    dfi <- dfc(conf_test)
    pval <- 2 * stats::pt(abs(zval), df = dft, lower.tail = FALSE)
    crit <- stats::qt(level / 2, df = dfi, lower.tail = FALSE)
    ci.lb <- beta - crit * se
    ci.ub <- beta + crit * se
    if (isTRUE(x$int.only)) {
      QM <- max(0, zval^2)
      QMdf <- c(1, dft)
      QMp <- pval
    } else {
      C <- I[x$btt, , drop = FALSE]
      w <- .mf_robust_wald(x, C)
      QM <- max(0, w$Fstat)
      QMdf <- c(w$df_num, max(0, w$df_denom))
      QMp <- w$p_val
    }
    dfs <- dft
  } else {
    if (dfs <= 0) .mf_stop(sprintf("Number of clusters (%d) in 'cluster' must be larger than the number of fixed effects (%d).",
                                   n, x$p))
    pc <- .mf_robust_pieces(x, cl, FALSE)
    u <- rowsum(pc$WX * pc$e, pc$f, reorder = FALSE)
    vb <- pc$Bdef %*% crossprod(u) %*% pc$Bdef
    vbest <- "CR0"
    if (isTRUE(adjust)) {
      vb <- (n / dfs) * vb
      vbest <- "CR1"
    } else if (identical(adjust, "Stata") || identical(adjust, "Stata1")) {
      vb <- (n / (n - 1) * (x$k - 1) / (x$k - x$p)) * vb
      vbest <- "CR1.S1"
    } else if (identical(adjust, "Stata2")) {
      vb <- (n / (n - 1)) * vb
      vbest <- "CR1.S2"
    }
    if (!is.null(pc$T)) {  # (the sandwich in the fit's orthonormal coordinates, R/wald.R)
      x$mf.wald$vb <- vb
      vb <- pc$T %*% vb %*% t(pc$T)
    }
    is0 <- diag(vb) < 100 * .Machine$double.eps
    vb[is0, ] <- NA_real_
    vb[, is0] <- NA_real_
    dimnames(vb) <- dimnames(x$vb)
    x$vbest <- vbest
    x$vb <- vb
    beta <- c(x$beta)
    se <- sqrt(diag(vb))
    zval <- beta / se
    pval <- 2 * stats::pt(abs(zval), df = dfs, lower.tail = FALSE)
    crit <- stats::qt(level / 2, df = dfs, lower.tail = FALSE)
    ci.lb <- beta - crit * se
    ci.ub <- beta + crit * se
    QM <- .mf_wald_stat(x, btt = x$btt)
    if (is.na(QM)) warning("Could not obtain the cluster-robust omnibus Wald test.", call. = FALSE)
    QM <- QM / x$m
    QMdf <- c(x$m, dfs)
    QMp <- stats::pf(QM, df1 = x$m, df2 = dfs, lower.tail = FALSE)
  }
  if (!is.null(digits)) x$digits <- digits
  names(se) <- NULL
  x$ddf <- dfs
  x$dfs <- dfs
  x$se <- se
  x$zval <- unname(zval)
  x$pval <- unname(pval)
  x$ci.lb <- unname(ci.lb)
  x$ci.ub <- unname(ci.ub)
  x$QM <- QM
  x$QMdf <- QMdf
  x$QMp <- QMp
  x$n <- n
  x$tcl <- table(if (clubSandwich) cl else cl[order(cl)])
  x$test <- "t"
  x$s2w <- 1
  x$robumethod <- if (clubSandwich) "clubSandwich" else "default"
  x$cluster <- cl
  x$meat <- NULL
  class(x) <- unique(c("mf_robust_rma", class(x)))
  x
}

# Degrees of freedom of predictions / linear combinations Xn of a robust fit
# (predict() of rma and rma.mv fits): Satterthwaite (or coef_test's) per row
# for clubSandwich-type fits, the fit's n - p otherwise; 'other' for fits
# that are not robust.
.mf_robust_pred_ddf <- function(x, Xn, other) {
  if (!inherits(x, "mf_robust_rma")) return(other)
  if (identical(x$robumethod, "clubSandwich")) return(.mf_robust_df(x, Xn, x$coef_test))
  rep(x$dfs[1L], nrow(Xn))
}

#' @rdname robust
#' @param object a result of \code{robust()}.
#' @param object2,btt,X,att,Z,rhs,refit as \code{anova()} of the fit: with
#'   \code{btt} or \code{X}, the cluster-robust Wald tests (F tests with
#'   \eqn{n - p} degrees of freedom, or with \code{clubSandwich = TRUE} the
#'   HTZ test and Satterthwaite t tests of the combinations).
#' @export
anova.mf_robust_rma <- function(object, object2, btt, X, att, Z, rhs, adjust, digits, refit = FALSE, ...) {
  if (!missing(object2) && !is.null(object2)) return(NextMethod())
  .mf_check_dots("anova.mf_rma", ...)
  x <- object
  if (!missing(att) || !missing(Z)) .mf_stop("Arguments 'att' and 'Z' are only meaningful for location-scale models.")
  d <- .mf_digits(if (missing(digits)) NULL else digits, x)
  adjust <- .mf_adjust_method(if (missing(adjust)) NULL else adjust)
  rhs <- if (missing(rhs)) NULL else rhs
  cs <- identical(x$robumethod, "clubSandwich")
  one_btt <- function(b, rhs) {
    res <- .mf_anova_btt(x, b, rhs, d)
    if (cs) {
      w <- .mf_robust_wald(x, diag(x$p)[res$btt, , drop = FALSE],
                           if (!is.null(rhs)) .mf_rhs(rhs, res$m, "coefficients tested"))
      res$QM <- max(0, w$Fstat)
      res$QMdf <- c(w$df_num, w$df_denom)
      res$QMp <- w$p_val
    } else {
      res$QMdf <- c(res$m, x$dfs[1L])
      res$QMp <- stats::pf(res$QM, res$m, res$QMdf[2], lower.tail = FALSE)
    }
    res
  }
  if (missing(X) || is.null(X)) {
    if (!missing(btt) && !is.null(btt) && (is.list(btt) || (is.character(btt) && length(btt) > 1L))) {
      if (!is.null(rhs)) .mf_stop("Cannot use 'rhs' with a list 'btt' (one test per element).")
      return(.mf_anova_btt_list(btt, adjust, function(b) one_btt(b, NULL)))
    }
    res <- one_btt(if (missing(btt)) NULL else btt, rhs)
    if (!is.null(adjust)) res$QMp <- stats::p.adjust(res$QMp, method = adjust)
  } else {
    if (cs && !is.null(rhs)) {
      warning("Cannot use 'rhs' argument for robust() fits based on 'clubSandwich'.", call. = FALSE)
      rhs <- NULL
    }
    res <- .mf_anova_contrasts(x, X, rhs, d)
    Xm <- if (is.data.frame(X)) as.matrix(X) else if (is.null(dim(X))) rbind(X) else X
    if (x$int.incl && ncol(Xm) == x$p - 1L) Xm <- cbind(1, Xm)
    ddf <- .mf_robust_pred_ddf(x, Xm, NULL)
    res$ddf <- ddf
    res$pval <- ifelse(ddf > 0, 2 * stats::pt(abs(res$zval), ddf, lower.tail = FALSE), NA_real_)
    if (!is.na(res$QM)) {
      if (cs) {
        w <- .mf_robust_wald(x, Xm)
        res$QM <- max(0, w$Fstat)
        res$QMdf <- c(w$df_num, w$df_denom)
        res$QMp <- w$p_val
      } else {
        res$QMdf <- c(res$m, min(ddf))
        res$QMp <- stats::pf(res$QM, res$m, res$QMdf[2], lower.tail = FALSE)
      }
    }
    if (!is.null(adjust)) res$pval <- stats::p.adjust(res$pval, method = adjust)
  }
  class(res) <- "anova.mf_rma"
  res
}

#' @rdname robust
#' @details \code{summary()} of a robust fit prints, as metafor's, the fit
#'   statistics and the cluster lines (numbers of estimates and clusters,
#'   estimates per cluster) with the cluster-robust results.
#' @export
summary.mf_robust_rma <- function(object, ...) {
  out <- NextMethod()
  class(out) <- unique(c("summary.mf_robust_rma", class(out)))
  out
}

#' @rdname robust
#' @export
print.summary.mf_robust_rma <- function(x, digits, ...) {
  class(x) <- setdiff(class(x), "summary.mf_robust_rma")
  if (missing(digits)) print.mf_robust_rma(x, ...) else print.mf_robust_rma(x, digits = digits, ...)
}

#' @rdname robust
#' @export
print.mf_robust_rma <- function(x, digits, ...) {
  y <- x
  # the fit's print method, with metafor's rounding of the denominator df
  if (length(y$QMdf) == 2L && is.finite(y$QMdf[2])) y$QMdf[2] <- round(y$QMdf[2], 2)
  class(y) <- setdiff(class(x), "mf_robust_rma")
  out <- utils::capture.output(if (missing(digits)) print(y, ...) else print(y, digits = digits, ...))
  tcl <- as.vector(x$tcl)
  info <- c(sprintf("Number of estimates:   %d", x$k), sprintf("Number of clusters:    %d", x$n),
            sprintf("Estimates per cluster: %s (mean: %s, median: %s)",
                    if (min(tcl) == max(tcl)) min(tcl) else paste0(min(tcl), "-", max(tcl)),
                    formatC(mean(tcl), format = "f", digits = 2), round(stats::median(tcl), 2)), "")
  at <- grep("^(Test of Moderators|Model Results)", out)[1L]
  if (!is.na(at)) out <- append(out, info, after = at - 1L)
  cat(out, sep = "\n")
  legend <- if (identical(x$robumethod, "default")) {
    sprintf("   approx %s, df: residual method)", if (isTRUE(x$int.only)) "t-test and confidence interval"
            else "t/F-tests and confidence intervals")
  } else if (x$coef_test == "Satterthwaite" && x$conf_test == "Satterthwaite" && x$wald_test == "HTZ") {
    sprintf("   approx %s, df: Satterthwaite approx)", if (isTRUE(x$int.only)) "t-test and confidence interval"
            else "t/F-tests and confidence intervals")
  } else {
    sprintf("   coef_test: %s, conf_test: %s, wald_test: %s)", x$coef_test, x$conf_test, x$wald_test)
  }
  cat(sprintf("\nResults based on cluster-robust inference (var-cov estimator: %s,\n%s\n\n", x$vbest, legend))
  invisible(x)
}
