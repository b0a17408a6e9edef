# Issue 10, part 3: metafor and metafast attached together, in either order.
# Each package's functions must reach each package's objects: our generics
# hand metafor's fits to metafor's methods (and regtest/ranktest/fsn to
# metafor's functions), metafor's generics hand our fits to our methods, and
# the metafor generics we do not implement say so.  Each order runs in a
# fresh R process (the search path of this one must not decide the answer).

both_script <- r"---(
args <- commandArgs(TRUE)
suppressPackageStartupMessages(if (args[1] == "metafor-first") { library(metafor); library(metafast) } else { library(metafast); library(metafor) })
cat("search:", paste(grep("metaf", search(), value = TRUE), collapse = " "), "\n")
dat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15, 0.8), vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02, 0.09))
mfit <- metafor::rma(yi, vi, data = dat)
ffit <- metafast::rma(yi, vi, data = dat)
png(tempfile(fileext = ".png"))
ok <- function(name, expr) {
  r <- tryCatch({ isTRUE(expr) }, error = function(e) { cat("ERROR", name, conditionMessage(e), "\n"); FALSE })
  cat(if (r) "OK" else "FAIL", name, "\n")
}
same <- function(a, b) isTRUE(all.equal(a, b))
# metafor's objects reach metafor's functions
set.seed(1); a <- forest(mfit); set.seed(1); b <- metafor::forest(mfit); ok("forest(metafor fit)", same(a, b))
ok("funnel(metafor fit)", same(funnel(mfit), metafor::funnel(mfit)))
ok("baujat(metafor fit)", same(baujat(mfit), metafor::baujat(mfit)))
set.seed(2); a <- permutest(mfit, iter = 50); set.seed(2); b <- metafor::permutest(mfit, iter = 50)
ok("permutest(metafor fit)", inherits(a, "permutest.rma.uni") && same(a$pval, b$pval))
ok("leave1out(metafor fit)", same(leave1out(mfit), metafor::leave1out(mfit)))
ok("cumul(metafor fit)", same(cumul(mfit), metafor::cumul(mfit)))
ok("gosh(metafor fit)", same(gosh(mfit)$res, metafor::gosh(mfit)$res))
ok("trimfill(metafor fit)", same(trimfill(mfit)$beta, metafor::trimfill(mfit)$beta) && inherits(trimfill(mfit), "rma.uni.trimfill"))
ok("regtest(metafor fit)", inherits(regtest(mfit), "regtest") && same(regtest(mfit)$pval, metafor::regtest(mfit)$pval))
ok("ranktest(metafor fit)", inherits(ranktest(mfit), "ranktest"))
ok("fsn(metafor fit)", same(fsn(mfit)$fsnum, metafor::fsn(mfit)$fsnum))
# metafast's fits reach metafast's functions (through metafor's generics when metafor masks ours)
ok("forest(metafast fit)", !is.null(forest(ffit)$studies))
ok("funnel(metafast fit)", !is.null(attr(funnel(ffit), "refline")))
ok("baujat(metafast fit)", same(baujat(ffit), metafast::baujat(ffit)))
ok("permutest(metafast fit)", inherits(permutest(ffit, iter = 50), "mf_permutest"))
ok("leave1out(metafast fit)", same(leave1out(ffit), metafast::leave1out(ffit)))
ok("cumul(metafast fit)", same(cumul(ffit), metafast::cumul(ffit)))
ok("gosh(metafast fit)", inherits(gosh(ffit), "mf_gosh"))
ok("trimfill(metafast fit)", same(trimfill(ffit), metafast::trimfill(ffit)))
# metafor generics we do not implement: a clear error
ok("blup(metafast fit)", same(blup(ffit)$pred, metafast::blup(ffit)$pred))
ok("vif(metafast fit)", inherits(vif(metafast::rma(yi, vi, mods = cbind(x1 = 1:7, x2 = c(2, 1, 4, 3, 6, 5, 7)), data = dat)), "vif.mf_rma"))
# hc() (a generic in both) and tes() (a function in both; a metafor fit goes to metafor's)
ok("hc(metafast fit)", inherits(hc(ffit), "mf_hc"))
ok("metafor::hc(metafast fit)", inherits(metafor::hc(ffit), "mf_hc"))
ok("hc(metafor fit)", inherits(hc(mfit), "hc.rma.uni") && same(hc(mfit)$ci.lb, metafor::hc(mfit)$ci.lb))
ok("tes(metafor fit)", inherits(tes(mfit), "tes"))
for (g in c("reporter", "fitstats")) {
  msg <- tryCatch({ get(g, asNamespace("metafor"))(ffit); "no error" }, error = function(e) conditionMessage(e))
  ok(paste0(g, "(metafast fit)"), grepl(paste0("metafast does not implement ", g, "()"), msg, fixed = TRUE))
}
ok("robust(metafast fit)", inherits(metafor::robust(ffit, cluster = c(1, 1, 2, 2, 3, 3, 4)), "mf_robust_rma"))
ok("selmodel(metafast fit)", inherits(metafor::selmodel(ffit, type = "stepfun", steps = 0.5), "mf_selmodel"))
ok("selmodel(metafor fit)", inherits(suppressWarnings(selmodel(mfit, type = "stepfun", steps = 0.5)), "rma.uni.selmodel"))
ok("robust(metafor fit)", inherits(robust(mfit, cluster = seq_len(mfit$k.all) %% 3), "robust.rma"))
ok("metafor::forest(metafast fit)", !is.null(metafor::forest(ffit)$studies))
ok("metafor::leave1out(metafast fit)", same(metafor::leave1out(ffit), metafast::leave1out(ffit)))
# rma.mv(), rma.mh() and rma.peto() fits (classes mf_rma_mv, mf_rma_mh / mf_rma_peto)
dat$study <- c(1, 1, 2, 2, 3, 3, 4)
fmv <- metafast::rma.mv(yi, vi, random = ~ 1 | study, data = dat)
ok("ranef(metafast rma.mv fit)", same(ranef(fmv), metafast:::ranef.mf_rma_mv(fmv)))
ok("profile(metafast rma.mv fit)", inherits(profile(fmv, steps = 3), "mf_profile"))
ok("robust(metafast rma.mv fit)", inherits(metafor::robust(fmv, cluster = dat$study), "mf_robust_rma"))
tab <- list(ai = c(4, 6, 3, 62, 33), bi = c(119, 300, 228, 13536, 5036), ci = c(11, 29, 11, 248, 47), di = c(128, 274, 209, 12619, 5761))
mh <- do.call(metafast::rma.mh, tab)
ok("leave1out(metafast rma.mh fit)", same(leave1out(mh), metafast:::leave1out.mf_rma_tab(mh)))
ok("cumul(metafast rma.peto fit)", same(cumul(do.call(metafast::rma.peto, tab)), metafast:::cumul.mf_rma_tab(do.call(metafast::rma.peto, tab))))
ok("forest(metafast rma.mh fit)", !is.null(forest(mh)))
)---"

run_both <- function(order) {
  f <- tempfile(fileext = ".R")
  writeLines(both_script, f)
  on.exit(unlink(f))
  old <- Sys.getenv("R_LIBS")
  Sys.setenv(R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep))
  on.exit(Sys.setenv(R_LIBS = old), add = TRUE)
  suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", f, order), stdout = TRUE, stderr = TRUE))
}

for (order in c("metafor-first", "metafast-first")) {
  test_that(sprintf("metafor and metafast loaded together (%s)", order), {
    skip_on_cran()
    skip_if_not_installed("metafor")
    out <- run_both(order)
    res <- grep("^(OK|FAIL|ERROR) ", out, value = TRUE)
    expect_true(any(grepl(if (order == "metafor-first") "package:metafast package:metafor" else
                            "package:metafor package:metafast", out, fixed = TRUE)), info = paste(out, collapse = "\n"))
    expect_equal(sum(startsWith(res, "OK ")), 39L, info = paste(out, collapse = "\n"))
    expect_equal(grep("^(FAIL|ERROR) ", res, value = TRUE), character(0))
  })
}
