// Glue of rma.mv() (R/rma_mv.R): the model R has validated and sorted
// (rows sorted into the blocks, the dense V blocks, the variance structure)
// arrives as one list, the spec (rcpp_mv_model.h), and is fitted by the block
// engine (core/fit.hpp: fit_block_model).
#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "rcpp_mv_fit.h"
#include "rcpp_mv_model.h"
#include "core/dense_input.hpp"
#include "core/fit.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

using namespace metafast;

// The fit by the block engine: the list of mv_fit_to_r() (rcpp_mv_fit.h).
// [[Rcpp::export(name = ".mf_rma_mv_fit", rng = false)]]
Rcpp::List mf_rma_mv_fit(Rcpp::List spec, Rcpp::NumericVector start, bool reml, double threshold, int maxiter,
                         double stepadj) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const VarStructure& st = mm.structure();
  return mv_fit_to_r(
      pr, st, start, reml, threshold, maxiter, stepadj,
      [&](const Vec& theta0, const Control& ctl, const OptimPoll& poll) {
        return fit_block_model(pr, st, reml, ctl, theta0, true, poll);
      },
      [&](const Vec& theta, bool r, ObjectiveEval& out) { return BlockObjective(pr, st, r).evaluate(theta, kObjLL, out); });
}

// The smallest eigenvalue of each dense V block relative to its largest
// absolute diagonal element (R names the rows of the blocks that are not
// positive semi-definite).  O(sum n_b^3); polls for interrupts.
// [[Rcpp::export(name = ".mf_vblocks_min_eigen", rng = false)]]
Rcpp::NumericVector mf_vblocks_min_eigen(Rcpp::IntegerVector offsets, Rcpp::NumericVector Vblocks) {
  const int nbk = offsets.size() - 1;
  Rcpp::NumericVector out(nbk);
  Eigen::Index voff = 0;
  Eigen::SelfAdjointEigenSolver<Mat> es;
  RPoll rp(R_NilValue);
  for (int b = 0; b < nbk; ++b) {
    if ((b & 4095) == 4095 && !rp(0)) throw Rcpp::internal::InterruptedException();
    const int nb = offsets[b + 1] - offsets[b];
    const Eigen::Map<const Mat> Vb(Vblocks.begin() + voff, nb, nb);
    voff += static_cast<Eigen::Index>(nb) * nb;
    const double scale = Vb.diagonal().cwiseAbs().maxCoeff();
    if (nb == 1) { out[b] = scale > 0 ? (Vb(0, 0) >= 0 ? Vb(0, 0) / scale : -1.0) : 0.0; continue; }
    es.compute(Vb, Eigen::EigenvaluesOnly);
    const double mn = es.eigenvalues().minCoeff();
    out[b] = scale > 0 ? mn / scale : (mn < 0 ? -1.0 : 0.0);
  }
  return out;
}

// The dense V of rma.mv(V = <k x k matrix>): base R's isSymmetric() decision,
// as metafor takes it, and, when symmetric, the entries that are non-zero or
// NA as 1-based triplets (core/dense_input.hpp): no copy of the k x k matrix.
// [[Rcpp::export(name = ".mf_dense_sym_triplets", rng = false)]]
Rcpp::List mf_dense_sym_triplets(Rcpp::NumericMatrix V) {
  const std::size_t n = V.nrow();
  RPoll rp(R_NilValue);
  auto poll = [&](std::size_t done) {
    if ((done & 255) == 0 && !rp(0)) throw Rcpp::internal::InterruptedException();
  };
  if (!r_is_symmetric(V.begin(), n, poll)) return Rcpp::List::create(Rcpp::Named("symmetric") = false);
  const DenseTriplets tr = dense_triplets(V.begin(), n, poll);
  const R_xlen_t nz = static_cast<R_xlen_t>(tr.x.size());
  Rcpp::IntegerVector i(nz), j(nz);
  for (R_xlen_t t = 0; t < nz; ++t) { i[t] = tr.i[t] + 1; j[t] = tr.j[t] + 1; }
  return Rcpp::List::create(Rcpp::Named("symmetric") = true, Rcpp::Named("i") = i, Rcpp::Named("j") = j,
                            Rcpp::Named("x") = Rcpp::NumericVector(tr.x.begin(), tr.x.end()));
}

// The blocks of a model with several random-effects factors: the connected
// components of the rows linked by sharing a level of any factor (codes,
// k x S, values 1..n_l per column) or by a covariance in V (pairs vi[t], vj[t]
// of 1-based rows).  Union-find with path halving and union by size:
// O((k S + pairs) alpha(k)).  Returns component ids 1..C in order of each
// component's first row.
// [[Rcpp::export(name = ".mf_mv_components", rng = false)]]
Rcpp::IntegerVector mf_mv_components(Rcpp::IntegerMatrix codes, Rcpp::IntegerVector vi, Rcpp::IntegerVector vj) {
  const int k = codes.nrow(), S = codes.ncol();
  std::vector<int> parent(k), size(k, 1);
  for (int i = 0; i < k; ++i) parent[i] = i;
  auto find = [&parent](int x) {
    while (parent[x] != x) {
      parent[x] = parent[parent[x]];
      x = parent[x];
    }
    return x;
  };
  auto unite = [&](int a, int b) {
    a = find(a);
    b = find(b);
    if (a == b) return;
    if (size[a] < size[b]) std::swap(a, b);
    parent[b] = a;
    size[a] += size[b];
  };
  RPoll rp(R_NilValue);
  for (int l = 0; l < S; ++l) {
    if (!rp(0)) throw Rcpp::internal::InterruptedException();
    int nlev = 0;
    for (int i = 0; i < k; ++i) nlev = std::max(nlev, codes(i, l));
    std::vector<int> first(static_cast<std::size_t>(nlev) + 1, -1);  // first row of each level
    for (int i = 0; i < k; ++i) {
      const int g = codes(i, l);
      if (first[g] < 0) first[g] = i;
      else unite(first[g], i);
    }
  }
  for (R_xlen_t t = 0; t < vi.size(); ++t) {
    if ((t & 65535) == 65535 && !rp(0)) throw Rcpp::internal::InterruptedException();
    unite(vi[t] - 1, vj[t] - 1);
  }
  Rcpp::IntegerVector comp(k);
  std::vector<int> id(k, 0);
  int next = 0;
  for (int i = 0; i < k; ++i) {
    const int r = find(i);
    if (id[r] == 0) id[r] = ++next;
    comp[i] = id[r];
  }
  return comp;
}
