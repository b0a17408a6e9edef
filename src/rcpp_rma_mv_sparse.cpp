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
  const int L = st.n_theta();
  if (start.size() != L) Rcpp::stop("internal error: 'start' has length %d, the model %d components", start.size(), L);
  Vec theta0(L);
  bool has_start = false;
  for (int l = 0; l < L; ++l) {
    theta0(l) = start[l];
    has_start = has_start || !Rcpp::NumericVector::is_na(start[l]);
  }
  if (has_start) {
    const Vec def = block_start(pr, st);
    for (int l = 0; l < L; ++l)
      if (std::isnan(theta0(l))) theta0(l) = def(l);
  }
  Control ctl;
  ctl.threshold = threshold;
  ctl.maxiter = maxiter;
  ctl.stepadj = stepadj;
  RPoll rp(R_NilValue);
  const OptimPoll poll = [&rp]() { return rp(0); };
  const BlockFitResult f = fit_crossed_model(pr, st, reml, ctl, has_start ? theta0 : Vec(), poll);
  if (rp.interrupted) throw Rcpp::internal::InterruptedException();
  const double na = NA_REAL;
  Rcpp::NumericVector theta(L, na);
  for (int l = 0; l < L && f.theta.size() == L; ++l) theta[l] = f.theta(l);
  double ll_ml = na, ll_reml = na, qe = na, ll_qe = na;
  Rcpp::NumericVector beta;
  Rcpp::NumericMatrix vb;
  if (f.beta.size() > 0) {
    beta = Rcpp::wrap(f.beta);
    vb = Rcpp::wrap(f.vb);
    ObjectiveEval other;
    SparseCrossedObjective o2(pr, st, !reml);
    if (o2.evaluate(f.theta, kObjLL, other)) {
      ll_ml = reml ? other.ll : f.ll;
      ll_reml = reml ? f.ll : other.ll;
    }
    // V alone: QE = e'V^-1 e at the GLS fit under V, ll.QE = -1/2 (k log 2pi + log|V|)
    ObjectiveEval at0;
    SparseCrossedObjective ml(pr, st, false);
    if (ml.evaluate(Vec::Zero(L), kObjLL, at0) && std::isfinite(at0.ll)) {
      qe = at0.eWe;
      ll_qe = at0.ll + 0.5 * at0.eWe;
    }
  }
  return Rcpp::List::create(Rcpp::Named("beta") = beta, Rcpp::Named("vb") = vb, Rcpp::Named("theta") = theta,
                            Rcpp::Named("ll.ML") = ll_ml, Rcpp::Named("ll.REML") = ll_reml,
                            Rcpp::Named("QE") = qe, Rcpp::Named("ll.QE") = ll_qe,
                            Rcpp::Named("convergence") = convergence_to_r(f.conv));
}
