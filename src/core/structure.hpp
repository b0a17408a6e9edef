// Variance structures: the marginal covariance of the outcomes as a function
// of the variance parameters theta,
//
//   M_b(theta) = V_b + sum_j theta_j G_{j,b}        (block b of the rows),
//
// with V_b the known sampling covariance (dense block or diag(v), model.hpp)
// and G_{j,b} = dM_b / dtheta_j.  A structure says how many parameters it
// has, their names and box bounds, and writes M_b and dM_b/dtheta_j for one
// block at a time; the objective (objective.hpp) never forms a k x k matrix.
//
// Adding a structure (CS, AR(1), UN, ... for rma.mv) is one class derived
// from VarStructure plus a test of its objective against dense algebra
// (src/core/tests/test_blocks.cpp).  block_cov() and block_deriv() receive
// theta, so a structure that is not linear in theta (a correlation in AR(1))
// fits the same interface.  R-free.
#pragma once

#include "core/eigen.hpp"
#include <limits>
#include <string>

#include "core/model.hpp"

namespace metafast {

class VarStructure {
 public:
  virtual ~VarStructure() = default;
  virtual int n_theta() const = 0;
  virtual std::string name(int j) const = 0;
  // box constraints of theta_j (variances: [0, inf))
  virtual double lower(int /*j*/) const { return 0.0; }
  virtual double upper(int /*j*/) const { return std::numeric_limits<double>::infinity(); }
  // M_b(theta) into M (n_b x n_b); voff: offset of block b in pr.Vblocks
  virtual void block_cov(const ProblemView& pr, const Vec& theta, int b, Eigen::Index voff, Mat& M) const = 0;
  // dM_b / dtheta_j into G (n_b x n_b)
  virtual void block_deriv(const ProblemView& pr, const Vec& theta, int j, int b, Mat& G) const = 0;
  // true only for DiagonalTau2: the objective then uses the fused
  // one-pass kernels of wls.hpp instead of the block loop
  virtual bool is_diagonal_tau2() const { return false; }
};

// Today's univariate model: theta = (tau2), M_b = V_b + tau2 I.  With one row
// a block and diagonal V (the univariate model) the objective dispatches to
// the fused one-pass kernels of wls.hpp; the block methods below are the same
// model for the general block loop (used by the tests to check the dispatch).
class DiagonalTau2 : public VarStructure {
 public:
  int n_theta() const override { return 1; }
  std::string name(int) const override { return "tau2"; }
  void block_cov(const ProblemView& pr, const Vec& theta, int b, Eigen::Index voff, Mat& M) const override {
    pr.sampling_block(b, voff, M);
    M.diagonal().array() += theta(0);
  }
  void block_deriv(const ProblemView& pr, const Vec&, int, int b, Mat& G) const override {
    G.setIdentity(pr.block_size(b), pr.block_size(b));
  }
  bool is_diagonal_tau2() const override { return true; }
};

// Two-level nested random effects within the blocks (metafor's
// random = ~ 1 | study/es, the blocks being the studies):
// theta = (sigma2_outer, sigma2_inner),
//   M_b = V_b + sigma2_outer J_b + sigma2_inner I_b      (J = all ones).
class NestedTwoLevel : public VarStructure {
 public:
  int n_theta() const override { return 2; }
  std::string name(int j) const override { return j == 0 ? "sigma2.outer" : "sigma2.inner"; }
  void block_cov(const ProblemView& pr, const Vec& theta, int b, Eigen::Index voff, Mat& M) const override {
    pr.sampling_block(b, voff, M);
    M.array() += theta(0);
    M.diagonal().array() += theta(1);
  }
  void block_deriv(const ProblemView& pr, const Vec&, int j, int b, Mat& G) const override {
    const int nb = pr.block_size(b);
    if (j == 0) G.setOnes(nb, nb);
    else G.setIdentity(nb, nb);
  }
};

}  // namespace metafast
