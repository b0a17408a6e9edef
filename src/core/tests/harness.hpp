// What every stand-alone core test program shares: the check macros, the
// pass/fail counters and summary line, and the random univariate problem the
// tests fit.  Each test_*.cpp is one program and includes this once.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>

#include "core/model.hpp"
#include "core/rng.hpp"

namespace metafast_test {
inline int failures = 0, checks = 0;

// Prints "<name>: N passed, N failed" and returns the program's exit status.
inline int report(const char* name) {
  std::printf("%s: %d passed, %d failed\n", name, checks - failures, failures);
  return failures == 0 ? 0 : 1;
}

// k rows, an intercept and p - 1 standard-normal moderators, vi ~ U(0.01, 0.21),
// yi ~ N(0.3 + 0.1 x_{p-1}, vi + 0.05).
inline metafast::Problem random_problem(int k, int p, std::uint64_t seed) {
  using namespace metafast;
  Stream s(seed, 0);
  Problem pr;
  pr.X = Mat::Ones(k, p);
  for (int i = 0; i < k; ++i)
    for (int j = 1; j < p; ++j) pr.X(i, j) = s.normal();
  pr.v = Vec(k);
  pr.y = Vec(k);
  for (int i = 0; i < k; ++i) {
    pr.v(i) = 0.01 + 0.2 * s.uniform();
    pr.y(i) = 0.3 + 0.1 * pr.X(i, p - 1) + std::sqrt(pr.v(i) + 0.05) * s.normal();
  }
  return pr;
}
}  // namespace metafast_test

using metafast_test::checks;
using metafast_test::failures;
using metafast_test::random_problem;

// |a - b| <= tol (1 + |b|)
#define CHECK_NEAR(a, b, tol)                                                                    \
  do {                                                                                           \
    ++checks;                                                                                    \
    const double a_ = (a), b_ = (b);                                                             \
    if (!(std::fabs(a_ - b_) <= (tol) * (1.0 + std::fabs(b_)))) {                                \
      ++failures;                                                                                \
      std::printf("FAIL %s:%d  %s = %.15g, expected %.15g\n", __FILE__, __LINE__, #a, a_, b_);  \
    }                                                                                            \
  } while (0)
#define CHECK(cond)                                                                           \
  do {                                                                                        \
    ++checks;                                                                                 \
    if (!(cond)) { ++failures; std::printf("FAIL %s:%d  %s\n", __FILE__, __LINE__, #cond); } \
  } while (0)
// bit-identical (NaN equal to NaN)
#define CHECK_SAME(a, b)                                                                          \
  do {                                                                                            \
    ++checks;                                                                                     \
    const double a_ = (a), b_ = (b);                                                              \
    if (!(a_ == b_ || (std::isnan(a_) && std::isnan(b_)))) {                                      \
      ++failures;                                                                                 \
      std::printf("FAIL %s:%d  %s = %.17g, expected %.17g\n", __FILE__, __LINE__, #a, a_, b_);   \
    }                                                                                             \
  } while (0)
