#' Multilevel meta-analytic models (nested and crossed random effects)
#'
#' The interface of \code{metafor::rma.mv()} for models with nested random
#' effects, \code{random = ~ 1 | study} or \code{~ 1 | district/school} (any
#' depth), fitted by REML or ML with the block engine of the C++ core: the
#' marginal covariance is block-diagonal over the levels of the outermost
#' factor, so a fit costs O(sum of n_i^3) for clusters of n_i rows and never
#' forms a k-by-k matrix.
#'
#' This is the first part of \code{rma.mv()} (issue 12).  Arguments of
#' metafor's \code{rma.mv()} that are not implemented yet stop with an error
#' that names them: \code{cvvc}, \code{verbose}, '~ inner | outer' terms
#' with struct GEN, GDIAG or a spatial struct, and singular known
#' correlation matrices, whose groups of linked
#' rows exceed 5000 rows, \code{struct = "UNR"}, a model without \code{random},
#' \code{method = "EE"}, \code{test = "knha"} / \code{"adhoc"}, and metafor's
#' extra arguments in \code{...} (\code{tdist}, \code{beta}, \code{vccon},
#' ...).
#'
#' @param yi observed effect sizes (vector or column of \code{data}), or a
#'   formula \code{yi ~ mods}.
#' @param V sampling variances (vector) or the sampling covariance matrix: a
#'   k x k matrix (base or \pkg{Matrix}) or a list of blocks for consecutive
#'   rows (as \code{metafor::bldiag()}).  Covariances may only join rows that
#'   share the outermost random factor, and every block must be positive
#'   semi-definite (errors name the rows otherwise).
#' @param W user weights: a vector (the diagonal) or a symmetric k x k
#'   matrix, as in metafor: the variance components are the REML/ML
#'   estimates without weights, then \eqn{b = (X'WX)^{-1} X'W y}{b =
#'   (X'WX)^-1 X'W y} with the sandwich covariance \eqn{(X'WX)^{-1} X'W M W X
#'   (X'WX)^{-1}}{(X'WX)^-1 X'W M W X (X'WX)^-1} (M the marginal covariance,
#'   taken block by block) and the log-likelihoods at b.  W may also be a data
#'   frame or a (sparse) \code{Matrix}; not a list of blocks (as metafor).  The
#'   fit holds vector weights as their diagonal and a mostly zero matrix by its
#'   non-zero entries (\code{$W} gives metafor's k x k matrix on access).  Rows with a missing weight
#'   are omitted.  \code{weights()}, \code{hatvalues()}, \code{fitted()},
#'   \code{predict()}, \code{residuals()}, \code{rstandard()} use W; the
#'   refits of \code{rstudent()}, \code{cooks.distance()}, \code{dfbetas()},
#'   \code{confint()} and \code{profile()} estimate the components without W
#'   and the coefficients with the W of the rows kept, as metafor's;
#'   \code{ranef()} stops, as metafor's.
#' @param mods moderators: a one-sided formula or a numeric vector or matrix.
#' @param data optional data frame in which the arguments are evaluated.
#' @param slab study labels.
#' @param subset logical or numeric vector selecting rows.
#' @param random a formula \code{~ 1 | a} or \code{~ 1 | a/b/...}, or a list
#'   of such formulas, e.g. \code{list(~ 1 | study/es, ~ 1 | outcome)}, whose
#'   factors may be crossed.  Levels are nested as in metafor: the factors of
#'   a formula are \code{a}, \code{a/b}, \code{a/b/c}, ..., one variance
#'   component each, in the order of the formulas.  With several formulas the
#'   blocks of the engine are the groups of rows linked by a shared level of
#'   any factor or by a covariance in \code{V}.  Crossed factors (with
#'   positive definite known correlation matrices \code{R}, and
#'   \code{~ inner | outer} terms of struct CS, HCS, UN, AR, HAR, CAR, DIAG
#'   or ID, UN with some components fixed included) that link more than 100
#'   rows into one block (unless \code{V} itself links most of them: its
#'   blocks' sizes cubed sum to more than a quarter of the block's size
#'   cubed) are fitted by the sparse engine (a sparse Cholesky factor of the
#'   random-effects system; \code{$convergence$engine} says which engine
#'   fitted the model).  Above 5000 linked
#'   rows, \code{hatvalues()}, \code{weights()}, \code{rstandard()} (also
#'   with \code{cluster}), \code{residuals()}, \code{ranef()},
#'   \code{robust()} and the k x k matrices on request are computed from
#'   that factor (\code{robust(clubSandwich = TRUE)} from the blocks of the
#'   marginal covariance by cluster, read from \code{V} and the factors:
#'   the clusters must hold whole levels of every factor, as clubSandwich
#'   requires), and the refits of case deletion (\code{rstudent()},
#'   \code{cooks.distance()}, \code{dfbetas()}) are sparse fits; the
#'   Cholesky residuals form the k x k weight matrix (as metafor does).
#' @param struct the structure of the \code{~ inner | outer} terms (one value
#'   for both, or one for each of the two terms metafor allows): \code{"CS"}
#'   (tau2 on the diagonal, rho tau2 off it), \code{"ID"} (tau2 I),
#'   \code{"DIAG"} (one tau2 per inner level), \code{"AR"} (tau2
#'   rho^|lag|, the sorted inner levels taken as equally spaced times) or
#'   \code{"CAR"} (tau2 rho^|t - t'|, the numeric inner variable taken as
#'   continuous time), \code{"HCS"} (one tau2 per inner level, one rho),
#'   \code{"HAR"} (as AR with one tau2 per level) or \code{"UN"} (one tau2
#'   per level, one rho per pair of levels, in the order of the lower
#'   triangle by columns); \code{"GEN"} (random slopes: \code{~ x | study}
#'   or \code{~ x1 + x2 | study}, an inner formula whose model matrix Z
#'   gives rows i and j of one outer level the covariance z_i' E z_j, E
#'   unstructured over the columns of Z: one tau2 per column, one rho per
#'   pair), \code{"GDIAG"} (E diagonal; also \code{"GEN"} with
#'   \code{~ x || study}), or the spatial structures \code{"SPEXP"},
#'   \code{"SPGAU"}, \code{"SPLIN"}, \code{"SPRAT"}, \code{"SPSPH"}
#'   (\code{~ x1 + x2 | outer}: rows of one outer level covary by tau2
#'   f(d / rho), d the distance of their coordinates, rho the range:
#'   exponential exp(-d/rho), Gaussian exp(-d^2/rho^2), linear (1 -
#'   d/rho) for d < rho, rational quadratic 1 / (1 + (d/rho)^2), spherical
#'   1 - 1.5 d/rho + 0.5 (d/rho)^3 for d < rho; distances as chosen by
#'   metafor's \code{dist}, see \code{...}; rho starts at the first quartile
#'   of the distances, or at \code{control$rho.init}); \code{"UNR"} is
#'   refused as metafor 5.2.1 refuses it.  UN (and GEN) is fitted as
#'   metafor fits it: on the scale of the Cholesky factor L of its matrix,
#'   the fixed variances and correlations (if any) overwriting those of L L'.
#'   With some components fixed, the estimate may then be a matrix that is
#'   not positive semi-definite (its free correlations need only be
#'   completable to a correlation matrix); when the estimated correlations
#'   form no cycle among the levels (e.g. one of three fixed) every value in
#'   [-1, 1] is completable, and the term is fitted on the (tau2, rho) scale
#'   (the same estimate, found faster).  Rows in the same outer
#'   level share the covariance of their inner levels.  Without such a term
#'   \code{struct} is disregarded with metafor's warning.
#' @param intercept include an intercept (default \code{TRUE}).
#' @param method \code{"REML"} (default) or \code{"ML"}.
#' @param test \code{"z"} or \code{"t"} (t and F tests).
#' @param dfs degrees of freedom of the t and F tests: \code{"residual"}
#'   (k - p), \code{"contain"} (metafor's containment rule) or numbers (one or
#'   one per coefficient).  \code{"contain"} or numbers with \code{test = "z"}
#'   switch to t tests, as in metafor.
#' @param level confidence level, read as metafor reads it: 95 (percent), 0.95
#'   (coverage) and 0.05 (alpha) all mean a 95\% interval.
#' @param btt coefficients tested by the omnibus test (indices or a string).
#' @param R,Rscale known correlation matrices, as in metafor: \code{R} is a
#'   named list of matrices, named as the factors of \code{random} (e.g.
#'   \code{random = list(~ 1 | species, ~ 1 | phylo), R = list(phylo = A)}),
#'   whose dimension names hold the levels; the random effect of that factor
#'   then has covariance \eqn{\sigma^2 R}{sigma2 R} over its levels (rows of
#'   levels with a non-zero correlation share one block; above 100 rows a
#'   block the model is fitted by the sparse engine, with \eqn{R^{-1}}{R^-1}
#'   in its system, and above 5000 its methods work from the sparse factor
#'   as for crossed factors; a singular \code{R} needs the dense blocks, at
#'   most 5000 rows a block).  \code{Rscale}: \code{"cor"} (default,
#'   \code{cov2cor(R)}), \code{"cor0"} (then shifted so that the smallest
#'   value is 0 and rescaled to a unit diagonal), \code{"cov0"} (R minus its
#'   smallest value) or \code{FALSE} (R as given).  R must be symmetric,
#'   positive semi-definite and without NAs.  Case deletion
#'   (\code{rstudent()}, ...) is not available with \code{"cor0"} and
#'   \code{"cov0"} (error).
#' @param sigma2 fixed values of the variance components (\code{NA}: estimate),
#'   one per level or one value for all, e.g. \code{c(NA, 0)}.
#' @param tau2,rho,gamma2,phi fixed values of the parameters of the first
#'   (\code{tau2}, \code{rho}) and second (\code{gamma2}, \code{phi})
#'   \code{~ inner | outer} term (\code{NA}: estimate): one value, or one per
#'   variance (DIAG: one per inner level).  Variances are at least 0,
#'   correlations in [-1, 1] (CAR: [0, 1]).
#' @param cvvc covariance matrix of the variance components: only
#'   \code{FALSE} (else an error).
#' @param sparse accepted (\code{TRUE} or \code{FALSE}) with no effect:
#'   metafast chooses its engine from the model (see Details).
#' @param verbose only \code{FALSE} (else an error).
#' @param digits number of decimals for printing (default 4).
#' @param control list of solver settings: \code{threshold} (1e-10, largest
#'   change of a variance component at convergence), \code{maxiter} (1000),
#'   \code{stepadj} (1), and metafor's starting values \code{sigma2.init},
#'   \code{tau2.init}, \code{rho.init} (the first '~ inner | outer' term),
#'   \code{gamma2.init}, \code{phi.init} (the second) with metafor's
#'   meaning: one value (recycled) or one per component; for a spatial
#'   structure \code{rho.init} is the range; a UN or GEN term starts at the
#'   Cholesky factor of the matrix they give.  When any of these is given, a
#'   correlation without a starting value starts at 0.5, as in metafor.
#'   Without them the start is metafast's (variances sharing the residual
#'   variance, correlations at the middle of their range); on a likelihood
#'   with several maxima the start decides which one a fit reaches.  The
#'   tuning
#'   settings of metafor's optimisers (\code{optimizer}, \code{rel.tol},
#'   \code{iter.max}, ...) are accepted and have no effect (the fit uses
#'   Fisher scoring with a quasi-Newton fallback); others are errors.
#' @param ... \code{dist}, metafor's distances of the spatial structures:
#'   \code{"euclidean"} (default), \code{"maximum"}, \code{"manhattan"},
#'   \code{"gcd"} (great-circle distances in km between (longitude, latitude)
#'   in degrees on the WGS84 ellipsoid, Meeus 1991), a distance matrix whose
#'   dimension names are the values of the first inner variable, or a
#'   function of the matrix of coordinates; one value, or a list of one per
#'   term.  metafor's other extra arguments are not supported yet (error).
#' @return An object of class \code{mf_rma_mv} with metafor's fields
#'   (\code{beta}, \code{se}, \code{zval}, \code{pval}, \code{ci.lb},
#'   \code{ci.ub}, \code{vb}, \code{sigma2}, \code{s.nlevels}, \code{s.names},
#'   \code{QE}, \code{QEp}, \code{QM}, \code{QMp}, \code{k}, \code{p},
#'   \code{fit.stats}, \code{method}, \code{test}, \code{dfs}, \code{ddf},
#'   ...) and a convergence record \code{convergence} (\code{converged},
#'   \code{iterations}, \code{change}, \code{solver}, \code{message}, and
#'   \code{engine}: \code{"blocks"} when the model was fitted block by
#'   block, \code{"sparse"} when crossed factors, '~ inner | outer' terms or
#'   \code{R} matrices link more than about 100 rows into one block and the
#'   sparse engine fitted it).
#' @references Harville DA (1977). Maximum likelihood approaches to variance
#'   component estimation and to related problems. \emph{JASA} 72:320-338.
#'   Konstantopoulos S (2011). Fixed effects and variance components
#'   estimation in three-level meta-analysis. \emph{Res Synth Methods}
#'   2:61-76.
#' @examples
#' if (requireNamespace("metadat", quietly = TRUE)) {
#'   dat <- metadat::dat.konstantopoulos2011
#'   fit <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat)
#'   summary(fit)
#' }
#' @export
rma.mv <- function(yi, V, W, mods, data, slab, subset, random, struct = "CS", intercept = TRUE,
                   method = "REML", test = "z", dfs = "residual", level = 95, btt, R, Rscale = "cor",
                   sigma2, tau2, rho, gamma2, phi, cvvc = FALSE, sparse = FALSE, verbose = FALSE,
                   digits, control, ...) {
  cl <- match.call()
  todo <- "is not supported by metafast's rma.mv() yet (issue 12)"
  # metafor's arguments that this version does not implement: named errors
  dots <- names(list(...))
  # metafor's 'dist' (read from '...'): the distances of spatial structures
  dist <- NULL
  if (!is.null(dots) && "dist" %in% dots) {
    dist <- .mf_mv_dist(list(...)[["dist"]])
    dots <- dots[dots != "dist"]
  }
  if (length(dots) || (length(list(...)) && is.null(names(list(...))))) {
    nms <- if (is.null(dots)) "" else dots
    nms[nms == ""] <- "(unnamed)"
    .mf_stop(sprintf("Argument%s %s %s.", if (length(nms) > 1L) "s" else "", paste0("'", nms, "'", collapse = ", "), todo))
  }
  if (!identical(cvvc, FALSE)) .mf_stop(sprintf("Argument 'cvvc' (other than FALSE) %s.", todo))
  if (!identical(verbose, FALSE) && !identical(verbose, 0) && !identical(verbose, 0L))
    .mf_stop(sprintf("Argument 'verbose' (other than FALSE) %s.", todo))
  if (!is.logical(sparse) || length(sparse) != 1L || is.na(sparse)) .mf_stop("'sparse' must be TRUE or FALSE.")
  if (!is.character(method) || length(method) != 1L || is.na(method)) .mf_stop("'method' must be \"REML\" or \"ML\".")
  if (method %in% c("EE", "FE", "CE")) .mf_stop(sprintf("method = \"%s\" %s; use method = \"REML\" or \"ML\".", method, todo))
  if (!method %in% c("REML", "ML")) .mf_stop(sprintf("Unknown 'method' \"%s\"; use \"REML\" or \"ML\".", method))
  if (!is.character(test) || length(test) != 1L || is.na(test)) .mf_stop("'test' must be \"z\" or \"t\".")
  test <- tolower(test)
  if (test %in% c("knha", "hksj", "adhoc")) .mf_stop(sprintf("test = \"%s\" %s; use \"z\" or \"t\".", test, todo))
  if (!test %in% c("z", "t")) .mf_stop(sprintf("Unknown 'test' \"%s\"; use \"z\" or \"t\".", test))
  if (is.character(dfs)) {
    if (length(dfs) != 1L || !dfs %in% c("residual", "contain"))
      .mf_stop("'dfs' must be \"residual\", \"contain\" or numeric degrees of freedom.")
  } else if (!is.numeric(dfs) || anyNA(dfs) || any(dfs <= 0)) {
    .mf_stop("'dfs' must be \"residual\", \"contain\" or positive numbers.")
  }
  if (test == "z" && (is.numeric(dfs) || identical(dfs, "contain"))) test <- "t"  # as metafor
  alpha <- .mf_level(level)
  if (!is.logical(intercept) || length(intercept) != 1L || is.na(intercept))
    .mf_stop("'intercept' must be TRUE or FALSE.")
  digits <- if (missing(digits)) 4L else digits
  if (missing(random)) .mf_stop(sprintf("A model without 'random' %s.", todo))
  if (missing(V)) .mf_stop("'V' is missing: give the sampling variances or the sampling covariance matrix.")
  if (missing(yi)) .mf_stop("'yi' is missing: give the observed effect sizes.")
  if (missing(data)) data <- NULL
  if (!is.null(data)) data <- .mf_as_data_frame(data)

  # evaluation of the arguments (in data, then in the caller's frame)
  env <- parent.frame()
  get_arg <- .mf_arg_getter(cl, data, env)
  yi <- get_arg("yi")
  mods <- get_arg("mods")
  Vval <- get_arg("V")
  slab <- get_arg("slab")
  subset <- get_arg("subset")
  random <- get_arg("random")
  Wval <- if (missing(W)) NULL else get_arg("W")
  Rscale <- .mf_mv_Rscale(Rscale)
  formula.yi <- NULL
  if (inherits(yi, "formula")) {
    if (!is.null(mods)) .mf_stop("Give moderators either in the 'yi' formula or in 'mods', not both.")
    formula.yi <- yi
    f <- yi
    yi <- eval(f[[2L]], if (is.null(data)) environment(f) else data, environment(f))
    mods <- f[-2L]
    if (length(attr(stats::terms(mods), "term.labels")) == 0L && attr(stats::terms(mods), "intercept") == 1L)
      mods <- NULL
  }
  # metafor's measure: from an escalc() outcome's attribute, else "GEN"
  measure <- attr(yi, "measure")
  if (!is.character(measure) || length(measure) != 1L) measure <- "GEN"
  yi <- .mf_numeric(yi, "yi")
  k.all <- length(yi)
  if (k.all == 0L) .mf_stop("'yi' has length 0: there are no outcomes to analyse.")

  rnd <- .mf_mv_random(random, data, k.all, struct_given = !missing(struct))
  Vinfo <- .mf_mv_V(Vval, k.all)
  A.all <- if (is.null(Wval)) NULL else .mf_mv_W(Wval, k.all)
  W.e <- 0L
  if (!is.null(A.all)) {
    sc <- .mf_mv_W_pow2(A.all)
    A.all <- sc$A
    W.e <- sc$e
  }
  if (is.null(mods) && !intercept) {
    warning("Must either include an intercept and/or moderators in the model; coerced an intercept into the model (as metafor).",
            call. = FALSE)
    intercept <- TRUE
  }
  design <- .mf_design(mods, data, k.all, intercept)
  X <- design$X
  # row names "1".."k" (model.matrix() on data with automatic row names) as
  # R's deferred strings: the same names, without a million strings kept
  if (!is.null(rownames(X))) rownames(X) <- .mf_mv_seq_names(rownames(X), data)
  design$X <- NULL

  slab.null <- is.null(slab)
  if (slab.null) {
    slab <- seq_len(k.all)
  } else {
    if (length(slab) != k.all) .mf_stop(sprintf("'slab' has length %d but 'yi' has length %d.", length(slab), k.all))
    slab <- as.vector(unclass(slab))
    if (anyNA(slab)) .mf_stop(sprintf("'slab' has missing labels in %s.", .mf_rows(is.na(slab))))
  }
  keep <- if (is.null(subset)) rep(TRUE, k.all) else .mf_subset_keep(subset, k.all)

  # NA in a random-effects variable: an error (as metafor), naming the rows
  for (g in rnd$gterms) for (l in 1:2) {
    if (l == 1L && is.null(g$inner)) next  # (several inner variables: checked with the struct)
    bad <- keep & is.na(if (l == 1L) g$inner else g$outer)
    if (any(bad))
      .mf_stop(sprintf("'random': missing values in '%s' (%s); no NAs are allowed in the variables of 'random'.",
                       g$names[l], .mf_rows(bad)))
  }
  for (l in seq_along(rnd$values)) {
    bad <- keep & is.na(rnd$values[[l]])
    if (any(bad))
      .mf_stop(sprintf("'random': missing values in '%s' (%s); no NAs are allowed in the variables of 'random'.",
                       rnd$terms[l], .mf_rows(bad)))
  }
  # infinite values are errors; NA rows are omitted with a warning (na.omit)
  badinf <- keep & is.infinite(yi)
  if (any(badinf)) .mf_stop(sprintf("'yi' must be finite; infinite in %s.", .mf_rows(badinf)))
  badinf <- keep & rowSums(is.infinite(X)) > 0
  if (any(badinf)) .mf_stop(sprintf("'mods' must be finite; infinite in %s.", .mf_rows(badinf)))
  badinf <- keep & is.infinite(Vinfo$vi)
  if (any(badinf)) .mf_stop(sprintf("'V' must be finite; infinite in %s.", .mf_rows(badinf)))
  has_na <- is.na(yi) | rowSums(is.na(X)) > 0 | Vinfo$na_row
  if (!is.null(A.all)) has_na <- has_na | .mf_mv_W_narows(A.all)  # (as metafor)
  omitted <- keep & has_na
  if (any(omitted))
    warning(sprintf("%s with missing values omitted from the model fitting (%s).", sum(omitted), .mf_rows(omitted)),
            call. = FALSE)
  use <- keep & !has_na
  rows <- which(unname(use))  # (no names: which() would copy them)
  k <- length(rows)
  if (k <= 1L) .mf_stop("Processing terminated since k <= 1 (as metafor): fewer than 2 outcomes remain.")
  # (all rows used: the kept vectors share the memory of the given ones)
  all.rows <- k == k.all
  yi.f <- if (all.rows) yi else yi[rows]
  vi.f <- if (all.rows) Vinfo$vi else Vinfo$vi[rows]
  X.f <- if (all.rows) X else X[rows, , drop = FALSE]
  if (any(vi.f < 0))
    .mf_stop(sprintf("'V' is not positive semi-definite: negative sampling variances in %s.", .mf_rows(use & Vinfo$vi < 0)))
  allvipos <- all(vi.f > 0)
  if (!allvipos) warning("There are outcomes with non-positive sampling variances.", call. = FALSE)

  # redundant predictors dropped with a warning, as in metafor
  qrX <- if (ncol(X.f) == 1L) list(rank = as.integer(any(X.f != 0)))
         else if (.mf_clearly_full_rank(X.f)) list(rank = ncol(X.f))
         else qr(X.f, tol = 1e-7)  # (lm()'s tolerance: metafor's decision)
  if (qrX$rank < ncol(X.f)) {
    drop <- qrX$pivot[seq.int(qrX$rank + 1L, ncol(X.f))]
    warning(sprintf("Redundant predictors dropped from the model: %s.", paste(colnames(X.f)[drop], collapse = ", ")),
            call. = FALSE)
    X.f <- X.f[, -drop, drop = FALSE]
    X <- if (all.rows) X.f else X[, -drop, drop = FALSE]
  }
  p <- ncol(X.f)
  if (p == 0L) .mf_stop("The model has no estimable coefficients.")
  if (p >= k) .mf_stop(sprintf("There are %d coefficients but only %d outcomes; the model cannot be fitted.", p, k))
  int.incl <- "intrcpt" %in% colnames(X.f)
  btt <- .mf_btt(if (missing(btt)) NULL else btt, colnames(X.f), int.incl)

  # the levels: integer codes of the kept rows (nested by construction within a formula)
  L <- length(rnd$values)
  codes <- .mf_mv_all_codes(rnd, rows)
  s.nlevels <- vapply(codes$levels, .mf_mv_nlev, 1L)
  names(s.nlevels) <- NULL
  sig <- if (missing(sigma2) || is.null(sigma2)) rep(NA_real_, L) else sigma2
  if (!is.numeric(sig) && !all(is.na(sig))) .mf_stop("'sigma2' must be numeric (NA: estimate).")
  sig <- as.double(sig)
  if (length(sig) == 1L) sig <- rep(sig, L)
  if (length(sig) != L)
    .mf_stop(sprintf("'sigma2' has length %d but the model has %d variance component%s.", length(sig), L,
                     if (L > 1L) "s" else ""))
  if (any(is.nan(sig)) || any(!is.na(sig) & (sig < 0 | is.infinite(sig))))
    .mf_stop("'sigma2' must hold non-negative finite values (NA: estimate).")
  one <- is.na(sig) & s.nlevels == 1L
  if (any(one)) {
    sig[one] <- 0
    warning("Single-level factor(s) found in 'random' argument. Corresponding 'sigma2' value(s) fixed to 0 (as metafor).",
            call. = FALSE)
  }
  sigma2.fix <- !is.na(sig)
  # known correlation matrices (metafor's R): per factor R[levels, levels] or NULL
  Rl <- if (missing(R) || is.null(R)) NULL else .mf_mv_R(R, rnd$names, codes$levels, Rscale)
  withR <- !is.null(Rl)
  Rfix <- if (withR) !vapply(Rl, is.null, TRUE) else rep(FALSE, L)
  con <- .mf_mv_control(if (missing(control)) NULL else control, L)
  # the '~ inner | outer' terms (metafor's G and H) and their parameters
  check.k <- if (missing(control) || is.null(control$check.k.gtr.1)) TRUE else control$check.k.gtr.1
  gts <- .mf_mv_struct_terms(rnd$gterms, struct, rows, keep, L,
                             list(if (missing(tau2)) NULL else tau2, if (missing(rho)) NULL else rho),
                             list(if (missing(gamma2)) NULL else gamma2, if (missing(phi)) NULL else phi),
                             check.k = check.k,
                             dist = dist, init = list(con$rho.init, con$phi.init))
  fixed.all <- c(sig, unlist(lapply(gts, function(g) c(g$fixed_v, g$fixed_r)), use.names = FALSE))

  use_sparse <- FALSE
  spec <- NULL  # the dense blocks (NULL: too large)
  if (rnd$n.formulas == 1L && !length(gts) && !withR) {
    # one nested formula: rows sorted by the outermost factor, the blocks of the engine
    g1 <- codes$codes[[1L]]
    o <- order(g1)
    sizes <- tabulate(g1, nbins = s.nlevels[1L])
    if (max(sizes) > 5000L)
      .mf_stop(sprintf("The outermost factor of 'random' ('%s') has a level with %d rows: its dense %d x %d block %s.",
                       rnd$terms[1L], max(sizes), max(sizes), max(sizes), todo))
    offsets <- as.integer(c(0L, cumsum(sizes)))
    groups <- if (L > 1L) matrix(unlist(lapply(codes$codes[-1L], function(g) g[o]), use.names = FALSE), nrow = k)
              else matrix(0L, nrow = k, ncol = 0L)
    storage.mode(groups) <- "integer"
    Vblocks <- .mf_mv_vblocks(Vinfo, rows, g1, o, sizes, offsets, rnd$terms[1L], rnd$values[[1L]])
    spec <- .mf_mv_spec(yi.f, vi.f, X.f, o, offsets, Vblocks, list(type = "nested", groups = groups, fixed = sig))
  } else {
    # several formulas (crossed or nested factors): the blocks are the
    # connected components of the rows linked by any factor or by V
    cc <- .mf_mv_components_of(c(codes$codes, lapply(gts, function(g) g$outer)), Vinfo, rows,
                               if (withR) .mf_mv_R_links(Rl, codes$codes))
    g1 <- cc$comp
    sizes <- tabulate(g1)
    # crossed factors (and known correlation matrices R) that link many
    # rows: the sparse engine (a sparse Cholesky factor of the random-effects
    # system, core/sparse_objective.hpp) fits the model; the dense blocks are
    # still built, for the methods, up to 5000 rows a block
    Rpd <- !withR || all(attr(Rl, "pd"))
    # ('~ inner | outer' terms too, UN with fixed components on metafor's
    # Cholesky scale included, but not GEN/GDIAG or spatial terms)
    gsparse <- all(vapply(gts, function(g) g$type < 10L, NA))
    # (the sparse engine carries the dense blocks that V links: only while
    # they are a small part of the work, see .mf_mv_sparse_rows)
    thr <- getOption("metafast.mv_sparse_rows")
    n <- max(sizes)
    gv <- if (gsparse && is.null(A.all) && Rpd && n > (if (is.null(thr)) .mf_mv_sparse_rows else thr))
            .mf_mv_components_of(list(), Vinfo, rows)$comp
    sv <- if (!is.null(gv)) tabulate(gv) else 1L
    use_sparse <- !is.null(gv) && (!is.null(thr) || n > 5000L || sum(as.numeric(sv)^3) <= .mf_mv_sparse_vshare * n^3)
    if (n > 5000L && !use_sparse)
      .mf_stop(sprintf("The factors of 'random' (%s) link %d rows into one block (a connected component), and %s needs dense blocks: at most 5000 rows a block (issue 12).",
                       paste0("'", rnd$names, "'", collapse = ", "), n,
                       if (!gsparse) "an '~ inner | outer' term with struct GEN, GDIAG or a spatial struct"
                       else if (!is.null(A.all)) "a fit with weights 'W'"
                       else sprintf("a known correlation matrix 'R' that is singular (for '%s'; the sparse engine needs its inverse)",
                                    paste(rnd$names[!attr(Rl, "pd")], collapse = "', '"))))
    bcodes <- cc$codes[, seq_len(L), drop = FALSE]
    if (!use_sparse || n <= getOption("metafast.mv_dense_rows", .mf_mv_dense_rows))
      spec <- .mf_mv_block_spec(g1, Vinfo, rows, yi.f, vi.f, X.f, bcodes, gts, fixed.all, if (withR) unname(Rl))
    if (use_sparse) {
      # rows sorted by the blocks of V alone (rows that V links)
      ov <- order(gv)
      offv <- as.integer(c(0L, cumsum(sv)))
      sparse_spec <- .mf_mv_spec(yi.f, vi.f, X.f, ov, if (max(sv) > 1L) offv else integer(0),
                                 .mf_mv_vblocks(Vinfo, rows, gv, ov, sv, offv, "(the blocks)", rep(NA, length(yi))),
                                 list(type = "crossed", codes = cc$codes[ov, seq_len(L), drop = FALSE],
                                      nlevels = as.integer(s.nlevels), fixed = .mf_mv_fit_fixed(gts, fixed.all),
                                      R = if (withR) lapply(Rl, function(r) if (!is.null(r)) unname(r)),
                                      terms = if (length(gts)) .mf_mv_terms_spec(gts, ov)))
    }
  }

  start <- c(con$sigma2.init, rep(NA_real_, length(fixed.all) - L))
  # the Cholesky factor of a UN term starts at sqrt(s) I, s the residual
  # variance beyond the sampling variances shared by the variance
  # components (with fixed components: .mf_mv_cholfix_start())
  nvar <- L + sum(vapply(gts, function(g) g$n_v, 0L))
  s0 <- max(stats::var(yi.f) - mean(vi.f), 0.01 * stats::var(yi.f), 1e-8) / max(nvar, 1L)
  for (g in gts) {
    i <- g$off + seq_len(g$n_v + g$n_r)
    if (g$chol) start[i] <- c(rep(sqrt(s0), g$n_v), rep(0, g$n_r))
    else if (isTRUE(g$cholfix)) start[i] <- .mf_mv_cholfix_start(g, s0)
  }
  # metafor's control$tau2.init, rho.init, gamma2.init, phi.init
  start <- .mf_mv_user_start(gts, con, start, s0)
  # the range of a spatial term starts at metafor's rho.init (the first
  # quartile of the distances, or control$rho.init / phi.init)
  for (g in gts) if (!is.null(g$rho.init)) start[g$off + g$n_v + 1L] <- if (isTRUE(g$logr)) log(g$rho.init) else g$rho.init

  if (use_sparse) {
    # an ill-conditioned design (DESIGN.md, "Ill-conditioned designs") is
    # fitted by the sparse engine in its orthonormal coordinates X~ = X T (the
    # variance components and both log-likelihoods depend on X only through
    # its column space); the fit keeps them as mf.wald for exact Wald
    # statistics (R/wald.R), as fit_block_model() does
    trS <- .mf_design_transform(sparse_spec$X)
    if (!is.null(trS)) {
      Xs.orig <- sparse_spec$X
      sparse_spec$X <- trS$Xt
    }
    fit <- .mf_rma_mv_fit_sparse(sparse_spec, start, method == "REML", con$threshold, con$maxiter, con$stepadj)
    if (!is.null(trS)) {
      sparse_spec$X <- Xs.orig
      if (length(fit$beta) == ncol(X.f)) {
        fit$mf.wald <- list(b = c(fit$beta), vb = fit$vb, RPt = trS$RPt, D = trS$D)
        fit$beta <- c(trS$T %*% fit$beta)
        fit$vb <- trS$T %*% fit$vb %*% t(trS$T)
      }
    }
  } else {
    fit <- .mf_rma_mv_fit(spec, start, method == "REML", con$threshold, con$maxiter, con$stepadj)
  }
  if (is.null(spec)) spec <- sparse_spec  # the methods stop with a clear message on this spec
  gchol <- Filter(function(g) isTRUE(g$cholfix), gts)  # UN/GEN terms with fixed components on the Cholesky scale
  if (length(fit$beta) && length(gchol)) {
    # QE and ll.QE come from V alone, the fit's theta = 0; on the Cholesky
    # scale with fixed values L = 0 keeps those: from the (tau2, rho) scale
    s0 <- .mf_mv_natural_terms(spec, gts)
    s0$structure$fixed[] <- 0
    fit0 <- if (.mf_spec_is_sparse(s0)) .mf_rma_mv_fit_sparse else .mf_rma_mv_fit
    f0 <- fit0(s0, rep(NA_real_, length(fixed.all)), method == "REML", con$threshold, con$maxiter, con$stepadj)
    fit$QE <- f0$QE
    fit$ll.QE <- f0$ll.QE
  }
  conv <- fit$convergence
  conv$engine <- if (use_sparse) "sparse" else "blocks"
  if (!length(fit$beta))
    .mf_stop(sprintf("The model could not be fitted: %s.", conv$message))
  if (!isTRUE(conv$converged))
    warning(sprintf("The %s fit did not converge (%d iterations, last change %.3g: %s); see $convergence.",
                    method, conv$iterations, conv$change, conv$message), call. = FALSE)
  if (length(gchol)) {
    # (a sparse fit: the rows of each outer level of the cholfix terms, with
    # the rows V links to them, as blocks of principal submatrices of M)
    cspec <- spec
    what <- "one block"
    if (.mf_spec_is_sparse(spec)) {
      what <- "one outer level of the term"
      cw <- .mf_mv_components_of(lapply(gchol, function(g) g$outer), Vinfo, rows)
      cspec <- .mf_mv_block_spec(cw$comp, Vinfo, rows, yi.f, vi.f, X.f, bcodes, gts, fixed.all, if (withR) unname(Rl))
    }
    if (!is.null(cspec)) .mf_mv_warn_singular_block(cspec, fit$theta, gts, what)
  }

  beta <- matrix(fit$beta, ncol = 1L, dimnames = list(colnames(X.f), NULL))
  vb <- fit$vb
  dimnames(vb) <- list(colnames(X.f), colnames(X.f))
  A <- NULL
  if (!is.null(A.all)) {
    # user weights (metafor's W = A): the variance components are the REML/ML
    # estimates without A; then b = (X'AX)^-1 X'A y with the sandwich
    # (X'AX)^-1 X'A M A X (X'AX)^-1 at the marginal covariance M, and both
    # log-likelihoods at b (metafor 5.2.1's rma.mv)
    A <- A.all[rows, rows, drop = FALSE]
    wb <- .mf_mv_wfit(A, X.f, yi.f, spec, fit$theta, c(beta), vb, wald = fit$mf.wald)
    fit$ll.ML <- fit$ll.ML - wb$dll
    fit$ll.REML <- fit$ll.REML - wb$dll
    beta[] <- wb$beta
    vb[] <- wb$vb
    fit$mf.wald <- wb$mf.wald  # (NULL for a well-conditioned design)
    spec$refuse <- "This method is not available for rma.mv() fits with user weights ('W') in metafast yet (issue 12)."
  }
  .mf_check_vb_range(vb)  # (R/rma.R)
  se <- unname(sqrt(pmax(diag(vb), 0)))
  zval <- c(beta) / se
  # (each '~ inner | outer' term adds two factors to the containment rule,
  # as metafor's: the combinations of inner and outer level, and the outer)
  gfac <- unlist(lapply(gts, function(g) {
    comb <- (g$outer - 1) * g$nlevels[1L] + (if (is.null(g$ckey)) g$inner else g$ckey)
    list(match(comb, unique(comb)), g$outer)
  }), recursive = FALSE)
  ddf <- if (test == "t") .mf_mv_ddf(dfs, X.f, k, p, c(codes$codes, gfac), c(s.nlevels, vapply(gfac, max, 1L)))
         else rep(NA_integer_, p)
  m <- length(btt)
  QM <- .mf_wald_stat(list(beta = beta, vb = vb, mf.wald = fit$mf.wald), btt = btt)  # (R/wald.R)
  if (test == "t") {
    names(ddf) <- colnames(X.f)
    QM <- QM / m
    QMdf <- c(m, min(ddf[btt]))
    QMp <- stats::pf(QM, QMdf[1L], QMdf[2L], lower.tail = FALSE)
    pval <- 2 * stats::pt(abs(zval), unname(ddf), lower.tail = FALSE)
    crit <- stats::qt(alpha / 2, ddf, lower.tail = FALSE)
  } else {
    QMdf <- c(m, NA_integer_)
    QMp <- stats::pchisq(QM, m, lower.tail = FALSE)
    pval <- 2 * stats::pnorm(abs(zval), lower.tail = FALSE)
    crit <- stats::qnorm(alpha / 2, lower.tail = FALSE)
  }
  QEdf <- k - p
  QE <- fit$QE
  QEp <- stats::pchisq(QE, QEdf, lower.tail = FALSE)

  # fit statistics as metafor's rma.mv(): both likelihoods at the estimate;
  # parms counts the coefficients and the estimated variance components
  parms <- p + sum(is.na(fixed.all))
  ll.ML <- fit$ll.ML
  ll.REML <- fit$ll.REML
  dev.ML <- if (allvipos) -2 * (ll.ML - fit$ll.QE) else -2 * ll.ML
  aicc <- function(ll, n) -2 * ll + 2 * parms * max(n, parms + 2) / (max(n, parms + 2) - parms - 1)
  # (the data frame built directly: data.frame() costs more than the rest of this block)
  fit.stats <- structure(list(ML = c(ll.ML, dev.ML, -2 * ll.ML + 2 * parms, -2 * ll.ML + parms * log(k), aicc(ll.ML, k)),
                              REML = c(ll.REML, -2 * ll.REML, -2 * ll.REML + 2 * parms, -2 * ll.REML + parms * log(k - p),
                                       aicc(ll.REML, k - p))),
                         row.names = c("ll", "dev", "AIC", "BIC", "AICc"), class = "data.frame")

  # the variance components: sigma2, then tau2/rho (G) and gamma2/phi (H)
  theta <- .mf_mv_unchol(gts, fit$theta)
  if (!is.null(spec$structure$terms)) {  # (the fit keeps the (tau2, rho) form of its UN and GEN terms, as theta)
    spec <- .mf_mv_natural_terms(spec, gts)
    spec$structure$fixed <- fixed.all
    # what metafor's rules need to set up the terms again on other data (the
    # cluster bootstrap's resampled data): the user's fixed values and options
    spec$structure$user <- list(struct = struct, check.k = check.k,
                                fixG = list(if (missing(tau2)) NULL else tau2, if (missing(rho)) NULL else rho),
                                fixH = list(if (missing(gamma2)) NULL else gamma2, if (missing(phi)) NULL else phi))
  }
  withS <- L > 0L
  vcg <- .mf_mv_struct_fields(gts, theta)
  if (length(gts)) vcg$struct <- rep_len(struct, 2L)  # (metafor keeps both values, whichever terms use them)
  for (t in seq_along(gts)) if (gts[[t]]$struct == "GDIAG") vcg$struct[t] <- "GDIAG"  # ('~ x || outer')
  if (!withS) sig.out <- list(sigma2 = 0, sigma2s = 1, s.names = list(), s.nlevels = NULL, s.levels = NULL, fix = NA)
  else sig.out <- list(sigma2 = theta[seq_len(L)], sigma2s = L, s.names = rnd$names, s.nlevels = s.nlevels,
                       s.levels = codes$levels, fix = sigma2.fix)

  if (anyDuplicated(slab)) slab <- make.unique(as.character(slab))
  res <- list(b = beta, beta = beta, se = se, zval = zval, pval = pval,
              ci.lb = unname(c(beta) - crit * se), ci.ub = unname(c(beta) + crit * se), vb = vb,
              sigma2 = sig.out$sigma2, tau2 = vcg$tau2, rho = vcg$rho, gamma2 = vcg$gamma2, phi = vcg$phi,
              QE = QE, QEdf = QEdf, QEp = QEp, QM = QM, QMdf = QMdf, QMp = QMp,
              k = k, k.f = k, k.eff = k, k.all = k.all, p = p, p.eff = p, parms = parms, m = m,
              int.only = p == 1L && int.incl, int.incl = int.incl, intercept = int.incl,
              yi = yi.f, vi = vi.f, X = X.f, yi.f = yi, vi.f = Vinfo$vi, X.f = X,
              ids = rows, not.na = !has_na, subset = keep, slab = slab, slab.null = slab.null,
              method = method, measure = measure, test = test, dfs = dfs, ddf = ddf, btt = btt, level = alpha,
              digits = digits, control = con, fit.stats = fit.stats, convergence = conv,
              vc.fix = c(list(sigma2 = sig.out$fix), vcg$fix),
              sigma2s = sig.out$sigma2s, tau2s = vcg$tau2s, rhos = vcg$rhos, gamma2s = vcg$gamma2s, phis = vcg$phis,
              withS = withS, withG = length(gts) >= 1L, withH = length(gts) == 2L, withR = withR,
              Rfix = if (withS) Rfix else FALSE, R = if (withR) stats::setNames(Rl, rnd$names) else NULL,
              Rscale = Rscale, mf.W = A, mf.W.e = W.e, struct = vcg$struct,
              s.names = sig.out$s.names, s.nlevels = sig.out$s.nlevels, s.levels = sig.out$s.levels, sparse = sparse,
              random = random, mf.spec = spec, mf.theta = theta, mf.wald = fit$mf.wald, formula.yi = formula.yi, formula.mods = design$formula,
              terms = design$terms, xlevels = design$xlevels, call = cl, data = data)
  res <- c(res, vcg$levels)
  class(res) <- "mf_rma_mv"
  res
}

# ---- helpers of rma.mv() ----

# A UN or GEN term with some components fixed is fitted on metafor's scale
# (the Cholesky factor L, the fixed values overwriting those of L L'), where
# the term's matrix may be indefinite; on small data the likelihood can then
# grow without bound as a block's marginal covariance nears singular, and
# metafor's optimiser stops there with a meaningless log-likelihood.  A
# warning names the rows of the first block whose smallest eigenvalue at
# the estimate is at most .mf_mv_singular_block_tol times its largest.  A
# sparse fit's blocks are too large: spec then groups the rows by the outer
# levels of the cholfix terms (and V's links), principal submatrices of M
# (by Cauchy's interlacing a nearly singular one makes M nearly singular).
.mf_mv_singular_block_tol <- 1e-8
.mf_mv_warn_singular_block <- function(spec, theta, gts, what = "one block") {
  ratio <- .mf_rma_mv_block_eigen_ratio(spec, theta)
  b <- which(ratio <= .mf_mv_singular_block_tol)
  if (!length(b)) return(invisible(FALSE))
  off <- spec$offsets
  rows <- spec$order[(off[b[1L]] + 1L):off[b[1L] + 1L]]
  st <- unique(vapply(Filter(function(g) isTRUE(g$cholfix), gts), function(g) g$struct, ""))
  warning(sprintf(paste("The marginal covariance of %s of the fit (%s) is nearly singular at the estimate",
                        "(smallest eigenvalue %.3g times the largest). With components of the %s term fixed, its matrix",
                        "may be indefinite on metafor's scale, and the likelihood can grow without bound there: the",
                        "estimates may be meaningless (metafor's optimiser stops at such points too)."),
                  .mf_rows(seq_len(length(spec$y)) %in% rows), what, ratio[b[1L]], paste(st, collapse = "/")),
          call. = FALSE)
  invisible(TRUE)
}

# Crossed factors (and '~ inner | outer' terms, known correlation matrices R)
# that link more than .mf_mv_sparse_rows rows into one block are fitted by
# the sparse engine: a dense block of n rows costs n^3 per evaluation, the
# sparse factorisation about q (nnz(L) + nnz(Z'V^-1 Z)) for q levels, plus
# sum n_v^3 for the dense blocks of V (of n_v rows) that it carries; so only
# while those sum to at most .mf_mv_sparse_vshare n^3 (up to 5000 rows).
# Measured by bench/rma_mv_sparse_threshold.R: the engines are even at about
# 50 rows; at about 110 rows the sparse engine is 2.5-5 times the faster
# (crossed factors, CS/HCS/UN terms, a phylogenetic R, V within studies), at
# about 500 rows 9-70 times; with V in two halves (share 1/4) 1.8-4.4
# times, with V one block over all rows (share 1) 0.5-2.3 times, varying
# from run to run (no clear gain: the block engine fits those).  The
# internal option metafast.mv_sparse_rows replaces the row count and drops
# the rule on V (the tests use it to run both engines on the same small
# data).
.mf_mv_sparse_rows <- 100L
.mf_mv_sparse_vshare <- 1 / 4
# The largest block (rows linked by crossed factors) for which a sparse
# crossed fit also builds the dense blocks of the block-wise methods; above it
# the methods work from the sparse factor or are refused.  The option
# metafast.mv_dense_rows only lowers it (the tests compare both paths).
.mf_mv_dense_rows <- 5000L

# The '~ inner | outer' terms of the structure list handed to C++ (the
# "terms" of src/rcpp_mv_model.h, read by read_inner_outer_terms()), rows in
# the order o: the term's type code (UN on the Cholesky scale: 9, with
# fixed components 17), inner and outer codes, and what GEN/GDIAG, spatial
# and cholfix terms need.
.mf_mv_terms_spec <- function(gts, o) {
  lapply(gts, function(g) {
    tm <- list(type = if (g$type >= 10L) g$type else if (g$chol) 9L else if (isTRUE(g$cholfix)) 17L else g$type,
               inner = g$inner[o], outer = g$outer[o],
               times = g$times, off = g$off, n_v = g$n_v, n_r = g$n_r,
               n_lev = g$n_lev, outer.levels = g$outer.levels)
    # GEN/GDIAG: the base matrix and the inner design of each level; spatial: coordinates or distances
    if (!is.null(g$base)) tm$base <- g$base
    if (!is.null(g$zlev)) tm$zlev <- g$zlev
    if (!is.null(g$coords)) tm$coords <- g$coords
    if (!is.null(g$dmat)) tm$dmat <- g$dmat
    if (!is.null(g$dist)) tm$dist <- g$dist
    if (isTRUE(g$logr)) tm$logr <- TRUE  # (an estimated range: fitted as log(rho))
    if (isTRUE(g$cholfix)) {  # (the fixed values overwrite those of L L')
      tm$fixv <- g$fixed_v
      tm$fixr <- g$fixed_r
    }
    tm
  })
}

# The model as the C++ glue reads it (src/rcpp_mv_model.h): the kept rows
# sorted into the blocks of the engine (order o), the block offsets, the dense
# V blocks and the variance structure.  The fit keeps it ($mf.spec), so
# methods (and refits) hand the same list to C++; $mf.spec$order maps the
# sorted rows back to the fit's rows (yi, vi, X).
.mf_mv_spec <- function(yi, vi, X, o, offsets, Vblocks, structure) {
  if (!is.unsorted(o) && length(o) == length(yi)) {
    # rows already in block order (o = 1..k): the spec shares the fit's vectors
    # (C++ reads only the numbers of X, whose names are then shared too)
    return(list(y = as.double(yi), v = as.double(vi), X = X, order = o,
                offsets = as.integer(offsets), Vblocks = as.double(Vblocks), structure = structure))
  }
  Xo <- X[o, , drop = FALSE]
  rownames(Xo) <- NULL  # (C++ reads the numbers only; row names cost more than the matrix at large k)
  list(y = as.double(yi[o]), v = as.double(vi[o]), X = Xo, order = o,
       offsets = as.integer(offsets), Vblocks = as.double(Vblocks), structure = structure)
}

# The spec of the block engine ("terms" structure) with the rows grouped by
# g (1..nb, a block per value; codes: the '~ 1 | f' terms' codes, gts and
# fixed.all as in rma.mv(), R the known correlation matrices or NULL): the
# blocks of a crossed fit's dense methods, or principal submatrices of M
# (rma.mv()'s check of cholfix fits).  NULL when a block has more than 5000
# rows.
.mf_mv_block_spec <- function(g, Vinfo, rows, yi, vi, X, codes, gts, fixed.all, R = NULL) {
  sizes <- tabulate(g)
  if (max(sizes) > 5000L) return(NULL)
  o <- order(g)
  offsets <- as.integer(c(0L, cumsum(sizes)))
  Vblocks <- .mf_mv_vblocks(Vinfo, rows, g, o, sizes, offsets, "(the blocks)", rep(NA, length(Vinfo$vi)))
  st <- list(type = "terms", codes = codes[o, , drop = FALSE], fixed = .mf_mv_fit_fixed(gts, fixed.all),
             terms = .mf_mv_terms_spec(gts, o))
  if (!is.null(R)) st$R <- R
  .mf_mv_spec(yi, vi, X, o, offsets, Vblocks, st)
}

# Row names "1", "2", ..., "k" (those of model.matrix() on data with
# automatic row names, or on variables) as R's deferred string conversion of
# 1:k (ALTREP: the same character vector to every reader, its strings made
# only when read); other row names unchanged.
.mf_mv_seq_names <- function(rn, data) {
  k <- length(rn)
  if (!k || rn[1L] != "1" || rn[k] != as.character(k)) return(rn)
  sq <- as.character(seq_len(k))
  auto <- is.data.frame(data) && .row_names_info(data) < 0L && nrow(data) == k
  if (auto || identical(rn, sq)) as.character(seq_len(k)) else rn
}

# The random formulas: ~ 1 | a or ~ 1 | a/b/..., or a list of such terms
# (crossed when they do not nest).  Returns, per variance component (one per
# factor a, a/b, ... of each formula, in order): the term (deparsed), metafor's
# name ("a", "a/b", ...), its values and the formula it belongs to.
.mf_mv_random <- function(random, data, k.all, struct_given) {
  todo <- "is not supported by metafast's rma.mv() yet (issue 12)"
  forms <- if (is.list(random) && !inherits(random, "formula")) random else list(random)
  if (!length(forms)) .mf_stop("'random' is an empty list: give formulas such as ~ 1 | study.")
  out <- list(terms = character(0), names = character(0), values = list(), formula = integer(0), gterms = list())
  for (fi in seq_along(forms)) {
    random <- forms[[fi]]
    if (!inherits(random, "formula") || length(random) != 2L)
      .mf_stop("'random' must be a one-sided formula such as ~ 1 | study or ~ 1 | study/es (or a list of them).")
    rhs <- random[[2L]]
    # '~ inner || outer' (metafor: struct "GDIAG" for that term)
    dbl <- is.call(rhs) && identical(rhs[[1L]], as.name("||"))
    if (!is.call(rhs) || !(identical(rhs[[1L]], as.name("|")) || dbl))
      .mf_stop("'random' must be a formula such as ~ 1 | study or ~ 1 | study/es (or a list of them).")
    inner <- rhs[[2L]]
    env <- environment(random)
    if (!(is.numeric(inner) && length(inner) == 1L && inner == 1)) {
      # an '~ inner | outer' term (metafor's G, then H)
      if (length(out$gterms) == 2L)
        .mf_stop("'random' has more than two '~ inner | outer' terms; metafor allows at most two.")
      lab <- c(paste(deparse(inner), collapse = ""), paste(deparse(rhs[[3L]]), collapse = ""))
      # the inner term as a formula (GEN, GDIAG and the spatial structures
      # read several variables from it); a single variable is evaluated here
      inner.f <- stats::as.formula(call("~", inner), env = env)
      ilab <- attr(stats::terms(inner.f), "term.labels")
      vals <- lapply(1:2, function(l) {
        if (l == 1L && length(ilab) != 1L) return(NULL)
        ex <- if (l == 1L) str2lang(ilab) else rhs[[3L]]
        v <- tryCatch(eval(ex, data, env),
                      error = function(e) .mf_stop(sprintf("Cannot evaluate '%s' in 'random': %s", lab[l], conditionMessage(e))))
        if (is.data.frame(v) && ncol(v) == 1L) v <- v[[1L]]
        if (length(v) != k.all || !is.atomic(v))
          .mf_stop(sprintf("'random': '%s' has length %d but 'yi' has length %d.", lab[l], length(v), k.all))
        v
      })
      out$gterms[[length(out$gterms) + 1L]] <- list(names = lab, inner = vals[[1L]], outer = vals[[2L]],
                                                    inner.f = inner.f, data = data, gdiag = dbl)
      next
    }
    terms <- list()
    e <- rhs[[3L]]
    while (is.call(e) && identical(e[[1L]], as.name("/"))) {
      terms <- c(list(e[[3L]]), terms)
      e <- e[[2L]]
    }
    terms <- c(list(e), terms)
    labels <- vapply(terms, function(t) paste(deparse(t), collapse = ""), "")
    values <- lapply(seq_along(terms), function(l) {
      v <- tryCatch(eval(terms[[l]], data, env),
                    error = function(e) .mf_stop(sprintf("Cannot evaluate '%s' in 'random': %s", labels[l], conditionMessage(e))))
      if (is.data.frame(v) && ncol(v) == 1L) v <- v[[1L]]
      if (length(v) != k.all || !is.atomic(v))
        .mf_stop(sprintf("'random': '%s' has length %d but 'yi' has length %d.", labels[l], length(v), k.all))
      v
    })
    out$terms <- c(out$terms, labels)
    out$names <- c(out$names, vapply(seq_along(labels), function(l) paste(labels[seq_len(l)], collapse = "/"), ""))
    out$values <- c(out$values, values)
    out$formula <- c(out$formula, rep(fi, length(labels)))
  }
  if (struct_given && !length(out$gterms))
    warning("Model does not contain an '~ inner | outer' term, so 'struct' argument is disregarded (as metafor).",
            call. = FALSE)
  out$n.formulas <- length(unique(out$formula))
  out
}

# The '~ inner | outer' terms (metafor's G and H): per term its struct, the
# 0-based inner level and the outer level of each kept row, the times of the
# inner levels (CAR), the number of variances (n_v) and correlations (n_r),
# their fixed values (NA: estimate; from tau2/rho or gamma2/phi), their
# position in theta (off, after the L sigma2 components) and metafor's level
# fields.  Levels are sorted as factor() sorts them (numbers numerically); AR
# and HAR take them as equally spaced times, CAR takes the (numeric) inner
# values as times.  The levels are those of the rows left by 'subset' (keep,
# metafor's levels.f); a level whose rows all have missing values keeps its
# place, with its components fixed as metafor fixes them.  Components that
# the data cannot identify are fixed with metafor's warnings (a single inner
# level, one row per outer level, an inner level in one outer level only
# (check.k.gtr.1), pairs of levels that never meet).
.mf_mv_struct_terms <- function(gterms, struct, rows, keep, L, fixG, fixH, check.k = TRUE, dist = NULL,
                                init = list()) {
  if (!length(gterms)) return(list())
  todo <- "is not supported by metafast's rma.mv() yet (issue 12)"
  # metafor 5.2.1 accepts these (its rma.mv() refuses "UNR", although its
  # internals know it: so does metafast, whose engine has the UNR kernel)
  known <- c("CS", "HCS", "UN", "AR", "HAR", "CAR", "ID", "DIAG", "GEN", "GDIAG",
             "SPEXP", "SPGAU", "SPLIN", "SPRAT", "SPSPH")
  types <- c("CS", "ID", "DIAG", "AR", "CAR", "HCS", "UN", "UNR", "HAR")  # (order: InnerOuterTerm::Type)
  done <- c(setdiff(types, "UNR"), .mf_mv_gen_sp)
  if (!is.character(struct) || !length(struct) || length(struct) > 2L || anyNA(struct))
    .mf_stop(sprintf("'struct' must be one or two (one per '~ inner | outer' term) of %s; it has length %d.",
                     paste0("\"", done, "\"", collapse = ", "), length(struct)))
  if (length(struct) == 1L) struct <- rep(struct, 2L)
  off <- L
  out <- vector("list", length(gterms))
  for (t in seq_along(gterms)) {
    g <- gterms[[t]]
    st <- struct[t]
    arg <- if (t == 1L) c("tau2", "rho") else c("gamma2", "phi")
    if (st == "UNR")
      .mf_stop("struct = \"UNR\" is refused by metafor 5.2.1's rma.mv() (\"Unknown 'struct' specified\"), and so by metafast; use \"UN\" (a variance per level) or \"CS\" (one correlation).")
    if (!st %in% known) .mf_stop(sprintf("Unknown 'struct' \"%s\".", st))
    if (!st %in% done) .mf_stop(sprintf("struct = \"%s\" %s; implemented: %s.", st, todo, paste(done, collapse = ", ")))
    if (st %in% .mf_mv_gen_sp) {
      if (st == "GEN" && isTRUE(g$gdiag)) st <- "GDIAG"  # ('~ inner || outer', as metafor)
      out[[t]] <- .mf_mv_gen_sp_term(g, st, t, rows, keep, off, if (t == 1L) fixG else fixH,
                                     if (is.null(dist)) "euclidean" else dist[[t]], init[[t]])
      off <- off + out[[t]]$n_v + out[[t]]$n_r
      next
    }
    if (is.null(g$inner))
      .mf_stop(sprintf("Only a single inner variable allowed for an '~ inner | outer' term when 'struct=\"%s\"' ('random': '%s').",
                       st, g$names[1L]))
    inner <- g$inner[rows]
    outer <- g$outer[rows]
    if (st == "CAR" && !is.numeric(inner))
      .mf_stop(sprintf("struct = \"CAR\" needs a numeric inner variable (times), but '%s' in 'random' is not numeric.", g$names[1L]))
    lev.f <- levels(factor(g$inner[keep]))
    fi <- factor(inner, levels = lev.f)
    fo <- factor(outer)
    n <- length(lev.f)
    removed <- !lev.f %in% as.character(unique(fi))
    het <- st %in% c("DIAG", "HCS", "UN", "HAR")
    n_v <- if (het) n else 1L
    n_r <- if (st %in% c("ID", "DIAG")) 0L else if (st %in% c("UN", "UNR") && n > 1L) n * (n - 1L) / 2L else 1L
    fx <- if (t == 1L) fixG else fixH
    fv <- .mf_mv_fixed_arg(fx[[1L]], n_v, arg[1L], c(0, Inf))
    fr <- if (n_r) .mf_mv_fixed_arg(fx[[2L]], n_r, arg[2L], c(if (st == "CAR") 0 else -1, 1)) else numeric(0)
    times <- if (st == "CAR") as.double(lev.f) else numeric(0)
    # per inner level: the number of outer levels holding it; per pair of
    # levels (metafor's order of rho): the number of outer levels holding both
    io <- table(fo, fi) > 0L
    lk <- colSums(io)
    names(lk) <- lev.f
    ck <- crossprod(io + 0L)
    ck <- as.integer(ck[lower.tri(ck)])
    nv <- length(unique(fi))
    wmsg <- function(m) warning(m, " (as metafor).", call. = FALSE)
    if (any(removed) && !st %in% c("AR", "CAR"))
      wmsg(sprintf("One or more levels of inner factor (i.e., %s) removed due to NAs", paste(lev.f[removed], collapse = ", ")))
    if (n_r && !st %in% c("UN", "UNR") && anyNA(fr)) {
      if (nv == 1L && st %in% c("CS", "HCS", "AR", "HAR", "CAR")) {
        fr[] <- 0
        wmsg(sprintf("Inner factor has only a single level, so fixed value of %s to 0", arg[2L]))
      } else if (nlevels(fo) == length(rows) && st %in% c("CS", "HCS", "AR", "HAR", "CAR")) {
        fr[] <- 0
        wmsg(sprintf("Each level of the outer factor contains only a single level of the inner factor, so fixed value of %s to 0", arg[2L]))
      }
    }
    if (het && isTRUE(check.k) && any(is.na(fv) & lk == 1L)) {
      fv[is.na(fv) & lk == 1L] <- 0
      wmsg(sprintf("Inner factor has k=1 for one or more levels. Corresponding '%s' value(s) fixed to 0", arg[1L]))
    }
    if (st %in% c("UN", "UNR")) {
      if (n > 1L && any(ck == 0L & is.na(fr))) {
        fr[ck == 0L] <- 0
        wmsg(sprintf("Some combinations of the levels of the inner factor never occurred. Corresponding %s value(s) fixed to 0", arg[2L]))
      }
      if (n == 1L && anyNA(fr)) {
        fr[] <- 0
        wmsg(sprintf("Inner factor has only a single level, so fixed value of %s to 0", arg[2L]))
      }
    }
    if (any(removed) && st %in% c("HCS", "HAR", "DIAG", "UN")) {
      fv[removed] <- 0
      if (st == "UN") {
        pr <- which(lower.tri(diag(n)), arr.ind = TRUE)
        fr[removed[pr[, 1L]] | removed[pr[, 2L]]] <- 0
        wmsg(sprintf("Fixed %s and corresponding %s value(s) to 0 for removed level(s)", arg[1L], arg[2L]))
      } else {
        wmsg(sprintf("Fixed %s to 0 for removed level(s)", arg[1L]))
      }
    }
    if (any(removed) && st == "UNR") {
      pr <- which(lower.tri(diag(n)), arr.ind = TRUE)
      fr[removed[pr[, 1L]] | removed[pr[, 2L]]] <- 0
      wmsg(sprintf("Fixed %s value(s) to 0 for removed level(s)", arg[2L]))
    }
    if (n == 2L && n_r) {
      zero <- if (het) any(fv %in% 0) else isTRUE(fv == 0)
      if (zero && st %in% c("CS", "AR", "CAR", "UNR", "HCS", "UN", "HAR")) fr[] <- 0
    }
    # UN with every component estimated: fitted on the Cholesky scale (as
    # metafor), so that the estimate is positive semi-definite
    chol <- st == "UN" && n > 1L && !any(!is.na(fv)) && !any(!is.na(fr))
    out[[t]] <- list(struct = st, type = match(st, types) - 1L, chol = chol, names = g$names, inner = as.integer(fi) - 1L,
                     outer = as.integer(fo), outer.levels = levels(fo), times = times, n_v = n_v, n_r = n_r, n_lev = n, fixed_v = fv, fixed_r = fr,
                     off = off, nlevels = c(nv, nlevels(fo)), nlevels.f = c(n, nlevels(factor(g$outer[keep]))),
                     levels.f = list(lev.f, levels(factor(g$outer[keep]))), levels.k = lk, levels.comb.k = ck)
    # UN with some components fixed whose free correlations form a cycle
    # among the levels: fitted as metafor fits it, on the Cholesky scale with
    # the fixed values overwriting those of L L' (see .mf_mv_free_r_forest())
    out[[t]]$cholfix <- st == "UN" && .mf_mv_is_cholfix(n, fr, chol)
    off <- off + n_v + n_r
  }
  out
}

# The structures whose inner term is a formula of several variables:
# metafor's GEN and GDIAG (random slopes: rows i and j of one outer level
# covary by z_i' E z_j, z the row of the inner term's model matrix, E
# unstructured or diagonal over its columns) and the spatial structures
# (tau2 f(d_ij / rho), d the distance of the rows' coordinates; rho is the
# range).
.mf_mv_gen_sp <- c("GEN", "GDIAG", "SPEXP", "SPGAU", "SPLIN", "SPRAT", "SPSPH")

# One GEN, GDIAG or spatial '~ inner | outer' term (see
# .mf_mv_struct_terms() for the fields; InnerOuterTerm in
# src/core/structure.hpp).  The engine's inner "levels" are the rows (zlev,
# coords: one row each; for a distance matrix the matrix's labels); metafor's
# level fields count the distinct inner rows (pasted as metafor pastes them).
.mf_mv_gen_sp_term <- function(g, st, t, rows, keep, off, fx, dist, init) {
  arg <- if (t == 1L) c("tau2", "rho") else c("gamma2", "phi")
  spatial <- !st %in% c("GEN", "GDIAG")
  data <- g$data
  vars <- stats::model.frame(g$inner.f, data = data, na.action = stats::na.pass)
  if (nrow(vars) != length(keep))
    .mf_stop(sprintf("'random': the variables of '%s' have %d rows but 'yi' has length %d.", g$names[1L], nrow(vars), length(keep)))
  bad <- keep & !stats::complete.cases(vars)
  if (any(bad))
    .mf_stop(sprintf("'random': missing values in '%s' (%s); no NAs are allowed in the variables of 'random'.",
                     g$names[1L], .mf_rows(bad)))
  if (!spatial) {
    Z <- stats::model.matrix(g$inner.f, vars)
    is.int <- apply(Z, 2L, function(z) all(z == 1))
    colnames(Z)[is.int] <- "intrcpt"
    attr(Z, "assign") <- NULL
    attr(Z, "contrasts") <- NULL
    lvars <- as.data.frame(Z)
    vnames <- colnames(Z)
  } else {
    lvars <- vars
    vnames <- names(vars)
  }
  # metafor's levels: the distinct inner rows, pasted
  key <- apply(lvars, 1L, paste, collapse = " + ")
  outer <- g$outer[rows]
  fo <- factor(outer)
  kk <- length(rows)
  lev.f <- sort(unique(key[keep]))
  nv <- length(unique(key[rows]))
  if (nv == 1L) .mf_stop("Cannot fit model since inner term only has a single level (as metafor).")
  if (spatial && nlevels(fo) == kk)
    .mf_stop("Cannot fit model since each level of the outer factor contains only a single level of the inner term (as metafor).")
  lk <- table(factor(key[rows], levels = lev.f))
  ckey <- match(key[rows], sort(unique(key[rows]))) - 1L
  res <- list(struct = st, names = c(vnames, g$names[2L]), outer = as.integer(fo), outer.levels = levels(fo), times = numeric(0),
              off = off, nlevels = c(nv, nlevels(fo)), nlevels.f = c(length(lev.f), nlevels(factor(g$outer[keep]))),
              levels.f = list(lev.f, sort(unique(factor(g$outer[keep])))), levels.k = lk, levels.comb.k = NULL, ckey = ckey)
  if (!spatial) {
    Z <- Z[rows, , drop = FALSE]
    p <- ncol(Z)
    n_r <- if (st == "GDIAG" || p == 1L) 0L else p * (p - 1L) / 2L
    fv <- .mf_mv_fixed_arg(fx[[1L]], p, arg[1L], c(0, Inf))
    fr <- if (n_r) .mf_mv_fixed_arg(fx[[2L]], n_r, arg[2L], c(-1, 1)) else numeric(0)
    # GEN with every component estimated: on the Cholesky scale of E (as metafor)
    # (some fixed, the free correlations forming a cycle: on the Cholesky
    # scale with the fixed values overwriting, as UN, .mf_mv_struct_terms())
    chol <- st == "GEN" && p > 1L && all(is.na(c(fv, fr)))
    cholfix <- st == "GEN" && .mf_mv_is_cholfix(p, fr, chol)
    return(c(res, list(type = if (st == "GEN") 10L else 11L,
                       base = if (st == "GDIAG") 2L else if (chol) 9L else if (cholfix) 17L else 6L,
                       chol = chol, cholfix = cholfix, inner = seq_len(kk) - 1L, zlev = unname(Z), n_v = p, n_r = n_r, n_lev = p,
                       fixed_v = fv, fixed_r = fr)))
  }
  # spatial: coordinates (model matrix of the inner variables without
  # intercept), a distance matrix over the labels of the first inner
  # variable, or a function of the coordinates
  fv <- .mf_mv_fixed_arg(fx[[1L]], 1L, arg[1L], c(0, Inf))
  fr <- .mf_mv_fixed_arg(fx[[2L]], 1L, arg[2L], c(0, Inf))
  if (is.data.frame(dist)) dist <- as.matrix(dist)
  # (metafor starts rho at the first quartile of the distances of all pairs of
  # rows; here of rows evenly spread over the data beyond 3000 rows)
  sel <- if (kk > 3000L) unique(round(seq(1, kk, length.out = 3000L))) else seq_len(kk)
  coords <- NULL
  dmat <- NULL
  if (is.matrix(dist) || inherits(dist, "Matrix")) {
    dm <- as.matrix(dist)
    if (anyNA(dm)) .mf_stop("'dist': no missing values are allowed in a distance matrix (as metafor).")
    if (nrow(dm) != ncol(dm)) .mf_stop("'dist': a distance matrix must be square (as metafor).")
    if (!isSymmetric(unname(dm))) .mf_stop("'dist': a distance matrix must be symmetric (as metafor).")
    if (is.null(rownames(dm))) rownames(dm) <- colnames(dm)
    if (is.null(colnames(dm))) colnames(dm) <- rownames(dm)
    if (is.null(colnames(dm)) || anyDuplicated(colnames(dm)))
      .mf_stop("'dist': a distance matrix must have unique dimension names (as metafor).")
    lab <- as.character(vars[[1L]][rows])
    if (any(!lab %in% colnames(dm)))
      .mf_stop(sprintf("'dist': there are levels in '%s' for which there are no matching rows/columns in the distance matrix (as metafor).",
                       names(vars)[1L]))
    ul <- unique(lab)
    dmat <- unname(dm[ul, ul, drop = FALSE])
    storage.mode(dmat) <- "double"
    inner <- match(lab, ul) - 1L
    dpairs <- function() { i <- inner[sel] + 1L; dmat[i, i][lower.tri(diag(length(sel)))] }
    dcode <- 0L
  } else {
    Cm <- stats::model.matrix(stats::update(g$inner.f, ~ . - 1), vars)[rows, , drop = FALSE]
    Cm <- unname(Cm)
    attr(Cm, "assign") <- NULL
    attr(Cm, "contrasts") <- NULL
    inner <- seq_len(kk) - 1L
    if (is.function(dist)) {
      dmat <- as.matrix(dist(Cm))
      if (!identical(dim(dmat), c(kk, kk)) || anyNA(dmat))
        .mf_stop(sprintf("'dist': the function must return a %d x %d distance matrix without missing values.", kk, kk))
      dmat <- unname(dmat)
      storage.mode(dmat) <- "double"
      dpairs <- function() dmat[sel, sel][lower.tri(diag(length(sel)))]
      dcode <- 0L
    } else {
      dcode <- match(dist, c("euclidean", "maximum", "manhattan", "gcd")) - 1L
      if (dcode == 3L && ncol(Cm) != 2L)
        .mf_stop("'dist': great-circle distances (\"gcd\") need two inner variables, longitude and latitude (in degrees).")
      coords <- Cm
      dpairs <- function() {
        cs <- coords[sel, , drop = FALSE]
        if (dcode == 3L) .mf_mv_gcd_pairs(cs) else as.vector(stats::dist(cs, method = dist))
      }
    }
  }
  rho.init <- if (!is.null(init)) init else unname(stats::quantile(dpairs(), 0.25))
  if (length(rho.init) != 1L)
    .mf_stop(sprintf("Length of the 'control$%s.init' argument (%d) does not match the actual number of correlations (1) (as metafor).",
                     arg[2L], length(rho.init)))
  if (!is.finite(rho.init) || rho.init <= 0)
    .mf_stop(sprintf("Value(s) of '%s.init' must be > 0 (as metafor).", arg[2L]))
  c(res, list(type = 12L + match(st, c("SPEXP", "SPGAU", "SPLIN", "SPRAT", "SPSPH")) - 1L, chol = FALSE, inner = inner,
              coords = coords, dmat = dmat, dist = dcode, n_v = 1L, n_r = 1L, n_lev = 0L, fixed_v = fv, fixed_r = fr,
              rho.init = rho.init, logr = is.na(fr)))
}

# Great-circle distances (km) between the rows of (longitude, latitude) in
# degrees, all pairs in the order of dist() (for the start of rho): the
# core's formula (InnerOuterTerm::gcd_km(); Meeus 1991, ch. 11, WGS84).
.mf_mv_gcd_pairs <- function(cs) {
  n <- nrow(cs)
  ij <- which(lower.tri(diag(n)), arr.ind = TRUE)
  .mf_mv_gcd(cs[ij[, 2L], 1L], cs[ij[, 2L], 2L], cs[ij[, 1L], 1L], cs[ij[, 1L], 2L])
}
.mf_mv_gcd <- function(lon1, lat1, lon2, lat2) {
  rad <- pi / 180
  a <- 6378.137
  f <- 1 / 298.257223563
  F <- (lat1 + lat2) / 2 * rad; G <- (lat1 - lat2) / 2 * rad; L <- (lon1 - lon2) / 2 * rad
  S <- sin(G)^2 * cos(L)^2 + cos(F)^2 * sin(L)^2
  C <- cos(G)^2 * cos(L)^2 + sin(F)^2 * sin(L)^2
  w <- atan(sqrt(S / C))
  R <- sqrt(S * C) / w
  H1 <- (3 * R - 1) / (2 * C); H2 <- (3 * R + 1) / (2 * S)
  d <- 2 * w * a * (1 + f * H1 * sin(F)^2 * cos(G)^2 - f * H2 * cos(F)^2 * sin(G)^2)
  d[!(S > 0)] <- 0
  d
}

# A fixed-value argument of an '~ inner | outer' term (tau2, rho, gamma2,
# phi): NULL or NA estimates; one value (recycled) or n values; within range.
.mf_mv_fixed_arg <- function(x, n, nm, range) {
  if (is.null(x)) return(rep(NA_real_, n))
  if (!is.numeric(x) && !all(is.na(x))) .mf_stop(sprintf("'%s' must be numeric (NA: estimate).", nm))
  x <- as.double(x)
  if (length(x) == 1L) x <- rep(x, n)
  if (length(x) != n) .mf_stop(sprintf("'%s' has length %d but the model has %d such component%s.", nm, length(x), n,
                                       if (n > 1L) "s" else ""))
  if (any(is.nan(x)) || any(!is.na(x) & (x < range[1L] | x > range[2L] | is.infinite(x))))
    .mf_stop(sprintf("'%s' must hold values in [%s, %s] (NA: estimate).", nm, format(range[1L]), format(range[2L])))
  x
}

# The matrix E of a UN or UNR term at theta (n_lev x n_lev; metafor's
# .con.vcov.UN/.con.vcov.UNR): sqrt(v_a v_c) r_ac, r in the column-major order
# of the lower triangle.
.mf_mv_un_matrix <- function(g, theta) {
  n <- g$n_lev
  v <- theta[g$off + seq_len(g$n_v)]
  R <- diag(n)
  if (n > 1L) {
    R[lower.tri(R)] <- theta[g$off + g$n_v + seq_len(g$n_r)]
    R[upper.tri(R)] <- t(R)[upper.tri(R)]
  }
  s <- sqrt(if (g$struct == "UNR") rep(v, n) else v)
  R * tcrossprod(s)
}

# theta with the range of each spatial term fitted as log(rho) back on the
# rho scale, and the Cholesky factor L of each UN term fitted on that scale
# replaced by the variances and correlations of E = L L' (metafor's
# .con.E(): diag(E) and cov2cor(E) below the diagonal; a correlation with a
# zero variance is 0).
.mf_mv_unchol <- function(gts, theta) {
  for (g in gts) if (isTRUE(g$logr) && !anyNA(theta)) theta[g$off + g$n_v + 1L] <- exp(theta[g$off + g$n_v + 1L])
  for (g in gts) {
    if (!(g$chol || isTRUE(g$cholfix)) || anyNA(theta)) next
    i <- g$off + seq_len(g$n_v + g$n_r)
    Lm <- diag(theta[i[seq_len(g$n_v)]], g$n_lev)
    Lm[lower.tri(Lm)] <- theta[i[-seq_len(g$n_v)]]
    E <- tcrossprod(Lm)
    v <- diag(E)
    s <- sqrt(v)
    R <- E / tcrossprod(s)
    R[!is.finite(R)] <- 0
    vr <- c(v, R[lower.tri(R)])
    # (cholfix: the fixed values overwrite those of L L', as in the fit)
    if (isTRUE(g$cholfix)) vr <- ifelse(is.na(c(g$fixed_v, g$fixed_r)), vr, c(g$fixed_v, g$fixed_r))
    theta[i] <- vr
  }
  theta
}

# A refit of a fit's spec (its UN and GEN terms kept on the (tau2, rho)
# scale, as theta) on metafor's scale: each such term with every component
# estimated on the Cholesky scale (type or GEN base 9), with some fixed and
# its free correlations forming a cycle on the Cholesky scale with the fixed
# values overwriting (17), as rma.mv() fits them (the refits of case
# deletion and profile(), which metafor runs through rma.mv()).  theta: the
# start on the (tau2, rho) scale; the start returned holds L of the nearest
# positive semi-definite matrix (negative eigenvalues set to 0), moved inside
# the cone, for those terms (default = TRUE: rma.mv()'s start of such a
# term instead, .mf_mv_cholfix_start(), the fallback of failed refits).
# gts: what .mf_mv_unchol() needs to bring a refit's theta back (NULL:
# nothing to convert).
.mf_mv_metafor_scale <- function(spec, theta, default = FALSE) {
  st <- spec$structure
  if (!st$type %in% c("terms", "crossed") || !length(st$terms)) return(list(spec = spec, start = theta, gts = NULL))
  gts <- vector("list", length(st$terms))
  for (t in seq_along(st$terms)) {
    tm <- st$terms[[t]]
    ii <- tm$off + seq_len(tm$n_v + tm$n_r)
    fx <- st$fixed[ii]
    g <- list(struct = "UN", off = tm$off, n_v = tm$n_v, n_r = tm$n_r, n_lev = tm$n_lev,
              fixed_v = fx[seq_len(tm$n_v)], fixed_r = fx[tm$n_v + seq_len(tm$n_r)], chol = FALSE, cholfix = FALSE)
    gts[[t]] <- g
    if (!(tm$type == 6L || (tm$type == 10L && identical(tm$base, 6L))) || tm$n_lev < 2L) next
    g$chol <- !anyNA(theta[ii]) && all(is.na(fx))
    g$cholfix <- .mf_mv_is_cholfix(tm$n_lev, g$fixed_r, g$chol)
    gts[[t]] <- g
    if (!g$chol && !g$cholfix) next
    code <- if (g$chol) 9L else 17L
    if (tm$type == 6L) st$terms[[t]]$type <- code else st$terms[[t]]$base <- code
    if (g$cholfix) {
      st$terms[[t]]$fixv <- g$fixed_v
      st$terms[[t]]$fixr <- g$fixed_r
    }
    st$fixed[ii] <- NA_real_
    E <- .mf_mv_un_matrix(g, theta)
    if (default) {  # (rma.mv()'s own start, at the estimate's mean variance)
      theta[ii] <- .mf_mv_cholfix_start(g, max(mean(diag(E)), 1e-8))
      next
    }
    es <- eigen(E, symmetric = TRUE)
    P <- es$vectors %*% (pmax(es$values, 0) * t(es$vectors))
    # (its correlations shrunk by a tenth towards 0, its variances at least
    # 1e-2 of the largest: an estimate on the boundary of the cone, where
    # the Cholesky factor is singular, is a poor start for the optimisers)
    s <- pmax(sqrt(pmax(diag(P), 0)), 0.1 * sqrt(max(abs(diag(E)), 1e-8)))
    R <- P / tcrossprod(sqrt(pmax(diag(P), 1e-300)))
    R[!is.finite(R)] <- 0
    diag(R) <- 1
    Lm <- t(chol((0.9 * R + 0.1 * diag(nrow(R))) * tcrossprod(s)))
    theta[ii] <- c(diag(Lm), Lm[lower.tri(Lm)])
  }
  spec$structure <- st
  conv <- vapply(gts, function(g) g$chol || g$cholfix, NA)
  list(spec = spec, start = theta, gts = if (any(conv)) gts else NULL)
}

# The theta of refits (a matrix, one refit per row; NA rows failed) on the
# (tau2, rho) scale, from that of .mf_mv_metafor_scale()'s spec.
.mf_mv_metafor_unscale <- function(ms, theta) {
  if (is.null(ms$gts) || !length(theta)) return(theta)
  for (i in seq_len(nrow(theta))) theta[i, ] <- .mf_mv_unchol(ms$gts, theta[i, ])
  theta
}

# The spec's '~ inner | outer' terms on the scale of the fit's reported
# theta: UN and GEN's base on the (tau2, rho) scale, ranges as themselves
# (the fit may run on the Cholesky scale and log(range)).
.mf_mv_natural_terms <- function(spec, gts) {
  for (t in seq_along(gts)) {
    tm <- spec$structure$terms[[t]]
    tm$type <- gts[[t]]$type
    if (isTRUE(gts[[t]]$base %in% c(9L, 17L))) tm$base <- 6L
    tm$logr <- tm$fixv <- tm$fixr <- NULL  # (cholfix: the fixed values are theta's)
    spec$structure$terms[[t]] <- tm
  }
  spec
}

# Whether a UN (or GEN) term over n_lev levels with correlations fixed_r (NA:
# estimated) and some component fixed (chol FALSE) is fitted on the Cholesky
# scale with the fixed values overwriting (cholfix): its free correlations
# form a cycle among the levels (.mf_mv_free_r_forest()).
.mf_mv_is_cholfix <- function(n_lev, fixed_r, chol) {
  !chol && n_lev > 2L && anyNA(fixed_r) && !.mf_mv_free_r_forest(list(n_lev = n_lev, fixed_r = fixed_r))
}

# The start of a UN term fitted on the Cholesky scale with fixed components
# (cholfix): L = chol(s R0), R0 the fixed correlations with 0 at the free
# ones, so that E at the start is s R0 with the fixed variances in place
# (positive semi-definite when R0 is); sqrt(s) I when R0 is not positive
# definite.
.mf_mv_cholfix_start <- function(g, s0) {
  R0 <- diag(g$n_lev)
  R0[lower.tri(R0)] <- ifelse(is.na(g$fixed_r), 0, g$fixed_r)
  R0[upper.tri(R0)] <- t(R0)[upper.tri(R0)]
  Lm <- tryCatch(t(chol(s0 * R0)), error = function(e) diag(sqrt(s0), g$n_lev))
  c(diag(Lm), Lm[lower.tri(Lm)])
}

# The 'fixed' vector of the fit's structure: that of theta (fixed.all) with
# the components of the cholfix terms estimated (their theta is L; the
# fixed values travel with the term as fixv and fixr).
.mf_mv_fit_fixed <- function(gts, fixed.all) {
  for (g in gts) if (isTRUE(g$cholfix)) fixed.all[g$off + seq_len(g$n_v + g$n_r)] <- NA_real_
  fixed.all
}

# metafor fits UN (and GEN) on the scale of the Cholesky factor C of E,
# overwriting the fixed variances and correlations of C C' after the
# transformation (metafor 5.2.1's .ll.rma.mv()).  The estimated correlations
# can therefore take any values that some correlation matrix has at those
# positions, whatever the fixed ones are: the partial matrix of the free
# correlations must be completable to a positive semi-definite one, and E
# itself need not be positive semi-definite (metafor reports such an estimate
# without a warning).  When the free correlations, as edges between the inner
# levels, form no cycle (e.g. one of three correlations fixed), every value
# in [-1, 1] is completable (Grone, Johnson, Sa & Wolkowicz 1984, Linear
# Algebra Appl 58:109; a forest is chordal with cliques of two levels), so
# metafast fits such a term on the (tau2, rho) scale with each rho in
# [-1, 1], metafor's set, where Fisher scoring converges fast; otherwise on
# metafor's own scale (cholfix: InnerOuterTerm::kUNCHOLFIX).  TRUE: no cycle.
.mf_mv_free_r_forest <- function(g) {
  free <- is.na(g$fixed_r)
  pr <- which(lower.tri(diag(g$n_lev)), arr.ind = TRUE)  # (metafor's order of rho)
  comp <- seq_len(g$n_lev)
  for (e in which(free)) {
    a <- comp[pr[e, 1L]]
    b <- comp[pr[e, 2L]]
    if (a == b) return(FALSE)
    comp[comp == b] <- a
  }
  TRUE
}
# metafor's fields of the G and H terms from the estimate theta.
.mf_mv_struct_fields <- function(gts, theta) {
  r <- list(tau2 = 0, rho = 0, gamma2 = 0, phi = 0, tau2s = 1, rhos = 1, gamma2s = 1, phis = 1,
            fix = list(tau2 = NA, rho = NA, gamma2 = NA, phi = NA), struct = c("CS", "CS"), levels = list())
  for (t in seq_along(gts)) {
    g <- gts[[t]]
    v <- theta[g$off + seq_len(g$n_v)]
    rr <- if (g$n_r) theta[g$off + g$n_v + seq_len(g$n_r)] else 0
    nm <- if (t == 1L) c("tau2", "rho", "g") else c("gamma2", "phi", "h")
    r[[nm[1L]]] <- v
    r[[nm[2L]]] <- rr
    r[[paste0(nm[1L], "s")]] <- g$n_v
    r[[paste0(nm[2L], "s")]] <- max(g$n_r, 1L)
    r$fix[[nm[1L]]] <- !is.na(g$fixed_v)
    r$fix[[nm[2L]]] <- if (g$n_r) !is.na(g$fixed_r) else TRUE
    r$struct[t] <- g$struct
    if (t == 1L && length(gts) == 1L) r$struct[2L] <- g$struct
    r$levels[[paste0(nm[3L], ".names")]] <- stats::setNames(g$names, g$names)
    r$levels[[paste0(nm[3L], ".nlevels")]] <- g$nlevels
    r$levels[[paste0(nm[3L], ".nlevels.f")]] <- g$nlevels.f
    r$levels[[paste0(nm[3L], ".levels.f")]] <- g$levels.f
    r$levels[[paste0(nm[3L], ".levels.k")]] <- g$levels.k
    r$levels[[paste0(nm[3L], ".levels.comb.k")]] <- g$levels.comb.k
  }
  r
}

# Integer codes and level labels of every variance component: the nested
# factors of each formula coded by .mf_mv_level_codes(), concatenated.
.mf_mv_all_codes <- function(rnd, rows) {
  codes <- list()
  levels <- list()
  for (fi in unique(rnd$formula)) {
    cf <- .mf_mv_level_codes(lapply(rnd$values[rnd$formula == fi], function(x) x[rows]))
    codes <- c(codes, cf$codes)
    levels <- c(levels, cf$levels)
  }
  list(codes = codes, levels = levels)
}

# The blocks of several factors: connected components of the kept rows linked
# by a shared level of any factor or a covariance in V (union-find in C++).
.mf_mv_components_of <- function(codes, Vinfo, rows, links = NULL) {
  k <- length(rows)
  cm <- matrix(as.integer(unlist(codes, use.names = FALSE)), nrow = k)  # (no factor: k x 0)
  storage.mode(cm) <- "integer"
  vi <- integer(0); vj <- integer(0)
  tr <- Vinfo$trip
  if (!is.null(tr)) {
    pi <- match(tr$i, rows)
    pj <- match(tr$j, rows)
    ok <- !is.na(pi) & !is.na(pj)
    vi <- as.integer(pi[ok]); vj <- as.integer(pj[ok])
  }
  if (!is.null(links)) {  # further pairs of linked rows (positions in rows)
    vi <- c(vi, as.integer(links$i)); vj <- c(vj, as.integer(links$j))
  }
  list(comp = .mf_mv_components(cm, vi, vj), codes = cm)
}

# Integer codes 1..n_l of the nested factors a, a/b, a/b/c, ... (levels in
# lexical order of the factors' levels, as metafor's interaction(lex.order =
# TRUE)) and their level labels.  Keys are exact doubles (< 2^53).
.mf_mv_level_codes <- function(values) {
  codes <- vector("list", length(values))
  levels <- vector("list", length(values))
  prev <- NULL
  for (l in seq_along(values)) {
    f <- .mf_mv_factor(values[[l]])
    cx <- f$codes
    nf <- length(f$levels)
    if (is.null(prev)) {
      codes[[l]] <- cx
      levels[[l]] <- f$levels
    } else {
      key <- (prev - 1) * nf + cx
      ukey <- sort(unique(key))
      codes[[l]] <- match(key, ukey)
      parent <- as.integer((ukey - 1) %/% nf + 1)
      child <- as.integer((ukey - 1) %% nf + 1)
      levels[[l]] <- if (length(ukey) > getOption("metafast.mv_lazy_levels", .mf_mv_lazy_levels))
        structure(list(parent = parent, child = child, plabels = levels[[l - 1L]], clabels = f$levels),
                  class = "mf_lazy_levels")
      else paste(.mf_mv_labels(levels[[l - 1L]])[parent], f$levels[child], sep = "/")
    }
    prev <- codes[[l]]
  }
  list(codes = codes, levels = levels)
}

# The labels "a/b" of the nested factors (one per level, often one per row)
# are kept as codes (class mf_lazy_levels: the parent's label and the
# child's level of each level) and pasted when read: fit$s.levels and
# fit[["s.levels"]] (the methods below) give metafor's character vectors,
# while the fit makes no strings (a fit of 10^6 rows keeps 8 MB instead of a
# million strings, ~70 MB).  Factors with more levels than this are kept
# lazily; the internal option metafast.mv_lazy_levels overrides it (the
# tests use it).
.mf_mv_lazy_levels <- 0L

# The number of levels and the labels of a level set (character, or lazy).
.mf_mv_nlev <- function(lev) if (inherits(lev, "mf_lazy_levels")) length(lev$parent) else length(lev)
.mf_mv_labels <- function(lev) {
  if (!inherits(lev, "mf_lazy_levels")) return(lev)
  paste(.mf_mv_labels(lev$plabels)[lev$parent], lev$clabels[lev$child], sep = "/")
}

# Fields of an rma.mv() fit as metafor's: the lazily kept labels of
# s.levels pasted when read (the only field kept in another form).
#' @export
`$.mf_rma_mv` <- function(x, name) {
  if (identical(name, "W")) return(.mf_mv_A(x))  # (held as $mf.W)
  val <- .subset2(x, name, exact = FALSE)
  if (is.list(val) && !is.null(val) && identical(pmatch(name, "s.levels"), 1L)) val <- lapply(val, .mf_mv_labels)
  val
}

#' @export
`[[.mf_rma_mv` <- function(x, i, ...) {
  if (identical(i, "W")) return(.mf_mv_A(x))
  val <- .subset2(x, i, ...)
  if (is.character(i) && length(i) == 1L && identical(i, "s.levels") && is.list(val)) val <- lapply(val, .mf_mv_labels)
  val
}

# The integer codes and levels of factor(x): for integers and whole numbers
# (the usual identifiers) from sort(unique(x)) directly, which gives
# factor()'s codes and labels without turning every value into a string;
# other values through factor().
.mf_mv_factor <- function(x) {
  if (!anyNA(x) && (is.integer(x) || (is.double(x) && all(abs(x) < 1e15) && all(x == trunc(x)))) && is.null(attributes(x))) {
    u <- sort(unique(x))
    return(list(codes = match(x, u), levels = as.character(u)))
  }
  f <- factor(x)
  list(codes = as.integer(f), levels = levels(f))
}

# V as given: a vector (vi), a k x k matrix (base or Matrix) or a list of
# blocks for consecutive rows.  Returns the diagonal vi, the rows with a
# missing entry, and (for matrices and lists) the non-zero entries as
# triplets (i, j, x) of the full data's rows.
.mf_mv_V <- function(V, k.all) {
  if (is.data.frame(V)) V <- as.matrix(V)
  if (is.list(V)) {
    blocks <- lapply(seq_along(V), function(b) {
      Vb <- V[[b]]
      if (is.data.frame(Vb)) Vb <- as.matrix(Vb)
      if (!is.numeric(Vb) && !all(is.na(Vb))) .mf_stop(sprintf("'V': block %d of the list is not numeric.", b))
      Vb <- as.matrix(Vb)
      if (nrow(Vb) != ncol(Vb)) .mf_stop(sprintf("'V': block %d of the list is not a square matrix.", b))
      if (!isSymmetric(unname(Vb))) .mf_stop(sprintf("'V': block %d of the list is not symmetric.", b))
      Vb
    })
    n <- vapply(blocks, nrow, 1L)
    if (sum(n) != k.all)
      .mf_stop(sprintf("'V': the blocks of the list cover %d rows but 'yi' has length %d.", sum(n), k.all))
    start <- c(0L, cumsum(n))[seq_along(n)]
    i <- unlist(lapply(seq_along(n), function(b) start[b] + rep.int(seq_len(n[b]), n[b])), use.names = FALSE)
    j <- unlist(lapply(seq_along(n), function(b) start[b] + rep(seq_len(n[b]), each = n[b])), use.names = FALSE)
    x <- unlist(lapply(blocks, as.vector), use.names = FALSE)
    return(.mf_mv_triplets(as.integer(i), as.integer(j), as.double(x), k.all))
  }
  if (inherits(V, "Matrix")) {
    if (!Matrix::isSymmetric(V)) .mf_stop("'V' must be a symmetric matrix.")
    if (nrow(V) != k.all || ncol(V) != k.all)
      .mf_stop(sprintf("'V' is a %d x %d matrix but 'yi' has length %d.", nrow(V), ncol(V), k.all))
    # the stored entries (one triangle of a symmetric class), mirrored and de-duplicated
    tr <- Matrix::mat2triplet(V)
    x <- if (is.null(tr$x)) rep(1, length(tr$i)) else as.double(tr$x)
    off <- tr$i != tr$j
    i <- c(tr$i, tr$j[off]); j <- c(tr$j, tr$i[off]); x <- c(x, x[off])
    keep <- !duplicated(cbind(i, j))
    return(.mf_mv_triplets(as.integer(i[keep]), as.integer(j[keep]), x[keep], k.all))
  }
  if (is.matrix(V) && min(dim(V)) > 1L) {
    if (nrow(V) != k.all || ncol(V) != k.all)
      .mf_stop(sprintf("'V' is a %d x %d matrix but 'yi' has length %d.", nrow(V), ncol(V), k.all))
    if (!is.numeric(V)) .mf_stop("'V' must be numeric.")
    # isSymmetric(V)'s decision and which(V != 0 | is.na(V)) in one C++ pass
    # without a k x k copy (src/core/dense_input.hpp)
    st <- .mf_dense_sym_triplets(V)
    if (!st$symmetric) .mf_stop("'V' must be a symmetric matrix.")
    return(.mf_mv_triplets(st$i, st$j, st$x, k.all))
  }
  vi <- .mf_numeric(V, "V")
  if (length(vi) != k.all) .mf_stop(sprintf("'V' has length %d but 'yi' has length %d.", length(vi), k.all))
  list(vi = vi, na_row = is.na(vi), trip = NULL)
}

.mf_mv_triplets <- function(i, j, x, k.all) {
  keep <- x != 0 | is.na(x) | i == j
  i <- i[keep]; j <- j[keep]; x <- x[keep]
  vi <- numeric(k.all)
  d <- i == j
  vi[i[d]] <- x[d]
  na_row <- logical(k.all)
  na_row[c(i[is.na(x)], j[is.na(x)])] <- TRUE
  off <- !d
  trip <- if (any(off)) list(i = i[off], j = j[off], x = x[off]) else NULL
  list(vi = vi, na_row = na_row, trip = trip)
}

# The dense V blocks of the engine (column-major, concatenated in block
# order; numeric(0) when V is diagonal): the covariances of the kept rows,
# after a check that no covariance joins two levels of the outermost factor,
# and a check that every block is positive semi-definite.
.mf_mv_vblocks <- function(Vinfo, rows, g1, o, sizes, offsets, outer, outer_values) {
  tr <- Vinfo$trip
  if (is.null(tr)) return(numeric(0))
  pos <- match(tr$i, rows)
  pos_j <- match(tr$j, rows)
  in_use <- !is.na(pos) & !is.na(pos_j)
  if (!any(in_use)) return(numeric(0))
  pos <- pos[in_use]; pos_j <- pos_j[in_use]; x <- tr$x[in_use]
  across <- g1[pos] != g1[pos_j]
  if (any(across)) {
    a <- which(across)[1L]
    ri <- min(rows[pos[a]], rows[pos_j[a]]); rj <- max(rows[pos[a]], rows[pos_j[a]])
    .mf_stop(sprintf("'V' has covariances between rows in different levels of '%s' (the outermost factor of 'random'), e.g. rows %d ('%s') and %d ('%s'), %d pair%s in all: V blocks may not straddle clusters.",
                     outer, ri, format(outer_values[ri]), rj, format(outer_values[rj]), sum(across) / 2,
                     if (sum(across) > 2) "s" else ""))
  }
  rank <- integer(length(o))
  rank[o] <- seq_along(o)              # position of each kept row in the sorted order
  blk <- g1[pos]
  li <- rank[pos] - offsets[blk]       # 1-based positions within the block
  lj <- rank[pos_j] - offsets[blk]
  voff <- c(0, cumsum(as.double(sizes)^2))
  Vb <- numeric(voff[length(voff)])
  # the diagonal, then the covariances
  vi <- Vinfo$vi[rows]
  bd <- g1
  ld <- rank - offsets[bd]
  Vb[voff[bd] + (ld - 1) + (ld - 1) * sizes[bd] + 1] <- vi
  Vb[voff[blk] + (li - 1) + (lj - 1) * sizes[blk] + 1] <- x
  mev <- .mf_vblocks_min_eigen(offsets, Vb)
  bad <- which(mev < -1e-8)
  if (length(bad)) {
    b <- bad[1L]
    r <- sort(rows[o[seq.int(offsets[b] + 1L, offsets[b + 1L])]])
    .mf_stop(sprintf("'V' is not positive semi-definite in the block of %s (level '%s' of '%s')%s.",
                     .mf_rows(seq_len(max(r)) %in% r), format(outer_values[r[1L]]), outer,
                     if (length(bad) > 1L) sprintf(", and in %d more block%s", length(bad) - 1L, if (length(bad) > 2L) "s" else "") else ""))
  }
  Vb
}

# metafor's 'dist' argument of rma.mv() (read from '...'): per
# '~ inner | outer' term "euclidean", "maximum", "manhattan" or "gcd"
# (partial matching), a distance matrix (dimension names: the labels of the
# first inner variable) or a function of the coordinates; one value or a list
# of one per term.
.mf_mv_dist <- function(dist) {
  if (is.null(dist)) return(list("euclidean", "euclidean"))
  if (is.data.frame(dist) || is.matrix(dist) || inherits(dist, "Matrix") || is.function(dist)) dist <- list(dist)
  if (!is.list(dist)) dist <- as.list(dist)
  if (length(dist) == 1L) dist <- c(dist, dist)
  if (length(dist) != 2L) .mf_stop("'dist' must be one value or a list of two (one per '~ inner | outer' term).")
  methods <- c("euclidean", "maximum", "manhattan", "gcd")
  for (j in 1:2) {
    d <- dist[[j]]
    if (is.data.frame(d) || inherits(d, "Matrix")) d <- as.matrix(d)
    if (is.function(d) || is.matrix(d)) { dist[[j]] <- d; next }
    m <- if (is.character(d) && length(d) == 1L && !is.na(d)) charmatch(d, methods, nomatch = 0L) else 0L
    if (m == 0L) .mf_stop("Argument 'dist' must be one of 'euclidean', 'maximum', 'manhattan', or 'gcd' (as metafor), or a distance matrix.")
    dist[[j]] <- methods[m]
  }
  dist
}

# Solver settings of rma.mv(): ours, plus metafor's optimiser tuning names
# (accepted, no effect: the fit uses Fisher scoring / quasi-Newton).
.mf_mv_control <- function(control, L) {
  con <- list(threshold = 1e-10, maxiter = 1000L, stepadj = 1, sigma2.init = rep(NA_real_, L))
  if (is.null(control)) return(con)
  if (!is.list(control)) .mf_stop("'control' must be a list.")
  ignored <- c("optimizer", "optmethod", "rel.tol", "abs.tol", "x.tol", "xf.tol", "iter.max", "eval.max",
               "reltol", "abstol", "maxit", "parscale", "ndeps", "hessianCtrl", "hesspack", "evtol", "check.k.gtr.1",
               "nearpd", "cholesky", "optimizer.control", "sing.tol", "ftol_rel", "xtol_rel", "algorithm")
  inits <- c("tau2.init", "rho.init", "gamma2.init", "phi.init")
  unknown <- setdiff(names(control), c(names(con), ignored, "REMLf", inits))
  if (length(unknown)) .mf_stop(sprintf("Unknown 'control' element(s) for rma.mv(): %s.", paste(unknown, collapse = ", ")))
  if (!is.null(control$REMLf) && !isTRUE(control$REMLf))
    .mf_stop("control$REMLf = FALSE is not supported by metafast's rma.mv() yet (issue 12).")
  for (nm in c("threshold", "maxiter", "stepadj")) {
    val <- control[[nm]]
    if (is.null(val)) next
    if (!is.numeric(val) || length(val) != 1L || !is.finite(val) || val <= 0)
      .mf_stop(sprintf("'control$%s' must be a single positive number.", nm))
    con[[nm]] <- val
  }
  con$maxiter <- as.integer(min(con$maxiter, .Machine$integer.max))
  # metafor's starting values of the '~ inner | outer' terms (variances,
  # correlations or spatial ranges; checked against each term's components
  # by .mf_mv_user_start())
  for (nm in inits) {
    val <- control[[nm]]
    if (is.null(val)) next
    if (!is.numeric(val) || !length(val) || any(!is.finite(val)))
      .mf_stop(sprintf("'control$%s' must hold finite numbers (no missing values, as metafor).", nm))
    con[[nm]] <- as.double(val)
  }
  if (!is.null(control$sigma2.init)) {
    s <- as.double(control$sigma2.init)
    if (length(s) == 1L) s <- rep(s, L)
    if (length(s) != L || any(!is.finite(s)) || any(s < 0))
      .mf_stop(sprintf("'control$sigma2.init' must hold %d non-negative finite value%s.", L, if (L > 1L) "s" else ""))
    con$sigma2.init <- s
  }
  con
}

# The start of the '~ inner | outer' terms from metafor's control$tau2.init,
# rho.init (first term), gamma2.init, phi.init (second term), given as
# metafor takes them (metafor 5.2.1 rma.mv(): one value recycled or one per
# component; variances > 0; correlations in (-1, 1), (0, 1) for CAR; a
# spatial range > 0, set by .mf_mv_gen_sp_term()).  When any of them or
# sigma2.init is given, a correlation without a given start starts at 0.5,
# metafor's default (else at the middle of its box); a variance without one
# at the default share.  A term fitted on the Cholesky scale (UN, GEN) starts at
# the Cholesky factor of the matrix of those variances and correlations, as
# metafor's does (the fixed values overwrite L L' in the fit, as in
# metafor's).  start: theta's start so far (NA: the default); s0: the
# default variance of a Cholesky-scale term.
.mf_mv_user_start <- function(gts, con, start, s0) {
  # (metafor's .expand1() and length check; a term without correlations
  # (ID, DIAG) still takes one value, as metafor's rhos is 1 there)
  expand <- function(x, n, what, arg) {
    if (is.null(x)) return(NULL)
    if (length(x) == 1L) x <- rep(x, max(n, 1L))
    if (length(x) != max(n, 1L))
      .mf_stop(sprintf("Length of the 'control$%s' argument (%d) does not match the actual number of %s (%d) (as metafor).",
                       arg, length(x), what, max(n, 1L)))
    x[seq_len(n)]
  }
  given <- c("tau2.init", "rho.init", "gamma2.init", "phi.init")
  if (!length(gts) || (all(vapply(given, function(nm) is.null(con[[nm]]), NA)) && all(is.na(con$sigma2.init))))
    return(start)
  for (t in seq_along(gts)) {
    g <- gts[[t]]
    nm <- given[2L * t - 1:0]
    spatial <- g$type >= 12L
    n_r <- if (spatial) 0L else g$n_r
    v <- expand(con[[nm[1L]]], g$n_v, "variance components", nm[1L])
    r <- if (spatial) NULL else expand(con[[nm[2L]]], n_r, "correlations", nm[2L])
    if (any(v <= 0)) .mf_stop(sprintf("Value(s) of 'control$%s' must be > 0 (as metafor).", nm[1L]))
    lim <- if (g$struct == "CAR") c(0, 1) else c(-1, 1)
    if (any(r <= lim[1L] | r >= lim[2L]))
      .mf_stop(sprintf("Value(s) of 'control$%s' must be in (%g, %g) (as metafor).", nm[2L], lim[1L], lim[2L]))
    if (!spatial && is.null(r)) r <- rep(0.5, n_r)
    iv <- g$off + seq_len(g$n_v)
    ir <- g$off + g$n_v + seq_len(n_r)
    if (g$chol || isTRUE(g$cholfix)) {
      E <- .mf_mv_un_matrix(list(struct = "UN", n_lev = g$n_lev, off = 0L, n_v = g$n_v, n_r = n_r),
                            c(if (is.null(v)) rep(s0, g$n_v) else v, r))
      Lm <- tryCatch(t(chol(E)), error = function(e)
        .mf_stop(sprintf("Cannot take the Cholesky decomposition of the initial %s matrix from 'control' (%s, %s) (as metafor).",
                         if (t == 1L) "'G'" else "'H'", nm[1L], nm[2L])))
      start[c(iv, ir)] <- c(diag(Lm), Lm[lower.tri(Lm)])
    } else {
      if (!is.null(v)) start[iv] <- v
      start[ir] <- r
    }
  }
  start
}

# Denominator degrees of freedom of the t and F tests: k - p ("residual"),
# given numbers, or the containment rule ("contain"): a coefficient whose
# column is constant within every level of a random factor gets that
# factor's number of levels (the smallest such), else k; minus p; at least 1
# (metafor's rule for rma.mv).
.mf_mv_ddf <- function(dfs, X, k, p, codes, s.nlevels) {
  if (is.numeric(dfs)) {
    ddf <- if (length(dfs) == 1L) rep(dfs, p) else dfs
    if (length(ddf) != p) .mf_stop(sprintf("'dfs' has length %d but the model has %d coefficients.", length(dfs), p))
  } else if (dfs == "residual") {
    ddf <- rep(k - p, p)
  } else {
    ddf <- rep(k, p)
    for (j in seq_len(p)) {
      xj <- match(X[, j], unique(X[, j]))
      nx <- max(xj)
      for (l in seq_along(codes)) {
        pairs <- length(unique((codes[[l]] - 1) * nx + xj))
        if (pairs == s.nlevels[l]) ddf[j] <- min(ddf[j], s.nlevels[l])
      }
    }
    ddf <- ddf - p
  }
  ddf[ddf < 1] <- 1
  ddf
}

# The methods of a fit whose spec refuses them (user weights W; the C++
# MvModel stops with the same message) stop before any refit, whose errors
# the profile and case-deletion loops would otherwise record as failures.
.mf_mv_refuse <- function(x) {
  msg <- x$mf.spec$refuse
  if (!is.null(msg)) .mf_stop(msg)
  invisible(NULL)
}

# Rscale as metafor normalises it: "none", "cor", "cor0" or "cov0" (also
# TRUE/FALSE and 0..3).
.mf_mv_Rscale <- function(Rscale) {
  opts <- c("none", "cor", "cor0", "cov0")
  if (is.logical(Rscale) && length(Rscale) == 1L && !is.na(Rscale)) return(if (Rscale) "cor" else "none")
  if (is.numeric(Rscale) && length(Rscale) == 1L && !is.na(Rscale)) {
    r <- round(Rscale)
    if (r < 0 || r > 3) .mf_stop("Unknown 'Rscale' value specified (use \"cor\", \"cor0\", \"cov0\" or FALSE).")
    return(opts[r + 1L])
  }
  if (!is.character(Rscale) || length(Rscale) < 1L || is.na(Rscale[1L]))
    .mf_stop("'Rscale' must be \"cor\", \"cor0\", \"cov0\" or FALSE.")
  m <- pmatch(Rscale[1L], opts)
  if (is.na(m)) .mf_stop(sprintf("Unknown 'Rscale' value \"%s\" (use \"cor\", \"cor0\", \"cov0\" or FALSE).", Rscale[1L]))
  opts[m]
}

# The known correlation matrices (metafor's R): a named list whose names are
# those of the random factors (s.names); each matrix square, symmetric, with
# dimension names holding every level of its factor, no NA.  Returns one
# entry per factor: R[levels, levels] (rows/columns in the order of the
# factor's integer codes) rescaled by Rscale, or NULL; or NULL (with
# metafor's warning) when no name matches.  Each matrix must be positive
# semi-definite (else sigma2 R is no covariance); attribute "pd" of the list:
# per factor, whether its matrix is positive definite (the sparse engine
# needs R^-1).
.mf_mv_R <- function(R, s.names, levels, Rscale) {
  if (is.data.frame(R) || !is.list(R)) R <- list(R)
  if (is.null(names(R)) || any(!nzchar(names(R)))) .mf_stop("Argument 'R' must be a *named* list (as metafor).")
  R <- R[!vapply(R, is.null, TRUE)]
  R <- R[names(R) %in% s.names]
  if (!length(R)) {
    warning("Argument 'R' specified, but list name(s) not in 'random' (as metafor).", call. = FALSE)
    return(NULL)
  }
  out <- vector("list", length(s.names))
  pd <- rep(TRUE, length(s.names))
  for (j in seq_along(s.names)) {
    nm <- s.names[j]
    if (!nm %in% names(R)) next
    x <- R[[nm]]
    if (inherits(x, "Matrix")) x <- as.matrix(x)
    x <- as.matrix(x)
    if (nrow(x) != ncol(x)) .mf_stop(sprintf("'R': the matrix for '%s' is not a square matrix.", nm))
    if (!is.numeric(x) && !all(is.na(x))) .mf_stop(sprintf("'R': the matrix for '%s' is not numeric.", nm))
    if (!isSymmetric(unname(x))) .mf_stop(sprintf("'R': the matrix for '%s' is not symmetric.", nm))
    x <- (x + t(x)) / 2
    if (is.null(rownames(x))) rownames(x) <- colnames(x)
    if (is.null(colnames(x))) colnames(x) <- rownames(x)
    if (is.null(colnames(x))) .mf_stop(sprintf("'R': the matrix for '%s' must have dimension names (the levels of '%s').", nm, nm))
    x <- x[!duplicated(rownames(x)), !duplicated(colnames(x)), drop = FALSE]
    if (anyDuplicated(colnames(x)) || nrow(x) != ncol(x))
      .mf_stop(sprintf("'R': the matrix for '%s' must have unique dimension names.", nm))
    if (anyNA(x)) .mf_stop(sprintf("'R': the matrix for '%s' has missing values; no NAs are allowed in 'R'.", nm))
    lev <- .mf_mv_labels(levels[[j]])
    miss <- setdiff(lev, colnames(x))
    if (length(miss))
      .mf_stop(sprintf("There are levels in '%s' for which there are no matching rows/columns in the corresponding 'R' matrix: %s%s.",
                       nm, paste0("'", utils::head(miss, 5L), "'", collapse = ", "), if (length(miss) > 5L) ", ..." else ""))
    if (any(!colnames(x) %in% lev))
      warning(sprintf("There are rows/columns in the 'R' matrix for '%s' for which there are no data (as metafor).", nm),
              call. = FALSE)
    x <- x[lev, lev, drop = FALSE]
    if (Rscale %in% c("cor", "cor0")) {
      if (any(diag(x) <= 0))
        .mf_stop(sprintf("Cannot use Rscale = \"cor\" or \"cor0\" with non-positive values on the diagonal of the 'R' matrix for '%s'.", nm))
      x <- stats::cov2cor(x)
      if (any(abs(x) > 1))
        warning("Some values are larger than +-1 in an 'R' matrix after cov2cor() (see 'Rscale' argument).", call. = FALSE)
    }
    if (Rscale == "cor0") x <- (x - min(x)) / (1 - min(x))
    if (Rscale == "cov0") x <- x - min(x)
    ev <- eigen(x, symmetric = TRUE, only.values = TRUE)$values
    if (min(ev) < -1e-8 * max(1, abs(ev)))
      .mf_stop(sprintf("'R': the matrix for '%s' is not positive semi-definite (smallest eigenvalue %.3g).", nm, min(ev)))
    dimnames(x) <- list(lev, lev)
    out[[j]] <- x
    pd[j] <- min(ev) > .mf_mv_R_pd_tol * max(ev)
  }
  attr(out, "pd") <- pd
  out
}
# An R whose smallest eigenvalue is at most this share of its largest counts
# as singular: the sparse engine (which needs R^-1) does not take it.
.mf_mv_R_pd_tol <- 1e-10

# Pairs of rows (positions) that a known correlation matrix links: one row of
# each of two levels with a non-zero R entry, so that the union-find puts
# both levels' rows in one block.
.mf_mv_R_links <- function(Rl, codes) {
  i <- integer(0); j <- integer(0)
  for (l in seq_along(Rl)) {
    x <- Rl[[l]]
    if (is.null(x)) next
    nz <- which(x != 0 & upper.tri(x), arr.ind = TRUE)
    if (!nrow(nz)) next
    first <- match(seq_len(nrow(x)), codes[[l]])
    i <- c(i, first[nz[, 1L]]); j <- c(j, first[nz[, 2L]])
  }
  list(i = i, j = j)
}

# User weights (metafor's W): a vector (diagonal weights; length 1 is
# recycled) or a symmetric k x k matrix (base, data frame or Matrix), as
# metafor's rma.mv() accepts (not a list of blocks).  Returned as a sparse
# matrix (dgCMatrix: vector weights as the diagonal, a matrix with at most
# half of its entries non-zero, e.g. block-diagonal, by its non-zero
# entries), or a mostly non-zero matrix as the dense matrix; never a dense
# k x k matrix made from a vector.
.mf_mv_W <- function(W, k.all) {
  if (is.list(W) && !is.data.frame(W))
    .mf_stop("'W' must be a vector or a symmetric matrix (a list of blocks is not accepted, as in metafor's rma.mv(); combine the blocks with bldiag()).")
  if (is.data.frame(W)) W <- as.matrix(W)
  if (inherits(W, "Matrix")) {
    if (nrow(W) == 1L || ncol(W) == 1L) {
      W <- as.vector(as.matrix(W))
    } else {
      if (nrow(W) != ncol(W)) .mf_stop("'W' must be a square matrix.")
      if (!Matrix::isSymmetric(W)) .mf_stop("'W' must be a symmetric matrix.")
      if (nrow(W) != k.all) .mf_stop(sprintf("'W' is a %d x %d matrix but 'yi' has length %d.", nrow(W), ncol(W), k.all))
      # (methods: used only with a Matrix W, so Suggests, declared for R CMD check)
      A <- methods::as(methods::as(methods::as(W, "dMatrix"), "generalMatrix"), "CsparseMatrix")
      A@Dimnames <- list(NULL, NULL)
      if (any(is.infinite(A@x))) .mf_stop("'W' must be finite.")
      return(A)
    }
  }
  if (is.null(dim(W)) || nrow(W) == 1L || ncol(W) == 1L) {
    w <- as.vector(W)
    if (!is.numeric(w) && !all(is.na(w))) .mf_stop("'W' must be numeric.")
    if (length(w) == 1L) w <- rep(w, k.all)
    if (length(w) != k.all) .mf_stop(sprintf("'W' has length %d but 'yi' has length %d.", length(w), k.all))
    if (any(is.infinite(w))) .mf_stop("'W' must be finite.")
    return(Matrix::sparseMatrix(i = seq_len(k.all), j = seq_len(k.all), x = as.double(w), dims = c(k.all, k.all)))
  }
  A <- unname(W)
  if (nrow(A) != ncol(A)) .mf_stop("'W' must be a square matrix.")
  if (!is.numeric(A) && !all(is.na(A))) .mf_stop("'W' must be numeric.")
  if (!isSymmetric(A)) .mf_stop("'W' must be a symmetric matrix.")
  if (nrow(A) != k.all) .mf_stop(sprintf("'W' is a %d x %d matrix but 'yi' has length %d.", nrow(A), ncol(A), k.all))
  storage.mode(A) <- "double"
  if (any(is.infinite(A))) .mf_stop("'W' must be finite.")
  nz <- sum(A != 0 | is.na(A))
  if (nz > length(A) / 2) return(A)
  ij <- which(A != 0 | is.na(A), arr.ind = TRUE)
  Matrix::sparseMatrix(i = ij[, 1L], j = ij[, 2L], x = A[ij], dims = dim(A))
}

# The rows of A with a missing entry.
.mf_mv_W_narows <- function(A) {
  if (!inherits(A, "Matrix")) return(rowSums(is.na(A)) > 0)
  tr <- Matrix::summary(A)
  seq_len(nrow(A)) %in% tr$i[is.na(tr$x)]
}

# The fixed effects under user weights A (metafor's rma.mv with W):
# b = (X'AX)^-1 X'A y, vb = (X'AX)^-1 X'A M A X (X'AX)^-1 with M the marginal
# covariance at the estimates, and the drop of both log-likelihoods from the
# GLS estimate bG: (y - Xb)'M^-1(y - Xb) = RSS(bG) + (b - bG)' vb(bG)^-1 (b - bG).
# X'A M A X = sum over the engine's blocks of (AX)_b' M_b (AX)_b: M is
# block-diagonal, read block by block from C++, never formed k x k.
# The user's weights A of a fit (metafor's W; the fit's rows), held as
# $mf.W: a sparse matrix (vector weights: its diagonal; a matrix that is
# mostly zero, e.g. block-diagonal: its non-zero entries, i.e. block-wise) or,
# for a mostly non-zero matrix, the user's dense matrix.  $W gives metafor's
# dense k x k matrix, built on access (.mf_mv_A(): only $W and
# weights(type = "matrix") call it; every method works on .mf_mv_Wc()).
.mf_mv_hasW <- function(x) !is.null(.subset2(x, "mf.W"))
.mf_mv_Wc <- function(x) .subset2(x, "mf.W")
.mf_mv_A <- function(x) {
  A <- .subset2(x, "mf.W")
  if (is.null(A)) return(NULL)
  e <- .subset2(x, "mf.W.e")
  .mf_times_pow2(as.matrix(A), if (is.null(e)) 0L else -e)
}
# x * 2^e, exact (two factors, so that |e| up to 2098 neither overflows nor
# underflows the factor itself).
.mf_times_pow2 <- function(x, e) {
  if (e == 0) return(x)
  e1 <- e %/% 2L
  x * 2^e1 * 2^(e - e1)
}
# User weights enter the fit homogeneously: b = (X'AX)^-1 X'Ay, the sandwich
# (X'AX)^-1 X'AMAX (X'AX)^-1, the hat matrix and weights() are unchanged by
# A -> c A.  So A is held times the exact power of two 2^e that brings its
# largest |entry| into [0.5, 1) (weights near 1e-200 or 1e200 would under- or
# overflow X'AMAX); e is kept (the fit's $mf.W.e) to give the user's W back
# (issue 18 item 3, as rma()'s weights).  Returns list(A, e).
.mf_mv_W_pow2 <- function(A) {
  v <- if (inherits(A, "Matrix")) A@x else A
  m <- suppressWarnings(max(abs(v), na.rm = TRUE))
  e <- if (is.finite(m) && m > 0) -(as.integer(floor(log2(m))) + 1L) else 0L
  # (log2() of a value just below a power of two may round up: the check
  # keeps the largest entry below 1)
  if (e != 0L && .mf_times_pow2(m, e) >= 1) e <- e - 1L
  if (e != 0L) {
    if (inherits(A, "Matrix")) A@x <- .mf_times_pow2(A@x, e) else A <- .mf_times_pow2(A, e)
  }
  list(A = A, e = e)
}
# X'A as a dense p x k matrix for A dense or sparse.
.mf_mv_XtA <- function(X, A) as.matrix(Matrix::crossprod(X, A))
# The (row, column) positions of the non-zero entries of A (dense or sparse),
# without forming a dense k x k matrix from a sparse one.
.mf_mv_W_nz <- function(A) {
  if (!inherits(A, "Matrix")) return(which(A != 0, arr.ind = TRUE))
  tr <- Matrix::summary(A)
  keep <- which(tr$x != 0)
  cbind(tr$i[keep], tr$j[keep])
}
# The blocks A[i, i] of A (dense or sparse) for a list of row sets,
# concatenated column by column (only the blocks are made dense).
.mf_mv_W_blocks <- function(A, sets)
  unlist(lapply(sets, function(i) as.vector(as.matrix(A[i, i, drop = FALSE]))), use.names = FALSE)

#
# wald: the orthonormal coordinates of the fit without A (its mf.wald, R/wald.R;
# NULL: none).  Given them, b and the sandwich are computed on X~ = X T (the
# transform of spec$X, rows in block order, as fit_block_model() made them)
# and mapped back, beta = T b~, vb = T vb~ T'; mf.wald then holds b~, vb~ for
# exact Wald statistics, and dll is formed from b~ and the coordinates of bG.
.mf_mv_wfit <- function(A, X, y, spec, theta, bG, vbG, wald = NULL) {
  tr <- if (!is.null(wald)) .mf_design_transform(spec$X)
  if (!is.null(tr)) {
    Xt <- matrix(0, nrow(X), ncol(X))
    Xt[spec$order, ] <- tr$Xt
    wb <- .mf_mv_wfit(A, Xt, y, spec, theta, c(wald$b), wald$vb)
    b.t <- c(wb$beta)
    vb.t <- wb$vb
    wb$beta <- c(tr$T %*% b.t)
    wb$vb <- tr$T %*% vb.t %*% t(tr$T)
    wb$mf.wald <- list(b = b.t, vb = vb.t, RPt = wald$RPt, D = wald$D)
    return(wb)
  }
  XA <- .mf_mv_XtA(X, A)
  XAX <- XA %*% X
  ch <- tryCatch(chol(XAX), error = function(e) NULL)
  if (is.null(ch)) .mf_stop("'W': X'WX is not positive definite; the fixed effects cannot be estimated with these weights.")
  stXAX <- chol2inv(ch)
  b <- c(stXAX %*% (XA %*% y))
  o <- spec$order
  AX <- t(XA)[o, , drop = FALSE]  # (A symmetric: A X = (X'A)'), rows in the engine's order
  off <- spec$offsets
  Mb <- .mf_robust_mv_blocks(spec, theta, seq_along(o) - 1L, off)$Theta
  meat <- matrix(0, ncol(X), ncol(X))
  at <- 0
  for (bk in seq_len(length(off) - 1L)) {
    i <- seq.int(off[bk] + 1L, off[bk + 1L])
    n <- length(i)
    Mk <- matrix(Mb[at + seq_len(n * n)], n, n)
    at <- at + n * n
    Z <- AX[i, , drop = FALSE]
    meat <- meat + crossprod(Z, Mk %*% Z)
  }
  vb <- stXAX %*% meat %*% stXAX
  vb <- (vb + t(vb)) / 2
  d <- b - bG
  # (vbG equilibrated to unit diagonal first: an offset moderator makes it
  # nearly singular in solve()'s sense while its correlations are not)
  sg <- 1 / sqrt(diag(vbG))
  ds <- d * sg
  list(beta = b, vb = vb, dll = 0.5 * sum(ds * qr.solve(vbG * tcrossprod(sg), ds, tol = 1e-14)))
}
