// Glue of the sparse fit of crossed random effects (core/sparse_objective.hpp):
// rma.mv(random = list(~ 1 | a, ~ 1 | b, ...)).  The spec is the list of
// .mf_mv_spec() (R/rma_mv.R) with offsets/Vblocks describing the blocks of V
// only and
//   structure = list(type = "crossed", codes = k x L integer matrix of 1-based
//               group codes per term (rows in the spec's order),
//               nlevels = L integers, fixed = L doubles (NA: estimate)).
// R has validated it (codes in 1..nlevels, V blocks positive semi-definite);
// the sparse objective needs V positive definite and reports otherwise.
#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "rcpp_mv_fit.h"
#include "core/sparse_objective.hpp"

#include <cmath>
#include <string>

using namespace metafast;

namespace {

// The spec read into views of its R memory (the list is kept alive by the
// caller's frame) and an owned 0-based copy of the group codes.
struct CrossedSpec {
  Rcpp::NumericVector y, v, Vb;
  Rcpp::NumericMatrix X;
  IVec offsets, nlevels;
  Eigen::MatrixXi codes;
  Vec fixed;
  explicit CrossedSpec(const Rcpp::List& spec)
      : y(spec["y"]), v(spec["v"]), Vb(spec["Vblocks"]), X(spec["X"]) {
    const Rcpp::IntegerVector off = spec["offsets"];
    offsets = Eigen::Map<const Eigen::VectorXi>(off.begin(), off.size());
    const Rcpp::List s = spec["structure"];
    const std::string type = Rcpp::as<std::string>(s["type"]);
    if (type != "crossed") Rcpp::stop("internal error: .mf_rma_mv_fit_sparse() needs structure type 'crossed', not '%s'", type);
    const Rcpp::IntegerMatrix cd = s["codes"];
    const Rcpp::IntegerVector nl = s["nlevels"];
    const Rcpp::NumericVector fx = s["fixed"];
    const int L = cd.ncol();
    if (cd.nrow() != y.size() || nl.size() != L || fx.size() != L)
      Rcpp::stop("internal error: the crossed structure does not match the spec (codes %d x %d, %d nlevels, %d fixed)",
                 cd.nrow(), L, nl.size(), fx.size());
    nlevels = Eigen::Map<const Eigen::VectorXi>(nl.begin(), L);
    codes.resize(cd.nrow(), L);
    for (int l = 0; l < L; ++l)
      for (int i = 0; i < cd.nrow(); ++i) {
        const int c = cd(i, l);
        if (c == NA_INTEGER || c < 1 || c > nlevels(l))
          Rcpp::stop("internal error: group code %d of row %d in term %d outside 1..%d", c, i + 1, l + 1, nlevels(l));
        codes(i, l) = c - 1;
      }
    fixed.resize(L);
    for (int l = 0; l < L; ++l) fixed(l) = Rcpp::NumericVector::is_na(fx[l]) ? std::nan("") : fx[l];
  }
  ProblemView view() const {
    return ProblemView(Eigen::Map<const Vec>(y.begin(), y.size()), Eigen::Map<const Vec>(v.begin(), v.size()),
                       Eigen::Map<const Mat>(X.begin(), X.nrow(), X.ncol()), no_dense_cov(), offsets,
                       Eigen::Map<const Vec>(Vb.begin(), Vb.size()));
  }
};

}  // namespace

// The fit of crossed terms by the sparse engine: the same list as
// .mf_rma_mv_fit() (src/rcpp_rma_mv.cpp): theta, beta, vb (model-based), both
// log-likelihoods at the estimate, QE and ll.QE (from V alone: the objective
// at theta = 0), the convergence record.  start: starting values of theta
// (NA: the default start).
// [[Rcpp::export(name = ".mf_rma_mv_fit_sparse", rng = false)]]
Rcpp::List mf_rma_mv_fit_sparse(Rcpp::List spec, Rcpp::NumericVector start, bool reml, double threshold, int maxiter,
                                double stepadj) {
  const CrossedSpec cs(spec);
  const ProblemView pr = cs.view();
  const CrossedTerms st(cs.codes, cs.nlevels, cs.fixed);
  return mv_fit_to_r(
      pr, st, start, reml, threshold, maxiter, stepadj,
      [&](const Vec& theta0, const Control& ctl, const OptimPoll& poll) {
        return fit_crossed_model(pr, st, reml, ctl, theta0, poll);
      },
      [&](const Vec& theta, bool r, ObjectiveEval& out) {
        return SparseCrossedObjective(pr, st, r).evaluate(theta, kObjLL, out);
      });
}

// metafor's per-row quantities of a crossed fit by the sparse engine at its
// theta (SparseCrossedObjective::row_diagnostics()): the list of
// .mf_rma_mv_rowdiag() (src/rcpp_rma_mv_methods.cpp) without the Cholesky
// residuals, which need a k x k factor; rows in the spec's order, beta the
// fit's coefficients.
// [[Rcpp::export(name = ".mf_rma_mv_rowdiag_sparse", rng = false)]]
Rcpp::List mf_rma_mv_rowdiag_sparse(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta) {
  const CrossedSpec cs(spec);
  const ProblemView pr = cs.view();
  const CrossedTerms st(cs.codes, cs.nlevels, cs.fixed);
  if (theta.size() != st.n_theta() || beta.size() != pr.p())
    Rcpp::stop("internal error: theta (%d) or beta (%d) does not match the spec", theta.size(), beta.size());
  RPoll rp(R_NilValue);
  SparseCrossedObjective obj(pr, st, true, [&rp]() { return rp(0); });
  if (!obj.sampling_ok()) Rcpp::stop("The sampling covariance matrix V is not positive definite.");
  CrossedRowDiag d;
  const bool ok = obj.row_diagnostics(Eigen::Map<const Vec>(theta.begin(), theta.size()), d);
  if (obj.interrupted()) throw Rcpp::internal::InterruptedException();
  if (!ok) Rcpp::stop("The marginal covariance matrix is not positive definite at the estimates.");
  const Vec e = pr.y - pr.X * Eigen::Map<const Vec>(beta.begin(), beta.size());
  return Rcpp::List::create(Rcpp::Named("hat") = Rcpp::wrap(d.hat), Rcpp::Named("wdiag") = Rcpp::wrap(d.wdiag),
                            Rcpp::Named("wrowsum") = Rcpp::wrap(d.wrow), Rcpp::Named("mdiag") = Rcpp::wrap(d.mdiag),
                            Rcpp::Named("var.resid") = Rcpp::wrap(d.var_resid), Rcpp::Named("resid") = Rcpp::wrap(e));
}
