// Unit deletion for crossed random effects fitted by the sparse engine
// (rma.mv with crossed factors linking more rows than the dense blocks
// allow): the model family of mv_deletion_run_family() (refit_mv.hpp) whose
// fits and evaluations are those of SparseCrossedObjective
// (sparse_objective.hpp), so rstudent(), cooks.distance() and dfbetas() of
// such fits are the same kernel as the block engine's.  The marginal
// covariance of the rows left out is
//   M_DD = V_DD + sum_l sigma2_l [f_l(i) == f_l(j)],
// V_DD within the blocks of V, the random effects between any two rows
// (Searle, Casella & McCulloch 1992, ch. 6).  R-free.
#pragma once

#include <memory>
#include <vector>

#include "core/refit_mv.hpp"
#include "core/sparse_objective.hpp"

namespace metafast {

class CrossedFamily {
 public:
  CrossedFamily(const ProblemView& pr, const CrossedTerms& st, bool reml)
      : st_(st), reml_(reml), row_block_(mv_row_blocks(pr)), voff_(mv_block_offsets(pr)) {}
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
  void add_mdd(const ProblemView& pr, const Vec& theta, const std::vector<int>& del, Mat& S) const {
    add_within_blocks(pr, row_block_, voff_, del,
                      [&](int b, Eigen::Index voff, Mat& Mb) { pr.sampling_block(b, voff, Mb); }, S);
    const int nd = static_cast<int>(del.size());
    for (int l = 0; l < st_.n_theta(); ++l)
      for (int c2 = 0; c2 < nd; ++c2)
        for (int c1 = 0; c1 < nd; ++c1)
          if (st_.code(del[c1], l) == st_.code(del[c2], l)) S(c1, c2) += theta(l);
  }

 private:
  const CrossedTerms& st_;
  const bool reml_;
  const std::vector<int> row_block_;
  const std::vector<std::size_t> voff_;
};

}  // namespace metafast
