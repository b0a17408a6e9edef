// Interrupt checks that do not longjmp through C++ frames: R_CheckUserInterrupt
// runs inside R_ToplevelExec, and the caller unwinds cleanly (threads joined,
// memory freed) before raising the interrupt in R.  RPoll is the one poll
// callback of every resampling and case-deletion kernel.
#pragma once

#include <Rcpp.h>

#include <chrono>
#include <cstddef>

namespace metafast {

inline void check_interrupt_fn(void*) { R_CheckUserInterrupt(); }

inline bool interrupt_pending() { return R_ToplevelExec(check_interrupt_fn, nullptr) == FALSE; }

// The poll of parallel_for (called on the main thread at most every 50 ms):
// false on a pending interrupt; otherwise progress(delta) in R (an R
// function or NULL: R/resampling-helpers.R), with the number of replicates
// finished since the last report.  Progress is throttled so that it costs a
// negligible share of the run: nothing during the first half second (a short
// run reports once, at the end), then at most one report per poll.
struct RPoll {
  SEXP progress;
  std::size_t last = 0;
  bool interrupted = false;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  static constexpr int quiet_ms = 500;
  explicit RPoll(SEXP fn) : progress(fn) {}
  bool operator()(std::size_t done) {
    if (interrupt_pending()) {
      interrupted = true;
      return false;
    }
    if (!Rf_isNull(progress) && done > last &&
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count() >=
            quiet_ms)
      report(done);
    return true;
  }
  void report(std::size_t done) {
    if (Rf_isNull(progress) || done <= last) return;
    Rcpp::Function fn(progress);
    fn(static_cast<double>(done - last));
    last = done;
  }
  // After the loop: raise an interrupt that stopped it, else report the rest.
  void finish(bool completed, std::size_t total) {
    if (interrupted || !completed) throw Rcpp::internal::InterruptedException();
    report(total);
  }
};

}  // namespace metafast
