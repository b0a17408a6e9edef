// What each heterogeneity estimator (and each test of the coefficients) can
// do: one row per name, the single source that the R code reads through
// .mf_estimator_table() instead of keeping its own lists of codes and names.
// Sources of the estimators: tau2.hpp.
#pragma once

#include <array>
#include <cstddef>

#include "core/fit.hpp"  // Method, Test

namespace metafast {

struct EstimatorInfo {
  const char* name;       // as given to rma(method = ...)
  const char* canonical;  // the name it stands for (FE and CE are aliases of EE, CO and VC of HE, MP of PM)
  Method code;
  bool random;            // estimates tau2 (false: the equal-effects model, tau2 = 0)
  bool iterative;         // solved iteratively (Fisher scoring or a bracketed root-finder)
  bool likelihood;        // maximises the likelihood (ML) or the restricted likelihood (REML)
  bool restricted;        // the restricted likelihood: REML fit statistics
  bool warm_start;        // Fisher scoring that a refit may start at a nearby estimate (tau2.init)
  bool has_se;            // gives a standard error of tau2
  bool user_weights;      // estimates tau2 with the user's weights (which must then be given)
};

// (a function-local static: one object for the whole program, whatever
// translation unit asks first)
inline const std::array<EstimatorInfo, 20>& estimator_table() {
  //                                      name  canon. code    random iter.  lik.   restr. warm   se     user w.
  static const std::array<EstimatorInfo, 20> rows = {{
    {"EE", "EE", Method::EE, false, false, false, false, false, false, false},
    {"FE", "EE", Method::EE, false, false, false, false, false, false, false},
    {"CE", "EE", Method::EE, false, false, false, false, false, false, false},
    {"DL", "DL", Method::DL, true, false, false, false, false, true, false},
    {"HE", "HE", Method::HE, true, false, false, false, false, true, false},
    {"CO", "HE", Method::HE, true, false, false, false, false, true, false},  // (metafor's aliases of HE)
    {"VC", "HE", Method::HE, true, false, false, false, false, true, false},
    {"HS", "HS", Method::HS, true, false, false, false, false, true, false},
    {"HSk", "HSk", Method::HSk, true, false, false, false, false, true, false},
    {"SJ", "SJ", Method::SJ, true, false, false, false, false, true, false},
    {"ML", "ML", Method::ML, true, true, true, false, true, true, false},
    {"REML", "REML", Method::REML, true, true, true, true, true, true, false},
    {"EB", "EB", Method::EB, true, true, false, false, true, true, false},
    {"PM", "PM", Method::PM, true, true, false, false, false, true, false},
    {"MP", "PM", Method::PM, true, true, false, false, false, true, false},  // (metafor's alias of PM)
    {"GENQ", "GENQ", Method::GENQ, true, false, false, false, false, true, true},
    {"GENQM", "GENQM", Method::GENQM, true, true, false, false, false, true, true},
    {"DLIT", "DLIT", Method::DLIT, true, true, false, false, false, true, false},
    {"SJIT", "SJIT", Method::SJIT, true, true, false, false, false, true, false},
    {"PMM", "PMM", Method::PMM, true, true, false, false, false, true, false},
  }};
  return rows;
}

// The row of an estimator's canonical name (the first row with its code).
inline const EstimatorInfo& estimator_info(Method m) {
  const auto& tab = estimator_table();
  std::size_t i = 0;
  while (i + 1 < tab.size() && tab[i].code != m) ++i;
  return tab[i];
}

inline bool estimator_iterative(Method m) { return estimator_info(m).iterative; }

struct TestInfo {
  const char* name;  // as given to rma(test = ...)
  Test code;
  bool tdist;        // t and F reference distributions with k - p degrees of freedom
  bool knha;         // the covariance of the coefficients scaled by s2w (Knapp & Hartung 2003)
};

inline const std::array<TestInfo, 3>& test_table() {
  static const std::array<TestInfo, 3> rows = {{
      {"z", Test::Z, false, false},
      {"t", Test::T, true, false},
      {"knha", Test::KNHA, true, true},
  }};
  return rows;
}

}  // namespace metafast
