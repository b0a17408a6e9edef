// Thin Rcpp layer over the core's numerics that R code asks for after a fit:
// the Q-profile interval for tau2 (core/qprofile.hpp).  The distribution
// functions are R's (Rmath).
#include "rcpp_convert.h"
#include "core/qprofile.hpp"

using namespace metafast;

namespace {

Eigen::Map<const Eigen::VectorXd> vec_map(const Rcpp::NumericVector& x) {
  return Eigen::Map<const Eigen::VectorXd>(x.begin(), x.size());
}
Eigen::Map<const Eigen::MatrixXd> mat_map(const Rcpp::NumericMatrix& X) {
  return Eigen::Map<const Eigen::MatrixXd>(X.begin(), X.nrow(), X.ncol());
}

const char* sign_text(int sign) { return sign < 0 ? "<" : (sign > 0 ? ">" : ""); }

}  // namespace

// Both Q-profile bounds of tau2, tau, I^2 and H^2 at level 1 - alpha.
// centre: the model has an intercept.  tau2_max = NA: metafor's default.
// [[Rcpp::export(name = ".mf_qprofile", rng = false)]]
Rcpp::List mf_qprofile(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X, bool centre,
                       double tau2_hat, double vt, double alpha, double tol, int maxiter, double tau2_min,
                       double tau2_max) {
  const int df = X.nrow() - X.ncol();
  QProfileControl qc;
  qc.tol = tol;
  qc.maxiter = maxiter;
  qc.tau2_min = tau2_min;
  if (!ISNAN(tau2_max)) qc.tau2_max = tau2_max;
  const double crit_upper = R::qchisq(alpha / 2, df, 0, 0);  // gives the lower bound
  const double crit_lower = R::qchisq(alpha / 2, df, 1, 0);  // gives the upper bound
  const QProfileResult q =
      qprofile_tau2(mat_map(X), vec_map(y), vec_map(v), centre, tau2_hat, vt, crit_upper, crit_lower, qc);
  auto values = [](const QProfileBound& b) { return Rcpp::NumericVector::create(b.tau2, b.tau, b.I2, b.H2); };
  return Rcpp::List::create(
      Rcpp::Named("lower") = values(q.lower), Rcpp::Named("upper") = values(q.upper),
      Rcpp::Named("lb.sign") = sign_text(q.lower.sign), Rcpp::Named("ub.sign") = sign_text(q.upper.sign),
      Rcpp::Named("ci.null") = q.ci_null, Rcpp::Named("tau2.min") = q.tau2_min,
      Rcpp::Named("converged") = Rcpp::LogicalVector::create(q.lower.converged, q.upper.converged));
}
