// The R side of the per-cluster blocks of M shared by the block and the
// sparse engine: core cluster_x2() (core/leverage.hpp) for rstandard(cluster
// =): rows grouped by cluster (codes 0..n_cluster-1 per sorted row), an
// interrupt polled every 1024 clusters, NA where Var(e)_cc is not positive
// definite; and the blocks M_cc of robust()'s CR2-type sandwich.
#pragma once

#include <cmath>
#include <vector>

#include <RcppEigen.h>

#include "rcpp_interrupt.h"
#include "core/leverage.hpp"

template <class MEntry>
Rcpp::NumericVector cluster_x2_r(const metafast::MatRef& X, const metafast::Mat& XA, const metafast::Vec& e,
                                 const Rcpp::IntegerVector& cluster, int n_cluster, MEntry&& m_entry, metafast::RPoll& rp) {
  std::vector<std::vector<int>> rows(n_cluster);
  for (R_xlen_t i = 0; i < cluster.size(); ++i) rows[cluster[i]].push_back(static_cast<int>(i));
  Rcpp::NumericVector out(n_cluster);
  metafast::cluster_x2(X, XA, e, rows, m_entry, [&rp](int c) { return (c & 1023) != 1023 || rp(0); }, out.begin());
  if (rp.interrupted) throw Rcpp::internal::InterruptedException();
  for (R_xlen_t c = 0; c < out.size(); ++c)
    if (std::isnan(out[c])) out[c] = NA_REAL;
  return out;
}

// The blocks M_cc of the clusters whose (0-based, sorted) rows are
// rows[off[c]..off[c+1]), concatenated column-major; m_entry(i, j) = M_ij.
// An interrupt polled every 1024 clusters.  O(sum_c n_c^2) entries.
template <class MEntry>
Rcpp::NumericVector cluster_blocks_r(const Rcpp::IntegerVector& rows, const Rcpp::IntegerVector& off,
                                     MEntry&& m_entry) {
  const int J = off.size() - 1;
  R_xlen_t tot = 0;
  for (int c = 0; c < J; ++c) tot += static_cast<R_xlen_t>(off[c + 1] - off[c]) * (off[c + 1] - off[c]);
  Rcpp::NumericVector out(tot);
  R_xlen_t pos = 0;
  for (int c = 0; c < J; ++c) {
    if ((c & 1023) == 1023 && metafast::interrupt_pending()) throw Rcpp::internal::InterruptedException();
    const int a0 = off[c], n = off[c + 1] - off[c];
    for (int d = 0; d < n; ++d)
      for (int a = 0; a < n; ++a) out[pos++] = m_entry(rows[a0 + a], rows[a0 + d]);
  }
  return out;
}
