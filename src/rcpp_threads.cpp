// Number of hardware threads (std::thread), for the default thread count.
#include <thread>

// [[Rcpp::export(name = ".mf_hardware_threads", rng = false)]]
int mf_hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}
