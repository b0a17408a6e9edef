// The (restricted) log-likelihood of a block-structured random-effects model,
// its score and its expected (Fisher) information over the variance
// parameters theta, computed block by block: O(sum_b n_b^3 + k p^2) time,
// O(k p) memory, no k x k matrix.  Separate from the optimisers (optimise.hpp).
//
// Model: y ~ N(X beta, M), M = blockdiag(M_b(theta)) (structure.hpp),
// G_j = dM/dtheta_j (block-diagonal too).  With W = M^{-1} (Cholesky per
// block), A = X'WX = sum_b X_b' W_b X_b, beta = A^{-1} X'Wy, e = y - X beta,
// r = W e (r_b = W_b e_b), and the REML projection
// P = W - W X A^{-1} X' W (Harville 1977, JASA 72:320-340):
//
//   ll_REML = -1/2 [(k-p) log 2pi + log|M| + log|A| - log|X'X| + e'We]
//   ll_ML   = -1/2 [k log 2pi + log|M| + e'We]
//   (log|M| = sum_b log|M_b|; Py = r; y'Py = e'We.  log|X'X| is metafor's
//   REMLf = TRUE convention.)
//
// Score.  d log|M| / dtheta_j = tr(W G_j); d(y'Py)/dtheta_j = -y'P G_j P y
// (dP = -P dM P); d log|A| / dtheta_j = -tr(A^{-1} X'W G_j W X).  With
// B_j = X'W G_j W X = sum_b (W_b X_b)' G_jb (W_b X_b),
//   tr(P G_j) = sum_b tr(W_b G_jb) - tr(A^{-1} B_j),
//   score_j(REML) = 1/2 [r'G_j r - tr(P G_j)] = 1/2 [sum_b r_b' G_jb r_b - tr(P G_j)],
//   score_j(ML)   = 1/2 [r'G_j r - sum_b tr(W_b G_jb)].
//
// Information.  E[-d^2 ll / dtheta_j dtheta_l] = 1/2 tr(P G_j P G_l) (REML;
// W in place of P for ML).  Expanding P = W - Q, Q = W X A^{-1} X' W:
//   tr(P G_j P G_l) = tr(W G_j W G_l) - tr(Q G_j W G_l) - tr(W G_j Q G_l) + tr(Q G_j Q G_l)
//   tr(W G_j W G_l) = sum_b tr(H_jb H_lb),            H_jb = W_b G_jb
//   tr(Q G_j W G_l) = tr(A^{-1} X'W G_j W G_l W X) = tr(A^{-1} C_jl)
//   tr(W G_j Q G_l) = tr(A^{-1} X'W G_l W G_j W X) = tr(A^{-1} C_lj)
//   tr(Q G_j Q G_l) = tr(A^{-1} B_j A^{-1} B_l)
// with C_jl = X'W G_j W G_l W X = sum_b (G_jb W_b X_b)' (H_lb W_b X_b); since
// C_lj = C_jl' and A^{-1} is symmetric, the two middle terms are equal:
//   info_jl(REML) = 1/2 [sum_b tr(H_jb H_lb) - 2 tr(A^{-1} C_jl) + tr(A^{-1} B_j A^{-1} B_l)]
//   info_jl(ML)   = 1/2 sum_b tr(H_jb H_lb).
//
// The diagonal structure (DiagonalTau2 without dense V blocks) dispatches to
// the fused kernels of wls.hpp (Wls::compute_re_traces: tr P and tr PP in one
// pass), so the univariate model keeps its speed.
#pragma once

#include "core/eigen.hpp"
#include <cmath>
#include <limits>
#include <vector>

#include "core/model.hpp"
#include "core/structure.hpp"
#include "core/wls.hpp"

namespace metafast {

// What evaluate() computes (bit flags; the GLS fit is always computed).
enum : int { kObjLL = 1, kObjScore = 2, kObjInfo = 4, kObjAll = 7 };

struct ObjectiveEval {
  bool ok = false;    // false when some M_b or X'WX is not positive definite
  double ll = std::numeric_limits<double>::quiet_NaN();
  Vec score;          // d ll / d theta
  Mat info;           // expected information
  Vec beta;           // GLS estimate at theta
  Mat Ainv;           // (X'WX)^{-1}
  double eWe = 0;     // e'We = y'Py
};

// The univariate objective of the likelihood-type tau2 estimators on the
// fused kernels (what fisher_scoring_1d() iterates on).  score() returns the
// estimating function scaled by 2 (ML: y'PPy - tr(W); REML: y'PPy - tr(P);
// EB: k/(k-p) y'Py - k) and the Fisher-scoring step, dividing by tr(WW),
// tr(PP) and tr(W): for ML and REML, twice BlockObjective's score over twice
// its information (Viechtbauer 2005).  f holds the fit at last_tau2, so the
// solver's last evaluation is reused for the guard and the standard error.
struct DiagonalTau2Objective {
  Method m;
  MatRef X;  // views (cheap to hold by value)
  VecRef y;
  VecRef v;
  Wls& f;  // workspace reused across iterations; holds the fit at last_tau2
  mutable double last_tau2 = std::numeric_limits<double>::quiet_NaN();
  mutable double last_info = std::numeric_limits<double>::quiet_NaN();
  double score(double tau2, double* step) const {
    const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
    last_tau2 = tau2;
    double s = 0, info = 1;
    if (m == Method::REML) {
      double trP = 0, trPP = 0;
      f.compute_re_traces(X, y, v, tau2, trP, trPP);
      s = f.yPPy() - trP;
      info = trPP;
    } else {
      f.compute_re(X, y, v, tau2);
      if (m == Method::ML) {
        s = f.yPPy() - f.w.sum();
        info = f.w.squaredNorm();
      } else {  // EB
        s = f.rss * k / (k - p) - k;
        info = f.w.sum();
      }
    }
    last_info = info;
    if (step) *step = s / info;
    return s;
  }
  // log-likelihood (ML) or restricted log-likelihood (REML) up to constants;
  // fitted: f already holds the fit at tau2
  double loglik(double tau2, bool fitted = false) const {
    if (!fitted) f.compute_re(X, y, v, tau2);
    double ll = -0.5 * (v.array() + tau2).log().sum() - 0.5 * f.rss;
    if (m == Method::REML) ll -= 0.5 * f.logdet_A();
    return ll;
  }
  // The local-maximum guard applies to ML and REML.
  bool has_guard() const { return m != Method::EB; }
  // ll at tau2; when f still holds the fit of the last evaluation within thr
  // of tau2, that fit's ll (it differs by O(thr^2)) without a new pass
  double guarded_loglik(double tau2, double thr) const {
    const bool near = std::fabs(last_tau2 - tau2) <= thr;
    return near ? loglik(last_tau2, true) : loglik(tau2);
  }
  // ll at tau2, leaving the fit at tau2 in f
  double loglik_at(double tau2) const {
    const double ll = loglik(tau2);
    last_tau2 = tau2;
    return ll;
  }
};

class BlockObjective {
 public:
  // reml: restricted likelihood; fast_kernels = false forces the block loop
  // for the diagonal structure (tests of the dispatch).
  BlockObjective(const ProblemView& pr, const VarStructure& s, bool reml, bool fast_kernels = true)
      : pr_(pr), s_(s), reml_(reml),
        fast_(fast_kernels && s.is_diagonal_tau2() && !pr.dense_cov()) {
    if (reml_) {
      const Mat XtX = pr.X.transpose() * pr.X;
      Eigen::LLT<Mat> llt(XtX);
      const Mat L = llt.matrixL();
      logdet_xtx_ = 2.0 * L.diagonal().array().log().sum();
    }
  }

  const ProblemView& problem() const { return pr_; }
  const VarStructure& structure() const { return s_; }
  bool reml() const { return reml_; }
  int n_theta() const { return s_.n_theta(); }
  bool uses_fast_kernels() const { return fast_; }

  // The objective at theta: what = combination of kObjLL, kObjScore, kObjInfo.
  bool evaluate(const Vec& theta, int what, ObjectiveEval& out) {
    out.ok = fast_ ? eval_diagonal(theta(0), what, out) : eval_blocks(theta, what, out);
    return out.ok;
  }

  // r = W e of the last evaluate() (per row; r_b = W_b e_b): the cluster-robust
  // covariance forms u_c = X_c' r_c from it (vcov.hpp).
  const Vec& weighted_resid() const { return r_; }

 private:
  const ProblemView pr_;
  const VarStructure& s_;
  const bool reml_;
  const bool fast_;
  double logdet_xtx_ = 0;
  Wls f_;                  // the diagonal kernels' workspace
  Mat WX_;                 // W X, k x p (row blocks W_b X_b)
  Vec Wy_, r_;             // W y and W e
  Mat Mb_, Gb_, Ub_;       // one block's M_b, G_jb, G_jb W_b X_b
  std::vector<Mat> H_, T_, B_, C_;
  Vec rGr_, trH_;
  Vec Grb_;                // G_jb r_b

  // theta = (tau2) on the fused kernels (wls.hpp): tr(P G) = tr P,
  // tr(P G P G) = tr PP (REML); tr W = sum w, tr WW = sum w^2 (ML).
  bool eval_diagonal(double tau2, int what, ObjectiveEval& out) {
    const MatRef& X = pr_.X;
    const int k = pr_.k(), p = pr_.p();
    double trP = 0, trPP = 0;
    if (reml_ && (what & (kObjScore | kObjInfo))) f_.compute_re_traces(X, pr_.y, pr_.v, tau2, trP, trPP);
    else f_.compute_re(X, pr_.y, pr_.v, tau2);
    if (!f_.ok) return false;
    out.beta = f_.beta;
    out.Ainv = f_.Ainv;
    out.eWe = f_.rss;
    r_ = f_.w.cwiseProduct(f_.resid);
    if (what & kObjLL) {
      const double sum_log_m = (pr_.v.array() + tau2).log().sum();
      const double two_pi = 2.0 * M_PI;
      out.ll = reml_ ? -0.5 * ((k - p) * std::log(two_pi) + sum_log_m + f_.logdet_A() - logdet_xtx_ + f_.rss)
                     : -0.5 * (k * std::log(two_pi) + sum_log_m + f_.rss);
    }
    if (what & kObjScore) {
      out.score.resize(1);
      out.score(0) = 0.5 * (f_.yPPy() - (reml_ ? trP : f_.w.sum()));
    }
    if (what & kObjInfo) {
      out.info.resize(1, 1);
      out.info(0, 0) = 0.5 * (reml_ ? trPP : f_.w.squaredNorm());
    }
    return true;
  }

  // The block loop.  Pass 1 (per block): Cholesky of M_b, W_b X_b, W_b y_b,
  // A, X'Wy, log|M|, and, for the score and information, H_jb = W_b G_jb,
  // sum tr(H_jb), sum tr(H_jb H_lb), B_j and C_jl -- none needs beta.
  // Pass 2: r_b = W_b y_b - W_b X_b beta and r_b' G_jb r_b.
  bool eval_blocks(const Vec& theta, int what, ObjectiveEval& out) {
    const int k = pr_.k(), p = pr_.p(), q = s_.n_theta(), nbk = pr_.n_blocks();
    const bool traces = (what & (kObjScore | kObjInfo)) != 0, info = (what & kObjInfo) != 0;
    WX_.resize(k, p);
    Wy_.resize(k);
    r_.resize(k);
    Mat A = Mat::Zero(p, p);
    Vec xwy = Vec::Zero(p);
    H_.resize(q);
    T_.resize(q);
    B_.assign(q, Mat::Zero(p, p));
    C_.assign(static_cast<std::size_t>(q) * q, Mat::Zero(p, p));
    trH_.setZero(q);
    Mat trHH = Mat::Zero(q, q);
    double logdet_m = 0;
    Eigen::Index voff = 0;
    Eigen::LLT<Mat> llt;
    for (int b = 0; b < nbk; ++b) {
      const int i0 = pr_.block_begin(b), nb = pr_.block_size(b);
      s_.block_cov(pr_, theta, b, voff, Mb_);
      voff += static_cast<Eigen::Index>(nb) * nb;
      llt.compute(Mb_);
      if (llt.info() != Eigen::Success) return false;
      const Mat& L = llt.matrixLLT();
      for (int i = 0; i < nb; ++i) {
        if (!(L(i, i) > 0)) return false;
        logdet_m += 2.0 * std::log(L(i, i));
      }
      auto WXb = WX_.middleRows(i0, nb);
      WXb = llt.solve(pr_.X.middleRows(i0, nb));
      Wy_.segment(i0, nb) = llt.solve(pr_.y.segment(i0, nb));
      A.noalias() += pr_.X.middleRows(i0, nb).transpose() * WXb;
      xwy.noalias() += pr_.X.middleRows(i0, nb).transpose() * Wy_.segment(i0, nb);
      if (!traces) continue;
      for (int j = 0; j < q; ++j) {
        s_.block_deriv(pr_, theta, j, b, Gb_);
        H_[j] = llt.solve(Gb_);
        trH_(j) += H_[j].trace();
        Ub_.noalias() = Gb_ * WXb;
        B_[j].noalias() += WXb.transpose() * Ub_;
        if (!info) continue;
        T_[j].noalias() = H_[j] * WXb;
        // C_jl for l <= j: C_jl = (G_j W X)' (H_l W X) = U_j' T_l, with the
        // T_l = H_l W X of this block kept for l <= j.
        for (int l = 0; l <= j; ++l) {
          C_[j * q + l].noalias() += Ub_.transpose() * T_[l];
          trHH(j, l) += H_[j].cwiseProduct(H_[l].transpose()).sum();
        }
      }
    }
    Eigen::LLT<Mat> la(A);
    if (la.info() != Eigen::Success) return false;
    out.Ainv = la.solve(Mat::Identity(p, p));
    out.beta = la.solve(xwy);
    // pass 2: residuals
    r_.noalias() = Wy_ - WX_ * out.beta;
    out.eWe = pr_.y.dot(r_) - (pr_.X * out.beta).dot(r_);
    if (what & kObjLL) {
      const Mat LA = la.matrixL();
      const double logdet_a = 2.0 * LA.diagonal().array().log().sum();
      const double two_pi = 2.0 * M_PI;
      out.ll = reml_ ? -0.5 * ((k - p) * std::log(two_pi) + logdet_m + logdet_a - logdet_xtx_ + out.eWe)
                     : -0.5 * (k * std::log(two_pi) + logdet_m + out.eWe);
    }
    if (!traces) return true;
    rGr_.setZero(q);
    for (int b = 0; b < nbk; ++b) {
      const int i0 = pr_.block_begin(b), nb = pr_.block_size(b);
      const auto rb = r_.segment(i0, nb);
      for (int j = 0; j < q; ++j) {
        s_.block_deriv(pr_, theta, j, b, Gb_);
        Grb_.noalias() = Gb_ * rb;
        rGr_(j) += rb.dot(Grb_);
      }
    }
    if (what & kObjScore) {
      out.score.resize(q);
      for (int j = 0; j < q; ++j) {
        const double tr_pg = reml_ ? trH_(j) - trace_prod(out.Ainv, B_[j]) : trH_(j);
        out.score(j) = 0.5 * (rGr_(j) - tr_pg);
      }
    }
    if (info) {
      out.info.resize(q, q);
      for (int j = 0; j < q; ++j)
        for (int l = 0; l <= j; ++l) {
          double t = trHH(j, l);
          if (reml_) {
            const Mat AB_j = out.Ainv * B_[j], AB_l = out.Ainv * B_[l];
            t += -2.0 * out.Ainv.cwiseProduct(C_[j * q + l]).sum() + AB_j.cwiseProduct(AB_l.transpose()).sum();
          }
          out.info(j, l) = out.info(l, j) = 0.5 * t;
        }
    }
    return true;
  }
};

}  // namespace metafast
