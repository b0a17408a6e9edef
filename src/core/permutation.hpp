// Permutation tests for the univariate meta-analytic model (Follmann &
// Proschan 1999, Biometrics 55:1; Higgins & Thompson 2004, Stat Med 23:1663),
// with the scheme of metafor's permutest.rma.uni (Viechtbauer et al. 2015,
// Res Synth Methods 6:6):
//   * intercept-only models: the signs of the outcomes are flipped;
//   * models with moderators: the rows of the model matrix are permuted
//     against (yi, vi) -- exactly over all distinct arrangements of the rows
//     of X, or at random.
// For a random test replicate 0 holds the observed data (so the observed
// statistic counts in the p-value) and replicate r >= 1 draws from
// Stream(seed, r); a permuted model that cannot be fitted is redrawn from the
// same stream.  For an exact test, replicate r is the r-th sign vector or the
// r-th distinct arrangement.  R-free.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/bootstrap.hpp"
#include "core/fit.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"

namespace metafast {

struct PermSpec {
  RefitSpec sp;
  Eigen::VectorXi btt;  // 0-based coefficients of the omnibus test
  bool tdist = false;   // t / F statistics (test "t" or "knha")
};

// Columns of the output: beta (n x p), zval (n x p), QM (n); column-major.
struct PermOut {
  double* beta;
  double* zval;
  double* qm;
  std::size_t n;
};

// Refit and store the coefficients, their Wald (z or t) statistics and the
// omnibus statistic QM (divided by m for F tests, as rma()).  false on failure.
inline bool perm_stats(const Problem& pr, const PermSpec& ps, const PermOut& o, std::size_t i) {
  const int p = pr.p();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto fail = [&]() {
    for (int j = 0; j < p; ++j) o.beta[i + j * o.n] = o.zval[i + j * o.n] = nan;
    o.qm[i] = nan;
    return false;
  };
  // per-thread storage: refits allocate nothing once the sizes are set
  thread_local FitWorkspace ws;
  thread_local FitResult f;
  // (extreme magnitudes: exact rescaling, as rma(); z and QM are invariant)
  fit_model_scaled(pr, ps.sp.method, ps.sp.ctl, ps.sp.test, Detail::Lean, scale_of(pr.v), ws, f);
  if (std::isnan(f.tau2) || !f.conv.converged || f.beta.size() != p) return fail();
  for (int j = 0; j < p; ++j) {
    if (!std::isfinite(f.beta(j))) return fail();
    o.beta[i + j * o.n] = f.beta(j);
    o.zval[i + j * o.n] = f.beta(j) / std::sqrt(f.vb(j, j));
  }
  double qm = wald_qm(f.beta, f.vb, ps.btt);
  if (ps.tdist) qm /= static_cast<double>(ps.btt.size());
  o.qm[i] = qm;
  return true;
}

// Group label of each row of X (rows that are equal get one label, labels
// numbered by first appearance) and a representative row per label.
inline void row_groups(const Mat& X, std::vector<int>& label, std::vector<int>& rep) {
  const int k = static_cast<int>(X.rows());
  label.assign(k, -1);
  rep.clear();
  for (int i = 0; i < k; ++i) {
    if (label[i] >= 0) continue;
    const int g = static_cast<int>(rep.size());
    rep.push_back(i);
    label[i] = g;
    for (int j = i + 1; j < k; ++j)
      if (label[j] < 0 && X.row(j) == X.row(i)) label[j] = g;
  }
}

// All distinct arrangements of the multiset of row labels, in lexicographic
// order (std::next_permutation), flattened; at most max_n of them.
inline std::vector<int> distinct_arrangements(std::vector<int> label, std::size_t max_n, std::size_t& count) {
  std::sort(label.begin(), label.end());
  std::vector<int> out;
  count = 0;
  do {
    if (count >= max_n) { count = max_n + 1; break; }
    out.insert(out.end(), label.begin(), label.end());
    ++count;
  } while (std::next_permutation(label.begin(), label.end()));
  return out;
}

// Sign-flip test of an intercept-only model: n replicates.  exact: replicate
// r uses the signs of the bits of r (2^k replicates in all).
template <class Poll>
bool signflip_run(const Problem& pr, const PermSpec& ps, bool exact, std::uint64_t seed, std::size_t n,
                  int nthreads, const PermOut& o, Poll&& poll) {
  const int k = pr.k();
  auto body = [&](std::size_t r) {
    // per-thread buffers: assignment reuses their storage across replicates
    thread_local Problem b;
    b = pr;
    if (exact) {
      for (int j = 0; j < k; ++j) b.y(j) = ((r >> j) & 1ULL) ? -pr.y(j) : pr.y(j);
      perm_stats(b, ps, o, r);
      return;
    }
    if (r == 0) { perm_stats(b, ps, o, 0); return; }
    Stream s(seed, r);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      for (int j = 0; j < k; ++j) b.y(j) = s.below(2) ? -pr.y(j) : pr.y(j);
      if (perm_stats(b, ps, o, r)) return;
    }
  };
  return parallel_for(0, n, nthreads, 16, body, poll);
}

// Row-permutation test of a model with moderators.  exact: arrangements holds
// the flattened distinct arrangements of the row labels (n of them) and rep
// the representative row of each label.
template <class Poll>
bool rowperm_run(const Problem& pr, const PermSpec& ps, bool exact, const std::vector<int>& arrangements,
                 const std::vector<int>& rep, std::uint64_t seed, std::size_t n, int nthreads,
                 const PermOut& o, Poll&& poll) {
  const int k = pr.k();
  auto body = [&](std::size_t r) {
    // per-thread buffers: assignment reuses their storage across replicates
    thread_local Problem b;
    b = pr;
    if (exact) {
      const int* lab = arrangements.data() + r * k;
      for (int i = 0; i < k; ++i) b.X.row(i) = pr.X.row(rep[lab[i]]);
      perm_stats(b, ps, o, r);
      return;
    }
    if (r == 0) { perm_stats(b, ps, o, 0); return; }
    Stream s(seed, r);
    thread_local std::vector<int> perm;
    perm.resize(k);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      for (int i = 0; i < k; ++i) perm[i] = i;
      // Fisher-Yates shuffle (Durstenfeld 1964)
      for (int i = k - 1; i > 0; --i)
        std::swap(perm[i], perm[static_cast<int>(s.below(static_cast<std::uint64_t>(i + 1)))]);
      for (int i = 0; i < k; ++i) b.X.row(i) = pr.X.row(perm[i]);
      if (perm_stats(b, ps, o, r)) return;
    }
  };
  return parallel_for(0, n, nthreads, 16, body, poll);
}

}  // namespace metafast
