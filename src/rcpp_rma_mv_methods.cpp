// Methods of rma.mv() fits that need no refitting (R/methods-rma-mv-diag.R):
// hat values, weights, standardised and Cholesky residuals, cluster-level
// residual statistics and the BLUPs of the random effects.  The model is the
// fit's spec (rcpp_mv_model.h), rows in the engine's sorted order, and the
// marginal covariance M = blockdiag(M_b) comes from the structure's
// block_cov() at the fitted parameters, so every structure is handled alike.
// Nothing here forms a k x k matrix, except mf_rma_mv_matrix(), which the
// user asks for (type = "matrix").
//
// With W = M^-1 and A = (X'WX)^-1 (the GLS fit; Harville 1977):
//   hat matrix       H = X A X' W,                 h_i = x_i' A (W X)_i'
//   Var(e)           (I - H) M (I - H)' = M - X A X'
//   BLUP (term j)    u_j = theta_j G_j W e,  Var(u_j - u) diagonal:
//                    theta_j G_j - theta_j^2 G_j P G_j,  P = W - W X A X' W
// with G_j = dM/dtheta_j (= Z_j Z_j' for a variance component of a nested
// factor; Robinson 1991, That BLUP is a good thing, Stat Sci 6:15-32).
#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "rcpp_mv_model.h"
#include "rcpp_cluster_x2.h"

#include <cmath>
#include <limits>
#include <vector>

using namespace metafast;

namespace {

Vec theta_from_r(const Rcpp::NumericVector& theta, int L) {
  if (theta.size() != L) Rcpp::stop("internal error: theta has length %d, the structure %d", theta.size(), L);
  Vec t(L);
  for (int l = 0; l < L; ++l) t(l) = theta[l];
  return t;
}

void poll_block(RPoll& rp, int b) {
  if ((b & 1023) == 1023 && !rp(0)) throw Rcpp::internal::InterruptedException();
}

// The per-row quantities of one pass over the blocks (sorted rows): W X,
// W e, diag(W), row sums of W, diag(M), the Cholesky residuals L' e with
// L L' = W_b, and A = (X'WX)^-1.
struct MvPass {
  Mat WX;
  Vec We, wdiag, wrow, mdiag, chol;
  Mat A;
};

void mv_pass(const MvModel& mm, const Vec& theta, const Vec& e, MvPass& out, bool want_chol) {
  const ProblemView& pr = mm.pr;
  const VarStructure& st = mm.structure();
  const int k = pr.k(), p = pr.p(), nbk = pr.n_blocks();
  out.WX.resize(k, p);
  out.We.resize(k);
  out.wdiag.resize(k);
  out.wrow.resize(k);
  out.mdiag.resize(k);
  out.chol.resize(want_chol ? k : 0);
  Mat XtWX = Mat::Zero(p, p);
  Mat M, W;
  Eigen::Index voff = 0;
  RPoll rp(R_NilValue);
  for (int b = 0; b < nbk; ++b) {
    poll_block(rp, b);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    st.block_cov(pr, theta, b, voff, M);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    Eigen::LLT<Mat> llt(M);
    if (llt.info() != Eigen::Success)
      Rcpp::stop("The marginal covariance matrix is not positive definite in block %d (rows %d to %d of the sorted data).",
                 b + 1, i0 + 1, i0 + nb);
    W = llt.solve(Mat::Identity(nb, nb));
    W = (W + W.transpose()) / 2;
    out.mdiag.segment(i0, nb) = M.diagonal();
    out.wdiag.segment(i0, nb) = W.diagonal();
    out.wrow.segment(i0, nb) = W.rowwise().sum();
    out.WX.middleRows(i0, nb).noalias() = W * pr.X.middleRows(i0, nb);
    out.We.segment(i0, nb).noalias() = W * e.segment(i0, nb);
    XtWX.noalias() += pr.X.middleRows(i0, nb).transpose() * out.WX.middleRows(i0, nb);
    if (want_chol) {
      Eigen::LLT<Mat> lw(W);  // W_b = L L', metafor's chol(W) is L'
      out.chol.segment(i0, nb).noalias() = lw.matrixU() * e.segment(i0, nb);
    }
  }
  XtWX = (XtWX + XtWX.transpose()) / 2;
  Eigen::LLT<Mat> lx(XtWX);
  if (lx.info() != Eigen::Success) Rcpp::stop("X'WX is not positive definite.");
  out.A = lx.solve(Mat::Identity(p, p));
}

Vec resid_of(const ProblemView& pr, const Rcpp::NumericVector& beta) {
  Vec b(pr.p());
  for (int j = 0; j < pr.p(); ++j) b(j) = beta[j];
  return pr.y - pr.X * b;
}

}  // namespace

// Per-row diagnostics in the spec's sorted order: hat values, diag(W) and
// the row sums of W, diag(M), the diagonal of Var(e) = M - X A X', the
// residuals e and the Cholesky residuals.  O(sum n_b^3 + k p^2).
// [[Rcpp::export(name = ".mf_rma_mv_rowdiag", rng = false)]]
Rcpp::List mf_rma_mv_rowdiag(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const Vec th = theta_from_r(theta, mm.n_theta());
  const Vec e = resid_of(pr, beta);
  MvPass ps;
  mv_pass(mm, th, e, ps, true);
  const int k = pr.k();
  const Mat XA = pr.X * ps.A;
  Rcpp::NumericVector hat(k), ve(k);
  for (int i = 0; i < k; ++i) {
    hat[i] = XA.row(i).dot(ps.WX.row(i));
    ve[i] = ps.mdiag(i) - XA.row(i).dot(pr.X.row(i));
  }
  return Rcpp::List::create(Rcpp::Named("hat") = hat, Rcpp::Named("wdiag") = Rcpp::wrap(ps.wdiag),
                            Rcpp::Named("wrowsum") = Rcpp::wrap(ps.wrow), Rcpp::Named("mdiag") = Rcpp::wrap(ps.mdiag),
                            Rcpp::Named("var.resid") = ve, Rcpp::Named("resid") = Rcpp::wrap(e),
                            Rcpp::Named("chol") = Rcpp::wrap(ps.chol));
}

// A k x k matrix in the sorted order, only on the user's request:
// what = "W" (M^-1, block diagonal), "H" (X A X' W) or "M".
// [[Rcpp::export(name = ".mf_rma_mv_matrix", rng = false)]]
Rcpp::NumericMatrix mf_rma_mv_matrix(Rcpp::List spec, Rcpp::NumericVector theta, std::string what) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const Vec th = theta_from_r(theta, mm.n_theta());
  const int k = pr.k();
  Rcpp::NumericMatrix out(k, k);
  Eigen::Map<Mat> O(out.begin(), k, k);
  if (what == "H") {
    MvPass ps;
    mv_pass(mm, th, Vec::Zero(k), ps, false);
    O.noalias() = (pr.X * ps.A) * ps.WX.transpose();
    return out;
  }
  const VarStructure& st = mm.structure();
  Mat M;
  Eigen::Index voff = 0;
  RPoll rp(R_NilValue);
  for (int b = 0; b < pr.n_blocks(); ++b) {
    poll_block(rp, b);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    st.block_cov(pr, th, b, voff, M);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    if (what == "W") {
      Eigen::LLT<Mat> llt(M);
      if (llt.info() != Eigen::Success) Rcpp::stop("The marginal covariance matrix is not positive definite.");
      M = llt.solve(Mat::Identity(nb, nb));
      M = (M + M.transpose()) / 2;
    }
    O.block(i0, i0, nb, nb) = M;
  }
  return out;
}

// Per block b of the marginal covariance at theta: its smallest eigenvalue
// over its largest (rma.mv()'s check of fits on metafor's Cholesky scale,
// .mf_mv_warn_singular_block() in R/rma_mv.R).  No factorisation, so an
// indefinite block gives a negative ratio rather than an error.  O(sum n_b^3).
// [[Rcpp::export(name = ".mf_rma_mv_block_eigen_ratio", rng = false)]]
Rcpp::NumericVector mf_rma_mv_block_eigen_ratio(Rcpp::List spec, Rcpp::NumericVector theta) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const VarStructure& st = mm.structure();
  const Vec th = theta_from_r(theta, mm.n_theta());
  Rcpp::NumericVector out(pr.n_blocks());
  Mat M;
  Eigen::Index voff = 0;
  RPoll rp(R_NilValue);
  Eigen::SelfAdjointEigenSolver<Mat> es;
  for (int b = 0; b < pr.n_blocks(); ++b) {
    poll_block(rp, b);
    const int nb = pr.block_size(b);
    st.block_cov(pr, th, b, voff, M);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    es.compute(M, Eigen::EigenvaluesOnly);
    const Vec ev = es.eigenvalues();  // (ascending)
    out[b] = ev(nb - 1) > 0 ? ev(0) / ev(nb - 1) : -1.0;
  }
  return out;
}

// metafor's cluster-level statistic X2_c = e_c' Var(e)_cc^-1 e_c for the
// clusters of 'cluster' (codes 0..n_cluster-1 per sorted row), with
// Var(e)_cc = M_cc - X_c A X_c' (M_cc read from the blocks the cluster's
// rows fall in: M is block diagonal); NA when Var(e)_cc is not positive
// definite (eigenvalues of its square not above machine epsilon, metafor's
// test).  O(sum n_b^3 + sum_c m_c^3) for clusters of m_c rows.
// [[Rcpp::export(name = ".mf_rma_mv_cluster_x2", rng = false)]]
Rcpp::NumericVector mf_rma_mv_cluster_x2(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta,
                                         Rcpp::IntegerVector cluster, int n_cluster) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const VarStructure& st = mm.structure();
  const Vec th = theta_from_r(theta, mm.n_theta());
  const Vec e = resid_of(pr, beta);
  MvPass ps;
  mv_pass(mm, th, e, ps, false);
  const int k = pr.k(), nbk = pr.n_blocks();
  // the blocks of M, kept (O(sum n_b^2), as the V blocks)
  std::vector<Mat> Mb(nbk);
  std::vector<int> blk(k);
  Eigen::Index voff = 0;
  RPoll rp(R_NilValue);
  for (int b = 0; b < nbk; ++b) {
    poll_block(rp, b);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    st.block_cov(pr, th, b, voff, Mb[b]);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    for (int i = 0; i < nb; ++i) blk[i0 + i] = b;
  }
  const Mat XA = pr.X * ps.A;
  // M_ij from the blocks the rows fall in (M is block diagonal)
  auto m_entry = [&](int a, int d) {
    if (blk[a] != blk[d]) return 0.0;
    const int i0 = pr.block_begin(blk[a]);
    return Mb[blk[a]](a - i0, d - i0);
  };
  return cluster_x2_r(pr.X, XA, e, cluster, n_cluster, m_entry, rp);
}

// The BLUP of the random effect of a covariance block Gs (n_b x n_b, the
// component's part of M_b) for the rows of block b: pred = Gs (W e)_b and
// the prediction variance diag(Gs - Gs P Gs), (Gs P Gs)_ii = g_i' W_b g_i -
// q_i' A q_i, q_i = X_b' W_b g_i (g_i: column i of Gs).
static void blup_of_block(const Mat& Gs, const Mat& W, const Eigen::Ref<const Vec>& We_b,
                          const Eigen::Ref<const Mat>& Xb, const Mat& A, double* pred, double* vpred) {
  const int nb = static_cast<int>(Gs.rows());
  const Mat WG = W * Gs;
  const Vec u = Gs * We_b;
  const Mat Q = Xb.transpose() * WG;  // p x n_b: columns q_i
  const Mat AQ = A * Q;
  for (int i = 0; i < nb; ++i) {
    pred[i] = u(i);
    vpred[i] = Gs(i, i) - (Gs.col(i).dot(WG.col(i)) - Q.col(i).dot(AQ.col(i)));
  }
}

// The BLUPs of the random effects of the '~ inner | outer' term t (0: G,
// 1: H) per sorted row: pred = G_t W e and diag(G_t - G_t P G_t), with G_t
// the term's part of M (block by block: RandomTerms::term_block()).
// O(sum n_b^2 (n_b + p) + k p^2).
// [[Rcpp::export(name = ".mf_rma_mv_ranef_term", rng = false)]]
Rcpp::List mf_rma_mv_ranef_term(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta, int term) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const RandomTerms* rt = dynamic_cast<const RandomTerms*>(&mm.structure());
  if (rt == nullptr || term < 0 || term >= rt->n_terms())
    Rcpp::stop("internal error: the model has no '~ inner | outer' term %d", term + 1);
  const Vec th = theta_from_r(theta, mm.n_theta());
  const Vec e = resid_of(pr, beta);
  MvPass ps;
  mv_pass(mm, th, e, ps, false);
  const int k = pr.k(), nbk = pr.n_blocks();
  Rcpp::NumericVector pred(k), vpred(k);
  Mat M, W, G;
  Eigen::Index voff = 0;
  RPoll rp(R_NilValue);
  for (int b = 0; b < nbk; ++b) {
    poll_block(rp, b);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    mm.structure().block_cov(pr, th, b, voff, M);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    Eigen::LLT<Mat> llt(M);
    W = llt.solve(Mat::Identity(nb, nb));
    W = (W + W.transpose()) / 2;
    rt->term_block(pr, th, term, b, G);
    blup_of_block(G, W, ps.We.segment(i0, nb), pr.X.middleRows(i0, nb), ps.A, &pred[i0], &vpred[i0]);
  }
  return Rcpp::List::create(Rcpp::Named("pred") = pred, Rcpp::Named("var") = vpred);
}

// The BLUPs of the random effects per sorted row, one column per parameter
// j of the structure: pred = theta_j (G_j W e) and its prediction variance
// theta_j (G_j)_ii - theta_j^2 (G_j P G_j)_ii, with
// (G P G)_ii = g_i' W_b g_i - q_i' A q_i,  q_i = X_b' W_b g_i  (g_i: column i
// of the block's G_j).  O(L sum n_b^2 (n_b + p) + k p^2).
// [[Rcpp::export(name = ".mf_rma_mv_ranef", rng = false)]]
Rcpp::List mf_rma_mv_ranef(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const VarStructure& st = mm.structure();
  const int L = mm.n_theta();
  const Vec th = theta_from_r(theta, L);
  const Vec e = resid_of(pr, beta);
  MvPass ps;
  mv_pass(mm, th, e, ps, false);
  const int k = pr.k(), nbk = pr.n_blocks();
  Rcpp::NumericMatrix pred(k, L), vpred(k, L);
  Mat M, W, G, WG, Q;
  Eigen::Index voff = 0;
  RPoll rp(R_NilValue);
  for (int b = 0; b < nbk; ++b) {
    poll_block(rp, b);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    st.block_cov(pr, th, b, voff, M);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    Eigen::LLT<Mat> llt(M);
    W = llt.solve(Mat::Identity(nb, nb));
    W = (W + W.transpose()) / 2;
    for (int j = 0; j < L; ++j) {
      st.block_deriv(pr, th, j, b, G);
      WG.noalias() = W * G;
      const Vec u = th(j) * (G * ps.We.segment(i0, nb));
      Q.noalias() = pr.X.middleRows(i0, nb).transpose() * WG;  // p x n_b: columns q_i
      const Mat AQ = ps.A * Q;
      for (int i = 0; i < nb; ++i) {
        const double gpg = G.col(i).dot(WG.col(i)) - Q.col(i).dot(AQ.col(i));
        pred(i0 + i, j) = u(i);
        vpred(i0 + i, j) = th(j) * G(i, i) - th(j) * th(j) * gpg;
      }
    }
  }
  return Rcpp::List::create(Rcpp::Named("pred") = pred, Rcpp::Named("var") = vpred);
}

// W e restricted to groups within the blocks, per sorted row:
// w_i = sum_j W_b(i, j) e_j over the rows j of i's block b with group_j ==
// group_i (W_b = M_b^-1).  metafor's ranef() of a GEN/GDIAG term forms the
// BLUP of outer level o from the submatrix W[o, o] of M^-1 and e[o]
// (u_o = E Z_o' W[o, o] e_o); the rows of one outer level always fall in one
// block.  O(sum n_b^3 + k p).
// [[Rcpp::export(name = ".mf_rma_mv_group_we", rng = false)]]
Rcpp::NumericVector mf_rma_mv_group_we(Rcpp::List spec, Rcpp::NumericVector theta, Rcpp::NumericVector beta,
                                       Rcpp::IntegerVector group) {
  const MvModel mm(spec);
  const ProblemView& pr = mm.pr;
  const int k = pr.k(), nbk = pr.n_blocks();
  if (group.size() != k) Rcpp::stop("internal error: 'group' must have one code per row");
  const Vec th = theta_from_r(theta, mm.n_theta());
  const Vec e = resid_of(pr, beta);
  Rcpp::NumericVector out(k);
  Mat M, W;
  Eigen::Index voff = 0;
  RPoll rp(R_NilValue);
  for (int b = 0; b < nbk; ++b) {
    poll_block(rp, b);
    const int i0 = pr.block_begin(b), nb = pr.block_size(b);
    mm.structure().block_cov(pr, th, b, voff, M);
    if (pr.dense_cov()) voff += static_cast<Eigen::Index>(nb) * nb;
    Eigen::LLT<Mat> llt(M);
    if (llt.info() != Eigen::Success)
      Rcpp::stop("The marginal covariance matrix is not positive definite in block %d (rows %d to %d of the sorted data).",
                 b + 1, i0 + 1, i0 + nb);
    W = llt.solve(Mat::Identity(nb, nb));
    W = (W + W.transpose()) / 2;
    for (int i = 0; i < nb; ++i) {
      double s = 0.0;
      for (int j = 0; j < nb; ++j)
        if (group[i0 + j] == group[i0 + i]) s += W(i, j) * e(i0 + j);
      out[i0 + i] = s;
    }
  }
  return out;
}
