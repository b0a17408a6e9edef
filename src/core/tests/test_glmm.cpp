// Stand-alone tests of core/glmm.hpp (the GLMMs of rma.glmm()).  Expected
// values are closed forms: moments of the normal distribution for the
// Gauss-Hermite rule; for the Poisson-normal model the integral over a log
// rate of a Poisson density, checked against a fine trapezoid rule; at
// tau = 0 the binomial log-likelihood itself; and the maximum-likelihood
// estimate of a Poisson rate without random effect (log of events / time).
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/glmm.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;
using metafast_test::checks;
using metafast_test::failures;

int main() {
  // Gauss-Hermite rule: E[x^2] = 1, E[x^4] = 3, E[x^6] = 15 (exact for n >= 4)
  {
    glmm::GHRule gh(7);
    double m0 = 0, m2 = 0, m4 = 0, m6 = 0;
    for (std::size_t q = 0; q < gh.x.size(); ++q) {
      const double w = std::exp(gh.lw[q]), x = gh.x[q];
      m0 += w; m2 += w * x * x; m4 += w * std::pow(x, 4); m6 += w * std::pow(x, 6);
    }
    CHECK_NEAR(m0, 1.0, 1e-13);
    CHECK_NEAR(m2, 1.0, 1e-13);
    CHECK_NEAR(m4, 3.0, 1e-12);
    CHECK_NEAR(m6, 15.0, 1e-11);
  }
  // one Poisson study, y = 3, offset log(t) = log(2), beta = 0.1, tau = 0.8:
  // log int dpois(3, exp(log 2 + 0.1 + 0.8 u)) phi(u) du by a trapezoid rule
  {
    glmm::Data d;
    d.fam = glmm::Poisson;
    d.k = 1;
    d.start = {0, 1};
    d.y = Eigen::VectorXd::Constant(1, 3.0);
    d.n = Eigen::VectorXd::Ones(1);
    d.off = Eigen::VectorXd::Constant(1, std::log(2.0));
    d.z = Eigen::VectorXd::Ones(1);
    d.lconst = Eigen::VectorXd::Constant(1, -std::lgamma(4.0));
    d.X = Eigen::MatrixXd::Ones(1, 1);
    double ref = 0;
    const double h = 1e-3;
    for (double u = -12; u <= 12; u += h) {
      const double mu = std::exp(std::log(2.0) + 0.1 + 0.8 * u);
      ref += h * std::exp(3 * std::log(mu) - mu - std::lgamma(4.0) - 0.5 * u * u) / std::sqrt(2 * M_PI);
    }
    Eigen::VectorXd th(2);
    th << 0.1, 0.8;
    CHECK_NEAR(glmm::loglik(d, 25, th, true), std::log(ref), 1e-10);
    // Laplace (nAGQ = 1) is close but not equal
    CHECK(std::fabs(glmm::loglik(d, 1, th, true) - std::log(ref)) > 1e-6);
    CHECK(std::fabs(glmm::loglik(d, 1, th, true) - std::log(ref)) < 1e-1);
  }
  // binomial at tau = 0: the binomial log-likelihood; the fitted logit of one
  // study is log(y / (n - y))
  {
    glmm::Data d;
    d.fam = glmm::Binomial;
    d.k = 2;
    d.start = {0, 1, 2};
    d.y = Eigen::Vector2d(4, 10);
    d.n = Eigen::Vector2d(20, 30);
    d.off = Eigen::Vector2d(0, 0);
    d.z = Eigen::Vector2d(1, 1);
    d.lconst = Eigen::Vector2d(std::lgamma(21.0) - std::lgamma(5.0) - std::lgamma(17.0),
                               std::lgamma(31.0) - std::lgamma(11.0) - std::lgamma(21.0));
    d.X = Eigen::MatrixXd::Ones(2, 1);
    Eigen::VectorXd th(1);
    th << -0.5;
    const double p = 1 / (1 + std::exp(0.5));
    const double ll = d.lconst.sum() + 14 * std::log(p) + 36 * std::log(1 - p);
    CHECK_NEAR(glmm::loglik(d, 7, th, false), ll, 1e-12);
    Eigen::VectorXd th0 = Eigen::VectorXd::Zero(1);
    const glmm::FitResult r = glmm::fit(d, 7, th0, false, 100, 1e-10);
    CHECK(r.converged);
    CHECK_NEAR(r.theta(0), std::log(14.0 / 36.0), 1e-8);
    // information: sum n p (1 - p) at the estimate
    const double ph = 14.0 / 50.0;
    CHECK_NEAR(-r.hessian(0, 0), 50 * ph * (1 - ph), 1e-5);
  }
  return metafast_test::report("test_glmm");
}
