// The spec of a crossed fit by the sparse engine (R/rma_mv.R, type
// "crossed": see src/rcpp_rma_mv_sparse.cpp) read for the glue of the fit,
// its methods and its refits (src/rcpp_rma_mv_refit.cpp).
#pragma once

#include "metafast_types.h"

#include <cmath>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/sparse_objective.hpp"
#include "rcpp_mv_model.h"

namespace metafast {

// The spec read into views of its R memory (the list is kept alive by the
// caller's frame) and an owned 0-based copy of the group codes.
struct CrossedSpec {
  Rcpp::NumericVector y, v, Vb;
  Rcpp::NumericMatrix X;
  IVec offsets, nlevels;
  Eigen::MatrixXi codes;
  Vec fixed;
  std::vector<Mat> R;  // per term: the known correlation matrix, or empty
  std::vector<InnerOuterTerm> gterms;  // the '~ inner | outer' terms (optional "terms")
  explicit CrossedSpec(const Rcpp::List& spec)
      : y(spec["y"]), v(spec["v"]), Vb(spec["Vblocks"]), X(spec["X"]) {
    const Rcpp::IntegerVector off = spec["offsets"];
    offsets = Eigen::Map<const Eigen::VectorXi>(off.begin(), off.size());
    const Rcpp::List s = spec["structure"];
    const std::string type = Rcpp::as<std::string>(s["type"]);
    if (type != "crossed") Rcpp::stop("internal error: the glue of crossed fits needs structure type 'crossed', not '%s'", type);
    const Rcpp::IntegerMatrix cd = s["codes"];
    const Rcpp::IntegerVector nl = s["nlevels"];
    const Rcpp::NumericVector fx = s["fixed"];
    const int L = cd.ncol();
    if (s.containsElementNamed("terms")) gterms = read_inner_outer_terms(s["terms"]);
    int n_theta = L;
    for (const InnerOuterTerm& t : gterms) {
      if (t.off != n_theta || t.inner.size() != y.size() || t.outer.size() != y.size() || t.is_gen() || t.is_spatial())
        Rcpp::stop("internal error: an inner|outer term of the crossed structure does not match the spec");
      n_theta += t.n_v + t.n_r;
    }
    if (cd.nrow() != y.size() || nl.size() != L || fx.size() != n_theta)
      Rcpp::stop("internal error: the crossed structure does not match the spec (codes %d x %d, %d nlevels, %d fixed)",
                 cd.nrow(), L, nl.size(), fx.size());
    nlevels = Eigen::Map<const Eigen::VectorXi>(nl.begin(), L);
    codes.resize(cd.nrow(), L);
    for (int l = 0; l < L; ++l)
      for (int i = 0; i < cd.nrow(); ++i) {
        const int c = cd(i, l);
        if (c == NA_INTEGER || c < 1 || c > nlevels(l))
          Rcpp::stop("internal error: group code %d of row %d in term %d outside 1..%d", c, i + 1, l + 1, nlevels(l));
        codes(i, l) = c - 1;
      }
    fixed.resize(n_theta);
    for (int l = 0; l < n_theta; ++l) fixed(l) = Rcpp::NumericVector::is_na(fx[l]) ? std::nan("") : fx[l];
    // known correlation matrices (optional): a list with one entry per term,
    // NULL or the nlevels x nlevels matrix
    if (s.containsElementNamed("R") && !Rf_isNull(s["R"])) {
      const Rcpp::List rl = s["R"];
      if (rl.size() != L) Rcpp::stop("internal error: the crossed structure's R has %d entries for %d terms", rl.size(), L);
      R.resize(L);
      for (int l = 0; l < L; ++l) {
        if (Rf_isNull(rl[l])) continue;
        const Rcpp::NumericMatrix m = rl[l];
        if (m.nrow() != nlevels(l) || m.ncol() != nlevels(l))
          Rcpp::stop("internal error: R of term %d is %d x %d for %d levels", l + 1, m.nrow(), m.ncol(), nlevels(l));
        R[l] = Eigen::Map<const Mat>(m.begin(), m.nrow(), m.ncol());
      }
    }
  }

  // the variance structure (the codes and R viewed, the terms copied)
  CrossedTerms structure() const { return CrossedTerms(codes, nlevels, fixed, R, gterms); }

  ProblemView view() const {
    return ProblemView(Eigen::Map<const Vec>(y.begin(), y.size()), Eigen::Map<const Vec>(v.begin(), v.size()),
                       Eigen::Map<const Mat>(X.begin(), X.nrow(), X.ncol()), no_dense_cov(), offsets,
                       Eigen::Map<const Vec>(Vb.begin(), Vb.size()));
  }
};


}  // namespace metafast
