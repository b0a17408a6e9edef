// Optimisers of the variance parameters, separate from the objective
// (objective.hpp):
//
//   fisher_scoring_1d()  the univariate tau2 path of ML/REML/EB: Fisher scoring
//                        with step-halving at the boundary (Viechtbauer 2005,
//                        J Educ Behav Stat 30:261), the bracketed root finder
//                        (roots.hpp) as fallback, exact boundary rules and the
//                        local-maximum guard.  Works on any 1-D objective with
//                        score(t, &step), guarded_loglik(t, thr), loglik_at(t)
//                        and has_guard() (DiagonalTau2Objective).
//   fisher_scoring()     multi-parameter Fisher scoring theta += I^{-1} U on an
//                        objective with evaluate(theta, what, ObjectiveEval&)
//                        (Jennrich & Sampson 1976, Technometrics 18:11), with
//                        the parameters at a bound whose score points outwards
//                        held there, steps projected onto the box, and
//                        step-halving while the (restricted) likelihood drops;
//                        it gives up (for the fallback) after
//                        kFisherHalvedIters successive halved steps.
//   quasi_newton()       projected BFGS with a backtracking (Armijo) line search
//                        along the projected path (Bertsekas 1982, SIAM J
//                        Control Optim 20:221; Nocedal & Wright 2006, ch. 6),
//                        box constraints from the structure: the fallback of
//                        fisher_scoring().
//
// Every solver reports what it did in a Convergence record (model.hpp).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "core/model.hpp"
#include "core/objective.hpp"
#include "core/roots.hpp"

namespace metafast {

// Iteration cap of the bracketed root-finder (Brent converges in well under
// 100 steps on these monotone equations; the cap only bounds pathological cases).
constexpr int kRootMaxIter = 1000;

// Solver codes of Convergence::solver beyond 0-2 (model.hpp).
constexpr int kSolverQuasiNewton = 3;

struct Optim1DResult {
  double x = 0;
  Convergence conv;
};

// The univariate Fisher-scoring path (today's rules, unchanged):
// - a step past 0: when the score at 0 is non-positive the maximum is on the
//   boundary and the iteration ends there; otherwise the step is halved until
//   it stays inside (Viechtbauer 2005);
// - no convergence within maxiter (or a non-finite step), or a false
//   convergence at 0 with a positive score there: the bracketed root of the
//   estimating equation on [0, tau2_max];
// - an estimate within 1e3 threshold of 0 with a non-positive score at 0 is 0;
// - (ML/REML) a local maximum whose likelihood is below the one at 0 is 0.
template <class Obj>
Optim1DResult fisher_scoring_1d(Obj& sc, double tau2, const Control& ctl) {
  Optim1DResult r;
  double change = ctl.threshold + 1;
  int iter = 0;
  bool ok = true;
  const double lo = ctl.tau2_min;  // the lower bound (0 unless control$tau2.min)
  while (change > ctl.threshold) {
    if (++iter > ctl.maxiter) { ok = false; break; }
    if (!ctl.poll()) {  // (an interrupt: no fallback, the caller reports it)
      r.conv.solver = 1;
      r.conv.converged = false;
      r.conv.iterations = iter;
      r.conv.message = "interrupted";
      r.x = std::numeric_limits<double>::quiet_NaN();
      return r;
    }
    double step = 0;
    sc.score(tau2, &step);
    if (!std::isfinite(step)) { ok = false; break; }
    step *= ctl.stepadj;
    if (tau2 + step < lo && sc.score(lo, nullptr) <= 0) {
      change = tau2 - lo;
      tau2 = lo;
      if (change <= ctl.threshold) break;
      continue;
    }
    int halvings = 0;
    while (tau2 + step < lo && halvings < 1100) { step /= 2; ++halvings; }
    const double old = tau2;
    tau2 = std::max(lo, tau2 + step);
    change = std::fabs(tau2 - old);
    if (ctl.ulp_floor && change > ctl.threshold && change <= 8 * kEpsTau2 * tau2) break;  // (Control::ulp_floor)
  }
  r.conv.solver = 1;
  r.conv.iterations = std::min(iter, ctl.maxiter);
  r.conv.change = change;
  if (!ok || (tau2 - lo < ctl.threshold && sc.score(lo, nullptr) > 0)) {  // false convergence at the boundary: the score is positive at 0
    const double s0 = sc.score(lo, nullptr);
    r.conv.solver = 2;
    if (s0 <= 0) {
      tau2 = lo;
      r.conv.converged = true;
    } else {
      auto f = [&](double t) { return sc.score(t, nullptr); };
      RootResult rr = root_decreasing(f, lo, lo + 1.0, ctl.tau2_max, ctl.threshold * 1e-2, kRootMaxIter, &ctl.poll);
      r.conv.iterations += rr.iterations;
      r.conv.change = rr.width;
      r.conv.converged = rr.converged;
      tau2 = rr.converged ? rr.root : std::numeric_limits<double>::quiet_NaN();
      if (!rr.converged) r.conv.message = "Fisher scoring and the bracketed root-finder did not converge";
    }
    if (r.conv.converged) r.conv.message = "Fisher scoring did not converge; solved by the bracketed root-finder";
  }
  if (std::isnan(tau2)) { r.x = tau2; return r; }
  if (tau2 > lo && tau2 - lo < 1e3 * ctl.threshold && sc.score(lo, nullptr) <= 0) tau2 = lo;
  // (the guard compares with tau2 = 0 even when lo > 0, as metafor's ll0check;
  // the caller then raises the estimate to lo)
  if (tau2 > 0 && sc.has_guard()) {
    const double ll_hat = sc.guarded_loglik(tau2, ctl.threshold);
    const double ll_zero = sc.loglik_at(0.0);
    if (ll_zero - ll_hat > 1e-10 * (1 + std::fabs(tau2))) {
      tau2 = 0;
      r.conv.message = "local maximum away from 0; tau2 set to 0 (compare the profile likelihood)";
    }
  }
  r.x = tau2;
  return r;
}

// Polled once per iteration of fisher_scoring() and quasi_newton() (the glue
// checks for a user interrupt): false stops the solver, not converged.
using OptimPoll = std::function<bool()>;

struct OptimResult {
  Vec theta;
  ObjectiveEval at;  // the objective (ll, score, info, GLS fit) at theta
  Convergence conv;
};

// theta projected onto the structure's box
inline Vec project_box(const VarStructure& s, const Vec& theta) {
  Vec t = theta;
  for (int j = 0; j < t.size(); ++j) t(j) = std::min(std::max(t(j), s.lower(j)), s.upper(j));
  return t;
}

// Free parameters: not at a bound with the gradient of ll pointing outwards.
inline Eigen::VectorXi free_params(const VarStructure& s, const Vec& theta, const Vec& score) {
  Eigen::VectorXi fr(theta.size());
  int n = 0;
  for (int j = 0; j < theta.size(); ++j) {
    const bool held = (theta(j) <= s.lower(j) && score(j) <= 0) || (theta(j) >= s.upper(j) && score(j) >= 0);
    if (!held) fr(n++) = j;
  }
  fr.conservativeResize(n);
  return fr;
}

// The size of a step as the convergence tests (threshold) judge it:
// absolute for parameters up to 1 in magnitude, relative above (an absolute
// 1e-10 is below the rounding of variances of 1e3 or more).
inline double step_change(const Vec& step, const Vec& theta) {
  double c = 0;
  for (int j = 0; j < step.size(); ++j) c = std::max(c, std::fabs(step(j)) / std::max(1.0, std::fabs(theta(j))));
  return c;
}

// The second convergence test of both solvers (with Control::plateau_stop,
// fit_objective()'s boundary restarts): kPlateauIters successive
// iterations that raise the log-likelihood by at most kPlateauGain relative
// with steps within kPlateauStep (step_change) end the iteration, converged.
// Near a variance of 0 beside a correlation of +-1 the likelihood is a
// function of sqrt(v), the information there is nearly singular, and the
// steps can stay above an absolute 1e-10 at the maximum for ever.
constexpr int kPlateauIters = 3;
constexpr double kPlateauGain = 1e-12;
constexpr double kPlateauStep = 1e-7;

struct PlateauTest {
  int flat = 0;
  // true once the log-likelihood has stayed flat (see kPlateauIters)
  bool operator()(double ll_old, double ll_new, double change) {
    flat = (ll_new - ll_old <= kPlateauGain * (1 + std::fabs(ll_old)) && change <= kPlateauStep) ? flat + 1 : 0;
    return flat >= kPlateauIters;
  }
};

// Halvings of a step while the likelihood drops (bounds the line search).
constexpr int kMaxHalvings = 60;

// Successive Fisher-scoring iterations whose step had to be halved before
// Fisher scoring gives up for the quasi-Newton fallback: the expected
// information is then a poor model of the curvature (near a correlation of
// +-1, say), and scoring crawls towards the maximum in halved steps for
// hundreds of iterations where the quasi-Newton solver takes tens.
constexpr int kFisherHalvedIters = 10;

// Relative slack of "the likelihood did not drop" (rounding of ll).
constexpr double kLLSlack = 1e-13;

// Relative size (to the largest eigenvalue) below which an eigenvalue of
// the Fisher information counts as 0: the direction is not identified at
// this theta (at metafor's default start of an HCS term beside the study's
// own ~ 1 | study term, say, dM/dsigma2 is a combination of the HCS term's
// dM/dtau2 and dM/drho), and the scoring step leaves it alone.
constexpr double kInfoRankTol = 1e-12;

// The Fisher-scoring direction du = I^+ u: by Cholesky where I is well
// conditioned; else, where I is positive semi-definite to within
// kInfoRankTol, the minimum-norm solution over its eigenvectors of
// eigenvalue above kInfoRankTol times the largest (u lies in that range: a
// combination c with sum_j c_j dM/dtheta_j = 0 has c'I = 0 and c'u = 0).
// Whether a nearly singular I is factorised or not is then no longer a
// matter of rounding (the block and sparse objectives, equal to 1e-10, took
// different paths).  false: I has a clearly negative eigenvalue.
inline bool scoring_direction(const Mat& I, const Vec& u, Vec& du) {
  Eigen::LLT<Mat> llt(I);
  if (llt.info() == Eigen::Success && llt.rcond() > kInfoRankTol) {
    du = llt.solve(u);
    return true;
  }
  Eigen::SelfAdjointEigenSolver<Mat> es(I);
  if (es.info() != Eigen::Success) return false;
  const Vec& ev = es.eigenvalues();  // increasing
  const double top = ev(ev.size() - 1);
  if (!(top > 0) || ev(0) < -kInfoRankTol * top) return false;
  const Vec c = es.eigenvectors().transpose() * u;
  Vec z = Vec::Zero(ev.size());
  for (int j = 0; j < ev.size(); ++j)
    if (ev(j) > kInfoRankTol * top) z(j) = c(j) / ev(j);
  du = es.eigenvectors() * z;
  return true;
}

template <class Obj>
OptimResult fisher_scoring(Obj& obj, const Vec& theta0, const Control& ctl, const OptimPoll& poll = OptimPoll()) {
  const VarStructure& s = obj.structure();
  const int q = obj.n_theta();
  OptimResult r;
  r.conv.solver = 1;
  r.theta = project_box(s, theta0);
  if (!obj.evaluate(r.theta, kObjAll, r.at)) {
    r.conv.converged = false;
    r.conv.message = "the marginal covariance is not positive definite at the starting values";
    return r;
  }
  double change = ctl.threshold + 1;
  int iter = 0;
  ObjectiveEval cand;
  PlateauTest plateau;
  int halved = 0;  // successive iterations with a halved step
  while (change > ctl.threshold) {
    if (++iter > ctl.maxiter) {
      r.conv.converged = false;
      r.conv.message = "Fisher scoring did not converge within maxiter";
      break;
    }
    if (poll && !poll()) {
      r.conv.converged = false;
      r.conv.message = "interrupted";
      break;
    }
    const Eigen::VectorXi fr = free_params(s, r.theta, r.at.score);
    Vec d = Vec::Zero(q);
    if (fr.size() > 0) {
      Vec du;
      if (!scoring_direction(r.at.info(fr, fr), r.at.score(fr), du)) {
        r.conv.converged = false;
        r.conv.message = "Fisher information not positive definite";
        break;
      }
      d(fr) = du;
    }
    d *= ctl.stepadj;
    if (!d.allFinite()) {
      r.conv.converged = false;
      r.conv.message = "non-finite Fisher-scoring step";
      break;
    }
    // convergence is judged on the full (projected) step, not on a halved one
    const double full_change = step_change(project_box(s, r.theta + d) - r.theta, r.theta);
    Vec next = project_box(s, r.theta + d);
    int h = 0;
    bool good = obj.evaluate(next, kObjAll, cand);
    // (the halved steps need only the likelihood; the accepted one then all)
    while ((!good || cand.ll < r.at.ll - kLLSlack * (1 + std::fabs(r.at.ll))) && h < kMaxHalvings) {
      d /= 2;
      ++h;
      next = project_box(s, r.theta + d);
      good = obj.evaluate(next, kObjLL, cand);
    }
    if (h > 0 && good) good = obj.evaluate(next, kObjAll, cand);
    if (!good) {
      r.conv.converged = false;
      r.conv.message = "the marginal covariance is not positive definite along the Fisher-scoring step";
      break;
    }
    if (cand.ll < r.at.ll - kLLSlack * (1 + std::fabs(r.at.ll))) {
      // no step along the scoring direction increases the likelihood: not an optimum
      // (the caller falls back to the quasi-Newton optimiser)
      r.conv.converged = false;
      r.conv.message = "step-halving found no increase of the likelihood along the Fisher-scoring step";
      break;
    }
    change = full_change;
    r.theta = next;
    const bool flat = ctl.plateau_stop && plateau(r.at.ll, cand.ll, full_change);
    std::swap(r.at, cand);
    if (flat) break;
    halved = h > 0 ? halved + 1 : 0;
    if (halved >= kFisherHalvedIters && change > ctl.threshold) {
      r.conv.converged = false;
      r.conv.message = "the step was halved in " + std::to_string(kFisherHalvedIters) + " successive iterations";
      break;
    }
  }
  r.conv.iterations = std::min(iter, ctl.maxiter);
  r.conv.change = change;
  return r;
}

template <class Obj>
OptimResult quasi_newton(Obj& obj, const Vec& theta0, const Control& ctl, const OptimPoll& poll = OptimPoll()) {
  const VarStructure& s = obj.structure();
  const int q = obj.n_theta();
  OptimResult r;
  r.conv.solver = kSolverQuasiNewton;
  r.theta = project_box(s, theta0);
  if (!obj.evaluate(r.theta, kObjAll, r.at)) {
    r.conv.converged = false;
    r.conv.message = "the marginal covariance is not positive definite at the starting values";
    return r;
  }
  // minimise f = -ll, gradient g = -score; inverse Hessian H started at the
  // inverse Fisher information (identity when it is not positive definite)
  Mat H = Mat::Identity(q, q);
  {
    Eigen::LLT<Mat> llt(r.at.info);
    if (llt.info() == Eigen::Success) H = llt.solve(Mat::Identity(q, q));
  }
  Vec g = -r.at.score;
  double change = ctl.threshold + 1;
  int iter = 0;
  bool conv = false;
  ObjectiveEval cand;
  PlateauTest plateau;
  while (true) {
    if (++iter > ctl.maxiter) { r.conv.message = "quasi-Newton did not converge within maxiter"; break; }
    if (poll && !poll()) { r.conv.message = "interrupted"; break; }
    const Eigen::VectorXi fr = free_params(s, r.theta, r.at.score);
    const double pg = fr.size() > 0 ? g(fr).cwiseAbs().maxCoeff() : 0.0;  // projected gradient
    if (pg <= ctl.threshold * (1 + std::fabs(r.at.ll))) { conv = true; break; }
    // direction on the free parameters: -H g; with parameters held at a
    // bound, -(B_ff)^-1 g_f for the Hessian approximation B = H^-1 (the
    // Newton step of the reduced problem; the block H_ff of the inverse is
    // not its inverse, and where a held parameter is strongly correlated
    // with free ones, e.g. a variance at 0 confounded with a term's
    // variances, steps by H_ff crawled for a thousand iterations)
    Vec d = Vec::Zero(q);
    bool reduced = false;
    if (fr.size() > 0 && fr.size() < q) {
      Eigen::LDLT<Mat> hl(H);
      if (hl.info() == Eigen::Success && hl.isPositive()) {
        const Mat B = hl.solve(Mat::Identity(q, q));
        Eigen::LLT<Mat> bl(B(fr, fr));
        if (bl.info() == Eigen::Success) {
          const Vec df = bl.solve(g(fr));
          if (df.allFinite()) {
            d(fr) = -df;
            reduced = true;
          }
        }
      }
    }
    if (!reduced) d(fr) = -(H(fr, fr) * g(fr));
    if (!(g.dot(d) < 0)) {  // not a descent direction: restart from steepest descent
      H.setIdentity();
      d.setZero();
      d(fr) = -g(fr);
    }
    // backtracking along the projected path theta(t) = P(theta + t d)
    double t = 1;
    Vec next;
    bool accepted = false;
    for (int h = 0; h < kMaxHalvings; ++h, t /= 2) {
      next = project_box(s, r.theta + t * d);
      if (obj.evaluate(next, kObjLL | kObjScore, cand) &&
          -cand.ll <= -r.at.ll + 1e-4 * g.dot(next - r.theta) + kLLSlack * (1 + std::fabs(r.at.ll))) {
        accepted = true;
        break;
      }
    }
    if (!accepted) { r.conv.message = "quasi-Newton line search failed"; break; }
    const Vec step = next - r.theta;
    const Vec gn = -cand.score;
    const Vec yk = gn - g;
    const double sy = step.dot(yk);
    if (sy > 1e-12 * step.norm() * yk.norm()) {  // BFGS update of the inverse Hessian
      const double rho = 1.0 / sy;
      const Mat E = Mat::Identity(q, q) - rho * step * yk.transpose();
      H = E * H * E.transpose() + rho * step * step.transpose();
    }
    change = step_change(step, r.theta);
    r.theta = next;
    const bool flat = ctl.plateau_stop && plateau(r.at.ll, cand.ll, change);
    std::swap(r.at, cand);
    g = gn;
    if (change <= ctl.threshold || flat) { conv = true; break; }
  }
  // the information at the optimum (for the standard errors)
  obj.evaluate(r.theta, kObjAll, r.at);
  r.conv.converged = conv;
  r.conv.iterations = std::min(iter, ctl.maxiter);
  r.conv.change = change;
  return r;
}

}  // namespace metafast
