// The covariance of the fixed effects, chosen after the fit from per-block
// pieces the fit leaves behind (never a k x k matrix):
//
//   Model         A^{-1}, A = X'WX                       (GLS / inverse-variance weights)
//   KnappHartung  s2w A^{-1}, s2w = y'Py / (k - p)       (Knapp & Hartung 2003, Stat Med 22:2693)
//   UserWeights   (X'AX)^{-1} X'A M A X (X'AX)^{-1}      (user weights A = diag(a): the
//                 sandwich with the model's marginal covariance M)
//   CR0           B (sum_c u_c u_c') B                   (cluster-robust; Liang & Zeger 1986,
//                 Biometrika 73:13; Hedges, Tipton & Johnson 2010, Res Synth Methods 1:39)
//                 bread B = A^{-1} (or (X'AX)^{-1} with user weights), u_c = X_c' r_c the
//                 score of cluster c, r = W e (or A e with user weights) summed over the
//                 rows of cluster c.  Clusters are given as row offsets like the blocks
//                 (model.hpp), and may be coarser than the blocks (every block inside one
//                 cluster); no offsets: every row its own cluster, which gives HC0.
//
// Adding a type (CR1, CR2, HC1, ...): one enumerator, one function from the
// pieces (CovPieces) to the p x p matrix, one case in coef_vcov(), and a test
// against a dense brute-force computation (src/core/tests/test_blocks.cpp).
// Functions write into an output matrix: refits of p <= 2 allocate nothing.
#pragma once

#include "core/eigen.hpp"
#include <limits>

#include "core/model.hpp"
#include "core/wls.hpp"

namespace metafast {

enum class VcovType : int { Model = 0, KnappHartung = 1, UserWeights = 2, CR0 = 3 };

// Knapp-Hartung scale factor s2w = y'Py / (k - p) (0 for an exact fit).
inline double knha_scale(double rss, int k, int p) {
  return (rss <= std::numeric_limits<double>::epsilon()) ? 0.0 : rss / (k - p);
}

inline void vcov_model(const Mat& Ainv, Mat& out) { out = Ainv; }

// In place: out (the model-based covariance) times s2w.
inline void vcov_knha_scale(double s2w, Mat& out) { out *= s2w; }

// User weights a with a diagonal marginal covariance m = v + tau2:
// (X'AX)^{-1} X' diag(a^2 m) X (X'AX)^{-1}.
inline void vcov_user_weights(const MatRef& X, const VecRef& a, const VecRef& m, const Mat& AinvA, Mat& out) {
  out = AinvA * crossprod_diag(X, a.cwiseProduct(a).cwiseProduct(m)) * AinvA;
}

// The scores of the clusters, U = [u_1 ... u_C] (p x C), u_c = X_c' r_c.
// cluster_offsets: rows [off(c), off(c + 1)) form cluster c; empty: one row a
// cluster (u_i = x_i r_i).
inline void cluster_scores(const MatRef& X, const VecRef& r, const IVecRef& cluster_offsets, Mat& U) {
  const Eigen::Index p = X.cols(), k = X.rows();
  if (cluster_offsets.size() == 0) {
    U.noalias() = X.transpose();
    for (Eigen::Index i = 0; i < k; ++i) U.col(i) *= r(i);
    return;
  }
  const Eigen::Index nc = cluster_offsets.size() - 1;
  U.resize(p, nc);
  for (Eigen::Index c = 0; c < nc; ++c) {
    const Eigen::Index i0 = cluster_offsets(c), n = cluster_offsets(c + 1) - i0;
    U.col(c).noalias() = X.middleRows(i0, n).transpose() * r.segment(i0, n);
  }
}

// CR0: B U U' B.
inline void vcov_cr0(const Mat& bread, const Mat& U, Mat& out) {
  const Mat BU = bread * U;
  out.noalias() = BU * BU.transpose();
}

// What the fit leaves behind for the choice of covariance.
struct CovPieces {
  const Mat* bread = nullptr;   // A^{-1}, or (X'AX)^{-1} with user weights
  double s2w = 1;               // Knapp-Hartung factor
  const Mat* meat = nullptr;    // UserWeights: X'A M A X (p x p)
  const Mat* scores = nullptr;  // CR0: U (p x C)
};

inline void coef_vcov(VcovType type, const CovPieces& pc, Mat& out) {
  switch (type) {
    case VcovType::Model: vcov_model(*pc.bread, out); return;
    case VcovType::KnappHartung: vcov_model(*pc.bread, out); vcov_knha_scale(pc.s2w, out); return;
    case VcovType::UserWeights: out = *pc.bread * *pc.meat * *pc.bread; return;
    case VcovType::CR0: vcov_cr0(*pc.bread, *pc.scores, out); return;
  }
}

}  // namespace metafast
