// Thin Rcpp layer over the fitting core (core/fit.hpp).
#include "rcpp_convert.h"
#include "core/fit.hpp"

using namespace metafast;

// [[Rcpp::export(name = ".mf_fit", rng = false)]]
Rcpp::List mf_fit(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                  Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                  bool lean = false) {
  const ProblemView pr = view_from_r(y, v, X, weights);
  FitWorkspace ws;
  FitResult f;
  // extreme magnitudes are fitted after the core's exact rescaling
  fit_model_scaled(pr, static_cast<Method>(method), control_from_r(control), static_cast<Test>(test),
                   lean ? Detail::Lean : Detail::Full,
                   scale_for(static_cast<Method>(method), pr.y, pr.v), ws, f);
  return Rcpp::List::create(
      Rcpp::Named("beta") = Rcpp::wrap(f.beta), Rcpp::Named("vb") = Rcpp::wrap(f.vb),
      Rcpp::Named("tau2") = f.tau2, Rcpp::Named("se.tau2") = f.se_tau2, Rcpp::Named("s2w") = f.s2w,
      Rcpp::Named("QE") = f.QE, Rcpp::Named("trP0") = f.trP0, Rcpp::Named("ll.ML") = f.ll_ml,
      Rcpp::Named("ll.REML") = f.ll_reml, Rcpp::Named("dev.ML") = f.dev_ml,
      Rcpp::Named("convergence") = convergence_to_r(f.conv));
}

// Lean path: many outcome vectors (columns of Y, with sampling variances in
// the columns of V) sharing one design X.  Returns coefficients, SEs, tau2.
// [[Rcpp::export(name = ".mf_fit_many", rng = false)]]
Rcpp::List mf_fit_many(Rcpp::NumericMatrix Y, Rcpp::NumericMatrix V, Rcpp::NumericMatrix X, int method,
                       int test, Rcpp::List control) {
  const int n = Y.ncol(), k = Y.nrow(), p = X.ncol();
  const Control ctl = control_from_r(control);
  Problem pr;
  pr.X = Eigen::Map<const Eigen::MatrixXd>(X.begin(), k, p);
  Rcpp::NumericMatrix B(n, p), SE(n, p);
  Rcpp::NumericVector tau2(n);
  Rcpp::LogicalVector conv(n);
  FitWorkspace ws;  // reused: a fit of a model with p <= 2 allocates nothing
  FitResult f;
  for (int j = 0; j < n; ++j) {
    if (j % 256 == 0) Rcpp::checkUserInterrupt();
    pr.y = Eigen::Map<const Eigen::VectorXd>(&Y(0, j), k);
    pr.v = Eigen::Map<const Eigen::VectorXd>(&V(0, j), k);
    // extreme magnitudes are fitted after an exact rescaling, as in rma()
    fit_model_scaled(pr, static_cast<Method>(method), ctl, static_cast<Test>(test), Detail::Lean,
                     scale_for(static_cast<Method>(method), pr.y, pr.v), ws, f);
    for (int c = 0; c < p; ++c) {
      B(j, c) = f.beta.size() ? f.beta(c) : NA_REAL;
      SE(j, c) = f.beta.size() ? std::sqrt(f.vb(c, c)) : NA_REAL;
    }
    tau2[j] = f.tau2;
    conv[j] = f.conv.converged;
  }
  return Rcpp::List::create(Rcpp::Named("beta") = B, Rcpp::Named("se") = SE, Rcpp::Named("tau2") = tau2,
                            Rcpp::Named("converged") = conv);
}
