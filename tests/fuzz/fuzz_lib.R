# Generator and in-process runner of the metafast fuzzer (see fuzz.R).
# fuzz_batch(seed, n, log): n random calls; returns list(n, findings).  Each
# call is written to `log` (flushed) before it runs, so the call that killed
# a child process can be named.

# Uninformative base-R errors: a call should say what is wrong instead.
fuzz_uninformative <- paste(c(
  "missing value where TRUE/FALSE needed", "argument is of length zero", "subscript out of bounds",
  "non-numeric argument", "NA/NaN argument", "object of type 'closure'", "\\$ operator is invalid",
  "invalid 'type'", "non-conformable", "contrasts can be applied only", "arguments imply differing",
  "incorrect number of dimensions", "replacement has", "undefined columns selected",
  "argument of length 0", "invalid argument to unary", "cannot coerce type", "attempt to apply non-function",
  "NAs are not allowed in subscripted", "dims \\[product", "missing value where", "object '.*' not found",
  "reached elapsed time limit", "std::bad_alloc", "negative length vectors", "invalid 'times'"),
  collapse = "|")

# Size-like arguments get small values (a huge R or iter is a legitimate
# long run, not a hang).
fuzz_size_args <- c("R", "iter", "subsets", "threads", "maxiter", "k", "ngroups", "n", "digits", "seed")

fuzz_numeric <- function(len = NULL) {
  len <- len %||% sample(c(0L, 1L, 2L, 3L, 8L, sample.int(40L, 1L)), 1L)
  x <- switch(sample.int(6L, 1L),
              stats::rnorm(len), stats::runif(len, 0, 0.2), -stats::runif(len),
              stats::rnorm(len) * 10^sample(c(-300, -150, -20, 20, 150, 300), 1L),
              as.numeric(sample(0:50, len, TRUE)), rep(0, len))
  if (len > 0L && stats::runif(1L) < 0.4) {
    i <- sample.int(len, sample.int(len, 1L))
    x[i] <- sample(c(NA, NaN, Inf, -Inf, 0, -1, 1e308, 1e-308, .Machine$double.xmax), length(i), TRUE)
  }
  x
}

fuzz_string <- function() {
  pool <- c("REML", "DL", "EE", "ML", "PM", "z", "t", "knha", "OR", "SMD", "case", "parametric", "ci",
            "rstudent", "L0", "R0", "left", "right", "sei", "vi", "lm", "rma", "Rosenthal", "Orwin",
            "separate", "common", "", "NA", "\u00e9\u00e8", "yi", "x", "g", strrep("a", 500))
  if (stats::runif(1L) < 0.7) sample(pool, sample(1:3, 1L), TRUE)
  else paste(sample(c(letters, LETTERS, 0:9, " ", "'", "\""), sample.int(20L, 1L), TRUE), collapse = "")
}

fuzz_value <- function(name, env) {
  if (name %in% fuzz_size_args && stats::runif(1L) < 0.7)
    return(sample(list(1, 2, 5, 20, 0, -1, NA, 1.5, "a", NULL, c(2, 3), Inf, NaN, TRUE), 1L)[[1L]])
  k <- sample.int(16L, 1L)
  switch(k,
    fuzz_numeric(), fuzz_numeric(), fuzz_numeric(8L),
    fuzz_string(),
    NULL,
    sample(c(TRUE, FALSE, NA), sample(0:8, 1L), TRUE),
    factor(sample(c("a", "b", NA), sample(0:8, 1L), TRUE)),
    list(1, "a", NULL),
    matrix(fuzz_numeric(16L), 8L),
    env$dat[sample.int(8L, sample(0:8, 1L)), sample.int(ncol(env$dat), sample.int(ncol(env$dat), 1L)), drop = FALSE],
    env$dat,
    sample(list(env$fit, env$fitm, env$fit1, env$fit2, env$fitEE), 1L)[[1L]],
    stats::as.formula(sample(c("~ x", "~ g", "~ zz", "~ x + g", "~ factor(x)", "yi ~ x", "~ 1"), 1L), env = env),
    function(x) x,
    as.integer(sample(-3:50, sample(0:8, 1L), TRUE)),
    complex(real = 1, imaginary = 1))
}

fuzz_env <- function() {
  e <- new.env()
  e$dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.52, 0.28),
                      vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.04, 0.02),
                      x = c(1, 2, 3, 4, 5, 6, 7, 8), g = factor(rep(c("a", "b"), 4)),
                      ai = c(5, 10, 3, 8, 12, 4, 7, 9), bi = c(20, 25, 30, 18, 22, 26, 19, 21),
                      ci = c(8, 12, 6, 9, 15, 7, 10, 11), di = c(17, 23, 27, 17, 19, 23, 16, 19),
                      n1i = c(20, 30, 25, 40, 22, 35, 28, 31), n2i = c(21, 29, 26, 38, 24, 33, 27, 30))
  e$fit <- metafast::rma(yi, vi, data = e$dat)
  e$fitm <- metafast::rma(yi, vi, mods = ~ x, data = e$dat)
  e$fit1 <- metafast::rma(0.3, 0.02)
  e$fit2 <- metafast::rma(c(0.3, 0.5), c(0.02, 0.03))
  e$fitEE <- metafast::rma(yi, vi, data = e$dat, method = "EE")
  e
}

# Exported functions and the S3 methods for fitted models, with their arguments.
fuzz_targets <- function() {
  ns <- asNamespace("metafast")
  ex <- sort(getNamespaceExports("metafast"))
  fns <- list()
  for (f in ex) {
    obj <- get(f, envir = ns)
    if (!is.function(obj)) next
    args <- setdiff(names(formals(obj)), "...")
    # generics: take the arguments of the mf_rma method (or the default)
    for (m in c(paste0(f, ".mf_rma"), paste0(f, ".default")))
      if (exists(m, envir = ns, inherits = FALSE)) {
        args <- union(args, setdiff(names(formals(get(m, envir = ns))), "..."))
        break
      }
    fns[[f]] <- list(fun = f, args = args)
  }
  for (g in c("confint", "predict", "anova", "summary", "residuals", "rstandard", "rstudent", "hatvalues",
              "weights", "logLik", "AIC", "influence", "update", "coef", "vcov", "fitted", "cooks.distance",
              "dfbetas")) {
    m <- paste0(g, ".mf_rma")
    if (exists(m, envir = ns, inherits = FALSE))
      fns[[g]] <- list(fun = g, args = setdiff(names(formals(get(m, envir = ns))), "..."), method = TRUE)
  }
  fns
}

fuzz_describe <- function(fun, args) {
  d <- vapply(names(args), function(a) {
    v <- args[[a]]
    s <- if (is.null(v)) "NULL" else if (inherits(v, "mf_rma")) sprintf("<rma k=%d p=%d>", v$k, v$p)
         else if (is.data.frame(v)) sprintf("<df %dx%d>", nrow(v), ncol(v))
         else paste(deparse(v, width.cutoff = 60L, nlines = 1L), collapse = "")
    paste0(a, " = ", substr(s, 1L, 80L))
  }, "")
  sprintf("%s(%s)", fun, paste(d, collapse = ", "))
}

`%||%` <- function(a, b) if (is.null(a)) b else a

fuzz_one <- function(target, env) {
  fun <- target$fun
  args <- list()
  nm <- target$args
  pick <- nm[stats::runif(length(nm)) < 0.5]
  for (a in pick) args[a] <- list(fuzz_value(a, env))
  # often a valid model or data as the first argument, to get past the first check
  if (length(nm) && stats::runif(1L) < 0.6) {
    first <- nm[1L]
    if (first %in% c("x", "object", "model"))
      args[[first]] <- sample(list(env$fit, env$fitm, env$fit1, env$fit2, env$fitEE), 1L)[[1L]]
    if (first == "yi") { args$yi <- env$dat$yi; if (stats::runif(1L) < 0.7) args$vi <- env$dat$vi }
  }
  # S3 methods are reached only through a fitted model
  if (isTRUE(target$method)) args[[nm[1L]]] <- sample(list(env$fit, env$fitm, env$fit1, env$fit2, env$fitEE), 1L)[[1L]]
  # progress bars and future plans stay off
  if ("progress" %in% nm && is.null(args$progress)) args$progress <- FALSE
  if ("verbose" %in% nm && is.null(args$verbose)) args$verbose <- FALSE
  if ("path" %in% names(args)) args$path <- NULL
  list(fun = fun, args = args, desc = fuzz_describe(fun, args))
}

# Run one call; returns NULL or a finding list(kind, call).
fuzz_call <- function(cl, env) {
  f <- get(cl$fun, envir = asNamespace("metafast"))
  if (cl$fun %in% c("confint", "predict", "anova", "summary", "residuals", "rstandard", "rstudent",
                    "hatvalues", "weights", "logLik", "AIC", "influence", "update", "coef", "vcov",
                    "fitted", "cooks.distance", "dfbetas"))
    f <- match.fun(cl$fun)
  setTimeLimit(elapsed = 60, transient = TRUE)
  on.exit(setTimeLimit(elapsed = Inf), add = TRUE)
  res <- tryCatch(suppressWarnings(utils::capture.output(do.call(f, cl$args, envir = env))),
                  error = function(e) e)
  if (inherits(res, "error")) {
    msg <- conditionMessage(res)
    if (grepl(fuzz_uninformative, msg) || !nzchar(msg))
      return(list(kind = paste("uninformative error:", substr(msg, 1L, 120L)), call = cl$desc))
  }
  NULL
}

fuzz_batch <- function(seed, n, log = NULL) {
  set.seed(seed)
  env <- fuzz_env()
  targets <- fuzz_targets()
  con <- if (!is.null(log)) file(log, "w") else NULL
  if (!is.null(con)) on.exit(close(con), add = TRUE)
  findings <- list()
  for (i in seq_len(n)) {
    cl <- fuzz_one(targets[[sample.int(length(targets), 1L)]], env)
    if (!is.null(con)) { writeLines(cl$desc, con); flush(con) }
    f <- fuzz_call(cl, env)
    if (!is.null(f)) findings[[length(findings) + 1L]] <- f
  }
  list(n = n, findings = findings)
}
