# Issue 10, "no silent difference from metafor": every argument of metafor's
# version of one of our functions is either a formal argument of ours
# (implemented with metafor's meaning, tested elsewhere against metafor), a
# cosmetic argument that is accepted and ignored, or rejected with an error
# that names it.  The formals are enumerated from the installed metafor, so
# an argument that metafor adds makes this test fail until it is implemented
# or added to the table in R/metafor-args.R.

tab <- metafast:::.mf_metafor_args
cosmetic <- metafast:::.mf_metafor_cosmetic
dots_ours <- metafast:::.mf_dots_ours
us <- asNamespace("metafast")

fdat <- data.frame(yi = c(0.10, 0.30, 0.35, 0.65, 0.45, 0.15), vi = c(0.03, 0.03, 0.05, 0.01, 0.05, 0.02),
                   x = c(1, 2, 3, 4, 5, 6))
ffit <- rma(yi, vi, data = fdat)
fdat$grp <- c(1, 1, 2, 2, 3, 3)
fmv <- rma.mv(yi, vi, random = ~ 1 | grp, data = fdat)
# 2x2 tables for rma.mh() and rma.peto()
tdat <- list(ai = c(4, 6, 3, 62, 33), bi = c(119, 300, 228, 13536, 5036), ci = c(11, 29, 11, 248, 47),
             di = c(128, 274, 209, 12619, 5761))
mhfit <- do.call(rma.mh, tdat)
petofit <- do.call(rma.peto, tdat)
gfit <- do.call(rma.glmm, c(list(measure = "OR"), tdat))
fmv2 <- rma.mv(yi, vi, random = ~ 1 | g/x, data = transform(fdat, g = c(1, 1, 2, 2, 3, 3)))
in_png <- function(expr) {
  f <- tempfile(fileext = ".png")
  grDevices::png(f)
  on.exit({ grDevices::dev.off(); unlink(f) })
  force(expr)
}

# metafor function, our function (key of the table), and a call of ours with
# one extra named argument.
formals_pairs <- list(
  list("rma.uni", "rma", function(a) do.call(rma, c(list(yi = fdat$yi, vi = fdat$vi), a))),
  list("escalc", "escalc", function(a) do.call(escalc, c(list(measure = "MD", m1i = 1:3, m2i = 2:4, sd1i = c(1, 1, 1),
                                                                sd2i = c(1, 1, 1), n1i = c(10, 10, 10), n2i = c(10, 10, 10)), a))),
  list("summary.escalc", "summary.mf_escalc",
       function(a) do.call(summary, c(list(escalc(measure = "MD", m1i = 1:3, m2i = 2:4, sd1i = c(1, 1, 1), sd2i = c(1, 1, 1),
                                                  n1i = c(10, 10, 10), n2i = c(10, 10, 10))), a))),
  list("vcalc", "vcalc", function(a) do.call(vcalc, c(list(vi = c(0.1, 0.2), cluster = c(1, 1)), a))),
  list("bldiag", "bldiag", function(a) do.call(bldiag, c(list(diag(2)), a))),
  list("aggregate.escalc", "aggregate.mf_escalc",
       function(a) do.call(aggregate, c(list(escalc(yi = c(0.1, 0.2), vi = c(0.1, 0.2)), cluster = c(1, 1), rho = 0.5), a))),
  list("print.rma.uni", "print.mf_rma", function(a) utils::capture.output(do.call(print, c(list(ffit), a)))),
  list("summary.rma", "summary.mf_rma", function(a) do.call(summary, c(list(ffit), a))),
  list("predict.rma", "predict.mf_rma", function(a) do.call(predict, c(list(ffit), a))),
  list("confint.rma.uni", "confint.mf_rma", function(a) do.call(confint, c(list(ffit), a))),
  list("anova.rma", "anova.mf_rma", function(a) do.call(anova, c(list(ffit), a))),
  list("vcov.rma", "vcov.mf_rma", function(a) do.call(vcov, c(list(ffit), a))),
  list("fitted.rma", "fitted.mf_rma", function(a) do.call(fitted, c(list(ffit), a))),
  list("residuals.rma", "residuals.mf_rma", function(a) do.call(residuals, c(list(ffit), a))),
  list("rstandard.rma.uni", "rstandard.mf_rma", function(a) do.call(rstandard, c(list(ffit), a))),
  list("rstudent.rma.uni", "rstudent.mf_rma", function(a) do.call(rstudent, c(list(ffit), a))),
  list("weights.rma.uni", "weights.mf_rma", function(a) do.call(weights, c(list(ffit), a))),
  list("hatvalues.rma.uni", "hatvalues.mf_rma", function(a) do.call(hatvalues, c(list(ffit), a))),
  list("influence.rma.uni", "influence.mf_rma", function(a) do.call(influence, c(list(ffit), a))),
  list("cooks.distance.rma.uni", "cooks.distance.mf_rma", function(a) do.call(cooks.distance, c(list(ffit), a))),
  list("dfbetas.rma.uni", "dfbetas.mf_rma", function(a) do.call(dfbetas, c(list(ffit), a))),
  list("coef.rma", "coef.mf_rma", function(a) do.call(coef, c(list(ffit), a))),
  list("logLik.rma", "logLik.mf_rma", function(a) do.call(logLik, c(list(ffit), a))),
  list("leave1out.rma.uni", "leave1out.mf_rma", function(a) do.call(leave1out, c(list(ffit), a))),
  list("cumul.rma.uni", "cumul.mf_rma", function(a) do.call(cumul, c(list(ffit), a))),
  list("gosh.rma", "gosh.mf_rma", function(a) do.call(gosh, c(list(ffit), a))),
  list("permutest.rma.uni", "permutest.mf_rma", function(a) do.call(permutest, c(list(ffit), a))),
  list("regtest", "regtest.mf_rma", function(a) do.call(regtest, c(list(ffit), a))),
  list("regtest", "regtest.default", function(a) do.call(regtest, c(list(fdat$yi, fdat$vi), a))),
  list("ranktest", "ranktest", function(a) do.call(ranktest, c(list(fdat$yi, fdat$vi), a))),
  list("trimfill.rma.uni", "trimfill.mf_rma", function(a) do.call(trimfill, c(list(ffit), a))),
  list("fsn", "fsn", function(a) do.call(fsn, c(list(fdat$yi, fdat$vi), a))),
  list("update.rma", "update.mf_rma", function(a) do.call(update, c(list(ffit), a))),
  list("forest.rma", "forest.mf_rma", function(a) in_png(do.call(forest, c(list(ffit), a)))),
  list("forest.default", "forest.default", function(a) in_png(do.call(forest, c(list(fdat$yi, fdat$vi), a)))),
  list("funnel.rma", "funnel.mf_rma", function(a) in_png(do.call(funnel, c(list(ffit), a)))),
  list("funnel.default", "funnel.default", function(a) in_png(do.call(funnel, c(list(fdat$yi, fdat$vi), a)))),
  list("baujat.rma", "baujat.mf_rma", function(a) in_png(do.call(baujat, c(list(ffit), a)))),
  list("plot.infl.rma.uni", "plot.mf_infl", function(a) in_png(do.call(plot, c(list(influence(ffit)), a)))),
  list("plot.gosh.rma", "plot.mf_gosh", function(a) in_png(do.call(plot, c(list(gosh(ffit)), a)))),
  list("plot.cumul.rma", "plot.mf_cumul", function(a) in_png(do.call(plot, c(list(cumul(ffit)), a)))),
  list("hatvalues.rma.mv", "hatvalues.mf_rma_mv", function(a) do.call(hatvalues, c(list(fmv), a))),
  list("weights.rma.mv", "weights.mf_rma_mv", function(a) do.call(weights, c(list(fmv), a))),
  list("fitted.rma", "fitted.mf_rma_mv", function(a) do.call(fitted, c(list(fmv), a))),
  list("residuals.rma", "residuals.mf_rma_mv", function(a) do.call(residuals, c(list(fmv), a))),
  list("rstandard.rma.mv", "rstandard.mf_rma_mv", function(a) do.call(rstandard, c(list(fmv), a))),
  list("ranef.rma.mv", "ranef.mf_rma_mv", function(a) do.call(ranef, c(list(fmv), a))),
  list("anova.rma", "anova.mf_rma_mv", function(a) do.call(anova, c(list(fmv), a))),
  list("update.rma", "update.mf_rma_mv", function(a) do.call(update, c(list(fmv), a))),
  list("rma.mh", "rma.mh", function(a) do.call(rma.mh, c(tdat, a))),
  list("rma.peto", "rma.peto", function(a) do.call(rma.peto, c(tdat, a))),
  list("rma.glmm", "rma.glmm", function(a) do.call(rma.glmm, c(list(measure = "OR", method = "EE"), tdat, a))),
  list("anova.rma", "anova.mf_rma_glmm", function(a) do.call(anova, c(list(gfit), a))),
  list("profile.rma.uni", "profile.mf_rma_glmm", function(a) in_png(do.call(profile, c(list(gfit, steps = 2), a)))),
  list("forest.rma", "forest.mf_rma_glmm", function(a) in_png(do.call(forest, c(list(gfit), a)))),
  list("funnel.rma", "funnel.mf_rma_glmm", function(a) in_png(do.call(funnel, c(list(gfit), a)))),
  list("print.rma.mh", "print.mf_rma_mh", function(a) utils::capture.output(do.call(print, c(list(mhfit), a)))),
  list("print.rma.peto", "print.mf_rma_peto", function(a) utils::capture.output(do.call(print, c(list(petofit), a)))),
  list("summary.rma", "summary.mf_rma_tab", function(a) do.call(summary, c(list(mhfit), a))),
  list("coef.rma", "coef.mf_rma_tab", function(a) do.call(coef, c(list(mhfit), a))),
  list("vcov.rma", "vcov.mf_rma_tab", function(a) do.call(vcov, c(list(mhfit), a))),
  list("fitted.rma", "fitted.mf_rma_tab", function(a) do.call(fitted, c(list(mhfit), a))),
  list("residuals.rma", "residuals.mf_rma_tab", function(a) do.call(residuals, c(list(mhfit), a))),
  list("weights.rma.mh", "weights.mf_rma_tab", function(a) do.call(weights, c(list(mhfit), a))),
  list("weights.rma.peto", "weights.mf_rma_tab", function(a) do.call(weights, c(list(petofit), a))),
  list("rstandard.rma.mh", "rstandard.mf_rma_tab", function(a) do.call(rstandard, c(list(mhfit), a))),
  list("rstandard.rma.peto", "rstandard.mf_rma_tab", function(a) do.call(rstandard, c(list(petofit), a))),
  list("rstudent.rma.mh", "rstudent.mf_rma_tab", function(a) do.call(rstudent, c(list(mhfit), a))),
  list("rstudent.rma.peto", "rstudent.mf_rma_tab", function(a) do.call(rstudent, c(list(petofit), a))),
  list("confint.rma.mh", "confint.mf_rma_tab", function(a) do.call(confint, c(list(mhfit), a))),
  list("confint.rma.peto", "confint.mf_rma_tab", function(a) do.call(confint, c(list(petofit), a))),
  list("leave1out.rma.mh", "leave1out.mf_rma_tab", function(a) do.call(leave1out, c(list(mhfit), a))),
  list("leave1out.rma.peto", "leave1out.mf_rma_tab", function(a) do.call(leave1out, c(list(petofit), a))),
  list("cumul.rma.mh", "cumul.mf_rma_tab", function(a) do.call(cumul, c(list(mhfit), a))),
  list("cumul.rma.peto", "cumul.mf_rma_tab", function(a) do.call(cumul, c(list(petofit), a))),
  list("logLik.rma", "logLik.mf_rma_tab", function(a) do.call(logLik, c(list(mhfit), a))),
  list("deviance.rma", "deviance.mf_rma_tab", function(a) do.call(deviance, c(list(mhfit), a))),
  list("AIC.rma", "AIC.mf_rma_tab", function(a) do.call(AIC, c(list(mhfit), a))),
  list("BIC.rma", "BIC.mf_rma_tab", function(a) do.call(BIC, c(list(mhfit), a))),
  list("funnel.rma", "funnel.mf_rma_tab", function(a) in_png(do.call(funnel, c(list(mhfit), a)))),
  list("forest.rma", "forest.mf_rma_tab", function(a) in_png(do.call(forest, c(list(mhfit), a)))),
  list("baujat.rma", "baujat.mf_rma_tab", function(a) in_png(do.call(baujat, c(list(mhfit), a)))),
  list("predict.rma", "predict.mf_rma_tab", function(a) do.call(predict, c(list(petofit), a))),
  list("model.matrix.rma", "model.matrix.mf_rma_tab", function(a) do.call(model.matrix, c(list(mhfit), a))),
  list("formula.rma", "formula.mf_rma_tab", function(a) do.call(formula, c(list(mhfit), a))),
  list("gosh.rma", "gosh.mf_rma_tab", function(a) do.call(gosh, c(list(mhfit), a))),
  list("qqnorm.rma.mh", "qqnorm.mf_rma_tab", function(a) in_png(do.call(qqnorm, c(list(mhfit), a)))),
  list("qqnorm.rma.peto", "qqnorm.mf_rma_tab", function(a) in_png(do.call(qqnorm, c(list(petofit), a)))),
  list("plot.rma.mh", "plot.mf_rma_tab", function(a) in_png(do.call(plot, c(list(mhfit), a)))),
  list("plot.rma.peto", "plot.mf_rma_tab", function(a) in_png(do.call(plot, c(list(petofit), a)))),
  list("plot.rma.uni", "plot.mf_rma", function(a) in_png(do.call(plot, c(list(ffit), a)))),
  list("qqnorm.rma.uni", "qqnorm.mf_rma", function(a) in_png(do.call(qqnorm, c(list(ffit, reps = 20), a)))),
  list("confint.rma.mv", "confint.mf_rma_mv", function(a) do.call(confint, c(list(fmv2), a))),
  list("profile.rma.mv", "profile.mf_rma_mv", function(a) in_png(do.call(profile, c(list(fmv2, steps = 2), a)))),
  list("rstudent.rma.mv", "rstudent.mf_rma_mv", function(a) do.call(rstudent, c(list(fmv2), a))),
  list("cooks.distance.rma.mv", "cooks.distance.mf_rma_mv", function(a) do.call(cooks.distance, c(list(fmv2), a))),
  list("dfbetas.rma.mv", "dfbetas.mf_rma_mv", function(a) do.call(dfbetas, c(list(fmv2), a)))
)
formals_pairs <- c(formals_pairs, list(
  list("se.rma", "se.mf_rma", function(a) do.call(se, c(list(ffit), a))),
  list("replmiss", "replmiss", function(a) do.call(replmiss, c(list(c(1, NA), 2), a))),
  list("dfround", "dfround", function(a) do.call(dfround, c(list(fdat, 1), a))),
  list("conv.wald", "conv.wald", function(a) do.call(conv.wald, c(list(out = 1, ci.lb = 0.5, ci.ub = 1.5), a))),
  list("conv.delta", "conv.delta", function(a) do.call(conv.delta, c(list(yi = 1, vi = 0.1, transf = exp), a))),
  list("conv.2x2", "conv.2x2", function(a) do.call(conv.2x2, c(list(ori = 2, ni = 10, n1i = 5, n2i = 5), a))),
  list("to.wide", "to.wide", function(a) do.call(to.wide, c(list(data.frame(s = c(1, 1), g = c("a", "b"), x = 1:2), "s", "g", grpvars = "x"), a))),
  list("conv.fivenum", "conv.fivenum", function(a) do.call(conv.fivenum, c(list(min = 1, median = 2, max = 4, n = 10), a))),
  list("contrmat", "contrmat", function(a) do.call(contrmat, c(list(data.frame(u = "a", v = "b"), "u", "v"), a))),
  list("to.long", "to.long", function(a) do.call(to.long, c(list("OR", ai = 1, bi = 2, ci = 3, di = 4), a))),
  list("to.table", "to.table", function(a) do.call(to.table, c(list("OR", ai = 1, bi = 2, ci = 3, di = 4), a)))))
# robust() (issue 13)
formals_pairs <- c(formals_pairs, list(
  list("robust.rma.uni", "robust.mf_rma", function(a) do.call(robust, c(list(ffit, cluster = fdat$grp), a))),
  list("robust.rma.mv", "robust.mf_rma_mv", function(a) do.call(robust, c(list(fmv, cluster = fdat$grp), a)))
))
# selection models (issue 15)
sfit <- suppressWarnings(selmodel(rma(yi, vi, data = fdat, method = "ML"), type = "stepfun", steps = 0.5))
formals_pairs <- c(formals_pairs, list(
  list("selmodel.rma.uni", "selmodel.mf_rma", function(a) do.call(selmodel, c(list(ffit, type = "stepfun", steps = 0.5), a))),
  list("print.rma.uni", "print.mf_selmodel", function(a) utils::capture.output(do.call(print, c(list(sfit), a)))),
  list("anova.rma", "anova.mf_selmodel", function(a) do.call(anova, c(list(sfit), a))),
  list("plot.rma.uni.selmodel", "plot.mf_selmodel", function(a) in_png(do.call(plot, c(list(sfit), a)))),
  list("confint.rma.uni.selmodel", "confint.mf_selmodel", function(a) do.call(confint, c(list(sfit, delta = 2), a))),
  list("profile.rma.uni.selmodel", "profile.mf_selmodel",
       function(a) in_png(do.call(profile, c(list(sfit, delta = 2, steps = 2), a))))))
# the transf.* functions (same formals as metafor's; no `...`)
formals_pairs <- c(formals_pairs, lapply(
  grep("^transf\\.", getNamespaceExports("metafast"), value = TRUE),
  function(fn) list(fn, fn, function(a) do.call(get(fn, asNamespace("metafast")), c(list(0.5), a)))))

# the diagnostic plots labbe(), radial(), regplot() and llplot() (issue 16)
lfit <- do.call(rma, c(list(measure = "RR"), tdat))
rfit <- rma(yi, vi, mods = ~ x, data = fdat)
rvfit <- rma.mv(yi, vi, mods = ~ x, random = ~ 1 | grp, data = fdat)
formals_pairs <- c(formals_pairs, list(
  list("labbe.rma", "labbe.mf_rma", function(a) in_png(do.call(labbe, c(list(lfit), a)))),
  list("labbe.rma", "labbe.mf_rma_tab", function(a) in_png(do.call(labbe, c(list(mhfit), a)))),
  list("radial.rma", "radial.mf_rma", function(a) in_png(do.call(radial, c(list(ffit), a)))),
  list("radial.rma", "radial.mf_rma_tab", function(a) in_png(do.call(radial, c(list(mhfit), a)))),
  list("regplot.rma", "regplot.mf_rma", function(a) in_png(do.call(regplot, c(list(rfit), a)))),
  list("regplot.rma", "regplot.mf_rma_mv", function(a) in_png(do.call(regplot, c(list(rvfit), a)))),
  list("points.regplot", "points.mf_regplot", function(a) in_png({
    r <- regplot(rfit)
    do.call(points, c(list(r), a))
  })),
  list("llplot", "llplot", function(a) in_png(do.call(llplot, c(list(measure = "GEN", yi = fdat$yi, vi = fdat$vi), a))))))

# addpoly() and forest() of cumul() (issue 16)
formals_pairs <- c(formals_pairs, list(
  list("forest.cumul.rma", "forest.mf_cumul", function(a) in_png(do.call(forest, c(list(cumul(ffit)), a)))),
  list("addpoly.rma", "addpoly.mf_rma", function(a) in_png({
    forest(ffit, xlim = c(-2, 2), rows = 8:3)
    do.call(addpoly, c(list(ffit, row = 1), a))
  })),
  list("plot.vif.rma", "plot.vif.mf_rma", function(a)
    in_png(do.call(plot, c(list(vif(rma(yi, vi, mods = cbind(x, x2 = c(2, 1, 4, 3, 6, 5)), data = fdat), sim = 20,
                                    seed = 1)), a)))),
  list("plot.permutest.rma.uni", "plot.mf_permutest", function(a)
    in_png(do.call(plot, c(list(permutest(rfit, exact = TRUE, progress = FALSE)), a)))),
  list("addpoly.predict.rma", "addpoly.predict.mf_rma", function(a) in_png({
    forest(ffit, xlim = c(-2, 2))
    do.call(addpoly, c(list(predict(ffit)), a))
  })),
  list("addpoly.default", "addpoly.default", function(a) in_png({
    forest(ffit, xlim = c(-2, 2))
    do.call(addpoly, c(list(0.3, vi = 0.01), a))
  }))))

# tes() and hc() (issue 15)
formals_pairs <- c(formals_pairs, list(
  list("tes", "tes", function(a) do.call(tes, c(list(fdat$yi, fdat$vi, test = "chi2"), a))),
  list("hc.rma.uni", "hc.mf_rma", function(a) do.call(hc, c(list(ffit), a)))))

# The names metafor's function reads from `...` (its .chkdots() list).
metafor_hidden <- function(f) {
  out <- character(0)
  walk <- function(e) {
    if (is.call(e)) {
      if (identical(e[[1L]], as.name(".chkdots")) && length(e) >= 3L)
        out <<- c(out, tryCatch(eval(e[[3L]], baseenv()), error = function(err) character(0)))
      for (el in as.list(e)[-1L]) if (!missing(el)) walk(el)
    }
  }
  walk(body(f))
  unique(out)
}

# An error naming the argument in quotes (the dummy value is never used: the
# argument must be rejected before it could be).
expect_rejected <- function(call_ours, arg, label) {
  a <- stats::setNames(list(1), arg)
  err <- tryCatch({ suppressWarnings(call_ours(a)); NULL }, error = function(e) conditionMessage(e))
  expect(!is.null(err) && grepl(paste0("'", arg, "'"), err, fixed = TRUE),
         sprintf("%s: metafor's argument '%s' is neither a formal argument of ours nor rejected by name%s",
                 label, arg, if (is.null(err)) " (the call succeeded)" else paste0(" (error: ", err, ")")))
}

test_that("every formal argument of metafor's functions is implemented or rejected by name", {
  skip_if_not_installed("metafor")
  mf <- asNamespace("metafor")
  for (p in formals_pairs) {
    theirs <- setdiff(names(formals(get(p[[1L]], mf))), "...")
    ours <- names(formals(get(p[[2L]], us)))
    label <- sprintf("%s() vs metafor's %s()", p[[2L]], p[[1L]])
    for (a in theirs) {
      if (a %in% ours) {
        # implemented: the rejection table must not list it (stale entry)
        expect(!a %in% names(tab[[p[[2L]]]]) && !a %in% cosmetic[[p[[2L]]]],
               sprintf("%s: '%s' is a formal argument of ours and still in the rejection/cosmetic table", label, a))
      } else if (a %in% c(cosmetic[[p[[2L]]]], dots_ours[[p[[2L]]]])) {
        succeed()
      } else {
        expect_rejected(p[[3L]], a, label)
      }
    }
  }
})

test_that("the arguments metafor reads from `...` are implemented or rejected by name", {
  skip_if_not_installed("metafor")
  mf <- asNamespace("metafor")
  for (p in formals_pairs) {
    hidden <- metafor_hidden(get(p[[1L]], mf))
    ours <- names(formals(get(p[[2L]], us)))
    label <- sprintf("%s() vs metafor's %s(...)", p[[2L]], p[[1L]])
    for (a in setdiff(hidden, c(ours, cosmetic[[p[[2L]]]], dots_ours[[p[[2L]]]]))) expect_rejected(p[[3L]], a, label)
  }
  expect_true("knha" %in% metafor_hidden(metafor::rma.uni))  # the walker finds them
})

test_that("no entry of the rejection table is a formal argument of ours (stale table)", {
  for (fn in names(tab)) {
    ours <- names(formals(get(fn, us)))
    stale <- intersect(c(names(tab[[fn]]), cosmetic[[fn]]), ours)
    expect(length(stale) == 0L, sprintf("%s(): %s both a formal argument and in the table", fn,
                                         paste0("'", stale, "'", collapse = ", ")))
    expect_true(fn %in% names(metafast:::.mf_dots_policy))
  }
})

test_that("rejected arguments name the function and the alternative, and never change the caller's data", {
  dat <- fdat
  dat0 <- dat
  expect_error(rma(yi, vi, data = dat, scale = ~ x), "argument 'scale' of rma\\(\\).*location-scale.*\\?rma")
  expect_error(rma(yi, vi, data = dat, i2def = "1"), "'i2def'")
  expect_error(rma(yi, vi, data = dat, knha = TRUE), "'knha'.*test = \"knha\"")
  expect_identical(dat, dat0)
  e <- escalc(measure = "MD", m1i = 1:3, m2i = 2:4, sd1i = c(1, 1, 1), sd2i = c(1, 1, 1),
              n1i = c(10, 10, 10), n2i = c(10, 10, 10))
  e0 <- e
  expect_error(regtest(ffit, data = e), "'data'")
  expect_identical(e, e0)
  f0 <- ffit
  expect_error(in_png(forest(ffit, preddist = list(1, 2:3))), "'preddist")
  expect_error(in_png(forest(ffit, predl = 1)), "'predlim'")   # partial matching, as metafor's formals
  expect_error(in_png(forest(mhfit, annosym = 1)), "'annosym'")      # metafor's hidden options, as for rma() fits
  expect_error(coef(ffit, type = "beta"), "'type'")
  expect_error(cumul(ffit, code1 = 1), "'code1'")
  expect_error(anova(ffit, df = 3), "'df'")
  expect_error(trimfill(ffit, ilim = c(0, 1)), "'ilim'")
  expect_identical(ffit, f0)
})

test_that("other names in `...` are handled as metafor handles them", {
  skip_if_not_installed("metafor")
  # metafor warns "Extra argument ('foo') disregarded." in these
  expect_warning(metafor::rma(yi, vi, data = fdat, foo = 1), "Extra argument ('foo') disregarded.", fixed = TRUE)
  expect_warning(rma(yi, vi, data = fdat, foo = 1), "Extra argument ('foo') disregarded.", fixed = TRUE)
  expect_warning(predict(ffit, foo = 1), "Extra argument ('foo') disregarded.", fixed = TRUE)
  expect_warning(leave1out(ffit, foo = 1, bar = 2), "Extra arguments ('foo', 'bar') disregarded.", fixed = TRUE)
  # ... and ignores them silently in the extractors
  expect_silent(fitted(ffit, foo = 1))
  # cosmetic arguments are accepted
  expect_silent(rma(yi, vi, data = fdat, verbose = TRUE))
  expect_silent(rstudent(ffit, progbar = TRUE))
  # graphical parameters pass through the plot functions
  expect_silent(in_png(forest(ffit, font = 2)))
  expect_silent(in_png(funnel(ffit, main = "Funnel", cex = 0.8)))
  expect_silent(in_png(baujat(ffit, main = "Baujat", progbar = FALSE)))
  expect_silent(in_png(plot(influence(ffit), lwd = 2)))
})

test_that("forest()'s level and funnel()'s default level match metafor", {
  skip_if_not_installed("metafor")
  ref <- metafor::rma(yi, vi, data = fdat, control = metafor_tight)
  res <- in_png(forest(ffit, level = 90))
  p <- predict(ref, level = 90)
  expect_equal(res$summaries$ci.lb, p$ci.lb, tolerance = tol_iter)
  expect_equal(res$summaries$pi.ub, p$pi.ub, tolerance = tol_iter)
  expect_equal(res$studies$ci.ub, fdat$yi + qnorm(0.95) * sqrt(fdat$vi), tolerance = tol_closed)
  f90 <- rma(yi, vi, data = fdat, level = 90)
  expect_equal(attr(in_png(funnel(f90)), "level"), 90)
  expect_equal(attr(in_png(funnel(f90, level = 99)), "level"), 99)
  expect_equal(in_png(plot(gosh(ffit), het = "QE")), in_png(plot(gosh(ffit), out = "QE")))
  expect_error(in_png(plot(gosh(ffit), out = 99)), "'out'")
})

test_that("the check reads the names in `...` without evaluating them", {
  forced <- FALSE
  expect_warning(rma(yi, vi, data = fdat, foo = { forced <- TRUE; 1 }), "'foo'")
  expect_false(forced)
  expect_error(rma(yi, vi, data = fdat, scale = { forced <- TRUE; ~ x }), "'scale'")
  expect_false(forced)
  # a metafor argument that R would match partially to one of our formals
  expect_error(rma(yi, vi, data = fdat, optb = TRUE), "'optbeta'")
})

test_that("graphical parameters pass through the diagnostic plots", {
  expect_silent(in_png(regplot(rfit, main = "Bubble", las = 1)))
  expect_silent(in_png(radial(ffit, main = "Radial")))
  expect_silent(in_png(labbe(lfit, main = "L'Abbe")))
  expect_silent(in_png(llplot(measure = "GEN", yi = fdat$yi, vi = fdat$vi, main = "Likelihoods")))
})
