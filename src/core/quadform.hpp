// Distribution functions that the median-unbiased estimators (GENQM, PMM) and
// the generalised Q-profile interval need, written without R:
//
//   qf_gamma_p()      regularised lower incomplete gamma P(a, x): its power
//                     series for x < a + 1, else the continued fraction of
//                     Q(a, x) (Abramowitz & Stegun 1964, 6.5.29 and 6.5.31),
//                     evaluated by the modified Lentz method (Lentz 1976)
//   qf_chisq_cdf()    P(chi^2_df <= x) = P(df / 2, x / 2)
//   qf_chisq_median() the median of chi^2_df (bracketed root of the cdf)
//   qf_upper_tail()   P(Q > q) for Q = sum_j lambda_j chi^2_1 (independent,
//                     lambda_j > 0): Ruben's (1962) mixture of chi-square
//                     distributions, Ann Math Stat 33:542, with beta =
//                     min lambda (so every mixture weight is non-negative and
//                     the truncation error is bounded by the weight left out),
//                     the choice of Farebrother 1984 (Appl Stat 33:332, AS 204)
//                     with mode = 1 that metafor's GENQM calls.
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "core/roots.hpp"

namespace metafast {

inline double qf_gamma_p(double a, double x) {
  if (!(x > 0)) return 0.0;
  if (std::isinf(x)) return 1.0;
  const double eps = 1e-16;
  const double logpref = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1.0) {
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 100000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * eps) break;
    }
    return std::min(1.0, sum * std::exp(logpref));
  }
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < eps) break;
  }
  return std::max(0.0, 1.0 - std::exp(logpref) * h);
}

inline double qf_chisq_cdf(double x, double df) { return qf_gamma_p(0.5 * df, 0.5 * x); }

// The median of chi^2_df lies in (df - 1, df) for df >= 1.
inline double qf_chisq_median(int df) {
  const double lo = std::max(0.0, df - 1.0), hi = static_cast<double>(df);
  auto f = [&](double x) { return qf_chisq_cdf(x, df) - 0.5; };
  RootResult r = brent_root(f, lo, hi, f(lo), f(hi), 1e-14 * std::max(1.0, hi), 1000);
  return r.root;
}

struct QuadFormTail {
  double upper = std::numeric_limits<double>::quiet_NaN();  // P(Q > q)
  int terms = 0;
  bool converged = false;
};

// P(Q > q), Q = sum_{j < n} lambda_j chi^2_1, every lambda_j > 0.
// P(Q <= q) = sum_k a_k F_{n + 2k}(q / beta), with a_0 = prod (beta/lambda_j)^(1/2),
// a_k = (2k)^-1 sum_{i<k} g_{k-i} a_i, g_m = sum_j gamma_j^m, gamma_j = 1 - beta/lambda_j
// (Ruben 1962, central case).  The a_k are >= 0 and sum to 1; the series
// stops when the weight left, or the chi-square cdf (decreasing in k) times
// it, is below eps.  F_{n+2k+2}(x) = F_{n+2k}(x) - (x/2)^(n/2+k) e^(-x/2) / Gamma(n/2+k+1).
inline QuadFormTail qf_upper_tail(const double* lambda, int n, double q, double eps = 1e-12, int maxterms = 20000) {
  QuadFormTail out;
  if (n <= 0) return out;
  if (!(q > 0)) { out.upper = 1.0; out.converged = true; return out; }
  double beta = lambda[0];
  for (int j = 1; j < n; ++j) beta = std::min(beta, lambda[j]);
  if (!(beta > 0)) return out;
  std::vector<double> gam(n), pw(n, 1.0), g, a;
  double loga0 = 0;
  for (int j = 0; j < n; ++j) {
    gam[j] = 1.0 - beta / lambda[j];
    loga0 += 0.5 * std::log(beta / lambda[j]);
  }
  const double a0 = std::exp(loga0);
  if (!(a0 > 0)) return out;  // (the leading weight underflows: widely spread lambda)
  const double z = 0.5 * q / beta;  // gamma argument
  double ah = 0.5 * n;
  double F = qf_gamma_p(ah, z);
  double t = std::exp(ah * std::log(z) - z - std::lgamma(ah + 1.0));  // z^ah e^-z / Gamma(ah + 1)
  g.reserve(256);
  a.reserve(256);
  g.push_back(0.0);  // (g_0 unused)
  a.push_back(a0);
  double cdf = a0 * F, mass = a0;
  for (int k = 1; k <= maxterms; ++k) {
    out.terms = k;
    if (1.0 - mass < eps || F * (1.0 - mass) < eps) { out.converged = true; break; }
    double gk = 0;
    for (int j = 0; j < n; ++j) { pw[j] *= gam[j]; gk += pw[j]; }
    g.push_back(gk);
    double s = 0;
    for (int i = 0; i < k; ++i) s += g[k - i] * a[i];
    const double ak = s / (2.0 * k);
    a.push_back(ak);
    F = std::max(0.0, F - t);
    t *= z / (ah + 1.0);
    ah += 1.0;
    cdf += ak * F;
    mass += ak;
  }
  out.upper = std::min(1.0, std::max(0.0, 1.0 - cdf));
  return out;
}

}  // namespace metafast
