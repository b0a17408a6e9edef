// Stand-alone tests of the sparse objective of crossed random effects
// (sparse_objective.hpp): its ll, score and information equal the block
// objective's (objective.hpp) when the whole problem is one block, whose
// M = V + sum_l theta_l Z_l R_l Z_l' is then formed densely (itself checked
// against dense algebra in test_blocks.cpp); the score equals a central
// difference of ll; the fits agree.  Crossed designs, diagonal and dense V,
// ML and REML, components at 0 and fixed.
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/fit.hpp"
#include "core/rng.hpp"
#include "core/leverage.hpp"
#include "core/refit_crossed.hpp"
#include "core/sparse_objective.hpp"

#include "core/tests/harness.hpp"
#include "core/tests/crossed_problem.hpp"

using namespace metafast;

// Agreement of two exact evaluations of the same quantities: rounding only.
constexpr double tol_exact = 1e-10;
// Agreement of two solvers that each stop within the convergence threshold.
constexpr double tol_solver = 1e-6;

// Known correlation matrices of the levels (metafor's R): terms 0 and 1
// positive definite ones (term 1 close to singular: rank nlevels - 2 plus a
// small ridge); other terms none.  Empty when known is false.
static std::vector<Mat> known_R(const Crossed& c, bool known, std::uint64_t seed) {
  if (!known) return {};
  Stream s(seed, 0);
  const int L = static_cast<int>(c.nlevels.size());
  std::vector<Mat> R(L);
  for (int l = 0; l < 2 && l < L; ++l) {
    const int n = c.nlevels(l), r = l == 0 ? n : std::max(n - 2, 1);
    Mat B(n, r);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < r; ++j) B(i, j) = s.normal() + (j == 0 ? 1.0 : 0.0);
    Mat S = B * B.transpose();
    S.diagonal().array() += l == 0 ? 0.5 : 0.02;
    const Vec d = S.diagonal().cwiseSqrt().cwiseInverse();
    R[l] = d.asDiagonal() * S * d.asDiagonal();
  }
  return R;
}

// (a) sparse = block objective on one block; (b) the score = a central
// difference of ll; (c) the weighted residuals agree; each at positive
// components, one component at 0 and all at 0; q below and above one chunk.
static void test_objective(bool known) {
  struct Design { int k, n0, n1; bool three; };
  for (const Design d : {Design{40, 9, 5, false}, Design{150, 70, 8, false}, Design{60, 12, 4, true}})
    for (bool dense : {false, true})
      for (int p : {1, 3})
        for (bool reml : {false, true}) {
          const Crossed c = crossed_problem(d.k, p, d.n0, d.n1, d.three, dense, 1000 + d.k + 10 * p + dense);
          const int L = static_cast<int>(c.nlevels.size());
          const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(L, std::nan("")), known_R(c, known, d.k + p));
          SparseCrossedObjective sp(c.pr, st, reml);
          BlockObjective bl(c.one, st, reml);
          CHECK(sp.sampling_ok());
          CHECK(sp.n_groups() == c.nlevels.sum());
          std::vector<Vec> thetas;
          Vec t(L);
          for (int l = 0; l < L; ++l) t(l) = 0.04 + 0.03 * l;
          thetas.push_back(t);
          t(1) = 0;
          thetas.push_back(t);
          thetas.push_back(Vec::Zero(L));
          for (const Vec& th : thetas) {
            ObjectiveEval a, b;
            sp.evaluate(th, kObjAll, a);
            bl.evaluate(th, kObjAll, b);
            compare_evals(a, b, kObjAll, tol_exact);
            for (int i = 0; i < c.pr.k(); ++i) CHECK_NEAR(sp.weighted_resid()(i), bl.weighted_resid()(i), tol_exact);
            // the log-likelihood alone, and the score without the information
            ObjectiveEval a1, a2;
            sp.evaluate(th, kObjLL, a1);
            compare_evals(a1, b, kObjLL, tol_exact);
            sp.evaluate(th, kObjLL | kObjScore, a2);
            compare_evals(a2, b, kObjLL | kObjScore, tol_exact);
            // (b) central differences at interior points
            if (th.minCoeff() > 0) check_score_by_differences(sp, th, a.score, 1e-5, 1e-6);
          }
          // a negative component is refused
          Vec neg = thetas[0];
          neg(0) = -0.01;
          ObjectiveEval bad;
          CHECK(!sp.evaluate(neg, kObjAll, bad));
        }
}

// (d) the fits: sparse and block objectives reach the same estimate (free
// components, and with sigma2_2 fixed at 0 and at 0.02); the fixed value is
// kept; the score vanishes at an interior estimate.
static void test_fit(bool known) {
  for (bool dense : {false, true})
    for (bool reml : {false, true}) {
      const Crossed c = crossed_problem(120, 2, 30, 6, false, dense, 77 + dense);
      for (double fx : {std::nan(""), 0.0, 0.02}) {
        Vec fixed = Vec::Constant(2, std::nan(""));
        fixed(1) = fx;
        const CrossedTerms st(c.codes, c.nlevels, fixed, known_R(c, known, 5));
        Control ctl;
        ctl.threshold = 1e-10;
        const BlockFitResult fs = fit_crossed_model(c.pr, st, reml, ctl);
        const BlockFitResult fb = fit_block_model(c.one, st, reml, ctl);
        CHECK(fs.conv.converged);
        CHECK(fb.conv.converged);
        if (!fs.conv.converged || !fb.conv.converged) continue;
        for (int l = 0; l < 2; ++l) CHECK_NEAR(fs.theta(l), fb.theta(l), tol_solver);
        if (!std::isnan(fx)) CHECK(fs.theta(1) == fx);
        CHECK_NEAR(fs.ll, fb.ll, 1e-9);
        for (int j = 0; j < fs.beta.size(); ++j) CHECK_NEAR(fs.beta(j), fb.beta(j), tol_solver);
        for (int j = 0; j < fs.vb.size(); ++j) CHECK_NEAR(fs.vb(j), fb.vb(j), tol_solver);
        SparseCrossedObjective sp(c.pr, st, reml);
        ObjectiveEval at;
        sp.evaluate(fs.theta, kObjAll, at);
        if (fs.theta(0) > 1e-6) CHECK(std::fabs(at.score(0)) < 1e-5);
      }
    }
}

// (e) a V that is not positive definite: the sparse fit reports it.
static void test_singular_v() {
  Crossed c = crossed_problem(30, 1, 6, 3, false, false, 5);
  c.pr.v(3) = 0;
  const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(2, std::nan("")));
  SparseCrossedObjective sp(c.pr, st, true);
  CHECK(!sp.sampling_ok());
  ObjectiveEval ev;
  CHECK(!sp.evaluate(Vec::Constant(2, 0.1), kObjAll, ev));
  const BlockFitResult f = fit_crossed_model(c.pr, st, true, Control());
  CHECK(!f.conv.converged);
  CHECK(f.beta.size() == 0);
}

// (f) the poll: false stops the evaluation, and the fit reports the interrupt.
static void test_poll() {
  const Crossed c = crossed_problem(150, 1, 70, 8, false, false, 9);
  const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(2, std::nan("")));
  int calls = 0;
  const OptimPoll stop = [&calls]() { return ++calls < 3; };
  const BlockFitResult f = fit_crossed_model(c.pr, st, true, Control(), Vec(), stop);
  CHECK(!f.conv.converged);
  CHECK(f.conv.message == "interrupted");
}

// (e) the row diagnostics of the sparse engine equal dense algebra on the
// one-block problem: M = V + sum_l theta_l Z_l Z_l', W = M^-1,
// A = (X'WX)^-1: diag(X A X'W), diag(W), W 1, diag(M), diag(M - X A X'), W X;
// and the selected inverse equals the dense inverse on A's pattern.
static void test_row_diagnostics(bool known) {
  struct Design { int k, n0, n1; bool three; };
  for (const Design d : {Design{40, 9, 5, false}, Design{150, 70, 8, false}, Design{60, 12, 4, true}})
    for (bool dense : {false, true})
      for (int p : {1, 3}) {
        const Crossed c = crossed_problem(d.k, p, d.n0, d.n1, d.three, dense, 2000 + d.k + 10 * p + dense);
        const int L = static_cast<int>(c.nlevels.size()), k = c.pr.k();
        const std::vector<Mat> R = known_R(c, known, 3 * d.k + p);
        const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(L, std::nan("")), R);
        SparseCrossedObjective sp(c.pr, st, true);
        for (int zero = 0; zero < 2; ++zero) {
          Vec th(L);
          for (int l = 0; l < L; ++l) th(l) = 0.04 + 0.03 * l;
          if (zero) th(1) = 0;
          const DenseReference dr = dense_reference(st, c.one, th);
          const Mat &M = dr.M, &W = dr.W, &A = dr.A, &H = dr.H;
          const Mat& X = c.pr.X;
          const Mat WXd = W * X;
          check_row_quantities(sp, th, dr, X, tol_exact);
          // cluster_x2() (leverage.hpp) against e_c' [(I - H) M (I - H)']_cc^-1 e_c
          {
            const int nc = 7;
            std::vector<std::vector<int>> rows(nc);
            for (int i = 0; i < k; ++i) rows[i % nc].push_back(i);
            const Vec e = c.one.y - X * (A * (X.transpose() * (W * c.one.y)));
            const Mat IH = Mat::Identity(k, k) - H;
            const Mat Ve2 = IH * M * IH.transpose();
            std::vector<double> x2(nc);
            CHECK(cluster_x2(X, Mat(X * A), e, rows, [&M](int a, int b) { return M(a, b); },
                             std::function<bool(int)>(), x2.data()));
            for (int cc = 0; cc < nc; ++cc) {
              const int m = static_cast<int>(rows[cc].size());
              Mat Vc(m, m);
              Vec ec(m);
              for (int a = 0; a < m; ++a) {
                ec(a) = e(rows[cc][a]);
                for (int b = 0; b < m; ++b) Vc(a, b) = Ve2(rows[cc][a], rows[cc][b]);
              }
              CHECK_NEAR(x2[cc], ec.dot(Vc.ldlt().solve(ec)), 1e-8 * (1 + std::fabs(x2[cc])));
            }
          }
          // ranef(): sigma2_l R_l Z_l' W e and diag(sigma2_l R_l - sigma2_l^2 R_l Z_l' P Z_l R_l)
          Vec pred, var;
          CHECK(sp.ranef(th, pred, var));
          const Vec beta = A * (X.transpose() * (W * c.one.y));
          const Vec We = W * (c.one.y - X * beta);
          const Mat P = W - WXd * A * WXd.transpose();
          const IVec& goff = sp.level_offsets();
          for (int l = 0; l < L; ++l) {
            const int nl = c.nlevels(l);
            Mat Z = Mat::Zero(k, nl);
            for (int i = 0; i < k; ++i) Z(i, st.code(i, l)) = 1;
            const Mat Rl = st.has_known(l) ? R[l] : Mat(Mat::Identity(nl, nl));
            const Vec u = th(l) * (Rl * (Z.transpose() * We));
            const Mat RZPZR = Rl * Z.transpose() * P * Z * Rl;
            for (int g = 0; g < nl; ++g) {
              CHECK_NEAR(pred(goff(l) + g), u(g), tol_exact);
              CHECK_NEAR(var(goff(l) + g), th(l) * Rl(g, g) - th(l) * th(l) * RZPZR(g, g), tol_exact);
            }
          }
        }
      }
  // SelectedInverse against the dense inverse of a sparse SPD matrix with fill
  using SpMat = SparseCrossedObjective::SpMat;
  Stream s(77, 0);
  const int n = 60;
  std::vector<Eigen::Triplet<double, int>> tr;
  for (int i = 0; i < n; ++i) tr.emplace_back(i, i, 4.0 + s.uniform());
  for (int t = 0; t < 90; ++t) {
    const int i = static_cast<int>(s.uniform() * n) % n, j = static_cast<int>(s.uniform() * n) % n;
    if (i == j) continue;
    const double v = 0.5 * (s.uniform() - 0.5);
    tr.emplace_back(i, j, v);
    tr.emplace_back(j, i, v);
  }
  SpMat C(n, n);
  C.setFromTriplets(tr.begin(), tr.end());
  Eigen::SimplicialLDLT<SpMat, Eigen::Lower, Eigen::AMDOrdering<int>> f(C);
  CHECK(f.info() == Eigen::Success);
  const Mat Ci = Mat(C).inverse();
  const SelectedInverse si(f);
  int on_pattern = 0;
  for (int j = 0; j < n; ++j)
    for (SpMat::InnerIterator it(C, j); it; ++it) {
      CHECK_NEAR(si(static_cast<int>(it.row()), j), Ci(it.row(), j), tol_exact);
      ++on_pattern;
    }
  CHECK(on_pattern > n);
}

// (g) case deletion (refit_crossed.hpp): the crossed family's refits on the
// sparse engine equal the block family's on the one-block problem (whose M
// is formed densely), leaving out single rows and clusters of term 0 (whole
// levels disappear), with and without re-estimation, diagonal and dense V.
static void test_deletion(bool known) {
  for (bool dense : {false, true})
    for (bool reest : {true, false}) {
      const Crossed c = crossed_problem(48, 2, 10, 4, false, dense, 31 + dense);
      const int k = 48;
      const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(2, std::nan("")), known_R(c, known, 8));
      Control ctl;
      ctl.threshold = 1e-11;
      const BlockFitResult f = fit_crossed_model(c.pr, st, true, ctl);
      CHECK(f.conv.converged);
      for (bool by_cluster : {false, true}) {
        std::vector<int> unit(k);
        for (int i = 0; i < k; ++i) unit[i] = by_cluster ? c.codes(i, 0) : i;
        const int n = by_cluster ? c.nlevels(0) : k;
        MvDeletionPlan plan;
        plan.reml = true;
        plan.reestimate = reest;
        plan.ctl = ctl;
        plan.theta = f.theta;
        plan.want_rstudent = plan.want_dfbetas = true;
        check_deletion_agrees(c.pr, c.one, st, plan, unit, n, reest ? tol_solver : tol_exact);
      }
    }
}

// (h) a known R that is not positive definite: the sparse objective refuses
// it and the fit says why; the dense reference (block_cov()) still takes it.
static void test_singular_known() {
  const Crossed c = crossed_problem(40, 1, 9, 5, false, false, 12);
  std::vector<Mat> R(2);
  Mat B = Mat::Ones(9, 1);
  R[0] = B * B.transpose();  // (rank 1)
  const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(2, std::nan("")), R);
  CHECK(!st.known_pd());
  SparseCrossedObjective sp(c.pr, st, true);
  CHECK(!sp.sampling_ok());
  const BlockFitResult f = fit_crossed_model(c.pr, st, true, Control());
  CHECK(!f.conv.converged);
  CHECK(f.conv.message.find("correlation matrix R") != std::string::npos);
  Mat M;
  st.block_cov(c.one, Vec::Constant(2, 0.1), 0, 0, M);
  CHECK_NEAR(M(0, 1) - (c.codes(0, 1) == c.codes(1, 1) ? 0.1 : 0.0), 0.1, tol_exact);
}

int main() {
  // (without, then with, known correlation matrices R of the levels)
  for (bool known : {false, true}) {
    test_objective(known);
    test_fit(known);
    test_row_diagnostics(known);
    test_deletion(known);
  }
  test_singular_v();
  test_poll();
  test_singular_known();
  return metafast_test::report("test_sparse");
}
