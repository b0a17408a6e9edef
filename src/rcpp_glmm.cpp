// Thin Rcpp layer over core/glmm.hpp: fit the one-random-effect GLMMs of
// rma.glmm() (R/rma-glmm.R builds the observations, validates the input and
// computes everything else).
#include "metafast_types.h"
#include "core/glmm.hpp"

namespace {
metafast::glmm::Data glmm_data_from_r(const Rcpp::NumericVector& y, const Rcpp::NumericVector& n,
                                      const Rcpp::NumericVector& off, const Rcpp::NumericVector& z,
                                      const Rcpp::NumericVector& lconst, const Rcpp::NumericMatrix& X,
                                      const Rcpp::IntegerVector& start, int family, bool study_int) {
  namespace gl = metafast::glmm;
  gl::Data d;
  d.fam = family == 1 ? gl::Poisson : gl::Binomial;
  d.k = start.size() - 1;
  d.start.assign(start.begin(), start.end());
  d.y = Eigen::Map<const Eigen::VectorXd>(y.begin(), y.size());
  d.n = Eigen::Map<const Eigen::VectorXd>(n.begin(), n.size());
  d.off = Eigen::Map<const Eigen::VectorXd>(off.begin(), off.size());
  d.z = Eigen::Map<const Eigen::VectorXd>(z.begin(), z.size());
  d.lconst = Eigen::Map<const Eigen::VectorXd>(lconst.begin(), lconst.size());
  d.X = Eigen::Map<const Eigen::MatrixXd>(X.begin(), X.nrow(), X.ncol());
  d.study_int = study_int;
  return d;
}
}  // namespace

// [[Rcpp::export(name = ".mf_glmm_fit", rng = false)]]
Rcpp::List mf_glmm_fit(const Rcpp::NumericVector& y, const Rcpp::NumericVector& n, const Rcpp::NumericVector& off,
                       const Rcpp::NumericVector& z, const Rcpp::NumericVector& lconst, const Rcpp::NumericMatrix& X,
                       const Rcpp::IntegerVector& start, int family, bool study_int, int nAGQ,
                       const Rcpp::NumericVector& theta0, bool with_tau, int maxit, double tol) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_r(y, n, off, z, lconst, X, start, family, study_int);
  Eigen::VectorXd th0 = Eigen::Map<const Eigen::VectorXd>(theta0.begin(), theta0.size());
  const gl::FitResult r = gl::fit(d, nAGQ, th0, with_tau, maxit, tol);
  return Rcpp::List::create(Rcpp::Named("theta") = Rcpp::wrap(r.theta), Rcpp::Named("hessian") = Rcpp::wrap(r.hessian),
                            Rcpp::Named("alpha") = Rcpp::wrap(r.alpha), Rcpp::Named("ll") = r.ll, Rcpp::Named("ll_cond") = r.ll_cond,
                            Rcpp::Named("iterations") = r.iterations, Rcpp::Named("converged") = r.converged,
                            Rcpp::Named("failed_modes") = r.failed_modes);
}

// [[Rcpp::export(name = ".mf_glmm_loglik", rng = false)]]
double mf_glmm_loglik(const Rcpp::NumericVector& y, const Rcpp::NumericVector& n, const Rcpp::NumericVector& off,
                      const Rcpp::NumericVector& z, const Rcpp::NumericVector& lconst, const Rcpp::NumericMatrix& X,
                      const Rcpp::IntegerVector& start, int family, bool study_int, int nAGQ,
                      const Rcpp::NumericVector& theta, bool with_tau) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_r(y, n, off, z, lconst, X, start, family, study_int);
  Eigen::VectorXd th = Eigen::Map<const Eigen::VectorXd>(theta.begin(), theta.size());
  return gl::loglik(d, nAGQ, th, with_tau);
}
