# aggregate() of an escalc object against metafor's aggregate.escalc()
# (issue 12, part 4): one row per cluster, within tol_closed.

as_ours <- function(d, ...) escalc(yi = yi, vi = vi, data = as.data.frame(d), ...)
as_theirs <- function(d, ...) metafor::escalc(yi = yi, vi = vi, data = as.data.frame(d), ...)

expect_same_agg <- function(a, b) {
  expect_s3_class(a, "mf_escalc")
  expect_identical(names(a), names(b))
  expect_identical(nrow(a), nrow(b))
  for (nm in names(b)) {
    x <- a[[nm]]
    y <- b[[nm]]
    if (is.numeric(y)) {
      expect_equal(as.vector(x), as.vector(y), tolerance = tol_closed, label = nm)
    } else if (is.factor(y)) {
      expect_identical(levels(x), levels(y), label = nm)
      expect_identical(as.character(x), as.character(y), label = nm)
    } else {
      expect_identical(x, y, label = nm)
    }
  }
  for (at in c("yi.names", "vi.names", "digits")) expect_identical(attr(a, at), attr(b, at), label = at)
  yn <- attr(b, "yi.names")
  if (yn %in% names(b)) expect_identical(attr(a[[yn]], "measure"), attr(b[[yn]], "measure"))
}

# the same call of aggregate() on our escalc object and on metafor's
both <- function(d, ..., prep = list()) {
  a <- do.call(as_ours, c(list(d), prep))
  b <- do.call(as_theirs, c(list(d), prep))
  list(ours = aggregate(a, ...), theirs = aggregate(b, ...))
}

test_that("aggregate() matches metafor on the examples of ?aggregate.escalc", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.konstantopoulos2011
  r <- both(dat, cluster = dat$district, struct = "ID", addk = TRUE)
  expect_same_agg(r$ours, r$theirs)
  dat <- metadat::dat.assink2016
  r <- both(dat, cluster = dat$study, rho = 0.6)
  expect_same_agg(r$ours, r$theirs)
  V <- metafor::vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  r <- both(dat, cluster = dat$study, V = V)
  expect_same_agg(r$ours, r$theirs)
  V <- metafor::vcalc(vi, cluster = study, type = deltype, obs = esid, data = dat, rho = c(0.7, 0.5))
  r <- both(dat, cluster = dat$study, V = V)
  expect_same_agg(r$ours, r$theirs)
  # our vcalc() gives the same pooled values
  a <- aggregate(as_ours(dat), cluster = study, V = vcalc(vi, cluster = study, type = deltype, obs = esid,
                                                             data = dat, rho = c(0.7, 0.5)))
  expect_same_agg(a, r$theirs)
  dat <- reshape(as.data.frame(metadat::dat.ishak2007), direction = "long", idvar = "study",
                 v.names = c("yi", "vi"), varying = list(c(2, 4, 6, 8), c(3, 5, 7, 9)))
  dat <- dat[order(dat$study, dat$time), ]
  dat <- dat[!is.na(dat$yi), ]
  rownames(dat) <- NULL
  r <- both(dat, cluster = dat$study, struct = "CAR", time = dat$time, phi = 0.9)
  expect_same_agg(r$ours, r$theirs)
})

test_that("aggregate() evaluates cluster, time and obs in the data, as metafor", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  a <- aggregate(as_ours(dat), cluster = study, struct = "CS+CAR", time = esid, rho = 0.3, phi = 0.8)
  b <- aggregate(as_theirs(dat), cluster = study, struct = "CS+CAR", time = esid, rho = 0.3, phi = 0.8)
  expect_same_agg(a, b)
  a <- aggregate(as_ours(dat), cluster = study, struct = "CS*CAR", time = esid, obs = deltype, rho = 0.3, phi = 0.8)
  b <- aggregate(as_theirs(dat), cluster = study, struct = "CS*CAR", time = esid, obs = deltype, rho = 0.3, phi = 0.8)
  expect_same_agg(a, b)
})

random_agg_data <- function(seed, n = 15) {
  set.seed(seed)
  ni <- sample(1:5, n, replace = TRUE)
  k <- sum(ni)
  data.frame(study = rep(sample(n) * 10, ni), yi = rnorm(k), vi = runif(k, 0.01, 0.3),
             time = unlist(lapply(ni, function(m) sample(6, m))), out = sample(c("a", "b", "c"), k, replace = TRUE),
             grp = factor(sample(c("x", "y"), k, replace = TRUE)), flag = sample(c(TRUE, FALSE), k, replace = TRUE),
             n = sample(20:100, k, replace = TRUE), stringsAsFactors = FALSE)
}

test_that("aggregate() matches metafor on random data (every struct, weights, per-cluster rho and phi)", {
  skip_if_not_installed("metafor")
  for (seed in 1:5) {
    d <- random_agg_data(seed)
    nc <- length(unique(d$study))
    cases <- list(
      list(struct = "ID"),
      list(rho = 0.4),
      list(rho = runif(nc, -0.1, 0.9)),
      list(rho = 0.5, weighted = FALSE),
      list(struct = "CAR", time = d$time, phi = 0.7),
      list(struct = "CAR", time = d$time, phi = runif(nc, 0, 1), weighted = FALSE),
      list(struct = "CS+CAR", time = d$time, rho = 0.3, phi = 0.6),
      list(struct = "CS*CAR", time = d$time, obs = d$out, rho = 0.5, phi = 0.9),
      list(V = d$vi * 1.5),
      list(rho = 0.6, addk = TRUE, digits = 3),
      list(rho = 0.6, digits = c(est = 2, pval = 1)))
    for (cs in cases) {
      r <- do.call(both, c(list(d, cluster = d$study), cs))
      expect_same_agg(r$ours, r$theirs)
    }
    # a full V matrix (block-diagonal by cluster)
    V <- metafor::vcalc(vi, cluster = study, obs = time, rho = 0.3, data = d)
    r <- both(d, cluster = d$study, V = V)
    expect_same_agg(r$ours, r$theirs)
  }
})

test_that("aggregate(): subset, missing values, na.rm, select, var.names and fun as metafor", {
  skip_if_not_installed("metafor")
  d <- random_agg_data(11)
  d$yi[c(2, 9)] <- NA
  d$vi[5] <- NA
  d$n[c(1, 3)] <- NA
  d$out[4] <- NA
  d0 <- d
  cl <- d$study
  for (cs in list(list(rho = 0.5), list(rho = 0.5, na.rm = c(TRUE, FALSE)),
                  list(rho = 0.5, subset = d$time > 2), list(rho = 0.5, subset = -(1:4)),
                  list(rho = 0.5, subset = c(1, 3, 5, 8, 10, 12)),
                  list(struct = "CAR", time = d$time, phi = 0.5, subset = d$time != 3),
                  list(rho = 0.5, fun = list(function(x) max(x), function(x) any(x), function(x) x[1])))) {
    r <- do.call(both, c(list(d, cluster = cl), cs))
    expect_same_agg(r$ours, r$theirs)
  }
  # na.rm = FALSE: a cluster with a missing variance cannot be pooled (weighted) ...
  expect_error(aggregate(as_ours(d), cluster = cl, rho = 0.5, na.rm = FALSE), "Cannot take inverse of 'V' in cluster")
  expect_error(aggregate(as_theirs(d), cluster = cl, rho = 0.5, na.rm = FALSE), "Cannot take inverse")
  # ... and its mean is missing (unweighted)
  r <- both(d, cluster = cl, rho = 0.5, na.rm = FALSE, weighted = FALSE)
  expect_same_agg(r$ours, r$theirs)
  a <- aggregate(as_ours(d), cluster = study, rho = 0.5, select = c(study, yi, vi))
  b <- aggregate(as_theirs(d), cluster = study, rho = 0.5, select = c(study, yi, vi))
  expect_same_agg(a, b)
  d2 <- d
  names(d2)[2:3] <- c("est", "var")
  a <- aggregate(escalc(yi = est, vi = var, data = d2, var.names = c("g", "vg")), cluster = study, rho = 0.5,
                 var.names = c("est", "var"))
  b <- aggregate(metafor::escalc(yi = est, vi = var, data = d2, var.names = c("g", "vg")), cluster = study,
                 rho = 0.5, var.names = c("est", "var"))
  expect_same_agg(a, b)
  expect_identical(d, d0)  # the caller's data are unchanged
})

test_that("aggregate() warns and stops as metafor for a V that is not positive definite or joins clusters", {
  skip_if_not_installed("metafor")
  d <- data.frame(study = c(1, 1, 2, 2, 2), yi = c(0.1, 0.3, 0.2, 0.5, 0.4), vi = c(0.1, 0.1, 0.2, 0.1, 0.15))
  V <- diag(d$vi)
  V[3, 4] <- V[4, 3] <- 0.3   # |cor| > 1 in cluster 2
  expect_warning(expect_error(aggregate(as_ours(d), cluster = study, V = V), "non-positive-definite 'V'"),
                 "'V' appears to be not positive definite in cluster 2.", fixed = TRUE)
  expect_warning(expect_error(aggregate(as_theirs(d), cluster = study, V = V), "non-positive-definite"),
                 "'V' appears to be not positive definite in cluster 2.", fixed = TRUE)
  V <- diag(d$vi)
  V[2, 3] <- V[3, 2] <- 0.01
  msg <- sprintf("Estimates in cluster '%d' appear to have non-zero covariances with estimates belonging to different clusters.",
                 1:2)
  w_ours <- w_theirs <- character(0)
  a <- withCallingHandlers(aggregate(as_ours(d), cluster = study, V = V),
                           warning = function(w) { w_ours <<- c(w_ours, conditionMessage(w)); invokeRestart("muffleWarning") })
  b <- withCallingHandlers(aggregate(as_theirs(d), cluster = study, V = V),
                           warning = function(w) { w_theirs <<- c(w_theirs, conditionMessage(w)); invokeRestart("muffleWarning") })
  expect_identical(w_ours, msg)
  expect_identical(gsub("\\s+$", "", w_theirs), msg)
  expect_same_agg(a, b)
})

test_that("aggregate(): bad input is a clear error naming the argument", {
  d <- data.frame(study = c(1, 1, NA, 2), yi = c(0.1, 0.3, 0.2, 0.5), vi = c(0.1, 0.1, 0.2, 0.1), t = 1:4)
  e <- escalc(yi = yi, vi = vi, data = d)
  expect_error(aggregate(e, rho = 0.5), "'cluster'")
  expect_error(aggregate(e, cluster = study, rho = 0.5), "'cluster'.*rows 3")
  expect_error(aggregate(e, cluster = c(1, 2), rho = 0.5), "'cluster' \\(2\\)")
  e$study[3] <- 2
  expect_error(aggregate(e, cluster = study), "'rho'")
  expect_error(aggregate(e, cluster = study, rho = 1.5), "'rho'")
  expect_error(aggregate(e, cluster = study, rho = c(0.1, 0.2, 0.3)), "'rho' \\(3\\)")
  expect_error(aggregate(e, cluster = study, struct = "CAR", phi = 0.5), "'time'")
  expect_error(aggregate(e, cluster = study, struct = "CAR", time = t, phi = -0.5), "'phi'")
  expect_error(aggregate(e, cluster = study, struct = "AR", rho = 0.5), "'struct'")
  expect_error(aggregate(e, cluster = study, V = matrix(1, 3, 3)), "'V'")
  expect_error(aggregate(e, cluster = study, V = 1:3), "'V' \\(3\\)")
  expect_error(aggregate(e, cluster = study, rho = 0.5, fun = mean), "'fun'")
  expect_error(aggregate(e, cluster = study, rho = 0.5, subset = c(TRUE, FALSE)), "'subset'")
  expect_error(aggregate(e, cluster = study, rho = 0.5, var.names = "yi"), "'var.names'")
  expect_error(aggregate(e, cluster = study, rho = 0.5, weighted = NA), "'weighted'")
})

test_that("aggregate() with a sparse V (e.g. vcalc(sparse = TRUE)) matches metafor, block by block", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  skip_if_not_installed("Matrix")
  dat <- metadat::dat.assink2016
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6, sparse = TRUE)
  a <- aggregate(as_ours(dat), cluster = study, V = V)
  b <- aggregate(as_theirs(dat), cluster = study, V = V)
  expect_same_agg(a, b)
  expect_same_agg(a, aggregate(as_theirs(dat), cluster = study, V = as.matrix(V)))
  # a missing covariance, a cross-cluster covariance and a subset
  d <- data.frame(study = c(1, 1, 2, 2, 3), yi = c(0.1, 0.3, 0.2, 0.5, 0.4), vi = c(0.1, 0.1, 0.2, 0.1, 0.15))
  Vd <- diag(d$vi)
  Vd[2, 3] <- Vd[3, 2] <- 0.01
  Vd[4, 5] <- Vd[5, 4] <- NA
  Vs <- Matrix::Matrix(Vd, sparse = TRUE)
  for (sub in list(rep(TRUE, 5), c(TRUE, TRUE, TRUE, TRUE, FALSE))) {
    w_ours <- w_theirs <- character(0)
    a <- withCallingHandlers(aggregate(as_ours(d), cluster = study, V = Vs, subset = sub),
                             warning = function(w) { w_ours <<- c(w_ours, conditionMessage(w)); invokeRestart("muffleWarning") })
    b <- withCallingHandlers(aggregate(as_theirs(d), cluster = study, V = Vd, subset = sub),
                             warning = function(w) { w_theirs <<- c(w_theirs, conditionMessage(w)); invokeRestart("muffleWarning") })
    expect_same_agg(a, b)
    expect_identical(w_ours, gsub("\\s+$", "", w_theirs))
  }
})
