// Crossed random effects (metafor's rma.mv(random = list(~ 1 | a, ~ 1 | b,
// ...))): the (restricted) log-likelihood, its score and expected information
// over theta through a sparse Cholesky factor of the q x q random-effects
// system, q = total number of groups.  The same meaning and output
// (ObjectiveEval) as BlockObjective (objective.hpp), so the optimisers of
// optimise.hpp and fit_objective() (fit.hpp) drive it unchanged.  R-free.
//
// Model: y ~ N(X beta, M), M = V + sum_l theta_l Z_l Z_l' = V + Z Lambda^2 Z',
// Z = [Z_1 ... Z_L] (k x q; Z_l the row-to-group indicator of term l),
// Lambda = diag(sqrt(theta_l) for each group of term l), V the known sampling
// covariance (diag(v) or the dense blocks of the ProblemView; V must be
// positive definite here, unlike in the block engine).  Following lme4
// (Bates, Maechler, Bolker & Walker 2015, J Stat Softw 67(1), sec. 3), with
// A = Z'V^-1 Z (sparse, fixed) and
//
//   C = I_q + Lambda A Lambda          (sparse, positive definite for theta >= 0)
//
// factorised C = P'LDL'P (Eigen::SimplicialLDLT, an up-looking LDL' as in
// Davis 2005, ACM TOMS 31:587; approximate minimum degree ordering, Amestoy,
// Davis & Duff 1996, SIAM J Matrix Anal Appl 17:886; the pattern is analysed
// once, each evaluation only refactorises):
//   log|M| = log|V| + log|C|                                  (Sylvester)
//   W = M^-1 = V^-1 - V^-1 Z Lambda C^-1 Lambda Z' V^-1       (Woodbury)
// so X'WX = X'V^-1X - F' Lambda C^-1 Lambda F with F = Z'V^-1 X, and
// likewise X'Wy, W e; theta_l = 0 needs no special case.
//
// Score and information: Harville (1977, JASA 72:320-340), exactly the
// formulas in objective.hpp's header comment with G_l = Z_l Z_l'.  They need
//   r'G_l r = |Z_l' r|^2,  tr(W G_l) = tr(S_ll),  tr(W G_j W G_l) = |S_jl|_F^2,
//   B_l = U_l'U_l,  C_jl = U_j' S_jl U_l,
// where S = Z'WZ = A - A Lambda C^-1 Lambda A (q x q) and U = Z'WX =
// F - A Lambda C^-1 Lambda F (q x p); S_jl, U_l are the blocks of terms j, l.
// |S_jl|_F^2 involves every entry of S (dense in general), so S is never
// stored: its columns are formed in chunks of kSparseChunk,
// S[:, g] = A[:, g] - A Lambda C^-1 Lambda A[:, g] (one sparse solve per
// column), and reduced to the traces at once.  Cost per evaluation:
// O(q (nnz(L) + nnz(A) + q p)) time and O(q (kSparseChunk + p) + nnz(L))
// memory, never a k x k (nor a q x q) matrix; once per objective,
// O(k L^2 + sum_b n_b^3) to form A, F and V^-1 X.  The log-likelihood alone
// (kObjLL) costs one factorisation and O(q p + k p) more.
//
// Why not selected inversion (Takahashi, Fagan & Chen 1973; Erisman & Tinney
// 1975, CACM 18:177): it gives C^-1 on the pattern of L only, enough for
// tr(S_ll) when every theta_l > 0 (Lambda S Lambda = I - C^-1), but neither
// for theta_l = 0 nor for the information, which needs every entry of S.
//
// Known correlation matrices (metafor's R; a term ~ 1 | f with
// Cov(u_f) = sigma2_f R_f, e.g. a phylogeny): M = V + Z Lambda R~ Lambda Z',
// R~ = blockdiag(I or R_l), positive definite.  Henderson's mixed-model
// equations with R~^-1 as the prior precision (Henderson 1976, Biometrics
// 32:69-83) keep Z the sparse indicator, so rows with a term of one level
// each (metafor's ~ 1 | es beside ~ 1 | phylo) add no fill:
//   C = R~^-1 + Lambda A Lambda,   log|M| = log|V| + log|R~| + log|C|,
// and W as above.  With G_l = Z_l R_l Z_l' the Harville terms become
// (Z_l'r)' R_l (Z_l'r), tr(R_l S_ll), tr(R_j S_jl R_l S_lj), U_l'R_l U_l and
// U_j'R_j S_jl R_l U_l: the sums above over S~ = Tb' S Tb and U~ = Tb' U,
// Tb = blockdiag(I or T_l), R_l = T_l T_l' (Cholesky).  A known term's q_l
// columns of C are dense (R_l^-1), adding O(q q_l^2) to an evaluation.
//
// '~ inner | outer' terms (metafor's G and H; E_t(theta) over the m inner
// levels, independent across outer levels): their columns are the (outer,
// inner) pairs, Z_t the row's pair indicator, and Lambda has a dense m x m
// block L_t per outer level, E_t = L_t S_t L_t' (eigenvectors scaled by
// sqrt|eigenvalue|, S_t = diag(sign)): M = V + Z Lambda R~ Lambda' Z' with
// R~ = S_t there, so C = R~^-1 + Lambda' A Lambda (assembled column by column
// each evaluation; its pattern joins whole outer blocks), and an E_t that is
// singular or indefinite needs no special case (M positive definite is
// checked through the inertia of C).  The Harville terms with
// dM/dtheta_j = Z_t (I (x) dE_t/dtheta_j) Z_t' are traces of S and U against
// those block-diagonal matrices, formed over chunks of whole outer blocks
// (see eval()); O(q q_t m n_par) per evaluation for a term with q_t columns
// and n_par parameters.  GEN/GDIAG and spatial terms (dense E over the rows)
// stay with the block engine.
//
// The nested structures stay with the block engine (O(sum n_b^3)); this one
// is for terms that cross the blocks.
#pragma once

#include "core/eigen.hpp"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cmath>
#include <functional>
#include <type_traits>
#include <utility>
#include <memory>
#include <limits>
#include <string>
#include <vector>

#include "core/fit.hpp"
#include "core/model.hpp"
#include "core/objective.hpp"
#include "core/structure.hpp"

namespace metafast {

// Columns of S = Z'WZ formed at a time (dense q x kSparseChunk workspace).
constexpr int kSparseChunk = 64;

// A known correlation matrix R counts as positive definite (the sparse
// engine needs R^-1) when every pivot of its Cholesky factor, squared,
// exceeds kKnownPivotTol times its largest diagonal entry.
constexpr double kKnownPivotTol = 1e-10;

// L crossed terms ~ 1 | f_l, and '~ inner | outer' terms (metafor's G and
// H; InnerOuterTerm of structure.hpp):
//   M = V + sum_l sigma2_l Z_l R_l Z_l' + sum_t Z_t (I_{outer} (x) E_t(theta)) Z_t',
// theta = (sigma2_1, ..., sigma2_L, then each inner|outer term's parameters
// at its off), R_l the identity, or a known correlation matrix of the levels
// of term l (metafor's R, e.g. phylogenetic): positive semi-definite for the
// dense reference (block_cov()), positive definite for SparseCrossedObjective.
// Z_t maps row i to the effect of (outer_i, inner_i); E_t over the term's
// n_inner(t) levels.
// codes(i, l): 0-based group of row i in term l (0 <= codes < nlevels(l)).
// fixed(j) finite: theta_j held at that value (its box collapses, as in
// NestedLevels); NaN: estimated.  R: one matrix per term (nlevels(l) square;
// empty: R_l = I), or no matrices at all; each is factorised once,
// R_l = T_l T_l' (Cholesky), with R_l^-1 and log|R_l| (the sparse objective
// puts R_l^-1 into its system, see there).  The bounds, restarts and
// admissible set of the inner|outer terms' parameters are RandomTerms'
// (one instance shared with the row subsets).
// block_cov()/block_deriv() give the part of M within a block of the
// ProblemView: the whole of M only when one block holds every row (the dense
// reference of the tests); the fit of crossed terms uses
// SparseCrossedObjective.
class CrossedTerms : public VarStructure {
 public:
  using IMatRef = Eigen::Ref<const Eigen::MatrixXi>;
  CrossedTerms(const IMatRef& codes, const IVec& nlevels, const Vec& fixed, const std::vector<Mat>& R = {},
               std::vector<InnerOuterTerm> terms = {})
      : codes_(codes), nlevels_(nlevels), fixed_(fixed), known_(make_known(R, static_cast<int>(nlevels.size()))) {
    set_terms(std::move(terms), true);
  }
  int n_theta() const override { return static_cast<int>(fixed_.size()); }
  std::string name(int j) const override { return rt_ ? rt_->name(j) : "sigma2." + std::to_string(j + 1); }
  double lower(int j) const override {
    if (rt_) return rt_->lower(j);
    return std::isnan(fixed_(j)) ? 0.0 : fixed_(j);
  }
  double upper(int j) const override {
    if (rt_) return rt_->upper(j);
    return std::isnan(fixed_(j)) ? std::numeric_limits<double>::infinity() : fixed_(j);
  }
  bool variance_like(int j) const override { return rt_ ? rt_->variance_like(j) : VarStructure::variance_like(j); }
  std::vector<Vec> boundary_restarts(const Vec& theta, double scale) const override {
    if (!rt_) return {};
    std::vector<Vec> out = rt_->boundary_restarts(theta, scale);
    // (rt_ holds no factor codes: its instance is shared with the subsets)
    transfer_restarts(codes_, [this](int l) { return known_ && known_->R[static_cast<std::size_t>(l)].size() > 0; },
                      fixed_, terms_, theta, out);
    return out;
  }
  bool admissible(const Vec& theta) const override { return rt_ ? rt_->admissible(theta) : true; }
  bool chol_start(Vec& theta) const override { return rt_ ? rt_->chol_start(theta) : false; }
  bool is_fixed(int j) const { return !std::isnan(fixed_(j)); }
  // the ~ 1 | f terms (theta's first n_sigma() entries)
  int n_sigma() const { return static_cast<int>(nlevels_.size()); }
  int n_levels(int l) const { return nlevels_(l); }
  int code(int i, int l) const { return codes_(i, l); }
  // the '~ inner | outer' terms: term t, its number of (0-based) outer and
  // inner levels, E_t(a, c) and dE_t(a, c) / dtheta_(off + m) at theta
  int n_gterms() const { return static_cast<int>(terms_.size()); }
  const InnerOuterTerm& gterm(int t) const { return terms_[static_cast<std::size_t>(t)]; }
  int n_outer(int t) const { return n_outer_[static_cast<std::size_t>(t)]; }
  int n_inner(int t) const { return n_inner_[static_cast<std::size_t>(t)]; }
  void gterm_cov(const Vec& theta, int t, Mat& E) const {
    const InnerOuterTerm& tm = gterm(t);
    const int m = n_inner(t);
    E.resize(m, m);
    for (int c = 0; c < m; ++c)
      for (int a = 0; a < m; ++a) E(a, c) = tm.entry(theta, a, c);
  }
  void gterm_deriv(const Vec& theta, int t, int par, Mat& D) const {
    const InnerOuterTerm& tm = gterm(t);
    const int m = n_inner(t);
    D.resize(m, m);
    for (int c = 0; c < m; ++c)
      for (int a = 0; a < m; ++a) D(a, c) = tm.dentry(theta, par, a, c);
  }
  // whether term l has a known correlation matrix R_l; its Cholesky factor
  // T_l and inverse (when every R_l is positive definite: known_pd()), and
  // sum_l log|R_l|
  bool any_known() const { return known_ != nullptr; }
  bool has_known(int l) const { return known_ && known_->R[l].size() > 0; }
  bool known_pd() const { return !known_ || known_->pd; }
  const Mat& known_R(int l) const { return known_->R[l]; }
  const Mat& known_factor(int l) const { return known_->T[l]; }
  const Mat& known_inverse(int l) const { return known_->Rinv[l]; }
  double known_logdet() const { return known_ ? known_->logdet : 0.0; }
  // (R_l) of the levels of rows i and j: dM_ij / dsigma2_l
  double link(int l, int i, int j) const {
    const int a = codes_(i, l), b = codes_(j, l);
    if (has_known(l)) return known_->R[l](a, b);
    return a == b ? 1.0 : 0.0;
  }
  // the random effects' part of M_ij at theta
  template <class Theta>
  double re_cov(const Theta& theta, int i, int j) const {
    double m = 0.0;
    for (int l = 0; l < n_sigma(); ++l) m += theta(l) * link(l, i, j);
    for (const InnerOuterTerm& t : terms_)
      if (t.outer(i) == t.outer(j)) m += t.entry(theta, t.inner(i), t.inner(j));
    return m;
  }
  void block_cov(const ProblemView& pr, const Vec& theta, int b, Eigen::Index voff, Mat& M) const override {
    pr.sampling_block(b, voff, M);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    for (int j = 0; j < nb; ++j)
      for (int i = 0; i < nb; ++i) M(i, j) += re_cov(theta, i0 + i, i0 + j);
  }
  void block_deriv(const ProblemView& pr, const Vec& theta, int l, int b, Mat& G) const override {
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    G.resize(nb, nb);
    if (l < n_sigma()) {
      for (int j = 0; j < nb; ++j)
        for (int i = 0; i < nb; ++i) G(i, j) = link(l, i0 + i, i0 + j);
      return;
    }
    for (const InnerOuterTerm& t : terms_) {
      if (l < t.off || l >= t.off + t.n_v + t.n_r) continue;
      for (int j = 0; j < nb; ++j)
        for (int i = 0; i < nb; ++i)
          G(i, j) = t.outer(i0 + i) == t.outer(i0 + j) ? t.dentry(theta, l - t.off, t.inner(i0 + i), t.inner(i0 + j)) : 0.0;
    }
  }
  // The terms on the given rows (case deletion, refit_crossed.hpp), owning a
  // copy of their codes (the known matrices are shared); every level is kept
  // (a level without rows adds a unit diagonal entry to C and nothing to the
  // likelihood).
  std::unique_ptr<VarStructure> subset_rows(const std::vector<int>& rows) const override {
    const int n = static_cast<int>(rows.size()), L = static_cast<int>(codes_.cols());
    std::unique_ptr<Eigen::MatrixXi> own(new Eigen::MatrixXi(n, L));
    for (int l = 0; l < L; ++l)
      for (int i = 0; i < n; ++i) (*own)(i, l) = codes_(rows[i], l);
    std::unique_ptr<CrossedTerms> out(new CrossedTerms(std::move(own), nlevels_, fixed_, known_));
    std::vector<InnerOuterTerm> terms;
    for (const InnerOuterTerm& t : terms_) terms.push_back(t.subset(rows));
    out->set_terms(std::move(terms), false);
    out->n_outer_ = n_outer_;
    out->n_inner_ = n_inner_;
    out->rt_ = rt_;
    return std::unique_ptr<VarStructure>(std::move(out));
  }

 private:
  // the known matrices R_l, their Cholesky factors T_l and inverses (empty
  // for the other terms, and T, Rinv for all when some R_l is not positive
  // definite: pd false)
  struct Known {
    std::vector<Mat> R, T, Rinv;
    double logdet = 0;
    bool pd = true;
  };
  static std::shared_ptr<const Known> make_known(const std::vector<Mat>& R, int L) {
    bool any = false;
    for (const Mat& r : R) any = any || r.size() > 0;
    if (!any) return nullptr;
    std::shared_ptr<Known> k = std::make_shared<Known>();
    k->R.resize(L);
    k->T.resize(L);
    k->Rinv.resize(L);
    for (int l = 0; l < L && l < static_cast<int>(R.size()); ++l) {
      if (R[l].size() == 0) continue;
      k->R[l] = R[l];
      Eigen::LLT<Mat> llt(R[l]);
      const double scale = R[l].diagonal().maxCoeff();
      if (llt.info() != Eigen::Success) { k->pd = false; continue; }
      k->T[l] = llt.matrixL();
      const Vec d = k->T[l].diagonal();
      if (!(d.minCoeff() * d.minCoeff() > kKnownPivotTol * scale)) { k->pd = false; continue; }
      k->Rinv[l] = llt.solve(Mat::Identity(R[l].rows(), R[l].cols()));
      k->logdet += 2.0 * d.array().log().sum();
    }
    return k;
  }
  CrossedTerms(std::unique_ptr<Eigen::MatrixXi> own, const IVec& nlevels, const Vec& fixed,
               std::shared_ptr<const Known> known)
      : own_(std::move(own)), codes_(*own_), nlevels_(nlevels), fixed_(fixed), known_(std::move(known)) {}
  // The inner|outer terms; first (the public constructor): their outer codes
  // made 0-based and contiguous, the counts of levels, and the RandomTerms
  // that holds their bounds and restarts.
  void set_terms(std::vector<InnerOuterTerm> terms, bool first) {
    terms_ = std::move(terms);
    if (!first || terms_.empty()) return;
    for (InnerOuterTerm& t : terms_) {
      std::vector<int> u(t.outer.data(), t.outer.data() + t.outer.size());
      std::sort(u.begin(), u.end());
      u.erase(std::unique(u.begin(), u.end()), u.end());
      for (Eigen::Index i = 0; i < t.outer.size(); ++i)
        t.outer(i) = static_cast<int>(std::lower_bound(u.begin(), u.end(), t.outer(i)) - u.begin());
      n_outer_.push_back(static_cast<int>(u.size()));
      int m = std::max<int>(t.n_lev, static_cast<int>(t.times.size()));
      if (t.inner.size()) m = std::max(m, t.inner.maxCoeff() + 1);
      n_inner_.push_back(m);
    }
    rt_ = std::make_shared<const RandomTerms>(Eigen::MatrixXi(0, n_sigma()), fixed_, terms_);
  }
  std::unique_ptr<Eigen::MatrixXi> own_;  // owned codes of a subset (else null)
  IMatRef codes_;  // k x L
  IVec nlevels_;   // L
  Vec fixed_;      // n_theta
  std::shared_ptr<const Known> known_;  // null: no term has a known R
  std::vector<InnerOuterTerm> terms_;   // inner|outer terms (outer codes 0-based)
  std::vector<int> n_outer_, n_inner_;
  std::shared_ptr<const RandomTerms> rt_;  // null: no inner|outer term
};

// Entries of C^-1 on the pattern of the factor of an Eigen::SimplicialLDLT
// of C (C = P^-1 L D L' P, L unit lower triangular): the recursion of
// Takahashi, Fagan & Chen (1973; Erisman & Tinney 1975, CACM 18:177) on
// Sigma = (P C P^-1)^-1 = L^-T D^-1 L^-1, column by column from the last:
//   Sigma_ij = - sum_{k in S_j} Sigma_ik L_kj          (i in S_j),
//   Sigma_jj = 1 / d_j - sum_{k in S_j} L_kj Sigma_kj,
// with S_j = {i > j : L_ij != 0}; every Sigma_ik needed lies on the pattern
// (i, k in S_j are linked in the elimination tree).  O(sum_j |S_j|^2 log n)
// time, memory of one copy of L.  (Why the fit does not use it: see the
// header comment; the row diagnostics need only these entries.)
class SelectedInverse {
 public:
  template <class Factor>
  explicit SelectedInverse(const Factor& f) {
    const auto& Lm = f.matrixL().nestedExpression();
    const Vec d = f.vectorD();
    const int n = static_cast<int>(Lm.cols());
    perm_ = f.permutationP().indices();
    outer_.assign(n + 1, 0);
    // the strictly lower entries of L (rows increasing within a column)
    for (int j = 0; j < n; ++j) {
      int c = 0;
      for (typename std::decay_t<decltype(Lm)>::InnerIterator it(Lm, j); it; ++it) c += it.row() > j;
      outer_[j + 1] = outer_[j] + c;
    }
    inner_.resize(outer_[n]);
    lval_.resize(outer_[n]);
    sig_.assign(outer_[n], 0.0);
    for (int j = 0; j < n; ++j) {
      int t = outer_[j];
      for (typename std::decay_t<decltype(Lm)>::InnerIterator it(Lm, j); it; ++it)
        if (it.row() > j) { inner_[t] = static_cast<int>(it.row()); lval_[t] = it.value(); ++t; }
    }
    sdiag_.resize(n);
    std::vector<double> col;
    for (int j = n - 1; j >= 0; --j) {
      const int a = outer_[j], b = outer_[j + 1];
      col.assign(b - a, 0.0);
      for (int u = a; u < b; ++u) {
        const int i = inner_[u];
        double acc = 0;
        for (int w = a; w < b; ++w) acc += permuted(i, inner_[w]) * lval_[w];
        col[u - a] = -acc;
      }
      double dj = 1.0 / d(j);
      for (int u = a; u < b; ++u) {
        sig_[u] = col[u - a];
        dj -= lval_[u] * sig_[u];
      }
      sdiag_(j) = dj;
    }
  }
  // (C^-1)_ab in C's own indices; NaN when (a, b) is off the factor's pattern.
  double operator()(int a, int b) const { return permuted(perm_(a), perm_(b)); }

 private:
  IVec perm_;
  std::vector<int> outer_, inner_;
  std::vector<double> lval_, sig_;
  Vec sdiag_;
  double permuted(int i, int k) const {
    if (i == k) return sdiag_(i);
    const int j = std::min(i, k), r = std::max(i, k);
    const auto first = inner_.begin() + outer_[j], last = inner_.begin() + outer_[j + 1];
    const auto it = std::lower_bound(first, last, r);
    if (it == last || *it != r) return std::numeric_limits<double>::quiet_NaN();
    return sig_[static_cast<std::size_t>(it - inner_.begin())];
  }
};

// metafor's per-row quantities of a crossed fit at theta (as the block
// engine's rowdiag, src/rcpp_rma_mv_methods.cpp): the hat values
// diag(X A X'W), diag(W), the row sums of W, diag(M) and the variances of the
// residuals diag(M - X A X'), A = (X'WX)^-1, W = M^-1.
struct CrossedRowDiag {
  Vec hat, wdiag, wrow, mdiag, var_resid;
};

class SparseCrossedObjective {
 public:
  using SpMat = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;

  // poll (optional): called once per chunk of the trace pass; false stops the
  // evaluation (evaluate() returns false from then on, interrupted() is true).
  SparseCrossedObjective(const ProblemView& pr, const CrossedTerms& s, bool reml,
                         std::function<bool()> poll = std::function<bool()>())
      : pr_(pr), s_(s), reml_(reml), poll_(std::move(poll)) {
    // the columns: the levels of each ~ 1 | f term, then (outer, inner)
    // pairs of each inner|outer term, outer major
    const int L = s.n_sigma(), nT = L + s.n_gterms();
    goff_.resize(nT + 1);
    goff_(0) = 0;
    for (int l = 0; l < nT; ++l) goff_(l + 1) = goff_(l) + term_columns(l);
    q_ = goff_(nT);
    term_.resize(q_);
    for (int l = 0; l < nT; ++l) term_.segment(goff_(l), term_columns(l)).setConstant(l);
    Eg_.resize(s.n_gterms());
    gsign_ = Vec::Ones(q_);
    Lg_.resize(s.n_gterms());
    dEg_.resize(s.n_gterms());
    if (reml_) {
      Eigen::LLT<Mat> llt(pr.X.transpose() * pr.X);
      const Mat Lx = llt.matrixL();
      logdet_xtx_ = 2.0 * Lx.diagonal().array().log().sum();
    }
    vok_ = factor_sampling() && s.known_pd();
    if (!vok_) return;
    ViX_ = pr.X;
    apply_vinv(ViX_);
    Mat viy = pr.y;
    apply_vinv(viy);
    Viy_ = viy.col(0);
    XtViX_.noalias() = pr.X.transpose() * ViX_;
    XtViy_.noalias() = pr.X.transpose() * Viy_;
    // F = Z'V^-1 X, fy = Z'V^-1 y
    F_ = zt_times(ViX_);
    fy_ = zt_times(viy).col(0);
    build_A();
    // the column chunks of the trace pass: kSparseChunk columns of the terms
    // without a known R, each known term's columns whole
    for (int t = 0; t < s.n_gterms(); ++t) {  // (whole outer blocks)
      const int m = s.n_inner(t), per = std::max(1, kSparseChunk / std::max(1, m)) * m, e = goff_(L + t + 1);
      for (int c0 = goff_(L + t); c0 < e; c0 += per) gchunks_.emplace_back(c0, std::min(per, e - c0));
    }
    for (int l = 0; l < L;) {
      if (s.has_known(l)) {
        chunks_.emplace_back(goff_(l), s.n_levels(l));
        ++l;
        continue;
      }
      int e = l;
      while (e < L && !s.has_known(e)) ++e;
      for (int c0 = goff_(l); c0 < goff_(e); c0 += kSparseChunk) chunks_.emplace_back(c0, std::min(kSparseChunk, goff_(e) - c0));
      l = e;
    }
    ldlt_.analyzePattern(C_);
  }

  const ProblemView& problem() const { return pr_; }
  const VarStructure& structure() const { return s_; }
  bool reml() const { return reml_; }
  int n_theta() const { return s_.n_theta(); }
  int n_groups() const { return q_; }
  // nonzeros of A = Z'V^-1 Z and of the Cholesky factor of C (after an evaluation)
  Eigen::Index nnz_A() const { return A_.nonZeros(); }
  Eigen::Index nnz_factor() const { return ldlt_.matrixL().nestedExpression().nonZeros(); }
  // W X (k x p, W = M^-1) at theta, without a k x k matrix: the rows of
  // the scores of the cluster-robust sandwich (robust()).  false when theta
  // cannot be evaluated.
  bool weighted_X(const Vec& theta, Mat& WX) {
    ObjectiveEval ev;
    if (!evaluate(theta, 0, ev)) return false;
    weighted_X(WX);
    return true;
  }

  // The BLUPs of the random effects and their prediction variances at
  // theta, per level g of the q levels (metafor's ranef(): u_l = sigma2_l
  // Z_l' W e and the diagonal of sigma2_l I - sigma2_l^2 Z_l' P Z_l, P = W -
  // W X (X'WX)^-1 X'W; Henderson 1975).  With B = Lambda A Lambda, Lambda
  // S Lambda = B (I + B)^-1 = I - C^-1 for S = Z'WZ, so sigma2 - sigma2^2
  // S_gg = sigma2 (C^-1)_gg, and Z'PZ = S - U A U' with U = Z'WX:
  //   var_g = sigma2 (C^-1)_gg + sigma2^2 U_g (X'WX)^-1 U_g'.
  // (C^-1)_gg from SelectedInverse; no k x k or q x q dense matrix.
  // A term with a known R_l (D_l = sigma2_l R_l the covariance of its
  // effects, C = R~^-1 + Lambda A Lambda): u_l = D_l Z_l' W e, and D - D Z'PZ D
  // = Lambda C^-1 Lambda + D U A U' D, so var_g = sigma2_l (C^-1)_gg +
  // sigma2_l^2 (R_l U_l)_g (X'WX)^-1 (R_l U_l)_g'.
  // Generally, with D = Lambda R~ Lambda' the covariance of the effects
  // (I (x) E_t for an inner|outer term, Lambda's block there L_t, E_t =
  // L_t L_t'): u = D Z'We and var_g = (Lambda C^-1 Lambda')_gg + (D U)_g
  // (X'WX)^-1 (D U)_g', C^-1 within each outer block of such a term (on the
  // factor's pattern: C holds those blocks whole).
  bool ranef(const Vec& theta, Vec& pred, Vec& var) {
    ObjectiveEval ev;
    if (!evaluate(theta, 0, ev)) return false;
    Mat zr = zt_times(r_);
    Mat U = F_;
    {
      Mat LH = H_;
      lam_right(LH);
      U.noalias() -= A_ * LH;
    }
    times_known(zr, false);  // R~ Z'We and R~ U
    times_known(U, false);
    times_cov(zr);  // D Z'We and D U
    times_cov(U);
    const SelectedInverse ci(ldlt_);
    pred = zr.col(0);
    var.resize(q_);
    const int L = s_.n_sigma();
    for (int g = 0; g < goff_(L); ++g) var(g) = lam_(g) * lam_(g) * ci(g, g);
    for (int t = 0; t < s_.n_gterms(); ++t) {
      const int m = s_.n_inner(t);
      const Mat& Lt = Lg_[static_cast<std::size_t>(t)];
      for (int b0 = goff_(L + t); b0 < goff_(L + t + 1); b0 += m) {
        Mat Cb(m, m);
        for (int c = 0; c < m; ++c)
          for (int a = 0; a < m; ++a) Cb(a, c) = ci(b0 + a, b0 + c);
        const Mat LCL = Lt * Cb * Lt.transpose();
        for (int a = 0; a < m; ++a) var(b0 + a) = LCL(a, a);
      }
    }
    for (int g = 0; g < q_; ++g) {
      const Vec ug = U.row(g).transpose();
      var(g) += ug.dot(ev.Ainv * ug);
    }
    return true;
  }
  // A k x k matrix at theta, only on the user's request: 'M' (V + sum_l
  // theta_l Z_l Z_l'), 'W' (M^-1 = V^-1 - B' C^-1 B with B' = V^-1 Z Lambda,
  // Woodbury; B' is sparse, so B' (C^-1 B) costs O(nnz(B') k)) or 'H'
  // (X (X'WX)^-1 (W X)').  false when theta cannot be evaluated.
  bool dense_matrix(const Vec& theta, char what, Mat& out) {
    const int k = pr_.k(), L = s_.n_sigma();
    if (what == 'M') {
      out.setZero(k, k);
      Eigen::Index voff = 0;
      Mat Vb;
      for (int b = 0; b < pr_.n_blocks(); ++b) {
        const int i0 = pr_.block_begin(b), nb = pr_.block_size(b);
        pr_.sampling_block(b, voff, Vb);
        if (pr_.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
        out.block(i0, i0, nb, nb) = Vb;
      }
      // rows sharing a level of term l: + theta_l (O(sum_g n_g^2) per term);
      // a term with a known R_l: + theta_l R_l(level of a, level of c), O(k^2)
      for (int l = 0; l < L; ++l) {
        if (s_.has_known(l)) {
          for (int c = 0; c < k; ++c)
            for (int a = 0; a < k; ++a) out(a, c) += theta(l) * s_.link(l, a, c);
          continue;
        }
        std::vector<std::vector<int>> rows(static_cast<std::size_t>(s_.n_levels(l)));
        for (int i = 0; i < k; ++i) rows[s_.code(i, l)].push_back(i);
        for (const auto& r : rows)
          for (int a : r)
            for (int c : r) out(a, c) += theta(l);
      }
      // an inner|outer term: rows sharing an outer level, + E_t(their inner levels)
      for (int t = 0; t < s_.n_gterms(); ++t) {
        const InnerOuterTerm& tm = s_.gterm(t);
        std::vector<std::vector<int>> rows(static_cast<std::size_t>(s_.n_outer(t)));
        for (int i = 0; i < k; ++i) rows[tm.outer(i)].push_back(i);
        for (const auto& r : rows)
          for (int a : r)
            for (int c : r) out(a, c) += tm.entry(theta, tm.inner(a), tm.inner(c));
      }
      return true;
    }
    ObjectiveEval ev;
    if (!evaluate(theta, 0, ev)) return false;
    if (what == 'H') {
      Mat WX;
      weighted_X(WX);
      out = pr_.X * ev.Ainv * WX.transpose();
      return true;
    }
    // V^-1 (dense, block diagonal) and B' = V^-1 Z Lambda
    out = Mat::Identity(k, k);
    apply_vinv(out);
    Mat Bt = Mat::Zero(k, q_);
    for (int i = 0; i < k; ++i) {
      for (int l = 0; l < L; ++l) {
        const int g = goff_(l) + s_.code(i, l);
        Bt(i, g) += lam_(g);
      }
      for (int t = 0; t < s_.n_gterms(); ++t) {  // (row inner_i of L_t in i's outer block)
        const int m = s_.n_inner(t), b0 = gblock(t, i);
        Bt.row(i).segment(b0, m) += Lg_[static_cast<std::size_t>(t)].row(s_.gterm(t).inner(i));
      }
    }
    apply_vinv(Bt);
    const Mat G = ldlt_.solve(Mat(Bt.transpose()));  // C^-1 B (q x k)
    const SpMat Bs = Bt.sparseView();  // (exact zeros off the rows' blocks)
    out.noalias() -= Bs * G;
    out = (out + out.transpose()) / 2;
    return true;
  }

  // first level (in the order of ranef()'s vectors) of each term: the
  // ~ 1 | f terms, then the inner|outer terms; the column of row i in term t
  // of the latter (its effect (outer_i, inner_i))
  const IVec& level_offsets() const { return goff_; }
  int gterm_column(int t, int i) const { return gblock(t, i) + s_.gterm(t).inner(i); }

  // V positive definite, and every known R_l (else every evaluation fails)
  bool sampling_ok() const { return vok_; }
  bool interrupted() const { return interrupted_; }
  // r = W e of the last evaluate()
  const Vec& weighted_resid() const { return r_; }

  // The per-row quantities at theta (CrossedRowDiag), never forming a k x k
  // matrix: W X = V^-1 X - V^-1 Z Lambda C^-1 Lambda F and W 1 likewise
  // (Woodbury); diag(W)_i = (V^-1)_ii - u_i' C^-1 u_i with u_i = Lambda Z'
  // V^-1 e_i, whose entries of C^-1 are those of the pattern of A = Z'V^-1 Z
  // (SelectedInverse).  false when theta cannot be evaluated.
  bool row_diagnostics(const Vec& theta, CrossedRowDiag& d) {
    ObjectiveEval ev;
    if (!evaluate(theta, kObjLL, ev)) return false;  // (factorises C at theta)
    const int k = pr_.k(), L = s_.n_sigma();
    Mat WX;
    weighted_X(WX);
    const Mat XA = pr_.X * ev.Ainv;
    // W 1
    Mat vi1 = Mat::Ones(k, 1);
    apply_vinv(vi1);
    const Vec z1 = zt_times(vi1).col(0);
    Mat lz = z1;
    lam_left(lz);
    Mat zw = ldlt_.solve(lz);
    lam_right(zw);
    zw = z_times(zw.col(0));
    apply_vinv(zw);
    d.wrow = vi1.col(0) - zw.col(0);
    d.hat.resize(k);
    d.mdiag.resize(k);
    d.var_resid.resize(k);
    Mat Vb;
    Eigen::Index voff = 0;
    for (int b = 0; b < pr_.n_blocks(); ++b) {
      const int i0 = pr_.block_begin(b), nb = pr_.block_size(b);
      for (int i = i0; i < i0 + nb; ++i) {
        double vii = pr_.v(i);
        if (pr_.dense_cov()) {
          if (i == i0) pr_.sampling_block(b, voff, Vb);
          vii = Vb(i - i0, i - i0);
        }
        d.mdiag(i) = vii + s_.re_cov(theta, i, i);
        d.hat(i) = XA.row(i).dot(WX.row(i));
        d.var_resid(i) = d.mdiag(i) - XA.row(i).dot(pr_.X.row(i));
      }
      if (pr_.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    }
    // diag(W): u_i = Lambda Z' (V^-1)_{., i}, nonzero only at the groups of
    // the rows of i's V block
    const SelectedInverse ci(ldlt_);
    d.wdiag.resize(k);
    std::vector<std::pair<int, double>> u;
    voff = 0;
    for (int b = 0; b < pr_.n_blocks(); ++b) {
      if (poll_ && (b & 1023) == 1023 && !poll_()) { interrupted_ = true; return false; }
      const int i0 = pr_.block_begin(b), nb = pr_.block_size(b);
      Mat Vi;
      if (pr_.dense_cov()) {
        const Eigen::Map<const Mat> Lb(Lv_.data() + voff, nb, nb);
        Vi = Mat::Identity(nb, nb);
        Lb.triangularView<Eigen::Lower>().solveInPlace(Vi);
        Lb.triangularView<Eigen::Lower>().transpose().solveInPlace(Vi);
        voff += static_cast<Eigen::Index>(nb) * nb;
      } else {
        Vi = vinv_.segment(i0, nb).asDiagonal();
      }
      for (int i = 0; i < nb; ++i) {
        u.clear();
        for (int j = 0; j < nb; ++j) {
          if (Vi(j, i) == 0) continue;
          for (int l = 0; l < L; ++l) {
            const int g = goff_(l) + s_.code(i0 + j, l);
            u.emplace_back(g, lam_(g) * Vi(j, i));
          }
          for (int t = 0; t < s_.n_gterms(); ++t) {  // (Lambda' spreads e over the outer block)
            const int m = s_.n_inner(t), b0 = gblock(t, i0 + j), a = s_.gterm(t).inner(i0 + j);
            const Mat& Lt = Lg_[static_cast<std::size_t>(t)];
            for (int c = 0; c < m; ++c) u.emplace_back(b0 + c, Lt(a, c) * Vi(j, i));
          }
        }
        double quad = 0;
        for (const auto& a : u)
          for (const auto& c : u) quad += a.second * ci(a.first, c.first) * c.second;
        d.wdiag(i0 + i) = Vi(i, i) - quad;
      }
    }
    return std::isfinite(d.wdiag.sum());
  }

  bool evaluate(const Vec& theta, int what, ObjectiveEval& out) {
    out.ok = vok_ && !interrupted_ && eval(theta, what, out);
    return out.ok;
  }

 private:
  const ProblemView pr_;
  const CrossedTerms& s_;
  const bool reml_;
  std::function<bool()> poll_;
  bool vok_ = false, interrupted_ = false;
  int q_ = 0;
  IVec goff_, term_;         // first group of each term; term of each group
  double logdet_xtx_ = 0, logdet_v_ = 0;
  Vec vinv_;                 // 1 / v (diagonal V)
  Vec Lv_;                   // Cholesky factors of the dense V blocks (layout of Vblocks)
  Mat ViX_, F_, XtViX_;
  Mat H_;  // C^-1 Lambda F at the last evaluate()
  Vec Viy_, fy_, XtViy_;
  SpMat A_, C_;
  Eigen::SimplicialLDLT<SpMat, Eigen::Lower, Eigen::AMDOrdering<int>> ldlt_;
  Vec lam_, r_;
  std::vector<double> ca_, pv_;  // A and R~^-1 on C's pattern (C = R~^-1 + Lambda A Lambda)
  std::vector<std::pair<int, int>> chunks_;  // (first column, columns) of the trace pass
  // inner|outer terms: the chunks of their columns (whole outer blocks), R~^-1
  // (C = R~^-1 + Lambda' A Lambda), E_t, Lambda's block L_t (E_t = L_t L_t')
  // and dE_t / dtheta for each of the term's parameters at the last evaluate()
  std::vector<std::pair<int, int>> gchunks_;
  SpMat P_;
  std::vector<Mat> Eg_, Lg_;
  Vec gsign_;       // the diagonal of S (1 on the columns of the ~ 1 | f terms)
  int n_neg_ = 0;   // negative entries of gsign_
  std::vector<std::vector<Mat>> dEg_;

  // log|V| and the factors that apply V^-1; false when V is not positive definite.
  bool factor_sampling() {
    const int k = pr_.k();
    logdet_v_ = 0;
    if (!pr_.dense_cov()) {
      if (!(pr_.v.minCoeff() > 0)) return false;
      vinv_ = pr_.v.cwiseInverse();
      logdet_v_ = pr_.v.array().log().sum();
      return true;
    }
    Lv_.resize(pr_.Vblocks.size());
    Eigen::Index voff = 0;
    Mat Vb;
    Eigen::LLT<Mat> llt;
    for (int b = 0; b < pr_.n_blocks(); ++b) {
      const int nb = pr_.block_size(b);
      pr_.sampling_block(b, voff, Vb);
      llt.compute(Vb);
      if (llt.info() != Eigen::Success) return false;
      const Mat& Lb = llt.matrixLLT();
      for (int i = 0; i < nb; ++i) {
        if (!(Lb(i, i) > 0)) return false;
        logdet_v_ += 2.0 * std::log(Lb(i, i));
      }
      Eigen::Map<Mat>(Lv_.data() + voff, nb, nb) = Lb;
      voff += static_cast<Eigen::Index>(nb) * nb;
    }
    (void)k;
    return true;
  }

  // W X = V^-1 X - V^-1 Z Lambda C^-1 Lambda F (Woodbury) at the theta of
  // the last evaluate() (its factor of C and H_ = C^-1 Lambda F)
  void weighted_X(Mat& WX) const {
    const int k = pr_.k(), p = pr_.p();
    Mat ZLH(k, p);
    Mat LH = H_;
    lam_right(LH);
    for (int c = 0; c < p; ++c) ZLH.col(c) = z_times(LH.col(c));
    apply_vinv(ZLH);
    WX = ViX_ - ZLH;
  }

  // B <- V^-1 B (k rows), block by block.
  void apply_vinv(Mat& B) const {
    if (!pr_.dense_cov()) {
      B = vinv_.asDiagonal() * B;
      return;
    }
    Eigen::Index voff = 0;
    for (int b = 0; b < pr_.n_blocks(); ++b) {
      const int i0 = pr_.block_begin(b), nb = pr_.block_size(b);
      const Eigen::Map<const Mat> Lb(Lv_.data() + voff, nb, nb);
      auto Bb = B.middleRows(i0, nb);
      Lb.triangularView<Eigen::Lower>().solveInPlace(Bb);
      Lb.triangularView<Eigen::Lower>().transpose().solveInPlace(Bb);
      voff += static_cast<Eigen::Index>(nb) * nb;
    }
  }

  // the number of columns of term l (a ~ 1 | f term, then the inner|outer
  // terms: outer x inner levels); the first column of row i's outer block
  // in inner|outer term t
  int term_columns(int l) const {
    const int L = s_.n_sigma();
    return l < L ? s_.n_levels(l) : s_.n_outer(l - L) * s_.n_inner(l - L);
  }
  int gblock(int t, int i) const { return goff_(s_.n_sigma() + t) + s_.gterm(t).outer(i) * s_.n_inner(t); }
  // the columns of Z with a 1 in row i (one per term)
  void row_columns(int i, std::vector<int>& cols) const {
    const int L = s_.n_sigma();
    cols.clear();
    for (int l = 0; l < L; ++l) cols.push_back(goff_(l) + s_.code(i, l));
    for (int t = 0; t < s_.n_gterms(); ++t) cols.push_back(gterm_column(t, i));
  }

  // A = Z'V^-1 Z (q x q, both triangles, every diagonal entry in the pattern), and C's pattern.
  void build_A() {
    const int k = pr_.k(), L = s_.n_sigma(), nT = L + s_.n_gterms();
    std::vector<Eigen::Triplet<double, int>> tr;
    tr.reserve(static_cast<std::size_t>(q_) + static_cast<std::size_t>(k) * nT * nT);
    for (int g = 0; g < q_; ++g) tr.emplace_back(g, g, 0.0);
    std::vector<int> ci, cj;
    if (!pr_.dense_cov()) {
      for (int i = 0; i < k; ++i) {
        row_columns(i, ci);
        for (int a : ci)
          for (int c : ci) tr.emplace_back(a, c, vinv_(i));
      }
    } else {
      Eigen::Index voff = 0;
      for (int b = 0; b < pr_.n_blocks(); ++b) {
        const int i0 = pr_.block_begin(b), nb = pr_.block_size(b);
        const Eigen::Map<const Mat> Lb(Lv_.data() + voff, nb, nb);
        Mat Vi = Mat::Identity(nb, nb);
        Lb.triangularView<Eigen::Lower>().solveInPlace(Vi);
        Lb.triangularView<Eigen::Lower>().transpose().solveInPlace(Vi);
        for (int j = 0; j < nb; ++j) {
          row_columns(i0 + j, cj);
          for (int i = 0; i < nb; ++i) {
            row_columns(i0 + i, ci);
            for (int a : ci)
              for (int c : cj) tr.emplace_back(a, c, Vi(i, j));
          }
        }
        voff += static_cast<Eigen::Index>(nb) * nb;
      }
    }
    A_.resize(q_, q_);
    A_.setFromTriplets(tr.begin(), tr.end());
    A_.makeCompressed();
    // C = R~^-1 + Lambda A Lambda: its pattern (A's, and a known term's
    // whole block, R_l^-1 there), with the values of A (ca_) and R~^-1 (pv_)
    // on it; A keeps its own pattern for the products of the trace pass
    std::vector<Eigen::Triplet<double, int>> tp;
    for (int l = 0; l < L; ++l) {
      const int g0 = goff_(l), nl = s_.n_levels(l);
      if (!s_.has_known(l)) {
        for (int g = 0; g < nl; ++g) tp.emplace_back(g0 + g, g0 + g, 1.0);
        continue;
      }
      const Mat& Ri = s_.known_inverse(l);
      for (int b = 0; b < nl; ++b)
        for (int a = 0; a < nl; ++a) tp.emplace_back(g0 + a, g0 + b, Ri(a, b));
    }
    for (int g = goff_(L); g < q_; ++g) tp.emplace_back(g, g, 1.0);
    SpMat P(q_, q_);
    P.setFromTriplets(tp.begin(), tp.end());
    if (s_.n_gterms()) {
      // with inner|outer terms Lambda has dense blocks: C's pattern is that
      // of Lambda' A Lambda (outer blocks linked by A, whole) and R~^-1,
      // each evaluation assembles C (assemble_C())
      P_ = P;
      assemble_C(true);
      return;
    }
    // (sums over the union of the patterns; explicit zeros are kept)
    SpMat Aon = A_ + SpMat(0.0 * P), Pon = P + SpMat(0.0 * A_);
    Aon.makeCompressed();
    Pon.makeCompressed();
    ca_.assign(Aon.valuePtr(), Aon.valuePtr() + Aon.nonZeros());
    pv_.assign(Pon.valuePtr(), Pon.valuePtr() + Pon.nonZeros());
    C_ = Aon;
  }

  // Lambda's column j as (row, value) pairs (symbolic: every position of its
  // pattern, value 1), and Lambda's row r likewise (the entries of Lambda'
  // in column r)
  template <class F>
  void lambda_col(int j, bool symbolic, F&& f) const {
    const int L = s_.n_sigma();
    if (j < goff_(L)) { f(j, symbolic ? 1.0 : lam_(j)); return; }
    const int t = term_(j) - L, m = s_.n_inner(t), b0 = goff_(L + t) + (j - goff_(L + t)) / m * m, c = j - b0;
    for (int a = 0; a < m; ++a) f(b0 + a, symbolic ? 1.0 : Lg_[static_cast<std::size_t>(t)](a, c));
  }
  template <class F>
  void lambda_row(int r, bool symbolic, F&& f) const {
    const int L = s_.n_sigma();
    if (r < goff_(L)) { f(r, symbolic ? 1.0 : lam_(r)); return; }
    const int t = term_(r) - L, m = s_.n_inner(t), b0 = goff_(L + t) + (r - goff_(L + t)) / m * m, a = r - b0;
    for (int c = 0; c < m; ++c) f(b0 + c, symbolic ? 1.0 : Lg_[static_cast<std::size_t>(t)](a, c));
  }
  // C = R~^-1 + Lambda' A Lambda when inner|outer terms make Lambda block
  // diagonal, column by column: C[:, j] = P[:, j] + Lambda' (A Lambda[:, j]),
  // O(nnz(C) m) with m the size of Lambda's blocks.  symbolic: C_ gets its
  // pattern (with each outer block's diagonal block whole, so that the
  // selected inverse has it); else C_'s values at the current Lambda.
  void assemble_C(bool symbolic) {
    std::vector<double> wv(static_cast<std::size_t>(q_), 0.0), cv(static_cast<std::size_t>(q_), 0.0);
    std::vector<char> wm(static_cast<std::size_t>(q_), 0), cm(static_cast<std::size_t>(q_), 0);
    std::vector<int> wt, ct;
    std::vector<Eigen::Triplet<double, int>> tr;
    const int L = s_.n_sigma();
    auto touch_c = [&](int i, double v) {
      if (!cm[i]) { cm[i] = 1; ct.push_back(i); }
      cv[i] += v;
    };
    for (int j = 0; j < q_; ++j) {
      lambda_col(j, symbolic, [&](int sr, double lv) {
        for (SpMat::InnerIterator it(A_, sr); it; ++it) {
          const int r = static_cast<int>(it.row());
          if (!wm[r]) { wm[r] = 1; wt.push_back(r); }
          wv[r] += it.value() * lv;
        }
      });
      for (int r : wt) {
        const double w = wv[r];
        lambda_row(r, symbolic, [&](int i, double lv) { touch_c(i, lv * w); });
        wv[r] = 0.0;
        wm[r] = 0;
      }
      wt.clear();
      for (SpMat::InnerIterator it(P_, j); it; ++it)
        touch_c(static_cast<int>(it.row()), it.row() == j ? it.value() * gsign_(j) : it.value());
      if (symbolic) {
        if (j >= goff_(L)) lambda_col(j, true, [&](int i, double) { touch_c(i, 0.0); });
        for (int i : ct) tr.emplace_back(i, j, 0.0);
      } else {
        for (SpMat::InnerIterator it(C_, j); it; ++it) it.valueRef() = cv[it.row()];
      }
      for (int i : ct) { cv[i] = 0.0; cm[i] = 0; }
      ct.clear();
    }
    if (symbolic) {
      C_.resize(q_, q_);
      C_.setFromTriplets(tr.begin(), tr.end());
      C_.makeCompressed();
    }
  }

  // B <- Lambda' B and B <- Lambda B (rows of B: the q columns of Z)
  template <class M>
  void lam_left(M& B) const { lam_apply(B, true); }
  template <class M>
  void lam_right(M& B) const { lam_apply(B, false); }
  template <class M>
  void lam_apply(M& B, bool transpose) const {
    const int L = s_.n_sigma(), ns = goff_(L);
    for (int g = 0; g < ns; ++g) B.row(g) *= lam_(g);
    for (int t = 0; t < s_.n_gterms(); ++t) {
      const int m = s_.n_inner(t);
      const Mat& Lt = Lg_[static_cast<std::size_t>(t)];
      for (int b0 = goff_(L + t); b0 < goff_(L + t + 1); b0 += m) {
        const Mat blk = B.middleRows(b0, m);
        if (transpose) B.middleRows(b0, m).noalias() = Lt.transpose() * blk;
        else B.middleRows(b0, m).noalias() = Lt * blk;
      }
    }
  }
  // B <- D B, D = Lambda Lambda' on the rows of the ~ 1 | f terms (sigma2_l,
  // the R_l being applied by times_known()) and I (x) E_t on those of an
  // inner|outer term
  template <class M>
  void times_cov(M& B) const {
    const int L = s_.n_sigma(), ns = goff_(L);
    for (int g = 0; g < ns; ++g) B.row(g) *= lam_(g) * lam_(g);
    for (int t = 0; t < s_.n_gterms(); ++t) {
      const int m = s_.n_inner(t);
      for (int b0 = goff_(L + t); b0 < goff_(L + t + 1); b0 += m) {
        const Mat blk = B.middleRows(b0, m);
        B.middleRows(b0, m).noalias() = Eg_[static_cast<std::size_t>(t)] * blk;
      }
    }
  }

  // (Z u)_i = sum_l u(group of row i in term l)
  Vec z_times(const Vec& u) const {
    const int k = pr_.k(), L = s_.n_sigma();
    Vec t(k);
    for (int i = 0; i < k; ++i) {
      double a = 0;
      for (int l = 0; l < L; ++l) a += u(goff_(l) + s_.code(i, l));
      for (int g = 0; g < s_.n_gterms(); ++g) a += u(gterm_column(g, i));
      t(i) = a;
    }
    return t;
  }
  // Z'B (q x c) for B with k rows: the sums over the rows of each level
  Mat zt_times(const Mat& B) const {
    const int k = pr_.k(), L = s_.n_sigma();
    Mat out = Mat::Zero(q_, B.cols());
    for (int i = 0; i < k; ++i) {
      for (int l = 0; l < L; ++l) out.row(goff_(l) + s_.code(i, l)) += B.row(i);
      for (int g = 0; g < s_.n_gterms(); ++g) out.row(gterm_column(g, i)) += B.row(i);
    }
    return out;
  }
  Mat zt_times(const Vec& b) const { return zt_times(Mat(b)); }
  // B <- R~ B (R_l, else the identity, on the rows of each term) or, with
  // factor, B <- Tb' B (T_l' on the rows of a term with a known R_l)
  template <class M>
  void times_known(M& B, bool factor) const {
    if (!s_.any_known()) return;
    for (int l = 0; l < s_.n_sigma(); ++l) {
      if (!s_.has_known(l)) continue;
      const int g0 = goff_(l), nl = s_.n_levels(l);
      const Mat blk = B.middleRows(g0, nl);
      if (factor) B.middleRows(g0, nl).noalias() = s_.known_factor(l).transpose() * blk;
      else B.middleRows(g0, nl).noalias() = s_.known_R(l) * blk;
    }
  }

  // The factors of the inner|outer terms at theta: E_t = Q diag(lambda) Q'
  // = L_t S_t L_t' with L_t = Q diag(sqrt|lambda|) and S_t = diag(sign
  // lambda) (eigenvalues within kPsdSlack of the largest variance taken as
  // 0, sign +1).  An E_t with negative eigenvalues (correlations in their
  // box [-1, 1] need not give a positive semi-definite E_t; metafor, and the
  // block engine, evaluate such theta when M is positive definite) puts
  // S_t, its own inverse, into R~^-1 of C (gsign_); the number of negative
  // eigenvalues over the outer blocks is n_neg_.
  bool factor_gterms(const Vec& theta) {
    n_neg_ = 0;
    const int L = s_.n_sigma();
    for (int t = 0; t < s_.n_gterms(); ++t) {
      Mat& E = Eg_[static_cast<std::size_t>(t)];
      s_.gterm_cov(theta, t, E);
      if (!E.allFinite()) return false;
      Eigen::SelfAdjointEigenSolver<Mat> es(E);
      if (es.info() != Eigen::Success) return false;
      Vec ev = es.eigenvalues();
      const double tiny = kPsdSlack * E.diagonal().cwiseAbs().maxCoeff();
      const int m = s_.n_inner(t);
      Vec sg = Vec::Ones(m);
      for (int c = 0; c < m; ++c) {
        if (std::fabs(ev(c)) <= tiny) ev(c) = 0.0;
        if (ev(c) < 0) sg(c) = -1.0;
      }
      const int neg = static_cast<int>((sg.array() < 0).count());
      n_neg_ += neg * s_.n_outer(t);
      for (int b0 = goff_(L + t); b0 < goff_(L + t + 1); b0 += m) gsign_.segment(b0, m) = sg;
      Lg_[static_cast<std::size_t>(t)] = es.eigenvectors() * ev.cwiseAbs().cwiseSqrt().asDiagonal();
    }
    return true;
  }
  // the rows of term l (0..n_sigma() - 1 the ~ 1 | f terms, then the
  // inner|outer terms) and the term of parameter j
  int param_term(int j) const {
    const int L = s_.n_sigma();
    if (j < L) return j;
    for (int t = 0; t < s_.n_gterms(); ++t) {
      const InnerOuterTerm& tm = s_.gterm(t);
      if (j >= tm.off && j < tm.off + tm.n_v + tm.n_r) return L + t;
    }
    return -1;
  }
  // B <- (I (x) D) B on the rows of inner|outer term t (m x m blocks), into out
  void times_blocks(const Mat& D, int t, const Mat& B, Mat& out) const {
    const int m = s_.n_inner(t), L = s_.n_sigma(), r0 = goff_(L + t), nr = goff_(L + t + 1) - r0;
    out.resize(nr, B.cols());
    for (int o = 0; o < nr; o += m) out.middleRows(o, m).noalias() = D * B.middleRows(r0 + o, m);
  }

  bool eval(const Vec& theta, int what, ObjectiveEval& out) {
    const int k = pr_.k(), p = pr_.p(), L = s_.n_sigma(), np = s_.n_theta(), nG = s_.n_gterms();
    for (int l = 0; l < L; ++l)
      if (!(theta(l) >= 0) || !std::isfinite(theta(l))) return false;
    for (int j = L; j < np; ++j)
      if (!std::isfinite(theta(j))) return false;
    lam_.resize(q_);
    for (int g = 0; g < goff_(L); ++g) lam_(g) = std::sqrt(theta(term_(g)));
    for (int g = goff_(L); g < q_; ++g) lam_(g) = 0.0;
    if (nG) {
      if (!factor_gterms(theta)) return false;
      assemble_C(false);
    } else {
      // C = R~^-1 + Lambda A Lambda on C's pattern
      const int* outer = C_.outerIndexPtr();
      const int* inner = C_.innerIndexPtr();
      double* cv = C_.valuePtr();
      for (int j = 0; j < q_; ++j)
        for (int t = outer[j]; t < outer[j + 1]; ++t) cv[t] = lam_(inner[t]) * ca_[t] * lam_(j) + pv_[t];
    }
    ldlt_.factorize(C_);
    if (ldlt_.info() != Eigen::Success) return false;
    const Vec D = ldlt_.vectorD();
    // M positive definite: C positive definite, or (E_t with negative
    // eigenvalues) as many negative pivots as R~^-1 has negative entries, by
    // the inertia of [V, Z L; L'Z', -S] through both Schur complements
    // (Haynsworth 1968): In(M) = In(V) + In(-C) - In(-S)
    if (!D.allFinite() || !(D.cwiseAbs().minCoeff() > 0)) return false;
    if (static_cast<int>((D.array() < 0).count()) != n_neg_) return false;
    const double logdet_m = logdet_v_ + s_.known_logdet() + D.array().abs().log().sum();
    // GLS: X'WX = X'V^-1X - (Lambda' F)' C^-1 (Lambda' F), likewise X'Wy
    Mat LF = F_;
    lam_left(LF);
    H_ = ldlt_.solve(LF);  // C^-1 Lambda' F (kept for row_diagnostics())
    const Mat& H = H_;
    Mat lfy = fy_;
    lam_left(lfy);
    const Mat hm = ldlt_.solve(lfy);
    const Vec h = hm.col(0);
    Mat Axx = XtViX_;
    Axx.noalias() -= LF.transpose() * H;
    const Vec xwy = XtViy_ - LF.transpose() * h;
    Eigen::LLT<Mat> la(Axx);
    if (la.info() != Eigen::Success) return false;
    out.Ainv = la.solve(Mat::Identity(p, p));
    out.beta = la.solve(xwy);
    // r = W e = V^-1 e - V^-1 Z Lambda C^-1 Lambda' Z'V^-1 e, Z'V^-1 e = fy - F beta
    Mat w = fy_ - F_ * out.beta;
    lam_left(w);
    Mat cw = ldlt_.solve(w);
    lam_right(cw);
    w = cw;
    Mat zw = z_times(w.col(0));
    apply_vinv(zw);
    r_ = Viy_ - ViX_ * out.beta - zw.col(0);
    const Vec e = pr_.y - pr_.X * out.beta;
    out.eWe = e.dot(r_);
    if (what & kObjLL) {
      const Mat LA = la.matrixL();
      const double logdet_a = 2.0 * LA.diagonal().array().log().sum();
      const double two_pi = 2.0 * M_PI;
      out.ll = reml_ ? -0.5 * ((k - p) * std::log(two_pi) + logdet_m + logdet_a - logdet_xtx_ + out.eWe)
                     : -0.5 * (k * std::log(two_pi) + logdet_m + out.eWe);
    }
    const bool traces = (what & (kObjScore | kObjInfo)) != 0, info = (what & kObjInfo) != 0;
    if (!traces) return true;
    // r'G_l r = |Z_l' r|^2 (|T_l' Z_l' r|^2 with a known R_l); an inner|outer
    // parameter: sum over outer blocks of (Z'r)_o' dE (Z'r)_o
    Vec zr = zt_times(r_).col(0);
    const Vec zr0 = zr;
    times_known(zr, true);
    Vec rGr = Vec::Zero(np);
    for (int g = 0; g < goff_(L); ++g) rGr(term_(g)) += zr(g) * zr(g);
    for (int t = 0; t < nG; ++t) {
      const InnerOuterTerm& tm = s_.gterm(t);
      const int m = s_.n_inner(t);
      std::vector<Mat>& dE = dEg_[static_cast<std::size_t>(t)];
      dE.resize(static_cast<std::size_t>(tm.n_v + tm.n_r));
      for (int par = 0; par < tm.n_v + tm.n_r; ++par) {
        s_.gterm_deriv(theta, t, par, dE[static_cast<std::size_t>(par)]);
        for (int b0 = goff_(L + t); b0 < goff_(L + t + 1); b0 += m) {
          const auto zo = zr0.segment(b0, m);
          rGr(tm.off + par) += zo.dot(dE[static_cast<std::size_t>(par)] * zo);
        }
      }
    }
    // U = Z'WX = F - A Lambda C^-1 Lambda' F = F - A (Lambda H)
    Mat U0 = F_;
    {
      Mat LH = H;
      lam_right(LH);
      U0.noalias() -= A_ * LH;
    }
    Mat U = U0;
    times_known(U, true);  // (U~ = Tb' U)
    // B_j = U' dD_j U, and (inner|outer terms present) dD_j U on the rows of
    // parameter j's term (DU)
    std::vector<Mat> B(static_cast<std::size_t>(np)), DU(nG ? static_cast<std::size_t>(np) : 0);
    for (int l = 0; l < L; ++l) {
      const auto Ul = U.middleRows(goff_(l), s_.n_levels(l));
      B[l].noalias() = Ul.transpose() * Ul;
      if (!nG) continue;
      DU[l] = U0.middleRows(goff_(l), s_.n_levels(l));
      if (s_.has_known(l)) DU[l] = Mat(s_.known_R(l) * DU[l]);
    }
    for (int t = 0; t < nG; ++t) {
      const InnerOuterTerm& tm = s_.gterm(t);
      const int r0 = goff_(L + t), nr = goff_(L + t + 1) - r0;
      for (int par = 0; par < tm.n_v + tm.n_r; ++par) {
        const int j = tm.off + par;
        times_blocks(dEg_[static_cast<std::size_t>(t)][static_cast<std::size_t>(par)], t, U0, DU[j]);
        B[j].noalias() = U0.middleRows(r0, nr).transpose() * DU[j];
      }
    }
    // the columns of S = A - A Lambda C^-1 Lambda' A in chunks: tr(S_ll),
    // |S_jl|_F^2 and (REML) C_jl = U_j' S_jl U_l.  With known R_l the
    // Harville terms are tr(R_l S_ll), tr(R_j S_jl R_l S_lj), U_l' R_l U_l
    // and U_j' R_j S_jl R_l U_l: the same sums over S~ = Tb' S Tb and U~ =
    // Tb' U (Tb = blockdiag(I or T_l), R_l = T_l T_l'), so a known term's
    // columns form one chunk, turned into S~'s by T_l on both sides
    Vec trS = Vec::Zero(np);
    Mat SS = Mat::Zero(L, L);
    std::vector<Mat> Cjl(info && reml_ ? static_cast<std::size_t>(L) * L : 0, Mat::Zero(p, p));
    Mat E, Y, Tp;
    // S[:, c0 .. c0 + m) into E
    auto s_columns = [&](int c0, int m) {
      E.setZero(q_, m);
      for (int c = 0; c < m; ++c)
        for (SpMat::InnerIterator it(A_, c0 + c); it; ++it) E(it.row(), c) = it.value();
      Y = E;
      lam_left(Y);
      Mat Y2 = ldlt_.solve(Y);
      lam_right(Y2);
      E.noalias() -= A_ * Y2;
    };
    for (const std::pair<int, int>& ch : chunks_) {
      if (poll_ && !poll_()) { interrupted_ = true; return false; }
      const int c0 = ch.first, m = ch.second;
      s_columns(c0, m);
      if (s_.any_known()) {
        if (s_.has_known(term_(c0))) E = Mat(E * s_.known_factor(term_(c0)));
        times_known(E, true);  // (S~[:, c0 .. c0 + m))
      }
      for (int c = 0; c < m; ++c) trS(term_(c0 + c)) += E(c0 + c, c);
      if (!info) continue;
      for (int j = 0; j < L; ++j) {
        const auto Ej = E.middleRows(goff_(j), s_.n_levels(j));
        for (int c = 0; c < m; ++c) SS(j, term_(c0 + c)) += Ej.col(c).squaredNorm();
        if (!reml_) continue;
        Tp.noalias() = U.middleRows(goff_(j), s_.n_levels(j)).transpose() * Ej;
        for (int c = 0; c < m; ++c) {
          const int g = c0 + c, l = term_(g);
          Cjl[static_cast<std::size_t>(j) * L + l].noalias() += Tp.col(c) * U.row(g);
        }
      }
    }
    // The inner|outer terms' chunks (whole outer blocks J of term t): for b a
    // parameter of t, dD_b is I (x) dE_b there, so (S dD_b)[:, J] = S[:, J]
    // (I (x) dE_b) and, over the chunks of t,
    //   tr(S dD_b) = sum_J diag((S dD_b)_JJ),
    //   tr(S dD_a S dD_b) = sum_J <dD_a S[:, J], (S dD_b)[:, J]>_F,
    //   U' dD_a S dD_b U = sum_J (dD_a U)' (S dD_b)[:, J] U_J
    // for every parameter a (dD_a acting on the rows of a's term: sigma2_l
    // the identity or R_l, an inner|outer parameter I (x) dE_a).  Tg(a, b),
    // Cg(a, b) for b an inner|outer parameter.
    Mat Tg = nG && info ? Mat::Zero(np, np) : Mat();
    std::vector<Mat> Cg(nG && info && reml_ ? static_cast<std::size_t>(np) * np : 0);
    std::vector<Mat> DE(nG && info ? static_cast<std::size_t>(np) : 0);
    Mat EDb, EDbU;
    for (const std::pair<int, int>& ch : gchunks_) {
      if (poll_ && !poll_()) { interrupted_ = true; return false; }
      const int c0 = ch.first, w = ch.second, t = term_(c0) - L, m = s_.n_inner(t);
      const InnerOuterTerm& tb = s_.gterm(t);
      s_columns(c0, w);
      if (info) {
        for (int a = 0; a < np; ++a) {
          const int ta = param_term(a), r0 = goff_(ta), nr = goff_(ta + 1) - r0;
          if (ta < L) DE[a] = s_.has_known(ta) ? Mat(s_.known_R(ta) * E.middleRows(r0, nr)) : Mat(E.middleRows(r0, nr));
          else times_blocks(dEg_[static_cast<std::size_t>(ta - L)][static_cast<std::size_t>(a - s_.gterm(ta - L).off)], ta - L, E, DE[a]);
        }
      }
      for (int par = 0; par < tb.n_v + tb.n_r; ++par) {
        const int bj = tb.off + par;
        const Mat& dE = dEg_[static_cast<std::size_t>(t)][static_cast<std::size_t>(par)];
        EDb.resize(q_, w);
        for (int o = 0; o < w; o += m) EDb.middleCols(o, m).noalias() = E.middleCols(o, m) * dE;
        for (int c = 0; c < w; ++c) trS(bj) += EDb(c0 + c, c);
        if (!info) continue;
        if (reml_) EDbU.noalias() = EDb * U0.middleRows(c0, w);
        for (int a = 0; a < np; ++a) {
          const int ta = param_term(a), r0 = goff_(ta), nr = goff_(ta + 1) - r0;
          Tg(a, bj) += DE[a].cwiseProduct(EDb.middleRows(r0, nr)).sum();
          if (!reml_) continue;
          Mat& cg = Cg[static_cast<std::size_t>(a) * np + bj];
          if (cg.size() == 0) cg = Mat::Zero(p, p);
          cg.noalias() += DU[a].transpose() * EDbU.middleRows(r0, nr);
        }
      }
    }
    if (what & kObjScore) {
      out.score.resize(np);
      for (int l = 0; l < np; ++l) {
        const double tr_pg = reml_ ? trS(l) - out.Ainv.cwiseProduct(B[l]).sum() : trS(l);
        out.score(l) = 0.5 * (rGr(l) - tr_pg);
      }
    }
    if (info) {
      out.info.resize(np, np);
      for (int j = 0; j < np; ++j)
        for (int l = 0; l <= j; ++l) {
          // (j >= l: an inner|outer parameter in the pair is j)
          const bool g = j >= L;
          double t = g ? Tg(l, j) : SS(j, l);
          if (reml_) {
            const Mat AB_j = out.Ainv * B[j], AB_l = out.Ainv * B[l];
            const Mat& cjl = g ? Cg[static_cast<std::size_t>(l) * np + j] : Cjl[static_cast<std::size_t>(j) * L + l];
            t += -2.0 * out.Ainv.cwiseProduct(cjl).sum() + AB_j.cwiseProduct(AB_l.transpose()).sum();
          }
          out.info(j, l) = out.info(l, j) = 0.5 * t;
        }
    }
    return true;
  }
};

// theta by ML or REML for crossed terms: fit_objective() (fit.hpp) on the
// sparse objective.  theta0 empty: block_start().
inline BlockFitResult fit_crossed_model(const ProblemView& pr, const CrossedTerms& s, bool reml, const Control& ctl,
                                        const Vec& theta0 = Vec(), const OptimPoll& poll = OptimPoll()) {
  SparseCrossedObjective obj(pr, s, reml, poll);
  if (!obj.sampling_ok()) {
    BlockFitResult r;
    r.conv.converged = false;
    r.conv.message = s.known_pd()
                         ? "the sampling covariance V is not positive definite (needed by the sparse fit of crossed terms)"
                         : "a known correlation matrix R is not positive definite (needed by the sparse fit of crossed terms)";
    return r;
  }
  BlockFitResult r = fit_objective(obj, theta0.size() ? theta0 : block_start(pr, s), ctl, poll);
  if (obj.interrupted()) {
    r.conv.converged = false;
    r.conv.message = "interrupted";
  }
  return r;
}

}  // namespace metafast
