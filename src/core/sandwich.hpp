// Cluster-robust (sandwich) variance of GLS/WLS meta-analytic estimates and
// its small-sample tests, cluster by cluster (no k x k matrix).
//
// Rows are sorted by cluster: X_j (n_j x p), e_j = y_j - X_j b, the working
// (target) covariance Theta_j of cluster j (the fitted marginal covariance,
// whose blocks the clusters must nest) and the weights W_j of the estimator,
// B = (sum_j X_j' W_j X_j)^-1.  Either W_j = Theta_j^-1 (the working model's
// own weights: "inverse-variance", SandwichData::W empty) or W_j given
// (user weights, unweighted fits: W_j = I), block-diagonal by cluster.
//   V^CR = B (sum_j E_j e_j e_j' E_j') B,   E_j = X_j' W_j A_j   (p x n_j)
// with A_j = I (CR0; CR1, CR1p, CR1S scale E_j by sqrt(J/(J-1)),
// sqrt(J/(J-p)), sqrt(J(N-1)/((J-1)(N-p)))), A_j = (I - H_jj)^-1 (CR3;
// H_jj = X_j B X_j' W_j), or the CR2 adjustment of Bell & McCaffrey (2002,
// Survey Methodology 28:169-181) in the working-model form of Pustejovsky &
// Tipton (2018, J Bus Econ Stat 36:672-683, eq. 6): with Theta_j = L_j L_j',
//   A_j = L_j G_j^-1/2 L_j',  G_j = L_j' [(I - H) Theta (I - H)']_jj L_j,
// G^-1/2 the symmetric inverse square root (eigenvalues <= 1e-12 dropped).
// CR4 (Niccodemus et al.'s "bias-reduced" variant as clubSandwich 0.7.0
// defines it) adjusts on the left instead: E_j = A_j X_j' W_j with the p x p
//   A_j = F_j^1/2 [F_j^1/2 (F_j - H_j B F_j - F_j B H_j + H_j K H_j) F_j^1/2]^-1/2 F_j^1/2,
//   F_j = X_j' W_j Theta_j W_j X_j,  H_j = X_j' W_j X_j
// (F^1/2 the symmetric root, negative eigenvalues set to 0; any square root
// R with R'R = F gives the same A_j; for W = Theta^-1 the middle is F - F B F).
// The jj block of the working covariance of the residuals is
//   Theta_j - H_jj Theta_j - Theta_j H_jj' + X_j K X_j',  K = B F B,
//   F = sum_i X_i' W_i Theta_i W_i X_i,
// which for W = Theta^-1 (F = B^-1, K = B) is Theta_j - X_j B X_j'.
//
// Small-sample tests (Pustejovsky & Tipton 2018, sec. 3): for a contrast
// matrix C (q x p) let c_j = C B E_j (q x n_j) so that C(b^CR - b) sums
// c_j e_j, D_j = c_j Theta_j c_j', x_j = X_j' c_j' and g_j = X_j' W_j
// Theta_j c_j' (p x q).  Under the working model Var(e) = (I - H) Theta
// (I - H)', so the covariances of the quadratic forms are, for clusters i, j,
//   P_st(i,j) = delta_ij (D_i)_st + (M_ij)_st,
//   M_ij = x_i' K x_j - x_i' B g_j - g_i' B x_j  (= -x_i' B x_j if W = Theta^-1).
// M_ij = Y_i' Z_j is written with r x q factors: r = p, Y = -R, Z = R,
// R = L_B' x (L_B L_B' = B) when W = Theta^-1; otherwise r = 2p,
// Y = [x; -g], Z = [K x - B g; B x].  The expected robust covariance is
// Omega = sum_i P(i,i), and the sums over cluster pairs reduce to
// per-cluster sums plus the (r q) x (r q) matrices SY = sum_i vec Y_i vec Y_i',
// SZ = sum_i vec Z_i vec Z_i':
//   sum_ij sum_st P_st(i,j) P_ts(i,j) = sum_i [|D_i|^2 + 2 <D_i, M_ii'>]
//                                      + sum SY[k,s,l,t] SZ[k,t,l,s]
//   sum_ij sum_st P_ss(i,j) P_tt(i,j) = sum_i [tr(D_i)^2 + 2 tr(D_i) tr(M_ii)]
//                                      + <SY, SZ>
// Satterthwaite df of one contrast (q = 1): Omega^2 / sum_ij P(i,j)^2; the
// HTZ test's nu_Z = q (q + 1) / [sum over the two expressions above for the
// contrasts C~ = Omega^-1/2 C] (Tipton & Pustejovsky 2015, J Educ Behav
// Stat 40:604-634, the "Z" approximation; the general-weights form is that of
// clubSandwich's vcovCR() with a target and inverse_var = FALSE).
// Cost O(sum n_j^3 + J p^2 q^2 + p^2 q^2 r^2).
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

namespace metafast {

enum class SandwichType { CR0 = 0, CR1 = 1, CR1p = 2, CR1S = 3, CR2 = 4, CR3 = 5, CR4 = 6 };

struct SandwichData {
  Eigen::MatrixXd X;              // k x p, rows sorted by cluster
  Eigen::VectorXd e;              // residuals, same order
  std::vector<int> off;           // J + 1 cluster offsets
  std::vector<Eigen::MatrixXd> Theta;  // working covariance blocks
  std::vector<Eigen::MatrixXd> W;      // weight blocks; empty: W_j = Theta_j^-1
  Eigen::MatrixXd B;              // (X' W X)^-1
  bool general() const { return !W.empty(); }
};

struct SandwichFit {
  std::vector<Eigen::MatrixXd> E;  // p x n_j adjusted estimating matrices
  std::vector<Eigen::MatrixXd> L;  // Cholesky factors of Theta_j
  Eigen::MatrixXd K;               // B F B (general weights only)
  Eigen::MatrixXd vcov;            // p x p
  bool ok = true;                  // false: a Theta_j is not positive definite, or
  bool singular = false;           //   (singular) CR3's I - H_jj is numerically singular
};

// symmetric (inverse) power of a symmetric matrix, eigenvalues <= 1e-12 set to 0
inline Eigen::MatrixXd sandwich_sym_power(const Eigen::MatrixXd& G, double pw) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es((G + G.transpose()) / 2);
  Eigen::VectorXd d = es.eigenvalues();
  for (Eigen::Index i = 0; i < d.size(); ++i) d(i) = d(i) > 1e-12 ? std::pow(d(i), pw) : 0.0;
  return es.eigenvectors() * d.asDiagonal() * es.eigenvectors().transpose();
}

// K = B F B, F = sum_j (W_j X_j)' Theta_j (W_j X_j) (general weights): the
// X K X' term of the residuals' working covariance.
inline Eigen::MatrixXd sandwich_K(const SandwichData& dt) {
  const int J = static_cast<int>(dt.off.size()) - 1, p = static_cast<int>(dt.X.cols());
  Eigen::MatrixXd F = Eigen::MatrixXd::Zero(p, p);
  for (int j = 0; j < J; ++j) {
    const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
    const Eigen::MatrixXd WX = dt.W[j] * dt.X.middleRows(i0, n);
    F.noalias() += WX.transpose() * dt.Theta[j] * WX;
  }
  Eigen::MatrixXd K = dt.B * F * dt.B;
  return (K + K.transpose()) / 2;
}

// The general-weights CR2 adjustment of cluster j: A_j = L G^-1/2 L',
// G = L' [Theta_j - H_jj Theta_j - (H_jj Theta_j)' + X_j K X_j'] L, with
// XtW = X_j' W_j and L the Cholesky factor of Theta_j.
inline Eigen::MatrixXd sandwich_cr2_general(const SandwichData& dt, const Eigen::MatrixXd& K, const Eigen::MatrixXd& L,
                                            const Eigen::MatrixXd& XtW, int j) {
  const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
  const auto Xj = dt.X.middleRows(i0, n);
  const Eigen::MatrixXd HT = Xj * (dt.B * (XtW * dt.Theta[j]));
  const Eigen::MatrixXd V = dt.Theta[j] - HT - HT.transpose() + Xj * K * Xj.transpose();
  const Eigen::MatrixXd G = L.transpose() * V * L;
  return L * sandwich_sym_power(G, -0.5) * L.transpose();
}

// The CR4 adjustment A_j (p x p) of cluster j (see the head of the file);
// K = B F B for general weights, unused (K = B) for W = Theta^-1.
inline Eigen::MatrixXd sandwich_cr4(const SandwichData& dt, const Eigen::MatrixXd& K, const Eigen::MatrixXd& XtW,
                                    int j) {
  const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
  const auto Xj = dt.X.middleRows(i0, n);
  const Eigen::MatrixXd H = XtW * Xj;
  Eigen::MatrixXd F = XtW * dt.Theta[j] * XtW.transpose();
  F = (F + F.transpose()) / 2;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(F);
  const Eigen::VectorXd r = es.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  const Eigen::MatrixXd Fh = es.eigenvectors() * r.asDiagonal() * es.eigenvectors().transpose();
  const Eigen::MatrixXd& KK = dt.general() ? K : dt.B;
  const Eigen::MatrixXd HBF = H * dt.B * F;
  const Eigen::MatrixXd G0 = F - HBF - HBF.transpose() + H * KK * H;
  return Fh * sandwich_sym_power(Fh * G0 * Fh, -0.5) * Fh;
}

template <class Poll>
inline void sandwich_compute(const SandwichData& dt, SandwichType type, SandwichFit& out, Poll&& poll) {
  const int J = static_cast<int>(dt.off.size()) - 1;
  const int p = static_cast<int>(dt.X.cols());
  const int N = static_cast<int>(dt.X.rows());
  const bool gen = dt.general();
  double f = 1.0;
  if (type == SandwichType::CR1) f = std::sqrt(double(J) / (J - 1));
  if (type == SandwichType::CR1p) f = std::sqrt(double(J) / (J - p));
  if (type == SandwichType::CR1S) f = std::sqrt(double(J) * (N - 1) / ((J - 1.0) * (N - p)));
  out.E.assign(J, Eigen::MatrixXd());
  out.L.assign(J, Eigen::MatrixXd());
  out.ok = true;
  out.singular = false;
  // (needed by CR2 and by the tests)
  if (gen) out.K = sandwich_K(dt);
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
    Eigen::MatrixXd Ej;  // p x n
    if (!gen && type == SandwichType::CR2) {
      // Xt = L^-1 X_j, so X_j' W_j = Xt' L^-1 and W_j A_j = L^-T G^-1/2 L':
      // E_j = Xt' G^-1/2 L', G = L' (Theta_j - X_j B X_j') L
      const Eigen::MatrixXd Xt = L.triangularView<Eigen::Lower>().solve(Xj);
      const Eigen::MatrixXd LtL = L.transpose() * L, LtX = L.transpose() * Xj;
      const Eigen::MatrixXd G = LtL * LtL - LtX * dt.B * LtX.transpose();
      Ej = (Xt.transpose() * sandwich_sym_power(G, -0.5)) * L.transpose();
    } else {
      Eigen::MatrixXd XtW;  // X_j' W_j (p x n)
      if (gen) {
        XtW = (dt.W[j] * Xj).transpose();
      } else {
        const Eigen::MatrixXd Xt = L.triangularView<Eigen::Lower>().solve(Xj);
        XtW = L.transpose().triangularView<Eigen::Upper>().solve(Xt).transpose();
      }
      if (type == SandwichType::CR2) {
        Ej = XtW * sandwich_cr2_general(dt, out.K, L, XtW, j);
      } else if (type == SandwichType::CR4) {
        Ej = sandwich_cr4(dt, out.K, XtW, j) * XtW;
      } else if (type == SandwichType::CR3) {
        // A_j = (I - X_j B X_j' W_j)^-1, undefined when cluster j alone
        // determines a combination of the coefficients (clubSandwich's solve() stops)
        Eigen::MatrixXd IH = -(Xj * dt.B * XtW);
        IH.diagonal().array() += 1.0;
        const Eigen::PartialPivLU<Eigen::MatrixXd> lu(IH);
        if (!(lu.rcond() > 1e-12)) {
          out.ok = false;
          out.singular = true;
          return;
        }
        Ej = XtW * lu.inverse();
      } else {
        Ej = XtW * f;
      }
    }
    const Eigen::VectorXd u = Ej * dt.e.segment(i0, n);
    meat.noalias() += u * u.transpose();
    out.E[j] = std::move(Ej);
  }
  out.vcov = dt.B * meat * dt.B;
  out.vcov = (out.vcov + out.vcov.transpose()) / 2;
}

// The pieces of cluster j for contrasts C (as CB = C B, q x p): D_j (q x q)
// and the factors Y_j, Z_j (r x q) of M_ij = Y_i' Z_j (see the head of the
// file); LB the lower Cholesky factor of B (used when W = Theta^-1).
inline void sandwich_cluster_piece(const SandwichData& dt, const SandwichFit& sf, const Eigen::MatrixXd& CB,
                                   const Eigen::MatrixXd& LB, int j, Eigen::MatrixXd& D, Eigen::MatrixXd& Y,
                                   Eigen::MatrixXd& Z) {
  const int i0 = dt.off[j], n = dt.off[j + 1] - dt.off[j];
  const int p = static_cast<int>(dt.X.cols()), q = static_cast<int>(CB.rows());
  const Eigen::MatrixXd c = CB * sf.E[j];             // q x n
  const Eigen::MatrixXd cL = c * sf.L[j];             // D = cL cL'
  D = cL * cL.transpose();
  const auto Xj = dt.X.middleRows(i0, n);
  const Eigen::MatrixXd x = Xj.transpose() * c.transpose();  // p x q
  if (!dt.general()) {
    Z = LB.transpose() * x;
    Y = -Z;
  } else {
    const Eigen::MatrixXd g = (dt.W[j] * Xj).transpose() * (dt.Theta[j] * c.transpose());  // p x q
    Y.resize(2 * p, q);
    Z.resize(2 * p, q);
    Y.topRows(p) = x;
    Y.bottomRows(p) = -g;
    Z.topRows(p) = sf.K * x - dt.B * g;
    Z.bottomRows(p) = dt.B * x;
  }
}

inline Eigen::MatrixXd sandwich_LB(const SandwichData& dt) {
  if (dt.general()) return Eigen::MatrixXd();
  return Eigen::LLT<Eigen::MatrixXd>(dt.B).matrixL();
}

// Satterthwaite degrees of freedom of each row of C (Pustejovsky & Tipton
// 2018, eq. 11 with the working model's covariance).
template <class Poll>
inline Eigen::VectorXd sandwich_satterthwaite(const SandwichData& dt, const SandwichFit& sf, const Eigen::MatrixXd& C,
                                              Poll&& poll) {
  const int J = static_cast<int>(dt.off.size()) - 1;
  const int p = static_cast<int>(dt.X.cols()), m = static_cast<int>(C.rows());
  const int r = dt.general() ? 2 * p : p;
  Eigen::VectorXd out(m);
  const Eigen::MatrixXd LB = sandwich_LB(dt);
  const Eigen::MatrixXd CB = C * dt.B;
  Eigen::VectorXd Ev = Eigen::VectorXd::Zero(m), V1 = Eigen::VectorXd::Zero(m);
  std::vector<Eigen::MatrixXd> SY(m, Eigen::MatrixXd::Zero(r, r)), SZ(m, Eigen::MatrixXd::Zero(r, r));
  Eigen::MatrixXd D, Y, Z;
  for (int j = 0; j < J; ++j) {
    if ((j & 255) == 255 && !poll()) return out;
    sandwich_cluster_piece(dt, sf, CB, LB, j, D, Y, Z);
    for (int s = 0; s < m; ++s) {
      const double d = D(s, s), h = Y.col(s).dot(Z.col(s));
      Ev(s) += d + h;
      V1(s) += d * d + 2.0 * d * h;
      SY[s].noalias() += Y.col(s) * Y.col(s).transpose();
      SZ[s].noalias() += Z.col(s) * Z.col(s).transpose();
    }
  }
  for (int s = 0; s < m; ++s) out(s) = Ev(s) * Ev(s) / (V1(s) + (SY[s].array() * SZ[s].array()).sum());
  return out;
}

// nu_Z of the HTZ test of C b = 0 (C: q x p).  Returns NaN when Omega is
// not positive definite.
inline double sandwich_htz_nu(const SandwichData& dt, const SandwichFit& sf, const Eigen::MatrixXd& C) {
  const int J = static_cast<int>(dt.off.size()) - 1;
  const int p = static_cast<int>(dt.X.cols()), q = static_cast<int>(C.rows());
  const int r = dt.general() ? 2 * p : p;
  const Eigen::MatrixXd LB = sandwich_LB(dt);
  const Eigen::MatrixXd CB = C * dt.B;
  std::vector<Eigen::MatrixXd> D(J), Y(J), Z(J);
  Eigen::MatrixXd Om = Eigen::MatrixXd::Zero(q, q);
  for (int j = 0; j < J; ++j) {
    sandwich_cluster_piece(dt, sf, CB, LB, j, D[j], Y[j], Z[j]);
    Om += D[j] + Y[j].transpose() * Z[j];
  }
  const Eigen::MatrixXd On = sandwich_sym_power(Om, -0.5);
  double t1 = 0.0, t2 = 0.0;
  // SY[k,s,l,t], SZ stored as (r q) x (r q) matrices, index k + r s
  Eigen::MatrixXd SY = Eigen::MatrixXd::Zero(r * q, r * q), SZ = SY;
  for (int j = 0; j < J; ++j) {
    const Eigen::MatrixXd Dt = On * D[j] * On;
    const Eigen::MatrixXd Yt = Y[j] * On, Zt = Z[j] * On;
    const Eigen::MatrixXd M = Yt.transpose() * Zt;
    t1 += Dt.squaredNorm() + 2.0 * (Dt.array() * M.transpose().array()).sum();
    t2 += Dt.trace() * Dt.trace() + 2.0 * Dt.trace() * M.trace();
    const Eigen::Map<const Eigen::VectorXd> y(Yt.data(), r * q), z(Zt.data(), r * q);
    SY.noalias() += y * y.transpose();
    SZ.noalias() += z * z.transpose();
  }
  t2 += (SY.array() * SZ.array()).sum();
  for (int k = 0; k < r; ++k)
    for (int s = 0; s < q; ++s)
      for (int l = 0; l < r; ++l)
        for (int t = 0; t < q; ++t) t1 += SY(k + r * s, l + r * t) * SZ(k + r * t, l + r * s);
  return q * (q + 1.0) / (t1 + t2);
}

// The other small-sample Wald tests of clubSandwich 0.7.0's Wald_test()
// (Tipton & Pustejovsky 2015, J Educ Behav Stat 40:604-634): the Hotelling
// T^2 approximations HTA and HTB, and the eigen-decomposition tests EDF and
// EDT.  With P~(i,j) = Omega^-1/2 P(i,j) Omega^-1/2 (the cluster-pair
// covariances of the head of the file) and
//   T[a,b,c,d] = sum_ij P~_ab(i,j) P~_cd(i,j)
//              = sum_i [D~_i,ab D~_i,cd + D~_i,ab M~_ii,cd + M~_ii,ab D~_i,cd]
//                + sum_kl SY[k + r a, l + r c] SZ[k + r b, l + r d],
// the covariance array is Cov[s,t,u,v] = T[s,v,t,u] + T[s,u,t,v], written as
// clubSandwich writes it (one value per unordered pair of unordered pairs,
// copied to the 8 symmetric positions); nu_A = 2 sum_st Cov[s,t,s,t] /
// sum Cov^2, nu_B the same over the lower triangles; F = delta Q / q with
// delta = max((nu - q + 1) / nu, 0).  EDF and EDT decompose
// Omega^-1/2 C V C' Omega^-1/2 = sum_m lambda_m v_m v_m'; x_m = Omega^-1/2 v_m
// has df_m = 1 / sum_ij (x_m' P(i,j) x_m)^2; EDF: delta from the moments of
// sum_m t^2(df_m) (df_m at least 4.1), F = delta Q / q; EDT: Hill's normal
// approximation z_m of t_m = x_m' C b / sqrt(lambda_m) on df_m, F = mean z_m^2.
enum class SandwichTest { HTA = 0, HTB = 1, EDF = 2, EDT = 3 };

// NaN when Omega or C V C' is not positive definite.
inline double sandwich_small_sample_F(const SandwichData& dt, const SandwichFit& sf, const Eigen::MatrixXd& C,
                                      const Eigen::VectorXd& beta, SandwichTest test) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const int J = static_cast<int>(dt.off.size()) - 1;
  const int p = static_cast<int>(dt.X.cols()), q = static_cast<int>(C.rows());
  const int r = dt.general() ? 2 * p : p;
  const Eigen::MatrixXd LB = sandwich_LB(dt);
  const Eigen::MatrixXd CB = C * dt.B;
  std::vector<Eigen::MatrixXd> D(J), Y(J), Z(J);
  Eigen::MatrixXd Om = Eigen::MatrixXd::Zero(q, q);
  for (int j = 0; j < J; ++j) {
    sandwich_cluster_piece(dt, sf, CB, LB, j, D[j], Y[j], Z[j]);
    Om += D[j] + Y[j].transpose() * Z[j];
  }
  const Eigen::MatrixXd On = sandwich_sym_power(Om, -0.5);
  const Eigen::VectorXd Cb = C * beta;
  const Eigen::MatrixXd CVC = C * sf.vcov * C.transpose();
  Eigen::LLT<Eigen::MatrixXd> llt(CVC);
  if (llt.info() != Eigen::Success) return nan;
  const double Q = Cb.dot(llt.solve(Cb));
  if (test == SandwichTest::HTA || test == SandwichTest::HTB) {
    const int q2 = q * q;
    // T as a q^2 x q^2 matrix: T(a + q b, c + q d)
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(q2, q2);
    Eigen::MatrixXd SY = Eigen::MatrixXd::Zero(r * q, r * q), SZ = SY;
    for (int j = 0; j < J; ++j) {
      const Eigen::MatrixXd Dt = On * D[j] * On;
      const Eigen::MatrixXd Yt = Y[j] * On, Zt = Z[j] * On;
      const Eigen::MatrixXd M = Yt.transpose() * Zt;
      const Eigen::Map<const Eigen::VectorXd> dv(Dt.data(), q2), mv(M.data(), q2);
      T.noalias() += dv * dv.transpose() + dv * mv.transpose() + mv * dv.transpose();
      const Eigen::Map<const Eigen::VectorXd> y(Yt.data(), r * q), z(Zt.data(), r * q);
      SY.noalias() += y * y.transpose();
      SZ.noalias() += z * z.transpose();
    }
    for (int a = 0; a < q; ++a)
      for (int b = 0; b < q; ++b)
        for (int c = 0; c < q; ++c)
          for (int d = 0; d < q; ++d) {
            double s = 0.0;
            for (int k = 0; k < r; ++k)
              for (int l = 0; l < r; ++l) s += SY(k + r * a, l + r * c) * SZ(k + r * b, l + r * d);
            T(a + q * b, c + q * d) += s;
          }
    auto Tv = [&](int a, int b, int c, int d) { return T(a + q * b, c + q * d); };
    // Cov[s,t,u,v] at s + q t + q^2 u + q^3 v (clubSandwich's covariance_array)
    std::vector<double> cov(static_cast<std::size_t>(q2) * q2, 0.0);
    auto at = [&](int s, int t, int u, int v) -> double& {
      return cov[static_cast<std::size_t>(s) + q * (t + static_cast<std::size_t>(q) * (u + static_cast<std::size_t>(q) * v))];
    };
    double lower_sq = 0.0;
    for (int s = 0; s < q; ++s)
      for (int t = 0; t <= s; ++t)
        for (int u = 0; u <= s; ++u)
          for (int v = 0; v <= (u == s ? t : u); ++v) {
            const double x = Tv(s, v, t, u) + Tv(s, u, t, v);
            at(s, t, u, v) = x; at(s, t, v, u) = x; at(t, s, u, v) = x; at(t, s, v, u) = x;
            at(u, v, s, t) = x; at(u, v, t, s) = x; at(v, u, s, t) = x; at(v, u, t, s) = x;
          }
    // (the lower-triangle sum of HTB reads the array after all writes)
    for (int s = 0; s < q; ++s)
      for (int t = 0; t <= s; ++t)
        for (int u = 0; u <= s; ++u)
          for (int v = 0; v <= (u == s ? t : u); ++v) lower_sq += at(s, t, u, v) * at(s, t, u, v);
    double nu;
    if (test == SandwichTest::HTA) {
      double var = 0.0, all_sq = 0.0;
      for (int s = 0; s < q; ++s)
        for (int t = 0; t < q; ++t) var += at(s, t, s, t);
      for (double x : cov) all_sq += x * x;
      nu = 2.0 * var / all_sq;
    } else {
      double var = 0.0;
      for (int s = 0; s < q; ++s)
        for (int t = 0; t <= s; ++t) var += at(s, t, s, t);
      nu = 2.0 * var / lower_sq;
    }
    if (!std::isfinite(nu)) return nan;
    return std::max((nu - q + 1.0) / nu, 0.0) * Q / q;
  }
  // EDF, EDT
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(On * CVC * On);
  const Eigen::VectorXd lam = es.eigenvalues();
  Eigen::VectorXd df(q);
  for (int m = 0; m < q; ++m) {
    const Eigen::VectorXd x = On * es.eigenvectors().col(m);
    double s = 0.0;
    Eigen::MatrixXd Sy = Eigen::MatrixXd::Zero(r, r), Sz = Sy;
    for (int j = 0; j < J; ++j) {
      const double d = x.dot(D[j] * x);
      const Eigen::VectorXd y = Y[j] * x, z = Z[j] * x;
      s += d * d + 2.0 * d * y.dot(z);
      Sy.noalias() += y * y.transpose();
      Sz.noalias() += z * z.transpose();
    }
    s += (Sy.array() * Sz.array()).sum();
    df(m) = 1.0 / s;
  }
  if (test == SandwichTest::EDF) {
    double EQ = 0.0, VQ = 0.0;
    for (int m = 0; m < q; ++m) {
      const double d4 = std::max(df(m), 4.1);
      EQ += d4 / (d4 - 2.0);
      VQ += 2.0 * d4 * d4 * (d4 - 1.0) / ((d4 - 2.0) * (d4 - 2.0) * (d4 - 4.0));
    }
    const double delta = q * VQ > 2.0 * EQ * EQ ? (EQ * EQ * (q - 2.0) + 2.0 * q * VQ) / (EQ * (VQ + EQ * EQ)) : q / EQ;
    return delta * Q / q;
  }
  double F = 0.0;
  for (int m = 0; m < q; ++m) {
    const double t = (On * es.eigenvectors().col(m)).dot(Cb) / std::sqrt(lam(m));
    const double a = df(m) - 0.5, b = 48.0 * a * a;
    const double c = std::sqrt(a * std::log1p(t * t / df(m)));
    const double c2 = c * c, c3 = c2 * c, c4 = c2 * c2, c5 = c4 * c, c7 = c5 * c2;
    const double z = c + (c3 + 3.0 * c) / b - (4.0 * c7 + 33.0 * c5 + 240.0 * c3 + 855.0 * c) /
                                                 (10.0 * b * b + 8.0 * b * c4 + 1000.0 * b);
    F += z * z;
  }
  return F / q;
}

}  // namespace metafast
