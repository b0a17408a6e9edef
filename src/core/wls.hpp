// Weighted least squares for the univariate meta-analytic model, in O(k p^2).
//
// For a diagonal weight matrix W = diag(w), the model quantities that the
// estimators need are written in terms of p-by-p cross-products only.  With
// A = X'WX and P = W - W X A^{-1} X' W (the REML projection of
// Harville 1977, JASA 72:320-340), and any diagonal D = diag(d):
//
//   y'Py           = sum_i w_i e_i^2,              e = y - X b
//   y'PPy          = sum_i (w_i e_i)^2
//   tr(P D)        = sum_i w_i d_i - tr(A^{-1} X' diag(w^2 d) X)
//   tr(P D P D)    = sum_i (w_i d_i)^2 - 2 tr(A^{-1} X' diag(w^3 d^2) X)
//                    + tr((A^{-1} X' diag(w^2 d) X)^2)
//
// (expand P_ij = w_i delta_ij - w_i w_j x_i'A^{-1}x_j and sum P_ij^2 d_i d_j).
// No k-by-k matrix is ever formed.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace metafast {

using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;

// X' diag(d) X in O(k p^2) time and O(p^2) extra memory.  d may be any
// Eigen expression (evaluated lazily, so no k-length temporary is made).  For
// the small p of meta-regression, one fused pass per pair of columns; for
// larger p, a blocked matrix product.
template <class D>
inline Mat crossprod_diag(const Mat& X, const Eigen::MatrixBase<D>& d) {
  const Eigen::Index p = X.cols();
  Mat out(p, p);
  if (p <= 2) {
    for (Eigen::Index a = 0; a < p; ++a)
      for (Eigen::Index b = 0; b <= a; ++b)
        out(a, b) = out(b, a) = (X.col(a).array() * X.col(b).array() * d.derived().array()).sum();
    return out;
  }
  // blocks of rows: one pass over X, a cache-sized temporary, and a small
  // matrix product per block
  const Eigen::Index k = X.rows(), B = 256;
  Mat tmp(std::min(B, k), p);
  out.setZero();
  for (Eigen::Index i = 0; i < k; i += B) {
    const Eigen::Index nb = std::min(B, k - i);
    tmp.topRows(nb) = X.middleRows(i, nb).array().colwise() * d.derived().segment(i, nb).array();
    out.noalias() += X.middleRows(i, nb).transpose() * tmp.topRows(nb);
  }
  return out;
}

// X' diag(d) X for a two-column X as a fixed-size matrix (no allocation).
template <class D>
inline Eigen::Matrix2d crossprod2(const Mat& X, const Eigen::MatrixBase<D>& d) {
  const auto x0 = X.col(0).array(), x1 = X.col(1).array();
  const auto dd = d.derived().array();
  Eigen::Matrix2d m;
  m(0, 0) = (x0 * x0 * dd).sum();
  m(0, 1) = m(1, 0) = (x0 * x1 * dd).sum();
  m(1, 1) = (x1 * x1 * dd).sum();
  return m;
}

// tr(A B) for symmetric p-by-p A and B.
inline double trace_prod(const Mat& A, const Mat& B) {
  return A.cwiseProduct(B.transpose()).sum();
}

// Weighted least-squares fit for fixed weights w.
struct Wls {
  Vec w;       // weights
  Mat A;       // X'WX
  Mat Ainv;    // (X'WX)^{-1}
  Vec beta;    // (X'WX)^{-1} X'Wy
  Vec resid;   // y - X beta
  double rss = 0.0;  // y'Py
  bool ok = false;   // false when X'WX is not positive definite

  Wls() = default;
  Wls(const Mat& X, const Vec& y, const Vec& weights) { compute(X, y, weights); }

  void compute(const Mat& X, const Vec& y, const Vec& weights) {
    w = weights;
    solve(X, y);
  }

  // Random-effects weights 1 / (v + tau2), written into the existing storage:
  // a Wls reused across iterations allocates nothing for p = 1.
  void compute_re(const Mat& X, const Vec& y, const Vec& v, double tau2) {
    w.resize(v.size());
    w.array() = (v.array() + tau2).inverse();
    solve(X, y);
  }

  // The fit for the weights already in w.
  void solve(const Mat& X, const Vec& y) {
    const Eigen::Index p = X.cols();
    if (p == 1) {
      // single column (intercept-only models): scalars, no allocation
      const double a = (X.col(0).array().square() * w.array()).sum();
      ok = a > 0 && std::isfinite(a);
      A.resize(1, 1);
      A(0, 0) = a;
      Ainv.resize(1, 1);
      Ainv(0, 0) = 1.0 / a;
      beta.resize(1);
      beta(0) = (X.col(0).array() * w.array() * y.array()).sum() / a;
      resid.resize(y.size());
      resid.array() = y.array() - X.col(0).array() * beta(0);
    } else if (p == 2) {
      // two columns (one moderator): closed-form 2 x 2 inverse, no allocation
      const Eigen::Matrix2d a2 = crossprod2(X, w);
      const double det = a2(0, 0) * a2(1, 1) - a2(0, 1) * a2(0, 1);
      ok = a2(0, 0) > 0 && det > 1e-14 * a2(0, 0) * a2(1, 1) && std::isfinite(det);
      A.resize(2, 2);
      A = a2;
      Ainv.resize(2, 2);
      Ainv(0, 0) = a2(1, 1) / det;
      Ainv(1, 1) = a2(0, 0) / det;
      Ainv(0, 1) = Ainv(1, 0) = -a2(0, 1) / det;
      const double t0 = (X.col(0).array() * w.array() * y.array()).sum();
      const double t1 = (X.col(1).array() * w.array() * y.array()).sum();
      beta.resize(2);
      beta(0) = Ainv(0, 0) * t0 + Ainv(0, 1) * t1;
      beta(1) = Ainv(1, 0) * t0 + Ainv(1, 1) * t1;
      resid.resize(y.size());
      resid.array() = y.array() - X.col(0).array() * beta(0) - X.col(1).array() * beta(1);
    } else {
      A = crossprod_diag(X, w);
      Eigen::LLT<Mat> llt(A);
      ok = llt.info() == Eigen::Success;
      Ainv = llt.solve(Mat::Identity(p, p));
      const Vec wy = w.cwiseProduct(y);
      beta = llt.solve(X.transpose() * wy);  // one pass over X
      resid.noalias() = y - X * beta;
    }
    rss = (w.array() * resid.array().square()).sum();
  }

  // y'PPy
  double yPPy() const { return (w.array() * resid.array()).square().sum(); }

  // tr(P D) for D = diag(d)
  double tr_PD(const Mat& X, const Vec& d) const {
    return w.dot(d) - trace_prod(Ainv, crossprod_diag(X, w.cwiseProduct(w).cwiseProduct(d)));
  }
  double tr_P(const Mat& X) const {
    if (X.cols() == 1) return w.sum() - (X.col(0).array().square() * w.array().square()).sum() * Ainv(0, 0);
    if (X.cols() == 2) {
      const Eigen::Matrix2d Ai = Ainv;
      return w.sum() - (Ai * crossprod2(X, w.cwiseProduct(w))).trace();
    }
    return w.sum() - trace_prod(Ainv, crossprod_diag(X, w.cwiseProduct(w)));
  }

  // tr(P D P D) for D = diag(d)
  double tr_PDPD(const Mat& X, const Vec& d) const {
    const auto wd = w.cwiseProduct(d);
    const Mat C = Ainv * crossprod_diag(X, w.cwiseProduct(wd));
    const Mat E = crossprod_diag(X, wd.cwiseProduct(wd).cwiseProduct(w));
    return wd.squaredNorm() - 2.0 * trace_prod(Ainv, E) + trace_prod(C, C);
  }
  double tr_PP(const Mat& X) const {
    if (X.cols() == 1) {
      const auto x2 = X.col(0).array().square();
      const double c = (x2 * w.array().square()).sum() * Ainv(0, 0);
      const double e = (x2 * w.array().cube()).sum() * Ainv(0, 0);
      return w.squaredNorm() - 2.0 * e + c * c;
    }
    if (X.cols() == 2) {
      const Eigen::Matrix2d Ai = Ainv;
      const Eigen::Matrix2d C = Ai * crossprod2(X, w.cwiseProduct(w));
      const Eigen::Matrix2d E = crossprod2(X, w.cwiseProduct(w).cwiseProduct(w));
      return w.squaredNorm() - 2.0 * (Ai * E).trace() + (C * C).trace();
    }
    const Mat C = Ainv * crossprod_diag(X, w.cwiseProduct(w));
    const Mat E = crossprod_diag(X, w.cwiseProduct(w).cwiseProduct(w));
    return w.squaredNorm() - 2.0 * trace_prod(Ainv, E) + trace_prod(C, C);
  }

  // tr(P) and tr(PP) together (the REML score and information): the two
  // cross-products X'W^2X and X'W^3X come from one blocked pass over X.
  void tr_P_PP(const Mat& X, double& trP, double& trPP) const {
    const Eigen::Index p = X.cols(), k = X.rows();
    if (p <= 2) { trP = tr_P(X); trPP = tr_PP(X); return; }
    const Eigen::Index B = 256;
    Mat C2 = Mat::Zero(p, p), C3 = Mat::Zero(p, p), t2(std::min(B, k), p), t3(std::min(B, k), p);
    for (Eigen::Index i = 0; i < k; i += B) {
      const Eigen::Index nb = std::min(B, k - i);
      const auto wb = w.segment(i, nb).array();
      t2.topRows(nb) = X.middleRows(i, nb).array().colwise() * wb.square();
      t3.topRows(nb) = t2.topRows(nb).array().colwise() * wb;
      C2.noalias() += X.middleRows(i, nb).transpose() * t2.topRows(nb);
      C3.noalias() += X.middleRows(i, nb).transpose() * t3.topRows(nb);
    }
    const Mat C = Ainv * C2;
    trP = w.sum() - C.trace();
    trPP = w.squaredNorm() - 2.0 * trace_prod(Ainv, C3) + trace_prod(C, C);
  }

  // tr(P D P E) = sum_ij P_ij^2 d_i e_j for D = diag(d), E = diag(e)
  double tr_PDPE(const Mat& X, const Vec& d, const Vec& e) const {
    const auto w2 = w.cwiseProduct(w);
    const Mat Cd = Ainv * crossprod_diag(X, w2.cwiseProduct(d));
    const Mat Ce = Ainv * crossprod_diag(X, w2.cwiseProduct(e));
    const Mat E3 = crossprod_diag(X, w2.cwiseProduct(w).cwiseProduct(d).cwiseProduct(e));
    return (w2.cwiseProduct(d).cwiseProduct(e)).sum() - 2.0 * trace_prod(Ainv, E3) + trace_prod(Cd, Ce);
  }

  // log det(X'WX)
  double logdet_A() const {
    if (A.rows() == 1) return std::log(A(0, 0));
    Eigen::LLT<Mat> llt(A);
    const Mat L = llt.matrixL();
    return 2.0 * L.diagonal().array().log().sum();
  }

  // leverages h_i = w_i x_i' A^{-1} x_i
  Vec hat(const Mat& X) const {
    return ((X * Ainv).cwiseProduct(X)).rowwise().sum().cwiseProduct(w);
  }
};

}  // namespace metafast
