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

// The observations of R's .mf_glmm_obs() list: y, n, off, z, lconst, X,
// start, family, study_int, and optionally w (coefficient of the study
// parameter per observation) and n2, tt (family 2, non-central
// hypergeometric: group 2 size and total events).
metafast::glmm::Data glmm_data_from_list(const Rcpp::List& o) {
  namespace gl = metafast::glmm;
  gl::Data d = glmm_data_from_r(o["y"], o["n"], o["off"], o["z"], o["lconst"], o["X"], o["start"],
                                Rcpp::as<int>(o["family"]), Rcpp::as<bool>(o["study_int"]));
  if (Rcpp::as<int>(o["family"]) == 2) {
    d.fam = gl::NCHypergeo;
    Rcpp::NumericVector n2 = o["n2"], tt = o["tt"];
    gl::glmm_setup_nch(d, Eigen::Map<const Eigen::VectorXd>(n2.begin(), n2.size()),
                       Eigen::Map<const Eigen::VectorXd>(tt.begin(), tt.size()));
  }
  if (o.containsElementNamed("w") && !Rf_isNull(o["w"])) {
    Rcpp::NumericVector w = o["w"];
    d.w = Eigen::Map<const Eigen::VectorXd>(w.begin(), w.size());
  }
  return d;
}
}  // namespace

// [[Rcpp::export(name = ".mf_glmm_fit_obs", rng = false)]]
Rcpp::List mf_glmm_fit_obs(const Rcpp::List& obs, int nAGQ, const Rcpp::NumericVector& theta0, bool with_tau, int maxit,
                           double tol) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_list(obs);
  Eigen::VectorXd th0 = Eigen::Map<const Eigen::VectorXd>(theta0.begin(), theta0.size());
  const gl::FitResult r = gl::fit(d, nAGQ, th0, with_tau, maxit, tol);
  return Rcpp::List::create(Rcpp::Named("theta") = Rcpp::wrap(r.theta), Rcpp::Named("hessian") = Rcpp::wrap(r.hessian),
                            Rcpp::Named("alpha") = Rcpp::wrap(r.alpha), Rcpp::Named("ll") = r.ll, Rcpp::Named("ll_cond") = r.ll_cond,
                            Rcpp::Named("iterations") = r.iterations, Rcpp::Named("converged") = r.converged,
                            Rcpp::Named("failed_modes") = r.failed_modes);
}

// [[Rcpp::export(name = ".mf_glmm_loglik_obs", rng = false)]]
double mf_glmm_loglik_obs(const Rcpp::List& obs, int nAGQ, const Rcpp::NumericVector& theta, bool with_tau) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_list(obs);
  Eigen::VectorXd th = Eigen::Map<const Eigen::VectorXd>(theta.begin(), theta.size());
  return gl::loglik(d, nAGQ, th, with_tau);
}

// Per-study curvature of a fit with study parameters: the Hessians in
// (beta, tau, alpha_i) (rx = FALSE) or glmer's RX information in
// (beta, alpha_i) at fixed tau (rx = TRUE), stacked by study.
// [[Rcpp::export(name = ".mf_glmm_study_curv", rng = false)]]
Rcpp::NumericMatrix mf_glmm_study_curv(const Rcpp::List& obs, int nAGQ, const Rcpp::NumericVector& theta,
                                       const Rcpp::NumericVector& alpha, bool rx) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_list(obs);
  Eigen::VectorXd th = Eigen::Map<const Eigen::VectorXd>(theta.begin(), theta.size());
  Eigen::VectorXd al = Eigen::Map<const Eigen::VectorXd>(alpha.begin(), alpha.size());
  if (al.size() != d.k || th.size() != d.X.cols() + 1) Rcpp::stop("internal: theta/alpha sizes");
  return Rcpp::wrap(rx ? gl::study_rx(d, nAGQ, th, al) : gl::study_hessians(d, nAGQ, th, al));
}

// model = "UM.RS": two random effects per study, Laplace approximation.
// [[Rcpp::export(name = ".mf_glmm_fit_rs", rng = false)]]
Rcpp::List mf_glmm_fit_rs(const Rcpp::List& obs, bool cor, const Rcpp::NumericVector& theta0, int maxit, double tol) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_list(obs);
  Eigen::VectorXd th0 = Eigen::Map<const Eigen::VectorXd>(theta0.begin(), theta0.size());
  if (th0.size() != d.X.cols() + (cor ? 3 : 2)) Rcpp::stop("internal: theta0 size");
  const gl::RSFitResult r = gl::fit_rs(d, cor, th0, maxit, tol);
  return Rcpp::List::create(Rcpp::Named("theta") = Rcpp::wrap(r.theta), Rcpp::Named("hessian") = Rcpp::wrap(r.hessian),
                            Rcpp::Named("rx_info") = Rcpp::wrap(r.rx_info), Rcpp::Named("ll") = r.ll,
                            Rcpp::Named("iterations") = r.iterations, Rcpp::Named("converged") = r.converged,
                            Rcpp::Named("failed_modes") = r.failed_modes);
}

// model = "UM.RS": the log-likelihood at theta = (beta, s, t) or
// (beta, l11, l21, l22).
// [[Rcpp::export(name = ".mf_glmm_loglik_rs", rng = false)]]
double mf_glmm_loglik_rs(const Rcpp::List& obs, bool cor, const Rcpp::NumericVector& theta) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_list(obs);
  Eigen::VectorXd th = Eigen::Map<const Eigen::VectorXd>(theta.begin(), theta.size());
  if (th.size() != d.X.cols() + (cor ? 3 : 2)) Rcpp::stop("internal: theta size");
  return gl::rs_loglik(d, cor, th);
}

// model = "UM.RS": the profile log-likelihood at a fixed tau (see
// core/glmm.hpp, profile_rs); free0 = (beta, s) or (beta, l11, phi).
// [[Rcpp::export(name = ".mf_glmm_profile_rs", rng = false)]]
Rcpp::List mf_glmm_profile_rs(const Rcpp::List& obs, bool cor, const Rcpp::NumericVector& free0, double tau, int maxit,
                              double tol) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_list(obs);
  Eigen::VectorXd f0 = Eigen::Map<const Eigen::VectorXd>(free0.begin(), free0.size());
  if (f0.size() != d.X.cols() + (cor ? 2 : 1)) Rcpp::stop("internal: free0 size");
  if (!(tau >= 0)) Rcpp::stop("internal: tau must be >= 0");
  const gl::RSProfileResult r = gl::profile_rs(d, cor, f0, tau, maxit, tol);
  return Rcpp::List::create(Rcpp::Named("free") = Rcpp::wrap(r.free), Rcpp::Named("ll") = r.ll,
                            Rcpp::Named("iterations") = r.iterations, Rcpp::Named("converged") = r.converged,
                            Rcpp::Named("failed_modes") = r.failed_modes);
}

// The saturated non-central hypergeometric model (one log odds ratio per
// observation).
// [[Rcpp::export(name = ".mf_glmm_nch_sat", rng = false)]]
Rcpp::List mf_glmm_nch_sat(const Rcpp::List& obs) {
  namespace gl = metafast::glmm;
  const gl::Data d = glmm_data_from_list(obs);
  Eigen::VectorXd th, info;
  const double ll = gl::nch_saturated(d, th, info);
  return Rcpp::List::create(Rcpp::Named("ll") = ll, Rcpp::Named("theta") = Rcpp::wrap(th),
                            Rcpp::Named("info") = Rcpp::wrap(info));
}
