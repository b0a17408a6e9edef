// Generalized linear mixed models for counts with one scalar random effect per
// study (the models of rma.glmm()): binomial (logit link) or Poisson (log
// link) observations j of study i with linear predictor
//   eta_ij = off_ij + x_ij' beta + alpha_i + z_ij * tau * u_i,  u_i ~ N(0, 1),
// where alpha_i is a free per-study intercept (fixed study effects, profiled
// out study by study) or absent.  The marginal log-likelihood is the sum over
// studies of log int prod_j f(y_ij | eta_ij(u)) phi(u) du, each 1-D integral
// evaluated by adaptive Gauss-Hermite quadrature (Liu & Pierce 1994,
// Biometrika 81:624-629; Pinheiro & Bates 1995, JCGS 4:12-35): nodes centred
// at the mode of the integrand and scaled by its curvature there; nAGQ = 1 is
// the Laplace approximation.  The likelihood keeps its constants (log
// binomial coefficients, -log y!).  (beta, tau) are found by damped Newton
// steps with a gradient and Hessian by central differences of the (smooth)
// quadrature approximation, with bounded iterations and a convergence flag.
// No R headers.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/eigen.hpp"

namespace metafast {
namespace glmm {

enum Family { Binomial = 0, Poisson = 1 };

struct Data {
  Family fam = Binomial;
  int k = 0;                  // studies
  std::vector<int> start;     // first observation of each study (size k + 1)
  Eigen::VectorXd y, n, off, z, lconst;  // per observation
  Eigen::MatrixXd X;          // observations x q
  bool study_int = false;     // free per-study intercepts alpha_i (profiled)
};

// Gauss-Hermite rule for the standard normal density (nodes x, weights w
// summing to one) by the Golub-Welsch eigenvalue method: the Jacobi matrix of
// the probabilists' Hermite polynomials has off-diagonal sqrt(1..n-1).
struct GHRule {
  std::vector<double> x, lw;  // nodes and log weights
  explicit GHRule(int n) {
    if (n <= 1) { x.assign(1, 0.0); lw.assign(1, 0.0); return; }
    Eigen::MatrixXd J = Eigen::MatrixXd::Zero(n, n);
    for (int i = 1; i < n; ++i) J(i, i - 1) = J(i - 1, i) = std::sqrt(static_cast<double>(i));
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(J);
    x.resize(n); lw.resize(n);
    for (int i = 0; i < n; ++i) {
      x[i] = es.eigenvalues()(i);
      const double v = es.eigenvectors()(0, i);
      lw[i] = std::log(v * v);
    }
  }
};

// log f(y | eta) with its first two derivatives in eta (d2 <= 0).
inline double logf(Family fam, double y, double n, double eta, double& d1, double& d2) {
  if (fam == Binomial) {
    // n log(1 + e^eta) computed stably; p = plogis(eta)
    const double sp = eta > 0 ? eta + std::log1p(std::exp(-eta)) : std::log1p(std::exp(eta));
    const double p = eta > 0 ? 1.0 / (1.0 + std::exp(-eta)) : std::exp(eta) / (1.0 + std::exp(eta));
    d1 = y - n * p;
    d2 = -n * p * (1.0 - p);
    return y * eta - n * sp;
  }
  const double mu = std::exp(eta);
  d1 = y - mu;
  d2 = -mu;
  return y * eta - mu;
}

struct Study {
  const Data* d;
  int a, b;  // observation range [a, b)
  // g(u) = sum_j log f(y_j | c_j + z_j tau u) - u^2/2 - log(2 pi)/2 (without
  // the constants), with derivatives.
  double g(const std::vector<double>& c, double tau, double u, double& g1, double& g2) const {
    double s = -0.5 * u * u - 0.5 * std::log(2.0 * M_PI);
    g1 = -u; g2 = -1.0;
    for (int j = a; j < b; ++j) {
      double d1, d2;
      const double zt = d->z[j] * tau;
      s += logf(d->fam, d->y[j], d->n[j], c[j - a] + zt * u, d1, d2);
      g1 += d1 * zt;
      g2 += d2 * zt * zt;
    }
    return s;
  }
  // log of the integral by adaptive Gauss-Hermite quadrature; c holds the
  // fixed part of the linear predictor of each observation. u0: start and
  // returned mode.  ok = false when the mode search failed.
  // cll (optional): the conditional log-likelihood at the mode,
  // sum_j log f(y_j | c_j + z_j tau u_mode).
  double agq(const std::vector<double>& c, double tau, const GHRule& gh, double& u0, bool& ok,
             double* cll = nullptr) const {
    double cst = 0;
    for (int j = a; j < b; ++j) cst += d->lconst[j];
    if (tau == 0.0) {
      double s = 0, d1, d2;
      for (int j = a; j < b; ++j) s += logf(d->fam, d->y[j], d->n[j], c[j - a], d1, d2);
      u0 = 0;
      if (cll) *cll = s + cst;
      return s + cst;
    }
    double u = std::isfinite(u0) ? u0 : 0.0, g1, g2;
    double gv = g(c, tau, u, g1, g2);
    ok = false;
    for (int it = 0; it < 200; ++it) {
      double step = -g1 / g2;  // g2 < 0: strictly concave
      double un = u + step, n1, n2;
      double gn = g(c, tau, un, n1, n2);
      int half = 0;
      while (!(gn >= gv - 1e-12 * std::fabs(gv)) && half < 60) {
        step *= 0.5; un = u + step; gn = g(c, tau, un, n1, n2); ++half;
      }
      u = un; gv = gn; g1 = n1; g2 = n2;
      if (std::fabs(step) <= 1e-13 * (1.0 + std::fabs(u))) { ok = true; break; }
    }
    // one last Newton step at the (converged) mode, for the curvature there
    u0 = u;
    if (cll) *cll = gv + 0.5 * u * u + 0.5 * std::log(2.0 * M_PI) + cst;
    const double sd = 1.0 / std::sqrt(-g2);
    const int nq = static_cast<int>(gh.x.size());
    std::vector<double> t(nq);
    double mx = -std::numeric_limits<double>::infinity();
    for (int q = 0; q < nq; ++q) {
      double h1, h2;
      t[q] = gh.lw[q] + g(c, tau, u + sd * gh.x[q], h1, h2) + 0.5 * gh.x[q] * gh.x[q];
      mx = std::max(mx, t[q]);
    }
    double s = 0;
    for (int q = 0; q < nq; ++q) s += std::exp(t[q] - mx);
    return 0.5 * std::log(2.0 * M_PI) + std::log(sd) + mx + std::log(s) + cst;
  }
};

struct Evaluator {
  const Data& d;
  GHRule gh;
  std::vector<Study> st;
  std::vector<double> alpha, umode;  // warm starts (per study)
  std::vector<char> degenerate;      // fixed-intercept studies whose alpha is infinite
  int failed_modes = 0;
  Evaluator(const Data& dd, int nAGQ) : d(dd), gh(nAGQ) {
    st.resize(d.k);
    alpha.assign(d.k, 0.0);
    umode.assign(d.k, 0.0);
    degenerate.assign(d.k, 0);
    for (int i = 0; i < d.k; ++i) {
      st[i].d = &d; st[i].a = d.start[i]; st[i].b = d.start[i + 1];
      if (d.study_int) {
        double ys = 0, ns = 0;
        for (int j = st[i].a; j < st[i].b; ++j) { ys += d.y[j]; ns += d.n[j]; }
        // all observations at a bound of the sample space: alpha_i is
        // infinite and the study contributes log 1 = 0
        if (ys <= 0 || (d.fam == Binomial && ys >= ns)) degenerate[i] = 1;
        alpha[i] = d.fam == Binomial ? std::log((ys + 0.5) / (ns - ys + 0.5)) : std::log((ys + 0.5) / ns);
      }
    }
  }
  // log-likelihood contribution of study i at (beta, tau) (alpha_i profiled)
  double study(int i, const Eigen::VectorXd& beta, double tau) {
    const Study& s = st[i];
    std::vector<double> c(s.b - s.a);
    for (int j = s.a; j < s.b; ++j) c[j - s.a] = d.off[j] + d.X.row(j).dot(beta);
    bool ok = true;
    if (!d.study_int) {
      double v = s.agq(c, tau, gh, umode[i], ok);
      if (!ok) ++failed_modes;
      return v;
    }
    if (degenerate[i]) return 0.0;
    // profile alpha_i: Newton steps with central differences, halved steps
    auto val = [&](double al) {
      std::vector<double> cc(c);
      for (double& x : cc) x += al;
      bool ok2 = true;
      double u = umode[i];
      double v = s.agq(cc, tau, gh, u, ok2);
      if (!ok2) ++failed_modes;
      return v;
    };
    double al = alpha[i], f0 = val(al);
    const double h = 1e-4;
    for (int it = 0; it < 100; ++it) {
      const double fp = val(al + h), fm = val(al - h);
      const double d1 = (fp - fm) / (2 * h), d2 = (fp - 2 * f0 + fm) / (h * h);
      double step = d2 < 0 ? -d1 / d2 : (d1 > 0 ? 1.0 : -1.0);
      step = std::max(-5.0, std::min(5.0, step));
      double an = al + step, fn = val(an);
      int half = 0;
      while (!(fn >= f0 - 1e-13 * std::fabs(f0)) && half < 50) { step *= 0.5; an = al + step; fn = val(an); ++half; }
      al = an; f0 = fn;
      if (std::fabs(step) <= 1e-10 * (1.0 + std::fabs(al))) break;
    }
    alpha[i] = al;
    return f0;
  }
  // Sum over studies of the conditional log-likelihood at the modes of the
  // random effects (at the last profiled alpha_i).
  double conditional(const Eigen::VectorXd& theta, bool with_tau) {
    const int q = d.X.cols();
    Eigen::VectorXd beta = theta.head(q);
    const double tau = with_tau ? theta(q) : 0.0;
    double s = 0;
    for (int i = 0; i < d.k; ++i) {
      const Study& st_i = st[i];
      if (d.study_int && degenerate[i]) continue;
      std::vector<double> c(st_i.b - st_i.a);
      for (int j = st_i.a; j < st_i.b; ++j) c[j - st_i.a] = d.off[j] + d.X.row(j).dot(beta) + (d.study_int ? alpha[i] : 0.0);
      bool ok = true;
      double u = umode[i], cll = 0;
      st_i.agq(c, tau, gh, u, ok, &cll);
      s += cll;
    }
    return s;
  }
  double total(const Eigen::VectorXd& theta, bool with_tau) {
    const int q = d.X.cols();
    Eigen::VectorXd beta = theta.head(q);
    const double tau = with_tau ? theta(q) : 0.0;
    double s = 0;
    for (int i = 0; i < d.k; ++i) s += study(i, beta, tau);
    return s;
  }
};

struct FitResult {
  Eigen::VectorXd theta;   // beta (q) and, when with_tau, tau (>= 0)
  Eigen::MatrixXd hessian; // of the log-likelihood in theta
  Eigen::VectorXd alpha;   // per-study intercepts (study_int)
  double ll = std::numeric_limits<double>::quiet_NaN();
  double ll_cond = std::numeric_limits<double>::quiet_NaN();  // at the modes
  int iterations = 0;
  bool converged = false;
  int failed_modes = 0;
};

// Gradient and Hessian of f at theta by central differences (step h_j).
template <class F>
void fd_derivs(F& f, const Eigen::VectorXd& th, double f0, Eigen::VectorXd& g, Eigen::MatrixXd& H) {
  const int m = th.size();
  g.resize(m); H.resize(m, m);
  Eigen::VectorXd h(m);
  for (int j = 0; j < m; ++j) h(j) = 1e-4 * std::max(1.0, std::fabs(th(j)));
  for (int j = 0; j < m; ++j) {
    Eigen::VectorXd t = th;
    t(j) += h(j); const double fp = f(t);
    t(j) = th(j) - h(j); const double fm = f(t);
    g(j) = (fp - fm) / (2 * h(j));
    H(j, j) = (fp - 2 * f0 + fm) / (h(j) * h(j));
  }
  for (int j = 0; j < m; ++j)
    for (int l = 0; l < j; ++l) {
      Eigen::VectorXd t = th;
      t(j) += h(j); t(l) += h(l); const double fpp = f(t);
      t(l) = th(l) - h(l); const double fpm = f(t);
      t(j) = th(j) - h(j); const double fmm = f(t);
      t(l) = th(l) + h(l); const double fmp = f(t);
      H(j, l) = H(l, j) = (fpp - fpm - fmp + fmm) / (4 * h(j) * h(l));
    }
}

// Maximise the log-likelihood over theta = (beta, tau) (tau only when
// with_tau; the likelihood is even in tau, so tau is free and |tau| is
// returned) from the start theta0.
inline FitResult fit(const Data& d, int nAGQ, const Eigen::VectorXd& theta0, bool with_tau, int maxit, double tol) {
  Evaluator ev(d, nAGQ);
  auto f = [&](const Eigen::VectorXd& t) { return ev.total(t, with_tau); };
  FitResult out;
  Eigen::VectorXd th = theta0, g;
  Eigen::MatrixXd H;
  double f0 = f(th);
  const int m = th.size();
  for (int it = 1; it <= maxit; ++it) {
    out.iterations = it;
    if (!std::isfinite(f0)) break;
    fd_derivs(f, th, f0, g, H);
    // step: (-H + lambda I) d = g, lambda > 0 only when -H is not positive definite
    Eigen::MatrixXd A = -H;
    double lambda = 0, scale = std::max(1e-8, A.diagonal().cwiseAbs().maxCoeff());
    Eigen::LLT<Eigen::MatrixXd> llt;
    for (int tr = 0; tr < 40; ++tr) {
      llt.compute(A + lambda * Eigen::MatrixXd::Identity(m, m));
      if (llt.info() == Eigen::Success) break;
      lambda = lambda == 0 ? 1e-6 * scale : lambda * 10;
    }
    Eigen::VectorXd step = llt.solve(g);
    // at most a unit change of tau and of each coefficient per step
    const double mx = step.cwiseAbs().maxCoeff();
    if (mx > 5) step *= 5 / mx;
    Eigen::VectorXd tn = th + step;
    double fn = f(tn);
    int half = 0;
    while (!(fn >= f0 - 1e-12 * std::fabs(f0)) && half < 40) { step *= 0.5; tn = th + step; fn = f(tn); ++half; }
    if (!(fn >= f0 - 1e-12 * std::fabs(f0))) break;  // no ascent possible
    th = tn; f0 = fn;
    bool small = true;
    for (int j = 0; j < m; ++j) if (std::fabs(step(j)) > tol * (1.0 + std::fabs(th(j)))) small = false;
    if (small && lambda == 0) { out.converged = true; break; }
  }
  if (with_tau) th(m - 1) = std::fabs(th(m - 1));
  fd_derivs(f, th, f(th), g, H);
  f0 = f(th);  // (last: the profiled alpha_i belong to th)
  out.theta = th;
  out.hessian = H;
  out.ll = f0;
  out.ll_cond = ev.conditional(th, with_tau);
  out.alpha = Eigen::Map<Eigen::VectorXd>(ev.alpha.data(), d.k);
  out.failed_modes = ev.failed_modes;
  return out;
}

// Log-likelihood at given theta (no fitting).
inline double loglik(const Data& d, int nAGQ, const Eigen::VectorXd& theta, bool with_tau) {
  Evaluator ev(d, nAGQ);
  return ev.total(theta, with_tau);
}

}  // namespace glmm
}  // namespace metafast
