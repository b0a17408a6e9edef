// The package's one translation unit (a "unity" or "jumbo" build): every glue
// file below includes Rcpp, RcppEigen and most of the core, and compiled one by
// one each spent ~60 s parsing and instantiating the same templates (12 files:
// ~10 min with gcc 12 -O2 -g at one job, measured 2026-12-03); compiled
// together they take ~2 min.  src/Makevars sets OBJECTS to this file's object,
// so R compiles nothing else, and lists every source and header it includes as
// a prerequisite, so an edit to any of them rebuilds it.
// tools/check-unity.sh fails when a src/*.cpp is missing here or a header is
// missing from that list.  The files keep file-local names (static helpers,
// anonymous namespaces) distinct: they share one scope here.
#include "RcppExports.cpp"
#include "rcpp_block.cpp"
#include "rcpp_case_deletion.cpp"
#include "rcpp_fit.cpp"
#include "rcpp_glmm.cpp"
#include "rcpp_numerics.cpp"
#include "rcpp_resample.cpp"
#include "rcpp_rma.cpp"
#include "rcpp_rma_mv.cpp"
#include "rcpp_rma_mv_methods.cpp"
#include "rcpp_rma_mv_refit.cpp"
#include "rcpp_rma_mv_sparse.cpp"
#include "rcpp_robust.cpp"
#include "rcpp_selmodel.cpp"
#include "rcpp_selmodel_boot.cpp"
#include "rcpp_threads.cpp"
#include "rcpp_wild_bootstrap.cpp"
