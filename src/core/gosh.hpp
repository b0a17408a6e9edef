// GOSH (graphical display of study heterogeneity; Olkin, Dahabreh &
// Trikalinos 2012, Res Synth Methods 3:214): the model fitted to every subset
// of the studies with at least p of them, or to random subsets when there are
// too many.  R-free.
//
// Subsets are ordered as metafor lists them: by size, and within a size by
// the binary number whose bit j says whether study j + 1 is in the subset.
// A random subset includes each study with probability 1/2 and is redrawn
// while it has fewer than p studies: this is the uniform distribution on the
// subsets of size >= p (size j drawn with probability proportional to
// choose(k, j), then a uniform subset of that size).  Subset r draws from
// Stream(seed, r) only, so results do not depend on the number of threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "core/case_deletion.hpp"
#include "core/parallel.hpp"
#include "core/refit.hpp"
#include "core/rng.hpp"

namespace metafast {

// All subsets of size >= min_size as bit masks (k <= 62), in metafor's order.
// Within one size, Gosper's hack steps through the masks in increasing order
// (Knuth, TAOCP 4A, 7.1.3, eq. 20).
inline std::vector<std::uint64_t> enumerate_subsets(int k, int min_size) {
  std::vector<std::uint64_t> out;
  const std::uint64_t limit = std::uint64_t(1) << k;
  for (int m = std::max(min_size, 1); m <= k; ++m) {
    std::uint64_t c = (std::uint64_t(1) << m) - 1;
    while (c < limit) {
      out.push_back(c);
      const std::uint64_t u = c & (~c + 1);
      const std::uint64_t v = c + u;
      if (v == 0) break;
      c = v + (((v ^ c) / u) >> 2);
    }
  }
  return out;
}

// Random subset r: in[j] = 1 when study j is included.  Returns the size.
inline int random_subset(std::uint64_t seed, std::uint64_t r, int k, int min_size, unsigned char* in) {
  Stream s(seed, r);
  for (;;) {
    int size = 0;
    std::uint64_t bits = 0;
    for (int j = 0; j < k; ++j) {
      if (j % 64 == 0) bits = s.next();
      in[j] = static_cast<unsigned char>(bits & 1u);
      bits >>= 1;
      size += in[j];
    }
    if (size >= min_size && size >= 1) return size;
  }
}

// Stable order of the subsets by size (counting sort).
inline std::vector<std::size_t> order_by_size(const std::vector<int>& size, int k) {
  std::vector<std::size_t> start(k + 2, 0);
  for (int s : size) ++start[s + 1];
  for (int j = 1; j <= k + 1; ++j) start[j] += start[j - 1];
  std::vector<std::size_t> out(size.size());
  for (std::size_t i = 0; i < size.size(); ++i) out[start[size[i]]++] = i;
  return out;
}

// Columns of the GOSH output for subsets [start, end) (rows 0..n-1).
struct GoshOut {
  DeletionOut fit;     // k, QE, I2, H2, tau2, beta of each subset
  int* incl = nullptr; // n x n_units logical inclusion matrix (column-major)
};

// GOSH refits of subsets [start, end) of S.  exact: all S subsets of size >=
// p in metafor's order; else S random subsets (drawn from Stream(seed, r),
// all S of them, so that every chunk sees the same order by size).  Every
// subset draws and fits the same way whatever [start, end), so chunks of a
// run (future workers) give the rows of the whole run.
template <class Poll>
bool gosh_run(const ProblemView& pr, const RefitPlan& plan, bool exact, std::uint64_t seed, std::size_t S,
              std::size_t start, std::size_t end, int nthreads, const GoshOut& o, double na, Poll&& poll) {
  const RefitEngine eng(pr, plan);
  const int nu = eng.n_units(), p = pr.p();
  const std::size_t n = end - start;
  std::vector<std::uint64_t> masks;
  std::vector<unsigned char> raw;
  std::vector<std::size_t> perm;
  if (exact) {
    masks = enumerate_subsets(nu, p);
    if (masks.size() != S) throw std::invalid_argument("gosh_run: S is not the number of subsets of size >= p");
  } else {
    raw.assign(S * static_cast<std::size_t>(nu), 0);
    std::vector<int> size(S);
    const bool drawn = parallel_for(0, S, nthreads, 256, [&](std::size_t r) {
      size[r] = random_subset(seed, r, nu, p, &raw[r * nu]);
    }, [&](std::size_t) { return poll(0); });  // (the draws do not count as progress)
    if (!drawn) return false;
    perm = order_by_size(size, nu);
  }
  return refit_unit_sets(
      eng, start, end, nthreads, 64,
      [&](std::size_t t, std::vector<int>& units) {
        if (exact) {
          const std::uint64_t m = masks[t];
          for (int j = 0; j < nu; ++j) if ((m >> j) & 1u) units.push_back(j);
        } else {
          const unsigned char* in = &raw[perm[t] * nu];
          for (int j = 0; j < nu; ++j) if (in[j]) units.push_back(j);
        }
      },
      [&](std::size_t i, const RefitRecord& rec, const std::vector<int>& units) {
        for (int u : units) o.incl[i + n * static_cast<std::size_t>(u)] = 1;
        write_deletion_record(rec, p, o.fit, i, na);
      },
      poll);
}

}  // namespace metafast
