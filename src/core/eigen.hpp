// The one place the core includes Eigen.  GCC warns "ignoring attributes on
// template argument" (-Wignored-attributes) thousands of times inside Eigen's
// SSE/AVX packet code; the warning is about Eigen's internals, not ours, so it
// is silenced here, for Eigen's headers only, instead of by a compiler flag.
// model.hpp includes this first, so every core header sees Eigen through it.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

#include <Eigen/Dense>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
