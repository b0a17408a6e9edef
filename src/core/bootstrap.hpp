// Bootstrap and jackknife kernels for the univariate meta-analytic model,
// thin layers over the refit engine (refit.hpp).
//
// Statistics of one (re)fit: the p coefficients, tau2, I2 and H2, with I2 and
// H2 as rma() reports them (Higgins & Thompson 2002, Stat Med 21:1539):
// vt = (k - p) / tr(P0) is the "typical" sampling variance of the refitted
// data, I2 = 100 tau2 / (vt + tau2), H2 = tau2 / vt + 1; for the equal-effects
// model from QE: I2 = max(0, 100 (QE - (k - p)) / QE), H2 = QE / (k - p).
//
// Case resampling (Efron & Tibshirani 1993, ch. 6) draws k units with
// replacement; the parametric bootstrap simulates from the fitted model,
// y* = X b + e, e_i ~ N(0, v_i + tau2) (Davison & Hinkley 1997, sec. 2.2;
// the convention of metafor's boot examples).  Replicate r draws only from
// Stream(seed, r), so results do not depend on threads or workers.
// R-free.
#pragma once

#include "core/eigen.hpp"
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/fit.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"
#include "core/refit.hpp"
#include "core/rng.hpp"

namespace metafast {

// Number of statistics per refit: p coefficients, tau2, I2, H2.
inline int n_boot_stats(int p) { return p + 3; }

// The plan of a bootstrap refit: heterogeneity statistics, rank check, no
// case-deletion rules.
inline RefitPlan boot_plan(const RefitSpec& sp, bool check_rank = true) {
  RefitPlan pl;
  static_cast<RefitSpec&>(pl) = sp;
  pl.detail = Detail::Heterogeneity;
  pl.check_rank = check_rank;
  return pl;
}

// Write the statistics of rec to out[0], out[stride], ...: NaN in all of
// them when the refit failed (rank-deficient X, a tau2 that could not be
// estimated, non-convergence or non-finite coefficients).
inline void write_boot_stats(const RefitRecord& rec, int p, double* out, std::size_t stride) {
  if (!rec.ok) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int j = 0; j < n_boot_stats(p); ++j) out[j * stride] = nan;
    return;
  }
  for (int j = 0; j < p; ++j) out[j * stride] = rec.beta(j);
  out[p * stride] = rec.tau2;
  out[(p + 1) * stride] = rec.I2;
  out[(p + 2) * stride] = rec.H2;
}

enum class BootType : int { Case = 0, Parametric = 1 };

// Replicates [start, end) of a bootstrap run.  out is column-major with
// (end - start) rows and n_boot_stats(p) columns.  beta and tau2 are the
// fitted values (parametric bootstrap only).  Returns false when poll
// stopped the run.
template <class Poll>
bool bootstrap_run(const ProblemView& pr, const RefitSpec& sp, BootType type, const Vec& beta, double tau2,
                   std::uint64_t seed, std::size_t start, std::size_t end, int nthreads, double* out,
                   Poll&& poll) {
  const int nu = pr.n_blocks(), p = pr.p();
  const std::size_t n = end - start;
  // the parametric replicates keep the full X, whose rank the original fit checked
  const RefitEngine eng(pr, boot_plan(sp, type == BootType::Case));
  const bool param = type == BootType::Parametric;
  const Vec mu = param ? Vec(pr.X * beta) : Vec();
  const Vec sd = param ? Vec((pr.v.array() + tau2).sqrt().matrix()) : Vec();
  auto body = [&](std::size_t i) {
    Stream s(seed, start + i);
    if (type == BootType::Case) {
      thread_local std::vector<int> idx;
      idx.resize(nu);
      for (int j = 0; j < nu; ++j) idx[j] = static_cast<int>(s.below(static_cast<std::uint64_t>(nu)));
      write_boot_stats(eng.refit_units(idx), p, out + i, n);
    } else {
      const int k = pr.k();
      write_boot_stats(eng.refit_modified([&](Problem& b) {
        for (int j = 0; j < k; ++j) b.y(j) = mu(j) + sd(j) * s.normal();
      }), p, out + i, n);
    }
  };
  return parallel_for(0, n, nthreads, 16, body, poll);
}

// Leave-one-out refits (the jackknife; Efron & Tibshirani 1993, ch. 11):
// out is column-major n_units x n_boot_stats(p), row i without unit i.
template <class Poll>
bool jackknife_run(const ProblemView& pr, const RefitSpec& sp, int nthreads, double* out, Poll&& poll) {
  const int nu = pr.n_blocks(), p = pr.p();
  const RefitEngine eng(pr, boot_plan(sp));
  auto body = [&](std::size_t i) {
    thread_local std::vector<int> idx;
    idx.clear();
    for (int j = 0; j < nu; ++j)
      if (j != static_cast<int>(i)) idx.push_back(j);
    write_boot_stats(eng.refit_units(idx), p, out + i, static_cast<std::size_t>(nu));
  };
  return parallel_for(0, static_cast<std::size_t>(nu), nthreads, 4, body, poll);
}

}  // namespace metafast
