# Shared test data.

# BCG vaccine trials (Colditz et al. 1994; metadat's dat.bcg): the 2 x 2
# counts, absolute latitude, publication year and allocation method.
bcg_counts <- function() {
  data.frame(
    tpos = c(4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27),
    tneg = c(119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886),
    cpos = c(11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29),
    cneg = c(128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825),
    ablat = c(44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33),
    year = c(1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976),
    alloc = c("random", "random", "random", "random", "alternate", "alternate", "random",
              "random", "random", "systematic", "systematic", "systematic", "systematic"),
    stringsAsFactors = FALSE)
}

# Log risk ratios computed by metafor::escalc().
bcg_data <- function() {
  d <- bcg_counts()
  es <- metafor::escalc(measure = "RR", ai = d$tpos, bi = d$tneg, ci = d$cpos, di = d$cneg)
  data.frame(yi = as.numeric(es$yi), vi = as.numeric(es$vi), ablat = d$ablat, alloc = d$alloc)
}

# The same trials with the log risk ratios computed by hand (no metafor
# needed), plus total sample size and the allocation method.
bcg_lrr <- function() {
  d <- bcg_counts()
  with(d, data.frame(yi = log(tpos / (tpos + tneg)) - log(cpos / (cpos + cneg)),
                     vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg),
                     ni = tpos + tneg + cpos + cneg, ablat = ablat,
                     alloc = alloc, random = alloc == "random", stringsAsFactors = FALSE))
}
