// A dense k x k sampling covariance V given by the user (rma.mv(V = <matrix>)):
// one pass that takes R's decision whether V is symmetric and, when it is,
// lists its non-zero (or missing) entries as triplets, so that the engine
// never keeps the k x k matrix.
//
// metafor accepts V when base R's isSymmetric(V) is TRUE, so the decision
// here is that function's (R 4.2.2, src/library/base/R/eigen.R and
// all.equal.R), taken without forming t(V) or any other k x k copy:
//
//   isSymmetric.matrix(V, tol = 100 eps, tol1 = 8 tol):
//     for i in unique(c(1, 2, n-1, n)):
//       all.equal(V[i, ], V[, i], tolerance = tol1) must hold;      (pre-test)
//     all.equal(V, t(V), tolerance = tol) must hold;
//
//   all.equal.numeric(target, current, tolerance)  (countEQ = FALSE):
//     the NA patterns must agree; entries that are NA or equal are left out;
//     of the N others, scale = sum(|t| / N) ("relative" when finite and
//     > tolerance, else 1, "absolute"); xy = sum(|t - c| / (N scale));
//     equal when xy is not NA and xy <= tolerance.
//
// R's sum() adds in long double and clamps the result to +-Inf beyond
// DBL_MAX (src/main/summary.c, rsum); the terms are double and are added in
// R's order (column-major), so the decision is R's to the last bit.  R-free.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <vector>

namespace metafast {

// R's sum() of doubles: a long double accumulator, clamped when returned.
inline double r_sum_result(long double s) {
  if (s > DBL_MAX) return HUGE_VAL;
  if (s < -DBL_MAX) return -HUGE_VAL;
  return static_cast<double>(s);
}

// all.equal.numeric(target, current, tolerance) is TRUE, for the pairs
// (target, current) that each(f) hands to f(t, c) one by one in R's order;
// each() is called three times (R's three sums).
template <class Each>
bool r_all_equal(Each&& each, double tolerance) {
  std::size_t N = 0;
  bool na_mismatch = false;
  each([&](double a, double b) {
    const bool na = std::isnan(a), nb = std::isnan(b);
    na_mismatch = na_mismatch || na != nb;   // 'is.NA' value mismatch
    N += (!na && a != b);
  });
  if (na_mismatch) return false;
  if (N == 0) return true;
  const double dN = static_cast<double>(N);
  long double s = 0.0L;
  each([&](double a, double b) {
    if (!(std::isnan(a) || a == b)) s += std::fabs(a) / dN;
  });
  double scale = r_sum_result(s);
  if (!(std::isfinite(scale) && scale > tolerance)) scale = 1.0;  // "absolute"
  const double den = dN * scale;
  s = 0.0L;
  each([&](double a, double b) {
    if (!(std::isnan(a) || a == b)) s += std::fabs(a - b) / den;
  });
  const double xy = r_sum_result(s);
  return !(std::isnan(xy) || xy > tolerance);
}

// isSymmetric.matrix(V) of base R for a column-major n x n V (n >= 1).
// poll(done) is called once per column of each pass over V; it may throw to
// abandon the check.
template <class Poll>
bool r_is_symmetric(const double* V, std::size_t n, Poll&& poll) {
  const double tol = 100 * DBL_EPSILON, tol1 = 8 * tol;
  if (n > 1) {
    const std::size_t rows[4] = {0, 1, n - 2, n - 1};
    for (int r = 0; r < 4; ++r) {
      const std::size_t i = rows[r];
      bool seen = false;                 // unique(c(1, 2, n-1, n))
      for (int q = 0; q < r; ++q) seen = seen || rows[q] == i;
      if (seen) continue;
      // all.equal(V[i, ], V[, i], tolerance = tol1)
      auto row_vs_col = [&](auto&& f) {
        for (std::size_t j = 0; j < n; ++j) f(V[i + j * n], V[j + i * n]);
      };
      if (!r_all_equal(row_vs_col, tol1)) return false;
    }
  }
  // all.equal(V, t(V), tolerance = tol): target V[i, j], current V[j, i]
  std::size_t done = 0;
  auto v_vs_t = [&](auto&& f) {
    for (std::size_t j = 0; j < n; ++j) {
      poll(++done);
      const double* vj = V + j * n;
      for (std::size_t i = 0; i < n; ++i) f(vj[i], V[j + i * n]);
    }
  };
  return r_all_equal(v_vs_t, tol);
}

// The entries of V that are non-zero or NA (which(V != 0 | is.na(V))), as
// 0-based rows i, columns j and values x in column-major order.
struct DenseTriplets {
  std::vector<int> i, j;
  std::vector<double> x;
};

template <class Poll>
DenseTriplets dense_triplets(const double* V, std::size_t n, Poll&& poll) {
  DenseTriplets out;
  std::size_t nz = 0;
  for (std::size_t m = 0; m < n * n; ++m) nz += (V[m] != 0 || std::isnan(V[m]));
  out.i.reserve(nz);
  out.j.reserve(nz);
  out.x.reserve(nz);
  for (std::size_t col = 0; col < n; ++col) {
    poll(col);
    const double* v = V + col * n;
    for (std::size_t row = 0; row < n; ++row) {
      if (v[row] != 0 || std::isnan(v[row])) {
        out.i.push_back(static_cast<int>(row));
        out.j.push_back(static_cast<int>(col));
        out.x.push_back(v[row]);
      }
    }
  }
  return out;
}

}  // namespace metafast
