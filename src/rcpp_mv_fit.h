// The rma.mv() fit as R receives it, shared by the block glue
// (rcpp_rma_mv.cpp) and the sparse glue (rcpp_rma_mv_sparse.cpp): the start
// (NA entries of 'start' take the default start), the controls, the poll for
// interrupts, then theta, beta, vb (model-based), both log-likelihoods at the
// estimate (metafor's fit.stats report ML and REML), QE and the
// log-likelihood of the saturated model ll.QE (both from the sampling
// covariance alone: the objective at theta = 0; NA when V is singular) and
// the convergence record.
//   fit(theta0, ctl, poll) -> BlockFitResult   (theta0 empty: default start)
//   eval_ll(theta, reml, ObjectiveEval&) -> bool   (the objective's ll at theta)
#pragma once

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "core/fit.hpp"

#include <cmath>

namespace metafast {

template <class Fit, class EvalLL>
Rcpp::List mv_fit_to_r(const ProblemView& pr, const VarStructure& st, const Rcpp::NumericVector& start, bool reml,
                       double threshold, int maxiter, double stepadj, Fit fit, EvalLL eval_ll) {
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
  const BlockFitResult f = fit(has_start ? theta0 : Vec(), ctl, poll);
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
    if (eval_ll(f.theta, !reml, other)) {
      ll_ml = reml ? other.ll : f.ll;
      ll_reml = reml ? f.ll : other.ll;
    }
    // the sampling covariance alone: QE = e'V^-1 e at the GLS fit under V
    // (Cochran's Q generalised), ll.QE = -1/2 (k log 2pi + log|V|)
    ObjectiveEval at0;
    if (eval_ll(Vec::Zero(L), false, at0) && std::isfinite(at0.ll)) {
      qe = at0.eWe;
      ll_qe = at0.ll + 0.5 * at0.eWe;
    }
  }
  Rcpp::List out = Rcpp::List::create(Rcpp::Named("beta") = beta, Rcpp::Named("vb") = vb, Rcpp::Named("theta") = theta,
                                      Rcpp::Named("ll.ML") = ll_ml, Rcpp::Named("ll.REML") = ll_reml,
                                      Rcpp::Named("QE") = qe, Rcpp::Named("ll.QE") = ll_qe,
                                      Rcpp::Named("convergence") = convergence_to_r(f.conv));
  if (f.beta.size() > 0 && f.RPt.size() > 0)  // (ill-conditioned designs: the coordinates of exact Wald statistics)
    out.push_back(Rcpp::List::create(Rcpp::Named("b") = Rcpp::wrap(f.beta_t), Rcpp::Named("vb") = Rcpp::wrap(f.vb_t),
                                     Rcpp::Named("RPt") = Rcpp::wrap(f.RPt), Rcpp::Named("D") = Rcpp::wrap(f.D_t)),
                  "mf.wald");
  return out;
}

}  // namespace metafast
