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
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  // whether theta_j starts as a variance (block_start(): a share of the
  // residual variance): the parameters bounded at 0, and the diagonal of an
  // unbounded Cholesky factor (UNCHOLFIX), whose default start of 0 would be
  // the stationary point L = 0
  virtual bool variance_like(int j) const { return lower(j) == 0.0; }
  // M_b(theta) into M (n_b x n_b); voff: offset of block b in pr.Vblocks
  virtual void block_cov(const ProblemView& pr, const Vec& theta, int b, Eigen::Index voff, Mat& M) const = 0;
  // dM_b / dtheta_j into G (n_b x n_b)
  virtual void block_deriv(const ProblemView& pr, const Vec& theta, int j, int b, Mat& G) const = 0;
  // true only for DiagonalTau2: the objective then uses the fused
  // one-pass kernels of wls.hpp instead of the block loop
  virtual bool is_diagonal_tau2() const { return false; }
  // Starting points for refits when theta lies where the likelihood does not
  // identify some free parameters: a correlation beside a variance at 0
  // (fit_objective() in fit.hpp refits from each and keeps a higher maximum).
  // scale: a typical variance of the model (for terms whose variances are all 0).
  virtual std::vector<Vec> boundary_restarts(const Vec& /*theta*/, double /*scale*/) const { return {}; }
  // false when theta is outside the structure's valid set beyond its box
  // (a correlation matrix that is not positive semi-definite): a restart's
  // maximum there is not taken
  virtual bool admissible(const Vec& /*theta*/) const { return true; }
  // The default start (block_start(), which puts a variance on the diagonal
  // of a Cholesky factor too) on the scale on which rma.mv() starts a
  // Cholesky factor (UN, GEN with every component estimated): its diagonal
  // at the square root of that variance.  false: theta unchanged.
  virtual bool chol_start(Vec& /*theta*/) const { return false; }
  // The structure restricted to the given rows (indices into this structure's
  // rows, in their new order), owning its data; nullptr: not supported.
  virtual std::unique_ptr<VarStructure> subset_rows(const std::vector<int>& /*rows*/) const { return nullptr; }
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

// L nested levels of random effects within the blocks (metafor's
// random = ~ 1 | a, ~ 1 | a/b, ~ 1 | a/b/c, ...; the blocks are the levels of
// the outermost factor a): theta = (sigma2_1, ..., sigma2_L),
//   M_b = V_b + sum_l sigma2_l Z_lb Z_lb',
// with Z_l the indicator matrix of level l's groups (Z_1 Z_1' = J: one group a
// block).  Deeper levels are given by integer codes per row, groups(i, l - 2)
// for level l >= 2 (equal codes = same group; codes need only differ within a
// block, and a level is nested in the one above it by construction in R).
// Each (Z_l Z_l')_b is an n_b x n_b 0/1 matrix, so the objective costs
// O(L sum_b n_b^3).  fixed(l) finite: sigma2_l is held at that value (the
// optimisers hold a parameter whose bounds coincide); NaN: estimated.
class NestedLevels : public VarStructure {
 public:
  using IMatRef = Eigen::Ref<const Eigen::MatrixXi>;
  NestedLevels(const IMatRef& groups, const Vec& fixed) : groups_(groups), fixed_(fixed) {}
  int n_theta() const override { return static_cast<int>(fixed_.size()); }
  std::string name(int j) const override { return "sigma2." + std::to_string(j + 1); }
  double lower(int j) const override { return std::isnan(fixed_(j)) ? 0.0 : fixed_(j); }
  double upper(int j) const override {
    return std::isnan(fixed_(j)) ? std::numeric_limits<double>::infinity() : fixed_(j);
  }
  bool is_fixed(int j) const { return !std::isnan(fixed_(j)); }
  // The subset owns a copy of its rows' group codes (case deletion, refit_mv.hpp).
  std::unique_ptr<VarStructure> subset_rows(const std::vector<int>& rows) const override {
    const int n = static_cast<int>(rows.size()), m = static_cast<int>(groups_.cols());
    std::unique_ptr<Eigen::MatrixXi> own(new Eigen::MatrixXi(n, m));
    for (int c = 0; c < m; ++c)
      for (int i = 0; i < n; ++i) (*own)(i, c) = groups_(rows[i], c);
    return std::unique_ptr<VarStructure>(new NestedLevels(std::move(own), fixed_));
  }
  void block_cov(const ProblemView& pr, const Vec& theta, int b, Eigen::Index voff, Mat& M) const override {
    pr.sampling_block(b, voff, M);
    M.array() += theta(0);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    for (int l = 1; l < n_theta(); ++l) {
      const double t = theta(l);
      for (int j = 0; j < nb; ++j) {
        const int gj = groups_(i0 + j, l - 1);
        for (int i = 0; i < nb; ++i)
          if (groups_(i0 + i, l - 1) == gj) M(i, j) += t;
      }
    }
  }
  void block_deriv(const ProblemView& pr, const Vec&, int l, int b, Mat& G) const override {
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    if (l == 0) { G.setOnes(nb, nb); return; }
    G.resize(nb, nb);
    for (int j = 0; j < nb; ++j) {
      const int gj = groups_(i0 + j, l - 1);
      for (int i = 0; i < nb; ++i) G(i, j) = groups_(i0 + i, l - 1) == gj ? 1.0 : 0.0;
    }
  }

 private:
  // (subset_rows(): a structure over codes it owns; groups_ views them)
  NestedLevels(std::unique_ptr<Eigen::MatrixXi> own, const Vec& fixed)
      : own_(std::move(own)), groups_(*own_), fixed_(fixed) {}
  std::unique_ptr<Eigen::MatrixXi> own_;  // owned codes of a subset (else null)
  IMatRef groups_;  // k x (L - 1)
  Vec fixed_;       // size L
};

// One '~ inner | outer' term of metafor's rma.mv() (struct CS, ID, DIAG, AR,
// CAR, HCS, UN, UNR, HAR): the random effects u_{o,a} of outer level o and
// inner level a have Cov(u_{o,a}, u_{o',c}) = [o == o'] E(a, c), so rows i, j
// gain [outer_i == outer_j] E(inner_i, inner_j), with (d = [a == c], v
// variances, r correlations; Viechtbauer 2010, metafor's documentation of
// struct; Wolfinger 1996 for the heteroscedastic and unstructured forms):
//   CS   E = v (d + (1 - d) r)          ID   E = v d
//   DIAG E = v_a d                      AR   E = v r^|a - c|  (levels as equally spaced times)
//   CAR  E = v r^|t_a - t_c|            (t: the inner variable as continuous time)
//   HCS  E = sqrt(v_a v_c) (d + (1 - d) r)
//   HAR  E = sqrt(v_a v_c) r^|a - c|
//   UN   E = sqrt(v_a v_c) (d + (1 - d) r_ac)    (one r a pair of levels)
//   UNR  E = v (d + (1 - d) r_ac)
//   UN on the Cholesky scale (UNCHOL): E = L L', theta = the diagonal of the
//        lower-triangular L, then its entries below the diagonal in
//        column-major order (all unbounded): every theta gives a
//        positive semi-definite E (Pinheiro & Bates 1996, Stat Comput 6:289;
//        metafor's default for UN).  R converts the estimate to (v, r).
//   UN on the Cholesky scale with some components fixed (UNCHOLFIX, metafor's
//        fit of UN when some of tau2/rho are given): P = L L' as UNCHOL,
//        then E = sqrt(v_a v_c) (d + (1 - d) r_ac) with v_a = fix_v(a) or
//        P_aa, r_ac = fix_r(ac) or P_ac / sqrt(P_aa P_cc) (0 when P_aa P_cc
//        = 0): the fixed values overwrite those of P after the
//        transformation, as metafor 5.2.1's .ll.rma.mv() does, so the free
//        correlations range over the values some correlation matrix has at
//        their positions.  theta = L as for UNCHOL (every entry estimated;
//        the directions that only move fixed components are flat).
//   GEN  E(a, c) = z_a' B z_c, z_a the row of the inner term's design of level
//        a (zlev; R makes each row its own level), B over the columns of that
//        design of type base: UN (natural scale) or UNCHOL (all components
//        estimated, as metafor), n_lev = its dimension; GDIAG: base = DIAG
//        (random intercepts and slopes; Viechtbauer, metafor's struct "GEN")
//   SPEXP, SPGAU, SPLIN, SPRAT, SPSPH  E = v f(d(a, c) / r), r the range in
//        [0, inf), d the distance of the levels' coordinates (coords:
//        euclidean, maximum, manhattan, great-circle) or given (dmat); f =
//        exp(-u), exp(-u^2), (1 - u)[u < 1], 1 / (1 + u^2),
//        (1 - 3u/2 + u^3/2)[u < 1] (Cressie 1993, Statistics for Spatial Data)
// r_ac (a > c, 0-based) is theta's correlation number c n - c (c + 1) / 2 +
// a - c - 1 (the pairs in column-major order of the lower triangle, as
// metafor orders rho).  Parameters: n_v variances (v, bounds [0, inf)) then
// n_r correlations (r, bounds [-1, 1], CAR [0, 1]) at positions off of theta;
// n_lev: the number of inner levels.  The parameterisation is the natural
// (v, r) one: a UN matrix with every r in [-1, 1] need not be positive
// semi-definite (the R side checks the estimate).
struct InnerOuterTerm {
  enum Type { kCS = 0, kID = 1, kDIAG = 2, kAR = 3, kCAR = 4, kHCS = 5, kUN = 6, kUNR = 7, kHAR = 8, kUNCHOL = 9,
              kGEN = 10, kGDIAG = 11, kSPEXP = 12, kSPGAU = 13, kSPLIN = 14, kSPRAT = 15, kSPSPH = 16,
              kUNCHOLFIX = 17 };
  // distances of the spatial structures between the coordinates of two levels
  enum Dist { kEuclidean = 0, kMaximum = 1, kManhattan = 2, kGcd = 3 };
  int type = kCS;
  Eigen::VectorXi inner;  // per row: inner level 0..n_levels - 1
  Eigen::VectorXi outer;  // per row: outer level code
  Vec times;              // CAR: the time of each inner level
  int off = 0;            // position of the first parameter in theta
  int n_v = 1, n_r = 1;
  int n_lev = 0;          // number of inner levels (UN, UNR); GEN, GDIAG: columns of the inner design
  // GEN, GDIAG: the matrix over the columns of the inner design is of type
  // base (kUN, kUNCHOL or kDIAG, of dimension n_lev); zlev(a, .) is the
  // inner design's row of level a
  int base = kUN;
  Mat zlev;
  // spatial: coords(a, .) the coordinates of level a, or dmat(a, c) the
  // given distance between levels a and c (used when not empty)
  Mat coords, dmat;
  int dist = kEuclidean;
  // UNCHOLFIX (also as the base of GEN): the fixed variances (n_v) and
  // correlations (n_r) that overwrite those of L L', NaN where estimated
  Vec fix_v, fix_r;
  // spatial: theta holds log(r) instead of r (the fit of an estimated range:
  // r -> 0 flattens the likelihood, a scoring step on the r scale may stop
  // there; metafor fits log(r) too); R reports exp() and refits on the r scale
  bool log_range = false;
  bool is_gen() const { return type == kGEN || type == kGDIAG; }
  bool is_spatial() const { return type >= kSPEXP && type <= kSPSPH; }
  static bool hetero_type(int ty) { return ty == kDIAG || ty == kHCS || ty == kUN || ty == kHAR; }
  // the Cholesky-scale types, whose theta holds the entries of L
  static bool chol_type(int ty) { return ty == kUNCHOL || ty == kUNCHOLFIX; }
  bool hetero() const { return hetero_type(type); }
  // index of the correlation of the pair (a, c), a != c, among the n_r
  int pair_index(int a, int c) const {
    if (a < c) std::swap(a, c);
    return c * n_lev - c * (c + 1) / 2 + a - c - 1;
  }
  // The distance between inner levels a and c of a spatial term: the given
  // matrix, or of their coordinates (great-circle distances in km from
  // (longitude, latitude) in degrees on the WGS84 ellipsoid by Lambert's
  // formula as given by Meeus, Astronomical Algorithms, 1991, ch. 11).
  double distance(int a, int c) const {
    if (a == c) return 0.0;
    if (dmat.size()) return dmat(a, c);
    const Eigen::Index d = coords.cols();
    double s = 0;
    switch (dist) {
      case kMaximum:
        for (Eigen::Index j = 0; j < d; ++j) s = std::max(s, std::fabs(coords(a, j) - coords(c, j)));
        return s;
      case kManhattan:
        for (Eigen::Index j = 0; j < d; ++j) s += std::fabs(coords(a, j) - coords(c, j));
        return s;
      case kGcd: return gcd_km(coords(a, 0), coords(a, 1), coords(c, 0), coords(c, 1));
      default:
        for (Eigen::Index j = 0; j < d; ++j) s += (coords(a, j) - coords(c, j)) * (coords(a, j) - coords(c, j));
        return std::sqrt(s);
    }
  }
  static double gcd_km(double lon1, double lat1, double lon2, double lat2) {
    if (lon1 == lon2 && lat1 == lat2) return 0.0;
    const double rad = 3.14159265358979323846 / 180.0, a = 6378.137, f = 1.0 / 298.257223563;
    const double F = (lat1 + lat2) / 2 * rad, G = (lat1 - lat2) / 2 * rad, L = (lon1 - lon2) / 2 * rad;
    const double sF = std::sin(F), cF = std::cos(F), sG = std::sin(G), cG = std::cos(G);
    const double sL = std::sin(L), cL = std::cos(L);
    const double S = sG * sG * cL * cL + cF * cF * sL * sL;
    const double C = cG * cG * cL * cL + sF * sF * sL * sL;
    if (!(S > 0)) return 0.0;
    const double w = std::atan(std::sqrt(S / C));
    const double R = std::sqrt(S * C) / w;
    const double D = 2 * w * a, H1 = (3 * R - 1) / (2 * C), H2 = (3 * R + 1) / (2 * S);
    return D * (1 + f * H1 * sF * sF * cG * cG - f * H2 * cF * cF * sG * sG);
  }
  // the spatial correlation at distance d and range r, and its derivative in r
  // (u = d / r; exponential exp(-u), Gaussian exp(-u^2), linear (1 - u)[u < 1],
  // rational quadratic 1 / (1 + u^2), spherical (1 - 3u/2 + u^3/2)[u < 1];
  // metafor's SPEXP, SPGAU, SPLIN, SPRAT, SPSPH; r = 0: [d == 0])
  double sp_corr(double d, double r) const {
    if (d == 0) return 1.0;
    if (!(r > 0)) return 0.0;
    const double u = d / r;
    switch (type) {
      case kSPEXP: return std::exp(-u);
      case kSPGAU: return std::exp(-u * u);
      case kSPLIN: return u < 1 ? 1 - u : 0.0;
      case kSPRAT: return 1 / (1 + u * u);
      default: return u < 1 ? 1 - 1.5 * u + 0.5 * u * u * u : 0.0;
    }
  }
  double sp_dcorr(double d, double r) const {
    if (d == 0 || !(r > 0)) return 0.0;
    const double u = d / r;
    switch (type) {
      case kSPEXP: return std::exp(-u) * u / r;
      case kSPGAU: return std::exp(-u * u) * 2 * u * u / r;
      case kSPLIN: return u < 1 ? u / r : 0.0;
      case kSPRAT: return 2 * u * u / (r * (1 + u * u) * (1 + u * u));
      default: return u < 1 ? 1.5 * u * (1 - u * u) / r : 0.0;
    }
  }
  // the correlation of levels a != c at theta (structure ty)
  double corr(int ty, const Vec& theta, int a, int c) const {
    const double r = theta(off + n_v + ((ty == kUN || ty == kUNR) ? pair_index(a, c) : 0));
    switch (ty) {
      case kAR: case kHAR: return std::pow(r, std::abs(a - c));
      case kCAR: return std::pow(r, std::fabs(times(a) - times(c)));
      case kID: case kDIAG: return 0.0;
      case kSPEXP: case kSPGAU: case kSPLIN: case kSPRAT: case kSPSPH:
        return sp_corr(distance(a, c), log_range ? std::exp(r) : r);
      default: return r;
    }
  }
  double corr(const Vec& theta, int a, int c) const { return corr(type, theta, a, c); }
  // L(i, j) of UNCHOL (0 above the diagonal)
  double chol_at(const Vec& theta, int i, int j) const {
    if (j > i) return 0.0;
    return i == j ? theta(off + i) : theta(off + n_v + pair_index(i, j));
  }
  // E(a, c) at theta.  GEN, GDIAG: z_a' E z_c with E the base matrix over the
  // columns of the inner design (rows a, c of zlev; Viechtbauer's GEN).
  double entry(const Vec& theta, int a, int c) const {
    if (!is_gen()) return entry_of(type, theta, a, c);
    double e = 0;
    for (int m = 0; m < n_lev; ++m) {
      const double zm = zlev(a, m);
      if (zm == 0) continue;
      for (int n = 0; n < n_lev; ++n)
        if (zlev(c, n) != 0) e += zm * zlev(c, n) * entry_of(base, theta, m, n);
    }
    return e;
  }
  // dE(a, c) / dtheta_(off + m)
  double dentry(const Vec& theta, int m, int a, int c) const {
    if (!is_gen()) return dentry_of(type, theta, m, a, c);
    double e = 0;
    for (int i = 0; i < n_lev; ++i) {
      const double zi = zlev(a, i);
      if (zi == 0) continue;
      for (int j = 0; j < n_lev; ++j)
        if (zlev(c, j) != 0) e += zi * zlev(c, j) * dentry_of(base, theta, m, i, j);
    }
    return e;
  }
  // P(a, c) = (L L')(a, c) of the Cholesky-scale types
  double chol_prod(const Vec& theta, int a, int c) const {
    double e = 0;
    for (int m = 0; m <= std::min(a, c); ++m) e += chol_at(theta, a, m) * chol_at(theta, c, m);
    return e;
  }
  // the row and column of the L entry that theta_(off + m) holds
  void chol_pos(int m, int& i, int& j) const {
    i = j = m;
    if (m < n_v) return;
    int q = m - n_v;
    j = 0;
    while (q >= n_lev - 1 - j) { q -= n_lev - 1 - j; ++j; }
    i = j + 1 + q;
  }
  // UNCHOLFIX: the variance of level a and the correlation of levels a != c
  // (fixed, or from P), and their derivatives in the L entry (i, j)
  // (dP(a, c) = [a == i] L(c, j) + [c == i] L(a, j))
  double cf_var(const Vec& theta, int a) const {
    return std::isnan(fix_v(a)) ? chol_prod(theta, a, a) : fix_v(a);
  }
  double cf_dvar(const Vec& theta, int i, int j, int a) const {
    return (std::isnan(fix_v(a)) && a == i) ? 2 * chol_at(theta, a, j) : 0.0;
  }
  double cf_corr(const Vec& theta, int a, int c) const {
    const double f = fix_r(pair_index(a, c));
    if (!std::isnan(f)) return f;
    const double d = chol_prod(theta, a, a) * chol_prod(theta, c, c);
    return d > 0 ? chol_prod(theta, a, c) / std::sqrt(d) : 0.0;
  }
  double cf_dcorr(const Vec& theta, int i, int j, int a, int c) const {
    if (!std::isnan(fix_r(pair_index(a, c)))) return 0.0;
    const double paa = chol_prod(theta, a, a), pcc = chol_prod(theta, c, c);
    if (!(paa * pcc > 0)) return 0.0;
    const double r = chol_prod(theta, a, c) / std::sqrt(paa * pcc);
    const double dac = (a == i ? chol_at(theta, c, j) : 0.0) + (c == i ? chol_at(theta, a, j) : 0.0);
    const double daa = a == i ? 2 * chol_at(theta, a, j) : 0.0, dcc = c == i ? 2 * chol_at(theta, c, j) : 0.0;
    return dac / std::sqrt(paa * pcc) - 0.5 * r * (daa / paa + dcc / pcc);
  }
  double entry_of(int ty, const Vec& theta, int a, int c) const {
    if (ty == kUNCHOL) return chol_prod(theta, a, c);
    if (ty == kUNCHOLFIX) {
      if (a == c) return cf_var(theta, a);
      return std::sqrt(cf_var(theta, a) * cf_var(theta, c)) * cf_corr(theta, a, c);
    }
    const bool het = hetero_type(ty);
    if (a == c) return theta(off + (het ? a : 0));
    if (ty == kID || ty == kDIAG) return 0.0;
    const double s = het ? std::sqrt(theta(off + a) * theta(off + c)) : theta(off);
    return s * corr(ty, theta, a, c);
  }
  double dentry_of(int ty, const Vec& theta, int m, int a, int c) const {
    if (chol_type(ty)) {
      // theta_(off + m) is L(i, j): dP(a, c) = [a == i] L(c, j) + [c == i] L(a, j)
      int i, j;
      chol_pos(m, i, j);
      if (ty == kUNCHOL) return (a == i ? chol_at(theta, c, j) : 0.0) + (c == i ? chol_at(theta, a, j) : 0.0);
      // UNCHOLFIX: E(a, c) = s r with s = sqrt(v_a v_c)
      if (a == c) return cf_dvar(theta, i, j, a);
      const double va = cf_var(theta, a), vc = cf_var(theta, c), s = std::sqrt(va * vc);
      const double ds = s > 0 ? (cf_dvar(theta, i, j, a) * vc + va * cf_dvar(theta, i, j, c)) / (2 * s) : 0.0;
      return ds * cf_corr(theta, a, c) + s * cf_dcorr(theta, i, j, a, c);
    }
    const bool het = hetero_type(ty);
    if (m < n_v) {  // a variance
      if (a == c) return (!het || a == m) ? 1.0 : 0.0;
      if (ty == kID || ty == kDIAG) return 0.0;
      if (!het) return corr(ty, theta, a, c);
      if (m != a && m != c) return 0.0;
      // d sqrt(v_m v_o) / dv_m = sqrt(v_o / v_m) / 2 (taken as 0 at v_m = 0,
      // where it is unbounded: the optimisers then keep v_m at its bound)
      const double vm = theta(off + m), vo = theta(off + (m == a ? c : a));
      return vm > 0 ? 0.5 * std::sqrt(vo / vm) * corr(ty, theta, a, c) : 0.0;
    }
    if (a == c) return 0.0;  // a correlation
    if (ty == kID || ty == kDIAG) return 0.0;
    const int q = m - n_v;
    if ((ty == kUN || ty == kUNR) && pair_index(a, c) != q) return 0.0;
    const double s = het ? std::sqrt(theta(off + a) * theta(off + c)) : theta(off);
    if (ty == kCS || ty == kHCS || ty == kUN || ty == kUNR) return s;
    const double r = theta(off + n_v);
    if (ty >= kSPEXP && ty <= kSPSPH) {
      if (!log_range) return s * sp_dcorr(distance(a, c), r);
      const double er = std::exp(r);
      return s * sp_dcorr(distance(a, c), er) * er;  // (d/dlog r = r d/dr)
    }
    const double d = ty == kCAR ? std::fabs(times(a) - times(c)) : std::abs(a - c);
    return s * d * std::pow(r, d - 1.0);
  }
  // bounds of the correlation parameters (spatial: the range, [0, inf))
  double lower_r() const {
    if (is_gen()) return chol_type(base) ? -std::numeric_limits<double>::infinity() : -1.0;
    if (is_spatial()) return log_range ? -std::numeric_limits<double>::infinity() : 0.0;
    return type == kCAR ? 0.0 : (chol_type(type) ? -std::numeric_limits<double>::infinity() : -1.0);
  }
  // the structures whose correlations (natural scale, bounded) vanish from
  // the likelihood with a variance of 0 (RandomTerms::boundary_restarts)
  // (GEN with the base UN on the natural scale, the fits with some of its
  // components fixed, is the same in the variances of the base matrix;
  // on the Cholesky scale and for GDIAG there is no such correlation)
  bool corr_unidentified_at_zero() const {
    if (n_r == 0) return false;
    if (is_gen()) return type == kGEN && base == kUN;
    return type == kCS || type == kHCS || type == kAR || type == kHAR || type == kCAR || type == kUN || type == kUNR;
  }
  double upper_r() const {
    if (is_gen()) return chol_type(base) ? std::numeric_limits<double>::infinity() : 1.0;
    return (chol_type(type) || is_spatial()) ? std::numeric_limits<double>::infinity() : 1.0;
  }
  InnerOuterTerm subset(const std::vector<int>& rows) const {
    InnerOuterTerm t = *this;
    t.inner.resize(static_cast<Eigen::Index>(rows.size()));
    t.outer.resize(static_cast<Eigen::Index>(rows.size()));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      t.inner(static_cast<Eigen::Index>(i)) = inner(rows[i]);
      t.outer(static_cast<Eigen::Index>(i)) = outer(rows[i]);
    }
    return t;
  }
};

// Whether two vectors of group codes (non-negative integers) group the rows
// alike: a one-to-one map between their codes.
inline bool same_partition(const Eigen::Ref<const Eigen::VectorXi>& a, const Eigen::Ref<const Eigen::VectorXi>& b) {
  if (a.size() != b.size() || a.size() == 0 || a.minCoeff() < 0 || b.minCoeff() < 0) return false;
  std::vector<int> ab(static_cast<std::size_t>(a.maxCoeff()) + 1, -1), ba(static_cast<std::size_t>(b.maxCoeff()) + 1, -1);
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    int& x = ab[static_cast<std::size_t>(a(i))];
    int& y = ba[static_cast<std::size_t>(b(i))];
    if (x < 0) x = b(i);
    if (y < 0) y = a(i);
    if (x != b(i) || y != a(i)) return false;
  }
  return true;
}

// A factor's own variance (~ 1 | f, theta_l with l < codes.cols()) and an
// '~ inner | outer' term over the same grouping (f and outer partition the
// rows alike) are confounded: the term with equal variances v and its
// correlations at 1 (CS, HCS, AR, HAR, CAR) adds v to every pair of rows of
// an outer level, as sigma2_f = v does.  A fit can then stop with the
// shared variance on sigma2_f and every variance of the term at 0, a
// maximum of the bounded problem below one that moves most of it onto the
// term (seen on simulated data where metafor's maximum, reached from its
// start, was higher; raising the term's variances alone, as the other
// restarts do, leads back).  The restarts (appended to out): for each such
// factor with sigma2_f > 0 and no known correlation matrix (has_R(l)
// false), nine tenths of it moved onto each free variance of the term, the
// term's free correlations at 95% of their box.  codes: k x L group codes
// of the factors, in the rows' order of the terms' inner and outer.
template <class HasR>
void transfer_restarts(const Eigen::Ref<const Eigen::MatrixXi>& codes, HasR has_R, const Vec& fixed,
                       const std::vector<InnerOuterTerm>& terms, const Vec& theta, std::vector<Vec>& out) {
  for (const InnerOuterTerm& t : terms) {
    if (t.type != InnerOuterTerm::kCS && t.type != InnerOuterTerm::kHCS && t.type != InnerOuterTerm::kAR &&
        t.type != InnerOuterTerm::kHAR && t.type != InnerOuterTerm::kCAR)
      continue;
    bool any_free = false, all_zero = true;
    for (int m = 0; m < t.n_v; ++m) {
      if (!std::isnan(fixed(t.off + m))) continue;
      any_free = true;
      all_zero = all_zero && theta(t.off + m) <= 0.0;
    }
    if (!any_free || !all_zero) continue;
    for (int l = 0; l < static_cast<int>(codes.cols()); ++l) {
      if (!std::isnan(fixed(l)) || has_R(l) || !(theta(l) > 0.0) || !same_partition(codes.col(l), t.outer)) continue;
      Vec s = theta;
      s(l) = 0.1 * theta(l);
      const double lo = t.lower_r(), hi = t.upper_r();
      for (int m = 0; m < t.n_v + t.n_r; ++m)
        if (std::isnan(fixed(t.off + m))) s(t.off + m) = m < t.n_v ? 0.9 * theta(l) : hi - 0.05 * (hi - lo);
      out.push_back(std::move(s));
    }
  }
}

// Several random-effects terms, nested or crossed (metafor's
// random = list(~ 1 | a, ~ 1 | b/c, ...); a nested term a/b gives the two
// factors a and a/b), and '~ inner | outer' terms (InnerOuterTerm):
// theta = (sigma2_1, ..., sigma2_S, the parameters of the inner | outer terms),
//   M_b = V_b + sum_l sigma2_l Z_lb Z_lb' + sum_t [outer_t equal] o E_t,
//   (Z_l Z_l')_ij = [g_l(i) == g_l(j)],
// with g_l(i) the integer code of row i's level of factor l.  The blocks are
// the connected components of the rows linked by any factor's levels, any
// outer level or a covariance in V (built in R), so the marginal covariance
// is block-diagonal and a fit costs O((S + T) sum_b n_b^3) with no k x k
// matrix (crossed factors can join everything into one block: R caps the
// block size).  fixed(j) finite: theta_j is held at that value; NaN:
// estimated.  Owns its data, so subset_rows() can hand a case-deletion refit
// its own copy.
// Known correlation matrices (metafor's R argument, e.g. a phylogenetic
// correlation; Nakagawa & Santos 2012, Evol Ecol 26:1253-1274): a factor l
// with a level-by-level matrix R_l (rmats[l], n_l x n_l, codes 1..n_l index
// it) contributes sigma2_l Z_l R_l Z_l', i.e. rows i, j gain
// sigma2_l R_l(g_l(i), g_l(j)) instead of sigma2_l [g_l(i) == g_l(j)]; the
// blocks must then also join levels with a non-zero R_l entry (done in R).
// An empty rmats[l] is the plain indicator.
// Relative slack of the positive semi-definiteness check of
// RandomTerms::admissible() (rounding of the eigenvalues).
constexpr double kPsdSlack = 1e-10;

class RandomTerms : public VarStructure {
 public:
  // codes: k x S (rows in the problem's order); fixed: size n_theta;
  // rmats: empty, or S matrices (0 x 0: no R for that factor)
  RandomTerms(Eigen::MatrixXi codes, Vec fixed, std::vector<InnerOuterTerm> terms = {}, std::vector<Mat> rmats = {})
      : codes_(std::move(codes)), fixed_(std::move(fixed)), terms_(std::move(terms)), rmats_(std::move(rmats)) {
    rmats_.resize(static_cast<std::size_t>(codes_.cols()));
    owner_.assign(static_cast<std::size_t>(fixed_.size()), -1);
    for (std::size_t t = 0; t < terms_.size(); ++t)
      for (int m = 0; m < terms_[t].n_v + terms_[t].n_r; ++m) owner_[terms_[t].off + m] = static_cast<int>(t);
  }
  int n_theta() const override { return static_cast<int>(fixed_.size()); }
  std::string name(int j) const override {
    if (owner_[j] < 0) return "sigma2." + std::to_string(j + 1);
    const InnerOuterTerm& t = terms_[owner_[j]];
    const bool h = owner_[j] > 0;
    const int m = j - t.off;
    return m < t.n_v ? (h ? "gamma2." : "tau2.") + std::to_string(m + 1)
                     : (h ? "phi." : "rho.") + std::to_string(m - t.n_v + 1);
  }
  double lower(int j) const override {
    if (!std::isnan(fixed_(j))) return fixed_(j);
    if (owner_[j] < 0) return 0.0;
    const InnerOuterTerm& t = terms_[owner_[j]];
    // (UNCHOLFIX: the diagonal of L unbounded too: with fixed components a
    // fit stalls at the bound 0 where the free part is singular, the
    // boundary on which such estimates often lie; UNCHOL: chol_flips())
    if (t.type == InnerOuterTerm::kUNCHOLFIX || (t.is_gen() && t.base == InnerOuterTerm::kUNCHOLFIX))
      return -std::numeric_limits<double>::infinity();
    return j - t.off < t.n_v ? 0.0 : t.lower_r();
  }
  bool variance_like(int j) const override {
    if (lower(j) == 0.0) return true;
    if (!std::isnan(fixed_(j)) || owner_[j] < 0) return false;
    const InnerOuterTerm& t = terms_[owner_[j]];
    return j - t.off < t.n_v && (t.type == InnerOuterTerm::kUNCHOLFIX || (t.is_gen() && t.base == InnerOuterTerm::kUNCHOLFIX));
  }
  double upper(int j) const override {
    if (!std::isnan(fixed_(j))) return fixed_(j);
    if (owner_[j] < 0) return std::numeric_limits<double>::infinity();
    const InnerOuterTerm& t = terms_[owner_[j]];
    return j - t.off < t.n_v ? std::numeric_limits<double>::infinity() : t.upper_r();
  }
  void block_cov(const ProblemView& pr, const Vec& theta, int b, Eigen::Index voff, Mat& M) const override {
    pr.sampling_block(b, voff, M);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    for (int l = 0; l < static_cast<int>(codes_.cols()); ++l) {
      const double t = theta(l);
      if (t == 0.0) continue;
      if (rmats_[l].size()) {
        const Mat& R = rmats_[l];
        for (int j = 0; j < nb; ++j) {
          const int gj = codes_(i0 + j, l) - 1;
          for (int i = 0; i < nb; ++i) M(i, j) += t * R(codes_(i0 + i, l) - 1, gj);
        }
        continue;
      }
      for (int j = 0; j < nb; ++j) {
        const int gj = codes_(i0 + j, l);
        for (int i = 0; i < nb; ++i)
          if (codes_(i0 + i, l) == gj) M(i, j) += t;
      }
    }
    for (const InnerOuterTerm& t : terms_)
      for (int j = 0; j < nb; ++j) {
        const int oj = t.outer(i0 + j), aj = t.inner(i0 + j);
        for (int i = 0; i < nb; ++i)
          if (t.outer(i0 + i) == oj) M(i, j) += t.entry(theta, t.inner(i0 + i), aj);
      }
  }
  void block_deriv(const ProblemView& pr, const Vec& theta, int l, int b, Mat& G) const override {
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    G.resize(nb, nb);
    if (owner_[l] < 0) {
      if (rmats_[l].size()) {
        const Mat& R = rmats_[l];
        for (int j = 0; j < nb; ++j) {
          const int gj = codes_(i0 + j, l) - 1;
          for (int i = 0; i < nb; ++i) G(i, j) = R(codes_(i0 + i, l) - 1, gj);
        }
        return;
      }
      for (int j = 0; j < nb; ++j) {
        const int gj = codes_(i0 + j, l);
        for (int i = 0; i < nb; ++i) G(i, j) = codes_(i0 + i, l) == gj ? 1.0 : 0.0;
      }
      return;
    }
    const InnerOuterTerm& t = terms_[owner_[l]];
    const int m = l - t.off;
    for (int j = 0; j < nb; ++j) {
      const int oj = t.outer(i0 + j), aj = t.inner(i0 + j);
      for (int i = 0; i < nb; ++i)
        G(i, j) = t.outer(i0 + i) == oj ? t.dentry(theta, m, t.inner(i0 + i), aj) : 0.0;
    }
  }
  int n_terms() const { return static_cast<int>(terms_.size()); }
  // At a variance of 0 of an '~ inner | outer' term the correlations that
  // pair it with the other levels drop out of the likelihood, and so does the
  // score of that variance's coupling to the others: on the (v, r) scale
  // dE(a, c)/dv_a = sqrt(v_c / v_a) r / 2 is unbounded at v_a = 0 and is taken
  // as 0 (InnerOuterTerm::dentry_of), so an optimiser stops there whatever r
  // it holds, even when E(a, c) of the right sign raises the likelihood at the
  // rate sqrt(v_a) (a maximum with |r| = 1 beside a small variance; also with
  // every variance of the term at 0, where the direction of the increase
  // depends on r).  The restarts: each free variance of the term at 0 set to
  // a tenth of the term's largest variance (or of scale), with the term's
  // free correlations as they are and at 5%, 50% and 95% of their box.
  // Every restartable term's covariance over its inner levels positive
  // semi-definite (smallest eigenvalue at least -kPsdSlack of the largest
  // variance): the box [-1, 1] of the correlations does not ensure it for
  // more than two levels.
  bool admissible(const Vec& theta) const override {
    for (const InnerOuterTerm& t : terms_) {
      if (!t.corr_unidentified_at_zero() || t.inner.size() == 0) continue;
      // (GEN: the base matrix over the columns of the inner design; the
      // covariance of the rows z_a' B z_c is then positive semi-definite)
      const int L = t.is_gen() ? t.n_lev : t.inner.maxCoeff() + 1;
      Mat E(L, L);
      for (int a = 0; a < L; ++a)
        for (int c = 0; c < L; ++c) E(a, c) = t.is_gen() ? t.entry_of(t.base, theta, a, c) : t.entry(theta, a, c);
      const double big = E.diagonal().cwiseAbs().maxCoeff();
      if (!(big > 0.0)) continue;
      Eigen::SelfAdjointEigenSolver<Mat> es(E, Eigen::EigenvaluesOnly);
      if (es.eigenvalues()(0) < -kPsdSlack * big) return false;
    }
    return true;
  }
  bool chol_start(Vec& theta) const override {
    bool any = false;
    for (const InnerOuterTerm& t : terms_) {
      if (!InnerOuterTerm::chol_type(t.type) && !(t.is_gen() && InnerOuterTerm::chol_type(t.base))) continue;
      for (int m = 0; m < t.n_v; ++m) {
        const int j = t.off + m;
        if (std::isnan(fixed_(j)) && theta(j) > 0.0) {
          theta(j) = std::sqrt(theta(j));
          any = true;
        }
      }
    }
    return any;
  }
  std::vector<Vec> boundary_restarts(const Vec& theta, double scale) const override {
    std::vector<Vec> out;
    chol_flips(theta, out, scale);
    for (const InnerOuterTerm& t : terms_) {
      if (!t.corr_unidentified_at_zero()) continue;
      bool at_zero = false, free_r = false;
      double ref = 0;
      for (int m = 0; m < t.n_v; ++m) {
        const int j = t.off + m;
        if (std::isnan(fixed_(j)) && theta(j) <= 0.0) at_zero = true;
        ref = std::max(ref, theta(j));
      }
      for (int m = t.n_v; m < t.n_v + t.n_r; ++m) free_r = free_r || std::isnan(fixed_(t.off + m));
      if (!at_zero || !free_r) continue;
      if (!(ref > 0.0)) ref = scale;
      if (!(ref > 0.0)) continue;
      const double lo = t.lower_r(), hi = t.upper_r();
      const double rs[] = {std::numeric_limits<double>::quiet_NaN(), lo + 0.05 * (hi - lo), 0.5 * (lo + hi),
                           hi - 0.05 * (hi - lo)};
      for (double r : rs) {
        Vec s = theta;
        for (int m = 0; m < t.n_v; ++m)
          if (std::isnan(fixed_(t.off + m)) && s(t.off + m) <= 0.0) s(t.off + m) = 0.1 * ref;
        if (!std::isnan(r))
          for (int m = t.n_v; m < t.n_v + t.n_r; ++m)
            if (std::isnan(fixed_(t.off + m))) s(t.off + m) = r;
        out.push_back(std::move(s));
      }
    }
    transfer_restarts(codes_, [this](int l) { return rmats_[static_cast<std::size_t>(l)].size() > 0; }, fixed_, terms_,
                      theta, out);
    return out;
  }
  // On the Cholesky scale of UNCHOL the diagonal of L is bounded at 0 (the
  // factor with a non-negative diagonal reaches every positive semi-definite
  // matrix, and an unbounded one makes L = 0 a stationary point and slows
  // the optimisers where L L' is singular, as seen on GEN fits with a
  // correlation of 1).  But at L(j, j) = 0 the score of L(j, j) can
  // point below 0 while the same matrix with column j negated (L L'
  // unchanged) has it pointing inside: a stationary point of the bounded
  // problem that is no maximum (seen on fits whose maximum has a
  // correlation near 1).  The restarts: for each such column with entries
  // below the diagonal, theta with those entries negated.
  //
  // UNCHOLFIX (L unbounded): a level whose variance (row j of L) has gone to
  // 0 sits on a kink of the likelihood (its overwritten covariances are
  // r sqrt(E_jj E_ii), of order |L(j, j)|), where the fit can stop short of
  // a maximum with that variance positive (seen on small resampled data,
  // where metafor's maximum was higher).  The restarts: L(j, j) raised to
  // the square root of a tenth of the term's largest variance (scale if
  // all are 0), with column j below the diagonal as it is and negated.
  void chol_flips(const Vec& theta, std::vector<Vec>& out, double scale = 0) const {
    for (const InnerOuterTerm& t : terms_) {
      if ((t.is_gen() ? t.base : t.type) == InnerOuterTerm::kUNCHOLFIX) {
        double ref = 0;
        for (int j = 0; j < t.n_lev; ++j) ref = std::max(ref, t.chol_prod(theta, j, j));
        if (!(ref > 0.0)) ref = scale;
        if (!(ref > 0.0)) continue;
        for (int j = 0; j < t.n_lev; ++j) {
          if (!std::isnan(t.fix_v(j)) || t.chol_prod(theta, j, j) > 1e-10 * ref) continue;
          for (int sign : {1, -1}) {
            Vec s = theta;
            s(t.off + j) = std::sqrt(0.1 * ref);
            for (int i = j + 1; i < t.n_lev; ++i) s(t.off + t.n_v + t.pair_index(i, j)) *= sign;
            out.push_back(std::move(s));
          }
        }
        continue;
      }
      if ((t.is_gen() ? t.base : t.type) != InnerOuterTerm::kUNCHOL) continue;
      for (int j = 0; j + 1 < t.n_lev; ++j) {
        if (theta(t.off + j) > 0.0 || !std::isnan(fixed_(t.off + j))) continue;
        Vec s = theta;
        bool any = false;
        for (int i = j + 1; i < t.n_lev; ++i) {
          const int q = t.off + t.n_v + t.pair_index(i, j);
          if (s(q) != 0.0) { s(q) = -s(q); any = true; }
        }
        if (any) out.push_back(std::move(s));
      }
    }
  }
  // The covariance that the '~ inner | outer' term t adds to block b at
  // theta: G(i, j) = [outer_i == outer_j] E_t(inner_i, inner_j) (the term's
  // part of M_b; its BLUPs are G W e, metafor's ranef() of G and H terms).
  void term_block(const ProblemView& pr, const Vec& theta, int t, int b, Mat& G) const {
    const InnerOuterTerm& tm = terms_[static_cast<std::size_t>(t)];
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    G.setZero(nb, nb);
    for (int j = 0; j < nb; ++j) {
      const int oj = tm.outer(i0 + j), aj = tm.inner(i0 + j);
      for (int i = 0; i < nb; ++i)
        if (tm.outer(i0 + i) == oj) G(i, j) = tm.entry(theta, tm.inner(i0 + i), aj);
    }
  }
  std::unique_ptr<VarStructure> subset_rows(const std::vector<int>& rows) const override {
    Eigen::MatrixXi c(static_cast<Eigen::Index>(rows.size()), codes_.cols());
    for (std::size_t i = 0; i < rows.size(); ++i) c.row(static_cast<Eigen::Index>(i)) = codes_.row(rows[i]);
    std::vector<InnerOuterTerm> terms;
    for (const InnerOuterTerm& t : terms_) terms.push_back(t.subset(rows));
    return std::unique_ptr<VarStructure>(new RandomTerms(std::move(c), fixed_, std::move(terms), rmats_));
  }

 private:
  Eigen::MatrixXi codes_;              // k x S
  Vec fixed_;                          // size n_theta
  std::vector<InnerOuterTerm> terms_;  // at most two (metafor's G and H)
  std::vector<int> owner_;             // theta_j's term (-1: a sigma2)
  std::vector<Mat> rmats_;             // per factor: R_l (0 x 0: indicator)
};

}  // namespace metafast
