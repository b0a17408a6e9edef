// Thin Rcpp layer over the resampling kernels (core/bootstrap.hpp,
// core/permutation.hpp, both on the refit engine of core/refit.hpp).  The
// poll callback (RPoll, rcpp_interrupt.h) runs on the calling (main) thread
// only: it checks for a user interrupt and reports progress to an optional R
// function.  An interrupt stops the loop, the worker threads are joined, and
// only then is the interrupt raised in R.
#include <cstdint>
#include <string>

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "core/bootstrap.hpp"
#include "core/permutation.hpp"

using namespace metafast;

namespace {

RefitSpec spec_from_r(int method, int test, const Rcpp::List& control) {
  RefitSpec sp;
  sp.method = static_cast<Method>(method);
  sp.test = static_cast<Test>(test);
  sp.ctl = control_from_r(control);
  return sp;
}

Rcpp::CharacterVector stat_names(const Rcpp::NumericMatrix& X) {
  const int p = X.ncol();
  Rcpp::CharacterVector nm(p + 3);
  SEXP dn = Rf_getAttrib(X, R_DimNamesSymbol);
  SEXP cn = Rf_isNull(dn) ? R_NilValue : VECTOR_ELT(dn, 1);
  for (int j = 0; j < p; ++j) nm[j] = Rf_isNull(cn) ? std::string("X") + std::to_string(j + 1)
                                                    : std::string(CHAR(STRING_ELT(cn, j)));
  nm[p] = "tau2";
  nm[p + 1] = "I2";
  nm[p + 2] = "H2";
  return nm;
}

// Block offsets from R: NULL or integer(0) for one row a unit, else the
// 0-based offsets of the clusters (rows sorted by cluster; R checks them).
IVec offsets_from_r(SEXP offsets) {
  if (Rf_isNull(offsets)) return IVec();
  const Rcpp::IntegerVector off(offsets);
  return Eigen::Map<const Eigen::VectorXi>(off.begin(), off.size());
}

// The problem with the clusters as its units (blocks of rows of diagonal v).
ProblemView view_with_units(const Rcpp::NumericVector& y, const Rcpp::NumericVector& v,
                            const Rcpp::NumericMatrix& X, const Rcpp::NumericVector& weights, const IVec& off) {
  const ProblemView base = view_from_r(y, v, X, weights);
  if (off.size() == 0) return base;
  if (off.size() < 2 || off(0) != 0 || off(off.size() - 1) != base.k()) Rcpp::stop("invalid cluster offsets");
  return ProblemView(base.y, base.v, base.X, base.weights, off);
}

}  // namespace

// Statistics (coefficients, tau2, I2, H2) of one refit on the rows idx
// (1-based, repeats allowed) -- the statistic of as.boot() and t0.  With
// offsets (rows sorted by cluster), idx indexes clusters.
// [[Rcpp::export(name = ".mf_boot_stat", rng = false)]]
Rcpp::NumericVector mf_boot_stat(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                                 Rcpp::NumericVector weights, Rcpp::IntegerVector idx, int method, int test,
                                 Rcpp::List control, SEXP offsets = R_NilValue) {
  const IVec off = offsets_from_r(offsets);
  const ProblemView pr = view_with_units(y, v, X, weights, off);
  std::vector<int> rows(idx.size());
  for (R_xlen_t i = 0; i < idx.size(); ++i) {
    if (idx[i] == NA_INTEGER || idx[i] < 1 || idx[i] > pr.n_blocks()) Rcpp::stop("row index out of range");
    rows[i] = idx[i] - 1;
  }
  const RefitEngine eng(pr, boot_plan(spec_from_r(method, test, control)));
  Rcpp::NumericVector out(n_boot_stats(pr.p()));
  write_boot_stats(eng.refit_units(rows), pr.p(), out.begin(), 1);
  out.attr("names") = stat_names(X);
  return out;
}

// Bootstrap replicates [start, end) (0-based) of the run seeded with seed.
// type 0: case resampling; 1: parametric (beta, tau2: the fitted model).
// With offsets (rows sorted by cluster), case resampling draws whole clusters.
// [[Rcpp::export(name = ".mf_boot_kernel", rng = false)]]
Rcpp::NumericMatrix mf_boot_kernel(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                                   Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                                   int type, Rcpp::NumericVector beta, double tau2, double seed, double start,
                                   double end, int threads, SEXP progress, SEXP offsets = R_NilValue) {
  const IVec off = offsets_from_r(offsets);
  const ProblemView pr = view_with_units(y, v, X, weights, off);
  const std::size_t lo = static_cast<std::size_t>(start), hi = static_cast<std::size_t>(end);
  if (hi < lo) Rcpp::stop("'end' < 'start'");
  Rcpp::NumericMatrix out(static_cast<int>(hi - lo), n_boot_stats(pr.p()));
  const Vec b = Eigen::Map<const Eigen::VectorXd>(beta.begin(), beta.size());
  RPoll poll(progress);
  const bool ok = bootstrap_run(pr, spec_from_r(method, test, control), static_cast<BootType>(type), b, tau2,
                                static_cast<std::uint64_t>(seed), lo, hi, threads, out.begin(), poll);
  poll.finish(ok, hi - lo);
  Rcpp::colnames(out) = stat_names(X);
  return out;
}

// Leave-one-out statistics: k x (p + 3); with offsets, one row per cluster.
// [[Rcpp::export(name = ".mf_jack_kernel", rng = false)]]
Rcpp::NumericMatrix mf_jack_kernel(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                                   Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                                   int threads, SEXP offsets = R_NilValue) {
  const IVec off = offsets_from_r(offsets);
  const ProblemView pr = view_with_units(y, v, X, weights, off);
  Rcpp::NumericMatrix out(pr.n_blocks(), n_boot_stats(pr.p()));
  RPoll poll(R_NilValue);
  const bool ok = jackknife_run(pr, spec_from_r(method, test, control), threads, out.begin(), poll);
  poll.finish(ok, pr.n_blocks());
  Rcpp::colnames(out) = stat_names(X);
  return out;
}

// Permutation test replicates [start, end) (0-based) of a run of n.
// int_only: sign flips, else row permutations of X.  exact: enumerate (n must
// be the number of sign vectors / distinct arrangements); else n random
// replicates, the first being the observed data.  btt is 1-based.
// [[Rcpp::export(name = ".mf_perm_kernel", rng = false)]]
Rcpp::List mf_perm_kernel(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                          Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                          Rcpp::IntegerVector btt, bool int_only, bool exact, double n, double seed,
                          double start, double end, int threads, SEXP progress) {
  const ProblemView pr = view_from_r(y, v, X, weights);
  const int p = pr.p(), k = pr.k();
  PermSpec ps;
  ps.sp = spec_from_r(method, test, control);
  ps.btt.resize(btt.size());
  for (R_xlen_t j = 0; j < btt.size(); ++j) ps.btt(j) = btt[j] - 1;
  ps.tdist = ps.sp.test != Test::Z;
  const std::size_t nn = static_cast<std::size_t>(n);
  const std::size_t lo = static_cast<std::size_t>(start), hi = static_cast<std::size_t>(end);
  if (hi < lo || hi > nn) Rcpp::stop("need 0 <= start <= end <= n");
  std::vector<int> arrangements, rep;
  if (exact && int_only && (k > 40 || nn != (std::size_t(1) << k)))
    Rcpp::stop("exact sign-flip test: n must be 2^k with k <= 40");
  if (exact && !int_only) {
    std::vector<int> label;
    row_groups(pr.X, label, rep);
    std::size_t count = 0;
    arrangements = distinct_arrangements(label, nn, count);
    if (count != nn) Rcpp::stop("exact permutation test: the number of distinct arrangements is not n");
  }
  const std::size_t m = hi - lo;
  Rcpp::NumericMatrix B(static_cast<int>(m), p), Z(static_cast<int>(m), p);
  Rcpp::NumericVector QM(static_cast<int>(m));
  PermOut o{B.begin(), Z.begin(), QM.begin(), m};
  RPoll poll(progress);
  const std::uint64_t s = static_cast<std::uint64_t>(seed);
  const bool ok = int_only ? signflip_run(pr, ps, exact, s, lo, hi, threads, o, poll)
                           : rowperm_run(pr, ps, exact, arrangements, rep, s, lo, hi, threads, o, poll);
  poll.finish(ok, m);
  return Rcpp::List::create(Rcpp::Named("beta") = B, Rcpp::Named("zval") = Z, Rcpp::Named("QM") = QM);
}
