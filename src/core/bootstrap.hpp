// Bootstrap and jackknife kernels for the univariate meta-analytic model.
//
// Statistics of one (re)fit: the p coefficients, tau2, I2 and H2, with I2 and
// H2 as rma() reports them (Higgins & Thompson 2002, Stat Med 21:1539):
// vt = (k - p) / tr(P0) is the "typical" sampling variance of the refitted
// data, I2 = 100 tau2 / (vt + tau2), H2 = tau2 / vt + 1; for the equal-effects
// model from QE: I2 = max(0, 100 (QE - (k - p)) / QE), H2 = QE / (k - p).
//
// Case resampling (Efron & Tibshirani 1993, ch. 6) draws k rows with
// replacement; the parametric bootstrap simulates from the fitted model,
// y* = X b + e, e_i ~ N(0, v_i + tau2) (Davison & Hinkley 1997, sec. 2.2;
// the convention of metafor's boot examples).  Replicate r draws only from
// Stream(seed, r), so results do not depend on threads or workers.
// R-free.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/fit.hpp"
#include "core/model.hpp"
#include "core/parallel.hpp"
#include "core/rng.hpp"

namespace metafast {


// Full column rank of X, judged on the correlation-scaled cross-product X'X:
// a zero column, or a smallest eigenvalue below 1e-10 of the largest, is
// rank deficient (e.g. a resample without any study of a factor level).

// Number of statistics per refit: p coefficients, tau2, I2, H2.
inline int n_boot_stats(int p) { return p + 3; }

// Refit pr and write its statistics to out[0], out[stride], ...; NaN in all
// of them (and false) when the refit fails: rank-deficient X, a tau2 that
// could not be estimated, non-convergence or non-finite coefficients.
inline bool refit_stats(const Problem& pr, const RefitSpec& sp, double* out, std::size_t stride) {
  const int k = pr.k(), p = pr.p(), q = n_boot_stats(p);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto fail = [&]() {
    for (int j = 0; j < q; ++j) out[j * stride] = nan;
    return false;
  };
  if (!full_column_rank(pr.X)) return fail();
  // per-thread storage: refits allocate nothing once the sizes are set;
  // extreme magnitudes are rescaled exactly, as in rma()
  thread_local FitWorkspace ws;
  thread_local FitResult f;
  fit_model_scaled(pr, sp.method, sp.ctl, sp.test, Detail::Heterogeneity, scale_of(pr.v), ws, f);
  if (std::isnan(f.tau2) || !f.conv.converged || f.beta.size() != p) return fail();
  for (int j = 0; j < p; ++j) {
    if (!std::isfinite(f.beta(j))) return fail();
    out[j * stride] = f.beta(j);
  }
  const double tau2 = sp.method == Method::EE ? 0.0 : f.tau2;
  double I2 = 0.0, H2 = 1.0;
  if (k > p) i2_h2(sp.method, k, p, f.QE, f.trP0, tau2, I2, H2);
  out[p * stride] = tau2;
  out[(p + 1) * stride] = I2;
  out[(p + 2) * stride] = H2;
  return true;
}

// The rows idx of pr (idx may repeat rows).
inline void take_rows(const Problem& pr, const std::vector<int>& idx, Problem& out) {
  const int n = static_cast<int>(idx.size()), p = pr.p();
  out.y.resize(n);
  out.v.resize(n);
  out.X.resize(n, p);
  if (pr.has_weights()) out.weights.resize(n); else out.weights.resize(0);
  for (int i = 0; i < n; ++i) {
    const int r = idx[i];
    out.y(i) = pr.y(r);
    out.v(i) = pr.v(r);
    out.X.row(i) = pr.X.row(r);
    if (pr.has_weights()) out.weights(i) = pr.weights(r);
  }
}

enum class BootType : int { Case = 0, Parametric = 1 };

// Replicates [start, end) of a bootstrap run.  out is column-major with
// (end - start) rows and n_boot_stats(p) columns.  beta and tau2 are the
// fitted values (parametric bootstrap only).  Returns false when poll
// stopped the run.
template <class Poll>
bool bootstrap_run(const Problem& pr, const RefitSpec& sp, BootType type, const Vec& beta, double tau2,
                   std::uint64_t seed, std::size_t start, std::size_t end, int nthreads, double* out,
                   Poll&& poll) {
  const int k = pr.k();
  const std::size_t n = end - start;
  const Vec mu = pr.X * beta;
  const Vec sd = (pr.v.array() + tau2).sqrt().matrix();
  auto body = [&](std::size_t i) {
    Stream s(seed, start + i);
    thread_local Problem b;  // per-thread buffers, reused across replicates
    thread_local std::vector<int> idx;
    if (type == BootType::Case) {
      idx.resize(k);
      for (int j = 0; j < k; ++j) idx[j] = static_cast<int>(s.below(static_cast<std::uint64_t>(k)));
      take_rows(pr, idx, b);
    } else {
      b = pr;
      for (int j = 0; j < k; ++j) b.y(j) = mu(j) + sd(j) * s.normal();
    }
    refit_stats(b, sp, out + i, n);
  };
  return parallel_for(0, n, nthreads, 16, body, poll);
}

// Leave-one-out refits (the jackknife; Efron & Tibshirani 1993, ch. 11):
// out is column-major k x n_boot_stats(p), row i without study i.
template <class Poll>
bool jackknife_run(const Problem& pr, const RefitSpec& sp, int nthreads, double* out, Poll&& poll) {
  const int k = pr.k();
  auto body = [&](std::size_t i) {
    std::vector<int> idx;
    idx.reserve(k - 1);
    for (int j = 0; j < k; ++j)
      if (j != static_cast<int>(i)) idx.push_back(j);
    Problem b;
    take_rows(pr, idx, b);
    refit_stats(b, sp, out + i, static_cast<std::size_t>(k));
  };
  return parallel_for(0, static_cast<std::size_t>(k), nthreads, 4, body, poll);
}

}  // namespace metafast
