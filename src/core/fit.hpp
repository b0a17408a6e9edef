// The full univariate fit: tau2 (tau2.hpp), then the fixed effects, their
// covariance (Knapp & Hartung 2003, Stat Med 22:2693, when asked), the
// heterogeneity test QE (Cochran 1954; generalised by Raudenbush 2009) and the
// (restricted) log-likelihood (Harville 1977).  O(k p^2) time, O(k p) memory.
#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "core/model.hpp"
#include "core/tau2.hpp"
#include "core/vcov.hpp"
#include "core/wls.hpp"

namespace metafast {

enum class Test : int { Z = 0, T = 1, KNHA = 2 };

struct FitResult {
  Vec beta;
  Mat vb;             // covariance of beta (scaled by s2w under Knapp-Hartung)
  double tau2 = 0;
  double se_tau2 = std::numeric_limits<double>::quiet_NaN();
  double s2w = 1;     // Knapp-Hartung scale factor
  double QE = 0;      // residual heterogeneity statistic (weights 1/vi)
  double trP0 = 0;    // tr(P) at tau2 = 0, for the "typical" sampling variance
  double ll_ml = 0, ll_reml = 0, dev_ml = 0;
  Convergence conv;
  // Ill-conditioned designs only (DesignTransform; empty otherwise): the
  // coefficients and covariance of the orthonormal design and R P' of its
  // QR, for Wald statistics that double precision cannot form from beta and
  // vb (wald_qm_fit()), and D (column j of X is Q RPt(:, j) / D_j).  Each
  // is invariant to the outcomes' scale factor.
  Vec beta_t;
  Mat vb_t;
  Mat RPt;
  Vec D_t;
};

inline Vec centred(const Vec& y) { return (y.array() - y.mean()).matrix(); }

// Storage that the fits of a resampling run reuse (one per thread): once the
// sizes are set, a refit of a model with p <= 2 allocates nothing.
struct FitWorkspace {
  Vec yc;      // mean-centred outcomes
  Wls start;   // the starting value (Hedges' estimator); free after the fit
  Wls score;   // the scoring iterations
  Wls fe;      // the fixed effects at the estimate
};

// log det(X'X), needed for the REML likelihood (metafor's REMLf = TRUE).
inline double logdet_XtX(const MatRef& X) {
  const Mat A = crossprod_diag(X, Vec::Ones(X.rows()));
  Eigen::LLT<Mat> llt(A);
  const Mat L = llt.matrixL();
  return 2.0 * L.diagonal().array().log().sum();
}

// Fixed effects and their covariance for a given tau2; fw receives the
// inverse-variance weighted fit at tau2.  The covariance is chosen in one
// place (vcov.hpp): model-based A^{-1}, or the user-weight sandwich, each
// scaled by s2w under Knapp-Hartung.
inline void fixed_effects(const ProblemView& pr, double tau2, Test test, FitResult& out, Wls& fw) {
  const int k = pr.k(), p = pr.p();
  fw.compute_re(pr.X, pr.y, pr.v, tau2);
  if (!pr.has_weights()) {
    out.beta = fw.beta;
    vcov_model(fw.Ainv, out.vb);
  } else {
    // user weights a: beta = (X'AX)^-1 X'Ay, sandwich with M = diag(vi + tau2)
    Wls fa(pr.X, pr.y, pr.weights);
    out.beta = fa.beta;
    const Vec m = (pr.v.array() + tau2).matrix();
    vcov_user_weights(pr.X, pr.weights, m, fa.Ainv, out.vb);
  }
  out.s2w = 1;
  if (test == Test::KNHA) {
    out.s2w = knha_scale(fw.rss, k, p);
    vcov_knha_scale(out.s2w, out.vb);
  }
}

// How much of the fit to compute: Lean, tau2 and the fixed effects
// (permutation tests, simulation); Heterogeneity, also QE and tr(P) at
// tau2 = 0 for I^2 and H^2 (bootstrap, case deletion); Full, also the
// (restricted) log-likelihoods (rma()).
enum class Detail : int { Lean = 0, Heterogeneity = 1, Full = 2 };

// Everything rma() reports (up to detail), written into out with the storage of ws.
inline void fit_model_into(const ProblemView& pr, Method m, const Control& ctl, Test test, Detail detail,
                           FitWorkspace& ws, FitResult& out) {
  const int k = pr.k(), p = pr.p();
  out.tau2 = 0;
  out.se_tau2 = std::numeric_limits<double>::quiet_NaN();
  out.s2w = 1;
  out.QE = out.trP0 = out.ll_ml = out.ll_reml = out.dev_ml = 0;
  out.conv = Convergence();
  ws.yc.resize(k);
  ws.yc.array() = pr.y.array() - pr.y.mean();
  const Vec& yc = ws.yc;
  if (m != Method::EE && k > p) {
    Tau2Estimate est = estimate_tau2(m, pr.X, yc, pr.v, ctl, &ws.start, &ws.score, &pr.weights);
    out.tau2 = est.tau2;
    out.se_tau2 = est.se;
    out.conv = est.conv;
  } else if (ctl.fix_tau2 && m != Method::EE) {
    out.tau2 = ctl.tau2_init;
  }
  if (std::isnan(out.tau2)) {
    out.beta.resize(0);
    return;
  }
  Wls& fw = ws.fe;
  fixed_effects(pr, out.tau2, test, out, fw);
  if (detail == Detail::Lean) return;
  if (k > p) {
    // QE with weights 1/vi (Cochran 1954) on the mean-centred outcomes
    Wls& f0 = ws.start;
    f0.w = pr.v.cwiseInverse();
    f0.solve(pr.X, yc);
    out.QE = std::max(0.0, f0.rss);
    out.trP0 = f0.tr_P(pr.X);
  }
  if (detail == Detail::Heterogeneity) return;
  const double two_pi = 2.0 * M_PI;
  // with inverse-variance weights fw holds the residuals of out.beta already
  const double rss_f = pr.has_weights()
                           ? (fw.w.array() * (pr.y - pr.X * out.beta).array().square()).sum()
                           : fw.rss;
  const double sum_log_m = (pr.v.array() + out.tau2).log().sum();
  out.ll_ml = -0.5 * k * std::log(two_pi) - 0.5 * sum_log_m - 0.5 * rss_f;
  out.ll_reml = -0.5 * (k - p) * std::log(two_pi) + 0.5 * logdet_XtX(pr.X) - 0.5 * sum_log_m -
                0.5 * fw.logdet_A() - 0.5 * rss_f;
  // deviance against the saturated model: sum of log N(y_i; y_i, v_i)
  const double ll_sat = -0.5 * (pr.v.array() * two_pi).log().sum();
  out.dev_ml = (k > p) ? -2.0 * (out.ll_ml - ll_sat) : 0.0;
}

// ---- Badly scaled, offset or nearly collinear designs ----
//
// The kernels solve normal equations X'WX b = X'Wy, which lose about
// log10(cond(X)^2) digits: a moderator x + 1e6 beside the intercept, or two
// nearly collinear columns, lose most of them, and a column of magnitude 1e-200
// or 1e200 under- or overflows X'W^3X.  Every quantity of the fit except beta
// and its covariance depends on X only through its column space, so such a
// design is fitted as X~ = X T with orthonormal columns (Q of the pivoted QR
// of the column-scaled design, X D P = Q R, T = D P R^-1, D exact powers of
// two), and beta = T b~, vb = T vb~ T' (ll_REML is invariant: log det X'X and
// log det X'WX change by the same 2 log |det T|).  The check is one pass over X
// for the unweighted cross-products (no extra pass for an intercept-only X):
// column root-mean-squares within [2^-30, 2^30] and the smallest pivot of the
// Cholesky factor of the unit-diagonal X'X at least kDesignPivotMin (a
// column's distance from the span of the others relative to its length)
// keep the kernels' normal equations.
//
// The bound was 1e-3 until the block engine's Fisher scoring was seen to
// stall on the rounding noise of such designs: REML's tr(P G) subtracts
// terms that grow as 1 / pivot^2, and the convergence test is an absolute
// 1e-10 on theta.  rma.mv(yi, vi, mods = ~ year, random = ~ 1 |
// district/school, data = dat.konstantopoulos2011) (year ~ 1990 +- 10: pivot
// 5e-3) ran 1000 iterations, then quasi-Newton: 0.8 s instead of 3 ms, sigma2
// off by 1e-9; it still stalled at pivot 1e-2 and converged at 2e-2.  The
// transform costs one QR of the k x p design per fit.
constexpr double kDesignPivotMin = 0.1;
inline bool design_ill_conditioned(const MatRef& X) {
  const Eigen::Index p = X.cols(), k = X.rows();
  if (k == 0 || p == 0) return false;
  if (p == 1) {
    const double m = X.col(0).cwiseAbs().maxCoeff();
    return m > 0 && !(m >= 0x1p-30 && m <= 0x1p30);
  }
  const Mat G = crossprod_diag(X, Vec::Ones(k));
  const double lo = 0x1p-60 * static_cast<double>(k), hi = 0x1p60 * static_cast<double>(k);
  Vec d(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    if (!(G(j, j) >= lo && G(j, j) <= hi)) return true;  // (also NaN/Inf)
    d(j) = 1.0 / std::sqrt(G(j, j));
  }
  const Mat Gn = d.asDiagonal() * G * d.asDiagonal();
  Eigen::LLT<Mat> llt(Gn);
  if (llt.info() != Eigen::Success) return true;
  return llt.matrixLLT().diagonal().minCoeff() < kDesignPivotMin;
}

// X~ = X T (orthonormal columns) and T, for a design that design_ill_conditioned().
struct DesignTransform {
  Mat Xt;  // k x p
  Mat T;   // p x p
  Mat RPt;  // R P' (p x p): column j of X is Q RPt(:, j) / D_j
  Vec D;    // the exact column scales (powers of two)
  explicit DesignTransform(const MatRef& X) {
    const Eigen::Index k = X.rows(), p = X.cols();
    D.resize(p);
    for (Eigen::Index j = 0; j < p; ++j) {
      const double m = X.col(j).cwiseAbs().maxCoeff();
      D(j) = m > 0 && std::isfinite(m) ? std::exp2(-std::round(std::log2(m))) : 1.0;  // exact
    }
    const Mat XD = X * D.asDiagonal();
    Eigen::ColPivHouseholderQR<Mat> qr(XD);
    Xt = Mat::Identity(k, p);
    Xt.applyOnTheLeft(qr.householderQ());
    const Mat R = qr.matrixQR().topLeftCorner(p, p).template triangularView<Eigen::Upper>();
    const Mat Rinv = R.template triangularView<Eigen::Upper>().solve(Mat::Identity(p, p));
    T = D.asDiagonal() * (qr.colsPermutation() * Rinv);
    RPt = R * qr.colsPermutation().transpose();
  }
  void map_back(Vec& beta, Mat& vb) const {
    if (beta.size() == T.cols()) beta = T * beta;
    if (vb.rows() == T.cols()) vb = T * vb * T.transpose();
  }
};

// Outcomes far from unit scale (median vi outside [1e-4, 1e4]) are fitted
// after an exact rescaling by a power of two, y / s and v / s^2: the solvers'
// convergence thresholds are absolute, and sums of squared weights under- or
// overflow at magnitudes such as 1e-150 or 1e100.  The model is scale-
// equivariant, so the results are scaled back exactly (a power of two).
inline double scale_of(const VecRef& v) {
  if (v.size() == 0 || (v.minCoeff() >= 1e-4 && v.maxCoeff() <= 1e4)) return 1.0;  // the usual case, no sort
  Vec s = v;
  const Eigen::Index mid = s.size() / 2;
  std::nth_element(s.data(), s.data() + mid, s.data() + s.size());
  double med = s(mid);
  if (s.size() % 2 == 0) med = 0.5 * (med + *std::max_element(s.data(), s.data() + mid));
  if (!std::isfinite(med) || med <= 0 || (med >= 1e-4 && med <= 1e4)) return 1.0;
  return std::exp2(std::round(std::log2(med) / 2.0));
}

// The scale of the outcomes as well (issue 18): when the spread of y is far
// beyond sqrt(v) (yi near 1e150 with vi near 1, or vi near 1e-300 with yi
// near 1), tau2 is of the order of the squared spread, and the scale of v
// alone would put tau2 / s^2 at 1e300.  Then s follows the half-range h of y,
// 2^round(log2 h), clamped so that the rescaled data stay representable:
// v / s^2 stays a normal number (min v / s^2 >= 2^-1020), the equal-effects
// products w y = y / v keep below 2^1000, and y / s keeps below 2^1020.  The
// usual case (h / scale_of(v) <= 2^20) returns scale_of(v) after one pass.
inline double scale_of(const VecRef& y, const VecRef& v) {
  const double sv = scale_of(v);
  if (y.size() == 0) return sv;
  const double ymin = y.minCoeff(), ymax = y.maxCoeff();
  const double h = ymax / 2 - ymin / 2;  // (no overflow)
  if (!std::isfinite(h) || !(h > 0) || h <= sv * 0x1p20) return sv;
  double vmin = HUGE_VAL;
  for (Eigen::Index i = 0; i < v.size(); ++i) if (v(i) > 0 && v(i) < vmin) vmin = v(i);
  const double lymax = std::log2(std::max(std::abs(ymin), std::abs(ymax)));
  double ls = std::round(std::log2(h));
  if (std::isfinite(vmin)) {
    const double lv = std::log2(vmin);
    ls = std::min(ls, std::floor((lv + 1020) / 2));
    ls = std::min(ls, std::floor(1000 + lv - lymax));
  }
  ls = std::max(ls, std::ceil(lymax - 1020));
  return std::exp2(ls);
}

// User weights enter only through ratios (beta, its sandwich covariance,
// GENQ/GENQM and the leverages are invariant under a = c a), but products such
// as a^2 (v + tau2) under- or overflow when the weights are near 1e-200 or
// 1e200.  weight_scale(a) is an exact power of two c with c max(a) in [1, 2),
// or 1 when max(a) is within [2^-32, 2^32] (the usual case: no copy).
inline double weight_scale(const VecRef& a) {
  if (a.size() == 0) return 1.0;
  const double mx = a.maxCoeff();
  if (!(mx > 0) || !std::isfinite(mx) || (mx >= 0x1p-32 && mx <= 0x1p32)) return 1.0;
  return std::exp2(-std::floor(std::log2(mx)));
}

// fit_model_into() on the rescaled problem (y / s, v / s^2, user weights times
// weight_scale()), with every result mapped back to the original scale.
inline void fit_model_scaled_impl(const ProblemView& pr, Method m, const Control& ctl, Test test, Detail detail,
                                  double s, FitWorkspace& ws, FitResult& out) {
  const double cw = weight_scale(pr.weights);
  const bool tx = design_ill_conditioned(pr.X);
  if (out.RPt.size()) {  // (a FitResult reused by a resampling run)
    out.RPt.resize(0, 0);
    out.beta_t.resize(0);
    out.vb_t.resize(0, 0);
    out.D_t.resize(0);
  }
  if (s == 1.0 && cw == 1.0 && !tx) { fit_model_into(pr, m, ctl, test, detail, ws, out); return; }
  const double s2 = s * s;
  Problem sc;
  sc.y = pr.y / s;
  sc.v = pr.v / s2;
  std::unique_ptr<DesignTransform> dt;
  if (tx) {
    dt.reset(new DesignTransform(pr.X));
    sc.X = dt->Xt;
  } else {
    sc.X = pr.X;
  }
  sc.weights = pr.weights * cw;
  Control c = ctl;
  c.tau2_init /= s2;
  c.tau2_min /= s2;
  c.tau2_max = std::min(c.tau2_max / s2, 1e300);  // (a bracket end of 1e8 / 1e-300 would overflow)
  c.ulp_floor = s != 1.0 && s != scale_of(pr.v);  // (the spread's scale: Control::ulp_floor)
  fit_model_into(sc, m, c, test, detail, ws, out);
  if (dt && out.beta.size() == pr.p()) {  // (also lean refits: permutation tests' QM)
    out.beta_t = out.beta;
    out.vb_t = out.vb;
    out.RPt = dt->RPt;
    out.D_t = dt->D;
  }
  if (dt) dt->map_back(out.beta, out.vb);
  if (s == 1.0) return;
  out.beta *= s;
  out.vb *= s2;
  out.tau2 *= s2;
  out.se_tau2 *= s2;
  out.trP0 /= s2;
  out.conv.change *= s2;
  // log-likelihoods of y = s y': the Jacobian, -log(s) per observation
  // (REML: per error contrast, k - p); QE, s2w and the deviance are invariant
  if (detail == Detail::Full) {
    out.ll_ml -= pr.k() * std::log(s);
    out.ll_reml -= (pr.k() - pr.p()) * std::log(s);
  }
}

// The estimators whose equations weigh by 1/(v + tau2) only, and which
// fail to converge when tau2 / s^2 is near 1e300 (ML, REML, EB: Fisher
// scoring; PM, PMM: the root of the generalised Q; DLIT, SJIT: fixed-point
// iterations, whose tr(P) lost its sum of w^2 to underflow and converged to
// the wrong point; SJ, whose weights 1/(v + mean square of y) near 1e-304
// gave tau2 = 0 with moderators at yi near 1e152): they are fitted at the scale of the outcomes' spread
// (scale_of(y, v)); DLIT's first step, DL at tau2 = 0 (weights 1/v), at
// the scale of v (fit_model_scaled()).  The others use sums of powers of
// 1/v (DL: sum(1/v^2)), which overflow when v / s^2 is tiny: the scale of v.
inline double scale_for(Method m, const VecRef& y, const VecRef& v) {
  const bool spread = m == Method::ML || m == Method::REML || m == Method::PM || m == Method::PMM ||
                      m == Method::EB || m == Method::DLIT || m == Method::SJIT || m == Method::SJ;
  return spread ? scale_of(y, v) : scale_of(v);
}

// fit_model_scaled_impl(); when s is not the scale of v (scale_for()), QE
// and tr(P0), which weigh by 1/v, are computed again at the scale of v (at
// v / s^2 near 1e-300 the weights 1/v overflow).
inline void fit_model_scaled_tail(const ProblemView& pr, Detail detail, double s, FitWorkspace& ws, FitResult& out) {
  if (detail == Detail::Lean || pr.k() <= pr.p() || std::isnan(out.tau2)) return;
  const double sv = scale_of(pr.v);
  if (s == sv) return;
  const double sv2 = sv * sv;
  Vec yc = pr.y / sv;
  yc.array() -= yc.mean();
  Wls& f0 = ws.start;
  f0.w = (pr.v / sv2).cwiseInverse();
  if (design_ill_conditioned(pr.X)) {
    const DesignTransform dt(pr.X);
    f0.solve(dt.Xt, yc);
    out.trP0 = f0.tr_P(dt.Xt) / sv2;
  } else {
    f0.solve(pr.X, yc);
    out.trP0 = f0.tr_P(pr.X) / sv2;
  }
  out.QE = std::max(0.0, f0.rss);
}

inline void fit_model_scaled(const ProblemView& pr, Method m, const Control& ctl, Test test, Detail detail,
                             double s, FitWorkspace& ws, FitResult& out) {
  if (m == Method::DLIT && !ctl.fix_tau2 && std::isnan(ctl.tau2_init) && pr.k() > pr.p() && s != scale_of(pr.v)) {
    // DLIT's iteration from tau2 = 0: its first step is DL (sums of 1/v^2,
    // which overflow at the spread's scale when v is tiny), computed at the
    // scale of v; the iteration goes on from there (the same sequence)
    fit_model_scaled_impl(pr, Method::DL, ctl, test, Detail::Lean, scale_of(pr.v), ws, out);
    if (std::isfinite(out.tau2)) {
      Control c = ctl;
      c.tau2_init = std::max(ctl.tau2_min, out.tau2);
      fit_model_scaled_impl(pr, m, c, test, detail, s, ws, out);
      out.conv.iterations += 1;
      return fit_model_scaled_tail(pr, detail, s, ws, out);
    }
  }
  if ((m == Method::DL || m == Method::HE || m == Method::HS || m == Method::HSk || m == Method::GENQ) &&
      !ctl.fix_tau2 && pr.k() > pr.p()) {
    // the closed forms (sums of powers of 1/v) at the scale of v; when the
    // outcomes spread far beyond sqrt(v) (yi near 1e152, vi near 0.1: tau2
    // near 4e303), the fixed effects at that tau2 (weights 1/(v + tau2) near
    // 1e-304, whose products underflow) at the spread's scale (issue 18)
    const double sy = scale_of(pr.y, pr.v);
    if (sy != s) {
      fit_model_scaled_impl(pr, m, ctl, test, detail, s, ws, out);
      if (std::isfinite(out.tau2)) {
        const double tau2 = out.tau2, se = out.se_tau2;
        const Convergence conv = out.conv;
        Control c = ctl;
        c.fix_tau2 = true;
        c.tau2_init = tau2;
        fit_model_scaled_impl(pr, m, c, test, detail, sy, ws, out);
        out.tau2 = tau2;
        out.se_tau2 = se;
        out.conv = conv;
        return fit_model_scaled_tail(pr, detail, sy, ws, out);
      }
      return fit_model_scaled_tail(pr, detail, s, ws, out);
    }
  }
  fit_model_scaled_impl(pr, m, ctl, test, detail, s, ws, out);
  fit_model_scaled_tail(pr, detail, s, ws, out);
}

inline FitResult fit_model(const ProblemView& pr, Method m, const Control& ctl, Test test,
                           Detail detail = Detail::Full) {
  FitWorkspace ws;
  FitResult out;
  fit_model_into(pr, m, ctl, test, detail, ws, out);
  return out;
}

// Full column rank by column-pivoted Householder QR (relative pivot
// threshold 1e-7, the tolerance lm() uses to flag aliased coefficients).
// What every refit of a resampling or case-deletion run shares.
struct RefitSpec {
  Method method = Method::REML;
  Test test = Test::Z;
  Control ctl;
};

// Also false for fewer rows than columns, including no rows at all.
inline bool full_column_rank(const MatRef& X) {
  if (X.rows() < X.cols() || X.rows() == 0) return false;
  if (X.cols() == 1) return X.col(0).cwiseAbs().maxCoeff() > 0;
  // columns scaled exactly by powers of two to unit magnitude: a column of
  // 1e-200 next to an intercept is not a zero column (the threshold is
  // relative to the largest pivot)
  Mat XD = X;
  for (Eigen::Index j = 0; j < XD.cols(); ++j) {
    const double m = XD.col(j).cwiseAbs().maxCoeff();
    if (!(m > 0)) return false;
    if (std::isfinite(m)) XD.col(j) *= std::exp2(-std::round(std::log2(m)));
  }
  Eigen::ColPivHouseholderQR<Mat> qr(XD.rows(), XD.cols());
  qr.setThreshold(1e-7);
  qr.compute(XD);
  return qr.rank() == X.cols();
}

// I^2 and H^2 from the typical sampling variance vt = (k - p) / tr(P0)
// (Higgins & Thompson 2002, Stat Med 21:1539); for the equal-effects model
// from Q: I^2 = (Q - df) / Q, H^2 = Q / df.
inline void i2_h2(Method m, int k, int p, double QE, double trP0, double tau2, double& I2, double& H2) {
  if (k <= p) { I2 = 0; H2 = 1; return; }
  const double df = k - p;
  if (m == Method::EE) {
    const double r = 100.0 * (QE - df) / QE;
    I2 = std::isnan(r) ? r : std::max(0.0, r);
    H2 = QE / df;
  } else {
    const double vt = df / trP0;
    I2 = 100.0 * tau2 / (vt + tau2);
    H2 = tau2 / vt + 1.0;
  }
}

// Wald statistic b[btt]' vb[btt,btt]^-1 b[btt] for the coefficients in idx.
inline double wald_qm(const Vec& beta, const Mat& vb, const Eigen::VectorXi& idx) {
  const Eigen::Index m = idx.size();
  if (m == 1) {  // one coefficient: z^2, without a factorisation
    const double V = vb(idx(0), idx(0));
    const double z = beta(idx(0)) / std::sqrt(V);  // (b^2 / V under- or overflows for extreme scales)
    return V > 0 ? z * z : std::numeric_limits<double>::quiet_NaN();
  }
  // b and V scaled by d_i = 1 / sqrt(V_ii) (the statistic is invariant; b^2 and
  // V_ij of coefficients of very different magnitudes would under- or overflow)
  Vec b(m), d(m);
  Mat V(m, m);
  for (Eigen::Index i = 0; i < m; ++i) {
    const double vii = vb(idx(i), idx(i));
    d(i) = vii > 0 && std::isfinite(vii) ? 1.0 / std::sqrt(vii) : 1.0;
  }
  for (Eigen::Index i = 0; i < m; ++i) {
    b(i) = beta(idx(i)) * d(i);
    for (Eigen::Index j = 0; j < m; ++j) V(i, j) = vb(idx(i), idx(j)) * d(i) * d(j);
  }
  Eigen::LLT<Mat> llt(V);
  if (llt.info() != Eigen::Success) return std::numeric_limits<double>::quiet_NaN();
  return b.dot(llt.solve(b));
}

// The Wald statistic of the coefficients idx of a fit, exact also for nearly
// collinear designs (issue 18).  There beta and vb (beta = T b~, vb = T vb~
// T', DesignTransform) hold the answer only to about cond(X)^2 eps: vb[idx,
// idx] is nearly singular, and its rounding alone moves the statistic by
// ~1e-3 at cond(X) ~ 1e7.  A hypothesis L beta = 0 says that b~ = T^-1 beta
// lies in N = T^-1 null(L) = RPt null(L D) (T^-1 = RPt D^-1); for beta[idx] =
// 0, N = span{RPt(:, j) : j not in idx}.  With U an orthonormal basis of the
// orthogonal complement of N (the last q columns of the complete Q factor of
// N), the statistic is (U'b~)' (U' vb~ U)^-1 (U'b~): the Wald statistic of
// the same hypothesis, in well-conditioned coordinates.  wald_basis() gives U
// from N's spanning set RPt K (K: a basis of null(L D)); the columns of K for
// beta[idx] = 0 are the unit vectors e_j, j not in idx (exact).
inline Mat wald_basis(const Mat& RPt, const Mat& K) {
  const Eigen::Index p = RPt.cols(), q = p - K.cols();
  if (K.cols() == 0) return Mat::Identity(p, p);
  const Mat N = RPt * K;
  Eigen::HouseholderQR<Mat> h(N);
  const Mat Qf = h.householderQ() * Mat::Identity(p, p);
  return Qf.rightCols(q);
}

// K for beta[idx] = 0 (empty when idx is not a set of distinct columns).
inline bool null_basis_idx(Eigen::Index p, const Eigen::VectorXi& idx, Mat& K) {
  const Eigen::Index q = idx.size();
  if (q == 0 || q > p) return false;
  std::vector<char> in(static_cast<std::size_t>(p), 0);
  for (Eigen::Index i = 0; i < q; ++i) {
    if (idx(i) < 0 || idx(i) >= p || in[static_cast<std::size_t>(idx(i))]) return false;
    in[static_cast<std::size_t>(idx(i))] = 1;
  }
  K = Mat::Zero(p, p - q);
  Eigen::Index c = 0;
  for (Eigen::Index j = 0; j < p; ++j)
    if (!in[static_cast<std::size_t>(j)]) K(j, c++) = 1.0;
  return true;
}

// K for L beta = 0 (L: q x p of full row rank): the last p - q columns of the
// complete Q factor of (L D)'; a selection L (one 1 per row, distinct
// columns) gives the exact unit vectors of null_basis_idx().
inline Mat null_basis_of(const Mat& L, const Vec& D) {
  const Eigen::Index q = L.rows(), p = L.cols();
  Eigen::VectorXi idx(q);
  bool sel = true;
  for (Eigen::Index i = 0; i < q && sel; ++i) {
    int nz = 0;
    for (Eigen::Index j = 0; j < p; ++j)
      if (L(i, j) != 0) { ++nz; idx(i) = static_cast<int>(j); if (L(i, j) != 1) sel = false; }
    if (nz != 1) sel = false;
  }
  Mat K;
  if (sel && null_basis_idx(p, idx, K)) return K;
  const Mat LDt = (L * D.asDiagonal()).transpose();
  Eigen::HouseholderQR<Mat> h(LDt);
  const Mat Qf = h.householderQ() * Mat::Identity(p, p);
  return Qf.rightCols(p - q);
}

// The Wald statistic of beta[idx] = 0 from the coordinates of an
// ill-conditioned design (beta and vb when there are none).
inline double wald_qm_coords(const Vec& beta, const Mat& vb, const Vec& beta_t, const Mat& vb_t, const Mat& RPt,
                             const Eigen::VectorXi& idx) {
  const Eigen::Index p = RPt.cols(), q = idx.size();
  Mat K;
  if (p == 0 || beta_t.size() != p || vb_t.rows() != p || !null_basis_idx(p, idx, K)) return wald_qm(beta, vb, idx);
  const Mat U = wald_basis(RPt, K);
  const Vec b = U.transpose() * beta_t;
  const Mat V = U.transpose() * vb_t * U;
  Eigen::VectorXi all(q);
  for (Eigen::Index i = 0; i < q; ++i) all(i) = static_cast<int>(i);
  return wald_qm(b, V, all);
}

inline double wald_qm_fit(const FitResult& f, const Eigen::VectorXi& idx) {
  return wald_qm_coords(f.beta, f.vb, f.beta_t, f.vb_t, f.RPt, idx);
}

// ---- The general block model (structure.hpp, objective.hpp, optimise.hpp) ----

struct BlockFitResult {
  Vec beta;
  Mat vb;          // model-based covariance A^{-1} (other types: vcov.hpp from wresid)
  Vec theta;       // variance parameters
  Vec se_theta;    // from the inverse expected information (NaN when singular)
  double ll = std::numeric_limits<double>::quiet_NaN();  // ML or REML log-likelihood at theta
  Vec wresid;      // r = W e at theta (the per-block pieces of cluster-robust covariances)
  Convergence conv;
  // ill-conditioned designs only (as FitResult): b~, the model-based vb~, R P'
  // and D of the orthonormal coordinates (wald_qm_coords())
  Vec beta_t;
  Mat vb_t;
  Mat RPt;
  Vec D_t;
};

// Default start: the excess of the OLS residual variance over the mean
// sampling variance, split evenly over the parameters whose lower bound is 0
// (at least 1% of the residual variance each, so that M is positive definite
// even for a singular V); other parameters start at the midpoint of their box
// or at 0.
inline Vec block_start(const ProblemView& pr, const VarStructure& s) {
  const int k = pr.k(), p = pr.p(), q = s.n_theta();
  Wls ols;
  ols.w.setOnes(k);
  ols.solve(pr.X, pr.y);
  const double s2 = ols.rss / std::max(k - p, 1);
  int nvar = 0;
  for (int j = 0; j < q; ++j) nvar += s.variance_like(j);
  // (an absolute floor as well: with an exact fit s2 = 0, and M = V would be
  // singular for a singular dense V)
  const double floor = 1e-8 * (1.0 + pr.v.mean());
  const double each = std::max({s2 - pr.v.mean(), 0.01 * s2, floor}) / std::max(nvar, 1);
  Vec t(q);
  for (int j = 0; j < q; ++j) {
    if (s.variance_like(j)) t(j) = each;
    else if (std::isfinite(s.lower(j)) && std::isfinite(s.upper(j))) t(j) = 0.5 * (s.lower(j) + s.upper(j));
    else t(j) = 0.0;
  }
  return t;
}

// Fisher scoring from start, falling back to the projected quasi-Newton when
// it does not converge (poll: once per iteration, see OptimPoll).
template <class Obj>
OptimResult optimise_theta(Obj& obj, const Vec& start, const Control& ctl, const OptimPoll& poll) {
  OptimResult o = fisher_scoring(obj, start, ctl, poll);
  if (!o.conv.converged && o.conv.message != "interrupted") {
    const Convergence fs = o.conv;
    o = quasi_newton(obj, start, ctl, poll);
    o.conv.iterations += fs.iterations;
    if (o.conv.converged) o.conv.message = "Fisher scoring did not converge (" + fs.message + "); solved by quasi-Newton";
    else o.conv.message = "Fisher scoring (" + fs.message + ") and quasi-Newton (" + o.conv.message + ") did not converge";
  }
  return o;
}

// Rounds of boundary restarts (each round: at most 4 refits per term that
// sits at such a boundary) and the least relative gain of the log-likelihood
// that makes a restart's maximum replace the current one (above rounding, so
// that an equal maximum with another value of an unidentified correlation
// does not).
constexpr int kBoundaryRounds = 3;
constexpr double kBoundaryGain = 1e-10;
// powers of 10 by which a restart's raised variances are scanned down and up
constexpr int kBoundaryScan = 8;
constexpr int kBoundaryScanUp = 2;

// A start where the marginal covariance is not positive definite (a fixed
// correlation that makes an '~ inner | outer' term's E indefinite, e.g. CS
// with rho below -1 / (m - 1), beside the default share of the variance)
// leaves the optimisers nowhere to go: the free variance-like parameters are
// halved, at most kStartHalvings times, until the objective can be
// evaluated (metafor's rma.mv() starts such fits at smaller variances and
// fits them).  The start unchanged when it is feasible or no halving helps.
constexpr int kStartHalvings = 40;
template <class Obj>
Vec feasible_start(Obj& obj, const Vec& start) {
  ObjectiveEval ev;
  if (obj.evaluate(start, kObjLL, ev)) return start;
  const VarStructure& s = obj.structure();
  Vec t = start;
  for (int h = 0; h < kStartHalvings; ++h) {
    bool any = false;
    for (int j = 0; j < t.size(); ++j)
      if (s.variance_like(j) && s.lower(j) < s.upper(j) && std::isfinite(t(j)) && t(j) != 0.0) {
        t(j) *= 0.5;
        any = true;
      }
    if (!any) break;
    if (obj.evaluate(t, kObjLL, ev)) return t;
  }
  return start;
}

// theta by ML or REML on an objective (BlockObjective, objective.hpp, or
// SparseCrossedObjective, sparse_objective.hpp: anything with structure(),
// evaluate() and weighted_resid()): optimise_theta(); then, where the estimate
// has a correlation that the likelihood does not identify beside a variance
// at 0, or a Cholesky factor with a diagonal entry at its bound 0, refits
// from VarStructure::boundary_restarts() keeping the highest converged
// maximum; then beta, A^{-1}, the SEs of theta and the weighted
// residuals at the estimate.  start: the starting values.
template <class Obj>
BlockFitResult fit_objective(Obj& obj, const Vec& start0, const Control& ctl, const OptimPoll& poll = OptimPoll()) {
  const Vec start = feasible_start(obj, start0);
  OptimResult o = optimise_theta(obj, start, ctl, poll);
  if (o.conv.message != "interrupted") {
    const VarStructure& s = obj.structure();
    double scale = 0;  // a typical variance: the largest variance of the start
    for (int j = 0; j < start.size(); ++j)
      if (s.variance_like(j) && std::isfinite(start(j))) scale = std::max(scale, start(j));
    Control rctl = ctl;
    rctl.plateau_stop = true;
    const int first = o.conv.iterations;
    int extra = 0;
    for (int round = 0; round < kBoundaryRounds; ++round) {
      bool moved = false;
      for (const Vec& c0 : s.boundary_restarts(o.theta, scale)) {
        // the variances raised from 0 scaled by powers of 10, the start the
        // one of highest likelihood (the maximum can sit close to 0, and a
        // start far above it can step back to the boundary; with every
        // variance of a term at 0 the likelihood can dip before it rises)
        Vec c = c0;
        ObjectiveEval ev;
        double best = obj.evaluate(c, kObjLL, ev) ? ev.ll : -std::numeric_limits<double>::infinity();
        for (int h = -kBoundaryScanUp; h <= kBoundaryScan; ++h) {
          if (h == 0) continue;
          Vec t = c0;
          for (int j = 0; j < t.size(); ++j)
            if (o.theta(j) == 0.0 && t(j) > 0.0) t(j) *= std::pow(10.0, -h);
          if (obj.evaluate(t, kObjLL, ev) && ev.ll > best) { best = ev.ll; c = t; }
        }
        OptimResult oc = optimise_theta(obj, c, rctl, poll);
        extra += oc.conv.iterations;
        if (oc.conv.message == "interrupted") {
          o.conv.converged = false;
          o.conv.message = "interrupted";
          round = kBoundaryRounds;
          break;
        }
        const double slack = kBoundaryGain * (1 + std::fabs(o.at.ll));
        if (oc.conv.converged && s.admissible(oc.theta) && (o.conv.converged ? oc.at.ll > o.at.ll + slack : oc.at.ll >= o.at.ll - slack)) {
          oc.conv.message = "refitted from a boundary where a correlation was not identified" +
                            (oc.conv.message.empty() ? std::string() : "; " + oc.conv.message);
          o = std::move(oc);
          moved = true;
        }
      }
      if (!moved) break;
    }
    o.conv.iterations = first + extra;
  }
  BlockFitResult r;
  r.conv = o.conv;
  r.theta = o.theta;
  // the objective (and its weighted residuals) at the estimate
  ObjectiveEval at;
  if (!obj.evaluate(r.theta, kObjAll, at)) {
    r.conv.converged = false;
    if (r.conv.message.empty()) r.conv.message = "the marginal covariance is not positive definite at the estimate";
    return r;
  }
  r.beta = at.beta;
  r.vb = at.Ainv;
  r.ll = at.ll;
  r.wresid = obj.weighted_resid();
  const int q = obj.n_theta();
  r.se_theta = Vec::Constant(q, std::numeric_limits<double>::quiet_NaN());
  Eigen::LLT<Mat> li(at.info);
  if (li.info() == Eigen::Success) r.se_theta = li.solve(Mat::Identity(q, q)).diagonal().cwiseSqrt();
  return r;
}

// fit_objective() on the block objective.  theta0 empty: block_start().
// fast_kernels = false: the block loop even for the diagonal structure (tests).
inline BlockFitResult fit_block_model(const ProblemView& pr, const VarStructure& s, bool reml, const Control& ctl,
                                      const Vec& theta0 = Vec(), bool fast_kernels = true,
                                      const OptimPoll& poll = OptimPoll()) {
  if (design_ill_conditioned(pr.X)) {  // (see DesignTransform)
    const DesignTransform dt(pr.X);
    const ProblemView tv(pr.y, pr.v, dt.Xt, pr.weights, pr.offsets, pr.Vblocks);
    BlockObjective obj(tv, s, reml, fast_kernels);
    BlockFitResult r = fit_objective(obj, theta0.size() ? theta0 : block_start(tv, s), ctl, poll);
    if (r.beta.size() == pr.p() && r.vb.rows() == pr.p()) {
      r.beta_t = r.beta;
      r.vb_t = r.vb;
      r.RPt = dt.RPt;
      r.D_t = dt.D;
    }
    dt.map_back(r.beta, r.vb);
    return r;
  }
  BlockObjective obj(pr, s, reml, fast_kernels);
  return fit_objective(obj, theta0.size() ? theta0 : block_start(pr, s), ctl, poll);
}

}  // namespace metafast
