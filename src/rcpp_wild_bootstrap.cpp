// Glue of Wald_test_cwb() (R/wald_test_cwb.R): the cluster wild bootstrap
// kernel of core/wild_bootstrap.hpp over an rma() problem (y, v, X) or an
// rma.mv() spec (rcpp_mv_model.h).  R has validated everything: the null
// design X0 (same rows as X), the 0-based cluster of each row (model row
// order: the fit's for rma(), the spec's sorted order for rma.mv(), whose
// clusters hold whole engine blocks), the constraint matrix C.  Worker
// threads never touch R; the calling thread polls (RPoll).
#include <cstdint>
#include <vector>

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "rcpp_mv_model.h"
#include "core/wild_bootstrap.hpp"

using namespace metafast;

namespace {

// The null fit, the observed statistic and replicates [start, end).
Rcpp::List cwb_glue_run(const CwbModel& full, const CwbModel& null, const Rcpp::NumericVector& y,
                        const Rcpp::IntegerVector& cluster, int J, const Rcpp::NumericMatrix& C, int adjust, int type,
                        int test, int dist, double seed, double start, double end, int threads, SEXP progress,
                        SEXP weights) {
  const int k = y.size();
  if (cluster.size() != k) Rcpp::stop("internal error: one cluster code per row");
  std::vector<int> cl(cluster.begin(), cluster.end());
  for (int c : cl)
    if (c < 0 || c >= J) Rcpp::stop("internal error: cluster code out of range");
  const CwbLayout lay = cwb_layout(cl, J);
  const Vec yv = Eigen::Map<const Eigen::VectorXd>(y.begin(), k);
  RPoll rp(R_NilValue);
  const OptimPoll fpoll = [&rp]() { return rp(0); };
  CwbNull nul;
  if (!cwb_null(null, lay, yv, static_cast<SandwichType>(adjust), nul, fpoll)) {
    if (rp.interrupted) throw Rcpp::internal::InterruptedException();
    Rcpp::stop("The null model (the full model with the constraints imposed) could not be fitted.");
  }
  CwbPlan plan;
  plan.C = Eigen::Map<const Mat>(C.begin(), C.nrow(), C.ncol());
  plan.type = static_cast<SandwichType>(type);
  plan.test = static_cast<CwbTest>(test);
  plan.dist = static_cast<CwbDist>(dist);
  plan.seed = static_cast<std::uint64_t>(seed);
  const double observed = cwb_refit_stat(full, lay, yv, plan.C, plan.type, plan.test, fpoll);
  if (rp.interrupted) throw Rcpp::internal::InterruptedException();
  const std::size_t lo = static_cast<std::size_t>(start), hi = static_cast<std::size_t>(end);
  if (hi < lo) Rcpp::stop("internal error: 'end' < 'start'");
  if (!Rf_isNull(weights)) {
    const Rcpp::NumericMatrix W(weights);
    if (W.nrow() != J || static_cast<std::size_t>(W.ncol()) < hi) Rcpp::stop("internal error: weights must be J x end");
    plan.weights = W.begin();
  }
  Rcpp::NumericVector stats(hi - lo);
  RPoll poll(progress);
  const bool ok = cwb_run(full, lay, nul, plan, lo, hi, threads, stats.begin(), poll);
  poll.finish(ok, hi - lo);
  return Rcpp::List::create(Rcpp::Named("stats") = stats, Rcpp::Named("observed") = observed,
                            Rcpp::Named("null_beta") = Rcpp::wrap(nul.beta),
                            Rcpp::Named("null_theta") = Rcpp::wrap(nul.theta));
}

}  // namespace

// rma() fits: y, v, X (the fit's rows), the null design X0, the user
// weights uw (numeric(0): inverse-variance; ones for weighted = FALSE), the
// estimator and controls of the fit.  adjust / type: 0..5 (CR0, CR1, CR1p, CR1S, CR2,
// CR3; adjust also 6, CR4, for a one-column X0); test: 0..7 (chi-sq, Naive-F,
// Naive-Fp, HTZ, HTA, HTB, EDF, EDT); dist: 0..4
// (Rademacher, Mammen, Webb six, uniform, standard normal).  weights: NULL or
// a J x end matrix of auxiliary weights used instead of the draws.
// [[Rcpp::export(name = ".mf_cwb_rma", rng = false)]]
Rcpp::List mf_cwb_rma(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X, Rcpp::NumericMatrix X0,
                      Rcpp::NumericVector uw, int method, Rcpp::List control, Rcpp::IntegerVector cluster, int J, Rcpp::NumericMatrix C,
                      int adjust, int type, int test, int dist, double seed, double start, double end, int threads,
                      SEXP progress, SEXP weights = R_NilValue) {
  if (uw.size() != 0 && uw.size() != y.size()) Rcpp::stop("internal error: one weight per row");
  const ProblemView pr = view_from_r(y, v, X, uw);
  const ProblemView pr0 = view_from_r(y, v, X0, uw);
  RefitPlan pl;
  pl.method = static_cast<Method>(method);
  pl.test = Test::Z;  // B = (X'WX)^-1 is computed from the weights; the test does not change the estimates
  pl.ctl = control_from_r(control);
  pl.detail = Detail::Lean;
  pl.check_rank = false;
  const CwbUniModel full(pr, pl), null(pr0, pl);
  return cwb_glue_run(full, null, y, cluster, J, C, adjust, type, test, dist, seed, start, end, threads, progress,
                      weights);
}

// rma.mv() fits: the fit's spec, the null design X0 in the spec's sorted row
// order, REML or ML, the solver settings and the fit's variance components
// (warm start of every refit).  ublocks: NULL, or the user weights (metafor's
// W) as the column-major blocks of the clusters 0..J-1 concatenated, the
// rows of a cluster in increasing spec order.
// [[Rcpp::export(name = ".mf_cwb_rma_mv", rng = false)]]
Rcpp::List mf_cwb_rma_mv(Rcpp::List spec, Rcpp::NumericMatrix X0, bool reml, double threshold, int maxiter,
                         double stepadj, Rcpp::NumericVector theta0, Rcpp::IntegerVector cluster, int J,
                         Rcpp::NumericMatrix C, int adjust, int type, int test, int dist, double seed, double start,
                         double end, int threads, SEXP progress, SEXP weights = R_NilValue,
                         SEXP ublocks = R_NilValue) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const VarStructure& st = mm.structure();
  if (theta0.size() != mm.n_theta()) Rcpp::stop("internal error: theta0 has length %d, the structure %d",
                                                theta0.size(), mm.n_theta());
  if (X0.nrow() != pr.k()) Rcpp::stop("internal error: X0 must have one row per row of the model");
  const ProblemView pr0(pr.y, pr.v, Eigen::Map<const Mat>(X0.begin(), X0.nrow(), X0.ncol()), pr.weights, pr.offsets,
                        pr.Vblocks);
  Control ctl;
  ctl.threshold = threshold;
  ctl.maxiter = maxiter;
  ctl.stepadj = stepadj;
  const Vec th0 = Eigen::Map<const Eigen::VectorXd>(theta0.begin(), theta0.size());
  CwbMvModel full(pr, st, reml, ctl, th0), null(pr0, st, reml, ctl, th0);
  if (!Rf_isNull(ublocks)) {
    const Rcpp::NumericVector ub(ublocks);
    if (cluster.size() != pr.k()) Rcpp::stop("internal error: one cluster code per row");
    std::vector<int> cl(cluster.begin(), cluster.end());
    for (int c : cl)
      if (c < 0 || c >= J) Rcpp::stop("internal error: cluster code out of range");
    const CwbLayout lay = cwb_layout(cl, J);
    std::vector<Mat> A(J);
    R_xlen_t at = 0;
    for (int j = 0; j < J; ++j) {
      const int n = lay.off[j + 1] - lay.off[j];
      if (at + static_cast<R_xlen_t>(n) * n > ub.size()) Rcpp::stop("internal error: ublocks too short");
      A[j] = Eigen::Map<const Mat>(ub.begin() + at, n, n);
      at += static_cast<R_xlen_t>(n) * n;
    }
    if (at != ub.size()) Rcpp::stop("internal error: ublocks too long");
    full.set_user_weights(lay, A);
    null.set_user_weights(lay, std::move(A));
  }
  const Rcpp::NumericVector y = spec["y"];
  return cwb_glue_run(full, null, y, cluster, J, C, adjust, type, test, dist, seed, start, end, threads, progress,
                      weights);
}
