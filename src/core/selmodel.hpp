// Log-likelihood of selection models for the univariate random-effects model
// (metafor's selmodel()).  Observed outcomes y_i ~ N(x_i'beta, v_i + tau2) are
// published with a probability w(p_i) that depends on their one-sided or
// two-sided p-value p_i; the density of an observed outcome is
//   w(p_i) phi(y_i; mu_i, sigma_i) / A_i,   A_i = int w(p(y)) phi(y; mu_i, sigma_i) dy
// (Iyengar & Greenhouse 1988; Hedges 1992; Vevea & Hedges 1995).
//  - step functions (Vevea & Hedges 1995): A_i is a weighted sum of normal
//    probabilities of the intervals of the p-value scale;
//  - truncation at a known or estimated cut on the outcome scale: A_i in
//    closed form;
//  - continuous w (beta: Citkowicz & Vevea 2017; half-normal, negative
//    exponential, logistic, power: Preston, Ashby & Smyth 2004, and the
//    variants metafor documents): A_i by adaptive Gauss-Kronrod quadrature
//    (below) over the whole real line, split at the kinks of w.
// The weight functions, their parameters delta and the conventions (the
// weight of the first interval of a step function is 1 in A_i, p-values
// clamped to [pval_min, 1 - pval_min]) are metafor's (selmodel.rma.uni,
// .selmodel.ll.cont, .selmodel.ll.stepfun, .selmodel.ll.trunc).
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstddef>
#include <queue>
#include <vector>


namespace metafast {
namespace selmodel {

// The order is the type code R passes (R/selmodel.R, .mf_sel_types).
enum class Type {
  Beta = 0, HalfNorm, NegExp, Logistic, Power, NegExpPow,
  HalfNorm1, NegExp1, Logistic1, Power1,
  HalfNorm2, NegExp2, Logistic2, Power2,
  StepFun, Trunc, TruncEst
};
enum class Alternative { Greater = 0, Less = 1, TwoSided = 2 };

inline double upper_tail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }
inline double lower_tail(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
inline double log_dnorm(double y, double mu, double sd) {
  const double z = (y - mu) / sd;
  return -0.5 * z * z - std::log(sd) - 0.5 * std::log(2.0 * M_PI);
}
inline double dnorm_std(double t) { return std::exp(-0.5 * t * t) / std::sqrt(2.0 * M_PI); }

// p-value of outcome y with sampling SD sd (metafor's .selmodel.pval)
inline double pvalue(double y, double sd, Alternative alt) {
  const double z = y / sd;
  switch (alt) {
    case Alternative::Greater: return upper_tail(z);
    case Alternative::Less: return lower_tail(z);
    default: return 2.0 * upper_tail(std::fabs(z));
  }
}

// The continuous weight functions at p-value p (already clamped).  s1, s2:
// the first two values of `steps` (s1 the p-value below which w = 1).
inline double weight(Type type, double p, const double* delta, double preci, double s1, double s2) {
  auto base = [&](Type b, double d) -> double {
    const double a = d * preci;
    switch (b) {
      case Type::HalfNorm: return std::exp(-a * (p * p - s1 * s1));
      case Type::NegExp: return std::exp(-a * (p - s1));
      case Type::Logistic: {
        const double num = 2.0 * std::exp(-a * p) / (1.0 + std::exp(-a * p));
        const double den = 2.0 * std::exp(-a * s1) / (1.0 + std::exp(-a * s1));
        return num / den;
      }
      case Type::Power: return std::pow(1.0 - p, a) / std::pow(1.0 - s1, a);
      default: return std::numeric_limits<double>::quiet_NaN();
    }
  };
  switch (type) {
    case Type::Beta: {
      const double x = std::min(std::max(s1, p), s2);
      return std::pow(x, delta[0] - 1.0) * std::pow(1.0 - x, delta[1] - 1.0);
    }
    case Type::HalfNorm: case Type::NegExp: case Type::Logistic: case Type::Power:
      return p <= s1 ? 1.0 : base(type, delta[0]);
    case Type::NegExpPow:
      return p <= s1 ? 1.0
                     : std::exp(-delta[0] * preci * std::pow(p, 1.0 / delta[1])) /
                           std::exp(-delta[0] * preci * std::pow(s1, 1.0 / delta[1]));
    case Type::HalfNorm1: case Type::NegExp1: case Type::Logistic1: case Type::Power1: {
      if (p <= s1) return 1.0;
      const double x = (p - s1) / (1.0 - s1), a = delta[0] * preci;
      if (type == Type::HalfNorm1) return std::exp(-a * x * x);
      if (type == Type::NegExp1) return std::exp(-a * x);
      if (type == Type::Logistic1) return 2.0 * std::exp(-a * x) / (1.0 + std::exp(-a * x));
      return std::pow(1.0 - x, a);
    }
    case Type::HalfNorm2: case Type::NegExp2: case Type::Logistic2: case Type::Power2: {
      if (p <= s1) return 1.0;
      const Type b = static_cast<Type>(static_cast<int>(type) - static_cast<int>(Type::HalfNorm2) +
                                       static_cast<int>(Type::HalfNorm));
      return (delta[0] + base(b, delta[1])) / (1.0 + delta[0]);
    }
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

// ---- adaptive Gauss-Kronrod quadrature ---------------------------------
// The 7-point Gauss rule and its 15-point Kronrod extension (Kronrod 1965;
// abscissae and weights as tabulated by Piessens et al. 1983, QUADPACK).
// Pieces are refined globally, worst error estimate first, until the summed
// error is below rel_tol |integral| (or abs_tol) or max_pieces is reached.
struct Quadrature {
  double rel_tol = 1e-10;
  double abs_tol = 0.0;
  int max_pieces = 400;
};

struct QuadResult {
  double value = 0.0;
  double error = 0.0;
  bool converged = true;
};

namespace gk {
constexpr double xk[8] = {0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
                          0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
                          0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
                          0.207784955007898467600689403773245, 0.0};
constexpr double wk[8] = {0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
                          0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
                          0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
                          0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
// Gauss weights of the nodes xk[1], xk[3], xk[5], xk[7]
constexpr double wg[4] = {0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                          0.381830050505118944950369775488975, 0.417959183673469387755102040816327};
}  // namespace gk

struct Piece {
  double a, b, value, error;
  bool operator<(const Piece& o) const { return error < o.error; }
};

// f on [a, b] by the 15-point rule; error |K15 - G7| (a conservative estimate)
template <class F>
Piece gk15(F& f, double a, double b) {
  const double c = 0.5 * (a + b), h = 0.5 * (b - a);
  double k = gk::wk[7] * f(c), g = gk::wg[3] * f(c);
  for (int j = 0; j < 7; ++j) {
    const double x = h * gk::xk[j];
    const double s = f(c - x) + f(c + x);
    k += gk::wk[j] * s;
    if (j % 2 == 1) g += gk::wg[j / 2] * s;
  }
  return Piece{a, b, k * h, std::fabs((k - g) * h)};
}

// int f(u) du over the given pieces [edges[i], edges[i+1]] of u.
template <class F>
QuadResult integrate_pieces(F& f, const std::vector<double>& edges, const Quadrature& q) {
  std::priority_queue<Piece> heap;
  QuadResult out;
  double value = 0.0, error = 0.0;
  for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
    if (!(edges[i + 1] > edges[i])) continue;
    Piece p = gk15(f, edges[i], edges[i + 1]);
    value += p.value;
    error += p.error;
    heap.push(p);
  }
  int pieces = static_cast<int>(heap.size());
  while (error > std::max(q.abs_tol, q.rel_tol * std::fabs(value)) && !heap.empty()) {
    if (pieces >= q.max_pieces) { out.converged = false; break; }
    const Piece worst = heap.top();
    heap.pop();
    const double m = 0.5 * (worst.a + worst.b);
    if (!(m > worst.a && m < worst.b)) { out.converged = false; break; }
    const Piece l = gk15(f, worst.a, m), r = gk15(f, m, worst.b);
    value += l.value + r.value - worst.value;
    error += l.error + r.error - worst.error;
    heap.push(l);
    heap.push(r);
    ++pieces;
  }
  // the running sums drift by rounding; add the pieces again
  value = 0.0;
  error = 0.0;
  while (!heap.empty()) {
    value += heap.top().value;
    error += heap.top().error;
    heap.pop();
  }
  out.value = value;
  out.error = error;
  return out;
}

// int g(t) dt over the real line, split at the sorted breakpoints bp (at least
// one).  The two infinite ends are mapped to (0, 1]: t = b0 - (1 - u) / u on
// the left, t = bn + (1 - u) / u on the right (dt = du / u^2).  Pieces are
// expressed on a common coordinate s: s in [-1, 0] the left end, [0, n - 1]
// the finite pieces, [n - 1, n] the right end.
template <class G>
QuadResult integrate_real_line(G& g, const std::vector<double>& bp, const Quadrature& q) {
  const int n = static_cast<int>(bp.size());
  auto f = [&](double s) -> double {
    if (s < 0.0) {
      const double u = -s;  // u in (0, 1]
      if (u <= 0.0) return 0.0;
      const double t = bp[0] - (1.0 - u) / u;
      return g(t) / (u * u);
    }
    if (s > n - 1) {
      const double u = n - s;
      if (u <= 0.0) return 0.0;
      const double t = bp[n - 1] + (1.0 - u) / u;
      return g(t) / (u * u);
    }
    const int i = std::min(static_cast<int>(s), n - 2);
    const double frac = s - i;
    return g(bp[i] + frac * (bp[i + 1] - bp[i])) * (bp[i + 1] - bp[i]);
  };
  std::vector<double> edges;
  edges.reserve(n + 2);
  edges.push_back(-1.0);
  for (int i = 0; i < n; ++i) edges.push_back(static_cast<double>(i));
  edges.push_back(static_cast<double>(n));
  return integrate_pieces(f, edges, q);
}

// ---- the model ---------------------------------------------------------
struct Model {
  Type type = Type::StepFun;
  Alternative alt = Alternative::Greater;
  // data: k outcomes, sampling variances, precisions and p-values; X is k x p
  // (column-major)
  int k = 0, p = 0;
  const double *yi = nullptr, *vi = nullptr, *preci = nullptr, *pvals = nullptr, *X = nullptr;
  const int* pgrp = nullptr;      // step functions: interval of p_i, 0-based
  // truncest: when set, side[i] != 0 marks outcome i as on the expected side of
  // the cut (weight 1) whatever the cut; the likelihood is then the smooth
  // extension of one piece between adjacent outcomes (its supremum, the
  // standard errors and the bootstrap refits work on it)
  const signed char* side = nullptr;
  std::vector<double> steps;      // the steps (p-value scale); trunc: the cut on the outcome scale
  std::vector<double> zcut;       // step functions: upper-tail normal quantiles of steps[0..N-2]
                                  // (of steps / 2 for two-sided tests)
  std::vector<double> kinks;      // continuous types: z-values y / sqrt(v) where w has a kink
  double pval_min = 0.0;
  Quadrature quad;
};

struct LogLik {
  double ll = 0.0;
  int unconverged = 0;  // integrals that stopped at max_pieces
  int failed = -1;      // first study (0-based) whose A_i is not positive and finite, or -1
};

// A_i of a step function.  Masses of the intervals of the p-value scale:
// interval 0 has weight 1, interval j > 0 weight delta_j / preci (metafor's
// .selmodel.ll.stepfun).
inline double step_norm(const Model& m, double mu, double sig, double sdv, double prec, const double* delta) {
  const int N = static_cast<int>(m.steps.size());
  // T(j): probability of a p-value <= steps[j], j < N - 1
  auto tail = [&](int j) -> double {
    const double c = sdv * m.zcut[j];
    switch (m.alt) {
      case Alternative::Greater: return upper_tail((c - mu) / sig);
      case Alternative::Less: return upper_tail((c + mu) / sig);
      default: return upper_tail((c - mu) / sig) + upper_tail((c + mu) / sig);
    }
  };
  auto last = [&](int j) -> double {  // probability of a p-value > steps[j]
    const double c = sdv * m.zcut[j];
    switch (m.alt) {
      case Alternative::Greater: return lower_tail((c - mu) / sig);
      case Alternative::Less: return lower_tail((c + mu) / sig);
      default: return lower_tail((c - mu) / sig) - lower_tail((-c - mu) / sig);
    }
  };
  double prev = tail(0);
  double A = prev;
  for (int j = 1; j < N; ++j) {
    const double w = delta[j] / prec;
    if (j < N - 1) {
      const double cur = tail(j);
      A += w * (cur - prev);
      prev = cur;
    } else {
      A += w * last(j - 1);
    }
  }
  return A;
}

// The log-likelihood at beta (p), tau2 and delta.
inline LogLik loglik(const Model& m, const double* beta, double tau2, const double* delta) {
  LogLik out;
  const int k = m.k, p = m.p;
  const double s1 = m.steps.empty() ? 0.0 : m.steps[0];
  const double s2 = m.steps.size() > 1 ? m.steps[1] : 1.0;
  double ll = 0.0;
  for (int i = 0; i < k; ++i) {
    double mu = 0.0;
    for (int j = 0; j < p; ++j) mu += m.X[i + static_cast<std::size_t>(j) * k] * beta[j];
    const double sig = std::sqrt(m.vi[i] + tau2), sdv = std::sqrt(m.vi[i]);
    const double ld = log_dnorm(m.yi[i], mu, sig);
    double A, lw;
    switch (m.type) {
      case Type::StepFun:
        A = step_norm(m, mu, sig, sdv, m.preci[i], delta);
        lw = std::log(delta[m.pgrp[i]] / m.preci[i]);
        break;
      case Type::Trunc: case Type::TruncEst: {
        const double cut = m.type == Type::Trunc ? m.steps[0] : delta[1];
        const bool fixed_side = m.type == Type::TruncEst && m.side != nullptr;
        if (m.alt == Alternative::Less) {
          const bool expected = fixed_side ? m.side[i] != 0 : m.yi[i] < cut;
          lw = expected ? 0.0 : std::log(delta[0]);
          A = 1.0 - (1.0 - delta[0]) * upper_tail((cut - mu) / sig);
        } else {
          const bool expected = fixed_side ? m.side[i] != 0 : m.yi[i] > cut;
          lw = expected ? 0.0 : std::log(delta[0]);
          A = 1.0 - (1.0 - delta[0]) * lower_tail((cut - mu) / sig);
        }
        break;
      }
      default: {
        const double prec = m.preci[i];
        auto g = [&](double t) -> double {
          double pv = pvalue(mu + sig * t, sdv, m.alt);
          pv = std::min(std::max(pv, m.pval_min), 1.0 - m.pval_min);
          return weight(m.type, pv, delta, prec, s1, s2) * dnorm_std(t);
        };
        std::vector<double> bp;
        bp.reserve(m.kinks.size() + 1);
        bp.push_back(0.0);
        for (double z : m.kinks) {
          const double t = (sdv * z - mu) / sig;
          if (std::isfinite(t)) bp.push_back(t);
        }
        std::sort(bp.begin(), bp.end());
        bp.erase(std::unique(bp.begin(), bp.end()), bp.end());
        const QuadResult qr = integrate_real_line(g, bp, m.quad);
        if (!qr.converged) ++out.unconverged;
        A = qr.value;
        lw = std::log(weight(m.type, m.pvals[i], delta, prec, s1, s2));
        break;
      }
    }
    if (!(A > 0.0) || !std::isfinite(A)) {
      if (out.failed < 0) out.failed = i;
      out.ll = -std::numeric_limits<double>::infinity();
      return out;
    }
    ll += lw + ld - std::log(A);
  }
  out.ll = ll;
  return out;
}

}  // namespace selmodel
}  // namespace metafast
