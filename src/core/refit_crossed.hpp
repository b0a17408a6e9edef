// Unit deletion for crossed random effects fitted by the sparse engine
// (rma.mv with crossed factors linking more rows than the dense blocks
// allow): the model family of mv_deletion_run_family() (refit_mv.hpp) whose
// fits and evaluations are those of SparseCrossedObjective
// (sparse_objective.hpp), so rstudent(), cooks.distance() and dfbetas() of
// such fits are the same kernel as the block engine's.  The marginal
// covariance of the rows left out is
//   M_DD = V_DD + sum_l sigma2_l (R_l)_{f_l(i), f_l(j)}   (R_l = I: [f_l(i) == f_l(j)]),
// V_DD within the blocks of V, the random effects between any two rows
// (Searle, Casella & McCulloch 1992, ch. 6).  R-free.
#pragma once

#include <memory>
#include <vector>

#include "core/refit_mv.hpp"
#include "core/sparse_objective.hpp"

namespace metafast {

// Entries of the marginal covariance of crossed terms,
//   M_ij = V_ij + sum_l theta_l (R_l)_{f_l(i), f_l(j)}
//          + sum_t [outer_t(i) == outer_t(j)] E_t(inner_t(i), inner_t(j))  (CrossedTerms::re_cov()),
// V_ij read in place within the blocks of V (0 across blocks): the M_DD of
// case deletion, the cluster blocks of rstandard(cluster =) and of the
// CR2-type sandwich.  theta: the structure's.
class CrossedMarginal {
 public:
  CrossedMarginal(const ProblemView& pr, const CrossedTerms& st)
      : pr_(pr), st_(st), row_block_(mv_row_blocks(pr)), voff_(mv_block_offsets(pr)) {}
  template <class Theta>
  double operator()(const Theta& theta, int i, int j) const {
    double m = 0.0;
    const int b = row_block_[i];
    if (b == row_block_[j]) {
      if (pr_.dense_cov()) {
        const int i0 = pr_.block_begin(b);
        m = pr_.Vblocks(static_cast<Eigen::Index>(voff_[b]) + (i - i0) +
                        static_cast<Eigen::Index>(j - i0) * pr_.block_size(b));
      } else if (i == j) {
        m = pr_.v(i);
      }
    }
    return m + st_.re_cov(theta, i, j);
  }
  // S(c1, c2) += M(rows[c1], rows[c2]).  O(n^2 L).
  template <class Theta>
  void add_block(const Theta& theta, const std::vector<int>& rows, Mat& S) const {
    const int n = static_cast<int>(rows.size());
    for (int c2 = 0; c2 < n; ++c2)
      for (int c1 = 0; c1 < n; ++c1) S(c1, c2) += (*this)(theta, rows[c1], rows[c2]);
  }

 private:
  const ProblemView& pr_;
  const CrossedTerms& st_;
  const std::vector<int> row_block_;
  const std::vector<std::size_t> voff_;
};

class CrossedFamily {
 public:
  CrossedFamily(const ProblemView& pr, const CrossedTerms& st, bool reml)
      : st_(st), reml_(reml), marginal_(pr, st) {}
  const VarStructure& structure() const { return st_; }
  std::unique_ptr<VarStructure> subset(const std::vector<int>& rows) const { return st_.subset_rows(rows); }
  BlockFitResult fit(const ProblemView& sv, const VarStructure& sst, const Control& ctl, const Vec& theta0,
                     const OptimPoll& poll) const {
    return fit_crossed_model(sv, static_cast<const CrossedTerms&>(sst), reml_, ctl, theta0, poll);
  }
  bool evaluate(const ProblemView& sv, const VarStructure& sst, const Vec& theta, ObjectiveEval& ev,
                const OptimPoll& poll) const {
    SparseCrossedObjective obj(sv, static_cast<const CrossedTerms&>(sst), reml_, poll);
    return obj.evaluate(theta, 0, ev);
  }
  // (pr: the problem the family was made for)
  void add_mdd(const ProblemView& /*pr*/, const Vec& theta, const std::vector<int>& del, Mat& S) const {
    marginal_.add_block(theta, del, S);
  }

 private:
  const CrossedTerms& st_;
  const bool reml_;
  const CrossedMarginal marginal_;
};

}  // namespace metafast
