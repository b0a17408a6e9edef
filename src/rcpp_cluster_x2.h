// The R side of core cluster_x2() (core/leverage.hpp), shared by the block
// and the sparse engine's rstandard(cluster =): rows grouped by cluster
// (codes 0..n_cluster-1 per sorted row), an interrupt polled every 1024
// clusters, NA where Var(e)_cc is not positive definite.
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
