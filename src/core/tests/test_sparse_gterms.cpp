// Stand-alone tests of '~ inner | outer' terms (metafor's G and H) in the
// sparse objective of crossed random effects (sparse_objective.hpp), beside
// ~ 1 | f terms that cross them: the log-likelihood, score and information
// equal the block objective's (objective.hpp) on the whole problem as one
// block, whose M is then formed densely from CrossedTerms::re_cov() (the
// same E_t(a, c) of InnerOuterTerm that the block engine's RandomTerms uses,
// checked against dense algebra in test_blocks.cpp); the score equals a
// central difference of ll; fits, row diagnostics, W X, the k x k matrices,
// the BLUPs and case deletion agree with dense algebra or the block family.
// Structures CS, HCS, UN (natural and Cholesky scale), AR, DIAG, ID, CAR;
// diagonal and dense V; ML and REML; components at 0, a singular E_t, fixed
// parameters.
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/fit.hpp"
#include "core/refit_crossed.hpp"
#include "core/rng.hpp"
#include "core/sparse_objective.hpp"

#include "core/tests/crossed_problem.hpp"
#include "core/tests/harness.hpp"

using namespace metafast;

// Agreement of two exact evaluations of the same quantities: rounding only.
constexpr double tol_exact = 1e-10;
// Agreement of two solvers that each stop within the convergence threshold.
constexpr double tol_solver = 1e-6;

struct GProblem {
  Problem pr;   // V blocks of sizes 1..3 (cycling), diagonal or dense
  Problem one;  // the same problem as one block (the dense reference)
  Eigen::MatrixXi codes;  // k x 1: the ~ 1 | study term
  IVec nlevels;
  Eigen::VectorXi inner, outer;  // the inner|outer term's levels
};

// k rows; a ~ 1 | study term with ns studies; an inner|outer term with m
// inner levels and no outer levels that cross the studies (outer = a
// pseudo-random group, so its blocks and the studies link every row).
static GProblem make_problem(int k, int p, int ns, int m, int no, bool dense, std::uint64_t seed) {
  Stream s(seed, 0);
  GProblem c;
  c.nlevels.resize(1);
  c.nlevels(0) = ns;
  c.codes.resize(k, 1);
  c.inner.resize(k);
  c.outer.resize(k);
  for (int i = 0; i < k; ++i) {
    c.codes(i, 0) = i < ns ? i : static_cast<int>(s.uniform() * ns) % ns;
    c.inner(i) = i < m ? i : static_cast<int>(s.uniform() * m) % m;
    c.outer(i) = 1 + (i < no ? i : static_cast<int>(s.uniform() * no) % no);  // (1-based codes, as R gives them)
  }
  const Mat Vfull = simulate_blocks(c.pr, k, p, 3, dense, s);
  Problem& pr = c.pr;
  // study effects, and correlated effects of the inner levels within each outer level
  Vec us(ns);
  for (int g = 0; g < ns; ++g) us(g) = std::sqrt(0.05) * s.normal();
  Mat uo(no + 1, m);
  for (int o = 0; o <= no; ++o) {
    const double shared = s.normal();
    for (int a = 0; a < m; ++a) uo(o, a) = std::sqrt(0.06) * (0.7 * shared + 0.7 * s.normal());
  }
  for (int i = 0; i < k; ++i) pr.y(i) += us(c.codes(i, 0)) + uo(c.outer(i), c.inner(i));
  c.one = as_one_block(pr, Vfull, dense);
  return c;
}

// One inner|outer term of structure type over the problem's inner/outer
// levels, its parameters after the one sigma2 (off 1); the parameter values
// of an interior point.
struct Case {
  std::string name;
  InnerOuterTerm term;
  Vec theta;  // (sigma2, the term's parameters)
};

static Case make_case(const GProblem& c, int type, int m) {
  Case cs;
  InnerOuterTerm& t = cs.term;
  t.type = type;
  t.inner = c.inner;
  t.outer = c.outer;
  t.off = 1;
  t.n_lev = m;
  const bool het = InnerOuterTerm::hetero_type(type) || InnerOuterTerm::chol_type(type);
  t.n_v = het ? m : 1;
  t.n_r = (type == InnerOuterTerm::kID || type == InnerOuterTerm::kDIAG) ? 0
          : (type == InnerOuterTerm::kUN || type == InnerOuterTerm::kUNR || InnerOuterTerm::chol_type(type)) ? m * (m - 1) / 2
                                                                                                           : 1;
  if (type == InnerOuterTerm::kCAR) {
    t.times.resize(m);
    for (int a = 0; a < m; ++a) t.times(a) = 0.5 * a + 0.3 * (a % 2);
  }
  cs.theta.resize(1 + t.n_v + t.n_r);
  cs.theta(0) = 0.04;
  for (int j = 0; j < t.n_v; ++j) cs.theta(1 + j) = InnerOuterTerm::chol_type(type) ? 0.2 + 0.03 * j : 0.05 + 0.01 * j;
  for (int j = 0; j < t.n_r; ++j)
    cs.theta(1 + t.n_v + j) = InnerOuterTerm::chol_type(type) ? 0.05 * (j % 3) - 0.04 : 0.4 - 0.05 * (j % 3);
  static const char* names[] = {"CS", "ID", "DIAG", "AR", "CAR", "HCS", "UN", "UNR", "HAR", "UNCHOL"};
  cs.name = names[type];
  return cs;
}

static const int kTypes[] = {InnerOuterTerm::kCS,  InnerOuterTerm::kID,  InnerOuterTerm::kDIAG,
                             InnerOuterTerm::kAR,  InnerOuterTerm::kCAR, InnerOuterTerm::kHCS,
                             InnerOuterTerm::kUN,  InnerOuterTerm::kUNR, InnerOuterTerm::kHAR,
                             InnerOuterTerm::kUNCHOL};

// (a) sparse = block objective on one block, at an interior point, with
// sigma2 at 0, with the term's variances at 0, and (CS) at a correlation of
// 1 (E singular); (b) the score = a central difference of ll; q below and
// above one chunk of outer blocks.
static void test_objective() {
  struct Design { int k, ns, m, no; };
  for (const Design d : {Design{40, 9, 3, 6}, Design{160, 50, 4, 40}})
    for (bool dense : {false, true})
      for (bool reml : {false, true})
        for (int type : kTypes) {
          const int p = reml ? 2 : 1;
          const GProblem c = make_problem(d.k, p, d.ns, d.m, d.no, dense, 500 + d.k + dense + 7 * type);
          const Case cs = make_case(c, type, d.m);
          const int nt = static_cast<int>(cs.theta.size());
          const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(nt, std::nan("")), {}, {cs.term});
          SparseCrossedObjective sp(c.pr, st, reml);
          BlockObjective bl(c.one, st, reml);
          CHECK(sp.sampling_ok());
          CHECK(sp.n_groups() == d.ns + d.no * d.m);
          std::vector<Vec> thetas{cs.theta};
          Vec t = cs.theta;
          t(0) = 0;
          thetas.push_back(t);
          if (!InnerOuterTerm::chol_type(type)) {
            t = cs.theta;
            for (int j = 0; j < cs.term.n_v; ++j) t(1 + j) = 0;
            thetas.push_back(t);
          }
          if (type == InnerOuterTerm::kCS) {
            t = cs.theta;
            t(2) = 1.0;
            thetas.push_back(t);
          }
          for (std::size_t u = 0; u < thetas.size(); ++u) {
            const Vec& th = thetas[u];
            ObjectiveEval a, b;
            sp.evaluate(th, kObjAll, a);
            bl.evaluate(th, kObjAll, b);
            compare_evals(a, b, kObjAll, tol_exact);
            if (!a.ok || !b.ok) std::printf("  (%s, k %d, dense %d, reml %d, theta %d)\n", cs.name.c_str(), d.k, dense, reml, static_cast<int>(u));
            for (int i = 0; i < c.pr.k(); ++i) CHECK_NEAR(sp.weighted_resid()(i), bl.weighted_resid()(i), tol_exact);
            ObjectiveEval a1;
            sp.evaluate(th, kObjLL | kObjScore, a1);
            compare_evals(a1, b, kObjLL | kObjScore, tol_exact);
            if (u == 0) check_score_by_differences(sp, th, a.score, 1e-6, 1e-5);
          }
        }
}

// (c) an E_t that is not positive semi-definite (CS with a correlation
// below -1 / (m - 1), HCS, UN): the sparse objective equals the block
// objective while M is positive definite (metafor's set of theta), and both
// refuse theta where it is not.
static void test_indefinite() {
  for (int type : {InnerOuterTerm::kCS, InnerOuterTerm::kHCS, InnerOuterTerm::kUN})
    for (bool reml : {false, true}) {
      const GProblem c = make_problem(60, 1, 9, 4, 10, type == InnerOuterTerm::kUN, 3 + type);
      const Case cs = make_case(c, type, 4);
      const int nt = static_cast<int>(cs.theta.size());
      const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(nt, std::nan("")), {}, {cs.term});
      SparseCrossedObjective sp(c.pr, st, reml);
      BlockObjective bl(c.one, st, reml);
      Vec th = cs.theta;
      for (int j = 0; j < cs.term.n_r; ++j) th(1 + cs.term.n_v + j) = -0.45 - 0.1 * (j % 2);
      Mat E;
      st.gterm_cov(th, 0, E);
      CHECK(Eigen::SelfAdjointEigenSolver<Mat>(E).eigenvalues()(0) < -1e-3);
      ObjectiveEval a, b;
      CHECK(sp.evaluate(th, kObjAll, a));
      bl.evaluate(th, kObjAll, b);
      compare_evals(a, b, kObjAll, tol_exact);
      // score vs a central difference there
      check_score_by_differences(sp, th, a.score, 1e-6, 1e-5);
      // a fit with the correlations fixed there: the default start (a share
      // of the residual variance) is infeasible, feasible_start() halves the
      // variances; both engines then reach the same maximum
      if (type == InnerOuterTerm::kCS) {
        Vec fixed = Vec::Constant(nt, std::nan(""));
        fixed(2) = -0.45;
        const CrossedTerms sf(c.codes, c.nlevels, fixed, {}, {cs.term});
        Vec s0 = block_start(c.pr, sf);
        s0(1) *= 50;  // (a start where M is not positive definite)
        ObjectiveEval e0;
        SparseCrossedObjective spf(c.pr, sf, reml);
        CHECK(!spf.evaluate(s0, kObjLL, e0));
        const Vec s1 = feasible_start(spf, s0);
        CHECK(spf.evaluate(s1, kObjLL, e0));
        CHECK(s1(1) < s0(1) && s1(2) == -0.45);
        Control ctl;
        ctl.threshold = 1e-10;
        const BlockFitResult fs = fit_crossed_model(c.pr, sf, reml, ctl, s0);
        const BlockFitResult fb = fit_block_model(c.one, sf, reml, ctl, s0);
        CHECK(fs.conv.converged && fb.conv.converged);
        for (int j = 0; j < nt; ++j) CHECK_NEAR(fs.theta(j), fb.theta(j), tol_solver);
        CHECK_NEAR(fs.ll, fb.ll, 1e-9);
      }
      // M not positive definite: large variances with correlations -1
      for (int j = 0; j < cs.term.n_v; ++j) th(1 + j) = 5.0;
      for (int j = 0; j < cs.term.n_r; ++j) th(1 + cs.term.n_v + j) = -1.0;
      ObjectiveEval a2, b2;
      CHECK(!bl.evaluate(th, kObjAll, b2));
      CHECK(!sp.evaluate(th, kObjAll, a2));
    }
}

// (d) two inner|outer terms (metafor's G and H: CS and HCS) beside the
// study term: objective as (a); the fits of the sparse and block
// objectives agree, free and with the H term's correlation fixed.
static void test_two_terms_and_fit() {
  for (bool dense : {false, true})
    for (bool reml : {false, true}) {
      const GProblem c = make_problem(150, 2, 40, 3, 30, dense, 93 + dense);
      Case g = make_case(c, InnerOuterTerm::kCS, 3);
      Case h = make_case(c, InnerOuterTerm::kHCS, 3);
      // H: outer = the study (nested in it), inner = the same levels
      h.term.outer = c.codes.col(0).array() + 1;
      h.term.off = 3;
      const int nt = 3 + 4;
      Vec th(nt);
      th << 0.03, 0.05, 0.4, 0.02, 0.03, 0.04, 0.3;
      for (double fx : {std::nan(""), 0.25}) {
        Vec fixed = Vec::Constant(nt, std::nan(""));
        fixed(6) = fx;
        const CrossedTerms st(c.codes, c.nlevels, fixed, {}, {g.term, h.term});
        CHECK(st.name(1) == "tau2.1" && st.name(6) == "phi.1");
        SparseCrossedObjective sp(c.pr, st, reml);
        BlockObjective bl(c.one, st, reml);
        ObjectiveEval a, b;
        sp.evaluate(th, kObjAll, a);
        bl.evaluate(th, kObjAll, b);
        compare_evals(a, b, kObjAll, tol_exact);
        Control ctl;
        ctl.threshold = 1e-10;
        const BlockFitResult fs = fit_crossed_model(c.pr, st, reml, ctl);
        const BlockFitResult fb = fit_block_model(c.one, st, reml, ctl);
        CHECK(fs.conv.converged);
        CHECK(fb.conv.converged);
        if (!fs.conv.converged || !fb.conv.converged) continue;
        // the same path (bug fix: the information at the start is singular,
        // and the sparse fit, whose Cholesky factor of it failed by
        // rounding, took over 1000 quasi-Newton iterations; the block
        // fit's 65 to 170)
        CHECK(fs.conv.iterations == fb.conv.iterations);
        CHECK(fs.conv.iterations < 200);
        for (int j = 0; j < nt; ++j) CHECK_NEAR(fs.theta(j), fb.theta(j), tol_solver);
        if (!std::isnan(fx)) CHECK(fs.theta(6) == fx);
        CHECK_NEAR(fs.ll, fb.ll, 1e-9);
        for (int j = 0; j < fs.beta.size(); ++j) CHECK_NEAR(fs.beta(j), fb.beta(j), tol_solver);
        for (int j = 0; j < fs.vb.size(); ++j) CHECK_NEAR(fs.vb(j), fb.vb(j), tol_solver);
      }
    }
}

// (e) row diagnostics, W X, the k x k matrices, the BLUPs of the
// inner|outer term and their prediction variances against dense algebra
// (u = D Z'We and diag(D - D Z'PZ D), D = I (x) E on the term's effects).
static void test_methods() {
  for (bool dense : {false, true})
    for (int type : {InnerOuterTerm::kCS, InnerOuterTerm::kUN, InnerOuterTerm::kAR}) {
      const int m = 3, k = 70;
      const GProblem c = make_problem(k, 2, 15, m, 12, dense, 40 + dense + type);
      const Case cs = make_case(c, type, m);
      const int nt = static_cast<int>(cs.theta.size());
      const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(nt, std::nan("")), {}, {cs.term});
      SparseCrossedObjective sp(c.pr, st, true);
      for (int zero = 0; zero < 2; ++zero) {
        Vec th = cs.theta;
        if (zero) th(0) = 0;
        const DenseReference dr = dense_reference(st, c.one, th);
        const Mat &M = dr.M, &W = dr.W, &A = dr.A;
        const Mat& X = c.pr.X;
        check_row_quantities(sp, th, dr, X, tol_exact);
        // the BLUPs: dense Z of the term's effects (outer block major, as the
        // sparse objective orders its columns) and D = I (x) E
        Vec pred, var;
        CHECK(sp.ranef(th, pred, var));
        const int no = st.n_outer(0), q0 = c.nlevels(0), qg = no * m;
        CHECK(pred.size() == q0 + qg);
        Mat E;
        st.gterm_cov(th, 0, E);
        Mat Zg = Mat::Zero(k, qg), Dg = Mat::Zero(qg, qg), Zs = Mat::Zero(k, q0);
        for (int i = 0; i < k; ++i) {
          Zg(i, sp.gterm_column(0, i) - q0) = 1.0;
          Zs(i, c.codes(i, 0)) = 1.0;
        }
        for (int o = 0; o < no; ++o) Dg.block(o * m, o * m, m, m) = E;
        const Vec e = c.pr.y - X * (A * X.transpose() * W * c.pr.y);
        const Mat P = W - W * X * A * X.transpose() * W;
        const Vec ug = Dg * Zg.transpose() * W * e, us = th(0) * Zs.transpose() * W * e;
        const Mat vg = Dg - Dg * Zg.transpose() * P * Zg * Dg;
        const Mat vs = th(0) * Mat::Identity(q0, q0) - th(0) * th(0) * Zs.transpose() * P * Zs;
        for (int g = 0; g < qg; ++g) {
          CHECK_NEAR(pred(q0 + g), ug(g), tol_exact);
          CHECK_NEAR(var(q0 + g), vg(g, g), tol_exact);
        }
        for (int g = 0; g < q0; ++g) {
          CHECK_NEAR(pred(g), us(g), tol_exact);
          CHECK_NEAR(var(g), vs(g, g), tol_exact);
        }
        // the entries of M that case deletion and the cluster blocks read
        const CrossedMarginal marg(c.pr, st);
        for (int i = 0; i < k; i += 7)
          for (int j = 0; j < k; j += 5) CHECK_NEAR(marg(th, i, j), M(i, j), tol_exact);
      }
    }
}

// (f) case deletion by study (re-estimated and not): the sparse family equals
// the block engine's on the one-block problem.
static void test_deletion() {
  for (bool reest : {false, true}) {
    const int k = 45, p = 2, m = 3;
    const GProblem c = make_problem(k, p, 9, m, 8, false, 66);
    const Case cs = make_case(c, InnerOuterTerm::kCS, m);
    const int q = static_cast<int>(cs.theta.size());
    const CrossedTerms st(c.codes, c.nlevels, Vec::Constant(q, std::nan("")), {}, {cs.term});
    Control ctl;
    ctl.threshold = 1e-11;
    const BlockFitResult f = fit_crossed_model(c.pr, st, true, ctl);
    CHECK(f.conv.converged);
    std::vector<int> unit(k);
    for (int i = 0; i < k; ++i) unit[i] = c.codes(i, 0);
    const int n = c.nlevels(0);
    MvDeletionPlan plan;
    plan.reml = true;
    plan.reestimate = reest;
    plan.ctl = ctl;
    plan.theta = f.theta;
    plan.want_rstudent = plan.want_dfbetas = true;
    check_deletion_agrees(c.pr, c.one, st, plan, unit, n, reest ? 1e-5 : tol_exact);
  }
}

int main() {
  test_objective();
  test_indefinite();
  test_two_terms_and_fit();
  test_methods();
  test_deletion();
  return metafast_test::report("test_sparse_gterms");
}
