// Glue of robust() (R/robust.R): the cluster-robust sandwich and its
// small-sample tests (core/sandwich.hpp), and, for rma.mv() fits, the
// working covariance blocks of the clusters read from the fit's spec
// (rcpp_mv_model.h) at the fitted parameters.
#include "rcpp_cluster_x2.h"
#include "rcpp_interrupt.h"
#include "rcpp_mv_model.h"

#include "core/sandwich.hpp"

#include <string>
#include <vector>

using namespace metafast;

namespace {

bool robust_poll() { return !interrupt_pending(); }

void robust_throw_if_interrupted() {
  if (interrupt_pending()) throw Rcpp::internal::InterruptedException();
}

}  // namespace

// For an rma.mv() fit: W X (sorted rows of the spec, W = M^-1 block by
// block) and the blocks M_cc of the clusters whose (0-based, sorted) rows are
// rows[off[c]..off[c+1]), concatenated column-major.  Entries of M between
// rows of different engine blocks are 0 (M is block diagonal).
// O(sum n_b^3 + sum_c n_c^2).
// [[Rcpp::export(name = ".mf_robust_mv_blocks", rng = false)]]
Rcpp::List mf_robust_mv_blocks(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::IntegerVector rows,
                               Rcpp::IntegerVector off) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const VarStructure& st = mm.structure();
  const int L = mm.n_theta();
  if (theta.size() != L) Rcpp::stop("internal error: theta has length %d, the structure %d", theta.size(), L);
  Vec th(L);
  for (int l = 0; l < L; ++l) th(l) = theta[l];
  const int k = pr.k(), p = pr.p(), nbk = pr.n_blocks();
  std::vector<Mat> Mb(nbk);
  std::vector<int> blk(k);
  Rcpp::NumericMatrix WXr(k, p);
  Eigen::Map<Mat> WX(WXr.begin(), k, p);
  Eigen::Index voff = 0;
  for (int b = 0; b < nbk; ++b) {
    if ((b & 1023) == 1023) robust_throw_if_interrupted();
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    st.block_cov(pr, th, b, voff, Mb[b]);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    for (int i = 0; i < nb; ++i) blk[i0 + i] = b;
    Eigen::LLT<Mat> llt(Mb[b]);
    if (llt.info() != Eigen::Success) Rcpp::stop("Cannot invert marginal var-cov matrix.");
    WX.middleRows(i0, nb) = llt.solve(pr.X.middleRows(i0, nb));
  }
  const Rcpp::NumericVector Th = cluster_blocks_r(rows, off, [&](int ia, int id) {
    if (blk[ia] != blk[id]) return 0.0;
    const int i0 = pr.block_begin(blk[ia]);
    return Mb[blk[ia]](ia - i0, id - i0);
  });
  return Rcpp::List::create(Rcpp::Named("WX") = WXr, Rcpp::Named("Theta") = Th);
}

// The sandwich of 'type' (0..5: CR0, CR1, CR1p, CR1S, CR2, CR3) for rows
// sorted by cluster (offsets 'off'), working covariance blocks 'Theta' and
// weight blocks 'Wb' (both concatenated column-major; Wb empty: the weights
// are Theta^-1) and B = (X'WX)^-1; the Satterthwaite df of the rows of
// 'Csatt' (0 rows: none) and nu_Z of the HTZ test of each matrix in 'Chtz'.
// [[Rcpp::export(name = ".mf_robust_sandwich", rng = false)]]
Rcpp::List mf_robust_sandwich(Rcpp::NumericMatrix X, Rcpp::NumericVector e, Rcpp::IntegerVector off,
                              Rcpp::NumericVector Theta, Rcpp::NumericVector Wb, Rcpp::NumericMatrix B, int type,
                              Rcpp::NumericMatrix Csatt, Rcpp::List Chtz) {
  SandwichData dt;
  dt.X = Eigen::Map<const Mat>(X.begin(), X.nrow(), X.ncol());
  dt.e = Eigen::Map<const Vec>(e.begin(), e.size());
  dt.off.assign(off.begin(), off.end());
  dt.B = Eigen::Map<const Mat>(B.begin(), B.nrow(), B.ncol());
  const int J = off.size() - 1;
  dt.Theta.resize(J);
  R_xlen_t pos = 0;
  for (int c = 0; c < J; ++c) {
    const int n = off[c + 1] - off[c];
    dt.Theta[c] = Eigen::Map<const Mat>(Theta.begin() + pos, n, n);
    pos += static_cast<R_xlen_t>(n) * n;
  }
  if (Wb.size() > 0) {
    if (Wb.size() != pos) Rcpp::stop("internal error: the weight blocks have %d values, the clusters %d", Wb.size(), pos);
    dt.W.resize(J);
    pos = 0;
    for (int c = 0; c < J; ++c) {
      const int n = off[c + 1] - off[c];
      dt.W[c] = Eigen::Map<const Mat>(Wb.begin() + pos, n, n);
      pos += static_cast<R_xlen_t>(n) * n;
    }
  }
  SandwichFit sf;
  bool interrupted = false;
  auto poll = [&interrupted]() {
    if (!robust_poll()) interrupted = true;
    return !interrupted;
  };
  sandwich_compute(dt, static_cast<SandwichType>(type), sf, poll);
  if (interrupted) throw Rcpp::internal::InterruptedException();
  if (!sf.ok && sf.singular)
    Rcpp::stop("'vcov' = \"CR3\" is not defined for this clustering: I - H_jj is singular for a cluster (one cluster "
               "alone determines a coefficient), as in clubSandwich.");
  if (!sf.ok) Rcpp::stop("The working covariance matrix of a cluster is not positive definite.");
  Rcpp::NumericVector df(Csatt.nrow());
  if (Csatt.nrow() > 0) {
    const Eigen::VectorXd d =
        sandwich_satterthwaite(dt, sf, Eigen::Map<const Mat>(Csatt.begin(), Csatt.nrow(), Csatt.ncol()), poll);
    if (interrupted) throw Rcpp::internal::InterruptedException();
    for (int i = 0; i < d.size(); ++i) df[i] = d(i);
  }
  Rcpp::NumericVector nu(Chtz.size());
  for (R_xlen_t i = 0; i < Chtz.size(); ++i) {
    const Rcpp::NumericMatrix C = Chtz[i];
    nu[i] = sandwich_htz_nu(dt, sf, Eigen::Map<const Mat>(C.begin(), C.nrow(), C.ncol()));
  }
  return Rcpp::List::create(Rcpp::Named("vcov") = Rcpp::wrap(sf.vcov), Rcpp::Named("df") = df,
                            Rcpp::Named("nu") = nu);
}
