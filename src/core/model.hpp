// Types shared by the metafast core: estimator names, solver controls, the
// problem (yi, vi, X, optional weights) and the fitted result.  R-free.
#pragma once

#include "core/eigen.hpp"
#include <cmath>
#include <limits>
#include <string>

namespace metafast {

using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;
// Read-only views: bind to owned vectors and matrices and to R's memory
// (Eigen::Map) alike, without a copy.
using VecRef = Eigen::Ref<const Vec>;
using MatRef = Eigen::Ref<const Mat>;

// Heterogeneity estimators.  What each can do, and its names in R: the
// table in estimators.hpp.
enum class Method : int {
  EE = 0,    // equal (fixed/common) effects: tau2 = 0
  DL = 1,    // DerSimonian & Laird 1986
  HE = 2,    // Hedges 1983 (Hedges & Olkin 1985)
  HS = 3,    // Hunter & Schmidt 2004
  HSk = 4,   // Hunter-Schmidt with k/(k-p) correction (Brannick et al. 2019)
  SJ = 5,    // Sidik & Jonkman 2005
  ML = 6,    // maximum likelihood
  REML = 7,  // restricted maximum likelihood
  EB = 8,    // empirical Bayes (Morris 1983)
  PM = 9,    // Paule & Mandel 1982
  GENQ = 10,   // generalised Q with the user's weights (DerSimonian & Kacker 2007)
  GENQM = 11,  // its median-unbiased version (Jackson 2013)
  DLIT = 12,   // iterated DerSimonian-Laird (DerSimonian & Kacker 2007)
  SJIT = 13,   // iterated Sidik-Jonkman
  PMM = 14     // median-unbiased Paule-Mandel (Viechtbauer 2021)
};

// A poll of the single-fit solvers (issue 18): fn(data) returns false to stop
// (a user interrupt).  Empty unless the glue of a single fit on R's main
// thread sets it; resampling kernels and worker threads never do.  Plain
// function pointer and data, so that Control stays trivially copyable.
struct FitPoll {
  bool (*fn)(void*) = nullptr;
  void* data = nullptr;
  bool operator()() const { return fn == nullptr || fn(data); }
};

// Machine epsilon: the relative floor of the univariate iterations'
// convergence tests (optimise.hpp, tau2.hpp).
constexpr double kEpsTau2 = std::numeric_limits<double>::epsilon();

// Solver controls; names follow metafor's control list.
struct Control {
  double threshold = 1e-10;   // convergence: |tau2_new - tau2_old| < threshold
  int maxiter = 1000;         // iteration cap of Fisher scoring
  double stepadj = 1.0;       // step length factor
  double tau2_init = std::numeric_limits<double>::quiet_NaN();  // NaN: default start
  double tau2_max = 1e6;      // upper end of the bracket for root-finding
  double tau2_min = 0.0;      // lower bound of the estimate (metafor's tau2.min; >= 0)
  bool fix_tau2 = false;      // use tau2_init as a fixed value (metafor's tau2=)
  FitPoll poll;               // polled once per iteration of the univariate solvers
  // Set by fit_model_scaled() at the scale of the outcomes' spread only (extreme
  // outcomes, issue 18): the univariate iterations also stop when the change is
  // within a few units in the last place of tau2 (which can be far above 1 there,
  // the absolute threshold below its rounding).  Off for ordinary fits.
  bool ulp_floor = false;
  // Block solvers (optimise.hpp): also stop, converged, on a flat
  // log-likelihood (PlateauTest).  Set by fit_objective() for its boundary
  // restarts only.
  bool plateau_stop = false;
};

// What the solver did: first-class convergence record (lme4 style).
struct Convergence {
  bool converged = true;
  int iterations = 0;
  double change = 0.0;      // last |tau2 change| (or bracket width for root-finding)
  int solver = 0;           // 0 closed form, 1 Fisher scoring, 2 bracketed root-finder, 3 quasi-Newton,
                            // 4 fixed-point iteration
  std::string message;      // empty when all went well
};

using IVec = Eigen::VectorXi;
using IVecRef = Eigen::Ref<const IVec>;

// Empty vectors that views without blocks bind to.
inline const IVec& no_blocks() { static const IVec e; return e; }
inline const Vec& no_dense_cov() { static const Vec e; return e; }

// The block structure of a problem (shared by Problem and ProblemView through
// CRTP, so that both answer the same questions in the same way).
//
// Blocks are clusters of rows: rows sorted by block, block b holds rows
// [offsets(b), offsets(b + 1)).  offsets of size 0 means that every row is a
// block of its own (the univariate model).  The sampling covariance of a block
// is diag(v) of its rows, or, when Vblocks is non-empty, a dense known matrix:
// block b's n_b x n_b matrix, column-major, at Vblocks.segment(voff, n_b^2),
// voff = sum of n_c^2 over c < b.  v always holds the diagonal of V, so code
// that needs only the sampling variances reads v whatever the structure.
template <class Derived>
struct BlockAccess {
  const Derived& self() const { return static_cast<const Derived&>(*this); }
  int k() const { return static_cast<int>(self().y.size()); }
  int p() const { return static_cast<int>(self().X.cols()); }
  bool has_weights() const { return self().weights.size() > 0; }
  bool has_blocks() const { return self().offsets.size() > 0; }
  bool dense_cov() const { return self().Vblocks.size() > 0; }
  int n_blocks() const { return has_blocks() ? static_cast<int>(self().offsets.size()) - 1 : k(); }
  int block_begin(int b) const { return has_blocks() ? self().offsets(b) : b; }
  int block_size(int b) const { return has_blocks() ? self().offsets(b + 1) - self().offsets(b) : 1; }
  // Offset of block b's matrix in Vblocks: sum of n_c^2 over c < b.  O(b);
  // loops that visit the blocks in order keep a running offset instead.
  Eigen::Index vblock_offset(int b) const {
    Eigen::Index off = 0;
    for (int c = 0; c < b; ++c) off += static_cast<Eigen::Index>(block_size(c)) * block_size(c);
    return off;
  }
  // The sampling covariance V_b of block b written into M (n_b x n_b): the
  // dense block at Vblocks offset voff, or diag(v) of the block's rows.
  void sampling_block(int b, Eigen::Index voff, Mat& M) const {
    const int nb = block_size(b);
    if (dense_cov()) {
      M = Eigen::Map<const Mat>(self().Vblocks.data() + voff, nb, nb);
    } else {
      M.setZero(nb, nb);
      M.diagonal() = self().v.segment(block_begin(b), nb);
    }
  }
};

// The problem handed over by R.  R has validated it (finite, vi >= 0, k >= p,
// full column rank, blocks contiguous and V blocks symmetric positive
// semi-definite), so the core trusts it.
struct Problem : BlockAccess<Problem> {
  Vec y;
  Vec v;
  Mat X;
  Vec weights;    // user weights (size 0 when absent)
  IVec offsets;   // block offsets, size n_blocks + 1 (size 0: one row a block)
  Vec Vblocks;    // dense sampling covariance blocks (size 0: diagonal v)
};

// The same problem as read-only views: what the fit reads.  A Problem
// converts to it implicitly; the glue builds one over R's vectors, so a
// large model is fitted without copying its data.
struct ProblemView : BlockAccess<ProblemView> {
  VecRef y;
  VecRef v;
  MatRef X;
  VecRef weights;
  IVecRef offsets;
  VecRef Vblocks;
  ProblemView(const Problem& pr)  // NOLINT: implicit
      : y(pr.y), v(pr.v), X(pr.X), weights(pr.weights), offsets(pr.offsets), Vblocks(pr.Vblocks) {}
  ProblemView(const VecRef& y_, const VecRef& v_, const MatRef& X_, const VecRef& w_,
              const IVecRef& offsets_ = no_blocks(), const VecRef& Vblocks_ = no_dense_cov())
      : y(y_), v(v_), X(X_), weights(w_), offsets(offsets_), Vblocks(Vblocks_) {}
};

}  // namespace metafast
