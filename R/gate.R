# The input gate: every argument of a model fit passes through .mf_gate()
# once; it validates, normalises and builds exactly what the C++ core needs.
# The core trusts what it gets.

# The estimators and tests, their codes and what each can do: the core's
# tables (src/core/estimators.hpp), read once per session.
.mf_cache <- new.env(parent = emptyenv())
.mf_estimators <- function() {
  tab <- .mf_cache$estimators
  if (is.null(tab)) tab <- .mf_cache$estimators <- .mf_estimator_table()
  tab
}
.mf_tests <- function() {
  tab <- .mf_cache$tests
  if (is.null(tab)) tab <- .mf_cache$tests <- .mf_test_table()
  tab
}

# The core's codes of estimators (named by the estimators) and of a test,
# from named vectors kept beside the tables (a lookup costs what indexing a
# vector does: rma() runs it on every fit).
.mf_method_code <- function(method) {
  codes <- .mf_cache$method_codes
  if (is.null(codes)) {
    tab <- .mf_estimators()
    codes <- .mf_cache$method_codes <- stats::setNames(tab$code, tab$name)
  }
  codes[method]
}
.mf_test_code <- function(test) {
  codes <- .mf_cache$test_codes
  if (is.null(codes)) {
    tab <- .mf_tests()
    codes <- .mf_cache$test_codes <- stats::setNames(tab$code, tab$name)
  }
  codes[[test]]
}

# A property (a column of the table: "random", "iterative", "likelihood",
# "restricted", "warm_start", "has_se", "user_weights") of each estimator in method.
.mf_estimator_has <- function(method, what) {
  tab <- .mf_estimators()
  tab[[what]][match(method, tab$name)]
}

# Does the test use t / F reference distributions (test = "t" or "knha")?
.mf_tdist <- function(test) {
  # (a named vector kept beside the table: anova() and predict() ask on every call)
  td <- .mf_cache$tdist
  if (is.null(td)) {
    tab <- .mf_tests()
    td <- .mf_cache$tdist <- stats::setNames(tab$tdist, tab$name)
  }
  unname(td[test])
}

# "rows 3, 7 and 9" (at most 10 listed)
.mf_rows <- function(i) {
  i <- which(i)
  more <- if (length(i) > 10) sprintf(" (and %d more)", length(i) - 10) else ""
  paste0(if (length(i) == 1) "row " else "rows ", paste(utils::head(i, 10), collapse = ", "), more)
}

.mf_stop <- function(...) stop(..., call. = FALSE)

# Strip attributes (SPSS/Stata labels, units, AsIs, ...) from a numeric input.
.mf_numeric <- function(x, arg, allow_null = FALSE) {
  # the usual case, a plain numeric vector: copied (c() allocates), so that a fit never shares
  # memory with the caller's column, which data.table's set() / := could change in place
  if (is.double(x) && is.null(attributes(x))) return(c(x))
  if (is.null(x)) {
    if (allow_null) return(NULL)
    .mf_stop(sprintf("'%s' is missing.", arg))
  }
  if (is.data.frame(x)) {
    if (ncol(x) != 1L) .mf_stop(sprintf("'%s' must be a numeric vector, not a data frame with %d columns.", arg, ncol(x)))
    x <- x[[1L]]
  }
  if (is.factor(x) || is.character(x) || is.list(x) || is.complex(x))
    .mf_stop(sprintf("'%s' must be numeric, not %s.", arg, class(x)[1L]))
  if (is.logical(x) && !all(is.na(x)))
    .mf_stop(sprintf("'%s' must be numeric, not logical.", arg))
  if (!is.numeric(x) && !is.logical(x))
    .mf_stop(sprintf("'%s' must be numeric, not %s.", arg, class(x)[1L]))
  if (!is.null(dim(x)) && length(dim(x)) == 2L && min(dim(x)) > 1L)
    .mf_stop(sprintf("'%s' must be a vector, not a matrix.", arg))
  as.double(as.vector(unclass(x)))
}

# The level argument, read as metafor reads it; returns alpha (1 - coverage). Values from 1 to
# 100 are percentages (95), values in (0.5, 1) coverage proportions (0.95), values in (0, 0.5]
# the alpha itself (0.05); 0 is a zero-width interval. So 95, 0.95 and 0.05 all mean 95%.
.mf_level <- function(level) {
  if (!is.numeric(level) || length(level) != 1L || !is.finite(level) || level < 0 || level >= 100)
    .mf_stop("'level' must be a single number in [0, 100), e.g. 95 (or 0.95, or 0.05 for alpha).")
  if (level == 0) 1 else if (level >= 1) (100 - level) / 100 else if (level > 0.5) 1 - level else level
}

# Is the estimator an equal-effects one (EE, or metafor's aliases FE and CE)?
.mf_is_ee <- function(method) !isTRUE(.mf_estimator_has(method, "random"))

.mf_method <- function(method) {
  if (identical(method, "REML")) return(method)  # the default, without the checks below
  if (!is.character(method) || length(method) < 1L || anyNA(method))
    .mf_stop("'method' must be a character vector of estimator names.")
  tab <- .mf_estimators()
  i <- match(method, tab$name)
  if (anyNA(i))
    .mf_stop(sprintf("Unknown 'method' %s; use one of %s.",
                     paste0("'", method[is.na(i)], "'", collapse = ", "),
                     paste(tab$name, collapse = ", ")))
  tab$canonical[i]
}

.mf_test <- function(test) {
  if (identical(test, "z")) return(test)
  names <- .mf_tests()$name
  if (!is.character(test) || length(test) != 1L || !test %in% names)
    .mf_stop(sprintf("'test' must be one of %s.", paste0("'", names, "'", collapse = ", ")))
  test
}

# Solver controls: metafor's names; tighter defaults (converge tightly).
.mf_control_defaults <- list(threshold = 1e-10, maxiter = 1000L, stepadj = 1, tau2.init = NA_real_,
                             tau2.max = NA_real_, tau2.min = 0, tol = 1e-12, fix.tau2 = FALSE)
.mf_control <- function(control, yi, vi) {
  con <- .mf_control_defaults
  if (!is.null(control)) {
    if (!is.list(control)) .mf_stop("'control' must be a list.")
    if (length(control) && (is.null(names(control)) || any(!nzchar(names(control)))))
      .mf_stop("Every element of 'control' must be named (e.g. control = list(maxiter = 500)).")
    unknown <- setdiff(names(control), c(names(con), "evtol", "REMLf", "ll0check", "verbose"))
    if (length(unknown))
      .mf_stop(sprintf("Unknown 'control' element(s): %s.", paste(unknown, collapse = ", ")))
    for (nm in intersect(names(control), names(con))) {
      val <- control[[nm]]
      if (is.null(val)) next
      if (!is.numeric(val) || length(val) != 1L || is.na(val) || !is.finite(val) && nm != "tau2.max")
        .mf_stop(sprintf("'control$%s' must be a single finite number.", nm))
      con[[nm]] <- val
    }
  }
  if (!is.null(control)) {
    if (con$threshold <= 0) .mf_stop("'control$threshold' must be positive.")
    if (con$maxiter < 1) .mf_stop("'control$maxiter' must be at least 1.")
    if (con$stepadj <= 0) .mf_stop("'control$stepadj' must be positive.")
    if (!is.na(con$tau2.init) && con$tau2.init < 0) .mf_stop("'control$tau2.init' must be non-negative.")
    if (con$tol <= 0) .mf_stop("'control$tol' must be positive.")
    if (!is.na(con$tau2.max) && con$tau2.max <= 0) .mf_stop("'control$tau2.max' must be positive.")
    if (con$tau2.min < 0)
      .mf_stop("'control$tau2.min' must be non-negative (metafor's negative lower bounds of tau^2 are not supported).")
    if (!is.na(con$tau2.max) && con$tau2.min >= con$tau2.max)
      .mf_stop("'control$tau2.min' must be below 'control$tau2.max'.")
    con$maxiter <- as.integer(min(con$maxiter, .Machine$integer.max))
  }
  if (is.na(con$tau2.max)) {
    # upper end of the search bracket: far above any plausible tau2 (the
    # squared range of yi bounds their variance)
    # (min and max, not range(): range() copies its argument)
    s <- max(1, (max(yi, na.rm = TRUE) - min(yi, na.rm = TRUE))^2, max(vi, na.rm = TRUE), na.rm = TRUE)
    con$tau2.max <- 1e8 * s
  }
  con$fix.tau2 <- FALSE
  con
}

# Model matrix from mods (formula, vector, matrix or data frame).
.mf_design <- function(mods, data, k, intercept) {
  formula <- NULL
  if (is.null(mods)) {
    X <- matrix(1, nrow = k, ncol = 1L, dimnames = list(NULL, "intrcpt"))
    if (!intercept) .mf_stop("A model without moderators needs 'intercept = TRUE'.")
    return(list(X = X, formula = NULL, terms = NULL, xlevels = NULL))
  }
  if (inherits(mods, "formula")) {
    formula <- mods
    env <- environment(mods)
    mf <- tryCatch(stats::model.frame(mods, data = if (is.null(data)) env else data, na.action = stats::na.pass),
                   error = function(e) .mf_stop(sprintf("Cannot evaluate the moderators in 'mods' (%s): %s",
                                                        paste(deparse(mods), collapse = " "), conditionMessage(e))))
    if (nrow(mf) != k)
      .mf_stop(sprintf("'mods' gives %d rows but there are %d outcomes.", nrow(mf), k))
    tt <- attr(mf, "terms")
    # as in metafor, 'intercept' is ignored for a formula: write ~ x - 1 to drop it
    if (!intercept)
      warning("'intercept = FALSE' is ignored when 'mods' is a formula (as in metafor); use ~ ... - 1 to drop the intercept.",
              call. = FALSE)
    # A factor with a single level has no contrasts; say which one it is.
    one <- vapply(mf, function(col) (is.factor(col) || is.character(col) || is.logical(col)) &&
                    length(unique(col[!is.na(col)])) < 2L, NA)
    if (any(one))
      .mf_stop(sprintf("'mods': %s %s a single level; a factor needs at least 2 levels (drop it from the formula).",
                       paste0("'", names(mf)[one], "'", collapse = ", "), if (sum(one) == 1L) "has" else "have"))
    X <- tryCatch(stats::model.matrix(tt, mf),
                  error = function(e) .mf_stop(sprintf("'mods' cannot be turned into a model matrix: %s", conditionMessage(e))))
    xlev <- stats::.getXlevels(tt, mf)
    # model.matrix drops NA rows only with na.omit; keep all rows here
    colnames(X)[colnames(X) == "(Intercept)"] <- "intrcpt"
    attr(X, "assign") <- NULL
    attr(X, "contrasts") <- NULL
    return(list(X = X, formula = formula, terms = tt, xlevels = xlev))
  }
  if (is.data.frame(mods)) mods <- as.matrix(mods)
  if (is.factor(mods) || is.character(mods))
    .mf_stop("'mods' given as a vector must be numeric; use a formula (mods = ~ factor(x)) for factors.")
  if (!is.numeric(mods) && !is.logical(mods)) .mf_stop("'mods' must be a formula, a numeric vector or a matrix.")
  X <- as.matrix(mods)
  if (!is.double(X)) storage.mode(X) <- "double"  # (storage.mode<- copies even a double matrix)
  if (nrow(X) != k) .mf_stop(sprintf("'mods' has %d rows but there are %d outcomes.", nrow(X), k))
  if (is.null(colnames(X))) colnames(X) <- if (ncol(X) == 1L) "mods" else paste0("X", seq_len(ncol(X)))
  if (intercept) X <- cbind(intrcpt = 1, X)
  list(X = X, formula = NULL, terms = NULL, xlevels = NULL)
}

# The gate itself.  Inputs are already evaluated (rma() does the non-standard
# evaluation).  Returns a list with yi, vi, X, weights, method codes, test
# code, alpha, btt, control, omitted rows and the kept slab labels.
.mf_gate <- function(yi, vi = NULL, sei = NULL, weights = NULL, mods = NULL, data = NULL,
                     slab = NULL, subset = NULL, method = "REML", test = "z", level = 95,
                     btt = NULL, tau2 = NULL, intercept = TRUE, control = NULL,
                     weighted = TRUE, ni = NULL) {
  if (!is.null(data) && !is.data.frame(data)) .mf_stop("'data' must be a data frame.")
  yi <- .mf_numeric(yi, "yi")
  k.all <- length(yi)
  if (k.all == 0L) .mf_stop("'yi' has length 0: there are no outcomes to analyse.")
  if (is.null(vi) && is.null(sei)) .mf_stop("Specify the sampling variances with 'vi' or the standard errors with 'sei'.")
  # a single vi, sei or weight is recycled to all studies (as metafor)
  if (!is.null(vi)) {
    vi <- .mf_numeric(vi, "vi")
    if (length(vi) == 1L && k.all > 1L) vi <- rep(vi, k.all)
    if (length(vi) != k.all)
      .mf_stop(sprintf("'vi' has length %d but 'yi' has length %d.", length(vi), k.all))
  } else {
    sei <- .mf_numeric(sei, "sei")
    if (length(sei) == 1L && k.all > 1L) sei <- rep(sei, k.all)
    if (length(sei) != k.all)
      .mf_stop(sprintf("'sei' has length %d but 'yi' has length %d.", length(sei), k.all))
    bad <- !is.na(sei) & sei < 0
    if (any(bad)) .mf_stop(sprintf("'sei' must be non-negative; negative in %s.", .mf_rows(bad)))
    vi <- sei^2
  }
  if (!is.null(weights)) {
    weights <- .mf_numeric(weights, "weights")
    if (length(weights) == 1L && k.all > 1L) weights <- rep(weights, k.all)
    if (length(weights) != k.all)
      .mf_stop(sprintf("'weights' has length %d but 'yi' has length %d.", length(weights), k.all))
  }
  if (!(is.logical(weighted) && length(weighted) == 1L && !is.na(weighted)))
    .mf_stop("'weighted' must be TRUE or FALSE.")
  # sample sizes: kept only when there is one per study (metafor drops them otherwise)
  if (!is.null(ni)) {
    ni <- .mf_numeric(ni, "ni")
    if (length(ni) != k.all) ni <- NULL
  }
  test <- .mf_test(test)
  alpha <- .mf_level(level)
  if (!is.logical(intercept) || length(intercept) != 1L || is.na(intercept))
    .mf_stop("'intercept' must be TRUE or FALSE.")

  design <- .mf_design(mods, data, k.all, intercept)
  X <- design$X

  slab.null <- is.null(slab)
  if (slab.null) {
    slab <- seq_len(k.all)
  } else {
    if (length(slab) != k.all) .mf_stop(sprintf("'slab' has length %d but 'yi' has length %d.", length(slab), k.all))
    slab <- as.vector(unclass(slab))
    if (anyNA(slab)) .mf_stop(sprintf("'slab' has missing labels in %s.", .mf_rows(is.na(slab))))
    slab.null <- is.numeric(slab) && identical(as.numeric(slab), as.numeric(seq_len(k.all)))
  }

  keep <- if (is.null(subset)) rep(TRUE, k.all) else .mf_subset_keep(subset, k.all)
  # duplicated labels of the selected studies are made unique, as metafor ("a.1", "a.2")
  if (!slab.null && anyDuplicated(slab[keep]))
    slab[keep] <- .esc_unique_labels(as.character(slab[keep]))

  # Infinite values are errors; NA rows are omitted with a warning (na.omit).
  # (a finite sum proves a vector or matrix holds no NA, NaN or Inf: the
  # row-wise checks run only when it does not, which matters at large k)
  for (nm in c("yi", "vi", "weights")) {
    x <- switch(nm, yi = yi, vi = vi, weights = weights)
    if (is.null(x) || is.finite(sum(x))) next
    bad <- keep & !is.na(x) & is.infinite(x)
    if (any(bad)) .mf_stop(sprintf("'%s' must be finite; infinite in %s.", nm, .mf_rows(bad)))
  }
  X_finite <- is.finite(sum(X))
  if (!X_finite) {
    badX <- keep & rowSums(is.infinite(X)) > 0
    if (any(badX)) .mf_stop(sprintf("'mods' must be finite; infinite in %s.", .mf_rows(badX)))
  }
  # Rows with missing values: getOption("na.action") as in metafor (na.omit,
  # na.exclude and na.pass leave them out of the fit, na.fail stops).
  na.act <- getOption("na.action")
  if (!(is.character(na.act) && length(na.act) == 1L &&
        (na.act == "na.omit" || na.act %in% c("na.exclude", "na.fail", "na.pass"))))
    .mf_stop("Unknown 'na.action' set with options(): use \"na.omit\", \"na.exclude\", \"na.fail\" or \"na.pass\" (as metafor).")
  if (X_finite && !anyNA(yi) && !anyNA(vi) && !anyNA(weights)) {
    has_na <- logical(k.all)  # the common case, without the vector operations below
    use <- keep
  } else {
    has_na <- is.na(yi) | is.na(vi) | (if (is.null(weights)) FALSE else is.na(weights))
    if (!X_finite) has_na <- has_na | unname(rowSums(is.na(X)) > 0)
    omitted <- keep & has_na
    if (any(omitted)) {
      if (na.act == "na.fail")
        .mf_stop(sprintf("Missing values in the data (%s) and options(na.action = \"na.fail\").", .mf_rows(omitted)))
      warning(sprintf("%s with missing values omitted from the model fitting (%s).",
                      sum(omitted), .mf_rows(omitted)), call. = FALSE)
    }
    use <- keep & !has_na
    if (!any(use)) .mf_stop("No outcomes remain after removing rows with missing values.")
  }

  method.given <- method
  method <- .mf_method(method)
  # GENQ and GENQM estimate tau2 with the user's weights (metafor stops too)
  if (is.null(weights) && isTRUE(.mf_estimator_has(method[1L], "user_weights")))
    .mf_stop(sprintf("method = \"%s\" needs the 'weights' argument (the weights of its generalised Q statistic).",
                     method[1L]))
  allvipos <- all(vi[use] > 0)
  if (!allvipos) {
    bad <- use & vi < 0
    if (any(bad)) .mf_stop(sprintf("'vi' must be non-negative; negative sampling variances in %s.", .mf_rows(bad)))
    # zero sampling variances: as metafor, only where no inverse-variance
    # weight 1 / vi is needed, i.e. the equal-effects model estimated without
    # them (weighted = FALSE or user weights), without Knapp-Hartung's
    # inverse-variance residual variance.  (metafor also fits some
    # random-effects estimators with them; rma() refuses those.)
    if (!(all(vapply(method, .mf_is_ee, TRUE)) && (!weighted || !is.null(weights)) && test != "knha"))
      .mf_stop(sprintf("'vi' must be positive; zero sampling variances in %s (the inverse-variance weights would be infinite; zero variances are accepted only with method = \"EE\" and weighted = FALSE or user 'weights').",
                       .mf_rows(use & vi == 0)))
    if (!all(vi == 0, na.rm = TRUE))
      warning("There are outcomes with non-positive sampling variances.", call. = FALSE)
  }
  if (!is.null(weights) && !all(weights[use] > 0))
    .mf_stop(sprintf("'weights' must be positive; non-positive in %s.", .mf_rows(use & weights <= 0)))
  if (all(use)) {  # the common case: no copies of long vectors
    rows <- seq_len(k.all)
    yi.f <- yi; vi.f <- vi; X.f <- X
    w.f <- if (is.null(weights)) numeric(0) else weights
  } else {
    rows <- which(use)
    yi.f <- yi[rows]; vi.f <- vi[rows]
    X.f <- X[rows, , drop = FALSE]
    w.f <- if (is.null(weights)) numeric(0) else weights[rows]
  }
  k <- length(rows)
  # weighted = FALSE: ordinary least squares, which is the user-weight fit
  # with unit weights in metafor's formulas (its sandwich covariance, its
  # Knapp-Hartung factor from the inverse-variance fit)
  if (!weighted) w.f <- rep(1, k)

  # A sampling variance that looks like a standard error is a common slip;
  # it cannot be detected for sure, so it is left to the user.
  ratio <- max(vi.f) / min(vi.f)
  if (is.finite(ratio) && ratio >= 1e14)
    warning("Ratio of largest to smallest sampling variance is extremely large (", format(ratio, digits = 3),
            "); results may be unstable.", call. = FALSE)

  # Redundant (collinear) predictors are dropped with a warning, as in metafor.
  qrX <- if (ncol(X.f) == 1L) list(rank = as.integer(any(X.f != 0)))
         else if (.mf_clearly_full_rank(X.f)) list(rank = ncol(X.f))
         else qr(X.f, tol = 1e-7)  # (lm()'s tolerance: metafor's decision)
  if (qrX$rank < ncol(X.f)) {
    drop <- qrX$pivot[seq.int(qrX$rank + 1L, ncol(X.f))]
    warning(sprintf("Redundant predictors dropped from the model: %s.",
                    paste(colnames(X.f)[drop], collapse = ", ")), call. = FALSE)
    X.f <- X.f[, -drop, drop = FALSE]
    X <- X[, -drop, drop = FALSE]
  }
  p <- ncol(X.f)
  if (p == 0L) .mf_stop("The model has no estimable coefficients.")
  if (p > k)
    .mf_stop(sprintf("There are %d coefficients but only %d outcomes; the model cannot be fitted.", p, k))

  # with one study the t and Knapp-Hartung tests have no degrees of freedom
  if (k == 1L && test != "z") {
    warning(sprintf("With k = 1 the test = \"%s\" has no degrees of freedom; using test = \"z\" (as metafor).", test),
            call. = FALSE)
    test <- "z"
  }
  int.incl <- "intrcpt" %in% colnames(X.f)
  btt <- .mf_btt(btt, colnames(X.f), int.incl)

  con <- .mf_control(control, yi.f, vi.f)
  if (!is.null(tau2)) {
    if (!is.numeric(tau2) || length(tau2) != 1L || is.na(tau2) || tau2 < 0 || !is.finite(tau2))
      .mf_stop("'tau2' must be a single non-negative finite number.")
    con$tau2.init <- tau2
    con$fix.tau2 <- TRUE
  }
  # tau2 is one more parameter: k = p (k > 1) leaves nothing to estimate it
  # from (metafor stops here too); k = 1 fits with tau2 = 0 as metafor does.
  if (k > 1L && p >= k && .mf_estimator_has(method[1L], "random") && !con$fix.tau2)
    .mf_stop(sprintf("There are %d coefficients plus tau^2 to estimate from %d outcomes; use method = \"EE\", fix 'tau2', or drop moderators.",
                     p, k))

  # metafor's fields after subset (k.f rows) and after the removal of rows with
  # missing values (k rows); not.na marks the fitted rows among the k.f
  if (is.null(subset) || all(keep)) {
    k.f <- k.all
    not.na <- !has_na
    ni.f <- ni
    yi.s <- yi; vi.s <- vi; X.s <- X; w.s <- weights
  } else {
    k.f <- sum(keep)
    not.na <- !has_na[keep]
    ni.f <- ni[keep]
    yi.s <- yi[keep]; vi.s <- vi[keep]; X.s <- X[keep, , drop = FALSE]; w.s <- weights[keep]
  }
  list(yi = yi.f, vi = vi.f, X = X.f, weights = w.f, k = k, p = p, k.all = k.all, k.f = k.f,
       X.f = X.s, yi.f = yi.s, vi.f = vi.s, weights.f = if (weighted) w.s else rep(1, k.f),
       ni = if (!is.null(ni)) { if (k == k.all) ni else ni[rows] }, ni.f = ni.f,
       method = method, method.given = method.given, test = test, alpha = alpha, btt = btt, control = con, weighted = weighted,
       allvipos = allvipos, vi0 = !allvipos && all(vi == 0, na.rm = TRUE),
       not.na = not.na, subset = keep, rows = rows, slab = slab, slab.null = slab.null, int.incl = int.incl,
       formula = design$formula, terms = design$terms, xlevels = design$xlevels)
}

# subset (logical, or row numbers, or only negative row numbers) as a logical
# vector over the k.all rows.
.mf_subset_keep <- function(subset, k.all) {
  if (is.logical(subset)) {
    if (length(subset) != k.all) .mf_stop(sprintf("'subset' has length %d but 'yi' has length %d.", length(subset), k.all))
    keep <- !is.na(subset) & subset
  } else if (is.numeric(subset)) {
    if (any(is.na(subset) | subset == 0 | abs(subset) > k.all | subset != round(subset)) ||
        (any(subset < 0) && any(subset > 0)))
      .mf_stop(sprintf("'subset' must hold row numbers between 1 and %d (or only negative numbers to leave rows out).", k.all))
    keep <- if (all(subset < 0)) !seq_len(k.all) %in% -subset else seq_len(k.all) %in% subset
  } else .mf_stop("'subset' must be a logical or numeric vector.")
  if (!any(keep)) .mf_stop("'subset' selects no rows.")
  keep
}

# metafor's outcome measures (rma()'s 'measure' names one of them; escalc()
# computes the ones it implements from raw data).
.mf_measures <- c("RR", "OR", "PETO", "RD", "AS", "PHI", "ZPHI", "YUQ", "YUY", "RTET", "ZTET", "PBIT",
                  "OR2D", "OR2DN", "OR2DL", "MPRD", "MPRR", "MPOR", "MPORC", "MPPETO", "MPORM", "IRR",
                  "IRD", "IRSD", "MD", "POMPMD", "SMD", "SMDH", "SMD1", "SMD1H", "ROM", "VR", "CVR", "RPB",
                  "ZPB", "RBIS", "ZBIS", "D2OR", "D2ORN", "D2ORL", "COR", "UCOR", "ZCOR", "PCOR", "ZPCOR",
                  "SPCOR", "ZSPCOR", "R2", "ZR2", "R2F", "ZR2F", "PR", "PLN", "PLO", "PRZ", "PAS", "PFT",
                  "IR", "IRLN", "IRS", "IRFT", "MN", "POMPMN", "SMN", "MNLN", "SDLN", "CVLN", "MC",
                  "POMPMC", "SMCC", "SMCR", "SMCRH", "SMCRP", "SMCRPH", "CLESCN", "AUCCN", "ROMC", "VRC",
                  "CVRC", "ARAW", "AHW", "ABT", "REH", "CLES", "CLESN", "AUC", "AUCN", "HR", "HD", "GEN")
.mf_check_measure <- function(measure) {
  if (!is.character(measure) || length(measure) != 1L || is.na(measure) || !measure %in% .mf_measures)
    .mf_stop(sprintf("Unknown 'measure' %s; use one of metafor's measures (e.g. \"SMD\", \"OR\", \"RR\", \"GEN\").",
                     paste(deparse(measure), collapse = "")))
  invisible(measure)
}

# An escalc data frame (this package's or metafor's class).
.mf_is_escalc <- function(x) is.data.frame(x) && (inherits(x, "mf_escalc") || inherits(x, "escalc"))

# The raw-data arguments of rma() (metafor's rma.uni), which escalc() turns
# into yi and vi.
.mf_rma_raw_args <- c("ai", "bi", "ci", "di", "n1i", "n2i", "x1i", "x2i", "t1i", "t2i", "m1i", "m2i",
                      "sd1i", "sd2i", "xi", "mi", "ri", "ti", "fi", "pi", "sdi", "r2i", "mini", "maxi", "ni")

# rma() with raw data: escalc() on the arguments given in rma()'s call cl
# (their expressions, evaluated in data and then in env, as escalc does).
# With a subset, escalc() sees only the selected rows, as in metafor (this
# matters for to = "if0all" and the averaged variance types); their results
# are put back in place among the k.all rows, which the gate then subsets.
# Returns yi, vi and ni over the k.all rows.
.mf_rma_escalc <- function(cl, measure, data, env) {
  given <- intersect(names(cl), c(.mf_rma_raw_args, "add", "to", "drop00", "vtype"))
  unsupported <- setdiff(given, names(formals(escalc)))
  if (length(unsupported))
    .mf_stop(sprintf("%s not supported by this package's escalc() yet, so rma() cannot use %s.",
                     paste0("'", unsupported, "'", collapse = ", "),
                     if (length(unsupported) == 1L) "it" else "them"))
  call_escalc <- function(sub) {
    args <- c(list(measure = measure), as.list(cl)[given], list(data = data))
    if (!is.null(sub)) args$subset <- sub
    eval(as.call(c(list(escalc), args)), env)
  }
  out <- call_escalc(NULL)
  yi <- out[["yi"]]
  k.all <- length(yi)
  ni <- attr(yi, "ni")
  vi <- out[["vi"]]
  if (!is.null(cl$subset)) {
    sub <- tryCatch(eval(cl$subset, data, env),
                    error = function(e) .mf_stop(sprintf("Cannot evaluate 'subset': %s", conditionMessage(e))))
    keep <- .mf_subset_keep(sub, k.all)
    part <- call_escalc(keep)
    yi <- vi <- rep(NA_real_, k.all)
    yi[keep] <- part[["yi"]]
    vi[keep] <- part[["vi"]]
    nk <- attr(part[["yi"]], "ni")
    ni <- if (is.null(nk)) NULL else replace(rep(NA_real_, k.all), keep, nk)
  }
  list(yi = as.vector(yi), vi = as.vector(vi), ni = if (!is.null(ni)) as.vector(ni),
       outdat.f = .mf_rma_outdat(cl, measure, data, env, if (is.null(cl$subset)) NULL else keep))
}

# The group-level counts of a two-group measure (2x2 tables or person-time
# data) of the rows in the fit (after 'subset'), kept by rma() as metafor's
# outdat.f for labbe(); NULL for other measures.
.mf_rma_outdat <- function(cl, measure, data, env, keep) {
  tab <- measure %in% c("RR", "OR", "RD", "AS")
  if (!tab && !measure %in% c("IRR", "IRD", "IRSD")) return(NULL)
  get <- function(nm) if (is.null(cl[[nm]])) NULL else as.vector(eval(cl[[nm]], data, env))
  out <- if (tab) {
    ai <- get("ai"); ci <- get("ci"); bi <- get("bi"); di <- get("di")
    if (is.null(bi) && !is.null(ai)) bi <- get("n1i") - ai
    if (is.null(di) && !is.null(ci)) di <- get("n2i") - ci
    list(ai = ai, bi = bi, ci = ci, di = di)
  } else list(x1i = get("x1i"), x2i = get("x2i"), t1i = get("t1i"), t2i = get("t2i"))
  if (any(vapply(out, is.null, logical(1)))) return(NULL)
  if (!is.null(keep)) out <- lapply(out, `[`, keep)
  out
}

# TRUE when X certainly has full column rank at qr()'s tolerance, decided from
# the p x p cross-product instead of a QR of the k x p matrix.  In the
# Cholesky factor R of the correlation-scaled X'X, R[j, j] is the norm of
# column j's residual on the columns before it, relative to its own norm:
# exactly the quantity LINPACK's dqrdc2 (qr()) compares with tol = 1e-9 column
# by column.  Pivots above 1e-4 (squares 1e-8, far above rounding) leave no
# doubt; anything else goes to the QR, which also says what to drop.
.mf_clearly_full_rank <- function(X) {
  C <- crossprod(X)
  d <- sqrt(diag(C))
  if (!all(is.finite(d) & d > 0)) return(FALSE)
  R <- tryCatch(chol(C / tcrossprod(d)), error = function(e) NULL)
  !is.null(R) && min(diag(R)) > 1e-4
}

# btt: indices or a string matched against the coefficient names.
.mf_btt <- function(btt, names, int.incl) {
  p <- length(names)
  if (is.null(btt)) {
    if (p > 1L && int.incl) return(which(names != "intrcpt"))
    return(seq_len(p))
  }
  if (is.character(btt)) {
    # a regular expression matched against the coefficient names, as
    # metafor's .set.btt() (grep: only the first string is used, with R's
    # warning when there are more)
    idx <- tryCatch(grep(btt, names), error = function(e)
      .mf_stop(sprintf("'btt' is not a valid regular expression: %s", conditionMessage(e))))
    if (!length(idx))
      .mf_stop(sprintf("'btt' matches no coefficient (a regular expression matched against the names %s).",
                       paste(names, collapse = ", ")))
    return(idx)
  }
  if (is.logical(btt)) btt <- which(btt)
  if (!is.numeric(btt) || anyNA(btt) || !length(btt)) .mf_stop(sprintf("'btt' must hold coefficient numbers between 1 and %d.", p))
  # as metafor: rounded, sorted, negative numbers leave coefficients out,
  # numbers beyond p are dropped (an error when none remain)
  btt <- round(btt)
  # (sort(unique()) costs ~30 us, most of an anova() call; a strictly increasing btt needs neither)
  if (is.unsorted(btt, strictly = TRUE)) btt <- sort.int(unique.default(btt))
  btt <- as.integer(btt)
  if (any(btt < 0) && any(btt > 0)) .mf_stop("'btt' cannot mix positive and negative coefficient numbers.")
  idx <- seq_len(p)[btt]
  idx <- idx[!is.na(idx)]
  if (!length(idx))
    .mf_stop(sprintf("'btt' selects no coefficient: the model has %d coefficient%s.", p, if (p > 1L) "s" else ""))
  idx
}
