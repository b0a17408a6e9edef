// Stand-alone tests of the cluster-robust sandwich (core/sandwich.hpp):
// CR0, CR1, CR1p, CR1S, CR2 and CR3, the Satterthwaite df and the HTZ test's
// nu_Z on two tiny examples.  Example 1 is computed by hand below (the same
// values as clubSandwich's vcovCR() / coef_test() of lm(y ~ 1)); example 2
// (weighted, two coefficients, unequal clusters) has clubSandwich's values
// for the equal-effects fit metafor::rma(y, v, mods = ~ x, method = "EE")
// (vcovCR(type = ), coef_test(vcov = "CR2"), Wald_test(test = "HTZ"); the
// working covariance diag(v) is the target).  (For lm(y ~ x, weights = 1/v)
// clubSandwich takes the identity as target instead, which changes CR2.)
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/sandwich.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;

namespace {
struct NoPoll {
  bool operator()() const { return true; }
};

// Rows sorted by cluster; W = Theta^-1 diagonal (Theta_j = diag(v_j)); b the WLS estimate.
SandwichData make_data(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& v,
                       const std::vector<int>& off) {
  SandwichData dt;
  dt.X = X;
  const Eigen::VectorXd w = v.cwiseInverse();
  const Eigen::MatrixXd XtW = X.transpose() * w.asDiagonal();
  dt.B = (XtW * X).inverse();
  const Eigen::VectorXd b = dt.B * (XtW * y);
  dt.e = y - X * b;
  dt.off = off;
  for (std::size_t j = 0; j + 1 < off.size(); ++j) {
    const int n = off[j + 1] - off[j];
    dt.Theta.push_back(v.segment(off[j], n).asDiagonal().toDenseMatrix());
  }
  return dt;
}

Eigen::MatrixXd vcov_of(const SandwichData& dt, SandwichType t) {
  SandwichFit sf;
  sandwich_compute(dt, t, sf, NoPoll());
  CHECK(sf.ok);
  return sf.vcov;
}

// Example 1: y = (1, 3, 2, 6), intercept only, W = I, clusters {1,2}, {3}, {4}
// (J = 3, N = 4, p = 1).  b = 3, e = (-2, 0, -1, 3), B = 1/4.
//  CR0: cluster sums of e are -2, -1, 3: meat 14, V = 14/16 = 0.875;
//       CR1 = CR1p = CR1S = 0.875 * 3/2 (p = 1: J/(J-1) = J/(J-p) = J(N-1)/((J-1)(N-p))).
//  CR3: A_1 = (I - J2/4)^-1 = I + J2/2, so 1'A_1 e_1 = 2 * (-2) = -4; the singletons
//       are scaled by 1/(1 - 1/4) = 4/3: -4/3 and 4.  V = (16 + 16/9 + 16) / 16 = 19/9.
//  CR2: G_1 = I - J2/4 has eigenvalue 1/2 on the ones vector, so 1'G_1^-1/2 = sqrt(2) 1':
//       u_1^2 = 2 * 4 = 8; singletons: G = 3/4, u^2 = (4/3) e^2 = 4/3 and 12.
//       V = (8 + 4/3 + 12) / 16 = 4/3.
//  Satterthwaite (C = 1): D_1 = 1/4, D_2 = D_3 = 1/12; R_1^2 = 1/8, R_2^2 = R_3^2 = 1/48;
//       Omega = sum (D - R^2) = 1/4; sum_ij P_ij^2 = sum D^2 - 2 sum D R^2 + (sum R^2)^2
//       = 11/144 - 10/144 + 4/144 = 5/144; df = (1/16) / (5/144) = 9/5.
//       With q = 1 the HTZ nu_Z equals the Satterthwaite df.
void test_hand_example() {
  Eigen::MatrixXd X = Eigen::MatrixXd::Ones(4, 1);
  Eigen::VectorXd y(4), v = Eigen::VectorXd::Ones(4);
  y << 1, 3, 2, 6;
  const SandwichData dt = make_data(X, y, v, {0, 2, 3, 4});
  CHECK_NEAR(dt.e(0), -2.0, 1e-14);
  CHECK_NEAR(vcov_of(dt, SandwichType::CR0)(0, 0), 0.875, 1e-13);
  CHECK_NEAR(vcov_of(dt, SandwichType::CR1)(0, 0), 1.3125, 1e-13);
  CHECK_NEAR(vcov_of(dt, SandwichType::CR1p)(0, 0), 1.3125, 1e-13);
  CHECK_NEAR(vcov_of(dt, SandwichType::CR1S)(0, 0), 1.3125, 1e-13);
  CHECK_NEAR(vcov_of(dt, SandwichType::CR3)(0, 0), 19.0 / 9.0, 1e-13);
  CHECK_NEAR(vcov_of(dt, SandwichType::CR2)(0, 0), 4.0 / 3.0, 1e-13);
  SandwichFit sf;
  sandwich_compute(dt, SandwichType::CR2, sf, NoPoll());
  const Eigen::MatrixXd C = Eigen::MatrixXd::Ones(1, 1);
  CHECK_NEAR(sandwich_satterthwaite(dt, sf, C, NoPoll())(0), 1.8, 1e-12);
  CHECK_NEAR(sandwich_htz_nu(dt, sf, C), 1.8, 1e-12);
}

// Example 2: WLS with weights 1/v, X = [1, x], clusters {1,2}, {3,4}, {5}, {6}
// (J = 4, N = 6, p = 2); clubSandwich's values (see the head of this file).
void test_clubsandwich_example() {
  Eigen::MatrixXd X(6, 2);
  X.col(0).setOnes();
  X.col(1) << 0, 1, 1, 0, 1, 0;
  Eigen::VectorXd y(6), v(6);
  y << 0.2, 0.5, -0.1, 0.9, 0.4, 0.3;
  v << 1, 2, 1, 0.5, 1, 4;
  const SandwichData dt = make_data(X, y, v, {0, 2, 4, 5, 6});
  struct Ref { SandwichType t; double v11, v12, v22; };
  const Ref refs[] = {
      {SandwichType::CR0, 0.0447827457021813, -0.0729389587199328, 0.125799171737684},
      {SandwichType::CR1, 0.0597103276029084, -0.0972519449599103, 0.167732228983579},
      {SandwichType::CR1p, 0.0895654914043626, -0.145877917439866, 0.251598343475369},
      {SandwichType::CR1S, 0.0746379095036355, -0.121564931199888, 0.209665286229474},
      {SandwichType::CR2, 0.0943747534516765, -0.147411302520193, 0.240314518255375},
      {SandwichType::CR3, 0.213880604865221, -0.316793425378041, 0.484517357001973}};
  for (const Ref& r : refs) {
    const Eigen::MatrixXd V = vcov_of(dt, r.t);
    CHECK_NEAR(V(0, 0), r.v11, 1e-12);
    CHECK_NEAR(V(0, 1), r.v12, 1e-12);
    CHECK_NEAR(V(1, 0), r.v12, 1e-12);
    CHECK_NEAR(V(1, 1), r.v22, 1e-12);
  }
  SandwichFit sf;
  sandwich_compute(dt, SandwichType::CR2, sf, NoPoll());
  const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(2, 2);
  const Eigen::VectorXd df = sandwich_satterthwaite(dt, sf, I, NoPoll());
  CHECK_NEAR(df(0), 1.31067961165049, 1e-11);
  CHECK_NEAR(df(1), 1.94329432546155, 1e-11);
  // HTZ of both coefficients: clubSandwich's df_denom = nu_Z - q + 1 = 0.753408746205702
  CHECK_NEAR(sandwich_htz_nu(dt, sf, I), 0.753408746205702 + 1.0, 1e-11);
  // a Theta block that is not positive definite is reported, not used
  SandwichData bad = dt;
  bad.Theta[0](1, 1) = -1.0;
  SandwichFit sb;
  sandwich_compute(bad, SandwichType::CR2, sb, NoPoll());
  CHECK(!sb.ok);
}
}  // namespace

int main() {
  test_hand_example();
  test_clubsandwich_example();
  return metafast_test::report("sandwich");
}
