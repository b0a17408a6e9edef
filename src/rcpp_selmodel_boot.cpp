// Thin Rcpp layer over core/selmodel_boot.hpp: the case and parametric
// bootstrap of a selection model (boot_rma() of a selmodel() fit,
// R/selmodel-boot.R), and the data of one replicate for checks against
// metafor.  R builds the spec (the model of the fit, the free parameters and
// their bounds) and validates everything.
#include <cstdint>
#include <vector>

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "core/selmodel_boot.hpp"

namespace {

namespace smb = metafast::selmodel;

// The spec list of R/selmodel-boot.R (.mf_selboot_spec) as a BootSpec that
// points into the list's vectors (which outlive it).
smb::BootSpec selboot_spec_from_r(const Rcpp::List& sp) {
  smb::BootSpec s;
  const Rcpp::NumericVector yi = sp["yi"], vi = sp["vi"], preci = sp["preci"], prec_raw = sp["prec_raw"];
  const Rcpp::NumericMatrix X = sp["X"];
  const int k = yi.size(), p = X.ncol();
  if (vi.size() != k || preci.size() != k || prec_raw.size() != k || X.nrow() != k) Rcpp::stop("invalid spec");
  s.m.type = static_cast<smb::Type>(Rcpp::as<int>(sp["code"]));
  s.m.alt = static_cast<smb::Alternative>(Rcpp::as<int>(sp["alt"]));
  s.m.k = k;
  s.m.p = p;
  s.m.yi = yi.begin();
  s.m.vi = vi.begin();
  s.m.X = X.begin();
  s.m.preci = preci.begin();
  s.prec_raw = prec_raw.begin();
  s.m.steps = Rcpp::as<std::vector<double>>(sp["steps"]);
  s.m.zcut = Rcpp::as<std::vector<double>>(sp["zcut"]);
  s.m.kinks = Rcpp::as<std::vector<double>>(sp["kinks"]);
  s.m.pval_min = Rcpp::as<double>(sp["pval_min"]);
  s.m.quad.rel_tol = Rcpp::as<double>(sp["rel_tol"]);
  s.m.quad.max_pieces = Rcpp::as<int>(sp["pieces"]);
  s.beta = Rcpp::as<std::vector<double>>(sp["beta"]);
  s.tau2 = Rcpp::as<double>(sp["tau2"]);
  s.tau2_free = Rcpp::as<bool>(sp["tau2_free"]);
  s.tau2_max = Rcpp::as<double>(sp["tau2_max"]);
  s.delta = Rcpp::as<std::vector<double>>(sp["delta"]);
  const Rcpp::LogicalVector dfree = sp["delta_free"];
  s.delta_free.assign(dfree.begin(), dfree.end());
  s.delta_min = Rcpp::as<std::vector<double>>(sp["delta_min"]);
  s.delta_max = Rcpp::as<std::vector<double>>(sp["delta_max"]);
  s.mX = Rcpp::as<std::vector<double>>(sp["mX"]);
  s.typ = Rcpp::as<std::vector<double>>(sp["typ"]);
  s.maxit = Rcpp::as<int>(sp["maxit"]);
  if (sp.containsElementNamed("cone")) s.cone = Rcpp::as<bool>(sp["cone"]);
  if (sp.containsElementNamed("cl_offsets")) {
    s.cl_members = Rcpp::as<std::vector<int>>(sp["cl_members"]);
    s.cl_offsets = Rcpp::as<std::vector<int>>(sp["cl_offsets"]);
    const int G = static_cast<int>(s.cl_offsets.size()) - 1;
    if (G < 1 || s.cl_offsets[0] != 0 || s.cl_offsets[G] != static_cast<int>(s.cl_members.size()))
      Rcpp::stop("invalid spec (clusters)");
    for (int g = 0; g < G; ++g)
      if (s.cl_offsets[g + 1] <= s.cl_offsets[g]) Rcpp::stop("invalid spec (clusters)");
    for (int v : s.cl_members)
      if (v < 0 || v >= k) Rcpp::stop("invalid spec (clusters)");
  }
  const std::size_t nd = s.delta.size();
  if (static_cast<int>(s.beta.size()) != p || s.mX.size() != static_cast<std::size_t>(p) * p ||
      s.delta_free.size() != nd || s.delta_min.size() != nd || s.delta_max.size() != nd)
    Rcpp::stop("invalid spec");
  if (s.cone && (s.m.type != smb::Type::StepFun || nd < 2)) Rcpp::stop("invalid spec (cone)");
  if (s.m.type == smb::Type::TruncEst && nd != 2) Rcpp::stop("invalid spec (truncest)");
  const smb::ParamMap pm(s);
  if (static_cast<int>(s.typ.size()) != pm.n) Rcpp::stop("invalid spec (typ)");
  return s;
}

}  // namespace

// Replicates [start, end) (0-based) of a run seeded with seed: type 0 case
// resampling, 1 parametric; or, with sets (a list of 1-based study indices),
// one refit per set.  Returns the statistics (beta on the original moderators,
// tau2 if estimated, the free deltas), the log-likelihood, the code (0
// converged, 1 maxit, 2 not finite, 3 line search, 4 sampler), iterations and
// the number of empty intervals (step functions) per replicate.
// [[Rcpp::export(name = ".mf_selboot_kernel", rng = false)]]
Rcpp::List mf_selboot_kernel(const Rcpp::List& spec, int type, double seed, double start, double end, int threads,
                             SEXP progress, SEXP sets = R_NilValue) {
  const smb::BootSpec s = selboot_spec_from_r(spec);
  const smb::ParamMap pm(s);
  std::vector<std::vector<int>> idx;
  std::size_t lo = static_cast<std::size_t>(start), hi = static_cast<std::size_t>(end);
  if (!Rf_isNull(sets)) {
    const Rcpp::List L(sets);
    idx.resize(L.size());
    for (R_xlen_t i = 0; i < L.size(); ++i) {
      const Rcpp::IntegerVector v = L[i];
      if (v.size() < 1) Rcpp::stop("empty index set");
      idx[i].resize(v.size());
      for (R_xlen_t j = 0; j < v.size(); ++j) {
        if (v[j] == NA_INTEGER || v[j] < 1 || v[j] > s.m.k) Rcpp::stop("study index out of range");
        idx[i][j] = v[j] - 1;
      }
    }
    lo = 0;
    hi = idx.size();
  }
  if (hi < lo) Rcpp::stop("'end' < 'start'");
  const std::size_t n = hi - lo;
  Rcpp::NumericMatrix t(static_cast<int>(n), pm.n);
  Rcpp::NumericVector ll(static_cast<int>(n));
  Rcpp::IntegerVector code(static_cast<int>(n)), iter(static_cast<int>(n)), empty(static_cast<int>(n));
  smb::BootOut o{t.begin(), ll.begin(), code.begin(), iter.begin(), empty.begin(), n};
  metafast::RPoll poll(progress);
  const bool ok = smb::selboot_run(s, type, static_cast<std::uint64_t>(seed), lo, hi, idx.empty() ? nullptr : &idx,
                                   threads, o, poll);
  poll.finish(ok, n);
  return Rcpp::List::create(Rcpp::Named("t") = t, Rcpp::Named("ll") = ll, Rcpp::Named("code") = code,
                            Rcpp::Named("iterations") = iter, Rcpp::Named("empty") = empty);
}

// The data of replicate r (0-based) of a run: yi, vi, the rescaled precisions
// and (case bootstrap) the 1-based indices of the drawn studies.
// [[Rcpp::export(name = ".mf_selboot_data", rng = false)]]
Rcpp::List mf_selboot_data(const Rcpp::List& spec, int type, double seed, double r) {
  const smb::BootSpec s = selboot_spec_from_r(spec);
  const smb::ParamMap pm(s);
  std::vector<double> par(pm.p + 1 + pm.nd);
  const std::vector<double> th0 = pm.start();
  pm.expand(th0.data(), par.data());
  smb::BootData d;
  const bool ok = smb::selboot_replicate_data(s, type, par.data(), static_cast<std::uint64_t>(seed),
                                              static_cast<std::size_t>(r), d);
  Rcpp::IntegerVector idx(d.idx.size());
  for (std::size_t i = 0; i < d.idx.size(); ++i) idx[i] = d.idx[i] + 1;
  return Rcpp::List::create(Rcpp::Named("yi") = Rcpp::wrap(d.yi), Rcpp::Named("vi") = Rcpp::wrap(d.vi),
                            Rcpp::Named("preci") = Rcpp::wrap(d.preci), Rcpp::Named("pvals") = Rcpp::wrap(d.pvals),
                            Rcpp::Named("idx") = idx, Rcpp::Named("ok") = ok);
}
