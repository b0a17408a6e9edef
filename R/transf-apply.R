# Applying a user's 'transf' (or 'atransf'): every function that takes one goes through here, so
# that a transformation that errors, or returns anything but one number per value, gives an
# error naming the argument instead of an R-internal message or a silent coercion (issue 18).

# Run 'f()' (a call of the user's transformation that should give 'n' numbers) and check what it
# returned.
.mf_transf_run <- function(f, n, arg = "transf") {
  r <- tryCatch(f(), error = function(e)
    .mf_stop(sprintf("'%s' failed: %s", arg, conditionMessage(e))))
  ok_type <- is.numeric(r) || (is.logical(r) && all(is.na(r)))
  if (!ok_type || length(r) != n || is.matrix(r) && ncol(r) > 1L) {
    what <- if (!ok_type) paste("a value of class", class(r)[1L]) else sprintf("%d value(s)", length(r))
    .mf_stop(sprintf("'%s' must return one number for each value it is given; it returned %s.", arg, what))
  }
  as.double(r)
}

# An element-wise version of 'transf' (metafor calls transf(x), or transf(x, targs) when 'targs'
# is given) for vectors of estimates and bounds.
.mf_transf_elementwise <- function(transf, targs = NULL, arg = "transf") {
  if (!is.function(transf)) .mf_stop(sprintf("'%s' must be a function (e.g. exp).", arg))
  if (!is.null(targs) && !is.primitive(transf) && length(formals(transf)) == 1L)
    .mf_stop(sprintf("The function given as '%s' has no argument for 'targs'.", arg))
  one <- if (is.null(targs)) function(z) .mf_transf_run(function() transf(z), 1L, arg)
         else function(z) .mf_transf_run(function() transf(z, targs), 1L, paste0(arg, "' with 'targs"))
  function(v) vapply(v, one, numeric(1))
}
