// Glue of the case-deletion methods of rma.mv() fits (R/case-deletion-mv.R):
// the fit's model arrives as its spec ($mf.spec, read through MvModel,
// rcpp_mv_model.h) and is refitted without each unit by the kernel of
// core/refit_mv.hpp.  Worker threads never touch R; the calling thread polls
// for an interrupt and reports progress (RPoll), and the interrupt is raised
// after the join.
#include <vector>

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "rcpp_mv_model.h"
#include "core/refit_mv.hpp"

using namespace metafast;

// unit: 0-based unit code of each row of the spec (rows in the spec's sorted
// order), n_units codes in all; theta: the full fit's variance components;
// rstudent / dfbetas: also compute their pieces (see refit_mv.hpp).
// progress: an R function progress(delta) or NULL.
// [[Rcpp::export(name = ".mf_rma_mv_deletion", rng = false)]]
Rcpp::List mf_rma_mv_deletion(Rcpp::List spec, Rcpp::IntegerVector unit, int n_units, Rcpp::NumericVector theta,
                              bool reml, bool reestimate, double threshold, int maxiter, double stepadj,
                              bool rstudent, bool dfbetas, int threads, SEXP progress) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const int k = pr.k(), p = pr.p(), q = mm.n_theta();
  if (unit.size() != k) Rcpp::stop("internal error: 'unit' must have one code per row");
  if (theta.size() != q) Rcpp::stop("internal error: 'theta' must have one value per variance component");
  MvDeletionPlan plan;
  plan.reml = reml;
  plan.reestimate = reestimate;
  plan.ctl.threshold = threshold;
  plan.ctl.maxiter = maxiter;
  plan.ctl.stepadj = stepadj;
  plan.theta = Eigen::Map<const Eigen::VectorXd>(theta.begin(), q);
  plan.want_rstudent = rstudent;
  plan.want_dfbetas = dfbetas;
  const std::vector<int> u(unit.begin(), unit.end());
  const std::size_t n = static_cast<std::size_t>(n_units);
  Rcpp::LogicalVector ok(n);
  Rcpp::NumericMatrix TH(n, q), B(n, p), VD(dfbetas ? n : 0, dfbetas ? p : 0);
  Rcpp::NumericVector resid(rstudent ? k : 0), se(rstudent ? k : 0), X2(rstudent ? n : 0);
  MvDeletionOut o;
  o.n = n;
  o.ok = LOGICAL(ok);
  o.theta = TH.begin();
  o.beta = B.begin();
  if (dfbetas) o.vbdiag = VD.begin();
  if (rstudent) { o.resid = resid.begin(); o.se = se.begin(); o.X2 = X2.begin(); }
  RPoll poll(progress);
  const bool done = mv_deletion_run(pr, mm.structure(), plan, u, n_units, threads, o, NA_REAL, poll);
  poll.finish(done, n);
  return Rcpp::List::create(Rcpp::Named("ok") = ok, Rcpp::Named("theta") = TH, Rcpp::Named("beta") = B,
                            Rcpp::Named("vbdiag") = VD, Rcpp::Named("resid") = resid, Rcpp::Named("se") = se,
                            Rcpp::Named("X2") = X2);
}
