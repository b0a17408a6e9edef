// A minimal parallel loop on std::thread.  Work items [begin, end) are handed
// out in chunks through an atomic counter; the calling thread works too and,
// between its chunks, calls poll(done) at most every `poll_ms` milliseconds.
// poll may report progress or check for an interrupt; returning false stops
// the loop: workers finish their current chunk and are joined before
// parallel_for returns, so no thread outlives the call.  Body must not touch
// the R API.  An exception thrown by body or poll is rethrown after the join.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace metafast {

template <class Body, class Poll>
bool parallel_for(std::size_t begin, std::size_t end, int nthreads, std::size_t chunk, Body&& body,
                  Poll&& poll, int poll_ms = 50) {
  if (chunk == 0) chunk = 1;
  std::atomic<std::size_t> next(begin);
  std::atomic<std::size_t> done(0);
  std::atomic<bool> stop(false);
  std::exception_ptr error;
  std::mutex error_mutex;

  auto work_one_chunk = [&]() -> bool {
    const std::size_t lo = next.fetch_add(chunk);
    if (lo >= end) return false;
    const std::size_t hi = lo + chunk < end ? lo + chunk : end;
    for (std::size_t i = lo; i < hi && !stop.load(std::memory_order_relaxed); ++i) body(i);
    done.fetch_add(hi - lo);
    return true;
  };
  auto worker = [&]() {
    try {
      while (!stop.load(std::memory_order_relaxed) && work_one_chunk()) {
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };

  std::vector<std::thread> pool;
  const int extra = nthreads > 1 ? nthreads - 1 : 0;
  pool.reserve(extra);
  for (int t = 0; t < extra; ++t) pool.emplace_back(worker);

  // the calling thread: work, and poll between chunks
  auto last = std::chrono::steady_clock::now();
  bool completed = true;
  try {
    while (!stop.load()) {
      const bool more = work_one_chunk();
      const auto now = std::chrono::steady_clock::now();
      if (!more || std::chrono::duration_cast<std::chrono::milliseconds>(now - last).count() >= poll_ms) {
        last = now;
        if (!more) break;
        if (!poll(done.load())) { stop = true; completed = false; }
      }
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (!error) error = std::current_exception();
    stop = true;
  }
  // wait for the workers (no polling meanwhile: they are finishing at most one chunk each)
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
  if (stop.load() && !completed) return false;
  if (stop.load()) return false;
  return true;
}

}  // namespace metafast
