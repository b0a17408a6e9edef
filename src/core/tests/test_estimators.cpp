// Stand-alone tests of the estimators GENQ, GENQM, DLIT, SJIT and PMM and of
// the distribution functions they need (core/quadform.hpp): fixed points and
// estimating equations against brute-force k-by-k algebra, the chi-square cdf
// and the Ruben series against closed forms and a simulation.
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/fit.hpp"
#include "core/quadform.hpp"
#include "core/rng.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;

static Mat brute_P(const Mat& X, const Vec& w) {
  const Mat W = w.asDiagonal();
  const Mat A = X.transpose() * W * X;
  return W - W * X * A.inverse() * X.transpose() * W;
}

static void test_chisq() {
  // closed forms: df = 2, P = 1 - exp(-x/2); df = 1, P = erf(sqrt(x/2))
  for (double x : {0.01, 0.5, 1.0, 3.0, 10.0, 40.0}) {
    CHECK_NEAR(qf_chisq_cdf(x, 2), 1.0 - std::exp(-x / 2), 1e-14);
    CHECK_NEAR(qf_chisq_cdf(x, 1), std::erf(std::sqrt(x / 2)), 1e-14);
    // df = 4: 1 - exp(-x/2)(1 + x/2)
    CHECK_NEAR(qf_chisq_cdf(x, 4), 1.0 - std::exp(-x / 2) * (1.0 + x / 2), 1e-14);
  }
  CHECK_NEAR(qf_chisq_cdf(3.841458820694124, 1), 0.95, 1e-13);  // qchisq(0.95, 1)
  CHECK_NEAR(qf_chisq_median(1), 0.454936423119572, 1e-12);    // qchisq(0.5, 1)
  CHECK_NEAR(qf_chisq_median(2), 2.0 * std::log(2.0), 1e-12);
  CHECK_NEAR(qf_chisq_median(12), 11.34032237742414, 1e-12);   // qchisq(0.5, 12)
  CHECK_NEAR(qf_chisq_cdf(qf_chisq_median(5000), 5000), 0.5, 1e-12);
}

static void test_ruben() {
  // equal weights: a scaled chi-square
  std::vector<double> l3(3, 2.0);
  CHECK_NEAR(qf_upper_tail(l3.data(), 3, 5.0).upper, 1.0 - qf_chisq_cdf(2.5, 3), 1e-13);
  // two distinct weights: P(Q > q) = (l1 e^{-q/(2 l1)} - l2 e^{-q/(2 l2)}) / (l1 - l2)
  // for Q = l1 chi^2_2 / ... -- with chi^2_1 terms use the sum of two pairs:
  // Q = l1 (chi^2_1 + chi^2_1) + l2 (chi^2_1 + chi^2_1) = l1 chi^2_2 + l2 chi^2_2
  const double L1 = 3.0, L2 = 0.5;
  std::vector<double> l4 = {L1, L1, L2, L2};
  for (double q : {0.3, 2.0, 7.5, 30.0}) {
    const double ref = (L1 * std::exp(-q / (2 * L1)) - L2 * std::exp(-q / (2 * L2))) / (L1 - L2);
    QuadFormTail t = qf_upper_tail(l4.data(), 4, q);
    CHECK(t.converged);
    CHECK_NEAR(t.upper, ref, 1e-11);
  }
  // a spread of weights against a simulation (4e5 draws: sd of a proportion < 1e-3)
  std::vector<double> l = {5.0, 2.0, 1.0, 0.4, 0.1};
  Stream s(42, 0);
  const double q = 8.0;
  int n = 400000, above = 0;
  for (int i = 0; i < n; ++i) {
    double x = 0;
    for (double lj : l) { const double z = s.normal(); x += lj * z * z; }
    above += x > q;
  }
  CHECK_NEAR(qf_upper_tail(l.data(), 5, q).upper, static_cast<double>(above) / n, 4e-3);
}

static void test_new_estimators() {
  for (int p : {1, 3}) {
    Problem pr = random_problem(30, p, 21 + p);
    const int k = 30;
    const Vec yc = centred(pr.y);
    Control ctl;
    ctl.threshold = 1e-13;
    // PM, DLIT and SJIT share the fixed point Q(tau2) = k - p
    const double pm = estimate_tau2(Method::PM, pr.X, yc, pr.v, ctl).tau2;
    CHECK(pm > 0);
    for (Method m : {Method::DLIT, Method::SJIT}) {
      Tau2Estimate e = estimate_tau2(m, pr.X, yc, pr.v, ctl);
      CHECK(e.conv.converged && e.conv.solver == 4);
      CHECK_NEAR(e.tau2, pm, 1e-9);
      CHECK_NEAR(e.se, std::sqrt(2.0 * k * k / (k - p)) / (pr.v.array() + e.tau2).inverse().sum(), 1e-14);
    }
    // PMM: Q(tau2) = the median of chi^2_{k-p}
    Tau2Estimate pmm = estimate_tau2(Method::PMM, pr.X, yc, pr.v, ctl);
    CHECK_NEAR(q_gen(pr.X, yc, pr.v, pmm.tau2), qf_chisq_median(k - p), 1e-9);
    CHECK(pmm.tau2 > pm);  // the median is below the mean k - p
    // GENQ with weights a: (Q_a - tr(P_a V)) / tr(P_a) and its SE, by brute force
    Vec a(k);
    for (int i = 0; i < k; ++i) a(i) = 1.0 / (pr.v(i) + 0.02 * (i % 3));
    const Mat P = brute_P(pr.X, a);
    const Mat V = pr.v.asDiagonal();
    const double Q = yc.dot(P * yc);
    const double t = std::max(0.0, (Q - (P * V).trace()) / P.trace());
    const VecRef av(a);
    Tau2Estimate g = estimate_tau2(Method::GENQ, pr.X, yc, pr.v, ctl, nullptr, nullptr, &av);
    CHECK_NEAR(g.tau2, t, 1e-12);
    const Mat PV = P * V;
    const double se = std::sqrt(2 * (PV * PV).trace() + 4 * t * (PV * P).trace() + 2 * t * t * (P * P).trace()) / P.trace();
    CHECK_NEAR(g.se, se, 1e-12);
    // GENQM: at the estimate the observed Q_a is the median of sum lambda_j chi^2_1
    Tau2Estimate gm = estimate_tau2(Method::GENQM, pr.X, yc, pr.v, ctl, nullptr, nullptr, &av);
    CHECK(gm.conv.converged);
    const Vec sq = (pr.v.array() + gm.tau2).sqrt().matrix();
    Eigen::SelfAdjointEigenSolver<Mat> es(sq.asDiagonal() * P * sq.asDiagonal());
    const Vec ev = es.eigenvalues().tail(k - p);
    CHECK_NEAR(qf_upper_tail(ev.data(), k - p, Q).upper, 0.5, 1e-9);
    // GENQ without weights: not converged, NaN (R refuses this before)
    Tau2Estimate none = estimate_tau2(Method::GENQ, pr.X, yc, pr.v, ctl);
    CHECK(std::isnan(none.tau2) && !none.conv.converged);
  }
  // the boundary: outcomes with no excess variation give 0 for each
  Problem pr = random_problem(20, 1, 3);
  pr.y.setConstant(0.2);
  pr.y(0) = 0.21;
  const Vec yc = centred(pr.y);
  const VecRef av(pr.v);
  Control ctl;
  for (Method m : {Method::PMM, Method::DLIT, Method::GENQ, Method::GENQM}) {
    Tau2Estimate e = estimate_tau2(m, pr.X, yc, pr.v, ctl, nullptr, nullptr, &av);
    CHECK(e.tau2 == 0.0);
  }
  // SJIT approaches 0 geometrically: within the cap it gets below threshold
  Tau2Estimate sj = estimate_tau2(Method::SJIT, pr.X, yc, pr.v, ctl);
  CHECK(sj.conv.converged && sj.tau2 < 1e-8);
  // a cap of 2 iterations is not enough: NaN and a message
  Control cap;
  cap.maxiter = 2;
  Problem pr2 = random_problem(30, 1, 9);
  Tau2Estimate d = estimate_tau2(Method::DLIT, pr2.X, centred(pr2.y), pr2.v, cap);
  CHECK(!d.conv.converged && std::isnan(d.tau2) && !d.conv.message.empty());
}

int main() {
  test_chisq();
  test_ruben();
  test_new_estimators();
  return metafast_test::report("test_estimators");
}
