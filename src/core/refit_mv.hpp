// Unit deletion for block models (rma.mv): the model refitted without each
// unit in turn, a unit being a set of rows (one row, or a cluster of rows
// that may cut through the blocks of the engine), and the case-deletion
// diagnostics of metafor's rstudent(), cooks.distance() and dfbetas() for
// rma.mv fits (Viechtbauer & Cheung 2010, Res Synth Methods 1:112-125,
// extended to multilevel models: Cook 1977, Technometrics 19:15; Belsley,
// Kuh & Welsch 1980, ch. 2).  Works through the VarStructure interface
// (subset_rows()), so any structure that can restrict itself to rows can be
// refitted.  R-free.
//
// For unit u with rows D (and the kept rows K):
//   theta(-u), beta(-u), vb(-u)  the fit on K: re-estimated (warm start at the
//                                full fit's theta, bounded iterations) or at
//                                the full fit's theta (reestimate = false);
//   rstudent: for the rows of D, with M_DD the marginal covariance of D at
//     theta(-u) (V_DD plus the random effects) and X_D their rows of X,
//       r = y_D - X_D beta(-u),  S = M_DD + X_D vb(-u) X_D',
//       se_i = sqrt(S_ii),  X2 = r' S^{-1} r;
//   dfbetas: diag of (X'M(theta(-u))^{-1} X)^{-1} on all rows (the
//     denominator of DFBETAS).
// Cook's distances need only beta(-u) (computed in R).
//
// A refit fails (ok = false; NA in R) when fewer rows than coefficients + 1
// remain, the kept design is rank deficient, the fit fails or does not
// converge.  Results go to their own rows, so they do not depend on the
// thread count; workers never touch R.
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/fit.hpp"
#include "core/model.hpp"
#include "core/objective.hpp"
#include "core/parallel.hpp"
#include "core/permutation.hpp"
#include "core/refit.hpp"
#include "core/rng.hpp"
#include "core/structure.hpp"

namespace metafast {

// The block of each row of pr, and the rows of each unit (unit[i] in 0..n_units-1 is the unit of
// row i): what every refit kernel over units needs to select a unit's rows.
inline std::vector<int> mv_row_blocks(const ProblemView& pr) {
  std::vector<int> row_block(static_cast<std::size_t>(pr.k()));
  for (int b = 0; b < pr.n_blocks(); ++b)
    for (int t = 0; t < pr.block_size(b); ++t) row_block[pr.block_begin(b) + t] = b;
  return row_block;
}

inline std::vector<std::vector<int>> mv_unit_members(const std::vector<int>& unit, int n_units) {
  std::vector<std::vector<int>> members(static_cast<std::size_t>(n_units));
  for (std::size_t i = 0; i < unit.size(); ++i) members[unit[i]].push_back(static_cast<int>(i));
  return members;
}

// The problem made of the given rows of pr (ascending indices, so that the
// rows of a block stay together): y, v, X, the offsets of the non-empty
// blocks and their dense V blocks restricted to the kept rows.
// row_block: block of each row of pr; vstart: dense_block_starts(pr).
// new_block (optional, one flag per selected row): also start a block where
// the flag is set (the copies of a cluster drawn more than once by the
// cluster bootstrap are independent blocks).
inline void mv_select_rows(const ProblemView& pr, const std::vector<int>& row_block,
                           const std::vector<std::size_t>& vstart, const std::vector<int>& rows, Problem& out,
                           const std::vector<char>* new_block = nullptr) {
  const int n = static_cast<int>(rows.size()), p = pr.p();
  out.y.resize(n);
  out.v.resize(n);
  out.X.resize(n, p);
  out.weights.resize(0);
  for (int i = 0; i < n; ++i) {
    out.y(i) = pr.y(rows[i]);
    out.v(i) = pr.v(rows[i]);
    out.X.row(i) = pr.X.row(rows[i]);
  }
  // blocks: runs of kept rows with the same block
  std::vector<int> off;
  off.reserve(static_cast<std::size_t>(pr.n_blocks()) + 1);
  off.push_back(0);
  for (int i = 1; i < n; ++i)
    if (row_block[rows[i]] != row_block[rows[i - 1]] || (new_block && (*new_block)[i])) off.push_back(i);
  off.push_back(n);
  const int nb = static_cast<int>(off.size()) - 1;
  out.offsets.resize(nb + 1);
  for (int b = 0; b <= nb; ++b) out.offsets(b) = off[b];
  if (!pr.dense_cov()) {
    out.Vblocks.resize(0);
    return;
  }
  std::size_t vsize = 0;
  for (int b = 0; b < nb; ++b) vsize += static_cast<std::size_t>(off[b + 1] - off[b]) * (off[b + 1] - off[b]);
  out.Vblocks.resize(static_cast<Eigen::Index>(vsize));
  std::size_t at = 0;
  for (int b = 0; b < nb; ++b) {
    const int m = off[b + 1] - off[b];
    const int ob = row_block[rows[off[b]]];
    const int i0 = pr.block_begin(ob), nob = pr.block_size(ob);
    for (int j = 0; j < m; ++j) {
      const int lj = rows[off[b] + j] - i0;
      for (int i = 0; i < m; ++i) {
        const int li = rows[off[b] + i] - i0;
        out.Vblocks(static_cast<Eigen::Index>(at + i + static_cast<std::size_t>(j) * m)) =
            pr.Vblocks(static_cast<Eigen::Index>(vstart[ob] + li + static_cast<std::size_t>(lj) * nob));
      }
    }
    at += static_cast<std::size_t>(m) * m;
  }
}

struct MvDeletionPlan {
  bool reml = true;
  bool reestimate = true;
  Control ctl;           // threshold, maxiter (bounded iterations), stepadj
  Vec theta;             // the full fit's theta (warm start, or the fixed values)
  bool want_rstudent = false;
  bool want_dfbetas = false;
};

// Column-major outputs; n = number of units, k rows (in the problem's row
// order), p coefficients, q = n_theta.  Pointers of unrequested parts may be null.
struct MvDeletionOut {
  std::size_t n = 0;
  int* ok = nullptr;         // n (logical)
  double* theta = nullptr;   // n x q
  double* beta = nullptr;    // n x p
  double* vbdiag = nullptr;  // n x p: diag of the all-rows vb at theta(-u) (dfbetas)
  double* resid = nullptr;   // k: y_i - x_i' beta(-u) for the unit u of row i (rstudent)
  double* se = nullptr;      // k
  double* X2 = nullptr;      // n
};

// The offset of each block of pr in a concatenation of its n_b x n_b blocks
// (whether or not pr has dense V blocks: the layout block_cov() expects).
inline std::vector<std::size_t> mv_block_offsets(const ProblemView& pr) {
  std::vector<std::size_t> voff(static_cast<std::size_t>(pr.n_blocks()) + 1, 0);
  for (int b = 0; b < pr.n_blocks(); ++b)
    voff[b + 1] = voff[b] + static_cast<std::size_t>(pr.block_size(b)) * pr.block_size(b);
  return voff;
}

// A model family of the deletion kernel: how the model is fitted and
// evaluated on a subset of rows, and the marginal covariance M_DD of the
// rows left out.  The block family (the block engine: any VarStructure with
// subset_rows(), M block-diagonal over the blocks of pr) is below; the
// sparse family of crossed terms is in refit_crossed.hpp.  Members:
//   subset(rows)                 the structure on those rows (owning)
//   fit(sv, sst, ctl, theta0, poll)      ML/REML fit of the subset
//   evaluate(sv, sst, theta, ev)  beta and (X'WX)^-1 at theta
//   add_mdd(pr, theta, del, S)   S += M_DD at theta
class BlockFamily {
 public:
  BlockFamily(const ProblemView& pr, const VarStructure& st, bool reml)
      : st_(st), reml_(reml), row_block_(mv_row_blocks(pr)), voff_(mv_block_offsets(pr)) {}
  const VarStructure& structure() const { return st_; }
  std::unique_ptr<VarStructure> subset(const std::vector<int>& rows) const { return st_.subset_rows(rows); }
  BlockFitResult fit(const ProblemView& sv, const VarStructure& sst, const Control& ctl, const Vec& theta0,
                     const OptimPoll& poll) const {
    return fit_block_model(sv, sst, reml_, ctl, theta0, true, poll);
  }
  bool evaluate(const ProblemView& sv, const VarStructure& sst, const Vec& theta, ObjectiveEval& ev,
                const OptimPoll& /*poll*/) const {
    BlockObjective obj(sv, sst, reml_);
    return obj.evaluate(theta, 0, ev);
  }
  // M_DD block-diagonal over the blocks of pr (del ascending, so the rows of
  // one block are consecutive)
  void add_mdd(const ProblemView& pr, const Vec& theta, const std::vector<int>& del, Mat& S) const {
    const int nd = static_cast<int>(del.size());
    Mat Mb;
    int a = 0;
    while (a < nd) {
      const int b = row_block_[del[a]], i0 = pr.block_begin(b);
      int e = a;
      while (e < nd && row_block_[del[e]] == b) ++e;
      st_.block_cov(pr, theta, b, static_cast<Eigen::Index>(voff_[b]), Mb);
      for (int c2 = a; c2 < e; ++c2)
        for (int c1 = a; c1 < e; ++c1) S(c1, c2) += Mb(del[c1] - i0, del[c2] - i0);
      a = e;
    }
  }

 private:
  const VarStructure& st_;
  const bool reml_;
  const std::vector<int> row_block_;
  const std::vector<std::size_t> voff_;
};

// Refit without each unit: unit[i] in 0..n_units-1 is the unit of row i of pr.
// poll(done) is called on the calling thread (parallel_for); false stops the
// run (and the refits in progress, at their next iteration).  family: a
// model family (above) over pr.
template <class Family, class Poll>
bool mv_deletion_run_family(const ProblemView& pr, const Family& family, const MvDeletionPlan& plan,
                            const std::vector<int>& unit, int n_units, int nthreads, const MvDeletionOut& o,
                            double na, Poll&& poll) {
  const VarStructure& st = family.structure();
  const int k = pr.k(), p = pr.p(), q = st.n_theta();
  if (static_cast<int>(unit.size()) != k) throw std::invalid_argument("mv_deletion_run: one unit code per row");
  const std::vector<int> row_block = mv_row_blocks(pr);
  const std::vector<std::vector<int>> members = mv_unit_members(unit, n_units);
  const std::vector<std::size_t> vstart = dense_block_starts(pr);
  std::atomic<bool> cancel(false);
  const OptimPoll fit_poll = [&cancel]() { return !cancel.load(std::memory_order_relaxed); };

  auto body = [&](std::size_t ui) {
    const int u = static_cast<int>(ui);
    const std::vector<int>& del = members[u];
    const int nd = static_cast<int>(del.size());
    auto fail = [&]() {
      if (o.ok) o.ok[ui] = 0;
      for (int j = 0; j < q; ++j) if (o.theta) o.theta[ui + j * o.n] = na;
      for (int j = 0; j < p; ++j) {
        if (o.beta) o.beta[ui + j * o.n] = na;
        if (o.vbdiag) o.vbdiag[ui + j * o.n] = na;
      }
      if (o.X2) o.X2[ui] = na;
      for (int i : del) {
        if (o.resid) o.resid[i] = na;
        if (o.se) o.se[i] = na;
      }
    };
    // the kept rows (ascending)
    thread_local std::vector<int> keep;
    keep.clear();
    {
      std::size_t d = 0;
      for (int i = 0; i < k; ++i) {
        if (d < del.size() && del[d] == i) { ++d; continue; }
        keep.push_back(i);
      }
    }
    const int kk = static_cast<int>(keep.size());
    if (kk < p + 1) { fail(); return; }
    thread_local Problem sub;
    mv_select_rows(pr, row_block, vstart, keep, sub);
    if (!full_column_rank(sub.X)) { fail(); return; }
    const std::unique_ptr<VarStructure> sst = family.subset(keep);
    if (!sst) throw std::invalid_argument("mv_deletion_run: the variance structure cannot be restricted to rows");
    const ProblemView sv(sub);
    Vec theta_d;
    Vec beta_d;
    Mat vb_d;
    if (plan.reestimate) {
      const BlockFitResult f = family.fit(sv, *sst, plan.ctl, plan.theta, fit_poll);
      if (!f.conv.converged || f.beta.size() != p || !f.beta.allFinite()) { fail(); return; }
      theta_d = f.theta;
      beta_d = f.beta;
      vb_d = f.vb;
    } else {
      ObjectiveEval ev;
      if (!family.evaluate(sv, *sst, plan.theta, ev, fit_poll) || !ev.beta.allFinite()) { fail(); return; }
      theta_d = plan.theta;
      beta_d = ev.beta;
      vb_d = ev.Ainv;
    }
    if (o.ok) o.ok[ui] = 1;
    for (int j = 0; j < q; ++j) if (o.theta) o.theta[ui + j * o.n] = theta_d(j);
    for (int j = 0; j < p; ++j) if (o.beta) o.beta[ui + j * o.n] = beta_d(j);
    if (plan.want_dfbetas && o.vbdiag) {
      ObjectiveEval ev;
      const bool ok = family.evaluate(pr, st, theta_d, ev, fit_poll);
      for (int j = 0; j < p; ++j) o.vbdiag[ui + j * o.n] = ok ? ev.Ainv(j, j) : na;
    }
    if (plan.want_rstudent && nd > 0) {
      // S = M_DD + X_D vb(-u) X_D'
      Mat XD(nd, p);
      Vec r(nd);
      for (int a = 0; a < nd; ++a) {
        XD.row(a) = pr.X.row(del[a]);
        r(a) = pr.y(del[a]) - pr.X.row(del[a]).dot(beta_d);
      }
      Mat S = XD * vb_d * XD.transpose();
      family.add_mdd(pr, theta_d, del, S);
      for (int c = 0; c < nd; ++c) {
        if (o.resid) o.resid[del[c]] = r(c);
        if (o.se) o.se[del[c]] = std::sqrt(S(c, c));
      }
      if (o.X2) {
        Eigen::LLT<Mat> llt(S);
        o.X2[ui] = llt.info() == Eigen::Success ? r.dot(llt.solve(r)) : na;
      }
    }
  };
  auto main_poll = [&](std::size_t done) {
    if (!poll(done)) { cancel = true; return false; }
    return true;
  };
  return parallel_for(0, static_cast<std::size_t>(n_units), nthreads, 1, body, main_poll);
}

// The deletion run of the block engine.
template <class Poll>
bool mv_deletion_run(const ProblemView& pr, const VarStructure& st, const MvDeletionPlan& plan,
                     const std::vector<int>& unit, int n_units, int nthreads, const MvDeletionOut& o, double na,
                     Poll&& poll) {
  return mv_deletion_run_family(pr, BlockFamily(pr, st, plan.reml), plan, unit, n_units, nthreads, o, na,
                                std::forward<Poll>(poll));
}

// ---------------------------------------------------------------------------
// Resampling of block models by unit (a row, or the rows of a cluster):
// permutation tests and the cluster (case) bootstrap.  unit[i] in
// 0..n_units-1 is the unit of row i of pr.  Each replicate refits the model
// from the full fit's theta (warm start); replicate r draws only from
// Stream(seed, r), so results do not depend on the thread count.

struct MvRefitPlan {
  bool reml = true;
  Control ctl;   // threshold, maxiter, stepadj
  Vec theta;     // warm start: the full fit's theta
  // also fit from the default start (block_start(), as a fit of the data
  // would; with a Cholesky factor also from its diagonal at the square root
  // of that start, as rma.mv() starts it) and keep the converged fit of
  // higher likelihood: the likelihood of
  // '~ inner | outer' terms with heteroscedastic variances and correlations
  // can have several maxima, and a resampled data set's need not be near
  // the full fit's
  bool restart = false;
};

// The fit of view sv under structure st; false when it failed (not
// converged, non-finite coefficients or covariance).
inline bool mv_refit_block(const ProblemView& sv, const VarStructure& st, const MvRefitPlan& plan,
                           const OptimPoll& poll, BlockFitResult& f) {
  auto good = [&](const BlockFitResult& r) {
    return r.conv.converged && r.beta.size() == sv.p() && r.beta.allFinite() && r.vb.allFinite();
  };
  f = fit_block_model(sv, st, plan.reml, plan.ctl, plan.theta, true, poll);
  if (plan.restart) {
    Vec s0 = block_start(sv, st);
    BlockFitResult g = fit_block_model(sv, st, plan.reml, plan.ctl, s0, true, poll);
    if (good(g) && (!good(f) || g.ll > f.ll)) f = std::move(g);
    // (and from rma.mv()'s start of a Cholesky factor, whose scale differs)
    if (st.chol_start(s0)) {
      g = fit_block_model(sv, st, plan.reml, plan.ctl, s0, true, poll);
      if (good(g) && (!good(f) || g.ll > f.ll)) f = std::move(g);
    }
  }
  return good(f);
}

// Permutation test of a block model (the scheme of Follmann & Proschan 1999,
// Biometrics 55:1-7, and Higgins & Thompson 2004, Stat Med 23:1663-1682,
// applied to units): without moderators the signs of the outcomes of each
// unit are flipped together; with moderators the rows of Xu (one row of the
// design per unit, constant within the unit) are permuted over the units.
// V, the variance structure and the outcomes stay in place.
struct MvPermSpec {
  MvRefitPlan plan;
  Eigen::VectorXi btt;  // 0-based coefficients of the omnibus test
  bool tdist = false;   // F statistic (QM / m)
  bool signflip = false;
  bool exact = false;
  std::uint64_t seed = 0;
};

// Replicates [start, end).  exact sign flips: replicate r flips unit u when
// bit u of r is set; exact permutations: arrangements holds the flattened
// distinct arrangements of the unit labels of Xu (rep: the representative
// unit of each label); random: replicate 0 is the observed data, the others
// are drawn (and redrawn, up to 1000 times, when the fit fails).  index
// (optional, n_units x (end - start)): the signs (+1 / -1) or the 1-based
// source unit of the design row of each unit.
template <class Poll>
bool mv_perm_run(const ProblemView& pr, const VarStructure& st, const MvPermSpec& ps, const std::vector<int>& unit,
                 const Mat& Xu, const std::vector<int>& arrangements, const std::vector<int>& rep, std::size_t start,
                 std::size_t end, int nthreads, const PermOut& o, int* index, Poll&& poll) {
  const int k = pr.k(), p = pr.p(), nu = static_cast<int>(Xu.rows());
  if (static_cast<int>(unit.size()) != k) throw std::invalid_argument("mv_perm_run: one unit code per row");
  const std::size_t n = end - start;
  std::atomic<bool> cancel(false);
  const OptimPoll fit_poll = [&cancel]() { return !cancel.load(std::memory_order_relaxed); };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto body = [&](std::size_t i) {
    const std::size_t r = start + i;
    thread_local std::vector<int> src;
    thread_local Vec y;
    thread_local Mat X;
    src.resize(nu);
    y = pr.y;
    X = pr.X;
    const bool random = !ps.exact && r > 0;
    Stream s(ps.seed, r);
    BlockFitResult f;
    bool ok = false;
    for (int attempt = 0; attempt < (random ? 1000 : 1); ++attempt) {
      for (int u = 0; u < nu; ++u) src[u] = u;
      if (ps.signflip) {
        for (int u = 0; u < nu; ++u) {
          if (ps.exact) src[u] = ((r >> u) & 1ULL) ? -1 : 1;
          else src[u] = (random && s.below(2)) ? -1 : 1;
        }
        for (int t = 0; t < k; ++t) y(t) = src[unit[t]] < 0 ? -pr.y(t) : pr.y(t);
      } else {
        if (ps.exact) {
          const int* lab = arrangements.data() + r * nu;
          for (int u = 0; u < nu; ++u) src[u] = rep[lab[u]];
        } else if (random) {
          // Fisher-Yates shuffle (Durstenfeld 1964)
          for (int t = nu - 1; t > 0; --t)
            std::swap(src[t], src[static_cast<int>(s.below(static_cast<std::uint64_t>(t + 1)))]);
        }
        for (int t = 0; t < k; ++t) X.row(t) = Xu.row(src[unit[t]]);
      }
      const ProblemView sv(y, pr.v, X, pr.weights, pr.offsets, pr.Vblocks);
      ok = mv_refit_block(sv, st, ps.plan, fit_poll, f);
      if (ok || cancel.load(std::memory_order_relaxed)) break;
    }
    if (index)
      for (int u = 0; u < nu; ++u) index[u + static_cast<std::size_t>(nu) * i] = ps.signflip ? src[u] : src[u] + 1;
    if (!ok) {
      for (int j = 0; j < p; ++j) o.beta[i + j * n] = o.zval[i + j * n] = nan;
      o.qm[i] = nan;
      return;
    }
    for (int j = 0; j < p; ++j) {
      o.beta[i + j * n] = f.beta(j);
      o.zval[i + j * n] = f.beta(j) / std::sqrt(f.vb(j, j));
    }
    double qm = wald_qm_coords(f.beta, f.vb, f.beta_t, f.vb_t, f.RPt, ps.btt);  // (exact on nearly collinear designs)
    if (ps.tdist) qm /= static_cast<double>(ps.btt.size());
    o.qm[i] = qm;
  };
  auto main_poll = [&](std::size_t done) {
    if (!poll(done)) { cancel = true; return false; }
    return true;
  };
  return parallel_for(0, n, nthreads, 1, body, main_poll);
}

// Cluster (case) bootstrap of a block model (Field & Welsh 2007, J R Stat Soc
// B 69:369-390): replicate r draws n_units units with replacement (unit
// Stream(seed, r).below(n_units) in turn, or the given draws), stacks their
// rows -- every copy of a unit its own blocks, so copies are independent --
// and refits.  The units must consist of whole blocks of pr (R checks).
// out: column-major (end - start) x (p + q): beta, then theta; NaN when the
// refit failed (rank-deficient design, no convergence).  draws (optional,
// 0-based, n_units x (end - start)) replaces the random draws; index
// (optional) receives the 1-based draws.
template <class Poll>
bool mv_boot_run(const ProblemView& pr, const VarStructure& st, const MvRefitPlan& plan, const std::vector<int>& unit,
                 int n_units, std::uint64_t seed, const int* draws, std::size_t start, std::size_t end, int nthreads,
                 double* out, int* index, Poll&& poll) {
  const int k = pr.k(), p = pr.p(), q = st.n_theta();
  if (static_cast<int>(unit.size()) != k) throw std::invalid_argument("mv_boot_run: one unit code per row");
  const std::vector<int> row_block = mv_row_blocks(pr);
  const std::vector<std::vector<int>> members = mv_unit_members(unit, n_units);
  const std::vector<std::size_t> vstart = dense_block_starts(pr);
  const std::size_t n = end - start;
  std::atomic<bool> cancel(false);
  const OptimPoll fit_poll = [&cancel]() { return !cancel.load(std::memory_order_relaxed); };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto body = [&](std::size_t i) {
    thread_local std::vector<int> d, rows;
    thread_local std::vector<char> newb;
    thread_local Problem sub;
    d.resize(n_units);
    if (draws) {
      for (int j = 0; j < n_units; ++j) d[j] = draws[j + static_cast<std::size_t>(n_units) * i];
    } else {
      Stream s(seed, start + i);
      for (int j = 0; j < n_units; ++j) d[j] = static_cast<int>(s.below(static_cast<std::uint64_t>(n_units)));
    }
    if (index)
      for (int j = 0; j < n_units; ++j) index[j + static_cast<std::size_t>(n_units) * i] = d[j] + 1;
    rows.clear();
    newb.clear();
    for (int j = 0; j < n_units; ++j) {
      const std::vector<int>& m = members[d[j]];
      for (std::size_t t = 0; t < m.size(); ++t) {
        rows.push_back(m[t]);
        newb.push_back(t == 0 ? 1 : 0);
      }
    }
    auto fail = [&]() {
      for (int j = 0; j < p + q; ++j) out[i + j * n] = nan;
    };
    if (static_cast<int>(rows.size()) < p + 1) { fail(); return; }
    mv_select_rows(pr, row_block, vstart, rows, sub, &newb);
    if (!full_column_rank(sub.X)) { fail(); return; }
    const std::unique_ptr<VarStructure> sst = st.subset_rows(rows);
    if (!sst) throw std::invalid_argument("mv_boot_run: the variance structure cannot be restricted to rows");
    BlockFitResult f;
    if (!mv_refit_block(ProblemView(sub), *sst, plan, fit_poll, f) || f.theta.size() != q) { fail(); return; }
    for (int j = 0; j < p; ++j) out[i + j * n] = f.beta(j);
    for (int j = 0; j < q; ++j) out[i + (p + j) * n] = f.theta(j);
  };
  auto main_poll = [&](std::size_t done) {
    if (!poll(done)) { cancel = true; return false; }
    return true;
  };
  return parallel_for(0, n, nthreads, 1, body, main_poll);
}

}  // namespace metafast
