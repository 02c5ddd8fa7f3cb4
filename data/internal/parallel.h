// A minimal fork-join loop: `fn(worker, i)` for i in [0, n) on `threads` threads (dynamic
// scheduling); `worker` in [0, threads) lets callers keep per-thread state.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace tune::data::internal {

template <typename Fn>
void ParallelFor(size_t n, int threads, Fn&& fn) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::atomic<size_t> next{0};
  auto worker = [&](size_t w) {
    for (size_t i = next++; i < n; i = next++) fn(w, i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, static_cast<size_t>(t));
  worker(0);
  for (std::thread& t : pool) t.join();
}

}  // namespace tune::data::internal
