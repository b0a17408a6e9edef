// Thin Rcpp layer over core/selmodel.hpp: the log-likelihood of a selection
// model at each column of a parameter matrix (beta, tau2, delta), so that R's
// optimiser, gradient and Hessian by differences cross into C++ once per batch
// of evaluations.  R (R/selmodel.R) validates the input and computes the
// p-values, intervals and normal quantiles the core needs.
#include <vector>

#include "rcpp_convert.h"
#include "core/selmodel.hpp"

// [[Rcpp::export(name = ".mf_selmodel_ll", rng = false)]]
Rcpp::NumericVector mf_selmodel_ll(const Rcpp::NumericMatrix& par, const Rcpp::NumericVector& yi,
                                   const Rcpp::NumericVector& vi, const Rcpp::NumericMatrix& X,
                                   const Rcpp::NumericVector& preci, const Rcpp::NumericVector& pvals,
                                   const Rcpp::IntegerVector& pgrp, int type, int alternative,
                                   const Rcpp::NumericVector& steps, const Rcpp::NumericVector& zcut,
                                   const Rcpp::NumericVector& kinks, double pval_min, double rel_tol,
                                   int max_pieces) {
  namespace sm = metafast::selmodel;
  sm::Model m;
  m.type = static_cast<sm::Type>(type);
  m.alt = static_cast<sm::Alternative>(alternative);
  const int k = yi.size(), p = X.ncol();
  m.k = k;
  m.p = p;
  m.yi = yi.begin();
  m.vi = vi.begin();
  m.preci = preci.begin();
  m.pvals = pvals.begin();
  m.X = X.begin();
  m.pgrp = pgrp.size() == k ? pgrp.begin() : nullptr;
  m.steps.assign(steps.begin(), steps.end());
  m.zcut.assign(zcut.begin(), zcut.end());
  m.kinks.assign(kinks.begin(), kinks.end());
  m.pval_min = pval_min;
  m.quad.rel_tol = rel_tol;
  m.quad.max_pieces = max_pieces;
  const int npar = par.nrow(), ncol = par.ncol();
  Rcpp::NumericVector out(ncol);
  int unconverged = 0, failed = 0;
  for (int c = 0; c < ncol; ++c) {
    const double* col = par.begin() + static_cast<std::size_t>(c) * npar;
    const sm::LogLik r = sm::loglik(m, col, col[p], col + p + 1);
    out[c] = r.ll;
    unconverged += r.unconverged;
    if (r.failed >= 0 && failed == 0) failed = r.failed + 1;
  }
  out.attr("unconverged") = unconverged;
  out.attr("failed") = failed;
  return out;
}
