// Glue of the case-deletion methods of rma.mv() fits (R/case-deletion-mv.R):
// the fit's model arrives as its spec ($mf.spec, read through MvModel,
// rcpp_mv_model.h) and is refitted without each unit by the kernel of
// core/refit_mv.hpp.  Worker threads never touch R; the calling thread polls
// for an interrupt and reports progress (RPoll), and the interrupt is raised
// after the join.
#include <string>
#include <vector>

#include "rcpp_convert.h"
#include "rcpp_crossed_spec.h"
#include "rcpp_interrupt.h"
#include "rcpp_mv_model.h"
#include "core/refit_crossed.hpp"
#include "core/refit_mv.hpp"

using namespace metafast;

// unit: 0-based unit code of each row of the spec (rows in the spec's sorted
// order), n_units codes in all; theta: the full fit's variance components;
// rstudent / dfbetas: also compute their pieces (see refit_mv.hpp).  A
// crossed fit by the sparse engine (structure type "crossed") is refitted by
// the sparse family (core/refit_crossed.hpp), every other fit by the block
// engine.  progress: an R function progress(delta) or NULL.
// [[Rcpp::export(name = ".mf_rma_mv_deletion", rng = false)]]
Rcpp::List mf_rma_mv_deletion(Rcpp::List spec, Rcpp::IntegerVector unit, int n_units, Rcpp::NumericVector theta,
                              bool reml, bool reestimate, double threshold, int maxiter, double stepadj,
                              bool rstudent, bool dfbetas, int threads, SEXP progress) {
  const Rcpp::List s = spec["structure"];
  const bool crossed = Rcpp::as<std::string>(s["type"]) == "crossed";
  const Rcpp::NumericMatrix Xs = spec["X"];
  const int k = Xs.nrow(), p = Xs.ncol(), q = theta.size();
  if (unit.size() != k) Rcpp::stop("internal error: 'unit' must have one code per row");
  MvDeletionPlan plan;
  plan.reml = reml;
  plan.reestimate = reestimate;
  plan.ctl.threshold = threshold;
  plan.ctl.maxiter = maxiter;
  plan.ctl.stepadj = stepadj;
  plan.theta = Eigen::Map<const Eigen::VectorXd>(theta.begin(), q);
  plan.want_rstudent = rstudent;
  plan.want_dfbetas = dfbetas;
  const std::vector<int> u(unit.begin(), unit.end());
  const std::size_t n = static_cast<std::size_t>(n_units);
  Rcpp::LogicalVector ok(n);
  Rcpp::NumericMatrix TH(n, q), B(n, p), VD(dfbetas ? n : 0, dfbetas ? p : 0);
  Rcpp::NumericVector resid(rstudent ? k : 0), se(rstudent ? k : 0), X2(rstudent ? n : 0);
  MvDeletionOut o;
  o.n = n;
  o.ok = LOGICAL(ok);
  o.theta = TH.begin();
  o.beta = B.begin();
  if (dfbetas) o.vbdiag = VD.begin();
  if (rstudent) { o.resid = resid.begin(); o.se = se.begin(); o.X2 = X2.begin(); }
  RPoll poll(progress);
  auto check_q = [q](int n_theta) {
    if (q != n_theta) Rcpp::stop("internal error: 'theta' must have one value per variance component");
  };
  bool done;
  if (crossed) {
    const CrossedSpec cs(spec);
    const ProblemView pr = cs.view();
    const CrossedTerms st = cs.structure();
    check_q(st.n_theta());
    done = mv_deletion_run_family(pr, CrossedFamily(pr, st, reml), plan, u, n_units, threads, o, NA_REAL, poll);
  } else {
    const MvModel mm(spec);
    check_q(mm.n_theta());
    done = mv_deletion_run(mm.pr, mm.structure(), plan, u, n_units, threads, o, NA_REAL, poll);
  }
  poll.finish(done, n);
  return Rcpp::List::create(Rcpp::Named("ok") = ok, Rcpp::Named("theta") = TH, Rcpp::Named("beta") = B,
                            Rcpp::Named("vbdiag") = VD, Rcpp::Named("resid") = resid, Rcpp::Named("se") = se,
                            Rcpp::Named("X2") = X2);
}

// Permutation test replicates [start, end) (0-based) of a run of n for an
// rma.mv() fit (core/refit_mv.hpp: mv_perm_run).  unit: 0-based unit of each
// sorted row; Xu: one design row per unit; btt 1-based; signflip: flip signs
// (intercept-only), else permute the rows of Xu over the units; exact:
// enumerate (n = 2^n_units sign vectors or the number of distinct
// arrangements).  want_index: also return the signs / 1-based source units.
// [[Rcpp::export(name = ".mf_rma_mv_perm", rng = false)]]
Rcpp::List mf_rma_mv_perm(Rcpp::List spec, Rcpp::IntegerVector unit, Rcpp::NumericMatrix Xu, Rcpp::NumericVector theta,
                          bool reml, double threshold, int maxiter, double stepadj, Rcpp::IntegerVector btt,
                          bool tdist, bool signflip, bool exact, double n, double seed, double start, double end,
                          int threads, SEXP progress, bool want_index) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const int k = pr.k(), p = pr.p(), nu = Xu.nrow();
  if (unit.size() != k || Xu.ncol() != p) Rcpp::stop("internal error: 'unit' or 'Xu' do not fit the model");
  if (theta.size() != mm.n_theta()) Rcpp::stop("internal error: 'theta' must have one value per variance component");
  MvPermSpec ps;
  ps.plan.reml = reml;
  ps.plan.ctl.threshold = threshold;
  ps.plan.ctl.maxiter = maxiter;
  ps.plan.ctl.stepadj = stepadj;
  ps.plan.theta = Eigen::Map<const Eigen::VectorXd>(theta.begin(), theta.size());
  ps.btt.resize(btt.size());
  for (R_xlen_t j = 0; j < btt.size(); ++j) ps.btt(j) = btt[j] - 1;
  ps.tdist = tdist;
  ps.signflip = signflip;
  ps.exact = exact;
  ps.seed = static_cast<std::uint64_t>(seed);
  const std::size_t nn = static_cast<std::size_t>(n);
  const std::size_t lo = static_cast<std::size_t>(start), hi = static_cast<std::size_t>(end);
  if (hi < lo || hi > nn) Rcpp::stop("need 0 <= start <= end <= n");
  const Mat Xum = Eigen::Map<const Mat>(Xu.begin(), nu, p);
  std::vector<int> arrangements, rep;
  if (exact && signflip && (nu > 40 || nn != (std::size_t(1) << nu)))
    Rcpp::stop("exact sign-flip test: n must be 2^n_units with n_units <= 40");
  if (exact && !signflip) {
    std::vector<int> label;
    row_groups(Xum, label, rep);
    std::size_t count = 0;
    arrangements = distinct_arrangements(label, nn, count);
    if (count != nn) Rcpp::stop("exact permutation test: the number of distinct arrangements is not n");
  }
  const std::vector<int> u(unit.begin(), unit.end());
  const std::size_t m = hi - lo;
  Rcpp::NumericMatrix B(static_cast<int>(m), p), Z(static_cast<int>(m), p);
  Rcpp::NumericVector QM(static_cast<int>(m));
  Rcpp::IntegerMatrix index(want_index ? nu : 0, want_index ? static_cast<int>(m) : 0);
  PermOut o{B.begin(), Z.begin(), QM.begin(), m};
  RPoll poll(progress);
  const bool done = mv_perm_run(pr, mm.structure(), ps, u, Xum, arrangements, rep, lo, hi, threads, o,
                                want_index ? index.begin() : nullptr, poll);
  poll.finish(done, m);
  return Rcpp::List::create(Rcpp::Named("beta") = B, Rcpp::Named("zval") = Z, Rcpp::Named("QM") = QM,
                            Rcpp::Named("index") = index);
}

// Cluster bootstrap replicates [start, end) of an rma.mv() fit
// (core/refit_mv.hpp: mv_boot_run): (end - start) x (p + q) statistics (beta,
// theta).  draws: NULL, or a 1-based n_units x (end - start) integer matrix
// of given draws (as.boot's statistic).  want_index: also return the draws.
// [[Rcpp::export(name = ".mf_rma_mv_boot", rng = false)]]
Rcpp::List mf_rma_mv_boot(Rcpp::List spec, Rcpp::IntegerVector unit, int n_units, Rcpp::NumericVector theta, bool reml,
                          double threshold, int maxiter, double stepadj, double seed, double start, double end,
                          int threads, SEXP progress, SEXP draws, bool want_index) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const int k = pr.k(), p = pr.p(), q = mm.n_theta();
  if (unit.size() != k) Rcpp::stop("internal error: 'unit' must have one code per row");
  if (theta.size() != q) Rcpp::stop("internal error: 'theta' must have one value per variance component");
  MvRefitPlan plan;
  plan.reml = reml;
  plan.ctl.threshold = threshold;
  plan.ctl.maxiter = maxiter;
  plan.ctl.stepadj = stepadj;
  plan.theta = Eigen::Map<const Eigen::VectorXd>(theta.begin(), q);
  // (spec$refit.restart: also refit every replicate from the default start)
  plan.restart = spec.containsElementNamed("refit.restart") && Rcpp::as<bool>(spec["refit.restart"]);
  const std::size_t lo = static_cast<std::size_t>(start), hi = static_cast<std::size_t>(end);
  if (hi < lo) Rcpp::stop("need start <= end");
  const std::size_t m = hi - lo;
  std::vector<int> dr;
  if (!Rf_isNull(draws)) {
    const Rcpp::IntegerMatrix D(draws);
    if (D.nrow() != n_units || static_cast<std::size_t>(D.ncol()) != m)
      Rcpp::stop("internal error: 'draws' must be n_units x (end - start)");
    dr.assign(D.begin(), D.end());
    for (int& v : dr) {
      if (v == NA_INTEGER || v < 1 || v > n_units) Rcpp::stop("internal error: draws must be in 1..n_units");
      v -= 1;
    }
  }
  const std::vector<int> u(unit.begin(), unit.end());
  Rcpp::NumericMatrix out(static_cast<int>(m), p + q);
  Rcpp::IntegerMatrix index(want_index ? n_units : 0, want_index ? static_cast<int>(m) : 0);
  RPoll poll(progress);
  const bool done = mv_boot_run(pr, mm.structure(), plan, u, n_units, static_cast<std::uint64_t>(seed),
                                dr.empty() ? nullptr : dr.data(), lo, hi, threads, out.begin(),
                                want_index ? index.begin() : nullptr, poll);
  poll.finish(done, m);
  return Rcpp::List::create(Rcpp::Named("t") = out, Rcpp::Named("index") = index);
}
