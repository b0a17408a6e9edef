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

#include "core/eigen.hpp"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/refit.hpp"
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
// Row i of the output holds replicate start + i.
struct PermOut {
  double* beta;
  double* zval;
  double* qm;
  std::size_t n;
};

// The plan of a permutation refit: lean (no QE / I2 / H2), and no rank check
// (a sign flip or a row permutation keeps the rank of X).
inline RefitPlan perm_plan(const PermSpec& ps) {
  RefitPlan pl;
  static_cast<RefitSpec&>(pl) = ps.sp;
  pl.detail = Detail::Lean;
  pl.check_rank = false;
  return pl;
}

// Store the coefficients, their Wald (z or t) statistics and the omnibus
// statistic QM (divided by m for F tests, as rma()) of rec in row i; NaN when
// the refit failed.  Returns rec.ok.
inline bool write_perm_stats(const RefitRecord& rec, const PermSpec& ps, int p, const PermOut& o, std::size_t i) {
  if (!rec.ok) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int j = 0; j < p; ++j) o.beta[i + j * o.n] = o.zval[i + j * o.n] = nan;
    o.qm[i] = nan;
    return false;
  }
  for (int j = 0; j < p; ++j) {
    o.beta[i + j * o.n] = rec.beta(j);
    o.zval[i + j * o.n] = rec.beta(j) / std::sqrt(rec.vb(j, j));
  }
  double qm = wald_qm_coords(rec.beta, rec.vb, rec.beta_t, rec.vb_t, rec.RPt, ps.btt);  // (exact on nearly collinear designs)
  if (ps.tdist) qm /= static_cast<double>(ps.btt.size());
  o.qm[i] = qm;
  return true;
}

// Group label of each row of X (rows that are equal get one label, labels
// numbered by first appearance) and a representative row per label.
inline void row_groups(const MatRef& X, std::vector<int>& label, std::vector<int>& rep) {
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

// Sign-flip test of an intercept-only model: replicates [start, end).
// exact: replicate r uses the signs of the bits of r (2^k replicates in all).
template <class Poll>
bool signflip_run(const ProblemView& pr, const PermSpec& ps, bool exact, std::uint64_t seed, std::size_t start,
                  std::size_t end, int nthreads, const PermOut& o, Poll&& poll) {
  const int k = pr.k(), p = pr.p();
  const RefitEngine eng(pr, perm_plan(ps));
  auto body = [&](std::size_t i) {
    const std::size_t r = start + i;
    if (exact) {
      write_perm_stats(eng.refit_modified([&](Problem& b) {
        for (int j = 0; j < k; ++j) b.y(j) = ((r >> j) & 1ULL) ? -pr.y(j) : pr.y(j);
      }), ps, p, o, i);
      return;
    }
    if (r == 0) { write_perm_stats(eng.refit(pr), ps, p, o, i); return; }
    Stream s(seed, r);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const RefitRecord& rec = eng.refit_modified([&](Problem& b) {
        for (int j = 0; j < k; ++j) b.y(j) = s.below(2) ? -pr.y(j) : pr.y(j);
      });
      if (write_perm_stats(rec, ps, p, o, i)) return;
    }
  };
  return parallel_for(0, end - start, nthreads, 16, body, poll);
}

// Row-permutation test of a model with moderators: replicates [start, end).
// exact: arrangements holds the flattened distinct arrangements of the row
// labels (at least end of them) and rep the representative row of each label.
template <class Poll>
bool rowperm_run(const ProblemView& pr, const PermSpec& ps, bool exact, const std::vector<int>& arrangements,
                 const std::vector<int>& rep, std::uint64_t seed, std::size_t start, std::size_t end,
                 int nthreads, const PermOut& o, Poll&& poll) {
  const int k = pr.k(), p = pr.p();
  const RefitEngine eng(pr, perm_plan(ps));
  auto body = [&](std::size_t i) {
    const std::size_t r = start + i;
    if (exact) {
      const int* lab = arrangements.data() + r * k;
      write_perm_stats(eng.refit_modified([&](Problem& b) {
        for (int t = 0; t < k; ++t) b.X.row(t) = pr.X.row(rep[lab[t]]);
      }), ps, p, o, i);
      return;
    }
    if (r == 0) { write_perm_stats(eng.refit(pr), ps, p, o, i); return; }
    Stream s(seed, r);
    thread_local std::vector<int> perm;
    perm.resize(k);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      for (int t = 0; t < k; ++t) perm[t] = t;
      // Fisher-Yates shuffle (Durstenfeld 1964)
      for (int t = k - 1; t > 0; --t)
        std::swap(perm[t], perm[static_cast<int>(s.below(static_cast<std::uint64_t>(t + 1)))]);
      const RefitRecord& rec = eng.refit_modified([&](Problem& b) {
        for (int t = 0; t < k; ++t) b.X.row(t) = pr.X.row(perm[t]);
      });
      if (write_perm_stats(rec, ps, p, o, i)) return;
    }
  };
  return parallel_for(0, end - start, nthreads, 16, body, poll);
}

}  // namespace metafast
