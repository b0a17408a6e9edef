// Simulated problems of crossed random effects for the stand-alone tests of
// the sparse engine (test_sparse.cpp, test_sparse_gterms.cpp): V blocks,
// diagonal or dense, the same problem as one block (the dense reference of
// the block objective), and the dense algebra that the sparse engine's row
// quantities are checked against.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/model.hpp"
#include "core/refit_crossed.hpp"
#include "core/sparse_objective.hpp"
#include "core/rng.hpp"
#include "core/tests/harness.hpp"

namespace metafast {

// Fills pr with k rows of p columns (an intercept, then normal covariates)
// in V blocks of sizes 1..max_block (cycling), diagonal or dense, and
// outcomes 0.3 + 0.2 x + sampling error; returns V as one k x k matrix (for
// the one-block reference). Draws from s in a fixed order, after the caller's
// codes and before its random effects.
inline Mat simulate_blocks(Problem& pr, int k, int p, int max_block, bool dense, Stream& s) {
  std::vector<int> sizes;
  for (int n = 0, b = 0; n < k; ++b) { sizes.push_back(std::min(1 + b % max_block, k - n)); n += sizes.back(); }
  const int nbk = static_cast<int>(sizes.size());
  pr.offsets.resize(nbk + 1);
  pr.offsets(0) = 0;
  for (int b = 0; b < nbk; ++b) pr.offsets(b + 1) = pr.offsets(b) + sizes[b];
  pr.X = Mat::Ones(k, p);
  for (int i = 0; i < k; ++i)
    for (int j = 1; j < p; ++j) pr.X(i, j) = s.normal();
  pr.v.resize(k);
  pr.y.resize(k);
  Mat Vfull = Mat::Zero(k, k);
  std::vector<double> vb;
  for (int b = 0; b < nbk; ++b) {
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
    Vfull.block(i0, i0, nb, nb) = V;
    const Mat Lb = V.llt().matrixL();
    Vec z(nb);
    for (int i = 0; i < nb; ++i) z(i) = s.normal();
    const Vec err = Lb * z;
    for (int i = 0; i < nb; ++i) pr.v(i0 + i) = V(i, i);
    for (int i = 0; i < nb; ++i) pr.y(i0 + i) = 0.3 + 0.2 * pr.X(i0 + i, p - 1) + err(i);
  }
  if (dense) pr.Vblocks = Eigen::Map<const Vec>(vb.data(), static_cast<Eigen::Index>(vb.size()));
  return Vfull;
}

// The same problem as one block of V (the dense reference).
inline Problem as_one_block(const Problem& pr, const Mat& Vfull, bool dense) {
  Problem one = pr;
  const int k = static_cast<int>(pr.y.size());
  one.offsets.resize(2);
  one.offsets << 0, k;
  if (dense) one.Vblocks = Eigen::Map<const Vec>(Vfull.data(), static_cast<Eigen::Index>(k) * k);
  return one;
}

struct Crossed {
  Problem pr;         // V blocks of sizes 1..4 (cycling), diagonal or dense
  Problem one;        // the same problem as one block (the dense reference)
  Eigen::MatrixXi codes;
  IVec nlevels;
};

// k rows; term 0 with n0 groups, term 1 with n1 groups (random, crossed),
// term 2 (when three) one group a row; outcomes with effects of every term.
inline Crossed crossed_problem(int k, int p, int n0, int n1, bool three, bool dense, std::uint64_t seed) {
  Stream s(seed, 0);
  Crossed c;
  const int L = three ? 3 : 2;
  c.nlevels.resize(L);
  c.nlevels(0) = n0;
  c.nlevels(1) = n1;
  if (three) c.nlevels(2) = k;
  c.codes.resize(k, L);
  for (int i = 0; i < k; ++i) {
    // every group used at least once, the rest at random
    c.codes(i, 0) = i < n0 ? i : static_cast<int>(s.uniform() * n0) % n0;
    c.codes(i, 1) = i < n1 ? (i * 7) % n1 : static_cast<int>(s.uniform() * n1) % n1;
    if (three) c.codes(i, 2) = i;
  }
  const Mat Vfull = simulate_blocks(c.pr, k, p, 4, dense, s);
  Problem& pr = c.pr;
  // group effects
  for (int l = 0; l < L; ++l) {
    Vec u(c.nlevels(l));
    for (int g = 0; g < u.size(); ++g) u(g) = std::sqrt(0.05 + 0.03 * l) * s.normal();
    for (int i = 0; i < k; ++i) pr.y(i) += u(c.codes(i, l));
  }
  c.one = as_one_block(pr, Vfull, dense);
  return c;
}

// Two evaluations of the same objective agree (the parts in what; beta,
// (X'WX)^-1 and e'We always) to tol.
inline void compare_evals(const ObjectiveEval& a, const ObjectiveEval& b, int what, double tol) {
  CHECK(a.ok);
  CHECK(b.ok);
  if (!a.ok || !b.ok) return;
  if (what & kObjLL) CHECK_NEAR(a.ll, b.ll, tol);
  CHECK_NEAR(a.eWe, b.eWe, tol);
  for (int j = 0; j < b.beta.size(); ++j) {
    CHECK_NEAR(a.beta(j), b.beta(j), tol);
    for (int l = 0; l < b.beta.size(); ++l) CHECK_NEAR(a.Ainv(j, l), b.Ainv(j, l), tol);
  }
  if (what & kObjScore)
    for (int j = 0; j < b.score.size(); ++j) CHECK_NEAR(a.score(j), b.score(j), tol);
  if (what & kObjInfo)
    for (int j = 0; j < b.info.rows(); ++j)
      for (int l = 0; l < b.info.cols(); ++l) CHECK_NEAR(a.info(j, l), b.info(j, l), tol);
}

// The score equals a central difference of the log-likelihood (step h) in
// every parameter, to tol.
inline void check_score_by_differences(SparseCrossedObjective& sp, const Vec& th, const Vec& score, double h,
                                       double tol) {
  for (int j = 0; j < th.size(); ++j) {
    Vec tp = th, tm = th;
    tp(j) += h;
    tm(j) -= h;
    ObjectiveEval ep, em;
    sp.evaluate(tp, kObjLL, ep);
    sp.evaluate(tm, kObjLL, em);
    CHECK_NEAR(score(j), (ep.ll - em.ll) / (2 * h), tol);
  }
}

// The dense algebra at theta: M = the marginal covariance of the problem as
// one block, W = M^-1, A = (X'WX)^-1, H = X A X' W, Ve = M - X A X' (the
// covariance of the residuals).
struct DenseReference {
  Mat M, W, A, H, Ve;
};

inline DenseReference dense_reference(const CrossedTerms& st, const Problem& one, const Vec& th) {
  DenseReference d;
  const int k = one.k();
  st.block_cov(one, th, 0, 0, d.M);
  d.W = d.M.llt().solve(Mat::Identity(k, k));
  const Mat& X = one.X;
  d.A = (X.transpose() * d.W * X).inverse();
  d.H = X * d.A * X.transpose() * d.W;
  d.Ve = d.M - X * d.A * X.transpose();
  return d;
}

// The sparse engine's row diagnostics, W X and k x k matrices (M, W, H)
// equal the dense algebra (to tol, relative to the largest entry for the
// matrices).
inline void check_row_quantities(SparseCrossedObjective& sp, const Vec& th, const DenseReference& d,
                                 const Mat& X, double tol) {
  const int k = static_cast<int>(X.rows());
  CrossedRowDiag rd;
  CHECK(sp.row_diagnostics(th, rd));
  const Vec w1 = d.W * Vec::Ones(k);
  for (int i = 0; i < k; ++i) {
    CHECK_NEAR(rd.hat(i), d.H(i, i), tol);
    CHECK_NEAR(rd.wdiag(i), d.W(i, i), tol);
    CHECK_NEAR(rd.wrow(i), w1(i), tol);
    CHECK_NEAR(rd.mdiag(i), d.M(i, i), tol);
    CHECK_NEAR(rd.var_resid(i), d.Ve(i, i), tol);
  }
  Mat WX;
  CHECK(sp.weighted_X(th, WX));
  CHECK(WX.rows() == k && WX.cols() == X.cols());
  CHECK((WX - d.W * X).cwiseAbs().maxCoeff() <= tol);
  const std::pair<char, const Mat*> kinds[] = {{'M', &d.M}, {'W', &d.W}, {'H', &d.H}};
  for (const auto& kd : kinds) {
    Mat D;
    CHECK(sp.dense_matrix(th, kd.first, D));
    CHECK((D - *kd.second).cwiseAbs().maxCoeff() <= tol * (1 + kd.second->cwiseAbs().maxCoeff()));
  }
}

// Case deletion (refit_crossed.hpp) over the n units of unit: the crossed
// family's refits on the sparse engine (two threads) equal the block
// family's on the one-block problem (one thread), to tol: which refits
// succeed, X2, theta, beta, diag(vb), the deleted residuals and their SEs.
inline void check_deletion_agrees(const Problem& pr, const Problem& one, const CrossedTerms& st,
                                  const MvDeletionPlan& plan, const std::vector<int>& unit, int n, double tol) {
  const int k = pr.k(), p = pr.p(), q = st.n_theta();
  struct Out {
    std::vector<int> ok;
    std::vector<double> theta, beta, vbd, resid, se, X2;
    MvDeletionOut o;
    Out(int n, int k, int p, int q) : ok(n), theta(n * q), beta(n * p), vbd(n * p), resid(k), se(k), X2(n) {
      o.n = n;
      o.ok = ok.data();
      o.theta = theta.data();
      o.beta = beta.data();
      o.vbdiag = vbd.data();
      o.resid = resid.data();
      o.se = se.data();
      o.X2 = X2.data();
    }
  } a(n, k, p, q), b(n, k, p, q);
  auto poll = [](std::size_t) { return true; };
  CHECK(mv_deletion_run_family(ProblemView(pr), CrossedFamily(pr, st, true), plan, unit, n, 2, a.o, std::nan(""),
                               poll));
  CHECK(mv_deletion_run(ProblemView(one), st, plan, unit, n, 1, b.o, std::nan(""), poll));
  for (int u = 0; u < n; ++u) {
    CHECK(a.ok[u] == 1);
    CHECK(a.ok[u] == b.ok[u]);
    CHECK_NEAR(a.X2[u], b.X2[u], tol);
  }
  for (int j = 0; j < n * q; ++j) CHECK_NEAR(a.theta[j], b.theta[j], tol);
  for (int j = 0; j < n * p; ++j) {
    CHECK_NEAR(a.beta[j], b.beta[j], tol);
    CHECK_NEAR(a.vbd[j], b.vbd[j], tol);
  }
  for (int i = 0; i < k; ++i) {
    CHECK_NEAR(a.resid[i], b.resid[i], tol);
    CHECK_NEAR(a.se[i], b.se[i], tol);
  }
}

}  // namespace metafast
