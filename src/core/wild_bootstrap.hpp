// The cluster wild bootstrap test of C b = 0 for meta-analytic models
// (wildmeta's Wald_test_cwb(); Joshi, Pustejovsky & Beretvas 2022, Res
// Synth Methods 13:457-477; the wild bootstrap of Cameron, Gelbach & Miller
// 2008, Rev Econ Stat 90:414-427).  R-free.
//
//   1. The null model: the full model with the constraint imposed, i.e. the
//      design X0 = X N (N: a basis of the null space of C), fitted to y with
//      its variance components re-estimated: b0, theta0.
//   2. Its residuals e0 = y - X0 b0, adjusted cluster by cluster:
//      e~_j = A_j e0_j with A_j = I (CR0), sqrt(J/(J-1)) I (CR1), the CR2
//      matrix of sandwich.hpp (Bell & McCaffrey 2002), (I - H_jj)^-1 (CR3)
//      or, for a null model with one coefficient, the scalar CR4 adjustment
//      of sandwich.hpp (wildmeta multiplies the residuals by clubSandwich's
//      p0 x p0 CR4 matrices, defined only for p0 = 1), all at the null
//      model's working covariance (and, for fits with user weights or
//      weighted = FALSE, its weights: the general forms).
//   3. Replicate r: one auxiliary weight eta_c per cluster (Rademacher,
//      Mammen 1993, Webb 2023's six-point, uniform on (-sqrt 3, sqrt 3) or
//      standard normal), y* = X0 b0 + eta_c(i) e~_i, the FULL model refitted
//      to y* (variance components re-estimated), and the cluster-robust Wald
//      statistic of C b = 0 from the sandwich of 'type' (sandwich.hpp):
//      Q = (C b)' (C V C')^-1 (C b), F = Q / q, or for the HTZ test
//      F = delta Q / q with delta = max((nu_Z - q + 1) / nu_Z, 0) (Tipton &
//      Pustejovsky 2015), or the HTA, HTB, EDF or EDT statistic of
//      sandwich.hpp (sandwich_small_sample_F).
// Replicate r draws its weights from Stream(seed, r) only (or reads column
// r of a given weight matrix), so results do not depend on the threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "core/fit.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"
#include "core/refit.hpp"
#include "core/rng.hpp"
#include "core/sandwich.hpp"
#include "core/structure.hpp"

namespace metafast {

enum class CwbDist : int { Rademacher = 0, Mammen = 1, Webb = 2, Uniform = 3, Normal = 4 };
enum class CwbTest : int { ChiSq = 0, NaiveF = 1, NaiveFp = 2, HTZ = 3, HTA = 4, HTB = 5, EDF = 6, EDT = 7 };

// One auxiliary weight (mean 0, variance 1).
inline double cwb_aux_draw(Stream& s, CwbDist d) {
  switch (d) {
    case CwbDist::Rademacher:
      return s.below(2) ? 1.0 : -1.0;
    case CwbDist::Mammen: {
      // -(sqrt5 - 1)/2 with probability (sqrt5 + 1)/(2 sqrt5), else (sqrt5 + 1)/2 (Mammen 1993)
      const double r5 = std::sqrt(5.0);
      return s.uniform() < (r5 + 1.0) / (2.0 * r5) ? -(r5 - 1.0) / 2.0 : (r5 + 1.0) / 2.0;
    }
    case CwbDist::Webb: {
      // +-sqrt(1/2), +-1, +-sqrt(3/2), each with probability 1/6 (Webb 2023)
      static const double w[6] = {-std::sqrt(1.5), -1.0, -std::sqrt(0.5), std::sqrt(0.5), 1.0, std::sqrt(1.5)};
      return w[s.below(6)];
    }
    case CwbDist::Uniform:
      return std::sqrt(3.0) * (2.0 * s.uniform() - 1.0);
    case CwbDist::Normal:
      return s.normal();
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// The clusters: rows of the model sorted by cluster (a stable sort of the
// model's rows, so the blocks of an rma.mv model stay contiguous).
struct CwbLayout {
  int J = 0;
  std::vector<int> off;  // J + 1 offsets into row
  std::vector<int> row;  // cluster-sorted position -> model row
  std::vector<int> cl;   // model row -> cluster (0-based)
};

inline CwbLayout cwb_layout(const std::vector<int>& cl, int J) {
  CwbLayout lay;
  lay.J = J;
  lay.cl = cl;
  lay.off.assign(static_cast<std::size_t>(J) + 1, 0);
  for (int c : cl) ++lay.off[static_cast<std::size_t>(c) + 1];
  for (int j = 0; j < J; ++j) lay.off[j + 1] += lay.off[j];
  std::vector<int> at(lay.off.begin(), lay.off.end() - 1);
  lay.row.resize(cl.size());
  for (std::size_t i = 0; i < cl.size(); ++i) lay.row[at[cl[i]]++] = static_cast<int>(i);
  return lay;
}

// A model the bootstrap refits: fit(y) re-estimates the variance components
// and coefficients on outcomes y (model row order); cluster_cov(theta)
// gives the working (marginal) covariance block of every cluster in the
// cluster-sorted order.  Both are called from worker threads.
class CwbModel {
 public:
  virtual ~CwbModel() = default;
  virtual const MatRef& design() const = 0;
  virtual bool fit(const Vec& y, Vec& beta, Vec& theta, const OptimPoll& poll) const = 0;
  virtual void cluster_cov(const Vec& theta, const CwbLayout& lay, std::vector<Mat>& Theta) const = 0;
  // The weight blocks of the clusters when the weights are not Theta^-1
  // (returns true); false and W emptied for inverse-variance weights.
  virtual bool cluster_weights(const CwbLayout& lay, std::vector<Mat>& W) const {
    (void)lay;
    W.clear();
    return false;
  }
};

// The univariate model of rma(): tau2 re-estimated by the fit's estimator
// (refit.hpp); Theta_j = diag(v_i + tau2); user weights (weighted = FALSE:
// ones) give W_j = diag(w_i).
class CwbUniModel : public CwbModel {
 public:
  CwbUniModel(const ProblemView& pr, const RefitPlan& plan) : pr_(pr), plan_(plan) {}
  const MatRef& design() const override { return pr_.X; }
  bool fit(const Vec& y, Vec& beta, Vec& theta, const OptimPoll&) const override {
    thread_local Problem b;
    thread_local RefitRecord rec;
    copy_problem(pr_, b);
    b.y = y;
    if (!refit_record(b, plan_, rec)) return false;
    beta = rec.beta;
    theta = Vec::Constant(1, rec.tau2);
    return true;
  }
  void cluster_cov(const Vec& theta, const CwbLayout& lay, std::vector<Mat>& Theta) const override {
    Theta.resize(lay.J);
    for (int j = 0; j < lay.J; ++j) {
      const int a0 = lay.off[j], n = lay.off[j + 1] - a0;
      Theta[j].setZero(n, n);
      for (int a = 0; a < n; ++a) Theta[j](a, a) = pr_.v(lay.row[a0 + a]) + theta(0);
    }
  }
  bool cluster_weights(const CwbLayout& lay, std::vector<Mat>& W) const override {
    if (pr_.weights.size() == 0) {
      W.clear();
      return false;
    }
    W.resize(lay.J);
    for (int j = 0; j < lay.J; ++j) {
      const int a0 = lay.off[j], n = lay.off[j + 1] - a0;
      W[j].setZero(n, n);
      for (int a = 0; a < n; ++a) W[j](a, a) = pr_.weights(lay.row[a0 + a]);
    }
    return true;
  }

 private:
  ProblemView pr_;
  RefitPlan plan_;
};

// The multilevel / multivariate model of rma.mv(): the variance components
// re-estimated by ML or REML (fit_block_model, warm start theta0); the
// clusters hold whole blocks of the engine, so Theta_j is block diagonal
// over the engine blocks of cluster j.
class CwbMvModel : public CwbModel {
 public:
  CwbMvModel(const ProblemView& pr, const VarStructure& st, bool reml, const Control& ctl, const Vec& theta0)
      : pr_(pr), st_(st), reml_(reml), ctl_(ctl), theta0_(theta0) {
    const int nb = pr.n_blocks();
    voff_.resize(static_cast<std::size_t>(nb));
    row_block_.resize(static_cast<std::size_t>(pr.k()));
    Eigen::Index a = 0;
    for (int b = 0; b < nb; ++b) {
      voff_[b] = a;
      if (pr.dense_cov()) a += static_cast<Eigen::Index>(pr.block_size(b)) * pr.block_size(b);
      for (int t = 0; t < pr.block_size(b); ++t) row_block_[pr.block_begin(b) + t] = b;
    }
  }
  const MatRef& design() const override { return pr_.X; }
  // User weights (metafor's W = A), block-diagonal by cluster: A_j in the
  // layout's cluster-sorted order.  The variance components stay the
  // REML/ML estimates without A; b = (X'AX)^-1 X'A y (metafor's rma.mv).
  void set_user_weights(const CwbLayout& lay, std::vector<Mat> A) {
    lay_ = lay;
    A_ = std::move(A);
  }
  bool fit(const Vec& y, Vec& beta, Vec& theta, const OptimPoll& poll) const override {
    thread_local Problem b;
    copy_problem(pr_, b);
    b.y = y;
    const BlockFitResult f = fit_block_model(b, st_, reml_, ctl_, theta0_, true, poll);
    if (!f.conv.converged || f.beta.size() != pr_.p() || !f.beta.allFinite()) return false;
    theta = f.theta;
    if (A_.empty()) {
      beta = f.beta;
      return true;
    }
    const int p = pr_.p();
    Mat XAX = Mat::Zero(p, p);
    Vec XAy = Vec::Zero(p);
    thread_local Mat Xj;
    thread_local Vec yj;
    for (int j = 0; j < lay_.J; ++j) {
      const int a0 = lay_.off[j], n = lay_.off[j + 1] - a0;
      Xj.resize(n, p);
      yj.resize(n);
      for (int a = 0; a < n; ++a) {
        Xj.row(a) = pr_.X.row(lay_.row[a0 + a]);
        yj(a) = y(lay_.row[a0 + a]);
      }
      const Mat AX = A_[j] * Xj;
      XAX.noalias() += AX.transpose() * Xj;
      XAy.noalias() += AX.transpose() * yj;
    }
    Eigen::LLT<Mat> llt(XAX);
    if (llt.info() != Eigen::Success) return false;
    beta = llt.solve(XAy);
    return beta.allFinite();
  }
  bool cluster_weights(const CwbLayout& lay, std::vector<Mat>& W) const override {
    (void)lay;
    W = A_;
    return !A_.empty();
  }
  void cluster_cov(const Vec& theta, const CwbLayout& lay, std::vector<Mat>& Theta) const override {
    Theta.resize(lay.J);
    thread_local Mat Mb;
    for (int j = 0; j < lay.J; ++j) {
      const int a0 = lay.off[j], n = lay.off[j + 1] - a0;
      Theta[j].setZero(n, n);
      int a = 0;
      while (a < n) {
        const int b = row_block_[lay.row[a0 + a]], nb = pr_.block_size(b);
        st_.block_cov(pr_, theta, b, voff_[b], Mb);
        Theta[j].block(a, a, nb, nb) = Mb;
        a += nb;
      }
    }
  }

 private:
  ProblemView pr_;
  const VarStructure& st_;
  bool reml_;
  Control ctl_;
  Vec theta0_;
  std::vector<Eigen::Index> voff_;
  std::vector<int> row_block_;
  CwbLayout lay_;
  std::vector<Mat> A_;  // user weights by cluster (empty: W = M^-1)
};

// The sandwich pieces of a fitted model at (beta, theta) on outcomes y:
// rows sorted by cluster, B = (sum_j X_j' W_j X_j)^-1 with W_j = Theta_j^-1
// or the model's weight blocks.  False when a Theta_j or X'WX is not
// positive definite.
inline bool cwb_sandwich_data(const CwbModel& m, const CwbLayout& lay, const Vec& y, const Vec& beta,
                              const Vec& theta, SandwichData& dt) {
  const MatRef& X = m.design();
  const int k = static_cast<int>(X.rows()), p = static_cast<int>(X.cols());
  dt.X.resize(k, p);
  dt.e.resize(k);
  for (int a = 0; a < k; ++a) {
    const int i = lay.row[a];
    dt.X.row(a) = X.row(i);
    dt.e(a) = y(i) - X.row(i).dot(beta);
  }
  dt.off = lay.off;
  m.cluster_cov(theta, lay, dt.Theta);
  const bool gen = m.cluster_weights(lay, dt.W);
  Mat XWX = Mat::Zero(p, p);
  for (int j = 0; j < lay.J; ++j) {
    const int a0 = lay.off[j], n = lay.off[j + 1] - a0;
    if (gen) {
      const auto Xj = dt.X.middleRows(a0, n);
      XWX.noalias() += Xj.transpose() * dt.W[j] * Xj;
      continue;
    }
    Eigen::LLT<Mat> llt(dt.Theta[j]);
    if (llt.info() != Eigen::Success) return false;
    const Mat Xt = llt.matrixL().solve(dt.X.middleRows(a0, n));
    XWX.noalias() += Xt.transpose() * Xt;
  }
  Eigen::LLT<Mat> lx(XWX);
  if (lx.info() != Eigen::Success) return false;
  dt.B = lx.solve(Mat::Identity(p, p));
  return true;
}

// The Wald statistic of C b = 0 (clubSandwich's Fstat) with the sandwich of
// 'type'; NaN when C V C' is not positive definite.
inline double cwb_wald_stat(const SandwichData& dt, const Vec& beta, const Mat& C, SandwichType type, CwbTest test) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  SandwichFit sf;
  sandwich_compute(dt, type, sf, []() { return true; });
  if (!sf.ok) return nan;
  const int q = static_cast<int>(C.rows());
  const Vec Cb = C * beta;
  const Mat CVC = C * sf.vcov * C.transpose();
  Eigen::LLT<Mat> llt(CVC);
  if (llt.info() != Eigen::Success) return nan;
  if (test >= CwbTest::HTA)
    return sandwich_small_sample_F(dt, sf, C, beta, static_cast<SandwichTest>(static_cast<int>(test) - 4));
  const double Q = Cb.dot(llt.solve(Cb));
  if (test != CwbTest::HTZ) return Q / q;
  const double nu = sandwich_htz_nu(dt, sf, C);
  if (!std::isfinite(nu)) return nan;
  const double delta = std::max((nu - q + 1.0) / nu, 0.0);
  return delta * Q / q;
}

// Refit m to y and return the statistic (NaN when the refit fails).
inline double cwb_refit_stat(const CwbModel& m, const CwbLayout& lay, const Vec& y, const Mat& C, SandwichType type,
                             CwbTest test, const OptimPoll& poll) {
  thread_local Vec beta, theta;
  thread_local SandwichData dt;
  if (!m.fit(y, beta, theta, poll)) return std::numeric_limits<double>::quiet_NaN();
  if (!cwb_sandwich_data(m, lay, y, beta, theta, dt)) return std::numeric_limits<double>::quiet_NaN();
  return cwb_wald_stat(dt, beta, C, type, test);
}

// The null model's fitted values and adjusted residuals (model row order).
// adjust: CR0, CR1, CR2, CR3 or CR4 (only for a design X0 of one column).
// False when the null model cannot be fitted.
struct CwbNull {
  Vec fitted, resid, beta, theta;
};

inline bool cwb_null(const CwbModel& m0, const CwbLayout& lay, const Vec& y, SandwichType adjust, CwbNull& out,
                     const OptimPoll& poll) {
  if (!m0.fit(y, out.beta, out.theta, poll)) return false;
  const MatRef& X0 = m0.design();
  out.fitted = X0 * out.beta;
  SandwichData dt;
  if (!cwb_sandwich_data(m0, lay, y, out.beta, out.theta, dt)) return false;
  const int J = lay.J;
  const bool gen = dt.general();
  Mat K;
  if (gen && (adjust == SandwichType::CR2 || adjust == SandwichType::CR4)) K = sandwich_K(dt);
  if (adjust == SandwichType::CR4 && dt.X.cols() != 1) return false;
  Vec r(dt.e.size());  // cluster-sorted
  for (int j = 0; j < J; ++j) {
    const int a0 = lay.off[j], n = lay.off[j + 1] - a0;
    const Vec ej = dt.e.segment(a0, n);
    if (adjust == SandwichType::CR4) {
      // the 1 x 1 CR4 matrix of the cluster times its residuals
      Mat XtW;
      if (gen) {
        XtW = (dt.W[j] * dt.X.middleRows(a0, n)).transpose();
      } else {
        Eigen::LLT<Mat> llt(dt.Theta[j]);
        if (llt.info() != Eigen::Success) return false;
        XtW = llt.solve(dt.X.middleRows(a0, n)).transpose();
      }
      r.segment(a0, n) = sandwich_cr4(dt, K, XtW, j)(0, 0) * ej;
    } else if (gen && (adjust == SandwichType::CR2 || adjust == SandwichType::CR3)) {
      // general weights (sandwich.hpp): CR2 with K = B F B, CR3 (I - X_j B X_j' W_j)^-1
      Eigen::LLT<Mat> llt(dt.Theta[j]);
      if (llt.info() != Eigen::Success) return false;
      const Mat Xj = dt.X.middleRows(a0, n);
      const Mat XtW = (dt.W[j] * Xj).transpose();
      if (adjust == SandwichType::CR2) {
        const Mat L = llt.matrixL();
        r.segment(a0, n) = sandwich_cr2_general(dt, K, L, XtW, j) * ej;
      } else {
        Mat IH = -(Xj * dt.B * XtW);
        IH.diagonal().array() += 1.0;
        r.segment(a0, n) = IH.partialPivLu().solve(ej);
      }
    } else if (adjust == SandwichType::CR1) {
      r.segment(a0, n) = std::sqrt(double(J) / (J - 1.0)) * ej;
    } else if (adjust == SandwichType::CR2) {
      // A_j = L G^-1/2 L', G = L' (Theta_j - X_j B X_j') L, Theta_j = L L'
      const Mat L = Eigen::LLT<Mat>(dt.Theta[j]).matrixL();
      const Mat Xj = dt.X.middleRows(a0, n);
      const Mat G = L.transpose() * (dt.Theta[j] - Xj * dt.B * Xj.transpose()) * L;
      r.segment(a0, n) = L * (sandwich_sym_power(G, -0.5) * (L.transpose() * ej));
    } else if (adjust == SandwichType::CR3) {
      // A_j = (I - X_j B X_j' W_j)^-1
      const Mat Xj = dt.X.middleRows(a0, n);
      Eigen::LLT<Mat> llt(dt.Theta[j]);
      Mat IH = -(Xj * dt.B * llt.solve(Xj).transpose());
      IH.diagonal().array() += 1.0;
      r.segment(a0, n) = IH.partialPivLu().solve(ej);
    } else {
      r.segment(a0, n) = ej;
    }
  }
  out.resid.resize(r.size());
  for (Eigen::Index a = 0; a < r.size(); ++a) out.resid(lay.row[a]) = r(a);
  return true;
}

struct CwbPlan {
  Mat C;                                  // q x p constraints
  SandwichType type = SandwichType::CR0;  // of the test statistic
  CwbTest test = CwbTest::NaiveF;
  CwbDist dist = CwbDist::Rademacher;
  std::uint64_t seed = 0;
  const double* weights = nullptr;        // optional J x n_total weights (column r: replicate r)
};

// Replicates [start, end): out[i] is the statistic of replicate start + i
// (NaN when its refit failed).  poll(done) on the calling thread; false
// stops the run (and the refits in progress).
template <class Poll>
bool cwb_run(const CwbModel& full, const CwbLayout& lay, const CwbNull& nul, const CwbPlan& plan, std::size_t start,
             std::size_t end, int nthreads, double* out, Poll&& poll) {
  std::atomic<bool> cancel(false);
  const OptimPoll fit_poll = [&cancel]() { return !cancel.load(std::memory_order_relaxed); };
  const int k = static_cast<int>(nul.fitted.size()), J = lay.J;
  auto body = [&](std::size_t i) {
    const std::size_t r = start + i;
    thread_local std::vector<double> eta;
    thread_local Vec ys;
    eta.resize(static_cast<std::size_t>(J));
    if (plan.weights) {
      for (int c = 0; c < J; ++c) eta[c] = plan.weights[r * static_cast<std::size_t>(J) + c];
    } else {
      Stream s(plan.seed, r);
      for (int c = 0; c < J; ++c) eta[c] = cwb_aux_draw(s, plan.dist);
    }
    ys.resize(k);
    for (int t = 0; t < k; ++t) ys(t) = nul.fitted(t) + eta[lay.cl[t]] * nul.resid(t);
    out[i] = cwb_refit_stat(full, lay, ys, plan.C, plan.type, plan.test, fit_poll);
  };
  auto main_poll = [&](std::size_t done) {
    if (!poll(done)) {
      cancel = true;
      return false;
    }
    return true;
  };
  return parallel_for(0, end - start, nthreads, 4, body, main_poll);
}

}  // namespace metafast
