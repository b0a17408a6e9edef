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

#include "core/eigen.hpp"
#include <algorithm>
#include <cmath>

#include "core/model.hpp"  // Vec, Mat, VecRef, MatRef

namespace metafast {

// Rows per block of the fused cross-product kernel: a block of a few columns
// stays in L1 cache while every pair of columns is multiplied once.
constexpr Eigen::Index kRowBlock = 64;

// X' diag(d_j) X for the M weight vectors d_j in one pass over X, O(k p^2)
// time and no k-length temporary.  fill(i, nb, D) writes rows i..i+nb-1 of the
// weights into the first nb rows of the columns of D.  Per block of rows, each
// column is scaled by each weight once and dotted with the columns up to it
// (about 3x faster than a small matrix product per block at p = 6).  With y
// and xdy given, X' diag(d_0) y is accumulated in the same pass.
template <int M, class Fill>
inline void crossprods(const MatRef& X, Fill&& fill, Mat* out, const VecRef* y = nullptr, Vec* xdy = nullptr) {
  const Eigen::Index p = X.cols(), k = X.rows();
  for (int j = 0; j < M; ++j) out[j].setZero(p, p);
  if (xdy) xdy->setZero(p);
  Eigen::Matrix<double, kRowBlock, M> D;       // fixed size: on the stack
  Eigen::Matrix<double, kRowBlock, 1> xd;
  for (Eigen::Index i = 0; i < k; i += kRowBlock) {
    const Eigen::Index nb = std::min(kRowBlock, k - i);
    fill(i, nb, D);
    for (Eigen::Index a = 0; a < p; ++a) {
      const auto xa = X.col(a).segment(i, nb);
      for (int j = 0; j < M; ++j) {
        xd.head(nb) = xa.cwiseProduct(D.col(j).head(nb));
        if (j == 0 && xdy) (*xdy)(a) += xd.head(nb).dot(y->segment(i, nb));
        for (Eigen::Index b = 0; b <= a; ++b) out[j](a, b) += xd.head(nb).dot(X.col(b).segment(i, nb));
      }
    }
  }
  for (int j = 0; j < M; ++j) out[j].template triangularView<Eigen::StrictlyUpper>() = out[j].transpose();
}

// X' diag(d) X in O(k p^2) time and O(p^2) extra memory.  d may be any
// Eigen expression (evaluated lazily, so no k-length temporary is made).
template <class D>
inline Mat crossprod_diag(const MatRef& X, const Eigen::MatrixBase<D>& d) {
  const Eigen::Index p = X.cols();
  Mat out(p, p);
  if (p <= 2) {
    for (Eigen::Index a = 0; a < p; ++a)
      for (Eigen::Index b = 0; b <= a; ++b)
        out(a, b) = out(b, a) = (X.col(a).array() * X.col(b).array() * d.derived().array()).sum();
    return out;
  }
  crossprods<1>(X, [&](Eigen::Index i, Eigen::Index nb, auto& Db) { Db.col(0).head(nb) = d.derived().segment(i, nb); },
                &out);
  return out;
}

// X' diag(d) X for a two-column X as a fixed-size matrix (no allocation).
template <class D>
inline Eigen::Matrix2d crossprod2(const MatRef& X, const Eigen::MatrixBase<D>& d) {
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
  Wls(const MatRef& X, const VecRef& y, const VecRef& weights) { compute(X, y, weights); }

  void compute(const MatRef& X, const VecRef& y, const VecRef& weights) {
    w = weights;
    solve(X, y);
  }

  // Random-effects weights 1 / (v + tau2), written into the existing storage:
  // a Wls reused across iterations allocates nothing for p <= 2.
  void compute_re(const MatRef& X, const VecRef& y, const VecRef& v, double tau2) {
    switch (X.cols()) {
      case 1: small_pass<1, true, false>(X, y, &v, tau2, nullptr, nullptr); return;
      case 2: small_pass<2, true, false>(X, y, &v, tau2, nullptr, nullptr); return;
      default:
        w.resize(v.size());
        w.array() = (v.array() + tau2).inverse();
        solve(X, y);
    }
  }

  // compute_re() together with tr(P) and tr(PP), the REML score and
  // information: the weights, X'WX, X'Wy, X'W^2X and X'W^3X come from one
  // pass over X, the residuals from a second.
  void compute_re_traces(const MatRef& X, const VecRef& y, const VecRef& v, double tau2, double& trP, double& trPP) {
    const Eigen::Index p = X.cols();
    if (p == 1) { small_pass<1, true, true>(X, y, &v, tau2, &trP, &trPP); return; }
    if (p == 2) { small_pass<2, true, true>(X, y, &v, tau2, &trP, &trPP); return; }
    w.resize(v.size());
    Mat C[3];
    Vec xwy;
    crossprods<3>(X, [&](Eigen::Index i, Eigen::Index nb, auto& Db) {
      w.segment(i, nb).array() = (v.segment(i, nb).array() + tau2).inverse();
      Db.col(0).head(nb) = w.segment(i, nb);
      Db.col(1).head(nb) = w.segment(i, nb).array().square();
      Db.col(2).head(nb) = Db.col(1).head(nb).cwiseProduct(w.segment(i, nb));
    }, C, &y, &xwy);
    A = C[0];
    finish_general(X, y, xwy);
    const Mat Cw = Ainv * C[1];
    trP = w.sum() - Cw.trace();
    trPP = w.squaredNorm() - 2.0 * trace_prod(Ainv, C[2]) + trace_prod(Cw, Cw);
  }

  // The fit for the weights already in w.
  void solve(const MatRef& X, const VecRef& y) {
    switch (X.cols()) {
      case 1: small_pass<1, false, false>(X, y, nullptr, 0, nullptr, nullptr); return;
      case 2: small_pass<2, false, false>(X, y, nullptr, 0, nullptr, nullptr); return;
      default: {
        // X'WX and X'Wy from one pass over X
        Vec xwy;
        crossprods<1>(X, [&](Eigen::Index i, Eigen::Index nb, auto& Db) { Db.col(0).head(nb) = w.segment(i, nb); },
                      &A, &y, &xwy);
        finish_general(X, y, xwy);
      }
    }
  }

 private:
  // p > 2, with A = X'WX already formed: Cholesky, beta, residuals.
  void finish_general(const MatRef& X, const VecRef& y, const Vec& xwy) {
    const Eigen::Index p = X.cols();
    Eigen::LLT<Mat> llt(A);
    ok = llt.info() == Eigen::Success;
    Ainv = llt.solve(Mat::Identity(p, p));
    beta = llt.solve(xwy);
    resid.noalias() = y - X * beta;
    rss = (w.array() * resid.array().square()).sum();
  }

  // Sums of the one-pass p <= 2 fit, for one lane type T: double, or
  // Eigen::Array2d so that two rows go through one SIMD instruction.
  template <class T>
  struct SmallSums {
    T a00, a01, a11, t0, t1, sw, sw2, c00, c01, c11, d00, d01, d11;
    explicit SmallSums(const T& z) : a00(z), a01(z), a11(z), t0(z), t1(z), sw(z), sw2(z), c00(z), c01(z),
                                     c11(z), d00(z), d01(z), d11(z) {}
    template <int P, bool TR>
    EIGEN_ALWAYS_INLINE void add(const T& wi, const T& u, const T& z, const T& y) {
      const T wu = wi * u;
      a00 += wu * u;
      t0 += wu * y;
      if (P == 2) {
        const T wz = wi * z;
        a01 += wu * z;
        a11 += wz * z;
        t1 += wz * y;
      }
      if (TR) {
        const T w2 = wi * wi, w2u = w2 * u;
        sw += wi;
        sw2 += w2;
        c00 += w2u * u;
        d00 += w2u * u * wi;
        if (P == 2) {
          const T w2z = w2 * z;
          c01 += w2u * z;
          c11 += w2z * z;
          d01 += w2u * z * wi;
          d11 += w2z * z * wi;
        }
      }
    }
  };
  static double lanes(double x) { return x; }
  static double lanes(const Eigen::Array2d& x) { return x(0) + x(1); }

  // p = P <= 2 (intercept-only models and one moderator): one pass over the
  // rows, two at a time, accumulates X'WX and X'Wy (with RE, the weights
  // 1/(v + tau2) on the way; with TR, also sum w, sum w^2, X'W^2X and X'W^3X
  // for tr(P) and tr(PP)); the 1 x 1 or 2 x 2 system is solved in closed
  // form.  No allocation once the storage has its size.
  template <int P, bool RE, bool TR>
  void small_pass(const MatRef& X, const VecRef& y, const VecRef* v, double tau2, double* trP, double* trPP) {
    using A2 = Eigen::Array2d;
    using M2 = Eigen::Map<const A2>;
    const Eigen::Index k = X.rows();
    if (RE) w.resize(k);
    const double* x0 = X.col(0).data();
    const double* x1 = P == 2 ? X.col(1).data() : x0;
    const double* yy = y.data();
    double* ww = w.data();
    SmallSums<A2> s2(A2::Zero());
    Eigen::Index i = 0;
    for (; i + 1 < k; i += 2) {
      A2 wi;
      if (RE) {
        wi = (M2(v->data() + i) + tau2).inverse();
        Eigen::Map<A2>(ww + i) = wi;
      } else {
        wi = M2(ww + i);
      }
      s2.template add<P, TR>(wi, M2(x0 + i), M2(x1 + i), M2(yy + i));
    }
    SmallSums<double> s1(0.0);
    for (; i < k; ++i) {
      const double wi = RE ? (ww[i] = 1.0 / ((*v)[i] + tau2)) : ww[i];
      s1.template add<P, TR>(wi, x0[i], x1[i], yy[i]);
    }
    const double a00 = lanes(s2.a00) + s1.a00, a01 = lanes(s2.a01) + s1.a01, a11 = lanes(s2.a11) + s1.a11;
    const double t0 = lanes(s2.t0) + s1.t0, t1 = lanes(s2.t1) + s1.t1;
    A.resize(P, P);
    Ainv.resize(P, P);
    beta.resize(P);
    resid.resize(k);
    double i00, i01 = 0, i11 = 0, b0, b1 = 0;
    if (P == 1) {
      ok = a00 > 0 && std::isfinite(a00);
      A(0, 0) = a00;
      i00 = Ainv(0, 0) = 1.0 / a00;
      b0 = beta(0) = t0 / a00;
    } else {
      const double det = a00 * a11 - a01 * a01;
      ok = a00 > 0 && det > 1e-14 * a00 * a11 && std::isfinite(det);
      A(0, 0) = a00;
      A(1, 1) = a11;
      A(0, 1) = A(1, 0) = a01;
      i00 = a11 / det, i11 = a00 / det, i01 = -a01 / det;
      Ainv(0, 0) = i00;
      Ainv(1, 1) = i11;
      Ainv(0, 1) = Ainv(1, 0) = i01;
      b0 = beta(0) = i00 * t0 + i01 * t1;
      b1 = beta(1) = i01 * t0 + i11 * t1;
    }
    // residuals and y'Py, two rows at a time
    double* e = resid.data();
    A2 r2 = A2::Zero();
    for (i = 0; i + 1 < k; i += 2) {
      A2 ei = M2(yy + i) - M2(x0 + i) * b0;
      if (P == 2) ei -= M2(x1 + i) * b1;
      Eigen::Map<A2>(e + i) = ei;
      r2 += M2(ww + i) * ei * ei;
    }
    rss = lanes(r2);
    for (; i < k; ++i) {
      e[i] = yy[i] - x0[i] * b0 - (P == 2 ? x1[i] * b1 : 0.0);
      rss += ww[i] * e[i] * e[i];
    }
    if (!TR) return;
    const double sw = lanes(s2.sw) + s1.sw, sw2 = lanes(s2.sw2) + s1.sw2;
    const double c00 = lanes(s2.c00) + s1.c00, c01 = lanes(s2.c01) + s1.c01, c11 = lanes(s2.c11) + s1.c11;
    const double d00 = lanes(s2.d00) + s1.d00, d01 = lanes(s2.d01) + s1.d01, d11 = lanes(s2.d11) + s1.d11;
    // C = Ainv X'W^2X; tr(P) = sum w - tr(C), tr(PP) = sum w^2 - 2 tr(Ainv X'W^3X) + tr(C C)
    const double C00 = i00 * c00 + i01 * c01, C01 = i00 * c01 + i01 * c11;
    const double C10 = i01 * c00 + i11 * c01, C11 = i01 * c01 + i11 * c11;
    *trP = sw - (C00 + C11);
    *trPP = sw2 - 2.0 * (i00 * d00 + 2.0 * i01 * d01 + i11 * d11) + (C00 * C00 + 2.0 * C01 * C10 + C11 * C11);
  }

 public:
  // y'PPy
  double yPPy() const { return (w.array() * resid.array()).square().sum(); }

  // tr(P D) for D = diag(d)
  double tr_PD(const MatRef& X, const VecRef& d) const {
    return w.dot(d) - trace_prod(Ainv, crossprod_diag(X, w.cwiseProduct(w).cwiseProduct(d)));
  }
  double tr_P(const MatRef& X) const {
    if (X.cols() == 1) return w.sum() - (X.col(0).array().square() * w.array().square()).sum() * Ainv(0, 0);
    if (X.cols() == 2) {
      const Eigen::Matrix2d Ai = Ainv;
      return w.sum() - (Ai * crossprod2(X, w.cwiseProduct(w))).trace();
    }
    return w.sum() - trace_prod(Ainv, crossprod_diag(X, w.cwiseProduct(w)));
  }

  // tr(P D P D) for D = diag(d)
  double tr_PDPD(const MatRef& X, const VecRef& d) const {
    const auto wd = w.cwiseProduct(d);
    const Mat C = Ainv * crossprod_diag(X, w.cwiseProduct(wd));
    const Mat E = crossprod_diag(X, wd.cwiseProduct(wd).cwiseProduct(w));
    return wd.squaredNorm() - 2.0 * trace_prod(Ainv, E) + trace_prod(C, C);
  }
  double tr_PP(const MatRef& X) const {
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

  // tr(P D P E) = sum_ij P_ij^2 d_i e_j for D = diag(d), E = diag(e)
  double tr_PDPE(const MatRef& X, const VecRef& d, const VecRef& e) const {
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
  Vec hat(const MatRef& X) const {
    return ((X * Ainv).cwiseProduct(X)).rowwise().sum().cwiseProduct(w);
  }
};

}  // namespace metafast
