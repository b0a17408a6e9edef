// Q-profile confidence interval for tau2 (Viechtbauer 2007, Stat Med 26:37):
// the bounds are the tau2 values at which the generalised Q statistic
// y'P(tau2)y equals the chi-square(k - p) quantiles.  Q is decreasing in tau2,
// so each bound is a bracketed root (roots.hpp), solved to a tight tolerance.
#pragma once

#include "core/fit.hpp"
#include "core/roots.hpp"

namespace metafast {

struct QProfileResult {
  double lower = 0, upper = 0;
  bool lower_converged = true, upper_converged = true;
};

// crit_upper = qchisq(1 - alpha/2, k-p) gives the lower bound;
// crit_lower = qchisq(alpha/2, k-p) gives the upper bound.
inline QProfileResult qprofile_tau2(const Problem& pr, double crit_upper, double crit_lower,
                                    double tol, int maxiter, double tau2_max) {
  const Vec yc = centred(pr.y);
  QProfileResult out;
  const double q0 = q_gen(pr.X, yc, pr.v, 0.0);
  auto solve = [&](double crit, double& bound, bool& conv) {
    if (q0 <= crit) { bound = 0.0; return; }
    auto f = [&](double t) { return q_gen(pr.X, yc, pr.v, t) - crit; };
    RootResult rr = root_decreasing(f, 0.0, 1.0, tau2_max, tol, maxiter);
    bound = rr.root;
    conv = rr.converged;
  };
  solve(crit_upper, out.lower, out.lower_converged);
  solve(crit_lower, out.upper, out.upper_converged);
  return out;
}

}  // namespace metafast
