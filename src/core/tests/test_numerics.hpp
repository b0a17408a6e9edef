// Core tests of the numerics R reads after a fit: the Q-profile interval
// (qprofile.hpp) against root-finding on the brute-force k-by-k Q, with and
// without an intercept and at extreme magnitudes; leverages and residual
// variances (leverage.hpp) against the k-by-k hat matrix; the estimator
// table (estimators.hpp).  Included by test_core.cpp (uses the CHECK
// macros and random_problem of harness.hpp, and test_core.cpp's brute_P).
#pragma once

#include <cstring>

#include "core/estimators.hpp"
#include "core/leverage.hpp"
#include "core/qprofile.hpp"

namespace numerics_tests {

using namespace metafast;

// Brute-force Q(t) = y' P(t) y with the k-by-k P.
inline double brute_Q(const Problem& pr, const Vec& y, double t) {
  const Vec w = (pr.v.array() + t).inverse().matrix();
  return y.dot(brute_P(pr.X, w) * y);
}

// Root of the decreasing brute_Q - crit on [lo, hi] by bisection to the last bit.
inline double brute_root(const Problem& pr, const Vec& y, double crit, double lo, double hi) {
  for (int it = 0; it < 2000 && hi - lo > 1e-15 * hi; ++it) {
    const double mid = 0.5 * (lo + hi);
    (brute_Q(pr, y, mid) > crit ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// chi-square(df) quantiles for df = 28 at 0.025 / 0.975 (R: qchisq).
constexpr double kChi28Lo = 15.3078605526, kChi28Hi = 44.4607918363;

inline void check_qprofile(const Problem& pr, bool centre, double unit) {
  const Vec y = centre ? centred(pr.y) : pr.y;
  QProfileControl qc;
  qc.tau2_max = 100;
  const double vt = 0.1;
  QProfileResult q = qprofile_tau2(pr.X, pr.y, pr.v, centre, 0.05, vt, kChi28Hi, kChi28Lo, qc);
  CHECK(q.lower.converged && q.upper.converged);
  CHECK(q.lower.sign == 0 && q.upper.sign == 0 && !q.ci_null);
  const double lb = brute_root(pr, y, kChi28Hi, 0.0, 100.0), ub = brute_root(pr, y, kChi28Lo, 0.0, 100.0);
  CHECK(lb > 0 && ub > lb);
  CHECK_NEAR(q.lower.tau2, lb, 1e-9);
  CHECK_NEAR(q.upper.tau2, ub, 1e-9);
  CHECK_NEAR(q.upper.tau, std::sqrt(ub), 1e-9);
  CHECK_NEAR(q.upper.I2, 100 * ub / (vt + ub), 1e-9);
  CHECK_NEAR(q.lower.H2, lb / vt + 1, 1e-9);
  // the same problem at magnitude unit (y * unit, v * unit^2): bounds scale by unit^2
  Problem sc = pr;
  sc.y *= unit;
  sc.v *= unit * unit;
  QProfileControl qs = qc;
  qs.tau2_max = 100 * unit * unit;
  QProfileResult r = qprofile_tau2(sc.X, sc.y, sc.v, centre, 0.05 * unit * unit, vt * unit * unit, kChi28Hi, kChi28Lo, qs);
  CHECK(r.lower.converged && r.upper.converged);
  CHECK_NEAR(r.lower.tau2 / (unit * unit), lb, 1e-9);
  CHECK_NEAR(r.upper.tau2 / (unit * unit), ub, 1e-9);
  CHECK_NEAR(r.upper.tau / unit, std::sqrt(ub), 1e-9);
  CHECK_NEAR(r.upper.I2, q.upper.I2, 1e-9);
  CHECK_NEAR(r.lower.H2, q.lower.H2, 1e-9);
}

inline void test_qprofile() {
  // with an intercept: Q on the mean-centred outcomes
  Problem a = random_problem(30, 2, 101);
  a.y.array() += 0.5;  // raise the heterogeneity: both bounds inside (0, 100)
  for (int i = 0; i < 30; ++i) a.y(i) += (i % 3 - 1) * 0.6;
  check_qprofile(a, true, 1.0);
  check_qprofile(a, true, 1e-150);
  check_qprofile(a, true, 1e100);
  // without an intercept: Q on the outcomes as given
  Problem b = a;
  b.X.col(0).setLinSpaced(30, 0.5, 2.0);  // no column of ones
  check_qprofile(b, false, 1.0);
  check_qprofile(b, false, 1e-150);
  // the uncentred Q differs here: centring would move the bounds
  CHECK(std::fabs(brute_Q(b, b.y, 0.1) - brute_Q(b, centred(b.y), 0.1)) > 1e-3);
  // homogeneous outcomes: both bounds below tau2_min = 0, the null set
  Problem h = random_problem(30, 1, 7);
  h.y.setConstant(0.2);
  h.y(0) = 0.21;
  QProfileControl qc;
  QProfileResult n = qprofile_tau2(h.X, h.y, h.v, true, 0.0, 0.1, kChi28Hi, kChi28Lo, qc);
  CHECK(n.ci_null && n.lower.sign == -1 && n.upper.sign == -1);
  CHECK(n.lower.tau2 == 0 && n.upper.tau2 == 0);
  CHECK(n.tau2_max == 100);  // metafor's default max(100, 10 tau2)
  // a small tau2_max: the upper bound is reported as '>tau2_max'
  qc.tau2_max = 0.01;
  QProfileResult m = qprofile_tau2(a.X, a.y, a.v, true, 0.05, 0.1, kChi28Hi, kChi28Lo, qc);
  CHECK(m.upper.sign == 1 && m.upper.tau2 == 0.01);
}

inline void test_leverage() {
  for (bool user : {false, true}) {
    Problem pr = random_problem(20, 3, 41);
    const double tau2 = 0.04;
    Vec wts(0);
    if (user) {
      wts = Vec(20);
      for (int i = 0; i < 20; ++i) wts(i) = 1.0 + (i % 4);
    }
    const LeverageResult r = leverage_values(pr.X, pr.y, pr.v, tau2, wts);
    const Vec m = (pr.v.array() + tau2).matrix();
    const Vec w = user ? wts : Vec(m.cwiseInverse());
    const Mat W = w.asDiagonal();
    const Mat H = pr.X * (pr.X.transpose() * W * pr.X).inverse() * pr.X.transpose() * W;
    const Mat IH = Mat::Identity(20, 20) - H;
    const Mat Ve = IH * Mat(m.asDiagonal()) * IH.transpose();
    for (int i = 0; i < 20; ++i) {
      CHECK_NEAR(r.hat(i), H(i, i), 1e-12);
      CHECK_NEAR(r.var_resid(i), Ve(i, i), 1e-12);
      CHECK_NEAR(r.weight(i), w(i), 1e-15);
    }
    CHECK_NEAR(r.hat.sum(), 3.0, 1e-12);  // tr(H) = p
  }
}

// Every Method has a row whose canonical name is its own; the aliases point to
// their canonical estimator (EE, HE, PM).
inline void test_estimator_table() {
  CHECK(estimator_info(Method::PM).code == Method::PM);
  CHECK(estimator_info(Method::EE).code == Method::EE);
  CHECK(estimator_iterative(Method::REML) && !estimator_iterative(Method::DL));
  int seen[15] = {0};
  for (const EstimatorInfo& e : estimator_table()) {
    const int c = static_cast<int>(e.code);
    CHECK(c >= 0 && c < 15);
    if (std::strcmp(e.name, e.canonical) == 0) ++seen[c];
    CHECK(std::strcmp(estimator_info(e.code).name, e.canonical) == 0);
    CHECK(e.random == (e.code != Method::EE));
    CHECK(e.iterative == (e.code == Method::ML || e.code == Method::REML || e.code == Method::EB ||
                          e.code == Method::PM || e.code == Method::GENQM || e.code == Method::DLIT ||
                          e.code == Method::SJIT || e.code == Method::PMM));
    CHECK(e.user_weights == (e.code == Method::GENQ || e.code == Method::GENQM));
    CHECK(e.likelihood == (e.code == Method::ML || e.code == Method::REML));
    CHECK(e.restricted == (e.code == Method::REML));
    CHECK(!e.warm_start || e.iterative);
    CHECK(e.has_se == e.random);
  }
  for (int c = 0; c < 15; ++c) CHECK(seen[c] == 1);
  const auto& est = estimator_table();
  CHECK(std::strcmp(est[1].name, "FE") == 0 && std::strcmp(est[1].canonical, "EE") == 0);
  const auto& tests = test_table();
  for (std::size_t i = 0; i < tests.size(); ++i) CHECK(static_cast<std::size_t>(tests[i].code) == i);
  CHECK(!tests[0].tdist && tests[1].tdist && tests[2].tdist && tests[2].knha && !tests[1].knha);
}

}  // namespace numerics_tests

static void test_numerics() {
  numerics_tests::test_qprofile();
  numerics_tests::test_leverage();
  numerics_tests::test_estimator_table();
}
