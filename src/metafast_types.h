// Included first by the generated src/RcppExports.cpp (Rcpp's <pkg>_types.h
// convention) and by rcpp_convert.h, so RcppEigen (and Eigen) are parsed once,
// here, with GCC's -Wignored-attributes silenced for their headers only: the
// thousands of "ignoring attributes on template argument" warnings are about
// Eigen's packet code, not ours (see also core/eigen.hpp).
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

#include <RcppEigen.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
