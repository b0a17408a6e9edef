# The metafor arguments metafast does not implement, and the check that
# rejects them by name (issue 10: "no silent difference from metafor").
#
# Every argument that metafor's version of one of our functions accepts is
# either an explicit formal of ours (implemented with metafor's meaning),
# a purely cosmetic argument that is accepted and ignored
# (.mf_metafor_cosmetic), or listed here and rejected with an error that
# names it.  The table is keyed by our function's name; each entry maps a
# metafor argument to the reason and what metafast offers instead.  It holds
# metafor's formal arguments and the undocumented ones metafor reads from
# `...` (its .chkdots() lists), so that `...` never swallows either.
# tests/testthat/test-metafor-formals.R enumerates metafor's formals and
# fails when one is neither implemented nor rejected, and when an entry here
# has become a formal of ours (the table is then stale).

# Reasons shared by several entries.
.mf_r_raw <- "this escalc() option is not passed on by rma() yet; compute yi and vi with escalc(..., option = ) and pass them to rma()"
.mf_r_ls <- "location-scale models are not supported; see ?rma (use mods = for moderators of the mean)"
.mf_r_targs <- "yet (issue 10); pass a function of one argument as 'transf' instead, e.g. function(x) exp(x)"
.mf_r_hook <- "metafor's internal code hooks are not supported"
.mf_r_fit_subset <- "metafor's forest() of fits has no 'subset' argument either (it stops); fit the model to the subset instead"

# Arguments metafor's forest() reads from `...` that forest() of rma() fits
# implements (read from `...` as well).
.mf_forest_ours <- c("predtail", "annosym", "tabfig", "at.lab", "top", "rowadj", "clim", "decreasing", "xlabadj",
                     "xlabfont")
# ... and forest() of vectors (metafor's forest.default() has no prediction
# interval, hence no predtail) and of cumul() results (no order either).
.mf_forest_ours_default <- setdiff(.mf_forest_ours, "predtail")
# Arguments of forest() of fits that metafor's forest.default() reads from
# `...` only to warn that it ignores them (forest.default() does the same).
.mf_forest_default_ignored <- c("mlab", "addfit", "addpred", "predstyle", "predlim", "colout", "border")
.mf_forest_ours_cumul <- setdiff(.mf_forest_ours, c("predtail", "decreasing"))

# metafor's addpoly() options read from `...` that addpoly() implements (read
# from `...` as well).
.mf_addpoly_dots <- c("preddist", "predtail", "annosym", "alim", "olim", "lcol", "textpos")

# Arguments metafor's forest() reads from `...` (rejected where not
# implemented).
.mf_forest_hidden <- c(addcred = "use addpred = (the prediction interval)",
                       pi.type = "the type of prediction interval cannot be chosen (issue 10)",
                       predtype = "the type of prediction interval cannot be chosen (issue 10)",
                       decreasing = "use order = with a vector of sort keys (e.g. -yi)",
                       predtail = "this plot has no prediction interval (predtail is for forest(predstyle = \"dist\") of fits)")

.mf_metafor_args <- list(
  rma = c(
    onlyo1 = .mf_r_raw,
    addyi = .mf_r_raw,
    addvi = .mf_r_raw,
    correct = .mf_r_raw,
    cutoff = .mf_r_raw,
    scale = .mf_r_ls,
    att = .mf_r_ls,
    link = .mf_r_ls,
    optbeta = .mf_r_ls,
    alpha = .mf_r_ls,
    beta = "fixing the coefficients is not supported",
    knha = "use test = \"knha\"",
    dfs = "use test = \"t\" (k - p degrees of freedom)",
    i2def = "alternative definitions of I^2 are not supported",
    r2def = "alternative definitions of R^2 are not supported",
    skipr2 = "R^2 is always computed",
    abbrev = "abbreviated coefficient names are not supported",
    outlist = "the result always holds the full set of fields",
    skiphes = "not applicable: metafast's estimators do not use a numerical Hessian",
    retopt = "not applicable: metafast's estimators do not call optim()",
    randhet = "there is no equivalent",
    omega2 = "there is no equivalent",
    pleasedonotreportI2thankyouverymuch = "I^2 is always reported"),
  escalc = c(),
  summary.mf_escalc = c(),
  vcalc = c(retdat = "metafor's undocumented data frame of the inputs and V is not returned; the variables are those you passed"),
  aggregate.mf_escalc = c(),
  print.mf_rma = c(),
  summary.mf_rma = c(),
  predict.mf_rma = c(),
  confint.mf_rma = c(
    xlim = "use control = list(tau2.min = , tau2.max = )",
    extint = "there is no equivalent"),
  anova.mf_rma = c(
    test = "the type of test cannot be chosen here; refit with rma(..., test = ) or compare two fits with anova(fit1, fit2)",
    L = "use X = (the contrast matrix)",
    fixed = "there is no equivalent",
    df = "there is no equivalent",
    abbrev = "abbreviated coefficient names are not supported"),
  vcov.mf_rma = c(),
  fitted.mf_rma = c(),
  residuals.mf_rma = c(),
  rstandard.mf_rma = c(),
  rstudent.mf_rma = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  weights.mf_rma = c(),
  hatvalues.mf_rma = c(),
  influence.mf_rma = c(
    measure = "use cooks.distance(), dfbetas() or rstudent()",
    code1 = .mf_r_hook,
    code2 = .mf_r_hook),
  cooks.distance.mf_rma = c(),
  dfbetas.mf_rma = c(),
  rstudent.mf_rma_mv = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  cooks.distance.mf_rma_mv = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  dfbetas.mf_rma_mv = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  confint.mf_rma_mv = c(extint = "there is no equivalent; widen the search with control = list(vc.min = , vc.max = )",
                        code1 = .mf_r_hook, code2 = .mf_r_hook),
  profile.mf_rma_mv = c(exp = "there is no equivalent", code1 = .mf_r_hook, code2 = .mf_r_hook,
                        code3 = .mf_r_hook, code4 = .mf_r_hook),
  coef.mf_rma = c(type = .mf_r_ls),
  logLik.mf_rma = c(),
  leave1out.mf_rma = c(
    code1 = .mf_r_hook,
    code2 = .mf_r_hook),
  cumul.mf_rma = c(
    code1 = .mf_r_hook,
    code2 = .mf_r_hook),
  gosh.mf_rma = c(LB = "there is no equivalent",
                  code1 = .mf_r_hook, code2 = .mf_r_hook),
  permutest.mf_rma = c(seed = "call set.seed() before permutest()", tol = "there is no equivalent",
                       fixed = "there is no equivalent", code1 = .mf_r_hook, code2 = .mf_r_hook),
  regtest.mf_rma = c(data = "not needed for a fitted model",
                     level = "the test uses the fit's settings; refit with rma(..., level = ) first",
                     method = "the test uses the fit's settings; refit with rma(..., method = ) first",
                     test = "the test uses the fit's settings; refit with rma(..., test = ) first"),
  regtest.default = c(data = "not supported yet; give the vectors themselves (e.g. dat$yi, dat$vi) or an rma() fit"),
  ranktest = c(data = "not supported yet; give the vectors themselves (e.g. dat$yi, dat$vi) or an rma() fit"),
  trimfill.mf_rma = c(ilim = "limits for the imputed values are not supported yet (issue 15)"),
  fsn = c(),
  update.mf_rma = c(),
  selmodel.mf_rma = c(
    subset = "fit the selection model to a subset by fitting rma() to that subset (metafor's 'subset' keeps the other studies unselected)",
    time = "use system.time()", tau2 = "fix tau^2 in rma(..., tau2 = ) instead",
    beta = "fixing the coefficients is not supported", skiphes = "the Hessian is always computed",
    skiphet = "the likelihood-ratio test of tau^2 is always computed", skipintcheck = "the check is always made",
    scaleprec = "the precisions are always divided by their maximum", defmap = "the map of delta is metafor's default",
    mapfun = "the map of delta is metafor's default", mapinvfun = "the map of delta is metafor's default",
    pval = "user-given p-values are not supported yet", ptable = "the table is the fit's $ptable",
    retopt = "the optimiser's result is not returned"),
  print.mf_selmodel = c(num = "numbered rows are not supported", legend = "there is no legend to add"),
  plot.mf_selmodel = c(),
  confint.mf_selmodel = c(extint = "there is no equivalent; widen the search with control = list(vc.min = , vc.max = )",
                          code1 = .mf_r_hook, code2 = .mf_r_hook),
  profile.mf_selmodel = c(exp = "there is no equivalent", code1 = .mf_r_hook, code2 = .mf_r_hook,
                          code3 = .mf_r_hook, code4 = .mf_r_hook),
  anova.mf_selmodel = c(test = "the tests of a selection model are z tests", L = "contrasts are not supported",
                        fixed = "there is no equivalent", df = "there is no equivalent",
                        abbrev = "abbreviated coefficient names are not supported", verbose = "there is no progress to show",
                        X = "give btt =", att = "location-scale models are not supported", Z = "location-scale models are not supported",
                        rhs = "tests against a value other than 0 are not supported",
                        adjust = "adjusted p-values are not supported", refit = "the selection model is fitted by ML"),
  forest.mf_rma = c(
    .mf_forest_hidden[!names(.mf_forest_hidden) %in% .mf_forest_ours], subset = .mf_r_fit_subset),
  forest.default = c(
    .mf_forest_hidden[!names(.mf_forest_hidden) %in% .mf_forest_ours_default]),
  forest.mf_rma_tab = c(
    .mf_forest_hidden[!names(.mf_forest_hidden) %in% .mf_forest_ours], subset = .mf_r_fit_subset),
  forest.mf_cumul = c(.mf_forest_hidden[!names(.mf_forest_hidden) %in% c("decreasing", .mf_forest_ours_cumul)],
                      decreasing = "the rows are in the order of cumul(); use cumul(order = )"),
  addpoly.mf_rma = c(addcred = "use addpred =", pi.type = "the type of prediction interval cannot be chosen (issue 10)",
                     predtype = "the type of prediction interval cannot be chosen (issue 10)"),
  addpoly.predict.mf_rma = c(),
  addpoly.default = c(cr.lb = "use pi.lb =", cr.ub = "use pi.ub ="),
  funnel.mf_rma = c(),
  funnel.default = c(),
  baujat.mf_rma = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  plot.mf_infl = c(),
  hatvalues.mf_rma_mv = c(),
  weights.mf_rma_mv = c(),
  fitted.mf_rma_mv = c(),
  residuals.mf_rma_mv = c(),
  rstandard.mf_rma_mv = c(),
  ranef.mf_rma_mv = c(),
  anova.mf_rma_mv = c(
    abbrev = "abbreviated coefficient names are not supported"),
  update.mf_rma_mv = c(),
  robust.mf_rma = c(), robust.mf_rma_mv = c(),
  labbe.mf_rma = c(), labbe.mf_rma_tab = c(), radial.mf_rma = c(), radial.mf_rma_tab = c(),
  regplot.mf_rma = c(), regplot.mf_rma_mv = c(), points.mf_regplot = c(), llplot = c(),
  rma.mh = c(outlist = "the result always holds the full set of fields"),
  rma.peto = c(outlist = "the result always holds the full set of fields"),
  rma.glmm = c(outlist = "the result always holds the full set of fields",
               retdat = "metafor's undocumented data of the model fits is not returned",
               retfit = "metafast fits no glm()/glmer() objects to return",
               family = "the family follows from 'measure' and 'model' (binomial for OR, PLO and CM.AL, non-central hypergeometric for OR with CM.EL, Poisson for IRR and IRLN)",
               link = "the link follows from 'measure' (logit or log)",
               i2def = "alternative definitions of I^2 are not supported"),
  print.mf_rma_glmm = c(),
  anova.mf_rma_glmm = c(att = .mf_r_ls, Z = .mf_r_ls,
                        adjust = "adjusted p-values are not supported for rma.glmm() fits yet",
                        refit = "rma.glmm() fits are ML fits already (no refit needed)",
                        test = "the type of test cannot be chosen here; refit with rma.glmm(..., test = ) or compare two fits with anova(fit1, fit2)",
                        L = "use X = (the contrast matrix)", fixed = "there is no equivalent", df = "there is no equivalent",
                        abbrev = "abbreviated coefficient names are not supported"),
  profile.mf_rma_glmm = c(parallel = "the profile of an rma.glmm() fit is computed serially",
                          ncpus = "the profile of an rma.glmm() fit is computed serially",
                          cl = "the profile of an rma.glmm() fit is computed serially"),
  print.mf_rma_mh = c(),
  print.mf_rma_peto = c(),
  summary.mf_rma_tab = c(), coef.mf_rma_tab = c(), vcov.mf_rma_tab = c(), fitted.mf_rma_tab = c(),
  residuals.mf_rma_tab = c(), weights.mf_rma_tab = c(), rstandard.mf_rma_tab = c(),
  rstudent.mf_rma_tab = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  confint.mf_rma_tab = c(),
  leave1out.mf_rma_tab = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  cumul.mf_rma_tab = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  baujat.mf_rma_tab = c(code1 = .mf_r_hook, code2 = .mf_r_hook),
  predict.mf_rma_tab = c(), model.matrix.mf_rma_tab = c(), formula.mf_rma_tab = c(),
  gosh.mf_rma_tab = c(LB = "there is no equivalent", code1 = .mf_r_hook, code2 = .mf_r_hook),
  qqnorm.mf_rma_tab = c(), qqnorm.mf_rma = c(), plot.mf_rma = c(), plot.mf_rma_tab = c(),
  plot.mf_gosh = c(), plot.mf_cumul = c(), plot.mf_permutest = c(), plot.vif.mf_rma = c(),
  tes = c(), hc.mf_rma = c()
)
.mf_metafor_args$rma.uni <- .mf_metafor_args$rma
.mf_metafor_args$funnel.mf_rma_tab <- .mf_metafor_args$funnel.mf_rma
# The same table as lists, for the quick look-up of the names of a call.
.mf_metafor_tab <- lapply(.mf_metafor_args, as.list)

# Purely cosmetic metafor arguments (printing, progress bars, timing): accepted
# and ignored.  progbar: metafast's progress bar is `progress =`.
.mf_metafor_cosmetic <- list(
  rma = c("verbose", "time"), escalc = character(0), summary.mf_escalc = character(0),
  print.mf_rma = c("num", "legend"),
  predict.mf_rma = "verbose", confint.mf_rma = "time", anova.mf_rma = "verbose",
  rstudent.mf_rma = "time", influence.mf_rma = "time",
  cooks.distance.mf_rma = "time", dfbetas.mf_rma = "time",
  rstudent.mf_rma_mv = c("time", "LB"), cooks.distance.mf_rma_mv = c("time", "LB"),
  dfbetas.mf_rma_mv = c("time", "LB"), confint.mf_rma_mv = "time",
  profile.mf_rma_mv = c("time", "LB", "startmethod"),
  confint.mf_selmodel = "time", profile.mf_selmodel = c("time", "LB"),
  leave1out.mf_rma = "time", cumul.mf_rma = "time",
  gosh.mf_rma = "time", permutest.mf_rma = c("digits", "time", "verbose"),
  anova.mf_rma_mv = "verbose",
  fsn = character(0), baujat.mf_rma = character(0),
  anova.mf_rma_glmm = "verbose", profile.mf_rma_glmm = "time",
  rma.mh = "time", rma.peto = "time", rma.glmm = "time", rstudent.mf_rma_tab = "time", confint.mf_rma_tab = "time",
  leave1out.mf_rma_tab = "time", cumul.mf_rma_tab = "time", baujat.mf_rma_tab = character(0),
  predict.mf_rma_tab = "verbose", gosh.mf_rma_tab = "time")
.mf_metafor_cosmetic$rma.uni <- .mf_metafor_cosmetic$rma

# Names that are ours although they arrive in `...` (metafor reads them from
# `...` too): regtest() on vectors takes the settings of its meta-regression,
# escalc() takes `correct`; gosh() and permutest() reject metafor's `ncpus`
# and `cl` themselves (.mf_parallel_arg(), with the `parallel` argument).
.mf_dots_ours <- list(regtest.default = c("level", "method", "test"), escalc = c("onlyo1", "addyi", "addvi"),
                      gosh.mf_rma = c("ncpus", "cl"), permutest.mf_rma = c("ncpus", "cl"),
                      vcalc = "nearPD", rma.mh = c("onlyo1", "addyi", "addvi"),
                      rma.glmm = c("tdist", "onlyo1", "addyi", "addvi", "skiphet"),
                      se.mf_rma = "type", conv.wald = "cifac", conv.2x2 = "method",
                      conv.fivenum = c("verbose", "seed"), predict.mf_rma_tab = c("predtype", "pi.type", "newvi"),
                      gosh.mf_rma_tab = c("ncpus", "cl"), qqnorm.mf_rma = "seed",
                      forest.mf_rma = .mf_forest_ours, forest.mf_rma_tab = .mf_forest_ours,
                      forest.default = c(.mf_forest_ours_default, .mf_forest_default_ignored), forest.mf_cumul = .mf_forest_ours_cumul,
                      addpoly.mf_rma = c(.mf_addpoly_dots, "constarea"),
                      addpoly.predict.mf_rma = .mf_addpoly_dots,
                      addpoly.default = .mf_addpoly_dots,
                      plot.mf_permutest = c("alternative", "p2defn", "stat", "layout"),
                      plot.mf_infl = c("layout", "minlength", "strict"),
                      funnel.mf_rma = "transf", funnel.default = "transf", funnel.mf_rma_tab = "transf",
                      tes = c("correct", "rel.tol", "subdivisions", "tau2.lb", "find.lim"),
                      plot.mf_selmodel = "seed")

# What happens to any other name in `...`, as in metafor's version:
# "warn" (metafor warns "Extra argument ('x') disregarded."), "ignore"
# (metafor ignores it silently), "graphics" (passed on to the graphics
# functions, which warn about non-graphical parameters).
.mf_dots_policy <- c(
  rma = "warn", rma.uni = "warn", escalc = "ignore",  # escalc() warns itself
  summary.mf_escalc = "ignore", vcalc = "warn", aggregate.mf_escalc = "ignore",
  print.mf_rma = "warn", summary.mf_rma = "ignore",
  predict.mf_rma = "warn", confint.mf_rma = "warn", anova.mf_rma = "warn", vcov.mf_rma = "ignore", vcov.mf_rma_mv = "ignore",
  nobs.mf_rma = "ignore", model.matrix.mf_rma = "ignore", formula.mf_rma = "ignore",
  fitted.mf_rma = "ignore", residuals.mf_rma = "ignore", rstandard.mf_rma = "ignore",
  rstudent.mf_rma = "warn", weights.mf_rma = "ignore", hatvalues.mf_rma = "ignore",
  influence.mf_rma = "warn", cooks.distance.mf_rma = "warn", dfbetas.mf_rma = "warn",
  rstudent.mf_rma_mv = "warn", cooks.distance.mf_rma_mv = "warn", dfbetas.mf_rma_mv = "warn",
  confint.mf_rma_mv = "warn", profile.mf_rma_mv = "graphics",
  coef.mf_rma = "ignore", logLik.mf_rma = "ignore", leave1out.mf_rma = "warn", cumul.mf_rma = "warn",
  gosh.mf_rma = "warn", permutest.mf_rma = "warn", regtest.mf_rma = "warn", regtest.default = "warn",
  ranktest = "warn", trimfill.mf_rma = "warn", fsn = "warn", update.mf_rma = "ignore",
  forest.mf_rma = "graphics", forest.default = "graphics", addpoly.mf_rma = "graphics", addpoly.default = "graphics",
  addpoly.predict.mf_rma = "graphics", plot.mf_permutest = "graphics", plot.vif.mf_rma = "graphics",
  forest.mf_cumul = "graphics",
  funnel.mf_rma = "graphics",
  funnel.default = "graphics", baujat.mf_rma = "graphics", plot.mf_infl = "graphics",
  plot.mf_gosh = "graphics", plot.mf_cumul = "graphics",
  hatvalues.mf_rma_mv = "ignore", weights.mf_rma_mv = "ignore", fitted.mf_rma_mv = "ignore",
  residuals.mf_rma_mv = "ignore", rstandard.mf_rma_mv = "ignore", ranef.mf_rma_mv = "warn",
  anova.mf_rma_mv = "warn", update.mf_rma_mv = "ignore",
  rma.mh = "warn", rma.peto = "warn", print.mf_rma_mh = "ignore", rma.glmm = "warn", print.mf_rma_glmm = "warn",
  print.mf_rma_peto = "ignore", summary.mf_rma_tab = "ignore", coef.mf_rma_tab = "ignore",
  vcov.mf_rma_tab = "ignore", fitted.mf_rma_tab = "ignore", residuals.mf_rma_tab = "ignore",
  weights.mf_rma_tab = "ignore", rstandard.mf_rma_tab = "ignore", rstudent.mf_rma_tab = "warn",
  confint.mf_rma_tab = "warn", leave1out.mf_rma_tab = "warn", cumul.mf_rma_tab = "warn",
  funnel.mf_rma_tab = "graphics", forest.mf_rma_tab = "graphics", baujat.mf_rma_tab = "graphics",
  predict.mf_rma_tab = "ignore", model.matrix.mf_rma_tab = "ignore", formula.mf_rma_tab = "ignore",
  gosh.mf_rma_tab = "warn", qqnorm.mf_rma_tab = "graphics",
  qqnorm.mf_rma = "graphics", plot.mf_rma = "graphics", plot.mf_rma_tab = "graphics",
  se.mf_rma = "ignore", conv.wald = "warn", conv.delta = "ignore", conv.2x2 = "warn", conv.fivenum = "warn",
  robust.mf_rma = "warn", robust.mf_rma_mv = "warn",
  labbe.mf_rma = "graphics", labbe.mf_rma_tab = "graphics", radial.mf_rma = "graphics",
  radial.mf_rma_tab = "graphics", regplot.mf_rma = "graphics", regplot.mf_rma_mv = "graphics", points.mf_regplot = "graphics",
  llplot = "graphics", tes = "warn", hc.mf_rma = "ignore",
  selmodel.mf_rma = "warn", print.mf_selmodel = "warn", summary.mf_selmodel = "ignore",
  anova.mf_selmodel = "warn", plot.mf_selmodel = "graphics", confint.mf_selmodel = "warn",
  profile.mf_selmodel = "graphics", anova.mf_rma_glmm = "warn", profile.mf_rma_glmm = "graphics")

# The function's name as the user calls it, for messages.
.mf_fn_label <- function(fn) {
  switch(fn, plot.mf_infl = "plot() of influence()", plot.mf_gosh = "plot() of gosh()",
         plot.mf_cumul = "plot() of cumul()", addpoly.predict.mf_rma = "addpoly() of predict()",
         plot.mf_permutest = "plot() of permutest()", plot.vif.mf_rma = "plot() of vif()",
         points.mf_regplot = "points() of regplot()",
summary.mf_escalc = "summary() of escalc()",
         paste0(sub("\\.(mf_rma(_mv|_mh|_peto|_tab|_glmm)?|mf_escalc|default)$", "", fn), "()"))
}

# Check the names in `...` of our function `fn` (a key of the tables above)
# without forcing the promises: a metafor argument we do not implement is an
# error naming it; a cosmetic one is ignored; any other name follows
# .mf_dots_policy.  The names of the caller's call are checked too: a
# metafor argument that R matched partially to one of our formals (rma(di =)
# would set our `digits`) is rejected as well.  Call as
# .mf_check_dots("fn", ...) at the top of fn.
.mf_check_dots <- function(fn, ...) {
  tab <- .mf_metafor_tab[[fn]]
  if (length(tab)) {
    # (a list: [[ finds a name without hashing the table, as %in% would)
    for (nm in names(sys.call(-1L))) if (nzchar(nm) && !is.null(tab[[nm]])) .mf_reject(fn, nm, tab)
  }
  n <- ...length()
  if (n == 0L) return(invisible(NULL))
  tab <- .mf_metafor_args[[fn]]
  nms <- ...names()
  if (is.null(nms)) nms <- character(n)
  nms[is.na(nms)] <- ""
  ok <- c(.mf_metafor_cosmetic[[fn]], .mf_dots_ours[[fn]])
  policy <- .mf_dots_policy[[fn]]
  extra <- character(0)
  for (nm in nms) {
    if (nzchar(nm) && nm %in% ok) next
    hit <- if (nzchar(nm) && length(tab)) {
      if (nm %in% names(tab)) nm else {
        # metafor's formals match partially (e.g. atr = for atransf =)
        pm <- pmatch(nm, names(tab))
        if (!is.na(pm) && !(policy == "graphics" && nm %in% .mf_graphics_names())) names(tab)[pm] else NA
      }
    } else NA
    if (!is.na(hit)) .mf_reject(fn, hit, tab)
    extra <- c(extra, nm)
  }
  if (length(extra) && policy == "warn")
    warning(sprintf("Extra argument%s (%s) disregarded.", if (length(extra) > 1L) "s" else "",
                    paste0("'", extra, "'", collapse = ", ")), call. = FALSE)
  invisible(NULL)
}

.mf_reject <- function(fn, arg, tab) {
  why <- tab[[arg]]
  .mf_stop(sprintf("argument '%s' of %s is not supported by metafast%s%s.", arg, .mf_fn_label(fn),
                   if (startsWith(why, "yet")) " " else ": ", why))
}

# Names of the graphical parameters of par() (a fixed list: asking par()
# would open a device).
.mf_par_names <- c("xlog", "ylog", "adj", "ann", "ask", "bg", "bty", "cex", "cex.axis", "cex.lab", "cex.main",
                   "cex.sub", "cin", "col", "col.axis", "col.lab", "col.main", "col.sub", "cra", "crt", "csi",
                   "cxy", "din", "err", "family", "fg", "fig", "fin", "font", "font.axis", "font.lab",
                   "font.main", "font.sub", "lab", "las", "lend", "lheight", "ljoin", "lmitre", "lty", "lwd",
                   "mai", "mar", "mex", "mfcol", "mfg", "mfrow", "mgp", "mkh", "new", "oma", "omd", "omi",
                   "page", "pch", "pin", "plt", "ps", "pty", "smo", "srt", "tck", "tcl", "usr", "xaxp", "xaxs",
                   "xaxt", "xpd", "yaxp", "yaxs", "yaxt", "ylbias")

# par() names and the common arguments of the high-level plot functions.
.mf_graphics_names <- function() {
  c(.mf_par_names, "main", "sub", "xlab", "ylab", "xlim", "ylim", "log", "axes", "frame.plot", "asp",
    "panel.first", "panel.last", "type")
}

# The settable graphical parameters among the named arguments in `...`, as a
# list for par() (for plots drawn by many low-level calls); other names get
# the warning the graphics functions give ("... is not a graphical
# parameter").
.mf_par_dots <- function(...) {
  d <- list(...)
  if (!length(d)) return(list())
  nms <- names(d)
  if (is.null(nms)) nms <- character(length(d))
  settable <- setdiff(.mf_par_names, c("cin", "cra", "csi", "cxy", "din", "page", "mar", "mai", "mfrow",
                                       "mfcol", "mfg", "fig", "fin", "plt", "pin", "usr", "oma", "omi",
                                       "omd", "new", "xlog", "ylog"))
  for (b in nms[!nms %in% settable])
    warning(sprintf("\"%s\" is not a graphical parameter", b), call. = FALSE)
  d[nms %in% settable]
}
