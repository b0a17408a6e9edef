// Conversions between R objects and the core's types.  The R side (R/gate.R)
// has already validated everything, so these only copy.
#pragma once

#include <RcppEigen.h>

#include "core/model.hpp"

namespace metafast {

inline Problem problem_from_r(const Rcpp::NumericVector& y, const Rcpp::NumericVector& v,
                              const Rcpp::NumericMatrix& X, const Rcpp::NumericVector& weights) {
  Problem pr;
  pr.y = Eigen::Map<const Eigen::VectorXd>(y.begin(), y.size());
  pr.v = Eigen::Map<const Eigen::VectorXd>(v.begin(), v.size());
  pr.X = Eigen::Map<const Eigen::MatrixXd>(X.begin(), X.nrow(), X.ncol());
  if (weights.size() > 0) pr.weights = Eigen::Map<const Eigen::VectorXd>(weights.begin(), weights.size());
  return pr;
}

// control: list(threshold, maxiter, stepadj, tau2.init, tau2.max, fix.tau2)
inline Control control_from_r(const Rcpp::List& con) {
  Control c;
  c.threshold = Rcpp::as<double>(con["threshold"]);
  c.maxiter = Rcpp::as<int>(con["maxiter"]);
  c.stepadj = Rcpp::as<double>(con["stepadj"]);
  c.tau2_init = Rcpp::as<double>(con["tau2.init"]);
  c.tau2_max = Rcpp::as<double>(con["tau2.max"]);
  c.fix_tau2 = Rcpp::as<bool>(con["fix.tau2"]);
  return c;
}

inline Rcpp::List convergence_to_r(const Convergence& cv) {
  static const char* solvers[] = {"closed form", "Fisher scoring", "bracketed root-finder"};
  return Rcpp::List::create(Rcpp::Named("converged") = cv.converged,
                            Rcpp::Named("iterations") = cv.iterations,
                            Rcpp::Named("change") = cv.change,
                            Rcpp::Named("solver") = solvers[cv.solver],
                            Rcpp::Named("message") = cv.message);
}

}  // namespace metafast
