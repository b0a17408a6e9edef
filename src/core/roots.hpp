// One-dimensional bracketed root finding (Brent 1973, "Algorithms for
// Minimization without Derivatives", ch. 4: inverse quadratic interpolation
// safeguarded by bisection).  Used for the Paule-Mandel equation, the
// Q-profile confidence bounds and as the fallback of Fisher scoring.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "core/model.hpp"  // FitPoll

namespace metafast {

struct RootResult {
  double root = std::numeric_limits<double>::quiet_NaN();
  int iterations = 0;
  double width = 0.0;  // final bracket width
  bool converged = false;
};

// Root of f in [a, b]; f(a) and f(b) must have opposite signs (or be zero).
// Stops when the bracket is narrower than tol (absolute) + 4 eps |x|.
// poll (optional): false stops the search (not converged).
template <class F>
RootResult brent_root(F&& f, double a, double b, double fa, double fb, double tol, int maxiter,
                      const FitPoll* poll = nullptr) {
  RootResult out;
  if (fa == 0) { out.root = a; out.converged = true; return out; }
  if (fb == 0) { out.root = b; out.converged = true; return out; }
  if ((fa > 0) == (fb > 0)) return out;
  double c = a, fc = fa, d = b - a, e = d;
  const double eps = std::numeric_limits<double>::epsilon();
  for (int it = 1; it <= maxiter; ++it) {
    out.iterations = it;
    if (poll && !(*poll)()) return out;
    if ((fb > 0) == (fc > 0)) { c = a; fc = fa; d = b - a; e = d; }
    if (std::fabs(fc) < std::fabs(fb)) {
      a = b; b = c; c = a;
      fa = fb; fb = fc; fc = fa;
    }
    const double tol1 = 2.0 * eps * std::fabs(b) + 0.5 * tol;
    const double xm = 0.5 * (c - b);
    if (std::fabs(xm) <= tol1 || fb == 0) {
      out.root = b; out.width = std::fabs(c - b); out.converged = true;
      return out;
    }
    if (std::fabs(e) >= tol1 && std::fabs(fa) > std::fabs(fb)) {
      double p, q, r;
      const double s = fb / fa;
      if (a == c) {
        p = 2.0 * xm * s; q = 1.0 - s;
      } else {
        q = fa / fc; r = fb / fc;
        p = s * (2.0 * xm * q * (q - r) - (b - a) * (r - 1.0));
        q = (q - 1.0) * (r - 1.0) * (s - 1.0);
      }
      if (p > 0) q = -q; else p = -p;
      const double min1 = 3.0 * xm * q - std::fabs(tol1 * q);
      const double min2 = std::fabs(e * q);
      if (2.0 * p < (min1 < min2 ? min1 : min2)) { e = d; d = p / q; }
      else { d = xm; e = d; }
    } else {
      d = xm; e = d;
    }
    a = b; fa = fb;
    b += (std::fabs(d) > tol1) ? d : (xm > 0 ? tol1 : -tol1);
    fb = f(b);
    if (!std::isfinite(fb)) return out;
  }
  out.root = b; out.width = std::fabs(c - b);
  return out;
}

// Root of a function that is positive at lo and decreases: grows the upper
// end geometrically up to hi_max before handing over to brent_root.
// Returns converged = false with root = NaN when no sign change is found.
template <class F>
RootResult root_decreasing(F&& f, double lo, double hi_start, double hi_max, double tol, int maxiter,
                           const FitPoll* poll = nullptr) {
  const double flo = f(lo);
  double hi = std::min(hi_start > lo ? hi_start : lo + 1.0, hi_max);
  double fhi = f(hi);
  int grow = 0;
  while (std::isfinite(fhi) && fhi > 0 && hi < hi_max && grow < 200) {
    lo = hi;
    hi = std::min(hi * 4.0 + 1.0, hi_max);
    fhi = f(hi);
    ++grow;
  }
  const double flo2 = (grow > 0) ? f(lo) : flo;
  RootResult r = brent_root(f, lo, hi, flo2, fhi, tol, maxiter, poll);
  r.iterations += grow;
  return r;
}

}  // namespace metafast
