// Q-profile confidence interval for tau2 (Viechtbauer 2007, Stat Med 26:37):
// the bounds are the tau2 values at which the generalised Q statistic
// y'P(tau2)y equals the chi-square(k - p) quantiles.  Q is decreasing in tau2,
// so each bound is a bracketed root (Brent, roots.hpp) on [tau2_min, tau2_max].
//
// Conventions (metafor's confint.rma.uni): a bound outside the search
// interval is reported as the interval's end with a sign ('<' or '>'); when
// both bounds fall below tau2_min = 0 the interval is the null set.
//
// The outcomes are used as given, except for models with an intercept, whose
// Q is invariant to centring and is evaluated on the mean-centred outcomes
// (as the estimators are, tau2.hpp).  Outcomes of extreme magnitude are
// handled by the exact power-of-two rescaling of the fit (fit.hpp: scale_of):
// the profile is solved for y / s, v / s^2 and the bounds are mapped back.
#pragma once

#include <cmath>
#include <limits>
#include <memory>

#include "core/fit.hpp"
#include "core/roots.hpp"

namespace metafast {

struct QProfileControl {
  double tol = 1e-12;   // absolute root tolerance on the solving scale (as uniroot's tol)
  int maxiter = 1000;   // iteration cap of each root search
  double tau2_min = 0;  // lower end of the search interval
  // upper end; NaN: metafor's default max(100, 10 tau2_hat), taken on the
  // solving scale
  double tau2_max = std::numeric_limits<double>::quiet_NaN();
};

// One bound of the interval, for tau2 and its transforms.
struct QProfileBound {
  double tau2 = std::numeric_limits<double>::quiet_NaN();
  double tau = std::numeric_limits<double>::quiet_NaN();
  double I2 = std::numeric_limits<double>::quiet_NaN();
  double H2 = std::numeric_limits<double>::quiet_NaN();
  int sign = 0;             // -1: '<' (below tau2_min), +1: '>' (above tau2_max), 0: solved or at tau2_min = 0
  bool converged = true;    // false: the root search failed (the values are NaN)
};

struct QProfileResult {
  QProfileBound lower, upper;
  bool ci_null = false;     // both bounds below tau2_min = 0: the null set
  double tau2_min = 0, tau2_max = 0;  // the search interval used (original scale)
};

// The two bounds of a profile interval for tau2 on [tmin, tmax], for a
// statistic stat(tau2) that decreases in tau2: the lower bound solves
// stat = crit_upper, the upper one stat = crit_lower (Brent).  metafor's
// conventions (confint.rma.uni): a bound outside the interval is its end with
// a sign, both bounds below tmin <= 0 are the null set.  lb and ub are on the
// scale of tmin and tmax; out receives the signs and the converged flags.
template <class Stat>
inline void profile_bounds(Stat&& stat, double tmin, double tmax, double crit_upper, double crit_lower, double tol,
                           int maxiter, QProfileResult& out, double& lb, double& ub) {
  const double qmin = stat(tmin), qmax = stat(tmax);
  // a root on [tmin, tmax] of stat - crit, which changes sign there
  auto solve = [&](double crit, QProfileBound& b) -> double {
    auto f = [&](double t) { return stat(t) - crit; };
    RootResult rr = brent_root(f, tmin, tmax, qmin - crit, qmax - crit, tol, maxiter);
    b.converged = rr.converged;
    return rr.converged ? rr.root : std::numeric_limits<double>::quiet_NaN();
  };
  lb = ub = 0;
  if (qmin < crit_lower) {  // even the smallest tau2 gives too small a Q
    lb = ub = tmin;
    out.lower.sign = out.upper.sign = -1;
    out.ci_null = tmin <= 0;
  } else if (qmax > crit_lower) {
    ub = tmax;
    out.upper.sign = 1;
  } else {
    ub = solve(crit_lower, out.upper);
  }
  if (qmax > crit_upper) {  // even the largest tau2 gives too large a Q
    lb = ub = tmax;
    out.lower.sign = out.upper.sign = 1;
  } else if (qmin < crit_upper) {
    lb = tmin;
    if (tmin > 0) out.lower.sign = -1;
  } else {
    lb = solve(crit_upper, out.lower);
  }
}

// crit_upper = qchisq(1 - alpha/2, k - p) gives the lower bound,
// crit_lower = qchisq(alpha/2, k - p) the upper one.  tau2_hat: the estimate
// (for the default tau2_max); vt: the typical sampling variance (k - p) / tr(P0)
// for the I^2 and H^2 transforms (Higgins & Thompson 2002).  centre: the
// model has an intercept (Q is evaluated on the mean-centred outcomes).
inline QProfileResult qprofile_tau2(const MatRef& X, const VecRef& y, const VecRef& v, bool centre,
                                    double tau2_hat, double vt, double crit_upper, double crit_lower,
                                    const QProfileControl& qc) {
  const double s = scale_of(v), s2 = s * s;
  Vec ys = y / s;
  if (centre) ys.array() -= ys.mean();
  const Vec vs = v / s2;
  const double vts = vt / s2;
  const double tmin = qc.tau2_min / s2;
  const double tmax = std::isnan(qc.tau2_max) ? std::max(100.0, 10.0 * tau2_hat / s2) : qc.tau2_max / s2;
  std::unique_ptr<DesignTransform> dt;  // (Q depends on X only through its column space)
  if (design_ill_conditioned(X)) dt.reset(new DesignTransform(X));
  const MatRef Xq = dt ? MatRef(dt->Xt) : X;
  auto Q = [&](double t) { return q_gen(Xq, ys, vs, t); };  // Q on the solving scale
  QProfileResult out;
  out.tau2_min = tmin * s2;
  out.tau2_max = tmax * s2;
  if (!(tmin + vs.minCoeff() > 0)) {
    // a negative tau2_min at or below -min(v): some weight 1/(v + tau2) is not
    // positive, Q is undefined there and neither bound can be searched for
    // (metafor: NA for both, with a warning for each)
    out.lower.converged = out.upper.converged = false;
    return out;  // (the bounds keep their NaN)
  }
  double lb = 0, ub = 0;
  profile_bounds(Q, tmin, tmax, crit_upper, crit_lower, qc.tol, qc.maxiter, out, lb, ub);
  auto fill = [&](double t, QProfileBound& b) {
    b.tau2 = t * s2;
    b.tau = t >= 0 ? std::sqrt(t) * s : std::numeric_limits<double>::quiet_NaN();
    b.I2 = 100.0 * t / (vts + t);
    b.H2 = t / vts + 1.0;
  };
  fill(lb, out.lower);
  fill(ub, out.upper);
  return out;
}

// The generalised Q-profile interval of tau2 (Jackson 2013; metafor's
// confint(type = "GENQ")): with the user's weights a, the bounds are the tau2
// at which P(Q_a > q_obs; tau2) equals alpha/2 (lower) and 1 - alpha/2
// (upper); Q_a's distribution as for GENQM (tau2.hpp, GenqDistribution).
// Default tau2_max as the Q-profile's; no rescaling (the eigenvalues and the
// series are scale-free).
inline QProfileResult genq_profile_tau2(const MatRef& X, const VecRef& y, const VecRef& v, const VecRef& a,
                                        bool centre, double tau2_hat, double vt, double alpha,
                                        const QProfileControl& qc) {
  Vec ys = y;
  if (centre) ys.array() -= ys.mean();
  const double tmin = qc.tau2_min;
  const double tmax = std::isnan(qc.tau2_max) ? std::max(100.0, 10.0 * tau2_hat) : qc.tau2_max;
  QProfileResult out;
  out.tau2_min = tmin;
  out.tau2_max = tmax;
  if (!(tmin + v.minCoeff() > 0)) {
    out.lower.converged = out.upper.converged = false;
    return out;
  }
  std::unique_ptr<DesignTransform> dt;  // (P_a depends on X only through its column space)
  if (design_ill_conditioned(X)) dt.reset(new DesignTransform(X));
  GenqDistribution d(dt ? MatRef(dt->Xt) : X, ys, a * weight_scale(a));  // (scale-free; the power of two avoids under/overflow)
  auto G = [&](double t) { return 1.0 - d.upper(v, t); };  // P(Q_a <= q_obs; t), decreasing in t
  double lb = 0, ub = 0;
  profile_bounds(G, tmin, tmax, 1.0 - alpha / 2, alpha / 2, qc.tol, qc.maxiter, out, lb, ub);
  if (!d.ok) out.lower.converged = out.upper.converged = false;
  auto fill = [&](double t, QProfileBound& b) {
    b.tau2 = t;
    b.tau = t >= 0 ? std::sqrt(t) : std::numeric_limits<double>::quiet_NaN();
    b.I2 = 100.0 * t / (vt + t);
    b.H2 = t / vt + 1.0;
  };
  if (out.lower.converged) fill(lb, out.lower);
  if (out.upper.converged) fill(ub, out.upper);
  return out;
}

}  // namespace metafast
