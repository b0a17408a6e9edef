// Thin Rcpp layer over the case-deletion kernels (core/case_deletion.hpp,
// core/gosh.hpp): leave-one-out, cumulative, influence and GOSH refits.
// Worker threads never touch the R API; the calling thread polls for a user
// interrupt (and prints progress), and the interrupt is raised after the join.
#include <cstdint>
#include <vector>

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "core/case_deletion.hpp"
#include "core/gosh.hpp"

using namespace metafast;

namespace {

SubsetSpec spec_from_r(int method, int test, const Rcpp::List& control, bool int_only, double warm) {
  SubsetSpec s;
  s.method = static_cast<Method>(method);
  s.test = static_cast<Test>(test);
  s.ctl = control_from_r(control);
  s.int_only = int_only;
  s.warm = warm;
  return s;
}

// Poll callback: progress on stderr, and false on a pending interrupt.
struct Poller {
  std::size_t total;
  bool progress;
  const char* label;
  bool interrupted = false;
  bool operator()(std::size_t done) {
    if (progress) REprintf("\r%s: %lu / %lu", label, static_cast<unsigned long>(done),
                           static_cast<unsigned long>(total));
    if (interrupt_pending()) { interrupted = true; return false; }
    return true;
  }
  void finish() {
    if (progress) REprintf("\r%s: %lu / %lu\n", label, static_cast<unsigned long>(total),
                           static_cast<unsigned long>(total));
    if (interrupted) throw Rcpp::internal::InterruptedException();
  }
};

}  // namespace

// Refits on row sets: mode 0 leaves out study i (i = 0..k-1); mode 1 is
// cumulative: fit i uses the first i + 1 positions of `ord` (0-based).
// [[Rcpp::export(name = ".mf_cd_refits", rng = false)]]
Rcpp::List mf_cd_refits(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                        Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                        bool int_only, int mode, Rcpp::IntegerVector ord, double warm, int threads,
                        bool progress) {
  const Problem pr = problem_from_r(y, v, X, weights);
  const SubsetSpec spec = spec_from_r(method, test, control, int_only, warm);
  const int k = pr.k(), p = pr.p();
  const std::vector<int> order(ord.begin(), ord.end());
  const std::size_t n = mode == 0 ? static_cast<std::size_t>(k) : order.size();
  auto rows_of = [&](std::size_t i, std::vector<int>& rows) {
    rows.clear();
    if (mode == 0) {
      for (int r = 0; r < k; ++r) if (r != static_cast<int>(i)) rows.push_back(r);
    } else {
      rows.assign(order.begin(), order.begin() + i + 1);
    }
  };
  std::vector<SubsetFit> fits;
  Poller poll{n, progress, mode == 0 ? "leave1out" : "cumul"};
  fit_row_sets(pr, spec, n, rows_of, fits, threads, poll);
  poll.finish();
  Rcpp::LogicalVector ok(n), ztest(n);
  Rcpp::IntegerVector kk(n);
  Rcpp::NumericMatrix B(n, p), SE(n, p);
  Rcpp::NumericVector tau2(n), QE(n), I2(n), H2(n), s2w(n);
  for (std::size_t i = 0; i < n; ++i) {
    const SubsetFit& f = fits[i];
    ok[i] = f.ok;
    kk[i] = f.k;
    ztest[i] = f.z_test;
    for (int j = 0; j < p; ++j) {
      B(i, j) = f.ok ? f.beta(j) : NA_REAL;
      SE(i, j) = f.ok ? std::sqrt(f.vb(j, j)) : NA_REAL;
    }
    tau2[i] = f.ok ? f.tau2 : NA_REAL;
    QE[i] = f.ok ? f.QE : NA_REAL;
    I2[i] = f.ok ? f.I2 : NA_REAL;
    H2[i] = f.ok ? f.H2 : NA_REAL;
    s2w[i] = f.ok ? f.s2w : NA_REAL;
  }
  return Rcpp::List::create(Rcpp::Named("ok") = ok, Rcpp::Named("k") = kk, Rcpp::Named("z.test") = ztest,
                            Rcpp::Named("beta") = B, Rcpp::Named("se") = SE, Rcpp::Named("tau2") = tau2,
                            Rcpp::Named("QE") = QE, Rcpp::Named("I2") = I2, Rcpp::Named("H2") = H2,
                            Rcpp::Named("s2w") = s2w);
}

// Leave-one-out refits with the deletion diagnostics of each study.
// [[Rcpp::export(name = ".mf_cd_influence", rng = false)]]
Rcpp::List mf_cd_influence(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                           Rcpp::NumericVector weights, int method, int test, Rcpp::List control,
                           bool int_only, Rcpp::NumericVector beta, Rcpp::NumericMatrix vb,
                           Rcpp::NumericVector hat, double warm, int threads, bool progress) {
  const Problem pr = problem_from_r(y, v, X, weights);
  const SubsetSpec spec = spec_from_r(method, test, control, int_only, warm);
  const int k = pr.k(), p = pr.p();
  FullFit ff;
  ff.beta = Eigen::Map<const Eigen::VectorXd>(beta.begin(), p);
  ff.vb = Eigen::Map<const Eigen::MatrixXd>(vb.begin(), p, p);
  ff.hat = Eigen::Map<const Eigen::VectorXd>(hat.begin(), k);
  if (pr.has_weights()) ff.S = Wls(pr.X, pr.y, pr.weights).Ainv;
  std::vector<SubsetFit> fits(k);
  std::vector<InflRow> rows(k);
  auto body = [&](std::size_t i) {
    std::vector<int> keep;
    keep.reserve(k - 1);
    for (int r = 0; r < k; ++r) if (r != static_cast<int>(i)) keep.push_back(r);
    fits[i] = fit_subset(take_rows(pr, keep), spec);
    if (fits[i].ok) rows[i] = influence_row(pr, ff, static_cast<int>(i), fits[i]);
  };
  Poller poll{static_cast<std::size_t>(k), progress, "influence"};
  parallel_for(0, k, threads, 4, body, poll);
  poll.finish();
  Rcpp::NumericVector tau2(k), QE(k), s2w(k), delpred(k), vdelpred(k), dffits(k), cook(k), covr(k);
  Rcpp::NumericMatrix dfbs(k, p);
  for (int i = 0; i < k; ++i) {
    const bool ok = fits[i].ok;
    tau2[i] = ok ? fits[i].tau2 : NA_REAL;
    QE[i] = ok ? fits[i].QE : NA_REAL;
    s2w[i] = ok ? fits[i].s2w : NA_REAL;
    delpred[i] = ok ? rows[i].delpred : NA_REAL;
    vdelpred[i] = ok ? rows[i].vdelpred : NA_REAL;
    dffits[i] = ok ? rows[i].dffits : NA_REAL;
    cook[i] = ok ? rows[i].cook : NA_REAL;
    covr[i] = ok ? rows[i].covr : NA_REAL;
    for (int j = 0; j < p; ++j) dfbs(i, j) = ok ? rows[i].dfbs(j) : NA_REAL;
  }
  return Rcpp::List::create(Rcpp::Named("tau2.del") = tau2, Rcpp::Named("QE.del") = QE,
                            Rcpp::Named("s2w.del") = s2w, Rcpp::Named("delpred") = delpred,
                            Rcpp::Named("vdelpred") = vdelpred, Rcpp::Named("dffits") = dffits,
                            Rcpp::Named("cook.d") = cook, Rcpp::Named("cov.r") = covr,
                            Rcpp::Named("dfbs") = dfbs);
}

// GOSH: all subsets of size >= p (exact = TRUE) or nsub random subsets drawn
// from Stream(seed, r).  Rows are ordered by subset size.
// [[Rcpp::export(name = ".mf_gosh", rng = false)]]
Rcpp::List mf_gosh(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                   Rcpp::NumericVector weights, int method, int test, Rcpp::List control, bool int_only,
                   bool exact, double nsub, double seed, int threads, bool progress) {
  const Problem pr = problem_from_r(y, v, X, weights);
  const SubsetSpec spec = spec_from_r(method, test, control, int_only, NAN);
  const int k = pr.k(), p = pr.p();
  std::vector<std::uint64_t> masks;
  std::vector<unsigned char> raw;
  std::vector<std::size_t> perm;
  std::size_t S;
  const std::uint64_t useed = static_cast<std::uint64_t>(seed);
  if (exact) {
    if (k > 62) Rcpp::stop("Too many studies to enumerate all subsets.");
    masks = enumerate_subsets(k, p);
    S = masks.size();
  } else {
    S = static_cast<std::size_t>(nsub);
    raw.assign(S * static_cast<std::size_t>(k), 0);
    std::vector<int> size(S);
    Poller pdraw{S, false, "gosh"};
    parallel_for(0, S, threads, 256, [&](std::size_t r) {
      size[r] = random_subset(useed, r, k, p, &raw[r * k]);
    }, pdraw);
    pdraw.finish();
    perm = order_by_size(size, k);
  }
  Rcpp::LogicalMatrix incl(S, k);
  Rcpp::NumericVector QE(S), I2(S), H2(S), tau2(S);
  Rcpp::IntegerVector kk(S);
  Rcpp::NumericMatrix B(S, p);
  int* pin = LOGICAL(incl);
  double *pQE = QE.begin(), *pI2 = I2.begin(), *pH2 = H2.begin(), *pt = tau2.begin(), *pB = B.begin();
  int* pk = kk.begin();
  auto body = [&](std::size_t t) {
    std::vector<int> rows;
    rows.reserve(k);
    if (exact) {
      const std::uint64_t m = masks[t];
      for (int j = 0; j < k; ++j) if ((m >> j) & 1u) rows.push_back(j);
    } else {
      const unsigned char* in = &raw[perm[t] * k];
      for (int j = 0; j < k; ++j) if (in[j]) rows.push_back(j);
    }
    for (int r : rows) pin[t + S * static_cast<std::size_t>(r)] = 1;
    const SubsetFit f = fit_subset(take_rows(pr, rows), spec);
    pk[t] = static_cast<int>(rows.size());
    pQE[t] = f.ok ? f.QE : NA_REAL;
    pI2[t] = f.ok ? f.I2 : NA_REAL;
    pH2[t] = f.ok ? f.H2 : NA_REAL;
    pt[t] = f.ok ? f.tau2 : NA_REAL;
    for (int j = 0; j < p; ++j) pB[t + S * static_cast<std::size_t>(j)] = f.ok ? f.beta(j) : NA_REAL;
  };
  Poller poll{S, progress, "gosh"};
  parallel_for(0, S, threads, 64, body, poll);
  poll.finish();
  return Rcpp::List::create(Rcpp::Named("incl") = incl, Rcpp::Named("k") = kk, Rcpp::Named("QE") = QE,
                            Rcpp::Named("I2") = I2, Rcpp::Named("H2") = H2, Rcpp::Named("tau2") = tau2,
                            Rcpp::Named("beta") = B);
}
