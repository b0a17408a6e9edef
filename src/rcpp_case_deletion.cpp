// Thin Rcpp layer over the case-deletion kernels (core/case_deletion.hpp,
// core/gosh.hpp, on the refit engine of core/refit.hpp): leave-one-out,
// cumulative, influence and GOSH refits.  Worker threads never touch the R
// API; the calling thread polls for a user interrupt and reports progress
// (RPoll, rcpp_interrupt.h), and the interrupt is raised after the join.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "core/case_deletion.hpp"
#include "core/gosh.hpp"

using namespace metafast;

namespace {

RefitPlan plan_from_r(int method, int test, const Rcpp::List& control, bool int_only, double warm) {
  RefitSpec sp;
  sp.method = static_cast<Method>(method);
  sp.test = static_cast<Test>(test);
  sp.ctl = control_from_r(control);
  return deletion_plan(sp, int_only, warm);
}

}  // namespace

// Refits on unit sets: mode 0 leaves out study i (i = 0..k-1); mode 1 is
// cumulative: fit i uses the first i + 1 positions of `ord` (0-based); mode 2
// leaves out cluster c = 0..max(ord), `ord` holding the cluster code of each study.
// Leave-one-out also gives delpred = x_i' b(-i), vdelpred = x_i' Var(b(-i)) x_i.
// progress: an R function progress(delta) or NULL.
// [[Rcpp::export(name = ".mf_cd_refits", rng = false)]]
Rcpp::List mf_cd_refits(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                        Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                        bool int_only, int mode, Rcpp::IntegerVector ord, double warm, int threads,
                        SEXP progress) {
  const ProblemView pr = view_from_r(y, v, X, weights);
  const RefitPlan plan = plan_from_r(method, test, control, int_only, warm);
  const int p = pr.p();
  const std::vector<int> order(ord.begin(), ord.end());
  const int n_clusters = mode == 2 && !order.empty() ? *std::max_element(order.begin(), order.end()) + 1 : 0;
  const std::size_t n = mode == 0 ? static_cast<std::size_t>(pr.n_blocks())
                        : mode == 2 ? static_cast<std::size_t>(n_clusters) : order.size();
  Rcpp::LogicalVector ok(n), ztest(n);
  Rcpp::IntegerVector kk(n);
  Rcpp::NumericMatrix B(n, p), SE(n, p);
  Rcpp::NumericVector tau2(n), QE(n), I2(n), H2(n), s2w(n), delpred(mode == 0 ? n : 0),
      vdelpred(mode == 0 ? n : 0);
  DeletionOut o;
  o.n = n;
  o.ok = LOGICAL(ok); o.k = kk.begin(); o.z_test = LOGICAL(ztest);
  o.beta = B.begin(); o.se = SE.begin();
  o.tau2 = tau2.begin(); o.QE = QE.begin(); o.I2 = I2.begin(); o.H2 = H2.begin(); o.s2w = s2w.begin();
  if (mode == 0 && !pr.has_blocks()) { o.delpred = delpred.begin(); o.vdelpred = vdelpred.begin(); }
  RPoll poll(progress);
  const bool done = mode == 0   ? leave1out_run(pr, plan, threads, o, NA_REAL, poll)
                    : mode == 2 ? leave_cluster_out_run(pr, plan, order, n_clusters, threads, o, NA_REAL, poll)
                                : cumul_run(pr, plan, order, threads, o, NA_REAL, poll);
  poll.finish(done, n);
  return Rcpp::List::create(Rcpp::Named("ok") = ok, Rcpp::Named("k") = kk, Rcpp::Named("z.test") = ztest,
                            Rcpp::Named("beta") = B, Rcpp::Named("se") = SE, Rcpp::Named("tau2") = tau2,
                            Rcpp::Named("QE") = QE, Rcpp::Named("I2") = I2, Rcpp::Named("H2") = H2,
                            Rcpp::Named("s2w") = s2w, Rcpp::Named("delpred") = delpred,
                            Rcpp::Named("vdelpred") = vdelpred);
}

// Leave-one-out refits with the deletion diagnostics of each study; btt (0-based,
// empty: all) selects the coefficients of Cook's distance and COVRATIO.
// [[Rcpp::export(name = ".mf_cd_influence", rng = false)]]
Rcpp::List mf_cd_influence(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                           Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                           bool int_only, Rcpp::NumericVector beta, Rcpp::NumericMatrix vb,
                           Rcpp::NumericVector hat, Rcpp::IntegerVector btt, double warm, int threads,
                           SEXP progress) {
  const ProblemView pr = view_from_r(y, v, X, weights);
  const RefitPlan plan = plan_from_r(method, test, control, int_only, warm);
  const int k = pr.k(), p = pr.p();
  FullFit ff;
  ff.beta = Eigen::Map<const Eigen::VectorXd>(beta.begin(), p);
  ff.vb = Eigen::Map<const Eigen::MatrixXd>(vb.begin(), p, p);
  ff.hat = Eigen::Map<const Eigen::VectorXd>(hat.begin(), k);
  if (pr.has_weights()) ff.S = Wls(pr.X, pr.y, pr.weights * weight_scale(pr.weights)).Ainv;
  ff.btt.assign(btt.begin(), btt.end());
  Rcpp::NumericVector tau2(k), QE(k), s2w(k), delpred(k), vdelpred(k), dffits(k), cook(k), covr(k);
  Rcpp::NumericMatrix dfbs(k, p);
  InfluenceOut o;
  o.del.n = static_cast<std::size_t>(k);
  o.del.tau2 = tau2.begin(); o.del.QE = QE.begin(); o.del.s2w = s2w.begin();
  o.delpred = delpred.begin(); o.vdelpred = vdelpred.begin(); o.dffits = dffits.begin();
  o.cook = cook.begin(); o.covr = covr.begin(); o.dfbs = dfbs.begin();
  RPoll poll(progress);
  const bool done = influence_run(pr, plan, ff, threads, o, NA_REAL, poll);
  poll.finish(done, k);
  return Rcpp::List::create(Rcpp::Named("tau2.del") = tau2, Rcpp::Named("QE.del") = QE,
                            Rcpp::Named("s2w.del") = s2w, Rcpp::Named("delpred") = delpred,
                            Rcpp::Named("vdelpred") = vdelpred, Rcpp::Named("dffits") = dffits,
                            Rcpp::Named("cook.d") = cook, Rcpp::Named("cov.r") = covr,
                            Rcpp::Named("dfbs") = dfbs);
}

// GOSH: subsets [start, end) of all S subsets of size >= p (exact = TRUE) or
// of S random subsets drawn from Stream(seed, r).  Rows are ordered by subset
// size.
// [[Rcpp::export(name = ".mf_gosh", rng = false)]]
Rcpp::List mf_gosh(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                   Rcpp::NumericVector weights, int method, int test, Rcpp::List control, bool int_only,
                   bool exact, double nsub, double seed, double start, double end, int threads,
                   SEXP progress) {
  const ProblemView pr = view_from_r(y, v, X, weights);
  const RefitPlan plan = plan_from_r(method, test, control, int_only, NAN);
  const int k = pr.n_blocks(), p = pr.p();
  if (exact && k > 62) Rcpp::stop("Too many studies to enumerate all subsets.");
  const std::size_t S = static_cast<std::size_t>(nsub);
  const std::size_t lo = static_cast<std::size_t>(start), hi = static_cast<std::size_t>(end);
  if (hi < lo || hi > S) Rcpp::stop("need 0 <= start <= end <= number of subsets");
  const std::size_t n = hi - lo;
  Rcpp::LogicalMatrix incl(n, k);
  Rcpp::NumericVector QE(n), I2(n), H2(n), tau2(n);
  Rcpp::IntegerVector kk(n);
  Rcpp::NumericMatrix B(n, p);
  GoshOut o;
  o.incl = LOGICAL(incl);
  o.fit.n = n;
  o.fit.k = kk.begin(); o.fit.QE = QE.begin(); o.fit.I2 = I2.begin(); o.fit.H2 = H2.begin();
  o.fit.tau2 = tau2.begin(); o.fit.beta = B.begin();
  RPoll poll(progress);
  const bool done = gosh_run(pr, plan, exact, static_cast<std::uint64_t>(seed), S, lo, hi, threads, o, NA_REAL, poll);
  poll.finish(done, n);
  return Rcpp::List::create(Rcpp::Named("incl") = incl, Rcpp::Named("k") = kk, Rcpp::Named("QE") = QE,
                            Rcpp::Named("I2") = I2, Rcpp::Named("H2") = H2, Rcpp::Named("tau2") = tau2,
                            Rcpp::Named("beta") = B);
}
