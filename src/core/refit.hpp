// The refit engine: one way to refit the univariate model on a changed copy
// of the data, shared by every resampling and case-deletion kernel
// (bootstrap and jackknife: bootstrap.hpp; permutation tests:
// permutation.hpp; leave-one-out, cumulative, influence: case_deletion.hpp;
// GOSH: gosh.hpp).  R-free.
//
// A replicate changes the data in one of two ways:
//   * it selects units -- a multiset of unit indices (bootstrap draws,
//     leave-one-out, cumulative prefixes, GOSH subsets).  A unit is a row, or,
//     when the problem has blocks (model.hpp), a block of rows [offsets(c),
//     offsets(c + 1)) with its dense sampling covariance block;
//   * or it modifies a copy of the full data (parametric bootstrap y*, sign
//     flips of y, row permutations of X).
// Either way the refit follows one RefitPlan (estimator, test, controls, the
// detail of the fit, the rank check, the case-deletion rules on k, a warm
// start) and yields one RefitRecord.  Storage is per thread (thread_local),
// so once the sizes are set a refit of a model with p <= 2 allocates nothing.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "core/fit.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"

namespace metafast {

// How a refit is done, beyond the estimator, test and controls.
struct RefitPlan : RefitSpec {
  Detail detail = Detail::Heterogeneity;  // Lean: no QE / I2 / H2 (permutation tests)
  bool check_rank = true;    // fail a rank-deficient X (needed when rows are selected)
  // The rules of an rma() call on a subset (case deletion): k >= p + 1 when
  // tau2 is estimated, k >= p for the equal-effects model or a fixed tau2;
  // an intercept-only model with k = 1 is fitted with tau2 = 0 and a z test.
  bool deletion_rules = false;
  bool int_only = false;     // (deletion_rules) the model is intercept-only
  double warm = std::numeric_limits<double>::quiet_NaN();  // tau2 start (ML/REML/EB)
};

// What one refit gives.  Fields not computed at the plan's detail keep NaN;
// a failed refit has ok = false and NaN everywhere.
struct RefitRecord {
  bool ok = false;
  int k = 0;            // number of rows refitted
  bool z_test = false;  // k = 1 under the deletion rules: z test
  Vec beta;
  Mat vb;
  double tau2 = std::numeric_limits<double>::quiet_NaN();
  double QE = std::numeric_limits<double>::quiet_NaN();
  double I2 = std::numeric_limits<double>::quiet_NaN();
  double H2 = std::numeric_limits<double>::quiet_NaN();
  double s2w = std::numeric_limits<double>::quiet_NaN();
  // ill-conditioned designs only (FitResult): the orthonormal coordinates of
  // exact Wald statistics (wald_qm_coords())
  Vec beta_t;
  Mat vb_t;
  Mat RPt;
};

// Start of each block's dense covariance in Vblocks (n_blocks + 1 entries;
// empty without dense blocks).
inline std::vector<std::size_t> dense_block_starts(const ProblemView& pr) {
  std::vector<std::size_t> st;
  if (!pr.has_blocks() || !pr.dense_cov()) return st;
  const int nb = pr.n_blocks();
  st.resize(nb + 1);
  st[0] = 0;
  for (int b = 0; b < nb; ++b) {
    const std::size_t n = static_cast<std::size_t>(pr.block_size(b));
    st[b + 1] = st[b] + n * n;
  }
  return st;
}

// The problem made of the units units[0..n-1] of pr (repeats allowed), in
// that order: y, v, X and the weights of their rows and, with blocks, the
// block offsets and dense covariance blocks of the selected units.  vstart:
// dense_block_starts(pr).  out's storage is reused when the sizes agree.
inline void select_units(const ProblemView& pr, const std::vector<std::size_t>& vstart, const int* units, int n,
                         Problem& out) {
  const int p = pr.p();
  const bool blocks = pr.has_blocks();
  int rows = n;
  std::size_t vsize = 0;
  if (blocks) {
    rows = 0;
    for (int i = 0; i < n; ++i) {
      const int nb = pr.block_size(units[i]);
      rows += nb;
      vsize += static_cast<std::size_t>(nb) * nb;
    }
  }
  out.y.resize(rows);
  out.v.resize(rows);
  out.X.resize(rows, p);
  out.weights.resize(pr.has_weights() ? rows : 0);
  if (!blocks) {
    out.offsets.resize(0);
    out.Vblocks.resize(0);
    for (int i = 0; i < n; ++i) {
      const int r = units[i];
      out.y(i) = pr.y(r);
      out.v(i) = pr.v(r);
      for (int j = 0; j < p; ++j) out.X(i, j) = pr.X(r, j);
      if (pr.has_weights()) out.weights(i) = pr.weights(r);
    }
    return;
  }
  out.offsets.resize(n + 1);
  out.Vblocks.resize(pr.dense_cov() ? static_cast<Eigen::Index>(vsize) : 0);
  int at = 0;
  std::size_t vat = 0;
  out.offsets(0) = 0;
  for (int i = 0; i < n; ++i) {
    const int c = units[i], b0 = pr.block_begin(c), nb = pr.block_size(c);
    for (int t = 0; t < nb; ++t) {
      const int r = b0 + t;
      out.y(at + t) = pr.y(r);
      out.v(at + t) = pr.v(r);
      for (int j = 0; j < p; ++j) out.X(at + t, j) = pr.X(r, j);
      if (pr.has_weights()) out.weights(at + t) = pr.weights(r);
    }
    if (pr.dense_cov()) {
      const std::size_t nn = static_cast<std::size_t>(nb) * nb;
      for (std::size_t t = 0; t < nn; ++t) out.Vblocks(static_cast<Eigen::Index>(vat + t)) = pr.Vblocks(static_cast<Eigen::Index>(vstart[c] + t));
      vat += nn;
    }
    at += nb;
    out.offsets(i + 1) = at;
  }
}

// A copy of the whole problem (storage of out reused).
inline void copy_problem(const ProblemView& pr, Problem& out) {
  out.y = pr.y;
  out.v = pr.v;
  out.X = pr.X;
  out.weights = pr.weights;
  out.offsets = pr.offsets;
  out.Vblocks = pr.Vblocks;
}

// Refit sub under plan into rec (rec's storage reused).  Returns rec.ok.
inline bool refit_record(const ProblemView& sub, const RefitPlan& plan, RefitRecord& rec) {
  const int k = sub.k(), p = sub.p();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  rec.ok = false;
  rec.k = k;
  rec.z_test = false;
  rec.tau2 = rec.QE = rec.I2 = rec.H2 = rec.s2w = nan;
  const bool k1 = plan.deletion_rules && plan.int_only && k == 1;
  if (plan.deletion_rules && !k1) {
    const int need = (plan.method == Method::EE || plan.ctl.fix_tau2) ? p : p + 1;
    if (need > k) return false;
  }
  if (plan.check_rank && !full_column_rank(sub.X)) return false;
  Control ctl = plan.ctl;
  if (!ctl.fix_tau2 && !std::isnan(plan.warm) &&
      (plan.method == Method::ML || plan.method == Method::REML || plan.method == Method::EB))
    ctl.tau2_init = plan.warm;
  rec.z_test = k1;
  // per-thread storage: refits allocate nothing once the sizes are set;
  // extreme magnitudes are rescaled exactly, as in rma()
  thread_local FitWorkspace ws;
  thread_local FitResult f;
  fit_model_scaled(sub, plan.method, ctl, k1 ? Test::Z : plan.test, plan.detail, scale_for(plan.method, sub.y, sub.v), ws, f);
  if (std::isnan(f.tau2) || !f.conv.converged || f.beta.size() != p || !f.beta.allFinite()) return false;
  rec.beta = f.beta;
  rec.vb = f.vb;
  rec.beta_t = f.beta_t;
  rec.vb_t = f.vb_t;
  rec.RPt = f.RPt;
  rec.s2w = f.s2w;
  rec.tau2 = plan.method == Method::EE ? 0.0 : f.tau2;
  if (plan.detail != Detail::Lean) {
    // QE and tr(P) at tau2 = 0 from the fit (QE = 0 when k <= p)
    rec.QE = k > p ? f.QE : 0.0;
    i2_h2(plan.method, k, p, rec.QE, k > p ? f.trP0 : nan, rec.tau2, rec.I2, rec.H2);
  }
  rec.ok = true;
  return true;
}

// The engine over one full problem.  refit_units() and refit_modified() may
// be called from any thread; each returns the calling thread's record.
class RefitEngine {
 public:
  RefitEngine(const ProblemView& full, const RefitPlan& plan)
      : full_(full), plan_(plan), vstart_(dense_block_starts(full)) {}

  const ProblemView& full() const { return full_; }
  const RefitPlan& plan() const { return plan_; }
  int n_units() const { return full_.n_blocks(); }

  // The problem of the selected units (see select_units).
  void select(const int* units, int n, Problem& out) const { select_units(full_, vstart_, units, n, out); }

  // Refit on the units units[0..n-1].
  const RefitRecord& refit_units(const int* units, int n) const {
    thread_local Problem sub;
    select(units, n, sub);
    return refit(sub);
  }
  const RefitRecord& refit_units(const std::vector<int>& units) const {
    return refit_units(units.data(), static_cast<int>(units.size()));
  }

  // Refit on a copy of the full data changed by modify(Problem&).
  template <class Modify>
  const RefitRecord& refit_modified(Modify&& modify) const {
    thread_local Problem b;
    copy_problem(full_, b);
    modify(b);
    return refit(b);
  }

  // Refit a problem built by the caller.
  const RefitRecord& refit(const ProblemView& sub) const {
    thread_local RefitRecord rec;
    refit_record(sub, plan_, rec);
    return rec;
  }

 private:
  ProblemView full_;
  RefitPlan plan_;
  std::vector<std::size_t> vstart_;
};

// The loop of a kernel that selects units: replicates [start, end), replicate
// r refitted on the units units_of(r, units) appends (units arrives empty),
// write(i, record, units) stores the statistics of row i = r - start.
// Results go to their own rows, so they do not depend on the thread count.
template <class UnitsOf, class Write, class Poll>
bool refit_unit_sets(const RefitEngine& eng, std::size_t start, std::size_t end, int nthreads, std::size_t chunk,
                     UnitsOf&& units_of, Write&& write, Poll&& poll) {
  auto body = [&](std::size_t i) {
    thread_local std::vector<int> units;
    units.clear();
    units_of(start + i, units);
    write(i, eng.refit_units(units), units);
  };
  return parallel_for(0, end - start, nthreads, chunk, body, poll);
}

}  // namespace metafast
