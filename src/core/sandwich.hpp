// Cluster-robust (sandwich) variance of GLS/WLS meta-analytic estimates and
// its small-sample tests, cluster by cluster (no k x k matrix).
//
// Rows are sorted by cluster: X_j (n_j x p), e_j = y_j - X_j b, and the
// working (target) covariance Theta_j of cluster j, with W_j = Theta_j^-1 the
// working model's weights (the inverse of the fitted marginal covariance, whose
// blocks the clusters must nest).  B = (sum_j X_j' W_j X_j)^-1.
//   V^CR = B (sum_j E_j e_j e_j' E_j') B,   E_j = X_j' W_j A_j   (p x n_j)
// with A_j = I (CR0; CR1, CR1p, CR1S scale E_j by sqrt(J/(J-1)),
// sqrt(J/(J-p)), sqrt(J(N-1)/((J-1)(N-p)))), A_j = (I - H_jj)^-1 (CR3), or
// the CR2 adjustment of Bell & McCaffrey (2002, Survey Methodology 28:169-181)
// in the working-model form of Pustejovsky & Tipton (2018, JBES 36:672-683,
// eq. 6): with Theta_j = L_j L_j',
//   A_j = L_j G_j^-1/2 L_j',  G_j = L_j' (Theta_j - X_j B X_j') L_j,
// G^-1/2 the symmetric inverse square root (eigenvalues <= 1e-12 dropped).
//
// Small-sample tests (Pustejovsky & Tipton 2018, sec. 3): for a contrast
// matrix C (q x p) let G_j = C B E_j (q x n_j), D_j = G_j Theta_j G_j',
// Q_j = X_j' G_j' and R_j = L_B' Q_j with L_B L_B' = B.  Under the working
// model Var(e) = M - X B X', so the covariances of the quadratic forms are
//   P_st(i,j) = delta_ij (D_i)_st - (R_i' R_j)_st,
// the expected robust covariance Omega = sum_i P(i,i), and the sums over
// cluster pairs reduce to per-cluster sums plus the p x q x p x q tensor
// S = sum_i R_i (x) R_i:
//   sum_ij P_st(i,j) P_st(j,i) = sum_i [D_st^2 - 2 D_st (R_i'R_i)_st] + sum S[a,s,b,t] S[a,t,b,s]
//   sum_ij tr P(i,j)^2 ...      = sum_i [tr(D_i)^2 - 2 tr(D_i) tr(R_i'R_i)] + sum S^2
// Satterthwaite df of one contrast (q = 1): Omega^2 / sum_ij P(i,j)^2; the
// HTZ test's nu_Z = q (q + 1) / [sum over the two expressions above for the
// contrasts C~ = Omega^-1/2 C] (Tipton & Pustejovsky 2015, J Educ Behav
// Stat 40:604-634, the "Z" approximation).  Cost O(sum n_j^3 + J p^2 q^2).
#pragma once

#include <Eigen/Dense>

#include <cmath>
#include <vector>

namespace metafast {

enum class SandwichType { CR0 = 0, CR1 = 1, CR1p = 2, CR1S = 3, CR2 = 4, CR3 = 5 };

struct SandwichData {
  Eigen::MatrixXd X;              // k x p, rows sorted by cluster
  Eigen::VectorXd e;              // residuals, same order
  std::vector<int> off;           // J + 1 cluster offsets
  std::vector<Eigen::MatrixXd> Theta;  // working covariance blocks
  Eigen::MatrixXd B;              // (X' W X)^-1
};

struct SandwichFit {
  std::vector<Eigen::MatrixXd> E;  // p x n_j adjusted estimating matrices
  std::vector<Eigen::MatrixXd> L;  // Cholesky factors of Theta_j
  Eigen::MatrixXd vcov;            // p x p
  bool ok = true;                  // false: a Theta_j is not positive definite
};

// symmetric (inverse) power of a symmetric matrix, eigenvalues <= 1e-12 set to 0
inline Eigen::MatrixXd sandwich_sym_power(const Eigen::MatrixXd& G, double pw) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es((G + G.transpose()) / 2);
  Eigen::VectorXd d = es.eigenvalues();
  for (Eigen::Index i = 0; i < d.size(); ++i) d(i) = d(i) > 1e-12 ? std::pow(d(i), pw) : 0.0;
  return es.eigenvectors() * d.asDiagonal() * es.eigenvectors().transpose();
}

template <class Poll>
inline void sandwich_compute(const SandwichData& dt, SandwichType type, SandwichFit& out, Poll&& poll) {
  const int J = static_cast<int>(dt.off.size()) - 1;
  const int p = static_cast<int>(dt.X.cols());
  const int N = static_cast<int>(dt.X.rows());
  double f = 1.0;
  if (type == SandwichType::CR1) f = std::sqrt(double(J) / (J - 1));
  if (type == SandwichType::CR1p) f = std::sqrt(double(J) / (J - p));
  if (type == SandwichType::CR1S) f = std::sqrt(double(J) * (N - 1) / ((J - 1.0) * (N - p)));
  out.E.assign(J, Eigen::MatrixXd());
  out.L.assign(J, Eigen::MatrixXd());
  out.ok = true;
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(p, p);
  for (int j = 0; j < J; ++j) {
    if ((j & 255) == 255 && !poll()) return;
    const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
    const Eigen::MatrixXd Xj = dt.X.middleRows(i0, n);
    Eigen::LLT<Eigen::MatrixXd> llt(dt.Theta[j]);
    if (llt.info() != Eigen::Success) {
      out.ok = false;
      return;
    }
    out.L[j] = llt.matrixL();
    const Eigen::MatrixXd& L = out.L[j];
    // Xt = L^-1 X_j, so X_j' W_j = Xt' L^-1
    const Eigen::MatrixXd Xt = L.triangularView<Eigen::Lower>().solve(Xj);
    Eigen::MatrixXd Ej;  // p x n
    if (type == SandwichType::CR2) {
      // W_j A_j = L^-T G^-1/2 L', so E_j = Xt' G^-1/2 L'
      const Eigen::MatrixXd LtL = L.transpose() * L, LtX = L.transpose() * Xj;
      const Eigen::MatrixXd G = LtL * LtL - LtX * dt.B * LtX.transpose();
      Ej = (Xt.transpose() * sandwich_sym_power(G, -0.5)) * L.transpose();
    } else {
      // X_j' W_j
      Ej = L.transpose().triangularView<Eigen::Upper>().solve(Xt).transpose();
      if (type == SandwichType::CR3) {
        // A_j = (I - X_j B X_j' W_j)^-1
        Eigen::MatrixXd IH = -(Xj * dt.B * Ej);
        IH.diagonal().array() += 1.0;
        Ej = Ej * IH.inverse();
      } else {
        Ej *= f;
      }
    }
    const Eigen::VectorXd u = Ej * dt.e.segment(i0, n);
    meat.noalias() += u * u.transpose();
    out.E[j] = std::move(Ej);
  }
  out.vcov = dt.B * meat * dt.B;
  out.vcov = (out.vcov + out.vcov.transpose()) / 2;
}

// Per-cluster pieces of the tests for contrasts C (q x p): D_j (q x q) and
// R_j (p x q).
struct SandwichPieces {
  std::vector<Eigen::MatrixXd> D, R;
};

inline void sandwich_pieces(const SandwichData& dt, const SandwichFit& sf, const Eigen::MatrixXd& C,
                            SandwichPieces& pc) {
  const int J = static_cast<int>(dt.off.size()) - 1;
  const Eigen::MatrixXd LB = Eigen::LLT<Eigen::MatrixXd>(dt.B).matrixL();
  const Eigen::MatrixXd CB = C * dt.B;
  pc.D.assign(J, Eigen::MatrixXd());
  pc.R.assign(J, Eigen::MatrixXd());
  for (int j = 0; j < J; ++j) {
    const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
    const Eigen::MatrixXd G = CB * sf.E[j];                   // q x n
    const Eigen::MatrixXd GL = G * sf.L[j];                   // D = GL GL'
    pc.D[j] = GL * GL.transpose();
    pc.R[j] = LB.transpose() * (dt.X.middleRows(i0, n).transpose() * G.transpose());  // p x q
  }
}

// Satterthwaite degrees of freedom of each row of C (Pustejovsky & Tipton
// 2018, eq. 11 with the working model's covariance).
template <class Poll>
inline Eigen::VectorXd sandwich_satterthwaite(const SandwichData& dt, const SandwichFit& sf, const Eigen::MatrixXd& C,
                                              Poll&& poll) {
  const int J = static_cast<int>(dt.off.size()) - 1;
  const int p = static_cast<int>(dt.X.cols()), m = static_cast<int>(C.rows());
  Eigen::VectorXd out(m);
  const Eigen::MatrixXd LB = Eigen::LLT<Eigen::MatrixXd>(dt.B).matrixL();
  const Eigen::MatrixXd CB = C * dt.B;
  Eigen::VectorXd Ev = Eigen::VectorXd::Zero(m), V1 = Eigen::VectorXd::Zero(m);
  std::vector<Eigen::MatrixXd> S(m, Eigen::MatrixXd::Zero(p, p));
  for (int j = 0; j < J; ++j) {
    if ((j & 255) == 255 && !poll()) return out;
    const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
    const Eigen::MatrixXd G = CB * sf.E[j];
    const Eigen::MatrixXd GL = G * sf.L[j];
    const Eigen::MatrixXd R = LB.transpose() * (dt.X.middleRows(i0, n).transpose() * G.transpose());  // p x m
    for (int s = 0; s < m; ++s) {
      const double d = GL.row(s).squaredNorm(), h = R.col(s).squaredNorm();
      Ev(s) += d - h;
      V1(s) += d * d - 2.0 * d * h;
      S[s].noalias() += R.col(s) * R.col(s).transpose();
    }
  }
  for (int s = 0; s < m; ++s) out(s) = Ev(s) * Ev(s) / (V1(s) + S[s].squaredNorm());
  return out;
}

// nu_Z of the HTZ test of C b = 0 (C: q x p).  Returns NaN when Omega is
// not positive definite.
inline double sandwich_htz_nu(const SandwichData& dt, const SandwichFit& sf, const Eigen::MatrixXd& C) {
  const int J = static_cast<int>(dt.off.size()) - 1;
  const int p = static_cast<int>(dt.X.cols()), q = static_cast<int>(C.rows());
  SandwichPieces pc;
  sandwich_pieces(dt, sf, C, pc);
  Eigen::MatrixXd Om = Eigen::MatrixXd::Zero(q, q);
  for (int j = 0; j < J; ++j) Om += pc.D[j] - pc.R[j].transpose() * pc.R[j];
  const Eigen::MatrixXd On = sandwich_sym_power(Om, -0.5);
  double t1 = 0.0, t2 = 0.0;
  // S[a,s,b,t] stored as a (p q) x (p q) matrix, index a + p s
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(p * q, p * q);
  for (int j = 0; j < J; ++j) {
    const Eigen::MatrixXd D = On * pc.D[j] * On;
    const Eigen::MatrixXd R = pc.R[j] * On;
    const Eigen::MatrixXd RR = R.transpose() * R;
    t1 += D.squaredNorm() - 2.0 * (D.array() * RR.array()).sum();
    t2 += D.trace() * D.trace() - 2.0 * D.trace() * RR.trace();
    const Eigen::Map<const Eigen::VectorXd> r(R.data(), p * q);
    S.noalias() += r * r.transpose();
  }
  t2 += S.squaredNorm();
  for (int a = 0; a < p; ++a)
    for (int s = 0; s < q; ++s)
      for (int b = 0; b < p; ++b)
        for (int t = 0; t < q; ++t) t1 += S(a + p * s, b + p * t) * S(a + p * t, b + p * s);
  return q * (q + 1.0) / (t1 + t2);
}

}  // namespace metafast
