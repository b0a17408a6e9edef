# vcalc() against metafor's vcalc() (issue 12, part 4): the examples of
# metafor's ?vcalc and random inputs, within tol_closed.

as_plain <- function(m) {
  m <- as.matrix(m)
  attributes(m) <- list(dim = dim(m))
  m
}
expect_same_v <- function(ours, theirs) {
  expect_equal(as_plain(ours), as_plain(theirs), tolerance = tol_closed)
}

test_that("vcalc() matches metafor on the examples of ?vcalc (outcomes, constructs, time points)", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  expect_same_v(vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6),
                metafor::vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6))
  expect_same_v(vcalc(vi, cluster = study, type = deltype, obs = esid, data = dat, rho = c(0.7, 0.5)),
                metafor::vcalc(vi, cluster = study, type = deltype, obs = esid, data = dat, rho = c(0.7, 0.5)))
  # rho as a list of two scalars is the same as the vector
  expect_same_v(vcalc(vi, cluster = study, type = deltype, obs = esid, data = dat, rho = list(0.7, 0.5)),
                metafor::vcalc(vi, cluster = study, type = deltype, obs = esid, data = dat, rho = c(0.7, 0.5)))
  # subgroup: the subgroups of a cluster are independent
  expect_same_v(vcalc(vi, cluster = study, subgroup = deltype, obs = esid, data = dat, rho = 0.6),
                metafor::vcalc(vi, cluster = study, subgroup = deltype, obs = esid, data = dat, rho = 0.6))
  dat <- metadat::dat.ishak2007
  dat <- reshape(dat, direction = "long", idvar = "study", v.names = c("yi", "vi"),
                 varying = list(c(2, 4, 6, 8), c(3, 5, 7, 9)))
  dat <- dat[order(dat$study, dat$time), ]
  dat <- dat[!is.na(dat$yi), ]
  expect_same_v(vcalc(vi, cluster = study, time1 = time, phi = 0.97, data = dat),
                metafor::vcalc(vi, cluster = study, time1 = time, phi = 0.97, data = dat))
  dat <- metadat::dat.kalaian1996
  expect_same_v(vcalc(vi, cluster = study, type = outcome, data = dat, rho = 0.66),
                metafor::vcalc(vi, cluster = study, type = outcome, data = dat, rho = 0.66))
  dat <- metadat::dat.berkey1998
  expect_same_v(vcalc(vi = vi, cluster = trial, type = outcome, data = dat, rho = 0.4),
                metafor::vcalc(vi = vi, cluster = trial, type = outcome, data = dat, rho = 0.4))
  # rvars: the correlation matrices are columns of the data
  expect_same_v(vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = dat),
                metafor::vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = dat))
  expect_same_v(vcalc(vi = vi, cluster = author, rvars = v1i:v2i, data = dat),
                metafor::vcalc(vi = vi, cluster = author, rvars = v1i:v2i, data = dat))
})

knapp <- function() {
  dat <- metadat::dat.knapp2017
  dat$task.diff <- unlist(lapply(split(dat, dat$study), function(x) {
    task.int <- as.integer(factor(x$task))
    diff.int <- as.integer(factor(x$difficulty))
    diff.int[is.na(diff.int)] <- 1
    paste0(task.int, ".", diff.int)
  }))
  R <- matrix(0.4, nrow = 8, ncol = 8)
  R[5:8, 1:4] <- R[1:4, 5:8] <- 0.28
  diag(R[1:4, 5:8]) <- 0.7
  diag(R[5:8, 1:4]) <- 0.7
  diag(R) <- 1
  rownames(R) <- colnames(R) <- paste0(rep(1:2, each = 4), ".", 1:4)
  list(dat = dat, R = R)
}

test_that("vcalc() matches metafor with shared groups (grp1/grp2, w1/w2) and rho as a matrix over obs", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  kn <- knapp()
  dat <- kn$dat
  R <- kn$R
  ref <- metafor::vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, w1 = n_sz, w2 = n_hc,
                        obs = task.diff, rho = R, data = dat)
  V <- vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, w1 = n_sz, w2 = n_hc,
             obs = task.diff, rho = R, data = dat)
  expect_true(is.matrix(V) && !inherits(V, "Matrix"))
  expect_same_v(V, ref)
  # only the shared-group part (rows of one outcome in a cluster: not positive
  # definite in several clusters, with the same warnings)
  w_ours <- w_theirs <- character(0)
  ours <- withCallingHandlers(
    vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, w1 = n_sz, w2 = n_hc, data = dat),
    warning = function(w) { w_ours <<- c(w_ours, conditionMessage(w)); invokeRestart("muffleWarning") })
  theirs <- withCallingHandlers(
    metafor::vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, w1 = n_sz, w2 = n_hc, data = dat),
    warning = function(w) { w_theirs <<- c(w_theirs, conditionMessage(w)); invokeRestart("muffleWarning") })
  expect_same_v(ours, theirs)
  expect_true(length(w_ours) > 0L)
  expect_identical(w_ours, gsub("\\s+$", "", w_theirs))
  expect_same_v(suppressWarnings(vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, data = dat)),
                suppressWarnings(metafor::vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, data = dat)))
  # the caller's data are unchanged
  dat0 <- dat
  suppressWarnings(vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, data = dat))
  expect_identical(dat, dat0)
})

test_that("vcalc(sparse = TRUE) returns a sparse Matrix with metafor's values", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  skip_if_not_installed("Matrix")
  kn <- knapp()
  dat <- kn$dat
  ref <- metafor::vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, w1 = n_sz, w2 = n_hc,
                        obs = task.diff, rho = kn$R, data = dat, sparse = TRUE)
  V <- vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, w1 = n_sz, w2 = n_hc,
             obs = task.diff, rho = kn$R, data = dat, sparse = TRUE)
  expect_s4_class(V, "sparseMatrix")
  expect_same_v(V, ref)
  dat <- metadat::dat.berkey1998
  expect_same_v(vcalc(vi = vi, cluster = author, rvars = c(v1i, v2i), data = dat, sparse = TRUE),
                metafor::vcalc(vi = vi, cluster = author, rvars = c(v1i, v2i), data = dat, sparse = TRUE))
})

# Random clusters of 1 to 6 rows with random groups, time points, weights,
# constructs and outcomes.
random_vcalc_data <- function(seed, n = 12) {
  set.seed(seed)
  ni <- sample(1:6, n, replace = TRUE)
  k <- sum(ni)
  data.frame(vi = runif(k, 0.01, 0.2), study = rep(sample(n), ni),
             type = sample(c("a", "b"), k, replace = TRUE),
             obs = sample(c("o1", "o2", "o3"), k, replace = TRUE),
             g1 = sample(1:3, k, replace = TRUE), g2 = sample(3:5, k, replace = TRUE),
             t1 = sample(0:3, k, replace = TRUE), t2 = sample(0:3, k, replace = TRUE),
             w1 = sample(10:50, k, replace = TRUE), w2 = sample(10:50, k, replace = TRUE),
             sub = sample(1:2, k, replace = TRUE))
}

test_that("vcalc() matches metafor on random inputs (every argument, in combination)", {
  skip_if_not_installed("metafor")
  Ro <- matrix(c(1, 0.3, 0.5, 0.3, 1, 0.2, 0.5, 0.2, 1), 3, dimnames = list(c("o1", "o2", "o3"), c("o1", "o2", "o3")))
  Rt <- matrix(c(1, -0.2, -0.2, 1), 2, dimnames = list(c("a", "b"), c("a", "b")))
  for (seed in 1:6) {
    d <- random_vcalc_data(seed)
    run <- function(f, ...) {
      cl <- as.call(c(list(f, quote(vi), cluster = quote(study), data = quote(d)), list(...)))
      suppressWarnings(eval(cl))
    }
    cases <- list(
      list(obs = quote(obs), rho = 0.5),
      list(type = quote(type), rho = 0.3),
      list(type = quote(type), obs = quote(obs), rho = c(0.6, 0.2)),
      list(type = quote(type), obs = quote(obs), rho = list(Ro, Rt)),
      list(obs = quote(obs), rho = Ro),
      list(type = quote(type), rho = Rt),
      list(time1 = quote(t1), phi = 0.8),
      list(time1 = quote(t1), time2 = quote(t2), grp1 = quote(g1), grp2 = quote(g2), phi = 0.7),
      list(grp1 = quote(g1), grp2 = quote(g2), w1 = quote(w1), w2 = quote(w2)),
      list(grp1 = quote(g1), w1 = quote(w1)),
      list(grp1 = quote(g1), grp2 = quote(g2), w1 = quote(w1), w2 = quote(w2), time1 = quote(t1),
           time2 = quote(t2), phi = -0.5, type = quote(type), obs = quote(obs), rho = c(0.4, 0.1)),
      list(subgroup = quote(sub), obs = quote(obs), rho = 0.5, checkpd = FALSE))
    for (cs in cases) {
      ours <- do.call(run, c(list(vcalc), cs), quote = TRUE)
      theirs <- do.call(run, c(list(metafor::vcalc), cs), quote = TRUE)
      expect_same_v(ours, theirs)
    }
  }
})

test_that("vcalc() warns as metafor when a cluster's matrix is not positive definite, and nearpd repairs it", {
  skip_if_not_installed("metafor")
  d <- data.frame(vi = c(0.1, 0.2, 0.15, 0.1, 0.1), study = c(1, 1, 1, 2, 2), obs = c("a", "b", "c", "a", "b"))
  R <- matrix(c(1, 0.9, -0.9, 0.9, 1, 0.9, -0.9, 0.9, 1), 3, dimnames = list(letters[1:3], letters[1:3]))
  msg <- "The var-cov matrix appears to be not positive definite in cluster 1."
  expect_warning(ours <- vcalc(vi, cluster = study, obs = obs, rho = R, data = d), msg, fixed = TRUE)
  expect_warning(theirs <- metafor::vcalc(vi, cluster = study, obs = obs, rho = R, data = d), msg, fixed = TRUE)
  expect_same_v(ours, theirs)
  expect_silent(vcalc(vi, cluster = study, obs = obs, rho = R, data = d, checkpd = FALSE))
  skip_if_not_installed("Matrix")
  ours <- vcalc(vi, cluster = study, obs = obs, rho = R, data = d, nearpd = TRUE)
  theirs <- metafor::vcalc(vi, cluster = study, obs = obs, rho = R, data = d, nearpd = TRUE)
  expect_same_v(ours, theirs)
  expect_true(min(eigen(ours[1:3, 1:3])$values) > 0)
  expect_same_v(vcalc(vi, cluster = study, obs = obs, rho = R, data = d, nearPD = TRUE), theirs)
})

test_that("vcalc(): missing and negative variances leave their rows undefined, as metafor", {
  skip_if_not_installed("metafor")
  vi <- c(0.1, NA, 0.3, 0.2)
  cl <- c(1, 1, 2, 2)
  expect_same_v(vcalc(vi, cluster = cl, obs = 1:4, rho = 0.5), metafor::vcalc(vi, cluster = cl, obs = 1:4, rho = 0.5))
  # without obs or type, the rows of a cluster are one outcome (correlation 1)
  expect_same_v(vcalc(0.1, cluster = cl, checkpd = FALSE), metafor::vcalc(0.1, cluster = cl, checkpd = FALSE))
  expect_equal(vcalc(0.1, cluster = cl, checkpd = FALSE)[1:2, 1:2], matrix(0.1, 2, 2))
  vn <- c(0.1, -0.2, 0.3, 0.2)
  expect_warning(ours <- vcalc(vn, cluster = cl, obs = 1:4, rho = 0.5), "NaN")
  expect_warning(theirs <- metafor::vcalc(vn, cluster = cl, obs = 1:4, rho = 0.5), "NaN")
  expect_same_v(ours, theirs)
})

test_that("vcalc(): bad input is a clear error naming the argument (and rows)", {
  d <- data.frame(vi = c(0.1, 0.2, 0.3, 0.2), study = c(1, NA, 2, 2), obs = c(1, 2, 1, 2), s2 = c(1, 1, 2, 2))
  expect_error(vcalc(vi, cluster = study, data = d), "'cluster'.*rows 2")
  expect_error(vcalc(vi, cluster = c(1, 2), data = d), "'cluster' \\(2\\).*'vi' \\(4\\)")
  expect_error(vcalc(vi, cluster = s2, obs = obs, data = d), "'rho'")
  expect_error(vcalc(vi, cluster = s2, obs = obs, rho = 1.2, data = d), "'rho'.*\\[-1,1\\]")
  expect_error(vcalc(vi, cluster = s2, obs = obs, rho = NA_real_, data = d), "'rho'")
  expect_error(vcalc(vi, cluster = s2, obs = obs, rho = c(0.2, 0.3), data = d), "'rho' must be a scalar")
  expect_error(vcalc(vi, cluster = s2, obs = obs, rho = matrix(0.5, 2, 2), data = d), "dimension names")
  expect_error(vcalc(vi, cluster = s2, time1 = obs, data = d), "'phi'")
  expect_error(vcalc(vi, cluster = s2, time1 = obs, phi = 2, data = d), "'phi'")
  expect_error(vcalc(vi, cluster = s2, grp2 = obs, data = d), "'grp1'")
  expect_error(vcalc(vi, cluster = s2, obs = c(1, NA, 1, 2), rho = 0.5, data = d), "'obs'.*rows 2")
  expect_error(vcalc(vi, cluster = s2, w1 = 1:3, data = d), "'w1' \\(3\\)")
  expect_error(vcalc(vi, cluster = s2, rvars = c(vi), data = d), "'rvars'")
  expect_error(vcalc(d$vi, cluster = d$s2, rvars = c(vi)), "'data'")
  expect_error(vcalc(vi, cluster = s2, data = d, sparse = NA), "'sparse'")
  expect_error(vcalc(vi, cluster = nope, data = d), "'cluster'")
  expect_error(vcalc(vi, cluster = s2, data = d, retdat = TRUE), "'retdat'")
  expect_warning(vcalc(vi, cluster = s2, data = d, foo = 1, checkpd = FALSE), "'foo'")
  expect_warning(vcalc(vi = 1, cluster = s2, rvars = c(obs, s2), obs = obs, rho = 0.3, data = d, checkpd = FALSE),
                 "'obs,rho' ignored")
})

test_that("vcalc() feeds rma.mv() as metafor's does", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- metadat::dat.assink2016
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6)
  fit <- rma.mv(yi, V, random = ~ 1 | study / esid, data = dat)
  ref <- metafor::rma.mv(yi, metafor::vcalc(vi, cluster = study, obs = esid, data = dat, rho = 0.6),
                         random = ~ 1 | study / esid, data = dat, control = list(rel.tol = 1e-12))
  expect_equal(fit$sigma2, ref$sigma2, tolerance = 1e-5)
  expect_equal(as.vector(fit$beta), as.vector(ref$beta), tolerance = 1e-5)
})

test_that("vcalc(): clusters of two rows that are not positive definite warn as metafor (closed-form check)", {
  skip_if_not_installed("metafor")
  d <- data.frame(vi = c(0.1, 0.2, 0.1, 0.3, 0.2), study = c(1, 1, 2, 2, 3), g1 = c(1, 2, 1, 1, 1))
  # two rows with the same outcome and groups: correlation 1 (not positive definite)
  w_ours <- w_theirs <- character(0)
  ours <- withCallingHandlers(vcalc(vi, cluster = study, grp1 = g1, data = d),
                              warning = function(w) { w_ours <<- c(w_ours, conditionMessage(w)); invokeRestart("muffleWarning") })
  theirs <- withCallingHandlers(metafor::vcalc(vi, cluster = study, grp1 = g1, data = d),
                                warning = function(w) { w_theirs <<- c(w_theirs, conditionMessage(w)); invokeRestart("muffleWarning") })
  expect_same_v(ours, theirs)
  expect_identical(w_ours, "The var-cov matrix appears to be not positive definite in cluster 2.")
  expect_identical(w_ours, gsub("\\s+$", "", w_theirs))
})

test_that("vcalc(rvars = ): missing values warn as metafor; blocks sit at their cluster's rows", {
  skip_if_not_installed("metafor")
  skip_if_not_installed("metadat")
  dat <- as.data.frame(metadat::dat.berkey1998)
  dat$v2i[4] <- NA
  msg <- "There are missing values in 'rvals' for cluster Lindhe et al."
  expect_warning(ours <- vcalc(vi, cluster = author, rvars = c(v1i, v2i), data = dat), msg, fixed = TRUE)
  expect_warning(theirs <- metafor::vcalc(vi, cluster = author, rvars = c(v1i, v2i), data = dat), msg, fixed = TRUE)
  expect_same_v(ours, theirs)
  # rows of a cluster that are not contiguous: the same matrix, permuted
  dat <- as.data.frame(metadat::dat.berkey1998)
  p <- c(seq(1, 9, 2), seq(2, 10, 2))
  V <- vcalc(vi, cluster = author, rvars = c(v1i, v2i), data = dat)
  expect_equal(vcalc(vi, cluster = author, rvars = c(v1i, v2i), data = dat[p, ]), V[p, p], tolerance = tol_closed)
})
