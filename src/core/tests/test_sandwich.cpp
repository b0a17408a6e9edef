// Stand-alone tests of the cluster-robust sandwich (core/sandwich.hpp):
// CR0, CR1, CR1p, CR1S, CR2 and CR3, the Satterthwaite df and the HTZ test's
// nu_Z on two tiny examples.  Example 1 is computed by hand below (the same
// values as clubSandwich's vcovCR() / coef_test() of lm(y ~ 1)); example 2
// (weighted, two coefficients, unequal clusters) has clubSandwich's values
// for the equal-effects fit metafor::rma(y, v, mods = ~ x, method = "EE")
// (vcovCR(type = ), coef_test(vcov = "CR2"), Wald_test(test = "HTZ"); the
// working covariance diag(v) is the target).  (For lm(y ~ x, weights = 1/v)
// clubSandwich takes the identity as target instead, which changes CR2.)
// Example 3 (weights other than Theta^-1): example 2's data with W = I
// (rma(weighted = FALSE)) and with user weights, against clubSandwich; the
// general formulas with W_j = Theta_j^-1 given explicitly against the
// inverse-variance path; and the block-wise Satterthwaite and HTZ sums
// against the dense k x k definitions (P(i,j) from (I - H) Theta (I - H)').
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdint>
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
  // CR3 where a cluster alone determines a coefficient (x = 1 only in a
  // singleton cluster): I - H_jj is singular, reported as such
  {
    SandwichData d1 = dt;
    d1.X.col(1) << 0, 0, 0, 0, 1, 0;
    d1.B = (d1.X.transpose() * v.cwiseInverse().asDiagonal() * d1.X).inverse();
    SandwichFit s3;
    sandwich_compute(d1, SandwichType::CR3, s3, NoPoll());
    CHECK(!s3.ok && s3.singular);
  }
  // a Theta block that is not positive definite is reported, not used
  SandwichData bad = dt;
  bad.Theta[0](1, 1) = -1.0;
  SandwichFit sb;
  sandwich_compute(bad, SandwichType::CR2, sb, NoPoll());
  CHECK(!sb.ok && !sb.singular);
}
// Example 2's data with weights w (no w: the inverse-variance path), target diag(v).
SandwichData make_weighted(const Eigen::VectorXd& w) {
  Eigen::MatrixXd X(6, 2);
  X.col(0).setOnes();
  X.col(1) << 0, 1, 1, 0, 1, 0;
  Eigen::VectorXd y(6), v(6);
  y << 0.2, 0.5, -0.1, 0.9, 0.4, 0.3;
  v << 1, 2, 1, 0.5, 1, 4;
  const std::vector<int> off = {0, 2, 4, 5, 6};
  SandwichData dt;
  dt.X = X;
  const Eigen::MatrixXd XtW = X.transpose() * w.asDiagonal();
  dt.B = (XtW * X).inverse();
  dt.e = y - X * (dt.B * (XtW * y));
  dt.off = off;
  for (std::size_t j = 0; j + 1 < off.size(); ++j) {
    const int n = off[j + 1] - off[j];
    dt.Theta.push_back(v.segment(off[j], n).asDiagonal().toDenseMatrix());
    dt.W.push_back(w.segment(off[j], n).asDiagonal().toDenseMatrix());
  }
  return dt;
}

// clubSandwich 0.7.0's vcovCR(), coef_test() and Wald_test(test = "HTZ") of
// metafor::rma(y, v, mods = ~ x, method = "EE", weighted = FALSE) and of the
// same fit with weights = c(1, 2, 1, 3, 1, 2), clusters c(1, 1, 2, 2, 3, 4).
void test_user_weights_clubsandwich() {
  struct Ref { SandwichType t; double v11, v12, v22; };
  struct Case { Eigen::VectorXd w; Ref refs[6]; double df0, df1, htz_df; };
  Eigen::VectorXd w1 = Eigen::VectorXd::Ones(6), w2(6);
  w2 << 1, 2, 1, 3, 1, 2;
  const Case cases[] = {
      {w1,
       {{SandwichType::CR0, 0.0318518518518519, -0.0564197530864198, 0.103950617283951},
        {SandwichType::CR1, 0.0424691358024692, -0.0752263374485597, 0.138600823045268},
        {SandwichType::CR1p, 0.0637037037037038, -0.11283950617284, 0.207901234567901},
        {SandwichType::CR1S, 0.0530864197530865, -0.0940329218106997, 0.173251028806584},
        {SandwichType::CR2, 0.0281279178338003, -0.0537225725695638, 0.111952147940248},
        {SandwichType::CR3, 0.0716666666666668, -0.126944444444445, 0.233888888888889}},
       1.24946385848343, 2.37995458551667, 1.03982839050993},
      {w2,
       {{SandwichType::CR0, 0.038070987654321, -0.0604841820987654, 0.10219425154321},
        {SandwichType::CR1, 0.0507613168724279, -0.0806455761316872, 0.136259002057613},
        {SandwichType::CR1p, 0.0761419753086419, -0.120968364197531, 0.20438850308642},
        {SandwichType::CR1S, 0.0634516460905349, -0.100806970164609, 0.170323752572016},
        {SandwichType::CR2, 0.0426991353505491, -0.0661067927946135, 0.1243616724609},
        {SandwichType::CR3, 0.126225, -0.184502777777778, 0.2941}},
       1.12805297978094, 2.19522976986075, 0.691091842519776}};
  for (const Case& cs : cases) {
    const SandwichData dt = make_weighted(cs.w);
    for (const Ref& r : cs.refs) {
      const Eigen::MatrixXd V = vcov_of(dt, r.t);
      CHECK_NEAR(V(0, 0), r.v11, 1e-12);
      CHECK_NEAR(V(0, 1), r.v12, 1e-12);
      CHECK_NEAR(V(1, 1), r.v22, 1e-12);
    }
    SandwichFit sf;
    sandwich_compute(dt, SandwichType::CR2, sf, NoPoll());
    const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(2, 2);
    const Eigen::VectorXd df = sandwich_satterthwaite(dt, sf, I, NoPoll());
    CHECK_NEAR(df(0), cs.df0, 1e-11);
    CHECK_NEAR(df(1), cs.df1, 1e-11);
    CHECK_NEAR(sandwich_htz_nu(dt, sf, I), cs.htz_df + 1.0, 1e-11);
  }
}

// A random problem with correlated blocks: J clusters of 1..4 rows, p = 3,
// Theta_j = v_j v_j' / n + diag(u) (positive definite), W_j symmetric
// positive definite and unrelated to Theta_j.
SandwichData random_blocks(int J, std::uint64_t seed, bool inverse) {
  Stream s(seed, 0);
  std::vector<int> off = {0};
  for (int j = 0; j < J; ++j) off.push_back(off.back() + 1 + static_cast<int>(4 * s.uniform()) % 4);
  const int N = off.back(), p = 3;
  SandwichData dt;
  dt.X = Eigen::MatrixXd::Ones(N, p);
  for (int i = 0; i < N; ++i)
    for (int c = 1; c < p; ++c) dt.X(i, c) = s.normal();
  Eigen::VectorXd y(N);
  for (int i = 0; i < N; ++i) y(i) = s.normal();
  dt.off = off;
  Eigen::MatrixXd XtWX = Eigen::MatrixXd::Zero(p, p);
  Eigen::VectorXd XtWy = Eigen::VectorXd::Zero(p);
  for (int j = 0; j < J; ++j) {
    const int n = off[j + 1] - off[j];
    Eigen::MatrixXd a(n, n), b(n, n);
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < n; ++c) {
        a(r, c) = s.normal();
        b(r, c) = s.normal();
      }
    Eigen::MatrixXd T = a * a.transpose() / n;
    T.diagonal().array() += 0.2;
    Eigen::MatrixXd Wj = b * b.transpose() / n;
    Wj.diagonal().array() += 0.5;
    if (inverse) Wj = T.inverse();
    dt.Theta.push_back(T);
    dt.W.push_back(Wj);
    const auto Xj = dt.X.middleRows(off[j], n);
    XtWX += Xj.transpose() * Wj * Xj;
    XtWy += Xj.transpose() * Wj * y.segment(off[j], n);
  }
  dt.B = XtWX.inverse();
  dt.e = y - dt.X * (dt.B * XtWy);
  return dt;
}

// The general formulas with W_j = Theta_j^-1 given reduce to the
// inverse-variance ones (W empty).
void test_general_reduces_to_inverse() {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    const SandwichData gen = random_blocks(7, seed, true);
    SandwichData inv = gen;
    inv.W.clear();
    const SandwichType types[] = {SandwichType::CR0, SandwichType::CR1, SandwichType::CR1S, SandwichType::CR2,
                                  SandwichType::CR3};
    for (SandwichType t : types) {
      const Eigen::MatrixXd a = vcov_of(gen, t), b = vcov_of(inv, t);
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) CHECK_NEAR(a(i, j), b(i, j), 1e-10);
    }
    SandwichFit sg, si;
    sandwich_compute(gen, SandwichType::CR2, sg, NoPoll());
    sandwich_compute(inv, SandwichType::CR2, si, NoPoll());
    Eigen::MatrixXd C(4, 3);
    C << 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, -1, 0.5;
    const Eigen::VectorXd dg = sandwich_satterthwaite(gen, sg, C, NoPoll());
    const Eigen::VectorXd di = sandwich_satterthwaite(inv, si, C, NoPoll());
    for (int i = 0; i < 4; ++i) CHECK_NEAR(dg(i), di(i), 1e-9);
    CHECK_NEAR(sandwich_htz_nu(gen, sg, C.topRows(3)), sandwich_htz_nu(inv, si, C.topRows(3)), 1e-9);
    CHECK_NEAR(sandwich_htz_nu(gen, sg, C.middleRows(1, 2)), sandwich_htz_nu(inv, si, C.middleRows(1, 2)), 1e-9);
  }
}

// The block-wise Satterthwaite df and HTZ nu_Z against their dense definitions:
// P_st(i,j) = c_is Var(e)_ij c_jt', Var(e) = (I - H) Theta (I - H)', c_j = C B E_j.
void test_dense_definitions() {
  for (int inverse = 0; inverse < 2; ++inverse) {
    SandwichData dt = random_blocks(6, 11 + inverse, inverse == 1);
    if (inverse) dt.W.clear();
    const int J = static_cast<int>(dt.off.size()) - 1, N = static_cast<int>(dt.X.rows()), p = 3;
    SandwichFit sf;
    sandwich_compute(dt, SandwichType::CR2, sf, NoPoll());
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(N, N), Wf = T;
    for (int j = 0; j < J; ++j) {
      const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
      T.block(i0, i0, n, n) = dt.Theta[j];
      Wf.block(i0, i0, n, n) = inverse ? Eigen::MatrixXd(dt.Theta[j].inverse()) : dt.W[j];
    }
    Eigen::MatrixXd IH = -dt.X * dt.B * dt.X.transpose() * Wf;
    IH.diagonal().array() += 1.0;
    const Eigen::MatrixXd Ve = IH * T * IH.transpose();
    Eigen::MatrixXd C(2, 3);
    C << 0, 1, 0, 1, 0, -1;
    const int q = 2;
    // c: q x N, the rows of C B E_j side by side
    Eigen::MatrixXd c(q, N);
    for (int j = 0; j < J; ++j) c.middleCols(dt.off[j], dt.off[j + 1] - dt.off[j]) = C * dt.B * sf.E[j];
    auto P = [&](int s, int t, int i, int j) {
      const int a0 = dt.off[i], na = dt.off[i + 1] - a0, b0 = dt.off[j], nb = dt.off[j + 1] - b0;
      return (c.row(s).segment(a0, na) * Ve.block(a0, b0, na, nb) * c.row(t).segment(b0, nb).transpose())(0, 0);
    };
    // Satterthwaite: (sum_i P(i,i))^2 / sum_ij P(i,j)^2 per row
    const Eigen::VectorXd df = sandwich_satterthwaite(dt, sf, C, NoPoll());
    for (int s = 0; s < q; ++s) {
      double E = 0, V = 0;
      for (int i = 0; i < J; ++i) {
        E += P(s, s, i, i);
        for (int j = 0; j < J; ++j) V += P(s, s, i, j) * P(s, s, i, j);
      }
      CHECK_NEAR(df(s), E * E / V, 1e-10);
    }
    // HTZ: Omega = sum_i P(i,i); B(i,j) = Omega^-1/2 P(i,j) Omega^-1/2
    Eigen::MatrixXd Om = Eigen::MatrixXd::Zero(q, q);
    for (int i = 0; i < J; ++i)
      for (int s = 0; s < q; ++s)
        for (int t = 0; t < q; ++t) Om(s, t) += P(s, t, i, i);
    const Eigen::MatrixXd On = sandwich_sym_power(Om, -0.5);
    double tot = 0;
    for (int i = 0; i < J; ++i)
      for (int j = 0; j < J; ++j) {
        Eigen::MatrixXd Pij(q, q);
        for (int s = 0; s < q; ++s)
          for (int t = 0; t < q; ++t) Pij(s, t) = P(s, t, i, j);
        const Eigen::MatrixXd Bij = On * Pij * On;
        for (int s = 0; s < q; ++s)
          for (int t = 0; t < q; ++t) tot += Bij(s, t) * Bij(t, s) + Bij(s, s) * Bij(t, t);
      }
    CHECK_NEAR(sandwich_htz_nu(dt, sf, C), q * (q + 1.0) / tot, 1e-10);
    (void)p;
  }
}
}  // namespace

int main() {
  test_hand_example();
  test_clubsandwich_example();
  test_user_weights_clubsandwich();
  test_general_reduces_to_inverse();
  test_dense_definitions();
  return metafast_test::report("sandwich");
}
