// Stand-alone tests of the R-free core (no R headers): the O(k p^2) trace
// identities against brute-force k-by-k algebra, estimator fixed points,
// Brent's root finder, the counter-based streams and parallel_for.
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/fit.hpp"
#include "core/parallel.hpp"
#include "core/qprofile.hpp"
#include "core/leverage.hpp"
#include "core/rng.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;

// Brute force: P = W - W X (X'WX)^-1 X'W as a k-by-k matrix.
static Mat brute_P(const Mat& X, const Vec& w) {
  const Mat W = w.asDiagonal();
  const Mat A = X.transpose() * W * X;
  return W - W * X * A.inverse() * X.transpose() * W;
}

static void test_traces() {
  for (int p : {1, 2, 4}) {
    Problem pr = random_problem(25, p, 11 + p);
    Vec w = inv_var_weights(pr.v, 0.07);
    Wls f(pr.X, pr.y, w);
    const Mat P = brute_P(pr.X, w);
    const Mat D = pr.v.asDiagonal();
    CHECK_NEAR(f.rss, pr.y.dot(P * pr.y), 1e-12);
    CHECK_NEAR(f.yPPy(), pr.y.dot(P * P * pr.y), 1e-12);
    CHECK_NEAR(f.tr_P(pr.X), P.trace(), 1e-12);
    CHECK_NEAR(f.tr_PP(pr.X), (P * P).trace(), 1e-12);
    CHECK_NEAR(f.tr_PD(pr.X, pr.v), (P * D).trace(), 1e-12);
    CHECK_NEAR(f.tr_PDPD(pr.X, pr.v), (P * D * P * D).trace(), 1e-12);
    CHECK_NEAR(f.tr_PDPE(pr.X, Vec::Ones(25), pr.v), (P * P * D).trace(), 1e-12);
    const Vec h = f.hat(pr.X);
    const Mat W = w.asDiagonal();
    const Mat H = W.cwiseSqrt() * pr.X * f.Ainv * pr.X.transpose() * W.cwiseSqrt();
    for (int i = 0; i < 25; ++i) CHECK_NEAR(h(i), H(i, i), 1e-12);
  }
  // the fused random-effects pass (p = 1, 2 scalar paths; p > 2 blocked
  // cross-products, with k spanning several row blocks and a partial one)
  for (int p : {1, 2, 3, 6}) {
    for (int k : {25, 200}) {
      Problem pr = random_problem(k, p, 31 + p + k);
      const double tau2 = 0.07;
      const Vec w = inv_var_weights(pr.v, tau2);
      const Mat P = brute_P(pr.X, w);
      Wls f;
      double trP = 0, trPP = 0;
      f.compute_re_traces(pr.X, pr.y, pr.v, tau2, trP, trPP);
      CHECK(f.ok);
      CHECK_NEAR(trP, P.trace(), 1e-12);
      CHECK_NEAR(trPP, (P * P).trace(), 1e-12);
      CHECK_NEAR(f.rss, pr.y.dot(P * pr.y), 1e-12);
      CHECK_NEAR(f.yPPy(), pr.y.dot(P * P * pr.y), 1e-12);
      const Vec beta = (pr.X.transpose() * w.asDiagonal() * pr.X).ldlt().solve(pr.X.transpose() * w.asDiagonal() * pr.y);
      for (int j = 0; j < p; ++j) CHECK_NEAR(f.beta(j), beta(j), 1e-12);
      // the same fit reached through compute_re() and through solve()
      Wls g, h;
      g.compute_re(pr.X, pr.y, pr.v, tau2);
      h.compute(pr.X, pr.y, w);
      CHECK_NEAR(g.rss, f.rss, 1e-13);
      CHECK_NEAR(h.rss, f.rss, 1e-13);
      for (int j = 0; j < p; ++j) CHECK_NEAR(h.Ainv(j, j), f.Ainv(j, j), 1e-12);
    }
  }
}

// The iterative estimators stop at a root of their estimating equation.
static void test_fixed_points() {
  Problem pr = random_problem(40, 2, 5);
  const Vec yc = centred(pr.y);
  Control ctl;
  for (Method m : {Method::ML, Method::REML, Method::EB, Method::PM}) {
    Tau2Estimate e = estimate_tau2(m, pr.X, yc, pr.v, ctl);
    CHECK(e.conv.converged);
    CHECK(e.tau2 > 0);
    Wls f(pr.X, yc, inv_var_weights(pr.v, e.tau2));
    double eq = 0;
    switch (m) {
      case Method::ML: eq = f.yPPy() - f.w.sum(); break;
      case Method::REML: eq = f.yPPy() - f.tr_P(pr.X); break;
      case Method::EB: eq = f.rss * 40.0 / 38.0 - 40.0; break;
      default: eq = f.rss - 38.0; break;
    }
    CHECK_NEAR(eq / 40.0, 0.0, 1e-8);  // relative to k
  }
  // DL in closed form: (Q - (k-p)) / tr(P) with weights 1/v
  Wls f0(pr.X, yc, pr.v.cwiseInverse());
  const double dl = std::max(0.0, (f0.rss - 38.0) / f0.tr_P(pr.X));
  CHECK_NEAR(estimate_tau2(Method::DL, pr.X, yc, pr.v, ctl).tau2, dl, 1e-14);
}

// A fallback: with maxiter = 1 Fisher scoring stops early and the bracketed
// root-finder must reach the same REML estimate.
static void test_fallback() {
  Problem pr = random_problem(30, 1, 8);
  const Vec yc = centred(pr.y);
  Control tight;
  Control capped;
  capped.maxiter = 1;
  Tau2Estimate a = estimate_tau2(Method::REML, pr.X, yc, pr.v, tight);
  Tau2Estimate b = estimate_tau2(Method::REML, pr.X, yc, pr.v, capped);
  CHECK(b.conv.solver == 2);
  CHECK(b.conv.converged);
  CHECK_NEAR(b.tau2, a.tau2, 1e-8);
}

static void test_brent() {
  auto f = [](double x) { return std::cos(x) - x; };
  RootResult r = brent_root(f, 0.0, 1.0, f(0.0), f(1.0), 1e-14, 100);
  CHECK(r.converged);
  CHECK_NEAR(r.root, 0.7390851332151607, 1e-13);
  auto g = [](double x) { return 1e3 / (1 + x) - 1; };  // decreasing, root 999
  RootResult s = root_decreasing(g, 0.0, 1.0, 1e9, 1e-12, 200);
  CHECK_NEAR(s.root, 999.0, 1e-12);
}

static void test_streams_and_threads() {
  // the same (seed, replicate) gives the same draws; different replicates differ
  Stream a(42, 7), b(42, 7), c(42, 8);
  bool same = true, differ = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next(), y = b.next(), z = c.next();
    same = same && x == y;
    differ = differ || x != z;
  }
  CHECK(same);
  CHECK(differ);
  // uniform mean and below() range
  Stream s(1, 0);
  double mean = 0;
  for (int i = 0; i < 100000; ++i) mean += s.uniform();
  CHECK_NEAR(mean / 100000, 0.5, 0.01);
  for (int i = 0; i < 1000; ++i) CHECK(s.below(7) < 7);
  // parallel_for: results independent of the thread count
  const std::size_t n = 5000;
  std::vector<double> r1(n), r4(n);
  auto fill = [](std::vector<double>& out) {
    return [&out](std::size_t i) { Stream st(99, i); out[i] = st.normal(); };
  };
  auto no_poll = [](std::size_t) { return true; };
  CHECK(parallel_for(0, n, 1, 16, fill(r1), no_poll));
  CHECK(parallel_for(0, n, 4, 16, fill(r4), no_poll));
  CHECK(r1 == r4);
  // a poll that asks to stop ends the loop early and reports it
  std::vector<double> r2(n, 0.0);
  int polls = 0;
  auto stop_now = [&](std::size_t) { ++polls; return false; };
  auto slow = [&](std::size_t i) {
    volatile double x = 0;
    for (int j = 0; j < 20000; ++j) x = x + std::sqrt(static_cast<double>(j + i));
    r2[i] = 1.0;
  };
  const bool finished = parallel_for(0, n, 2, 1, slow, stop_now, 0);
  CHECK(!finished);
  CHECK(polls >= 1);
}

// The rank check shared by bootstrap and case deletion: an empty subset
// (a jackknife of k = 1) once read an empty column and crashed.
static void test_rank() {
  CHECK(!full_column_rank(Mat(0, 1)));
  CHECK(!full_column_rank(Mat(0, 2)));
  CHECK(full_column_rank(Mat::Ones(1, 1)));
  Mat X(3, 2);
  X << 1, 1, 1, 1, 1, 1;  // two equal columns
  CHECK(!full_column_rank(X));
  X(2, 1) = 2;
  CHECK(full_column_rank(X));
  CHECK(!full_column_rank(Mat::Ones(1, 2)));
}

// The rescaling of extreme magnitudes: a power of two near sqrt(median vi)
// (R's median: the mean of the two middle values for even k), and results
// equal to the unscaled fit's after mapping back.
static void test_scaling() {
  Vec v(4);
  v << 1e-3, 1e2, 5.0, 0.5;
  CHECK(scale_of(v) == 1.0);  // all within [1e-4, 1e4]
  v << 4e-12, 1e-12, 2e-12, 3e-12;  // median 2.5e-12
  CHECK(scale_of(v) == std::exp2(std::round(std::log2(2.5e-12) / 2)));
  Vec w(3);
  w << 9e8, 1e9, 4e12;  // median 1e9
  CHECK(scale_of(w) == std::exp2(std::round(std::log2(1e9) / 2)));
  Problem pr = random_problem(30, 2, 77);
  Control ctl;
  FitWorkspace ws;
  FitResult a, b;
  fit_model_into(pr, Method::REML, ctl, Test::Z, Detail::Full, ws, a);
  const double s = 0.25;  // a power of two: the mapping back is exact up to the solver's path
  fit_model_scaled(pr, Method::REML, ctl, Test::Z, Detail::Full, s, ws, b);
  CHECK_NEAR(b.tau2, a.tau2, 1e-9);
  CHECK_NEAR(b.beta(1), a.beta(1), 1e-9);
  CHECK_NEAR(b.vb(1, 1), a.vb(1, 1), 1e-9);
  CHECK_NEAR(b.ll_reml, a.ll_reml, 1e-9);
  CHECK_NEAR(b.ll_ml, a.ll_ml, 1e-9);
  CHECK_NEAR(b.QE, a.QE, 1e-9);
  // the scale of y too (issue 18): ordinary spreads keep scale_of(v); a
  // spread of 1e150 with v near 1, or v near 1e-300 with y near 1, gives a
  // power of two that keeps v / s^2 normal and y / v below 2^1000
  Vec y(4), vv(4);
  y << 0.1, -0.5, 0.3, 0.9;
  vv << 1e-3, 1e2, 5.0, 0.5;
  CHECK(scale_of(y, vv) == scale_of(vv));
  Vec yb = y * 1e150;
  const double sb = scale_of(yb, vv);
  CHECK(sb > 1e140 && std::log2(sb) == std::round(std::log2(sb)));
  CHECK(vv.minCoeff() / (sb * sb) >= 0x1p-1020);
  CHECK((yb / sb).cwiseAbs().maxCoeff() / (vv.minCoeff() / (sb * sb)) < 0x1p1000);
  Vec vt = vv * 1e-300;
  const double st = scale_of(y, vt);
  CHECK(std::log2(st) == std::round(std::log2(st)) && st <= 1.0 && st > 1e-3);
  CHECK((y / st).cwiseAbs().maxCoeff() / (vt.minCoeff() / (st * st)) < 0x1p1000);
}

// User weights of any magnitude: the fit and the leverages with weights c a
// (c = 1e-200, 1e200) equal those with a (weight_scale(), an exact power of two).
static void test_weight_scale() {
  Vec a(3);
  a << 1.0, 3.0, 0.5;
  CHECK(weight_scale(a) == 1.0);
  a *= 1e-200;
  CHECK(weight_scale(a) * a.maxCoeff() >= 1.0 && weight_scale(a) * a.maxCoeff() < 2.0);
  CHECK(std::log2(weight_scale(a)) == std::round(std::log2(weight_scale(a))));
  Problem pr = random_problem(25, 3, 91);
  Stream st(5, 0);
  pr.weights = Vec(25);
  for (int i = 0; i < 25; ++i) pr.weights(i) = 0.2 + st.uniform();
  Control ctl;
  FitWorkspace ws;
  for (Method m : {Method::DL, Method::GENQ, Method::REML}) {
    FitResult ref;
    fit_model_scaled(pr, m, ctl, Test::KNHA, Detail::Full, 1.0, ws, ref);
    const LeverageResult lr = leverage_values(pr.X, pr.y, pr.v, ref.tau2, pr.weights);
    for (double c : {1e-200, 1e200, 1e-300, 1e300}) {
      Problem q = pr;
      q.weights = pr.weights * c;
      FitResult f;
      fit_model_scaled(q, m, ctl, Test::KNHA, Detail::Full, 1.0, ws, f);
      CHECK_NEAR(f.tau2, ref.tau2, 1e-12);
      for (int j = 0; j < 3; ++j) {
        CHECK_NEAR(f.beta(j), ref.beta(j), 1e-12);
        CHECK_NEAR(f.vb(j, j), ref.vb(j, j), 1e-12);
      }
      const LeverageResult lq = leverage_values(q.X, q.y, q.v, ref.tau2, q.weights);
      CHECK_NEAR(lq.hat(4), lr.hat(4), 1e-12);
      CHECK_NEAR(lq.var_resid(7), lr.var_resid(7), 1e-12);
    }
  }
}

// control.tau2_min: the lower bound of every estimator (metafor's tau2.min):
// an estimate above it is unchanged, one below it is the bound.
static void test_tau2_min() {
  Problem pr = random_problem(40, 2, 123);
  pr.weights = (pr.v.array() + 0.1).inverse().matrix();
  Vec yc = centred(pr.y);
  const VecRef a = pr.weights;
  for (Method m : {Method::DL, Method::HE, Method::SJ, Method::ML, Method::REML, Method::EB, Method::PM,
                   Method::GENQ, Method::DLIT, Method::SJIT}) {
    Control c0;
    const Tau2Estimate e0 = estimate_tau2(m, pr.X, yc, pr.v, c0, nullptr, nullptr, &a);
    for (double f : {0.5, 2.0}) {
      Control c = c0;
      c.tau2_min = f * e0.tau2 + 1e-3;
      const Tau2Estimate e = estimate_tau2(m, pr.X, yc, pr.v, c, nullptr, nullptr, &a);
      CHECK(e.tau2 >= c.tau2_min);
      CHECK_NEAR(e.tau2, std::max(c.tau2_min, e0.tau2), 1e-8);
    }
  }
}

// Ill-conditioned designs (offsets, extreme column scales, near collinearity):
// fit_model_scaled() and the block fit on X equal the fit on a well-conditioned
// Z with X = Z M, mapped back (beta_X = M^-1 beta_Z, vb_X = M^-1 vb_Z M^-T).
static void test_design_transform() {
  Problem pz = random_problem(30, 3, 4242);  // Z = [1, z1, z2]
  CHECK(!design_ill_conditioned(pz.X));
  Control ctl;
  FitWorkspace ws;
  struct Case { double a01, a11, a12, a22; };  // M = [[1, a01, 0], [0, a11, a12], [0, 0, a22]]
  // (the offset and collinear cases lose ~1e-10 when X = Z M is rounded: tolerance 1e-6; the
  // variances of coefficients scaled beyond ~1e150 are outside double precision)
  for (const Case& c : {Case{1e6, 1, 0, 1}, Case{0, 1e-120, 0, 1}, Case{0, 1e120, 0, 1e-100},
                        Case{0, 1, 1, 1e-6}, Case{-1e5, 1, 0, 1}}) {
    Mat M = Mat::Identity(3, 3);
    M(0, 1) = c.a01; M(1, 1) = c.a11; M(1, 2) = c.a12; M(2, 2) = c.a22;
    Problem px = pz;
    px.X = pz.X * M;
    CHECK(design_ill_conditioned(px.X));
    CHECK(full_column_rank(px.X));
    const Mat Minv = M.inverse();
    for (Method m : {Method::DL, Method::REML, Method::PM}) {
      FitResult fz, fx;
      fit_model_scaled(pz, m, ctl, Test::Z, Detail::Full, 1.0, ws, fz);
      fit_model_scaled(px, m, ctl, Test::Z, Detail::Full, 1.0, ws, fx);
      CHECK_NEAR(fx.tau2, fz.tau2, 1e-6);
      CHECK_NEAR(fx.QE, fz.QE, 1e-6);
      CHECK_NEAR(fx.ll_reml, fz.ll_reml, 1e-6);  // (log det X'X and log det X'WX: the same 2 log|det M|)
      const Vec b = Minv * fz.beta;
      const Mat vb = Minv * fz.vb * Minv.transpose();
      for (int j = 0; j < 3; ++j) {
        CHECK(std::fabs(fx.beta(j) - b(j)) <= 1e-6 * (std::fabs(b(j)) + std::sqrt(vb(j, j))));
        CHECK(std::fabs(fx.vb(j, j) / vb(j, j) - 1) <= 1e-6);
      }
    }
    // the Wald statistics of X's coefficients, in Z's coordinates: the rows of
    // Minv that they test (beta_X[j] = Minv(j, :) beta_Z); wald_qm_fit() must be
    // exact where wald_qm() on the mapped-back beta and vb loses cond(X)^2 eps
    // (issue 18: QM off by 1e-3 at a collinearity of 1e-5)
    for (Method m : {Method::DL, Method::REML}) {
      FitResult fz, fx;
      fit_model_scaled(pz, m, ctl, Test::Z, Detail::Full, 1.0, ws, fz);
      fit_model_scaled(px, m, ctl, Test::Z, Detail::Full, 1.0, ws, fx);
      for (const std::vector<int>& rows : {std::vector<int>{1, 2}, std::vector<int>{1}, std::vector<int>{2},
                                           std::vector<int>{0, 2}, std::vector<int>{0, 1, 2}}) {
        const int q = static_cast<int>(rows.size());
        Mat C(q, 3);
        Eigen::VectorXi idx(q);
        for (int i = 0; i < q; ++i) { C.row(i) = Minv.row(rows[i]); idx(i) = rows[i]; }
        // (the statistic depends on the row space of C only: an orthonormal basis of it)
        const Mat U = Eigen::HouseholderQR<Mat>(C.transpose()).householderQ() * Mat::Identity(3, q);
        const Vec cb = U.transpose() * fz.beta;
        const Mat cv = U.transpose() * fz.vb * U;
        const double ref = cb.dot(cv.ldlt().solve(cb));
        CHECK(std::fabs(wald_qm_fit(fx, idx) / ref - 1) <= 1e-7);
      }
      // general hypotheses L beta_X = 0 (anova(X =), robust()): the basis
      // U of the tested directions from null(L D); reference (L Minv) beta_Z
      Mat L(2, 3);
      L << 0, 1, -1, 1, 40, 0;
      const Mat U = wald_basis(fx.RPt, null_basis_of(L, fx.D_t));
      const Vec ub = U.transpose() * fx.beta_t;
      const double qx = ub.dot((U.transpose() * fx.vb_t * U).ldlt().solve(ub));
      // (reference: an orthonormal basis of the row space of L Minv; only for
      // the offset and collinear cases, where L Minv has no entries of 1e120)
      if (c.a11 == 1) {
        const Mat W = Eigen::HouseholderQR<Mat>((L * Minv).transpose()).householderQ() * Mat::Identity(3, 2);
        const Vec lb = W.transpose() * fz.beta;
        const double qz = lb.dot((W.transpose() * fz.vb * W).ldlt().solve(lb));
        CHECK(std::fabs(qx / qz - 1) <= 1e-7);
      }
      // a selection L gives the exact unit vectors (the btt path)
      Mat S = Mat::Zero(1, 3);
      S(0, 2) = 1;
      const Mat K = null_basis_of(S, fx.D_t);
      CHECK(K.cols() == 2 && K(0, 0) == 1 && K(1, 1) == 1 && K(2, 0) == 0 && K(2, 1) == 0);
      // lean fits (permutation refits) keep the coordinates too
      FitResult fl;
      fit_model_scaled(px, m, ctl, Test::Z, Detail::Lean, 1.0, ws, fl);
      CHECK(fl.RPt.size() == 9 && fl.beta_t.size() == 3);
    }
    const LeverageResult lz = leverage_values(pz.X, pz.y, pz.v, 0.1, Vec());
    const LeverageResult lx = leverage_values(px.X, px.y, px.v, 0.1, Vec());
    CHECK_NEAR(lx.hat(3), lz.hat(3), 1e-6);
    CHECK_NEAR(lx.var_resid(5), lz.var_resid(5), 1e-6);
  }
  // a 1e-200 column beside the intercept is not rank-deficient; an exact copy is
  Mat X = Mat::Ones(5, 2);
  for (int i = 0; i < 5; ++i) X(i, 1) = (i + 1) * 1e-200;
  CHECK(full_column_rank(X));
  X.col(1).setConstant(3e-200);
  CHECK(!full_column_rank(X));
}

#include "core/tests/test_numerics.hpp"


int main() {
  test_numerics();
  test_rank();
  test_scaling();
  test_weight_scale();
  test_tau2_min();
  test_design_transform();
  test_traces();
  test_fixed_points();
  test_fallback();
  test_brent();
  test_streams_and_threads();
  return metafast_test::report("core");
}
