// Case deletion: refits of the univariate model on subsets of the units
// (leave-one-out, cumulative meta-analysis; GOSH in gosh.hpp) through the
// refit engine (refit.hpp), and the deletion diagnostics of Viechtbauer &
// Cheung 2010 (Res Synth Methods 1:112-125), extended to mixed-effects
// models: studentized deleted residuals, DFFITS, Cook's distances, COVRATIO,
// DFBETAS (Belsley, Kuh & Welsch 1980, ch. 2; Cook 1977, Technometrics
// 19:15).  R-free.
//
// A subset fit follows the rules of an rma() call on that subset
// (RefitPlan::deletion_rules):
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
#include <stdexcept>
#include <vector>

#include "core/fit.hpp"
#include "core/parallel.hpp"
#include "core/refit.hpp"

namespace metafast {

// The plan of a case-deletion refit: heterogeneity statistics, rank check,
// the rules on k, and a warm start (NaN: none).
inline RefitPlan deletion_plan(const RefitSpec& sp, bool int_only, double warm) {
  RefitPlan pl;
  static_cast<RefitSpec&>(pl) = sp;
  pl.detail = Detail::Heterogeneity;
  pl.check_rank = true;
  pl.deletion_rules = true;
  pl.int_only = int_only;
  pl.warm = warm;
  return pl;
}

// Column-major outputs of n refits (rows 0..n-1); any pointer may be null.
struct DeletionOut {
  std::size_t n = 0;
  int* ok = nullptr;     // logical
  int* k = nullptr;
  int* z_test = nullptr; // logical
  double* beta = nullptr;  // n x p
  double* se = nullptr;    // n x p
  double *tau2 = nullptr, *QE = nullptr, *I2 = nullptr, *H2 = nullptr, *s2w = nullptr;
  // leave-one-out only: x_i' b(-i) and x_i' Var(b(-i)) x_i of the left-out row
  double *delpred = nullptr, *vdelpred = nullptr;
};

// Row i of o from rec; na is written where the refit failed.
inline void write_deletion_record(const RefitRecord& rec, int p, const DeletionOut& o, std::size_t i, double na) {
  const bool ok = rec.ok;
  if (o.ok) o.ok[i] = ok;
  if (o.k) o.k[i] = rec.k;
  if (o.z_test) o.z_test[i] = rec.z_test;
  for (int j = 0; j < p; ++j) {
    if (o.beta) o.beta[i + j * o.n] = ok ? rec.beta(j) : na;
    if (o.se) o.se[i + j * o.n] = ok ? std::sqrt(rec.vb(j, j)) : na;
  }
  if (o.tau2) o.tau2[i] = ok ? rec.tau2 : na;
  if (o.QE) o.QE[i] = ok ? rec.QE : na;
  if (o.I2) o.I2[i] = ok ? rec.I2 : na;
  if (o.H2) o.H2[i] = ok ? rec.H2 : na;
  if (o.s2w) o.s2w[i] = ok ? rec.s2w : na;
}

// Leave-one-out refits: row i without unit i (i = 0..n_units - 1).
template <class Poll>
bool leave1out_run(const ProblemView& pr, const RefitPlan& plan, int nthreads, const DeletionOut& o, double na,
                   Poll&& poll) {
  if (o.delpred && pr.has_blocks())  // (x_i' b(-i) is defined for rows, not for blocks)
    throw std::invalid_argument("leave1out_run: delpred needs one row per unit");
  const RefitEngine eng(pr, plan);
  const int nu = eng.n_units(), p = pr.p();
  return refit_unit_sets(
      eng, 0, static_cast<std::size_t>(nu), nthreads, 4,
      [&](std::size_t i, std::vector<int>& units) {
        for (int r = 0; r < nu; ++r) if (r != static_cast<int>(i)) units.push_back(r);
      },
      [&](std::size_t i, const RefitRecord& rec, const std::vector<int>&) {
        write_deletion_record(rec, p, o, i, na);
        if (o.delpred) {  // (rows are units here: no blocks)
          const Vec xi = pr.X.row(static_cast<Eigen::Index>(i)).transpose();
          o.delpred[i] = rec.ok ? xi.dot(rec.beta) : na;
          o.vdelpred[i] = rec.ok ? xi.dot(rec.vb * xi) : na;
        }
      },
      poll);
}

// Cumulative refits: row i on the units order[0..i] (0-based unit indices).
template <class Poll>
bool cumul_run(const ProblemView& pr, const RefitPlan& plan, const std::vector<int>& order, int nthreads,
               const DeletionOut& o, double na, Poll&& poll) {
  const RefitEngine eng(pr, plan);
  const int p = pr.p();
  return refit_unit_sets(
      eng, 0, order.size(), nthreads, 4,
      [&](std::size_t i, std::vector<int>& units) { units.assign(order.begin(), order.begin() + i + 1); },
      [&](std::size_t i, const RefitRecord& rec, const std::vector<int>&) { write_deletion_record(rec, p, o, i, na); },
      poll);
}

// Leave-one-cluster-out refits: row c without the units u with cluster[u] == c
// (cluster codes 0..n_clusters-1, one per unit; metafor's leave1out(cluster =)).
template <class Poll>
bool leave_cluster_out_run(const ProblemView& pr, const RefitPlan& plan, const std::vector<int>& cluster,
                           int n_clusters, int nthreads, const DeletionOut& o, double na, Poll&& poll) {
  const RefitEngine eng(pr, plan);
  const int nu = eng.n_units(), p = pr.p();
  if (static_cast<int>(cluster.size()) != nu)
    throw std::invalid_argument("leave_cluster_out_run: one cluster code per unit");
  return refit_unit_sets(
      eng, 0, static_cast<std::size_t>(n_clusters), nthreads, 4,
      [&](std::size_t c, std::vector<int>& units) {
        for (int r = 0; r < nu; ++r) if (cluster[r] != static_cast<int>(c)) units.push_back(r);
      },
      [&](std::size_t c, const RefitRecord& rec, const std::vector<int>&) { write_deletion_record(rec, p, o, c, na); },
      poll);
}

// Deletion diagnostics of study i from the full fit and the fit without i.
struct FullFit {
  Vec beta;     // p
  Mat vb;       // p x p (scaled by s2w under Knapp-Hartung)
  Vec hat;      // k leverages of the full fit
  Mat S;        // (X'cAX)^{-1} for user weights A, c = weight_scale(A) (empty otherwise)
  std::vector<int> btt;  // coefficients (0-based) of Cook's D and COVRATIO; empty: all
};

struct InflRow {
  double delpred = NAN, vdelpred = NAN, dffits = NAN, cook = NAN, covr = NAN;
};

// Viechtbauer & Cheung 2010, eqs. (4)-(9), with metafor's conventions:
//   delpred  = x_i' b(-i),  vdelpred = x_i' Var(b(-i)) x_i
//   DFFITS   = (x_i'b - x_i'b(-i)) / sqrt(s2w(-i) h_i (tau2(-i) + v_i))
//              (user weights: the i-th diagonal of H diag(v + tau2(-i)) H')
//   DFBETAS  = (b - b(-i)) / sqrt(s2w(-i) diag(V(-i))), V(-i) the covariance of
//              b computed on all k studies with tau2(-i)
//   Cook's D = (b - b(-i))' Var(b)^{-1} (b - b(-i))
//   COVRATIO = det Var(b(-i)) / det Var(b)
//   (both over the coefficients btt only when ff.btt is set: metafor's btt)
// dfbs receives the p DFBETAS at dfbs[0], dfbs[stride], ...
inline InflRow influence_row(const ProblemView& pr, const FullFit& ff, int i, const RefitRecord& d, double* dfbs,
                             std::size_t stride) {
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
    // (S is formed with the weights times weight_scale(): exact, no under/overflow)
    const Vec ac = pr.weights * weight_scale(pr.weights);
    const Vec a2m = ac.cwiseProduct(ac).cwiseProduct((pr.v.array() + d.tau2).matrix());
    Vdel = ff.S * crossprod_diag(pr.X, a2m) * ff.S;
    den = xi.dot(Vdel * xi);
  }
  o.dffits = (xi.dot(ff.beta) - o.delpred) / std::sqrt(d.s2w * den);
  const Vec dfb = ff.beta - d.beta;
  for (int j = 0; j < p; ++j) dfbs[j * stride] = dfb(j) / std::sqrt(d.s2w * Vdel(j, j));
  if (ff.btt.empty()) {
    Eigen::LLT<Mat> llt(ff.vb);
    o.cook = dfb.dot(llt.solve(dfb));
    o.covr = d.vb.determinant() / ff.vb.determinant();
  } else {
    const int m = static_cast<int>(ff.btt.size());
    Vec db(m);
    Mat vf(m, m), vd(m, m);
    for (int a = 0; a < m; ++a) {
      db(a) = dfb(ff.btt[a]);
      for (int c = 0; c < m; ++c) {
        vf(a, c) = ff.vb(ff.btt[a], ff.btt[c]);
        vd(a, c) = d.vb(ff.btt[a], ff.btt[c]);
      }
    }
    Eigen::LLT<Mat> llt(vf);
    o.cook = db.dot(llt.solve(db));
    o.covr = vd.determinant() / vf.determinant();
  }
  return o;
}

// Columns of the influence output (k rows; dfbs k x p), column-major.
struct InfluenceOut {
  DeletionOut del;  // tau2, QE, s2w of the leave-one-out fits
  double *delpred = nullptr, *vdelpred = nullptr, *dffits = nullptr, *cook = nullptr, *covr = nullptr;
  double* dfbs = nullptr;
};

// Leave-one-out refits with the deletion diagnostics of each study (rows
// are units; without blocks a unit is a study).
template <class Poll>
bool influence_run(const ProblemView& pr, const RefitPlan& plan, const FullFit& ff, int nthreads,
                   const InfluenceOut& o, double na, Poll&& poll) {
  // the diagnostics of Viechtbauer & Cheung 2010 are per row (study); blocks
  // (clusters) need their cluster-level versions, not written yet
  if (pr.has_blocks()) throw std::invalid_argument("influence_run: one row per unit only");
  const RefitEngine eng(pr, plan);
  const int nu = eng.n_units(), p = pr.p();
  const std::size_t n = static_cast<std::size_t>(nu);
  return refit_unit_sets(
      eng, 0, n, nthreads, 4,
      [&](std::size_t i, std::vector<int>& units) {
        for (int r = 0; r < nu; ++r) if (r != static_cast<int>(i)) units.push_back(r);
      },
      [&](std::size_t i, const RefitRecord& rec, const std::vector<int>&) {
        write_deletion_record(rec, p, o.del, i, na);
        if (rec.ok) {
          const InflRow r = influence_row(pr, ff, static_cast<int>(i), rec, o.dfbs + i, n);
          o.delpred[i] = r.delpred; o.vdelpred[i] = r.vdelpred; o.dffits[i] = r.dffits;
          o.cook[i] = r.cook; o.covr[i] = r.covr;
        } else {
          o.delpred[i] = o.vdelpred[i] = o.dffits[i] = o.cook[i] = o.covr[i] = na;
          for (int j = 0; j < p; ++j) o.dfbs[i + j * n] = na;
        }
      },
      poll);
}

}  // namespace metafast
