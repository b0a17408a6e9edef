// rma()'s fit in one call: the core fit over the fallback chain of
// estimators (core/fit.hpp), then the inference that metafor reports --
// standard errors, Wald tests and intervals (z, or t with k - p degrees of
// freedom), the omnibus test QM over btt, QE, I^2 / H^2 and the fit
// statistics -- assembled as the fields of the mf_rma object.  At k = 33 the
// fit itself takes a few microseconds; building these fields with R
// operations cost several times as much, hence one pass here.  The
// distribution functions are R's (Rmath).
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "rcpp_convert.h"
#include "rcpp_interrupt.h"
#include "core/fit.hpp"

using namespace metafast;

namespace {

// The poll of a single fit (Control::poll, core/model.hpp): the solvers call
// it once per iteration; it reads the clock and checks for an interrupt at
// most every 100 ms (never during the first 100 ms, so that ordinary fits do
// not reach R at all).  Main thread only.
struct SingleFitPoll {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  bool interrupted = false;
  static bool call(void* data) {
    SingleFitPoll* s = static_cast<SingleFitPoll*>(data);
    if (s->interrupted) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now - s->last < std::chrono::milliseconds(100)) return true;
    s->last = now;
    if (interrupt_pending()) s->interrupted = true;
    return !s->interrupted;
  }
  FitPoll poll() { FitPoll p; p.fn = &SingleFitPoll::call; p.data = this; return p; }
};


Rcpp::NumericVector named(Rcpp::NumericVector x, const Rcpp::CharacterVector& nm) {
  x.attr("names") = nm;
  return x;
}

// metafor's fit.stats: ll, dev, AIC, BIC, AICc for ML and REML (AICc with
// n = k or k - p, at least parms + 2), as a data frame.
Rcpp::List fit_stats(const FitResult& f, int parms, int k, int p) {
  const double nm = std::max<double>(k, parms + 2), nr = std::max<double>(k - p, parms + 2);
  Rcpp::NumericVector ml = Rcpp::NumericVector::create(
      f.ll_ml, f.dev_ml, -2 * f.ll_ml + 2 * parms, -2 * f.ll_ml + parms * std::log(static_cast<double>(k)),
      -2 * f.ll_ml + 2 * parms * nm / (nm - parms - 1));
  Rcpp::NumericVector reml = Rcpp::NumericVector::create(
      f.ll_reml, -2 * f.ll_reml, -2 * f.ll_reml + 2 * parms,
      -2 * f.ll_reml + parms * std::log(static_cast<double>(k - p)),
      -2 * f.ll_reml + 2 * parms * nr / (nr - parms - 1));
  Rcpp::List out = Rcpp::List::create(Rcpp::Named("ML") = ml, Rcpp::Named("REML") = reml);
  out.attr("row.names") = Rcpp::CharacterVector::create("ll", "dev", "AIC", "BIC", "AICc");
  out.attr("class") = "data.frame";
  return out;
}

}  // namespace

// chain: estimator codes, tried in turn until one converges (names: their
// names).  btt: 1-based coefficients of QM.  alpha: 1 - level.  scale: the
// power of two by which the outcomes are rescaled (core::scale_of()).
// [[Rcpp::export(name = ".mf_rma_fit", rng = false)]]
Rcpp::List mf_rma_fit(Rcpp::NumericVector y, Rcpp::NumericVector v, Rcpp::NumericMatrix X,
                      Rcpp::NumericVector weights, Rcpp::IntegerVector chain, int test, Rcpp::List control,
                      Rcpp::IntegerVector btt, double alpha) {
  const ProblemView pr = view_from_r(y, v, X, weights);
  Control ctl = control_from_r(control);
  SingleFitPoll fit_poll;  // (the solvers' iterations poll for an interrupt, issue 18)
  ctl.poll = fit_poll.poll();
  const Test tst = static_cast<Test>(test);
  const int k = pr.k(), p = pr.p();
  FitWorkspace ws;
  FitResult f;
  int used = 0;
  for (; used < chain.size(); ++used) {
    fit_model_scaled(pr, static_cast<Method>(chain[used]), ctl, tst, Detail::Full,
                     scale_for(static_cast<Method>(chain[used]), pr.y, pr.v), ws, f);
    if (fit_poll.interrupted) throw Rcpp::internal::InterruptedException();
    if (!std::isnan(f.tau2) && f.conv.converged) break;
  }
  if (used == chain.size()) --used;
  const Rcpp::CharacterVector chain_names = chain.attr("names");
  Rcpp::CharacterVector fallbacks(used);
  for (int i = 0; i < used; ++i) fallbacks[i] = chain_names[i];
  const Rcpp::List conv = convergence_to_r(f.conv, std::string(chain_names[used]), fallbacks);
  const Method m = static_cast<Method>(chain[used]);
  if (std::isnan(f.tau2))  // the R side stops with the solver's message
    return Rcpp::List::create(Rcpp::Named("tau2") = NA_REAL, Rcpp::Named("convergence") = conv);

  const bool is_ee = m == Method::EE;
  const double tau2 = is_ee ? 0.0 : f.tau2;
  SEXP dn = Rf_getAttrib(X, R_DimNamesSymbol);
  const Rcpp::CharacterVector cn = Rf_isNull(dn) ? Rcpp::CharacterVector(p) : Rcpp::CharacterVector(VECTOR_ELT(dn, 1));

  // coefficients, Wald statistics and intervals
  const bool tdist = tst != Test::Z;
  const int ddf = k - p;
  Rcpp::NumericVector se(p), zval(p), pval(p), lb(p), ub(p);
  const double crit = !tdist ? R::qnorm(alpha / 2, 0, 1, 0, 0) : (ddf > 0 ? R::qt(alpha / 2, ddf, 0, 0) : NA_REAL);
  for (int j = 0; j < p; ++j) {
    se[j] = std::sqrt(f.vb(j, j));
    zval[j] = f.beta(j) / se[j];
    pval[j] = !tdist ? 2 * R::pnorm(std::fabs(zval[j]), 0, 1, 0, 0)
                     : (ddf > 0 ? 2 * R::pt(std::fabs(zval[j]), ddf, 0, 0) : NA_REAL);
    lb[j] = f.beta(j) - crit * se[j];
    ub[j] = f.beta(j) + crit * se[j];
  }
  Rcpp::NumericMatrix beta(p, 1), vb(p, p);
  for (int j = 0; j < p; ++j) {
    beta(j, 0) = f.beta(j);
    for (int i = 0; i < p; ++i) vb(i, j) = f.vb(i, j);
  }
  beta.attr("dimnames") = Rcpp::List::create(cn, Rcpp::CharacterVector::create("estimate"));
  vb.attr("dimnames") = Rcpp::List::create(cn, cn);

  // omnibus test over btt (an F test divided by m under t / knha)
  const int mb = btt.size();
  Eigen::VectorXi idx(mb);
  for (int i = 0; i < mb; ++i) idx(i) = btt[i] - 1;
  double QM = wald_qm_fit(f, idx), QMp;  // (exact also for nearly collinear designs)
  if (tdist) {
    QM /= mb;
    QMp = ddf > 0 ? R::pf(QM, mb, ddf, 0, 0) : NA_REAL;
  } else {
    QMp = R::pchisq(QM, mb, 0, 0);
  }

  // heterogeneity: QE, and I^2 / H^2 from the typical sampling variance
  double QE = 0, QEp = 1, I2 = 0, H2 = 1, vt = 0;
  if (k > p) {
    QE = f.QE;
    QEp = R::pchisq(QE, k - p, 0, 0);
    vt = (k - p) / f.trP0;
    i2_h2(m, k, p, QE, f.trP0, tau2, I2, H2);
  }
  const int parms = p + ((!is_ee && !ctl.fix_tau2) ? 1 : 0);
  const Rcpp::RObject ddf_r = tdist ? Rcpp::RObject(Rcpp::wrap(ddf)) : Rcpp::RObject(Rcpp::wrap(NA_INTEGER));

  const bool coords = f.RPt.size() > 0;  // (ill-conditioned designs: the coordinates of exact Wald statistics)
  const int nout = coords ? 28 : 27;
  Rcpp::List out(nout);
  Rcpp::CharacterVector nm(nout);
  int i = 0;
  auto put = [&](const char* name, SEXP value) { nm[i] = name; out[i++] = value; };
  put("b", beta);
  put("beta", beta);
  put("se", named(se, cn));
  put("zval", named(zval, cn));
  put("pval", named(pval, cn));
  put("ci.lb", named(lb, cn));
  put("ci.ub", named(ub, cn));
  put("vb", vb);
  put("tau2", Rcpp::wrap(tau2));
  put("se.tau2", Rcpp::wrap((ctl.fix_tau2 || std::isnan(f.se_tau2)) ? NA_REAL : f.se_tau2));
  put("tau2.fix", Rcpp::wrap(ctl.fix_tau2));
  put("I2", Rcpp::wrap(I2));
  put("H2", Rcpp::wrap(H2));
  put("vt", Rcpp::wrap(vt));
  put("QE", Rcpp::wrap(QE));
  put("QEp", Rcpp::wrap(QEp));
  put("QM", Rcpp::wrap(QM));
  put("QMdf", tdist ? Rcpp::IntegerVector::create(mb, ddf) : Rcpp::IntegerVector::create(mb, NA_INTEGER));
  put("QMp", Rcpp::wrap(QMp));
  put("parms", Rcpp::wrap(parms));
  put("m", Rcpp::wrap(mb));
  put("method", Rcpp::wrap(std::string(chain_names[used])));
  put("dfs", ddf_r);
  put("ddf", ddf_r);
  put("s2w", Rcpp::wrap(f.s2w));
  put("fit.stats", fit_stats(f, parms, k, p));
  put("convergence", conv);
  if (coords)
    put("mf.wald", Rcpp::List::create(Rcpp::Named("b") = Rcpp::wrap(f.beta_t), Rcpp::Named("vb") = Rcpp::wrap(f.vb_t),
                                      Rcpp::Named("RPt") = Rcpp::wrap(f.RPt), Rcpp::Named("D") = Rcpp::wrap(f.D_t)));
  out.attr("names") = nm;
  // 0 when every result is within double precision (the usual case): the R side then skips its
  // detailed range checks (.mf_fit_range_check()), which cost more than a small fit (issue 18)
  bool ok = std::isfinite(tau2) && std::isfinite(QE);
  for (int j = 0; j < p && ok; ++j)
    ok = std::isfinite(f.beta(j)) && f.vb(j, j) >= std::numeric_limits<double>::min() && f.vb(j, j) < R_PosInf;
  out.attr("mf.status") = Rcpp::wrap(ok ? 0 : 1);
  return out;
}
