// Conversions between R objects and the core's types.  The R side (R/gate.R)
// has already validated everything, so these only copy.
#pragma once

#include "metafast_types.h"

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

// Views of R's vectors (no copy): valid while the R objects are, i.e. for
// the duration of the .Call that received them.
inline ProblemView view_from_r(const Rcpp::NumericVector& y, const Rcpp::NumericVector& v,
                               const Rcpp::NumericMatrix& X, const Rcpp::NumericVector& weights) {
  using CVecMap = Eigen::Map<const Eigen::VectorXd>;
  return ProblemView(CVecMap(y.begin(), y.size()), CVecMap(v.begin(), v.size()),
                     Eigen::Map<const Eigen::MatrixXd>(X.begin(), X.nrow(), X.ncol()),
                     CVecMap(weights.begin(), weights.size()));
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
  if (con.containsElementNamed("tau2.min")) c.tau2_min = Rcpp::as<double>(con["tau2.min"]);
  return c;
}

inline const char* solver_name(const Convergence& cv) {
  static const char* solvers[] = {"closed form", "Fisher scoring", "bracketed root-finder", "quasi-Newton",
                                  "fixed-point iteration"};
  return solvers[cv.solver];
}

inline Rcpp::List convergence_to_r(const Convergence& cv) {
  return Rcpp::List::create(Rcpp::Named("converged") = cv.converged,
                            Rcpp::Named("iterations") = cv.iterations,
                            Rcpp::Named("change") = cv.change,
                            Rcpp::Named("solver") = solver_name(cv),
                            Rcpp::Named("message") = cv.message);
}

// ... with the estimator used and the ones that failed before it (built in
// one go: assigning a new name to an Rcpp list throws and catches internally).
inline Rcpp::List convergence_to_r(const Convergence& cv, const std::string& method,
                                   const Rcpp::CharacterVector& fallbacks) {
  return Rcpp::List::create(Rcpp::Named("converged") = cv.converged,
                            Rcpp::Named("iterations") = cv.iterations,
                            Rcpp::Named("change") = cv.change,
                            Rcpp::Named("solver") = solver_name(cv),
                            Rcpp::Named("message") = cv.message,
                            Rcpp::Named("method") = method,
                            Rcpp::Named("fallbacks") = fallbacks);
}

}  // namespace metafast
