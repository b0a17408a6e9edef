// Heterogeneity (tau^2) estimators: one kernel per estimator behind
// estimate_tau2().  All work in O(k p^2) through Wls (wls.hpp).
//
// As in metafor, tau^2 is estimated from the mean-centred outcomes (this only
// matters for models without an intercept), and estimates are truncated at 0.
//
// Sources (formula and standard error of each estimator):
//   DL   DerSimonian & Laird 1986, Control Clin Trials 7:177; Raudenbush 2009
//        (generalised to meta-regression); SE: Viechtbauer 2007, Stat Med 26:37
//   HE   Hedges 1983, Psychol Bull 93:388 (method of moments, OLS residuals)
//   HS   Hunter & Schmidt 2004; HSk: Brannick et al. 2019, Res Synth Methods 10:268
//   SJ   Sidik & Jonkman 2005, J Biopharm Stat 15:823
//   ML, REML  Fisher scoring: Harville 1977; Viechtbauer 2005, J Educ Behav Stat 30:261
//   EB   Morris 1983, JASA 78:47; Berkey et al. 1995
//   PM   Paule & Mandel 1982, J Res Natl Bur Stand 87:377 (generalised Q = k - p)
//   PMM  median-unbiased PM: generalised Q = the median of chi^2_{k-p}
//        (Viechtbauer 2021, metafor's documentation of rma.uni)
//   GENQ generalised Q with fixed user weights a: DerSimonian & Kacker 2007,
//        Contemp Clin Trials 28:105; SE as metafor (Viechtbauer 2007's form)
//   GENQM its median-unbiased version: the tau2 at which the observed Q_a is
//        the median of its distribution, a positive combination of chi^2_1
//        variables (Jackson 2013, Res Synth Methods 4:220; quadform.hpp)
//   DLIT iterated DL: the GENQ step with a = 1/(v + tau2) repeated to a fixed
//        point (DerSimonian & Kacker 2007); SJIT iterated SJ (Sidik &
//        Jonkman 2005) -- both fixed points solve the PM equation
#pragma once

#include <cmath>
#include <string>

#include "core/model.hpp"
#include "core/objective.hpp"
#include "core/optimise.hpp"
#include "core/quadform.hpp"
#include "core/roots.hpp"
#include "core/wls.hpp"

namespace metafast {

struct Tau2Estimate {
  double tau2 = 0.0;
  double se = std::numeric_limits<double>::quiet_NaN();
  Convergence conv;
};

inline Vec inv_var_weights(const VecRef& v, double tau2) {
  return (v.array() + tau2).inverse().matrix();
}

// Generalised Q statistic y'P(tau2)y.
inline double q_gen(const MatRef& X, const VecRef& y, const VecRef& v, double tau2) {
  return Wls(X, y, inv_var_weights(v, tau2)).rss;
}

// sqrt(a + b t + c t^2) for t >= 0, without overflow of t^2 (tau2 near
// 4e303 at yi near 1e152: the closed forms' SEs were Inf; issue 18).
inline double sqrt_quad(double a, double b, double c, double t) {
  if (!(t > 1)) return std::sqrt(a + b * t + c * t * t);
  return t * std::sqrt(a / t / t + b / t + c);
}

// Shared SE of the moment estimators with inverse-variance weights
// (metafor's DL and HS forms): sqrt(a^2 (2(k-p) + 4 t trP + 2 t^2 trPP)).
inline double se_moment(double scale, int dfree, double tau2, double trP, double trPP) {
  const double t = std::max(tau2, 0.0);
  return scale * sqrt_quad(2.0 * dfree, 4.0 * trP, 2.0 * trPP, t);
}

// sqrt(2 tr(PVPV) + 4 t tr(PVP) + 2 t^2 tr(PP)): the variance of the
// generalised Q_a = y'P_a y at tau2 = t, for any diagonal weights of f (SJ, GENQ).
inline double sd_qgen(const Wls& f, const MatRef& X, const VecRef& v, double t) {
  t = std::max(t, 0.0);
  const Vec one = Vec::Ones(X.rows());
  return sqrt_quad(2.0 * f.tr_PDPD(X, v), 4.0 * f.tr_PDPE(X, one, v), 2.0 * f.tr_PP(X), t);
}

// The SE that metafor gives EB, PM, PMM, DLIT and SJIT: sqrt(2 k^2 / (k - p)) / sum 1/(v + tau2).
inline double se_eb_form(int k, int p, const VecRef& v, double tau2) {
  return std::sqrt(2.0 * k * k / (k - p)) / (v.array() + tau2).inverse().sum();
}

// The method-of-moments step of the generalised Q with the weights of f
// (DerSimonian & Kacker 2007): E[Q_a] = tr(P_a V) + tau2 tr(P_a), solved for
// tau2 at the observed Q_a (untruncated).
inline double moment_step(const Wls& f, const MatRef& X, const VecRef& v) {
  return (f.rss - f.tr_PD(X, v)) / f.tr_P(X);
}

inline Tau2Estimate tau2_dl(const MatRef& X, const VecRef& y, const VecRef& v, double tmin = 0.0) {
  const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
  Wls f(X, y, v.cwiseInverse());
  const double trP = f.tr_P(X);
  Tau2Estimate r;
  r.tau2 = std::max(tmin, (f.rss - (k - p)) / trP);
  r.se = se_moment(1.0 / trP, k - p, r.tau2, trP, f.tr_PP(X));
  return r;
}

inline Tau2Estimate tau2_hs(const MatRef& X, const VecRef& y, const VecRef& v, bool small_k, double tmin = 0.0) {
  const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
  Wls f(X, y, v.cwiseInverse());
  const double sw = f.w.sum(), ck = static_cast<double>(k) / (k - p);
  Tau2Estimate r;
  r.tau2 = std::max(tmin, ((small_k ? ck : 1.0) * f.rss - k) / sw);
  r.se = (small_k ? ck : 1.0) * se_moment(1.0 / sw, k - p, r.tau2, f.tr_P(X), f.tr_PP(X));
  return r;
}

// Hedges' estimator: OLS residuals, tau2 = (RSS - tr(PV)) / (k - p).
inline Tau2Estimate tau2_he(const MatRef& X, const VecRef& y, const VecRef& v, bool with_se = true, Wls* ws = nullptr,
                            double tmin = 0.0) {
  const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
  Wls local;
  Wls& f = ws ? *ws : local;
  f.w.setOnes(k);
  f.solve(X, y);
  const double trPV = f.tr_PD(X, v);
  Tau2Estimate r;
  r.tau2 = std::max(tmin, (f.rss - trPV) / (k - p));
  if (!with_se) return r;  // starting value of the iterative estimators
  const double t = r.tau2;
  r.se = sqrt_quad(2.0 * f.tr_PDPD(X, v), 4.0 * trPV, 2.0 * (k - p), t) / (k - p);
  return r;
}

inline Tau2Estimate tau2_sj(const MatRef& X, const VecRef& y, const VecRef& v, double tau2_init, double tmin = 0.0) {
  const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
  const double t0 = std::isnan(tau2_init) ? y.squaredNorm() / k : tau2_init;  // y is centred
  Wls f(X, y, inv_var_weights(v, t0));
  Tau2Estimate r;
  r.tau2 = std::max(tmin, t0 * f.rss / (k - p));
  r.se = t0 / (k - p) * sd_qgen(f, X, v, r.tau2);
  return r;
}

// ML, REML and EB: Fisher scoring on the diagonal objective (optimise.hpp:
// fisher_scoring_1d, with its fallback, boundary rules and local-maximum
// guard), started at Hedges' estimator.  start and score are workspaces
// (their storage is reused when the caller keeps them across fits).
inline Tau2Estimate tau2_likelihood(Method m, const MatRef& X, const VecRef& y, const VecRef& v, const Control& ctl,
                                    Wls& start, Wls& score) {
  const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
  DiagonalTau2Objective sc{m, X, y, v, score};
  Tau2Estimate r;
  const double tau2_start =
      std::isnan(ctl.tau2_init) ? std::max(ctl.tau2_min, tau2_he(X, y, v, false, &start).tau2)
                                 : std::max(0.0, ctl.tau2_init);
  const Optim1DResult o = fisher_scoring_1d(sc, tau2_start, ctl);
  r.conv = o.conv;
  const double tau2 = o.x;
  if (std::isnan(tau2)) { r.tau2 = tau2; return r; }
  // the estimate is at least control$tau2.min; the SE is from the information
  // at the optimiser's tau2 (which the local-maximum guard sets to 0 even when
  // tau2.min > 0: metafor's SE, before its final max(tau2.min, tau2)), the last
  // iteration's when it was evaluated within the convergence threshold of tau2
  r.tau2 = std::max(ctl.tau2_min, tau2);
  const bool guarded = tau2 == 0 && !o.conv.message.empty();
  const bool reuse = m == Method::REML && !guarded && std::fabs(sc.last_tau2 - tau2) <= ctl.threshold;
  // (not after the local-maximum guard: last_tau2 = 0 then comes from loglik_at(0), and the
  // information of the last score evaluation belongs to another tau2)
  if (!reuse) sc.f.compute_re(X, y, v, tau2);
  const Vec& w = sc.f.w;
  if (m == Method::ML) {
    r.se = std::sqrt(2.0 / w.squaredNorm());
  } else if (m == Method::REML) {
    r.se = std::sqrt(2.0 / (reuse ? sc.last_info : sc.f.tr_PP(X)));
  } else {
    r.se = std::sqrt(2.0 * k * k / (k - p)) / w.sum();
  }
  return r;
}

// Paule-Mandel: the tau2 at which the generalised Q equals target (k - p;
// PMM: the median of chi^2_{k-p}).
inline Tau2Estimate tau2_pm(const MatRef& X, const VecRef& y, const VecRef& v, const Control& ctl, double target) {
  const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
  Tau2Estimate r;
  r.conv.solver = 2;
  auto f = [&](double t) { return q_gen(X, y, v, t) - target; };
  const double lo = ctl.tau2_min;
  if (f(lo) <= 0) {
    r.tau2 = lo;
  } else {
    RootResult rr = root_decreasing(f, lo, lo + 1.0, ctl.tau2_max, ctl.threshold * 1e-2, kRootMaxIter, &ctl.poll);
    r.conv.iterations = rr.iterations;
    r.conv.change = rr.width;
    r.conv.converged = rr.converged;
    r.tau2 = rr.converged ? rr.root : std::numeric_limits<double>::quiet_NaN();
    if (!rr.converged) r.conv.message = "Paule-Mandel root-finder did not converge (raise control$tau2.max?)";
  }
  if (!std::isnan(r.tau2)) r.se = se_eb_form(k, p, v, r.tau2);
  return r;
}

// GENQ: the moment step with the user's weights a, truncated at 0.
inline Tau2Estimate tau2_genq(const MatRef& X, const VecRef& y, const VecRef& v, const VecRef& a, double tmin = 0.0) {
  Wls f(X, y, a);
  Tau2Estimate r;
  r.tau2 = std::max(tmin, moment_step(f, X, v));
  r.se = sd_qgen(f, X, v, r.tau2) / f.tr_P(X);
  return r;
}

// GENQM: the tau2 at which P(Q_a > q_obs; tau2) = 1/2.  Under tau2, Q_a =
// y'P_a y is distributed as sum_j lambda_j chi^2_1 with lambda the k - p
// non-zero eigenvalues of S P_a S, S = diag(sqrt(v + tau2)) (Jackson 2013).
// The eigenvalues need the k x k matrix P_a: formed only for this estimator
// (and the generalised Q-profile interval), which the user asks for by name.
struct GenqDistribution {
  Mat P;        // P_a = A - A X (X'AX)^-1 X'A
  double q = 0; // observed Q_a (on the outcomes given)
  int df = 0;   // k - p
  bool ok = true;
  std::string message;
  GenqDistribution(const MatRef& X, const VecRef& y, const VecRef& a) {
    Wls f(X, y, a);
    q = f.rss;
    df = static_cast<int>(X.rows() - X.cols());
    const Mat AX = a.asDiagonal() * X;
    P = -AX * f.Ainv * AX.transpose();
    P.diagonal() += a;
  }
  // P(Q_a > q; tau2)
  double upper(const VecRef& v, double tau2) {
    const Vec s = (v.array() + tau2).sqrt().matrix();
    const Mat M = s.asDiagonal() * P * s.asDiagonal();
    Eigen::SelfAdjointEigenSolver<Mat> es(M, Eigen::EigenvaluesOnly);
    const Vec& ev = es.eigenvalues();  // ascending: the df largest are the last ones
    const QuadFormTail t = qf_upper_tail(ev.data() + (ev.size() - df), df, q);
    if (!t.converged && ok) {
      ok = false;
      message = "the distribution of the generalised Q statistic could not be evaluated (series did not converge)";
    }
    return t.upper;
  }
};

inline Tau2Estimate tau2_genqm(const MatRef& X, const VecRef& y, const VecRef& v, const VecRef& a,
                               const Control& ctl) {
  GenqDistribution d(X, y, a);
  Tau2Estimate r;
  r.conv.solver = 2;
  auto f = [&](double t) { return 0.5 - d.upper(v, t); };  // decreasing in tau2
  const double lo = ctl.tau2_min;
  if (f(lo) <= 0) {
    r.tau2 = lo;
  } else {
    RootResult rr = root_decreasing(f, lo, lo + 1.0, ctl.tau2_max, ctl.threshold * 1e-2, kRootMaxIter, &ctl.poll);
    r.conv.iterations = rr.iterations;
    r.conv.change = rr.width;
    r.conv.converged = rr.converged && d.ok;
    r.tau2 = r.conv.converged ? rr.root : std::numeric_limits<double>::quiet_NaN();
    if (!d.ok) r.conv.message = d.message;
    else if (!rr.converged) r.conv.message = "GENQM root-finder did not converge (raise control$tau2.max?)";
  }
  if (!std::isnan(r.tau2)) {
    Wls f0(X, y, a);
    r.se = sd_qgen(f0, X, v, r.tau2) / f0.tr_P(X);
  }
  return r;
}

// DLIT and SJIT: fixed-point iterations from control$tau2.init (DLIT: 0; SJIT:
// the mean square of the centred outcomes, as SJ), stopping when the change is
// at most control$threshold; at most control$maxiter steps, else not converged
// (tau2 NaN with a message, so that a fallback chain moves on, as in metafor).
// DLIT: tau2 <- max(0, moment step at weights 1/(v + tau2));
// SJIT: tau2 <- tau2 Q(tau2) / (k - p).
inline Tau2Estimate tau2_fixed_point(Method m, const MatRef& X, const VecRef& y, const VecRef& v, const Control& ctl,
                                     Wls& f) {
  const int k = static_cast<int>(y.size()), p = static_cast<int>(X.cols());
  const bool sj = m == Method::SJIT;
  double t = !std::isnan(ctl.tau2_init) ? ctl.tau2_init : (sj ? y.squaredNorm() / k : 0.0);  // y is centred
  Tau2Estimate r;
  r.conv.solver = 4;
  r.conv.converged = false;
  for (int it = 1; it <= ctl.maxiter; ++it) {
    if (!ctl.poll()) { r.conv.message = "interrupted"; r.tau2 = std::numeric_limits<double>::quiet_NaN(); return r; }
    f.compute_re(X, y, v, t);
    const double tn = sj ? t * f.rss / (k - p) : std::max(ctl.tau2_min, moment_step(f, X, v));
    r.conv.iterations = it;
    r.conv.change = std::fabs(tn - t);
    t = tn;
    if (!(r.conv.change > ctl.threshold) || (ctl.ulp_floor && r.conv.change <= 8 * kEpsTau2 * std::fabs(t))) {
      r.conv.converged = std::isfinite(t);
      break;
    }
  }
  if (!r.conv.converged) {
    r.tau2 = std::numeric_limits<double>::quiet_NaN();
    r.conv.message = sj ? "Iterative SJ estimator did not converge" : "Iterative DL estimator did not converge";
    return r;
  }
  r.tau2 = std::max(ctl.tau2_min, t);
  r.se = se_eb_form(k, p, v, r.tau2);
  return r;
}

// The single dispatch.  y must be mean-centred by the caller.  k > p.
// start and score: optional workspaces of the likelihood-type estimators.
// a: the user's weights (GENQ, GENQM; R has checked that they are given).
inline Tau2Estimate estimate_tau2(Method m, const MatRef& X, const VecRef& y, const VecRef& v, const Control& ctl,
                                  Wls* start = nullptr, Wls* score = nullptr, const VecRef* a = nullptr) {
  if (ctl.fix_tau2) {
    Tau2Estimate r;
    r.tau2 = std::max(ctl.tau2_init, ctl.tau2_min);  // (metafor applies tau2.min to a fixed tau2 too)
    return r;
  }
  // control$tau2.min is the lower bound of every estimate; the SEs are at the
  // bounded estimate (as metafor's)
  const double tmin = ctl.tau2_min;
  switch (m) {
    case Method::EE: return Tau2Estimate{};
    case Method::DL: return tau2_dl(X, y, v, tmin);
    case Method::HE: return tau2_he(X, y, v, true, nullptr, tmin);
    case Method::HS: return tau2_hs(X, y, v, false, tmin);
    case Method::HSk: return tau2_hs(X, y, v, true, tmin);
    case Method::SJ: return tau2_sj(X, y, v, ctl.tau2_init, tmin);
    case Method::PM: return tau2_pm(X, y, v, ctl, static_cast<double>(X.rows() - X.cols()));
    case Method::PMM: return tau2_pm(X, y, v, ctl, qf_chisq_median(static_cast<int>(X.rows() - X.cols())));
    case Method::GENQ:
    case Method::GENQM: {
      if (!a || a->size() != y.size()) {
        Tau2Estimate r;
        r.tau2 = std::numeric_limits<double>::quiet_NaN();
        r.conv.converged = false;
        r.conv.message = "GENQ and GENQM need the user's weights";
        return r;
      }
      return m == Method::GENQ ? tau2_genq(X, y, v, *a, tmin) : tau2_genqm(X, y, v, *a, ctl);
    }
    case Method::DLIT:
    case Method::SJIT: {
      Wls s0;
      return tau2_fixed_point(m, X, y, v, ctl, start ? *start : s0);
    }
    default: {
      Wls s0, s1;
      return tau2_likelihood(m, X, y, v, ctl, start ? *start : s0, score ? *score : s1);
    }
  }
}

}  // namespace metafast
