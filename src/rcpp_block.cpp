// Hidden glue of the block engine (core/fit.hpp: fit_block_model) for the
// two-level nested model, metafor's rma.mv(yi, V, random = ~ 1 | outer/inner):
// the first step towards rma.mv().  Not exported; R validates nothing here
// yet, so the caller passes rows sorted by block, offsets of the blocks
// (0-based, length n_blocks + 1) and, optionally, the dense V blocks
// (column-major, concatenated; numeric(0): diagonal v).
#include "rcpp_convert.h"
#include "core/fit.hpp"

using namespace metafast;

// [[Rcpp::export(name = ".mf_block_fit", rng = false)]]
Rcpp::List mf_block_fit(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                        Rcpp::IntegerVector offsets, Rcpp::NumericVector Vblocks, bool reml,
                        double threshold = 1e-10, int maxiter = 1000) {
  using CVecMap = Eigen::Map<const Eigen::VectorXd>;
  const IVec off = Eigen::Map<const Eigen::VectorXi>(offsets.begin(), offsets.size());
  const ProblemView pr(CVecMap(y.begin(), y.size()), CVecMap(v.begin(), v.size()),
                       Eigen::Map<const Eigen::MatrixXd>(X.begin(), X.nrow(), X.ncol()), no_dense_cov(), off,
                       CVecMap(Vblocks.begin(), Vblocks.size()));
  Control ctl;
  ctl.threshold = threshold;
  ctl.maxiter = maxiter;
  const NestedTwoLevel nested;
  const BlockFitResult f = fit_block_model(pr, nested, reml, ctl);
  Rcpp::NumericVector theta(2), se(2);
  for (int j = 0; j < 2 && f.theta.size() == 2; ++j) {
    theta[j] = f.theta(j);
    se[j] = f.se_theta(j);
  }
  return Rcpp::List::create(Rcpp::Named("beta") = Rcpp::wrap(f.beta), Rcpp::Named("vb") = Rcpp::wrap(f.vb),
                            Rcpp::Named("theta") = theta, Rcpp::Named("se.theta") = se,
                            Rcpp::Named("ll") = f.ll, Rcpp::Named("convergence") = convergence_to_r(f.conv));
}
