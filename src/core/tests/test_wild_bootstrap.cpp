// Stand-alone tests of the cluster wild bootstrap kernel
// (core/wild_bootstrap.hpp): the auxiliary weights, the cluster layout, the
// CR0 Wald statistic against a direct computation, the residual
// adjustments, the working covariance of a two-level model, replicates with
// given weights against a direct refit, identical results for 1 and 2
// threads, and a model with user weights (W_j = diag(w), not Theta_j^-1).  Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

#include "core/wild_bootstrap.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;

static bool no_poll(std::size_t) { return true; }

static void test_draws() {
  Stream s(7, 3);
  std::set<double> seen;
  double m = 0, v = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double w = cwb_aux_draw(s, CwbDist::Rademacher);
    seen.insert(w);
  }
  CHECK(seen.size() == 2 && seen.count(1.0) && seen.count(-1.0));
  const CwbDist ds[] = {CwbDist::Mammen, CwbDist::Webb, CwbDist::Uniform, CwbDist::Normal};
  for (CwbDist d : ds) {
    m = v = 0;
    std::set<double> vals;
    for (int i = 0; i < n; ++i) {
      const double w = cwb_aux_draw(s, d);
      m += w;
      v += w * w;
      if (vals.size() < 10) vals.insert(w);
    }
    m /= n;
    v /= n;
    CHECK(std::fabs(m) < 0.015);
    CHECK(std::fabs(v - 1.0) < 0.02);
    if (d == CwbDist::Mammen) CHECK(vals.size() == 2);
    if (d == CwbDist::Webb) CHECK(vals.size() == 6);
  }
}

static void test_layout() {
  const std::vector<int> cl = {2, 0, 2, 1, 0};
  const CwbLayout lay = cwb_layout(cl, 3);
  CHECK(lay.off == std::vector<int>({0, 2, 3, 5}));
  CHECK(lay.row == std::vector<int>({1, 4, 3, 0, 2}));
}

// The CR0 sandwich and Wald statistic of C b = 0 for the univariate model,
// computed directly: W = diag(1/(v + tau2)), B = (X'WX)^-1,
// V = B sum_j (X_j' W_j e_j)(...)' B.
static double direct_cr0(const Problem& pr, const std::vector<int>& cl, int J, const Vec& b, double tau2,
                         const Mat& C) {
  const int k = pr.k(), p = pr.p();
  Mat XWX = Mat::Zero(p, p);
  std::vector<Vec> u(J, Vec::Zero(p));
  for (int i = 0; i < k; ++i) {
    const double w = 1.0 / (pr.v(i) + tau2);
    XWX += w * pr.X.row(i).transpose() * pr.X.row(i);
    u[cl[i]] += w * pr.X.row(i).transpose() * (pr.y(i) - pr.X.row(i).dot(b));
  }
  const Mat B = XWX.inverse();
  Mat meat = Mat::Zero(p, p);
  for (int j = 0; j < J; ++j) meat += u[j] * u[j].transpose();
  const Mat V = B * meat * B;
  const Vec Cb = C * b;
  return Cb.dot((C * V * C.transpose()).inverse() * Cb) / C.rows();
}

static void test_uni() {
  Problem pr = random_problem(24, 3, 11);
  std::vector<int> cl(24);
  for (int i = 0; i < 24; ++i) cl[i] = (i * 7) % 6;
  const CwbLayout lay = cwb_layout(cl, 6);
  RefitPlan pl;
  pl.method = Method::REML;
  pl.ctl.threshold = 1e-12;
  pl.detail = Detail::Lean;
  pl.check_rank = false;
  const ProblemView pv(pr);
  const CwbUniModel full(pv, pl);
  Mat C = Mat::Zero(2, 3);
  C(0, 1) = 1;
  C(1, 2) = 1;
  Vec beta, theta;
  CHECK(full.fit(pr.y, beta, theta, OptimPoll()));
  const double obs = cwb_refit_stat(full, lay, pr.y, C, SandwichType::CR0, CwbTest::NaiveF, OptimPoll());
  CHECK_NEAR(obs, direct_cr0(pr, cl, 6, beta, theta(0), C), 1e-10);
  // chi-sq and Naive-F: the same Fstat; HTZ with q = 1 too (delta = 1)
  CHECK_NEAR(cwb_refit_stat(full, lay, pr.y, C, SandwichType::CR0, CwbTest::ChiSq, OptimPoll()), obs, 1e-14);
  const Mat C1 = C.topRows(1);
  CHECK_NEAR(cwb_refit_stat(full, lay, pr.y, C1, SandwichType::CR2, CwbTest::HTZ, OptimPoll()),
             cwb_refit_stat(full, lay, pr.y, C1, SandwichType::CR2, CwbTest::NaiveF, OptimPoll()), 1e-12);
  // the null model: intercept only
  Mat X0 = pr.X.leftCols(1);
  const ProblemView pv0(pr.y, pr.v, X0, pr.weights);
  const CwbUniModel null(pv0, pl);
  CwbNull n0, n1, n3;
  CHECK(cwb_null(null, lay, pr.y, SandwichType::CR0, n0, OptimPoll()));
  CHECK(cwb_null(null, lay, pr.y, SandwichType::CR1, n1, OptimPoll()));
  CHECK(cwb_null(null, lay, pr.y, SandwichType::CR3, n3, OptimPoll()));
  CHECK_NEAR((n0.fitted + n0.resid - pr.y).norm(), 0.0, 1e-12);
  CHECK_NEAR((n1.resid - std::sqrt(6.0 / 5.0) * n0.resid).norm(), 0.0, 1e-12);
  // CR3: (I - H_jj) e~_j = e_j
  {
    const double tau2 = n0.theta(0);
    double XWX = 0;
    for (int i = 0; i < 24; ++i) XWX += 1.0 / (pr.v(i) + tau2);
    const double B = 1.0 / XWX;
    for (int j = 0; j < 6; ++j) {
      for (int a = lay.off[j]; a < lay.off[j + 1]; ++a) {
        const int i = lay.row[a];
        double s = n3.resid(i);
        for (int c = lay.off[j]; c < lay.off[j + 1]; ++c) s -= B / (pr.v(lay.row[c]) + tau2) * n3.resid(lay.row[c]);
        CHECK_NEAR(s, n0.resid(i), 1e-10);
      }
    }
  }
  // replicates: given weights against a direct refit; threads
  CwbPlan plan;
  plan.C = C;
  plan.type = SandwichType::CR2;
  plan.test = CwbTest::HTZ;
  plan.seed = 99;
  const int R = 40;
  std::vector<double> s1(R), s2(R), sw(3);
  CHECK(cwb_run(full, lay, n1, plan, 0, R, 1, s1.data(), no_poll));
  CHECK(cwb_run(full, lay, n1, plan, 0, R, 2, s2.data(), no_poll));
  bool same = true;
  for (int r = 0; r < R; ++r) same = same && (s1[r] == s2[r]) && std::isfinite(s1[r]);
  CHECK(same);
  std::vector<double> s3(R - 10);
  CHECK(cwb_run(full, lay, n1, plan, 10, R, 2, s3.data(), no_poll));
  CHECK(s3[0] == s1[10] && s3[R - 11] == s1[R - 1]);
  std::vector<double> W(6 * 3);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 6; ++c) W[r * 6 + c] = ((c + r) % 3 == 0) ? -1.0 : 1.0;
  plan.weights = W.data();
  CHECK(cwb_run(full, lay, n1, plan, 0, 3, 2, sw.data(), no_poll));
  for (int r = 0; r < 3; ++r) {
    Vec ys(24);
    for (int i = 0; i < 24; ++i) ys(i) = n1.fitted(i) + W[r * 6 + cl[i]] * n1.resid(i);
    CHECK_NEAR(sw[r], cwb_refit_stat(full, lay, ys, C, SandwichType::CR2, CwbTest::HTZ, OptimPoll()), 1e-13);
  }
}

// User weights w (rma(weights = )): the CR0 statistic with W = diag(w),
// B = (X'WX)^-1, and the CR3 adjustment (I - X_j B X_j' W_j) e~_j = e_j; the
// weights enter every refit (the replicates equal direct refits).
static void test_uni_weights() {
  Problem pr = random_problem(24, 3, 13);
  pr.weights = Vec(24);
  for (int i = 0; i < 24; ++i) pr.weights(i) = 0.5 + (i % 5) * 0.4;
  std::vector<int> cl(24);
  for (int i = 0; i < 24; ++i) cl[i] = (i * 5) % 6;
  const CwbLayout lay = cwb_layout(cl, 6);
  RefitPlan pl;
  pl.method = Method::REML;
  pl.ctl.threshold = 1e-12;
  pl.detail = Detail::Lean;
  pl.check_rank = false;
  const ProblemView pv(pr);
  const CwbUniModel full(pv, pl);
  std::vector<Mat> Wb;
  CHECK(full.cluster_weights(lay, Wb) && Wb.size() == 6);
  Mat C = Mat::Zero(1, 3);
  C(0, 2) = 1;
  Vec beta, theta;
  CHECK(full.fit(pr.y, beta, theta, OptimPoll()));
  // the weighted estimate
  const Mat XW = pr.X.transpose() * pr.weights.asDiagonal();
  const Mat B = (XW * pr.X).inverse();
  CHECK_NEAR((beta - B * (XW * pr.y)).norm(), 0.0, 1e-10);
  // CR0 directly
  std::vector<Vec> u(6, Vec::Zero(3));
  for (int i = 0; i < 24; ++i) u[cl[i]] += pr.weights(i) * pr.X.row(i).transpose() * (pr.y(i) - pr.X.row(i).dot(beta));
  Mat meat = Mat::Zero(3, 3);
  for (int j = 0; j < 6; ++j) meat += u[j] * u[j].transpose();
  const Mat V = B * meat * B;
  const double cb = C.row(0).dot(beta);
  CHECK_NEAR(cwb_refit_stat(full, lay, pr.y, C, SandwichType::CR0, CwbTest::NaiveF, OptimPoll()),
             cb * cb / (C * V * C.transpose())(0, 0), 1e-10);
  // CR3 adjustment of the null model (intercept only) with W = diag(w)
  Mat X0 = pr.X.leftCols(1);
  const ProblemView pv0(pr.y, pr.v, X0, pr.weights);
  const CwbUniModel null(pv0, pl);
  CwbNull n0, n2, n3;
  CHECK(cwb_null(null, lay, pr.y, SandwichType::CR0, n0, OptimPoll()));
  CHECK(cwb_null(null, lay, pr.y, SandwichType::CR2, n2, OptimPoll()));
  CHECK(cwb_null(null, lay, pr.y, SandwichType::CR3, n3, OptimPoll()));
  const double B0 = 1.0 / pr.weights.sum();
  for (int j = 0; j < 6; ++j)
    for (int a = lay.off[j]; a < lay.off[j + 1]; ++a) {
      double s = n3.resid(lay.row[a]);
      for (int c = lay.off[j]; c < lay.off[j + 1]; ++c) s -= B0 * pr.weights(lay.row[c]) * n3.resid(lay.row[c]);
      CHECK_NEAR(s, n0.resid(lay.row[a]), 1e-10);
    }
  CHECK(n2.resid.allFinite() && (n2.resid - n0.resid).norm() > 1e-6);
  // replicates with given signs against direct refits
  CwbPlan plan;
  plan.C = C;
  plan.type = SandwichType::CR2;
  plan.test = CwbTest::HTZ;
  std::vector<double> W(6 * 2), sw(2);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 6; ++c) W[r * 6 + c] = ((c + r) % 2 == 0) ? -1.0 : 1.0;
  plan.weights = W.data();
  CHECK(cwb_run(full, lay, n2, plan, 0, 2, 2, sw.data(), no_poll));
  for (int r = 0; r < 2; ++r) {
    Vec ys(24);
    for (int i = 0; i < 24; ++i) ys(i) = n2.fitted(i) + W[r * 6 + cl[i]] * n2.resid(i);
    CHECK_NEAR(sw[r], cwb_refit_stat(full, lay, ys, C, SandwichType::CR2, CwbTest::HTZ, OptimPoll()), 1e-13);
  }
}

// A two-level model (blocks of rows sharing sigma2_1, rows sigma2_2 through
// the diagonal): the cluster blocks equal diag(v) + sigma2_1 J + sigma2_2 I.
static void test_mv() {
  Problem pr = random_problem(20, 2, 5);
  pr.offsets.resize(6);
  pr.offsets << 0, 4, 8, 12, 16, 20;
  Eigen::MatrixXi groups(20, 1);
  for (int i = 0; i < 20; ++i) groups(i, 0) = i;
  Vec fixed = Vec::Constant(2, std::nan(""));
  const NestedLevels st(groups, fixed);
  const ProblemView pv(pr);
  Control ctl;
  ctl.threshold = 1e-12;
  const CwbMvModel m(pv, st, true, ctl, Vec::Constant(2, 0.05));
  // clusters: blocks {0, 3}, {1}, {2, 4}
  std::vector<int> cl(20);
  const int cb[5] = {0, 1, 2, 0, 2};
  for (int b = 0; b < 5; ++b)
    for (int t = 0; t < 4; ++t) cl[b * 4 + t] = cb[b];
  const CwbLayout lay = cwb_layout(cl, 3);
  Vec th(2);
  th << 0.07, 0.02;
  std::vector<Mat> Th;
  m.cluster_cov(th, lay, Th);
  CHECK(Th.size() == 3 && Th[0].rows() == 8 && Th[1].rows() == 4);
  double err = 0;
  for (int j = 0; j < 3; ++j)
    for (int a = lay.off[j]; a < lay.off[j + 1]; ++a)
      for (int c = lay.off[j]; c < lay.off[j + 1]; ++c) {
        const int i = lay.row[a], h = lay.row[c];
        const double want = (i == h ? pr.v(i) + 0.02 : 0.0) + (i / 4 == h / 4 ? 0.07 : 0.0);
        err = std::max(err, std::fabs(Th[j](a - lay.off[j], c - lay.off[j]) - want));
      }
  CHECK(err < 1e-15);
  Vec beta, theta;
  CHECK(m.fit(pr.y, beta, theta, OptimPoll()));
  const BlockFitResult f = fit_block_model(pv, st, true, ctl);
  CHECK_NEAR((beta - f.beta).norm(), 0.0, 1e-8);
  Mat C = Mat::Zero(1, 2);
  C(0, 1) = 1;
  const double s = cwb_refit_stat(m, lay, pr.y, C, SandwichType::CR2, CwbTest::HTZ, OptimPoll());
  CHECK(std::isfinite(s) && s >= 0);
}

int main() {
  test_draws();
  test_layout();
  test_uni();
  test_uni_weights();
  test_mv();
  return metafast_test::report("test_wild_bootstrap");
}
