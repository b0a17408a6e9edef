// Leverages and the variances of the residuals of a fitted univariate model,
// in O(k p^2) without the k-by-k hat matrix (Viechtbauer & Cheung 2010, Res
// Synth Methods 1:112).
//
// With model weights w (1 / (v + tau2), or the user's weights), M =
// diag(v + tau2), S = (X'WX)^{-1} and H = X S X'W:
//   h_i         = w_i x_i' S x_i                          (Wls::hat)
//   Var(e)_ii   = [(I - H) M (I - H)']_ii
//               = m_i (1 - 2 h_i) + x_i' S B S x_i,  B = X' diag(w^2 m) X,
// the sandwich form that holds for any weights (for w = 1/m it reduces to
// m_i (1 - h_i)).
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "core/fit.hpp"  // weight_scale(), DesignTransform
#include "core/model.hpp"
#include "core/wls.hpp"

namespace metafast {

struct LeverageResult {
  Vec hat;        // h_i
  Vec weight;     // the model weights w_i
  Vec var_resid;  // Var(e_i), truncated at 0 (rounding can make it slightly negative)
};

// weights of size 0: inverse-variance weights 1 / (v + tau2).
inline LeverageResult leverage_values(const MatRef& X_, const VecRef& y, const VecRef& v, double tau2,
                                      const VecRef& weights) {
  LeverageResult out;
  const Vec m = (v.array() + tau2).matrix();
  out.weight = weights.size() > 0 ? Vec(weights) : Vec(m.cwiseInverse());
  // (user weights as c a, c an exact power of two: h and Var(e) are invariant,
  // and a^2 m neither under- nor overflows)
  const double cw = weights.size() > 0 ? weight_scale(weights) : 1.0;
  const Vec wc = cw == 1.0 ? out.weight : Vec(out.weight * cw);
  // (h and Var(e) depend on X only through its column space: an ill-conditioned
  // design is replaced by orthonormal columns, fit.hpp: DesignTransform)
  std::unique_ptr<DesignTransform> dt;
  if (design_ill_conditioned(X_)) dt.reset(new DesignTransform(X_));
  const MatRef X = dt ? MatRef(dt->Xt) : X_;
  const Wls f(X, y, wc);
  out.hat = f.hat(X);
  const Mat XS = X * f.Ainv;  // k x p
  const Vec d = wc.cwiseProduct(wc).cwiseProduct(m);
  const Mat B = X.transpose() * d.asDiagonal() * X;  // p x p
  const Vec quad = ((XS * B).cwiseProduct(XS)).rowwise().sum();
  out.var_resid = (m.array() * (1.0 - 2.0 * out.hat.array()) + quad.array()).matrix();
  for (Eigen::Index i = 0; i < out.var_resid.size(); ++i)
    if (out.var_resid(i) < 0) out.var_resid(i) = 0;
  return out;
}


// metafor's cluster-level statistic of rstandard.rma.mv(cluster =):
// X2_c = e_c' Var(e)_cc^-1 e_c with Var(e)_cc = M_cc - X_c A X_c' (A =
// (X'WX)^-1, W = M^-1: (I - H) M (I - H)' = M - X A X'), for the rows of
// each cluster; m_entry(i, j) gives M_ij.  NaN where Var(e)_cc is not
// positive definite (an eigenvalue whose square is not above machine
// epsilon, metafor's test).  O(sum_c m_c^3) for clusters of m_c rows.
// poll(c) false stops (returns false).
template <class MEntry>
inline bool cluster_x2(const MatRef& X, const Mat& XA, const Vec& e, const std::vector<std::vector<int>>& rows,
                       MEntry&& m_entry, const std::function<bool(int)>& poll, double* out) {
  const double eps = std::numeric_limits<double>::epsilon();
  const int n = static_cast<int>(rows.size());
  for (int c = 0; c < n; ++c) {
    out[c] = std::numeric_limits<double>::quiet_NaN();
    if (poll && !poll(c)) return false;
    const std::vector<int>& r = rows[c];
    const int m = static_cast<int>(r.size());
    if (m == 0) continue;
    Mat ve(m, m);
    Vec ec(m);
    for (int a = 0; a < m; ++a) {
      ec(a) = e(r[a]);
      for (int d = 0; d < m; ++d) ve(a, d) = m_entry(r[a], r[d]) - XA.row(r[a]).dot(X.row(r[d]));
    }
    ve = (ve + ve.transpose()) / 2;
    Eigen::SelfAdjointEigenSolver<Mat> es(ve, Eigen::EigenvaluesOnly);
    if ((es.eigenvalues().array().square() <= eps).any()) continue;
    Eigen::LLT<Mat> llt(ve);
    if (llt.info() != Eigen::Success) continue;
    out[c] = ec.dot(llt.solve(ec));
  }
  return true;
}

}  // namespace metafast
