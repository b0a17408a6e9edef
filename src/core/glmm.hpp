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

// Binomial: logit link; Poisson: log link; NCHypergeo: Fisher's non-central
// hypergeometric distribution of the events of group 1 (y) given the group
// sizes n1 (n), n2 and the total number of events t, with log odds ratio eta
// (the exact conditional likelihood of a 2x2 table: Breslow & Day 1980,
// Statistical Methods in Cancer Research I, sec. 4.2; Van Houwelingen, Zwinderman
// & Stijnen 1993, Statistics in Medicine 12:2273-2284).
enum Family { Binomial = 0, Poisson = 1, NCHypergeo = 2 };

// log f(y | eta) with its first two derivatives in eta (d2 <= 0) for the
// binomial and Poisson families (constants left out).
inline double glmm_logf(Family fam, double y, double n, double eta, double& d1, double& d2) {
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

// The non-central hypergeometric part of one observation: support lo..lo+len-1
// and log weights lw_x = log C(n1, x) + log C(n2, t - x).  log f(y | eta) =
// lw_y + y eta - log sum_x exp(lw_x + x eta): the normalising constant in log
// space (shifted by its largest term); d1 = y - E(x), d2 = -Var(x).
struct NCHTable {
  int lo = 0;
  std::vector<double> lw;
  double logf(double y, double eta, double& d1, double& d2) const {
    const int len = static_cast<int>(lw.size());
    if (len <= 1) { d1 = 0; d2 = 0; return 0.0; }
    double mx = -std::numeric_limits<double>::infinity();
    for (int i = 0; i < len; ++i) mx = std::max(mx, lw[i] + i * eta);
    double s0 = 0, s1 = 0;
    for (int i = 0; i < len; ++i) {
      const double e = std::exp(lw[i] + i * eta - mx);
      s0 += e; s1 += e * i;
    }
    const double m = s1 / s0;
    double s2 = 0;
    for (int i = 0; i < len; ++i) {
      const double e = std::exp(lw[i] + i * eta - mx);
      s2 += e * (i - m) * (i - m);
    }
    d1 = (y - lo) - m;
    d2 = -s2 / s0;
    return (y - lo) * eta - (mx + std::log(s0));
  }
};

struct Data {
  Family fam = Binomial;
  int k = 0;                  // studies
  std::vector<int> start;     // first observation of each study (size k + 1)
  Eigen::VectorXd y, n, off, z, lconst;  // per observation
  Eigen::MatrixXd X;          // observations x q
  bool study_int = false;     // free per-study intercepts alpha_i (profiled)
  Eigen::VectorXd w;          // coefficient of alpha_i per observation (empty: 1)
  std::vector<NCHTable> nch;  // per observation (NCHypergeo)
  double wj(int j) const { return w.size() ? w[j] : 1.0; }
  // log f(y_j | eta) without the constant lconst_j
  double lf(int j, double eta, double& d1, double& d2) const {
    if (fam == NCHypergeo) return nch[j].logf(y[j], eta, d1, d2);
    return glmm_logf(fam, y[j], n[j], eta, d1, d2);
  }
};

// Tables of the non-central hypergeometric observations: y events of n1 in
// group 1, n2 in group 2, t = y + events of group 2; lconst_j = lw_y.
inline void glmm_setup_nch(Data& d, const Eigen::VectorXd& n2, const Eigen::VectorXd& t) {
  const int m = d.y.size();
  d.nch.assign(m, NCHTable());
  d.lconst.resize(m);
  auto lch = [](double a, double b) { return std::lgamma(a + 1) - std::lgamma(b + 1) - std::lgamma(a - b + 1); };
  for (int j = 0; j < m; ++j) {
    const double n1 = d.n[j];
    const int lo = static_cast<int>(std::max(0.0, t[j] - n2[j]));
    const int hi = static_cast<int>(std::min(n1, t[j]));
    NCHTable& tb = d.nch[j];
    tb.lo = lo;
    tb.lw.resize(std::max(0, hi - lo + 1));
    for (int x = lo; x <= hi; ++x) tb.lw[x - lo] = lch(n1, x) + lch(n2[j], t[j] - x);
    const int yi = static_cast<int>(d.y[j]);
    d.lconst[j] = (yi >= lo && yi <= hi) ? tb.lw[yi - lo] : -std::numeric_limits<double>::infinity();
  }
}

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
      s += d->lf(j, c[j - a] + zt * u, d1, d2);
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
      for (int j = a; j < b; ++j) s += d->lf(j, c[j - a], d1, d2);
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
  std::vector<int> degenerate;       // studies whose alpha_i is -/+ infinite (-1 / +1)
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
        for (int j = st[i].a; j < st[i].b; ++j)
          if (d.wj(j) != 0) { ys += d.y[j]; ns += d.n[j]; }
        // all observations that alpha_i enters at a bound of the sample
        // space: alpha_i is infinite and these observations contribute
        // log 1 = 0 (the whole study when alpha_i enters all of them)
        if (ys <= 0) degenerate[i] = -1;
        else if (d.fam == Binomial && ys >= ns) degenerate[i] = 1;
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
    if (degenerate[i] && d.w.size() == 0) return 0.0;
    // profile alpha_i: Newton steps with central differences, halved steps
    auto val = [&](double al) {
      std::vector<double> cc(c);
      for (int j = s.a; j < s.b; ++j) cc[j - s.a] += al * d.wj(j);
      bool ok2 = true;
      double u = umode[i];
      double v = s.agq(cc, tau, gh, u, ok2);
      if (!ok2) ++failed_modes;
      return v;
    };
    if (degenerate[i]) {
      // the limit: the observations that alpha_i enters at linear predictor
      // -/+ 1e200, where their log-density and its derivatives are exactly 0
      alpha[i] = degenerate[i] < 0 ? -1e200 : 1e200;
      return val(alpha[i]);
    }
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
  // log-likelihood contribution of study i at (beta, tau, alpha_i = al)
  // (no profiling)
  double study_fixed(int i, const Eigen::VectorXd& beta, double tau, double al) {
    const Study& s = st[i];
    std::vector<double> c(s.b - s.a);
    for (int j = s.a; j < s.b; ++j) c[j - s.a] = d.off[j] + d.X.row(j).dot(beta) + (d.study_int ? al * d.wj(j) : 0.0);
    bool ok = true;
    double u = umode[i];
    return s.agq(c, tau, gh, u, ok);
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
      if (d.study_int && degenerate[i] && d.w.size() == 0) continue;
      std::vector<double> c(st_i.b - st_i.a);
      for (int j = st_i.a; j < st_i.b; ++j)
        c[j - st_i.a] = d.off[j] + d.X.row(j).dot(beta) + (d.study_int ? alpha[i] * d.wj(j) : 0.0);
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

// Damped Newton ascent of f from th (updated in place): gradient and Hessian
// by central differences, (-H + lambda I) step = g with lambda > 0 only when
// -H is not positive definite, steps capped at 5 and halved until f does not
// decrease; converged when every step is below tol (relative) without
// damping.  f0: f(th) on entry and at the end.
template <class F>
void glmm_newton(F& f, Eigen::VectorXd& th, double& f0, int maxit, double tol, int& iterations, bool& converged) {
  Eigen::VectorXd g;
  Eigen::MatrixXd H;
  const int m = th.size();
  converged = false;
  iterations = 0;
  for (int it = 1; it <= maxit; ++it) {
    iterations = it;
    if (!std::isfinite(f0)) break;
    fd_derivs(f, th, f0, g, H);
    Eigen::MatrixXd A = -H;
    double lambda = 0, scale = std::max(1e-8, A.diagonal().cwiseAbs().maxCoeff());
    Eigen::LLT<Eigen::MatrixXd> llt;
    for (int tr = 0; tr < 40; ++tr) {
      llt.compute(A + lambda * Eigen::MatrixXd::Identity(m, m));
      if (llt.info() == Eigen::Success) break;
      lambda = lambda == 0 ? 1e-6 * scale : lambda * 10;
    }
    Eigen::VectorXd step = llt.solve(g);
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
    if (small && lambda == 0) { converged = true; break; }
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
  glmm_newton(f, th, f0, maxit, tol, out.iterations, out.converged);
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

// Per-study curvature of a fit with study parameters alpha_i (study_int):
// for each study, the Hessian of its log-likelihood contribution in
// (beta, tau, alpha_i) at (theta, alpha) by central differences
// (rows i*(q+2) .. i*(q+2)+q+1 of the result), for the covariance of the
// alpha_i (the Wald test of the saturated model).  Studies whose alpha_i is
// infinite get zeros in the alpha_i row and column.
inline Eigen::MatrixXd study_hessians(const Data& d, int nAGQ, const Eigen::VectorXd& theta, const Eigen::VectorXd& alpha) {
  Evaluator ev(d, nAGQ);
  const int q = d.X.cols(), m = q + 2;
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(d.k) * m, m);
  for (int i = 0; i < d.k; ++i) {
    const bool deg = ev.degenerate[i] != 0;
    const double al = deg ? (ev.degenerate[i] < 0 ? -1e200 : 1e200) : alpha[i];
    auto fi = [&](const Eigen::VectorXd& t) { return ev.study_fixed(i, t.head(q), t(q), deg ? al : t(q + 1)); };
    Eigen::VectorXd t0(m);
    t0.head(q + 1) = theta;
    t0(q + 1) = deg ? 0.0 : al;
    Eigen::VectorXd g;
    Eigen::MatrixXd H;
    // the mode of study i at the fit first (warm start for the differences)
    fd_derivs(fi, t0, fi(t0), g, H);
    if (deg) { H.row(q + 1).setZero(); H.col(q + 1).setZero(); }
    out.block(static_cast<Eigen::Index>(i) * m, 0, m, m) = H;
  }
  return out;
}

// glmer's RX-based information of the fixed effects of a study_int fit at
// fixed tau: per study, with rows xt_j = (x_j, w_j) and the weights W at the
// mode of the random effect, xt'W xt - (xt'W z tau)(tau z'W xt) / (tau^2 z'W z + 1)
// (Bates et al. 2015, J Stat Softw 67(1), sec. 3.6); rows i*(q+1) .. of
// the result.  Studies whose alpha_i is infinite get zeros in the alpha_i
// row and column.
inline Eigen::MatrixXd study_rx(const Data& d, int nAGQ, const Eigen::VectorXd& theta, const Eigen::VectorXd& alpha) {
  Evaluator ev(d, nAGQ);
  const int q = d.X.cols(), m = q + 1;
  const double tau = theta(q);
  Eigen::VectorXd beta = theta.head(q);
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(d.k) * m, m);
  for (int i = 0; i < d.k; ++i) {
    const Study& s = ev.st[i];
    const bool deg = ev.degenerate[i] != 0;
    const double al = deg ? (ev.degenerate[i] < 0 ? -1e200 : 1e200) : alpha[i];
    std::vector<double> c(s.b - s.a);
    for (int j = s.a; j < s.b; ++j) c[j - s.a] = d.off[j] + d.X.row(j).dot(beta) + al * d.wj(j);
    bool ok = true;
    double u = 0;
    s.agq(c, tau, ev.gh, u, ok);
    Eigen::MatrixXd B = Eigen::MatrixXd::Zero(m, m);
    Eigen::VectorXd sv = Eigen::VectorXd::Zero(m);
    double h = 1.0;
    for (int j = s.a; j < s.b; ++j) {
      double d1, d2;
      const double zt = d.z[j] * tau;
      d.lf(j, c[j - s.a] + zt * u, d1, d2);
      const double wt = -d2;
      Eigen::VectorXd xt(m);
      xt.head(q) = d.X.row(j).transpose();
      xt(q) = d.wj(j);
      B += wt * xt * xt.transpose();
      sv += wt * zt * xt;
      h += wt * zt * zt;
    }
    B -= sv * sv.transpose() / h;
    if (deg) { B.row(q).setZero(); B.col(q).setZero(); }
    out.block(static_cast<Eigen::Index>(i) * m, 0, m, m) = B;
  }
  return out;
}

// Two random effects per study (metafor's model = "UM.RS": random study
// intercept and random group effect, glmer's (group || study) or
// (group | study)): eta_ij = off_ij + x_ij' beta + (1, z_ij) L u_i with
// u_i ~ N(0, I_2) and L = diag(s, t) (uncorrelated) or lower triangular
// (l11, l21, l22) (correlated; the covariance of the effects is L L').  Each
// study's 2-D integral by the Laplace approximation (Tierney & Kadane 1986,
// JASA 81:82-86; the approximation glmer() maximises with nAGQ = 1, Bates et
// al. 2015, J Stat Softw 67(1), sec. 3.6): log L_i = h(u^) - log det(-h''(u^))/2
// with h(u) = sum_j log f(y_ij | eta_ij(u)) - |u|^2/2 and u^ its mode (found
// by Newton steps; h is strictly concave).  theta = (beta, s, t) or
// (beta, l11, l21, l22).
struct RSEvaluator {
  const Data& d;
  bool cor;
  std::vector<Eigen::Vector2d> umode;
  int failed_modes = 0;
  RSEvaluator(const Data& dd, bool c) : d(dd), cor(c), umode(dd.k, Eigen::Vector2d::Zero()) {}
  Eigen::Matrix2d lambda(const Eigen::VectorXd& th) const {
    const int q = d.X.cols();
    Eigen::Matrix2d L = Eigen::Matrix2d::Zero();
    if (cor) { L(0, 0) = th(q); L(1, 0) = th(q + 1); L(1, 1) = th(q + 2); }
    else { L(0, 0) = th(q); L(1, 1) = th(q + 1); }
    return L;
  }
  // h(u) of study i with its gradient and negative Hessian
  double h(int i, const std::vector<double>& c, const Eigen::Matrix2d& L, const Eigen::Vector2d& u,
           Eigen::Vector2d& g, Eigen::Matrix2d& nH) const {
    double v = -0.5 * u.squaredNorm();
    g = -u;
    nH = Eigen::Matrix2d::Identity();
    for (int j = d.start[i]; j < d.start[i + 1]; ++j) {
      const Eigen::Vector2d a = L.transpose() * Eigen::Vector2d(1.0, d.z[j]);
      double d1, d2;
      v += d.lf(j, c[j - d.start[i]] + a.dot(u), d1, d2);
      g += d1 * a;
      nH -= d2 * a * a.transpose();
    }
    return v;
  }
  // log-likelihood contribution of study i (with its constants); nH_out:
  // -h'' at the mode
  double study(int i, const Eigen::VectorXd& beta, const Eigen::Matrix2d& L, Eigen::Matrix2d* nH_out = nullptr) {
    std::vector<double> c(d.start[i + 1] - d.start[i]);
    double cst = 0;
    for (int j = d.start[i]; j < d.start[i + 1]; ++j) {
      c[j - d.start[i]] = d.off[j] + d.X.row(j).dot(beta);
      cst += d.lconst[j];
    }
    Eigen::Vector2d u = umode[i], g, gn;
    Eigen::Matrix2d nH, nHn;
    double v = h(i, c, L, u, g, nH);
    bool ok = false;
    for (int it = 0; it < 200; ++it) {
      Eigen::Vector2d step = nH.ldlt().solve(g);
      Eigen::Vector2d un = u + step;
      double vn = h(i, c, L, un, gn, nHn);
      int half = 0;
      while (!(vn >= v - 1e-12 * std::fabs(v)) && half < 60) {
        step *= 0.5; un = u + step; vn = h(i, c, L, un, gn, nHn); ++half;
      }
      u = un; v = vn; g = gn; nH = nHn;
      if (step.cwiseAbs().maxCoeff() <= 1e-13 * (1.0 + u.cwiseAbs().maxCoeff())) { ok = true; break; }
    }
    if (!ok) ++failed_modes;
    umode[i] = u;
    if (nH_out) *nH_out = nH;
    return v - 0.5 * std::log(nH.determinant()) + cst;
  }
  double total(const Eigen::VectorXd& th) {
    const int q = d.X.cols();
    const Eigen::Matrix2d L = lambda(th);
    Eigen::VectorXd beta = th.head(q);
    double s = 0;
    for (int i = 0; i < d.k; ++i) s += study(i, beta, L);
    return s;
  }
  // glmer's RX-based information of beta at fixed L, at the modes:
  // sum_i X_i'W_i X_i - X_i'W_i A_i (A_i'W_i A_i + I)^-1 A_i'W_i X_i
  // with rows a_ij = L'(1, z_ij) of A_i.
  Eigen::MatrixXd rx_info(const Eigen::VectorXd& th) {
    const int q = d.X.cols();
    const Eigen::Matrix2d L = lambda(th);
    Eigen::VectorXd beta = th.head(q);
    Eigen::MatrixXd info = Eigen::MatrixXd::Zero(q, q);
    for (int i = 0; i < d.k; ++i) {
      Eigen::Matrix2d nH;
      study(i, beta, L, &nH);  // the mode u_i and -h'' = A'WA + I there
      Eigen::MatrixXd XWX = Eigen::MatrixXd::Zero(q, q), XWA = Eigen::MatrixXd::Zero(q, 2);
      for (int j = d.start[i]; j < d.start[i + 1]; ++j) {
        const Eigen::Vector2d a = L.transpose() * Eigen::Vector2d(1.0, d.z[j]);
        double d1, d2;
        const double eta = d.off[j] + d.X.row(j).dot(beta) + a.dot(umode[i]);
        d.lf(j, eta, d1, d2);
        const Eigen::VectorXd x = d.X.row(j).transpose();
        XWX -= d2 * x * x.transpose();
        XWA -= d2 * x * a.transpose();
      }
      info += XWX - XWA * nH.inverse() * XWA.transpose();
    }
    return info;
  }
};

struct RSFitResult {
  Eigen::VectorXd theta;
  Eigen::MatrixXd hessian, rx_info;
  double ll = std::numeric_limits<double>::quiet_NaN();
  int iterations = 0;
  bool converged = false;
  int failed_modes = 0;
};

inline RSFitResult fit_rs(const Data& d, bool cor, const Eigen::VectorXd& theta0, int maxit, double tol) {
  RSEvaluator ev(d, cor);
  auto f = [&](const Eigen::VectorXd& t) { return ev.total(t); };
  RSFitResult out;
  Eigen::VectorXd th = theta0, g;
  Eigen::MatrixXd H;
  double f0 = f(th);
  glmm_newton(f, th, f0, maxit, tol, out.iterations, out.converged);
  const int q = d.X.cols();
  // the likelihood is unchanged by the sign of a column of L: report s, t >= 0
  // (uncorrelated) or l11, l22 >= 0 (correlated)
  if (!cor) { th(q) = std::fabs(th(q)); th(q + 1) = std::fabs(th(q + 1)); }
  else {
    if (th(q) < 0) { th(q) = -th(q); th(q + 1) = -th(q + 1); }
    th(q + 2) = std::fabs(th(q + 2));
  }
  fd_derivs(f, th, f(th), g, H);
  out.theta = th;
  out.hessian = H;
  out.ll = f(th);
  out.rx_info = ev.rx_info(th);
  out.failed_modes = ev.failed_modes;
  return out;
}

// The log-likelihood of the UM.RS model at theta (no fitting).
inline double rs_loglik(const Data& d, bool cor, const Eigen::VectorXd& theta) {
  RSEvaluator ev(d, cor);
  return ev.total(theta);
}

// The UM.RS log-likelihood maximised over the other parameters at a fixed
// standard deviation tau >= 0 of the random group effect (the profile
// likelihood of tau^2).  Free parameters: (beta, s) without correlation
// (L = diag(s, tau)); (beta, l11, phi) with it, L = [l11, 0; tau sin(phi),
// tau cos(phi)], so that the variance of the group effect, l21^2 + l22^2,
// is tau^2 and the correlation sign(l11) sin(phi).  tau = 0 with cor: phi
// has no effect, dropped (the uncorrelated model with t = 0).
struct RSProfileResult {
  Eigen::VectorXd free;  // the maximising free parameters
  double ll = std::numeric_limits<double>::quiet_NaN();
  int iterations = 0;
  bool converged = false;
  int failed_modes = 0;
};

inline Eigen::VectorXd rs_full_theta(int q, bool cor, const Eigen::VectorXd& fr, double tau) {
  Eigen::VectorXd th(q + (cor ? 3 : 2));
  th.head(q + 1) = fr.head(q + 1);
  if (cor) { th(q + 1) = tau * std::sin(fr(q + 1)); th(q + 2) = tau * std::cos(fr(q + 1)); }
  else th(q + 1) = tau;
  return th;
}

inline RSProfileResult profile_rs(const Data& d, bool cor, const Eigen::VectorXd& free0, double tau, int maxit,
                                  double tol) {
  const int q = d.X.cols();
  const bool use_cor = cor && tau > 0;
  RSEvaluator ev(d, use_cor);
  Eigen::VectorXd fr = use_cor ? free0 : Eigen::VectorXd(free0.head(q + 1));
  auto f = [&](const Eigen::VectorXd& t) { return ev.total(rs_full_theta(q, use_cor, t, tau)); };
  RSProfileResult out;
  double f0 = f(fr);
  glmm_newton(f, fr, f0, maxit, tol, out.iterations, out.converged);
  out.ll = f(fr);
  out.free = fr;
  out.failed_modes = ev.failed_modes;
  return out;
}

// The saturated conditional (non-central hypergeometric) model: each
// observation its own log odds ratio theta_j, found by Newton steps on the
// concave log-likelihood (exact derivatives: y - E x, -Var x).  An
// observation at an end of its support has theta_j = -/+ infinity and
// contributes log 1 = 0 (theta_j = NaN, info_j = 0).  Returns the summed
// log-likelihood; info_j is Var x at theta_j (the observed information).
inline double nch_saturated(const Data& d, Eigen::VectorXd& theta, Eigen::VectorXd& info) {
  const int m = d.y.size();
  theta.resize(m); info.resize(m);
  double ll = 0;
  for (int j = 0; j < m; ++j) {
    const NCHTable& tb = d.nch[j];
    const int len = static_cast<int>(tb.lw.size());
    const double yy = d.y[j] - tb.lo;
    if (len <= 1 || yy <= 0 || yy >= len - 1) {
      theta[j] = std::numeric_limits<double>::quiet_NaN();
      info[j] = 0;
      continue;
    }
    double th = 0, d1, d2;
    double v = tb.logf(d.y[j], th, d1, d2);
    for (int it = 0; it < 200; ++it) {
      double step = -d1 / d2;
      step = std::max(-5.0, std::min(5.0, step));
      double tn = th + step, n1, n2;
      double vn = tb.logf(d.y[j], tn, n1, n2);
      int half = 0;
      while (!(vn >= v - 1e-14 * std::fabs(v)) && half < 60) { step *= 0.5; tn = th + step; vn = tb.logf(d.y[j], tn, n1, n2); ++half; }
      th = tn; v = vn; d1 = n1; d2 = n2;
      if (std::fabs(step) <= 1e-12 * (1.0 + std::fabs(th))) break;
    }
    theta[j] = th;
    info[j] = -d2;
    ll += v + d.lconst[j];
  }
  return ll;
}

// Log-likelihood at given theta (no fitting).
inline double loglik(const Data& d, int nAGQ, const Eigen::VectorXd& theta, bool with_tau) {
  Evaluator ev(d, nAGQ);
  return ev.total(theta, with_tau);
}

}  // namespace glmm
}  // namespace metafast
