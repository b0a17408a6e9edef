// Interrupt checks that do not longjmp through C++ frames: R_CheckUserInterrupt
// runs inside R_ToplevelExec, and the caller unwinds cleanly (threads joined,
// memory freed) before raising the interrupt in R.
#pragma once

#include <Rcpp.h>

namespace metafast {

inline void check_interrupt_fn(void*) { R_CheckUserInterrupt(); }

inline bool interrupt_pending() { return R_ToplevelExec(check_interrupt_fn, nullptr) == FALSE; }

}  // namespace metafast
