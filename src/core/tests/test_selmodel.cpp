// Stand-alone tests of core/selmodel.hpp: the adaptive Gauss-Kronrod
// quadrature over the real line against closed forms, and the normalising
// constant of the continuous selection models against an independent
// evaluation (the integral written as a step function's closed form in the
// limit of w = 1, and the negative-exponential model against a fine
// trapezoid rule on the p-value scale).
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/selmodel.hpp"

#include "core/tests/harness.hpp"

using namespace metafast::selmodel;

static void test_quadrature() {
  Quadrature q;
  q.rel_tol = 1e-12;
  // int phi = 1, split anywhere
  auto phi = [](double t) { return dnorm_std(t); };
  for (std::vector<double> bp : {std::vector<double>{0.0}, std::vector<double>{-3.0, 0.5, 7.0}}) {
    const QuadResult r = integrate_real_line(phi, bp, q);
    CHECK_NEAR(r.value, 1.0, 1e-12);
  }
  // int t^2 phi = 1; int exp(-|t|) = 2 (kink at 0)
  auto t2 = [](double t) { return t * t * dnorm_std(t); };
  CHECK_NEAR(integrate_real_line(t2, {0.0}, q).value, 1.0, 1e-12);
  auto lap = [](double t) { return std::exp(-std::fabs(t)); };
  CHECK_NEAR(integrate_real_line(lap, {0.0}, q).value, 2.0, 1e-12);
  // a step at 1.3: int_{t > 1.3} phi = upper_tail(1.3)
  auto step = [](double t) { return t > 1.3 ? dnorm_std(t) : 0.0; };
  CHECK_NEAR(integrate_real_line(step, {0.0, 1.3}, q).value, upper_tail(1.3), 1e-12);
}

// A_i of the negative-exponential model with steps = 0 against the trapezoid
// rule in y on a fine grid.
static void test_negexp_constant() {
  const double yi[3] = {0.1, 0.5, -0.2}, vi[3] = {0.04, 0.09, 0.02}, pre[3] = {1, 1, 1};
  double pv[3];
  for (int i = 0; i < 3; ++i) pv[i] = pvalue(yi[i], std::sqrt(vi[i]), Alternative::Greater);
  const double X[3] = {1, 1, 1};
  Model m;
  m.type = Type::NegExp;
  m.k = 3;
  m.p = 1;
  m.yi = yi; m.vi = vi; m.preci = pre; m.pvals = pv; m.X = X;
  m.steps = {0.0};
  m.quad.rel_tol = 1e-12;
  const double beta = 0.2, tau2 = 0.03, delta = 2.5;
  const LogLik r = loglik(m, &beta, tau2, &delta);
  double ll = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double sig = std::sqrt(vi[i] + tau2), sdv = std::sqrt(vi[i]);
    const int n = 400000;
    const double lo = beta - 12 * sig, hi = beta + 12 * sig, h = (hi - lo) / n;
    double A = 0.0;
    for (int j = 0; j <= n; ++j) {
      const double y = lo + j * h;
      const double f = std::exp(-delta * pvalue(y, sdv, Alternative::Greater)) * dnorm_std((y - beta) / sig) / sig;
      A += (j == 0 || j == n) ? 0.5 * f : f;
    }
    A *= h;
    ll += -delta * pv[i] + log_dnorm(yi[i], beta, sig) - std::log(A);
  }
  CHECK_NEAR(r.ll, ll, 1e-9);
  CHECK_NEAR(static_cast<double>(r.unconverged), 0.0, 0.0);
}

int main() {
  test_quadrature();
  test_negexp_constant();
  return metafast_test::report("test_selmodel");
}
