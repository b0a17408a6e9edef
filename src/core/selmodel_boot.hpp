// Bootstrap of a selection model (core/selmodel.hpp): case resampling of the
// studies and the parametric bootstrap from the fitted selection model, each
// replicate refitted by maximum likelihood with a bounded quasi-Newton
// optimiser warm-started at the full-data estimate.  R-free.
//
// Parametric replicates.  Under the selection model an observed outcome has
// the density w(p(y)) phi(y; x_i'beta, v_i + tau2) / A_i (Iyengar & Greenhouse
// 1988; Hedges 1992; Vevea & Hedges 1995), with the weight function of
// core/selmodel.hpp (the weights of the normalising integral A_i).  Replicate
// outcome i is drawn from it with the observed v_i by rejection sampling
// (von Neumann 1951; Devroye 1986, sec. II.3): y ~ N(x_i'beta, v_i + tau2),
// accepted with probability w(p(y)) / w_max, w_max the largest weight.
//
// Case replicates draw k studies with replacement (Efron & Tibshirani 1993,
// ch. 6); the precision measure (prec) is rescaled by its maximum within the
// replicate, as a selection model fitted to the resampled data would do.
//
// The refit.  The free parameters theta are the coefficients (on the
// standardised moderators of R/selmodel.R), tau2 in [0, tau2_max] (unless
// fixed) and the free selection parameters in [delta_min, delta_max].  The
// negative log-likelihood is minimised by projected BFGS (Bertsekas 1982, SIAM
// J Control Optim 20:221; Nocedal & Wright 2006, ch. 6 and 18.3 for Powell's
// damped update): parameters at a bound whose gradient points outwards are
// held, the quasi-Newton step on the others is projected onto the box, with a
// backtracking (Armijo) line search along the projected path.  The gradient is
// by central differences (one-sided second-order formulas next to a bound).
// The starting matrix is the (regularised) Hessian of the full-data fit, the
// start the full-data estimate, so a replicate typically converges in a few
// iterations.  Convergence: the Newton decrement g' B^-1 g on the free
// parameters below `dec_tol`.  A replicate that does not converge is
// reported (code > 0) and its statistics are NaN.
//
// Non-increasing step weights (stepfun with decreasing = TRUE, stepcon):
// 1 = delta_1 >= delta_2 >= ... >= delta_N >= 0 is the box [0, 1]^(N-1) in
// the ratios r_j = delta_j / delta_(j-1) (delta_j = r_2 ... r_j), so the same
// projected BFGS maximises over the closed cone, ties (r_j = 1) and zero
// weights included.
//
// Estimated truncation (truncest): the likelihood jumps where the cut passes
// an outcome and is smooth in between, so its supremum is the largest of the
// maxima of the smooth pieces over their closures: for each interval between
// adjacent distinct outcomes (within metafor's data-dependent range of the
// cut: [min y - sd y, max y] for "greater", [min y, max y + sd y] for "less")
// the outcomes are assigned the side they have for a cut inside the interval
// and the likelihood is maximised with the cut bounded to the interval; the
// best piece is the replicate's estimate (a cut at an end of its interval is
// a supremum approached from inside, not attained).
//
// Clusters (case bootstrap): as many clusters as there are drawn with
// replacement, each bringing all its studies (Field & Welsh 2007); the
// replicate's k varies.  A replicate with fewer studies than parameters is
// not refitted (code 5), as selmodel() refuses such data.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/eigen.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"
#include "core/selmodel.hpp"

namespace metafast {
namespace selmodel {

// Codes of a replicate (BootOut::code)
enum BootCode : int {
  kSbOk = 0,
  kSbMaxIter = 1,      // no convergence within maxit
  kSbNotFinite = 2,    // log-likelihood not finite at the start (and the fallback start)
  kSbLineSearch = 3,   // line search failed away from a stationary point
  kSbSampler = 4,      // parametric: rejection sampler exceeded its attempts
  kSbTooFew = 5        // fewer studies than parameters (cluster bootstrap)
};

struct BootSpec {
  // the full data: Model m points at yi, vi, X (standardised), and m.preci at
  // the rescaled precisions of the full data; prec_raw the precisions before
  // rescaling (all 1 without prec).  m.pvals and m.pgrp are not used (each
  // replicate, and the full data for the starting matrix, gets its own).
  Model m;
  const double* prec_raw = nullptr;
  // the full-data estimate (beta on the standardised moderators) and which
  // parameters are free
  std::vector<double> beta, delta;
  double tau2 = 0.0;
  bool tau2_free = true;
  double tau2_max = std::numeric_limits<double>::infinity();
  std::vector<char> delta_free;
  std::vector<double> delta_min, delta_max;
  // beta = mX * beta_scaled (p x p, column-major)
  std::vector<double> mX;
  // typical magnitudes of the parameters (difference steps)
  std::vector<double> typ;
  // non-increasing step weights: the free parameters are the ratios
  // delta_j / delta_(j-1), j >= 2, in [0, 1] (delta_1 = 1 fixed)
  bool cone = false;
  // cluster bootstrap: the studies of cluster g are cl_members[cl_offsets[g]
  // .. cl_offsets[g + 1]) (0-based); empty: studies are the units
  std::vector<int> cl_members, cl_offsets;
  int maxit = 200;
  double dec_tol = 1e-14;
  double hrel = 1e-5;
  std::int64_t max_attempts = 1000000;  // rejection sampler, per study
};

// ---- parameters -------------------------------------------------------------
struct ParamMap {
  int p = 0, nd = 0, n = 0;
  bool tau2_free = true;
  std::vector<int> dfree;  // indices of the free deltas
  std::vector<double> lo, hi;
  const BootSpec* s = nullptr;

  explicit ParamMap(const BootSpec& spec) : s(&spec) {
    p = spec.m.p;
    nd = static_cast<int>(spec.delta.size());
    tau2_free = spec.tau2_free;
    for (int j = 0; j < nd; ++j)
      if (spec.cone ? j > 0 : spec.delta_free[j] != 0) dfree.push_back(j);
    n = p + (tau2_free ? 1 : 0) + static_cast<int>(dfree.size());
    lo.assign(n, -std::numeric_limits<double>::infinity());
    hi.assign(n, std::numeric_limits<double>::infinity());
    int c = p;
    if (tau2_free) {
      lo[c] = 0.0;
      hi[c] = spec.tau2_max;
      ++c;
    }
    for (int j : dfree) {
      lo[c] = spec.cone ? 0.0 : spec.delta_min[j];
      hi[c] = spec.cone ? 1.0 : spec.delta_max[j];
      ++c;
    }
  }
  // position in theta of delta index j (-1 when fixed)
  int theta_index(int j) const {
    int c = p + (tau2_free ? 1 : 0);
    for (int q : dfree) {
      if (q == j) return c;
      ++c;
    }
    return -1;
  }
  // the full-data estimate as theta
  std::vector<double> start() const {
    std::vector<double> t(s->beta.begin(), s->beta.end());
    if (tau2_free) t.push_back(s->tau2);
    for (int j : dfree) {
      if (s->cone) {
        const double prev = s->delta[j - 1];
        t.push_back(prev > 0.0 ? std::min(std::max(s->delta[j] / prev, 0.0), 1.0) : 1.0);
      } else {
        t.push_back(s->delta[j]);
      }
    }
    return t;
  }
  // theta -> (beta, tau2, delta) into par (p + 1 + nd)
  void expand(const double* th, double* par) const {
    for (int j = 0; j < p; ++j) par[j] = th[j];
    int c = p;
    par[p] = tau2_free ? th[c++] : s->tau2;
    for (int j = 0; j < nd; ++j) par[p + 1 + j] = s->delta[j];
    if (s->cone) {
      for (int j : dfree) par[p + 1 + j] = par[p + j] * th[c++];
    } else {
      for (int j : dfree) par[p + 1 + j] = th[c++];
    }
  }
};

// ---- the replicate's data -------------------------------------------------------
struct BootData {
  std::vector<double> yi, vi, X, preci, pvals;
  std::vector<int> pgrp, idx;
  std::vector<signed char> side;  // truncest: the sides of the outcomes
  Model m;
  int empty = 0;  // step functions: intervals without an observed p-value
};

// p-values, their intervals and the model view of d (yi, vi, X, preci set)
inline void finish_data(const BootSpec& s, BootData& d) {
  const Model& b = s.m;
  const int k = static_cast<int>(d.yi.size());
  d.pvals.resize(k);
  for (int i = 0; i < k; ++i) {
    const double pv = pvalue(d.yi[i], std::sqrt(d.vi[i]), b.alt);
    d.pvals[i] = std::min(std::max(pv, b.pval_min), 1.0 - b.pval_min);
  }
  d.empty = 0;
  if (b.type == Type::StepFun) {
    const int N = static_cast<int>(b.steps.size());
    d.pgrp.resize(k);
    std::vector<int> count(N, 0);
    for (int i = 0; i < k; ++i) {
      int g = N - 1;
      for (int j = 0; j < N; ++j)
        if (d.pvals[i] <= b.steps[j]) { g = j; break; }
      d.pgrp[i] = g;
      ++count[g];
    }
    for (int j = 0; j < N; ++j) d.empty += count[j] == 0;
  }
  d.m = b;  // type, steps, zcut, kinks, quadrature
  d.m.k = k;
  d.m.yi = d.yi.data();
  d.m.vi = d.vi.data();
  d.m.X = d.X.data();
  d.m.preci = d.preci.data();
  d.m.pvals = d.pvals.data();
  d.m.pgrp = b.type == Type::StepFun ? d.pgrp.data() : nullptr;
  d.m.side = nullptr;
  if (b.type == Type::TruncEst) {
    // the sides at the fit's cut (a fixed cut, and the starting matrix)
    const double cut = s.delta[1];
    d.side.resize(k);
    for (int i = 0; i < k; ++i) d.side[i] = (b.alt == Alternative::Less ? d.yi[i] < cut : d.yi[i] > cut) ? 1 : 0;
    d.m.side = d.side.data();
  }
}

// Case replicate: the studies idx (0-based, repeats allowed).
inline void case_data(const BootSpec& s, const std::vector<int>& idx, BootData& d) {
  const Model& b = s.m;
  const int k = static_cast<int>(idx.size()), p = b.p;
  d.idx = idx;
  d.yi.resize(k);
  d.vi.resize(k);
  d.preci.resize(k);
  d.X.resize(static_cast<std::size_t>(k) * p);
  double pmax = 0.0;
  for (int i = 0; i < k; ++i) {
    const int r = idx[i];
    d.yi[i] = b.yi[r];
    d.vi[i] = b.vi[r];
    d.preci[i] = s.prec_raw[r];
    pmax = std::max(pmax, d.preci[i]);
    for (int j = 0; j < p; ++j) d.X[i + static_cast<std::size_t>(j) * k] = b.X[r + static_cast<std::size_t>(j) * b.k];
  }
  for (int i = 0; i < k; ++i) d.preci[i] /= pmax;
  finish_data(s, d);
}

// The weight of outcome y (p-value pv, clamped) of study i in the normalising
// integral, and the largest weight w_max of study i.
inline double sample_weight(const Model& m, const double* delta, double y, double pv, double prec) {
  switch (m.type) {
    case Type::StepFun: {
      const int N = static_cast<int>(m.steps.size());
      int g = N - 1;
      for (int j = 0; j < N; ++j)
        if (pv <= m.steps[j]) { g = j; break; }
      return g == 0 ? 1.0 : delta[g] / prec;
    }
    case Type::Trunc: case Type::TruncEst: {
      const double cut = m.type == Type::Trunc ? m.steps[0] : delta[1];
      const bool expected = m.alt == Alternative::Less ? y < cut : y > cut;
      return expected ? 1.0 : delta[0];
    }
    default: {
      const double s1 = m.steps.empty() ? 0.0 : m.steps[0];
      const double s2 = m.steps.size() > 1 ? m.steps[1] : 1.0;
      return weight(m.type, pv, delta, prec, s1, s2);
    }
  }
}

inline double sample_weight_max(const Model& m, const double* delta, double prec) {
  switch (m.type) {
    case Type::StepFun: {
      double w = 1.0;
      for (std::size_t j = 1; j < m.steps.size(); ++j) w = std::max(w, delta[j] / prec);
      return w;
    }
    case Type::Trunc: case Type::TruncEst: return std::max(1.0, delta[0]);
    case Type::Beta: {
      // x^(a-1) (1-x)^(b-1) on [lo, hi]: the largest of the ends and the mode
      const double s1 = m.steps.empty() ? 0.0 : m.steps[0];
      const double s2 = m.steps.size() > 1 ? m.steps[1] : 1.0;
      const double lo = std::max(s1, m.pval_min), hi = std::min(s2, 1.0 - m.pval_min);
      auto w = [&](double p) { return weight(m.type, p, delta, prec, s1, s2); };
      double best = std::max(w(lo), w(hi));
      const double a = delta[0], bb = delta[1];
      if (a + bb - 2.0 != 0.0) {
        const double mode = (a - 1.0) / (a + bb - 2.0);
        if (mode > lo && mode < hi) best = std::max(best, w(mode));
      }
      return best;
    }
    default:
      // the other continuous functions are 1 up to steps[0] and at most 1 beyond
      // (non-negative delta)
      return 1.0;
  }
}

// Parametric replicate: outcome i from the fitted selection model with v_i.
// par: (beta, tau2, delta) of the fit.  Returns false when the sampler exceeded
// its attempts.
inline bool parametric_data(const BootSpec& s, const double* par, Stream& rng, BootData& d) {
  const Model& b = s.m;
  const int k = b.k, p = b.p;
  d.yi.resize(k);
  d.vi.assign(b.vi, b.vi + k);
  d.preci.assign(b.preci, b.preci + k);
  d.X.assign(b.X, b.X + static_cast<std::size_t>(k) * p);
  d.idx.clear();
  const double tau2 = par[p];
  const double* delta = par + p + 1;
  bool ok = true;
  for (int i = 0; i < k; ++i) {
    double mu = 0.0;
    for (int j = 0; j < p; ++j) mu += b.X[i + static_cast<std::size_t>(j) * k] * par[j];
    const double sig = std::sqrt(b.vi[i] + tau2), sdv = std::sqrt(b.vi[i]);
    const double wmax = sample_weight_max(b, delta, b.preci[i]);
    double y = mu;
    bool accepted = false;
    for (std::int64_t a = 0; a < s.max_attempts; ++a) {
      y = mu + sig * rng.normal();
      double pv = pvalue(y, sdv, b.alt);
      pv = std::min(std::max(pv, b.pval_min), 1.0 - b.pval_min);
      const double w = sample_weight(b, delta, y, pv, b.preci[i]);
      if (rng.uniform() * wmax <= w) { accepted = true; break; }
    }
    if (!accepted) ok = false;
    d.yi[i] = y;
  }
  finish_data(s, d);
  return ok;
}

// ---- the optimiser ------------------------------------------------------------
struct RefitResult {
  std::vector<double> theta;
  double ll = -std::numeric_limits<double>::infinity();
  int code = kSbOk;
  int iterations = 0;
};

class Refitter {
 public:
  Refitter(const BootSpec& s, const ParamMap& pm) : s_(s), pm_(pm), par_(pm.p + 1 + pm.nd) {}

  // negative log-likelihood at theta (Inf when not finite)
  double f(const Model& m, const std::vector<double>& th) {
    pm_.expand(th.data(), par_.data());
    const LogLik r = loglik(m, par_.data(), par_[pm_.p], par_.data() + pm_.p + 1);
    const double v = -r.ll;
    return std::isfinite(v) ? v : std::numeric_limits<double>::infinity();
  }

  double step(int j, const std::vector<double>& th, double scale = 1.0) const {
    return scale * s_.hrel * std::max(std::fabs(th[j]), s_.typ[j]);
  }

  // gradient by central differences, one-sided (second order) next to a bound
  bool gradient(const Model& m, std::vector<double> th, double f0, Vec& g, double scale = 1.0) {
    const int n = pm_.n;
    g.resize(n);
    for (int j = 0; j < n; ++j) {
      const double x = th[j], h = step(j, th, scale);
      double gj;
      if (x - h >= pm_.lo[j] && x + h <= pm_.hi[j]) {
        th[j] = x + h;
        const double fp = f(m, th);
        th[j] = x - h;
        const double fm = f(m, th);
        gj = (fp - fm) / (2.0 * h);
      } else if (x + 2.0 * h <= pm_.hi[j]) {
        th[j] = x + h;
        const double f1 = f(m, th);
        th[j] = x + 2.0 * h;
        const double f2 = f(m, th);
        gj = (-3.0 * f0 + 4.0 * f1 - f2) / (2.0 * h);
      } else {
        th[j] = x - h;
        const double f1 = f(m, th);
        th[j] = x - 2.0 * h;
        const double f2 = f(m, th);
        gj = (3.0 * f0 - 4.0 * f1 + f2) / (2.0 * h);
      }
      th[j] = x;
      if (!std::isfinite(gj)) return false;
      g(j) = gj;
    }
    return true;
  }

  // Hessian of f at th by differences of the gradient, symmetrised and made
  // positive definite (eigenvalues reflected and floored)
  Mat hessian(const Model& m, const std::vector<double>& th) {
    const int n = pm_.n;
    Mat H = Mat::Identity(n, n);
    Vec gp, gm;
    for (int j = 0; j < n; ++j) {
      const double x = th[j], h = step(j, th, 20.0);
      std::vector<double> a = th, b = th;
      double width = 2.0 * h;
      if (x - h < pm_.lo[j]) { b[j] = x; width = h; a[j] = x + h; }
      else if (x + h > pm_.hi[j]) { a[j] = x; width = h; b[j] = x - h; }
      else { a[j] = x + h; b[j] = x - h; }
      const double fa = f(m, a), fb = f(m, b);
      if (!std::isfinite(fa) || !std::isfinite(fb) || !gradient(m, a, fa, gp) || !gradient(m, b, fb, gm)) {
        H.col(j).setZero();
        H(j, j) = std::numeric_limits<double>::quiet_NaN();
        continue;
      }
      H.col(j) = (gp - gm) / width;
    }
    return positive_definite(H);
  }

  static Mat positive_definite(Mat H) {
    const int n = static_cast<int>(H.rows());
    for (int j = 0; j < n; ++j)
      if (!std::isfinite(H(j, j))) { H.row(j).setZero(); H.col(j).setZero(); H(j, j) = 1.0; }
    H = 0.5 * (H + H.transpose()).eval();
    if (!H.allFinite()) return Mat::Identity(n, n);
    Eigen::SelfAdjointEigenSolver<Mat> es(H);
    Vec ev = es.eigenvalues().cwiseAbs();
    const double top = std::max(ev.maxCoeff(), 1e-8);
    for (int j = 0; j < n; ++j) ev(j) = std::max(ev(j), 1e-8 * top);
    return es.eigenvectors() * ev.asDiagonal() * es.eigenvectors().transpose();
  }

  // Projected BFGS from th0 with the starting matrix B0.
  RefitResult run(const Model& m, std::vector<double> th, const Mat& B0) {
    RefitResult r;
    const int n = pm_.n;
    for (int j = 0; j < n; ++j) th[j] = std::min(std::max(th[j], pm_.lo[j]), pm_.hi[j]);
    double fx = f(m, th);
    if (!std::isfinite(fx)) {
      // the warm start is impossible for these data (e.g. a weight at 0 of an
      // interval that now holds a p-value): selection parameters at a bound
      // are moved inside
      int c = pm_.p + (pm_.tau2_free ? 1 : 0);
      for (std::size_t q = 0; q < pm_.dfree.size(); ++q, ++c) {
        const double lo = pm_.lo[c], hi = pm_.hi[c];
        const double room = std::min(0.5, 0.25 * (hi - lo));
        th[c] = std::min(std::max(th[c], lo + room), hi - room);
      }
      if (pm_.tau2_free && th[pm_.p] >= pm_.hi[pm_.p]) th[pm_.p] = 0.5 * pm_.hi[pm_.p];
      fx = f(m, th);
      if (!std::isfinite(fx)) {
        r.code = kSbNotFinite;
        r.theta = th;
        return r;
      }
    }
    Mat B = B0;
    Vec g, gnew;
    if (!gradient(m, th, fx, g)) {
      r.code = kSbNotFinite;
      r.theta = th;
      return r;
    }
    bool reset = false;
    std::vector<double> xn(n);
    int iter = 0;
    for (;;) {
      if (++iter > s_.maxit) { r.code = kSbMaxIter; break; }
      // held parameters: at a bound with the descent direction pointing out
      std::vector<int> fr;
      for (int j = 0; j < n; ++j) {
        const bool held = (th[j] <= pm_.lo[j] && g(j) > 0) || (th[j] >= pm_.hi[j] && g(j) < 0);
        if (!held) fr.push_back(j);
      }
      const int nf = static_cast<int>(fr.size());
      if (nf == 0) break;  // a vertex of the box
      Mat Bf(nf, nf);
      Vec gf(nf);
      for (int a = 0; a < nf; ++a) {
        gf(a) = g(fr[a]);
        for (int b = 0; b < nf; ++b) Bf(a, b) = B(fr[a], fr[b]);
      }
      Eigen::LLT<Mat> llt(Bf);
      if (llt.info() != Eigen::Success) {
        B = positive_definite(B);
        continue;
      }
      const Vec df = -llt.solve(gf);
      const double dec = -gf.dot(df);
      if (dec < s_.dec_tol) break;
      // line search along the projected path
      double alpha = 1.0, fn = fx;
      bool accepted = false;
      for (int h = 0; h < 60; ++h, alpha *= 0.5) {
        for (int j = 0; j < n; ++j) xn[j] = th[j];
        double slope = 0.0;
        for (int a = 0; a < nf; ++a) {
          const int j = fr[a];
          xn[j] = std::min(std::max(th[j] + alpha * df(a), pm_.lo[j]), pm_.hi[j]);
          slope += g(j) * (xn[j] - th[j]);
        }
        fn = f(m, xn);
        if (std::isfinite(fn) && fn <= fx + 1e-4 * slope) { accepted = true; break; }
      }
      if (!accepted) {
        if (dec < 1e-8) break;  // at the optimum up to rounding
        if (!reset) {            // a stale quasi-Newton matrix: start afresh
          B = B0;
          reset = true;
          continue;
        }
        r.code = kSbLineSearch;
        break;
      }
      if (!gradient(m, xn, fn, gnew)) { r.code = kSbNotFinite; break; }
      // Powell-damped BFGS update of B
      Vec sv(n), yv = gnew - g;
      for (int j = 0; j < n; ++j) sv(j) = xn[j] - th[j];
      const Vec Bs = B * sv;
      const double sBs = sv.dot(Bs), sy = sv.dot(yv);
      if (sBs > 0) {
        double theta = 1.0;
        if (sy < 0.2 * sBs) theta = 0.8 * sBs / (sBs - sy);
        const Vec rv = theta * yv + (1.0 - theta) * Bs;
        const double sr = sv.dot(rv);
        if (sr > 0) B += rv * rv.transpose() / sr - Bs * Bs.transpose() / sBs;
      }
      const double change = std::fabs(fx - fn);
      th = xn;
      fx = fn;
      g = gnew;
      reset = false;
      // no progress left to make in the function value
      if (change <= 1e-15 * std::max(1.0, std::fabs(fx)) && dec < 1e-10) break;
    }
    r.theta = th;
    r.ll = -fx;
    r.iterations = iter;
    return r;
  }

 private:
  const BootSpec& s_;
  const ParamMap& pm_;
  std::vector<double> par_;
};

// ---- the run -------------------------------------------------------------------
// Output of replicates [start, end): stat (column-major, n rows, n_stats
// columns: p coefficients on the original moderators, tau2 if free, the free
// deltas), ll, code, iterations and empty intervals per replicate.
struct BootOut {
  double* stat = nullptr;
  double* ll = nullptr;
  int* code = nullptr;
  int* iterations = nullptr;
  int* empty = nullptr;
  std::size_t n = 0;
};

inline int n_selboot_stats(const ParamMap& pm) { return pm.n; }

// The starting matrix of every refit: the Hessian at the full-data estimate
// (the data rebuilt from the spec: p-values and intervals as in a replicate).
inline Mat selboot_start_matrix(const BootSpec& s, const ParamMap& pm) {
  std::vector<int> all(s.m.k);
  for (int i = 0; i < s.m.k; ++i) all[i] = i;
  BootData full;
  case_data(s, all, full);
  Refitter rf(s, pm);
  return rf.hessian(full.m, pm.start());
}

inline void selboot_write(const BootSpec& s, const ParamMap& pm, const RefitResult& rr, int empty,
                          std::size_t i, const BootOut& o) {
  const int n = pm.n, p = pm.p;
  const bool ok = rr.code == kSbOk;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // (beta, tau2, delta) of the refit: the statistics are the coefficients on
  // the original moderators, tau2 if free and the free deltas (not the cone's
  // ratios)
  std::vector<double> par(p + 1 + pm.nd, nan);
  if (ok) pm.expand(rr.theta.data(), par.data());
  std::vector<double> stat;
  stat.reserve(n);
  for (int j = 0; j < p; ++j) {
    double v = 0.0;
    for (int c = 0; c < p; ++c) v += s.mX[j + static_cast<std::size_t>(c) * p] * par[c];
    stat.push_back(v);
  }
  if (pm.tau2_free) stat.push_back(par[p]);
  for (int j : pm.dfree) stat.push_back(par[p + 1 + j]);
  for (int j = 0; j < n; ++j) o.stat[i + static_cast<std::size_t>(j) * o.n] = ok ? stat[j] : nan;
  if (o.ll) o.ll[i] = ok ? rr.ll : nan;
  if (o.code) o.code[i] = rr.code;
  if (o.iterations) o.iterations[i] = rr.iterations;
  if (o.empty) o.empty[i] = empty;
}

// One replicate's data: case (type 0) or parametric (type 1); false when the
// parametric sampler gave up.
inline bool selboot_replicate_data(const BootSpec& s, int type, const double* par, std::uint64_t seed,
                                   std::size_t r, BootData& d) {
  Stream rng(seed, r);
  if (type == 0) {
    std::vector<int> idx;
    if (!s.cl_offsets.empty()) {
      const int G = static_cast<int>(s.cl_offsets.size()) - 1;
      for (int g = 0; g < G; ++g) {
        const int c = static_cast<int>(rng.below(static_cast<std::uint64_t>(G)));
        for (int t = s.cl_offsets[c]; t < s.cl_offsets[c + 1]; ++t) idx.push_back(s.cl_members[t]);
      }
    } else {
      const int k = s.m.k;
      idx.resize(k);
      for (int j = 0; j < k; ++j) idx[j] = static_cast<int>(rng.below(static_cast<std::uint64_t>(k)));
    }
    case_data(s, idx, d);
    return true;
  }
  return parametric_data(s, par, rng, d);
}

// The refit of truncest with the cut free: the best of the maxima over the
// closed pieces between adjacent distinct outcomes (see the top).  d.side is
// overwritten per piece.
inline RefitResult refit_truncest(const BootSpec& s, const ParamMap& pm, BootData& d, const std::vector<double>& th0,
                                  const Mat& B0) {
  const int c = pm.theta_index(1);
  if (c < 0) {
    Refitter rf(s, pm);
    return rf.run(d.m, th0, B0);
  }
  const int k = d.m.k;
  const bool less = d.m.alt == Alternative::Less;
  std::vector<double> u(d.yi);
  std::sort(u.begin(), u.end());
  u.erase(std::unique(u.begin(), u.end()), u.end());
  double mean = 0.0;
  for (double y : d.yi) mean += y;
  mean /= k;
  double ss = 0.0;
  for (double y : d.yi) ss += (y - mean) * (y - mean);
  const double sdy = k > 1 ? std::sqrt(ss / (k - 1)) : 0.0;
  const double lo2 = less ? u.front() : u.front() - sdy, hi2 = less ? u.back() + sdy : u.back();
  const double inf = std::numeric_limits<double>::infinity();
  const int m = static_cast<int>(u.size());
  RefitResult best;
  best.code = kSbMaxIter;
  bool have = false;
  int iterations = 0;
  d.side.resize(k);
  d.m.side = d.side.data();
  for (int j = 0; j <= m; ++j) {
    // the piece (u[j-1], u[j]) within the range of the cut
    const double a = std::max(j == 0 ? -inf : u[j - 1], lo2), b = std::min(j == m ? inf : u[j], hi2);
    if (!(a <= b)) continue;
    for (int i = 0; i < k; ++i) {
      // the side of outcome i for a cut inside the piece
      const bool expected = less ? (j > 0 && d.yi[i] <= u[j - 1]) : (j < m && d.yi[i] >= u[j]);
      d.side[i] = expected ? 1 : 0;
    }
    ParamMap pj = pm;
    pj.lo[c] = a;
    pj.hi[c] = b;
    std::vector<double> th = th0;
    th[c] = std::min(std::max(th0[c], a), b);
    Refitter rf(s, pj);
    RefitResult r = rf.run(d.m, th, B0);
    iterations += r.iterations;
    if (r.code == kSbOk) {
      if (!have || r.ll > best.ll) {
        best = r;
        have = true;
      }
    } else if (!have) {
      best = r;
    }
  }
  best.iterations = iterations;
  return best;
}

// Replicates [start, end) of a run (type 0 case, 1 parametric), or, with
// index sets (sets non-empty: sets[i] the studies of replicate i), those.
template <class Poll>
bool selboot_run(const BootSpec& s, int type, std::uint64_t seed, std::size_t start, std::size_t end,
                 const std::vector<std::vector<int>>* sets, int nthreads, const BootOut& o, Poll&& poll) {
  const ParamMap pm(s);
  const Mat B0 = selboot_start_matrix(s, pm);
  const std::vector<double> th0 = pm.start();
  std::vector<double> par(pm.p + 1 + pm.nd);
  pm.expand(th0.data(), par.data());
  // the fitted parameters on the original moderators' scale for simulation:
  // X is standardised, so the linear predictor uses the scaled beta as is
  const std::size_t n = end - start;
  auto body = [&](std::size_t i) {
    thread_local BootData d;
    RefitResult rr;
    bool ok = true;
    if (sets) {
      case_data(s, (*sets)[start + i], d);
    } else {
      ok = selboot_replicate_data(s, type, par.data(), seed, start + i, d);
    }
    if (!ok) {
      rr.code = kSbSampler;
    } else if (d.m.k < pm.n) {
      rr.code = kSbTooFew;
    } else if (s.m.type == Type::TruncEst) {
      rr = refit_truncest(s, pm, d, th0, B0);
    } else {
      Refitter rf(s, pm);
      rr = rf.run(d.m, th0, B0);
    }
    selboot_write(s, pm, rr, d.empty, i, o);
  };
  return parallel_for(0, n, nthreads, 4, body, poll);
}

}  // namespace selmodel
}  // namespace metafast
