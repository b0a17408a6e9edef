// Stand-alone tests of core/selmodel_boot.hpp: the bounded quasi-Newton refit
// reaches the maximum of the step-function likelihood (the same estimate from
// different starts, a stationary point in the free parameters, no better
// point nearby, a weight at its bound when its interval is empty), the
// replicates are identical for 1 and 2 threads, and the rejection sampler
// reproduces the selected distribution (the share of significant outcomes
// against its closed form).
// Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/selmodel_boot.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;
using namespace metafast::selmodel;

namespace {

struct NoPoll {
  bool operator()(std::size_t) { return true; }
};

struct Data {
  std::vector<double> yi, vi, X, preci, pvals;
  std::vector<int> pgrp;
};

// k studies: vi ~ U(0.01, 0.2), yi ~ N(0.2, vi + 0.05), studies with p > 0.025
// kept with probability 0.4
Data simulate(int k, std::uint64_t seed) {
  Data d;
  Stream s(seed, 0);
  while (static_cast<int>(d.yi.size()) < k) {
    const double v = 0.01 + 0.19 * s.uniform();
    const double y = 0.2 + std::sqrt(v + 0.05) * s.normal();
    const double pv = pvalue(y, std::sqrt(v), Alternative::Greater);
    if (pv <= 0.025 || s.uniform() < 0.4) {
      d.yi.push_back(y);
      d.vi.push_back(v);
    }
  }
  d.X.assign(k, 1.0);
  d.preci.assign(k, 1.0);
  for (int i = 0; i < k; ++i) {
    d.pvals.push_back(pvalue(d.yi[i], std::sqrt(d.vi[i]), Alternative::Greater));
    d.pgrp.push_back(d.pvals[i] <= 0.025 ? 0 : 1);
  }
  return d;
}

BootSpec spec_for(const Data& d, double beta, double tau2, double delta2, bool delta2_free) {
  BootSpec s;
  s.m.type = Type::StepFun;
  s.m.alt = Alternative::Greater;
  s.m.k = static_cast<int>(d.yi.size());
  s.m.p = 1;
  s.m.yi = d.yi.data();
  s.m.vi = d.vi.data();
  s.m.X = d.X.data();
  s.m.preci = d.preci.data();
  s.m.pvals = d.pvals.data();
  s.m.pgrp = d.pgrp.data();
  s.m.steps = {0.025, 1.0};
  s.m.zcut = {1.959963984540054};
  s.prec_raw = d.preci.data();
  s.beta = {beta};
  s.tau2 = tau2;
  s.delta = {1.0, delta2};
  s.delta_free = {0, static_cast<char>(delta2_free)};
  s.delta_min = {0.0, 0.0};
  s.delta_max = {100.0, 100.0};
  s.mX = {1.0};
  s.typ = {0.1, 0.01};
  if (delta2_free) s.typ.push_back(0.5);
  return s;
}

double negll(const Model& m, double b, double t2, double d2) {
  const double beta[1] = {b}, delta[2] = {1.0, d2};
  return -loglik(m, beta, t2, delta).ll;
}

void test_refit_reaches_maximum() {
  const Data d = simulate(40, 11);
  // the full-data fit from a rough start and an identity starting matrix
  BootSpec s = spec_for(d, 0.0, 0.1, 0.8, true);
  const ParamMap pm(s);
  Refitter rf(s, pm);
  const Mat I = Mat::Identity(pm.n, pm.n) * 100.0;
  const RefitResult a = rf.run(s.m, {0.0, 0.1, 0.8}, I);
  const RefitResult b = rf.run(s.m, {0.5, 0.01, 0.3}, I);
  CHECK(a.code == kSbOk && b.code == kSbOk);
  for (int j = 0; j < 3; ++j) CHECK_NEAR(a.theta[j], b.theta[j], 1e-7);
  // no better point nearby (a local maximum in every direction within the box)
  const double f0 = negll(s.m, a.theta[0], a.theta[1], a.theta[2]);
  CHECK_NEAR(-f0, a.ll, 1e-12);
  for (double h : {1e-3, 1e-4})
    for (int j = 0; j < 3; ++j)
      for (int sg : {-1, 1}) {
        std::vector<double> t = a.theta;
        t[j] += sg * h * std::max(1.0, std::fabs(t[j]));
        if (t[1] < 0 || t[2] < 0) continue;
        CHECK(negll(s.m, t[0], t[1], t[2]) >= f0 - 1e-12);
      }
  // warm-started at the estimate with the start matrix of the run: same point
  BootSpec s2 = spec_for(d, a.theta[0], a.theta[1], a.theta[2], true);
  const ParamMap pm2(s2);
  Refitter rf2(s2, pm2);
  const RefitResult c = rf2.run(s2.m, pm2.start(), selboot_start_matrix(s2, pm2));
  CHECK(c.code == kSbOk);
  for (int j = 0; j < 3; ++j) CHECK_NEAR(c.theta[j], a.theta[j], 1e-7);
  CHECK(c.iterations <= 3);
}

void test_empty_interval_at_bound() {
  // no p-value above 0.025: the weight of that interval goes to its lower bound 0
  Data d = simulate(30, 12);
  for (int i = 0; i < 30; ++i) {
    d.yi[i] = 2.5 * std::sqrt(d.vi[i]) + 0.05 * (i % 5);
    d.pvals[i] = pvalue(d.yi[i], std::sqrt(d.vi[i]), Alternative::Greater);
    d.pgrp[i] = 0;
  }
  BootSpec s = spec_for(d, 0.3, 0.02, 0.5, true);
  const ParamMap pm(s);
  Refitter rf(s, pm);
  const RefitResult r = rf.run(s.m, pm.start(), selboot_start_matrix(s, pm));
  CHECK(r.code == kSbOk);
  CHECK(r.theta[2] == 0.0);
}

void test_threads_identical() {
  const Data d = simulate(37, 13);
  BootSpec s0 = spec_for(d, 0.0, 0.1, 0.8, true);
  const ParamMap pm0(s0);
  Refitter rf(s0, pm0);
  const RefitResult a = rf.run(s0.m, {0.0, 0.1, 0.8}, Mat::Identity(3, 3) * 100.0);
  BootSpec s = spec_for(d, a.theta[0], a.theta[1], a.theta[2], true);
  const std::size_t n = 40;
  for (int type : {0, 1}) {
    std::vector<double> t1(n * 3), t2(n * 3);
    std::vector<int> c1(n), c2(n);
    BootOut o1{t1.data(), nullptr, c1.data(), nullptr, nullptr, n};
    BootOut o2{t2.data(), nullptr, c2.data(), nullptr, nullptr, n};
    selboot_run(s, type, 99, 0, n, nullptr, 1, o1, NoPoll());
    selboot_run(s, type, 99, 0, n, nullptr, 2, o2, NoPoll());
    bool same = true, conv = true;
    for (std::size_t i = 0; i < n * 3; ++i) same = same && (t1[i] == t2[i] || (std::isnan(t1[i]) && std::isnan(t2[i])));
    for (std::size_t i = 0; i < n; ++i) conv = conv && c1[i] == kSbOk;
    CHECK(same);
    CHECK(conv);
    // a split into two runs gives the same rows
    std::vector<double> t3((n - 15) * 3);
    BootOut o3{t3.data(), nullptr, nullptr, nullptr, nullptr, n - 15};
    selboot_run(s, type, 99, 15, n, nullptr, 2, o3, NoPoll());
    bool split = true;
    for (std::size_t i = 15; i < n; ++i)
      for (int j = 0; j < 3; ++j) split = split && t3[(i - 15) + j * (n - 15)] == t1[i + j * n];
    CHECK(split);
  }
}

void test_sampler_distribution() {
  // delta_2 = 0.25 fixed: P(p <= .025) among the drawn outcomes is q / (q + 0.25 (1 - q))
  const Data d = simulate(20, 14);
  BootSpec s = spec_for(d, 0.1, 0.03, 0.25, false);
  const ParamMap pm(s);
  std::vector<double> par(4);
  const std::vector<double> th = pm.start();
  pm.expand(th.data(), par.data());
  double share = 0.0, expected = 0.0;
  const int R = 4000;
  BootData bd;
  for (int r = 0; r < R; ++r) {
    selboot_replicate_data(s, 1, par.data(), 7, r, bd);
    for (int i = 0; i < 20; ++i) share += bd.pvals[i] <= 0.025;
  }
  share /= 20.0 * R;
  double var = 0.0;
  for (int i = 0; i < 20; ++i) {
    const double sd = std::sqrt(d.vi[i] + 0.03);
    const double q = upper_tail((1.959963984540054 * std::sqrt(d.vi[i]) - 0.1) / sd);
    const double e = q / (q + 0.25 * (1 - q));
    expected += e / 20.0;
    var += e * (1 - e) / (20.0 * 20.0 * R);
  }
  CHECK(std::fabs(share - expected) < 4.0 * std::sqrt(var));
}

}  // namespace

int main() {
  test_refit_reaches_maximum();
  test_empty_interval_at_bound();
  test_threads_identical();
  test_sampler_distribution();
  return metafast_test::report("test_selmodel_boot");
}
