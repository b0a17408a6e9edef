// Counter-based random streams: replicate r of a run seeded with `seed` draws
// from xoshiro256++ (Blackman & Vigna 2021, ACM TOMS 47:36) whose state is
// SplitMix64(seed, r) (Steele, Lea & Flood 2014, OOPSLA).  A replicate's
// numbers depend only on (seed, r), never on the thread or worker that runs
// it, so results are bit-identical for any number of threads or workers.
#pragma once

#include <cmath>
#include <cstdint>

namespace metafast {

inline std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Stream {
 public:
  Stream(std::uint64_t seed, std::uint64_t replicate) {
    std::uint64_t x = seed ^ (0xd1b54a32d192ed03ULL * (replicate + 1));
    for (auto& si : s_) si = splitmix64(x);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // uniform on (0, 1)
  double uniform() { return ((next() >> 11) + 0.5) * 0x1.0p-53; }
  // uniform integer on {0, ..., n - 1} without modulo bias (Lemire 2019)
  std::uint64_t below(std::uint64_t n) {
    __uint128_t m = static_cast<__uint128_t>(next()) * n;
    std::uint64_t l = static_cast<std::uint64_t>(m);
    if (l < n) {
      const std::uint64_t t = (0 - n) % n;
      while (l < t) {
        m = static_cast<__uint128_t>(next()) * n;
        l = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
  // standard normal by the polar method (Marsaglia & Bray 1964)
  double normal() {
    if (has_spare_) { has_spare_ = false; return spare_; }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace metafast
