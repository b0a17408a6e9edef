// Stand-alone tests of the block engine: variance structures (structure.hpp),
// the block objective (objective.hpp), the optimisers (optimise.hpp), the
// block fit (fit.hpp) and the coefficient covariances (vcov.hpp).  Every
// expected value comes from brute-force dense k-by-k algebra (fine at the
// small k here) or a closed form; nothing is compared with earlier output.
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/dense_input.hpp"
#include "core/fit.hpp"
#include "core/rng.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;

// Agreement of the O(sum n_b^3 + k p^2) formulas with dense algebra: rounding only.
constexpr double tol_dense = 1e-10;
// Agreement of two solvers that each stop within the convergence threshold.
constexpr double tol_solver = 1e-6;

// Blocks of sizes 1..5 (cycling), n_blocks of them; dense V blocks B B' +
// diag(u) when dense, else diagonal v; outcomes with a block effect (sd
// sqrt(s_out)) and a row effect (sd sqrt(s_in)).
static Problem block_problem(int n_blocks, int p, bool dense, double s_out, double s_in, std::uint64_t seed) {
  Stream s(seed, 0);
  std::vector<int> sizes;
  int k = 0;
  for (int b = 0; b < n_blocks; ++b) { sizes.push_back(1 + b % 5); k += sizes.back(); }
  Problem pr;
  pr.offsets.resize(n_blocks + 1);
  pr.offsets(0) = 0;
  for (int b = 0; b < n_blocks; ++b) pr.offsets(b + 1) = pr.offsets(b) + sizes[b];
  pr.X = Mat::Ones(k, p);
  for (int i = 0; i < k; ++i)
    for (int j = 1; j < p; ++j) pr.X(i, j) = s.normal();
  pr.v.resize(k);
  pr.y.resize(k);
  std::vector<double> vb;
  for (int b = 0; b < n_blocks; ++b) {
    const int nb = sizes[b], i0 = pr.offsets(b);
    Mat V = Mat::Zero(nb, nb);
    if (dense) {
      Mat B(nb, nb);
      for (int i = 0; i < nb; ++i)
        for (int j = 0; j < nb; ++j) B(i, j) = 0.15 * s.normal();
      V = B * B.transpose();
    }
    for (int i = 0; i < nb; ++i) V(i, i) += 0.02 + 0.1 * s.uniform();
    if (dense) vb.insert(vb.end(), V.data(), V.data() + nb * nb);
    const Mat L = V.llt().matrixL();
    Vec z(nb);
    for (int i = 0; i < nb; ++i) z(i) = s.normal();
    const Vec err = L * z;
    const double u = std::sqrt(s_out) * s.normal();
    for (int i = 0; i < nb; ++i) {
      pr.v(i0 + i) = V(i, i);
      pr.y(i0 + i) = 0.3 + 0.2 * pr.X(i0 + i, p - 1) + u + std::sqrt(s_in) * s.normal() + err(i);
    }
  }
  if (dense) pr.Vblocks = Eigen::Map<const Vec>(vb.data(), static_cast<Eigen::Index>(vb.size()));
  return pr;
}

// Dense k x k pieces of a problem: V, the block indicator Z Z' (J blocks).
static Mat dense_V(const Problem& pr) {
  const int k = pr.k();
  Mat V = Mat::Zero(k, k);
  Eigen::Index off = 0;
  for (int b = 0; b < pr.n_blocks(); ++b) {
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    if (pr.dense_cov()) {
      V.block(i0, i0, nb, nb) = Eigen::Map<const Mat>(pr.Vblocks.data() + off, nb, nb);
      off += nb * nb;
    } else {
      for (int i = 0; i < nb; ++i) V(i0 + i, i0 + i) = pr.v(i0 + i);
    }
  }
  return V;
}
static Mat dense_J(const Problem& pr) {
  const int k = pr.k();
  Mat J = Mat::Zero(k, k);
  for (int b = 0; b < pr.n_blocks(); ++b) J.block(pr.block_begin(b), pr.block_begin(b), pr.block_size(b), pr.block_size(b)).setOnes();
  return J;
}

struct DenseEval {
  double ll;
  Vec score;
  Mat info;
  Vec beta;
  Mat Ainv;
};

// The (restricted) likelihood, score and expected information by dense
// algebra: W = M^{-1}, P = W - W X (X'WX)^{-1} X'W (Harville 1977).
static DenseEval dense_eval(const Problem& pr, const Mat& M, const std::vector<Mat>& G, bool reml) {
  const int k = pr.k(), p = pr.p(), q = static_cast<int>(G.size());
  const Mat W = M.inverse();
  const Mat A = pr.X.transpose() * W * pr.X;
  const Mat Ainv = A.inverse();
  DenseEval d;
  d.beta = Ainv * pr.X.transpose() * W * pr.y;
  d.Ainv = Ainv;
  const Vec e = pr.y - pr.X * d.beta;
  const Mat P = W - W * pr.X * Ainv * pr.X.transpose() * W;
  const Mat& Q = reml ? P : W;  // the projection in the traces
  const double ldM = std::log(M.determinant());
  const double two_pi = 2 * M_PI;
  if (reml)
    d.ll = -0.5 * ((k - p) * std::log(two_pi) + ldM + std::log(A.determinant()) -
                   std::log((pr.X.transpose() * pr.X).determinant()) + pr.y.dot(P * pr.y));
  else
    d.ll = -0.5 * (k * std::log(two_pi) + ldM + e.dot(W * e));
  const Vec Py = P * pr.y;
  d.score.resize(q);
  d.info.resize(q, q);
  for (int j = 0; j < q; ++j) {
    d.score(j) = 0.5 * (Py.dot(G[j] * Py) - (Q * G[j]).trace());
    for (int l = 0; l < q; ++l) d.info(j, l) = 0.5 * (Q * G[j] * Q * G[l]).trace();
  }
  return d;
}

static void compare(const ObjectiveEval& a, const DenseEval& d, double tol) {
  CHECK(a.ok);
  CHECK_NEAR(a.ll, d.ll, tol);
  for (int j = 0; j < d.score.size(); ++j) {
    CHECK_NEAR(a.score(j), d.score(j), tol);
    for (int l = 0; l < d.score.size(); ++l) CHECK_NEAR(a.info(j, l), d.info(j, l), tol);
  }
  for (int j = 0; j < d.beta.size(); ++j) CHECK_NEAR(a.beta(j), d.beta(j), tol);
}

// (a) the block objective against dense algebra, nested and diagonal
// structures, dense and diagonal V, ML and REML; (b) the score against a
// central difference of ll.
static void test_objective_dense() {
  for (bool dense : {true, false})
    for (int p : {1, 3})
      for (bool reml : {false, true}) {
        const Problem pr = block_problem(12, p, dense, 0.1, 0.05, 100 + 10 * p + dense);
        const Mat V = dense_V(pr), J = dense_J(pr), I = Mat::Identity(pr.k(), pr.k());
        // nested: theta = (sigma2_outer, sigma2_inner)
        NestedTwoLevel nested;
        BlockObjective obj(pr, nested, reml);
        Vec theta(2);
        theta << 0.13, 0.07;
        ObjectiveEval ev;
        obj.evaluate(theta, kObjAll, ev);
        compare(ev, dense_eval(pr, V + theta(0) * J + theta(1) * I, {J, I}, reml), tol_dense);
        // (b) score = d ll / d theta (central difference, step h: error O(h^2))
        const double h = 1e-5;
        for (int j = 0; j < 2; ++j) {
          Vec tp = theta, tm = theta;
          tp(j) += h;
          tm(j) -= h;
          ObjectiveEval ep, em;
          obj.evaluate(tp, kObjLL, ep);
          obj.evaluate(tm, kObjLL, em);
          CHECK_NEAR(ev.score(j), (ep.ll - em.ll) / (2 * h), 1e-6);
        }
        // the sampling-only boundary theta = 0 (V positive definite)
        obj.evaluate(Vec::Zero(2), kObjAll, ev);
        compare(ev, dense_eval(pr, V, {J, I}, reml), tol_dense);
        // diagonal structure through the block loop: M = V + tau2 I
        DiagonalTau2 diag;
        BlockObjective od(pr, diag, reml);
        CHECK(!od.uses_fast_kernels() || !dense);
        Vec t1(1);
        t1 << 0.09;
        od.evaluate(t1, kObjAll, ev);
        compare(ev, dense_eval(pr, V + t1(0) * I, {I}, reml), tol_dense);
      }
  // the univariate problem (no blocks, diagonal V) on the fused kernels
  for (int p : {1, 2, 4})
    for (bool reml : {false, true}) {
      Problem pr = block_problem(30, p, false, 0.0, 0.1, 7 + p);
      pr.offsets.resize(0);
      DiagonalTau2 diag;
      BlockObjective fast(pr, diag, reml);
      CHECK(fast.uses_fast_kernels());
      Vec t(1);
      t << 0.06;
      ObjectiveEval ev;
      fast.evaluate(t, kObjAll, ev);
      const Mat I = Mat::Identity(pr.k(), pr.k());
      compare(ev, dense_eval(pr, Mat(pr.v.asDiagonal()) + t(0) * I, {I}, reml), tol_dense);
    }
}

// (c) the diagonal structure: block loop = fused kernels (ll, score, info,
// fitted tau2), and the fitted tau2 equals the univariate REML/ML path.
static void test_diagonal_dispatch() {
  for (int p : {1, 2, 3})
    for (bool reml : {false, true}) {
      Problem pr = block_problem(40, p, false, 0.0, 0.08, 50 + p);
      pr.offsets.resize(0);  // one row a block
      DiagonalTau2 diag;
      BlockObjective fast(pr, diag, reml), slow(pr, diag, reml, false);
      CHECK(fast.uses_fast_kernels() && !slow.uses_fast_kernels());
      for (double tau2 : {0.0, 0.03, 0.5}) {
        Vec t(1);
        t << tau2;
        ObjectiveEval a, b;
        fast.evaluate(t, kObjAll, a);
        slow.evaluate(t, kObjAll, b);
        CHECK_NEAR(a.ll, b.ll, 1e-12);
        CHECK_NEAR(a.score(0), b.score(0), 1e-12);
        CHECK_NEAR(a.info(0, 0), b.info(0, 0), 1e-12);
        CHECK_NEAR(a.eWe, b.eWe, 1e-12);
        for (int j = 0; j < p; ++j) CHECK_NEAR(a.Ainv(j, j), b.Ainv(j, j), 1e-12);
        for (int i = 0; i < pr.k(); ++i) CHECK_NEAR(fast.weighted_resid()(i), slow.weighted_resid()(i), 1e-11);
      }
      // the univariate estimating equation (DiagonalTau2Objective, what
      // fisher_scoring_1d iterates on) is twice the block score, its step
      // score / information, and its ll differs by the constants only
      {
        Wls ws;
        const DiagonalTau2Objective de{reml ? Method::REML : Method::ML, pr.X, pr.y, pr.v, ws};
        Vec t(1);
        t << 0.04;
        ObjectiveEval a;
        fast.evaluate(t, kObjAll, a);
        double step = 0;
        CHECK_NEAR(de.score(0.04, &step), 2 * a.score(0), 1e-12);
        CHECK_NEAR(step, a.score(0) / a.info(0, 0), 1e-12);
        const int df = reml ? pr.k() - p : pr.k();
        double c = -0.5 * df * std::log(2 * M_PI);
        if (reml) c += 0.5 * std::log((pr.X.transpose() * pr.X).determinant());
        CHECK_NEAR(de.loglik(0.04) + c, a.ll, 1e-12);
      }
      // fitted tau2: block fit (fast and general loop) and the univariate path
      Control ctl;
      const BlockFitResult ff = fit_block_model(pr, diag, reml, ctl, Vec(), true);
      const BlockFitResult fs = fit_block_model(pr, diag, reml, ctl, Vec(), false);
      const FitResult u = fit_model(pr, reml ? Method::REML : Method::ML, ctl, Test::Z);
      CHECK(ff.conv.converged && fs.conv.converged);
      CHECK(u.tau2 > 0);
      CHECK_NEAR(ff.theta(0), u.tau2, tol_solver);
      CHECK_NEAR(fs.theta(0), ff.theta(0), tol_solver);
      CHECK_NEAR(ff.se_theta(0), u.se_tau2, tol_solver);
      CHECK_NEAR(ff.ll, reml ? u.ll_reml : u.ll_ml, 1e-9);
      for (int j = 0; j < p; ++j) {
        CHECK_NEAR(ff.beta(j), u.beta(j), tol_solver);
        CHECK_NEAR(ff.vb(j, j), u.vb(j, j), tol_solver);
      }
    }
}

// The score of the nested model is zero at an interior optimum and points
// outwards (non-positive) for a parameter held at its lower bound 0.
static void check_kkt(const Problem& pr, const BlockFitResult& f, bool reml) {
  NestedTwoLevel nested;
  BlockObjective obj(pr, nested, reml);
  ObjectiveEval ev;
  obj.evaluate(f.theta, kObjAll, ev);
  for (int j = 0; j < 2; ++j) {
    if (f.theta(j) > 0) CHECK_NEAR(ev.score(j) / ev.info(j, j), 0.0, 1e-7);  // a Newton step's length
    else CHECK(ev.score(j) <= 0);
  }
}

// (d) Fisher scoring and quasi-Newton reach the same optimum of the nested
// model, inside and at the boundary sigma2_inner = 0.
static void test_solvers() {
  Control ctl;
  for (bool reml : {false, true})
    for (bool dense : {true, false}) {
      const Problem pr = block_problem(30, 2, dense, 0.15, 0.08, 300 + dense);
      NestedTwoLevel nested;
      BlockObjective obj(pr, nested, reml);
      const Vec start = block_start(pr, nested);
      const OptimResult fs = fisher_scoring(obj, start, ctl);
      const OptimResult qn = quasi_newton(obj, start, ctl);
      CHECK(fs.conv.converged && fs.conv.solver == 1);
      CHECK(qn.conv.converged && qn.conv.solver == kSolverQuasiNewton);
      CHECK(fs.theta(0) > 0 && fs.theta(1) > 0);
      for (int j = 0; j < 2; ++j) CHECK_NEAR(qn.theta(j), fs.theta(j), tol_solver);
      CHECK_NEAR(qn.at.ll, fs.at.ll, 1e-10);
      const BlockFitResult f = fit_block_model(pr, nested, reml, ctl);
      check_kkt(pr, f, reml);
      // SEs from the inverse information
      const Mat Iinv = fs.at.info.inverse();
      CHECK_NEAR(f.se_theta(1), std::sqrt(Iinv(1, 1)), 1e-6);
    }
  // boundary: outcomes equal within each block, so the rows of a block vary
  // less than their sampling variances alone: sigma2_inner = 0
  for (bool reml : {false, true}) {
    Problem pr = block_problem(15, 1, false, 0.3, 0.0, 17);
    Stream st(18, 0);
    for (int b = 0; b < pr.n_blocks(); ++b)
      pr.y.segment(pr.block_begin(b), pr.block_size(b)).setConstant(0.3 + 0.5 * st.normal());
    NestedTwoLevel nested;
    BlockObjective obj(pr, nested, reml);
    const Vec start = block_start(pr, nested);
    const OptimResult fs = fisher_scoring(obj, start, ctl);
    const OptimResult qn = quasi_newton(obj, start, ctl);
    CHECK(fs.conv.converged && qn.conv.converged);
    CHECK(fs.theta(1) == 0.0);
    CHECK(qn.theta(1) == 0.0);
    CHECK_NEAR(qn.theta(0), fs.theta(0), tol_solver);
    CHECK_NEAR(qn.at.ll, fs.at.ll, 1e-10);
    check_kkt(pr, fit_block_model(pr, nested, reml, ctl), reml);
  }
  // capped iterations: neither solver converges, and the fit says so
  {
    const Problem pr = block_problem(30, 2, true, 0.15, 0.08, 301);
    NestedTwoLevel nested;
    Control capped;
    capped.maxiter = 2;
    BlockObjective obj(pr, nested, true);
    CHECK(!fisher_scoring(obj, block_start(pr, nested), capped).conv.converged);
    const BlockFitResult b = fit_block_model(pr, nested, true, capped);
    CHECK(!b.conv.converged);
    CHECK(!b.conv.message.empty());
  }
}

// (e) CR0 against a dense sandwich; one row a cluster gives HC0; the
// user-weight sandwich against dense algebra.
static void test_vcov() {
  Control ctl;
  {
    const Problem pr = block_problem(20, 3, true, 0.1, 0.05, 900);
    NestedTwoLevel nested;
    const BlockFitResult f = fit_block_model(pr, nested, true, ctl);
    CHECK(f.conv.converged);
    const Mat M = dense_V(pr) + f.theta(0) * dense_J(pr) + f.theta(1) * Mat::Identity(pr.k(), pr.k());
    const Mat W = M.inverse();
    const Mat Ainv = (pr.X.transpose() * W * pr.X).inverse();
    const Vec beta = Ainv * pr.X.transpose() * W * pr.y;
    const Vec r = W * (pr.y - pr.X * beta);
    // clusters: pairs of consecutive blocks (coarser than the blocks)
    IVec cl(pr.n_blocks() / 2 + 1);
    for (int c = 0; c < cl.size(); ++c) cl(c) = pr.offsets(std::min(2 * c, pr.n_blocks()));
    Mat S = r * r.transpose();  // dense meat, cross-cluster entries zeroed
    for (int i = 0; i < pr.k(); ++i)
      for (int j = 0; j < pr.k(); ++j) {
        int ci = 0, cj = 0;
        while (cl(ci + 1) <= i) ++ci;
        while (cl(cj + 1) <= j) ++cj;
        if (ci != cj) S(i, j) = 0;
      }
    const Mat cr0_dense = Ainv * pr.X.transpose() * S * pr.X * Ainv;
    Mat U, V;
    cluster_scores(pr.X, f.wresid, cl, U);
    CHECK(U.cols() == cl.size() - 1);
    CovPieces pc;
    pc.bread = &f.vb;
    pc.scores = &U;
    coef_vcov(VcovType::CR0, pc, V);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) CHECK_NEAR(V(a, b), cr0_dense(a, b), 1e-9);
    // the model-based covariance is A^{-1}
    coef_vcov(VcovType::Model, pc, V);
    CHECK_NEAR(V(1, 2), Ainv(1, 2), 1e-9);
  }
  {
    // univariate REML, one row a cluster: HC0 = A^{-1} X' diag(w^2 e^2) X A^{-1}
    Problem pr = block_problem(40, 2, false, 0.0, 0.1, 901);
    pr.offsets.resize(0);
    DiagonalTau2 diag;
    const BlockFitResult f = fit_block_model(pr, diag, true, ctl);
    const Vec w = (pr.v.array() + f.theta(0)).inverse().matrix();
    const Mat Ainv = (pr.X.transpose() * w.asDiagonal() * pr.X).inverse();
    const Vec beta = Ainv * pr.X.transpose() * w.asDiagonal() * pr.y;
    const Vec we = w.cwiseProduct(pr.y - pr.X * beta);
    const Mat hc0 = Ainv * pr.X.transpose() * we.cwiseAbs2().asDiagonal() * pr.X * Ainv;
    Mat U, V;
    cluster_scores(pr.X, f.wresid, no_blocks(), U);
    CovPieces pc;
    pc.bread = &f.vb;
    pc.scores = &U;
    coef_vcov(VcovType::CR0, pc, V);
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) CHECK_NEAR(V(a, b), hc0(a, b), 1e-9);
    // user weights a: (X'AX)^{-1} X'A M A X (X'AX)^{-1}, M = diag(v + tau2)
    const Vec aw = pr.v.cwiseInverse();
    const Mat Aa = (pr.X.transpose() * aw.asDiagonal() * pr.X).inverse();
    const Vec m = (pr.v.array() + 0.05).matrix();
    const Mat uw_dense = Aa * pr.X.transpose() * aw.asDiagonal() * m.asDiagonal() * aw.asDiagonal() * pr.X * Aa;
    vcov_user_weights(pr.X, aw, m, Aa, V);
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b) CHECK_NEAR(V(a, b), uw_dense(a, b), 1e-10);
    // Knapp-Hartung: s2w A^{-1}
    pc.s2w = 1.7;
    coef_vcov(VcovType::KnappHartung, pc, V);
    CHECK_NEAR(V(0, 1), 1.7 * Ainv(0, 1), 1e-9);
  }
}

// Regression: Fisher scoring once declared convergence when step-halving had
// shrunk a step that never increased the likelihood (the change of theta was
// then tiny).  An objective whose score has the wrong sign points every step
// downhill: the optimiser must report non-convergence, not an optimum.
struct DownhillObjective {
  DiagonalTau2 s;
  const VarStructure& structure() const { return s; }
  int n_theta() const { return 1; }
  bool evaluate(const Vec& theta, int, ObjectiveEval& out) const {
    const double t = theta(0);
    out.ok = true;
    out.ll = -(t - 1.0) * (t - 1.0);         // maximum at theta = 1
    out.score = Vec::Constant(1, 2.0 * (t - 1.0));  // wrong sign: steps go downhill
    out.info = Mat::Constant(1, 1, 0.5);
    return true;
  }
};

static void test_scoring_downhill() {
  DownhillObjective obj;
  Control ctl;
  const OptimResult r = fisher_scoring(obj, Vec::Constant(1, 3.0), ctl);
  CHECK(!r.conv.converged);
  CHECK(std::fabs(r.theta(0) - 1.0) > 0.5);  // it did not get to the maximum by accident
}

// Regression: Fisher scoring whose expected information is a poor model of
// the curvature (a UN term with a correlation near 1) halved its step in
// every iteration and crawled for its 1000 iterations before the
// quasi-Newton fallback.  Here the information is 1/40 of the curvature, so
// every scoring step overshoots 40-fold: scoring must give up after
// kFisherHalvedIters halved iterations, its halved steps must ask for the
// likelihood alone, and optimise_theta()'s fallback must find the maximum.
struct OvershootObjective {
  DiagonalTau2 s;
  mutable int ll_only = 0;  // evaluations that asked for the likelihood alone
  const VarStructure& structure() const { return s; }
  int n_theta() const { return 1; }
  bool evaluate(const Vec& theta, int what, ObjectiveEval& out) const {
    const double t = theta(0);
    if (what == kObjLL) ++ll_only;
    out.ok = true;
    out.ll = -(t - 1.0) * (t - 1.0);                   // maximum at theta = 1, curvature 2
    out.score = Vec::Constant(1, -2.0 * (t - 1.0));
    out.info = Mat::Constant(1, 1, 2.0 / 40.0);
    return true;
  }
};

static void test_scoring_gives_up_on_halving() {
  OvershootObjective obj;
  Control ctl;
  const OptimResult fs = fisher_scoring(obj, Vec::Constant(1, 1.5), ctl);
  CHECK(!fs.conv.converged);
  CHECK(fs.conv.iterations == kFisherHalvedIters);
  CHECK(fs.conv.message.find("halved") != std::string::npos);
  CHECK(obj.ll_only >= kFisherHalvedIters);
  CHECK(fs.at.ll >= -0.25);  // each accepted step raised the likelihood from its start
  const OptimResult r = optimise_theta(obj, Vec::Constant(1, 1.5), ctl, OptimPoll());
  CHECK(r.conv.converged);
  CHECK(r.conv.solver == kSolverQuasiNewton);
  CHECK_NEAR(r.theta(0), 1.0, 1e-8);
  // a well-scaled information (equal to the curvature) converges by scoring
  struct Exact : OvershootObjective {
    bool evaluate(const Vec& theta, int what, ObjectiveEval& out) const {
      OvershootObjective::evaluate(theta, what, out);
      out.info(0, 0) = 2.0;
      return true;
    }
  } exact;
  const OptimResult e = fisher_scoring(exact, Vec::Constant(1, 3.0), ctl);
  CHECK(e.conv.converged);
  CHECK_NEAR(e.theta(0), 1.0, 1e-10);
}

// The scoring direction (optimise.hpp's scoring_direction): I^-1 u where the
// information is well conditioned; where it is singular (a combination of
// the dM/dtheta_j that vanishes, as at the start of an HCS term beside the
// study's own term), the minimum-norm solution: I du = u and du orthogonal
// to the null vector, whether or not rounding leaves the Cholesky factor
// defined (bug fix: the sparse fit then failed scoring and crawled through
// 1000 quasi-Newton iterations while the block fit, equal to 1e-10, took
// 65); a clearly negative eigenvalue is refused.
static void test_scoring_direction() {
  Mat I(3, 3);
  I << 4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2;
  const Vec u = (Vec(3) << 1, -2, 0.5).finished();
  Vec du;
  CHECK(scoring_direction(I, u, du));
  CHECK_NEAR((du - I.ldlt().solve(u)).cwiseAbs().maxCoeff(), 0.0, 1e-14);
  // rank 2: the third column is the sum of the first two (d3 = d1 + d2)
  Mat B(4, 3);
  B << 1, 0, 1, 2, 1, 3, 0, 1, 1, 1, -1, 0;
  const Mat S = B.transpose() * B;
  const Vec c = (Vec(3) << 1, 1, -1).finished();  // S c = 0
  CHECK_NEAR((S * c).cwiseAbs().maxCoeff(), 0.0, 1e-14);
  const Vec us = S * (Vec(3) << 0.3, -0.7, 1.1).finished();  // in the range of S
  for (double eps : {0.0, 1e-15, -1e-15}) {
    Mat Se = S;
    Se(2, 2) += eps * S(2, 2);  // rounding that may or may not let LLT through
    CHECK(scoring_direction(Se, us, du));
    CHECK_NEAR((S * du - us).cwiseAbs().maxCoeff(), 0.0, 1e-10);
    CHECK_NEAR(c.dot(du), 0.0, 1e-10);
    // the minimum-norm solution: the pseudo-inverse's
    const Eigen::CompleteOrthogonalDecomposition<Mat> cod(S);
    CHECK_NEAR((du - cod.solve(us)).cwiseAbs().maxCoeff(), 0.0, 1e-10);
  }
  // indefinite: refused
  Mat N = I;
  N(2, 2) = -1;
  CHECK(!scoring_direction(N, u, du));
}

// The quasi-Newton solver with a parameter held at its bound that is
// correlated with a free one (a quadratic of curvature A, its maximum at
// c = (-1, 1) outside the box: theta_0 is held at 0, the maximum over theta_1
// is 1 - r): its step solves the reduced problem, B_ff d_f = -g_f (bug fix:
// the step -H_ff g_f, by the block of the inverse, overshot by 1 / (1 - r^2)
// and the solver ran out of its 1000 iterations, even at r = 0.9; a fit
// with a variance at 0 confounded with a term's variances crawled so).
struct BoundQuadratic {
  NestedTwoLevel s;
  Mat A;
  Vec c;
  const VarStructure& structure() const { return s; }
  int n_theta() const { return 2; }
  bool evaluate(const Vec& theta, int, ObjectiveEval& out) const {
    const Vec e = theta - c;
    out.ok = true;
    out.ll = -0.5 * e.dot(A * e);
    out.score = -A * e;
    out.info = A;
    return true;
  }
};

static void test_quasi_newton_held_bound() {
  for (double r : {0.5, 0.9, 0.999}) {
    BoundQuadratic obj;
    obj.A.resize(2, 2);
    obj.A << 1, r, r, 1;
    obj.c = (Vec(2) << -1, 1).finished();
    Control ctl;
    const OptimResult q = quasi_newton(obj, (Vec(2) << 0.5, 0.5).finished(), ctl);
    CHECK(q.conv.converged);
    CHECK(q.conv.iterations < 20);
    CHECK(q.theta(0) == 0.0);
    CHECK_NEAR(q.theta(1), 1 - r, 1e-10);
  }
}

// (f) NestedLevels (L nested levels within the blocks): objective against
// dense algebra for L = 1, 2, 3 (level 2 splits each block into pairs of
// rows, level 3 is one row a group); with L = 2 and one row a group at level
// 2 it is NestedTwoLevel; a fixed component stays at its value and the free
// ones satisfy the KKT conditions; the poll stops the solver.
static void test_nested_levels() {
  for (bool dense : {true, false})
    for (bool reml : {false, true}) {
      const Problem pr = block_problem(14, 2, dense, 0.12, 0.06, 700 + dense);
      const int k = pr.k();
      // codes: level 2 = pairs of rows within a block, level 3 = rows
      Eigen::MatrixXi groups(k, 2);
      for (int b = 0; b < pr.n_blocks(); ++b)
        for (int i = 0; i < pr.block_size(b); ++i) {
          groups(pr.block_begin(b) + i, 0) = i / 2;
          groups(pr.block_begin(b) + i, 1) = i;
        }
      Mat Z2 = Mat::Zero(k, k);
      for (int b = 0; b < pr.n_blocks(); ++b)
        for (int i = 0; i < pr.block_size(b); ++i)
          for (int j = 0; j < pr.block_size(b); ++j)
            if (i / 2 == j / 2) Z2(pr.block_begin(b) + i, pr.block_begin(b) + j) = 1;
      const Mat V = dense_V(pr), J = dense_J(pr), I = Mat::Identity(k, k);
      const Vec theta3 = (Vec(3) << 0.11, 0.05, 0.03).finished();
      for (int L = 1; L <= 3; ++L) {
        const NestedLevels st(groups.leftCols(L - 1), Vec::Constant(L, std::nan("")));
        BlockObjective obj(pr, st, reml);
        ObjectiveEval ev;
        const Vec th = theta3.head(L);
        CHECK(obj.evaluate(th, kObjAll, ev));
        std::vector<Mat> G = {J, Z2, I};
        G.resize(L);
        Mat M = V;
        for (int l = 0; l < L; ++l) M += th(l) * G[l];
        compare(ev, dense_eval(pr, M, G, reml), tol_dense);
      }
      // L = 2 with one row a group at level 2 is NestedTwoLevel
      Eigen::MatrixXi rowcodes = groups.rightCols(1);
      const NestedLevels two(rowcodes, Vec::Constant(2, std::nan("")));
      NestedTwoLevel nested;
      Control ctl;
      const BlockFitResult a = fit_block_model(pr, two, reml, ctl), b = fit_block_model(pr, nested, reml, ctl);
      CHECK(a.conv.converged && b.conv.converged);
      for (int j = 0; j < 2; ++j) CHECK_NEAR(a.theta(j), b.theta(j), 1e-12);
      CHECK_NEAR(a.ll, b.ll, 1e-12);
      // three levels: interior optimum or score pointing outwards at 0
      const NestedLevels three(groups, Vec::Constant(3, std::nan("")));
      const BlockFitResult f3 = fit_block_model(pr, three, reml, ctl);
      CHECK(f3.conv.converged);
      {
        BlockObjective obj(pr, three, reml);
        ObjectiveEval ev;
        obj.evaluate(f3.theta, kObjAll, ev);
        for (int j = 0; j < 3; ++j) {
          if (f3.theta(j) > 0) CHECK_NEAR(ev.score(j) / ev.info(j, j), 0.0, 1e-7);
          else CHECK(ev.score(j) <= 0);
        }
      }
      // a fixed component: held at its value, the others at their optimum
      Vec fx = Vec::Constant(3, std::nan(""));
      fx(1) = 0.2;
      const NestedLevels fixed(groups, fx);
      const BlockFitResult ff = fit_block_model(pr, fixed, reml, ctl);
      CHECK(ff.conv.converged);
      CHECK(ff.theta(1) == 0.2);
      {
        BlockObjective obj(pr, fixed, reml);
        ObjectiveEval ev;
        obj.evaluate(ff.theta, kObjAll, ev);
        for (int j : {0, 2}) {
          if (ff.theta(j) > 0) CHECK_NEAR(ev.score(j) / ev.info(j, j), 0.0, 1e-7);
          else CHECK(ev.score(j) <= 0);
        }
        CHECK(ff.ll <= f3.ll + 1e-10);  // fixing cannot raise the maximum
      }
      // a poll that says stop: the fit ends at once, not converged
      int polls = 0;
      const BlockFitResult fp = fit_block_model(pr, three, reml, ctl, Vec(), true, [&polls]() { ++polls; return false; });
      CHECK(!fp.conv.converged);
      CHECK(fp.conv.message == "interrupted");
      CHECK(polls == 1);
    }
}

// (g) RandomTerms (several factors, crossed within the blocks): objective
// against dense algebra with three factors (one level a block, a factor that
// crosses the pairs of rows, one level a row), a fixed component, the fit's
// KKT conditions; subset_rows() with all rows reversed within each block gives
// the same objective on the reordered problem.
static void test_random_terms() {
  for (bool dense : {true, false})
    for (bool reml : {false, true}) {
      const Problem pr = block_problem(16, 2, dense, 0.10, 0.05, 900 + dense);
      const int k = pr.k(), S = 3;
      Eigen::MatrixXi codes(k, S);
      for (int b = 0; b < pr.n_blocks(); ++b)
        for (int i = 0; i < pr.block_size(b); ++i) {
          const int r = pr.block_begin(b) + i;
          codes(r, 0) = b;      // the block
          codes(r, 1) = i % 3;  // crossed with the pairs below (codes shared across blocks)
          codes(r, 2) = r;      // the row
        }
      std::vector<Mat> G(S, Mat::Zero(k, k));
      for (int b = 0; b < pr.n_blocks(); ++b)
        for (int i = 0; i < pr.block_size(b); ++i)
          for (int j = 0; j < pr.block_size(b); ++j) {
            const int ri = pr.block_begin(b) + i, rj = pr.block_begin(b) + j;
            for (int l = 0; l < S; ++l)
              if (codes(ri, l) == codes(rj, l)) G[l](ri, rj) = 1;
          }
      const Vec th = (Vec(3) << 0.09, 0.04, 0.02).finished();
      const RandomTerms st(codes, Vec::Constant(S, std::nan("")));
      {
        BlockObjective obj(pr, st, reml);
        ObjectiveEval ev;
        CHECK(obj.evaluate(th, kObjAll, ev));
        Mat M = dense_V(pr);
        for (int l = 0; l < S; ++l) M += th(l) * G[l];
        compare(ev, dense_eval(pr, M, G, reml), tol_dense);
      }
      // the first and last factors alone are NestedLevels with one level a row
      {
        Eigen::MatrixXi c02(k, 2);
        c02 << codes.col(0), codes.col(2);
        const RandomTerms two(c02, Vec::Constant(2, std::nan("")));
        const NestedLevels nl(codes.rightCols(1), Vec::Constant(2, std::nan("")));
        BlockObjective o1(pr, two, reml), o2(pr, nl, reml);
        ObjectiveEval e1, e2;
        const Vec t2 = (Vec(2) << 0.07, 0.03).finished();
        CHECK(o1.evaluate(t2, kObjAll, e1) && o2.evaluate(t2, kObjAll, e2));
        CHECK_NEAR(e1.ll, e2.ll, tol_dense);
        for (int j = 0; j < 2; ++j) CHECK_NEAR(e1.score(j), e2.score(j), tol_dense);
      }
      // the fit: free components at an interior optimum or at 0 with a score pointing outwards
      Control ctl;
      Vec fx = Vec::Constant(S, std::nan(""));
      fx(1) = 0.03;
      const RandomTerms fixed(codes, fx);
      for (const RandomTerms* s : {&st, &fixed}) {
        const BlockFitResult f = fit_block_model(pr, *s, reml, ctl);
        CHECK(f.conv.converged);
        BlockObjective obj(pr, *s, reml);
        ObjectiveEval ev;
        CHECK(obj.evaluate(f.theta, kObjAll, ev));
        for (int j = 0; j < S; ++j) {
          if (s == &fixed && j == 1) { CHECK(f.theta(j) == 0.03); continue; }
          if (f.theta(j) > 0) CHECK_NEAR(ev.score(j) / ev.info(j, j), 0.0, 1e-7);
          else CHECK(ev.score(j) <= 0);
        }
      }
      // subset_rows(): the rows of each block in reverse order
      if (!dense) {
        std::vector<int> rows;
        Problem rev = pr;
        for (int b = 0; b < pr.n_blocks(); ++b)
          for (int i = pr.block_size(b) - 1; i >= 0; --i) rows.push_back(pr.block_begin(b) + i);
        for (int i = 0; i < k; ++i) {
          rev.y(i) = pr.y(rows[i]);
          rev.v(i) = pr.v(rows[i]);
          rev.X.row(i) = pr.X.row(rows[i]);
        }
        const std::unique_ptr<VarStructure> sub = st.subset_rows(rows);
        CHECK(sub != nullptr);
        BlockObjective o1(pr, st, reml), o2(rev, *sub, reml);
        ObjectiveEval e1, e2;
        CHECK(o1.evaluate(th, kObjAll, e1) && o2.evaluate(th, kObjAll, e2));
        CHECK_NEAR(e1.ll, e2.ll, tol_dense);
        for (int j = 0; j < S; ++j) CHECK_NEAR(e1.score(j), e2.score(j), tol_dense);
      }
    }
}

// (h) RandomTerms with an '~ inner | outer' term (CS, ID, DIAG, AR, CAR, HCS, UN, UNR, HAR, UN on the
// Cholesky scale)
// after one sigma2 factor: the objective against dense algebra, M built from
// the formulas of each struct written out here, the G_j = dM/dtheta_j by
// central differences of that dense M; a fit converges to a KKT point.
static Mat dense_struct_M(const Problem& pr, const Eigen::VectorXi& inner, const Vec& times, int type,
                          const Vec& th) {
  const int k = pr.k();
  Mat M = dense_V(pr);
  for (int b = 0; b < pr.n_blocks(); ++b)
    for (int i = 0; i < pr.block_size(b); ++i)
      for (int j = 0; j < pr.block_size(b); ++j) {
        const int ri = pr.block_begin(b) + i, rj = pr.block_begin(b) + j;
        if (ri == rj) M(ri, rj) += th(0);  // sigma2 of the rows
        const int a = inner(ri), c = inner(rj);
        double e = 0;
        if (type == InnerOuterTerm::kCS) e = a == c ? th(1) : th(1) * th(2);
        if (type == InnerOuterTerm::kID) e = a == c ? th(1) : 0.0;
        if (type == InnerOuterTerm::kDIAG) e = a == c ? th(1 + a) : 0.0;
        if (type == InnerOuterTerm::kAR) e = th(1) * std::pow(th(2), std::abs(a - c));
        if (type == InnerOuterTerm::kCAR) e = th(1) * std::pow(th(2), std::fabs(times(a) - times(c)));
        // HCS, UN, UNR, HAR (3 inner levels): th = (sigma2, variances, correlations)
        const int lo = std::min(a, c), hi = std::max(a, c);
        const int pr_ac = lo * 3 - lo * (lo + 1) / 2 + hi - lo - 1;  // pair (2,1),(3,1),(3,2) 1-based
        if (type == InnerOuterTerm::kHCS) e = a == c ? th(1 + a) : std::sqrt(th(1 + a) * th(1 + c)) * th(4);
        if (type == InnerOuterTerm::kHAR) e = std::sqrt(th(1 + a) * th(1 + c)) * std::pow(th(4), std::abs(a - c));
        if (type == InnerOuterTerm::kUN) e = a == c ? th(1 + a) : std::sqrt(th(1 + a) * th(1 + c)) * th(4 + pr_ac);
        if (type == InnerOuterTerm::kUNR) e = a == c ? th(1) : th(1) * th(2 + pr_ac);
        if (type == InnerOuterTerm::kUNCHOL) {  // E = L L', L = diag th(1..3), below it th(4..6)
          Mat Lc = Mat::Zero(3, 3);
          for (int m = 0; m < 3; ++m) Lc(m, m) = th(1 + m);
          Lc(1, 0) = th(4); Lc(2, 0) = th(5); Lc(2, 1) = th(6);
          e = (Lc * Lc.transpose())(a, c);
        }
        M(ri, rj) += e;
      }
  (void)k;
  return M;
}
// A term of the given type, the blocks its outer levels, after one sigma2
// over the rows (codes: one level per row; theta(0) = sigma2, the term's
// from 1): row i of a block at inner level i % n_lev, or (n_lev = 0) one
// inner level a row.
static InnerOuterTerm block_term(const Problem& pr, int type, int n_lev, Eigen::MatrixXi& codes) {
  const int k = pr.k();
  codes.resize(k, 1);
  InnerOuterTerm t;
  t.type = type;
  t.inner.resize(k);
  t.outer.resize(k);
  for (int b = 0; b < pr.n_blocks(); ++b)
    for (int i = 0; i < pr.block_size(b); ++i) {
      const int r = pr.block_begin(b) + i;
      codes(r, 0) = r;
      t.inner(r) = n_lev > 0 ? i % n_lev : r;
      t.outer(r) = b;
    }
  t.off = 1;
  t.n_lev = n_lev;
  return t;
}
static InnerOuterTerm three_level_term(const Problem& pr, int type, Eigen::MatrixXi& codes) {
  return block_term(pr, type, 3, codes);
}
static void test_inner_outer_terms() {
  for (bool reml : {false, true})
    for (int type = 0; type <= 9; ++type) {
      const Problem pr = block_problem(18, 2, type % 2 == 0, 0.08, 0.05, 950 + type);
      Eigen::MatrixXi codes;
      InnerOuterTerm t = three_level_term(pr, type, codes);
      t.times = (Vec(3) << 0.0, 0.7, 2.1).finished();
      t.n_v = (t.hetero() || type == InnerOuterTerm::kUNCHOL) ? 3 : 1;
      t.n_r = (type == InnerOuterTerm::kID || type == InnerOuterTerm::kDIAG) ? 0
              : (type == InnerOuterTerm::kUN || type == InnerOuterTerm::kUNR || type == InnerOuterTerm::kUNCHOL) ? 3 : 1;
      const int q = 1 + t.n_v + t.n_r;
      Vec th(q);
      th(0) = 0.03;
      for (int m = 0; m < t.n_v; ++m) th(1 + m) = 0.06 + 0.02 * m;
      for (int m = 0; m < t.n_r; ++m) th(1 + t.n_v + m) = 0.45 - 0.15 * m;
      const RandomTerms st(codes, Vec::Constant(q, std::nan("")), {t});
      CHECK(st.n_theta() == q);
      if (t.n_r) CHECK(st.lower(q - 1) == (type == InnerOuterTerm::kCAR ? 0.0 : t.lower_r()));
      BlockObjective obj(pr, st, reml);
      ObjectiveEval ev;
      CHECK(obj.evaluate(th, kObjAll, ev));
      const Mat M = dense_struct_M(pr, t.inner, t.times, type, th);
      std::vector<Mat> G(q);
      const double h = 1e-6;
      for (int j = 0; j < q; ++j) {
        Vec tp = th, tm = th;
        tp(j) += h;
        tm(j) -= h;
        G[j] = (dense_struct_M(pr, t.inner, t.times, type, tp) - dense_struct_M(pr, t.inner, t.times, type, tm)) / (2 * h);
      }
      compare(ev, dense_eval(pr, M, G, reml), 1e-7);  // (central differences: O(h^2))
      // the term's own part of M (ranef()): M without V and without sigma2
      if (!reml) {
        Vec t0 = th;
        t0(0) = 0.0;
        const Mat Et = dense_struct_M(pr, t.inner, t.times, type, t0) - dense_V(pr);
        CHECK(st.n_terms() == 1);
        Mat Gt;
        for (int b = 0; b < pr.n_blocks(); ++b) {
          st.term_block(pr, th, 0, b, Gt);
          const int i0 = pr.block_begin(b), nb = pr.block_size(b);
          CHECK((Gt - Et.block(i0, i0, nb, nb)).cwiseAbs().maxCoeff() < 1e-14);
        }
      }
      Control ctl;
      const BlockFitResult f = fit_block_model(pr, st, reml, ctl);
      // Known limitation (2026-12-03): under ML this synthetic problem puts the UN
      // estimate on the boundary of the positive semi-definite cone (a correlation
      // of 1; on the Cholesky scale a zero diagonal entry of L, where the objective
      // is flat to first order), and neither Fisher scoring nor quasi-Newton then
      // meets the convergence criterion.  There the fit must at least say so (no
      // silent answer) and stop on that boundary; elsewhere it must converge.
      const bool un_boundary = !reml && (type == InnerOuterTerm::kUN || type == InnerOuterTerm::kUNCHOL);
      if (un_boundary && !f.conv.converged) {
        CHECK(!f.conv.message.empty());
        bool on_boundary = false;
        for (int j = 1; j < q; ++j)
          on_boundary = on_boundary || f.theta(j) <= st.lower(j) + 1e-6 || f.theta(j) >= st.upper(j) - 1e-6;
        CHECK(on_boundary);
        continue;
      }
      CHECK(f.conv.converged);
      CHECK(obj.evaluate(f.theta, kObjAll, ev));
      for (int j = 0; j < q; ++j) {
        if (!(f.theta(j) > st.lower(j) + 1e-8 && f.theta(j) < st.upper(j) - 1e-8)) continue;
        // (on the Cholesky scale, a column of L at 0 is a flat direction:
        // information 0, and the score must vanish itself)
        if (ev.info(j, j) != 0) CHECK_NEAR(ev.score(j) / ev.info(j, j), 0.0, 1e-6);
        else CHECK_NEAR(ev.score(j), 0.0, 1e-8);
      }
    }
}


// (h2) UN on the Cholesky scale with fixed components (UNCHOLFIX, metafor's
// fit of UN with some of tau2/rho given): M by metafor's recipe written out
// here (P = L L'; the variances diag(P) and correlations cov2cor(P) with the
// fixed values put in their place; E = sqrt(v_a v_c) r_ac), G_j by central
// differences, against the block objective; then a fit that converges with
// a zero score in every direction that moves the likelihood.
static Mat cholfix_M(const Problem& pr, const Eigen::VectorXi& inner, const Vec& fv, const Vec& fr, const Vec& th) {
  Mat Lc = Mat::Zero(3, 3);
  for (int m = 0; m < 3; ++m) Lc(m, m) = th(1 + m);
  Lc(1, 0) = th(4); Lc(2, 0) = th(5); Lc(2, 1) = th(6);
  const Mat P = Lc * Lc.transpose();
  Mat E(3, 3);
  int q = 0;
  Vec v(3);
  for (int a = 0; a < 3; ++a) v(a) = std::isnan(fv(a)) ? P(a, a) : fv(a);
  for (int c = 0; c < 3; ++c)
    for (int a = c + 1; a < 3; ++a, ++q) {
      const double r = std::isnan(fr(q)) ? P(a, c) / std::sqrt(P(a, a) * P(c, c)) : fr(q);
      E(a, c) = E(c, a) = std::sqrt(v(a) * v(c)) * r;
    }
  for (int a = 0; a < 3; ++a) E(a, a) = v(a);
  Mat M = dense_V(pr);
  for (int b = 0; b < pr.n_blocks(); ++b)
    for (int i = 0; i < pr.block_size(b); ++i)
      for (int j = 0; j < pr.block_size(b); ++j) {
        const int ri = pr.block_begin(b) + i, rj = pr.block_begin(b) + j;
        if (ri == rj) M(ri, rj) += th(0);
        M(ri, rj) += E(inner(ri), inner(rj));
      }
  return M;
}
static void test_unchol_fixed() {
  const double nan = std::nan("");
  // (a variance fixed; a correlation fixed; both)
  const Vec fvs[] = {(Vec(3) << nan, 0.05, nan).finished(), Vec::Constant(3, nan), (Vec(3) << 0.08, nan, nan).finished()};
  const Vec frs[] = {Vec::Constant(3, nan), (Vec(3) << nan, -0.6, nan).finished(), (Vec(3) << nan, nan, 0.4).finished()};
  for (bool reml : {false, true})
    for (int c = 0; c < 3; ++c) {
      const Problem pr = block_problem(24, 2, c == 1, 0.08, 0.05, 990 + c);
      Eigen::MatrixXi codes;
      InnerOuterTerm t = three_level_term(pr, InnerOuterTerm::kUNCHOLFIX, codes);
      t.n_v = 3;
      t.n_r = 3;
      t.fix_v = fvs[c];
      t.fix_r = frs[c];
      const int q = 7;
      const Vec th = (Vec(q) << 0.03, 0.25, -0.2, 0.15, 0.1, -0.12, 0.05).finished();
      const RandomTerms st(codes, Vec::Constant(q, nan), {t});
      // (every entry of L unbounded: a column's sign leaves L L' as it is)
      for (int j = 1; j < q; ++j) CHECK(std::isinf(st.lower(j)) && std::isinf(st.upper(j)));
      BlockObjective obj(pr, st, reml);
      ObjectiveEval ev;
      CHECK(obj.evaluate(th, kObjAll, ev));
      const Mat M = cholfix_M(pr, t.inner, t.fix_v, t.fix_r, th);
      std::vector<Mat> G(q);
      const double h = 1e-6;
      for (int j = 0; j < q; ++j) {
        Vec tp = th, tm = th;
        tp(j) += h;
        tm(j) -= h;
        G[j] = (cholfix_M(pr, t.inner, t.fix_v, t.fix_r, tp) - cholfix_M(pr, t.inner, t.fix_v, t.fix_r, tm)) / (2 * h);
      }
      compare(ev, dense_eval(pr, M, G, reml), 1e-7);  // (central differences: O(h^2))
      // the default start: the diagonal of L as variances (0 there is the
      // stationary point L = 0, where a fit from it stopped at once)
      const Vec s0 = block_start(pr, st);
      for (int j = 1; j <= 3; ++j) CHECK(s0(j) > 0.0);
      for (int j = 4; j < q; ++j) CHECK(s0(j) == 0.0);
      // the fit from th (before the start above, every fit began at L = 0
      // and stopped there).  Known limitation: with the correlation fixed
      // (c = 1; its free correlations form no cycle, which R fits on the
      // (v, r) scale, never on this one) the ML fit has sigma2 at 0 beside a
      // flat direction of L, and the quasi-Newton fit reaches maxiter
      if (c == 1 && !reml) continue;
      Control ctl;
      const BlockFitResult f = fit_block_model(pr, st, reml, ctl, th);
      CHECK(f.conv.converged);
      CHECK(f.ll > ev.ll);
      CHECK(obj.evaluate(f.theta, kObjAll, ev));
      // (the information is singular: the directions that move only fixed
      // components are flat; the score vanishes in all of them; sigma2 at
      // its bound 0 may have a negative score)
      for (int j = 0; j < q; ++j)
        if (j > 0 || f.theta(0) > 0.0) CHECK_NEAR(ev.score(j), 0.0, 1e-5 * (1 + std::fabs(ev.ll)));
        else CHECK(ev.score(0) <= 1e-5 * (1 + std::fabs(ev.ll)));
    }
}

// (i) GEN, GDIAG and the spatial structures: M by the formulas written out
// here (GEN: z_i' E z_j with E unstructured (variances, correlations) or on
// the Cholesky scale; GDIAG: E diagonal; spatial: tau2 f(d_ij / rho) with d
// the euclidean, maximum or manhattan distance of the rows' coordinates, or a
// given distance matrix), G_j by central differences, against the block objective.
static Mat dense_gen_M(const Problem& pr, const Eigen::VectorXi& outer, const Mat& Z, int base, const Vec& th) {
  Mat M = dense_V(pr);
  const int k = pr.k();
  Mat E(2, 2);
  if (base == InnerOuterTerm::kUN) E << th(1), std::sqrt(th(1) * th(2)) * th(3), std::sqrt(th(1) * th(2)) * th(3), th(2);
  if (base == InnerOuterTerm::kDIAG) E << th(1), 0, 0, th(2);
  if (base == InnerOuterTerm::kUNCHOL) {
    Mat Lc(2, 2);
    Lc << th(1), 0, th(3), th(2);
    E = Lc * Lc.transpose();
  }
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      if (i == j) M(i, j) += th(0);
      if (outer(i) == outer(j)) M(i, j) += Z.row(i) * E * Z.row(j).transpose();
    }
  return M;
}
static Mat dense_sp_M(const Problem& pr, const Eigen::VectorXi& outer, const Mat& D, int type, const Vec& th) {
  Mat M = dense_V(pr);
  const int k = pr.k();
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      if (i == j) M(i, j) += th(0);
      if (outer(i) != outer(j)) continue;
      const double u = D(i, j) / th(2);
      double r = 0;
      if (type == InnerOuterTerm::kSPEXP) r = std::exp(-u);
      if (type == InnerOuterTerm::kSPGAU) r = std::exp(-u * u);
      if (type == InnerOuterTerm::kSPLIN) r = u < 1 ? 1 - u : 0;
      if (type == InnerOuterTerm::kSPRAT) r = 1 - u * u / (1 + u * u);
      if (type == InnerOuterTerm::kSPSPH) r = u < 1 ? 1 - 1.5 * u + 0.5 * u * u * u : 0;
      M(i, j) += th(1) * r;
    }
  return M;
}
static void test_gen_spatial_terms() {
  for (bool reml : {false, true})
    for (int kind = 0; kind < 3 + 5 * 4; ++kind) {
      const Problem pr = block_problem(12, 2, kind % 2 == 0, 0.08, 0.05, 1200 + kind);
      const int k = pr.k();
      Eigen::MatrixXi codes;
      InnerOuterTerm t = block_term(pr, InnerOuterTerm::kCS, 0, codes);  // (one inner level a row)
      Mat Z(k, 2), C(k, 2), D(k, k);
      for (int r = 0; r < k; ++r) {
        Z(r, 0) = 1;
        Z(r, 1) = std::sin(1.3 * r) + (r % 3 == 0 ? 0.0 : 0.5);
        C(r, 0) = std::cos(0.7 * r) * 3;
        C(r, 1) = (r % 4) * 0.9;
      }
      const bool gen = kind < 3;
      const int sp_type = InnerOuterTerm::kSPEXP + (kind - 3) % 5, dist = (kind - 3) / 5;  // 3: a distance matrix
      Vec th(4);
      th << 0.03, 0.06, 0.09, 0.35;
      if (gen) {
        t.type = kind == 1 ? InnerOuterTerm::kGDIAG : InnerOuterTerm::kGEN;
        t.base = kind == 0 ? InnerOuterTerm::kUN : kind == 1 ? InnerOuterTerm::kDIAG : InnerOuterTerm::kUNCHOL;
        t.zlev = Z;
        t.n_lev = 2;
        t.n_v = 2;
        t.n_r = kind == 1 ? 0 : 1;
        if (kind == 1) th.conservativeResize(3);
        if (kind == 2) th(3) = -0.12;
      } else {
        t.type = sp_type;
        t.n_v = 1;
        t.n_r = 1;
        th.conservativeResize(3);
        th(2) = 2.2;
        for (int i = 0; i < k; ++i)
          for (int j = 0; j < k; ++j) {
            const Vec d = (C.row(i) - C.row(j)).transpose().cwiseAbs();
            D(i, j) = dist == 1 ? d.maxCoeff() : dist == 2 ? d.sum() : d.norm();
            if (dist == 3) D(i, j) = std::fabs(std::sin(double(i)) - std::sin(double(j))) * 2.5;
          }
        if (dist == 3) t.dmat = D;
        else {
          t.coords = C;
          t.dist = dist;
        }
      }
      const int q = static_cast<int>(th.size());
      const RandomTerms st(codes, Vec::Constant(q, std::nan("")), {t});
      CHECK(st.n_theta() == q);
      auto Mof = [&](const Vec& x) {
        return gen ? dense_gen_M(pr, t.outer, Z, t.base, x) : dense_sp_M(pr, t.outer, D, sp_type, x);
      };
      BlockObjective obj(pr, st, reml);
      ObjectiveEval ev;
      CHECK(obj.evaluate(th, kObjAll, ev));
      std::vector<Mat> G(q);
      const double h = 1e-6;
      for (int j = 0; j < q; ++j) {
        Vec tp = th, tm = th;
        tp(j) += h;
        tm(j) -= h;
        G[j] = (Mof(tp) - Mof(tm)) / (2 * h);
      }
      compare(ev, dense_eval(pr, Mof(th), G, reml), 1e-7);
    }
  // great-circle distances (km): Meeus' worked example, Paris to Washington
  // (Astronomical Algorithms, 1991, example 11.c: 6181.63 km)
  CHECK_NEAR(InnerOuterTerm::gcd_km(-2.33722, 48.83639, 77.06556, 38.92139), 6181.63, 0.05);
}

// The restarts of fit_objective() at a variance of 0 beside a free
// correlation (structure.hpp), and the solvers' flat-likelihood test
// (optimise.hpp).
static void test_boundary_restarts() {
  const int k = 6;
  Eigen::MatrixXi codes(k, 1);
  for (int r = 0; r < k; ++r) codes(r, 0) = r;
  auto term = [&](int type, int n_v, int n_r) {
    InnerOuterTerm t;
    t.type = type;
    t.inner.resize(k);
    t.outer.resize(k);
    for (int r = 0; r < k; ++r) { t.inner(r) = r % 2; t.outer(r) = r / 2; }
    t.off = 1;
    t.n_lev = 2;
    t.n_v = n_v;
    t.n_r = n_r;
    return t;
  };
  const double nan = std::nan("");
  // HCS: theta = (sigma2, v1, v2, rho) with v1 = 0
  const Vec th = (Vec(4) << 0.02, 0.0, 0.04, -0.3).finished();
  const RandomTerms hcs(codes, Vec::Constant(4, nan), {term(InnerOuterTerm::kHCS, 2, 1)});
  const std::vector<Vec> rs = hcs.boundary_restarts(th, 1.0);
  CHECK(rs.size() == 4);
  const double want_r[] = {-0.3, -0.9, 0.0, 0.9};
  for (std::size_t i = 0; i < rs.size() && i < 4; ++i) {
    CHECK(std::fabs(rs[i](1) - 0.004) < 1e-15);  // a tenth of the term's largest variance
    CHECK(rs[i](0) == 0.02 && rs[i](2) == 0.04);  // the others as they were
    CHECK(std::fabs(rs[i](3) - want_r[i]) < 1e-15);
  }
  // every variance of the term at 0: raised to a tenth of scale
  const Vec th0 = (Vec(4) << 0.02, 0.0, 0.0, 0.5).finished();
  const std::vector<Vec> r0 = hcs.boundary_restarts(th0, 0.5);
  CHECK(r0.size() == 4 && r0[0](1) == 0.05 && r0[0](2) == 0.05);
  // none: no variance at 0; the correlation fixed; the variance fixed at 0; DIAG; UN on the Cholesky scale
  CHECK(hcs.boundary_restarts((Vec(4) << 0.0, 0.01, 0.04, 0.2).finished(), 1.0).empty());
  const RandomTerms hcs_r(codes, (Vec(4) << nan, nan, nan, 0.5).finished(), {term(InnerOuterTerm::kHCS, 2, 1)});
  CHECK(hcs_r.boundary_restarts(th, 1.0).empty());
  const RandomTerms hcs_v(codes, (Vec(4) << nan, 0.0, nan, nan).finished(), {term(InnerOuterTerm::kHCS, 2, 1)});
  CHECK(hcs_v.boundary_restarts(th, 1.0).empty());
  const RandomTerms diag(codes, Vec::Constant(3, nan), {term(InnerOuterTerm::kDIAG, 2, 0)});
  CHECK(diag.boundary_restarts((Vec(3) << 0.02, 0.0, 0.04).finished(), 1.0).empty());
  const RandomTerms chol(codes, Vec::Constant(4, nan), {term(InnerOuterTerm::kUNCHOL, 2, 1)});
  // (UNCHOL: L(1, 1) at its bound 0 with L(2, 1) != 0: the restart with
  // column 1 negated below the diagonal, L L' unchanged; chol_flips())
  const std::vector<Vec> rch = chol.boundary_restarts(th, 1.0);
  CHECK(rch.size() == 1 && rch[0](3) == 0.3 && rch[0].head(3) == th.head(3));
  CHECK(chol.boundary_restarts((Vec(4) << 0.02, 0.1, 0.04, -0.3).finished(), 1.0).empty());
  // CAR: correlations in [0, 1]
  const RandomTerms car(codes, Vec::Constant(3, nan), {term(InnerOuterTerm::kCAR, 1, 1)});
  const std::vector<Vec> rc = car.boundary_restarts((Vec(3) << 0.02, 0.0, 0.3).finished(), 2.0);
  CHECK(rc.size() == 4 && rc[0](1) == 0.2 && std::fabs(rc[1](2) - 0.05) < 1e-15 && std::fabs(rc[3](2) - 0.95) < 1e-15);
  // transfer_restarts(): the factor's grouping the same as the term's outer
  // one (relabelled), every variance of the term at 0: beside the four
  // restarts above, one with 9/10 of sigma2 moved onto each variance, the
  // correlation at 95% of its box; none when the groupings differ (above),
  // sigma2 is 0 or fixed, or a variance of the term is positive
  Eigen::MatrixXi same(k, 1);
  for (int r = 0; r < k; ++r) same(r, 0) = 7 - r / 2;
  CHECK(same_partition(same.col(0), term(InnerOuterTerm::kHCS, 2, 1).outer));
  CHECK(!same_partition(codes.col(0), term(InnerOuterTerm::kHCS, 2, 1).outer));
  Eigen::VectorXi merged = same.col(0);
  merged(2) = merged(0);  // (rows 0..3 in one group: coarser than the outer grouping)
  CHECK(!same_partition(merged, term(InnerOuterTerm::kHCS, 2, 1).outer));
  const RandomTerms hcs_s(same, Vec::Constant(4, nan), {term(InnerOuterTerm::kHCS, 2, 1)});
  const std::vector<Vec> rt = hcs_s.boundary_restarts(th0, 0.5);
  CHECK(rt.size() == 5);
  if (rt.size() == 5) {
    CHECK(std::fabs(rt[4](0) - 0.002) < 1e-15 && std::fabs(rt[4](1) - 0.018) < 1e-15 &&
          std::fabs(rt[4](2) - 0.018) < 1e-15 && std::fabs(rt[4](3) - 0.9) < 1e-15);
  }
  CHECK(hcs_s.boundary_restarts((Vec(4) << 0.0, 0.0, 0.0, 0.5).finished(), 0.5).size() == 4);
  CHECK(hcs_s.boundary_restarts(th, 1.0).size() == 4);
  const RandomTerms hcs_sf(same, (Vec(4) << 0.02, nan, nan, nan).finished(), {term(InnerOuterTerm::kHCS, 2, 1)});
  CHECK(hcs_sf.boundary_restarts(th0, 0.5).size() == 4);
  // admissible(): HCS over 2 levels always; CS over 3 levels with rho = -0.9 not
  CHECK(hcs.admissible(th) && hcs.admissible((Vec(4) << 0.02, 0.1, 0.04, -1.0).finished()));
  InnerOuterTerm cs3 = term(InnerOuterTerm::kCS, 1, 1);
  for (int r = 0; r < k; ++r) cs3.inner(r) = r % 3;
  const RandomTerms cs(codes, Vec::Constant(3, nan), {cs3});
  CHECK(!cs.admissible((Vec(3) << 0.02, 0.1, -0.9).finished()) && cs.admissible((Vec(3) << 0.02, 0.1, -0.5).finished()));
  // GEN with the base UN on the natural scale (some components fixed): the
  // restarts as for UN; admissible() checks the base matrix (3 columns,
  // correlations -0.9 not PSD); on the Cholesky scale and GDIAG: none
  InnerOuterTerm gen = term(InnerOuterTerm::kGEN, 3, 3);
  gen.base = InnerOuterTerm::kUN;
  gen.n_lev = 3;
  gen.zlev = Mat::Zero(k, 3);
  for (int r = 0; r < k; ++r) { gen.inner(r) = r; gen.zlev(r, 0) = 1.0; gen.zlev(r, r % 3) += 1.0; }
  const RandomTerms gn(codes, (Vec(7) << nan, 0.05, nan, nan, nan, nan, nan).finished(), {gen});
  const Vec thg = (Vec(7) << 0.02, 0.05, 0.0, 0.03, 0.2, 0.1, 0.3).finished();
  const std::vector<Vec> rg = gn.boundary_restarts(thg, 1.0);
  CHECK(rg.size() == 4 && std::fabs(rg[0](2) - 0.005) < 1e-15 && rg[0](1) == 0.05 && rg[0](4) == 0.2);
  CHECK(std::fabs(rg[3](5) - 0.9) < 1e-15);
  CHECK(gn.admissible(thg) && !gn.admissible((Vec(7) << 0.02, 0.05, 0.01, 0.03, -0.9, -0.9, -0.9).finished()));
  InnerOuterTerm genc = gen;
  genc.base = InnerOuterTerm::kUNCHOL;
  const RandomTerms gc(codes, Vec::Constant(7, nan), {genc});
  const std::vector<Vec> rgc = gc.boundary_restarts(thg, 1.0);
  CHECK(rgc.size() == 1 && rgc[0](6) == -0.3 && rgc[0].head(6) == thg.head(6));
  InnerOuterTerm gd = gen;
  gd.type = InnerOuterTerm::kGDIAG;
  gd.base = InnerOuterTerm::kDIAG;
  gd.n_r = 0;
  const RandomTerms gdg(codes, Vec::Constant(4, nan), {gd});
  CHECK(gdg.boundary_restarts((Vec(4) << 0.02, 0.05, 0.0, 0.03).finished(), 1.0).empty());
  // the flat-likelihood test: three flat iterations with small steps
  PlateauTest pt;
  CHECK(!pt(-3.0, -3.0, 1e-9) && !pt(-3.0, -3.0 + 1e-13, 1e-9) && pt(-3.0, -3.0, 0.0));
  PlateauTest p2;
  CHECK(!p2(-3.0, -3.0, 1e-9) && !p2(-3.0, -3.0, 1e-9) && !p2(-3.0, -2.9, 1e-9) && !p2(-2.9, -2.9, 1e-9));
  PlateauTest p3;
  CHECK(!p3(-3.0, -3.0, 1e-3) && !p3(-3.0, -3.0, 1e-3) && !p3(-3.0, -3.0, 1e-3));  // steps too large
}

// A dense V given by the user: base R's isSymmetric() decision (the values
// below follow from all.equal.numeric's formula by hand) and the non-zero
// entries as triplets.
static void test_dense_input() {
  auto nopoll = [](std::size_t) {};
  const double nan = std::nan("");
  // 3 x 3, exactly symmetric, two zeros off the diagonal
  const double S[9] = {2, 0, 0.5, 0, 3, 0, 0.5, 0, 4};
  CHECK(r_is_symmetric(S, 3, nopoll));
  const DenseTriplets tr = dense_triplets(S, 3, nopoll);
  CHECK(tr.x.size() == 5);
  CHECK(tr.i[1] == 2 && tr.j[1] == 0 && tr.x[1] == 0.5);   // column-major: (0,0), (2,0), (1,1), ...
  CHECK(tr.i[4] == 2 && tr.j[4] == 2 && tr.x[4] == 4);
  // 6 x 6 identity plus one asymmetric pair (3,4)/(4,3) of rows the pre-test
  // skips: two unequal entries, mean relative difference d / (1 + d / 2)
  double A[36] = {0};
  for (int i = 0; i < 6; ++i) A[i + 6 * i] = 1;
  A[2 + 6 * 3] = 1.0; A[3 + 6 * 2] = 1.0 + 1e-14;            // 1e-14 / 1.000..005 <= 100 eps (2.2e-14)
  CHECK(r_is_symmetric(A, 6, nopoll));
  A[3 + 6 * 2] = 1.0 + 3e-14;                                // 3e-14 > 2.2e-14
  CHECK(!r_is_symmetric(A, 6, nopoll));
  // the pre-test (row 1 against column 1 at 8 x 100 eps) catches what the
  // whole-matrix mean forgives: rows 1-2 hold entries 1 with one relative
  // difference 1e-12 at (1, 2) (pre-test: 1e-12 > 1.8e-13), rows 3-6 entries
  // 1e4 whose 12 off-diagonal entries differ by one ulp (whole-matrix mean:
  // (12 x 1e4 eps + 2e-12) / (12e4 + 2) ~ 2.4e-16 <= 2.2e-14)
  double B[36] = {0};
  for (int j = 2; j < 6; ++j)
    for (int i = 2; i < 6; ++i) B[i + 6 * j] = (i < j) ? 1e4 * (1 + DBL_EPSILON) : 1e4;
  B[0] = B[7] = 1.0;
  B[0 + 6 * 1] = 1.0; B[1 + 6 * 0] = 1.0 + 1e-12;
  CHECK(!r_is_symmetric(B, 6, nopoll));
  B[1 + 6 * 0] = 1.0;                      // the ulp differences alone pass
  CHECK(r_is_symmetric(B, 6, nopoll));
  // NA: matching patterns are left out, a mismatch is not symmetric
  double N3[9] = {1, nan, 0, nan, 1, 0, 0, 0, 1};
  CHECK(r_is_symmetric(N3, 3, nopoll));
  CHECK(dense_triplets(N3, 3, nopoll).x.size() == 5);
  N3[3] = 0;
  CHECK(!r_is_symmetric(N3, 3, nopoll));
  // an infinite entry against a finite one: an infinite difference
  const double I2[4] = {1, HUGE_VAL, 1, 1};
  CHECK(!r_is_symmetric(I2, 2, nopoll));
  const double I2s[4] = {1, HUGE_VAL, HUGE_VAL, 1};
  CHECK(r_is_symmetric(I2s, 2, nopoll));
  // 1 x 1 and the polling: once per column of each pass
  const double one[1] = {5};
  CHECK(r_is_symmetric(one, 1, nopoll));
  std::size_t polls = 0;
  r_is_symmetric(A, 6, [&](std::size_t) { ++polls; });
  CHECK(polls == 18);
}

int main() {
  test_scoring_downhill();
  test_scoring_gives_up_on_halving();
  test_scoring_direction();
  test_quasi_newton_held_bound();
  test_objective_dense();
  test_diagonal_dispatch();
  test_solvers();
  test_vcov();
  test_nested_levels();
  test_random_terms();
  test_inner_outer_terms();
  test_unchol_fixed();
  test_boundary_restarts();
  test_gen_spatial_terms();
  test_dense_input();
  return metafast_test::report("blocks");
}
