#include "data/internal/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace tune::data::internal {
namespace {

// Uneven work: consumption must still be exactly in order, every value once, and producers
// never more than `window` values ahead of the consumer.
TEST(OrderedParallelForTest, ConsumesInOrderWithinTheWindow) {
  for (int threads : {1, 2, 4}) {
    const size_t n = 500, window = 8;
    std::atomic<size_t> consumed{0};
    std::atomic<bool> too_far{false};
    std::vector<size_t> order;
    absl::Status status = OrderedParallelFor<size_t>(
        n, threads, window,
        [&](size_t i) {
          if (i >= consumed.load() + window) too_far = true;
          if (i % 7 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
          return i * 3;
        },
        [&](size_t i, size_t value) {
          EXPECT_EQ(value, i * 3);
          order.push_back(i);
          consumed = i + 1;
          return absl::OkStatus();
        });
    ASSERT_TRUE(status.ok());
    ASSERT_EQ(order.size(), n) << threads << " threads";
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(order[i], i);
    EXPECT_FALSE(too_far) << threads << " threads";
  }
}

TEST(OrderedParallelForTest, FirstConsumeErrorStopsTheLoop) {
  std::atomic<size_t> produced{0};
  size_t consumed = 0;
  absl::Status status = OrderedParallelFor<int>(
      10000, 2, 16,
      [&](size_t) {
        ++produced;
        return 0;
      },
      [&](size_t i, int) {
        ++consumed;
        return i == 20 ? absl::DataLossError("disk full") : absl::OkStatus();
      });
  EXPECT_EQ(status, absl::DataLossError("disk full"));
  EXPECT_EQ(consumed, 21u);
  EXPECT_LT(produced.load(), 21u + 16u + 2u);
}

}  // namespace
}  // namespace tune::data::internal
