// Case deletion: refits of the univariate model on subsets of the studies
// (leave-one-out, cumulative meta-analysis, GOSH) and the deletion
// diagnostics of Viechtbauer & Cheung 2010 (Res Synth Methods 1:112-125),
// extended to mixed-effects models: studentized deleted residuals, DFFITS,
// Cook's distances, COVRATIO, DFBETAS (Belsley, Kuh & Welsch 1980, ch. 2;
// Cook 1977, Technometrics 19:15).  R-free.
//
// A subset fit follows the rules of an rma() call on that subset:
//   - a model needs k >= p + 1 studies when tau2 is estimated, k >= p for the
//     equal-effects model or a fixed tau2; an intercept-only model with k = 1
//     is allowed (tau2 = 0, z test);
//   - a rank-deficient design (collinear columns within the subset) fails;
//   - a failed or non-converged estimation fails.
// Failed subsets are reported (ok = false) and give NA in R.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "core/fit.hpp"
#include "core/parallel.hpp"

namespace metafast {

struct SubsetSpec : RefitSpec {
  bool int_only = true;   // intercept-only model (allows k = 1)
  double warm = std::numeric_limits<double>::quiet_NaN();  // tau2 start (ML/REML/EB)
};

struct SubsetFit {
  bool ok = false;
  int k = 0;
  Vec beta;
  Mat vb;
  double tau2 = std::numeric_limits<double>::quiet_NaN();
  double QE = std::numeric_limits<double>::quiet_NaN();
  double I2 = std::numeric_limits<double>::quiet_NaN();
  double H2 = std::numeric_limits<double>::quiet_NaN();
  double s2w = std::numeric_limits<double>::quiet_NaN();
  bool z_test = false;  // k = 1: the z test replaces t / Knapp-Hartung
};

// The problem restricted to the given rows.
inline Problem take_rows(const Problem& pr, const std::vector<int>& rows) {
  const int n = static_cast<int>(rows.size()), p = pr.p();
  Problem s;
  s.y.resize(n);
  s.v.resize(n);
  s.X.resize(n, p);
  if (pr.has_weights()) s.weights.resize(n);
  for (int j = 0; j < n; ++j) {
    const int r = rows[j];
    s.y(j) = pr.y(r);
    s.v(j) = pr.v(r);
    s.X.row(j) = pr.X.row(r);
    if (pr.has_weights()) s.weights(j) = pr.weights(r);
  }
  return s;
}



// Fit one subset (already extracted).
inline SubsetFit fit_subset(const Problem& sub, const SubsetSpec& s) {
  SubsetFit r;
  const int k = sub.k(), p = sub.p();
  r.k = k;
  const bool k1 = s.int_only && k == 1;
  if (!k1) {
    const int need = (s.method == Method::EE || s.ctl.fix_tau2) ? p : p + 1;
    if (need > k) return r;
  }
  if (p > 1 && !full_column_rank(sub.X)) return r;
  Control ctl = s.ctl;
  if (!ctl.fix_tau2 && !std::isnan(s.warm) &&
      (s.method == Method::ML || s.method == Method::REML || s.method == Method::EB))
    ctl.tau2_init = s.warm;
  r.z_test = k1;
  // per-thread storage; extreme magnitudes are rescaled exactly, as in rma()
  thread_local FitWorkspace ws;
  thread_local FitResult f;
  fit_model_scaled(sub, s.method, ctl, k1 ? Test::Z : s.test, Detail::Heterogeneity, scale_of(sub.v), ws, f);
  if (std::isnan(f.tau2) || !f.conv.converged || f.beta.size() != p || !f.beta.allFinite()) return r;
  r.tau2 = s.method == Method::EE ? 0.0 : f.tau2;
  r.beta = f.beta;
  r.vb = f.vb;
  r.s2w = f.s2w;
  // QE and tr(P) at tau2 = 0 from the fit (QE = 0 when k = p)
  r.QE = k > p ? f.QE : 0.0;
  const double trP0 = k > p ? f.trP0 : std::numeric_limits<double>::quiet_NaN();
  i2_h2(s.method, k, p, r.QE, trP0, r.tau2, r.I2, r.H2);
  r.ok = true;
  return r;
}

// Refit on n row sets: rows_of(i, rows) fills the rows of fit i.  Results go
// to slot i, so they do not depend on the number of threads.
template <class RowsOf, class Poll>
bool fit_row_sets(const Problem& pr, const SubsetSpec& spec, std::size_t n, RowsOf&& rows_of,
                  std::vector<SubsetFit>& out, int threads, Poll&& poll) {
  out.assign(n, SubsetFit());
  auto body = [&](std::size_t i) {
    std::vector<int> rows;
    rows_of(i, rows);
    out[i] = fit_subset(take_rows(pr, rows), spec);
  };
  return parallel_for(0, n, threads, 4, body, poll);
}

// Deletion diagnostics of study i from the full fit and the fit without i.
struct FullFit {
  Vec beta;     // p
  Mat vb;       // p x p (scaled by s2w under Knapp-Hartung)
  Vec hat;      // k leverages of the full fit
  Mat S;        // (X'AX)^{-1} for user weights A (empty otherwise)
};

struct InflRow {
  double delpred = NAN, vdelpred = NAN, dffits = NAN, cook = NAN, covr = NAN;
  Vec dfbs;
};

// Viechtbauer & Cheung 2010, eqs. (4)-(9), with metafor's conventions:
//   delpred  = x_i' b(-i),  vdelpred = x_i' Var(b(-i)) x_i
//   DFFITS   = (x_i'b - x_i'b(-i)) / sqrt(s2w(-i) h_i (tau2(-i) + v_i))
//              (user weights: the i-th diagonal of H diag(v + tau2(-i)) H')
//   DFBETAS  = (b - b(-i)) / sqrt(s2w(-i) diag(V(-i))), V(-i) the covariance of
//              b computed on all k studies with tau2(-i)
//   Cook's D = (b - b(-i))' Var(b)^{-1} (b - b(-i))
//   COVRATIO = det Var(b(-i)) / det Var(b)
inline InflRow influence_row(const Problem& pr, const FullFit& ff, int i, const SubsetFit& d) {
  InflRow o;
  const int p = pr.p();
  const Vec xi = pr.X.row(i).transpose();
  o.delpred = xi.dot(d.beta);
  o.vdelpred = xi.dot(d.vb * xi);
  const double m_i = pr.v(i) + d.tau2;
  Mat Vdel;
  double den;
  if (!pr.has_weights()) {
    Wls wd(pr.X, pr.y, inv_var_weights(pr.v, d.tau2));
    Vdel = wd.Ainv;
    den = ff.hat(i) * m_i;
  } else {
    const Vec a2m = pr.weights.cwiseProduct(pr.weights).cwiseProduct((pr.v.array() + d.tau2).matrix());
    Vdel = ff.S * crossprod_diag(pr.X, a2m) * ff.S;
    den = xi.dot(Vdel * xi);
  }
  o.dffits = (xi.dot(ff.beta) - o.delpred) / std::sqrt(d.s2w * den);
  const Vec dfb = ff.beta - d.beta;
  o.dfbs.resize(p);
  for (int j = 0; j < p; ++j) o.dfbs(j) = dfb(j) / std::sqrt(d.s2w * Vdel(j, j));
  Eigen::LLT<Mat> llt(ff.vb);
  o.cook = dfb.dot(llt.solve(dfb));
  o.covr = d.vb.determinant() / ff.vb.determinant();
  return o;
}

}  // namespace metafast
