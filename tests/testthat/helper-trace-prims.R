# Tracing the graphics primitives of metafor's and our plot functions, to
# compare the drawn coordinates (test-forest-metafor-2.R, -3.R).
# Every call of the given graphics functions made inside namespace `pkg`
# while `expr` is evaluated on a null device: kind and the arguments.
trace_prims <- function(expr, pkg, prims = c("rect", "lines", "polygon", "text", "segments", "points")) {
  rec <- new.env()
  rec$calls <- list()
  add <- function(kind, v) rec$calls[[length(rec$calls) + 1L]] <- c(list(kind = kind), v)
  ns <- asNamespace(pkg)
  tr <- list(rect = quote(list(x0 = xleft, y0 = ybottom, x1 = xright, y1 = ytop, col = col)),
             lines = quote(list(x = x, y = list(...)[[1L]])),
             polygon = quote(list(x = x, y = y, col = col)),
             text = quote(list(x = x, y = list(...)[[1L]], labels = list(...)[[2L]], family = list(...)$family,
                               font = list(...)$font)),
             segments = quote(list(x0 = x0, y0 = y0, x1 = x1, y1 = y1, lty = lty, col = col)),
             points = quote(list(x = x, y = list(...)[[1L]])),
             axis = quote(list(side = side, at = at, labels = labels)))
  for (p in prims)
    suppressMessages(trace(p, tracer = bquote(.(add)(.(p), .(tr[[p]]))), where = ns, print = FALSE))
  on.exit(suppressMessages(for (p in prims) untrace(p, where = ns)), add = TRUE)
  f <- tempfile(fileext = ".png")
  grDevices::png(f, width = 1000, height = 700)
  on.exit({ grDevices::dev.off(); unlink(f) }, add = TRUE)
  val <- force(expr)
  list(value = val, calls = rec$calls)
}
of_kind <- function(tr, kind) Filter(function(z) z$kind == kind, tr$calls)

