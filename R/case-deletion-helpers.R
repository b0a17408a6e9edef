# Helpers shared by the case-deletion functions (leave1out, cumul,
# influence, gosh): argument checks, the warm start of the C++ refits, and
# the columns and formatting of the "mf_list" tables they return.

# The arguments the refit kernels need, from a fitted mf_rma object.
.mf_cd_args <- function(x, fun) {
  if (!inherits(x, "mf_rma")) .mf_stop(sprintf("%s() needs a model fitted by rma() (class 'mf_rma').", fun))
  if (is.null(x$yi) || is.null(x$vi) || is.null(x$X))
    .mf_stop(sprintf("The model object lacks the data (yi, vi, X) that %s() needs.", fun))
  con <- x$control
  list(y = as.double(x$yi), v = as.double(x$vi), X = unname(x$X) + 0,
       weights = if (is.null(x$weights)) numeric(0) else as.double(x$weights),
       method = .mf_method_code(x$method), test = .mf_test_code(x$test), control = con,
       int.only = isTRUE(x$int.only))
}

# Warm start of the refits: the full-data tau2, for the Fisher-scoring
# estimators, unless the user gave control$tau2.init (then metafor's start is kept).
.mf_cd_warm <- function(x) {
  if (.mf_estimator_has(x$method, "warm_start") && is.na(x$control$tau2.init) && !isTRUE(x$control$fix.tau2))
    x$tau2 else NA_real_
}

.mf_cd_flag <- function(progress, arg = "progress") {
  if (!is.logical(progress) || length(progress) != 1L || is.na(progress))
    .mf_stop(sprintf("'%s' must be TRUE or FALSE.", arg))
  progress
}

# Tests, p-values and confidence bounds of the refits of an intercept-only
# model: z, or t with k - p degrees of freedom (t and Knapp-Hartung tests);
# a refit on one study uses the z test, as rma() does.
.mf_cd_table <- function(x, r) {
  b <- r$beta[, 1L]
  se <- r$se[, 1L]
  stat <- b / se
  tdist <- .mf_tdist(x$test) & !r$z.test
  ddf <- r$k - x$p
  pval <- ifelse(tdist, 2 * stats::pt(abs(stat), pmax(ddf, 1), lower.tail = FALSE),
                 2 * stats::pnorm(abs(stat), lower.tail = FALSE))
  crit <- ifelse(tdist, stats::qt(x$level / 2, pmax(ddf, 1), lower.tail = FALSE),
                 stats::qnorm(x$level / 2, lower.tail = FALSE))
  Qp <- ifelse(r$k > x$p, stats::pchisq(r$QE, pmax(r$k - x$p, 1), lower.tail = FALSE), 1)
  out <- list(estimate = b, se = se, zval = stat, pval = pval, ci.lb = b - crit * se, ci.ub = b + crit * se,
              Q = r$QE, Qp = Qp, tau2 = r$tau2, I2 = r$I2, H2 = r$H2)
  lapply(out, function(col) { col[!r$ok] <- NA_real_; col })
}

# Apply a transformation to the estimates and bounds (the SE is dropped);
# with 'targs' it is called as transf(value, targs), as in metafor.
.mf_cd_transf <- function(out, transf, targs = NULL) {
  if (missing(transf) || is.null(transf) || isFALSE(transf)) return(list(out = out, transf = FALSE))
  tr <- .mf_transf_elementwise(transf, targs)
  out$estimate <- tr(out$estimate)
  lb <- tr(out$ci.lb)
  ub <- tr(out$ci.ub)
  out$ci.lb <- pmin(lb, ub)
  out$ci.ub <- pmax(lb, ub)
  out$se <- rep(NA_real_, length(out$estimate))
  list(out = out, transf = TRUE)
}

# Column naming as metafor: "tval" for t tests, no tau2 for equal effects.
.mf_cd_finish <- function(out, x, slab, digits, transf, class = NULL) {
  if (.mf_tdist(x$test)) names(out)[names(out) == "zval"] <- "tval"
  if (.mf_is_ee(x$method)) out$tau2 <- NULL
  out$slab <- slab
  out$digits <- digits
  out$transf <- transf
  class(out) <- c(class, "mf_list")
  out
}

.mf_cd_digits <- function(digits, x) {
  if (missing(digits) || is.null(digits)) digits <- x$digits
  if (is.null(digits) || !is.numeric(digits) || length(digits) < 1L || is.na(digits[1L])) digits <- 4L
  as.integer(digits[1L])
}

.mf_cd_fmtx <- function(v, d) {
  out <- ifelse(is.na(v), "NA", formatC(v, format = "f", digits = d))
  sub("^-(0\\.?0*)$", "\\1", out)
}

.mf_cd_fmtp <- function(p, d) {
  th <- 10^(-d)
  out <- ifelse(is.na(p), "NA", sub("^0\\.", ".", formatC(p, format = "f", digits = d)))
  out[!is.na(p) & p < th] <- paste0("<", sub("^0", "", formatC(th, format = "f", digits = d)))
  out
}

# metafor's 'progbar' is our 'progress' (both show a progress bar); it is
# read when 'progress' is not given.
.mf_progbar <- function(progress, progbar, use_progbar) {
  if (use_progbar) .mf_cd_flag(progbar, "progbar") else .mf_cd_flag(progress)
}

# Columns of values for the k rows used, as metafor returns them under
# getOption("na.action"): padded with NA (character columns with "") to the
# k.f rows under na.exclude and na.pass, unchanged under na.omit.
.mf_cd_pad <- function(cols, not.na, na.act) {
  if (na.act %in% c("na.omit", "na.fail") || all(not.na)) return(cols)
  lapply(cols, function(col) {
    out <- rep(if (is.character(col)) "" else NA, length(not.na))
    out[not.na] <- col
    out
  })
}

# A variable of the original data (order, cluster): evaluated in the data of
# the fit, else where the function was called; of length k.all, the rows
# before 'subset'.
.mf_cd_getx <- function(expr, x, env, name) {
  val <- tryCatch(eval(expr, if (is.data.frame(x$data)) x$data else env, env),
                  error = function(e) .mf_stop(sprintf("Cannot evaluate '%s': %s", name, conditionMessage(e))))
  k.all <- if (!is.null(x$k.all)) x$k.all else length(x$subset)
  if (is.null(val) || length(val) != k.all)
    .mf_stop(sprintf("'%s' has length %d but the original data have %d rows.", name, length(val), k.all))
  val
}

# The 'targs' metafor supplies by itself: list(tau2 = ) for its integral and
# mode transformations (transf.exp.int, ...), recognised by their code.
.mf_cd_auto_targs <- function(transf, x) {
  if (!is.function(transf) || !isNamespaceLoaded("metafor")) return(NULL)
  ns <- asNamespace("metafor")
  nms <- c(paste0("transf.", c("exp", "ilogit", "iprobit", "ztor", "iarcsin", "iahw", "iabt", "dtocles"), ".int"),
           paste0("transf.", c("exp", "ilogit", "iprobit", "ztor", "iarcsin", "iahw", "iabt"), ".mode"))
  dt <- deparse(transf)
  for (nm in nms) if (exists(nm, envir = ns, inherits = FALSE) && identical(deparse(get(nm, envir = ns)), dt))
    return(list(tau2 = x$tau2))
  NULL
}
