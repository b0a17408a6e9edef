# Bad-input battery over the exported functions.  Table-driven: every case is
# a call and what it must give --
#   E(): an error whose message matches `re` (naming the argument, and the
#        rows where rows are involved);
#   W(): a result with a warning matching `re` (and, with `ref`, the same
#        estimates as metafor or as a reference fit);
#   OK(): a result without error (with `check`, a condition on it).
# Never a crash, hang, uninformative base-R error or silently wrong result,
# and the caller's objects are identical before and after every call.
# Functions that do not exist yet are skipped (skip_if_not(exists(...))).

bi_env <- local({
  e <- new.env()
  e$dat <- data.frame(
    yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28),
    vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02),
    x = c(1, 2, 3, 4, 5, 6, 7, 8), g = factor(rep(c("a", "b"), 4)), one = factor(rep("a", 8)),
    ai = c(5, 10, 3, 8, 12, 4, 7, 9), bi = c(20, 25, 30, 18, 22, 26, 19, 21),
    ci = c(8, 12, 6, 9, 15, 7, 10, 11), di = c(17, 23, 27, 17, 19, 23, 16, 19),
    m1i = c(10, 11, 12, 10, 9, 13, 11, 10), m2i = c(9, 10, 10, 9, 9, 11, 10, 9),
    sd1i = c(2, 3, 2, 3, 2, 3, 2, 3), sd2i = c(2, 2, 3, 3, 2, 2, 3, 3),
    n1i = c(20, 30, 25, 40, 22, 35, 28, 31), n2i = c(21, 29, 26, 38, 24, 33, 27, 30))
  e$dat$sei <- sqrt(e$dat$vi)
  e$dat$ni <- e$dat$n1i + e$dat$n2i
  lab <- function(x, label) structure(x, label = label, class = c("haven_labelled", "vctrs_vctr", "double"))
  e$dat_lab <- e$dat
  e$dat_lab$yi <- lab(e$dat$yi, "effect"); e$dat_lab$vi <- lab(e$dat$vi, "variance")
  e$dat_lab$x <- lab(e$dat$x, "dose")
  if (requireNamespace("tibble", quietly = TRUE)) e$dat_tbl <- tibble::as_tibble(e$dat)
  if (requireNamespace("data.table", quietly = TRUE)) e$dat_dt <- data.table::as.data.table(e$dat)
  e$yna <- replace(e$dat$yi, 3, NA)
  e$ynan <- replace(e$dat$yi, 5, NaN)
  e$yinf <- replace(e$dat$yi, 4, Inf)
  e$vneg <- replace(e$dat$vi, c(2, 6), -0.01)
  e$vzero <- replace(e$dat$vi, 7, 0)
  e$vinf <- replace(e$dat$vi, 2, Inf)
  e$fit <- suppressWarnings(rma(yi, vi, data = e$dat))
  e$fitm <- suppressWarnings(rma(yi, vi, mods = ~ x, data = e$dat))
  e$fitEE <- rma(yi, vi, data = e$dat, method = "EE")
  e$fit1 <- rma(0.3, 0.02)
  e$fit2 <- rma(c(0.3, 0.5), c(0.02, 0.03))
  e$fit3 <- rma(c(0.3, 0.5, 0.1), c(0.02, 0.03, 0.01))
  e
})

E <- function(fn, call, re, ...) list(fn = fn, call = substitute(call), kind = "error", re = re, ...)
W <- function(fn, call, re, ref = NULL, check = NULL)
  list(fn = fn, call = substitute(call), kind = "warning", re = re, ref = substitute(ref), check = check)
OK <- function(fn, call, ref = NULL, check = NULL)
  list(fn = fn, call = substitute(call), kind = "ok", ref = substitute(ref), check = check)

# Messages that do not say what is wrong: a finding wherever they appear.
bi_uninformative <- paste(c("missing value where TRUE/FALSE needed", "argument is of length zero",
                            "subscript out of bounds", "non-numeric argument", "NA/NaN argument",
                            "object of type 'closure'", "\\$ operator is invalid", "invalid 'type'",
                            "non-conformable", "contrasts can be applied only", "arguments imply differing"),
                          collapse = "|")

# Same estimates as a reference fit (metafor, or a reference call of ours).
bi_same_fit <- function(res, ref, tol = tol_iter) {
  testthat::expect_equal(unname(c(res$beta)), unname(c(ref$beta)), tolerance = tol)
  testthat::expect_equal(res$tau2, ref$tau2, tolerance = tol)
  testthat::expect_equal(unname(c(res$se)), unname(c(ref$se)), tolerance = tol)
}

bi_run <- function(cs, env = bi_env) {
  for (f in cs$fn) skip_if_not(exists(f), sprintf("%s() does not exist yet", f))
  if (grepl("^metafor::", paste(deparse(cs$ref), collapse = ""))) skip_if_not_installed("metafor")
  before <- as.list(env, all.names = TRUE)
  warns <- character(0)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  res <- withCallingHandlers(
    tryCatch(eval(cs$call, new.env(parent = env)), error = function(e) e),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  label <- paste(deparse(cs$call, width.cutoff = 200L), collapse = " ")
  if (cs$kind == "error") {
    expect_true(inherits(res, "error"), label = paste("error from", label))
    if (inherits(res, "error")) {
      expect_match(conditionMessage(res), cs$re, label = label)
      expect_false(grepl(bi_uninformative, conditionMessage(res)), label = paste("informative error from", label))
    }
  } else {
    expect_false(inherits(res, "error"),
                 label = paste(label, "ran without error:", if (inherits(res, "error")) conditionMessage(res) else ""))
    if (cs$kind == "warning")
      expect_true(any(grepl(cs$re, warns)), label = paste("warning", cs$re, "from", label))
    if (!inherits(res, "error")) {
      if (!is.null(cs$ref)) bi_same_fit(res, suppressWarnings(eval(cs$ref, new.env(parent = env))))
      if (!is.null(cs$check)) expect_true(isTRUE(cs$check(res)), label = paste("check of", label))
    }
  }
  expect_identical(as.list(env, all.names = TRUE), before, label = paste("caller's data after", label))
}

finite_fit <- function(r) all(is.finite(c(r$beta, r$se, r$tau2)))

bi_cases <- list(
  # ---- rma(): types and lengths
  E("rma", rma("a", 1), "'yi'.*numeric"),
  E("rma", rma(list(1, 2), c(1, 2)), "'yi'.*numeric"),
  E("rma", rma(factor(1:8), dat$vi), "'yi'.*numeric"),
  E("rma", rma(complex(8), dat$vi), "'yi'.*numeric"),
  E("rma", rma(c(TRUE, FALSE, TRUE), c(0.1, 0.1, 0.1)), "'yi'.*numeric"),
  E("rma", rma(dat$yi, as.character(dat$vi)), "'vi'.*numeric"),
  E("rma", rma(dat$yi, dat$vi[1:3]), "'vi'.*length 3"),
  E("rma", rma(dat$yi, sei = dat$sei[1:5]), "'sei'.*length 5"),
  E("rma", rma(dat$yi, dat$vi, weights = 1:3), "'weights'.*length 3"),
  E("rma", rma(dat$yi), "'vi'|'sei'"),
  E("rma", rma(), "'yi'"),
  E("rma", rma(numeric(0), numeric(0)), "'yi'.*length 0"),
  E("rma", rma(dat$yi, dat$vi, slab = 1:3), "'slab'.*length 3"),
  E("rma", rma(dat$yi, dat$vi, slab = c(NA, 2:8)), "'slab'.*row 1"),
  E("rma", rma(dat$yi, dat$vi, mods = dat$x[1:3]), "'mods'.*3 rows"),
  E("rma", rma(dat$yi, dat$vi, mods = as.character(dat$x)), "'mods'"),
  E("rma", rma(dat$yi, dat$vi, mods = list(1, 2)), "'mods'"),
  E("rma", rma(dat$yi, dat$vi, intercept = NA), "'intercept'"),
  E("rma", rma(dat$yi, dat$vi, intercept = "yes"), "'intercept'"),
  # ---- NA, NaN, Inf
  W("rma", rma(yna, dat$vi), "missing.*row 3", ref = metafor::rma(yna, dat$vi, control = metafor_tight)),
  W("rma", rma(ynan, dat$vi), "missing.*row 5", ref = metafor::rma(ynan, dat$vi, control = metafor_tight)),
  W("rma", rma(dat$yi, replace(dat$vi, 2, NA)), "missing.*row 2",
    ref = metafor::rma(dat$yi, replace(dat$vi, 2, NA), control = metafor_tight)),
  W("rma", rma(dat$yi, dat$vi, mods = replace(dat$x, 8, NA)), "missing.*row 8",
    ref = metafor::rma(dat$yi, dat$vi, mods = replace(dat$x, 8, NA), control = metafor_tight)),
  W("rma", rma(dat$yi, dat$vi, weights = replace(1 / dat$vi, 1, NA)), "missing.*row 1"),
  E("rma", rma(rep(NA_real_, 8), dat$vi), "No outcomes remain"),
  E("rma", rma(yinf, dat$vi), "'yi'.*finite.*row 4"),
  E("rma", rma(dat$yi, vinf), "'vi'.*finite.*row 2"),
  E("rma", rma(dat$yi, dat$vi, mods = replace(dat$x, 6, -Inf)), "'mods'.*finite.*row 6"),
  E("rma", rma(dat$yi, dat$vi, weights = replace(1 / dat$vi, 3, Inf)), "'weights'.*finite.*row 3"),
  # ---- negative / zero variances, SEs, weights
  E("rma", rma(dat$yi, vneg), "'vi'.*negative.*rows 2, 6"),
  E("rma", rma(dat$yi, vzero), "'vi'.*zero.*row 7"),
  E("rma", rma(dat$yi, sei = -dat$sei), "'sei'.*negative.*rows 1, 2"),
  E("rma", rma(dat$yi, dat$vi, weights = replace(1 / dat$vi, 4, -1)), "'weights'.*row 4"),
  E("rma", rma(dat$yi, dat$vi, weights = replace(1 / dat$vi, 5, 0)), "'weights'.*row 5"),
  # ---- unknown names, level
  E("rma", rma(dat$yi, dat$vi, method = "XX"), "'method'.*'XX'"),
  E("rma", rma(dat$yi, dat$vi, method = NA), "'method'"),
  E("rma", rma(dat$yi, dat$vi, method = 1), "'method'"),
  E("rma", rma(dat$yi, dat$vi, method = character(0)), "'method'"),
  E("rma", rma(dat$yi, dat$vi, method = c("REML", "YY")), "'method'.*'YY'"),
  E("rma", rma(dat$yi, dat$vi, test = "F"), "'test'"),
  E("rma", rma(dat$yi, dat$vi, test = NA), "'test'"),
  E("rma", rma(dat$yi, dat$vi, test = c("z", "t")), "'test'"),
  E("rma", rma(dat$yi, dat$vi, level = Inf), "'level'"),  # (level = 0 is valid: metafor's zero-width interval)
  E("rma", rma(dat$yi, dat$vi, level = 100), "'level'"),
  E("rma", rma(dat$yi, dat$vi, level = -5), "'level'"),
  E("rma", rma(dat$yi, dat$vi, level = 150), "'level'"),
  E("rma", rma(dat$yi, dat$vi, level = NA), "'level'"),
  E("rma", rma(dat$yi, dat$vi, level = "95"), "'level'"),
  E("rma", rma(dat$yi, dat$vi, level = c(90, 95)), "'level'"),
  E("rma", rma(dat$yi, dat$vi, tau2 = -1), "'tau2'"),
  E("rma", rma(dat$yi, dat$vi, tau2 = NA), "'tau2'"),
  E("rma", rma(dat$yi, dat$vi, btt = 5), "'btt'"),
  E("rma", rma(dat$yi, dat$vi, mods = ~ x, data = dat, btt = "zzz"), "'btt'"),
  E("rma", rma(dat$yi, dat$vi, control = "a"), "'control'"),
  E("rma", rma(dat$yi, dat$vi, control = list(foo = 1)), "'control'.*foo"),
  E("rma", rma(dat$yi, dat$vi, control = list(maxiter = -1)), "maxiter"),
  E("rma", rma(dat$yi, dat$vi, control = list(maxiter = NA)), "maxiter"),
  E("rma", rma(dat$yi, dat$vi, control = list(threshold = 0)), "threshold"),
  E("rma", rma(dat$yi, dat$vi, control = list(stepadj = Inf)), "stepadj"),
  E("rma", rma(dat$yi, dat$vi, control = list(tau2.min = -0.01)), "'control\\$tau2.min' must be non-negative"),
  E("rma", rma(dat$yi, dat$vi, control = list(tau2.min = 1, tau2.max = 0.5)), "'control\\$tau2.min' must be below"),
  E("rma", rma(dat$yi, dat$vi, control = list(tau2.min = NA)), "'control\\$tau2.min'"),
  E("rma", rma(dat$yi, dat$vi, control = list(tau2.init = -1)), "tau2.init"),
  # ---- k = 0, 1, 2, 3 and p >= k
  OK("rma", rma(0.3, 0.02), check = function(r) r$k == 1 && r$tau2 == 0 && finite_fit(r)),
  OK("rma", rma(c(0.3, 0.5), c(0.02, 0.03)), ref = metafor::rma(c(0.3, 0.5), c(0.02, 0.03), control = metafor_tight)),
  OK("rma", rma(c(0.3, 0.5), c(0.02, 0.03), method = "DL"), ref = metafor::rma(c(0.3, 0.5), c(0.02, 0.03), method = "DL")),
  OK("rma", rma(c(0.3, 0.9), c(0.02, 0.03), method = "PM"), ref = metafor::rma(c(0.3, 0.9), c(0.02, 0.03), method = "PM", control = metafor_tight)),
  OK("rma", rma(c(0.3, 0.5, 0.1), c(0.02, 0.03, 0.01), test = "knha"),
     ref = metafor::rma(c(0.3, 0.5, 0.1), c(0.02, 0.03, 0.01), test = "knha", control = metafor_tight)),
  # p = k after dropping redundant predictors: nothing left for tau^2 (metafor stops too)
  E("rma", suppressWarnings(rma(dat$yi, dat$vi, subset = 1:3, mods = cbind(dat$x, dat$x^2, dat$x^3))),
    "3 coefficients plus tau\\^2.*3 outcomes"),
  E("rma", suppressWarnings(rma(c(0.3, 0.5), c(0.02, 0.03), mods = cbind(c(1, 2), c(3, 1)))),
    "coefficients plus tau\\^2"),
  E("rma", rma(dat$yi, dat$vi, mods = ~ x, data = dat, subset = 1:2, method = "DL"),
    "2 coefficients plus tau\\^2.*2 outcomes"),
  W("rma", rma(dat$yi, dat$vi, subset = 1:3, mods = cbind(dat$x, dat$x^2, dat$x^3), method = "EE"), "Redundant"),
  OK("rma", rma(dat$yi, dat$vi, mods = ~ x, data = dat, subset = 1:2, method = "EE"),
     check = function(r) r$k == 2 && r$p == 2 && all(is.finite(r$beta))),
  # ---- collinear moderators, single-level factors, empty subsets
  W("rma", rma(yi, vi, mods = ~ x + I(2 * x), data = dat), "Redundant.*I\\(2 \\* x\\)",
    ref = metafor::rma(yi, vi, mods = ~ x + I(2 * x), data = dat, control = metafor_tight)),
  W("rma", rma(dat$yi, dat$vi, mods = cbind(dat$x, dat$x, 1)), "Redundant",
    ref = metafor::rma(dat$yi, dat$vi, mods = cbind(dat$x, dat$x, 1), control = metafor_tight)),
  W("rma", rma(yi, vi, mods = ~ g, data = dat, subset = g == "a"), "Redundant.*gb",
    ref = metafor::rma(yi, vi, data = dat, subset = g == "a", control = metafor_tight)),
  E("rma", rma(yi, vi, mods = ~ one, data = dat), "'mods'.*one"),
  E("rma", rma(yi, vi, mods = ~ factor(rep(1, 8)), data = dat), "'mods'"),
  E("rma", rma(yi, vi, subset = x > 100, data = dat), "'subset'.*no rows"),
  E("rma", rma(dat$yi, dat$vi, subset = rep(NA, 8)), "'subset'.*no rows"),
  E("rma", rma(dat$yi, dat$vi, subset = rep(FALSE, 8)), "'subset'.*no rows"),
  E("rma", rma(dat$yi, dat$vi, subset = 1:100), "'subset'"),
  E("rma", rma(dat$yi, dat$vi, subset = c(TRUE, FALSE)), "'subset'.*length 2"),
  E("rma", rma(dat$yi, dat$vi, subset = "a"), "'subset'"),
  # ---- data frames lacking the named columns, other data classes
  E("rma", rma(foo, vi, data = dat), "'yi'.*foo"),
  E("rma", rma(yi, bar, data = dat), "'vi'.*bar"),
  E("rma", rma(yi, vi, mods = ~ nosuch, data = dat), "nosuch"),
  E("rma", rma(yi, vi, data = dat[, c("x", "g")]), "'yi'"),
  E("rma", rma(yi, vi, data = list(yi = 1, vi = 2)), "'data'.*data frame"),
  E("rma", rma(yi, vi, data = matrix(1:4, 2)), "'data'.*data frame"),
  OK("rma", rma(yi, vi, mods = ~ x + g, data = dat_tbl), ref = rma(yi, vi, mods = ~ x + g, data = dat)),
  OK("rma", rma(yi, vi, mods = ~ x + g, data = dat_dt), ref = rma(yi, vi, mods = ~ x + g, data = dat)),
  OK("rma", rma(yi, vi, mods = ~ x, data = dat_lab), ref = rma(yi, vi, mods = ~ x, data = dat)),
  OK("rma", rma(dat_lab$yi, dat_lab$vi, mods = dat_lab$x), ref = rma(yi, vi, mods = ~ x, data = dat)),
  # ---- huge and tiny magnitudes: a correct (scale-equivariant) result or a clear error
  OK("rma", rma(dat$yi * 1e-150, dat$vi * 1e-300, method = "DL"),
     check = function(r) isTRUE(all.equal(c(r$beta / 1e-150, r$tau2 / 1e-300),
                                          c(bi_env$fit_dl$beta, bi_env$fit_dl$tau2), tolerance = 1e-6))),
  OK("rma", rma(dat$yi * 1e-150, dat$vi * 1e-300, method = "REML"),
     check = function(r) isTRUE(all.equal(c(r$beta / 1e-150, r$tau2 / 1e-300),
                                          c(bi_env$fit$beta, bi_env$fit$tau2), tolerance = 1e-6))),
  OK("rma", rma(dat$yi * 1e-50, dat$vi * 1e-100, method = "PM"),
     check = function(r) isTRUE(all.equal(c(r$beta / 1e-50, r$tau2 / 1e-100),
                                          c(bi_env$fit_pm$beta, bi_env$fit_pm$tau2), tolerance = 1e-6))),
  OK("rma", rma(dat$yi * 1e100, dat$vi * 1e200, method = "DL"),
     check = function(r) isTRUE(all.equal(c(r$beta / 1e100, r$tau2 / 1e200),
                                          c(bi_env$fit_dl$beta, bi_env$fit_dl$tau2), tolerance = 1e-6))),
  # yi near 1e150 with unit-scale vi: the sampling variances vanish beside
  # tau^2 (ratio ~1e-300), so the REML fit is the equal-weights limit: the
  # mean, the sample variance and sd / sqrt(k) of yi (an error until the
  # extreme-outcomes work of issue 18 item 2)
  OK("rma", rma(dat$yi * 1e150, dat$vi),
     check = function(r) isTRUE(all.equal(unname(c(r$beta / 1e150, r$tau2 / 1e300, r$se / 1e150)),
                                          c(mean(bi_env$dat$yi), var(bi_env$dat$yi), sd(bi_env$dat$yi) / sqrt(length(bi_env$dat$yi))),
                                          tolerance = 1e-8))),
  # yi near 1e200: tau2 near 1e399 is beyond double precision
  E("rma", rma(dat$yi * 1e200, dat$vi), "'yi'.*'vi'"),
  OK("rma", rma(dat$yi, dat$vi * 1e-150, method = "DL"), check = finite_fit),
  W("rma", rma(dat$yi, c(1e-10, rep(1e6, 7))), "Ratio of largest to smallest",
    ref = metafor::rma(dat$yi, c(1e-10, rep(1e6, 7)), control = metafor_tight)),
  OK("rma", rma(rep(1, 8), dat$vi), check = function(r) r$tau2 == 0 && abs(r$beta[1] - 1) < 1e-12),
  # ---- rma_many()
  E("rma_many", rma_many("a", 1), "'Y'"),
  E("rma_many", rma_many(matrix(1:6, 3), 1:2), "'V'.*length 2"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), matrix(0.1, 2, 2)), "'V'.*2 x 2"),
  E("rma_many", rma_many(matrix(c(0.1, NA, 0.3, 0.1, 0.2, 0.3), 3), rep(0.1, 3)), "'Y'.*columns 1"),
  E("rma_many", rma_many(matrix(c(0.1, 0.2, 0.3, 0.1, 0.2, Inf), 3), rep(0.1, 3)), "'Y'.*columns 2"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), matrix(c(0.1, 0.1, 0.1, 0.1, -1, 0.1), 3)), "'V'.*columns 2"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), rep(0.1, 3), method = "XX"), "'method'"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), rep(0.1, 3), method = c("ML", "DL")), "'method'"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), rep(0.1, 3), test = "q"), "'test'"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), rep(0.1, 3), mods = cbind(1:3, 2 * (1:3))), "'mods'"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), rep(0.1, 3), mods = cbind(1:3, (1:3)^2, (1:3)^3)), "coefficients|'mods'"),
  E("rma_many", rma_many(matrix(0.1, 3, 2), rep(0.1, 3), control = list(maxiter = 0)), "maxiter"),
  OK("rma_many", rma_many(matrix(c(0.3, 0.5), 2), c(0.02, 0.03)),
     check = function(r) abs(r$tau2 - rma(c(0.3, 0.5), c(0.02, 0.03))$tau2) < 1e-8),
  # ---- escalc()
  E("escalc", escalc("XX", ai = ai, bi = bi, ci = ci, di = di, data = dat), "measure.*'XX'"),
  E("escalc", escalc(1, ai = 1, bi = 1, ci = 1, di = 1), "'measure'"),
  E("escalc", escalc(c("OR", "RR"), ai = 1, bi = 1, ci = 1, di = 1), "'measure'"),
  E("escalc", escalc("OR", ai = ai, bi = bi, ci = ci, data = dat), "di"),
  E("escalc", escalc("OR", ai = -ai, bi = bi, ci = ci, di = di, data = dat), "ai.*rows:? 1, 2"),
  E("escalc", escalc("OR", ai = "a", bi = 1, ci = 1, di = 1), "'ai'.*numeric"),
  E("escalc", escalc("SMD", m1i = m1i, m2i = m2i, sd1i = -sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i, data = dat),
    "sd1i.*rows:? 1, 2"),
  E("escalc", escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = -n1i, n2i = n2i, data = dat),
    "n1i.*rows:? 1, 2"),
  E("escalc", escalc("SMD", m1i = foo, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i, data = dat), "foo.*m1i"),
  E("escalc", escalc("MD", m1i = dat$m1i, m2i = dat$m2i, sd1i = dat$sd1i, sd2i = dat$sd2i, n1i = dat$n1i,
                     n2i = dat$n2i[1:3]), "n2i|length"),
  E("escalc", escalc("COR", ri = c(0.5, 1.5, -2), ni = c(10, 20, 30)), "ri.*rows:? 2, 3"),
  E("escalc", escalc("COR", ri = c(0.5, 0.2), ni = c(-1, 10)), "ni.*row.* 1"),
  E("escalc", escalc("PR", xi = c(5, 12), ni = c(10, 10)), "xi.*row.* 2"),
  E("escalc", escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i,
                     data = dat, subset = x > 100), "subset"),
  E("escalc", escalc("OR", ai = ai, bi = bi, ci = ci, di = di, data = dat, add = -1), "'add'"),
  E("escalc", escalc("OR", ai = ai, bi = bi, ci = ci, di = di, data = dat, to = "xx"), "'to'"),
  OK("escalc", escalc("OR", ai = c(NA, 1), bi = c(2, 3), ci = c(1, 1), di = c(4, 4)),
     check = function(r) is.na(r$yi[1]) && is.finite(r$yi[2])),
  OK("escalc", escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i, n1i = n1i, n2i = n2i, data = dat_tbl),
     check = function(r) isTRUE(all.equal(c(r$yi), c(escalc("SMD", m1i = m1i, m2i = m2i, sd1i = sd1i, sd2i = sd2i,
                                                              n1i = n1i, n2i = n2i, data = bi_env$dat)$yi)))),
  OK("escalc", escalc("OR", ai = ai, bi = bi, ci = ci, di = di, data = dat_dt),
     check = function(r) isTRUE(all.equal(c(r$yi), log(bi_env$dat$ai * bi_env$dat$di / (bi_env$dat$bi * bi_env$dat$ci))))),
  # ---- resampling
  E("boot_rma", boot_rma(1:3), "'x'.*rma"),
  E("boot_rma", boot_rma(fit, R = 0), "'R'"),
  E("boot_rma", boot_rma(fit, R = 1e20), "'R'.*too large"),             # fuzz finding: was a coercion warning
  E("permutest", permutest(fit, iter = "a"), "'iter'"),                   # fuzz finding
  E("permutest", permutest(fit, iter = NULL), "'iter'"),
  E("update", update(fit, formula. = function(x) x), "'formula.'"),      # fuzz finding
  E("predict", predict(fitm, newmods = 3, intercept = c(NA, TRUE)), "'intercept'"),  # fuzz finding
  E("baujat", baujat(fit, xlab = function(x) x), "'xlab'"),              # fuzz finding
  E("forest", forest(fit, level = 200), "'level'"),                      # was accepted silently
  E("funnel", funnel(fit, contour = integer(0)), "'contour'"),             # fuzz finding: was 'missing value where TRUE/FALSE needed'
  E("results_table", results_table(a = fit, n = -1), "'n'"),              # was accepted silently
  E("rma", rma(c(.3, .5), c(.02, .03), mods = c(1, 2)), "coefficients plus tau\\^2"),  # k = p: was tau2 = 0 silently
  OK("rma", rma(c(.3, .5), c(.02, .03), mods = c(1, 2), method = "EE")),
  E("boot_rma", boot_rma(fit, R = -5), "'R'"),
  E("boot_rma", boot_rma(fit, R = NA), "'R'"),
  E("boot_rma", boot_rma(fit, R = "a"), "'R'"),
  E("boot_rma", boot_rma(fit, R = 1.5), "'R'"),
  E("boot_rma", boot_rma(fit, R = 10, type = "xx"), "case|parametric"),
  E("boot_rma", boot_rma(fit, R = 10, threads = -1), "'threads'"),
  E("boot_rma", boot_rma(fit, R = 10, threads = "a"), "'threads'"),
  E("boot_rma", boot_rma(fit, R = 10, progress = NA), "'progress'"),
  OK("boot_rma", boot_rma(fit1, R = 10, progress = FALSE), check = function(b) nrow(b$t) == 10),
  OK("boot_rma", boot_rma(fit2, R = 10, progress = FALSE), check = function(b) nrow(b$t) == 10),
  # A selection model's bootstrap by cluster and with decreasing = TRUE are supported (issue 15); a cluster
  # vector of the wrong length is not.
  E("boot_rma", boot_rma(suppressWarnings(selmodel(fit, type = "stepfun", steps = 0.5)), R = 10, cluster = c(1, 1, 2)),
    "'cluster'"),
  OK("boot_rma", boot_rma(suppressWarnings(selmodel(fit, type = "stepfun", steps = c(0.3, 0.6), decreasing = TRUE)),
                          R = 10, progress = FALSE), check = function(b) nrow(b$t) == 10),
  OK("boot_rma", boot_rma(suppressWarnings(selmodel(fit, type = "stepfun", steps = 0.5)), R = 10, progress = FALSE),
     check = function(b) nrow(b$t) == 10),
  E("permutest", permutest(1), "permutest|mf_rma|class"),
  E("permutest", permutest(fit, iter = 0), "'iter'"),
  E("permutest", permutest(fit, iter = NA), "'iter'"),
  E("permutest", permutest(fitm, iter = 10, btt = 9, progress = FALSE), "'btt'"),
  E("permutest", permutest(fitm, iter = 20, exact = NA), "'exact'"),
  OK("permutest", permutest(fit1, progress = FALSE)),
  OK("permutest", permutest(fit2, progress = FALSE)),
  # ---- case deletion
  E("leave1out", leave1out(1), "leave1out|mf_rma|class"),
  E("leave1out", leave1out(fit1), "at least 2.*k = 1"),
  E("leave1out", leave1out(fit, transf = "exp"), "'transf'"),
  E("leave1out", leave1out(fit, progress = NA), "'progress'"),
  OK("leave1out", leave1out(fit2)),
  E("influence", influence(fit1), "at least 2.*k = 1"),
  E("influence", influence(fit, progress = "a"), "'progress'"),
  OK("influence", influence(fit2)),
  E("cumul", cumul(fit, order = 1:3), "'order'.*length 3"),
  E("cumul", cumul(fitm), "moderators"),
  OK("cumul", cumul(fit1)),
  E("gosh", gosh(fit, subsets = -1), "'subsets'"),
  E("gosh", gosh(fit, subsets = NA), "'subsets'"),
  E("gosh", gosh(fit1), "at least 2.*k = 1"),
  E("gosh", gosh(fit, subsets = 10, seed = "a"), "'seed'"),
  # ---- publication bias and toolkit
  E("regtest", regtest(fit, model = "xx"), "'model'.*xx"),
  E("regtest", regtest(fit, predictor = "xx"), "'predictor'.*xx"),
  E("regtest", regtest(fit2), "at least 3.*k = 2"),
  E("regtest", regtest(c(1, 2, 3), c(-1, 1, 1)), "'vi'.*row 1"),
  E("regtest", regtest(dat$yi, dat$vi[1:3]), "'vi'.*length 3"),
  E("regtest", regtest("a", 1), "'x'.*numeric"),
  E("ranktest", ranktest(fit2), "at least 3.*k = 2"),
  E("ranktest", ranktest(dat$yi, vneg), "'vi'.*rows 2, 6"),
  E("ranktest", ranktest(fitm), "moderators"),
  W("ranktest", ranktest(yna, dat$vi), "row 3"),
  E("trimfill", trimfill(fit, side = "up"), "'side'.*up"),
  E("trimfill", trimfill(fit, estimator = "XX"), "'estimator'.*XX"),
  E("trimfill", trimfill(fit1), "at least 2.*k = 1"),
  E("trimfill", trimfill(fitm), "moderators"),
  E("trimfill", trimfill(fit, maxiter = -1), "'maxiter'"),
  E("trimfill", trimfill("a"), "rma"),
  E("fsn", fsn(dat$yi, dat$vi, type = "XX"), "'type'.*XX"),
  E("fsn", fsn(dat$yi, vneg), "'vi'.*rows 2, 6"),
  E("fsn", fsn(dat$yi, dat$vi, alpha = 2), "'alpha'"),
  E("fsn", fsn(dat$yi[1], dat$vi[1]), "at least 2.*k = 1"),
  E("fsn", fsn(yi, vi, data = dat[, c("x", "g")]), "yi"),
  E("fsn", fsn(dat$yi, dat$vi, type = "Orwin", target = NA), "'target'"),
  E("subgroups", subgroups(fit, by = dat$g[1:3]), "'by'.*length 3"),
  E("subgroups", subgroups(fit, by = rep("a", 8)), "'by'.*1 subgroup"),
  E("subgroups", subgroups(fit, by = ~ zz, data = dat), "'by'.*zz"),
  E("subgroups", subgroups(fit, by = dat$g, tau2 = "xx"), "'tau2'.*xx"),
  E("subgroups", subgroups(fit, by = dat$x, cut = NA), "'cut'"),
  W("subgroups", subgroups(fit, by = replace(as.character(dat$g), 1, NA)), "row 1"),
  E("outlier_analysis", outlier_analysis(fit, rule = "xx"), "'rule'.*xx"),
  E("outlier_analysis", outlier_analysis(fit, threshold = -1), "'threshold'"),
  E("outlier_analysis", outlier_analysis(fit2), "at least 3.*k = 2"),
  E("outlier_analysis", outlier_analysis(1), "'x'"),
  E("results_table", results_table(), "at least one"),
  E("results_table", results_table(a = fit, n = 1:3), "'n'.*length 3"),
  E("results_table", results_table(a = fit, digits = -1), "'digits'"),
  E("results_table", results_table(a = fit, b = "x"), "'b'"),
  E("pet_peese", pet_peese(fit, model = "xx"), "'model'.*xx"),
  E("pet_peese", pet_peese(fit, alpha = 2), "'alpha'"),
  E("pet_peese", pet_peese(fit2), "at least 3.*k = 2"),
  # ---- plots
  E("forest", forest(fit, order = 1:3), "'order'.*3 values"),
  E("forest", forest(dat$yi, dat$vi[1:3]), "'vi'.*length 3"),
  E("forest", forest(dat$yi), "'vi'|'sei'"),
  E("forest", forest(dat$yi, vneg), "'vi'.*rows 2, 6"),
  E("forest", forest(fit, slab = 1:3), "'slab'.*3 values"),
  E("funnel", funnel(fit, yaxis = "xx"), "'yaxis'"),
  E("funnel", funnel(dat$yi, vneg), "'vi'.*rows 2, 6"),
  E("funnel", funnel(fit, level = -1), "'level'"),
  E("funnel", funnel(fit, steps = "a"), "'steps'"),
  E("funnel", funnel(fit, digits = "a"), "'digits'"),
  E("funnel", funnel(fit, label = "some"), "'label'"),
  E("funnel", funnel(fit, ci.res = 1), "'ci.res'"),
  E("funnel", funnel(fit, at = c(0, 0.5), at.lab = "a"), "'at.lab'"),
  E("funnel", funnel(fit, col = c("red", "blue")), "'col'.*2 values"),
  E("funnel", funnel(fit, yaxis = "ni"), "sample sizes"),
  E("funnel", funnel(fit, level = c(90, 95), shade = character(0)), "'shade'"),
  E("funnel", funnel(dat$yi, dat$vi, subset = "a"), "'subset'"),
  E("baujat", baujat(fit1), "at least 2"),
  OK("baujat", baujat(fit2)),
  E("forest_height", forest_height(-1), "'k'"),
  E("forest_height", forest_height(NA), "'k'"),
  E("forest_height", forest_height("a"), "'k'"),
  # ---- review tools
  E("simulate_review", simulate_review(seed = "a"), "'seed'"),
  E("simulate_review", simulate_review(seed = NA), "'seed'"),
  E("simulate_review", simulate_review(seed = 1:2), "'seed'"),
  E("split_shared_control", split_shared_control(dat, trial = "zz", n2i = "n2i"), "'zz'"),
  E("split_shared_control", split_shared_control(1, trial = "g", n2i = "n2i"), "'data'"),
  E("reproduce_review", reproduce_review(data = dat, verbose = FALSE), "'data'.*trial"),
  E("reproduce_review", reproduce_review(data = 1, verbose = FALSE), "'data'"),
  E("reproduce_review", reproduce_review(path = 1, verbose = FALSE), "'path'"),
  # ---- methods of fitted models
  E("rma", confint(fit, level = NA), "'level'"),
  E("rma", confint(fit1), "k = 1"),
  E("rma", confint(fitEE), "EE|random"),
  E("rma", predict(fitm, newmods = "a"), "'newmods'"),
  E("rma", predict(fit, level = 200), "'level'"),
  E("rma", anova(fitm, btt = 9), "'btt'"),
  E("rma", anova(fit, 1), "'object2'"),
  E("rma", anova(fitm, X = c(1, 2, 3)), "'X'.*3 columns"),
  E("rma", update(fit, method = "XX"), "'method'.*XX"),
  E("rma", weights(fit, type = "xx"), "type"),
  OK("rma", confint(fit2)),
  OK("rma", summary(fit1)),
  OK("rma", rstandard(fit1)),
  OK("rma", hatvalues(fit2))
)

# Scale-equivariance references (fitted once, outside the cases).
bi_env$fit_dl <- rma(bi_env$dat$yi, bi_env$dat$vi, method = "DL")
bi_env$fit_pm <- rma(bi_env$dat$yi, bi_env$dat$vi, method = "PM")

test_that("bad-input battery: the table holds the cases", {
  expect_gt(length(bi_cases), 200L)
})

for (i in seq_along(bi_cases)) {
  cs <- bi_cases[[i]]
  test_that(sprintf("bad input %03d: %s", i, paste(deparse(cs$call, width.cutoff = 80L)[1L], collapse = "")), {
    bi_run(cs)
  })
}
