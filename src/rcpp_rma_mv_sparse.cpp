// Glue of the sparse fit of crossed random effects (core/sparse_objective.hpp):
// rma.mv(random = list(~ 1 | a, ~ 1 | b, ...)).  The spec is the list of
// .mf_mv_spec() (R/rma_mv.R) with offsets/Vblocks describing the blocks of V
// only and
//   structure = list(type = "crossed", codes = k x L integer matrix of 1-based
//               group codes per term (rows in the spec's order),
//               nlevels = L integers, fixed = L doubles (NA: estimate),
//               R = NULL or a list of L entries, NULL or the nlevels x
//               nlevels known correlation matrix of the term (metafor's R)).
// R has validated it (codes in 1..nlevels, V blocks positive semi-definite);
// the sparse objective needs V positive definite and reports otherwise.
#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "rcpp_cluster_x2.h"
#include "rcpp_crossed_spec.h"
#include "rcpp_mv_fit.h"
#include "core/refit_crossed.hpp"
#include "core/sparse_objective.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace metafast;

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
  const CrossedTerms st = cs.structure();
  return mv_fit_to_r(
      pr, st, start, reml, threshold, maxiter, stepadj,
      [&](const Vec& theta0, const Control& ctl, const OptimPoll& poll) {
        return fit_crossed_model(pr, st, reml, ctl, theta0, poll);
      },
      [&](const Vec& theta, bool r, ObjectiveEval& out) {
        return SparseCrossedObjective(pr, st, r).evaluate(theta, kObjLL, out);
      });
}

// A crossed fit's model at its theta, for the methods below: the spec read
// once, the objective set up (an interrupt polled from R), and run(f) calls
// f(objective, theta) with the common errors: an interrupt, or a marginal
// covariance that is not positive definite.
namespace {

struct CrossedAt {
  const CrossedSpec cs;
  const ProblemView pr;
  const CrossedTerms st;
  RPoll rp{R_NilValue};
  SparseCrossedObjective obj;
  const Eigen::Map<const Vec> theta;
  CrossedAt(const Rcpp::List& spec, const Rcpp::NumericVector& th)
      : cs(spec), pr(cs.view()), st(cs.structure()), obj(pr, st, true, [this]() { return rp(0); }),
        theta(th.begin(), th.size()) {
    if (th.size() != st.n_theta()) Rcpp::stop("internal error: theta (%d) does not match the spec", th.size());
    if (!obj.sampling_ok())
      Rcpp::stop(st.known_pd() ? "The sampling covariance matrix V is not positive definite."
                               : "A known correlation matrix 'R' is not positive definite (the sparse engine needs R^-1).");
  }
  template <class F>
  void run(F&& f) {
    const bool ok = f(obj, theta);
    if (obj.interrupted() || rp.interrupted) throw Rcpp::internal::InterruptedException();
    if (!ok) Rcpp::stop("The marginal covariance matrix is not positive definite at the estimates.");
  }
  Vec resid(const Rcpp::NumericVector& beta) const {
    if (beta.size() != pr.p()) Rcpp::stop("internal error: beta (%d) does not match the spec", beta.size());
    return pr.y - pr.X * Eigen::Map<const Vec>(beta.begin(), beta.size());
  }
};

}  // namespace

// metafor's per-row quantities of a crossed fit by the sparse engine at its
// theta (SparseCrossedObjective::row_diagnostics()): the list of
// .mf_rma_mv_rowdiag() (src/rcpp_rma_mv_methods.cpp) without the Cholesky
// residuals, which need a k x k factor; rows in the spec's order, beta the
// fit's coefficients.
// [[Rcpp::export(name = ".mf_rma_mv_rowdiag_sparse", rng = false)]]
Rcpp::List mf_rma_mv_rowdiag_sparse(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta) {
  CrossedAt at(spec, theta);
  CrossedRowDiag d;
  at.run([&](SparseCrossedObjective& o, const Eigen::Map<const Vec>& th) { return o.row_diagnostics(th, d); });
  return Rcpp::List::create(Rcpp::Named("hat") = Rcpp::wrap(d.hat), Rcpp::Named("wdiag") = Rcpp::wrap(d.wdiag),
                            Rcpp::Named("wrowsum") = Rcpp::wrap(d.wrow), Rcpp::Named("mdiag") = Rcpp::wrap(d.mdiag),
                            Rcpp::Named("var.resid") = Rcpp::wrap(d.var_resid),
                            Rcpp::Named("resid") = Rcpp::wrap(at.resid(beta)));
}

// W X (k x p, rows in the spec's order, W = M^-1) of a crossed fit by the
// sparse engine at its theta (SparseCrossedObjective::weighted_X()): the
// scores of robust()'s sandwich without a k x k matrix.
// [[Rcpp::export(name = ".mf_rma_mv_WX_sparse", rng = false)]]
Rcpp::NumericMatrix mf_rma_mv_WX_sparse(Rcpp::List spec, Rcpp::NumericVector theta) {
  CrossedAt at(spec, theta);
  Mat WX;
  at.run([&](SparseCrossedObjective& o, const Eigen::Map<const Vec>& th) { return o.weighted_X(th, WX); });
  return Rcpp::wrap(WX);
}

// The BLUPs of the random effects of a crossed fit by the sparse engine and
// their prediction variances (SparseCrossedObjective::ranef()), per row and
// factor: k x L matrices pred and var in the spec's row order, as
// .mf_rma_mv_ranef() gives them for the block engine, and k x (number of
// '~ inner | outer' terms) gpred and gvar, the effect of each row's (outer,
// inner) pair, as .mf_rma_mv_ranef_term() gives them.
// [[Rcpp::export(name = ".mf_rma_mv_ranef_sparse", rng = false)]]
Rcpp::List mf_rma_mv_ranef_sparse(Rcpp::List spec, Rcpp::NumericVector theta) {
  CrossedAt at(spec, theta);
  Vec pred, var;
  at.run([&](SparseCrossedObjective& o, const Eigen::Map<const Vec>& th) { return o.ranef(th, pred, var); });
  const int k = at.pr.k(), L = at.st.n_sigma(), nG = at.st.n_gterms();
  const IVec& goff = at.obj.level_offsets();
  Rcpp::NumericMatrix P(k, L), Vr(k, L), GP(k, nG), GV(k, nG);
  for (int l = 0; l < L; ++l)
    for (int i = 0; i < k; ++i) {
      P(i, l) = pred(goff(l) + at.st.code(i, l));
      Vr(i, l) = var(goff(l) + at.st.code(i, l));
    }
  for (int t = 0; t < nG; ++t)
    for (int i = 0; i < k; ++i) {
      GP(i, t) = pred(at.obj.gterm_column(t, i));
      GV(i, t) = var(at.obj.gterm_column(t, i));
    }
  return Rcpp::List::create(Rcpp::Named("pred") = P, Rcpp::Named("var") = Vr, Rcpp::Named("gpred") = GP,
                            Rcpp::Named("gvar") = GV);
}

// metafor's cluster-level statistic of rstandard(cluster =) (core
// cluster_x2()) for a crossed fit by the sparse engine: M_ij = V_ij + sum_l
// sigma2_l [rows i and j share the level of factor l], from the V blocks and
// the codes; A = (X'WX)^-1 from the sparse factor.  cluster: codes
// 0..n_cluster-1 per sorted row.
// [[Rcpp::export(name = ".mf_rma_mv_cluster_x2_sparse", rng = false)]]
Rcpp::NumericVector mf_rma_mv_cluster_x2_sparse(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta,
                                                Rcpp::IntegerVector cluster, int n_cluster) {
  CrossedAt at(spec, theta);
  const ProblemView& pr = at.pr;
  const int k = pr.k();
  if (cluster.size() != k) Rcpp::stop("internal error: 'cluster' does not match the spec");
  ObjectiveEval ev;
  at.run([&](SparseCrossedObjective& o, const Eigen::Map<const Vec>& th) { return o.evaluate(th, 0, ev); });
  const CrossedMarginal marginal(pr, at.st);
  auto m_entry = [&](int a, int d) { return marginal(at.theta, a, d); };
  return cluster_x2_r(pr.X, pr.X * ev.Ainv, at.resid(beta), cluster, n_cluster, m_entry, at.rp);
}

// A k x k matrix ("M", "W" or "H", rows in the spec's order) of a crossed fit
// by the sparse engine at its theta (SparseCrossedObjective::dense_matrix()),
// only on the user's request.
// [[Rcpp::export(name = ".mf_rma_mv_matrix_sparse", rng = false)]]
Rcpp::NumericMatrix mf_rma_mv_matrix_sparse(Rcpp::List spec, Rcpp::NumericVector theta, std::string what) {
  if (what != "M" && what != "W" && what != "H") Rcpp::stop("internal error: unknown matrix '%s'", what);
  CrossedAt at(spec, theta);
  Mat out;
  at.run([&](SparseCrossedObjective& o, const Eigen::Map<const Vec>& th) { return o.dense_matrix(th, what[0], out); });
  return Rcpp::wrap(out);
}

// The blocks M_cc of the clusters whose (0-based, sorted) rows are
// rows[off[c]..off[c+1]), concatenated column-major: the working covariance
// of the CR2-type sandwich of a crossed fit by the sparse engine whose
// clusters hold whole levels of every factor (R checks that, so M is block
// diagonal by cluster), from the V blocks and the codes (CrossedMarginal).
// O(sum_c n_c^2 L).
// [[Rcpp::export(name = ".mf_rma_mv_cluster_blocks_sparse", rng = false)]]
Rcpp::NumericVector mf_rma_mv_cluster_blocks_sparse(Rcpp::List spec, Rcpp::NumericVector theta,
                                                    Rcpp::IntegerVector rows, Rcpp::IntegerVector off) {
  const CrossedSpec cs(spec);
  const ProblemView pr = cs.view();
  const CrossedTerms st = cs.structure();
  if (theta.size() != st.n_theta()) Rcpp::stop("internal error: theta (%d) does not match the spec", theta.size());
  const Eigen::Map<const Vec> th(theta.begin(), theta.size());
  const CrossedMarginal marginal(pr, st);
  return cluster_blocks_r(rows, off, [&](int i, int j) { return marginal(th, i, j); });
}
