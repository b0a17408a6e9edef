// Thin Rcpp layer over the core's numerics that R code asks for after a fit:
// the Q-profile and generalised Q-profile intervals for tau2 (core/qprofile.hpp), Wald and Q statistics
// (core/fit.hpp, core/tau2.hpp), leverages and residual variances
// (core/leverage.hpp), and the table of what each estimator and test can do
// (core/estimators.hpp).  The distribution functions are R's (Rmath).
#include "rcpp_convert.h"
#include "core/estimators.hpp"
#include "core/leverage.hpp"
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

Rcpp::List qprofile_to_r(const QProfileResult& q) {
  auto values = [](const QProfileBound& b) { return Rcpp::NumericVector::create(b.tau2, b.tau, b.I2, b.H2); };
  return Rcpp::List::create(
      Rcpp::Named("lower") = values(q.lower), Rcpp::Named("upper") = values(q.upper),
      Rcpp::Named("lb.sign") = sign_text(q.lower.sign), Rcpp::Named("ub.sign") = sign_text(q.upper.sign),
      Rcpp::Named("ci.null") = q.ci_null, Rcpp::Named("tau2.min") = q.tau2_min,
      Rcpp::Named("converged") = Rcpp::LogicalVector::create(q.lower.converged, q.upper.converged));
}

QProfileControl qprofile_control(double tol, int maxiter, double tau2_min, double tau2_max) {
  QProfileControl qc;
  qc.tol = tol;
  qc.maxiter = maxiter;
  qc.tau2_min = tau2_min;
  if (!ISNAN(tau2_max)) qc.tau2_max = tau2_max;
  return qc;
}

}  // namespace

// Both Q-profile bounds of tau2, tau, I^2 and H^2 at level 1 - alpha.
// centre: the model has an intercept.  tau2_max = NA: metafor's default.
// [[Rcpp::export(name = ".mf_qprofile", rng = false)]]
Rcpp::List mf_qprofile(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X, bool centre,
                       double tau2_hat, double vt, double alpha, double tol, int maxiter, double tau2_min,
                       double tau2_max) {
  const int df = X.nrow() - X.ncol();
  const QProfileControl qc = qprofile_control(tol, maxiter, tau2_min, tau2_max);
  const double crit_upper = R::qchisq(alpha / 2, df, 0, 0);  // gives the lower bound
  const double crit_lower = R::qchisq(alpha / 2, df, 1, 0);  // gives the upper bound
  return qprofile_to_r(
      qprofile_tau2(mat_map(X), vec_map(y), vec_map(v), centre, tau2_hat, vt, crit_upper, crit_lower, qc));
}

// The generalised Q-profile bounds (core genq_profile_tau2) with the user's
// weights, in the same form as .mf_qprofile().
// [[Rcpp::export(name = ".mf_genq_profile", rng = false)]]
Rcpp::List mf_genq_profile(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                           Rcpp::NumericVector weights, bool centre, double tau2_hat, double vt, double alpha,
                           double tol, int maxiter, double tau2_min, double tau2_max) {
  const QProfileControl qc = qprofile_control(tol, maxiter, tau2_min, tau2_max);
  return qprofile_to_r(genq_profile_tau2(mat_map(X), vec_map(y), vec_map(v), vec_map(weights), centre, tau2_hat,
                                         vt, alpha, qc));
}

// The Wald statistic b[idx]' vb[idx, idx]^-1 b[idx] (core wald_qm); idx 1-based.
// [[Rcpp::export(name = ".mf_wald", rng = false)]]
double mf_wald(Rcpp::NumericVector b, Rcpp::NumericMatrix vb, Rcpp::IntegerVector idx) {
  Eigen::VectorXi i0(idx.size());
  for (R_xlen_t j = 0; j < idx.size(); ++j) i0(j) = idx[j] - 1;
  const double q = wald_qm(Vec(vec_map(b)), Mat(mat_map(vb)), i0);
  return std::isnan(q) ? NA_REAL : q;  // (not positive definite: NA in R, as solve() failing gave before)
}

// The hypothesis L beta = 0 (L: q x p, full row rank) in the orthonormal
// coordinates of an ill-conditioned fit (its mf.wald: R P' and D): U' (q x p)
// with U'b~ = 0 the same hypothesis (core wald_basis(); issue 18).
// [[Rcpp::export(name = ".mf_wald_basis", rng = false)]]
Rcpp::NumericMatrix mf_wald_basis(Rcpp::NumericMatrix RPt, Rcpp::NumericVector D, Rcpp::NumericMatrix L) {
  const Mat U = wald_basis(Mat(mat_map(RPt)), null_basis_of(Mat(mat_map(L)), Vec(vec_map(D))));
  return Rcpp::wrap(Mat(U.transpose()));
}

// The orthonormal design X~ = X T of an ill-conditioned X and T (NULL for a
// design that the kernels fit as it is; core DesignTransform).
// [[Rcpp::export(name = ".mf_design_transform", rng = false)]]
SEXP mf_design_transform(Rcpp::NumericMatrix X) {
  if (!design_ill_conditioned(mat_map(X))) return R_NilValue;
  const DesignTransform dt(mat_map(X));
  return Rcpp::List::create(Rcpp::Named("Xt") = Rcpp::wrap(dt.Xt), Rcpp::Named("T") = Rcpp::wrap(dt.T),
                            Rcpp::Named("RPt") = Rcpp::wrap(dt.RPt), Rcpp::Named("D") = Rcpp::wrap(dt.D));
}

// The generalised Q statistic y'P(tau2)y with weights 1 / (v + tau2) (core q_gen).
// [[Rcpp::export(name = ".mf_qstat", rng = false)]]
double mf_qstat(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X, double tau2) {
  return q_gen(mat_map(X), vec_map(y), vec_map(v), tau2);
}

// Leverages, model weights and residual variances of a fit (weights of
// length 0: inverse-variance weights).
// [[Rcpp::export(name = ".mf_leverage", rng = false)]]
Rcpp::List mf_leverage(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                       Rcpp::NumericVector weights, double tau2) {
  const LeverageResult r = leverage_values(mat_map(X), vec_map(y), vec_map(v), tau2, vec_map(weights));
  return Rcpp::List::create(Rcpp::Named("hat") = Rcpp::wrap(r.hat), Rcpp::Named("weight") = Rcpp::wrap(r.weight),
                            Rcpp::Named("var.resid") = Rcpp::wrap(r.var_resid));
}

// The estimator table (core estimator_table()) as a data frame, one row per name.
// [[Rcpp::export(name = ".mf_estimator_table", rng = false)]]
Rcpp::DataFrame mf_estimator_table() {
  const auto& tab = estimator_table();
  const int n = static_cast<int>(tab.size());
  Rcpp::CharacterVector name(n), canonical(n);
  Rcpp::IntegerVector code(n);
  Rcpp::LogicalVector random(n), iterative(n), likelihood(n), restricted(n), warm_start(n), has_se(n), user_weights(n);
  for (int i = 0; i < n; ++i) {
    const EstimatorInfo& e = tab[i];
    name[i] = e.name;
    canonical[i] = e.canonical;
    code[i] = static_cast<int>(e.code);
    random[i] = e.random;
    iterative[i] = e.iterative;
    likelihood[i] = e.likelihood;
    restricted[i] = e.restricted;
    warm_start[i] = e.warm_start;
    has_se[i] = e.has_se;
    user_weights[i] = e.user_weights;
  }
  return Rcpp::DataFrame::create(Rcpp::Named("name") = name, Rcpp::Named("canonical") = canonical,
                                 Rcpp::Named("code") = code, Rcpp::Named("random") = random,
                                 Rcpp::Named("iterative") = iterative, Rcpp::Named("likelihood") = likelihood,
                                 Rcpp::Named("restricted") = restricted, Rcpp::Named("warm_start") = warm_start,
                                 Rcpp::Named("has_se") = has_se, Rcpp::Named("user_weights") = user_weights,
                                 Rcpp::Named("stringsAsFactors") = false);
}

// The test table (core test_table()) as a data frame.
// [[Rcpp::export(name = ".mf_test_table", rng = false)]]
Rcpp::DataFrame mf_test_table() {
  const auto& tab = test_table();
  const int n = static_cast<int>(tab.size());
  Rcpp::CharacterVector name(n);
  Rcpp::IntegerVector code(n);
  Rcpp::LogicalVector tdist(n), knha(n);
  for (int i = 0; i < n; ++i) {
    name[i] = tab[i].name;
    code[i] = static_cast<int>(tab[i].code);
    tdist[i] = tab[i].tdist;
    knha[i] = tab[i].knha;
  }
  return Rcpp::DataFrame::create(Rcpp::Named("name") = name, Rcpp::Named("code") = code,
                                 Rcpp::Named("tdist") = tdist, Rcpp::Named("knha") = knha,
                                 Rcpp::Named("stringsAsFactors") = false);
}
