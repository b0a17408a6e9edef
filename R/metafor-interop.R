# metafor and metafast loaded together (issue 10, part 3).  Both packages
# define forest(), funnel(), baujat(), cumul(), gosh(), leave1out(),
# permutest(), trimfill(), regtest(), ranktest() and fsn(); whichever is
# attached last masks the other's.  So that each package's objects reach
# that package's code in either order:
#  - our generics dispatch metafor's objects to metafor's methods (metafor's
#    S3 methods of these generics are registered for our generics too;
#    regtest(), ranktest() and fsn(), plain functions in metafor, hand a
#    metafor fit to metafor's function);
#  - metafor's generics dispatch our fits (class mf_rma, no clash with
#    metafor's classes) to our methods, and the metafor generics we do not
#    implement (robust(), selmodel(), reporter(), ...) stop with an error
#    that says so instead of "no applicable method".
# The registration runs when metafor's namespace is loaded, before or after
# ours.

.onLoad <- function(libname, pkgname) {
  hook <- function(...) .mf_register_metafor()
  attr(hook, "metafast") <- TRUE
  setHook(packageEvent("metafor", "onLoad"), hook)
  if (isNamespaceLoaded("metafor")) .mf_register_metafor()
  invisible(NULL)
}

# Remove our hook, so that an unloaded metafast does not register itself
# when metafor is loaded later.
.onUnload <- function(libpath) {
  ev <- packageEvent("metafor", "onLoad")
  hooks <- getHook(ev)
  keep <- Filter(function(h) !isTRUE(attr(h, "metafast")), hooks)
  if (length(keep) != length(hooks)) setHook(ev, keep, action = "replace")
  invisible(NULL)
}

# What a metafor generic without a metafast method says (the issue that will
# add it, or the alternative).
.mf_metafor_missing <- c(
  hc = "it is available for fits of rma() without moderators",
  fitstats = "use logLik(), deviance(), AIC(), BIC() or the fit's $fit.stats",
  df.residual = "use fit$k - fit$p",
  addpoly = "it is available for fits of rma()",
  qqnorm = "it is available for fits of rma(), rma.mh() and rma.peto()",
  plot = "it is available for fits of rma(), rma.mh() and rma.peto(); use forest(), funnel() or baujat()",
  reporter = "there is no equivalent", simulate = "there is no equivalent")

# Our generics that metafor defines too, and the metafor functions that are
# plain functions there (a metafor fit is handed to them).
.mf_shared_generics <- c("forest", "addpoly", "funnel", "baujat", "cumul", "gosh", "leave1out", "permutest", "trimfill",
                         "blup", "vif", "se", "robust", "labbe", "radial", "regplot", "hc")

.mf_register_metafor <- function() {
  if (!isNamespaceLoaded("metafor")) return(invisible(FALSE))
  mf <- asNamespace("metafor")
  us <- asNamespace("metafast")
  s3 <- getNamespaceInfo(mf, "S3methods")
  # 1. metafor's objects through our generics reach metafor's methods
  for (i in seq_len(nrow(s3))) {
    g <- s3[i, 1L]; cls <- s3[i, 2L]
    if (!g %in% .mf_shared_generics || cls == "default" || startsWith(cls, "mf_")) next
    m <- get0(if (is.na(s3[i, 3L])) paste(g, cls, sep = ".") else s3[i, 3L], envir = mf, inherits = FALSE)
    if (is.function(m)) registerS3method(g, cls, m, envir = us)
  }
  registerS3method("regtest", "rma", function(x, ...) metafor::regtest(x, ...), envir = us)
  # 2. our fits through metafor's generics reach our methods, or a clear error
  generics <- Filter(function(f) {
    fun <- get0(f, envir = mf, inherits = FALSE)
    is.function(fun) && .mf_calls_usemethod(body(fun))
  }, getNamespaceExports("metafor"))
  for (cls in names(.mf_our_classes)) {
    for (g in generics) {
      ours <- .mf_our_method(g, cls, us)
      registerS3method(g, cls, if (is.function(ours)) ours else .mf_not_implemented(g, cls), envir = mf)
    }
    # generics of other packages (stats, graphics, nlme) that metafor
    # implements for the corresponding fits of its own
    other <- unique(s3[s3[, 2L] %in% .mf_our_classes[[cls]] & !s3[, 1L] %in% generics, 1L])
    for (g in other) {
      if (!is.function(get0(g, envir = mf))) next
      ours <- .mf_our_method(g, cls, us)
      registerS3method(g, cls, if (is.function(ours)) ours else .mf_not_implemented(g, cls), envir = mf)
    }
  }
  invisible(TRUE)
}

.mf_calls_usemethod <- function(e) {
  if (is.call(e)) {
    if (identical(e[[1L]], as.name("UseMethod"))) return(TRUE)
    for (el in as.list(e)[-1L]) if (!missing(el) && .mf_calls_usemethod(el)) return(TRUE)
  }
  FALSE
}

# Our fit classes and the metafor classes they stand for.
.mf_our_classes <- list(mf_rma = c("rma", "rma.uni"), mf_rma_mv = c("rma", "rma.mv"),
                        mf_rma_tab = c("rma", "rma.mh", "rma.peto"))

# Our method of generic g for class cls (for mf_rma_tab also the methods of
# its subclasses mf_rma_mh / mf_rma_peto are found by dispatch; NULL: none).
.mf_our_method <- function(g, cls, us) {
  m <- get0(paste(g, cls, sep = "."), envir = us, inherits = FALSE)
  if (is.function(m)) return(m)
  utils::getS3method(g, cls, optional = TRUE, envir = us)
}

.mf_not_implemented <- function(g, cls = "mf_rma") {
  why <- .mf_metafor_missing[g]
  why <- if (is.na(why)) "" else paste0("; ", why)
  force(g)
  force(cls)
  function(...) .mf_stop(sprintf("metafast does not implement %s() for its fits (class '%s')%s.", g, cls, why))
}

# A fit made by metafor, handed to metafor's function `fn`: the caller's call
# is evaluated again with metafor's function (used by ranktest() and fsn(),
# which are plain functions in both packages).
.mf_is_metafor_fit <- function(x) inherits(x, "rma") && !inherits(x, "mf_rma")
.mf_to_metafor <- function(fn) {
  cl <- sys.call(-1L)
  cl[[1L]] <- call("::", as.name("metafor"), as.name(fn))
  eval(cl, parent.frame(2L))
}
