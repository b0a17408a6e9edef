// The rma.mv() model handed over by R as one list, the "spec" that
// .mf_mv_spec() (R/rma_mv.R) assembles once per fit and the fit object keeps:
//   y, v, X      outcomes, sampling variances, design (rows sorted into blocks)
//   offsets      0-based block offsets (n_blocks + 1)
//   Vblocks      dense V blocks, column-major, concatenated (numeric(0): diag v)
//   structure    list(type = "nested", groups = k x (L - 1) integer codes,
//                fixed = L values, NA: estimated)  (core/structure.hpp: NestedLevels),
//                or list(type = "terms", codes = k x S integer codes of the
//                factors, fixed = all n_theta values, terms = the '~ inner |
//                outer' terms: list(type, inner (0-based), outer, times, off,
//                n_v, n_r, n_lev; GEN/GDIAG: base, zlev; spatial: coords or
//                dmat, dist; UN on the Cholesky scale with fixed components
//                (type 17): fixv, fixr, NA: estimated; outer.levels, the labels of the outer codes, is
//                read in R only), optional R = L matrices or NULLs: metafor's
//                known correlation matrices R[levels, levels])  (RandomTerms: several factors, nested or
//                crossed, and struct terms; the blocks are connected components)
//   refuse       optional message: the methods of this fit stop with it
// Every rma.mv entry point (fit, methods, refits) builds its problem view and
// variance structure here, so a new structure is added in one place.  The
// views point into the list's R memory, which the MvModel keeps alive.
#pragma once

#include "metafast_types.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/model.hpp"
#include "core/structure.hpp"

namespace metafast {

// The '~ inner | outer' terms of a spec's structure (the list "terms"
// described above), read into InnerOuterTerm: the dense blocks' RandomTerms
// and the sparse engine's CrossedTerms (rcpp_crossed_spec.h) share it.
inline std::vector<InnerOuterTerm> read_inner_outer_terms(const Rcpp::List& tl) {
  const auto as_mat = [](SEXP x) {
    const Rcpp::NumericMatrix m(x);
    return Mat(Eigen::Map<const Eigen::MatrixXd>(m.begin(), m.nrow(), m.ncol()));
  };
  const auto as_ivec = [](SEXP x) {
    const Rcpp::IntegerVector v(x);
    return IVec(Eigen::Map<const Eigen::VectorXi>(v.begin(), v.size()));
  };
  // (NA: estimated)
  const auto na_vec = [](SEXP x) {
    const Rcpp::NumericVector v(x);
    Vec out(v.size());
    for (R_xlen_t i = 0; i < v.size(); ++i) out(i) = Rcpp::NumericVector::is_na(v[i]) ? std::nan("") : v[i];
    return out;
  };
  std::vector<InnerOuterTerm> terms;
  for (R_xlen_t t = 0; t < tl.size(); ++t) {
    const Rcpp::List e = tl[t];
    InnerOuterTerm term;
    term.type = Rcpp::as<int>(e["type"]);
    term.inner = as_ivec(e["inner"]);
    term.outer = as_ivec(e["outer"]);
    const Rcpp::NumericVector tm = e["times"];
    term.times = Eigen::Map<const Eigen::VectorXd>(tm.begin(), tm.size());
    term.off = Rcpp::as<int>(e["off"]);
    term.n_v = Rcpp::as<int>(e["n_v"]);
    term.n_r = Rcpp::as<int>(e["n_r"]);
    term.n_lev = e.containsElementNamed("n_lev") ? Rcpp::as<int>(e["n_lev"]) : 0;
    // GEN/GDIAG: the base structure and the inner design of each level;
    // spatial: the coordinates of each level or the distance matrix
    if (e.containsElementNamed("base")) term.base = Rcpp::as<int>(e["base"]);
    if (e.containsElementNamed("zlev")) term.zlev = as_mat(e["zlev"]);
    if (e.containsElementNamed("coords")) term.coords = as_mat(e["coords"]);
    if (e.containsElementNamed("dmat")) term.dmat = as_mat(e["dmat"]);
    if (e.containsElementNamed("dist")) term.dist = Rcpp::as<int>(e["dist"]);
    if (e.containsElementNamed("logr")) term.log_range = Rcpp::as<bool>(e["logr"]);
    // UN on the Cholesky scale with fixed components: their values
    if (e.containsElementNamed("fixv")) term.fix_v = na_vec(e["fixv"]);
    if (e.containsElementNamed("fixr")) term.fix_r = na_vec(e["fixr"]);
    terms.push_back(term);
  }
  return terms;
}

class MvModel {
 public:
  explicit MvModel(const Rcpp::List& spec)
      : spec_(spec),
        y_(spec_["y"]), v_(spec_["v"]), X_(spec_["X"]), Vb_(spec_["Vblocks"]),
        off_(as_ivec(spec_["offsets"])),
        pr(Eigen::Map<const Eigen::VectorXd>(y_.begin(), y_.size()),
           Eigen::Map<const Eigen::VectorXd>(v_.begin(), v_.size()),
           Eigen::Map<const Eigen::MatrixXd>(X_.begin(), X_.nrow(), X_.ncol()), no_dense_cov(), off_,
           Eigen::Map<const Eigen::VectorXd>(Vb_.begin(), Vb_.size())) {
    // a fit whose methods are not available (e.g. user weights W): the
    // spec carries the message, so every method that rebuilds the problem stops
    if (spec_.containsElementNamed("refuse")) Rcpp::stop(Rcpp::as<std::string>(spec_["refuse"]));
    const Rcpp::List s = spec_["structure"];
    const std::string type = Rcpp::as<std::string>(s["type"]);
    if (type == "nested") {
      groups_ = Rcpp::as<Rcpp::IntegerMatrix>(s["groups"]);
      const Rcpp::NumericVector fx = s["fixed"];
      fixed_.resize(fx.size());
      for (R_xlen_t l = 0; l < fx.size(); ++l) fixed_(l) = Rcpp::NumericVector::is_na(fx[l]) ? std::nan("") : fx[l];
      st_.reset(new NestedLevels(Eigen::Map<const Eigen::MatrixXi>(groups_.begin(), groups_.nrow(), groups_.ncol()),
                                 fixed_));
    } else if (type == "terms") {
      const Rcpp::IntegerMatrix codes = s["codes"];
      const Rcpp::NumericVector fx = s["fixed"];
      fixed_.resize(fx.size());
      for (R_xlen_t l = 0; l < fx.size(); ++l) fixed_(l) = Rcpp::NumericVector::is_na(fx[l]) ? std::nan("") : fx[l];
      std::vector<InnerOuterTerm> terms;
      if (s.containsElementNamed("terms")) terms = read_inner_outer_terms(s["terms"]);
      std::vector<Mat> rmats;
      if (s.containsElementNamed("R")) {  // known correlation matrices (metafor's R), NULL: none
        const Rcpp::List rl = s["R"];
        for (R_xlen_t l = 0; l < rl.size(); ++l) {
          if (Rf_isNull(rl[l])) { rmats.emplace_back(); continue; }
          const Rcpp::NumericMatrix m = rl[l];
          rmats.emplace_back(Eigen::Map<const Eigen::MatrixXd>(m.begin(), m.nrow(), m.ncol()));
        }
      }
      st_.reset(new RandomTerms(Eigen::Map<const Eigen::MatrixXi>(codes.begin(), codes.nrow(), codes.ncol()), fixed_,
                                std::move(terms), std::move(rmats)));
    } else if (type == "crossed") {
      // a fit by the sparse engine whose linked rows exceed the dense blocks'
      // limit: the block-wise methods (hat values, residuals, BLUPs, refits)
      // are not available for it
      Rcpp::stop("This method of rma.mv() fits is not available yet for crossed random effects that link more "
                 "than 5000 rows into one block (the fit used the sparse engine; issue 12).");
    } else {
      Rcpp::stop("internal error: unknown rma.mv structure type '%s'", type);
    }
  }
  MvModel(const MvModel&) = delete;
  MvModel& operator=(const MvModel&) = delete;

  const VarStructure& structure() const { return *st_; }
  int n_theta() const { return st_->n_theta(); }
  // fixed value of theta_j (NaN: estimated)
  double fixed(int j) const { return fixed_(j); }

 private:
  static IVec as_ivec(const Rcpp::IntegerVector& x) { return Eigen::Map<const Eigen::VectorXi>(x.begin(), x.size()); }
  Rcpp::List spec_;
  Rcpp::NumericVector y_, v_;
  Rcpp::NumericMatrix X_;
  Rcpp::NumericVector Vb_;
  IVec off_;
  Rcpp::IntegerMatrix groups_;
  Vec fixed_;
  std::unique_ptr<VarStructure> st_;

 public:
  const ProblemView pr;  // views of the list's memory (declared after what it points to)
};

}  // namespace metafast
