# rma.glmm(): generalized linear (mixed-effects) models for binary and count
# outcomes, with the arguments, meaning and fields of metafor 5.2.1's
# rma.glmm().  The likelihood of every model here is a sum over studies of
# one-dimensional integrals over the study's random effect; the C++ core
# (src/core/glmm.hpp) evaluates them by adaptive Gauss-Hermite quadrature and
# maximises them.  This file builds the observations of each model, validates
# the input, and computes the tests, heterogeneity statistics and fit
# statistics from the core's estimates.  See DESIGN.md, "rma.glmm()".

#' Generalized linear (mixed-effects) models for binary and count outcomes
#'
#' Meta-analysis of 2x2 tables, two-group event counts, proportions and
#' incidence rates with (mixed-effects) logistic and Poisson models, with the
#' arguments, results and printout of \code{metafor::rma.glmm()}.  metafor
#' fits these models with \code{lme4::glmer()} and \code{glm()}; metafast
#' evaluates each study's integral over its random effect by adaptive
#' Gauss-Hermite quadrature with \code{nAGQ} points (Liu & Pierce 1994;
#' Pinheiro & Bates 1995; \code{nAGQ = 1} is the Laplace approximation) in
#' C++, and maximises the log-likelihood by Newton steps with a bounded number
#' of iterations.  lme4 is not needed.
#'
#' Models (Stijnen, Hamza & Ozdemir 2010; Jackson et al. 2018):
#' \itemize{
#'   \item \code{measure = "PLO"}: binomial-normal model of the logits of
#'     the proportions \code{xi / ni} (random study effects);
#'   \item \code{measure = "IRLN"}: Poisson-normal model of the log incidence
#'     rates \code{xi / ti};
#'   \item \code{measure = "OR"} and \code{"IRR"} with \code{model = "UM.FS"}:
#'     logistic / Poisson model of both groups with fixed study effects and a
#'     random group effect (coded by \code{coding});
#'   \item \code{measure = "OR"} with \code{model = "CM.AL"}: the
#'     approximate conditional model (binomial-normal model of the events of
#'     group 1 among all events, offset log(n1i / n2i));
#'   \item \code{measure = "IRR"} with \code{model = "CM.EL"} (or
#'     \code{"CM.AL"}, the same model, as in metafor): the exact conditional
#'     (binomial-normal) model of the events of group 1 among all events,
#'     offset log(t1i / t2i);
#'   \item \code{measure = "OR"} and \code{"IRR"} with \code{model = "UM.RS"}:
#'     random study intercepts (variance \code{sigma2}) and a random group
#'     effect (variance \code{tau2}, correlated with the intercepts when
#'     \code{cor = TRUE}, correlation \code{rho}); as in metafor (glmer), ML
#'     fits use the Laplace approximation (\code{nAGQ} is set to 1 with a
#'     warning); the 2-D integral of each study is done in C++ (Tierney &
#'     Kadane 1986);
#'   \item \code{measure = "OR"} with \code{model = "CM.EL"}: the exact
#'     conditional model (Fisher's non-central hypergeometric likelihood of
#'     \code{ai} given the margins, normal random log odds ratio; Van
#'     Houwelingen, Zwinderman & Stijnen 1993), integrated per study by
#'     adaptive Gauss-Hermite quadrature with 31 nodes whatever \code{nAGQ}
#'     (metafor integrates with \code{integrate()} and ignores \code{nAGQ}
#'     here), with \code{se.tau2} and a Wald-type CI of tau^2 on the log
#'     scale as metafor.
#' }
#' Not available (errors naming them): metafor's experimental measures PR,
#' RR, RD and PLN.
#'
#' With \code{method = "EE"} (aliases \code{"FE"}, \code{"CE"}) the model
#' without random effect is fitted.  The heterogeneity tests are those of
#' metafor: the Wald test (\code{QE.Wld}) and the likelihood-ratio test
#' (\code{QE.LRT}) of the equal-effects model against the saturated model.
#' I^2 and H^2 use the "typical" sampling variance of the outcomes computed by
#' \code{escalc()} (with \code{add}, \code{to}, \code{drop00} and
#' \code{vtype}, which concern only these outcomes: the models are fitted to
#' the counts as they are).
#'
#' @param ai,bi,ci,di,n1i,n2i 2x2 table counts (\code{measure = "OR"}).
#' @param x1i,x2i,t1i,t2i events and person-times of two groups
#'   (\code{measure = "IRR"}).
#' @param xi,mi,ni events, non-events and sample sizes
#'   (\code{measure = "PLO"}), or events (\code{"IRLN"}).
#' @param ti person-times (\code{measure = "IRLN"}).
#' @param mods moderators: a one-sided formula or a numeric vector or matrix.
#' @param measure \code{"OR"}, \code{"IRR"}, \code{"PLO"} or \code{"IRLN"}.
#' @param intercept include an intercept (default \code{TRUE}).
#' @param data optional data frame in which the arguments are evaluated.
#' @param slab study labels.
#' @param subset logical or numeric vector selecting the studies.
#' @param add,to,drop00,vtype as in \code{escalc()}, for the outcomes
#'   \code{yi}, \code{vi} (only the first value of \code{add} and \code{to}
#'   is used, as in metafor); \code{drop00 = TRUE} (default) also drops the
#'   studies without events (or with only events) in both groups from the
#'   fit (OR and IRR).
#' @param model \code{"UM.FS"} (default), \code{"UM.RS"}, \code{"CM.AL"} or
#'   \code{"CM.EL"} (see above; only for OR and IRR).
#' @param method \code{"ML"} (default) or \code{"EE"}.
#' @param coding coding of the group variable of the random effect in
#'   \code{model = "UM.FS"}: \code{1/2} (+1/2 / -1/2, default), \code{1}
#'   (1 / 0) or \code{0} (0 / 1).
#' @param cor allow a correlation of the two random effects of
#'   \code{model = "UM.RS"} (\code{TRUE} or \code{FALSE}, default); without
#'   effect on the other models (as in metafor).
#' @param test \code{"z"} or \code{"t"}.
#' @param level confidence level (95, 0.95 or 0.05 all mean 95\%).
#' @param btt coefficients tested by the omnibus test (numbers or names);
#'   in \code{anova()}, the coefficients of its Wald test.
#' @param nAGQ number of quadrature points per study (a positive integer;
#'   default 7, as metafor).
#' @param verbose accepted and ignored.
#' @param digits number of digits for printing.
#' @param control list: \code{maxiter} (iterations of the Newton steps,
#'   default 100) and \code{tol} (relative step size at convergence, 1e-10).
#'   metafor's settings of its optimisers (\code{optimizer}, \code{optmethod},
#'   \code{package}, \code{glmCtrl}, \code{glmerCtrl}, \code{intCtrl},
#'   \code{hessianCtrl}, \code{scaleX}, \code{evtol}, ...) are accepted and
#'   have no effect: metafast uses its own solver.
#' @param ... \code{tdist}, \code{onlyo1}, \code{addyi}, \code{addvi},
#'   \code{skiphet} and \code{time} as in metafor; metafor's \code{outlist},
#'   \code{retdat}, \code{retfit}, \code{family}, \code{link} and \code{i2def}
#'   are errors naming them; other names are disregarded with a warning.
#' @return An object of class \code{mf_rma_glmm} with metafor's fields:
#'   \code{beta}, \code{se}, \code{zval}, \code{pval}, \code{ci.lb},
#'   \code{ci.ub}, \code{vb}, \code{tau2}, \code{I2}, \code{H2},
#'   \code{QE.Wld}, \code{QEp.Wld}, \code{QE.LRT}, \code{QEp.LRT},
#'   \code{QE.df}, \code{QM}, \code{QMdf}, \code{QMp}, \code{k},
#'   \code{k.eff}, \code{p}, \code{parms}, \code{yi}, \code{vi},
#'   \code{X}, \code{fit.stats}, \code{se.warn} (metafor's check of the
#'   SEs of OR CM.EL fits against a Peto fit, with its warning), ..., and
#'   \code{converged} and
#'   \code{iterations} of the solver.
#' @references Liu Q, Pierce DA (1994). A note on Gauss-Hermite quadrature.
#'   Biometrika 81:624-629.
#'
#'   Pinheiro JC, Bates DM (1995). Approximations to the log-likelihood
#'   function in the nonlinear mixed-effects model. Journal of Computational
#'   and Graphical Statistics 4:12-35.
#'
#'   Stijnen T, Hamza TH, Ozdemir P (2010). Random effects meta-analysis of
#'   event outcome in the framework of the generalized linear mixed model
#'   with applications in sparse data. Statistics in Medicine 29:3046-3067.
#'
#'   Tierney L, Kadane JB (1986). Accurate approximations for posterior
#'   moments and marginal densities. Journal of the American Statistical
#'   Association 81:82-86.
#'
#'   Van Houwelingen HC, Zwinderman KH, Stijnen T (1993). A bivariate
#'   approach to meta-analysis. Statistics in Medicine 12:2273-2284.
#'
#'   Jackson D, Law M, Stijnen T, Viechtbauer W, White IR (2018). A comparison
#'   of seven random-effects models for meta-analyses that estimate the
#'   summary odds ratio. Statistics in Medicine 37:1059-1085.
#' @examples
#' dat <- data.frame(ai = c(4, 6, 3, 62, 33, 180), n1i = c(123, 306, 231, 13598, 5069, 1541),
#'                   ci = c(11, 29, 11, 248, 47, 372), n2i = c(139, 303, 220, 12867, 5808, 1451))
#' fit <- rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat)
#' fit
#' predict(fit, transf = exp)
#' # the binomial-normal model of the proportions of group 1
#' rma.glmm(measure = "PLO", xi = ai, ni = n1i, data = dat)
#' if (requireNamespace("metafor", quietly = TRUE) && requireNamespace("lme4", quietly = TRUE)) {
#'   ref <- metafor::rma.glmm(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat)
#'   c(metafast = coef(fit), metafor = coef(ref))
#' }
#' @export
rma.glmm <- function(ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i, xi, mi, ti, ni, mods,
                     measure, intercept = TRUE, data, slab, subset, add = 1/2, to = "only0", drop00 = TRUE,
                     vtype = "LS", model = "UM.FS", method = "ML", coding = 1/2, cor = FALSE, test = "z",
                     level = 95, btt, nAGQ = 7, verbose = FALSE, digits, control, ...) {
  .mf_check_dots("rma.glmm", ...)
  ddd <- list(...)
  if (missing(measure)) .mf_stop("Must specify the 'measure' argument.")
  if (!is.character(measure) || length(measure) != 1L || is.na(measure))
    .mf_stop("'measure' must be one of \"OR\", \"IRR\", \"PLO\", \"IRLN\".")
  if (measure %in% c("PR", "RR", "RD", "PLN"))
    .mf_stop(sprintf("measure = \"%s\" of rma.glmm() (experimental in metafor) is not supported by metafast; use \"OR\", \"IRR\", \"PLO\" or \"IRLN\".", measure))
  if (!measure %in% c("OR", "IRR", "PLO", "IRLN"))
    .mf_stop("Unknown 'measure' specified: rma.glmm() takes \"OR\", \"IRR\", \"PLO\" or \"IRLN\".")
  if (!is.character(model) || length(model) != 1L || !model %in% c("UM.FS", "UM.RS", "CM.EL", "CM.AL"))
    .mf_stop("Unknown 'model' specified: one of \"UM.FS\", \"UM.RS\", \"CM.EL\", \"CM.AL\".")
  if (model == "CM.AL" && measure == "IRR") model <- "CM.EL"
  tworow <- measure %in% c("OR", "IRR")
  if (!tworow && !missing(model)) {
    warning("Argument 'model' not relevant for this outcome measure.", call. = FALSE)
    model <- "UM.FS"
  }
  if (!is.character(method) || length(method) != 1L || !method %in% c("FE", "EE", "CE", "ML"))
    .mf_stop("Unknown 'method' specified: rma.glmm() takes \"ML\" or \"EE\" (\"FE\", \"CE\").")
  ee <- method != "ML"
  if (!is.numeric(coding) || length(coding) != 1L || !coding %in% c(1/2, 1, 0))
    .mf_stop("Unknown 'coding' option specified: 1/2, 1 or 0.")
  .mf_tab_flag(cor, "cor")
  .mf_tab_flag(intercept, "intercept")
  if (!is.null(ddd$tdist)) test <- if (isTRUE(ddd$tdist)) "t" else "z"
  if (!is.character(test) || length(test) != 1L || !test %in% c("z", "t"))
    .mf_stop("Invalid option selected for 'test' argument: \"z\" or \"t\".")
  if (!is.numeric(nAGQ) || length(nAGQ) != 1L || is.na(nAGQ) || nAGQ < 1 || nAGQ != round(nAGQ) || nAGQ > 100)
    .mf_stop("'nAGQ' must be a whole number between 1 and 100 (nAGQ = 0 of glmer() is not supported).")
  # as metafor: glmer() has adaptive quadrature only for one scalar random
  # effect per study, so UM.RS fits by ML use the Laplace approximation
  if (tworow && model == "UM.RS" && !ee && nAGQ > 1) {
    warning("Not possible to fit RE/ME model='UM.RS' with nAGQ > 1 with glmer(). nAGQ automatically set to 1.", call. = FALSE)
    nAGQ <- 1L
  }
  alpha <- .mf_level(level)
  digits <- .mf_tab_digits(digits)
  con <- .mf_glmm_control(if (missing(control)) list() else control)
  skiphet <- isTRUE(ddd$skiphet)
  if (length(add) > 1L) add <- add[1L]
  if (length(to) > 1L) to <- to[1L]
  drop00 <- .mf_tab_flag(drop00[1L], "drop00")

  env <- parent.frame()
  mf <- match.call()
  if (missing(data) || is.null(data)) data <- NULL else if (!is.data.frame(data)) data <- data.frame(data)
  dsrc <- if (is.null(data)) env else data
  getnum <- function(nm) .mf_numeric(.mf_tab_getx(mf, nm, dsrc, env), nm, allow_null = TRUE)
  cnt <- switch(measure, OR = c("ai", "bi", "ci", "di", "n1i", "n2i"), IRR = c("x1i", "x2i", "t1i", "t2i"),
                PLO = c("xi", "mi", "ni"), IRLN = c("xi", "ti"))
  v <- lapply(stats::setNames(cnt, cnt), getnum)
  need <- switch(measure, OR = list(c("ai"), c("bi", "n1i"), c("ci"), c("di", "n2i")),
                 IRR = as.list(cnt), PLO = list("xi", c("mi", "ni")), IRLN = list("xi", "ti"))
  for (nd in need) if (all(vapply(v[nd], is.null, logical(1))))
    .mf_stop(sprintf("rma.glmm(measure = \"%s\") needs '%s'.", measure, paste(nd, collapse = "' or '")))
  v <- v[!vapply(v, is.null, logical(1))]
  lens <- lengths(v)
  if (any(lens != lens[1L]))
    .mf_stop(sprintf("the data vectors of rma.glmm() have different lengths: %s.",
                     paste0(names(lens), " (", lens, ")", collapse = ", ")))
  k.all <- unname(lens[1L])
  if (k.all == 0L) .mf_stop("the data vectors of rma.glmm() are empty.")
  for (nm in intersect(names(v), c("ai", "bi", "ci", "di", "n1i", "n2i", "x1i", "x2i", "xi", "mi", "ni")))
    .mf_tab_bad(v[[nm]] < 0, sprintf("'%s' must not be negative", nm))
  for (nm in intersect(names(v), c("t1i", "t2i", "ti")))
    .mf_tab_bad(v[[nm]] <= 0, sprintf("'%s' (person-time) must be positive", nm))
  if (measure == "OR") {
    if (is.null(v$bi)) { .mf_tab_bad(v$ai > v$n1i, "'ai' must not exceed 'n1i'"); v$bi <- v$n1i - v$ai }
    if (is.null(v$di)) { .mf_tab_bad(v$ci > v$n2i, "'ci' must not exceed 'n2i'"); v$di <- v$n2i - v$ci }
    v <- v[c("ai", "bi", "ci", "di")]
  } else if (measure == "PLO") {
    if (is.null(v$mi)) { .mf_tab_bad(v$xi > v$ni, "'xi' must not exceed 'ni'"); v$mi <- v$ni - v$xi }
    v <- v[c("xi", "mi")]
  }

  # escalc() outcomes (with add / to / vtype), as metafor: yi, vi, ni
  esargs <- c(list(measure = measure), v, list(add = add, to = to, vtype = vtype))
  if (tworow) esargs$drop00 <- drop00
  for (nm in c("onlyo1", "addyi", "addvi")) if (!is.null(ddd[[nm]])) esargs[[nm]] <- ddd[[nm]]
  es <- do.call(escalc, esargs)
  yi <- as.vector(es$yi); vi <- as.vector(es$vi); ni <- attr(es$yi, "ni")
  if (is.null(ni)) ni <- rep(NA_real_, k.all)

  ids <- seq_len(k.all)
  slab <- .mf_tab_getx(mf, "slab", dsrc, env)
  slab.null <- is.null(slab)
  if (slab.null) slab <- ids else {
    if (anyNA(slab)) .mf_stop(sprintf("'slab' has missing values (%s).", .mf_rows(is.na(slab))))
    if (length(slab) != k.all) .mf_stop(sprintf("'slab' has length %d but the data have %d rows.", length(slab), k.all))
    if (is.factor(slab)) slab <- as.character(slab)
    slab <- as.vector(unclass(slab))
  }
  mods <- if ("mods" %in% names(mf)) {
    mm <- mf$mods
    tryCatch(eval(mm, dsrc, env), error = function(e)
      .mf_stop(sprintf("cannot find the object/variable ('%s') given for argument 'mods'.", deparse1(mm))))
  } else NULL
  des <- .mf_design(mods, data, k.all, intercept)
  X.f <- des$X
  subset <- .mf_tab_getx(mf, "subset", dsrc, env)
  if (!is.null(subset)) {
    keep <- .esc_subset(subset, k.all, "subset")
    v <- lapply(v, `[`, keep); yi <- yi[keep]; vi <- vi[keep]; ni <- ni[keep]
    slab <- slab[keep]; ids <- ids[keep]; X.f <- X.f[keep, , drop = FALSE]
    subset <- keep  # (metafor's field: logical over the k.all rows)
  }
  if (anyDuplicated(slab)) slab <- .esc_unique_labels(as.character(slab))
  k.f <- length(ids)
  if (tworow && drop00) {
    d00 <- if (measure == "OR") (v$ai == 0 & v$ci == 0) | (v$bi == 0 & v$di == 0) else v$x1i == 0 & v$x2i == 0
    d00[is.na(d00)] <- FALSE
    for (nm in c("ai", "bi", "ci", "di", "x1i", "x2i")) if (!is.null(v[[nm]])) v[[nm]][d00] <- NA_real_
  }
  outdat.f <- v
  not.na <- Reduce(`&`, lapply(v, function(z) !is.na(z))) & rowSums(is.na(X.f)) == 0
  if (any(!not.na)) {
    if (.mf_na_action() == "na.fail") .mf_stop("Missing values in studies.")
    warning(sprintf("%d %s with NAs omitted from model fitting.", sum(!not.na),
                    if (sum(!not.na) > 1L) "studies" else "study"), call. = FALSE)
  }
  k <- sum(not.na)
  if (k < 1L) .mf_stop("Processing terminated since k = 0.")
  vk <- lapply(v, `[`, not.na)
  X <- X.f[not.na, , drop = FALSE]
  not.na.yivi <- !(is.na(yi) | is.na(vi)) & rowSums(is.na(X.f)) == 0
  if (any(!not.na.yivi)) {
    if (.mf_na_action() == "na.fail") .mf_stop("Missing yi/vi values.")
    warning("Some yi/vi values are NA.", call. = FALSE)
  }
  X.yi <- X.f[not.na.yivi, , drop = FALSE]
  yi.k <- yi[not.na.yivi]; vi.k <- vi[not.na.yivi]
  # redundant predictors (as metafor: dropped with a warning)
  qx <- qr(X)
  if (qx$rank < ncol(X)) {
    warning("Redundant predictors dropped from the model.", call. = FALSE)
    keepc <- sort(qx$pivot[seq_len(qx$rank)])
    X <- X[, keepc, drop = FALSE]; X.f <- X.f[, keepc, drop = FALSE]
  }
  if (nrow(X.yi)) {
    qy <- qr(X.yi)
    if (qy$rank < ncol(X.yi)) X.yi <- X.yi[, sort(qy$pivot[seq_len(qy$rank)]), drop = FALSE]
  }
  is.int <- apply(X, 2, function(z) all(z == 1))
  int.incl <- any(is.int)
  if (int.incl) {
    X <- cbind(intrcpt = 1, X[, !is.int, drop = FALSE])
    X.f <- cbind(intrcpt = 1, X.f[, !is.int, drop = FALSE])
  }
  p <- ncol(X)
  int.only <- p == 1L && int.incl
  if (ee && p > k) .mf_stop("Number of parameters to be estimated is larger than the number of observations.")
  if (!ee && p + 1 > k) .mf_stop("Number of parameters to be estimated is larger than the number of observations.")
  btt <- .mf_btt(if (missing(btt)) NULL else btt, colnames(X), int.incl)
  m <- length(btt)

  # moderators centred and scaled for the fit (as metafor's scaleX), the
  # coefficients transformed back afterwards
  Xs <- X
  mX <- NULL
  if (!int.only && int.incl) {
    is.d <- apply(X, 2, function(z) all(z %in% c(0, 1)))
    mu <- colMeans(X[, -1L, drop = FALSE]); sdv <- apply(X[, -1L, drop = FALSE], 2, stats::sd)
    for (j in which(!is.d)) Xs[, j] <- (X[, j] - mu[j - 1L]) / sdv[j - 1L]
    mX <- diag(p)
    mX[1L, -1L] <- ifelse(is.d[-1L], 0, -mu / sdv)
    diag(mX)[-1L] <- ifelse(is.d[-1L], 1, 1 / sdv)
  }

  special <- (tworow && model == "UM.RS") || (measure == "OR" && model == "CM.EL")
  sigma2 <- rho <- se.tau2 <- ci.lb.tau2 <- ci.ub.tau2 <- NA_real_
  if (special) {
    r <- if (model == "UM.RS") .mf_glmm_um_rs(measure, vk, Xs, coding, isTRUE(cor), ee, nAGQ, con, skiphet)
         else .mf_glmm_cm_el(vk, Xs, ee, con, skiphet, alpha)
    beta <- r$beta; vb <- r$vb; tau2 <- r$tau2; sigma2 <- r$sigma2; rho <- r$rho
    if (!is.null(r$se.tau2)) { se.tau2 <- r$se.tau2; ci.lb.tau2 <- r$ci.lb.tau2; ci.ub.tau2 <- r$ci.ub.tau2 }
    ll.FE <- r$ll.FE; ll.QE <- r$ll.QE; ll <- ll.marginal <- r$ll
    converged <- r$converged; iterations <- r$iterations
    alpha.i <- NULL
    obs <- list(study_int = FALSE)
  } else {
    obs <- .mf_glmm_obs(measure, model, vk, Xs, coding)
    fitfun <- function(theta0, with_tau)
      .mf_glmm_fit_obs(obs, as.integer(nAGQ), as.numeric(theta0), with_tau, con$maxiter, con$tol)
    res.FE <- fitfun(rep(0, p), FALSE)
    if (!res.FE$converged || !is.finite(res.FE$ll)) {
      if (ee) .mf_stop("Cannot fit the equal-effects model: the Newton steps did not converge (try control = list(maxiter = ) larger).")
      warning("The equal-effects model did not converge; the heterogeneity tests may be inaccurate.", call. = FALSE)
    }
    ll.FE <- res.FE$ll
    sat <- .mf_glmm_saturated(measure, model, vk)
    ll.QE <- if (skiphet) NA_real_ else sat$ll
    converged <- res.FE$converged
    iterations <- res.FE$iterations
    if (!ee) {
      res.ML <- fitfun(c(res.FE$theta, 0.5), TRUE)
      if (!is.finite(res.ML$ll)) .mf_stop("Cannot fit the ML model (the log-likelihood is not finite).")
      if (!res.ML$converged)
        warning(sprintf("The ML fit did not converge in %d iterations (control = list(maxiter = )); the estimates may be inaccurate.",
                        res.ML$iterations), call. = FALSE)
      converged <- res.ML$converged
      iterations <- res.ML$iterations
      theta <- res.ML$theta
      A <- -res.ML$hessian
      Abb <- A[seq_len(p), seq_len(p), drop = FALSE]
      att <- A[p + 1L, p + 1L]
      abt <- A[seq_len(p), p + 1L]
      info <- if (is.finite(att) && att > 1e-8 * max(1, abs(att))) Abb - tcrossprod(abt) / att else Abb
      beta <- theta[seq_len(p)]
      tau2 <- theta[p + 1L]^2
      # metafor reports ll.QE - deviance(glmer fit) / 2, where lme4's deviance
      # of a GLMM is the sum of the deviance residuals at the conditional modes
      # of the random effects: the conditional log-likelihood at the modes
      # (the maximised marginal log-likelihood is kept as ll.marginal); without
      # the saturated model (skiphet) metafor takes glmer's logLik() (the
      # marginal one) for OR and IRR, and NA for PLO and IRLN
      ll.marginal <- res.ML$ll
      ll <- if (!skiphet) res.ML$ll_cond else if (tworow) ll.marginal else NA_real_
      alpha.i <- res.ML$alpha
    } else {
      beta <- res.FE$theta
      info <- -res.FE$hessian
      tau2 <- 0
      ll <- ll.marginal <- ll.FE
      alpha.i <- res.FE$alpha
    }
    vb <- tryCatch(solve(info), error = function(e) matrix(NA_real_, p, p))
    vb <- (vb + t(vb)) / 2
    # metafor's ML covariance is glmer's vcov(): from glmer's Hessian in
    # (theta, beta) when glmer computes one (fewer than 20 parameters and
    # 10000 rows: lme4's check.conv.nparmax / nobsmax), otherwise from its
    # RX factor (the information of beta at fixed tau, at the modes); ours
    # follows the same rule
    if (!ee) {
      nfix <- p + if (obs$study_int) k else 0L
      if (!(length(obs$y) < 1e4 && 1L + nfix < 20L) || anyNA(vb) || any(eigen(vb, TRUE, TRUE)$values <= 0)) {
        vrx <- .mf_glmm_rx_vcov(obs, beta, sqrt(tau2), alpha.i)
        if (!anyNA(vrx)) vb <- vrx
      }
    }
  }

  # heterogeneity tests: Wald and likelihood-ratio tests of the
  # equal-effects model against the saturated model
  QE.Wld <- QE.LRT <- QEp.Wld <- QEp.LRT <- NA_real_
  QE.df <- NA_integer_
  if (k > 1L && !skiphet && special) {
    QE.Wld <- r$QE.Wld
    QE.LRT <- max(0, -2 * (ll.FE - ll.QE))
    if (!is.na(QE.Wld)) QE.Wld <- max(0, QE.Wld)
    QE.df <- k - p
    QEp.Wld <- if (QE.df > 0) stats::pchisq(QE.Wld, QE.df, lower.tail = FALSE) else 1
    QEp.LRT <- if (QE.df > 0) stats::pchisq(QE.LRT, QE.df, lower.tail = FALSE) else 1
  } else if (k > 1L && !skiphet) {
    w <- ifelse(is.finite(sat$vi) & sat$vi > 0, 1 / sat$vi, 0)
    th <- ifelse(w > 0, sat$theta, 0)
    QE.Wld <- if (k > p) {
      fw <- stats::lm.wfit(X, th, w)
      sum(w * fw$residuals^2)
    } else 0
    QE.LRT <- -2 * (ll.FE - ll.QE)
    QE.Wld <- max(0, QE.Wld); QE.LRT <- max(0, QE.LRT)
    QE.df <- k - p
    QEp.Wld <- if (QE.df > 0) stats::pchisq(QE.Wld, QE.df, lower.tail = FALSE) else 1
    QEp.LRT <- if (QE.df > 0) stats::pchisq(QE.LRT, QE.df, lower.tail = FALSE) else 1
  }
  # I^2 and H^2 from the typical sampling variance of the escalc() outcomes
  wi <- 1 / vi.k
  vt <- NA_real_
  if (length(wi) && all(is.finite(wi))) {
    M <- crossprod(X.yi, wi * X.yi)
    trP <- sum(wi) - sum(diag(solve(M, crossprod(X.yi, wi^2 * X.yi))))
    vt <- (length(yi.k) - p) / trP
  }
  I2 <- 100 * tau2 / (vt + tau2)
  H2 <- tau2 / vt + 1

  # omnibus test on the scale of the fit (as metafor), then back-transform
  QM <- tryCatch(c(crossprod(beta[btt], solve(vb[btt, btt, drop = FALSE], beta[btt]))), error = function(e) NA_real_)
  theta.rs <- if (special && model == "UM.RS" && !ee) r$theta.rs else NULL
  if (!is.null(mX)) {
    beta <- c(mX %*% beta)
    vb <- mX %*% vb %*% t(mX)
    if (!is.null(theta.rs)) theta.rs[seq_len(p)] <- c(mX %*% theta.rs[seq_len(p)])
  }
  names(beta) <- colnames(X)
  dimnames(vb) <- list(colnames(X), colnames(X))
  # metafor's check of the ML fit of OR CM.EL: the generalised variance of
  # the coefficients against that of a Peto-odds-ratio REML fit with the
  # same moderators (add = 0); a ratio of SEs (det^(1 / (2 m))) >= 100 or
  # <= 1/100 is a warning
  se.warn <- FALSE
  if (measure == "OR" && model == "CM.EL" && !ee) {
    ratio <- .mf_glmm_peto_ratio(vk, X, vb, m)
    if (!is.na(ratio)) {
      if (!is.na(ratio) && ratio >= 100) {
        warning("Standard errors of fixed effects appear to be unusually small. Treat results with caution.", call. = FALSE)
        se.warn <- TRUE
      }
      if (!is.na(ratio) && ratio <= 1 / 100) {
        warning("Standard errors of fixed effects appear to be unusually large. Treat results with caution.", call. = FALSE)
        se.warn <- TRUE
      }
    }
  }
  se <- sqrt(pmax(diag(vb), 0))
  se[diag(vb) < 0] <- NA_real_
  zval <- beta / se
  if (test == "t") {
    ddf <- k - p
    QM <- QM / m
    QMdf <- c(m, k - p)
    QMp <- if (ddf > 0) stats::pf(QM, m, ddf, lower.tail = FALSE) else NA_real_
    pval <- if (ddf > 0) 2 * stats::pt(abs(zval), ddf, lower.tail = FALSE) else rep(NA_real_, p)
    crit <- if (ddf > 0) stats::qt(alpha / 2, ddf, lower.tail = FALSE) else NA_real_
  } else {
    ddf <- NA_integer_
    QMdf <- c(m, NA_integer_)
    QMp <- stats::pchisq(QM, m, lower.tail = FALSE)
    pval <- 2 * stats::pnorm(abs(zval), lower.tail = FALSE)
    crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  }
  two <- measure %in% c("OR", "IRR") && model == "UM.FS"
  parms <- p + (if (two) k else 0) + (if (ee) 0 else 1)
  k.eff <- if (two) 2L * k else k
  p.eff <- p + (if (two) k else 0)
  if (special) { parms <- r$parms; k.eff <- r$k.eff; p.eff <- r$p.eff }
  fit.stats <- data.frame(ML = c(ll, -2 * (ll - ll.QE), -2 * ll + 2 * parms, -2 * ll + parms * log(k.eff),
                                 -2 * ll + 2 * parms * max(k.eff, parms + 2) / (max(k.eff, parms + 2) - parms - 1)),
                          REML = NA_real_, row.names = c("ll", "dev", "AIC", "BIC", "AICc"))
  yi.f <- yi; vi.f <- vi
  attr(yi.k, "measure") <- measure
  attr(yi.k, "ni") <- ni[not.na.yivi]
  res <- list(b = cbind(beta), beta = cbind(beta), se = unname(se), zval = unname(zval), pval = unname(pval),
              ci.lb = unname(beta - crit * se), ci.ub = unname(beta + crit * se), vb = vb,
              tau2 = tau2, se.tau2 = se.tau2, sigma2 = sigma2, rho = rho, se.warn = se.warn,
              ci.lb.tau2 = ci.lb.tau2, ci.ub.tau2 = ci.ub.tau2, I2 = I2, H2 = H2, vt = vt,
              QE.Wld = QE.Wld, QEp.Wld = QEp.Wld, QE.LRT = QE.LRT, QEp.LRT = QEp.LRT, QE.df = QE.df,
              QM = QM, QMdf = QMdf, QMp = QMp, k = k, k.f = k.f, k.yi = length(yi.k), k.eff = k.eff,
              k.all = k.all, p = p, p.eff = p.eff, parms = parms, int.only = int.only, int.incl = int.incl,
              intercept = intercept, yi = yi.k, vi = vi.k, X = X, yi.f = yi.f, vi.f = vi.f, X.f = X.f,
              outdat.f = outdat.f, outdat = vk, ni = ni[not.na.yivi], ni.f = ni, ids = ids, not.na = not.na,
              subset = subset, not.na.yivi = not.na.yivi, slab = slab, slab.null = slab.null,
              measure = measure, method = if (ee) "EE" else "ML", model = model, weighted = TRUE, test = test,
              dfs = ddf, ddf = ddf, btt = btt, m = m, digits = digits, level = alpha, nAGQ = as.integer(nAGQ),
              coding = coding, control = con, add = add, to = to, drop00 = drop00, fit.stats = fit.stats,
              ll.marginal = ll.marginal, data = data, formula.mods = des$formula, converged = converged, iterations = iterations,
              alpha.i = if (obs$study_int) alpha.i else NULL, cor = isTRUE(cor), theta.rs = theta.rs, call = mf)
  class(res) <- "mf_rma_glmm"
  res
}

# metafor's ratio of the generalised SEs of a Peto-odds-ratio fit (REML,
# add = 0, the same moderators) to those of the fit (vb), (det V_peto /
# det vb)^(1 / (2 m)); NA when the Peto fit fails.
.mf_glmm_peto_ratio <- function(v, X, vb, m) {
  pt <- tryCatch(suppressWarnings(rma(measure = "PETO", ai = v$ai, bi = v$bi, ci = v$ci, di = v$di, add = 0,
                                      mods = X, intercept = FALSE)), error = function(e) NULL)
  if (is.null(pt)) return(NA_real_)
  (det(pt$vb) / det(vb))^(1 / (2 * m))
}

# control: our two settings; metafor's settings of its optimisers are
# accepted and have no effect.
.mf_glmm_control <- function(control) {
  if (!is.list(control)) .mf_stop("'control' must be a list.")
  ours <- c("maxiter", "tol")
  theirs <- c("verbose", "package", "optimizer", "optmethod", "parallel", "cl", "ncpus", "scaleX", "evtol",
              "dnchgcalc", "dnchgprec", "hesspack", "tau2tol", "optCtrl", "clogitCtrl", "clogisticCtrl", "glmCtrl",
              "glmerCtrl", "intCtrl", "hessianCtrl")
  nms <- names(control)
  bad <- setdiff(nms, c(ours, theirs))
  if (length(bad)) warning(sprintf("Unknown 'control' setting%s disregarded: %s.", if (length(bad) > 1) "s" else "",
                                   paste0("'", bad, "'", collapse = ", ")), call. = FALSE)
  con <- list(maxiter = 100L, tol = 1e-10)
  if (!is.null(control$maxiter)) {
    if (!is.numeric(control$maxiter) || length(control$maxiter) != 1L || is.na(control$maxiter) || control$maxiter < 1)
      .mf_stop("'control$maxiter' must be a positive whole number.")
    con$maxiter <- as.integer(control$maxiter)
  }
  if (!is.null(control$tol)) {
    if (!is.numeric(control$tol) || length(control$tol) != 1L || is.na(control$tol) || control$tol <= 0)
      .mf_stop("'control$tol' must be a positive number.")
    con$tol <- control$tol
  }
  con
}

# The observations of each model for the core: response y, binomial size n,
# offset, random-effect coefficient z, log constant of the density, fixed
# design rows, and where each study starts.
.mf_glmm_obs <- function(measure, model, v, X, coding) {
  k <- nrow(X)
  if (measure %in% c("OR", "IRR") && model == "UM.FS") {
    if (measure == "OR") {
      y <- c(rbind(v$ai, v$ci)); n <- c(rbind(v$ai + v$bi, v$ci + v$di)); off <- rep(0, 2 * k)
      fam <- 0L
    } else {
      y <- c(rbind(v$x1i, v$x2i)); n <- rep(1, 2 * k); off <- log(c(rbind(v$t1i, v$t2i)))
      fam <- 1L
    }
    g1 <- rep(c(1, 0), k)
    z <- switch(as.character(coding), "0.5" = rep(c(1/2, -1/2), k), "1" = g1, "0" = 1 - g1)
    Xo <- X[rep(seq_len(k), each = 2L), , drop = FALSE] * g1
    start <- as.integer(seq(0L, 2L * k, by = 2L))
    sint <- TRUE
  } else {
    z <- rep(1, k); start <- as.integer(0:k); sint <- FALSE; Xo <- X
    if (measure == "PLO") { y <- v$xi; n <- v$xi + v$mi; off <- rep(0, k); fam <- 0L }
    else if (measure == "IRLN") { y <- v$xi; n <- rep(1, k); off <- log(v$ti); fam <- 1L }
    else if (measure == "OR") { y <- v$ai; n <- v$ai + v$ci; off <- log((v$ai + v$bi) / (v$ci + v$di)); fam <- 0L }
    else { y <- v$x1i; n <- v$x1i + v$x2i; off <- log(v$t1i / v$t2i); fam <- 0L }
  }
  lconst <- if (fam == 0L) lchoose(n, y) else -lgamma(y + 1)
  storage.mode(Xo) <- "double"
  list(y = as.double(y), n = as.double(n), off = as.double(off), z = as.double(z), lconst = as.double(lconst),
       X = unname(Xo), start = start, family = fam, study_int = sint)
}

# glmer's RX-based covariance of the fixed effects at (beta, tau): with
# the weights W at the modes u_i of the random effects, the information of
# the fixed effects given tau is X'WX - X'WZ (tau^2 Z'WZ + I)^-1 tau^2 Z'WX
# (Bates et al. 2015, JSS 67(1), sec. 3.6), summed study by study; the
# per-study intercepts of UM.FS are profiled out (Schur complement).
.mf_glmm_rx_vcov <- function(obs, beta, tau, alpha) {
  k <- length(obs$start) - 1L
  sid <- rep.int(seq_len(k), diff(obs$start))
  base <- obs$off + c(obs$X %*% beta) + if (obs$study_int) alpha[sid] else 0
  u <- numeric(k)
  mom <- function(eta) {
    if (obs$family == 0L) { pr <- stats::plogis(eta); list(m = obs$n * pr, w = obs$n * pr * (1 - pr)) }
    else { mu <- exp(eta); list(m = mu, w = mu) }
  }
  for (it in seq_len(100L)) {
    mm <- mom(base + obs$z * tau * u[sid])
    g1 <- c(rowsum((obs$y - mm$m) * obs$z * tau, sid, reorder = FALSE)) - u
    g2 <- -c(rowsum(mm$w * obs$z^2 * tau^2, sid, reorder = FALSE)) - 1
    step <- -g1 / g2
    u <- u + step
    if (max(abs(step)) < 1e-12) break
  }
  w <- mom(base + obs$z * tau * u[sid])$w
  Xt <- if (obs$study_int) cbind(obs$X, 1) else obs$X
  q <- ncol(Xt); p <- ncol(obs$X)
  h <- c(rowsum(w * obs$z^2 * tau^2, sid, reorder = FALSE)) + 1
  S <- rowsum(w * obs$z * tau * Xt, sid, reorder = FALSE)
  info <- matrix(0, p, p)
  for (i in seq_len(k)) {
    r <- obs$start[i] + seq_len(obs$start[i + 1L] - obs$start[i])
    B <- crossprod(Xt[r, , drop = FALSE], w[r] * Xt[r, , drop = FALSE]) - tcrossprod(S[i, ]) / h[i]
    if (obs$study_int) {
      if (B[q, q] > 0) B <- B[-q, -q, drop = FALSE] - tcrossprod(B[-q, q]) / B[q, q] else B <- B[-q, -q, drop = FALSE]
    }
    info <- info + B
  }
  out <- tryCatch(solve(info), error = function(e) matrix(NA_real_, p, p))
  (out + t(out)) / 2
}

# The saturated model: its log-likelihood (each observation fitted exactly)
# and, per study, the estimate of the study's own effect and its variance
# (for the Wald test; infinite when a count is at a bound).
.mf_glmm_saturated <- function(measure, model, v) {
  xlogx <- function(x) ifelse(x > 0, x * log(x), 0)
  llb <- function(y, n) lchoose(n, y) + xlogx(y) + xlogx(n - y) - xlogx(n)
  llp <- function(y) xlogx(y) - y - lgamma(y + 1)
  if (measure == "PLO") {
    ll <- sum(llb(v$xi, v$xi + v$mi))
    theta <- log(v$xi / v$mi); vi <- 1 / v$xi + 1 / v$mi
  } else if (measure == "IRLN") {
    ll <- sum(llp(v$xi))
    theta <- log(v$xi / v$ti); vi <- 1 / v$xi
  } else if (model == "UM.FS") {
    if (measure == "OR") {
      ll <- sum(llb(v$ai, v$ai + v$bi)) + sum(llb(v$ci, v$ci + v$di))
      theta <- log(v$ai * v$di / (v$bi * v$ci)); vi <- 1 / v$ai + 1 / v$bi + 1 / v$ci + 1 / v$di
    } else {
      ll <- sum(llp(v$x1i)) + sum(llp(v$x2i))
      theta <- log(v$x1i / v$t1i) - log(v$x2i / v$t2i); vi <- 1 / v$x1i + 1 / v$x2i
    }
  } else if (measure == "OR") {
    ll <- sum(llb(v$ai, v$ai + v$ci))
    theta <- log(v$ai / v$ci) - log((v$ai + v$bi) / (v$ci + v$di)); vi <- 1 / v$ai + 1 / v$ci
  } else {
    ll <- sum(llb(v$x1i, v$x1i + v$x2i))
    theta <- log(v$x1i / v$x2i) - log(v$t1i / v$t2i); vi <- 1 / v$x1i + 1 / v$x2i
  }
  list(ll = ll, theta = theta, vi = vi)
}

# The fixed-effects covariance of a glmer() fit as metafor's vcov() gets it:
# from the Hessian in (theta, beta) (the beta block of the inverse of the
# negative Hessian of the log-likelihood) when glmer computes one (fewer
# than 20 parameters and 10000 rows: lme4's check.conv.nparmax / nobsmax)
# and its inverse is positive definite, otherwise from the RX information.
.mf_glmm_vcov_rule <- function(hessian, nb, nobs, rx_info) {
  npar <- ncol(hessian)
  if (nobs < 1e4 && npar < 20L) {
    vf <- tryCatch(solve(-hessian), error = function(e) NULL)
    if (!is.null(vf)) {
      vb <- vf[seq_len(nb), seq_len(nb), drop = FALSE]
      vb <- (vb + t(vb)) / 2
      if (!anyNA(vb) && all(eigen(vf, TRUE, TRUE)$values > 0)) return(vb)
    }
  }
  rx <- if (is.function(rx_info)) rx_info() else rx_info
  vb <- tryCatch(solve(rx), error = function(e) matrix(NA_real_, nb, nb))[seq_len(nb), seq_len(nb), drop = FALSE]
  (vb + t(vb)) / 2
}

# The Wald statistic of the hypothesis that the per-study effects d lie in
# the column space of X, given the information of d with the shared
# parameters profiled out, M = D - C A^-1 C' (D: diagonal information of d,
# C: its cross-information with the shared parameters, A: theirs): the
# generalised least-squares residual sum of squares
# min_b (d - X b)' M (d - X b).  Studies whose d is infinite (use = FALSE)
# have infinite variance and are left out (their limit).
.mf_glmm_wald_sat <- function(d, X, Dg, C, A, use) {
  d <- d[use]; X <- X[use, , drop = FALSE]; Dg <- Dg[use]; C <- C[use, , drop = FALSE]
  if (!length(d)) return(0)
  Ai <- tryCatch(solve(A), error = function(e) NULL)
  if (is.null(Ai)) return(NA_real_)
  CA <- C %*% Ai
  Mx <- function(v) Dg * v - CA %*% crossprod(C, v)  # M %*% v
  Md <- Mx(d)
  MX <- Mx(X)
  XMX <- crossprod(X, MX)
  b <- tryCatch(solve(XMX, crossprod(X, Md)), error = function(e) NULL)
  if (is.null(b)) return(NA_real_)
  r <- d - X %*% b
  c(crossprod(r, Mx(r)))
}

# model = "UM.RS" (OR, IRR): metafor fits with glmer() (Laplace for ML) the
# equal-effects model ... + (1 | study) (random study intercepts, fixed
# group effect), the saturated model with one fixed group effect per study,
# and the model with random study intercepts and random group effects,
# (group || study) or, with cor = TRUE, (group | study).  Xs: the
# (scaled) moderators; returns the estimates on the scale of Xs.
.mf_glmm_um_rs <- function(measure, v, Xs, coding, cor, ee, nAGQ, con, skiphet) {
  k <- nrow(Xs); p <- ncol(Xs)
  g1 <- rep(c(1, 0), k)
  obs.ml <- .mf_glmm_rs_obs(measure, v, Xs, coding)
  base <- obs.ml[c("y", "n", "off", "lconst", "start", "family", "study_int")]
  Xf <- obs.ml$X
  obs.fe <- c(base, list(z = rep(1, 2 * k), X = Xf))
  # starting values: the model without random effects
  fe0 <- .mf_glmm_fit_obs(obs.fe, 1L, rep(0, p + 1L), FALSE, con$maxiter, con$tol)
  fe <- .mf_glmm_fit_obs(obs.fe, as.integer(nAGQ), c(fe0$theta, 0.5), TRUE, con$maxiter, con$tol)
  if (!fe$converged || !is.finite(fe$ll)) {
    if (ee) .mf_stop("Cannot fit the equal-effects model: the Newton steps did not converge (try control = list(maxiter = ) larger).")
    warning("The equal-effects model did not converge; the heterogeneity tests may be inaccurate.", call. = FALSE)
  }
  out <- list(ll.FE = fe$ll, converged = fe$converged, iterations = fe$iterations, rho = NA_real_)
  # saturated model: random study intercepts, a fixed group effect per study
  # (d_i, profiled study by study), common intercept mu
  out$ll.QE <- NA_real_; out$QE.Wld <- NA_real_
  if (!skiphet && k > 1L) {
    obs.qe <- c(base, list(z = rep(1, 2 * k), X = matrix(1, 2 * k, 1), w = g1))
    obs.qe$study_int <- TRUE
    th.qe <- c(fe$theta[p + 1L], max(abs(fe$theta[p + 2L]), 0.1))
    qe <- .mf_glmm_fit_obs(obs.qe, as.integer(nAGQ), th.qe, TRUE, con$maxiter, con$tol)
    out$ll.QE <- qe$ll
    dvec <- qe$alpha
    use <- is.finite(dvec) & abs(dvec) < 1e100
    if (2 * k < 1e4 && k + 2L < 20L) {
      Hs <- .mf_glmm_study_curv(obs.qe, as.integer(nAGQ), qe$theta, dvec, FALSE)
      idx <- function(i) (i - 1L) * 3L + 1:3
      A <- matrix(0, 2, 2); C <- matrix(0, k, 2); Dg <- numeric(k)
      for (i in seq_len(k)) {
        h <- -Hs[idx(i), , drop = FALSE]
        A <- A + h[1:2, 1:2]; C[i, ] <- h[3, 1:2]; Dg[i] <- h[3, 3]
      }
      # glmer's Hessian-based covariance only when positive definite
      J <- rbind(cbind(A, t(C[use, , drop = FALSE])), cbind(C[use, , drop = FALSE], diag(Dg[use], sum(use))))
      okH <- all(is.finite(J)) && all(eigen(J, TRUE, TRUE)$values > 0)
    } else okH <- FALSE
    if (!okH) {
      Rs <- .mf_glmm_study_curv(obs.qe, as.integer(nAGQ), qe$theta, dvec, TRUE)
      idx <- function(i) (i - 1L) * 2L + 1:2
      A <- matrix(0, 1, 1); C <- matrix(0, k, 1); Dg <- numeric(k)
      for (i in seq_len(k)) {
        h <- Rs[idx(i), , drop = FALSE]
        A <- A + h[1, 1]; C[i, ] <- h[2, 1]; Dg[i] <- h[2, 2]
      }
    }
    out$QE.Wld <- .mf_glmm_wald_sat(dvec, Xs, Dg, C, A, use)
  }
  if (ee) {
    out$beta <- fe$theta[seq_len(p)]
    out$vb <- .mf_glmm_vcov_rule(fe$hessian, p, 2 * k, function() {
      solve(.mf_glmm_rx_vcov(obs.fe, fe$theta[seq_len(p + 1L)], abs(fe$theta[p + 2L]), NULL))
    })
    out$tau2 <- 0
    out$sigma2 <- fe$theta[p + 2L]^2
    out$ll <- fe$ll
    out$parms <- p + 2L
  } else {
    s0 <- max(abs(fe$theta[p + 2L]), 0.1)
    th0 <- if (cor) c(fe$theta[seq_len(p + 1L)], s0, 0, 0.5) else c(fe$theta[seq_len(p + 1L)], s0, 0.5)
    ml <- .mf_glmm_fit_rs(obs.ml, cor, th0, con$maxiter, con$tol)
    if (!is.finite(ml$ll)) .mf_stop("Cannot fit the ML model (the log-likelihood is not finite).")
    if (!ml$converged)
      warning(sprintf("The ML fit did not converge in %d iterations (control = list(maxiter = )); the estimates may be inaccurate.",
                      ml$iterations), call. = FALSE)
    th <- ml$theta
    out$beta <- th[seq_len(p)]
    out$vb <- .mf_glmm_vcov_rule(ml$hessian, p, 2 * k, ml$rx_info)
    if (cor) {
      out$sigma2 <- th[p + 2L]^2
      out$tau2 <- th[p + 3L]^2 + th[p + 4L]^2
      out$rho <- if (out$sigma2 > 0 && out$tau2 > 0) th[p + 2L] * th[p + 3L] / sqrt(out$sigma2 * out$tau2) else NA_real_
    } else {
      out$sigma2 <- th[p + 2L]^2
      out$tau2 <- th[p + 3L]^2
    }
    out$ll <- ml$ll
    out$theta.rs <- th
    out$converged <- ml$converged
    out$iterations <- ml$iterations
    out$parms <- p + 3L
  }
  out$p.eff <- p + 1L
  out$k.eff <- 2L * k
  out
}

# The observations of the UM.RS model with random study intercepts and
# random group effects: two rows per study (group 1, group 2), fixed design
# cbind(X * group 1, 1) (the last column: the intercept of group 2), z the
# group variable coded by 'coding'.
.mf_glmm_rs_obs <- function(measure, v, X, coding) {
  k <- nrow(X)
  if (measure == "OR") {
    y <- c(rbind(v$ai, v$ci)); n <- c(rbind(v$ai + v$bi, v$ci + v$di)); off <- rep(0, 2 * k); fam <- 0L
  } else {
    y <- c(rbind(v$x1i, v$x2i)); n <- rep(1, 2 * k); off <- log(c(rbind(v$t1i, v$t2i))); fam <- 1L
  }
  g1 <- rep(c(1, 0), k)
  grp <- switch(as.character(coding), "0.5" = rep(c(1/2, -1/2), k), "1" = g1, "0" = 1 - g1)
  Xf <- cbind(X[rep(seq_len(k), each = 2L), , drop = FALSE] * g1, 1)
  storage.mode(Xf) <- "double"
  lconst <- if (fam == 0L) lchoose(n, y) else -lgamma(y + 1)
  list(y = as.double(y), n = as.double(n), off = as.double(off), lconst = as.double(lconst),
       start = as.integer(seq(0L, 2L * k, by = 2L)), family = fam, study_int = FALSE,
       z = as.double(grp), X = unname(Xf))
}

# measure = "OR", model = "CM.EL": the exact conditional likelihood of each
# table given its margins (Fisher's non-central hypergeometric distribution
# of ai, log odds ratio x'beta + tau u), integrated over u ~ N(0, 1) per
# study by adaptive Gauss-Hermite quadrature with 31 nodes (metafor
# integrates with integrate() and ignores nAGQ for this model), with the
# normalising constants in log space.  Returns the estimates on the scale
# of Xs.
.mf_glmm_cm_el <- function(v, Xs, ee, con, skiphet, alpha) {
  k <- nrow(Xs); p <- ncol(Xs)
  nq <- 31L
  obs <- list(y = as.double(v$ai), n = as.double(v$ai + v$bi), off = rep(0, k), z = rep(1, k), lconst = rep(0, k),
              X = unname(Xs), start = as.integer(0:k), family = 2L, study_int = FALSE,
              n2 = as.double(v$ci + v$di), tt = as.double(v$ai + v$ci))
  storage.mode(obs$X) <- "double"
  fe <- .mf_glmm_fit_obs(obs, nq, rep(0, p), FALSE, con$maxiter, con$tol)
  if (!fe$converged || !is.finite(fe$ll)) {
    if (ee) .mf_stop("Cannot fit the equal-effects model: the Newton steps did not converge (try control = list(maxiter = ) larger).")
    warning("The equal-effects model did not converge; the heterogeneity tests may be inaccurate.", call. = FALSE)
  }
  vb.fe <- tryCatch(solve(-fe$hessian), error = function(e) matrix(NA_real_, p, p))
  out <- list(ll.FE = fe$ll, converged = fe$converged, iterations = fe$iterations, rho = NA_real_, sigma2 = NA_real_,
              se.tau2 = NA_real_, ci.lb.tau2 = NA_real_, ci.ub.tau2 = NA_real_, p.eff = p, k.eff = k)
  out$ll.QE <- NA_real_; out$QE.Wld <- NA_real_
  if (!skiphet) {
    sat <- .mf_glmm_nch_sat(obs)
    out$ll.QE <- sat$ll
    if (k > 1L) {
      use <- sat$info > 0 & is.finite(sat$theta)
      out$QE.Wld <- if (k > p) {
        th <- ifelse(use, sat$theta, 0)
        fw <- stats::lm.wfit(Xs, th, ifelse(use, sat$info, 0))
        sum(ifelse(use, sat$info, 0) * fw$residuals^2)
      } else 0
    }
  }
  fe.out <- function(out) {
    out$beta <- fe$theta; out$vb <- (vb.fe + t(vb.fe)) / 2; out$tau2 <- 0; out$parms <- p
    out
  }
  if (ee) {
    out <- fe.out(out)
    out$ll <- fe$ll
    return(out)
  }
  ml <- .mf_glmm_fit_obs(obs, nq, c(fe$theta, 0.5), TRUE, con$maxiter, con$tol)
  if (!is.finite(ml$ll)) .mf_stop("Cannot fit the ML model (the log-likelihood is not finite).")
  if (!ml$converged)
    warning(sprintf("The ML fit did not converge in %d iterations (control = list(maxiter = )); the estimates may be inaccurate.",
                    ml$iterations), call. = FALSE)
  out$ll <- ml$ll
  out$converged <- ml$converged
  out$iterations <- ml$iterations
  tau <- ml$theta[p + 1L]
  tau2 <- tau^2
  if (tau2 < 1e-4) {
    # metafor: tau^2 below control$tau2tol = 1e-4 (its "T0"): the
    # coefficients and covariance of the equal-effects model, with the ML
    # log-likelihood, tau^2 and p + 1 parameters, and SE(tau^2) = 0
    out <- fe.out(out)
    out$tau2 <- tau2; out$parms <- p + 1L; out$se.tau2 <- 0
    return(out)
  }
  vf <- tryCatch(solve(-ml$hessian), error = function(e) NULL)
  if (is.null(vf)) .mf_stop("Cannot invert the Hessian for the ML model.")
  out$beta <- ml$theta[seq_len(p)]
  out$vb <- (vf[seq_len(p), seq_len(p), drop = FALSE] + t(vf[seq_len(p), seq_len(p), drop = FALSE])) / 2
  out$tau2 <- tau2
  # metafor's SE and Wald-type CI of tau^2 from the Hessian in log(tau^2):
  # var(log tau^2) = (2 / tau)^2 var(tau) at the maximum
  vlt <- (2 / tau)^2 * vf[p + 1L, p + 1L]
  if (is.finite(vlt) && vlt >= 0) {
    crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
    out$se.tau2 <- sqrt(vlt) * tau2
    out$ci.lb.tau2 <- exp(log(tau2) - crit * sqrt(vlt))
    out$ci.ub.tau2 <- exp(log(tau2) + crit * sqrt(vlt))
  }
  out$parms <- p + 1L
  out
}
