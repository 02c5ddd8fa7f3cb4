// Fork-join loops over [0, n) on a few threads with dynamic scheduling.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace tune::data::internal {

// `fn(worker, i)` for i in [0, n); `worker` in [0, threads) lets callers keep per-thread state.
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

// `produce(i)` in parallel and `consume(i, value)` strictly in order of i, with no barrier
// between the two: whichever thread completes the next value in order consumes every value that
// is ready, while the others keep producing at most `window` values ahead. The first error of
// `consume` stops the loop and is returned.
template <typename T, typename Produce, typename Consume>
absl::Status OrderedParallelFor(size_t n, int threads, size_t window, Produce&& produce,
                                Consume&& consume) {
  threads = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  window = std::max<size_t>(window, static_cast<size_t>(threads));
  std::vector<std::optional<T>> slots(window);
  std::mutex mu;
  std::condition_variable room;
  size_t next = 0, consumed = 0;
  bool consuming = false;
  absl::Status status;
  auto worker = [&] {
    std::unique_lock lock(mu);
    while (true) {
      room.wait(lock, [&] { return next >= n || !status.ok() || next < consumed + window; });
      if (next >= n || !status.ok()) return;
      const size_t i = next++;
      lock.unlock();
      T value = produce(i);
      lock.lock();
      slots[i % window].emplace(std::move(value));
      if (consuming) continue;  // the consuming thread will reach slot i
      consuming = true;
      while (status.ok() && consumed < n && slots[consumed % window].has_value()) {
        T ready = std::move(*slots[consumed % window]);
        slots[consumed % window].reset();
        lock.unlock();
        absl::Status s = consume(consumed, std::move(ready));
        lock.lock();
        if (!s.ok()) status = s;
        ++consumed;
        room.notify_all();
      }
      consuming = false;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  return status;
}

}  // namespace tune::data::internal
