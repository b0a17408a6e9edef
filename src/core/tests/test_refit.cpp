// Stand-alone tests of the refit engine (core/refit.hpp) and the kernels on
// it: the selection of units with and without blocks, the records of the
// bootstrap, jackknife, permutation, leave-one-out, cumulative and GOSH
// kernels against direct fits of the same data, and identical results for
// 1 and 2 threads.  Build and run: bash tools/core-tests.sh
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "core/bootstrap.hpp"
#include "core/case_deletion.hpp"
#include "core/gosh.hpp"
#include "core/permutation.hpp"
#include "core/refit.hpp"

#include "core/tests/harness.hpp"

using namespace metafast;

static Problem rows_of(const Problem& pr, const std::vector<int>& rows) {
  Problem s;
  const int n = static_cast<int>(rows.size());
  s.y.resize(n); s.v.resize(n); s.X.resize(n, pr.p());
  for (int i = 0; i < n; ++i) {
    s.y(i) = pr.y(rows[i]); s.v(i) = pr.v(rows[i]); s.X.row(i) = pr.X.row(rows[i]);
  }
  return s;
}

// A direct fit, as rma() does it.
static FitResult direct(const Problem& pr, const RefitSpec& sp, Detail d, double warm = NAN) {
  FitWorkspace ws;
  FitResult f;
  Control c = sp.ctl;
  if (!std::isnan(warm)) c.tau2_init = warm;
  fit_model_scaled(pr, sp.method, c, sp.test, d, scale_for(sp.method, pr.y, pr.v), ws, f);
  return f;
}

static bool none(std::size_t) { return true; }

static void test_select() {
  // without blocks: a unit is a row; repeats allowed
  Problem pr = random_problem(5, 2, 1);
  pr.weights = Vec::LinSpaced(5, 1, 5);
  const ProblemView pv(pr);
  const std::vector<std::size_t> vs = dense_block_starts(pv);
  CHECK(vs.empty());
  const int u[] = {4, 0, 4};
  Problem out;
  select_units(pv, vs, u, 3, out);
  CHECK(out.k() == 3 && out.p() == 2 && !out.has_blocks() && !out.dense_cov());
  CHECK_SAME(out.y(0), pr.y(4)); CHECK_SAME(out.y(1), pr.y(0)); CHECK_SAME(out.y(2), pr.y(4));
  CHECK_SAME(out.v(1), pr.v(0)); CHECK_SAME(out.X(2, 1), pr.X(4, 1)); CHECK_SAME(out.weights(0), 5.0);
  // with blocks: sizes 2, 1, 3 and dense covariance blocks
  Problem b = random_problem(6, 2, 2);
  b.offsets.resize(4);
  b.offsets << 0, 2, 3, 6;
  b.Vblocks.resize(4 + 1 + 9);
  for (int i = 0; i < b.Vblocks.size(); ++i) b.Vblocks(i) = 100 + i;  // labels, not a covariance
  const ProblemView bv(b);
  CHECK(bv.n_blocks() == 3);
  const std::vector<std::size_t> bs = dense_block_starts(bv);
  CHECK(bs.size() == 4 && bs[1] == 4 && bs[2] == 5 && bs[3] == 14);
  const int c[] = {2, 0, 2};
  select_units(bv, bs, c, 3, out);
  CHECK(out.k() == 8 && out.has_blocks() && out.n_blocks() == 3 && out.dense_cov());
  CHECK(out.offsets(0) == 0 && out.offsets(1) == 3 && out.offsets(2) == 5 && out.offsets(3) == 8);
  CHECK(out.Vblocks.size() == 9 + 4 + 9);
  CHECK_SAME(out.Vblocks(0), 105.0); CHECK_SAME(out.Vblocks(8), 113.0);
  CHECK_SAME(out.Vblocks(9), 100.0); CHECK_SAME(out.Vblocks(12), 103.0);
  CHECK_SAME(out.Vblocks(13), 105.0);
  CHECK_SAME(out.y(0), b.y(3)); CHECK_SAME(out.y(2), b.y(5)); CHECK_SAME(out.y(3), b.y(0));
  CHECK_SAME(out.y(4), b.y(1)); CHECK_SAME(out.y(7), b.y(5)); CHECK_SAME(out.X(4, 1), b.X(1, 1));
  // blocks without dense covariance: offsets only
  b.Vblocks.resize(0);
  const ProblemView bd(b);
  select_units(bd, dense_block_starts(bd), c, 2, out);
  CHECK(out.k() == 5 && out.n_blocks() == 2 && !out.dense_cov() && out.offsets(2) == 5);
  // the engine counts units and the case bootstrap draws units
  RefitSpec sp;
  const RefitEngine eng(bv, boot_plan(sp));
  CHECK(eng.n_units() == 3);
}

static void test_bootstrap_jackknife() {
  const Problem pr = random_problem(25, 2, 3);
  RefitSpec sp;  // REML, z
  const int p = 2, q = n_boot_stats(p);
  const std::size_t R = 40;
  std::vector<double> o1(R * q), o2(R * q);
  CHECK(bootstrap_run(pr, sp, BootType::Case, Vec(), 0.0, 7, 0, R, 1, o1.data(), none));
  CHECK(bootstrap_run(pr, sp, BootType::Case, Vec(), 0.0, 7, 0, R, 2, o2.data(), none));
  CHECK(o1 == o2);
  // a chunk [10, 20) gives rows 10..19 of the whole run
  std::vector<double> oc(10 * q);
  CHECK(bootstrap_run(pr, sp, BootType::Case, Vec(), 0.0, 7, 10, 20, 2, oc.data(), none));
  for (int j = 0; j < q; ++j)
    for (int i = 0; i < 10; ++i) CHECK_SAME(oc[i + 10 * j], o1[10 + i + R * j]);
  // replicate r against a direct fit of the rows it draws
  for (std::size_t r : {0u, 13u, 39u}) {
    Stream s(7, r);
    std::vector<int> idx(pr.k());
    for (int& x : idx) x = static_cast<int>(s.below(pr.k()));
    const Problem b = rows_of(pr, idx);
    const FitResult f = direct(b, sp, Detail::Heterogeneity);
    double I2, H2;
    i2_h2(sp.method, b.k(), p, f.QE, f.trP0, f.tau2, I2, H2);
    CHECK_SAME(o1[r + 0 * R], f.beta(0));
    CHECK_SAME(o1[r + 1 * R], f.beta(1));
    CHECK_SAME(o1[r + 2 * R], f.tau2);
    CHECK_SAME(o1[r + 3 * R], I2);
    CHECK_SAME(o1[r + 4 * R], H2);
  }
  // parametric: y* = X b + sd e
  Vec beta(2); beta << 0.3, 0.1;
  std::vector<double> pa(R * q), pb(R * q);
  CHECK(bootstrap_run(pr, sp, BootType::Parametric, beta, 0.05, 9, 0, R, 1, pa.data(), none));
  CHECK(bootstrap_run(pr, sp, BootType::Parametric, beta, 0.05, 9, 0, R, 2, pb.data(), none));
  CHECK(pa == pb);
  {
    Stream s(9, 5);
    Problem b = pr;
    for (int j = 0; j < pr.k(); ++j) b.y(j) = pr.X.row(j).dot(beta) + std::sqrt(pr.v(j) + 0.05) * s.normal();
    CHECK_SAME(pa[5 + 2 * R], direct(b, sp, Detail::Heterogeneity).tau2);
  }
  // jackknife row i: without row i
  const std::size_t k = pr.k();
  std::vector<double> j1(k * q), j2(k * q);
  CHECK(jackknife_run(pr, sp, 1, j1.data(), none));
  CHECK(jackknife_run(pr, sp, 2, j2.data(), none));
  CHECK(j1 == j2);
  std::vector<int> keep;
  for (int r = 0; r < 25; ++r) if (r != 6) keep.push_back(r);
  const FitResult f = direct(rows_of(pr, keep), sp, Detail::Heterogeneity);
  CHECK_SAME(j1[6 + 1 * k], f.beta(1));
  CHECK_SAME(j1[6 + 2 * k], f.tau2);
}

static void test_deletion_and_gosh() {
  const Problem pr = random_problem(12, 1, 4);
  RefitSpec sp;
  sp.test = Test::KNHA;
  const RefitPlan plan = deletion_plan(sp, true, NAN);
  const std::size_t k = 12;
  auto run_l1o = [&](int threads, std::vector<double>& b, std::vector<double>& se, std::vector<double>& t2,
                     std::vector<double>& I2, std::vector<double>& dp) {
    b.assign(k, 0); se.assign(k, 0); t2.assign(k, 0); I2.assign(k, 0); dp.assign(k * 2, 0);
    std::vector<double> QE(k), H2(k), s2w(k);
    DeletionOut o;
    o.n = k; o.beta = b.data(); o.se = se.data(); o.tau2 = t2.data(); o.I2 = I2.data(); o.H2 = H2.data();
    o.QE = QE.data(); o.s2w = s2w.data(); o.delpred = dp.data(); o.vdelpred = dp.data() + k;
    return leave1out_run(pr, plan, threads, o, NAN, none);
  };
  std::vector<double> b1, se1, t1, i1, d1, b2, se2, t2, i2, d2;
  CHECK(run_l1o(1, b1, se1, t1, i1, d1));
  CHECK(run_l1o(2, b2, se2, t2, i2, d2));
  CHECK(b1 == b2 && se1 == se2 && t1 == t2 && i1 == i2 && d1 == d2);
  std::vector<int> keep;
  for (int r = 0; r < 12; ++r) if (r != 3) keep.push_back(r);
  const FitResult f = direct(rows_of(pr, keep), sp, Detail::Heterogeneity);
  CHECK_SAME(b1[3], f.beta(0));
  CHECK_SAME(se1[3], std::sqrt(f.vb(0, 0)));
  CHECK_SAME(t1[3], f.tau2);
  CHECK_SAME(d1[3], f.beta(0));
  CHECK_SAME(d1[k + 3], f.vb(0, 0));
  // cumulative: prefixes of an order; k = 1 is fitted with tau2 = 0 and a z test
  const std::vector<int> order = {5, 2, 9, 0, 11};
  std::vector<double> cb(5), ct(5);
  std::vector<int> ck(5), cz(5), cok(5);
  DeletionOut co;
  co.n = 5; co.beta = cb.data(); co.tau2 = ct.data(); co.k = ck.data(); co.z_test = cz.data(); co.ok = cok.data();
  CHECK(cumul_run(pr, plan, order, 1, co, NAN, none));
  CHECK(ck[0] == 1 && cz[0] == 1 && cok[0] == 1 && ct[0] == 0.0);
  CHECK_SAME(cb[0], pr.y(5));
  const FitResult fc = direct(rows_of(pr, {5, 2, 9, 0}), sp, Detail::Heterogeneity);
  CHECK(ck[3] == 4 && cz[3] == 0);
  CHECK_SAME(cb[3], fc.beta(0));
  CHECK_SAME(ct[3], fc.tau2);
  // leave one cluster out: cluster c refitted without its rows; 1 and 2 threads
  const std::vector<int> cl = {0, 1, 2, 0, 1, 2, 3, 3, 1, 0, 2, 3};
  auto run_clu = [&](int threads, std::vector<double>& b, std::vector<double>& t2, std::vector<int>& kk) {
    b.assign(4, 0); t2.assign(4, 0); kk.assign(4, 0);
    DeletionOut o;
    o.n = 4; o.beta = b.data(); o.tau2 = t2.data(); o.k = kk.data();
    return leave_cluster_out_run(pr, plan, cl, 4, threads, o, NAN, none);
  };
  std::vector<double> lb1, lt1, lb2, lt2;
  std::vector<int> lk1, lk2;
  CHECK(run_clu(1, lb1, lt1, lk1));
  CHECK(run_clu(2, lb2, lt2, lk2));
  CHECK(lb1 == lb2 && lt1 == lt2 && lk1 == lk2);
  const FitResult fl = direct(rows_of(pr, {0, 2, 3, 5, 6, 7, 9, 10, 11}), sp, Detail::Heterogeneity);
  CHECK(lk1[1] == 9);
  CHECK_SAME(lb1[1], fl.beta(0));
  CHECK_SAME(lt1[1], fl.tau2);
  // influence: Cook's D and COVRATIO over btt (metafor's btt); btt = all
  // coefficients gives the default, a subset the quadratic form and
  // determinant ratio of the sub-blocks
  {
    const Problem q = random_problem(15, 3, 8);
    const RefitPlan iplan = deletion_plan(RefitSpec(), false, NAN);
    const FitResult full = direct(q, RefitSpec(), Detail::Heterogeneity);
    FullFit ff;
    ff.beta = full.beta; ff.vb = full.vb; ff.hat = Vec::Constant(15, 0.2);
    const RefitEngine eng(q, iplan);
    std::vector<int> units;
    for (int r = 1; r < 15; ++r) units.push_back(r);
    const RefitRecord rec = eng.refit_units(units);
    CHECK(rec.ok);
    std::vector<double> dfb(3);
    const InflRow all = influence_row(q, ff, 0, rec, dfb.data(), 1);
    ff.btt = {0, 1, 2};
    const InflRow all2 = influence_row(q, ff, 0, rec, dfb.data(), 1);
    CHECK_NEAR(all.cook, all2.cook, 1e-10);
    CHECK_NEAR(all.covr, all2.covr, 1e-10);
    ff.btt = {1, 2};
    const InflRow sub = influence_row(q, ff, 0, rec, dfb.data(), 1);
    const Vec d = ff.beta - rec.beta;
    const Vec db = d.tail(2);
    const Mat vf = ff.vb.bottomRightCorner(2, 2), vd = rec.vb.bottomRightCorner(2, 2);
    CHECK_NEAR(sub.cook, db.dot(vf.inverse() * db), 1e-10);
    CHECK_NEAR(sub.covr, vd.determinant() / vf.determinant(), 1e-10);
    CHECK(std::fabs(sub.cook - all.cook) > 1e-12);
  }
  // GOSH, exact: subset t against a direct fit; 1 and 2 threads; chunks
  const Problem g = random_problem(7, 1, 5);
  const RefitPlan gplan = deletion_plan(RefitSpec(), true, NAN);
  const std::size_t S = (std::size_t(1) << 7) - 1;  // every non-empty subset of 7 studies
  auto run_gosh = [&](bool exact, std::size_t S_, std::size_t lo, std::size_t hi, int threads,
                      std::vector<double>& tau2, std::vector<int>& incl) {
    const std::size_t n = hi - lo;
    tau2.assign(n, 0); incl.assign(n * 7, 0);
    std::vector<double> b(n);
    std::vector<int> kk(n);
    GoshOut o;
    o.incl = incl.data(); o.fit.n = n; o.fit.tau2 = tau2.data(); o.fit.beta = b.data(); o.fit.k = kk.data();
    return gosh_run(g, gplan, exact, 11, S_, lo, hi, threads, o, NAN, none);
  };
  std::vector<double> ga, gb, gc;
  std::vector<int> ia, ib, ic;
  CHECK(run_gosh(true, S, 0, S, 1, ga, ia));
  CHECK(run_gosh(true, S, 0, S, 2, gb, ib));
  CHECK(ga == gb && ia == ib);
  CHECK(run_gosh(true, S, 40, 90, 2, gc, ic));
  for (std::size_t i = 0; i < 50; ++i) CHECK_SAME(gc[i], ga[40 + i]);
  const std::vector<std::uint64_t> masks = enumerate_subsets(7, 1);
  for (std::size_t t : {10u, 70u, 126u}) {
    std::vector<int> rows;
    for (int j = 0; j < 7; ++j) if ((masks[t] >> j) & 1u) { rows.push_back(j); CHECK(ia[t + S * j] == 1); }
    if (rows.size() >= 2) CHECK_SAME(ga[t], direct(rows_of(g, rows), RefitSpec(), Detail::Heterogeneity).tau2);
  }
  // GOSH, random: 1 vs 2 threads, and a chunk equals the rows of the whole run
  CHECK(run_gosh(false, 300, 0, 300, 1, ga, ia));
  CHECK(run_gosh(false, 300, 0, 300, 2, gb, ib));
  CHECK(ga == gb && ia == ib);
  CHECK(run_gosh(false, 300, 100, 200, 2, gc, ic));
  for (std::size_t i = 0; i < 100; ++i) CHECK_SAME(gc[i], ga[100 + i]);
  // exact GOSH with a subset count that is not the number of subsets: refused
  // (regression: masks[t] was read past the enumeration)
  bool threw = false;
  try { run_gosh(true, S + 5, 0, S + 5, 1, gc, ic); } catch (const std::invalid_argument&) { threw = true; }
  CHECK(threw);
  // per-row diagnostics of a block-structured problem: refused, not computed per block
  Problem blk = random_problem(12, 1, 4);
  blk.offsets.resize(4);
  blk.offsets << 0, 4, 8, 12;
  threw = false;
  try {
    std::vector<double> b, se, t2, i2, dp;
    DeletionOut o;
    std::vector<double> QE(12), H2(12), s2w(12);
    b.assign(12, 0); se.assign(12, 0); t2.assign(12, 0); i2.assign(12, 0); dp.assign(24, 0);
    o.n = 3; o.beta = b.data(); o.se = se.data(); o.tau2 = t2.data(); o.I2 = i2.data(); o.H2 = H2.data();
    o.QE = QE.data(); o.s2w = s2w.data(); o.delpred = dp.data(); o.vdelpred = dp.data() + 12;
    leave1out_run(blk, plan, 1, o, NAN, none);
  } catch (const std::invalid_argument&) { threw = true; }
  CHECK(threw);
}

static void test_permutation() {
  const Problem pr = random_problem(10, 2, 6);
  PermSpec ps;
  ps.btt.resize(1);
  ps.btt(0) = 1;
  const std::size_t n = 60;
  auto run = [&](const Problem& x, bool int_only, int threads, std::size_t lo, std::size_t hi,
                 std::vector<double>& beta, std::vector<double>& z, std::vector<double>& qm) {
    const std::size_t m = hi - lo;
    beta.assign(m * x.p(), 0); z.assign(m * x.p(), 0); qm.assign(m, 0);
    PermOut o{beta.data(), z.data(), qm.data(), m};
    return int_only ? signflip_run(x, ps, false, 21, lo, hi, threads, o, none)
                    : rowperm_run(x, ps, false, {}, {}, 21, lo, hi, threads, o, none);
  };
  std::vector<double> b1, z1, q1, b2, z2, q2, b3, z3, q3;
  CHECK(run(pr, false, 1, 0, n, b1, z1, q1));
  CHECK(run(pr, false, 2, 0, n, b2, z2, q2));
  CHECK(b1 == b2 && z1 == z2 && q1 == q2);
  CHECK(run(pr, false, 2, 20, 45, b3, z3, q3));
  for (std::size_t i = 0; i < 25; ++i) CHECK_SAME(q3[i], q1[20 + i]);
  // replicate 0 is the observed data; replicate 7 the shuffle of Stream(21, 7)
  const FitResult f0 = direct(pr, ps.sp, Detail::Lean);
  CHECK_SAME(z1[0 + n], f0.beta(1) / std::sqrt(f0.vb(1, 1)));
  {
    Stream s(21, 7);
    std::vector<int> perm(10);
    for (int t = 0; t < 10; ++t) perm[t] = t;
    for (int t = 9; t > 0; --t) std::swap(perm[t], perm[static_cast<int>(s.below(t + 1))]);
    Problem b = pr;
    for (int t = 0; t < 10; ++t) b.X.row(t) = pr.X.row(perm[t]);
    const FitResult f = direct(b, ps.sp, Detail::Lean);
    CHECK_SAME(b1[7 + n], f.beta(1));
    CHECK_SAME(q1[7], f.beta(1) * f.beta(1) / f.vb(1, 1));
  }
  // sign flips of an intercept-only model, exact: replicate r flips the bits of r
  Problem io = random_problem(6, 1, 8);
  PermSpec pi;
  pi.btt.resize(1);
  pi.btt(0) = 0;
  std::vector<double> eb(64), ez(64), eq(64);
  PermOut o{eb.data(), ez.data(), eq.data(), 64};
  CHECK(signflip_run(io, pi, true, 0, 0, 64, 2, o, none));
  Problem b = io;
  for (int j = 0; j < 6; ++j) if ((37 >> j) & 1) b.y(j) = -b.y(j);
  CHECK_SAME(eb[37], direct(b, pi.sp, Detail::Lean).beta(0));
  std::vector<double> sb, sz, sq, tb, tz, tq;
  ps = pi;
  CHECK(run(io, true, 1, 0, n, sb, sz, sq));
  CHECK(run(io, true, 2, 0, n, tb, tz, tq));
  CHECK(sb == tb && sz == tz && sq == tq);
}

int main() {
  test_select();
  test_bootstrap_jackknife();
  test_deletion_and_gosh();
  test_permutation();
  return metafast_test::report("refit");
}
